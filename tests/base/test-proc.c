/* SPDX-License-Identifier: MIT */
/*
 * The audited start (proc.c): descriptors handed over land where the plan says, whatever
 * numbers they had in the parent, including numbers the handoff itself overwrites.
 */
#include <criterion/criterion.h>
#include <fcntl.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "base/base.h"

/* sh -c command with fds[] as its 0..n-1; true when it exits 0. */
static bool run(const char *command, const int *fds, size_t n) {
        char *argv[] = { "sh", "-c", (char *) command, NULL };
        char *envp[] = { "PATH=/usr/bin:/bin", NULL };
        proc_plan p = { .path = "/bin/sh", .argv = argv, .envp = envp, .n_fds = n };
        pod_error err = { 0 };
        pid_t pid;
        int st = 0;

        memcpy(p.fds, fds, n * sizeof(int));
        cr_assert_eq(proc_spawn(&pid, &p, &err), 0, "%s", err.msg);
        cr_assert_eq(waitpid(pid, &st, 0), pid);
        return WIFEXITED(st) && WEXITSTATUS(st) == 0;
}

static void heard(int fd, const char *want) {
        char buf[64] = { 0 };

        cr_assert_gt(read(fd, buf, sizeof(buf) - 1), 0);
        cr_assert_str_eq(buf, want);
}

#define SAY "echo one; echo two >&2; echo three >&3"

Test(proc, descriptors_above_the_targets_are_handed_over_at_once) {
        int a[2], b[2], c[2], nul = open("/dev/null", O_RDWR | O_CLOEXEC);
        int fds[4];

        cr_assert(pipe2(a, O_CLOEXEC) == 0 && pipe2(b, O_CLOEXEC) == 0 && pipe2(c, O_CLOEXEC) == 0);
        fds[0] = fcntl(nul, F_DUPFD_CLOEXEC, 20);
        fds[1] = fcntl(a[1], F_DUPFD_CLOEXEC, 20);
        fds[2] = fcntl(b[1], F_DUPFD_CLOEXEC, 20);
        fds[3] = fcntl(c[1], F_DUPFD_CLOEXEC, 20);
        cr_assert(run(SAY, fds, 4));
        heard(a[0], "one\n");
        heard(b[0], "two\n");
        heard(c[0], "three\n");
}

/* Standard output and error swapped, and a source that is one of the targets: each move
 * must not clobber a descriptor still to be moved. */
Test(proc, descriptors_among_the_targets_are_not_clobbered) {
        int a[2], b[2], c[2], nul = open("/dev/null", O_RDWR | O_CLOEXEC);
        int out = dup(1), err = dup(2), fds[4];
        bool ok;

        cr_assert(pipe2(a, O_CLOEXEC) == 0 && pipe2(b, O_CLOEXEC) == 0 && pipe2(c, O_CLOEXEC) == 0);
        dup3(a[1], 2, O_CLOEXEC); /* the child's 1 comes from our 2 */
        dup3(b[1], 1, O_CLOEXEC); /* its 2 from our 1 */
        fds[0] = nul;
        fds[1] = 2;
        fds[2] = 1;
        fds[3] = c[1];
        ok = run(SAY, fds, 4);
        dup2(out, 1);
        dup2(err, 2);
        cr_assert(ok);
        heard(a[0], "one\n");
        heard(b[0], "two\n");
        heard(c[0], "three\n");
}

/* The child reads its own start time before exec: the one the kernel shows after it. */
Test(proc, the_child_reports_its_start_time) {
        char *argv[] = { "sh", "-c", "read x", NULL };
        char *envp[] = { NULL };
        int in[2], nul = open("/dev/null", O_RDWR | O_CLOEXEC);
        unsigned long long st = 0, seen = 0;
        proc_plan p = {
                .path = "/bin/sh", .argv = argv, .envp = envp, .n_fds = 3, .start_time = &st
        };
        pod_error err = { 0 };
        pid_t pid;

        cr_assert_eq(pipe2(in, O_CLOEXEC), 0);
        p.fds[0] = in[0];
        p.fds[1] = nul;
        p.fds[2] = nul;
        cr_assert_eq(proc_spawn(&pid, &p, &err), 0, "%s", err.msg);
        cr_assert_eq(proc_start_time(pid, &seen), 0);
        cr_assert_neq(st, 0);
        cr_assert_eq(st, seen, "%llu vs %llu", st, seen);
        close(in[1]);
        waitpid(pid, NULL, 0);
}

Test(proc, start_time_is_field_22_whatever_the_name) {
        const char *stat = "42 (a) b (c) d) S 1 42 42 0 -1 4194560 100 0 0 0 0 0 0 0 20 0 1 0 "
                           "987654 1000 100";
        unsigned long long v = 0;

        cr_assert_eq(proc_stat_start_time(stat, &v), 0);
        cr_assert_eq(v, 987654);
        cr_assert_eq(proc_stat_start_time("1 (x) S 1", &v), -EIO, "too few fields");
        cr_assert_eq(proc_stat_start_time("no parenthesis", &v), -EIO);
}

/* The hook sees its own descriptor (30) and no other the parent left open (40). */
static int check_fds(void *ud) {
        (void) ud;
        return fcntl(30, F_GETFD) >= 0 && fcntl(40, F_GETFD) < 0 ? 0 : EBADF;
}

Test(proc, every_other_descriptor_is_closed_and_the_confinements_stays_for_its_hook) {
        char *argv[] = { "sh", "-c", "[ ! -e /proc/self/fd/30 ] && [ ! -e /proc/self/fd/40 ]",
                         NULL };
        char *envp[] = { "PATH=/usr/bin:/bin", NULL };
        int nul = open("/dev/null", O_RDWR | O_CLOEXEC);
        proc_plan p = { .path = "/bin/sh",
                        .argv = argv,
                        .envp = envp,
                        .n_fds = 3,
                        .fds = { nul, nul, nul },
                        .confine = check_fds,
                        .confine_fd = 30 };
        pod_error err = { 0 };
        pid_t pid;
        int st = 0;

        cr_assert_eq(dup3(nul, 30, O_CLOEXEC), 30);
        cr_assert_eq(dup2(nul, 40), 40); /* not close-on-exec: left open by mistake */
        cr_assert_eq(proc_spawn(&pid, &p, &err), 0, "%s", err.msg);
        cr_assert_eq(waitpid(pid, &st, 0), pid);
        cr_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0, "a descriptor reached the command");
        close(30);
        close(40);
        close(nul);
}
