/* SPDX-License-Identifier: MIT */
/*
 * The roots of a pod's scope (docs/sandbox.md "Scope roots"): every allow rule opened once,
 * O_PATH and without following symlinks, when the pod starts, before any command or model
 * can change the tree. Every later ruleset (each Bash command, each child's sandbox) is
 * built from these descriptors, a child's rule opened beneath the spawner's root that holds
 * it, never from a path resolved again: a rule path swapped for a symlink afterwards (to the
 * registry, to the pod's own run dir) grants nothing there. A root whose path no longer
 * names what it named at the start is dropped and reported.
 */
#include <fcntl.h>
#include <linux/openat2.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "sandbox-internal.h"

static int openat2_path(int dfd, const char *path, uint64_t resolve) {
        struct open_how how = { .flags = O_PATH | O_CLOEXEC, .resolve = resolve };
        int fd = (int) syscall(SYS_openat2, dfd, path, &how, sizeof(how));

        return fd < 0 ? -errno : fd;
}

/* A canonical path has no symlink: one on the way now means it was swapped since. */
static void root_open(sandbox_root *root) {
        struct stat st;
        int fd = openat2_path(AT_FDCWD, root->path, RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS);

        if (fd >= 0 && fstat(fd, &st) < 0) {
                int e = errno;
                close(fd);
                fd = -e;
        }
        if (fd < 0) {
                root->fd = -EBADF;
                root->error = fd == -ENOTDIR ? ENOENT : -fd;
                return;
        }
        *root = (sandbox_root){ root->path, root->access,       fd, 0, st.st_dev,
                                st.st_ino,  S_ISDIR(st.st_mode) };
}

int sandbox_roots_open(sandbox_roots **out, const pod_scope *scope, pod_error *err) {
        sandbox_roots *roots = calloc(1, sizeof(*roots));
        size_t n = scope ? scope->n_allow : 0;

        if (!roots || !(roots->v = calloc(n + 1, sizeof(*roots->v)))) {
                free(roots);
                return pod_error_set(err, -ENOMEM, "out of memory");
        }
        for (size_t i = 0; i < n; i++) {
                sandbox_root *root = &roots->v[roots->n];
                root->path = strdup(scope->allow[i].path);
                if (!root->path) {
                        sandbox_roots_free(roots);
                        return pod_error_set(err, -ENOMEM, "out of memory");
                }
                root->access = scope->allow[i].access;
                roots->n++;
                root_open(root);
        }
        *out = roots;
        return 0;
}

sandbox_roots *sandbox_roots_free(sandbox_roots *roots) {
        if (!roots)
                return NULL;
        for (size_t i = 0; i < roots->n; i++) {
                free(roots->v[i].path);
                if (roots->v[i].fd >= 0)
                        close(roots->v[i].fd);
        }
        free(roots->v);
        free(roots);
        return NULL;
}

const sandbox_root *roots_find(const sandbox_roots *roots, const char *path) {
        const sandbox_root *best = NULL;

        for (size_t i = 0; roots && i < roots->n; i++)
                if (path_is_under(path, roots->v[i].path) &&
                    (!best || strlen(roots->v[i].path) > strlen(best->path)))
                        best = &roots->v[i];
        return best;
}

/*
 * One lstat: the object is what matters, not the way to it; the rule itself is built on the
 * descriptor, so a path that reaches the same object through a new symlink grants nothing
 * more. A final symlink is never the object.
 */
bool root_still_named(const sandbox_root *root) {
        struct stat st;

        return root->fd >= 0 && fstatat(AT_FDCWD, root->path, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
                st.st_dev == root->dev && st.st_ino == root->ino;
}

int root_open_beneath(const sandbox_root *root, const char *path) {
        const char *rel = path + strlen(root->path);

        if (root->fd < 0)
                return -root->error;
        while (*rel == '/')
                rel++;
        if (!*rel)
                rel = "."; /* the root itself: a new descriptor of it */
        return openat2_path(root->fd, rel,
                            RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS);
}
