/* SPDX-License-Identifier: MIT */
/*
 * A delegate's CLI as tools_spawn_delegate starts it (DESIGN §9, docs/sandbox.md): in a new
 * session, in a sandbox built as a Bash command's (the pod's scope, its private TMPDIR) plus
 * the paths the CLI needs (its state dir to write, its install dir to read) and nothing of
 * the pod's own (no registry, no run dir). A shell script stands in for the CLI: what is
 * tested is the sandbox it runs in.
 */
#include "tools-fixture.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "sandbox/sandbox.h"

TestSuite(delegate_spawn, .init = pod_fixture_setup, .fini = pod_fixture_teardown);

/* Run script as the CLI with the paths given; its stdout and stderr, then its exit status. */
static char *run_cli(pod_tools *t, const char *script, const char *wpath, const char *rpath) {
        char *argv[] = { "sh", "-c", (char *) script, NULL };
        char *envp[] = { "PATH=/usr/bin:/bin", "TMPDIR=/operator/tmp", NULL };
        const char *w[] = { wpath, NULL }, *r[] = { rpath, NULL };
        tools_proc p = {
                .path = "/bin/sh", .argv = argv, .envp = envp, .write_paths = w, .read_paths = r
        };
        pod_buf out = { 0 };
        pod_error err = { 0 };
        int pipefd[2], nul = open("/dev/null", O_RDONLY | O_CLOEXEC), status = 0;
        char buf[4096];
        ssize_t n;
        pid_t pid;

        cr_assert(nul >= 0 && pipe2(pipefd, O_CLOEXEC) == 0);
        p.fds[0] = nul;
        p.fds[1] = p.fds[2] = pipefd[1];
        cr_assert_eq(tools_spawn_delegate(t, &p, &pid, &err), 0, "%s", err.msg);
        close(pipefd[1]);
        close(nul);
        while ((n = read(pipefd[0], buf, sizeof(buf))) > 0)
                buf_append(&out, buf, (size_t) n);
        close(pipefd[0]);
        cr_assert_eq(waitpid(pid, &status, 0), pid);
        buf_printf(&out, "[exit %d]", WIFEXITED(status) ? WEXITSTATUS(status) : -1);
        return buf_steal(&out);
}

Test(delegate_spawn, the_cli_reaches_its_scope_and_its_own_paths_only) {
        static const char *const want[] = { "scope-ok",     "outside-refused", "read-refused",
                                            "state-ok",     "install-read",    "install-readonly",
                                            "home-refused", "run-dir-refused", "private-tmp",
                                            "leader",       "[exit 0]" };
        char *state = tu_path(root, "home/.cli"), *install = tu_path(root, "lib/cli"), *out;
        pod_buf script = { 0 };
        pod_tools *t;

        if (sandbox_abi() == 0)
                cr_skip_test(
                        "no Landlock in this kernel: the CLI runs unconfined (POD_SANDBOX=off)");
        tu_write(root, "home/.cli/auth.json", "{}\n");
        tu_write(root, "lib/cli/cli.js", "// the CLI\n");
        tu_write(root, "home/notes", "not the CLI's\n");
        tools_output_dir = tu_path(root, "run");
        mkdir(tools_output_dir, 0700);
        t = tools_for("w:proj", NULL);
        buf_printf(&script,
                   "R=%s; echo in >$R/proj/made && echo scope-ok; "
                   "(echo x >$R/outside/made) 2>/dev/null || echo outside-refused; "
                   "cat $R/outside/passwd >/dev/null 2>&1 || echo read-refused; "
                   "echo tok >$R/home/.cli/session && echo state-ok; "
                   "cat $R/lib/cli/cli.js >/dev/null && echo install-read; "
                   "(echo x >>$R/lib/cli/cli.js) 2>/dev/null || echo install-readonly; "
                   "cat $R/home/notes >/dev/null 2>&1 || echo home-refused; "
                   "ls $R/run >/dev/null 2>&1 || echo run-dir-refused; "
                   "case \"$TMPDIR\" in $R/run/tmp) echo private-tmp;; esac; "
                   "test \"$(ps -o sid= -p $$ | tr -d ' ')\" = $$ && echo leader; exit 0",
                   root);
        out = run_cli(t, buf_str(&script), state, install);
        for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++)
                cr_assert(strstr(out, want[i]), "%s missing: %s", want[i], out);
        free(out);
        buf_done(&script);
        tools_free(t);
        free((char *) tools_output_dir);
        tools_output_dir = NULL;
        free(state);
        free(install);
}

/* The bound MCP server's endpoint: a FIFO in the pod's run dir, listed for the CLI alone,
 * reaches the pod though the run dir around it does not. */
Test(delegate_spawn, a_fifo_listed_for_the_cli_is_the_only_way_into_the_run_dir) {
        char *fifo, *out, got[16] = "";
        pod_buf script = { 0 };
        pod_tools *t;
        int fd;

        if (sandbox_abi() == 0)
                cr_skip_test(
                        "no Landlock in this kernel: the CLI runs unconfined (POD_SANDBOX=off)");
        tools_output_dir = tu_path(root, "run");
        mkdir(tools_output_dir, 0700);
        fifo = tu_path(root, "run/mcp.in");
        cr_assert_eq(mkfifo(fifo, 0600), 0);
        tu_write(root, "run/transcript.jsonl", "{}\n");
        fd = open(fifo, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
        cr_assert(fd >= 0);
        t = tools_for("w:proj", NULL);
        buf_printf(&script,
                   "R=%s; echo hi >$R/run/mcp.in && echo fifo-ok; "
                   "(echo x >>$R/run/transcript.jsonl) 2>/dev/null || echo transcript-refused",
                   root);
        out = run_cli(t, buf_str(&script), fifo, NULL);
        cr_assert(strstr(out, "fifo-ok") && strstr(out, "transcript-refused"), "%s", out);
        cr_assert_eq(read(fd, got, sizeof(got) - 1), 3);
        cr_assert_str_eq(got, "hi\n");
        close(fd);
        free(out);
        buf_done(&script);
        tools_free(t);
        free((char *) tools_output_dir);
        tools_output_dir = NULL;
        free(fifo);
}
