/* SPDX-License-Identifier: MIT */
/* Fuzz target: prompt templates (overrides are operator files), parsed then rendered. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "prompt/template.h"

static const char ctx_json[] = "{\"name\": \"pod\", \"n\": 3, \"yes\": true, \"nil\": null,"
                               " \"xs\": [\"a\", {\"k\": \"v\"}, [1]], \"obj\": {\"in\": \"x\"}}";

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        static json_t *ctx;
        pod_template *t = NULL;
        pod_buf out = { 0 };
        char *text = malloc(size ? size : 1);

        if (!ctx)
                ctx = json_loads(ctx_json, 0, NULL);
        if (!text)
                return 0;
        memcpy(text, data, size);
        if (template_parse(&t, "fuzz.md", text, size, NULL) == 0) {
                template_render(&out, t, ctx, NULL);
                template_free(t);
        }
        buf_done(&out);
        free(text);
        return 0;
}
