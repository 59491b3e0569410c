/* SPDX-License-Identifier: MIT */
/*
 * Fuzz target: one wire's stream assembler (FUZZ_WIRE names it), fed an SSE stream in two
 * chunks; a turn it makes goes back into a conversation, and the wire's next request is
 * built from it, as the handler would.
 */
#include <stdint.h>

#include "llm/llm-internal.h"

static int on_event(void *ud, const char *event, const char *data, size_t len, pod_error *err) {
        return llm_asm_event(ud, event, data, len, err);
}

static void next_request(const llm_wire *w, const llm_turn *t) {
        json_t *conv = json_pack("[{s:s, s:s}, {s:s, s:s}]", "role", "system", "content", "s",
                                 "role", "user", "content", "u");
        json_t *msg = json_pack("{s:s, s:s, s:O}", "role", "assistant", "content", t->text,
                                "tool_calls", t->calls);
        json_t *body, *c;
        size_t i;

        if (msg && t->reasoning)
                json_object_set(msg, "reasoning", t->reasoning);
        json_array_append_new(conv, msg);
        json_array_foreach(t->calls, i, c)
                json_array_append_new(conv,
                                      json_pack("{s:s, s:O, s:s, s:b}", "role", "tool",
                                                "tool_call_id", json_object_get(c, "id"), "content",
                                                "r", "is_error", 0));
        body = w->request(
                &(llm_request){ .model = "m", .conv = conv, .reasoning = POD_REASONING_HIGH });
        free(json_dumps(body, JSON_COMPACT));
        json_decref(body);
        json_decref(conv);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        const llm_wire *w = &FUZZ_WIRE;
        llm_turn t = { 0 };
        json_t *events;
        size_t split;
        sse_parser p;
        llm_asm a;
        int r;

        if (size == 0)
                return 0;
        split = data[0] % size;
        events = json_array();
        llm_asm_init(&a, w);
        sse_init(&p, on_event, &a);
        r = sse_feed(&p, (const char *) data + 1, split, NULL);
        llm_asm_progress(&a, events);
        if (r == 0)
                r = sse_feed(&p, (const char *) data + 1 + split, size - 1 - split, NULL);
        llm_asm_progress(&a, events);
        if (r == 0 && llm_asm_finish(&a, &t, NULL) == 0) {
                next_request(w, &t);
                llm_turn_done(&t);
        }
        json_decref(events);
        sse_done(&p);
        llm_asm_done(&a);
        return 0;
}
