/* SPDX-License-Identifier: MIT */
/*
 * End to end: budgets down the tree and usage up the tree (DESIGN §18, docs/budgets.md),
 * through script-model pods whose turns declare the usage a model would report. Every
 * figure below is exact: the script model reports what the script says.
 */
#include <criterion/criterion.h>
#include <string.h>
#include <unistd.h>

#include "base/base.h"
#include "e2e.h"
#include "testutil.h"
#include <jansson.h>

static tu_env env;

static void setup(void) {
        tu_env_setup(&env);
        tu_write(env.project, "src/main.c", "int main(void) { return 0; }\n");
}

static void teardown(void) {
        tu_env_teardown(&env);
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

/* ---- a top-level budget -------------------------------------------------------------------- */

static void expect_stop(const char *budget, const char *want, size_t calls) {
        tu_result r = { 0 };
        json_t *ev;

        POD(&r, "--profile", "project:loop", "--budget-tokens", budget, "go");
        cr_assert_eq(r.status, 1, "exit %d: %s", r.status, r.err);
        cr_assert(strstr(r.err, want), "--budget-tokens %s: wanted '%s' in: %s", budget, want,
                  r.err);
        tu_result_done(&r);
        ev = e2e_transcript(&env, NULL);
        cr_assert_eq(count_events(ev, "usage"), calls, "--budget-tokens %s: model calls", budget);
        cr_assert_str_eq(
                json_string_value(json_object_get(e2e_find_event(ev, "end", NULL, 0), "status")),
                "budget");
        json_decref(ev);
        tu_rm_rf(env.data);
}

Test(budget_cli, a_token_budget_stops_a_long_loop_within_one_call_of_the_limit) {
        looper("loop", "", 100, 80, 20);
        /* exactly at the limit: ten calls, no eleventh */
        expect_stop("1000", "budget exhausted (tokens 1,000 of 1,000)", 10);
        /* one under a call's worth: the tenth call goes over, and is the last */
        expect_stop("999", "budget exhausted (tokens 1,000 of 999)", 10);
        /* one over: an eleventh call */
        expect_stop("1001", "budget exhausted (tokens 1,100 of 1,001)", 11);
}

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

Test(budget_cli, a_turns_budget_and_a_time_budget) {
        tu_result r = { 0 };
        char *slow = loop_script(5, 1, 1, "sleep 30");

        looper("loop", "", 100, 1, 1);
        POD(&r, "--profile", "project:loop", "--max-turns", "3", "go");
        cr_assert_eq(r.status, 1);
        cr_assert(strstr(r.err, "budget exhausted (turns 3 of 3)"), "%s", r.err);
        tu_result_done(&r);
        profile("slow", "", slow);
        free(slow);
        POD(&r, "--profile", "project:slow", "--timeout-s", "1", "go");
        cr_assert_eq(r.status, 1);
        cr_assert(strstr(r.err, "budget exhausted (seconds 1 of 1)"),
                  "the command is stopped at the budget's end: %s", r.err);
        tu_result_done(&r);
        POD(&r, "--profile", "project:slow", "--timeout-s", "0", "go");
        cr_assert_eq(r.status, 2, "a budget is positive: %s", r.err);
        cr_assert(strstr(r.err, "--timeout-s 0"), "%s", r.err);
        tu_result_done(&r);
}

Test(budget_cli, a_cost_budget_with_a_declared_price) {
        tu_result r = { 0 };

        /* a dollar a call: 1,000,000 input tokens at $1 per million */
        looper("loop", "price: {input_per_mtok: 1, output_per_mtok: 1}\n", 10, 1000000, 0);
        POD(&r, "--profile", "project:loop", "--budget-usd", "3", "go");
        cr_assert_eq(r.status, 1);
        cr_assert(strstr(r.err, "budget exhausted (cost $3.0000 of $3.0000)"), "%s", r.err);
        tu_result_done(&r);
        /* the profile's own ceiling */
        looper("capped",
               "price: {input_per_mtok: 1, output_per_mtok: 1}\nlimits:\n"
               "  budget_cost_usd: 2.5\n",
               10, 1000000, 0);
        POD(&r, "--profile", "project:capped", "go");
        cr_assert(strstr(r.err, "budget exhausted (cost $3.0000 of $2.5000)"), "%s", r.err);
        tu_result_done(&r);
}

/* ---- down and up the tree ------------------------------------------------------------------ */

Test(budget_cli, a_child_gets_at_most_the_remainder_and_its_spending_stops_the_parent) {
        tu_result r = { 0 };
        json_t *ev;
        bool ok;

        looper("kid", "tools: [Bash]\n", 100, 80, 20);
        profile("boss", SPAWNER_TOOLS,
                "{\"turns\": [{\"call\": [{\"tool\": \"SpawnPod\", \"input\": {\"name\": \"kid\", "
                "\"task\": \"loop\", \"profile\": \"project:kid\", \"scope\": [{\"path\": \"@P\", "
                "\"access\": \"read\"}], \"budget\": {\"tokens\": 100000}}}], "
                "\"usage\": {\"input_tokens\": 100}},"
                " {\"call\": [{\"tool\": \"WaitPod\", \"input\": {}}], \"usage\": {\"input_tokens\": 1}},"
                " {\"say\": \"boss done\"}]}");
        POD(&r, "--profile", "project:boss", "--budget-tokens", "600", "go");
        cr_assert_eq(r.status, 1, "%s", r.err);
        cr_assert(strstr(r.err, "budget exhausted (tokens 600 of 600)"),
                  "the child's 500 and its own 100 leave nothing: %s", r.err);
        tu_result_done(&r);
        ev = e2e_transcript(&env, NULL);
        cr_assert(strstr(e2e_result_of(ev, "SpawnPod", 0, &ok), "its budget: tokens 500,") && ok,
                  "it asked for 100,000 and got the remainder");
        cr_assert_eq(subtree_tokens(ev), 600);
        cr_assert_eq(count_events(ev, "usage"), 1,
                     "its next call waited for the child, which spent all that was left");
        json_decref(ev);
        ev = e2e_transcript(&env, "kid");
        cr_assert_eq(count_events(ev, "usage"), 5, "the child stopped at its grant");
        /* Its own check, or its parent's stop (the parent, exhausted by it, stops its
         * children), whichever came first. */
        cr_assert(e2e_find_event(ev, "end", NULL, 0));
        json_decref(ev);
}

Test(budget_cli, a_depth_3_trees_totals_add_up_exactly_at_the_root) {
        tu_result r = { 0 };
        json_t *root, *mid, *leaf;
        bool ok;

        looper("leaf", "tools: [Bash]\n", 3, 7, 3); /* 30 tokens, 4 turns */
        profile("mid", SPAWNER_TOOLS,
                "{\"turns\": [{\"call\": [{\"tool\": \"SpawnPod\", \"input\": {\"name\": \"leaf\", "
                "\"task\": \"loop\", \"profile\": \"project:leaf\", \"scope\": [{\"path\": \"@P\", "
                "\"access\": \"read\"}], \"budget\": {\"tokens\": 100}}}], "
                "\"usage\": {\"input_tokens\": 11, \"output_tokens\": 2, \"cache_read_tokens\": 5}},"
                " {\"call\": [{\"tool\": \"WaitPod\", \"input\": {}}], \"usage\": {\"input_tokens\": 13}},"
                " {\"say\": \"mid:\", \"echo\": true, \"usage\": {\"output_tokens\": 17}}]}");
        profile("root", SPAWNER_TOOLS,
                "{\"turns\": [{\"call\": [{\"tool\": \"SpawnPod\", \"input\": {\"name\": \"mid\", "
                "\"task\": \"delegate\", \"profile\": \"project:mid\", \"scope\": [{\"path\": "
                "\"@P\", \"access\": \"read\"}], \"budget\": {\"tokens\": 500}}}], "
                "\"usage\": {\"input_tokens\": 101}},"
                " {\"call\": [{\"tool\": \"WaitPod\", \"input\": {}}, {\"tool\": \"ReadPodOutput\", "
                "\"input\": {\"name\": \"mid\"}}], \"usage\": {\"input_tokens\": 103}},"
                " {\"say\": \"root:\", \"echo\": true, \"usage\": {\"output_tokens\": 107}}]}");
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
        json_decref(root);
        json_decref(mid);
        json_decref(leaf);
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
                 "{\"say\": \"fan done\", \"echo\": true}]}");
        return buf_steal(&b);
}

Test(budget_cli, ten_children_asking_for_the_full_remainder_never_overspend) {
        char *fan = fan_out("{\"tokens\": 1000}");
        tu_result r = { 0 };
        json_t *ev;
        bool ok;

        looper("kid", "tools: [Bash]\n", 100, 40, 10);
        profile("fan", SPAWNER_TOOLS, fan);
        free(fan);
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
}

Test(budget_cli, ten_children_spending_at_once_stop_at_their_shares) {
        char *fan = fan_out("{\"tokens\": 100}");
        tu_result r = { 0 };
        json_t *ev;

        looper("kid", "tools: [Bash]\n", 100, 30, 20);
        profile("fan", SPAWNER_TOOLS, fan);
        free(fan);
        POD(&r, "--profile", "project:fan", "--budget-tokens", "1000", "go");
        cr_assert_eq(r.status, 1, "%s", r.err);
        cr_assert(strstr(r.err, "budget exhausted (tokens 1,000 of 1,000)"),
                  "ten children spent 100 each at once, and not a token more: %s", r.err);
        tu_result_done(&r);
        ev = e2e_transcript(&env, NULL);
        cr_assert_eq(subtree_tokens(ev), 1000);
        json_decref(ev);
}

Test(budget_cli, a_child_that_dies_unreported_never_returns_its_grant) {
        tu_result r = { 0 };
        json_t *ev;
        bool ok;

        env.extra_env[0] = "POD_FAULT=after-run"; /* each child kills itself before its call */
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
        profile("root", SPAWNER_TOOLS,
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
