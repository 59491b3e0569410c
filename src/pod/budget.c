/* SPDX-License-Identifier: MIT */
/*
 * Budgets down the tree, usage up the tree (DESIGN §18, docs/budgets.md). A pod's budget is
 * what it was granted (its manifest's budget): tokens, turns, wall time and, where the profile
 * declares a price, cost. It counts its own model calls and its children's reports; a child's
 * grant is the least of its profile's limits, what SpawnPod asked for and what the spawner has
 * left, and the tokens and cost of it stay reserved until the child ends, so children running
 * at once never together spend more than their spawner had. Turns and seconds bound each pod
 * and only narrow down the tree. The usage is kept in usage.json beside pod.json, rewritten at
 * each change, so what a pod spent outlives its process.
 */
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "pod.h"

#define CHILDREN_MAX 4096u
#define USAGE_WIRE_MAX 1000000000000000ull /* a reported count: far above any real budget */

typedef struct ledger {
        char name[POD_NAME_BUF];
        pod_limits grant;
        pod_usage spent; /* its subtree's, as reported */
} ledger;

struct pod_budget {
        pthread_mutex_t lock;
        pod_limits limits;
        manifest_price price;
        double start; /* monotonic seconds */
        pod_usage own;
        pod_usage ended; /* what ended children spent */
        ledger *kids; /* running children */
        size_t n_kids;
        char *path;
        void (*on_change)(void *ud);
        void *ud;
};

static double now_s(void) {
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (double) ts.tv_sec + (double) ts.tv_nsec / 1e9;
}

static uint64_t add_sat(uint64_t a, uint64_t b) {
        return a > UINT64_MAX - b ? UINT64_MAX : a + b;
}

static uint64_t min3(uint64_t a, uint64_t b, uint64_t c) {
        uint64_t m = a < b ? a : b;
        return m < c ? m : c;
}

/* ---- usage ------------------------------------------------------------------------------- */

uint64_t usage_tokens(const pod_usage *u) {
        return add_sat(u->input, u->output);
}

void usage_add(pod_usage *to, const pod_usage *u) {
        to->input = add_sat(to->input, u->input);
        to->output = add_sat(to->output, u->output);
        to->cache_read = add_sat(to->cache_read, u->cache_read);
        to->cache_write = add_sat(to->cache_write, u->cache_write);
        to->turns = add_sat(to->turns, u->turns);
        to->cost_nano = add_sat(to->cost_nano, u->cost_nano);
}

/* tokens at usd per million tokens, in nano-USD, rounded up: cost is never under-counted. */
static uint64_t priced(uint64_t tokens, double usd_per_mtok) {
        long double nano = (long double) tokens * (long double) usd_per_mtok * 1000.0L;

        if (nano <= 0)
                return 0;
        return nano >= (long double) UINT64_MAX ? UINT64_MAX : (uint64_t) ceill(nano - 1e-6L);
}

static int count_of(uint64_t *out, const json_t *j, const char *key, pod_error *err) {
        const json_t *v = json_object_get(j, key);

        if (!v) {
                *out = 0;
                return 0;
        }
        if (!json_is_integer(v) || json_integer_value(v) < 0 ||
            (uint64_t) json_integer_value(v) > USAGE_WIRE_MAX)
                return pod_error_set(err, -EINVAL, "usage.%s must be a whole number from 0 to %llu",
                                     key, (unsigned long long) USAGE_WIRE_MAX);
        *out = (uint64_t) json_integer_value(v);
        return 0;
}

int usage_of_call(pod_usage *out,
                  const json_t *usage,
                  const manifest_price *price,
                  pod_error *err) {
        pod_usage u = { .turns = 1 };
        int r = 0;

        if (usage && !json_is_null(usage)) {
                if (!json_is_object(usage))
                        return pod_error_set(err, -EINVAL, "the model's usage is not an object");
                r = count_of(&u.input, usage, "input_tokens", err);
                if (r >= 0)
                        r = count_of(&u.output, usage, "output_tokens", err);
                if (r >= 0)
                        r = count_of(&u.cache_read, usage, "cache_read_tokens", err);
                if (r >= 0)
                        r = count_of(&u.cache_write, usage, "cache_write_tokens", err);
                if (r < 0)
                        return r;
        }
        if (price && price->set)
                u.cost_nano = add_sat(
                        add_sat(priced(u.input, price->input), priced(u.output, price->output)),
                        priced(u.cache_read, price->cached_input));
        *out = u;
        return 0;
}

json_t *usage_to_json(const pod_usage *u) {
        return json_pack("{s:I, s:I, s:I, s:I, s:I, s:I, s:f}", "tokens",
                         (json_int_t) usage_tokens(u), "input_tokens", (json_int_t) u->input,
                         "output_tokens", (json_int_t) u->output, "cache_read_tokens",
                         (json_int_t) u->cache_read, "cache_write_tokens",
                         (json_int_t) u->cache_write, "turns", (json_int_t) u->turns, "cost_usd",
                         (double) u->cost_nano / (double) POD_NANO_PER_USD);
}

int usage_from_json(pod_usage *out, const json_t *j, pod_error *err) {
        const json_t *cost = json_object_get(j, "cost_usd");
        pod_usage u = { 0 };
        int r;

        if (!json_is_object(j))
                return pod_error_set(err, -EINVAL, "usage must be an object");
        r = count_of(&u.input, j, "input_tokens", err);
        if (r >= 0)
                r = count_of(&u.output, j, "output_tokens", err);
        if (r >= 0)
                r = count_of(&u.cache_read, j, "cache_read_tokens", err);
        if (r >= 0)
                r = count_of(&u.cache_write, j, "cache_write_tokens", err);
        if (r >= 0)
                r = count_of(&u.turns, j, "turns", err);
        if (r < 0)
                return r;
        if (cost &&
            (!json_is_number(cost) || !(json_number_value(cost) >= 0) ||
             json_number_value(cost) > POD_BUDGET_USD_MAX * 1000))
                return pod_error_set(err, -EINVAL, "usage.cost_usd must be a number from 0 to %g",
                                     POD_BUDGET_USD_MAX * 1000);
        u.cost_nano =
                cost ? (uint64_t) llround(json_number_value(cost) * (double) POD_NANO_PER_USD) : 0;
        *out = u;
        return 0;
}

/* 1234567 as "1,234,567". */
static void put_count(pod_buf *b, uint64_t n) {
        char digits[32];
        int len = snprintf(digits, sizeof(digits), "%llu", (unsigned long long) n);

        for (int i = 0; i < len; i++) {
                buf_printf(b, "%c", digits[i]);
                if (i < len - 1 && (len - 1 - i) % 3 == 0)
                        buf_puts(b, ",");
        }
}

static void put_usd(pod_buf *b, uint64_t nano) {
        buf_printf(b, "$%.4f", (double) nano / (double) POD_NANO_PER_USD);
}

void usage_describe(pod_buf *b, const pod_usage *u, bool priced_) {
        buf_puts(b, "tokens ");
        put_count(b, usage_tokens(u));
        if (u->cache_read) {
                buf_puts(b, " (cached reads ");
                put_count(b, u->cache_read);
                buf_puts(b, ")");
        }
        buf_printf(b, ", turns %llu", (unsigned long long) u->turns);
        if (priced_ || u->cost_nano) {
                buf_puts(b, ", ");
                put_usd(b, u->cost_nano);
        }
}

/* ---- limits ------------------------------------------------------------------------------ */

pod_limits limits_of_manifest(const manifest_budget *b) {
        return (pod_limits){
                .tokens = b->has_tokens ? b->tokens : POD_UNLIMITED,
                .turns = b->turns ? b->turns : POD_UNLIMITED,
                .seconds = b->seconds ? b->seconds : POD_UNLIMITED,
                .cost_nano = b->has_cost ?
                        (uint64_t) llround(b->cost_usd * (double) POD_NANO_PER_USD) :
                        POD_UNLIMITED,
        };
}

pod_limits limits_of_manifest_json(const json_t *m) {
        const json_t *b = json_object_get(m, "budget"), *limits = json_object_get(m, "limits");
        manifest_budget mb = {
                .has_tokens = json_is_integer(json_object_get(b, "tokens")),
                .tokens = (uint64_t) json_integer_value(json_object_get(b, "tokens")),
                .turns = (uint64_t) json_integer_value(
                        json_object_get(b ? b : limits, b ? "turns" : "max_turns")),
                .seconds = (uint64_t) json_integer_value(
                        json_object_get(b ? b : limits, b ? "seconds" : "timeout_s")),
                .has_cost = json_is_number(json_object_get(b, "cost_usd")),
                .cost_usd = json_number_value(json_object_get(b, "cost_usd")),
        };

        return limits_of_manifest(&mb);
}

static json_t *part_json(uint64_t v) {
        return v == POD_UNLIMITED ? json_null() : json_integer((json_int_t) v);
}

json_t *limits_to_json(const pod_limits *l) {
        return json_pack("{s:o, s:o, s:o, s:o}", "tokens", part_json(l->tokens), "turns",
                         part_json(l->turns), "seconds", part_json(l->seconds), "cost_usd",
                         l->cost_nano == POD_UNLIMITED ?
                                 json_null() :
                                 json_real((double) l->cost_nano / (double) POD_NANO_PER_USD));
}

static int
request_part(uint64_t *out, const json_t *j, const char *key, uint64_t max, pod_error *err) {
        const json_t *v = json_object_get(j, key);

        *out = POD_UNLIMITED;
        if (!v)
                return 0;
        if (!json_is_integer(v) || json_integer_value(v) < 1 ||
            (uint64_t) json_integer_value(v) > max)
                return pod_error_set(err, -EINVAL,
                                     "SpawnPod: budget.%s must be a whole number from 1 to %llu",
                                     key, (unsigned long long) max);
        *out = (uint64_t) json_integer_value(v);
        return 0;
}

int limits_from_request(pod_limits *out, const json_t *j, pod_error *err) {
        const json_t *cost = json_object_get(j, "cost_usd");
        pod_limits l;
        const char *key;
        json_t *v;
        int r;

        if (!json_is_object(j))
                return pod_error_set(err, -EINVAL,
                                     "SpawnPod: budget must be an object {tokens?, "
                                     "turns?, seconds?, cost_usd?}");
        json_object_foreach((json_t *) j, key, v)
                if (strcmp(key, "tokens") && strcmp(key, "turns") && strcmp(key, "seconds") &&
                    strcmp(key, "cost_usd"))
                        return pod_error_set(
                                err, -EINVAL,
                                "SpawnPod: budget: unknown field '%s' (fields: tokens, "
                                "turns, seconds, cost_usd)",
                                key);
        r = request_part(&l.tokens, j, "tokens", POD_BUDGET_TOKENS_MAX, err);
        if (r >= 0)
                r = request_part(&l.turns, j, "turns", 100000, err);
        if (r >= 0)
                r = request_part(&l.seconds, j, "seconds", 604800, err);
        if (r < 0)
                return r;
        l.cost_nano = POD_UNLIMITED;
        if (cost &&
            (!json_is_number(cost) || !(json_number_value(cost) > 0) ||
             json_number_value(cost) > POD_BUDGET_USD_MAX))
                return pod_error_set(err, -EINVAL,
                                     "SpawnPod: budget.cost_usd must be a number above 0 and at "
                                     "most %g",
                                     POD_BUDGET_USD_MAX);
        if (cost)
                l.cost_nano =
                        (uint64_t) llround(json_number_value(cost) * (double) POD_NANO_PER_USD);
        *out = l;
        return 0;
}

static void put_part(pod_buf *b, const char *part, uint64_t v) {
        if (v == POD_UNLIMITED)
                buf_printf(b, "%s unbounded", part);
        else if (strcmp(part, "cost") == 0) {
                buf_puts(b, "cost ");
                put_usd(b, v);
        } else {
                buf_printf(b, "%s ", part);
                put_count(b, v);
        }
}

int limits_grant(pod_limits *out,
                 const pod_limits *ceiling,
                 const pod_limits *request,
                 const pod_limits *remaining,
                 pod_error *err) {
        static const char *const parts[] = { "tokens", "turns", "seconds", "cost" };
        const uint64_t *c = &ceiling->tokens, *q = &request->tokens, *m = &remaining->tokens;
        uint64_t g[4];

        _Static_assert(sizeof(pod_limits) == 4 * sizeof(uint64_t), "pod_limits is four parts");
        for (int i = 0; i < 4; i++) {
                g[i] = min3(c[i], q[i], m[i]);
                if (g[i] == 0) {
                        pod_buf b = { 0 };
                        buf_printf(&b, "cannot get a positive budget: %s: its profile allows ",
                                   parts[i]);
                        put_part(&b, parts[i], c[i]);
                        buf_puts(&b, ", the request asks for ");
                        put_part(&b, parts[i], q[i]);
                        buf_puts(&b, ", the spawner has ");
                        put_part(&b, parts[i], m[i]);
                        buf_puts(&b,
                                 " left to grant (running children hold their grants until "
                                 "they end)");
                        pod_error_set(err, -EDQUOT, "%s", buf_str(&b) ?: "no budget left");
                        buf_done(&b);
                        return -EDQUOT;
                }
        }
        *out = (pod_limits){ g[0], g[1], g[2], g[3] };
        return 0;
}

/* ---- the pod's budget -------------------------------------------------------------------- */

int budget_new(pod_budget **out, const manifest_view *v, const char *path, pod_error *err) {
        pod_budget *b = calloc(1, sizeof(*b));

        if (!b)
                return pod_error_oom(err);
        b->limits = limits_of_manifest(&v->budget);
        b->price = v->price;
        b->start = now_s();
        b->path = path ? strdup(path) : NULL;
        if (path && !b->path) {
                free(b);
                return pod_error_oom(err);
        }
        pthread_mutex_init(&b->lock, NULL);
        *out = b;
        return 0;
}

pod_budget *budget_free(pod_budget *b) {
        if (!b)
                return NULL;
        pthread_mutex_destroy(&b->lock);
        free(b->kids);
        free(b->path);
        free(b);
        return NULL;
}

void budget_on_change(pod_budget *b, void (*fn)(void *ud), void *ud) {
        pthread_mutex_lock(&b->lock);
        b->on_change = fn;
        b->ud = ud;
        pthread_mutex_unlock(&b->lock);
}

bool budget_priced(const pod_budget *b) {
        return b->price.set;
}

double budget_deadline(const pod_budget *b) {
        return b->limits.seconds == POD_UNLIMITED ? INFINITY :
                                                    b->start + (double) b->limits.seconds;
}

static void remaining_locked(const pod_budget *b, pod_limits *out);

/* own + every child's subtree (running ones as reported so far), under the lock. */
static pod_usage subtree_locked(const pod_budget *b) {
        pod_usage u = b->own;

        usage_add(&u, &b->ended);
        for (size_t i = 0; i < b->n_kids; i++)
                usage_add(&u, &b->kids[i].spent);
        return u;
}

void budget_usage(pod_budget *b, pod_usage *ret_own, pod_usage *ret_subtree) {
        pthread_mutex_lock(&b->lock);
        if (ret_own)
                *ret_own = b->own;
        if (ret_subtree)
                *ret_subtree = subtree_locked(b);
        pthread_mutex_unlock(&b->lock);
}

static json_t *json_locked(pod_budget *b) {
        pod_usage sub = subtree_locked(b);
        pod_limits left;

        remaining_locked(b, &left);
        return json_pack("{s:o, s:{s:o, s:o}, s:o, s:b}", "budget", limits_to_json(&b->limits),
                         "usage", "own", usage_to_json(&b->own), "subtree", usage_to_json(&sub),
                         "remaining", limits_to_json(&left), "priced", b->price.set);
}

json_t *budget_to_json(pod_budget *b) {
        json_t *j;

        pthread_mutex_lock(&b->lock);
        j = json_locked(b);
        pthread_mutex_unlock(&b->lock);
        return j;
}

/* usage.json (temporary file + rename), then the change hook; not under the lock. */
static void changed(pod_budget *b, bool usage) {
        void (*fn)(void *) = NULL;
        void *ud = NULL;
        json_t *j = NULL;

        pthread_mutex_lock(&b->lock);
        if (b->path)
                j = json_locked(b);
        fn = usage ? b->on_change : NULL;
        ud = b->ud;
        if (j) { /* under the lock: two threads' writes land in order */
                pod_buf tmp = { 0 };
                buf_printf(&tmp, "%s.tmp", b->path);
                if (buf_str(&tmp) && json_dump_file(j, buf_str(&tmp), JSON_COMPACT) == 0)
                        rename(buf_str(&tmp), b->path);
                buf_done(&tmp);
                json_decref(j);
        }
        pthread_mutex_unlock(&b->lock);
        if (fn)
                fn(ud);
}

void budget_charge(pod_budget *b, const pod_usage *call) {
        pthread_mutex_lock(&b->lock);
        usage_add(&b->own, call);
        pthread_mutex_unlock(&b->lock);
        changed(b, true);
}

int budget_charge_call(pod_budget *b, const json_t *usage, pod_usage *ret_call, pod_error *err) {
        pod_usage u;
        int r = usage_of_call(&u, usage, &b->price, err);

        if (r < 0)
                return r;
        budget_charge(b, &u);
        *ret_call = u;
        return 0;
}

bool budget_exhausted(pod_budget *b, char *why, size_t n) {
        pod_buf m = { 0 };
        pod_usage u;
        double elapsed = now_s() - b->start;
        bool out;

        pthread_mutex_lock(&b->lock);
        u = subtree_locked(b);
        if (b->limits.tokens != POD_UNLIMITED && usage_tokens(&u) >= b->limits.tokens) {
                buf_puts(&m, "tokens ");
                put_count(&m, usage_tokens(&u));
                buf_puts(&m, " of ");
                put_count(&m, b->limits.tokens);
        } else if (b->limits.cost_nano != POD_UNLIMITED && u.cost_nano >= b->limits.cost_nano) {
                buf_puts(&m, "cost ");
                put_usd(&m, u.cost_nano);
                buf_puts(&m, " of ");
                put_usd(&m, b->limits.cost_nano);
        } else if (b->limits.turns != POD_UNLIMITED && b->own.turns >= b->limits.turns) {
                buf_puts(&m, "turns ");
                put_count(&m, b->own.turns);
                buf_puts(&m, " of ");
                put_count(&m, b->limits.turns);
        } else if (b->limits.seconds != POD_UNLIMITED && elapsed >= (double) b->limits.seconds) {
                buf_printf(&m, "seconds %.0f of ", floor(elapsed));
                put_count(&m, b->limits.seconds);
        }
        pthread_mutex_unlock(&b->lock);
        out = m.len > 0;
        if (out && why)
                snprintf(why, n, "budget exhausted (%s)", buf_str(&m));
        buf_done(&m);
        return out;
}

/* limit less used, 0 when used reaches it; unbounded stays so. */
static uint64_t left_of(uint64_t limit, uint64_t used) {
        if (limit == POD_UNLIMITED)
                return POD_UNLIMITED;
        return used >= limit ? 0 : limit - used;
}

static void remaining_locked(const pod_budget *b, pod_limits *out) {
        double left_s;
        uint64_t tokens, cost;

        /* Own and ended spending, and each running child's reservation or, past it, spending. */
        tokens = add_sat(usage_tokens(&b->own), usage_tokens(&b->ended));
        cost = add_sat(b->own.cost_nano, b->ended.cost_nano);
        for (size_t i = 0; i < b->n_kids; i++) {
                const ledger *k = &b->kids[i];
                uint64_t t = usage_tokens(&k->spent);
                tokens = add_sat(tokens,
                                 k->grant.tokens == POD_UNLIMITED || t > k->grant.tokens ?
                                         t :
                                         k->grant.tokens);
                cost = add_sat(cost,
                               k->grant.cost_nano == POD_UNLIMITED ||
                                               k->spent.cost_nano > k->grant.cost_nano ?
                                       k->spent.cost_nano :
                                       k->grant.cost_nano);
        }
        left_s = budget_deadline(b) - now_s();
        *out = (pod_limits){
                .tokens = left_of(b->limits.tokens, tokens),
                .turns = left_of(b->limits.turns, b->own.turns),
                .seconds = b->limits.seconds == POD_UNLIMITED ? POD_UNLIMITED :
                        left_s > 0                            ? (uint64_t) left_s :
                                                                0,
                .cost_nano = left_of(b->limits.cost_nano, cost),
        };
}

bool budget_can_call(pod_budget *b) {
        pod_limits left;

        budget_remaining(b, &left);
        return left.tokens > 0 && left.cost_nano > 0;
}

void budget_remaining(pod_budget *b, pod_limits *out) {
        pthread_mutex_lock(&b->lock);
        remaining_locked(b, out);
        pthread_mutex_unlock(&b->lock);
}

static ledger *find_locked(pod_budget *b, const char *child) {
        for (size_t i = 0; i < b->n_kids; i++)
                if (strcmp(b->kids[i].name, child) == 0)
                        return &b->kids[i];
        return NULL;
}

int budget_reserve(pod_budget *b,
                   const char *child,
                   const pod_limits *ceiling,
                   const pod_limits *request,
                   pod_limits *ret_grant,
                   pod_error *err) {
        pod_limits left, grant;
        ledger *k;
        int r;

        pod_limits ask = *request;

        pthread_mutex_lock(&b->lock);
        remaining_locked(b, &left);
        /* A part the request leaves out takes at most half of what is left: the spawner keeps
         * something for its own next calls (docs/budgets.md). */
        if (ask.tokens == POD_UNLIMITED && left.tokens != POD_UNLIMITED)
                ask.tokens = left.tokens / 2;
        if (ask.cost_nano == POD_UNLIMITED && left.cost_nano != POD_UNLIMITED)
                ask.cost_nano = left.cost_nano / 2;
        r = limits_grant(&grant, ceiling, &ask, &left, err);
        if (r < 0 && err &&
            ((request->tokens == POD_UNLIMITED && ask.tokens == 0) ||
             (request->cost_nano == POD_UNLIMITED && ask.cost_nano == 0))) {
                char why[POD_ERROR_MAX];
                snprintf(why, sizeof(why), "%s", err->msg);
                pod_error_set(err, r,
                              "%s; the request left it out, which asks for half of what "
                              "is left",
                              why);
        }
        if (r >= 0 && find_locked(b, child))
                r = pod_error_set(err, -EEXIST, "a child named '%s' holds a reservation already",
                                  child);
        if (r >= 0 && b->n_kids >= CHILDREN_MAX)
                r = pod_error_set(err, -E2BIG, "over %u children hold reservations", CHILDREN_MAX);
        if (r >= 0) {
                k = realloc(b->kids, (b->n_kids + 1) * sizeof(*k));
                if (!k)
                        r = pod_error_oom(err);
                else {
                        b->kids = k;
                        k = &b->kids[b->n_kids++];
                        *k = (ledger){ .grant = grant };
                        snprintf(k->name, sizeof(k->name), "%s", child);
                }
        }
        pthread_mutex_unlock(&b->lock);
        if (r < 0)
                return r;
        *ret_grant = grant;
        changed(b, false);
        return 0;
}

/* Each count only ever rises: a report that came late or lies low changes nothing. */
static void raise_to(pod_usage *to, const pod_usage *u) {
        uint64_t *t = &to->input;
        const uint64_t *f = &u->input;

        _Static_assert(sizeof(pod_usage) == 6 * sizeof(uint64_t), "pod_usage is six counts");
        for (int i = 0; i < 6; i++)
                if (f[i] > t[i])
                        t[i] = f[i];
}

void budget_child_usage(pod_budget *b, const char *child, const pod_usage *subtree) {
        ledger *k;

        pthread_mutex_lock(&b->lock);
        k = find_locked(b, child);
        if (k)
                raise_to(&k->spent, subtree);
        pthread_mutex_unlock(&b->lock);
        if (k)
                changed(b, true);
}

static void drop_locked(pod_budget *b, ledger *k) {
        *k = b->kids[--b->n_kids];
}

void budget_child_end(pod_budget *b, const char *child, bool final) {
        ledger *k;

        pthread_mutex_lock(&b->lock);
        k = find_locked(b, child);
        if (k) {
                pod_usage spent = k->spent;
                if (!final) { /* it may have spent its grant unreported: count all of it */
                        if (k->grant.tokens != POD_UNLIMITED &&
                            usage_tokens(&spent) < k->grant.tokens)
                                spent.input += k->grant.tokens - usage_tokens(&spent);
                        if (k->grant.cost_nano != POD_UNLIMITED &&
                            spent.cost_nano < k->grant.cost_nano)
                                spent.cost_nano = k->grant.cost_nano;
                }
                usage_add(&b->ended, &spent);
                drop_locked(b, k);
        }
        pthread_mutex_unlock(&b->lock);
        if (k)
                changed(b, true);
}

void budget_child_cancel(pod_budget *b, const char *child) {
        ledger *k;

        pthread_mutex_lock(&b->lock);
        k = find_locked(b, child);
        if (k)
                drop_locked(b, k);
        pthread_mutex_unlock(&b->lock);
        if (k)
                changed(b, false);
}
