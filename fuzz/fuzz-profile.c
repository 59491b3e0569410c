/* SPDX-License-Identifier: MIT */
/* Fuzz target: profile files (front matter + body) through the full parser. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "manifest/manifest.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        pod_profile *p = NULL;
        /* Not NUL-terminated on purpose: the parser must respect the length. */
        char *text = malloc(size ? size : 1);

        if (!text)
                return 0;
        memcpy(text, data, size);
        if (profile_parse(&p, POD_SOURCE_PROJECT, "fuzz", "/fuzz.md", text, size, NULL) == 0)
                profile_free(p);
        free(text);
        return 0;
}
