/* SPDX-License-Identifier: MIT */
/*
 * Validation of a manifest a pod is handed (DESIGN §6). The manifest arrives from another
 * process and is treated as hostile: size-limited, no duplicate or unknown keys, every
 * field typed and ranged, the model spec consistent with its handler and endpoint, and the
 * scope absolute, canonical and under its ceiling. A manifest that fails is refused whole.
 * Validation builds the typed view (manifest_view) as it goes, so what was checked is what
 * the code reads: no module looks a field up by its key again.
 */
#include <string.h>

#include "manifest-internal.h"

static int bad(pod_error *err, const char *field, const char *fmt, ...) _printf_(3, 4);
static int bad(pod_error *err, const char *field, const char *fmt, ...) {
        char what[POD_ERROR_MAX];
        va_list ap;

        va_start(ap, fmt);
        vsnprintf(what, sizeof(what), fmt, ap);
        va_end(ap);
        return pod_error_set(err, -EINVAL, "manifest: %s: %s", field, what);
}

static int unpack(pod_error *err, const char *field, const json_t *j, const char *fmt, ...) {
        json_error_t jerr;
        va_list ap;
        int r;

        va_start(ap, fmt);
        r = json_vunpack_ex((json_t *) j, &jerr, JSON_STRICT, fmt, ap);
        va_end(ap);
        if (r < 0)
                return bad(err, field, "%s", jerr.text);
        return 0;
}

static bool is_hex64(const char *s) {
        return strlen(s) == SHA256_HEX_LEN && strspn(s, "0123456789abcdef") == SHA256_HEX_LEN;
}

static bool opt_string(const json_t *j) {
        return json_is_null(j) || json_is_string(j);
}

static int check_pod(manifest_view *v, const json_t *m, pod_error *err) {
        const char *name, *cwd;
        json_int_t depth;
        json_t *parent;
        int r;

        r = unpack(err, "pod", json_object_get(m, "pod"), "{s:s, s:s, s:I, s:o}", "name", &name,
                   "cwd", &cwd, "depth", &depth, "parent", &parent);
        if (r < 0)
                return r;
        if (!slug_valid(name))
                return bad(err, "pod.name", "'%s' is not a valid pod name", name);
        if (cwd[0] != '/')
                return bad(err, "pod.cwd", "must be an absolute path");
        if (depth < 0 || depth > profile_limits[PK_MAX_DEPTH - PK_MAX_TURNS].max)
                return bad(err, "pod.depth", "%lld is out of range", (long long) depth);
        if (!json_is_null(parent) &&
            !(json_is_string(parent) && slug_valid(json_string_value(parent))))
                return bad(err, "pod.parent", "must be null or a pod name");
        if ((depth == 0) != json_is_null(parent))
                return bad(err, "pod.parent",
                           "a pod has a parent exactly when its depth is above 0");
        v->name = strdup(name);
        v->cwd = strdup(cwd);
        v->parent = json_is_null(parent) ? NULL : strdup(json_string_value(parent));
        v->depth = (unsigned) depth;
        if (!v->name || !v->cwd || (!json_is_null(parent) && !v->parent))
                return pod_error_set(err, -ENOMEM, "out of memory");
        return 0;
}

static int source_from_string(profile_source *out, const char *s) {
        static const profile_source all[] = { POD_SOURCE_BUILTIN, POD_SOURCE_USER,
                                              POD_SOURCE_PROJECT, POD_SOURCE_PATH };

        for (size_t i = 0; i < POD_ARRAY_SIZE(all); i++)
                if (strcmp(s, source_to_string(all[i])) == 0) {
                        *out = all[i];
                        return 0;
                }
        return -EINVAL;
}

static int check_profile(manifest_view *v, const json_t *m, pod_error *err) {
        const char *selector, *source, *slug, *file, *sha;
        json_t *desc, *ext;
        int r;

        r = unpack(err, "profile", json_object_get(m, "profile"),
                   "{s:s, s:s, s:s, s:s, s:s, s:o, s:o}", "selector", &selector, "source", &source,
                   "slug", &slug, "file", &file, "sha256", &sha, "description", &desc, "extends",
                   &ext);
        if (r < 0)
                return r;
        if (source_from_string(&v->source, source) < 0)
                return bad(err, "profile.source", "'%s' is not a source", source);
        if (!is_hex64(sha))
                return bad(err, "profile.sha256", "not a sha256 digest");
        if (strlen(selector) > POD_SELECTOR_MAX || !opt_string(desc))
                return bad(err, "profile", "selector or description has the wrong shape");
        if (!json_is_null(ext)) {
                const char *es, *ef, *eh;
                r = unpack(err, "profile.extends", ext, "{s:s, s:s, s:s}", "selector", &es, "file",
                           &ef, "sha256", &eh);
                if (r < 0)
                        return r;
                if (!is_hex64(eh))
                        return bad(err, "profile.extends.sha256", "not a sha256 digest");
        }
        v->selector = strdup(selector);
        v->profile_file = strdup(file);
        v->profile_sha256 = strdup(sha);
        if (!v->selector || !v->profile_file || !v->profile_sha256)
                return pod_error_set(err, -ENOMEM, "out of memory");
        return 0;
}

static int check_model_endpoint(manifest_model *mm, const json_t *endpoint, pod_error *err) {
        const model_provider *prov = mm->provider;
        _cleanup_free_ char *norm = NULL;
        const char *url = json_string_value(endpoint);
        int r;

        if (!prov->takes_endpoint)
                return json_is_null(endpoint) ?
                        0 :
                        bad(err, "model.endpoint", "provider '%s' takes no endpoint", prov->prefix);
        if (!url && json_is_null(endpoint) && prov->endpoint_optional)
                return 0;
        if (!url)
                return bad(err, "model.endpoint", "provider '%s' needs an endpoint", prov->prefix);
        r = model_endpoint_normalize(&norm, prov, url, err);
        if (r < 0)
                return pod_error_prefix(err, "manifest: model.endpoint: ");
        if (strcmp(norm, url) != 0)
                return bad(err, "model.endpoint", "'%s' is not normalised", norm);
        r = endpoint_parse(&mm->endpoint, url, err);
        if (r < 0)
                return pod_error_prefix(err, "manifest: model.endpoint: ");
        mm->endpoint_url = TAKE_PTR(norm);
        return 0;
}

static int check_script(
        manifest_model *mm, json_t *script, const json_t *file, const json_t *sha, pod_error *err) {
        int r;

        if (mm->handler != POD_HANDLER_SCRIPT)
                return script || file || sha ?
                        bad(err, "model.script", "only a script: model carries a script") :
                        0;
        if (!script || !json_is_string(file) || !json_is_string(sha) ||
            !is_hex64(json_string_value(sha)))
                return bad(err, "model.script",
                           "a script: model carries script, script_file and "
                           "script_sha256");
        r = script_validate(script, "manifest: model.script", err);
        if (r < 0)
                return r;
        mm->script = json_incref(script);
        return 0;
}

/* The spec's own parts; then provider, name and handler must agree with it. */
static int check_model_spec(manifest_model *mm,
                            const char *spec_text,
                            const char *provider,
                            const char *name,
                            const char *handler,
                            pod_error *err) {
        model_spec spec;
        int r;

        r = model_spec_parse(&spec, spec_text, err);
        if (r < 0)
                return pod_error_prefix(err, "manifest: model.spec: ");
        if (strcmp(provider, spec.provider->prefix) || strcmp(name, spec.name) ||
            strcmp(handler, handler_to_string(spec.provider->handler))) {
                model_spec_done(&spec);
                return bad(err, "model", "provider, name and handler must agree with spec '%s'",
                           spec_text);
        }
        mm->provider = spec.provider;
        mm->handler = spec.provider->handler;
        mm->name = TAKE_PTR(spec.name);
        mm->spec = strdup(spec_text);
        return mm->spec ? 0 : pod_error_set(err, -ENOMEM, "out of memory");
}

static int check_model_key(manifest_model *mm,
                           const json_t *key_env,
                           const json_t *reasoning,
                           pod_error *err) {
        if (!json_is_null(key_env) &&
            !(json_is_string(key_env) && env_name_valid(json_string_value(key_env))))
                return bad(err, "model.api_key_env", "must be null or a variable name");
        if (!json_is_null(reasoning) &&
            !(json_is_string(reasoning) &&
              reasoning_from_string(&mm->reasoning, json_string_value(reasoning)) >= 0))
                return bad(err, "model.reasoning", "must be null, low, medium or high");
        if (json_is_string(key_env) && !(mm->key_env = strdup(json_string_value(key_env))))
                return pod_error_set(err, -ENOMEM, "out of memory");
        return 0;
}

/* Where the model came from: "profile", "runtime", "default:<selector>", "spawner:<pod>". */
static int check_model_origin(const char *origin, pod_error *err) {
        if (!origin || strcmp(origin, "profile") == 0 || strcmp(origin, "runtime") == 0)
                return 0;
        if ((str_startswith(origin, "default:") || str_startswith(origin, "spawner:")) &&
            strlen(origin) <= POD_SELECTOR_MAX && utf8_valid(origin, strlen(origin)))
                return 0;
        return bad(err, "model.origin",
                   "must be profile, runtime, default:SELECTOR or spawner:POD");
}

static int check_model(manifest_view *v, const json_t *m, pod_error *err) {
        const char *spec_text, *provider, *name, *handler, *origin = NULL;
        json_t *endpoint, *key_env, *reasoning, *script = NULL, *file = NULL, *sha = NULL;
        manifest_model *mm = &v->model;
        int r;

        r = unpack(err, "model", json_object_get(m, "model"),
                   "{s:s, s:s, s:s, s:s, s:o, s:o, s:o, s?o, s?o, s?o, s?s}", "spec", &spec_text,
                   "provider", &provider, "name", &name, "handler", &handler, "endpoint", &endpoint,
                   "api_key_env", &key_env, "reasoning", &reasoning, "script", &script,
                   "script_file", &file, "script_sha256", &sha, "origin", &origin);
        if (r >= 0)
                r = check_model_origin(origin, err);
        if (r >= 0)
                r = check_model_spec(mm, spec_text, provider, name, handler, err);
        if (r >= 0)
                r = check_model_endpoint(mm, endpoint, err);
        if (r >= 0)
                r = check_model_key(mm, key_env, reasoning, err);
        if (r >= 0)
                r = check_script(mm, script, file, sha, err);
        return r;
}

static int check_tools(manifest_view *v, const json_t *a, pod_error *err) {
        _cleanup_strv_free_ char **tools = NULL;
        size_t i;
        json_t *t;

        if (!json_is_array(a) || json_array_size(a) > POD_PROFILE_LIST_MAX)
                return bad(err, "tools", "must be an array of at most %u entries",
                           POD_PROFILE_LIST_MAX);
        tools = calloc(1, sizeof(char *));
        if (!tools)
                return pod_error_set(err, -ENOMEM, "out of memory");
        json_array_foreach(a, i, t) {
                const char *s = json_string_value(t);
                if (!s || !strv_contains((char *const *) pod_tool_names, s))
                        return bad(err, "tools", "entry %zu is not a tool name", i);
                if (strv_push(&tools, s) < 0)
                        return pod_error_set(err, -ENOMEM, "out of memory");
        }
        v->tools = TAKE_PTR(tools);
        return 0;
}

static int check_skills(const json_t *a, pod_error *err) {
        size_t i;
        json_t *v;

        if (!json_is_array(a) || json_array_size(a) > POD_PROFILE_LIST_MAX)
                return bad(err, "skills", "must be an array of at most %u entries",
                           POD_PROFILE_LIST_MAX);
        json_array_foreach(a, i, v) {
                const char *s = NULL, *path = NULL, *sha = NULL, *body = NULL, *desc = NULL;
                if (unpack(err, "skills", v, "{s:s, s?s, s?s, s?s, s?s}", "name", &s, "path", &path,
                           "sha256", &sha, "description", &desc, "body", &body) < 0)
                        return err ? err->code : -EINVAL;
                if (!slug_valid(s))
                        return bad(err, "skills", "entry %zu has an invalid name", i);
                if (sha && !is_hex64(sha))
                        return bad(err, "skills", "entry %zu has an invalid sha256", i);
        }
        return 0;
}

/* price {input_per_mtok, output_per_mtok, cached_input_per_mtok} or null/absent: none. */
static int check_price(manifest_view *v, const json_t *p, pod_error *err) {
        double x[3];
        int r;

        if (!p || json_is_null(p))
                return 0;
        r = unpack(err, "price", p, "{s:F, s:F, s:F}", "input_per_mtok", &x[0], "output_per_mtok",
                   &x[1], "cached_input_per_mtok", &x[2]);
        if (r < 0)
                return r;
        for (int i = 0; i < 3; i++)
                if (!(x[i] >= 0) || x[i] > POD_PRICE_MAX)
                        return bad(err, "price",
                                   "each price must be from 0 to %g USD per million "
                                   "tokens",
                                   POD_PRICE_MAX);
        v->price = (manifest_price){
                .set = true, .input = x[0], .output = x[1], .cached_input = x[2]
        };
        return 0;
}

static int check_limits(manifest_view *v, const json_t *l, pod_error *err) {
        int64_t value[POD_LIMITS_COUNT];

        /* budget_tokens may be left out (0: no token budget), as manifests before it did. */
        bool bare = json_is_object(l) && !json_object_get(l, "budget_tokens");

        if (!json_is_object(l) || json_object_size(l) != POD_LIMITS_COUNT - (size_t) bare)
                return bad(err, "limits", "must hold exactly the %d limits", POD_LIMITS_COUNT);
        for (unsigned i = 0; i < POD_LIMITS_COUNT; i++) {
                const profile_limit_info *li = &profile_limits[i];
                json_t *j = json_object_get(l, li->name);
                if (!j && bare && i == PK_BUDGET_TOKENS - PK_MAX_TURNS) {
                        value[i] = 0;
                        continue;
                }
                if (!json_is_integer(j) || json_integer_value(j) < li->min ||
                    json_integer_value(j) > li->max)
                        return bad(err, "limits", "%s must be a whole number from %lld to %lld",
                                   li->name, (long long) li->min, (long long) li->max);
                value[i] = json_integer_value(j);
        }
        /* profile_limits' order; each value is within its range, so the narrowing is exact. */
        v->limits = (manifest_limits){ .max_turns = (unsigned) value[0],
                                       .max_depth = (unsigned) value[1],
                                       .max_children = (unsigned) value[2],
                                       .timeout_s = value[3],
                                       .max_tokens = value[4],
                                       .budget_tokens = value[5] };
        return 0;
}

/* A positive whole number up to max, or (when may_be_null) null: none. */
static int budget_part(uint64_t *out,
                       bool *ret_has,
                       const json_t *j,
                       const char *what,
                       long long max,
                       pod_error *err) {
        if (json_is_null(j) && ret_has) {
                *ret_has = false;
                return 0;
        }
        if (!json_is_integer(j) || json_integer_value(j) < 1 || json_integer_value(j) > max)
                return bad(err, "budget", "%s must be a whole number from 1 to %lld%s", what, max,
                           ret_has ? ", or null" : "");
        *out = (uint64_t) json_integer_value(j);
        if (ret_has)
                *ret_has = true;
        return 0;
}

/* budget {tokens, turns, seconds, cost_usd} (DESIGN §18); absent: the limits' own. */
static int check_budget(manifest_view *v, const json_t *b, const json_t *price, pod_error *err) {
        json_t *tokens, *turns, *seconds, *cost;
        manifest_budget mb = { 0 };
        int r;

        if (!b) {
                v->budget = (manifest_budget){ .has_tokens = v->limits.budget_tokens > 0,
                                               .tokens = (uint64_t) v->limits.budget_tokens,
                                               .turns = v->limits.max_turns,
                                               .seconds = (uint64_t) v->limits.timeout_s };
                return check_price(v, price, err);
        }
        r = unpack(err, "budget", b, "{s:o, s:o, s:o, s:o}", "tokens", &tokens, "turns", &turns,
                   "seconds", &seconds, "cost_usd", &cost);
        if (r >= 0)
                r = budget_part(&mb.tokens, &mb.has_tokens, tokens, "tokens", POD_BUDGET_TOKENS_MAX,
                                err);
        if (r >= 0)
                r = budget_part(&mb.turns, NULL, turns, "turns",
                                profile_limits[PK_MAX_TURNS - PK_MAX_TURNS].max, err);
        if (r >= 0)
                r = budget_part(&mb.seconds, NULL, seconds, "seconds",
                                profile_limits[PK_TIMEOUT_S - PK_MAX_TURNS].max, err);
        if (r < 0)
                return r;
        if (!json_is_null(cost) &&
            (!json_is_number(cost) || !(json_number_value(cost) > 0) ||
             json_number_value(cost) > POD_BUDGET_USD_MAX))
                return bad(err, "budget",
                           "cost_usd must be a number above 0 and at most %g, or "
                           "null",
                           POD_BUDGET_USD_MAX);
        mb.has_cost = !json_is_null(cost);
        mb.cost_usd = mb.has_cost ? json_number_value(cost) : 0;
        v->budget = mb;
        return check_price(v, price, err);
}

int manifest_scope(pod_scope *out, const json_t *m, pod_error *err) {
        json_t *copy = json_copy(json_object_get(m, "scope"));
        int r;

        if (!json_is_object(copy)) {
                json_decref(copy);
                return bad(err, "scope", "must be an object");
        }
        json_object_del(copy, "ceiling");
        r = scope_from_json(out, copy, "manifest", err);
        json_decref(copy);
        return r;
}

static int check_scope(manifest_view *v, const json_t *m, pod_error *err) {
        json_t *j = json_object_get(m, "scope");
        const char *ceiling;
        pod_access cap;
        pod_scope s = { 0 };
        int r = 0;

        if (!json_is_object(j) || !json_is_string(json_object_get(j, "ceiling")))
                return bad(err, "scope", "must be an object with a ceiling");
        ceiling = json_string_value(json_object_get(j, "ceiling"));
        if (access_from_string(&cap, ceiling) < 0)
                return bad(err, "scope.ceiling", "'%s' is not write, read or none", ceiling);
        r = manifest_scope(&s, m, err);
        for (size_t i = 0; r >= 0 && i < s.n_allow; i++)
                if (s.allow[i].access > cap)
                        r = bad(err, "scope", "rule %s:%s exceeds the ceiling '%s'",
                                access_to_string(s.allow[i].access), s.allow[i].path, ceiling);
        if (r < 0) {
                scope_done(&s);
                return r;
        }
        v->scope = s;
        v->scope_json = json_incref(j);
        v->ceiling = cap;
        return 0;
}

/* Inlined text: {file|path, sha256, text, ...}; the text bounded. */
static int check_inlined(const json_t *j, const char *field, const char *path_key, pod_error *err) {
        const char *path, *sha, *text;
        int truncated = 0;

        if (strcmp(path_key, "path") == 0) {
                if (unpack(err, field, j, "{s:s, s:s, s:s, s:b}", "path", &path, "sha256", &sha,
                           "text", &text, "truncated", &truncated) < 0)
                        return err ? err->code : -EINVAL;
        } else if (unpack(err, field, j, "{s:s, s:s, s:s}", "file", &path, "sha256", &sha, "text",
                          &text) < 0)
                return err ? err->code : -EINVAL;
        if (!is_hex64(sha))
                return bad(err, field, "not a sha256 digest");
        if (strlen(text) > POD_INSTRUCTION_MAX_BYTES)
                return bad(err, field, "text is over %u bytes", POD_INSTRUCTION_MAX_BYTES);
        return 0;
}

static int check_prompts(const json_t *prompts, const json_t *agents, pod_error *err) {
        const char *key;
        json_t *v;
        int r;

        if (!json_is_object(prompts) || json_object_size(prompts) > 64)
                return bad(err, "prompts", "must be an object of at most 64 overrides");
        json_object_foreach((json_t *) prompts, key, v) {
                r = check_inlined(v, "prompts", "file", err);
                if (r < 0)
                        return r;
        }
        return json_is_null(agents) ? 0 : check_inlined(agents, "agents_md", "path", err);
}

/* The members the view hands on as JSON, held by reference. */
static void hold_json(manifest_view *v,
                      json_t *instr,
                      json_t *skills,
                      json_t *prompts,
                      json_t *agents,
                      json_t *profiles) {
        v->instruction = json_incref(instr);
        v->skills = json_incref(skills);
        v->prompts = json_incref(prompts);
        v->agents_md = json_incref(agents);
        v->profiles = json_incref(profiles);
}

static int check_top(manifest_view *v, const json_t *m, pod_error *err) {
        json_t *instr, *tools, *skills, *limits, *prompts, *scope, *model, *pod, *profile, *agents;
        json_t *profiles, *budget = NULL, *price = NULL;
        const char *network, *sandbox;
        json_int_t version;
        int r;

        r = unpack(err, "(top level)", m,
                   "{s:I, s:o, s:o, s:o, s:o, s:o, s:o, s:s, s:o, s?o, s?o, s:o, s:o, s:o, s:o, "
                   "s:s}",
                   "version", &version, "pod", &pod, "profile", &profile, "model", &model,
                   "instruction", &instr, "tools", &tools, "skills", &skills, "network", &network,
                   "limits", &limits, "budget", &budget, "price", &price, "scope", &scope,
                   "prompts", &prompts, "agents_md", &agents, "profiles", &profiles, "sandbox",
                   &sandbox);
        if (r < 0)
                return r;
        if (version != POD_MANIFEST_VERSION)
                return bad(err, "version", "%lld is not supported (this pod reads version %d)",
                           (long long) version, POD_MANIFEST_VERSION);
        if (!json_is_string(instr) || json_string_length(instr) > POD_INSTRUCTION_MAX_BYTES)
                return bad(err, "instruction", "must be a string of at most %u bytes",
                           POD_INSTRUCTION_MAX_BYTES);
        if (network_from_string(&v->network, network) < 0)
                return bad(err, "network", "'%s' is not model-only, none or full", network);
        if (strcmp(sandbox, "on") && strcmp(sandbox, "off"))
                return bad(err, "sandbox", "must be on or off");
        v->sandboxed = strcmp(sandbox, "off") != 0;
        r = check_prompts(prompts, agents, err);
        if (r >= 0)
                r = profile_snapshot_validate(profiles, err);
        if (r >= 0)
                r = check_tools(v, tools, err);
        if (r >= 0)
                r = check_skills(skills, err);
        if (r >= 0)
                r = check_limits(v, limits, err);
        if (r >= 0)
                r = check_budget(v, budget, price, err);
        if (r >= 0)
                hold_json(v, instr, skills, prompts, agents, profiles);
        return r;
}

int manifest_view_new(manifest_view **out, const json_t *m, pod_error *err) {
        _cleanup_(manifest_view_freep) manifest_view *v = NULL;
        int r;

        if (!json_is_object(m))
                return bad(err, "(top level)", "must be a JSON object");
        v = calloc(1, sizeof(*v));
        if (!v)
                return pod_error_set(err, -ENOMEM, "out of memory");
        r = check_top(v, m, err);
        if (r >= 0)
                r = check_pod(v, m, err);
        if (r >= 0)
                r = check_profile(v, m, err);
        if (r >= 0)
                r = check_model(v, m, err);
        if (r >= 0)
                r = check_scope(v, m, err);
        if (r < 0)
                return r;
        *out = TAKE_PTR(v);
        return 0;
}

manifest_view *manifest_view_free(manifest_view *v) {
        if (!v)
                return NULL;
        free(v->name);
        free(v->cwd);
        free(v->parent);
        free(v->selector);
        free(v->profile_file);
        free(v->profile_sha256);
        free(v->model.spec);
        free(v->model.name);
        free(v->model.endpoint_url);
        endpoint_done(&v->model.endpoint);
        free(v->model.key_env);
        json_decref(v->model.script);
        json_decref(v->instruction);
        strv_free(v->tools);
        scope_done(&v->scope);
        json_decref(v->scope_json);
        json_decref(v->skills);
        json_decref(v->prompts);
        json_decref(v->agents_md);
        json_decref(v->profiles);
        free(v);
        return NULL;
}

bool manifest_view_has_tool(const manifest_view *v, const char *tool) {
        return strv_contains(v->tools, tool);
}

const char *manifest_view_instruction(const manifest_view *v) {
        return json_string_value(v->instruction);
}

int manifest_validate(const json_t *m, pod_error *err) {
        manifest_view *v = NULL;
        int r;

        r = manifest_view_new(&v, m, err);
        manifest_view_free(v);
        return r;
}

int manifest_parse(json_t **out, const char *text, size_t len, pod_error *err) {
        json_auto_t *m = NULL;
        json_error_t jerr;
        int r;

        if (len > POD_MANIFEST_MAX_BYTES)
                return pod_error_set(err, -EFBIG, "manifest is %zu bytes, over the %u byte limit",
                                     len, POD_MANIFEST_MAX_BYTES);
        m = json_loadb(text, len, JSON_REJECT_DUPLICATES, &jerr);
        if (!m)
                return pod_error_set(err, -EINVAL, "manifest:%d:%d: %s", jerr.line, jerr.column,
                                     jerr.text);
        r = manifest_validate(m, err);
        if (r < 0)
                return r;
        *out = json_incref(m);
        return 0;
}

bool manifest_sandboxed(const json_t *m) {
        return strcmp(json_string_value(json_object_get(m, "sandbox")) ?: "on", "off") != 0;
}
