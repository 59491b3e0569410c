/* SPDX-License-Identifier: MIT */
/*
 * The native handler (DESIGN §9): one model call over HTTP on the wire the manifest's
 * handler names. The request is the wire's (pure, wire-*.c); the answer streams in through
 * the SSE parser into the wire's assembler, and its progress goes out per chunk received.
 * A call is retried on 408, 409, 429, 5xx, an overload inside a 200 stream or a connection
 * cut short, honouring retry-after, else backing off exponentially with jitter, up to
 * LLM_ATTEMPTS attempts and LLM_RETRY_TOTAL_MS of waiting, and never past the call's
 * deadline: no part of a turn is acted on before the whole turn is made, so a retry is
 * always safe. The key is read from its variable at each call, goes only into a request
 * header, and is scrubbed from any error text; errors name the model, the endpoint
 * (userinfo redacted) and the cause in one line.
 */
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include "llm-internal.h"

extern char **environ;

/* Defaults, each overridable by a variable of the same name in seconds (docs/models.md). */
#define LLM_CONNECT_S 10 /* POD_MODEL_CONNECT_TIMEOUT_S */
#define LLM_STALL_S 120 /* POD_MODEL_STALL_TIMEOUT_S: nothing received for this long */
#define LLM_CALL_S 600 /* POD_MODEL_CALL_TIMEOUT_S: one call, retries included */
#define LLM_ATTEMPTS 5 /* POD_MODEL_ATTEMPTS */
#define LLM_RETRY_TOTAL_MS 120000L /* waiting between attempts, at most, in one call */
#define LLM_BACKOFF_BASE_MS 500L
#define LLM_BACKOFF_CAP_MS 20000L
#define LLM_RETRY_AFTER_MAX_MS 60000L

typedef struct native {
        const llm_wire *wire;
        char *spec, *model, *url, *shown, *key_env;
        pod_reasoning reasoning;
        llm_http *http; /* at the first call: libcurl is loaded then */
        long connect_ms, stall_ms, call_ms;
        int attempts;
} native;

static const llm_wire *wire_of(pod_handler h) {
        switch (h) {
        case POD_HANDLER_ANTHROPIC:
                return &llm_wire_anthropic;
        case POD_HANDLER_OPENAI_CHAT:
                return &llm_wire_openai_chat;
        case POD_HANDLER_OPENAI_RESPONSES:
                return &llm_wire_openai_responses;
        default:
                return NULL;
        }
}

int llm_check(const manifest_view *v, pod_error *err) {
        bool delegate =
                v->model.handler == POD_HANDLER_CLAUDE || v->model.handler == POD_HANDLER_CODEX;
        const char *key;
        int r;

        if (delegate) {
                /* Its CLI must be there (the error names the package to install). */
                llm_needs n = { 0 };

                r = llm_needs_of(&n, v, environ, err);
                llm_needs_done(&n);
                if (r < 0)
                        return r;
        }
        if (!(wire_of(v->model.handler) || delegate) || !v->model.key_env)
                return 0;
        key = getenv(v->model.key_env);
        if (!key || !*key)
                return pod_error_set(err, -ENOKEY,
                                     "model %s needs an API key: set the environment variable %s "
                                     "(or name another with api_key_env in the profile)",
                                     v->model.spec, v->model.key_env);
        return 0;
}

/* A positive whole number from the environment, at most max; dflt otherwise. */
static long env_number(const char *name, long dflt, long max) {
        const char *v = getenv(name);
        int n;

        if (!v || str_to_int(v, &n) < 0 || n <= 0 || n > max)
                return dflt;
        return n;
}

static void native_free(void *state) {
        native *n = state;

        if (!n)
                return;
        llm_http_free(n->http);
        free(n->spec);
        free(n->model);
        free(n->url);
        free(n->shown);
        free(n->key_env);
        free(n);
}

static int native_open(void **ret_state, const manifest_view *v, pod_error *err) {
        const llm_wire *w = wire_of(v->model.handler);
        native *n;
        int r;

        if (!w || !v->model.endpoint_url)
                return pod_error_set(err, -EINVAL, "model %s: no endpoint", v->model.spec);
        r = llm_check(v, err);
        if (r < 0)
                return r;
        n = calloc(1, sizeof(*n));
        if (!n)
                return pod_error_oom(err);
        *n = (native){ .wire = w,
                       .reasoning = v->model.reasoning,
                       .connect_ms = 1000 *
                               env_number("POD_MODEL_CONNECT_TIMEOUT_S", LLM_CONNECT_S, 86400),
                       .stall_ms =
                               1000 * env_number("POD_MODEL_STALL_TIMEOUT_S", LLM_STALL_S, 86400),
                       .call_ms = 1000 * env_number("POD_MODEL_CALL_TIMEOUT_S", LLM_CALL_S, 86400),
                       .attempts = (int) env_number("POD_MODEL_ATTEMPTS", LLM_ATTEMPTS, 20) };
        n->spec = strdup(v->model.spec);
        n->model = strdup(v->model.name);
        n->shown = llm_redact_url(v->model.endpoint_url);
        n->key_env = v->model.key_env ? strdup(v->model.key_env) : NULL;
        if (asprintf(&n->url, "%s%s", v->model.endpoint_url, w->path) < 0)
                n->url = NULL;
        if (!n->spec || !n->model || !n->shown || !n->url || (v->model.key_env && !n->key_env)) {
                native_free(n);
                return pod_error_oom(err);
        }
        *ret_state = n;
        return 0;
}

/* ---- one attempt ------------------------------------------------------------------------- */

typedef struct try_state {
        llm_asm a;
        sse_parser sse;
        const llm_call *call;
        bool progressed;
} try_state;

static int on_event(void *ud, const char *event, const char *data, size_t len, pod_error *err) {
        try_state *t = ud;

        return llm_asm_event(&t->a, event, data, len, err);
}

static void report(const llm_call *call, json_t *ev) {
        if (call && call->progress && ev)
                call->progress(call->progress_ud, ev);
        else
                json_decref(ev);
}

static int on_data(void *ud, const char *p, size_t n, pod_error *err) {
        try_state *t = ud;
        json_t *events;
        json_t *ev;
        size_t i;
        int r = sse_feed(&t->sse, p, n, err);

        if (!t->call || !t->call->progress)
                return r;
        events = json_array();
        llm_asm_progress(&t->a, events);
        json_array_foreach(events, i, ev)
                report(t->call, json_incref(ev));
        json_decref(events);
        return r;
}

static bool status_retryable(long s) {
        return s == 408 || s == 409 || s == 429 || (s >= 500 && s <= 599);
}

static bool context_length(const char *msg) {
        static const char *const marks[] = { "context length",
                                             "context_length",
                                             "context window",
                                             "prompt is too long",
                                             "maximum context",
                                             "too many tokens",
                                             NULL };
        for (const char *const *m = marks; msg && *m; m++)
                if (strcasestr(msg, *m))
                        return true;
        return false;
}

/* The cause of a refusal, in one line. */
static int refusal(const native *n, const llm_http_res *res, pod_error *err) {
        _cleanup_free_ char *msg =
                llm_error_message(res->error_body.data ?: "", res->error_body.len);
        long s = res->status;

        if ((s == 401 || s == 403) && n->key_env)
                return pod_error_set(err, -EACCES, "the endpoint refused the key in %s (HTTP %ld)",
                                     n->key_env, s);
        if (s == 401 || s == 403)
                return pod_error_set(err, -EACCES,
                                     "the endpoint wants a key (HTTP %ld); name its "
                                     "variable with api_key_env in the profile",
                                     s);
        if (s == 404)
                return pod_error_set(err, -ENOENT,
                                     "model '%s' was not found at the endpoint "
                                     "(HTTP 404%s%s)",
                                     n->model, msg ? ": " : "", msg ?: "");
        if ((s == 400 || s == 413 || s == 422) && context_length(msg))
                return pod_error_set(err, -E2BIG,
                                     "the conversation is over the model's context "
                                     "length (HTTP %ld: %s)",
                                     s, msg);
        if (s == 400 || s == 422)
                return pod_error_set(err, -EINVAL, "the server refused the request (HTTP %ld): %s",
                                     s, msg ?: "no message");
        return pod_error_set(err, status_retryable(s) ? -EBUSY : -EIO, "HTTP %ld%s%s%s", s,
                             s == 429         ? " (rate limited)" :
                                     s == 529 ? " (overloaded)" :
                                                "",
                             msg ? ": " : "", msg ?: "");
}

/* One request. 0 and *out, or < 0 with err and *ret_retry (and its retry-after). */
static int attempt_once(native *n,
                        const llm_http_req *rq,
                        const llm_call *call,
                        llm_turn *out,
                        bool *ret_retry,
                        long *ret_after,
                        pod_error *err) {
        try_state t = { .call = call };
        llm_http_req r = *rq;
        llm_http_res res = { .retry_after_ms = -1 };
        int e;

        llm_asm_init(&t.a, n->wire);
        sse_init(&t.sse, on_event, &t);
        r.on_data = on_data;
        r.ud = &t;
        e = llm_http_post(n->http, &r, &res, err);
        if (e < 0)
                *ret_retry = res.transient || t.a.retryable;
        else if (res.status / 100 != 2) {
                e = refusal(n, &res, err);
                *ret_retry = status_retryable(res.status);
                *ret_after = res.retry_after_ms;
        } else {
                e = llm_asm_finish(&t.a, out, err);
                *ret_retry = e < 0 && t.a.retryable;
        }
        llm_http_res_done(&res);
        sse_done(&t.sse);
        llm_asm_done(&t.a);
        return e;
}

/* ---- the call ---------------------------------------------------------------------------- */

static long backoff_ms(int attempt) {
        long d = LLM_BACKOFF_BASE_MS << (attempt < 16 ? attempt - 1 : 15);
        unsigned r = 0;

        if (d > LLM_BACKOFF_CAP_MS)
                d = LLM_BACKOFF_CAP_MS;
        if (getrandom(&r, sizeof(r), GRND_NONBLOCK) != sizeof(r))
                r = (unsigned) mono_ms();
        return d / 2 + (long) (r % (unsigned) (d / 2 + 1)); /* full jitter over the upper half */
}

/* Sleep ms, waking every tick for the cancel flag. */
static int pause_ms(long ms, const llm_call *call, pod_error *err) {
        long long end = mono_ms() + ms;

        for (long long now = mono_ms(); now < end; now = mono_ms()) {
                long long left = end - now < 50 ? end - now : 50;
                struct timespec ts = { 0, (long) left * 1000000L };
                if (call && call->cancel && *call->cancel)
                        return pod_error_set(err, -ECANCELED, "cancelled");
                nanosleep(&ts, NULL);
        }
        return 0;
}

/* The key's header, read from its variable now; *ret NULL without a key. */
static int auth_header(char **ret, const native *n, pod_error *err) {
        const char *key = n->key_env ? getenv(n->key_env) : NULL;
        int r;

        *ret = NULL;
        if (n->key_env && (!key || !*key))
                return pod_error_set(err, -ENOKEY, "the API key variable %s is not set",
                                     n->key_env);
        if (!key)
                return 0;
        if (n->wire == &llm_wire_anthropic)
                r = asprintf(ret, "x-api-key: %s", key);
        else
                r = asprintf(ret, "Authorization: Bearer %s", key);
        if (r < 0) {
                *ret = NULL;
                return pod_error_oom(err);
        }
        return 0;
}

static void forget(char *secret) {
        if (secret)
                explicit_bzero(secret, strlen(secret));
        free(secret);
}

/* Retries as the policy allows; 0 and *out, or < 0 with err (its cause, unprefixed). */
static int call_with_retries(
        native *n, llm_http_req *rq, const llm_call *call, llm_turn *out, pod_error *err) {
        long waited = 0;
        int e = 0, attempt;

        for (attempt = 1; attempt <= n->attempts; attempt++) {
                bool retry = false;
                long after = -1, delay;
                e = attempt_once(n, rq, call, out, &retry, &after, err);
                if (e >= 0 || !retry || attempt == n->attempts)
                        break;
                delay = after >= 0 ?
                        (after > LLM_RETRY_AFTER_MAX_MS ? LLM_RETRY_AFTER_MAX_MS : after) :
                        backoff_ms(attempt);
                if (waited + delay > LLM_RETRY_TOTAL_MS || mono_ms() + delay >= rq->deadline_ms)
                        return pod_error_prefix(err,
                                                "gave up after %d attempts (the next would "
                                                "start past the call's time limit): ",
                                                attempt);
                report(call,
                       json_pack("{s:s, s:i, s:I, s:s}", "type", "retry", "attempt", attempt + 1,
                                 "delay_ms", (json_int_t) delay, "reason", err ? err->msg : ""));
                waited += delay;
                e = pause_ms(delay, call, err);
                if (e < 0)
                        return e;
        }
        if (e < 0 && attempt > 1 && err && err->code != -ECANCELED)
                pod_error_prefix(err, "after %d attempts: ", attempt);
        return e;
}

static int native_complete(void *state,
                           const json_t *conv,
                           const json_t *tools,
                           const llm_call *call,
                           llm_turn *out,
                           pod_error *err) {
        native *n = state;
        llm_request q = {
                .model = n->model, .conv = conv, .tools = tools, .reasoning = n->reasoning
        };
        json_auto_t *body = n->wire->request(&q);
        _cleanup_free_ char *text = body ? json_dumps(body, JSON_COMPACT) : NULL;
        char *auth = NULL;
        const char *headers[5] = { "Content-Type: application/json", "Accept: text/event-stream" };
        size_t nh = 2;
        long long deadline = mono_ms() + n->call_ms;
        llm_http_req rq = { .url = n->url,
                            .body = text,
                            .headers = headers,
                            .connect_ms = n->connect_ms,
                            .stall_ms = n->stall_ms,
                            .cancel = call ? call->cancel : NULL };
        pod_error local = { 0 };
        int e;

        if (!err)
                err = &local;
        if (call && call->deadline_ms && call->deadline_ms < deadline)
                deadline = call->deadline_ms;
        rq.deadline_ms = deadline;
        e = text ? auth_header(&auth, n, err) : pod_error_oom(err);
        if (n->wire == &llm_wire_anthropic)
                headers[nh++] = "anthropic-version: 2023-06-01";
        if (auth)
                headers[nh++] = auth;
        if (e >= 0 && !n->http)
                e = llm_http_new(&n->http, err);
        if (e >= 0)
                e = call_with_retries(n, &rq, call, out, err);
        if (e < 0) {
                const char *key = n->key_env ? getenv(n->key_env) : NULL;
                if (e != -ECANCELED)
                        pod_error_prefix(err, "model %s at %s: ", n->spec, n->shown);
                llm_scrub(err->msg, key);
        }
        forget(auth);
        return e;
}

const llm_ops llm_native_ops = {
        .name = "native",
        .open = native_open,
        .complete = native_complete,
        .free = native_free,
};
