/* SPDX-License-Identifier: MIT */
/* Fuzz target: manifests a child is handed, through parsing and validation. */
#include <stdint.h>

#include "manifest/manifest.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        json_t *m = NULL;

        if (manifest_parse(&m, (const char *) data, size, NULL) == 0)
                json_decref(m);
        return 0;
}
