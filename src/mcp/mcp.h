/* SPDX-License-Identifier: MIT */
#pragma once

/*
 * mcp: the MCP server over stdio (DESIGN §17, docs/mcp.md). JSON-RPC 2.0, one message per
 * line, decoded with src/rpc's codec; the tools are the pod tools of src/pod with the specs
 * of resources/tools/, the same table a native pod offers. It speaks the current MCP
 * revision (stateless: each request names its version in _meta, server/discover) and the
 * previous one (an initialize handshake), and answers each request in the revision it came
 * in. Standalone mode (mcp_standalone) makes this process a top-level pod whose children are
 * ordinary pods.
 */

#include <jansson.h>
#include <signal.h>

#include "base/base.h"
#include "pod/pod.h"

#define MCP_VERSION_CURRENT "2026-07-28" /* stateless: the version travels in each request */
#define MCP_VERSION_LEGACY "2025-11-25" /* the previous revision: an initialize handshake */
#define MCP_VERSION_LEGACY_OLD "2025-06-18" /* also accepted at initialize (same messages) */
#define MCP_META_VERSION "io.modelcontextprotocol/protocolVersion"
#define MCP_FRAME_MAX POD_FRAME_MAX /* one message, without its newline */
#define MCP_QUEUE_MAX 64u /* tools/call requests waiting for their turn */

/* MCP's own error codes (JSON-RPC's implementation-defined range). */
enum {
        MCP_UNSUPPORTED_VERSION = -32022,
        MCP_INTERNAL_ERROR = -32603,
};

typedef struct mcp_server mcp_server;

typedef struct mcp_opts {
        const char *pod_name; /* the pod that serves: in texts as a native pod has them */
        const json_t *tools; /* [{name, description, input_schema}] (copied) */
        const char *instructions; /* for the client's model; may be NULL */
        /* Run one call of a listed tool: 0 with out filled (a tool's failure is out's
         * is_error), < 0 only when memory runs out. Calls are made one at a time. */
        int (*call)(void *ud, const char *name, const json_t *input, tool_result *out);
        /* End the call running now (the client cancelled it: notifications/cancelled); it
         * returns early, and its reply is not sent. May be NULL. */
        void (*cancel)(void *ud);
        void *ud;
} mcp_opts;

int mcp_new(mcp_server **out, const mcp_opts *o, pod_error *err);
mcp_server *mcp_free(mcp_server *s);
static inline void mcp_freep(mcp_server **s) {
        mcp_free(*s);
}

/* A tools/call whose run was put off (mcp_answer's defer): the serving loop runs them in order
 * on a thread of their own, so pings and lists are answered meanwhile. */
typedef struct mcp_job mcp_job;

/*
 * One message (a line, without its newline): the reply to send, or NULL when none is due (a
 * notification, a response). With defer, a valid tools/call is not run: *defer gets it (and
 * NULL is returned); without, it runs here. Hostile input gets an error reply, never a crash.
 */
json_t *mcp_answer(mcp_server *s, const char *line, size_t len, mcp_job **defer);
/* Run a deferred call: its reply, or NULL when none is due (the client cancelled it, or
 * memory ran out). The job is freed. */
json_t *mcp_job_run(mcp_server *s, mcp_job *job);
mcp_job *mcp_job_free(mcp_job *job);
/* Has the client cancelled the call running now? (For o.call, which may have to look again
 * after clearing a cancellation left over from before it started.) */
bool mcp_running_cancelled(mcp_server *s);

/* The error a line over MCP_FRAME_MAX gets (its id unknown: null). */
json_t *mcp_too_large(void);

/* ---- framing ---------------------------------------------------------------------------- */

/* Splits a byte stream into lines of at most max bytes; a longer line is skipped whole. */
typedef struct mcp_reader {
        pod_buf line;
        size_t max;
        bool skipping; /* inside a line over max */
} mcp_reader;

/* Each complete line (its "\r\n" or "\n" removed; empty ones skipped) goes to on_line;
 * too_large: the line was over max and is not given. Stops at on_line's first < 0. */
typedef int (*mcp_line_fn)(void *ud, const char *line, size_t len, bool too_large);
int mcp_reader_feed(mcp_reader *r, const char *data, size_t n, mcp_line_fn on_line, void *ud);
void mcp_reader_done(mcp_reader *r);

/* ---- serving ---------------------------------------------------------------------------- */

typedef struct mcp_serve_hooks {
        void *ud;
        /* Checked between reads: true ends serving (the pod is being shut down). May be NULL. */
        bool (*stopping)(void *ud);
        /* The client is gone (end of input, or its output closed): stop the call running. */
        void (*disconnected)(void *ud);
} mcp_serve_hooks;

/* All of p written to fd (a pipe or FIFO, blocking or not); -EPIPE or -errno when it closed. */
int mcp_write_all(int fd, const char *p, size_t n);

/* Serve the messages of in_fd, the replies to out_fd, until the client disconnects or
 * hooks->stopping says so. 0, or < 0 with err when serving could not start. */
int mcp_serve(mcp_server *s, int in_fd, int out_fd, const mcp_serve_hooks *hooks, pod_error *err);

/* ---- bound mode (bound.c) ---------------------------------------------------------------- */

/* The server a delegate pod's CLI is given (pod_mcp_binding): the CLI layer binds it with
 * pod_mcp_bind(&mcp_binding) before any pod starts. */
extern const pod_mcp_binding mcp_binding;

/* ---- standalone mode (standalone.c) ------------------------------------------------------ */

/* The tools a standalone server offers: the manifest's pod tools, SpawnPod described from
 * spawn_description (NULL: its spec's). NULL: out of memory. */
json_t *mcp_tool_table(const json_t *manifest, const char *spawn_description);

typedef struct mcp_standalone_opts {
        const json_t *manifest; /* resolved and inlined, as for `pod run` */
        const pod_dirs *dirs;
        char **envp;
        int in_fd, out_fd;
} mcp_standalone_opts;

/*
 * `pod mcp`: run this process as a top-level pod (registered, confined to its scope, its
 * profile snapshot) that serves the pod tools over in_fd/out_fd. When the client disconnects
 * (or a signal or `pod stop` comes), its children are stopped and its entry removed. 0 when
 * it ended so; < 0 with err when it could not start (-EEXIST: the name is taken).
 */
int mcp_standalone(const mcp_standalone_opts *o, pod_error *err);

/* ---- bound mode's relay (attach.c) ------------------------------------------------------- */

/*
 * `pod mcp --attach DIR`: relay the MCP client on in_fd/out_fd to the bound server a delegate
 * pod serves in DIR (its FIFOs LLM_MCP_IN and LLM_MCP_OUT, src/llm), until the client's input
 * ends or the server ends the session. DIR's files must be FIFOs of this user's that no one
 * else may open (-EPERM otherwise); -ENXIO: no server reads them; -EWOULDBLOCK: another relay
 * is attached. The caller ignores SIGPIPE.
 */
int mcp_attach(const char *dir, int in_fd, int out_fd, pod_error *err);
