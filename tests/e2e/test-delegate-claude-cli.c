/* SPDX-License-Identifier: MIT */
/*
 * End to end: a claude: pod runs the real claude CLI (installed from npm into the build dir;
 * skipped with the reason when it cannot be) in its delegate sandbox, against the mock model
 * server (tests/mock/mockmodel.py, the Messages wire) through the profile's endpoint and key
 * variable. The CLI's own Bash runs and its output reaches the model; a write outside the
 * pod's scope is refused by the kernel; the CLI spawns a child over the bound MCP server
 * (inside its scope: done; outside: refused); the key never leaks; `pod stop` ends the CLI
 * and all it started; SendToPod continues the CLI's session.
 */
#include <criterion/criterion.h>
#include <string.h>
#include <unistd.h>

#include "base/base.h"
#include "e2e-delegate.h"
#include "e2e.h"
#include "testutil.h"
#include <jansson.h>

#define KEY "sk-e2e-delegate-7f3a9c1e5b"
#define CLAUDE_BIN POD_NPM_PREFIX "/node_modules/.bin/claude"

static e2e_delegate d;

static void setup(void) {
        e2e_delegate_setup(&d, "POD_E2E_KEY=" KEY);
}

static void teardown(void) {
        e2e_delegate_teardown(&d);
}

TestSuite(delegate_claude_cli, .init = setup, .fini = teardown, .timeout = 300);

/* The claude CLI in the build's npm prefix, or skip saying why. */
static void need_claude(void) {
        e2e_need_cli(&d, "claude", "@anthropic-ai/claude-code", CLAUDE_BIN);
}

/* The user profile slug: the claude CLI at the mock, writing in its cwd (the project). */
static void claude_profile(const char *slug, const char *extra) {
        e2e_delegate_profile(&d, slug, "claude:mock-model", "", extra);
}

#define POD(r, ...) tu_run_pod(r, &d.env, d.env.project, (const char *const[]){ __VA_ARGS__, NULL })

/* Every tool_result text the model was sent, joined. */
static char *tool_results_sent(void) {
        json_t *all = e2e_mock_requests(&d.mock), *rq, *msg, *block;
        size_t i, j, k;
        pod_buf b = { 0 };

        json_array_foreach(all, i, rq) {
                json_array_foreach(json_object_get(json_object_get(rq, "body"), "messages"), j,
                                   msg) {
                        json_array_foreach(json_object_get(msg, "content"), k, block) {
                                char *t;

                                if (!json_object_get(block, "tool_use_id"))
                                        continue;
                                t = json_dumps(json_object_get(block, "content"), JSON_ENCODE_ANY);
                                buf_printf(&b, "%s\n", t ? t : "");
                                free(t);
                        }
                }
        }
        json_decref(all);
        buf_puts(&b, "");
        return buf_steal(&b);
}

Test(delegate_claude_cli, a_tool_using_task_its_usage_and_no_key_anywhere) {
        tu_result r;
        json_t *end;
        char *sent;

        need_claude();
        e2e_delegate_mock(
                &d,
                "{\"turns\": [{\"say\": \"Running.\", \"call\": [{\"tool\": \"Bash\", \"input\": "
                "{\"command\": \"echo from-bash-$((6*7))\", \"description\": \"Say\"}}]},"
                " {\"say\": \"Result: {{last_tool_result}}\"}],"
                " \"usage\": {\"input_tokens\": 100, \"output_tokens\": 20}}");
        claude_profile("cl", NULL);
        POD(&r, "--profile", "user:cl", "--json", "run it");
        cr_assert_eq(r.status, 0, "%s\n%s", r.out, r.err);
        sent = tool_results_sent();
        cr_assert(strstr(sent, "from-bash-42"), "the CLI's own Bash ran: %s", sent);
        end = e2e_last_json_line(r.out);
        cr_assert_not_null(end, "%s", r.out);
        cr_assert_str_eq(json_string_value(json_object_get(end, "result")), "Result: from-bash-42");
        e2e_assert_own_usage(end, 200, 40, r.out);
        e2e_assert_no_key(&d, &r, KEY);
        json_decref(end);
        free(sent);
        tu_result_done(&r);
}

/* DESIGN §18 for a delegate: the CLI's model calls count as it reports each one, so a token
 * budget ends the CLI in the middle of its task, within one call of the limit (120 tokens a
 * call: the second crosses 150); its reported cost is the pod's cost. */
Test(delegate_claude_cli, a_token_budget_ends_the_cli_mid_task_and_its_cost_counts) {
        tu_result r;
        json_t *end, *own, *reqs;

        need_claude();
        e2e_delegate_mock(&d,
                          "{\"turns\": [{\"say\": \"One.\", \"call\": [{\"tool\": \"Bash\", "
                          "\"input\": {\"command\": \"true\", \"description\": \"One\"}}]},"
                          " {\"say\": \"Two.\", \"call\": [{\"tool\": \"Bash\", \"input\": "
                          "{\"command\": \"true\", \"description\": \"Two\"}}]},"
                          " {\"say\": \"Three.\", \"call\": [{\"tool\": \"Bash\", \"input\": "
                          "{\"command\": \"true\", \"description\": \"Three\"}}]},"
                          " {\"say\": \"never\"}],"
                          " \"usage\": {\"input_tokens\": 100, \"output_tokens\": 20}}");
        claude_profile("cl", NULL);
        POD(&r, "--profile", "user:cl", "--budget-tokens", "150", "--json", "loop");
        cr_assert_eq(r.status, 1, "%s\n%s", r.out, r.err);
        cr_assert(strstr(r.out, "budget exhausted (tokens 240 of 150)") ||
                          strstr(r.err, "budget exhausted (tokens 240 of 150)"),
                  "%s\n%s", r.out, r.err);
        reqs = e2e_mock_requests(&d.mock);
        cr_assert_lt(json_array_size(reqs), 4, "the CLI was ended before its last call");
        json_decref(reqs);
        tu_result_done(&r);

        /* a whole task: the CLI's reported cost reaches the pod's usage */
        POD(&r, "--profile", "user:cl", "--json", "once more");
        end = e2e_last_json_line(r.out);
        cr_assert_not_null(end, "%s\n%s", r.out, r.err);
        own = json_object_get(json_object_get(end, "usage"), "own");
        cr_assert_gt(json_real_value(json_object_get(own, "cost_usd")) +
                             (double) json_integer_value(json_object_get(own, "cost_usd")),
                     0, "the CLI's total_cost_usd counted: %s", r.out);
        json_decref(end);
        tu_result_done(&r);
}

Test(delegate_claude_cli, the_clis_own_bash_cannot_write_outside_the_scope) {
        char *script, *sent, *escape;
        tu_result r;

        need_claude();
        escape = tu_path(d.side, "escaped.txt");
        cr_assert_neq(
                asprintf(&script,
                         "{\"turns\": [{\"say\": \"Trying.\", \"call\": [{\"tool\": \"Bash\", "
                         "\"input\": {\"command\": \"echo x > %s; echo rc=$?; echo in > "
                         "@P/inside.txt\", \"description\": \"Try\"}}]},"
                         " {\"say\": \"Result: {{last_tool_result}}\"}]}",
                         escape),
                -1);
        e2e_delegate_mock(&d, script);
        claude_profile("cl", NULL);
        POD(&r, "--profile", "user:cl", "try it");
        cr_assert_eq(r.status, 0, "%s\n%s", r.out, r.err);
        sent = tool_results_sent();
        cr_assert(strstr(sent, "rc=1") || strstr(sent, "rc=2"), "%s", sent);
        cr_assert(strstr(sent, "ermission denied"), "the kernel refused: %s", sent);
        cr_assert_neq(access(escape, F_OK), 0, "the file outside the scope was not created");
        free(escape);
        escape = tu_path(d.env.project, "inside.txt");
        cr_assert_eq(access(escape, F_OK), 0, "inside: written");
        free(script);
        free(sent);
        free(escape);
        tu_result_done(&r);
}

Test(delegate_claude_cli, spawns_a_child_over_mcp_inside_its_scope_never_outside) {
        char *script, *child_out;
        const char *refused;
        json_t *top;
        tu_result r;
        bool ok;

        need_claude();
        e2e_kid_profile(&d.env);
        cr_assert_neq(
                asprintf(&script,
                         "{\"turns\": ["
                         "{\"say\": \"Out.\", \"call\": [{\"tool\": \"mcp__pod__SpawnPod\", "
                         "\"input\": {\"name\": \"bad\", \"task\": \"x\", \"profile\": "
                         "\"project:kid\", \"scope\": [{\"path\": \"%s\", \"access\": "
                         "\"write\"}]}}]},"
                         "{\"say\": \"In.\", \"call\": [{\"tool\": \"mcp__pod__SpawnPod\", "
                         "\"input\": {\"name\": \"kid\", \"task\": \"write it\", \"profile\": "
                         "\"project:kid\", \"scope\": [{\"path\": \"@P/sub\", \"access\": "
                         "\"write\"}]}}]},"
                         "{\"say\": \"Wait.\", \"call\": [{\"tool\": \"mcp__pod__WaitPod\", "
                         "\"input\": {}}]},"
                         "{\"say\": \"Done: {{last_tool_result}}\"}]}",
                         d.side),
                -1);
        e2e_delegate_mock(&d, script);
        claude_profile("cl", "tools: [Read, Write, Bash, SpawnPod, WaitPod, ListPods, StopPod]\n");
        tu_trust(d.env.config, d.env.project);
        POD(&r, "--profile", "user:cl", "delegate it");
        cr_assert_eq(r.status, 0, "%s\n%s", r.out, r.err);
        top = e2e_transcript(&d.env, NULL);
        refused = e2e_result_of(top, "mcp__pod__SpawnPod", 0, &ok);
        cr_assert(refused && !ok && strstr(refused, d.side),
                  "a spawn outside the scope is refused, naming the path: %s",
                  refused ? refused : "(no result)");
        cr_assert(e2e_result_of(top, "mcp__pod__SpawnPod", 1, &ok) && ok, "the spawn inside");
        cr_assert(strstr(r.out, "kid wrote it"), "WaitPod's answer reached the model: %s", r.out);
        child_out = tu_read_at(d.env.project, "sub/out.txt");
        cr_assert_not_null(child_out);
        cr_assert_str_eq(child_out, "from the child");
        free(child_out);
        child_out = tu_path(d.side, "out.txt");
        cr_assert_neq(access(child_out, F_OK), 0, "nothing outside the scope");
        json_decref(top);
        free(child_out);
        free(script);
        tu_result_done(&r);
}

/* pod ps --json: the running delegate pod's first model call is counted (the mock's default
 * usage: 100 input and 20 output tokens a call). */
static void assert_usage_shown(const char *name) {
        json_t *all, *e, *own = NULL;
        tu_result r;
        size_t i;

        POD(&r, "ps", "--json");
        cr_assert_eq(r.status, 0, "%s", r.err);
        all = json_loads(r.out, 0, NULL);
        cr_assert(json_is_array(all), "%s", r.out);
        json_array_foreach(all, i, e) {
                if (strcmp(json_string_value(json_object_get(e, "name")) ?: "", name) == 0)
                        own = json_object_get(json_object_get(e, "usage"), "own");
        }
        cr_assert_not_null(own, "%s", r.out);
        cr_assert_gt(json_integer_value(json_object_get(own, "tokens")), 0, "%s", r.out);
        cr_assert_geq(json_integer_value(json_object_get(own, "turns")), 1, "%s", r.out);
        json_decref(all);
        tu_result_done(&r);
}

Test(delegate_claude_cli, stop_ends_the_cli_and_all_it_started) {
        pid_t pod;

        need_claude();
        e2e_delegate_mock(&d,
                          "{\"turns\": [{\"say\": \"Sleeping.\", \"call\": [{\"tool\": \"Bash\", "
                          "\"input\": {\"command\": \"sleep 987\", \"description\": \"Wait\"}}]},"
                          " {\"say\": \"never\"}]}");
        claude_profile("cl", NULL);
        pod = e2e_start_sleeping(&d, "user:cl", "d1");
        e2e_assert_key_kept(&d.env, pod, KEY, "stream-json");
        assert_usage_shown("d1");
        e2e_assert_stop_ends_all(&d, pod, "d1");
}

Test(delegate_claude_cli, send_to_pod_continues_the_clis_session) {
        json_t *top;
        tu_result r;
        bool ok;
        const char *waited;

        need_claude();
        /* The mock answers by the number of assistant turns the request carries: a new
         * session would be answered "first" again. */
        e2e_delegate_mock(
                &d, "{\"turns\": [{\"say\": \"first\"}, {\"say\": \"second, same session\"}]}");
        claude_profile("cl", NULL);
        e2e_boss_profile(&d.env, "user:cl");
        tu_trust(d.env.config, d.env.project);
        POD(&r, "--profile", "project:boss", "go");
        cr_assert_eq(r.status, 0, "%s\n%s", r.out, r.err);
        top = e2e_transcript(&d.env, NULL);
        waited = e2e_result_of(top, "WaitPod", 0, &ok);
        cr_assert(waited && strstr(waited, "first"), "%s", waited ? waited : r.err);
        waited = e2e_result_of(top, "WaitPod", 1, &ok);
        cr_assert(waited && strstr(waited, "second, same session"), "%s", waited ? waited : r.err);
        json_decref(top);
        tu_result_done(&r);
}

/* Without the CLI on PATH: a configuration error naming the package, before anything runs. */
Test(delegate_claude_cli, a_missing_cli_is_a_configuration_error) {
        tu_result r;

        d.env.extra_env[0] = "PATH=/usr/bin:/bin";
        if (access("/usr/bin/claude", X_OK) == 0 || access("/bin/claude", X_OK) == 0)
                cr_skip_test("a claude CLI is installed system-wide");
        POD(&r, "--model", "claude:opus", "hello");
        cr_assert_eq(r.status, 2, "%s", r.err);
        cr_assert(strstr(r.err,
                         "model claude:opus runs the claude CLI, which is not on PATH: "
                         "install it with `npm install -g @anthropic-ai/claude-code`"),
                  "%s", r.err);
        tu_result_done(&r);
}
