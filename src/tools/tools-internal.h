/* SPDX-License-Identifier: MIT */
#pragma once

/* Shared by the tool implementations (tools.c, tool-*.c, fsaccess.c). */

#include "sandbox/sandbox.h"
#include "tools.h"

typedef struct warm_shell warm_shell;

struct pod_tools {
        pod_fs fs;
        char **tools; /* the manifest's tool set */
        char **read_paths; /* real paths Read (or written) in this pod: Edit needs one */
        char *output_dir; /* full Bash output goes here; NULL: not kept */
        char *api_key_env; /* never passed to commands */
        unsigned bash_runs;
        uint64_t run_dir_cap; /* bytes: the Bash logs and TMPDIR keep to their shares */
        uint64_t logs_used; /* what the Bash logs hold, each rounded up to whole blocks */
        char tmp_stuck[128]; /* why TMPDIR could not be emptied (no more commands); or "" */
        const volatile sig_atomic_t *cancel;
        tools_hooks hooks; /* the pod's tree, above this module; zero: none */
        const tool_ext *ext; /* tools added from above (tools_add) */
        size_t n_ext;
        void *ext_ud;
        warm_shell *warm; /* the next Bash command's shell, started ahead; or NULL */
        long long deadline_ms; /* the task's end (mono_ms()); 0: none */
        long long search_ms; /* a Glob or Grep call's budget */
        bool sandboxed; /* Bash commands run in a kernel sandbox (manifest "sandbox": on) */
        sandbox_roots *roots; /* the scope, opened when the pod started (sandboxed only) */
        int tmp_fd; /* the commands' TMPDIR, opened at the first command; or -EBADF */
        pod_network network;
};

/* Remember that the model has seen a file's content. */
int tools_note_read(pod_tools *t, const char *real);

/* The deadline (mono_ms()) of a call that may take budget_ms, within the task's. */
long long tools_call_deadline(const pod_tools *t, long long budget_ms);
/* The call must stop now: its deadline passed, or the pod was cancelled. */
bool tools_expired(const pod_tools *t, long long deadline);

/* Write all of data to fd from offset 0, truncating what follows. */
int tool_rewrite_fd(int fd, const char *data, size_t len);

int tool_read(tool_result *out, pod_tools *t, const json_t *in);
int tool_write(tool_result *out, pod_tools *t, const json_t *in);
int tool_edit(tool_result *out, pod_tools *t, const json_t *in);
int tool_glob(tool_result *out, pod_tools *t, const json_t *in);
int tool_grep(tool_result *out, pod_tools *t, const json_t *in);
int tool_bash(tool_result *out, pod_tools *t, const json_t *in);
/* Kill the shell started ahead for the next command, if any. */
void tools_drop_warm_shell(pod_tools *t);
