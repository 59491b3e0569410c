/* SPDX-License-Identifier: MIT */
/* Fuzz target: script model files. */
#include <stdint.h>

#include "manifest/manifest.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        json_t *s = NULL;

        if (script_parse(&s, (const char *) data, size, "fuzz.json", NULL) == 0)
                json_decref(s);
        return 0;
}
