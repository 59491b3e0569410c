/* SPDX-License-Identifier: MIT */
#include "llm-test.h"

/* The events as "name|data" lines. */
static int collect(void *ud, const char *event, const char *data, size_t len, pod_error *err) {
        (void) err;
        return buf_printf(ud, "%s|%.*s\n", event, (int) len, data) < 0 ? -ENOMEM : 0;
}

static char *events_of(const char *data, size_t len, size_t split, int *ret) {
        pod_buf out = { 0 };
        sse_parser p;

        sse_init(&p, collect, &out);
        *ret = sse_feed(&p, data, split, NULL);
        if (*ret >= 0)
                *ret = sse_feed(&p, data + split, len - split, NULL);
        sse_done(&p);
        buf_puts(&out, "");
        return buf_steal(&out);
}

static const char *const streams[] = { "anthropic-tools.sse", "anthropic-text.sse",
                                       "chat-tools.sse",      "chat-quirks.sse",
                                       "chat-text.sse",       "responses-tools.sse",
                                       "responses-text.sse" };

Test(sse, every_split_of_a_recorded_stream_gives_the_same_events) {
        for (size_t s = 0; s < POD_ARRAY_SIZE(streams); s++) {
                size_t len;
                char *data = llm_test_read(streams[s], &len);
                int r;
                char *want = events_of(data, len, len, &r);
                cr_assert_eq(r, 0);
                cr_assert_gt(strlen(want), 100, "%s has events", streams[s]);
                for (size_t i = 0; i <= len; i++) {
                        char *got = events_of(data, len, i, &r);
                        cr_assert_eq(r, 0);
                        cr_assert_str_eq(got, want, "%s split at %zu", streams[s], i);
                        free(got);
                }
                free(want);
                free(data);
        }
}

Test(sse, crlf_cr_and_lf_line_ends_read_alike_even_cut_between_cr_and_lf) {
        const char *lf = "event: a\ndata: x\ndata: y\n\n:comment\ndata:z\n\n";
        const char *crlf = "event: a\r\ndata: x\r\ndata: y\r\n\r\n:comment\r\ndata:z\r\n\r\n";
        const char *cr = "event: a\rdata: x\rdata: y\r\r:comment\rdata:z\r\r";
        int r;
        char *want = events_of(lf, strlen(lf), 0, &r);

        cr_assert_str_eq(want, "a|x\ny\n|z\n");
        for (size_t i = 0; i <= strlen(crlf); i++) {
                char *got = events_of(crlf, strlen(crlf), i, &r);
                cr_assert_str_eq(got, want, "CRLF split at %zu", i);
                free(got);
        }
        for (size_t i = 0; i <= strlen(cr); i++) {
                char *got = events_of(cr, strlen(cr), i, &r);
                cr_assert_str_eq(got, want, "CR split at %zu", i);
                free(got);
        }
        free(want);
}

Test(sse, an_event_without_data_is_not_sent_and_its_name_does_not_leak) {
        const char *s = "event: ping\n\ndata: 1\n\nid: 7\nretry: 5\nevent: e\ndata: 2\n\ndata: 3";
        int r;
        char *got = events_of(s, strlen(s), 0, &r);

        cr_assert_str_eq(got, "|1\ne|2\n", "an unfinished event at the end is not sent");
        free(got);
}

Test(sse, a_line_past_its_limit_is_an_error_not_unbounded_memory) {
        size_t chunk = 1u << 20;
        char *block = malloc(chunk);
        pod_error err = { 0 };
        pod_buf out = { 0 };
        sse_parser p;
        int r = 0;

        memset(block, 'a', chunk);
        memcpy(block, "data: ", 6);
        sse_init(&p, collect, &out);
        for (size_t sent = 0; r == 0 && sent <= LLM_SSE_LINE_MAX; sent += chunk)
                r = sse_feed(&p, block, chunk, &err);
        cr_assert_eq(r, -EMSGSIZE);
        cr_assert(strstr(err.msg, "line over 8 MiB") && !strchr(err.msg, '\n'), "%s", err.msg);
        cr_assert_leq(p.line.cap, 2 * (size_t) LLM_SSE_LINE_MAX);
        sse_done(&p);
        buf_done(&out);
        free(block);
}

Test(sse, an_event_past_its_limit_is_an_error) {
        size_t n = 1u << 20;
        char *line = malloc(n + 8);
        pod_error err = { 0 };
        pod_buf out = { 0 };
        sse_parser p;
        int r = 0;

        memcpy(line, "data: ", 6);
        memset(line + 6, 'b', n - 7);
        line[n - 1] = '\n';
        sse_init(&p, collect, &out);
        for (size_t sent = 0; r == 0 && sent <= LLM_SSE_EVENT_MAX; sent += n)
                r = sse_feed(&p, line, n, &err);
        cr_assert_eq(r, -EMSGSIZE);
        cr_assert(strstr(err.msg, "event over"), "%s", err.msg);
        sse_done(&p);
        buf_done(&out);
        free(line);
}
