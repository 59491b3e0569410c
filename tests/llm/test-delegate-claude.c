/* SPDX-License-Identifier: MIT */
/*
 * The claude: delegate (src/llm/claude-events.c, delegate-claude.c): the event parser on
 * streams recorded from the real CLI against the mock model server (tests/llm/data/claude-*,
 * two tasks of one session, a stream without partial messages, an API error), hostile
 * lines, and the handler around a fake CLI (a shell script named claude on PATH) that
 * replays them: the answer, usage per call, the session resumed, the key kept out of argv,
 * cancel and the budget ending the whole process group.
 */
#include <criterion/criterion.h>
#include <dirent.h>
#include <pthread.h>
#include <signal.h>
#include <string.h>
#include <sys/stat.h>

#include "llm-test.h"
#include "testutil.h"

/* ---- the parser on recorded streams ------------------------------------------------------ */

typedef struct replay {
        char *data; /* the recording */
        size_t pos; /* where the next task starts */
        claude_events e;
        json_t *progress; /* the progress events, in order */
        json_t *usage; /* the usage reports, in order */
        int last; /* claude_event's last answer */
        pod_error err;
} replay;

static int replay_event(void *e, const char *line, size_t len, json_t *actions, pod_error *err) {
        return claude_event(e, line, len, actions, err);
}

/* Feed the recording's lines from where the last task ended up to the next result. */
static void replay_next(replay *rp) {
        claude_events_new_call(&rp->e);
        json_array_clear(rp->usage);
        rp->last = llm_test_feed_lines(replay_event, &rp->e, rp->data, &rp->pos, rp->progress,
                                       rp->usage, &rp->err);
}

/* The recording name's first task, replayed. */
static void replay_open(replay *rp, const char *name) {
        *rp = (replay){ .data = llm_test_read(name, NULL),
                        .progress = json_array(),
                        .usage = json_array() };
        claude_events_init(&rp->e, "claude:mock-model");
        replay_next(rp);
}

static void replay_close(replay *rp) {
        claude_events_done(&rp->e);
        json_decref(rp->progress);
        json_decref(rp->usage);
        free(rp->data);
}

static json_int_t count(const json_t *u, const char *k) {
        return json_integer_value(json_object_get(u, k));
}

/* The progress events of one type, in order. */
static json_t *of_type(const json_t *events, const char *type) {
        json_t *out = json_array(), *ev;
        size_t i;

        json_array_foreach(events, i, ev) {
                if (strcmp(json_string_value(json_object_get(ev, "type")), type) == 0)
                        json_array_append(out, ev);
        }
        return out;
}

Test(claude_events, a_tool_using_task_of_a_recorded_session) {
        json_t *calls, *results, *texts, *deltas;
        replay rp;

        replay_open(&rp, "claude-session.jsonl");
        cr_assert_eq(rp.last, 1, "%s", rp.err.msg);
        cr_assert_str_eq(rp.e.result, "Result: hello-from-bash");
        cr_assert_str_eq(rp.e.session, "7a579c05-587c-4748-8913-f7d72b2a5a43");
        calls = of_type(rp.progress, "tool_call");
        results = of_type(rp.progress, "tool_result");
        texts = of_type(rp.progress, "text");
        deltas = of_type(rp.progress, "delta");
        cr_assert_eq(json_array_size(calls), 1);
        cr_assert_str_eq(json_string_value(json_object_get(json_array_get(calls, 0), "name")),
                         "Bash");
        cr_assert_str_eq(json_string_value(json_object_get(
                                 json_object_get(json_array_get(calls, 0), "input"), "command")),
                         "echo hello-from-bash");
        cr_assert_eq(json_array_size(results), 1);
        cr_assert_str_eq(json_string_value(json_object_get(json_array_get(results, 0), "name")),
                         "Bash", "the result names its call's tool");
        cr_assert(json_is_true(json_object_get(json_array_get(results, 0), "ok")));
        cr_assert_str_eq(json_string_value(json_object_get(json_array_get(results, 0), "text")),
                         "hello-from-bash");
        /* "Running." went out as it came; the answer is left to the pod's final text. */
        cr_assert_eq(json_array_size(texts), 1);
        cr_assert_str_eq(json_string_value(json_object_get(json_array_get(texts, 0), "text")),
                         "Running.");
        cr_assert(json_is_false(json_object_get(json_array_get(texts, 0), "final")));
        cr_assert_gt(json_array_size(deltas), 2, "text streams as deltas");
        /* Two model calls, each once, with the final output count; then the cost. */
        cr_assert_eq(json_array_size(rp.usage), 3);
        for (size_t i = 0; i < 2; i++) {
                const json_t *u = json_array_get(rp.usage, i);

                cr_assert_eq(count(u, "input_tokens"), 103, "cache writes are input");
                cr_assert_eq(count(u, "output_tokens"), 20, "message_delta's count");
                cr_assert_eq(count(u, "cache_read_tokens"), 5);
                cr_assert_eq(count(u, "cache_write_tokens"), 3);
                cr_assert_null(json_object_get(u, "cost_usd"));
        }
        cr_assert_eq(count(json_array_get(rp.usage, 2), "turns"), 0);
        cr_assert_eq(count(json_array_get(rp.usage, 2), "input_tokens"), 0);
        cr_assert_float_eq(
                json_real_value(json_object_get(json_array_get(rp.usage, 2), "cost_usd")),
                0.0020425, 1e-9);
        json_decref(calls);
        json_decref(results);
        json_decref(texts);
        json_decref(deltas);

        /* The second task of the same process: its cost is what the total grew by. */
        replay_next(&rp);
        cr_assert_eq(rp.last, 1, "%s", rp.err.msg);
        cr_assert_str_eq(rp.e.result, "Second answer.");
        cr_assert_eq(json_array_size(rp.usage), 2);
        cr_assert_float_eq(
                json_real_value(json_object_get(json_array_get(rp.usage, 1), "cost_usd")),
                0.00306375 - 0.0020425, 1e-9);
        replay_close(&rp);
}

/* Without partial messages each content block line repeats its message's usage. */
Test(claude_events, usage_counts_a_message_id_once) {
        replay rp;

        replay_open(&rp, "claude-no-partial.jsonl");
        cr_assert_eq(rp.last, 1, "%s", rp.err.msg);
        /* msg_mock0000000 (two lines) and msg_mock0001001: two calls, then the cost. */
        cr_assert_eq(json_array_size(rp.usage), 3);
        cr_assert_eq(count(json_array_get(rp.usage, 0), "input_tokens"), 103);
        cr_assert_eq(count(json_array_get(rp.usage, 1), "input_tokens"), 103);
        replay_close(&rp);
}

Test(claude_events, an_error_result_is_a_one_line_error) {
        replay rp;

        replay_open(&rp, "claude-error.jsonl");
        cr_assert_eq(rp.last, -EPROTO);
        cr_assert(rp.e.done);
        cr_assert(strstr(rp.err.msg,
                         "model claude:mock-model: the claude CLI ended the task "
                         "with an error"),
                  "%s", rp.err.msg);
        cr_assert(strstr(rp.err.msg, "API Error: 400"), "%s", rp.err.msg);
        cr_assert_null(strchr(rp.err.msg, '\n'));
        cr_assert_null(rp.e.result);
        replay_close(&rp);
}

static int one(claude_events *e, const char *line, json_t *actions, pod_error *err) {
        return claude_event(e, line, strlen(line), actions, err);
}

Test(claude_events, hostile_lines) {
        static const char *const refused[] = {
                "not json",
                "[1, 2]",
                "\"a string\"",
                "{\"type\": \"system\", \"subtype\": \"init\", \"session_id\": \"../../etc\"}",
                "{\"type\": \"system\", \"session_id\": \"a b\"}",
                "{\"type\": \"result\", \"subtype\": \"success\", \"result\": 7}",
                "{\"type\": \"result\", \"subtype\": \"error_max_turns\", \"is_error\": true}",
                "{\"type\": \"a\", \"type\": \"b\"}",
        };
        static const char *const ignored[] = {
                "",
                "   ",
                "{}",
                "{\"type\": 7}",
                "{\"type\": \"assistant\", \"message\": 7}",
                "{\"type\": \"assistant\", \"message\": {\"content\": [7, {\"type\": "
                "\"tool_use\"}, {\"type\": \"tool_use\", \"id\": \"x\\\"y\", \"name\": \"B\"}]}}",
                "{\"type\": \"user\", \"message\": {\"content\": \"text\"}}",
                "{\"type\": \"user\", \"message\": {\"content\": [{\"type\": \"tool_result\"}]}}",
                "{\"type\": \"stream_event\", \"event\": {\"type\": \"message_delta\"}}",
                "{\"type\": \"stream_event\", \"event\": {\"type\": \"content_block_delta\", "
                "\"delta\": {\"text\": 5}}}",
                "{\"type\": \"control_request\", \"request\": {}}",
        };
        claude_events e;

        claude_events_init(&e, "claude:x");
        for (size_t i = 0; i < POD_ARRAY_SIZE(refused); i++) {
                json_t *actions = json_array();
                pod_error err = { 0 };

                cr_assert_lt(one(&e, refused[i], actions, &err), 0, "%s", refused[i]);
                cr_assert(strstr(err.msg, "claude:x"), "names the model: %s", err.msg);
                cr_assert_null(strchr(err.msg, '\n'));
                json_decref(actions);
        }
        for (size_t i = 0; i < POD_ARRAY_SIZE(ignored); i++) {
                json_t *actions = json_array();
                pod_error err = { 0 };

                cr_assert_eq(one(&e, ignored[i], actions, &err), 0, "%s: %s", ignored[i], err.msg);
                cr_assert_eq(json_array_size(actions), 0, "%s", ignored[i]);
                json_decref(actions);
        }
        claude_events_done(&e);
}

/* A tool call without an input (or with one that is not an object) is shown with {}. */
Test(claude_events, a_tool_call_without_input) {
        claude_events e;
        json_t *actions = json_array(), *ev;
        pod_error err = { 0 };

        claude_events_init(&e, "claude:x");
        cr_assert_eq(one(&e,
                         "{\"type\": \"assistant\", \"message\": {\"content\": [{\"type\": "
                         "\"tool_use\", \"id\": \"t1\", \"name\": \"Bash\"}, {\"type\": "
                         "\"tool_use\", \"id\": \"t2\", \"name\": \"Read\", \"input\": [1]}]}}",
                         actions, &err),
                     0, "%s", err.msg);
        cr_assert_eq(json_array_size(actions), 2);
        for (size_t i = 0; i < 2; i++) {
                ev = json_object_get(json_array_get(actions, i), "progress");
                cr_assert(json_is_object(json_object_get(ev, "input")));
                cr_assert_eq(json_object_size(json_object_get(ev, "input")), 0);
        }
        json_decref(actions);
        claude_events_done(&e);
}

/* Counts are clamped, never negative; a cost that does not grow or is not a number adds
 * nothing. */
Test(claude_events, hostile_usage_and_cost) {
        claude_events e;
        json_t *actions = json_array();
        pod_error err = { 0 };

        claude_events_init(&e, "claude:x");
        cr_assert_eq(one(&e,
                         "{\"type\": \"assistant\", \"message\": {\"id\": \"m1\", \"usage\": "
                         "{\"input_tokens\": -5, \"output_tokens\": 1e30, "
                         "\"cache_read_input_tokens\": 9223372036854775807}}}",
                         actions, &err),
                     0, "%s", err.msg);
        cr_assert_eq(json_array_size(actions), 1);
        cr_assert_eq(count(json_object_get(json_array_get(actions, 0), "usage"), "input_tokens"),
                     0);
        cr_assert_eq(
                count(json_object_get(json_array_get(actions, 0), "usage"), "cache_read_tokens"),
                1000000000000LL, "clamped");
        cr_assert_eq(one(&e,
                         "{\"type\": \"result\", \"subtype\": \"success\", \"result\": \"ok\", "
                         "\"total_cost_usd\": -1}",
                         actions, &err),
                     1);
        cr_assert_eq(json_array_size(actions), 1, "a negative total adds nothing");
        claude_events_new_call(&e);
        cr_assert_eq(one(&e,
                         "{\"type\": \"result\", \"subtype\": \"success\", \"result\": \"ok\", "
                         "\"total_cost_usd\": 1e300}",
                         actions, &err),
                     1);
        cr_assert_eq(json_array_size(actions), 1, "an absurd total adds nothing");
        json_decref(actions);
        claude_events_done(&e);
}

/* ---- the handler around a fake CLI --------------------------------------------------------- */

#define KEY "sk-fixture-key" /* the key the recordings' error quotes */

static char *dir; /* the fake CLI's directory (on its PATH, and its HOME) */

/*
 * A fake claude: records its argv and environment, then for each line on its stdin prints
 * task<N>.jsonl (N counts the lines all its runs read; else task.jsonl) and waits for the next;
 * exits after each when exit-after-each exists; when hang holds a number N, starts a sleeper in its
 * process group, prints the task's first N lines and sleeps.
 */
static void fake_cli(void) {
        char *script;

        dir = tu_tmpdir_real();
        cr_assert_neq(asprintf(&script,
                               "#!/bin/sh\n"
                               "D=%s\n"
                               "/usr/bin/printf '%%s\\n' \"$@\" > \"$D/argv.$$\"\n"
                               "/usr/bin/env > \"$D/env.$$\"\n"
                               "n=0\n"
                               "while IFS= read -r line; do\n"
                               "  n=$(( $(/bin/cat \"$D/count\" 2>/dev/null || echo 0) + 1 ))\n"
                               "  echo $n > \"$D/count\"\n"
                               "  printf '%%s\\n' \"$line\" >> \"$D/stdin\"\n"
                               "  f=\"$D/task$n.jsonl\"; [ -f \"$f\" ] || f=\"$D/task.jsonl\"\n"
                               "  if [ -f \"$D/hang\" ]; then\n"
                               "    /bin/sleep 100 & echo $! > \"$D/sleeper\"\n"
                               "    /usr/bin/head -n \"$(/bin/cat \"$D/hang\")\" \"$f\"\n"
                               "    /bin/sleep 100\n"
                               "  fi\n"
                               "  /bin/cat \"$f\"\n"
                               "  [ -f \"$D/exit-after-each\" ] && exit 0\n"
                               "done\n"
                               "exit 0\n",
                               dir),
                      -1);
        tu_write(dir, "claude", script);
        free(script);
        script = tu_path(dir, "claude");
        cr_assert_eq(chmod(script, 0755), 0);
        free(script);
}

/* Task `from` (0-based) of a recording: its lines up to its result, into dir/as. */
static void task_from(const char *name, int from, const char *as) {
        char *data = llm_test_read(name, NULL);
        pod_buf b = { 0 };
        int results = 0;

        for (char *line = strtok(data, "\n"); line; line = strtok(NULL, "\n")) {
                if (results == from)
                        buf_printf(&b, "%s\n", line);
                if (strstr(line, "\"type\":\"result\""))
                        results++;
        }
        tu_write(dir, as, buf_str(&b));
        buf_done(&b);
        free(data);
}

typedef struct sink {
        json_t *events;
        json_t *usage;
        int refuse_usage; /* from this report on (1-based), the budget is exhausted */
        volatile sig_atomic_t *cancel_on_delta;
} sink;

static void on_progress(void *ud, json_t *ev) {
        sink *s = ud;

        if (s->cancel_on_delta &&
            strcmp(json_string_value(json_object_get(ev, "type")), "delta") == 0)
                *s->cancel_on_delta = 1;
        json_array_append_new(s->events, ev);
}

static int on_usage(void *ud, const json_t *u, pod_error *err) {
        sink *s = ud;

        json_array_append(s->usage, (json_t *) u);
        if (s->refuse_usage && (int) json_array_size(s->usage) >= s->refuse_usage)
                return pod_error_set(err, -EDQUOT, "budget exhausted: tokens 123 of 100");
        return 0;
}

static char *test_env[8];

static llm_handler *open_claude(void) {
        manifest_view v = { .model = { .spec = (char *) "claude:mock-model",
                                       .name = (char *) "mock-model",
                                       .handler = POD_HANDLER_CLAUDE,
                                       .endpoint_url = (char *) "http://127.0.0.1:9",
                                       .key_env = (char *) "MY_KEY" } };
        static char path_var[4200], home_var[4200];
        llm_handler *h = NULL;
        pod_error err = { 0 };

        snprintf(path_var, sizeof(path_var), "PATH=%s", dir);
        snprintf(home_var, sizeof(home_var), "HOME=%s", dir);
        test_env[0] = path_var;
        test_env[1] = home_var;
        test_env[2] = "MY_KEY=" KEY;
        test_env[3] = "CLAUDECODE=1";
        test_env[4] = "CLAUDE_CODE_ENTRYPOINT=cli";
        test_env[5] = "OTHER_SECRET=nope";
        test_env[6] = NULL;
        cr_assert_eq(llm_open(&h, &v, &err), 0, "%s", err.msg);
        cr_assert_str_eq(llm_name(h), "claude");
        return h;
}

static int
run_task(llm_handler *h, int tasks, sink *s, llm_call call, llm_turn *t, pod_error *err) {
        json_t *conv = llm_test_conv(tasks);
        int r;

        call.progress = on_progress;
        call.progress_ud = s;
        call.usage = on_usage;
        call.usage_ud = s;
        call.envp = test_env;
        r = llm_complete(h, conv, NULL, &call, t, err);
        json_decref(conv);
        return r;
}

/* The files the fake CLI wrote whose names start with prefix, concatenated. */
static char *written(const char *prefix) {
        DIR *d = opendir(dir);
        struct dirent *e;
        pod_buf b = { 0 };

        while ((e = readdir(d)))
                if (str_startswith(e->d_name, prefix)) {
                        char *t = tu_read_at(dir, e->d_name);

                        buf_printf(&b, "%s\n--\n", t ? t : "");
                        free(t);
                }
        closedir(d);
        buf_puts(&b, "");
        return buf_steal(&b);
}

static size_t starts(void) {
        char *argv = written("argv.");
        size_t n = 0;

        for (char *p = argv; (p = strstr(p, "\n--\n")); p++)
                n++;
        free(argv);
        return n;
}

static void sink_done(sink *s) {
        json_decref(s->events);
        json_decref(s->usage);
}

Test(claude_handler, a_session_of_two_tasks_in_one_process) {
        static const char *const args[] = {
                "-p\n",
                "--input-format\nstream-json\n",
                "--output-format\nstream-json\n",
                "--verbose\n",
                "--include-partial-messages\n",
                "--model\nmock-model\n",
                "--permission-mode\nbypassPermissions\n",
                "--setting-sources\n\n",
                "--strict-mcp-config\n",
                "--append-system-prompt\nYou are a pod.\n",
        };
        sink s = { .events = json_array(), .usage = json_array() };
        llm_turn t = { 0 };
        pod_error err = { 0 };
        llm_handler *h;
        char *argv, *env, *in;

        fake_cli();
        task_from("claude-session.jsonl", 0, "task1.jsonl");
        task_from("claude-session.jsonl", 1, "task2.jsonl");
        h = open_claude();
        cr_assert_eq(run_task(h, 1, &s, (llm_call){ 0 }, &t, &err), 0, "%s", err.msg);
        cr_assert_str_eq(t.text, "Result: hello-from-bash");
        cr_assert_eq(json_array_size(t.calls), 0, "the task ends with the CLI's answer");
        cr_assert_null(t.usage);
        cr_assert(t.counted, "its usage went through call->usage");
        cr_assert_eq(json_array_size(s.usage), 3);
        llm_turn_done(&t);
        cr_assert_eq(run_task(h, 2, &s, (llm_call){ 0 }, &t, &err), 0, "%s", err.msg);
        cr_assert_str_eq(t.text, "Second answer.");
        llm_turn_done(&t);
        cr_assert_eq(starts(), 1, "one process for both tasks");
        in = tu_read_at(dir, "stdin");
        cr_assert(strstr(in,
                         "{\"type\":\"user\",\"message\":{\"role\":\"user\",\"content\":\"do "
                         "it\"}}\n"),
                  "%s", in);
        cr_assert(strstr(in, "\"content\":\"again\"}}\n"), "only the new task: %s", in);
        argv = written("argv.");
        env = written("env.");
        for (size_t i = 0; i < POD_ARRAY_SIZE(args); i++)
                cr_assert(strstr(argv, args[i]), "%s in %s", args[i], argv);
        cr_assert_null(strstr(argv, "--resume"), "%s", argv);
        cr_assert_null(strstr(argv, "--mcp-config"), "no pod tools offered: %s", argv);
        cr_assert_null(strstr(argv, KEY), "the key is never in argv");
        cr_assert(strstr(env, "ANTHROPIC_API_KEY=" KEY "\n"), "%s", env);
        cr_assert(strstr(env, "ANTHROPIC_BASE_URL=http://127.0.0.1:9\n"), "%s", env);
        cr_assert(strstr(env, "IS_SANDBOX=1\n"), "%s", env);
        cr_assert_null(strstr(env, "CLAUDECODE"), "%s", env);
        cr_assert_null(strstr(env, "CLAUDE_CODE_ENTRYPOINT"), "%s", env);
        cr_assert_null(strstr(env, "MY_KEY="), "only under the CLI's name: %s", env);
        cr_assert_null(strstr(env, "OTHER_SECRET"), "%s", env);
        free(argv);
        free(env);
        free(in);
        llm_free(h);
        sink_done(&s);
}

Test(claude_handler, a_process_that_ended_is_resumed_with_its_session) {
        sink s = { .events = json_array(), .usage = json_array() };
        llm_turn t = { 0 };
        pod_error err = { 0 };
        llm_handler *h;
        char *argv;

        fake_cli();
        task_from("claude-session.jsonl", 0, "task1.jsonl");
        task_from("claude-session.jsonl", 1, "task2.jsonl");
        tu_write(dir, "exit-after-each", "");
        h = open_claude();
        cr_assert_eq(run_task(h, 1, &s, (llm_call){ 0 }, &t, &err), 0, "%s", err.msg);
        llm_turn_done(&t);
        cr_assert_eq(run_task(h, 2, &s, (llm_call){ 0 }, &t, &err), 0, "%s", err.msg);
        cr_assert_str_eq(t.text, "Second answer.");
        llm_turn_done(&t);
        cr_assert_eq(starts(), 2);
        argv = written("argv.");
        cr_assert(strstr(argv, "--resume\n7a579c05-587c-4748-8913-f7d72b2a5a43\n"), "%s", argv);
        free(argv);
        llm_free(h);
        sink_done(&s);
}

/* The server's message quotes the key (a hostile or careless server): never in the error. */
Test(claude_handler, an_error_result_fails_the_call_with_the_key_scrubbed) {
        sink s = { .events = json_array(), .usage = json_array() };
        llm_turn t = { 0 };
        pod_error err = { 0 };
        llm_handler *h;

        fake_cli();
        task_from("claude-error.jsonl", 0, "task.jsonl");
        h = open_claude();
        cr_assert_eq(run_task(h, 1, &s, (llm_call){ 0 }, &t, &err), -EPROTO);
        cr_assert(strstr(err.msg, "API Error: 400 bad request for mock-model: ***"), "%s", err.msg);
        cr_assert_null(strstr(err.msg, KEY), "%s", err.msg);
        llm_free(h);
        sink_done(&s);
}

/* A CLI that dies before its answer: how it ended and its stderr, the key scrubbed. */
Test(claude_handler, a_cli_that_dies_says_why) {
        sink s = { .events = json_array(), .usage = json_array() };
        llm_turn t = { 0 };
        pod_error err = { 0 };
        llm_handler *h;

        fake_cli();
        tu_write(dir, "claude",
                 "#!/bin/sh\necho \"cannot log in with $ANTHROPIC_API_KEY\" >&2\n"
                 "exit 7\n");
        h = open_claude();
        cr_assert_eq(run_task(h, 1, &s, (llm_call){ 0 }, &t, &err), -EPROTO);
        cr_assert(strstr(err.msg,
                         "the claude CLI (model claude:mock-model) exited with status "
                         "7 before its answer: cannot log in with ***"),
                  "%s", err.msg);
        llm_free(h);
        sink_done(&s);
}

Test(claude_handler, a_missing_cli_names_its_package) {
        manifest_view v = { .model = { .spec = (char *) "claude:opus",
                                       .name = (char *) "opus",
                                       .handler = POD_HANDLER_CLAUDE } };
        char *const envp[] = { "PATH=/nonexistent", "HOME=/nonexistent", NULL };
        llm_needs n = { 0 };
        pod_error err = { 0 };

        cr_assert_eq(llm_needs_of(&n, &v, envp, &err), -ENOENT);
        cr_assert_str_eq(err.msg,
                         "model claude:opus runs the claude CLI, which is not on PATH: "
                         "install it with `npm install -g @anthropic-ai/claude-code`");
        cr_assert_null(n.exe);
}

Test(claude_handler, needs_the_cli_its_install_dir_state_and_port) {
        manifest_view v = { .model = { .spec = (char *) "claude:opus",
                                       .name = (char *) "opus",
                                       .handler = POD_HANDLER_CLAUDE,
                                       .endpoint_url = (char *) "http://127.0.0.1:8123" } };
        llm_needs n = { 0 };
        pod_error err = { 0 };
        char *want;

        fake_cli();
        tu_write(dir, ".claude.json", "{}");
        llm_free(open_claude()); /* for test_env: PATH and HOME the fake's dir */
        cr_assert_eq(llm_needs_of(&n, &v, test_env, &err), 0, "%s", err.msg);
        want = tu_path(dir, "claude");
        cr_assert_str_eq(n.exe, want);
        cr_assert_str_eq(n.read_paths[0], dir, "no node_modules: the executable's dir");
        free(want);
        want = tu_path(dir, ".claude");
        cr_assert_str_eq(n.write_paths[0], want);
        free(want);
        want = tu_path(dir, ".claude.json");
        cr_assert_str_eq(n.write_paths[1], want);
        cr_assert_eq(n.port, 8123);
        llm_needs_done(&n);
        free(want);
}

/* The fake CLI's process group (its sleeper's): none of it runs after a generous wait. */
static void assert_cli_group_gone(pid_t pgid) {
        pid_t left = tu_group_survivor(pgid, 10000);

        cr_assert_eq(left, 0, "process %d of the CLI's group still runs", (int) left);
}

/* The process group of the fake CLI's sleeper, while it runs. */
static pid_t sleeper_group(void) {
        char *pid_text = tu_read_at(dir, "sleeper"), path[64], *st;
        int pgid = 0;

        cr_assert_not_null(pid_text, "the fake CLI started its sleeper");
        snprintf(path, sizeof(path), "/proc/%d/stat", atoi(pid_text));
        st = tu_read(path);
        cr_assert_not_null(st);
        sscanf(strrchr(st, ')') + 1, " %*c %*d %d", &pgid);
        free(st);
        free(pid_text);
        return pgid;
}

static volatile sig_atomic_t cancel;

/* A pgid seen while the CLI ran (from progress, before cancel). */
static pid_t seen_group;

static void on_progress_note_group(void *ud, json_t *ev) {
        if (!seen_group)
                seen_group = sleeper_group();
        on_progress(ud, ev);
}

Test(claude_handler, cancel_ends_the_cli_and_its_process_group) {
        sink s = { .events = json_array(), .usage = json_array(), .cancel_on_delta = &cancel };
        json_t *conv = llm_test_conv(1);
        llm_call call = { .cancel = &cancel,
                          .progress = on_progress_note_group,
                          .progress_ud = &s,
                          .envp = test_env };
        llm_turn t = { 0 };
        pod_error err = { 0 };
        llm_handler *h;

        fake_cli();
        task_from("claude-session.jsonl", 0, "task.jsonl");
        tu_write(dir, "hang", "5"); /* up to the first text delta, then silence */
        h = open_claude();
        cr_assert_eq(llm_complete(h, conv, NULL, &call, &t, &err), -ECANCELED, "%s", err.msg);
        cr_assert_gt(seen_group, 0);
        assert_cli_group_gone(seen_group);
        llm_free(h);
        json_decref(conv);
        sink_done(&s);
}

Test(claude_handler, an_exhausted_budget_ends_the_cli) {
        sink s = { .events = json_array(), .usage = json_array(), .refuse_usage = 1 };
        json_t *conv = llm_test_conv(1);
        llm_call call = { .progress = on_progress_note_group,
                          .progress_ud = &s,
                          .usage = on_usage,
                          .usage_ud = &s,
                          .envp = test_env };
        llm_turn t = { 0 };
        pod_error err = { 0 };
        llm_handler *h;

        fake_cli();
        task_from("claude-session.jsonl", 0, "task.jsonl");
        tu_write(dir, "hang", "1000");
        seen_group = 0;
        h = open_claude();
        cr_assert_eq(llm_complete(h, conv, NULL, &call, &t, &err), -EDQUOT, "%s", err.msg);
        cr_assert_str_eq(err.msg, "budget exhausted: tokens 123 of 100");
        cr_assert_eq(json_array_size(s.usage), 1, "no report after the refusal");
        cr_assert_gt(seen_group, 0);
        assert_cli_group_gone(seen_group);
        llm_free(h);
        json_decref(conv);
        sink_done(&s);
}

Test(claude_handler, the_deadline_ends_the_cli) {
        sink s = { .events = json_array(), .usage = json_array() };
        json_t *conv = llm_test_conv(1);
        llm_call call = { .deadline_ms = mono_ms() + 500, .envp = test_env };
        llm_turn t = { 0 };
        pod_error err = { 0 };
        llm_handler *h;

        fake_cli();
        task_from("claude-session.jsonl", 0, "task.jsonl");
        tu_write(dir, "hang", "2");
        h = open_claude();
        cr_assert_eq(llm_complete(h, conv, NULL, &call, &t, &err), -ETIMEDOUT, "%s", err.msg);
        cr_assert(strstr(err.msg,
                         "the claude CLI (model claude:mock-model) did not finish in "
                         "time"),
                  "%s", err.msg);
        llm_free(h);
        json_decref(conv);
        sink_done(&s);
}
