/* SPDX-License-Identifier: MIT */
#include "pod-test.h"

#include <signal.h>
#include <stdlib.h>
#include <sys/wait.h>

TestSuite(tool_bash, .init = pod_fixture_setup, .fini = pod_fixture_teardown);

Test(tool_bash, output_and_exit_code) {
        pod_tools *t = tools_for("w:proj", NULL);
        char *out = call(t, "Bash", "{\"command\": \"echo out; echo err >&2; pwd\"}", false);
        char *want = in1("out\nerr\n%s\n[exit code 0]\n", proj);

        cr_assert_str_eq(out, want);
        free(out);
        free(want);
        out = call(t, "Bash", "{\"command\": \"exit 3\"}", true);
        cr_assert(strstr(out, "[exit code 3]"), "%s", out);
        free(out);
        tools_free(t);
}

/* The descriptors bash holds, as `ls /proc/$$/fd >&2` ending the command lists them (to
 * stderr: a pipeline's own pipe would show in bash for a moment): stdin, stdout, stderr,
 * and 255, bash's own, when it keeps one. */
static void only_standard_descriptors(const char *out) {
        cr_assert(strstr(out, "\n0\n1\n2\n[exit code 0]") || strstr(out, "\n0\n1\n2\n255\n[exit code 0]"),
                  "only stdin, stdout, stderr (and bash's own): %s", out);
}

Test(tool_bash, a_new_session_without_a_terminal_or_stray_descriptors) {
        pod_tools *t = tools_for("w:proj", NULL);
        char *out = call(t, "Bash", "{\"command\": \"test \\\"$(ps -o sid= -p $$ | tr -d ' ')\\\" = $$ && echo leader; tty || true; ls /proc/$$/fd >&2\"}", false);

        cr_assert(strstr(out, "leader\n"), "bash leads its own session: %s", out);
        cr_assert(strstr(out, "not a tty"), "%s", out);
        only_standard_descriptors(out);
        free(out);
        tools_free(t);
}

/* A command starts with every signal at its default, though the pod ignores some (the
 * child resets only what the pod ignores or catches, so this is what would catch a miss). */
Test(tool_bash, signals_the_pod_ignores_are_the_default_in_a_command) {
        struct sigaction ign = { .sa_handler = SIG_IGN }, old[3];
        const int sigs[3] = { SIGINT, SIGPIPE, SIGUSR2 };
        pod_tools *t;
        char *out;

        for (int i = 0; i < 3; i++)
                sigaction(sigs[i], &ign, &old[i]);
        t = tools_for("w:proj", NULL);
        out = call(t, "Bash", "{\"command\": \"grep SigIgn /proc/self/status\"}", false);
        for (int i = 0; i < 3; i++)
                sigaction(sigs[i], &old[i], NULL);
        cr_assert(strstr(out, "SigIgn:\t0000000000000000"), "%s", out);
        free(out);
        tools_free(t);
}

/* From the second command on, a shell started ahead runs it (docs/running.md): each command
 * still starts clean, with stdin at /dev/null and nothing of the one before. */
Test(tool_bash, a_shell_started_ahead_runs_each_command_afresh) {
        pod_tools *t = tools_for("w:proj", NULL);
        char *out;

        free(call(t, "Bash", "{\"command\": \"X=1; cd /; export Y=2; echo $X\"}", false));
        out = call(t, "Bash",
                   "{\"command\": \"echo \\\"[$X][$Y][${__pod_command-none}][${__pod_go-none}]\\\"; pwd; "
                   "cat; test \\\"$(ps -o sid= -p $$ | tr -d ' ')\\\" = $$ && echo leader; "
                   "[[ $BASH_EXECUTION_STRING == *__pod_go* ]] && echo started-ahead; "
                   "ls /proc/$$/fd >&2\"}",
                   false);
        cr_assert(strstr(out, "started-ahead\n"), "the second command ran in the shell started "
                  "ahead: %s", out);
        cr_assert(strstr(out, "[][][none][none]\n"), "nothing carries over: %s", out);
        cr_assert(strstr(out, proj), "it starts in the pod's cwd: %s", out);
        cr_assert(strstr(out, "leader\n"), "in its own session: %s", out);
        only_standard_descriptors(out);
        free(out);
        out = call(t, "Bash", "{\"command\": \"echo before; exit 7\"}", true);
        cr_assert(strstr(out, "before\n[exit code 7]"), "%s", out);
        free(out);
        out = call(t, "Bash", "{\"command\": \"if then\"}", true);
        cr_assert(strstr(out, "syntax error") && strstr(out, "[exit code 2]"), "%s", out);
        free(out);
        tools_free(t);
        cr_assert_eq(waitpid(-1, NULL, WNOHANG), -1, "the shell started ahead ends with the tools");
        cr_assert_eq(errno, ECHILD);
}

Test(tool_bash, the_model_key_is_not_passed_on) {
        pod_tools *t;
        char *out;

        setenv("LC_POD_TEST_KEY", "sk-secret", 1); /* LC_* passes the allowlist */
        setenv("OTHER_TOKEN", "tok", 1);
        t = tools_for("w:proj", NULL);
        out = call(t, "Bash", "{\"command\": \"env\"}", false);
        cr_assert_null(strstr(out, "sk-secret"), "%s", out);
        cr_assert_null(strstr(out, "OTHER_TOKEN"), "only listed variables pass: %s", out);
        cr_assert(strstr(out, "POD_NAME=tester"), "%s", out);
        free(out);
        tools_free(t);
}

Test(tool_bash, a_timeout_kills_the_whole_group) {
        pod_tools *t = tools_for("w:proj", NULL);
        char *marker = tu_path(proj, "survived"), *cmd, *out;

        cmd = in1("{\"command\": \"(sleep 3; touch %s) & sleep 30\", \"timeout_s\": 1}", marker);
        out = call(t, "Bash", cmd, true);
        cr_assert(strstr(out, "timed out after 1 s"), "%s", out);
        sleep(3);
        cr_assert_neq(access(marker, F_OK), 0, "the background job was killed too");
        free(out);
        free(cmd);
        free(marker);
        tools_free(t);
}

/* A command's timeout ends with the pod's timeout_s, whatever the model asked. */
Test(tool_bash, the_timeout_is_capped_by_the_task_deadline) {
        pod_tools *t = tools_for("w:proj", NULL);
        char *out;

        tools_set_deadline(t, mono_ms() + 500);
        out = call(t, "Bash", "{\"command\": \"sleep 30\", \"timeout_s\": 600}", true);
        cr_assert(strstr(out, "[timed out after 1 s;"), "%s", out);
        free(out);
        tools_free(t);
}

Test(tool_bash, a_background_job_does_not_hold_the_call) {
        pod_tools *t = tools_for("w:proj", NULL);
        char *out = call(t, "Bash", "{\"command\": \"sleep 60 & echo started\", \"timeout_s\": 20}", false);

        cr_assert(strstr(out, "started\n[exit code 0]"), "%s", out);
        free(out);
        tools_free(t);
}

/* The whole output goes to bash-N.log only when the model is shown part of it. */
Test(tool_bash, a_long_output_is_kept_whole_in_the_run_dir) {
        char *dir = tu_path(root, "out"), *log1 = tu_path(dir, "bash-1.log");
        char *log2 = tu_path(dir, "bash-2.log"), *out, *text;
        pod_tools *t;

        tu_mkdirs(root, "out");
        tools_output_dir = dir;
        t = tools_for("w:proj", NULL);
        tools_output_dir = NULL;
        free(call(t, "Bash", "{\"command\": \"echo short\"}", false));
        cr_assert_neq(access(log1, F_OK), 0, "a short output is all in the result: no log");
        out = call(t, "Bash", "{\"command\": \"head -c 100000 /dev/zero | tr '\\\\0' x\"}", false);
        cr_assert(strstr(out, log2), "the cut output names its log: %s", out + 30000);
        text = tu_read(log2);
        cr_assert_eq(strlen(text), 100000);
        cr_assert_eq(strspn(text, "x"), 100000);
        free(text);
        free(out);
        tools_free(t);
        free(log1);
        free(log2);
        free(dir);
}

Test(tool_bash, long_output_is_cut_for_the_model) {
        pod_tools *t = tools_for("w:proj", NULL);
        char *out = call(t, "Bash", "{\"command\": \"head -c 100000 /dev/zero | tr '\\\\0' x\"}", false);

        cr_assert(strstr(out, "[output truncated: showing 30720 of 100000 bytes]"), "%s", out + 30000);
        cr_assert_lt(strlen(out), 31000);
        free(out);
        tools_free(t);
}
