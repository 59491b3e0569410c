/* SPDX-License-Identifier: MIT */
/*
 * The Bash tool running `true` (output captured, environment filtered, new session) against
 * posix_spawn of `sh -c true` plus waitpid (DESIGN §16: <= 1.4x), and against `bash -c true`
 * (the interpreter the tool runs), all interleaved. From the second call on, the tool runs
 * the command in a shell it started ahead at the end of the call before (that start is
 * inside the timed call); the peers are timed after a pause that lets the shell finish
 * starting in the background, as it would while a model thinks.
 * Usage: bench-bash [--runs N]
 */
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "harness.h"
#include "tools/tools.h"

extern char **environ;

static pod_tools *make_tools(const char *dir) {
        char text[] = "---\nmodel: openai:x\ntools: [Bash]\n---\n";
        pod_profile *p = NULL;
        manifest_inputs in = { .cwd = dir };
        json_t *m = NULL;
        manifest_view *v = NULL;
        pod_tools *t = NULL;
        pod_error err = { 0 };

        if (profile_parse(&p, POD_SOURCE_USER, "b", "/b.md", text, strlen(text), &err) < 0 ||
            manifest_resolve(&m, NULL, p, &in, &err) < 0 || manifest_view_new(&v, m, &err) < 0 ||
            tools_new(&t, v, NULL, &err) < 0) {
                fprintf(stderr, "%s\n", err.msg);
                exit(1);
        }
        manifest_view_free(v);
        json_decref(m);
        profile_free(p);
        return t;
}

int main(int argc, char **argv) {
        int runs = bench_runs_arg(argc, argv, 200);
        double *a = calloc((size_t) runs, sizeof(double)),
               *b = calloc((size_t) runs, sizeof(double));
        double *c = calloc((size_t) runs, sizeof(double));
        char *bash_argv[] = { "bash", "-c", "true", NULL };
        char dir[] = "/tmp/pod-bench-XXXXXX";
        char *sh_argv[] = { "sh", "-c", "true", NULL };
        json_t *input = json_pack("{s:s}", "command", "true");
        struct timespec settle = { 0, 5 * 1000 * 1000 };
        pod_tools *t;

        if (!a || !b || !c || !mkdtemp(dir))
                return 1;
        t = make_tools(dir);
        for (int i = -5; i < runs; i++) {
                tool_result r = { 0 };
                pid_t pid;
                double t0 = bench_now_ms(), t1, t2, t3, ours;
                if (tools_call(&r, t, "Bash", input) < 0 || r.is_error) {
                        fprintf(stderr, "Bash failed: %s\n", r.text ? r.text : "?");
                        return 1;
                }
                ours = bench_now_ms() - t0;
                tool_result_done(&r);
                /* The tool starts the next command's shell ahead, and bash's start goes on in
                 * the background, as it does while a model thinks: the peers are timed once
                 * it is done, not beside it. */
                nanosleep(&settle, NULL);
                t1 = bench_now_ms();
                if (posix_spawn(&pid, "/bin/sh", NULL, NULL, sh_argv, environ) != 0)
                        return 1;
                waitpid(pid, NULL, 0);
                t2 = bench_now_ms();
                if (posix_spawn(&pid, "/bin/bash", NULL, NULL, bash_argv, environ) != 0)
                        return 1;
                waitpid(pid, NULL, 0);
                t3 = bench_now_ms();
                if (i >= 0) {
                        a[i] = ours;
                        b[i] = t2 - t1;
                        c[i] = t3 - t2;
                }
        }
        bench_median(a, runs);
        bench_median(b, runs);
        bench_median(c, runs);
        printf("Bash tool running true: %.3f ms, posix_spawn sh -c true: %.3f ms (medians of %d, "
               "interleaved); ratio %.2f (budget <= 1.40) %s\n",
               a[runs / 2], b[runs / 2], runs, a[runs / 2] / b[runs / 2],
               a[runs / 2] / b[runs / 2] <= 1.4 ? "within budget" : "OVER BUDGET");
        printf("  against posix_spawn bash -c true (%.3f ms, the interpreter the tool runs): "
               "ratio %.2f\n",
               c[runs / 2], a[runs / 2] / c[runs / 2]);
        free(c);
        tools_free(t);
        json_decref(input);
        rmdir(dir);
        free(a);
        free(b);
        return 0;
}
