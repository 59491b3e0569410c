/* SPDX-License-Identifier: MIT */
#include <criterion/criterion.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include "base/base.h"

static bool is_open(int fd) {
        return fcntl(fd, F_GETFD) >= 0;
}

Test(fd, safe_close_closes_keeps_errno_and_returns_ebadf) {
        int fd = open("/dev/null", O_RDONLY | O_CLOEXEC);

        cr_assert_geq(fd, 0);
        errno = ENOENT;
        fd = safe_close(fd);
        cr_assert_eq(fd, -EBADF);
        cr_assert_eq(errno, ENOENT, "errno is kept");
        cr_assert_eq(safe_close(fd), -EBADF, "\"no fd\" is a no-op");
}

/* A double close is a programmer error: caught in a debug build, harmless in a release one. */
#ifdef NDEBUG
Test(fd, a_double_close_is_harmless_in_a_release_build) {
        int fd = open("/dev/null", O_RDONLY | O_CLOEXEC);

        close(fd);
        cr_assert_eq(safe_close(fd), -EBADF);
}
#else
Test(fd, a_double_close_asserts_in_a_debug_build, .signal = SIGABRT) {
        int fd = open("/dev/null", O_RDONLY | O_CLOEXEC);

        close(fd);
        safe_close(fd);
}
#endif

Test(fd, safe_close_pair_closes_both_ends) {
        int p[2];

        cr_assert_eq(pipe2(p, O_CLOEXEC), 0);
        safe_close_pair(p);
        cr_assert_eq(p[0], -EBADF);
        cr_assert_eq(p[1], -EBADF);
        safe_close_pair(p); /* and again: nothing to close */
}

/* In a child: open descriptors 10..19 (dup2), close from 12 up except 19, 15, 14 and -1.
 * The child exits 0 when exactly 10, 11, 14, 15 and 19 remain open among 10..40. */
static int close_all_in_child(void) {
        int keep[] = { 19, -EBADF, 15, 14, 3 }; /* 3 is below `from`: ignored, stays */
        int fd = open("/dev/null", O_RDONLY | O_CLOEXEC);

        for (int i = 10; i < 20; i++)
                if (dup2(fd, i) < 0)
                        return 2;
        if (dup2(fd, 30) < 0 || close_all_fds(12, keep, POD_ARRAY_SIZE(keep)) < 0)
                return 3;
        for (int i = 10; i <= 40; i++) {
                bool want = i == 10 || i == 11 || i == 14 || i == 15 || i == 19;
                if (is_open(i) != want)
                        return i;
        }
        return 0;
}

Test(fd, close_all_fds_keeps_only_the_exceptions) {
        int status;
        pid_t pid = fork();

        cr_assert_geq(pid, 0);
        if (pid == 0)
                _exit(close_all_in_child());
        cr_assert_eq(waitpid(pid, &status, 0), pid);
        cr_assert(WIFEXITED(status));
        cr_assert_eq(WEXITSTATUS(status), 0, "descriptor %d is wrong (< 10: a step failed)",
                     WEXITSTATUS(status));
}

Test(fd, close_all_fds_without_exceptions_closes_everything_above) {
        int status;
        pid_t pid = fork();

        cr_assert_geq(pid, 0);
        if (pid == 0) {
                int fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
                if (dup2(fd, 50) < 0 || close_all_fds(3, NULL, 0) < 0)
                        _exit(2);
                _exit(is_open(50) || is_open(fd) ? 1 : !is_open(2));
        }
        cr_assert_eq(waitpid(pid, &status, 0), pid);
        cr_assert(WIFEXITED(status));
        cr_assert_eq(WEXITSTATUS(status), 0);
}
