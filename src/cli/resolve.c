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
        if (r >= 0)
                r = scope_top_level(out, cwd, p->scope, rules, n, &err);
        for (size_t i = 0; i < n; i++)
                scope_rule_done(&rules[i]);
        return r < 0 ? cli_fail(EXIT_USAGE, "--scope: %s", err.msg) : EXIT_OK;
}

int cli_sandbox_setting(bool *ret_off, char **envp) {
        const char *v = env_get(envp, "POD_SANDBOX");

        if (ret_off)
                *ret_off = v && strcmp(v, "off") == 0;
        if (!v || !v[0] || strcmp(v, "on") == 0 || strcmp(v, "off") == 0)
                return EXIT_OK;
        /* A typo must not leave the operator believing the sandbox is off, or on. */
        return cli_fail(EXIT_USAGE,
                        "POD_SANDBOX=%s is not a setting pod knows: unset it (the sandbox is on), "
                        "or set POD_SANDBOX=off to run unconfined where the kernel has no Landlock",
                        cli_printable(v, 64) ? v : "...");
}

/* Resolve p with in, inline its prompts and skills, and carry the profile snapshot. */
static int build_manifest(json_t **out, json_t **ret_explain, const profile_set *set,
                          const pod_profile *p, const manifest_inputs *in, const char *config_dir,
                          pod_error *err) {
        prompt_sources src = { config_dir, profile_set_project_dir(set) };
        int r;

        r = manifest_resolve(out, ret_explain, p, in, err);
        if (r >= 0)
                r = prompt_inline(*out, &src, err);
        if (r >= 0) {
                /* The snapshot carries the skills its profiles name, so that a spawner inlines
                 * its children's without reading outside its scope (DESIGN §6). */
                json_t *snap = profile_set_snapshot(set);
                json_object_set_new(snap, "skills", prompt_skill_library(set, &src));
                json_object_set_new(*out, "profiles", snap);
        }
        return r;
}

int cli_profile_manifest(json_t **out, const profile_set *set, const profile_entry *e,
                         const char *config_dir, pod_error *err) {
        const char *cwd = profile_set_cwd(set);
        pod_scope scope = { 0 };
        manifest_inputs in = {
                .cwd = cwd, .selector = e->selector, .model_base = cwd, .scope = &scope,
                .scope_origin = "the cwd at the profile's ceiling",
        };
        int r;

        *out = NULL;
        r = scope_top_level(&scope, cwd, e->profile->scope, NULL, 0, err);
        if (r >= 0)
                r = build_manifest(out, NULL, set, e->profile, &in, config_dir, err);
        scope_done(&scope);
        if (r < 0) {
                json_decref(*out);
                *out = NULL;
        }
        return r;
}

static int resolve_manifest(cli_resolved *out, const cli_target *t, char **envp) {
        pod_scope scope = { 0 };
        pod_error err = { 0 };
        bool off = false;
        manifest_inputs in = {
                .name = t->name, .cwd = out->cwd, .model = t->model,
                .selector = t->selector ? t->selector : "default",
                .model_base = out->cwd, .scope = &scope,
                .scope_origin = "the cwd at the profile's ceiling, plus --scope rules",
        };
        int r;

        r = cli_sandbox_setting(&off, envp);
        if (r != EXIT_OK)
                return r;
        in.sandbox_off = off;
        r = top_scope(&scope, t, out->entry->profile, out->cwd);
        if (r != EXIT_OK)
                return r;
        r = build_manifest(&out->manifest, t->explain ? &out->explain : NULL, out->set,
                           out->entry->profile, &in, out->dirs.config_dir, &err);
        scope_done(&scope);
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
