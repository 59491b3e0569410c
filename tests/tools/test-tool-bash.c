/* SPDX-License-Identifier: MIT */
#include "tools-fixture.h"

#include <signal.h>
#include <stdlib.h>
#include <sys/stat.h>
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
        cr_assert(strstr(out, "\n0\n1\n2\n[exit code 0]") ||
                          strstr(out, "\n0\n1\n2\n255\n[exit code 0]"),
                  "only stdin, stdout, stderr (and bash's own): %s", out);
}

Test(tool_bash, a_new_session_without_a_terminal_or_stray_descriptors) {
        pod_tools *t = tools_for("w:proj", NULL);
        char *out = call(
                t, "Bash",
                "{\"command\": \"test \\\"$(ps -o sid= -p $$ | tr -d ' ')\\\" = $$ && echo leader; tty || true; ls /proc/$$/fd >&2\"}",
                false);

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
        out = call(
                t, "Bash",
                "{\"command\": \"echo \\\"[$X][$Y][${__pod_command-none}][${__pod_go-none}]\\\"; pwd; "
                "cat; test \\\"$(ps -o sid= -p $$ | tr -d ' ')\\\" = $$ && echo leader; "
                "[[ $BASH_EXECUTION_STRING == *__pod_go* ]] && echo started-ahead; "
                "ls /proc/$$/fd >&2\"}",
                false);
        cr_assert(strstr(out, "started-ahead\n"),
                  "the second command ran in the shell started "
                  "ahead: %s",
                  out);
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

        setenv("LC_POD_TEST_KEY", "sk-secret", 1);
        setenv("OTHER_TOKEN", "tok", 1);
        t = tools_for("w:proj", NULL);
        out = call(t, "Bash", "{\"command\": \"env\"}", false);
        cr_assert_null(strstr(out, "sk-secret"), "%s", out);
        cr_assert_null(strstr(out, "OTHER_TOKEN"), "only listed variables pass: %s", out);
        cr_assert(strstr(out, "POD_NAME=tester"), "%s", out);
        free(out);
        tools_free(t);
}

/* The locale variables pass by name: LC_ALL does, a variable that only looks like one
 * (LC_SECRET) does not, nor a locale variable with an oversized value. */
Test(tool_bash, only_the_locale_variables_pass_by_name) {
        char big[POD_ENV_LOCALE_VALUE_MAX + 2];
        pod_tools *t;
        char *out;

        memset(big, 'x', sizeof(big) - 1);
        big[sizeof(big) - 1] = '\0';
        setenv("LC_SECRET", "hunter2", 1);
        setenv("LC_ALL", "C.UTF-8", 1);
        setenv("LC_TIME", big, 1);
        t = tools_for("w:proj", NULL);
        out = call(t, "Bash", "{\"command\": \"env\"}", false);
        cr_assert_null(strstr(out, "LC_SECRET"), "%s", out);
        cr_assert_null(strstr(out, "hunter2"), "%s", out);
        cr_assert(strstr(out, "LC_ALL=C.UTF-8\n"), "%s", out);
        cr_assert_null(strstr(out, "LC_TIME="), "an oversized locale value stays behind: %s", out);
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
        char *out = call(t, "Bash", "{\"command\": \"sleep 60 & echo started\", \"timeout_s\": 20}",
                         false);

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
        char *out = call(t, "Bash", "{\"command\": \"head -c 100000 /dev/zero | tr '\\\\0' x\"}",
                         false);

        cr_assert(strstr(out, "[output truncated: showing 30720 of 100000 bytes]"), "%s",
                  out + 30000);
        cr_assert_lt(strlen(out), 31000);
        free(out);
        tools_free(t);
}

static off_t size_of(const char *path) {
        struct stat st;

        return stat(path, &st) == 0 ? st.st_size : -1;
}

/* Tools whose run dir is root/out, with a run dir cap of cap_mib. */
static pod_tools *tools_with_run_dir(char **ret_dir, unsigned cap_mib) {
        pod_tools *t;

        *ret_dir = tu_path(root, "out");
        tu_mkdirs(root, "out");
        tools_output_dir = *ret_dir;
        t = tools_for("w:proj", NULL);
        tools_output_dir = NULL;
        tools_set_run_dir_cap(t, (uint64_t) cap_mib << 20);
        return t;
}

#define X400K "{\"command\": \"head -c 400000 /dev/zero | tr '\\\\0' x\"}"

/* The Bash logs keep to their share of the run dir's cap (half of 1 MiB here): a log that
 * would pass it is cut, with a notice at its end; then no log is made; the model reads why. */
Test(tool_bash, logs_stop_at_their_share_of_the_run_dir_cap) {
        char *dir, *log1, *log2, *log3, *out, *text;
        pod_tools *t = tools_with_run_dir(&dir, 1);

        log1 = tu_path(dir, "bash-1.log");
        log2 = tu_path(dir, "bash-2.log");
        log3 = tu_path(dir, "bash-3.log");
        out = call(t, "Bash", X400K, false);
        cr_assert(strstr(out, "; all of it is in "), "%s", out + 30000);
        cr_assert_eq(size_of(log1), 400000);
        free(out);
        out = call(t, "Bash", X400K, false);
        cr_assert(strstr(out, "bytes are in ") && strstr(out, log2), "%s", out + 30000);
        cr_assert(strstr(out,
                         "; output log truncated: the pod's run dir reached its cap of 1 MiB "
                         "(512 KiB for command logs)]"),
                  "%s", out + 30000);
        text = tu_read(log2);
        cr_assert(
                strstr(text, "\n[output log truncated: the pod's run dir reached its cap of 1 MiB"),
                "the log says it was cut");
        cr_assert_lt(strlen(text), 400000);
        free(text);
        free(out);
        out = call(t, "Bash", X400K, false);
        cr_assert(strstr(out,
                         "[output truncated: showing 30720 of 400000 bytes; output log "
                         "truncated: the pod's run dir reached its cap of 1 MiB"),
                  "%s", out + 30000);
        cr_assert_eq(size_of(log3), -1, "no log past the share");
        cr_assert_leq(size_of(log1) + size_of(log2), 512 * 1024);
        free(out);
        tools_free(t);
        free(log1);
        free(log2);
        free(log3);
        free(dir);
}

/* The private TMPDIR keeps to its share (a quarter of 1 MiB here): measured after each
 * command, emptied past it, however the command shaped it; no file a command writes grows
 * past the whole cap (RLIMIT_FSIZE). */
Test(tool_bash, the_private_tmpdir_keeps_to_its_share) {
        char *dir, *tmp, *small, *out;
        pod_tools *t;

        if (tu_landlock_abi() < 1)
                cr_skip_test("no Landlock: commands get a private TMPDIR only in the sandbox");
        t = tools_with_run_dir(&dir, 1);
        tmp = tu_path(dir, "tmp");
        small = tu_path(tmp, "small");
        out = call(t, "Bash", "{\"command\": \"head -c 100000 /dev/zero > $TMPDIR/small\"}", false);
        cr_assert_null(strstr(out, "TMPDIR"), "within its share: %s", out);
        cr_assert_eq(size_of(small), 100000);
        free(out);
        out = call(t, "Bash", "{\"command\": \"head -c 300000 /dev/zero > $TMPDIR/big\"}", false);
        cr_assert(strstr(out, "[TMPDIR emptied: it held "), "%s", out);
        cr_assert(strstr(out, "over its share (256 KiB) of the pod's run dir cap of 1 MiB]"), "%s",
                  out);
        cr_assert_eq(size_of(small), -1, "emptied");
        cr_assert_geq(size_of(tmp), 0, "the directory itself stays");
        free(out);
        out = call(
                t, "Bash",
                "{\"command\": \"d=$TMPDIR; for i in $(seq 100); do d=$d/x; done; mkdir -p $d && "
                "echo > $d/f && chmod 0 $TMPDIR/x\"}",
                false);
        cr_assert(strstr(out, "[TMPDIR emptied: it held too many files or too deep a tree"), "%s",
                  out);
        free(out);
        out = call(
                t, "Bash",
                "{\"command\": \"head -c 2000000 /dev/zero > $TMPDIR/huge; stat -c %s $TMPDIR/huge\"}",
                false);
        cr_assert(strstr(out, "\n1048576\n") || str_startswith(out, "1048576\n"),
                  "a file stops at the cap: %s", out);
        free(out);
        out = call(t, "Bash", "{\"command\": \"ls -A $TMPDIR | wc -l\"}", false);
        cr_assert(str_startswith(out, "0\n"), "nothing is left: %s", out);
        free(out);
        tools_free(t);
        free(small);
        free(tmp);
        free(dir);
}
