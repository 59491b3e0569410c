/* SPDX-License-Identifier: MIT */
/*
 * Descriptors: a close that catches a double close, a pipe's two ends closed at once, and
 * the one place that knows how to close every descriptor but a few before an exec. "No fd"
 * is -EBADF throughout.
 */
#include <assert.h>
#include <sys/syscall.h>

#include "base.h"

int safe_close(int fd) {
        if (fd >= 0) {
                int saved = errno, r = close(fd);
                /* EBADF means this descriptor was closed already, or never opened: a double
                 * close, which in a threaded process may have closed someone else's file. */
                assert(!(r < 0 && errno == EBADF));
                (void) r;
                errno = saved;
        }
        return -EBADF;
}

void safe_close_pair(int p[2]) {
        p[0] = safe_close(p[0]);
        p[1] = safe_close(p[1]);
}

/* close_range(2) from first to last; -errno on failure. */
static int close_span(unsigned first, unsigned last) {
        if (first > last)
                return 0;
        return syscall(SYS_close_range, first, last, 0) < 0 ? -errno : 0;
}

int close_all_fds(int from, const int *except, size_t n_except) {
        unsigned next = from < 0 ? 0 : (unsigned) from;

        /* Async-signal-safe: no allocation, no sort; the list is short. Each round closes up
         * to the smallest exception still ahead and steps over it. */
        for (;;) {
                unsigned keep = ~0U;
                int r;
                for (size_t i = 0; i < n_except; i++)
                        if (except[i] >= 0 && (unsigned) except[i] >= next &&
                            (unsigned) except[i] < keep)
                                keep = (unsigned) except[i];
                if (keep == ~0U)
                        return close_span(next, ~0U);
                r = keep > next ? close_span(next, keep - 1) : 0;
                if (r < 0)
                        return r;
                next = keep + 1;
        }
}
