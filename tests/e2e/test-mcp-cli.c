/* SPDX-License-Identifier: MIT */
/*
 * End to end: `pod mcp` driven over its stdin and stdout as an MCP client drives it (a raw
 * client: one JSON-RPC message per line), in a temporary HOME, config, data and runtime dir.
 * Its children are script-model pods (e2e_profile); paths in scripts are @P (the project).
 */
#include <criterion/criterion.h>
#include <glob.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "base/base.h"
#include "e2e.h"
#include "rpc/rpc.h"
#include "testutil.h"
#include "tools/tools.h"

#define MCP_TEST_FRAME_MAX (16u * 1024u * 1024u) /* MCP_FRAME_MAX */

static tu_env env;

static void setup(void) {
        signal(SIGPIPE, SIG_IGN);
        tu_env_setup(&env);
        tu_write(env.project, "src/main.c", "int main(void) { return 0; }\n");
        tu_write(env.project, "docs/readme.txt", "docs\n");
        e2e_profile(
                &env, NULL, "kid", "tools: [Read, Write, Bash]\n",
                "{\"turns\": [{\"say\": \"writing\", \"call\": [{\"tool\": \"Write\", \"input\": "
                "{\"file_path\": \"@P/src/kid.c\", \"content\": \"x\"}}, {\"tool\": \"Write\", "
                "\"input\": {\"file_path\": \"@P/docs/kid.txt\", \"content\": \"x\"}}]},"
                " {\"say\": \"kid done\"}]}");
        e2e_profile(&env, NULL, "sleeper", "tools: [Bash]\n",
                    "{\"turns\": [{\"call\": [{\"tool\": \"Bash\", \"input\": {\"command\": "
                    "\"sleep 300\", \"timeout_s\": 600}}]}, {\"say\": \"woke\"}]}");
}

static void teardown(void) {
        tu_env_teardown(&env);
}

TestSuite(mcp_cli, .init = setup, .fini = teardown, .timeout = 120);

/* A running `pod mcp` and the client's ends of its pipes. */
typedef struct server {
        pid_t pid;
        int in, out;
        pod_buf pending; /* read past the last line returned */
        char *err_path;
} server;

static void start(server *s, const char *const *args) {
        const char *argv[16] = { "mcp" };
        size_t n = 1;

        for (; args && *args; args++)
                argv[n++] = *args;
        *s = (server){ .err_path = tu_path(env.root, "mcp-stderr.log") };
        s->pid = tu_spawn_pod_pipes(&env, env.project, argv, &s->in, &s->out, s->err_path);
}

static void send_line(server *s, const char *line) {
        size_t n = strlen(line);

        cr_assert_eq(write(s->in, line, n), (ssize_t) n);
        cr_assert_eq(write(s->in, "\n", 1), 1);
}

/* The next line the server writes (NULL: its output ended). */
static json_t *next_message(server *s) {
        for (;;) {
                char *nl = s->pending.data ? memchr(s->pending.data, '\n', s->pending.len) : NULL;
                char chunk[4096];
                ssize_t k;
                if (nl) {
                        size_t len = (size_t) (nl - s->pending.data);
                        json_error_t jerr;
                        json_t *msg = json_loadb(s->pending.data, len, 0, &jerr);
                        cr_assert(msg, "the server writes JSON lines: %s", jerr.text);
                        memmove(s->pending.data, nl + 1, s->pending.len - len - 1);
                        s->pending.len -= len + 1;
                        return msg;
                }
                k = read(s->out, chunk, sizeof(chunk));
                if (k <= 0)
                        return NULL;
                buf_append(&s->pending, chunk, (size_t) k);
        }
}

/* Send a request; its reply (which must have the request's id). */
static json_t *request(server *s, json_int_t id, const char *method, const char *params) {
        char *line = NULL;
        json_t *reply;

        cr_assert_geq(asprintf(&line, "{\"jsonrpc\":\"2.0\",\"id\":%lld,\"method\":\"%s\"%s%s}",
                               (long long) id, method, params ? ",\"params\":" : "",
                               params ? params : ""),
                      0);
        send_line(s, line);
        free(line);
        reply = next_message(s);
        cr_assert(reply, "a reply to %s; stderr: %s", method, tu_read(s->err_path));
        cr_assert_eq(json_integer_value(json_object_get(reply, "id")), id, "%s", method);
        return reply;
}

static void initialize(server *s) {
        json_t *r = request(s, 1, "initialize",
                            "{\"protocolVersion\":\"2025-11-25\",\"capabilities\":{},"
                            "\"clientInfo\":{\"name\":\"test\",\"version\":\"1\"}}");

        cr_assert_str_eq(
                json_string_value(json_object_get(json_object_get(r, "result"), "protocolVersion")),
                "2025-11-25");
        cr_assert(strstr(json_string_value(
                                 json_object_get(json_object_get(r, "result"), "instructions")),
                         env.project),
                  "the instructions name the scope children are cut from");
        json_decref(r);
        send_line(s, "{\"jsonrpc\":\"2.0\",\"method\":\"notifications/initialized\"}");
}

/* A tools/call's text; *ret_error: its isError. */
static char *call(server *s, json_int_t id, const char *tool, const char *args, bool *ret_error) {
        char *params = NULL, *filled, *text;
        json_t *r, *result;

        cr_assert_geq(asprintf(&params, "{\"name\":\"%s\",\"arguments\":%s}", tool, args), 0);
        filled = e2e_fill(&env, params, NULL);
        r = request(s, id, "tools/call", filled);
        free(params);
        free(filled);
        result = json_object_get(r, "result");
        cr_assert(result, "tools/call %s is answered with a result", tool);
        *ret_error = json_is_true(json_object_get(result, "isError"));
        text = strdup(json_string_value(
                json_object_get(json_array_get(json_object_get(result, "content"), 0), "text")));
        json_decref(r);
        return text;
}

/* Close the client's side; the server must end by itself with status 0. */
static void disconnect(server *s) {
        json_t *late;

        close(s->in);
        while ((late = next_message(s))) /* replies that were on their way */
                json_decref(late);
        close(s->out);
        cr_assert_eq(tu_wait(s->pid), 0, "pod mcp ends with 0 when its client leaves: %s",
                     tu_read(s->err_path));
        buf_done(&s->pending);
        free(s->err_path);
}

static const char *const served_tools[] = { "SpawnPod",      "SendToPod", "WaitPod",
                                            "ReadPodOutput", "ListPods",  "StopPod" };

/* ---- the protocol ------------------------------------------------------------------------ */

Test(mcp_cli, lists_the_pod_tools_with_a_native_pods_schemas) {
        server s;
        json_t *r, *tools;

        start(&s, NULL);
        initialize(&s);
        r = request(&s, 2, "tools/list", NULL);
        tools = json_object_get(json_object_get(r, "result"), "tools");
        cr_assert_eq(json_array_size(tools), POD_ARRAY_SIZE(served_tools),
                     "the pod tools and no file tool (DESIGN §17)");
        for (size_t i = 0; i < POD_ARRAY_SIZE(served_tools); i++) {
                json_t *t = json_array_get(tools, i), *spec = tools_spec(served_tools[i]);
                cr_assert_str_eq(json_string_value(json_object_get(t, "name")), served_tools[i]);
                cr_assert(json_equal(json_object_get(t, "inputSchema"),
                                     json_object_get(spec, "input_schema")),
                          "%s: the schema of resources/tools/", served_tools[i]);
                if (i > 0)
                        cr_assert(json_equal(json_object_get(t, "description"),
                                             json_object_get(spec, "description")));
                json_decref(spec);
        }
        cr_assert(
                strstr(json_string_value(json_object_get(json_array_get(tools, 0), "description")),
                       "project:kid"),
                "SpawnPod's description lists the profiles the server can spawn");
        json_decref(r);
        disconnect(&s);
}

Test(mcp_cli, speaks_the_current_revision_statelessly) {
        server s;
        json_t *r, *result;

        start(&s, NULL);
        /* No initialize: each request names its version in _meta. */
        r = request(&s, 7, "server/discover",
                    "{\"_meta\":{\"io.modelcontextprotocol/protocolVersion\":\"2026-07-28\"}}");
        result = json_object_get(r, "result");
        cr_assert_str_eq(
                json_string_value(json_array_get(json_object_get(result, "supportedVersions"), 0)),
                "2026-07-28");
        cr_assert_str_eq(json_string_value(json_object_get(result, "resultType")), "complete");
        json_decref(r);
        r = request(&s, 8, "tools/list",
                    "{\"_meta\":{\"io.modelcontextprotocol/protocolVersion\":\"2026-07-28\"}}");
        cr_assert_eq(json_array_size(json_object_get(json_object_get(r, "result"), "tools")), 6);
        json_decref(r);
        r = request(&s, 9, "tools/list",
                    "{\"_meta\":{\"io.modelcontextprotocol/protocolVersion\":\"2030-01-01\"}}");
        cr_assert_eq(json_integer_value(json_object_get(json_object_get(r, "error"), "code")),
                     -32022, "an unknown revision is refused with the versions spoken");
        cr_assert_str_eq(
                json_string_value(json_array_get(
                        json_object_get(json_object_get(json_object_get(r, "error"), "data"),
                                        "supported"),
                        0)),
                "2026-07-28");
        json_decref(r);
        disconnect(&s);
}

Test(mcp_cli, hostile_frames_get_errors_and_the_server_goes_on) {
        size_t big = MCP_TEST_FRAME_MAX + 10;
        char *line = malloc(big + 1);
        server s;
        json_t *r;

        start(&s, NULL);
        initialize(&s);
        memset(line, 'x', big);
        line[big] = '\0';
        send_line(&s, line);
        free(line);
        r = next_message(&s);
        cr_assert_eq(json_integer_value(json_object_get(json_object_get(r, "error"), "code")),
                     -32004, "a message over 16 MiB is refused whole");
        json_decref(r);
        send_line(&s, "{not json");
        r = next_message(&s);
        cr_assert_eq(json_integer_value(json_object_get(json_object_get(r, "error"), "code")),
                     -32700);
        json_decref(r);
        send_line(&s, "[{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"ping\"}]");
        r = next_message(&s);
        cr_assert_eq(json_integer_value(json_object_get(json_object_get(r, "error"), "code")),
                     -32600, "batches are not part of the revisions spoken");
        json_decref(r);
        r = request(&s, 3, "resources/list", NULL);
        cr_assert_eq(json_integer_value(json_object_get(json_object_get(r, "error"), "code")),
                     -32601);
        json_decref(r);
        r = request(&s, 4, "tools/call", "{\"name\":\"Bash\",\"arguments\":{\"command\":\"id\"}}");
        cr_assert(strstr(json_string_value(json_object_get(json_object_get(r, "error"), "message")),
                         "tool 'Bash' is not available to pod"),
                  "a file tool is not served, even to a profile that has it");
        json_decref(r);
        r = request(&s, 5, "ping", NULL);
        cr_assert(json_is_object(json_object_get(r, "result")), "and the server still answers");
        json_decref(r);
        disconnect(&s);
}

/* ---- the pod tree ------------------------------------------------------------------------ */

Test(mcp_cli, spawns_a_child_that_writes_inside_its_lease) {
        const char *args[] = { "--scope", "write:.", NULL };
        char *text;
        bool is_error;
        server s;

        start(&s, args);
        initialize(&s);
        text = call(&s, 2, "SpawnPod",
                    "{\"name\": \"c1\", \"task\": \"code\", \"profile\": \"project:kid\", "
                    "\"scope\": [{\"path\": \"@P/src\", \"access\": \"write\"}]}",
                    &is_error);
        cr_assert(!is_error && strstr(text, "Started pod 'c1'"), "%s", text);
        free(text);
        text = call(&s, 3, "WaitPod", "{\"timeout_s\": 60}", &is_error);
        cr_assert(!is_error && strstr(text, "kid done"), "WaitPod gives the child's answer: %s",
                  text);
        free(text);
        text = tu_read_at(env.project, "src/kid.c");
        cr_assert(text, "the child wrote inside its lease");
        free(text);
        cr_assert_null(tu_read_at(env.project, "docs/kid.txt"), "and nowhere else");
        text = e2e_result_in(&env, "c1", "Write", 1, &is_error);
        cr_assert(strstr(text, "out of scope"), "%s", text);
        free(text);
        text = call(&s, 4, "ListPods", "{\"x\": 1}", &is_error);
        cr_assert(is_error, "a tool's failure is an isError result");
        cr_assert_str_eq(text, "ListPods: unknown field 'x'", "with a native pod's text");
        free(text);
        disconnect(&s);
        e2e_assert_no_entries(&env);
        {
                json_t *events = e2e_transcript_at(&env, "runs/mcp-*/transcript.jsonl");
                bool ok;
                cr_assert(e2e_find_event(events, "tool_call", "SpawnPod", 0),
                          "the server's transcript has its calls (pod logs)");
                cr_assert(strstr(e2e_result_of(events, "WaitPod", 0, &ok), "kid done") && ok);
                cr_assert(e2e_find_event(events, "end", NULL, 0), "and its end");
                json_decref(events);
        }
}

Test(mcp_cli, refuses_a_scope_beyond_the_grant) {
        char *text;
        bool is_error;
        server s;

        start(&s, NULL); /* no --scope: read of the cwd */
        initialize(&s);
        text = call(&s, 2, "SpawnPod",
                    "{\"name\": \"c2\", \"task\": \"code\", \"profile\": \"project:kid\", "
                    "\"scope\": [{\"path\": \"@P/src\", \"access\": \"write\"}]}",
                    &is_error);
        cr_assert(is_error && strstr(text, "refused"), "write beyond a read grant: %s", text);
        free(text);
        text = call(&s, 3, "SpawnPod",
                    "{\"name\": \"c3\", \"task\": \"look\", \"profile\": \"project:kid\", "
                    "\"scope\": [{\"path\": \"/etc\", \"access\": \"read\"}]}",
                    &is_error);
        cr_assert(is_error && strstr(text, "refused"), "a path outside the grant: %s", text);
        free(text);
        text = call(&s, 4, "ListPods", "{}", &is_error);
        cr_assert(!is_error);
        cr_assert_null(strstr(text, "c2"), "a refusal starts nothing: %s", text);
        free(text);
        disconnect(&s);
        e2e_assert_no_entries(&env);
}

/* Start a child on the sleeper profile (it runs `sleep 300`). */
static void spawn_sleeper(server *s, json_int_t id, const char *name) {
        char *args = NULL, *text;
        bool is_error;

        cr_assert_geq(asprintf(&args,
                               "{\"name\": \"%s\", \"task\": \"sleep\", \"profile\": "
                               "\"project:sleeper\", \"scope\": [{\"path\": \"@P/src\", "
                               "\"access\": \"read\"}]}",
                               name),
                      0);
        text = call(s, id, "SpawnPod", args, &is_error);
        cr_assert(!is_error, "%s", text);
        free(text);
        free(args);
}

static long child_pid(const char *name) {
        char rel[128];
        char *text;
        json_t *e;
        long pid;

        snprintf(rel, sizeof(rel), "pods/%s/pod.json", name);
        text = tu_read_at(env.runtime, rel);
        cr_assert(text, "the child's registry entry");
        e = json_loads(text, 0, NULL);
        pid = (long) json_integer_value(json_object_get(e, "pid"));
        json_decref(e);
        free(text);
        return pid;
}

Test(mcp_cli, the_tree_is_stopped_when_the_client_disconnects) {
        const char *args[] = { "--scope", "write:.", "--name", "front", NULL };
        char *text;
        server s;
        long pid;

        start(&s, args);
        initialize(&s);
        spawn_sleeper(&s, 2, "nap");
        pid = child_pid("nap");
        cr_assert_gt(pid, 0);
        text = tu_read_at(env.runtime, "pods/front/pod.json");
        cr_assert(text && strstr(text, "\"state\":\"running\""),
                  "the server is a registered pod: %s", text ? text : "(none)");
        free(text);
        /* A WaitPod in progress when the client leaves ends too. */
        send_line(&s,
                  "{\"jsonrpc\":\"2.0\",\"id\":3,\"method\":\"tools/call\","
                  "\"params\":{\"name\":\"WaitPod\",\"arguments\":{}}}");
        disconnect(&s);
        cr_assert(kill((pid_t) pid, 0) < 0 && errno == ESRCH, "the child is gone");
        e2e_assert_no_entries(&env);
}

Test(mcp_cli, refuses_a_profile_without_pod_tools) {
        tu_result r;

        e2e_profile(&env, NULL, "plain", "tools: [Read]\n", "{\"turns\": [{\"say\": \"x\"}]}");
        tu_run_pod(&r, &env, env.project,
                   (const char *const[]){ "mcp", "--profile", "project:plain", NULL });
        cr_assert_eq(r.status, 2, "%s", r.err);
        cr_assert(strstr(r.err, "grants none of the pod tools"), "%s", r.err);
        tu_result_done(&r);
        tu_run_pod(&r, &env, env.project,
                   (const char *const[]){ "mcp", "--scope", "exec:.", NULL });
        cr_assert_eq(r.status, 2, "a grant is checked before anything runs: %s", r.err);
        tu_result_done(&r);
}

/* The server pod's socket, as an operator's client reaches it: `cancel`. */
static void cancel_server(const char *name) {
        char rel[128], *text, *sock;
        json_t *e, *res = NULL;
        pod_error err = { 0 };

        snprintf(rel, sizeof(rel), "pods/%s/pod.json", name);
        text = tu_read_at(env.runtime, rel);
        e = json_loads(text, 0, NULL);
        snprintf(rel, sizeof(rel), "pods/%s/sock", name);
        sock = tu_path(env.runtime, rel);
        cr_assert_eq(ipc_call(&res, sock, (pid_t) json_integer_value(json_object_get(e, "pid")),
                              json_string_value(json_object_get(e, "token")), "cancel", NULL, &err),
                     0, "%s", err.msg);
        json_decref(res);
        json_decref(e);
        free(sock);
        free(text);
}

/* Wait until the server's transcript (under runs/) shows a call of tool: it is running. */
static void wait_logged(const char *name, const char *tool) {
        char pattern[256], needle[64];
        char *full;
        bool seen = false;
        glob_t g;

        snprintf(pattern, sizeof(pattern), "runs/%s-*/transcript.jsonl", name);
        snprintf(needle, sizeof(needle), "\"type\":\"tool_call\",\"name\":\"%s\"", tool);
        full = tu_path(env.data, pattern);
        for (int i = 0; i < 6000 && !seen; i++) { /* a minute at most, not a measure */
                if (glob(full, 0, NULL, &g) == 0) {
                        char *text = tu_read(g.gl_pathv[0]);
                        seen = text && strstr(text, needle);
                        free(text);
                        globfree(&g);
                }
                if (!seen)
                        usleep(10 * 1000);
        }
        free(full);
        cr_assert(seen, "%s is running (%s)", tool, needle);
}

Test(mcp_cli, a_cancel_ends_the_call_in_progress_and_not_the_next) {
        const char *args[] = { "--scope", "write:.", "--name", "front", NULL };
        char *text;
        bool is_error;
        server s;
        json_t *r;

        start(&s, args);
        initialize(&s);
        spawn_sleeper(&s, 2, "nap");
        send_line(&s,
                  "{\"jsonrpc\":\"2.0\",\"id\":3,\"method\":\"tools/call\","
                  "\"params\":{\"name\":\"WaitPod\",\"arguments\":{}}}");
        r = request(&s, 4, "ping", NULL); /* answered while the WaitPod waits */
        json_decref(r);
        wait_logged("front", "WaitPod");
        cancel_server("front");
        r = next_message(&s);
        cr_assert_eq(json_integer_value(json_object_get(r, "id")), 3);
        text = json_dumps(r, 0);
        cr_assert(strstr(text, "still working"), "the WaitPod ended early: %s", text);
        free(text);
        json_decref(r);
        text = call(&s, 5, "SpawnPod",
                    "{\"name\": \"c9\", \"task\": \"code\", \"profile\": \"project:kid\", "
                    "\"scope\": [{\"path\": \"@P/src\", \"access\": \"write\"}]}",
                    &is_error);
        cr_assert(!is_error, "%s", text);
        free(text);
        text = call(&s, 6, "WaitPod", "{\"names\": [\"c9\"]}", &is_error);
        cr_assert(strstr(text, "kid done"), "the next WaitPod waits for its child: %s", text);
        free(text);
        disconnect(&s);
}

Test(mcp_cli, the_client_cancels_a_wait) {
        char *text;
        bool is_error;
        server s;

        start(&s, (const char *const[]){ "--scope", "write:.", NULL });
        initialize(&s);
        spawn_sleeper(&s, 2, "nap2");
        send_line(&s,
                  "{\"jsonrpc\":\"2.0\",\"id\":3,\"method\":\"tools/call\","
                  "\"params\":{\"name\":\"WaitPod\",\"arguments\":{}}}");
        send_line(&s,
                  "{\"jsonrpc\":\"2.0\",\"method\":\"notifications/cancelled\","
                  "\"params\":{\"requestId\":3,\"reason\":\"the user pressed Esc\"}}");
        /* Calls run in order: this one's reply comes once the wait has ended, and the
         * cancelled wait has none. */
        text = call(&s, 4, "ListPods", "{}", &is_error);
        cr_assert(!is_error && strstr(text, "nap2"), "%s", text);
        free(text);
        disconnect(&s);
}
