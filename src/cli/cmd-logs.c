/* SPDX-License-Identifier: MIT */
/*
 * `pod logs NAME [-f] [--run ID]`: a pod's transcript, readable: the running pod's (-f
 * follows it until it ends), else the latest recorded run of that name, or run ID.
 */
#include <getopt.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "cli.h"

/* The model's text as it streams in (delta events), then the turn's whole text event, which
 * is not printed again: a newline ends the streamed line. */
static bool streamed;

static bool print_stream(const char *type, const json_t *ev) {
        if (strcmp(type, "delta") == 0) {
                fputs(json_string_value(json_object_get(ev, "text")) ?: "", stdout);
                streamed = true;
                return true;
        }
        if (strcmp(type, "tool_call_delta") == 0)
                return true;
        if (streamed) {
                putchar('\n');
                streamed = false;
                if (strcmp(type, "text") == 0)
                        return true;
        }
        if (strcmp(type, "retry") == 0) {
                printf("[retry %lld in %lld ms: %s]\n",
                       (long long) json_integer_value(json_object_get(ev, "attempt")),
                       (long long) json_integer_value(json_object_get(ev, "delay_ms")),
                       json_string_value(json_object_get(ev, "reason")) ?: "");
                return true;
        }
        return false;
}

static long long count(const json_t *j, const char *key) {
        return (long long) json_integer_value(json_object_get(j, key));
}

/* One model call's usage (DESIGN §18), and the subtree's so far. */
static void print_usage(const json_t *ev) {
        const json_t *sub = json_object_get(ev, "subtree");

        printf("  [usage] turn %lld: tokens %lld (input %lld, output %lld, cached reads %lld, "
               "cache writes %lld)",
               count(ev, "turn"), count(ev, "tokens"), count(ev, "input_tokens"),
               count(ev, "output_tokens"), count(ev, "cache_read_tokens"),
               count(ev, "cache_write_tokens"));
        if (json_number_value(json_object_get(ev, "cost_usd")) > 0)
                printf(", $%.4f", json_number_value(json_object_get(ev, "cost_usd")));
        if (sub)
                printf("; subtree tokens %lld, turns %lld, $%.4f", count(sub, "tokens"),
                       count(sub, "turns"), json_number_value(json_object_get(sub, "cost_usd")));
        putchar('\n');
}

static void print_event(const json_t *ev) {
        const char *type = json_string_value(json_object_get(ev, "type"));
        const char *text = json_string_value(json_object_get(ev, "text"));

        if (!type || print_stream(type, ev))
                return;
        if (strcmp(type, "task") == 0)
                printf("[task] %s\n", text);
        else if (strcmp(type, "text") == 0)
                printf("%s\n", text);
        else if (strcmp(type, "message") == 0)
                printf("[message] %s\n", text);
        else if (strcmp(type, "abridged") == 0 || strcmp(type, "truncated") == 0)
                printf("[%s]\n", text);
        else if (strcmp(type, "tool_result") == 0)
                printf("  %s: %s (%lld ms)\n", json_string_value(json_object_get(ev, "name")),
                       json_is_true(json_object_get(ev, "ok")) ? "ok" : "error",
                       (long long) json_integer_value(json_object_get(ev, "ms")));
        else if (strcmp(type, "usage") == 0)
                print_usage(ev);
        else if (strcmp(type, "end") == 0)
                printf("[end: %s] %s\n", json_string_value(json_object_get(ev, "status")),
                       json_string_value(json_object_get(ev, "result"))        ?:
                               json_string_value(json_object_get(ev, "error")) ?:
                                                                                 "");
}

/* Print complete lines from f; returns whether an end event was seen. */
static bool pump(FILE *f) {
        char *line = NULL;
        size_t cap = 0;
        bool ended = false;

        while (getline(&line, &cap, f) > 0) {
                json_t *ev = json_loads(line, 0, NULL);
                print_event(ev);
                ended |= ev &&
                        strcmp(json_string_value(json_object_get(ev, "type")) ?: "", "end") == 0;
                json_decref(ev);
        }
        free(line);
        clearerr(f);
        fflush(stdout);
        return ended;
}

static const char logs_help[] =
        "Usage: pod logs NAME [-f] [--run ID]\n"
        "\n"
        "Print pod NAME's transcript: the running pod's, or when none of that name runs, the\n"
        "latest recorded run of that name (a child pod's too) under <data dir>/runs/.\n"
        "\n"
        "  -f, --follow  follow a running pod's transcript until it ends\n"
        "  --run ID      that run instead: its folder under <data dir>/runs/, as the\n"
        "                error of a failed run and 'pod logs' name it (NAME may be left out)\n";

/* The newest run of a pod name: its ID and its transcript's time. */
typedef struct latest {
        const char *name;
        pod_buf id;
        struct timespec when;
} latest;

static void consider(void *ud,
                     const char *transcript,
                     const char *id,
                     const char *folder,
                     const struct stat *st) {
        latest *l = ud;
        bool newer = st->st_mtim.tv_sec > l->when.tv_sec ||
                (st->st_mtim.tv_sec == l->when.tv_sec && st->st_mtim.tv_nsec > l->when.tv_nsec);

        (void) transcript;
        /* Equal times (a coarse clock): the folder's name holds the start time and pid. */
        if (cli_run_of(folder, l->name) &&
            (newer ||
             (st->st_mtim.tv_sec == l->when.tv_sec && st->st_mtim.tv_nsec == l->when.tv_nsec &&
              strcmp(id, buf_str(&l->id)) > 0))) {
                l->when = st->st_mtim;
                l->id.len = 0;
                buf_puts(&l->id, id);
        }
}

/* A --run ID: a path below runs/ of folder names alone (no "..", no absolute path). */
static bool run_id_valid(const char *id) {
        if (!id[0] || id[0] == '/' || strlen(id) > 1024)
                return false;
        for (const char *p = id; *p; p++)
                if (!((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '-' ||
                      *p == '/'))
                        return false;
        return !strstr(id, "//") && id[strlen(id) - 1] != '/';
}

/* The transcript to show: the live pod's (*ret_live), else --run's, else the latest run's. */
static int pick(char **ret_path,
                bool *ret_live,
                pod_registry *reg,
                const char *name,
                const char *run,
                char **envp) {
        _cleanup_free_ char *runs = NULL;
        json_auto_t *e = NULL;
        pod_error err = { 0 };
        latest l = { .name = name };
        bool alive = false;

        if (!run && name && registry_read(&e, &alive, reg, name, &err) == 0 && alive) {
                *ret_live = true;
                *ret_path = strdup(json_string_value(json_object_get(e, "transcript")) ?: "");
                return *ret_path ? EXIT_OK : cli_fail(EXIT_RUNTIME, "out of memory");
        }
        runs = cli_runs_dir(envp);
        if (!runs)
                return cli_fail(EXIT_USAGE, "no data dir (see 'pod doctor')");
        if (run && !run_id_valid(run))
                return cli_fail(EXIT_USAGE, "--run: '%s' is not a run ID (a folder under %s)",
                                cli_printable(run, 128) ? run : "...", runs);
        if (run)
                buf_puts(&l.id, run);
        else
                cli_runs_walk(runs, consider, &l);
        if (!l.id.len)
                return cli_fail(EXIT_USAGE,
                                "no pod named '%s' is running, and no run of that name is "
                                "recorded under %s (see 'pod ps --all')",
                                name, runs);
        buf_printf(&l.id, "/transcript.jsonl");
        *ret_path = path_join(runs, buf_str(&l.id));
        buf_done(&l.id);
        return *ret_path ? EXIT_OK : cli_fail(EXIT_RUNTIME, "out of memory");
}

static int parse(const char **name, const char **run, bool *follow, int argc, char **argv) {
        static const struct option longopts[] = {
                { "follow", no_argument, NULL, 'f' },
                { "run", required_argument, NULL, 'r' },
                { "help", no_argument, NULL, 'h' },
                {},
        };
        int c;

        /* Options before or after NAME (getopt_long permutes): `pod logs -f NAME`. */
        optind = 1;
        opterr = 0;
        while ((c = getopt_long(argc, argv, "fh", longopts, NULL)) >= 0) {
                if (c == 'h') {
                        fputs(logs_help, stdout);
                        return -1;
                }
                if (c != 'f' && c != 'r')
                        return cli_fail(EXIT_USAGE, "logs: unknown or incomplete option '%s'\n%s",
                                        argv[optind - 1], logs_help);
                *follow |= c == 'f';
                if (c == 'r')
                        *run = optarg;
        }
        if (optind + 1 < argc || (optind == argc && !*run))
                return cli_fail(EXIT_USAGE, "logs: one NAME (or --run ID)\n%s", logs_help);
        *name = optind < argc ? argv[optind] : NULL;
        if (*name && !slug_valid(*name))
                return cli_fail(EXIT_USAGE, "logs: '%s' is not a pod name",
                                cli_printable(*name, 64) ? *name : "...");
        return EXIT_OK;
}

static int logs_main(int argc, char **argv, char **envp) {
        _cleanup_(registry_freep) pod_registry *reg = NULL;
        _cleanup_free_ char *path = NULL;
        const char *name = NULL, *run = NULL;
        struct timespec tick = { 0, 200 * 1000 * 1000 };
        bool follow = false, live = false;
        FILE *f;
        int r;

        r = parse(&name, &run, &follow, argc, argv);
        if (r == EXIT_OK)
                r = cli_open_registry(&reg, envp);
        if (r == EXIT_OK)
                r = pick(&path, &live, reg, name, run, envp);
        if (r != EXIT_OK)
                return r < 0 ? EXIT_OK : r;
        f = fopen(path, "re");
        if (!f)
                return cli_fail(
                        EXIT_RUNTIME, "%s: %s", path,
                        errno == ENOENT && live ?
                                "the pod has not written its transcript yet (it starts at its "
                                "first turn)" :
                                strerror(errno));
        while (!pump(f) && follow && live) {
                json_t *now = NULL;
                bool alive = false;
                if (registry_read(&now, &alive, reg, name, NULL) < 0 || !alive) {
                        json_decref(now);
                        pump(f);
                        break;
                }
                json_decref(now);
                nanosleep(&tick, NULL);
        }
        fclose(f);
        return EXIT_OK;
}

const cli_command cmd_logs = {
        .name = "logs",
        .summary = "print a pod's transcript, running or ended (pod logs NAME -f)",
        .run = logs_main,
};
