/* SPDX-License-Identifier: MIT */
/*
 * A pod's children (DESIGN §7, §8, §12): SpawnPod's sequence from the reservation on, the
 * records the spawner keeps of each child, the events children report, the write leases
 * they hold over the spawner's own tools, and the pod tools an agent uses on them. The
 * worker thread runs the tools; the socket thread delivers child events; one mutex and
 * one condition variable join them.
 */
#include <assert.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>

#include "pod.h"

/* A child's time to report ready; the spawner's POD_READY_TIMEOUT_MS (a test hook) sets it
 * from READY_TIMEOUT_MIN_MS to READY_TIMEOUT_MAX_MS. */
#define READY_TIMEOUT_MS 10000
#define READY_TIMEOUT_MIN_MS 100
#define READY_TIMEOUT_MAX_MS 600000
#define STOP_GRACE_MS 3000
#define STDERR_TAIL 1500
#define READY_MSG_MAX 1024 /* a failed child's reason, on the ready channel */
#define WAIT_MAX_S 3600
#define OUTPUT_MAX (64u * 1024u) /* ReadPodOutput returns at most this much at once */

/* A child's record in its spawner's registry entry, as last written: a record is packed again
 * only when it changed, so a spawn beside 100 children does not repack them all. */
typedef struct child_record {
        bool set;
        pid_t pid;
        char state[16];
        long long cursor;
        pod_limits grant;
        pod_usage usage;
} child_record;

typedef struct child {
        char name[POD_NAME_BUF];
        char token[POD_TOKEN_HEX + 1];
        char callback[POD_TOKEN_HEX + 1];
        char *sock, *run_dir, *transcript, *selector;
        pid_t pid;
        scope_rule *writes; /* the write lease it holds */
        size_t n_writes;
        unsigned awaited, done; /* turns asked of it, turns it reported */
        bool idle; /* its last report said it waits for work */
        bool gone; /* its process was reaped */
        char state[16]; /* starting, running, idle, failed, exited, stopped */
        char *result, *error;
        long long cursor; /* ReadPodOutput: transcript bytes already read */
        pod_limits grant; /* its budget (DESIGN §18) */
        pod_usage usage; /* its subtree's, as it last reported */
        child_record recorded; /* what the spawner's entry last said of it */
        char *record_text; /* that record as the entry's text has it: "name":{...} */
} child;

struct pod_tree {
        tree_opts o;
        pthread_mutex_t lock;
        pthread_cond_t changed;
        child **kids;
        size_t n_kids;
        unsigned spawned;
        const manifest_view *view; /* the spawner's manifest (o.view, or own) */
        manifest_view *own;
        profile_set *profiles; /* profiles_for, parsed at the first spawn after it came */
        json_t *profiles_for; /* the snapshot profiles was parsed from (a reference) */
        json_t *snapshot; /* the latest `reconfigure`'s snapshot (NULL: the manifest's);
                           * replaced under lock, never changed in place */
        /* The next child's run dir, made ahead by a helper thread while a child starts (under
         * lock): creating a directory on a disk costs a sizeable part of a spawn, renaming one
         * a tenth of that, and the spawner's own thread should leave the CPU to its child. */
        char *spare;
        pthread_t helper;
        pthread_cond_t helper_cv;
        bool helper_up, want_spare, helper_quit;
        /* The spawner's scope, opened when it started: its children's rules are opened
         * beneath these, never from their paths alone (docs/sandbox.md "Scope roots"). */
        sandbox_roots *roots;
        pid_t shell; /* the Bash tool's shell started ahead, kept; 0: none */
        pod_stragglers swept; /* killed since the last tool result said so */
        /* Something may have been left running since the last kill found nothing: set at
         * the start and when a child ends (what it left becomes this pod's); a command ends
         * with a kill of its own. A spawn walks only then: 100 children in a row do not walk
         * each other 100 times. */
        bool dirty;
        pid_t delegate; /* a delegate's CLI, kept by containment */
};

static void child_free(child *c) {
        if (!c)
                return;
        free(c->sock);
        free(c->run_dir);
        free(c->transcript);
        free(c->selector);
        free(c->record_text);
        for (size_t i = 0; i < c->n_writes; i++)
                scope_rule_done(&c->writes[i]);
        free(c->writes);
        free(c->result);
        free(c->error);
        free(c);
}

int tree_new(pod_tree **out, const tree_opts *o, pod_error *err) {
        pod_tree *t = calloc(1, sizeof(*t));
        int r;

        assert(out && o);
        if (!t)
                return pod_error_oom(err);
        r = o->view ? 0 : manifest_view_new(&t->own, o->manifest, err);
        t->view = o->view ?: t->own;
        if (r >= 0)
                r = sandbox_roots_open(&t->roots, &t->view->scope, err);
        if (r < 0) {
                manifest_view_free(t->own);
                free(t);
                return r;
        }
        t->o = *o;
        t->dirty = true; /* what ran before it is unknown: the first spawn walks */
        pthread_mutex_init(&t->lock, NULL);
        {
                /* WaitPod's deadlines are on the monotonic clock, as the wait must be. */
                pthread_condattr_t ca;
                pthread_condattr_init(&ca);
                pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
                pthread_cond_init(&t->changed, &ca);
                pthread_cond_init(&t->helper_cv, &ca);
                pthread_condattr_destroy(&ca);
        }
        *out = t;
        return 0;
}

static child *find(pod_tree *t, const char *name) {
        for (size_t i = 0; i < t->n_kids; i++)
                if (strcmp(t->kids[i]->name, name) == 0)
                        return t->kids[i];
        return NULL;
}

static void forget(pod_tree *t, child *c) {
        for (size_t i = 0; i < t->n_kids; i++)
                if (t->kids[i] == c) {
                        t->kids[i] = t->kids[--t->n_kids];
                        break;
                }
        child_free(c);
}

static bool live(const child *c) {
        return !c->gone;
}

static bool running(const child *c) {
        return live(c) && (c->done < c->awaited || !c->idle);
}

/* ---- the spawner's registry entry ------------------------------------------------------- */

/* Whether c's record in the entry still says what c is; if not, it is made current. */
static bool record_current(child *c) {
        child_record *r = &c->recorded;

        if (r->set && r->pid == c->pid && strcmp(r->state, c->state) == 0 &&
            r->cursor == c->cursor && memcmp(&r->grant, &c->grant, sizeof(r->grant)) == 0 &&
            memcmp(&r->usage, &c->usage, sizeof(r->usage)) == 0)
                return true;
        *r = (child_record){ .set = true,
                             .pid = c->pid,
                             .cursor = c->cursor,
                             .grant = c->grant,
                             .usage = c->usage };
        snprintf(r->state, sizeof(r->state), "%s", c->state);
        return false;
}

/* c's record, set in kids, and its text kept for the entry's: "name":{...}. */
static int record_child(json_t *kids, child *c) {
        json_t *one = json_object(),
               *rec = json_pack("{s:i, s:s, s:s, s:I, s:o, s:o}", "pid", (int) c->pid, "state",
                                c->state, "profile", c->selector, "read_cursor",
                                (json_int_t) c->cursor, "budget", limits_to_json(&c->grant),
                                "usage", usage_to_json(&c->usage));
        char *text = NULL;

        if (one && rec && json_object_set(one, c->name, rec) == 0)
                text = json_dumps(one, JSON_COMPACT | JSON_SORT_KEYS);
        json_decref(one);
        if (!text || json_object_set_new(kids, c->name, rec) < 0) {
                free(text);
                c->recorded.set = false;
                return -ENOMEM;
        }
        text[strlen(text) - 1] = '\0'; /* "name":{...} without the braces around it */
        free(c->record_text);
        c->record_text = strdup(text + 1);
        free(text);
        return c->record_text ? 0 : -ENOMEM;
}

/* Step 8: the entry lists each child with what the spawner keeps of it. The list is kept in
 * the entry, a record packed again only when it changed, and the list's text is made from
 * each child's kept text: a spawn beside 100 children neither packs nor dumps them all. */
static void record_children(pod_tree *t) {
        pod_buf text = { 0 };
        json_t *kids;
        int r = 0;

        if (!t->o.entry || !t->o.reg)
                return;
        pthread_mutex_lock(&t->lock);
        kids = json_object_get(t->o.entry, "children");
        if (!json_is_object(kids) || json_object_size(kids) > t->n_kids) { /* a child left */
                kids = json_object();
                if (!kids || json_object_set_new(t->o.entry, "children", kids) < 0)
                        r = -ENOMEM;
                for (size_t i = 0; i < t->n_kids; i++)
                        t->kids[i]->recorded.set = false;
        }
        buf_puts(&text, "{");
        for (size_t i = 0; r >= 0 && i < t->n_kids; i++) {
                child *c = t->kids[i];
                if (!record_current(c) || !c->record_text)
                        r = record_child(kids, c);
                buf_puts(&text, i ? "," : "");
                buf_puts(&text, c->record_text ?: "");
        }
        buf_puts(&text, "}");
        pthread_mutex_unlock(&t->lock);
        if (r >= 0 && buf_str(&text))
                registry_update_member(t->o.reg, t->o.name, t->o.entry, "children", buf_str(&text),
                                       NULL);
        buf_done(&text);
}

/* ---- containment ------------------------------------------------------------------------- */

/*
 * Kill what this pod left running (docs/sandbox.md, Containment): its live children (each a
 * subreaper for its own processes) and the shell started ahead are kept, with everything
 * below them. Under the lock: no child starts or ends meanwhile.
 */
static int contain_locked(pod_tree *t, pod_stragglers *report) {
        _cleanup_free_ pid_t *keep = calloc(t->n_kids + 2, sizeof(*keep));
        size_t n = 0;
        unsigned left;
        int r;

        if (!keep)
                return report->error = -ENOMEM;
        for (size_t i = 0; i < t->n_kids; i++)
                if (live(t->kids[i]) && t->kids[i]->pid > 0)
                        keep[n++] = t->kids[i]->pid;
        if (t->shell > 0)
                keep[n++] = t->shell;
        if (t->delegate > 0)
                keep[n++] = t->delegate;
        left = report->left;
        r = contain_kill(report, keep, n);
        t->dirty = r < 0 || report->left > left; /* clean until a command or a child ends */
        return r;
}

int tree_contain(pod_tree *t, pod_stragglers *report) {
        int r;

        pthread_mutex_lock(&t->lock);
        r = contain_locked(t, report);
        pthread_mutex_unlock(&t->lock);
        return r;
}

/*
 * Before a spawn: end what this pod left running. A write lease is refused when that cannot
 * be done, or when something survived the kill's rounds (it may hold write there).
 */
static int contain_before_lease(pod_tree *t, bool writes, pod_error *err) {
        unsigned survived = 0;
        int r = 0;

        pthread_mutex_lock(&t->lock);
        if (t->dirty) {
                survived = t->swept.left;
                r = contain_locked(t, &t->swept);
                survived = t->swept.left - survived;
        }
        pthread_mutex_unlock(&t->lock);
        if (r < 0)
                return pod_error_set(err, -ECHILD,
                                     "SpawnPod: pod '%s' cannot walk its processes to end what it "
                                     "left running, so it grants no lease",
                                     t->o.name);
        if (survived && writes)
                return pod_error_set(err, -EBUSY,
                                     "SpawnPod: %u process%s pod '%s' left running survived its "
                                     "kill, and may write where the lease would be; it grants no "
                                     "write lease until they are gone",
                                     survived, survived == 1 ? "" : "es", t->o.name);
        return 0;
}

void tree_note_shell(pod_tree *t, pid_t pid) {
        pthread_mutex_lock(&t->lock);
        t->shell = pid;
        pthread_mutex_unlock(&t->lock);
}

void tree_note_delegate(pod_tree *t, pid_t pid) {
        pthread_mutex_lock(&t->lock);
        t->delegate = pid;
        pthread_mutex_unlock(&t->lock);
}

/* ---- budgets ---------------------------------------------------------------------------- */

/* A child gone: what it left of its grant returns, unless it ended without its last report
 * (exited), when all of it counts as spent (docs/budgets.md). No-op once done. */
static void ended(pod_tree *t, const child *c) {
        if (t->o.budget)
                budget_child_end(t->o.budget, c->name, false);
}

/* The usage a child's event carries (its subtree's so far), checked and kept in its record;
 * a bad one refuses the event. Under the lock; the budget counts it after (tree_child_event). */
static int
child_usage(child *c, const json_t *params, pod_usage *ret, bool *ret_has, pod_error *err) {
        const json_t *u = json_object_get(params, "usage");
        int r;

        *ret_has = false;
        if (!u)
                return 0;
        r = usage_from_json(ret, u, err);
        if (r < 0)
                return r;
        if (usage_tokens(ret) > usage_tokens(&c->usage) || ret->turns > c->usage.turns ||
            ret->cost_nano > c->usage.cost_nano || ret->cache_read > c->usage.cache_read)
                c->usage = *ret;
        *ret_has = true;
        return 0;
}

static void grant_summary(pod_buf *b, const pod_limits *g) {
        buf_puts(b, "tokens ");
        if (g->tokens == POD_UNLIMITED)
                buf_puts(b, "unbounded");
        else
                buf_printf(b, "%llu", (unsigned long long) g->tokens);
        buf_printf(b, ", turns %llu, %llu s", (unsigned long long) g->turns,
                   (unsigned long long) g->seconds);
        if (g->cost_nano != POD_UNLIMITED)
                buf_printf(b, ", $%.4f", (double) g->cost_nano / (double) POD_NANO_PER_USD);
}

/* "usage: tokens 1,234, turns 3, $0.01 of budget tokens 5000, turns 50, 600 s" */
static void usage_line(pod_buf *b, const child *c) {
        buf_puts(b, "usage: ");
        usage_describe(b, &c->usage, c->grant.cost_nano != POD_UNLIMITED || c->usage.cost_nano);
        buf_puts(b, " (budget: ");
        grant_summary(b, &c->grant);
        buf_puts(b, ")\n");
}

/* ---- reaping ----------------------------------------------------------------------------- */

/*
 * A child whose process ended: what it left running (reparented to this pod, its subreaper)
 * is killed, then its entry goes, and with it its leases. Under the lock.
 */
static void reap_locked(pod_tree *t) {
        bool any = false;

        for (size_t i = 0; i < t->n_kids; i++) {
                child *c = t->kids[i];
                int status;
                if (c->gone || waitpid(c->pid, &status, WNOHANG) != c->pid)
                        continue;
                c->gone = true;
                any = true;
                if (strcmp(c->state, "stopped") != 0 && strcmp(c->state, "exited") != 0 &&
                    !(strcmp(c->state, "failed") == 0 && c->error)) {
                        free(c->error);
                        c->error = strdup(WIFSIGNALED(status) ? "the pod was killed" :
                                                                "the pod exited without reporting");
                        snprintf(c->state, sizeof(c->state), "%s", "failed");
                }
                c->idle = true;
                c->done = c->awaited;
                ended(t, c);
                contain_cgroup_end_child(c->name, &t->swept); /* its cgroup first: all of it */
                contain_locked(t, &t->swept);
                registry_remove(t->o.reg, c->name, NULL);
        }
        if (any)
                pthread_cond_broadcast(&t->changed);
}

static void reap(pod_tree *t) {
        pthread_mutex_lock(&t->lock);
        reap_locked(t);
        pthread_mutex_unlock(&t->lock);
}

/* ---- hooks for the socket and the file tools -------------------------------------------- */

bool tree_callback_owner(pod_tree *t, const char *token, char owner[POD_NAME_BUF]) {
        bool found = false;

        pthread_mutex_lock(&t->lock);
        for (size_t i = 0; i < t->n_kids && !found; i++)
                if (live(t->kids[i]) && strlen(token) == POD_TOKEN_HEX &&
                    strcmp(t->kids[i]->callback, token) == 0) {
                        snprintf(owner, POD_NAME_BUF, "%s", t->kids[i]->name);
                        found = true;
                }
        pthread_mutex_unlock(&t->lock);
        return found;
}

static void set_text(char **slot, const json_t *v) {
        free(*slot);
        *slot = json_is_string(v) ? strdup(json_string_value(v)) : NULL;
}

int tree_child_event(pod_tree *t, const char *name, const json_t *params, pod_error *err) {
        const char *kind = json_string_value(json_object_get(params, "kind"));
        unsigned turn = (unsigned) json_integer_value(json_object_get(params, "turn"));
        bool has_usage = false, last = false;
        pod_usage got;
        child *c;
        int r = 0;

        pthread_mutex_lock(&t->lock);
        c = find(t, name);
        if (!c)
                r = pod_error_set(err, -ENOENT, "no child named '%s'", name);
        else if ((r = child_usage(c, params, &got, &has_usage, err)) < 0)
                ;
        else if (strcmp(kind, "ready") == 0 || strcmp(kind, "usage") == 0)
                ;
        else if (strcmp(kind, "turn_end") == 0 || strcmp(kind, "failed") == 0) {
                if (turn > c->done)
                        c->done = turn;
                c->idle = !json_is_false(json_object_get(params, "idle"));
                set_text(&c->result, json_object_get(params, "result"));
                set_text(&c->error, json_object_get(params, "error"));
                snprintf(c->state, sizeof(c->state), "%s", kind[0] == 't' ? "idle" : "failed");
        } else if (strcmp(kind, "exited") == 0) {
                c->idle = true;
                c->done = c->awaited;
                last = true;
                /* A child that failed and then exited stays failed, with its error. */
                if (strcmp(c->state, "stopped") != 0 && strcmp(c->state, "failed") != 0)
                        snprintf(c->state, sizeof(c->state), "%s", "exited");
        } else
                r = pod_error_set(err, -EINVAL,
                                  "child_event kind must be ready, usage, turn_end, failed or "
                                  "exited");
        pthread_mutex_unlock(&t->lock);
        /* Counted outside the lock: the count goes up to this pod's spawner, and waits for it.
         * An exit with its usage is the child's last word: what it left of its grant returns. */
        if (r >= 0 && t->o.budget && has_usage)
                budget_child_usage(t->o.budget, name, &got);
        if (r >= 0 && t->o.budget && last)
                budget_child_end(t->o.budget, name, has_usage);
        pthread_mutex_lock(&t->lock);
        pthread_cond_broadcast(&t->changed);
        pthread_mutex_unlock(&t->lock);
        return r;
}

bool tree_leased(pod_tree *t, const char *real, char *holder) {
        bool found = false;

        pthread_mutex_lock(&t->lock);
        for (size_t i = 0; i < t->n_kids && !found; i++) {
                child *c = t->kids[i];
                for (size_t k = 0; live(c) && k < c->n_writes && !found; k++)
                        /* A lease is its path's whole tree, as the kernel grants it. */
                        if (path_is_under(real, c->writes[k].path)) {
                                found = true;
                                if (holder)
                                        snprintf(holder, POD_NAME_BUF, "%s", c->name);
                        }
        }
        pthread_mutex_unlock(&t->lock);
        return found;
}

int tree_lease_list(pod_tree *t, scope_lease **out, size_t *ret_n) {
        scope_lease *l = NULL;
        size_t n = 0;
        int r = 0;

        pthread_mutex_lock(&t->lock);
        for (size_t i = 0; i < t->n_kids && r == 0; i++) {
                child *c = t->kids[i];
                for (size_t k = 0; live(c) && k < c->n_writes && r == 0; k++) {
                        scope_lease *m = realloc(l, (n + 1) * sizeof(*l));
                        if (!m) {
                                r = -ENOMEM;
                                break;
                        }
                        l = m;
                        l[n] = (scope_lease){ strdup(c->writes[k].path), strdup(c->name) };
                        if (!l[n].path || !l[n].holder)
                                r = -ENOMEM;
                        n++;
                }
        }
        pthread_mutex_unlock(&t->lock);
        if (r < 0) {
                lease_list_free(l, n);
                return r;
        }
        *out = l;
        *ret_n = n;
        return 0;
}

size_t tree_live_children(pod_tree *t) {
        size_t n = 0;

        pthread_mutex_lock(&t->lock);
        reap_locked(t);
        for (size_t i = 0; i < t->n_kids; i++)
                n += live(t->kids[i]);
        pthread_mutex_unlock(&t->lock);
        return n;
}

/* ---- stopping ---------------------------------------------------------------------------- */

/* shutdown over the socket, a grace period, then SIGKILL; the entry goes either way. */
static void stop_child(pod_tree *t, child *c) {
        json_t *res = NULL;

        if (c->gone)
                return;
        pthread_mutex_lock(&t->lock);
        snprintf(c->state, sizeof(c->state), "%s", "stopped");
        pthread_mutex_unlock(&t->lock);
        if (ipc_call(&res, c->sock, c->pid, c->token, "shutdown", NULL, NULL) >= 0)
                json_decref(res);
        else
                kill(c->pid, SIGTERM);
        if (proc_wait(c->pid, STOP_GRACE_MS, NULL) == 0)
                proc_kill(c->pid, 0);
        pthread_mutex_lock(&t->lock);
        c->gone = true;
        c->idle = true;
        c->done = c->awaited;
        ended(t, c);
        contain_cgroup_end_child(c->name, &t->swept); /* the lease returns without what */
        contain_locked(t, &t->swept); /* the child left */
        registry_remove(t->o.reg, c->name, NULL);
        pthread_cond_broadcast(&t->changed);
        pthread_mutex_unlock(&t->lock);
}

void tree_stop_all(pod_tree *t) {
        if (!t)
                return;
        /* No child outlives its parent: ask them all to stop, then make sure. */
        for (size_t i = 0; i < t->n_kids; i++) {
                child *c = t->kids[i];
                json_t *res = NULL;
                if (!c->gone &&
                    ipc_call(&res, c->sock, c->pid, c->token, "shutdown", NULL, NULL) >= 0)
                        json_decref(res);
        }
        for (size_t i = 0; i < t->n_kids; i++)
                stop_child(t, t->kids[i]);
}

/* The first live child that is idle (its work done, its grant still reserved), or NULL. */
static child *idle_child_locked(pod_tree *t, size_t *ret_running) {
        child *idle = NULL;

        *ret_running = 0;
        for (size_t i = 0; i < t->n_kids; i++) {
                child *c = t->kids[i];
                if (running(c))
                        (*ret_running)++;
                else if (live(c) && !idle)
                        idle = c;
        }
        return idle;
}

int tree_await_budget(pod_tree *t, pod_budget *b) {
        for (;;) {
                struct timespec slice;
                size_t busy;
                child *idle;
                if (budget_can_call(b) || budget_exhausted(b, NULL, 0))
                        return budget_can_call(b) ? 0 : -EDQUOT;
                if (t->o.cancel && *t->o.cancel)
                        return -ECANCELED;
                pthread_mutex_lock(&t->lock);
                reap_locked(t);
                idle = idle_child_locked(t, &busy);
                if (busy) { /* their reports wake us; the slice notices a silent death */
                        clock_gettime(CLOCK_MONOTONIC, &slice);
                        slice.tv_sec += 1;
                        pthread_cond_timedwait(&t->changed, &t->lock, &slice);
                }
                pthread_mutex_unlock(&t->lock);
                if (!busy && !idle)
                        return -EDQUOT;
                if (!busy)
                        stop_child(t, idle);
        }
}

pod_tree *tree_free(pod_tree *t) {
        if (!t)
                return NULL;
        tree_stop_all(t);
        for (size_t i = 0; i < t->n_kids; i++)
                child_free(t->kids[i]);
        free(t->kids);
        if (t->helper_up) {
                pthread_mutex_lock(&t->lock);
                t->helper_quit = true;
                pthread_cond_signal(&t->helper_cv);
                pthread_mutex_unlock(&t->lock);
                pthread_join(t->helper, NULL);
        }
        if (t->spare)
                rmdir(t->spare);
        free(t->spare);
        profile_set_free(t->profiles);
        manifest_view_free(t->own);
        json_decref(t->profiles_for);
        json_decref(t->snapshot);
        sandbox_roots_free(t->roots);
        pthread_cond_destroy(&t->helper_cv);
        pthread_cond_destroy(&t->changed);
        pthread_mutex_destroy(&t->lock);
        free(t);
        return NULL;
}

/* ---- SpawnPod ---------------------------------------------------------------------------- */

/* Variables a child pod inherits besides the common ones (base/env.c) and its model's key
 * variable; other keys, tokens and sockets stay behind (DESIGN §9). The model's transport
 * (its CA bundle, proxies, time limits: docs/models.md) passes on. */
static const char *const env_pod[] = {
        "TERM", "NO_COLOR", "POD_SANDBOX", "POD_IDLE_TIMEOUT_S", "POD_FAULT", "POD_RUN_DIR_CAP_MIB",
        "POD_PIDS_MAX", "POD_MEMORY_MAX", "POD_CGROUP_PER_CHILD", "SSL_CERT_FILE", "CURL_CA_BUNDLE",
        "HTTPS_PROXY", "https_proxy", "http_proxy", "ALL_PROXY", "all_proxy", "NO_PROXY",
        "no_proxy", "POD_MODEL_CONNECT_TIMEOUT_S", "POD_MODEL_STALL_TIMEOUT_S",
        "POD_MODEL_CALL_TIMEOUT_S", "POD_MODEL_ATTEMPTS",
        /* the delegate CLIs' state dirs and CA bundle */
        "CLAUDE_CONFIG_DIR", "CODEX_HOME", "NODE_EXTRA_CA_CERTS", NULL
};

static char **child_env(const pod_tree *t, const manifest_view *cv) {
        const char *key[] = { cv->model.key_env, NULL };
        char **env = NULL;
        pod_buf b = { 0 };

        for (char *const *e = t->o.envp; e && *e; e++)
                if ((env_inherited(*e, env_pod) || env_entry_named(*e, key)) &&
                    strv_push(&env, *e) < 0)
                        return strv_free(env);
        buf_printf(&b, "POD_RUNTIME_DIR=%s", t->o.runtime_dir);
        if (b.oom || strv_consume(&env, buf_steal(&b)) < 0)
                return strv_free(env);
        return env;
}

/* The last lines of the child's stderr, for an error message. */
static void stderr_tail(pod_buf *out, const char *path) {
        _cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
        char buf[STDERR_TAIL + 1];
        struct stat st;
        ssize_t n;

        if (fd < 0 || fstat(fd, &st) < 0 || st.st_size == 0)
                return;
        n = pread(fd, buf, STDERR_TAIL, st.st_size > STDERR_TAIL ? st.st_size - STDERR_TAIL : 0);
        if (n <= 0)
                return;
        buf[n] = '\0';
        while (n > 0 && buf[n - 1] == '\n')
                buf[--n] = '\0';
        buf_printf(out, "; its stderr ends: %s", buf);
}

static int memfd_with(const char *text, pod_error *err) {
        int fd = memfd_create("pod-manifest", MFD_CLOEXEC);
        size_t len = strlen(text), done = 0;

        if (fd < 0)
                return pod_error_errno(err, "memfd_create");
        while (done < len) {
                ssize_t k = write(fd, text + done, len - done);
                if (k < 0) {
                        safe_close(fd); /* keeps errno */
                        return pod_error_errno(err, "writing the manifest");
                }
                done += (size_t) k;
        }
        lseek(fd, 0, SEEK_SET);
        return fd;
}

typedef struct spawn_ctx {
        pod_tree *t;
        child *c;
        json_t *manifest;
        manifest_view *view; /* the child's */
        const char *task;
        json_t *entry;
        bool reserved;
        bool granted; /* its budget is reserved out of the spawner's */
        int ready_fd;
} spawn_ctx;

/* The entry as the child gets it: with its spawner's socket, which goes nowhere else (not in
 * argv, where /proc shows it to every process: docs/sandbox.md; not in pod.json). */
static char *handed_entry(const spawn_ctx *s) {
        json_t *e = json_deep_copy(s->entry);
        char *text = NULL;

        if (e && json_object_set_new(e, "callback_socket", json_string(s->t->o.sock)) == 0)
                text = json_dumps(e, JSON_COMPACT);
        json_decref(e);
        return text;
}

/*
 * Step 5: the child starts from one audited path, handed its manifest, its registry entry
 * and its channel (ready, then run), confined before exec by a sandbox prepared here
 * (DESIGN §14).
 */
_Static_assert(POD_ADOPT_CONFIG_FD == 3 && POD_ADOPT_READY_FD == 4 && POD_ADOPT_ENTRY_FD == 5,
               "start() hands the descriptors over in this order");

/* The child's sandbox, with what the delegate CLIs it may run need (delegate.c). */
static int child_sandbox(pod_sandbox **sb, const spawn_ctx *s, char *const *env, pod_error *err) {
        pod_delegate_extra x = { 0 };
        int r = delegate_extra_of(&x, s->view, env, err);

        if (r >= 0)
                r = sandbox_pod(sb, s->view, s->t->roots, s->c->run_dir, s->t->o.exe,
                                s->t->o.runtime_dir, &x.extra, err);
        delegate_extra_done(&x);
        return r;
}

static int start(spawn_ctx *s, pod_error *err) {
        _cleanup_free_ char *text = json_dumps(s->manifest, JSON_COMPACT);
        _cleanup_free_ char *entry = handed_entry(s);
        _cleanup_free_ char *errlog = registry_path(s->t->o.reg, s->c->name, "stderr.log");
        _cleanup_strv_free_ char **env = child_env(s->t, s->view);
        _cleanup_close_ int mfd = -EBADF, efd = -EBADF, nul = -EBADF, log = -EBADF, cgfd = -EBADF;
        _cleanup_(sandbox_freep) pod_sandbox *sb = NULL;
        bool confine = s->view->sandboxed;
        int ready[2] = { -EBADF, -EBADF };
        unsigned long long st = 0;
        int r;

        if (!text || !entry || !errlog || !env)
                return pod_error_oom(err);
        if (confine && child_sandbox(&sb, s, env, err) < 0)
                return pod_error_prefix(err, "SpawnPod: pod '%s' cannot be confined: ", s->c->name);
        /* Its cgroup, in this pod's, where this pod has one (docs/sandbox.md, Containment). */
        if (contain_cgroup_child(s->c->name, sb ? sandbox_ruleset_fd(sb) : -1, &cgfd, &env, err) <
            0)
                return pod_error_prefix(err, "SpawnPod: pod '%s': ", s->c->name);
        mfd = memfd_with(text, err);
        efd = mfd < 0 ? -EBADF : memfd_with(entry, err);
        if (mfd < 0 || efd < 0)
                return mfd < 0 ? mfd : efd;
        nul = open("/dev/null", O_RDWR | O_CLOEXEC);
        log = open(errlog, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC | O_NOFOLLOW, 0600);
        /* The ready descriptor is the spawner's channel: ready, then run (protocol.md). */
        if (nul < 0 || log < 0 || socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, ready) < 0)
                return pod_error_errno(err, "preparing the child");
        {
                /* Nothing secret or private in argv: /proc shows it to every process. */
                char *argv[] = { "pod",
                                 POD_ADOPT_ARG,
                                 POD_ADOPT_CONFIG_ARG,
                                 "@fd:" POD_ADOPT_STR(POD_ADOPT_CONFIG_FD),
                                 POD_ADOPT_READY_ARG,
                                 POD_ADOPT_STR(POD_ADOPT_READY_FD),
                                 POD_ADOPT_ENTRY_ARG,
                                 POD_ADOPT_STR(POD_ADOPT_ENTRY_FD),
                                 NULL };
                proc_plan p = {
                        .path = s->t->o.exe,
                        .argv = argv,
                        .envp = env,
                        .cwd = s->view->cwd,
                        /* 0-2, then the handshake's descriptors in their order */
                        .fds = { nul, log, log, mfd, ready[1], efd },
                        .n_fds = 6,
                        .new_session = true,
                        .pdeathsig = SIGTERM,
                        .confine = confine ? sandbox_confine_hook : NULL,
                        .confine_ud = sb,
                        .confine_fd = sb ? sandbox_ruleset_fd(sb) : 0,
                        .start_time = &st,
                        .cgroup_fd = cgfd > 0 ? cgfd : 0,
                };
                r = proc_spawn(&s->c->pid, &p, err);
        }
        sb = sandbox_free(sb);
        ready[1] = safe_close(ready[1]);
        if (r < 0) {
                safe_close(ready[0]);
                return r;
        }
        s->ready_fd = ready[0];
        /* The entry now names the child's process, so liveness follows the child. Its start
         * time comes from the child (proc_plan.start_time), which is still in exec. */
        if (st || proc_start_time(s->c->pid, &st) == 0) {
                json_object_set_new(s->entry, "pid", json_integer(s->c->pid));
                json_object_set_new(s->entry, "start_time", json_integer((json_int_t) st));
                registry_update(s->t->o.reg, s->c->name, s->entry, NULL);
        }
        return 0;
}

/* What a child that failed to start wrote after '!' on the ready channel, until it closed. */
static void start_failure(pod_buf *out, int fd) {
        char buf[READY_MSG_MAX + 1];
        size_t len = 0;
        struct pollfd p = { fd, POLLIN, 0 };

        while (len < READY_MSG_MAX && poll(&p, 1, 1000) > 0) {
                ssize_t k = read(fd, buf + len, READY_MSG_MAX - len);
                if (k <= 0)
                        break;
                len += (size_t) k;
        }
        buf[len] = '\0';
        if (len)
                buf_printf(out, ": %s", buf);
}

static int ready_timeout_ms(void) {
        const char *v = getenv("POD_READY_TIMEOUT_MS");
        int n;

        if (v && str_to_int(v, &n) == 0 && n >= READY_TIMEOUT_MIN_MS && n <= READY_TIMEOUT_MAX_MS)
                return n;
        return READY_TIMEOUT_MS;
}

/*
 * Step 6: 'R' on the ready channel once the child's socket listens; '!' and the reason when
 * its start failed; EOF: it died. The tail of its stderr.log is added where the spawner may
 * read it (a sandboxed spawner reads no registry entry: the log's path is named instead).
 */
static int await_ready(spawn_ctx *s, pod_error *err) {
        _cleanup_free_ char *errlog = registry_path(s->t->o.reg, s->c->name, "stderr.log");
        struct pollfd p = { s->ready_fd, POLLIN, 0 };
        pod_buf why = { 0 };
        int n, r, ms = ready_timeout_ms();
        char byte = 0, waited[96];

        do
                n = poll(&p, 1, ms);
        while (n < 0 && errno == EINTR);
        if (n > 0 && read(s->ready_fd, &byte, 1) == 1 && byte == POD_ADOPT_READY)
                return 0;
        if (byte == POD_ADOPT_FAILED)
                start_failure(&why, s->ready_fd);
        if (n == 0)
                proc_kill(s->c->pid, 0);
        else
                proc_wait(s->c->pid, 1000, NULL);
        if (!why.len && errlog)
                stderr_tail(&why, errlog);
        snprintf(waited, sizeof(waited), "did not report ready within %g s and was stopped",
                 ms / 1000.0);
        r = pod_error_set(err, n == 0 ? -ETIMEDOUT : -ECHILD, "SpawnPod: pod '%s' %s%s%s%s",
                          s->c->name, n == 0 ? waited : "exited before it was ready", buf_str(&why),
                          why.len || !errlog ? "" : "; its stderr is in ",
                          why.len || !errlog ? "" : errlog);
        buf_done(&why);
        return r;
}

/* Step 7: the task, acknowledged, on the channel that brought ready: only the spawner and
 * its child hold it, so neither a token nor a connection to the child's socket is needed. */
static int hand_task(spawn_ctx *s, pod_error *err) {
        json_t *params = json_pack("{s:s}", "task", s->task), *res = NULL;
        int r = params ? ipc_call_fd(&res, s->ready_fd, "run", params, err) : pod_error_oom(err);

        json_decref(params);
        if (r < 0)
                return pod_error_prefix(err,
                                        "SpawnPod: pod '%s' did not take its task: ", s->c->name);
        pthread_mutex_lock(&s->t->lock);
        s->c->awaited = (unsigned) json_integer_value(json_object_get(res, "turn"));
        /* Its report of that turn may have come first (over the spawner's socket): then it is
         * idle already, and stays so. */
        if (s->c->done < s->c->awaited)
                s->c->idle = false;
        if (strcmp(s->c->state, "starting") == 0)
                snprintf(s->c->state, sizeof(s->c->state), "%s", "running");
        pthread_mutex_unlock(&s->t->lock);
        json_decref(res);
        return 0;
}

static json_t *child_entry(spawn_ctx *s) {
        registry_entry_spec e = { .view = s->view,
                                  .parent = s->t->o.name,
                                  .sock = s->c->sock,
                                  .token = s->c->token,
                                  .callback_token = s->c->callback,
                                  .transcript = s->c->transcript,
                                  .run_dir = s->c->run_dir };

        return registry_entry_new(&e);
}

/* The child's record, before anything is reserved: names, tokens, paths, its leases. */
static int make_child(spawn_ctx *s, pod_error *err) {
        child *c = calloc(1, sizeof(*c));
        const pod_scope *sc = &s->view->scope;
        const char *name = s->view->name;
        pod_buf dir = { 0 };
        _cleanup_free_ char *spare = NULL;
        int r;

        if (!c)
                return pod_error_oom(err);
        s->c = c;
        snprintf(c->name, sizeof(c->name), "%s", name);
        snprintf(c->state, sizeof(c->state), "%s", "starting");
        c->idle = false;
        r = registry_new_token(c->token, err);
        if (r >= 0)
                r = registry_new_token(c->callback, err);
        if (r < 0)
                return r;
        buf_printf(&dir, "%s/%s-%u", s->t->o.run_dir, name, ++s->t->spawned);
        c->run_dir = buf_steal(&dir);
        c->sock = registry_path(s->t->o.reg, name, "sock");
        c->transcript = c->run_dir ? path_join(c->run_dir, "transcript.jsonl") : NULL;
        c->selector = strdup(s->view->selector ?: "inherit");
        if (!c->run_dir || !c->sock || !c->transcript || !c->selector)
                return pod_error_oom(err);
        for (size_t i = 0; i < sc->n_allow; i++) {
                scope_rule *w;
                if (sc->allow[i].access != POD_ACCESS_WRITE)
                        continue;
                w = realloc(c->writes, (c->n_writes + 1) * sizeof(*w));
                if (!w)
                        return pod_error_oom(err);
                c->writes = w;
                c->writes[c->n_writes] = (scope_rule){ strdup(sc->allow[i].path), POD_ACCESS_WRITE,
                                                       sc->allow[i].recursive };
                if (!c->writes[c->n_writes++].path)
                        return pod_error_oom(err);
        }
        pthread_mutex_lock(&s->t->lock);
        spare = s->t->spare;
        s->t->spare = NULL;
        pthread_mutex_unlock(&s->t->lock);
        if ((!spare || renameat2(AT_FDCWD, spare, AT_FDCWD, c->run_dir, RENAME_NOREPLACE) < 0) &&
            mkdir(c->run_dir, 0700) < 0)
                r = pod_error_errno(err, "SpawnPod: cannot create %s", c->run_dir);
        return r;
}

/* The helper thread: a spare run dir whenever one is wanted. Best effort. */
static void *spare_helper(void *arg) {
        pod_tree *t = arg;

        pthread_mutex_lock(&t->lock);
        for (;;) {
                char *dir;
                bool made;
                while (!t->helper_quit && !t->want_spare)
                        pthread_cond_wait(&t->helper_cv, &t->lock);
                if (t->helper_quit)
                        break;
                t->want_spare = false;
                pthread_mutex_unlock(&t->lock);
                dir = path_join(t->o.run_dir, ".next-child");
                made = dir && (mkdir(dir, 0700) == 0 || errno == EEXIST);
                pthread_mutex_lock(&t->lock);
                if (made && !t->spare)
                        t->spare = dir;
                else
                        free(dir);
        }
        pthread_mutex_unlock(&t->lock);
        return NULL;
}

/* Asks for the next child's run dir while this one starts (the helper starts at the first). */
static void make_spare(pod_tree *t) {
        if (!t->o.run_dir)
                return;
        pthread_mutex_lock(&t->lock);
        if (!t->helper_up) {
                pthread_attr_t a;
                pthread_attr_init(&a);
                pthread_attr_setstacksize(&a, 64 * 1024); /* path_join and mkdir */
                t->helper_up = pthread_create(&t->helper, &a, spare_helper, t) == 0;
                pthread_attr_destroy(&a);
        }
        t->want_spare = !t->spare;
        pthread_cond_signal(&t->helper_cv);
        pthread_mutex_unlock(&t->lock);
}

/*
 * The child's budget (DESIGN §18): the least of its profile's limits, SpawnPod.budget and what
 * this pod has left, reserved out of this pod's budget and written into its manifest.
 */
static int grant_budget(spawn_ctx *s, const json_t *in, pod_error *err) {
        const json_t *want = json_object_get(in, "budget");
        pod_limits ceiling = limits_of_manifest_json(s->manifest), grant;
        pod_limits request = { POD_UNLIMITED, POD_UNLIMITED, POD_UNLIMITED, POD_UNLIMITED };
        json_t *j;

        if (want && limits_from_request(&request, want, err) < 0)
                return -EINVAL;
        if (!s->t->o.budget) { /* a tree without a budget (tests): the profile's limits */
                limits_grant(&grant, &ceiling, &request, &request, NULL);
                s->c->grant = grant;
                return 0;
        }
        if (budget_reserve(s->t->o.budget, s->c->name, &ceiling, &request, &grant, err) < 0)
                return pod_error_prefix(err, "SpawnPod: pod '%s' ", s->c->name);
        s->granted = true;
        s->c->grant = grant;
        j = limits_to_json(&grant);
        if (!j || json_object_set_new(s->manifest, "budget", j) < 0)
                return pod_error_oom(err);
        return 0;
}

/* Everything after step 4 undone: child killed, entry removed (its leases with it). */
static void rollback(spawn_ctx *s) {
        if (s->granted)
                budget_child_cancel(s->t->o.budget, s->c->name);
        if (s->c && s->c->pid > 0)
                proc_kill(s->c->pid, 0);
        if (s->reserved)
                registry_remove(s->t->o.reg, s->c->name, NULL);
        pthread_mutex_lock(&s->t->lock);
        if (s->c && find(s->t, s->c->name) == s->c)
                forget(s->t, s->c);
        else
                child_free(s->c);
        s->c = NULL;
        pthread_mutex_unlock(&s->t->lock);
}

/*
 * The profile set spawns resolve against: the latest snapshot `reconfigure` brought, else
 * the manifest's (DESIGN §12). Only the spawning thread parses; the socket's thread only
 * swaps t->snapshot, so a spawn sees the old snapshot or the new one whole.
 */
static int current_profiles(pod_tree *t, pod_error *err) {
        json_t *snap;
        profile_set *set = NULL;
        const char *cwd = t->view->cwd;

        pthread_mutex_lock(&t->lock);
        snap = json_incref(t->snapshot ? t->snapshot : t->view->profiles);
        pthread_mutex_unlock(&t->lock);
        if (t->profiles && t->profiles_for == snap) {
                json_decref(snap);
                return 0;
        }
        if (profile_set_from_snapshot(&set, snap, cwd, err) < 0) {
                json_decref(snap);
                return -EINVAL;
        }
        profile_set_free(t->profiles);
        json_decref(t->profiles_for);
        t->profiles = set;
        t->profiles_for = snap;
        return 0;
}

typedef struct kid_addr {
        char name[POD_NAME_BUF];
        char token[POD_TOKEN_HEX + 1];
        char *sock;
        pid_t pid;
} kid_addr;

/* Forward a snapshot to every live child: it replaces theirs, and they forward it on. */
static unsigned forward_snapshot(pod_tree *t, json_t *params) {
        kid_addr *kids = NULL;
        size_t n = 0;
        unsigned reached = 0;

        pthread_mutex_lock(&t->lock);
        kids = calloc(t->n_kids ? t->n_kids : 1, sizeof(*kids));
        for (size_t i = 0; kids && i < t->n_kids; i++) {
                child *c = t->kids[i];
                if (c->gone || !(kids[n].sock = strdup(c->sock)))
                        continue;
                snprintf(kids[n].name, sizeof(kids[n].name), "%s", c->name);
                snprintf(kids[n].token, sizeof(kids[n].token), "%s", c->token);
                kids[n++].pid = c->pid;
        }
        pthread_mutex_unlock(&t->lock);
        for (size_t i = 0; i < n; i++) {
                json_t *res = NULL;
                pod_error err = { 0 };
                if (ipc_call(&res, kids[i].sock, kids[i].pid, kids[i].token, "reconfigure", params,
                             &err) >= 0)
                        reached++;
                else
                        host_warn("pod '%s': child '%s' was not reconfigured: %s", t->o.name,
                                  kids[i].name, err.msg);
                json_decref(res);
                free(kids[i].sock);
        }
        free(kids);
        return reached;
}

int tree_reconfigure(pod_tree *t, const json_t *params, json_t **ret, pod_error *err) {
        json_t *snap = json_object_get(params, "profiles");
        const char *cwd = t->view->cwd;
        profile_set *check = NULL;
        char digest[SHA256_HEX_LEN + 1];
        char *text;
        unsigned forwarded;

        /* Checked whole before anything changes: a bad snapshot leaves the old one. */
        if (!snap || profile_set_from_snapshot(&check, snap, cwd, err) < 0)
                return pod_error_prefix(err, "reconfigure needs {profiles: a profile snapshot}: ");
        profile_set_free(check);
        text = json_dumps(snap, JSON_COMPACT | JSON_SORT_KEYS);
        if (!text)
                return pod_error_set(err, -ENOMEM, "out of memory");
        sha256_hex(digest, text, strlen(text));
        free(text);
        snap = json_deep_copy(snap); /* ours alone: never changed once published */
        if (!snap)
                return pod_error_set(err, -ENOMEM, "out of memory");
        pthread_mutex_lock(&t->lock);
        json_decref(t->snapshot);
        t->snapshot = snap;
        pthread_mutex_unlock(&t->lock);
        forwarded = forward_snapshot(t, (json_t *) params);
        *ret = json_pack("{s:s, s:i}", "digest", digest, "forwarded", (int) forwarded);
        return *ret ? 0 : pod_error_set(err, -ENOMEM, "out of memory");
}

static int spawn(pod_tree *t, const json_t *in, child **ret, pod_error *err) {
        spawn_ctx s = { .t = t, .ready_fd = -EBADF };
        spawn_request req = { .input = in, .runtime_dir = t->o.runtime_dir };
        registry_claim claim = { .spawner = t->o.name };
        child **kids;
        int r;

        req.live_children = (unsigned) tree_live_children(t);
        r = current_profiles(t, err);
        if (r < 0)
                return pod_error_prefix(err, "SpawnPod: ");
        req.profiles = t->profiles;
        req.snapshot = t->profiles_for;
        req.view = t->view;
        /* Steps 1-3; the leases of step 3 are checked under the lock of step 4, where they
         * hold, with one read of the registry. */
        r = spawn_prepare(&s.manifest, &s.view, &s.task, t->o.manifest, &req, err);
        if (r < 0)
                return r;
        r = make_child(&s, err);
        if (r >= 0)
                r = grant_budget(&s, in, err);
        if (r >= 0)
                r = (s.entry = child_entry(&s)) ? 0 : pod_error_oom(err);
        /* Before the lease is granted, nothing this pod left running may hold write there. */
        if (r >= 0)
                r = contain_before_lease(t, s.c->n_writes > 0, err);
        if (r >= 0) { /* step 4 */
                scope_lease *known = NULL;
                size_t n_known = 0;
                claim.rules = s.c->writes;
                claim.n_rules = s.c->n_writes;
                claim.scan = !t->view->sandboxed; /* a confined pod reads no entry */
                r = tree_lease_list(t, &known, &n_known) < 0 ? pod_error_oom(err) : 0;
                claim.known = known;
                claim.n_known = n_known;
                if (r >= 0)
                        r = registry_reserve(t->o.reg, s.c->name, s.entry, &claim, err);
                lease_list_free(known, n_known);
                if (r < 0)
                        pod_error_prefix(err, "SpawnPod: ");
                s.reserved = r >= 0;
        }
        if (r >= 0) { /* the record first: the child's ready report must find it */
                pthread_mutex_lock(&t->lock);
                child *old = find(t, s.c->name);
                if (old) /* an ended child of the same name: the new one takes its place */
                        forget(t, old);
                kids = realloc(t->kids, (t->n_kids + 1) * sizeof(*kids));
                if (kids) {
                        t->kids = kids;
                        t->kids[t->n_kids++] = s.c;
                }
                pthread_mutex_unlock(&t->lock);
                if (!kids)
                        r = pod_error_oom(err);
        }
        if (r >= 0)
                r = start(&s, err);
        if (r >= 0)
                make_spare(t);
        if (r >= 0)
                r = await_ready(&s, err);
        if (r >= 0)
                r = hand_task(&s, err);
        safe_close(s.ready_fd);
        if (r < 0) {
                rmdir(s.c ? s.c->run_dir : "");
                rollback(&s);
        } else {
                *ret = s.c;
                record_children(t); /* step 8 */
        }
        json_decref(s.entry);
        json_decref(s.manifest);
        manifest_view_free(s.view);
        return r;
}

/* ---- the pod tools ----------------------------------------------------------------------- */

static void scope_summary(pod_buf *b, const child *c) {
        for (size_t i = 0; i < c->n_writes; i++)
                buf_printf(b, "%s%s", i ? ", " : "", c->writes[i].path);
}

static int tool_spawn(tool_result *out, pod_tree *t, const json_t *in) {
        pod_error err = { 0 };
        pod_buf b = { 0 };
        child *c = NULL;

        if (spawn(t, in, &c, &err) < 0)
                return tool_fail(out, "%s", err.msg);
        buf_printf(&b, "Started pod '%s' (profile %s, pid %d; its budget: ", c->name, c->selector,
                   (int) c->pid);
        grant_summary(&b, &c->grant);
        if (c->n_writes) {
                buf_puts(&b, "; it holds the write lease on ");
                scope_summary(&b, c);
                buf_puts(&b, ", where you now have read only until it ends");
        }
        buf_puts(&b,
                 "). It is working on its task: WaitPod returns its result, ReadPodOutput "
                 "shows its progress, SendToPod talks to it, StopPod ends it.");
        return tool_ok_buf(out, &b);
}

static child *named(tool_result *out, pod_tree *t, const json_t *in, const char *tool, int *r) {
        const char *name = json_string_value(json_object_get(in, "name"));
        child *c;

        pthread_mutex_lock(&t->lock);
        reap_locked(t);
        c = name ? find(t, name) : NULL;
        pthread_mutex_unlock(&t->lock);
        if (!c) {
                pod_buf b = { 0 };
                buf_printf(&b, "%s: no child pod named '%s'", tool, name ? name : "");
                buf_puts(&b, t->n_kids ? "; your children: " : "; you have started none");
                for (size_t i = 0; i < t->n_kids; i++)
                        buf_printf(&b, "%s%s", i ? ", " : "", t->kids[i]->name);
                *r = tool_fail(out, "%s", buf_str(&b));
                buf_done(&b);
        }
        return c;
}

static int tool_send(tool_result *out, pod_tree *t, const json_t *in) {
        const char *msg = json_string_value(json_object_get(in, "message"));
        json_t *params, *res = NULL;
        pod_error err = { 0 };
        int r = 0;
        child *c = named(out, t, in, "SendToPod", &r);

        if (!c)
                return r;
        if (c->gone)
                return tool_fail(out, "SendToPod: pod '%s' has ended (%s)", c->name, c->state);
        params = json_pack("{s:s}", "message", msg);
        r = ipc_call(&res, c->sock, c->pid, c->token, "send", params, &err);
        json_decref(params);
        if (r < 0)
                return tool_fail(out, "SendToPod: pod '%s': %s", c->name, err.msg);
        pthread_mutex_lock(&t->lock);
        if ((unsigned) json_integer_value(json_object_get(res, "turn")) > c->awaited)
                c->awaited = (unsigned) json_integer_value(json_object_get(res, "turn"));
        pthread_mutex_unlock(&t->lock);
        json_decref(res);
        return tool_ok(out, "Sent to pod '%s'. WaitPod returns its answer.", c->name);
}

static void describe(pod_buf *b, const child *c) {
        buf_printf(b, "## %s: %s\n", c->name, c->state);
        usage_line(b, c);
        if (c->error && (strcmp(c->state, "failed") == 0 || !c->result))
                buf_printf(b, "error: %s\n", c->error);
        else if (c->result)
                buf_printf(b, "%s\n", c->result);
}

static bool wanted(const json_t *names, const char *name) {
        json_t *v;
        size_t i;

        if (!names)
                return true;
        json_array_foreach(names, i, v)
                if (json_is_string(v) && strcmp(json_string_value(v), name) == 0)
                        return true;
        return false;
}

static int tool_wait(tool_result *out, pod_tree *t, const json_t *in) {
        const json_t *names = json_object_get(in, "names");
        json_int_t secs = json_integer_value(json_object_get(in, "timeout_s"));
        struct timespec deadline;
        pod_buf b = { 0 };
        size_t i, busy;
        json_t *v;

        json_array_foreach(names, i, v)
                if (!json_is_string(v) || !find(t, json_string_value(v)))
                        return tool_fail(out, "WaitPod: names[%zu] is not one of your child pods",
                                         i);
        if (!t->n_kids)
                return tool_fail(out, "WaitPod: you have no child pods (SpawnPod starts one)");
        clock_gettime(CLOCK_MONOTONIC, &deadline);
        deadline.tv_sec += secs > 0 ? secs : POD_WAIT_DEFAULT_S;
        pthread_mutex_lock(&t->lock);
        for (;;) {
                struct timespec slice;
                reap_locked(t);
                busy = 0;
                for (i = 0; i < t->n_kids; i++)
                        busy += wanted(names, t->kids[i]->name) && running(t->kids[i]);
                clock_gettime(CLOCK_MONOTONIC, &slice);
                if (!busy || (t->o.cancel && *t->o.cancel) ||
                    (t->o.budget && budget_exhausted(t->o.budget, NULL, 0)) ||
                    slice.tv_sec > deadline.tv_sec ||
                    (slice.tv_sec == deadline.tv_sec && slice.tv_nsec >= deadline.tv_nsec))
                        break;
                /* Reports wake us at once; the slice notices a child that died silently. */
                slice.tv_nsec += 200 * 1000 * 1000;
                if (slice.tv_nsec >= 1000000000) {
                        slice.tv_sec++;
                        slice.tv_nsec -= 1000000000;
                }
                pthread_cond_timedwait(&t->changed, &t->lock, &slice);
        }
        if (busy)
                buf_printf(&b, "%zu pod(s) still working after the timeout.\n", busy);
        for (i = 0; i < t->n_kids; i++)
                if (wanted(names, t->kids[i]->name))
                        describe(&b, t->kids[i]);
        pthread_mutex_unlock(&t->lock);
        return tool_ok_buf(out, &b);
}

/* New assistant text in the child's transcript since the last read. */
static int tool_read_output(tool_result *out, pod_tree *t, const json_t *in) {
        _cleanup_close_ int fd = -EBADF;
        pod_buf text = { 0 }, b = { 0 };
        int r = 0;
        child *c = named(out, t, in, "ReadPodOutput", &r);
        long long pos;
        char *line;

        if (!c)
                return r;
        fd = open(c->transcript, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
        if (fd < 0)
                return tool_ok(out, "(pod '%s' has written nothing yet)", c->name);
        pos = c->cursor;
        for (;;) { /* whole lines only: a line being written is read next time */
                char chunk[65536];
                ssize_t k = pread(fd, chunk, sizeof(chunk), (off_t) (pos + (long long) b.len));
                if (k <= 0 || b.len > 4 * OUTPUT_MAX)
                        break;
                buf_append(&b, chunk, (size_t) k);
        }
        line = b.data;
        while (line && line < b.data + b.len && text.len < OUTPUT_MAX) {
                char *nl = memchr(line, '\n', (size_t) (b.data + b.len - line));
                json_t *ev;
                if (!nl)
                        break;
                ev = json_loadb(line, (size_t) (nl - line), 0, NULL);
                if (strcmp(json_string_value(json_object_get(ev, "type")) ?: "", "text") == 0)
                        buf_printf(&text, "%s\n", json_string_value(json_object_get(ev, "text")));
                json_decref(ev);
                pos += nl + 1 - line;
                line = nl + 1;
        }
        buf_done(&b);
        c->cursor = pos;
        record_children(t); /* the cursor survives a restart of this pod */
        if (!text.len)
                buf_printf(&text, "(no new output from pod '%s'; it is %s)\n", c->name, c->state);
        pthread_mutex_lock(&t->lock);
        usage_line(&text, c);
        pthread_mutex_unlock(&t->lock);
        return tool_ok_buf(out, &text);
}

static int tool_list(tool_result *out, pod_tree *t, const json_t *in) {
        pod_buf b = { 0 };

        (void) in;
        pthread_mutex_lock(&t->lock);
        reap_locked(t);
        if (!t->n_kids)
                buf_puts(&b, "You have no child pods.");
        for (size_t i = 0; i < t->n_kids; i++) {
                child *c = t->kids[i];
                buf_printf(&b, "%s\t%s\tprofile %s\tpid %d\tturns %u\t", c->name, c->state,
                           c->selector, (int) c->pid, c->done);
                usage_describe(&b, &c->usage, c->grant.cost_nano != POD_UNLIMITED);
                if (c->n_writes && live(c)) {
                        buf_puts(&b, "\tlease: ");
                        scope_summary(&b, c);
                }
                buf_puts(&b, "\n");
        }
        pthread_mutex_unlock(&t->lock);
        return tool_ok_buf(out, &b);
}

static int tool_stop(tool_result *out, pod_tree *t, const json_t *in) {
        int r = 0;
        child *c = named(out, t, in, "StopPod", &r);

        if (!c)
                return r;
        if (c->gone)
                return tool_ok(out, "Pod '%s' had already ended (%s).", c->name, c->state);
        stop_child(t, c);
        record_children(t);
        return tool_ok(out, "Stopped pod '%s'%s.", c->name,
                       c->n_writes ? "; its write lease is back with you" : "");
}

/* What the tree killed since the last result, added to this one. */
static int note_swept(tool_result *out, pod_tree *t) {
        pod_stragglers s;

        pthread_mutex_lock(&t->lock);
        s = t->swept;
        t->swept = (pod_stragglers){ 0 };
        pthread_mutex_unlock(&t->lock);
        return tool_note_stragglers(out, &s, "this pod's ended children or its commands");
}

int tree_tool(tool_result *out, pod_tree *t, const char *tool, const json_t *in) {
        static const struct {
                const char *name;
                int (*run)(tool_result *, pod_tree *, const json_t *);
        } tools[] = {
                { "SpawnPod", tool_spawn }, { "SendToPod", tool_send },
                { "WaitPod", tool_wait },   { "ReadPodOutput", tool_read_output },
                { "ListPods", tool_list },  { "StopPod", tool_stop },
        };

        assert(out && t && tool);
        for (size_t i = 0; i < POD_ARRAY_SIZE(tools); i++)
                if (strcmp(tools[i].name, tool) == 0) {
                        int r;
                        reap(t);
                        r = tools[i].run(out, t, in);
                        return r < 0 ? r : note_swept(out, t);
                }
        return tool_fail(out, "tool '%s' is not a pod tool", tool);
}
