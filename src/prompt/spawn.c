/* SPDX-License-Identifier: MIT */
/*
 * The SpawnPod tool description (DESIGN §10): every discovered profile with its selector,
 * description and default marker, what the special selectors mean, and the rules of scope.
 * Each entry's label comes from the formatter behind selector errors, so an agent sees the
 * same names in both. Discovery failure never stops a pod: the diagnostic takes the
 * list's place.
 */
#include <string.h>

#include "prompt.h"

/* Entries are built with the _nocheck setters: every string here was validated as UTF-8
 * when its profile was read, and this runs once per profile for every pod start. */
static json_t *entry_json(const profile_set *set, const profile_entry *e, bool is_default) {
        const char *desc = e->profile ? e->profile->description : NULL;
        json_t *o = json_object();
        pod_buf label = { 0 };

        if (!o || selector_entry_label(&label, set, e) < 0) {
                json_decref(o);
                buf_done(&label);
                return NULL;
        }
        json_object_set_new_nocheck(o, "selector", json_string_nocheck(e->selector));
        json_object_set_new_nocheck(o, "label", json_stringn_nocheck(label.data, label.len));
        json_object_set_new_nocheck(o, "description",
                                    desc ? json_string_nocheck(desc) : json_null());
        json_object_set_new_nocheck(o, "default", json_boolean(is_default));
        json_object_set_new_nocheck(o, "broken", json_boolean(!e->profile));
        buf_done(&label);
        return o;
}

static json_t *profiles_json(const profile_set *set) {
        json_t *list = json_array();
        const profile_entry *def = profile_set_default(set, NULL);

        for (size_t i = 0; list && i < profile_set_count(set); i++) {
                const profile_entry *e = profile_set_get(set, i);
                if (e->source != POD_SOURCE_PATH)
                        json_array_append_new(list, entry_json(set, e, e == def));
        }
        return list;
}

static json_t *special_json(const profile_entry *def) {
        char meaning[512];

        snprintf(meaning, sizeof(meaning), "the default profile%s%s%s", def ? " (" : "",
                 def ? def->selector : "", def ? ")" : "");
        return json_pack("[{s:s, s:s}, {s:s, s:s}]", "name", "default", "meaning", meaning, "name",
                         "inherit", "meaning",
                         "a child like you: your model, instruction, tools, skills, network and "
                         "limits, but never your name or your scope");
}

int prompt_spawn_description(pod_buf *out,
                             const profile_set *set,
                             const char *diagnostic,
                             const json_t *prompts,
                             pod_error *err) {
        const char *why = NULL;
        const profile_entry *def = set ? profile_set_default(set, &why) : NULL;
        json_auto_t *ctx = NULL;

        if (!set && !diagnostic)
                diagnostic = "profile discovery failed";
        if (set && !def && !diagnostic)
                diagnostic = why;
        ctx = json_pack("{s:o, s:s?, s:o, s:s?}", "available_profiles",
                        set ? profiles_json(set) : json_array(), "default_profile",
                        def ? def->selector : NULL, "special_selectors", special_json(def),
                        "profile_diagnostic", diagnostic);
        if (!ctx)
                return pod_error_oom(err);
        return prompt_render(out, PROMPT_KEY_SPAWN_POD_TOOL_DESCRIPTION, prompts, ctx, err);
}
