/* SPDX-License-Identifier: MIT */
/*
 * Containment (contain.c): the test process becomes a subreaper, as a pod does, leaves
 * processes running the ways a command can (a setsid double fork, a forking loop, a zombie),
 * and checks that contain_kill ends them all but the kept ones, reaps only its orphans, and
 * reports them within bounds.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "base/base.h"
#include "testutil.h"

static char *dir;

static void setup(void) {
        pod_error err = { 0 };

        dir = tu_tmpdir();
        cr_assert_eq(contain_self(&err), 0, "%s", err.msg);
}

static void teardown(void) {
        pod_stragglers s = { 0 };

        contain_kill(&s, NULL, 0); /* nothing a failed test started stays */
        tu_rm_rf(dir);
        free(dir);
}

TestSuite(contain, .init = setup, .fini = teardown, .timeout = 60);

/* Run script with sh, as a command does, in dir; wait for the sh itself. */
static void sh(const char *script) {
        pid_t pid = fork();

        cr_assert_geq(pid, 0);
        if (pid == 0) {
                if (chdir(dir) < 0)
                        _exit(126);
                execl("/bin/sh", "sh", "-c", script, (char *) NULL);
                _exit(127);
        }
        cr_assert_eq(tu_wait(pid), 0);
}

/* The pid a script wrote to dir/name. */
static pid_t pid_in(const char *name) {
        char *path = tu_path(dir, name), *text;
        pid_t pid;

        cr_assert(tu_wait_for_path(path, 10000), "%s never appeared", name);
        for (int i = 0; i < 1000; i++) { /* written, not only created */
                text = tu_read(path);
                if (text && strchr(text, '\n'))
                        break;
                free(text);
                text = NULL;
                usleep(10000);
        }
        cr_assert_not_null(text);
        pid = (pid_t) atoi(text);
        free(text);
        free(path);
        return pid;
}

static bool alive(pid_t pid) {
        return kill(pid, 0) == 0;
}

Test(contain, a_setsid_double_forked_orphan_is_killed_and_reaped) {
        pod_stragglers s = { 0 };
        pid_t orphan;
        bool listed = false;

        sh("(setsid sh -c 'echo $$ > orphan.pid; exec sleep 300' &)");
        orphan = pid_in("orphan.pid");
        cr_assert(alive(orphan), "the straggler runs after its command ended");
        cr_assert_eq(contain_kill(&s, NULL, 0), 0);
        cr_assert_eq(s.killed, 1);
        cr_assert_eq(s.left, 0);
        for (unsigned i = 0; i < s.n_listed; i++)
                listed |= s.listed[i].pid == orphan && strcmp(s.listed[i].comm, "sleep") == 0;
        cr_assert(listed, "the report names pid %d (sleep)", (int) orphan);
        cr_assert_not(alive(orphan), "killed, and reaped (no zombie left)");
}

static void *spin(void *arg) {
        (void) arg;
        for (;;)
                pause();
        return NULL;
}

Test(contain, a_process_whose_first_thread_exited_is_killed_too) {
        pod_stragglers s = { 0 };
        pid_t kid = fork();
        char path[64];

        cr_assert_geq(kid, 0);
        if (kid == 0) { /* shows as a zombie while its other thread runs on */
                pthread_t th;
                pthread_create(&th, NULL, spin, NULL);
                pthread_exit(NULL);
        }
        snprintf(path, sizeof(path), "/proc/%d/stat", (int) kid);
        for (int i = 0; i < 1000; i++) {
                char *stat = tu_read(path);
                bool leaderless = stat && strstr(stat, ") Z ");
                free(stat);
                if (leaderless)
                        break;
                usleep(10000);
        }
        cr_assert_eq(contain_kill(&s, NULL, 0), 0);
        kill(kid, SIGKILL); /* whatever the verdict, it goes */
        cr_assert_eq(s.killed, 1);
        cr_assert_eq(access(path, F_OK), -1, "killed and reaped");
}

Test(contain, kept_processes_and_their_descendants_are_left_alone) {
        pod_stragglers s = { 0 };
        pid_t kid = fork(), grandchild;

        cr_assert_geq(kid, 0);
        if (kid == 0) { /* a child pod, with a process of its own */
                if (chdir(dir) < 0)
                        _exit(126);
                execl("/bin/sh", "sh", "-c", "sleep 300 & echo $! > grandchild.pid; wait",
                      (char *) NULL);
                _exit(127);
        }
        grandchild = pid_in("grandchild.pid");
        cr_assert_eq(contain_kill(&s, &kid, 1), 0);
        cr_assert_eq(s.killed, 0);
        cr_assert(alive(kid) && alive(grandchild));
        kill(grandchild, SIGKILL);
        kill(kid, SIGKILL);
        waitpid(kid, NULL, 0);
}

Test(contain, a_forking_straggler_is_killed_to_the_last_process) {
        pod_stragglers s = { 0 }, again = { 0 };
        pid_t loop;

        sh("(setsid sh -c 'echo $$ > loop.pid; while :; do sleep 300 & done' &)");
        loop = pid_in("loop.pid");
        cr_assert_eq(contain_kill(&s, NULL, 0), 0);
        cr_assert_geq(s.killed, 1);
        cr_assert_eq(s.left, 0, "%u processes outlived the rounds", s.left);
        cr_assert_not(alive(loop));
        cr_assert_eq(contain_kill(&again, NULL, 0), 0);
        cr_assert_eq(again.killed, 0, "nothing was left for a second walk");
}

/* A children list longer than one read of it (over 4 KiB of pids). */
Test(contain, a_thousand_children_are_all_killed) {
        enum { N = 1000 };
        pod_stragglers s = { 0 };
        pid_t last = 0;

        for (int i = 0; i < N; i++) {
                pid_t kid = fork();
                cr_assert_geq(kid, 0);
                if (kid == 0) {
                        pause();
                        _exit(0);
                }
                last = kid;
        }
        cr_assert_eq(contain_kill(&s, NULL, 0), 0);
        cr_assert_eq(s.killed, N);
        cr_assert_eq(s.n_listed, POD_STRAGGLERS_LISTED);
        cr_assert_eq(s.left, 0);
        cr_assert_not(alive(last));
}

Test(contain, only_orphans_are_reaped_and_a_kept_childs_status_stays) {
        pod_stragglers s = { 0 };
        pid_t kept = fork(), other;
        int status = 0;

        cr_assert_geq(kept, 0);
        if (kept == 0)
                _exit(7);
        other = fork();
        cr_assert_geq(other, 0);
        if (other == 0)
                _exit(0);
        /* Both zombies: waited for without reaping either. */
        {
                siginfo_t si = { 0 };
                cr_assert_eq(waitid(P_PID, (id_t) kept, &si, WEXITED | WNOWAIT), 0);
                cr_assert_eq(waitid(P_PID, (id_t) other, &si, WEXITED | WNOWAIT), 0);
        }
        cr_assert_eq(contain_kill(&s, &kept, 1), 0);
        cr_assert_eq(s.killed, 0, "a dead process is reaped, not counted as killed");
        cr_assert_eq(waitpid(other, NULL, WNOHANG), -1, "the orphan's zombie is reaped");
        cr_assert_eq(waitpid(kept, &status, 0), kept, "the kept child's status is its caller's");
        cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 7);
}

Test(contain, the_report_is_bounded_and_names_are_printable) {
        pod_stragglers s = { 0 };
        pod_buf b = { 0 };
        pid_t kid = fork();

        cr_assert_geq(kid, 0);
        if (kid == 0) {
                prctl(PR_SET_NAME, "a\nb]\x1b[2J", 0, 0, 0);
                pause();
                _exit(0);
        }
        for (int i = 0; i < 1000; i++) { /* the name is set */
                char path[64], *stat;
                snprintf(path, sizeof(path), "/proc/%d/stat", (int) kid);
                stat = tu_read(path);
                bool named = stat && strstr(stat, "(a\nb]");
                free(stat);
                if (named)
                        break;
                usleep(10000);
        }
        cr_assert_eq(contain_kill(&s, NULL, 0), 0);
        cr_assert_eq(s.killed, 1);
        cr_assert_str_eq(s.listed[0].comm, "a?b]?[2J");
        s.killed = 20;
        contain_describe(&b, &s, "the command");
        cr_assert(strstr(buf_str(&b), "[killed 20 processes left running by the command: pid "),
                  "%s", buf_str(&b));
        cr_assert(strstr(buf_str(&b), "(a?b]?[2J), and 19 more]\n"), "%s", buf_str(&b));
        cr_assert_eq(tu_lines(buf_str(&b)), 1);
        buf_done(&b);
        b = (pod_buf){ 0 };
        contain_describe(&b, &(pod_stragglers){ 0 }, "the command");
        cr_assert_eq(b.len, 0, "nothing to say, nothing said");
        contain_describe(&b, &(pod_stragglers){ .left = 2, .error = -EACCES }, "the command");
        cr_assert_str_eq(buf_str(&b),
                         "[2 processes left running by the command outlived 200 rounds of "
                         "SIGKILL]\n[cannot look for processes left running by the command: "
                         "Permission denied]\n");
        buf_done(&b);
}
