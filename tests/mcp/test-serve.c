/* SPDX-License-Identifier: MIT */
/* Serving MCP (src/mcp/serve.c): lines, their bound, and the serving loop over a pipe pair. */
#include <criterion/criterion.h>
#include <pthread.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>

#include "mcp/mcp.h"

typedef struct lines {
        char got[8][64];
        bool large[8];
        size_t n;
} lines;

static int collect(void *ud, const char *line, size_t len, bool too_large) {
        lines *l = ud;

        cr_assert_lt(l->n, 8);
        snprintf(l->got[l->n], sizeof(l->got[0]), "%.*s", (int) len, line);
        l->large[l->n++] = too_large;
        return 0;
}

Test(serve, lines_are_split_across_reads_and_crlf_is_taken) {
        mcp_reader r = { .max = 16 };
        lines l = { 0 };

        cr_assert_eq(mcp_reader_feed(&r, "ab", 2, collect, &l), 0);
        cr_assert_eq(l.n, 0, "no line before its newline");
        cr_assert_eq(mcp_reader_feed(&r, "c\r\n\n\nde\n", 8, collect, &l), 0);
        cr_assert_eq(l.n, 2, "empty lines are skipped");
        cr_assert_str_eq(l.got[0], "abc");
        cr_assert_str_eq(l.got[1], "de");
        mcp_reader_done(&r);
}

Test(serve, a_line_over_the_bound_is_skipped_whole) {
        mcp_reader r = { .max = 4 };
        lines l = { 0 };

        cr_assert_eq(mcp_reader_feed(&r, "1234", 4, collect, &l), 0);
        cr_assert_eq(mcp_reader_feed(&r, "\n123", 4, collect, &l), 0);
        cr_assert_eq(mcp_reader_feed(&r, "45", 2, collect, &l), 0);
        cr_assert_eq(mcp_reader_feed(&r, "678\nok\n", 7, collect, &l), 0);
        cr_assert_eq(l.n, 3);
        cr_assert_str_eq(l.got[0], "1234", "a line of max bytes is whole");
        cr_assert(l.large[1] && !l.got[1][0], "the next one is over: reported, not given");
        cr_assert_str_eq(l.got[2], "ok", "and the stream goes on after it");
        mcp_reader_done(&r);
}

static int echo(void *ud, const char *name, const json_t *input, tool_result *out) {
        (void) ud;
        (void) input;
        return tool_ok(out, "ran %s", name);
}

/* Serve input (then its end) with s; what the server wrote, in reply. */
static void serve_all(
        mcp_server *s, const char *input, const mcp_serve_hooks *hooks, char *reply, size_t size) {
        pod_error err = { 0 };
        int in[2], out[2];
        size_t got = 0;
        ssize_t k;

        signal(SIGPIPE, SIG_IGN);
        cr_assert_eq(pipe(in), 0);
        cr_assert_eq(pipe(out), 0);
        cr_assert_eq(write(in[1], input, strlen(input)), (ssize_t) strlen(input));
        close(in[1]);
        cr_assert_eq(mcp_serve(s, in[0], out[1], hooks, &err), 0, "%s", err.msg);
        close(out[1]);
        while (got < size - 1 && (k = read(out[0], reply + got, size - 1 - got)) > 0)
                got += (size_t) k;
        reply[got] = '\0';
        close(in[0]);
        close(out[0]);
}

static bool disconnected;

static void on_disconnect(void *ud) {
        (void) ud;
        disconnected = true;
}

Test(serve, answers_each_line_in_order_until_the_input_ends) {
        json_auto_t *tools = json_pack("[{s:s, s:s, s:{}}]", "name", "Echo", "description", "E.",
                                       "input_schema");
        mcp_opts o = { .pod_name = "p", .tools = tools, .call = echo };
        mcp_serve_hooks hooks = { .disconnected = on_disconnect };
        const char input[] = "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"ping\"}\n"
                             "{\"jsonrpc\":\"2.0\",\"id\":2,\"method\":\"tools/call\",\"params\":"
                             "{\"name\":\"Echo\"}}\n";
        mcp_server *s = NULL;
        char reply[4096];

        cr_assert_eq(mcp_new(&s, &o, NULL), 0);
        /* The ping is answered at once, the call on the caller thread; the end of input is a
         * disconnection. */
        serve_all(s, input, &hooks, reply, sizeof(reply));
        cr_assert(disconnected, "the end of input is the client's disconnection");
        cr_assert(strstr(reply, "\"id\":1,\"result\":{}"), "%s", reply);
        /* A call still queued at the disconnection is dropped or answered, never half. */
        cr_assert(!strstr(reply, "\"id\":2") || strstr(reply, "ran Echo"), "%s", reply);
        mcp_free(s);
}

/* A call that runs until it is cancelled (bounded, so that a failure cannot hang). */
static volatile int cancel_seen;

static int waits(void *ud, const char *name, const json_t *input, tool_result *out) {
        (void) ud;
        (void) input;
        for (int i = 0; i < 1000 && !cancel_seen; i++)
                usleep(10 * 1000);
        return tool_ok(out, "%s ended", name);
}

static void on_cancel(void *ud) {
        (void) ud;
        cancel_seen = 1;
}

Test(serve, a_cancelled_call_ends_and_is_not_answered) {
        json_auto_t *tools = json_pack("[{s:s, s:s, s:{}}]", "name", "Wait", "description", "W.",
                                       "input_schema");
        mcp_opts o = { .pod_name = "p", .tools = tools, .call = waits, .cancel = on_cancel };
        const char calls[] = "{\"jsonrpc\":\"2.0\",\"id\":5,\"method\":\"tools/call\",\"params\":"
                             "{\"name\":\"Wait\"}}\n";
        const char cancel[] = "{\"jsonrpc\":\"2.0\",\"method\":\"notifications/cancelled\","
                              "\"params\":{\"requestId\":5}}\n"
                              "{\"jsonrpc\":\"2.0\",\"id\":6,\"method\":\"ping\"}\n";
        mcp_server *s = NULL;
        char input[512], reply[4096];

        cr_assert_eq(mcp_new(&s, &o, NULL), 0);
        snprintf(input, sizeof(input), "%s%s", calls, cancel);
        serve_all(s, input, NULL, reply, sizeof(reply));
        cr_assert(strstr(reply, "\"id\":6"), "the ping is answered: %s", reply);
        cr_assert_null(strstr(reply, "\"id\":5"), "the cancelled call is not: %s", reply);
        mcp_free(s);
}
