/* SPDX-License-Identifier: MIT */
/*
 * Fuzz target: the claude CLI's stream-json events (claude_event), the input's lines fed to
 * one parser state, as a CLI's stdout would be, until a line fails; every action it gives
 * must be a progress event or a usage object.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "llm/llm-internal.h"

static void check(const json_t *actions) {
        const json_t *a;
        size_t i;

        json_array_foreach(actions, i, a) {
                const json_t *p = json_object_get(a, "progress"), *u = json_object_get(a, "usage");

                if (!(json_is_object(p) && json_is_string(json_object_get(p, "type"))) &&
                    !(json_is_object(u) && json_is_integer(json_object_get(u, "input_tokens"))))
                        abort();
        }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        const char *p = (const char *) data, *end = p + size;
        claude_events e;

        claude_events_init(&e, "claude:fuzz");
        while (p < end) {
                const char *nl = memchr(p, '\n', (size_t) (end - p));
                size_t n = nl ? (size_t) (nl - p) : (size_t) (end - p);
                json_t *actions = json_array();
                int r = claude_event(&e, p, n, actions, NULL);

                check(actions);
                json_decref(actions);
                if (r < 0)
                        break;
                if (r > 0)
                        claude_events_new_call(&e);
                p += n + 1;
        }
        claude_events_done(&e);
        return 0;
}
