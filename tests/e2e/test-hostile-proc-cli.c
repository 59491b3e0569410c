/* SPDX-License-Identifier: MIT */
/*
 * End to end, a hostile model's processes that outlive their command (docs/sandbox.md,
 * Containment): a Bash command starts a loop that leaves its parent (a double fork; a
 * command may not leave its session, setsid is refused) and appends to src/f. It must not write on
 * while a child holds the lease there, after a child's lease came back, or after `pod run`
 * returned. Script-model profiles play the model; scripts name paths as @P (the project dir). Each
 * test waits, bounded, for the file to stop growing; it never asserts how fast.
 */
#include <criterion/criterion.h>
#include <mntent.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/base.h"
#include "e2e.h"
#include "testutil.h"
#include <jansson.h>

static tu_env env;

/* The loop every test leaves behind (@L in a script), its pid in src/loop.pid. */
static const char loop_cmd[] = "(sh -c 'echo $$ > @P/src/loop.pid; while :; do echo x >> "
                               "@P/src/f; sleep 0.1; done' > /dev/null 2>&1 &);";

static void setup(void) {
        tu_env_setup(&env);
        tu_write(env.project, "src/main.c", "int main(void) { return 0; }\n");
}

/* A loop that survived (before the fix) must not outlive the test. */
static void kill_loop(const char *rel) {
        char *text = tu_read_at(env.project, rel);
        int pid = text ? atoi(text) : 0;

        if (pid > 1)
                kill(pid, SIGKILL);
        free(text);
}

static void teardown(void) {
        kill_loop("src/loop.pid");
        tu_env_teardown(&env);
}

TestSuite(hostile_proc_cli, .init = setup, .fini = teardown, .timeout = 120);

#define POD(r, ...) tu_run_pod(r, &env, env.project, (const char *const[]){ __VA_ARGS__, NULL })
#define SPAWNER_TOOLS "tools: [Read, Write, Bash, SpawnPod, WaitPod, StopPod]\n"

static void profile(const char *slug, const char *front, const char *script) {
        e2e_profile(&env, &(e2e_profile_opts){ .loop = loop_cmd }, slug, front, script);
}

static long long size_of(const char *path) {
        struct stat st;

        return stat(path, &st) == 0 ? (long long) st.st_size : -1;
}

/* Whether src/f stops growing: the same size over three looks apart, within a bounded wait
 * (a loop left running appends every 0.1 s, so it never settles). */
static bool settles(void) {
        char *path = tu_path(env.project, "src/f");
        long long last = size_of(path);
        int same = 0;

        for (int i = 0; i < 60 && same < 3; i++) {
                long long now;
                usleep(300 * 1000);
                now = size_of(path);
                same = now == last ? same + 1 : 0;
                last = now;
        }
        free(path);
        return same >= 3;
}

/* src/f holds marker, and no x was appended after it. */
static void assert_nothing_after(const char *marker) {
        char *text = tu_read_at(env.project, "src/f");
        const char *at = text ? strstr(text, marker) : NULL;

        cr_assert_not_null(at, "src/f lacks '%s': %s", marker, text ? text : "(none)");
        cr_assert_null(strstr(at, "x\n"), "the loop wrote after '%s': %s", marker, at);
        free(text);
}

Test(hostile_proc_cli, a_spawners_loop_is_gone_before_a_child_gets_the_lease) {
        char *t;
        bool ok;

        profile("kid", "tools: [Bash]\n",
                "{\"turns\": [{\"call\": [{\"tool\": \"Bash\", \"input\": {\"command\": "
                "\"echo child >> @P/src/f\"}}]}, {\"say\": \"kid done\"}]}");
        profile("boss", SPAWNER_TOOLS,
                "{\"turns\": [{\"call\": [{\"tool\": \"Bash\", \"input\": {\"command\": \""
                "@L sleep 0.3\"}}]},"
                " {\"call\": [{\"tool\": \"SpawnPod\", \"input\": {\"name\": \"c\", "
                "\"task\": \"t\", \"profile\": \"kid\", \"scope\": [{\"path\": \"@P/src\", "
                "\"access\": \"write\"}]}}]},"
                " {\"call\": [{\"tool\": \"WaitPod\", \"input\": {}}]},"
                " {\"say\": \"done\"}]}");
        e2e_run_ok(&env, "project:boss");
        cr_assert(settles(), "src/f still grows after the run");
        assert_nothing_after("child\n");
        t = e2e_result_in(&env, "c", "Bash", 0, &ok);
        cr_assert(ok, "the child writes under its lease: %s", t);
        free(t);
        t = e2e_result_in(&env, NULL, "Bash", 0, &ok);
        cr_assert(ok && strstr(t, "[killed ") && strstr(t, " left running by the command: pid ") &&
                          strstr(t, " (sh)"),
                  "the result names the process killed: %s", t);
        free(t);
}

/* The child's command still runs when it is stopped; its loop must not outlive it. */
Test(hostile_proc_cli, a_stopped_childs_loop_ends_before_its_lease_returns) {
        char *t;
        bool ok;

        profile("leaver", "tools: [Bash]\n",
                "{\"turns\": [{\"call\": [{\"tool\": \"Bash\", \"input\": {\"command\": \""
                "@L sleep 60\", \"timeout_s\": 100}}]},"
                " {\"say\": \"leaver done\"}]}");
        profile("boss", SPAWNER_TOOLS,
                "{\"turns\": [{\"call\": [{\"tool\": \"SpawnPod\", \"input\": {\"name\": \"c\", "
                "\"task\": \"t\", \"profile\": \"leaver\", \"scope\": [{\"path\": \"@P/src\", "
                "\"access\": \"write\"}]}}]},"
                " {\"call\": [{\"tool\": \"Bash\", \"input\": {\"command\": \"for i in $(seq 300); "
                "do [ -s src/f ] && break; sleep 0.1; done; cat src/loop.pid\"}}]},"
                " {\"call\": [{\"tool\": \"StopPod\", \"input\": {\"name\": \"c\"}}]},"
                " {\"call\": [{\"tool\": \"Bash\", \"input\": {\"command\": "
                "\"echo spawner >> src/f\"}}]},"
                " {\"say\": \"done\"}]}");
        e2e_run_ok(&env, "project:boss");
        t = e2e_result_in(&env, NULL, "Bash", 0, &ok);
        cr_assert(ok && !strstr(t, "[killed"),
                  "the spawner's command ended without touching its live child's processes: %s", t);
        free(t);
        t = e2e_result_in(&env, NULL, "StopPod", 0, &ok);
        cr_assert(ok && strstr(t, "Stopped pod 'c'") && strstr(t, "lease is back"),
                  "the child was alive until StopPod: %s", t);
        free(t);
        t = e2e_result_in(&env, NULL, "Bash", 1, &ok);
        cr_assert(ok, "the spawner writes once the lease is back: %s", t);
        free(t);
        cr_assert(settles(), "src/f still grows after the run");
        assert_nothing_after("spawner\n");
}

/* The child's command ended, its loop left behind; the child idles, then is stopped. */
Test(hostile_proc_cli, a_childs_loop_ends_with_its_command) {
        char *t;
        bool ok;

        profile("leaver", "tools: [Bash]\n",
                "{\"turns\": [{\"call\": [{\"tool\": \"Bash\", \"input\": {\"command\": \""
                "@L sleep 0.3\"}}]},"
                " {\"say\": \"leaver done\"}]}");
        profile("boss", SPAWNER_TOOLS,
                "{\"turns\": [{\"call\": [{\"tool\": \"SpawnPod\", \"input\": {\"name\": \"c\", "
                "\"task\": \"t\", \"profile\": \"leaver\", \"scope\": [{\"path\": \"@P/src\", "
                "\"access\": \"write\"}]}}]},"
                " {\"call\": [{\"tool\": \"WaitPod\", \"input\": {}}]},"
                " {\"call\": [{\"tool\": \"StopPod\", \"input\": {\"name\": \"c\"}}]},"
                " {\"call\": [{\"tool\": \"Bash\", \"input\": {\"command\": "
                "\"echo spawner >> src/f\"}}]},"
                " {\"say\": \"done\"}]}");
        e2e_run_ok(&env, "project:boss");
        cr_assert(settles(), "src/f still grows after the run");
        assert_nothing_after("spawner\n");
        t = e2e_result_in(&env, "c", "Bash", 0, &ok);
        cr_assert(strstr(t, "[killed ") && strstr(t, " left running by the command: pid "),
                  "the child's result names the process killed: %s", t);
        free(t);
}

Test(hostile_proc_cli, nothing_a_command_left_writes_after_pod_run_returns) {
        profile("loner", "tools: [Bash]\n",
                "{\"turns\": [{\"call\": [{\"tool\": \"Bash\", \"input\": {\"command\": \""
                "@L sleep 0.3\"}}]},"
                " {\"say\": \"done\"}]}");
        e2e_run_ok(&env, "project:loner");
        {
                /* Whatever the loop wrote so far, then a line of our own to look after. */
                FILE *f;
                char *path = tu_path(env.project, "src/f");
                f = fopen(path, "a");
                cr_assert_not_null(f);
                fputs("returned\n", f);
                fclose(f);
                free(path);
        }
        cr_assert(settles(), "src/f still grows after pod run returned");
        assert_nothing_after("returned\n");
}

/* The child dies at once (SIGKILL, from outside), its command's loop still running: the loop
 * becomes its spawner's (a subreaper), which kills it as the lease comes back. */
Test(hostile_proc_cli, a_killed_childs_loop_is_killed_by_its_spawner) {
        char *out = tu_path(env.root, "boss.out"), *entry = tu_path(env.runtime, "pods/c/pod.json");
        char *loop = tu_path(env.project, "src/loop.pid"), *text, *t;
        json_t *j;
        pid_t boss, kid;
        bool ok;

        profile("leaver", "tools: [Bash]\n",
                "{\"turns\": [{\"call\": [{\"tool\": \"Bash\", \"input\": {\"command\": \""
                "@L sleep 60\", \"timeout_s\": 100}}]},"
                " {\"say\": \"leaver done\"}]}");
        profile("boss", SPAWNER_TOOLS,
                "{\"turns\": [{\"call\": [{\"tool\": \"SpawnPod\", \"input\": {\"name\": \"c\", "
                "\"task\": \"t\", \"profile\": \"leaver\", \"scope\": [{\"path\": \"@P/src\", "
                "\"access\": \"write\"}]}}]},"
                " {\"call\": [{\"tool\": \"Bash\", \"input\": {\"command\": \"for i in $(seq 600); "
                "do [ -e src/dead ] && break; sleep 0.1; done\", \"timeout_s\": 100}}]},"
                " {\"call\": [{\"tool\": \"WaitPod\", \"input\": {}}]},"
                " {\"call\": [{\"tool\": \"Bash\", \"input\": {\"command\": "
                "\"echo spawner >> src/f\"}}]},"
                " {\"say\": \"done\"}]}");
        boss = tu_spawn_pod(&env, env.project,
                            (const char *const[]){ "--profile", "project:boss", "go", NULL }, out);
        cr_assert(tu_wait_for_path(loop, 30000), "the child's loop never started");
        text = tu_read(entry);
        j = text ? json_loads(text, 0, NULL) : NULL;
        kid = (pid_t) json_integer_value(json_object_get(j, "pid"));
        cr_assert_gt(kid, 1, "no pid in the child's entry: %s", text ? text : "(none)");
        kill(kid, SIGKILL);
        tu_write(env.project, "src/dead", "");
        cr_assert_eq(tu_wait(boss), 0, "the spawner failed: %s", tu_read(out));
        cr_assert(settles(), "src/f still grows after the run");
        assert_nothing_after("spawner\n");
        /* Killed when the spawner's command ended (its first look after the child died), or
         * when WaitPod found the child gone; the result says so either way. */
        t = e2e_result_in(&env, NULL, "Bash", 0, &ok);
        if (!strstr(t, "[killed ")) {
                free(t);
                t = e2e_result_in(&env, NULL, "WaitPod", 0, &ok);
        }
        cr_assert(strstr(t, "[killed ") && strstr(t, " left running by "),
                  "the spawner's result names what it killed: %s", t);
        free(t);
        json_decref(j);
        free(text);
        free(loop);
        free(entry);
        free(out);
}

/* ---- a cgroup per pod, where pods get one (docs/sandbox.md, Containment) ---------------- */

/* A pod that has no cgroup, run with a limit set, says why on its stderr: the tests that need
 * one skip with that. */
static void skip_without_cgroup(const char *out_path) {
        char *out = tu_read(out_path), *line = out ? strstr(out, "no cgroup of its own") : NULL;

        if (line) {
                char why[400];
                snprintf(why, sizeof(why), "pods get no cgroup here: %.*s",
                         (int) strcspn(line, "\n"), line);
                free(out);
                cr_skip_test("%s", why);
        }
        free(out);
}

/* The cgroup v2 path of pid ("0::<path>"), or NULL. Caller frees. */
static char *cgroup_of(pid_t pid) {
        char path[64], *text, *line, *end;

        snprintf(path, sizeof(path), "/proc/%d/cgroup", (int) pid);
        text = tu_read(path);
        line = text ? strstr(text, "0::") : NULL;
        if (!line || (line != text && line[-1] != '\n')) {
                free(text);
                return NULL;
        }
        end = line + strcspn(line, "\n");
        *end = '\0';
        line = strdup(line + 3);
        free(text);
        return line;
}

/* Where cgroup2 is mounted, or NULL. Caller frees. */
static char *cgroup2_mount(void) {
        FILE *f = setmntent("/proc/self/mounts", "r");
        struct mntent *m;
        char *found = NULL;

        while (f && !found && (m = getmntent(f)))
                if (strcmp(m->mnt_type, "cgroup2") == 0)
                        found = strdup(m->mnt_dir);
        if (f)
                endmntent(f);
        return found;
}

/* The pid in src/loop.pid. */
/* The loop's pid once its line is whole: the shell creates src/loop.pid before it writes it
 * (the bound of 3000 tries only stops a hang). */
static pid_t loop_pid(void) {
        pid_t pid = 0;

        for (int i = 0; i < 3000 && pid <= 0; i++) {
                char *text = tu_read_at(env.project, "src/loop.pid");
                if (text && strchr(text, '\n'))
                        pid = (pid_t) atoi(text);
                else
                        usleep(10 * 1000);
                free(text);
        }
        return pid;
}

/*
 * The child dies at once (SIGKILL), its loop running: the loop was in the child's cgroup, in
 * its spawner's, and that cgroup is killed and removed once the spawner reaps the child.
 */
Test(hostile_proc_cli, a_killed_childs_cgroup_is_killed_and_removed_by_its_spawner) {
        char *out = tu_path(env.root, "boss.out"), *entry = tu_path(env.runtime, "pods/c/pod.json");
        char *loop = tu_path(env.project, "src/loop.pid"), *text, *where, *mount, *dir;
        char expect[64];
        json_t *j;
        pid_t boss, kid;

        env.extra_env[0] = "POD_CGROUP_PER_CHILD=1"; /* a cgroup of its own for each child */
        env.extra_env[1] = "POD_PIDS_MAX=4096"; /* a limit set: a pod without a cgroup says so */
        profile("leaver", "tools: [Bash]\n",
                "{\"turns\": [{\"call\": [{\"tool\": \"Bash\", \"input\": {\"command\": \""
                "@L sleep 60\", \"timeout_s\": 100}}]},"
                " {\"say\": \"leaver done\"}]}");
        profile("boss", SPAWNER_TOOLS,
                "{\"turns\": [{\"call\": [{\"tool\": \"SpawnPod\", \"input\": {\"name\": \"c\", "
                "\"task\": \"t\", \"profile\": \"leaver\", \"scope\": [{\"path\": \"@P/src\", "
                "\"access\": \"write\"}]}}]},"
                " {\"call\": [{\"tool\": \"WaitPod\", \"input\": {}}]},"
                " {\"call\": [{\"tool\": \"Bash\", \"input\": {\"command\": "
                "\"echo spawner >> src/f\"}}]},"
                " {\"say\": \"done\"}]}");
        boss = tu_spawn_pod(&env, env.project,
                            (const char *const[]){ "--profile", "project:boss", "go", NULL }, out);
        cr_assert(tu_wait_for_path(loop, 30000), "the child's loop never started");
        skip_without_cgroup(out);
        where = cgroup_of(loop_pid());
        snprintf(expect, sizeof(expect), "/pod-boss-%d/pod-c/self", (int) boss);
        cr_assert(where && str_endswith(where, expect),
                  "the child's loop is in the child's cgroup (…%s): %s", expect,
                  where ? where : "(none)");
        text = tu_read(entry);
        j = text ? json_loads(text, 0, NULL) : NULL;
        kid = (pid_t) json_integer_value(json_object_get(j, "pid"));
        cr_assert_gt(kid, 1, "no pid in the child's entry: %s", text ? text : "(none)");
        kill(kid, SIGKILL);
        cr_assert_eq(tu_wait(boss), 0, "the spawner failed: %s", tu_read(out));
        cr_assert(settles(), "src/f still grows after the run");
        assert_nothing_after("spawner\n");
        mount = cgroup2_mount();
        cr_assert_not_null(mount);
        *strrchr(where, '/') = '\0'; /* the child's cgroup */
        dir = tu_path(mount, where + 1);
        cr_assert_eq(access(dir, F_OK), -1, "the child's cgroup %s is removed", dir);
        free(dir);
        free(mount);
        free(where);
        json_decref(j);
        free(text);
        free(loop);
        free(entry);
        free(out);
}

/*
 * A top-level pod killed outright (SIGKILL) has no one above it to end its loop: the next pod
 * run in the same cgroup finds its cgroup, its pod gone, and kills what it holds first.
 */
Test(hostile_proc_cli, a_killed_top_level_pods_loop_is_killed_by_the_next_pod) {
        char *out = tu_path(env.root, "loner.out"), *loop = tu_path(env.project, "src/loop.pid");
        char *where;
        pid_t loner;

        env.extra_env[0] = "POD_PIDS_MAX=4096"; /* a limit set: a pod without a cgroup says so */
        profile("loner", "tools: [Bash]\n",
                "{\"turns\": [{\"call\": [{\"tool\": \"Bash\", \"input\": {\"command\": \""
                "@L sleep 60\", \"timeout_s\": 100}}]},"
                " {\"say\": \"loner done\"}]}");
        profile("next", "tools: [Bash]\n",
                "{\"turns\": [{\"call\": [{\"tool\": \"Bash\", \"input\": {\"command\": "
                "\"echo next >> src/f\"}}]},"
                " {\"say\": \"done\"}]}");
        loner = tu_spawn_pod(&env, env.project,
                             (const char *const[]){ "--profile", "project:loner", "go", NULL },
                             out);
        cr_assert(tu_wait_for_path(loop, 30000), "the loop never started");
        skip_without_cgroup(out);
        where = cgroup_of(loop_pid());
        cr_assert(where && strstr(where, "/pod-loner-") && str_endswith(where, "/self"),
                  "the loop is in the pod's cgroup: %s", where ? where : "(none)");
        kill(loner, SIGKILL);
        tu_wait(loner);
        e2e_run_ok(&env, "project:next");
        cr_assert(settles(), "src/f still grows after the next pod ran");
        assert_nothing_after("next\n");
        free(where);
        free(loop);
        free(out);
}
