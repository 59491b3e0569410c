/* SPDX-License-Identifier: MIT */
/*
 * The prompt catalog: each key's builtin template (embedded at build time by
 * pod-prompt-catalog, which also checks that every key is used and every variable
 * declared) and rendering from an operator's override when the manifest carries one.
 */
#include <string.h>

#include "prompt.h"

const char *const prompt_instruction_variables[] = { "cwd",      "date",  "model", "tools",
                                                     "pod_name", "depth", NULL };

const prompt_catalog_entry *prompt_catalog_by_file(const char *file) {
        for (size_t i = 0; i < PROMPT_KEY__COUNT; i++)
                if (strcmp(prompt_catalog[i].file, file) == 0)
                        return &prompt_catalog[i];
        return NULL;
}

int prompt_render(
        pod_buf *out, prompt_key key, const json_t *prompts, const json_t *ctx, pod_error *err) {
        const prompt_catalog_entry *e = &prompt_catalog[key];
        json_t *ov = prompts ? json_object_get(prompts, e->key) : NULL;
        _cleanup_(template_freep) pod_template *t = NULL;
        const char *name = e->file, *text = e->text;
        size_t len = e->len;
        int r;

        if (ov && e->overridable) {
                name = json_string_value(json_object_get(ov, "file"));
                text = json_string_value(json_object_get(ov, "text"));
                if (!name || !text)
                        return pod_error_set(err, -EINVAL, "manifest: prompts.%s is malformed",
                                             e->key);
                len = strlen(text);
        }
        r = template_parse(&t, name, text, len, err);
        if (r >= 0)
                r = template_check_variables(t, (char *const *) e->variables, err);
        if (r >= 0)
                r = template_render(out, t, ctx, err);
        return r;
}
