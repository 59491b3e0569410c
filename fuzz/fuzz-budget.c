/* SPDX-License-Identifier: MIT */
/*
 * Fuzz target: the budget's parsers of hostile input (src/pod/budget.c): a child's usage
 * report (child_event's usage), SpawnPod.budget from a model, and a model call's usage from
 * a handler (a delegate's turns and cost_usd too). Each is refused with a message or accepted; an
 * accepted report round-trips exactly and, counted into a budget, never lowers what was spent.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "pod/pod.h"

static void check_usage(const json_t *j) {
        pod_usage u, back;
        pod_error err = { 0 };
        json_t *again;

        if (usage_from_json(&u, j, &err) < 0) {
                if (!err.msg[0])
                        abort();
                return;
        }
        again = usage_to_json(&u);
        if (!again || usage_from_json(&back, again, NULL) < 0 || memcmp(&u, &back, sizeof(u)) != 0)
                abort();
        json_decref(again);
        {
                manifest_view v = {
                        .budget = { .has_tokens = true, .tokens = 1000, .turns = 10, .seconds = 60 }
                };
                pod_limits want = { 500, POD_UNLIMITED, POD_UNLIMITED, POD_UNLIMITED }, g;
                pod_budget *b = NULL;
                pod_usage before, after;
                pod_buf text = { 0 };
                char why[POD_ERROR_MAX];
                if (budget_new(&b, &v, NULL, NULL) < 0)
                        abort();
                if (budget_reserve(b, "kid", &want, &want, &g, NULL) < 0)
                        abort();
                budget_child_usage(b, "kid", &u);
                budget_usage(b, NULL, &before);
                budget_child_usage(b, "kid", &(pod_usage){ 0 });
                budget_usage(b, NULL, &after);
                if (memcmp(&before, &after, sizeof(before)) != 0)
                        abort(); /* a lower report regains nothing */
                budget_exhausted(b, why, sizeof(why));
                usage_describe(&text, &after, true);
                buf_done(&text);
                budget_child_end(b, "kid", true);
                budget_free(b);
        }
}

/*
 * A model call's usage from a handler (a delegate's CLI reports turns and cost_usd): accepted,
 * it is charged whole, with the turns it said (1 when left out) and the cost it said (else
 * the price's); refused, with a one-line message, nothing is charged.
 */
static void check_call(const json_t *j, const manifest_price *price) {
        manifest_view v = { .budget = { .has_cost = true, .cost_usd = 1.0, .turns = 10 } };
        const json_t *turns = json_object_get(j, "turns"), *cost = json_object_get(j, "cost_usd");
        pod_usage u = { 0 }, call = { .input = 7 }, own;
        pod_budget *b = NULL;
        pod_error err = { 0 };
        char why[POD_ERROR_MAX];

        if (budget_new(&b, &v, NULL, NULL) < 0)
                abort();
        if (budget_charge_call(b, j, &call, &err) < 0) {
                budget_usage(b, &own, NULL);
                if (!err.msg[0] || strchr(err.msg, '\n') || call.input != 7 ||
                    memcmp(&own, &u, sizeof(own)) != 0 || budget_priced(b))
                        abort(); /* a refusal says why on one line and charges nothing */
                budget_free(b);
                return;
        }
        if (usage_of_call(&u, j, price, NULL) < 0 || u.input != call.input ||
            u.output != call.output || u.cache_read != call.cache_read ||
            u.cache_write != call.cache_write)
                abort(); /* the price changes the cost alone */
        if (u.turns != (json_is_integer(turns) ? (uint64_t) json_integer_value(turns) : 1))
                abort();
        if (json_is_number(cost) &&
            (u.cost_nano != call.cost_nano || !budget_priced(b) ||
             (double) u.cost_nano + 1e-5 < json_number_value(cost) * 1e9 * (1 - 1e-12) ||
             (double) u.cost_nano > json_number_value(cost) * 1e9 * (1 + 1e-12) + 1))
                abort(); /* a reported cost is what it cost, rounded up, priced or not */
        budget_usage(b, &own, NULL);
        if (memcmp(&own, &call, sizeof(own)) != 0)
                abort();
        budget_exhausted(b, why, sizeof(why));
        budget_free(b);
}

/* After a call priced as it came, a report settles against it: the cost counted is never
 * less than the price's figure, and a cost-only report makes it the CLI's figure when that
 * is more. */
static void check_settle(const json_t *j, const manifest_price *price) {
        manifest_view v = { .budget = { .turns = 10 }, .price = *price };
        json_t *first = json_pack("{s:i}", "input_tokens", 1000000);
        pod_usage est, call, own;
        pod_budget *b = NULL;

        if (!first || budget_new(&b, &v, NULL, NULL) < 0 ||
            budget_charge_call(b, first, &est, NULL) < 0)
                abort();
        if (budget_charge_call(b, j, &call, NULL) == 0) {
                budget_usage(b, &own, NULL);
                if (own.cost_nano < est.cost_nano || own.input < est.input ||
                    own.turns != est.turns + call.turns)
                        abort();
                if (!call.turns && !call.input && !call.output && !call.cache_read &&
                    !call.cache_write && json_is_number(json_object_get(j, "cost_usd"))) {
                        pod_usage said;
                        if (usage_of_call(&said, j, NULL, NULL) < 0 ||
                            own.cost_nano !=
                                    (said.cost_nano > est.cost_nano ? said.cost_nano :
                                                                      est.cost_nano))
                                abort();
                }
        }
        json_decref(first);
        budget_free(b);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        json_t *j = json_loadb((const char *) data, size, JSON_DECODE_ANY, NULL);
        manifest_price price = { .set = true, .input = 3, .output = 15, .cached_input = 0.3 };
        pod_limits l;
        pod_error err = { 0 };

        if (!j)
                return 0;
        check_usage(j);
        if (limits_from_request(&l, j, &err) == 0) {
                if (!l.tokens || !l.turns || !l.seconds || !l.cost_nano)
                        abort(); /* a request's parts are positive */
        } else if (!strstr(err.msg, "SpawnPod: budget")) {
                abort();
        }
        check_call(j, &price);
        check_settle(j, &price);
        json_decref(j);
        return 0;
}
