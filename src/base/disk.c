/* SPDX-License-Identifier: MIT */
/*
 * What a directory holds on disk, measured and emptied without following a symlink and
 * within bounds, for a directory a hostile command may fill (a pod's private TMPDIR). A
 * directory the command made unreadable or unwritable to its owner gets rwx for its owner
 * back first (the caller owns what its commands made; chmod goes through the descriptor's
 * /proc/self/fd link, which names that directory and no other). Emptying never holds more
 * than DIR_DEPTH_MAX directories open: a subdirectory deeper than that is moved up to the
 * top and emptied from there.
 */
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "base.h"

#define DIR_DEPTH_MAX 64

typedef struct walk {
        uint64_t bytes;
        size_t entries, max_entries;
        bool empty; /* remove what is walked */
        int top; /* the directory being emptied: deep ones are moved here */
        unsigned moved; /* names for them */
        bool again; /* something was moved up: walk once more */
} walk;

static bool dot_or_dotdot(const char *n) {
        return n[0] == '.' && (n[1] == '\0' || (n[1] == '.' && n[2] == '\0'));
}

/* dirfd/name, a directory (never through a symlink), opened for reading, with rwx for its
 * owner. A descriptor or a negative errno. */
static int open_dir(int dirfd, const char *name) {
        _cleanup_close_ int path =
                openat(dirfd, name, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        char proc[64];
        struct stat st;
        int fd;

        if (path < 0 || fstat(path, &st) < 0)
                return -errno;
        if ((st.st_mode & 0700) != 0700) {
                snprintf(proc, sizeof(proc), "/proc/self/fd/%d", path);
                if (chmod(proc, (st.st_mode & 07777) | 0700) < 0)
                        return -errno;
        }
        fd = openat(path, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        return fd < 0 ? -errno : fd;
}

static int walk_dir(walk *w, int fd, unsigned depth);

/* Move a directory too deep to walk from here up to the top, to be walked from there. */
static int move_up(walk *w, int dirfd, const char *name) {
        char to[64];

        snprintf(to, sizeof(to), ".pod-deep-%u", w->moved++);
        if (renameat2(dirfd, name, w->top, to, RENAME_NOREPLACE) < 0)
                return -errno;
        w->again = true;
        return 0;
}

static int walk_entry(walk *w, int dirfd, const char *name, unsigned depth) {
        struct stat st;
        int r;

        if (++w->entries > w->max_entries)
                return -E2BIG;
        if (fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
                return errno == ENOENT ? 0 : -errno;
        w->bytes += (uint64_t) st.st_blocks * 512;
        if (S_ISDIR(st.st_mode)) {
                if (depth >= DIR_DEPTH_MAX)
                        return w->empty ? move_up(w, dirfd, name) : -ELOOP;
                r = open_dir(dirfd, name);
                if (r >= 0)
                        r = walk_dir(w, r, depth + 1);
                if (r < 0)
                        return r;
        }
        if (w->empty && unlinkat(dirfd, name, S_ISDIR(st.st_mode) ? AT_REMOVEDIR : 0) < 0 &&
            errno != ENOENT)
                return -errno;
        return 0;
}

/* Walk what fd (taken) holds. */
static int walk_dir(walk *w, int fd, unsigned depth) {
        DIR *d = fdopendir(fd);
        struct dirent *de;
        int r = 0;

        if (!d) {
                r = -errno;
                safe_close(fd);
                return r;
        }
        while (r >= 0) {
                errno = 0;
                de = readdir(d);
                if (!de) {
                        r = -errno;
                        break;
                }
                if (!dot_or_dotdot(de->d_name))
                        r = walk_entry(w, dirfd(d), de->d_name, depth);
        }
        closedir(d);
        return r;
}

int dir_disk_usage(uint64_t *ret, int dirfd, const char *path, size_t max_entries) {
        walk w = { .max_entries = max_entries, .top = -1 };
        int fd = open_dir(dirfd, path), r;

        if (fd < 0)
                return fd;
        r = walk_dir(&w, fd, 1);
        if (r < 0)
                return r;
        *ret = w.bytes;
        return 0;
}

int dir_empty(int dirfd, const char *path) {
        _cleanup_close_ int top = open_dir(dirfd, path);
        walk w = { .max_entries = SIZE_MAX, .empty = true, .top = top, .again = true };
        int r = 0;

        if (top < 0)
                return top;
        while (r >= 0 && w.again) {
                int fd = openat(top, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
                w.again = false;
                r = fd < 0 ? -errno : walk_dir(&w, fd, 1);
        }
        return r;
}
