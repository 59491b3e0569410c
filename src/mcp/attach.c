/* SPDX-License-Identifier: MIT */
/*
 * Bound mode's relay, `pod mcp --attach DIR` (DESIGN §17, docs/mcp.md): a delegate pod's CLI
 * starts it as its MCP server, and it copies the CLI's messages into the FIFO DIR/mcp.in and
 * the replies of DIR/mcp.out back, to the bound server the pod serves there (src/llm,
 * delegate-mcp.c). It holds no authority of its own: the FIFOs are the capability, and the
 * relay only refuses what is not the pod's (files that are not FIFOs private to this user).
 * One relay at a time (an exclusive flock on mcp.in); each opens its session with a hello line
 * of its own token and drops what the pipe held before the server's answer, which repeats it.
 */
#include <fcntl.h>
#include <poll.h>
#include <string.h>
#include <sys/file.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include "llm/llm.h"
#include "mcp.h"

#define ATTACH_WAIT_MS 3000 /* for the server's reader, or the previous relay's lock */
#define ATTACH_STEP_MS 20
#define ATTACH_CHUNK 65536u

typedef struct relay {
        const char *dir;
        int dir_fd;
        int in_fd, out_fd; /* the client's side */
        int to_pod, from_pod; /* mcp.in, mcp.out */
        char pending[ATTACH_CHUNK]; /* read from the client, not yet in mcp.in */
        size_t n_pending;
        bool client_done; /* the client's input ended */
        char hello[LLM_MCP_TOKEN_MAX + 2]; /* NUL, the token, newline */
        size_t hello_len, matched; /* of the server's answer, read so far */
        bool answered; /* the server's answer came: what follows is this session's */
} relay;

/* st: a FIFO of this user's, which no one else may open. */
static int check_fifo(const struct stat *st, const char *dir, const char *name, pod_error *err) {
        if (!S_ISFIFO(st->st_mode) || st->st_uid != geteuid() || (st->st_mode & 077))
                return pod_error_set(err, -EPERM,
                                     "mcp --attach: %s/%s is not a FIFO private to this user "
                                     "(uid %u): refused",
                                     dir, name, (unsigned) geteuid());
        return 0;
}

/* name opened (never following a symlink, checked before and after the open: the open of
 * anything but a FIFO could have effects of its own). -ENXIO (err not written): no server
 * reads mcp.in yet. */
static int open_checked(int dir_fd, const char *dir, const char *name, int flags, pod_error *err) {
        struct stat before, after;
        int fd;

        if (fstatat(dir_fd, name, &before, AT_SYMLINK_NOFOLLOW) < 0)
                return pod_error_errno(err, "mcp --attach: cannot use %s/%s", dir, name);
        if (check_fifo(&before, dir, name, err) < 0)
                return err->code;
        fd = openat(dir_fd, name, flags | O_NONBLOCK | O_CLOEXEC | O_NOFOLLOW);
        if (fd < 0 && errno == ENXIO)
                return -ENXIO;
        if (fd < 0)
                return pod_error_errno(err, "mcp --attach: cannot open %s/%s", dir, name);
        if (fstat(fd, &after) < 0 || after.st_dev != before.st_dev ||
            after.st_ino != before.st_ino) {
                safe_close(fd);
                return pod_error_set(err, -EPERM,
                                     "mcp --attach: %s/%s changed as it was opened: refused", dir,
                                     name);
        }
        return fd;
}

/* mcp.in for writing, once the server reads it and no other relay holds it. */
static int open_to_pod(relay *rl, int dir_fd, pod_error *err) {
        long long until = mono_ms() + ATTACH_WAIT_MS;
        int fd;

        for (;;) {
                fd = open_checked(dir_fd, rl->dir, LLM_MCP_IN, O_WRONLY, err);
                if (fd >= 0 && flock(fd, LOCK_EX | LOCK_NB) == 0)
                        break;
                if (fd >= 0) {
                        safe_close(fd);
                        fd = -EWOULDBLOCK;
                }
                if (fd != -ENXIO && fd != -EWOULDBLOCK)
                        return fd;
                if (mono_ms() >= until)
                        return fd == -ENXIO ? pod_error_set(err, fd,
                                                            "mcp --attach: no delegate pod serves "
                                                            "%s (nothing reads its %s)",
                                                            rl->dir, LLM_MCP_IN) :
                                              pod_error_set(err, fd,
                                                            "mcp --attach: another relay is "
                                                            "attached to %s (%s is locked)",
                                                            rl->dir, LLM_MCP_IN);
                usleep(ATTACH_STEP_MS * 1000);
        }
        rl->to_pod = fd;
        return 0;
}

/* The hello line: NUL, a random token in hex, newline. */
static int make_hello(relay *rl, pod_error *err) {
        unsigned char raw[12];

        if (getrandom(raw, sizeof(raw), 0) != (ssize_t) sizeof(raw))
                return pod_error_errno(err, "mcp --attach: getrandom");
        rl->hello[0] = LLM_MCP_HELLO;
        for (size_t i = 0; i < sizeof(raw); i++)
                snprintf(rl->hello + 1 + 2 * i, 3, "%02x", raw[i]);
        rl->hello_len = 1 + 2 * sizeof(raw) + 1;
        rl->hello[rl->hello_len - 1] = '\n';
        return 0;
}

static int relay_open(relay *rl, pod_error *err) {
        int r;

        /* O_PATH: the delegate sandbox grants the two FIFOs, never their directory. */
        rl->dir_fd = open(rl->dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (rl->dir_fd < 0)
                return pod_error_errno(err, "mcp --attach: cannot open %s", rl->dir);
        r = make_hello(rl, err);
        if (r < 0)
                return r;
        /* mcp.out first: the server opens its end of it when our hello comes. */
        r = open_checked(rl->dir_fd, rl->dir, LLM_MCP_OUT, O_RDONLY, err);
        if (r < 0)
                return r; /* a reader's open never meets ENXIO */
        rl->from_pod = r;
        r = open_to_pod(rl, rl->dir_fd, err);
        if (r < 0)
                return r;
        if (write(rl->to_pod, rl->hello, rl->hello_len) != (ssize_t) rl->hello_len)
                return pod_error_errno(err, "mcp --attach: cannot write to %s/%s", rl->dir,
                                       LLM_MCP_IN);
        return 0;
}

/* mcp.out hung up before the server answered: the writer of a previous session closed. A fresh
 * reader (opened before the old one closes, so the pipe and its bytes stay) waits for ours. */
static int reopen_from_pod(relay *rl) {
        pod_error err;
        int fd = open_checked(rl->dir_fd, rl->dir, LLM_MCP_OUT, O_RDONLY, &err);

        if (fd < 0)
                return 1;
        safe_close(rl->from_pod);
        rl->from_pod = fd;
        return 0;
}

/* Before the server's answer, bytes are a previous session's: the answer is looked for (a NUL
 * starts it and is found nowhere else). Returns where this session's bytes start in buf. */
static size_t skip_to_answer(relay *rl, const char *buf, size_t n) {
        if (rl->answered)
                return 0;
        for (size_t i = 0; i < n; i++) {
                if (buf[i] == LLM_MCP_HELLO)
                        rl->matched = 1;
                else if (rl->matched && buf[i] == rl->hello[rl->matched])
                        rl->matched++;
                else
                        rl->matched = 0;
                if (rl->matched == rl->hello_len) {
                        rl->answered = true;
                        return i + 1;
                }
        }
        return n;
}

/* The server's bytes to the client (NULs never pass). 0 to go on, 1 when the server ended the
 * session, < 0 when the client's output closed. */
static int from_pod(relay *rl) {
        char buf[ATTACH_CHUNK];
        ssize_t k = read(rl->from_pod, buf, sizeof(buf));
        size_t start;

        if (k < 0)
                return errno == EINTR || errno == EAGAIN ? 0 : 1;
        if (k == 0)
                return rl->answered ? 1 : reopen_from_pod(rl);
        start = skip_to_answer(rl, buf, (size_t) k);
        for (size_t i = start; i < (size_t) k; i++) {
                if (buf[i] != LLM_MCP_HELLO)
                        continue;
                if (i > start && mcp_write_all(rl->out_fd, buf + start, i - start) < 0)
                        return -EPIPE;
                start = i + 1;
        }
        if ((size_t) k > start && mcp_write_all(rl->out_fd, buf + start, (size_t) k - start) < 0)
                return -EPIPE;
        return 0;
}

/* The client's bytes, NULs dropped (a hello is the relay's alone), into pending. */
static void from_client(relay *rl) {
        char buf[ATTACH_CHUNK];
        ssize_t k = read(rl->in_fd, buf, sizeof(buf) - rl->n_pending);

        if (k < 0 && (errno == EINTR || errno == EAGAIN))
                return;
        if (k <= 0) {
                rl->client_done = true;
                return;
        }
        for (ssize_t i = 0; i < k; i++)
                if (buf[i] != LLM_MCP_HELLO)
                        rl->pending[rl->n_pending++] = buf[i];
}

/* As much of pending as mcp.in takes now; < 0: the server is gone. */
static int to_pod(relay *rl) {
        ssize_t k = write(rl->to_pod, rl->pending, rl->n_pending);

        if (k < 0)
                return errno == EINTR || errno == EAGAIN ? 0 : -EPIPE;
        memmove(rl->pending, rl->pending + k, rl->n_pending - (size_t) k);
        rl->n_pending -= (size_t) k;
        return 0;
}

static void relay_loop(relay *rl) {
        for (;;) {
                struct pollfd p[2] = { { .fd = rl->from_pod, .events = POLLIN } };
                int r = 0;

                if (rl->client_done && !rl->n_pending && rl->to_pod >= 0)
                        rl->to_pod = safe_close(rl->to_pod); /* the server ends the session */
                if (rl->n_pending && rl->to_pod >= 0)
                        p[1] = (struct pollfd){ .fd = rl->to_pod, .events = POLLOUT };
                else if (!rl->client_done)
                        p[1] = (struct pollfd){ .fd = rl->in_fd, .events = POLLIN };
                else
                        p[1] = (struct pollfd){ .fd = -1 };
                if (poll(p, 2, -1) < 0) {
                        if (errno == EINTR)
                                continue;
                        return;
                }
                if (p[0].revents)
                        r = from_pod(rl);
                if (r == 0 && p[1].fd == rl->to_pod && p[1].revents)
                        r = to_pod(rl);
                else if (r == 0 && p[1].revents)
                        from_client(rl);
                if (r != 0)
                        return;
        }
}

int mcp_attach(const char *dir, int in_fd, int out_fd, pod_error *err) {
        relay *rl = calloc(1, sizeof(*rl));
        int r;

        if (!rl)
                return pod_error_oom(err);
        *rl = (relay){
                .dir = dir, .in_fd = in_fd, .out_fd = out_fd, .to_pod = -EBADF, .from_pod = -EBADF
        };
        r = relay_open(rl, err);
        if (r == 0)
                relay_loop(rl);
        safe_close(rl->to_pod);
        safe_close(rl->from_pod);
        safe_close(rl->dir_fd);
        free(rl);
        return r;
}
