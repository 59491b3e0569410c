/* SPDX-License-Identifier: MIT */
/*
 * Bound mode (DESIGN §17): the MCP server a delegate pod offers its CLI. The protocol is this
 * module's (mcp.c), the tools the pod's own (its worker runs each call on its tree), the
 * transport the delegate handler's (src/llm); the CLI layer hands this binding down to the
 * pod module (pod_mcp_bind), which builds below this one.
 */
#include "mcp.h"

static void *bound_open(const json_t *tools,
                        const char *pod_name,
                        int (*call)(void *ud, const char *name, const json_t *in, tool_result *out),
                        void *ud) {
        mcp_opts o = { .pod_name = pod_name, .tools = tools, .call = call, .ud = ud };
        mcp_server *s = NULL;

        return mcp_new(&s, &o, NULL) < 0 ? NULL : s;
}

static json_t *bound_answer(void *server, const char *line, size_t len) {
        return mcp_answer(server, line, len, NULL);
}

static void bound_close(void *server) {
        mcp_free(server);
}

const pod_mcp_binding mcp_binding = { bound_open, bound_answer, bound_close };
