/* SPDX-License-Identifier: MIT */
/*
 * SpawnPod through `pod mcp` (issue 17's budget): from writing the tools/call to reading its
 * reply (the child has acknowledged `run`), against the same spawn from a native pod, both
 * sandboxed and interleaved in one run (budget: <= 1.5x). The native spawn is bench-spawn's
 * --sandboxed helper (a spawner in its own process, timed inside it); the MCP one is timed
 * here, across the pipes, as a client sees it. Each child is stopped (untimed). Both keep
 * their runtime dir in the same place (bench_runtime_base) and their data dir in /tmp.
 * Usage: bench-mcp POD_BINARY [--runs N]   (bench-spawn must sit beside this program)
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "harness.h"

extern char **environ;

typedef struct proc {
        pid_t pid;
        FILE *in, *out;
} proc;

static void die(const char *what, const char *why) {
        fprintf(stderr, "bench-mcp: %s: %s\n", what, why);
        exit(1);
}

static void start(proc *p, char *const *argv, char *const *envp, const char *cwd) {
        posix_spawn_file_actions_t fa;
        int to[2], from[2];

        if (pipe2(to, O_CLOEXEC) < 0 || pipe2(from, O_CLOEXEC) < 0)
                die("pipe", strerror(errno));
        posix_spawn_file_actions_init(&fa);
        posix_spawn_file_actions_adddup2(&fa, to[0], 0);
        posix_spawn_file_actions_adddup2(&fa, from[1], 1);
        if (cwd)
                posix_spawn_file_actions_addchdir_np(&fa, cwd);
        if (posix_spawn(&p->pid, argv[0], &fa, NULL, argv, envp) != 0)
                die(argv[0], "cannot start");
        posix_spawn_file_actions_destroy(&fa);
        close(to[0]);
        close(from[1]);
        p->in = fdopen(to[1], "w");
        p->out = fdopen(from[0], "r");
        setvbuf(p->in, NULL, _IONBF, 0);
}

/* One request to `pod mcp`, its reply line read back; the time it took in ms. */
static double mcp_call(proc *p, const char *line) {
        static char reply[65536];
        double t0 = bench_now_ms();

        fprintf(p->in, "%s\n", line);
        if (!fgets(reply, sizeof(reply), p->out))
                die("pod mcp", "stopped answering");
        if (strstr(reply, "\"isError\":true") || strstr(reply, "\"error\""))
                die("pod mcp", reply);
        return bench_now_ms() - t0;
}

static double mcp_spawn(proc *p, const char *root) {
        char line[512];
        double ms;

        snprintf(line, sizeof(line),
                 "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"tools/call\",\"params\":{\"name\":"
                 "\"SpawnPod\",\"arguments\":{\"name\":\"m0\",\"task\":\"t\",\"profile\":"
                 "\"project:kid\",\"scope\":[{\"path\":\"%s\",\"access\":\"read\"}]}}}",
                 root);
        ms = mcp_call(p, line);
        mcp_call(p,
                 "{\"jsonrpc\":\"2.0\",\"id\":2,\"method\":\"tools/call\",\"params\":{"
                 "\"name\":\"StopPod\",\"arguments\":{\"name\":\"m0\"}}}");
        return ms;
}

static double native_spawn(proc *p) {
        char line[64];

        fputs("spawn\n", p->in);
        if (!fgets(line, sizeof(line), p->out))
                die("bench-spawn --sandboxed", "stopped answering");
        return strtod(line, NULL);
}

/* A project with the child profile (script model), and the environment of `pod mcp`. */
static void project(char root[64], char rt[64], char **env, char bufs[5][160]) {
        char prof[128];

        snprintf(root, 64, "/tmp/pm-XXXXXX");
        /* The runtime dir where bench-spawn's is (a tmpfs): the registry's writes and the
         * sockets there, on a disk, would cost the MCP side alone. */
        snprintf(rt, 64, "%s/pm-rt-XXXXXX", bench_runtime_base());
        if (!mkdtemp(root) || !mkdtemp(rt))
                die("mkdtemp", strerror(errno));
        snprintf(prof, sizeof(prof), "%s/.pod", root);
        mkdir(prof, 0700);
        snprintf(prof, sizeof(prof), "%s/.pod/profiles", root);
        mkdir(prof, 0700);
        bench_put(prof, "kid.md", "---\nmodel: script:kid.json\ntools: [Read]\n---\nkid\n");
        bench_put(prof, "kid.json", "{\"turns\": [{\"say\": \"kid\"}]}");
        /* The operator trusts the project, so its profile takes effect (DESIGN §4). */
        snprintf(prof, sizeof(prof), "%s/config", root);
        mkdir(prof, 0700);
        {
                char line[80];
                snprintf(line, sizeof(line), "%s\n", root);
                bench_put(prof, "trusted-projects", line);
        }
        snprintf(bufs[0], 160, "POD_RUNTIME_DIR=%s", rt);
        snprintf(bufs[1], 160, "POD_DATA_DIR=%s/data", root);
        snprintf(bufs[2], 160, "POD_CONFIG_DIR=%s/config", root);
        snprintf(bufs[3], 160, "HOME=%s", root);
        snprintf(bufs[4], 160, "PATH=/usr/bin:/bin");
        for (int i = 0; i < 5; i++)
                env[i] = bufs[i];
        env[5] = NULL;
}

static void finish(proc *p) {
        char a[64], b[64], cmd[160];

        fclose(p->in);
        /* bench-spawn's confined helper names the dirs it could not remove itself. */
        if (fscanf(p->out, "%63s %63s", a, b) == 2) {
                snprintf(cmd, sizeof(cmd), "rm -rf %s %s", a, b);
                if (system(cmd) != 0)
                        fprintf(stderr, "bench-mcp: could not remove %s\n", a);
        }
        fclose(p->out);
        waitpid(p->pid, NULL, 0);
}

int main(int argc, char **argv) {
        int runs = bench_runs_arg(argc, argv, 30);
        char *pod = argc > 1 ? realpath(argv[1], NULL) : NULL;
        char root[64], rt[64], bufs[5][160], *env[6], scope[96], self[4096], spawner[4200];
        ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
        double *ours = calloc((size_t) runs, sizeof(double));
        double *peer = calloc((size_t) runs, sizeof(double));
        proc mcp = { 0 }, native = { 0 };
        double mo, mp;

        if (!pod || n <= 0 || !ours || !peer) {
                fprintf(stderr, "usage: %s POD_BINARY [--runs N]\n", argv[0]);
                free(pod);
                free(ours);
                free(peer);
                return 2;
        }
        self[n] = '\0';
        snprintf(spawner, sizeof(spawner), "%.*s/bench-spawn", (int) (strrchr(self, '/') - self),
                 self);
        signal(SIGPIPE, SIG_IGN);
        project(root, rt, env, bufs);
        snprintf(scope, sizeof(scope), "read:%s", root);
        start(&mcp, (char *const[]){ pod, "mcp", "--scope", scope, NULL }, env, root);
        mcp_call(&mcp,
                 "{\"jsonrpc\":\"2.0\",\"id\":0,\"method\":\"initialize\",\"params\":{"
                 "\"protocolVersion\":\"2025-11-25\",\"capabilities\":{}}}");
        start(&native, (char *const[]){ spawner, pod, "--sandboxed", NULL }, environ, NULL);
        for (int i = 0; i < 2; i++) { /* warm-up */
                mcp_spawn(&mcp, root);
                native_spawn(&native);
        }
        for (int i = 0; i < runs; i++) {
                ours[i] = mcp_spawn(&mcp, root);
                peer[i] = native_spawn(&native);
        }
        mo = bench_median(ours, runs);
        mp = bench_median(peer, runs);
        printf("SpawnPod via pod mcp vs a native pod (sandboxed): %.3f ms vs %.3f ms (medians of "
               "%d, interleaved); ratio %.2f (budget <= 1.50) %s\n",
               mo, mp, runs, mo / mp, mo / mp <= 1.5 ? "within budget" : "OVER BUDGET");
        finish(&native);
        fclose(mcp.in); /* the client leaves: pod mcp stops its tree and ends */
        fclose(mcp.out);
        waitpid(mcp.pid, NULL, 0);
        snprintf(spawner, sizeof(spawner), "rm -rf %s %s", root, rt);
        if (system(spawner) != 0)
                fprintf(stderr, "bench-mcp: could not remove %s\n", root);
        free(ours);
        free(peer);
        free(pod);
        return 0;
}
