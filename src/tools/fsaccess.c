/* SPDX-License-Identifier: MIT */
/*
 * Scoped file access for the tools (DESIGN §7 "Enforcement"). A requested path is made
 * absolute and lexically normal, then opened with openat2(RESOLVE_BENEATH |
 * RESOLVE_NO_MAGICLINKS) from the directory of the allow rule that contains it, so the
 * kernel refuses any symlink or ".." that would leave that directory. What was opened is
 * then checked against the whole scope by its real path, which catches a symlink into a
 * denied sub-path. Writes never truncate before that check, never follow a final symlink,
 * and refuse files with more than one hard link (another name may lie outside the scope).
 */
#include <assert.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>

#include "tools.h"

static int sys_openat2(int dfd, const char *path, int flags, uint64_t resolve) {
        struct open_how how = { .flags = (uint64_t) (flags | O_CLOEXEC), .resolve = resolve };

        return (int) syscall(SYS_openat2, dfd, path, &how, sizeof(how));
}

int fs_init(
        pod_fs *fs, const pod_scope *scope, const char *cwd, const char *pod_name, pod_error *err) {
        pod_fs f = { 0 };
        int r;

        assert(fs && scope && cwd);
        r = scope_copy(&f.scope, scope, err);
        if (r < 0)
                return r;
        f.cwd = strdup(cwd);
        f.pod_name = strdup(pod_name);
        if (!f.cwd || !f.pod_name) {
                fs_done(&f);
                return pod_error_oom(err);
        }
        *fs = f;
        return 0;
}

void fs_done(pod_fs *fs) {
        scope_done(&fs->scope);
        free(fs->cwd);
        free(fs->pod_name);
        *fs = (pod_fs){ 0 };
}

pod_access fs_access(const pod_fs *fs, const char *real) {
        pod_access a = scope_access_at(&fs->scope, real);

        /* Where a child holds the write lease, the spawner has read only (DESIGN §7). */
        if (a == POD_ACCESS_WRITE && fs->leased && fs->leased(fs->leased_ud, real, NULL))
                return POD_ACCESS_READ;
        return a;
}

static int read_only(const pod_fs *fs, const char *lex, pod_error *err) {
        char holder[POD_NAME_BUF] = "";

        if (fs->leased && fs->leased(fs->leased_ud, lex, holder))
                return pod_error_set(err, -EROFS,
                                     "%s is read only for pod '%s' while its child '%s' holds the "
                                     "write lease there (StopPod returns it)",
                                     lex, fs->pod_name, holder);
        return pod_error_set(
                err, -EROFS,
                "%s is read only for pod '%s': its scope grants read, not write, there", lex,
                fs->pod_name);
}

int fs_lexical(char **out, const pod_fs *fs, const char *path, pod_error *err) {
        _cleanup_buf_ pod_buf in = { 0 }, res = { 0 };
        size_t pos = 0;

        if (!path || !*path)
                return pod_error_set(err, -EINVAL, "the path is empty");
        if (strlen(path) >= PATH_MAX)
                return pod_error_set(err, -ENAMETOOLONG, "the path is too long");
        if (path[0] != '/')
                buf_printf(&in, "%s/", fs->cwd);
        buf_puts(&in, path);
        buf_puts(&res, "/");
        while (!in.oom && pos < in.len) {
                const char *c = in.data + pos;
                size_t n = strcspn(c, "/");
                pos += n + 1;
                if (n == 0 || (n == 1 && c[0] == '.'))
                        continue;
                if (n == 2 && c[0] == '.' && c[1] == '.') {
                        char *slash = strrchr(res.data, '/');
                        res.len = slash == res.data ? 1 : (size_t) (slash - res.data);
                        res.data[res.len] = '\0';
                        continue;
                }
                if (res.len > 1)
                        buf_puts(&res, "/");
                buf_append(&res, c, n);
        }
        if (in.oom || res.oom)
                return pod_error_oom(err);
        if (res.len >= PATH_MAX)
                return pod_error_set(err, -ENAMETOOLONG, "the path is too long");
        *out = buf_steal(&res);
        return 0;
}

int fs_fd_path(char **out, int fd, pod_error *err) {
        char link[64], target[PATH_MAX];
        ssize_t k;

        snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
        k = readlink(link, target, sizeof(target) - 1);
        if (k < 0)
                return pod_error_errno(err, "cannot tell what was opened (%s)", link);
        target[k] = '\0';
        if (target[0] != '/')
                return pod_error_set(err, -EINVAL, "opened something that is not a file (%s)",
                                     target);
        *out = strdup(target);
        return *out ? 0 : pod_error_oom(err);
}

static int out_of_scope(const pod_fs *fs, const char *path, const char *real, pod_error *err) {
        if (real && strcmp(path, real) != 0)
                return pod_error_set(err, -EACCES,
                                     "%s is out of scope for pod '%s' (it resolves to %s)", path,
                                     fs->pod_name, real);
        return pod_error_set(err, -EACCES, "%s is out of scope for pod '%s'", path, fs->pod_name);
}

/* The longest allow rule containing path. */
static const scope_rule *anchor_rule(const pod_fs *fs, const char *path) {
        const scope_rule *best = NULL;

        for (size_t i = 0; i < fs->scope.n_allow; i++) {
                const scope_rule *r = &fs->scope.allow[i];
                if (scope_rule_matches(r, path) && (!best || strlen(r->path) > strlen(best->path)))
                        best = r;
        }
        return best;
}

static int open_error(const pod_fs *fs, const char *path, int e, pod_error *err) {
        switch (e) {
        case ENOENT:
                return pod_error_set(err, -ENOENT, "%s does not exist", path);
        case EXDEV:
        case ELOOP:
                return pod_error_set(err, -EACCES,
                                     "%s is out of scope for pod '%s' (a symlink or '..' leads "
                                     "outside the scope)",
                                     path, fs->pod_name);
        case ENOTDIR:
                return pod_error_set(err, -ENOTDIR,
                                     "%s: a component of the path is not a "
                                     "directory",
                                     path);
        case EACCES:
        case EPERM: /* the scope allowed it: the kernel did not */
                return pod_error_set(err, -e,
                                     "%s: permission denied by the kernel to pod '%s' (the file's "
                                     "permissions, or the kernel sandbox the pod runs in: "
                                     "docs/sandbox.md)",
                                     path, fs->pod_name);
        case ENOSYS:
                return pod_error_set(err, -ENOSYS,
                                     "this kernel lacks openat2(2): pod refuses to open files "
                                     "without it");
        default:
                return pod_error_set(err, -e, "%s: %s", path, strerror(e));
        }
}

/*
 * Open rel beneath the directory of the rule containing path: *ret_anchor is that
 * directory, *ret_rel what remains ("." for the rule's own path). A rule on a file anchors
 * at the file's parent.
 */
static int open_anchor(
        int *ret_anchor, const char **ret_rel, const pod_fs *fs, const char *path, pod_error *err) {
        const scope_rule *r = anchor_rule(fs, path);
        _cleanup_free_ char *parent = NULL;
        int fd;

        if (!r)
                return out_of_scope(fs, path, NULL, err);
        fd = open(r->path, O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (fd >= 0) {
                *ret_anchor = fd;
                if (strcmp(path, r->path) == 0)
                        *ret_rel = ".";
                else
                        *ret_rel = path + strlen(r->path) + (strcmp(r->path, "/") != 0);
                return 0;
        }
        if ((errno != ENOTDIR && errno != ENOENT) || strcmp(path, r->path) != 0)
                return open_error(fs, path, errno, err);
        parent = path_parent(r->path);
        fd = parent ? open(parent, O_PATH | O_DIRECTORY | O_CLOEXEC) : -1;
        if (fd < 0)
                return open_error(fs, path, parent ? errno : ENOMEM, err);
        *ret_anchor = fd;
        *ret_rel = path_basename(path);
        return 0;
}

/* Check the real path of fd against the scope at need; fills *ret_real. */
static int verify(char **ret_real,
                  const pod_fs *fs,
                  int fd,
                  const char *path,
                  pod_access need,
                  pod_error *err) {
        _cleanup_free_ char *real = NULL;
        pod_access have;
        int r = fs_fd_path(&real, fd, err);

        if (r < 0)
                return r;
        have = fs_access(fs, real);
        if (have == POD_ACCESS_NONE)
                return out_of_scope(fs, path, real, err);
        if (have < need)
                return pod_error_set(err, -EROFS, "%s is read only for pod '%s'", path,
                                     fs->pod_name);
        *ret_real = TAKE_PTR(real);
        return 0;
}

int fs_open_read(int *ret_fd,
                 char **ret_real,
                 const pod_fs *fs,
                 const char *path,
                 int flags,
                 pod_error *err) {
        _cleanup_free_ char *lex = NULL, *real = NULL;
        _cleanup_close_ int anchor = -EBADF, fd = -EBADF;
        const char *rel;
        int r;

        r = fs_lexical(&lex, fs, path, err);
        if (r >= 0)
                r = open_anchor(&anchor, &rel, fs, lex, err);
        if (r < 0)
                return r;
        fd = sys_openat2(anchor, rel, flags | O_NONBLOCK | O_NOCTTY,
                         RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS);
        if (fd < 0)
                return open_error(fs, lex, errno, err);
        r = verify(&real, fs, fd, lex, POD_ACCESS_READ, err);
        if (r < 0)
                return r;
        *ret_fd = TAKE_FD(fd);
        if (ret_real)
                *ret_real = TAKE_PTR(real);
        return 0;
}

/* mkdir -p of rel beneath anchor, one component at a time, never through a symlink. */
static int make_dirs(int *ret_fd,
                     const pod_fs *fs,
                     int anchor,
                     const char *lex_dir,
                     const char *rel,
                     pod_error *err) {
        _cleanup_free_ char *copy = strdup(rel);
        _cleanup_close_ int dfd = fcntl(anchor, F_DUPFD_CLOEXEC, 3);
        size_t upto = strlen(lex_dir) - strlen(rel);
        char *save = NULL;

        if (!copy || dfd < 0)
                return pod_error_oom(err);
        for (char *c = strtok_r(copy, "/", &save); c; c = strtok_r(NULL, "/", &save)) {
                char here[PATH_MAX];
                int next;
                upto += strlen(c) + 1;
                snprintf(here, sizeof(here), "%.*s", (int) upto, lex_dir);
                if (strcmp(c, ".") != 0 && mkdirat(dfd, c, 0777) < 0 && errno != EEXIST)
                        return open_error(fs, here, errno, err);
                next = sys_openat2(dfd, c, O_PATH | O_DIRECTORY,
                                   RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS);
                if (next < 0)
                        return open_error(fs, here, errno, err);
                safe_close(dfd);
                dfd = next;
        }
        *ret_fd = TAKE_FD(dfd);
        return 0;
}

static int
open_parent(int *ret_fd, const pod_fs *fs, const char *lex, bool create_dirs, pod_error *err) {
        _cleanup_free_ char *dir = path_parent(lex);
        _cleanup_close_ int anchor = -EBADF;
        const char *rel;
        int r, fd;

        if (!dir)
                return pod_error_oom(err);
        if (!anchor_rule(fs, dir)) {
                /* Only the file itself is granted: its rule anchors at this very parent. */
                r = open_anchor(&anchor, &rel, fs, lex, err);
                if (r < 0)
                        return r;
                if (strcmp(rel, path_basename(lex)) != 0)
                        return pod_error_set(err, -EISDIR, "%s is a directory", lex);
                *ret_fd = TAKE_FD(anchor);
                return 0;
        }
        r = open_anchor(&anchor, &rel, fs, dir, err);
        if (r < 0)
                return r;
        fd = sys_openat2(anchor, rel, O_PATH | O_DIRECTORY,
                         RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS);
        if (fd < 0 && errno == ENOENT && create_dirs && fs_access(fs, dir) == POD_ACCESS_WRITE)
                return make_dirs(ret_fd, fs, anchor, dir, rel, err);
        if (fd < 0)
                return open_error(fs, dir, errno, err);
        *ret_fd = fd;
        return 0;
}

int fs_open_write(int *ret_fd,
                  char **ret_real,
                  const pod_fs *fs,
                  const char *path,
                  bool create_dirs,
                  pod_error *err) {
        _cleanup_free_ char *lex = NULL, *real = NULL, *dir_real = NULL, *target = NULL;
        _cleanup_close_ int parent = -EBADF, fd = -EBADF;
        const char *name;
        struct stat st;
        int r;

        r = fs_lexical(&lex, fs, path, err);
        if (r < 0)
                return r;
        name = path_basename(lex);
        if (!*name)
                return pod_error_set(err, -EISDIR, "%s is a directory", lex);
        if (fs_access(fs, lex) < POD_ACCESS_WRITE)
                return fs_access(fs, lex) == POD_ACCESS_NONE ? out_of_scope(fs, lex, NULL, err) :
                                                               read_only(fs, lex, err);
        r = open_parent(&parent, fs, lex, create_dirs, err);
        if (r >= 0)
                r = fs_fd_path(&dir_real, parent, err);
        if (r < 0)
                return r;
        target = path_join(dir_real, name);
        if (!target)
                return pod_error_oom(err);
        if (fs_access(fs, target) < POD_ACCESS_WRITE)
                return out_of_scope(fs, lex, target, err);
        fd = openat(parent, name,
                    O_WRONLY | O_CREAT | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC, 0666);
        if (fd < 0 && errno == ELOOP)
                return pod_error_set(err, -ELOOP,
                                     "%s is a symlink; pod does not write through "
                                     "symlinks",
                                     lex);
        if (fd < 0)
                return open_error(fs, lex, errno, err);
        if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode))
                return pod_error_set(err, -EINVAL, "%s is not a regular file", lex);
        if (st.st_nlink > 1)
                return pod_error_set(err, -EMLINK,
                                     "%s has %ju hard links; pod does not write a file that may be "
                                     "reachable outside the scope",
                                     lex, (uintmax_t) st.st_nlink);
        r = verify(&real, fs, fd, lex, POD_ACCESS_WRITE, err);
        if (r < 0)
                return r;
        *ret_fd = TAKE_FD(fd);
        if (ret_real)
                *ret_real = TAKE_PTR(real);
        return 0;
}
