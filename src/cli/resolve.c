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
        case CLI_OPT_BUDGET_TOKENS:
                t->budget.tokens = arg;
                return 1;
        case CLI_OPT_BUDGET_USD:
                t->budget.usd = arg;
                return 1;
        case CLI_OPT_MAX_TURNS:
                t->budget.turns = arg;
                return 1;
        case CLI_OPT_TIMEOUT_S:
                t->budget.seconds = arg;
                return 1;
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

static int resolve_manifest(cli_resolved *out, const cli_target *t, char **envp) {
        const char *sandbox = env_get(envp, "POD_SANDBOX");
        prompt_sources src = { out->dirs.config_dir, profile_set_project_dir(out->set) };
        pod_scope scope = { 0 };
        pod_error err = { 0 };
        manifest_inputs in = {
                .name = t->name, .cwd = out->cwd, .model = t->model,
                .selector = t->selector ? t->selector : "default",
                .model_base = out->cwd, .scope = &scope,
                .scope_origin = "the cwd at the profile's ceiling, plus --scope rules",
                .sandbox_off = sandbox && strcmp(sandbox, "off") == 0,
        };
        int r;

        r = top_scope(&scope, t, out->entry->profile, out->cwd);
        if (r != EXIT_OK)
                return r;
        r = manifest_resolve(&out->manifest, t->explain ? &out->explain : NULL,
                             out->entry->profile, &in, &err);
        scope_done(&scope);
        if (r >= 0) /* the operator's budget replaces the profile's (DESIGN §18) */
                r = manifest_set_budget(out->manifest, &t->budget, &err);
        if (r >= 0)
                r = prompt_inline(out->manifest, &src, &err);
        if (r >= 0) {
                /* The snapshot carries the skills its profiles name, so that a spawner inlines
                 * its children's without reading outside its scope (DESIGN §6). */
                json_t *snap = profile_set_snapshot(out->set);
                json_object_set_new(snap, "skills", prompt_skill_library(out->set, &src));
                json_object_set_new(out->manifest, "profiles", snap);
        }
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
