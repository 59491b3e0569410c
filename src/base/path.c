/* SPDX-License-Identifier: MIT */
/* Lexical helpers for absolute paths; canonicalisation against the filesystem is scope's. */
#include <string.h>

#include "base.h"

char *path_join(const char *a, const char *b) {
        size_t la = strlen(a);
        pod_buf buf = { 0 };

        while (la > 1 && a[la - 1] == '/')
                la--;
        while (*b == '/')
                b++;
        buf_append(&buf, a, la);
        if (!(la == 1 && a[0] == '/') && *b)
                buf_puts(&buf, "/");
        buf_puts(&buf, b);
        return buf_steal(&buf);
}

bool path_is_under(const char *path, const char *prefix) {
        size_t n = strlen(prefix);

        if (strcmp(prefix, "/") == 0)
                return path[0] == '/';
        if (strncmp(path, prefix, n) != 0)
                return false;
        return path[n] == '\0' || path[n] == '/';
}

char *path_parent(const char *path) {
        const char *slash = strrchr(path, '/');

        if (!slash || slash == path)
                return strdup("/");
        return strndup(path, (size_t) (slash - path));
}

const char *path_basename(const char *path) {
        const char *slash = strrchr(path, '/');

        return slash ? slash + 1 : path;
}
