/* SPDX-License-Identifier: MIT */
/*
 * End to end: the CLI never turns a typo into a task, configuration errors come before
 * anything is registered, and `pod doctor` (DESIGN §13, §19).
 */
#include <criterion/criterion.h>
#include <dirent.h>
#include <netinet/in.h>
#include <pty.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "e2e.h"
#include "testutil.h"
#include <jansson.h>

static tu_env env;

static void setup(void) {
        tu_env_setup(&env);
        tu_write(env.project, ".pod/profiles/echo.json", "{\"turns\": [{\"say\": \"done\"}]}");
        tu_write(env.project, ".pod/profiles/echo.md", "---\nmodel: script:echo.json\n---\n");
        /* The project's default: a profile this pod can run, so doctor has nothing to fail. */
        tu_write(env.project, ".pod/default-profile", "echo\n");
}

static void teardown(void) {
        tu_env_teardown(&env);
}

TestSuite(doctor_cli, .init = setup, .fini = teardown);

#define POD(r, ...) tu_run_pod(r, &env, env.project, (const char *const[]){ __VA_ARGS__, NULL })

/* Nothing was registered and no run was recorded. */
static void assert_nothing_registered(void) {
        char *pods = tu_path(env.runtime, "pods"), *runs = tu_path(env.data, "runs");
        DIR *d = opendir(pods);
        struct dirent *de;

        while (d && (de = readdir(d)))
                cr_assert(de->d_name[0] == '.', "an entry was registered: %s", de->d_name);
        if (d)
                closedir(d);
        d = opendir(runs);
        while (d && (de = readdir(d)))
                cr_assert(de->d_name[0] == '.', "a run was recorded: %s", de->d_name);
        if (d)
                closedir(d);
        free(pods);
        free(runs);
}

/* ---- the CLI ----------------------------------------------------------------------------- */

Test(doctor_cli, a_mistyped_command_is_refused_with_the_closest_one) {
        tu_result r;

        POD(&r, "docter");
        cr_assert_eq(r.status, 2, "stderr: %s", r.err);
        cr_assert(strstr(r.err, "'docter' is not a command"), "%s", r.err);
        cr_assert(strstr(r.err, "did you mean 'pod doctor'"), "%s", r.err);
        cr_assert(strstr(r.err, "pod run 'docter'"), "it says how to run it as a task: %s", r.err);
        cr_assert_str_empty(r.out);
        tu_result_done(&r);
        POD(&r, "version");
        cr_assert_eq(r.status, 2);
        cr_assert(strstr(r.err, "did you mean 'pod --version'"), "%s", r.err);
        tu_result_done(&r);
        POD(&r, "xyzzyplugh");
        cr_assert_eq(r.status, 2);
        cr_assert(!strstr(r.err, "did you mean"), "nothing is near: %s", r.err);
        tu_result_done(&r);
        assert_nothing_registered();
}

Test(doctor_cli, a_word_with_control_characters_is_not_echoed) {
        tu_result r;

        POD(&r, "do\033]0;pwned\007");
        cr_assert_eq(r.status, 2);
        cr_assert(!strchr(r.err, '\033'), "the escape reached the terminal: %s", r.err);
        tu_result_done(&r);
}

Test(doctor_cli, a_sentence_or_run_makes_a_task) {
        tu_result r;

        POD(&r, "say done please");
        cr_assert_eq(r.status, 0, "stderr: %s", r.err);
        cr_assert_str_eq(r.out, "done\n");
        tu_result_done(&r);
        POD(&r, "run", "docter");
        cr_assert_eq(r.status, 0, "after run, one word is a task: %s", r.err);
        tu_result_done(&r);
}

Test(doctor_cli, help_says_what_a_task_is) {
        tu_result r;

        POD(&r, "--help");
        cr_assert_eq(r.status, 0);
        cr_assert(strstr(r.out, "A TASK is a quoted sentence"), "%s", r.out);
        cr_assert(strstr(r.out, "doctor"), "doctor is listed: %s", r.out);
        tu_result_done(&r);
}

Test(doctor_cli, an_unknown_pod_sandbox_value_is_a_configuration_error) {
        tu_result r;

        env.extra_env[0] = "POD_SANDBOX=of";
        POD(&r, "say done please");
        cr_assert_eq(r.status, 2, "stderr: %s", r.err);
        cr_assert(strstr(r.err, "POD_SANDBOX=of is not a setting pod knows"), "%s", r.err);
        cr_assert(strstr(r.err, "POD_SANDBOX=off"), "it says what to do: %s", r.err);
        tu_result_done(&r);
        assert_nothing_registered();
}

Test(doctor_cli, a_model_without_a_handler_is_refused_before_registration) {
        tu_result r;

        POD(&r, "--model", "anthropic:claude-override", "say done please");
        cr_assert_eq(r.status, 2, "stderr: %s", r.err);
        cr_assert(strstr(r.err, "anthropic:claude-override"), "it names the --model override: %s",
                  r.err);
        cr_assert(strstr(r.err, "--model"), "it says what to do: %s", r.err);
        tu_result_done(&r);
        assert_nothing_registered();
}

Test(doctor_cli, a_bad_scope_or_selector_is_refused_before_registration) {
        tu_result r;

        POD(&r, "--scope", "bogus:/tmp", "say done please");
        cr_assert_eq(r.status, 2, "stderr: %s", r.err);
        cr_assert(strstr(r.err, "--scope"), "%s", r.err);
        tu_result_done(&r);
        POD(&r, "--profile", "project:nosuch", "say done please");
        cr_assert_eq(r.status, 2, "stderr: %s", r.err);
        tu_result_done(&r);
        assert_nothing_registered();
}

/* ---- pod doctor --------------------------------------------------------------------------- */

/* The line of out that starts with level and holds text, or NULL. */
static const char *line_with(const char *out, const char *level, const char *text) {
        for (const char *l = out; l && *l; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : NULL) {
                const char *end = strchr(l, '\n');
                size_t n = end ? (size_t) (end - l) : strlen(l);
                char line[4096];
                snprintf(line, sizeof(line), "%.*s", (int) n, l);
                if (strncmp(line, level, strlen(level)) == 0 && strstr(line, text))
                        return l;
        }
        return NULL;
}

Test(doctor_cli, a_healthy_setup_passes) {
        tu_result r;

        POD(&r, "doctor");
        cr_assert_eq(r.status, 0, "stdout: %s\nstderr: %s", r.out, r.err);
        cr_assert(line_with(r.out, "ok", "kernel: Landlock ABI") ||
                          line_with(r.out, "warn", "Landlock"),
                  "%s", r.out);
        cr_assert(line_with(r.out, "ok", "profiles: the default is project:echo"), "%s", r.out);
        cr_assert(line_with(r.out, "ok", "profile project:echo: resolves; model script:echo.json"),
                  "%s", r.out);
        cr_assert(line_with(r.out, "ok", "runtime dir"), "%s", r.out);
        cr_assert(!strstr(r.out, "\033["), "no colour off a terminal: %s", r.out);
        tu_result_done(&r);
}

Test(doctor_cli, json_gives_the_same_as_data) {
        json_t *j, *c;
        size_t i;
        bool seen = false;
        tu_result r;

        POD(&r, "doctor", "--json");
        cr_assert_eq(r.status, 0, "stderr: %s", r.err);
        j = json_loads(r.out, 0, NULL);
        cr_assert(json_is_object(j), "one JSON object: %s", r.out);
        cr_assert_str_eq(json_string_value(json_object_get(j, "status")), "ok");
        json_array_foreach(json_object_get(j, "checks"), i, c) {
                cr_assert(json_is_string(json_object_get(c, "area")));
                cr_assert(json_is_string(json_object_get(c, "message")));
                seen |= strcmp(json_string_value(json_object_get(c, "area")),
                               "profile project:echo") == 0;
        }
        cr_assert(seen, "%s", r.out);
        json_decref(j);
        tu_result_done(&r);

        env.extra_env[0] = "POD_SANDBOX=of";
        POD(&r, "doctor", "--json");
        cr_assert_eq(r.status, 1);
        j = json_loads(r.out, 0, NULL);
        cr_assert_str_eq(json_string_value(json_object_get(j, "status")), "failed");
        cr_assert(json_integer_value(json_object_get(json_object_get(j, "counts"), "fail")) >= 1);
        json_decref(j);
        tu_result_done(&r);
}

Test(doctor_cli, an_unknown_pod_sandbox_or_no_landlock_fails) {
        tu_result r;

        env.extra_env[0] = "POD_SANDBOX=of";
        POD(&r, "doctor");
        cr_assert_eq(r.status, 1, "%s", r.out);
        cr_assert(line_with(r.out, "FAIL", "POD_SANDBOX=of is not a setting pod knows"), "%s",
                  r.out);
        tu_result_done(&r);

        env.extra_env[0] = "POD_SANDBOX_ABI=0";
        POD(&r, "doctor");
        cr_assert_eq(r.status, 1, "%s", r.out);
        cr_assert(line_with(r.out, "FAIL", "the kernel offers no Landlock"), "%s", r.out);
        tu_result_done(&r);

        env.extra_env[1] = "POD_SANDBOX=off";
        POD(&r, "doctor");
        cr_assert_eq(r.status, 0, "with POD_SANDBOX=off it is a warning: %s", r.out);
        cr_assert(line_with(r.out, "warn", "POD_SANDBOX=off"), "%s", r.out);
        cr_assert(line_with(r.out, "warn", "no Landlock"), "%s", r.out);
        tu_result_done(&r);
}

Test(doctor_cli, a_broken_profile_is_named) {
        tu_result r;

        tu_write(env.project, ".pod/profiles/broken.md", "---\nmodel: [unclosed\n---\n");
        tu_write(env.project, ".pod/profiles/noskill.md",
                 "---\nmodel: script:echo.json\nskills: [no-such-skill]\n---\n");
        POD(&r, "doctor");
        cr_assert_eq(r.status, 1, "%s", r.out);
        cr_assert(line_with(r.out, "FAIL", "profile project:broken: broken"), "%s", r.out);
        cr_assert(line_with(r.out, "FAIL", "broken.md"), "the fix names the file: %s", r.out);
        cr_assert(line_with(r.out, "FAIL", "profile project:noskill: does not resolve"), "%s",
                  r.out);
        cr_assert(line_with(r.out, "FAIL", "no-such-skill"), "%s", r.out);
        tu_result_done(&r);
        POD(&r, "profile", "list");
        cr_assert_eq(r.status, 0);
        cr_assert(strstr(r.err, "project:broken is broken: "), "the list names it: %s", r.err);
        tu_result_done(&r);
}

Test(doctor_cli, a_missing_key_variable_and_handler_are_reported) {
        tu_result r;

        tu_write(env.project, ".pod/profiles/cloud.md", "---\nmodel: openai:gpt-test\n---\n");
        POD(&r, "doctor");
        cr_assert_eq(r.status, 1, "%s", r.out);
        cr_assert(line_with(r.out, "FAIL",
                            "profile project:cloud: model openai:gpt-test: its key "
                            "variable OPENAI_API_KEY is not set"),
                  "%s", r.out);
        tu_result_done(&r);
        env.extra_env[0] = "OPENAI_API_KEY=sk-secret-value";
        POD(&r, "doctor");
        cr_assert(!line_with(r.out, "FAIL", "OPENAI_API_KEY"), "%s", r.out);
        cr_assert(!strstr(r.out, "sk-secret-value"), "the key is never printed: %s", r.out);
        tu_result_done(&r);
}

Test(doctor_cli, a_delegate_cli_is_found_with_its_version) {
        char *bin = tu_path(env.root, "bin"), *claude, path[4200];
        tu_result r;

        tu_write(env.root, "bin/claude", "#!/bin/sh\necho '9.8.7 (Claude Code)'\n");
        claude = tu_path(bin, "claude");
        chmod(claude, 0755);
        tu_write(env.project, ".pod/profiles/deleg.md", "---\nmodel: claude:sonnet\n---\n");
        snprintf(path, sizeof(path), "PATH=%s:/usr/bin:/bin", bin);
        env.extra_env[0] = path;
        POD(&r, "doctor");
        cr_assert(line_with(r.out, "ok", "profile project:deleg: delegate CLI"), "%s", r.out);
        cr_assert(line_with(r.out, "ok", "9.8.7 (Claude Code)"), "%s", r.out);
        tu_result_done(&r);
        env.extra_env[0] = "PATH=/usr/bin:/bin";
        POD(&r, "doctor");
        cr_assert(line_with(r.out, "FAIL", "'claude' is not on PATH"), "%s", r.out);
        tu_result_done(&r);
        free(claude);
        free(bin);
}

/* A registry entry name holding pod.json text. */
static void entry(const char *name, const char *json) {
        char rel[256];

        snprintf(rel, sizeof(rel), "pods/%s/pod.json", name);
        tu_write(env.runtime, rel, json);
}

Test(doctor_cli, dead_entries_are_reported_and_fix_reaps_them) {
        char *dead = tu_path(env.runtime, "pods/gone");
        tu_result r;

        chmod(env.runtime, 0700);
        entry("gone",
              "{\"name\": \"gone\", \"pid\": 2147483000, \"start_time\": 1, \"parent\": "
              "\"boss\", \"scope\": {\"allow\": [{\"path\": \"/tmp\", \"access\": \"write\"}]}}");
        tu_write(env.runtime, "pods/gone/sock", "");
        entry("liar", "{\"name\": \"someone-else\", \"pid\": 2147483000, \"start_time\": 1}");
        POD(&r, "doctor");
        cr_assert(line_with(r.out, "warn", "dead entry 'gone'"), "%s", r.out);
        cr_assert(line_with(r.out, "warn", "write leases of a dead pod"), "%s", r.out);
        cr_assert(line_with(r.out, "FAIL", "entry 'liar': a foreign pod.json"), "%s", r.out);
        cr_assert(access(dead, F_OK) == 0, "doctor without --fix changes nothing");
        tu_result_done(&r);
        POD(&r, "doctor", "--fix");
        cr_assert(line_with(r.out, "ok", "registry: fixed: reaped entry 'gone'"), "%s", r.out);
        cr_assert(access(dead, F_OK) < 0, "--fix reaped it");
        tu_result_done(&r);
        POD(&r, "doctor");
        cr_assert_eq(r.status, 0, "%s", r.out);
        cr_assert(line_with(r.out, "ok", "registry: 0 live pods, no dead entries"), "%s", r.out);
        tu_result_done(&r);
        free(dead);
}

Test(doctor_cli, a_torn_pod_json_is_reported) {
        char *dir = tu_path(env.runtime, "pods/torn");
        tu_result r;

        chmod(env.runtime, 0700);
        entry("torn", "{\"name\": \"to");
        POD(&r, "doctor");
        cr_assert(line_with(r.out, "warn", "entry 'torn': pod.json"), "%s", r.out);
        tu_result_done(&r);
        free(dir);
}

Test(doctor_cli, a_loose_runtime_dir_fails_and_fix_narrows_it) {
        struct stat st;
        tu_result r;

        chmod(env.runtime, 0755);
        POD(&r, "doctor");
        cr_assert_eq(r.status, 1, "%s", r.out);
        cr_assert(line_with(r.out, "FAIL", "has mode 0755"), "%s", r.out);
        cr_assert(line_with(r.out, "FAIL", "chmod 700"), "%s", r.out);
        tu_result_done(&r);
        POD(&r, "doctor", "--fix");
        cr_assert(line_with(r.out, "ok", "fixed:"), "%s", r.out);
        cr_assert_eq(stat(env.runtime, &st), 0);
        cr_assert_eq(st.st_mode & 0777, 0700);
        tu_result_done(&r);
}

Test(doctor_cli, a_dangling_default_pointer_fails_and_fix_removes_it) {
        char *ptr = tu_path(env.project, ".pod/default-profile");
        tu_result r;

        tu_write(env.project, ".pod/default-profile", "nosuch\n");
        POD(&r, "doctor");
        cr_assert_eq(r.status, 1, "%s", r.out);
        cr_assert(line_with(r.out, "FAIL", "nosuch"), "%s", r.out);
        tu_result_done(&r);
        POD(&r, "doctor", "--fix");
        cr_assert(line_with(r.out, "ok", "fixed: removed the dangling default pointer"), "%s",
                  r.out);
        cr_assert(line_with(r.out, "ok", "the default is now builtin:default"), "%s", r.out);
        cr_assert(access(ptr, F_OK) < 0);
        tu_result_done(&r);
        free(ptr);
}

/* A TCP listener on 127.0.0.1; its port through *port. */
static int listener(int *port) {
        struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
        socklen_t len = sizeof(a);
        int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

        cr_assert(fd >= 0 && bind(fd, (struct sockaddr *) &a, sizeof(a)) == 0 &&
                  listen(fd, 4) == 0);
        cr_assert_eq(getsockname(fd, (struct sockaddr *) &a, &len), 0);
        *port = ntohs(a.sin_port);
        return fd;
}

Test(doctor_cli, network_checks_each_endpoint) {
        char profile[256];
        int port, fd = listener(&port);
        tu_result r;

        snprintf(profile, sizeof(profile),
                 "---\nmodel: local:test\nendpoint: http://127.0.0.1:%d/v1\n---\n", port);
        tu_write(env.project, ".pod/profiles/near.md", profile);
        POD(&r, "doctor", "--network");
        cr_assert(line_with(r.out, "ok", "network: http://127.0.0.1:"), "%s", r.out);
        tu_result_done(&r);
        close(fd); /* nothing listens there now */
        POD(&r, "doctor", "--network");
        cr_assert_eq(r.status, 1, "%s", r.out);
        cr_assert(line_with(r.out, "FAIL", "does not answer"), "%s", r.out);
        tu_result_done(&r);
        POD(&r, "doctor");
        cr_assert(!strstr(r.out, "network:"), "without --network, no endpoint is reached: %s",
                  r.out);
        tu_result_done(&r);
}

Test(doctor_cli, an_unknown_option_is_a_usage_error) {
        tu_result r;

        POD(&r, "doctor", "--fxi");
        cr_assert_eq(r.status, 2);
        tu_result_done(&r);
        POD(&r, "doctor", "--help");
        cr_assert_eq(r.status, 0);
        cr_assert(strstr(r.out, "--fix"), "%s", r.out);
        tu_result_done(&r);
}

/* ---- tickets.sh in a pod ------------------------------------------------------------------- */

/* A pod whose scope does not let it write the tickets dir, or read it, is told so plainly. */
Test(doctor_cli, tickets_outside_a_pods_scope_are_refused_clearly) {
        char *script = tu_read(TICKETS_SH), json[2048];
        tu_result r;

        if (tu_landlock_abi() < 1)
                cr_skip_test("the kernel has no Landlock: no scope to fall outside of");
        cr_assert(script);
        tu_write(env.project, "tickets.sh", script);
        tu_write(env.project, "tickets/T-1-seen.md",
                 "---\nid: T-1\ntitle: \"seen\"\nstatus: open\ncreated: 2026-01-31T12:00:00Z\n"
                 "updated: 2026-01-31T12:00:00Z\ntags: []\nowner:\ndepends: []\n---\n");
        tu_write(env.root, "outside/tickets/T-1-hidden.md", "---\nid: T-1\n---\n");
        snprintf(json, sizeof(json),
                 "{\"turns\": [{\"call\": [{\"tool\": \"Bash\", \"input\": {\"command\": "
                 "\"sh ./tickets.sh create 'from a pod'; echo create=$?; sh ./tickets.sh list; "
                 "TICKETS_DIR=%s/outside/tickets sh ./tickets.sh list; echo list=$?\"}}]}, "
                 "{\"say\": \"seen:\", \"echo\": true}]}",
                 env.root);
        e2e_profile(&env, NULL, "reader", "scope: read\n", json);
        POD(&r, "--profile", "project:reader", "update the tickets");
        cr_assert_eq(r.status, 0, "stderr: %s", r.err);
        cr_assert(strstr(r.out, "cannot write in"), "%s", r.out);
        cr_assert(strstr(r.out, "report the update you would have made instead"), "%s", r.out);
        cr_assert(strstr(r.out, "create=1"), "%s", r.out);
        cr_assert(strstr(r.out, "T-1     open         seen"), "reading is in scope: %s", r.out);
        cr_assert(strstr(r.out, "cannot read"), "%s", r.out);
        cr_assert(strstr(r.out, "list=1"), "%s", r.out);
        cr_assert(!strstr(r.out, "hidden"), "%s", r.out);
        tu_result_done(&r);
        free(script);
}

/* A boss profile that spawns child k on child_sel (reading the project), waits, and ends. */
static void boss_spawns_k(const char *child_sel) {
        char script[1024];

        snprintf(script, sizeof(script),
                 "{\"turns\": [{\"call\": [{\"tool\": \"SpawnPod\", \"input\": {\"name\": \"k\", "
                 "\"task\": \"work\", \"profile\": \"%s\", \"scope\": [{\"path\": \"@P\", "
                 "\"access\": \"read\"}]}}]}, {\"call\": [{\"tool\": \"WaitPod\", \"input\": {}}]},"
                 " {\"say\": \"done\"}]}",
                 child_sel);
        e2e_profile(&env, NULL, "boss", "tools: [SpawnPod, WaitPod]\n", script);
}

/* The progress line of a WaitPod says how each child ended, never a bare "ok" for one that
 * failed. */
Test(doctor_cli, waitpod_progress_says_a_child_failed) {
        tu_result r;

        e2e_profile(&env, NULL, "failer", "limits:\n  max_turns: 1\n",
                    "{\"turns\": [{\"call\": [{\"tool\": \"Read\", \"input\": {\"file_path\": "
                    "\"@P/none\"}}]}, {\"say\": \"never\"}]}");
        boss_spawns_k("project:failer");
        POD(&r, "--profile", "project:boss", "go on");
        cr_assert_eq(r.status, 0, "stderr: %s", r.err);
        cr_assert(strstr(r.err, "WaitPod: k: failed"), "%s", r.err);
        cr_assert(!strstr(r.err, "WaitPod: ok"), "%s", r.err);
        tu_result_done(&r);
}

/* With --json, a failure still prints one JSON object on stdout (DESIGN §13). */
static void expect_json_failure(const char *const *args, const char *needle) {
        json_t *j;
        tu_result r;

        tu_run_pod(&r, &env, env.project, args);
        cr_assert_eq(r.status, 2, "stderr: %s", r.err);
        j = json_loads(r.out, 0, NULL);
        cr_assert(json_is_object(j), "one JSON object: %s", r.out);
        cr_assert_str_eq(json_string_value(json_object_get(j, "status")), "failed");
        cr_assert(strstr(json_string_value(json_object_get(j, "error")) ?: "", needle), "%s",
                  r.out);
        cr_assert(strstr(r.err, needle), "stderr says it too: %s", r.err);
        json_decref(j);
        tu_result_done(&r);
}

Test(doctor_cli, json_failures_are_one_object) {
        expect_json_failure(
                (const char *const[]){ "--json", "--profile", "project:nosuch", "do it", NULL },
                "project:nosuch");
        expect_json_failure((const char *const[]){ "run", "--json", NULL }, "a TASK is required");
        expect_json_failure((const char *const[]){ "ps", "--json", "--bogus", NULL },
                            "unexpected argument");
        expect_json_failure((const char *const[]){ "profile", "list", "--json", "--cwd",
                                                   "/nonexistent-dir", NULL },
                            "--cwd");
        expect_json_failure((const char *const[]){ "profile", "show", "nosuch", "--json", NULL },
                            "nosuch");
        expect_json_failure((const char *const[]){ "doctor", "--json", "--bogus", NULL },
                            "--bogus");
}

/* ---- pod logs ------------------------------------------------------------------------------ */

/* The one run folder under the data dir's runs/ whose name starts with prefix. */
static char *run_id(const char *prefix) {
        char *runs = tu_path(env.data, "runs"), *id = NULL;
        DIR *d = opendir(runs);
        struct dirent *de;

        cr_assert(d, "no runs/");
        while ((de = readdir(d)))
                if (strncmp(de->d_name, prefix, strlen(prefix)) == 0) {
                        free(id);
                        id = strdup(de->d_name);
                }
        closedir(d);
        free(runs);
        cr_assert(id, "no run %s*", prefix);
        return id;
}

Test(doctor_cli, logs_shows_ended_pods_and_runs) {
        char *first;
        tu_result r;

        POD(&r, "--name", "echo", "the first task");
        cr_assert_eq(r.status, 0, "%s", r.err);
        tu_result_done(&r);
        first = run_id("echo-");
        POD(&r, "--name", "echo", "the second task");
        tu_result_done(&r);
        POD(&r, "logs", "echo");
        cr_assert_eq(r.status, 0, "an ended pod's latest run: %s", r.err);
        cr_assert(strstr(r.out, "[task] the second task"), "%s", r.out);
        cr_assert(strstr(r.out, "[end: ok] done"), "%s", r.out);
        tu_result_done(&r);
        POD(&r, "logs", "-f", "echo");
        cr_assert_eq(r.status, 0, "options before the name: %s", r.err);
        cr_assert(strstr(r.out, "the second task"), "%s", r.out);
        tu_result_done(&r);
        POD(&r, "logs", "--run", first);
        cr_assert_eq(r.status, 0, "%s", r.err);
        cr_assert(strstr(r.out, "[task] the first task"), "%s", r.out);
        tu_result_done(&r);
        POD(&r, "logs", "--run", "../../etc");
        cr_assert_eq(r.status, 2);
        tu_result_done(&r);
        POD(&r, "logs", "ghost");
        cr_assert_eq(r.status, 2);
        cr_assert(strstr(r.err, "no run of that name"), "%s", r.err);
        cr_assert(!strstr(r.err, "transcript.jsonl"), "no transcript is cited: %s", r.err);
        tu_result_done(&r);
        free(first);
}

Test(doctor_cli, logs_finds_an_ended_child) {
        tu_result r;

        e2e_profile(&env, NULL, "kid", "", "{\"turns\": [{\"say\": \"kid says hi\"}]}");
        boss_spawns_k("project:kid");
        POD(&r, "--profile", "project:boss", "go on");
        cr_assert_eq(r.status, 0, "stderr: %s", r.err);
        tu_result_done(&r);
        POD(&r, "logs", "k");
        cr_assert_eq(r.status, 0, "%s", r.err);
        cr_assert(strstr(r.out, "kid says hi"), "%s", r.out);
        tu_result_done(&r);
}

/* ---- pod ps --all -------------------------------------------------------------------------- */

Test(doctor_cli, ps_all_lists_ended_pods_with_how_they_ended) {
        json_t *j, *e;
        size_t i;
        bool seen_died = false, seen_failed = false;
        tu_result r;

        POD(&r, "--name", "echo", "say done please");
        tu_result_done(&r);
        e2e_profile(&env, NULL, "failer", "limits:\n  max_turns: 1\n",
                    "{\"turns\": [{\"call\": [{\"tool\": \"Read\", \"input\": {\"file_path\": "
                    "\"@P/none\"}}]}, {\"say\": \"never\"}]}");
        POD(&r, "--profile", "project:failer", "try it");
        cr_assert_eq(r.status, 1, "%s", r.err);
        tu_result_done(&r);
        /* A run whose pod was killed before it could record its end. */
        tu_write(env.data, "runs/gone-20260101-000000-1/transcript.jsonl",
                 "{\"type\": \"manifest\", \"pod\": {\"name\": \"gone\", \"cwd\": \"/\"}}\n"
                 "{\"type\": \"task\", \"text\": \"x\"}\n");
        POD(&r, "ps");
        cr_assert(!strstr(r.out, "echo"), "without --all, running pods only: %s", r.out);
        tu_result_done(&r);
        POD(&r, "ps", "--all");
        cr_assert_eq(r.status, 0, "%s", r.err);
        cr_assert(strstr(r.out, "echo") && strstr(r.out, "done"), "%s", r.out);
        cr_assert(strstr(r.out, "failer") && strstr(r.out, "max_turns"), "%s", r.out);
        cr_assert(strstr(r.out, "gone") && strstr(r.out, "died"), "%s", r.out);
        tu_result_done(&r);
        POD(&r, "ps", "--all", "--json");
        j = json_loads(r.out, 0, NULL);
        cr_assert(json_is_array(j), "%s", r.out);
        json_array_foreach(j, i, e) {
                const char *name = json_string_value(json_object_get(e, "name"));
                cr_assert(json_is_false(json_object_get(e, "alive")));
                cr_assert(json_is_string(json_object_get(e, "run")));
                seen_died |= strcmp(name, "gone") == 0 &&
                        strcmp(json_string_value(json_object_get(e, "state")), "died") == 0;
                seen_failed |=
                        strcmp(name, "failer") == 0 && json_is_string(json_object_get(e, "error"));
        }
        cr_assert(seen_died && seen_failed, "%s", r.out);
        json_decref(j);
        tu_result_done(&r);
}

/* ---- pod demo ------------------------------------------------------------------------------ */

/* The number of pod-demo-* folders in dir. */
static int demo_dirs(const char *dir) {
        DIR *d = opendir(dir);
        struct dirent *de;
        int n = 0;

        while (d && (de = readdir(d)))
                n += strncmp(de->d_name, "pod-demo-", 9) == 0;
        if (d)
                closedir(d);
        return n;
}

Test(doctor_cli, demo_removes_its_throwaway_project_unless_kept) {
        char *tmp = tu_path(env.root, "tmp"), var[4200];
        tu_result r;

        tu_mkdirs(env.root, "tmp");
        snprintf(var, sizeof(var), "TMPDIR=%s", tmp);
        env.extra_env[0] = var;
        POD(&r, "demo");
        cr_assert_eq(r.status, 0, "%s", r.err);
        cr_assert(strstr(r.out, "Removed the throwaway project"), "%s", r.out);
        cr_assert(strstr(r.out, "pod demo --keep"), "%s", r.out);
        cr_assert_eq(demo_dirs(tmp), 0, "the project was removed");
        tu_result_done(&r);
        POD(&r, "demo", "--keep");
        cr_assert_eq(r.status, 0, "%s", r.err);
        cr_assert(strstr(r.out, "The project stays in"), "%s", r.out);
        cr_assert_eq(demo_dirs(tmp), 1, "--keep kept it");
        tu_result_done(&r);
        free(tmp);
}

/* ---- colour ------------------------------------------------------------------------------- */

/* What pod args print on a terminal (stdout and stderr both), with NO_COLOR=no_color. */
static char *on_a_tty(const char *no_color, const char *const *args) {
        const char *argv[16] = { POD_BINARY };
        char buf[65536], nc[64];
        size_t len = 0, n = 1;
        ssize_t k;
        int fd, status;
        pid_t pid;

        for (; *args && n < 15; args++)
                argv[n++] = *args;
        argv[n] = NULL;
        snprintf(nc, sizeof(nc), "NO_COLOR=%s", no_color);
        pid = forkpty(&fd, NULL, NULL, NULL);
        cr_assert_geq(pid, 0);
        if (pid == 0) {
                char *envp[] = { "TERM=xterm", nc, NULL, NULL, NULL, NULL, NULL };
                asprintf(&envp[2], "POD_CONFIG_DIR=%s", env.config);
                asprintf(&envp[3], "POD_DATA_DIR=%s", env.data);
                asprintf(&envp[4], "POD_RUNTIME_DIR=%s", env.runtime);
                asprintf(&envp[5], "HOME=%s", env.home);
                if (chdir(env.project) < 0)
                        _exit(127);
                execve(POD_BINARY, (char **) argv, envp);
                _exit(127);
        }
        while (len < sizeof(buf) - 1 && (k = read(fd, buf + len, sizeof(buf) - 1 - len)) > 0)
                len += (size_t) k;
        buf[len] = '\0';
        close(fd);
        waitpid(pid, &status, 0);
        return strdup(buf);
}

Test(doctor_cli, colour_on_a_terminal_only_and_never_with_no_color) {
        char *out = on_a_tty("", (const char *const[]){ "docter", NULL });

        cr_assert(strstr(out, "\033[1;31mpod:"), "a refusal is red on a terminal: %s", out);
        free(out);
        out = on_a_tty("1", (const char *const[]){ "docter", NULL });
        cr_assert(!strchr(out, '\033'), "NO_COLOR: %s", out);
        free(out);
        out = on_a_tty("", (const char *const[]){ "doctor", NULL });
        cr_assert(strstr(out, "\033[32mok"), "doctor's states: %s", out);
        free(out);
}
