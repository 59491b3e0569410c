/* SPDX-License-Identifier: MIT */
#include "llm-test.h"

static const llm_wire *w = &llm_wire_openai_responses;

Test(wire_openai_responses, recorded_streams_assemble_at_every_split) {
        llm_test_every_split(w, "responses-tools.sse");
        llm_test_every_split(w, "responses-text.sse");
}

Test(wire_openai_responses, function_calls_by_item_and_reasoning_items_carried) {
        size_t len;
        char *data = llm_test_read("responses-tools.sse", &len);
        llm_turn t = { 0 };
        json_t *item;

        cr_assert_eq(llm_test_assemble(w, data, len, len, &t, NULL), 0);
        cr_assert_str_eq(t.text, "Let me look — ünïcode ✓.");
        cr_assert_eq(json_array_size(t.calls), 2);
        cr_assert_str_eq(llm_test_call_str(&t, 0, "id"), "call_mock000000000",
                         "the call_id, not the item id");
        cr_assert_str_eq(llm_test_call_str(&t, 0, "name"), "Bash");
        item = json_array_get(t.reasoning, 0);
        cr_assert_str_eq(json_string_value(json_object_get(item, "type")), "reasoning");
        cr_assert_str_eq(json_string_value(json_object_get(item, "encrypted_content")),
                         "mockenc0000000");
        cr_assert_eq(llm_test_usage(&t, "input_tokens"), 120);
        cr_assert_eq(llm_test_usage(&t, "cache_read_tokens"), 50);
        llm_turn_done(&t);
        free(data);
}

static int feed(const char *stream, llm_turn *t, pod_error *err, bool *retryable) {
        return llm_test_feed(w, stream, t, err, retryable);
}

Test(wire_openai_responses, argument_deltas_are_keyed_by_item_id) {
        llm_turn t = { 0 };
        pod_error err = { 0 };

        /* Two calls whose deltas interleave. */
        cr_assert_eq(
                feed("data: {\"type\":\"response.output_item.added\",\"output_index\":0,\"item\":"
                     "{\"type\":\"function_call\",\"id\":\"fa\",\"call_id\":\"ca\",\"name\":\"A\","
                     "\"arguments\":\"\"}}\n\n"
                     "data: {\"type\":\"response.output_item.added\",\"output_index\":1,\"item\":"
                     "{\"type\":\"function_call\",\"id\":\"fb\",\"call_id\":\"cb\",\"name\":\"B\","
                     "\"arguments\":\"\"}}\n\n"
                     "data: {\"type\":\"response.function_call_arguments.delta\",\"item_id\":"
                     "\"fb\",\"delta\":\"{\\\"b\\\":\"}\n\n"
                     "data: {\"type\":\"response.function_call_arguments.delta\",\"item_id\":"
                     "\"fa\",\"delta\":\"{\\\"a\\\":1}\"}\n\n"
                     "data: {\"type\":\"response.function_call_arguments.delta\",\"item_id\":"
                     "\"fb\",\"delta\":\"2}\"}\n\n"
                     "data: {\"type\":\"response.completed\",\"response\":{\"status\":"
                     "\"completed\"}}\n\n",
                     &t, &err, NULL),
                0, "%s", err.msg);
        cr_assert_eq(json_integer_value(json_object_get(
                             json_object_get(json_array_get(t.calls, 0), "input"), "a")),
                     1);
        cr_assert_eq(json_integer_value(json_object_get(
                             json_object_get(json_array_get(t.calls, 1), "input"), "b")),
                     2);
        cr_assert_str_eq(llm_test_call_str(&t, 1, "id"), "cb");
        llm_turn_done(&t);
}

Test(wire_openai_responses, a_failed_response_says_why_and_an_overload_is_retried) {
        llm_turn t = { 0 };
        pod_error err = { 0 };
        bool retry = false;

        cr_assert_eq(feed("data: {\"type\":\"response.failed\",\"response\":{\"error\":{\"code\":"
                          "\"server_is_overloaded\",\"message\":\"busy\"}}}\n\n",
                          &t, &err, &retry),
                     -EBUSY);
        cr_assert(retry);
        cr_assert_eq(feed("event: error\ndata: {\"type\":\"error\",\"code\":\"invalid_prompt\","
                          "\"message\":\"no\"}\n\n",
                          &t, &err, &retry),
                     -EPROTO);
        cr_assert(!retry);
        cr_assert(strstr(err.msg, "invalid_prompt"), "%s", err.msg);
}

Test(wire_openai_responses, the_request_is_stateless_with_items_carried) {
        json_t *conv = json_loads(
                "[{\"role\":\"system\",\"content\":\"SYS\"},{\"role\":\"user\",\"content\":\"go\"},"
                "{\"role\":\"assistant\",\"content\":\"ok\",\"reasoning\":[{\"type\":\"reasoning\","
                "\"id\":\"rs_1\",\"encrypted_content\":\"E\",\"summary\":[]}],\"tool_calls\":"
                "[{\"id\":\"c1\",\"name\":\"Bash\",\"input\":{\"command\":\"ls\"}}]},"
                "{\"role\":\"tool\",\"tool_call_id\":\"c1\",\"content\":\"out\",\"is_error\":false}]",
                0, NULL);
        llm_request rq = { .model = "m", .conv = conv, .reasoning = POD_REASONING_LOW };
        json_t *body = w->request(&rq), *input = json_object_get(body, "input");

        cr_assert_str_eq(json_string_value(json_object_get(body, "instructions")), "SYS");
        cr_assert(json_is_false(json_object_get(body, "store")));
        cr_assert_str_eq(
                json_string_value(json_object_get(json_object_get(body, "reasoning"), "effort")),
                "low");
        cr_assert_eq(json_array_size(input), 5, "user, reasoning, message, call, output");
        cr_assert_str_eq(json_string_value(json_object_get(json_array_get(input, 1), "id")),
                         "rs_1");
        cr_assert_str_eq(json_string_value(json_object_get(json_array_get(input, 3), "type")),
                         "function_call");
        cr_assert_str_eq(json_string_value(json_object_get(json_array_get(input, 4), "call_id")),
                         "c1");
        cr_assert_str_eq(json_string_value(json_object_get(json_array_get(input, 4), "output")),
                         "out");
        json_decref(body);
        json_decref(conv);
}
