/* SPDX-License-Identifier: MIT */
#include "pod-test.h"

TestSuite(tool_search, .init = pod_fixture_setup, .fini = pod_fixture_teardown);

Test(tool_search, glob_matches_double_star_and_hides_denied_paths) {
        pod_tools *t = tools_for("w:proj -r:proj/secret", NULL);
        char *link = tu_path(proj, "out"), *out;

        tu_write(proj, "src/sub/deep.c", "x");
        cr_assert_eq(symlink(outside, link), 0);
        out = call(t, "Glob", "{\"pattern\": \"**/*.c\"}", false);
        cr_assert(strstr(out, "/proj/src/main.c\n"), "%s", out);
        cr_assert(strstr(out, "/proj/src/sub/deep.c\n"), "%s", out);
        cr_assert(strstr(out, "/proj/vendor/lib.c\n"), "%s", out);
        free(out);
        out = call(t, "Glob", "{\"pattern\": \"**\"}", false);
        cr_assert_null(strstr(out, "secret"), "a denied path is invisible: %s", out);
        cr_assert_null(strstr(out, "passwd"), "symlinked directories are not followed: %s", out);
        free(out);
        out = call(t, "Glob", "{\"pattern\": \"src/*.c\"}", false);
        cr_assert_null(strstr(out, "deep.c"), "* stays in one segment: %s", out);
        free(out);
        out = call(t, "Glob", "{\"pattern\": \"*.rs\"}", false);
        cr_assert(strstr(out, "No files match"), "%s", out);
        free(out);
        free(link);
        tools_free(t);
}

Test(tool_search, glob_path_must_be_in_scope) {
        pod_tools *t = tools_for("w:proj/src", NULL);
        char *input = in1("{\"pattern\": \"*\", \"path\": \"%s\"}", outside), *out;

        out = call(t, "Glob", input, true);
        cr_assert(strstr(out, "out of scope"), "%s", out);
        free(out);
        free(input);
        out = call(t, "Glob", "{\"pattern\": \"/etc/*\"}", true);
        free(out);
        tools_free(t);
}

Test(tool_search, grep_finds_lines_with_glob_filter) {
        pod_tools *t = tools_for("w:proj -r:proj/secret", NULL);
        char *out;

        tu_write(proj, "notes.txt", "return of the king\n");
        tu_write_n(proj, "blob.bin", "return\0", 7);
        out = call(t, "Grep", "{\"pattern\": \"return [0-9]\"}", false);
        cr_assert(strstr(out, "/proj/src/main.c:2:        return 0;"), "%s", out);
        cr_assert_null(strstr(out, "notes.txt"), "%s", out);
        free(out);
        out = call(t, "Grep", "{\"pattern\": \"return\", \"glob\": \"*.txt\"}", false);
        cr_assert(strstr(out, "notes.txt:1:"), "%s", out);
        cr_assert_null(strstr(out, "main.c"), "%s", out);
        cr_assert_null(strstr(out, "blob.bin"), "binary files are skipped: %s", out);
        free(out);
        out = call(t, "Grep", "{\"pattern\": \"private\"}", false);
        cr_assert(strstr(out, "No matches"), "a denied file is not searched: %s", out);
        free(out);
        out = call(t, "Grep", "{\"pattern\": \"hello\", \"path\": \"README.md\"}", false);
        cr_assert(strstr(out, "README.md:1:hello"), "%s", out);
        free(out);
        tools_free(t);
}

Test(tool_search, grep_refuses_bad_patterns) {
        pod_tools *t = tools_for("w:proj", NULL);
        char *out = call(t, "Grep", "{\"pattern\": \"(unclosed\"}", true);

        cr_assert(strstr(out, "bad pattern"), "%s", out);
        free(out);
        out = call(t, "Grep", "{\"pattern\": \"(a)\\\\1\"}", true);
        cr_assert(strstr(out, "backreferences"), "%s", out);
        free(out);
        tools_free(t);
}
