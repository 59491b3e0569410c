/* SPDX-License-Identifier: MIT */
/*
 * `pod stop NAME`: ask a pod to shut down through its socket; if it is still alive after a
 * grace period (or cannot be reached), SIGKILL it. The registry entry is removed either way.
 */
#include <signal.h>
#include <string.h>
#include <time.h>

#include "cli.h"

#define STOP_GRACE_MS 5000

static bool wait_gone(long pid, unsigned long long start, int ms) {
        struct timespec tick = { 0, 50 * 1000 * 1000 };

        for (int waited = 0; waited < ms; waited += 50) {
                if (!registry_alive(pid, start))
                        return true;
                nanosleep(&tick, NULL);
        }
        return !registry_alive(pid, start);
}

static int stop_main(int argc, char **argv, char **envp) {
        _cleanup_(registry_freep) pod_registry *reg = NULL;
        json_auto_t *e = NULL, *res = NULL;
        _cleanup_free_ char *sock = NULL;
        pod_error err = { 0 };
        long pid;
        unsigned long long start;
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
        pid = (long) json_integer_value(json_object_get(e, "pid"));
        start = (unsigned long long) json_integer_value(json_object_get(e, "start_time"));
        sock = registry_path(reg, argv[1], "sock");
        if (!sock)
                return cli_fail(EXIT_RUNTIME, "out of memory");
        /* A sandboxed pod can rewrite entries it cannot read: pid N is signalled only once the
         * entry's own socket shows that N serves it (docs/sandbox.md). */
        if (ipc_verify(sock, (pid_t) pid, &err) < 0)
                return cli_fail(EXIT_RUNTIME,
                                "pod '%s': %s; its process cannot be confirmed, so pid %ld is not "
                                "signalled",
                                argv[1], err.msg, pid);
        if (ipc_call(&res, sock, (pid_t) pid, json_string_value(json_object_get(e, "token")),
                     "shutdown", NULL, &err) < 0)
                cli_warn("%s; killing it", err.msg);
        if (!wait_gone(pid, start, STOP_GRACE_MS)) {
                cli_warn("pod '%s' did not stop within %d s; killing it", argv[1],
                         STOP_GRACE_MS / 1000);
                if (registry_alive(pid, start))
                        kill((pid_t) pid, SIGKILL);
                wait_gone(pid, start, 1000);
        }
        registry_remove(reg, argv[1], NULL);
        fprintf(stderr, "stopped %s\n", argv[1]);
        return EXIT_OK;
}

const cli_command cmd_stop = {
        .name = "stop",
        .summary = "stop a running pod",
        .run = stop_main,
};
