/* SPDX-License-Identifier: MIT */
#pragma once

/*
 * A small benchmark harness: runs our case and a peer command interleaved in one run (so
 * both see the same machine load), and prints medians and their ratio against a budget.
 * It reports; it never fails on timing: the machines are shared and noisy.
 */

typedef struct bench_cmd {
        const char *label;
        char *const *argv; /* argv[0] is a path */
} bench_cmd;

/* Wall time of one run in milliseconds; exits the program if the command fails. */
double bench_time_once(const bench_cmd *c);
/*
 * Run ours and peer `runs` times each, interleaved, after a warm-up; print one line
 * `title: ours X ms, peer Y ms (medians of N); ratio R (budget <= B)`. Returns the ratio.
 */
double bench_compare(
        const char *title, const bench_cmd *ours, const bench_cmd *peer, int runs, double budget);
/* Monotonic milliseconds. */
double bench_now_ms(void);
/* Median of v[0..n) (sorts v). */
double bench_median(double *v, int n);
/* --runs N from argv, or def. */
int bench_runs_arg(int argc, char **argv, int def);
/* Where a benchmark's runtime dir (POD_RUNTIME_DIR: the registry, the sockets) goes, the same
 * for every benchmark so that their spawns compare: $XDG_RUNTIME_DIR when set, else /dev/shm
 * when it is a tmpfs (as $XDG_RUNTIME_DIR is on a systemd machine), else /tmp. */
const char *bench_runtime_base(void);
/* Write text to dir/name; exits the program if it cannot. */
void bench_put(const char *dir, const char *name, const char *text);
