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
#include "pod/pod.h"
#include "prompt/prompt.h"

#define TASK_MAX_BYTES (1024u * 1024u)

static const char run_help[] =
        "Usage: pod [run] [--profile SEL] [--model SPEC] [--name N] [--cwd DIR]\n"
        "               [--scope read:P|write:P]... [--json] [TASK|-]\n"
        "\n"
        "Run one pod: an agent on the profile SEL (default: the default profile) that works on\n"
        "TASK (or the task read from standard input with -) inside its scope: the working\n"
        "directory at the profile's ceiling, plus each --scope rule.\n"
        "\n"
        "  --profile SEL  a profile selector (see 'pod profile list')\n"
        "  --model SPEC   override the profile's model (provider:model)\n"
        "  --name N       the pod's name (default: the profile's slug)\n"
        "  --cwd DIR      the working directory (default: the current directory)\n"
        "  --scope RULE   add read:PATH or write:PATH to the scope (repeatable)\n"
        "  --json         stream events as JSON lines on stdout\n"
        "\n"
        "Progress goes to stderr, the final answer to stdout. The transcript is kept under\n"
        "<data dir>/runs/. Exit status: 0 answered, 1 the run failed, 2 usage or\n"
        "configuration error.\n";

static pod_control control = { .lock = PTHREAD_MUTEX_INITIALIZER, .state = "starting" };

static void on_signal(int sig) {
        (void) sig;
        control.cancel = 1; /* async-signal-safe: a sig_atomic_t store */
}

static char *next_message(void *ud) {
        return control_take_message(ud);
}

typedef struct run_opts {
        cli_target t;
        const char *task;
        bool json;
} run_opts;

static int parse(run_opts *o, int argc, char **argv) {
        static const struct option longopts[] = {
                { "profile", required_argument, NULL, CLI_OPT_PROFILE },
                { "model", required_argument, NULL, CLI_OPT_MODEL },
                { "name", required_argument, NULL, CLI_OPT_NAME },
                { "cwd", required_argument, NULL, CLI_OPT_CWD },
                { "scope", required_argument, NULL, CLI_OPT_SCOPE },
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
        if (optind + 1 != argc)
                return cli_fail(EXIT_USAGE, "run: %s\n%s",
                                optind == argc ? "a TASK is required (or - to read it from stdin)"
                                               : "give the task as one argument (quote it), or "
                                                 "check the command's spelling (pod --help)",
                                run_help);
        o->task = argv[optind];
        return 0;
}

static int read_task(char **out, const char *arg) {
        int r = 0;

        if (strcmp(arg, "-") == 0)
                r = fd_read_bounded(out, NULL, STDIN_FILENO, TASK_MAX_BYTES);
        else
                *out = strdup(arg);
        if (r == -EFBIG)
                return cli_fail(EXIT_USAGE, "the task on stdin is over %u bytes", TASK_MAX_BYTES);
        if (r < 0 || !*out)
                return cli_fail(EXIT_RUNTIME, "reading the task: %s", strerror(r < 0 ? -r : ENOMEM));
        if (!**out || !utf8_valid(*out, strlen(*out)))
                return cli_fail(EXIT_USAGE, "the task is empty or not UTF-8 text");
        return EXIT_OK;
}

/* <data dir>/runs/<name>-<time>-<pid>/, created 0700 (with any missing parents). */
static int make_run_dir(char **out, const char *data_dir, const char *name) {
        _cleanup_free_ char *runs = path_join(data_dir, "runs");
        char stamp[32];
        time_t now = time(NULL);
        struct tm tm;
        pod_buf b = { 0 };
        int r;

        gmtime_r(&now, &tm);
        strftime(stamp, sizeof(stamp), "%Y%m%d-%H%M%S", &tm);
        r = runs ? mkdir_p(runs, 0700) : -ENOMEM;
        if (r < 0)
                return cli_fail(EXIT_RUNTIME, "cannot create %s: %s", runs ? runs : data_dir,
                                strerror(-r));
        buf_printf(&b, "%s/%s-%s-%d", runs, name, stamp, (int) getpid());
        *out = buf_steal(&b);
        if (!*out || mkdir(*out, 0700) < 0)
                return cli_fail(EXIT_RUNTIME, "cannot create the run directory: %s",
                                *out ? strerror(errno) : "out of memory");
        return EXIT_OK;
}

/* A short description of a tool call for the progress line. */
static void call_detail(char *out, size_t n, const json_t *input) {
        static const char *const keys[] = { "file_path", "pattern", "command", "path", NULL };

        out[0] = '\0';
        for (const char *const *k = keys; *k; k++) {
                const char *v = json_string_value(json_object_get(input, *k));
                if (v) {
                        _cleanup_free_ char *q = str_quote(v, 60);
                        snprintf(out, n, " %s", q ? q : "");
                        return;
                }
        }
}

typedef struct sink_state {
        bool json;
        json_t *pending;     /* the tool_call whose result is awaited */
        pod_server *server;  /* subscribers get every event */
} sink_state;

static void sink(void *ud, const json_t *ev) {
        sink_state *s = ud;
        const char *type = json_string_value(json_object_get(ev, "type"));
        char detail[128];

        server_publish(s->server, ev);
        if (strcmp(type, "usage") == 0) { /* the turn count `status` reports */
                pthread_mutex_lock(&control.lock);
                control.turns = (unsigned) json_integer_value(json_object_get(ev, "turn"));
                pthread_mutex_unlock(&control.lock);
        }
        if (s->json) {
                json_dumpf(ev, stdout, JSON_COMPACT);
                fputc('\n', stdout);
                fflush(stdout);
                return;
        }
        if (strcmp(type, "text") == 0 && !json_is_true(json_object_get(ev, "final")))
                fprintf(stderr, "%s\n", json_string_value(json_object_get(ev, "text")));
        else if (strcmp(type, "message") == 0)
                fprintf(stderr, "[message] %s\n", json_string_value(json_object_get(ev, "text")));
        else if (strcmp(type, "tool_call") == 0) {
                json_decref(s->pending);
                s->pending = json_incref((json_t *) ev);
        } else if (strcmp(type, "tool_result") == 0) {
                const char *text = json_string_value(json_object_get(ev, "text"));
                const char *name = json_string_value(json_object_get(ev, "name"));
                bool ok = json_is_true(json_object_get(ev, "ok"));
                const char *line = ok ? "" : text;
                /* Bash ends with its exit code or timeout; other tools say why first. */
                if (!ok && strcmp(name, "Bash") == 0)
                        for (const char *p = text; *p; p++)
                                if (*p == '\n' && p[1])
                                        line = p + 1;
                call_detail(detail, sizeof(detail), json_object_get(s->pending, "input"));
                fprintf(stderr, "  %s%s: %s%.*s (%lld ms)\n", name, detail, ok ? "ok" : "error: ",
                        (int) strcspn(line, "\n"), line,
                        (long long) json_integer_value(json_object_get(ev, "ms")));
        }
        fflush(stderr);
}

/* The registry entry of a top-level pod (DESIGN §8). */
static json_t *entry_for(const json_t *m, const char *sock, const char *token, const char *tpath) {
        json_t *profile = json_object_get(m, "profile");

        return json_pack("{s:n, s:i, s:O, s:O, s:O, s:O, s:s, s:s, s:s, s:s, s:O, s:O}", "parent",
                         "depth", 0, "profile", json_object_get(profile, "selector"),
                         "profile_sha256", json_object_get(profile, "sha256"), "cwd",
                         json_object_get(json_object_get(m, "pod"), "cwd"), "scope",
                         json_object_get(m, "scope"), "state", "starting", "socket", sock, "token",
                         token, "transcript", tpath, "model",
                         json_object_get(json_object_get(m, "model"), "spec"), "sandbox",
                         json_object_get(m, "sandbox"));
}

/* result.json is written before the run is reported, so a result outlives its reader. */
static void write_result(pod_registry *reg, const char *name, const char *answer,
                         const pod_error *err) {
        _cleanup_free_ char *path = registry_path(reg, name, "result.json");
        json_t *j = answer ? json_pack("{s:s, s:s}", "status", "ok", "result", answer)
                           : json_pack("{s:s, s:s}", "status", "failed", "error", err->msg);

        if (path && j)
                json_dump_file(j, path, JSON_COMPACT);
        json_decref(j);
}

typedef struct live_pod {
        pod_registry *reg;
        json_t *entry;
        pod_server *server;
        const char *name;
        bool reserved;
} live_pod;

static int go_live(live_pod *lp, const cli_resolved *res, const char *tpath) {
        _cleanup_free_ char *sock = NULL;
        char token[POD_TOKEN_HEX + 1];
        pod_error err = { 0 };

        if (registry_open(&lp->reg, res->dirs.runtime_dir, &err) < 0 ||
            registry_new_token(token, &err) < 0)
                return cli_fail(EXIT_RUNTIME, "%s", err.msg);
        sock = registry_path(lp->reg, lp->name, "sock");
        lp->entry = sock ? entry_for(res->manifest, sock, token, tpath) : NULL;
        if (!lp->entry)
                return cli_fail(EXIT_RUNTIME, "out of memory");
        if (registry_reserve(lp->reg, lp->name, lp->entry, &err) < 0)
                return cli_fail(EXIT_USAGE, "%s", err.msg);
        lp->reserved = true;
        if (server_start(&lp->server, sock, token, lp->name, &control, &err) < 0)
                return cli_fail(EXIT_RUNTIME, "%s", err.msg);
        json_object_set_new(lp->entry, "state", json_string("running"));
        control_set_state(&control, "running");
        if (registry_update(lp->reg, lp->name, lp->entry, &err) < 0)
                return cli_fail(EXIT_RUNTIME, "%s", err.msg);
        return EXIT_OK;
}

static void go_away(live_pod *lp) {
        lp->server = server_stop(lp->server);
        if (lp->reserved)
                registry_remove(lp->reg, lp->name, NULL);
        lp->reg = registry_free(lp->reg);
        json_decref(lp->entry);
}

static int run_pod(cli_resolved *res, const char *task, bool json) {
        _cleanup_free_ char *dir = NULL, *path = NULL, *answer = NULL;
        _cleanup_buf_ pod_buf prompt = { 0 };
        const char *name = json_string_value(json_object_get(json_object_get(res->manifest, "pod"), "name"));
        live_pod lp = { .name = name };
        sink_state st = { .json = json };
        pod_error err = { 0 };
        FILE *transcript = NULL;
        char date[11];
        time_t now = time(NULL);
        struct tm tm;
        int r;

        gmtime_r(&now, &tm);
        strftime(date, sizeof(date), "%Y-%m-%d", &tm);
        if (prompt_system(&prompt, res->manifest, date, &err) < 0)
                return cli_fail(EXIT_USAGE, "%s", err.msg);
        r = make_run_dir(&dir, res->dirs.data_dir, name);
        path = r == EXIT_OK ? path_join(dir, "transcript.jsonl") : NULL;
        if (r == EXIT_OK && !(transcript = path ? fopen(path, "wxe") : NULL))
                r = cli_fail(EXIT_RUNTIME, "cannot create the transcript in %s", dir);
        if (r == EXIT_OK)
                r = go_live(&lp, res, path);
        if (r == EXIT_OK) {
                worker_opts o = { .manifest = res->manifest, .system_prompt = buf_str(&prompt),
                                  .task = task, .output_dir = dir, .transcript = transcript,
                                  .cancel = &control.cancel, .sink = sink, .sink_ud = &st,
                                  .next_message = next_message, .message_ud = &control };
                st.server = lp.server;
                r = worker_run(&o, &answer, &err) < 0 ? EXIT_RUNTIME : EXIT_OK;
                control_set_state(&control, answer ? "done" : "failed");
                write_result(lp.reg, name, answer, &err);
        }
        go_away(&lp);
        if (transcript)
                fclose(transcript);
        json_decref(st.pending);
        if (r == EXIT_RUNTIME && err.msg[0])
                return cli_fail(EXIT_RUNTIME, "pod '%s': %s (transcript: %s)", name, err.msg, path);
        if (r == EXIT_OK && !json)
                printf("%s\n", answer);
        return r;
}

static int run_main(int argc, char **argv, char **envp) {
        _cleanup_free_ char *task = NULL;
        struct sigaction sa = { .sa_handler = on_signal };
        cli_resolved res = { 0 };
        run_opts o = { 0 };
        int r;

        r = parse(&o, argc, argv);
        if (r == 0)
                r = read_task(&task, o.task);
        if (r == 0)
                r = cli_resolve(&res, &o.t, true, envp);
        if (r == 0 && strcmp(json_string_value(json_object_get(res.manifest, "sandbox")), "off") != 0)
                /* Fail closed (DESIGN §14): never run unconfined unless the operator says so. */
                r = cli_fail(EXIT_USAGE,
                             "this version of pod has no kernel sandbox yet (Landlock + seccomp "
                             "come in a later version); to run pods confined by pod's own tool "
                             "checks only, set POD_SANDBOX=off");
        if (r == 0) {
                sigemptyset(&sa.sa_mask);
                sigaction(SIGINT, &sa, NULL);
                sigaction(SIGTERM, &sa, NULL);
                r = run_pod(&res, task, o.json);
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
