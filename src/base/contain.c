/* SPDX-License-Identifier: MIT */
/*
 * Containment (DESIGN §14, docs/sandbox.md): every process a pod starts stays the pod's to
 * end. A Bash command can leave its process group (setsid) and double-fork, so killing the
 * group misses it, and it keeps the sandbox, write rights included, of the command that
 * started it. So a pod is a child subreaper: an orphaned descendant becomes the pod's child,
 * not init's. At set points (a command ended, a write lease is about to be granted or has
 * come back, the pod ends) the pod walks its descendants, from each of its threads' children
 * down (/proc/<pid>/task/<tid>/children), leaving out the processes it keeps (its live child
 * pods, each a subreaper for its own, and the shell started ahead), kills the rest with
 * SIGKILL in rounds until none is left (a straggler that forks makes new ones), and reaps
 * the zombies it inherited, by their pid only, so no child pod's or command's exit status is
 * taken. Each kill goes through a pidfd checked against the start time the walk saw, so a
 * pid used again by another process is never signalled.
 */
#include <dirent.h>
#include <fcntl.h>
#include <linux/landlock.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "base.h"

typedef struct found {
        pid_t pid, ppid, pgrp, session;
        unsigned long long start;
        char state;
        int threads;
        char comm[16];
} found;

/*
 * Still running: not a zombie, or one whose first thread exited while others run on (it
 * shows 'Z' and more than one thread).
 */
static bool running(const found *f) {
        return (f->state != 'Z' && f->state != 'X') || f->threads > 1;
}

typedef struct walk {
        found *v; /* this round's descendants */
        size_t n, cap;
        const pid_t *keep;
        size_t n_keep;
        pid_t *keep_pgrp; /* the process groups of this process and the kept ones */
        size_t n_keep_pgrp;
        bool full; /* POD_CONTAIN_WALK_MAX reached */
        found *sent; /* every process signalled, across rounds: each is counted once */
        size_t n_sent, cap_sent;
} walk;

static void cg_backstop(walk *w, pod_stragglers *report);
static bool cg_per_child(void);

int contain_self(pod_error *err) {
        char path[64];

        /* Without the children lists, a walk would find nothing and end nothing: refuse. */
        snprintf(path, sizeof(path), "/proc/%d/task/%d/children", (int) getpid(), (int) getpid());
        if (access(path, R_OK) < 0)
                return pod_error_set(err, -errno,
                                     "cannot read %s (%s): pod needs the kernel's children lists "
                                     "(CONFIG_PROC_CHILDREN) to end what commands leave running",
                                     path, strerror(errno));
        /* Before any command or child starts: an orphan of one of them is reparented to the
         * nearest subreaper among its ancestors, and only from then on is that this pod. */
        if (prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) < 0)
                return pod_error_set(err, -errno, "cannot become a child subreaper: %s",
                                     strerror(errno));
        return 0;
}

/* pid, ppid, state, command name and start time from /proc/<pid>/stat. */
static int read_stat(found *out, pid_t pid) {
        char path[64], buf[1024];
        const char *open_paren, *close_paren;
        int fd, ppid, pgrp, session, threads;
        ssize_t n;
        char state;

        snprintf(path, sizeof(path), "/proc/%d/stat", (int) pid);
        fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
                return -errno;
        n = read(fd, buf, sizeof(buf) - 1);
        close(fd);
        if (n <= 0)
                return -EIO;
        buf[n] = '\0';
        /* The command name may hold anything, parentheses too: it ends at the last ')'. */
        open_paren = strchr(buf, '(');
        close_paren = strrchr(buf, ')');
        if (!open_paren || !close_paren || close_paren < open_paren ||
            sscanf(close_paren + 1,
                   " %c %d %d %d %*d %*d %*u %*u %*u %*u %*u %*u %*u %*d %*d %*d %*d %d", &state,
                   &ppid, &pgrp, &session, &threads) != 5) /* fields 3 to 6 and 20 */
                return -EIO;
        *out = (found){ .pid = pid,
                        .ppid = ppid,
                        .pgrp = pgrp,
                        .session = session,
                        .state = state,
                        .threads = threads };
        if (proc_stat_start_time(buf, &out->start) < 0)
                return -EIO;
        n = close_paren - open_paren - 1;
        if (n > (ssize_t) sizeof(out->comm) - 1)
                n = sizeof(out->comm) - 1;
        for (ssize_t i = 0; i < n; i++) /* the model names its processes: printable only */
                out->comm[i] = open_paren[1 + i] >= 0x20 && open_paren[1 + i] < 0x7f ?
                        open_paren[1 + i] :
                        '?';
        return 0;
}

static bool kept(const walk *w, pid_t pid) {
        for (size_t i = 0; i < w->n_keep; i++)
                if (w->keep[i] == pid)
                        return true;
        return false;
}

static void add(walk *w, pid_t pid, pid_t parent) {
        found f;

        if (w->n >= POD_CONTAIN_WALK_MAX) {
                w->full = true;
                return;
        }
        /* Gone, or no longer the child of the process it was listed under: the next round
         * sees where it went. */
        if (kept(w, pid) || pid == getpid() || read_stat(&f, pid) < 0 ||
            (parent && f.ppid != parent))
                return;
        if (w->n == w->cap) {
                size_t cap = w->cap ? 2 * w->cap : 64;
                found *v = realloc(w->v, cap * sizeof(*v));
                if (!v) {
                        w->full = true;
                        return;
                }
                w->v = v;
                w->cap = cap;
        }
        w->v[w->n++] = f;
}

/*
 * The pids listed in fd (closed here), children of pid (0: of any process). For the children
 * of one thread: "pid pid ..." in /proc/<pid>/task/<tid>/children, read in
 * chunks however long (a fork bomb's list is). A list that changes between two reads may
 * skip an entry; the next round sees it. The round that ends the kill finds this process's
 * lists holding only kept processes: short, each read at once.
 */
static void add_listed(walk *w, int fd, pid_t pid) {
        char chunk[4096];
        long number = 0;
        bool digits = false;
        ssize_t n;

        while (!w->full && (n = read(fd, chunk, sizeof(chunk))) > 0)
                for (ssize_t i = 0; i < n; i++) {
                        if (chunk[i] >= '0' && chunk[i] <= '9') {
                                if (number < (1L << 30)) /* pids are below 2^22 */
                                        number = number * 10 + (chunk[i] - '0');
                                digits = true;
                                continue;
                        }
                        if (digits && number > 0)
                                add(w, (pid_t) number, pid);
                        number = 0;
                        digits = false;
                }
        if (digits && number > 0)
                add(w, (pid_t) number, pid);
        close(fd);
}

static void add_children_of_task(walk *w, pid_t pid, const char *tid) {
        char path[320];
        int fd;

        snprintf(path, sizeof(path), "/proc/%d/task/%s/children", (int) pid, tid);
        fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd >= 0) /* otherwise the thread, or the process, has gone */
                add_listed(w, fd, pid);
}

static int add_children(walk *w, pid_t pid) {
        char path[64];
        struct dirent *de;
        DIR *d;

        snprintf(path, sizeof(path), "/proc/%d/task", (int) pid);
        d = opendir(path);
        if (!d)
                return -errno;
        while ((de = readdir(d)) && !w->full)
                if (de->d_name[0] != '.')
                        add_children_of_task(w, pid, de->d_name);
        closedir(d);
        return 0;
}

/* This process's descendants but the kept ones and theirs, parents before children. */
static int walk_descendants(walk *w) {
        int r = add_children(w, getpid());

        if (r < 0)
                return r;
        for (size_t i = 0; i < w->n && !w->full; i++)
                add_children(w, w->v[i].pid);
        return 0;
}

/* A process killed: counted once, however many rounds it takes to die; the first listed. */
static void note(walk *w, pod_stragglers *report, const found *f) {
        for (size_t i = 0; i < w->n_sent; i++)
                if (w->sent[i].pid == f->pid && w->sent[i].start == f->start)
                        return;
        if (w->n_sent == w->cap_sent) {
                size_t cap = w->cap_sent ? 2 * w->cap_sent : 16;
                found *v = realloc(w->sent, cap * sizeof(*v));
                if (!v)
                        return; /* counted again next round, at worst */
                w->sent = v;
                w->cap_sent = cap;
        }
        w->sent[w->n_sent++] = *f;
        report->killed++;
        if (report->n_listed < POD_STRAGGLERS_LISTED) {
                report->listed[report->n_listed].pid = f->pid;
                memcpy(report->listed[report->n_listed].comm, f->comm, sizeof(f->comm));
                report->n_listed++;
        }
}

/* SIGKILL through a pidfd, once the pidfd is known to name the process the walk saw. */
static bool kill_found(const found *f) {
        int fd = (int) syscall(SYS_pidfd_open, f->pid, 0);
        found now;
        bool done = false;

        if (fd < 0)
                return false;
        if (read_stat(&now, f->pid) == 0 && now.start == f->start)
                done = syscall(SYS_pidfd_send_signal, fd, SIGKILL, NULL, 0) == 0;
        close(fd);
        return done;
}

/*
 * A straggler's process group, killed whole: a command starts in a session and group of its
 * own, and what it forks stays in that group unless it leaves it, so one kill(-pgrp) ends a
 * chain of processes that each fork and exit, which outrun a walk that kills them one by
 * one (the kernel makes a fork that races a group's signal start again). Never the group
 * of this process or of a kept one (a child pod, the shell started ahead), and only a
 * group that leads its session, as a command's does.
 */
static bool kill_group(const walk *w, const found *f) {
        if (!w->keep_pgrp || f->pgrp <= 1 || f->pgrp != f->session)
                return false;
        for (size_t i = 0; i < w->n_keep_pgrp; i++)
                if (w->keep_pgrp[i] == f->pgrp)
                        return false;
        return kill(-f->pgrp, SIGKILL) == 0;
}

/* The process groups kill_group() spares: this process's and each kept process's. */
static void keep_groups(walk *w) {
        w->keep_pgrp = calloc(w->n_keep + 1, sizeof(*w->keep_pgrp));
        if (!w->keep_pgrp)
                return; /* no group is killed: one by one only */
        w->keep_pgrp[w->n_keep_pgrp++] = getpgrp();
        for (size_t i = 0; i < w->n_keep; i++) {
                pid_t g = getpgid(w->keep[i]);
                if (g > 0)
                        w->keep_pgrp[w->n_keep_pgrp++] = g;
        }
}

/* Reap an exited child of this process by its pid, if it is one (whatever signal it sent). */
static void reap_now(pid_t pid) {
        while (waitpid(pid, NULL, WNOHANG | __WALL) < 0 && errno == EINTR)
                ;
}

/* One round: kill the living, reap this process's dead. Returns how many were alive. */
static unsigned round_once(walk *w, pod_stragglers *report) {
        unsigned alive = 0;
        bool killed;
        pid_t self = getpid();

        for (size_t i = 0; i < w->n; i++) {
                const found *f = &w->v[i];
                if (!running(f)) {
                        /* Only an inherited orphan: kept processes are never walked.
                         * __WALL: whatever signal it was to send at its end. */
                        if (f->ppid == self)
                                reap_now(f->pid);
                        continue;
                }
                alive++;
                killed = kill_found(f);
                if (kill_group(w, f) || killed) /* its group, whole: then it too is gone */
                        note(w, report, f);
        }
        return alive;
}

/*
 * Orphans reaped as they die. A subreaper adopts what its descendants leave, and their zombies
 * stay until it waits for them: a chain of processes that fork and exit would fill the
 * process table with them between two kills. Every child this pod starts itself (a command,
 * the shell started ahead, a child pod) leads a session of its own, and a command may not
 * start one (setsid is refused by its filter), so a zombie child that leads no session is
 * an adopted orphan: reaped here, by its pid, never a status another part of the pod waits
 * for.
 */
static void reap_orphans(void) {
        siginfo_t si = { 0 };
        walk w = { 0 };

        /* No zombie child at all, the common case: one system call, no walk. */
        if (waitid(P_ALL, 0, &si, WEXITED | WNOHANG | WNOWAIT | __WALL) < 0 || si.si_pid == 0)
                return;
        if (add_children(&w, getpid()) == 0)
                for (size_t i = 0; i < w.n; i++)
                        if (!running(&w.v[i]) && w.v[i].session != w.v[i].pid)
                                reap_now(w.v[i].pid);
        free(w.v);
}

static void *reaper_main(void *ud) {
        struct timespec tick = { 0, POD_REAP_INTERVAL_MS * 1000 * 1000 };

        (void) ud;
        for (;;) {
                nanosleep(&tick, NULL);
                reap_orphans();
        }
        return NULL;
}

static void reaper_start_once(void) {
        pthread_attr_t attr;
        sigset_t all, old;
        pthread_t th;

        sigfillset(&all);
        pthread_sigmask(SIG_SETMASK, &all, &old); /* the reaper takes no signal */
        if (pthread_attr_init(&attr) == 0) {
                pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
                pthread_attr_setstacksize(&attr, 64 * 1024);
                pthread_create(&th, &attr, reaper_main, NULL);
                pthread_attr_destroy(&attr);
        }
        pthread_sigmask(SIG_SETMASK, &old, NULL);
}

void contain_reaper_start(void) {
        static pthread_once_t once = PTHREAD_ONCE_INIT;

        pthread_once(&once, reaper_start_once);
}

int contain_kill(pod_stragglers *report, const pid_t *keep, size_t n_keep) {
        struct timespec tick = { 0, 2 * 1000 * 1000 };
        walk w = { .keep = keep, .n_keep = n_keep };
        unsigned alive = 0;
        int r = 0;

        keep_groups(&w);
        for (unsigned round = 0; round < POD_CONTAIN_ROUNDS; round++) {
                w.n = 0;
                w.full = false;
                r = walk_descendants(&w);
                if (r < 0)
                        break;
                alive = round_once(&w, report);
                if (w.n == 0)
                        break;
                if (alive)
                        nanosleep(&tick, NULL); /* SIGKILL is delivered; dying takes a moment */
        }
        if (r < 0) {
                free(w.v);
                free(w.sent);
                free(w.keep_pgrp);
                report->error = r;
                return r;
        }
        report->left += w.n ? alive : 0;
        cg_backstop(&w, report);
        free(w.v);
        free(w.sent);
        free(w.keep_pgrp);
        return 0;
}

void contain_describe(pod_buf *b, const pod_stragglers *s, const char *by) {
        if (s->killed) {
                buf_printf(b, "[killed %u process%s left running by %s: ", s->killed,
                           s->killed == 1 ? "" : "es", by);
                for (unsigned i = 0; i < s->n_listed; i++)
                        buf_printf(b, "%spid %d (%s)", i ? ", " : "", (int) s->listed[i].pid,
                                   s->listed[i].comm);
                if (s->killed > s->n_listed)
                        buf_printf(b, ", and %u more", s->killed - s->n_listed);
                buf_puts(b, "]\n");
        }
        if (s->left)
                buf_printf(b, "[%u process%s left running by %s outlived %u rounds of SIGKILL]\n",
                           s->left, s->left == 1 ? "" : "es", by, POD_CONTAIN_ROUNDS);
        if (s->error)
                buf_printf(b, "[cannot look for processes left running by %s: %s]\n", by,
                           strerror(-s->error));
}

/* ---- a cgroup v2 subtree per pod, where the pod can have one ---------------------------- */

/*
 * The tree (docs/sandbox.md, Containment): a top-level pod makes <its cgroup>/pod-<name>-<pid>
 * (P) and moves itself into P/self, where its commands start too; each child pod gets
 * P/pod-<child> from its spawner, with the limits, and joins its self between clone and exec
 * (proc_plan.cgroup_fd). Processes sit in leaves only ("self"), so P may hand the pids and
 * memory controllers down. Without one (no cgroup2, not delegated, a spawner without one),
 * the pod says why on its stderr and the subreaper walk is all there is.
 */
static struct {
        int dir; /* P, O_DIRECTORY; -1: none */
        int back; /* a top-level pod's way out at its end: <its cgroup>/cgroup.procs */
        char path[3328]; /* P, for the Landlock rule of the pod and of each child */
        char up[3200]; /* a top-level pod: the cgroup P was made in (P's removal) */
        char rel[2200]; /* P below the cgroup2 root, for a child's POD_CGROUP */
        char why[512]; /* why there is none, or what it lacks */
        char swept[512]; /* what the cgroups of earlier pods held */
        pod_cgroup_limits lim;
} cg = { .dir = -1, .back = -1 };

static int parse_limit(char out[24],
                       const char *name,
                       const char *v,
                       uint64_t lo,
                       uint64_t hi,
                       bool suffix,
                       pod_error *err) {
        unsigned long long n;
        uint64_t mult = 1;
        char *end;

        if (strcmp(v, "max") == 0) {
                snprintf(out, 24, "max");
                return 0;
        }
        errno = 0;
        n = strlen(v) <= 20 && v[0] >= '0' && v[0] <= '9' ? strtoull(v, &end, 10) : 0;
        if (n && errno == 0 && suffix && *end && !end[1]) {
                const char *units = "KMGT", *u = strchr(units, *end);
                mult = u && *end ? 1ULL << (10 * (u - units + 1)) : 0;
                end += mult != 0;
        }
        if (!n || errno || *end || n > hi / mult || n * mult < lo)
                return pod_error_set(
                        err, -EINVAL, "%s: '%.24s' is not %s from %llu to %llu%s, or max", name, v,
                        suffix ? "a size in bytes (or with K, M, G or T)" : "a whole number",
                        (unsigned long long) lo, (unsigned long long) hi, suffix ? " bytes" : "");
        snprintf(out, 24, "%llu", (unsigned long long) (n * mult));
        return 0;
}

int contain_limits_from_env(pod_cgroup_limits *ret, char *const *envp, pod_error *err) {
        const char *pids = env_get(envp, "POD_PIDS_MAX"), *mem = env_get(envp, "POD_MEMORY_MAX");

        if (parse_limit(ret->pids, "POD_PIDS_MAX", pids && *pids ? pids : POD_PIDS_MAX_DEFAULT, 1,
                        4194304, false, err) < 0 ||
            parse_limit(ret->memory, "POD_MEMORY_MAX", mem && *mem ? mem : POD_MEMORY_MAX_DEFAULT,
                        1ULL << 20, 1ULL << 50, true, err) < 0)
                return -EINVAL;
        ret->set = (pids && *pids) || (mem && *mem);
        return 0;
}

/* Write text to the file name beneath dir: 0 or a negative errno. */
static int cg_write(int dir, const char *name, const char *text) {
        int fd = openat(dir, name, O_WRONLY | O_CLOEXEC | O_NOFOLLOW);
        ssize_t n;
        int e;

        if (fd < 0)
                return -errno;
        n = write(fd, text, strlen(text));
        e = errno;
        close(fd);
        return n == (ssize_t) strlen(text) ? 0 : n < 0 ? -e : -EIO;
}

/* The file name beneath dir, NUL-terminated, at most size - 1 bytes. */
static int cg_read(int dir, const char *name, char *buf, size_t size) {
        int fd = openat(dir, name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
        ssize_t n;

        if (fd < 0)
                return -errno;
        n = read(fd, buf, size - 1);
        close(fd);
        if (n < 0)
                return -errno;
        buf[n] = '\0';
        return 0;
}

/* Whether word is one of the space-separated words of list. */
static bool has_word(const char *list, const char *word) {
        size_t n = strlen(word);

        for (const char *p = strstr(list, word); p; p = strstr(p + 1, word))
                if ((p == list || p[-1] == ' ') && (p[n] == ' ' || p[n] == '\n' || !p[n]))
                        return true;
        return false;
}

/* The mount point of cgroup2 whose root is "/" (octal escapes undone), from mountinfo. */
static int cgroup2_mount(char *out, size_t size) {
        _cleanup_free_ char *text = NULL;
        _cleanup_close_ int fd = open("/proc/self/mountinfo", O_RDONLY | O_CLOEXEC);
        char *save = NULL;
        size_t len;

        if (fd < 0 || fd_read_bounded(&text, &len, fd, 1u << 22) < 0)
                return -EIO;
        for (char *l = strtok_r(text, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
                char root[8], point[4096];
                const char *dash = strstr(l, " - ");
                size_t o = 0;
                if (!dash || strncmp(dash, " - cgroup2 ", 11) != 0 ||
                    sscanf(l, "%*s %*s %*s %7s %4095s", root, point) != 2 || strcmp(root, "/") != 0)
                        continue;
                for (const char *p = point; *p && o + 1 < size; p++)
                        if (p[0] == '\\' && p[1] >= '0' && p[1] <= '3' && p[2] && p[3]) {
                                out[o++] = (char) ((p[1] - '0') * 64 + (p[2] - '0') * 8 +
                                                   (p[3] - '0'));
                                p += 3;
                        } else
                                out[o++] = *p;
                out[o] = '\0';
                return 0;
        }
        return -ENOENT;
}

/* This process's cgroup v2 path ("0::<path>" in /proc/self/cgroup). */
static int own_cgroup(char *out, size_t size) {
        char buf[8192];
        int fd = open("/proc/self/cgroup", O_RDONLY | O_CLOEXEC);
        ssize_t n = fd < 0 ? -1 : read(fd, buf, sizeof(buf) - 1);
        const char *line, *end;

        if (fd >= 0)
                close(fd);
        if (n <= 0)
                return -EIO;
        buf[n] = '\0';
        line = strncmp(buf, "0::", 3) == 0 ? buf : strstr(buf, "\n0::");
        if (!line)
                return -ENOENT;
        line += line[0] == '\n' ? 4 : 3;
        end = strchrnul(line, '\n');
        if (*line != '/' || (size_t) (end - line) >= size)
                return -ENOENT;
        memcpy(out, line, (size_t) (end - line));
        out[end - line] = '\0';
        return 0;
}

static void cg_none(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void cg_none(const char *fmt, ...) {
        va_list ap;

        va_start(ap, fmt);
        vsnprintf(cg.why, sizeof(cg.why), fmt, ap);
        va_end(ap);
        if (cg.dir >= 0)
                close(cg.dir);
        if (cg.back >= 0)
                close(cg.back);
        cg.dir = cg.back = -1;
}

/* Limits on P, then the controllers handed down to its leaves (P holds no process). */
static void cg_limit(int dir) {
        char have[256] = "", hand[64] = "";

        cg_read(dir, "cgroup.controllers", have, sizeof(have));
        if (has_word(have, "pids") && cg_write(dir, "pids.max", cg.lim.pids) == 0)
                strcat(hand, "+pids ");
        if (has_word(have, "memory") && cg_write(dir, "memory.max", cg.lim.memory) == 0)
                strcat(hand, "+memory");
        if (*hand)
                cg_write(dir, "cgroup.subtree_control", hand);
}

/* What P lacks of the limits the operator set, said on the pod's stderr. */
static void cg_lacks(int dir) {
        char have[256] = "";

        cg_read(dir, "cgroup.controllers", have, sizeof(have));
        if (cg.lim.set && (!has_word(have, "pids") || !has_word(have, "memory")))
                snprintf(
                        cg.why, sizeof(cg.why),
                        "cgroup %.256s has no %s%s%s controller: POD_PIDS_MAX and POD_MEMORY_MAX are "
                        "not applied",
                        cg.path, has_word(have, "pids") ? "" : "pids",
                        !has_word(have, "pids") && !has_word(have, "memory") ? " or " : "",
                        has_word(have, "memory") ? "" : "memory");
}

#define CG_DEPTH_MAX 64 /* nested pods a cgroup walk goes down */
#define CG_ACCESS                                                       \
        (LANDLOCK_ACCESS_FS_MAKE_DIR | LANDLOCK_ACCESS_FS_REMOVE_DIR |  \
         LANDLOCK_ACCESS_FS_WRITE_FILE | LANDLOCK_ACCESS_FS_READ_FILE | \
         LANDLOCK_ACCESS_FS_READ_DIR)

/* Every process in the cgroup dir and below, into w (any parent). */
static void cg_list(walk *w, int dir, int depth) {
        int fd = openat(dir, "cgroup.procs", O_RDONLY | O_CLOEXEC);
        struct dirent *de;
        DIR *d;

        if (fd >= 0)
                add_listed(w, fd, 0);
        if (depth >= CG_DEPTH_MAX ||
            (fd = openat(dir, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0)
                return;
        d = fdopendir(fd);
        if (!d) {
                close(fd);
                return;
        }
        while ((de = readdir(d)) && !w->full) {
                int sub;
                if (de->d_type != DT_DIR || de->d_name[0] == '.')
                        continue;
                sub = openat(dirfd(d), de->d_name, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
                if (sub >= 0) {
                        cg_list(w, sub, depth + 1);
                        close(sub);
                }
        }
        closedir(d);
}

/* Remove the cgroup name beneath parent, its own (empty) cgroups first. */
static int cg_remove(int parent, const char *name, int depth) {
        int fd = openat(parent, name, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
        struct dirent *de;
        DIR *d = fd < 0 ? NULL : fdopendir(fd);

        if (!d && fd >= 0)
                close(fd);
        while (d && depth < CG_DEPTH_MAX && (de = readdir(d)))
                if (de->d_type == DT_DIR && de->d_name[0] != '.')
                        cg_remove(dirfd(d), de->d_name, depth + 1);
        if (d)
                closedir(d);
        return unlinkat(parent, name, AT_REMOVEDIR) < 0 ? -errno : 0;
}

static bool cg_populated(int dir) {
        char events[256];

        return cg_read(dir, "cgroup.events", events, sizeof(events)) < 0 ||
                !strstr(events, "populated 0");
}

/*
 * Kill every process of the cgroup name beneath parent and below, then remove it: what was
 * there goes into *report, cgroup.kill ends it at once (Linux 5.14+; before, SIGKILL to each
 * in rounds), and the rounds wait until it is empty.
 */
static void cg_end(int parent, const char *name, pod_stragglers *report) {
        struct timespec tick = { 0, 2 * 1000 * 1000 };
        int dir = openat(parent, name, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
        walk w = { 0 };
        unsigned alive = 0, round;

        if (dir < 0)
                return;
        cg_list(&w, dir, 0);
        for (size_t i = 0; i < w.n; i++)
                if (running(&w.v[i]))
                        note(&w, report, &w.v[i]);
        cg_write(dir, "cgroup.kill", "1");
        for (round = 0; round < POD_CONTAIN_ROUNDS && cg_populated(dir); round++) {
                w.n = 0;
                w.full = false;
                cg_list(&w, dir, 0);
                alive = round_once(&w, report);
                nanosleep(&tick, NULL);
        }
        if (round == POD_CONTAIN_ROUNDS)
                report->left += alive;
        else
                cg_remove(parent, name, 0);
        close(dir);
        free(w.v);
        free(w.sent);
}

/* A process in this pod's own leaf that the walk did not end: the cgroup has the last word. */
static void cg_backstop(walk *w, pod_stragglers *report) {
        struct timespec tick = { 0, 2 * 1000 * 1000 };
        unsigned alive = 0;
        int fd;

        /* Without a cgroup per child, the leaf holds the children's processes too, which are
         * not this pod's to end: the walk alone decides. */
        if (cg.dir < 0 || !cg_per_child())
                return;
        for (unsigned round = 0; round < POD_CONTAIN_ROUNDS; round++) {
                w->n = 0;
                w->full = false;
                fd = openat(cg.dir, "self/cgroup.procs", O_RDONLY | O_CLOEXEC);
                if (fd < 0)
                        return;
                add_listed(w, fd, 0);
                alive = round_once(w, report);
                if (!alive)
                        return;
                nanosleep(&tick, NULL);
        }
        report->left += alive;
}

static int grant(int ruleset_fd, int dir, __u64 access) {
        struct landlock_path_beneath_attr a = { .allowed_access = access, .parent_fd = dir };

        return syscall(__NR_landlock_add_rule, ruleset_fd, LANDLOCK_RULE_PATH_BENEATH, &a, 0) < 0 ?
                -errno :
                0;
}

/*
 * The cgroups of earlier top-level pods in up ("pod-<name>-<pid>") whose pod is gone: a pod
 * killed outright (SIGKILL) left what was in it running, and a pod without the right to
 * remove its cgroup (a root-owned one, once it dropped its capabilities) left it empty.
 */
static void cg_sweep(int up) {
        int fd = openat(up, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        DIR *d = fd < 0 ? NULL : fdopendir(fd);
        pod_stragglers s = { 0 };
        struct dirent *de;
        pod_buf b = { 0 };

        if (!d && fd >= 0)
                close(fd);
        while (d && (de = readdir(d))) {
                const char *dash = strrchr(de->d_name, '-');
                int pid;
                /* Its pod's pid names no process: the pod is gone. (One used again by another
                 * process leaves the cgroup for a later sweep; one that starts is alive.) */
                if (de->d_type == DT_DIR && str_startswith(de->d_name, "pod-") && dash &&
                    str_to_int(dash + 1, &pid) == 0 && pid > 0 && kill(pid, 0) < 0 &&
                    errno == ESRCH)
                        cg_end(dirfd(d), de->d_name, &s);
        }
        if (d)
                closedir(d);
        contain_describe(&b, &s, "an earlier pod killed outright");
        if (b.len)
                snprintf(cg.swept, sizeof(cg.swept), "%.*s", (int) b.len - 1, buf_str(&b));
        buf_done(&b);
}

/* A top-level pod: P made in its own cgroup, and it moves into P/self. */
static void cg_start_top(const char *name) {
        char mount[1024], own[2048], leaf[96];
        _cleanup_close_ int up = -EBADF;
        int r;

        if (cgroup2_mount(mount, sizeof(mount)) < 0)
                return cg_none("no cgroup2 file system is mounted");
        if (own_cgroup(own, sizeof(own)) < 0)
                return cg_none(
                        "this process is in no cgroup v2 (/proc/self/cgroup has no 0:: line)");
        snprintf(cg.up, sizeof(cg.up), "%s%s", mount, strcmp(own, "/") ? own : "");
        snprintf(leaf, sizeof(leaf), "pod-%s-%d", name, (int) getpid());
        snprintf(cg.rel, sizeof(cg.rel), "%s/%s", strcmp(own, "/") ? own : "", leaf);
        snprintf(cg.path, sizeof(cg.path), "%s/%s", cg.up, leaf);
        up = open(cg.up, O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (up >= 0)
                cg_sweep(up);
        if (up < 0 || mkdirat(up, leaf, 0755) < 0)
                return cg_none("cannot make a cgroup in %s: %s (run pod where it has a delegated "
                               "cgroup, e.g. systemd-run --user --scope -p Delegate=yes)",
                               cg.up, strerror(errno));
        cg.dir = openat(up, leaf, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
        cg.back = openat(up, "cgroup.procs", O_WRONLY | O_CLOEXEC);
        r = cg.dir < 0 || cg.back < 0 ? -errno : mkdirat(cg.dir, "self", 0755) < 0 ? -errno : 0;
        if (r >= 0)
                r = cg_write(cg.dir, "self/cgroup.procs", "0");
        if (r < 0) {
                cg_remove(up, leaf, 0);
                return cg_none("cannot move into the cgroup %s: %s", cg.path, strerror(-r));
        }
        cg_limit(cg.dir);
        cg_lacks(cg.dir);
}

/* A child: the cgroup its spawner made and put it in (POD_CGROUP, then its self). */
static void cg_start_child(char *const *envp) {
        const char *rel = env_get(envp, "POD_CGROUP");
        char mount[1024], own[2048];
        size_t n = rel ? strlen(rel) : 0;

        if (!n)
                return cg_none("it shares its spawner's cgroup, if that has one "
                               "(POD_CGROUP_PER_CHILD=1 gives each child its own)");
        if (own_cgroup(own, sizeof(own)) < 0 || strncmp(own, rel, n) != 0 ||
            strcmp(own + n, "/self") != 0 || cgroup2_mount(mount, sizeof(mount)) < 0)
                return cg_none("it is not in the cgroup its spawner made for it");
        snprintf(cg.rel, sizeof(cg.rel), "%s", rel);
        snprintf(cg.path, sizeof(cg.path), "%s%s", mount, rel);
        cg.dir = open(cg.path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (cg.dir < 0)
                return cg_none("cannot open its cgroup %s: %s", cg.path, strerror(errno));
        cg_lacks(cg.dir);
}

const char *
contain_cgroup_start(const char *name, bool top, const pod_cgroup_limits *lim, char *const *envp) {
        cg_none("%s", ""); /* a pod starts once; a test, more than once */
        cg.lim = *lim;
        cg.swept[0] = '\0';
        if (top)
                cg_start_top(name);
        else
                cg_start_child(envp);
        return cg.why[0] ? cg.why : NULL;
}

const char *contain_cgroup_swept(void) {
        return cg.swept[0] ? cg.swept : NULL;
}

const char *contain_cgroup_path(void) {
        return cg.dir >= 0 ? cg.path : NULL;
}

int contain_cgroup_grant_self(int ruleset_fd) {
        _cleanup_close_ int up = -EBADF;
        int r;

        if (cg.dir < 0)
                return 0;
        r = grant(ruleset_fd, cg.dir, CG_ACCESS);
        if (r >= 0 && cg.back >= 0) { /* a top-level pod removes P at its end */
                up = open(cg.up, O_PATH | O_DIRECTORY | O_CLOEXEC);
                r = up < 0 ? -errno : grant(ruleset_fd, up, LANDLOCK_ACCESS_FS_REMOVE_DIR);
        }
        return r;
}

/*
 * A cgroup of its own for each child pod: only when the operator asks (POD_CGROUP_PER_CHILD=1).
 * Moving the child into it (its write to cgroup.procs between clone and exec) waits for the
 * kernel's cgroup lock, an RCU grace period, which made a spawn several times dearer than
 * bwrap starting /bin/true. By default the whole tree shares its top-level pod's cgroup,
 * entered once when that pod starts; a child inherits it as it forks.
 */
static bool cg_per_child(void) {
        const char *v = getenv("POD_CGROUP_PER_CHILD");

        return v && strcmp(v, "1") == 0;
}

int contain_cgroup_child(
        const char *name, int ruleset_fd, int *ret_procs, char ***env, pod_error *err) {
        char leaf[96];
        pod_stragglers stale = { 0 };
        _cleanup_close_ int dir = -EBADF;
        pod_buf b = { 0 };
        int r = 0;

        *ret_procs = -1;
        if (cg.dir < 0 || !cg_per_child())
                return 0;
        snprintf(leaf, sizeof(leaf), "pod-%s", name);
        if (mkdirat(cg.dir, leaf, 0755) < 0)
                r = -errno;
        if (r == -EEXIST) { /* an earlier child's of the same name, which outlived it */
                cg_end(cg.dir, leaf, &stale);
                r = mkdirat(cg.dir, leaf, 0755) < 0 ? -errno : 0;
        }
        dir = r < 0 ? -EBADF :
                      openat(cg.dir, leaf, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
        if (r >= 0 && dir < 0)
                r = -errno;
        if (r >= 0)
                cg_limit(dir);
        if (r >= 0 && mkdirat(dir, "self", 0755) < 0)
                r = -errno;
        if (r >= 0 && (*ret_procs = openat(dir, "self/cgroup.procs", O_WRONLY | O_CLOEXEC)) < 0)
                r = -errno;
        if (r >= 0 && ruleset_fd >= 0)
                r = grant(ruleset_fd, dir, CG_ACCESS);
        buf_printf(&b, "POD_CGROUP=%s/%s", cg.rel, leaf);
        if (r >= 0 && (b.oom || strv_consume(env, buf_steal(&b)) < 0))
                r = -ENOMEM;
        buf_done(&b);
        if (r < 0) {
                if (*ret_procs >= 0)
                        close(*ret_procs);
                *ret_procs = -1;
                cg_remove(cg.dir, leaf, 0);
                return pod_error_set(err, r, "cannot make its cgroup %s/%s: %s", cg.path, leaf,
                                     strerror(-r));
        }
        return 0;
}

void contain_cgroup_end_child(const char *name, pod_stragglers *report) {
        char leaf[96];

        if (cg.dir < 0)
                return;
        snprintf(leaf, sizeof(leaf), "pod-%s", name);
        cg_end(cg.dir, leaf, report);
}

void contain_cgroup_end(pod_stragglers *report) {
        _cleanup_close_ int up = -EBADF;
        struct dirent *de;
        const char *leaf;
        int fd;
        DIR *d;

        if (cg.dir < 0)
                return;
        fd = openat(cg.dir, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        d = fd < 0 ? NULL : fdopendir(fd);
        if (!d && fd >= 0)
                close(fd);
        while (d && (de = readdir(d))) /* children's, left by a child not reaped */
                if (de->d_type == DT_DIR && str_startswith(de->d_name, "pod-"))
                        cg_end(cg.dir, de->d_name, report);
        if (d)
                closedir(d);
        /* A top-level pod leaves P, then ends what is still in it and removes it. */
        if (cg.back >= 0 && write(cg.back, "0", 1) == 1 &&
            (up = open(cg.up, O_PATH | O_DIRECTORY | O_CLOEXEC)) >= 0) {
                leaf = strrchr(cg.path, '/') + 1;
                cg_end(up, leaf, report);
        }
        /* cg.dir stays open: a thread still at work finds an empty or removed cgroup. */
}
