/* SPDX-License-Identifier: MIT */
/*
 * The audited start's failure paths (proc.c): a step that fails in the child comes back as
 * an error naming the program and the step, and leaves nothing behind: no process (not
 * even a zombie), no descriptor, no pid written. (ASan checks for leaks.)
 */
#include <criterion/criterion.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "base/base.h"
#include "testutil.h"

static char *root;

static void setup(void) {
        root = tu_tmpdir_real();
}

static void teardown(void) {
        tu_rm_rf(root);
        free(root);
}

TestSuite(proc_failures, .init = setup, .fini = teardown);

static size_t open_fds(void) {
        DIR *d = opendir("/proc/self/fd");
        size_t n = 0;

        cr_assert_not_null(d);
        while (readdir(d))
                n++;
        closedir(d);
        return n;
}

/* proc_spawn must fail with code and a message containing want, leaving nothing. */
static void expect_failure(proc_plan *p, int code, const char *want) {
        pod_error err = { 0 };
        size_t fds = open_fds();
        pid_t pid = -7;

        cr_assert_eq(proc_spawn(&pid, p, &err), code, "%s", err.msg);
        cr_assert_str_eq(err.msg, want);
        cr_assert_eq(pid, -7, "no pid is written on failure");
        cr_assert_eq(open_fds(), fds, "no descriptor is left open");
        cr_assert_eq(waitpid(-1, NULL, WNOHANG), -1, "no process is left, not even a zombie");
        cr_assert_eq(errno, ECHILD);
}

static char *sh_argv[] = { "sh", "-c", "touch ran", NULL };
static char *no_env[] = { NULL };

Test(proc_failures, a_missing_program) {
        char *argv[] = { "pod", NULL };
        proc_plan p = { .path = "/nonexistent/pod", .argv = argv, .envp = no_env };

        expect_failure(&p, -ENOENT,
                       "cannot start /nonexistent/pod: exec: No such file or directory");
}

Test(proc_failures, a_file_that_is_not_executable) {
        char *path = tu_path(root, "not-exec"), *want = NULL;
        proc_plan p = { .path = path, .argv = sh_argv, .envp = no_env };

        tu_write(root, "not-exec", "#!/bin/sh\ntouch ran\n");
        cr_assert_eq(chmod(path, 0644), 0);
        cr_assert_geq(asprintf(&want, "cannot start %s: exec: Permission denied", path), 0);
        if (geteuid() == 0 && access(path, X_OK) == 0)
                cr_skip_test("root may execute any file here");
        expect_failure(&p, -EACCES, want);
        free(want);
        free(path);
}

Test(proc_failures, a_working_directory_that_does_not_exist) {
        char *cwd = tu_path(root, "gone");
        proc_plan p = { .path = "/bin/sh", .argv = sh_argv, .envp = no_env, .cwd = cwd };

        expect_failure(&p, -ENOENT, "cannot start /bin/sh: chdir: No such file or directory");
        free(cwd);
}

Test(proc_failures, a_descriptor_to_hand_over_that_is_not_open) {
        proc_plan p = {
                .path = "/bin/sh", .argv = sh_argv, .envp = no_env, .n_fds = 1, .fds = { 900 }
        };

        expect_failure(&p, -EBADF, "cannot start /bin/sh: descriptors: Bad file descriptor");
}

Test(proc_failures, too_many_descriptors) {
        proc_plan p = {
                .path = "/bin/sh", .argv = sh_argv, .envp = no_env, .n_fds = PROC_FDS_MAX + 1
        };

        expect_failure(&p, -EINVAL, "too many descriptors to hand over");
}

typedef struct hook_state {
        int calls;
        int fail_with;
} hook_state;

/* Runs in the child on the parent's memory (CLONE_VM): what it records, the parent sees. */
static int hook(void *ud) {
        hook_state *h = ud;

        h->calls++;
        return h->fail_with;
}

Test(proc_failures, a_confinement_that_fails_stops_the_start_before_exec) {
        hook_state h = { .fail_with = EPERM };
        char *cwd = strdup(root), *ran = tu_path(root, "ran");
        proc_plan p = { .path = "/bin/sh",
                        .argv = sh_argv,
                        .envp = no_env,
                        .cwd = cwd,
                        .confine = hook,
                        .confine_ud = &h };

        expect_failure(&p, -EPERM, "cannot start /bin/sh: confinement: Operation not permitted");
        cr_assert_eq(h.calls, 1, "the hook ran once, in the child");
        cr_assert_neq(access(ran, F_OK), 0, "the program did not run");
        /* The control: the same plan with a hook that succeeds runs the program. */
        {
                pod_error err = { 0 };
                pid_t pid;
                int st = 0;
                h.fail_with = 0;
                cr_assert_eq(proc_spawn(&pid, &p, &err), 0, "%s", err.msg);
                cr_assert_eq(waitpid(pid, &st, 0), pid);
                cr_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0);
                cr_assert_eq(h.calls, 2);
                cr_assert_eq(access(ran, F_OK), 0, "the program ran");
        }
        free(cwd);
        free(ran);
}

/* The hook's descriptor (>= PROC_FDS_MAX) stays open for it while every other one closes. */
static int hook_needs_fd(void *ud) {
        int fd = *(int *) ud;

        return fcntl(fd, F_GETFD) < 0 ? errno : 0;
}

Test(proc_failures, the_confinement_descriptor_is_spared_and_others_are_not) {
        int fd = open("/dev/null", O_RDONLY | O_CLOEXEC), high = fcntl(fd, F_DUPFD_CLOEXEC, 40);
        int other = fcntl(fd, F_DUPFD_CLOEXEC, 50);
        proc_plan p = { .path = "/bin/true",
                        .argv = (char *[]){ "true", NULL },
                        .envp = no_env,
                        .confine = hook_needs_fd,
                        .confine_ud = &high,
                        .confine_fd = high };
        pod_error err = { 0 };
        pid_t pid;
        int st = 0;

        cr_assert_eq(proc_spawn(&pid, &p, &err), 0, "%s", err.msg);
        cr_assert_eq(waitpid(pid, &st, 0), pid);
        /* Without confine_fd, the hook finds its descriptor closed. */
        p.confine_fd = 0;
        expect_failure(&p, -EBADF, "cannot start /bin/true: confinement: Bad file descriptor");
        p.confine_ud = &other;
        p.confine_fd = high;
        expect_failure(&p, -EBADF, "cannot start /bin/true: confinement: Bad file descriptor");
        close(fd);
        close(high);
        close(other);
}
