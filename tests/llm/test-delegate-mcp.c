/* SPDX-License-Identifier: MIT */
/* The bound MCP server (src/llm/delegate-mcp.c): its line reading alone, then the FIFOs served
 * to relays played by the test (hello, lines, replies), with a stub MCP callback. */
#include <criterion/criterion.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "llm/llm-internal.h"
#include "testutil.h"

/* ---- lines ----------------------------------------------------------------------------------- */

typedef struct seen {
        char lines[8][64];
        bool large[8];
        size_t n, sessions;
        char token[80];
} seen;

static int seen_line(void *ud, const char *line, size_t len, bool too_large) {
        seen *s = ud;

        cr_assert_lt(s->n, 8);
        snprintf(s->lines[s->n], sizeof(s->lines[0]), "%.*s", (int) len, line);
        s->large[s->n++] = too_large;
        return 0;
}

static void seen_session(void *ud, const char *token, size_t len) {
        seen *s = ud;

        s->sessions++;
        snprintf(s->token, sizeof(s->token), "%.*s", (int) len, token ? token : "(none)");
}

static void feed(llm_mcp_lines *l, seen *s, const char *data, size_t n) {
        llm_mcp_lines_ops ops = { .line = seen_line, .session = seen_session, .ud = s };

        cr_assert_eq(llm_mcp_lines_feed(l, data, n, &ops), 0);
}

Test(delegate_mcp, lines_count_only_after_a_hello) {
        llm_mcp_lines l = { 0 };
        seen s = { 0 };

        feed(&l, &s, "before\n\0tok\n{\"a\":1}\r\n\n{\"b\"", 26);
        feed(&l, &s, ":2}\n", 4);
        cr_assert_eq(s.sessions, 1);
        cr_assert_str_eq(s.token, "tok");
        cr_assert_eq(s.n, 2);
        cr_assert_str_eq(s.lines[0], "{\"a\":1}");
        cr_assert_str_eq(s.lines[1], "{\"b\":2}");
        llm_mcp_lines_done(&l);
}

Test(delegate_mcp, a_new_hello_drops_the_partial_line_of_the_last_relay) {
        llm_mcp_lines l = { 0 };
        seen s = { 0 };

        feed(&l, &s, "\0a\n{\"half", 9);
        feed(&l, &s, "\0b\n{\"whole\":1}\n", 15);
        cr_assert_eq(s.sessions, 2);
        cr_assert_eq(s.n, 1);
        cr_assert_str_eq(s.lines[0], "{\"whole\":1}");
        llm_mcp_lines_reset(&l); /* the relay left */
        feed(&l, &s, "{\"after\":1}\n", 12);
        cr_assert_eq(s.n, 1, "nothing counts until the next hello");
        llm_mcp_lines_done(&l);
}

Test(delegate_mcp, a_line_over_the_limit_is_skipped_whole_and_reported) {
        llm_mcp_lines l = { .max = 8 };
        seen s = { 0 };

        feed(&l, &s, "\0\n", 2);
        feed(&l, &s, "12345678\n123456", 15);
        feed(&l, &s, "789\nok\n", 7);
        cr_assert_eq(s.n, 3);
        cr_assert_str_eq(s.lines[0], "12345678");
        cr_assert(!s.large[0]);
        cr_assert(s.large[1]);
        cr_assert_str_eq(s.lines[1], "");
        cr_assert_str_eq(s.lines[2], "ok");
        llm_mcp_lines_done(&l);
}

/* ---- the server ------------------------------------------------------------------------------ */

typedef struct stub {
        pthread_mutex_t lock;
        size_t calls;
        char last[128];
} stub;

/* Echoes each line back: {"jsonrpc":"2.0","id":1,"result":{"echo":LINE}}; "notify" gets none. */
static json_t *stub_mcp(void *ud, const char *line, size_t len) {
        stub *s = ud;

        pthread_mutex_lock(&s->lock);
        s->calls++;
        snprintf(s->last, sizeof(s->last), "%.*s", (int) len, line);
        pthread_mutex_unlock(&s->lock);
        if (len == 6 && memcmp(line, "notify", 6) == 0)
                return NULL;
        return json_pack("{s:s, s:i, s:{s:s%}}", "jsonrpc", "2.0", "id", 1, "result", "echo", line,
                         len);
}

typedef struct fixture {
        char *dir;
        stub st;
        llm_mcp_bound *b;
} fixture;

static void fixture_start(fixture *f) {
        pod_error err = { 0 };

        f->dir = tu_tmpdir();
        pthread_mutex_init(&f->st.lock, NULL);
        cr_assert_eq(llm_mcp_bound_start(&f->b, f->dir, stub_mcp, &f->st, &err), 0, "%s", err.msg);
}

static void fixture_stop(fixture *f) {
        f->b = llm_mcp_bound_stop(f->b);
        tu_rm_rf(f->dir);
        free(f->dir);
        pthread_mutex_destroy(&f->st.lock);
}

typedef struct test_relay {
        int rd, wr;
        const char *dir;
        char hello[32];
        bool answered; /* the server's answer came: what follows is this session's */
        char buf[1 << 16];
        size_t n;
} test_relay;

/* What a relay does: mcp.out for reading, mcp.in for writing, its hello. */
static void relay_attach(test_relay *r, const fixture *f) {
        static unsigned serial;
        char path[512];

        snprintf(path, sizeof(path), "%s/" LLM_MCP_OUT, f->dir);
        r->rd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
        cr_assert_geq(r->rd, 0);
        snprintf(path, sizeof(path), "%s/" LLM_MCP_IN, f->dir);
        r->wr = open(path, O_WRONLY | O_CLOEXEC);
        cr_assert_geq(r->wr, 0);
        r->dir = f->dir;
        r->n = 0;
        r->answered = false;
        snprintf(r->hello, sizeof(r->hello), "%cr%u\n", 0, ++serial);
        cr_assert_eq(write(r->wr, r->hello, strlen(r->hello + 1) + 1),
                     (ssize_t) strlen(r->hello + 1) + 1);
}

static void relay_send(test_relay *r, const char *s) {
        cr_assert_eq(write(r->wr, s, strlen(s)), (ssize_t) strlen(s));
}

/* Bytes read: before the server's answer to our hello (what a previous relay left), dropped. */
static void relay_take(test_relay *r, const char *p, size_t k) {
        size_t hl = strlen(r->hello + 1) + 1;

        for (size_t i = 0; i < k; i++) {
                if (r->answered) {
                        if (p[i] != '\0')
                                r->buf[r->n++] = p[i];
                        continue;
                }
                if (p[i] == '\0')
                        r->n = 0;
                if (r->n < sizeof(r->buf))
                        r->buf[r->n++] = p[i];
                if (r->n == hl && memcmp(r->buf, r->hello, hl) == 0) {
                        r->answered = true;
                        r->n = 0;
                }
        }
}

/* The next line the server wrote after its answer, or NULL at its end. */
static char *relay_line(test_relay *r) {
        char chunk[4096];

        for (;;) {
                char *nl = r->answered ? memchr(r->buf, '\n', r->n) : NULL;
                struct pollfd p = { .fd = r->rd, .events = POLLIN };
                ssize_t k;

                if (nl) {
                        char *line = str_from_mem(r->buf, (size_t) (nl - r->buf));
                        r->n -= (size_t) (nl + 1 - r->buf);
                        memmove(r->buf, nl + 1, r->n);
                        return line;
                }
                cr_assert_gt(poll(&p, 1, 10000), 0, "the server answers");
                k = read(r->rd, chunk, sizeof(chunk));
                if (k == 0 && !r->answered) { /* a previous session's writer closed */
                        char path[512];
                        int fd;
                        snprintf(path, sizeof(path), "%s/" LLM_MCP_OUT, r->dir);
                        fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
                        cr_assert_geq(fd, 0);
                        close(r->rd);
                        r->rd = fd;
                        continue;
                }
                if (k <= 0)
                        return NULL;
                relay_take(r, chunk, (size_t) k);
        }
}

static void relay_close(test_relay *r) {
        close(r->wr);
        close(r->rd);
}

static void assert_echo(test_relay *r, const char *sent) {
        _cleanup_free_ char *line = relay_line(r);
        json_auto_t *v = line ? json_loads(line, 0, NULL) : NULL;

        cr_assert(v, "a JSON line: %s", line ? line : "(end)");
        cr_assert_str_eq(json_string_value(json_object_get(json_object_get(v, "result"), "echo")),
                         sent);
}

Test(delegate_mcp, makes_private_fifos_and_removes_them_when_stopped) {
        fixture f = { 0 };
        struct stat st;
        const char *const *paths;

        fixture_start(&f);
        paths = llm_mcp_bound_paths(f.b);
        cr_assert_str_eq(llm_mcp_bound_dir(f.b), f.dir);
        for (size_t i = 0; i < 2; i++) {
                cr_assert_eq(lstat(paths[i], &st), 0, "%s", paths[i]);
                cr_assert(S_ISFIFO(st.st_mode));
                cr_assert_eq(st.st_mode & 0777, 0600);
        }
        cr_assert_null(paths[2]);
        f.b = llm_mcp_bound_stop(f.b);
        for (size_t i = 0; i < 2; i++) {
                char *p = tu_path(f.dir, i ? LLM_MCP_OUT : LLM_MCP_IN);
                cr_assert_neq(access(p, F_OK), 0, "%s is removed", p);
                free(p);
        }
        fixture_stop(&f);
}

Test(delegate_mcp, replaces_a_stale_file_of_the_same_name) {
        fixture f = { 0 };
        struct stat st;
        pod_error err = { 0 };

        f.dir = tu_tmpdir();
        tu_write(f.dir, LLM_MCP_IN, "stale");
        pthread_mutex_init(&f.st.lock, NULL);
        cr_assert_eq(llm_mcp_bound_start(&f.b, f.dir, stub_mcp, &f.st, &err), 0, "%s", err.msg);
        cr_assert_eq(lstat(llm_mcp_bound_paths(f.b)[0], &st), 0);
        cr_assert(S_ISFIFO(st.st_mode));
        fixture_stop(&f);
}

Test(delegate_mcp, each_line_goes_to_the_callback_and_its_reply_comes_back) {
        fixture f = { 0 };
        test_relay r;

        fixture_start(&f);
        relay_attach(&r, &f);
        relay_send(&r, "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"ping\"}\nnotify\nsecond\r\n");
        assert_echo(&r, "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"ping\"}");
        assert_echo(&r, "second"); /* the notification got no reply */
        cr_assert_eq(f.st.calls, 3);
        relay_close(&r);
        fixture_stop(&f);
}

Test(delegate_mcp, a_relay_that_left_mid_line_leaves_the_next_one_a_clean_session) {
        fixture f = { 0 };
        test_relay r;

        fixture_start(&f);
        relay_attach(&r, &f);
        relay_send(&r, "first\n{\"half\":");
        assert_echo(&r, "first");
        relay_close(&r); /* gone with half a line sent */
        relay_attach(&r, &f);
        relay_send(&r, "again\n");
        assert_echo(&r, "again");
        pthread_mutex_lock(&f.st.lock);
        cr_assert_eq(f.st.calls, 2, "the half line never reached the callback");
        pthread_mutex_unlock(&f.st.lock);
        relay_close(&r);
        fixture_stop(&f);
}

Test(delegate_mcp, a_relay_that_leaves_before_its_replies_does_not_stop_the_server) {
        fixture f = { 0 };
        test_relay r;

        fixture_start(&f);
        relay_attach(&r, &f);
        close(r.rd); /* the replies have no reader: the server's write fails, quietly */
        relay_send(&r, "lost\nlost too\n");
        close(r.wr);
        relay_attach(&r, &f);
        relay_send(&r, "heard\n");
        assert_echo(&r, "heard");
        relay_close(&r);
        fixture_stop(&f);
}

Test(delegate_mcp, a_line_over_the_frame_limit_gets_an_error_and_the_session_goes_on) {
        fixture f = { 0 };
        test_relay r;
        size_t n = LLM_MCP_LINE_MAX + 10;
        char *big = malloc(n + 1);
        _cleanup_free_ char *line = NULL;
        json_auto_t *v = NULL;

        fixture_start(&f);
        relay_attach(&r, &f);
        memset(big, 'x', n);
        big[n] = '\n';
        for (size_t off = 0; off <= n;) {
                ssize_t k = write(r.wr, big + off, n + 1 - off);
                cr_assert_gt(k, 0);
                off += (size_t) k;
        }
        relay_send(&r, "after\n");
        line = relay_line(&r);
        v = json_loads(line, 0, NULL);
        cr_assert(json_is_null(json_object_get(v, "id")));
        cr_assert_eq(json_integer_value(json_object_get(json_object_get(v, "error"), "code")),
                     -32004);
        assert_echo(&r, "after");
        cr_assert_eq(f.st.calls, 1);
        free(big);
        relay_close(&r);
        fixture_stop(&f);
}

Test(delegate_mcp, stopping_ends_the_relays_output) {
        fixture f = { 0 };
        test_relay r;
        char *line;

        fixture_start(&f);
        relay_attach(&r, &f);
        relay_send(&r, "one\n");
        assert_echo(&r, "one");
        f.b = llm_mcp_bound_stop(f.b);
        line = relay_line(&r);
        cr_assert_null(line, "the end of mcp.out, not %s", line);
        relay_close(&r);
        fixture_stop(&f);
}

Test(delegate_mcp, a_missing_directory_is_a_clear_error) {
        llm_mcp_bound *b = NULL;
        pod_error err = { 0 };

        cr_assert_lt(llm_mcp_bound_start(&b, "/nonexistent/pod-dir", stub_mcp, NULL, &err), 0);
        cr_assert_null(b);
        cr_assert(strstr(err.msg, "/nonexistent/pod-dir"), "%s", err.msg);
}
