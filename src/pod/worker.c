/* SPDX-License-Identifier: MIT */
/*
 * The worker loop (DESIGN §1): send the conversation to the model, run the tool calls it
 * makes, and repeat until it answers without tool calls. The profile's max_turns and
 * timeout_s bound it; a cancel flag (set by a signal or the cancel method) stops it
 * between steps and interrupts a running Bash command. Every step is an event for the
 * caller and a line of the transcript.
 */
#include <string.h>
#include <time.h>

#include "llm/llm.h"
#include "pod.h"

struct pod_worker {
        worker_opts opts;
        const worker_opts *o;
        json_t *conv;
        json_t *tools;
        pod_tools *toolbox;
        llm_handler *llm;
        unsigned turns;  /* model turns of the current task */
        unsigned total;  /* model turns since the pod started */
};

typedef struct pod_worker run;

static double now_s(void) {
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (double) ts.tv_sec + (double) ts.tv_nsec / 1e9;
}

static void wall_time(char out[32]) {
        struct timespec ts;
        struct tm tm;

        clock_gettime(CLOCK_REALTIME, &ts);
        gmtime_r(&ts.tv_sec, &tm);
        strftime(out, 32, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

/* Hand an event to the sink and the transcript; takes ownership of ev. */
static void emit(const run *r, json_t *ev) {
        char when[32];

        if (!ev)
                return;
        if (r->o->sink)
                r->o->sink(r->o->sink_ud, ev);
        if (r->o->transcript) {
                wall_time(when);
                json_object_set_new(ev, "time", json_string(when));
                json_dumpf(ev, r->o->transcript, JSON_COMPACT);
                fputc('\n', r->o->transcript);
                fflush(r->o->transcript);
        }
        json_decref(ev);
}

static void transcript_event(const run *r, json_t *ev) {
        worker_opts quiet = *r->o;
        run q = *r;

        quiet.sink = NULL; /* for the transcript only */
        q.o = &quiet;
        emit(&q, ev);
}

static void transcript_header(const run *r) {
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
        transcript_event(r, json_pack("{s:s, s:s, s:O, s:O, s:O, s:O, s:O}", "type", "manifest",
                                      "sha256", sha, "pod", json_object_get(m, "pod"), "profile",
                                      json_object_get(m, "profile"), "model",
                                      json_object_get(json_object_get(m, "model"), "spec"),
                                      "scope", json_object_get(m, "scope"), "sandbox",
                                      json_object_get(m, "sandbox")));
        transcript_event(r, json_pack("{s:s, s:s}", "type", "system_prompt", "text",
                                      r->o->system_prompt));
}

static int run_call(run *r, const json_t *call, json_t *results) {
        const char *id = json_string_value(json_object_get(call, "id"));
        const char *name = json_string_value(json_object_get(call, "name"));
        json_t *input = json_object_get(call, "input");
        tool_result res = { 0 };
        double t0;
        int e;

        emit(r, json_pack("{s:s, s:s, s:s, s:O}", "type", "tool_call", "id", id ? id : "", "name",
                          name ? name : "", "input", input ? input : json_null()));
        t0 = now_s();
        e = tools_call(&res, r->toolbox, name, input);
        if (e < 0)
                return e;
        emit(r, json_pack("{s:s, s:s, s:s, s:b, s:s, s:i}", "type", "tool_result", "id",
                          id ? id : "", "name", name ? name : "", "ok", !res.is_error, "text",
                          res.text, "ms", (int) ((now_s() - t0) * 1000)));
        json_array_append_new(results, json_pack("{s:s, s:s, s:s, s:b}", "role", "tool",
                                                 "tool_call_id", id ? id : "", "content", res.text,
                                                 "is_error", res.is_error));
        tool_result_done(&res);
        return 0;
}

/* One model turn and its tool calls. 1: the run is over (*ret_text holds the answer). */
static int step(run *r, char **ret_text, pod_error *err) {
        llm_turn turn = { 0 };
        json_t *results = json_array(), *call;
        size_t i;
        int e;

        e = llm_complete(r->llm, r->conv, r->tools, &turn, err);
        if (e < 0) {
                json_decref(results);
                return e;
        }
        r->turns++;
        r->total++;
        if (turn.text && *turn.text)
                emit(r, json_pack("{s:s, s:s, s:b}", "type", "text", "text", turn.text, "final",
                                  json_array_size(turn.calls) == 0));
        if (json_is_object(turn.usage))
                emit(r, json_pack("{s:s, s:i, s:O, s:O}", "type", "usage", "turn", (int) r->total,
                                  "input_tokens", json_object_get(turn.usage, "input_tokens"),
                                  "output_tokens", json_object_get(turn.usage, "output_tokens")));
        json_array_append_new(r->conv, json_pack("{s:s, s:s, s:O}", "role", "assistant", "content",
                                                 turn.text ? turn.text : "", "tool_calls",
                                                 turn.calls));
        json_array_foreach(turn.calls, i, call) {
                if (r->o->cancel && *r->o->cancel)
                        break;
                e = run_call(r, call, results);
                if (e < 0)
                        break;
        }
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
                json_array_append_new(r->conv, json_pack("{s:s, s:s}", "role", "user", "content", m));
                emit(r, json_pack("{s:s, s:s}", "type", "message", "text", m));
                free(m);
        }
}

static const char *loop(run *r, char **ret_text, pod_error *err) {
        json_t *limits = json_object_get(r->o->manifest, "limits");
        unsigned max_turns = (unsigned) json_integer_value(json_object_get(limits, "max_turns"));
        double deadline = now_s() + (double) json_integer_value(json_object_get(limits, "timeout_s"));

        /* In mono_ms()'s milliseconds, rounded up: a tool call stopped by it ends after the
         * deadline checked below, so that the run ends there. */
        tools_set_deadline(r->toolbox, (long long) (deadline * 1000) + 1);
        for (;;) {
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
                if (now_s() > deadline) {
                        pod_error_set(err, -ETIMEDOUT, "stopped: timeout_s (%lld s) passed",
                                      (long long) json_integer_value(json_object_get(limits, "timeout_s")));
                        return "timeout";
                }
                take_messages(r);
                e = step(r, ret_text, err);
                if (e < 0)
                        return "failed";
                if (e > 0)
                        return "ok";
        }
}

static int setup(run *r, pod_error *err) {
        const json_t *m = r->o->manifest;
        int e;

        e = llm_open(&r->llm, m, err);
        if (e >= 0)
                e = tools_new(&r->toolbox, m, r->o->output_dir, err);
        if (e < 0)
                return e;
        tools_set_cancel(r->toolbox, r->o->cancel);
        tools_set_tree(r->toolbox, r->o->tree);
        r->tools = tools_schemas(m, r->o->spawn_description);
        r->conv = json_pack("[{s:s, s:s}]", "role", "system", "content", r->o->system_prompt);
        return r->tools && r->conv ? 0 : pod_error_set(err, -ENOMEM, "out of memory");
}

int worker_new(pod_worker **out, const worker_opts *o, pod_error *err) {
        run *r = calloc(1, sizeof(*r));
        int e;

        if (!r)
                return pod_error_set(err, -ENOMEM, "out of memory");
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

pod_worker *worker_free(pod_worker *r) {
        if (!r)
                return NULL;
        json_decref(r->conv);
        json_decref(r->tools);
        tools_free(r->toolbox);
        llm_free(r->llm);
        free(r);
        return NULL;
}

int worker_turn(pod_worker *r, const char *task, char **ret_result, pod_error *err) {
        pod_error local = { 0 };
        char *text = NULL;
        const char *status;

        if (!err)
                err = &local;
        r->turns = 0;
        if (json_array_append_new(r->conv, json_pack("{s:s, s:s}", "role", "user", "content",
                                                     task)) < 0)
                return pod_error_set(err, -ENOMEM, "out of memory");
        transcript_event(r, json_pack("{s:s, s:s}", "type", "task", "text", task));
        status = loop(r, &text, err);
        emit(r, json_pack("{s:s, s:s, s:s?, s:s?, s:i}", "type", "end", "status", status, "result",
                          text, "error", text ? NULL : err->msg, "turns", (int) r->turns));
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
