/* SPDX-License-Identifier: MIT */
/*
 * The claude CLI's stream-json events (DESIGN §9 "Delegates"), read as hostile input: one
 * line in, actions out, no I/O (the unit tests replay recorded streams, a fuzz target feeds
 * it anything). What the pod makes of them:
 *   - text as it streams (stream_event text_delta) -> {"type": "delta", "text"};
 *   - an assistant message's blocks -> {"type": "text", "text", "final": false} and
 *     {"type": "tool_call", "id", "name", "input"};
 *   - the tool results the CLI sends back -> {"type": "tool_result", "id", "name", "ok",
 *     "text"};
 *   - each model call's usage, once per message id (the CLI repeats a message's usage on
 *     each of its content block lines; the streamed message_delta carries the final output
 *     count) -> {input_tokens, output_tokens, cache_read_tokens, cache_write_tokens};
 *   - result: the answer, or a one-line error; the growth of total_cost_usd (which the CLI
 *     sums over its process) -> {"turns": 0, "cost_usd": X, tokens 0}.
 */
#include <math.h>
#include <string.h>

#include "llm-internal.h"

#define CLAUDE_IDS_MAX 1024u /* message ids and tool names remembered */
#define CLAUDE_ID_MAX 128u /* a message, tool call or session id */
#define CLAUDE_RESULT_TEXT_MAX (64u << 10) /* a tool result's text in a progress event */
#define CLAUDE_TOKENS_MAX 1000000000000LL /* one count the CLI reports */
#define CLAUDE_COST_MAX 1000000.0 /* dollars one CLI process may report */

void claude_events_init(claude_events *e, const char *model) {
        *e = (claude_events){ .model = model };
}

void claude_events_done(claude_events *e) {
        json_decref(e->counted);
        json_decref(e->tool_names);
        json_decref(e->stream_usage);
        json_decref(e->held);
        free(e->result);
        *e = (claude_events){ .model = e->model };
}

void claude_events_new_process(claude_events *e) {
        e->cost_seen = 0;
        e->stream_id[0] = '\0';
        json_decref(e->stream_usage);
        e->stream_usage = NULL;
}

void claude_events_new_call(claude_events *e) {
        json_decref(e->held);
        e->held = NULL;
        free(e->result);
        e->result = NULL;
        e->done = false;
}

static int bad_line(claude_events *e, pod_error *err, const char *why) {
        return pod_error_set(err, -EPROTO, "model %s: the claude CLI printed %s", e->model, why);
}

/* An id as the CLI gives it: short, printable, no quotes; NULL otherwise. */
static const char *id_of(const json_t *v) {
        const char *s = json_string_value(v);
        size_t n = s ? strlen(s) : 0;

        if (n == 0 || n >= CLAUDE_ID_MAX)
                return NULL;
        for (size_t i = 0; i < n; i++)
                if ((unsigned char) s[i] <= 0x20 || s[i] == 0x7f || s[i] == '"' || s[i] == '\\')
                        return NULL;
        return s;
}

static json_int_t count_of(const json_t *u, const char *key) {
        json_int_t v = json_integer_value(json_object_get(u, key));

        return v < 0 ? 0 : v > CLAUDE_TOKENS_MAX ? CLAUDE_TOKENS_MAX : v;
}

/* The neutral usage of an Anthropic usage object (docs/budgets.md: cache writes are input). */
static json_t *neutral_usage(const json_t *u) {
        json_int_t write = count_of(u, "cache_creation_input_tokens");

        return json_pack("{s:I, s:I, s:I, s:I}", "input_tokens",
                         (json_int_t) (count_of(u, "input_tokens") + write), "output_tokens",
                         count_of(u, "output_tokens"), "cache_read_tokens",
                         count_of(u, "cache_read_input_tokens"), "cache_write_tokens", write);
}

static int act(json_t *actions, const char *kind, json_t *v, pod_error *err) {
        if (!v || json_array_append_new(actions, json_pack("{s:o}", kind, v)) < 0)
                return pod_error_oom(err);
        return 0;
}

/* The text block held back: it goes out once more follows, unless it is the answer (which
 * the pod shows as the turn's final text). */
static int flush_held(claude_events *e, json_t *actions, pod_error *err) {
        json_t *held = e->held;

        e->held = NULL;
        return held ? act(actions, "progress", held, err) : 0;
}

/* Remember key in *set (an object), forgetting all once it holds CLAUDE_IDS_MAX: ids repeat
 * only on adjacent lines, so what was forgotten is long done. */
static int remember(json_t **set, const char *key, json_t *v, pod_error *err) {
        if (!*set || json_object_size(*set) >= CLAUDE_IDS_MAX) {
                json_decref(*set);
                *set = json_object();
        }
        if (!*set || json_object_set_new(*set, key, v) < 0)
                return pod_error_oom(err);
        return 0;
}

/* A model call's usage, once per message id. */
static int count_message(
        claude_events *e, const char *id, const json_t *usage, json_t *actions, pod_error *err) {
        int r;

        if (json_object_get(e->counted, id))
                return 0;
        r = remember(&e->counted, id, json_true(), err);
        return r < 0 ? r : act(actions, "usage", neutral_usage(usage), err);
}

static int stream_event(claude_events *e, const json_t *ev, json_t *actions, pod_error *err) {
        const char *type = json_string_value(json_object_get(ev, "type")) ?: "";
        const json_t *delta = json_object_get(ev, "delta");
        const char *id, *text;

        if (strcmp(type, "message_start") == 0) {
                const json_t *msg = json_object_get(ev, "message");

                id = id_of(json_object_get(msg, "id"));
                snprintf(e->stream_id, sizeof(e->stream_id), "%s", id ? id : "");
                json_decref(e->stream_usage);
                e->stream_usage = json_deep_copy(json_object_get(msg, "usage"));
                return 0;
        }
        if (strcmp(type, "content_block_delta") == 0) {
                text = json_string_value(json_object_get(delta, "text"));
                if (!text || !*text)
                        return 0;
                return act(actions, "progress",
                           json_pack("{s:s, s:s}", "type", "delta", "text", text), err);
        }
        if (strcmp(type, "message_delta") == 0 && e->stream_id[0]) {
                /* The final counts: message_start's, updated by message_delta's. */
                json_t *u = e->stream_usage ? e->stream_usage : json_object();

                e->stream_usage = u;
                if (json_is_object(json_object_get(ev, "usage")))
                        json_object_update(u, json_object_get(ev, "usage"));
                return count_message(e, e->stream_id, u, actions, err);
        }
        return 0;
}

static int assistant_block(claude_events *e, const json_t *b, json_t *actions, pod_error *err) {
        const char *type = json_string_value(json_object_get(b, "type")) ?: "";
        const char *text = json_string_value(json_object_get(b, "text"));
        const char *id, *name;
        json_t *input;
        int r;

        if (strcmp(type, "text") == 0 && text && *text) {
                r = flush_held(e, actions, err);
                e->held = json_pack("{s:s, s:s, s:b}", "type", "text", "text", text, "final", 0);
                return r < 0 ? r : e->held ? 0 : pod_error_oom(err);
        }
        if (strcmp(type, "tool_use") != 0 && strcmp(type, "server_tool_use") != 0 &&
            strcmp(type, "mcp_tool_use") != 0)
                return 0;
        id = id_of(json_object_get(b, "id"));
        name = json_string_value(json_object_get(b, "name"));
        input = json_object_get(b, "input");
        if (!id || !name || strlen(name) >= CLAUDE_ID_MAX)
                return 0;
        r = remember(&e->tool_names, id, json_string(name), err);
        if (r >= 0)
                r = flush_held(e, actions, err);
        if (r < 0)
                return r;
        return act(actions, "progress",
                   json_pack("{s:s, s:s, s:s, s:o}", "type", "tool_call", "id", id, "name", name,
                             "input", json_is_object(input) ? json_incref(input) : json_object()),
                   err);
}

static int assistant(claude_events *e, const json_t *line, json_t *actions, pod_error *err) {
        const json_t *msg = json_object_get(line, "message");
        const json_t *content = json_object_get(msg, "content"), *b;
        const char *id = id_of(json_object_get(msg, "id"));
        size_t i;
        int r = 0;

        json_array_foreach(content, i, b) {
                if (i >= LLM_BLOCKS_MAX)
                        break;
                r = assistant_block(e, b, actions, err);
                if (r < 0)
                        return r;
        }
        /* Without partial messages (or one that was not streamed), its own lines say its
         * usage; a streamed one is counted at its message_delta, with the final counts. */
        if (id && strcmp(id, e->stream_id) != 0 && json_is_object(json_object_get(msg, "usage")))
                r = count_message(e, id, json_object_get(msg, "usage"), actions, err);
        return r;
}

/* A tool result's content: a string, or text parts joined; cut for the progress event. */
static char *result_text(const json_t *content) {
        _cleanup_buf_ pod_buf b = { 0 };
        const json_t *part;
        size_t i;

        if (json_is_string(content))
                buf_puts(&b, json_string_value(content));
        json_array_foreach(content, i, part) {
                const char *t = json_string_value(json_object_get(part, "text"));

                if (t && b.len < CLAUDE_RESULT_TEXT_MAX)
                        buf_printf(&b, "%s%s", b.len ? "\n" : "", t);
        }
        if (b.len > CLAUDE_RESULT_TEXT_MAX) {
                size_t cut = CLAUDE_RESULT_TEXT_MAX;

                while (cut > 0 && ((unsigned char) b.data[cut] & 0xc0) == 0x80)
                        cut--; /* never inside a UTF-8 character */
                b.len = cut;
                b.data[cut] = '\0';
                buf_puts(&b, " [cut]");
        }
        buf_puts(&b, "");
        return buf_steal(&b);
}

static int user(claude_events *e, const json_t *line, json_t *actions, pod_error *err) {
        const json_t *content = json_object_get(json_object_get(line, "message"), "content"), *b;
        size_t i;

        if (flush_held(e, actions, err) < 0)
                return -ENOMEM;
        json_array_foreach(content, i, b) {
                const char *type = json_string_value(json_object_get(b, "type")) ?: "";
                const char *id = id_of(json_object_get(b, "tool_use_id"));
                const char *name;
                char *text;
                json_t *ev;

                if (i >= LLM_BLOCKS_MAX)
                        break;
                if (strcmp(type, "tool_result") != 0 || !id)
                        continue;
                name = json_string_value(json_object_get(e->tool_names, id)) ?: "";
                text = result_text(json_object_get(b, "content"));
                ev = text ? json_pack("{s:s, s:s, s:s, s:b, s:s}", "type", "tool_result", "id", id,
                                      "name", name, "ok",
                                      !json_is_true(json_object_get(b, "is_error")), "text", text) :
                            NULL;
                free(text);
                if (act(actions, "progress", ev, err) < 0)
                        return -ENOMEM;
        }
        return 0;
}

static int take_session(claude_events *e, const json_t *line, pod_error *err) {
        const json_t *v = json_object_get(line, "session_id");
        const char *id = id_of(v);

        if (!v)
                return 0;
        for (const char *c = id; c && *c; c++)
                if (!(*c == '-' || *c == '_' || (*c >= '0' && *c <= '9') ||
                      (*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z')))
                        id = NULL;
        if (!id)
                return bad_line(e, err, "a session id that is not one");
        snprintf(e->session, sizeof(e->session), "%s", id);
        return 0;
}

/* total_cost_usd sums this process's calls: what it grew by is this result's cost. */
static int take_cost(claude_events *e, const json_t *line, json_t *actions, pod_error *err) {
        const json_t *v = json_object_get(line, "total_cost_usd");
        double total = json_number_value(v), delta;

        if (!json_is_number(v) || !isfinite(total) || total < 0 || total > CLAUDE_COST_MAX ||
            total <= e->cost_seen)
                return 0;
        delta = total - e->cost_seen;
        e->cost_seen = total;
        return act(actions, "usage",
                   json_pack("{s:i, s:i, s:i, s:i, s:i, s:f}", "input_tokens", 0, "output_tokens",
                             0, "cache_read_tokens", 0, "cache_write_tokens", 0, "turns", 0,
                             "cost_usd", delta),
                   err);
}

/* Why a result is an error: its text, or its errors joined, quoted on one line. */
static int result_error(claude_events *e, const json_t *line, pod_error *err) {
        const char *subtype = json_string_value(json_object_get(line, "subtype")) ?: "error";
        const char *text = json_string_value(json_object_get(line, "result"));
        _cleanup_buf_ pod_buf b = { 0 };
        _cleanup_free_ char *why = NULL, *kind = str_quote(subtype, 64);
        const json_t *x;
        size_t i;

        if (text)
                buf_puts(&b, text);
        json_array_foreach(json_object_get(line, "errors"), i, x) {
                if (json_is_string(x) && i < 8)
                        buf_printf(&b, "%s%s", b.len ? "; " : "", json_string_value(x));
        }
        why = str_quote(b.len ? buf_str(&b) : "no reason given", 600);
        return pod_error_set(err, -EPROTO,
                             "model %s: the claude CLI ended the task with an error (%s): %s",
                             e->model, kind ? kind : "?", why ? why : "?");
}

static int result(claude_events *e, const json_t *line, json_t *actions, pod_error *err) {
        const char *subtype = json_string_value(json_object_get(line, "subtype")) ?: "";
        const json_t *text = json_object_get(line, "result");
        int r;

        /* A message streamed without its message_delta still counts. */
        if (e->stream_id[0] && e->stream_usage) {
                r = count_message(e, e->stream_id, e->stream_usage, actions, err);
                if (r < 0)
                        return r;
        }
        r = take_cost(e, line, actions, err);
        if (r < 0)
                return r;
        e->done = true;
        if (e->held && json_is_string(text) &&
            strcmp(json_string_value(json_object_get(e->held, "text")), json_string_value(text)) ==
                    0) {
                json_decref(e->held);
                e->held = NULL;
        }
        r = flush_held(e, actions, err);
        if (r < 0)
                return r;
        if (json_is_true(json_object_get(line, "is_error")) || strcmp(subtype, "success") != 0)
                return result_error(e, line, err);
        if (text && !json_is_string(text))
                return bad_line(e, err, "a result that is not text");
        if (json_string_length(text) > LLM_TEXT_MAX)
                return bad_line(e, err, "a result over 16 MiB");
        free(e->result);
        e->result = strdup(text ? json_string_value(text) : "");
        return e->result ? 1 : pod_error_oom(err);
}

int claude_event(claude_events *e, const char *line, size_t len, json_t *actions, pod_error *err) {
        json_auto_t *j = NULL;
        const char *type;
        int r;

        while (len > 0 && (line[len - 1] == ' ' || line[len - 1] == '\t'))
                len--;
        if (len == 0)
                return 0;
        if (len > LLM_DELEGATE_LINE_MAX)
                return bad_line(e, err, "a line over 8 MiB");
        j = json_loadb(line, len, JSON_REJECT_DUPLICATES, NULL);
        if (!json_is_object(j))
                return bad_line(e, err, "a line that is not a JSON object");
        type = json_string_value(json_object_get(j, "type")) ?: "";
        if (strcmp(type, "system") == 0 || strcmp(type, "result") == 0) {
                r = take_session(e, j, err);
                if (r < 0)
                        return r;
        }
        if (strcmp(type, "stream_event") == 0)
                return stream_event(e, json_object_get(j, "event"), actions, err);
        if (strcmp(type, "assistant") == 0)
                return assistant(e, j, actions, err);
        if (strcmp(type, "user") == 0)
                return user(e, j, actions, err);
        if (strcmp(type, "result") == 0)
                return result(e, j, actions, err);
        return 0; /* system status, rate limits, anything newer: nothing to do */
}
