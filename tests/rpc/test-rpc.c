/* SPDX-License-Identifier: MIT */
/* The JSON-RPC codec and the one bounded reader (src/rpc/rpc.c). */
#include <criterion/criterion.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "rpc/rpc.h"

static void pair(int sv[2]) {
        cr_assert_eq(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
}

static void say(int fd, const char *text) {
        cr_assert_eq(write(fd, text, strlen(text)), (ssize_t) strlen(text));
}

Test(rpc, the_reader_returns_one_line_and_keeps_what_follows) {
        pod_buf in = { 0 };
        size_t n = 0;
        int sv[2];

        pair(sv);
        say(sv[1], "{\"a\":1}\n{\"b\":2}\nhalf");
        close(sv[1]);
        cr_assert_eq(rpc_read_line(&in, sv[0], 1024, mono_ms() + 10000, &n), 0);
        cr_assert_eq(n, 7);
        cr_assert_str_eq(in.data, "{\"a\":1}", "the newline is made a NUL");
        rpc_line_drop(&in, n);
        cr_assert_eq(rpc_read_line(&in, sv[0], 1024, mono_ms() + 10000, &n), 0);
        cr_assert_str_eq(in.data, "{\"b\":2}");
        rpc_line_drop(&in, n);
        cr_assert_eq(rpc_read_line(&in, sv[0], 1024, mono_ms() + 10000, &n), -EPIPE,
                     "half a line, then the end");
        buf_done(&in);
        close(sv[0]);
}

Test(rpc, the_reader_refuses_a_line_over_its_bound) {
        pod_buf in = { 0 };
        size_t n = 0;
        char line[101];
        int sv[2];

        pair(sv);
        memset(line, 'x', 100);
        line[100] = '\n';
        cr_assert_eq(write(sv[1], line, 101), 101);
        cr_assert_eq(rpc_read_line(&in, sv[0], 99, mono_ms() + 10000, &n), -EMSGSIZE);
        buf_done(&in);
        in = (pod_buf){ 0 };
        cr_assert_eq(write(sv[1], line, 101), 101);
        cr_assert_eq(rpc_read_line(&in, sv[0], 100, mono_ms() + 10000, &n), 0, "exactly the bound");
        cr_assert_eq(n, 100);
        buf_done(&in);
        close(sv[0]);
        close(sv[1]);
}

Test(rpc, the_reader_stops_at_its_deadline) {
        pod_buf in = { 0 };
        size_t n = 0;
        int sv[2];

        pair(sv);
        say(sv[1], "no newline");
        cr_assert_eq(rpc_read_line(&in, sv[0], 1024, mono_ms(), &n), -ETIMEDOUT);
        buf_done(&in);
        close(sv[0]);
        close(sv[1]);
}

Test(rpc, a_frame_is_decoded_or_refused_with_its_code) {
        static const char *const bad[] = { "[]", "{\"jsonrpc\":\"1.0\",\"method\":\"m\"}",
                                           "{\"jsonrpc\":\"2.0\"}",
                                           "{\"jsonrpc\":\"2.0\",\"method\":\"m\",\"params\":[]}",
                                           "{\"jsonrpc\":\"2.0\",\"method\":\"m\",\"id\":1.5}" };
        const char ok[] = "{\"jsonrpc\":\"2.0\",\"id\":7,\"method\":\"run\",\"params\":{}}";
        rpc_frame f;

        cr_assert_eq(rpc_decode(&f, ok, strlen(ok)), 0);
        cr_assert_str_eq(f.method, "run");
        cr_assert_eq(json_integer_value(f.id), 7);
        cr_assert(json_is_object(f.params));
        rpc_frame_done(&f);
        cr_assert_eq(rpc_decode(&f, "{", 1), RPC_PARSE_ERROR);
        rpc_frame_done(&f);
        for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++) {
                cr_assert_eq(rpc_decode(&f, bad[i], strlen(bad[i])), RPC_INVALID_REQUEST, "%s",
                             bad[i]);
                cr_assert_null(f.method);
                rpc_frame_done(&f);
        }
}

Test(rpc, a_reply_gives_its_result_or_names_the_method) {
        const char ok[] = "{\"jsonrpc\":\"2.0\",\"id\":1,\"result\":{\"x\":1}}";
        const char busy[] =
                "{\"jsonrpc\":\"2.0\",\"id\":1,\"error\":{\"code\":-32003,\"message\":\"busy\"}}";
        json_t *res = NULL;
        pod_error err = { 0 };

        cr_assert_eq(rpc_result(&res, ok, strlen(ok), "m", &err), 0);
        cr_assert_eq(json_integer_value(json_object_get(res, "x")), 1);
        json_decref(res);
        res = NULL;
        cr_assert_eq(rpc_result(&res, busy, strlen(busy), "m", &err), -EBUSY);
        cr_assert_str_eq(err.msg, "m: busy");
        cr_assert_null(res, "no result is written on an error");
        cr_assert_eq(rpc_result(&res, "x", 1, "m", &err), -EPROTO);
        cr_assert_str_eq(err.msg, "m: malformed reply");
}
