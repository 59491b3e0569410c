/* SPDX-License-Identifier: MIT */
#include <criterion/criterion.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "pod/pod.h"
#include "testutil.h"

#define TOKEN "0123456789abcdef0123456789abcdef"

static char *root, *sock;
static pod_control *ctl;
static pod_server *srv;

static void setup(void) {
        pod_error err = { 0 };

        root = tu_tmpdir_real();
        sock = tu_path(root, "sock");
        cr_assert_eq(control_new(&ctl, &err), 0);
        control_set_state(ctl, "running");
        cr_assert_eq(control_start(&srv, sock, TOKEN, "p1", ctl, NULL, &err), 0, "%s", err.msg);
}

/* The task the pod was handed, taken (NULL: none). */
static char *task_taken(void) {
        bool stop;

        return control_take_task(ctl, &stop);
}

static void teardown(void) {
        srv = server_stop(srv);
        cr_assert_neq(access(sock, F_OK), 0, "the socket is removed");
        ctl = control_free(ctl);
        tu_rm_rf(root);
        free(root);
        free(sock);
}

TestSuite(ipc, .init = setup, .fini = teardown);

static int dial(void) {
        struct sockaddr_un a = { .sun_family = AF_UNIX };
        int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

        strcpy(a.sun_path, sock);
        cr_assert_eq(connect(fd, (struct sockaddr *) &a, sizeof(a)), 0);
        return fd;
}

/* dial() without assertions, for forked holders: -1 when the pod is gone. */
static int dial_quiet(void) {
        struct sockaddr_un a = { .sun_family = AF_UNIX };
        int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

        strcpy(a.sun_path, sock);
        if (fd >= 0 && connect(fd, (struct sockaddr *) &a, sizeof(a)) < 0) {
                close(fd);
                return -1;
        }
        return fd;
}

static void say(int fd, const char *line) {
        size_t n = strlen(line);

        cr_assert_eq(write(fd, line, n), (ssize_t) n);
        cr_assert_eq(write(fd, "\n", 1), 1);
}

/* One reply line as JSON; NULL at EOF. */
static json_t *hear(int fd) {
        char buf[65536];
        size_t n = 0;

        while (n < sizeof(buf) - 1) {
                struct pollfd p = { fd, POLLIN, 0 };
                ssize_t k;
                cr_assert_gt(poll(&p, 1, 5000), 0, "no reply within 5 s");
                k = read(fd, buf + n, 1);
                if (k <= 0)
                        return NULL;
                if (buf[n] == '\n')
                        break;
                n++;
        }
        buf[n] = '\0';
        return json_loads(buf, 0, NULL);
}

static int error_code(json_t *r) {
        return (int) json_integer_value(json_object_get(json_object_get(r, "error"), "code"));
}

static int hello(void) {
        int fd = dial();
        json_t *r;

        say(fd,
            "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"hello\",\"params\":{\"token\":\"" TOKEN
            "\"}}");
        r = hear(fd);
        cr_assert_not_null(r, "the pod closed a connection that said hello");
        cr_assert_str_eq(json_string_value(json_object_get(json_object_get(r, "result"), "pod")) ?:
                                                                                                   "",
                         "p1", "not served: %s", json_dumps(r, 0));
        json_decref(r);
        return fd;
}

Test(ipc, a_bad_token_is_refused_and_the_connection_closed) {
        int fd = dial();
        json_t *r;

        say(fd,
            "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"hello\",\"params\":{\"token\":\"guess\"}}");
        r = hear(fd);
        cr_assert_eq(error_code(r), RPC_BAD_TOKEN);
        json_decref(r);
        cr_assert_null(hear(fd), "closed");
        close(fd);
}

Test(ipc, nothing_works_before_hello) {
        int fd = dial();
        json_t *r;

        say(fd, "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"shutdown\"}");
        r = hear(fd);
        cr_assert_eq(error_code(r), RPC_HELLO_FIRST);
        cr_assert_not(control_shutting_down(ctl));
        json_decref(r);
        close(fd);
}

Test(ipc, garbage_and_unknown_methods_get_errors) {
        int fd = hello();
        json_t *r;

        say(fd, "this is not json");
        r = hear(fd);
        cr_assert_eq(error_code(r), RPC_PARSE_ERROR);
        json_decref(r);
        say(fd, "[1,2,3]");
        r = hear(fd);
        cr_assert_eq(error_code(r), RPC_INVALID_REQUEST);
        json_decref(r);
        say(fd, "{\"jsonrpc\":\"2.0\",\"id\":7,\"method\":\"teleport\"}");
        r = hear(fd);
        cr_assert_eq(error_code(r), RPC_METHOD_NOT_FOUND);
        cr_assert_eq(json_integer_value(json_object_get(r, "id")), 7);
        json_decref(r);
        say(fd, "{\"jsonrpc\":\"2.0\",\"id\":8,\"method\":\"status\"}");
        r = hear(fd);
        cr_assert_str_eq(json_string_value(json_object_get(json_object_get(r, "result"), "state")),
                         "running", "the connection survived the garbage");
        json_decref(r);
        close(fd);
}

Test(ipc, an_oversized_frame_closes_the_connection) {
        int fd = hello(), other;
        size_t n = POD_FRAME_MAX + 65536, sent = 0;
        char *big = malloc(n);
        json_t *r;

        memset(big, 'x', n);
        while (sent < n) {
                ssize_t k = send(fd, big + sent, n - sent, MSG_NOSIGNAL);
                if (k <= 0)
                        break;
                sent += (size_t) k;
        }
        r = hear(fd);
        cr_assert_eq(error_code(r), RPC_FRAME_TOO_LARGE);
        json_decref(r);
        free(big);
        close(fd);
        other = hello(); /* the pod is fine */
        close(other);
}

Test(ipc, send_cancel_and_shutdown_reach_the_worker) {
        int fd = hello();
        json_t *r;
        char *m;

        say(fd,
            "{\"jsonrpc\":\"2.0\",\"id\":2,\"method\":\"send\",\"params\":{\"message\":\"also do X\"}}");
        r = hear(fd);
        cr_assert_eq(json_integer_value(json_object_get(json_object_get(r, "result"), "queued")),
                     1);
        json_decref(r);
        m = control_take_message(ctl);
        cr_assert_str_eq(m, "also do X");
        free(m);
        cr_assert_null(control_take_message(ctl));
        say(fd, "{\"jsonrpc\":\"2.0\",\"id\":3,\"method\":\"send\",\"params\":{}}");
        r = hear(fd);
        cr_assert_eq(error_code(r), RPC_INVALID_PARAMS);
        json_decref(r);
        say(fd, "{\"jsonrpc\":\"2.0\",\"id\":4,\"method\":\"cancel\"}");
        json_decref(hear(fd));
        cr_assert_eq(*control_cancel_flag(ctl), 1);
        cr_assert_not(control_shutting_down(ctl));
        say(fd, "{\"jsonrpc\":\"2.0\",\"id\":5,\"method\":\"shutdown\"}");
        json_decref(hear(fd));
        cr_assert(control_shutting_down(ctl));
        close(fd);
}

Test(ipc, subscribers_receive_events) {
        int fd = hello(), quiet = hello();
        json_t *r, *ev = json_pack("{s:s, s:s}", "type", "text", "text", "hi");

        say(fd, "{\"jsonrpc\":\"2.0\",\"id\":2,\"method\":\"subscribe\"}");
        json_decref(hear(fd));
        server_publish(srv, ev);
        r = hear(fd);
        cr_assert_str_eq(json_string_value(json_object_get(r, "method")), "event");
        cr_assert_str_eq(json_string_value(json_object_get(json_object_get(r, "params"), "text")),
                         "hi");
        json_decref(r);
        json_decref(ev);
        say(quiet, "{\"jsonrpc\":\"2.0\",\"id\":9,\"method\":\"status\"}");
        r = hear(quiet);
        cr_assert_eq(json_integer_value(json_object_get(r, "id")), 9,
                     "no event for a non-subscriber");
        json_decref(r);
        close(fd);
        close(quiet);
}

Test(ipc, fifty_clients_at_once) {
        int fds[50];

        for (int i = 0; i < 50; i++)
                fds[i] = hello();
        for (int i = 0; i < 50; i++)
                say(fds[i], "{\"jsonrpc\":\"2.0\",\"id\":2,\"method\":\"status\"}");
        for (int i = 0; i < 50; i++) {
                json_t *r = hear(fds[i]);
                cr_assert_not_null(json_object_get(r, "result"), "client %d", i);
                json_decref(r);
                close(fds[i]);
        }
}

Test(ipc, the_client_call_helper) {
        json_t *res = NULL;
        pod_error err = { 0 };

        cr_assert_eq(ipc_call(&res, sock, getpid(), TOKEN, "status", NULL, &err), 0, "%s", err.msg);
        cr_assert_str_eq(json_string_value(json_object_get(res, "pod")), "p1");
        json_decref(res);
        cr_assert_lt(ipc_call(&res, sock, 0, "wrong", "status", NULL, &err), 0);
        cr_assert(strstr(err.msg, "bad token"), "%s", err.msg);
}

/* A token goes only to the process it belongs to: a socket served by another is refused
 * before anything is written to it (a sandboxed pod may replace entries' sockets). */
Test(ipc, a_socket_served_by_another_process_gets_no_token) {
        json_t *res = NULL;
        pod_error err = { 0 };
        pid_t other = getppid();

        cr_assert_eq(ipc_call(&res, sock, other, TOKEN, "status", NULL, &err), -EPERM);
        cr_assert(strstr(err.msg, "not served by the pod's process") &&
                          strstr(err.msg, "nothing was sent"),
                  "%s", err.msg);
        cr_assert_eq(ipc_verify(sock, other, &err), -EPERM);
        cr_assert_eq(ipc_verify(sock, getpid(), &err), 0, "%s", err.msg);
}

/* ---- the spawner's channel: one run, and nothing else, each side bounded ---------------- */

static void pair(int sv[2]) {
        cr_assert_eq(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
}

Test(ipc, the_channel_hands_over_the_first_task) {
        pod_error err = { 0 };
        char *task;
        int sv[2];
        json_t *r;

        pair(sv);
        control_accept_runs(ctl);
        say(sv[0],
            "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"run\",\"params\":{\"task\":\"do it\"}}");
        cr_assert_eq(control_first_task(ctl, sv[1], &err), 0, "%s", err.msg);
        r = hear(sv[0]);
        cr_assert(json_is_true(json_object_get(json_object_get(r, "result"), "accepted")));
        cr_assert_eq(json_integer_value(json_object_get(json_object_get(r, "result"), "turn")), 1);
        task = task_taken();
        cr_assert_str_eq(task, "do it");
        json_decref(r);
        free(task);
        close(sv[0]);
        close(sv[1]);
}

Test(ipc, the_channel_refuses_anything_but_run) {
        const char *bad[] = {
                "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"status\"}", "not json at all",
                "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"run\",\"params\":{\"task\":\"\"}}"
        };

        control_accept_runs(ctl);
        for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
                pod_error err = { 0 };
                int sv[2];
                json_t *r;
                pair(sv);
                say(sv[0], bad[i]);
                cr_assert_lt(control_first_task(ctl, sv[1], &err), 0, "%s", bad[i]);
                cr_assert(strstr(err.msg, "refused"), "%s", err.msg);
                r = hear(sv[0]);
                cr_assert_neq(error_code(r), 0, "an error reply to %s", bad[i]);
                cr_assert_null(task_taken(), "no task from %s", bad[i]);
                json_decref(r);
                close(sv[0]);
                close(sv[1]);
        }
}

Test(ipc, the_channel_closed_gives_no_task) {
        pod_error err = { 0 };
        int sv[2];

        pair(sv);
        control_accept_runs(ctl);
        cr_assert_eq(write(sv[0], "{\"jsonrpc\"", 10), 10); /* half a line, then gone */
        close(sv[0]);
        cr_assert_eq(control_first_task(ctl, sv[1], &err), -EPIPE);
        cr_assert(strstr(err.msg, "handed over no task") && strstr(err.msg, "closed"), "%s",
                  err.msg);
        cr_assert_null(task_taken());
        close(sv[1]);
}

/* The spawner's side: the child's answer is read up to a bound, and its error named. */
Test(ipc, the_spawner_reads_a_bounded_answer) {
        json_t *res = NULL, *params = json_pack("{s:s}", "task", "t");
        pod_error err = { 0 };
        char *big = malloc(70 * 1024);
        int sv[2];

        pair(sv);
        say(sv[1], "{\"jsonrpc\":\"2.0\",\"id\":1,\"result\":{\"accepted\":true,\"turn\":1}}");
        cr_assert_eq(ipc_call_fd(&res, sv[0], "run", params, &err), 0, "%s", err.msg);
        cr_assert_eq(json_integer_value(json_object_get(res, "turn")), 1);
        json_decref(res);
        res = NULL;
        say(sv[1],
            "{\"jsonrpc\":\"2.0\",\"id\":1,\"error\":{\"code\":-32003,\"message\":\"busy now\"}}");
        cr_assert_lt(ipc_call_fd(&res, sv[0], "run", params, &err), 0);
        cr_assert(strstr(err.msg, "run: busy now"), "%s", err.msg);
        memset(big, 'x', 70 * 1024); /* a line longer than any answer may be */
        cr_assert_eq(write(sv[1], big, 70 * 1024), 70 * 1024);
        cr_assert_eq(ipc_call_fd(&res, sv[0], "run", params, &err), -EMSGSIZE, "%s", err.msg);
        close(sv[1]);
        cr_assert_eq(ipc_call_fd(&res, sv[0], "run", params, &err), -EPIPE);
        cr_assert(strstr(err.msg, "closed its channel"), "%s", err.msg);
        close(sv[0]);
        free(big);
        json_decref(params);
}

/* A pod that hangs up in the middle of a request: an error for the caller, who does not
 * ignore SIGPIPE here (a CLI command), rather than its death. */
static void *hang_up(void *arg) {
        int l = *(int *) arg, c = accept(l, NULL, NULL);

        if (c >= 0)
                close(c);
        return NULL;
}

Test(ipc, a_pod_that_hangs_up_is_an_error_not_a_signal) {
        struct sockaddr_un a = { .sun_family = AF_UNIX };
        char *path = tu_path(root, "hangup");
        int l = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        size_t big = 4u * 1024u * 1024u; /* more than a socket buffer holds */
        char *text = malloc(big + 1);
        json_t *params, *res = NULL;
        pod_error err = { 0 };
        pthread_t th;

        signal(SIGPIPE, SIG_DFL);
        memset(text, 'x', big);
        text[big] = '\0';
        params = json_pack("{s:s}", "message", text);
        strcpy(a.sun_path, path);
        cr_assert_eq(bind(l, (struct sockaddr *) &a, sizeof(a)), 0);
        cr_assert_eq(listen(l, 4), 0);
        pthread_create(&th, NULL, hang_up, &l);
        cr_assert_lt(ipc_call(&res, path, 0, TOKEN, "send", params, &err), 0);
        cr_assert(strstr(err.msg, "cannot write") || strstr(err.msg, "closed"), "%s", err.msg);
        pthread_join(th, NULL);
        close(l);
        json_decref(params);
        free(text);
        free(path);
}

/* ---- a refused call leaves the caller's result alone ------------------------------------- */

#define CALLBACK "fedcba9876543210fedcba9876543210"

static bool owner_c1(void *ud, const char *token, char child[POD_NAME_BUF]) {
        (void) ud;
        if (strcmp(token, CALLBACK) != 0)
                return false;
        snprintf(child, POD_NAME_BUF, "c1");
        return true;
}

static int refuse_event(void *ud, const char *child, const json_t *params, pod_error *err) {
        (void) ud, (void) child, (void) params;
        return pod_error_set(err, -EINVAL, "no events today");
}

/* hello succeeds and child_event is refused: the result stays NULL, so a caller that frees
 * it (a child reporting to its spawner, pod stop) frees nothing twice. */
Test(ipc, a_refused_method_after_hello_leaves_the_result_unset) {
        control_hooks hooks = { .callback_owner = owner_c1, .child_event = refuse_event };
        json_t *params = json_pack("{s:s, s:s}", "pod", "c1", "kind", "ready"), *res = NULL;
        pod_error err = { 0 };

        srv = server_stop(srv);
        cr_assert_eq(control_start(&srv, sock, TOKEN, "p1", ctl, &hooks, &err), 0, "%s", err.msg);
        cr_assert_lt(ipc_call(&res, sock, getpid(), CALLBACK, "child_event", params, &err), 0);
        cr_assert(strstr(err.msg, "no events today"), "%s", err.msg);
        cr_assert_null(res, "the result was written on failure");
        json_decref(res);
        json_decref(params);
}

/* ---- silent and slow connections cannot starve the pod (a hello deadline, quotas) ------- */

/* The suite's server again, with a short hello deadline. */
static void restart_with_hello_deadline(const char *ms) {
        pod_error err = { 0 };

        srv = server_stop(srv);
        setenv("POD_HELLO_TIMEOUT_MS", ms, 1);
        cr_assert_eq(control_start(&srv, sock, TOKEN, "p1", ctl, NULL, &err), 0, "%s", err.msg);
        unsetenv("POD_HELLO_TIMEOUT_MS");
}

/* The connection gets an error naming why, then is closed. */
static void assert_turned_away(int fd, int code, const char *why) {
        json_t *r = hear(fd);

        cr_assert_not_null(r, "closed without a word (%s expected)", why);
        cr_assert_eq(error_code(r), code, "%s", json_dumps(r, 0));
        cr_assert(strstr(json_string_value(json_object_get(json_object_get(r, "error"), "message")),
                         why),
                  "%s", json_dumps(r, 0));
        json_decref(r);
        cr_assert_null(hear(fd), "closed");
}

Test(ipc, a_silent_connection_is_closed_at_the_hello_deadline) {
        int fd;

        restart_with_hello_deadline("300");
        fd = dial();
        assert_turned_away(fd, RPC_BUSY, "no hello in time");
        close(fd);
}

/* A partial line, a byte at a time, meets the same deadline: it runs from the connection. */
Test(ipc, a_hello_sent_a_byte_at_a_time_meets_the_deadline) {
        const char *line =
                "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"hello\",\"params\":{\"token\":\""
                "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef\"}}";
        struct pollfd p;
        size_t i = 0;
        int fd;

        restart_with_hello_deadline("300");
        fd = dial();
        p = (struct pollfd){ fd, POLLIN, 0 };
        while (line[i] && poll(&p, 1, 100) == 0)
                cr_assert_eq(send(fd, line + i++, 1, MSG_NOSIGNAL), 1, "closed before any answer");
        cr_assert(line[i], "the whole line went out a byte at a time and the pod still listened");
        assert_turned_away(fd, RPC_BUSY, "no hello in time");
        close(fd);
}

Test(ipc, a_first_line_over_the_hello_limit_closes_the_connection) {
        char big[POD_HELLO_FRAME_MAX + 2];
        int fd = dial();

        memset(big, 'x', sizeof(big));
        cr_assert_eq(write(fd, big, sizeof(big)), (ssize_t) sizeof(big));
        assert_turned_away(fd, RPC_FRAME_TOO_LARGE, "hello over 4 KiB");
        close(fd);
        close(hello()); /* the pod is fine */
}

Test(ipc, a_connection_without_a_token_gets_one_line) {
        int fd = dial();

        say(fd, "not json");
        json_decref(hear(fd));
        cr_assert_null(hear(fd), "closed after a line that was not hello");
        close(fd);
}

/* One process: past its quota, its own oldest silent connection goes. */
Test(ipc, one_process_holds_at_most_its_quota_of_silent_connections) {
        enum { N = POD_UNAUTH_PER_PEER + 12 };
        int fds[N];

        for (int i = 0; i < N; i++)
                fds[i] = dial();
        for (int i = 0; i < N - (int) POD_UNAUTH_PER_PEER; i++)
                assert_turned_away(fds[i], RPC_BUSY, "from this process");
        for (int i = N - (int) POD_UNAUTH_PER_PEER; i < N; i++) {
                json_t *r;
                say(fds[i],
                    "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"hello\",\"params\":{\"token\":\"" TOKEN
                    "\"}}");
                r = hear(fds[i]);
                cr_assert_not_null(json_object_get(r, "result"), "the newest %u are kept",
                                   POD_UNAUTH_PER_PEER);
                json_decref(r);
        }
        for (int i = 0; i < N; i++)
                close(fds[i]);
}

/* n processes, each holding `each` connections to the socket without a word, until killed;
 * one the pod closes is opened again at once. */
static void hold_silent(pid_t *pids, int n, int each) {
        for (int i = 0; i < n; i++) {
                struct pollfd fds[8];
                int sv[2];
                char byte;
                pair(sv);
                pids[i] = fork();
                cr_assert_geq(pids[i], 0);
                if (pids[i] != 0) {
                        close(sv[1]);
                        cr_assert_eq(read(sv[0], &byte, 1), 1, "a holder failed");
                        close(sv[0]);
                        continue;
                }
                prctl(PR_SET_PDEATHSIG, SIGKILL); /* a failed test leaves none behind */
                for (int k = 0; k < each; k++)
                        fds[k] = (struct pollfd){ dial_quiet(), POLLIN, 0 };
                (void) !write(sv[1], "x", 1);
                for (;;) {
                        poll(fds, (nfds_t) each, -1);
                        for (int k = 0; k < each; k++)
                                if (fds[k].revents) {
                                        close(fds[k].fd);
                                        fds[k].fd = dial_quiet();
                                }
                }
        }
}

static void release(pid_t *pids, int n) {
        for (int i = 0; i < n; i++) {
                kill(pids[i], SIGKILL);
                waitpid(pids[i], NULL, 0);
        }
}

/* The attack of issue #13: 300 connections held open, never a hello, from 150 processes,
 * each closed one opened again. The token holders (a spawner, a child's report, the
 * operator's CLI) are served all the same. */
Test(ipc, callers_with_a_token_are_served_while_300_silent_connections_are_held) {
        enum { HOLDERS = 150, EACH = 2 };
        pid_t pids[HOLDERS];
        json_t *res = NULL;
        pod_error err = { 0 };
        int fd;

        hold_silent(pids, HOLDERS, EACH);
        fd = hello();
        close(fd);
        cr_assert_eq(ipc_call(&res, sock, getpid(), TOKEN, "status", NULL, &err), 0, "%s", err.msg);
        json_decref(res);
        release(pids, HOLDERS);
}

/* Authenticated connections keep their own limit. */
Test(ipc, at_most_256_authenticated_connections) {
        int fds[POD_CLIENTS_MAX], extra = -1;
        json_t *r, *res = NULL;
        pod_error err = { 0 };

        for (unsigned i = 0; i < POD_CLIENTS_MAX; i++)
                fds[i] = hello();
        extra = dial();
        say(extra,
            "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"hello\",\"params\":{\"token\":\"" TOKEN
            "\"}}");
        r = hear(extra);
        cr_assert_eq(error_code(r), RPC_BUSY, "%s", json_dumps(r, 0));
        json_decref(r);
        close(extra);
        close(fds[0]);
        /* A place that frees is taken again (the helper tries again on "busy": the pod may
         * read the new hello in the round before it sees the close). */
        cr_assert_eq(ipc_call(&res, sock, getpid(), TOKEN, "status", NULL, &err), 0, "%s", err.msg);
        json_decref(res);
        for (unsigned i = 1; i < POD_CLIENTS_MAX; i++)
                close(fds[i]);
}

/* A pod that accepts and then sends a byte now and then, never a whole line: the caller's
 * wait is bounded as a whole, not per read. (The suite's timeout only stops a hang.) */
static void *trickle(void *arg) {
        int l = *(int *) arg, c = accept(l, NULL, NULL);

        for (int i = 0; c >= 0 && i < 600 && send(c, " ", 1, MSG_NOSIGNAL) == 1; i++)
                usleep(100 * 1000);
        if (c >= 0)
                close(c);
        return NULL;
}

Test(ipc, a_pod_that_answers_a_byte_at_a_time_does_not_hold_its_caller, .timeout = 40) {
        struct sockaddr_un a = { .sun_family = AF_UNIX };
        char *path = tu_path(root, "slow");
        int l = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        json_t *res = NULL;
        pod_error err = { 0 };
        pthread_t th;

        strcpy(a.sun_path, path);
        cr_assert_eq(bind(l, (struct sockaddr *) &a, sizeof(a)), 0);
        cr_assert_eq(listen(l, 4), 0);
        pthread_create(&th, NULL, trickle, &l);
        cr_assert_eq(ipc_call(&res, path, 0, TOKEN, "status", NULL, &err), -ETIMEDOUT, "%s",
                     err.msg);
        cr_assert(strstr(err.msg, "did not answer"), "%s", err.msg);
        pthread_join(th, NULL);
        close(l);
        free(path);
}

/* ---- limits at their edges ----------------------------------------------------------- */

/* A request line with a string parameter of n bytes ('a' each). */
static char *request_with(const char *method, const char *key, size_t n) {
        char *text = malloc(n + 1), *line;
        json_t *req;

        memset(text, 'a', n);
        text[n] = '\0';
        req = json_pack("{s:s, s:i, s:s, s:{s:s}}", "jsonrpc", "2.0", "id", 7, "method", method,
                        "params", key, text);
        line = json_dumps(req, JSON_COMPACT);
        json_decref(req);
        free(text);
        return line;
}

static json_t *ask(int fd, const char *line) {
        say(fd, line);
        return hear(fd);
}

Test(ipc, the_inbox_takes_64_messages_and_refuses_the_65th) {
        int fd = hello();
        json_t *r;

        for (unsigned i = 1; i <= POD_INBOX_MAX; i++) {
                r = ask(fd,
                        "{\"jsonrpc\":\"2.0\",\"id\":2,\"method\":\"send\",\"params\":{\"message\":\"m\"}}");
                cr_assert_eq(
                        json_integer_value(json_object_get(json_object_get(r, "result"), "queued")),
                        i, "%s", json_dumps(r, 0));
                json_decref(r);
        }
        r = ask(fd,
                "{\"jsonrpc\":\"2.0\",\"id\":3,\"method\":\"send\",\"params\":{\"message\":\"m\"}}");
        cr_assert_eq(error_code(r), RPC_BUSY);
        cr_assert_str_eq(json_string_value(json_object_get(json_object_get(r, "error"), "message")),
                         "the pod's inbox is full");
        json_decref(r);
        free(control_take_message(ctl));
        r = ask(fd,
                "{\"jsonrpc\":\"2.0\",\"id\":4,\"method\":\"send\",\"params\":{\"message\":\"m\"}}");
        cr_assert_eq(json_integer_value(json_object_get(json_object_get(r, "result"), "queued")),
                     POD_INBOX_MAX, "a place that frees is taken again");
        json_decref(r);
        close(fd);
}

Test(ipc, a_message_of_1_mib_is_queued_and_one_byte_more_refused) {
        int fd = hello();
        char *line = request_with("send", "message", POD_TASK_MAX), *m;
        json_t *r = ask(fd, line);

        cr_assert_eq(json_integer_value(json_object_get(json_object_get(r, "result"), "queued")),
                     1);
        json_decref(r);
        free(line);
        m = control_take_message(ctl);
        cr_assert_eq(strlen(m), POD_TASK_MAX);
        free(m);
        line = request_with("send", "message", POD_TASK_MAX + 1);
        r = ask(fd, line);
        cr_assert_eq(error_code(r), RPC_INVALID_PARAMS);
        cr_assert_str_eq(json_string_value(json_object_get(json_object_get(r, "error"), "message")),
                         "send needs {message}: a non-empty string of at most 1 MiB");
        cr_assert_null(control_take_message(ctl), "nothing queued");
        json_decref(r);
        free(line);
        close(fd);
}

Test(ipc, a_task_of_1_mib_is_taken_and_one_byte_more_refused) {
        int fd = hello();
        char *line = request_with("run", "task", POD_TASK_MAX + 1);
        char *m;
        json_t *r;

        control_accept_runs(ctl);
        r = ask(fd, line);
        cr_assert_eq(error_code(r), RPC_INVALID_PARAMS);
        cr_assert_str_eq(json_string_value(json_object_get(json_object_get(r, "error"), "message")),
                         "run needs {task}: a non-empty string of at most 1 MiB");
        json_decref(r);
        free(line);
        m = task_taken();
        cr_assert_null(m, "nothing taken");
        line = request_with("run", "task", POD_TASK_MAX);
        r = ask(fd, line);
        cr_assert(json_is_true(json_object_get(json_object_get(r, "result"), "accepted")), "%s",
                  json_dumps(r, 0));
        json_decref(r);
        free(line);
        m = task_taken();
        cr_assert_not_null(m);
        cr_assert_eq(strlen(m), POD_TASK_MAX);
        free(m);
        close(fd);
}
