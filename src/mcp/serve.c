/* SPDX-License-Identifier: MIT */
/*
 * Serving MCP over a pair of descriptors (stdio): the input split into lines of at most
 * MCP_FRAME_MAX bytes, each answered in order; tools/call requests run one at a time on a
 * thread of their own (a WaitPod may take minutes), so that pings, lists and the client's
 * disconnection are seen meanwhile. Replies go out whole, one line each, under one lock.
 */
#include <poll.h>
#include <pthread.h>
#include <string.h>
#include <unistd.h>

#include "mcp.h"

/* ---- framing ------------------------------------------------------------------------------ */

static int emit(mcp_reader *r, mcp_line_fn on_line, void *ud) {
        size_t len = r->line.len;
        bool too_large = r->skipping;
        int k;

        if (len && r->line.data[len - 1] == '\r')
                len--;
        r->skipping = false;
        k = too_large || len ? on_line(ud, r->line.data, len, too_large) : 0;
        r->line.len = 0;
        if (r->line.data)
                r->line.data[0] = '\0';
        return k;
}

int mcp_reader_feed(mcp_reader *r, const char *data, size_t n, mcp_line_fn on_line, void *ud) {
        while (n > 0) {
                const char *nl = memchr(data, '\n', n);
                size_t take = nl ? (size_t) (nl - data) : n;
                int k;

                if (!r->skipping && r->line.len + take > r->max) {
                        r->skipping = true; /* the rest of this line is dropped unread */
                        r->line.len = 0;
                }
                if (!r->skipping && buf_append(&r->line, data, take) < 0)
                        return -ENOMEM;
                data += take;
                n -= take;
                if (!nl)
                        break;
                data++;
                n--;
                k = emit(r, on_line, ud);
                if (k < 0)
                        return k;
        }
        return 0;
}

void mcp_reader_done(mcp_reader *r) {
        buf_done(&r->line);
        *r = (mcp_reader){ 0 };
}

/* ---- serving ------------------------------------------------------------------------------ */

typedef struct serve_state {
        mcp_server *s;
        int out_fd;
        const mcp_serve_hooks *hooks;
        pthread_mutex_t lock; /* the queue, and the output */
        pthread_cond_t more;
        mcp_job *queue[MCP_QUEUE_MAX];
        size_t head, n;
        bool closing; /* no more jobs: the caller thread leaves */
        bool gone; /* the client's output closed */
} serve_state;

int mcp_write_all(int fd, const char *p, size_t n) {
        while (n > 0) {
                ssize_t k = write(fd, p, n);
                if (k < 0 && errno == EINTR)
                        continue;
                if (k < 0 && errno == EAGAIN) {
                        struct pollfd pfd = { .fd = fd, .events = POLLOUT };
                        poll(&pfd, 1, 1000);
                        continue;
                }
                if (k <= 0)
                        return k < 0 ? -errno : -EPIPE;
                p += k;
                n -= (size_t) k;
        }
        return 0;
}

/* One reply (consumed) as one line; a closed output marks the client gone. */
static void send_reply(serve_state *st, json_t *msg) {
        char *text = msg ? json_dumps(msg, JSON_COMPACT) : NULL;

        json_decref(msg);
        if (!text)
                return;
        pthread_mutex_lock(&st->lock);
        if (!st->gone &&
            (mcp_write_all(st->out_fd, text, strlen(text)) < 0 ||
             mcp_write_all(st->out_fd, "\n", 1) < 0))
                st->gone = true;
        pthread_mutex_unlock(&st->lock);
        free(text);
}

static void *caller(void *arg) {
        serve_state *st = arg;

        pthread_mutex_lock(&st->lock);
        for (;;) {
                mcp_job *job;
                while (!st->n && !st->closing)
                        pthread_cond_wait(&st->more, &st->lock);
                if (!st->n)
                        break;
                job = st->queue[st->head];
                st->head = (st->head + 1) % MCP_QUEUE_MAX;
                st->n--;
                pthread_mutex_unlock(&st->lock);
                send_reply(st, mcp_job_run(st->s, job));
                pthread_mutex_lock(&st->lock);
        }
        pthread_mutex_unlock(&st->lock);
        return NULL;
}

static int on_line(void *ud, const char *line, size_t len, bool too_large) {
        serve_state *st = ud;
        mcp_job *job = NULL;
        json_t *answer = too_large ? mcp_too_large() : mcp_answer(st->s, line, len, &job);
        bool queued = false;

        if (job) {
                pthread_mutex_lock(&st->lock);
                if (st->n < MCP_QUEUE_MAX) {
                        st->queue[(st->head + st->n) % MCP_QUEUE_MAX] = job;
                        st->n++;
                        queued = true;
                        pthread_cond_signal(&st->more);
                }
                pthread_mutex_unlock(&st->lock);
                if (!queued) {
                        mcp_job_free(job);
                        answer = rpc_error(NULL, RPC_BUSY, "too many tools/call requests waiting");
                }
        }
        send_reply(st, answer);
        return 0;
}

/* Read until the end of input, a closed output or the hook's stop. */
static void read_loop(serve_state *st, int in_fd) {
        mcp_reader rd = { .max = MCP_FRAME_MAX };
        char chunk[65536];

        for (;;) {
                struct pollfd pfd = { .fd = in_fd, .events = POLLIN };
                ssize_t k;
                bool gone;

                if (st->hooks && st->hooks->stopping && st->hooks->stopping(st->hooks->ud))
                        break;
                pthread_mutex_lock(&st->lock);
                gone = st->gone;
                pthread_mutex_unlock(&st->lock);
                if (gone)
                        break;
                if (poll(&pfd, 1, 500) <= 0)
                        continue; /* a signal, or time to look at the hook again */
                k = read(in_fd, chunk, sizeof(chunk));
                if (k < 0 && (errno == EINTR || errno == EAGAIN))
                        continue;
                if (k <= 0 || mcp_reader_feed(&rd, chunk, (size_t) k, on_line, st) < 0)
                        break;
        }
        mcp_reader_done(&rd);
}

int mcp_serve(mcp_server *s, int in_fd, int out_fd, const mcp_serve_hooks *hooks, pod_error *err) {
        serve_state st = { .s = s, .out_fd = out_fd, .hooks = hooks };
        pthread_t thread;
        int r;

        pthread_mutex_init(&st.lock, NULL);
        pthread_cond_init(&st.more, NULL);
        r = -pthread_create(&thread, NULL, caller, &st);
        if (r < 0) {
                pthread_cond_destroy(&st.more);
                pthread_mutex_destroy(&st.lock);
                return pod_error_set(err, r, "starting the MCP server's thread: %s", strerror(-r));
        }
        read_loop(&st, in_fd);
        /* The client is gone or the pod stops: the call running ends (WaitPod watches the
         * pod's cancel flag), those waiting are dropped. */
        if (hooks && hooks->disconnected)
                hooks->disconnected(hooks->ud);
        pthread_mutex_lock(&st.lock);
        st.closing = true;
        for (; st.n; st.n--, st.head = (st.head + 1) % MCP_QUEUE_MAX)
                mcp_job_free(st.queue[st.head]);
        pthread_cond_signal(&st.more);
        pthread_mutex_unlock(&st.lock);
        pthread_join(thread, NULL);
        pthread_cond_destroy(&st.more);
        pthread_mutex_destroy(&st.lock);
        return 0;
}
