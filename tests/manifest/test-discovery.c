/* SPDX-License-Identifier: MIT */
#include <criterion/criterion.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "manifest/manifest.h"
#include "testutil.h"

static char *root, *config, *proj, *nested;

static void setup(void) {
        root = tu_tmpdir_real();
        config = tu_path(root, "config");
        proj = tu_path(root, "proj");
        nested = tu_path(root, "proj/src/deep");
        tu_mkdirs(root, "config/profiles");
        tu_mkdirs(root, "proj/.pod/profiles");
        tu_mkdirs(root, "proj/src/deep");
        tu_trust(config, proj);
}

static void teardown(void) {
        tu_rm_rf(root);
        free(root);
        free(config);
        free(proj);
        free(nested);
}

TestSuite(discovery, .init = setup, .fini = teardown);

static profile_set *discover(const char *cwd) {
        profile_set *s = NULL;
        pod_error err = { 0 };

        cr_assert_eq(profile_set_discover(&s, cwd, config, &err), 0, "%s", err.msg);
        return s;
}

#define PROFILE(model) "---\nmodel: " model "\ndescription: d\n---\nbody\n"

Test(discovery, builtins_are_always_there) {
        profile_set *s = discover(root);
        static const char *names[] = { "default", "coder", "reviewer", "orchestrator" };

        for (size_t i = 0; i < 4; i++) {
                const profile_entry *e = profile_set_find(s, POD_SOURCE_BUILTIN, names[i]);
                cr_assert_not_null(e, "builtin:%s", names[i]);
                cr_assert_not_null(e->profile, "builtin:%s is broken: %s", names[i], e->error);
                cr_assert_not_null(e->profile->description);
                cr_assert_gt(strlen(e->profile->body), 200, "a thoughtful instruction body");
        }
        cr_assert_eq(profile_set_find(s, POD_SOURCE_BUILTIN, "reviewer")->profile->scope,
                     POD_ACCESS_READ);
        cr_assert_null(profile_set_project_dir(s), "no .pod above the temp root");
        cr_assert_str_eq(profile_set_default(s, NULL)->selector, "builtin:default");
        profile_set_free(s);
}

Test(discovery, project_dir_is_the_nearest_ancestor_with_dot_pod) {
        profile_set *s;

        tu_write(proj, ".pod/profiles/tester.md", PROFILE("openai:a"));
        s = discover(nested);
        cr_assert_str_eq(profile_set_project_dir(s), proj);
        cr_assert_not_null(profile_set_find(s, POD_SOURCE_PROJECT, "tester"));
        profile_set_free(s);
}

Test(discovery, user_and_project_sources_are_read) {
        profile_set *s;
        const profile_entry *u, *p;

        tu_write(config, "profiles/mine.md", PROFILE("openai:u"));
        tu_write(proj, ".pod/profiles/ours.md", PROFILE("anthropic:p"));
        tu_write(proj, ".pod/profiles/notes.txt", "ignored");
        tu_write(proj, ".pod/profiles/.hidden.md", "ignored");
        s = discover(proj);
        u = profile_set_find(s, POD_SOURCE_USER, "mine");
        p = profile_set_find(s, POD_SOURCE_PROJECT, "ours");
        cr_assert_not_null(u);
        cr_assert_not_null(p);
        cr_assert_str_eq(u->selector, "user:mine");
        cr_assert_str_eq(p->profile->model, "anthropic:p");
        cr_assert_eq(profile_set_count(s), 6, "4 builtin + 2; other files ignored");
        profile_set_free(s);
}

Test(discovery, a_broken_profile_never_hides_the_others) {
        profile_set *s;
        const profile_entry *bad, *good;

        tu_write(proj, ".pod/profiles/bad.md", "---\nmodel: [x\n---\n");
        tu_write(proj, ".pod/profiles/good.md", PROFILE("openai:g"));
        s = discover(proj);
        bad = profile_set_find(s, POD_SOURCE_PROJECT, "bad");
        good = profile_set_find(s, POD_SOURCE_PROJECT, "good");
        cr_assert_null(bad->profile);
        cr_assert(strstr(bad->error, "bad.md"), "%s", bad->error);
        cr_assert_not_null(good->profile);
        profile_set_free(s);
}

Test(discovery, symlink_loops_and_bad_names_are_broken_entries) {
        profile_set *s;
        char *loop = tu_path(proj, ".pod/profiles/loop.md");

        cr_assert_eq(symlink("loop.md", loop), 0);
        tu_write(proj, ".pod/profiles/Upper.md", PROFILE("openai:x"));
        s = discover(proj);
        cr_assert(strstr(profile_set_find(s, POD_SOURCE_PROJECT, "loop")->error, "symlink loop"));
        for (size_t i = 0; i < profile_set_count(s); i++)
                if (strcmp(profile_set_get(s, i)->slug, "Upper") == 0)
                        cr_assert(strstr(profile_set_get(s, i)->error, "not a valid profile slug"));
        profile_set_free(s);
        free(loop);
}

Test(discovery, same_slug_in_two_sources_marks_the_lower_shadowed) {
        profile_set *s;

        tu_write(proj, ".pod/profiles/coder.md", PROFILE("codex:x"));
        s = discover(proj);
        cr_assert_eq(profile_set_find(s, POD_SOURCE_BUILTIN, "coder")->shadowed_by,
                     profile_set_find(s, POD_SOURCE_PROJECT, "coder"));
        cr_assert_null(profile_set_find(s, POD_SOURCE_PROJECT, "coder")->shadowed_by);
        profile_set_free(s);
}

Test(discovery, default_pointer_symlink_and_file_forms) {
        profile_set *s;
        char *link = tu_path(proj, ".pod/default-profile");

        tu_write(proj, ".pod/profiles/lead.md", PROFILE("openai:l"));
        tu_write(config, "profiles/solo.md", PROFILE("openai:s"));
        tu_write(config, "default-profile", "solo\n");
        s = discover(root);
        cr_assert_str_eq(profile_set_default(s, NULL)->selector, "user:solo", "file form");
        profile_set_free(s);
        cr_assert_eq(symlink("profiles/lead.md", link), 0);
        s = discover(proj);
        cr_assert_str_eq(profile_set_default(s, NULL)->selector, "project:lead",
                         "the project's pointer wins over the user's");
        profile_set_free(s);
        free(link);
}

Test(discovery, default_pointer_to_a_missing_profile_is_an_error_not_a_fallback) {
        profile_set *s;
        const char *why = NULL;

        tu_write(config, "default-profile", "ghost\n");
        s = discover(root);
        cr_assert_null(profile_set_default(s, &why));
        cr_assert(strstr(why, "default-profile"), "%s", why);
        cr_assert(strstr(why, "user:ghost"), "%s", why);
        profile_set_free(s);
}

Test(discovery, default_pointer_must_point_into_profiles) {
        profile_set *s;
        const char *why = NULL;
        char *link = tu_path(config, "default-profile");

        cr_assert_eq(symlink("/etc/passwd", link), 0);
        s = discover(root);
        cr_assert_null(profile_set_default(s, &why));
        cr_assert(strstr(why, "profiles/<slug>.md"), "%s", why);
        profile_set_free(s);
        free(link);
}

Test(discovery, extends_resolves_one_level) {
        profile_set *s;
        const profile_entry *e;

        tu_write(proj, ".pod/profiles/fast.md",
                 "---\nextends: builtin:coder\nmodel: openai:mini\n---\n");
        s = discover(proj);
        e = profile_set_find(s, POD_SOURCE_PROJECT, "fast");
        cr_assert_not_null(e->profile, "%s", e->error);
        cr_assert_str_eq(e->profile->model, "openai:mini");
        cr_assert_eq(strv_length(e->profile->tools), 6, "tools come from builtin:coder");
        cr_assert_str_eq(e->profile->base_selector, "builtin:coder");
        profile_set_free(s);
}

Test(discovery, extends_cycles_chains_and_missing_bases_are_broken) {
        profile_set *s;

        tu_write(proj, ".pod/profiles/a.md", "---\nextends: b\n---\n");
        tu_write(proj, ".pod/profiles/b.md", "---\nextends: a\n---\n");
        tu_write(proj, ".pod/profiles/self.md", "---\nextends: project:self\n---\n");
        tu_write(proj, ".pod/profiles/c.md", "---\nextends: d\n---\n");
        tu_write(proj, ".pod/profiles/d.md", "---\nextends: builtin:coder\n---\n");
        tu_write(proj, ".pod/profiles/orphan.md", "---\nextends: nowhere\n---\n");
        tu_write(proj, ".pod/profiles/amb.md", "---\nextends: coder\n---\n");
        tu_write(proj, ".pod/profiles/coder.md", PROFILE("openai:x"));
        s = discover(proj);
        cr_assert(strstr(profile_set_find(s, POD_SOURCE_PROJECT, "a")->error, "extends cycle"),
                  "%s", profile_set_find(s, POD_SOURCE_PROJECT, "a")->error);
        cr_assert(strstr(profile_set_find(s, POD_SOURCE_PROJECT, "self")->error, "extends itself"));
        cr_assert(strstr(profile_set_find(s, POD_SOURCE_PROJECT, "c")->error, "one level"), "%s",
                  profile_set_find(s, POD_SOURCE_PROJECT, "c")->error);
        cr_assert_not_null(profile_set_find(s, POD_SOURCE_PROJECT, "d")->profile);
        cr_assert(strstr(profile_set_find(s, POD_SOURCE_PROJECT, "orphan")->error,
                         "no profile named 'nowhere'"));
        /* A bare slug is the highest source that has it (DESIGN §5). */
        cr_assert_not_null(profile_set_find(s, POD_SOURCE_PROJECT, "amb")->profile);
        cr_assert_str_eq(profile_set_find(s, POD_SOURCE_PROJECT, "amb")->profile->base_selector,
                         "project:coder");
        profile_set_free(s);
}

Test(discovery, unreadable_profiles_folder_is_a_diagnostic) {
        profile_set *s;
        char *link = tu_path(proj, ".pod/profiles");

        tu_rm_rf(link);
        cr_assert_eq(symlink("profiles", link), 0); /* a loop */
        s = discover(proj);
        cr_assert_eq(strv_length(profile_set_diagnostics(s)), 1);
        cr_assert(strstr(profile_set_diagnostics(s)[0], "symlink loop"), "%s",
                  profile_set_diagnostics(s)[0]);
        profile_set_free(s);
        free(link);
}

Test(discovery, cwd_must_be_absolute) {
        profile_set *s = NULL;
        pod_error err = { 0 };

        cr_assert_lt(profile_set_discover(&s, "relative", config, &err), 0);
        cr_assert_null(s);
}

Test(discovery, default_pointer_file_with_a_nul_byte_is_refused) {
        profile_set *s;
        const char *why = NULL;

        tu_write(config, "profiles/solo.md", PROFILE("openai:s"));
        tu_write_n(config, "default-profile", "solo\0junk\n", 10);
        s = discover(root);
        cr_assert_null(profile_set_default(s, &why));
        cr_assert(strstr(why, "NUL byte"), "%s", why);
        profile_set_free(s);
}
