/* SPDX-License-Identifier: MIT */
/*
 * SpawnPod (DESIGN §16): from the call to the child's acknowledgement of `run`, measured
 * in a real spawner (registry, socket, tree) against, interleaved in the same run:
 *   - posix_spawn of /bin/true + waitpid             (budget: SpawnPod <= 4x)
 *   - bwrap --unshare-all spawning /bin/true          (budget: SpawnPod <= 0.5x; skipped
 *                                                      with a note when bwrap is missing)
 *   - the same SpawnPod from a parent holding 1 GiB   (budget: <= 1.2x the small parent)
 *   - the same SpawnPod, spawner and child sandboxed  (DESIGN §16's budgets are for a
 *                                                      sandboxed child; the sandbox's cost
 *                                                      over the unsandboxed spawn: ~0.2 ms)
 * and 100 children started one after another by one spawner (sandboxed, and unsandboxed),
 * all alive at the end (the median of 3 such bursts, apart), against 100x that spawner's
 * single-spawn median (budget <= 1.5x), while every helper still runs. Each single spawn's
 * child is stopped (untimed). --children N makes the bursts N children (the smoke test's
 * tiny mode).
 * The spawns compared run alike, each in a helper process of its own (internal modes
 * --small, --big, --sandboxed).
 * Usage: bench-spawn POD_BINARY [--runs N] [--children N]
 */
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cli/cli.h" /* profile resolution (cli_resolve) */
#include "harness.h"
#include "pod/pod.h" /* the host that runs the pod */

extern char **environ;

typedef struct spawner {
        char root[64];
        char rt[64];
        char **env;
        cli_resolved res;
        pod_host h;
} spawner;

static void die(const char *what, const char *why) {
        fprintf(stderr, "bench-spawn: %s: %s\n", what, why);
        exit(1);
}

/* A project with a spawner profile and a child profile on the script model. */
static void setup(spawner *s, const char *pod, bool sandboxed) {
        char prof[128], buf[512];
        cli_target t = { .selector = "project:boss" };
        pod_error err = { 0 };

        snprintf(s->root, sizeof(s->root), "/tmp/pb-XXXXXX");
        if (!mkdtemp(s->root))
                die("mkdtemp", strerror(errno));
        snprintf(prof, sizeof(prof), "%s/.pod/profiles", s->root);
        mkdir_p(prof, 0700);
        /* The runtime dir on a tmpfs, as $XDG_RUNTIME_DIR is on a systemd machine; the data dir
         * and the project stay on the disk of the temporary directory. */
        snprintf(s->rt, sizeof(s->rt), "%s/pb-rt-XXXXXX", bench_runtime_base());
        if (!mkdtemp(s->rt))
                die("mkdtemp", strerror(errno));
        bench_put(prof, "boss.md",
                  "---\nmodel: script:boss.json\ntools: [SpawnPod, StopPod]\n"
                  "limits:\n  max_children: 1024\n---\nboss\n");
        bench_put(prof, "boss.json", "{\"turns\": [{\"say\": \"x\"}]}");
        bench_put(prof, "kid.md", "---\nmodel: script:kid.json\ntools: [Read]\n---\nkid\n");
        bench_put(prof, "kid.json", "{\"turns\": [{\"say\": \"kid\"}]}");
        if (!sandboxed) /* a sandboxed spawner is confined itself, and its children */
                strv_push(&s->env, "POD_SANDBOX=off");
        snprintf(buf, sizeof(buf), "POD_RUNTIME_DIR=%s", s->rt);
        strv_push(&s->env, buf);
        snprintf(buf, sizeof(buf), "POD_DATA_DIR=%s/data", s->root);
        strv_push(&s->env, buf);
        snprintf(buf, sizeof(buf), "POD_CONFIG_DIR=%s/config", s->root);
        strv_push(&s->env, buf);
        snprintf(buf, sizeof(buf), "HOME=%s", s->root);
        strv_push(&s->env, buf);
        strv_push(&s->env, "PATH=/usr/bin:/bin");
        t.cwd = s->root;
        snprintf(buf, sizeof(buf), "%s/config", s->root);
        if (trust_change(buf, s->root, true, NULL, &err) < 0) /* its profiles take effect */
                die("trust", err.msg);
        if (cli_resolve(&s->res, &t, true, s->env) != 0)
                exit(1);
        /* Children run pod, not this benchmark. */
        s->h = (pod_host){ .manifest = s->res.manifest, .envp = s->env, .exe = strdup(pod) };
        if (host_start_top(&s->h, &s->res.dirs, &err) < 0)
                die("spawner", err.msg);
}

static void remove_dirs(const char *root, const char *rt) {
        char cmd[160];

        snprintf(cmd, sizeof(cmd), "rm -rf %s %s", root, rt);
        if (system(cmd) != 0)
                fprintf(stderr, "bench-spawn: could not remove %s\n", root);
}

/* A confined spawner cannot remove its runtime dir: it only says which to remove. */
static void teardown(spawner *s, bool confined) {
        host_stop(&s->h, true);
        cli_resolved_done(&s->res);
        strv_free(s->env);
        if (confined)
                printf("%s %s\n", s->root, s->rt);
        else
                remove_dirs(s->root, s->rt);
}

static void call(spawner *s, const char *tool, json_t *in) {
        tool_result r = { 0 };

        if (tree_tool(&r, s->h.tree, tool, in) < 0 || r.is_error)
                die(tool, r.text ? r.text : "out of memory");
        tool_result_done(&r);
        json_decref(in);
}

static json_t *spawn_input(spawner *s, int i) {
        char name[32];

        snprintf(name, sizeof(name), "k%d", i);
        return json_pack("{s:s, s:s, s:s, s:[{s:s, s:s}]}", "name", name, "task", "t", "profile",
                         "project:kid", "scope", "path", s->root, "access", "read");
}

/* One SpawnPod, timed; then the child is stopped, untimed. */
static double spawn_once(spawner *s) {
        double t0 = bench_now_ms(), t1;

        call(s, "SpawnPod", spawn_input(s, 0));
        t1 = bench_now_ms();
        call(s, "StopPod", json_pack("{s:s}", "name", "k0"));
        return t1 - t0;
}

static double run_argv(char *const *argv) {
        double t0 = bench_now_ms();
        pid_t pid;
        int st;

        if (posix_spawn(&pid, argv[0], NULL, NULL, argv, environ) != 0)
                die(argv[0], "cannot start");
        waitpid(pid, &st, 0);
        if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
                die(argv[0], "failed");
        return bench_now_ms() - t0;
}

/* n children started one after another, all alive at the end: the median of 3 such
 * bursts, the children stopped (untimed) between them. */
static double burst(spawner *s, int n) {
        double t[3];

        for (int k = 0; k < 3; k++) {
                double t0 = bench_now_ms();
                for (int i = 0; i < n; i++)
                        call(s, "SpawnPod", spawn_input(s, i));
                t[k] = bench_now_ms() - t0;
                for (int i = 0; k < 2 && i < n; i++) {
                        char name[32];
                        snprintf(name, sizeof(name), "k%d", i);
                        call(s, "StopPod", json_pack("{s:s}", "name", name));
                }
                /* The kernel tears n processes (and their sandboxes) down after they have
                 * exited; the next burst should not run beside that. */
                if (k < 2)
                        nanosleep(&(struct timespec){ 0, 300 * 1000 * 1000 }, NULL);
        }
        bench_median(t, 3);
        return t[1];
}

/* --small: a spawner without the sandbox; --big: the same, holding 1 GiB (touched);
 * --sandboxed: a spawner and children in the kernel sandbox. Each spawns once per line
 * read from stdin and prints the time, so that the cases compared run alike. */
static int helper(const char *pod, const char *mode) {
        size_t gib = 1024ul * 1024ul * 1024ul;
        bool big = strcmp(mode, "--big") == 0, boxed = strcmp(mode, "--sandboxed") == 0;
        char *mem = big ?
                mmap(NULL, gib, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0) :
                NULL;
        spawner s = { 0 };
        char line[32];

        if (mem == MAP_FAILED)
                die("mmap 1 GiB", strerror(errno));
        if (mem)
                memset(mem, 1, gib);
        setup(&s, pod, boxed);
        setvbuf(stdout, NULL, _IONBF, 0);
        while (fgets(line, sizeof(line), stdin))
                printf("%.6f\n",
                       strncmp(line, "burst ", 6) == 0 ? burst(&s, atoi(line + 6)) :
                                                         spawn_once(&s));
        teardown(&s, boxed);
        if (mem)
                munmap(mem, gib);
        return 0;
}

typedef struct helper_proc {
        pid_t pid;
        FILE *in, *out;
        const char *mode;
} helper_proc;

static void start_helper(helper_proc *h, const char *self, const char *pod, const char *mode) {
        char *hargv[] = { (char *) self, (char *) pod, (char *) mode, NULL };
        posix_spawn_file_actions_t fa;
        int to[2], from[2];

        if (pipe2(to, O_CLOEXEC) < 0 || pipe2(from, O_CLOEXEC) < 0)
                die("pipe", strerror(errno));
        posix_spawn_file_actions_init(&fa);
        posix_spawn_file_actions_adddup2(&fa, to[0], 0);
        posix_spawn_file_actions_adddup2(&fa, from[1], 1);
        if (posix_spawn(&h->pid, self, &fa, NULL, hargv, environ) != 0)
                die("helper", "cannot start");
        posix_spawn_file_actions_destroy(&fa);
        close(to[0]);
        close(from[1]);
        h->mode = mode;
        h->in = fdopen(to[1], "w");
        h->out = fdopen(from[0], "r");
        setvbuf(h->in, NULL, _IONBF, 0);
}

static double ask_helper(helper_proc *h, const char *what, int n) {
        char line[64], why[64];
        int st = 0;

        fprintf(h->in, n ? "%s %d\n" : "%s\n", what, n);
        if (fgets(line, sizeof(line), h->out))
                return strtod(line, NULL);
        if (waitpid(h->pid, &st, 0) != h->pid)
                snprintf(why, sizeof(why), "stopped answering");
        else if (WIFSIGNALED(st))
                snprintf(why, sizeof(why), "killed by signal %d", WTERMSIG(st));
        else
                snprintf(why, sizeof(why), "exited with status %d", WEXITSTATUS(st));
        die(h->mode, why);
        return 0;
}

static void stop_helper(helper_proc *h) {
        char root[64], rt[64];

        fclose(h->in);
        if (fscanf(h->out, "%63s %63s", root, rt) == 2)
                remove_dirs(root, rt);
        fclose(h->out);
        waitpid(h->pid, NULL, 0);
}

static void report(const char *what, double ours, double peer, double budget, int runs) {
        double ratio = ours / peer;

        printf("%s: %.3f ms vs %.3f ms (medians of %d, interleaved); ratio %.2f (budget <= %.2f) "
               "%s\n",
               what, ours, peer, runs, ratio, budget,
               ratio <= budget ? "within budget" : "OVER BUDGET");
}

enum { TRUE, BWRAP, SMALL, BIG, BOXED, CASES };

int main(int argc, char **argv) {
        int runs = bench_runs_arg(argc, argv, 50), kids = 100;
        char *pod = argc > 1 ? realpath(argv[1], NULL) : NULL;
        double *m[CASES];
        helper_proc small = { 0 }, big = { 0 }, boxed = { 0 };
        bool have_sandbox = sandbox_abi() >= 1;
        char *true_argv[] = { "/bin/true", NULL };
        char *bwrap_argv[] = {
                "/usr/bin/bwrap", "--unshare-all", "--ro-bind", "/", "/", "/bin/true", NULL
        };
        bool have_bwrap = access(bwrap_argv[0], X_OK) == 0;
        char self[4096];
        ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
        double total, burst_boxed;

        if (!pod) {
                fprintf(stderr, "usage: %s POD_BINARY [--runs N]\n", argv[0]);
                return 2;
        }
        if (argc > 2 &&
            (strcmp(argv[2], "--small") == 0 || strcmp(argv[2], "--big") == 0 ||
             strcmp(argv[2], "--sandboxed") == 0)) {
                int r = helper(pod, argv[2]);
                free(pod);
                return r;
        }
        for (int i = 2; i + 1 < argc; i++)
                if (strcmp(argv[i], "--children") == 0 && atoi(argv[i + 1]) > 0)
                        kids = atoi(argv[i + 1]);
        signal(SIGPIPE, SIG_IGN); /* a helper that stops is reported, not a silent death */
        for (int c = 0; c < CASES; c++)
                if (!(m[c] = calloc((size_t) runs, sizeof(double))))
                        return 1;
        if (n <= 0)
                return 1;
        self[n] = '\0';
        /* The spawns compared with each other all run in helpers alike, the bursts too: a
         * spawner of this process's own would end the helpers, its descendants, as what it
         * left running before each lease (docs/sandbox.md, Containment). */
        start_helper(&small, self, pod, "--small");
        start_helper(&big, self, pod, "--big");
        if (have_sandbox)
                start_helper(&boxed, self, pod, "--sandboxed");
        /* Interleaved, in an order that rotates at each run: bwrap leaves work behind (its
         * namespaces are torn down by the kernel afterwards), which in a fixed order would
         * always land on the same case. */
        for (int i = -3; i < runs; i++) {
                double t[CASES] = { 1, 1, 1, 1, 1 };
                for (int k = 0; k < CASES; k++) {
                        int which = (k + i + 3) % CASES;
                        if (which == TRUE)
                                t[TRUE] = run_argv(true_argv);
                        else if (which == BWRAP && have_bwrap)
                                t[BWRAP] = run_argv(bwrap_argv);
                        else if (which == SMALL)
                                t[SMALL] = ask_helper(&small, "go", 0);
                        else if (which == BIG)
                                t[BIG] = ask_helper(&big, "go", 0);
                        else if (which == BOXED && have_sandbox)
                                t[BOXED] = ask_helper(&boxed, "go", 0);
                }
                for (int c = 0; i >= 0 && c < CASES; c++)
                        m[c][i] = t[c];
        }
        /* kids children (100) from one spawner, the way DESIGN §16 means (sandboxed), and from the
         * unsandboxed one, which also reads every live entry at each reservation. */
        burst_boxed = have_sandbox ? ask_helper(&boxed, "burst", kids) : 0;
        total = ask_helper(&small, "burst", kids);
        stop_helper(&small);
        stop_helper(&big);
        if (have_sandbox)
                stop_helper(&boxed);
        for (int c = 0; c < CASES; c++)
                bench_median(m[c], runs);
#define MED(c) m[c][runs / 2]
        report("SpawnPod to run acknowledged vs posix_spawn /bin/true", MED(SMALL), MED(TRUE), 4.0,
               runs);
        if (have_bwrap)
                report("SpawnPod to run acknowledged vs bwrap --unshare-all /bin/true", MED(SMALL),
                       MED(BWRAP), 0.5, runs);
        else
                printf("SpawnPod vs bwrap: skipped, bwrap is not installed (apt-get install "
                       "bubblewrap)\n");
        report("SpawnPod from a parent holding 1 GiB vs a small parent", MED(BIG), MED(SMALL), 1.2,
               runs);
        if (have_sandbox) {
                /* DESIGN §16's budgets are for a sandboxed child pod. */
                report("SpawnPod sandboxed vs posix_spawn /bin/true", MED(BOXED), MED(TRUE), 4.0,
                       runs);
                if (have_bwrap)
                        report("SpawnPod sandboxed vs bwrap --unshare-all /bin/true", MED(BOXED),
                               MED(BWRAP), 0.5, runs);
                printf("SpawnPod sandboxed (spawner and child confined) vs unsandboxed: %.3f ms vs "
                       "%.3f ms (medians of %d, interleaved); the sandbox adds %.3f ms (budget "
                       "about 0.2 ms) %s\n",
                       MED(BOXED), MED(SMALL), runs, MED(BOXED) - MED(SMALL),
                       MED(BOXED) - MED(SMALL) <= 0.25 ? "within budget" : "OVER BUDGET");
        } else
                printf("SpawnPod sandboxed: skipped, the kernel offers no Landlock\n");
        if (have_sandbox)
                printf("%d children started by a sandboxed spawner, all alive and acknowledged: "
                       "%.1f ms vs %d x %.3f ms (its single spawn); ratio %.2f (budget <= 1.50) "
                       "%s\n",
                       kids, burst_boxed, kids, MED(BOXED), burst_boxed / (kids * MED(BOXED)),
                       burst_boxed / (kids * MED(BOXED)) <= 1.5 ? "within budget" : "OVER BUDGET");
        printf("%d children started by an unsandboxed spawner, which also reads every live "
               "entry at each reservation: %.1f ms vs %d x %.3f ms (its single spawn); ratio "
               "%.2f (budget <= 1.50) %s\n",
               kids, total, kids, MED(SMALL), total / (kids * MED(SMALL)),
               total / (kids * MED(SMALL)) <= 1.5 ? "within budget" : "OVER BUDGET");
#undef MED
        for (int c = 0; c < CASES; c++)
                free(m[c]);
        free(pod);
        return 0;
}
