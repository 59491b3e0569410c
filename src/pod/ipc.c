/* SPDX-License-Identifier: MIT */
/*
 * The control socket of a pod (DESIGN §12): a stream socket in the pod's registry entry,
 * JSON-RPC 2.0 with one JSON object per line (at most POD_FRAME_MAX bytes). Only clients
 * of the same uid are accepted, and every connection must begin with `hello {token}`.
 * One thread serves every connection with poll(); the worker shares state with it through
 * a pod_control. Nothing a client sends can crash the pod: a bad frame gets a JSON-RPC
 * error, an oversized one closes the connection. Nothing a client withholds can starve it:
 * connections that have not said hello are counted apart, with a quota per process and in
 * all, and a deadline (pod.h), so a token holder always gets in.
 */
#include <fcntl.h>
#include <poll.h>
#include <semaphore.h>
#include <stdio.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/un.h>

#include "pod.h"

typedef struct client {
        int fd;
        pid_t peer;         /* SO_PEERCRED: the process that connected */
        uint64_t serial;    /* the order of arrival */
        long long deadline; /* mono_ms by which hello must come; 0 once it came */
        bool hello, subscribed, closing;
        char child[POD_NAME_BUF]; /* hello with a child's callback token: child_event only */
        pod_buf in, out;
} client;

struct pod_server {
        pthread_t thread;
        int listen_fd, wake_fd;
        char *sock_path, *token, *name;
        pod_control *ctl;
        server_hooks hooks;
        pthread_mutex_t lock; /* guards clients[].out, events, stop */
        client *clients;      /* grown as they come, up to CLIENTS_CAP */
        size_t n_clients, cap_clients;
        size_t n_unauth; /* of them, those that have not said hello */
        uint64_t serial; /* connections accepted so far */
        int hello_ms;    /* POD_HELLO_TIMEOUT_MS, or the environment's */
        bool stop;
        bool wake_worker; /* after the replies go out: the caller hears first, then work begins */
};

#define CLIENTS_CAP (POD_CLIENTS_MAX + POD_UNAUTH_MAX)
/* Connections taken from the backlog per round: fewer than POD_UNAUTH_MAX, so that one round's
 * newcomers cannot push out a connection accepted in it before its hello is read. */
#define ACCEPT_BATCH 32
/* The kernel's queue of connections not accepted yet: long, so that a caller's connect() does
 * not wait behind a flood (the kernel caps it at net.core.somaxconn). */
#define LISTEN_BACKLOG 1024

/* ---- control --------------------------------------------------------------------------- */

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

/* The worker is woken once this round's replies are sent: woken first, it could take the CPU
 * before the reply leaves, and the caller (a spawner waiting on run) would wait for its turn. */
static void wake_after_reply(pod_server *s) {
        s->wake_worker = true;
}

void control_set_state(pod_control *ctl, const char *state) {
        pthread_mutex_lock(&ctl->lock);
        snprintf(ctl->state, sizeof(ctl->state), "%s", state);
        pthread_mutex_unlock(&ctl->lock);
}

/* ---- replies --------------------------------------------------------------------------- */

static void queue(pod_server *s, client *c, json_t *msg) {
        char *text = msg ? json_dumps(msg, JSON_COMPACT) : NULL;

        if (text) {
                buf_puts(&c->out, text);
                buf_puts(&c->out, "\n");
        }
        free(text);
        json_decref(msg);
        (void) s;
}

/* The one JSON-RPC 2.0 reply builder: to request id (borrowed; NULL: null), the result
 * (consumed) or, when code is nonzero, the error {code, message}. NULL when out of memory. */
static json_t *rpc_reply(json_t *id, json_t *result, int code, const char *msg) {
        if (!id)
                id = json_null();
        if (code) {
                json_decref(result);
                return json_pack("{s:s, s:O, s:{s:i, s:s}}", "jsonrpc", "2.0", "id", id, "error",
                                 "code", code, "message", msg);
        }
        return json_pack("{s:s, s:O, s:o}", "jsonrpc", "2.0", "id", id, "result", result);
}

static void reply(pod_server *s, client *c, json_t *id, json_t *result) {
        queue(s, c, rpc_reply(id, result, 0, NULL));
}

static void reply_error(pod_server *s, client *c, json_t *id, int code, const char *msg) {
        queue(s, c, rpc_reply(id, NULL, code, msg));
}

/* Compare without an early exit (tokens have a fixed, public length). */
static bool token_equal(const char *a, const char *b) {
        size_t n = strlen(b);
        unsigned char diff = 0;

        if (strlen(a) != n)
                return false;
        for (size_t i = 0; i < n; i++)
                diff |= (unsigned char) (a[i] ^ b[i]);
        return diff == 0;
}

/* ---- methods --------------------------------------------------------------------------- */

/* A token holder moves from the unauthenticated connections to the authenticated ones. */
static bool authenticate(pod_server *s, client *c, json_t *id) {
        if (c->hello)
                return true;
        if (s->n_clients - s->n_unauth >= POD_CLIENTS_MAX) {
                reply_error(s, c, id, RPC_BUSY, "the pod serves 256 connections already");
                c->closing = true;
                return false;
        }
        c->hello = true;
        c->deadline = 0;
        s->n_unauth--;
        return true;
}

static void m_hello(pod_server *s, client *c, json_t *id, json_t *params) {
        const char *token = json_string_value(json_object_get(params, "token"));
        char child[POD_NAME_BUF] = "";

        if (token && token_equal(token, s->token)) {
                if (authenticate(s, c, id))
                        reply(s, c, id, json_pack("{s:s, s:i}", "pod", s->name, "protocol", 1));
                return;
        }
        if (token && s->hooks.callback_owner &&
            s->hooks.callback_owner(s->hooks.ud, token, child)) {
                if (!authenticate(s, c, id))
                        return;
                memcpy(c->child, child, sizeof(child));
                reply(s, c, id, json_pack("{s:s, s:i, s:s}", "pod", s->name, "protocol", 1, "role",
                                          "child"));
                return;
        }
        reply_error(s, c, id, RPC_BAD_TOKEN, "bad token");
        c->closing = true;
}

static void m_child_event(pod_server *s, client *c, json_t *id, json_t *params) {
        const char *pod = json_string_value(json_object_get(params, "pod"));
        const char *kind = json_string_value(json_object_get(params, "kind"));
        pod_error err = { 0 };

        if (!c->child[0] || !s->hooks.child_event)
                return reply_error(s, c, id, RPC_BAD_TOKEN,
                                   "child_event needs a child's callback token");
        if (!pod || strcmp(pod, c->child) != 0 || !kind)
                return reply_error(s, c, id, RPC_INVALID_PARAMS,
                                   "child_event needs {pod: <your own name>, kind, result?, "
                                   "error?}");
        if (s->hooks.child_event(s->hooks.ud, c->child, params, &err) < 0)
                return reply_error(s, c, id, RPC_INVALID_PARAMS, err.msg);
        reply(s, c, id, json_pack("{s:b}", "acknowledged", 1));
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

static void m_run(pod_server *s, client *c, json_t *id, json_t *params) {
        unsigned turn = 0;
        const char *why;
        int code = take_run(s->ctl, params, &turn, &why);

        if (code)
                return reply_error(s, c, id, code, why);
        wake_after_reply(s);
        reply(s, c, id, json_pack("{s:b, s:i}", "accepted", 1, "turn", (int) turn));
}
static void m_status(pod_server *s, client *c, json_t *id) {
        pod_control *ctl = s->ctl;

        pthread_mutex_lock(&ctl->lock);
        reply(s, c, id, json_pack("{s:s, s:s, s:i, s:i, s:i}", "pod", s->name, "state",
                                  ctl->state, "turns", (int) ctl->turns, "pid", (int) getpid(),
                                  "queued_messages", (int) strv_length(ctl->inbox)));
        pthread_mutex_unlock(&ctl->lock);
}

static void m_send(pod_server *s, client *c, json_t *id, json_t *params) {
        const char *msg = json_string_value(json_object_get(params, "message"));
        pod_control *ctl = s->ctl;
        unsigned turn;
        int n;

        if (!msg || !*msg || json_string_length(json_object_get(params, "message")) > POD_TASK_MAX)
                return reply_error(s, c, id, RPC_INVALID_PARAMS,
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
                return reply_error(s, c, id, RPC_BUSY, "the pod's inbox is full");
        wake_after_reply(s);
        reply(s, c, id, json_pack("{s:i, s:i}", "queued", n, "turn", (int) turn));
}

static void m_control(pod_server *s, client *c, json_t *id, bool shutdown) {
        pthread_mutex_lock(&s->ctl->lock);
        s->ctl->cancel = 1;
        s->ctl->shutdown |= shutdown;
        pthread_mutex_unlock(&s->ctl->lock);
        wake_after_reply(s);
        reply(s, c, id, json_pack("{s:b}", shutdown ? "shutting_down" : "cancelled", 1));
}

static void dispatch(pod_server *s, client *c, const char *method, json_t *id, json_t *params) {
        if (strcmp(method, "hello") == 0)
                return m_hello(s, c, id, params);
        if (!c->hello) {
                reply_error(s, c, id, RPC_HELLO_FIRST, "call hello with the pod's token first");
                c->closing = true;
                return;
        }
        if (strcmp(method, "child_event") == 0)
                return m_child_event(s, c, id, params);
        if (c->child[0]) /* a callback token permits nothing else */
                return reply_error(s, c, id, RPC_BAD_TOKEN,
                                   "a child's callback token permits only child_event");
        if (strcmp(method, "status") == 0)
                return m_status(s, c, id);
        if (strcmp(method, "send") == 0)
                return m_send(s, c, id, params);
        if (strcmp(method, "run") == 0)
                return m_run(s, c, id, params);
        if (strcmp(method, "cancel") == 0 || strcmp(method, "shutdown") == 0)
                return m_control(s, c, id, method[0] == 's');
        if (strcmp(method, "subscribe") == 0) {
                c->subscribed = true;
                return reply(s, c, id, json_pack("{s:b}", "subscribed", 1));
        }
        if (strcmp(method, "reconfigure") == 0)
                return reply_error(s, c, id, RPC_METHOD_NOT_FOUND,
                                   "reconfigure is not supported by this version of pod");
        reply_error(s, c, id, RPC_METHOD_NOT_FOUND, "unknown method");
}

int rpc_decode(rpc_frame *out, const char *line, size_t len) {
        json_t *req = json_loadb(line, len, JSON_REJECT_DUPLICATES, NULL), *id, *params;
        const char *version, *method;

        *out = (rpc_frame) { 0 };
        if (!req)
                return RPC_PARSE_ERROR;
        id = json_object_get(req, "id");
        params = json_object_get(req, "params");
        version = json_string_value(json_object_get(req, "jsonrpc"));
        method = json_string_value(json_object_get(req, "method"));
        out->req = req;
        out->id = id;
        if (!json_is_object(req) || !version || strcmp(version, "2.0") != 0 || !method ||
            (params && !json_is_object(params)) ||
            (id && !json_is_string(id) && !json_is_integer(id)))
                return RPC_INVALID_REQUEST;
        out->method = method;
        out->params = params;
        return 0;
}

void rpc_frame_done(rpc_frame *f) {
        json_decref(f->req);
        *f = (rpc_frame) { 0 };
}

static void handle_line(pod_server *s, client *c, const char *line, size_t len) {
        rpc_frame f;
        int code = rpc_decode(&f, line, len);

        if (code == RPC_PARSE_ERROR) {
                reply_error(s, c, NULL, RPC_PARSE_ERROR, "parse error: not one JSON object");
                c->closing |= !c->hello;
                return;
        }
        if (code < 0)
                reply_error(s, c, f.id, RPC_INVALID_REQUEST,
                            "invalid request: expected {jsonrpc: \"2.0\", id, method, params?}");
        else
                dispatch(s, c, f.method, f.id, f.params);
        rpc_frame_done(&f);
        if (!c->hello) /* a connection without a token gets one line: its hello */
                c->closing = true;
}

/* ---- the loop -------------------------------------------------------------------------- */

static void drop_client(pod_server *s, size_t i) {
        if (!s->clients[i].hello)
                s->n_unauth--;
        safe_close(s->clients[i].fd);
        buf_done(&s->clients[i].in);
        buf_done(&s->clients[i].out);
        s->clients[i] = s->clients[--s->n_clients];
}

/* Drop a connection that never said hello, telling it why in one line if its buffer takes it
 * (best effort: it is not waited for). */
static void turn_away(pod_server *s, size_t i, const char *why) {
        client *c = &s->clients[i];

        buf_done(&c->out);
        reply_error(s, c, NULL, RPC_BUSY, why);
        if (c->out.len)
                (void) !send(c->fd, c->out.data, c->out.len, MSG_NOSIGNAL | MSG_DONTWAIT);
        drop_client(s, i);
}

/* How many connections from peer wait for hello, and the oldest of them (*ret_oldest). */
static size_t unauth_of(const pod_server *s, pid_t peer, size_t *ret_oldest) {
        size_t n = 0;

        for (size_t i = 0; i < s->n_clients; i++) {
                const client *c = &s->clients[i];
                if (c->hello || c->peer != peer)
                        continue;
                if (n++ == 0 || c->serial < s->clients[*ret_oldest].serial)
                        *ret_oldest = i;
        }
        return n;
}

/*
 * Room for one more connection from peer that has not said hello: past its own quota its
 * oldest goes; past the quota of all, the oldest of the process that holds the most (so a
 * process that floods the socket loses its own connections first, not a caller's).
 */
static void make_room(pod_server *s, pid_t peer) {
        size_t victim = 0, most = 0;

        if (unauth_of(s, peer, &victim) >= POD_UNAUTH_PER_PEER)
                return turn_away(s, victim, "too many connections from this process wait for "
                                            "hello; the oldest was closed");
        if (s->n_unauth < POD_UNAUTH_MAX)
                return;
        for (size_t i = 0; i < s->n_clients; i++) {
                size_t oldest = 0, n;
                if (s->clients[i].hello)
                        continue;
                n = unauth_of(s, s->clients[i].peer, &oldest);
                if (n > most ||
                    (n == most && s->clients[oldest].serial < s->clients[victim].serial)) {
                        most = n;
                        victim = oldest;
                }
        }
        turn_away(s, victim, "too many connections wait for hello; the oldest was closed");
}

static bool grow_clients(pod_server *s) {
        size_t cap = s->cap_clients ? 2 * s->cap_clients : 8;
        client *more;

        if (s->n_clients < s->cap_clients)
                return true;
        if (s->n_clients >= CLIENTS_CAP) /* not reached: make_room and authenticate bound it */
                return false;
        cap = cap < CLIENTS_CAP ? cap : CLIENTS_CAP;
        more = realloc(s->clients, cap * sizeof(*more));
        if (!more)
                return false;
        s->clients = more;
        s->cap_clients = cap;
        return true;
}

static bool serve_client(pod_server *s, client *c, bool readable);

/* One connection from the backlog; false when there is none. Its hello, often sent with
 * connect, is read at once. */
static bool accept_client(pod_server *s) {
        int fd = accept4(s->listen_fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
        struct ucred cred;
        socklen_t len = sizeof(cred);

        if (fd < 0)
                return errno == EINTR || errno == ECONNABORTED;
        if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) < 0 || cred.uid != getuid()) {
                close(fd);
                return true;
        }
        make_room(s, cred.pid);
        if (!grow_clients(s)) {
                close(fd);
                return true;
        }
        s->clients[s->n_clients++] = (client){ .fd = fd, .peer = cred.pid, .serial = ++s->serial,
                                               .deadline = mono_ms() + s->hello_ms };
        s->n_unauth++;
        if (!serve_client(s, &s->clients[s->n_clients - 1], true))
                drop_client(s, s->n_clients - 1);
        return true;
}

/* Read what is there; handle each complete line. false: drop the client. */
static bool read_client(pod_server *s, client *c) {
        char chunk[65536];
        ssize_t k = read(c->fd, chunk, sizeof(chunk));
        char *nl;

        if (k == 0 || (k < 0 && errno != EAGAIN && errno != EINTR))
                return false;
        if (k > 0)
                buf_append(&c->in, chunk, (size_t) k);
        while (c->in.len && !c->closing && (nl = memchr(c->in.data, '\n', c->in.len))) {
                size_t n = (size_t) (nl - c->in.data);
                handle_line(s, c, c->in.data, n);
                memmove(c->in.data, nl + 1, c->in.len - n - 1);
                c->in.len -= n + 1;
        }
        if (c->in.len > (c->hello ? POD_FRAME_MAX : POD_HELLO_FRAME_MAX) || c->in.oom) {
                reply_error(s, c, NULL, RPC_FRAME_TOO_LARGE,
                            c->hello ? "frame over 16 MiB" : "hello over 4 KiB");
                c->closing = true;
                c->in.len = 0;
        }
        return true;
}

static bool write_client(client *c) {
        while (c->out.len > 0) {
                ssize_t k = send(c->fd, c->out.data, c->out.len, MSG_NOSIGNAL);
                if (k < 0)
                        return errno == EAGAIN;
                memmove(c->out.data, c->out.data + k, c->out.len - (size_t) k);
                c->out.len -= (size_t) k;
        }
        return !c->closing;
}

/* Read (when readable) and write what is due. false: drop the client. */
static bool serve_client(pod_server *s, client *c, bool readable) {
        bool keep = true;

        if (readable)
                keep = read_client(s, c);
        if (keep && c->out.len)
                keep = write_client(c);
        else if (keep && c->closing)
                keep = false;
        if (s->wake_worker) {
                s->wake_worker = false;
                control_wake(s->ctl);
        }
        return keep;
}

/* Connections past their hello deadline are closed; returns the ms to the next deadline. */
static int sweep_deadlines(pod_server *s) {
        long long now = mono_ms(), next = now + 1000;

        for (size_t i = s->n_clients; i-- > 0;) {
                long long d = s->clients[i].deadline;
                if (s->clients[i].hello || d <= 0)
                        continue;
                if (d <= now)
                        turn_away(s, i, "no hello in time; closed");
                else if (d < next)
                        next = d;
        }
        return (int) (next - now);
}

static void poll_once(pod_server *s) {
        struct pollfd p[CLIENTS_CAP + 2];
        int timeout = sweep_deadlines(s);
        size_t n = s->n_clients;
        uint64_t v;

        p[0] = (struct pollfd){ s->listen_fd, POLLIN, 0 };
        p[1] = (struct pollfd){ s->wake_fd, POLLIN, 0 };
        for (size_t i = 0; i < n; i++)
                p[i + 2] = (struct pollfd){ s->clients[i].fd,
                                            POLLIN | (s->clients[i].out.len ? POLLOUT : 0), 0 };
        pthread_mutex_unlock(&s->lock);
        poll(p, n + 2, timeout);
        pthread_mutex_lock(&s->lock);
        if (p[1].revents & POLLIN && read(s->wake_fd, &v, sizeof(v)) < 0)
                return;
        /* Clients first: a hello that came is read before new connections can push it out. */
        for (size_t i = n; i-- > 0;)
                if (!serve_client(s, &s->clients[i],
                                  p[i + 2].revents & (POLLIN | POLLHUP | POLLERR)))
                        drop_client(s, i);
        for (int k = 0; k < ACCEPT_BATCH && p[0].revents & POLLIN; k++)
                if (!accept_client(s))
                        break;
}

static void *serve(void *arg) {
        pod_server *s = arg;

        pthread_mutex_lock(&s->lock);
        while (!s->stop)
                poll_once(s);
        while (s->n_clients > 0)
                drop_client(s, s->n_clients - 1);
        pthread_mutex_unlock(&s->lock);
        return NULL;
}

void server_publish(pod_server *s, const json_t *event) {
        json_t *note = json_pack("{s:s, s:s, s:O}", "jsonrpc", "2.0", "method", "event", "params",
                                 event);
        uint64_t one = 1;

        if (!s || !note)
                return;
        pthread_mutex_lock(&s->lock);
        for (size_t i = 0; i < s->n_clients; i++)
                if (s->clients[i].subscribed && s->clients[i].out.len < POD_FRAME_MAX)
                        queue(s, &s->clients[i], json_incref(note));
        pthread_mutex_unlock(&s->lock);
        json_decref(note);
        if (write(s->wake_fd, &one, sizeof(one)) < 0)
                return;
}

static int listen_on(const char *path, pod_error *err) {
        struct sockaddr_un addr = { .sun_family = AF_UNIX };
        int fd;

        if (strlen(path) >= sizeof(addr.sun_path))
                return pod_error_set(err, -ENAMETOOLONG,
                                     "socket path %s is over %zu bytes; use a shorter runtime dir "
                                     "or pod name",
                                     path, sizeof(addr.sun_path) - 1);
        memcpy(addr.sun_path, path, strlen(path) + 1);
        fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
        if (fd < 0 || bind(fd, (struct sockaddr *) &addr, sizeof(addr)) < 0 || listen(fd, LISTEN_BACKLOG) < 0) {
                int e = errno;
                safe_close(fd);
                return pod_error_set(err, -e, "%s: %s", path, strerror(e));
        }
        return fd;
}

/* POD_HELLO_TIMEOUT_MS, or the environment's (tests make it short). */
static int hello_timeout_ms(void) {
        const char *v = getenv("POD_HELLO_TIMEOUT_MS");
        int ms;

        if (v && str_to_int(v, &ms) == 0 && ms >= 100 && ms <= 60000)
                return ms;
        return POD_HELLO_TIMEOUT_MS;
}

int server_listen(pod_server **out, const char *sock_path, const char *token, const char *name,
                  pod_control *ctl, const server_hooks *hooks, pod_error *err) {
        pod_server *s = calloc(1, sizeof(*s));
        int r;

        if (!s || !(s->sock_path = strdup(sock_path)) || !(s->token = strdup(token)) ||
            !(s->name = strdup(name))) {
                server_stop(s);
                return pod_error_set(err, -ENOMEM, "out of memory");
        }
        s->ctl = ctl;
        if (hooks)
                s->hooks = *hooks;
        s->listen_fd = -EBADF;
        s->hello_ms = hello_timeout_ms();
        s->wake_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
        pthread_mutex_init(&s->lock, NULL);
        r = s->wake_fd < 0 ? pod_error_set(err, -errno, "eventfd: %s", strerror(errno))
                           : (s->listen_fd = listen_on(sock_path, err));
        if (r < 0) {
                server_stop(s);
                return r;
        }
        *out = s;
        return 0;
}

int server_serve(pod_server *s, pod_error *err) {
        pthread_attr_t a;
        int r;

        /* Its deepest frame holds one 64 KiB read: a quarter of a MiB is ample. */
        pthread_attr_init(&a);
        pthread_attr_setstacksize(&a, 256 * 1024);
        r = -pthread_create(&s->thread, &a, serve, s);
        pthread_attr_destroy(&a);
        if (r < 0) {
                s->thread = 0;
                return pod_error_set(err, r, "cannot start the socket thread: %s", strerror(-r));
        }
        return 0;
}

int server_start(pod_server **out, const char *sock_path, const char *token, const char *name,
                 pod_control *ctl, const server_hooks *hooks, pod_error *err) {
        int r = server_listen(out, sock_path, token, name, ctl, hooks, err);

        if (r >= 0 && (r = server_serve(*out, err)) < 0)
                *out = server_stop(*out);
        return r;
}

pod_server *server_stop(pod_server *s) {
        uint64_t one = 1;

        if (!s)
                return NULL;
        if (s->thread) {
                pthread_mutex_lock(&s->lock);
                s->stop = true;
                pthread_mutex_unlock(&s->lock);
                if (write(s->wake_fd, &one, sizeof(one)) < 0)
                        s->stop = true;
                pthread_join(s->thread, NULL);
        }
        if (s->listen_fd >= 0)
                unlink(s->sock_path);
        safe_close(s->listen_fd);
        safe_close(s->wake_fd);
        pthread_mutex_destroy(&s->lock);
        free(s->clients);
        free(s->sock_path);
        free(s->token);
        free(s->name);
        free(s);
        return NULL;
}

/* ---- the client side ------------------------------------------------------------------- */

/* One request, buffered; params is borrowed (NULL: {}). */
/* msg (consumed) as one line of b. */
static int json_line(pod_buf *b, json_t *msg) {
        char *text = msg ? json_dumps(msg, JSON_COMPACT) : NULL;
        int r = text && buf_puts(b, text) >= 0 && buf_puts(b, "\n") >= 0 ? 0 : -ENOMEM;

        free(text);
        json_decref(msg);
        return r;
}

/* A request; params is borrowed (NULL: {}). */
static json_t *request(int id, const char *method, json_t *params) {
        return json_pack("{s:s, s:i, s:s, s:o}", "jsonrpc", "2.0", "id", id, "method", method,
                         "params", params ? json_incref(params) : json_object());
}

/* A reply's result, or its error as err naming method (-EBUSY for RPC_BUSY, else -EPROTO). */
static int rpc_result(json_t **out, const char *line, size_t len, const char *method,
                      pod_error *err) {
        json_t *resp = json_loadb(line, len, 0, NULL), *e;

        e = json_object_get(resp, "error");
        if (!resp || e) {
                bool busy = json_integer_value(json_object_get(e, "code")) == RPC_BUSY;
                int r = pod_error_set(err, busy ? -EBUSY : -EPROTO, "%s: %s", method,
                                      e ? json_string_value(json_object_get(e, "message"))
                                        : "malformed reply");
                json_decref(resp);
                return r;
        }
        *out = json_incref(json_object_get(resp, "result"));
        json_decref(resp);
        return 0;
}

/* The next reply on fd, from in (what follows it stays there): at most POD_FRAME_MAX bytes,
 * by deadline, so a pod that never answers, or answers a byte at a time, ends the wait. */
static int rpc_recv(json_t **out, pod_buf *in, int fd, long long deadline, const char *method,
                    pod_error *err) {
        char *nl;
        size_t n;
        int r = 0;

        while (!(nl = in->len ? memchr(in->data, '\n', in->len) : NULL) && r >= 0)
                r = in->len > POD_FRAME_MAX ? -EMSGSIZE : fd_read_more(in, fd, deadline);
        if (!nl)
                return pod_error_set(err, r == -ECONNRESET ? -EPIPE : r, "%s",
                                     r == -ETIMEDOUT ? "the pod did not answer in time"
                                     : r == -EMSGSIZE ? "the pod's answer is over 16 MiB"
                                     : r == -ENOMEM   ? "out of memory"
                                                      : "the pod closed the connection");
        n = (size_t) (nl - in->data);
        r = rpc_result(out, in->data, n, method, err);
        memmove(in->data, nl + 1, in->len - n - 1);
        in->len -= n + 1;
        return r;
}

/*
 * Connected to sock_path, and served by process peer? A sandboxed pod may replace other
 * entries' sockets but read no token (docs/sandbox.md): a token goes only to the process
 * it belongs to. SO_PEERCRED names the process that listened on the socket.
 */
static int ipc_connect(const char *sock_path, pid_t peer, pod_error *err) {
        struct sockaddr_un addr = { .sun_family = AF_UNIX };
        struct ucred cred = { 0 };
        socklen_t len = sizeof(cred);
        int fd, r;

        if (strlen(sock_path) >= sizeof(addr.sun_path))
                return pod_error_set(err, -ENAMETOOLONG, "socket path is too long");
        memcpy(addr.sun_path, sock_path, strlen(sock_path) + 1);
        fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (fd >= 0) { /* a pod that stops answering does not hang its caller */
                struct timeval tv = { POD_IPC_TIMEOUT_S, 0 };
                setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
                setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
        }
        if (fd < 0 || connect(fd, (struct sockaddr *) &addr, sizeof(addr)) < 0) {
                r = pod_error_set(err, -errno, "cannot reach the pod at %s: %s", sock_path,
                                  strerror(errno));
                safe_close(fd);
                return r;
        }
        if (peer > 0 && (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) < 0 ||
                         cred.pid != peer)) {
                close(fd);
                return pod_error_set(err, -EPERM,
                                     "the socket %s is not served by the pod's process (pid %d) "
                                     "but by pid %d; nothing was sent to it",
                                     sock_path, (int) peer, (int) cred.pid);
        }
        return fd;
}

int ipc_verify(const char *sock_path, pid_t peer, pod_error *err) {
        int fd = ipc_connect(sock_path, peer, err);

        if (fd < 0)
                return fd;
        close(fd);
        return 0;
}

/*
 * One attempt: hello and the call go out together (the server handles a connection's lines
 * in order and reads nothing after a refused hello, so this saves a round trip), sent without
 * SIGPIPE (a pod that goes away is an error here, not the caller's death). *ret_again: the
 * pod answered hello "busy" and closed the connection, as it does to the oldest connections
 * waiting for hello under a flood of silent ones: nothing was done, the call may be made
 * again.
 */
static int call_once(json_t **out, int fd, const char *token, const char *method,
                     json_t *params, long long deadline, bool *ret_again, pod_error *err) {
        json_t *hello = json_pack("{s:s}", "token", token), *res = NULL;
        pod_buf b = { 0 };
        int r = hello ? json_line(&b, request(1, "hello", hello)) : -ENOMEM;

        json_decref(hello);
        if (r >= 0)
                r = json_line(&b, request(2, method, params));
        if (r >= 0)
                r = fd_send_all(fd, b.data, b.len, deadline);
        buf_done(&b);
        if (r == -ENOMEM)
                return pod_error_set(err, r, "out of memory");
        if (r < 0 && r != -EPIPE && r != -ECONNRESET)
                return pod_error_set(err, r, "cannot write to the pod's socket: %s", strerror(-r));
        /* Written or not, the pod may have answered (a refused hello, a dropped connection). */
        r = rpc_recv(&res, &b, fd, deadline, "hello", err);
        json_decref(res);
        *ret_again = r == -EBUSY;
        if (r >= 0)
                r = rpc_recv(out, &b, fd, deadline, method, err);
        buf_done(&b);
        return r;
}

#define CALL_ATTEMPTS 4

int ipc_call(json_t **out, const char *sock_path, pid_t peer, const char *token,
             const char *method, json_t *params, pod_error *err) {
        long long deadline = mono_ms() + POD_IPC_TIMEOUT_S * 1000LL;
        bool again = true;
        int r = 0;

        for (int i = 0; again && i < CALL_ATTEMPTS && mono_ms() < deadline; i++) {
                int fd = ipc_connect(sock_path, peer, err);
                if (fd < 0)
                        return fd;
                r = call_once(out, fd, token, method, params, deadline, &again, err);
                close(fd);
        }
        return r;
}

/* ---- the spawner's channel (DESIGN §8, steps 6 and 7) ------------------------------------ */

#define CHANNEL_REPLY_MAX (64u * 1024u)

/* One line of JSON (msg borrowed), sent whole by deadline. */
static int send_json_line(int fd, json_t *msg, long long deadline) {
        pod_buf b = { 0 };
        int r = json_line(&b, json_incref(msg));

        if (r >= 0)
                r = fd_send_all(fd, b.data, b.len, deadline);
        buf_done(&b);
        return r;
}

int ipc_call_fd(json_t **out, int fd, const char *method, json_t *params, pod_error *err) {
        long long deadline = mono_ms() + POD_IPC_TIMEOUT_S * 1000LL;
        json_t *req = request(1, method, params);
        pod_buf line = { 0 };
        int r = req ? send_json_line(fd, req, deadline) : -ENOMEM;

        json_decref(req);
        if (r >= 0)
                r = fd_read_line(&line, fd, CHANNEL_REPLY_MAX, deadline);
        if (r == -ETIMEDOUT)
                r = pod_error_set(err, r, "%s: no answer within %d s", method, POD_IPC_TIMEOUT_S);
        else if (r < 0)
                r = pod_error_set(err, r, "%s: %s", method,
                                  r == -EPIPE || r == -ECONNRESET ? "the pod closed its channel"
                                  : r == -EMSGSIZE ? "the answer is over 64 KiB"
                                                   : strerror(-r));
        else
                r = rpc_result(out, line.data, line.len, method, err);
        buf_done(&line);
        return r;
}

int control_first_task(pod_control *ctl, int fd, pod_error *err) {
        long long deadline = mono_ms() + POD_IPC_TIMEOUT_S * 1000LL;
        pod_buf line = { 0 };
        json_t *req = NULL, *resp;
        const char *why = "the spawner's channel takes one run request", *method;
        unsigned turn = 0;
        int code = RPC_INVALID_REQUEST, r;

        r = fd_read_line(&line, fd, POD_FRAME_MAX, deadline);
        if (r < 0) {
                buf_done(&line);
                if (r == -ETIMEDOUT)
                        return pod_error_set(err, r, "the spawner handed over no task within %d s",
                                             POD_IPC_TIMEOUT_S);
                return pod_error_set(err, r, "the spawner handed over no task: %s",
                                     r == -EPIPE      ? "it closed the channel"
                                     : r == -EMSGSIZE ? "its request is over 16 MiB"
                                                      : strerror(-r));
        }
        req = json_loadb(line.data, line.len, JSON_REJECT_DUPLICATES, NULL);
        buf_done(&line);
        method = json_string_value(json_object_get(req, "method"));
        if (method && strcmp(method, "run") == 0)
                code = take_run(ctl, json_object_get(req, "params"), &turn, &why);
        resp = rpc_reply(json_object_get(req, "id"),
                         code ? NULL : json_pack("{s:b, s:i}", "accepted", 1, "turn", (int) turn),
                         code, why);
        json_decref(req);
        r = send_json_line(fd, resp, deadline); /* the answer first, then the worker */
        json_decref(resp);
        if (code)
                return pod_error_set(err, -EPROTO, "the spawner's first request was refused: %s",
                                     why);
        control_wake(ctl);
        return r < 0 ? pod_error_set(err, r, "answering the spawner: %s", strerror(-r)) : 0;
}
