/* SPDX-License-Identifier: MIT */
/*
 * The sandbox module itself: holes in a granted tree (deny rules, a child's write lease),
 * the fail-closed refusal without Landlock, a process started through the audited path
 * with it, and what a delegate's processes reach of sockets.
 */
#include <arpa/inet.h>
#include <fcntl.h>
#include <grp.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/wait.h>

#include "pod-test.h"
#include "tools/tools-internal.h"

TestSuite(sandbox, .init = pod_fixture_setup, .fini = pod_fixture_teardown);

/* sh -c command in proj under a prepared sandbox; true when it exits 0. */
static bool run_under(pod_sandbox *sb, const char *command) {
        char *argv[] = { "sh", "-c", (char *) command, NULL };
        char *envp[] = { "PATH=/usr/bin:/bin", NULL };
        pod_error err = { 0 };
        int nul = open("/dev/null", O_RDWR | O_CLOEXEC), st = 0;
        pid_t pid;
        proc_plan p = { .path = "/bin/sh",
                        .argv = argv,
                        .envp = envp,
                        .cwd = proj,
                        .fds = { nul, nul, nul },
                        .n_fds = 3,
                        .confine = sandbox_confine_hook,
                        .confine_ud = sb,
                        .confine_fd = sandbox_ruleset_fd(sb) };

        cr_assert_eq(proc_spawn(&pid, &p, &err), 0, "%s", err.msg);
        close(nul);
        cr_assert_eq(waitpid(pid, &st, 0), pid);
        return WIFEXITED(st) && WEXITSTATUS(st) == 0;
}

/* sh -c command in proj under a sandbox for spec; true when it exits 0. */
static bool run_in(const sandbox_spec *spec, const char *command) {
        pod_sandbox *sb = NULL;
        pod_error err = { 0 };
        bool ok;

        cr_assert_eq(sandbox_prepare(&sb, spec, &err), 0, "%s", err.msg);
        ok = run_under(sb, command);
        sb = sandbox_free(sb);
        return ok;
}

/*
 * A pod's own sandbox (sandbox_pod), as a child pod runs under it from before exec: its
 * scope and run dir, and the registry it may write but never read (docs/sandbox.md).
 */
Test(sandbox, a_pod_writes_registry_entries_but_reads_none) {
        pod_scope s = { 0 };
        pod_sandbox *sb = NULL;
        pod_error err = { 0 };
        char *rt = tu_path(root, "runtime"), *run = tu_path(root, "run"), cmd[4096];
        char url[] = "http://127.0.0.1:8080/v1";
        manifest_view v = { .network = POD_NETWORK_NONE };
        struct {
                const char *command;
                bool allowed;
                const char *why;
        } cases[] = {
                { "cat $RT/pods/other/pod.json", false,
                  "another pod's entry: the token stays unread" },
                { "cat $RT/pods/self/pod.json", false, "its own entry neither" },
                { "ls $RT/pods", false, "the registry cannot be listed" },
                { "ls $RT", false, "nothing else of the runtime dir" },
                { "echo '{}' > $RT/pods/self/pod.json && echo x > $RT/pods/self/result.json", true,
                  "its own entry is written" },
                { "mkdir $RT/pods/kid && echo '{}' > $RT/pods/kid/pod.json", true,
                  "a child's entry is made" },
                { "rm $RT/pods/kid/pod.json", true, "and emptied" },
                { "rmdir $RT/pods/kid", false, "but no folder of the registry is removed" },
                { "mv $RT/pods/other $RT/pods/renamed", false, "or renamed" },
                { "ln $RT/pods/other/pod.json $RT/pods/self/stolen", false,
                  "nothing is linked across entries" },
                { "ln -s /etc $RT/pods/self/link", false, "no symlink is made in it" },
                { ": < $RT/registry.lock", true, "the lock file opens (for flock)" },
                { "echo x > $RUN/transcript.jsonl", true, "the run dir is its own" },
                { "echo x >> src/main.c", true, "its scope is writable" },
                { "cat $OUT/passwd", false, "outside its scope nothing is read" },
        };

        if (sandbox_abi() < 1)
                cr_skip_test("the kernel has no Landlock");
        tu_write(rt, "pods/other/pod.json", "{\"token\": \"secret\"}\n");
        tu_write(rt, "pods/self/pod.json", "{\"token\": \"mine\"}\n");
        tu_write(rt, "registry.lock", "");
        tu_mkdirs(root, "run");
        scope_from_rules(&s, "w:proj");
        v.scope = s; /* a view by hand: a scope, a network and an endpoint are all it reads */
        cr_assert_eq(endpoint_parse(&v.model.endpoint, url, NULL), 0);
        v.model.endpoint_url = url;
        cr_assert_eq(sandbox_pod(&sb, &v, NULL, run, "/bin/true", rt, NULL, &err), 0, "%s",
                     err.msg);
        for (size_t i = 0; i < POD_ARRAY_SIZE(cases); i++) {
                snprintf(cmd, sizeof(cmd), "RT=%s RUN=%s OUT=%s; %s 2>/dev/null", rt, run, outside,
                         cases[i].command);
                cr_assert_eq(run_under(sb, cmd), cases[i].allowed, "%s: %s", cases[i].command,
                             cases[i].why);
        }
        sb = sandbox_free(sb);
        endpoint_done(&v.model.endpoint);
        scope_done(&s);
        free(rt);
        free(run);
}

Test(sandbox, the_model_port_comes_from_the_endpoint) {
        struct {
                const char *endpoint;
                int port;
        } cases[] = { { "https://api.example.com/v1", 443 },
                      { "http://localhost/v1", 80 },
                      { "http://127.0.0.1:8080/v1", 8080 },
                      { "http://[::1]:11434", 11434 },
                      { "https://h:99999/", 0 },
                      { "ftp://h/", 0 } };

        for (size_t i = 0; i < POD_ARRAY_SIZE(cases); i++) {
                /* As the view has it: parsed once, or no endpoint when it does not parse. */
                manifest_view v = { 0 };
                if (endpoint_parse(&v.model.endpoint, cases[i].endpoint, NULL) == 0)
                        v.model.endpoint_url = (char *) cases[i].endpoint;
                cr_assert_eq(sandbox_model_port(&v), cases[i].port, "%s", cases[i].endpoint);
                endpoint_done(&v.model.endpoint);
        }
}

Test(sandbox, a_proxy_takes_the_model_port_unless_no_proxy_covers_the_host) {
        struct {
                const char *endpoint, *https_proxy, *no_proxy;
                int port;
        } cases[] = {
                { "https://api.example.com/v1", "http://proxy.corp:3128", NULL, 3128 },
                { "https://api.example.com/v1", "http://user:pw@proxy.corp", NULL, 1080 },
                { "https://api.example.com/v1", "https://proxy.corp", NULL, 443 },
                { "https://api.example.com/v1", "http://proxy.corp:3128", "example.com", 443 },
                { "https://api.example.com/v1", "http://proxy.corp:3128", "*", 443 },
                { "https://api.example.com/v1", "http://proxy.corp:3128", "ample.com", 3128 },
                { "http://127.0.0.1:8080/v1", "http://proxy.corp:3128", NULL, 8080 },
        };

        for (size_t i = 0; i < POD_ARRAY_SIZE(cases); i++) {
                manifest_view v = { 0 };
                cr_assert_eq(endpoint_parse(&v.model.endpoint, cases[i].endpoint, NULL), 0);
                v.model.endpoint_url = (char *) cases[i].endpoint;
                setenv("https_proxy", cases[i].https_proxy, 1);
                if (cases[i].no_proxy)
                        setenv("no_proxy", cases[i].no_proxy, 1);
                else
                        unsetenv("no_proxy");
                cr_assert_eq(sandbox_model_port(&v), cases[i].port, "%s via %s (no_proxy %s)",
                             cases[i].endpoint, cases[i].https_proxy, cases[i].no_proxy ?: "-");
                endpoint_done(&v.model.endpoint);
        }
        unsetenv("https_proxy");
        unsetenv("no_proxy");
}

/* The probe's "fork n" as user nobody (root is exempt from RLIMIT_NPROC), confined or not:
 * its exit code, 125 when the test cannot run it. */
static int fork_as_nobody(pod_sandbox *sb, int n) {
        char count[16];
        char *argv[] = { "sandbox-probe", "fork", count, NULL };
        char *envp[] = { NULL };
        int st = 0;
        pid_t helper;

        snprintf(count, sizeof(count), "%d", n);
        helper = fork();
        cr_assert_geq(helper, 0);
        if (helper == 0) {
                int nul = open("/dev/null", O_RDWR | O_CLOEXEC);
                pid_t pid;
                proc_plan p = { .path = SANDBOX_PROBE,
                                .argv = argv,
                                .envp = envp,
                                .cwd = "/",
                                .fds = { nul, nul, nul },
                                .n_fds = 3 };
                alarm(30);
                if (geteuid() == 0 &&
                    (setgroups(0, NULL) < 0 || setgid(65534) < 0 || setuid(65534) < 0))
                        _exit(125);
                if (sb) {
                        p.confine = sandbox_confine_hook;
                        p.confine_ud = sb;
                        p.confine_fd = sandbox_ruleset_fd(sb);
                }
                if (proc_spawn(&pid, &p, NULL) < 0 || waitpid(pid, &st, 0) != pid)
                        _exit(125);
                _exit(WIFEXITED(st) ? WEXITSTATUS(st) : 125);
        }
        cr_assert_eq(waitpid(helper, &st, 0), helper);
        return WIFEXITED(st) ? WEXITSTATUS(st) : 125;
}

Test(sandbox, a_fork_bomb_meets_the_process_limit) {
        const char *own_read[] = { SANDBOX_PROBE, NULL };
        pod_scope s = { 0 };
        sandbox_spec spec = { .scope = &s,
                              .own_read = own_read,
                              .command = true,
                              .network = POD_NETWORK_NONE,
                              .nproc = 32 };
        pod_sandbox *sb = NULL;
        pod_error err = { 0 };

        if (sandbox_abi() < 1)
                cr_skip_test("the kernel has no Landlock");
        if (fork_as_nobody(NULL, 64) != 0)
                cr_skip_test("the control (64 processes as user nobody, unconfined) did not run; "
                             "is the probe reachable for that user?");
        cr_assert_eq(sandbox_prepare(&sb, &spec, &err), 0, "%s", err.msg);
        cr_assert_eq(fork_as_nobody(sb, 64), 1, "confined, the 64 processes are refused past 32");
        sb = sandbox_free(sb);
        spec.nproc = 0;
        cr_assert_eq(sandbox_prepare(&sb, &spec, &err), 0, "%s", err.msg);
        cr_assert_eq(sandbox_nproc(sb) <= POD_NPROC_MAX, true, "the default limit: %lu",
                     sandbox_nproc(sb));
        sb = sandbox_free(sb);
}

Test(sandbox, a_childs_lease_leaves_the_spawner_read_only_there) {
        pod_scope s = { 0 };
        char *src = tu_path(proj, "src");
        scope_lease lease = { src, "coder" };
        sandbox_spec spec = { .scope = &s,
                              .leases = &lease,
                              .n_leases = 1,
                              .command = true,
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

/* proj/vendor replaced with a symlink to outside/ (the fixture's own commands, unconfined). */
static void swap_vendor(void) {
        char cmd[4096];

        snprintf(cmd, sizeof(cmd), "rm -rf '%s/vendor' && ln -s '%s' '%s/vendor'", proj, outside,
                 proj);
        cr_assert_eq(system(cmd), 0);
}

/*
 * Scope roots (docs/sandbox.md): rules proj/ and proj/vendor/, opened when the pod started;
 * vendor/ is then replaced with a symlink out of the scope. Later rulesets are built from the
 * descriptors: the swapped rule is dropped and said, nothing is granted through the link.
 */
Test(sandbox, a_rule_swapped_for_a_symlink_after_the_start_is_dropped_and_reported) {
        pod_scope s = { 0 };
        sandbox_roots *roots = NULL;
        pod_buf notes = { 0 };
        sandbox_spec spec = {
                .scope = &s, .notes = &notes, .command = true, .network = POD_NETWORK_NONE
        };
        pod_error err = { 0 };
        char *want;

        if (sandbox_abi() < 1)
                cr_skip_test("the kernel has no Landlock");
        scope_from_rules(&s, "w:proj w:proj/vendor");
        cr_assert_eq(sandbox_roots_open(&roots, &s, &err), 0, "%s", err.msg);
        spec.roots = roots;
        cr_assert(run_in(&spec, "echo x >> vendor/lib.c"), "before the swap, vendor/ is writable");
        cr_assert_eq(notes.len, 0, "%s", buf_str(&notes));
        swap_vendor();
        want = tu_read_at(proj, "vendor/passwd");
        cr_assert_str_eq(want, "root:x:0:0\n", "the control: the link reaches outside/");
        free(want);
        cr_assert_not(run_in(&spec, "echo pwned >> vendor/passwd"), "nothing through the link");
        cr_assert_not(run_in(&spec, "echo pwned > vendor/new"));
        cr_assert(run_in(&spec, "echo y >> README.md"), "the rest of the scope stays writable");
        want = NULL;
        cr_assert_geq(asprintf(&want,
                               "scope rule write:%s/vendor was dropped: the path no longer "
                               "names what it named when the pod started",
                               proj),
                      0);
        cr_assert(strstr(buf_str(&notes), want), "%s", buf_str(&notes));
        spec.roots = NULL; /* opened now: a symlink on the way is never followed either */
        buf_done(&notes);
        cr_assert_not(run_in(&spec, "echo pwned >> vendor/passwd"));
        cr_assert(strstr(buf_str(&notes), "led through a symlink"), "%s", buf_str(&notes));
        buf_done(&notes);
        free(want);
        sandbox_roots_free(roots);
        scope_done(&s);
}

/* recursive: false names one file; one that opens as a directory when the ruleset is built is
 * not granted (the kernel would grant the whole tree): dropped and said. */
Test(sandbox, a_one_file_rule_that_is_a_directory_is_dropped_and_reported) {
        pod_scope s = { 0 };
        sandbox_roots *roots = NULL;
        pod_buf notes = { 0 };
        sandbox_spec spec = {
                .scope = &s, .notes = &notes, .command = true, .network = POD_NETWORK_NONE
        };
        pod_error err = { 0 };
        char *vendor = tu_path(proj, "vendor");

        if (sandbox_abi() < 1)
                cr_skip_test("the kernel has no Landlock");
        cr_assert_eq(scope_add(&s, false, vendor, POD_ACCESS_WRITE, false, &err), 0, "%s", err.msg);
        cr_assert_eq(sandbox_roots_open(&roots, &s, &err), 0, "%s", err.msg);
        spec.roots = roots;
        cr_assert_not(run_in(&spec, "echo x > vendor/new"), "the directory's tree is not granted");
        cr_assert(
                strstr(buf_str(&notes), "names one file (recursive: false) and is now a directory"),
                "%s", buf_str(&notes));
        buf_done(&notes);
        sandbox_roots_free(roots);
        scope_done(&s);
        free(vendor);
}

/* A child's rules are opened beneath its spawner's roots, without symlinks: one that now
 * leads out through a symlink refuses the child's sandbox, saying which rule. */
Test(sandbox, a_childs_rule_through_a_symlink_refuses_its_sandbox) {
        pod_scope spawner = { 0 }, child = { 0 };
        sandbox_roots *roots = NULL;
        pod_sandbox *sb = NULL;
        pod_error err = { 0 };
        char *rt = tu_path(root, "runtime"), *run = tu_path(root, "run");
        manifest_view v;

        if (sandbox_abi() < 1)
                cr_skip_test("the kernel has no Landlock");
        tu_mkdirs(root, "runtime/pods");
        tu_write(rt, "registry.lock", "");
        tu_mkdirs(root, "run");
        scope_from_rules(&spawner, "w:proj");
        scope_from_rules(&child, "w:proj/src w:proj/vendor");
        cr_assert_eq(sandbox_roots_open(&roots, &spawner, &err), 0, "%s", err.msg);
        v = (manifest_view){ .scope = child, .network = POD_NETWORK_NONE };
        cr_assert_eq(sandbox_pod(&sb, &v, roots, run, "/bin/true", rt, NULL, &err), 0, "%s",
                     err.msg);
        cr_assert(run_under(sb, "echo x >> src/main.c && echo x >> vendor/lib.c"));
        sb = sandbox_free(sb);
        swap_vendor();
        cr_assert_lt(sandbox_pod(&sb, &v, roots, run, "/bin/true", rt, NULL, &err), 0,
                     "a rule through a symlink refuses the child");
        cr_assert(strstr(err.msg, "scope rule write:") && strstr(err.msg, "/proj/vendor") &&
                          strstr(err.msg, "without a symlink"),
                  "%s", err.msg);
        sandbox_roots_free(roots);
        scope_done(&spawner);
        scope_done(&child);
        free(rt);
        free(run);
}

Test(sandbox, without_landlock_it_refuses_and_says_how_to_opt_out) {
        pod_scope s = { 0 };
        sandbox_spec spec = { .scope = &s };
        pod_sandbox *sb = NULL;
        pod_error err = { 0 };

        setenv("POD_SANDBOX_ABI", "0", 1); /* a kernel without Landlock, faked */
        cr_assert_eq(sandbox_prepare(&sb, &spec, &err), -ENOSYS);
        cr_assert(strstr(err.msg, "no Landlock") && strstr(err.msg, "POD_SANDBOX=off"), "%s",
                  err.msg);
        unsetenv("POD_SANDBOX_ABI");
}

/* Where the kernel refuses what the scope allows (a new entry beside a deny rule, the
 * documented cost of holes), the file tool's error names the pod and the sandbox. */
Test(sandbox, a_kernel_refusal_names_the_pod_and_the_sandbox) {
        pod_tools *t;
        int st = 0;
        pid_t pid;

        if (sandbox_abi() < 1)
                cr_skip_test("the kernel has no Landlock");
        t = tools_for("w:proj -w:proj/vendor", "[Write]");
        pid = fork();
        cr_assert_geq(pid, 0);
        if (pid == 0) {
                sandbox_spec spec = { .scope = &t->fs.scope, .network = POD_NETWORK_FULL };
                pod_sandbox *sb = NULL;
                tool_result r = { 0 };
                json_t *in = json_pack("{s:s, s:s}", "file_path", "brand-new.c", "content", "x");
                alarm(30);
                if (sandbox_prepare(&sb, &spec, NULL) < 0 || sandbox_apply(sb) != 0)
                        _exit(2);
                if (tools_call(&r, t, "Write", in) < 0)
                        _exit(3);
                _exit(r.is_error &&
                                      strstr(r.text,
                                             "permission denied by the kernel to pod 'tester'") &&
                                      strstr(r.text, "sandbox") ?
                              0 :
                              1);
        }
        cr_assert_eq(waitpid(pid, &st, 0), pid);
        cr_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0, "status %d", st);
        tools_free(t);
}

/* ---- Unix sockets (docs/sandbox.md) ------------------------------------------------------- */

/* A TCP listener on loopback; its port in *ret_port. */
static int tcp_listener(int *ret_port) {
        struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
        socklen_t len = sizeof(a);
        int l = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

        cr_assert_eq(bind(l, (struct sockaddr *) &a, sizeof(a)), 0);
        cr_assert_eq(listen(l, 8), 0);
        cr_assert_eq(getsockname(l, (struct sockaddr *) &a, &len), 0);
        *ret_port = ntohs(a.sin_port);
        return l;
}

typedef struct reach_case {
        const char *command; /* $P the probe, $S a stream and $D a datagram socket outside,
                                $PORT the model's port, $OTHER another */
        bool allowed;
        int abi; /* the Landlock ABI the refusal needs */
        bool optional; /* its control may fail here (a socket family this kernel lacks) */
} reach_case;

/* Each case unconfined (the control, which must succeed unless optional) and under spec
 * (allowed or not); with landlock_only, under its Landlock ruleset without its seccomp
 * filter. */
static void
check_reach(const sandbox_spec *spec, const reach_case *cases, size_t n, bool landlock_only) {
        char *stream = tu_path(outside, "daemon.sock"), *dgram = tu_path(outside, "dgram.sock");
        int port, other, seen, rx = tu_unix_bound(dgram, SOCK_DGRAM);
        int l1 = tcp_listener(&port), l2 = tcp_listener(&other);
        pid_t srv = tu_unix_server(stream, SOCK_STREAM, &seen);
        sandbox_spec s = *spec;
        pod_sandbox *sb = NULL;
        pod_error err = { 0 };
        char cmd[4096];

        s.model_port = port;
        cr_assert_eq(sandbox_prepare(&sb, &s, &err), 0, "%s", err.msg);
        if (landlock_only)
                sandbox_drop_filter(sb);
        for (size_t i = 0; i < n; i++) {
                snprintf(cmd, sizeof(cmd), "P=%s S=%s D=%s PORT=%d OTHER=%d; %s >/dev/null 2>&1",
                         SANDBOX_PROBE, stream, dgram, port, other, cases[i].command);
                if (system(cmd) != 0) {
                        cr_assert(cases[i].optional, "the control failed: %s", cases[i].command);
                        continue; /* nothing here to refuse */
                }
                if (cases[i].allowed || sandbox_abi() >= cases[i].abi)
                        cr_assert_eq(run_under(sb, cmd), cases[i].allowed, "%s", cases[i].command);
        }
        sb = sandbox_free(sb);
        tu_unix_server_stop(srv, seen);
        close(rx);
        close(l1);
        close(l2);
        unlink(stream);
        unlink(dgram);
        free(stream);
        free(dgram);
}

/*
 * A delegate CLI and every process it starts (its own Bash tool included) without network:
 * full: no Unix socket but a stream or seqpacket socketpair, whatever the trick; TCP to the model's
 * port only (Landlock ABI 4). With network: full, what a command gets: the Unix sockets too.
 */
Test(sandbox, a_delegate_reaches_its_model_and_no_unix_socket) {
        static const reach_case offline[] = {
                { "$P unix stream $S", false, 1, false },
                { "$P unix dgram $D", false, 1, false },
                { "$P pairconnect dgram $D", false, 1, false },
                { "$P pairsendto dgram $D", false, 1, false },
                { "$P socketpair seqpacket", true, 1, false },
                { "$P socketpair stream", true, 1, false },
                { "$P socket unix", false, 1, false },
                { "$P socket unix-wide", false, 1, false },
                { "$P socket vsock", false, 1, true },
                { "$P socket netlink", false, 1, true },
                { "$P socket inet && $P socket inet6", true, 1, false },
                { "bash -c 'exec 3<>/dev/tcp/127.0.0.1/'$PORT", true, 1, false },
                { "bash -c 'exec 3<>/dev/tcp/127.0.0.1/'$OTHER", false, 4, false },
        };
        static const reach_case full[] = {
                { "$P unix stream $S", true, 1, false },
                { "$P pairsendto dgram $D", true, 1, false },
                { "bash -c 'exec 3<>/dev/tcp/127.0.0.1/'$OTHER", true, 1, false },
        };
        const char *own_read[] = { SANDBOX_PROBE, NULL };
        pod_scope s = { 0 };
        sandbox_spec spec = { .scope = &s,
                              .own_read = own_read,
                              .delegate = true,
                              .network = POD_NETWORK_MODEL_ONLY };

        if (sandbox_abi() < 1)
                cr_skip_test("the kernel has no Landlock");
        scope_from_rules(&s, "w:proj");
        check_reach(&spec, offline, POD_ARRAY_SIZE(offline), false);
        spec.network = POD_NETWORK_FULL;
        check_reach(&spec, full, POD_ARRAY_SIZE(full), false);
        scope_done(&s);
}

/* From ABI 9 Landlock refuses a pathname Unix socket made outside the sandbox by itself: the
 * command's sandbox here without its seccomp filter. */
Test(sandbox, from_abi_9_landlock_alone_refuses_unix_sockets_outside) {
        static const reach_case cases[] = { { "$P unix stream $S", false, 9, false },
                                            { "$P unix dgram $D", false, 9, false } };
        const char *own_read[] = { SANDBOX_PROBE, NULL };
        pod_scope s = { 0 };
        sandbox_spec spec = {
                .scope = &s, .own_read = own_read, .command = true, .network = POD_NETWORK_NONE
        };

        if (sandbox_abi() < 9)
                cr_skip_test("needs Landlock ABI 9 (LANDLOCK_ACCESS_FS_RESOLVE_UNIX, Linux 7.1); "
                             "this kernel has %d",
                             sandbox_abi());
        scope_from_rules(&s, "w:proj");
        check_reach(&spec, cases, POD_ARRAY_SIZE(cases), true);
        scope_done(&s);
}
