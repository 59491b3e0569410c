/* SPDX-License-Identifier: MIT */
/*
 * Fuzz target: the MCP frame decoder and dispatch (src/mcp), which read every byte an MCP
 * client writes to `pod mcp`: the stream split into bounded lines (mcp_reader, fed in chunks
 * whose size the input picks), each line answered (mcp_answer, its tools/call deferred or
 * not). Every answer is one JSON-RPC 2.0 reply with a result or an error; nothing leaks.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "mcp/mcp.h"

static int fake_call(void *ud, const char *name, const json_t *input, tool_result *out) {
        (void) ud;
        if (!json_is_object(input))
                return tool_fail(out, "%s: the input must be a JSON object", name);
        return tool_ok(out, "%s ran with %zu fields", name, json_object_size(input));
}

static void check(json_t *reply) {
        const char *v = json_string_value(json_object_get(reply, "jsonrpc"));
        char *text;

        if (!reply)
                return;
        if (!v || strcmp(v, "2.0") != 0 ||
            !json_object_get(reply, "result") == !json_object_get(reply, "error"))
                abort();
        text = json_dumps(reply, JSON_COMPACT);
        if (!text || strchr(text, '\n')) /* a reply is one line */
                abort();
        free(text);
        json_decref(reply);
}

typedef struct state {
        mcp_server *s;
        bool defer;
} state;

static int on_line(void *ud, const char *line, size_t len, bool too_large) {
        state *st = ud;
        mcp_job *job = NULL;

        if (too_large) {
                check(mcp_too_large());
                return 0;
        }
        check(mcp_answer(st->s, line, len, st->defer ? &job : NULL));
        if (job)
                check(mcp_job_run(st->s, job));
        st->defer = !st->defer;
        return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        static mcp_server *s;
        mcp_reader r = { .max = 4096 }; /* small, so that the skipping of long lines is reached */
        state st = { 0 };
        size_t chunk;

        if (!s) {
                json_t *tools =
                        json_pack("[{s:s, s:s, s:{s:s}}]", "name", "SpawnPod", "description",
                                  "Start a child pod.", "input_schema", "type", "object");
                mcp_opts o = { .pod_name = "fuzz", .tools = tools, .call = fake_call };
                if (mcp_new(&s, &o, NULL) < 0)
                        abort();
                json_decref(tools);
        }
        if (size == 0)
                return 0;
        chunk = (size_t) data[0] % 64 + 1;
        st.s = s;
        for (size_t at = 1; at < size; at += chunk)
                if (mcp_reader_feed(&r, (const char *) data + at,
                                    size - at < chunk ? size - at : chunk, on_line, &st) < 0)
                        abort();
        mcp_reader_done(&r);
        return 0;
}
