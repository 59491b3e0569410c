/* SPDX-License-Identifier: MIT */
#include <criterion/criterion.h>
#include <string.h>
#include <unistd.h>

#include "prompt/prompt.h"
#include "testutil.h"

static char *root, *proj, *config;

static void setup(void) {
        root = tu_tmpdir_real();
        proj = tu_path(root, "proj");
        config = tu_path(root, "config");
        tu_mkdirs(root, "proj");
        tu_mkdirs(root, "config");
}

static void teardown(void) {
        tu_rm_rf(root);
        free(root);
        free(proj);
        free(config);
}

TestSuite(skills, .init = setup, .fini = teardown);

#define SKILL(name, body) "---\nname: " name "\ndescription: Does " name " things\n---\n" body

static void expect_parse_error(const char *text, const char *want) {
        json_t *s = NULL;
        pod_error err = { 0 };

        cr_assert_lt(skill_parse(&s, "lint", "/s/lint/SKILL.md", text, strlen(text), &err), 0,
                     "accepted: %s", text);
        cr_assert(strstr(err.msg, "/s/lint/SKILL.md"), "names the file: %s", err.msg);
        cr_assert(strstr(err.msg, want), "wanted '%s' in: %s", want, err.msg);
}

Test(skills, parse_records_name_description_body_and_digest) {
        const char *text = SKILL("lint", "\nRun the linter.\n\n");
        json_t *s = NULL;
        pod_error err = { 0 };

        cr_assert_eq(skill_parse(&s, "lint", "/s/lint/SKILL.md", text, strlen(text), &err), 0, "%s",
                     err.msg);
        cr_assert_str_eq(json_string_value(json_object_get(s, "name")), "lint");
        cr_assert_str_eq(json_string_value(json_object_get(s, "description")), "Does lint things");
        cr_assert_str_eq(json_string_value(json_object_get(s, "body")), "Run the linter.");
        cr_assert_str_eq(json_string_value(json_object_get(s, "path")), "/s/lint/SKILL.md");
        cr_assert_eq(strlen(json_string_value(json_object_get(s, "sha256"))), 64);
        json_decref(s);
}

Test(skills, front_matter_is_validated) {
        expect_parse_error("Just text\n", "missing YAML front matter");
        expect_parse_error("---\nname: other\ndescription: d\n---\n",
                           "name 'other' differs from its folder 'lint'");
        expect_parse_error("---\ndescription: d\n---\n", "needs name");
        expect_parse_error("---\nname: lint\n---\n", "needs a description");
        expect_parse_error("---\nname: lint\ndescription: \"\"\n---\n", "needs a description");
        expect_parse_error("---\nname: lint\ndescription: d\ncolour: red\n---\n",
                           ":4: unknown key 'colour'");
        expect_parse_error("---\nname: lint\nname: lint\ndescription: d\n---\n", "duplicate key");
        expect_parse_error("---\nname: [lint\n---\n", "malformed YAML");
}

Test(skills, description_limit_is_in_characters) {
        char text[8192];
        char desc[4096];
        json_t *s = NULL;

        /* 1,024 two-byte characters are fine; one more is not. */
        desc[0] = '\0';
        for (int i = 0; i < 1024; i++)
                strcat(desc, "é");
        snprintf(text, sizeof(text), "---\nname: lint\ndescription: %s\n---\n", desc);
        cr_assert_eq(skill_parse(&s, "lint", "/s/lint/SKILL.md", text, strlen(text), NULL), 0);
        json_decref(s);
        snprintf(text, sizeof(text), "---\nname: lint\ndescription: %sé\n---\n", desc);
        expect_parse_error(text, "description is over 1024 characters");
}

Test(skills, absurd_size_is_refused) {
        size_t n = POD_SKILL_MAX_BYTES + 1;
        char *big = malloc(n);
        json_t *s = NULL;
        pod_error err = { 0 };

        memset(big, 'a', n);
        memcpy(big, "---\nname: lint\ndescription: d\n---\n", 34);
        cr_assert_eq(skill_parse(&s, "lint", "/s/lint/SKILL.md", big, n, &err), -EFBIG);
        cr_assert(strstr(err.msg, "byte limit"), "%s", err.msg);
        free(big);
}

static const char *resolved_path(const char *name) {
        static char path[4200];
        prompt_sources src = { config, proj };
        json_t *s = NULL;
        pod_error err = { 0 };

        cr_assert_eq(skill_resolve(&s, name, &src, &err), 0, "%s", err.msg);
        snprintf(path, sizeof(path), "%s", json_string_value(json_object_get(s, "path")));
        json_decref(s);
        return path;
}

Test(skills, resolution_order_is_project_pod_agents_config_builtin) {
        cr_assert_str_eq(resolved_path("tickets"), "<builtin>/skills/tickets/SKILL.md");
        tu_write(config, "skills/tickets/SKILL.md", SKILL("tickets", "user"));
        cr_assert(str_endswith(resolved_path("tickets"), "/config/skills/tickets/SKILL.md"));
        tu_write(proj, ".agents/skills/tickets/SKILL.md", SKILL("tickets", "agents"));
        cr_assert(str_endswith(resolved_path("tickets"), "/proj/.agents/skills/tickets/SKILL.md"));
        tu_write(proj, ".pod/skills/tickets/SKILL.md", SKILL("tickets", "pod"));
        cr_assert(str_endswith(resolved_path("tickets"), "/proj/.pod/skills/tickets/SKILL.md"));
}

Test(skills, a_missing_skill_lists_every_path_tried) {
        prompt_sources src = { config, proj };
        json_t *s = NULL;
        pod_error err = { 0 };

        cr_assert_eq(skill_resolve(&s, "ghost", &src, &err), -ENOENT);
        cr_assert(strstr(err.msg, "skill 'ghost' not found; tried: "), "%s", err.msg);
        cr_assert(strstr(err.msg, "/proj/.pod/skills/ghost/SKILL.md"), "%s", err.msg);
        cr_assert(strstr(err.msg, "/proj/.agents/skills/ghost/SKILL.md"), "%s", err.msg);
        cr_assert(strstr(err.msg, "/config/skills/ghost/SKILL.md"), "%s", err.msg);
        cr_assert(strstr(err.msg, "<builtin>/skills/ghost/SKILL.md"), "%s", err.msg);
}

Test(skills, a_broken_skill_earlier_in_the_order_is_an_error_not_skipped) {
        prompt_sources src = { config, proj };
        json_t *s = NULL;
        pod_error err = { 0 };

        tu_write(proj, ".pod/skills/tickets/SKILL.md", "---\nname: wrong\ndescription: d\n---\n");
        cr_assert_lt(skill_resolve(&s, "tickets", &src, &err), 0);
        cr_assert(strstr(err.msg, "differs from its folder"), "%s", err.msg);
}

Test(skills, builtin_tickets_skill_teaches_tickets_sh) {
        prompt_sources src = { NULL, NULL };
        json_t *s = NULL;

        cr_assert_eq(skill_resolve(&s, "tickets", &src, NULL), 0);
        cr_assert(strstr(json_string_value(json_object_get(s, "body")), "tickets.sh doctor"));
        json_decref(s);
}
