/* SPDX-License-Identifier: MIT */
/*
 * The script handler (DESIGN §9). The script model plays the turns of a JSON script carried
 * in the manifest: each call returns the next turn; a turn without calls ends the run; past
 * the last turn it answers "script exhausted". A turn with "echo": true also repeats the
 * previous turn's tool results, so results can flow up a tree of scripted pods. A turn's
 * "usage" is what its call reports having used (each count 0 when not given), so budgets can
 * be tested to the token. It powers the demo and the end-to-end tests, with no network and
 * no key.
 */
#include <stdio.h>
#include <string.h>

#include "llm-internal.h"

typedef struct script_state {
        json_t *script; /* the turns */
        size_t next; /* the next turn */
} script_state;

static int script_open(void **ret_state, const manifest_view *v, pod_error *err) {
        script_state *s;

        if (!json_is_array(json_object_get(v->model.script, "turns")))
                return pod_error_set(err, -EINVAL, "model %s: the manifest carries no script",
                                     v->model.spec);
        s = calloc(1, sizeof(*s));
        if (!s)
                return pod_error_oom(err);
        s->script = json_incref(v->model.script);
        *ret_state = s;
        return 0;
}

static void script_free(void *state) {
        script_state *s = state;

        if (!s)
                return;
        json_decref(s->script);
        free(s);
}

/* say, then the contents of the tool results that end conv, one per line. */
static char *echo_results(const char *say, const json_t *conv) {
        pod_buf b = { 0 };
        size_t first = json_array_size(conv);

        while (first > 0 &&
               strcmp(json_string_value(json_object_get(json_array_get(conv, first - 1), "role")) ?:
                              "",
                      "tool") == 0)
                first--;
        buf_puts(&b, say ? say : "");
        for (size_t i = first; i < json_array_size(conv); i++)
                buf_printf(&b, "%s%s", b.len ? "\n" : "",
                           json_string_value(json_object_get(json_array_get(conv, i), "content")));
        return buf_steal(&b);
}

static json_t *script_calls(const json_t *turn, size_t turn_no) {
        json_t *calls = json_array(), *c;
        size_t i;

        json_array_foreach(json_object_get(turn, "call"), i, c) {
                char id[64];
                json_t *input = json_object_get(c, "input");
                json_t *call;
                snprintf(id, sizeof(id), "call_%zu_%zu", turn_no, i + 1);
                call = json_pack("{s:s, s:O, s:o}", "id", id, "name", json_object_get(c, "tool"),
                                 "input", input ? json_incref(input) : json_object());
                if (!calls || !call || json_array_append_new(calls, call) < 0) {
                        json_decref(calls);
                        return NULL;
                }
        }
        return calls;
}

/* The usage a turn declares, every count present (0 when not given), as a native handler
 * reports it (llm.h). */
static json_t *script_usage(const json_t *turn) {
        const json_t *u = json_object_get(turn, "usage");

        return json_pack(
                "{s:I, s:I, s:I, s:I}", "input_tokens",
                json_integer_value(json_object_get(u, "input_tokens")), "output_tokens",
                json_integer_value(json_object_get(u, "output_tokens")), "cache_read_tokens",
                json_integer_value(json_object_get(u, "cache_read_tokens")), "cache_write_tokens",
                json_integer_value(json_object_get(u, "cache_write_tokens")));
}

static int script_complete(void *state,
                           const json_t *conv,
                           const json_t *tools,
                           const llm_call *call,
                           llm_turn *out,
                           pod_error *err) {
        script_state *s = state;
        json_t *turns = json_object_get(s->script, "turns"), *turn;
        _cleanup_free_ char *echoed = NULL;
        const char *say;

        (void) tools;
        (void) call;
        if (s->next >= json_array_size(turns))
                return llm_turn_out(out, strdup("script exhausted"), json_array(),
                                    script_usage(NULL), err);
        turn = json_array_get(turns, s->next++);
        say = json_string_value(json_object_get(turn, "say"));
        if (json_is_true(json_object_get(turn, "echo"))) {
                echoed = echo_results(say, conv);
                if (!echoed)
                        return pod_error_oom(err);
                say = echoed;
        }
        return llm_turn_out(out, strdup(say ? say : ""), script_calls(turn, s->next),
                            script_usage(turn), err);
}

const llm_ops llm_script_ops = {
        .name = "script",
        .open = script_open,
        .complete = script_complete,
        .free = script_free,
};
