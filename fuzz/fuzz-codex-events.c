/* SPDX-License-Identifier: MIT */
/*
 * Fuzz target: the codex CLI's `exec --json` events (codex_event), the input's lines fed to one
 * parser state as a CLI's stdout would be, a new task after each completed turn, until a line
 * fails. What comes out must be what the pod takes: progress events with a type (tool events
 * with an id and a name) and usage with its four counts, none negative; a thread id never looks
 * like an option (it goes into `codex exec resume`'s argv).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "llm/llm-internal.h"

static void check_usage(const json_t *u) {
        static const char *const keys[] = { "input_tokens", "output_tokens", "cache_read_tokens",
                                            "cache_write_tokens" };

        for (size_t k = 0; k < 4; k++)
                if (json_integer_value(json_object_get(u, keys[k])) < 0 ||
                    !json_is_integer(json_object_get(u, keys[k])))
                        abort();
}

static void check(const json_t *actions, const codex_events *e) {
        const json_t *a;
        size_t i;

        json_array_foreach(actions, i, a) {
                const json_t *p = json_object_get(a, "progress"), *u = json_object_get(a, "usage");
                const char *type = json_string_value(json_object_get(p, "type"));

                if (u)
                        check_usage(u);
                else if (!type)
                        abort();
                else if (str_startswith(type, "tool_") &&
                         (!json_is_string(json_object_get(p, "id")) ||
                          !json_is_string(json_object_get(p, "name"))))
                        abort();
        }
        if (e->thread[0] == '-' || strlen(e->thread) >= CODEX_ID_MAX)
                abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        const char *p = (const char *) data, *end = p + size;
        codex_events e;

        codex_events_init(&e, "codex:fuzz");
        codex_events_new_call(&e);
        while (p < end) {
                const char *nl = memchr(p, '\n', (size_t) (end - p));
                size_t n = nl ? (size_t) (nl - p) : (size_t) (end - p);
                json_t *actions = json_array();
                int r = codex_event(&e, p, n, actions, NULL);

                check(actions, &e);
                json_decref(actions);
                if (r < 0)
                        break;
                if (r > 0)
                        codex_events_new_call(&e);
                p += n + 1;
        }
        codex_events_done(&e);
        return 0;
}
