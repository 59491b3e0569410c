/* SPDX-License-Identifier: MIT */
/*
 * The manifest (DESIGN §6): the complete, validated recipe a pod runs, as version-1 JSON.
 * Resolution = base defaults <- profile (after extends) <- runtime inputs. Whatever a child
 * needs from outside its scope (the script of a script: model, ...) is carried inline. A
 * child validates the manifest it is handed with manifest_validate() and refuses one that
 * fails: field by field, no unknown keys, and a model spec that agrees with its handler.
 */
#include <fcntl.h>
#include <limits.h>
#include <string.h>

#include "manifest-internal.h"

/* ---- resolution ------------------------------------------------------------------------ */

typedef struct resolve_ctx {
        const pod_profile *p;
        const pod_profile *mp; /* whose model runs: p, or the default profile p inherits from */
        const manifest_inputs *in;
        json_t *explain; /* may be NULL */
        model_spec spec;
        pod_error *err;
} resolve_ctx;

static json_t *json_string_or_null(const char *s) {
        return s ? json_string(s) : json_null();
}

static void explain_set(resolve_ctx *c, const char *field, const char *fmt, ...) _printf_(3, 4);
static void explain_set(resolve_ctx *c, const char *field, const char *fmt, ...) {
        char line[POD_ERROR_MAX];
        va_list ap;

        if (!c->explain)
                return;
        va_start(ap, fmt);
        vsnprintf(line, sizeof(line), fmt, ap);
        va_end(ap);
        json_object_set_new(c->explain, field, json_string(line));
}

static void explain_key(resolve_ctx *c, profile_key k) {
        const profile_origin *o = &c->p->origin[k];

        if (c->p->set[k] && o->file)
                explain_set(c, profile_keys[k].manifest, "%s:%u", o->file, o->line);
        else
                explain_set(c, profile_keys[k].manifest, "base default");
}

static json_t *strv_to_json(char *const *l) {
        json_t *a = json_array();

        STRV_FOREACH(s, l)
                json_array_append_new(a, json_string(*s));
        return a;
}

static json_t *profile_json(resolve_ctx *c) {
        const pod_profile *p = c->p;
        json_t *ext = json_null();
        _cleanup_free_ char *qualified = profile_selector(p);

        explain_set(c, "profile.selector",
                    c->in->selector ? "runtime (the selector used)" :
                                      "the profile's qualified selector");
        if (p->base_selector) {
                ext = json_pack("{s:s, s:s, s:s}", "selector", p->base_selector, "file",
                                p->base_file, "sha256", p->base_sha256);
                explain_key(c, PK_EXTENDS);
        }
        return json_pack("{s:s, s:s, s:s, s:s, s:s, s:o, s:o}", "selector",
                         c->in->selector ? c->in->selector : qualified, "source",
                         source_to_string(p->source), "slug", p->slug, "file", p->file, "sha256",
                         p->sha256, "description", json_string_or_null(p->description), "extends",
                         ext);
}

/* The script of a script: model, read now so the child never reads outside its scope. */
static int load_script(json_t *model, resolve_ctx *c) {
        _cleanup_free_ char *dir = NULL, *path = NULL, *text = NULL;
        const char *name = c->spec.name;
        json_t *script = NULL;
        char sha[SHA256_HEX_LEN + 1];
        size_t len;
        int r;

        if (c->in->model)
                dir = strdup(c->in->model_base ? c->in->model_base : c->in->cwd);
        else if (name[0] != '/' && c->mp->source == POD_SOURCE_BUILTIN)
                return pod_error_set(c->err, -EINVAL,
                                     "%s: a builtin profile's script: path must be absolute",
                                     c->mp->file);
        else
                dir = path_parent(c->mp->file);
        if (!dir)
                return pod_error_oom(c->err);
        r = scope_canonicalize(&path, name, dir, c->err);
        if (r >= 0 && !c->in->model && c->mp->script_text) { /* from the profile snapshot */
                text = strdup(c->mp->script_text);
                len = text ? strlen(text) : 0;
                r = text ? 0 : pod_error_oom(c->err);
        } else if (r >= 0)
                r = file_read_bounded(&text, &len, AT_FDCWD, path, POD_SCRIPT_MAX_BYTES, c->err);
        if (r >= 0)
                r = script_parse(&script, text, len, path, c->err);
        if (r < 0)
                return pod_error_prefix(c->err,
                                        "model %s: ", c->in->model ? c->in->model : c->mp->model);
        sha256_hex(sha, text, len);
        json_object_set_new(model, "script", script);
        json_object_set_new(model, "script_file", json_string(path));
        json_object_set_new(model, "script_sha256", json_string(sha));
        return 0;
}

/* Endpoint and key variable: the profile's when it names this provider, else the defaults. */
static int model_endpoint(resolve_ctx *c, bool own, char **endpoint, const char **key_env) {
        const model_provider *prov = c->spec.provider;

        *key_env = own && c->mp->api_key_env ? c->mp->api_key_env : prov->default_key_env;
        if (!prov->takes_endpoint && c->in->endpoint)
                return pod_error_set(c->err, -EINVAL,
                                     "--endpoint: provider '%s' takes no "
                                     "endpoint",
                                     prov->prefix);
        if (!prov->takes_endpoint) {
                *endpoint = NULL;
                return 0;
        }
        if (c->in->endpoint)
                return model_endpoint_normalize(endpoint, prov, c->in->endpoint, c->err) < 0 ?
                        pod_error_prefix(c->err, "--endpoint: ") :
                        0;
        if (own && c->mp->endpoint)
                return model_endpoint_normalize(endpoint, prov, c->mp->endpoint, c->err);
        if (!prov->default_endpoint && prov->endpoint_optional) {
                *endpoint = NULL; /* a delegate's CLI: its own default */
                return 0;
        }
        if (!prov->default_endpoint)
                return pod_error_set(c->err, -EINVAL,
                                     "model '%s' needs an endpoint (provider '%s' has no default)",
                                     c->in->model ? c->in->model : c->mp->model, prov->prefix);
        *endpoint = strdup(prov->default_endpoint);
        return *endpoint ? 0 : pod_error_oom(c->err);
}

/* A key of the profile whose model runs: its file and line, said as inherited when that
 * is the default profile. */
static void explain_model_key(resolve_ctx *c, profile_key k) {
        const profile_origin *o = &c->mp->origin[k];
        _cleanup_free_ char *sel = NULL;

        if (c->mp == c->p)
                return explain_key(c, k);
        sel = profile_selector(c->mp);
        explain_set(c, profile_keys[k].manifest, "inherited from the default profile %s (%s:%u)",
                    sel ? sel : "?", o->file ? o->file : c->mp->file, o->line);
}

static void explain_model(resolve_ctx *c, bool own, const char *endpoint) {
        if (c->in->model)
                explain_set(c, "model.spec", "runtime (--model)");
        else
                explain_model_key(c, PK_MODEL);
        explain_set(c, "model.handler", "the provider table (prefix '%s')",
                    c->spec.provider->prefix);
        if (c->in->endpoint)
                explain_set(c, "model.endpoint", "runtime (--endpoint)");
        else if (own && c->mp->set[PK_ENDPOINT])
                explain_key(c, PK_ENDPOINT);
        else if (endpoint)
                explain_set(c, "model.endpoint", "provider default (%s)", c->spec.provider->prefix);
        if (own && c->mp->set[PK_API_KEY_ENV])
                explain_model_key(c, PK_API_KEY_ENV);
        else
                explain_set(c, "model.api_key_env", "provider default (%s)",
                            c->spec.provider->prefix);
        if (c->p->set[PK_REASONING] || c->mp == c->p)
                explain_key(c, PK_REASONING);
        else
                explain_model_key(c, PK_REASONING);
}

/* The profile names no model: its spawner's runs, reasoning the profile's own if it sets
 * one (DESIGN §4). The manifest says so in model.origin. */
static int model_from_spawner(json_t **out, resolve_ctx *c) {
        json_t *m = json_deep_copy(c->in->spawner_model);
        const char *r = reasoning_to_string(c->p->reasoning);

        if (!m)
                return pod_error_oom(c->err);
        if (c->p->set[PK_REASONING] && r)
                json_object_set_new(m, "reasoning", json_string(r));
        json_object_set_new(m, "origin",
                            json_sprintf("spawner:%s", c->in->parent ? c->in->parent : ""));
        explain_set(c, "model.spec", "inherited from the spawner pod %s (%s names no model)",
                    c->in->parent ? c->in->parent : "?", c->p->file);
        explain_set(c, "model.endpoint", "inherited from the spawner pod");
        explain_set(c, "model.api_key_env", "inherited from the spawner pod");
        if (c->p->set[PK_REASONING])
                explain_key(c, PK_REASONING);
        else
                explain_set(c, "model.reasoning", "inherited from the spawner pod");
        *out = m;
        return 0;
}

/* Whose model runs: the profile's, else (a top-level pod) the default profile's. */
static int model_profile(resolve_ctx *c) {
        const pod_profile *d = c->in->default_profile;

        c->mp = c->p;
        if (c->in->model || c->p->model)
                return 0;
        if (!d || !d->model)
                return pod_error_set(c->err, -EINVAL,
                                     "%s names no model, so it runs its spawner's (a top-level "
                                     "pod: the default profile's), but %s; set model: in one of "
                                     "them, or pass --model",
                                     c->p->file,
                                     d ? "the default profile names none either" :
                                         "there is no usable default profile");
        c->mp = d;
        return 0;
}

static int model_json(json_t **out, resolve_ctx *c) {
        _cleanup_free_ char *endpoint = NULL;
        _cleanup_free_ char *own_prefix = NULL, *from = NULL;
        json_auto_t *m = NULL;
        const char *text, *key_env;
        pod_reasoning reasoning;
        bool own;
        int r;

        if (!c->in->model && !c->p->model && c->in->spawner_model)
                return model_from_spawner(out, c);
        r = model_profile(c);
        if (r < 0)
                return r;
        text = c->in->model ? c->in->model : c->mp->model;
        r = model_spec_parse(&c->spec, text, c->err);
        if (r < 0)
                return r;
        /* An override for another provider does not take this profile's endpoint or key. */
        own_prefix = strndup(c->mp->model ? c->mp->model : "",
                             strcspn(c->mp->model ? c->mp->model : "", ":"));
        if (!own_prefix)
                return pod_error_oom(c->err);
        own = strcmp(own_prefix, c->spec.provider->prefix) == 0;
        reasoning = c->p->set[PK_REASONING] || c->mp == c->p ? c->p->reasoning : c->mp->reasoning;
        r = model_endpoint(c, own, &endpoint, &key_env);
        if (r < 0)
                return r;
        m = json_pack("{s:s, s:s, s:s, s:s, s:o, s:o, s:o}", "spec", text, "provider",
                      c->spec.provider->prefix, "name", c->spec.name, "handler",
                      handler_to_string(c->spec.provider->handler), "endpoint",
                      json_string_or_null(endpoint), "api_key_env", json_string_or_null(key_env),
                      "reasoning", json_string_or_null(reasoning_to_string(reasoning)));
        if (!m)
                return pod_error_oom(c->err);
        from = c->mp == c->p ? NULL : profile_selector(c->mp);
        json_object_set_new(m, "origin",
                            c->in->model ? json_string("runtime") :
                                    from ? json_sprintf("default:%s", from) :
                                           json_string("profile"));
        if (c->spec.provider->handler == POD_HANDLER_SCRIPT) {
                r = load_script(m, c);
                if (r < 0)
                        return r;
        }
        explain_model(c, own, endpoint);
        *out = json_incref(m);
        return 0;
}

static json_t *limits_json(resolve_ctx *c) {
        json_t *l = json_object();

        for (unsigned i = 0; l && i < POD_LIMITS_COUNT; i++) {
                json_object_set_new(l, profile_limits[i].name, json_integer(c->p->limits[i]));
                explain_key(c, PK_MAX_TURNS + i);
        }
        return l;
}

/* The budget a top-level pod starts with (DESIGN §18): the profile's ceilings. A spawner
 * narrows a child's, the CLI a top-level pod's. */
static json_t *budget_json(resolve_ctx *c) {
        const pod_profile *p = c->p;
        int64_t tokens = p->limits[PK_BUDGET_TOKENS - PK_MAX_TURNS];

        explain_key(c, PK_BUDGET_COST_USD);
        return json_pack("{s:o, s:I, s:I, s:o}", "tokens",
                         tokens ? json_integer(tokens) : json_null(), "turns",
                         (json_int_t) p->limits[PK_MAX_TURNS - PK_MAX_TURNS], "seconds",
                         (json_int_t) p->limits[PK_TIMEOUT_S - PK_MAX_TURNS], "cost_usd",
                         p->budget_cost_usd > 0 ? json_real(p->budget_cost_usd) : json_null());
}

static json_t *price_json(resolve_ctx *c) {
        const pod_profile *p = c->p;

        explain_key(c, PK_PRICE);
        if (!p->set[PK_PRICE])
                return json_null();
        return json_pack("{s:f, s:f, s:f}", "input_per_mtok", p->price[0], "output_per_mtok",
                         p->price[1], "cached_input_per_mtok", p->price[2]);
}

static json_t *skills_json(const pod_profile *p) {
        json_t *a = json_array();

        STRV_FOREACH(s, p->skills)
                json_array_append_new(a, json_pack("{s:s}", "name", *s));
        return a;
}

static int scope_json(json_t **out, resolve_ctx *c) {
        pod_scope s = { 0 };
        json_t *j;
        int r;

        if (c->in->scope) {
                r = scope_copy(&s, c->in->scope, c->err);
                explain_set(c, "scope", "runtime (%s)",
                            c->in->scope_origin ? c->in->scope_origin : "granted by the spawner");
        } else {
                r = scope_top_level(&s, c->in->cwd, c->p->scope, NULL, 0, c->err);
                explain_set(c, "scope", "runtime (the cwd at the profile's ceiling)");
        }
        if (r < 0)
                return r;
        for (size_t i = 0; i < s.n_allow; i++)
                if (s.allow[i].access > c->p->scope) {
                        r = pod_error_set(
                                c->err, -EACCES,
                                "scope rule %s:%s exceeds the profile's scope ceiling '%s'",
                                access_to_string(s.allow[i].access), s.allow[i].path,
                                access_to_string(c->p->scope));
                        scope_done(&s);
                        return r;
                }
        j = scope_to_json(&s);
        scope_done(&s);
        if (!j)
                return pod_error_oom(c->err);
        json_object_set_new(j, "ceiling", json_string(access_to_string(c->p->scope)));
        explain_key(c, PK_SCOPE);
        *out = j;
        return 0;
}

static json_t *pod_json(resolve_ctx *c, const char *name) {
        explain_set(c, "pod.name",
                    c->in->name ? "runtime (--name / SpawnPod.name)" : "the profile slug");
        explain_set(c, "pod.cwd", "runtime");
        return json_pack("{s:s, s:s, s:i, s:o}", "name", name, "cwd", c->in->cwd, "depth",
                         (int) c->in->depth, "parent", json_string_or_null(c->in->parent));
}

static int check_inputs(const manifest_inputs *in, const char *name, pod_error *err) {
        if (!slug_valid(name))
                return pod_error_set(err, -EINVAL,
                                     "pod name '%s' is not valid: use [a-z0-9][a-z0-9._-]{0,63}",
                                     name);
        if (!in->cwd || in->cwd[0] != '/')
                return pod_error_set(err, -EINVAL, "the pod cwd must be an absolute path");
        if (in->parent && !slug_valid(in->parent))
                return pod_error_set(err, -EINVAL, "parent pod name '%s' is not valid", in->parent);
        if (in->instruction && strlen(in->instruction) > POD_INSTRUCTION_MAX_BYTES)
                return pod_error_set(err, -E2BIG, "the instruction is over %u bytes",
                                     POD_INSTRUCTION_MAX_BYTES);
        if (in->depth > (unsigned) profile_limits[PK_MAX_DEPTH - PK_MAX_TURNS].max)
                return pod_error_set(err, -EINVAL, "depth %u is too deep", in->depth);
        return 0;
}

static int assemble(json_t *m, resolve_ctx *c, const char *name) {
        json_t *model = NULL, *scope = NULL;
        const char *instruction = c->in->instruction ? c->in->instruction : c->p->body;
        int r;

        json_object_set_new(m, "version", json_integer(POD_MANIFEST_VERSION));
        json_object_set_new(m, "pod", pod_json(c, name));
        json_object_set_new(m, "profile", profile_json(c));
        r = model_json(&model, c);
        if (r < 0)
                return r;
        json_object_set_new(m, "model", model);
        json_object_set_new(m, "instruction", json_string(instruction ? instruction : ""));
        if (c->in->instruction)
                explain_set(c, "instruction", "runtime (instruction override)");
        else
                explain_key(c, PK_BODY);
        json_object_set_new(m, "tools",
                            c->p->tools ? strv_to_json(c->p->tools) :
                                          strv_to_json((char *const *) pod_tool_names));
        explain_key(c, PK_TOOLS);
        json_object_set_new(m, "skills", skills_json(c->p));
        explain_key(c, PK_SKILLS);
        json_object_set_new(m, "network", json_string(network_to_string(c->p->network)));
        explain_key(c, PK_NETWORK);
        json_object_set_new(m, "limits", limits_json(c));
        json_object_set_new(m, "budget", budget_json(c));
        json_object_set_new(m, "price", price_json(c));
        r = scope_json(&scope, c);
        if (r < 0)
                return r;
        json_object_set_new(m, "scope", scope);
        json_object_set_new(m, "prompts", json_object());
        json_object_set_new(m, "agents_md", json_null());
        /* The resolving caller replaces this with its own set's snapshot. */
        json_object_set_new(m, "profiles",
                            json_pack("{s:n, s:s, s:n, s:[], s:[], s:[]}", "default",
                                      "default_error",
                                      "no profile registry was resolved into "
                                      "this manifest",
                                      "project_dir", "profiles", "broken", "diagnostics"));
        json_object_set_new(m, "sandbox", json_string(c->in->sandbox_off ? "off" : "on"));
        explain_set(c, "sandbox",
                    c->in->sandbox_off ? "runtime (POD_SANDBOX=off)" : "base default");
        return 0;
}

int manifest_resolve(json_t **out,
                     json_t **ret_explain,
                     const pod_profile *p,
                     const manifest_inputs *in,
                     pod_error *err) {
        json_auto_t *m = json_object(), *explain = ret_explain ? json_object() : NULL;
        resolve_ctx c = { .p = p, .mp = p, .in = in, .explain = explain, .err = err };
        const char *name = in->name ? in->name : p->slug;
        int r;

        if (!m || (ret_explain && !explain))
                return pod_error_oom(err);
        r = check_inputs(in, name, err);
        if (r >= 0)
                r = assemble(m, &c, name);
        model_spec_done(&c.spec);
        if (r < 0)
                return r;
        r = manifest_validate(m, err);
        if (r < 0)
                return pod_error_prefix(err, "internal: resolved manifest is invalid: ");
        *out = json_incref(m);
        if (ret_explain)
                *ret_explain = json_incref(explain);
        return 0;
}

/* ---- the operator's budget ------------------------------------------------------------- */

static int budget_count(json_t *budget,
                        const char *key,
                        const char *arg,
                        const char *opt,
                        long long max,
                        pod_error *err) {
        long long n;

        if (!arg)
                return 0;
        errno = 0;
        n = strspn(arg, "0123456789") == strlen(arg) && strlen(arg) <= 15 ? strtoll(arg, NULL, 10) :
                                                                            -1;
        if (n < 1 || n > max)
                return pod_error_set(err, -EINVAL, "%s %s: give a whole number from 1 to %lld", opt,
                                     arg, max);
        return json_object_set_new(budget, key, json_integer(n)) < 0 ? pod_error_oom(err) : 0;
}

int manifest_set_budget(json_t *m, const manifest_budget_args *a, pod_error *err) {
        json_t *b = json_object_get(m, "budget"), *limits = json_object_get(m, "limits");
        const json_t *v;
        char *end = NULL;
        double usd = 0;
        int r;

        if (!a->tokens && !a->usd && !a->turns && !a->seconds)
                return 0;
        if (!json_is_object(b) || !json_is_object(limits))
                return pod_error_set(err, -EINVAL, "the manifest has no budget to set");
        r = budget_count(b, "tokens", a->tokens, "--budget-tokens", POD_BUDGET_TOKENS_MAX, err);
        if (r >= 0)
                r = budget_count(b, "turns", a->turns, "--max-turns",
                                 profile_limits[PK_MAX_TURNS - PK_MAX_TURNS].max, err);
        if (r >= 0)
                r = budget_count(b, "seconds", a->seconds, "--timeout-s",
                                 profile_limits[PK_TIMEOUT_S - PK_MAX_TURNS].max, err);
        if (r < 0)
                return r;
        if (a->usd) {
                errno = 0;
                usd = strtod(a->usd, &end);
                if (errno || end == a->usd || *end || !(usd > 0) || usd > POD_BUDGET_USD_MAX)
                        return pod_error_set(
                                err, -EINVAL,
                                "--budget-usd %s: give a number above 0 and at most %g", a->usd,
                                POD_BUDGET_USD_MAX);
                json_object_set_new(b, "cost_usd", json_real(usd));
        }
        /* A task's own ceilings rise with a larger budget: the operator's word is the last. */
        if ((v = json_object_get(b, "turns")) && a->turns &&
            json_integer_value(v) > json_integer_value(json_object_get(limits, "max_turns")))
                json_object_set(limits, "max_turns", (json_t *) v);
        if ((v = json_object_get(b, "seconds")) && a->seconds &&
            json_integer_value(v) > json_integer_value(json_object_get(limits, "timeout_s")))
                json_object_set(limits, "timeout_s", (json_t *) v);
        return manifest_validate(m, err);
}

/* ---- inherit --------------------------------------------------------------------------- */

static int inherit_scope(json_t *child,
                         const manifest_view *parent,
                         const manifest_inputs *in,
                         pod_error *err) {
        pod_scope empty = { 0 };
        json_t *j = scope_to_json(in->scope ? in->scope : &empty);

        if (!j)
                return pod_error_oom(err);
        json_object_set_new(j, "ceiling", json_string(access_to_string(parent->ceiling)));
        json_object_set_new(child, "scope", j);
        return 0;
}

int manifest_inherit(json_t **out,
                     const json_t *parent,
                     const manifest_inputs *in,
                     pod_error *err) {
        static const char *const reusable[] = { "model",   "instruction", "tools",    "skills",
                                                "network", "limits",      "budget",   "price",
                                                "prompts", "agents_md",   "profiles", "sandbox" };
        _cleanup_(manifest_view_freep) manifest_view *pv = NULL;
        json_auto_t *m = NULL;
        json_t *profile;
        int r;

        r = manifest_view_new(&pv, parent, err);
        if (r < 0)
                return pod_error_prefix(err, "inherit: the parent manifest is invalid: ");
        if (!in->name || (r = check_inputs(in, in->name, err)) < 0)
                return in->name ? r : pod_error_set(err, -EINVAL, "inherit needs a pod name");
        m = json_object();
        if (!m)
                return pod_error_oom(err);
        json_object_set_new(m, "version", json_integer(POD_MANIFEST_VERSION));
        for (size_t i = 0; i < POD_ARRAY_SIZE(reusable); i++)
                json_object_set_new(m, reusable[i],
                                    json_deep_copy(json_object_get(parent, reusable[i])));
        profile = json_deep_copy(json_object_get(parent, "profile"));
        json_object_set_new(profile, "selector", json_string("inherit"));
        json_object_set_new(m, "profile", profile);
        json_object_set_new(m, "pod",
                            json_pack("{s:s, s:s, s:I, s:s}", "name", in->name, "cwd", in->cwd,
                                      "depth", (json_int_t) pv->depth + 1, "parent", pv->name));
        if (in->instruction)
                json_object_set_new(m, "instruction", json_string(in->instruction));
        r = inherit_scope(m, pv, in, err);
        if (r < 0)
                return r;
        r = manifest_validate(m, err);
        if (r < 0)
                return pod_error_prefix(err, "inherit: ");
        *out = json_incref(m);
        return 0;
}
