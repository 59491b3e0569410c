/* SPDX-License-Identifier: MIT */
/*
 * The Anthropic Messages wire (DESIGN §9), pure. The request: the system prompt, the tools
 * and the conversation, each marked for prompt caching (three of the four breakpoints the
 * API allows: the system prompt, the last tool, the last block of the conversation), and
 * the reasoning level as extended thinking with a token budget. The stream: content blocks
 * by index; a tool_use block's input_json_delta fragments are joined and parsed once the
 * stream is over (empty input is {}); thinking blocks are kept, signature and all, because
 * the API requires them back in the next request; ping is skipped; an error event inside
 * the stream ends it (an overload is worth another attempt).
 */
#include <string.h>

#include "llm-internal.h"

#define ANTHROPIC_MAX_TOKENS 8192 /* the answer's tokens, besides any thinking budget */

static long thinking_budget(pod_reasoning r) {
        switch (r) {
        case POD_REASONING_LOW:
                return 2048;
        case POD_REASONING_MEDIUM:
                return 8192;
        case POD_REASONING_HIGH:
                return 24576;
        case POD_REASONING_UNSET:
                break;
        }
        return 0;
}

static json_t *ephemeral(void) {
        return json_pack("{s:s}", "type", "ephemeral");
}

/* Append block to the last message when it has role, else to a new message. */
static void push(json_t *msgs, const char *role, json_t *block) {
        json_t *last = json_array_get(msgs, json_array_size(msgs) - 1);

        if (!block)
                return;
        if (last && strcmp(llm_entry_role(last), role) == 0) {
                json_array_append_new(json_object_get(last, "content"), block);
                return;
        }
        json_array_append_new(msgs, json_pack("{s:s, s:[o]}", "role", role, "content", block));
}

static json_t *tool_result(const json_t *e) {
        const char *text = llm_entry_text(e);
        json_t *b = json_pack("{s:s, s:s, s:b}", "type", "tool_result", "tool_use_id",
                              json_string_value(json_object_get(e, "tool_call_id")) ?: "",
                              "is_error", json_is_true(json_object_get(e, "is_error")));

        if (b && *text) /* an empty text block is refused; a result without content is not */
                json_object_set_new(b, "content", json_string(text));
        return b;
}

static void push_assistant(json_t *msgs, const json_t *e) {
        const json_t *x;
        size_t i;

        json_array_foreach(json_object_get(e, "reasoning"), i, x)
                push(msgs, "assistant", json_deep_copy(x));
        if (*llm_entry_text(e))
                push(msgs, "assistant",
                     json_pack("{s:s, s:s}", "type", "text", "text", llm_entry_text(e)));
        json_array_foreach(json_object_get(e, "tool_calls"), i, x)
                push(msgs, "assistant",
                     json_pack("{s:s, s:O, s:O, s:O}", "type", "tool_use", "id",
                               json_object_get(x, "id"), "name", json_object_get(x, "name"),
                               "input", json_object_get(x, "input")));
}

static json_t *messages(const json_t *conv) {
        json_t *msgs = json_array(), *last, *block;
        const json_t *e;
        size_t i;

        json_array_foreach(conv, i, e) {
                const char *role = llm_entry_role(e);
                if (strcmp(role, "user") == 0)
                        push(msgs, "user",
                             json_pack("{s:s, s:s}", "type", "text", "text", llm_entry_text(e)));
                else if (strcmp(role, "tool") == 0)
                        push(msgs, "user", tool_result(e));
                else if (strcmp(role, "assistant") == 0)
                        push_assistant(msgs, e);
        }
        /* The conversation so far is the prefix the next request repeats: cache up to here. */
        last = json_array_get(msgs, json_array_size(msgs) - 1);
        block = json_array_get(json_object_get(last, "content"),
                               json_array_size(json_object_get(last, "content")) - 1);
        if (block &&
            !str_startswith(json_string_value(json_object_get(block, "type")) ?: "", "thinking") &&
            !str_startswith(json_string_value(json_object_get(block, "type")) ?: "", "redacted"))
                json_object_set_new(block, "cache_control", ephemeral());
        return msgs;
}

static json_t *tools_json(const json_t *tools) {
        json_t *out = json_array();
        const json_t *t;
        size_t i;

        json_array_foreach(tools, i, t)
                json_array_append_new(out,
                                      json_pack("{s:O, s:O, s:O}", "name",
                                                json_object_get(t, "name"), "description",
                                                json_object_get(t, "description"), "input_schema",
                                                json_object_get(t, "input_schema")));
        if (json_array_size(out))
                json_object_set_new(json_array_get(out, json_array_size(out) - 1), "cache_control",
                                    ephemeral());
        return out;
}

static json_t *anthropic_request(const llm_request *rq) {
        long budget = thinking_budget(rq->reasoning);
        const char *system = llm_system_text(rq->conv);
        json_t *body = json_pack("{s:s, s:I, s:b, s:o}", "model", rq->model, "max_tokens",
                                 (json_int_t) (ANTHROPIC_MAX_TOKENS + budget), "stream", true,
                                 "messages", messages(rq->conv));

        if (body && *system)
                json_object_set_new(body, "system",
                                    json_pack("[{s:s, s:s, s:o}]", "type", "text", "text", system,
                                              "cache_control", ephemeral()));
        if (body && json_array_size(rq->tools))
                json_object_set_new(body, "tools", tools_json(rq->tools));
        if (body && budget)
                json_object_set_new(body, "thinking",
                                    json_pack("{s:s, s:I}", "type", "enabled", "budget_tokens",
                                              (json_int_t) budget));
        return body;
}

/* The API's input_tokens leave out the cache's reads and writes; the neutral figure counts the
 * writes as input (llm.h), so a budget counts what a cache write costs. */
static void read_usage(llm_asm *a, const json_t *u) {
        const json_t *in = json_object_get(u, "input_tokens");
        const json_t *wr = json_object_get(u, "cache_creation_input_tokens");

        if (json_is_integer(in) && json_is_integer(wr) && json_integer_value(wr) > 0 &&
            json_integer_value(in) >= 0 && json_integer_value(wr) <= INT64_MAX / 2 &&
            json_integer_value(in) <= INT64_MAX / 2) {
                json_t *sum = json_integer(json_integer_value(in) + json_integer_value(wr));
                llm_usage_set(a, "input_tokens", sum);
                json_decref(sum);
        } else
                llm_usage_set(a, "input_tokens", in);
        llm_usage_set(a, "output_tokens", json_object_get(u, "output_tokens"));
        llm_usage_set(a, "cache_read_tokens", json_object_get(u, "cache_read_input_tokens"));
        llm_usage_set(a, "cache_write_tokens", json_object_get(u, "cache_creation_input_tokens"));
}

static int block_start(llm_asm *a, const json_t *data, pod_error *err) {
        const json_t *cb = json_object_get(data, "content_block");
        const char *type = json_string_value(json_object_get(cb, "type")) ?: "";
        long index = (long) json_integer_value(json_object_get(data, "index"));
        llm_block *b;

        if (!json_is_integer(json_object_get(data, "index")) || llm_block_by_index(a, index))
                return pod_error_set(err, -EPROTO,
                                     "the stream started content block %ld twice "
                                     "or without an index",
                                     index);
        if (strcmp(type, "text") == 0) {
                b = llm_block_add(a, LLM_BLOCK_TEXT, index, err);
                return !b ? err->code :
                            llm_text_append(a, json_string_value(json_object_get(cb, "text")), err);
        }
        b = llm_block_add(a,
                          strcmp(type, "tool_use") == 0                  ? LLM_BLOCK_CALL :
                                  strcmp(type, "thinking") == 0          ? LLM_BLOCK_THINKING :
                                  strcmp(type, "redacted_thinking") == 0 ? LLM_BLOCK_CARRIED :
                                                                           LLM_BLOCK_OTHER,
                          index, err);
        if (!b)
                return err ? err->code : -ENOMEM;
        if (b->kind == LLM_BLOCK_CARRIED)
                b->item = json_deep_copy(cb);
        if (b->kind == LLM_BLOCK_THINKING) {
                const char *sig = json_string_value(json_object_get(cb, "signature"));
                if (sig && buf_puts(&b->sig, sig) < 0)
                        return pod_error_oom(err);
                return llm_block_append(b, json_string_value(json_object_get(cb, "thinking")),
                                        LLM_ARGS_MAX, err);
        }
        if (llm_set_str(&b->id, json_string_value(json_object_get(cb, "id")), err) < 0)
                return err->code;
        return llm_set_str(&b->name, json_string_value(json_object_get(cb, "name")), err);
}

static int block_delta(llm_asm *a, const json_t *data, pod_error *err) {
        long index = (long) json_integer_value(json_object_get(data, "index"));
        llm_block *b = llm_block_by_index(a, index);
        const json_t *d = json_object_get(data, "delta");
        const char *type = json_string_value(json_object_get(d, "type")) ?: "";

        if (!b)
                return pod_error_set(err, -EPROTO,
                                     "the stream sent a delta for content block "
                                     "%ld, which did not start",
                                     index);
        if (b->done)
                return pod_error_set(err, -EPROTO,
                                     "the stream sent a delta for content block "
                                     "%ld after its end",
                                     index);
        if (strcmp(type, "text_delta") == 0 && b->kind == LLM_BLOCK_TEXT)
                return llm_text_append(a, json_string_value(json_object_get(d, "text")), err);
        if (strcmp(type, "input_json_delta") == 0 && b->kind == LLM_BLOCK_CALL)
                return llm_block_append(b, json_string_value(json_object_get(d, "partial_json")),
                                        LLM_ARGS_MAX, err);
        if (strcmp(type, "thinking_delta") == 0 && b->kind == LLM_BLOCK_THINKING)
                return llm_block_append(b, json_string_value(json_object_get(d, "thinking")),
                                        LLM_ARGS_MAX, err);
        if (strcmp(type, "signature_delta") == 0 && b->kind == LLM_BLOCK_THINKING) {
                const char *sig = json_string_value(json_object_get(d, "signature"));
                if (sig && (b->sig.len + strlen(sig) > LLM_ARGS_MAX || buf_puts(&b->sig, sig) < 0))
                        return pod_error_set(err, -EMSGSIZE,
                                             "a thinking block's signature is "
                                             "too large");
        }
        return 0;
}

static int stream_error(llm_asm *a, const json_t *data, pod_error *err) {
        const json_t *e = json_object_get(data, "error");
        const char *type = json_string_value(json_object_get(e, "type")) ?: "error";
        _cleanup_free_ char *msg =
                str_quote(json_string_value(json_object_get(e, "message")) ?: "", 300);

        a->retryable = strcmp(type, "overloaded_error") == 0 || strcmp(type, "api_error") == 0 ||
                strcmp(type, "rate_limit_error") == 0;
        return pod_error_set(err, a->retryable ? -EBUSY : -EPROTO,
                             "the server reported %s inside the stream: %s", type, msg ?: "");
}

static int anthropic_event(llm_asm *a, const char *event, const json_t *data, pod_error *err) {
        const char *type = json_string_value(json_object_get(data, "type")) ?: event;

        if (strcmp(type, "message_start") == 0)
                read_usage(a, json_object_get(json_object_get(data, "message"), "usage"));
        else if (strcmp(type, "content_block_start") == 0)
                return block_start(a, data, err);
        else if (strcmp(type, "content_block_delta") == 0)
                return block_delta(a, data, err);
        else if (strcmp(type, "content_block_stop") == 0) {
                llm_block *b = llm_block_by_index(
                        a, (long) json_integer_value(json_object_get(data, "index")));
                if (b)
                        b->done = true;
        } else if (strcmp(type, "message_delta") == 0) {
                const char *stop = json_string_value(
                        json_object_get(json_object_get(data, "delta"), "stop_reason"));
                if (stop)
                        snprintf(a->stop, sizeof(a->stop), "%s", stop);
                read_usage(a, json_object_get(data, "usage"));
        } else if (strcmp(type, "message_stop") == 0)
                a->finished = true;
        else if (strcmp(type, "error") == 0)
                return stream_error(a, data, err);
        return 0; /* ping, and events a later API version adds */
}

static json_t *anthropic_carry(const llm_block *b) {
        if (b->kind == LLM_BLOCK_CARRIED)
                return json_incref(b->item);
        return json_pack("{s:s, s:s, s:s}", "type", "thinking", "thinking", b->body.data ?: "",
                         "signature", b->sig.data ?: "");
}

const llm_wire llm_wire_anthropic = {
        .name = "anthropic-messages",
        .path = "/v1/messages",
        .request = anthropic_request,
        .event = anthropic_event,
        .carry = anthropic_carry,
};
