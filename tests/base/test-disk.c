/* SPDX-License-Identifier: MIT */
#include <criterion/criterion.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

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

TestSuite(disk, .init = setup, .fini = teardown);

static void write_zeros(const char *rel, size_t n) {
        char *zeros = calloc(1, n);

        tu_write_n(root, rel, zeros, n);
        free(zeros);
}

/* dir/x/x/.../x, depth levels below dir, made with relative mkdirs (no long paths). */
static void deep_chain(const char *dir, unsigned depth) {
        int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC), next;

        cr_assert_geq(fd, 0);
        for (unsigned i = 0; i < depth; i++) {
                cr_assert_eq(mkdirat(fd, "x", 0700), 0);
                next = openat(fd, "x", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
                close(fd);
                cr_assert_geq(next, 0);
                fd = next;
        }
        next = openat(fd, "f", O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
        cr_assert_eq(write(next, "x", 1), 1);
        close(next);
        close(fd);
}

Test(disk, measures_what_a_tree_holds_without_following_symlinks) {
        char *t = tu_path(root, "t"), *big = tu_path(root, "outside/big");
        char *link = tu_path(root, "t/link");
        uint64_t held = 0;

        write_zeros("t/a", 200000);
        write_zeros("t/sub/b", 100000);
        write_zeros("outside/big", 1000000);
        cr_assert_eq(symlink(big, link), 0);
        cr_assert_eq(dir_disk_usage(&held, AT_FDCWD, t, 1000), 0);
        cr_assert_geq(held, 300000, "both files count: %llu", (unsigned long long) held);
        cr_assert_lt(held, 600000, "the symlink's target does not: %llu",
                     (unsigned long long) held);
        cr_assert_eq(dir_disk_usage(&held, AT_FDCWD, t, 2), -E2BIG, "past max_entries");
        free(t);
        free(big);
        free(link);
}

Test(disk, refuses_to_measure_a_tree_too_deep) {
        char *t = tu_path(root, "t");
        uint64_t held = 0;

        tu_mkdirs(root, "t");
        deep_chain(t, 100);
        cr_assert_eq(dir_disk_usage(&held, AT_FDCWD, t, 100000), -ELOOP);
        free(t);
}

/* Empties a hostile tree: deeper than it walks at once, directories made unreadable and
 * unwritable, a symlink out (whose target survives); the directory itself stays. */
Test(disk, empties_a_hostile_tree_and_keeps_the_directory) {
        char *t = tu_path(root, "t"), *sub = tu_path(root, "t/locked"), *kept = NULL;
        char *outside = tu_path(root, "outside"), *out = tu_path(root, "t/out");
        char *inner = tu_path(root, "t/locked/inner");
        uint64_t held = 1;

        write_zeros("t/locked/inner/a", 1000);
        write_zeros("outside/keep", 10);
        deep_chain(t, 200);
        cr_assert_eq(symlink(outside, out), 0);
        cr_assert_eq(chmod(inner, 0), 0);
        cr_assert_eq(chmod(sub, 0500), 0);
        cr_assert_eq(dir_empty(AT_FDCWD, t), 0);
        cr_assert_eq(dir_disk_usage(&held, AT_FDCWD, t, 10), 0);
        cr_assert_eq(held, 0, "nothing is left");
        kept = tu_read_at(root, "outside/keep");
        cr_assert_not_null(kept, "the symlink's target is untouched");
        free(kept);
        free(t);
        free(sub);
        free(outside);
        free(out);
        free(inner);
}
