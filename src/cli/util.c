/* SPDX-License-Identifier: MIT */
/* Output helpers shared by the subcommands: one-line diagnostics, JSON, the pod cwd. */
#include <limits.h>
#include <string.h>
#include <sys/stat.h>

#include "cli.h"

int cli_fail(int code, const char *fmt, ...) {
        va_list ap;

        fputs("pod: ", stderr);
        va_start(ap, fmt);
        vfprintf(stderr, fmt, ap);
        va_end(ap);
        fputc('\n', stderr);
        return code;
}

void cli_warn(const char *fmt, ...) {
        va_list ap;

        fputs("pod: warning: ", stderr);
        va_start(ap, fmt);
        vfprintf(stderr, fmt, ap);
        va_end(ap);
        fputc('\n', stderr);
}

int cli_resolve_cwd(char **out, const char *opt) {
        char here[PATH_MAX];
        pod_error err = { 0 };
        struct stat st;
        char *canon;

        if (!getcwd(here, sizeof(here)))
                return cli_fail(EXIT_RUNTIME, "cannot determine the current directory: %s",
                                strerror(errno));
        if (!opt) {
                canon = strdup(here);
                if (!canon)
                        return cli_fail(EXIT_RUNTIME, "out of memory");
                *out = canon;
                return EXIT_OK;
        }
        if (scope_canonicalize(&canon, opt, here, &err) < 0)
                return cli_fail(EXIT_USAGE, "--cwd: %s", err.msg);
        if (stat(canon, &st) < 0 || !S_ISDIR(st.st_mode)) {
                free(canon);
                return cli_fail(EXIT_USAGE, "--cwd %s: not an existing directory", opt);
        }
        *out = canon;
        return EXIT_OK;
}

int cli_print_json(const json_t *j) {
        char *s = json_dumps(j, JSON_INDENT(2) | JSON_PRESERVE_ORDER);

        if (!s)
                return cli_fail(EXIT_RUNTIME, "out of memory");
        puts(s);
        free(s);
        return EXIT_OK;
}
