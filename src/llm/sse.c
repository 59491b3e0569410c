/* SPDX-License-Identifier: MIT */
/*
 * Server-sent events (the WHATWG "event stream" format), the framing every model wire
 * streams in. Bytes come in chunks of any size, cut anywhere, even between the CR and LF
 * of one line end; an event goes out when the blank line that ends it arrives. Lines end
 * in CRLF, LF or CR; a line starting with ':' is a comment; "id" and "retry" are read and
 * ignored. A line or an event past its limit (llm-internal.h) is an error: a server that
 * sends one never makes pod hold more than that.
 */
#include <string.h>

#include "llm-internal.h"

void sse_init(sse_parser *p, sse_event_fn fn, void *ud) {
        *p = (sse_parser){ .fn = fn, .ud = ud };
}

void sse_done(sse_parser *p) {
        buf_done(&p->line);
        buf_done(&p->data);
        *p = (sse_parser){ 0 };
}

static int dispatch(sse_parser *p, pod_error *err) {
        int r = 0;

        if (p->has_data) {
                size_t len = p->data.len;
                if (len > 0 && p->data.data[len - 1] == '\n')
                        len--; /* the last data line's newline is not part of the data */
                r = p->fn(p->ud, p->event, len ? p->data.data : "", len, err);
        }
        p->data.len = 0;
        if (p->data.data)
                p->data.data[0] = '\0';
        p->has_data = false;
        p->event[0] = '\0';
        return r;
}

/* One whole line (without its end). */
static int line_done(sse_parser *p, const char *line, size_t len, pod_error *err) {
        const char *colon = memchr(line, ':', len);
        size_t name_len = colon ? (size_t) (colon - line) : len;
        const char *value = colon ? colon + 1 : line + len;
        size_t value_len = len - (size_t) (value - line);

        if (len == 0)
                return dispatch(p, err);
        if (name_len == 0)
                return 0; /* a comment */
        if (value_len > 0 && *value == ' ') {
                value++;
                value_len--;
        }
        if (name_len == 4 && memcmp(line, "data", 4) == 0) {
                if (p->data.len + value_len + 1 > LLM_SSE_EVENT_MAX)
                        return pod_error_set(err, -EMSGSIZE, "the stream sent an event over %u MiB",
                                             LLM_SSE_EVENT_MAX >> 20);
                if (buf_append(&p->data, value, value_len) < 0 || buf_append(&p->data, "\n", 1) < 0)
                        return pod_error_oom(err);
                p->has_data = true;
        } else if (name_len == 5 && memcmp(line, "event", 5) == 0) {
                size_t n = value_len < sizeof(p->event) - 1 ? value_len : sizeof(p->event) - 1;
                memcpy(p->event, value, n);
                p->event[n] = '\0';
        }
        return 0;
}

/* The offset of the first CR or LF in buf[0..len), len if none. */
static size_t line_end(const char *buf, size_t len) {
        for (size_t i = 0; i < len; i++)
                if (buf[i] == '\n' || buf[i] == '\r')
                        return i;
        return len;
}

int sse_feed(sse_parser *p, const char *buf, size_t len, pod_error *err) {
        size_t i = 0;

        while (i < len) {
                size_t n;
                int r;
                if (p->after_cr && buf[i] == '\n') { /* the LF of a CRLF cut between chunks */
                        p->after_cr = false;
                        i++;
                        continue;
                }
                p->after_cr = false;
                n = line_end(buf + i, len - i);
                if (p->line.len + n > LLM_SSE_LINE_MAX)
                        return pod_error_set(err, -EMSGSIZE, "the stream sent a line over %u MiB",
                                             LLM_SSE_LINE_MAX >> 20);
                if (i + n == len) /* no line end in this chunk: keep the part */
                        return buf_append(&p->line, buf + i, n) < 0 ? pod_error_oom(err) : 0;
                if (p->line.len) {
                        if (buf_append(&p->line, buf + i, n) < 0)
                                return pod_error_oom(err);
                        r = line_done(p, p->line.data, p->line.len, err);
                        p->line.len = 0;
                } else
                        r = line_done(p, buf + i, n, err);
                if (r < 0)
                        return r;
                p->after_cr = buf[i + n] == '\r';
                i += n + 1;
        }
        return 0;
}
