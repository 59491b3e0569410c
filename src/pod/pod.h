/* SPDX-License-Identifier: MIT */
#pragma once

/*
 * pod: a running pod. This header grows with the runtime; today it holds the tools an
 * agent uses (DESIGN §12), each confined to the pod's scope in-process: paths are opened
 * beneath the directory of the rule that grants them, with openat2(RESOLVE_BENEATH |
 * RESOLVE_NO_MAGICLINKS), and what was actually opened is checked against the scope
 * again, so neither a symlink nor ".." can lead a tool outside it.
 */

#include <jansson.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>

#include "base/base.h"
#include "manifest/manifest.h"

#define POD_READ_MAX_BYTES (256u * 1024u)       /* text a Read returns at most */
#define POD_READ_DEFAULT_LINES 2000u            /* lines a Read returns by default */
#define POD_READ_LINE_MAX 2000u                 /* characters kept of one line */
#define POD_FILE_MAX_BYTES (16u * 1024u * 1024u) /* files Read, Edit and Grep open */
#define POD_WRITE_MAX_BYTES (4u * 1024u * 1024u) /* content of one Write or Edit */
#define POD_TOOL_INPUT_MAX_BYTES (8u * 1024u * 1024u) /* one tool call's input */
#define POD_GLOB_MAX_RESULTS 1000u
#define POD_GREP_MAX_LINES 500u
#define POD_WALK_MAX_ENTRIES 200000u            /* directory entries one Glob/Grep visits */
#define POD_WALK_MAX_DEPTH 64u
#define POD_BASH_DEFAULT_TIMEOUT_S 120
#define POD_BASH_MAX_TIMEOUT_S 600
#define POD_BASH_OUTPUT_MAX (30u * 1024u)        /* output returned to the model */

/* ---- scoped file access (fsaccess.c) ---------------------------------------------------- */

typedef struct pod_fs {
        pod_scope scope; /* the pod's effective scope */
        char *cwd;       /* absolute */
        char *pod_name;  /* for messages */
} pod_fs;

int fs_init(pod_fs *fs, const pod_scope *scope, const char *cwd, const char *pod_name,
            pod_error *err);
void fs_done(pod_fs *fs);
/* Absolute and lexically normal: relative to cwd, "." and ".." removed, no symlinks read. */
int fs_lexical(char **out, const pod_fs *fs, const char *path, pod_error *err);
/* The real path of an open descriptor. */
int fs_fd_path(char **out, int fd, pod_error *err);
/*
 * Open path for reading (flags: O_RDONLY or O_RDONLY|O_DIRECTORY) inside the scope. On
 * success *ret_real holds the canonical path of what was opened. Errors are for the model:
 * "out of scope", "not found", ...
 */
int fs_open_read(int *ret_fd, char **ret_real, const pod_fs *fs, const char *path, int flags,
                 pod_error *err);
/* Open (creating when missing) a regular file for writing; nothing is truncated. */
int fs_open_write(int *ret_fd, char **ret_real, const pod_fs *fs, const char *path,
                  bool create_dirs, pod_error *err);
/* Effective access at a canonical path. */
pod_access fs_access(const pod_fs *fs, const char *real);

/* ---- tools (tools.c and tool-*.c) -------------------------------------------------------- */

typedef struct pod_tools pod_tools;

typedef struct tool_result {
        char *text;    /* what the model reads */
        bool is_error; /* the call failed; text says why */
} tool_result;

/*
 * Tools for a pod running manifest m. output_dir (may be NULL) receives the full output
 * of each Bash command.
 */
int tools_new(pod_tools **out, const json_t *m, const char *output_dir, pod_error *err);
pod_tools *tools_free(pod_tools *t);
static inline void tools_freep(pod_tools **t) {
        tools_free(*t);
}
/* Run one call. A tool's failure is a result with is_error; < 0 only when memory runs out. */
int tools_call(tool_result *out, pod_tools *t, const char *name, const json_t *input);
void tool_result_done(tool_result *r);
/* JSON schemas ({name, description, input_schema}) of the manifest's tools. */
json_t *tools_schemas(const json_t *m);
/* A flag that, once set (by a signal handler), stops a running Bash command. */
void tools_set_cancel(pod_tools *t, const volatile sig_atomic_t *cancel);

/* ---- the worker loop (worker.c) --------------------------------------------------------- */

/*
 * Events, each a JSON object with "type":
 *   message      {text}                    a message sent to the pod while it works
 *   text         {text, final}             the model's text of a turn (final: the answer)
 *   tool_call    {id, name, input}
 *   tool_result  {id, name, ok, text, ms}
 *   usage        {turn, input_tokens, output_tokens}
 *   end          {status: ok|failed|max_turns|timeout|cancelled, result?, error?, turns}
 * The transcript holds these too, after a system_prompt, manifest and task line.
 */
typedef void (*worker_sink)(void *ud, const json_t *event);

typedef struct worker_opts {
        const json_t *manifest;      /* validated and inlined */
        const char *system_prompt;
        const char *task;
        const char *output_dir;      /* Bash logs; may be NULL */
        FILE *transcript;            /* JSONL; may be NULL */
        const volatile sig_atomic_t *cancel; /* may be NULL */
        worker_sink sink;            /* may be NULL */
        void *sink_ud;
        /* Messages sent to the pod while it works (`send`), added between turns. */
        char *(*next_message)(void *ud); /* may be NULL; the worker frees what it returns */
        void *message_ud;
} worker_opts;

/*
 * Run the conversation until the model answers without tool calls. 0 and *ret_result on
 * success; < 0 with err on a runtime failure (the model handler, max_turns, timeout_s,
 * cancellation). Tool errors are the model's to handle, not failures of the run.
 */
int worker_run(const worker_opts *o, char **ret_result, pod_error *err);

/* ---- the registry (registry.c, DESIGN §8) ------------------------------------------------ */

#define POD_TOKEN_HEX 32 /* 128-bit tokens */

typedef struct pod_registry pod_registry;

/*
 * Open (creating when missing) the runtime dir: it must be a directory of this user with
 * mode 0700, never a symlink, else the registry is refused with the reason.
 */
int registry_open(pod_registry **out, const char *runtime_dir, pod_error *err);
pod_registry *registry_free(pod_registry *reg);
static inline void registry_freep(pod_registry **r) {
        registry_free(*r);
}
/* <runtime dir>/pods/<name>/<file> (allocated). */
char *registry_path(const pod_registry *reg, const char *name, const char *file);
/*
 * Reserve name for a pod: under the registry lock, reap a dead holder, then mkdir the
 * entry and write its pod.json (entry: the fields of DESIGN §8; pid and start time are
 * filled in here for the calling process). A live holder is an error naming it.
 */
int registry_reserve(pod_registry *reg, const char *name, json_t *entry, pod_error *err);
/* Rewrite pod.json (temporary file + rename) with entry's fields, "updated" refreshed. */
int registry_update(pod_registry *reg, const char *name, json_t *entry, pod_error *err);
/* Remove an entry and everything in it. */
int registry_remove(pod_registry *reg, const char *name, pod_error *err);
/* Read one entry's pod.json; *ret_alive tells whether its process still lives. */
int registry_read(json_t **out, bool *ret_alive, pod_registry *reg, const char *name,
                  pod_error *err);
/* Every entry, dead ones reaped first: [{...pod.json..., "alive": true}]. */
int registry_list(json_t **out, pod_registry *reg, pod_error *err);
/* Is pid alive with this start time (clock ticks since boot, /proc/PID/stat field 22)? */
bool registry_alive(long pid, unsigned long long start_time);
int registry_start_time(long pid, unsigned long long *ret);
/* A fresh random token (POD_TOKEN_HEX hex characters). */
int registry_new_token(char out[POD_TOKEN_HEX + 1], pod_error *err);

/* ---- control socket (ipc.c, DESIGN §12) -------------------------------------------------- */

#define POD_FRAME_MAX (16u * 1024u * 1024u) /* one JSON-RPC message */
#define POD_INBOX_MAX 64u                   /* queued `send` messages */
#define POD_CLIENTS_MAX 256u                /* connections at once */

/* JSON-RPC error codes beyond the standard ones. */
enum {
        RPC_PARSE_ERROR = -32700,
        RPC_INVALID_REQUEST = -32600,
        RPC_METHOD_NOT_FOUND = -32601,
        RPC_INVALID_PARAMS = -32602,
        RPC_BAD_TOKEN = -32001,
        RPC_HELLO_FIRST = -32002,
        RPC_BUSY = -32003,
        RPC_FRAME_TOO_LARGE = -32004,
};

/* What the socket and the worker share; every field under lock. */
typedef struct pod_control {
        pthread_mutex_t lock;
        char state[16];  /* starting, running, done, failed */
        unsigned turns;
        char **inbox;    /* messages from `send`, taken by the worker between turns */
        bool shutdown;   /* `shutdown` was called */
        volatile sig_atomic_t cancel; /* `cancel`, `shutdown` or a signal */
} pod_control;

typedef struct pod_server pod_server;

/* Listen on sock_path (which must not exist) for clients of this uid. */
int server_start(pod_server **out, const char *sock_path, const char *token, const char *name,
                 pod_control *ctl, pod_error *err);
/* Stop the thread, close every connection, remove the socket. */
pod_server *server_stop(pod_server *srv);
/* Send an event to every subscribed client (thread-safe). */
void server_publish(pod_server *srv, const json_t *event);
/* The next queued `send` message, or NULL (caller frees). */
char *control_take_message(pod_control *ctl);
void control_set_state(pod_control *ctl, const char *state);

/* A client call: connect, hello with token, call method, return the result or the error. */
int ipc_call(json_t **out, const char *sock_path, const char *token, const char *method,
             json_t *params, pod_error *err);

/* ---- SpawnPod, the steps before anything is reserved (spawn-prepare.c) -------------------- */

#define POD_SPAWN_TASK_MAX (1024u * 1024u)

typedef struct spawn_request {
        const json_t *input;         /* SpawnPod {name, task, scope, profile?, instruction?, cwd?} */
        const scope_lease *leases;   /* write leases of other live pods */
        size_t n_leases;
        unsigned live_children;      /* the spawner's children now */
        const char *runtime_dir;     /* the child's socket must fit sun_path */
} spawn_request;

/*
 * DESIGN §8 steps 1-3 for a spawner running manifest parent: validate the input, resolve
 * the profile from the parent's snapshot (or inherit), build the child manifest with the
 * delegated scope, and check depth and child limits. Touches nothing: on success *out is
 * the child's manifest and *ret_task its task; a refusal is one line for the model.
 */
int spawn_prepare(json_t **out, const char **ret_task, const json_t *parent,
                  const spawn_request *req, pod_error *err);
