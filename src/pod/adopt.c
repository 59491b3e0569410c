/* SPDX-License-Identifier: MIT */
/*
 * A child pod (`pod --adopt`, DESIGN §8, §12, §13). The parent has reserved the registry
 * entry, written the child's token and callback token into it, and passes the manifest and
 * the entry, with the parent's socket for the child's reports, on inherited descriptors (a
 * pod reads no registry entry, not even its own, and keeps socket paths and tokens out of
 * its argv, which /proc shows to every process: docs/sandbox.md). The child validates the
 * manifest again, listens on its socket, reports ready (one byte on the ready descriptor,
 * its channel with the spawner, which then hands over the first task with `run` there; a
 * child_event without one), and waits for work: `run` gives it a task, `send` while idle
 * starts another turn. After each turn it writes result.json, then reports turn_end or
 * failed. It ends on shutdown, on a signal (its parent's death sends SIGTERM), when its
 * budget is exhausted (DESIGN §18), or after POD_IDLE_TIMEOUT_S seconds idle, stopping its
 * own children first and reporting exited. The other side of the handshake is tree.c; its
 * constants are pod.h's POD_ADOPT_*.
 */
#include <assert.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>

#include "pod.h"

#define IDLE_TIMEOUT_DEFAULT_S 600
#define IDLE_TIMEOUT_MAX_S 86400

/* The manifest, inline or from an inherited descriptor (closed after reading). */
static int read_config(json_t **out, const char *arg, pod_error *err) {
        _cleanup_free_ char *text = NULL;
        size_t len = 0;
        int fd, r;

        if (str_startswith(arg, "@fd:")) {
                if (str_to_int(arg + 4, &fd) < 0 || fd < 3)
                        return pod_error_set(err, -EINVAL,
                                             "--spawn-config-json %s: not a descriptor", arg);
                /* Read no more than manifest_parse takes. */
                r = fd_read_bounded(&text, &len, fd, POD_MANIFEST_MAX_BYTES);
                safe_close(fd);
                if (r == -EFBIG)
                        return pod_error_set(err, r,
                                             "--spawn-config-json %s: the manifest is over "
                                             "%u MiB",
                                             arg, POD_MANIFEST_MAX_BYTES >> 20);
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
                host_warn("POD_IDLE_TIMEOUT_S=%s is not a number of seconds from 1 to %d; using %d",
                          v, IDLE_TIMEOUT_MAX_S, IDLE_TIMEOUT_DEFAULT_S);
        return IDLE_TIMEOUT_DEFAULT_S;
}

/* child_event to the parent, acknowledged; params are consumed. Each carries the usage of
 * this pod's subtree so far (DESIGN §18). */
static bool report(pod_host *h, const char *kind, json_t *params) {
        static bool warned_usage; /* a parent gone: said once, not at every model call */
        json_t *res = NULL;
        pod_error err = { 0 };
        pod_usage sub;
        int r;

        if (!params)
                return false;
        json_object_set_new(params, "pod", json_string(h->name));
        json_object_set_new(params, "kind", json_string(kind));
        if (h->budget) {
                budget_usage(h->budget, NULL, &sub);
                json_object_set_new(params, "usage", usage_to_json(&sub));
        }
        r = ipc_call(&res, h->parent_sock, h->parent_pid, h->callback, "child_event", params, &err);
        json_decref(params);
        json_decref(res);
        if (r < 0 && (strcmp(kind, "usage") != 0 || !warned_usage))
                host_warn("pod '%s': reporting %s to the parent failed: %s", h->name, kind,
                          err.msg);
        warned_usage |= r < 0 && strcmp(kind, "usage") == 0;
        return r >= 0;
}

/* The subtree's usage changed (a model call, a child's report): the spawner hears of it. */
static void report_usage(void *ud) {
        report(ud, "usage", json_object());
}

/* The next task: one handed over by run or send, or NULL when the pod should end. */
static char *next_task(pod_control *ctl, int timeout_s) {
        for (;;) {
                bool stop;
                char *task = control_take_task(ctl, &stop);
                if (stop || task)
                        return task;
                if (host_wait(timeout_s) == -ETIMEDOUT && control_idle(ctl)) {
                        host_warn("idle for %d s (POD_IDLE_TIMEOUT_S); exiting", timeout_s);
                        return NULL;
                }
        }
}

static void serve(pod_host *h) {
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
                turn = control_finish_turn(ctl, &idle);
                host_set_state(h, idle ? (answer ? "idle" : "failed") : "running", NULL);
                report(h, answer ? "turn_end" : "failed",
                       answer ? json_pack("{s:i, s:s, s:b}", "turn", turn, "result", answer, "idle",
                                          idle) :
                                json_pack("{s:i, s:s, s:b}", "turn", turn, "error", err.msg, "idle",
                                          idle));
                free(answer);
                /* Nothing is left to spend: the pod ends, and what it holds settles up. */
                if (err.code == -EDQUOT && budget_exhausted(h->budget, NULL, 0))
                        break;
        }
}

/*
 * A start that failed before ready: the reason goes to the spawner on the ready descriptor
 * too ('!' and the message), since a sandboxed spawner cannot read this pod's stderr.log.
 */
static int start_failed(const host_adopt_opts *o, const pod_error *err) {
        if (o->ready_fd >= 0) {
                char failed = POD_ADOPT_FAILED;
                size_t n = strnlen(err->msg, 1024);
                /* The spawner reads what there is. */
                if (write(o->ready_fd, &failed, 1) == 1)
                        (void) !write(o->ready_fd, err->msg, n);
        }
        return err->code < 0 ? err->code : -EINVAL;
}

/*
 * Ready is reported once: as a byte on the ready descriptor, the spawner's channel, on which
 * the spawner then hands over the task (run); or, without one, as a child_event, after which
 * the spawner calls run on the socket. Either way the socket's thread starts after the
 * spawner has what it waits for.
 */
static int report_ready(pod_host *h, const host_adopt_opts *o, pod_error *err) {
        char ready = POD_ADOPT_READY;
        int r = 0;

        if (o->ready_fd < 0) {
                r = host_serve(h, err);
                if (r >= 0)
                        report(h, "ready", json_object());
                fault("after-ready");
                return r;
        }
        if (write(o->ready_fd, &ready, 1) != 1)
                r = pod_error_set(err, -errno, "the spawner stopped waiting for this pod");
        fault("after-ready");
        if (r >= 0)
                r = control_first_task(host_control(), o->ready_fd, err);
        safe_close(o->ready_fd);
        if (r >= 0)
                r = host_serve(h, err);
        return r;
}

int host_adopt(const host_adopt_opts *o, char **envp, bool *ret_usage, pod_error *err) {
        const char *rt = env_get(envp, "POD_RUNTIME_DIR");
        pod_host h = { .envp = envp };
        json_t *m = NULL;
        bool acked;
        int r;

        assert(o && ret_usage);
        *ret_usage = false;
        if (read_config(&m, o->config, err) < 0) {
                *ret_usage = err->code != -ENOMEM;
                return start_failed(o, err);
        }
        fault("before-ready");
        host_signals();
        h.manifest = m;
        h.runtime_dir = rt ? strdup(rt) : NULL;
        if (!h.runtime_dir) {
                json_decref(m);
                *ret_usage = true;
                return pod_error_set(err, -EINVAL, "--adopt needs POD_RUNTIME_DIR");
        }
        h.entry_fd = o->entry_fd;
        h.parent_pid = getppid();
        r = host_start_child(&h, err);
        if (r < 0)
                r = start_failed(o, err);
        if (r >= 0) {
                budget_on_change(h.budget, report_usage, &h);
                control_accept_runs(host_control());
                r = report_ready(&h, o, err);
        }
        if (r < 0) {
                host_stop(&h, false);
                json_decref(m);
                return r;
        }
        serve(&h);
        tree_stop_all(h.tree); /* its own children end first */
        acked = report(&h, "exited", json_object());
        /* An unacknowledged result stays in the entry (result.json) until it is reaped. */
        host_stop(&h, acked);
        json_decref(m);
        return 0;
}
