/* SPDX-License-Identifier: MIT */
/*
 * The system prompt (DESIGN §10), in this order: the profile's instruction rendered, the
 * skills, the working boundaries (generated from the scope; no override can remove them),
 * the nearest AGENTS.md, and orchestration guidance when SpawnPod is among the tools.
 */
#include <string.h>

#include "prompt.h"

static json_t *get(const json_t *m, const char *a, const char *b) {
        json_t *v = json_object_get(m, a);

        return b ? json_object_get(v, b) : v;
}

static int render_instruction(pod_buf *out, const json_t *m, const char *date, pod_error *err) {
        const char *file = json_string_value(get(m, "profile", "file"));
        const char *text = json_string_value(get(m, "instruction", NULL));
        _cleanup_(template_freep) pod_template *t = NULL;
        json_auto_t *ctx = NULL;
        char name[4200];
        int r;

        snprintf(name, sizeof(name), "%s (instruction)", file ? file : "?");
        ctx = json_pack("{s:O, s:s, s:O, s:O, s:O, s:O}", "cwd", get(m, "pod", "cwd"), "date", date,
                        "model", get(m, "model", "spec"), "tools", get(m, "tools", NULL),
                        "pod_name", get(m, "pod", "name"), "depth", get(m, "pod", "depth"));
        if (!ctx || !text)
                return pod_error_set(err, -EINVAL, "manifest is incomplete (instruction)");
        r = template_parse(&t, name, text, strlen(text), err);
        if (r >= 0)
                r = template_check_variables(t, (char *const *) prompt_instruction_variables, err);
        return r < 0 ? r : template_render(out, t, ctx, err);
}

static int skills_ctx(json_t **out, const json_t *m, pod_error *err) {
        json_t *list = json_array(), *s;
        size_t i;

        json_array_foreach(get(m, "skills", NULL), i, s) {
                json_t *e = json_pack("{s:O, s:O, s:O}", "name", json_object_get(s, "name"),
                                      "description", json_object_get(s, "description"), "body",
                                      json_object_get(s, "body"));
                if (!e) {
                        json_decref(list);
                        return pod_error_set(err, -EINVAL, "skill '%s' was not resolved into the "
                                                           "manifest",
                                             json_string_value(json_object_get(s, "name")));
                }
                json_array_append_new(list, e);
        }
        *out = json_pack("{s:o}", "skills", list);
        return 0;
}

static json_t *boundaries_ctx(const json_t *m) {
        json_t *writable = json_array(), *readable = json_array(), *denied = json_array(), *r;
        size_t i;

        json_array_foreach(get(m, "scope", "allow"), i, r) {
                bool w = strcmp(json_string_value(json_object_get(r, "access")), "write") == 0;
                json_array_append(w ? writable : readable, json_object_get(r, "path"));
        }
        json_array_foreach(get(m, "scope", "deny"), i, r) {
                bool w = strcmp(json_string_value(json_object_get(r, "access")), "write") == 0;
                json_array_append_new(denied, json_pack("{s:O, s:s}", "path",
                                                        json_object_get(r, "path"), "effect",
                                                        w ? "read only" : "no access"));
        }
        return json_pack("{s:O, s:o, s:o, s:o, s:O, s:O}", "cwd", get(m, "pod", "cwd"), "writable",
                         writable, "readable", readable, "denied", denied, "network",
                         get(m, "network", NULL), "sandbox", get(m, "sandbox", NULL));
}

static bool has_tool(const json_t *m, const char *tool) {
        json_t *t;
        size_t i;

        json_array_foreach(get(m, "tools", NULL), i, t)
                if (strcmp(json_string_value(t), tool) == 0)
                        return true;
        return false;
}

static json_t *orchestration_ctx(const json_t *m) {
        json_int_t depth = json_integer_value(get(m, "pod", "depth"));
        json_int_t max_depth = json_integer_value(get(m, "limits", "max_depth"));

        return json_pack("{s:I, s:I, s:O, s:I}", "depth", depth, "max_depth", max_depth,
                         "max_children", get(m, "limits", "max_children"), "levels_left",
                         max_depth > depth ? max_depth - depth : 0);
}

/* Append a section, trimmed, separated from the previous one by a blank line. */
static int add_section(pod_buf *out, pod_buf *sec) {
        size_t n = sec->len;

        while (n > 0 && strchr(" \t\r\n", sec->data[n - 1]))
                n--;
        if (n > 0) {
                if (out->len > 0)
                        buf_puts(out, "\n\n");
                buf_append(out, sec->data, n);
        }
        buf_done(sec);
        return out->oom ? -ENOMEM : 0;
}

static int render_section(pod_buf *out, prompt_key key, const json_t *m, json_t *ctx,
                          pod_error *err) {
        pod_buf sec = { 0 };
        int r;

        if (!ctx)
                return pod_error_set(err, -EINVAL, "manifest is incomplete (%s)",
                                     prompt_catalog[key].key);
        r = prompt_render(&sec, key, get(m, "prompts", NULL), ctx, err);
        json_decref(ctx);
        if (r < 0) {
                buf_done(&sec);
                return r;
        }
        return add_section(out, &sec);
}

int prompt_system(pod_buf *out, const json_t *m, const char *date, pod_error *err) {
        json_t *agents = get(m, "agents_md", NULL), *skills = NULL;
        pod_buf sec = { 0 };
        int r;

        r = render_instruction(&sec, m, date, err);
        if (r >= 0)
                r = add_section(out, &sec);
        if (r >= 0)
                r = skills_ctx(&skills, m, err);
        if (r >= 0)
                r = render_section(out, PROMPT_KEY_SKILLS_SECTION, m, skills, err);
        if (r >= 0)
                r = render_section(out, PROMPT_KEY_WORKING_BOUNDARIES, m, boundaries_ctx(m), err);
        if (r >= 0 && json_is_object(agents))
                r = render_section(out, PROMPT_KEY_AGENTS_MD, m,
                                   json_pack("{s:O, s:O, s:O, s:i}", "path",
                                             json_object_get(agents, "path"), "text",
                                             json_object_get(agents, "text"), "truncated",
                                             json_object_get(agents, "truncated"), "limit",
                                             (int) POD_AGENTS_MD_MAX_BYTES),
                                   err);
        if (r >= 0 && has_tool(m, "SpawnPod"))
                r = render_section(out, PROMPT_KEY_ORCHESTRATION, m, orchestration_ctx(m), err);
        buf_done(&sec);
        if (r >= 0)
                buf_puts(out, "\n");
        return r < 0 ? r : out->oom ? pod_error_oom(err) : 0;
}
