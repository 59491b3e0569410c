/* SPDX-License-Identifier: MIT */
/*
 * Read, Write and Edit (DESIGN §12), with the input fields agents know from other
 * runtimes. Every path goes through the scoped open of fsaccess.c; Edit requires that the
 * file was read (or written) in this pod first, and refuses an ambiguous match.
 */
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>

#include "tools-internal.h"

/* A file the scoped open could not give us, as the model should read it. */
static int open_failed(tool_result *out, const char *tool, const pod_error *err) {
        return tool_fail(out, "%s: %s", tool, err->msg);
}

static bool looks_binary(const char *s, size_t n) {
        return memchr(s, '\0', n < 8192 ? n : 8192) != NULL;
}

/* Open, check and read a regular text file for Read and Edit. */
static int read_text(tool_result *out,
                     pod_tools *t,
                     const char *tool,
                     const char *path,
                     char **ret_text,
                     size_t *ret_len,
                     char **ret_real) {
        _cleanup_close_ int fd = -EBADF;
        _cleanup_free_ char *real = NULL, *text = NULL;
        pod_error err = { 0 };
        struct stat st;
        size_t len;
        int r;

        if (fs_open_read(&fd, &real, &t->fs, path, O_RDONLY, &err) < 0)
                return open_failed(out, tool, &err);
        if (fstat(fd, &st) < 0)
                return tool_fail(out, "%s: %s: %s", tool, path, strerror(errno));
        if (S_ISDIR(st.st_mode))
                return tool_fail(out, "%s: %s is a directory; list it with Glob", tool, real);
        if (!S_ISREG(st.st_mode))
                return tool_fail(out, "%s: %s is not a regular file", tool, real);
        r = fd_read_bounded(&text, &len, fd, POD_FILE_MAX_BYTES);
        if (r == -EFBIG)
                return tool_fail(out, "%s: %s is over %u bytes; search it with Grep instead", tool,
                                 real, POD_FILE_MAX_BYTES);
        if (r < 0)
                return r == -ENOMEM ? r : tool_fail(out, "%s: %s: %s", tool, real, strerror(-r));
        if (looks_binary(text, len))
                return tool_fail(out, "%s: %s is a binary file", tool, real);
        *ret_text = TAKE_PTR(text);
        *ret_len = len;
        *ret_real = TAKE_PTR(real);
        return 1;
}

static json_int_t get_count(const json_t *in, const char *key, json_int_t def) {
        json_t *v = json_object_get(in, key);

        return v ? json_integer_value(v) : def; /* the schema checked type and range */
}

/* Append lines [first, first+count) as "%6u\t<line>", within the output limit. */
static void number_lines(pod_buf *b,
                         const char *text,
                         size_t len,
                         json_int_t first,
                         json_int_t count,
                         json_int_t *ret_shown,
                         json_int_t *ret_total) {
        json_int_t line = 1, shown = 0;
        const char *p = text, *end = text + len;

        while (p < end) {
                const char *nl = memchr(p, '\n', (size_t) (end - p));
                size_t n = nl ? (size_t) (nl - p) : (size_t) (end - p);
                if (line >= first && shown < count && b->len < POD_READ_MAX_BYTES) {
                        bool cut = n > POD_READ_LINE_MAX;
                        buf_printf(b, "%6lld\t", (long long) line);
                        buf_append(b, p, cut ? POD_READ_LINE_MAX : n);
                        buf_puts(b, cut ? "…\n" : "\n");
                        shown++;
                }
                line++;
                p += n + (nl != NULL);
        }
        *ret_shown = shown;
        *ret_total = line - 1;
}

int tool_read(tool_result *out, pod_tools *t, const json_t *in) {
        _cleanup_free_ char *text = NULL, *real = NULL;
        _cleanup_buf_ pod_buf b = { 0 };
        const char *path = NULL;
        json_int_t offset, limit, shown, total;
        size_t len;
        int r;

        path = json_string_value(json_object_get(in, "file_path"));
        offset = get_count(in, "offset", 1);
        limit = get_count(in, "limit", POD_READ_DEFAULT_LINES);
        r = read_text(out, t, "Read", path, &text, &len, &real);
        if (r <= 0)
                return r;
        if (tools_note_read(t, real) < 0)
                return -ENOMEM;
        if (len == 0)
                return tool_ok(out, "(%s is empty)", real);
        number_lines(&b, text, len, offset, limit, &shown, &total);
        if (shown == 0)
                return tool_fail(out, "Read: %s has %lld lines; offset %lld is past the end", real,
                                 (long long) total, (long long) offset);
        if (offset + shown - 1 < total)
                buf_printf(&b, "[lines %lld-%lld of %lld; read on with offset %lld]\n",
                           (long long) offset, (long long) (offset + shown - 1), (long long) total,
                           (long long) (offset + shown));
        return tool_ok_buf(out, &b);
}

static int write_all(tool_result *out,
                     pod_tools *t,
                     const char *tool,
                     const char *path,
                     const char *data,
                     size_t len,
                     bool create) {
        _cleanup_close_ int fd = -EBADF;
        _cleanup_free_ char *real = NULL;
        pod_error err = { 0 };
        int r;

        if (len > POD_WRITE_MAX_BYTES)
                return tool_fail(out, "%s: the content is over %u bytes", tool,
                                 POD_WRITE_MAX_BYTES);
        if (fs_open_write(&fd, &real, &t->fs, path, create, &err) < 0)
                return open_failed(out, tool, &err);
        r = tool_rewrite_fd(fd, data, len);
        if (r < 0)
                return tool_fail(out, "%s: %s: %s", tool, real, strerror(-r));
        if (tools_note_read(t, real) < 0)
                return -ENOMEM;
        return tool_ok(out, "%s: wrote %zu bytes to %s", tool, len, real);
}

int tool_write(tool_result *out, pod_tools *t, const json_t *in) {
        const char *path = json_string_value(json_object_get(in, "file_path"));
        json_t *content = json_object_get(in, "content");

        return write_all(out, t, "Write", path, json_string_value(content),
                         json_string_length(content), true);
}

static size_t count_matches(const char *text, size_t len, const char *needle, size_t n) {
        size_t count = 0;

        for (const char *p = text; (p = memmem(p, (size_t) (text + len - p), needle, n)); p += n)
                count++;
        return count;
}

static char *replace(const char *text,
                     size_t len,
                     const char *old,
                     size_t on,
                     const char *neu,
                     size_t nn,
                     bool all,
                     size_t *ret_len) {
        pod_buf b = { 0 };
        const char *p = text, *hit;

        while ((hit = memmem(p, (size_t) (text + len - p), old, on))) {
                buf_append(&b, p, (size_t) (hit - p));
                buf_append(&b, neu, nn);
                p = hit + on;
                if (!all)
                        break;
        }
        buf_append(&b, p, (size_t) (text + len - p));
        *ret_len = b.len;
        return buf_steal(&b);
}

int tool_edit(tool_result *out, pod_tools *t, const json_t *in) {
        _cleanup_free_ char *text = NULL, *real = NULL, *updated = NULL;
        const char *path = json_string_value(json_object_get(in, "file_path"));
        const char *old = json_string_value(json_object_get(in, "old_string"));
        const char *neu = json_string_value(json_object_get(in, "new_string"));
        bool all = json_is_true(json_object_get(in, "replace_all"));
        size_t len, on, nn, n, new_len;
        int r;

        on = json_string_length(json_object_get(in, "old_string"));
        nn = json_string_length(json_object_get(in, "new_string"));
        if (on == 0)
                return tool_fail(out, "Edit: old_string is empty; use Write to create a file");
        if (on == nn && memcmp(old, neu, on) == 0)
                return tool_fail(out, "Edit: old_string and new_string are the same");
        r = read_text(out, t, "Edit", path, &text, &len, &real);
        if (r <= 0)
                return r;
        if (!strv_contains(t->read_paths, real))
                return tool_fail(out, "Edit: read %s with Read before editing it", real);
        n = count_matches(text, len, old, on);
        if (n == 0)
                return tool_fail(out, "Edit: old_string was not found in %s", real);
        if (n > 1 && !all)
                return tool_fail(out,
                                 "Edit: old_string occurs %zu times in %s; include more "
                                 "context to make it unique, or set replace_all",
                                 n, real);
        updated = replace(text, len, old, on, neu, nn, all, &new_len);
        if (!updated)
                return -ENOMEM;
        r = write_all(out, t, "Edit", real, updated, new_len, false);
        if (r < 0 || out->is_error)
                return r;
        tool_result_done(out);
        return tool_ok(out, "Edit: replaced %zu occurrence%s in %s", all ? n : 1,
                       (all ? n : 1) == 1 ? "" : "s", real);
}
