/* SPDX-License-Identifier: MIT */
/*
 * The limits a model can push on through the tools, each at its edge: the limit itself
 * passes, one over is refused or cut with the documented message (pod.h, docs/running.md).
 */
#include <fcntl.h>
#include <sys/stat.h>

#include "tools-fixture.h"

TestSuite(limits, .init = pod_fixture_setup, .fini = pod_fixture_teardown);

/* n empty files name-<i>.txt in proj/<dir>. */
static void make_files(const char *dir, unsigned n, const char *name) {
        char rel[256];

        tu_mkdirs(proj, dir);
        for (unsigned i = 0; i < n; i++) {
                snprintf(rel, sizeof(rel), "%s/%s-%u.txt", dir, name, i);
                tu_write(proj, rel, "");
        }
}

static const char *glob_cut = "[stopped at a limit: 1000 results, 200000 entries or 64 levels]";

Test(limits, glob_returns_1000_results_and_cuts_the_1001st) {
        pod_tools *t = tools_for("w:proj", NULL);
        char *out;

        make_files("many", POD_GLOB_MAX_RESULTS, "f");
        out = call(t, "Glob", "{\"pattern\": \"*.txt\", \"path\": \"many\"}", false);
        cr_assert_eq(tu_lines(out), POD_GLOB_MAX_RESULTS, "every result, no note");
        cr_assert_null(strstr(out, "[stopped"), "%.200s", out);
        free(out);
        tu_write(proj, "many/one-more.txt", "");
        out = call(t, "Glob", "{\"pattern\": \"*.txt\", \"path\": \"many\"}", false);
        cr_assert_eq(tu_lines(out), POD_GLOB_MAX_RESULTS + 1, "1000 results and the note");
        cr_assert(strstr(out, glob_cut), "%s", out + strlen(out) - 100);
        free(out);
        tools_free(t);
}

/* A file of n lines that all match "hit". */
static void write_hits(const char *rel, unsigned n) {
        pod_buf b = { 0 };

        for (unsigned i = 0; i < n; i++)
                buf_printf(&b, "hit %u\n", i);
        tu_write(proj, rel, b.data);
        buf_done(&b);
}

Test(limits, grep_returns_500_lines_and_cuts_the_501st) {
        pod_tools *t = tools_for("w:proj", NULL);
        char *out;

        write_hits("hits.txt", POD_GREP_MAX_LINES);
        out = call(t, "Grep", "{\"pattern\": \"^hit\", \"path\": \"hits.txt\"}", false);
        cr_assert_eq(tu_lines(out), POD_GREP_MAX_LINES, "every line, no note");
        cr_assert_null(strstr(out, "[stopped"), "%.200s", out);
        free(out);
        write_hits("hits.txt", POD_GREP_MAX_LINES + 1);
        out = call(t, "Grep", "{\"pattern\": \"^hit\", \"path\": \"hits.txt\"}", false);
        cr_assert_eq(tu_lines(out), POD_GREP_MAX_LINES + 1, "500 lines and the note");
        cr_assert(strstr(out, "[stopped at a limit: 500 lines, 200000 entries or 64 levels]"), "%s",
                  out + strlen(out) - 100);
        cr_assert_null(strstr(out, "hits.txt:501:"), "the 501st line is cut");
        free(out);
        tools_free(t);
}

/* proj/<top>/d/d/.../d, levels directories deep, with a file at the bottom. */
static char *make_chain(const char *top, unsigned levels) {
        pod_buf rel = { 0 };
        char *file;

        buf_puts(&rel, top);
        for (unsigned i = 0; i < levels; i++)
                buf_puts(&rel, "/d");
        file = strdup(rel.data);
        buf_puts(&rel, "/bottom.txt");
        tu_write(proj, rel.data, "bottom\n");
        buf_done(&rel);
        return file;
}

Test(limits, the_walk_goes_64_levels_deep_and_no_further) {
        pod_tools *t = tools_for("w:proj", NULL);
        char *out, *dir;

        /* The directory searched is level 0; directories at levels 1..63 are entered. */
        dir = make_chain("deep", POD_WALK_MAX_DEPTH - 1);
        out = call(t, "Glob", "{\"pattern\": \"**/bottom.txt\", \"path\": \"deep\"}", false);
        cr_assert(strstr(out, "/bottom.txt\n"), "the file 63 levels down is found: %s", out);
        cr_assert_null(strstr(out, "[stopped"), "%s", out);
        free(out);
        out = call(t, "Grep", "{\"pattern\": \"bottom\", \"path\": \"deep\"}", false);
        cr_assert(strstr(out, "/bottom.txt:1:bottom"), "%s", out);
        cr_assert_null(strstr(out, "[stopped"), "%s", out);
        free(out);
        /* One level more: that directory is not entered, and the result says so. */
        free(make_chain(dir, 1));
        out = call(t, "Glob", "{\"pattern\": \"**/bottom.txt\", \"path\": \"deep\"}", false);
        cr_assert_eq(tu_lines(out), 2, "the file at level 63 and the note: %s", out);
        cr_assert(strstr(out, glob_cut), "%s", out);
        free(out);
        out = call(t, "Grep", "{\"pattern\": \"bottom\", \"path\": \"deep\"}", false);
        cr_assert_eq(tu_lines(out), 2, "%s", out);
        cr_assert(strstr(out, "[stopped at a limit: 500 lines, 200000 entries or 64 levels]"), "%s",
                  out);
        free(out);
        free(dir);
        tools_free(t);
}

/* Entries [from, to) in proj/<dir>: hard links to a few empty files (a file has at most
 * LINKS_EACH links here), so that 200k entries cost few inodes. */
#define LINKS_EACH 50000u
static void make_links(const char *dir, unsigned from, unsigned to) {
        char *d = tu_path(proj, dir), name[32], head[32];
        int dfd;

        tu_mkdirs(proj, dir);
        dfd = open(d, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        cr_assert_geq(dfd, 0);
        for (unsigned i = from; i < to; i++) {
                snprintf(name, sizeof(name), "e-%u", i);
                snprintf(head, sizeof(head), "e-%u", i - i % LINKS_EACH);
                if (i % LINKS_EACH == 0) {
                        int fd = openat(dfd, name, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
                        cr_assert_geq(fd, 0, "create %s: %m", name);
                        close(fd);
                } else {
                        cr_assert_eq(linkat(dfd, head, dfd, name, 0), 0, "link %s: %m", name);
                }
        }
        close(dfd);
        free(d);
}

Test(limits, the_walk_visits_200000_entries_and_stops_at_the_next, .timeout = 240) {
        pod_tools *t = tools_for("w:proj", NULL);
        char *out;

        make_links("wide", 0, POD_WALK_MAX_ENTRIES);
        out = call(t, "Glob", "{\"pattern\": \"nothing-*\", \"path\": \"wide\"}", false);
        cr_assert(strstr(out, "No files match"), "%s", out);
        cr_assert_null(strstr(out, "[stopped"), "200000 entries are all visited: %s", out);
        free(out);
        make_links("wide", POD_WALK_MAX_ENTRIES, POD_WALK_MAX_ENTRIES + 1);
        out = call(t, "Glob", "{\"pattern\": \"nothing-*\", \"path\": \"wide\"}", false);
        cr_assert(strstr(out, glob_cut), "the 200001st entry is not: %s", out);
        free(out);
        out = call(t, "Grep", "{\"pattern\": \"nothing\", \"path\": \"wide\"}", false);
        cr_assert(strstr(out, "[stopped at a limit: 500 lines, 200000 entries or 64 levels]"), "%s",
                  out);
        free(out);
        tools_free(t);
}

/* A file of n lines whose numbered form ("%6u\t" line "\n") is 1024 bytes a line. */
static void write_kib_lines(const char *rel, unsigned n) {
        pod_buf b = { 0 };
        char line[1017];

        memset(line, 'x', sizeof(line) - 1);
        line[sizeof(line) - 1] = '\0';
        for (unsigned i = 0; i < n; i++)
                buf_printf(&b, "%s\n", line);
        tu_write(proj, rel, b.data);
        buf_done(&b);
}

Test(limits, read_returns_256_kib_and_says_where_to_read_on) {
        pod_tools *t = tools_for("w:proj", NULL);
        unsigned lines = POD_READ_MAX_BYTES / 1024;
        char *out;

        write_kib_lines("big.txt", lines);
        out = call(t, "Read", "{\"file_path\": \"big.txt\", \"limit\": 100000}", false);
        cr_assert_eq(strlen(out), POD_READ_MAX_BYTES, "256 KiB of numbered lines, whole");
        cr_assert_null(strstr(out, "read on"), "%.100s", out + strlen(out) - 100);
        free(out);
        write_kib_lines("big.txt", lines + 1);
        out = call(t, "Read", "{\"file_path\": \"big.txt\", \"limit\": 100000}", false);
        cr_assert(strstr(out, "[lines 1-256 of 257; read on with offset 257]\n"), "%s",
                  out + strlen(out) - 100);
        cr_assert_eq(tu_lines(out), lines + 1, "256 lines and the note");
        free(out);
        tools_free(t);
}

/* {"file_path": "w.txt", "content": "aaa..."} with n bytes of content. */
static char *write_input(size_t n) {
        json_t *in = json_object();
        char *content = malloc(n + 1), *text;

        memset(content, 'a', n);
        content[n] = '\0';
        json_object_set_new(in, "file_path", json_string("w.txt"));
        json_object_set_new(in, "content", json_stringn(content, n));
        text = json_dumps(in, JSON_COMPACT);
        json_decref(in);
        free(content);
        return text;
}

Test(limits, write_takes_4_mib_and_refuses_one_byte_more) {
        pod_tools *t = tools_for("w:proj", NULL);
        char *in = write_input(POD_WRITE_MAX_BYTES), *out, *on_disk;
        struct stat st;

        out = call(t, "Write", in, false);
        cr_assert(strstr(out, "wrote 4194304 bytes"), "%s", out);
        free(out);
        free(in);
        on_disk = tu_path(proj, "w.txt");
        cr_assert_eq(stat(on_disk, &st), 0);
        cr_assert_eq(st.st_size, (off_t) POD_WRITE_MAX_BYTES);
        in = write_input(POD_WRITE_MAX_BYTES + 1);
        out = call(t, "Write", in, true);
        cr_assert_str_eq(out, "Write: the content is over 4194304 bytes");
        free(out);
        free(in);
        cr_assert_eq(stat(on_disk, &st), 0);
        cr_assert_eq(st.st_size, (off_t) POD_WRITE_MAX_BYTES, "a refused Write changes nothing");
        free(on_disk);
        tools_free(t);
}

Test(limits, a_tool_input_of_8_mib_is_taken_and_one_byte_more_refused) {
        pod_tools *t = tools_for("w:proj", NULL);
        size_t frame = strlen("{\"file_path\":\"w.txt\",\"content\":\"\"}");
        char *in = write_input(POD_TOOL_INPUT_MAX_BYTES - frame), *out;

        cr_assert_eq(strlen(in), POD_TOOL_INPUT_MAX_BYTES);
        /* Taken as input: refused by Write itself, for its content. */
        out = call(t, "Write", in, true);
        cr_assert_str_eq(out, "Write: the content is over 4194304 bytes");
        free(out);
        free(in);
        in = write_input(POD_TOOL_INPUT_MAX_BYTES - frame + 1);
        out = call(t, "Write", in, true);
        cr_assert_str_eq(out, "Write: the input is over 8388608 bytes");
        free(out);
        free(in);
        tools_free(t);
}
