/* SPDX-License-Identifier: MIT */
/*
 * The delegates' process runner (src/llm/delegate.c) with /bin/sh as the CLI: lines as they
 * come, bounded lines, the stderr tail in errors, cancel and the deadline ending the whole
 * process group, input written while the CLI prints.
 */
#include <criterion/criterion.h>
#include <signal.h>
#include <string.h>
#include <sys/wait.h>

#include "llm/llm-internal.h"
#include "testutil.h"

static char *const sh_env[] = { "PATH=/usr/bin:/bin", NULL };

static llm_proc *sh(const char *script, const llm_call *call) {
        char *argv[] = { "/bin/sh", "-c", (char *) script, NULL };
        llm_spawn s = { .path = "/bin/sh", .argv = argv, .envp = sh_env };
        llm_proc *p = NULL;
        pod_error err = { 0 };

        cr_assert_eq(llm_proc_start(&p, &s, call, "the test CLI", &err), 0, "%s", err.msg);
        return p;
}

Test(delegate, lines_then_end) {
        llm_proc *p = sh("printf 'one\\ntwo\\r\\nlast'", NULL);
        pod_error err = { 0 };
        char *line;
        size_t len;

        cr_assert_eq(llm_proc_line(p, NULL, &line, &len, &err), 1);
        cr_assert_str_eq(line, "one");
        cr_assert_eq(llm_proc_line(p, NULL, &line, &len, &err), 1);
        cr_assert_str_eq(line, "two");
        cr_assert_eq(llm_proc_line(p, NULL, &line, &len, &err), 1);
        cr_assert_str_eq(line, "last");
        cr_assert_eq(len, 4);
        cr_assert_eq(llm_proc_line(p, NULL, &line, &len, &err), 0);
        llm_proc_free(p);
}

Test(delegate, failure_quotes_stderr_tail_scrubbed) {
        llm_proc *p = sh("echo 'bad key sk-secret-123' >&2; echo boom >&2; exit 3", NULL);
        pod_error err = { 0 };
        char *line;
        size_t len;

        cr_assert_eq(llm_proc_line(p, NULL, &line, &len, &err), 0);
        cr_assert_eq(llm_proc_fail(p, NULL, "sk-secret-123", &err), -EPROTO);
        cr_assert(strstr(err.msg, "exited with status 3"), "%s", err.msg);
        cr_assert(strstr(err.msg, "bad key *** boom"), "%s", err.msg);
        cr_assert_null(strstr(err.msg, "sk-secret"), "%s", err.msg);
        llm_proc_free(p);
}

Test(delegate, stderr_tail_is_bounded) {
        llm_proc *p = sh("head -c 100000 /dev/zero | tr '\\0' x >&2; echo end >&2", NULL);
        pod_error err = { 0 };
        char *line;
        size_t len;

        cr_assert_eq(llm_proc_line(p, NULL, &line, &len, &err), 0);
        llm_proc_fail(p, NULL, NULL, &err);
        cr_assert(str_endswith(err.msg, "xxxend"), "%s", err.msg + strlen(err.msg) - 20);
        cr_assert_leq(strlen(llm_proc_stderr(p)), LLM_DELEGATE_STDERR_MAX);
        llm_proc_free(p);
}

Test(delegate, long_line_is_refused) {
        llm_proc *p = sh("head -c 9000000 /dev/zero | tr '\\0' x; echo", NULL);
        pod_error err = { 0 };
        char *line;
        size_t len;

        cr_assert_eq(llm_proc_line(p, NULL, &line, &len, &err), -EMSGSIZE);
        cr_assert(strstr(err.msg, "the test CLI printed a line over 8 MiB"), "%s", err.msg);
        llm_proc_free(p);
}

Test(delegate, input_while_it_prints) {
        /* It prints 1 MiB before it reads: our write must not block on it. */
        llm_proc *p = sh("head -c 1048576 /dev/zero | tr '\\0' y; echo; read l; echo got:$l", NULL);
        static char big[300000];
        pod_error err = { 0 };
        char *line;
        size_t len;

        memset(big, 'z', sizeof(big) - 2);
        big[sizeof(big) - 2] = '\n';
        cr_assert_eq(llm_proc_write(p, NULL, big, sizeof(big) - 1, &err), 0, "%s", err.msg);
        llm_proc_close_input(p);
        cr_assert_eq(llm_proc_line(p, NULL, &line, &len, &err), 1);
        cr_assert_eq(len, 1048576);
        cr_assert_eq(llm_proc_line(p, NULL, &line, &len, &err), 1);
        cr_assert_eq(len, 4 + sizeof(big) - 2);
        llm_proc_free(p);
}

/* The group's members: none may be left running after a stop returned (a generous wait for
 * the SIGKILL to land, no threshold). */
static void assert_group_gone(pid_t pgid) {
        pid_t left = tu_group_survivor(pgid, 10000);

        cr_assert_eq(left, 0, "process %d of group %d still runs", (int) left, (int) pgid);
}

Test(delegate, cancel_ends_the_process_group) {
        static volatile sig_atomic_t cancel;
        llm_call call = { .cancel = &cancel };
        /* A member that ignores SIGTERM: the SIGKILL after the grace ends it. */
        llm_proc *p = sh("trap '' TERM; (trap '' TERM; sleep 100) & echo started; "
                         "while :; do sleep 1; done",
                         &call);
        pod_error err = { 0 };
        char *line;
        size_t len;
        pid_t pid = llm_proc_pid(p);

        cr_assert_eq(llm_proc_line(p, &call, &line, &len, &err), 1);
        cancel = 1;
        cr_assert_eq(llm_proc_line(p, &call, &line, &len, &err), -ECANCELED);
        llm_proc_stop(p);
        cr_assert_not(llm_proc_running(p));
        assert_group_gone(pid);
        llm_proc_free(p);
}

Test(delegate, deadline_ends_the_wait) {
        llm_call call = { .deadline_ms = mono_ms() + 200 };
        llm_proc *p = sh("sleep 100", &call);
        pod_error err = { 0 };
        char *line;
        size_t len;
        pid_t pid = llm_proc_pid(p);

        cr_assert_eq(llm_proc_line(p, &call, &line, &len, &err), -ETIMEDOUT);
        cr_assert(strstr(err.msg, "did not finish in time"), "%s", err.msg);
        llm_proc_free(p);
        assert_group_gone(pid);
}

Test(delegate, env_allowlist) {
        char *const envp[] = { "PATH=/bin",
                               "HOME=/h",
                               "CLAUDECODE=1",
                               "CLAUDE_CODE_ENTRYPOINT=cli",
                               "SECRET_KEY=k",
                               "MY_KEY=v",
                               "HTTPS_PROXY=http://p",
                               "LC_SECRET=x",
                               NULL };
        const char *const names[] = { "MY_KEY", NULL };
        const char *const strip[] = { "CLAUDECODE=", "CLAUDE_CODE_", NULL };
        char **env = llm_delegate_env(envp, names, strip);

        cr_assert_not_null(env);
        cr_assert(strv_contains(env, "PATH=/bin"));
        cr_assert(strv_contains(env, "HOME=/h"));
        cr_assert(strv_contains(env, "MY_KEY=v"));
        cr_assert(strv_contains(env, "HTTPS_PROXY=http://p"));
        cr_assert_eq(strv_length(env), 4);
        strv_free(env);
}

Test(delegate, which_and_install_dir) {
        char *const envp[] = { "PATH=relative:/nonexistent:/bin", NULL };
        char *exe = NULL, *dir;

        cr_assert_eq(llm_delegate_which(&exe, "sh", envp), 0);
        cr_assert_eq(exe[0], '/');
        free(exe);
        cr_assert_eq(llm_delegate_which(&exe, "no-such-cli-here", envp), -ENOENT);
        dir = llm_delegate_install_dir("/opt/npm/node_modules/@openai/codex/node_modules/x/bin");
        cr_assert_str_eq(dir, "/opt/npm");
        free(dir);
        dir = llm_delegate_install_dir("/usr/local/bin/claude");
        cr_assert_str_eq(dir, "/usr/local/bin");
        free(dir);
}
