/* SPDX-License-Identifier: MIT */
/*
 * What every running pod process has, top-level or child: a run dir with its transcript,
 * a registry entry, the control socket, the tree of its children, and the worker whose
 * conversation lasts across turns. Progress goes to stderr (a child's stderr is its
 * stderr.log); with --json the events go to stdout as NDJSON instead.
 */
#include <assert.h>
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "pod.h"
#include "prompt/prompt.h"

void host_warn(const char *fmt, ...) {
        va_list ap;

        fputs("pod: warning: ", stderr);
        va_start(ap, fmt);
        vfprintf(stderr, fmt, ap);
        va_end(ap);
        fputc('\n', stderr);
}

static sem_t wake;
static pod_control *control; /* the process's one, for its life */

static void on_signal(int sig) {
        (void) sig;
        control_interrupt(control); /* async-signal-safe: a sig_atomic_t store and sem_post */
}

pod_control *host_control(void) {
        pod_error err = { 0 };

        if (!control && control_new(&control, &err) < 0) {
                host_warn("%s", err.msg);
                abort();
        }
        return control;
}

void host_signals(void) {
        struct sigaction sa = { .sa_handler = on_signal };

        sem_init(&wake, 0, 0);
        control_set_wake(host_control(), &wake);
        sigemptyset(&sa.sa_mask);
        sigaction(SIGINT, &sa, NULL);
        sigaction(SIGTERM, &sa, NULL);
        sigaction(SIGHUP, &sa, NULL);
        signal(SIGPIPE, SIG_IGN);
}

int host_wait(int timeout_s) {
        struct timespec ts;

        clock_gettime(CLOCK_REALTIME, &ts);
        ts.tv_sec += timeout_s;
        while (sem_timedwait(&wake, &ts) < 0)
                if (errno != EINTR)
                        return -errno;
        return 0;
}

static char *next_message(void *ud) {
        return control_take_message(ud);
}

/* ---- progress ---------------------------------------------------------------------------- */

/* A short description of a tool call for the progress line. */
static void call_detail(char *out, size_t n, const json_t *input) {
        static const char *const keys[] = {
                "file_path", "pattern", "command", "path", "name", NULL
        };

        out[0] = '\0';
        for (const char *const *k = keys; *k; k++) {
                const char *v = json_string_value(json_object_get(input, *k));
                if (v) {
                        _cleanup_free_ char *q = str_quote(v, 60);
                        snprintf(out, n, " %s", q ? q : "");
                        return;
                }
        }
}

/* WaitPod's outcome is its children's: "a: done, b: failed" from its "## NAME: STATE" lines,
 * never a bare "ok" for a child that failed. */
static void wait_summary(char *out, size_t n, const char *text) {
        size_t len = 0;

        out[0] = '\0';
        for (const char *l = text; l && *l && len < n;
             l = strchr(l, '\n') ? strchr(l, '\n') + 1 : NULL)
                if (strncmp(l, "## ", 3) == 0) {
                        int k = snprintf(out + len, n - len, "%s%.*s", len ? ", " : "",
                                         (int) strcspn(l + 3, "\n"), l + 3);
                        len += k > 0 ? (size_t) k : 0;
                }
}

static void sink(void *ud, const json_t *ev) {
        pod_host *h = ud;
        const char *type = json_string_value(json_object_get(ev, "type"));
        char detail[128];

        server_publish(h->server, ev);
        if (strcmp(type, "usage") == 0) { /* the turn count `status` reports */
                control_set_turns(host_control(),
                                  (unsigned) json_integer_value(json_object_get(ev, "turn")));
        }
        if (h->json) {
                json_dumpf(ev, stdout, JSON_COMPACT);
                fputc('\n', stdout);
                fflush(stdout);
                return;
        }
        if (strcmp(type, "end") == 0 && h->budget) { /* what the run spent (DESIGN §18) */
                pod_buf b = { 0 };
                pod_usage sub;
                budget_usage(h->budget, NULL, &sub);
                usage_describe(&b, &sub, budget_priced(h->budget));
                if (sub.turns > 0) /* a run whose first call failed spent nothing to say */
                        fprintf(stderr, "[usage] %s\n", buf_str(&b) ?: "");
                buf_done(&b);
        } else if (strcmp(type, "text") == 0 && !json_is_true(json_object_get(ev, "final")))
                fprintf(stderr, "%s\n", json_string_value(json_object_get(ev, "text")));
        else if (strcmp(type, "message") == 0)
                fprintf(stderr, "[message] %s\n", json_string_value(json_object_get(ev, "text")));
        else if (strcmp(type, "tool_call") == 0) {
                json_decref(h->pending);
                h->pending = json_incref((json_t *) ev);
        } else if (strcmp(type, "tool_result") == 0) {
                const char *text = json_string_value(json_object_get(ev, "text"));
                const char *name = json_string_value(json_object_get(ev, "name"));
                bool ok = json_is_true(json_object_get(ev, "ok"));
                const char *line = ok ? "" : text;
                /* Bash ends with its exit code or timeout; other tools say why first. */
                if (!ok && strcmp(name, "Bash") == 0)
                        for (const char *p = text; *p; p++)
                                if (*p == '\n' && p[1])
                                        line = p + 1;
                char states[256];
                call_detail(detail, sizeof(detail), json_object_get(h->pending, "input"));
                wait_summary(states, sizeof(states),
                             ok && strcmp(name, "WaitPod") == 0 ? text : NULL);
                fprintf(stderr, "  %s%s: %s%.*s (%lld ms)\n", name, detail,
                        states[0]  ? states :
                                ok ? "ok" :
                                     "error: ",
                        (int) strcspn(line, "\n"), line,
                        (long long) json_integer_value(json_object_get(ev, "ms")));
        }
        fflush(stderr);
}

/* ---- set-up ------------------------------------------------------------------------------ */

static bool hook_owner(void *ud, const char *token, char child[POD_NAME_BUF]) {
        pod_host *h = ud;

        return h->tree && tree_callback_owner(h->tree, token, child);
}

static int hook_event(void *ud, const char *child, const json_t *params, pod_error *err) {
        pod_host *h = ud;

        return tree_child_event(h->tree, child, params, err);
}

static int hook_reconfigure(void *ud, const json_t *params, json_t **ret, pod_error *err) {
        pod_host *h = ud;

        if (!h->tree)
                return pod_error_set(err, -EAGAIN, "the pod is not ready yet");
        return tree_reconfigure(h->tree, params, ret, err);
}

/* The SpawnPod description, from the profiles of the manifest's snapshot (DESIGN §10). */
static int spawn_description(pod_host *h, pod_error *err) {
        profile_set *set = NULL;
        int r;

        if (!manifest_view_has_tool(h->view, "SpawnPod"))
                return 0;
        r = profile_set_from_snapshot(&set, h->view->profiles, h->view->cwd, err);
        if (r >= 0)
                r = prompt_spawn_description(&h->spawn_desc, set, NULL, h->view->prompts, err);
        profile_set_free(set);
        return r;
}

static int system_prompt(pod_host *h, pod_error *err) {
        char date[POD_TIME_MAX];

        return prompt_system(&h->prompt, h->view, time_now(date, POD_TIME_DATE), err);
}

/* What the model reads: rendered before a top-level pod registers, and by a child only once
 * it has reported ready (its spawner waits for that). */
static int prompts(pod_host *h, pod_error *err) {
        if (h->prompt.len)
                return 0;
        if (system_prompt(h, err) < 0 || spawn_description(h, err) < 0)
                return -EINVAL;
        return 0;
}

/* The socket listens (served by its thread once host_serve runs) and the tree is ready. */
static int listen_and_grow(pod_host *h, pod_error *err) {
        control_hooks hooks = { .ud = h,
                                .callback_owner = hook_owner,
                                .child_event = hook_event,
                                .reconfigure = hook_reconfigure };
        tree_opts to = { .manifest = h->manifest,
                         .view = h->view,
                         .name = h->name,
                         .run_dir = h->run_dir,
                         .exe = h->exe,
                         .runtime_dir = h->runtime_dir,
                         .envp = h->envp,
                         .reg = h->reg,
                         .entry = h->entry,
                         .cancel = control_cancel_flag(host_control()),
                         .budget = h->budget };
        int r;

        h->sock = registry_path(h->reg, h->name, "sock");
        if (!h->sock)
                return pod_error_oom(err);
        to.sock = h->sock;
        r = tree_new(&h->tree, &to, err);
        if (r >= 0)
                r = control_listen(&h->server, h->sock, h->token, h->name, host_control(), &hooks,
                                   err);
        return r;
}

int host_serve(pod_host *h, pod_error *err) {
        contain_reaper_start(); /* confined by now: its thread starts inside the sandbox */
        return server_serve(h->server, err);
}

static int open_transcript(pod_host *h, pod_error *err) {
        h->transcript_path = path_join(h->run_dir, "transcript.jsonl");
        if (!h->transcript_path)
                return pod_error_oom(err);
        h->transcript = fopen(h->transcript_path, "wxe");
        if (!h->transcript)
                return pod_error_errno(err, "cannot create %s", h->transcript_path);
        return 0;
}

/* The budget the manifest grants (DESIGN §18); its usage is kept in the entry's usage.json. */
static int open_budget(pod_host *h, pod_error *err) {
        _cleanup_(manifest_view_freep) manifest_view *v = NULL;
        _cleanup_free_ char *path = registry_path(h->reg, h->name, "usage.json");

        if (!path)
                return pod_error_oom(err);
        if (manifest_view_new(&v, h->manifest, err) < 0)
                return -EINVAL;
        return budget_new(&h->budget, v, path, err);
}

static int common(pod_host *h, bool top, pod_error *err) {
        pod_cgroup_limits lim;
        const char *note;
        char exe[4096];
        ssize_t n;

        assert(h && h->manifest);
        if (!h->view) {
                int r = manifest_view_new(&h->view, h->manifest, err);
                if (r < 0)
                        return r;
        }
        h->name = h->view->name;
        if (!h->exe) { /* children run this same executable */
                n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
                if (n <= 0)
                        return pod_error_errno(err, "cannot find the pod executable");
                exe[n] = '\0';
                h->exe = strdup(exe);
        }
        if (!h->exe)
                return pod_error_oom(err);
        if (run_dir_cap_from_env(&h->run_dir_cap, h->envp, err) < 0)
                return -EINVAL;
        /* Every process this pod starts stays its own to end (docs/sandbox.md, Containment). */
        if (contain_self(err) < 0)
                return pod_error_prefix(err, "pod '%s': ", h->name);
        if (contain_limits_from_env(&lim, h->envp, err) < 0)
                return -EINVAL;
        note = contain_cgroup_start(h->name, top, &lim, h->envp);
        /* Said where it matters: a top-level pod of root (nothing else bounds its processes)
         * or one whose operator set a limit; an ordinary user's pod is not warned at each run. */
        if (note && top &&
            (getuid() == 0 || env_get(h->envp, "POD_PIDS_MAX") ||
             env_get(h->envp, "POD_MEMORY_MAX")))
                host_warn("pod '%s': %s%s", h->name,
                          contain_cgroup_path() ? "" :
                                                  "no cgroup of its own, so only the subreaper "
                                                  "contains what it starts: ",
                          note);
        if (contain_cgroup_swept())
                host_warn("pod '%s': %s", h->name, contain_cgroup_swept());
        if (registry_open(&h->reg, h->runtime_dir, err) < 0)
                return -EINVAL;
        return open_budget(h, err);
}

/* <data dir>/runs/<name>-<time>-<pid>/, created 0700 (with any missing parents). */
static int make_run_dir(pod_host *h, const char *data_dir, pod_error *err) {
        _cleanup_free_ char *runs = path_join(data_dir, "runs");
        char stamp[POD_TIME_MAX];
        pod_buf b = { 0 };
        int r;

        time_now(stamp, POD_TIME_STAMP);
        r = runs ? mkdir_p(runs, 0700) : -ENOMEM;
        if (r < 0)
                return pod_error_set(err, r, "cannot create %s: %s", runs ? runs : data_dir,
                                     strerror(-r));
        buf_printf(&b, "%s/%s-%s-%d", runs, h->name, stamp, (int) getpid());
        h->run_dir = buf_steal(&b);
        if (!h->run_dir)
                return pod_error_oom(err);
        if (mkdir(h->run_dir, 0700) < 0)
                return pod_error_errno(err, "cannot create the run directory");
        return 0;
}

/* The registry entry of a top-level pod (DESIGN §8). */
static json_t *top_entry(pod_host *h) {
        registry_entry_spec e = { .view = h->view,
                                  .sock = h->sock,
                                  .token = h->token,
                                  .transcript = h->transcript_path,
                                  .run_dir = h->run_dir };

        return registry_entry_new(&e);
}

int host_start_top(pod_host *h, const pod_dirs *dirs, pod_error *err) {
        int r;

        assert(h && h->manifest && dirs);
        h->runtime_dir = strdup(dirs->runtime_dir);
        if (!h->runtime_dir)
                return pod_error_oom(err);
        r = common(h, true, err);
        if (r >= 0)
                r = prompts(h, err);
        if (r >= 0)
                r = make_run_dir(h, dirs->data_dir, err);
        if (r >= 0)
                r = open_transcript(h, err);
        if (r >= 0)
                r = registry_new_token(h->token, err);
        if (r < 0)
                return r;
        h->sock = registry_path(h->reg, h->name, "sock");
        h->entry = h->sock ? top_entry(h) : NULL;
        free(h->sock);
        h->sock = NULL;
        if (!h->entry)
                return pod_error_oom(err);
        r = registry_reserve(h->reg, h->name, h->entry, NULL, err);
        if (r < 0)
                return r;
        h->reserved = true;
        /* Confined from here on (DESIGN §14): the manifest is resolved, the prompts rendered,
         * the run dir, transcript and entry made; the socket's thread starts confined. */
        if (h->view->sandboxed) {
                pod_delegate_extra x = { 0 };
                r = delegate_extra_of(&x, h->view, h->envp, err);
                if (r >= 0)
                        r = sandbox_confine_self(h->view, h->run_dir, h->exe, h->runtime_dir,
                                                 &x.extra, err);
                delegate_extra_done(&x);
                if (r < 0)
                        return r;
        }
        r = listen_and_grow(h, err);
        if (r >= 0)
                r = host_serve(h, err);
        if (r >= 0)
                r = host_set_state(h, "running", err);
        return r;
}

#define ENTRY_MAX (1024u * 1024u)

/* The entry the spawner reserved, from the descriptor it handed over (closed here). */
static int read_entry(pod_host *h, pod_error *err) {
        _cleanup_free_ char *text = NULL;
        json_error_t jerr;
        size_t len = 0;
        int r;

        if (h->entry_fd < 3)
                return pod_error_set(err, -EINVAL,
                                     "no registry entry was handed over (--entry-fd)");
        r = fd_read_bounded(&text, &len, h->entry_fd, ENTRY_MAX);
        h->entry_fd = safe_close(h->entry_fd);
        if (r < 0)
                return pod_error_set(err, r, "reading the registry entry from the spawner: %s",
                                     r == -EFBIG ? "over 1 MiB" : strerror(-r));
        h->entry = json_loadb(text, len, JSON_REJECT_DUPLICATES, &jerr);
        if (!json_is_object(h->entry))
                return pod_error_set(err, -EINVAL, "the registry entry from the spawner: %s",
                                     h->entry ? "not a JSON object" : jerr.text);
        if (strcmp(json_string_value(json_object_get(h->entry, "name")) ?: "", h->view->name) != 0)
                return pod_error_set(err, -EINVAL,
                                     "the registry entry from the spawner is not this pod's");
        return 0;
}

int host_start_child(pod_host *h, pod_error *err) {
        const char *tok;
        int r;

        assert(h && h->manifest);
        r = common(h, false, err);
        if (r >= 0)
                r = read_entry(h, err);
        if (r < 0)
                return r;
        /* The entry the parent reserved carries what the manifest must not: tokens, paths. */
        tok = json_string_value(json_object_get(h->entry, "token"));
        h->callback = json_string_value(json_object_get(h->entry, "callback_token"));
        h->run_dir = strdup(json_string_value(json_object_get(h->entry, "run_dir")) ?: "");
        h->parent_sock =
                strdup(json_string_value(json_object_get(h->entry, "callback_socket")) ?: "");
        if (!tok || strlen(tok) != POD_TOKEN_HEX || !h->callback || !h->run_dir || !*h->run_dir ||
            !h->parent_sock || h->parent_sock[0] != '/')
                return pod_error_set(err, -EINVAL,
                                     "registry entry of '%s' lacks its token, callback token, "
                                     "run dir or spawner's socket",
                                     h->name);
        /* The spawner's socket is for this process only: it stays out of pod.json too. */
        json_object_del(h->entry, "callback_socket");
        snprintf(h->token, sizeof(h->token), "%s", tok);
        h->reserved = true;
        if (h->view->sandboxed)
                sandbox_adopted();
        /* The transcript is created at the first turn (host_turn): on a disk, creating a file
         * costs more than the rest of a child's start, and the parent waits for ready. */
        return listen_and_grow(h, err);
}

int host_set_state(pod_host *h, const char *state, pod_error *err) {
        unsigned long long st;

        control_set_state(host_control(), state);
        json_object_set_new(h->entry, "state", json_string(state));
        if (proc_start_time(getpid(), &st) == 0) {
                json_object_set_new(h->entry, "pid", json_integer(getpid()));
                json_object_set_new(h->entry, "start_time", json_integer((json_int_t) st));
        }
        return registry_update(h->reg, h->name, h->entry, err);
}

int host_turn(pod_host *h, const char *task, char **ret_answer, pod_error *err) {
        if (!h->worker) {
                int e = h->transcript ? 0 : open_transcript(h, err);
                if (e >= 0)
                        e = prompts(h, err);
                if (e < 0)
                        return e;
                worker_opts o = { .manifest = h->manifest,
                                  .view = h->view,
                                  .system_prompt = buf_str(&h->prompt),
                                  .output_dir = h->run_dir,
                                  .transcript = h->transcript,
                                  .cancel = control_cancel_flag(host_control()),
                                  .sink = sink,
                                  .sink_ud = h,
                                  .next_message = next_message,
                                  .message_ud = host_control(),
                                  .tree = h->tree,
                                  .spawn_description =
                                          h->spawn_desc.len ? buf_str(&h->spawn_desc) : NULL };
                o.run_dir_cap = h->run_dir_cap;
                o.budget = h->budget;
                o.exe = h->exe;
                o.envp = h->envp;
                int r = worker_new(&h->worker, &o, err);
                if (r < 0)
                        return r;
        }
        return worker_turn(h->worker, task, ret_answer, err);
}

void host_write_result(pod_host *h, const char *answer, const pod_error *err) {
        _cleanup_free_ char *path = registry_path(h->reg, h->name, "result.json");
        _cleanup_free_ char *tmp = registry_path(h->reg, h->name, ".result.json.tmp");
        json_t *j = answer ? json_pack("{s:s, s:s}", "status", "ok", "result", answer) :
                             json_pack("{s:s, s:s}", "status", "failed", "error", err->msg);

        if (j && h->budget) /* what it was granted and spent (DESIGN §18) */
                json_object_update_new(j, budget_to_json(h->budget));
        /* Written before the result is reported, so it outlives an unreachable reader. */
        if (path && tmp && j && json_dump_file(j, tmp, JSON_COMPACT) == 0)
                rename(tmp, path);
        json_decref(j);
}

/* Nothing this pod started outlives it: what is left once its children stopped is killed. */
static void contain_end(const pod_host *h) {
        pod_stragglers s = { 0 };
        pod_buf b = { 0 };

        contain_kill(&s, NULL, 0); /* a failure is in s, and said below */
        contain_cgroup_end(&s);
        contain_describe(&b, &s, "the pod");
        if (b.len)
                host_warn("pod '%s': %.*s", h->name ?: "", (int) b.len - 1, b.data);
        buf_done(&b);
}

void host_stop(pod_host *h, bool remove_entry) {
        h->worker = worker_free(h->worker);
        tree_stop_all(h->tree); /* no child outlives its parent */
        contain_end(h);
        h->server = server_stop(h->server);
        h->tree = tree_free(h->tree);
        h->budget = budget_free(h->budget);
        if (h->reserved && remove_entry)
                registry_remove(h->reg, h->name, NULL);
        h->reg = registry_free(h->reg);
        if (h->transcript)
                fclose(h->transcript);
        json_decref(h->entry);
        json_decref(h->pending);
        manifest_view_free(h->view);
        buf_done(&h->prompt);
        buf_done(&h->spawn_desc);
        free(h->exe);
        free(h->sock);
        free(h->parent_sock);
        free(h->run_dir);
        free(h->runtime_dir);
        free(h->transcript_path);
        *h = (pod_host){ 0 };
}

static bool wait_gone(long pid, unsigned long long start, int ms) {
        struct timespec tick = { 0, 50 * 1000 * 1000 };

        for (int waited = 0; waited < ms; waited += 50) {
                if (!registry_alive(pid, start))
                        return true;
                nanosleep(&tick, NULL);
        }
        return !registry_alive(pid, start);
}

int host_stop_pod(
        pod_registry *reg, const char *name, const json_t *e, int grace_ms, pod_error *err) {
        _cleanup_free_ char *sock = registry_path(reg, name, "sock");
        long pid = (long) json_integer_value(json_object_get(e, "pid"));
        unsigned long long start =
                (unsigned long long) json_integer_value(json_object_get(e, "start_time"));
        json_auto_t *res = NULL;

        if (!sock)
                return pod_error_oom(err);
        if (ipc_verify(sock, (pid_t) pid, err) < 0) {
                char why[POD_ERROR_MAX];
                snprintf(why, sizeof(why), "%s", err->msg);
                return pod_error_set(err, err->code,
                                     "pod '%s': %s; its process cannot be confirmed, so pid %ld "
                                     "is not signalled",
                                     name, why, pid);
        }
        if (ipc_call(&res, sock, (pid_t) pid, json_string_value(json_object_get(e, "token")),
                     "shutdown", NULL, err) < 0)
                host_warn("%s; killing it", err->msg);
        if (!wait_gone(pid, start, grace_ms)) {
                host_warn("pod '%s' did not stop within %d s; killing it", name, grace_ms / 1000);
                if (registry_alive(pid, start))
                        kill((pid_t) pid, SIGKILL);
                wait_gone(pid, start, 1000);
        }
        registry_remove(reg, name, NULL);
        return 0;
}
