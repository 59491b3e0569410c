/* SPDX-License-Identifier: MIT */
/*
 * A cgroup v2 subtree per pod (contain.c, docs/sandbox.md, Containment): the limits' settings,
 * and, where this process can make a cgroup (cgroup2 mounted, its own cgroup writable), the
 * operations: a top-level pod's cgroup with the pod in its leaf, a child's with the limits,
 * joined between clone and exec, killed and removed; a straggler the walk cannot see (an
 * orphan of a process that is no subreaper) ended through the cgroup; a dead pod's cgroup
 * swept by the next. Each test that needs a cgroup skips, with the reason, where there is none.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "base/base.h"
#include "testutil.h"

TestSuite(cgroup, .timeout = 60);

static int limits(pod_cgroup_limits *l, const char *pids, const char *mem, pod_error *err) {
        char a[64], b[64];
        char *envp[3] = { NULL };
        size_t n = 0;

        if (pids) {
                snprintf(a, sizeof(a), "POD_PIDS_MAX=%s", pids);
                envp[n++] = a;
        }
        if (mem) {
                snprintf(b, sizeof(b), "POD_MEMORY_MAX=%s", mem);
                envp[n++] = b;
        }
        *err = (pod_error){ 0 };
        return contain_limits_from_env(l, envp, err);
}

Test(cgroup, limits_have_defaults_and_take_numbers_sizes_and_max) {
        pod_cgroup_limits l;
        pod_error err;

        cr_assert_eq(limits(&l, NULL, NULL, &err), 0, "%s", err.msg);
        cr_assert_str_eq(l.pids, POD_PIDS_MAX_DEFAULT);
        cr_assert_str_eq(l.memory, "8589934592");
        cr_assert_not(l.set);
        cr_assert_eq(limits(&l, "512", "4G", &err), 0, "%s", err.msg);
        cr_assert_str_eq(l.pids, "512");
        cr_assert_str_eq(l.memory, "4294967296");
        cr_assert(l.set);
        cr_assert_eq(limits(&l, "max", "max", &err), 0, "%s", err.msg);
        cr_assert_str_eq(l.pids, "max");
        cr_assert_str_eq(l.memory, "max");
        cr_assert_eq(limits(&l, NULL, "1048576", &err), 0, "%s", err.msg);
        cr_assert_str_eq(l.memory, "1048576");
}

Test(cgroup, bad_limits_get_a_one_line_error_naming_the_setting) {
        const char *bad_pids[] = {
                "0", "-1", "12x", "4194305", "1e3", " 5", "99999999999999999999999", "5K"
        };
        const char *bad_mem[] = { "0", "1K", "10Q", "G", "2P", "-4G", "1.5G" };
        pod_cgroup_limits l;
        pod_error err;

        for (size_t i = 0; i < sizeof(bad_pids) / sizeof(*bad_pids); i++) {
                cr_assert_eq(limits(&l, bad_pids[i], NULL, &err), -EINVAL, "%s", bad_pids[i]);
                cr_assert(strstr(err.msg, "POD_PIDS_MAX") && !strchr(err.msg, '\n'), "%s", err.msg);
        }
        for (size_t i = 0; i < sizeof(bad_mem) / sizeof(*bad_mem); i++) {
                cr_assert_eq(limits(&l, NULL, bad_mem[i], &err), -EINVAL, "%s", bad_mem[i]);
                cr_assert(strstr(err.msg, "POD_MEMORY_MAX") && !strchr(err.msg, '\n'), "%s",
                          err.msg);
        }
}

/* This process as a top-level pod named name, in a cgroup of its own; skips where it cannot. */
static void start_top(const char *name, const char *pids) {
        pod_cgroup_limits l;
        pod_error err;
        const char *note;

        cr_assert_eq(limits(&l, pids, NULL, &err), 0, "%s", err.msg);
        note = contain_cgroup_start(name, true, &l, NULL);
        if (!contain_cgroup_path())
                cr_skip_test("no cgroup for a pod here: %s", note ? note : "(no reason)");
}

/* The cgroup v2 path of pid ("0::<path>"). Caller frees. */
static char *cgroup_of(pid_t pid) {
        char path[64], *text, *line;

        snprintf(path, sizeof(path), "/proc/%d/cgroup", (int) pid);
        text = tu_read(path);
        cr_assert_not_null(text);
        line = strstr(text, "0::");
        cr_assert_not_null(line, "%s", text);
        line[3 + strcspn(line + 3, "\n")] = '\0';
        line = strdup(line + 3);
        free(text);
        return line;
}

/* A child "kid" of this pod, started through proc_spawn into its cgroup: sleep 60. */
static pid_t spawn_kid(char ***env) {
        char *argv[] = { "sleep", "60", NULL };
        pod_error err = { 0 };
        pid_t pid;
        int fd;

        setenv("POD_CGROUP_PER_CHILD", "1", 1); /* a cgroup of its own for each child */
        cr_assert_eq(contain_cgroup_child("kid", -1, &fd, env, &err), 0, "%s", err.msg);
        cr_assert_geq(fd, 0);
        proc_plan p = { .path = "/bin/sleep", .argv = argv, .envp = *env, .cgroup_fd = fd };
        cr_assert_eq(proc_spawn(&pid, &p, &err), 0, "%s", err.msg);
        close(fd);
        return pid;
}

Test(cgroup, a_pod_sits_in_its_leaf_and_a_child_in_its_own_cgroup_until_it_is_killed) {
        pod_stragglers s = { 0 };
        char **env = NULL, *own, *kid, *path;
        pid_t pid;
        int status;

        start_top("t", NULL);
        own = cgroup_of(getpid());
        cr_assert(str_endswith(own, "/self") && strstr(own, "/pod-t-"), "%s", own);
        pid = spawn_kid(&env);
        kid = cgroup_of(pid);
        *strrchr(own, '/') = '\0';
        cr_assert(str_startswith(kid, own) && str_endswith(kid, "/pod-kid/self"), "%s", kid);
        cr_assert(env && str_startswith(env[0], "POD_CGROUP=") && str_endswith(env[0], "/pod-kid"),
                  "the child learns its cgroup: %s", env ? env[0] : "(none)");
        contain_cgroup_end_child("kid", &s);
        cr_assert_eq(waitpid(pid, &status, 0), pid);
        cr_assert(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
        cr_assert_eq(s.killed, 1, "the report counts the child's process");
        path = tu_path(contain_cgroup_path(), "pod-kid");
        cr_assert_eq(access(path, F_OK), -1, "the child's cgroup is removed: %s", path);
        free(path);
        path = strdup(contain_cgroup_path());
        contain_cgroup_end(&s);
        cr_assert_eq(access(path, F_OK), -1, "the pod's cgroup is removed at its end: %s", path);
        free(path);
        free(kid);
        free(own);
        strv_free(env);
}

/*
 * A process in the pod's leaf that no walk reaches: the orphan of a double fork while this
 * process is no subreaper goes to init. contain_kill ends it through the cgroup.
 */
Test(cgroup, a_straggler_out_of_the_walks_reach_is_ended_through_the_cgroup) {
        pod_stragglers s = { 0 };
        char *dir = tu_tmpdir(), *file = tu_path(dir, "pid"), *text;
        pid_t pid, orphan;

        setenv("POD_CGROUP_PER_CHILD", "1", 1); /* the backstop comes with a cgroup per child */

        start_top("t", NULL);
        pid = fork();
        cr_assert_geq(pid, 0);
        if (pid == 0) {
                execl("/bin/sh", "sh", "-c",
                      "setsid sh -c 'echo $$ > \"$0\"; exec sleep 60' \"$0\" &", file,
                      (char *) NULL);
                _exit(127);
        }
        cr_assert_eq(tu_wait(pid), 0);
        cr_assert(tu_wait_for_path(file, 10000));
        do
                text = tu_read(file);
        while ((!text || !strchr(text, '\n')) && (free(text), usleep(10000), 1));
        orphan = (pid_t) atoi(text);
        cr_assert_gt(orphan, 1);
        cr_assert_eq(kill(orphan, 0), 0, "the orphan runs");
        cr_assert_eq(contain_kill(&s, NULL, 0), 0);
        cr_assert_eq(s.killed, 1, "the cgroup names the orphan the walk cannot see");
        for (int i = 0; i < 1000 && kill(orphan, 0) == 0; i++)
                usleep(10000); /* init reaps it */
        cr_assert_neq(kill(orphan, 0), 0, "the orphan is gone");
        contain_cgroup_end(&s);
        free(text);
        tu_rm_rf(dir);
        free(dir);
        free(file);
}

Test(cgroup, a_childs_cgroup_gets_the_pids_limit) {
        char **env = NULL, *path, *text;
        pod_stragglers s = { 0 };
        pid_t pid;

        start_top("t", "77");
        path = tu_path(contain_cgroup_path(), "pod-kid/pids.max");
        pid = spawn_kid(&env);
        if (access(path, F_OK) < 0) {
                char why[512];
                snprintf(why, sizeof(why), "no pids controller in %s", contain_cgroup_path());
                contain_cgroup_end(&s);
                waitpid(pid, NULL, 0);
                cr_skip_test("%s", why);
        }
        text = tu_read(path);
        cr_assert(text && strcmp(text, "77\n") == 0, "pids.max: %s", text ? text : "(none)");
        contain_cgroup_end(&s);
        waitpid(pid, NULL, 0);
        free(text);
        free(path);
        strv_free(env);
}

/* Without a cgroup it may write (here: as user nobody), a pod starts all the same and says why. */
Test(cgroup, without_a_delegated_cgroup_a_pod_fails_soft_and_says_why) {
        pod_cgroup_limits l;
        pod_error err;
        pid_t pid;
        int status;

        if (geteuid() != 0)
                cr_skip_test("needs root to become user nobody");
        cr_assert_eq(limits(&l, NULL, NULL, &err), 0, "%s", err.msg);
        pid = fork();
        cr_assert_geq(pid, 0);
        if (pid == 0) {
                const char *note;
                if (setgid(65534) < 0 || setuid(65534) < 0)
                        _exit(2);
                note = contain_cgroup_start("u", true, &l, NULL);
                _exit(!contain_cgroup_path() && note && !strchr(note, '\n') &&
                                      (strstr(note, "cannot make a cgroup") ||
                                       strstr(note, "no cgroup2") || strstr(note, "in no cgroup")) ?
                              0 :
                              1);
        }
        cr_assert_eq(waitpid(pid, &status, 0), pid);
        cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0,
                  "as nobody: no cgroup, and a one-line reason (status %d)", status);
}

/* A top-level pod that died without ending its cgroup: the next one kills what it held. */
Test(cgroup, a_dead_pods_cgroup_is_swept_by_the_next_pod) {
        char *dir = tu_tmpdir(), *file = tu_path(dir, "pid"), *text;
        pod_stragglers s = { 0 };
        pid_t pid, left;
        int status;

        /* In a cgroup of its own first, so that no other test's sweep sees the dead pod's:
         * the next sweep of its parent removes it. Skips where there is no cgroup. */
        start_top("apart", NULL);
        pid = fork();
        cr_assert_geq(pid, 0);
        if (pid == 0) {
                pod_cgroup_limits l;
                pod_error err;
                if (contain_limits_from_env(&l, NULL, &err) < 0)
                        _exit(2);
                contain_cgroup_start("dead", true, &l, NULL);
                execl("/bin/sh", "sh", "-c",
                      "setsid sh -c 'echo $$ > \"$0\"; exec sleep 60' \"$0\" &", file,
                      (char *) NULL);
                _exit(127);
        }
        cr_assert_eq(waitpid(pid, &status, 0), pid);
        cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
        cr_assert(tu_wait_for_path(file, 10000));
        do
                text = tu_read(file);
        while ((!text || !strchr(text, '\n')) && (free(text), usleep(10000), 1));
        left = (pid_t) atoi(text);
        cr_assert_eq(kill(left, 0), 0, "what the dead pod left runs");
        start_top("t", NULL);
        cr_assert(contain_cgroup_swept() && strstr(contain_cgroup_swept(), "[killed 1 process "),
                  "the sweep says what it killed: %s", contain_cgroup_swept() ?: "(nothing)");
        for (int i = 0; i < 1000 && kill(left, 0) == 0; i++)
                usleep(10000); /* init reaps it */
        cr_assert_neq(kill(left, 0), 0, "what the dead pod left is gone");
        contain_cgroup_end(&s);
        free(text);
        tu_rm_rf(dir);
        free(dir);
        free(file);
}
