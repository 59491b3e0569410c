/* SPDX-License-Identifier: MIT */
/*
 * The host (a running pod's start, one turn, its result and its stop) in this process, on
 * the script model and without the sandbox: what it writes to the registry and result.json,
 * which the end-to-end tests see only through `pod ps` and `pod logs`.
 */
#include <criterion/criterion.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli/cli.h"
#include "testutil.h"

static char *root;
static char **env;
static cli_resolved res;
static pod_host host;

static void setup(void) {
        char buf[512];

        root = tu_tmpdir_real();
        tu_write(root, "proj/.pod/profiles/boss.md",
                 "---\nmodel: script:boss.json\ntools: [Read]\n---\nboss\n");
        tu_write(root, "proj/.pod/profiles/boss.json", "{\"turns\": [{\"say\": \"all done\"}]}");
        strv_push(&env, "POD_SANDBOX=off");
        snprintf(buf, sizeof(buf), "POD_RUNTIME_DIR=%s/rt", root);
        strv_push(&env, buf);
        snprintf(buf, sizeof(buf), "POD_DATA_DIR=%s/data", root);
        strv_push(&env, buf);
        snprintf(buf, sizeof(buf), "POD_CONFIG_DIR=%s/config", root);
        strv_push(&env, buf);
        snprintf(buf, sizeof(buf), "HOME=%s", root);
        strv_push(&env, buf);
        strv_push(&env, "PATH=/usr/bin:/bin");
        {
                char *proj = tu_path(root, "proj");
                snprintf(buf, sizeof(buf), "%s/config", root);
                tu_trust(buf, proj);
                free(proj);
        }
}

static void teardown(void) {
        host_stop(&host, true);
        cli_resolved_done(&res);
        strv_free(env);
        env = NULL;
        tu_rm_rf(root);
        free(root);
}

TestSuite(host, .init = setup, .fini = teardown);

static void start(const char *name) {
        char *cwd = tu_path(root, "proj");
        cli_target t = { .selector = "project:boss", .cwd = cwd, .name = name };
        pod_error err = { 0 };

        cr_assert_eq(cli_resolve(&res, &t, true, env), 0);
        host = (pod_host){ .manifest = res.manifest, .envp = env, .exe = strdup("/bin/false") };
        cr_assert_eq(host_start_top(&host, &res.dirs, &err), 0, "%s", err.msg);
        free(cwd);
}

/* rt/pods/<name>/<file> as JSON (NULL when it does not exist). */
static json_t *entry_file(const char *name, const char *file) {
        char rel[256], *path;
        json_t *j;

        snprintf(rel, sizeof(rel), "rt/pods/%s/%s", name, file);
        path = tu_path(root, rel);
        j = json_load_file(path, 0, NULL);
        free(path);
        return j;
}

static const char *str(const json_t *j, const char *key) {
        return json_string_value(json_object_get(j, key)) ?: "";
}

Test(host, a_started_pod_has_its_entry_run_dir_transcript_and_socket) {
        json_t *e, *res_status = NULL;
        pod_error err = { 0 };
        struct stat st;

        start("boss");
        e = entry_file("boss", "pod.json");
        cr_assert_not_null(e, "pod.json is written");
        cr_assert_str_eq(str(e, "name"), "boss");
        cr_assert_str_eq(str(e, "state"), "running");
        cr_assert_eq(json_integer_value(json_object_get(e, "pid")), getpid());
        cr_assert_eq(json_integer_value(json_object_get(e, "depth")), 0);
        cr_assert(json_is_null(json_object_get(e, "parent")));
        cr_assert_str_eq(str(e, "profile"), "project:boss");
        cr_assert_str_eq(str(e, "sandbox"), "off");
        cr_assert_eq(strlen(str(e, "token")), POD_TOKEN_HEX);
        cr_assert_str_eq(str(e, "token"), host.token);
        cr_assert_str_eq(str(e, "run_dir"), host.run_dir);
        cr_assert_eq(stat(host.run_dir, &st), 0);
        cr_assert_eq(st.st_mode & 07777, 0700, "the run dir is private");
        cr_assert_eq(access(str(e, "transcript"), F_OK), 0, "the transcript is created");
        /* The socket serves the token holder. */
        cr_assert_eq(
                ipc_call(&res_status, str(e, "socket"), getpid(), host.token, "status", NULL, &err),
                0, "%s", err.msg);
        cr_assert_str_eq(str(res_status, "state"), "running");
        json_decref(res_status);
        json_decref(e);
}

Test(host, a_turn_answers_and_result_json_records_it) {
        pod_error err = { 0 };
        char *answer = NULL;
        json_t *r;

        start("boss");
        cr_assert_eq(host_turn(&host, "go", &answer, &err), 0, "%s", err.msg);
        cr_assert_str_eq(answer, "all done");
        host_write_result(&host, answer, NULL);
        free(answer);
        r = entry_file("boss", "result.json");
        cr_assert_not_null(r, "result.json is written");
        cr_assert_str_eq(str(r, "status"), "ok");
        cr_assert_str_eq(str(r, "result"), "all done");
        cr_assert_eq(json_integer_value(json_object_get(
                             json_object_get(json_object_get(r, "usage"), "own"), "turns")),
                     1, "with what it spent (docs/budgets.md)");
        cr_assert(json_is_object(json_object_get(r, "budget")) &&
                  json_is_object(json_object_get(r, "remaining")));
        json_decref(r);
        /* A failure replaces it, with the error's message. */
        pod_error_set(&err, -ETIMEDOUT, "timeout_s (5 s) reached");
        host_write_result(&host, NULL, &err);
        r = entry_file("boss", "result.json");
        cr_assert_str_eq(str(r, "status"), "failed");
        cr_assert_str_eq(str(r, "error"), "timeout_s (5 s) reached");
        cr_assert_null(json_object_get(r, "result"));
        json_decref(r);
}

/* A second pod named boss, started in a child process (as another `pod run` would be): its
 * error message, or "" when it started. */
static char *second_start(void) {
        char *cwd = tu_path(root, "proj"), msg[sizeof(((pod_error *) 0)->msg)] = "";
        int p[2];
        pid_t pid;

        cr_assert_eq(pipe(p), 0);
        pid = fork();
        cr_assert_geq(pid, 0);
        if (pid == 0) {
                /* A session of its own, as every child a pod starts has: the first pod's
                 * reaper takes a dead child that leads none for an adopted orphan. */
                setsid();
                cli_target t = { .selector = "project:boss", .cwd = cwd, .name = "boss" };
                cli_resolved r2 = { 0 };
                pod_host h2;
                pod_error err = { 0 };
                if (cli_resolve(&r2, &t, true, env) == 0) {
                        h2 = (pod_host){ .manifest = r2.manifest,
                                         .envp = env,
                                         .exe = strdup("/bin/false") };
                        if (host_start_top(&h2, &r2.dirs, &err) < 0)
                                (void) !write(p[1], err.msg, strlen(err.msg));
                }
                _exit(0);
        }
        close(p[1]);
        (void) !read(p[0], msg, sizeof(msg) - 1);
        close(p[0]);
        cr_assert_eq(tu_wait(pid), 0);
        free(cwd);
        return strdup(msg);
}

Test(host, a_second_pod_of_the_same_name_is_refused_while_the_first_lives) {
        char *msg;
        json_t *e;

        start("boss");
        msg = second_start();
        cr_assert(strstr(msg, "boss"), "refused, naming the pod: '%s'", msg);
        free(msg);
        e = entry_file("boss", "pod.json");
        cr_assert_not_null(e, "the first pod's entry stays");
        cr_assert_eq(json_integer_value(json_object_get(e, "pid")), getpid());
        json_decref(e);
}

Test(host, stop_removes_the_entry_and_socket_when_asked) {
        char *sock;
        json_t *e;

        start("boss");
        e = entry_file("boss", "pod.json");
        sock = strdup(str(e, "socket"));
        json_decref(e);
        host_stop(&host, true);
        cr_assert_null(entry_file("boss", "pod.json"), "the entry is removed");
        cr_assert_neq(access(sock, F_OK), 0, "the socket is removed");
        free(sock);
}

Test(host, stop_keeps_the_entry_when_not_asked) {
        json_t *e;

        start("boss");
        host_write_result(&host, "kept", NULL);
        host_stop(&host, false);
        e = entry_file("boss", "result.json");
        cr_assert_not_null(e, "result.json stays for `pod logs`");
        cr_assert_str_eq(str(e, "result"), "kept");
        json_decref(e);
        e = entry_file("boss", "pod.json");
        cr_assert_not_null(e);
        json_decref(e);
}
