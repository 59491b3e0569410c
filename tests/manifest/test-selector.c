/* SPDX-License-Identifier: MIT */
#include <criterion/criterion.h>
#include <string.h>
#include <unistd.h>

#include "manifest/manifest.h"
#include "testutil.h"

static char *root, *proj;
static profile_set *set;

static void setup(void) {
        pod_error err = { 0 };

        root = tu_tmpdir_real();
        proj = tu_path(root, "proj");
        tu_write(proj, ".pod/profiles/coder.md", "---\nmodel: codex:x\n---\n");
        tu_write(proj, ".pod/profiles/solo.md", "---\nmodel: openai:y\n---\n");
        tu_write(proj, ".pod/profiles/broken.md", "---\nmodel: [\n---\n");
        tu_write(proj, "roles/extra.md", "---\nmodel: openai:z\n---\n");
        tu_trust(root, proj); /* root as the config dir: no user profiles */
        cr_assert_eq(profile_set_discover(&set, proj, root, &err), 0, "%s", err.msg);
}

static void teardown(void) {
        profile_set_free(set);
        tu_rm_rf(root);
        free(root);
        free(proj);
}

TestSuite(selector, .init = setup, .fini = teardown);

static selector_kind kind_of(const char *text, selector_context ctx) {
        pod_selector s;
        pod_error err = { 0 };

        cr_assert_eq(selector_parse(&s, text, ctx, &err), 0, "%s: %s", text, err.msg);
        selector_done(&s);
        return s.kind;
}

Test(selector, forms_are_classified) {
        cr_assert_eq(kind_of("default", SEL_CONTEXT_CLI), SEL_DEFAULT);
        cr_assert_eq(kind_of("inherit", SEL_CONTEXT_SPAWN), SEL_INHERIT);
        cr_assert_eq(kind_of("builtin:coder", SEL_CONTEXT_SPAWN), SEL_QUALIFIED);
        cr_assert_eq(kind_of("user:x", SEL_CONTEXT_CLI), SEL_QUALIFIED);
        cr_assert_eq(kind_of("project:x", SEL_CONTEXT_EXTENDS), SEL_QUALIFIED);
        cr_assert_eq(kind_of("coder", SEL_CONTEXT_SPAWN), SEL_SLUG);
        cr_assert_eq(kind_of("path:/x.md", SEL_CONTEXT_CLI), SEL_PATH);
        cr_assert_eq(kind_of("roles/x", SEL_CONTEXT_CLI), SEL_PATH);
        cr_assert_eq(kind_of("./x", SEL_CONTEXT_CLI), SEL_PATH);
        cr_assert_eq(kind_of(".x", SEL_CONTEXT_CLI), SEL_PATH);
        cr_assert_eq(kind_of("x.md", SEL_CONTEXT_CLI), SEL_PATH);
}

static void expect_refused(const char *text, selector_context ctx, const char *want) {
        pod_selector s;
        pod_error err = { 0 };

        cr_assert_lt(selector_parse(&s, text, ctx, &err), 0, "%s accepted", text);
        cr_assert(strstr(err.msg, want), "wanted '%s' in: %s", want, err.msg);
}

Test(selector, context_rules) {
        expect_refused("inherit", SEL_CONTEXT_CLI, "only for SpawnPod");
        expect_refused("path:/x.md", SEL_CONTEXT_SPAWN, "SpawnPod does not take profile files");
        expect_refused("x.md", SEL_CONTEXT_SPAWN, "accepted here: default, inherit");
        expect_refused("../x", SEL_CONTEXT_SPAWN, "SpawnPod does not take");
        expect_refused("default", SEL_CONTEXT_EXTENDS, "extends must name");
        expect_refused("team:coder", SEL_CONTEXT_CLI, "unknown source");
        expect_refused("builtin:Coder", SEL_CONTEXT_CLI, "not a valid slug");
        expect_refused("", SEL_CONTEXT_CLI, "empty");
        expect_refused("a\nb", SEL_CONTEXT_CLI, "one line");
}

static void expect_select_error(const char *text, selector_context ctx, const char *want) {
        const profile_entry *e = NULL;
        pod_error err = { 0 };

        cr_assert_lt(profile_set_select(&e, set, text, ctx, &err), 0, "%s selected", text);
        cr_assert(strstr(err.msg, want), "wanted '%s' in: %s", want, err.msg);
        cr_assert_null(strchr(err.msg, '\n'));
}

Test(selector, every_selector_error_ends_with_the_list) {
        static const char *bad[] = { "nothere", "user:nothere", "team:x", "inherit" };

        for (size_t i = 0; i < 4; i++) {
                const profile_entry *e = NULL;
                pod_error err = { 0 };
                cr_assert_lt(profile_set_select(&e, set, bad[i], SEL_CONTEXT_CLI, &err), 0);
                cr_assert(strstr(err.msg, "available profiles: builtin:coder"), "%s", err.msg);
                cr_assert(strstr(err.msg, "builtin:default (default)"), "%s", err.msg);
                cr_assert(strstr(err.msg, "default"), "%s", err.msg);
                cr_assert(strstr(err.msg, "inherit"), "the reminder names inherit: %s", err.msg);
        }
}

Test(selector, a_bare_slug_is_the_highest_source_that_has_it) {
        const profile_entry *e = NULL;
        pod_error err = { 0 };

        cr_assert_eq(profile_set_select(&e, set, "coder", SEL_CONTEXT_SPAWN, &err), 0, "%s",
                     err.msg);
        cr_assert_str_eq(e->selector, "project:coder");
        cr_assert_eq(profile_set_find(set, POD_SOURCE_BUILTIN, "coder")->shadowed_by, e,
                     "shadowing is never silent");
        cr_assert_eq(profile_set_select(&e, set, "reviewer", SEL_CONTEXT_SPAWN, &err), 0, "%s",
                     err.msg);
        cr_assert_str_eq(e->selector, "builtin:reviewer");
}

Test(selector, a_near_miss_names_the_closest_selector) {
        expect_select_error("codr", SEL_CONTEXT_SPAWN, "did you mean project:coder?");
        expect_select_error("user:solo", SEL_CONTEXT_CLI, "did you mean project:solo?");
        expect_select_error("zzzzzzzz", SEL_CONTEXT_CLI, "available profiles");
}

Test(selector, an_untrusted_projects_profiles_take_no_effect) {
        profile_set *s = NULL;
        const profile_entry *e = NULL;
        pod_error err = { 0 };
        char *cfg = tu_path(root, "untrusting");

        tu_mkdirs(cfg, "");
        cr_assert_eq(profile_set_discover(&s, proj, cfg, &err), 0, "%s", err.msg);
        cr_assert_not(profile_set_project_trusted(s));
        /* Qualified: an error naming the command to run. */
        cr_assert_eq(profile_set_select(&e, s, "project:solo", SEL_CONTEXT_SPAWN, &err), -EACCES);
        cr_assert(strstr(err.msg, "project:solo is untrusted"), "%s", err.msg);
        cr_assert(strstr(err.msg, "run 'pod trust "), "%s", err.msg);
        /* A bare slug: the untrusted one neither wins nor shadows. */
        cr_assert_eq(profile_set_select(&e, s, "coder", SEL_CONTEXT_CLI, &err), 0, "%s", err.msg);
        cr_assert_str_eq(e->selector, "builtin:coder");
        cr_assert_null(e->shadowed_by);
        cr_assert_eq(profile_set_select(&e, s, "solo", SEL_CONTEXT_CLI, &err), -EACCES);
        /* Listed as untrusted. */
        {
                pod_buf b = { 0 };
                selector_format_available(&b, s, SEL_CONTEXT_CLI, 4096);
                cr_assert(strstr(buf_str(&b), "project:solo (untrusted)"), "%s", buf_str(&b));
                buf_done(&b);
        }
        profile_set_free(s);
        free(cfg);
}

Test(selector, resolves_each_form) {
        const profile_entry *e = NULL;
        pod_error err = { 0 };

        cr_assert_eq(profile_set_select(&e, set, "solo", SEL_CONTEXT_SPAWN, &err), 0, "%s",
                     err.msg);
        cr_assert_str_eq(e->selector, "project:solo");
        cr_assert_eq(profile_set_select(&e, set, "builtin:coder", SEL_CONTEXT_SPAWN, &err), 0);
        cr_assert_eq(e->source, POD_SOURCE_BUILTIN);
        cr_assert_eq(profile_set_select(&e, set, "default", SEL_CONTEXT_SPAWN, &err), 0);
        cr_assert_str_eq(e->selector, "builtin:default");
        cr_assert_eq(profile_set_select(&e, set, "inherit", SEL_CONTEXT_SPAWN, &err), 1);
        cr_assert_null(e);
}

Test(selector, path_selectors_load_files_relative_to_the_set_cwd) {
        const profile_entry *e = NULL, *again = NULL;
        pod_error err = { 0 };

        cr_assert_eq(profile_set_select(&e, set, "roles/extra.md", SEL_CONTEXT_CLI, &err), 0, "%s",
                     err.msg);
        cr_assert_eq(e->source, POD_SOURCE_PATH);
        cr_assert_str_eq(e->profile->model, "openai:z");
        cr_assert(str_startswith(e->selector, "path:/"), "%s", e->selector);
        cr_assert_eq(profile_set_select(&again, set, "path:roles/extra.md", SEL_CONTEXT_CLI, &err),
                     0);
        cr_assert_eq(e, again, "the same file loads once");
        cr_assert_lt(profile_set_select(&e, set, "path:roles/none.md", SEL_CONTEXT_CLI, &err), 0);
        cr_assert(strstr(err.msg, "none.md"), "%s", err.msg);
}

Test(selector, broken_profiles_say_why) {
        expect_select_error("project:broken", SEL_CONTEXT_CLI, "profile project:broken is broken");
        expect_select_error("broken", SEL_CONTEXT_CLI, "malformed YAML");
}

Test(selector, the_formatter_lists_every_profile_with_markers) {
        _cleanup_buf_ pod_buf b = { 0 };

        cr_assert_eq(selector_format_available(&b, set, SEL_CONTEXT_SPAWN, 4096), 0);
        cr_assert_str_eq(buf_str(&b),
                         "available profiles: builtin:coder, builtin:default (default), "
                         "builtin:orchestrator, builtin:reviewer, project:broken (broken), "
                         "project:coder, project:solo; also accepted: default, inherit");
}

Test(selector, the_formatter_counts_what_does_not_fit) {
        _cleanup_buf_ pod_buf b = { 0 };

        cr_assert_eq(selector_format_available(&b, set, SEL_CONTEXT_SPAWN, 60), 0);
        cr_assert(strstr(buf_str(&b), "and 5 more (pod profile list)"), "%s", buf_str(&b));
}
