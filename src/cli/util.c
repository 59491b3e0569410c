/* SPDX-License-Identifier: MIT */
/* Output helpers shared by the subcommands: one-line diagnostics, JSON, the pod cwd. */
#include <limits.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"

static bool json_errors;

bool cli_colour(FILE *f) {
        const char *nc = getenv("NO_COLOR"), *term = getenv("TERM");

        return isatty(fileno(f)) && !(nc && nc[0]) && !(term && strcmp(term, "dumb") == 0);
}

void cli_json_errors(int argc, char **argv) {
        for (int i = 1; i < argc && strcmp(argv[i], "--") != 0; i++)
                json_errors |= strcmp(argv[i], "--json") == 0;
}

int cli_fail(int code, const char *fmt, ...) {
        char msg[POD_ERROR_MAX * 2];
        va_list ap;

        va_start(ap, fmt);
        vsnprintf(msg, sizeof(msg), fmt, ap);
        va_end(ap);
        /* A refusal stands out on a terminal (never with NO_COLOR, never in a pipe). */
        fprintf(stderr, "%spod:%s %s\n", cli_colour(stderr) ? "\033[1;31m" : "",
                cli_colour(stderr) ? "\033[0m" : "", msg);
        if (json_errors) { /* one object for scripts, without the usage text that may follow */
                json_t *j = json_pack("{s:s, s:s%}", "status", "failed", "error", msg,
                                      strcspn(msg, "\n"));
                /* One line: with `run --json` it ends a stream of JSON lines. */
                if (j && json_dumpf(j, stdout, JSON_COMPACT) == 0)
                        fputc('\n', stdout);
                json_decref(j);
                json_errors = false;
        }
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

int cli_open_registry(pod_registry **out, char **envp) {
        pod_dirs dirs = { 0 };
        pod_error err = { 0 };
        int r;

        if (pod_dirs_from_env(&dirs, envp, getuid(), &err) < 0)
                return cli_fail(EXIT_USAGE, "%s", err.msg);
        r = registry_open(out, dirs.runtime_dir, &err);
        pod_dirs_done(&dirs);
        return r < 0 ? cli_fail(EXIT_RUNTIME, "%s", err.msg) : EXIT_OK;
}

int cli_find_pod(json_t **out, pod_registry *reg, const char *name) {
        pod_error err = { 0 };
        int r = registry_read_live(out, reg, name, &err);

        if (r == -ESRCH)
                return cli_fail(EXIT_USAGE, "%s", err.msg);
        if (r < 0)
                return cli_fail(EXIT_USAGE, "%s (see 'pod ps')", err.msg);
        return EXIT_OK;
}

/* -x is the legacy --executor's short form, known only where --executor is. */
static bool takes_executor(const struct option *longopts) {
        for (const struct option *l = longopts; l->name; l++)
                if (l->val == CLI_OPT_EXECUTOR)
                        return true;
        return false;
}

int cli_next_option(cli_opts *o, int *ret_opt) {
        int c;

        if (!o->started) {
                optind = 1;
                opterr = 0;
                o->started = true;
        }
        c = getopt_long(o->argc, o->argv, takes_executor(o->longopts) ? "hx:" : "h", o->longopts,
                        NULL);
        if (c < 0)
                return 0;
        if (c == 'h') {
                fputs(o->help, stdout);
                return -1;
        }
        if (c == '?' || c == ':') {
                cli_fail(EXIT_USAGE, "%s: unknown or incomplete option '%s'\n%s", o->argv[0],
                         o->argv[optind - 1], o->help);
                return -2;
        }
        *ret_opt = c;
        return 1;
}

bool cli_single_word(const char *arg) {
        if (!arg[0] || arg[0] == '-')
                return false;
        for (const char *p = arg; *p; p++)
                if (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r' || *p == '\v' || *p == '\f')
                        return false;
        return true;
}

bool cli_printable(const char *s, size_t max) {
        size_t n = 0;

        for (; s[n]; n++)
                if (n >= max || (unsigned char) s[n] < 0x20 || (unsigned char) s[n] >= 0x7f)
                        return false;
        return true;
}

const char *cli_closest(const char *word, const char *const *names, size_t n) {
        const char *best = NULL;
        size_t best_d = SIZE_MAX;

        for (size_t i = 0; i < n; i++) {
                size_t d = str_edit_distance(word, names[i]);
                if (d < best_d) {
                        best_d = d;
                        best = names[i];
                }
        }
        /* Near: at most a third of the word wrong, and at least 2 edits allowed. */
        return best && best_d <= (strlen(word) / 3 > 2 ? strlen(word) / 3 : 2) ? best : NULL;
}
