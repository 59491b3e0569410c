/* SPDX-License-Identifier: MIT */
/* Entry point: global flags and dispatch to one subcommand; nothing else lives here. */
#include <malloc.h>
#include <string.h>
#include <sys/random.h>

#include "cli.h"
#include "mcp/mcp.h"

static const cli_command *const commands[] = { &cmd_run,   &cmd_demo,  &cmd_ps,      &cmd_logs,
                                               &cmd_send,  &cmd_stop,  &cmd_profile, &cmd_mcp,
                                               &cmd_trust, &cmd_doctor };

static void usage(FILE *f) {
        fputs("Usage: pod [run] [--profile SEL] [OPTIONS] TASK\n"
              "       pod COMMAND [ARGS...]\n"
              "\n"
              "pod runs LLM coding agents as a tree of pods, each confined to a filesystem\n"
              "scope that is a subset of its parent's.\n"
              "\n"
              "A TASK is a quoted sentence ('pod \"fix the failing test\"'), - to read it from\n"
              "standard input, or any text after 'run' ('pod run lint'). A first argument that\n"
              "is a single word and no command is refused, never run as a task.\n"
              "\n"
              "Commands:\n",
              f);
        for (size_t i = 0; i < POD_ARRAY_SIZE(commands); i++)
                fprintf(f, "  %-10s %s\n", commands[i]->name, commands[i]->summary);
        fputs("\n"
              "Options:\n"
              "  -h, --help     show this help\n"
              "  --version      print the version\n"
              "\n"
              "Run 'pod COMMAND --help' for a command's options. Exit status: 0 success,\n"
              "1 runtime failure, 2 usage or configuration error.\n",
              f);
}

static int refuse_word(const char *word) {
        const char *names[POD_ARRAY_SIZE(commands) + 2] = { "help", "--version" };
        const char *best;

        for (size_t i = 0; i < POD_ARRAY_SIZE(commands); i++)
                names[i + 2] = commands[i]->name;
        best = cli_closest(word, names, POD_ARRAY_SIZE(names));
        if (!cli_printable(word, 64))
                word = "WORD"; /* echo nothing a terminal would act on */
        return cli_fail(EXIT_USAGE,
                        "'%s' is not a command%s%s%s. A task is a quoted sentence, - (read from "
                        "stdin), or follows 'run': pod run '%s' (see 'pod --help')",
                        word, best ? " (did you mean 'pod " : "", best ?: "", best ? "'?)" : "",
                        word);
}

/* jansson's hash seed from one system call (its own way opens and reads /dev/urandom, a
 * part of every child pod's start); its own way still when this one fails. */
static void seed_json(void) {
        uint32_t seed = 0;

        if (getrandom(&seed, sizeof(seed), GRND_NONBLOCK) == (ssize_t) sizeof(seed) && seed)
                json_object_seed(seed);
}

int main(int argc, char **argv, char **envp) {
        const char *cmd = argc > 1 ? argv[1] : NULL;

        seed_json();
        /* One malloc arena for every thread: a pod's threads allocate little, and a second
         * arena costs a child pod's start a 64 MiB reservation and its first pages. */
        mallopt(M_ARENA_MAX, 1);
        pod_mcp_bind(&mcp_binding); /* a delegate pod's CLI gets the pod tools over MCP */
        if (!cmd) {
                usage(stderr);
                return EXIT_USAGE;
        }
        if (strcmp(cmd, "--help") == 0 || strcmp(cmd, "-h") == 0 || strcmp(cmd, "help") == 0) {
                usage(stdout);
                return EXIT_OK;
        }
        if (strcmp(cmd, "--adopt") == 0) /* hidden: a child pod started by SpawnPod */
                return cmd_adopt.run(argc, argv, envp);
        if (strcmp(cmd, "--complete") == 0) /* hidden: the shell completions' words */
                return cli_complete(argc - 1, argv + 1, envp, commands, POD_ARRAY_SIZE(commands));
        if (strcmp(cmd, "--version") == 0) {
                printf("pod %s\n", POD_VERSION);
                return EXIT_OK;
        }
        for (size_t i = 0; i < POD_ARRAY_SIZE(commands); i++)
                if (strcmp(cmd, commands[i]->name) == 0)
                        return commands[i]->run(argc - 1, argv + 1, envp);
        /* A single word is a mistyped command far more often than a task, and a task costs
         * tokens (DESIGN §13): only a sentence, -, or what follows `run` is one. */
        if (cli_single_word(cmd))
                return refuse_word(cmd);
        /* `pod [run] ...`: a task or one of run's options starts a pod. */
        if (cmd[0] != '-' || str_startswith(cmd, "--profile") || str_startswith(cmd, "--model") ||
            str_startswith(cmd, "--name") || str_startswith(cmd, "--cwd") ||
            str_startswith(cmd, "--scope") || strcmp(cmd, "--json") == 0)
                return cmd_run.run(argc, argv, envp);
        return cli_fail(EXIT_USAGE, "unknown option '%s' (see 'pod --help')", cmd);
}
