/* SPDX-License-Identifier: MIT */
/*
 * Budgets (src/pod/budget.c, DESIGN §18): usage and its price, the grant as the least of
 * ceiling, request and what is left, reservations and their return, exhaustion exactly at
 * the limit and one over, reports that only ever rise, and spawners racing for one budget.
 */
#include <criterion/criterion.h>
#include <pthread.h>
#include <string.h>

#include "pod/pod.h"

#define U POD_UNLIMITED

static pod_budget *budget_of(uint64_t tokens, uint64_t turns, double cost_usd, bool priced) {
        manifest_view v = { 0 };
        pod_budget *b = NULL;
        pod_error err = { 0 };

        v.budget = (manifest_budget){ .has_tokens = tokens != U,
                                      .tokens = tokens,
                                      .turns = turns,
                                      .seconds = 3600,
                                      .has_cost = cost_usd > 0,
                                      .cost_usd = cost_usd };
        v.price = (manifest_price){ .set = priced, .input = 1, .output = 4, .cached_input = 0.1 };
        cr_assert_eq(budget_new(&b, &v, NULL, &err), 0, "%s", err.msg);
        return b;
}

static void charge(pod_budget *b, uint64_t in, uint64_t out) {
        pod_usage u = { .input = in, .output = out, .turns = 1 };

        budget_charge(b, &u);
}

static const pod_limits unbounded = { U, U, U, U };

/* ---- usage and price ---------------------------------------------------------------------- */

Test(budget, a_call_is_priced_per_million_tokens_and_rounded_up) {
        manifest_price p = { .set = true, .input = 3, .output = 15, .cached_input = 0.3 };
        json_t *j = json_pack("{s:i, s:i, s:i, s:i}", "input_tokens", 1000000, "output_tokens", 1,
                              "cache_read_tokens", 10, "cache_write_tokens", 7);
        pod_usage u;

        cr_assert_eq(usage_of_call(&u, j, &p, NULL), 0);
        cr_assert_eq(usage_tokens(&u), 1000001, "tokens are input + output");
        cr_assert_eq(u.cache_read, 10, "cached reads are counted apart");
        cr_assert_eq(u.cache_write, 7);
        cr_assert_eq(u.turns, 1);
        /* $3 + 15 µ$ + 3 µ$ (0.3 $/Mtok × 10 tokens) */
        cr_assert_eq(u.cost_nano, 3000000000ull + 15000ull + 3000ull);
        cr_assert_eq(usage_of_call(&u, j, NULL, NULL), 0);
        cr_assert_eq(u.cost_nano, 0, "no price, no cost");
        json_decref(j);
        j = json_pack("{s:f}", "input_tokens", 1.5);
        cr_assert_lt(usage_of_call(&u, j, &p, NULL), 0, "a count is a whole number");
        json_decref(j);
        cr_assert_eq(usage_of_call(&u, json_null(), &p, NULL), 0);
        cr_assert_eq(u.turns, 1, "a call without usage is still a turn");
}

/* ---- a delegate's reports: turns and cost_usd ------------------------------------------- */

static json_t *call_of(const char *text) {
        json_t *j = json_loads(text, JSON_DECODE_ANY, NULL);

        cr_assert(j, "%s", text);
        return j;
}

Test(budget, a_call_may_say_how_many_turns_it_was) {
        json_t *j = call_of("{\"input_tokens\": 10, \"output_tokens\": 2, \"turns\": 3}");
        pod_usage u;

        cr_assert_eq(usage_of_call(&u, j, NULL, NULL), 0);
        cr_assert_eq(u.turns, 3);
        cr_assert_eq(usage_tokens(&u), 12);
        json_decref(j);
        j = call_of("{\"turns\": 0, \"cost_usd\": 0.25}");
        cr_assert_eq(usage_of_call(&u, j, NULL, NULL), 0);
        cr_assert_eq(u.turns, 0, "a cost-only report is no turn");
        cr_assert_eq(usage_tokens(&u), 0);
        cr_assert_eq(u.cost_nano, 250000000ull);
        json_decref(j);
        j = call_of("{\"input_tokens\": 1, \"turns\": null, \"cost_usd\": null}");
        cr_assert_eq(usage_of_call(&u, j, NULL, NULL), 0);
        cr_assert_eq(u.turns, 1, "null is not reported: one turn");
        cr_assert_eq(u.cost_nano, 0);
        json_decref(j);
}

Test(budget, a_reported_cost_replaces_the_price_and_is_rounded_up) {
        manifest_price p = { .set = true, .input = 3, .output = 15, .cached_input = 0.3 };
        json_t *j = call_of("{\"input_tokens\": 1000000, \"output_tokens\": 1000000, "
                            "\"cost_usd\": 0.0012}");
        pod_usage u;

        cr_assert_eq(usage_of_call(&u, j, &p, NULL), 0);
        cr_assert_eq(u.cost_nano, 1200000ull, "what the CLI said it cost, not $18 of price");
        cr_assert_eq(u.turns, 1);
        json_decref(j);
        j = call_of("{\"cost_usd\": 0.0000000011}");
        cr_assert_eq(usage_of_call(&u, j, NULL, NULL), 0);
        cr_assert_eq(u.cost_nano, 2, "1.1 nano-dollars count as 2");
        json_decref(j);
        j = call_of("{\"input_tokens\": 5, \"cost_usd\": 0}");
        cr_assert_eq(usage_of_call(&u, j, &p, NULL), 0);
        cr_assert_eq(u.cost_nano, 0, "a call the CLI says was free is free");
        json_decref(j);
}

Test(budget, a_hostile_call_report_is_refused_whole) {
        static const char *const bad[] = {
                "{\"turns\": -1}",
                "{\"turns\": 1.5}",
                "{\"turns\": \"1\"}",
                "{\"turns\": 100001}",
                "{\"turns\": 9223372036854775807}",
                "{\"cost_usd\": -0.01}",
                "{\"cost_usd\": \"0.5\"}",
                "{\"cost_usd\": true}",
                "{\"cost_usd\": 1e308}",
                "{\"cost_usd\": 1000000.5}",
                "{\"cost_usd\": [1]}",
                "{\"input_tokens\": 5, \"output_tokens\": 5, \"cost_usd\": -1}",
                "{\"input_tokens\": 5, \"turns\": 2, \"cost_usd\": {}}",
        };
        pod_budget *b = budget_of(1000, 100, 1.0, false);
        pod_usage u = { .input = 77 }, call = { .input = 99 }, own;
        pod_error err = { 0 };

        for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
                json_t *j = call_of(bad[i]);
                err.msg[0] = 0;
                cr_assert_lt(usage_of_call(&u, j, NULL, &err), 0, "%s accepted", bad[i]);
                cr_assert(strstr(err.msg, "usage.turns") || strstr(err.msg, "usage.cost_usd"),
                          "%s: %s", bad[i], err.msg);
                cr_assert_null(strchr(err.msg, '\n'), "one line");
                cr_assert_eq(u.input, 77, "%s: nothing written", bad[i]);
                cr_assert_lt(budget_charge_call(b, j, &call, &err), 0, "%s charged", bad[i]);
                cr_assert_eq(call.input, 99, "%s: nothing written", bad[i]);
                json_decref(j);
        }
        budget_usage(b, &own, NULL);
        cr_assert_eq(memcmp(&own, &(pod_usage){ 0 }, sizeof(own)), 0, "nothing charged");
        cr_assert_not(budget_priced(b), "a refused cost makes no cost");
        budget_free(b);
}

Test(budget, a_reported_cost_is_enforced_without_a_price) {
        pod_budget *b = budget_of(U, 100, 1.0, false);
        json_t *j = call_of("{\"input_tokens\": 100, \"output_tokens\": 10, \"cost_usd\": 0.6}");
        json_t *rest = call_of("{\"turns\": 0, \"cost_usd\": 0.4}"), *snap;
        pod_usage call, own;
        char why[128];

        cr_assert_not(budget_priced(b));
        cr_assert_eq(budget_charge_call(b, j, &call, NULL), 0);
        cr_assert_eq(call.cost_nano, 600000000ull);
        cr_assert(budget_priced(b), "a reported cost is a cost to show");
        snap = budget_to_json(b);
        cr_assert(json_is_true(json_object_get(snap, "priced")));
        json_decref(snap);
        cr_assert_not(budget_exhausted(b, why, sizeof(why)), "$0.40 is left");
        cr_assert_eq(budget_charge_call(b, rest, NULL, NULL), 0);
        cr_assert(budget_exhausted(b, why, sizeof(why)), "exactly at the limit");
        cr_assert_str_eq(why, "budget exhausted (cost $1.0000 of $1.0000)");
        budget_usage(b, &own, NULL);
        cr_assert_eq(own.turns, 1, "the cost-only report was no turn");
        cr_assert_eq(usage_tokens(&own), 110);
        budget_free(b);
        json_decref(j);
        json_decref(rest);
}

/* claude reports each call's tokens as it makes it, and the cost of them all at the end */
Test(budget, a_cost_only_report_settles_the_calls_the_price_counted) {
        pod_budget *b = budget_of(U, 100, 10.0, true), *unpriced = budget_of(U, 100, 10.0, false);
        json_t *dollar = call_of("{\"input_tokens\": 1000000, \"output_tokens\": 0}");
        json_t *more = call_of("{\"turns\": 0, \"cost_usd\": 1.5}");
        json_t *less = call_of("{\"turns\": 0, \"cost_usd\": 0.4}");
        pod_usage call, own;

        cr_assert_eq(budget_charge_call(b, dollar, &call, NULL), 0);
        cr_assert_eq(call.cost_nano, 1000000000ull, "priced as it came: $1");
        cr_assert_eq(budget_charge_call(b, more, &call, NULL), 0);
        cr_assert_eq(call.cost_nano, 500000000ull, "the CLI said $1.50: 50 cents more");
        cr_assert_eq(call.turns, 0);
        cr_assert_eq(budget_charge_call(b, less, &call, NULL), 0);
        cr_assert_eq(call.cost_nano, 400000000ull, "nothing priced since: all of it");
        cr_assert_eq(budget_charge_call(b, dollar, NULL, NULL), 0);
        cr_assert_eq(budget_charge_call(b, less, &call, NULL), 0);
        cr_assert_eq(call.cost_nano, 0, "a lower figure regains nothing");
        budget_usage(b, &own, NULL);
        cr_assert_eq(own.cost_nano, 2900000000ull, "$1 + $0.50 + $0.40 + $1");
        cr_assert_eq(own.turns, 2);
        cr_assert_eq(budget_charge_call(unpriced, dollar, NULL, NULL), 0);
        cr_assert_eq(budget_charge_call(unpriced, more, &call, NULL), 0);
        cr_assert_eq(call.cost_nano, 1500000000ull, "no price: the CLI's figure, whole");
        budget_usage(unpriced, &own, NULL);
        cr_assert_eq(own.cost_nano, 1500000000ull);
        budget_free(b);
        budget_free(unpriced);
        json_decref(dollar);
        json_decref(more);
        json_decref(less);
}

Test(budget, a_reported_cost_one_nano_dollar_short_and_one_over) {
        pod_budget *b = budget_of(U, 100, 1.0, true);
        json_t *short_ = call_of("{\"input_tokens\": 1, \"cost_usd\": 0.999999999}");
        json_t *over = call_of("{\"input_tokens\": 1, \"cost_usd\": 0.250000002}");
        char why[128];

        cr_assert_eq(budget_charge_call(b, short_, NULL, NULL), 0);
        cr_assert_not(budget_exhausted(b, why, sizeof(why)), "one nano-dollar is left");
        cr_assert(budget_can_call(b));
        cr_assert_eq(budget_charge_call(b, over, NULL, NULL), 0);
        cr_assert(budget_exhausted(b, why, sizeof(why)));
        cr_assert_str_eq(why, "budget exhausted (cost $1.2500 of $1.0000)");
        budget_free(b);
        json_decref(short_);
        json_decref(over);
}

Test(budget, a_report_from_a_child_is_checked) {
        static const char *const bad[] = {
                "[]",
                "{\"input_tokens\": -1}",
                "{\"output_tokens\": \"5\"}",
                "{\"turns\": 1e30}",
                "{\"input_tokens\": 9223372036854775807}",
                "{\"cost_usd\": -0.5}",
                "{\"cost_usd\": \"1\"}",
        };
        pod_usage u;
        pod_error err = { 0 };

        for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
                json_t *j = json_loads(bad[i], JSON_DECODE_ANY, NULL);
                cr_assert_lt(usage_from_json(&u, j, &err), 0, "%s accepted", bad[i]);
                cr_assert(strstr(err.msg, "usage"), "%s", err.msg);
                json_decref(j);
        }
        {
                pod_usage in = { 1, 2, 3, 4, 5, 1234567890 };
                json_t *j = usage_to_json(&in);
                cr_assert_eq(usage_from_json(&u, j, &err), 0, "%s", err.msg);
                cr_assert_eq(memcmp(&u, &in, sizeof(u)), 0, "the wire form round-trips exactly");
                json_decref(j);
        }
}

Test(budget, a_request_is_checked) {
        static const char *const bad[] = {
                "{\"tokens\": 0}",   "{\"tokens\": -5}",
                "{\"turns\": 1.5}",  "{\"seconds\": \"9\"}",
                "{\"cost_usd\": 0}", "{\"cost_usd\": -1}",
                "{\"dollars\": 5}",  "[]",
        };
        pod_limits l;
        pod_error err = { 0 };
        json_t *j;

        for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
                j = json_loads(bad[i], JSON_DECODE_ANY, NULL);
                cr_assert_lt(limits_from_request(&l, j, &err), 0, "%s accepted", bad[i]);
                cr_assert(strstr(err.msg, "SpawnPod: budget"), "%s", err.msg);
                json_decref(j);
        }
        j = json_pack("{s:i, s:f}", "tokens", 500, "cost_usd", 0.25);
        cr_assert_eq(limits_from_request(&l, j, &err), 0, "%s", err.msg);
        cr_assert_eq(l.tokens, 500);
        cr_assert_eq(l.cost_nano, 250000000ull);
        cr_assert_eq(l.turns, U, "a part left out does not bound the grant");
        json_decref(j);
}

/* ---- the grant ------------------------------------------------------------------------------ */

Test(budget, the_grant_is_the_least_of_ceiling_request_and_remaining) {
        pod_limits ceiling = { 1000, 10, 60, U }, request = { 5000, 20, 30, U },
                   remaining = { 700, 50, 100, U }, g;
        pod_error err = { 0 };

        cr_assert_eq(limits_grant(&g, &ceiling, &request, &remaining, &err), 0);
        cr_assert_eq(g.tokens, 700, "the remainder bounds it");
        cr_assert_eq(g.turns, 10, "the profile bounds it");
        cr_assert_eq(g.seconds, 30, "the request bounds it");
        cr_assert_eq(g.cost_nano, U, "unbounded everywhere: unbounded");
        remaining.tokens = 0;
        cr_assert_eq(limits_grant(&g, &ceiling, &request, &remaining, &err), -EDQUOT);
        cr_assert(strstr(err.msg, "cannot get a positive budget: tokens") &&
                          strstr(err.msg, "allows tokens 1,000") &&
                          strstr(err.msg, "asks for tokens 5,000") &&
                          strstr(err.msg, "has tokens 0 left"),
                  "the refusal gives the figures: %s", err.msg);
}

Test(budget, a_reservation_holds_until_the_child_ends_and_the_unspent_returns) {
        pod_budget *b = budget_of(1000, 100, 0, false);
        pod_limits want = unbounded, g, left;
        pod_usage spent = { .input = 150, .output = 50, .turns = 2 };

        want.tokens = 600;
        charge(b, 100, 0);
        cr_assert_eq(budget_reserve(b, "kid", &unbounded, &want, &g, NULL), 0);
        cr_assert_eq(g.tokens, 600);
        budget_remaining(b, &left);
        cr_assert_eq(left.tokens, 300, "1000 - 100 own - 600 reserved");
        budget_child_usage(b, "kid", &spent);
        budget_remaining(b, &left);
        cr_assert_eq(left.tokens, 300, "spending within a grant does not change what is left");
        budget_child_end(b, "kid", true);
        budget_remaining(b, &left);
        cr_assert_eq(left.tokens, 700, "the 400 the child left returns");
        {
                pod_usage own, sub;
                budget_usage(b, &own, &sub);
                cr_assert_eq(usage_tokens(&own), 100);
                cr_assert_eq(usage_tokens(&sub), 300, "the subtree counts the child's 200");
                cr_assert_eq(sub.turns, 3);
        }
        budget_free(b);
}

Test(budget, a_child_that_ends_without_its_last_report_forfeits_its_grant) {
        pod_budget *b = budget_of(1000, 100, 2.0, true);
        pod_limits want = { 400, U, U, 500000000ull }, g, left;
        pod_usage spent = { .input = 100, .turns = 1, .cost_nano = 1000 };

        cr_assert_eq(budget_reserve(b, "kid", &unbounded, &want, &g, NULL), 0);
        budget_child_usage(b, "kid", &spent);
        budget_child_end(b, "kid", false);
        budget_remaining(b, &left);
        cr_assert_eq(left.tokens, 600, "it may have spent all of it unreported: none returns");
        cr_assert_eq(left.cost_nano, 1500000000ull);
        budget_child_end(b, "kid", false); /* a second end changes nothing */
        budget_remaining(b, &left);
        cr_assert_eq(left.tokens, 600);
        budget_free(b);
}

Test(budget, a_spawn_rolled_back_returns_its_reservation_whole) {
        pod_budget *b = budget_of(1000, 100, 0, false);
        pod_limits want = { 1000, U, U, U }, g, left;

        cr_assert_eq(budget_reserve(b, "kid", &unbounded, &want, &g, NULL), 0);
        cr_assert_not(budget_can_call(b), "everything is reserved");
        budget_child_cancel(b, "kid");
        budget_remaining(b, &left);
        cr_assert_eq(left.tokens, 1000);
        cr_assert(budget_can_call(b));
        budget_free(b);
}

Test(budget, a_part_left_out_takes_at_most_half_of_what_is_left) {
        pod_budget *b = budget_of(1000, 100, 1.0, true);
        pod_limits g;

        cr_assert_eq(budget_reserve(b, "a", &unbounded, &unbounded, &g, NULL), 0);
        cr_assert_eq(g.tokens, 500);
        cr_assert_eq(g.cost_nano, 500000000ull);
        cr_assert_eq(g.turns, 100, "turns are not reserved: the child may have all");
        cr_assert_eq(budget_reserve(b, "b", &unbounded, &unbounded, &g, NULL), 0);
        cr_assert_eq(g.tokens, 250);
        budget_free(b);
}

Test(budget, a_spawn_that_cannot_get_a_positive_budget_is_refused) {
        pod_budget *b = budget_of(100, 100, 0, false);
        pod_limits want = { 100, U, U, U }, g = { 7, 7, 7, 7 };
        pod_error err = { 0 };

        cr_assert_eq(budget_reserve(b, "a", &unbounded, &want, &g, NULL), 0);
        cr_assert_eq(budget_reserve(b, "b", &unbounded, &want, &g, &err), -EDQUOT);
        cr_assert(strstr(err.msg, "has tokens 0 left to grant"), "%s", err.msg);
        cr_assert_eq(g.tokens, 100, "a refusal writes nothing");
        budget_free(b);
}

/* ---- exhaustion at the edges -------------------------------------------------------------- */

Test(budget, exhausted_exactly_at_the_limit_and_not_before) {
        pod_budget *b = budget_of(1000000, 100, 0, false);
        char why[128];

        charge(b, 999999, 0);
        cr_assert_not(budget_exhausted(b, why, sizeof(why)), "one token is left");
        cr_assert(budget_can_call(b));
        charge(b, 0, 1);
        cr_assert(budget_exhausted(b, why, sizeof(why)));
        cr_assert_str_eq(why, "budget exhausted (tokens 1,000,000 of 1,000,000)");
        cr_assert_not(budget_can_call(b));
        budget_free(b);
}

Test(budget, one_over_says_how_far) {
        pod_budget *b = budget_of(1000, 100, 0, false);
        char why[128];

        charge(b, 600, 401);
        cr_assert(budget_exhausted(b, why, sizeof(why)));
        cr_assert_str_eq(why, "budget exhausted (tokens 1,001 of 1,000)");
        budget_free(b);
}

Test(budget, turns_and_cost_run_out_too) {
        pod_budget *b = budget_of(U, 2, 0, false), *c = budget_of(U, 100, 1.0, true);
        pod_usage dollar = { .turns = 1, .cost_nano = 1000000000ull };
        char why[128];

        charge(b, 1, 1);
        cr_assert_not(budget_exhausted(b, why, sizeof(why)));
        charge(b, 1, 1);
        cr_assert(budget_exhausted(b, why, sizeof(why)));
        cr_assert_str_eq(why, "budget exhausted (turns 2 of 2)");
        budget_charge(c, &dollar);
        cr_assert(budget_exhausted(c, why, sizeof(why)));
        cr_assert_str_eq(why, "budget exhausted (cost $1.0000 of $1.0000)");
        budget_free(b);
        budget_free(c);
}

Test(budget, a_grandchilds_spending_shrinks_the_root) {
        pod_budget *root = budget_of(1000, 100, 0, false);
        pod_limits want = { 800, U, U, U }, g;
        pod_usage child_subtree = { .input = 700, .output = 100, .turns = 4 };
        char why[128];

        cr_assert_eq(budget_reserve(root, "child", &unbounded, &want, &g, NULL), 0);
        /* the child reports its subtree, its own child's spending in it */
        budget_child_usage(root, "child", &child_subtree);
        charge(root, 200, 0);
        cr_assert(budget_exhausted(root, why, sizeof(why)));
        cr_assert_str_eq(why, "budget exhausted (tokens 1,000 of 1,000)");
        budget_free(root);
}

Test(budget, a_report_only_ever_raises_the_count) {
        pod_budget *b = budget_of(1000, 100, 0, false);
        pod_limits want = { 500, U, U, U }, g;
        pod_usage high = { .input = 300, .turns = 3 }, low = { .input = 10, .turns = 1 }, sub;

        cr_assert_eq(budget_reserve(b, "kid", &unbounded, &want, &g, NULL), 0);
        budget_child_usage(b, "kid", &high);
        budget_child_usage(b, "kid", &low);
        budget_usage(b, NULL, &sub);
        cr_assert_eq(usage_tokens(&sub), 300, "a late or lying report regains nothing");
        budget_child_usage(b, "stranger", &high);
        budget_usage(b, NULL, &sub);
        cr_assert_eq(usage_tokens(&sub), 300, "no reservation, no count");
        budget_free(b);
}

/* ---- concurrency -------------------------------------------------------------------------- */

typedef struct racer {
        pod_budget *b;
        char name[16];
        int r;
        pod_limits grant;
} racer;

static void *race_reserve(void *arg) {
        racer *x = arg;
        pod_limits want = { 1000, U, U, U }; /* the full remainder, each of them */

        x->r = budget_reserve(x->b, x->name, &unbounded, &want, &x->grant, NULL);
        return NULL;
}

Test(budget, ten_children_racing_for_the_full_remainder_never_overspend) {
        pod_budget *b = budget_of(1000, 100, 0, false);
        racer x[10];
        pthread_t th[10];
        uint64_t granted = 0;
        int won = 0;

        for (int i = 0; i < 10; i++) {
                x[i] = (racer){ .b = b };
                snprintf(x[i].name, sizeof(x[i].name), "kid%d", i);
                pthread_create(&th[i], NULL, race_reserve, &x[i]);
        }
        for (int i = 0; i < 10; i++)
                pthread_join(th[i], NULL);
        for (int i = 0; i < 10; i++)
                if (x[i].r == 0) {
                        won++;
                        granted += x[i].grant.tokens;
                } else
                        cr_assert_eq(x[i].r, -EDQUOT);
        cr_assert_eq(won, 1, "the first takes all; the others get nothing positive");
        cr_assert_eq(granted, 1000);
        budget_free(b);
}
