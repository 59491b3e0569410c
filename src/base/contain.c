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
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "base.h"

typedef struct found {
        pid_t pid, ppid;
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
        bool full; /* POD_CONTAIN_WALK_MAX reached */
        found *sent; /* every process signalled, across rounds: each is counted once */
        size_t n_sent, cap_sent;
} walk;

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
        int fd, ppid, threads;
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
                   " %c %d %*d %*d %*d %*d %*u %*u %*u %*u %*u %*u %*u %*d %*d %*d %*d %d", &state,
                   &ppid, &threads) != 3) /* fields 3, 4 and 20 */
                return -EIO;
        *out = (found){ .pid = pid, .ppid = ppid, .state = state, .threads = threads };
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
        if (kept(w, pid) || read_stat(&f, pid) < 0 || f.ppid != parent)
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
 * The children of one thread: "pid pid ..." in /proc/<pid>/task/<tid>/children, read in
 * chunks however long (a fork bomb's list is). A list that changes between two reads may
 * skip an entry; the next round sees it. The round that ends the kill finds this process's
 * lists holding only kept processes: short, each read at once.
 */
static void add_children_of_task(walk *w, pid_t pid, const char *tid) {
        char path[320], chunk[4096];
        long number = 0;
        bool digits = false;
        ssize_t n;
        int fd;

        snprintf(path, sizeof(path), "/proc/%d/task/%s/children", (int) pid, tid);
        fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
                return; /* the thread, or the process, has gone */
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

/* One round: kill the living, reap this process's dead. Returns how many were alive. */
static unsigned round_once(walk *w, pod_stragglers *report) {
        unsigned alive = 0;
        pid_t self = getpid();

        for (size_t i = 0; i < w->n; i++) {
                const found *f = &w->v[i];
                if (!running(f)) {
                        /* Only an inherited orphan: kept processes are never walked.
                         * __WALL: whatever signal it was to send at its end. */
                        if (f->ppid == self)
                                while (waitpid(f->pid, NULL, WNOHANG | __WALL) < 0 &&
                                       errno == EINTR)
                                        ;
                        continue;
                }
                alive++;
                if (kill_found(f))
                        note(w, report, f);
        }
        return alive;
}

int contain_kill(pod_stragglers *report, const pid_t *keep, size_t n_keep) {
        struct timespec tick = { 0, 2 * 1000 * 1000 };
        walk w = { .keep = keep, .n_keep = n_keep };
        unsigned alive = 0;
        int r = 0;

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
        free(w.v);
        free(w.sent);
        if (r < 0) {
                report->error = r;
                return r;
        }
        report->left += w.n ? alive : 0;
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
