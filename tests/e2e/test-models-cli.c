/* SPDX-License-Identifier: MIT */
/*
 * End to end: the native model handlers, through the real pod binary (sandboxed where the
 * kernel can), against the mock model server (tests/mock/mockmodel.py) on each wire:
 * multi-turn tool use whose results the model really receives, a tree whose parent and
 * child speak different wires, retries, refusals, cancellation, limits, HTTPS with a
 * private CA, and the key kept out of everything pod writes.
 */
#include <criterion/criterion.h>
#include <dirent.h>
#include <fcntl.h>
#include <glob.h>
#include <signal.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "base/base.h"
#include "e2e-mock.h"
#include "e2e.h"
#include "testutil.h"

#define KEY "sk-test-LEAKCHECK-7f3a9c"

static tu_env env;
static char *side; /* the mock's files: its script, its log, certificates (outside env) */

static void setup(void) {
        tu_env_setup(&env);
        side = tu_tmpdir();
        env.extra_env[0] = "ANTHROPIC_API_KEY=" KEY;
        env.extra_env[1] = "OPENAI_API_KEY=" KEY;
        env.extra_env[2] = "OPENROUTER_API_KEY=" KEY;
}

static void teardown(void) {
        tu_env_teardown(&env);
        tu_rm_rf(side);
        free(side);
}

TestSuite(models_cli, .init = setup, .fini = teardown, .timeout = 120);

#define POD(r, ...) tu_run_pod(r, &env, env.project, (const char *const[]){ __VA_ARGS__, NULL })

static void run_model(tu_result *r, const char *spec, const e2e_mock *m, const char *task) {
        POD(r, "--model", spec, "--endpoint", m->url, task);
}

/* The one top-level transcript's events. */
static json_t *transcript(void) {
        return e2e_transcript(&env, NULL);
}

static size_t count_events(json_t *events, const char *type) {
        size_t n = 0;

        while (e2e_find_event(events, type, NULL, n))
                n++;
        return n;
}

static const char tool_script[] =
        "{\"turns\": ["
        " {\"say\": \"Writing.\", \"call\": [{\"tool\": \"Write\", \"input\": {\"file_path\": "
        "\"note.txt\", \"content\": \"alpha\"}}]},"
        " {\"say\": \"Reading.\", \"thinking\": \"Check it.\", \"call\": [{\"tool\": \"Bash\", "
        "\"input\": {\"command\": \"cat note.txt; echo -n -omega\"}}, {\"tool\": \"Glob\", "
        "\"input\": {}}]},"
        " {\"say\": \"Saw: {{last_tool_result}} / done\"}],"
        " \"usage\": {\"input_tokens\": 100, \"output_tokens\": 20, \"cache_read_tokens\": 40, "
        "\"cache_write_tokens\": 5}}";

static void multi_turn_on(const char *spec, const char *auth_header, const char *auth_value) {
        e2e_mock m = { 0 };
        tu_result r;
        json_t *events, *reqs, *usage;
        char *note;

        e2e_mock_start(&m, &env, side, "tools", tool_script, NULL, NULL);
        run_model(&r, spec, &m, "write and read a note");
        cr_assert_eq(r.status, 0, "%s: %s", spec, r.err);
        note = tu_read_at(env.project, "note.txt");
        cr_assert_str_eq(note, "alpha", "the Write the model asked for ran");
        free(note);
        /* The Bash result is the second call's, so the last result is Glob's: the first
         * turn's Bash output reached the model in the request before (checked below). */
        cr_assert(strstr(r.out, "Saw: ") && strstr(r.out, "/ done"), "%s", r.out);
        reqs = e2e_mock_requests(&m);
        cr_assert_eq(json_array_size(reqs), 3, "one request per turn");
        {
                char *last = json_dumps(json_object_get(json_array_get(reqs, 2), "body"), 0);
                cr_assert(strstr(last, "alpha-omega"), "the real Bash output went back: %s", last);
                free(last);
        }
        if (auth_header) {
                const char *got = json_string_value(json_object_get(
                        json_object_get(json_array_get(reqs, 0), "headers"), auth_header));
                cr_assert(got && strstr(got, auth_value), "%s: %s", auth_header, got ?: "none");
        }
        events = transcript();
        cr_assert_eq(count_events(events, "usage"), 3);
        usage = e2e_find_event(events, "usage", NULL, 0);
        cr_assert_eq(json_integer_value(json_object_get(usage, "input_tokens")), 100);
        cr_assert_eq(json_integer_value(json_object_get(usage, "cache_read_tokens")), 40);
        cr_assert_gt(count_events(events, "delta"), 0, "the text streamed into the transcript");
        cr_assert_gt(count_events(events, "delta"), 2,
                     "per chunk, and the mock sends small chunks");
        json_decref(events);
        json_decref(reqs);
        tu_result_done(&r);
        e2e_mock_stop(&m);
}

Test(models_cli, anthropic_messages_runs_a_tool_task) {
        multi_turn_on("anthropic:mock-model", "x-api-key", KEY);
}

Test(models_cli, openai_responses_runs_a_tool_task) {
        multi_turn_on("openai:mock-model", "authorization", "Bearer " KEY);
}

Test(models_cli, openai_chat_runs_a_tool_task_with_and_without_a_key) {
        multi_turn_on("openrouter:mock/model", "authorization", "Bearer " KEY);
        tu_rm_rf(env.data);
        multi_turn_on("ollama:llama3", NULL, NULL);
}

Test(models_cli, the_anthropic_request_is_cached_and_chat_asks_for_usage) {
        e2e_mock m = { 0 };
        tu_result r;
        json_t *reqs;
        char *body;

        e2e_mock_start(&m, &env, side, "one", "{\"turns\": [{\"say\": \"hi\"}]}", NULL, NULL);
        run_model(&r, "anthropic:mock-model", &m, "hello");
        cr_assert_eq(r.status, 0, "%s", r.err);
        tu_result_done(&r);
        run_model(&r, "local:mock-model", &m, "hello");
        cr_assert_eq(r.status, 0, "%s", r.err);
        tu_result_done(&r);
        reqs = e2e_mock_requests(&m);
        body = json_dumps(json_object_get(json_array_get(reqs, 0), "body"), 0);
        cr_assert(strstr(body, "\"cache_control\""), "%s", body);
        free(body);
        cr_assert(json_is_true(json_object_get(
                json_object_get(json_object_get(json_array_get(reqs, 1), "body"), "stream_options"),
                "include_usage")));
        json_decref(reqs);
        e2e_mock_stop(&m);
}

/* ---- a tree on two wires ---------------------------------------------------------------- */

Test(models_cli, a_parent_and_its_child_speak_different_wires) {
        e2e_mock parent = { 0 }, child = { 0 };
        tu_result r;

        e2e_mock_start(&child, &env, side, "child",
                       "{\"turns\": [{\"say\": \"Counting.\", \"call\": [{\"tool\": \"Bash\", "
                       "\"input\": {\"command\": \"echo child-saw-$((6*7))\"}}]},"
                       " {\"say\": \"child answer: {{last_tool_result}}\"}]}",
                       NULL, NULL);
        e2e_mock_start(
                &parent, &env, side, "parent",
                "{\"turns\": [{\"say\": \"Delegating.\", \"call\": [{\"tool\": \"SpawnPod\", "
                "\"input\": {\"name\": \"kid\", \"task\": \"count\", \"profile\": "
                "\"project:kid\", \"scope\": [{\"path\": \"@P\", \"access\": \"read\"}]}}]},"
                " {\"call\": [{\"tool\": \"WaitPod\", \"input\": {}}]},"
                " {\"say\": \"parent got: {{last_tool_result}}\"}]}",
                NULL, NULL);
        e2e_native_profile(&env, "kid", "openai:mock-model", child.url, "tools: [Read, Bash]\n");
        e2e_native_profile(&env, "boss", "anthropic:mock-model", parent.url,
                           "tools: [Read, Bash, SpawnPod, WaitPod]\n");
        POD(&r, "--profile", "project:boss", "delegate");
        cr_assert_eq(r.status, 0, "%s", r.err);
        cr_assert(strstr(r.out, "child-saw-42"), "the child's real output flowed up: %s (%s)",
                  r.out, e2e_result_in(&env, NULL, "SpawnPod", 0, NULL));
        {
                json_t *reqs = e2e_mock_requests(&child);
                const char *path =
                        json_string_value(json_object_get(json_array_get(reqs, 0), "path"));
                cr_assert(path && strstr(path, "/responses"), "the child spoke Responses: %s",
                          path ?: "");
                json_decref(reqs);
                reqs = e2e_mock_requests(&parent);
                path = json_string_value(json_object_get(json_array_get(reqs, 0), "path"));
                cr_assert(path && strstr(path, "/messages"), "the parent spoke Messages");
                json_decref(reqs);
        }
        tu_result_done(&r);
        e2e_mock_stop(&parent);
        e2e_mock_stop(&child);
}

/* ---- retries ------------------------------------------------------------------------------ */

/* The two faults without a Retry-After come first: pod's own backoff doubles with each
 * attempt (0.5 s, 1 s, ... up to 20 s), so in eighth place they slept 10 to 40 s per wire,
 * up to the suite's whole timeout over three wires. */
static void retried_on(const char *spec) {
        e2e_mock m = { 0 };
        tu_result r;
        json_t *events, *reqs;

        e2e_mock_start(&m, &env, side, "retry",
                       "{\"turns\": [{\"say\": \"made it\"}], \"faults\": ["
                       " {\"request\": 0, \"status\": 408, \"retry_after\": 0},"
                       " {\"request\": 1, \"status\": 409, \"retry_after\": 0},"
                       " {\"request\": 2, \"status\": 429, \"retry_after\": 0},"
                       " {\"request\": 3, \"status\": 500, \"retry_after\": 0},"
                       " {\"request\": 4, \"status\": 503, \"retry_after_ms\": 10},"
                       " {\"request\": 5, \"status\": 529, \"retry_after\": 0},"
                       " {\"request\": 6, \"kind\": \"overload\"},"
                       " {\"request\": 7, \"kind\": \"close\", \"after_bytes\": 40}]}",
                       NULL, NULL);
        env.extra_env[3] = "POD_MODEL_ATTEMPTS=9";
        run_model(&r, spec, &m, "hello");
        cr_assert_eq(r.status, 0, "%s: %s", spec, r.err);
        cr_assert_str_eq(r.out, "made it\n");
        reqs = e2e_mock_requests(&m);
        cr_assert_eq(json_array_size(reqs), 9, "eight faults, then the answer");
        events = transcript();
        cr_assert_eq(count_events(events, "retry"), 8);
        json_decref(events);
        json_decref(reqs);
        tu_result_done(&r);
        e2e_mock_stop(&m);
        env.extra_env[3] = NULL;
}

Test(models_cli, every_retryable_failure_is_retried_on_each_wire) {
        retried_on("anthropic:mock-model");
        tu_rm_rf(env.data);
        retried_on("openai:mock-model");
        tu_rm_rf(env.data);
        retried_on("local:mock-model");
}

Test(models_cli, retries_are_bounded) {
        e2e_mock m = { 0 };
        tu_result r;
        json_t *reqs;

        e2e_mock_start(
                &m, &env, side, "busy",
                "{\"turns\": [{\"say\": \"never\"}], \"faults\": [{\"request\": [0, 1, 2, 3, "
                "4, 5], \"status\": 503, \"retry_after\": 0}]}",
                NULL, NULL);
        env.extra_env[3] = "POD_MODEL_ATTEMPTS=3";
        run_model(&r, "anthropic:mock-model", &m, "hello");
        cr_assert_eq(r.status, 1);
        cr_assert(strstr(r.err, "after 3 attempts") && strstr(r.err, "HTTP 503"), "%s", r.err);
        reqs = e2e_mock_requests(&m);
        cr_assert_eq(json_array_size(reqs), 3);
        json_decref(reqs);
        tu_result_done(&r);
        e2e_mock_stop(&m);
        env.extra_env[3] = NULL;
}

/* ---- refusals ---------------------------------------------------------------------------- */

static void refused(const char *spec, const char *fault, const char *want1, const char *want2) {
        e2e_mock m = { 0 };
        tu_result r;
        char *script = NULL;

        cr_assert_geq(asprintf(&script,
                               "{\"turns\": [{\"say\": \"x\"}], \"faults\": "
                               "[{\"request\": 0, %s}]}",
                               fault),
                      0);
        e2e_mock_start(&m, &env, side, "refuse", script, NULL, NULL);
        free(script);
        run_model(&r, spec, &m, "hello");
        cr_assert_eq(r.status, 1, "%s %s: %s", spec, fault, r.err);
        cr_assert(strstr(r.err, want1) && strstr(r.err, want2), "%s %s: %s", spec, fault, r.err);
        cr_assert(strstr(r.err, spec) && strstr(r.err, m.url), "names the model and endpoint: %s",
                  r.err);
        cr_assert_eq(tu_lines(r.err), 1, "one line: [%s]", r.err);
        cr_assert_null(strstr(r.err, KEY));
        tu_result_done(&r);
        e2e_mock_stop(&m);
        tu_rm_rf(env.data);
}

Test(models_cli, each_refusal_says_what_to_fix) {
        static const char *const specs[] = { "anthropic:mock-model", "openai:mock-model",
                                             "openrouter:mock-model" };
        static const char *const keys[] = { "ANTHROPIC_API_KEY", "OPENAI_API_KEY",
                                            "OPENROUTER_API_KEY" };

        for (size_t i = 0; i < POD_ARRAY_SIZE(specs); i++) {
                refused(specs[i], "\"status\": 401", "refused the key in", keys[i]);
                refused(specs[i], "\"status\": 403", "refused the key in", keys[i]);
                refused(specs[i], "\"status\": 404", "'mock-model' was not found", "404");
                refused(specs[i], "\"status\": 400, \"message\": \"bad field xyz\"",
                        "refused the request (HTTP 400)", "bad field xyz");
                refused(specs[i], "\"status\": 400, \"error\": \"context_length\"",
                        "context length", "400");
        }
}

Test(models_cli, a_missing_key_is_a_configuration_error_before_anything_runs) {
        e2e_mock m = { 0 };
        tu_result r;
        json_t *reqs;

        e2e_mock_start(&m, &env, side, "nokey", "{\"turns\": [{\"say\": \"x\"}]}", NULL, NULL);
        env.extra_env[0] = "POD_UNRELATED=1";
        run_model(&r, "anthropic:mock-model", &m, "hello");
        cr_assert_eq(r.status, 2, "%s", r.err);
        cr_assert(strstr(r.err, "ANTHROPIC_API_KEY"), "%s", r.err);
        reqs = e2e_mock_requests(&m);
        cr_assert_eq(json_array_size(reqs), 0, "nothing was sent");
        json_decref(reqs);
        {
                char *pods = tu_path(env.runtime, "pods");
                DIR *d = opendir(pods);
                struct dirent *de;
                while (d && (de = readdir(d)))
                        cr_assert(de->d_name[0] == '.', "nothing registered: %s", de->d_name);
                if (d)
                        closedir(d);
                free(pods);
        }
        tu_result_done(&r);
        e2e_mock_stop(&m);
}

Test(models_cli, broken_streams_are_one_line_errors) {
        static const char *const faults[][3] = {
                { "{\"request\": 0, \"kind\": \"invalid_json\"}", "not JSON",
                  "anthropic:mock-model" },
                { "{\"request\": 0, \"kind\": \"long_line\", \"bytes\": 10000000}",
                  "line over 8 MiB", "openai:mock-model" },
                { "{\"request\": 0, \"kind\": \"stall\"}", "stalled", "anthropic:mock-model" },
                { "{\"request\": 0, \"kind\": \"endless\"}", "is over 64 MiB", "local:mock-model" },
        };

        env.extra_env[3] = "POD_MODEL_STALL_TIMEOUT_S=1";
        env.extra_env[4] = "POD_MODEL_ATTEMPTS=1";
        for (size_t i = 0; i < POD_ARRAY_SIZE(faults); i++) {
                e2e_mock m = { 0 };
                tu_result r;
                char *script = NULL;
                cr_assert_geq(asprintf(&script,
                                       "{\"turns\": [{\"say\": \"x\"}], \"chunk\": "
                                       "[4096, 65536], \"faults\": [%s]}",
                                       faults[i][0]),
                              0);
                e2e_mock_start(&m, &env, side, "broken", script, NULL, NULL);
                free(script);
                run_model(&r, faults[i][2], &m, "hello");
                cr_assert_eq(r.status, 1, "%s: %s", faults[i][0], r.err);
                cr_assert(strstr(r.err, faults[i][1]), "%s: %s", faults[i][0], r.err);
                cr_assert_eq(tu_lines(r.err), 1, "%s", r.err);
                tu_result_done(&r);
                e2e_mock_stop(&m);
                tu_rm_rf(env.data);
        }
        env.extra_env[3] = env.extra_env[4] = NULL;
}

/* ---- cancellation ------------------------------------------------------------------------ */

/* Whether the running pod's transcript has a delta event yet. */
static bool streaming(void) {
        char *pattern = tu_path(env.data, "runs/*/transcript.jsonl");
        glob_t g;
        bool yes = false;

        if (glob(pattern, 0, NULL, &g) == 0) {
                char *text = tu_read(g.gl_pathv[0]);
                yes = text && strstr(text, "\"type\":\"delta\"");
                free(text);
                globfree(&g);
        }
        free(pattern);
        return yes;
}

/* Start a pod on a slow stream; once its text streams in, stop it by signal or `pod stop`. */
static void cancel_mid_stream(bool by_signal) {
        e2e_mock m = { 0 };
        char *out = tu_path(side, "pod.out");
        json_t *events, *end;
        tu_result r;
        pid_t pid;

        e2e_mock_start(&m, &env, side, "slow",
                       "{\"turns\": [{\"say\": \"a very slow answer that streams for a long time "
                       "indeed, a few bytes at a time\"}], \"chunk\": [8, 8], \"chunk_delay_ms\": "
                       "200}",
                       NULL, NULL);
        pid = tu_spawn_pod(&env, env.project,
                           (const char *const[]){ "--name", "slow", "--model",
                                                  "anthropic:mock-model", "--endpoint", m.url,
                                                  "hello", NULL },
                           out);
        for (int i = 0; i < 1200 && !streaming(); i++)
                usleep(50 * 1000);
        cr_assert(streaming(), "the answer started streaming");
        if (by_signal)
                kill(pid, SIGTERM);
        else {
                POD(&r, "stop", "slow");
                cr_assert_eq(r.status, 0, "%s", r.err);
                tu_result_done(&r);
        }
        cr_assert_neq(tu_wait(pid), 0);
        events = transcript();
        end = e2e_find_event(events, "end", NULL, 0);
        cr_assert_str_eq(json_string_value(json_object_get(end, "status")), "cancelled");
        cr_assert_null(e2e_find_event(events, "text", NULL, 0), "the turn was never made");
        json_decref(events);
        free(out);
        e2e_mock_stop(&m);
}

Test(models_cli, sigterm_cancels_a_call_mid_stream) {
        cancel_mid_stream(true);
}

Test(models_cli, pod_stop_cancels_a_call_mid_stream) {
        cancel_mid_stream(false);
}

/* ---- HTTPS ------------------------------------------------------------------------------- */

/* A self-signed certificate for 127.0.0.1 and its key, in side. */
static void make_cert(char **cert, char **key) {
        char *cmd = NULL;

        if (!e2e_have("openssl"))
                cr_skip_test("openssl is not installed, to make a certificate");
        *cert = tu_path(side, "cert.pem");
        *key = tu_path(side, "key.pem");
        cr_assert_geq(asprintf(&cmd,
                               "openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj "
                               "/CN=127.0.0.1 -addext subjectAltName=IP:127.0.0.1 -keyout "
                               "%s -out %s >/dev/null 2>&1",
                               *key, *cert),
                      0);
        cr_assert_eq(system(cmd), 0, "%s", cmd);
        free(cmd);
}

Test(models_cli, https_with_a_private_ca_and_refusal_of_an_untrusted_one) {
        char *cert, *key, *ca_env = NULL;
        e2e_mock m = { 0 };
        tu_result r;

        make_cert(&cert, &key);
        e2e_mock_start(&m, &env, side, "tls", "{\"turns\": [{\"say\": \"over TLS\"}]}", cert, key);
        run_model(&r, "anthropic:mock-model", &m, "hello");
        cr_assert_eq(r.status, 1, "an untrusted certificate is refused");
        cr_assert(strstr(r.err, "TLS") && strstr(r.err, "SSL_CERT_FILE"), "%s", r.err);
        tu_result_done(&r);
        cr_assert_geq(asprintf(&ca_env, "SSL_CERT_FILE=%s", cert), 0);
        env.extra_env[3] = ca_env;
        tu_rm_rf(env.data);
        run_model(&r, "anthropic:mock-model", &m, "hello");
        cr_assert_eq(r.status, 0, "%s", r.err);
        cr_assert_str_eq(r.out, "over TLS\n");
        tu_result_done(&r);
        env.extra_env[3] = NULL;
        free(ca_env);
        free(cert);
        free(key);
        e2e_mock_stop(&m);
}

Test(models_cli, https_through_the_proxy_https_proxy_names_unless_no_proxy_says_not) {
        char *cert, *key, *ca_env = NULL, *proxy_env = NULL, *plog = tu_path(side, "proxy.log");
        char *seen, want[64];
        e2e_mock m = { 0 };
        tu_result r;
        pid_t proxy;
        int port;

        make_cert(&cert, &key);
        e2e_mock_start(&m, &env, side, "tls", "{\"turns\": [{\"say\": \"through\"}]}", cert, key);
        port = e2e_helper_start(&proxy,
                                (const char *const[]){ "python3",
                                                       POD_SOURCE_DIR "/tests/e2e/proxy.py", plog,
                                                       NULL });
        cr_assert_geq(asprintf(&ca_env, "SSL_CERT_FILE=%s", cert), 0);
        cr_assert_geq(asprintf(&proxy_env, "HTTPS_PROXY=http://127.0.0.1:%d", port), 0);
        env.extra_env[3] = ca_env;
        env.extra_env[4] = proxy_env;
        run_model(&r, "anthropic:mock-model", &m, "hello");
        cr_assert_eq(r.status, 0, "%s", r.err);
        cr_assert_str_eq(r.out, "through\n");
        tu_result_done(&r);
        seen = tu_read(plog);
        snprintf(want, sizeof(want), "CONNECT 127.0.0.1:%d\n", m.port);
        cr_assert(seen && strstr(seen, want), "the call went through the proxy: %s",
                  seen ?: "nothing");
        free(seen);
        unlink(plog);
        /* NO_PROXY: straight to the endpoint, which the sandbox then allows instead. */
        env.extra_env[5] = "NO_PROXY=127.0.0.1";
        tu_rm_rf(env.data);
        run_model(&r, "anthropic:mock-model", &m, "hello");
        cr_assert_eq(r.status, 0, "%s", r.err);
        tu_result_done(&r);
        cr_assert_null(tu_read(plog), "not through the proxy");
        env.extra_env[3] = env.extra_env[4] = env.extra_env[5] = NULL;
        kill(proxy, SIGTERM);
        waitpid(proxy, NULL, 0);
        free(ca_env);
        free(proxy_env);
        free(plog);
        free(cert);
        free(key);
        e2e_mock_stop(&m);
}

/* ---- the key ----------------------------------------------------------------------------- */

Test(models_cli, the_key_never_reaches_a_file_argv_or_an_error) {
        e2e_mock parent = { 0 }, child = { 0 };
        tu_result r;

        e2e_mock_start(&child, &env, side, "child", "{\"turns\": [{\"say\": \"child done\"}]}",
                       NULL, NULL);
        e2e_mock_start(
                &parent, &env, side, "parent",
                "{\"turns\": [{\"call\": [{\"tool\": \"SpawnPod\", \"input\": {\"name\": "
                "\"kid\", \"task\": \"x\", \"profile\": \"project:kid\", \"scope\": [{\"path\": "
                "\"@P\", \"access\": \"read\"}]}}]},"
                " {\"call\": [{\"tool\": \"Bash\", \"input\": {\"command\": \"cat "
                "/proc/*/cmdline /proc/*/environ 2>/dev/null | tr '\\\\0' ' '; env\"}}, {\"tool\": \"WaitPod\", "
                "\"input\": {}}]},"
                " {\"say\": \"done: {{last_tool_result}}\"}],"
                " \"faults\": [{\"request\": 3, \"status\": 401}]}",
                NULL, NULL);
        e2e_native_profile(&env, "kid", "openai:mock-model", child.url, "tools: [Read]\n");
        e2e_native_profile(&env, "boss", "anthropic:mock-model", parent.url,
                           "tools: [Read, Bash, SpawnPod, WaitPod]\n");
        POD(&r, "--profile", "project:boss", "delegate");
        cr_assert_eq(r.status, 0, "%s", r.err);
        cr_assert_null(strstr(r.out, KEY),
                       "not in the output, nor in a command's environment "
                       "or any process's argv the pod could see");
        cr_assert_null(strstr(r.err, KEY));
        cr_assert(!e2e_tree_has(env.root, KEY),
                  "no transcript, registry entry, result or log holds "
                  "the key");
        tu_result_done(&r);
        /* A refused key: the error names the variable, never the key. */
        tu_rm_rf(env.data);
        POD(&r, "--profile", "project:boss", "delegate");
        cr_assert_eq(r.status, 1);
        cr_assert(strstr(r.err, "refused the key in ANTHROPIC_API_KEY") && !strstr(r.err, KEY),
                  "%s", r.err);
        tu_result_done(&r);
        cr_assert(!e2e_tree_has(env.root, KEY));
        e2e_mock_stop(&parent);
        e2e_mock_stop(&child);
}

/* ---- pod logs ---------------------------------------------------------------------------- */

Test(models_cli, pod_logs_follows_a_streamed_answer_and_shows_it_once) {
        e2e_mock m = { 0 };
        tu_result r = { 0 };
        const char *answer = "a streamed answer of some length";
        char *out = tu_path(side, "pod.out");
        json_t *events, *ev;
        size_t first_delta = 0, text_at = 0, i;
        pid_t pid;

        e2e_mock_start(&m, &env, side, "stream",
                       "{\"turns\": [{\"say\": \"a streamed answer of some length\"}], \"chunk\": "
                       "[16, 48], \"chunk_delay_ms\": 50}",
                       NULL, NULL);
        pid = tu_spawn_pod(&env, env.project,
                           (const char *const[]){ "--name", "streamer", "--model",
                                                  "anthropic:mock-model", "--endpoint", m.url,
                                                  "talk", NULL },
                           out);
        for (int k = 0; k < 600; k++) { /* until the pod is registered */
                POD(&r, "logs", "streamer", "-f");
                if (r.status == 0)
                        break;
                tu_result_done(&r);
                usleep(20 * 1000);
        }
        cr_assert_eq(r.status, 0, "%s", r.err);
        {
                const char *at = strstr(r.out, answer), *end = strstr(r.out, "[end: ok]");
                cr_assert(at && end && at < end, "%s", r.out);
                cr_assert_eq(strstr(at + 1, answer), strstr(end, answer),
                             "streamed once, then the end's result: %s", r.out);
        }
        tu_result_done(&r);
        cr_assert_eq(tu_wait(pid), 0);
        events = transcript();
        json_array_foreach(events, i, ev) {
                const char *type = json_string_value(json_object_get(ev, "type"));
                if (!first_delta && strcmp(type, "delta") == 0)
                        first_delta = i;
                if (strcmp(type, "text") == 0)
                        text_at = i;
        }
        cr_assert(first_delta && first_delta < text_at,
                  "the text streamed in before the turn "
                  "ended");
        json_decref(events);
        free(out);
        e2e_mock_stop(&m);
}
