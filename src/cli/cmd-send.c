/* SPDX-License-Identifier: MIT */
/* `pod send NAME TEXT`: queue a message for a running pod; it reads it before its next turn. */
#include <string.h>

#include "cli.h"

static int send_main(int argc, char **argv, char **envp) {
        _cleanup_(registry_freep) pod_registry *reg = NULL;
        json_auto_t *e = NULL, *res = NULL, *params = NULL;
        _cleanup_free_ char *sock = NULL;
        pod_error err = { 0 };
        int r;

        if (argc == 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
                puts("Usage: pod send NAME TEXT\n\nQueue TEXT for the running pod NAME; it joins "
                     "the conversation before the pod's next model turn.");
                return EXIT_OK;
        }
        if (argc != 3)
                return cli_fail(EXIT_USAGE, "usage: pod send NAME TEXT");
        r = cli_open_registry(&reg, envp);
        if (r == EXIT_OK)
                r = cli_find_pod(&e, reg, argv[1]);
        if (r != EXIT_OK)
                return r;
        params = json_pack("{s:s}", "message", argv[2]);
        sock = registry_path(reg, argv[1], "sock");
        if (!sock || !params)
                return cli_fail(EXIT_RUNTIME, "out of memory");
        if (ipc_call(&res, sock, (pid_t) json_integer_value(json_object_get(e, "pid")),
                     json_string_value(json_object_get(e, "token")), "send", params, &err) < 0)
                return cli_fail(EXIT_RUNTIME, "%s", err.msg);
        fprintf(stderr, "queued for %s (%lld waiting)\n", argv[1],
                (long long) json_integer_value(json_object_get(res, "queued")));
        return EXIT_OK;
}

const cli_command cmd_send = {
        .name = "send",
        .summary = "send a message to a running pod",
        .run = send_main,
};
