/* SPDX-License-Identifier: MIT */
#pragma once

/*
 * llm: model handlers (DESIGN §9). One interface, shaped for OpenAI- and Anthropic-style
 * tool calling: the conversation goes in as a neutral JSON list, one assistant turn (text
 * and tool calls) comes out. The handler is chosen by the manifest view's handler enum,
 * which the provider table set; nothing here second-guesses it. Each handler implements
 * the operations in llm-internal.h (open, complete, free) and keeps its own state.
 *
 * Conversation entries:
 *   {"role": "system" | "user", "content": "..."}
 *   {"role": "assistant", "content": "...", "tool_calls": [{"id", "name", "input"}],
 *    "reasoning": [...]}   (optional: the wire's own thinking blocks or reasoning items,
 *                           carried back verbatim as the API requires)
 *   {"role": "tool", "tool_call_id": "...", "content": "...", "is_error": bool}
 */

#include <jansson.h>
#include <signal.h>
#include <sys/types.h>

#include "base/base.h"
#include "manifest/manifest.h"

typedef struct llm_handler llm_handler;

typedef struct llm_turn {
        char *text; /* the assistant's text (may be empty) */
        json_t *calls; /* [{id, name, input}]; empty: the turn ends the run */
        /* {input_tokens, output_tokens, cache_read_tokens, cache_write_tokens} or null: what
         * the call used. input_tokens is every input token not read from the cache (cache
         * writes included); the budget counts input + output (docs/budgets.md). */
        json_t *usage;
        json_t *reasoning; /* what the assistant entry carries as "reasoning"; NULL: none */
        /* A delegate's turn: its model calls were each reported through llm_call.usage as
         * they happened, so the caller counts nothing more for this turn (usage is NULL). */
        bool counted;
} llm_turn;

/*
 * A process a delegate handler starts: its CLI (DESIGN §9 "Delegates"). The caller's spawn
 * hook starts it in the pod's delegate sandbox (docs/sandbox.md): the pod's scope, the
 * system paths, what is listed here, and no registry entry; in a new session (its own
 * process group), killed when the pod dies.
 */
typedef struct llm_spawn {
        const char *path; /* absolute: the CLI's executable */
        char *const *argv;
        char *const *envp; /* all the environment the CLI gets (the handler builds it) */
        const char *cwd; /* NULL: the pod's cwd */
        int fds[3]; /* its stdin, stdout, stderr */
        /* NULL-terminated lists of absolute paths, canonical: */
        const char *const *write_paths; /* read and write, to this process alone (~/.claude) */
        const char *const *read_paths; /* read and execute (the CLI's install dir) */
        int port; /* model-only network: the TCP port the CLI reaches its API on; 0: none */
} llm_spawn;

/*
 * The pod tools a delegate's CLI is offered as an MCP server bound to its pod (DESIGN §9,
 * §17): one JSON-RPC message from the CLI (a line, without its newline) in, the reply out
 * (NULL when none is due: a notification). A tools/call runs the pod tool before it returns
 * (a WaitPod may block until its children end or the call's cancel is set). Thread-safe
 * against the handler's own thread: the handler may call it from a thread of its own.
 */
typedef json_t *(*llm_mcp_fn)(void *ud, const char *line, size_t len);
/* The bound server's FIFOs in llm_call.private_dir, and the byte a relay's session opens with
 * (llm-internal.h, docs/mcp.md: `pod mcp --attach DIR` is the relay). */
#define LLM_MCP_IN "mcp.in" /* the relay writes, the server reads */
#define LLM_MCP_OUT "mcp.out" /* the server writes, the relay reads */
#define LLM_MCP_HELLO '\0' /* opens a relay's hello line (NUL, token, newline) and its answer */
#define LLM_MCP_TOKEN_MAX 64 /* a hello's token: the relay's own, echoed back to it */

/* What one model call may be given besides the conversation. All members may be 0. */
typedef struct llm_call {
        const volatile sig_atomic_t *cancel; /* set: the call ends within 100 ms, -ECANCELED */
        long long deadline_ms; /* mono_ms() the call may not outlast; 0: none */
        /* Progress while the model answers ({"type": "delta", "text"}, {"type":
         * "tool_call_delta", "id", "name", "bytes"}, {"type": "retry", ...}); takes ev. */
        void (*progress)(void *ud, json_t *ev);
        void *progress_ud;

        /* ---- delegates (claude:, codex:) only; a native handler ignores these ---------- */
        /* Start the CLI (llm_spawn). NULL: proc_spawn, unconfined, in a new session (the
         * handler's unit tests). */
        int (*spawn)(void *ud, const llm_spawn *s, pid_t *ret_pid, pod_error *err);
        void *spawn_ud;
        /* The pod tools over MCP; NULL: the CLI is given none. */
        llm_mcp_fn mcp;
        void *mcp_ud;
        /*
         * Each model call the CLI reports, as it reports it ({input_tokens, output_tokens,
         * cache_read_tokens, cache_write_tokens, turns?, cost_usd?}: turns defaults to 1;
         * cost_usd, when the CLI reports one, is what the call cost). < 0: the budget is
         * exhausted; the handler ends the CLI and the call fails with that error. NULL: not
         * reported.
         */
        int (*usage)(void *ud, const json_t *usage, pod_error *err);
        void *usage_ud;
        const char *cwd; /* where the CLI runs; NULL: the pod's cwd */
        /* A directory of the pod's own, which no other pod can reach, for the handler's
         * files (the bound MCP server's endpoint); NULL: none (then no pod tools). */
        const char *private_dir;
        const char *exe; /* the pod executable (a CLI runs `pod mcp --attach`); may be NULL */
        char *const *envp; /* the pod's environment, which the handler takes the CLI's from */
} llm_call;

/* Open the handler a manifest's view names. Handlers not built yet are a clear error. */
int llm_open(llm_handler **out, const manifest_view *v, pod_error *err);
llm_handler *llm_free(llm_handler *h);
static inline void llm_freep(llm_handler **h) {
        llm_free(*h);
}
/*
 * A configuration error the handler of v would meet at its first call, found before
 * anything is registered: a native handler's key variable that is not set (the error
 * names the variable). The environment is read now; the key is never copied.
 */
int llm_check(const manifest_view *v, pod_error *err);

/*
 * What a delegate's CLI needs beyond a pod's scope (DESIGN §9, docs/sandbox.md), found from
 * the view and the environment (PATH, HOME, CLAUDE_CONFIG_DIR, CODEX_HOME): every pod process
 * that may run such a pod, or start one, has these in its own sandbox, and the CLI's sandbox
 * gets them; a pod's children never do through their scope. Paths are absolute and
 * canonical.
 */
typedef struct llm_needs {
        char *exe; /* the CLI's executable (realpath); NULL: not a delegate */
        char **read_paths; /* strv: read and execute (the CLI's install dir) */
        char **write_paths; /* strv: read and write (its state dir and files) */
        int port; /* the TCP port of the CLI's API (model-only network); 0: none */
} llm_needs;

/* 0 and *out zeroed for a native or script handler. A delegate whose CLI is not found:
 * -ENOENT, the error naming the npm package and the command that installs it. */
int llm_needs_of(llm_needs *out, const manifest_view *v, char *const *envp, pod_error *err);
void llm_needs_done(llm_needs *n);
/* One model call: the next assistant turn for the conversation, offering tools. *out is
 * written only on success. call may be NULL. */
int llm_complete(llm_handler *h,
                 const json_t *conversation,
                 const json_t *tools,
                 const llm_call *call,
                 llm_turn *out,
                 pod_error *err);
void llm_turn_done(llm_turn *t);
const char *llm_name(const llm_handler *h);
