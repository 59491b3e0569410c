/* SPDX-License-Identifier: MIT */
/*
 * The handler interface (DESIGN §9): one table from the manifest's handler enum (which the
 * provider table set) to the handler's operations, and the calls that dispatch through
 * them. Nothing here second-guesses which handler a manifest names; a handler not in this
 * version is a clear error, never another handler.
 */
#include <string.h>

#include "llm-internal.h"

static const llm_ops *const handlers[POD_HANDLER__COUNT] = {
        [POD_HANDLER_SCRIPT] = &llm_script_ops,
        [POD_HANDLER_OPENAI_RESPONSES] = &llm_native_ops,
        [POD_HANDLER_OPENAI_CHAT] = &llm_native_ops,
        [POD_HANDLER_ANTHROPIC] = &llm_native_ops,
        [POD_HANDLER_CLAUDE] = &llm_claude_ops,
        [POD_HANDLER_CODEX] = &llm_codex_ops,
};

struct llm_handler {
        const llm_ops *ops;
        void *state; /* the handler's own */
};

int llm_turn_out(llm_turn *out, char *text, json_t *calls, json_t *usage, pod_error *err) {
        if (!text || !calls || !usage) {
                free(text);
                json_decref(calls);
                json_decref(usage);
                return pod_error_oom(err);
        }
        *out = (llm_turn){ .text = text, .calls = calls, .usage = usage };
        return 0;
}

int llm_open(llm_handler **out, const manifest_view *v, pod_error *err) {
        pod_handler which = v->model.handler;
        const llm_ops *ops = (unsigned) which < POD_HANDLER__COUNT ? handlers[which] : NULL;
        llm_handler *h;
        int r;

        if (!ops)
                return pod_error_set(err, -ENOSYS,
                                     "model handler '%s' (model %s) is not available in this "
                                     "version of pod; the script and native handlers are",
                                     handler_to_string(which), v->model.spec);
        h = calloc(1, sizeof(*h));
        if (!h)
                return pod_error_oom(err);
        h->ops = ops;
        r = ops->open(&h->state, v, err);
        if (r < 0) {
                free(h);
                return r;
        }
        *out = h;
        return 0;
}

llm_handler *llm_free(llm_handler *h) {
        if (!h)
                return NULL;
        h->ops->free(h->state);
        free(h);
        return NULL;
}

int llm_complete(llm_handler *h,
                 const json_t *conversation,
                 const json_t *tools,
                 const llm_call *call,
                 llm_turn *out,
                 pod_error *err) {
        return h->ops->complete(h->state, conversation, tools, call, out, err);
}

void llm_turn_done(llm_turn *t) {
        free(t->text);
        json_decref(t->calls);
        json_decref(t->usage);
        json_decref(t->reasoning);
        *t = (llm_turn){ 0 };
}

int llm_needs_of(llm_needs *out, const manifest_view *v, char *const *envp, pod_error *err) {
        pod_handler which = v->model.handler;
        const llm_ops *ops = (unsigned) which < POD_HANDLER__COUNT ? handlers[which] : NULL;

        *out = (llm_needs){ 0 };
        return ops && ops->needs ? ops->needs(out, v, envp, err) : 0;
}

void llm_needs_done(llm_needs *n) {
        free(n->exe);
        strv_free(n->read_paths);
        strv_free(n->write_paths);
        *n = (llm_needs){ 0 };
}

const char *llm_name(const llm_handler *h) {
        return h->ops->name;
}
