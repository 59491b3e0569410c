/* SPDX-License-Identifier: MIT */
#include "tools-fixture.h"

#include <sys/stat.h>

TestSuite(tool_files, .init = pod_fixture_setup, .fini = pod_fixture_teardown);

static void expect_read_refused(pod_tools *t, const char *path, const char *want) {
        char *input = in1("{\"file_path\": \"%s\"}", path);
        char *out = call(t, "Read", input, true);

        cr_assert(strstr(out, want), "Read %s: wanted '%s' in: %s", path, want, out);
        free(out);
        free(input);
}

Test(tool_files, read_numbers_lines) {
        pod_tools *t = tools_for("w:proj", NULL);
        char *out = call(t, "Read", "{\"file_path\": \"src/main.c\"}", false);

        cr_assert_str_eq(out, "     1\tint main(void) {\n     2\t        return 0;\n     3\t}\n");
        free(out);
        out = call(t, "Read", "{\"file_path\": \"src/main.c\", \"offset\": 2, \"limit\": 1}",
                   false);
        cr_assert(
                str_startswith(
                        out, "     2\t        return 0;\n[lines 2-2 of 3; read on with offset 3]"),
                "%s", out);
        free(out);
        tools_free(t);
}

Test(tool_files, read_refuses_everything_outside_the_scope) {
        pod_tools *t = tools_for("w:proj/src", NULL);
        char *link_file = tu_path(root, "proj/src/evil"), *link_dir = tu_path(root, "proj/src/up");
        char *abs = tu_path(root, "outside/passwd");

        cr_assert_eq(symlink("../../outside/passwd", link_file), 0);
        cr_assert_eq(symlink("../../outside", link_dir), 0);
        expect_read_refused(t, abs, "out of scope for pod 'tester'");
        expect_read_refused(t, "../README.md", "out of scope");
        expect_read_refused(t, "src/../../outside/passwd", "out of scope");
        expect_read_refused(t, "src/evil", "out of scope");
        expect_read_refused(t, "src/up/passwd", "out of scope");
        expect_read_refused(t, "/proc/self/root/etc/hostname", "out of scope");
        free(link_file);
        free(link_dir);
        free(abs);
        tools_free(t);
}

Test(tool_files, a_symlink_into_a_denied_path_is_refused) {
        pod_tools *t = tools_for("w:proj -r:proj/secret", NULL);
        char *link = tu_path(root, "proj/src/key");

        cr_assert_eq(symlink("../secret/key", link), 0);
        expect_read_refused(t, "secret/key", "out of scope");
        expect_read_refused(t, "src/key", "it resolves to");
        free(link);
        tools_free(t);
}

Test(tool_files, read_reports_missing_directories_and_binaries) {
        pod_tools *t = tools_for("w:proj", NULL);

        tu_write_n(proj, "bin.dat", "a\0b", 3);
        expect_read_refused(t, "nope.c", "does not exist");
        expect_read_refused(t, "src", "is a directory");
        expect_read_refused(t, "bin.dat", "binary");
        tools_free(t);
}

Test(tool_files, write_creates_files_and_directories) {
        pod_tools *t = tools_for("w:proj", NULL);
        char *out = call(t, "Write", "{\"file_path\": \"new/deep/a.txt\", \"content\": \"hi\\n\"}",
                         false);
        char *text = tu_read_at(proj, "new/deep/a.txt");

        cr_assert(strstr(out, "wrote 3 bytes"), "%s", out);
        cr_assert_str_eq(text, "hi\n");
        free(out);
        free(text);
        out = call(t, "Write", "{\"file_path\": \"README.md\", \"content\": \"x\"}", false);
        free(out);
        text = tu_read_at(proj, "README.md");
        cr_assert_str_eq(text, "x", "overwritten, not appended");
        free(text);
        tools_free(t);
}

static void expect_write_refused(pod_tools *t, const char *path, const char *want) {
        char *input = in1("{\"file_path\": \"%s\", \"content\": \"pwned\"}", path);
        char *out = call(t, "Write", input, true);

        cr_assert(strstr(out, want), "Write %s: wanted '%s' in: %s", path, want, out);
        free(out);
        free(input);
}

Test(tool_files, write_refuses_read_only_and_outside) {
        pod_tools *t = tools_for("r:proj w:proj/src -w:proj/src/ro", NULL);
        char *abs = tu_path(root, "outside/passwd"), *text;

        tu_write(proj, "src/ro/x", "keep");
        expect_write_refused(t, "README.md", "read only for pod 'tester'");
        expect_write_refused(t, "src/ro/x", "read only");
        expect_write_refused(t, abs, "out of scope");
        expect_write_refused(t, "src/../../outside/passwd", "out of scope");
        text = tu_read(abs);
        cr_assert_str_eq(text, "root:x:0:0\n", "the target is untouched");
        free(text);
        free(abs);
        tools_free(t);
}

Test(tool_files, write_never_follows_symlinks_or_hard_links_out) {
        pod_tools *t = tools_for("w:proj", NULL);
        char *passwd = tu_path(root, "outside/passwd"), *text;
        char *flink = tu_path(proj, "src/flink"), *dlink = tu_path(proj, "dlink"),
             *hard = tu_path(proj, "hard");

        cr_assert_eq(symlink(passwd, flink), 0);
        cr_assert_eq(symlink(outside, dlink), 0);
        cr_assert_eq(link(passwd, hard), 0);
        expect_write_refused(t, "src/flink", "symlink");
        expect_write_refused(t, "dlink/passwd", "out of scope");
        expect_write_refused(t, "dlink/new", "out of scope");
        expect_write_refused(t, "hard", "hard links");
        text = tu_read(passwd);
        cr_assert_str_eq(text, "root:x:0:0\n", "nothing outside changed");
        free(text);
        free(passwd);
        free(flink);
        free(dlink);
        free(hard);
        tools_free(t);
}

Test(tool_files, a_file_only_grant_allows_that_file_alone) {
        pod_tools *t = tools_for("w:proj/README.md", NULL);
        char *abs = tu_path(proj, "README.md"), *sib = tu_path(proj, "other.md"), *input, *out;

        input = in1("{\"file_path\": \"%s\", \"content\": \"ok\"}", abs);
        out = call(t, "Write", input, false);
        free(out);
        free(input);
        expect_write_refused(t, sib, "out of scope");
        free(abs);
        free(sib);
        tools_free(t);
}

Test(tool_files, edit_needs_a_read_and_a_unique_match) {
        pod_tools *t = tools_for("w:proj", NULL);
        char *out, *text;

        tu_write(proj, "e.txt", "one two two\n");
        out = call(t, "Edit",
                   "{\"file_path\": \"e.txt\", \"old_string\": \"one\", \"new_string\": \"1\"}",
                   true);
        cr_assert(strstr(out, "Read"), "%s", out);
        free(out);
        free(call(t, "Read", "{\"file_path\": \"e.txt\"}", false));
        out = call(t, "Edit",
                   "{\"file_path\": \"e.txt\", \"old_string\": \"two\", \"new_string\": \"2\"}",
                   true);
        cr_assert(strstr(out, "occurs 2 times"), "%s", out);
        free(out);
        out = call(t, "Edit",
                   "{\"file_path\": \"e.txt\", \"old_string\": \"six\", \"new_string\": \"6\"}",
                   true);
        cr_assert(strstr(out, "not found"), "%s", out);
        free(out);
        out = call(t, "Edit",
                   "{\"file_path\": \"e.txt\", \"old_string\": \"one\", \"new_string\": \"one\"}",
                   true);
        free(out);
        free(call(t, "Edit",
                  "{\"file_path\": \"e.txt\", \"old_string\": \"one\", \"new_string\": \"1\"}",
                  false));
        out = call(
                t, "Edit",
                "{\"file_path\": \"e.txt\", \"old_string\": \"two\", \"new_string\": \"2\", \"replace_all\": true}",
                false);
        cr_assert(strstr(out, "replaced 2 occurrences"), "%s", out);
        free(out);
        text = tu_read_at(proj, "e.txt");
        cr_assert_str_eq(text, "1 2 2\n");
        free(text);
        tools_free(t);
}

Test(tool_files, edit_refuses_a_read_only_file) {
        pod_tools *t = tools_for("r:proj", NULL);
        char *out;

        free(call(t, "Read", "{\"file_path\": \"README.md\"}", false));
        out = call(
                t, "Edit",
                "{\"file_path\": \"README.md\", \"old_string\": \"hello\", \"new_string\": \"bye\"}",
                true);
        cr_assert(strstr(out, "read only"), "%s", out);
        free(out);
        tools_free(t);
}
