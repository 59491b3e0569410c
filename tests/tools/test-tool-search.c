/* SPDX-License-Identifier: MIT */
#include "tools-fixture.h"

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

Test(tool_search, grep_refuses_bad_patterns_naming_pattern_and_offset) {
        pod_tools *t = tools_for("w:proj", NULL);
        char *out = call(t, "Grep", "{\"pattern\": \"(unclosed\"}", true);

        cr_assert(strstr(out,
                         "Grep: bad pattern '(unclosed' at offset 9: missing closing "
                         "parenthesis"),
                  "%s", out);
        cr_assert_null(strchr(out, '\n'), "one line: %s", out);
        free(out);
        out = call(t, "Grep", "{\"pattern\": \"a[b\"}", true);
        cr_assert(strstr(out, "bad pattern 'a[b' at offset 3"), "%s", out);
        free(out);
        tools_free(t);
}

/* A file of n lines, each `line` (without its newline). */
static void write_lines(const char *rel, const char *line, size_t n) {
        size_t len = strlen(line);
        char *text = malloc((len + 1) * n);

        for (size_t i = 0; i < n; i++) {
                memcpy(text + i * (len + 1), line, len);
                text[i * (len + 1) + len] = '\n';
        }
        tu_write_n(proj, rel, text, (len + 1) * n);
        free(text);
}

/* One line of n bytes: unit repeated. */
static void write_long_line(const char *rel, const char *unit, size_t n) {
        size_t len = strlen(unit);
        char *text = malloc(n + 1);

        for (size_t i = 0; i < n; i++)
                text[i] = unit[i % len];
        text[n] = '\n';
        tu_write_n(proj, rel, text, n + 1);
        free(text);
}

Test(tool_search, grep_speaks_pcre2_with_backreferences_and_utf8) {
        pod_tools *t = tools_for("w:proj", NULL);
        char *out;

        tu_write(proj, "words.txt", "bookkeeper\ncafé\n\xff\xfe not utf-8, 42\n");
        out = call(t, "Grep", "{\"pattern\": \"(\\\\w)\\\\1(\\\\w)\\\\2\", \"glob\": \"*.txt\"}",
                   false);
        cr_assert(strstr(out, "words.txt:1:bookkeeper"), "a backreference: %s", out);
        free(out);
        out = call(t, "Grep", "{\"pattern\": \"(?i)CAFÉ$\", \"glob\": \"*.txt\"}", false);
        cr_assert(strstr(out, "words.txt:2:café"), "caseless UTF-8: %s", out);
        free(out);
        out = call(t, "Grep", "{\"pattern\": \"\\\\d{2}\", \"glob\": \"*.txt\"}", false);
        cr_assert(strstr(out, "words.txt:3:\xef\xbf\xbd\xef\xbf\xbd not utf-8, 42\n"),
                  "a line that is not UTF-8 is searched, and shown as UTF-8: %s", out);
        free(out);
        tools_free(t);
}

/* The red team's pattern over a 1 MB line: the catastrophic backtracking is cut short and
 * the line named; the rest of the search goes on. */
Test(tool_search, grep_catastrophic_pattern_over_a_1mb_line_is_skipped_with_a_notice) {
        pod_tools *t = tools_for("w:proj", NULL);
        char *out;

        write_long_line("long.txt", "x", 1024 * 1024);
        tu_write(proj, "short.txt", "xxy\n");
        out = call(t, "Grep", "{\"pattern\": \"(x+x+)+y\"}", false);
        cr_assert(strstr(out, "short.txt:1:xxy"), "%s", out);
        free(out);
        out = call(t, "Grep", "{\"pattern\": \"(x+x+)+[yz]\"}", false);
        cr_assert(strstr(out, "short.txt:1:xxy"), "the other files are searched: %s", out);
        cr_assert(strstr(out, "[pattern too costly on "), "%s", out);
        cr_assert(strstr(out, "/proj/long.txt:1 (match limit exceeded), skipped]"), "%s", out);
        cr_assert_null(strstr(out, "stopped at the deadline"), "%s", out);
        free(out);
        tools_free(t);
}

Test(tool_search, grep_names_ten_costly_lines_and_counts_the_rest) {
        pod_tools *t = tools_for("w:proj", NULL);
        char *out;

        write_lines("costly.txt", "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx", 13);
        out = call(t, "Grep", "{\"pattern\": \"(x+x+)+[yz]\", \"path\": \"costly.txt\"}", false);
        cr_assert(strstr(out, "No matches"), "%s", out);
        cr_assert(strstr(out, "costly.txt:10 (match limit exceeded), skipped]"), "%s", out);
        cr_assert_null(strstr(out, "costly.txt:11 "), "%s", out);
        cr_assert(strstr(out, "[and 3 more lines skipped as too costly]"), "%s", out);
        free(out);
        tools_free(t);
}

/*
 * Each start position of this line costs less than the match limit, but all of them
 * together would take hours: only the deadline, read by the callout inside the match,
 * stops it. POD_TOOL_DEADLINE_MS lowers it so that the test need not wait 30 s.
 */
Test(tool_search, grep_stops_inside_a_match_at_the_deadline) {
        pod_tools *t;
        char *out;

        cr_assert_eq(setenv("POD_TOOL_DEADLINE_MS", "300", 1), 0);
        t = tools_for("w:proj", NULL);
        write_long_line("a-hostile.txt", "xxxxxxxxxxxxxxx-", 1024 * 1024);
        out = call(t, "Grep", "{\"pattern\": \"(x+x+)+[yz]\"}", false);
        cr_assert(strstr(out, "No matches"), "%s", out);
        cr_assert(strstr(out, "[stopped at the deadline (0.3 s) in "), "%s", out);
        /* README.md sorts before it ("R" < "a"): it was searched */
        cr_assert(strstr(out,
                         "/proj/a-hostile.txt at line 1; files searched before it: 1; "
                         "what follows it, in name order, was not searched]"),
                  "%s", out);
        free(out);
        tools_free(t);
}

Test(tool_search, the_deadline_is_capped_by_the_task_and_checked_in_the_walk) {
        pod_tools *t = tools_for("w:proj", NULL);
        char *out;

        for (int i = 0; i < 50; i++) {
                char rel[64];
                snprintf(rel, sizeof(rel), "tree/d%02d/f.c", i);
                tu_write(proj, rel, "needle\n");
        }
        tools_set_deadline(t, mono_ms()); /* the pod's timeout_s is up */
        out = call(t, "Grep", "{\"pattern\": \"needle\", \"path\": \"tree\"}", false);
        cr_assert(strstr(out, "No matches"), "%s", out);
        cr_assert(strstr(out, "/proj/tree/d00; files searched before it: 0;"), "%s", out);
        free(out);
        out = call(t, "Glob", "{\"pattern\": \"**/*.c\", \"path\": \"tree\"}", false);
        cr_assert(strstr(out, "No files match"), "%s", out);
        cr_assert(strstr(out, "[stopped at the deadline (0.0 s) in "), "%s", out);
        free(out);
        tools_set_deadline(t, 0);
        out = call(t, "Grep", "{\"pattern\": \"needle\", \"path\": \"tree\"}", false);
        cr_assert(strstr(out, "tree/d49/f.c:1:needle"), "%s", out);
        cr_assert_null(strstr(out, "stopped"), "%s", out);
        free(out);
        tools_free(t);
}

Test(tool_search, a_cancel_stops_the_search) {
        pod_tools *t = tools_for("w:proj", NULL);
        volatile sig_atomic_t cancel = 1;
        char *out;

        tools_set_cancel(t, &cancel);
        out = call(t, "Grep", "{\"pattern\": \"return\"}", false);
        cr_assert(strstr(out, "[stopped: the pod was cancelled; it was in "), "%s", out);
        free(out);
        tools_free(t);
}

/* "**" repeated: retrying each one in turn would take longer than the universe has, for
 * Glob and for Grep's glob. */
Test(tool_search, glob_double_stars_cost_no_more_than_the_product_of_the_lengths) {
        pod_tools *t = tools_for("w:proj", NULL);
        pod_buf glob = { 0 };
        char rel[256] = "deep", *input, *out;

        for (int i = 0; i < 40; i++)
                strcat(rel, "/a");
        strcat(rel, "/f");
        tu_write(proj, rel, "needle");
        for (int i = 0; i < 40; i++)
                buf_puts(&glob, "**/a/");
        buf_puts(&glob, "z");
        input = in1("{\"pattern\": \"%s\"}", glob.data);
        out = call(t, "Glob", input, false);
        cr_assert(strstr(out, "No files match"), "%s", out);
        free(out);
        free(input);
        input = in1("{\"pattern\": \"needle\", \"glob\": \"%s\"}", glob.data);
        out = call(t, "Grep", input, false);
        cr_assert(strstr(out, "No matches"), "%s", out);
        free(out);
        free(input);
        buf_done(&glob);
        tools_free(t);
}

Test(tool_search, glob_double_star_semantics) {
        pod_tools *t = tools_for("w:proj", NULL);
        char *out;

        tu_write(proj, "g/a/b/c.txt", "x");
        tu_write(proj, "g/c.txt", "x");
        out = call(t, "Glob", "{\"pattern\": \"**/c.txt\", \"path\": \"g\"}", false);
        cr_assert(strstr(out, "/g/c.txt\n") && strstr(out, "/g/a/b/c.txt\n"), "%s", out);
        free(out);
        out = call(t, "Glob", "{\"pattern\": \"a/**/c.txt\", \"path\": \"g\"}", false);
        cr_assert(strstr(out, "/g/a/b/c.txt\n") && !strstr(out, "/g/c.txt"), "%s", out);
        free(out);
        out = call(t, "Glob", "{\"pattern\": \"a/**\", \"path\": \"g\"}", false);
        cr_assert(strstr(out, "/g/a/b/c.txt\n"), "%s", out);
        free(out);
        out = call(t, "Glob", "{\"pattern\": \"a/**/b/**\", \"path\": \"g\"}", false);
        cr_assert(strstr(out, "/g/a/b/c.txt\n"), "%s", out);
        free(out);
        out = call(t, "Glob", "{\"pattern\": \"**/b\", \"path\": \"g\"}", false);
        cr_assert(strstr(out, "No files match"), "directories are not results: %s", out);
        free(out);
        out = call(t, "Glob", "{\"pattern\": \"**/a/**/*.txt\", \"path\": \"g\"}", false);
        cr_assert(strstr(out, "/g/a/b/c.txt\n") && !strstr(out, "/g/c.txt"), "%s", out);
        free(out);
        tools_free(t);
}

Test(tool_search, patterns_are_bounded_in_size) {
        pod_tools *t = tools_for("w:proj", NULL);
        char *big = malloc(POD_SEARCH_PATTERN_MAX + 2), *input, *out;

        memset(big, 'a', POD_SEARCH_PATTERN_MAX + 1);
        big[POD_SEARCH_PATTERN_MAX] = '\0';
        input = in1("{\"pattern\": \"%s\"}", big);
        out = call(t, "Grep", input, false);
        cr_assert(strstr(out, "No matches"), "4096 bytes are allowed: %.100s", out);
        free(out);
        free(input);
        big[POD_SEARCH_PATTERN_MAX] = 'a';
        big[POD_SEARCH_PATTERN_MAX + 1] = '\0';
        input = in1("{\"pattern\": \"%s\"}", big);
        out = call(t, "Grep", input, true);
        cr_assert(strstr(out, "Grep: the pattern is over 4096 bytes"), "%s", out);
        free(out);
        out = call(t, "Glob", input, true);
        cr_assert(strstr(out, "Glob: the pattern is over 4096 bytes"), "%s", out);
        free(out);
        free(input);
        input = in1("{\"pattern\": \"a\", \"glob\": \"%s\"}", big);
        out = call(t, "Grep", input, true);
        cr_assert(strstr(out, "Grep: glob is over 4096 bytes"), "%s", out);
        free(out);
        free(input);
        free(big);
        tools_free(t);
}
