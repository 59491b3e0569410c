/* SPDX-License-Identifier: MIT */
/*
 * The clients of a pod's socket (`pod send`, `pod stop`, a child's reports, a spawner's
 * calls): every wait bounded by POD_IPC_TIMEOUT_S and every reply by POD_FRAME_MAX, and a
 * token sent only to the process that serves the socket (SO_PEERCRED).
 */
#include <assert.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>

#include "rpc.h"

/* msg (consumed) as one line of b. */
static int json_line(pod_buf *b, json_t *msg) {
        char *text = msg ? json_dumps(msg, JSON_COMPACT) : NULL;
        int r = text && buf_puts(b, text) >= 0 && buf_puts(b, "\n") >= 0 ? 0 : -ENOMEM;

        free(text);
        json_decref(msg);
        return r;
}

/* The next reply on fd, from in (what follows it stays there): the one bounded reader, so a
 * pod that never answers, or answers a byte at a time, ends the wait. */
static int rpc_recv(
        json_t **out, pod_buf *in, int fd, long long deadline, const char *method, pod_error *err) {
        size_t n;
        int r = rpc_read_line(in, fd, POD_FRAME_MAX, deadline, &n);

        if (r < 0)
                return pod_error_set(err, r, "%s",
                                     r == -ETIMEDOUT        ? "the pod did not answer in time" :
                                             r == -EMSGSIZE ? "the pod's answer is over 16 MiB" :
                                             r == -ENOMEM   ? "out of memory" :
                                                              "the pod closed the connection");
        r = rpc_result(out, in->data, n, method, err);
        rpc_line_drop(in, n);
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
                r = pod_error_errno(err, "cannot reach the pod at %s", sock_path);
                safe_close(fd);
                return r;
        }
        if (peer > 0 &&
            (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) < 0 || cred.pid != peer)) {
                safe_close(fd);
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
        safe_close(fd);
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
static int call_once(json_t **out,
                     int fd,
                     const char *token,
                     const char *method,
                     json_t *params,
                     long long deadline,
                     bool *ret_again,
                     pod_error *err) {
        json_t *hello = json_pack("{s:s}", "token", token), *res = NULL;
        pod_buf b = { 0 };
        int r = hello ? json_line(&b, rpc_request(1, "hello", hello)) : -ENOMEM;

        json_decref(hello);
        if (r >= 0)
                r = json_line(&b, rpc_request(2, method, params));
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

/* A pod that answered "busy" is asked again, after 10, 20, 40, ... ms (it frees a place when
 * it next sees a connection close, which under load may take a few of its rounds). */
#define CALL_ATTEMPTS 7
#define CALL_BACKOFF_MS 10

int ipc_call(json_t **out,
             const char *sock_path,
             pid_t peer,
             const char *token,
             const char *method,
             json_t *params,
             pod_error *err) {
        long long deadline = mono_ms() + POD_IPC_TIMEOUT_S * 1000LL;
        bool again = true;
        int r = 0;

        assert(out && sock_path && method);
        if (!token) /* it comes from a registry entry, which may be damaged */
                return pod_error_set(err, -EINVAL, "the pod's registry entry holds no token");
        for (int i = 0; again && i < CALL_ATTEMPTS && mono_ms() < deadline; i++) {
                int fd;
                if (i > 0)
                        usleep((useconds_t) (CALL_BACKOFF_MS << (i - 1)) * 1000);
                fd = ipc_connect(sock_path, peer, err);
                if (fd < 0)
                        return fd;
                r = call_once(out, fd, token, method, params, deadline, &again, err);
                safe_close(fd);
        }
        return r;
}

/* ---- a channel two processes hold (the spawner's, DESIGN §8, steps 6 and 7) ------------- */

/* The child answers run with {accepted, turn}: more than this is not an answer. */
#define CHANNEL_REPLY_MAX (64u * 1024u)

int ipc_call_fd(json_t **out, int fd, const char *method, json_t *params, pod_error *err) {
        long long deadline = mono_ms() + POD_IPC_TIMEOUT_S * 1000LL;
        json_t *req = rpc_request(1, method, params);
        pod_buf in = { 0 };
        size_t n = 0;
        int r = req ? rpc_send_line(fd, req, deadline) : -ENOMEM;

        assert(out && fd >= 0 && method);
        json_decref(req);
        if (r >= 0)
                r = rpc_read_line(&in, fd, CHANNEL_REPLY_MAX, deadline, &n);
        if (r == -ETIMEDOUT)
                r = pod_error_set(err, r, "%s: no answer within %d s", method, POD_IPC_TIMEOUT_S);
        else if (r < 0)
                r = pod_error_set(err, r, "%s: %s", method,
                                  r == -EPIPE            ? "the pod closed its channel" :
                                          r == -EMSGSIZE ? "the answer is over 64 KiB" :
                                                           strerror(-r));
        else
                r = rpc_result(out, in.data, n, method, err);
        buf_done(&in);
        return r;
}
