/* SPDX-License-Identifier: MIT */
#pragma once

/*
 * Shared inside the llm module only: the handler vtable each handler implements, the SSE
 * parser, the three wires (pure: JSON in, JSON out, no I/O) and the HTTP transport.
 * The tests and fuzz targets include it too.
 */

#include "llm.h"

/*
 * One model handler. open builds the handler's own state from the manifest view (copying
 * what it keeps: the view may go before the handler does); complete makes one model call
 * and writes *out only when the whole turn was made; free takes NULL.
 */
typedef struct llm_ops {
        const char *name;
        int (*open)(void **ret_state, const manifest_view *v, pod_error *err);
        int (*complete)(void *state,
                        const json_t *conv,
                        const json_t *tools,
                        const llm_call *call,
                        llm_turn *out,
                        pod_error *err);
        void (*free)(void *state);
        /* A delegate's llm_needs_of; NULL for handlers that start no process. */
        int (*needs)(llm_needs *out, const manifest_view *v, char *const *envp, pod_error *err);
} llm_ops;

/* The script handler (script.c) and the native HTTP handler (native.c). */
extern const llm_ops llm_script_ops;
extern const llm_ops llm_native_ops;

/* *out gets the turn only when all of it was made; otherwise its parts are freed. */
int llm_turn_out(llm_turn *out, char *text, json_t *calls, json_t *usage, pod_error *err);

/* ---- limits on what a model's server sends (hostile input) -------------------------------- */

#define LLM_SSE_LINE_MAX (8u << 20) /* one SSE line */
#define LLM_SSE_EVENT_MAX (8u << 20) /* one event's data (its lines joined) */
#define LLM_RESPONSE_MAX (64u << 20) /* a whole streamed response */
#define LLM_ERROR_BODY_MAX (64u << 10) /* a refusal's body, kept for its message */
#define LLM_TEXT_MAX (16u << 20) /* the text of one turn */
#define LLM_ARGS_MAX (8u << 20) /* one tool call's input, or one thinking block */
#define LLM_BLOCKS_MAX 512u /* content blocks, tool calls and items of a turn */

/* ---- SSE (sse.c) ------------------------------------------------------------------------ */

/* One event: its name ("" when the stream named none) and its data (lines joined by \n). */
typedef int (*sse_event_fn)(
        void *ud, const char *event, const char *data, size_t len, pod_error *err);

typedef struct sse_parser {
        sse_event_fn fn;
        void *ud;
        pod_buf line; /* the line being read */
        pod_buf data; /* the event's data so far */
        char event[64]; /* the event's name, cut to fit */
        bool has_data;
        bool after_cr; /* the last byte was a CR: a LF next ends nothing more */
} sse_parser;

void sse_init(sse_parser *p, sse_event_fn fn, void *ud);
/* Feed bytes, in chunks of any size; events go to fn as they end. A line over
 * LLM_SSE_LINE_MAX or an event over LLM_SSE_EVENT_MAX is an error (-EMSGSIZE); an error
 * fn returns ends the feed with it. */
int sse_feed(sse_parser *p, const char *buf, size_t len, pod_error *err);
void sse_done(sse_parser *p);

/* ---- the neutral request and the stream assembler (wire.c) ---------------------------- */

typedef struct llm_request {
        const char *model; /* the model's name at its provider */
        const json_t *conv; /* the neutral conversation (llm.h); a system entry first */
        const json_t *tools; /* [{name, description, input_schema}] */
        pod_reasoning reasoning;
} llm_request;

/* One content block, tool call or output item as it streams in. */
typedef enum llm_block_kind {
        LLM_BLOCK_TEXT,
        LLM_BLOCK_CALL,
        LLM_BLOCK_THINKING, /* carried into the conversation as the wire requires */
        LLM_BLOCK_CARRIED, /* an item carried verbatim (redacted thinking, a reasoning item) */
        LLM_BLOCK_OTHER, /* ignored */
} llm_block_kind;

typedef struct llm_block {
        llm_block_kind kind;
        long index; /* the wire's index; -1: none */
        char *id; /* a tool call's id */
        char *item_id; /* the Responses item id its deltas name */
        char *name; /* a tool call's name */
        pod_buf body; /* input JSON fragments, or thinking text */
        pod_buf sig; /* a thinking block's signature */
        json_t *item; /* a carried item */
        size_t reported; /* body bytes already reported as progress */
        bool done;
} llm_block;

typedef struct llm_asm {
        const struct llm_wire *wire;
        llm_block *blocks;
        size_t n_blocks;
        pod_buf text; /* the turn's text */
        size_t text_reported; /* text bytes already reported as progress */
        json_t *usage; /* {input_tokens, output_tokens, cache_read_tokens,
                        *  cache_write_tokens} */
        char stop[32]; /* the stop reason as the wire says it */
        bool finished; /* the wire's end of stream was seen */
        bool retryable; /* an in-stream error worth another attempt (overload) */
} llm_asm;

typedef struct llm_wire {
        const char *name;
        const char *path; /* after the endpoint, which ends in "/v1" for OpenAI wires */
        /* The request body for rq: the wire's own shape, streaming, with the tools. */
        json_t *(*request)(const llm_request *rq);
        /* One SSE event, data parsed (an object); < 0 ends the stream with err. */
        int (*event)(llm_asm *a, const char *event, const json_t *data, pod_error *err);
        /* A thinking or carried block as the conversation keeps it. */
        json_t *(*carry)(const llm_block *b);
} llm_wire;

extern const llm_wire llm_wire_anthropic, llm_wire_openai_chat, llm_wire_openai_responses;

void llm_asm_init(llm_asm *a, const llm_wire *w);
void llm_asm_done(llm_asm *a);
/* One SSE event (its data not parsed yet): bounded, parsed, handed to the wire. */
int llm_asm_event(llm_asm *a, const char *event, const char *data, size_t len, pod_error *err);
/* The progress since the last call: text and tool-call input that arrived, as events
 * ({"type": "delta", "text"}, {"type": "tool_call_delta", "id", "name", "bytes"}) appended
 * to events. */
void llm_asm_progress(llm_asm *a, json_t *events);
/* The turn, once the stream ended: every call finalised now (input parsed, empty = {}).
 * A stream without its end, or a call whose input is not a JSON object, is an error. */
int llm_asm_finish(llm_asm *a, llm_turn *out, pod_error *err);

/* Shared by the wires (wire.c). */
llm_block *llm_block_add(llm_asm *a, llm_block_kind kind, long index, pod_error *err);
llm_block *llm_block_by_index(llm_asm *a, long index);
llm_block *llm_block_by_id(llm_asm *a, const char *id);
llm_block *llm_block_by_item(llm_asm *a, const char *item_id);
int llm_block_append(llm_block *b, const char *s, size_t max, pod_error *err);
int llm_text_append(llm_asm *a, const char *s, pod_error *err);
int llm_set_str(char **dst, const char *s, pod_error *err);
/* usage: the neutral object's field set from a wire's integer, when it is one. */
void llm_usage_set(llm_asm *a, const char *field, const json_t *v);
/* The tool results and user text of a neutral entry. */
const char *llm_entry_role(const json_t *e);
const char *llm_entry_text(const json_t *e);
/* The first system entry's text, "" without one. */
const char *llm_system_text(const json_t *conv);

/* ---- HTTP (http.c): libcurl loaded at the first call ----------------------------------- */

typedef struct llm_http llm_http;

typedef struct llm_http_req {
        const char *url;
        const char *body;
        const char *const *headers; /* NULL-terminated "Name: value" */
        long long deadline_ms; /* mono_ms: the whole call */
        long connect_ms, stall_ms;
        const volatile sig_atomic_t *cancel;
        /* A 2xx response's body, as it arrives; < 0 aborts the transfer with err. */
        int (*on_data)(void *ud, const char *p, size_t n, pod_error *err);
        void *ud;
} llm_http_req;

typedef struct llm_http_res {
        long status;
        long retry_after_ms; /* -1: none */
        pod_buf error_body; /* a non-2xx body, its first LLM_ERROR_BODY_MAX bytes */
        bool transient; /* a transport failure worth another attempt */
} llm_http_res;

int llm_http_new(llm_http **out, pod_error *err);
llm_http *llm_http_free(llm_http *h);
/* One POST. 0 once a response came (any status, in res); < 0 with err on a transport
 * failure, the deadline, a stall, cancellation (-ECANCELED) or on_data's error. */
int llm_http_post(llm_http *h, const llm_http_req *rq, llm_http_res *res, pod_error *err);
void llm_http_res_done(llm_http_res *res);
/* A Retry-After value (seconds or an HTTP date) in milliseconds, -1 if unreadable. */
long llm_retry_after_ms(const char *value);

/* ---- errors (errors.c) ------------------------------------------------------------------- */

/* The server's message in a refusal body (Anthropic's or OpenAI's shape), NULL if none. */
char *llm_error_message(const char *body, size_t len);
/* url with any userinfo replaced by "***". */
char *llm_redact_url(const char *url);
/* Every occurrence of secret in s replaced by "***", in place (secret may be NULL). */
void llm_scrub(char *s, const char *secret);

/* ---- delegates: the CLI process runner both delegate handlers share (delegate.c) -------- */

#define LLM_DELEGATE_LINE_MAX (8u << 20) /* one line the CLI prints */
#define LLM_DELEGATE_OUTPUT_MAX (256u << 20) /* all it prints on stdout for one call */
#define LLM_DELEGATE_STDERR_MAX (4u << 10) /* the tail of its stderr an error quotes */
#define LLM_DELEGATE_POLL_MS 50 /* cancel is looked at least this often */
#define LLM_DELEGATE_GRACE_MS 300 /* from SIGTERM to SIGKILL of its process group */

/* A running CLI: its pid, our ends of its stdin, stdout and stderr. */
typedef struct llm_proc llm_proc;

/*
 * Start spec (its fds are ignored: the runner's pipes replace them) through call->spawn
 * (the pod's delegate sandbox), or, when call or call->spawn is NULL, proc_spawn unconfined
 * in a new session. what names the CLI in every error ("the claude CLI (model claude:x)").
 */
int llm_proc_start(llm_proc **out,
                   const llm_spawn *spec,
                   const llm_call *call,
                   const char *what,
                   pod_error *err);
/*
 * The next line of its stdout, without its newline, NUL-terminated, valid until the next
 * call. 1: a line; 0: its stdout ended; < 0 with err: -ECANCELED (call->cancel, looked at
 * every LLM_DELEGATE_POLL_MS), -ETIMEDOUT (call->deadline_ms), -EMSGSIZE (a line over
 * LLM_DELEGATE_LINE_MAX, or stdout over LLM_DELEGATE_OUTPUT_MAX). It never stops the CLI:
 * the caller does (llm_proc_stop). call may be NULL.
 */
int llm_proc_line(
        llm_proc *p, const llm_call *call, char **ret_line, size_t *ret_len, pod_error *err);
/* All of data to its stdin, reading its output meanwhile (lines stay for llm_proc_line).
 * -EPIPE when it closed its stdin; cancel and deadline as llm_proc_line. */
int llm_proc_write(llm_proc *p, const llm_call *call, const char *data, size_t len, pod_error *err);
void llm_proc_close_input(llm_proc *p);
/* The last LLM_DELEGATE_STDERR_MAX bytes of its stderr as one line (control characters as
 * spaces); "" when none. Valid until the next call on p. */
const char *llm_proc_stderr(llm_proc *p);
pid_t llm_proc_pid(const llm_proc *p);
/* Not reaped yet. */
bool llm_proc_running(llm_proc *p);
/* Up to timeout_ms for it to exit: 1 reaped (*ret_status, may be NULL), 0 still running. */
int llm_proc_wait(llm_proc *p, int timeout_ms, int *ret_status);
/* End its whole process group: SIGTERM, up to LLM_DELEGATE_GRACE_MS for the CLI to exit,
 * SIGKILL to the group; the CLI is reaped. Nothing when it was reaped already. */
void llm_proc_stop(llm_proc *p);
/* Stops it (llm_proc_stop) and frees p; takes NULL. */
llm_proc *llm_proc_free(llm_proc *p);
/* The error for a CLI whose output ended before its answer: how it exited (waiting a
 * moment for it) and its stderr's tail, secret scrubbed. Returns -EPROTO. */
int llm_proc_fail(llm_proc *p, const llm_call *call, const char *secret, pod_error *err);

/*
 * The CLI's environment from the pod's envp: what env_inherited passes (with names, e.g.
 * the profile's api_key_env variable and the CLI's own), TERM, the CA and proxy variables;
 * entries starting with one of strip_prefixes ("CLAUDECODE=", "CLAUDE_CODE_") never. The
 * caller appends what it sets. NULL when out of memory.
 */
char **
llm_delegate_env(char *const *envp, const char *const *names, const char *const *strip_prefixes);
/* name looked up on envp's PATH (absolute entries only): *ret its realpath. -ENOENT. */
int llm_delegate_which(char **ret, const char *name, char *const *envp);
/* The install dir of a CLI's realpath: the directory holding its outermost node_modules,
 * else its own directory. NULL when out of memory. */
char *llm_delegate_install_dir(const char *exe);
/* path canonical: its realpath, or its parent's with its name when it does not exist yet
 * (NULL: neither, or out of memory). */
char *llm_delegate_canonical(const char *path);
/* llm_delegate_which for the cli of model spec; not on PATH: the configuration error naming
 * the npm package that installs it. */
int llm_delegate_find(char **ret,
                      const char *cli,
                      const char *package,
                      const char *spec,
                      char *const *envp,
                      pod_error *err);

/* What a delegate handler keeps of its profile's model. */
typedef struct llm_delegate_model {
        char *spec; /* "claude:NAME" */
        char *name; /* the model, as the CLI takes it */
        char *endpoint; /* the API's base URL; NULL: the CLI's own */
        char *key_env; /* the variable the key is taken from; NULL: none */
        char what[160]; /* "the claude CLI (model claude:NAME)" */
} llm_delegate_model;

/* m from v's model, for cli ("claude"); -ENOMEM (then llm_delegate_model_done frees it). */
int llm_delegate_model_init(llm_delegate_model *m, const manifest_view *v, const char *cli);
void llm_delegate_model_done(llm_delegate_model *m);
/* The key the CLI is given (from the profile's api_key_env), NULL: none. */
const char *llm_delegate_key(const llm_delegate_model *m, char *const *envp);
/* The task: the conversation's user entries after the assistant's last turn, joined by blank
 * lines (*ret, caller frees). -EINVAL when there are none, -E2BIG over LLM_TEXT_MAX. */
int llm_delegate_task(char **ret, const json_t *conv, const char *spec, pod_error *err);

/* A handler's event parser (claude_event, codex_event) on its own state. */
typedef int (*llm_delegate_event_fn)(
        void *events, const char *line, size_t len, json_t *actions, pod_error *err);
/*
 * Read the CLI's lines, each through event, its actions run as they come (progress to
 * call->progress, usage to call->usage: < 0 when the budget is exhausted), until event says
 * the answer came (1). -EPIPE (err not set) when may_resume and its output ended before a
 * line; otherwise an ended output is llm_proc_fail's error.
 */
int llm_delegate_read(llm_proc *p,
                      const llm_call *call,
                      llm_delegate_event_fn event,
                      void *events,
                      const char *secret,
                      bool may_resume,
                      pod_error *err);
/* llm_proc_start of n's executable and paths with argv and envp in call's cwd. */
int llm_delegate_spawn(llm_proc **out,
                       const llm_needs *n,
                       char *const *argv,
                       char *const *envp,
                       const llm_call *call,
                       const char *what,
                       pod_error *err);
/* A handler's complete starts: *call the one given or, when NULL, one with nothing set;
 * *secret the key (llm_delegate_key on its envp, else environ), to scrub from errors; *text
 * the task (llm_delegate_task). */
int llm_delegate_begin(const llm_call **call,
                       const char **secret,
                       char **text,
                       const llm_delegate_model *m,
                       const json_t *conv,
                       pod_error *err);
/* And ends: r < 0, r with secret scrubbed from err; else the answer (*result, taken) as a
 * turn without calls, its usage already counted. */
int llm_delegate_finish(llm_turn *out, int r, char **result, const char *secret, pod_error *err);

/* ---- the claude CLI's events (claude-events.c): pure, one line in, actions out ----------- */

typedef struct claude_events {
        const char *model; /* the pod's model spec, for errors (not owned) */
        json_t *counted; /* message ids whose usage was reported: {id: true} */
        json_t *tool_names; /* tool call id -> name, for the results */
        char stream_id[128]; /* the message streaming now (message_start), "" none */
        json_t *stream_usage; /* its usage so far */
        double cost_seen; /* total_cost_usd this process reported last */
        char session[128]; /* the CLI's session id, "" until it says it */
        char *result; /* the answer, once a successful result came */
        json_t *held; /* the last text block's progress event, held until more follows */
        bool done; /* a result came (an answer or an error) */
} claude_events;

void claude_events_init(claude_events *e, const char *model);
void claude_events_done(claude_events *e);
/* A new CLI process: its total_cost_usd starts again at 0. */
void claude_events_new_process(claude_events *e);
/* A new task: the last answer forgotten. */
void claude_events_new_call(claude_events *e);
/*
 * One line the CLI printed (stream-json). Appended to actions: {"progress": EVENT} (the pod's
 * event vocabulary, llm_call.progress) and {"usage": USAGE} (llm_call.usage), in order.
 * 1: the result came with the answer (e->result); 0: more to come; < 0 with err (actions
 * still hold what came before the failure): a line that is not a JSON object or says
 * nonsense (-EPROTO), a result that is an error (-EPROTO, the CLI's reason on one line).
 */
int claude_event(claude_events *e, const char *line, size_t len, json_t *actions, pod_error *err);

/* The claude delegate (delegate-claude.c). */
extern const llm_ops llm_claude_ops;

/* ---- the bound MCP server (delegate-mcp.c) -------------------------------------------------- */

/*
 * A delegate's CLI reaches its pod's tools through `pod mcp --attach DIR` (docs/mcp.md, bound
 * mode): a relay the CLI starts as its MCP server, which copies its stdin into the FIFO
 * DIR/mcp.in and DIR/mcp.out to its stdout. The handler serves the two FIFOs on a thread of
 * its own: each line to llm_call.mcp, each reply back as a line. FIFOs, not a descriptor:
 * both CLIs close every inherited descriptor but 0-2 when they start an MCP server, and the
 * delegate sandbox refuses Unix sockets; the FIFOs' path is the capability (only the pod and
 * its own CLI's processes can open them).
 *
 * The relay's session: it opens mcp.out for reading, then mcp.in for writing (holding an
 * exclusive flock on it: one relay at a time), and sends its hello, a line of a NUL byte and a
 * token of its own (random, at most LLM_MCP_TOKEN_MAX bytes). The server answers on mcp.out
 * with the same line, and the relay drops everything it reads before that answer (what a
 * previous relay left in the pipe, that one's own answer included). A new hello, or every
 * writer of mcp.in gone, ends the session: a partial line is dropped, never joined to the
 * next relay's first.
 */
#define LLM_MCP_LINE_MAX (16u << 20) /* one message, without its newline (POD_FRAME_MAX) */

/* The server's reading of mcp.in, pure (its fuzz target's subject): lines of at most max bytes
 * (a longer one is skipped whole and reported too_large), each hello a new session. */
typedef struct llm_mcp_lines {
        pod_buf line;
        size_t max;
        bool session; /* a hello was seen: lines count (before it, bytes are dropped) */
        bool token; /* the line being read is the hello's token */
        bool skipping; /* inside a line over max */
} llm_mcp_lines;

typedef struct llm_mcp_lines_ops {
        /* A complete line ("\r\n" or "\n" removed, empty ones skipped); < 0 stops the feed. */
        int (*line)(void *ud, const char *line, size_t len, bool too_large);
        /* A hello: a new relay, a new MCP session; its token (NULL: over LLM_MCP_TOKEN_MAX). */
        void (*session)(void *ud, const char *token, size_t len);
        void *ud;
} llm_mcp_lines_ops;

int llm_mcp_lines_feed(llm_mcp_lines *l, const char *buf, size_t n, const llm_mcp_lines_ops *ops);
/* The relay left: a partial line is dropped and nothing counts until the next hello. */
void llm_mcp_lines_reset(llm_mcp_lines *l);
void llm_mcp_lines_done(llm_mcp_lines *l);

typedef struct llm_mcp_bound llm_mcp_bound;

/*
 * Make dir/mcp.in and dir/mcp.out (FIFOs, 0600; stale ones replaced) and serve them with fn on
 * a thread of the server's own until llm_mcp_bound_stop. dir: llm_call.private_dir.
 */
int llm_mcp_bound_start(
        llm_mcp_bound **out, const char *dir, llm_mcp_fn fn, void *ud, pod_error *err);
/* The two FIFOs' paths (what the CLI's sandbox lists in llm_spawn.write_paths: mcp.in,
 * mcp.out, NULL), and the directory the relay is given (`pod mcp --attach DIR`). */
const char *const *llm_mcp_bound_paths(const llm_mcp_bound *b);
const char *llm_mcp_bound_dir(const llm_mcp_bound *b);
/* Stop serving (after the call running in fn returns), close and unlink the FIFOs: a relay
 * still attached sees the end of mcp.out and leaves. Takes NULL. */
llm_mcp_bound *llm_mcp_bound_stop(llm_mcp_bound *b);
static inline void llm_mcp_bound_stopp(llm_mcp_bound **b) {
        llm_mcp_bound_stop(*b);
}

/* ---- the codex CLI's events (codex-events.c): pure, one line in, actions out ------------- */

#define CODEX_ID_MAX 128u /* a thread or item id */

typedef struct codex_events {
        const char *model; /* the pod's model spec, for errors (not owned) */
        char thread[CODEX_ID_MAX]; /* the thread `codex exec resume` continues; "" none yet */
        json_int_t seen[4]; /* the thread's usage reported so far: input, cached, cache write,
                             * output (turn.completed gives the thread's totals) */
        json_t *started; /* item ids whose tool_call went out: {id: true} */
        json_t *held; /* the last agent message's progress event, held until more follows */
        char *result; /* the answer, once the turn completed */
        unsigned run; /* the task's number: item ids repeat in each exec */
        bool done; /* the turn completed or failed */
} codex_events;

void codex_events_init(codex_events *e, const char *model);
void codex_events_done(codex_events *e);
/* A new task (one exec): the last answer forgotten; the thread and its usage kept. */
void codex_events_new_call(codex_events *e);
/*
 * One line `codex exec --json` printed. Appended to actions: {"progress": EVENT} (the pod's
 * event vocabulary, llm_call.progress) and {"usage": USAGE} (llm_call.usage), in order.
 * 1: the turn completed with the answer (e->result); 0: more to come; < 0 with err (actions
 * still hold what came before): a line that is not a JSON object or an item without a valid
 * id (-EPROTO), a failed turn (-EPROTO, the CLI's reason on one line).
 */
int codex_event(codex_events *e, const char *line, size_t len, json_t *actions, pod_error *err);

/* ---- the codex delegate (delegate-codex.c) ----------------------------------------------- */

/* What one `codex exec` command line is made of. */
typedef struct codex_argv_in {
        const char *exe; /* the CLI's executable */
        const char *spec, *name; /* the model spec (for errors), and its name for -m */
        const char *system; /* the pod's system prompt: developer_instructions; may be NULL */
        const char *endpoint, *key_env; /* a model provider of the pod's; NULL: the CLI's own */
        const char *thread; /* the thread to resume; NULL: a new one */
        const char *mcp_exe, *mcp_dir; /* `EXE mcp --attach DIR`; NULL: no pod tools */
} codex_argv_in;

/* The argv (the task comes on stdin: "-"); -E2BIG when the system prompt is too long for it. */
int codex_argv(char ***ret, const codex_argv_in *in, pod_error *err);
/* s as a TOML basic string (quoted, escaped): how -c takes a string value. */
char *codex_toml_string(const char *s);

extern const llm_ops llm_codex_ops;
