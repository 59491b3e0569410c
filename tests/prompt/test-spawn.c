/* SPDX-License-Identifier: MIT */
#include <criterion/criterion.h>
#include <string.h>
#include <unistd.h>

#include "prompt/prompt.h"
#include "testutil.h"

static char *root, *proj;
static profile_set *set;

static void setup(void) {
        pod_error err = { 0 };

        root = tu_tmpdir_real();
        proj = tu_path(root, "proj");
        tu_write(proj, ".pod/profiles/coder.md",
                 "---\ndescription: Project coder\nmodel: codex:x\n---\n");
        tu_write(proj, ".pod/profiles/broken.md", "---\nmodel: [\n---\n");
        tu_trust(root, proj); /* root as the config dir: no user profiles */
        cr_assert_eq(profile_set_discover(&set, proj, root, &err), 0, "%s", err.msg);
}

static void teardown(void) {
        profile_set_free(set);
        tu_rm_rf(root);
        free(root);
        free(proj);
}

TestSuite(spawn, .init = setup, .fini = teardown);

static char *describe(const profile_set *s, const char *diag) {
        pod_buf out = { 0 };
        pod_error err = { 0 };

        cr_assert_eq(prompt_spawn_description(&out, s, diag, NULL, &err), 0, "%s", err.msg);
        return buf_steal(&out);
}

Test(spawn, lists_every_profile_with_its_description_and_the_default) {
        char *d = describe(set, NULL);

        cr_assert(strstr(d, "- builtin:default (default): General-purpose"), "%s", d);
        cr_assert(strstr(d, "- project:coder: Project coder"), "%s", d);
        cr_assert(strstr(d, "- project:broken (broken)\n"), "%s", d);
        cr_assert(strstr(d, "- inherit: a child like you"), "%s", d);
        cr_assert(strstr(d, "`default` (builtin:default) is used"), "%s", d);
        cr_assert(strstr(d, "can never hold more than you do"), "scope is the only authority: %s",
                  d);
        free(d);
}

Test(spawn, the_list_is_the_same_as_in_selector_errors) {
        const profile_entry *e = NULL;
        pod_error err = { 0 };
        char *d = describe(set, NULL);

        cr_assert_lt(profile_set_select(&e, set, "nothere", SEL_CONTEXT_SPAWN, &err), 0);
        /* Every entry of the error's list is, in the same order, a line of the description. */
        cr_assert_eq(tu_list_matches_description(err.msg, d), 6, "%s\n%s", err.msg, d);
        free(d);
}

Test(spawn, a_discovery_failure_still_renders_with_the_diagnostic) {
        char *d = describe(NULL, "cannot read /p/.pod/profiles: permission denied");

        cr_assert(strstr(d, "the list of profiles is unavailable: cannot read /p/.pod/profiles"),
                  "%s", d);
        cr_assert(strstr(d, "- inherit:"), "%s", d);
        free(d);
}

Test(spawn, a_missing_default_becomes_the_diagnostic) {
        profile_set *s = NULL;
        char *d, *cfg = tu_path(root, "cfg");

        tu_write(root, "cfg/default-profile", "ghost\n");
        cr_assert_eq(profile_set_discover(&s, proj, cfg, NULL), 0);
        d = describe(s, NULL);
        cr_assert(strstr(d, "unavailable: "), "%s", d);
        cr_assert(strstr(d, "user:ghost"), "%s", d);
        cr_assert_null(strstr(d, "is used."), "no default is claimed: %s", d);
        free(d);
        free(cfg);
        profile_set_free(s);
}
