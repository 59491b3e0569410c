/* SPDX-License-Identifier: MIT */
/*
 * `pod [run]`: run one top-level pod. Resolves the manifest, renders the system prompt,
 * runs the worker loop, and leaves a transcript under the data dir. Progress goes to
 * stderr (the model's text, one line per tool call with its outcome and duration); the
 * final answer to stdout; --json streams the events as NDJSON on stdout instead.
 */
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "cli.h"
#include "llm/llm.h"
#include "pod/pod.h"
#include "prompt/prompt.h"

static const char run_help[] =
        "Usage: pod [run] [--profile SEL] [--model SPEC] [--endpoint URL] [--name N] [--cwd DIR]\n"
        "               [--scope read:P|write:P]... [--budget-tokens N] [--budget-usd X]\n"
        "               [--max-turns N] [--timeout-s N] [--json] [TASK|-]\n"
        "\n"
        "Run one pod: an agent on the profile SEL (default: the default profile) that works on\n"
        "TASK (or the task read from standard input with -) inside its scope: the working\n"
        "directory at the profile's ceiling, plus each --scope rule.\n"
        "\n"
        "  --profile SEL  a profile selector (see 'pod profile list')\n"
        "  --model SPEC   override the profile's model (provider:model)\n"
        "  --endpoint URL the model's endpoint (default: the profile's for its provider, else\n"
        "                 the provider's; keys come from the environment, docs/models.md)\n"
        "  --name N       the pod's name (default: the profile's slug)\n"
        "  --cwd DIR      the working directory (default: the current directory)\n"
        "  --scope RULE   add read:PATH or write:PATH to the scope (repeatable)\n"
        "  --budget-tokens N  at most N tokens (input + output) for the pod and its children\n"
        "  --budget-usd X     at most X US dollars, where the profile declares a price\n"
        "  --max-turns N      at most N model turns of the pod's own\n"
        "  --timeout-s N      at most N seconds of wall time\n"
        "                 (each replaces the profile's limit; see docs/budgets.md)\n"
        "  --json         stream events as JSON lines on stdout\n"
        "\n"
        "The pod runs confined by the kernel to its scope (Landlock + seccomp, see\n"
        "docs/sandbox.md); where the kernel cannot confine it, it refuses to run unless\n"
        "POD_SANDBOX=off is set.\n"
        "\n"
        "Progress goes to stderr, the final answer to stdout. The transcript is kept under\n"
        "<data dir>/runs/. Exit status: 0 answered, 1 the run failed, 2 usage or\n"
        "configuration error.\n";

typedef struct run_opts {
        cli_target t;
        const char *task;
        bool json;
} run_opts;

static int parse(run_opts *o, int argc, char **argv) {
        static const struct option longopts[] = {
                { "profile", required_argument, NULL, CLI_OPT_PROFILE },
                { "model", required_argument, NULL, CLI_OPT_MODEL },
                { "endpoint", required_argument, NULL, CLI_OPT_ENDPOINT },
                { "executor", required_argument, NULL, CLI_OPT_EXECUTOR },
                { "name", required_argument, NULL, CLI_OPT_NAME },
                { "cwd", required_argument, NULL, CLI_OPT_CWD },
                { "scope", required_argument, NULL, CLI_OPT_SCOPE },
                { "budget-tokens", required_argument, NULL, CLI_OPT_BUDGET_TOKENS },
                { "budget-usd", required_argument, NULL, CLI_OPT_BUDGET_USD },
                { "max-turns", required_argument, NULL, CLI_OPT_MAX_TURNS },
                { "timeout-s", required_argument, NULL, CLI_OPT_TIMEOUT_S },
                { "json", no_argument, NULL, CLI_OPT_JSON },
                { "help", no_argument, NULL, 'h' },
                {},
        };
        cli_opts st = { argc, argv, longopts, run_help, false };
        int c, r;

        while ((r = cli_next_option(&st, &c)) > 0) {
                if (cli_target_option(&o->t, c, optarg) < 0)
                        return cli_fail(EXIT_RUNTIME, "out of memory");
                o->json |= c == CLI_OPT_JSON;
        }
        if (r < 0)
                return r == -1 ? -1 : EXIT_USAGE;
        r = cli_target_executor(&o->t);
        if (r != EXIT_OK)
                return r;
        if (optind + 1 != argc)
                return cli_fail(EXIT_USAGE, "run: %s\n%s",
                                optind == argc ? "a TASK is required (or - to read it from stdin)" :
                                                 "give the task as one argument (quote it), or "
                                                 "check the command's spelling (pod --help)",
                                run_help);
        o->task = argv[optind];
        return 0;
}

static int read_task(char **out, const char *arg) {
        int r = 0;

        if (strcmp(arg, "-") == 0)
                r = fd_read_bounded(out, NULL, STDIN_FILENO, POD_TASK_MAX);
        else
                *out = strdup(arg);
        if (r == -EFBIG)
                return cli_fail(EXIT_USAGE, "the task on stdin is over %u bytes", POD_TASK_MAX);
        if (r < 0 || !*out)
                return cli_fail(EXIT_RUNTIME, "reading the task: %s",
                                strerror(r < 0 ? -r : ENOMEM));
        if (!**out || !utf8_valid(*out, strlen(*out)))
                return cli_fail(EXIT_USAGE, "the task is empty or not UTF-8 text");
        return EXIT_OK;
}

static int run_pod(cli_resolved *res, const char *task, bool json, char **envp) {
        _cleanup_free_ char *answer = NULL;
        pod_host h = { .manifest = res->manifest, .envp = envp, .json = json };
        pod_error err = { 0 };
        int r;

        if (host_start_top(&h, &res->dirs, &err) < 0) {
                /* A name taken by a running pod is the operator's to change. */
                r = cli_fail(err.code == -EEXIST ? EXIT_USAGE : EXIT_RUNTIME, "%s%s", err.msg,
                             err.code == -EEXIST ? "; choose another with --name" : "");
                host_stop(&h, true);
                return r;
        }
        r = host_turn(&h, task, &answer, &err) < 0 ? EXIT_RUNTIME : EXIT_OK;
        host_write_result(&h, answer, &err);
        host_set_state(&h, answer ? "done" : "failed", NULL);
        if (r == EXIT_RUNTIME) {
                /* Only a transcript there is to read is cited (pod logs shows it too). */
                struct stat st;
                bool cite =
                        h.transcript_path && stat(h.transcript_path, &st) == 0 && st.st_size > 0;
                cli_fail(EXIT_RUNTIME, "pod '%s': %s%s%s%s", h.name, err.msg,
                         cite ? " (transcript: " : "", cite ? h.transcript_path : "",
                         cite ? ")" : "");
        }
        host_stop(&h, true);
        if (r == EXIT_OK && !json)
                printf("%s\n", answer);
        return r;
}

/* A model handler this pod cannot open, or its key variable not set, is the operator's to
 * fix: said before anything is registered or sent (DESIGN §13), exit 2. */
int cli_check_handler(const json_t *manifest) {
        _cleanup_(manifest_view_freep) manifest_view *v = NULL;
        pod_error err = { 0 };
        llm_handler *h = NULL;

        if (manifest_view_new(&v, manifest, &err) < 0 || llm_open(&h, v, &err) < 0)
                return cli_fail(EXIT_USAGE,
                                "%s (choose another model with --model, or see "
                                "'pod doctor')",
                                err.msg);
        llm_free(h);
        if (llm_check(v, &err) < 0)
                return cli_fail(EXIT_USAGE, "%s", err.msg);
        return EXIT_OK;
}

static int run_main(int argc, char **argv, char **envp) {
        _cleanup_free_ char *task = NULL;
        cli_resolved res = { 0 };
        run_opts o = { 0 };
        int r;

        cli_json_errors(argc, argv);
        r = parse(&o, argc, argv);
        if (r == 0)
                r = read_task(&task, o.task);
        if (r == 0)
                r = cli_resolve(&res, &o.t, true, envp);
        if (r == 0)
                r = cli_check_handler(res.manifest);
        if (r == 0) {
                host_signals();
                r = run_pod(&res, task, o.json, envp);
        }
        cli_resolved_done(&res);
        strv_free(o.t.scope);
        return r < 0 ? EXIT_OK : r;
}

const cli_command cmd_run = {
        .name = "run",
        .summary = "run one pod on a task (pod run --help)",
        .run = run_main,
};
