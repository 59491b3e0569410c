/* SPDX-License-Identifier: MIT */
/* Fuzz target: selectors in every context, model specs and endpoints (one line each). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "manifest/manifest.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        char *text = str_from_mem(data, size);
        pod_selector sel;
        model_spec spec;
        char *endpoint = NULL;

        if (!text)
                return 0;
        for (int ctx = SEL_CONTEXT_CLI; ctx <= SEL_CONTEXT_EXTENDS; ctx++)
                if (selector_parse(&sel, text, (selector_context) ctx, NULL) == 0)
                        selector_done(&sel);
        if (model_spec_parse(&spec, text, NULL) == 0)
                model_spec_done(&spec);
        if (model_endpoint_normalize(&endpoint, model_provider_lookup("oai-compat"), text, NULL) ==
            0)
                free(endpoint);
        free(text);
        return 0;
}
