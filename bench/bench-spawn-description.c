/* SPDX-License-Identifier: MIT */
/*
 * Rendering the SpawnPod description with 1,000 discovered profiles (DESIGN §16: <= 1 ms).
 * Discovery happens once; each run renders the description from the profile set.
 * Usage: bench-spawn-description [--runs N]
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "harness.h"
#include "prompt/prompt.h"

#define PROFILES 1000

int main(int argc, char **argv) {
        char dir[] = "/tmp/pod-bench-XXXXXX", path[4096];
        int runs = bench_runs_arg(argc, argv, 200);
        double *t = calloc((size_t) runs, sizeof(double));
        profile_set *set = NULL;
        pod_error err = { 0 };
        size_t bytes = 0;

        if (!t || !mkdtemp(dir))
                return 1;
        snprintf(path, sizeof(path), "%s/.pod", dir);
        mkdir(path, 0755);
        snprintf(path, sizeof(path), "%s/.pod/profiles", dir);
        mkdir(path, 0755);
        for (int i = 0; i < PROFILES; i++) {
                FILE *f;
                snprintf(path, sizeof(path), "%s/.pod/profiles/role-%04d.md", dir, i);
                f = fopen(path, "we");
                if (!f)
                        return 1;
                fprintf(f,
                        "---\ndescription: Role %d, one of many generated roles for the "
                        "description benchmark\nmodel: openai:gpt-5\n---\nBody.\n",
                        i);
                fclose(f);
        }
        if (profile_set_discover(&set, dir, NULL, &err) < 0) {
                fprintf(stderr, "%s\n", err.msg);
                return 1;
        }
        for (int i = 0; i < runs; i++) {
                pod_buf out = { 0 };
                double t0 = bench_now_ms();
                if (prompt_spawn_description(&out, set, NULL, NULL, &err) < 0) {
                        fprintf(stderr, "%s\n", err.msg);
                        return 1;
                }
                t[i] = bench_now_ms() - t0;
                bytes = out.len;
                buf_done(&out);
        }
        bench_median(t, runs);
        printf("SpawnPod description, %d profiles (%zu bytes): median %.3f ms of %d runs; "
               "ratio %.2f of the 1 ms budget %s\n",
               PROFILES, bytes, t[runs / 2], runs, t[runs / 2] / 1.0,
               t[runs / 2] <= 1.0 ? "within budget" : "OVER BUDGET");
        profile_set_free(set);
        for (int i = 0; i < PROFILES; i++) {
                snprintf(path, sizeof(path), "%s/.pod/profiles/role-%04d.md", dir, i);
                unlink(path);
        }
        snprintf(path, sizeof(path), "%s/.pod/profiles", dir);
        rmdir(path);
        snprintf(path, sizeof(path), "%s/.pod", dir);
        rmdir(path);
        rmdir(dir);
        free(t);
        return 0;
}
