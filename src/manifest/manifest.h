/* SPDX-License-Identifier: MIT */
#pragma once

/*
 * manifest: from profile files and runtime inputs to the complete manifest a pod runs
 * (DESIGN §3-7, §9). Profiles are parsed (profile.c), discovered from their sources
 * (discovery.c), chosen by selectors (selector.c), and resolved with a model spec
 * (model.c) and a scope (scope.c) into version-1 manifest JSON (manifest.c), which a
 * child validates again before it runs.
 */

#include <jansson.h>

#include "base/base.h"

/* ---- limits on hostile input (documented in docs/profiles.md) --------------------------- */

#define POD_PROFILE_MAX_BYTES (256u * 1024u) /* one profile file */
#define POD_PROFILES_PER_SOURCE_MAX 10000u /* profiles read from one source folder */
#define POD_YAML_DEPTH_MAX 8u /* nesting of front matter collections */
#define POD_YAML_NODES_MAX 4096u /* YAML events in one front matter */
#define POD_PROFILE_LIST_MAX 256u /* entries in tools: / skills: */
#define POD_SNAPSHOT_SKILLS_MAX 256u /* skills a profile snapshot carries */
#define POD_SNAPSHOT_SKILL_BYTES (256u * 1024u) /* a carried skill's body */
#define POD_DESCRIPTION_MAX 1024u /* bytes of description: */
#define POD_SCRIPT_MAX_BYTES (1024u * 1024u) /* a script: model file */
#define POD_MANIFEST_MAX_BYTES (16u * 1024u * 1024u) /* a manifest handed to a child */
#define POD_SCOPE_RULES_MAX 64u /* allow or deny rules in one scope */
#define POD_NAME_BUF 65 /* a pod name (a slug) and its NUL */
#define POD_ENDPOINT_MAX 2048u
#define POD_INSTRUCTION_MAX_BYTES (1024u * 1024u) /* a worker instruction */
#define POD_MODEL_SPEC_MAX 512u
#define POD_MANIFEST_VERSION 1
#define POD_BUDGET_TOKENS_MAX 1000000000000LL /* limits.budget_tokens, a granted budget */
#define POD_BUDGET_USD_MAX 1000000.0 /* limits.budget_cost_usd, a granted budget */
#define POD_PRICE_MAX 100000.0 /* USD per million tokens, in price: */

/* ---- small enums ------------------------------------------------------------------------ */

typedef enum pod_access {
        POD_ACCESS_NONE = 0,
        POD_ACCESS_READ = 1,
        POD_ACCESS_WRITE = 2,
} pod_access;

typedef enum pod_network {
        POD_NETWORK_MODEL_ONLY,
        POD_NETWORK_NONE,
        POD_NETWORK_FULL,
} pod_network;

typedef enum pod_reasoning {
        POD_REASONING_UNSET,
        POD_REASONING_LOW,
        POD_REASONING_MEDIUM,
        POD_REASONING_HIGH,
} pod_reasoning;

const char *access_to_string(pod_access a);
int access_from_string(pod_access *out, const char *s);
const char *network_to_string(pod_network n);
int network_from_string(pod_network *out, const char *s);
const char *reasoning_to_string(pod_reasoning r);
int reasoning_from_string(pod_reasoning *out, const char *s);

/* The tools a pod may be given (DESIGN §12); a profile's tools: must name only these. */
extern const char *const pod_tool_names[];

/* ---- model specs (model.c, DESIGN §9) --------------------------------------------------- */

typedef enum pod_handler {
        POD_HANDLER_SCRIPT, /* built-in deterministic scripted model */
        POD_HANDLER_OPENAI_RESPONSES, /* native, OpenAI Responses wire */
        POD_HANDLER_OPENAI_CHAT, /* native, OpenAI Chat Completions wire */
        POD_HANDLER_ANTHROPIC, /* native, Anthropic Messages wire */
        POD_HANDLER_CLAUDE, /* delegate to the claude CLI */
        POD_HANDLER_CODEX, /* delegate to the codex CLI */
        POD_HANDLER__COUNT,
} pod_handler;

typedef struct model_provider {
        const char *prefix;
        pod_handler handler;
        const char *default_endpoint; /* NULL: none (required or not applicable) */
        const char *default_key_env; /* NULL: no key variable by default */
        bool takes_endpoint; /* HTTP handlers, and delegates (their CLI's API) */
        /* Without one the handler uses its own default (a delegate's CLI: its own login):
         * endpoint and api_key_env may both be left out. */
        bool endpoint_optional;
} model_provider;

typedef struct model_spec {
        const model_provider *provider;
        char *name; /* the part after "prefix:" */
} model_spec;

/* The one table from provider prefix to handler; nothing else decides which handler runs. */
const model_provider *model_provider_lookup(const char *prefix);
const char *handler_to_string(pod_handler h);
/* "openai, openrouter, ..." for error messages. */
const char *model_prefix_list(void);
int model_spec_parse(model_spec *out, const char *text, pod_error *err);
void model_spec_done(model_spec *s);
/* ---- endpoints (endpoint.c, DESIGN §9) -------------------------------------------------- */

#define POD_ENDPOINT_HOST_MAX 253u

/* An endpoint URL, http[s]://host[:port][/path], parsed once. */
typedef struct pod_endpoint {
        bool tls; /* https */
        char *host; /* as written; an IPv6 address without its brackets */
        uint16_t port; /* the explicit port, else the scheme's (80, 443) */
        char *path; /* "" or from the first '/' */
} pod_endpoint;

/*
 * Parse an endpoint URL (at most POD_ENDPOINT_MAX bytes): http or https, a host of
 * letters, digits, '-', '.', '_' (or a bracketed IPv6 address), a port from 1 to 65535;
 * no credentials, query, fragment, whitespace or quotes. Errors name the endpoint.
 */
int endpoint_parse(pod_endpoint *out, const char *url, pod_error *err);
void endpoint_done(pod_endpoint *e);
/* The TCP port url names, 0 when url is NULL or not a valid endpoint. */
int endpoint_port(const char *url);

/* Validate and normalise an endpoint for a provider (trailing '/', '/v1'). */
int model_endpoint_normalize(char **out,
                             const model_provider *p,
                             const char *endpoint,
                             pod_error *err);
/* Parse and check a script model file's JSON text (DESIGN §9). what names it in errors. */
int script_parse(json_t **out, const char *text, size_t len, const char *what, pod_error *err);
int script_validate(const json_t *script, const char *what, pod_error *err);

/* ---- scope (scope.c, DESIGN §7) --------------------------------------------------------- */

typedef struct scope_rule {
        char *path; /* absolute, canonical */
        pod_access access;
        bool recursive;
} scope_rule;

/* allow rules grant; deny rules cap: deny read -> nothing, deny write -> at most read. */
typedef struct pod_scope {
        scope_rule *allow;
        size_t n_allow;
        scope_rule *deny;
        size_t n_deny;
} pod_scope;

/* A write lease held by a live pod on a path: always its whole tree (DESIGN §7, §14). */
typedef struct scope_lease {
        const char *path;
        const char *holder; /* pod name, for messages */
} scope_lease;
/* Free a list of leases whose path and holder were allocated (tree_lease_list). */
void lease_list_free(scope_lease *l, size_t n);

/*
 * Make path absolute (relative to base, which must be absolute; NULL forbids relative
 * paths) and canonical: symlinks resolved, "." and ".." removed, trailing slashes dropped;
 * a missing tail is resolved through its nearest existing ancestor.
 */
int scope_canonicalize(char **out, const char *path, const char *base, pod_error *err);
void scope_done(pod_scope *s);
int scope_add(pod_scope *s,
              bool deny,
              const char *path,
              pod_access access,
              bool recursive,
              pod_error *err);
int scope_copy(pod_scope *out, const pod_scope *s, pod_error *err);
/* Does rule r apply at path? */
bool scope_rule_matches(const scope_rule *r, const char *path);
/* Effective access at path: highest matching allow rule, capped by matching deny rules. */
pod_access scope_access_at(const pod_scope *s, const char *path);
/*
 * Could rules on paths a and b reach one file? Yes when one is at or beneath the other,
 * whatever their `recursive`: the kernel grants a rule on a directory its whole tree.
 */
bool scope_rules_overlap(const char *a, const char *b);
/*
 * A rule with recursive false must name one existing file that is not a directory (the
 * kernel cannot grant a directory without its tree).
 */
int scope_rule_check_file(const scope_rule *q, pod_error *err);
/* Parse "read:PATH" / "write:PATH" (CLI --scope), canonicalised against base. */
int scope_rule_parse(scope_rule *out, const char *text, const char *base, pod_error *err);
void scope_rule_done(scope_rule *r);
/*
 * Delegation (DESIGN §7): every requested rule must be covered by the spawner's effective
 * scope, must not exceed the child profile's ceiling and, for write, must not overlap a
 * lease. On success *out holds the requested rules plus the spawner's deny rules that
 * touch them. A refusal names the rule and the term that refused it.
 */
int scope_delegate(pod_scope *out,
                   const pod_scope *spawner,
                   pod_access ceiling,
                   const scope_lease *leases,
                   size_t n_leases,
                   const scope_rule *req,
                   size_t n_req,
                   pod_error *err);
/* A write rule q must not overlap another pod's write lease (the third term of delegation). */
int scope_lease_check(const scope_rule *q,
                      const scope_lease *leases,
                      size_t n_leases,
                      pod_error *err);
/* A top-level pod: its cwd at the profile's ceiling plus the operator's extra rules. */
int scope_top_level(pod_scope *out,
                    const char *cwd,
                    pod_access ceiling,
                    const scope_rule *extra,
                    size_t n_extra,
                    pod_error *err);
json_t *scope_to_json(const pod_scope *s);
int scope_from_json(pod_scope *out, const json_t *j, const char *what, pod_error *err);

/* ---- profiles (profile.c, DESIGN §4) ---------------------------------------------------- */

typedef enum profile_source {
        POD_SOURCE_BUILTIN,
        POD_SOURCE_USER,
        POD_SOURCE_PROJECT,
        POD_SOURCE_PATH, /* a file named on the command line */
} profile_source;

const char *source_to_string(profile_source s);

/* Every front matter key, in file order of DESIGN §4, plus the body. */
typedef enum profile_key {
        PK_NAME,
        PK_DESCRIPTION,
        PK_MODEL,
        PK_ENDPOINT,
        PK_API_KEY_ENV,
        PK_REASONING,
        PK_TOOLS,
        PK_SKILLS,
        PK_SCOPE,
        PK_NETWORK,
        PK_MAX_TURNS,
        PK_MAX_DEPTH,
        PK_MAX_CHILDREN,
        PK_TIMEOUT_S,
        PK_MAX_TOKENS,
        PK_BUDGET_TOKENS,
        PK_BUDGET_COST_USD,
        PK_PRICE,
        PK_EXTENDS,
        PK_EXECUTOR,
        PK_BODY,
        PK__MAX,
} profile_key;

#define POD_LIMITS_COUNT 6 /* the whole-number limits, max_turns to budget_tokens */
typedef struct profile_key_info {
        const char *key; /* as written in front matter ("limits.max_turns") */
        const char *manifest; /* where its value lands in the manifest ("model.spec") */
} profile_key_info;

extern const profile_key_info profile_keys[PK__MAX];

/* Where a value came from: a file and line, or nowhere (file NULL: a base default). */
typedef struct profile_origin {
        const char *file;
        unsigned line;
} profile_origin;

typedef struct pod_profile {
        profile_source source;
        char *slug;
        char *file; /* path, or "<builtin>/slug.md" */
        char sha256[SHA256_HEX_LEN + 1];

        bool set[PK__MAX];
        profile_origin origin[PK__MAX];

        char *name, *description, *model, *endpoint, *api_key_env, *extends, *executor;
        pod_reasoning reasoning;
        char **tools;
        char **skills;
        pod_access scope;
        pod_network network;
        int64_t limits[POD_LIMITS_COUNT]; /* indexed by key - PK_MAX_TURNS */
        double budget_cost_usd; /* limits.budget_cost_usd; 0: none */
        double price[3]; /* USD per million tokens: input, output, cached input (set[PK_PRICE]) */
        char *body;
        char *text; /* the file as read, for the profile snapshot of a manifest */
        char *script_text; /* a script: model's script from a snapshot (NULL: read its file) */

        /* Filled in when extends: is applied. */
        char *base_selector; /* qualified selector of the base */
        char *base_file;
        char base_sha256[SHA256_HEX_LEN + 1];

        char **warnings; /* e.g. the executor: deprecation, one line each */
} pod_profile;

/* Parse profile text (front matter + body). Pure: reads nothing but text. */
int profile_parse(pod_profile **out,
                  profile_source source,
                  const char *slug,
                  const char *file,
                  const char *text,
                  size_t len,
                  pod_error *err);
/* Read and parse a file; the slug is the file stem (which must be a valid slug). */
int profile_load(pod_profile **out,
                 profile_source source,
                 int dirfd,
                 const char *path,
                 const char *display,
                 pod_error *err);
/* Start p from base (DESIGN §4 extends: p's own keys win, its body if non-empty). */
int profile_apply_base(pod_profile *p,
                       const pod_profile *base,
                       const char *base_selector,
                       pod_error *err);
pod_profile *profile_free(pod_profile *p);
static inline void profile_freep(pod_profile **p) {
        profile_free(*p);
}
/* "project:coder" */
char *profile_selector(const pod_profile *p);

/*
 * Front matter of any Markdown file with YAML front matter (profiles, SKILL.md): checks
 * text (UTF-8, no NUL, at most max bytes) and YAML shape (depth, node count, no aliases),
 * then returns the top-level mapping as JSON (scalars as strings; duplicate keys refused),
 * each key's line in *ret_lines, and where the body starts.
 */
int frontmatter_parse(json_t **ret_values,
                      json_t **ret_lines,
                      const char **ret_body,
                      unsigned *ret_body_line,
                      const char *text,
                      size_t len,
                      size_t max,
                      const char *file,
                      pod_error *err);

/* ---- discovery (discovery.c) ------------------------------------------------------------ */

typedef struct profile_entry {
        profile_source source;
        char *slug;
        char *selector; /* qualified: "project:coder", or "path:/abs/file.md" */
        char *file; /* path shown to the operator */
        pod_profile *profile; /* NULL when broken */
        char *error; /* why it is broken: one line naming file and problem */
        const struct profile_entry *shadowed_by; /* a higher source with the same slug */
        bool untrusted; /* a project profile of a project dir the operator did not trust */
} profile_entry;

typedef struct profile_set profile_set;

/*
 * Discover every profile visible from cwd (absolute; never the process cwd): builtin,
 * user (<config_dir>/profiles) and project (<project dir>/.pod/profiles). Broken
 * profiles are entries with an error; they never hide the others. Fails only on
 * invalid arguments or when memory runs out.
 */
int profile_set_discover(profile_set **out,
                         const char *cwd,
                         const char *config_dir,
                         pod_error *err);
profile_set *profile_set_free(profile_set *s);
static inline void profile_set_freep(profile_set **s) {
        profile_set_free(*s);
}
size_t profile_set_count(const profile_set *s);
const profile_entry *profile_set_get(const profile_set *s, size_t i);
const char *profile_set_project_dir(const profile_set *s); /* NULL: none */
const char *profile_set_cwd(const profile_set *s);
/* The effective default, or NULL with *ret_error saying why (pointer to a missing slug). */
const profile_entry *profile_set_default(const profile_set *s, const char **ret_error);
/* Is the set's project dir trusted (DESIGN §4)? False without a project dir. */
bool profile_set_project_trusted(const profile_set *s);
/* Where the effective default came from ("the user's default pointer <path>"), or NULL. */
const char *profile_set_default_origin(const profile_set *s);
/* A default pointer that was ignored, and why (an untrusted project's), or NULL. */
const char *profile_set_default_note(const profile_set *s);
/* The entry a user or project default pointer names (NULL: none, or it names nothing that
 * exists), and the pointer's path in *ret_path (NULL when none was read). */
const profile_entry *
profile_set_pointer(const profile_set *s, profile_source source, const char **ret_path);
/* Problems that are not one profile's: unreadable folders, bad default pointers. */
char *const *profile_set_diagnostics(const profile_set *s);
/*
 * The snapshot of a set that a manifest carries (DESIGN §6): the user and project profiles
 * as their text, the broken ones with their errors, and the effective default, so a pod
 * can resolve selectors without reading outside its scope.
 */
json_t *profile_set_snapshot(const profile_set *s);
/* Rebuild a set from a snapshot (builtin profiles come from the binary). Reads no file. */
int profile_set_from_snapshot(profile_set **out,
                              const json_t *snapshot,
                              const char *cwd,
                              pod_error *err);
/* Check a snapshot's shape and limits (used by manifest validation). */
int profile_snapshot_validate(const json_t *snapshot, pod_error *err);

/* Entry for source:slug, or NULL. */
const profile_entry *
profile_set_find(const profile_set *s, profile_source source, const char *slug);

/* What a default pointer's text (a symlink's target that is no path, or the one-line
 * file) names: a slug of its own source, or source:slug of a source no higher. */
int pointer_parse(profile_source *ret_src,
                  char **ret_slug,
                  const char *path,
                  profile_source own,
                  const char *text,
                  pod_error *err);
/* The project dir of a pod cwd: the nearest ancestor holding .pod/ (*ret NULL: none). */
int project_dir_find(char **ret, const char *cwd);

/* ---- trust (trust.c, DESIGN §3, §4) ------------------------------------------------------ */

#define POD_TRUST_MAX_BYTES (1024u * 1024u) /* <config dir>/trusted-projects */
#define POD_TRUST_ENTRIES_MAX 10000u

/* Parse the trusted-projects text: absolute paths, one a line; other lines trust nothing. */
int trust_parse(char ***out, const char *text, size_t len, const char *what, pod_error *err);
/* The trusted project dirs of a config dir (an empty list when the file does not exist). */
int trust_list(char ***out, const char *config_dir, pod_error *err);
/*
 * Is project_dir (canonical) trusted by the operator whose config dir this is? The one
 * trust query: discovery and `pod doctor` ask it. An unreadable list is an error.
 */
int trust_check(bool *ret, const char *config_dir, const char *project_dir, pod_error *err);
/* Add (or, add false, remove) dir, canonical, under a lock; the file is replaced atomically. */
int trust_change(
        const char *config_dir, const char *dir, bool add, bool *ret_changed, pod_error *err);

/* ---- the profile store (store.c, DESIGN §4): the write side --------------------------- */

typedef enum store_write_mode {
        STORE_REPLACE, /* rename(2) over what is there */
        STORE_NOREPLACE, /* -EEXIST when something is there */
} store_write_mode;

/* Write name in dfd atomically: a hidden temporary file, fsync'd, then renamed into place. */
int store_write_file(int dfd,
                     const char *name,
                     const char *data,
                     size_t len,
                     mode_t mode,
                     store_write_mode how,
                     pod_error *err);
/*
 * Point dfd/default-profile at target: a new symlink under a temporary name, renamed over
 * the pointer (never written through); where symlinks cannot be made, the one-line file,
 * written the same way (*ret_symlink false).
 */
int store_write_pointer(int dfd, const char *target, bool *ret_symlink, pod_error *err);
/* Where a source's files live: the config dir (user), <project dir>/.pod (project; the
 * cwd's .pod when there is no project yet). Builtin: an error saying how to copy one. */
int store_source_root(char **out, const profile_set *s, profile_source src, pod_error *err);
/* The text of a profile as its parser reads it back: front matter, then the body. */
int profile_render(pod_buf *b, const pod_profile *p);
/* Would text be a valid profile src:slug in this set (parsed, extends applied)? */
int store_validate(profile_set *s,
                   profile_source src,
                   const char *slug,
                   const char *file,
                   const char *text,
                   size_t len,
                   pod_error *err);

typedef struct store_create_opts {
        const char *slug;
        profile_source source; /* user or project */
        const char *from; /* selector to start from; NULL: builtin:default */
        const char *model, *endpoint, *description; /* NULL: from's */
        bool force; /* replace an existing file */
} store_create_opts;

/* A complete profile (from's values after extends, with the options), validated, written;
 * -EEXIST without force when the file exists. *ret_file: its path. */
int store_create(profile_set *s, const store_create_opts *o, char **ret_file, pod_error *err);
/* Validate text as e's new contents, then replace e's file, keeping its mode. */
int store_replace(
        profile_set *s, const profile_entry *e, const char *text, size_t len, pod_error *err);
/*
 * Make e the default of pointer's source (POD_SOURCE_BUILTIN: e's own source; builtin and
 * user profiles: the user's). *ret_path: the pointer written.
 */
int store_use(profile_set *s,
              const profile_entry *e,
              profile_source pointer,
              char **ret_path,
              bool *ret_symlink,
              pod_error *err);
/* Delete e's file; -EBUSY when a default pointer names it, unless force (which removes
 * that pointer too, said in *ret_note). */
int store_delete(
        profile_set *s, const profile_entry *e, bool force, char **ret_note, pod_error *err);
/* Write the starters (DESIGN §4) into src's profiles; an existing file is kept, never
 * overwritten. The slugs written and kept are pushed to the lists. */
int store_init_starters(
        profile_set *s, profile_source src, char ***ret_written, char ***ret_kept, pod_error *err);

/* The fields in which two manifests differ, sorted: [{field: "model.spec", a, b}] (the pod
 * name, instruction and profile snapshot left out). */
int manifest_diff_fields(json_t **out, const json_t *a, const json_t *b);
/* A unified diff of two texts (nothing when they are equal); -ENOMEM only. */
int text_unified_diff(
        pod_buf *o, const char *a, const char *b, const char *label_a, const char *label_b);
/* The entry a store command acts on: like a selector, but broken and untrusted profiles are
 * found too (an operator may fix or delete them); path selectors are refused. */
int store_find(const profile_entry **out, profile_set *s, const char *text, pod_error *err);

/* ---- selectors (selector.c, DESIGN §5) -------------------------------------------------- */

typedef enum selector_context {
        SEL_CONTEXT_CLI, /* --profile */
        SEL_CONTEXT_SPAWN, /* SpawnPod.profile */
        SEL_CONTEXT_EXTENDS, /* extends: in a profile */
} selector_context;

typedef enum selector_kind {
        SEL_DEFAULT,
        SEL_INHERIT,
        SEL_QUALIFIED,
        SEL_SLUG,
        SEL_PATH,
} selector_kind;

typedef struct pod_selector {
        selector_kind kind;
        profile_source source; /* SEL_QUALIFIED */
        char *value; /* slug or path */
} pod_selector;

#define POD_SELECTOR_MAX 4096u

/* Classify text; refuses forms the context does not accept. Errors have no list. */
int selector_parse(pod_selector *out, const char *text, selector_context ctx, pod_error *err);
void selector_done(pod_selector *s);
/*
 * Resolve text to one entry. SEL_INHERIT returns 1 with *out NULL (the caller derives from
 * its own manifest). A path selector loads the file into the set. Every error ends with
 * the list of available selectors.
 */
int profile_set_select(const profile_entry **out,
                       profile_set *s,
                       const char *text,
                       selector_context ctx,
                       pod_error *err);
/*
 * The compact list of selectors: "builtin:coder, builtin:default (default), ...", then the
 * special selectors. The one formatter behind selector errors and the SpawnPod
 * description. max_bytes bounds the output (entries past it are counted, not listed).
 */
int selector_format_available(pod_buf *b,
                              const profile_set *s,
                              selector_context ctx,
                              size_t max_bytes);

/* One entry as the list shows it: "builtin:default (default)", "project:x (broken)". */
int selector_entry_label(pod_buf *b, const profile_set *s, const profile_entry *e);

/* ---- manifest (manifest.c, DESIGN §6) --------------------------------------------------- */

/* Runtime inputs: what the caller adds to a profile. NULL / 0 members take defaults. */
typedef struct manifest_inputs {
        const char *name; /* pod name; default: the profile slug */
        const char *cwd; /* absolute; default: the set's cwd */
        const char *selector; /* as the user wrote it */
        const char *model; /* --model override, a model spec */
        const char *endpoint; /* --endpoint override, for the model's provider */
        const char *model_base; /* directory a relative script: in --model resolves from */
        const char *instruction; /* replaces the worker instruction */
        const char *parent; /* parent pod name, NULL for a top-level pod */
        unsigned depth;
        const pod_scope *scope; /* NULL: top-level scope from cwd and the ceiling */
        const char *scope_origin; /* how scope was made, for --explain */
        bool sandbox_off; /* POD_SANDBOX=off was set by the operator */
        /* A profile without model runs (DESIGN §4): a child its spawner's model block, a
         * top-level pod the effective default profile's model. */
        const json_t *spawner_model;
        const pod_profile *default_profile;
} manifest_inputs;

/* Resolve a profile into a manifest. *ret_explain (optional) maps each field to its origin. */
int manifest_resolve(json_t **out,
                     json_t **ret_explain,
                     const pod_profile *p,
                     const manifest_inputs *in,
                     pod_error *err);
/* The operator's budget for a top-level pod, as the CLI's options give it (NULL: the
 * profile's): each part given replaces the profile's (turns and seconds its max_turns and
 * timeout_s too). A bad value is an error naming the option. */
typedef struct manifest_budget_args {
        const char *tokens, *usd, *turns, *seconds;
} manifest_budget_args;
int manifest_set_budget(json_t *m, const manifest_budget_args *a, pod_error *err);
/* Derive a child manifest from a parent's (DESIGN §5 inherit). */
int manifest_inherit(json_t **out, const json_t *parent, const manifest_inputs *in, pod_error *err);
/* Everything a child checks before it runs a manifest it was handed. */
int manifest_validate(const json_t *m, pod_error *err);
/* The scope of a manifest (its allow and deny rules; the ceiling is left out). */
int manifest_scope(pod_scope *out, const json_t *m, pod_error *err);
/* Does a pod on manifest m run in the kernel sandbox? Anything but "off" is on (fail closed). */
bool manifest_sandboxed(const json_t *m);
/* Parse manifest text (bounded), then validate it. */
int manifest_parse(json_t **out, const char *text, size_t len, pod_error *err);

/* ---- the manifest view (manifest-validate.c, DESIGN §6) --------------------------------- */

typedef struct manifest_model {
        char *spec; /* "provider:model" */
        const model_provider *provider;
        pod_handler handler;
        char *name; /* the part after "provider:" */
        char *endpoint_url; /* normalised; NULL: the handler takes none */
        pod_endpoint endpoint; /* endpoint_url parsed (all zero without one) */
        char *key_env; /* the key's variable name; NULL: none */
        pod_reasoning reasoning;
        json_t *script; /* the script handler's {"turns": [...]}; NULL for the others */
} manifest_model;

typedef struct manifest_limits {
        unsigned max_turns, max_depth, max_children;
        int64_t timeout_s, max_tokens;
        int64_t budget_tokens; /* 0: none */
} manifest_limits;

/* The budget granted to the pod (DESIGN §18): a top-level pod's from its profile and the CLI,
 * a child's from its spawner. Tokens and cost may be unbounded (has_* false). */
typedef struct manifest_budget {
        bool has_tokens, has_cost;
        uint64_t tokens, turns, seconds;
        double cost_usd;
} manifest_budget;

/* The profile's price: (USD per million tokens); set false: no cost is counted. */
typedef struct manifest_price {
        bool set;
        double input, output, cached_input;
} manifest_price;

/*
 * The typed, read-only view of a validated manifest, built once: code reads a manifest
 * through it, never by string keys. Strings are copies and JSON members are references
 * held by the view, so the view stays valid while the manifest's members are replaced.
 * What is still JSON (skills, prompt overrides, AGENTS.md, the profile snapshot) is handed
 * on whole to the prompt templates and the profile set.
 */
typedef struct manifest_view {
        char *name, *cwd;
        char *parent; /* NULL: a top-level pod */
        unsigned depth;
        char *selector, *profile_file, *profile_sha256;
        profile_source source;
        manifest_model model;
        json_t *instruction; /* a JSON string: the worker instruction */
        char **tools; /* the tool names, NULL-terminated */
        pod_network network;
        manifest_limits limits;
        manifest_budget budget;
        manifest_price price;
        pod_scope scope; /* the allow and deny rules */
        json_t *scope_json; /* the scope as the manifest has it (its ceiling too), for records */
        pod_access ceiling;
        bool sandboxed; /* anything but "off" is on (fail closed) */
        json_t *skills, *prompts, *agents_md, *profiles;
} manifest_view;

/* Validate m (manifest_validate) and build its view. Errors name the field. */
int manifest_view_new(manifest_view **out, const json_t *m, pod_error *err);
manifest_view *manifest_view_free(manifest_view *v);
static inline void manifest_view_freep(manifest_view **v) {
        manifest_view_free(*v);
}
bool manifest_view_has_tool(const manifest_view *v, const char *tool);
const char *manifest_view_instruction(const manifest_view *v);
