/* SPDX-License-Identifier: MIT */
/*
 * Trust (DESIGN §3, §4): a project's `.pod/` comes with the repository, so its profiles
 * and its default pointer take effect only in a project dir the operator trusted, as
 * recorded in `<config dir>/trusted-projects`, one canonical project dir per line. The
 * file is read bounded; a line that is not an absolute path trusts nothing. Changes
 * replace the file atomically under a lock, so two `pod trust` never lose a line.
 */
#include <fcntl.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "manifest-internal.h"

#define TRUST_FILE "trusted-projects"
#define TRUST_LOCK ".trusted-projects.lock"

static char *trust_path(const char *config_dir) {
        return path_join(config_dir, TRUST_FILE);
}

int trust_parse(char ***out, const char *text, size_t len, const char *what, pod_error *err) {
        _cleanup_strv_free_ char **dirs = NULL;
        size_t n = 0;

        if (len > POD_TRUST_MAX_BYTES || strlen(text) != len || !utf8_valid(text, len))
                return pod_error_set(err, -EINVAL,
                                     "%s: not a list of project dirs (UTF-8 text without NUL "
                                     "bytes, at most %u bytes)",
                                     what, POD_TRUST_MAX_BYTES);
        for (const char *p = text; *p;) {
                size_t k = strcspn(p, "\n");
                _cleanup_free_ char *line = strndup(p, k);

                if (!line)
                        return pod_error_oom(err);
                p += k + (p[k] == '\n');
                /* Only absolute paths count; anything else trusts nothing. */
                if (line[0] != '/' || strv_contains(dirs, line))
                        continue;
                if (++n > POD_TRUST_ENTRIES_MAX)
                        return pod_error_set(err, -E2BIG, "%s: more than %u project dirs", what,
                                             POD_TRUST_ENTRIES_MAX);
                if (strv_push(&dirs, line) < 0)
                        return pod_error_oom(err);
        }
        *out = TAKE_PTR(dirs);
        return 0;
}

int trust_list(char ***out, const char *config_dir, pod_error *err) {
        _cleanup_free_ char *path = NULL, *text = NULL;
        size_t len = 0;
        int r;

        *out = NULL;
        if (!config_dir)
                return 0;
        path = trust_path(config_dir);
        if (!path)
                return pod_error_oom(err);
        r = file_read_bounded(&text, &len, AT_FDCWD, path, POD_TRUST_MAX_BYTES, err);
        if (r == -ENOENT)
                return 0;
        if (r < 0)
                return r;
        return trust_parse(out, text, len, path, err);
}

int trust_check(bool *ret, const char *config_dir, const char *project_dir, pod_error *err) {
        _cleanup_strv_free_ char **dirs = NULL;
        int r;

        *ret = false;
        if (!project_dir)
                return 0;
        r = trust_list(&dirs, config_dir, err);
        if (r < 0)
                return r;
        *ret = strv_contains(dirs, project_dir);
        return 0;
}

/* The list as the file holds it, one dir a line. */
static int write_list(int dfd, char *const *dirs, mode_t mode, pod_error *err) {
        _cleanup_buf_ pod_buf b = { 0 };

        STRV_FOREACH(d, dirs)
                buf_printf(&b, "%s\n", *d);
        if (b.oom)
                return pod_error_oom(err);
        return store_write_file(dfd, TRUST_FILE, b.data ? b.data : "", b.len, mode, STORE_REPLACE,
                                err);
}

static int change_locked(int dfd,
                         const char *config_dir,
                         const char *dir,
                         bool add,
                         bool *ret_changed,
                         pod_error *err) {
        _cleanup_strv_free_ char **dirs = NULL, **kept = NULL;
        struct stat st;
        mode_t mode = 0644;
        int r;

        r = trust_list(&dirs, config_dir, err);
        if (r < 0)
                return r;
        if (fstatat(dfd, TRUST_FILE, &st, AT_SYMLINK_NOFOLLOW) == 0)
                mode = st.st_mode & 07777;
        *ret_changed = add != strv_contains(dirs, dir);
        if (!*ret_changed)
                return 0;
        STRV_FOREACH(d, dirs)
                if (strcmp(*d, dir) != 0 && strv_push(&kept, *d) < 0)
                        return pod_error_oom(err);
        if (add && strv_push(&kept, dir) < 0)
                return pod_error_oom(err);
        return write_list(dfd, kept, mode, err);
}

int trust_change(
        const char *config_dir, const char *dir, bool add, bool *ret_changed, pod_error *err) {
        _cleanup_close_ int dfd = -EBADF, lock = -EBADF;
        bool changed = false;
        int r;

        if (!config_dir || !dir || dir[0] != '/')
                return pod_error_set(err, -EINVAL, "trust needs a config dir and an absolute dir");
        r = mkdir_p(config_dir, 0700);
        if (r < 0)
                return pod_error_set(err, r, "cannot create %s: %s", config_dir, strerror(-r));
        dfd = open(config_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (dfd < 0)
                return pod_error_errno(err, "%s", config_dir);
        lock = openat(dfd, TRUST_LOCK, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
        if (lock < 0 || flock(lock, LOCK_EX) < 0)
                return pod_error_errno(err, "%s/%s", config_dir, TRUST_LOCK);
        r = change_locked(dfd, config_dir, dir, add, &changed, err);
        if (ret_changed)
                *ret_changed = changed;
        return r;
}
