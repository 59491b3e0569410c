/* SPDX-License-Identifier: MIT */
/* `pod ps`: the pods in the registry (dead entries are reaped first), as a table or a tree. */
#include <fcntl.h>
#include <string.h>

#include "cli.h"

static const char ps_help[] =
        "Usage: pod ps [--tree] [--json]\n"
        "\n"
        "List the running pods of this user: name, pid, state, profile, sandbox, usage and\n"
        "working directory. Entries of pods that died are removed first. TOKENS and TURNS\n"
        "are the pod's own / its subtree's (itself and every pod below it), COST the\n"
        "subtree's in US dollars where profiles declare a price (docs/budgets.md).\n"
        "\n"
        "  --tree   show children under their parents\n"
        "  --json   print a JSON array for scripts\n";

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
        char usage[192];

        usage_cols(usage, sizeof(usage), e);
        printf("%*s%-*s %7lld  %-9s %-24s %-4s %s %s\n", indent, "", 20 - indent,
               json_string_value(json_object_get(e, "name")),
               (long long) json_integer_value(json_object_get(e, "pid")),
               json_string_value(json_object_get(e, "state")) ?: "?",
               json_string_value(json_object_get(e, "profile")) ?: "?",
               json_string_value(json_object_get(e, "sandbox")) ?: "?", usage,
               json_string_value(json_object_get(e, "cwd")) ?: "?");
}

#define USAGE_FILE_MAX (64u * 1024u)

/* Each entry's usage.json (DESIGN §18; kept by the pod beside its pod.json): its "usage"
 * {own, subtree}, "budget" and "remaining" join the entry. A missing or unreadable one is
 * left out: the pod has made no model call yet, or it is not ours to trust. */
static void attach_usage(pod_registry *reg, json_t *list) {
        size_t i;
        json_t *e;

        json_array_foreach(list, i, e) {
                _cleanup_free_ char *path =
                        registry_path(reg, json_string_value(json_object_get(e, "name")), "usage.json");
                _cleanup_free_ char *text = NULL;
                json_t *u;
                size_t len = 0;
                if (!path || file_read_bounded(&text, &len, AT_FDCWD, path, USAGE_FILE_MAX, NULL) < 0)
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
                                tree(list, json_string_value(json_object_get(e, "name")), depth + 1);
                }
        }
}

static int ps_main(int argc, char **argv, char **envp) {
        _cleanup_(registry_freep) pod_registry *reg = NULL;
        json_auto_t *list = NULL;
        bool as_tree = false, json = false;
        pod_error err = { 0 };
        int r;

        for (int i = 1; i < argc; i++) {
                if (strcmp(argv[i], "--tree") == 0)
                        as_tree = true;
                else if (strcmp(argv[i], "--json") == 0)
                        json = true;
                else if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
                        fputs(ps_help, stdout);
                        return EXIT_OK;
                } else
                        return cli_fail(EXIT_USAGE, "ps: unexpected argument '%s'\n%s", argv[i], ps_help);
        }
        r = cli_open_registry(&reg, envp);
        if (r != EXIT_OK)
                return r;
        if (registry_list(&list, reg, &err) < 0)
                return cli_fail(EXIT_RUNTIME, "%s", err.msg);
        attach_usage(reg, list);
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
        .summary = "list running pods (pod ps --tree)",
        .run = ps_main,
};
