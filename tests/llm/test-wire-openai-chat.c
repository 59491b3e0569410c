/* SPDX-License-Identifier: MIT */
#include "llm-test.h"

static const llm_wire *w = &llm_wire_openai_chat;

Test(wire_openai_chat, recorded_streams_assemble_at_every_split) {
        llm_test_every_split(w, "chat-tools.sse");
        llm_test_every_split(w, "chat-quirks.sse");
        llm_test_every_split(w, "chat-text.sse");
}

Test(wire_openai_chat, tool_calls_by_index_and_usage_without_the_cached_input) {
        size_t len;
        char *data = llm_test_read("chat-tools.sse", &len);
        llm_turn t = { 0 };

        cr_assert_eq(llm_test_assemble(w, data, len, len, &t, NULL), 0);
        cr_assert_str_eq(t.text, "Let me look — ünïcode ✓.");
        cr_assert_eq(json_array_size(t.calls), 2);
        cr_assert_str_eq(llm_test_call_str(&t, 0, "id"), "call_mock000000000");
        cr_assert_str_eq(llm_test_call_str(&t, 1, "name"), "Glob");
        cr_assert_eq(json_integer_value(json_object_get(
                             json_object_get(json_array_get(t.calls, 0), "input"), "timeout_s")),
                     5);
        cr_assert_eq(json_object_size(json_object_get(json_array_get(t.calls, 1), "input")), 0);
        cr_assert_eq(llm_test_usage(&t, "input_tokens"), 120, "prompt_tokens less the cached");
        cr_assert_eq(llm_test_usage(&t, "cache_read_tokens"), 50);
        cr_assert_eq(llm_test_usage(&t, "output_tokens"), 30);
        llm_turn_done(&t);
        free(data);
}

Test(wire_openai_chat, fragments_without_an_index_go_by_id_and_stop_with_calls_is_taken) {
        size_t len;
        char *data = llm_test_read("chat-quirks.sse", &len);
        llm_turn t = { 0 };

        cr_assert_eq(llm_test_assemble(w, data, len, len, &t, NULL), 0);
        cr_assert_eq(json_array_size(t.calls), 2);
        cr_assert_str_eq(
                json_string_value(json_object_get(
                        json_object_get(json_array_get(t.calls, 0), "input"), "file_path")),
                "a.txt");
        cr_assert_str_eq(json_string_value(json_object_get(
                                 json_object_get(json_array_get(t.calls, 1), "input"), "command")),
                         "echo {\"x\": [1,2]}");
        llm_turn_done(&t);
        free(data);
}

static int feed(const char *stream, llm_turn *t, pod_error *err, bool *retryable) {
        return llm_test_feed(w, stream, t, err, retryable);
}

Test(wire_openai_chat, a_call_is_finalised_at_the_end_not_at_the_first_fragment_that_parses) {
        llm_turn t = { 0 };
        pod_error err = { 0 };

        /* "{}" parses after the first fragment; the second makes it another object. */
        cr_assert_eq(feed("data: {\"choices\":[{\"delta\":{\"tool_calls\":[{\"index\":0,\"id\":"
                          "\"c1\",\"function\":{\"name\":\"Glob\",\"arguments\":\"{\"}}]}}]}\n\n"
                          "data: {\"choices\":[{\"delta\":{\"tool_calls\":[{\"index\":0,"
                          "\"function\":{\"arguments\":\"}\"}}]}}]}\n\n"
                          "data: {\"choices\":[{\"delta\":{\"tool_calls\":[{\"function\":"
                          "{\"arguments\":\" \"}}]}}]}\n\n"
                          "data: {\"choices\":[{\"delta\":{},\"finish_reason\":\"tool_calls\"}]}"
                          "\n\ndata: [DONE]\n\n",
                          &t, &err, NULL),
                     0, "%s", err.msg);
        cr_assert_eq(json_array_size(t.calls), 1);
        cr_assert_str_eq(llm_test_call_str(&t, 0, "id"), "c1");
        llm_turn_done(&t);
}

Test(wire_openai_chat, an_error_chunk_ends_the_stream) {
        llm_turn t = { 0 };
        pod_error err = { 0 };
        bool retry = false;

        cr_assert_eq(
                feed("data: {\"error\":{\"message\":\"Provider overloaded\",\"code\":502}}\n\n", &t,
                     &err, &retry),
                -EBUSY);
        cr_assert(retry);
        cr_assert(strstr(err.msg, "Provider overloaded"), "%s", err.msg);
        cr_assert_eq(
                feed("data: {\"choices\":[{\"delta\":{\"content\":\"x\"}}]}\n\n", &t, &err, &retry),
                -EPROTO, "no finish_reason, no [DONE]: truncated");
}

Test(wire_openai_chat, the_request_asks_for_usage_and_sends_calls_and_results) {
        json_t *conv = json_loads(
                "[{\"role\":\"system\",\"content\":\"SYS\"},{\"role\":\"user\",\"content\":\"go\"},"
                "{\"role\":\"assistant\",\"content\":\"\",\"tool_calls\":[{\"id\":\"c1\",\"name\":"
                "\"Bash\",\"input\":{\"command\":\"ls\"}}]},{\"role\":\"tool\",\"tool_call_id\":"
                "\"c1\",\"content\":\"out\",\"is_error\":false}]",
                0, NULL);
        json_t *tools = json_loads("[{\"name\":\"Bash\",\"description\":\"run\",\"input_schema\":"
                                   "{\"type\":\"object\"}}]",
                                   0, NULL);
        llm_request rq = {
                .model = "m", .conv = conv, .tools = tools, .reasoning = POD_REASONING_HIGH
        };
        json_t *body = w->request(&rq), *msgs = json_object_get(body, "messages"), *call;

        cr_assert(json_is_true(
                json_object_get(json_object_get(body, "stream_options"), "include_usage")));
        cr_assert_str_eq(json_string_value(json_object_get(body, "reasoning_effort")), "high");
        cr_assert_str_eq(json_string_value(json_object_get(
                                 json_object_get(json_array_get(json_object_get(body, "tools"), 0),
                                                 "function"),
                                 "name")),
                         "Bash");
        cr_assert_eq(json_array_size(msgs), 4);
        cr_assert(json_is_null(json_object_get(json_array_get(msgs, 2), "content")));
        call = json_array_get(json_object_get(json_array_get(msgs, 2), "tool_calls"), 0);
        cr_assert_str_eq(
                json_string_value(json_object_get(json_object_get(call, "function"), "arguments")),
                "{\"command\":\"ls\"}");
        cr_assert_str_eq(
                json_string_value(json_object_get(json_array_get(msgs, 3), "tool_call_id")), "c1");
        json_decref(body);
        json_decref(conv);
        json_decref(tools);
}
