/* SPDX-License-Identifier: MIT */
/*
 * Glob and Grep (DESIGN §12), without shelling out. Both walk a directory tree from a
 * scoped open: entries are opened relative to their already-checked parent descriptor,
 * symlinks are never followed, denied sub-paths are skipped, and the walk is bounded in
 * depth, entries and results.
 */
#include <dirent.h>
#include <fcntl.h>
#include <fnmatch.h>
#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>
#include <string.h>
#include <sys/stat.h>

#include "tools-internal.h"

/* ---- glob patterns with ** ----------------------------------------------------------- */

static size_t seg_len(const char *s) {
        return strcspn(s, "/");
}

static bool is_globstar(const char *pat) {
        return pat[0] == '*' && pat[1] == '*' && (pat[2] == '/' || !pat[2]);
}

/* Does the first segment of pat match the first segment of path (fnmatch(3))? */
static bool segment_match(const char *pat, const char *path) {
        size_t pn = seg_len(pat), sn = seg_len(path);
        char ps[512], ss[512];

        if (pn >= sizeof(ps) || sn >= sizeof(ss))
                return false;
        memcpy(ps, pat, pn);
        ps[pn] = '\0';
        memcpy(ss, path, sn);
        ss[sn] = '\0';
        return fnmatch(ps, ss, FNM_PERIOD) == 0;
}

/*
 * Does path (relative, '/'-separated) match pat? "**" matches any number of segments,
 * at least one when it ends pat (so that it matches what is inside a directory, not the
 * directory). As in the classic wildcard match, with "**" for "*" and a segment for a
 * character, only the last "**" is ever retried: the work is at most the product of the
 * two lengths in segments, whatever the pattern (retrying every "**" in turn is
 * exponential in their number).
 */
static bool glob_match(const char *pat, const char *path) {
        const char *retry_pat = NULL, *retry_path = NULL;

        for (;;) {
                if (is_globstar(pat)) {
                        if (!pat[2])
                                return *path != '\0';
                        pat += 3;
                        retry_pat = pat;
                        retry_path = path;
                        continue;
                }
                if (*path && segment_match(pat, path)) {
                        const char *pat_end = pat + seg_len(pat), *path_end = path + seg_len(path);
                        if (!*pat_end && !*path_end)
                                return true;
                        if (*pat_end && *path_end) {
                                pat = pat_end + 1;
                                path = path_end + 1;
                                continue;
                        }
                }
                if (!retry_pat || !retry_path[seg_len(retry_path)])
                        return false;
                retry_path += seg_len(retry_path) + 1; /* the last "**" takes one more segment */
                pat = retry_pat;
                path = retry_path;
        }
}

/* ---- the walk -------------------------------------------------------------------------- */

typedef struct walk {
        pod_tools *t;
        long long started, deadline; /* mono_ms() */
        size_t entries;
        size_t files; /* files looked at */
        bool cut; /* a limit stopped the walk */
        bool expired; /* the deadline (or a cancel) stopped it */
        pod_buf where; /* where it stopped, when expired */
        int (*file)(struct walk *w,
                    int dirfd,
                    const char *name,
                    const char *rel,
                    const char *real,
                    const struct stat *st);
        void *ud;
} walk;

static void walk_init(walk *w, pod_tools *t, void *ud) {
        w->t = t;
        w->ud = ud;
        w->started = mono_ms();
        w->deadline = tools_call_deadline(t, t->search_ms);
        if (w->deadline < w->started)
                w->started = w->deadline; /* the task's time was already up */
}

/* Has the deadline passed (or the pod been cancelled)? If so, note where: at path, and at
 * line when not 0. */
static bool walk_expired(walk *w, const char *path, size_t line) {
        if (w->expired)
                return true;
        if (!tools_expired(w->t, w->deadline))
                return false;
        w->expired = true;
        buf_puts(&w->where, path);
        if (line)
                buf_printf(&w->where, " at line %zu", line);
        return true;
}

/* The note that ends a result that was cut short: by the deadline, or at a limit (max
 * what: POD_GLOB_MAX_RESULTS results, POD_GREP_MAX_LINES lines). */
static void walk_note(pod_buf *b, const walk *w, unsigned max, const char *what) {
        const char *where = w->where.data ? w->where.data : "?";

        if (w->expired && w->t->cancel && *w->t->cancel)
                buf_printf(b,
                           "[stopped: the pod was cancelled; it was in %s; files searched "
                           "before: %zu]\n",
                           where, w->files);
        else if (w->expired)
                buf_printf(b,
                           "[stopped at the deadline (%.1f s) in %s; files searched before it: "
                           "%zu; what follows it, in name order, was not searched]\n",
                           (double) (w->deadline - w->started) / 1000.0, where, w->files);
        else if (w->cut)
                buf_printf(b, "[stopped at a limit: %u %s, %u entries or %u levels]\n", max, what,
                           POD_WALK_MAX_ENTRIES, POD_WALK_MAX_DEPTH);
}

static int walk_dir(walk *w, int dfd, const char *real, const char *rel, unsigned depth);

static int
walk_entry(walk *w, int dfd, const char *real, const char *rel, const char *name, unsigned depth) {
        _cleanup_free_ char *child_real = path_join(real, name);
        _cleanup_buf_ pod_buf child_rel = { 0 };
        struct stat st;
        int r = 0;

        if (!child_real)
                return -ENOMEM;
        if (walk_expired(w, child_real, 0))
                return 0;
        if (fs_access(&w->t->fs, child_real) == POD_ACCESS_NONE)
                return 0; /* a denied sub-path: invisible */
        if (fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
                return 0;
        buf_printf(&child_rel, "%s%s%s", rel, *rel ? "/" : "", name);
        if (child_rel.oom)
                return -ENOMEM;
        if (S_ISDIR(st.st_mode)) {
                _cleanup_close_ int sub = -EBADF;
                if (depth + 1 >= POD_WALK_MAX_DEPTH) {
                        w->cut = true;
                        return 0;
                }
                sub = openat(dfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                if (sub >= 0)
                        r = walk_dir(w, sub, child_real, child_rel.data, depth + 1);
        } else if (S_ISREG(st.st_mode) || S_ISLNK(st.st_mode)) {
                r = w->file(w, dfd, name, child_rel.data, child_real, &st);
                w->files += !w->expired;
        }
        return r;
}

static int cmp_str(const void *a, const void *b) {
        return strcmp(*(char *const *) a, *(char *const *) b);
}

/* Add name to the NULL-terminated list names of *n entries with room for *cap: doubling,
 * so that a directory of POD_WALK_MAX_ENTRIES names costs linear time, not quadratic. */
static int names_push(char ***names, size_t *n, size_t *cap, const char *name) {
        if (*n + 1 >= *cap) {
                size_t c = *cap ? *cap * 2 : 64;
                char **nl = reallocarray(*names, c, sizeof(char *));
                if (!nl)
                        return -ENOMEM;
                *names = nl;
                *cap = c;
        }
        (*names)[*n] = strdup(name);
        if (!(*names)[*n])
                return -ENOMEM;
        (*names)[++*n] = NULL;
        return 0;
}

static int walk_dir(walk *w, int dfd, const char *real, const char *rel, unsigned depth) {
        _cleanup_strv_free_ char **names = NULL;
        int copy = fcntl(dfd, F_DUPFD_CLOEXEC, 3);
        DIR *d = copy >= 0 ? fdopendir(copy) : NULL;
        struct dirent *de;
        size_t n = 0, cap = 0;
        int r = 0;

        if (!d) {
                safe_close(copy);
                return 0;
        }
        while ((de = readdir(d))) {
                if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
                        continue;
                if (++w->entries > POD_WALK_MAX_ENTRIES) {
                        w->cut = true;
                        break;
                }
                if (names_push(&names, &n, &cap, de->d_name) < 0) {
                        r = -ENOMEM;
                        break;
                }
        }
        closedir(d);
        if (names)
                qsort(names, n, sizeof(char *), cmp_str);
        STRV_FOREACH(name, names) {
                if (r < 0 || w->cut || w->expired)
                        break;
                r = walk_entry(w, dfd, real, rel, *name, depth);
        }
        return r;
}

/* Open the directory a search starts from; 1 on success, 0 with a tool error in out. */
static int open_base(tool_result *out,
                     pod_tools *t,
                     const char *tool,
                     const json_t *in,
                     int *ret_fd,
                     char **ret_real,
                     bool *ret_is_file) {
        const char *path = json_string_value(json_object_get(in, "path"));
        pod_error err = { 0 };
        struct stat st;
        int r;

        if (fs_open_read(ret_fd, ret_real, &t->fs, path ? path : t->fs.cwd, O_RDONLY, &err) < 0) {
                r = tool_fail(out, "%s: %s", tool, err.msg);
                return r < 0 ? r : 0;
        }
        if (fstat(*ret_fd, &st) < 0 || (!S_ISDIR(st.st_mode) && !S_ISREG(st.st_mode))) {
                r = tool_fail(out, "%s: %s is not a directory or a file", tool, *ret_real);
                return r < 0 ? r : 0;
        }
        *ret_is_file = S_ISREG(st.st_mode);
        return 1;
}

/* ---- Glob ------------------------------------------------------------------------------ */

typedef struct glob_hit {
        char *path;
        struct timespec mtime;
} glob_hit;

typedef struct glob_state {
        const char *pattern;
        glob_hit *hits;
        size_t n;
} glob_state;

static int glob_file(walk *w,
                     int dirfd,
                     const char *name,
                     const char *rel,
                     const char *real,
                     const struct stat *st) {
        glob_state *g = w->ud;
        glob_hit *nh;

        (void) dirfd;
        (void) name;
        if (!glob_match(g->pattern, rel))
                return 0;
        if (g->n >= POD_GLOB_MAX_RESULTS) {
                w->cut = true;
                return 0;
        }
        nh = realloc(g->hits, (g->n + 1) * sizeof(glob_hit));
        if (!nh)
                return -ENOMEM;
        g->hits = nh;
        nh[g->n] = (glob_hit){ strdup(real), st->st_mtim };
        return nh[g->n++].path ? 0 : -ENOMEM;
}

static int newest_first(const void *a, const void *b) {
        const glob_hit *x = a, *y = b;

        if (x->mtime.tv_sec != y->mtime.tv_sec)
                return x->mtime.tv_sec < y->mtime.tv_sec ? 1 : -1;
        if (x->mtime.tv_nsec != y->mtime.tv_nsec)
                return x->mtime.tv_nsec < y->mtime.tv_nsec ? 1 : -1;
        return strcmp(x->path, y->path);
}

int tool_glob(tool_result *out, pod_tools *t, const json_t *in) {
        const char *pattern = json_string_value(json_object_get(in, "pattern"));
        _cleanup_close_ int fd = -EBADF;
        _cleanup_free_ char *real = NULL;
        _cleanup_buf_ pod_buf b = { 0 };
        glob_state g = { .pattern = pattern };
        walk w = { .file = glob_file };
        bool is_file = false;
        int r;

        if (!*pattern || pattern[0] == '/')
                return tool_fail(out, "Glob: pattern must be relative to path, like \"**/*.c\"");
        if (strlen(pattern) > POD_SEARCH_PATTERN_MAX)
                return tool_fail(out, "Glob: the pattern is over %u bytes", POD_SEARCH_PATTERN_MAX);
        r = open_base(out, t, "Glob", in, &fd, &real, &is_file);
        if (r <= 0)
                return r;
        if (is_file)
                return tool_fail(out, "Glob: %s is a file, not a directory", real);
        walk_init(&w, t, &g);
        r = walk_dir(&w, fd, real, "", 0);
        if (r >= 0) {
                if (g.n)
                        qsort(g.hits, g.n, sizeof(glob_hit), newest_first);
                for (size_t i = 0; i < g.n; i++)
                        buf_printf(&b, "%s\n", g.hits[i].path);
                if (g.n == 0)
                        buf_printf(&b, "No files match %s in %s\n", pattern, real);
                walk_note(&b, &w, POD_GLOB_MAX_RESULTS, "results");
        }
        for (size_t i = 0; i < g.n; i++)
                free(g.hits[i].path);
        free(g.hits);
        buf_done(&w.where);
        return r < 0 ? r : tool_ok_buf(out, &b);
}

/* ---- Grep ------------------------------------------------------------------------------ */

/*
 * Patterns are PCRE2's, matched by its interpreter (no JIT: no executable memory in a
 * sandboxed pod, and less code facing hostile patterns). Backtracking is bounded three
 * ways: a match limit and a depth limit per start position, a heap limit, and, since
 * neither bounds the sum over a long line's start positions, a callout before each item
 * of the pattern (PCRE2_AUTO_CALLOUT) that reads the clock as work accumulates and
 * abandons the match at the call's deadline.
 */
typedef struct grep_state {
        pcre2_code *re;
        pcre2_match_data *md;
        pcre2_match_context *mc;
        const char *glob;
        pod_buf *b;
        pod_buf costly; /* notes on the lines skipped as too costly */
        size_t lines; /* matching lines shown */
        size_t n_costly; /* lines skipped as too costly */
        unsigned long work; /* callouts since the clock was read, weighted by distance */
        PCRE2_SIZE last_pos;
} grep_state;

static int grep_callout(pcre2_callout_block *cb, void *ud) {
        walk *w = ud;
        grep_state *g = w->ud;
        PCRE2_SIZE pos = cb->current_position;

        /* An item may have scanned far since the last callout: weigh the distance in. */
        g->work += 1 + (pos > g->last_pos ? pos - g->last_pos : g->last_pos - pos) / 1024;
        g->last_pos = pos;
        if (g->work < 256)
                return 0;
        g->work = 0;
        return tools_expired(w->t, w->deadline) ? PCRE2_ERROR_CALLOUT : 0;
}

/* A line the pattern could not be matched on within the limits: note it, go on. */
static void grep_costly(grep_state *g, const char *real, size_t line, int rc) {
        PCRE2_UCHAR msg[128];

        if (g->n_costly++ >= POD_GREP_COSTLY_NAMED)
                return;
        pcre2_get_error_message(rc, msg, sizeof(msg));
        buf_printf(&g->costly, "[pattern too costly on %s:%zu (%s), skipped]\n", real, line,
                   (const char *) msg);
}

/* Match one line (NUL-terminated at len); < 0 only when memory runs out. */
static int
grep_line(walk *w, grep_state *g, const char *real, size_t line, const char *p, size_t len) {
        int rc;

        g->last_pos = 0;
        rc = pcre2_match(g->re, (PCRE2_SPTR) p, len, 0, 0, g->md, g->mc);
        if (rc == PCRE2_ERROR_NOMATCH)
                return 0;
        if (rc == PCRE2_ERROR_NOMEMORY)
                return -ENOMEM;
        if (rc == PCRE2_ERROR_CALLOUT) {
                walk_expired(w, real, line);
                return 0;
        }
        if (rc < 0) {
                grep_costly(g, real, line, rc);
                return 0;
        }
        if (++g->lines > POD_GREP_MAX_LINES) {
                w->cut = true;
                return 0;
        }
        buf_printf(g->b, "%s:%zu:%.500s\n", real, line, p);
        return 0;
}

static int grep_text(walk *w, grep_state *g, const char *real, char *text, size_t len) {
        size_t line = 0;
        int r = 0;

        for (char *p = text; p < text + len && r >= 0 && !w->cut && !w->expired;) {
                char *nl = memchr(p, '\n', (size_t) (text + len - p));
                if (nl)
                        *nl = '\0';
                if (++line % 1024 == 0 && walk_expired(w, real, line))
                        break;
                r = grep_line(w, g, real, line, p,
                              nl ? (size_t) (nl - p) : (size_t) (text + len - p));
                if (!nl)
                        break;
                p = nl + 1;
        }
        return r < 0 || g->b->oom || g->costly.oom ? -ENOMEM : 0;
}

static int grep_file(walk *w,
                     int dirfd,
                     const char *name,
                     const char *rel,
                     const char *real,
                     const struct stat *st) {
        grep_state *g = w->ud;
        _cleanup_close_ int fd = -EBADF;
        _cleanup_free_ char *text = NULL;
        const char *base = strrchr(rel, '/') ? strrchr(rel, '/') + 1 : rel;
        size_t len;

        if (g->glob && !glob_match(g->glob, strchr(g->glob, '/') ? rel : base))
                return 0;
        if (!S_ISREG(st->st_mode) || st->st_size > POD_FILE_MAX_BYTES)
                return 0;
        fd = openat(dirfd, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
        if (fd < 0 || fd_read_bounded(&text, &len, fd, POD_FILE_MAX_BYTES) < 0)
                return 0;
        if (memchr(text, '\0', len))
                return 0; /* binary */
        return grep_text(w, g, real, text, len);
}

/* 1 when the pattern compiled, 0 with a tool error in out, or -ENOMEM. */
static int grep_compile(tool_result *out, grep_state *g, walk *w, const char *pattern) {
        _cleanup_free_ char *quoted = NULL;
        PCRE2_UCHAR msg[128];
        PCRE2_SIZE at;
        int code;

        g->re = pcre2_compile((PCRE2_SPTR) pattern, PCRE2_ZERO_TERMINATED,
                              PCRE2_UTF | PCRE2_MATCH_INVALID_UTF | PCRE2_NEVER_BACKSLASH_C |
                                      PCRE2_AUTO_CALLOUT,
                              &code, &at, NULL);
        if (!g->re) {
                pcre2_get_error_message(code, msg, sizeof(msg));
                quoted = str_quote(pattern, 200);
                if (!quoted)
                        return -ENOMEM;
                return tool_fail(out, "Grep: bad pattern %s at offset %zu: %s", quoted, (size_t) at,
                                 (const char *) msg);
        }
        g->md = pcre2_match_data_create(1, NULL);
        g->mc = pcre2_match_context_create(NULL);
        if (!g->md || !g->mc)
                return -ENOMEM;
        pcre2_set_match_limit(g->mc, POD_GREP_MATCH_LIMIT);
        pcre2_set_depth_limit(g->mc, POD_GREP_DEPTH_LIMIT);
        pcre2_set_heap_limit(g->mc, POD_GREP_HEAP_LIMIT_KIB);
        pcre2_set_callout(g->mc, grep_callout, w);
        return 1;
}

static void grep_done(grep_state *g) {
        pcre2_match_context_free(g->mc);
        pcre2_match_data_free(g->md);
        pcre2_code_free(g->re);
        buf_done(&g->costly);
}

/* Search the file or the tree at fd; 0, or -ENOMEM. */
static int grep_search(walk *w, grep_state *g, int fd, const char *real, bool is_file) {
        _cleanup_free_ char *text = NULL;
        size_t len;

        if (!is_file)
                return walk_dir(w, fd, real, "", 0) < 0 ? -ENOMEM : 0;
        if (fd_read_bounded(&text, &len, fd, POD_FILE_MAX_BYTES) == -ENOMEM)
                return -ENOMEM;
        if (text && !memchr(text, '\0', len) && grep_text(w, g, real, text, len) < 0)
                return -ENOMEM;
        w->files += !w->expired;
        return 0;
}

/* The result: matching lines, then notes on what was skipped or left unsearched. */
static int grep_report(tool_result *out,
                       pod_buf *b,
                       const grep_state *g,
                       const walk *w,
                       const char *pattern,
                       const char *real) {
        if (g->lines == 0)
                buf_printf(b, "No matches for %s in %s\n", pattern, real);
        if (g->costly.len)
                buf_append(b, g->costly.data, g->costly.len);
        if (g->n_costly > POD_GREP_COSTLY_NAMED)
                buf_printf(b, "[and %zu more lines skipped as too costly]\n",
                           g->n_costly - POD_GREP_COSTLY_NAMED);
        walk_note(b, w, POD_GREP_MAX_LINES, "lines");
        return b->oom ? -ENOMEM : tool_ok_buf(out, b);
}

int tool_grep(tool_result *out, pod_tools *t, const json_t *in) {
        const char *pattern = json_string_value(json_object_get(in, "pattern"));
        _cleanup_close_ int fd = -EBADF;
        _cleanup_free_ char *real = NULL;
        _cleanup_buf_ pod_buf b = { 0 };
        grep_state g = { .glob = json_string_value(json_object_get(in, "glob")), .b = &b };
        walk w = { .file = grep_file };
        bool is_file = false;
        int r;

        if (strlen(pattern) > POD_SEARCH_PATTERN_MAX)
                return tool_fail(out, "Grep: the pattern is over %u bytes", POD_SEARCH_PATTERN_MAX);
        if (g.glob && strlen(g.glob) > POD_SEARCH_PATTERN_MAX)
                return tool_fail(out, "Grep: glob is over %u bytes", POD_SEARCH_PATTERN_MAX);
        r = grep_compile(out, &g, &w, pattern);
        if (r > 0)
                r = open_base(out, t, "Grep", in, &fd, &real, &is_file);
        if (r > 0) {
                walk_init(&w, t, &g);
                r = grep_search(&w, &g, fd, real, is_file);
                if (r >= 0)
                        r = grep_report(out, &b, &g, &w, pattern, real);
        }
        grep_done(&g);
        buf_done(&w.where);
        return r < 0 ? r : 0;
}
