/* SPDX-License-Identifier: MIT */
/*
 * `pod stop NAME`: ask a pod to shut down through its socket; if it is still alive after a
 * grace period (or cannot be reached), SIGKILL it. The registry entry is removed either way.
 */
#include <string.h>

#include "cli.h"

#define STOP_GRACE_MS 5000

static int stop_main(int argc, char **argv, char **envp) {
        _cleanup_(registry_freep) pod_registry *reg = NULL;
        json_auto_t *e = NULL;
        pod_error err = { 0 };
        int r;

        if (argc == 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
                puts("Usage: pod stop NAME\n\nAsk the pod NAME to shut down; after 5 s it is "
                     "killed. Its registry entry is removed.");
                return EXIT_OK;
        }
        if (argc != 2)
                return cli_fail(EXIT_USAGE, "usage: pod stop NAME");
        r = cli_open_registry(&reg, envp);
        if (r == EXIT_OK)
                r = cli_find_pod(&e, reg, argv[1]);
        if (r != EXIT_OK)
                return r;
        if (host_stop_pod(reg, argv[1], e, STOP_GRACE_MS, &err) < 0)
                return cli_fail(EXIT_RUNTIME, "%s", err.msg);
        fprintf(stderr, "stopped %s\n", argv[1]);
        return EXIT_OK;
}

const cli_command cmd_stop = {
        .name = "stop",
        .summary = "stop a running pod",
        .run = stop_main,
};
