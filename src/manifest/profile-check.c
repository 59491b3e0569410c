/* SPDX-License-Identifier: MIT */
/*
 * The rules that make a parsed profile complete: its own keys' consistency, `extends`
 * (one level; the child's keys win), and finalisation (a model is required; the legacy
 * `executor` key; endpoint and key variable agree with the provider). A profile that passes
 * here resolves into a manifest without surprises.
 */
#include <string.h>

#include "manifest-internal.h"

static int at(pod_error *err, const pod_profile *p, profile_key k) {
        return pod_error_prefix(err, "%s:%u: %s: ", p->file, p->origin[k].line,
                                profile_keys[k].key);
}

int profile_check_own(pod_profile *p, pod_error *err) {
        pod_selector sel;
        model_spec spec;
        int r;

        if (p->name && strcmp(p->name, p->slug) != 0)
                return pod_error_set(err, -EINVAL,
                                     "%s:%u: name '%s' differs from the file name '%s.md'; they "
                                     "must match",
                                     p->file, p->origin[PK_NAME].line, p->name, p->slug);
        if (p->model && strchr(p->model, ':')) {
                r = model_spec_parse(&spec, p->model, err);
                if (r < 0)
                        return at(err, p, PK_MODEL);
                model_spec_done(&spec);
        }
        if (p->api_key_env && !env_name_valid(p->api_key_env))
                return pod_error_set(err, -EINVAL,
                                     "%s:%u: api_key_env: '%s' is not an environment variable "
                                     "name; name the variable that holds the key, never the key",
                                     p->file, p->origin[PK_API_KEY_ENV].line, p->api_key_env);
        if (p->extends) {
                r = selector_parse(&sel, p->extends, SEL_CONTEXT_EXTENDS, err);
                if (r < 0)
                        return at(err, p, PK_EXTENDS);
                selector_done(&sel);
        }
        return 0;
}

static int push_warning(pod_profile *p, pod_error *err, const char *fmt, ...) _printf_(3, 4);
static int push_warning(pod_profile *p, pod_error *err, const char *fmt, ...) {
        char line[POD_ERROR_MAX];
        va_list ap;

        va_start(ap, fmt);
        vsnprintf(line, sizeof(line), fmt, ap);
        va_end(ap);
        if (strv_push(&p->warnings, line) < 0)
                return pod_error_oom(err);
        return 0;
}

/* Legacy `executor:` named the provider while `model:` was bare. */
static int apply_executor(pod_profile *p, pod_error *err) {
        pod_buf b = { 0 };

        if (!p->executor)
                return 0;
        if (strchr(p->model, ':'))
                return push_warning(p, err,
                                    "%s:%u: executor: is deprecated and ignored here: model '%s' "
                                    "already names its provider",
                                    p->file, p->origin[PK_EXECUTOR].line, p->model);
        if (!model_provider_lookup(p->executor))
                return pod_error_set(err, -EINVAL,
                                     "%s:%u: executor: '%s' is not a provider (known: %s); "
                                     "write model: provider:name instead",
                                     p->file, p->origin[PK_EXECUTOR].line, p->executor,
                                     model_prefix_list());
        buf_printf(&b, "%s:%s", p->executor, p->model);
        if (b.oom)
                return pod_error_oom(err);
        free(p->model);
        p->model = buf_steal(&b);
        return push_warning(p, err, "%s:%u: executor: is deprecated; write model: %s instead",
                            p->file, p->origin[PK_EXECUTOR].line, p->model);
}

static int check_endpoint(pod_profile *p, const model_provider *prov, pod_error *err) {
        char *norm;
        int r;

        if (!p->endpoint) {
                if (prov->takes_endpoint && !prov->default_endpoint && !prov->endpoint_optional)
                        return pod_error_set(err, -EINVAL,
                                             "%s: model '%s' needs an endpoint: (provider '%s' "
                                             "has no default)",
                                             p->file, p->model, prov->prefix);
                return 0;
        }
        r = model_endpoint_normalize(&norm, prov, p->endpoint, err);
        if (r < 0)
                return at(err, p, PK_ENDPOINT);
        free(p->endpoint);
        p->endpoint = norm;
        return 0;
}

int profile_finalize(pod_profile *p, pod_error *err) {
        model_spec spec;
        int r;

        if (!p->model) {
                /* No model: the pod runs its spawner's (a top-level pod the default
                 * profile's), endpoint and key variable included (DESIGN §4). */
                profile_key k = p->endpoint ? PK_ENDPOINT :
                        p->api_key_env      ? PK_API_KEY_ENV :
                                              PK_EXECUTOR;
                if (!p->endpoint && !p->api_key_env && !p->executor)
                        return 0;
                return pod_error_set(err, -EINVAL,
                                     "%s:%u: %s: belongs to a model, and this profile names none "
                                     "(it runs its spawner's model); set model: provider:name "
                                     "(%s) too",
                                     p->file, p->origin[k].line, profile_keys[k].key,
                                     model_prefix_list());
        }
        r = apply_executor(p, err);
        if (r < 0)
                return r;
        r = model_spec_parse(&spec, p->model, err);
        if (r < 0)
                return at(err, p, PK_MODEL);
        r = check_endpoint(p, spec.provider, err);
        if (r >= 0 && p->api_key_env && !spec.provider->takes_endpoint)
                r = pod_error_set(err, -EINVAL,
                                  "%s:%u: api_key_env: provider '%s' uses no API key variable",
                                  p->file, p->origin[PK_API_KEY_ENV].line, spec.provider->prefix);
        model_spec_done(&spec);
        return r;
}

/* ---- extends --------------------------------------------------------------------------- */

static int copy_str(char **dst, const char *src) {
        if (!src)
                return 0;
        *dst = strdup(src);
        return *dst ? 0 : -ENOMEM;
}

static int copy_value(pod_profile *p, const pod_profile *b, profile_key k) {
        switch (k) {
        case PK_DESCRIPTION:
                return copy_str(&p->description, b->description);
        case PK_MODEL:
                return copy_str(&p->model, b->model);
        case PK_ENDPOINT:
                return copy_str(&p->endpoint, b->endpoint);
        case PK_API_KEY_ENV:
                return copy_str(&p->api_key_env, b->api_key_env);
        case PK_BODY:
                free(p->body);
                p->body = NULL;
                return copy_str(&p->body, b->body);
        case PK_REASONING:
                p->reasoning = b->reasoning;
                return 0;
        case PK_SCOPE:
                p->scope = b->scope;
                return 0;
        case PK_NETWORK:
                p->network = b->network;
                return 0;
        case PK_TOOLS:
                return (p->tools = strv_copy(b->tools)) ? 0 : -ENOMEM;
        case PK_SKILLS:
                return (p->skills = strv_copy(b->skills)) ? 0 : -ENOMEM;
        case PK_MAX_TURNS:
        case PK_MAX_DEPTH:
        case PK_MAX_CHILDREN:
        case PK_TIMEOUT_S:
        case PK_MAX_TOKENS:
        case PK_BUDGET_TOKENS:
                p->limits[k - PK_MAX_TURNS] = b->limits[k - PK_MAX_TURNS];
                return 0;
        case PK_BUDGET_COST_USD:
                p->budget_cost_usd = b->budget_cost_usd;
                return 0;
        case PK_PRICE:
                memcpy(p->price, b->price, sizeof(p->price));
                return 0;
        default: /* name, extends and executor belong to one file only */
                return 0;
        }
}

int profile_apply_base(pod_profile *p,
                       const pod_profile *base,
                       const char *base_selector,
                       pod_error *err) {
        p->base_selector = strdup(base_selector);
        p->base_file = strdup(base->file);
        if (!p->base_selector || !p->base_file)
                return pod_error_oom(err);
        memcpy(p->base_sha256, base->sha256, sizeof(p->base_sha256));
        for (int k = 0; k < PK__MAX; k++) {
                if (p->set[k] || !base->set[k] || k == PK_NAME || k == PK_EXTENDS ||
                    k == PK_EXECUTOR)
                        continue;
                if (copy_value(p, base, (profile_key) k) < 0)
                        return pod_error_oom(err);
                p->set[k] = true;
                p->origin[k] =
                        (profile_origin){ .file = p->base_file, .line = base->origin[k].line };
        }
        return profile_finalize(p, err);
}
