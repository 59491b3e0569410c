/* SPDX-License-Identifier: MIT */
/*
 * `pod mcp`: serve the pod tools to an MCP client (Claude Code, Codex, an IDE, the SDKs) over
 * stdin and stdout (DESIGN §17, docs/mcp.md). The process is a top-level pod confined to the
 * scope granted here; its children are ordinary pods. stdout carries the protocol alone:
 * diagnostics go to stderr.
 */
#include <signal.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "mcp/mcp.h"

static const char mcp_help[] =
        "Usage: pod mcp [--profile SEL] [--scope read:P|write:P]... [--name N] [--cwd DIR]\n"
        "       pod mcp --attach DIR\n"
        "\n"
        "Serve the pod tools (SpawnPod, SendToPod, WaitPod, ReadPodOutput, ListPods,\n"
        "StopPod) to an MCP client over stdin and stdout: JSON-RPC 2.0, one message per\n"
        "line, MCP " MCP_VERSION_CURRENT " and the initialize-based " MCP_VERSION_LEGACY ".\n"
        "\n"
        "The server is itself a pod: registered (see 'pod ps'), confined by the kernel to\n"
        "the scope granted here, with a snapshot of the profiles visible from its cwd. The\n"
        "child pods it starts can never get more than that scope. When the client\n"
        "disconnects, its children are stopped.\n"
        "\n"
        "  --profile SEL  the server pod's profile (default: the default profile): its\n"
        "                 tools, limits and scope ceiling apply; its model is not used\n"
        "  --scope RULE   grant read:PATH or write:PATH (repeatable; default: read:.)\n"
        "  --name N       the server pod's name (default: mcp-<pid>)\n"
        "  --cwd DIR      the working directory (default: the current directory)\n"
        "  --attach DIR   bound mode, not started by hand: a delegate pod (claude:, codex:)\n"
        "                 names it as its CLI's MCP server, and it relays stdin and stdout\n"
        "                 to that pod's own server in DIR (the FIFOs mcp.in and mcp.out,\n"
        "                 private to this user), so the CLI's SpawnPod children join that\n"
        "                 pod's tree, leases and budget (docs/mcp.md)\n"
        "\n"
        "Add it to Claude Code:  claude mcp add pod -- pod mcp --scope write:.\n"

        "Exit status: 0 the client disconnected, 1 runtime failure, 2 usage or\n"
        "configuration error.\n";

enum { OPT_ATTACH = 1500 };

static int parse(cli_target *t, const char **ret_attach, int argc, char **argv) {
        static const struct option longopts[] = {
                { "attach", required_argument, NULL, OPT_ATTACH },
                { "profile", required_argument, NULL, CLI_OPT_PROFILE },
                { "name", required_argument, NULL, CLI_OPT_NAME },
                { "cwd", required_argument, NULL, CLI_OPT_CWD },
                { "scope", required_argument, NULL, CLI_OPT_SCOPE },
                { "help", no_argument, NULL, 'h' },
                {},
        };
        cli_opts st = { argc, argv, longopts, mcp_help, false };
        bool others = false;
        int c, r;

        while ((r = cli_next_option(&st, &c)) > 0) {
                if (c == OPT_ATTACH)
                        *ret_attach = optarg;
                else if (cli_target_option(t, c, optarg) < 0)
                        return cli_fail(EXIT_RUNTIME, "out of memory");
                else
                        others = true;
        }
        if (r < 0)
                return r == -1 ? -1 : EXIT_USAGE;
        if (optind != argc)
                return cli_fail(EXIT_USAGE, "mcp: unexpected argument '%s'\n%s", argv[optind],
                                mcp_help);
        if (*ret_attach && others)
                return cli_fail(EXIT_USAGE,
                                "mcp: --attach takes no other option (the pod that "
                                "serves DIR decides everything)");
        return 0;
}

/* Bound mode: the relay a delegate pod's CLI starts (src/mcp/attach.c). */
static int attach_main(const char *dir) {
        pod_error err = { 0 };

        signal(SIGPIPE, SIG_IGN); /* a server or client that leaves is an end, not a death */
        if (mcp_attach(dir, STDIN_FILENO, STDOUT_FILENO, &err) < 0)
                return cli_fail(err.code == -EPERM ? EXIT_USAGE : EXIT_RUNTIME, "%s", err.msg);
        return EXIT_OK;
}

/* A server that offers nothing is a configuration error, found before anything registers. */
static int check_tools(const cli_resolved *res) {
        json_auto_t *table = mcp_tool_table(res->manifest, NULL);

        if (!table)
                return cli_fail(EXIT_RUNTIME, "out of memory");
        if (json_array_size(table) == 0)
                return cli_fail(EXIT_USAGE,
                                "mcp: profile '%s' grants none of the pod tools (SpawnPod, "
                                "SendToPod, WaitPod, ReadPodOutput, ListPods, StopPod)",
                                res->entry->profile->slug);
        return EXIT_OK;
}

static int mcp_main(int argc, char **argv, char **envp) {
        cli_target t = { .scope_exact = true };
        cli_resolved res = { 0 };
        char name[32];
        const char *attach = NULL;
        pod_error err = { 0 };
        int r;

        r = parse(&t, &attach, argc, argv);
        if (r == 0 && attach) {
                strv_free(t.scope);
                return attach_main(attach);
        }
        if (r == 0 && !t.name) {
                snprintf(name, sizeof(name), "mcp-%d", (int) getpid());
                t.name = name;
        }
        if (r == 0)
                r = cli_resolve(&res, &t, true, envp);
        if (r == 0)
                r = check_tools(&res);
        if (r == 0) {
                mcp_standalone_opts o = { .manifest = res.manifest,
                                          .dirs = &res.dirs,
                                          .envp = envp,
                                          .in_fd = STDIN_FILENO,
                                          .out_fd = STDOUT_FILENO };
                if (mcp_standalone(&o, &err) < 0)
                        r = cli_fail(err.code == -EEXIST ? EXIT_USAGE : EXIT_RUNTIME, "%s",
                                     err.msg);
        }
        cli_resolved_done(&res);
        strv_free(t.scope);
        return r < 0 ? EXIT_OK : r;
}

const cli_command cmd_mcp = {
        .name = "mcp",
        .summary = "serve the pod tools to an MCP client over stdio (pod mcp --help)",
        .run = mcp_main,
};
