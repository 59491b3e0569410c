/* SPDX-License-Identifier: MIT */
/* Bounded reading of whole files: every file pod reads from a user is size-limited. */
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>

#include "base.h"

static int read_all(int fd, char *buf, size_t max, size_t *ret_len) {
        size_t len = 0;

        /* Read one byte past max so a file that grew since fstat() is still caught. */
        while (len <= max) {
                ssize_t k = read(fd, buf + len, max + 1 - len);
                if (k < 0) {
                        if (errno == EINTR)
                                continue;
                        return -errno;
                }
                if (k == 0)
                        break;
                len += (size_t) k;
        }
        *ret_len = len;
        return 0;
}

int file_read_bounded(
        char **ret, size_t *ret_len, int dirfd, const char *path, size_t max, pod_error *err) {
        _cleanup_close_ int fd = -EBADF;
        _cleanup_free_ char *buf = NULL;
        struct stat st;
        size_t len = 0, lim;
        int r;

        fd = openat(dirfd, path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
        if (fd < 0) {
                if (errno == ELOOP)
                        return pod_error_set(err, -ELOOP, "%s: symlink loop", path);
                return pod_error_errno(err, "%s", path);
        }
        if (fstat(fd, &st) < 0)
                return pod_error_errno(err, "%s", path);
        if (S_ISDIR(st.st_mode))
                return pod_error_set(err, -EISDIR, "%s: is a directory, not a file", path);
        if (!S_ISREG(st.st_mode))
                return pod_error_set(err, -EINVAL, "%s: not a regular file", path);
        if ((uint64_t) st.st_size > max)
                return pod_error_set(err, -EFBIG, "%s: file is %jd bytes, over the %zu byte limit",
                                     path, (intmax_t) st.st_size, max);
        /* Size the buffer by what fstat() saw; a file that grows past it is caught below. */
        lim = (size_t) st.st_size;
        buf = malloc(lim + 2);
        if (!buf)
                return pod_error_oom(err);
        r = read_all(fd, buf, lim, &len);
        if (r < 0)
                return pod_error_set(err, r, "%s: %s", path, strerror(-r));
        if (len > lim)
                return pod_error_set(err, -EAGAIN, "%s: file changed while it was read", path);
        buf[len] = '\0';
        *ret = TAKE_PTR(buf);
        if (ret_len)
                *ret_len = len;
        return 0;
}

int fd_read_bounded(char **ret, size_t *ret_len, int fd, size_t max) {
        pod_buf b = { 0 };
        char chunk[65536];

        for (;;) {
                ssize_t k = read(fd, chunk, sizeof(chunk));
                if (k < 0 && errno == EINTR)
                        continue;
                if (k < 0) {
                        buf_done(&b);
                        return -errno;
                }
                if (k == 0)
                        break;
                if (b.len + (size_t) k > max) {
                        buf_done(&b);
                        return -EFBIG;
                }
                if (buf_append(&b, chunk, (size_t) k) < 0)
                        return -ENOMEM;
        }
        if (ret_len)
                *ret_len = b.len;
        *ret = buf_steal(&b);
        return *ret ? 0 : -ENOMEM;
}

int mkdir_p(const char *path, mode_t mode) {
        _cleanup_free_ char *p = strdup(path);

        if (!p)
                return -ENOMEM;
        if (p[0] != '/')
                return -EINVAL;
        /* Usually there already, or only the last part missing: one call. */
        if (mkdir(p, mode) == 0 || errno == EEXIST)
                return 0;
        if (errno != ENOENT)
                return -errno;
        for (char *s = p + 1;; s++) {
                char c = *s;
                if (c != '/' && c != '\0')
                        continue;
                *s = '\0';
                if (mkdir(p, mode) < 0 && errno != EEXIST)
                        return -errno;
                *s = c;
                if (!c)
                        return 0;
        }
}

long long mono_ms(void) {
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (long long) ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Until deadline: fd has events. 0, -ETIMEDOUT or a negative errno. */
static int wait_for(int fd, short events, long long deadline) {
        struct pollfd p = { fd, events, 0 };

        for (;;) {
                long long left = deadline - mono_ms();
                int n = left > 0 ? poll(&p, 1, (int) (left > INT_MAX ? INT_MAX : left)) : 0;
                if (n > 0)
                        return 0;
                if (n == 0)
                        return -ETIMEDOUT;
                if (errno != EINTR)
                        return -errno;
        }
}

int fd_read_more(pod_buf *b, int fd, long long deadline) {
        char chunk[4096];
        ssize_t k;
        int r = wait_for(fd, POLLIN, deadline);

        if (r < 0)
                return r;
        k = read(fd, chunk, sizeof(chunk));
        if (k == 0)
                return -EPIPE;
        if (k < 0)
                return errno == EINTR || errno == EAGAIN ? 0 : -errno;
        buf_append(b, chunk, (size_t) k);
        return b->oom ? -ENOMEM : (int) k;
}

int fd_send_all(int fd, const char *p, size_t n, long long deadline) {
        while (n > 0) {
                ssize_t k = send(fd, p, n, MSG_NOSIGNAL | MSG_DONTWAIT);
                if (k > 0) {
                        p += k;
                        n -= (size_t) k;
                        continue;
                }
                if (k < 0 && errno != EAGAIN && errno != EINTR)
                        return -errno;
                k = wait_for(fd, POLLOUT, deadline);
                if (k < 0)
                        return (int) k;
        }
        return 0;
}
