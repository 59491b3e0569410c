/* SPDX-License-Identifier: MIT */
/* String predicates: prefixes, UTF-8 validity, the slug and variable-name grammars. */
#include <limits.h>
#include <stdio.h>
#include <string.h>

#include "base.h"

bool str_startswith(const char *s, const char *prefix) {
        return strncmp(s, prefix, strlen(prefix)) == 0;
}

bool str_endswith(const char *s, const char *suffix) {
        size_t n = strlen(s), m = strlen(suffix);

        return n >= m && memcmp(s + n - m, suffix, m) == 0;
}

/* Length of the UTF-8 sequence at s (1..4), or 0 if it is not well-formed (RFC 3629). */
static size_t utf8_seq_len(const unsigned char *s, size_t n) {
        unsigned char c = s[0];
        size_t len;
        uint32_t cp;

        if (c == 0)
                return 0;
        if (c < 0x80)
                return 1;
        if (c >= 0xc2 && c <= 0xdf)
                len = 2, cp = c & 0x1f;
        else if (c >= 0xe0 && c <= 0xef)
                len = 3, cp = c & 0x0f;
        else if (c >= 0xf0 && c <= 0xf4)
                len = 4, cp = c & 0x07;
        else
                return 0;
        if (len > n)
                return 0;
        for (size_t i = 1; i < len; i++) {
                if ((s[i] & 0xc0) != 0x80)
                        return 0;
                cp = (cp << 6) | (s[i] & 0x3f);
        }
        if ((len == 3 && cp < 0x800) || (len == 4 && (cp < 0x10000 || cp > 0x10ffff)) ||
            (cp >= 0xd800 && cp <= 0xdfff))
                return 0;
        return len;
}

size_t utf8_invalid_offset(const char *s, size_t n) {
        const unsigned char *u = (const unsigned char *) s;
        size_t i = 0;

        while (i < n) {
                size_t l = utf8_seq_len(u + i, n - i);
                if (l == 0)
                        return i;
                i += l;
        }
        return n;
}

bool utf8_valid(const char *s, size_t n) {
        return utf8_invalid_offset(s, n) == n;
}

char *utf8_clean(const char *s, size_t n) {
        pod_buf b = { 0 };

        for (;;) {
                size_t ok = utf8_invalid_offset(s, n);
                buf_append(&b, s, ok);
                if (ok == n)
                        break;
                buf_puts(&b, "\xef\xbf\xbd");
                s += ok + 1;
                n -= ok + 1;
        }
        return buf_steal(&b);
}

static bool slug_char(char c, bool first) {
        if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'))
                return true;
        return !first && (c == '.' || c == '_' || c == '-');
}

bool slug_valid(const char *s) {
        size_t n;

        if (!s)
                return false;
        n = strlen(s);
        if (n == 0 || n > POD_SLUG_MAX)
                return false;
        for (size_t i = 0; i < n; i++)
                if (!slug_char(s[i], i == 0))
                        return false;
        return true;
}

bool env_name_valid(const char *s) {
        size_t n;

        if (!s)
                return false;
        n = strlen(s);
        if (n == 0 || n > 128)
                return false;
        for (size_t i = 0; i < n; i++) {
                char c = s[i];
                bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '_' ||
                        (i > 0 && c >= '0' && c <= '9');
                if (!ok)
                        return false;
        }
        return true;
}

char *str_from_mem(const void *p, size_t n) {
        char *s = malloc(n + 1);

        if (!s)
                return NULL;
        memcpy(s, p, n);
        s[n] = '\0';
        return s;
}

char *str_quote(const char *s, size_t max) {
        _cleanup_buf_ pod_buf b = { 0 };
        size_t n = strlen(s);

        buf_puts(&b, "'");
        for (size_t i = 0; i < n && i < max; i++) {
                unsigned char c = (unsigned char) s[i];
                if (c == '\'' || c == '\\')
                        buf_printf(&b, "\\%c", c);
                else if (c < 0x20 || c == 0x7f)
                        buf_printf(&b, "\\x%02x", c);
                else
                        buf_append(&b, (const char *) &s[i], 1);
        }
        buf_puts(&b, n > max ? "'…" : "'");
        return buf_steal(&b);
}

int str_to_int(const char *s, int *ret) {
        char *end = NULL;
        long v;

        if (!s || !*s || !(s[0] == '-' || (s[0] >= '0' && s[0] <= '9')))
                return -EINVAL;
        errno = 0;
        v = strtol(s, &end, 10);
        if (*end)
                return -EINVAL;
        if (errno == ERANGE || v < INT_MIN || v > INT_MAX)
                return -ERANGE;
        *ret = (int) v;
        return 0;
}

size_t str_edit_distance(const char *a, const char *b) {
        size_t n = strnlen(a, POD_EDIT_DISTANCE_MAX), m = strnlen(b, POD_EDIT_DISTANCE_MAX);
        size_t row[POD_EDIT_DISTANCE_MAX + 1];

        for (size_t j = 0; j <= m; j++)
                row[j] = j;
        for (size_t i = 1; i <= n; i++) {
                size_t diag = row[0];
                row[0] = i;
                for (size_t j = 1; j <= m; j++) {
                        size_t up = row[j], best = diag + (a[i - 1] != b[j - 1]);
                        if (up + 1 < best)
                                best = up + 1;
                        if (row[j - 1] + 1 < best)
                                best = row[j - 1] + 1;
                        diag = up;
                        row[j] = best;
                }
        }
        return row[m];
}
