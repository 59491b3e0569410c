/* SPDX-License-Identifier: MIT */
/*
 * The one audited path by which a pod starts a process (DESIGN §8 step 5, §14). Everything
 * is prepared in the parent: argv, environment, the descriptors to hand over. The child is
 * started with clone(CLONE_VM | CLONE_VFORK), like posix_spawn, so a parent holding a large
 * heap pays nothing for copying it; between clone and exec the child only makes system
 * calls on memory prepared beforehand: the cgroup joined, signal dispositions reset (those
 * the parent ignores or catches: the rest are the default already), a new session, the
 * parent-death signal, the handoff descriptors moved to 0..n-1 and every other descriptor
 * closed, the working directory, then the confinement hook, then execve. A failure in the
 * child is reported through shared memory and the child exits 127.
 */
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "base.h"

#define CHILD_STACK (64u * 1024u)

typedef struct child_args {
        const proc_plan *p;
        pid_t parent;
        unsigned long long reset; /* bit sig-1: a signal whose disposition is not the default */
        bool direct; /* every handoff descriptor is >= n_fds: dup2 at once */
        int tmp[PROC_FDS_MAX];
        volatile int err; /* errno of the failed step, 0 when exec succeeded */
        volatile int step; /* which step failed */
} child_args;

static const char *const step_names[] = { "exec",
                                          "reset signals",
                                          "new session",
                                          "parent-death signal",
                                          "the parent exited",
                                          "descriptors",
                                          "chdir",
                                          "confinement",
                                          "cgroup" };

int proc_stat_start_time(const char *stat, unsigned long long *ret) {
        /* The command name may hold spaces and parentheses: fields follow the last ')'. */
        const char *p = strrchr(stat, ')');
        unsigned long long v = 0;

        for (int field = 3; p && field <= 22; field++) /* to the space before field 22 */
                p = strchr(p + 1, ' ');
        if (!p || p[1] < '0' || p[1] > '9')
                return -EIO;
        for (p++; *p >= '0' && *p <= '9'; p++)
                v = v * 10 + (unsigned long long) (*p - '0');
        *ret = v;
        return 0;
}

/* This process's start time, with system calls on a buffer of the (child's) stack only. */
static void own_start_time(unsigned long long *ret) {
        char buf[1024];
        int fd = open("/proc/self/stat", O_RDONLY | O_CLOEXEC);
        ssize_t n = fd < 0 ? -1 : read(fd, buf, sizeof(buf) - 1);

        if (fd >= 0)
                close(fd);
        *ret = 0;
        if (n > 0) {
                buf[n] = '\0';
                proc_stat_start_time(buf, ret);
        }
}

static _Noreturn void child_fail(child_args *a, int step, int e) {
        a->step = step;
        a->err = e ? e : EIO;
        _exit(127);
}

static int child_main(void *arg) {
        child_args *a = arg;
        const proc_plan *p = a->p;
        struct sigaction dfl = { .sa_handler = SIG_DFL };
        sigset_t none;
        int n = (int) p->n_fds, keep = p->confine_fd > 0 ? p->confine_fd : -EBADF, e;

        /* Read here, not by the parent: from outside, /proc/<pid>/stat of a process in the
         * middle of exec can keep a sandboxed reader waiting until the exec is over. */
        if (p->start_time)
                own_start_time(p->start_time);
        /* Into the pod's cgroup before anything else (docs/sandbox.md, Containment). */
        if (p->cgroup_fd > 0 && write(p->cgroup_fd, "0", 1) != 1)
                child_fail(a, 8, errno);
        for (int sig = 1; sig < NSIG && sig <= 64; sig++)
                if (a->reset & (1ull << (sig - 1)))
                        sigaction(sig, &dfl, NULL); /* fails harmlessly for reserved ones */
        if (p->new_session && setsid() < 0)
                child_fail(a, 2, errno);
        if (p->pdeathsig) {
                if (prctl(PR_SET_PDEATHSIG, p->pdeathsig) < 0)
                        child_fail(a, 3, errno);
                if (getppid() != a->parent)
                        child_fail(a, 4, ESRCH);
        }
        /* Move each handoff descriptor above the targets first, so none clobbers another
         * (unless all are there already: the usual case, prepared by the parent). */
        for (int i = 0; i < n; i++) {
                a->tmp[i] = a->direct ? p->fds[i] : fcntl(p->fds[i], F_DUPFD_CLOEXEC, n);
                if (a->tmp[i] < 0)
                        child_fail(a, 5, errno);
        }
        for (int i = 0; i < n; i++)
                if (dup2(a->tmp[i], i) < 0)
                        child_fail(a, 5, errno);
        /* Every other descriptor goes; the confinement's own (close-on-exec) stays for it. */
        e = close_all_fds(n, &keep, 1);
        if (e < 0)
                child_fail(a, 5, -e);
        if (p->cwd && chdir(p->cwd) < 0)
                child_fail(a, 6, errno);
        if (p->confine) {
                e = p->confine(p->confine_ud);
                if (e != 0)
                        child_fail(a, 7, e);
        }
        sigemptyset(&none);
        sigprocmask(SIG_SETMASK, &none, NULL);
        execve(p->path, p->argv, p->envp);
        child_fail(a, 0, errno);
}

/* A field of /proc/self/status: a hexadecimal signal mask. */
static bool status_mask(const char *status, const char *field, unsigned long long *ret) {
        const char *line = strstr(status, field);

        return line && sscanf(line + strlen(field), "%llx", ret) == 1;
}

/*
 * The signals this process ignores or catches (SigIgn, SigCgt), and SIGPIPE, which libraries
 * toggle: the child resets those and no others, one system call each. Without /proc, all.
 */
static unsigned long long non_default_signals(void) {
        char buf[4096];
        unsigned long long ign, cgt;
        int fd = open("/proc/self/status", O_RDONLY | O_CLOEXEC);
        ssize_t n = fd < 0 ? -1 : read(fd, buf, sizeof(buf) - 1);

        if (fd >= 0)
                close(fd);
        if (n <= 0)
                return ~0ull;
        buf[n] = '\0';
        if (!status_mask(buf, "\nSigIgn:", &ign) || !status_mask(buf, "\nSigCgt:", &cgt))
                return ~0ull;
        return ign | cgt | 1ull << (SIGPIPE - 1);
}

int proc_spawn(pid_t *ret_pid, const proc_plan *p, pod_error *err) {
        child_args a = { .p = p, .parent = getpid(), .reset = non_default_signals() };
        sigset_t all, old;
        void *stack;
        pid_t pid;
        int e;

        if (p->n_fds > PROC_FDS_MAX)
                return pod_error_set(err, -EINVAL, "too many descriptors to hand over");
        a.direct = true;
        for (size_t i = 0; i < p->n_fds; i++)
                a.direct = a.direct && p->fds[i] >= (int) p->n_fds;
        stack = mmap(NULL, CHILD_STACK, PROT_READ | PROT_WRITE,
                     MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK, -1, 0);
        if (stack == MAP_FAILED)
                return pod_error_set(err, -errno, "cannot start %s: %s", p->path, strerror(errno));
        /* No handler of ours may run in the child while it shares our memory. */
        sigfillset(&all);
        pthread_sigmask(SIG_SETMASK, &all, &old);
        pid = clone(child_main, (char *) stack + CHILD_STACK, CLONE_VM | CLONE_VFORK | SIGCHLD, &a);
        e = errno;
        pthread_sigmask(SIG_SETMASK, &old, NULL);
        munmap(stack, CHILD_STACK);
        if (pid < 0)
                return pod_error_set(err, -e, "cannot start %s: %s", p->path, strerror(e));
        if (a.err) {
                waitpid(pid, NULL, 0);
                return pod_error_set(err, -a.err, "cannot start %s: %s: %s", p->path,
                                     step_names[a.step], strerror(a.err));
        }
        *ret_pid = pid;
        return 0;
}

int proc_wait(pid_t pid, int timeout_ms, int *ret_status) {
        _cleanup_close_ int pidfd = (int) syscall(SYS_pidfd_open, pid, 0);
        int status = 0;
        pid_t r;

        /* The pidfd turns readable when the process exits: no polling loop. */
        if (pidfd >= 0) {
                struct pollfd pfd = { pidfd, POLLIN, 0 };
                while (poll(&pfd, 1, timeout_ms) < 0 && errno == EINTR)
                        ;
        }
        while ((r = waitpid(pid, &status, WNOHANG)) < 0 && errno == EINTR)
                ;
        if (r < 0)
                return -errno;
        if (r == 0)
                return 0;
        if (ret_status)
                *ret_status = status;
        return 1;
}

void proc_kill(pid_t pid, int grace_ms) {
        if (pid <= 0)
                return;
        if (grace_ms > 0) {
                kill(pid, SIGTERM);
                if (proc_wait(pid, grace_ms, NULL) != 0)
                        return;
        }
        kill(pid, SIGKILL);
        while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
                ;
}

int proc_start_time(long pid, unsigned long long *ret) {
        char path[64], buf[4096];
        _cleanup_close_ int fd = -EBADF;
        ssize_t n;

        snprintf(path, sizeof(path), "/proc/%ld/stat", pid);
        fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
                return -errno;
        n = read(fd, buf, sizeof(buf) - 1);
        if (n <= 0)
                return -EIO;
        buf[n] = '\0';
        return proc_stat_start_time(buf, ret);
}
