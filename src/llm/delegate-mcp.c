/* SPDX-License-Identifier: MIT */
/*
 * The bound MCP server of a delegate pod (DESIGN §9, §17; docs/mcp.md, bound mode): two FIFOs
 * in the pod's private directory, served on a thread of their own. Each line a relay (`pod mcp
 * --attach DIR`, started by the CLI as its MCP server) writes into mcp.in goes to the pod's
 * MCP callback; its reply goes back on mcp.out as one line. Everything read is hostile: lines
 * are bounded, a relay that leaves mid-line or sends garbage ends only its own session, and
 * the next relay starts clean (the hello bytes of llm-internal.h).
 */
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "llm-internal.h"

#define POLL_MS 50 /* how often the thread looks at its stop flag */

/* ---- lines (pure) ---------------------------------------------------------------------------- */

static int emit(llm_mcp_lines *l, const llm_mcp_lines_ops *ops) {
        size_t len = l->line.len;
        bool too_large = l->skipping;
        int k = 0;

        if (len && l->line.data[len - 1] == '\r')
                len--;
        if (l->token) {
                l->token = false;
                too_large = too_large || len > LLM_MCP_TOKEN_MAX;
                ops->session(ops->ud, too_large ? NULL : l->line.data, too_large ? 0 : len);
        } else if (l->session && (too_large || len))
                k = ops->line(ops->ud, l->line.data, len, too_large);
        l->skipping = false;
        l->line.len = 0;
        return k;
}

void llm_mcp_lines_reset(llm_mcp_lines *l) {
        l->line.len = 0;
        l->skipping = false;
        l->session = false;
        l->token = false;
}

/* One run of bytes without a hello or a newline in it. */
static int take(llm_mcp_lines *l, const char *p, size_t n) {
        if (!l->session || n == 0)
                return 0;
        if (!l->skipping && l->line.len + n > l->max) {
                l->skipping = true; /* the rest of this line is dropped unread */
                l->line.len = 0;
        }
        return l->skipping ? 0 : buf_append(&l->line, p, n);
}

int llm_mcp_lines_feed(llm_mcp_lines *l, const char *buf, size_t n, const llm_mcp_lines_ops *ops) {
        if (!l->max)
                l->max = LLM_MCP_LINE_MAX;
        while (n > 0) {
                size_t run = 0;
                int k;

                while (run < n && buf[run] != '\n' && buf[run] != LLM_MCP_HELLO)
                        run++;
                k = take(l, buf, run);
                if (k < 0)
                        return k;
                if (run == n)
                        break;
                if (buf[run] == LLM_MCP_HELLO) {
                        llm_mcp_lines_reset(l);
                        l->session = l->token = true; /* its token comes next, as a line */
                } else {
                        k = emit(l, ops);
                        if (k < 0)
                                return k;
                }
                buf += run + 1;
                n -= run + 1;
        }
        return 0;
}

void llm_mcp_lines_done(llm_mcp_lines *l) {
        buf_done(&l->line);
        *l = (llm_mcp_lines){ 0 };
}

/* ---- the server ------------------------------------------------------------------------------ */

struct llm_mcp_bound {
        llm_mcp_fn fn;
        void *ud;
        char *dir;
        char *paths[3]; /* mcp.in, mcp.out, NULL */
        int dir_fd, in_fd, out_fd;
        llm_mcp_lines lines;
        pthread_t thread;
        bool started;
        atomic_bool stop;
};

static int open_fifo(const llm_mcp_bound *b, const char *name, int flags) {
        return openat(b->dir_fd, name, flags | O_NONBLOCK | O_CLOEXEC | O_NOFOLLOW);
}

/* A write to a relay that left raises SIGPIPE, blocked on this thread: taken back here, so the
 * pod (which may not ignore it) never sees it. */
static void drop_sigpipe(void) {
        sigset_t set;
        struct timespec zero = { 0 };

        sigemptyset(&set);
        sigaddset(&set, SIGPIPE);
        while (sigtimedwait(&set, NULL, &zero) == SIGPIPE)
                ;
}

/* All of p to the relay, waiting while the pipe is full; the relay gone ends its output. */
static void send_out(llm_mcp_bound *b, const char *p, size_t n) {
        while (n > 0 && b->out_fd >= 0 && !atomic_load(&b->stop)) {
                ssize_t k = write(b->out_fd, p, n);

                if (k < 0 && errno == EAGAIN) {
                        struct pollfd pfd = { .fd = b->out_fd, .events = POLLOUT };
                        poll(&pfd, 1, POLL_MS);
                        continue;
                }
                if (k < 0 && errno == EINTR)
                        continue;
                if (k <= 0) {
                        drop_sigpipe();
                        b->out_fd = safe_close(b->out_fd);
                        return;
                }
                p += k;
                n -= (size_t) k;
        }
}

static void on_session(void *ud, const char *token, size_t len) {
        llm_mcp_bound *b = ud;
        char answer[LLM_MCP_TOKEN_MAX + 2] = { LLM_MCP_HELLO };

        b->out_fd = safe_close(b->out_fd);
        /* The relay opened mcp.out before it said hello; ENXIO: it left already. */
        b->out_fd = open_fifo(b, LLM_MCP_OUT, O_WRONLY);
        if (b->out_fd < 0)
                b->out_fd = -EBADF;
        if (token)
                memcpy(answer + 1, token, len);
        answer[len + 1] = '\n';
        send_out(b, answer, len + 2);
}

static json_t *too_large(void) {
        char text[96];

        snprintf(text, sizeof(text), "message over %u bytes: skipped", LLM_MCP_LINE_MAX);
        return json_pack("{s:s, s:n, s:{s:i, s:s}}", "jsonrpc", "2.0", "id", "error", "code",
                         -32004, "message", text); /* RPC_FRAME_TOO_LARGE */
}

static int on_line(void *ud, const char *line, size_t len, bool large) {
        llm_mcp_bound *b = ud;
        json_t *reply = large ? too_large() : b->fn(b->ud, line, len);
        char *text = reply ? json_dumps(reply, JSON_COMPACT) : NULL;

        json_decref(reply);
        if (text) {
                size_t n = strlen(text);
                text[n] = '\n'; /* the line's end replaces the NUL: sent as one write */
                send_out(b, text, n + 1);
        }
        free(text);
        return 0;
}

/* Every writer of mcp.in left: the session ends, and a fresh reader waits for the next relay
 * (the old one would report the hang-up forever). Opened before the old one closes, so a relay
 * never finds mcp.in without a reader. */
static void relay_left(llm_mcp_bound *b) {
        int fd = open_fifo(b, LLM_MCP_IN, O_RDONLY);

        llm_mcp_lines_reset(&b->lines);
        b->out_fd = safe_close(b->out_fd);
        if (fd >= 0) {
                safe_close(b->in_fd);
                b->in_fd = fd;
        }
}

static void *serve(void *arg) {
        llm_mcp_bound *b = arg;
        llm_mcp_lines_ops ops = { .line = on_line, .session = on_session, .ud = b };
        char *chunk = malloc(65536);
        sigset_t set;

        sigemptyset(&set);
        sigaddset(&set, SIGPIPE);
        pthread_sigmask(SIG_BLOCK, &set, NULL);
        while (chunk && !atomic_load(&b->stop)) {
                struct pollfd pfd = { .fd = b->in_fd, .events = POLLIN };
                ssize_t k;

                if (poll(&pfd, 1, POLL_MS) <= 0)
                        continue;
                k = read(b->in_fd, chunk, 65536);
                if (k < 0 && (errno == EINTR || errno == EAGAIN))
                        continue;
                if (k <= 0)
                        relay_left(b);
                else if (llm_mcp_lines_feed(&b->lines, chunk, (size_t) k, &ops) < 0)
                        relay_left(b); /* out of memory: this session is lost */
        }
        free(chunk);
        return NULL;
}

/* dir/name as a fresh FIFO, 0600, whatever stale file had the name. */
static int make_fifo(llm_mcp_bound *b, const char *name, pod_error *err) {
        if (unlinkat(b->dir_fd, name, 0) < 0 && errno != ENOENT)
                return pod_error_errno(err, "bound MCP server: cannot remove %s/%s", b->dir, name);
        if (mkfifoat(b->dir_fd, name, 0600) < 0 || fchmodat(b->dir_fd, name, 0600, 0) < 0)
                return pod_error_errno(err, "bound MCP server: cannot make the FIFO %s/%s", b->dir,
                                       name);
        return 0;
}

static int bound_open(llm_mcp_bound *b, const char *dir, pod_error *err) {
        int r;

        b->dir = strdup(dir);
        b->paths[0] = path_join(dir, LLM_MCP_IN);
        b->paths[1] = path_join(dir, LLM_MCP_OUT);
        if (!b->dir || !b->paths[0] || !b->paths[1])
                return pod_error_oom(err);
        b->dir_fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (b->dir_fd < 0)
                return pod_error_errno(err, "bound MCP server: cannot open %s", dir);
        r = make_fifo(b, LLM_MCP_IN, err);
        if (r == 0)
                r = make_fifo(b, LLM_MCP_OUT, err);
        if (r < 0)
                return r;
        b->in_fd = open_fifo(b, LLM_MCP_IN, O_RDONLY);
        if (b->in_fd < 0)
                return pod_error_errno(err, "bound MCP server: cannot open %s", b->paths[0]);
        r = -pthread_create(&b->thread, NULL, serve, b);
        if (r < 0)
                return pod_error_set(err, r, "bound MCP server: cannot start its thread: %s",
                                     strerror(-r));
        b->started = true;
        return 0;
}

int llm_mcp_bound_start(
        llm_mcp_bound **out, const char *dir, llm_mcp_fn fn, void *ud, pod_error *err) {
        llm_mcp_bound *b = calloc(1, sizeof(*b));
        int r;

        if (!b)
                return pod_error_oom(err);
        *b = (llm_mcp_bound){ .fn = fn,
                              .ud = ud,
                              .dir_fd = -EBADF,
                              .in_fd = -EBADF,
                              .out_fd = -EBADF,
                              .lines = { .max = LLM_MCP_LINE_MAX } };
        atomic_init(&b->stop, false);
        r = bound_open(b, dir, err);
        if (r < 0) {
                llm_mcp_bound_stop(b);
                return r;
        }
        *out = b;
        return 0;
}

const char *const *llm_mcp_bound_paths(const llm_mcp_bound *b) {
        return (const char *const *) b->paths;
}

const char *llm_mcp_bound_dir(const llm_mcp_bound *b) {
        return b->dir;
}

llm_mcp_bound *llm_mcp_bound_stop(llm_mcp_bound *b) {
        if (!b)
                return NULL;
        atomic_store(&b->stop, true);
        if (b->started)
                pthread_join(b->thread, NULL);
        /* Unlinked first: no new relay finds them once the descriptors close. */
        if (b->dir_fd >= 0) {
                unlinkat(b->dir_fd, LLM_MCP_IN, 0);
                unlinkat(b->dir_fd, LLM_MCP_OUT, 0);
        }
        safe_close(b->out_fd);
        safe_close(b->in_fd);
        safe_close(b->dir_fd);
        llm_mcp_lines_done(&b->lines);
        free(b->paths[0]);
        free(b->paths[1]);
        free(b->dir);
        free(b);
        return NULL;
}
