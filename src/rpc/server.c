/* SPDX-License-Identifier: MIT */
/*
 * A JSON-RPC server on a Unix socket (DESIGN §12): one JSON object per line (at most
 * POD_FRAME_MAX bytes). Only clients of the same uid are accepted, and every connection must
 * begin with `hello {token}`. One thread serves every connection with poll(); what a method
 * does is its table's (server_opts). Nothing a client sends can crash the server: a bad frame
 * gets a JSON-RPC error, an oversized one closes the connection. Nothing a client withholds
 * can starve it: connections that have not said hello are counted apart, with a quota per
 * process and in all, and a deadline (rpc.h), so a token holder always gets in.
 */
#include <assert.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/un.h>

#include "rpc.h"

struct rpc_conn {
        pod_server *srv;
        int fd;
        pid_t peer; /* SO_PEERCRED: the process that connected */
        uint64_t serial; /* the order of arrival */
        long long deadline; /* mono_ms by which hello must come; 0 once it came */
        bool hello, subscribed, closing;
        char caller[RPC_NAME_BUF]; /* hello with another token (a child's callback token):
                                    * only the methods for callers */
        pod_buf in, out;
};
typedef struct rpc_conn client;

struct pod_server {
        pthread_t thread;
        int listen_fd, wake_fd;
        char *sock_path, *token, *name;
        server_opts opts;
        pthread_mutex_t lock; /* guards clients[].out, events, stop */
        client *clients; /* grown as they come, up to CLIENTS_CAP */
        size_t n_clients, cap_clients;
        size_t n_unauth; /* of them, those that have not said hello */
        uint64_t serial; /* connections accepted so far */
        int hello_ms; /* POD_HELLO_TIMEOUT_MS, or the environment's */
        bool stop;
        bool wake; /* opts.wake after the replies go out: the caller hears first, then work begins
                    */
};

#define CLIENTS_CAP (POD_CLIENTS_MAX + POD_UNAUTH_MAX)
/* Connections taken from the backlog per round: fewer than POD_UNAUTH_MAX, so that one round's
 * newcomers cannot push out a connection accepted in it before its hello is read. */
#define ACCEPT_BATCH 32
/* The kernel's queue of connections not accepted yet: long, so that a caller's connect() does
 * not wait behind a flood (the kernel caps it at net.core.somaxconn). */
#define LISTEN_BACKLOG 1024

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

static void reply(pod_server *s, client *c, json_t *id, json_t *result) {
        queue(s, c, rpc_reply(id, result));
}

static void reply_error(pod_server *s, client *c, json_t *id, int code, const char *msg) {
        queue(s, c, rpc_error(id, code, msg));
}

void rpc_conn_reply(rpc_conn *c, json_t *id, json_t *result) {
        reply(c->srv, c, id, result);
}

void rpc_conn_error(rpc_conn *c, json_t *id, int code, const char *message) {
        reply_error(c->srv, c, id, code, message);
}

const char *rpc_conn_caller(const rpc_conn *c) {
        return c->caller;
}

const char *rpc_conn_server_name(const rpc_conn *c) {
        return c->srv->name;
}

void rpc_conn_wake_after(rpc_conn *c) {
        c->srv->wake = true;
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
        char caller[RPC_NAME_BUF] = "";

        if (token && token_equal(token, s->token)) {
                if (authenticate(s, c, id))
                        reply(s, c, id, json_pack("{s:s, s:i}", "pod", s->name, "protocol", 1));
                return;
        }
        if (token && s->opts.caller && s->opts.caller(s->opts.ud, token, caller)) {
                if (!authenticate(s, c, id))
                        return;
                memcpy(c->caller, caller, sizeof(caller));
                reply(s, c, id,
                      json_pack("{s:s, s:i, s:s}", "pod", s->name, "protocol", 1, "role", "child"));
                return;
        }
        reply_error(s, c, id, RPC_BAD_TOKEN, "bad token");
        c->closing = true;
}

static const rpc_method *find_method(const pod_server *s, const char *name) {
        for (size_t i = 0; i < s->opts.n_methods; i++)
                if (strcmp(s->opts.methods[i].name, name) == 0)
                        return &s->opts.methods[i];
        return NULL;
}

static void dispatch(pod_server *s, client *c, const char *method, json_t *id, json_t *params) {
        const rpc_method *m;

        if (strcmp(method, "hello") == 0)
                return m_hello(s, c, id, params);
        if (!c->hello) {
                reply_error(s, c, id, RPC_HELLO_FIRST, "call hello with the pod's token first");
                c->closing = true;
                return;
        }
        m = find_method(s, method);
        if (m && m->for_callers)
                return m->run(s->opts.ud, c, id, params);
        if (c->caller[0]) /* a caller's token permits nothing else */
                return reply_error(s, c, id, RPC_BAD_TOKEN,
                                   s->opts.caller_refused ?: "this token permits no such call");
        if (strcmp(method, "subscribe") == 0) {
                c->subscribed = true;
                return reply(s, c, id, json_pack("{s:b}", "subscribed", 1));
        }
        if (m)
                return m->run(s->opts.ud, c, id, params);
        reply_error(s, c, id, RPC_METHOD_NOT_FOUND, "unknown method");
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
                return turn_away(s, victim,
                                 "too many connections from this process wait for "
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
                safe_close(fd);
                return true;
        }
        make_room(s, cred.pid);
        if (!grow_clients(s)) {
                safe_close(fd);
                return true;
        }
        s->clients[s->n_clients++] = (client){ .srv = s,
                                               .fd = fd,
                                               .peer = cred.pid,
                                               .serial = ++s->serial,
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
                rpc_line_drop(&c->in, n);
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
        if (s->wake) {
                s->wake = false;
                if (s->opts.wake)
                        s->opts.wake(s->opts.ud);
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
        json_t *note =
                json_pack("{s:s, s:s, s:O}", "jsonrpc", "2.0", "method", "event", "params", event);
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
        if (fd < 0 || bind(fd, (struct sockaddr *) &addr, sizeof(addr)) < 0 ||
            listen(fd, LISTEN_BACKLOG) < 0) {
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

int server_listen(pod_server **out,
                  const char *sock_path,
                  const char *token,
                  const char *name,
                  const server_opts *opts,
                  pod_error *err) {
        pod_server *s = calloc(1, sizeof(*s));
        int r;

        assert(out && sock_path && token && opts);
        if (!s || !(s->sock_path = strdup(sock_path)) || !(s->token = strdup(token)) ||
            !(s->name = strdup(name))) {
                server_stop(s);
                return pod_error_oom(err);
        }
        if (opts)
                s->opts = *opts;
        s->listen_fd = -EBADF;
        s->hello_ms = hello_timeout_ms();
        s->wake_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
        pthread_mutex_init(&s->lock, NULL);
        r = s->wake_fd < 0 ? pod_error_errno(err, "eventfd") :
                             (s->listen_fd = listen_on(sock_path, err));
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
