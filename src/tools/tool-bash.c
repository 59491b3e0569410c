/* SPDX-License-Identifier: MIT */
/*
 * Bash (DESIGN §12, §14): `bash -c COMMAND` in the pod's cwd, started through the audited
 * path (proc.c) with everything prepared in the parent: a new session (so no controlling
 * terminal and its own process group), stdin from /dev/null, stdout and stderr into one
 * pipe, every other descriptor closed, signals reset, an environment without the model's
 * key variable, and, unless POD_SANDBOX=off, a fresh kernel sandbox (sandbox.c) built
 * from the pod's scope and its children's current leases; from the second command on, in
 * a shell started the same way at the end of the command before (warm_shell, below). A
 * timeout kills the whole process group. The model gets the first POD_BASH_OUTPUT_MAX
 * bytes; a longer output goes to a file in the pod's output directory (made only then: on
 * a disk, creating a file costs a good part of a short command's run), at most
 * POD_BASH_LOG_MAX and within the logs' share of the run dir's cap (rundir.c). After each
 * command the private TMPDIR is brought back within its share.
 */
#include <assert.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>

#include "tools-internal.h"

extern char **environ;

#define BASH_PATH "/bin/bash"
#define KILL_GRACE_MS 2000

/* The environment of a command: what the allowlist passes (base/env.c), less the model's key
 * variable and, when the command gets a private one, the operator's TMPDIR. */
static char **command_env(const pod_tools *t, const char *tmp) {
        const char *drop[3] = { NULL, NULL, NULL };
        size_t n_drop = 0;
        char **env = NULL;
        pod_buf b = { 0 };

        if (t->api_key_env)
                drop[n_drop++] = t->api_key_env;
        if (tmp)
                drop[n_drop++] = "TMPDIR";
        for (char **e = environ; e && *e; e++)
                if (env_inherited(*e, NULL) && !env_entry_named(*e, drop) &&
                    strv_push(&env, *e) < 0)
                        return strv_free(env);
        buf_printf(&b, "POD_NAME=%s", t->fs.pod_name);
        if (b.oom || strv_consume(&env, buf_steal(&b)) < 0 || strv_push(&env, "TERM=dumb") < 0)
                return strv_free(env);
        if (tmp) {
                buf_printf(&b, "TMPDIR=%s", tmp);
                if (b.oom || strv_consume(&env, buf_steal(&b)) < 0)
                        return strv_free(env);
        }
        return env;
}

/* The children's current write leases (none without a tree: tools_hooks). */
typedef struct leases {
        scope_lease *l;
        size_t n;
} leases;

static int current_leases(leases *out, pod_tools *t) {
        *out = (leases){ 0 };
        return t->hooks.lease_list ? t->hooks.lease_list(t->hooks.ud, &out->l, &out->n) : 0;
}

static void leases_done(leases *l) {
        lease_list_free(l->l, l->n);
        *l = (leases){ 0 };
}

/* The same leases, in any order. */
static bool leases_equal(const leases *a, const leases *b) {
        if (a->n != b->n)
                return false;
        for (size_t i = 0; i < a->n; i++) {
                bool found = false;
                for (size_t j = 0; j < b->n && !found; j++)
                        found = strcmp(a->l[i].path, b->l[j].path) == 0;
                if (!found)
                        return false;
        }
        return true;
}

/*
 * The sandbox of one command: the pod's scope less its children's write leases (read only
 * there), built from the descriptors opened when the pod started (a rule whose path no
 * longer names what it did is dropped, and said in notes), its private temporary
 * directory, no network unless `full`.
 */
static int
command_sandbox(pod_sandbox **sb, pod_tools *t, const leases *l, pod_buf *notes, pod_error *err) {
        sandbox_spec spec = { .scope = &t->fs.scope,
                              .roots = t->roots,
                              .notes = notes,
                              .tmp_fd = t->tmp_fd > 0 ? t->tmp_fd : 0,
                              .network = t->network,
                              .command = true,
                              .leases = l->l,
                              .n_leases = l->n,
                              .fsize = t->run_dir_cap };

        return sandbox_prepare(sb, &spec, err);
}

/*
 * <output dir>/tmp, the commands' TMPDIR under the sandbox (bash's here-documents use it):
 * made and opened at the first command, and granted by that descriptor from then on, so a
 * command that replaces it (where its scope reaches the run dir) gains nothing.
 */
static char *command_tmp(pod_tools *t) {
        char *tmp = t->output_dir ? path_join(t->output_dir, "tmp") : NULL;

        if (tmp && t->tmp_fd < 0) {
                if (mkdir(tmp, 0700) == 0 || errno == EEXIST)
                        t->tmp_fd = open(tmp, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                if (t->tmp_fd < 0)
                        t->tmp_fd = -EBADF;
        }
        if (tmp && t->tmp_fd < 0) {
                free(tmp);
                tmp = NULL;
        }
        return tmp;
}

/*
 * bash -c script, as a command starts: stdin /dev/null, stdout and stderr one pipe (its read
 * end returned), then extra descriptors from 3 on, in a new session, sandboxed with the
 * leases l.
 */
static int spawn_bash(pid_t *ret_pid,
                      int *ret_out,
                      pod_tools *t,
                      const char *script,
                      const int *extra,
                      size_t n_extra,
                      const leases *l,
                      pod_buf *notes,
                      pod_error *err) {
        char *argv[] = { "bash", "-c", (char *) script, NULL };
        _cleanup_free_ char *tmp = t->sandboxed ? command_tmp(t) : NULL;
        _cleanup_strv_free_ char **env = command_env(t, tmp);
        _cleanup_close_ int nul = open("/dev/null", O_RDONLY | O_CLOEXEC);
        pod_sandbox *sb = NULL;
        int pipefd[2], r;

        if (!env)
                return pod_error_oom(err);
        if (nul < 0 || pipe2(pipefd, O_CLOEXEC) < 0)
                return pod_error_errno(err, "cannot start bash");
        r = t->sandboxed ? command_sandbox(&sb, t, l, notes, err) : 0;
        if (r >= 0) {
                proc_plan p = {
                        .path = BASH_PATH,
                        .argv = argv,
                        .envp = env,
                        .cwd = t->fs.cwd,
                        .fds = { nul, pipefd[1], pipefd[1] },
                        .n_fds = 3 + n_extra,
                        .new_session = true,
                        .pdeathsig = SIGKILL,
                        .confine = t->sandboxed ? sandbox_confine_hook : NULL,
                        .confine_ud = sb,
                        .confine_fd = sb ? sandbox_ruleset_fd(sb) : 0,
                };
                for (size_t i = 0; i < n_extra; i++)
                        p.fds[3 + i] = extra[i];
                r = proc_spawn(ret_pid, &p, err);
        }
        sandbox_free(sb);
        safe_close(pipefd[1]);
        if (r < 0) {
                safe_close(pipefd[0]);
                return r;
        }
        *ret_out = pipefd[0];
        return 0;
}

/* The environment a delegate's CLI gets: its own, with the pod's private TMPDIR. */
static char **delegate_env(char *const *envp, const char *tmp) {
        const char *drop[] = { "TMPDIR", NULL };
        char **env = NULL;
        pod_buf b = { 0 };

        for (char *const *e = envp; e && *e; e++)
                if (!(tmp && env_entry_named(*e, drop)) && strv_push(&env, *e) < 0)
                        return strv_free(env);
        if (tmp) {
                buf_printf(&b, "TMPDIR=%s", tmp);
                if (b.oom || strv_consume(&env, buf_steal(&b)) < 0)
                        return strv_free(env);
        }
        return env ? env : calloc(1, sizeof(char *));
}

int tools_spawn_delegate(pod_tools *t, const tools_proc *p, pid_t *ret_pid, pod_error *err) {
        _cleanup_free_ char *tmp = t->sandboxed ? command_tmp(t) : NULL;
        _cleanup_strv_free_ char **env = delegate_env(p->envp, tmp);
        _cleanup_(sandbox_freep) pod_sandbox *sb = NULL;
        leases l = { 0 };
        int r;

        assert(t && p && p->path && p->argv && ret_pid);
        if (!env)
                return pod_error_oom(err);
        r = t->sandboxed ? current_leases(&l, t) : 0;
        if (r >= 0 && t->sandboxed) {
                sandbox_spec spec = { .scope = &t->fs.scope,
                                      .roots = t->roots,
                                      .tmp_fd = t->tmp_fd > 0 ? t->tmp_fd : 0,
                                      .network = t->network,
                                      .delegate = true,
                                      .model_port = p->port,
                                      .more_write = p->write_paths,
                                      .more_read = p->read_paths,
                                      .leases = l.l,
                                      .n_leases = l.n,
                                      .fsize = t->run_dir_cap };
                r = sandbox_prepare(&sb, &spec, err);
        } else if (r < 0)
                r = pod_error_set(err, r, "cannot list the children's leases: %s", strerror(-r));
        if (r >= 0) {
                proc_plan plan = {
                        .path = p->path,
                        .argv = p->argv,
                        .envp = env,
                        .cwd = p->cwd ? p->cwd : t->fs.cwd,
                        .fds = { p->fds[0], p->fds[1], p->fds[2] },
                        .n_fds = 3,
                        .new_session = true,
                        .pdeathsig = SIGKILL,
                        .confine = sb ? sandbox_confine_hook : NULL,
                        .confine_ud = sb,
                        .confine_fd = sb ? sandbox_ruleset_fd(sb) : 0,
                };
                r = proc_spawn(ret_pid, &plan, err);
        }
        leases_done(&l);
        return r;
}

/*
 * The shell started ahead for the next command (after each one): bash, started and confined
 * as a command is, waits on descriptor 4 for the word to go, reads the command from
 * descriptor 3 (a memfd: bash reads a file in blocks, a pipe byte by byte), closes both and
 * runs it with eval. So a command does not wait for bash's own start, most of a short
 * command's time (docs/running.md). It is used only while the children's leases are the
 * ones its sandbox was built with; otherwise it is killed and the command starts afresh.
 * The tree keeps it when it kills what the pod left running (contain.c).
 */
#define WARM_SCRIPT                                                                \
        "read -r -u 4 __pod_go || exit 0; IFS= read -r -d '' -u 3 __pod_command; " \
        "exec 3<&- 4<&-; eval \"unset __pod_go __pod_command; $__pod_command\""

struct warm_shell {
        pid_t pid;
        int out; /* its output pipe */
        int cmd; /* the memfd it reads the command from */
        int go; /* a socket it waits on for the word to go */
        leases built_with;
        pod_buf notes; /* what its sandbox dropped, for the command that uses it */
};

/* The tree spares the shell started ahead, and only it, when it kills stragglers. */
static void note_shell(pod_tools *t, pid_t pid) {
        if (t->hooks.note_shell)
                t->hooks.note_shell(t->hooks.ud, pid);
}

static void warm_free(warm_shell *w) {
        if (!w)
                return;
        if (w->pid > 0) {
                kill(-w->pid, SIGKILL);
                while (waitpid(w->pid, NULL, 0) < 0 && errno == EINTR)
                        ;
        }
        safe_close(w->out);
        safe_close(w->cmd);
        safe_close(w->go);
        leases_done(&w->built_with);
        buf_done(&w->notes);
        free(w);
}

void tools_drop_warm_shell(pod_tools *t) {
        if (t->warm)
                note_shell(t, 0);
        warm_free(t->warm);
        t->warm = NULL;
}

/* Start the next command's shell (best effort: without one, it starts afresh). */
static void warm_prepare(pod_tools *t) {
        warm_shell *w = calloc(1, sizeof(*w));
        int go[2] = { -EBADF, -EBADF }, extra[2];

        if (!w || (t->cancel && *t->cancel)) { /* a pod that stops needs none */
                free(w);
                return;
        }
        *w = (warm_shell){ .out = -EBADF, .cmd = -EBADF, .go = -EBADF };
        w->cmd = memfd_create("pod-command", MFD_CLOEXEC);
        if (w->cmd < 0 || socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, go) < 0 ||
            current_leases(&w->built_with, t) < 0) {
                safe_close_pair(go);
                warm_free(w);
                return;
        }
        w->go = go[1];
        extra[0] = w->cmd;
        extra[1] = go[0];
        if (spawn_bash(&w->pid, &w->out, t, WARM_SCRIPT, extra, 2, &w->built_with, &w->notes,
                       NULL) < 0)
                w->pid = 0;
        safe_close(go[0]);
        if (w->pid > 0) {
                t->warm = w;
                note_shell(t, w->pid);
        } else
                warm_free(w);
}

/*
 * The command handed to the shell started ahead, when it is alive and its sandbox still
 * matches the leases: 1, with its process and output; 0 when there is none to use.
 */
static int warm_take(pod_tools *t,
                     const char *command,
                     const leases *now,
                     pid_t *ret_pid,
                     int *ret_out,
                     pod_buf *notes) {
        warm_shell *w = t->warm;
        size_t len = strlen(command);

        t->warm = NULL;
        if (!w)
                return 0;
        note_shell(t, 0); /* from here on, it is the command: killed with what it leaves */
        if (waitpid(w->pid, NULL, WNOHANG) != 0)
                w->pid = 0; /* gone (and reaped): nothing to kill */
        if (w->pid == 0 || !leases_equal(&w->built_with, now) ||
            pwrite(w->cmd, command, len, 0) != (ssize_t) len ||
            send(w->go, "\n", 1, MSG_NOSIGNAL) != 1) {
                warm_free(w);
                return 0;
        }
        *ret_pid = w->pid;
        *ret_out = w->out;
        *notes = w->notes;
        w->notes = (pod_buf){ 0 };
        w->pid = 0;
        w->out = -EBADF;
        warm_free(w);
        return 1;
}

typedef struct capture {
        pod_buf head; /* what the model reads */
        size_t total; /* bytes the command wrote */
        bool cancelled; /* stopped by the pod's cancel flag */
        pod_tools *t;
        unsigned run; /* this command's number in the pod: bash-<run>.log */
        int log_fd; /* full output, once it outgrows head; -1: not yet; -2: none */
        char *log_path; /* the log, once made */
        size_t logged; /* bytes in it */
        size_t log_room; /* what it may hold: POD_BASH_LOG_MAX, or what is left of the share */
        bool log_failed; /* a write to it failed: it ends there */
        char note[256]; /* a line for the end of the result (TMPDIR emptied), or "" */
} capture;

/* A log's notice and its rounding to whole blocks, kept free in the logs' share. */
#define LOG_OVERHEAD (512u + 4096u)

/* What the next log may hold: POD_BASH_LOG_MAX, less when the logs' share runs out. */
static size_t log_room(const pod_tools *t) {
        uint64_t share = run_dir_logs_share(t->run_dir_cap), used = t->logs_used + LOG_OVERHEAD;
        uint64_t left = share > used ? share - used : 0;

        return left < POD_BASH_LOG_MAX ? (size_t) left : POD_BASH_LOG_MAX;
}

/* The room was cut by the pod's run dir cap, not by the limit of one log. */
static bool log_capped(const capture *c) {
        return c->log_room < POD_BASH_LOG_MAX;
}

/* The log's descriptor and *ret_path, or -2 (no log) and *ret_path untouched. */
static int open_log(const capture *c, char **ret_path) {
        pod_buf b = { 0 };
        char *path;
        int fd;

        buf_printf(&b, "%s/bash-%u.log", c->t->output_dir, c->run);
        path = buf_steal(&b);
        fd = path ? open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600) : -1;
        if (fd < 0) {
                free(path);
                return -2;
        }
        *ret_path = path;
        return fd;
}

/* Up to the log's room; a failed write ends the log where it is. */
static void log_write(capture *c, const char *data, size_t n) {
        size_t k = n < c->log_room - c->logged ? n : c->log_room - c->logged;
        ssize_t w = k ? write(c->log_fd, data, k) : 0;

        if (w < 0) {
                safe_close(c->log_fd);
                c->log_fd = -2;
                c->log_failed = true;
                return;
        }
        c->logged += (size_t) w;
}

static void capture_add(capture *c, const char *data, size_t n) {
        /* Outgrowing what the model reads: the log starts with all of it (head, so far), if
         * it may hold more than the model is shown. */
        if (c->total + n > POD_BASH_OUTPUT_MAX && c->log_fd == -1) {
                bool room = c->t->output_dir && c->log_room > POD_BASH_OUTPUT_MAX;
                c->log_fd = room ? open_log(c, &c->log_path) : -2;
                if (c->log_fd >= 0 && c->head.len)
                        log_write(c, c->head.data, c->head.len);
        }
        if (c->head.len < POD_BASH_OUTPUT_MAX)
                buf_append(&c->head, data,
                           n < POD_BASH_OUTPUT_MAX - c->head.len ?
                                   n :
                                   POD_BASH_OUTPUT_MAX - c->head.len);
        if (c->log_fd >= 0)
                log_write(c, data, n);
        c->total += n;
}

/* Why the log holds less than the output, or NULL when it holds all of it. */
static const char *log_cut_reason(const capture *c, char *buf, size_t n) {
        unsigned long long cap = c->t->run_dir_cap >> 20;

        if (c->logged >= c->total)
                return NULL;
        if (c->log_failed)
                snprintf(buf, n, "the log could not be written past that");
        else if (log_capped(c))
                snprintf(buf, n,
                         "output log truncated: the pod's run dir reached its cap of %llu MiB "
                         "(%llu KiB for command logs)",
                         cap, (unsigned long long) run_dir_logs_share(c->t->run_dir_cap) >> 10);
        else
                snprintf(buf, n, "output log truncated at %u MiB, the limit of one command's log",
                         POD_BASH_LOG_MAX >> 20);
        return buf;
}

/* Close the log, with a notice at its end when it was cut, and count it in the share. */
static void log_finish(capture *c) {
        char why[200];
        const char *cut = log_cut_reason(c, why, sizeof(why));
        size_t kept = c->logged;

        if (c->log_fd >= 0 && cut) {
                char line[300];
                int k = snprintf(line, sizeof(line), "\n[%s after %zu of %zu bytes]\n", cut,
                                 c->logged, c->total);
                if (k > 0 && write(c->log_fd, line, (size_t) k) == k)
                        kept += (size_t) k;
        }
        if (c->log_fd >= 0)
                c->log_fd = safe_close(c->log_fd);
        if (c->log_path)
                c->t->logs_used += (kept + 4095) / 4096 * 4096;
}

/* The line that says the model was shown part of the output, and where the rest is. */
static void truncation_line(pod_buf *b, const capture *c) {
        char why[200];
        const char *cut = c->t->output_dir ? log_cut_reason(c, why, sizeof(why)) : NULL;

        buf_printf(b, "[output truncated: showing %u of %zu bytes", POD_BASH_OUTPUT_MAX, c->total);
        if (c->log_path && !cut)
                buf_printf(b, "; all of it is in %s", c->log_path);
        else if (c->log_path)
                buf_printf(b, "; the first %zu bytes are in %s", c->logged, c->log_path);
        if (cut && (c->log_path || log_capped(c)))
                buf_printf(b, "; %s", cut);
        buf_puts(b, "]\n");
}

/* After a command: the private TMPDIR back within its share of the run dir's cap. If it
 * cannot be emptied, the pod runs no more commands (fail closed). Through the descriptor
 * the commands were granted (command_tmp): a command whose scope reaches the run dir may
 * have put another directory, or a symlink, at its path. */
static void bound_tmp(pod_tools *t, capture *c) {
        unsigned long long cap = t->run_dir_cap >> 20, share = run_dir_tmp_share(t->run_dir_cap);
        uint64_t held = 0;
        int r = t->sandboxed && t->tmp_fd >= 0 ? run_dir_bound_tmp(&held, t->tmp_fd, share) : 0;

        if (r == 1 && held == UINT64_MAX)
                snprintf(c->note, sizeof(c->note),
                         "[TMPDIR emptied: it held too many files or too deep a tree to measure "
                         "against its share (%llu KiB) of the pod's run dir cap of %llu MiB]\n",
                         share >> 10, cap);
        else if (r == 1)
                snprintf(c->note, sizeof(c->note),
                         "[TMPDIR emptied: it held %llu KiB, over its share (%llu KiB) of the "
                         "pod's run dir cap of %llu MiB]\n",
                         (unsigned long long) held >> 10, share >> 10, cap);
        else if (r < 0) {
                snprintf(t->tmp_stuck, sizeof(t->tmp_stuck), "%s", strerror(-r));
                snprintf(c->note, sizeof(c->note),
                         "[TMPDIR outgrew its share of the pod's run dir cap and could not be "
                         "emptied (%s): pod '%s' runs no more commands]\n",
                         t->tmp_stuck, t->fs.pod_name);
        }
}

/* Drain what is readable now, without waiting. */
static void drain_now(capture *c, int fd) {
        char chunk[16384];
        struct pollfd p = { fd, POLLIN, 0 };

        while (poll(&p, 1, 0) > 0 && (p.revents & POLLIN)) {
                ssize_t k = read(fd, chunk, sizeof(chunk));
                if (k <= 0)
                        break;
                capture_add(c, chunk, (size_t) k);
        }
}

/*
 * Read until EOF, until bash itself has exited (a background job may hold the pipe open),
 * or until the deadline. Returns true when the deadline passed; *status is set once bash
 * was reaped.
 */
static bool pump(capture *c,
                 int fd,
                 long long deadline,
                 pid_t pid,
                 int *status,
                 bool *reaped,
                 const volatile sig_atomic_t *cancel) {
        char chunk[16384];

        for (;;) {
                struct pollfd p = { fd, POLLIN, 0 };
                long long left = deadline - mono_ms();
                ssize_t k;
                if (left <= 0 || (cancel && *cancel))
                        return true;
                if (poll(&p, 1, left > 200 ? 200 : (int) left) <= 0) {
                        if (waitpid(pid, status, WNOHANG) == pid) {
                                *reaped = true;
                                drain_now(c, fd);
                                return false;
                        }
                        continue;
                }
                k = read(fd, chunk, sizeof(chunk));
                if (k < 0 && errno == EINTR)
                        continue;
                if (k <= 0)
                        return false;
                capture_add(c, chunk, (size_t) k);
        }
}

/* Wait for bash (killing its group first on a timeout), then kill its process group. */
static int reap(pid_t pid, bool timed_out) {
        long long until = mono_ms() + KILL_GRACE_MS;
        struct timespec tick = { 0, 20 * 1000 * 1000 };
        int status = 0;

        if (timed_out)
                kill(-pid, SIGTERM);
        while (waitpid(pid, &status, timed_out ? WNOHANG : 0) == 0) {
                if (mono_ms() > until) {
                        kill(-pid, SIGKILL);
                        timed_out = false; /* now wait for good */
                        continue;
                }
                nanosleep(&tick, NULL);
        }
        /* What it left in its group is killed after the walk, which names it (tool_bash). */
        return status;
}

static int report(tool_result *out,
                  capture *c,
                  int status,
                  bool timed_out,
                  int timeout,
                  const pod_buf *notes,
                  const pod_tools *t) {
        bool sandboxed = t->sandboxed, network_full = t->network == POD_NETWORK_FULL;
        const char *pod = t->fs.pod_name;
        pod_buf *b = &c->head;
        int code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);

        if (b->len && b->data[b->len - 1] != '\n')
                buf_puts(b, "\n");
        if (c->total > POD_BASH_OUTPUT_MAX)
                truncation_line(b, c);
        if (timed_out && c->cancelled)
                buf_puts(b, "[cancelled; the command and its processes were killed]\n");
        else if (timed_out)
                buf_printf(b, "[timed out after %d s; the command and its processes were killed]\n",
                           timeout);
        else
                buf_printf(b, "[exit code %d]\n", code);
        if (!timed_out && code != 0 && sandboxed && b->data &&
            (strstr(b->data, "Permission denied") || strstr(b->data, "Operation not permitted")))
                buf_printf(b,
                           "[pod '%s' runs commands in a kernel sandbox: writes outside its "
                           "write scope (and under its children's leases), reads outside its "
                           "scope%s are refused]\n",
                           pod, network_full ? "" : ", and sockets (network and Unix)");
        if (notes->len) /* rules the command's sandbox left out (docs/sandbox.md) */
                buf_printf(b, "[pod '%s': %.*s]\n", pod, (int) notes->len - 1, notes->data);
        buf_puts(b, c->note);
        if (b->oom)
                return -ENOMEM;
        *out = (tool_result){ .text = buf_steal(b), .is_error = timed_out || code != 0 };
        return 0;
}

int tool_bash(tool_result *out, pod_tools *t, const json_t *in) {
        const char *command = json_string_value(json_object_get(in, "command"));
        json_t *tv = json_object_get(in, "timeout_s");
        int timeout = tv ? (int) json_integer_value(tv) : POD_BASH_DEFAULT_TIMEOUT_S;
        _cleanup_close_ int fd = -EBADF;
        capture c = { .log_fd = -1, .t = t };
        pod_buf notes = { 0 };
        pod_stragglers left = { 0 };
        pod_error err = { 0 };
        bool timed_out, reaped = false;
        leases now;
        pid_t pid;
        int r, status = 0;

        timeout = tools_cap_timeout_s(t, timeout);
        if (strlen(command) > POD_BASH_COMMAND_MAX)
                return tool_fail(out, "Bash: the command is over 64 KiB");
        if (!*command)
                return tool_fail(out, "Bash: the command is empty");
        if (t->tmp_stuck[0])
                return tool_fail(out,
                                 "Bash: pod '%s' runs no more commands: its TMPDIR outgrew its "
                                 "share of the run dir's cap and could not be emptied (%s)",
                                 t->fs.pod_name, t->tmp_stuck);
        if (current_leases(&now, t) < 0)
                return -ENOMEM;
        r = warm_take(t, command, &now, &pid, &fd, &notes);
        if (r == 0)
                r = spawn_bash(&pid, &fd, t, command, NULL, 0, &now, &notes, &err);
        leases_done(&now);
        if (r < 0)
                buf_done(&notes);
        if (r == -ENOMEM)
                return r;
        if (r < 0)
                return tool_fail(out, "Bash: pod '%s' cannot start the command: %s", t->fs.pod_name,
                                 err.msg);
        c.run = ++t->bash_runs;
        c.log_room = log_room(t);
        timed_out = pump(&c, fd, mono_ms() + (long long) timeout * 1000, pid, &status, &reaped,
                         t->cancel);
        c.cancelled = timed_out && t->cancel && *t->cancel;
        if (!reaped)
                status = reap(pid, timed_out);
        /* Whatever the command left running dies with it: background jobs, and those that left
         * its process group (setsid), orphans now this pod's (contain.c). */
        if (t->hooks.contain)
                t->hooks.contain(t->hooks.ud, &left);
        else
                contain_kill(&left, NULL, 0);
        kill(-pid, SIGKILL); /* its process group, should the walk have failed */
        log_finish(&c);
        bound_tmp(t, &c);
        r = report(out, &c, status, timed_out, timeout, &notes, t);
        buf_done(&notes);
        if (r >= 0)
                r = tool_note_stragglers(out, &left, "the command");
        buf_done(&c.head);
        free(c.log_path);
        warm_prepare(t);
        return r;
}
