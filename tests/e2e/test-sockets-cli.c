/* SPDX-License-Identifier: MIT */
/*
 * End to end: what a hostile model's Bash commands reach of the Unix sockets on the host
 * (docs/sandbox.md). A listener runs outside the pod's scope, as a docker socket, D-Bus or a
 * local proxy would; a script-model profile's command tries to talk to it through the real
 * pod binary, in a temporary HOME, config, data and runtime dir.
 */
#include <criterion/criterion.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "base/base.h"
#include "e2e.h"
#include "testutil.h"
#include <jansson.h>

static tu_env env;
static char *probe, *sock;

static void setup(void) {
        char cmd[4096];

        tu_env_setup(&env);
        tu_write(env.project, "src/main.c", "int main(void) { return 0; }\n");
        tu_mkdirs(env.root, "outside");
        probe = tu_path(env.project, "probe");
        sock = tu_path(env.root, "outside/daemon.sock");
        snprintf(cmd, sizeof(cmd), "cp '%s' '%s'", SANDBOX_PROBE, probe);
        cr_assert_eq(system(cmd), 0);
}

static void teardown(void) {
        free(probe);
        free(sock);
        tu_env_teardown(&env);
}

TestSuite(sockets_cli, .init = setup, .fini = teardown, .timeout = 120);

#define POD(r, ...) tu_run_pod(r, &env, env.project, (const char *const[]){ __VA_ARGS__, NULL })

static void profile(const char *slug, const char *front, const char *script) {
        e2e_profile(&env, NULL, slug, front, script);
}

/* The text of the first tool result in the transcript matching runs/rel (caller frees). */
static char *first_result(const char *rel) {
        char *pattern = NULL, *text;
        json_t *events, *ev;

        cr_assert_geq(asprintf(&pattern, "runs/%s", rel), 0);
        events = e2e_transcript_at(&env, pattern);
        ev = e2e_find_event(events, "tool_result", NULL, 0);
        cr_assert_not_null(ev, "no tool result in %s", pattern);
        text = strdup(json_string_value(json_object_get(ev, "text")));
        json_decref(events);
        free(pattern);
        return text;
}

/* The hostile model's one Bash command: ask the listener for a reply. */
static void hostile(const char *slug, const char *front) {
        char script[4096];

        snprintf(script, sizeof(script),
                 "{\"turns\": [{\"call\": [{\"tool\": \"Bash\", \"input\": {\"command\": "
                 "\"%s unix stream %s\"}}]}, {\"say\": \"done\"}]}",
                 probe, sock);
        profile(slug, front, script);
}

/* Run profile slug as a top-level pod, alone in the data dir. */
static void run(const char *slug) {
        char sel[64];
        tu_result r;
        char *runs = tu_path(env.data, "runs");

        tu_rm_rf(runs); /* one run's transcripts at a time */
        free(runs);
        snprintf(sel, sizeof(sel), "project:%s", slug);
        POD(&r, "--profile", sel, "go");
        cr_assert_eq(r.status, 0, "%s", r.err);
        tu_result_done(&r);
}

/* Run a hostile profile (front matter front) as a top-level pod; its command's output. */
static char *ask_the_listener(const char *front) {
        hostile("hostile", front);
        run("hostile");
        return first_result("*/transcript.jsonl");
}

/* The default network (model-only) and none: no reply, and the listener sees no one. The
 * operator's `network: full` is the control: the same command gets its answer. */
Test(sockets_cli, a_hostile_command_gets_no_reply_from_a_unix_socket_outside) {
        int seen;
        pid_t srv;
        char *out;

        if (tu_landlock_abi() < 1)
                cr_skip_test("the kernel offers no Landlock");
        srv = tu_unix_server(sock, SOCK_STREAM, &seen);
        out = ask_the_listener("network: full\n");
        cr_assert(strstr(out, "ok\n") && strstr(out, "[exit code 0]"), "the control: %s", out);
        cr_assert_eq(tu_unix_seen(seen), 1, "the control reached the listener");
        free(out);
        out = ask_the_listener("");
        cr_assert(!strstr(out, "ok\n") && strstr(out, "denied"), "model-only: %s", out);
        cr_assert(strstr(out, "kernel sandbox"), "the failure names the sandbox: %s", out);
        free(out);
        out = ask_the_listener("network: none\n");
        cr_assert(!strstr(out, "ok\n") && strstr(out, "denied"), "none: %s", out);
        free(out);
        cr_assert_eq(tu_unix_seen(seen), 0, "no sandboxed command reached the listener");
        tu_unix_server_stop(srv, seen);
}

/* A spawner without network: full cannot give a child more: the child's profile asks `full`,
 * its manifest says the spawner's `none`, and its command gets no reply either. */
Test(sockets_cli, a_child_cannot_get_more_network_than_its_spawner) {
        char script[4096], *out;
        int seen;
        pid_t srv;

        if (tu_landlock_abi() < 1)
                cr_skip_test("the kernel offers no Landlock");
        srv = tu_unix_server(sock, SOCK_STREAM, &seen);

        hostile("wide", "network: full\n");
        snprintf(script, sizeof(script),
                 "{\"turns\": [{\"call\": [{\"tool\": \"SpawnPod\", \"input\": {\"name\": "
                 "\"kid\", \"task\": \"t\", \"profile\": \"project:wide\", \"scope\": "
                 "[{\"path\": \"%s\", \"access\": \"read\"}]}}]}, "
                 "{\"call\": [{\"tool\": \"WaitPod\", \"input\": {}}]}, {\"say\": \"done\"}]}",
                 env.project);
        profile("boss", "network: none\ntools: [SpawnPod, WaitPod]\n", script);
        run("boss");
        out = first_result("*/kid-*/transcript.jsonl");
        cr_assert(!strstr(out, "ok\n") && strstr(out, "denied"), "the child's command: %s", out);
        cr_assert_eq(tu_unix_seen(seen), 0, "the child's command reached the listener");
        free(out);
        tu_unix_server_stop(srv, seen);
}
