/* SPDX-License-Identifier: MIT */
/*
 * The agent loop (DESIGN §16): a 20-turn conversation of `Bash true` calls served by the
 * mock model server (tests/mock/mockmodel.py), run by pod's native handler (profile
 * `model: anthropic:...` with `endpoint` and `api_key_env`), by `claude -p` and by
 * `codex exec` (from npm, pointed at the same kind of mock: ANTHROPIC_BASE_URL, a codex
 * model provider with wire_api = "responses"), interleaved in one run. Prints the medians
 * of wall time and peak RSS (the largest process of each run's tree, from wait4) and pod's
 * ratios against the faster peer. A peer that is not installed is skipped with the reason;
 * if pod has no native handler yet it says so and prints the peers alone.
 *
 * Delegates (issue 17: a delegate pod on this conversation <= 1.1x the bare CLI's wall
 * time): a pod whose profile is `model: claude:mock-model` and one with `codex:mock-model`,
 * each with `endpoint` and `api_key_env` at a mock of its own (the pod runs the real CLI
 * against it: ANTHROPIC_BASE_URL, a codex model provider), compared with the bare CLI. The
 * pod's PATH starts with the npm prefix's bin dir, so it finds `claude` and `codex`. A
 * delegate pod that stops with a configuration error (exit 2) before any model call, as
 * before the delegates exist ("takes no endpoint", "not available in this version"), is
 * reported as skipped with its reason.
 *
 * Usage: bench-agent-loop POD_BINARY [--runs N] [--npm PREFIX] [--mock PATH]
 *                         [--pod-sandbox on|off]
 */
#include "harness.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#define TURNS 20
#define MAX_RUNS 100
#define RUN_TIMEOUT_S 180
#define PROMPT "Run the command true twenty times, one tool call each, then say done."
#define DELEGATE_BUDGET 1.10
/* One shell call of each CLI's script: claude's Bash, codex's exec_command. */
#define CLAUDE_BASH \
        "{\"tool\": \"Bash\", \"input\": {\"command\": \"true\", \"description\": \"Run true\"}}"
#define CODEX_EXEC "{\"tool\": \"exec_command\", \"input\": {\"cmd\": \"true\"}}"

/* The participants, in the order they run. */
enum { POD, CLAUDE, CODEX, POD_CLAUDE, POD_CODEX, PARTS };

typedef struct part {
        const char *label;
        const char *tool_input; /* the JSON of one tool call of the script */
        char dir[PATH_MAX]; /* its cwd; the mock's script and log, its output beside */
        char *argv[12];
        char *env[16];
        pid_t mock;
        int port;
        const char *skip; /* why it is not measured */
        int failed; /* it ran and failed: the bench fails */
        const char *model; /* a pod's model: the profile's */
        int runs;
        double wall[MAX_RUNS];
        double rss_mib[MAX_RUNS];
        double cpu[MAX_RUNS]; /* user + system seconds of the run's tree */
} part;

static char work[PATH_MAX];

/* Every string fmt makes lives until the end of main (fmt_free_all): argv, env, paths. */
static char **made;
static size_t n_made;

static char *fmt(const char *f, ...) {
        char *s = NULL, **grown = realloc(made, sizeof(char *) * (n_made + 1));
        va_list ap;

        if (!grown)
                exit(2);
        made = grown;
        va_start(ap, f);
        if (vasprintf(&s, f, ap) < 0)
                exit(2);
        va_end(ap);
        return made[n_made++] = s;
}

static void fmt_free_all(void) {
        for (size_t i = 0; i < n_made; i++)
                free(made[i]);
        free(made);
}

static void write_file(const char *path, const char *text) {
        FILE *f = fopen(path, "we");

        if (!f || fputs(text, f) < 0 || fclose(f) != 0) {
                fprintf(stderr, "bench-agent-loop: cannot write %s: %s\n", path, strerror(errno));
                exit(2);
        }
}

static void mkdirs(const char *path) {
        char *p = fmt("mkdir -p '%s'", path);

        if (system(p) != 0)
                exit(2);
}

/* The script: TURNS turns each calling the tool once, then a final answer. */
static void write_script(part *p) {
        size_t cap = 64 + TURNS * (strlen(p->tool_input) + 32), n = 0;
        char *s = malloc(cap);

        if (!s)
                exit(2);
        n += (size_t) snprintf(s + n, cap - n, "{\"turns\": [");
        for (int i = 0; i < TURNS; i++)
                n += (size_t) snprintf(s + n, cap - n, "{\"call\": [%s]}, ", p->tool_input);
        snprintf(s + n, cap - n, "{\"say\": \"done: {{last_tool_result}}\"}]}");
        write_file(fmt("%s/script.json", p->dir), s);
        free(s);
}

/* Start the mock on the part's script; read its `PORT n` line. */
static int start_mock(part *p, const char *python, const char *mock) {
        char buf[64] = "";
        int fds[2];
        size_t n = 0;

        if (pipe2(fds, O_CLOEXEC) < 0)
                return -1;
        p->mock = fork();
        if (p->mock == 0) {
                char *av[] = { (char *) python,
                               (char *) mock,
                               "--script",
                               fmt("%s/script.json", p->dir),
                               "--log",
                               fmt("%s/requests.jsonl", p->dir),
                               NULL };
                dup2(fds[1], 1);
                execvp(python, av);
                _exit(127);
        }
        close(fds[1]);
        while (n < sizeof(buf) - 1 && !strchr(buf, '\n')) {
                struct pollfd pfd = { .fd = fds[0], .events = POLLIN };
                ssize_t r;

                if (poll(&pfd, 1, 10000) <= 0 ||
                    (r = read(fds[0], buf + n, sizeof(buf) - 1 - n)) <= 0)
                        break;
                n += (size_t) r;
                buf[n] = '\0';
        }
        close(fds[0]);
        return sscanf(buf, "PORT %d", &p->port) == 1 ? 0 : -1;
}

static long count_requests(const part *p) {
        char *path = fmt("%s/requests.jsonl", p->dir);
        FILE *f = fopen(path, "re");
        long lines = 0;
        int c;

        while (f && (c = getc(f)) != EOF)
                lines += c == '\n';
        if (f)
                fclose(f);
        return lines;
}

/* One run: wall time in ms, the largest resident set and the CPU time of the run's tree.
 * Returns its exit status (0: it succeeded), -1 when it was killed or could not be waited. */
static int run_once(const part *p, double *ms, double *rss_mib, double *cpu) {
        struct rusage ru;
        int status;
        double t0 = bench_now_ms();
        pid_t pid = fork();

        if (pid == 0) {
                int out = open(fmt("%s/output.txt", p->dir), O_WRONLY | O_CREAT | O_TRUNC, 0644);
                int in = open("/dev/null", O_RDONLY);

                if (out < 0 || in < 0 || chdir(p->dir) < 0)
                        _exit(126);
                dup2(in, 0);
                dup2(out, 1);
                dup2(out, 2);
                setpgid(0, 0);
                alarm(RUN_TIMEOUT_S);
                execve(p->argv[0], p->argv, p->env);
                dprintf(2, "bench-agent-loop: cannot run %s: %s\n", p->argv[0], strerror(errno));
                _exit(127);
        }
        while (wait4(pid, &status, 0, &ru) < 0)
                if (errno != EINTR)
                        return -1;
        *ms = bench_now_ms() - t0;
        *rss_mib = (double) ru.ru_maxrss / 1024;
        *cpu = (double) (ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
                (double) (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
        return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

/* The first line of the part's last output, for a one-line reason. */
static char *first_line(const part *p) {
        char *path = fmt("%s/output.txt", p->dir), line[512] = "";
        FILE *f = fopen(path, "re");

        if (f && fgets(line, sizeof(line), f))
                line[strcspn(line, "\n")] = '\0';
        if (f)
                fclose(f);
        return fmt("%s", line);
}

/* Measure one run of p, checking it made every model call; a failure skips p from now on. */
static void measure(part *p, int keep) {
        long before = count_requests(p), calls;
        double ms, rss, cpu;
        int status;

        if (p->skip)
                return;
        status = run_once(p, &ms, &rss, &cpu);
        if (status != 0) {
                char *why = first_line(p);

                if (strcmp(p->label, "pod") == 0 && strstr(why, "is not available in this version"))
                        p->skip = fmt("pod native handler not built (%s)", why);
                else if (p->model && strcmp(p->label, "pod") != 0 && status == 2 &&
                         count_requests(p) == before)
                        p->skip = fmt("the delegate is not available: %s", why);
                else {
                        p->skip = fmt("it failed after %ld model calls: %s",
                                      count_requests(p) - before, why);
                        p->failed = 1;
                }
                return;
        }
        calls = count_requests(p) - before;
        if (calls < TURNS + 1) {
                p->skip = fmt("it made %ld model calls, want %d", calls, TURNS + 1);
                p->failed = 1;
                return;
        }
        if (keep && p->runs < MAX_RUNS) {
                p->wall[p->runs] = ms;
                p->cpu[p->runs] = cpu;
                p->rss_mib[p->runs++] = rss;
        }
}

/* A pod on a user profile naming p->model at p's mock; its PATH starts with bin, where the
 * delegates find their CLIs. The pods share one config, data and runtime dir. */
static void setup_pod(part *p, const char *pod, const char *sandbox, const char *bin) {
        char *cfg = fmt("%s/pod-config", work),
             *name = fmt("loop-%.*s", (int) strcspn(p->model, ":"), p->model);

        mkdirs(fmt("%s/profiles", cfg));
        write_file(fmt("%s/profiles/%s.md", cfg, name),
                   fmt("---\nmodel: %s\nendpoint: http://127.0.0.1:%d\n"
                       "api_key_env: POD_BENCH_API_KEY\n---\nYou run commands.\n",
                       p->model, p->port));
        p->argv[0] = (char *) pod;
        p->argv[1] = "--profile";
        p->argv[2] = fmt("user:%s", name);
        p->argv[3] = PROMPT;
        p->env[0] = fmt("POD_CONFIG_DIR=%s", cfg);
        p->env[1] = fmt("POD_DATA_DIR=%s/pod-data", work);
        p->env[2] = fmt("POD_RUNTIME_DIR=%s/pod-run", work);
        p->env[3] = fmt("HOME=%s/pod-home", work);
        p->env[4] = fmt("PATH=%s:/usr/local/bin:/usr/bin:/bin", bin);
        p->env[5] = "POD_BENCH_API_KEY=sk-bench-not-a-key";
        /* What the bare CLIs get too (setup_claude), should the delegate pass them on. */
        p->env[6] = "CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC=1";
        p->env[7] = "DISABLE_AUTOUPDATER=1";
        p->env[8] = strcmp(sandbox, "off") == 0 ? "POD_SANDBOX=off" : NULL;
        mkdirs(fmt("%s/pod-home", work));
}

/* claude -p at the mock through ANTHROPIC_BASE_URL, allowed to run Bash without asking. */
static void setup_claude(part *p, const char *bin) {
        p->argv[0] = (char *) bin;
        p->argv[1] = "-p";
        p->argv[2] = PROMPT;
        p->argv[3] = "--allowedTools";
        p->argv[4] = "Bash";
        p->argv[5] = "--model";
        p->argv[6] = "mock-model";
        p->env[0] = fmt("HOME=%s/claude-home", work);
        p->env[1] = "PATH=/usr/local/bin:/usr/bin:/bin";
        p->env[2] = fmt("ANTHROPIC_BASE_URL=http://127.0.0.1:%d", p->port);
        p->env[3] = "ANTHROPIC_API_KEY=sk-bench-not-a-key";
        p->env[4] = "CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC=1";
        p->env[5] = "DISABLE_AUTOUPDATER=1";
        mkdirs(fmt("%s/claude-home", work));
}

/* codex exec with a model provider of wire_api "responses" at the mock, in its own CODEX_HOME. */
static void setup_codex(part *p, const char *bin) {
        char *home = fmt("%s/codex-home", work);

        mkdirs(home);
        write_file(fmt("%s/config.toml", home),
                   fmt("model = \"mock-model\"\nmodel_provider = \"mock\"\n\n"
                       "[model_providers.mock]\nname = \"mock\"\n"
                       "base_url = \"http://127.0.0.1:%d/v1\"\nwire_api = \"responses\"\n"
                       "env_key = \"POD_BENCH_API_KEY\"\n",
                       p->port));
        p->argv[0] = (char *) bin;
        p->argv[1] = "exec";
        p->argv[2] = "--skip-git-repo-check";
        p->argv[3] = PROMPT;
        p->env[0] = fmt("HOME=%s", home);
        p->env[1] = fmt("CODEX_HOME=%s", home);
        p->env[2] = "PATH=/usr/local/bin:/usr/bin:/bin";
        p->env[3] = "POD_BENCH_API_KEY=sk-bench-not-a-key";
}

static const char *arg(int argc, char **argv, const char *name, const char *def) {
        for (int i = 1; i + 1 < argc; i++)
                if (strcmp(argv[i], name) == 0)
                        return argv[i + 1];
        return def;
}

static double median_of(const double *v, int n) {
        double *c = malloc(sizeof(double) * (size_t) n);
        double m;

        if (!c)
                exit(2);
        memcpy(c, v, sizeof(double) * (size_t) n);
        m = bench_median(c, n);
        free(c);
        return m;
}

static void report_part(const part *p) {
        if (p->skip)
                printf("agent loop: %s skipped: %s\n", p->label, p->skip);
        else
                printf("agent loop: %s %.0f ms wall, %.2f s CPU, %.1f MiB peak RSS (medians of "
                       "%d)\n",
                       p->label, median_of(p->wall, p->runs), median_of(p->cpu, p->runs),
                       median_of(p->rss_mib, p->runs), p->runs);
}

/* A delegate pod against its bare CLI, on the same conversation (issue 17: <= 1.1x). */
static void report_delegate(const part *d, const part *cli) {
        double wall;

        if (d->skip || cli->skip) {
                printf("delegate %s vs %s: skipped: %s\n", d->label, cli->label,
                       d->skip ? d->skip : fmt("%s was not measured", cli->label));
                return;
        }
        wall = median_of(d->wall, d->runs) / median_of(cli->wall, cli->runs);
        printf("delegate (%d turns of the CLI's shell tool, mock model): %s / %s, medians of %d "
               "interleaved: wall %.0f ms vs %.0f ms, ratio %.3f (budget <= %.2f) %s; peak RSS "
               "%.1f vs %.1f MiB; CPU %.2f vs %.2f s\n",
               TURNS, d->label, cli->label, d->runs, median_of(d->wall, d->runs),
               median_of(cli->wall, cli->runs), wall, DELEGATE_BUDGET,
               wall <= DELEGATE_BUDGET ? "within budget" : "OVER BUDGET",
               median_of(d->rss_mib, d->runs), median_of(cli->rss_mib, cli->runs),
               median_of(d->cpu, d->runs), median_of(cli->cpu, cli->runs));
}

static void report(part *parts, int runs) {
        part *pod = &parts[POD], *fast = NULL;
        double wall, rss, cpu;

        for (int i = CLAUDE; i <= CODEX; i++) /* the bare CLIs are the native pod's peers */
                if (!parts[i].skip &&
                    (!fast ||
                     median_of(parts[i].wall, parts[i].runs) < median_of(fast->wall, fast->runs)))
                        fast = &parts[i];
        for (int i = 0; i < PARTS; i++)
                report_part(&parts[i]);
        report_delegate(&parts[POD_CLAUDE], &parts[CLAUDE]);
        report_delegate(&parts[POD_CODEX], &parts[CODEX]);
        if (pod->skip || !fast) {
                printf("agent loop (%d turns of Bash true, mock model, %d runs interleaved): %s\n",
                       TURNS, runs,
                       pod->skip ? (fast ? "peers only" : "nothing measured") :
                                   "no peer to compare with");
                return;
        }
        wall = median_of(pod->wall, pod->runs) / median_of(fast->wall, fast->runs);
        rss = median_of(pod->rss_mib, pod->runs) / median_of(fast->rss_mib, fast->runs);
        cpu = median_of(pod->cpu, pod->runs) / median_of(fast->cpu, fast->runs);
        printf("agent loop (%d turns of Bash true, mock model): pod / %s, medians of %d "
               "interleaved: wall ratio %.3f (budget <= 0.10) %s; peak RSS ratio %.3f "
               "(budget <= 0.05) %s; CPU ratio %.3f\n",
               TURNS, fast->label, runs, wall, wall <= 0.10 ? "within budget" : "OVER BUDGET", rss,
               rss <= 0.05 ? "within budget" : "OVER BUDGET", cpu);
}

/* The CLI name under the npm prefix; the prefix's bin dir (absolute: each run changes
 * directory before its exec). */
static char *peer_bin(part *p, const char *npm, const char *name, const char *package, char **cli) {
        char *abs = realpath(npm, NULL), *bin = fmt("%s/node_modules/.bin", abs ? abs : npm);

        free(abs);
        *cli = fmt("%s/%s", bin, name);
        if (access(*cli, X_OK) != 0)
                p->skip = fmt("not installed under %s (sh scripts/npm-install.sh %s %s)", npm, npm,
                              package);
        return bin;
}

/* Each part's dir, script and mock; then how it runs. */
static void setup(part *parts,
                  const char *pod,
                  const char *python,
                  const char *mock,
                  const char *sandbox,
                  const char *bin,
                  char *const *cli) {
        static const char *const dirs[PARTS] = { "pod", "claude", "codex", "pod-claude",
                                                 "pod-codex" };

        for (int i = 0; i < PARTS; i++) {
                part *p = &parts[i];
                char *dir = fmt("%s/%s", work, dirs[i]);

                if (strlen(dir) >= sizeof(p->dir))
                        exit(2);
                strcpy(p->dir, dir);
                mkdirs(p->dir);
                write_script(p);
                if (!p->skip && start_mock(p, python, mock) < 0) {
                        p->skip = fmt("the mock model server did not start (%s %s)", python, mock);
                        p->failed = 1;
                }
        }
        for (int i = 0; i < PARTS; i++)
                if (!parts[i].skip && parts[i].model)
                        setup_pod(&parts[i], pod, sandbox, bin);
        if (!parts[CLAUDE].skip)
                setup_claude(&parts[CLAUDE], cli[0]);
        if (!parts[CODEX].skip)
                setup_codex(&parts[CODEX], cli[1]);
}

int main(int argc, char **argv) {
        part parts[PARTS] = {
                [POD] = { .label = "pod",
                          .model = "anthropic:mock-model",
                          .tool_input =
                                  "{\"tool\": \"Bash\", \"input\": {\"command\": \"true\"}}" },
                [CLAUDE] = { .label = "claude -p", .tool_input = CLAUDE_BASH },
                [CODEX] = { .label = "codex exec", .tool_input = CODEX_EXEC },
                [POD_CLAUDE] = { .label = "pod claude:",
                                 .model = "claude:mock-model",
                                 .tool_input = CLAUDE_BASH },
                [POD_CODEX] = { .label = "pod codex:",
                                .model = "codex:mock-model",
                                .tool_input = CODEX_EXEC },
        };
        int runs = bench_runs_arg(argc, argv, 5);
        const char *npm = arg(argc, argv, "--npm", BENCH_NPM_PREFIX);
        const char *mock = arg(argc, argv, "--mock", BENCH_MOCK);
        const char *python = access("/usr/bin/python3", X_OK) == 0 ? "/usr/bin/python3" : "python3";
        int warmup = atoi(arg(argc, argv, "--warmup", "1")), failed = 0;
        char *pod = argc > 1 ? realpath(argv[1], NULL) : NULL, *cli[2], *bin;

        if (!pod || runs > MAX_RUNS) {
                fprintf(stderr,
                        "usage: bench-agent-loop POD_BINARY [--runs N<=%d] [--warmup N] "
                        "[--npm PREFIX] [--mock PATH] [--pod-sandbox on|off]\n",
                        MAX_RUNS);
                free(pod);
                return 2;
        }
        snprintf(work, sizeof(work), "%s/bench-agent-loop-XXXXXX", BENCH_WORK_PARENT);
        if (!mkdtemp(work)) {
                free(pod);
                return 2;
        }
        bin = peer_bin(&parts[CLAUDE], npm, "claude", "@anthropic-ai/claude-code", &cli[0]);
        peer_bin(&parts[CODEX], npm, "codex", "@openai/codex", &cli[1]);
        /* A delegate pod runs the CLI it is compared with: without it, it is not measured. */
        if (parts[CLAUDE].skip)
                parts[POD_CLAUDE].skip = fmt("its CLI is %s", parts[CLAUDE].skip);
        if (parts[CODEX].skip)
                parts[POD_CODEX].skip = fmt("its CLI is %s", parts[CODEX].skip);
        setup(parts, pod, python, mock, arg(argc, argv, "--pod-sandbox", "on"), bin, cli);
        for (int r = 0; r < warmup + runs; r++)
                for (int i = 0; i < PARTS; i++)
                        measure(&parts[i], r >= warmup);
        report(parts, runs);
        for (int i = 0; i < PARTS; i++) {
                if (parts[i].mock > 0) {
                        kill(parts[i].mock, SIGTERM);
                        waitpid(parts[i].mock, NULL, 0);
                }
                failed |= parts[i].failed;
        }
        if (failed) {
                printf("agent loop: FAILED; the work dir is kept for a look: %s\n", work);
                fmt_free_all();
                free(pod);
                return 1;
        }
        failed = system(fmt("rm -rf '%s'", work)) != 0;
        fmt_free_all();
        free(pod);
        return failed;
}
