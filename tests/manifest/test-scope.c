/* SPDX-License-Identifier: MIT */
#include <criterion/criterion.h>
#include <limits.h>
#include <string.h>
#include <unistd.h>

#include "manifest/manifest.h"
#include "testutil.h"

static char *root; /* canonical temp dir */

/* A symlink at root/rel pointing to target (NULL: the absolute path of root/other). */
static void link_at(const char *target, const char *rel) {
        char *where = tu_path(root, rel), *abs = tu_path(root, "other");

        cr_assert_eq(symlink(target ? target : abs, where), 0);
        free(where);
        free(abs);
}

static void setup(void) {
        root = tu_tmpdir_real();
        tu_mkdirs(root, "a/b/c");
        tu_mkdirs(root, "other");
        tu_write(root, "a/file", "x");
        link_at("a/b", "link-b");
        link_at("../other", "a/up");
        link_at(NULL, "abs-other");
        link_at("loop2", "loop1");
        link_at("loop1", "loop2");
}

static void teardown(void) {
        tu_rm_rf(root);
        free(root);
}

TestSuite(scope, .init = setup, .fini = teardown);

static char *canon(const char *rel) {
        char *in = tu_path(root, rel), *out = NULL;
        pod_error err = { 0 };

        cr_assert_eq(scope_canonicalize(&out, in, NULL, &err), 0, "%s: %s", in, err.msg);
        free(in);
        return out;
}

static void expect_canon(const char *rel, const char *want_rel) {
        char *got = canon(rel), *want = want_rel[0] ? tu_path(root, want_rel) : strdup(root);

        cr_assert_str_eq(got, want, "%s", rel);
        free(got);
        free(want);
}

/* ---- canonicalisation ------------------------------------------------------------------ */

Test(scope, canonical_paths_are_unchanged) {
        expect_canon("a/b", "a/b");
}

Test(scope, trailing_slashes_and_dots_go) {
        expect_canon("a/b/", "a/b");
        expect_canon("a/./b//", "a/b");
        expect_canon("a/b/..", "a");
        expect_canon("a/b/../../a", "a");
}

Test(scope, symlinks_resolve_including_dotdot_after_them) {
        expect_canon("link-b", "a/b");
        expect_canon("link-b/c", "a/b/c");
        /* ".." after a symlink is taken physically: the parent of the target. */
        expect_canon("link-b/..", "a");
        expect_canon("a/up", "other");
        expect_canon("abs-other", "other");
}

Test(scope, missing_tail_resolves_through_existing_ancestor) {
        expect_canon("link-b/new/deeper", "a/b/new/deeper");
        expect_canon("a/new/../b", "a/b");
        expect_canon("missing/x/../y", "missing/y");
}

Test(scope, dotdot_stops_at_root) {
        char *out = NULL;

        cr_assert_eq(scope_canonicalize(&out, "/../../..", NULL, NULL), 0);
        cr_assert_str_eq(out, "/");
        free(out);
}

Test(scope, relative_needs_a_base) {
        char *out = NULL;
        pod_error err = { 0 };

        cr_assert_lt(scope_canonicalize(&out, "a/b", NULL, &err), 0);
        cr_assert(strstr(err.msg, "absolute"), "%s", err.msg);
        cr_assert_eq(scope_canonicalize(&out, "a/../link-b", root, &err), 0, "%s", err.msg);
        cr_assert(str_endswith(out, "/a/b"), "%s", out);
        free(out);
}

Test(scope, loops_empty_and_file_components_are_errors) {
        char *out = NULL, *p;
        pod_error err = { 0 };

        p = tu_path(root, "loop1/x");
        cr_assert_eq(scope_canonicalize(&out, p, NULL, &err), -ELOOP);
        free(p);
        cr_assert_lt(scope_canonicalize(&out, "", NULL, &err), 0);
        p = tu_path(root, "a/file/x");
        cr_assert_eq(scope_canonicalize(&out, p, NULL, &err), -ENOTDIR);
        free(p);
        cr_assert_null(out);
}

Test(scope, overlong_path_is_refused) {
        char *big = malloc(PATH_MAX + 10), *out = NULL;

        memset(big, 'a', PATH_MAX + 9);
        big[0] = '/';
        big[PATH_MAX + 9] = '\0';
        cr_assert_eq(scope_canonicalize(&out, big, NULL, NULL), -ENAMETOOLONG);
        free(big);
}

/* ---- effective access ------------------------------------------------------------------ */

static pod_scope make(const char *spec) {
        /* "+w:/p +r:/q -w:/x -r:/y =w:/exact" */
        pod_scope s = { 0 };
        char *copy = strdup(spec), *save = NULL;

        for (char *t = strtok_r(copy, " ", &save); t; t = strtok_r(NULL, " ", &save)) {
                bool deny = t[0] == '-', exact = t[0] == '=';
                pod_access a = t[1] == 'w' ? POD_ACCESS_WRITE : POD_ACCESS_READ;
                cr_assert_eq(scope_add(&s, deny, t + 3, a, !exact, NULL), 0);
        }
        free(copy);
        return s;
}

Test(scope, highest_allow_wins) {
        pod_scope s = make("+r:/p +w:/p/src");

        cr_assert_eq(scope_access_at(&s, "/p"), POD_ACCESS_READ);
        cr_assert_eq(scope_access_at(&s, "/p/src/x.c"), POD_ACCESS_WRITE);
        cr_assert_eq(scope_access_at(&s, "/q"), POD_ACCESS_NONE);
        cr_assert_eq(scope_access_at(&s, "/p2"), POD_ACCESS_NONE, "component-wise, not prefix");
        scope_done(&s);
}

Test(scope, deny_caps_whatever_allows) {
        pod_scope s = make("+w:/p -w:/p/ro -r:/p/secret");

        cr_assert_eq(scope_access_at(&s, "/p/x"), POD_ACCESS_WRITE);
        cr_assert_eq(scope_access_at(&s, "/p/ro/x"), POD_ACCESS_READ, "deny write -> read");
        cr_assert_eq(scope_access_at(&s, "/p/secret"), POD_ACCESS_NONE, "deny read -> none");
        cr_assert_eq(scope_access_at(&s, "/p/secret/k"), POD_ACCESS_NONE);
        scope_done(&s);
}

Test(scope, non_recursive_rule_matches_only_its_path) {
        pod_scope s = make("=w:/p/file");

        cr_assert_eq(scope_access_at(&s, "/p/file"), POD_ACCESS_WRITE);
        cr_assert_eq(scope_access_at(&s, "/p/file/x"), POD_ACCESS_NONE);
        scope_done(&s);
}

Test(scope, root_rule_covers_everything) {
        pod_scope s = make("+r:/");

        cr_assert_eq(scope_access_at(&s, "/etc/passwd"), POD_ACCESS_READ);
        scope_done(&s);
}

Test(scope, overlap_is_symmetric_and_component_wise) {
        cr_assert(scope_rules_overlap("/a", "/a/b"));
        cr_assert(scope_rules_overlap("/a/b", "/a"));
        cr_assert(scope_rules_overlap("/a", "/a"));
        cr_assert(scope_rules_overlap("/", "/a"));
        cr_assert_not(scope_rules_overlap("/ab", "/a"));
        cr_assert_not(scope_rules_overlap("/a/b", "/a/c"));
}

/* ---- delegation ------------------------------------------------------------------------ */

static int delegate(pod_scope *out,
                    const char *spawner,
                    pod_access ceiling,
                    const scope_lease *leases,
                    size_t nl,
                    const char *req,
                    pod_error *err) {
        pod_scope sp = make(spawner), rq = make(req);
        int r = scope_delegate(out, &sp, ceiling, leases, nl, rq.allow, rq.n_allow, err);

        scope_done(&sp);
        scope_done(&rq);
        return r;
}

Test(scope, covered_request_is_granted_exactly) {
        pod_scope child = { 0 };
        pod_error err = { 0 };

        cr_assert_eq(
                delegate(&child, "+w:/p", POD_ACCESS_WRITE, NULL, 0, "+w:/p/src +r:/p/doc", &err),
                0, "%s", err.msg);
        cr_assert_eq(child.n_allow, 2);
        cr_assert_str_eq(child.allow[0].path, "/p/src");
        cr_assert_eq(child.allow[0].access, POD_ACCESS_WRITE);
        cr_assert_eq(child.allow[1].access, POD_ACCESS_READ, "nothing is widened");
        scope_done(&child);
}

Test(scope, coverage_uses_the_union_of_rules) {
        pod_scope child = { 0 };
        pod_error err = { 0 };

        /* No single rule grants write on /p/src/x and read on /: the union does. */
        cr_assert_eq(delegate(&child, "+r:/ +w:/p", POD_ACCESS_WRITE, NULL, 0, "+w:/p/src +r:/usr",
                              &err),
                     0, "%s", err.msg);
        scope_done(&child);
}

Test(scope, uncovered_request_names_rule_and_term) {
        pod_scope child = { 0 };
        pod_error err = { 0 };

        cr_assert_eq(delegate(&child, "+r:/p", POD_ACCESS_WRITE, NULL, 0, "+w:/p/src", &err),
                     -EACCES);
        cr_assert(strstr(err.msg, "write:/p/src"), "%s", err.msg);
        cr_assert(strstr(err.msg, "not covered by the spawner's scope"), "%s", err.msg);
        cr_assert(strstr(err.msg, "has read access"), "%s", err.msg);
        cr_assert_eq(delegate(&child, "+w:/p", POD_ACCESS_WRITE, NULL, 0, "+r:/q", &err), -EACCES);
        cr_assert(strstr(err.msg, "(the spawner has no access there)"), "%s", err.msg);
        cr_assert_eq(delegate(&child, "+w:/p/src", POD_ACCESS_WRITE, NULL, 0, "+r:/p", &err),
                     -EACCES, "a child rule above the spawner's is not covered");
}

Test(scope, exact_rule_does_not_cover_a_subtree) {
        pod_scope child = { 0 };
        pod_error err = { 0 };

        cr_assert_eq(delegate(&child, "=w:/p", POD_ACCESS_WRITE, NULL, 0, "+w:/p", &err), -EACCES);
        cr_assert_eq(delegate(&child, "=w:/p", POD_ACCESS_WRITE, NULL, 0, "=w:/p", &err), 0, "%s",
                     err.msg);
        scope_done(&child);
}

Test(scope, deny_above_refuses_and_deny_inside_is_inherited) {
        pod_scope child = { 0 };
        pod_error err = { 0 };

        cr_assert_eq(
                delegate(&child, "+w:/p -w:/p/ro", POD_ACCESS_WRITE, NULL, 0, "+w:/p/ro/x", &err),
                -EACCES, "deny write above the request refuses write");
        cr_assert_eq(delegate(&child, "+w:/p -r:/p/secret -w:/q", POD_ACCESS_WRITE, NULL, 0,
                              "+w:/p", &err),
                     0, "%s", err.msg);
        cr_assert_eq(child.n_deny, 1, "only deny rules touching the grant are copied");
        cr_assert_str_eq(child.deny[0].path, "/p/secret");
        cr_assert_eq(child.deny[0].access, POD_ACCESS_READ);
        cr_assert_eq(scope_access_at(&child, "/p/secret/key"), POD_ACCESS_NONE,
                     "the child can never read what its spawner could not");
        scope_done(&child);
}

Test(scope, ceiling_caps_requests) {
        pod_scope child = { 0 };
        pod_error err = { 0 };

        cr_assert_eq(delegate(&child, "+w:/p", POD_ACCESS_READ, NULL, 0, "+w:/p", &err), -EACCES);
        cr_assert(strstr(err.msg, "ceiling 'read'"), "%s", err.msg);
        cr_assert_eq(delegate(&child, "+w:/p", POD_ACCESS_READ, NULL, 0, "+r:/p", &err), 0);
        scope_done(&child);
        cr_assert_eq(delegate(&child, "+w:/p", POD_ACCESS_NONE, NULL, 0, "+r:/p", &err), -EACCES);
        cr_assert(strstr(err.msg, "ceiling 'none'"), "%s", err.msg);
}

Test(scope, write_leases_of_others_refuse_overlap) {
        scope_lease leases[] = { { "/p/src", "coder-1" } };
        pod_scope child = { 0 };
        pod_error err = { 0 };

        cr_assert_eq(delegate(&child, "+w:/p", POD_ACCESS_WRITE, leases, 1, "+w:/p/src/x", &err),
                     -EBUSY);
        cr_assert(strstr(err.msg, "coder-1"), "%s", err.msg);
        cr_assert(strstr(err.msg, "lease"), "%s", err.msg);
        cr_assert_eq(delegate(&child, "+w:/p", POD_ACCESS_WRITE, leases, 1, "+w:/p", &err), -EBUSY,
                     "a request containing a lease overlaps it");
        cr_assert_eq(delegate(&child, "+w:/p", POD_ACCESS_WRITE, leases, 1, "+w:/p/doc", &err), 0,
                     "siblings do not overlap: %s", err.msg);
        scope_done(&child);
        cr_assert_eq(delegate(&child, "+w:/p", POD_ACCESS_WRITE, leases, 1, "+r:/p/src", &err), 0,
                     "read never conflicts with a lease");
        scope_done(&child);
}

Test(scope, order_of_terms_is_coverage_ceiling_lease) {
        scope_lease leases[] = { { "/p", "x" } };
        pod_scope child = { 0 };
        pod_error err = { 0 };

        delegate(&child, "+r:/p", POD_ACCESS_READ, leases, 1, "+w:/p", &err);
        cr_assert(strstr(err.msg, "not covered"), "%s", err.msg);
        delegate(&child, "+w:/p", POD_ACCESS_READ, leases, 1, "+w:/p", &err);
        cr_assert(strstr(err.msg, "ceiling"), "%s", err.msg);
}

Test(scope, relative_request_is_refused) {
        scope_rule r = { .path = "p", .access = POD_ACCESS_READ, .recursive = true };
        pod_scope sp = make("+w:/"), child = { 0 };
        pod_error err = { 0 };

        cr_assert_lt(scope_delegate(&child, &sp, POD_ACCESS_WRITE, NULL, 0, &r, 1, &err), 0);
        cr_assert(strstr(err.msg, "absolute"), "%s", err.msg);
        scope_done(&sp);
}

Test(scope, too_many_rules_is_refused) {
        scope_rule rules[POD_SCOPE_RULES_MAX + 1];
        pod_scope sp = make("+w:/"), child = { 0 };

        for (size_t i = 0; i <= POD_SCOPE_RULES_MAX; i++)
                rules[i] = (scope_rule){ "/x", POD_ACCESS_READ, true };
        cr_assert_eq(scope_delegate(&child, &sp, POD_ACCESS_WRITE, NULL, 0, rules,
                                    POD_SCOPE_RULES_MAX + 1, NULL),
                     -E2BIG);
        cr_assert_eq(scope_delegate(&child, &sp, POD_ACCESS_WRITE, NULL, 0, rules,
                                    POD_SCOPE_RULES_MAX, NULL),
                     0, "the limit itself is allowed");
        scope_done(&child);
        scope_done(&sp);
}

/* ---- CLI rules, top level, JSON -------------------------------------------------------- */

Test(scope, rule_parse_forms) {
        scope_rule r;
        pod_error err = { 0 };

        cr_assert_eq(scope_rule_parse(&r, "write:a/b/", root, &err), 0, "%s", err.msg);
        cr_assert_eq(r.access, POD_ACCESS_WRITE);
        cr_assert(str_endswith(r.path, "/a/b"));
        scope_rule_done(&r);
        cr_assert_lt(scope_rule_parse(&r, "exec:/x", root, &err), 0);
        cr_assert(strstr(err.msg, "read or write"), "%s", err.msg);
        cr_assert_lt(scope_rule_parse(&r, "/x", root, &err), 0);
        cr_assert_lt(scope_rule_parse(&r, "none:/x", root, &err), 0);
}

Test(scope, top_level_is_cwd_at_ceiling_plus_extras) {
        scope_rule extra = { "/data", POD_ACCESS_READ, true };
        scope_rule wextra = { "/data", POD_ACCESS_WRITE, true };
        pod_scope s = { 0 };
        pod_error err = { 0 };

        cr_assert_eq(scope_top_level(&s, "/p", POD_ACCESS_READ, &extra, 1, &err), 0);
        cr_assert_eq(scope_access_at(&s, "/p/x"), POD_ACCESS_READ);
        cr_assert_eq(scope_access_at(&s, "/data/y"), POD_ACCESS_READ);
        scope_done(&s);
        cr_assert_eq(scope_top_level(&s, "/p", POD_ACCESS_NONE, NULL, 0, &err), 0);
        cr_assert_eq(s.n_allow, 0, "ceiling none: no filesystem scope");
        scope_done(&s);
        cr_assert_lt(scope_top_level(&s, "/p", POD_ACCESS_READ, &wextra, 1, &err), 0);
        cr_assert(strstr(err.msg, "ceiling"), "%s", err.msg);
}

/*
 * The kernel grants a rule on a directory its whole tree: no check may call two rules
 * disjoint when both can reach one file, whatever `recursive` says.
 */
Test(scope, a_non_recursive_rule_counts_as_its_tree_in_every_overlap_check) {
        scope_lease deep[] = { { "/p/docs/deep", "sibling" } };
        pod_scope child = { 0 }, s = { 0 };
        pod_error err = { 0 };

        cr_assert_eq(delegate(&child, "+w:/p", POD_ACCESS_WRITE, deep, 1, "=w:/p/docs", &err),
                     -EBUSY, "a write on docs overlaps a lease on docs/deep");
        cr_assert(strstr(err.msg, "sibling"), "%s", err.msg);
        cr_assert_eq(delegate(&child, "+r:/p -r:/p/docs/secret", POD_ACCESS_READ, NULL, 0,
                              "=r:/p/docs", &err),
                     0, "%s", err.msg);
        cr_assert_eq(child.n_deny, 1, "the deny rule beneath follows a non-recursive grant");
        cr_assert_str_eq(child.deny[0].path, "/p/docs/secret");
        cr_assert(child.deny[0].recursive);
        scope_done(&child);
        cr_assert_eq(scope_add(&s, false, "/p", POD_ACCESS_WRITE, true, NULL), 0);
        cr_assert_eq(scope_add(&s, true, "/p/ro", POD_ACCESS_WRITE, false, NULL), 0);
        cr_assert_eq(scope_access_at(&s, "/p/ro/x"), POD_ACCESS_READ,
                     "a deny rule caps its tree, as the sandbox's holes do");
        scope_done(&s);
}

Test(scope, recursive_false_names_one_existing_file) {
        scope_rule q = { .access = POD_ACCESS_WRITE, .recursive = false };
        pod_error err = { 0 };

        q.path = tu_path(root, "a/file");
        cr_assert_eq(scope_rule_check_file(&q, &err), 0, "%s", err.msg);
        free(q.path);
        q.path = tu_path(root, "a/b");
        cr_assert_eq(scope_rule_check_file(&q, &err), -EISDIR);
        cr_assert(strstr(err.msg, "is a directory") && strstr(err.msg, "beneath"), "%s", err.msg);
        q.recursive = true;
        cr_assert_eq(scope_rule_check_file(&q, &err), 0, "a tree may be a directory");
        free(q.path);
        q.recursive = false;
        q.path = tu_path(root, "a/missing");
        cr_assert_eq(scope_rule_check_file(&q, &err), -ENOENT);
        cr_assert(strstr(err.msg, "does not exist"), "%s", err.msg);
        free(q.path);
        /* A file with a second name: the kernel's rule would follow the inode to it. */
        q.path = tu_path(root, "a/file");
        {
                char *other = tu_path(root, "a/other-name");
                cr_assert_eq(link(q.path, other), 0);
                cr_assert_eq(scope_rule_check_file(&q, &err), -EMLINK);
                cr_assert(strstr(err.msg, "2 hard links"), "%s", err.msg);
                unlink(other);
                free(other);
        }
        free(q.path);
}

Test(scope, a_non_recursive_deny_rule_is_refused_in_a_manifest) {
        json_t *j = json_pack("{s:[], s:[{s:s, s:s, s:b}]}", "allow", "deny", "path", "/p/x",
                              "access", "read", "recursive", 0);
        pod_scope s = { 0 };
        pod_error err = { 0 };

        cr_assert_eq(scope_from_json(&s, j, "t", &err), -EINVAL);
        cr_assert(strstr(err.msg, "scope.deny[0]") && strstr(err.msg, "whole tree"), "%s", err.msg);
        json_decref(j);
}

Test(scope, json_round_trip) {
        pod_scope s = make("+w:/p =r:/q -r:/p/secret"), back = { 0 };
        json_t *j = scope_to_json(&s);
        pod_error err = { 0 };

        cr_assert_eq(scope_from_json(&back, j, "t", &err), 0, "%s", err.msg);
        cr_assert_eq(back.n_allow, 2);
        cr_assert_eq(back.allow[1].recursive, false);
        cr_assert_eq(back.n_deny, 1);
        cr_assert_eq(scope_access_at(&back, "/p/secret"), POD_ACCESS_NONE);
        json_decref(j);
        scope_done(&s);
        scope_done(&back);
}

Test(scope, json_rejects_non_canonical_and_unknown) {
        static const char *bad[] = {
                "{\"allow\":[{\"path\":\"rel\",\"access\":\"read\"}],\"deny\":[]}",
                "{\"allow\":[{\"path\":\"/a/../b\",\"access\":\"read\"}],\"deny\":[]}",
                "{\"allow\":[{\"path\":\"/a/\",\"access\":\"read\"}],\"deny\":[]}",
                "{\"allow\":[{\"path\":\"/a//b\",\"access\":\"read\"}],\"deny\":[]}",
                "{\"allow\":[{\"path\":\"/a\",\"access\":\"exec\"}],\"deny\":[]}",
                "{\"allow\":[{\"path\":\"/a\",\"access\":\"read\",\"x\":1}],\"deny\":[]}",
                "{\"allow\":[],\"deny\":[],\"extra\":[]}",
                "{\"allow\":{},\"deny\":[]}",
        };
        for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
                json_t *j = json_loads(bad[i], 0, NULL);
                pod_scope s = { 0 };
                pod_error err = { 0 };
                cr_assert_not_null(j, "case %zu parses", i);
                cr_assert_lt(scope_from_json(&s, j, "t", &err), 0, "case %zu accepted", i);
                cr_assert_eq(s.n_allow, 0, "no partial state");
                json_decref(j);
        }
}
