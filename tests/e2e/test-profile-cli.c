/* SPDX-License-Identifier: MIT */
/* End to end: the real pod binary, in a temporary HOME, config, data and runtime dir. */
#include <criterion/criterion.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "manifest/manifest.h"
#include "testutil.h"

static tu_env env;

static void setup(void) {
        tu_env_setup(&env);
}

static void teardown(void) {
        tu_env_teardown(&env);
}

TestSuite(profile_cli, .init = setup, .fini = teardown);

#define POD(r, cwd, ...) tu_run_pod(r, &env, cwd, (const char *const[]){ __VA_ARGS__, NULL })

Test(profile_cli, version_and_help) {
        tu_result r;

        POD(&r, env.root, "--version");
        cr_assert_eq(r.status, 0);
        cr_assert(str_startswith(r.out, "pod "), "%s", r.out);
        tu_result_done(&r);
        POD(&r, env.root, "--help");
        cr_assert_eq(r.status, 0);
        cr_assert(strstr(r.out, "profile"), "%s", r.out);
        tu_result_done(&r);
        POD(&r, env.root, "profile", "show", "--help");
        cr_assert_eq(r.status, 0);
        cr_assert(strstr(r.out, "--explain"), "%s", r.out);
        tu_result_done(&r);
}

Test(profile_cli, usage_errors_exit_2) {
        tu_result r;

        POD(&r, env.root, "--bogus");
        cr_assert_eq(r.status, 2);
        tu_result_done(&r);
        POD(&r, env.root, "profile", "frobnicate");
        cr_assert_eq(r.status, 2);
        tu_result_done(&r);
        POD(&r, env.root, "profile", "list", "--name", "x");
        cr_assert_eq(r.status, 2);
        cr_assert(strstr(r.err, "belongs to 'pod profile show'"), "%s", r.err);
        tu_result_done(&r);
        tu_run_pod(&r, &env, env.root, (const char *const[]){ NULL });
        cr_assert_eq(r.status, 2);
        tu_result_done(&r);
}

Test(profile_cli, list_shows_builtins_and_marks_the_default) {
        tu_result r;

        POD(&r, env.root, "profile", "list");
        cr_assert_eq(r.status, 0, "%s", r.err);
        cr_assert(strstr(r.out, "builtin:coder"), "%s", r.out);
        cr_assert(strstr(r.out, "builtin:reviewer"));
        cr_assert(strstr(r.out, "builtin:orchestrator"));
        cr_assert(strstr(r.out, "builtin:default      *"), "%s", r.out);
        tu_result_done(&r);
}

Test(profile_cli, list_json_is_complete_for_scripts) {
        tu_result r;
        json_t *j, *profiles, *e;
        size_t i;
        bool saw_project = false;

        tu_write(env.project, ".pod/profiles/coder.md",
                 "---\ndescription: Project coder\nmodel: codex:gpt-5\n---\nBody\n");
        tu_write(env.project, ".pod/profiles/broken.md", "---\nmodel: [\n---\n");
        tu_mkdirs(env.project, "src/deep");
        POD(&r, env.root, "profile", "list", "--json", "--cwd", "project/src/deep");
        cr_assert_eq(r.status, 0, "%s", r.err);
        j = json_loads(r.out, 0, NULL);
        cr_assert_not_null(j, "stdout is JSON: %s", r.out);
        cr_assert_str_eq(json_string_value(json_object_get(j, "project_dir")), env.project);
        cr_assert_str_eq(json_string_value(json_object_get(j, "default")), "builtin:default");
        profiles = json_object_get(j, "profiles");
        cr_assert_eq(json_array_size(profiles), 6);
        json_array_foreach(profiles, i, e) {
                const char *sel = json_string_value(json_object_get(e, "selector"));
                if (strcmp(sel, "builtin:coder") == 0)
                        cr_assert_str_eq(json_string_value(json_object_get(e, "shadowed_by")),
                                         "project:coder");
                if (strcmp(sel, "project:coder") == 0) {
                        saw_project = true;
                        cr_assert_str_eq(json_string_value(json_object_get(e, "model")),
                                         "codex:gpt-5");
                }
                if (strcmp(sel, "project:broken") == 0) {
                        cr_assert(json_is_true(json_object_get(e, "broken")));
                        cr_assert(strstr(json_string_value(json_object_get(e, "error")),
                                         "broken.md"));
                }
        }
        cr_assert(saw_project);
        json_decref(j);
        tu_result_done(&r);
}

Test(profile_cli, show_resolved_prints_a_manifest_a_child_accepts) {
        tu_result r;
        json_t *m = NULL;
        pod_error err = { 0 };

        tu_write(env.project, ".pod/profiles/worker.md",
                 "---\nmodel: openai:gpt-5\nscope: read\n---\nWork.\n");
        POD(&r, env.project, "profile", "show", "project:worker", "--resolved", "--name", "w1",
            "--scope", "read:/usr");
        cr_assert_eq(r.status, 0, "%s", r.err);
        cr_assert_eq(manifest_parse(&m, r.out, strlen(r.out), &err), 0, "%s", err.msg);
        cr_assert_str_eq(json_string_value(json_object_get(json_object_get(m, "pod"), "name")),
                         "w1");
        cr_assert_eq(json_array_size(json_object_get(json_object_get(m, "scope"), "allow")), 2);
        cr_assert_eq(json_array_size(json_object_get(json_object_get(m, "profiles"), "profiles")),
                     1, "the manifest carries the profile snapshot");
        cr_assert_str_eq(
                json_string_value(json_object_get(json_object_get(m, "profiles"), "default")),
                "builtin:default");
        json_decref(m);
        tu_result_done(&r);
}

Test(profile_cli, show_scope_above_the_ceiling_is_refused) {
        tu_result r;

        POD(&r, env.project, "profile", "show", "builtin:reviewer", "--resolved", "--scope",
            "write:/tmp");
        cr_assert_eq(r.status, 2);
        cr_assert(strstr(r.err, "ceiling 'read'"), "%s", r.err);
        tu_result_done(&r);
}

Test(profile_cli, explain_names_file_and_line) {
        tu_result r;
        char want[4200];

        tu_write(env.project, ".pod/profiles/fast.md",
                 "---\nextends: builtin:coder\nmodel: openai:mini\n---\n");
        POD(&r, env.project, "profile", "show", "fast", "--explain");
        cr_assert_eq(r.status, 0, "%s", r.err);
        snprintf(want, sizeof(want), "<- %s/.pod/profiles/fast.md:3", env.project);
        cr_assert(strstr(r.out, want), "%s", r.out);
        cr_assert(strstr(r.out, "<- <builtin>/coder.md:5"), "tools come from the base: %s", r.out);
        cr_assert(strstr(r.out, "base default"), "%s", r.out);
        tu_result_done(&r);
}

Test(profile_cli, show_text_and_json) {
        tu_result r;
        json_t *j;

        POD(&r, env.project, "profile", "show", "builtin:reviewer");
        cr_assert_eq(r.status, 0);
        cr_assert(strstr(r.out, "scope        read"), "%s", r.out);
        cr_assert(strstr(r.out, "You are a reviewer pod"), "%s", r.out);
        tu_result_done(&r);
        POD(&r, env.project, "profile", "show", "builtin:reviewer", "--json");
        j = json_loads(r.out, 0, NULL);
        cr_assert_not_null(j, "%s", r.out);
        cr_assert_str_eq(json_string_value(json_object_get(j, "scope")), "read");
        cr_assert_eq(json_array_size(json_object_get(j, "tools")), 4);
        json_decref(j);
        tu_result_done(&r);
}

Test(profile_cli, default_pointer_changes_the_default) {
        tu_result r;
        char *link = tu_path(env.project, ".pod/default-profile");

        tu_write(env.project, ".pod/profiles/lead.md", "---\nmodel: openai:l\n---\n");
        cr_assert_eq(symlink("profiles/lead.md", link), 0);
        POD(&r, env.project, "profile", "show", "--resolved");
        cr_assert_eq(r.status, 0, "%s", r.err);
        cr_assert(strstr(r.out, "\"selector\": \"default\""), "%s", r.out);
        cr_assert(strstr(r.out, "\"slug\": \"lead\""), "%s", r.out);
        tu_result_done(&r);
        free(link);
}

Test(profile_cli, selector_errors_list_what_is_available) {
        tu_result r;

        POD(&r, env.project, "profile", "show", "nothere");
        cr_assert_eq(r.status, 2);
        cr_assert(strstr(r.err, "no profile named 'nothere'"), "%s", r.err);
        cr_assert(strstr(r.err, "available profiles: builtin:coder"), "%s", r.err);
        cr_assert_eq(tu_lines(r.err), 1, "one line: %s", r.err);
        tu_result_done(&r);
        POD(&r, env.project, "profile", "show", "inherit");
        cr_assert_eq(r.status, 2);
        cr_assert(strstr(r.err, "only for SpawnPod"), "%s", r.err);
        tu_result_done(&r);
        tu_write(env.project, ".pod/profiles/coder.md", "---\nmodel: openai:x\n---\n");
        POD(&r, env.project, "profile", "show", "codr");
        cr_assert_eq(r.status, 2);
        cr_assert(strstr(r.err, "did you mean project:coder?"), "%s", r.err);
        tu_result_done(&r);
        /* A bare slug is the highest source that has it; --explain says which won. */
        POD(&r, env.project, "profile", "show", "coder", "--explain");
        cr_assert_eq(r.status, 0, "%s", r.err);
        cr_assert(strstr(r.out,
                         "names the highest source that has it: project:coder (it shadows "
                         "builtin:coder)"),
                  "%s", r.out);
        tu_result_done(&r);
}

Test(profile_cli, path_selectors_work_on_the_command_line) {
        tu_result r;

        tu_write(env.project, "roles/one.md", "---\nmodel: openai:one\n---\n");
        POD(&r, env.project, "profile", "show", "./roles/one.md", "--json");
        cr_assert_eq(r.status, 0, "%s", r.err);
        cr_assert(strstr(r.out, "\"model\": \"openai:one\""), "%s", r.out);
        tu_result_done(&r);
}

Test(profile_cli, executor_warns_once) {
        tu_result r;

        tu_write(env.project, ".pod/profiles/old.md", "---\nmodel: gpt-5\nexecutor: codex\n---\n");
        POD(&r, env.project, "profile", "show", "old", "--resolved");
        cr_assert_eq(r.status, 0, "%s", r.err);
        cr_assert_eq(tu_lines(r.err), 1, "%s", r.err);
        cr_assert(strstr(r.err, "deprecated"), "%s", r.err);
        cr_assert(strstr(r.out, "\"handler\": \"codex-cli\""), "%s", r.out);
        tu_result_done(&r);
}

/* ---- bad input: one clear line naming the file and problem, exit 2 -------------------- */

static void expect_bad_profile(const char *slug, const char *want_in_err) {
        tu_result r;
        char sel[128];

        snprintf(sel, sizeof(sel), "project:%s", slug);
        POD(&r, env.project, "profile", "list");
        cr_assert_eq(r.status, 0, "list still works: %s", r.err);
        cr_assert(strstr(r.out, "builtin:coder"), "the others are still listed");
        cr_assert(strstr(r.out, "BROKEN"), "%s", r.out);
        tu_result_done(&r);
        POD(&r, env.project, "profile", "show", sel);
        cr_assert_eq(r.status, 2, "%s: %s", slug, r.err);
        cr_assert_eq(tu_lines(r.err), 1, "one line: %s", r.err);
        cr_assert(strstr(r.err, want_in_err), "wanted '%s' in: %s", want_in_err, r.err);
        tu_result_done(&r);
}

Test(profile_cli, malformed_yaml) {
        tu_write(env.project, ".pod/profiles/m.md", "---\nmodel: openai:x\ntools: [Read\n---\n");
        expect_bad_profile("m", "m.md:");
}

Test(profile_cli, non_utf8) {
        tu_write(env.project, ".pod/profiles/u.md", "---\nmodel: openai:x\n---\n\xff\xfe\n");
        expect_bad_profile("u", "u.md:4: not valid UTF-8");
}

Test(profile_cli, ten_mebibyte_profile) {
        size_t n = 10u * 1024 * 1024;
        char *big = malloc(n);

        memset(big, 'a', n);
        memcpy(big, "---\nmodel: openai:x\n---\n", 24);
        tu_write_n(env.project, ".pod/profiles/big.md", big, n);
        free(big);
        expect_bad_profile("big", "over the 262144 byte limit");
}

Test(profile_cli, duplicate_keys) {
        tu_write(env.project, ".pod/profiles/d.md", "---\nmodel: openai:x\nmodel: openai:y\n---\n");
        expect_bad_profile("d", "d.md:3: model: duplicate key");
}

Test(profile_cli, symlink_loop) {
        char *p = tu_path(env.project, ".pod/profiles/loop.md");

        cr_assert_eq(symlink("loop.md", p), 0);
        free(p);
        expect_bad_profile("loop", "loop.md: symlink loop");
}

Test(profile_cli, unreadable_file) {
        char *p;

        if (geteuid() == 0)
                env.run_as_uid = 65534; /* root reads anything: run pod as nobody */
        tu_write(env.project, ".pod/profiles/secret.md", "---\nmodel: openai:x\n---\n");
        p = tu_path(env.project, ".pod/profiles/secret.md");
        cr_assert_eq(chmod(p, 0), 0);
        free(p);
        expect_bad_profile("secret", "secret.md: Permission denied");
}

Test(profile_cli, default_pointer_to_a_missing_profile) {
        tu_result r;

        tu_write(env.config, "default-profile", "ghost\n");
        POD(&r, env.project, "profile", "show");
        cr_assert_eq(r.status, 2);
        cr_assert(strstr(r.err, "default-profile: default pointer names profile 'user:ghost'"),
                  "%s", r.err);
        tu_result_done(&r);
        POD(&r, env.project, "profile", "list");
        cr_assert_eq(r.status, 0);
        cr_assert(strstr(r.err, "no usable default profile"), "%s", r.err);
        tu_result_done(&r);
}

Test(profile_cli, extends_cycle) {
        tu_write(env.project, ".pod/profiles/a.md", "---\nextends: project:b\n---\n");
        tu_write(env.project, ".pod/profiles/b.md", "---\nextends: project:a\n---\n");
        expect_bad_profile("a", "extends cycle");
}

Test(profile_cli, slug_differs_from_file_name) {
        tu_write(env.project, ".pod/profiles/x.md", "---\nname: y\nmodel: openai:x\n---\n");
        expect_bad_profile("x", "x.md:2: name 'y' differs from the file name 'x.md'");
}

Test(profile_cli, hostile_environment_is_a_clear_error) {
        tu_result r;

        env.extra_env[0] = "POD_CONFIG_DIR=relative/dir";
        POD(&r, env.project, "profile", "list");
        cr_assert_eq(r.status, 2);
        cr_assert(strstr(r.err, "POD_CONFIG_DIR"), "%s", r.err);
        tu_result_done(&r);
}
