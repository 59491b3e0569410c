/* SPDX-License-Identifier: MIT */
/*
 * The handler interface and the script handler (DESIGN §9). The script model plays the
 * turns of a JSON script carried in the manifest: each call returns the next turn; a turn
 * without calls ends the run; past the last turn it answers "script exhausted". A turn with
 * "echo": true also repeats the previous turn's tool results, so results can flow up a tree
 * of scripted pods. It powers
 * the demo and the end-to-end tests, with no network and no key.
 */
#include <stdio.h>
#include <string.h>

#include "llm.h"

typedef struct llm_ops {
        const char *name;
        int (*complete)(llm_handler *h, const json_t *conv, const json_t *tools, llm_turn *out,
                        pod_error *err);
} llm_ops;

struct llm_handler {
        const llm_ops *ops;
        json_t *script; /* script handler: the turns */
        size_t next;    /* script handler: the next turn */
};

/* *out gets the turn only when all of it was made; otherwise its parts are freed. */
static int turn_out(llm_turn *out, char *text, json_t *calls, json_t *usage, pod_error *err) {
        if (!text || !calls || !usage) {
                free(text);
                json_decref(calls);
                json_decref(usage);
                return pod_error_oom(err);
        }
        *out = (llm_turn){ .text = text, .calls = calls, .usage = usage };
        return 0;
}

static int script_complete(llm_handler *h, const json_t *conv, const json_t *tools,
                           llm_turn *out, pod_error *err) {
        json_t *turns = json_object_get(h->script, "turns"), *turn, *calls, *c;
        _cleanup_free_ char *echoed = NULL;
        const char *say;
        size_t i;

        (void) tools;
        if (h->next >= json_array_size(turns))
                return turn_out(out, strdup("script exhausted"), json_array(), json_null(), err);
        turn = json_array_get(turns, h->next++);
        say = json_string_value(json_object_get(turn, "say"));
        if (json_is_true(json_object_get(turn, "echo"))) {
                /* "echo": the text also repeats the results of the previous turn's calls. */
                pod_buf b = { 0 };
                size_t first = json_array_size(conv);
                while (first > 0 && strcmp(json_string_value(json_object_get(
                                                   json_array_get(conv, first - 1), "role")) ?: "",
                                           "tool") == 0)
                        first--;
                buf_puts(&b, say ? say : "");
                for (i = first; i < json_array_size(conv); i++)
                        buf_printf(&b, "%s%s", b.len ? "\n" : "",
                                   json_string_value(json_object_get(json_array_get(conv, i),
                                                                     "content")));
                echoed = buf_steal(&b);
                if (!echoed)
                        return pod_error_oom(err);
                say = echoed;
        }
        calls = json_array();
        json_array_foreach(json_object_get(turn, "call"), i, c) {
                char id[64];
                json_t *input = json_object_get(c, "input");
                snprintf(id, sizeof(id), "call_%zu_%zu", h->next, i + 1);
                json_array_append_new(calls, json_pack("{s:s, s:O, s:o}", "id", id, "name",
                                                       json_object_get(c, "tool"), "input",
                                                       input ? json_incref(input) : json_object()));
        }
        return turn_out(out, strdup(say ? say : ""), calls,
                        json_pack("{s:i, s:i}", "input_tokens", 0, "output_tokens", 0), err);
}

static const llm_ops script_ops = { "script", script_complete };

int llm_open(llm_handler **out, const json_t *manifest, pod_error *err) {
        json_t *model = json_object_get(manifest, "model");
        const char *handler = json_string_value(json_object_get(model, "handler"));
        llm_handler *h;

        if (!handler)
                return pod_error_set(err, -EINVAL, "manifest: model.handler is missing");
        if (strcmp(handler, "script") != 0)
                return pod_error_set(err, -ENOSYS,
                                     "model handler '%s' (model %s) is not available in this "
                                     "version of pod; the script handler is",
                                     handler, json_string_value(json_object_get(model, "spec")));
        h = calloc(1, sizeof(*h));
        if (!h)
                return pod_error_oom(err);
        h->ops = &script_ops;
        h->script = json_incref(json_object_get(model, "script"));
        *out = h;
        return 0;
}

llm_handler *llm_free(llm_handler *h) {
        if (!h)
                return NULL;
        json_decref(h->script);
        free(h);
        return NULL;
}

int llm_complete(llm_handler *h, const json_t *conversation, const json_t *tools, llm_turn *out,
                 pod_error *err) {
        return h->ops->complete(h, conversation, tools, out, err);
}

void llm_turn_done(llm_turn *t) {
        free(t->text);
        json_decref(t->calls);
        json_decref(t->usage);
        *t = (llm_turn){ 0 };
}

const char *llm_name(const llm_handler *h) {
        return h->ops->name;
}
