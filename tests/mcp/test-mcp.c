/* SPDX-License-Identifier: MIT */
/* The MCP protocol (src/mcp/mcp.c): revisions, methods, tool calls and hostile messages. */
#include <criterion/criterion.h>
#include <string.h>

#include "mcp/mcp.h"

#define MODERN "\"_meta\":{\"io.modelcontextprotocol/protocolVersion\":\"2026-07-28\"}"

static int calls;

/* A tool that echoes its input; "Fail" fails as a native tool does. */
static int fake_call(void *ud, const char *name, const json_t *input, tool_result *out) {
        char *dump = json_dumps(input, JSON_COMPACT | JSON_SORT_KEYS);
        int r;

        (void) ud;
        calls++;
        r = strcmp(name, "Fail") == 0 ? tool_fail(out, "Fail: it failed") :
                                        tool_ok(out, "%s %s", name, dump);
        free(dump);
        return r;
}

static mcp_server *server(void) {
        json_auto_t *tools =
                json_pack("[{s:s, s:s, s:{s:s}}, {s:s, s:s, s:{s:s}}]", "name", "Echo",
                          "description", "Echoes.", "input_schema", "type", "object", "name",
                          "Fail", "description", "Fails.", "input_schema", "type", "object");
        mcp_opts o = { .pod_name = "front",
                       .tools = tools,
                       .call = fake_call,
                       .instructions = "Spawn pods." };
        mcp_server *s = NULL;
        pod_error err = { 0 };

        cr_assert_eq(mcp_new(&s, &o, &err), 0, "%s", err.msg);
        calls = 0;
        return s;
}

static json_t *answer(mcp_server *s, const char *line) {
        return mcp_answer(s, line, strlen(line), NULL);
}

static int error_code(const json_t *reply) {
        return (int) json_integer_value(json_object_get(json_object_get(reply, "error"), "code"));
}

static const char *error_text(const json_t *reply) {
        return json_string_value(json_object_get(json_object_get(reply, "error"), "message"));
}

Test(mcp, initialize_negotiates_the_previous_revision) {
        mcp_server *s = server();
        json_t *r = answer(s,
                           "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"initialize\",\"params\":"
                           "{\"protocolVersion\":\"2025-11-25\",\"capabilities\":{}}}");
        json_t *res = json_object_get(r, "result");

        cr_assert_str_eq(json_string_value(json_object_get(res, "protocolVersion")), "2025-11-25");
        cr_assert(json_is_object(json_object_get(json_object_get(res, "capabilities"), "tools")));
        cr_assert_str_eq(
                json_string_value(json_object_get(json_object_get(res, "serverInfo"), "name")),
                "pod");
        cr_assert_str_eq(json_string_value(json_object_get(res, "instructions")), "Spawn pods.");
        cr_assert_null(json_object_get(res, "resultType"), "the old revision has no resultType");
        json_decref(r);
        r = answer(s,
                   "{\"jsonrpc\":\"2.0\",\"id\":2,\"method\":\"initialize\",\"params\":"
                   "{\"protocolVersion\":\"2025-06-18\"}}");
        cr_assert_str_eq(
                json_string_value(json_object_get(json_object_get(r, "result"), "protocolVersion")),
                "2025-06-18", "2025-06-18 is answered in its own terms");
        json_decref(r);
        r = answer(s,
                   "{\"jsonrpc\":\"2.0\",\"id\":3,\"method\":\"initialize\",\"params\":"
                   "{\"protocolVersion\":\"2024-01-01\"}}");
        cr_assert_str_eq(
                json_string_value(json_object_get(json_object_get(r, "result"), "protocolVersion")),
                "2025-11-25", "an unknown one gets the newest the handshake speaks");
        json_decref(r);
        r = answer(s, "{\"jsonrpc\":\"2.0\",\"id\":4,\"method\":\"initialize\",\"params\":{}}");
        cr_assert_eq(error_code(r), RPC_INVALID_PARAMS);
        json_decref(r);
        mcp_free(s);
}

Test(mcp, the_current_revision_is_stateless_and_says_resultType) {
        mcp_server *s = server();
        json_t *r = answer(s,
                           "{\"jsonrpc\":\"2.0\",\"id\":\"d\",\"method\":\"server/discover\","
                           "\"params\":{" MODERN "}}");
        json_t *res = json_object_get(r, "result");

        cr_assert_str_eq(json_string_value(json_object_get(r, "id")), "d");
        cr_assert_str_eq(
                json_string_value(json_array_get(json_object_get(res, "supportedVersions"), 0)),
                MCP_VERSION_CURRENT);
        cr_assert_str_eq(json_string_value(json_object_get(res, "resultType")), "complete");
        cr_assert(json_object_get(json_object_get(res, "_meta"),
                                  "io.modelcontextprotocol/serverInfo"));
        json_decref(r);
        r = answer(s,
                   "{\"jsonrpc\":\"2.0\",\"id\":6,\"method\":\"tools/list\",\"params\":{" MODERN
                   "}}");
        res = json_object_get(r, "result");
        cr_assert(json_is_integer(json_object_get(res, "ttlMs")), "lists are cacheable results");
        cr_assert_str_eq(json_string_value(json_object_get(res, "cacheScope")), "private");
        json_decref(r);
        r = answer(s,
                   "{\"jsonrpc\":\"2.0\",\"id\":5,\"method\":\"tools/call\",\"params\":{" MODERN
                   ",\"name\":\"Echo\",\"arguments\":{\"a\":1}}}");
        res = json_object_get(r, "result");
        cr_assert_str_eq(json_string_value(json_object_get(res, "resultType")), "complete");
        cr_assert(json_is_false(json_object_get(res, "isError")));
        json_decref(r);
        mcp_free(s);
}

Test(mcp, an_unknown_revision_is_refused_with_the_supported_ones) {
        mcp_server *s = server();
        json_t *r =
                answer(s,
                       "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"tools/list\",\"params\":"
                       "{\"_meta\":{\"io.modelcontextprotocol/protocolVersion\":\"2099-01-01\"}}}");
        json_t *data = json_object_get(json_object_get(r, "error"), "data");

        cr_assert_eq(error_code(r), MCP_UNSUPPORTED_VERSION);
        cr_assert_str_eq(json_string_value(json_object_get(data, "requested")), "2099-01-01");
        cr_assert_str_eq(json_string_value(json_array_get(json_object_get(data, "supported"), 0)),
                         MCP_VERSION_CURRENT);
        json_decref(r);
        r = answer(s,
                   "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"ping\",\"params\":"
                   "{\"_meta\":{\"io.modelcontextprotocol/protocolVersion\":7}}}");
        cr_assert_eq(error_code(r), RPC_INVALID_PARAMS);
        json_decref(r);
        mcp_free(s);
}

Test(mcp, tools_list_gives_the_table_in_mcps_form) {
        mcp_server *s = server();
        json_t *r = answer(s, "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"tools/list\"}");
        json_t *tools = json_object_get(json_object_get(r, "result"), "tools");
        json_t *t = json_array_get(tools, 0);

        cr_assert_eq(json_array_size(tools), 2);
        cr_assert_str_eq(json_string_value(json_object_get(t, "name")), "Echo");
        cr_assert_str_eq(json_string_value(json_object_get(t, "description")), "Echoes.");
        cr_assert(json_is_object(json_object_get(t, "inputSchema")),
                  "inputSchema, as MCP names it");
        cr_assert_null(json_object_get(t, "input_schema"));
        json_decref(r);
        mcp_free(s);
}

Test(mcp, tool_calls_and_their_failures) {
        mcp_server *s = server();
        json_t *r = answer(s,
                           "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"tools/call\",\"params\":"
                           "{\"name\":\"Echo\",\"arguments\":{\"b\":2}}}");
        json_t *res = json_object_get(r, "result");
        json_t *content = json_array_get(json_object_get(res, "content"), 0);

        cr_assert_str_eq(json_string_value(json_object_get(content, "type")), "text");
        cr_assert_str_eq(json_string_value(json_object_get(content, "text")), "Echo {\"b\":2}");
        cr_assert(json_is_false(json_object_get(res, "isError")));
        json_decref(r);
        r = answer(s,
                   "{\"jsonrpc\":\"2.0\",\"id\":2,\"method\":\"tools/call\",\"params\":"
                   "{\"name\":\"Echo\"}}");
        cr_assert_str_eq(
                json_string_value(json_object_get(
                        json_array_get(json_object_get(json_object_get(r, "result"), "content"), 0),
                        "text")),
                "Echo {}", "no arguments: an empty input");
        json_decref(r);
        r = answer(s,
                   "{\"jsonrpc\":\"2.0\",\"id\":3,\"method\":\"tools/call\",\"params\":"
                   "{\"name\":\"Fail\",\"arguments\":{}}}");
        cr_assert(json_is_true(json_object_get(json_object_get(r, "result"), "isError")),
                  "a tool's failure is a result with isError");
        json_decref(r);
        r = answer(s,
                   "{\"jsonrpc\":\"2.0\",\"id\":4,\"method\":\"tools/call\",\"params\":"
                   "{\"name\":\"Bash\",\"arguments\":{}}}");
        cr_assert_eq(error_code(r), RPC_INVALID_PARAMS);
        cr_assert_str_eq(error_text(r), "tool 'Bash' is not available to pod 'front'",
                         "an unlisted tool never runs, and is named as a native pod names it");
        json_decref(r);
        r = answer(s,
                   "{\"jsonrpc\":\"2.0\",\"id\":5,\"method\":\"tools/call\",\"params\":"
                   "{\"name\":[1]}}");
        cr_assert_eq(error_code(r), RPC_INVALID_PARAMS);
        json_decref(r);
        cr_assert_eq(calls, 3, "only listed tools ran");
        mcp_free(s);
}

Test(mcp, hostile_messages_get_errors) {
        static const struct {
                const char *line;
                int code;
        } cases[] = {
                { "{", RPC_PARSE_ERROR },
                { "\"text\"", RPC_PARSE_ERROR }, /* not an object */
                { "[]", RPC_INVALID_REQUEST },
                { "[{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"ping\"}]", RPC_INVALID_REQUEST },
                { "{\"jsonrpc\":\"1.0\",\"id\":1,\"method\":\"ping\"}", RPC_INVALID_REQUEST },
                { "{\"jsonrpc\":\"2.0\",\"id\":1.5,\"method\":\"ping\"}", RPC_INVALID_REQUEST },
                { "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"ping\",\"params\":[]}",
                  RPC_INVALID_REQUEST },
                { "{\"jsonrpc\":\"2.0\",\"id\":1,\"id\":2,\"method\":\"ping\"}", RPC_PARSE_ERROR },
                { "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"sampling/createMessage\"}",
                  RPC_METHOD_NOT_FOUND },
        };
        mcp_server *s = server();

        for (size_t i = 0; i < POD_ARRAY_SIZE(cases); i++) {
                json_t *r = answer(s, cases[i].line);
                cr_assert_eq(error_code(r), cases[i].code, "%s", cases[i].line);
                json_decref(r);
        }
        mcp_free(s);
}

Test(mcp, notifications_and_responses_get_no_answer) {
        mcp_server *s = server();

        cr_assert_null(answer(s, "{\"jsonrpc\":\"2.0\",\"method\":\"notifications/initialized\"}"));
        cr_assert_null(answer(s,
                              "{\"jsonrpc\":\"2.0\",\"method\":\"notifications/cancelled\","
                              "\"params\":{\"requestId\":1}}"));
        cr_assert_null(answer(s,
                              "{\"jsonrpc\":\"2.0\",\"method\":\"tools/call\",\"params\":"
                              "{\"name\":\"Echo\"}}"),
                       "a call without an id is a notification: it runs nothing");
        cr_assert_null(answer(s, "{\"jsonrpc\":\"2.0\",\"id\":9,\"result\":{}}"));
        cr_assert_eq(calls, 0);
        mcp_free(s);
}

Test(mcp, a_deferred_call_runs_later_with_its_revision) {
        mcp_server *s = server();
        const char line[] =
                "{\"jsonrpc\":\"2.0\",\"id\":7,\"method\":\"tools/call\",\"params\":{" MODERN
                ",\"name\":\"Echo\"}}";
        const char ping[] = "{\"jsonrpc\":\"2.0\",\"id\":8,\"method\":\"ping\"}";
        mcp_job *job = NULL;
        json_t *r = mcp_answer(s, line, strlen(line), &job);

        cr_assert_null(r, "nothing to send yet");
        cr_assert_not_null(job);
        cr_assert_eq(calls, 0);
        r = mcp_job_run(s, job);
        cr_assert_eq(calls, 1);
        cr_assert_eq(json_integer_value(json_object_get(r, "id")), 7);
        cr_assert_str_eq(
                json_string_value(json_object_get(json_object_get(r, "result"), "resultType")),
                "complete");
        json_decref(r);
        job = NULL;
        r = mcp_answer(s, ping, strlen(ping), &job);
        cr_assert_null(job, "only tools/call is put off");
        cr_assert(json_is_object(json_object_get(r, "result")));
        json_decref(r);
        mcp_free(s);
}

Test(mcp, a_call_cancelled_before_it_runs_does_not_run) {
        mcp_server *s = server();
        const char line[] = "{\"jsonrpc\":\"2.0\",\"id\":7,\"method\":\"tools/call\",\"params\":"
                            "{\"name\":\"Echo\"}}";
        mcp_job *job = NULL;

        cr_assert_null(mcp_answer(s, line, strlen(line), &job));
        cr_assert_null(answer(s,
                              "{\"jsonrpc\":\"2.0\",\"method\":\"notifications/cancelled\","
                              "\"params\":{\"requestId\":7,\"reason\":\"user\"}}"));
        cr_assert_null(mcp_job_run(s, job), "no reply for a cancelled request");
        cr_assert_eq(calls, 0, "and it did not run");
        job = NULL;
        cr_assert_null(mcp_answer(s, line, strlen(line), &job));
        json_decref(mcp_job_run(s, job));
        cr_assert_eq(calls, 1, "the cancellation was used up: the same id runs next time");
        mcp_free(s);
}
