/* SPDX-License-Identifier: MIT */
/*
 * The profile snapshot a manifest carries (DESIGN §6): the user and project profiles the
 * resolving pod saw, as their text, with the broken ones and the effective default. A pod
 * rebuilds its profile set from it without reading a file, so a child whose scope is only
 * src/ can still name profiles for grandchildren, and every pod in a tree resolves the same
 * profile contents. Builtin profiles come from the binary itself.
 */
#include <fcntl.h>
#include <string.h>

#include "manifest-internal.h"

#define SNAPSHOT_ENTRIES_MAX (2u * POD_PROFILES_PER_SOURCE_MAX)

static json_t *str_or_null(const char *s) {
        return s ? json_string(s) : json_null();
}

/*
 * The script of a script: model profile, carried with it: a child whose scope holds neither
 * the profile nor its script can still start a grandchild on it. NULL when unreadable; the
 * spawn that needs it then says why.
 */
static json_t *script_of(const profile_entry *e) {
        _cleanup_free_ char *dir = NULL, *path = NULL, *text = NULL;
        const char *model = e->profile->model;
        size_t len;

        if (!model || !str_startswith(model, "script:") || !(dir = path_parent(e->file)) ||
            scope_canonicalize(&path, model + 7, dir, NULL) < 0 ||
            file_read_bounded(&text, &len, AT_FDCWD, path, POD_SCRIPT_MAX_BYTES, NULL) < 0 ||
            !utf8_valid(text, len) || strlen(text) != len)
                return NULL;
        return json_string(text);
}

json_t *profile_set_snapshot(const profile_set *s) {
        json_t *profiles = json_array(), *broken = json_array(), *diags = json_array();
        json_t *untrusted = json_array(), *snap;

        for (size_t i = 0; i < s->n; i++) {
                const profile_entry *e = s->entries[i];
                if (e->source != POD_SOURCE_USER && e->source != POD_SOURCE_PROJECT)
                        continue;
                if (e->untrusted) /* named, never carried: nothing of it can run */
                        json_array_append_new(untrusted,
                                              json_pack("{s:s, s:s, s:s}", "source",
                                                        source_to_string(e->source), "slug",
                                                        e->slug, "file", e->file));
                else if (e->profile && e->profile->text) {
                        json_t *v = json_pack("{s:s, s:s, s:s, s:s}", "source",
                                              source_to_string(e->source), "slug", e->slug, "file",
                                              e->file, "text", e->profile->text);
                        json_t *script = script_of(e);
                        if (v && script)
                                json_object_set_new(v, "script", script);
                        else
                                json_decref(script);
                        json_array_append_new(profiles, v);
                } else
                        json_array_append_new(broken,
                                              json_pack("{s:s, s:s, s:s, s:s}", "source",
                                                        source_to_string(e->source), "slug",
                                                        e->slug, "file", e->file, "error",
                                                        e->error ? e->error : "broken"));
        }
        STRV_FOREACH(d, s->diagnostics)
                json_array_append_new(diags, json_string(*d));
        snap = json_pack("{s:o, s:o, s:o, s:o, s:o, s:o}", "default",
                         str_or_null(s->def ? s->def->selector : NULL), "default_error",
                         str_or_null(s->def ? NULL : s->def_error), "project_dir",
                         str_or_null(s->project_dir), "profiles", profiles, "broken", broken,
                         "diagnostics", diags);
        json_object_set_new(snap, "project_trusted", json_boolean(s->project_trusted));
        json_object_set_new(snap, "untrusted", untrusted);
        return snap;
}

typedef enum entry_kind { ENTRY_PROFILE, ENTRY_BROKEN, ENTRY_UNTRUSTED } entry_kind;

static int entry_check(const json_t *e, entry_kind kind, size_t i, pod_error *err) {
        static const char *const lists[] = { "profiles", "broken", "untrusted" };
        const char *source, *slug, *file, *text = "", *script = NULL;
        bool broken = kind == ENTRY_BROKEN;
        json_error_t jerr;
        profile_source src;
        int r;

        if (kind == ENTRY_UNTRUSTED)
                r = json_unpack_ex((json_t *) e, &jerr, JSON_STRICT, "{s:s, s:s, s:s}", "source",
                                   &source, "slug", &slug, "file", &file);
        else
                r = json_unpack_ex((json_t *) e, &jerr, JSON_STRICT, "{s:s, s:s, s:s, s:s, s?:s}",
                                   "source", &source, "slug", &slug, "file", &file,
                                   broken ? "error" : "text", &text, "script", &script);
        if (r < 0)
                return pod_error_set(err, -EINVAL, "manifest: profiles.%s[%zu]: %s", lists[kind], i,
                                     jerr.text);
        if (kind == ENTRY_UNTRUSTED && strcmp(source, "project") != 0)
                return pod_error_set(err, -EINVAL,
                                     "manifest: profiles.untrusted[%zu]: only project profiles "
                                     "can be untrusted",
                                     i);
        src = strcmp(source, "user") == 0      ? POD_SOURCE_USER :
                strcmp(source, "project") == 0 ? POD_SOURCE_PROJECT :
                                                 POD_SOURCE_BUILTIN;
        if (src == POD_SOURCE_BUILTIN || (!broken && !slug_valid(slug)) || file[0] != '/' ||
            strlen(text) > POD_PROFILE_MAX_BYTES ||
            (script && strlen(script) > POD_SCRIPT_MAX_BYTES))
                return pod_error_set(
                        err, -EINVAL,
                        "manifest: profiles entry %zu: source must be user or project, "
                        "with a valid slug, an absolute file, at most %u bytes of "
                        "profile and %u of script",
                        i, POD_PROFILE_MAX_BYTES, POD_SCRIPT_MAX_BYTES);
        return 0;
}

/* The skills resolved when the tree started: {name: {name, path, sha256, description, body}}
 * or {name: {name, error}}; bounded. */
static int skills_check(const json_t *skills, pod_error *err) {
        const char *key;
        json_t *v;

        if (!json_is_object(skills) || json_object_size(skills) > POD_SNAPSHOT_SKILLS_MAX)
                return pod_error_set(err, -EINVAL,
                                     "manifest: profiles.skills must be an object of "
                                     "at most %u skills",
                                     POD_SNAPSHOT_SKILLS_MAX);
        json_object_foreach((json_t *) skills, key, v) {
                const char *name = NULL, *path = NULL, *sha = NULL, *desc = NULL, *body = NULL;
                const char *why = NULL;
                json_error_t jerr;
                bool ok = json_unpack_ex(v, &jerr, JSON_STRICT, "{s:s, s:s}", "name", &name,
                                         "error", &why) == 0 ?
                        strlen(why) <= POD_ERROR_MAX :
                        json_unpack_ex(v, &jerr, JSON_STRICT, "{s:s, s:s, s:s, s:s, s:s}", "name",
                                       &name, "path", &path, "sha256", &sha, "description", &desc,
                                       "body", &body) == 0 &&
                                strlen(body) <= POD_SNAPSHOT_SKILL_BYTES &&
                                strlen(desc) <= POD_SNAPSHOT_SKILL_BYTES;
                if (!ok || strcmp(name, key) != 0 || !slug_valid(name))
                        return pod_error_set(err, -EINVAL,
                                             "manifest: profiles.skills['%s'] must be {name, path, "
                                             "sha256, description, body} or {name, error}, named "
                                             "as its key, its body at most %u bytes",
                                             key, POD_SNAPSHOT_SKILL_BYTES);
        }
        return 0;
}

int profile_snapshot_validate(const json_t *snap, pod_error *err) {
        json_t *def, *def_err, *proj, *profiles, *broken, *diags, *skills = NULL, *v;
        json_t *untrusted = NULL;
        json_error_t jerr;
        int trusted = 0;
        size_t i;
        int r;

        if (json_unpack_ex((json_t *) snap, &jerr, JSON_STRICT,
                           "{s:o, s:o, s:o, s:o, s:o, s:o, s?o, s?b, s?o}", "default", &def,
                           "default_error", &def_err, "project_dir", &proj, "profiles", &profiles,
                           "broken", &broken, "diagnostics", &diags, "skills", &skills,
                           "project_trusted", &trusted, "untrusted", &untrusted) < 0)
                return pod_error_set(err, -EINVAL, "manifest: profiles: %s", jerr.text);
        if (untrusted &&
            (!json_is_array(untrusted) || json_array_size(untrusted) > POD_PROFILES_PER_SOURCE_MAX))
                return pod_error_set(err, -EINVAL,
                                     "manifest: profiles.untrusted must be a list "
                                     "of at most %u profiles",
                                     POD_PROFILES_PER_SOURCE_MAX);
        json_array_foreach(untrusted, i, v)
                if ((r = entry_check(v, ENTRY_UNTRUSTED, i, err)) < 0)
                        return r;
        if (skills && (r = skills_check(skills, err)) < 0)
                return r;
        if ((!json_is_null(def) && !json_is_string(def)) ||
            (!json_is_null(def_err) && !json_is_string(def_err)) ||
            (!json_is_null(proj) && !json_is_string(proj)) || !json_is_array(profiles) ||
            !json_is_array(broken) || !json_is_array(diags) ||
            json_array_size(profiles) + json_array_size(broken) > SNAPSHOT_ENTRIES_MAX ||
            json_array_size(diags) > 64)
                return pod_error_set(err, -EINVAL, "manifest: profiles has the wrong shape");
        json_array_foreach(profiles, i, v)
                if ((r = entry_check(v, ENTRY_PROFILE, i, err)) < 0)
                        return r;
        json_array_foreach(broken, i, v)
                if ((r = entry_check(v, ENTRY_BROKEN, i, err)) < 0)
                        return r;
        return 0;
}

static profile_source source_of(const json_t *e) {
        return strcmp(json_string_value(json_object_get(e, "source")), "user") == 0 ?
                POD_SOURCE_USER :
                POD_SOURCE_PROJECT;
}

static int add_entries(profile_set *s, const json_t *snap) {
        json_t *e;
        size_t i;
        int r;

        json_array_foreach(json_object_get(snap, "profiles"), i, e) {
                const char *text = json_string_value(json_object_get(e, "text"));
                const char *slug = json_string_value(json_object_get(e, "slug"));
                const char *file = json_string_value(json_object_get(e, "file"));
                pod_profile *p = NULL;
                pod_error perr = { 0 };
                const char *script = json_string_value(json_object_get(e, "script"));
                if (profile_parse(&p, source_of(e), slug, file, text, strlen(text), &perr) ==
                    -ENOMEM)
                        return -ENOMEM;
                if (p && script && !(p->script_text = strdup(script))) {
                        profile_free(p);
                        return -ENOMEM;
                }
                r = profile_set_add(s, source_of(e), slug, file, p, &perr, NULL);
                if (r < 0) {
                        profile_free(p);
                        return r;
                }
        }
        json_array_foreach(json_object_get(snap, "broken"), i, e) {
                pod_error perr = { 0 };
                snprintf(perr.msg, sizeof(perr.msg), "%s",
                         json_string_value(json_object_get(e, "error")));
                r = profile_set_add(s, source_of(e), json_string_value(json_object_get(e, "slug")),
                                    json_string_value(json_object_get(e, "file")), NULL, &perr,
                                    NULL);
                if (r < 0)
                        return r;
        }
        json_array_foreach(json_object_get(snap, "untrusted"), i, e) {
                profile_entry *u = NULL;
                pod_error perr = { 0 };
                snprintf(perr.msg, sizeof(perr.msg), "untrusted");
                r = profile_set_add(s, POD_SOURCE_PROJECT,
                                    json_string_value(json_object_get(e, "slug")),
                                    json_string_value(json_object_get(e, "file")), NULL, &perr, &u);
                if (r < 0)
                        return r;
                u->untrusted = true;
        }
        json_array_foreach(json_object_get(snap, "diagnostics"), i, e)
                if (strv_push(&s->diagnostics, json_string_value(e)) < 0)
                        return -ENOMEM;
        return 0;
}

/* Discovery's order: by source, then by file name as a directory listing sorts it. */
static int cmp_discovered(const void *a, const void *b) {
        const profile_entry *x = *(profile_entry *const *) a, *y = *(profile_entry *const *) b;

        if (x->source != y->source)
                return (int) x->source - (int) y->source;
        return strcmp(path_basename(x->file), path_basename(y->file));
}

static void order_like_discovery(profile_set *s, size_t first) {
        if (s->n > first)
                qsort(s->entries + first, s->n - first, sizeof(*s->entries), cmp_discovered);
}

static int set_default(profile_set *s, const json_t *snap) {
        const char *def = json_string_value(json_object_get(snap, "default"));
        const char *why = json_string_value(json_object_get(snap, "default_error"));
        pod_selector sel;

        if (def && selector_parse(&sel, def, SEL_CONTEXT_SPAWN, NULL) == 0) {
                if (sel.kind == SEL_QUALIFIED)
                        s->def = profile_set_find(s, sel.source, sel.value);
                selector_done(&sel);
        }
        if (s->def && s->def->untrusted)
                s->def = NULL; /* never the default, whatever a snapshot says */
        if (!s->def)
                s->def_error = strdup(why ? why : "the default profile is not in the snapshot");
        return s->def || s->def_error ? 0 : -ENOMEM;
}

int profile_set_from_snapshot(profile_set **out,
                              const json_t *snap,
                              const char *cwd,
                              pod_error *err) {
        _cleanup_(profile_set_freep) profile_set *s = NULL;
        const char *proj = json_string_value(json_object_get(snap, "project_dir"));
        int r;

        r = profile_snapshot_validate(snap, err);
        if (r < 0)
                return r;
        if (!cwd || cwd[0] != '/')
                return pod_error_set(err, -EINVAL, "the snapshot needs an absolute cwd");
        s = calloc(1, sizeof(*s));
        if (!s || !(s->cwd = strdup(cwd)) || (proj && !(s->project_dir = strdup(proj))))
                return pod_error_oom(err);
        s->project_trusted = json_is_true(json_object_get(snap, "project_trusted"));
        size_t builtins;

        r = profile_set_load_builtin(s);
        builtins = s->n;
        if (r >= 0)
                r = add_entries(s, snap);
        if (r >= 0) {
                order_like_discovery(s, builtins);
                r = profile_set_build_index(s);
        }
        if (r >= 0)
                r = profile_set_resolve_extends(s);
        if (r >= 0)
                r = set_default(s, snap);
        if (r < 0)
                return pod_error_set(err, r, "profile snapshot: %s", strerror(-r));
        *out = TAKE_PTR(s);
        return 0;
}
