/* SPDX-License-Identifier: MIT */
/*
 * From command-line options to a resolved manifest, shared by `pod profile show` and
 * `pod run`: the pod cwd, discovery, the selector, the top-level scope (the cwd at the
 * profile's ceiling plus --scope rules), resolution, and what the parent inlines.
 */
#include <string.h>

#include "cli.h"
#include "prompt/prompt.h"

int cli_target_option(cli_target *t, int opt, const char *arg) {
        switch (opt) {
        case CLI_OPT_CWD:
                t->cwd = arg;
                return 1;
        case CLI_OPT_NAME:
                t->name = arg;
                return 1;
        case CLI_OPT_MODEL:
                t->model = arg;
                return 1;
        case CLI_OPT_ENDPOINT:
                t->endpoint = arg;
                return 1;
        case CLI_OPT_PROFILE:
                t->selector = arg;
                return 1;
        case CLI_OPT_SCOPE:
                return strv_push(&t->scope, arg) < 0 ? -ENOMEM : 1;
        default:
                return 0;
        }
}

void cli_resolved_done(cli_resolved *r) {
        profile_set_free(r->set);
        free(r->cwd);
        pod_dirs_done(&r->dirs);
        json_decref(r->manifest);
        json_decref(r->explain);
        *r = (cli_resolved){ 0 };
}

/* The rules alone, once scope_top_level found them within the profile's ceiling (out: its
 * scope, replaced). */
static int exact_scope(pod_scope *out, const scope_rule *rules, size_t n, pod_error *err) {
        pod_scope s = { 0 };
        int r = 0;

        for (size_t i = 0; r >= 0 && i < n; i++)
                r = scope_add(&s, false, rules[i].path, rules[i].access, rules[i].recursive, err);
        scope_done(out);
        if (r < 0)
                scope_done(&s);
        *out = r < 0 ? (pod_scope){ 0 } : s;
        return r;
}

static int top_scope(pod_scope *out, const cli_target *t, const pod_profile *p, const char *cwd) {
        scope_rule rules[POD_SCOPE_RULES_MAX];
        size_t n = 0;
        pod_error err = { 0 };
        int r = 0;

        STRV_FOREACH(s, t->scope) {
                if (n == POD_SCOPE_RULES_MAX) {
                        r = pod_error_set(&err, -E2BIG, "more than %u --scope rules",
                                          POD_SCOPE_RULES_MAX);
                        break;
                }
                r = scope_rule_parse(&rules[n], *s, cwd, &err);
                if (r < 0)
                        break;
                n++;
        }
        if (r >= 0 && t->scope_exact && n == 0 && (r = scope_rule_parse(&rules[0], "read:.", cwd,
                                                                          &err)) >= 0)
                n = 1;
        if (r >= 0)
                r = scope_top_level(out, cwd, p->scope, rules, n, &err);
        if (r >= 0 && t->scope_exact)
                r = exact_scope(out, rules, n, &err);
        for (size_t i = 0; i < n; i++)
                scope_rule_done(&rules[i]);
        return r < 0 ? cli_fail(EXIT_USAGE, "--scope: %s", err.msg) : EXIT_OK;
}

/* How the selector chose its profile, for --explain: the default's pointer (and one that
 * was ignored), or the source a bare slug found first. */
static void explain_selection(json_t *explain, const profile_set *set, const char *selector,
                              const profile_entry *e) {
        const char *note = profile_set_default_note(set);
        pod_buf b = { 0 };

        if (!explain)
                return;
        if (strcmp(selector, "default") == 0)
                buf_printf(&b, "the effective default %s, from %s%s%s", e->selector,
                           profile_set_default_origin(set) ?: "?", note ? "; " : "", note ?: "");
        else if (!strchr(selector, ':') && strcmp(selector, e->slug) == 0) {
                buf_printf(&b, "the slug '%s' names the highest source that has it: %s",
                           selector, e->selector);
                for (size_t i = 0; i < profile_set_count(set); i++) {
                        const profile_entry *o = profile_set_get(set, i);
                        if (o->shadowed_by == e)
                                buf_printf(&b, " (it shadows %s)", o->selector);
                        else if (o != e && o->untrusted && strcmp(o->slug, e->slug) == 0)
                                buf_printf(&b, " (%s is untrusted)", o->selector);
                }
        } else
                buf_printf(&b, "runtime (the selector used: %s)", e->selector);
        if (b.data)
                json_object_set_new(explain, "profile.selector", json_string(b.data));
        buf_done(&b);
}

static int resolve_manifest(cli_resolved *out, const cli_target *t, char **envp) {
        const char *sandbox = env_get(envp, "POD_SANDBOX");
        prompt_sources src = { out->dirs.config_dir, profile_set_project_dir(out->set) };
        const profile_entry *def = profile_set_default(out->set, NULL);
        pod_scope scope = { 0 };
        pod_error err = { 0 };
        manifest_inputs in = {
                .name = t->name, .cwd = out->cwd, .model = t->model, .endpoint = t->endpoint,
                .selector = t->selector ? t->selector : "default",
                .model_base = out->cwd, .scope = &scope,
                .scope_origin = t->scope_exact ? "the --scope rules (none: read of the cwd)"
                                               : "the cwd at the profile's ceiling, plus --scope rules",
                .sandbox_off = sandbox && strcmp(sandbox, "off") == 0,
                .default_profile = def ? def->profile : NULL,
        };
        int r;

        r = top_scope(&scope, t, out->entry->profile, out->cwd);
        if (r != EXIT_OK)
                return r;
        r = manifest_resolve(&out->manifest, t->explain ? &out->explain : NULL,
                             out->entry->profile, &in, &err);
        scope_done(&scope);
        if (r >= 0)
                r = prompt_inline(out->manifest, &src, &err);
        if (r >= 0)
                json_object_set_new(out->manifest, "profiles",
                                    cli_snapshot(out->set, out->dirs.config_dir));
        if (r >= 0)
                explain_selection(out->explain, out->set, in.selector, out->entry);
        return r < 0 ? cli_fail(EXIT_USAGE, "%s", err.msg) : EXIT_OK;
}

int cli_resolve(cli_resolved *out, const cli_target *t, bool manifest, char **envp) {
        pod_error err = { 0 };
        int r;

        *out = (cli_resolved){ 0 };
        r = cli_resolve_cwd(&out->cwd, t->cwd);
        if (r == EXIT_OK && pod_dirs_from_env(&out->dirs, envp, getuid(), &err) < 0)
                r = cli_fail(EXIT_USAGE, "%s", err.msg);
        if (r == EXIT_OK && profile_set_discover(&out->set, out->cwd, out->dirs.config_dir, &err) < 0)
                r = cli_fail(EXIT_RUNTIME, "%s", err.msg);
        if (r == EXIT_OK) {
                STRV_FOREACH(d, profile_set_diagnostics(out->set))
                        cli_warn("%s", *d);
                if (profile_set_select(&out->entry, out->set, t->selector ? t->selector : "default",
                                       SEL_CONTEXT_CLI, &err) < 0)
                        r = cli_fail(EXIT_USAGE, "%s", err.msg);
                else if ((!t->selector || strcmp(t->selector, "default") == 0) &&
                         profile_set_default_note(out->set))
                        cli_warn("%s", profile_set_default_note(out->set));
        }
        if (r == EXIT_OK) {
                STRV_FOREACH(w, out->entry->profile->warnings)
                        cli_warn("%s", *w);
                if (manifest)
                        r = resolve_manifest(out, t, envp);
        }
        if (r != EXIT_OK)
                cli_resolved_done(out);
        return r;
}
