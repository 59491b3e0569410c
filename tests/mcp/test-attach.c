/* SPDX-License-Identifier: MIT */
/* Bound mode's relay (src/mcp/attach.c, `pod mcp --attach DIR`) in front of the bound server of
 * src/llm (delegate-mcp.c) answering with this module's protocol: a client's session through
 * the relay, what it refuses, and what a previous relay left behind. */
#include <criterion/criterion.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "llm/llm-internal.h"
#include "mcp/mcp.h"
#include "testutil.h"

static int echo_call(void *ud, const char *name, const json_t *input, tool_result *out) {
        (void) ud;
        (void) input;
        *out = (tool_result){ .text = strdup(name) };
        return out->text ? 0 : -ENOMEM;
}

static json_t *answer(void *ud, const char *line, size_t len) {
        return mcp_answer(ud, line, len, NULL);
}

typedef struct fixture {
        char *dir;
        mcp_server *mcp;
        llm_mcp_bound *bound;
} fixture;

static void fixture_start(fixture *f) {
        json_auto_t *tools = json_pack("[{s:s, s:s, s:{s:s}}]", "name", "ListPods", "description",
                                       "list", "input_schema", "type", "object");
        mcp_opts o = { .pod_name = "d", .tools = tools, .call = echo_call };
        pod_error err = { 0 };

        signal(SIGPIPE, SIG_IGN);
        f->dir = tu_tmpdir();
        cr_assert_eq(mcp_new(&f->mcp, &o, &err), 0, "%s", err.msg);
        cr_assert_eq(llm_mcp_bound_start(&f->bound, f->dir, answer, f->mcp, &err), 0, "%s",
                     err.msg);
}

static void fixture_stop(fixture *f) {
        f->bound = llm_mcp_bound_stop(f->bound);
        f->mcp = mcp_free(f->mcp);
        tu_rm_rf(f->dir);
        free(f->dir);
}

/* A relay on a thread, its client's side two pipes. */
typedef struct client {
        const char *dir;
        int to_relay[2], from_relay[2];
        pthread_t thread;
        int r;
        pod_error err;
        char buf[8192];
        size_t n;
} client;

static void *relay_thread(void *arg) {
        client *c = arg;

        c->r = mcp_attach(c->dir, c->to_relay[0], c->from_relay[1], &c->err);
        close(c->to_relay[0]);
        close(c->from_relay[1]);
        return NULL;
}

static void client_start(client *c, const char *dir) {
        *c = (client){ .dir = dir };
        cr_assert_eq(pipe2(c->to_relay, O_CLOEXEC), 0);
        cr_assert_eq(pipe2(c->from_relay, O_CLOEXEC), 0);
        cr_assert_eq(pthread_create(&c->thread, NULL, relay_thread, c), 0);
}

static void client_send(client *c, const char *s) {
        cr_assert_eq(write(c->to_relay[1], s, strlen(s)), (ssize_t) strlen(s));
}

/* The next line the relay gave the client, parsed; NULL at its end. */
static json_t *client_line(client *c) {
        for (;;) {
                char *nl = memchr(c->buf, '\n', c->n);
                struct pollfd p = { .fd = c->from_relay[0], .events = POLLIN };
                ssize_t k;

                if (nl) {
                        json_t *v = json_loadb(c->buf, (size_t) (nl - c->buf), 0, NULL);
                        cr_assert(v, "a JSON line: %.*s", (int) (nl - c->buf), c->buf);
                        c->n -= (size_t) (nl + 1 - c->buf);
                        memmove(c->buf, nl + 1, c->n);
                        return v;
                }
                cr_assert_gt(poll(&p, 1, 10000), 0, "the relay answers");
                k = read(c->from_relay[0], c->buf + c->n, sizeof(c->buf) - c->n);
                if (k <= 0)
                        return NULL;
                c->n += (size_t) k;
        }
}

/* The client leaves; the relay's result. */
static int client_end(client *c) {
        close(c->to_relay[1]);
        pthread_join(c->thread, NULL);
        close(c->from_relay[0]);
        return c->r;
}

static const char initialize[] =
        "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"initialize\",\"params\":{\"protocolVersion\":"
        "\"" MCP_VERSION_LEGACY "\",\"capabilities\":{},\"clientInfo\":{\"name\":\"t\","
        "\"version\":\"1\"}}}\n";

static void assert_session(client *c) {
        json_auto_t *init = NULL, *list = NULL;

        client_send(c, initialize);
        init = client_line(c);
        cr_assert_eq(json_integer_value(json_object_get(init, "id")), 1);
        cr_assert_str_eq(json_string_value(json_object_get(json_object_get(init, "result"),
                                                           "protocolVersion")),
                         MCP_VERSION_LEGACY);
        client_send(c,
                    "{\"jsonrpc\":\"2.0\",\"method\":\"notifications/initialized\"}\n"
                    "{\"jsonrpc\":\"2.0\",\"id\":2,\"method\":\"tools/list\"}\n");
        list = client_line(c);
        cr_assert_eq(json_integer_value(json_object_get(list, "id")), 2);
        cr_assert_str_eq(
                json_string_value(json_object_get(
                        json_array_get(json_object_get(json_object_get(list, "result"), "tools"),
                                       0),
                        "name")),
                "ListPods");
}

Test(attach, relays_a_client_session_to_the_bound_server) {
        fixture f = { 0 };
        client c;

        fixture_start(&f);
        client_start(&c, f.dir);
        assert_session(&c);
        cr_assert_eq(client_end(&c), 0, "%s", c.err.msg);
        client_start(&c, f.dir); /* a new relay: a new session, initialize again */
        assert_session(&c);
        cr_assert_eq(client_end(&c), 0, "%s", c.err.msg);
        fixture_stop(&f);
}

Test(attach, garbage_gets_errors_and_the_session_goes_on) {
        fixture f = { 0 };
        client c;
        json_auto_t *e = NULL;

        fixture_start(&f);
        client_start(&c, f.dir);
        client_send(&c, "not json at all\n");
        e = client_line(&c);
        cr_assert(json_object_get(e, "error"), "an error reply");
        assert_session(&c);
        cr_assert_eq(client_end(&c), 0, "%s", c.err.msg);
        fixture_stop(&f);
}

Test(attach, drops_the_replies_a_previous_relay_left_in_the_pipe) {
        fixture f = { 0 };
        _cleanup_free_ char *out = NULL;
        int stale;
        client c;

        fixture_start(&f);
        out = tu_path(f.dir, LLM_MCP_OUT);
        stale = open(out, O_RDWR | O_CLOEXEC); /* both ends: the bytes stay in the pipe */
        cr_assert_geq(stale, 0);
        cr_assert_eq(write(stale, "{\"jsonrpc\":\"2.0\",\"id\":1,\"result\":{}}\n", 37), 37);
        client_start(&c, f.dir);
        assert_session(&c); /* its first line is its own initialize's answer */
        close(stale);
        cr_assert_eq(client_end(&c), 0, "%s", c.err.msg);
        fixture_stop(&f);
}

Test(attach, the_server_stopping_ends_the_relay) {
        fixture f = { 0 };
        client c;

        fixture_start(&f);
        client_start(&c, f.dir);
        assert_session(&c);
        f.bound = llm_mcp_bound_stop(f.bound);
        cr_assert_null(client_line(&c), "the relay's output ends");
        cr_assert_eq(client_end(&c), 0, "%s", c.err.msg);
        fixture_stop(&f);
}

Test(attach, one_relay_at_a_time) {
        fixture f = { 0 };
        client c;
        pod_error err = { 0 };

        fixture_start(&f);
        client_start(&c, f.dir);
        assert_session(&c); /* attached: it holds the lock */
        cr_assert_eq(mcp_attach(f.dir, -1, -1, &err), -EWOULDBLOCK);
        cr_assert(strstr(err.msg, "another relay is attached"), "%s", err.msg);
        cr_assert_eq(client_end(&c), 0, "%s", c.err.msg);
        fixture_stop(&f);
}

static void assert_refused(const char *dir, const char *name) {
        pod_error err = { 0 };

        cr_assert_eq(mcp_attach(dir, -1, -1, &err), -EPERM, "%s", err.msg);
        cr_assert(strstr(err.msg, name), "names %s: %s", name, err.msg);
        cr_assert(strstr(err.msg, "is not a FIFO private to this user"), "%s", err.msg);
        cr_assert_null(strchr(err.msg, '\n'));
}

Test(attach, refuses_files_that_are_not_private_fifos) {
        char *dir = tu_tmpdir();
        _cleanup_free_ char *in = tu_path(dir, LLM_MCP_IN), *out = tu_path(dir, LLM_MCP_OUT);

        tu_write(dir, LLM_MCP_OUT, "a regular file\n");
        assert_refused(dir, LLM_MCP_OUT);
        unlink(out);
        cr_assert_eq(symlink("/dev/null", out), 0);
        assert_refused(dir, LLM_MCP_OUT);
        unlink(out);
        cr_assert_eq(mkfifo(out, 0600), 0);
        cr_assert_eq(mkfifo(in, 0600), 0);
        cr_assert_eq(chmod(in, 0622), 0); /* others may write it */
        assert_refused(dir, LLM_MCP_IN);
        tu_rm_rf(dir);
        free(dir);
}

Test(attach, says_so_when_no_pod_serves_the_directory) {
        char *dir = tu_tmpdir();
        _cleanup_free_ char *in = tu_path(dir, LLM_MCP_IN), *out = tu_path(dir, LLM_MCP_OUT);
        pod_error err = { 0 };

        cr_assert_eq(mkfifo(out, 0600), 0);
        cr_assert_eq(mkfifo(in, 0600), 0);
        cr_assert_eq(mcp_attach(dir, -1, -1, &err), -ENXIO);
        cr_assert(strstr(err.msg, "no delegate pod serves"), "%s", err.msg);
        cr_assert_eq(mcp_attach("/nonexistent/dir", -1, -1, &err), -ENOENT);
        cr_assert(strstr(err.msg, "/nonexistent/dir"), "%s", err.msg);
        tu_rm_rf(dir);
        free(dir);
}
