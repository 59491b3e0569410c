/* SPDX-License-Identifier: MIT */
/*
 * `pod ps`: the pods in the registry (dead entries are reaped first), as a table or a tree;
 * with --all, also the pods that ended in the last day, from their recorded runs.
 */
#include <fcntl.h>
#include <string.h>
#include <time.h>

#include "cli.h"

static const char ps_help[] =
        "Usage: pod ps [--tree] [--all] [--json]\n"
        "\n"
        "List the running pods of this user: name, pid, state, profile, sandbox, usage and\n"
        "working directory. Entries of pods that died are removed first. TOKENS and TURNS\n"
        "are the pod's own / its subtree's (itself and every pod below it), COST the\n"
        "subtree's in US dollars where profiles declare a price (docs/budgets.md).\n"
        "\n"
        "  --tree   show children under their parents\n"
        "  --all    also the pods that ended in the last 24 hours, with how they ended\n"
        "           (done, failed, stopped, ...; died: no end was recorded), from their\n"
        "           runs under <data dir>/runs/ ('pod logs --run ID' shows one)\n"
        "  --json   print a JSON array for scripts\n";

#define PS_RECENT_S (24 * 3600)
#define PS_LINE_MAX (64u * 1024u) /* the manifest and end lines read of a transcript */

typedef struct ended_scan {
        json_t *list; /* what ps lists; ended runs are appended */
        json_t *live; /* the live pods' transcripts */
        time_t since;
} ended_scan;

/* The first line of the transcript at path and its last, each at most PS_LINE_MAX bytes. */
static void first_and_last(json_t **first, json_t **last, const char *path) {
        _cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
        _cleanup_free_ char *buf = malloc(PS_LINE_MAX + 1);
        off_t size = fd >= 0 ? lseek(fd, 0, SEEK_END) : -1;
        ssize_t n;
        char *nl;

        *first = *last = NULL;
        if (fd < 0 || !buf || size <= 0)
                return;
        n = pread(fd, buf, PS_LINE_MAX, 0);
        buf[n > 0 ? n : 0] = '\0';
        if (n > 0 && (nl = strchr(buf, '\n')))
                *first = json_loadb(buf, (size_t) (nl - buf), 0, NULL);
        n = pread(fd, buf, PS_LINE_MAX, size > PS_LINE_MAX ? size - PS_LINE_MAX : 0);
        while (n > 0 && buf[n - 1] == '\n')
                n--;
        buf[n > 0 ? n : 0] = '\0';
        nl = strrchr(buf, '\n');
        *last = json_loads(nl ? nl + 1 : buf, 0, NULL);
}

/* How a run ended, as ps shows it: its end event's status ("ok": done), or died. */
static const char *how_ended(const json_t *last) {
        const char *status = json_string_value(json_object_get(last, "status"));

        if (strcmp(json_string_value(json_object_get(last, "type")) ?: "", "end") != 0 || !status)
                return "died";
        return strcmp(status, "ok") == 0 ? "done" : status;
}

static void add_ended(void *ud,
                      const char *transcript,
                      const char *id,
                      const char *folder,
                      const struct stat *st) {
        ended_scan *s = ud;
        json_t *first, *last, *pod, *e;

        (void) folder;
        if (st->st_mtime < s->since)
                return;
        for (size_t i = 0; i < json_array_size(s->live); i++)
                if (strcmp(json_string_value(json_array_get(s->live, i)) ?: "", transcript) == 0)
                        return;
        first_and_last(&first, &last, transcript);
        pod = json_object_get(first, "pod");
        e = json_pack("{s:O?, s:n, s:s, s:O?, s:O?, s:O?, s:O?, s:b, s:s, s:O?, s:O?}", "name",
                      json_object_get(pod, "name"), "pid", "state", how_ended(last), "profile",
                      json_object_get(json_object_get(first, "profile"), "selector"), "sandbox",
                      json_object_get(first, "sandbox"), "cwd", json_object_get(pod, "cwd"),
                      "parent", json_object_get(pod, "parent"), "alive", false, "run", id, "ended",
                      json_object_get(last, "time"), "error", json_object_get(last, "error"));
        if (e && json_is_string(json_object_get(e, "name")))
                json_array_append(s->list, e);
        json_decref(e);
        json_decref(first);
        json_decref(last);
}

/* Append the runs that ended in the last PS_RECENT_S seconds (none of a live pod's) to list. */
static void list_ended(json_t *list, char **envp) {
        _cleanup_free_ char *runs = cli_runs_dir(envp);
        ended_scan s = { list, json_array(), time(NULL) - PS_RECENT_S };
        json_t *e;
        size_t i;

        json_array_foreach(list, i, e)
                json_array_append(s.live, json_object_get(e, "transcript"));
        if (runs && s.live)
                cli_runs_walk(runs, add_ended, &s);
        json_decref(s.live);
}

/* A state's colour on a terminal: working green, ended well plain, anything else red. */
static const char *state_colour(const char *state) {
        static const char *const good[] = { "running", "idle", "starting", "done", NULL };

        if (!state || !cli_colour(stdout))
                return "";
        for (const char *const *g = good; *g; g++)
                if (strcmp(state, *g) == 0)
                        return strcmp(state, "done") == 0 ? "" : "\033[32m";
        return "\033[31m";
}

/* A field of an entry or a recorded run as ps prints it: "?" when it holds a control
 * character (a recorded run is read back from a file a pod wrote). */
static const char *field(const json_t *e, const char *key) {
        const char *v = json_string_value(json_object_get(e, key));

        for (const char *p = v; p && *p; p++)
                if ((unsigned char) *p < 0x20 || *p == 0x7f)
                        return "?";
        return v ?: "?";
}

/* 1234 as "1.2k", 5600000 as "5.6M". */
static void compact(char *out, size_t n, json_int_t v) {
        if (v >= 1000000)
                snprintf(out, n, "%.1fM", (double) v / 1e6);
        else if (v >= 10000)
                snprintf(out, n, "%.0fk", (double) v / 1e3);
        else if (v >= 1000)
                snprintf(out, n, "%.1fk", (double) v / 1e3);
        else
                snprintf(out, n, "%lld", (long long) v);
}

/* The usage columns: own/subtree tokens and turns, the subtree's cost ("-": none yet). */
static void usage_cols(char *out, size_t n, const json_t *e) {
        const json_t *u = json_object_get(e, "usage");
        const json_t *own = json_object_get(u, "own"), *sub = json_object_get(u, "subtree");
        char t1[32], t2[32], tok[72] = "-", turns[48] = "-", cost[40] = "-";

        if (u) {
                compact(t1, sizeof(t1), json_integer_value(json_object_get(own, "tokens")));
                compact(t2, sizeof(t2), json_integer_value(json_object_get(sub, "tokens")));
                snprintf(tok, sizeof(tok), "%s/%s", t1, t2);
                snprintf(turns, sizeof(turns), "%lld/%lld",
                         (long long) json_integer_value(json_object_get(own, "turns")),
                         (long long) json_integer_value(json_object_get(sub, "turns")));
        }
        if (json_is_true(json_object_get(u, "priced")) ||
            json_number_value(json_object_get(sub, "cost_usd")) > 0)
                snprintf(cost, sizeof(cost), "$%.2f",
                         json_number_value(json_object_get(sub, "cost_usd")));
        snprintf(out, n, "%11s %9s %7s", tok, turns, cost);
}

static void row(const json_t *e, int indent) {
        const char *state = json_string_value(json_object_get(e, "state"));
        const char *colour = state_colour(state);
        char pid[24] = "-", usage[192];

        if (json_is_integer(json_object_get(e, "pid")))
                snprintf(pid, sizeof(pid), "%lld",
                         (long long) json_integer_value(json_object_get(e, "pid")));
        usage_cols(usage, sizeof(usage), e);
        printf("%*s%-*s %7s  %s%-9s%s %-24s %-4s %s %s\n", indent, "", 20 - indent,
               field(e, "name"), pid, colour, field(e, "state"), colour[0] ? "\033[0m" : "",
               field(e, "profile"), field(e, "sandbox"), usage, field(e, "cwd"));
}

#define USAGE_FILE_MAX (64u * 1024u)

/* Each entry's usage.json (DESIGN §18; kept by the pod beside its pod.json): its "usage"
 * {own, subtree}, "budget" and "remaining" join the entry. A missing or unreadable one is
 * left out: the pod has made no model call yet, or it is not ours to trust. */
static void attach_usage(pod_registry *reg, json_t *list) {
        size_t i;
        json_t *e;

        json_array_foreach(list, i, e) {
                _cleanup_free_ char *path = registry_path(
                        reg, json_string_value(json_object_get(e, "name")), "usage.json");
                _cleanup_free_ char *text = NULL;
                json_t *u;
                size_t len = 0;
                if (!path ||
                    file_read_bounded(&text, &len, AT_FDCWD, path, USAGE_FILE_MAX, NULL) < 0)
                        continue;
                u = json_loadb(text, len, JSON_REJECT_DUPLICATES, NULL);
                if (json_is_object(u) && json_is_object(json_object_get(u, "usage"))) {
                        json_object_set(e, "usage", json_object_get(u, "usage"));
                        json_object_set(json_object_get(e, "usage"), "priced",
                                        json_object_get(u, "priced"));
                        json_object_set(e, "budget", json_object_get(u, "budget"));
                        json_object_set(e, "remaining", json_object_get(u, "remaining"));
                }
                json_decref(u);
        }
}

static void tree(const json_t *list, const char *parent, int depth) {
        size_t i;
        json_t *e;

        json_array_foreach(list, i, e) {
                const char *p = json_string_value(json_object_get(e, "parent"));
                if ((!parent && !p) || (parent && p && strcmp(parent, p) == 0)) {
                        row(e, depth * 2);
                        if (depth < 64)
                                tree(list, json_string_value(json_object_get(e, "name")),
                                     depth + 1);
                }
        }
}

static int ps_main(int argc, char **argv, char **envp) {
        _cleanup_(registry_freep) pod_registry *reg = NULL;
        json_auto_t *list = NULL;
        bool as_tree = false, json = false, all = false;
        pod_error err = { 0 };
        int r;

        cli_json_errors(argc, argv);
        for (int i = 1; i < argc; i++) {
                if (strcmp(argv[i], "--tree") == 0)
                        as_tree = true;
                else if (strcmp(argv[i], "--json") == 0)
                        json = true;
                else if (strcmp(argv[i], "--all") == 0)
                        all = true;
                else if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
                        fputs(ps_help, stdout);
                        return EXIT_OK;
                } else
                        return cli_fail(EXIT_USAGE, "ps: unexpected argument '%s'\n%s", argv[i],
                                        ps_help);
        }
        r = cli_open_registry(&reg, envp);
        if (r != EXIT_OK)
                return r;
        if (registry_list(&list, reg, &err) < 0)
                return cli_fail(EXIT_RUNTIME, "%s", err.msg);
        attach_usage(reg, list);
        if (all)
                list_ended(list, envp);
        if (json)
                return cli_print_json(list);
        printf("%-20s %7s  %-9s %-24s %-4s %11s %9s %7s %s\n", "NAME", "PID", "STATE", "PROFILE",
               "SBOX", "TOKENS", "TURNS", "COST", "CWD");
        if (as_tree) {
                tree(list, NULL, 0);
                return EXIT_OK;
        }
        for (size_t i = 0; i < json_array_size(list); i++)
                row(json_array_get(list, i), 0);
        return EXIT_OK;
}

const cli_command cmd_ps = {
        .name = "ps",
        .summary = "list running pods, and with --all those that ended (pod ps --tree)",
        .run = ps_main,
};
