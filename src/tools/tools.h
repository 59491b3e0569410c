/* SPDX-License-Identifier: MIT */
#pragma once

/*
 * tools: what an agent uses on its files (DESIGN §12): scoped file access, Read, Write,
 * Edit, Glob, Grep and Bash, each confined to the pod's scope in-process: paths are opened
 * beneath the directory of the rule that grants them, with openat2(RESOLVE_BENEATH |
 * RESOLVE_NO_MAGICLINKS), and what was actually opened is checked against the scope again,
 * so neither a symlink nor ".." can lead a tool outside it. Bash commands run in the kernel
 * sandbox (src/sandbox). The pod tools (SpawnPod, ...) are added from above (tools_add).
 */

#include <jansson.h>
#include <signal.h>

#include "base/base.h"
#include "manifest/manifest.h"

#define POD_READ_MAX_BYTES (256u * 1024u) /* text a Read returns at most */
#define POD_READ_DEFAULT_LINES 2000u /* lines a Read returns by default */
#define POD_READ_LINE_MAX 2000u /* characters kept of one line */
#define POD_FILE_MAX_BYTES (16u * 1024u * 1024u) /* files Read, Edit and Grep open */
#define POD_WRITE_MAX_BYTES (4u * 1024u * 1024u) /* content of one Write or Edit */
#define POD_TOOL_INPUT_MAX_BYTES (8u * 1024u * 1024u) /* one tool call's input */
#define POD_GLOB_MAX_RESULTS 1000u
#define POD_GREP_MAX_LINES 500u
#define POD_WALK_MAX_ENTRIES 200000u /* directory entries one Glob/Grep visits */
#define POD_WALK_MAX_DEPTH 64u
#define POD_SEARCH_PATTERN_MAX 4096u /* bytes of a Glob or Grep pattern, or glob */
/* One Glob or Grep call's wall-clock budget, within what is left of the pod's timeout_s.
 * POD_TOOL_DEADLINE_MS (a test hook) can only lower it. */
#define POD_SEARCH_DEADLINE_S 30
#define POD_GREP_MATCH_LIMIT 1000000u /* PCRE2 backtracking steps per start */
#define POD_GREP_DEPTH_LIMIT 100000u /* PCRE2 nested backtracking depth */
#define POD_GREP_HEAP_LIMIT_KIB 16384u /* PCRE2 backtracking memory of one match */
#define POD_GREP_COSTLY_NAMED 10u /* costly lines named in a result */
#define POD_BASH_DEFAULT_TIMEOUT_S 120
#define POD_BASH_MAX_TIMEOUT_S 600
#define POD_BASH_OUTPUT_MAX (30u * 1024u) /* output returned to the model */

/* ---- scoped file access (fsaccess.c) ---------------------------------------------------- */

typedef struct pod_fs {
        pod_scope scope; /* the pod's effective scope */
        char *cwd; /* absolute */
        char *pod_name; /* for messages */
        /* Is real under a child's write lease? (holder, when not NULL, gets its name) */
        bool (*leased)(void *ud, const char *real, char *holder);
        void *leased_ud;
} pod_fs;

int fs_init(
        pod_fs *fs, const pod_scope *scope, const char *cwd, const char *pod_name, pod_error *err);
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
int fs_open_read(int *ret_fd,
                 char **ret_real,
                 const pod_fs *fs,
                 const char *path,
                 int flags,
                 pod_error *err);
/* Open (creating when missing) a regular file for writing; nothing is truncated. */
int fs_open_write(int *ret_fd,
                  char **ret_real,
                  const pod_fs *fs,
                  const char *path,
                  bool create_dirs,
                  pod_error *err);
/* Effective access at a canonical path. */
pod_access fs_access(const pod_fs *fs, const char *real);

/* ---- tools (tools.c and tool-*.c) -------------------------------------------------------- */

typedef struct pod_tools pod_tools;

typedef struct tool_result {
        char *text; /* what the model reads */
        bool is_error; /* the call failed; text says why */
} tool_result;

/*
 * Tools for a pod running manifest m. output_dir (may be NULL) receives the full output
 * of each Bash command.
 */
int tools_new(pod_tools **out, const manifest_view *v, const char *output_dir, pod_error *err);
pod_tools *tools_free(pod_tools *t);
static inline void tools_freep(pod_tools **t) {
        tools_free(*t);
}
/* Run one call. A tool's failure is a result with is_error; < 0 only when memory runs out. */
int tools_call(tool_result *out, pod_tools *t, const char *name, const json_t *input);
void tool_result_done(tool_result *r);
/* A flag that, once set (by a signal handler), stops a running Bash command, Glob or Grep. */
void tools_set_cancel(pod_tools *t, const volatile sig_atomic_t *cancel);
/* When the pod's current task must end (mono_ms() time; 0: no limit): no tool call runs
 * past it. */
void tools_set_deadline(pod_tools *t, long long at_ms);
/*
 * What the tools need of the pod above them (its tree of children, src/pod), which this
 * module does not know: every hook may be NULL (no children).
 */
typedef struct tools_hooks {
        void *ud;
        /* Is real under a child's write lease? (holder, when not NULL, gets its name) */
        bool (*leased)(void *ud, const char *real, char *holder);
        /* The children's write leases now, copied; free with lease_list_free. */
        int (*lease_list)(void *ud, scope_lease **out, size_t *ret_n);
        /* The shell Bash started ahead for the next command (0: none), to be spared. */
        void (*note_shell)(void *ud, pid_t pid);
        /* Kill what the pod left running but its live children and that shell (without
         * this hook: contain_kill, keeping nothing). */
        int (*contain)(void *ud, pod_stragglers *report);
} tools_hooks;
void tools_set_hooks(pod_tools *t, const tools_hooks *hooks);

/*
 * A delegate's CLI (DESIGN §9), started as a long-running command of this pod is: in a new
 * session, killed when the pod dies, and unless POD_SANDBOX=off in a kernel sandbox built as
 * a Bash command's (the pod's scope from the descriptors opened at its start, its children's
 * current write leases read-only, its private TMPDIR) with the delegate's network rules
 * (docs/sandbox.md) and the paths and port listed here. Never the pod's registry entry or
 * run dir.
 */
typedef struct tools_proc {
        const char *path;
        char *const *argv;
        char *const *envp; /* TMPDIR is replaced by the pod's private one */
        const char *cwd; /* NULL: the pod's */
        int fds[3];
        const char *const *write_paths; /* NULL-terminated; read and write */
        const char *const *read_paths; /* NULL-terminated; read and execute */
        int port; /* model-only: the one TCP port it may connect to; 0: none */
} tools_proc;
int tools_spawn_delegate(pod_tools *t, const tools_proc *p, pid_t *ret_pid, pod_error *err);

/* A tool defined above this module (the pod tools), registered into a tool set. Its
 * description and input schema are resources/tools/<name>.json, like the built-in ones'. */
typedef struct tool_ext {
        const char *name;
        /* ud: what tools_add was given; name: this entry's (one run may serve several) */
        int (*run)(tool_result *out, pod_tools *t, void *ud, const char *name, const json_t *in);
} tool_ext;
/* Add the tools ext[0..n-1] (borrowed: static tables) to the set, after the built-in ones. */
void tools_add(pod_tools *t, const tool_ext *ext, size_t n, void *ud);
/* A tool's embedded spec (resources/tools/<name>.json): {name, description, input_schema};
 * NULL when there is none (or memory ran out). The caller owns it. */
json_t *tools_spec(const char *name);
/* The specs of the manifest's tools, in its order: the built-in ones and those of ext
 * (NULL: out of memory). */
json_t *tools_schemas(const json_t *m, const tool_ext *ext, size_t n_ext);

/* Fill a result: ok text, or an error (is_error) text. Return 0, or -ENOMEM. */
int tool_ok(tool_result *out, const char *fmt, ...) _printf_(2, 3);
int tool_fail(tool_result *out, const char *fmt, ...) _printf_(2, 3);
/* Take buf's contents as the ok result. */
int tool_ok_buf(tool_result *out, pod_buf *b);
/* Add a line per fact of s (processes killed, or outliving the kill) to a result. */
int tool_note_stragglers(tool_result *out, const pod_stragglers *s, const char *by);
/* A timeout of timeout_s, lowered to what is left of the task (at least 1 s). */
int tools_cap_timeout_s(const pod_tools *t, int timeout_s);

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
#define POD_BASH_COMMAND_MAX (64u * 1024u) /* one Bash command */
#define POD_TMP_MAX_ENTRIES 100000u /* more in TMPDIR: it is emptied */

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
