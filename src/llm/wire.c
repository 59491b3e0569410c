/* SPDX-License-Identifier: MIT */
/*
 * The stream assembler the three wires share (DESIGN §9): a streamed answer arrives as SSE
 * events; each wire (wire-*.c) reads its own events into blocks (text, tool calls,
 * thinking, carried items), and this file turns the blocks into the neutral turn once the
 * stream ended. Calls are finalised only then: a call's input is parsed once, whole (empty
 * means {}), never at the first fragment that happens to parse. Everything a server sends
 * is bounded (llm-internal.h) and pure: no I/O here, so each wire is tested and fuzzed alone.
 */
#include <string.h>

#include "llm-internal.h"

void llm_asm_init(llm_asm *a, const llm_wire *w) {
        *a = (llm_asm){ .wire = w };
        a->usage = json_pack("{s:i, s:i, s:i, s:i}", "input_tokens", 0, "output_tokens", 0,
                             "cache_read_tokens", 0, "cache_write_tokens", 0);
}

void llm_asm_done(llm_asm *a) {
        for (size_t i = 0; i < a->n_blocks; i++) {
                llm_block *b = &a->blocks[i];
                free(b->id);
                free(b->item_id);
                free(b->name);
                buf_done(&b->body);
                buf_done(&b->sig);
                json_decref(b->item);
        }
        free(a->blocks);
        buf_done(&a->text);
        json_decref(a->usage);
        *a = (llm_asm){ 0 };
}

llm_block *llm_block_add(llm_asm *a, llm_block_kind kind, long index, pod_error *err) {
        llm_block *blocks;

        if (a->n_blocks >= LLM_BLOCKS_MAX) {
                pod_error_set(err, -E2BIG, "the response has over %u content blocks",
                              LLM_BLOCKS_MAX);
                return NULL;
        }
        blocks = realloc(a->blocks, (a->n_blocks + 1) * sizeof(*blocks));
        if (!blocks) {
                pod_error_oom(err);
                return NULL;
        }
        a->blocks = blocks;
        blocks[a->n_blocks] = (llm_block){ .kind = kind, .index = index };
        return &blocks[a->n_blocks++];
}

llm_block *llm_block_by_index(llm_asm *a, long index) {
        for (size_t i = a->n_blocks; i > 0; i--)
                if (a->blocks[i - 1].index == index)
                        return &a->blocks[i - 1];
        return NULL;
}

llm_block *llm_block_by_id(llm_asm *a, const char *id) {
        for (size_t i = 0; id && i < a->n_blocks; i++)
                if (a->blocks[i].id && strcmp(a->blocks[i].id, id) == 0)
                        return &a->blocks[i];
        return NULL;
}

llm_block *llm_block_by_item(llm_asm *a, const char *item_id) {
        for (size_t i = 0; item_id && i < a->n_blocks; i++)
                if (a->blocks[i].item_id && strcmp(a->blocks[i].item_id, item_id) == 0)
                        return &a->blocks[i];
        return NULL;
}

int llm_block_append(llm_block *b, const char *s, size_t max, pod_error *err) {
        size_t n = s ? strlen(s) : 0;

        if (b->body.len + n > max)
                return pod_error_set(err, -EMSGSIZE,
                                     "a tool call's input or a thinking block "
                                     "in the response is over %zu MiB",
                                     max >> 20);
        return buf_append(&b->body, s ? s : "", n) < 0 ? pod_error_oom(err) : 0;
}

int llm_text_append(llm_asm *a, const char *s, pod_error *err) {
        size_t n = s ? strlen(s) : 0;

        if (a->text.len + n > LLM_TEXT_MAX)
                return pod_error_set(err, -EMSGSIZE, "the response's text is over %u MiB",
                                     LLM_TEXT_MAX >> 20);
        return buf_append(&a->text, s ? s : "", n) < 0 ? pod_error_oom(err) : 0;
}

int llm_set_str(char **dst, const char *s, pod_error *err) {
        char *c;

        if (!s)
                return 0;
        c = strdup(s);
        if (!c)
                return pod_error_oom(err);
        free(*dst);
        *dst = c;
        return 0;
}

void llm_usage_set(llm_asm *a, const char *field, const json_t *v) {
        if (json_is_integer(v) && json_integer_value(v) >= 0)
                json_object_set_new(a->usage, field, json_integer(json_integer_value(v)));
}

const char *llm_entry_role(const json_t *e) {
        return json_string_value(json_object_get(e, "role")) ?: "";
}

const char *llm_entry_text(const json_t *e) {
        return json_string_value(json_object_get(e, "content")) ?: "";
}

const char *llm_system_text(const json_t *conv) {
        const json_t *e;
        size_t i;

        json_array_foreach(conv, i, e)
                if (strcmp(llm_entry_role(e), "system") == 0)
                        return llm_entry_text(e);
        return "";
}

int llm_asm_event(llm_asm *a, const char *event, const char *data, size_t len, pod_error *err) {
        json_auto_t *j = NULL;
        json_error_t jerr;

        if (len == 6 && memcmp(data, "[DONE]", 6) == 0) {
                a->finished = true;
                return 0;
        }
        j = json_loadb(data, len, JSON_REJECT_DUPLICATES, &jerr);
        if (!j)
                return pod_error_set(err, -EPROTO,
                                     "the stream sent an event that is not JSON (%s, at byte %d)",
                                     jerr.text, jerr.position);
        if (!json_is_object(j))
                return pod_error_set(err, -EPROTO,
                                     "the stream sent an event that is not a JSON "
                                     "object");
        return a->wire->event(a, event, j, err);
}

void llm_asm_progress(llm_asm *a, json_t *events) {
        if (a->text.len > a->text_reported) {
                json_array_append_new(events,
                                      json_pack("{s:s, s:s%}", "type", "delta", "text",
                                                a->text.data + a->text_reported,
                                                a->text.len - a->text_reported));
                a->text_reported = a->text.len;
        }
        for (size_t i = 0; i < a->n_blocks; i++) {
                llm_block *b = &a->blocks[i];
                if (b->kind != LLM_BLOCK_CALL || b->body.len <= b->reported)
                        continue;
                json_array_append_new(events,
                                      json_pack("{s:s, s:s, s:s, s:I}", "type", "tool_call_delta",
                                                "id", b->id ?: "", "name", b->name ?: "", "bytes",
                                                (json_int_t) b->body.len));
                b->reported = b->body.len;
        }
}

/* A call's input, parsed now that the stream is over. */
static json_t *call_input(const llm_block *b, pod_error *err) {
        json_error_t jerr;
        json_t *input;

        if (b->body.len == 0)
                return json_object();
        input = json_loadb(b->body.data, b->body.len, JSON_REJECT_DUPLICATES, &jerr);
        if (!json_is_object(input)) {
                json_decref(input);
                pod_error_set(err, -EPROTO,
                              "the model's call to %s has input that is not a JSON object (%s)",
                              b->name, input ? "another JSON value" : jerr.text);
                return NULL;
        }
        return input;
}

static int add_call(json_t *calls, const llm_block *b, pod_error *err) {
        json_t *input, *call;
        char id[32];

        if (!b->name || !*b->name)
                return pod_error_set(err, -EPROTO, "the response has a tool call without a name");
        input = call_input(b, err);
        if (!input)
                return err ? err->code : -EPROTO;
        snprintf(id, sizeof(id), "call_%zu", json_array_size(calls) + 1);
        call = json_pack("{s:s, s:s, s:o}", "id", b->id && *b->id ? b->id : id, "name", b->name,
                         "input", input);
        if (!call || json_array_append_new(calls, call) < 0)
                return pod_error_oom(err);
        return 0;
}

int llm_asm_finish(llm_asm *a, llm_turn *out, pod_error *err) {
        json_auto_t *calls = json_array(), *carried = json_array();
        int r = 0;

        if (!a->finished) {
                a->retryable = true; /* a connection cut short: nothing of it was acted on */
                return pod_error_set(err, -EPROTO,
                                     "the response stream ended before its end "
                                     "(truncated)");
        }
        if (!calls || !carried || !a->usage)
                return pod_error_oom(err);
        for (size_t i = 0; r >= 0 && i < a->n_blocks; i++) {
                const llm_block *b = &a->blocks[i];
                if (b->kind == LLM_BLOCK_CALL)
                        r = add_call(calls, b, err);
                else if (b->kind == LLM_BLOCK_THINKING || b->kind == LLM_BLOCK_CARRIED)
                        r = json_array_append_new(carried, a->wire->carry(b)) < 0 ?
                                pod_error_oom(err) :
                                0;
        }
        if (r < 0)
                return r;
        r = llm_turn_out(out, strdup(a->text.data ?: ""), json_incref(calls), json_incref(a->usage),
                         err);
        if (r >= 0 && json_array_size(carried))
                out->reasoning = json_incref(carried);
        return r;
}
