/* SPDX-License-Identifier: MIT */
#include <criterion/criterion.h>
#include <string.h>
#include <unistd.h>

#include "prompt/prompt.h"
#include "testutil.h"

static char *root, *proj, *config, *sub;

static void setup(void) {
        root = tu_tmpdir_real();
        proj = tu_path(root, "proj");
        config = tu_path(root, "config");
        sub = tu_path(root, "proj/src/deep");
        tu_mkdirs(root, "proj/.pod");
        tu_mkdirs(root, "proj/src/deep");
        tu_mkdirs(root, "config");
}

static void teardown(void) {
        tu_rm_rf(root);
        free(root);
        free(proj);
        free(config);
        free(sub);
}

TestSuite(inline, .init = setup, .fini = teardown);

static json_t *manifest(const char *profile_text, const char *cwd) {
        pod_profile *p = NULL;
        manifest_inputs in = { .cwd = cwd };
        json_t *m = NULL;
        pod_error err = { 0 };

        cr_assert_eq(profile_parse(&p, POD_SOURCE_PROJECT, "r", "/p/r.md", profile_text,
                                   strlen(profile_text), &err),
                     0, "%s", err.msg);
        cr_assert_eq(manifest_resolve(&m, NULL, p, &in, &err), 0, "%s", err.msg);
        profile_free(p);
        return m;
}

static int do_inline(json_t *m, pod_error *err) {
        prompt_sources src = { config, proj };

        return prompt_inline(m, &src, err);
}

Test(inline, skills_are_carried_with_their_bodies) {
        json_t *m = manifest("---\nmodel: openai:x\nskills: [tickets]\n---\n", proj);
        pod_error err = { 0 };
        json_t *s;

        cr_assert_eq(do_inline(m, &err), 0, "%s", err.msg);
        s = json_array_get(json_object_get(m, "skills"), 0);
        cr_assert_str_eq(json_string_value(json_object_get(s, "path")),
                         "<builtin>/skills/tickets/SKILL.md");
        cr_assert_not_null(json_object_get(s, "body"));
        cr_assert_eq(manifest_validate(m, &err), 0, "the result is still valid: %s", err.msg);
        json_decref(m);
}

Test(inline, a_failure_leaves_the_manifest_unchanged) {
        json_t *m = manifest("---\nmodel: openai:x\nskills: [tickets, ghost]\n---\n", proj);
        json_t *before = json_deep_copy(m);
        pod_error err = { 0 };

        tu_write(proj, "AGENTS.md", "rules");
        cr_assert_lt(do_inline(m, &err), 0);
        cr_assert(strstr(err.msg, "skill 'ghost' not found"), "%s", err.msg);
        cr_assert(json_equal(m, before), "no partial state");
        json_decref(before);
        json_decref(m);
}

Test(inline, instruction_variables_are_checked) {
        json_t *m = manifest("---\nmodel: openai:x\n---\nHi {{ pod_name }}.\nUse {{ secrets }}.\n",
                             proj);
        pod_error err = { 0 };

        cr_assert_lt(do_inline(m, &err), 0);
        cr_assert(strstr(err.msg, "/p/r.md (instruction):2: undefined variable 'secrets'"), "%s",
                  err.msg);
        json_decref(m);
}

Test(inline, overrides_project_over_user_and_checked) {
        json_t *m = manifest("---\nmodel: openai:x\n---\n", proj);
        pod_error err = { 0 };
        json_t *ov;

        tu_write(config, "prompts/agents_md.md", "user {{ text }}");
        tu_write(config, "prompts/orchestration.md", "user orchestration");
        tu_write(proj, ".pod/prompts/agents_md.md", "project {{ text }}");
        tu_write(proj, ".pod/prompts/README.txt", "not a template: ignored");
        cr_assert_eq(do_inline(m, &err), 0, "%s", err.msg);
        ov = json_object_get(m, "prompts");
        cr_assert_str_eq(
                json_string_value(json_object_get(json_object_get(ov, "agents_md"), "text")),
                "project {{ text }}");
        cr_assert_str_eq(
                json_string_value(json_object_get(json_object_get(ov, "orchestration"), "text")),
                "user orchestration");
        json_decref(m);
}

static void expect_override_error(const char *file, const char *text, const char *want) {
        json_t *m = manifest("---\nmodel: openai:x\n---\n", proj);
        pod_error err = { 0 };
        char rel[256];

        snprintf(rel, sizeof(rel), ".pod/prompts/%s", file);
        tu_write(proj, rel, text);
        cr_assert_lt(do_inline(m, &err), 0, "%s accepted", file);
        cr_assert(strstr(err.msg, want), "wanted '%s' in: %s", want, err.msg);
        json_decref(m);
}

Test(inline, broken_overrides_are_errors_naming_file_and_line) {
        expect_override_error("agents_md.md", "ok\n{% if text %}",
                              "agents_md.md:2: {% if %} is never closed");
}

Test(inline, override_with_an_undeclared_variable) {
        expect_override_error("agents_md.md", "{{ path }}\n{{ password }}",
                              "agents_md.md:2: undefined variable 'password'");
}

Test(inline, override_of_an_unknown_template) {
        expect_override_error("nonsense.md", "x", "no prompt template is called 'nonsense.md'");
}

Test(inline, boundaries_cannot_be_overridden) {
        expect_override_error("working_boundaries.md", "nothing", "cannot be overridden");
}

static json_t *agents_for(const char *cwd) {
        json_t *m = manifest("---\nmodel: openai:x\n---\n", cwd);
        pod_error err = { 0 };
        json_t *a;

        cr_assert_eq(do_inline(m, &err), 0, "%s", err.msg);
        a = json_incref(json_object_get(m, "agents_md"));
        json_decref(m);
        return a;
}

Test(inline, nearest_agents_md_from_cwd_up_to_the_project) {
        json_t *a;

        tu_write(root, "AGENTS.md", "above the project: never read");
        a = agents_for(sub);
        cr_assert(json_is_null(a), "the search stops at the project dir");
        json_decref(a);
        tu_write(proj, "AGENTS.md", "project rules");
        a = agents_for(sub);
        cr_assert_str_eq(json_string_value(json_object_get(a, "text")), "project rules");
        json_decref(a);
        tu_write(proj, "src/AGENTS.md", "src rules");
        a = agents_for(sub);
        cr_assert_str_eq(json_string_value(json_object_get(a, "text")), "src rules",
                         "nearest wins");
        cr_assert(json_is_false(json_object_get(a, "truncated")));
        json_decref(a);
}

Test(inline, agents_md_is_size_limited_and_cleaned) {
        size_t n = POD_AGENTS_MD_MAX_BYTES + 100;
        char *big = malloc(n);
        json_t *a;
        const char *text;

        memset(big, 'a', n);
        memcpy(big + POD_AGENTS_MD_MAX_BYTES - 1, "\xc3\xa9", 2); /* é across the limit */
        memcpy(big, "x\xffy\0z", 5);
        tu_write_n(proj, "AGENTS.md", big, n);
        a = agents_for(proj);
        text = json_string_value(json_object_get(a, "text"));
        cr_assert(json_is_true(json_object_get(a, "truncated")));
        cr_assert(str_startswith(text, "x\xef\xbf\xbdy\xef\xbf\xbdz"),
                  "bad bytes and NUL replaced");
        cr_assert(utf8_valid(text, strlen(text)), "never half a character");
        cr_assert(!str_endswith(text, "\xc3"));
        json_decref(a);
        free(big);
}

Test(inline, agents_md_symlinks_are_not_followed) {
        char *link = tu_path(proj, "AGENTS.md");
        json_t *a;

        tu_write(root, "secret.txt", "private key");
        cr_assert_eq(symlink("../secret.txt", link), 0);
        a = agents_for(proj);
        cr_assert(json_is_null(a), "a symlinked AGENTS.md could leak a file into the prompt");
        json_decref(a);
        free(link);
}

/* ---- a child's manifest, completed by its spawner ---------------------------------------- */

Test(inline, a_child_takes_its_skills_from_the_library_and_fails_without_them) {
        json_t *lib = json_pack("{s:{s:s, s:s, s:s, s:s, s:s}, s:{s:s, s:s}}", "lint", "name",
                                "lint", "path", "/p/.pod/skills/lint/SKILL.md", "sha256",
                                "0000000000000000000000000000000000000000000000000000000000000000",
                                "description", "d", "body", "LINT", "gone", "name", "gone", "error",
                                "skill 'gone' not found; tried: /p/.pod/skills/gone/SKILL.md");
        json_t *m = manifest("---\nmodel: openai:x\nskills: [lint]\n---\n", sub);
        json_t *missing = manifest("---\nmodel: openai:x\nskills: [gone]\n---\n", sub);
        json_t *unknown = manifest("---\nmodel: openai:x\nskills: [newer]\n---\n", sub);
        pod_error err = { 0 };

        cr_assert_eq(prompt_inline_child(m, lib, NULL, proj, &err), 0, "%s", err.msg);
        cr_assert_str_eq(json_string_value(json_object_get(
                                 json_array_get(json_object_get(m, "skills"), 0), "body")),
                         "LINT");
        cr_assert_eq(manifest_validate(m, &err), 0, "%s", err.msg);
        cr_assert_lt(prompt_inline_child(missing, lib, NULL, proj, &err), 0);
        cr_assert(strstr(err.msg, "skill 'gone' not found; tried:"), "the reason of then: %s",
                  err.msg);
        cr_assert_lt(prompt_inline_child(unknown, lib, NULL, proj, &err), 0);
        cr_assert(strstr(err.msg, "'newer' is not among those resolved"), "%s", err.msg);
        cr_assert(json_is_null(json_object_get(unknown, "agents_md")), "a failure changes nothing");
        json_decref(lib);
        json_decref(m);
        json_decref(missing);
        json_decref(unknown);
}

/* The nearest AGENTS.md from the child's cwd; the spawner's own is reused, not read again. */
Test(inline, a_child_gets_the_nearest_agents_md_or_its_spawners) {
        json_t *known =
                json_pack("{s:s, s:s, s:s, s:b}", "path", "", "sha256",
                          "0000000000000000000000000000000000000000000000000000000000000000",
                          "text", "AS THE SPAWNER SAW IT", "truncated", 0);
        char *at_proj = tu_path(proj, "AGENTS.md");
        json_t *m = manifest("---\nmodel: openai:x\n---\n", sub), *none = json_object();
        pod_error err = { 0 };

        json_object_set_new(known, "path", json_string(at_proj));
        tu_write(proj, "AGENTS.md", "on disk now");
        cr_assert_eq(prompt_inline_child(m, none, known, proj, &err), 0, "%s", err.msg);
        cr_assert_str_eq(
                json_string_value(json_object_get(json_object_get(m, "agents_md"), "text")),
                "AS THE SPAWNER SAW IT");
        tu_write(proj, "src/AGENTS.md", "src rules");
        cr_assert_eq(prompt_inline_child(m, none, known, proj, &err), 0, "%s", err.msg);
        cr_assert_str_eq(
                json_string_value(json_object_get(json_object_get(m, "agents_md"), "text")),
                "src rules");
        json_decref(known);
        json_decref(none);
        json_decref(m);
        free(at_proj);
}
