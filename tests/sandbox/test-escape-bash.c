/* SPDX-License-Identifier: MIT */
/*
 * The escape suite for Bash commands (DESIGN §14). Each attempt runs twice from the same
 * pod's tools: once with the sandbox switched off, where it must succeed (the target is
 * reachable by ordinary permissions, so the control proves the attempt is real), and once
 * in the sandbox, where it must fail. A fixture command (unconfined) resets the state
 * before each run. The pod's scope is write on proj/ only; outside/ is beside it.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>

#include "pod-test.h"
#include "tools/tools-internal.h"

static char *probe; /* sandbox-probe, copied into the scope so the sandbox may run it */

static void setup(void) {
        char cmd[1024];

        pod_fixture_setup();
        probe = tu_path(proj, "probe");
        snprintf(cmd, sizeof(cmd), "cp '%s' '%s'", SANDBOX_PROBE, probe);
        cr_assert_eq(system(cmd), 0);
}

static void teardown(void) {
        free(probe);
        pod_fixture_teardown();
}

TestSuite(escape_bash, .init = setup, .fini = teardown);

#define NEED_LANDLOCK(abi)                                                               \
        do {                                                                             \
                if (sandbox_abi() < (abi))                                               \
                        cr_skip_test("needs Landlock ABI %d; this kernel has %d", (abi), \
                                     sandbox_abi());                                     \
        } while (0)

/* Run command in a pod scoped to write on proj/ with network net; return its output, *ok =
 * exit code 0. */
static char *bash_net(bool sandboxed, pod_network net, const char *command, bool *ok) {
        pod_tools *t = tools_for("w:proj", "[Bash]");
        json_t *in = json_pack("{s:s}", "command", command);
        tool_result r = { 0 };

        t->sandboxed = sandboxed;
        t->network = net;
        cr_assert_eq(tools_call(&r, t, "Bash", in), 0);
        *ok = strstr(r.text, "[exit code 0]") != NULL;
        json_decref(in);
        tools_free(t);
        return r.text;
}

/* bash_net with the profile's default network (model-only). */
static char *bash(bool sandboxed, const char *command, bool *ok) {
        return bash_net(sandboxed, POD_NETWORK_MODEL_ONLY, command, ok);
}

static char *fmt(const char *f, ...) {
        va_list ap;
        char *s = NULL;

        va_start(ap, f);
        cr_assert_geq(vasprintf(&s, f, ap), 0);
        va_end(ap);
        return s;
}

/*
 * The control succeeds unconfined; the attempt fails in the sandbox. prep (may be NULL)
 * runs unconfined before each. The sandboxed output is returned for further checks.
 */
static char *escape(const char *prep, const char *command) {
        bool ok;
        char *out;

        if (prep)
                free(bash(false, prep, &ok));
        out = bash(false, command, &ok);
        if (!ok)
                cr_skip_test("the control failed here, so the attempt proves nothing: %s -> %s",
                             command, out);
        free(out);
        if (prep)
                free(bash(false, prep, &ok));
        out = bash(true, command, &ok);
        cr_assert_not(ok, "escaped the sandbox: %s -> %s", command, out);
        return out;
}

static void escape_free(const char *prep, char *command) {
        free(escape(prep, command));
        free(command);
}

Test(escape_bash, writes_outside_by_relative_absolute_and_dotdot_paths) {
        NEED_LANDLOCK(1);
        escape_free(NULL, fmt("echo x > ../outside/new"));
        escape_free(NULL, fmt("echo x > %s/new", outside));
        escape_free(NULL, fmt("echo x > %s/src/../../outside/new", proj));
        escape_free(NULL, fmt("echo x >> %s/passwd", outside));
}

Test(escape_bash, the_scope_itself_stays_writable) {
        bool ok;
        char *out;

        NEED_LANDLOCK(1);
        out = bash(true,
                   "echo x > new && mkdir d && mv new d/ && cat d/new && rm -r d && cat README.md",
                   &ok);
        cr_assert(ok, "%s", out);
        cr_assert(strstr(out, "x\nhello\n"), "%s", out);
        free(out);
        out = bash(true, "cat /etc/hostname >/dev/null && ls /usr/bin >/dev/null && echo fine",
                   &ok);
        cr_assert(ok, "system paths stay readable: %s", out);
        free(out);
}

Test(escape_bash, symlinks_out_of_the_scope) {
        char *prep;

        NEED_LANDLOCK(1);
        prep = fmt("rm -f link flink; ln -s %s link; ln -s %s/passwd flink", outside, outside);
        escape_free(prep, fmt("echo x > link/new"));
        escape_free(prep, fmt("echo x >> flink"));
        escape_free("rm -f mine", fmt("ln -s %s mine && echo x > mine/new", outside));
        free(prep);
}

/* Run command with the tools t (one pod: its roots opened when the tools were made). */
static char *bash_with(pod_tools *t, bool sandboxed, const char *command, bool *ok) {
        json_t *in = json_pack("{s:s}", "command", command);
        tool_result r = { 0 };

        t->sandboxed = sandboxed;
        cr_assert_eq(tools_call(&r, t, "Bash", in), 0);
        *ok = strstr(r.text, "[exit code 0]") != NULL;
        json_decref(in);
        return r.text;
}

/*
 * Overlapping rules (write proj/, write proj/vendor/): a command replaces vendor/ with a
 * symlink out of the scope, and the next command writes through it. The rule is not looked
 * up again by its path: it is dropped, and the result says so (docs/sandbox.md "Scope
 * roots"). The same two commands unconfined reach outside/.
 */
Test(escape_bash, a_rule_path_swapped_for_a_symlink_grants_nothing) {
        char *swap = fmt("rm -rf vendor && ln -s %s vendor", outside), *out;
        char *dropped = fmt("scope rule write:%s/vendor was dropped: the path no longer names "
                            "what it named when the pod started",
                            proj);
        char *reset = fmt("rm -f vendor %s/new; echo 'root:x:0:0' > %s/passwd; mkdir vendor",
                          outside, outside);
        const char *write = "echo pwned > vendor/passwd && echo pwned > vendor/new";
        pod_tools *t;
        bool ok;

        NEED_LANDLOCK(1);
        for (int sandboxed = 0; sandboxed < 2; sandboxed++) {
                if (sandboxed)
                        free(bash(false, reset, &ok));
                t = tools_for("w:proj w:proj/vendor", "[Bash]");
                out = bash_with(t, sandboxed, swap, &ok);
                cr_assert(ok, "the swap is inside the scope: %s", out);
                free(out);
                out = bash_with(t, sandboxed, write, &ok);
                if (!sandboxed && !ok)
                        cr_skip_test("the control failed here, so the attempt proves nothing: %s",
                                     out);
                cr_assert_eq(ok, !sandboxed, "%s -> %s", write, out);
                if (sandboxed)
                        cr_assert(strstr(out, dropped), "the dropped rule is reported: %s", out);
                free(out);
                tools_free(t);
        }
        out = tu_read_at(outside, "passwd");
        cr_assert_str_eq(out, "root:x:0:0\n", "outside/passwd is intact");
        free(out);
        out = fmt("%s/new", outside);
        cr_assert_eq(access(out, F_OK), -1, "nothing was made outside");
        free(out);
        free(reset);
        free(swap);
        free(dropped);
}

Test(escape_bash, hardlinks_and_renames_across_the_boundary) {
        char *prep;

        NEED_LANDLOCK(2);
        prep = fmt("rm -f hl moved; echo root:x > %s/passwd; echo hello > README.md", outside);
        escape_free(prep, fmt("ln %s/passwd hl", outside));
        escape_free(prep, fmt("mv %s/passwd moved", outside));
        escape_free(prep, fmt("mv README.md %s/", outside));
        free(prep);
}

Test(escape_bash, proc_self_root_cwd_and_descriptors) {
        NEED_LANDLOCK(1);
        escape_free(NULL, fmt("echo x > /proc/self/root%s/new", outside));
        escape_free(NULL, fmt("cd %s && echo x > new", outside));
        escape_free(NULL, fmt("cd %s && echo x > /proc/self/cwd/new", outside));
        escape_free(NULL, fmt("%s opath %s passwd", probe, outside));
        escape_free(NULL, fmt("%s procfd %s/passwd", probe, outside));
}

Test(escape_bash, truncate_and_mkfifo_outside) {
        NEED_LANDLOCK(3);
        escape_free(NULL, fmt("truncate -s 0 %s/passwd", outside));
        {
                char *prep = fmt("rm -f %s/fifo", outside);
                escape_free(prep, fmt("mkfifo %s/fifo", outside));
                free(prep);
        }
}

Test(escape_bash, reads_outside_and_of_the_parent) {
        NEED_LANDLOCK(1);
        escape_free(NULL, fmt("cat %s/passwd", outside));
        escape_free(NULL, fmt("ls %s", outside));
        escape_free(NULL, fmt("cat /proc/$PPID/environ > /dev/null"));
        escape_free(NULL, fmt("exec 3</proc/$PPID/mem"));
}

Test(escape_bash, network_sockets_and_dev_tcp) {
        static const char *const families[] = { "inet", "inet6", "netlink", "vsock", "packet" };
        int l = socket(AF_INET, SOCK_STREAM, 0);
        struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
        socklen_t len = sizeof(a);
        bool ok;
        char *out;

        NEED_LANDLOCK(1);
        for (size_t i = 0; i < POD_ARRAY_SIZE(families); i++) {
                char *cmd = fmt("%s socket %s", probe, families[i]);
                free(bash(false, cmd, &ok));
                if (ok) /* the family exists here */
                        free(escape(NULL, cmd));
                free(cmd);
        }
        cr_assert_eq(bind(l, (struct sockaddr *) &a, sizeof(a)), 0);
        cr_assert_eq(listen(l, 4), 0);
        getsockname(l, (struct sockaddr *) &a, &len);
        escape_free(NULL, fmt("exec 3<>/dev/tcp/127.0.0.1/%d", ntohs(a.sin_port)));
        out = bash(true, "exec 3<>/dev/tcp/127.0.0.1/1", &ok);
        cr_assert(strstr(out, "kernel sandbox"), "the failure says the sandbox did it: %s", out);
        free(out);
        close(l);
}

Test(escape_bash, dangerous_system_calls) {
        char *out;

        NEED_LANDLOCK(1);
        escape_free(NULL, fmt("%s io_uring", probe));
        escape_free(NULL, fmt("%s userns", probe));
        escape_free(NULL, fmt("%s mount", probe));
        escape_free(NULL, fmt("%s int80", probe));
        escape_free(NULL, fmt("%s caps", probe));
        /* TIOCSTI: without a terminal the control fails too; the sandbox refuses it first. */
        {
                bool ok;
                char *cmd = fmt("%s tiocsti", probe);
                out = bash(true, cmd, &ok);
                cr_assert(strstr(out, "Operation not permitted"), "%s", out);
                free(out);
                free(cmd);
        }
}

Test(escape_bash, the_parent_and_other_processes) {
        pid_t victim = fork();

        NEED_LANDLOCK(1);
        if (victim == 0) { /* gone within a minute even if a failed assertion skips the kill */
                alarm(60);
                pause();
                _exit(0);
        }
        escape_free(NULL, fmt("%s ptrace %d", probe, (int) victim));
        escape_free(NULL, fmt("%s vmread %d", probe, (int) victim));
        escape_free(NULL, fmt("%s getfd %d", probe, (int) victim));
        if (sandbox_abi() >= 6) {
                escape_free(NULL, fmt("%s signal %d", probe, (int) victim));
                escape_free(NULL, fmt("kill -0 $PPID"));
        }
        kill(victim, SIGKILL);
        waitpid(victim, NULL, 0);
}

/*
 * A command may not start a session of its own (setsid): what it leaves running stays in
 * its session and process group, where its pod's kill finds it. The control: unconfined,
 * setsid works.
 */
Test(escape_bash, a_command_cannot_start_a_session_of_its_own) {
        NEED_LANDLOCK(1);
        escape_free(NULL, fmt("%s setsid; exit $?", probe)); /* not exec'd: no group leader */
        escape_free(NULL, fmt("setsid -f -w true"));
}

/*
 * A process that leaves its parent (a double fork) keeps the command's sandbox, write rights
 * on the scope included: it must end with the command (docs/sandbox.md, Containment). The
 * test process is a subreaper, as every pod is. The control: the loop ran (its pid written,
 * the file appended to) before the command ended.
 */
Test(escape_bash, a_process_that_leaves_the_commands_group_ends_with_it) {
        pod_error err = { 0 };
        char *out, *pid_text, *f;
        bool ok, gone;
        int pid;

        NEED_LANDLOCK(1);
        cr_assert_eq(contain_self(&err), 0, "%s", err.msg);
        out = bash(true,
                   "(sh -c 'echo $$ > loop.pid; while :; do echo x >> f; sleep 0.05; "
                   "done' > /dev/null 2>&1 &); while [ ! -s f ]; do sleep 0.05; done",
                   &ok);
        pid_text = tu_read_at(proj, "loop.pid");
        pid = pid_text ? atoi(pid_text) : 0;
        cr_assert_gt(pid, 1, "the loop never started: %s", out);
        gone = kill(pid, 0) < 0 && errno == ESRCH;
        kill(pid, SIGKILL); /* whatever the verdict */
        f = tu_read_at(proj, "f");
        cr_assert(ok && f && strstr(f, "x\n"), "%s", out);
        cr_assert(gone, "the loop outlived its command: %s", out);
        cr_assert(strstr(out, "[killed ") && strstr(out, " left running by the command: pid "),
                  "the result names what was killed: %s", out);
        free(f);
        free(pid_text);
        free(out);
}

Test(escape_bash, abstract_sockets_outside) {
        struct sockaddr_un a = { .sun_family = AF_UNIX };
        char name[64];
        int l = socket(AF_UNIX, SOCK_STREAM, 0);

        NEED_LANDLOCK(6);
        snprintf(name, sizeof(name), "pod-escape-%d", (int) getpid());
        memcpy(a.sun_path + 1, name, strlen(name));
        cr_assert_eq(bind(l, (struct sockaddr *) &a,
                          (socklen_t) (offsetof(struct sockaddr_un, sun_path) + 1 + strlen(name))),
                     0);
        cr_assert_eq(listen(l, 4), 0);
        escape_free(NULL, fmt("%s abstract %s", probe, name));
        close(l);
}

/*
 * Unix sockets outside the scope (docs/sandbox.md): a listener beside the project, stream,
 * seqpacket and datagram, by path and abstract. Unconfined each is reached (a stream one
 * answers); without `network: full` no command reaches any: not with a socket of its own,
 * nor by connecting a datagram socketpair again, nor by sending to an address through one.
 */
Test(escape_bash, unix_sockets_outside_the_scope) {
        char *stream = tu_path(outside, "stream.sock"), *seqpacket = tu_path(outside, "seq.sock");
        char *dgram = tu_path(outside, "dgram.sock"), abstract[64], adgram[64];
        pid_t srv[3];
        int seen[3], rx[2];

        NEED_LANDLOCK(1);
        snprintf(abstract, sizeof(abstract), "@pod-escape-stream-%d", (int) getpid());
        snprintf(adgram, sizeof(adgram), "@pod-escape-dgram-%d", (int) getpid());
        srv[0] = tu_unix_server(stream, SOCK_STREAM, &seen[0]);
        srv[1] = tu_unix_server(seqpacket, SOCK_SEQPACKET, &seen[1]);
        srv[2] = tu_unix_server(abstract, SOCK_STREAM, &seen[2]);
        rx[0] = tu_unix_bound(dgram, SOCK_DGRAM);
        rx[1] = tu_unix_bound(adgram, SOCK_DGRAM);
        escape_free(NULL, fmt("%s unix stream %s", probe, stream));
        escape_free(NULL, fmt("%s unix seqpacket %s", probe, seqpacket));
        escape_free(NULL, fmt("%s unix stream %s", probe, abstract));
        escape_free(NULL, fmt("%s unix dgram %s", probe, dgram));
        escape_free(NULL, fmt("%s pairconnect dgram %s", probe, dgram));
        escape_free(NULL, fmt("%s pairsendto dgram %s", probe, dgram));
        escape_free(NULL, fmt("%s pairsendto dgram %s", probe, adgram));
        escape_free(NULL, fmt("%s pairconnect dgram %s", probe, adgram));
        for (size_t i = 0; i < 3; i++) {
                cr_assert_eq(tu_unix_seen(seen[i]), 1, "listener %zu: the control alone came", i);
                tu_unix_server_stop(srv[i], seen[i]);
        }
        close(rx[0]);
        close(rx[1]);
        free(stream);
        free(seqpacket);
        free(dgram);
}

/* What the docs promise: `network: full` reaches them (the operator's choice). */
Test(escape_bash, a_network_full_command_reaches_unix_sockets) {
        char *stream = tu_path(outside, "stream.sock"),
             *cmd = fmt("%s unix stream %s", probe, stream);
        int seen;
        pid_t srv = tu_unix_server(stream, SOCK_STREAM, &seen);
        bool ok;
        char *out;

        NEED_LANDLOCK(1);
        out = bash_net(true, POD_NETWORK_FULL, cmd, &ok);
        cr_assert(ok && strstr(out, "ok"), "%s", out);
        cr_assert_eq(tu_unix_seen(seen), 1);
        tu_unix_server_stop(srv, seen);
        free(out);
        free(cmd);
        free(stream);
}

/* Stream socketpairs (asyncio, subprocess helpers, multiprocessing pipes) keep working; the
 * other types, which can be addressed, are refused. */
Test(escape_bash, stream_socketpairs_work_and_other_types_do_not) {
        bool ok;
        char *cmd = fmt("%s socketpair stream", probe), *out;

        NEED_LANDLOCK(1);
        out = bash(true, cmd, &ok);
        cr_assert(ok, "%s", out);
        free(out);
        free(cmd);
        if (access("/usr/bin/python3", X_OK) == 0) {
                out = bash(true,
                           "/usr/bin/python3 -c 'import socket; a, b = socket.socketpair(); "
                           "a.sendall(b\"x\"); print(b.recv(1).decode())'",
                           &ok);
                cr_assert(ok && strstr(out, "x\n"), "python3's socketpair: %s", out);
                free(out);
        }
        escape_free(NULL, fmt("%s socketpair dgram", probe));
        escape_free(NULL, fmt("%s socketpair seqpacket", probe));
}

/* Everyday tools need no socket: users and groups come from /etc (nscd and systemd's userdb,
 * over Unix sockets, are refused and the C library falls back), git works in the scope. */
Test(escape_bash, everyday_tools_work_without_sockets) {
        bool ok;
        char *out;

        NEED_LANDLOCK(1);
        out = bash(true, "id -un && ls -l README.md && getent passwd root >/dev/null", &ok);
        cr_assert(ok, "%s", out);
        free(out);
        if (access("/usr/bin/git", X_OK) == 0) {
                out = bash(true,
                           "export HOME=$PWD GIT_CONFIG_NOSYSTEM=1; git init -q g && cd g && "
                           "echo x > f && git add f && git -c user.name=t -c user.email=t@t "
                           "commit -qm m && git log --oneline | wc -l",
                           &ok);
                cr_assert(ok && strstr(out, "1\n"), "git: %s", out);
                free(out);
        }
}

Test(escape_bash, stacking_cannot_loosen_and_setuid_gives_nothing) {
        char *copy = tu_path(proj, "suid-probe"), *cmd;
        bool ok;

        NEED_LANDLOCK(1);
        escape_free(NULL, fmt("%s loosen %s/passwd", probe, outside));
        if (geteuid() != 0) {
                free(copy);
                cr_skip_test("making a setuid-root binary needs root");
        }
        cmd = fmt("cp %s %s && chmod 4755 %s", probe, copy, copy);
        free(bash(false, cmd, &ok));
        free(cmd);
        /* root's copy, setuid: unconfined it holds capabilities, confined none at all */
        escape_free(NULL, fmt("cd / && %s caps", copy));
        free(copy);
}

/* Landlock does not mediate metadata (docs/sandbox.md): what stops a change of owner
 * outside the scope is that a sandboxed command holds no capability. */
Test(escape_bash, chown_outside_needs_a_capability_the_sandbox_drops) {
        NEED_LANDLOCK(1);
        if (geteuid() != 0)
                cr_skip_test("the control (a chown to another user) needs root");
        escape_free(NULL, fmt("chown 1 %s/passwd", outside));
}

/* A pod's control socket: connect() on it is not mediated by Landlock, so what protects it is
 * its token, in a registry entry no sandbox lets a command (or a pod) read. The control reads
 * the token and drives the pod; confined, the same attempt only has a guess. */
Test(escape_bash, a_pods_control_socket_is_useless_without_its_token) {
        char *rt = tu_path(root, "rt"), *sock = tu_path(root, "rt/pods/boss/sock");
        char *entry = tu_path(root, "rt/pods/boss/pod.json");
        pod_control *ctl = NULL;
        pod_server *srv = NULL;
        pod_error err = { 0 };

        NEED_LANDLOCK(1);
        tu_write(rt, "pods/boss/pod.json",
                 "{\"name\":\"boss\",\"token\":\"0123456789abcdef0123456789abcdef\"}");
        cr_assert_eq(control_new(&ctl, &err), 0);
        control_set_state(ctl, "running");
        cr_assert_eq(control_start(&srv, sock, "0123456789abcdef0123456789abcdef", "boss", ctl,
                                   NULL, &err),
                     0, "%s", err.msg);
        escape_free(NULL, fmt("%s rpc %s %s", probe, sock, entry));
        server_stop(srv);
        control_free(ctl);
        free(rt);
        free(sock);
        free(entry);
}

/* ---- starving a pod's control socket (issue #13) ------------------------------------------ */

typedef struct flood_run {
        bool sandboxed;
        const char *command;
        char *out;
        bool ok;
} flood_run;

static void *run_flood(void *arg) {
        flood_run *f = arg;

        /* network: full, without which a command makes no Unix socket at all */
        f->out = bash_net(f->sandboxed, POD_NETWORK_FULL, f->command, &f->ok);
        return NULL;
}

/* A command holds 300 silent connections to the pod's socket (from 30 processes); while it
 * does, is a caller with the token served? */
static bool
served_while_flooded(bool sandboxed, const char *sock, const char *command, bool *ret_held) {
        char *held = tu_path(proj, "flood.out"), *stop = tu_path(proj, "stop"), *text = NULL;
        flood_run f = { .sandboxed = sandboxed, .command = command };
        json_t *res = NULL;
        pod_error err = { 0 };
        pthread_t th;
        int r = -1;

        unlink(held);
        unlink(stop);
        cr_assert_eq(pthread_create(&th, NULL, run_flood, &f), 0);
        for (int i = 0; i < 1200 && !(text && strstr(text, "held")); i++) {
                free(text);
                usleep(50 * 1000);
                text = tu_read(held);
        }
        *ret_held = text && strstr(text, "300 held");
        if (*ret_held)
                r = ipc_call(&res, sock, getpid(), "0123456789abcdef0123456789abcdef", "status",
                             NULL, &err);
        json_decref(res);
        tu_write(proj, "stop", "");
        pthread_join(th, NULL);
        free(f.out);
        free(text);
        free(held);
        free(stop);
        return r == 0;
}

/* connect() on a pod's socket is not the sandbox's to refuse (a command of a pod with
 * network: full may have Unix sockets); what keeps the pod reachable is the socket's own quota of
 * connections without a token. The control: unconfined, the flood holds its 300 connections. Either
 * way a token holder is served. */
Test(escape_bash, a_flood_of_silent_connections_does_not_starve_a_pods_socket) {
        char *sock = tu_path(root, "rt/pods/boss/sock"), *cmd;
        pod_control *ctl = NULL;
        pod_server *srv = NULL;
        pod_error err = { 0 };
        bool held;

        NEED_LANDLOCK(1);
        tu_mkdirs(root, "rt/pods/boss");
        cr_assert_eq(control_new(&ctl, &err), 0);
        control_set_state(ctl, "running");
        cr_assert_eq(control_start(&srv, sock, "0123456789abcdef0123456789abcdef", "boss", ctl,
                                   NULL, &err),
                     0, "%s", err.msg);
        cmd = fmt("%s flood %s 300 30 %s/stop > %s/flood.out", probe, sock, proj, proj);
        cr_assert(served_while_flooded(false, sock, cmd, &held) || !held,
                  "unconfined: the flood starved the pod's socket");
        if (!held) {
                server_stop(srv);
                control_free(ctl);
                cr_skip_test("the control flood could not hold 300 connections here");
        }
        cr_assert(served_while_flooded(true, sock, cmd, &held),
                  "sandboxed: the flood starved the pod's socket (held: %d)", held);
        server_stop(srv);
        control_free(ctl);
        free(cmd);
        free(sock);
}
