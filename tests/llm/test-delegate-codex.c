/* SPDX-License-Identifier: MIT */
/*
 * The codex: delegate (src/llm/codex-events.c, delegate-codex.c): the event parser on streams
 * recorded from the real CLI against the mock model server (tests/llm/data/codex-*: a task
 * using its shell and an MCP tool, a thread's two tasks, a failed turn), hostile lines, the
 * command line, what the CLI needs, and the handler around a fake CLI (a shell script named
 * codex on PATH) that replays them: the answer, usage, the thread resumed, the key kept out
 * of argv, cancel ending the whole process group. Then the real CLI, when npm put it in the
 * build, against the mock with a stub MCP callback behind the bound server.
 */
#include <criterion/criterion.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "llm-test.h"
#include "testutil.h"

/* ---- the parser on recorded streams ------------------------------------------------------ */

typedef struct replay {
        json_t *progress, *usage;
        int last;
        pod_error err;
} replay;

static int replay_event(void *e, const char *line, size_t len, json_t *actions, pod_error *err) {
        return codex_event(e, line, len, actions, err);
}

/* Feed the lines of data until a turn ends (or the data does). */
static void replay_stream(codex_events *e, replay *rp, const char *data) {
        size_t pos = 0;

        rp->progress = json_array();
        rp->usage = json_array();
        rp->last =
                llm_test_feed_lines(replay_event, e, data, &pos, rp->progress, rp->usage, &rp->err);
}

static void replay_done(replay *rp) {
        json_decref(rp->progress);
        json_decref(rp->usage);
}

static const char *type_at(const replay *rp, size_t i) {
        return json_string_value(json_object_get(json_array_get(rp->progress, i), "type"));
}

static const char *str_at(const replay *rp, size_t i, const char *key) {
        return json_string_value(json_object_get(json_array_get(rp->progress, i), key));
}

static json_int_t usage_at(const replay *rp, size_t i, const char *key) {
        return json_integer_value(json_object_get(json_array_get(rp->usage, i), key));
}

Test(codex_events, a_task_using_its_shell_and_an_mcp_tool) {
        char *data = llm_test_read("codex-tools.jsonl", NULL);
        codex_events e;
        replay rp;

        codex_events_init(&e, "codex:mock-model");
        codex_events_new_call(&e);
        replay_stream(&e, &rp, data);
        cr_assert_eq(rp.last, 1, "%s", rp.err.msg);
        cr_assert_str_eq(e.result, "Done: Wall time: 0.0027 seconds\nOutput:no pods");
        cr_assert_str_eq(e.thread, "01a23d13-ba88-71a3-9d34-166a2a53656b");
        /* notice (the model metadata warning), text, call, result, text, call, result, reasoning */
        cr_assert_eq(json_array_size(rp.progress), 8);
        cr_assert_str_eq(type_at(&rp, 0), "notice");
        cr_assert_str_eq(type_at(&rp, 1), "text");
        cr_assert_str_eq(str_at(&rp, 1, "text"), "Running.");
        cr_assert(json_is_false(json_object_get(json_array_get(rp.progress, 1), "final")));
        cr_assert_str_eq(type_at(&rp, 2), "tool_call");
        cr_assert_str_eq(str_at(&rp, 2, "name"), "exec_command");
        cr_assert_str_eq(str_at(&rp, 3, "id"), str_at(&rp, 2, "id"));
        cr_assert_str_eq(type_at(&rp, 3), "tool_result");
        cr_assert_str_eq(str_at(&rp, 3, "text"), "hi\n");
        cr_assert(json_is_true(json_object_get(json_array_get(rp.progress, 3), "ok")));
        cr_assert_str_eq(str_at(&rp, 4, "text"), "Listing pods.");
        cr_assert_str_eq(str_at(&rp, 5, "name"), "ListPods", "the pod's tools by their names");
        cr_assert_str_eq(str_at(&rp, 6, "text"), "no pods");
        cr_assert_str_eq(type_at(&rp, 7), "reasoning");
        cr_assert_eq(json_array_size(rp.usage), 1);
        cr_assert_eq(usage_at(&rp, 0, "input_tokens"), 300);
        cr_assert_eq(usage_at(&rp, 0, "output_tokens"), 60);
        replay_done(&rp);
        codex_events_done(&e);
        free(data);
}

Test(codex_events, a_resumed_thread_reports_what_its_totals_grew_by) {
        char *first = llm_test_read("codex-first.jsonl", NULL);
        char *resumed = llm_test_read("codex-resumed.jsonl", NULL);
        codex_events e;
        replay rp;

        codex_events_init(&e, "codex:mock-model");
        codex_events_new_call(&e);
        replay_stream(&e, &rp, first);
        cr_assert_eq(rp.last, 1);
        cr_assert_str_eq(e.result, "first answer");
        cr_assert_eq(usage_at(&rp, 0, "input_tokens"), 100);
        replay_done(&rp);
        codex_events_new_call(&e);
        replay_stream(&e, &rp, resumed); /* its turn.completed says 200 and 40: the thread's */
        cr_assert_eq(rp.last, 1);
        cr_assert_str_eq(e.result, "second answer");
        cr_assert_eq(usage_at(&rp, 0, "input_tokens"), 100);
        cr_assert_eq(usage_at(&rp, 0, "output_tokens"), 20);
        replay_done(&rp);
        codex_events_done(&e);
        free(first);
        free(resumed);
}

Test(codex_events, cached_input_is_not_counted_twice) {
        const char *s = "{\"type\":\"thread.started\",\"thread_id\":\"t1\"}\n"
                        "{\"type\":\"turn.completed\",\"usage\":{\"input_tokens\":1000,"
                        "\"cached_input_tokens\":800,\"output_tokens\":5}}\n";
        codex_events e;
        replay rp;

        codex_events_init(&e, "codex:m");
        replay_stream(&e, &rp, s);
        cr_assert_eq(rp.last, 1);
        cr_assert_eq(usage_at(&rp, 0, "input_tokens"), 200);
        cr_assert_eq(usage_at(&rp, 0, "cache_read_tokens"), 800);
        cr_assert_str_eq(e.result, "", "a turn without a message answers nothing");
        replay_done(&rp);
        codex_events_done(&e);
}

Test(codex_events, a_failed_turn_is_a_one_line_error) {
        char *data = llm_test_read("codex-failed.jsonl", NULL);
        codex_events e;
        replay rp;

        codex_events_init(&e, "codex:mock-model");
        replay_stream(&e, &rp, data);
        cr_assert_eq(rp.last, -EPROTO);
        cr_assert(strstr(rp.err.msg, "model codex:mock-model: the codex CLI failed: "), "%s",
                  rp.err.msg);
        cr_assert(strstr(rp.err.msg, "bad thing happened"), "%s", rp.err.msg);
        cr_assert_null(strchr(rp.err.msg, '\n'));
        cr_assert_str_eq(type_at(&rp, 1), "notice", "the CLI's error event, before it failed");
        replay_done(&rp);
        codex_events_done(&e);
        free(data);
}

static int one(codex_events *e, const char *line, pod_error *err) {
        json_auto_t *actions = json_array();

        return codex_event(e, line, strlen(line), actions, err);
}

Test(codex_events, hostile_lines) {
        const char *bad[] = {
                "not json",
                "[1]",
                "{\"type\":\"thread.started\",\"thread_id\":\"--config=x\"}",
                "{\"type\":\"thread.started\",\"thread_id\":\"a b\"}",
                "{\"type\":\"thread.started\"}",
                "{\"type\":\"item.completed\",\"item\":{\"type\":\"agent_message\"}}",
                "{\"type\":\"item.started\",\"item\":7}",
                "{\"type\":\"a\",\"type\":\"b\"}",
        };
        codex_events e;
        pod_error err;

        codex_events_init(&e, "codex:m");
        for (size_t i = 0; i < POD_ARRAY_SIZE(bad); i++) {
                err = (pod_error){ 0 };
                cr_assert_eq(one(&e, bad[i], &err), -EPROTO, "%s", bad[i]);
                cr_assert(str_startswith(err.msg, "model codex:m: the codex CLI printed "), "%s",
                          err.msg);
        }
        cr_assert_eq(one(&e, "{\"type\":\"turn.started\",\"later\":[1,2]}", &err), 0);
        cr_assert_eq(one(&e,
                         "{\"type\":\"item.started\",\"item\":{\"id\":\"x\",\"type\":"
                         "\"collab_tool_call\"}}",
                         &err),
                     0, "a later item type: ignored");
        cr_assert_eq(one(&e,
                         "{\"type\":\"turn.completed\",\"usage\":{\"input_tokens\":-5,"
                         "\"output_tokens\":\"many\"}}",
                         &err),
                     1);
        cr_assert_eq(one(&e, "{\"type\":\"turn.started\"}", &err), -EPROTO, "after its end");
        codex_events_done(&e);
}

Test(codex_events, a_huge_command_output_is_cut) {
        size_t n = 200000;
        char *big = malloc(n + 1);
        json_t *line;
        char *text;
        codex_events e;
        replay rp;

        memset(big, 'x', n);
        big[n] = '\0';
        line = json_pack("{s:s, s:{s:s, s:s, s:s, s:s, s:i}}", "type", "item.completed", "item",
                         "id", "i1", "type", "command_execution", "command", "yes",
                         "aggregated_output", big, "exit_code", 1);
        text = json_dumps(line, JSON_COMPACT);
        codex_events_init(&e, "codex:m");
        replay_stream(&e, &rp, text);
        cr_assert_eq(json_array_size(rp.progress), 2, "the call, then its result");
        cr_assert_lt(strlen(str_at(&rp, 1, "text")), 70000);
        cr_assert(str_endswith(str_at(&rp, 1, "text"), " [cut]"));
        cr_assert(json_is_false(json_object_get(json_array_get(rp.progress, 1), "ok")));
        replay_done(&rp);
        codex_events_done(&e);
        json_decref(line);
        free(text);
        free(big);
}

/* ---- the command line -------------------------------------------------------------------- */

static bool has(char **argv, const char *s) {
        return strv_contains(argv, s);
}

Test(codex_argv, a_first_task_with_an_endpoint_and_the_pod_tools) {
        codex_argv_in in = { .exe = "/x/codex",
                             .spec = "codex:gpt",
                             .name = "gpt",
                             .system = "Be \"careful\".\nLine two\\",
                             .endpoint = "http://127.0.0.1:9/v1",
                             .key_env = "MY_KEY",
                             .mcp_exe = "/bin/pod",
                             .mcp_dir = "/run/p d" };
        char **argv = NULL;
        pod_error err = { 0 };
        size_t n;

        cr_assert_eq(codex_argv(&argv, &in, &err), 0, "%s", err.msg);
        n = strv_length(argv);
        cr_assert_str_eq(argv[0], "/x/codex");
        cr_assert_str_eq(argv[1], "exec");
        cr_assert_str_eq(argv[2], "--json");
        cr_assert_str_eq(argv[n - 1], "-", "the task on stdin");
        cr_assert(has(argv, "--dangerously-bypass-approvals-and-sandbox"));
        cr_assert(has(argv, "--skip-git-repo-check"));
        cr_assert(has(argv, "--ignore-user-config"));
        cr_assert(has(argv, "gpt"));
        cr_assert(has(argv, "developer_instructions=\"Be \\\"careful\\\".\\u000aLine two\\\\\""));
        cr_assert(has(argv, "model_provider=\"pod\""));
        cr_assert(has(argv, "model_providers.pod.base_url=\"http://127.0.0.1:9/v1\""));
        cr_assert(has(argv, "model_providers.pod.wire_api=\"responses\""));
        cr_assert(has(argv, "model_providers.pod.env_key=\"MY_KEY\""), "the key's name only");
        cr_assert(has(argv,
                      "shell_environment_policy.exclude=[\"CODEX_API_KEY\", "
                      "\"OPENAI_API_KEY\", \"MY_KEY\"]"),
                  "its commands never see the key");
        cr_assert(has(argv, "mcp_servers.pod.command=\"/bin/pod\""));
        cr_assert(has(argv, "mcp_servers.pod.args=[\"mcp\", \"--attach\", \"/run/p d\"]"));
        strv_free(argv);
}

Test(codex_argv, a_next_task_resumes_the_thread) {
        codex_argv_in in = {
                .exe = "/x/codex", .spec = "codex:gpt", .name = "gpt", .thread = "01a2-b3"
        };
        char **argv = NULL;
        pod_error err = { 0 };
        size_t n;

        cr_assert_eq(codex_argv(&argv, &in, &err), 0, "%s", err.msg);
        n = strv_length(argv);
        cr_assert_str_eq(argv[2], "resume");
        cr_assert_str_eq(argv[n - 2], "01a2-b3");
        cr_assert_str_eq(argv[n - 1], "-");
        for (size_t i = 0; i < n; i++)
                cr_assert_null(strstr(argv[i], "mcp_servers"), "no pod tools: no server");
        strv_free(argv);
}

Test(codex_argv, a_system_prompt_too_long_for_argv_is_a_clear_error) {
        char *big = malloc(200001);
        codex_argv_in in = { .exe = "/x/codex", .spec = "codex:gpt", .name = "gpt", .system = big };
        char **argv = NULL;
        pod_error err = { 0 };

        memset(big, 'a', 200000);
        big[200000] = '\0';
        cr_assert_eq(codex_argv(&argv, &in, &err), -E2BIG);
        cr_assert_null(argv);
        cr_assert(strstr(err.msg, "model codex:gpt: the system prompt is over 100 KiB"), "%s",
                  err.msg);
        free(big);
}

/* ---- the handler around a fake CLI ------------------------------------------------------- */

static char *dir;
static char *test_env[8];
#define KEY "sk-codex-test-key-0123"

/* A codex that records its argv and environment, reads its task, and prints stream.N (N: how
 * many times it ran), with its process group in pgid.N; "hang" makes it print the first line
 * and wait. */
static void fake_cli(void) {
        char *path;

        dir = tu_tmpdir();
        tu_write(dir, "codex",
                 "#!/bin/sh\n"
                 "d=$(dirname \"$0\"); n=$(ls \"$d\" | grep -c '^argv\\.')\n"
                 "printf '%s\\n' \"$@\" > \"$d/argv.$n\"; env > \"$d/env.$n\"\n"
                 "cat > \"$d/task.$n\"; ps -o pgid= $$ > \"$d/pgid.$n\"\n"
                 "if [ -e \"$d/hang\" ]; then head -1 \"$d/stream.$n\"; sleep 30 & wait; fi\n"
                 "cat \"$d/stream.$n\"\n");
        path = tu_path(dir, "codex");
        cr_assert_eq(chmod(path, 0755), 0);
        free(path);
        cr_assert_neq(asprintf(&test_env[0], "PATH=%s:/usr/bin:/bin", dir), -1);
        cr_assert_neq(asprintf(&test_env[1], "HOME=%s", dir), -1);
        test_env[2] = "MY_KEY=" KEY;
        test_env[3] = "OTHER_SECRET=nope";
        test_env[4] = NULL;
}

static void fake_done(void) {
        tu_rm_rf(dir);
        free(dir);
        free(test_env[0]);
        free(test_env[1]);
}

static llm_handler *open_codex(void) {
        manifest_view v = { .model = { .spec = (char *) "codex:mock-model",
                                       .name = (char *) "mock-model",
                                       .handler = POD_HANDLER_CODEX,
                                       .endpoint_url = (char *) "http://127.0.0.1:9/v1",
                                       .key_env = (char *) "MY_KEY" } };
        llm_handler *h = NULL;
        pod_error err = { 0 };

        cr_assert_eq(llm_open(&h, &v, &err), 0, "%s", err.msg);
        cr_assert_str_eq(llm_name(h), "codex");
        return h;
}

static int on_usage(void *ud, const json_t *u, pod_error *err) {
        (void) err;
        json_array_append((json_t *) ud, (json_t *) u);
        return 0;
}

static int
run(llm_handler *h, int tasks, json_t *usage, llm_call call, llm_turn *t, pod_error *err) {
        json_t *conv = llm_test_conv(tasks);
        int r;

        call.usage = on_usage;
        call.usage_ud = usage;
        call.envp = test_env;
        r = llm_complete(h, conv, NULL, &call, t, err);
        json_decref(conv);
        return r;
}

static void stream(int n, const char *recorded) {
        char name[32], *data = llm_test_read(recorded, NULL);

        snprintf(name, sizeof(name), "stream.%d", n);
        tu_write(dir, name, data);
        free(data);
}

Test(codex_handler, a_thread_of_two_tasks_resumed_with_the_key_out_of_argv) {
        json_t *usage = json_array();
        llm_turn t = { 0 };
        pod_error err = { 0 };
        llm_handler *h;
        char *argv, *env, *task;

        fake_cli();
        stream(0, "codex-first.jsonl");
        stream(1, "codex-resumed.jsonl");
        h = open_codex();
        cr_assert_eq(run(h, 1, usage, (llm_call){ 0 }, &t, &err), 0, "%s", err.msg);
        cr_assert_str_eq(t.text, "first answer");
        cr_assert(t.counted);
        cr_assert_null(t.usage);
        cr_assert_eq(json_array_size(t.calls), 0);
        llm_turn_done(&t);
        cr_assert_eq(run(h, 2, usage, (llm_call){ 0 }, &t, &err), 0, "%s", err.msg);
        cr_assert_str_eq(t.text, "second answer");
        llm_turn_done(&t);
        cr_assert_eq(json_array_size(usage), 2);
        cr_assert_eq(json_integer_value(json_object_get(json_array_get(usage, 1), "input_tokens")),
                     100);
        argv = tu_read_at(dir, "argv.1");
        cr_assert(strstr(argv, "resume\n"), "%s", argv);
        cr_assert(strstr(argv, "01a23d13-f674-70f0-af8f-5a7f8df6a6f9\n-\n"), "%s", argv);
        cr_assert_null(strstr(argv, KEY));
        env = tu_read_at(dir, "env.1");
        cr_assert(strstr(env, "MY_KEY=" KEY), "the provider reads the key by its name");
        cr_assert_null(strstr(env, "OTHER_SECRET"));
        task = tu_read_at(dir, "task.1");
        cr_assert_str_eq(task, "again");
        free(argv);
        free(env);
        free(task);
        llm_free(h);
        json_decref(usage);
        fake_done();
}

Test(codex_handler, a_failed_turn_fails_the_call) {
        json_t *usage = json_array();
        llm_turn t = { 0 };
        pod_error err = { 0 };
        llm_handler *h;

        fake_cli();
        stream(0, "codex-failed.jsonl");
        h = open_codex();
        cr_assert_eq(run(h, 1, usage, (llm_call){ 0 }, &t, &err), -EPROTO);
        cr_assert(strstr(err.msg, "bad thing happened"), "%s", err.msg);
        llm_free(h);
        json_decref(usage);
        fake_done();
}

Test(codex_handler, a_cli_that_ends_without_a_turn_says_why) {
        json_t *usage = json_array();
        llm_turn t = { 0 };
        pod_error err = { 0 };
        llm_handler *h;

        fake_cli();
        tu_write(dir, "stream.0", "{\"type\":\"thread.started\",\"thread_id\":\"t\"}\n");
        h = open_codex();
        cr_assert_eq(run(h, 1, usage, (llm_call){ 0 }, &t, &err), -EPROTO);
        cr_assert(strstr(err.msg, "the codex CLI (model codex:mock-model)"), "%s", err.msg);
        llm_free(h);
        json_decref(usage);
        fake_done();
}

static volatile sig_atomic_t cancel;

static void *cancel_soon(void *arg) {
        (void) arg;
        usleep(300 * 1000);
        cancel = 1;
        return NULL;
}

Test(codex_handler, cancel_ends_the_cli_and_its_process_group) {
        json_t *usage = json_array();
        llm_turn t = { 0 };
        pod_error err = { 0 };
        llm_handler *h;
        pthread_t th;
        char *pgid;
        int group;

        fake_cli();
        stream(0, "codex-first.jsonl");
        tu_write(dir, "hang", "");
        h = open_codex();
        cancel = 0;
        pthread_create(&th, NULL, cancel_soon, NULL);
        cr_assert_eq(run(h, 1, usage, (llm_call){ .cancel = &cancel }, &t, &err), -ECANCELED, "%s",
                     err.msg);
        pthread_join(th, NULL);
        pgid = tu_read_at(dir, "pgid.0");
        group = atoi(pgid);
        cr_assert_gt(group, 1);
        cr_assert_eq(tu_group_survivor(group, 10000), 0, "the CLI's group is gone (its sleep too)");
        free(pgid);
        llm_free(h);
        json_decref(usage);
        fake_done();
}

Test(codex_handler, needs_the_cli_its_install_dir_state_and_port) {
        manifest_view v = { .model = { .spec = (char *) "codex:m",
                                       .handler = POD_HANDLER_CODEX,
                                       .endpoint_url = (char *) "http://127.0.0.1:8123/v1" } };
        char *root = tu_tmpdir(), *bin, *target, *env[4] = { 0 };
        llm_needs n = { 0 };
        pod_error err = { 0 };

        tu_mkdirs(root, "npm/node_modules/@openai/codex/bin");
        tu_mkdirs(root, "npm/bin");
        tu_write(root, "npm/node_modules/@openai/codex/bin/codex.js", "#!/bin/sh\n");
        target = tu_path(root, "npm/node_modules/@openai/codex/bin/codex.js");
        bin = tu_path(root, "npm/bin/codex");
        cr_assert_eq(chmod(target, 0755), 0);
        cr_assert_eq(symlink(target, bin), 0);
        cr_assert_neq(asprintf(&env[0], "PATH=%s/npm/bin", root), -1);
        cr_assert_neq(asprintf(&env[1], "CODEX_HOME=%s/state", root), -1);
        cr_assert_eq(llm_needs_of(&n, &v, env, &err), 0, "%s", err.msg);
        cr_assert_str_eq(n.exe, target);
        cr_assert(str_endswith(n.read_paths[0], "/npm"), "%s", n.read_paths[0]);
        cr_assert(str_endswith(n.write_paths[0], "/state"), "%s", n.write_paths[0]);
        cr_assert_eq(n.port, 8123);
        llm_needs_done(&n);
        free(env[0]);
        env[0] = "PATH=/nonexistent";
        cr_assert_eq(llm_needs_of(&n, &v, env, &err), -ENOENT);
        cr_assert(strstr(err.msg,
                         "model codex:m runs the codex CLI, which is not on PATH: "
                         "install it with `npm install -g @openai/codex`"),
                  "%s", err.msg);
        free(env[1]);
        free(bin);
        free(target);
        tu_rm_rf(root);
        free(root);
}

/* ---- the real CLI, unconfined, with the bound server and a stub of the pod tools --------- */

/* A minimal MCP server: initialize, tools/list (ListPods), tools/call (a text). */
static json_t *stub_mcp(void *ud, const char *line, size_t len) {
        json_auto_t *m = json_loadb(line, len, 0, NULL);
        json_t *id = json_object_get(m, "id");
        const char *method = json_string_value(json_object_get(m, "method"));
        json_t *result;

        if (!id || !method)
                return NULL;
        if (strcmp(method, "initialize") == 0)
                result = json_pack("{s:O, s:{s:{}}, s:{s:s, s:s}}", "protocolVersion",
                                   json_object_get(json_object_get(m, "params"), "protocolVersion"),
                                   "capabilities", "tools", "serverInfo", "name", "pod", "version",
                                   "1");
        else if (strcmp(method, "tools/list") == 0)
                result = json_pack("{s:[{s:s, s:s, s:{s:s}}]}", "tools", "name", "ListPods",
                                   "description", "List the child pods.", "inputSchema", "type",
                                   "object");
        else if (strcmp(method, "tools/call") == 0) {
                (*(int *) ud)++;
                result = json_pack("{s:[{s:s, s:s}], s:b}", "content", "type", "text", "text",
                                   "no pods from the stub", "isError", false);
        } else
                result = json_object();
        return json_pack("{s:s, s:O, s:o}", "jsonrpc", "2.0", "id", id, "result", result);
}

static pid_t mock_start(const char *at, const char *script, int *port) {
        char *spath = tu_path(at, "script.json"), line[64] = "";
        int out[2];
        size_t n = 0;
        pid_t pid;

        tu_write(at, "script.json", script);
        cr_assert_eq(pipe2(out, O_CLOEXEC), 0);
        pid = fork();
        cr_assert_geq(pid, 0);
        if (pid == 0) {
                dup2(out[1], 1);
                execlp("python3", "python3", POD_SOURCE_DIR "/tests/mock/mockmodel.py", "--script",
                       spath, (char *) NULL);
                _exit(127);
        }
        close(out[1]);
        while (n < sizeof(line) - 1 && read(out[0], line + n, 1) == 1 && line[n] != '\n')
                n++;
        close(out[0]);
        free(spath);
        cr_assert(sscanf(line, "PORT %d", port) == 1, "the mock said '%s'", line);
        return pid;
}

Test(codex_real_cli, a_task_calls_the_pod_tools_through_the_bound_server) {
        char *work, *url, *penv[6] = { 0 };
        manifest_view v = { .model = { .spec = (char *) "codex:mock-model",
                                       .name = (char *) "mock-model",
                                       .handler = POD_HANDLER_CODEX,
                                       .key_env = (char *) "MOCK_KEY" } };
        llm_handler *h = NULL;
        llm_turn t = { 0 };
        pod_error err = { 0 };
        json_t *conv = llm_test_conv(1), *usage = json_array();
        int port, calls = 0;
        pid_t mock;

        if (access(POD_NPM_PREFIX "/node_modules/.bin/codex", X_OK) != 0)
                cr_skip_test("the codex CLI is not in %s (the e2e suite installs it)",
                             POD_NPM_PREFIX);
        work = tu_tmpdir_real();
        mock = mock_start(work,
                          "{\"turns\": [{\"say\": \"Listing.\", \"call\": [{\"tool\": "
                          "\"ListPods\", \"namespace\": \"mcp__pod\", \"input\": {}}]},"
                          " {\"say\": \"Seen: {{last_tool_result}}\"}]}",
                          &port);
        cr_assert_neq(asprintf(&url, "http://127.0.0.1:%d/v1", port), -1);
        v.model.endpoint_url = url;
        penv[0] = "PATH=" POD_NPM_PREFIX "/node_modules/.bin:/usr/bin:/bin";
        cr_assert_neq(asprintf(&penv[1], "HOME=%s", work), -1);
        cr_assert_neq(asprintf(&penv[2], "CODEX_HOME=%s/codex-home", work), -1);
        penv[3] = "MOCK_KEY=" KEY;
        cr_assert_eq(llm_open(&h, &v, &err), 0, "%s", err.msg);
        cr_assert_eq(llm_complete(h, conv, NULL,
                                  &(llm_call){ .mcp = stub_mcp,
                                               .mcp_ud = &calls,
                                               .private_dir = work,
                                               .exe = POD_BINARY_PATH,
                                               .cwd = work,
                                               .usage = on_usage,
                                               .usage_ud = usage,
                                               .envp = penv },
                                  &t, &err),
                     0, "%s", err.msg);
        cr_assert_eq(calls, 1, "ListPods went through the relay to the stub");
        cr_assert(strstr(t.text, "no pods from the stub"), "%s", t.text);
        cr_assert_eq(json_integer_value(json_object_get(json_array_get(usage, 0), "input_tokens")),
                     200);
        {
                char *fifo = tu_path(work, LLM_MCP_IN);
                cr_assert_neq(access(fifo, F_OK), 0, "the FIFOs are removed");
                free(fifo);
        }
        llm_turn_done(&t);
        llm_free(h);
        kill(mock, SIGTERM);
        waitpid(mock, NULL, 0);
        json_decref(conv);
        json_decref(usage);
        tu_rm_rf(work);
        free(work);
        free(url);
        free(penv[1]);
        free(penv[2]);
}
