/* SPDX-License-Identifier: MIT */
/* `pod ps`: the pods in the registry (dead entries are reaped first), as a table or a tree. */
#include <string.h>

#include "cli.h"

static const char ps_help[] =
        "Usage: pod ps [--tree] [--json]\n"
        "\n"
        "List the running pods of this user: name, pid, state, profile, sandbox and working\n"
        "directory. Entries of pods that died are removed first.\n"
        "\n"
        "  --tree   show children under their parents\n"
        "  --json   print a JSON array for scripts\n";

static void row(const json_t *e, int indent) {
        printf("%*s%-*s %7lld  %-9s %-24s %-4s %s\n", indent, "", 20 - indent,
               json_string_value(json_object_get(e, "name")),
               (long long) json_integer_value(json_object_get(e, "pid")),
               json_string_value(json_object_get(e, "state")) ?: "?",
               json_string_value(json_object_get(e, "profile")) ?: "?",
               json_string_value(json_object_get(e, "sandbox")) ?: "?",
               json_string_value(json_object_get(e, "cwd")) ?: "?");
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

        cli_json_errors(argc, argv);
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
        if (json)
                return cli_print_json(list);
        printf("%-20s %7s  %-9s %-24s %-4s %s\n", "NAME", "PID", "STATE", "PROFILE", "SBOX", "CWD");
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
