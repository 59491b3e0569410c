/* SPDX-License-Identifier: MIT */
/*
 * The OpenAI Responses wire (DESIGN §9), pure: what openai: speaks. The conversation goes
 * out as input items (messages, function_call and function_call_output items), statelessly
 * (store: false), so the reasoning items a turn produced are carried back verbatim with
 * their encrypted content. The stream names its items: a function call's argument deltas
 * are keyed by the item's id; the arguments the item's done event carries are the final
 * word; response.completed ends the stream with the usage, response.failed and error end
 * it with the server's reason.
 */
#include <string.h>

#include "llm-internal.h"

static void assistant_items(json_t *input, const json_t *e) {
        const json_t *x;
        size_t i;

        json_array_foreach(json_object_get(e, "reasoning"), i, x)
                json_array_append_new(input, json_deep_copy(x));
        if (*llm_entry_text(e))
                json_array_append_new(input,
                                      json_pack("{s:s, s:s, s:[{s:s, s:s}]}", "type", "message",
                                                "role", "assistant", "content", "type",
                                                "output_text", "text", llm_entry_text(e)));
        json_array_foreach(json_object_get(e, "tool_calls"), i, x) {
                char *args = json_dumps(json_object_get(x, "input") ?: json_object(), JSON_COMPACT);
                json_array_append_new(input,
                                      json_pack("{s:s, s:O, s:O, s:s}", "type", "function_call",
                                                "call_id", json_object_get(x, "id"), "name",
                                                json_object_get(x, "name"), "arguments",
                                                args ?: "{}"));
                free(args);
        }
}

static json_t *input_items(const json_t *conv) {
        json_t *input = json_array();
        const json_t *e;
        size_t i;

        json_array_foreach(conv, i, e) {
                const char *role = llm_entry_role(e);
                if (strcmp(role, "user") == 0)
                        json_array_append_new(input,
                                              json_pack("{s:s, s:s}", "role", "user", "content",
                                                        llm_entry_text(e)));
                else if (strcmp(role, "assistant") == 0)
                        assistant_items(input, e);
                else if (strcmp(role, "tool") == 0)
                        json_array_append_new(input,
                                              json_pack("{s:s, s:O, s:s}", "type",
                                                        "function_call_output", "call_id",
                                                        json_object_get(e, "tool_call_id"),
                                                        "output", llm_entry_text(e)));
        }
        return input;
}

static json_t *tools_json(const json_t *tools) {
        json_t *out = json_array();
        const json_t *t;
        size_t i;

        json_array_foreach(tools, i, t)
                json_array_append_new(out,
                                      json_pack("{s:s, s:O, s:O, s:O}", "type", "function", "name",
                                                json_object_get(t, "name"), "description",
                                                json_object_get(t, "description"), "parameters",
                                                json_object_get(t, "input_schema")));
        return out;
}

static json_t *responses_request(const llm_request *rq) {
        json_t *body = json_pack("{s:s, s:b, s:b, s:s, s:o}", "model", rq->model, "stream", true,
                                 "store", false, "instructions", llm_system_text(rq->conv), "input",
                                 input_items(rq->conv));

        if (body && json_array_size(rq->tools))
                json_object_set_new(body, "tools", tools_json(rq->tools));
        if (body && rq->reasoning != POD_REASONING_UNSET) {
                json_object_set_new(
                        body, "reasoning",
                        json_pack("{s:s}", "effort", reasoning_to_string(rq->reasoning)));
                json_object_set_new(body, "include",
                                    json_pack("[s]", "reasoning.encrypted_content"));
        }
        return body;
}

/* The function call an event names: by item id, else by output index. */
static llm_block *call_of(llm_asm *a, const json_t *data) {
        llm_block *b = llm_block_by_item(a, json_string_value(json_object_get(data, "item_id")));
        const json_t *index = json_object_get(data, "output_index");

        if (!b && json_is_integer(index))
                b = llm_block_by_index(a, (long) json_integer_value(index));
        return b && b->kind == LLM_BLOCK_CALL ? b : NULL;
}

/* A function_call item, as added or done: its names, and its arguments when it has them. */
static int call_item(llm_asm *a, const json_t *data, bool done, pod_error *err) {
        const json_t *item = json_object_get(data, "item");
        const char *item_id = json_string_value(json_object_get(item, "id"));
        const char *args = json_string_value(json_object_get(item, "arguments"));
        llm_block *b = llm_block_by_item(a, item_id);

        if (!b) {
                const json_t *index = json_object_get(data, "output_index");
                b = llm_block_add(a, LLM_BLOCK_CALL,
                                  json_is_integer(index) ? (long) json_integer_value(index) : -1,
                                  err);
                if (!b || llm_set_str(&b->item_id, item_id, err) < 0)
                        return err ? err->code : -ENOMEM;
        }
        if (!b->id &&
            llm_set_str(&b->id, json_string_value(json_object_get(item, "call_id")), err) < 0)
                return err->code;
        if (!b->name &&
            llm_set_str(&b->name, json_string_value(json_object_get(item, "name")), err) < 0)
                return err->code;
        if (args && (done || b->body.len == 0)) {
                b->body.len = 0; /* the item's own arguments are the whole of them */
                return llm_block_append(b, args, LLM_ARGS_MAX, err);
        }
        return 0;
}

static int item_event(llm_asm *a, const json_t *data, bool done, pod_error *err) {
        const json_t *item = json_object_get(data, "item");
        const char *type = json_string_value(json_object_get(item, "type")) ?: "";
        llm_block *b;

        if (strcmp(type, "function_call") == 0)
                return call_item(a, data, done, err);
        if (strcmp(type, "reasoning") != 0 || !done)
                return 0;
        b = llm_block_add(a, LLM_BLOCK_CARRIED, -1, err);
        if (!b)
                return err ? err->code : -ENOMEM;
        b->item = json_deep_copy(item);
        json_object_del(b->item, "status"); /* an output field, refused as input */
        return b->item ? 0 : pod_error_oom(err);
}

static void read_usage(llm_asm *a, const json_t *u) {
        const json_t *in = json_object_get(u, "input_tokens");
        json_int_t hit = json_integer_value(
                json_object_get(json_object_get(u, "input_tokens_details"), "cached_tokens"));

        if (json_is_integer(in) && hit >= 0 && hit <= json_integer_value(in)) {
                json_object_set_new(a->usage, "input_tokens",
                                    json_integer(json_integer_value(in) - hit));
                json_object_set_new(a->usage, "cache_read_tokens", json_integer(hit));
        }
        llm_usage_set(a, "output_tokens", json_object_get(u, "output_tokens"));
}

static int failure(llm_asm *a, const json_t *e, pod_error *err) {
        const char *code = json_string_value(json_object_get(e, "code")) ?:
                json_string_value(json_object_get(e, "type"))            ?:
                                                                           "error";
        _cleanup_free_ char *msg =
                str_quote(json_string_value(json_object_get(e, "message")) ?: "", 300);

        a->retryable = strstr(code, "server_error") || strstr(code, "rate_limit") ||
                strstr(code, "overload");
        return pod_error_set(err, a->retryable ? -EBUSY : -EPROTO,
                             "the server reported %s inside the stream: %s", code, msg ?: "");
}

static int finished(llm_asm *a, const json_t *response) {
        const char *status = json_string_value(json_object_get(response, "status"));
        const char *why = json_string_value(
                json_object_get(json_object_get(response, "incomplete_details"), "reason"));

        read_usage(a, json_object_get(response, "usage"));
        snprintf(a->stop, sizeof(a->stop), "%s", why ?: status ?: "completed");
        a->finished = true;
        return 0;
}

static int responses_event(llm_asm *a, const char *event, const json_t *data, pod_error *err) {
        const char *type = json_string_value(json_object_get(data, "type")) ?: event;
        llm_block *b;

        if (strcmp(type, "response.output_text.delta") == 0)
                return llm_text_append(a, json_string_value(json_object_get(data, "delta")), err);
        if (strcmp(type, "response.output_item.added") == 0)
                return item_event(a, data, false, err);
        if (strcmp(type, "response.output_item.done") == 0)
                return item_event(a, data, true, err);
        if (strcmp(type, "response.function_call_arguments.delta") == 0 ||
            strcmp(type, "response.function_call_arguments.done") == 0) {
                bool done = strstr(type, ".done") != NULL;
                b = call_of(a, data);
                if (!b)
                        return pod_error_set(err, -EPROTO,
                                             "the stream sent arguments for a "
                                             "function call it did not start");
                if (done && json_is_string(json_object_get(data, "arguments")))
                        b->body.len = 0;
                return llm_block_append(
                        b, json_string_value(json_object_get(data, done ? "arguments" : "delta")),
                        LLM_ARGS_MAX, err);
        }
        if (strcmp(type, "response.completed") == 0 || strcmp(type, "response.incomplete") == 0)
                return finished(a, json_object_get(data, "response"));
        if (strcmp(type, "response.failed") == 0)
                return failure(a, json_object_get(json_object_get(data, "response"), "error"), err);
        if (strcmp(type, "error") == 0)
                return failure(a, json_object_get(data, "error") ?: data, err);
        return 0;
}

static json_t *responses_carry(const llm_block *b) {
        return json_incref(b->item);
}

const llm_wire llm_wire_openai_responses = {
        .name = "openai-responses",
        .path = "/responses",
        .request = responses_request,
        .event = responses_event,
        .carry = responses_carry,
};
