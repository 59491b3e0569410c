/* SPDX-License-Identifier: MIT */
/*
 * `pod --adopt --spawn-config-json JSON|@fd:N --entry-fd N [--ready-fd N]`: the hidden mode a
 * child pod runs in (DESIGN §8, §12, §13). The parent has reserved the registry entry,
 * written the child's token and callback token into it, and passes the manifest and the
 * entry, with the parent's socket for the child's reports, on inherited descriptors (a pod
 * reads no registry entry, not even its own, and keeps socket paths and tokens out of its
 * argv, which /proc shows to every process: docs/sandbox.md). The child validates the
 * manifest again, listens on its socket, reports ready (one byte on the ready descriptor, its
 * channel with the spawner, which then hands over the first task with `run` there; a
 * child_event without one), and waits for work: `run` gives it a task, `send` while idle
 * starts another turn. After each turn it writes result.json, then reports turn_end or
 * failed. It ends on shutdown, on a signal (its parent's death sends SIGTERM), or after
 * POD_IDLE_TIMEOUT_S seconds idle, stopping its own children first and reporting exited.
 */
#include <signal.h>
#include <string.h>
#include <unistd.h>

#include "host.h"

#define IDLE_TIMEOUT_DEFAULT_S 600
#define IDLE_TIMEOUT_MAX_S 86400

typedef struct adopt_opts {
        const char *config;
        int ready_fd;
        int entry_fd;
} adopt_opts;

static int parse(adopt_opts *o, int argc, char **argv) {
        static const struct option longopts[] = {
                { "adopt", no_argument, NULL, 'a' },
                { "spawn-config-json", required_argument, NULL, 's' },
                { "ready-fd", required_argument, NULL, 'r' },
                { "entry-fd", required_argument, NULL, 'e' },
                {},
        };
        int c;

        optind = 1;
        opterr = 0;
        while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
                if (c == 's')
                        o->config = optarg;
                else if (c == 'r' && str_to_int(optarg, &o->ready_fd) < 0)
                        return cli_fail(EXIT_USAGE, "--ready-fd needs a descriptor number");
                else if (c == 'e' && str_to_int(optarg, &o->entry_fd) < 0)
                        return cli_fail(EXIT_USAGE, "--entry-fd needs a descriptor number");
                else if (c == '?')
                        return cli_fail(EXIT_USAGE, "--adopt: unknown or incomplete option '%s'",
                                        argv[optind - 1]);
        }
        if (!o->config || o->entry_fd < 3 || optind != argc)
                return cli_fail(EXIT_USAGE, "--adopt is for pods started by SpawnPod: it needs "
                                            "--spawn-config-json JSON|@fd:N and --entry-fd N");
        return 0;
}

/* The manifest, inline or from an inherited descriptor (closed after reading). */
static int read_config(json_t **out, const char *arg, pod_error *err) {
        _cleanup_free_ char *text = NULL;
        size_t len = 0;
        int fd, r;

        if (str_startswith(arg, "@fd:")) {
                if (str_to_int(arg + 4, &fd) < 0 || fd < 3)
                        return pod_error_set(err, -EINVAL, "--spawn-config-json %s: not a descriptor",
                                             arg);
                /* Read no more than manifest_parse takes. */
                r = fd_read_bounded(&text, &len, fd, POD_MANIFEST_MAX_BYTES);
                safe_close(fd);
                if (r == -EFBIG)
                        return pod_error_set(err, r, "--spawn-config-json %s: the manifest is over "
                                             "%u MiB", arg, POD_MANIFEST_MAX_BYTES >> 20);
                if (r < 0)
                        return pod_error_set(err, r, "--spawn-config-json %s: %s", arg,
                                             strerror(-r));
        } else {
                text = strdup(arg);
                len = text ? strlen(text) : 0;
        }
        if (!text)
                return pod_error_oom(err);
        if (manifest_parse(out, text, len, err) < 0)
                return pod_error_prefix(err, "the manifest from the parent is refused: ");
        return 0;
}

/* A test hook: POD_FAULT=<point> makes the child kill itself there (SIGKILL). */
static void fault(const char *point) {
        const char *f = getenv("POD_FAULT");

        if (f && strcmp(f, point) == 0)
                raise(SIGKILL);
}

static int idle_timeout(void) {
        const char *v = getenv("POD_IDLE_TIMEOUT_S");
        int n;

        if (v && str_to_int(v, &n) == 0 && n >= 1 && n <= IDLE_TIMEOUT_MAX_S)
                return n;
        if (v)
                cli_warn("POD_IDLE_TIMEOUT_S=%s is not a number of seconds from 1 to %d; using %d",
                         v, IDLE_TIMEOUT_MAX_S, IDLE_TIMEOUT_DEFAULT_S);
        return IDLE_TIMEOUT_DEFAULT_S;
}

/* child_event to the parent, acknowledged; params are consumed. */
static bool report(pod_host *h, const char *kind, json_t *params) {
        json_t *res = NULL;
        pod_error err = { 0 };
        int r;

        if (!params)
                return false;
        json_object_set_new(params, "pod", json_string(h->name));
        json_object_set_new(params, "kind", json_string(kind));
        r = ipc_call(&res, h->parent_sock, h->parent_pid, h->callback, "child_event", params, &err);
        json_decref(params);
        json_decref(res);
        if (r < 0)
                cli_warn("pod '%s': reporting %s to the parent failed: %s", h->name, kind, err.msg);
        return r >= 0;
}

/* The next task: one handed over by run or send, or NULL when the pod should end. */
static char *next_task(pod_control *ctl, int timeout_s) {
        for (;;) {
                char *task = NULL;
                bool stop;
                pthread_mutex_lock(&ctl->lock);
                stop = ctl->shutdown;
                if (!stop && ctl->task) {
                        task = ctl->task;
                        ctl->task = NULL;
                        ctl->idle = false;
                }
                pthread_mutex_unlock(&ctl->lock);
                if (stop || task)
                        return task;
                if (host_wait(timeout_s) == -ETIMEDOUT) {
                        pthread_mutex_lock(&ctl->lock);
                        stop = ctl->idle && !ctl->task;
                        pthread_mutex_unlock(&ctl->lock);
                        if (stop) {
                                cli_warn("idle for %d s (POD_IDLE_TIMEOUT_S); exiting", timeout_s);
                                return NULL;
                        }
                }
        }
}

/* After a turn: messages that came too late for it make the next one at once. */
static unsigned finish_turn(pod_control *ctl, bool *ret_idle) {
        unsigned turn;

        pthread_mutex_lock(&ctl->lock);
        turn = ++ctl->turns_done;
        if (!ctl->shutdown)
                ctl->cancel = 0; /* `cancel` ends a turn, not the pod */
        if (!ctl->task && ctl->inbox && ctl->inbox[0]) {
                pod_buf b = { 0 };
                STRV_FOREACH(m, ctl->inbox)
                        buf_printf(&b, "%s%s", b.len ? "\n\n" : "", *m);
                ctl->task = buf_steal(&b);
                ctl->inbox = strv_free(ctl->inbox);
        }
        ctl->idle = !ctl->task;
        *ret_idle = ctl->idle;
        pthread_mutex_unlock(&ctl->lock);
        return turn;
}

static int serve(pod_host *h) {
        pod_control *ctl = host_control();
        int timeout = idle_timeout();
        pod_error err = { 0 };
        char *task;

        while ((task = next_task(ctl, timeout))) {
                char *answer = NULL;
                bool idle;
                unsigned turn;
                fault("after-run");
                host_set_state(h, "running", NULL);
                err = (pod_error){ 0 };
                if (host_turn(h, task, &answer, &err) < 0)
                        answer = NULL;
                free(task);
                host_write_result(h, answer, &err);
                turn = finish_turn(ctl, &idle);
                host_set_state(h, idle ? (answer ? "idle" : "failed") : "running", NULL);
                report(h, answer ? "turn_end" : "failed",
                       answer ? json_pack("{s:i, s:s, s:b}", "turn", turn, "result", answer, "idle",
                                          idle)
                              : json_pack("{s:i, s:s, s:b}", "turn", turn, "error", err.msg, "idle",
                                          idle));
                free(answer);
        }
        return EXIT_OK;
}

/*
 * A start that failed before ready: the reason goes to the spawner on the ready descriptor
 * too ('!' and the message), since a sandboxed spawner cannot read this pod's stderr.log.
 */
static int start_failed(const adopt_opts *o, int code, const char *msg) {
        if (o->ready_fd >= 0) {
                size_t n = strnlen(msg, 1024);
                /* The spawner reads what there is. */
                if (write(o->ready_fd, "!", 1) == 1)
                        (void) !write(o->ready_fd, msg, n);
        }
        return cli_fail(code, "%s", msg);
}

static int adopt_main(int argc, char **argv, char **envp) {
        adopt_opts o = { .ready_fd = -1, .entry_fd = -1 };
        json_t *m = NULL;
        pod_host h = { .envp = envp };
        pod_error err = { 0 };
        const char *rt = env_get(envp, "POD_RUNTIME_DIR");
        bool acked;
        int r;

        r = parse(&o, argc, argv);
        if (r != 0)
                return r;
        if (read_config(&m, o.config, &err) < 0)
                return start_failed(&o, err.code == -ENOMEM ? EXIT_RUNTIME : EXIT_USAGE, err.msg);
        fault("before-ready");
        host_signals();
        h.manifest = m;
        h.runtime_dir = rt ? strdup(rt) : NULL;
        if (!h.runtime_dir) {
                json_decref(m);
                return cli_fail(EXIT_USAGE, "--adopt needs POD_RUNTIME_DIR");
        }
        h.entry_fd = o.entry_fd;
        h.parent_pid = getppid();
        if (host_start_child(&h, &err) < 0) {
                start_failed(&o, EXIT_RUNTIME, err.msg);
                host_stop(&h, false);
                json_decref(m);
                return EXIT_RUNTIME;
        }
        pthread_mutex_lock(&host_control()->lock);
        host_control()->accepts_run = true;
        host_control()->idle = true;
        pthread_mutex_unlock(&host_control()->lock);
        /* Ready is reported once: as a byte on the ready descriptor, the spawner's channel,
         * on which the spawner then hands over the task (run); or, without one, as a
         * child_event, after which the spawner calls run on the socket. Either way the
         * socket's thread starts after the spawner has what it waits for. */
        if (o.ready_fd < 0) {
                r = host_serve(&h, &err);
                if (r >= 0)
                        report(&h, "ready", json_object());
                fault("after-ready");
        } else {
                r = 0;
                if (write(o.ready_fd, "R", 1) != 1)
                        r = pod_error_set(&err, -errno, "the spawner stopped waiting for this pod");
                fault("after-ready");
                if (r >= 0)
                        r = control_first_task(host_control(), o.ready_fd, &err);
                o.ready_fd = safe_close(o.ready_fd);
                if (r >= 0)
                        r = host_serve(&h, &err);
        }
        if (r < 0) {
                cli_fail(EXIT_RUNTIME, "%s", err.msg);
                host_stop(&h, false);
                json_decref(m);
                return EXIT_RUNTIME;
        }
        r = serve(&h);
        tree_stop_all(h.tree); /* its own children end first */
        acked = report(&h, "exited", json_object());
        /* An unacknowledged result stays in the entry (result.json) until it is reaped. */
        host_stop(&h, acked);
        json_decref(m);
        return r;
}

const cli_command cmd_adopt = {
        .name = "--adopt",
        .summary = NULL,
        .run = adopt_main,
};
