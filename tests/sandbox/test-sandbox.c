/* SPDX-License-Identifier: MIT */
/*
 * The sandbox module itself: holes in a granted tree (deny rules, a child's write lease),
 * the fail-closed refusal without Landlock, and a process started through the audited
 * path with it.
 */
#include <fcntl.h>
#include <stdlib.h>
#include <sys/wait.h>

#include "pod-test.h"

TestSuite(sandbox, .init = pod_fixture_setup, .fini = pod_fixture_teardown);

/* sh -c command in proj under a sandbox for spec; true when it exits 0. */
static bool run_in(const sandbox_spec *spec, const char *command) {
        char *argv[] = { "sh", "-c", (char *) command, NULL };
        char *envp[] = { "PATH=/usr/bin:/bin", NULL };
        pod_sandbox sb = { .ruleset_fd = -1 };
        pod_error err = { 0 };
        int nul = open("/dev/null", O_RDWR | O_CLOEXEC), st = 0;
        pid_t pid;

        cr_assert_eq(sandbox_prepare(&sb, spec, &err), 0, "%s", err.msg);
        proc_plan p = { .path = "/bin/sh", .argv = argv, .envp = envp, .cwd = proj,
                        .fds = { nul, nul, nul }, .n_fds = 3, .confine = sandbox_confine_hook,
                        .confine_ud = &sb, .confine_fd = sb.ruleset_fd };
        cr_assert_eq(proc_spawn(&pid, &p, &err), 0, "%s", err.msg);
        sandbox_done(&sb);
        close(nul);
        cr_assert_eq(waitpid(pid, &st, 0), pid);
        return WIFEXITED(st) && WEXITSTATUS(st) == 0;
}

Test(sandbox, a_childs_lease_leaves_the_spawner_read_only_there) {
        pod_scope s = { 0 };
        char *src = tu_path(proj, "src");
        scope_lease lease = { src, true, "coder" };
        sandbox_spec spec = { .scope = &s, .leases = &lease, .n_leases = 1, .command = true,
                              .network = POD_NETWORK_NONE };

        if (sandbox_abi() < 1)
                cr_skip_test("the kernel has no Landlock");
        scope_from_rules(&s, "w:proj");
        cr_assert_not(run_in(&spec, "echo x >> src/main.c"), "src/ is leased: read only");
        cr_assert_not(run_in(&spec, "echo x > src/new.c"));
        cr_assert(run_in(&spec, "cat src/main.c >/dev/null"), "reading under a lease is fine");
        cr_assert(run_in(&spec, "echo x >> README.md && mkdir -p vendor/sub"),
                  "the rest of the scope stays writable");
        spec.n_leases = 0;
        cr_assert(run_in(&spec, "echo x >> src/main.c"), "without the lease, write returns");
        scope_done(&s);
        free(src);
}

Test(sandbox, deny_rules_are_holes_in_the_grant) {
        pod_scope s = { 0 };
        sandbox_spec spec = { .scope = &s, .command = true, .network = POD_NETWORK_NONE };

        if (sandbox_abi() < 1)
                cr_skip_test("the kernel has no Landlock");
        scope_from_rules(&s, "w:proj -r:proj/secret -w:proj/vendor");
        cr_assert_not(run_in(&spec, "cat secret/key"), "deny read: nothing there");
        cr_assert_not(run_in(&spec, "echo x >> vendor/lib.c"), "deny write: read only");
        cr_assert(run_in(&spec, "cat vendor/lib.c >/dev/null"));
        cr_assert(run_in(&spec, "echo x >> src/main.c && echo y >> README.md"));
        /* the documented cost: a directory on the way to a hole takes no new entries */
        cr_assert_not(run_in(&spec, "echo x > brand-new"));
        scope_done(&s);
}

Test(sandbox, without_landlock_it_refuses_and_says_how_to_opt_out) {
        pod_scope s = { 0 };
        sandbox_spec spec = { .scope = &s };
        pod_sandbox sb;
        pod_error err = { 0 };

        setenv("POD_SANDBOX_ABI", "0", 1); /* a kernel without Landlock, faked */
        cr_assert_eq(sandbox_prepare(&sb, &spec, &err), -ENOSYS);
        cr_assert(strstr(err.msg, "no Landlock") && strstr(err.msg, "POD_SANDBOX=off"), "%s", err.msg);
        unsetenv("POD_SANDBOX_ABI");
}
