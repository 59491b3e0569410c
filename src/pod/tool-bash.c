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
 * bytes; a longer output goes whole to a file in the pod's output directory (made only
 * then: on a disk, creating a file costs a good part of a short command's run).
 */
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
#define BASH_LOG_MAX (64u * 1024u * 1024u)
#define KILL_GRACE_MS 2000

/* Variables a command inherits; everything else (keys, tokens, sockets) stays behind. */
static const char *const env_keep[] = { "PATH", "HOME", "USER", "LOGNAME", "LANG", "TZ",
                                        "TMPDIR", "SHELL", NULL };

static char **command_env(const pod_tools *t, const char *tmp) {
        char **env = NULL;
        pod_buf b = { 0 };

        for (char **e = environ; e && *e; e++) {
                size_t n = strcspn(*e, "=");
                bool keep = strncmp(*e, "LC_", 3) == 0;
                for (const char *const *k = env_keep; *k && !keep; k++)
                        keep = strlen(*k) == n && strncmp(*e, *k, n) == 0;
                if (t->api_key_env && strlen(t->api_key_env) == n &&
                    strncmp(*e, t->api_key_env, n) == 0)
                        keep = false;
                if (tmp && n == 6 && strncmp(*e, "TMPDIR", 6) == 0)
                        keep = false;
                if (keep && strv_push(&env, *e) < 0)
                        return strv_free(env);
        }
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

/* The children's current write leases (none without a tree). */
typedef struct leases {
        scope_lease *l;
        size_t n;
} leases;

static int current_leases(leases *out, pod_tools *t) {
        *out = (leases){ 0 };
        return t->tree ? tree_lease_list(t->tree, &out->l, &out->n) : 0;
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
                        found = a->l[i].recursive == b->l[j].recursive &&
                                strcmp(a->l[i].path, b->l[j].path) == 0;
                if (!found)
                        return false;
        }
        return true;
}

/*
 * The sandbox of one command: the pod's scope less its children's write leases (read only
 * there), its private temporary directory, no network unless `full`.
 */
static int command_sandbox(pod_sandbox *sb, pod_tools *t, const char *tmp, const leases *l,
                           pod_error *err) {
        const char *own[] = { tmp, NULL };
        sandbox_spec spec = { .scope = &t->fs.scope, .own_write = tmp ? own : NULL,
                              .network = t->network, .command = true, .leases = l->l,
                              .n_leases = l->n };

        return sandbox_prepare(sb, &spec, err);
}

/* <output dir>/tmp, the commands' TMPDIR under the sandbox (bash's here-documents use it). */
static char *command_tmp(pod_tools *t) {
        char *tmp = t->output_dir ? path_join(t->output_dir, "tmp") : NULL;

        if (tmp && mkdir(tmp, 0700) < 0 && errno != EEXIST) {
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
static int spawn_bash(pid_t *ret_pid, int *ret_out, pod_tools *t, const char *script,
                      const int *extra, size_t n_extra, const leases *l, pod_error *err) {
        char *argv[] = { "bash", "-c", (char *) script, NULL };
        _cleanup_free_ char *tmp = t->sandboxed ? command_tmp(t) : NULL;
        _cleanup_strv_free_ char **env = command_env(t, tmp);
        _cleanup_close_ int nul = open("/dev/null", O_RDONLY | O_CLOEXEC);
        pod_sandbox sb = { .ruleset_fd = -1 };
        int pipefd[2], r;

        if (!env)
                return pod_error_set(err, -ENOMEM, "out of memory");
        if (nul < 0 || pipe2(pipefd, O_CLOEXEC) < 0)
                return pod_error_set(err, -errno, "%s", strerror(errno));
        r = t->sandboxed ? command_sandbox(&sb, t, tmp, l, err) : 0;
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
                        .confine_ud = &sb,
                        .confine_fd = t->sandboxed ? sb.ruleset_fd : 0,
                };
                for (size_t i = 0; i < n_extra; i++)
                        p.fds[3 + i] = extra[i];
                r = proc_spawn(ret_pid, &p, err);
        }
        sandbox_done(&sb);
        close(pipefd[1]);
        if (r < 0) {
                close(pipefd[0]);
                return r;
        }
        *ret_out = pipefd[0];
        return 0;
}

/*
 * The shell started ahead for the next command (after each one): bash, started and confined
 * as a command is, waits on descriptor 4 for the word to go, reads the command from
 * descriptor 3 (a memfd: bash reads a file in blocks, a pipe byte by byte), closes both and
 * runs it with eval. So a command does not wait for bash's own start, most of a short
 * command's time (docs/running.md). It is used only while the children's leases are the
 * ones its sandbox was built with; otherwise it is killed and the command starts afresh.
 */
#define WARM_SCRIPT                                                                                \
        "read -r -u 4 __pod_go || exit 0; IFS= read -r -d '' -u 3 __pod_command; "              \
        "exec 3<&- 4<&-; eval \"unset __pod_go __pod_command; $__pod_command\""

struct warm_shell {
        pid_t pid;
        int out; /* its output pipe */
        int cmd; /* the memfd it reads the command from */
        int go;  /* a socket it waits on for the word to go */
        leases built_with;
};

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
        free(w);
}

void tools_drop_warm_shell(pod_tools *t) {
        warm_free(t->warm);
        t->warm = NULL;
}

/* Start the next command's shell (best effort: without one, it starts afresh). */
static void warm_prepare(pod_tools *t) {
        warm_shell *w = calloc(1, sizeof(*w));
        int go[2] = { -1, -1 }, extra[2];

        if (!w || (t->cancel && *t->cancel)) { /* a pod that stops needs none */
                free(w);
                return;
        }
        *w = (warm_shell){ .out = -1, .cmd = -1, .go = -1 };
        w->cmd = memfd_create("pod-command", MFD_CLOEXEC);
        if (w->cmd < 0 || socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, go) < 0 ||
            current_leases(&w->built_with, t) < 0) {
                safe_close(go[0]);
                safe_close(go[1]);
                warm_free(w);
                return;
        }
        w->go = go[1];
        extra[0] = w->cmd;
        extra[1] = go[0];
        if (spawn_bash(&w->pid, &w->out, t, WARM_SCRIPT, extra, 2, &w->built_with, NULL) < 0)
                w->pid = 0;
        close(go[0]);
        if (w->pid > 0)
                t->warm = w;
        else
                warm_free(w);
}

/*
 * The command handed to the shell started ahead, when it is alive and its sandbox still
 * matches the leases: 1, with its process and output; 0 when there is none to use.
 */
static int warm_take(pod_tools *t, const char *command, const leases *now, pid_t *ret_pid,
                     int *ret_out) {
        warm_shell *w = t->warm;
        size_t len = strlen(command);

        t->warm = NULL;
        if (!w)
                return 0;
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
        w->pid = 0;
        w->out = -1;
        warm_free(w);
        return 1;
}

typedef struct capture {
        pod_buf head;   /* what the model reads */
        size_t total;   /* bytes the command wrote */
        bool cancelled; /* stopped by the pod's cancel flag */
        pod_tools *t;
        unsigned run;   /* this command's number in the pod: bash-<run>.log */
        int log_fd;     /* full output, once it outgrows head; or -1 */
        char *log_path;
} capture;

static int open_log(const capture *c, char **ret_path) {
        pod_buf b = { 0 };
        int fd;

        *ret_path = NULL;
        if (!c->t->output_dir)
                return -1;
        buf_printf(&b, "%s/bash-%u.log", c->t->output_dir, c->run);
        *ret_path = buf_steal(&b);
        if (!*ret_path)
                return -1;
        fd = open(*ret_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
        if (fd < 0)
                *ret_path = (free(*ret_path), NULL);
        return fd;
}

static void capture_add(capture *c, const char *data, size_t n) {
        /* Outgrowing what the model reads: the log starts with all of it (head, so far). */
        if (c->total + n > POD_BASH_OUTPUT_MAX && !c->log_path && c->log_fd == -1) {
                c->log_fd = open_log(c, &c->log_path);
                if (c->log_fd >= 0 && c->head.len &&
                    write(c->log_fd, c->head.data, c->head.len) < 0)
                        c->log_fd = safe_close(c->log_fd);
                if (c->log_fd < 0)
                        c->log_fd = -2; /* tried */
        }
        if (c->head.len < POD_BASH_OUTPUT_MAX)
                buf_append(&c->head, data,
                           n < POD_BASH_OUTPUT_MAX - c->head.len ? n : POD_BASH_OUTPUT_MAX - c->head.len);
        if (c->log_fd >= 0 && c->total + n <= BASH_LOG_MAX && write(c->log_fd, data, n) < 0)
                c->log_fd = safe_close(c->log_fd);
        c->total += n;
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
static bool pump(capture *c, int fd, long long deadline, pid_t pid, int *status, bool *reaped,
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

/* Wait for bash (killing its group first on a timeout), then kill what it left behind. */
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
        kill(-pid, SIGKILL);
        return status;
}

static int report(tool_result *out, capture *c, int status, bool timed_out, int timeout,
                  const char *log_path, const pod_tools *t) {
        bool sandboxed = t->sandboxed, network_full = t->network == POD_NETWORK_FULL;
        const char *pod = t->fs.pod_name;
        pod_buf *b = &c->head;
        int code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);

        if (b->len && b->data[b->len - 1] != '\n')
                buf_puts(b, "\n");
        if (c->total > POD_BASH_OUTPUT_MAX)
                buf_printf(b, "[output truncated: showing %u of %zu bytes%s%s]\n",
                           POD_BASH_OUTPUT_MAX, c->total, log_path ? "; all of it is in " : "",
                           log_path ? log_path : "");
        if (timed_out && c->cancelled)
                buf_puts(b, "[cancelled; the command and its processes were killed]\n");
        else if (timed_out)
                buf_printf(b, "[timed out after %d s; the command and its processes were killed]\n",
                           timeout);
        else
                buf_printf(b, "[exit code %d]\n", code);
        if (!timed_out && code != 0 && sandboxed && b->data &&
            (strstr(b->data, "Permission denied") || strstr(b->data, "Operation not permitted")))
                buf_printf(b, "[pod '%s' runs commands in a kernel sandbox: writes outside its "
                              "write scope (and under its children's leases), reads outside its "
                              "scope%s are refused]\n",
                           pod, network_full ? "" : ", and network sockets");
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
        pod_error err = { 0 };
        bool timed_out, reaped = false;
        leases now;
        pid_t pid;
        int r, status = 0;

        timeout = tools_cap_timeout_s(t, timeout);
        if (strlen(command) > 64 * 1024)
                return tool_fail(out, "Bash: the command is over 64 KiB");
        if (!*command)
                return tool_fail(out, "Bash: the command is empty");
        if (current_leases(&now, t) < 0)
                return -ENOMEM;
        r = warm_take(t, command, &now, &pid, &fd);
        if (r == 0)
                r = spawn_bash(&pid, &fd, t, command, NULL, 0, &now, &err);
        leases_done(&now);
        if (r == -ENOMEM)
                return r;
        if (r < 0)
                return tool_fail(out, "Bash: pod '%s' cannot start the command: %s", t->fs.pod_name,
                                 err.msg);
        c.run = ++t->bash_runs;
        timed_out = pump(&c, fd, mono_ms() + (long long) timeout * 1000, pid, &status, &reaped,
                         t->cancel);
        c.cancelled = timed_out && t->cancel && *t->cancel;
        if (!reaped)
                status = reap(pid, timed_out);
        else
                kill(-pid, SIGKILL); /* background jobs die with the command */
        if (c.log_fd >= 0)
                close(c.log_fd);
        r = report(out, &c, status, timed_out, timeout, c.log_path, t);
        buf_done(&c.head);
        free(c.log_path);
        warm_prepare(t);
        return r;
}
