/* SPDX-License-Identifier: MIT */
/*
 * `pod mcp` standalone (DESIGN §17): this process becomes a top-level pod like `pod run`'s
 * (src/pod's host: registered, confined to the scope the operator granted, its profile
 * snapshot, a control socket its children report to) without a model of its own: its MCP
 * client plays the model. Each tools/call goes through the pod's tool set (src/tools), so
 * input checks, limits and error texts are a native pod's. When the client disconnects, the
 * tree is stopped and reaped and the entry removed.
 */
#include <string.h>

#include "mcp.h"

json_t *mcp_tool_table(const json_t *manifest, const char *spawn_description) {
        json_auto_t *all = pod_tool_schemas(manifest, spawn_description);
        json_t *out = all ? json_array() : NULL, *v;
        size_t i;

        json_array_foreach(all, i, v)
                if (out && pod_tool_is_pod_tool(json_string_value(json_object_get(v, "name"))) &&
                    json_array_append(out, v) < 0) {
                        json_decref(out);
                        out = NULL;
                }
        return out;
}

#define LOGGED_INPUT_MAX (64u * 1024u) /* a call's input kept whole in the transcript */

/* The server pod: its host, the tool set its calls go through, and its transcript's use. */
typedef struct standalone {
        pod_host h;
        pod_tools *tools;
        mcp_server *srv;
        uint64_t logged; /* bytes written to the transcript */
        bool cut; /* its share of the run dir is used up */
} standalone;

/* One event in the transcript (`pod logs`) and to the socket's subscribers, within the
 * transcript's share of the run dir's cap: past it, one last "truncated" line. */
static void log_event(standalone *sa, json_t *ev) {
        uint64_t share = run_dir_transcript_share(sa->h.run_dir_cap);
        char *line = ev ? json_dumps(ev, JSON_COMPACT) : NULL;
        size_t len = line ? strlen(line) + 1 : 0;

        if (ev)
                server_publish(sa->h.server, ev);
        if (line && sa->h.transcript && !sa->cut) {
                if (sa->logged + len + 256 > share) {
                        fputs("{\"type\":\"truncated\",\"text\":\"transcript cut: the run dir's "
                              "share for it is used up\"}\n",
                              sa->h.transcript);
                        sa->cut = true;
                } else {
                        fprintf(sa->h.transcript, "%s\n", line);
                        sa->logged += len;
                }
                fflush(sa->h.transcript);
        }
        free(line);
        json_decref(ev);
}

/* A call is a turn of this pod's: a `cancel` (its socket's, or the client's
 * notifications/cancelled) ends the call in progress (a WaitPod returns). One that comes
 * between calls is cleared as the next starts, not left to end it. */
static int call(void *ud, const char *name, const json_t *input, tool_result *out) {
        standalone *sa = ud;
        char *dump = json_dumps(input, JSON_COMPACT);
        long long t0 = mono_ms();
        bool idle;
        int r;

        control_finish_turn(host_control(), &idle); /* clears a stale cancel */
        if (mcp_running_cancelled(sa->srv)) /* the client's came as this call started */
                control_cancel(host_control());
        /* Logged once the call can be cancelled (a test waits for this line). */
        log_event(sa,
                  json_pack("{s:s, s:s, s:o}", "type", "tool_call", "name", name, "input",
                            dump && strlen(dump) <= LOGGED_INPUT_MAX ?
                                    json_deep_copy(input) :
                                    json_string("(over 64 KiB: not kept)")));
        free(dump);
        r = tools_call(out, sa->tools, name, input);
        if (r >= 0)
                log_event(sa,
                          json_pack("{s:s, s:s, s:b, s:s, s:I}", "type", "tool_result", "name",
                                    name, "ok", !out->is_error, "text", out->text ? out->text : "",
                                    "ms", (json_int_t) (mono_ms() - t0)));
        return r;
}

static void cancel(void *ud) {
        (void) ud;
        control_cancel(host_control()); /* WaitPod returns; the next call clears it */
}

static bool stopping(void *ud) {
        (void) ud;
        return control_shutting_down(host_control());
}

static void disconnected(void *ud) {
        (void) ud;
        control_interrupt(host_control()); /* cancel (WaitPod returns) and shut down */
}

/* What the client's model is told of this server: the scope its children are cut from. */
static char *instructions(const pod_host *h) {
        const pod_scope *scope = &h->view->scope;
        pod_buf b = { 0 };

        buf_printf(&b,
                   "pod '%s' starts child pods (SpawnPod), each confined by the kernel to the "
                   "scope you give it, which must lie inside this server's:",
                   h->name);
        for (size_t i = 0; i < scope->n_allow; i++)
                buf_printf(&b, " %s %s%s", access_to_string(scope->allow[i].access),
                           scope->allow[i].path, i + 1 < scope->n_allow ? ";" : ".");
        buf_puts(&b,
                 " A child holding write on a path has the write lease there until it ends. "
                 "Wait for results with WaitPod (keep its timeout_s under your tool timeout).");
        return buf_steal(&b);
}

/* The tool set the calls go through, acting on the host's tree, and the server on it. */
static int open_server(mcp_server **ret_srv, standalone *sa, pod_error *err) {
        _cleanup_(tools_freep) pod_tools *t = NULL;
        _cleanup_free_ char *text = NULL;
        json_auto_t *table = NULL;
        pod_host *h = &sa->h;
        mcp_opts o = { .pod_name = h->name };
        int r;

        r = tools_new(&t, h->view, h->run_dir, err);
        if (r < 0)
                return r;
        tools_set_run_dir_cap(t, h->run_dir_cap);
        tools_set_cancel(t, control_cancel_flag(host_control()));
        pod_tools_attach(t, h->tree);
        table = mcp_tool_table(h->manifest, h->spawn_desc.len ? buf_str(&h->spawn_desc) : NULL);
        if (!table)
                return pod_error_oom(err);
        o.tools = table;
        o.call = call;
        o.cancel = cancel;
        o.ud = sa;
        o.instructions = text = instructions(h);
        r = text ? mcp_new(ret_srv, &o, err) : pod_error_oom(err);
        if (r < 0)
                return r;
        sa->srv = *ret_srv;
        sa->tools = TAKE_PTR(t);
        return 0;
}

int mcp_standalone(const mcp_standalone_opts *o, pod_error *err) {
        standalone sa = { .h = { .manifest = o->manifest, .envp = o->envp } };
        mcp_serve_hooks hooks = { .stopping = stopping, .disconnected = disconnected };
        _cleanup_(mcp_freep) mcp_server *srv = NULL;
        int r;

        host_signals();
        r = host_start_top(&sa.h, o->dirs, err);
        if (r >= 0)
                r = open_server(&srv, &sa, err);
        if (r >= 0)
                r = mcp_serve(srv, o->in_fd, o->out_fd, &hooks, err);
        if (r >= 0)
                log_event(&sa,
                          json_pack("{s:s, s:s, s:s}", "type", "end", "status", "ok", "result",
                                    "the MCP server ended"));
        if (sa.h.reserved)
                host_set_state(&sa.h, r < 0 ? "failed" : "done", NULL);
        tools_free(sa.tools); /* its hooks act on the tree, which host_stop frees */
        host_stop(&sa.h, true);
        return r;
}
