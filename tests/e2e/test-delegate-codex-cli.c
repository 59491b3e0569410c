/* SPDX-License-Identifier: MIT */
/*
 * End to end: a codex: pod runs the real codex CLI (installed from npm into the build dir;
 * skipped with the reason when it cannot be) in its delegate sandbox, against the mock model
 * server (tests/mock/mockmodel.py, the Responses wire) through the profile's endpoint and key
 * variable (a model provider of the pod's). The CLI's own shell runs and its output reaches
 * the model; a write outside the pod's scope is refused by the kernel; the CLI spawns a child
 * over the bound MCP server (inside its scope: done; outside: refused); the key never leaks;
 * `pod stop` ends the CLI and all it started; SendToPod continues the CLI's thread (codex exec
 * resume); the usage reaches `pod ps --json`.
 */
#include <criterion/criterion.h>
#include <string.h>
#include <unistd.h>

#include "base/base.h"
#include "e2e-delegate.h"
#include "e2e.h"
#include "testutil.h"
#include <jansson.h>

#define KEY "sk-e2e-codex-4d2b8a6f0c"
#define CODEX_BIN POD_NPM_PREFIX "/node_modules/.bin/codex"

static e2e_delegate d;

static void setup(void) {
        e2e_delegate_setup(&d, "POD_E2E_KEY=" KEY);
}

static void teardown(void) {
        e2e_delegate_teardown(&d);
}

TestSuite(delegate_codex_cli, .init = setup, .fini = teardown, .timeout = 300);

/* The codex CLI in the build's npm prefix, or skip saying why. */
static void need_codex(void) {
        e2e_need_cli(&d, "codex", "@openai/codex", CODEX_BIN);
}

/* The user profile slug: the codex CLI at the mock, writing in its cwd (the project). */
static void codex_profile(const char *slug, const char *extra) {
        e2e_delegate_profile(&d, slug, "codex:mock-model", "/v1", extra);
}

#define POD(r, ...) tu_run_pod(r, &d.env, d.env.project, (const char *const[]){ __VA_ARGS__, NULL })

/* Every function_call_output the model was sent, joined. */
static char *tool_results_sent(void) {
        json_t *all = e2e_mock_requests(&d.mock), *rq, *item;
        size_t i, j;
        pod_buf b = { 0 };

        json_array_foreach(all, i, rq) {
                json_array_foreach(json_object_get(json_object_get(rq, "body"), "input"), j, item) {
                        char *t;

                        if (!json_object_get(item, "call_id") || !json_object_get(item, "output"))
                                continue;
                        t = json_dumps(json_object_get(item, "output"), JSON_ENCODE_ANY);
                        buf_printf(&b, "%s\n", t ? t : "");
                        free(t);
                }
        }
        json_decref(all);
        buf_puts(&b, "");
        return buf_steal(&b);
}

Test(delegate_codex_cli, a_tool_using_task_its_usage_and_no_key_anywhere) {
        tu_result r;
        json_t *end;
        char *sent;

        need_codex();
        e2e_delegate_mock(
                &d,
                "{\"turns\": [{\"say\": \"Running.\", \"call\": [{\"tool\": \"exec_command\", \"input\": "
                "{\"cmd\": \"echo from-bash-$((6*7))\"}}]},"
                " {\"say\": \"Result: {{last_tool_result}}\"}],"
                " \"usage\": {\"input_tokens\": 100, \"output_tokens\": 20}}");
        codex_profile("cx", NULL);
        POD(&r, "--profile", "user:cx", "--json", "run it");
        cr_assert_eq(r.status, 0, "%s\n%s", r.out, r.err);
        sent = tool_results_sent();
        cr_assert(strstr(sent, "from-bash-42"), "the CLI's own Bash ran: %s", sent);
        end = e2e_last_json_line(r.out);
        cr_assert_not_null(end, "%s", r.out);
        cr_assert(str_startswith(json_string_value(json_object_get(end, "result")), "Result: "));
        cr_assert(strstr(json_string_value(json_object_get(end, "result")), "from-bash-42"), "%s",
                  r.out);
        e2e_assert_own_usage(end, 200, 40, r.out);
        e2e_assert_no_key(&d, &r, KEY);
        json_decref(end);
        free(sent);
        tu_result_done(&r);
}

Test(delegate_codex_cli, the_clis_own_bash_cannot_write_outside_the_scope) {
        char *script, *sent, *escape;
        tu_result r;

        need_codex();
        escape = tu_path(d.side, "escaped.txt");
        cr_assert_neq(asprintf(&script,
                               "{\"turns\": [{\"say\": \"Trying.\", \"call\": [{\"tool\": "
                               "\"exec_command\", \"input\": {\"cmd\": \"echo x > %s; echo rc=$?; "
                               "echo in > @P/inside.txt\"}}]},"
                               " {\"say\": \"Result: {{last_tool_result}}\"}]}",
                               escape),
                      -1);
        e2e_delegate_mock(&d, script);
        codex_profile("cx", NULL);
        POD(&r, "--profile", "user:cx", "try it");
        cr_assert_eq(r.status, 0, "%s\n%s", r.out, r.err);
        sent = tool_results_sent();
        cr_assert(strstr(sent, "rc=1") || strstr(sent, "rc=2"), "%s", sent);
        cr_assert(strstr(sent, "ermission denied"), "the kernel refused: %s", sent);
        cr_assert_neq(access(escape, F_OK), 0, "the file outside the scope was not created");
        {
                char *inside = tu_path(d.env.project, "inside.txt");
                cr_assert_eq(access(inside, F_OK), 0, "inside: written");
                free(inside);
        }
        free(script);
        free(sent);
        free(escape);
        tu_result_done(&r);
}

Test(delegate_codex_cli, spawns_a_child_over_mcp_inside_its_scope_never_outside) {
        char *script, *child_out;
        json_t *top;
        tu_result r;
        bool ok;

        need_codex();
        e2e_kid_profile(&d.env);
        cr_assert_neq(
                asprintf(
                        &script,
                        "{\"turns\": ["
                        "{\"say\": \"Out.\", \"call\": [{\"tool\": \"SpawnPod\", \"namespace\": \"mcp__pod\", "
                        "\"input\": {\"name\": \"bad\", \"task\": \"x\", \"profile\": "
                        "\"project:kid\", \"scope\": [{\"path\": \"%s\", \"access\": "
                        "\"write\"}]}}]},"
                        "{\"say\": \"In.\", \"call\": [{\"tool\": \"SpawnPod\", \"namespace\": \"mcp__pod\", "
                        "\"input\": {\"name\": \"kid\", \"task\": \"write it\", \"profile\": "
                        "\"project:kid\", \"scope\": [{\"path\": \"@P/sub\", \"access\": "
                        "\"write\"}]}}]},"
                        "{\"say\": \"Wait.\", \"call\": [{\"tool\": \"WaitPod\", \"namespace\": \"mcp__pod\", "
                        "\"input\": {}}]},"
                        "{\"say\": \"Done: {{last_tool_result}}\"}]}",
                        d.side),
                -1);
        e2e_delegate_mock(&d, script);
        codex_profile("cx", "tools: [Read, Write, Bash, SpawnPod, WaitPod, ListPods, StopPod]\n");
        tu_trust(d.env.config, d.env.project);
        POD(&r, "--profile", "user:cx", "delegate it");
        cr_assert_eq(r.status, 0, "%s\n%s", r.out, r.err);
        {
                char *sent = tool_results_sent();
                bool unsupported = strstr(sent, "unsupported call") != NULL;

                free(sent);
                /* codex starts its MCP server only when the sandbox lets it make its
                 * seqpacket socketpair (docs/sandbox.md, delegates) */
                cr_assert_not(unsupported, "codex started no MCP server in the delegate sandbox");
        }
        top = e2e_transcript(&d.env, NULL);
        cr_assert_not(e2e_result_of(top, "SpawnPod", 0, &ok) && ok,
                      "a spawn outside the scope is refused");
        cr_assert(e2e_result_of(top, "SpawnPod", 1, &ok) && ok, "the spawn inside");
        cr_assert(strstr(r.out, "kid wrote it"), "WaitPod's answer reached the model: %s", r.out);
        child_out = tu_read_at(d.env.project, "sub/out.txt");
        cr_assert_not_null(child_out);
        cr_assert_str_eq(child_out, "from the child");
        {
                char *outside = tu_path(d.side, "out.txt");
                cr_assert_neq(access(outside, F_OK), 0);
                free(outside);
        }
        json_decref(top);
        free(child_out);
        free(script);
        tu_result_done(&r);
}

Test(delegate_codex_cli, stop_ends_the_cli_and_all_it_started) {
        pid_t pod;

        need_codex();
        e2e_delegate_mock(
                &d,
                "{\"turns\": [{\"say\": \"Sleeping.\", \"call\": [{\"tool\": \"exec_command\", "
                "\"input\": {\"cmd\": \"sleep 987\"}}]},"
                " {\"say\": \"never\"}]}");
        codex_profile("cx", NULL);
        pod = e2e_start_sleeping(&d, "user:cx", "d1");
        e2e_assert_key_kept(&d.env, pod, KEY, "--json");
        e2e_assert_stop_ends_all(&d, pod, "d1");
}

Test(delegate_codex_cli, send_to_pod_continues_the_clis_thread) {
        json_t *top;
        tu_result r;
        bool ok;
        const char *waited;

        need_codex();
        /* The mock answers by the number of assistant turns the request carries: a new
         * thread would be answered "first" again. */
        e2e_delegate_mock(
                &d, "{\"turns\": [{\"say\": \"first\"}, {\"say\": \"second, same thread\"}]}");
        codex_profile("cx", NULL);
        e2e_boss_profile(&d.env, "user:cx");
        tu_trust(d.env.config, d.env.project);
        POD(&r, "--profile", "project:boss", "go");
        cr_assert_eq(r.status, 0, "%s\n%s", r.out, r.err);
        top = e2e_transcript(&d.env, NULL);
        cr_assert(e2e_result_of(top, "SpawnPod", 0, &ok) && ok, "the codex child: %s",
                  e2e_result_of(top, "SpawnPod", 0, &ok));
        waited = e2e_result_of(top, "WaitPod", 0, &ok);
        cr_assert(waited && strstr(waited, "first"), "%s", waited ? waited : r.err);
        waited = e2e_result_of(top, "WaitPod", 1, &ok);
        cr_assert(waited && strstr(waited, "second, same thread"), "%s", waited ? waited : r.err);
        json_decref(top);
        tu_result_done(&r);
}
