/* SPDX-License-Identifier: MIT */
/*
 * The process runner both delegate handlers share (DESIGN §9 "Delegates"): a CLI started
 * through the pod's spawn hook (its delegate sandbox, a new session) or, without one,
 * proc_spawn in a new session; its stdin, stdout and stderr on pipes of ours. Everything it
 * prints is hostile: stdout comes back line by line, each line and the whole bounded; the
 * last few KiB of stderr are kept for an error's text. Every wait polls the call's cancel
 * flag at least every LLM_DELEGATE_POLL_MS and honours its deadline; ending the CLI ends its
 * whole process group (SIGTERM, a short grace, SIGKILL) and reaps it.
 *
 * Also here: what both handlers need to find and start their CLI (the environment
 * allowlist, the executable on PATH, its install dir), and what they do alike around it (the
 * model they keep, the task's text, reading the CLI's lines into actions, the answer).
 */
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "llm-internal.h"

extern char **environ;

/* The most of stderr's tail an error quotes (POD_ERROR_MAX bounds the whole line). */
#define LLM_DELEGATE_ERROR_TAIL 1024u

struct llm_proc {
        pid_t pid; /* 0 once reaped */
        int status; /* its wait status, once reaped */
        int in, out, errfd; /* our ends; -EBADF once closed */
        pod_buf line; /* stdout not handed out yet */
        size_t line_off; /* where the lines handed out end (the rest is pending) */
        size_t total; /* stdout bytes read so far */
        bool out_eof;
        char tail[LLM_DELEGATE_STDERR_MAX]; /* a ring of stderr's last bytes */
        size_t tail_len, tail_pos;
        char tail_text[LLM_DELEGATE_STDERR_MAX + 1]; /* llm_proc_stderr's answer */
        char what[128]; /* the CLI, for errors */
};

static int nonblock(int fd) {
        int fl = fcntl(fd, F_GETFL);

        return fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0 ? -errno : 0;
}

static int spawn_unconfined(const llm_spawn *s, pid_t *ret_pid, pod_error *err) {
        proc_plan plan = {
                .path = s->path,
                .argv = s->argv,
                .envp = s->envp,
                .cwd = s->cwd,
                .fds = { s->fds[0], s->fds[1], s->fds[2] },
                .n_fds = 3,
                .new_session = true,
                .pdeathsig = SIGKILL,
        };

        return proc_spawn(ret_pid, &plan, err);
}

/* Pipes for the child's 0, 1, 2: child[] its ends, ours[] ours (close-on-exec both). */
static int make_pipes(int child[3], int ours[3], pod_error *err) {
        for (int i = 0; i < 3; i++) {
                int p[2];

                if (pipe2(p, O_CLOEXEC) < 0)
                        return pod_error_errno(err, "cannot make a pipe for the CLI");
                child[i] = i == 0 ? p[0] : p[1];
                ours[i] = i == 0 ? p[1] : p[0];
                if (nonblock(ours[i]) < 0)
                        return pod_error_errno(err, "cannot make a pipe for the CLI");
        }
        return 0;
}

int llm_proc_start(llm_proc **out,
                   const llm_spawn *spec,
                   const llm_call *call,
                   const char *what,
                   pod_error *err) {
        int child[3] = { -EBADF, -EBADF, -EBADF }, ours[3] = { -EBADF, -EBADF, -EBADF };
        llm_spawn s = *spec;
        llm_proc *p;
        pid_t pid = 0;
        int r;

        p = calloc(1, sizeof(*p));
        if (!p)
                return pod_error_oom(err);
        snprintf(p->what, sizeof(p->what), "%s", what);
        r = make_pipes(child, ours, err);
        if (r >= 0) {
                memcpy(s.fds, child, sizeof(s.fds));
                r = call && call->spawn ? call->spawn(call->spawn_ud, &s, &pid, err) :
                                          spawn_unconfined(&s, &pid, err);
        }
        for (int i = 0; i < 3; i++)
                safe_close(child[i]);
        if (r < 0) {
                for (int i = 0; i < 3; i++)
                        safe_close(ours[i]);
                free(p);
                return r;
        }
        p->pid = pid;
        p->in = ours[0];
        p->out = ours[1];
        p->errfd = ours[2];
        *out = p;
        return 0;
}

pid_t llm_proc_pid(const llm_proc *p) {
        return p->pid;
}

static void tail_add(llm_proc *p, const char *s, size_t n) {
        for (size_t i = 0; i < n; i++) {
                p->tail[p->tail_pos] = s[i];
                p->tail_pos = (p->tail_pos + 1) % sizeof(p->tail);
                if (p->tail_len < sizeof(p->tail))
                        p->tail_len++;
        }
}

/* What is readable on stderr, into the tail; closes it at its end. */
static void drain_stderr(llm_proc *p) {
        char chunk[4096];
        ssize_t k;

        while (p->errfd >= 0) {
                k = read(p->errfd, chunk, sizeof(chunk));
                if (k > 0)
                        tail_add(p, chunk, (size_t) k);
                else if (k == 0 || (errno != EINTR && errno != EAGAIN))
                        p->errfd = safe_close(p->errfd);
                else if (errno == EAGAIN)
                        return;
        }
}

/* Lines handed out leave the buffer (before more is appended: a line handed out stays valid
 * until the next call). */
static void compact(llm_proc *p) {
        if (p->line_off == 0)
                return;
        memmove(p->line.data, p->line.data + p->line_off, p->line.len - p->line_off);
        p->line.len -= p->line_off;
        p->line.data[p->line.len] = '\0';
        p->line_off = 0;
}

/* What is readable on stdout, into the line buffer: bounded by the output limit. */
static int drain_stdout(llm_proc *p, pod_error *err) {
        char chunk[65536];
        ssize_t k;

        while (p->out >= 0) {
                k = read(p->out, chunk, sizeof(chunk));
                if (k == 0 || (k < 0 && errno != EINTR && errno != EAGAIN)) {
                        p->out = safe_close(p->out);
                        p->out_eof = true;
                } else if (k < 0 && errno == EAGAIN)
                        return 0;
                else if (k > 0) {
                        p->total += (size_t) k;
                        if (p->total > LLM_DELEGATE_OUTPUT_MAX)
                                return pod_error_set(err, -EMSGSIZE,
                                                     "%s printed more than %u MiB in one call",
                                                     p->what, LLM_DELEGATE_OUTPUT_MAX >> 20);
                        compact(p);
                        if (buf_append(&p->line, chunk, (size_t) k) < 0)
                                return pod_error_oom(err);
                        return 0; /* one chunk at a time: lines go out as they come */
                }
        }
        return 0;
}

/* Why a wait must end now: the call's cancel or deadline. */
static int call_over(const llm_call *call, const char *what, pod_error *err) {
        if (call && call->cancel && *call->cancel)
                return pod_error_set(err, -ECANCELED, "%s was cancelled", what);
        if (call && call->deadline_ms > 0 && mono_ms() >= call->deadline_ms)
                return pod_error_set(err, -ETIMEDOUT, "%s did not finish in time", what);
        return 0;
}

static int poll_slice(const llm_call *call) {
        long long left;

        if (!call || call->deadline_ms <= 0)
                return LLM_DELEGATE_POLL_MS;
        left = call->deadline_ms - mono_ms();
        return left <= 0 ? 0 : left < LLM_DELEGATE_POLL_MS ? (int) left : LLM_DELEGATE_POLL_MS;
}

/*
 * One wait for the CLI: stdout and stderr are read as they come (so a CLI blocked writing
 * never blocks our write to its stdin), and, when want_in, until its stdin takes more.
 * 1: stdin is writable; 0: something else happened (or a slice passed); < 0 with err.
 */
static int pump(llm_proc *p, const llm_call *call, bool want_in, pod_error *err) {
        struct pollfd f[3] = {
                { p->out, POLLIN, 0 },
                { p->errfd, POLLIN, 0 },
                { want_in ? p->in : -1, POLLOUT, 0 },
        };
        int r = call_over(call, p->what, err);

        if (r < 0)
                return r;
        if (poll(f, 3, poll_slice(call)) < 0 && errno != EINTR)
                return pod_error_errno(err, "cannot wait for %s", p->what);
        if (f[1].revents)
                drain_stderr(p);
        if (f[0].revents) {
                r = drain_stdout(p, err);
                if (r < 0)
                        return r;
        }
        return want_in && f[2].revents ? 1 : 0;
}

/* The next complete line in the buffer, if any: handed out, NUL-terminated in place. */
static bool take_line(llm_proc *p, char **ret_line, size_t *ret_len) {
        size_t avail = p->line.len - p->line_off;
        char *start, *nl;

        if (!p->line.data || avail == 0)
                return false;
        start = p->line.data + p->line_off;
        nl = memchr(start, '\n', avail);
        if (!nl)
                return false;
        *nl = '\0';
        *ret_line = start;
        *ret_len = (size_t) (nl - start);
        if (*ret_len > 0 && start[*ret_len - 1] == '\r')
                start[--*ret_len] = '\0';
        p->line_off += (size_t) (nl - start) + 1;
        return true;
}

int llm_proc_line(
        llm_proc *p, const llm_call *call, char **ret_line, size_t *ret_len, pod_error *err) {
        int r;

        for (;;) {
                if (take_line(p, ret_line, ret_len))
                        return *ret_len > LLM_DELEGATE_LINE_MAX ?
                                pod_error_set(err, -EMSGSIZE, "%s printed a line over %u MiB",
                                              p->what, LLM_DELEGATE_LINE_MAX >> 20) :
                                1;
                if (p->line.len - p->line_off > LLM_DELEGATE_LINE_MAX)
                        return pod_error_set(err, -EMSGSIZE, "%s printed a line over %u MiB",
                                             p->what, LLM_DELEGATE_LINE_MAX >> 20);
                if (p->out_eof) {
                        if (p->line.len == p->line_off)
                                return 0;
                        /* A last line without its newline: handed out as it is. */
                        compact(p);
                        if (buf_append(&p->line, "\n", 1) < 0)
                                return pod_error_oom(err);
                        continue;
                }
                r = pump(p, call, false, err);
                if (r < 0)
                        return r;
        }
}

/* write(2) with SIGPIPE blocked in this thread and a pending one taken back: a CLI that
 * closed its stdin is an error (EPIPE), never the pod's death. */
static ssize_t write_nosigpipe(int fd, const char *data, size_t len) {
        static const struct timespec zero = { 0, 0 };
        sigset_t pipe_set, old;
        ssize_t k;
        int e;

        sigemptyset(&pipe_set);
        sigaddset(&pipe_set, SIGPIPE);
        pthread_sigmask(SIG_BLOCK, &pipe_set, &old);
        k = write(fd, data, len);
        e = errno;
        if (k < 0 && e == EPIPE && !sigismember(&old, SIGPIPE))
                while (sigtimedwait(&pipe_set, NULL, &zero) < 0 && errno == EINTR)
                        ;
        pthread_sigmask(SIG_SETMASK, &old, NULL);
        errno = e;
        return k;
}

int llm_proc_write(
        llm_proc *p, const llm_call *call, const char *data, size_t len, pod_error *err) {
        int r;

        while (len > 0) {
                ssize_t k;

                if (p->in < 0)
                        return pod_error_set(err, -EPIPE, "%s closed its input", p->what);
                k = write_nosigpipe(p->in, data, len);
                if (k > 0) {
                        data += k;
                        len -= (size_t) k;
                        continue;
                }
                if (k < 0 && errno == EPIPE)
                        return pod_error_set(err, -EPIPE, "%s closed its input", p->what);
                if (k < 0 && errno != EAGAIN && errno != EINTR)
                        return pod_error_errno(err, "cannot write to %s", p->what);
                r = pump(p, call, true, err);
                if (r < 0)
                        return r;
        }
        return 0;
}

void llm_proc_close_input(llm_proc *p) {
        p->in = safe_close(p->in);
}

const char *llm_proc_stderr(llm_proc *p) {
        char *t = p->tail_text;
        size_t start, n = 0;

        drain_stderr(p);
        start = (p->tail_pos + sizeof(p->tail) - p->tail_len) % sizeof(p->tail);
        for (size_t i = 0; i < p->tail_len; i++) {
                unsigned char c = (unsigned char) p->tail[(start + i) % sizeof(p->tail)];

                /* One line: control characters (newlines included) become spaces. */
                t[n++] = c < 0x20 || c == 0x7f ? ' ' : (char) c;
        }
        while (n > 0 && t[n - 1] == ' ')
                n--;
        t[n] = '\0';
        return t + strspn(t, " ");
}

bool llm_proc_running(llm_proc *p) {
        return p->pid > 0;
}

int llm_proc_wait(llm_proc *p, int timeout_ms, int *ret_status) {
        int r;

        if (p->pid > 0) {
                r = proc_wait(p->pid, timeout_ms, &p->status);
                if (r == 0)
                        return 0;
                p->pid = 0; /* reaped (or, -ECHILD, gone already) */
                if (r < 0)
                        p->status = 0;
        }
        if (ret_status)
                *ret_status = p->status;
        return 1;
}

void llm_proc_stop(llm_proc *p) {
        pid_t pid = p->pid;

        if (pid <= 0)
                return;
        /* The CLI leads its own process group (a new session): the group ends with it. */
        kill(-pid, SIGTERM);
        kill(pid, SIGTERM);
        (void) llm_proc_wait(p, LLM_DELEGATE_GRACE_MS, NULL);
        kill(-pid, SIGKILL);
        if (p->pid > 0) {
                kill(pid, SIGKILL);
                while (waitpid(pid, &p->status, 0) < 0 && errno == EINTR)
                        ;
                p->pid = 0;
        }
}

llm_proc *llm_proc_free(llm_proc *p) {
        if (!p)
                return NULL;
        llm_proc_stop(p);
        safe_close(p->in);
        safe_close(p->out);
        safe_close(p->errfd);
        buf_done(&p->line);
        free(p);
        return NULL;
}

int llm_proc_fail(llm_proc *p, const llm_call *call, const char *secret, pod_error *err) {
        const char *tail;
        int status = 0;
        char how[64];

        /* Its stdout ended: the process is ending; a short wait for its status. */
        for (int i = 0; i < 20 && llm_proc_wait(p, LLM_DELEGATE_POLL_MS, &status) == 0; i++)
                if (call_over(call, p->what, NULL) < 0)
                        break;
        drain_stderr(p);
        if (p->pid > 0)
                snprintf(how, sizeof(how), "ended its output");
        else if (WIFSIGNALED(status))
                snprintf(how, sizeof(how), "was killed by signal %d", WTERMSIG(status));
        else
                snprintf(how, sizeof(how), "exited with status %d", WEXITSTATUS(status));
        tail = llm_proc_stderr(p);
        llm_scrub(p->tail_text, secret);
        /* The end of it, which says why, fits in the one-line error. */
        if (strlen(tail) > LLM_DELEGATE_ERROR_TAIL)
                tail += strlen(tail) - LLM_DELEGATE_ERROR_TAIL;
        return pod_error_set(err, -EPROTO, "%s %s before its answer%s%s", p->what, how,
                             *tail ? ": " : "", tail);
}

/* ---- finding and starting a CLI ---------------------------------------------------------- */

char **
llm_delegate_env(char *const *envp, const char *const *names, const char *const *strip_prefixes) {
        static const char *const common[] = { "TERM",
                                              "SSL_CERT_FILE",
                                              "SSL_CERT_DIR",
                                              "CURL_CA_BUNDLE",
                                              "NODE_EXTRA_CA_CERTS",
                                              "HTTP_PROXY",
                                              "HTTPS_PROXY",
                                              "NO_PROXY",
                                              "http_proxy",
                                              "https_proxy",
                                              "no_proxy",
                                              "ALL_PROXY",
                                              "all_proxy",
                                              NULL };
        char **env = calloc(1, sizeof(char *));

        if (!env)
                return NULL;
        STRV_FOREACH(e, envp) {
                bool strip = false;

                for (const char *const *s = strip_prefixes; s && *s && !strip; s++)
                        strip = str_startswith(*e, *s);
                if (strip || !(env_inherited(*e, names) || env_entry_named(*e, common)))
                        continue;
                if (strv_push(&env, *e) < 0)
                        return strv_free(env);
        }
        return env;
}

int llm_delegate_which(char **ret, const char *name, char *const *envp) {
        const char *path = env_get(envp, "PATH");
        const char *p = path && *path ? path : "/usr/local/bin:/usr/bin:/bin";

        while (*p) {
                size_t n = strcspn(p, ":");
                _cleanup_free_ char *dir = str_from_mem(p, n), *full = NULL;
                struct stat st;

                if (!dir)
                        return -ENOMEM;
                p += n + (p[n] == ':');
                if (dir[0] != '/') /* a relative PATH entry names nothing stable */
                        continue;
                full = path_join(dir, name);
                if (!full)
                        return -ENOMEM;
                if (access(full, X_OK) == 0 && stat(full, &st) == 0 && S_ISREG(st.st_mode)) {
                        char *real = realpath(full, NULL);

                        if (!real)
                                return -errno;
                        *ret = real;
                        return 0;
                }
        }
        return -ENOENT;
}

char *llm_delegate_install_dir(const char *exe) {
        /* The directory holding the outermost node_modules: the whole npm prefix, so a
         * launcher (codex.js) may exec a sibling package's binary. */
        const char *nm = strstr(exe, "/node_modules/");

        if (nm)
                return nm == exe ? strdup("/") : str_from_mem(exe, (size_t) (nm - exe));
        return path_parent(exe);
}

char *llm_delegate_canonical(const char *path) {
        _cleanup_free_ char *parent = NULL, *real_parent = NULL;
        char *real = realpath(path, NULL);

        if (real || errno != ENOENT)
                return real;
        parent = path_parent(path);
        real_parent = parent ? realpath(parent, NULL) : NULL;
        return real_parent ? path_join(real_parent, path_basename(path)) : NULL;
}

int llm_delegate_find(char **ret,
                      const char *cli,
                      const char *package,
                      const char *spec,
                      char *const *envp,
                      pod_error *err) {
        int r = llm_delegate_which(ret, cli, envp);

        if (r == -ENOENT)
                return pod_error_set(err, -ENOENT,
                                     "model %s runs the %s CLI, which is not on PATH: install it "
                                     "with `npm install -g %s`",
                                     spec, cli, package);
        if (r < 0)
                return pod_error_set(err, r, "model %s: cannot find the %s CLI: %s", spec, cli,
                                     strerror(-r));
        return 0;
}

/* ---- the model, a task, its answer --------------------------------------------------------- */

int llm_delegate_model_init(llm_delegate_model *m, const manifest_view *v, const char *cli) {
        m->spec = strdup(v->model.spec);
        m->name = strdup(v->model.name);
        m->endpoint = v->model.endpoint_url ? strdup(v->model.endpoint_url) : NULL;
        m->key_env = v->model.key_env ? strdup(v->model.key_env) : NULL;
        if (!m->spec || !m->name || (v->model.endpoint_url && !m->endpoint) ||
            (v->model.key_env && !m->key_env))
                return -ENOMEM;
        snprintf(m->what, sizeof(m->what), "the %s CLI (model %s)", cli, m->spec);
        return 0;
}

void llm_delegate_model_done(llm_delegate_model *m) {
        free(m->spec);
        free(m->name);
        free(m->endpoint);
        free(m->key_env);
}

const char *llm_delegate_key(const llm_delegate_model *m, char *const *envp) {
        const char *k = m->key_env ? env_get(envp, m->key_env) : NULL;

        return k && *k ? k : NULL;
}

/* The user entries after the assistant's last turn, joined by blank lines. */
static char *task_text(const json_t *conv) {
        _cleanup_buf_ pod_buf b = { 0 };
        size_t n = json_array_size(conv), first = n;

        while (first > 0 && strcmp(llm_entry_role(json_array_get(conv, first - 1)), "assistant"))
                first--;
        for (size_t i = first; i < n; i++) {
                const json_t *e = json_array_get(conv, i);

                if (strcmp(llm_entry_role(e), "user") == 0)
                        buf_printf(&b, "%s%s", b.len ? "\n\n" : "", llm_entry_text(e));
        }
        buf_puts(&b, "");
        return buf_steal(&b);
}

int llm_delegate_task(char **ret, const json_t *conv, const char *spec, pod_error *err) {
        _cleanup_free_ char *text = task_text(conv);

        if (!text)
                return pod_error_oom(err);
        if (!*text)
                return pod_error_set(err, -EINVAL, "model %s: the conversation has no new task",
                                     spec);
        if (strlen(text) > LLM_TEXT_MAX)
                return pod_error_set(err, -E2BIG, "model %s: the task is over %u MiB", spec,
                                     LLM_TEXT_MAX >> 20);
        *ret = TAKE_PTR(text);
        return 0;
}

/* The actions of one line: progress to the pod, usage to its budget (< 0: exhausted). */
static int run_actions(const json_t *actions, const llm_call *call, pod_error *err) {
        const json_t *a;
        size_t i;

        json_array_foreach(actions, i, a) {
                const json_t *ev = json_object_get(a, "progress"), *u = json_object_get(a, "usage");
                int r = 0;

                if (ev && call->progress)
                        call->progress(call->progress_ud, json_incref((json_t *) ev));
                if (u && call->usage)
                        r = call->usage(call->usage_ud, u, err);
                if (r < 0)
                        return r;
        }
        return 0;
}

int llm_delegate_read(llm_proc *p,
                      const llm_call *call,
                      llm_delegate_event_fn event,
                      void *events,
                      const char *secret,
                      bool may_resume,
                      pod_error *err) {
        for (bool any = false;; any = true) {
                json_auto_t *actions = json_array();
                pod_error ev_err = { 0 };
                char *line;
                size_t len;
                int r, e;

                if (!actions)
                        return pod_error_oom(err);
                r = llm_proc_line(p, call, &line, &len, err);
                if (r == 0 && !any && may_resume)
                        return -EPIPE;
                if (r == 0)
                        return llm_proc_fail(p, call, secret, err);
                if (r < 0)
                        return r;
                e = event(events, line, len, actions, &ev_err);
                r = run_actions(actions, call, err);
                if (r < 0)
                        return r;
                if (e < 0) {
                        *err = ev_err;
                        return e;
                }
                if (e > 0)
                        return 1;
        }
}

int llm_delegate_spawn(llm_proc **out,
                       const llm_needs *n,
                       char *const *argv,
                       char *const *envp,
                       const llm_call *call,
                       const char *what,
                       pod_error *err) {
        llm_spawn s = { .path = n->exe,
                        .argv = argv,
                        .envp = envp,
                        .cwd = call->cwd,
                        .write_paths = (const char *const *) n->write_paths,
                        .read_paths = (const char *const *) n->read_paths,
                        .port = n->port };

        return llm_proc_start(out, &s, call, what, err);
}

int llm_delegate_begin(const llm_call **call,
                       const char **secret,
                       char **text,
                       const llm_delegate_model *m,
                       const json_t *conv,
                       pod_error *err) {
        static const llm_call none = { 0 };

        if (!*call)
                *call = &none;
        *secret = llm_delegate_key(m, (*call)->envp ? (*call)->envp : environ);
        return llm_delegate_task(text, conv, m->spec, err);
}

int llm_delegate_finish(llm_turn *out, int r, char **result, const char *secret, pod_error *err) {
        if (r < 0) {
                llm_scrub(err->msg, secret);
                return r;
        }
        r = llm_turn_out(out, TAKE_PTR(*result), json_array(), json_null(), err);
        if (r >= 0) {
                json_decref(out->usage);
                out->usage = NULL;
                out->counted = true;
        }
        return r;
}
