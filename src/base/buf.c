/* SPDX-License-Identifier: MIT */
/*
 * A growable text buffer. An allocation failure is sticky (b->oom), so a long run of
 * appends can be checked once at the end instead of after every call.
 */
#include <stdio.h>
#include <string.h>

#include "base.h"

static int buf_reserve(pod_buf *b, size_t extra) {
        size_t need, cap;
        char *d;

        if (b->oom)
                return -ENOMEM;
        if (extra > SIZE_MAX / 2 - b->len)
                goto oom;
        need = b->len + extra + 1;
        if (need <= b->cap)
                return 0;
        cap = b->cap ? b->cap : 64;
        while (cap < need)
                cap *= 2;
        d = realloc(b->data, cap);
        if (!d)
                goto oom;
        b->data = d;
        b->cap = cap;
        return 0;
oom:
        b->oom = true;
        return -ENOMEM;
}

int buf_append(pod_buf *b, const char *s, size_t n) {
        if (buf_reserve(b, n) < 0)
                return -ENOMEM;
        memcpy(b->data + b->len, s, n);
        b->len += n;
        b->data[b->len] = '\0';
        return 0;
}

int buf_puts(pod_buf *b, const char *s) {
        return buf_append(b, s, strlen(s));
}

int buf_printf(pod_buf *b, const char *fmt, ...) {
        va_list ap;
        int n;

        va_start(ap, fmt);
        n = vsnprintf(NULL, 0, fmt, ap);
        va_end(ap);
        if (n < 0 || buf_reserve(b, (size_t) n) < 0)
                return -ENOMEM;
        va_start(ap, fmt);
        vsnprintf(b->data + b->len, (size_t) n + 1, fmt, ap);
        va_end(ap);
        b->len += (size_t) n;
        return 0;
}

const char *buf_str(pod_buf *b) {
        if (b->oom)
                return NULL;
        if (!b->data && buf_reserve(b, 0) < 0)
                return NULL;
        b->data[b->len] = '\0';
        return b->data;
}

char *buf_steal(pod_buf *b) {
        char *d;

        if (!buf_str(b)) {
                buf_done(b);
                return NULL;
        }
        d = b->data;
        *b = (pod_buf){ 0 };
        return d;
}

void buf_done(pod_buf *b) {
        free(b->data);
        *b = (pod_buf){ 0 };
}
