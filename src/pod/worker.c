/* SPDX-License-Identifier: MIT */
/*
 * The worker loop (DESIGN §1): send the conversation to the model, run the tool calls it
 * makes, and repeat until it answers without tool calls. The profile's max_turns and
 * timeout_s bound it; a cancel flag (set by a signal or the cancel method) stops it
 * between steps and interrupts a running Bash command. Every step is an event for the
 * caller and a line of the transcript.
 */
#include <assert.h>
#include <math.h>
#include <string.h>
#include <time.h>

#include "llm/llm.h"
#include "pod.h"

struct pod_worker {
        worker_opts opts;
        const worker_opts *o;
        const manifest_view *view; /* o->view, or own */
        manifest_view *own;
        json_t *conv;
        json_t *tools;
        pod_tools *toolbox;
        llm_handler *llm;
        pod_budget *budget; /* the host's, or own_budget */
        pod_budget *own_budget;
        unsigned turns; /* model turns of the current task */
        unsigned total; /* model turns since the pod started */
        long long deadline_ms; /* mono_ms: the current task's timeout_s */
        uint64_t run_dir_cap; /* bytes: the transcript keeps to its share */
        uint64_t transcript_bytes; /* written to the transcript */
        bool transcript_abridged; /* past its full part: events are written abridged */
        bool transcript_cut; /* its share is used up: nothing more is written */
        bool delegate; /* claude:, codex: the model is a CLI that runs its own tools */
        void *mcp; /* a delegate's bound MCP server (pod_mcp_binding), or NULL */
};

typedef struct pod_worker run;

static double now_s(void) {
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (double) ts.tv_sec + (double) ts.tv_nsec / 1e9;
}

/*
 * The transcript keeps to its share of the run dir's cap. Its last eighth holds events
 * abridged (every string cut to TRANSCRIPT_ABRIDGED_MAX bytes), so a record of what the
 * model did goes on long after a few large calls used the rest; past the share, one line
 * says so and nothing more is written. TRANSCRIPT_NOTICE_ROOM stays free for that line.
 */
#define TRANSCRIPT_ABRIDGED_MAX 256u
#define TRANSCRIPT_NOTICE_ROOM 1024u

/* v with every string longer than TRANSCRIPT_ABRIDGED_MAX cut (at a UTF-8 boundary), in
 * place; returns a new reference. */
static json_t *abridged(json_t *v) {
        const char *k;
        json_t *x;
        size_t i;

        if (json_is_string(v) && json_string_length(v) > TRANSCRIPT_ABRIDGED_MAX) {
                const char *str = json_string_value(v);
                int n = TRANSCRIPT_ABRIDGED_MAX;
                while (n > 0 && ((unsigned char) str[n] & 0xC0) == 0x80)
                        n--;
                return json_sprintf("%.*s...[%zu bytes]", n, str, json_string_length(v));
        }
        if (json_is_object(v))
                json_object_foreach(v, k, x)
                        json_object_set_new(v, k, abridged(x));
        else if (json_is_array(v))
                json_array_foreach(v, i, x)
                        json_array_set_new(v, i, abridged(x));
        return json_incref(v);
}

/* Write line if it fits below limit (counted); false when it does not. */
static bool transcript_line(run *r, const char *line, uint64_t limit) {
        size_t len = line ? strlen(line) + 1 : 0;

        if (!line || r->transcript_bytes + len > limit)
                return false;
        fputs(line, r->o->transcript);
        fputc('\n', r->o->transcript);
        r->transcript_bytes += len;
        return true;
}

static void transcript_notice(run *r, const char *when, const char *type, const char *what) {
        char text[300];
        json_t *ev;
        char *line;

        snprintf(text, sizeof(text),
                 "transcript %s: the pod's run dir reached its cap of %llu MiB "
                 "(%llu KiB for the transcript)%s",
                 type, (unsigned long long) r->run_dir_cap >> 20,
                 (unsigned long long) run_dir_transcript_share(r->run_dir_cap) >> 10, what);
        ev = json_pack("{s:s, s:s, s:s}", "type", type, "time", when, "text", text);
        line = ev ? json_dumps(ev, JSON_COMPACT) : NULL;
        transcript_line(r, line, run_dir_transcript_share(r->run_dir_cap));
        free(line);
        json_decref(ev);
}

/* One line of the transcript, whole, abridged or none, as its share allows. */
static void record(run *r, json_t *ev) {
        uint64_t share = run_dir_transcript_share(r->run_dir_cap);
        char when[POD_TIME_MAX], *line;
        bool done;

        if (!r->o->transcript || r->transcript_cut)
                return;
        time_now(when, POD_TIME_ISO);
        json_object_set_new(ev, "time", json_string(when));
        line = r->transcript_abridged ? NULL : json_dumps(ev, JSON_COMPACT);
        done = line && transcript_line(r, line, share - share / 8);
        if (!done && !r->transcript_abridged) {
                r->transcript_abridged = true;
                transcript_notice(r, when, "abridged",
                                  "; from here on, every string of an event "
                                  "is cut to 256 bytes");
        }
        if (!done) {
                free(line);
                json_decref(abridged(ev));
                json_object_set_new(ev, "abridged", json_true());
                line = json_dumps(ev, JSON_COMPACT);
                done = transcript_line(r, line, share - TRANSCRIPT_NOTICE_ROOM);
        }
        if (!done) {
                r->transcript_cut = true;
                transcript_notice(r, when, "truncated", "; later events are not recorded");
        }
        fflush(r->o->transcript);
        free(line);
}

/* Hand an event to the sink and the transcript; takes ownership of ev. */
static void emit(run *r, json_t *ev) {
        if (!ev)
                return;
        if (r->o->sink)
                r->o->sink(r->o->sink_ud, ev);
        record(r, ev);
        json_decref(ev);
}

/* An event for the transcript only; takes ownership of ev. */
static void transcript_event(run *r, json_t *ev) {
        if (ev)
                record(r, ev);
        json_decref(ev);
}

static void transcript_header(run *r) {
        const json_t *m = r->o->manifest;
        char *dump;
        char sha[SHA256_HEX_LEN + 1] = "";

        if (!r->o->transcript)
                return;
        dump = json_dumps(r->o->manifest, JSON_COMPACT | JSON_SORT_KEYS);
        if (dump)
                sha256_hex(sha, dump, strlen(dump));
        free(dump);
        /* What an auditor needs of the recipe; the whole of it hashes to sha256. */
        transcript_event(r,
                         json_pack("{s:s, s:s, s:O, s:O, s:O, s:O, s:O}", "type", "manifest",
                                   "sha256", sha, "pod", json_object_get(m, "pod"), "profile",
                                   json_object_get(m, "profile"), "model",
                                   json_object_get(json_object_get(m, "model"), "spec"), "scope",
                                   json_object_get(m, "scope"), "sandbox",
                                   json_object_get(m, "sandbox")));
        transcript_event(
                r, json_pack("{s:s, s:s}", "type", "system_prompt", "text", r->o->system_prompt));
}

static int run_call(run *r, const json_t *call, json_t *results) {
        const char *id = json_string_value(json_object_get(call, "id"));
        const char *name = json_string_value(json_object_get(call, "name"));
        json_t *input = json_object_get(call, "input");
        tool_result res = { 0 };
        double t0;
        int e;

        emit(r,
             json_pack("{s:s, s:s, s:s, s:O}", "type", "tool_call", "id", id ? id : "", "name",
                       name ? name : "", "input", input ? input : json_null()));
        t0 = now_s();
        e = tools_call(&res, r->toolbox, name, input);
        if (e < 0)
                return e;
        emit(r,
             json_pack("{s:s, s:s, s:s, s:b, s:s, s:i}", "type", "tool_result", "id", id ? id : "",
                       "name", name ? name : "", "ok", !res.is_error, "text", res.text, "ms",
                       (int) ((now_s() - t0) * 1000)));
        json_array_append_new(results,
                              json_pack("{s:s, s:s, s:s, s:b}", "role", "tool", "tool_call_id",
                                        id ? id : "", "content", res.text, "is_error",
                                        res.is_error));
        tool_result_done(&res);
        return 0;
}

/*
 * Every tool call of a turn gets a result in the conversation, which the model APIs require:
 * the calls a cancelled or failed turn did not run get an error result saying so.
 */
static void close_unanswered(const json_t *calls, json_t *results, const char *why) {
        for (size_t i = json_array_size(results); i < json_array_size(calls); i++) {
                const char *id = json_string_value(json_object_get(json_array_get(calls, i), "id"));
                char text[96];

                snprintf(text, sizeof(text), "not run: the turn ended before this call (%s)", why);
                json_array_append_new(results,
                                      json_pack("{s:s, s:s, s:s, s:b}", "role", "tool",
                                                "tool_call_id", id ? id : "", "content", text,
                                                "is_error", true));
        }
}

/* The model's answer as it streams in: to the sink and the transcript, per chunk. */
static void progress(void *ud, json_t *ev) {
        emit(ud, ev);
}

/*
 * A model call's usage, counted against the budget (DESIGN §18) and told as an event: the
 * call's figures and the subtree's so far. A call whose usage the handler could not report
 * still counts as a turn.
 */
static void account(run *r, const json_t *usage) {
        pod_usage call = { .turns = 1 }, sub;
        pod_error err = { 0 };
        json_t *ev;

        if (budget_charge_call(r->budget, usage, &call, &err) < 0)
                budget_charge(r->budget, &call);
        budget_usage(r->budget, NULL, &sub);
        ev = usage_to_json(&call);
        json_object_del(ev, "turns");
        json_object_set_new(ev, "type", json_string("usage"));
        json_object_set_new(ev, "turn", json_integer(r->total));
        json_object_set_new(ev, "subtree", usage_to_json(&sub));
        if (err.msg[0])
                json_object_set_new(ev, "error", json_string(err.msg));
        emit(r, ev);
}

/* ---- delegates (DESIGN §9): the CLI is started, offered the pod tools and counted here --- */

/* The CLI, in the delegate sandbox (tools_spawn_delegate) with the pod executable readable for
 * the `pod mcp --attach` it starts; kept when the tree kills stragglers. */
static int delegate_spawn(void *ud, const llm_spawn *s, pid_t *ret_pid, pod_error *err) {
        run *r = ud;
        _cleanup_strv_free_ char **read = NULL;
        tools_proc p = { .path = s->path,
                         .argv = s->argv,
                         .envp = s->envp,
                         .cwd = s->cwd,
                         .fds = { s->fds[0], s->fds[1], s->fds[2] },
                         .write_paths = s->write_paths,
                         .port = s->port };
        int e = 0;

        for (const char *const *x = s->read_paths; e >= 0 && x && *x; x++)
                e = strv_push(&read, *x);
        if (e >= 0 && r->o->exe)
                e = strv_push(&read, r->o->exe);
        if (e < 0 || !(read || (read = calloc(1, sizeof(char *)))))
                return pod_error_oom(err);
        p.read_paths = (const char *const *) read;
        e = tools_spawn_delegate(r->toolbox, &p, ret_pid, err);
        if (e >= 0 && r->o->tree)
                tree_note_delegate(r->o->tree, *ret_pid);
        return e;
}

/* One message of the CLI to its bound MCP server (the handler's thread). */
static json_t *delegate_mcp(void *ud, const char *line, size_t len) {
        run *r = ud;

        return pod_mcp_bound()->answer(r->mcp, line, len);
}

/* A pod tool the CLI called over MCP: run as the native worker runs it. */
static int delegate_tool(void *ud, const char *name, const json_t *in, tool_result *out) {
        run *r = ud;

        return tools_call(out, r->toolbox, name, in);
}

/* Each model call the CLI reports: counted as the worker counts its own; < 0 once the budget
 * is exhausted, so the handler ends the CLI. */
static int delegate_usage(void *ud, const json_t *usage, pod_error *err) {
        run *r = ud;
        char why[POD_ERROR_MAX];

        account(r, usage);
        if (budget_exhausted(r->budget, why, sizeof(why)))
                return pod_error_set(err, -EDQUOT, "%s", why);
        return 0;
}

static void delegate_call(run *r, llm_call *c) {
        c->spawn = delegate_spawn;
        c->spawn_ud = r;
        c->usage = delegate_usage;
        c->usage_ud = r;
        c->cwd = r->view->cwd;
        c->private_dir = r->o->output_dir;
        c->exe = r->o->exe;
        c->envp = r->o->envp;
        if (r->mcp) {
                c->mcp = delegate_mcp;
                c->mcp_ud = r;
        }
}

/* The bound MCP server a delegate's CLI gets: the pod tools of its manifest, when it has a tree
 * to act on and the CLI layer handed a server down. */
static int delegate_setup(run *r, pod_error *err) {
        const pod_mcp_binding *b = pod_mcp_bound();
        json_t *offered = NULL, *t;
        size_t i, n;

        r->delegate = r->view->model.handler == POD_HANDLER_CLAUDE ||
                r->view->model.handler == POD_HANDLER_CODEX;
        if (!r->delegate || !r->o->tree || !b)
                return 0;
        offered = json_array();
        json_array_foreach(r->tools, i, t) {
                if (pod_tool_is_pod_tool(json_string_value(json_object_get(t, "name"))))
                        json_array_append(offered, t);
        }
        n = json_array_size(offered);
        if (n)
                r->mcp = b->open(offered, r->view->name, delegate_tool, r);
        json_decref(offered);
        return !offered || (n && !r->mcp) ? pod_error_oom(err) : 0;
}

/* One model turn and its tool calls. 1: the run is over (*ret_text holds the answer). */
static int step(run *r, char **ret_text, pod_error *err) {
        llm_turn turn = { 0 };
        json_t *results = json_array(), *call, *msg;
        llm_call c = { .cancel = r->o->cancel,
                       .deadline_ms = r->deadline_ms,
                       .progress = progress,
                       .progress_ud = r };
        size_t i;
        int e;

        if (r->delegate)
                delegate_call(r, &c);
        e = llm_complete(r->llm, r->conv, r->tools, &c, &turn, err);
        if (e < 0) {
                llm_turn_done(&turn);
                json_decref(results);
                return e;
        }
        r->turns++;
        r->total++;
        if (turn.text && *turn.text)
                emit(r,
                     json_pack("{s:s, s:s, s:b}", "type", "text", "text", turn.text, "final",
                               json_array_size(turn.calls) == 0));
        if (!turn.counted)
                account(r, turn.usage);
        msg = json_pack("{s:s, s:s, s:O}", "role", "assistant", "content",
                        turn.text ? turn.text : "", "tool_calls", turn.calls);
        if (msg && turn.reasoning)
                json_object_set(msg, "reasoning", turn.reasoning);
        json_array_append_new(r->conv, msg);
        json_array_foreach(turn.calls, i, call) {
                if ((r->o->cancel && *r->o->cancel) || budget_exhausted(r->budget, NULL, 0))
                        break;
                e = run_call(r, call, results);
                if (e < 0)
                        break;
        }
        close_unanswered(turn.calls, results,
                         e < 0                                        ? "it failed" :
                                 budget_exhausted(r->budget, NULL, 0) ? "the budget is exhausted" :
                                                                        "it was cancelled");
        json_array_extend(r->conv, results);
        json_decref(results);
        if (e >= 0 && json_array_size(turn.calls) == 0) {
                *ret_text = turn.text;
                turn.text = NULL;
                e = 1;
        }
        llm_turn_done(&turn);
        return e < 0 ? pod_error_set(err, e, "out of memory") : e;
}

/* Messages sent to the pod join the conversation as user turns before the next call. */
static void take_messages(run *r) {
        char *m;

        while (r->o->next_message && (m = r->o->next_message(r->o->message_ud))) {
                json_array_append_new(r->conv,
                                      json_pack("{s:s, s:s}", "role", "user", "content", m));
                emit(r, json_pack("{s:s, s:s}", "type", "message", "text", m));
                free(m);
        }
}

/*
 * The budget ran out (DESIGN §18): nothing is left to spend, so the children stop too. While
 * running children hold the rest reserved, the next call waits for them (docs/budgets.md).
 * NULL: a model call may go; else the run's end status.
 */
static const char *out_of_budget(run *r, pod_error *err) {
        char why[POD_ERROR_MAX];

        if (r->o->tree && !budget_can_call(r->budget) &&
            tree_await_budget(r->o->tree, r->budget) == -ECANCELED) {
                pod_error_set(err, -ECANCELED, "cancelled");
                return "cancelled";
        }
        if (!budget_exhausted(r->budget, why, sizeof(why))) {
                if (budget_can_call(r->budget))
                        return NULL;
                snprintf(why, sizeof(why), "budget exhausted: its children held what was left");
        }
        if (r->o->tree)
                tree_stop_all(r->o->tree);
        pod_error_set(err, -EDQUOT, "%s", why);
        return "budget";
}

static const char *loop(run *r, char **ret_text, pod_error *err) {
        const manifest_limits *limits = &r->view->limits;
        unsigned max_turns = limits->max_turns;
        double task_end = now_s() + (double) limits->timeout_s;
        /* The budget's wall time may end first; it is said to have when it ends a second or
         * more before timeout_s would (the budget's clock started with the pod). */
        bool budget_first = budget_deadline(r->budget) < task_end - 1.0;
        double deadline = fmin(task_end, budget_deadline(r->budget));

        r->deadline_ms = (long long) (deadline * 1000);
        /* In mono_ms()'s milliseconds, rounded up: a tool call stopped by it ends after the
         * deadline checked below, so that the run ends there. */
        tools_set_deadline(r->toolbox, (long long) (deadline * 1000) + 1);
        for (;;) {
                const char *status;
                int e;
                if (r->o->cancel && *r->o->cancel) {
                        pod_error_set(err, -ECANCELED, "cancelled");
                        return "cancelled";
                }
                if (r->turns >= max_turns) {
                        pod_error_set(err, -ELOOP,
                                      "stopped after max_turns (%u) model turns without a final "
                                      "answer",
                                      max_turns);
                        return "max_turns";
                }
                if (now_s() > deadline && !budget_first) {
                        pod_error_set(err, -ETIMEDOUT, "stopped: timeout_s (%lld s) passed",
                                      (long long) limits->timeout_s);
                        return "timeout";
                }
                if ((status = out_of_budget(r, err)))
                        return status;
                take_messages(r);
                e = step(r, ret_text, err);
                if (e == -ECANCELED)
                        return "cancelled";
                if (e < 0 && now_s() > deadline)
                        return "timeout";
                if (e < 0)
                        return "failed";
                if (e > 0)
                        return "ok";
        }
}

static int setup(run *r, pod_error *err) {
        const json_t *m = r->o->manifest;
        const manifest_view *v = r->o->view;
        int e = v ? 0 : manifest_view_new(&r->own, m, err);

        v = r->view = v ?: r->own;
        if (e >= 0)
                e = llm_open(&r->llm, v, err);
        if (e >= 0 && !r->o->budget)
                e = budget_new(&r->own_budget, v, NULL, err);
        if (e >= 0)
                e = tools_new(&r->toolbox, v, r->o->output_dir, err);
        if (e < 0)
                return e;
        r->budget = r->o->budget ? r->o->budget : r->own_budget;
        r->run_dir_cap = r->o->run_dir_cap ? r->o->run_dir_cap :
                                             (uint64_t) POD_RUN_DIR_CAP_DEFAULT_MIB << 20;
        tools_set_run_dir_cap(r->toolbox, r->run_dir_cap);
        tools_set_cancel(r->toolbox, r->o->cancel);
        pod_tools_attach(r->toolbox, r->o->tree);
        r->tools = pod_tool_schemas(m, r->o->spawn_description);
        r->conv = json_pack("[{s:s, s:s}]", "role", "system", "content", r->o->system_prompt);
        if (!r->tools || !r->conv)
                return pod_error_oom(err);
        return delegate_setup(r, err);
}

int worker_new(pod_worker **out, const worker_opts *o, pod_error *err) {
        run *r = calloc(1, sizeof(*r));
        int e;

        assert(out && o && o->manifest);
        if (!r)
                return pod_error_oom(err);
        r->opts = *o;
        r->o = &r->opts;
        e = setup(r, err);
        if (e < 0) {
                worker_free(r);
                return e;
        }
        transcript_header(r);
        *out = r;
        return 0;
}

const json_t *worker_conversation(const pod_worker *r) {
        return r->conv;
}

pod_worker *worker_free(pod_worker *r) {
        if (!r)
                return NULL;
        json_decref(r->conv);
        json_decref(r->tools);
        llm_free(r->llm); /* before the MCP server and the tools its threads may call */
        if (r->mcp)
                pod_mcp_bound()->close(r->mcp);
        tools_free(r->toolbox);
        manifest_view_free(r->own);
        budget_free(r->own_budget);
        free(r);
        return NULL;
}

/* {own, subtree}: what the pod's model calls used, and with its children's. */
static json_t *usage_pair(pod_budget *b) {
        pod_usage own, sub;

        budget_usage(b, &own, &sub);
        return json_pack("{s:o, s:o}", "own", usage_to_json(&own), "subtree", usage_to_json(&sub));
}

int worker_turn(pod_worker *r, const char *task, char **ret_result, pod_error *err) {
        pod_error local = { 0 };
        char *text = NULL;
        const char *status;

        assert(r && task && ret_result);
        if (!err)
                err = &local;
        r->turns = 0;
        if (json_array_append_new(r->conv,
                                  json_pack("{s:s, s:s}", "role", "user", "content", task)) < 0)
                return pod_error_oom(err);
        transcript_event(r, json_pack("{s:s, s:s}", "type", "task", "text", task));
        status = loop(r, &text, err);
        emit(r,
             json_pack("{s:s, s:s, s:s?, s:s?, s:i, s:o}", "type", "end", "status", status,
                       "result", text, "error", text ? NULL : err->msg, "turns", (int) r->turns,
                       "usage", usage_pair(r->budget)));
        if (!text)
                return err->code < 0 ? err->code : -EIO;
        *ret_result = text;
        return 0;
}

int worker_run(const worker_opts *o, char **ret_result, pod_error *err) {
        pod_worker *w = NULL;
        int e = worker_new(&w, o, err);

        if (e >= 0)
                e = worker_turn(w, o->task, ret_result, err);
        worker_free(w);
        return e;
}
