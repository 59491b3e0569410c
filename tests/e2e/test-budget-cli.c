/* SPDX-License-Identifier: MIT */
/*
 * End to end: budgets down the tree and usage up the tree (DESIGN §18, docs/budgets.md).
 * The limits are tested on the mock model servers (tests/mock), on the Anthropic and the
 * OpenAI Responses wires, counting the usage each server reported; what the wires do not
 * change (a death without a report, `pod ps` and `pod logs` while a tree runs, an idle child
 * holding the rest) runs on script-model pods, whose turns declare their usage. Every figure
 * below is exact.
 */
#include <criterion/criterion.h>
#include <string.h>
#include <unistd.h>

#include "base/base.h"
#include "e2e-mock.h"
#include "e2e.h"
#include "testutil.h"
#include <jansson.h>

#define ANTHROPIC "anthropic:mock-model"
#define RESPONSES "openai:mock-model"

static tu_env env;
static char *side; /* the mocks' scripts and request logs (outside env) */

static void setup(void) {
        tu_env_setup(&env);
        side = tu_tmpdir();
        env.extra_env[0] = "POD_TEST_MOCK_KEY=sk-test-budget";
        tu_write(env.project, "src/main.c", "int main(void) { return 0; }\n");
}

static void teardown(void) {
        tu_env_teardown(&env);
        tu_rm_rf(side);
        free(side);
}

TestSuite(budget_cli, .init = setup, .fini = teardown, .timeout = 120);

#define POD(r, ...) tu_run_pod(r, &env, env.project, (const char *const[]){ __VA_ARGS__, NULL })

#define SPAWNER_TOOLS "tools: [Read, Bash, SpawnPod, WaitPod, ReadPodOutput, ListPods, StopPod]\n"

/* n turns, each one Bash call (cmd) reporting in + out tokens, then a final answer. */
static char *loop_script(int n, int in, int out, const char *cmd) {
        pod_buf b = { 0 };

        buf_puts(&b, "{\"turns\": [");
        for (int i = 0; i < n; i++)
                buf_printf(&b,
                           "{\"say\": \"turn %d\", \"call\": [{\"tool\": \"Bash\", \"input\": "
                           "{\"command\": \"%s\"}}], \"usage\": {\"input_tokens\": %d, "
                           "\"output_tokens\": %d}}, ",
                           i + 1, cmd, in, out);
        buf_puts(&b, "{\"say\": \"loop done\"}]}");
        return buf_steal(&b);
}

static void profile(const char *slug, const char *front, const char *script) {
        e2e_profile(&env, NULL, slug, front, script);
}

/*
 * A mock model serving script (the script model's turns and usage; a turn without usage
 * reports none), in whole writes: the stream's irregular chunks are the wire tests' business,
 * not the budget's, and would only slow the suite.
 */
static void mock(e2e_mock *m, const char *name, const char *script) {
        char *fast = NULL;

        cr_assert_eq(script[0], '{');
        cr_assert_geq(asprintf(&fast,
                               "{\"chunk\": [65536, 65536], \"usage\": {\"input_tokens\": 0, "
                               "\"output_tokens\": 0}, %s",
                               script + 1),
                      0);
        e2e_mock_start(m, &env, side, name, fast, NULL, NULL);
        free(fast);
}

/* A profile slug on wire (ANTHROPIC or RESPONSES) answered by m, the key in
 * POD_TEST_MOCK_KEY, then front. */
static void on_mock(const char *slug, const char *wire, const e2e_mock *m, const char *front) {
        char *more = NULL;

        cr_assert_geq(asprintf(&more, "api_key_env: POD_TEST_MOCK_KEY\n%s", front), 0);
        e2e_native_profile(&env, slug, wire, m->url, more);
        free(more);
}

/* A mock serving loop_script(n, in, out, cmd), and profile slug on wire answered by it. */
static void mock_looper(e2e_mock *m,
                        const char *slug,
                        const char *wire,
                        const char *front,
                        int n,
                        int in,
                        int out,
                        const char *cmd) {
        char *s = loop_script(n, in, out, cmd);

        mock(m, slug, s);
        free(s);
        on_mock(slug, wire, m, front);
}

static void looper(const char *slug, const char *front, int n, int in, int out) {
        char *s = loop_script(n, in, out, "true");

        profile(slug, front, s);
        free(s);
}

static size_t count_events(json_t *events, const char *type) {
        size_t n = 0;

        while (e2e_find_event(events, type, NULL, n))
                n++;
        return n;
}

static long long subtree_tokens(json_t *events) {
        json_t *end = e2e_find_event(events, "end", NULL, 0);
        json_t *sub = json_object_get(json_object_get(end, "usage"), "subtree");

        cr_assert_not_null(sub, "the end event carries the subtree's usage");
        return (long long) json_integer_value(json_object_get(sub, "tokens"));
}

/* ---- a top-level budget, on the wire -------------------------------------------------- */

static const char *end_status(json_t *events) {
        return json_string_value(json_object_get(e2e_find_event(events, "end", NULL, 0), "status"));
}

/* A run of the loop under --budget-tokens budget: it stops with want after exactly calls
 * requests to its server. */
static void expect_stop(const e2e_mock *m, const char *budget, const char *want, size_t calls) {
        size_t before = e2e_mock_count(m);
        tu_result r = { 0 };
        json_t *ev;

        POD(&r, "--profile", "project:loop", "--budget-tokens", budget, "go");
        cr_assert_eq(r.status, 1, "exit %d: %s", r.status, r.err);
        cr_assert(strstr(r.err, want), "--budget-tokens %s: wanted '%s' in: %s", budget, want,
                  r.err);
        tu_result_done(&r);
        cr_assert_eq(e2e_mock_count(m) - before, calls, "--budget-tokens %s: model calls", budget);
        ev = e2e_transcript(&env, NULL);
        cr_assert_eq(count_events(ev, "usage"), calls);
        cr_assert_str_eq(end_status(ev), "budget");
        json_decref(ev);
        tu_rm_rf(env.data);
}

Test(budget_cli, a_token_budget_stops_a_long_loop_within_one_call_of_the_limit) {
        e2e_mock m = { 0 };

        /* 100 tokens a call, as the Anthropic server reports them */
        mock_looper(&m, "loop", ANTHROPIC, "", 100, 80, 20, "true");
        /* exactly at the limit: three calls, no fourth */
        expect_stop(&m, "300", "budget exhausted (tokens 300 of 300)", 3);
        /* one under: the third call goes over, and is the last */
        expect_stop(&m, "299", "budget exhausted (tokens 300 of 299)", 3);
        /* one over: a fourth call, the one that crosses it */
        expect_stop(&m, "301", "budget exhausted (tokens 400 of 301)", 4);
        e2e_mock_stop(&m);
}

Test(budget_cli, a_turns_budget_and_a_time_budget) {
        e2e_mock loop = { 0 }, slow = { 0 };
        tu_result r = { 0 };

        mock_looper(&loop, "loop", RESPONSES, "", 100, 1, 1, "true");
        POD(&r, "--profile", "project:loop", "--max-turns", "3", "go");
        cr_assert_eq(r.status, 1);
        cr_assert(strstr(r.err, "budget exhausted (turns 3 of 3)"), "%s", r.err);
        cr_assert_eq(e2e_mock_count(&loop), 3, "no fourth call");
        tu_result_done(&r);
        mock_looper(&slow, "slow", RESPONSES, "", 5, 1, 1, "sleep 30");
        POD(&r, "--profile", "project:slow", "--timeout-s", "1", "go");
        cr_assert_eq(r.status, 1);
        cr_assert(strstr(r.err, "budget exhausted (seconds 1 of 1)"),
                  "the command is stopped at the budget's end: %s", r.err);
        cr_assert_eq(e2e_mock_count(&slow), 1, "no call after the time ran out");
        tu_result_done(&r);
        POD(&r, "--profile", "project:slow", "--timeout-s", "0", "go");
        cr_assert_eq(r.status, 2, "a budget is positive: %s", r.err);
        cr_assert(strstr(r.err, "--timeout-s 0"), "%s", r.err);
        tu_result_done(&r);
        e2e_mock_stop(&loop);
        e2e_mock_stop(&slow);
}

Test(budget_cli, a_cost_budget_with_a_declared_price) {
        e2e_mock m = { 0 };
        tu_result r = { 0 };

        /* a dollar a call: 1,000,000 input tokens at $1 per million */
        mock_looper(&m, "loop", RESPONSES, "price: {input_per_mtok: 1, output_per_mtok: 1}\n", 10,
                    1000000, 0, "true");
        POD(&r, "--profile", "project:loop", "--budget-usd", "3", "go");
        cr_assert_eq(r.status, 1);
        cr_assert(strstr(r.err, "budget exhausted (cost $3.0000 of $3.0000)"), "%s", r.err);
        cr_assert_eq(e2e_mock_count(&m), 3);
        tu_result_done(&r);
        /* the profile's own ceiling, on the other wire (the same script); the third call
         * crosses it */
        on_mock("capped", ANTHROPIC, &m,
                "price: {input_per_mtok: 1, output_per_mtok: 1}\nlimits:\n"
                "  budget_cost_usd: 2.5\n");
        POD(&r, "--profile", "project:capped", "go");
        cr_assert(strstr(r.err, "budget exhausted (cost $3.0000 of $2.5000)"), "%s", r.err);
        cr_assert_eq(e2e_mock_count(&m), 3 + 3);
        tu_result_done(&r);
        e2e_mock_stop(&m);
}

/* ---- down and up the tree, on two wires ------------------------------------------------- */

#define SPAWN(name, profile_, budget)                                                        \
        "{\"tool\": \"SpawnPod\", \"input\": {\"name\": \"" name "\", \"task\": \"go\", "    \
        "\"profile\": \"project:" profile_ "\", \"scope\": [{\"path\": \"@P\", \"access\": " \
        "\"read\"}], \"budget\": " budget "}}"

/* A spawner "boss" on the Anthropic wire (script) over a "kid" on Responses that loops at
 * 100 tokens a call; the boss run with --budget-tokens budget. */
static void
boss_over_kid(tu_result *r, e2e_mock *boss, e2e_mock *kid, const char *script, const char *budget) {
        mock_looper(kid, "kid", RESPONSES, "tools: [Bash]\n", 100, 80, 20, "true");
        mock(boss, "boss", script);
        on_mock("boss", ANTHROPIC, boss, SPAWNER_TOOLS);
        POD(r, "--profile", "project:boss", "--budget-tokens", budget, "go");
}

Test(budget_cli, a_child_gets_at_most_the_remainder_and_its_spending_stops_the_parent) {
        e2e_mock boss = { 0 }, kid = { 0 };
        tu_result r = { 0 };
        json_t *ev;
        bool ok;

        boss_over_kid(
                &r, &boss, &kid,
                "{\"turns\": [{\"call\": [" SPAWN(
                        "kid", "kid",
                        "{\"tokens\": 100000}") "], "
                                                "\"usage\": {\"input_tokens\": 100}},"
                                                " {\"call\": [{\"tool\": \"WaitPod\", \"input\": {}}], \"usage\": "
                                                "{\"input_tokens\": 1}}, {\"say\": \"boss done\"}]}",
                "600");
        cr_assert_eq(r.status, 1, "%s", r.err);
        cr_assert(strstr(r.err, "budget exhausted (tokens 600 of 600)"),
                  "the child's 500 and its own 100 leave nothing: %s", r.err);
        tu_result_done(&r);
        ev = e2e_transcript(&env, NULL);
        cr_assert(strstr(e2e_result_of(ev, "SpawnPod", 0, &ok), "its budget: tokens 500,") && ok,
                  "it asked for 100,000 and got the remainder");
        cr_assert_eq(subtree_tokens(ev), 600);
        json_decref(ev);
        cr_assert_eq(e2e_mock_count(&boss), 1,
                     "its next call waited for the child, which spent all that was left");
        cr_assert_eq(e2e_mock_count(&kid), 5, "the child stopped at its grant");
        ev = e2e_transcript(&env, "kid");
        /* Its own check, or its parent's stop (the parent, exhausted by it, stops its
         * children), whichever came first. */
        cr_assert(e2e_find_event(ev, "end", NULL, 0));
        json_decref(ev);
        e2e_mock_stop(&boss);
        e2e_mock_stop(&kid);
}

/* Each pod enforces the grant in its own manifest: the child stops itself, whatever its
 * spawner does (or whether it is still there), and the spawner goes on with what returned. */
Test(budget_cli, a_child_stops_at_its_own_grant_and_its_spawner_goes_on) {
        e2e_mock boss = { 0 }, kid = { 0 };
        tu_result r = { 0 };
        json_t *ev;
        bool ok;

        boss_over_kid(
                &r, &boss, &kid,
                "{\"turns\": [{\"call\": [" SPAWN(
                        "kid", "kid",
                        "{\"tokens\": 300}") "], "
                                             "\"usage\": {\"input_tokens\": 100}},"
                                             " {\"call\": [{\"tool\": \"WaitPod\", \"input\": {}}], \"usage\": "
                                             "{\"input_tokens\": 10}}, {\"say\": \"boss saw: {{last_tool_result}}\", "
                                             "\"usage\": {\"output_tokens\": 5}}]}",
                "1000");
        cr_assert_eq(r.status, 0, "%s", r.err);
        cr_assert(strstr(r.out, "budget exhausted (tokens 300 of 300)"),
                  "the child's own error reached its spawner: %s", r.out);
        tu_result_done(&r);
        cr_assert_eq(e2e_mock_count(&kid), 3, "the child stopped itself at its grant");
        cr_assert_eq(e2e_mock_count(&boss), 3, "its spawner had budget left, and went on");
        ev = e2e_transcript(&env, "kid");
        cr_assert_str_eq(end_status(ev), "budget");
        json_decref(ev);
        ev = e2e_transcript(&env, NULL);
        cr_assert(strstr(e2e_result_of(ev, "WaitPod", 0, &ok), "kid: failed"), "%s",
                  e2e_result_of(ev, "WaitPod", 0, &ok));
        cr_assert_eq(subtree_tokens(ev), 100 + 300 + 10 + 5);
        json_decref(ev);
        e2e_mock_stop(&boss);
        e2e_mock_stop(&kid);
}

Test(budget_cli, a_depth_3_trees_totals_add_up_exactly_at_the_root) {
        e2e_mock top = { 0 }, middle = { 0 }, bottom = { 0 };
        tu_result r = { 0 };
        json_t *root, *mid, *leaf;
        bool ok;

        mock_looper(&bottom, "leaf", ANTHROPIC, "tools: [Bash]\n", 3, 7, 3, "true"); /* 30 */
        /* the middle on Responses, whose input_tokens include the cached reads */
        mock(&middle, "mid",
             "{\"turns\": [{\"call\": [" SPAWN(
                     "leaf", "leaf",
                     "{\"tokens\": 100}") "], "
                                          "\"usage\": {\"input_tokens\": 11, \"output_tokens\": 2, \"cache_read_tokens\": 5}},"
                                          " {\"call\": [{\"tool\": \"WaitPod\", \"input\": {}}], \"usage\": {\"input_tokens\": 13}},"
                                          " {\"say\": \"mid: {{last_tool_result}}\", \"usage\": {\"output_tokens\": 17}}]}");
        on_mock("mid", RESPONSES, &middle, SPAWNER_TOOLS);
        mock(&top, "root",
             "{\"turns\": [{\"call\": [" SPAWN(
                     "mid", "mid",
                     "{\"tokens\": 500}") "], "
                                          "\"usage\": {\"input_tokens\": 101}},"
                                          " {\"call\": [{\"tool\": \"WaitPod\", \"input\": {}}, {\"tool\": \"ReadPodOutput\", "
                                          "\"input\": {\"name\": \"mid\"}}], \"usage\": {\"input_tokens\": 103}},"
                                          " {\"say\": \"root: {{last_tool_result}}\", \"usage\": {\"output_tokens\": 107}}]}");
        on_mock("root", ANTHROPIC, &top, SPAWNER_TOOLS);
        POD(&r, "--profile", "project:root", "--budget-tokens", "1000", "go");
        cr_assert_eq(r.status, 0, "%s", r.err);
        tu_result_done(&r);
        root = e2e_transcript(&env, NULL);
        mid = e2e_transcript(&env, "mid");
        leaf = e2e_transcript_at(&env, "runs/*/mid-*/leaf-*/transcript.jsonl");
        cr_assert_eq(subtree_tokens(leaf), 30);
        cr_assert_eq(subtree_tokens(mid), 30 + 13 + 13 + 17);
        cr_assert_eq(subtree_tokens(root), 30 + 43 + 101 + 103 + 107,
                     "every token of the tree is counted at the root, once");
        cr_assert(
                strstr(e2e_result_of(root, "WaitPod", 0, &ok), "usage: tokens 73 (cached reads 5)"),
                "WaitPod tells the child's subtree usage: %s",
                e2e_result_of(root, "WaitPod", 0, &ok));
        cr_assert(strstr(e2e_result_of(root, "ReadPodOutput", 0, &ok),
                         "usage: tokens 73 (cached reads 5), turns 7 (budget: tokens 500,"),
                  "so does ReadPodOutput: %s", e2e_result_of(root, "ReadPodOutput", 0, &ok));
        cr_assert_eq(e2e_mock_count(&top) + e2e_mock_count(&middle) + e2e_mock_count(&bottom),
                     3 + 3 + 4, "one request per turn, none unaccounted");
        json_decref(root);
        json_decref(mid);
        json_decref(leaf);
        e2e_mock_stop(&top);
        e2e_mock_stop(&middle);
        e2e_mock_stop(&bottom);
}

/* Ten SpawnPod calls in one turn, each asking for what is given. */
static char *fan_out(const char *budget_json) {
        pod_buf b = { 0 };

        buf_puts(&b, "{\"turns\": [{\"call\": [");
        for (int i = 0; i < 10; i++)
                buf_printf(&b,
                           "%s{\"tool\": \"SpawnPod\", \"input\": {\"name\": \"k%d\", \"task\": "
                           "\"loop\", \"profile\": \"project:kid\", \"scope\": [{\"path\": \"@P\", "
                           "\"access\": \"read\"}], \"budget\": %s}}",
                           i ? ", " : "", i, budget_json);
        buf_puts(&b,
                 "]}, {\"call\": [{\"tool\": \"WaitPod\", \"input\": {}}]}, "
                 "{\"say\": \"fan done\"}]}");
        return buf_steal(&b);
}

Test(budget_cli, ten_children_asking_for_the_full_remainder_never_overspend) {
        char *script = fan_out("{\"tokens\": 1000}");
        e2e_mock fan = { 0 }, kid = { 0 };
        tu_result r = { 0 };
        json_t *ev;
        bool ok;

        mock_looper(&kid, "kid", RESPONSES, "tools: [Bash]\n", 100, 200, 50, "true");
        mock(&fan, "fan", script);
        free(script);
        on_mock("fan", ANTHROPIC, &fan, SPAWNER_TOOLS);
        POD(&r, "--profile", "project:fan", "--budget-tokens", "1000", "go");
        cr_assert_eq(r.status, 1, "%s", r.err);
        cr_assert(strstr(r.err, "budget exhausted (tokens 1,000 of 1,000)"), "%s", r.err);
        tu_result_done(&r);
        ev = e2e_transcript(&env, NULL);
        cr_assert(strstr(e2e_result_of(ev, "SpawnPod", 0, &ok), "tokens 1000,") && ok);
        for (size_t i = 1; i < 10; i++) {
                const char *t = e2e_result_of(ev, "SpawnPod", i, &ok);
                cr_assert(!ok && strstr(t, "cannot get a positive budget: tokens") &&
                                  strstr(t, "has tokens 0 left to grant"),
                          "SpawnPod %zu: %s", i, t);
        }
        cr_assert_eq(subtree_tokens(ev), 1000);
        json_decref(ev);
        cr_assert_eq(e2e_mock_count(&kid), 4, "the one granted spent 1,000 in 4 calls of 250");
        e2e_mock_stop(&fan);
        e2e_mock_stop(&kid);
}

Test(budget_cli, ten_children_spending_at_once_stop_at_their_shares) {
        char *script = fan_out("{\"tokens\": 100}");
        e2e_mock fan = { 0 }, kid = { 0 };
        tu_result r = { 0 };
        json_t *ev;

        mock_looper(&kid, "kid", RESPONSES, "tools: [Bash]\n", 100, 80, 20, "true");
        mock(&fan, "fan", script);
        free(script);
        on_mock("fan", ANTHROPIC, &fan, SPAWNER_TOOLS);
        POD(&r, "--profile", "project:fan", "--budget-tokens", "1000", "go");
        cr_assert_eq(r.status, 1, "%s", r.err);
        cr_assert(strstr(r.err, "budget exhausted (tokens 1,000 of 1,000)"),
                  "ten children spent 100 each at once, and not a token more: %s", r.err);
        tu_result_done(&r);
        ev = e2e_transcript(&env, NULL);
        cr_assert_eq(subtree_tokens(ev), 1000);
        json_decref(ev);
        cr_assert_eq(e2e_mock_count(&kid), 10, "one call each, at its share");
        e2e_mock_stop(&fan);
        e2e_mock_stop(&kid);
}

/* ---- what the wire does not change: on the script model ---------------------------------- */

Test(budget_cli, the_run_reports_its_usage) {
        tu_result r = { 0 };
        json_t *ev;

        looper("loop",
               "price: {input_per_mtok: 1, output_per_mtok: 2, cached_input_per_mtok: 0.5}\n", 3,
               1000, 500);
        POD(&r, "--profile", "project:loop", "--json", "go");
        cr_assert_eq(r.status, 0, "%s", r.err);
        /* --json: the end event carries own and subtree usage; $0.002 a call */
        cr_assert(strstr(r.out, "\"type\":\"end\""), "%s", r.out);
        ev = e2e_transcript(&env, NULL);
        cr_assert_eq(subtree_tokens(ev), 4500);
        cr_assert_eq(json_real_value(json_object_get(
                             json_object_get(
                                     json_object_get(e2e_find_event(ev, "end", NULL, 0), "usage"),
                                     "own"),
                             "cost_usd")),
                     0.006);
        json_decref(ev);
        tu_result_done(&r);
        POD(&r, "--profile", "project:loop", "go");
        cr_assert(strstr(r.err, "[usage] tokens 4,500, turns 4, $0.0060"), "%s", r.err);
        tu_result_done(&r);
}

Test(budget_cli, a_child_that_dies_unreported_never_returns_its_grant) {
        tu_result r = { 0 };
        json_t *ev;
        bool ok;

        env.extra_env[1] = "POD_FAULT=after-run"; /* each child kills itself before its call */
        looper("kid", "tools: [Bash]\n", 5, 1, 1);
        profile("boss", SPAWNER_TOOLS,
                "{\"turns\": [{\"call\": [{\"tool\": \"SpawnPod\", \"input\": {\"name\": \"k1\", "
                "\"task\": \"loop\", \"profile\": \"project:kid\", \"scope\": [{\"path\": \"@P\", "
                "\"access\": \"read\"}], \"budget\": {\"tokens\": 400}}}]},"
                " {\"call\": [{\"tool\": \"WaitPod\", \"input\": {}}]},"
                " {\"call\": [{\"tool\": \"SpawnPod\", \"input\": {\"name\": \"k2\", "
                "\"task\": \"loop\", \"profile\": \"project:kid\", \"scope\": [{\"path\": \"@P\", "
                "\"access\": \"read\"}], \"budget\": {\"tokens\": 1000}}}]},"
                " {\"say\": \"boss done\"}]}");
        POD(&r, "--profile", "project:boss", "--budget-tokens", "1000", "go");
        cr_assert_eq(r.status, 1, "%s", r.err);
        cr_assert(strstr(r.err, "budget exhausted (tokens 1,000 of 1,000)"),
                  "k2 died unreported too: all of the budget counts as spent: %s", r.err);
        tu_result_done(&r);
        ev = e2e_transcript(&env, NULL);
        cr_assert(strstr(e2e_result_of(ev, "WaitPod", 0, &ok), "k1: failed"));
        cr_assert(strstr(e2e_result_of(ev, "SpawnPod", 1, &ok), "its budget: tokens 600,"),
                  "what k1 may have spent unreported stays spent: %s",
                  e2e_result_of(ev, "SpawnPod", 1, &ok));
        json_decref(ev);
}

Test(budget_cli, a_spawner_whose_subtree_ran_out_stops_its_other_children) {
        tu_result r = { 0 };
        json_t *ev;

        /* the idler would wait for @P/go, which never comes, until it is stopped */
        profile("idler", "tools: [Bash]\n",
                "{\"turns\": [{\"call\": [{\"tool\": \"Bash\", \"input\": {\"command\": "
                "\"while [ ! -e @P/go ]; do sleep 0.05; done; echo reached\"}}]},"
                " {\"say\": \"idler done\"}]}");
        /* the hog's one call goes past its grant of 300, and past what its spawner had */
        profile("hog", "tools: [Bash]\n",
                "{\"turns\": [{\"say\": \"hog done\", \"usage\": {\"input_tokens\": 400}}]}");
        profile("boss", SPAWNER_TOOLS,
                "{\"turns\": [{\"call\": [" SPAWN("idler", "idler", "{\"tokens\": 100}") ", " SPAWN(
                        "hog", "hog",
                        "{\"tokens\": 300}") "], \"usage\": {\"input_tokens\": 100}},"
                                             " {\"call\": [{\"tool\": \"WaitPod\", \"input\": {}}]}, {\"say\": \"boss done\"}]}");
        POD(&r, "--profile", "project:boss", "--budget-tokens", "500", "go");
        cr_assert_eq(r.status, 1, "%s", r.err);
        cr_assert(strstr(r.err, "budget exhausted (tokens 500 of 500)"), "%s", r.err);
        tu_result_done(&r);
        ev = e2e_transcript(&env, "idler");
        cr_assert(e2e_find_event(ev, "end", NULL, 0), "the idler was stopped");
        cr_assert_str_eq(end_status(ev), "cancelled");
        json_decref(ev);
        ev = e2e_transcript(&env, NULL);
        cr_assert_eq(count_events(ev, "usage"), 1, "nothing was left for a second call");
        json_decref(ev);
}

/* ---- usage, visible ------------------------------------------------------------------------- */

/* The entry named name in `pod ps --json` (a new reference), or NULL. */
static json_t *ps_entry(const char *name) {
        tu_result r = { 0 };
        json_t *list, *e, *found = NULL;
        size_t i;

        POD(&r, "ps", "--json");
        list = json_loads(r.out ? r.out : "", 0, NULL);
        json_array_foreach(list, i, e)
                if (strcmp(json_string_value(json_object_get(e, "name")) ?: "", name) == 0)
                        found = json_incref(e);
        json_decref(list);
        tu_result_done(&r);
        return found;
}

static long long usage_of(const json_t *e, const char *which, const char *key) {
        return (long long) json_integer_value(
                json_object_get(json_object_get(json_object_get(e, "usage"), which), key));
}

Test(budget_cli, ps_shows_own_and_subtree_usage_while_the_tree_runs) {
        char *out = tu_path(env.root, "root.out");
        tu_result r = { 0 };
        json_t *root = NULL, *kid;
        pid_t pid;

        profile("kid", "tools: [Bash]\n",
                "{\"turns\": [{\"call\": [{\"tool\": \"Bash\", \"input\": {\"command\": "
                "\"while [ ! -e @P/go ]; do sleep 0.05; done\"}}], \"usage\": {\"input_tokens\": 90, "
                "\"output_tokens\": 10, \"cache_read_tokens\": 4}},"
                " {\"say\": \"kid done\", \"usage\": {\"output_tokens\": 10}}]}");
        profile("root", SPAWNER_TOOLS "price: {input_per_mtok: 2000, output_per_mtok: 2000}\n",
                "{\"turns\": [{\"call\": [{\"tool\": \"SpawnPod\", \"input\": {\"name\": \"kid\", "
                "\"task\": \"wait\", \"profile\": \"project:kid\", \"scope\": [{\"path\": \"@P\", "
                "\"access\": \"read\"}], \"budget\": {\"tokens\": 400}}}], "
                "\"usage\": {\"input_tokens\": 50}},"
                " {\"call\": [{\"tool\": \"WaitPod\", \"input\": {}}], \"usage\": {\"input_tokens\": 5}},"
                " {\"say\": \"root done\"}]}");
        pid = tu_spawn_pod(&env, env.project,
                           (const char *const[]){ "--profile", "project:root", "--budget-tokens",
                                                  "1000", "go", NULL },
                           out);
        /* until the root has made its second call and heard of the kid's first */
        for (int i = 0; i < 600 && !(root && usage_of(root, "subtree", "tokens") == 155); i++) {
                json_decref(root);
                usleep(100 * 1000);
                root = ps_entry("root");
        }
        cr_assert_not_null(root, "the root is listed");
        cr_assert_eq(usage_of(root, "own", "tokens"), 55);
        cr_assert_eq(usage_of(root, "subtree", "tokens"), 155);
        cr_assert_eq(usage_of(root, "subtree", "turns"), 3);
        cr_assert_eq(usage_of(root, "subtree", "cache_read_tokens"), 4);
        cr_assert_eq(json_integer_value(json_object_get(json_object_get(root, "budget"), "tokens")),
                     1000);
        cr_assert_eq(
                json_integer_value(json_object_get(json_object_get(root, "remaining"), "tokens")),
                1000 - 55 - 400, "the kid's grant is held for it");
        kid = ps_entry("kid");
        cr_assert_eq(usage_of(kid, "own", "tokens"), 100);
        cr_assert_eq(json_integer_value(json_object_get(json_object_get(kid, "budget"), "tokens")),
                     400);
        json_decref(kid);
        POD(&r, "ps", "--tree");
        cr_assert(strstr(r.out, "TOKENS") && strstr(r.out, "TURNS") && strstr(r.out, "COST"), "%s",
                  r.out);
        cr_assert(strstr(r.out, "55/155") && strstr(r.out, "2/3"), "the root's own/subtree: %s",
                  r.out);
        cr_assert(strstr(r.out, "100/100") && strstr(r.out, "1/1"), "the kid's: %s", r.out);
        cr_assert(strstr(r.out, "$0.11"), "the root's 55 tokens at $2,000 a million: %s", r.out);
        tu_result_done(&r);
        POD(&r, "logs", "kid");
        cr_assert(strstr(r.out,
                         "[usage] turn 1: tokens 100 (input 90, output 10, cached reads 4, "
                         "cache writes 0)"),
                  "%s", r.out);
        tu_result_done(&r);
        tu_write(env.project, "go", "");
        cr_assert_eq(tu_wait(pid), 0);
        json_decref(root);
        free(out);
}

Test(budget_cli, an_idle_child_holding_the_rest_is_stopped_and_its_unspent_returns) {
        tu_result r = { 0 };
        json_t *ev;
        bool ok;

        profile("kid", "tools: [Bash]\n",
                "{\"turns\": [{\"say\": \"kid done\", \"usage\": {\"input_tokens\": 10}}]}");
        profile("boss", SPAWNER_TOOLS,
                "{\"turns\": [{\"call\": [{\"tool\": \"SpawnPod\", \"input\": {\"name\": \"kid\", "
                "\"task\": \"answer\", \"profile\": \"project:kid\", \"scope\": [{\"path\": \"@P\", "
                "\"access\": \"read\"}], \"budget\": {\"tokens\": 1000}}}]},"
                " {\"call\": [{\"tool\": \"ListPods\", \"input\": {}}], \"usage\": {\"input_tokens\": 5}},"
                " {\"say\": \"boss done\"}]}");
        POD(&r, "--profile", "project:boss", "--budget-tokens", "1000", "go");
        cr_assert_eq(r.status, 0, "%s", r.err);
        cr_assert(strstr(r.out, "boss done"), "%s", r.out);
        tu_result_done(&r);
        ev = e2e_transcript(&env, NULL);
        cr_assert(
                strstr(e2e_result_of(ev, "ListPods", 0, &ok), "kid\tstopped"),
                "the idle kid held all that was left: it was stopped so that its 990 returned: %s",
                e2e_result_of(ev, "ListPods", 0, &ok));
        cr_assert_eq(subtree_tokens(ev), 15);
        json_decref(ev);
}
