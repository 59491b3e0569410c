/* SPDX-License-Identifier: MIT */
/* Fuzz target: profile files (front matter + body) through the full parser. */
#include <stdint.h>
#include <stdlib.h>

#include "manifest/manifest.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        pod_profile *p = NULL;
        char *text = malloc(size + 1);

        if (!text)
                return 0;
        for (size_t i = 0; i < size; i++)
                text[i] = (char) data[i];
        text[size] = '\0';
        if (profile_parse(&p, POD_SOURCE_PROJECT, "fuzz", "/fuzz.md", text, size, NULL) == 0)
                profile_free(p);
        free(text);
        return 0;
}
