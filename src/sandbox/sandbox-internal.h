/* SPDX-License-Identifier: MIT */
#pragma once

/* Shared by the kernel sandbox's files (sandbox.c, sandbox-roots.c). */

#include <linux/filter.h>
#include <sys/stat.h>

#include "sandbox.h"

/* One allow rule of a pod's scope, opened when the pod started. */
typedef struct sandbox_root {
        char *path; /* canonical, as the scope names it */
        pod_access access; /* for messages */
        int fd; /* O_PATH; -EBADF when it could not be opened */
        int error; /* why not: 0 (opened), ENOENT (nothing there), or another errno */
        dev_t dev;
        ino_t ino;
        bool dir;
} sandbox_root;

struct sandbox_roots {
        sandbox_root *v;
        size_t n;
};

/* The root at or above path with the longest path; NULL: none. */
const sandbox_root *roots_find(const sandbox_roots *roots, const char *path);
/* Does the root's path, looked up again, still name the object opened at the start? */
bool root_still_named(const sandbox_root *root);
/*
 * Open path (at or beneath root->path) relative to the root's descriptor, O_PATH, beneath it
 * and without following any symlink: a descriptor, or -errno (-ELOOP, -EXDEV: a symlink or
 * ".." on the way; -ENOENT: nothing there).
 */
int root_open_beneath(const sandbox_root *root, const char *path);

struct pod_sandbox {
        int abi; /* the Landlock ABI in use */
        int ruleset_fd; /* close-on-exec, >= 64 */
        struct sock_fprog prog; /* the seccomp filter */
        struct sock_filter *filter;
        unsigned long nproc; /* the RLIMIT_NPROC to set */
        uint64_t fsize; /* the RLIMIT_FSIZE to set; 0: none */
};
