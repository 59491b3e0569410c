/* SPDX-License-Identifier: MIT */
/*
 * Errors: a fixed-size, one-line message travelling beside a negative errno, so the error
 * path never allocates and the function that knows the cause writes it once.
 */
#include <stdio.h>
#include <string.h>

#include "base.h"

static void sanitize_line(char *s) {
        /* Keep the message on one line whatever the formatted values held. */
        for (; *s; s++)
                if (*s == '\n' || *s == '\r')
                        *s = ' ';
}

int pod_error_setv(pod_error *err, int code, const char *fmt, va_list ap) {
        if (code >= 0)
                code = -EINVAL;
        if (!err)
                return code;
        err->code = code;
        vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
        sanitize_line(err->msg);
        return code;
}

int pod_error_set(pod_error *err, int code, const char *fmt, ...) {
        va_list ap;

        va_start(ap, fmt);
        code = pod_error_setv(err, code, fmt, ap);
        va_end(ap);
        return code;
}

int pod_error_at(pod_error *err, int code, const char *where, unsigned line, const char *fmt, ...) {
        char what[POD_ERROR_MAX];
        va_list ap;

        va_start(ap, fmt);
        vsnprintf(what, sizeof(what), fmt, ap);
        va_end(ap);
        if (line)
                return pod_error_set(err, code, "%s:%u: %s", where, line, what);
        return pod_error_set(err, code, "%s: %s", where, what);
}

int pod_error_prefix(pod_error *err, const char *fmt, ...) {
        char prefix[POD_ERROR_MAX], old[POD_ERROR_MAX];
        va_list ap;
        size_t n;

        if (!err)
                return -EINVAL;
        va_start(ap, fmt);
        vsnprintf(prefix, sizeof(prefix), fmt, ap);
        va_end(ap);
        memcpy(old, err->msg, sizeof(old));
        n = strlen(prefix);
        memcpy(err->msg, prefix, n + 1);
        /* Append what fits of the old message; the buffer always ends in a NUL. */
        strncat(err->msg, old, sizeof(err->msg) - n - 1);
        sanitize_line(err->msg);
        return err->code < 0 ? err->code : -EINVAL;
}

int pod_error_errno(pod_error *err, const char *fmt, ...) {
        char what[POD_ERROR_MAX];
        int e = errno > 0 ? errno : EIO; /* read before anything here can change it */
        va_list ap;

        va_start(ap, fmt);
        vsnprintf(what, sizeof(what), fmt, ap);
        va_end(ap);
        return pod_error_set(err, -e, "%s: %s", what, strerror(e));
}
