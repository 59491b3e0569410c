/* SPDX-License-Identifier: MIT */
/*
 * SpawnPod before anything is reserved (DESIGN §8, steps 1-3): the input is validated,
 * the profile resolved from the spawner's snapshot (or derived with inherit), the child's
 * manifest built, and scope, depth and child limits checked. Bad input mutates nothing.
 * The child can never receive more than its spawner holds: its scope is delegated rule by
 * rule, its sandbox mode and limits never loosen, and its limits shrink with depth.
 */
#include <assert.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/un.h>

#include "pod.h"
#include "prompt/prompt.h"

#define FIELDS "name, task, scope, profile, instruction, cwd, budget"

static int bad(pod_error *err, const char *fmt, ...) _printf_(2, 3);
static int bad(pod_error *err, const char *fmt, ...) {
        char what[POD_ERROR_MAX];
        va_list ap;

        va_start(ap, fmt);
        vsnprintf(what, sizeof(what), fmt, ap);
        va_end(ap);
        return pod_error_set(err, -EINVAL, "SpawnPod: %s", what);
}

static int check_fields(const json_t *in, pod_error *err) {
        static const char *const known[] = { "name",        "task", "scope",  "profile",
                                             "instruction", "cwd",  "budget", NULL };
        const char *key;
        json_t *v;

        if (!json_is_object(in))
                return bad(err, "the input must be an object with " FIELDS);
        json_object_foreach((json_t *) in, key, v) {
                if (!strv_contains((char *const *) known, key))
                        return bad(err, "unknown field '%s' (fields: " FIELDS ")", key);
                if (strcmp(key, "scope") != 0 && strcmp(key, "budget") != 0 && !json_is_string(v))
                        return bad(err, "%s must be a string", key);
        }
        return 0;
}

static int check_name(const char *name, const spawn_request *req, pod_error *err) {
        struct sockaddr_un a;
        size_t need;

        if (!name || !slug_valid(name))
                return bad(err,
                           "name must be lowercase letters, digits, '.', '_' or '-' (at most "
                           "64, starting with a letter or digit)");
        need = req->runtime_dir ?
                strlen(req->runtime_dir) + strlen("/pods/") + strlen(name) + strlen("/sock") :
                0;
        if (need >= sizeof(a.sun_path))
                return bad(err,
                           "name '%s' is too long for a socket path under %s; choose a "
                           "shorter name",
                           name, req->runtime_dir);
        return 0;
}

/* The requested rules, made canonical (symlinks resolved, DESIGN §7); paths are allocated. */
static int parse_rules(scope_rule *rules, size_t *ret_n, const json_t *scope, pod_error *err) {
        size_t i, n = json_array_size(scope);
        json_t *v;

        if (!json_is_array(scope) || n == 0)
                return bad(err,
                           "scope must be a non-empty list of {path, access: read|write, "
                           "recursive?}; it is the only authority the child gets");
        if (n > POD_SCOPE_RULES_MAX)
                return bad(err, "scope has %zu rules; at most %u", n, POD_SCOPE_RULES_MAX);
        json_array_foreach(scope, i, v) {
                const char *path = NULL, *access = NULL;
                int recursive = 1;
                pod_access a;
                if (json_unpack(v, "{s:s, s:s, s?b !}", "path", &path, "access", &access,
                                "recursive", &recursive) < 0)
                        return bad(err, "scope[%zu] must be {path, access, recursive?}", i);
                if (access_from_string(&a, access) < 0 || a == POD_ACCESS_NONE)
                        return bad(err, "scope[%zu].access must be read or write", i);
                if (path[0] != '/')
                        return bad(err, "scope[%zu].path '%s' must be absolute", i, path);
                rules[i] = (scope_rule){ NULL, a, recursive };
                if (scope_canonicalize(&rules[i].path, path, NULL, err) < 0)
                        return pod_error_prefix(err, "SpawnPod: scope[%zu]: ", i);
                *ret_n = i + 1;
                /* The kernel would grant a directory's whole tree: refused, not widened. */
                if (scope_rule_check_file(&rules[i], err) < 0)
                        return pod_error_prefix(err, "SpawnPod: scope[%zu]: ", i);
        }
        return 0;
}

/* Depth and children: the spawner's limits bound the child's. */
static int check_limits(const manifest_view *parent,
                        const spawn_request *req,
                        json_int_t *ret_left,
                        pod_error *err) {
        json_int_t levels = parent->limits.max_depth;
        json_int_t children = parent->limits.max_children;

        if (levels < 1)
                return bad(err,
                           "refused by max_depth: this pod may not start children (its "
                           "max_depth is 0)");
        if ((json_int_t) req->live_children >= children)
                return bad(err,
                           "refused by max_children: this pod already has %u children (its "
                           "limit is %lld); stop one first",
                           req->live_children, (long long) children);
        *ret_left = levels - 1;
        return 0;
}

/*
 * The child's working directory. A requested cwd is resolved first (symlinks and "..", as
 * chdir will), and the resolved directory must be readable in the child's scope.
 */
static int child_cwd(char **out,
                     const json_t *in,
                     const manifest_view *parent,
                     const pod_scope *child,
                     pod_error *err) {
        const char *cwd = json_string_value(json_object_get(in, "cwd"));
        const char *pcwd = parent->cwd;
        _cleanup_free_ char *real = NULL;
        struct stat st;

        if (!cwd) { /* yours, else the first rule's path (a file's: its directory) */
                const scope_rule *first = &child->allow[0];
                if (scope_access_at(child, pcwd) != POD_ACCESS_NONE)
                        real = strdup(pcwd);
                else
                        real = first->recursive ? strdup(first->path) : path_parent(first->path);
                if (!real)
                        return pod_error_oom(err);
                *out = TAKE_PTR(real);
                return 0;
        }
        if (cwd[0] != '/')
                return bad(err, "cwd %s must be an absolute path", cwd);
        if (scope_canonicalize(&real, cwd, NULL, err) < 0)
                return pod_error_prefix(err, "SpawnPod: cwd: ");
        if (scope_access_at(child, real) == POD_ACCESS_NONE && strcmp(cwd, real) == 0)
                return bad(err, "cwd %s must be a directory the child's scope can read", cwd);
        if (scope_access_at(child, real) == POD_ACCESS_NONE)
                return bad(err, "cwd %s resolves to %s, which the child's scope cannot read", cwd,
                           real);
        if (stat(real, &st) < 0 || !S_ISDIR(st.st_mode))
                return bad(err, "cwd %s (%s) is not a directory", cwd, real);
        *out = TAKE_PTR(real);
        return 0;
}

/* The profile set of a spawner's snapshot (the manifest's "profiles"). */
int spawn_profiles(profile_set **out, const manifest_view *parent, pod_error *err) {
        assert(out && parent);
        return profile_set_from_snapshot(out, parent->profiles, parent->cwd, err);
}

static int resolve_profile(const pod_profile **ret_p,
                           json_t **ret_base,
                           profile_set **owned,
                           const spawn_request *req,
                           const json_t *parent,
                           const manifest_view *pv,
                           const char *selector,
                           pod_access *ret_ceiling,
                           pod_error *err) {
        profile_set *set = req->profiles;
        const profile_entry *e = NULL;
        int r;

        if (!set) {
                r = spawn_profiles(owned, pv, err);
                if (r < 0)
                        return r;
                set = *owned;
        }
        r = profile_set_select(&e, set, selector, SEL_CONTEXT_SPAWN, err);
        if (r < 0)
                return pod_error_prefix(err, "SpawnPod: ");
        if (r > 0) { /* inherit: the spawner's own recipe and ceiling */
                *ret_p = NULL;
                *ret_base = json_incref((json_t *) parent);
                *ret_ceiling = pv->ceiling;
                return 0;
        }
        *ret_p = e->profile;
        *ret_base = NULL;
        *ret_ceiling = e->profile->scope;
        return 0;
}

/* How far a network reaches: none < model-only < full. */
static int network_reach(pod_network n) {
        return n == POD_NETWORK_FULL ? 2 : n == POD_NETWORK_MODEL_ONLY ? 1 : 0;
}

/*
 * Limits, sandbox and network never loosen from spawner to child. The network most of all:
 * a child's commands with `full` would reach the Unix sockets on the host that the
 * spawner's own cannot (docs/sandbox.md); the kernel stacks TCP rules, not those.
 */
static void tighten(json_t *child,
                    const manifest_view *parent,
                    const json_t *snapshot,
                    json_int_t levels_left) {
        json_t *cl = json_object_get(child, "limits");
        json_t *md = json_object_get(cl, "max_depth");
        pod_network theirs;

        /* The child is still being built: its members are set by name. */
        if (json_integer_value(md) > levels_left)
                json_object_set_new(cl, "max_depth", json_integer(levels_left));
        if (network_from_string(&theirs, json_string_value(json_object_get(child, "network"))) < 0)
                theirs = POD_NETWORK_NONE;
        if (network_reach(theirs) > network_reach(parent->network))
                json_object_set_new(child, "network",
                                    json_string(network_to_string(parent->network)));
        if (parent->sandboxed)
                json_object_set_new(child, "sandbox", json_string("on"));
        json_object_set(child, "profiles", (json_t *) snapshot);
        json_object_set(child, "prompts", parent->prompts);
}

static int build_child(json_t **out,
                       manifest_view **ret_view,
                       const manifest_view *parent,
                       const json_t *pm,
                       const spawn_request *req,
                       const pod_profile *p,
                       json_t *inherit_from,
                       pod_scope *child_scope,
                       json_int_t levels_left,
                       pod_error *err) {
        _cleanup_free_ char *cwd = NULL;
        _cleanup_(manifest_view_freep) manifest_view *v = NULL;
        json_auto_t *m = NULL;
        const json_t *in = req->input;
        /* The snapshot the spawner resolves against now (a reconfigure may have replaced
         * the one its manifest carries): the child carries that one on. */
        const json_t *snap = req->snapshot ? req->snapshot : parent->profiles;
        manifest_inputs mi = {
                .name = json_string_value(json_object_get(in, "name")),
                .selector = json_string_value(json_object_get(in, "profile")) ?: "default",
                .instruction = json_string_value(json_object_get(in, "instruction")),
                .parent = parent->name,
                .depth = parent->depth + 1,
                .scope = child_scope,
                .scope_origin = "granted by the spawner",
                .sandbox_off = !parent->sandboxed,
                .spawner_model = json_object_get(pm, "model"),
        };
        int r;

        r = child_cwd(&cwd, in, parent, child_scope, err);
        if (r < 0)
                return r;
        mi.cwd = cwd;
        r = inherit_from ? manifest_inherit(&m, inherit_from, &mi, err) :
                           manifest_resolve(&m, NULL, p, &mi, err);
        if (r < 0)
                return r;
        tighten(m, parent, snap, levels_left);
        /* What lives on disk, inlined as for a top-level pod (DESIGN §6): skills from the
         * snapshot, the nearest AGENTS.md the spawner may read from the child's cwd. */
        {
                r = prompt_inline_child(m, json_object_get(snap, "skills"), parent->agents_md,
                                        json_string_value(json_object_get(snap, "project_dir")),
                                        err);
                if (r < 0)
                        pod_error_prefix(err, "SpawnPod: ");
        }
        if (r >= 0)
                r = manifest_view_new(&v, m, err);
        if (r < 0)
                return r;
        *out = TAKE_PTR(m);
        if (ret_view)
                *ret_view = TAKE_PTR(v);
        return 0;
}

int spawn_prepare(json_t **out,
                  manifest_view **ret_view,
                  const char **ret_task,
                  const json_t *parent,
                  const spawn_request *req,
                  pod_error *err) {
        _cleanup_(manifest_view_freep) manifest_view *own = NULL;
        const manifest_view *pv = req->view;
        const json_t *in = req->input;
        const char *task = json_string_value(json_object_get(in, "task"));
        const char *selector = json_string_value(json_object_get(in, "profile"));
        scope_rule rules[POD_SCOPE_RULES_MAX];
        pod_scope child = { 0 };
        profile_set *set = NULL;
        const pod_profile *p = NULL;
        json_t *inherit_from = NULL;
        pod_access ceiling = POD_ACCESS_NONE;
        json_int_t levels_left = 0;
        size_t n = 0;
        int r;

        assert(out && ret_task && parent && req);
        r = pv ? 0 : manifest_view_new(&own, parent, err);
        pv = pv ?: own;
        if (r >= 0)
                r = check_fields(in, err);
        if (r >= 0)
                r = check_name(json_string_value(json_object_get(in, "name")), req, err);
        if (r >= 0 && (!task || !*task || strlen(task) > POD_TASK_MAX))
                r = bad(err, "task must be a non-empty string of at most 1 MiB");
        if (r >= 0)
                r = parse_rules(rules, &n, json_object_get(in, "scope"), err);
        if (r >= 0)
                r = check_limits(pv, req, &levels_left, err);
        if (r >= 0)
                r = resolve_profile(&p, &inherit_from, &set, req, parent, pv,
                                    selector ? selector : "default", &ceiling, err);
        if (r >= 0 &&
            (r = scope_delegate(&child, &pv->scope, ceiling, req->leases, req->n_leases, rules, n,
                                err)) < 0)
                pod_error_prefix(err, "SpawnPod: ");
        if (r >= 0)
                r = build_child(out, ret_view, pv, parent, req, p, inherit_from, &child,
                                levels_left, err);
        if (r >= 0)
                *ret_task = task;
        for (size_t i = 0; i < n; i++)
                scope_rule_done(&rules[i]);
        scope_done(&child);
        json_decref(inherit_from);
        profile_set_free(set);
        return r;
}
