/* SPDX-License-Identifier: MIT */
#include "llm-test.h"

static const llm_wire *w = &llm_wire_anthropic;

Test(wire_anthropic, a_recorded_stream_assembles_at_every_split) {
        llm_test_every_split(w, "anthropic-tools.sse");
        llm_test_every_split(w, "anthropic-text.sse");
}

Test(wire_anthropic, tool_use_input_is_joined_thinking_kept_and_usage_counted) {
        size_t len;
        char *data = llm_test_read("anthropic-tools.sse", &len);
        llm_turn t = { 0 };
        json_t *think;

        cr_assert_eq(llm_test_assemble(w, data, len, len, &t, NULL), 0);
        cr_assert_str_eq(t.text, "Let me look — ünïcode ✓.");
        cr_assert_eq(json_array_size(t.calls), 2);
        cr_assert_str_eq(llm_test_call_str(&t, 0, "id"), "toolu_mock000000000");
        cr_assert_str_eq(llm_test_call_str(&t, 0, "name"), "Bash");
        cr_assert_str_eq(json_string_value(json_object_get(
                                 json_object_get(json_array_get(t.calls, 0), "input"), "command")),
                         "ls -la");
        cr_assert_eq(json_object_size(json_object_get(json_array_get(t.calls, 1), "input")), 0,
                     "an empty input is {}");
        think = json_array_get(t.reasoning, 0);
        cr_assert_str_eq(json_string_value(json_object_get(think, "type")), "thinking");
        cr_assert_str_eq(json_string_value(json_object_get(think, "thinking")),
                         "I should list files.");
        cr_assert_str_eq(json_string_value(json_object_get(think, "signature")), "mocksig0000000");
        cr_assert_eq(llm_test_usage(&t, "input_tokens"), 127, "the cache write counts as input");
        cr_assert_eq(llm_test_usage(&t, "output_tokens"), 30);
        cr_assert_eq(llm_test_usage(&t, "cache_read_tokens"), 50);
        cr_assert_eq(llm_test_usage(&t, "cache_write_tokens"), 7);
        llm_turn_done(&t);
        free(data);
}

static int feed_text(const char *stream, llm_turn *t, pod_error *err, bool *retryable) {
        return llm_test_feed(w, stream, t, err, retryable);
}

Test(wire_anthropic, an_overload_inside_the_stream_is_worth_a_retry) {
        pod_error err = { 0 };
        llm_turn t = { 0 };
        bool retry = false;

        cr_assert_eq(feed_text("event: ping\ndata: {\"type\":\"ping\"}\n\nevent: error\ndata: "
                               "{\"type\":\"error\",\"error\":{\"type\":\"overloaded_error\","
                               "\"message\":\"Overloaded\"}}\n\n",
                               &t, &err, &retry),
                     -EBUSY);
        cr_assert(retry);
        cr_assert(strstr(err.msg, "overloaded_error") && strstr(err.msg, "Overloaded"), "%s",
                  err.msg);
}

Test(wire_anthropic, a_stream_without_its_end_is_truncated) {
        pod_error err = { 0 };
        llm_turn t = { 0 };
        bool retry = false;

        cr_assert_eq(feed_text("data: {\"type\":\"message_start\",\"message\":{}}\n\n", &t, &err,
                               &retry),
                     -EPROTO);
        cr_assert(strstr(err.msg, "truncated"), "%s", err.msg);
        cr_assert(retry, "a cut connection is retried");
}

Test(wire_anthropic, invalid_json_and_unknown_blocks_are_one_line_errors) {
        pod_error err = { 0 };
        llm_turn t = { 0 };

        cr_assert_eq(feed_text("data: {\"type\":\"message_st\n\n", &t, &err, NULL), -EPROTO);
        cr_assert(strstr(err.msg, "not JSON") && !strchr(err.msg, '\n'), "%s", err.msg);
        cr_assert_eq(feed_text("data: {\"type\":\"content_block_delta\",\"index\":3,\"delta\":"
                               "{\"type\":\"text_delta\",\"text\":\"x\"}}\n\n",
                               &t, &err, NULL),
                     -EPROTO);
        cr_assert(strstr(err.msg, "block 3"), "%s", err.msg);
        cr_assert_eq(feed_text("data: {\"type\":\"content_block_start\",\"index\":0,"
                               "\"content_block\":{\"type\":\"tool_use\",\"id\":\"t\",\"name\":"
                               "\"Bash\"}}\n\ndata: {\"type\":\"content_block_delta\",\"index\":0,"
                               "\"delta\":{\"type\":\"input_json_delta\",\"partial_json\":"
                               "\"[1\"}}\n\ndata: {\"type\":\"message_stop\"}\n\n",
                               &t, &err, NULL),
                     -EPROTO);
        cr_assert(strstr(err.msg, "call to Bash") && strstr(err.msg, "not a JSON object"), "%s",
                  err.msg);
}

static json_t *conversation(void) {
        return json_loads(
                "[{\"role\":\"system\",\"content\":\"SYS\"},{\"role\":\"user\",\"content\":\"go\"},"
                "{\"role\":\"assistant\",\"content\":\"ok\",\"reasoning\":[{\"type\":\"thinking\","
                "\"thinking\":\"hm\",\"signature\":\"sig\"}],\"tool_calls\":[{\"id\":\"t1\","
                "\"name\":\"Bash\",\"input\":{\"command\":\"ls\"}},{\"id\":\"t2\",\"name\":"
                "\"Read\",\"input\":{}}]},{\"role\":\"tool\",\"tool_call_id\":\"t1\",\"content\":"
                "\"a b\",\"is_error\":false},{\"role\":\"tool\",\"tool_call_id\":\"t2\","
                "\"content\":\"nope\",\"is_error\":true}]",
                0, NULL);
}

static json_t *tools(void) {
        return json_loads("[{\"name\":\"Bash\",\"description\":\"run\",\"input_schema\":{\"type\":"
                          "\"object\"}},{\"name\":\"Read\",\"description\":\"read\","
                          "\"input_schema\":{\"type\":\"object\"}}]",
                          0, NULL);
}

Test(wire_anthropic, the_request_marks_the_cache_and_carries_thinking_and_results) {
        json_t *conv = conversation(), *tl = tools();
        llm_request rq = {
                .model = "claude-x", .conv = conv, .tools = tl, .reasoning = POD_REASONING_MEDIUM
        };
        json_t *body = w->request(&rq);
        json_t *msgs = json_object_get(body, "messages"), *asst, *results;

        cr_assert_str_eq(json_string_value(json_object_get(body, "model")), "claude-x");
        cr_assert(json_is_true(json_object_get(body, "stream")));
        cr_assert(json_object_get(json_array_get(json_object_get(body, "system"), 0),
                                  "cache_control"));
        cr_assert(
                json_object_get(json_array_get(json_object_get(body, "tools"), 1), "cache_control"),
                "the last tool marks the tools");
        cr_assert_null(json_object_get(json_array_get(json_object_get(body, "tools"), 0),
                                       "cache_control"));
        cr_assert_eq(json_integer_value(
                             json_object_get(json_object_get(body, "thinking"), "budget_tokens")),
                     8192);
        cr_assert_gt(json_integer_value(json_object_get(body, "max_tokens")), 8192);
        cr_assert_eq(json_array_size(msgs), 3, "user, assistant, the results in one user turn");
        asst = json_object_get(json_array_get(msgs, 1), "content");
        cr_assert_str_eq(json_string_value(json_object_get(json_array_get(asst, 0), "type")),
                         "thinking", "thinking comes first, as it was");
        cr_assert_str_eq(json_string_value(json_object_get(json_array_get(asst, 2), "type")),
                         "tool_use");
        results = json_object_get(json_array_get(msgs, 2), "content");
        cr_assert_eq(json_array_size(results), 2);
        cr_assert_str_eq(
                json_string_value(json_object_get(json_array_get(results, 0), "tool_use_id")),
                "t1");
        cr_assert(json_is_true(json_object_get(json_array_get(results, 1), "is_error")));
        cr_assert(json_object_get(json_array_get(results, 1), "cache_control"),
                  "the conversation prefix is marked at its last block");
        cr_assert_null(json_object_get(json_array_get(conv, 2), "cache_control"),
                       "the conversation itself is untouched");
        json_decref(body);
        json_decref(conv);
        json_decref(tl);
}
