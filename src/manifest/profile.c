/* SPDX-License-Identifier: MIT */
/*
 * Profile files (DESIGN §4): Markdown with YAML front matter. This file owns the key table,
 * the front matter parser (libyaml's document API; every value type-checked, every error
 * naming file, line and key), and the rules that join a profile with its `extends` base.
 * A profile never carries authority or runtime state: such keys are refused with a reason.
 */
#include <fcntl.h>
#include <string.h>
#include <yaml.h>

#include "manifest-internal.h"

const profile_key_info profile_keys[PK__MAX] = {
        [PK_NAME] = { "name", "profile.slug" },
        [PK_DESCRIPTION] = { "description", "profile.description" },
        [PK_MODEL] = { "model", "model.spec" },
        [PK_ENDPOINT] = { "endpoint", "model.endpoint" },
        [PK_API_KEY_ENV] = { "api_key_env", "model.api_key_env" },
        [PK_REASONING] = { "reasoning", "model.reasoning" },
        [PK_TOOLS] = { "tools", "tools" },
        [PK_SKILLS] = { "skills", "skills" },
        [PK_SCOPE] = { "scope", "scope.ceiling" },
        [PK_NETWORK] = { "network", "network" },
        [PK_MAX_TURNS] = { "limits.max_turns", "limits.max_turns" },
        [PK_MAX_DEPTH] = { "limits.max_depth", "limits.max_depth" },
        [PK_MAX_CHILDREN] = { "limits.max_children", "limits.max_children" },
        [PK_TIMEOUT_S] = { "limits.timeout_s", "limits.timeout_s" },
        [PK_MAX_TOKENS] = { "limits.max_tokens", "limits.max_tokens" },
        [PK_BUDGET_TOKENS] = { "limits.budget_tokens", "limits.budget_tokens" },
        [PK_BUDGET_COST_USD] = { "limits.budget_cost_usd", "budget.cost_usd" },
        [PK_PRICE] = { "price", "price" },
        [PK_EXTENDS] = { "extends", "profile.extends.selector" },
        [PK_EXECUTOR] = { "executor", "model.spec" },
        [PK_BODY] = { "(body)", "instruction" },
};

const char *const pod_tool_names[] = {
        "Read",      "Write",   "Edit",          "Glob",     "Grep",    "Bash", "SpawnPod",
        "SendToPod", "WaitPod", "ReadPodOutput", "ListPods", "StopPod", NULL,
};

const profile_limit_info profile_limits[POD_LIMITS_COUNT] = {
        { "max_turns", 1, 100000, 200 },
        { "max_depth", 0, 64, 4 },
        { "max_children", 0, 1024, 16 },
        { "timeout_s", 1, 604800, 3600 },
        { "max_tokens", 1, 10000000, 16384 },
        { "budget_tokens", 0, POD_BUDGET_TOKENS_MAX, 0 }, /* 0: no token budget */
};

/* Keys that would carry authority or runtime state, and why they are refused. */
static const struct {
        const char *key;
        const char *why;
} forbidden_keys[] = {
        { "pod", "the pod name is given at spawn time (SpawnPod.name or --name)" },
        { "pod_name", "the pod name is given at spawn time (SpawnPod.name or --name)" },
        { "allow", "concrete scope rules are granted at spawn time, never by a profile" },
        { "deny", "concrete scope rules are granted at spawn time, never by a profile" },
        { "socket", "sockets are runtime state, never part of a reusable role" },
        { "callback", "sockets are runtime state, never part of a reusable role" },
        { "runtime_dir", "runtime paths are runtime state, never part of a reusable role" },
        { "registry", "registry state is runtime state, never part of a reusable role" },
        { "token", "tokens are runtime state, never part of a reusable role" },
        { "session", "sessions are runtime state, never part of a reusable role" },
        { "cwd", "the working directory is given at spawn time (SpawnPod.cwd or --cwd)" },
        { "parent", "the parent is runtime state, never part of a reusable role" },
        { "depth", "the depth is runtime state, never part of a reusable role" },
};

const char *source_to_string(profile_source s) {
        switch (s) {
        case POD_SOURCE_BUILTIN:
                return "builtin";
        case POD_SOURCE_USER:
                return "user";
        case POD_SOURCE_PROJECT:
                return "project";
        case POD_SOURCE_PATH:
                return "path";
        }
        return "invalid";
}

const char *network_to_string(pod_network n) {
        switch (n) {
        case POD_NETWORK_MODEL_ONLY:
                return "model-only";
        case POD_NETWORK_NONE:
                return "none";
        case POD_NETWORK_FULL:
                return "full";
        }
        return "invalid";
}

int network_from_string(pod_network *out, const char *s) {
        for (pod_network n = POD_NETWORK_MODEL_ONLY; n <= POD_NETWORK_FULL; n++)
                if (strcmp(s, network_to_string(n)) == 0) {
                        *out = n;
                        return 0;
                }
        return -EINVAL;
}

const char *reasoning_to_string(pod_reasoning r) {
        switch (r) {
        case POD_REASONING_UNSET:
                return NULL;
        case POD_REASONING_LOW:
                return "low";
        case POD_REASONING_MEDIUM:
                return "medium";
        case POD_REASONING_HIGH:
                return "high";
        }
        return NULL;
}

int reasoning_from_string(pod_reasoning *out, const char *s) {
        for (pod_reasoning r = POD_REASONING_LOW; r <= POD_REASONING_HIGH; r++)
                if (strcmp(s, reasoning_to_string(r)) == 0) {
                        *out = r;
                        return 0;
                }
        return -EINVAL;
}

pod_profile *profile_free(pod_profile *p) {
        if (!p)
                return NULL;
        free(p->slug);
        free(p->file);
        free(p->name);
        free(p->description);
        free(p->model);
        free(p->endpoint);
        free(p->api_key_env);
        free(p->extends);
        free(p->executor);
        strv_free(p->tools);
        strv_free(p->skills);
        free(p->body);
        free(p->text);
        free(p->script_text);
        free(p->base_selector);
        free(p->base_file);
        strv_free(p->warnings);
        free(p);
        return NULL;
}

char *profile_selector(const pod_profile *p) {
        pod_buf b = { 0 };

        if (p->source == POD_SOURCE_PATH)
                buf_printf(&b, "path:%s", p->file);
        else
                buf_printf(&b, "%s:%s", source_to_string(p->source), p->slug);
        return buf_steal(&b);
}

/* ---- front matter ---------------------------------------------------------------------- */

/* One line of text: [start, start+len), without the newline (and a trailing '\r'). */
static bool is_fence(const char *line, size_t len, bool closing) {
        while (len > 0 && (line[len - 1] == '\r' || line[len - 1] == ' ' || line[len - 1] == '\t'))
                len--;
        if (len != 3)
                return false;
        return memcmp(line, "---", 3) == 0 || (closing && memcmp(line, "...", 3) == 0);
}

/*
 * Split text into front matter and body. *fm / *fm_len cover the YAML between the fences;
 * *body starts on the line after the closing fence, which is line *body_line.
 */
static int split_front_matter(const char *text,
                              size_t len,
                              const char *file,
                              const char **fm,
                              size_t *fm_len,
                              const char **body,
                              unsigned *body_line,
                              pod_error *err) {
        const char *p = text, *end = text + len, *nl;
        unsigned line = 1;

        if (len >= 3 && memcmp(text, "\xef\xbb\xbf", 3) == 0)
                p += 3; /* a UTF-8 byte order mark */
        nl = memchr(p, '\n', (size_t) (end - p));
        if (!nl || !is_fence(p, (size_t) (nl - p), false))
                return pod_error_set(err, -EINVAL,
                                     "%s:1: missing YAML front matter: the file must start with a "
                                     "'---' line",
                                     file);
        *fm = nl + 1;
        for (p = nl + 1; p < end; p = nl + 1) {
                line++;
                nl = memchr(p, '\n', (size_t) (end - p));
                if (is_fence(p, nl ? (size_t) (nl - p) : (size_t) (end - p), true)) {
                        *fm_len = (size_t) (p - *fm);
                        *body = nl ? nl + 1 : end;
                        *body_line = line + 1;
                        return 0;
                }
                if (!nl)
                        break;
        }
        return pod_error_set(err, -EINVAL,
                             "%s: front matter is not closed: no '---' line after line 1", file);
}

/* ---- typed values ---------------------------------------------------------------------- */

typedef struct parse_ctx {
        pod_profile *p;
        yaml_document_t *doc;
        const char *file;
        unsigned line_offset; /* file line of the front matter's first line, minus one */
        pod_error *err;
} parse_ctx;

static unsigned node_line(const parse_ctx *c, const yaml_node_t *n) {
        return (unsigned) n->start_mark.line + c->line_offset + 1;
}

static int
key_error(const parse_ctx *c, const yaml_node_t *n, const char *key, const char *fmt, ...)
        _printf_(4, 5);
static int
key_error(const parse_ctx *c, const yaml_node_t *n, const char *key, const char *fmt, ...) {
        char what[POD_ERROR_MAX];
        va_list ap;

        va_start(ap, fmt);
        vsnprintf(what, sizeof(what), fmt, ap);
        va_end(ap);
        return pod_error_set(c->err, -EINVAL, "%s:%u: %s: %s", c->file, node_line(c, n), key, what);
}

static const char *scalar(const yaml_node_t *n) {
        return (const char *) n->data.scalar.value;
}

static bool scalar_is_null(const yaml_node_t *n) {
        const char *v = scalar(n);

        if (n->data.scalar.style != YAML_PLAIN_SCALAR_STYLE)
                return false;
        return !*v || strcmp(v, "~") == 0 || strcmp(v, "null") == 0 || strcmp(v, "Null") == 0 ||
                strcmp(v, "NULL") == 0;
}

static int get_string(const parse_ctx *c, const yaml_node_t *n, const char *key, char **out) {
        char *s;

        if (n->type != YAML_SCALAR_NODE)
                return key_error(c, n, key, "must be a string, not a %s",
                                 n->type == YAML_SEQUENCE_NODE ? "list" : "mapping");
        if (scalar_is_null(n))
                return key_error(c, n, key, "has no value");
        if (strlen(scalar(n)) != n->data.scalar.length)
                return key_error(c, n, key, "contains a NUL character");
        s = strdup(scalar(n));
        if (!s)
                return pod_error_oom(c->err);
        free(*out);
        *out = s;
        return 0;
}

static int
get_one_line(const parse_ctx *c, const yaml_node_t *n, const char *key, size_t max, char **out) {
        int r = get_string(c, n, key, out);

        if (r < 0)
                return r;
        if (strpbrk(*out, "\n\r"))
                return key_error(c, n, key, "must be one line");
        if (strlen(*out) > max)
                return key_error(c, n, key, "is over %zu bytes", max);
        return 0;
}

static int get_enum(const parse_ctx *c,
                    const yaml_node_t *n,
                    const char *key,
                    const char *allowed,
                    int (*from)(void *, const char *),
                    void *out) {
        _cleanup_free_ char *s = NULL;
        int r = get_string(c, n, key, &s);

        if (r < 0)
                return r;
        if (from(out, s) < 0)
                return key_error(c, n, key, "'%s' is not one of: %s", s, allowed);
        return 0;
}

static int access_from_string_v(void *out, const char *s) {
        pod_access a;

        if (access_from_string(&a, s) < 0)
                return -EINVAL;
        *(pod_access *) out = a;
        return 0;
}

static int network_from_string_v(void *out, const char *s) {
        return network_from_string(out, s);
}

static int reasoning_from_string_v(void *out, const char *s) {
        return reasoning_from_string(out, s);
}

static bool tool_name_valid(const char *s);

/* An entry of a list that is not valid; a tool name's error lists the valid ones. */
static int invalid_item(const parse_ctx *c,
                        const yaml_node_t *item,
                        const char *key,
                        const char *s,
                        const char *what,
                        bool tools) {
        _cleanup_buf_ pod_buf valid = { 0 };

        for (const char *const *t = pod_tool_names; tools && *t; t++)
                buf_printf(&valid, "%s%s", t == pod_tool_names ? "" : ", ", *t);
        return key_error(c, item, key, "'%s' is not a valid %s%s%s%s", s, what,
                         tools ? " (valid: " : "", tools ? buf_str(&valid) ?: "" : "",
                         tools ? ")" : "");
}

static int get_list(const parse_ctx *c,
                    const yaml_node_t *n,
                    const char *key,
                    bool (*valid)(const char *),
                    const char *what,
                    char ***out) {
        _cleanup_strv_free_ char **l = NULL;
        yaml_node_item_t *it;

        if (n->type != YAML_SEQUENCE_NODE)
                return key_error(c, n, key, "must be a list of %ss", what);
        if (n->data.sequence.items.top - n->data.sequence.items.start > POD_PROFILE_LIST_MAX)
                return key_error(c, n, key, "has more than %u entries", POD_PROFILE_LIST_MAX);
        l = calloc(1, sizeof(char *));
        if (!l)
                return pod_error_oom(c->err);
        for (it = n->data.sequence.items.start; it < n->data.sequence.items.top; it++) {
                yaml_node_t *item = yaml_document_get_node(c->doc, *it);
                _cleanup_free_ char *s = NULL;
                int r = get_string(c, item, key, &s);
                if (r < 0)
                        return r;
                if (!valid(s))
                        return invalid_item(c, item, key, s, what, valid == tool_name_valid);
                if (strv_contains(l, s))
                        return key_error(c, item, key, "'%s' is listed twice", s);
                if (strv_consume(&l, s) < 0)
                        return pod_error_oom(c->err);
                s = NULL;
        }
        strv_free(*out);
        *out = TAKE_PTR(l);
        return 0;
}

static bool tool_name_valid(const char *s) {
        return strv_contains((char *const *) pod_tool_names, s);
}

static int get_limit(const parse_ctx *c, const yaml_node_t *n, unsigned idx) {
        const profile_limit_info *li = &profile_limits[idx];
        const char *key = profile_keys[PK_MAX_TURNS + idx].key;
        const char *v;
        char *end;
        long long x;

        if (n->type != YAML_SCALAR_NODE || n->data.scalar.style != YAML_PLAIN_SCALAR_STYLE)
                return key_error(c, n, key, "must be a whole number");
        v = scalar(n);
        if (!*v || strspn(v, "0123456789") != strlen(v) || strlen(v) > 15)
                return key_error(c, n, key, "'%s' is not a whole number", v);
        x = strtoll(v, &end, 10);
        if (x < li->min || x > li->max)
                return key_error(c, n, key, "%lld is out of range (%lld to %lld)", x,
                                 (long long) li->min, (long long) li->max);
        c->p->limits[idx] = x;
        return 0;
}

/* A plain decimal from 0 to max: digits, optionally a point and at most 9 more. */
static int
get_decimal(const parse_ctx *c, const yaml_node_t *n, const char *key, double max, double *out) {
        const char *v, *dot;
        size_t whole;

        if (n->type != YAML_SCALAR_NODE || n->data.scalar.style != YAML_PLAIN_SCALAR_STYLE)
                return key_error(c, n, key, "must be a number such as 2.50");
        v = scalar(n);
        whole = strspn(v, "0123456789");
        dot = v + whole;
        if (whole == 0 || whole > 12 ||
            (*dot &&
             (*dot != '.' || strspn(dot + 1, "0123456789") != strlen(dot + 1) ||
              strlen(dot + 1) == 0 || strlen(dot + 1) > 9)))
                return key_error(c, n, key, "'%s' is not a number such as 2.50", v);
        *out = strtod(v, NULL);
        if (*out > max)
                return key_error(c, n, key, "%s is out of range (0 to %g)", v, max);
        return 0;
}

/* price: {input_per_mtok, output_per_mtok, cached_input_per_mtok}, USD per million tokens. */
static int parse_price(parse_ctx *c, const yaml_node_t *n) {
        static const char *const names[] = { "input_per_mtok", "output_per_mtok",
                                             "cached_input_per_mtok" };
        bool seen[3] = { false };
        yaml_node_pair_t *pr;

        if (n->type != YAML_MAPPING_NODE)
                return key_error(c, n, "price",
                                 "must be a mapping of input_per_mtok, output_per_mtok and "
                                 "cached_input_per_mtok (USD per million tokens)");
        for (pr = n->data.mapping.pairs.start; pr < n->data.mapping.pairs.top; pr++) {
                yaml_node_t *k = yaml_document_get_node(c->doc, pr->key);
                yaml_node_t *v = yaml_document_get_node(c->doc, pr->value);
                unsigned i = 0;
                while (i < 3 && (k->type != YAML_SCALAR_NODE || strcmp(scalar(k), names[i]) != 0))
                        i++;
                if (i == 3 || seen[i])
                        return key_error(c, k, "price",
                                         "%s key '%s' (known: input_per_mtok, "
                                         "output_per_mtok, cached_input_per_mtok)",
                                         i == 3 ? "unknown" : "duplicate",
                                         k->type == YAML_SCALAR_NODE ? scalar(k) : "?");
                seen[i] = true;
                if (get_decimal(c, v, names[i], POD_PRICE_MAX, &c->p->price[i]) < 0)
                        return -EINVAL;
        }
        if (!seen[0] || !seen[1])
                return key_error(c, n, "price", "needs input_per_mtok and output_per_mtok");
        if (!seen[2]) /* cached reads cost what input does, unless the profile says less */
                c->p->price[2] = c->p->price[0];
        return 0;
}

/* ---- keys ------------------------------------------------------------------------------ */

static int mark_key(parse_ctx *c, profile_key k, const yaml_node_t *key_node) {
        if (c->p->set[k])
                return key_error(c, key_node, profile_keys[k].key,
                                 "duplicate key (first at line %u)", c->p->origin[k].line);
        c->p->set[k] = true;
        c->p->origin[k] = (profile_origin){ .file = c->p->file, .line = node_line(c, key_node) };
        return 0;
}

static int parse_limits(parse_ctx *c, const yaml_node_t *n) {
        yaml_node_pair_t *pr;

        if (n->type != YAML_MAPPING_NODE)
                return key_error(c, n, "limits",
                                 "must be a mapping of max_turns, max_depth, max_children, "
                                 "timeout_s, max_tokens, budget_tokens, budget_cost_usd");
        for (pr = n->data.mapping.pairs.start; pr < n->data.mapping.pairs.top; pr++) {
                yaml_node_t *k = yaml_document_get_node(c->doc, pr->key);
                yaml_node_t *v = yaml_document_get_node(c->doc, pr->value);
                unsigned idx = POD_LIMITS_COUNT;
                int r;

                if (k->type == YAML_SCALAR_NODE && strcmp(scalar(k), "budget_cost_usd") == 0) {
                        r = mark_key(c, PK_BUDGET_COST_USD, k);
                        if (r >= 0)
                                r = get_decimal(c, v, "limits.budget_cost_usd", POD_BUDGET_USD_MAX,
                                                &c->p->budget_cost_usd);
                        if (r < 0)
                                return r;
                        continue;
                }
                if (k->type == YAML_SCALAR_NODE)
                        for (unsigned i = 0; i < POD_LIMITS_COUNT; i++)
                                if (strcmp(scalar(k), profile_limits[i].name) == 0)
                                        idx = i;
                if (idx == POD_LIMITS_COUNT)
                        return key_error(c, k, "limits",
                                         "unknown key '%s' (known: max_turns, max_depth, "
                                         "max_children, timeout_s, max_tokens, budget_tokens, "
                                         "budget_cost_usd)",
                                         k->type == YAML_SCALAR_NODE ? scalar(k) : "?");
                r = mark_key(c, PK_MAX_TURNS + idx, k);
                if (r >= 0)
                        r = get_limit(c, v, idx);
                if (r < 0)
                        return r;
        }
        return 0;
}

static int parse_scope_key(parse_ctx *c, const yaml_node_t *v) {
        if (v->type == YAML_MAPPING_NODE)
                return key_error(c, v, "scope",
                                 "a profile sets only a ceiling (write, read or none); concrete "
                                 "allow/deny rules are granted at spawn time, never by a profile");
        return get_enum(c, v, "scope", "write, read, none", access_from_string_v, &c->p->scope);
}

static int parse_value(parse_ctx *c, profile_key k, const yaml_node_t *v) {
        pod_profile *p = c->p;
        const char *key = profile_keys[k].key;

        switch (k) {
        case PK_NAME:
                return get_one_line(c, v, key, POD_SLUG_MAX, &p->name);
        case PK_DESCRIPTION:
                return get_one_line(c, v, key, POD_DESCRIPTION_MAX, &p->description);
        case PK_MODEL:
                return get_one_line(c, v, key, POD_MODEL_SPEC_MAX, &p->model);
        case PK_ENDPOINT:
                return get_one_line(c, v, key, POD_ENDPOINT_MAX, &p->endpoint);
        case PK_API_KEY_ENV:
                return get_one_line(c, v, key, 128, &p->api_key_env);
        case PK_EXTENDS:
                return get_one_line(c, v, key, POD_SELECTOR_MAX, &p->extends);
        case PK_EXECUTOR:
                return get_one_line(c, v, key, 64, &p->executor);
        case PK_REASONING:
                return get_enum(c, v, key, "low, medium, high", reasoning_from_string_v,
                                &p->reasoning);
        case PK_NETWORK:
                return get_enum(c, v, key, "model-only, none, full", network_from_string_v,
                                &p->network);
        case PK_SCOPE:
                return parse_scope_key(c, v);
        case PK_TOOLS:
                return get_list(c, v, key, tool_name_valid, "tool name", &p->tools);
        case PK_SKILLS:
                return get_list(c, v, key, slug_valid, "skill name", &p->skills);
        case PK_PRICE:
                return parse_price(c, v);
        default:
                return pod_error_set(c->err, -EINVAL, "internal: key %d has no parser", k);
        }
}

static int refuse_key(const parse_ctx *c, const yaml_node_t *k, const char *name) {
        _cleanup_buf_ pod_buf known = { 0 };

        for (size_t i = 0; i < POD_ARRAY_SIZE(forbidden_keys); i++)
                if (strcmp(name, forbidden_keys[i].key) == 0)
                        return pod_error_set(c->err, -EINVAL,
                                             "%s:%u: key '%s' is not allowed in a profile: %s",
                                             c->file, node_line(c, k), name, forbidden_keys[i].why);
        for (int i = 0; i < PK_BODY; i++)
                if (!strchr(profile_keys[i].key, '.'))
                        buf_printf(&known, "%s, ", profile_keys[i].key);
        buf_puts(&known, "limits");
        return pod_error_set(c->err, -EINVAL, "%s:%u: unknown key '%s' (known: %s)", c->file,
                             node_line(c, k), name, buf_str(&known) ?: "");
}

static int parse_pair(parse_ctx *c, const yaml_node_pair_t *pr) {
        yaml_node_t *k = yaml_document_get_node(c->doc, pr->key);
        yaml_node_t *v = yaml_document_get_node(c->doc, pr->value);
        const char *name;
        int r;

        if (k->type != YAML_SCALAR_NODE)
                return pod_error_set(c->err, -EINVAL, "%s:%u: keys must be plain strings", c->file,
                                     node_line(c, k));
        name = scalar(k);
        if (strcmp(name, "limits") == 0)
                return parse_limits(c, v);
        for (int i = 0; i < PK_BODY; i++) {
                if (strchr(profile_keys[i].key, '.') || strcmp(name, profile_keys[i].key) != 0)
                        continue;
                r = mark_key(c, (profile_key) i, k);
                if (r < 0)
                        return r;
                return parse_value(c, (profile_key) i, v);
        }
        return refuse_key(c, k, name);
}

static int yaml_error(const yaml_parser_t *y, const char *file, unsigned offset, pod_error *err) {
        unsigned at = (unsigned) y->problem_mark.line + offset + 1;

        /* An unclosed flow list is noticed on the line after it: name the line it opens on. */
        if (y->context && y->context_mark.line < y->problem_mark.line)
                return pod_error_set(err, -EINVAL,
                                     "%s:%u: malformed YAML: %s %s that starts here (noticed at "
                                     "line %u)",
                                     file, (unsigned) y->context_mark.line + offset + 1,
                                     y->problem ? y->problem : "parse error", y->context, at);
        return pod_error_set(err, -EINVAL, "%s:%u: malformed YAML: %s%s%s", file, at,
                             y->problem ? y->problem : "parse error", y->context ? " " : "",
                             y->context ? y->context : "");
}

/*
 * A first pass over the YAML events that refuses shapes no profile has: nesting deeper
 * than POD_YAML_DEPTH_MAX (libyaml's scanner slows quadratically with flow depth, so a few
 * hundred KiB of '[' would stall discovery), too many nodes, and anchors or aliases.
 * It stops at the first offending event, before the expensive part is reached.
 */
static int
check_yaml_shape(const char *fm, size_t len, const char *file, unsigned offset, pod_error *err) {
        yaml_parser_t y;
        yaml_event_t ev;
        unsigned depth = 0, nodes = 0;
        int r = 0;

        if (!yaml_parser_initialize(&y))
                return pod_error_oom(err);
        yaml_parser_set_input_string(&y, (const unsigned char *) fm, len);
        yaml_parser_set_encoding(&y, YAML_UTF8_ENCODING);
        for (bool done = false; !done && r >= 0;) {
                if (!yaml_parser_parse(&y, &ev)) {
                        r = yaml_error(&y, file, offset, err);
                        break;
                }
                unsigned line = (unsigned) ev.start_mark.line + offset + 1;
                if (ev.type == YAML_SEQUENCE_START_EVENT || ev.type == YAML_MAPPING_START_EVENT)
                        depth++;
                else if (ev.type == YAML_SEQUENCE_END_EVENT || ev.type == YAML_MAPPING_END_EVENT)
                        depth--;
                if (depth > POD_YAML_DEPTH_MAX)
                        r = pod_error_set(err, -EINVAL,
                                          "%s:%u: YAML nested more than %u levels deep", file, line,
                                          POD_YAML_DEPTH_MAX);
                else if (++nodes > POD_YAML_NODES_MAX)
                        r = pod_error_set(err, -E2BIG,
                                          "%s:%u: front matter has more than %u YAML nodes", file,
                                          line, POD_YAML_NODES_MAX);
                else if (ev.type == YAML_ALIAS_EVENT ||
                         (ev.type == YAML_SCALAR_EVENT && ev.data.scalar.anchor) ||
                         (ev.type == YAML_SEQUENCE_START_EVENT && ev.data.sequence_start.anchor) ||
                         (ev.type == YAML_MAPPING_START_EVENT && ev.data.mapping_start.anchor))
                        r = pod_error_set(
                                err, -EINVAL,
                                "%s:%u: YAML anchors and aliases are not allowed in a profile",
                                file, line);
                done = ev.type == YAML_STREAM_END_EVENT;
                yaml_event_delete(&ev);
        }
        yaml_parser_delete(&y);
        return r;
}

static int parse_front_matter(pod_profile *p,
                              const char *fm,
                              size_t len,
                              const char *file,
                              unsigned first_line,
                              pod_error *err) {
        yaml_parser_t y;
        yaml_document_t doc;
        yaml_node_t *root;
        parse_ctx c = {
                .p = p, .doc = &doc, .file = file, .line_offset = first_line - 1, .err = err
        };
        int r;

        r = check_yaml_shape(fm, len, file, c.line_offset, err);
        if (r < 0)
                return r;
        if (!yaml_parser_initialize(&y))
                return pod_error_oom(err);
        yaml_parser_set_input_string(&y, (const unsigned char *) fm, len);
        yaml_parser_set_encoding(&y, YAML_UTF8_ENCODING);
        if (!yaml_parser_load(&y, &doc)) {
                r = yaml_error(&y, file, c.line_offset, err);
                yaml_parser_delete(&y);
                return r;
        }
        root = yaml_document_get_root_node(&doc);
        if (root && root->type != YAML_MAPPING_NODE)
                r = pod_error_set(err, -EINVAL, "%s:%u: front matter must be a mapping of keys",
                                  file, node_line(&c, root));
        for (yaml_node_pair_t *pr = root ? root->data.mapping.pairs.start : NULL;
             r >= 0 && root && root->type == YAML_MAPPING_NODE && pr < root->data.mapping.pairs.top;
             pr++)
                r = parse_pair(&c, pr);
        yaml_document_delete(&doc);
        yaml_parser_delete(&y);
        return r;
}

/* ---- body and whole file --------------------------------------------------------------- */

static int set_body(pod_profile *p, const char *body, size_t n, unsigned line, pod_error *err) {
        while (n > 0 && (*body == '\n' || *body == '\r')) {
                line += *body == '\n';
                body++;
                n--;
        }
        while (n > 0 && strchr(" \t\r\n", body[n - 1]))
                n--;
        p->body = str_from_mem(body, n);
        if (!p->body)
                return pod_error_oom(err);
        if (n > 0) {
                p->set[PK_BODY] = true;
                p->origin[PK_BODY] = (profile_origin){ .file = p->file, .line = line };
        }
        return 0;
}

static pod_profile *profile_new(profile_source source, const char *slug, const char *file) {
        _cleanup_(profile_freep) pod_profile *p = calloc(1, sizeof(*p));

        if (!p)
                return NULL;
        p->source = source;
        p->scope = POD_ACCESS_WRITE;
        p->network = POD_NETWORK_MODEL_ONLY;
        for (unsigned i = 0; i < POD_LIMITS_COUNT; i++)
                p->limits[i] = profile_limits[i].def;
        p->slug = strdup(slug);
        p->file = strdup(file);
        if (!p->slug || !p->file)
                return NULL;
        return TAKE_PTR(p);
}

static int check_text(const char *text, size_t len, size_t max, const char *file, pod_error *err) {
        size_t bad;
        unsigned line = 1;

        if (len > max)
                return pod_error_set(err, -EFBIG, "%s: file is %zu bytes, over the %zu byte limit",
                                     file, len, max);
        bad = utf8_invalid_offset(text, len);
        if (bad == len)
                return 0;
        for (size_t i = 0; i < bad; i++)
                line += text[i] == '\n';
        return pod_error_set(err, -EILSEQ, "%s:%u: %s at byte %zu", file, line,
                             text[bad] ? "not valid UTF-8" : "NUL byte", bad);
}

/* ---- front matter as JSON (for SKILL.md and other front matter files) -------------------- */

static json_t *node_to_json(const parse_ctx *c, yaml_node_t *n, unsigned depth);

static json_t *mapping_to_json(const parse_ctx *c, yaml_node_t *n, unsigned depth, json_t *lines) {
        json_t *o = json_object();

        for (yaml_node_pair_t *pr = n->data.mapping.pairs.start;
             o && pr < n->data.mapping.pairs.top; pr++) {
                yaml_node_t *k = yaml_document_get_node(c->doc, pr->key);
                json_t *v;
                if (k->type != YAML_SCALAR_NODE) {
                        pod_error_set(c->err, -EINVAL, "%s:%u: keys must be plain strings", c->file,
                                      node_line(c, k));
                        break;
                }
                if (json_object_get(o, scalar(k))) {
                        key_error(c, k, scalar(k), "duplicate key");
                        break;
                }
                v = node_to_json(c, yaml_document_get_node(c->doc, pr->value), depth + 1);
                if (!v)
                        break;
                json_object_set_new(o, scalar(k), v);
                if (lines)
                        json_object_set_new(lines, scalar(k), json_integer(node_line(c, k)));
        }
        if (o &&
            json_object_size(o) !=
                    (size_t) (n->data.mapping.pairs.top - n->data.mapping.pairs.start)) {
                json_decref(o);
                return NULL;
        }
        return o;
}

static json_t *node_to_json(const parse_ctx *c, yaml_node_t *n, unsigned depth) {
        json_t *a;

        if (n->type == YAML_SCALAR_NODE)
                return json_stringn(scalar(n), n->data.scalar.length);
        if (n->type == YAML_MAPPING_NODE)
                return mapping_to_json(c, n, depth, NULL);
        a = json_array();
        for (yaml_node_item_t *it = n->data.sequence.items.start;
             a && it < n->data.sequence.items.top; it++) {
                json_t *v = node_to_json(c, yaml_document_get_node(c->doc, *it), depth + 1);
                if (!v) {
                        json_decref(a);
                        return NULL;
                }
                json_array_append_new(a, v);
        }
        return a;
}

int frontmatter_parse(json_t **ret_values,
                      json_t **ret_lines,
                      const char **ret_body,
                      unsigned *ret_body_line,
                      const char *text,
                      size_t len,
                      size_t max,
                      const char *file,
                      pod_error *err) {
        json_auto_t *lines = json_object(), *values = NULL;
        const char *fm = NULL, *body = NULL;
        size_t fm_len = 0;
        unsigned body_line = 0;
        yaml_parser_t y;
        yaml_document_t doc;
        yaml_node_t *root;
        parse_ctx c = { .doc = &doc, .file = file, .line_offset = 1, .err = err };
        int r;

        r = check_text(text, len, max, file, err);
        if (r >= 0)
                r = split_front_matter(text, len, file, &fm, &fm_len, &body, &body_line, err);
        if (r >= 0)
                r = check_yaml_shape(fm, fm_len, file, c.line_offset, err);
        if (r < 0)
                return r;
        if (!yaml_parser_initialize(&y))
                return pod_error_oom(err);
        yaml_parser_set_input_string(&y, (const unsigned char *) fm, fm_len);
        if (!yaml_parser_load(&y, &doc)) {
                r = yaml_error(&y, file, c.line_offset, err);
                yaml_parser_delete(&y);
                return r;
        }
        root = yaml_document_get_root_node(&doc);
        if (!root)
                values = json_object();
        else if (root->type != YAML_MAPPING_NODE)
                r = pod_error_set(err, -EINVAL, "%s:%u: front matter must be a mapping of keys",
                                  file, node_line(&c, root));
        else if (!(values = mapping_to_json(&c, root, 1, lines)))
                r = err && err->code < 0 ? err->code : -ENOMEM;
        yaml_document_delete(&doc);
        yaml_parser_delete(&y);
        if (r < 0)
                return r;
        *ret_values = json_incref(values);
        if (ret_lines)
                *ret_lines = json_incref(lines);
        *ret_body = body;
        *ret_body_line = body_line;
        return 0;
}

int profile_parse(pod_profile **out,
                  profile_source source,
                  const char *slug,
                  const char *file,
                  const char *text,
                  size_t len,
                  pod_error *err) {
        _cleanup_(profile_freep) pod_profile *p = NULL;
        const char *fm = NULL, *body = NULL;
        size_t fm_len = 0;
        unsigned body_line = 0;
        int r;

        r = check_text(text, len, POD_PROFILE_MAX_BYTES, file, err);
        if (r < 0)
                return r;
        r = split_front_matter(text, len, file, &fm, &fm_len, &body, &body_line, err);
        if (r < 0)
                return r;
        p = profile_new(source, slug, file);
        if (!p)
                return pod_error_oom(err);
        sha256_hex(p->sha256, text, len);
        p->text = str_from_mem(text, len);
        if (!p->text)
                return pod_error_oom(err);
        r = parse_front_matter(p, fm, fm_len, file, 2, err);
        if (r >= 0)
                r = set_body(p, body, (size_t) (text + len - body), body_line, err);
        if (r >= 0)
                r = profile_check_own(p, err);
        if (r >= 0 && !p->extends)
                r = profile_finalize(p, err);
        if (r < 0)
                return r;
        *out = TAKE_PTR(p);
        return 0;
}

int profile_load(pod_profile **out,
                 profile_source source,
                 int dirfd,
                 const char *path,
                 const char *display,
                 pod_error *err) {
        _cleanup_free_ char *text = NULL, *slug = NULL;
        const char *base = path_basename(path);
        size_t len;
        int r;

        if (!str_endswith(base, ".md"))
                return pod_error_set(err, -EINVAL, "%s: a profile file name must end in .md",
                                     display);
        slug = strndup(base, strlen(base) - 3);
        if (!slug)
                return pod_error_oom(err);
        if (!slug_valid(slug))
                return pod_error_set(err, -EINVAL,
                                     "%s: file name '%s' is not a valid profile slug "
                                     "([a-z0-9][a-z0-9._-]{0,63})",
                                     display, base);
        r = file_read_bounded(&text, &len, dirfd, path, POD_PROFILE_MAX_BYTES, err);
        if (r == -EFBIG)
                return pod_error_set(err, r, "%s: profile is over the %u byte limit", display,
                                     POD_PROFILE_MAX_BYTES);
        if (r == -ELOOP)
                return pod_error_set(err, r, "%s: symlink loop", display);
        if (r == -EINVAL)
                return pod_error_set(err, r, "%s: not a regular file", display);
        if (r < 0 && r != -ENOMEM)
                return pod_error_set(err, r, "%s: %s", display, strerror(-r));
        if (r < 0)
                return r;
        return profile_parse(out, source, slug, display, text, len, err);
}
