/* SPDX-License-Identifier: MIT */
/*
 * `pod trust`: the project dirs whose profiles and default pointer take effect (DESIGN §4).
 * A cloned repository's `.pod/` may be hostile, so nothing of it runs until the operator
 * says so here.
 */
#include <string.h>

#include "cli.h"

static const char trust_help[] =
        "Usage: pod trust [DIR] [--revoke] [--list] [--json]\n"
        "\n"
        "A project's .pod/ comes with its repository: its profiles could send your API key to\n"
        "an endpoint of their choosing, and its default-profile could make a plain 'pod TASK'\n"
        "run one. So project profiles and the project's default pointer take effect only in a\n"
        "project dir you trusted. Until then 'pod profile list' shows them as untrusted, and\n"
        "selecting one is an error. Skills, prompts and AGENTS.md of a project are text for the\n"
        "model and need no trust.\n"
        "\n"
        "pod trust [DIR]     trust the project DIR belongs to (default: the current directory;\n"
        "                    the nearest ancestor holding .pod/, else DIR itself)\n"
        "  --revoke          take the trust back\n"
        "  --list            list the trusted project dirs\n"
        "  --json            JSON output\n"
        "\n"
        "Trusted dirs are kept in <config dir>/trusted-projects, one canonical path a line.\n"
        "Running pods pick the change up for the children they start afterwards.\n";

typedef struct trust_opts {
        bool revoke, list, json;
        const char *dir;
} trust_opts;

static int parse(trust_opts *o, int argc, char **argv) {
        static const struct option longopts[] = {
                { "revoke", no_argument, NULL, 'r' },
                { "list", no_argument, NULL, 'l' },
                { "json", no_argument, NULL, CLI_OPT_JSON },
                { "help", no_argument, NULL, 'h' },
                {},
        };
        cli_opts st = { argc, argv, longopts, trust_help, false };
        int c, r;

        while ((r = cli_next_option(&st, &c)) > 0) {
                o->revoke |= c == 'r';
                o->list |= c == 'l';
                o->json |= c == CLI_OPT_JSON;
        }
        if (r < 0)
                return r == -1 ? -1 : EXIT_USAGE;
        if (optind < argc)
                o->dir = argv[optind++];
        if (optind < argc || (o->list && (o->revoke || o->dir)))
                return cli_fail(EXIT_USAGE, "trust: unexpected arguments\n%s", trust_help);
        return 0;
}

static int list(const char *config_dir, bool json) {
        _cleanup_strv_free_ char **dirs = NULL;
        pod_error err = { 0 };
        json_auto_t *arr = NULL;

        if (trust_list(&dirs, config_dir, &err) < 0)
                return cli_fail(EXIT_USAGE, "%s", err.msg);
        if (!json) {
                STRV_FOREACH(d, dirs)
                        puts(*d);
                if (!dirs)
                        fputs("no trusted project dirs\n", stderr);
                return EXIT_OK;
        }
        arr = json_array();
        STRV_FOREACH(d, dirs)
                json_array_append_new(arr, json_string(*d));
        return cli_print_json(arr);
}

/* The project dir DIR belongs to: the nearest ancestor holding .pod/, else DIR. */
static int project_of(char **out, const char *dir) {
        _cleanup_free_ char *canon = NULL;
        int r;

        r = cli_resolve_cwd(&canon, dir);
        if (r != EXIT_OK)
                return r;
        if (project_dir_find(out, canon) < 0)
                return cli_fail(EXIT_RUNTIME, "out of memory");
        if (!*out)
                *out = TAKE_PTR(canon);
        return EXIT_OK;
}

static int trust_main(int argc, char **argv, char **envp) {
        _cleanup_free_ char *dir = NULL;
        trust_opts o = { 0 };
        pod_dirs dirs = { 0 };
        pod_error err = { 0 };
        bool changed = false;
        int r;

        r = parse(&o, argc, argv);
        if (r != 0)
                return r < 0 ? EXIT_OK : r;
        if (pod_dirs_from_env(&dirs, envp, getuid(), &err) < 0)
                return cli_fail(EXIT_USAGE, "%s", err.msg);
        if (o.list) {
                r = list(dirs.config_dir, o.json);
                pod_dirs_done(&dirs);
                return r;
        }
        r = project_of(&dir, o.dir);
        if (r == EXIT_OK && trust_change(dirs.config_dir, dir, !o.revoke, &changed, &err) < 0)
                r = cli_fail(EXIT_RUNTIME, "%s", err.msg);
        if (r == EXIT_OK) {
                if (o.json) {
                        json_auto_t *j = json_pack("{s:s, s:b, s:b}", "project_dir", dir, "trusted",
                                                   !o.revoke, "changed", changed);
                        r = j ? cli_print_json(j) : cli_fail(EXIT_RUNTIME, "out of memory");
                } else
                        fprintf(stderr, "%s %s%s\n", dir,
                                o.revoke ? "is not trusted" : "is trusted",
                                changed ? "" : " (it already was)");
                if (changed)
                        cli_reconfigure_pods(envp, dirs.config_dir);
        }
        pod_dirs_done(&dirs);
        return r;
}

const cli_command cmd_trust = {
        .name = "trust",
        .summary = "trust a project dir's profiles (pod trust --help)",
        .run = trust_main,
};
