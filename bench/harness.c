/* SPDX-License-Identifier: MIT */
/* The benchmark harness: interleaved runs, medians, ratios. */
#include "harness.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/magic.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/statfs.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

void bench_put(const char *dir, const char *name, const char *text) {
        char path[256];
        FILE *f;

        snprintf(path, sizeof(path), "%s/%s", dir, name);
        f = fopen(path, "w");
        if (!f || fputs(text, f) < 0 || fclose(f) != 0) {
                fprintf(stderr, "bench: %s: %s\n", path, strerror(errno));
                exit(1);
        }
}

const char *bench_runtime_base(void) {
        const char *x = getenv("XDG_RUNTIME_DIR");
        struct statfs fs;

        if (x && *x == '/' && strlen(x) < 40)
                return x;
        if (statfs("/dev/shm", &fs) == 0 && fs.f_type == TMPFS_MAGIC)
                return "/dev/shm";
        return "/tmp";
}

double bench_now_ms(void) {
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (double) ts.tv_sec * 1e3 + (double) ts.tv_nsec / 1e6;
}

double bench_time_once(const bench_cmd *c) {
        posix_spawn_file_actions_t fa;
        double t0, t1;
        int status;
        pid_t pid;

        posix_spawn_file_actions_init(&fa);
        posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
        posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0);
        t0 = bench_now_ms();
        if (posix_spawn(&pid, c->argv[0], &fa, NULL, c->argv, environ) != 0) {
                fprintf(stderr, "bench: cannot run %s: %s\n", c->argv[0], strerror(errno));
                exit(1);
        }
        while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
                ;
        t1 = bench_now_ms();
        posix_spawn_file_actions_destroy(&fa);
        if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
                fprintf(stderr, "bench: %s failed (status %d)\n", c->label, status);
                exit(1);
        }
        return t1 - t0;
}

static int cmp_double(const void *a, const void *b) {
        double x = *(const double *) a, y = *(const double *) b;

        return (x > y) - (x < y);
}

double bench_median(double *v, int n) {
        qsort(v, (size_t) n, sizeof(double), cmp_double);
        return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

double bench_compare(
        const char *title, const bench_cmd *ours, const bench_cmd *peer, int runs, double budget) {
        double *a = calloc((size_t) runs, sizeof(double));
        double *b = calloc((size_t) runs, sizeof(double));
        double ma, mb, ratio;

        if (!a || !b)
                exit(1);
        for (int i = 0; i < 3; i++) {
                bench_time_once(ours);
                bench_time_once(peer);
        }
        for (int i = 0; i < runs; i++) {
                a[i] = bench_time_once(ours);
                b[i] = bench_time_once(peer);
        }
        ma = bench_median(a, runs);
        mb = bench_median(b, runs);
        ratio = ma / mb;
        printf("%s: %s %.3f ms, %s %.3f ms (medians of %d, interleaved); ratio %.2f "
               "(budget <= %.2f) %s\n",
               title, ours->label, ma, peer->label, mb, runs, ratio, budget,
               ratio <= budget ? "within budget" : "OVER BUDGET");
        free(a);
        free(b);
        return ratio;
}

int bench_runs_arg(int argc, char **argv, int def) {
        for (int i = 1; i + 1 < argc; i++)
                if (strcmp(argv[i], "--runs") == 0)
                        return atoi(argv[i + 1]) > 0 ? atoi(argv[i + 1]) : def;
        return def;
}
