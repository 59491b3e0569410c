/* SPDX-License-Identifier: MIT */
/* End to end: a pod's lifecycle in the registry, and pod ps / logs / send / stop. */
#include <criterion/criterion.h>
#include <dirent.h>
#include <glob.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "base/base.h"
#include "testutil.h"
#include <jansson.h>

static tu_env env;
static char *out_path;

static void setup(void) {
        tu_env_setup(&env);
        out_path = tu_path(env.root, "pod.out");
        /* The first command waits (at most a minute) for the test to create "go"; the second
         * names its process in slow.pid and sleeps. */
        tu_write(env.project, ".pod/profiles/slow.json",
                 "{\"turns\": [{\"say\": \"Waiting.\", \"call\": [{\"tool\": \"Bash\", \"input\": "
                 "{\"command\": \"i=0; while [ ! -e go ] && [ $i -lt 600 ]; do sleep 0.1; "
                 "i=$((i+1)); done\"}}]}, {\"say\": \"Still here.\", \"call\": [{\"tool\": "
                 "\"Bash\", \"input\": {\"command\": \"echo $$ > slow.pid; exec sleep 60\"}}]}, "
                 "{\"say\": \"done\"}]}");
        tu_write(env.project, ".pod/profiles/slow.md", "---\nmodel: script:slow.json\n---\n");
}

static void teardown(void) {
        tu_env_teardown(&env);
        free(out_path);
}

TestSuite(ops_cli, .init = setup, .fini = teardown);

#define POD(r, ...) tu_run_pod(r, &env, env.project, (const char *const[]){ __VA_ARGS__, NULL })

/* Start the slow pod as `name` and wait until its socket listens: the socket's file is there
 * from bind, before listen, and the entry says running once the socket is served. */
static pid_t start_slow(const char *name) {
        pid_t pid = tu_spawn_pod(
                &env, env.project,
                (const char *const[]){ "--profile", "project:slow", "--name", name, "wait", NULL },
                out_path);
        char rel[128], *sock;
        bool served = false;

        snprintf(rel, sizeof(rel), "pods/%s/sock", name);
        sock = tu_path(env.runtime, rel);
        cr_assert(tu_wait_for_path(sock, 5000), "pod %s never listened", name);
        snprintf(rel, sizeof(rel), "pods/%s/pod.json", name);
        for (int i = 0; i < 500 && !served; i++) {
                char *text = tu_read_at(env.runtime, rel);
                json_t *e = text ? json_loads(text, 0, NULL) : NULL;
                served = e &&
                        strcmp(json_string_value(json_object_get(e, "state")) ?: "", "running") ==
                                0;
                json_decref(e);
                free(text);
                if (!served)
                        usleep(10 * 1000);
        }
        cr_assert(served, "pod %s never said it was running", name);
        free(sock);
        return pid;
}

/* Entries holding a pod.json (a sandboxed pod empties the entries it removes, and the
 * emptied folder waits for the next holder of the name or for reaping). */
static size_t registry_entries(void) {
        char *pods = tu_path(env.runtime, "pods");
        DIR *d = opendir(pods);
        struct dirent *de;
        size_t n = 0;

        while (d && (de = readdir(d))) {
                char rel[512], *entry;
                if (de->d_name[0] == '.')
                        continue;
                snprintf(rel, sizeof(rel), "%s/pod.json", de->d_name);
                entry = tu_path(pods, rel);
                n += access(entry, F_OK) == 0;
                free(entry);
        }
        if (d)
                closedir(d);
        free(pods);
        return n;
}

/* The pid a Bash command wrote into the project's file rel, waiting for it (at most a
 * minute: the pod is slow only on a loaded machine). */
static pid_t bash_pid(const char *rel) {
        for (int i = 0; i < 6000; i++) {
                char *text = tu_read_at(env.project, rel);
                int pid = 0;
                bool whole = text && strchr(text, '\n') && sscanf(text, "%d", &pid) == 1;
                free(text);
                if (whole && pid > 0)
                        return pid;
                usleep(10 * 1000);
        }
        cr_assert_fail("no Bash command wrote %s", rel);
        return 0;
}

/* pid is a process that has not ended (neither gone nor a zombie). */
static bool running(pid_t pid) {
        char rel[64], *stat, *end;
        bool live;

        snprintf(rel, sizeof(rel), "%d/stat", (int) pid);
        stat = tu_read_at("/proc", rel);
        end = stat ? strrchr(stat, ')') : NULL; /* the state follows the command's name */
        live = end && end[1] == ' ' && end[2] != 'Z' && end[2] != 'X';
        free(stat);
        return live;
}

Test(ops_cli, ps_send_logs_and_stop) {
        pid_t pid = start_slow("slowpoke"), bash;
        tu_result r;
        json_t *list;

        POD(&r, "ps");
        cr_assert_eq(r.status, 0, "%s", r.err);
        cr_assert(strstr(r.out, "slowpoke") && strstr(r.out, "project:slow"), "%s", r.out);
        cr_assert(strstr(r.out, " on "), "the sandbox status shows: %s", r.out);
        tu_result_done(&r);
        POD(&r, "ps", "--json");
        list = json_loads(r.out, 0, NULL);
        cr_assert_eq(json_array_size(list), 1, "%s", r.out);
        cr_assert_null(json_object_get(json_array_get(list, 0), "token"), "ps never shows tokens");
        json_decref(list);
        tu_result_done(&r);
        POD(&r, "send", "slowpoke", "please hurry");
        cr_assert_eq(r.status, 0, "%s", r.err);
        tu_result_done(&r);
        tu_write(env.project, "go", ""); /* the first command ends; the message joins */
        bash = bash_pid("slow.pid");
        POD(&r, "logs", "slowpoke");
        cr_assert_eq(r.status, 0, "%s", r.err);
        cr_assert(strstr(r.out, "[task] wait") && strstr(r.out, "[message] please hurry"), "%s",
                  r.out);
        tu_result_done(&r);
        POD(&r, "stop", "slowpoke");
        cr_assert_eq(r.status, 0, "%s", r.err);
        tu_result_done(&r);
        cr_assert_eq(tu_wait(pid), 1, "a stopped pod did not finish its task");
        cr_assert_not(running(bash), "the Bash command running at the stop was killed");
        cr_assert_eq(registry_entries(), 0, "stop leaves a clean registry");
}

Test(ops_cli, sigterm_leaves_a_clean_registry) {
        pid_t pid = start_slow("term");

        kill(pid, SIGTERM);
        cr_assert_eq(tu_wait(pid), 1);
        cr_assert_eq(registry_entries(), 0);
}

Test(ops_cli, a_killed_pod_is_reaped_by_the_next_ps) {
        pid_t pid = start_slow("nine");
        tu_result r;

        kill(pid, SIGKILL);
        cr_assert_eq(tu_wait(pid), 128 + SIGKILL);
        cr_assert_eq(registry_entries(), 1, "kill -9 leaves the entry behind");
        POD(&r, "ps");
        cr_assert_null(strstr(r.out, "nine"), "%s", r.out);
        tu_result_done(&r);
        cr_assert_eq(registry_entries(), 0, "ps reaped it");
        /* The reaped pod's Bash child was in its own session: clean it up too. */
}

Test(ops_cli, a_live_name_cannot_be_taken_and_unknown_pods_are_errors) {
        pid_t pid = start_slow("twin");
        tu_result r;

        POD(&r, "--profile", "project:slow", "--name", "twin", "again");
        cr_assert_eq(r.status, 2, "%s", r.err);
        cr_assert(strstr(r.err, "the name 'twin' is taken by a running pod"), "%s", r.err);
        cr_assert(strstr(r.err, "choose another with --name"), "it says what to do: %s", r.err);
        tu_result_done(&r);
        POD(&r, "send", "ghost", "hi");
        cr_assert_eq(r.status, 2);
        cr_assert(strstr(r.err, "no pod named 'ghost'"), "%s", r.err);
        tu_result_done(&r);
        POD(&r, "stop", "twin");
        tu_result_done(&r);
        tu_wait(pid);
}

/*
 * A sandboxed pod may rewrite entries it cannot read (docs/sandbox.md). An entry forged to
 * name another live process, with a socket the forger serves, must not get that process
 * signalled by `pod stop`, nor a token sent anywhere.
 */
Test(ops_cli, stop_refuses_an_entry_whose_socket_another_process_serves) {
        pid_t victim = start_slow("victim");
        char *victim_entry = tu_path(env.runtime, "pods/victim/pod.json");
        char *forged_dir = tu_path(env.runtime, "pods/forged");
        char *sock_path = tu_path(env.runtime, "pods/forged/sock");
        struct sockaddr_un addr = { .sun_family = AF_UNIX };
        char *text = tu_read(victim_entry);
        json_t *e = json_loads(text, 0, NULL);
        int lfd = socket(AF_UNIX, SOCK_STREAM, 0);
        tu_result r;

        cr_assert_not_null(e);
        json_object_set_new(e, "name", json_string("forged"));
        json_object_set_new(e, "token", json_string("0123456789abcdef0123456789abcdef"));
        cr_assert_eq(mkdir(forged_dir, 0700), 0);
        free(text);
        text = json_dumps(e, 0);
        tu_write(forged_dir, "pod.json", text);
        snprintf(addr.sun_path, sizeof(addr.sun_path), "%s", sock_path);
        cr_assert_eq(bind(lfd, (struct sockaddr *) &addr, sizeof(addr)), 0);
        cr_assert_eq(listen(lfd, 4), 0);
        POD(&r, "stop", "forged");
        cr_assert_eq(r.status, 1, "%s", r.err);
        cr_assert(strstr(r.err, "not served by the pod's process") &&
                          strstr(r.err, "is not signalled"),
                  "%s", r.err);
        tu_result_done(&r);
        cr_assert_eq(kill(victim, 0), 0, "the process the forged entry names lives on");
        {
                struct pollfd p = { lfd, POLLIN, 0 };
                cr_assert_eq(poll(&p, 1, 0), 1, "pod stop connected to check the peer");
                int c = accept(lfd, NULL, NULL);
                char buf[64];
                p.fd = c;
                cr_assert(poll(&p, 1, 200) == 0 || read(c, buf, sizeof(buf)) == 0,
                          "and sent nothing to the forger");
                close(c);
        }
        close(lfd);
        POD(&r, "stop", "victim");
        cr_assert_eq(r.status, 0, "%s", r.err);
        tu_result_done(&r);
        tu_wait(victim);
        json_decref(e);
        free(text);
        free(victim_entry);
        free(forged_dir);
        free(sock_path);
}

/* hello with the token of the pod's entry, then method: the method's reply (NULL if none). */
static json_t *call_pod(const char *name, const char *method) {
        char rel[128], req[512], buf[4096];
        struct sockaddr_un a = { .sun_family = AF_UNIX };
        json_t *entry, *reply = NULL;
        char *text, *line;
        size_t n = 0;
        int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

        snprintf(rel, sizeof(rel), "pods/%s/pod.json", name);
        text = tu_read_at(env.runtime, rel);
        entry = text ? json_loads(text, 0, NULL) : NULL;
        cr_assert_not_null(entry, "no entry for %s", name);
        snprintf(a.sun_path, sizeof(a.sun_path), "%s/pods/%s/sock", env.runtime, name);
        cr_assert_eq(connect(fd, (struct sockaddr *) &a, sizeof(a)), 0);
        n = (size_t) snprintf(
                req, sizeof(req),
                "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"hello\",\"params\":"
                "{\"token\":\"%s\"}}\n{\"jsonrpc\":\"2.0\",\"id\":2,\"method\":\"%s\"}\n",
                json_string_value(json_object_get(entry, "token")), method);
        cr_assert_eq(write(fd, req, n), (ssize_t) n);
        n = 0;
        while (n < sizeof(buf) - 1) { /* until the second line, or the pod closes */
                struct pollfd p = { fd, POLLIN, 0 };
                ssize_t k;
                cr_assert_gt(poll(&p, 1, 60 * 1000), 0, "no reply within a minute");
                k = read(fd, buf + n, sizeof(buf) - 1 - n);
                if (k <= 0)
                        break;
                n += (size_t) k;
                buf[n] = '\0';
                line = strchr(buf, '\n');
                if (line && strchr(line + 1, '\n'))
                        break;
        }
        buf[n] = '\0';
        line = strchr(buf, '\n');
        if (line)
                reply = json_loads(line + 1, JSON_DISABLE_EOF_CHECK, NULL);
        close(fd);
        json_decref(entry);
        free(text);
        return reply;
}

/* cancel while a Bash command runs: the command and its processes are killed, its result
 * says so, and the run ends as cancelled. */
Test(ops_cli, cancel_kills_a_running_bash_command_and_ends_the_run) {
        pid_t pid = start_slow("cancelme"), bash;
        char pattern[4200], *text;
        json_t *reply;
        glob_t g;

        tu_write(env.project, "go", "");
        bash = bash_pid("slow.pid");
        reply = call_pod("cancelme", "cancel");
        cr_assert(json_is_true(json_object_get(json_object_get(reply, "result"), "cancelled")),
                  "cancel was not acknowledged");
        json_decref(reply);
        cr_assert_eq(tu_wait(pid), 1, "a cancelled run ends as a failure");
        cr_assert_not(running(bash), "the Bash command running at the cancel was killed");
        text = tu_read(out_path);
        cr_assert(text && strstr(text, "cancelled"), "%s", text ?: "");
        free(text);
        snprintf(pattern, sizeof(pattern), "%s/runs/*/transcript.jsonl", env.data);
        cr_assert_eq(glob(pattern, 0, NULL, &g), 0, "no transcript under %s", env.data);
        text = tu_read(g.gl_pathv[0]);
        cr_assert(strstr(text, "[cancelled; the command and its processes were killed]"), "%s",
                  text);
        cr_assert(strstr(text, "{\"type\":\"end\",\"status\":\"cancelled\""), "%s", text);
        cr_assert_null(strstr(text, "\"text\":\"done\""), "the run went on after the cancel: %s",
                       text);
        free(text);
        globfree(&g);
        cr_assert_eq(registry_entries(), 0);
}
