/* SPDX-License-Identifier: MIT */
#pragma once

/*
 * rpc: JSON-RPC 2.0, one JSON object per line (DESIGN §12, docs/protocol.md): the codec, the
 * dispatch table, the Unix-socket server (one thread, poll(), hello with a token first) and
 * its clients, with one bounded reader (at most POD_FRAME_MAX bytes by a deadline). It knows
 * no pod: what a method does is the table's (src/pod/control.c); the MCP server will serve
 * the same codec over stdio.
 */

#include <jansson.h>
#include <stdbool.h>
#include <sys/types.h>

#include "base/base.h"

#define POD_FRAME_MAX (16u * 1024u * 1024u) /* one JSON-RPC message */
#define POD_CLIENTS_MAX 256u /* authenticated connections at once */
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
#define POD_IPC_TIMEOUT_S 10 /* a client waits this long for a reply */
#define RPC_NAME_BUF 65 /* a caller's name (a pod name) and its NUL */

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

/* ---- the codec (rpc.c) ------------------------------------------------------------------- */

/* A request; params is borrowed (NULL: {}). NULL: out of memory. */
json_t *rpc_request(int id, const char *method, json_t *params);
/* A reply with result (consumed), or an error; id borrowed (NULL: null). */
json_t *rpc_reply(json_t *id, json_t *result);
json_t *rpc_error(json_t *id, int code, const char *message);
/* A reply's result, or its error as err naming method (-EBUSY for RPC_BUSY, else -EPROTO). */
int rpc_result(json_t **out, const char *line, size_t len, const char *method, pod_error *err);
/* One request line as the socket reads it: the JSON-RPC 2.0 frame decoder, the only code
 * other processes reach before hello (fuzz/fuzz-rpc.c). */
typedef struct rpc_frame {
        json_t *req; /* the decoded object (owned; NULL on a parse error) */
        json_t *id; /* borrowed from req; NULL when absent */
        const char *method; /* borrowed from req; set only when the frame is valid */
        json_t *params; /* borrowed from req; NULL when absent */
} rpc_frame;

/* 0 with *out a valid request; RPC_PARSE_ERROR when line is not JSON, RPC_INVALID_REQUEST
 * when it is not {jsonrpc: "2.0", id?, method, params?} (out->id is then what it had, for
 * the error reply). Free *out with rpc_frame_done in every case. */
int rpc_decode(rpc_frame *out, const char *line, size_t len);
void rpc_frame_done(rpc_frame *f);
/* msg (borrowed) as one line, sent whole by deadline (mono_ms). */
int rpc_send_line(int fd, const json_t *msg, long long deadline);
/*
 * The one bounded reader every client read goes through: the next line on fd, read into in
 * (what follows it stays in in for the next call), at most max bytes (POD_FRAME_MAX at
 * most; a reply known to be short may be held to less), by deadline (mono_ms). 0 with
 * *ret_len the line's length at in->data (its newline made a NUL); drop it with
 * rpc_line_drop before the next call. -ETIMEDOUT, -EMSGSIZE (over max), -ENOMEM, -EPIPE
 * (the peer closed) or another negative errno; in is left as it was read.
 */
int rpc_read_line(pod_buf *in, int fd, size_t max, long long deadline, size_t *ret_len);
/* Remove the first line (len bytes and its newline) of in. */
void rpc_line_drop(pod_buf *in, size_t len);

/* ---- the server (server.c) --------------------------------------------------------------- */

typedef struct pod_server pod_server;
typedef struct rpc_conn rpc_conn; /* one connection, as a method sees it */

typedef struct rpc_method {
        const char *name;
        /* Answer with rpc_conn_reply or rpc_conn_error; runs on the server's thread. */
        void (*run)(void *ud, rpc_conn *c, json_t *id, json_t *params);
        /* A caller who said hello with another token (server_opts.caller) may call it; such a
         * caller may call nothing else. */
        bool for_callers;
} rpc_method;

typedef struct server_opts {
        void *ud;
        const rpc_method *methods; /* borrowed (a static table) */
        size_t n_methods;
        /* hello with a token other than the server's: whose is it? (copy the name). NULL:
         * none is accepted. */
        bool (*caller)(void *ud, const char *token, char name[RPC_NAME_BUF]);
        /* The error a caller gets for a method not for callers. */
        const char *caller_refused;
        /* After the replies of a round went out, when a method asked (rpc_conn_wake_after). */
        void (*wake)(void *ud);
} server_opts;

void rpc_conn_reply(rpc_conn *c, json_t *id, json_t *result);
void rpc_conn_error(rpc_conn *c, json_t *id, int code, const char *message);
/* The caller's name (server_opts.caller), "" for a holder of the server's token. */
const char *rpc_conn_caller(const rpc_conn *c);
/* The server's name (its hello reply says it). */
const char *rpc_conn_server_name(const rpc_conn *c);
/* Call opts.wake once this round's replies are sent: woken first, the worker could take the
 * CPU before the reply leaves, and the caller would wait for its turn. */
void rpc_conn_wake_after(rpc_conn *c);

/* The socket bound and listening (sock_path must not exist), for clients of this uid;
 * connections wait in its backlog until server_serve. hello {token} is answered here, and
 * subscribe (server_publish), and everything else by opts' table. */
int server_listen(pod_server **out,
                  const char *sock_path,
                  const char *token,
                  const char *name,
                  const server_opts *opts,
                  pod_error *err);
/* Start the thread that serves the socket. */
int server_serve(pod_server *srv, pod_error *err);
/* Stop the thread, close every connection, remove the socket. */
pod_server *server_stop(pod_server *srv);
/* Send an event to every subscribed client (thread-safe). */
void server_publish(pod_server *srv, const json_t *event);

/* ---- clients (client.c) ------------------------------------------------------------------ */

/*
 * A client call: connect, check that the socket is served by process peer (SO_PEERCRED; a
 * token is never sent elsewhere), hello with token, call method, return the result or the
 * error. peer <= 0 skips the check (a server in the same test process).
 */
int ipc_call(json_t **out,
             const char *sock_path,
             pid_t peer,
             const char *token,
             const char *method,
             json_t *params,
             pod_error *err);
/* Connect and check the peer only: -EPERM when another process serves the socket. */
int ipc_verify(const char *sock_path, pid_t peer, pod_error *err);
/* One call on a channel only two processes hold (no hello): the reply's result. */
int ipc_call_fd(json_t **out, int fd, const char *method, json_t *params, pod_error *err);
