/* SPDX-License-Identifier: MIT */
#include "pod-test.h"

TestSuite(spawn_prepare, .init = pod_fixture_setup, .fini = pod_fixture_teardown);

/* The parent: project:lead (or sel) resolved in proj with scope write:proj, deny read
 * proj/secret, and the snapshot of the set it saw. */
static json_t *parent_manifest(const char *lead_front) {
        profile_set *s = NULL;
        const profile_entry *e = NULL;
        pod_scope scope = { 0 };
        manifest_inputs in = { .cwd = proj, .name = "lead" };
        char text[512], *secret = tu_path(proj, "secret");
        json_t *m = NULL;
        pod_error err = { 0 };

        snprintf(text, sizeof(text), "---\nmodel: codex:gpt-5\n%s---\nLead.\n", lead_front);
        tu_write(proj, ".pod/profiles/lead.md", text);
        tu_write(proj, ".pod/profiles/helper.md",
                 "---\ndescription: Helps\nmodel: openai:x\n---\n");
        tu_trust(proj, proj); /* the project as the config dir: trusted, no user profiles */
        cr_assert_eq(profile_set_discover(&s, proj, proj, &err), 0, "%s", err.msg);
        cr_assert_eq(profile_set_select(&e, s, "project:lead", SEL_CONTEXT_CLI, &err), 0, "%s",
                     err.msg);
        scope_add(&scope, false, proj, POD_ACCESS_WRITE, true, NULL);
        scope_add(&scope, true, secret, POD_ACCESS_READ, true, NULL);
        in.scope = &scope;
        in.sandbox_off = true;
        cr_assert_eq(manifest_resolve(&m, NULL, e->profile, &in, &err), 0, "%s", err.msg);
        json_object_set_new(m, "profiles", profile_set_snapshot(s));
        scope_done(&scope);
        profile_set_free(s);
        free(secret);
        return m;
}

static json_t *input(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static json_t *input(const char *fmt, ...) {
        char buf[4096];
        va_list ap;
        json_t *j;

        va_start(ap, fmt);
        vsnprintf(buf, sizeof(buf), fmt, ap);
        va_end(ap);
        j = json_loads(buf, 0, NULL);
        cr_assert_not_null(j, "bad test input %s", buf);
        return j;
}

static int prepare(json_t **child,
                   const json_t *parent,
                   json_t *in,
                   const scope_lease *leases,
                   size_t nl,
                   unsigned live,
                   pod_error *err) {
        spawn_request req = { .input = in,
                              .leases = leases,
                              .n_leases = nl,
                              .live_children = live,
                              .runtime_dir = "/run/user/0/pod" };
        const char *task = NULL;
        int r = spawn_prepare(child, NULL, &task, parent, &req, err);

        if (r >= 0)
                cr_assert_str_eq(task, json_string_value(json_object_get(in, "task")));
        json_decref(in);
        return r;
}

static json_t *at(json_t *m, const char *a, const char *b) {
        return b ? json_object_get(json_object_get(m, a), b) : json_object_get(m, a);
}

Test(spawn_prepare, a_child_gets_exactly_the_requested_scope) {
        json_t *parent = parent_manifest(""), *before = json_deep_copy(parent), *child = NULL;
        pod_error err = { 0 };
        json_t *allow;

        cr_assert_eq(prepare(&child, parent,
                             input("{\"name\": \"c1\", \"task\": \"fix\", "
                                   "\"profile\": \"builtin:coder\", \"scope\": "
                                   "[{\"path\": \"%s/src\", \"access\": \"write\"}]}",
                                   proj),
                             NULL, 0, 0, &err),
                     0, "%s", err.msg);
        cr_assert(json_equal(parent, before), "the spawner's manifest is untouched");
        cr_assert_str_eq(json_string_value(at(child, "pod", "name")), "c1");
        cr_assert_str_eq(json_string_value(at(child, "pod", "parent")), "lead");
        cr_assert_eq(json_integer_value(at(child, "pod", "depth")), 1);
        allow = at(child, "scope", "allow");
        cr_assert_eq(json_array_size(allow), 1);
        cr_assert(str_endswith(json_string_value(json_object_get(json_array_get(allow, 0), "path")),
                               "/proj/src"));
        cr_assert_eq(json_array_size(at(child, "scope", "deny")), 0, "the secret is not under src");
        /* builtin:coder names no model: the child runs its spawner's (DESIGN §4). */
        cr_assert_str_eq(json_string_value(at(child, "model", "spec")), "codex:gpt-5");
        cr_assert_str_eq(json_string_value(at(child, "model", "origin")), "spawner:lead");
        cr_assert_eq(json_integer_value(at(child, "limits", "max_depth")), 3,
                     "limits shrink with depth");
        cr_assert(json_equal(at(child, "profiles", NULL), at(parent, "profiles", NULL)),
                  "the child carries the same profile snapshot");
        cr_assert_str_eq(json_string_value(at(child, "sandbox", NULL)), "off");
        cr_assert(str_endswith(json_string_value(at(child, "pod", "cwd")), "/proj/src"),
                  "the spawner's cwd is not readable, so the first rule's path");
        json_decref(child);
        json_decref(before);
        json_decref(parent);
}

Test(spawn_prepare, deny_rules_inside_the_grant_follow_it) {
        json_t *parent = parent_manifest(""), *child = NULL;
        pod_error err = { 0 };

        cr_assert_eq(prepare(&child, parent,
                             input("{\"name\": \"r\", \"task\": \"t\", \"profile\": "
                                   "\"builtin:reviewer\", \"scope\": [{\"path\": "
                                   "\"%s\", \"access\": \"read\"}]}",
                                   proj),
                             NULL, 0, 0, &err),
                     0, "%s", err.msg);
        cr_assert_eq(json_array_size(at(child, "scope", "deny")), 1);
        cr_assert_str_eq(json_string_value(at(child, "pod", "cwd")), proj);
        json_decref(child);
        json_decref(parent);
}

static void expect_refusal(const char *lead_front,
                           json_t *in,
                           const scope_lease *leases,
                           size_t nl,
                           unsigned live,
                           const char *want) {
        json_t *parent = parent_manifest(lead_front), *child = NULL;
        pod_error err = { 0 };

        cr_assert_lt(prepare(&child, parent, in, leases, nl, live, &err), 0);
        cr_assert_null(child);
        cr_assert(strstr(err.msg, want), "wanted '%s' in: %s", want, err.msg);
        cr_assert_null(strchr(err.msg, '\n'));
        json_decref(parent);
}

Test(spawn_prepare, each_scope_term_refuses_by_name) {
        scope_lease lease = { NULL, "sibling" };
        char *src = tu_path(proj, "src");

        lease.path = src;
        expect_refusal("",
                       input("{\"name\": \"c\", \"task\": \"t\", \"scope\": [{\"path\": \"%s\", "
                             "\"access\": \"read\"}]}",
                             outside),
                       NULL, 0, 0, "not covered by the spawner's scope");
        expect_refusal(
                "",
                input("{\"name\": \"c\", \"task\": \"t\", \"profile\": \"builtin:reviewer\", "
                      "\"scope\": [{\"path\": \"%s\", \"access\": \"write\"}]}",
                      src),
                NULL, 0, 0, "exceeds the child profile's scope ceiling 'read'");
        expect_refusal("",
                       input("{\"name\": \"c\", \"task\": \"t\", \"scope\": [{\"path\": \"%s\", "
                             "\"access\": \"write\"}]}",
                             src),
                       &lease, 1, 0, "overlaps the write lease pod 'sibling' holds");
        expect_refusal(
                "",
                input("{\"name\": \"c\", \"task\": \"t\", \"scope\": [{\"path\": \"%s/secret\", "
                      "\"access\": \"read\"}]}",
                      proj),
                NULL, 0, 0, "not covered");
        free(src);
}

Test(spawn_prepare, selectors_follow_the_spawnpod_rules) {
        expect_refusal("",
                       input("{\"name\": \"c\", \"task\": \"t\", \"profile\": \"./x.md\", "
                             "\"scope\": [{\"path\": \"%s\", \"access\": \"read\"}]}",
                             proj),
                       NULL, 0, 0, "SpawnPod does not take profile files");
        expect_refusal("",
                       input("{\"name\": \"c\", \"task\": \"t\", \"profile\": \"nobody\", "
                             "\"scope\": [{\"path\": \"%s\", \"access\": \"read\"}]}",
                             proj),
                       NULL, 0, 0, "available profiles: builtin:coder");
}

Test(spawn_prepare, inherit_keeps_the_recipe_and_takes_the_new_scope) {
        json_t *parent = parent_manifest(""), *child = NULL;
        pod_error err = { 0 };

        cr_assert_eq(prepare(&child, parent,
                             input("{\"name\": \"twin\", \"task\": \"t\", \"profile\": "
                                   "\"inherit\", \"instruction\": \"Only docs.\", "
                                   "\"scope\": [{\"path\": \"%s/README.md\", \"access\": "
                                   "\"write\", \"recursive\": false}]}",
                                   proj),
                             NULL, 0, 0, &err),
                     0, "%s", err.msg);
        cr_assert_str_eq(json_string_value(at(child, "model", "spec")), "codex:gpt-5");
        cr_assert_str_eq(json_string_value(at(child, "instruction", NULL)), "Only docs.");
        cr_assert_str_eq(json_string_value(at(child, "profile", "selector")), "inherit");
        cr_assert_eq(json_array_size(at(child, "scope", "allow")), 1);
        cr_assert(json_is_false(
                json_object_get(json_array_get(at(child, "scope", "allow"), 0), "recursive")));
        json_decref(child);
        json_decref(parent);
}

Test(spawn_prepare, depth_and_child_limits) {
        expect_refusal(
                "limits:\n  max_depth: 0\n",
                input("{\"name\": \"c\", \"task\": \"t\", \"scope\": [{\"path\": \"%s\", \"access\": \"read\"}]}",
                      proj),
                NULL, 0, 0, "refused by max_depth");
        expect_refusal(
                "limits:\n  max_children: 2\n",
                input("{\"name\": \"c\", \"task\": \"t\", \"scope\": [{\"path\": \"%s\", \"access\": \"read\"}]}",
                      proj),
                NULL, 0, 2, "refused by max_children");
}

Test(spawn_prepare, bad_input_is_refused_clearly) {
        expect_refusal(
                "", input("{\"name\": \"c\", \"task\": \"t\", \"scope\": [], \"colour\": \"red\"}"),
                NULL, 0, 0, "unknown field 'colour'");
        expect_refusal("", input("{\"name\": \"C!\", \"task\": \"t\", \"scope\": []}"), NULL, 0, 0,
                       "name must be lowercase");
        expect_refusal("", input("{\"name\": \"c\", \"scope\": []}"), NULL, 0, 0, "task must be");
        expect_refusal("", input("{\"name\": \"c\", \"task\": \"t\", \"scope\": []}"), NULL, 0, 0,
                       "scope must be a non-empty list");
        expect_refusal("",
                       input("{\"name\": \"c\", \"task\": \"t\", \"scope\": [{\"path\": \"src\", "
                             "\"access\": \"read\"}]}"),
                       NULL, 0, 0, "must be absolute");
        expect_refusal("",
                       input("{\"name\": \"c\", \"task\": \"t\", \"scope\": [{\"path\": \"/x\", "
                             "\"access\": \"exec\"}]}"),
                       NULL, 0, 0, "read or write");
        expect_refusal("",
                       input("{\"name\": \"c\", \"task\": \"t\", \"cwd\": \"%s\", \"scope\": "
                             "[{\"path\": \"%s/src\", \"access\": \"read\"}]}",
                             outside, proj),
                       NULL, 0, 0, "the child's scope can read");
        expect_refusal(
                "",
                input("{\"name\": \"c\", \"task\": \"t\", \"cwd\": \"%s/src/../../outside\", "
                      "\"scope\": [{\"path\": \"%s/src\", \"access\": \"read\"}]}",
                      proj, proj),
                NULL, 0, 0, "resolves to");
        expect_refusal("",
                       input("{\"name\": \"c\", \"task\": \"t\", \"cwd\": \"%s/src/main.c\", "
                             "\"scope\": [{\"path\": \"%s/src\", \"access\": \"read\"}]}",
                             proj, proj),
                       NULL, 0, 0, "is not a directory");
        expect_refusal(
                "",
                input("{\"name\": \"c\", \"task\": \"t\", \"scope\": [{\"path\": \"%s/src\", "
                      "\"access\": \"write\", \"recursive\": false}]}",
                      proj),
                NULL, 0, 0, "scope[0]: recursive: false names one file");
        expect_refusal("",
                       input("{\"name\": \"%s\", \"task\": \"t\", \"scope\": []}",
                             "a-very-long-name-that-will-not-fit-in-a-unix-socket-path-at-all-x"),
                       NULL, 0, 0, "name must be");
}

Test(spawn_prepare, a_name_whose_socket_path_cannot_fit_is_refused) {
        json_t *parent = parent_manifest(""), *child = NULL;
        char rt[80];
        json_t *in =
                input("{\"name\": \"a-name-of-forty-characters-exactly-12345\", \"task\": \"t\", "
                      "\"scope\": [{\"path\": \"%s\", \"access\": \"read\"}]}",
                      proj);
        spawn_request req = { .input = in };
        const char *task = NULL;
        pod_error err = { 0 };

        memset(rt, 'r', sizeof(rt) - 1);
        rt[0] = '/';
        rt[sizeof(rt) - 1] = '\0';
        req.runtime_dir = rt;
        cr_assert_lt(spawn_prepare(&child, NULL, &task, parent, &req, &err), 0);
        cr_assert(strstr(err.msg, "too long for a socket path"), "%s", err.msg);
        json_decref(in);
        json_decref(parent);
}

Test(spawn_prepare, the_cwd_is_resolved_before_it_is_checked_and_recorded) {
        json_t *parent = parent_manifest(""), *child = NULL;
        char *src = tu_path(proj, "src"), *link = tu_path(proj, "src/up");
        pod_error err = { 0 };

        cr_assert_eq(prepare(&child, parent,
                             input("{\"name\": \"c\", \"task\": \"t\", \"cwd\": "
                                   "\"%s/src/../src/\", \"scope\": [{\"path\": "
                                   "\"%s\", \"access\": \"read\"}]}",
                                   proj, src),
                             NULL, 0, 0, &err),
                     0, "%s", err.msg);
        cr_assert_str_eq(json_string_value(at(child, "pod", "cwd")), src);
        json_decref(child);
        cr_assert_eq(prepare(&child, parent,
                             input("{\"name\": \"c\", \"task\": \"t\", \"scope\": "
                                   "[{\"path\": \"%s/main.c\", \"access\": "
                                   "\"write\", \"recursive\": false}]}",
                                   src),
                             NULL, 0, 0, &err),
                     0, "%s", err.msg);
        cr_assert_str_eq(json_string_value(at(child, "pod", "cwd")), src,
                         "a scope of one file: the file's directory");
        json_decref(child);
        cr_assert_eq(symlink(outside, link), 0);
        expect_refusal("",
                       input("{\"name\": \"c\", \"task\": \"t\", \"cwd\": \"%s\", \"scope\": "
                             "[{\"path\": \"%s\", \"access\": \"read\"}]}",
                             link, src),
                       NULL, 0, 0, "which the child's scope cannot read");
        json_decref(parent);
        free(src);
        free(link);
}

/* A child's network is at most its spawner's (none < model-only < full): a `full` child of a
 * `model-only` or `none` spawner would otherwise run commands that reach the host's Unix
 * sockets (docs/sandbox.md). A narrower one stays as it is. */
Test(spawn_prepare, a_childs_network_never_exceeds_the_spawners) {
        static const struct {
                const char *spawner, *profile, *child;
        } cases[] = {
                { "none", "full", "none" },       { "model-only", "full", "model-only" },
                { "none", "model-only", "none" }, { "full", "full", "full" },
                { "model-only", "none", "none" }, { "full", "model-only", "model-only" },
        };

        for (size_t i = 0; i < POD_ARRAY_SIZE(cases); i++) {
                char front[64], text[128];
                json_t *parent, *child = NULL;
                pod_error err = { 0 };

                snprintf(text, sizeof(text),
                         "---\ndescription: Net\nmodel: openai:x\nnetwork: %s\n---\n",
                         cases[i].profile);
                tu_write(proj, ".pod/profiles/net.md", text);
                snprintf(front, sizeof(front), "network: %s\n", cases[i].spawner);
                parent = parent_manifest(front);
                cr_assert_eq(prepare(&child, parent,
                                     input("{\"name\": \"n%zu\", \"task\": \"t\", \"profile\": "
                                           "\"project:net\", \"scope\": [{\"path\": \"%s/src\", "
                                           "\"access\": \"read\"}]}",
                                           i, proj),
                                     NULL, 0, 0, &err),
                             0, "%s", err.msg);
                cr_assert_str_eq(json_string_value(at(child, "network", NULL)), cases[i].child,
                                 "spawner %s, profile %s", cases[i].spawner, cases[i].profile);
                json_decref(child);
                json_decref(parent);
        }
}

/* The spawner's view, when given, is what is read; the child's view is the child's manifest,
 * built as it is checked (the tree starts the child from it). */
Test(spawn_prepare, the_views_in_and_out_are_the_manifests) {
        json_t *parent = parent_manifest(""), *child = NULL;
        json_t *in = input("{\"name\": \"c2\", \"task\": \"t\", \"scope\": [{\"path\": \"%s/src\", "
                           "\"access\": \"write\"}]}",
                           proj);
        manifest_view *pv = NULL, *cv = NULL;
        spawn_request req = { .input = in, .runtime_dir = "/run/user/0/pod" };
        const char *task = NULL;
        pod_error err = { 0 };

        cr_assert_eq(manifest_view_new(&pv, parent, &err), 0, "%s", err.msg);
        req.view = pv;
        cr_assert_eq(spawn_prepare(&child, &cv, &task, parent, &req, &err), 0, "%s", err.msg);
        cr_assert_str_eq(cv->name, "c2");
        cr_assert_str_eq(cv->parent, "lead");
        cr_assert_eq(cv->depth, 1);
        cr_assert_eq(cv->limits.max_depth, json_integer_value(at(child, "limits", "max_depth")));
        cr_assert_eq(cv->scope.n_allow, 1);
        cr_assert(str_endswith(cv->scope.allow[0].path, "/proj/src"));
        cr_assert_not(cv->sandboxed, "the spawner's sandbox is off, and so is its child's");
        manifest_view_free(cv);
        cv = NULL;
        pv->limits.max_children = 0; /* the view is what is read, not the manifest */
        cr_assert_lt(spawn_prepare(&child, &cv, &task, parent, &req, &err), 0);
        cr_assert(strstr(err.msg, "refused by max_children"), "%s", err.msg);
        cr_assert_null(cv, "no view on a refusal");
        json_decref(child);
        json_decref(in);
        manifest_view_free(pv);
        json_decref(parent);
}
