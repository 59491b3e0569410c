/* SPDX-License-Identifier: MIT */
/*
 * The system prompt (DESIGN §10), in this order: the profile's instruction rendered, the
 * skills, the working boundaries (generated from the scope; no override can remove them),
 * the nearest AGENTS.md, and orchestration guidance when SpawnPod is among the tools.
 */
#include <string.h>

#include "prompt.h"

static json_t *tools_json(const manifest_view *v) {
        json_t *a = json_array();

        STRV_FOREACH(t, v->tools)
                if (!a || json_array_append_new(a, json_string(*t)) < 0) {
                        json_decref(a);
                        return NULL;
                }
        return a;
}

static int
render_instruction(pod_buf *out, const manifest_view *v, const char *date, pod_error *err) {
        const char *text = manifest_view_instruction(v);
        _cleanup_(template_freep) pod_template *t = NULL;
        json_auto_t *ctx = NULL;
        char name[4200];
        int r;

        snprintf(name, sizeof(name), "%s (instruction)", v->profile_file);
        ctx = json_pack("{s:s, s:s, s:s, s:o, s:s, s:I}", "cwd", v->cwd, "date", date, "model",
                        v->model.spec, "tools", tools_json(v), "pod_name", v->name, "depth",
                        (json_int_t) v->depth);
        if (!ctx || !text)
                return pod_error_set(err, -EINVAL, "manifest is incomplete (instruction)");
        r = template_parse(&t, name, text, strlen(text), err);
        if (r >= 0)
                r = template_check_variables(t, (char *const *) prompt_instruction_variables, err);
        return r < 0 ? r : template_render(out, t, ctx, err);
}

static int skills_ctx(json_t **out, const manifest_view *v, pod_error *err) {
        json_t *list = json_array(), *s;
        size_t i;

        json_array_foreach(v->skills, i, s) {
                json_t *e = json_pack("{s:O, s:O, s:O}", "name", json_object_get(s, "name"),
                                      "description", json_object_get(s, "description"), "body",
                                      json_object_get(s, "body"));
                if (!e) {
                        json_decref(list);
                        return pod_error_set(err, -EINVAL,
                                             "skill '%s' was not resolved into the "
                                             "manifest",
                                             json_string_value(json_object_get(s, "name")));
                }
                json_array_append_new(list, e);
        }
        *out = json_pack("{s:o}", "skills", list);
        return 0;
}

static json_t *boundaries_ctx(const manifest_view *v) {
        json_t *writable = json_array(), *readable = json_array(), *denied = json_array();
        const pod_scope *sc = &v->scope;

        for (size_t i = 0; i < sc->n_allow; i++)
                json_array_append_new(sc->allow[i].access == POD_ACCESS_WRITE ? writable : readable,
                                      json_string(sc->allow[i].path));
        for (size_t i = 0; i < sc->n_deny; i++)
                json_array_append_new(denied,
                                      json_pack("{s:s, s:s}", "path", sc->deny[i].path, "effect",
                                                sc->deny[i].access == POD_ACCESS_WRITE ?
                                                        "read only" :
                                                        "no access"));
        return json_pack("{s:s, s:o, s:o, s:o, s:s, s:s}", "cwd", v->cwd, "writable", writable,
                         "readable", readable, "denied", denied, "network",
                         network_to_string(v->network), "sandbox", v->sandboxed ? "on" : "off");
}

static json_t *orchestration_ctx(const manifest_view *v) {
        unsigned levels_left = v->limits.max_depth > v->depth ? v->limits.max_depth - v->depth : 0;

        return json_pack("{s:I, s:I, s:I, s:I}", "depth", (json_int_t) v->depth, "max_depth",
                         (json_int_t) v->limits.max_depth, "max_children",
                         (json_int_t) v->limits.max_children, "levels_left",
                         (json_int_t) levels_left);
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

static int
render_section(pod_buf *out, prompt_key key, const manifest_view *v, json_t *ctx, pod_error *err) {
        pod_buf sec = { 0 };
        int r;

        if (!ctx)
                return pod_error_set(err, -EINVAL, "manifest is incomplete (%s)",
                                     prompt_catalog[key].key);
        r = prompt_render(&sec, key, v->prompts, ctx, err);
        json_decref(ctx);
        if (r < 0) {
                buf_done(&sec);
                return r;
        }
        return add_section(out, &sec);
}

int prompt_system(pod_buf *out, const manifest_view *v, const char *date, pod_error *err) {
        json_t *agents = v->agents_md, *skills = NULL;
        pod_buf sec = { 0 };
        int r;

        r = render_instruction(&sec, v, date, err);
        if (r >= 0)
                r = add_section(out, &sec);
        if (r >= 0)
                r = skills_ctx(&skills, v, err);
        if (r >= 0)
                r = render_section(out, PROMPT_KEY_SKILLS_SECTION, v, skills, err);
        if (r >= 0)
                r = render_section(out, PROMPT_KEY_WORKING_BOUNDARIES, v, boundaries_ctx(v), err);
        if (r >= 0 && json_is_object(agents))
                r = render_section(out, PROMPT_KEY_AGENTS_MD, v,
                                   json_pack("{s:O, s:O, s:O, s:i}", "path",
                                             json_object_get(agents, "path"), "text",
                                             json_object_get(agents, "text"), "truncated",
                                             json_object_get(agents, "truncated"), "limit",
                                             (int) POD_AGENTS_MD_MAX_BYTES),
                                   err);
        if (r >= 0 && manifest_view_has_tool(v, "SpawnPod"))
                r = render_section(out, PROMPT_KEY_ORCHESTRATION, v, orchestration_ctx(v), err);
        buf_done(&sec);
        if (r >= 0)
                buf_puts(out, "\n");
        return r < 0 ? r : out->oom ? pod_error_oom(err) : 0;
}
