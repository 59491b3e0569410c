/* SPDX-License-Identifier: MIT */
#include <criterion/criterion.h>
#include <string.h>
#include <unistd.h>

#include "manifest/manifest.h"
#include "testutil.h"

static char *root, *config, *proj;

static void setup(void) {
        root = tu_tmpdir_real();
        config = tu_path(root, "config");
        proj = tu_path(root, "proj");
        tu_write(config, "profiles/mine.md",
                 "---\ndescription: Mine\nmodel: openai:u\n---\nUser body\n");
        tu_write(proj, ".pod/profiles/fast.md",
                 "---\nextends: builtin:coder\nmodel: openai:mini\n---\n");
        tu_write(proj, ".pod/profiles/coder.md", "---\nmodel: codex:x\n---\nProject coder\n");
        tu_write(proj, ".pod/profiles/bad.md", "---\nmodel: [\n---\n");
        tu_write(proj, ".pod/default-profile", "fast\n");
        tu_trust(config, proj);
}

static void teardown(void) {
        tu_rm_rf(root);
        free(root);
        free(config);
        free(proj);
}

TestSuite(snapshot, .init = setup, .fini = teardown);

static profile_set *from_disk(void) {
        profile_set *s = NULL;
        pod_error err = { 0 };

        cr_assert_eq(profile_set_discover(&s, proj, config, &err), 0, "%s", err.msg);
        return s;
}

static profile_set *rebuilt(const profile_set *orig) {
        json_t *snap = profile_set_snapshot(orig);
        profile_set *s = NULL;
        pod_error err = { 0 };
        char *dump = json_dumps(snap, JSON_COMPACT);
        json_t *reloaded = json_loads(dump, 0, NULL); /* as a child receives it */

        tu_rm_rf(config);
        tu_rm_rf(proj); /* the rebuilt set must not need them */
        cr_assert_eq(profile_set_from_snapshot(&s, reloaded, "/", &err), 0, "%s", err.msg);
        free(dump);
        json_decref(snap);
        json_decref(reloaded);
        return s;
}

Test(snapshot, a_rebuilt_set_has_the_same_profiles_without_reading_files) {
        profile_set *a = from_disk(), *b = rebuilt(a);
        const char *why = NULL;

        cr_assert_eq(profile_set_count(a), profile_set_count(b));
        for (size_t i = 0; i < profile_set_count(a); i++) {
                const profile_entry *x = profile_set_get(a, i);
                const profile_entry *y = profile_set_find(b, x->source, x->slug);
                cr_assert_not_null(y, "%s is missing", x->selector);
                cr_assert_eq(!x->profile, !y->profile, "%s", x->selector);
                if (x->profile) {
                        cr_assert_str_eq(x->profile->model ?: "-", y->profile->model ?: "-");
                        cr_assert_str_eq(x->profile->sha256, y->profile->sha256);
                        cr_assert(strv_equal(x->profile->tools, y->profile->tools), "%s",
                                  x->selector);
                } else
                        cr_assert_str_eq(x->error, y->error);
                cr_assert_eq(!x->shadowed_by, !y->shadowed_by, "%s", x->selector);
        }
        cr_assert_str_eq(profile_set_default(b, &why)->selector, "project:fast");
        cr_assert_str_eq(profile_set_project_dir(b), proj);
        profile_set_free(a);
        profile_set_free(b);
}

Test(snapshot, resolution_and_the_profile_list_are_identical) {
        profile_set *a = from_disk(), *b;
        const profile_entry *ea = NULL, *eb = NULL;
        manifest_inputs in = { .cwd = "/srv", .name = "w" };
        json_t *ma = NULL, *mb = NULL;
        pod_buf la = { 0 }, lb = { 0 };

        cr_assert_eq(profile_set_select(&ea, a, "project:fast", SEL_CONTEXT_SPAWN, NULL), 0);
        cr_assert_eq(manifest_resolve(&ma, NULL, ea->profile, &in, NULL), 0);
        selector_format_available(&la, a, SEL_CONTEXT_SPAWN, 4096);
        b = rebuilt(a);
        cr_assert_eq(profile_set_select(&eb, b, "project:fast", SEL_CONTEXT_SPAWN, NULL), 0);
        cr_assert_eq(manifest_resolve(&mb, NULL, eb->profile, &in, NULL), 0);
        selector_format_available(&lb, b, SEL_CONTEXT_SPAWN, 4096);
        cr_assert(json_equal(ma, mb), "the same manifest from the snapshot");
        cr_assert_str_eq(buf_str(&la), buf_str(&lb));
        json_decref(ma);
        json_decref(mb);
        buf_done(&la);
        buf_done(&lb);
        profile_set_free(a);
        profile_set_free(b);
}

static void expect_invalid(const char *text, const char *want) {
        json_t *j = json_loads(text, 0, NULL);
        profile_set *s = NULL;
        pod_error err = { 0 };

        cr_assert_not_null(j, "bad test input");
        cr_assert_lt(profile_set_from_snapshot(&s, j, "/", &err), 0, "accepted %s", text);
        cr_assert(strstr(err.msg, want), "wanted '%s' in: %s", want, err.msg);
        json_decref(j);
}

#define SNAP(profiles)                                                                         \
        "{\"default\":null,\"default_error\":null,\"project_dir\":null,\"profiles\":" profiles \
        ",\"broken\":[],\"diagnostics\":[]}"

Test(snapshot, hostile_snapshots_are_refused) {
        expect_invalid(
                SNAP("[{\"source\":\"builtin\",\"slug\":\"x\",\"file\":\"/x.md\",\"text\":\"\"}]"),
                "source must be user or project");
        expect_invalid(
                SNAP("[{\"source\":\"user\",\"slug\":\"x\",\"file\":\"x.md\",\"text\":\"\"}]"),
                "absolute file");
        expect_invalid(
                SNAP("[{\"source\":\"user\",\"slug\":\"../x\",\"file\":\"/x.md\",\"text\":\"\"}]"),
                "valid slug");
        expect_invalid(SNAP("[{\"source\":\"user\",\"slug\":\"x\",\"file\":\"/x.md\"}]"), "text");
        expect_invalid(SNAP("{}"), "wrong shape");
        expect_invalid("{\"default\":null}", "profiles");
}

#define SNAP_SKILLS(skills)                                              \
        "{\"default\":null,\"default_error\":null,\"project_dir\":null," \
        "\"profiles\":[],\"broken\":[],\"diagnostics\":[],\"skills\":" skills "}"

/* The skills a snapshot carries for spawners (DESIGN §6): bounded, named as their keys. */
Test(snapshot, the_skills_it_carries_are_checked) {
        json_t *ok =
                json_loads(SNAP_SKILLS("{\"lint\":{\"name\":\"lint\",\"path\":\"/p/SKILL.md\","
                                       "\"sha256\":\"x\",\"description\":\"d\",\"body\":\"b\"},"
                                       "\"gone\":{\"name\":\"gone\",\"error\":\"not found\"}}"),
                           0, NULL);
        profile_set *set = NULL;
        pod_error err = { 0 };
        char *big = malloc(300 * 1024 + 1);

        cr_assert_eq(profile_set_from_snapshot(&set, ok, "/", &err), 0, "%s", err.msg);
        profile_set_free(set);
        json_decref(ok);
        expect_invalid(SNAP_SKILLS("[]"), "profiles.skills must be an object");
        expect_invalid(SNAP_SKILLS("{\"lint\":{\"name\":\"other\",\"error\":\"x\"}}"),
                       "named as its key");
        expect_invalid(SNAP_SKILLS("{\"lint\":{\"name\":\"lint\",\"body\":\"b\"}}"),
                       "profiles.skills['lint']");
        expect_invalid(SNAP_SKILLS("{\"../x\":{\"name\":\"../x\",\"error\":\"x\"}}"),
                       "profiles.skills");
        memset(big, 'x', 300 * 1024);
        big[300 * 1024] = '\0';
        ok = json_loads(SNAP_SKILLS("{}"), 0, NULL);
        json_object_set_new(json_object_get(ok, "skills"), "lint",
                            json_pack("{s:s, s:s, s:s, s:s, s:s}", "name", "lint", "path", "/p",
                                      "sha256", "x", "description", "d", "body", big));
        cr_assert_lt(profile_set_from_snapshot(&set, ok, "/", &err), 0, "a body over 256 KiB");
        cr_assert(strstr(err.msg, "body at most"), "%s", err.msg);
        json_decref(ok);
        free(big);
}

Test(snapshot, a_broken_text_in_a_snapshot_becomes_a_broken_entry) {
        json_t *j = json_loads(
                SNAP("[{\"source\":\"user\",\"slug\":\"x\",\"file\":\"/x.md\",\"text\":\"no front matter\"}]"),
                0, NULL);
        profile_set *s = NULL;
        const profile_entry *e;

        cr_assert_eq(profile_set_from_snapshot(&s, j, "/", NULL), 0);
        e = profile_set_find(s, POD_SOURCE_USER, "x");
        cr_assert_null(e->profile);
        cr_assert(strstr(e->error, "missing YAML front matter"), "%s", e->error);
        profile_set_free(s);
        json_decref(j);
}
