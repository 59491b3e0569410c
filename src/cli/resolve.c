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
        case CLI_OPT_EXECUTOR:
                t->executor = arg;
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

int cli_target_executor(cli_target *t) {
        static char spec[256];
        const char *colon = t->model ? strchr(t->model, ':') : NULL;

        if (!t->executor)
                return EXIT_OK;
        if (!t->model)
                return cli_fail(EXIT_USAGE,
                                "--executor is deprecated and needs --model: use "
                                "--model %s:MODEL instead",
                                cli_printable(t->executor, 64) ? t->executor : "PROVIDER");
        if (colon &&
            ((size_t) (colon - t->model) != strlen(t->executor) ||
             strncmp(t->model, t->executor, strlen(t->executor)) != 0))
                return cli_fail(EXIT_USAGE,
                                "--executor %s disagrees with --model %s: give "
                                "--model PROVIDER:MODEL alone",
                                cli_printable(t->executor, 64) ? t->executor : "...",
                                cli_printable(t->model, 256) ? t->model : "...");
        if (!colon &&
            snprintf(spec, sizeof(spec), "%s:%s", t->executor, t->model) >= (int) sizeof(spec))
                return cli_fail(EXIT_USAGE, "--executor and --model are too long together");
        if (!colon)
                t->model = spec;
        cli_warn("--executor is deprecated: use --model %s", t->model);
        return EXIT_OK;
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
        if (r >= 0 && t->scope_exact && n == 0 &&
            (r = scope_rule_parse(&rules[0], "read:.", cwd, &err)) >= 0)
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
static void explain_selection(json_t *explain,
                              const profile_set *set,
                              const char *selector,
                              const profile_entry *e) {
        const char *note = profile_set_default_note(set);
        pod_buf b = { 0 };

        if (!explain)
                return;
        if (strcmp(selector, "default") == 0)
                buf_printf(&b, "the effective default %s, from %s%s%s", e->selector,
                           profile_set_default_origin(set) ?: "?", note ? "; " : "", note ?: "");
        else if (!strchr(selector, ':') && strcmp(selector, e->slug) == 0) {
                buf_printf(&b, "the slug '%s' names the highest source that has it: %s", selector,
                           e->selector);
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
static int build_manifest(json_t **out,
                          json_t **ret_explain,
                          const profile_set *set,
                          const pod_profile *p,
                          const manifest_inputs *in,
                          const char *config_dir,
                          pod_error *err) {
        prompt_sources src = { config_dir, profile_set_project_dir(set) };
        int r;

        r = manifest_resolve(out, ret_explain, p, in, err);
        if (r >= 0)
                r = prompt_inline(*out, &src, err);
        if (r >= 0 && json_object_set_new(*out, "profiles", cli_snapshot(set, config_dir)) < 0)
                r = pod_error_oom(err);
        return r;
}

int cli_profile_manifest(json_t **out,
                         const profile_set *set,
                         const profile_entry *e,
                         const char *config_dir,
                         pod_error *err) {
        const char *cwd = profile_set_cwd(set);
        const profile_entry *def = profile_set_default(set, NULL);
        pod_scope scope = { 0 };
        manifest_inputs in = {
                .cwd = cwd,
                .selector = e->selector,
                .model_base = cwd,
                .scope = &scope,
                .scope_origin = "the cwd at the profile's ceiling",
                .default_profile = def ? def->profile : NULL,
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
        const profile_entry *def = profile_set_default(out->set, NULL);
        pod_scope scope = { 0 };
        pod_error err = { 0 };
        bool off = false;
        manifest_inputs in = {
                .name = t->name,
                .cwd = out->cwd,
                .model = t->model,
                .endpoint = t->endpoint,
                .selector = t->selector ? t->selector : "default",
                .model_base = out->cwd,
                .scope = &scope,
                .scope_origin = t->scope_exact ?
                        "the --scope rules (none: read of the cwd)" :
                        "the cwd at the profile's ceiling, plus --scope rules",
                .default_profile = def ? def->profile : NULL,
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
        if (r >= 0) /* the operator's budget replaces the profile's (DESIGN §18) */
                r = manifest_set_budget(out->manifest, &t->budget, &err);
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
        if (r == EXIT_OK &&
            profile_set_discover(&out->set, out->cwd, out->dirs.config_dir, &err) < 0)
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
