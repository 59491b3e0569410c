/* SPDX-License-Identifier: MIT */
/* End to end: `pod run` on script-model profiles, in a temporary HOME and data dir. */
#include <criterion/criterion.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include "base/base.h"
#include "e2e.h"
#include "manifest/manifest.h"
#include "testutil.h"
#include <jansson.h>

static tu_env env;

static void setup(void) {
        char *local;

        tu_env_setup(&env);
        local = tu_path(env.home, ".local");

        tu_rm_rf(local); /* a fresh HOME has no ~/.local/share: pod must create it */
        free(local);
        tu_write(env.project, "src/main.c", "int main(void) { return 0; }\n");
        tu_write(env.root, "outside/secret.txt", "top secret\n");
}

static void teardown(void) {
        tu_env_teardown(&env);
}

TestSuite(run_cli, .init = setup, .fini = teardown);

#define POD(r, cwd, ...) tu_run_pod(r, &env, cwd, (const char *const[]){ __VA_ARGS__, NULL })

static void script_profile(const char *slug, const char *front, const char *script) {
        e2e_profile(&env,
                    &(e2e_profile_opts){ .undescribed = true, .prompt = "You are {{ pod_name }}." },
                    slug, front, script);
}

Test(run_cli, a_pod_uses_every_tool_and_answers) {
        tu_result r;
        char *text;
        json_t *events;

        script_profile(
                "worker", "",
                "{\"turns\": ["
                "{\"say\": \"Working.\", \"call\": ["
                " {\"tool\": \"Glob\", \"input\": {\"pattern\": \"**/*.c\"}},"
                " {\"tool\": \"Grep\", \"input\": {\"pattern\": \"main\"}},"
                " {\"tool\": \"Write\", \"input\": {\"file_path\": \"src/add.c\", \"content\": \"int add(int a, int b) { return a - b; }\\n\"}},"
                " {\"tool\": \"Read\", \"input\": {\"file_path\": \"src/add.c\"}},"
                " {\"tool\": \"Edit\", \"input\": {\"file_path\": \"src/add.c\", \"old_string\": \"a - b\", \"new_string\": \"a + b\"}},"
                " {\"tool\": \"Bash\", \"input\": {\"command\": \"grep -c 'a + b' src/add.c\"}}]},"
                "{\"say\": \"add() is fixed.\"}]}");
        POD(&r, env.project, "--profile", "project:worker", "fix add");
        cr_assert_eq(r.status, 0, "%s", r.err);
        cr_assert_str_eq(r.out, "add() is fixed.\n", "only the answer on stdout");
        cr_assert(strstr(r.err, "Working.\n"), "the model's text on stderr: %s", r.err);
        cr_assert(strstr(r.err, "  Edit 'src/add.c': ok ("), "one line per tool call: %s", r.err);
        text = tu_read_at(env.project, "src/add.c");
        cr_assert_str_eq(text, "int add(int a, int b) { return a + b; }\n");
        free(text);
        events = e2e_transcript(&env, NULL);
        cr_assert_not_null(e2e_find_event(events, "system_prompt", NULL, 0));
        cr_assert_not_null(e2e_find_event(events, "manifest", NULL, 0));
        cr_assert(strstr(json_string_value(json_object_get(
                                 e2e_find_event(events, "tool_result", "Bash", 0), "text")),
                         "1\n[exit code 0]"));
        cr_assert_str_eq(json_string_value(
                                 json_object_get(e2e_find_event(events, "end", NULL, 0), "status")),
                         "ok");
        json_decref(events);
        tu_result_done(&r);
}

Test(run_cli, escapes_are_tool_errors_in_the_transcript) {
        tu_result r;
        json_t *events;
        char *link = tu_path(env.project, "src/out"), script[4096], *text;

        cr_assert_eq(symlink("../../outside", link), 0);
        snprintf(
                script, sizeof(script),
                "{\"turns\": [{\"call\": ["
                " {\"tool\": \"Read\", \"input\": {\"file_path\": \"src/out/secret.txt\"}},"
                " {\"tool\": \"Read\", \"input\": {\"file_path\": \"../outside/secret.txt\"}},"
                " {\"tool\": \"Write\", \"input\": {\"file_path\": \"%s/outside/new.txt\", \"content\": \"x\"}},"
                " {\"tool\": \"Write\", \"input\": {\"file_path\": \"src/main.c\", \"content\": \"x\"}}]},"
                "{\"say\": \"done\"}]}",
                env.root);
        script_profile("prober", "scope: read\n", script);
        POD(&r, env.project, "--profile", "project:prober", "probe");
        cr_assert_eq(r.status, 0, "tool errors do not fail the run: %s", r.err);
        events = e2e_transcript(&env, NULL);
        for (size_t i = 0; i < 4; i++) {
                json_t *res = e2e_find_event(events, "tool_result", NULL, i);
                const char *t = json_string_value(json_object_get(res, "text"));
                cr_assert(json_is_false(json_object_get(res, "ok")), "call %zu: %s", i, t);
                cr_assert(strstr(t,
                                 i < 3 ? "out of scope for pod 'prober'" :
                                         "read only for pod 'prober'"),
                          "call %zu: %s", i, t);
        }
        text = tu_read_at(env.root, "outside/new.txt");
        cr_assert_null(text, "nothing was written outside");
        text = tu_read_at(env.project, "src/main.c");
        cr_assert_str_eq(text, "int main(void) { return 0; }\n");
        free(text);
        free(link);
        json_decref(events);
        tu_result_done(&r);
}

Test(run_cli, max_turns_stops_a_looping_script) {
        tu_result r;
        json_t *events;

        script_profile(
                "loop", "limits:\n  max_turns: 2\n",
                "{\"turns\": [{\"call\": [{\"tool\": \"Glob\", \"input\": {\"pattern\": \"*\"}}]},"
                "{\"call\": [{\"tool\": \"Glob\", \"input\": {\"pattern\": \"*\"}}]},"
                "{\"call\": [{\"tool\": \"Glob\", \"input\": {\"pattern\": \"*\"}}]},"
                "{\"say\": \"never\"}]}");
        POD(&r, env.project, "--profile", "project:loop", "loop");
        cr_assert_eq(r.status, 1, "%s", r.err);
        cr_assert(strstr(r.err, "max_turns (2)"), "%s", r.err);
        cr_assert_str_eq(r.out, "");
        events = e2e_transcript(&env, NULL);
        cr_assert_str_eq(json_string_value(
                                 json_object_get(e2e_find_event(events, "end", NULL, 0), "status")),
                         "max_turns");
        json_decref(events);
        tu_result_done(&r);
}

Test(run_cli, json_streams_events) {
        tu_result r;
        char *save = NULL, *last = NULL;
        size_t lines = 0;

        script_profile("j", "", "{\"turns\": [{\"say\": \"hi\"}]}");
        POD(&r, env.project, "run", "--profile", "project:j", "--json", "t");
        cr_assert_eq(r.status, 0, "%s", r.err);
        for (char *l = strtok_r(r.out, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
                json_t *ev = json_loads(l, 0, NULL);
                cr_assert_not_null(ev, "%s", l);
                json_decref(ev);
                last = l;
                lines++;
        }
        cr_assert_geq(lines, 2);
        cr_assert(strstr(last, "\"type\":\"end\"") && strstr(last, "\"result\":\"hi\""), "%s",
                  last);
        tu_result_done(&r);
}

Test(run_cli, without_landlock_a_pod_runs_only_when_the_operator_says_so) {
        tu_result r;
        char *entry = tu_path(env.runtime, "pods/s/pod.json");

        script_profile("s", "", "{\"turns\": [{\"say\": \"ok\"}]}");
        env.extra_env[0] = "POD_SANDBOX_ABI=0"; /* a kernel without Landlock, faked */
        POD(&r, env.project, "--profile", "project:s", "task");
        cr_assert_eq(r.status, 1, "%s", r.err);
        cr_assert(strstr(r.err, "no Landlock") && strstr(r.err, "POD_SANDBOX=off"), "%s", r.err);
        cr_assert_eq(tu_lines(r.err), 1, "%s", r.err);
        cr_assert_neq(access(entry, F_OK), 0, "a refused pod leaves no registry entry");
        tu_result_done(&r);
        env.extra_env[1] = "POD_SANDBOX=off";
        POD(&r, env.project, "--profile", "project:s", "task");
        cr_assert_eq(r.status, 0, "%s", r.err);
        cr_assert_str_eq(r.out, "ok\n");
        tu_result_done(&r);
        free(entry);
}

/* The pod process itself, not only its commands, runs confined: what the kernel shows of
 * it, and the registry, which it may write but not read (docs/sandbox.md). */
Test(run_cli, the_pod_process_itself_is_confined) {
        tu_result r;
        json_t *events;
        const char *status, *reg;
        char script[2048];

        if (tu_landlock_abi() < 1)
                cr_skip_test("the kernel offers no Landlock");
        snprintf(
                script, sizeof(script),
                "{\"turns\": [{\"call\": ["
                " {\"tool\": \"Bash\", \"input\": {\"command\": \"grep -E '^(NoNewPrivs|Seccomp|CapEff):' /proc/$PPID/status\"}},"
                " {\"tool\": \"Bash\", \"input\": {\"command\": \"cat %s/pods/s/pod.json\"}}]},"
                "{\"say\": \"done\"}]}",
                env.runtime);
        script_profile("s", "tools: [Bash]\n", script);
        POD(&r, env.project, "--profile", "project:s", "task");
        cr_assert_eq(r.status, 0, "%s", r.err);
        events = e2e_transcript(&env, NULL);
        status = json_string_value(
                json_object_get(e2e_find_event(events, "tool_result", "Bash", 0), "text"));
        reg = json_string_value(
                json_object_get(e2e_find_event(events, "tool_result", "Bash", 1), "text"));
        cr_assert(strstr(status, "NoNewPrivs:\t1") && strstr(status, "Seccomp:\t2") &&
                          strstr(status, "CapEff:\t0000000000000000"),
                  "the pod's own process: %s", status);
        cr_assert(strstr(reg, "Permission denied") && !strstr(reg, "token"),
                  "commands get nothing of the registry: %s", reg);
        json_decref(events);
        tu_result_done(&r);
}

Test(run_cli, task_from_stdin_and_usage_errors) {
        tu_result r;
        char *task = tu_path(env.root, "task.txt");

        script_profile("s", "", "{\"turns\": [{\"say\": \"ok\"}]}");
        tu_write(env.root, "task.txt", "do it\n");
        env.stdin_path = task;
        POD(&r, env.project, "--profile", "project:s", "-");
        cr_assert_eq(r.status, 0, "%s", r.err);
        tu_result_done(&r);
        env.stdin_path = NULL;
        POD(&r, env.project, "run", "--profile", "project:s");
        cr_assert_eq(r.status, 2);
        cr_assert(strstr(r.err, "a TASK is required"), "%s", r.err);
        tu_result_done(&r);
        /* A native model without its key: a configuration error, before anything runs. */
        POD(&r, env.project, "--profile", "builtin:coder", "task");
        cr_assert_eq(r.status, 2, "%s", r.err);
        cr_assert(strstr(r.err, "needs an API key: set the environment variable"), "%s", r.err);
        tu_result_done(&r);
        free(task);
}

/* The manifest a spawner hands over is read up to the manifest limit (16 MiB), not beyond. */
Test(run_cli, adopt_reads_no_manifest_over_the_manifest_limit) {
        char *path = tu_path(env.root, "big.json"), arg[32], entry[16];
        int fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600); /* inherited by pod */
        tu_result r;

        cr_assert_geq(fd, 3);
        cr_assert_eq(ftruncate(fd, (off_t) POD_MANIFEST_MAX_BYTES + 1), 0);
        snprintf(arg, sizeof(arg), "@fd:%d", fd);
        snprintf(entry, sizeof(entry), "%d", fd);
        POD(&r, env.project, "--adopt", "--spawn-config-json", arg, "--entry-fd", entry);
        cr_assert_eq(r.status, 2, "%s", r.err);
        cr_assert(strstr(r.err, "the manifest is over 16 MiB"), "%s", r.err);
        tu_result_done(&r);
        close(fd);
        free(path);
}

/* The legacy --executor/-x PROVIDER (DESIGN §9): accepted with exactly one deprecation
 * warning and mapped to the model spec PROVIDER:MODEL; no help text presents it. */
Test(run_cli, the_legacy_executor_maps_to_a_model_spec_with_one_warning) {
        static const char *const commands[] = { "run",  "demo",    "ps",  "logs",  "send",
                                                "stop", "profile", "mcp", "trust", "doctor" };
        tu_result r;
        json_t *m;

        POD(&r, env.project, "profile", "show", "builtin:coder", "--resolved", "--json",
            "--executor", "openai", "--model", "gpt-5");
        cr_assert_eq(r.status, 0, "%s", r.err);
        m = json_loads(r.out, 0, NULL);
        cr_assert_str_eq(json_string_value(json_object_get(json_object_get(m, "model"), "spec")),
                         "openai:gpt-5", "%s", r.out);
        json_decref(m);
        cr_assert_eq(tu_lines(r.err), 1, "one warning: %s", r.err);
        cr_assert(strstr(r.err, "--executor is deprecated: use --model openai:gpt-5"), "%s", r.err);
        tu_result_done(&r);
        POD(&r, env.project, "run", "-x", "openai", "--model", "gpt-5", "the task");
        cr_assert_eq(r.status, 2, "no key: a configuration error: %s", r.err);
        cr_assert(strstr(r.err, "--executor is deprecated") && strstr(r.err, "OPENAI_API_KEY"),
                  "%s", r.err);
        tu_result_done(&r);
        POD(&r, env.project, "run", "-x", "openai", "--model", "anthropic:claude", "the task");
        cr_assert_eq(r.status, 2);
        cr_assert(strstr(r.err, "disagrees"), "%s", r.err);
        tu_result_done(&r);
        POD(&r, env.project, "run", "--executor", "codex", "the task");
        cr_assert_eq(r.status, 2);
        cr_assert(strstr(r.err, "--model codex:MODEL"), "%s", r.err);
        tu_result_done(&r);
        POD(&r, env.project, "--help");
        cr_assert_null(strcasestr(r.out, "executor"), "pod --help: %s", r.out);
        tu_result_done(&r);
        for (size_t i = 0; i < POD_ARRAY_SIZE(commands); i++) {
                POD(&r, env.project, commands[i], "--help");
                cr_assert_eq(r.status, 0, "pod %s --help: %s", commands[i], r.err);
                cr_assert_null(strcasestr(r.out, "executor"), "pod %s --help: %s", commands[i],
                               r.out);
                tu_result_done(&r);
        }
}
