/* SPDX-License-Identifier: MIT */
/*
 * End to end, a hostile model against its parent's control socket (issue #13): a child's
 * Bash floods the socket with connections that never say hello while a sibling finishes.
 * The sibling's result must still arrive and the operator's `pod send` still work; and no
 * pod shows a socket path or a token in its command line, which /proc shows to every
 * process. Scripts name the project dir as @P, the runtime dir as @R.
 */
#include <criterion/criterion.h>
#include <fcntl.h>
#include <signal.h>
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
        tu_write(env.project, "docs/readme.txt", "docs\n");
}

static void teardown(void) {
        tu_env_teardown(&env);
}

TestSuite(hostile_socket, .init = setup, .fini = teardown, .timeout = 180);

static void profile(const char *slug, const char *front, const char *script) {
        e2e_profile(&env, NULL, slug, front, script);
}

/* What a pod's process shows every other process: its command line, NULs as spaces. */
static char *cmdline_of(const char *name, json_t **ret_entry) {
        char *entry = tu_path(env.runtime, "pods"), *rel = NULL, *path, *text;
        size_t len = 0;
        json_t *j;
        int fd;

        cr_assert_geq(asprintf(&rel, "%s/pod.json", name), 0);
        text = tu_read_at(entry, rel);
        cr_assert_not_null(text, "pod '%s' has no entry", name);
        j = json_loads(text, 0, NULL);
        cr_assert_geq(asprintf(&path, "/proc/%d/cmdline",
                               (int) json_integer_value(json_object_get(j, "pid"))),
                      0);
        free(text);
        fd = open(path, O_RDONLY | O_CLOEXEC);
        cr_assert_geq(fd, 0, "pod '%s' is not running", name);
        cr_assert_eq(fd_read_bounded(&text, &len, fd, 1u << 20), 0);
        close(fd);
        for (size_t i = 0; i < len; i++) /* the arguments, NUL-separated */
                if (!text[i])
                        text[i] = ' ';
        *ret_entry = j;
        free(entry);
        free(rel);
        free(path);
        return text;
}

/* Whether any pod's command line holds the runtime dir (so a socket path, its own or its
 * parent's) or any pod's token: NULL, or what shows it. */
static char *private_in_argv(const char *const *names) {
        json_t *entries[8] = { 0 };
        char *lines[8] = { 0 }, *why = NULL;
        size_t n = 0;

        for (; names[n]; n++)
                lines[n] = cmdline_of(names[n], &entries[n]);
        for (size_t i = 0; i < n && !why; i++) {
                bool shown = strstr(lines[i], env.runtime) != NULL;
                for (size_t k = 0; k < n; k++) {
                        const char *t = json_string_value(json_object_get(entries[k], "token"));
                        const char *c =
                                json_string_value(json_object_get(entries[k], "callback_token"));
                        shown |= (t && strstr(lines[i], t)) || (c && strstr(lines[i], c));
                }
                if (shown && asprintf(&why, "pod '%s': %s", names[i], lines[i]) < 0)
                        why = strdup(names[i]);
        }
        for (size_t i = 0; i < n; i++) {
                free(lines[i]);
                json_decref(entries[i]);
        }
        return why;
}

/*
 * The attack: 'att' (network: full, as its spawner's, so its commands may make Unix sockets:
 * a child's network is at most its spawner's) opens 300
 * connections to its parent's socket from 30 processes and says nothing; its path is
 * guessable from the runtime dir's layout. While they are held, the sibling 'kid' finishes
 * and its result must reach 'boss', and the operator's `pod send boss` must be served.
 */
Test(hostile_socket, a_flood_of_silent_connections_starves_no_one) {
        char *waiting = tu_path(env.project, "docs/waiting"), *out = tu_path(env.root, "boss.out");
        char *probe = tu_path(env.project, "src/probe"), *cmd = NULL, *text, *shown = NULL;
        const char *const pods[] = { "boss", "att", "kid", NULL };
        bool reached;
        tu_result r;
        pid_t boss;

        if (tu_landlock_abi() < 1)
                cr_skip_test("the pods run sandboxed, which needs Landlock");
        cr_assert_geq(asprintf(&cmd, "cp '%s' '%s'", SANDBOX_PROBE, probe), 0);
        cr_assert_eq(system(cmd), 0);
        profile("att", "network: full\ntools: [Bash]\n",
                "{\"turns\": [{\"call\": [{\"tool\": \"Bash\", \"input\": {\"command\": "
                "\"@P/src/probe flood @R/pods/boss/sock 300 30 @P/src/stop > @P/src/flood.out\", "
                "\"timeout_s\": 170}}]}, {\"say\": \"att done\"}]}");
        profile("kid", "tools: [Read]\n", "{\"turns\": [{\"say\": \"kid done\"}]}");
        profile("boss", "network: full\ntools: [Bash, SpawnPod, WaitPod, StopPod]\n",
                "{\"turns\": [{\"call\": [{\"tool\": \"SpawnPod\", \"input\": {\"name\": \"att\", "
                "\"task\": \"flood\", \"profile\": \"att\", \"scope\": [{\"path\": \"@P/src\", "
                "\"access\": \"write\"}]}}]},"
                " {\"call\": [{\"tool\": \"Bash\", \"input\": {\"command\": \"for i in $(seq 900); "
                "do grep -q held @P/src/flood.out 2>/dev/null && break; sleep 0.1; done; "
                "cat @P/src/flood.out\", \"timeout_s\": 170}}]},"
                " {\"call\": [{\"tool\": \"SpawnPod\", \"input\": {\"name\": \"kid\", \"task\": "
                "\"t\", \"profile\": \"kid\", \"scope\": [{\"path\": \"@P/docs\", \"access\": "
                "\"read\"}]}}]},"
                " {\"call\": [{\"tool\": \"WaitPod\", \"input\": {\"names\": [\"kid\"], "
                "\"timeout_s\": 30}}]},"
                " {\"call\": [{\"tool\": \"Bash\", \"input\": {\"command\": \"touch @P/docs/waiting; "
                "for i in $(seq 900); do [ -e @P/docs/sent ] && break; sleep 0.1; done\", "
                "\"timeout_s\": 170}}]},"
                " {\"say\": \"boss done\"}]}");
        boss = tu_spawn_pod(&env, env.project,
                            (const char *const[]){ "--profile", "boss", "go", NULL }, out);
        reached = tu_wait_for_path(waiting, 120000);
        if (reached) {
                shown = private_in_argv(pods);
                tu_run_pod(&r, &env, env.project,
                           (const char *const[]){ "send", "boss", "hi", NULL });
        }
        tu_write(env.project, "docs/sent", "");
        tu_write(env.project, "src/stop", "");
        if (!reached)
                kill(boss, SIGKILL);
        tu_wait(boss);
        cr_assert(reached, "boss never got past WaitPod: %s", tu_read(out) ?: "");
        cr_assert_eq(r.status, 0, "pod send failed while the socket was flooded: %s", r.err);
        tu_result_done(&r);
        text = e2e_result_in(&env, NULL, "Bash", 0, NULL);
        cr_assert(strstr(text, "300 held"), "the attack did not hold its connections: %s", text);
        free(text);
        text = e2e_result_in(&env, NULL, "WaitPod", 0, NULL);
        cr_assert(strstr(text, "kid done"), "the sibling's result did not arrive: %s", text);
        free(text);
        cr_assert_null(shown,
                       "a socket path or a token in a pod's argv, which /proc shows to "
                       "every process: %s",
                       shown);
        free(waiting);
        free(out);
        free(probe);
        free(cmd);
}
