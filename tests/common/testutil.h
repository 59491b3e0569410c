/* SPDX-License-Identifier: MIT */
#pragma once

/*
 * Helpers for the test suites: temporary trees, files, and running the real pod binary in
 * a temporary HOME, config, data and runtime dir (never the developer's own).
 */

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

/* A fresh directory under $TMPDIR (or /tmp); abort()s on failure. Caller frees. */
char *tu_tmpdir(void);
/* tu_tmpdir() with symlinks resolved (as pod sees paths). Caller frees. */
char *tu_tmpdir_real(void);
/*
 * The entries of the "available profiles: a, b (default), ...;" list in a selector error,
 * each of which must appear in order as a "\n- <entry>" line of desc. Returns how many
 * matched, or -1 (and prints the missing one) on the first that does not.
 */
int tu_list_matches_description(const char *error_msg, const char *desc);
/* Remove a tree (no symlinks followed). */
void tu_rm_rf(const char *path);
/* Write a file, creating parent directories. */
void tu_write(const char *dir, const char *rel, const char *content);
void tu_write_n(const char *dir, const char *rel, const char *content, size_t n);
/* mkdir -p dir/rel */
void tu_mkdirs(const char *dir, const char *rel);
/* dir/rel, allocated. */
char *tu_path(const char *dir, const char *rel);
/* Read a whole file (NULL if missing). */
char *tu_read(const char *path);
/* Add project (made if missing; its real path) to config's trusted-projects. */
void tu_trust(const char *config, const char *project);
char *tu_read_at(const char *dir, const char *rel);
/* Number of '\n' in s. */
size_t tu_lines(const char *s);

typedef struct tu_env {
        char *root; /* everything lives below it */
        char *home; /* $HOME */
        char *config; /* $POD_CONFIG_DIR */
        char *data; /* $POD_DATA_DIR */
        char *runtime; /* $POD_RUNTIME_DIR */
        char *project; /* a project dir with .pod/profiles */
        const char *extra_env[8]; /* more "K=V" entries, NULL-terminated */
        unsigned run_as_uid; /* nonzero: drop to this uid before exec (root only) */
        const char *stdin_path; /* the file pod reads as stdin; NULL: /dev/null */
} tu_env;

typedef struct tu_result {
        int status; /* exit code, or 128 + signal */
        char *out;
        char *err;
} tu_result;

void tu_env_setup(tu_env *e);
void tu_env_teardown(tu_env *e);
/* Run the pod binary with args (NULL-terminated) in cwd. */
void tu_run_pod(tu_result *r, const tu_env *e, const char *cwd, const char *const *args);
void tu_result_done(tu_result *r);
/* Run the pod binary with a terminal as its stdin, stdout and stderr (all three in r->out),
 * input typed first. */
void tu_run_pod_tty(
        tu_result *r, const tu_env *e, const char *cwd, const char *const *args, const char *input);
/* Start the pod binary in the background; stdout and stderr go to out_path. */
pid_t tu_spawn_pod(const tu_env *e, const char *cwd, const char *const *args, const char *out_path);
/* Start argv (argv[0]: the program's path) in e's environment with stdin in_fd, stdout out_fd
 * and stderr to err_path. */
pid_t tu_spawn_with(const tu_env *e,
                    const char *cwd,
                    const char *const *argv,
                    int in_fd,
                    int out_fd,
                    const char *err_path);
/* Start the pod binary with pipes for stdin (*ret_in, to write) and stdout (*ret_out, to
 * read); stderr goes to err_path. */
pid_t tu_spawn_pod_pipes(const tu_env *e,
                         const char *cwd,
                         const char *const *args,
                         int *ret_in,
                         int *ret_out,
                         const char *err_path);
/* Wait for a child; its exit code, or 128 + signal. */
int tu_wait(pid_t pid);
/* Wait up to ms for path to exist. */
bool tu_wait_for_path(const char *path, int ms);
/* The kernel's Landlock ABI (0: none), for tests that need the sandbox to skip with a reason. */
int tu_landlock_abi(void);
/* A running (not zombie) process of process group pgid, waiting up to ms for the last to go
 * (a SIGKILL sent to a group lands in each member a moment later); 0 when none is left. */
pid_t tu_group_survivor(pid_t pgid, int ms);

/*
 * A Unix listener at addr (a path, or @NAME for an abstract socket) of type SOCK_STREAM or
 * SOCK_SEQPACKET, in a process of its own that answers each connection's first message with
 * "pong" and is gone within a minute in any case. Each connection it accepts writes a byte
 * to *ret_seen (read with tu_unix_seen). Stop it with tu_unix_server_stop.
 */
pid_t tu_unix_server(const char *addr, int type, int *ret_seen);
void tu_unix_server_stop(pid_t pid, int seen);
/* Connections the server accepted since the last call (never waits). */
int tu_unix_seen(int seen);
/* A socket of type bound at addr (as tu_unix_server); for SOCK_DGRAM, a receiver. */
int tu_unix_bound(const char *addr, int type);
