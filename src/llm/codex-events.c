/* SPDX-License-Identifier: MIT */
/*
 * The codex CLI's `exec --json` events (DESIGN §9 "Delegates"), read as hostile input: one line
 * in, actions out, no I/O (the unit tests replay recorded streams, a fuzz target feeds it
 * anything). What the pod makes of them:
 *   - thread.started: the thread id, which `codex exec resume` continues;
 *   - agent_message items -> {"type": "text", "text", "final": false}, the last one held back:
 *     it is the task's answer when the turn completes;
 *   - command_execution, file_change, mcp_tool_call and web_search items -> {"type":
 *     "tool_call", "id", "name", "input"} when they start, {"type": "tool_result", "id",
 *     "name", "ok", "text"} when they complete; reasoning -> {"type": "reasoning", "text"};
 *     todo_list -> a text event with the plan; the CLI's notices ("error" events, "error"
 *     items: retries and warnings) -> {"type": "notice", "text"};
 *   - turn.completed: its usage is the thread's total so far (a resumed thread counts its
 *     earlier tasks too), so what grew since the last report is the usage, neutral: input
 *     without the cached part (which codex counts inside input_tokens);
 *   - turn.failed: a one-line error.
 */
#include <string.h>

#include "llm-internal.h"

#define CODEX_IDS_MAX 1024u /* tool calls remembered between their start and end */
#define CODEX_RESULT_TEXT_MAX (64u << 10) /* a tool result's text in a progress event */
#define CODEX_TOKENS_MAX 1000000000000LL /* one count the CLI reports */

void codex_events_init(codex_events *e, const char *model) {
        *e = (codex_events){ .model = model };
}

void codex_events_done(codex_events *e) {
        json_decref(e->started);
        json_decref(e->held);
        free(e->result);
        *e = (codex_events){ .model = e->model };
}

void codex_events_new_call(codex_events *e) {
        json_decref(e->held);
        e->held = NULL;
        free(e->result);
        e->result = NULL;
        e->done = false;
        e->run++;
}

static int bad_line(codex_events *e, pod_error *err, const char *why) {
        return pod_error_set(err, -EPROTO, "model %s: the codex CLI printed %s", e->model, why);
}

/* An id as the CLI gives it: short, of letters, digits, '-', '_' and '.', not an option. */
static const char *id_of(const json_t *v) {
        const char *s = json_string_value(v);
        size_t n = s ? strlen(s) : 0;

        if (n == 0 || n >= CODEX_ID_MAX || s[0] == '-')
                return NULL;
        for (size_t i = 0; i < n; i++)
                if (!strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.",
                            s[i]))
                        return NULL;
        return s;
}

static const char *str_of(const json_t *o, const char *key) {
        return json_string_value(json_object_get(o, key)) ?: "";
}

static int act(json_t *actions, const char *kind, json_t *v, pod_error *err) {
        if (!v || json_array_append_new(actions, json_pack("{s:o}", kind, v)) < 0)
                return pod_error_oom(err);
        return 0;
}

static int progress(json_t *actions, json_t *ev, pod_error *err) {
        return act(actions, "progress", ev, err);
}

/* The answer held back goes out as progress once more follows. */
static int flush_held(codex_events *e, json_t *actions, pod_error *err) {
        json_t *held = e->held;

        e->held = NULL;
        return held ? progress(actions, held, err) : 0;
}

/* s cut to CODEX_RESULT_TEXT_MAX bytes (never inside a UTF-8 character), marked so. */
static json_t *cut_text(const char *s) {
        size_t n = strlen(s), cut = CODEX_RESULT_TEXT_MAX;
        _cleanup_buf_ pod_buf b = { 0 };

        if (n <= cut)
                return json_string(s);
        while (cut > 0 && ((unsigned char) s[cut] & 0xc0) == 0x80)
                cut--;
        buf_append(&b, s, cut);
        buf_puts(&b, " [cut]");
        return buf_str(&b) ? json_string(b.data) : NULL;
}

/* ---- items ---------------------------------------------------------------------------------- */

/* The pod's name and input for a tool-like item; false: not a tool. */
static bool tool_of(const json_t *item, char name[160], json_t **input) {
        const char *type = str_of(item, "type");

        if (strcmp(type, "command_execution") == 0) {
                snprintf(name, 160, "exec_command");
                *input = json_pack("{s:s}", "command", str_of(item, "command"));
        } else if (strcmp(type, "file_change") == 0) {
                snprintf(name, 160, "apply_patch");
                *input = json_pack("{s:O}", "changes",
                                   json_object_get(item, "changes") ?: json_null());
        } else if (strcmp(type, "mcp_tool_call") == 0) {
                const char *server = str_of(item, "server"), *tool = str_of(item, "tool");
                /* The pod's own tools under their own names; another server's as codex says. */
                if (strcmp(server, "pod") == 0)
                        snprintf(name, 160, "%.150s", tool);
                else
                        snprintf(name, 160, "mcp__%.60s__%.80s", server, tool);
                const json_t *args = json_object_get(item, "arguments");
                *input = args ? json_deep_copy(args) : json_object();
        } else if (strcmp(type, "web_search") == 0) {
                snprintf(name, 160, "web_search");
                *input = json_pack("{s:s}", "query", str_of(item, "query"));
        } else {
                return false;
        }
        return true;
}

/* What a completed tool-like item says, and whether it went well. */
static char *tool_outcome(const json_t *item, bool *ok) {
        const char *type = str_of(item, "type"), *status = str_of(item, "status");
        _cleanup_buf_ pod_buf b = { 0 };
        const json_t *v;
        size_t i;

        *ok = strcmp(status, "completed") == 0 || !*status;
        if (strcmp(type, "command_execution") == 0) {
                json_int_t code = json_integer_value(json_object_get(item, "exit_code"));
                *ok = *ok && json_is_integer(json_object_get(item, "exit_code")) && code == 0;
                buf_puts(&b, str_of(item, "aggregated_output"));
        } else if (strcmp(type, "file_change") == 0) {
                json_array_foreach(json_object_get(item, "changes"), i, v)
                        buf_printf(&b, "%s%s %s", b.len ? "\n" : "", str_of(v, "kind"),
                                   str_of(v, "path"));
        } else if (strcmp(type, "mcp_tool_call") == 0) {
                const json_t *error = json_object_get(item, "error");
                *ok = *ok && json_is_null(error ?: json_null()) &&
                        !json_is_true(json_object_get(json_object_get(item, "result"), "isError"));
                json_array_foreach(json_object_get(json_object_get(item, "result"), "content"), i,
                                   v) {
                        if (b.len < CODEX_RESULT_TEXT_MAX)
                                buf_printf(&b, "%s%s", b.len ? "\n" : "", str_of(v, "text"));
                }
                if (error && !json_is_null(error))
                        buf_printf(&b, "%s%s", b.len ? "\n" : "", str_of(error, "message"));
        }
        buf_puts(&b, "");
        return buf_steal(&b);
}

/* The id a tool-like item has in the pod's events: the task's number and the item's id (codex
 * numbers items from 0 in each exec). */
static json_t *event_id(const codex_events *e, const char *id) {
        char s[CODEX_ID_MAX + 24];

        snprintf(s, sizeof(s), "codex-%u-%s", e->run, id);
        return json_string(s);
}

static int
tool_started(codex_events *e, const json_t *item, const char *id, json_t *actions, pod_error *err) {
        char name[160];
        json_t *input = NULL, *key;

        if (json_object_get(e->started, id) || !tool_of(item, name, &input))
                return 0;
        if (!e->started || json_object_size(e->started) >= CODEX_IDS_MAX) {
                json_decref(e->started); /* those are long done */
                e->started = json_object();
        }
        key = event_id(e, id);
        if (!input || !key || !e->started || json_object_set_new(e->started, id, json_true()) < 0) {
                json_decref(input);
                json_decref(key);
                return pod_error_oom(err);
        }
        return progress(actions,
                        json_pack("{s:s, s:o, s:s, s:o}", "type", "tool_call", "id", key, "name",
                                  name, "input", input),
                        err);
}

static int tool_completed(
        codex_events *e, const json_t *item, const char *id, json_t *actions, pod_error *err) {
        _cleanup_free_ char *text = NULL;
        char name[160];
        json_t *input = NULL;
        bool ok;
        int r = tool_started(e, item, id, actions, err); /* one that never said it started */

        if (r < 0 || !tool_of(item, name, &input))
                return r;
        json_decref(input);
        json_object_del(e->started, id);
        text = tool_outcome(item, &ok);
        if (!text)
                return pod_error_oom(err);
        return progress(actions,
                        json_pack("{s:s, s:o, s:s, s:b, s:o}", "type", "tool_result", "id",
                                  event_id(e, id), "name", name, "ok", ok, "text", cut_text(text)),
                        err);
}

static json_t *plan_event(const json_t *item) {
        _cleanup_buf_ pod_buf b = { 0 };
        const json_t *v;
        size_t i;

        buf_puts(&b, "Plan:");
        json_array_foreach(json_object_get(item, "items"), i, v) {
                if (b.len < CODEX_RESULT_TEXT_MAX)
                        buf_printf(&b, "\n- [%c] %s",
                                   json_is_true(json_object_get(v, "completed")) ? 'x' : ' ',
                                   str_of(v, "text"));
        }
        return buf_str(&b) ? json_pack("{s:s, s:o, s:b}", "type", "text", "text", cut_text(b.data),
                                       "final", false) :
                             NULL;
}

/* item.started, item.updated, item.completed. */
static int
item(codex_events *e, const json_t *line, const char *phase, json_t *actions, pod_error *err) {
        const json_t *it = json_object_get(line, "item");
        const char *type = str_of(it, "type"), *id = id_of(json_object_get(it, "id"));
        bool completed = strcmp(phase, "item.completed") == 0;
        int r;

        if (!json_is_object(it) || !id)
                return bad_line(e, err, "an item without a valid id");
        if (strcmp(type, "agent_message") == 0) {
                if (!completed)
                        return 0;
                r = flush_held(e, actions, err);
                e->held = json_pack("{s:s, s:o, s:b}", "type", "text", "text",
                                    json_string(str_of(it, "text")) ?: json_string(""), "final",
                                    false);
                return r < 0 ? r : e->held ? 0 : pod_error_oom(err);
        }
        r = flush_held(e, actions, err);
        if (r < 0)
                return r;
        if (strcmp(type, "reasoning") == 0)
                return completed ? progress(actions,
                                            json_pack("{s:s, s:o}", "type", "reasoning", "text",
                                                      cut_text(str_of(it, "text"))),
                                            err) :
                                   0;
        if (strcmp(type, "todo_list") == 0)
                return strcmp(phase, "item.updated") ? progress(actions, plan_event(it), err) : 0;
        if (strcmp(type, "error") == 0)
                return progress(actions,
                                json_pack("{s:s, s:o}", "type", "notice", "text",
                                          cut_text(str_of(it, "message"))),
                                err);
        if (completed)
                return tool_completed(e, it, id, actions, err);
        return strcmp(phase, "item.started") == 0 ? tool_started(e, it, id, actions, err) : 0;
}

/* ---- turns ---------------------------------------------------------------------------------- */

static json_int_t count_of(const json_t *u, const char *key) {
        json_int_t v = json_integer_value(json_object_get(u, key));

        return v < 0 ? 0 : v > CODEX_TOKENS_MAX ? CODEX_TOKENS_MAX : v;
}

/* What a counter grew by since the last report (a total that went down: a new count). */
static json_int_t grown(json_int_t *seen, json_int_t now) {
        json_int_t d = now >= *seen ? now - *seen : now;

        *seen = now;
        return d;
}

static int turn_completed(codex_events *e, const json_t *line, json_t *actions, pod_error *err) {
        const json_t *u = json_object_get(line, "usage");
        json_int_t in = grown(&e->seen[0], count_of(u, "input_tokens"));
        json_int_t cached = grown(&e->seen[1], count_of(u, "cached_input_tokens"));
        json_int_t written = grown(&e->seen[2], count_of(u, "cache_write_input_tokens"));
        json_int_t out = grown(&e->seen[3], count_of(u, "output_tokens"));
        int r;

        if (cached > in)
                cached = in;
        if (in || out || cached || written) {
                r = act(actions, "usage",
                        json_pack("{s:I, s:I, s:I, s:I}", "input_tokens", in - cached,
                                  "output_tokens", out, "cache_read_tokens", cached,
                                  "cache_write_tokens", written),
                        err);
                if (r < 0)
                        return r;
        }
        free(e->result);
        e->result = strdup(e->held ? json_string_value(json_object_get(e->held, "text")) : "");
        json_decref(e->held);
        e->held = NULL;
        e->done = true;
        return e->result ? 1 : pod_error_oom(err);
}

static int turn_failed(codex_events *e, const json_t *line, pod_error *err) {
        const char *msg = str_of(json_object_get(line, "error"), "message");
        _cleanup_free_ char *quoted = str_quote(*msg ? msg : "no reason given", 1024);

        e->done = true;
        return pod_error_set(err, -EPROTO, "model %s: the codex CLI failed: %s", e->model,
                             quoted ? quoted : "out of memory");
}

static int thread_started(codex_events *e, const json_t *line, pod_error *err) {
        const char *id = id_of(json_object_get(line, "thread_id"));

        if (!id)
                return bad_line(e, err, "a thread.started without a valid thread_id");
        if (strcmp(id, e->thread) != 0) {
                snprintf(e->thread, sizeof(e->thread), "%s", id);
                memset(e->seen, 0, sizeof(e->seen)); /* a new thread counts from 0 */
        }
        return 0;
}

int codex_event(codex_events *e, const char *line, size_t len, json_t *actions, pod_error *err) {
        json_auto_t *v = NULL;
        const char *type;

        if (e->done)
                return bad_line(e, err, "more after the end of its task");
        v = json_loadb(line, len, JSON_REJECT_DUPLICATES, NULL);
        if (!json_is_object(v))
                return bad_line(e, err, "a line that is not a JSON object");
        type = str_of(v, "type");
        if (strcmp(type, "thread.started") == 0)
                return thread_started(e, v, err);
        if (str_startswith(type, "item."))
                return item(e, v, type, actions, err);
        if (strcmp(type, "turn.completed") == 0)
                return turn_completed(e, v, actions, err);
        if (strcmp(type, "turn.failed") == 0)
                return turn_failed(e, v, err);
        if (strcmp(type, "error") == 0)
                return progress(actions,
                                json_pack("{s:s, s:o}", "type", "notice", "text",
                                          cut_text(str_of(v, "message"))),
                                err);
        return 0; /* turn.started, and what later versions add */
}
