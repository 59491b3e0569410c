/* SPDX-License-Identifier: MIT */
#pragma once

/* A running pod process, top-level (`pod run`) or child (`pod --adopt`): host.c. */

#include "cli.h"

typedef struct pod_host {
        const json_t *manifest;   /* validated and inlined; borrowed */
        char *const *envp;        /* children get a curated part of it */
        bool json;                /* events as NDJSON on stdout */
        const char *name;
        char *runtime_dir, *run_dir, *transcript_path, *sock;
        char *exe;                /* children's executable; NULL: this one (freed by host_stop) */
        uint64_t run_dir_cap;     /* bytes, from POD_RUN_DIR_CAP_MIB (docs/running.md) */
        char token[POD_TOKEN_HEX + 1];
        const char *callback;     /* a child's callback token (in entry) */
        char *parent_sock;        /* a child's spawner's socket, for its reports (handed over
                                   * with the entry: nothing of it in argv, docs/sandbox.md) */
        pid_t parent_pid;         /* a child's spawner, the only process its reports go to */
        int entry_fd;             /* a child's registry entry, from its spawner (--entry-fd) */
        FILE *transcript;
        pod_registry *reg;
        json_t *entry;
        bool reserved;
        pod_server *server;
        pod_tree *tree;
        pod_worker *worker;
        pod_buf prompt, spawn_desc;
        json_t *pending;          /* the tool call whose result the progress line awaits */
} pod_host;

/* The control block the socket, the worker and the signal handlers share. */
pod_control *host_control(void);
/* SIGINT, SIGTERM and SIGHUP cancel the pod and wake host_wait; SIGPIPE is ignored. */
void host_signals(void);
/* Sleep until the socket or a signal has news, or timeout_s passes (-ETIMEDOUT). */
int host_wait(int timeout_s);

/* A top-level pod: run dir under the data dir, reservation, socket, children. */
int host_start_top(pod_host *h, const pod_dirs *dirs, pod_error *err);
/* A child: its entry, reserved by the parent and handed over on entry_fd (a pod reads no
 * registry entry, docs/sandbox.md), gives its token, callback token and run dir. Its socket
 * listens on return; host_serve starts serving it. */
int host_start_child(pod_host *h, pod_error *err);
int host_serve(pod_host *h, pod_error *err);
int host_set_state(pod_host *h, const char *state, pod_error *err);
/* One turn of work; the conversation carries over to the next. */
int host_turn(pod_host *h, const char *task, char **ret_answer, pod_error *err);
/* result.json in the registry entry (temporary file + rename). */
void host_write_result(pod_host *h, const char *answer, const pod_error *err);
/* Stop the children, the socket and the worker; remove the entry when asked. */
void host_stop(pod_host *h, bool remove_entry);
