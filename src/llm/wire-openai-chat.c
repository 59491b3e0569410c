/* SPDX-License-Identifier: MIT */
/*
 * The OpenAI Chat Completions wire (DESIGN §9), pure: what openrouter:, ollama:, local: and
 * oai-compat: speak, so it takes what the servers that imitate it really send. A tool
 * call's fragments are routed by their id, falling back to their index (some servers omit
 * the index, others the id after the first fragment), and the call is finalised only when
 * the stream is over, never at the first fragment that parses. finish_reason "stop" on a
 * turn with tool calls is accepted (some servers send it). Usage comes in a last chunk
 * because the request asks for stream_options.include_usage; the prompt's cached tokens
 * are counted apart from the rest of the input.
 */
#include <string.h>

#include "llm-internal.h"

static const char *effort(pod_reasoning r) {
        return r == POD_REASONING_UNSET ? NULL : reasoning_to_string(r);
}

static json_t *assistant(const json_t *e) {
        const json_t *calls = json_object_get(e, "tool_calls"), *c;
        const char *text = llm_entry_text(e);
        json_t *m = json_pack("{s:s}", "role", "assistant"), *tc = json_array();
        size_t i;

        json_array_foreach(calls, i, c) {
                char *args = json_dumps(json_object_get(c, "input") ?: json_object(), JSON_COMPACT);
                json_array_append_new(tc,
                                      json_pack("{s:O, s:s, s:{s:O, s:s}}", "id",
                                                json_object_get(c, "id"), "type", "function",
                                                "function", "name", json_object_get(c, "name"),
                                                "arguments", args ?: "{}"));
                free(args);
        }
        json_object_set_new(m, "content",
                            *text || !json_array_size(tc) ? json_string(text) : json_null());
        if (json_array_size(tc))
                json_object_set_new(m, "tool_calls", tc);
        else
                json_decref(tc);
        return m;
}

static json_t *messages(const json_t *conv) {
        json_t *msgs = json_array();
        const json_t *e;
        size_t i;

        json_array_foreach(conv, i, e) {
                const char *role = llm_entry_role(e);
                if (strcmp(role, "assistant") == 0)
                        json_array_append_new(msgs, assistant(e));
                else if (strcmp(role, "tool") == 0)
                        json_array_append_new(msgs,
                                              json_pack("{s:s, s:O, s:s}", "role", "tool",
                                                        "tool_call_id",
                                                        json_object_get(e, "tool_call_id"),
                                                        "content", llm_entry_text(e)));
                else if (strcmp(role, "system") == 0 || strcmp(role, "user") == 0)
                        json_array_append_new(msgs,
                                              json_pack("{s:s, s:s}", "role", role, "content",
                                                        llm_entry_text(e)));
        }
        return msgs;
}

static json_t *tools_json(const json_t *tools) {
        json_t *out = json_array();
        const json_t *t;
        size_t i;

        json_array_foreach(tools, i, t)
                json_array_append_new(out,
                                      json_pack("{s:s, s:{s:O, s:O, s:O}}", "type", "function",
                                                "function", "name", json_object_get(t, "name"),
                                                "description", json_object_get(t, "description"),
                                                "parameters", json_object_get(t, "input_schema")));
        return out;
}

static json_t *chat_request(const llm_request *rq) {
        json_t *body =
                json_pack("{s:s, s:b, s:{s:b}, s:o}", "model", rq->model, "stream", true,
                          "stream_options", "include_usage", true, "messages", messages(rq->conv));

        if (body && json_array_size(rq->tools))
                json_object_set_new(body, "tools", tools_json(rq->tools));
        if (body && effort(rq->reasoning))
                json_object_set_new(body, "reasoning_effort", json_string(effort(rq->reasoning)));
        return body;
}

/* The call a fragment belongs to: by id, else by index, else the last one; or a new one. */
static llm_block *route(llm_asm *a, const json_t *tc, pod_error *err) {
        const char *id = json_string_value(json_object_get(tc, "id"));
        const json_t *index = json_object_get(tc, "index");
        llm_block *b = NULL;

        if (id && !*id)
                id = NULL;
        if (id)
                b = llm_block_by_id(a, id);
        else if (json_is_integer(index))
                b = llm_block_by_index(a, (long) json_integer_value(index));
        else if (a->n_blocks)
                b = &a->blocks[a->n_blocks - 1];
        if (b)
                return b;
        b = llm_block_add(a, LLM_BLOCK_CALL,
                          json_is_integer(index) ? (long) json_integer_value(index) : -1, err);
        if (b && llm_set_str(&b->id, id, err) < 0)
                return NULL;
        return b;
}

static int tool_call_delta(llm_asm *a, const json_t *tc, pod_error *err) {
        const json_t *fn = json_object_get(tc, "function");
        const char *name = json_string_value(json_object_get(fn, "name"));
        llm_block *b;

        if (!json_is_object(tc))
                return pod_error_set(err, -EPROTO,
                                     "the stream sent a tool call that is not an "
                                     "object");
        b = route(a, tc, err);
        if (!b)
                return err ? err->code : -ENOMEM;
        if (name && *name && !b->name && llm_set_str(&b->name, name, err) < 0)
                return err->code;
        return llm_block_append(b, json_string_value(json_object_get(fn, "arguments")),
                                LLM_ARGS_MAX, err);
}

static void chat_usage(llm_asm *a, const json_t *u) {
        const json_t *prompt = json_object_get(u, "prompt_tokens");
        const json_t *cached =
                json_object_get(json_object_get(u, "prompt_tokens_details"), "cached_tokens");
        json_int_t in = json_integer_value(prompt), hit = json_integer_value(cached);

        if (!json_is_object(u))
                return;
        if (json_is_integer(prompt) && hit >= 0 && hit <= in) {
                json_object_set_new(a->usage, "input_tokens", json_integer(in - hit));
                json_object_set_new(a->usage, "cache_read_tokens", json_integer(hit));
        }
        llm_usage_set(a, "output_tokens", json_object_get(u, "completion_tokens"));
}

/* An error object in the stream (OpenRouter and others send one mid-stream). */
static int chat_error(llm_asm *a, const json_t *e, pod_error *err) {
        const char *msg = json_string_value(json_object_get(e, "message")) ?: "";
        const json_t *code = json_object_get(e, "code");
        const char *type = json_string_value(json_object_get(e, "type")) ?: "";
        const char *scode = json_string_value(code) ?: "";
        json_int_t icode = json_integer_value(code);
        _cleanup_free_ char *q = str_quote(msg, 300);

        a->retryable = icode == 408 || icode == 429 || icode >= 500 || strstr(type, "overload") ||
                strstr(scode, "overload") || strstr(scode, "rate_limit") ||
                strstr(type, "server_error") || strstr(scode, "server_error");
        return pod_error_set(err, a->retryable ? -EBUSY : -EPROTO,
                             "the server reported an error inside the stream: %s", q ?: "");
}

static int chat_event(llm_asm *a, const char *event, const json_t *data, pod_error *err) {
        const json_t *choice = json_array_get(json_object_get(data, "choices"), 0);
        const json_t *delta = json_object_get(choice, "delta"), *tc;
        const char *finish = json_string_value(json_object_get(choice, "finish_reason"));
        const char *text = json_string_value(json_object_get(delta, "content"));
        size_t i;
        int r = 0;

        (void) event;
        if (json_object_get(data, "error"))
                return chat_error(a, json_object_get(data, "error"), err);
        if (text)
                r = llm_text_append(a, text, err);
        json_array_foreach(json_object_get(delta, "tool_calls"), i, tc) {
                if (r < 0)
                        break;
                r = tool_call_delta(a, tc, err);
        }
        if (r >= 0 && finish) {
                snprintf(a->stop, sizeof(a->stop), "%s", finish);
                a->finished = true; /* the stream may end here; a usage chunk may follow */
        }
        chat_usage(a, json_object_get(data, "usage"));
        return r;
}

static json_t *chat_carry(const llm_block *b) {
        return json_incref(b->item);
}

const llm_wire llm_wire_openai_chat = {
        .name = "openai-chat",
        .path = "/chat/completions",
        .request = chat_request,
        .event = chat_event,
        .carry = chat_carry,
};
