/* SPDX-License-Identifier: MIT */
/*
 * Start-up: `pod --version` against /bin/true, both spawned with posix_spawn, interleaved
 * (DESIGN §16: keep pod's start-up near a bare C program's). Usage: bench-startup POD [--runs N]
 */
#include <stdio.h>

#include "harness.h"

int main(int argc, char **argv) {
        char *pod_argv[] = { argc > 1 ? argv[1] : "pod", "--version", NULL };
        char *true_argv[] = { "/bin/true", NULL };
        bench_cmd ours = { "pod --version", pod_argv };
        bench_cmd peer = { "/bin/true", true_argv };

        if (argc < 2) {
                fprintf(stderr, "usage: %s POD_BINARY [--runs N]\n", argv[0]);
                return 2;
        }
        bench_compare("start-up", &ours, &peer, bench_runs_arg(argc, argv, 200), 1.5);
        return 0;
}
