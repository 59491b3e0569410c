/* SPDX-License-Identifier: MIT */
/*
 * The MCP protocol (DESIGN §17): each message decoded with src/rpc's codec, its revision told
 * apart (a request naming MCP_VERSION_CURRENT in _meta is answered statelessly, with
 * resultType; anything else belongs to the initialize-based revision), and the methods a
 * server of tools has: initialize, server/discover, ping, tools/list and tools/call. A tool's
 * failure is a result with isError and the text a native pod's model reads; a malformed
 * message is a JSON-RPC error. Every message comes from the client and is hostile.
 */
#include <pthread.h>
#include <string.h>

#include "mcp.h"

struct mcp_server {
        char *pod_name;
        char *instructions;
        json_t *tools; /* tools/list's entries: {name, description, inputSchema} */
        int (*call)(void *ud, const char *name, const json_t *input, tool_result *out);
        void (*cancel)(void *ud);
        void *ud;
        /* Cancellation (notifications/cancelled comes on the reader's thread while a call
         * runs on the caller's): under lock. */
        pthread_mutex_t lock;
        json_t *running; /* the id of the deferred call running, or NULL */
        bool running_cancelled;
        json_t *cancelled; /* ids cancelled before their call ran (at most MCP_QUEUE_MAX) */
};

struct mcp_job {
        json_t *req; /* the request (owned) */
        bool modern; /* answered in MCP_VERSION_CURRENT's form */
};

/* A decoded request, as the methods see it. */
typedef struct mcp_msg {
        json_t *id;
        json_t *params; /* never NULL: {} when absent */
        bool modern;
} mcp_msg;

static json_t *tool_entry(const json_t *spec) {
        return json_pack("{s:O, s:O, s:O}", "name", json_object_get(spec, "name"), "description",
                         json_object_get(spec, "description"), "inputSchema",
                         json_object_get(spec, "input_schema"));
}

int mcp_new(mcp_server **out, const mcp_opts *o, pod_error *err) {
        mcp_server *s = calloc(1, sizeof(*s));
        const json_t *v;
        size_t i;

        if (!s)
                return pod_error_oom(err);
        s->pod_name = strdup(o->pod_name ? o->pod_name : "");
        s->instructions = o->instructions ? strdup(o->instructions) : NULL;
        s->tools = json_array();
        s->cancelled = json_array();
        s->call = o->call;
        s->cancel = o->cancel;
        s->ud = o->ud;
        pthread_mutex_init(&s->lock, NULL);
        if (!s->pod_name || (o->instructions && !s->instructions) || !s->tools || !s->cancelled) {
                mcp_free(s);
                return pod_error_oom(err);
        }
        json_array_foreach(o->tools, i, v) {
                json_t *e = tool_entry(v);
                if (!e || json_array_append_new(s->tools, e) < 0) {
                        mcp_free(s);
                        return pod_error_oom(err);
                }
        }
        *out = s;
        return 0;
}

mcp_server *mcp_free(mcp_server *s) {
        if (!s)
                return NULL;
        json_decref(s->tools);
        json_decref(s->cancelled);
        json_decref(s->running);
        pthread_mutex_destroy(&s->lock);
        free(s->pod_name);
        free(s->instructions);
        free(s);
        return NULL;
}

/* ---- replies ------------------------------------------------------------------------------ */

static json_t *server_info(void) {
        return json_pack("{s:s, s:s}", "name", "pod", "version", POD_VERSION);
}

/* A result (consumed) as the request's revision has it: the current one says resultType and
 * who answered. */
static json_t *reply(const mcp_msg *m, json_t *result) {
        if (result && m->modern) {
                json_object_set_new(result, "resultType", json_string("complete"));
                json_object_set_new(
                        result, "_meta",
                        json_pack("{s:o}", "io.modelcontextprotocol/serverInfo", server_info()));
        }
        if (!result)
                return rpc_error(m->id, MCP_INTERNAL_ERROR, "out of memory");
        return rpc_reply(m->id, result);
}

/* A list the current revision lets clients cache says for how long and for whom: the table
 * is this server's (its profiles' SpawnPod description), so private, and 0 ms, since a
 * restarted server with other profiles answers differently. */
static json_t *cacheable(const mcp_msg *m, json_t *result) {
        if (result && m->modern) {
                json_object_set_new(result, "ttlMs", json_integer(0));
                json_object_set_new(result, "cacheScope", json_string("private"));
        }
        return result;
}

static json_t *fail(const mcp_msg *m, int code, const char *fmt, ...) _printf_(3, 4);
static json_t *fail(const mcp_msg *m, int code, const char *fmt, ...) {
        char text[POD_ERROR_MAX];
        va_list ap;

        va_start(ap, fmt);
        vsnprintf(text, sizeof(text), fmt, ap);
        va_end(ap);
        return rpc_error(m->id, code, text);
}

json_t *mcp_too_large(void) {
        char text[96];

        snprintf(text, sizeof(text), "message over %u bytes: skipped", MCP_FRAME_MAX);
        return rpc_error(NULL, RPC_FRAME_TOO_LARGE, text);
}

static json_t *supported_versions(void) {
        return json_pack("[s]", MCP_VERSION_CURRENT);
}

/* ---- the methods ---------------------------------------------------------------------------- */

static json_t *capabilities(void) {
        return json_pack("{s:{s:b}}", "tools", "listChanged", 0);
}

/* The initialize-based revision: the client's version when it is one this server speaks,
 * else the newest of them (the client then decides whether to go on). */
static json_t *m_initialize(mcp_server *s, const mcp_msg *m) {
        const char *asked = json_string_value(json_object_get(m->params, "protocolVersion"));
        const char *version = MCP_VERSION_LEGACY;
        json_t *result;

        if (!asked)
                return fail(m, RPC_INVALID_PARAMS,
                            "initialize: params.protocolVersion must be a string");
        if (strcmp(asked, MCP_VERSION_LEGACY_OLD) == 0)
                version = MCP_VERSION_LEGACY_OLD;
        result = json_pack("{s:s, s:o, s:o}", "protocolVersion", version, "capabilities",
                           capabilities(), "serverInfo", server_info());
        if (result && s->instructions)
                json_object_set_new(result, "instructions", json_string(s->instructions));
        return reply(m, result);
}

static json_t *m_discover(mcp_server *s, const mcp_msg *m) {
        json_t *result = json_pack("{s:o, s:o, s:o}", "supportedVersions", supported_versions(),
                                   "capabilities", capabilities(), "serverInfo", server_info());

        if (result && s->instructions)
                json_object_set_new(result, "instructions", json_string(s->instructions));
        return reply(m, cacheable(m, result));
}

static json_t *m_ping(mcp_server *s, const mcp_msg *m) {
        (void) s;
        return reply(m, json_object());
}

static json_t *m_list(mcp_server *s, const mcp_msg *m) {
        /* A copy: the reply is dumped while the caller thread reads the table. */
        return reply(m, cacheable(m, json_pack("{s:o}", "tools", json_deep_copy(s->tools))));
}

static bool listed(const mcp_server *s, const char *name) {
        const json_t *v;
        size_t i;

        json_array_foreach(s->tools, i, v)
                if (strcmp(json_string_value(json_object_get(v, "name")), name) == 0)
                        return true;
        return false;
}

static json_t *m_call(mcp_server *s, const mcp_msg *m) {
        const char *name = json_string_value(json_object_get(m->params, "name"));
        json_t *input = json_object_get(m->params, "arguments");
        json_auto_t *empty = json_object();
        tool_result out = { 0 };
        json_t *result;

        if (!name)
                return fail(m, RPC_INVALID_PARAMS, "tools/call: params.name must be a string");
        /* Unknown tools are protocol errors in MCP; the text is a native pod's. */
        if (!listed(s, name))
                return fail(m, RPC_INVALID_PARAMS, "tool '%.200s' is not available to pod '%s'",
                            name, s->pod_name);
        if (s->call(s->ud, name, input ? input : empty, &out) < 0)
                return rpc_error(m->id, MCP_INTERNAL_ERROR, "out of memory");
        result = json_pack("{s:[{s:s, s:s}], s:b}", "content", "type", "text", "text",
                           out.text ? out.text : "", "isError", out.is_error);
        tool_result_done(&out);
        return reply(m, result);
}

typedef struct mcp_method {
        const char *name;
        json_t *(*run)(mcp_server *s, const mcp_msg *m);
} mcp_method;

static const mcp_method methods[] = {
        { "initialize", m_initialize }, { "server/discover", m_discover }, { "ping", m_ping },
        { "tools/list", m_list },       { "tools/call", m_call },
};

/* ---- a message ------------------------------------------------------------------------------ */

/* The revision a request is in: 1 the current one, 0 the initialize-based one, or < 0 with
 * *ret_reply the error (a version this server does not speak). */
static int request_revision(json_t **ret_reply, const char *method, json_t *id, json_t *params) {
        json_t *v = json_object_get(json_object_get(params, "_meta"), MCP_META_VERSION);
        mcp_msg m = { .id = id };

        if (!v || strcmp(method, "initialize") == 0) /* initialize is the old revision's */
                return 0;
        if (!json_is_string(v)) {
                *ret_reply =
                        fail(&m, RPC_INVALID_PARAMS, "_meta." MCP_META_VERSION " must be a string");
                return -EINVAL;
        }
        if (strcmp(json_string_value(v), MCP_VERSION_CURRENT) == 0)
                return 1;
        *ret_reply =
                fail(&m, MCP_UNSUPPORTED_VERSION,
                     "protocol version '%.64s' is not supported (supported: " MCP_VERSION_CURRENT
                     "; older clients: initialize)",
                     json_string_value(v));
        json_object_set_new(
                json_object_get(*ret_reply, "error"), "data",
                json_pack("{s:o, s:O}", "supported", supported_versions(), "requested", v));
        return -EPROTONOSUPPORT;
}

/* What a frame rpc_decode refused gets: nothing for a response (this server sends no
 * requests, so none is awaited), else an error whose id is the request's when usable. */
static json_t *refused(const rpc_frame *f, int code) {
        json_t *id = f->id && (json_is_string(f->id) || json_is_integer(f->id)) ? f->id : NULL;

        if (code == RPC_PARSE_ERROR)
                return rpc_error(NULL, code, "parse error: a message is one JSON object per line");
        if (json_is_array(f->req))
                return rpc_error(NULL, code, "batches are not supported: one message per line");
        if (json_is_object(f->req) && !json_object_get(f->req, "method") &&
            (json_object_get(f->req, "result") || json_object_get(f->req, "error")))
                return NULL;
        return rpc_error(id, code, "invalid request: not {jsonrpc: \"2.0\", id?, method, params?}");
}

static json_t *run(mcp_server *s, json_t *req, bool modern) {
        const char *method = json_string_value(json_object_get(req, "method"));
        json_auto_t *empty = json_object();
        mcp_msg m = { .id = json_object_get(req, "id"),
                      .params = json_object_get(req, "params"),
                      .modern = modern };

        if (!m.params)
                m.params = empty;
        for (size_t i = 0; i < POD_ARRAY_SIZE(methods); i++)
                if (strcmp(methods[i].name, method) == 0)
                        return methods[i].run(s, &m);
        return fail(&m, RPC_METHOD_NOT_FOUND, "method '%.100s' not found", method);
}

/* notifications/cancelled: the call running ends (and its reply is dropped), or one still
 * waiting will not run. An id that matches neither is kept for a while (the queue's size). */
static void cancelled(mcp_server *s, const json_t *params) {
        json_t *id = json_object_get(params, "requestId");
        bool now = false;

        if (!json_is_string(id) && !json_is_integer(id))
                return;
        pthread_mutex_lock(&s->lock);
        if (s->running && json_equal(s->running, id))
                now = s->running_cancelled = true;
        else if (json_array_size(s->cancelled) < MCP_QUEUE_MAX)
                json_array_append(s->cancelled, id);
        pthread_mutex_unlock(&s->lock);
        if (now && s->cancel)
                s->cancel(s->ud);
}

json_t *mcp_answer(mcp_server *s, const char *line, size_t len, mcp_job **defer) {
        json_t *answer = NULL;
        rpc_frame f;
        int r = rpc_decode(&f, line, len);

        if (r != 0) {
                answer = refused(&f, r);
        } else if (!f.id) {
                /* Notifications (initialized, cancelled, ...) get no answer. */
                if (strcmp(f.method, "notifications/cancelled") == 0)
                        cancelled(s, f.params);
        } else if ((r = request_revision(&answer, f.method, f.id, f.params)) >= 0) {
                if (defer && strcmp(f.method, "tools/call") == 0) {
                        mcp_job *job = calloc(1, sizeof(*job));
                        if (!job) {
                                rpc_frame_done(&f);
                                return rpc_error(NULL, MCP_INTERNAL_ERROR, "out of memory");
                        }
                        *job = (mcp_job){ .req = TAKE_PTR(f.req), .modern = r == 1 };
                        *defer = job;
                } else {
                        answer = run(s, f.req, r == 1);
                }
        }
        rpc_frame_done(&f);
        return answer;
}

bool mcp_running_cancelled(mcp_server *s) {
        bool v;

        pthread_mutex_lock(&s->lock);
        v = s->running && s->running_cancelled;
        pthread_mutex_unlock(&s->lock);
        return v;
}

/* Was id cancelled before its call ran? (It is forgotten then.) */
static bool take_cancelled(mcp_server *s, const json_t *id) {
        json_t *v;
        size_t i;

        json_array_foreach(s->cancelled, i, v)
                if (json_equal(v, id)) {
                        json_array_remove(s->cancelled, i);
                        return true;
                }
        return false;
}

json_t *mcp_job_run(mcp_server *s, mcp_job *job) {
        json_t *id = json_object_get(job->req, "id"), *answer = NULL;
        bool skip;

        pthread_mutex_lock(&s->lock);
        skip = take_cancelled(s, id);
        if (!skip) {
                s->running = json_incref(id);
                s->running_cancelled = false;
        }
        pthread_mutex_unlock(&s->lock);
        if (!skip)
                answer = run(s, job->req, job->modern);
        pthread_mutex_lock(&s->lock);
        if (!skip && s->running_cancelled) { /* the client no longer waits for it */
                json_decref(answer);
                answer = NULL;
        }
        json_decref(s->running);
        s->running = NULL;
        pthread_mutex_unlock(&s->lock);
        mcp_job_free(job);
        return answer;
}

mcp_job *mcp_job_free(mcp_job *job) {
        if (job)
                json_decref(job->req);
        free(job);
        return NULL;
}
