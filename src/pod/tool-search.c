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
#include <regex.h>
#include <string.h>
#include <sys/stat.h>

#include "tools-internal.h"

/* ---- glob patterns with ** ----------------------------------------------------------- */

static size_t seg_len(const char *s) {
        return strcspn(s, "/");
}

/* Does path (relative, '/'-separated) match pat? "**" matches any number of segments. */
static bool glob_match(const char *pat, const char *path) {
        size_t pn, sn;
        char ps[512], ss[512];

        if (!*pat)
                return !*path;
        if (pat[0] == '*' && pat[1] == '*' && (pat[2] == '/' || !pat[2])) {
                const char *rest = pat[2] ? pat + 3 : pat + 2;
                if (!*rest)
                        return true;
                for (const char *p = path;; p += seg_len(p) + 1) {
                        if (glob_match(rest, p))
                                return true;
                        if (!p[seg_len(p)])
                                return false;
                }
        }
        if (!*path)
                return false;
        pn = seg_len(pat);
        sn = seg_len(path);
        if (pn >= sizeof(ps) || sn >= sizeof(ss))
                return false;
        memcpy(ps, pat, pn);
        ps[pn] = '\0';
        memcpy(ss, path, sn);
        ss[sn] = '\0';
        if (fnmatch(ps, ss, FNM_PERIOD) != 0)
                return false;
        if (!pat[pn] || !path[sn])
                return !pat[pn] && !path[sn];
        return glob_match(pat + pn + 1, path + sn + 1);
}

/* ---- the walk -------------------------------------------------------------------------- */

typedef struct walk {
        pod_tools *t;
        size_t entries;
        bool cut; /* a limit stopped the walk */
        int (*file)(struct walk *w, int dirfd, const char *name, const char *rel,
                    const char *real, const struct stat *st);
        void *ud;
} walk;

static int walk_dir(walk *w, int dfd, const char *real, const char *rel, unsigned depth);

static int walk_entry(walk *w, int dfd, const char *real, const char *rel, const char *name,
                      unsigned depth) {
        _cleanup_free_ char *child_real = path_join(real, name);
        _cleanup_buf_ pod_buf child_rel = { 0 };
        struct stat st;
        int r = 0;

        if (!child_real)
                return -ENOMEM;
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
        } else if (S_ISREG(st.st_mode) || S_ISLNK(st.st_mode))
                r = w->file(w, dfd, name, child_rel.data, child_real, &st);
        return r;
}

static int cmp_str(const void *a, const void *b) {
        return strcmp(*(char *const *) a, *(char *const *) b);
}

static int walk_dir(walk *w, int dfd, const char *real, const char *rel, unsigned depth) {
        _cleanup_strv_free_ char **names = NULL;
        int copy = fcntl(dfd, F_DUPFD_CLOEXEC, 3);
        DIR *d = copy >= 0 ? fdopendir(copy) : NULL;
        struct dirent *de;
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
                if (strv_push(&names, de->d_name) < 0) {
                        r = -ENOMEM;
                        break;
                }
        }
        closedir(d);
        if (names)
                qsort(names, strv_length(names), sizeof(char *), cmp_str);
        STRV_FOREACH(name, names) {
                if (r < 0 || w->cut)
                        break;
                r = walk_entry(w, dfd, real, rel, *name, depth);
        }
        return r;
}

/* Open the directory a search starts from; 1 on success, 0 with a tool error in out. */
static int open_base(tool_result *out, pod_tools *t, const char *tool, const json_t *in,
                     int *ret_fd, char **ret_real, bool *ret_is_file) {
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

static int glob_file(walk *w, int dirfd, const char *name, const char *rel, const char *real,
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
        walk w = { .t = t, .file = glob_file, .ud = &g };
        bool is_file = false;
        int r;

        if (!*pattern || pattern[0] == '/')
                return tool_fail(out, "Glob: pattern must be relative to path, like \"**/*.c\"");
        r = open_base(out, t, "Glob", in, &fd, &real, &is_file);
        if (r <= 0)
                return r;
        if (is_file)
                return tool_fail(out, "Glob: %s is a file, not a directory", real);
        r = walk_dir(&w, fd, real, "", 0);
        if (r >= 0) {
                if (g.n)
                        qsort(g.hits, g.n, sizeof(glob_hit), newest_first);
                for (size_t i = 0; i < g.n; i++)
                        buf_printf(&b, "%s\n", g.hits[i].path);
                if (g.n == 0)
                        buf_printf(&b, "No files match %s in %s\n", pattern, real);
                if (w.cut)
                        buf_printf(&b, "[stopped at a limit: %u results, %u entries or %u levels]\n",
                                   POD_GLOB_MAX_RESULTS, POD_WALK_MAX_ENTRIES, POD_WALK_MAX_DEPTH);
        }
        for (size_t i = 0; i < g.n; i++)
                free(g.hits[i].path);
        free(g.hits);
        return r < 0 ? r : tool_ok_buf(out, &b);
}

/* ---- Grep ------------------------------------------------------------------------------ */

typedef struct grep_state {
        regex_t re;
        const char *glob;
        pod_buf *b;
        size_t lines;
} grep_state;

static void grep_text(walk *w, grep_state *g, const char *real, char *text, size_t len) {
        size_t line = 0;

        for (char *p = text; p < text + len && !w->cut;) {
                char *nl = memchr(p, '\n', (size_t) (text + len - p));
                if (nl)
                        *nl = '\0';
                line++;
                if (regexec(&g->re, p, 0, NULL, 0) == 0) {
                        if (++g->lines > POD_GREP_MAX_LINES) {
                                w->cut = true;
                                break;
                        }
                        buf_printf(g->b, "%s:%zu:%.500s\n", real, line, p);
                }
                if (!nl)
                        break;
                p = nl + 1;
        }
}

static int grep_file(walk *w, int dirfd, const char *name, const char *rel, const char *real,
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
        grep_text(w, g, real, text, len);
        return g->b->oom ? -ENOMEM : 0;
}

static bool has_backreference(const char *p) {
        for (; *p; p++)
                if (p[0] == '\\' && p[1] >= '1' && p[1] <= '9')
                        return true;
        return false;
}

int tool_grep(tool_result *out, pod_tools *t, const json_t *in) {
        const char *pattern = json_string_value(json_object_get(in, "pattern"));
        _cleanup_close_ int fd = -EBADF;
        _cleanup_free_ char *real = NULL;
        _cleanup_buf_ pod_buf b = { 0 };
        grep_state g = { .glob = json_string_value(json_object_get(in, "glob")), .b = &b };
        walk w = { .t = t, .file = grep_file, .ud = &g };
        bool is_file = false;
        struct stat st;
        char msg[256];
        int r;

        if (strlen(pattern) > 4096)
                return tool_fail(out, "Grep: the pattern is over 4096 bytes");
        if (has_backreference(pattern))
                return tool_fail(out, "Grep: backreferences (\\1 ...) are not supported");
        r = regcomp(&g.re, pattern, REG_EXTENDED | REG_NEWLINE | REG_NOSUB);
        if (r != 0) {
                regerror(r, &g.re, msg, sizeof(msg));
                return tool_fail(out, "Grep: bad pattern: %s", msg);
        }
        r = open_base(out, t, "Grep", in, &fd, &real, &is_file);
        if (r > 0 && is_file && fstat(fd, &st) == 0) {
                _cleanup_free_ char *text = NULL;
                size_t len;
                r = fd_read_bounded(&text, &len, fd, POD_FILE_MAX_BYTES);
                if (r >= 0 && !memchr(text, '\0', len))
                        grep_text(&w, &g, real, text, len);
                r = r == -ENOMEM ? r : 1;
        } else if (r > 0)
                r = walk_dir(&w, fd, real, "", 0) < 0 ? -ENOMEM : 1;
        regfree(&g.re);
        if (r <= 0)
                return r;
        if (g.lines == 0)
                buf_printf(&b, "No matches for %s in %s\n", pattern, real);
        if (w.cut)
                buf_printf(&b, "[stopped at a limit: %u lines, %u entries or %u levels]\n",
                           POD_GREP_MAX_LINES, POD_WALK_MAX_ENTRIES, POD_WALK_MAX_DEPTH);
        return tool_ok_buf(out, &b);
}
