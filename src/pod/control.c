/* SPDX-License-Identifier: MIT */
/*
 * A pod's control state (DESIGN §12): what its socket, its worker and its signal handlers
 * share, and the methods of its socket (status, send, run, cancel, shutdown, child_event)
 * served by src/rpc. A child's first task arrives on its spawner's channel instead
 * (control_first_task).
 */
#include <assert.h>
#include <semaphore.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "pod.h"

struct pod_control {
        pthread_mutex_t lock;
        char state[16]; /* starting, running, idle, done, failed */
        unsigned turns;
        char **inbox; /* messages from `send`, taken by the worker between turns */
        bool shutdown; /* `shutdown` was called */
        volatile sig_atomic_t cancel; /* `cancel`, `shutdown` or a signal */
        /* A pod that waits for work (a child): `run`, or `send` while idle, sets task. */
        bool accepts_run;
        bool idle;
        char *task;
        unsigned turns_done; /* tasks (turns of work) finished */
        sem_t *wake; /* posted on run, send, cancel and shutdown; may be NULL */
        control_hooks hooks; /* set by control_listen */
};

int control_new(pod_control **out, pod_error *err) {
        pod_control *ctl = calloc(1, sizeof(*ctl));

        assert(out);
        if (!ctl)
                return pod_error_oom(err);
        pthread_mutex_init(&ctl->lock, NULL);
        snprintf(ctl->state, sizeof(ctl->state), "%s", "starting");
        *out = ctl;
        return 0;
}

pod_control *control_free(pod_control *ctl) {
        if (!ctl)
                return NULL;
        pthread_mutex_destroy(&ctl->lock);
        strv_free(ctl->inbox);
        free(ctl->task);
        free(ctl);
        return NULL;
}

void control_set_wake(pod_control *ctl, sem_t *sem) {
        ctl->wake = sem;
}

void control_interrupt(pod_control *ctl) {
        ctl->cancel = 1;
        ctl->shutdown = 1;
        if (ctl->wake)
                sem_post(ctl->wake);
}

void control_cancel(pod_control *ctl) {
        pthread_mutex_lock(&ctl->lock);
        ctl->cancel = 1;
        pthread_mutex_unlock(&ctl->lock);
        if (ctl->wake)
                sem_post(ctl->wake);
}

const volatile sig_atomic_t *control_cancel_flag(pod_control *ctl) {
        return &ctl->cancel;
}

bool control_shutting_down(pod_control *ctl) {
        bool v;

        pthread_mutex_lock(&ctl->lock);
        v = ctl->shutdown;
        pthread_mutex_unlock(&ctl->lock);
        return v;
}

void control_set_turns(pod_control *ctl, unsigned turns) {
        pthread_mutex_lock(&ctl->lock);
        ctl->turns = turns;
        pthread_mutex_unlock(&ctl->lock);
}

void control_accept_runs(pod_control *ctl) {
        pthread_mutex_lock(&ctl->lock);
        ctl->accepts_run = true;
        ctl->idle = true;
        pthread_mutex_unlock(&ctl->lock);
}

char *control_take_task(pod_control *ctl, bool *ret_stop) {
        char *task = NULL;

        pthread_mutex_lock(&ctl->lock);
        *ret_stop = ctl->shutdown;
        if (!ctl->shutdown && ctl->task) {
                task = ctl->task;
                ctl->task = NULL;
                ctl->idle = false;
        }
        pthread_mutex_unlock(&ctl->lock);
        return task;
}

bool control_idle(pod_control *ctl) {
        bool v;

        pthread_mutex_lock(&ctl->lock);
        v = ctl->idle && !ctl->task;
        pthread_mutex_unlock(&ctl->lock);
        return v;
}

unsigned control_finish_turn(pod_control *ctl, bool *ret_idle) {
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

char *control_take_message(pod_control *ctl) {
        char *m = NULL;
        size_t n;

        pthread_mutex_lock(&ctl->lock);
        n = strv_length(ctl->inbox);
        if (n > 0) {
                m = ctl->inbox[0];
                memmove(ctl->inbox, ctl->inbox + 1, n * sizeof(char *));
        }
        pthread_mutex_unlock(&ctl->lock);
        return m;
}

static void control_wake(pod_control *ctl) {
        if (ctl->wake)
                sem_post(ctl->wake);
}

void control_set_state(pod_control *ctl, const char *state) {
        pthread_mutex_lock(&ctl->lock);
        snprintf(ctl->state, sizeof(ctl->state), "%s", state);
        pthread_mutex_unlock(&ctl->lock);
}

/* ---- methods --------------------------------------------------------------------------- */

static void m_child_event(pod_control *ctl, rpc_conn *c, json_t *id, json_t *params) {
        const char *pod = json_string_value(json_object_get(params, "pod"));
        const char *kind = json_string_value(json_object_get(params, "kind"));
        const char *child = rpc_conn_caller(c);
        pod_error err = { 0 };

        if (!child[0] || !ctl->hooks.child_event)
                return rpc_conn_error(c, id, RPC_BAD_TOKEN,
                                      "child_event needs a child's callback token");
        if (!pod || strcmp(pod, child) != 0 || !kind)
                return rpc_conn_error(c, id, RPC_INVALID_PARAMS,
                                      "child_event needs {pod: <your own name>, kind, result?, "
                                      "error?}");
        if (ctl->hooks.child_event(ctl->hooks.ud, child, params, &err) < 0)
                return rpc_conn_error(c, id, RPC_INVALID_PARAMS, err.msg);
        rpc_conn_reply(c, id, json_pack("{s:b}", "acknowledged", 1));
}

/*
 * run {task}: a pod waiting for work takes it as its next turn (the worker is not woken
 * here). Returns 0 and the turn, or a JSON-RPC error code and why.
 */
static int take_run(pod_control *ctl, const json_t *params, unsigned *turn, const char **why) {
        const char *task = json_string_value(json_object_get(params, "task"));

        *why = "this pod is already working on its task; it takes a new one only when idle "
               "(pods that wait for work come with SpawnPod)";
        if (!ctl->accepts_run)
                return RPC_BUSY;
        *why = "run needs {task}: a non-empty string of at most 1 MiB";
        if (!task || !*task || json_string_length(json_object_get(params, "task")) > POD_TASK_MAX)
                return RPC_INVALID_PARAMS;
        pthread_mutex_lock(&ctl->lock);
        if (!ctl->idle || ctl->task) {
                pthread_mutex_unlock(&ctl->lock);
                *why = "the pod is working on a turn; use send to add a message";
                return RPC_BUSY;
        }
        ctl->task = strdup(task);
        ctl->idle = !ctl->task;
        *turn = ctl->turns_done + 1;
        pthread_mutex_unlock(&ctl->lock);
        *why = "out of memory";
        return ctl->task ? 0 : RPC_BUSY;
}

static void m_run(pod_control *ctl, rpc_conn *c, json_t *id, json_t *params) {
        unsigned turn = 0;
        const char *why;
        int code = take_run(ctl, params, &turn, &why);

        if (code)
                return rpc_conn_error(c, id, code, why);
        rpc_conn_wake_after(c);
        rpc_conn_reply(c, id, json_pack("{s:b, s:i}", "accepted", 1, "turn", (int) turn));
}

static void m_status(pod_control *ctl, rpc_conn *c, json_t *id) {
        pthread_mutex_lock(&ctl->lock);
        rpc_conn_reply(c, id,
                       json_pack("{s:s, s:s, s:i, s:i, s:i}", "pod", rpc_conn_server_name(c),
                                 "state", ctl->state, "turns", (int) ctl->turns, "pid",
                                 (int) getpid(), "queued_messages", (int) strv_length(ctl->inbox)));
        pthread_mutex_unlock(&ctl->lock);
}

static void m_send(pod_control *ctl, rpc_conn *c, json_t *id, json_t *params) {
        const char *msg = json_string_value(json_object_get(params, "message"));
        unsigned turn;
        int n;

        if (!msg || !*msg || json_string_length(json_object_get(params, "message")) > POD_TASK_MAX)
                return rpc_conn_error(c, id, RPC_INVALID_PARAMS,
                                      "send needs {message}: a non-empty string of at most 1 MiB");
        pthread_mutex_lock(&ctl->lock);
        turn = ctl->turns_done + 1;
        if (ctl->accepts_run && ctl->idle && !ctl->task) {
                /* A pod waiting for work takes the message as its next turn. */
                ctl->task = strdup(msg);
                ctl->idle = !ctl->task;
                n = ctl->task ? 0 : -1;
        } else {
                n = (int) strv_length(ctl->inbox);
                if (n < (int) POD_INBOX_MAX && strv_push(&ctl->inbox, msg) >= 0)
                        n++;
                else
                        n = -1;
        }
        pthread_mutex_unlock(&ctl->lock);
        if (n < 0)
                return rpc_conn_error(c, id, RPC_BUSY, "the pod's inbox is full");
        rpc_conn_wake_after(c);
        rpc_conn_reply(c, id, json_pack("{s:i, s:i}", "queued", n, "turn", (int) turn));
}

static void m_control(pod_control *ctl, rpc_conn *c, json_t *id, bool shutdown) {
        pthread_mutex_lock(&ctl->lock);
        ctl->cancel = 1;
        ctl->shutdown |= shutdown;
        pthread_mutex_unlock(&ctl->lock);
        rpc_conn_wake_after(c);
        rpc_conn_reply(c, id, json_pack("{s:b}", shutdown ? "shutting_down" : "cancelled", 1));
}

/* reconfigure {profiles}: the operator's (or the spawner's) new profile snapshot. */
static void m_reconfigure(pod_control *ctl, rpc_conn *c, json_t *id, json_t *params) {
        json_t *res = NULL;
        pod_error err = { 0 };

        if (!ctl->hooks.reconfigure)
                return rpc_conn_error(c, id, RPC_METHOD_NOT_FOUND,
                                      "this pod takes no profile snapshot");
        if (ctl->hooks.reconfigure(ctl->hooks.ud, params, &res, &err) < 0)
                return rpc_conn_error(c, id, RPC_INVALID_PARAMS, err.msg);
        rpc_conn_reply(c, id, res);
}

/* ---- the socket's methods ---------------------------------------------------------------- */

#define METHOD(fn, call)                                                    \
        static void fn(void *ud, rpc_conn *c, json_t *id, json_t *params) { \
                _unused_ pod_control *ctl = ud;                             \
                (void) params;                                              \
                call;                                                       \
        }
METHOD(do_child_event, m_child_event(ctl, c, id, params))
METHOD(do_status, m_status(ctl, c, id))
METHOD(do_send, m_send(ctl, c, id, params))
METHOD(do_run, m_run(ctl, c, id, params))
METHOD(do_cancel, m_control(ctl, c, id, false))
METHOD(do_shutdown, m_control(ctl, c, id, true))
METHOD(do_reconfigure, m_reconfigure(ctl, c, id, params))

static const rpc_method methods[] = {
        { "child_event", do_child_event, true }, /* the one a child's callback token permits */
        { "status", do_status, false },
        { "send", do_send, false },
        { "run", do_run, false },
        { "cancel", do_cancel, false },
        { "shutdown", do_shutdown, false },
        { "reconfigure", do_reconfigure, false },
};

static bool caller(void *ud, const char *token, char name[RPC_NAME_BUF]) {
        pod_control *ctl = ud;

        return ctl->hooks.callback_owner && ctl->hooks.callback_owner(ctl->hooks.ud, token, name);
}

static void wake(void *ud) {
        control_wake(ud);
}

int control_listen(pod_server **out,
                   const char *sock_path,
                   const char *token,
                   const char *name,
                   pod_control *ctl,
                   const control_hooks *hooks,
                   pod_error *err) {
        server_opts opts = { .ud = ctl,
                             .methods = methods,
                             .n_methods = POD_ARRAY_SIZE(methods),
                             .caller = caller,
                             .caller_refused = "a child's callback token permits only child_event",
                             .wake = wake };

        assert(out && sock_path && token && ctl);
        ctl->hooks = hooks ? *hooks : (control_hooks){ 0 };
        return server_listen(out, sock_path, token, name, &opts, err);
}

int control_start(pod_server **out,
                  const char *sock_path,
                  const char *token,
                  const char *name,
                  pod_control *ctl,
                  const control_hooks *hooks,
                  pod_error *err) {
        pod_server *srv = NULL;
        int r = control_listen(&srv, sock_path, token, name, ctl, hooks, err);

        if (r >= 0 && (r = server_serve(srv, err)) < 0)
                server_stop(srv);
        if (r >= 0)
                *out = srv;
        return r;
}

/* ---- the spawner's channel (DESIGN §8, steps 6 and 7) ------------------------------------ */

int control_first_task(pod_control *ctl, int fd, pod_error *err) {
        long long deadline = mono_ms() + POD_IPC_TIMEOUT_S * 1000LL;
        pod_buf line = { 0 };
        size_t n = 0;
        rpc_frame req = { 0 };
        json_t *resp;
        const char *why = "the spawner's channel takes one run request";
        unsigned turn = 0;
        int code = RPC_INVALID_REQUEST, r;

        r = rpc_read_line(&line, fd, POD_FRAME_MAX, deadline, &n);
        if (r < 0) {
                buf_done(&line);
                if (r == -ETIMEDOUT)
                        return pod_error_set(err, r, "the spawner handed over no task within %d s",
                                             POD_IPC_TIMEOUT_S);
                return pod_error_set(err, r, "the spawner handed over no task: %s",
                                     r == -EPIPE            ? "it closed the channel" :
                                             r == -EMSGSIZE ? "its request is over 16 MiB" :
                                                              strerror(-r));
        }
        if (rpc_decode(&req, line.data, n) == 0 && strcmp(req.method, "run") == 0)
                code = take_run(ctl, req.params, &turn, &why);
        buf_done(&line);
        resp = code ? rpc_error(req.id, code, why) :
                      rpc_reply(req.id, json_pack("{s:b, s:i}", "accepted", 1, "turn", (int) turn));
        rpc_frame_done(&req);
        r = rpc_send_line(fd, resp, deadline); /* the answer first, then the worker */
        json_decref(resp);
        if (code)
                return pod_error_set(err, -EPROTO, "the spawner's first request was refused: %s",
                                     why);
        control_wake(ctl);
        return r < 0 ? pod_error_set(err, r, "answering the spawner: %s", strerror(-r)) : 0;
}
