/* SPDX-License-Identifier: MIT */
#include <criterion/criterion.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>

#include "base/base.h"
#include "testutil.h"

static char *dir;

static void setup(void) {
        dir = tu_tmpdir();
}

static void teardown(void) {
        tu_rm_rf(dir);
        free(dir);
}

TestSuite(fileio, .init = setup, .fini = teardown);

Test(fileio, reads_whole_file_nul_terminated) {
        _cleanup_free_ char *path = tu_path(dir, "f"), *text = NULL;
        pod_error err = { 0 };
        size_t len;

        tu_write(dir, "f", "hello");
        cr_assert_eq(file_read_bounded(&text, &len, AT_FDCWD, path, 5, &err), 0, "%s", err.msg);
        cr_assert_eq(len, 5);
        cr_assert_str_eq(text, "hello");
}

Test(fileio, refuses_one_byte_over_the_limit) {
        _cleanup_free_ char *path = tu_path(dir, "f"), *text = NULL;
        pod_error err = { 0 };

        tu_write(dir, "f", "hello!");
        cr_assert_eq(file_read_bounded(&text, NULL, AT_FDCWD, path, 5, &err), -EFBIG);
        cr_assert(strstr(err.msg, path), "the message names the file: %s", err.msg);
        cr_assert_null(text, "no output on failure");
}

Test(fileio, refuses_directories_fifos_and_loops) {
        _cleanup_free_ char *d = tu_path(dir, "d"), *fifo = tu_path(dir, "p"),
                            *loop = tu_path(dir, "l"), *text = NULL;
        pod_error err = { 0 };

        tu_mkdirs(dir, "d");
        cr_assert_eq(mkfifo(fifo, 0600), 0);
        cr_assert_eq(symlink("l", loop), 0);
        cr_assert_eq(file_read_bounded(&text, NULL, AT_FDCWD, d, 100, &err), -EISDIR);
        cr_assert_eq(file_read_bounded(&text, NULL, AT_FDCWD, fifo, 100, &err), -EINVAL,
                     "a fifo must not block the reader");
        cr_assert_eq(file_read_bounded(&text, NULL, AT_FDCWD, loop, 100, &err), -ELOOP);
        cr_assert(strstr(err.msg, "symlink loop"));
}

Test(fileio, missing_file_names_path) {
        _cleanup_free_ char *path = tu_path(dir, "none"), *text = NULL;
        pod_error err = { 0 };

        cr_assert_eq(file_read_bounded(&text, NULL, AT_FDCWD, path, 10, &err), -ENOENT);
        cr_assert(strstr(err.msg, "none"));
}

Test(fileio, mkdir_p_creates_every_missing_level) {
        _cleanup_free_ char *deep = tu_path(dir, "a/b/c");
        struct stat st;

        cr_assert_eq(mkdir_p(deep, 0700), 0);
        cr_assert_eq(stat(deep, &st), 0);
        cr_assert(S_ISDIR(st.st_mode));
        cr_assert_eq(st.st_mode & 0777, 0700);
        cr_assert_eq(mkdir_p(deep, 0700), 0, "existing levels are fine");
        cr_assert_eq(mkdir_p("relative", 0700), -EINVAL);
}
