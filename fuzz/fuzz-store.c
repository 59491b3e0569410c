/* SPDX-License-Identifier: MIT */
/*
 * Fuzz target: what the profile store reads and writes. The trusted-projects list, a
 * default pointer's text, a profile rendered back from its parse (which must parse again:
 * `pod profile create` writes what profile_render makes), and the unified diff of two texts.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "manifest/manifest.h"

static void render_round_trip(const char *text, size_t len) {
        pod_profile *p = NULL, *again = NULL;
        pod_buf b = { 0 };

        if (profile_parse(&p, POD_SOURCE_USER, "fuzz", "/f/fuzz.md", text, len, NULL) < 0)
                return;
        if (!p->extends && profile_render(&b, p) == 0 && b.len <= POD_PROFILE_MAX_BYTES &&
            profile_parse(&again, POD_SOURCE_USER, "fuzz", "/f/fuzz.md", b.data, b.len, NULL) < 0)
                abort(); /* a rendered profile must read back */
        profile_free(again);
        profile_free(p);
        buf_done(&b);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        char *text = str_from_mem(data, size), **dirs = NULL, *slug = NULL;
        profile_source src;
        pod_buf d = { 0 };

        if (!text)
                return 0;
        if (trust_parse(&dirs, text, size, "fuzz", NULL) == 0)
                strv_free(dirs);
        for (int own = POD_SOURCE_USER; own <= POD_SOURCE_PROJECT; own++) {
                if (pointer_parse(&src, &slug, "fuzz", (profile_source) own, text, NULL) == 0)
                        free(slug);
                slug = NULL;
        }
        render_round_trip(text, size);
        if (size < 4096) {
                char *half = strdup(text + strlen(text) / 2);
                if (half) {
                        text[strlen(text) / 2] = '\0';
                        text_unified_diff(&d, text, half, "a", "b");
                        free(half);
                }
        }
        buf_done(&d);
        free(text);
        return 0;
}
