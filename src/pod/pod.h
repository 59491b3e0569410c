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
#include <linux/filter.h>
#include <pthread.h>
#include <semaphore.h>
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
#define POD_SEARCH_PATTERN_MAX 4096u            /* bytes of a Glob or Grep pattern, or glob */
/* One Glob or Grep call's wall-clock budget, within what is left of the pod's timeout_s.
 * POD_TOOL_DEADLINE_MS (a test hook) can only lower it. */
#define POD_SEARCH_DEADLINE_S 30
#define POD_GREP_MATCH_LIMIT 1000000u           /* PCRE2 backtracking steps per start */
#define POD_GREP_DEPTH_LIMIT 100000u            /* PCRE2 nested backtracking depth */
#define POD_GREP_HEAP_LIMIT_KIB 16384u          /* PCRE2 backtracking memory of one match */
#define POD_GREP_COSTLY_NAMED 10u               /* costly lines named in a result */
#define POD_BASH_DEFAULT_TIMEOUT_S 120
#define POD_BASH_MAX_TIMEOUT_S 600
#define POD_WAIT_DEFAULT_S 600                  /* WaitPod's timeout_s by default */
#define POD_BASH_OUTPUT_MAX (30u * 1024u)        /* output returned to the model */

/* ---- scoped file access (fsaccess.c) ---------------------------------------------------- */

typedef struct pod_fs {
        pod_scope scope; /* the pod's effective scope */
        char *cwd;       /* absolute */
        char *pod_name;  /* for messages */
        /* Is real under a child's write lease? (holder, when not NULL, gets its name) */
        bool (*leased)(void *ud, const char *real, char *holder);
        void *leased_ud;
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
typedef struct pod_tree pod_tree;

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
json_t *tools_schemas(const json_t *m, const char *spawn_description);
/* A flag that, once set (by a signal handler), stops a running Bash command, Glob or Grep. */
void tools_set_cancel(pod_tools *t, const volatile sig_atomic_t *cancel);
/* When the pod's current task must end (mono_ms() time; 0: no limit): no tool call runs
 * past it. */
void tools_set_deadline(pod_tools *t, long long at_ms);
/* The pod's children: the pod tools act on them, and their write leases narrow the file
 * tools (NULL: no pod tools). */
void tools_set_tree(pod_tools *t, pod_tree *tree);

/* ---- the run dir's cap (rundir.c, docs/running.md) ---------------------------------------- */

/*
 * What a pod may keep in its run dir, in MiB: POD_RUN_DIR_CAP_MIB, set by the operator and
 * inherited by child pods (each has a cap of its own, over what it writes itself). Shares:
 * the transcript a quarter, the Bash logs half (each log at most POD_BASH_LOG_MAX), the
 * private TMPDIR a quarter; a command writes no file larger than the whole cap.
 */
#define POD_RUN_DIR_CAP_DEFAULT_MIB 256u
#define POD_RUN_DIR_CAP_MAX_MIB (1024u * 1024u)
#define POD_BASH_LOG_MAX (64u * 1024u * 1024u) /* one command's log */
#define POD_BASH_COMMAND_MAX (64u * 1024u)      /* one Bash command */
#define POD_TMP_MAX_ENTRIES 100000u             /* more in TMPDIR: it is emptied */

/* The cap in bytes from POD_RUN_DIR_CAP_MIB in envp (unset or empty: the default). */
int run_dir_cap_from_env(uint64_t *ret, char *const *envp, pod_error *err);
static inline uint64_t run_dir_transcript_share(uint64_t cap) {
        return cap / 4;
}
static inline uint64_t run_dir_logs_share(uint64_t cap) {
        return cap / 2;
}
static inline uint64_t run_dir_tmp_share(uint64_t cap) {
        return cap / 4;
}
/*
 * Keep a private TMPDIR within its share: what it holds is measured, and it is emptied when
 * over share, or too large or deep to measure. 0: within it; 1: emptied (*ret_held: what it
 * held, or UINT64_MAX when that could not be measured); < 0: it could not be emptied.
 */
int run_dir_bound_tmp(uint64_t *ret_held, int tmp_fd, uint64_t share);

/* The pod's run dir cap in bytes (default POD_RUN_DIR_CAP_DEFAULT_MIB): the Bash logs and
 * the private TMPDIR keep to their shares of it. */
void tools_set_run_dir_cap(pod_tools *t, uint64_t cap);

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
        pod_tree *tree;              /* the pod tools act on it; may be NULL */
        const char *spawn_description; /* SpawnPod's, from the prompt catalog; may be NULL */
        uint64_t run_dir_cap;        /* bytes; 0: POD_RUN_DIR_CAP_DEFAULT_MIB */
} worker_opts;

typedef struct pod_worker pod_worker;

/* A conversation that lasts across tasks: the system prompt, then one worker_turn per task
 * (or message received while idle). The transcript gets the manifest and system prompt once. */
int worker_new(pod_worker **out, const worker_opts *o, pod_error *err);
int worker_turn(pod_worker *w, const char *task, char **ret_result, pod_error *err);
pod_worker *worker_free(pod_worker *w);
/* The conversation so far (the neutral form of llm.h), for tests and inspection. */
const json_t *worker_conversation(const pod_worker *w);

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
#define POD_LEASES_MAX 1024u

/*
 * What a child reservation claims: its write rules, checked under the same lock as the
 * reservation against the leases the spawner knows (its own children's write rules) and,
 * with scan, against those of every live pod in the registry but the spawner and its
 * ancestors. A sandboxed spawner cannot scan (it reads no entry, docs/sandbox.md); its
 * write scope was free of other pods' leases when it got it, and only its own children
 * can have taken part of it since.
 */
typedef struct registry_claim {
        const char *spawner;
        const scope_rule *rules;
        size_t n_rules;
        const scope_lease *known;
        size_t n_known;
        bool scan;
} registry_claim;

/*
 * Reserve name for a pod: under the registry lock, check the claim (NULL: none) against
 * the write leases (DESIGN §7: the write rules of live child pods, but the spawner's and its
 * ancestors'), reap a dead holder of the name, then mkdir the entry and write its pod.json
 * (entry: the fields of DESIGN §8; pid and start time are filled in here for the calling
 * process). An overlapping lease is an error naming its holder; so is a live holder of the
 * name. A refusal changes nothing.
 */
int registry_reserve(pod_registry *reg, const char *name, json_t *entry,
                     const registry_claim *claim, pod_error *err);
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
#define POD_CLIENTS_MAX 256u                /* authenticated connections at once */
/* Connections that have not said hello yet are held apart from the authenticated ones, so
 * that a process which connects and stays silent (any process of the operator's user may
 * connect) never keeps a token holder out: at most POD_UNAUTH_MAX of them, at most
 * POD_UNAUTH_PER_PEER from one process, the oldest dropped to make room, each dropped when
 * it has not said hello within POD_HELLO_TIMEOUT_MS (the environment's POD_HELLO_TIMEOUT_MS
 * overrides it, from 100 to 60000, for tests), and its first line at most
 * POD_HELLO_FRAME_MAX bytes. */
#define POD_UNAUTH_MAX 64u
#define POD_UNAUTH_PER_PEER 8u
#define POD_HELLO_TIMEOUT_MS 3000
#define POD_HELLO_FRAME_MAX 4096u

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

/* One request line as the socket reads it: the JSON-RPC 2.0 frame decoder, the only code
 * other processes reach before hello (fuzz/fuzz-rpc.c). */
typedef struct rpc_frame {
        json_t *req;        /* the decoded object (owned; NULL on a parse error) */
        json_t *id;         /* borrowed from req; NULL when absent */
        const char *method; /* borrowed from req; set only when the frame is valid */
        json_t *params;     /* borrowed from req; NULL when absent */
} rpc_frame;

/* 0 with *out a valid request; RPC_PARSE_ERROR when line is not JSON, RPC_INVALID_REQUEST
 * when it is not {jsonrpc: "2.0", id?, method, params?} (out->id is then what it had, for
 * the error reply). Free *out with rpc_frame_done in every case. */
int rpc_decode(rpc_frame *out, const char *line, size_t len);
void rpc_frame_done(rpc_frame *f);

#define POD_IPC_TIMEOUT_S 10         /* a client waits this long for a reply */
#define POD_TASK_MAX (1024u * 1024u) /* a task or message: run, send, SpawnPod, pod run */
#define POD_NAME_BUF 65              /* a slug and its NUL */

/* What the socket and the worker share; every field under lock. */
typedef struct pod_control {
        pthread_mutex_t lock;
        char state[16];  /* starting, running, idle, done, failed */
        unsigned turns;
        char **inbox;    /* messages from `send`, taken by the worker between turns */
        bool shutdown;   /* `shutdown` was called */
        volatile sig_atomic_t cancel; /* `cancel`, `shutdown` or a signal */
        /* A pod that waits for work (a child): `run`, or `send` while idle, sets task. */
        bool accepts_run;
        bool idle;
        char *task;
        unsigned turns_done; /* tasks (turns of work) finished */
        sem_t *wake;         /* posted on run, send, cancel and shutdown; may be NULL */
} pod_control;

/* What a pod's socket asks of the rest of the pod. */
typedef struct server_hooks {
        void *ud;
        /* Is token the callback token of one of this pod's children? Then copy its name. */
        bool (*callback_owner)(void *ud, const char *token, char child[POD_NAME_BUF]);
        /* child_event {pod, kind, ...} from that child; < 0 with err refuses it. */
        int (*child_event)(void *ud, const char *child, const json_t *params, pod_error *err);
} server_hooks;

typedef struct pod_server pod_server;

/* Listen on sock_path (which must not exist) for clients of this uid: server_listen, then
 * server_serve. */
int server_start(pod_server **out, const char *sock_path, const char *token, const char *name,
                 pod_control *ctl, const server_hooks *hooks, pod_error *err);
/* The socket bound and listening; connections wait in its backlog until server_serve. */
int server_listen(pod_server **out, const char *sock_path, const char *token, const char *name,
                  pod_control *ctl, const server_hooks *hooks, pod_error *err);
/* Start the thread that serves the socket. */
int server_serve(pod_server *srv, pod_error *err);
/* Stop the thread, close every connection, remove the socket. */
pod_server *server_stop(pod_server *srv);
/* Send an event to every subscribed client (thread-safe). */
void server_publish(pod_server *srv, const json_t *event);
/* The next queued `send` message, or NULL (caller frees). */
char *control_take_message(pod_control *ctl);
void control_set_state(pod_control *ctl, const char *state);

/*
 * A client call: connect, check that the socket is served by process peer (SO_PEERCRED; a
 * token is never sent elsewhere), hello with token, call method, return the result or the
 * error. peer <= 0 skips the check (a server in the same test process).
 */
int ipc_call(json_t **out, const char *sock_path, pid_t peer, const char *token,
             const char *method, json_t *params, pod_error *err);
/* Connect and check the peer only: -EPERM when another process serves the socket. */
int ipc_verify(const char *sock_path, pid_t peer, pod_error *err);
/*
 * The spawner's channel to a child (a socket pair; protocol.md): ready from the child, then
 * one call. ipc_call_fd sends method on fd and returns the reply's result (no hello: only
 * the two processes hold the channel); control_first_task answers that call in the child,
 * taking a run request's task as the next turn, and wakes the worker once it has answered.
 */
int ipc_call_fd(json_t **out, int fd, const char *method, json_t *params, pod_error *err);
int control_first_task(pod_control *ctl, int fd, pod_error *err);

/* ---- SpawnPod, the steps before anything is reserved (spawn-prepare.c) -------------------- */

typedef struct spawn_request {
        const json_t *input;         /* SpawnPod {name, task, scope, profile?, instruction?, cwd?} */
        const scope_lease *leases;   /* write leases known now, if any (SpawnPod checks them
                                      * again under the registry lock, registry_reserve) */
        size_t n_leases;
        unsigned live_children;      /* the spawner's children now */
        profile_set *profiles;       /* the parent's snapshot, parsed (spawn_profiles); NULL:
                                      * parsed for this request */
        const char *runtime_dir;     /* the child's socket must fit sun_path */
} spawn_request;

/*
 * DESIGN §8 steps 1-3 for a spawner running manifest parent: validate the input, resolve
 * the profile from the parent's snapshot (or inherit), build the child manifest with the
 * delegated scope, and check depth and child limits. Touches nothing: on success *out is
 * the child's manifest and *ret_task its task; a refusal is one line for the model.
 */
/* The profile set of a spawner's snapshot (its manifest's "profiles"), for selectors. */
int spawn_profiles(profile_set **out, const json_t *parent, pod_error *err);
int spawn_prepare(json_t **out, const char **ret_task, const json_t *parent,
                  const spawn_request *req, pod_error *err);

/* ---- containment (contain.c): processes a pod leaves running, DESIGN §14 ----------------- */

#define POD_STRAGGLERS_LISTED 8     /* processes a report names; the rest are counted */
#define POD_CONTAIN_ROUNDS 200      /* walks and kills before the survivors are reported */
#define POD_CONTAIN_WALK_MAX 16384u /* descendants one walk looks at */

/* How often a pod reaps the orphans it adopted (contain_reaper_start). */
#define POD_REAP_INTERVAL_MS 20

/* Start, once per process, the thread that reaps adopted orphans as they die (a subreaper
 * would otherwise collect their zombies until its next kill). After confinement. */
void contain_reaper_start(void);

typedef struct pod_stragglers {
        unsigned killed; /* processes killed */
        unsigned left;   /* still alive after the last round */
        int error;       /* a walk that failed: negative errno; 0: none */
        unsigned n_listed;
        struct {
                pid_t pid;
                char comm[16]; /* printable characters only */
        } listed[POD_STRAGGLERS_LISTED];
} pod_stragglers;

/* Make this process a child subreaper (PR_SET_CHILD_SUBREAPER), so an orphaned descendant,
 * one that left its process group and double-forked included, becomes its child. Refused
 * where the kernel keeps no children lists in /proc, without which no walk finds them. */
int contain_self(pod_error *err);
/*
 * Kill (SIGKILL, in rounds, until none is left or POD_CONTAIN_ROUNDS have passed) every
 * descendant of this process but the processes in keep and their own descendants, and reap
 * the zombies that were orphans of this process. Adds what it did to *report (which the
 * caller zeroes). Returns 0, or a negative errno (also in report->error) when /proc cannot
 * be walked.
 */
int contain_kill(pod_stragglers *report, const pid_t *keep, size_t n_keep);

/*
 * A cgroup v2 subtree per pod, where the pod can have one (docs/sandbox.md, Containment):
 * pids.max and memory.max per pod from POD_PIDS_MAX and POD_MEMORY_MAX, each a number or
 * "max" (memory: bytes, or with K, M, G or T), where the controllers are there.
 */
#define POD_PIDS_MAX_DEFAULT "4096"
#define POD_MEMORY_MAX_DEFAULT "8G"
typedef struct pod_cgroup_limits {
        char pids[24], memory[24]; /* as written to pids.max and memory.max */
        bool set;                  /* either set by the operator */
} pod_cgroup_limits;
/* The limits from envp (unset or empty: the defaults); a one-line error on a bad value. */
int contain_limits_from_env(pod_cgroup_limits *ret, char *const *envp, pod_error *err);
/*
 * This pod's cgroup: a top-level pod makes one in its own cgroup and moves into its leaf
 * (before it confines itself); a child takes the one its spawner made (POD_CGROUP in envp).
 * Never fails: returns NULL, or why there is none or what it lacks (for the pod's stderr).
 */
const char *contain_cgroup_start(const char *name, bool top, const pod_cgroup_limits *lim,
                                 char *const *envp);
/* What the cgroups of earlier top-level pods killed outright held ("[killed ...]"), or NULL. */
const char *contain_cgroup_swept(void);
/* The pod's cgroup directory, or NULL: it has none. */
const char *contain_cgroup_path(void);
/* Grant this pod's own sandbox (ruleset_fd) its cgroup, before it is applied. */
int contain_cgroup_grant_self(int ruleset_fd);
/*
 * A child's cgroup, made in this pod's, with the limits: *ret_procs is its leaf's cgroup.procs
 * (write-only, for proc_plan.cgroup_fd) and POD_CGROUP goes into *env; the child's sandbox
 * (ruleset_fd >= 0) is granted the cgroup. *ret_procs is -1 where this pod has none.
 */
int contain_cgroup_child(const char *name, int ruleset_fd, int *ret_procs, char ***env,
                         pod_error *err);
/* A child's lease returns: everything in its cgroup is killed (into *report), then removed. */
void contain_cgroup_end_child(const char *name, pod_stragglers *report);
/* The pod ends (after its children): what its cgroup still holds is killed; a top-level pod
 * leaves its cgroup and removes it. */
void contain_cgroup_end(pod_stragglers *report);
/* One line per fact of a report ("[killed 2 processes left running by <by>: pid 12 (sleep),
 * ...]"), nothing when there is none. */
void contain_describe(pod_buf *b, const pod_stragglers *s, const char *by);

/* ---- a pod's children (tree.c, DESIGN §7, §8, §12) -------------------------------------- */

typedef struct tree_opts {
        const json_t *manifest;     /* the spawner's (borrowed for the tree's life) */
        const char *name;           /* the spawner's name */
        const char *sock;           /* the spawner's socket: children report there */
        const char *run_dir;        /* each child's run dir is made below it */
        const char *exe;            /* the pod executable */
        const char *runtime_dir;
        char *const *envp;          /* the spawner's environment: a child gets a curated part */
        pod_registry *reg;
        json_t *entry;              /* the spawner's registry entry; children are recorded in it */
        const volatile sig_atomic_t *cancel; /* stops WaitPod */
} tree_opts;

int tree_new(pod_tree **out, const tree_opts *o, pod_error *err);
/* Stop every child still running: shutdown, a grace period, then SIGKILL; entries removed. */
void tree_stop_all(pod_tree *t);
/* tree_stop_all, then free. The socket must be stopped first (its hooks use the tree). */
pod_tree *tree_free(pod_tree *t);
/* SpawnPod, SendToPod, WaitPod, ReadPodOutput, ListPods, StopPod. */
int tree_tool(tool_result *out, pod_tree *t, const char *tool, const json_t *in);
/* Hooks for the socket (server_hooks) and the file tools (pod_fs.leased). */
bool tree_callback_owner(pod_tree *t, const char *token, char owner[POD_NAME_BUF]);
int tree_child_event(pod_tree *t, const char *child, const json_t *params, pod_error *err);
bool tree_leased(pod_tree *t, const char *real, char *holder);
size_t tree_live_children(pod_tree *t);
/* The shell the Bash tool started ahead (0: none): kept when the tree kills stragglers. */
void tree_note_shell(pod_tree *t, pid_t pid);
/* contain_kill for this pod, keeping its live children and the shell started ahead. */
int tree_contain(pod_tree *t, pod_stragglers *report);
/* The write rules of the live children (their leases), copied; free with lease_list_free. */
int tree_lease_list(pod_tree *t, scope_lease **out, size_t *ret_n);
void lease_list_free(scope_lease *l, size_t n);

/* ---- starting processes (proc.c) ---------------------------------------------------------- */

#define PROC_FDS_MAX 8u

typedef struct proc_plan {
        const char *path;     /* the executable */
        char *const *argv;
        char *const *envp;
        const char *cwd;      /* NULL: the parent's */
        int fds[PROC_FDS_MAX]; /* become descriptors 0..n_fds-1; every other one is closed */
        size_t n_fds;
        bool new_session;     /* setsid: no controlling terminal, its own process group */
        int pdeathsig;        /* 0, or the signal the child gets when its parent thread dies */
        /*
         * Run in the child just before execve, on memory shared with the parent: it may only
         * make system calls on data prepared beforehand (no malloc, no locks). Returns 0 or
         * an errno value.
         */
        int (*confine)(void *ud);
        void *confine_ud;
        /* A close-on-exec descriptor the hook needs (>= PROC_FDS_MAX), spared by the closing
         * of descriptors until exec; 0: none. */
        int confine_fd;
        /* When set: the child's start time (field 22 of /proc/<pid>/stat, 0 if unknown),
         * read by the child itself before exec. */
        unsigned long long *start_time;
        /* > 0: a cgroup.procs the child writes "0" to first, to start in that cgroup. */
        int cgroup_fd;
} proc_plan;

/* Field 22 (start time) of a /proc/<pid>/stat text; no allocation, safe before exec. */
int proc_stat_start_time(const char *stat, unsigned long long *ret);

/* ---- the kernel sandbox (sandbox.c): Landlock + seccomp, DESIGN §14 --------------------- */

/*
 * The allow rules of a pod's scope, each opened once (O_PATH, no symlinks followed) when the
 * pod starts; every later ruleset is built from these descriptors (docs/sandbox.md).
 */
typedef struct sandbox_roots sandbox_roots;

int sandbox_roots_open(sandbox_roots **out, const pod_scope *scope, pod_error *err);
sandbox_roots *sandbox_roots_free(sandbox_roots *roots);
static inline void sandbox_roots_freep(sandbox_roots **r) {
        *r = sandbox_roots_free(*r);
}

/* What a sandbox allows; every path absolute and canonical. */
typedef struct sandbox_spec {
        const pod_scope *scope;        /* allow rules; deny rules become holes */
        /* The descriptors every allow rule is opened beneath: the pod's own roots (a Bash
         * command) or its spawner's (a child). NULL: the scope's rules are opened now. */
        const sandbox_roots *roots;
        /* A rule whose path no longer names what it named at the start is dropped and
         * reported here, a line each; without notes, it refuses the sandbox instead. */
        pod_buf *notes;
        int tmp_fd;                    /* > 0: a directory opened once, read and write (TMPDIR) */
        const scope_lease *leases;     /* holes too: read only there (Bash under a child's lease) */
        size_t n_leases;
        const char *const *own_write;  /* NULL-terminated: the pod's own entry, run dir, tmp */
        const char *const *own_read;   /* NULL-terminated */
        pod_network network;
        int model_port;                /* model-only: the one TCP port a pod may connect to */
        bool command;                  /* a Bash command: without full network, no socket but
                                          stream socketpairs (docs/sandbox.md) */
        bool delegate;                 /* a delegate CLI and its processes: without full
                                          network, no Unix socket but stream socketpairs; TCP
                                          as the network allows (docs/sandbox.md) */
        const char *runtime_dir;       /* a pod: its registry, to make and write entries in */
        unsigned nproc;                /* RLIMIT_NPROC (0: POD_NPROC_MAX); never raises one */
        uint64_t fsize;                /* RLIMIT_FSIZE (0: left as it is); never raises one */
} sandbox_spec;

/* Processes a confined pod or command may have its user run (RLIMIT_NPROC, which the
 * kernel counts per user and does not apply to root: docs/sandbox.md). */
#define POD_NPROC_MAX 4096u

typedef struct pod_sandbox {
        int abi;                       /* the Landlock ABI in use */
        int ruleset_fd;                /* close-on-exec, >= 64 */
        struct sock_fprog prog;        /* the seccomp filter */
        struct sock_filter *filter;
        unsigned long nproc;           /* the RLIMIT_NPROC to set */
        uint64_t fsize;                /* the RLIMIT_FSIZE to set; 0: none */
} pod_sandbox;

/* The kernel's Landlock ABI, 0 without Landlock (POD_SANDBOX_ABI=N, a test hook, lowers it). */
int sandbox_abi(void);
/* Build the ruleset and the filter; without Landlock, a refusal that says so. */
int sandbox_prepare(pod_sandbox *sb, const sandbox_spec *spec, pod_error *err);
/*
 * no_new_privs, every capability dropped (root made ordinary by locked securebits), the
 * process limit, Landlock, seccomp (unless inherited: sandbox_adopted), in that order.
 * Makes only system calls, so it may run between clone and exec. Returns 0 or an errno
 * value.
 */
int sandbox_apply(const pod_sandbox *sb);
/* sandbox_apply for proc_plan.confine (ud: the pod_sandbox). */
int sandbox_confine_hook(void *ud);
void sandbox_done(pod_sandbox *sb);
/* The TCP port of manifest m's model endpoint; 0 when it has none. */
int sandbox_model_port(const json_t *m);
/*
 * The sandbox of a pod process running manifest m (DESIGN §14): its scope, its run dir,
 * the pod executable (to start children), its registry (entries made and written, none
 * read), the network of the manifest (the model's port for model-only). Its scope's rules
 * are opened beneath within (the spawner's roots; NULL: opened now, as the pod starts), and
 * one that no longer resolves there without a symlink refuses the sandbox.
 */
int sandbox_pod(pod_sandbox *sb, const json_t *m, const sandbox_roots *within,
                const char *run_dir, const char *exe, const char *runtime_dir, pod_error *err);
/* sandbox_pod applied to this process, which must run one thread (a top-level pod). */
int sandbox_confine_self(const json_t *m, const char *run_dir, const char *exe,
                         const char *runtime_dir, pod_error *err);
/*
 * A child pod whose manifest is sandboxed: its spawner loaded the pod filter before exec (or
 * had it and passed it on), so its own children inherit it. Noted when the kernel confirms
 * a filter is on this process; sandbox_prepare then loads no second copy for a pod.
 */
void sandbox_adopted(void);

/* Start a process (clone with CLONE_VM|CLONE_VFORK, then exec). */
int proc_spawn(pid_t *ret_pid, const proc_plan *p, pod_error *err);
/* Wait up to timeout_ms for pid to exit; 1: reaped (*ret_status), 0: still running. */
int proc_wait(pid_t pid, int timeout_ms, int *ret_status);
/* SIGTERM, up to grace_ms for it to exit, then SIGKILL; always reaps. */
void proc_kill(pid_t pid, int grace_ms);
