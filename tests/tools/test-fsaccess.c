/* SPDX-License-Identifier: MIT */
#include "tools-fixture.h"

#include <fcntl.h>

TestSuite(fsaccess, .init = pod_fixture_setup, .fini = pod_fixture_teardown);

static pod_fs fs_for(const char *allow_rel, pod_access a) {
        pod_scope s = { 0 };
        pod_fs fs;
        char *p = tu_path(root, allow_rel);

        scope_add(&s, false, p, a, true, NULL);
        cr_assert_eq(fs_init(&fs, &s, proj, "p1", NULL), 0);
        scope_done(&s);
        free(p);
        return fs;
}

Test(fsaccess, lexical_paths_are_absolute_and_normal) {
        pod_fs fs = fs_for("proj", POD_ACCESS_READ);
        char *out = NULL, *want = tu_path(root, "proj/b");

        cr_assert_eq(fs_lexical(&out, &fs, "a/../b/./", NULL), 0);
        cr_assert_str_eq(out, want);
        free(out);
        cr_assert_eq(fs_lexical(&out, &fs, "/../../x", NULL), 0);
        cr_assert_str_eq(out, "/x");
        free(out);
        cr_assert_lt(fs_lexical(&out, &fs, "", NULL), 0);
        free(want);
        fs_done(&fs);
}

Test(fsaccess, open_read_returns_the_real_path) {
        pod_fs fs = fs_for("proj", POD_ACCESS_READ);
        char *real = NULL, *want = tu_path(root, "proj/src/main.c");
        int fd = -1;

        cr_assert_eq(fs_open_read(&fd, &real, &fs, "src/../src/main.c", O_RDONLY, NULL), 0);
        cr_assert_str_eq(real, want);
        close(fd);
        free(real);
        free(want);
        fs_done(&fs);
}

Test(fsaccess, open_write_does_not_truncate_before_checking) {
        pod_fs fs = fs_for("proj", POD_ACCESS_READ);
        pod_error err = { 0 };
        char *text;
        int fd = -1;

        cr_assert_lt(fs_open_write(&fd, NULL, &fs, "README.md", false, &err), 0);
        cr_assert(strstr(err.msg, "read only"), "%s", err.msg);
        text = tu_read_at(proj, "README.md");
        cr_assert_str_eq(text, "hello\nworld\n");
        free(text);
        fs_done(&fs);
}
