/* SPDX-License-Identifier: MIT */
/*
 * `pod --adopt --spawn-config-json JSON|@fd:N --entry-fd N [--ready-fd N]`: the hidden mode a
 * child pod runs in (DESIGN §8, §12, §13). Its arguments are read here; the child itself is
 * the pod module's (host_adopt, src/pod/adopt.c).
 */
#include "cli.h"

static int parse(host_adopt_opts *o, int argc, char **argv) {
        static const struct option longopts[] = {
                { POD_ADOPT_ARG + 2, no_argument, NULL, 'a' },
                { POD_ADOPT_CONFIG_ARG + 2, required_argument, NULL, 's' },
                { POD_ADOPT_READY_ARG + 2, required_argument, NULL, 'r' },
                { POD_ADOPT_ENTRY_ARG + 2, required_argument, NULL, 'e' },
                {},
        };
        int c;

        optind = 1;
        opterr = 0;
        while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
                if (c == 's')
                        o->config = optarg;
                else if (c == 'r' && str_to_int(optarg, &o->ready_fd) < 0)
                        return cli_fail(EXIT_USAGE, "--ready-fd needs a descriptor number");
                else if (c == 'e' && str_to_int(optarg, &o->entry_fd) < 0)
                        return cli_fail(EXIT_USAGE, "--entry-fd needs a descriptor number");
                else if (c == '?')
                        return cli_fail(EXIT_USAGE, "--adopt: unknown or incomplete option '%s'",
                                        argv[optind - 1]);
        }
        if (!o->config || o->entry_fd < 3 || optind != argc)
                return cli_fail(EXIT_USAGE,
                                "--adopt is for pods started by SpawnPod: it needs "
                                "--spawn-config-json JSON|@fd:N and --entry-fd N");
        return 0;
}

static int adopt_main(int argc, char **argv, char **envp) {
        host_adopt_opts o = { .ready_fd = -EBADF, .entry_fd = -EBADF };
        pod_error err = { 0 };
        bool usage;
        int r;

        r = parse(&o, argc, argv);
        if (r != 0)
                return r;
        if (host_adopt(&o, envp, &usage, &err) < 0)
                return cli_fail(usage ? EXIT_USAGE : EXIT_RUNTIME, "%s", err.msg);
        return EXIT_OK;
}

const cli_command cmd_adopt = {
        .name = "--adopt",
        .summary = NULL,
        .run = adopt_main,
};
