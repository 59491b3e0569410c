/* SPDX-License-Identifier: MIT */
#pragma once

/*
 * llm: model handlers (DESIGN §9). One interface, shaped for OpenAI- and Anthropic-style
 * tool calling: the conversation goes in as a neutral JSON list, one assistant turn (text
 * and tool calls) comes out. The handler is chosen by the manifest view's handler enum,
 * which the provider table set; nothing here second-guesses it. Each handler implements
 * the operations in llm-internal.h (open, complete, free) and keeps its own state.
 *
 * Conversation entries:
 *   {"role": "system" | "user", "content": "..."}
 *   {"role": "assistant", "content": "...", "tool_calls": [{"id", "name", "input"}],
 *    "reasoning": [...]}   (optional: the wire's own thinking blocks or reasoning items,
 *                           carried back verbatim as the API requires)
 *   {"role": "tool", "tool_call_id": "...", "content": "...", "is_error": bool}
 */

#include <jansson.h>
#include <signal.h>

#include "base/base.h"
#include "manifest/manifest.h"

typedef struct llm_handler llm_handler;

typedef struct llm_turn {
        char *text; /* the assistant's text (may be empty) */
        json_t *calls; /* [{id, name, input}]; empty: the turn ends the run */
        /* {input_tokens, output_tokens, cache_read_tokens, cache_write_tokens} or null: what
         * the call used. input_tokens is every input token not read from the cache (cache
         * writes included); the budget counts input + output (docs/budgets.md). */
        json_t *usage;
        json_t *reasoning; /* what the assistant entry carries as "reasoning"; NULL: none */
} llm_turn;

/* What one model call may be given besides the conversation. All members may be 0. */
typedef struct llm_call {
        const volatile sig_atomic_t *cancel; /* set: the call ends within 100 ms, -ECANCELED */
        long long deadline_ms; /* mono_ms() the call may not outlast; 0: none */
        /* Progress while the model answers ({"type": "delta", "text"}, {"type":
         * "tool_call_delta", "id", "name", "bytes"}, {"type": "retry", ...}); takes ev. */
        void (*progress)(void *ud, json_t *ev);
        void *progress_ud;
} llm_call;

/* Open the handler a manifest's view names. Handlers not built yet are a clear error. */
int llm_open(llm_handler **out, const manifest_view *v, pod_error *err);
llm_handler *llm_free(llm_handler *h);
static inline void llm_freep(llm_handler **h) {
        llm_free(*h);
}
/*
 * A configuration error the handler of v would meet at its first call, found before
 * anything is registered: a native handler's key variable that is not set (the error
 * names the variable). The environment is read now; the key is never copied.
 */
int llm_check(const manifest_view *v, pod_error *err);
/* One model call: the next assistant turn for the conversation, offering tools. *out is
 * written only on success. call may be NULL. */
int llm_complete(llm_handler *h,
                 const json_t *conversation,
                 const json_t *tools,
                 const llm_call *call,
                 llm_turn *out,
                 pod_error *err);
void llm_turn_done(llm_turn *t);
const char *llm_name(const llm_handler *h);
