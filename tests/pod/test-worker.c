/* SPDX-License-Identifier: MIT */
#include "pod-test.h"

TestSuite(worker, .init = pod_fixture_setup, .fini = pod_fixture_teardown);

static json_t *manifest_for(const char *script, const char *limits) {
        pod_profile *p = NULL;
        manifest_inputs in = { .cwd = proj, .name = "w" };
        json_t *m = NULL;
        pod_error err = { 0 };
        char text[512];

        tu_write(proj, "s.json", script);
        snprintf(text, sizeof(text), "---\nmodel: script:s.json\n%s---\n", limits);
        cr_assert_eq(
                profile_parse(&p, POD_SOURCE_PATH, "w", "/never-read.md", text, strlen(text), &err),
                0, "%s", err.msg);
        in.model = "script:s.json";
        in.model_base = proj;
        cr_assert_eq(manifest_resolve(&m, NULL, p, &in, &err), 0, "%s", err.msg);
        profile_free(p);
        return m;
}

static void collect(void *ud, const json_t *ev) {
        json_array_append_new(ud, json_deep_copy(ev));
}

static char *take_once(void *ud) {
        int *n = ud;

        return (*n)++ == 0 ? strdup("extra instruction") : NULL;
}

Test(worker, runs_tool_calls_until_an_answer) {
        json_t *m =
                manifest_for("{\"turns\": [{\"say\": \"look\", \"call\": [{\"tool\": \"Read\", "
                             "\"input\": {\"file_path\": \"README.md\"}}]}, {\"say\": \"ok\"}]}",
                             "");
        json_t *events = json_array();
        int taken = 0;
        worker_opts o = { .manifest = m,
                          .system_prompt = "sys",
                          .task = "t",
                          .sink = collect,
                          .sink_ud = events,
                          .next_message = take_once,
                          .message_ud = &taken };
        char *answer = NULL;
        pod_error err = { 0 };
        const char *want[] = { "message",     "text", "usage", "tool_call",
                               "tool_result", "text", "usage", "end" };

        cr_assert_eq(worker_run(&o, &answer, &err), 0, "%s", err.msg);
        cr_assert_str_eq(answer, "ok");
        cr_assert_eq(json_array_size(events), 8);
        for (size_t i = 0; i < 8; i++)
                cr_assert_str_eq(
                        json_string_value(json_object_get(json_array_get(events, i), "type")),
                        want[i], "event %zu", i);
        cr_assert(strstr(json_string_value(json_object_get(json_array_get(events, 4), "text")),
                         "hello"),
                  "the tool ran");
        free(answer);
        json_decref(events);
        json_decref(m);
}

Test(worker, limits_and_cancellation_end_the_run) {
        json_t *m = manifest_for(
                "{\"turns\": [{\"call\": [{\"tool\": \"Glob\", \"input\": {\"pattern\": \"*\"}}]},"
                " {\"call\": [{\"tool\": \"Glob\", \"input\": {\"pattern\": \"*\"}}]}]}",
                "limits:\n  max_turns: 1\n");
        volatile sig_atomic_t cancel = 1;
        worker_opts o = { .manifest = m, .system_prompt = "s", .task = "t" };
        char *answer = NULL;
        pod_error err = { 0 };

        cr_assert_eq(worker_run(&o, &answer, &err), -ELOOP);
        cr_assert(strstr(err.msg, "max_turns (1)"), "%s", err.msg);
        cr_assert_null(answer);
        o.cancel = &cancel;
        cr_assert_eq(worker_run(&o, &answer, &err), -ECANCELED);
        cr_assert_str_eq(err.msg, "cancelled");
        json_decref(m);
}

/* Cancels the run at the first tool result it sees. */
static void cancel_at_first_result(void *ud, const json_t *ev) {
        if (strcmp(json_string_value(json_object_get(ev, "type")), "tool_result") == 0)
                *(volatile sig_atomic_t *) ud = 1;
}

/* A turn cancelled between its tool calls: every call still has a result in the
 * conversation (the model APIs refuse calls without one), the calls not run an error. */
Test(worker, a_turn_cancelled_between_its_calls_closes_every_call) {
        json_t *m = manifest_for("{\"turns\": [{\"call\": ["
                                 "{\"tool\": \"Glob\", \"input\": {\"pattern\": \"*\"}},"
                                 "{\"tool\": \"Glob\", \"input\": {\"pattern\": \"*\"}},"
                                 "{\"tool\": \"Glob\", \"input\": {\"pattern\": \"*\"}}]}]}",
                                 "");
        volatile sig_atomic_t cancel = 0;
        worker_opts o = { .manifest = m,
                          .system_prompt = "s",
                          .cancel = &cancel,
                          .sink = cancel_at_first_result,
                          .sink_ud = (void *) &cancel };
        pod_worker *w = NULL;
        const json_t *conv, *calls;
        char *answer = NULL;
        pod_error err = { 0 };
        size_t n;

        cr_assert_eq(worker_new(&w, &o, &err), 0, "%s", err.msg);
        cr_assert_eq(worker_turn(w, "t", &answer, &err), -ECANCELED, "%s", err.msg);
        conv = worker_conversation(w);
        n = json_array_size(conv);
        cr_assert_geq(n, 4);
        calls = json_object_get(json_array_get(conv, n - 4), "tool_calls");
        cr_assert_eq(json_array_size(calls), 3, "the assistant turn with its three calls");
        for (size_t i = 0; i < 3; i++) {
                const json_t *res = json_array_get(conv, n - 3 + i);
                cr_assert_str_eq(json_string_value(json_object_get(res, "role")), "tool");
                cr_assert_str_eq(
                        json_string_value(json_object_get(res, "tool_call_id")),
                        json_string_value(json_object_get(json_array_get(calls, i), "id")));
                cr_assert_eq(json_is_true(json_object_get(res, "is_error")), i > 0,
                             "call %zu ran: %d", i, i == 0);
        }
        cr_assert(strstr(json_string_value(json_object_get(json_array_get(conv, n - 1), "content")),
                         "not run: the turn ended before this call (it was cancelled)"));
        worker_free(w);
        json_decref(m);
}

/* The type of the event on a transcript line (NULL if it is not JSON). */
static char *type_of(const char *line) {
        json_t *ev = json_loads(line, 0, NULL);
        char *type = ev ? strdup(json_string_value(json_object_get(ev, "type"))) : NULL;

        json_decref(ev);
        return type;
}

/* The transcript keeps to its share of the run dir's cap (a quarter of 1 MiB here): its
 * last eighth holds events abridged, then one line says it was cut and nothing more is
 * written; the run itself goes on to its end. */
Test(worker, the_transcript_keeps_to_its_share_of_the_run_dir_cap) {
        pod_buf script = { 0 };
        json_t *m;
        char *path = tu_path(root, "transcript.jsonl"), *text, *last, *type, *answer = NULL;
        FILE *f = fopen(path, "we");
        pod_error err = { 0 };

        buf_puts(&script, "{\"turns\": [");
        for (int i = 0; i < 80; i++)
                buf_puts(&script,
                         "{\"call\": [{\"tool\": \"Bash\", \"input\": {\"command\": "
                         "\"head -c 40000 /dev/zero | tr '\\\\0' x\"}}]}, ");
        buf_puts(&script, "{\"say\": \"done\"}]}");
        m = manifest_for(buf_str(&script), "");
        worker_opts o = { .manifest = m,
                          .system_prompt = "s",
                          .task = "t",
                          .transcript = f,
                          .run_dir_cap = 1u << 20 };
        cr_assert_eq(worker_run(&o, &answer, &err), 0, "%s", err.msg);
        cr_assert_str_eq(answer, "done");
        fclose(f);
        text = tu_read(path);
        cr_assert_leq(strlen(text), 256 * 1024);
        cr_assert(strstr(text, "{\"type\":\"abridged\""), "a line says where it is abridged");
        cr_assert(strstr(text, "xxx...[30"), "a long string is cut and says how long");
        cr_assert(strstr(text, "\"abridged\":true"));
        text[strlen(text) - 1] = '\0';
        last = strrchr(text, '\n') + 1;
        type = type_of(last);
        cr_assert_str_eq(type, "truncated", "%s", last);
        cr_assert(strstr(last, "transcript truncated: the pod's run dir reached its cap of 1 MiB"));
        free(type);
        free(text);
        free(answer);
        free(path);
        buf_done(&script);
        json_decref(m);
}

/* timeout_s ends the run: a command that would outlast it is stopped at it, and the run
 * ends with the timeout's message before the next model turn. The control, with room to
 * spare, reaches the answer. */
static int run_with_timeout(
        const char *command, const char *limits, json_t *events, char **answer, pod_error *err) {
        char script[512];
        json_t *m;
        int r;

        snprintf(script, sizeof(script),
                 "{\"turns\": [{\"call\": [{\"tool\": \"Bash\", \"input\": {\"command\": \"%s\", "
                 "\"timeout_s\": 600}}]}, {\"say\": \"done\"}]}",
                 command);
        m = manifest_for(script, limits);
        worker_opts o = {
                .manifest = m, .system_prompt = "s", .task = "t", .sink = collect, .sink_ud = events
        };
        r = worker_run(&o, answer, err);
        json_decref(m);
        return r;
}

Test(worker, timeout_s_stops_the_command_and_ends_the_run) {
        json_t *events = json_array(), *end;
        char *answer = NULL;
        pod_error err = { 0 };

        cr_assert_eq(run_with_timeout("true", "limits:\n  timeout_s: 600\n", events, &answer, &err),
                     0, "%s", err.msg);
        cr_assert_str_eq(answer, "done");
        free(answer);
        answer = NULL;
        json_array_clear(events);
        cr_assert_eq(
                run_with_timeout("sleep 600", "limits:\n  timeout_s: 1\n", events, &answer, &err),
                -ETIMEDOUT);
        cr_assert_str_eq(err.msg, "stopped: timeout_s (1 s) passed");
        cr_assert_null(answer);
        end = json_array_get(events, json_array_size(events) - 1);
        cr_assert_str_eq(json_string_value(json_object_get(end, "type")), "end");
        cr_assert_str_eq(json_string_value(json_object_get(end, "status")), "timeout");
        for (size_t i = 0; i < json_array_size(events); i++) {
                json_t *ev = json_array_get(events, i);
                if (strcmp(json_string_value(json_object_get(ev, "type")), "tool_result") == 0)
                        cr_assert(json_is_false(json_object_get(ev, "ok")),
                                  "the command was stopped: %s",
                                  json_string_value(json_object_get(ev, "text")));
        }
        json_decref(events);
}

/* A pod enforces its own budget, whether or not anyone above it still listens: the budget
 * is in its manifest (docs/budgets.md). The turn's calls not started are closed. */
Test(worker, its_own_budget_stops_the_loop_and_closes_the_turn) {
        json_t *m =
                manifest_for("{\"turns\": ["
                             "{\"call\": [{\"tool\": \"Glob\", \"input\": {\"pattern\": \"*\"}}],"
                             " \"usage\": {\"input_tokens\": 60, \"output_tokens\": 40}},"
                             "{\"call\": [{\"tool\": \"Glob\", \"input\": {\"pattern\": \"*\"}},"
                             " {\"tool\": \"Glob\", \"input\": {\"pattern\": \"*\"}}],"
                             " \"usage\": {\"input_tokens\": 100}},"
                             "{\"say\": \"never\"}]}",
                             "limits:\n  budget_tokens: 200\n");
        json_t *events = json_array(), *end, *usage;
        worker_opts o = {
                .manifest = m, .system_prompt = "s", .task = "t", .sink = collect, .sink_ud = events
        };
        pod_worker *w = NULL;
        char *answer = NULL;
        pod_error err = { 0 };
        const json_t *conv;

        cr_assert_eq(worker_new(&w, &o, &err), 0, "%s", err.msg);
        cr_assert_eq(worker_turn(w, "t", &answer, &err), -EDQUOT);
        cr_assert_str_eq(err.msg, "budget exhausted (tokens 200 of 200)");
        cr_assert_null(answer);
        conv = worker_conversation(w);
        cr_assert(strstr(json_string_value(json_object_get(
                                 json_array_get(conv, json_array_size(conv) - 1), "content")),
                         "the budget is exhausted"),
                  "the calls of the turn that reached the limit are closed, not run");
        end = json_array_get(events, json_array_size(events) - 1);
        cr_assert_str_eq(json_string_value(json_object_get(end, "status")), "budget");
        usage = json_object_get(json_object_get(end, "usage"), "own");
        cr_assert_eq(json_integer_value(json_object_get(usage, "tokens")), 200);
        cr_assert_eq(json_integer_value(json_object_get(usage, "turns")), 2);
        worker_free(w);
        json_decref(events);
        json_decref(m);
}
