/* SPDX-License-Identifier: MIT */
/* End to end: what the model reads, through `pod profile show --prompt`. */
#include <criterion/criterion.h>
#include <string.h>

#include "base/base.h"
#include "testutil.h"
#include <jansson.h>

static tu_env env;

static void setup(void) {
        tu_env_setup(&env);
}

static void teardown(void) {
        tu_env_teardown(&env);
}

TestSuite(prompt_cli, .init = setup, .fini = teardown);

#define POD(r, cwd, ...) tu_run_pod(r, &env, cwd, (const char *const[]){ __VA_ARGS__, NULL })

Test(prompt_cli, prompt_has_every_section_in_order) {
        tu_result r;
        const char *a, *b, *c, *d;

        tu_write(env.project, "AGENTS.md", "Always run make test.\n");
        tu_write(env.project, ".pod/profiles/lead.md",
                 "---\nmodel: openai:x\nskills: [tickets]\n---\nYou are {{ pod_name }}.\n");
        POD(&r, env.project, "profile", "show", "project:lead", "--prompt", "--name", "boss");
        cr_assert_eq(r.status, 0, "%s", r.err);
        cr_assert(str_startswith(r.out, "You are boss.\n"), "%s", r.out);
        a = strstr(r.out, "### tickets");
        b = strstr(r.out, "## Working boundaries");
        c = strstr(r.out, "Always run make test.");
        d = strstr(r.out, "## Working with child pods");
        cr_assert(a && b && c && d && a < b && b < c && c < d, "%s", r.out);
        cr_assert(strstr(r.out, env.project), "the working directory is named: %s", r.out);
        tu_result_done(&r);
}

Test(prompt_cli, overrides_apply_and_broken_ones_fail_clearly) {
        tu_result r;

        tu_write(env.config, "prompts/orchestration.md", "Delegate wisely ({{ max_children }}).\n");
        POD(&r, env.project, "profile", "show", "builtin:orchestrator", "--prompt");
        cr_assert_eq(r.status, 0, "%s", r.err);
        cr_assert(strstr(r.out, "Delegate wisely (8)."), "%s", r.out);
        tu_result_done(&r);
        tu_write(env.project, ".pod/prompts/orchestration.md", "fine\n{% for x in %}\n");
        POD(&r, env.project, "profile", "show", "builtin:orchestrator", "--prompt");
        cr_assert_eq(r.status, 2);
        cr_assert(strstr(r.err, ".pod/prompts/orchestration.md:2:"), "%s", r.err);
        cr_assert_eq(tu_lines(r.err), 1, "%s", r.err);
        tu_result_done(&r);
}

Test(prompt_cli, a_missing_skill_lists_the_paths_tried) {
        tu_result r;

        tu_write(env.project, ".pod/profiles/s.md", "---\nmodel: openai:x\nskills: [lint]\n---\n");
        POD(&r, env.project, "profile", "show", "project:s", "--prompt");
        cr_assert_eq(r.status, 2);
        cr_assert(strstr(r.err, "skill 'lint' not found; tried: "), "%s", r.err);
        cr_assert(strstr(r.err, "/.agents/skills/lint/SKILL.md"), "%s", r.err);
        cr_assert(strstr(r.err, "<builtin>/skills/lint/SKILL.md"), "%s", r.err);
        tu_result_done(&r);
}

Test(prompt_cli, resolved_manifest_carries_skill_bodies_and_agents_md) {
        tu_result r;
        json_t *m, *skill;

        tu_write(env.project, "AGENTS.md", "Rules.\n");
        tu_write(env.project, ".agents/skills/lint/SKILL.md",
                 "---\nname: lint\ndescription: Lints\n---\nRun the linter.\n");
        tu_write(env.project, ".pod/profiles/s.md", "---\nmodel: openai:x\nskills: [lint]\n---\n");
        POD(&r, env.project, "profile", "show", "project:s", "--resolved");
        cr_assert_eq(r.status, 0, "%s", r.err);
        m = json_loads(r.out, 0, NULL);
        cr_assert_not_null(m);
        skill = json_array_get(json_object_get(m, "skills"), 0);
        cr_assert_str_eq(json_string_value(json_object_get(skill, "body")), "Run the linter.");
        cr_assert_str_eq(
                json_string_value(json_object_get(json_object_get(m, "agents_md"), "text")),
                "Rules.\n");
        json_decref(m);
        tu_result_done(&r);
}

Test(prompt_cli, spawn_description_matches_the_selector_error_list) {
        tu_result r, e;
        json_t *j;
        const char *desc;

        tu_write(env.project, ".pod/profiles/helper.md",
                 "---\ndescription: Helps\nmodel: openai:x\n---\n");
        POD(&r, env.project, "profile", "show", "builtin:orchestrator", "--prompt", "--json");
        cr_assert_eq(r.status, 0, "%s", r.err);
        j = json_loads(r.out, 0, NULL);
        desc = json_string_value(json_object_get(json_object_get(j, "tools"), "SpawnPod"));
        cr_assert_not_null(desc, "%s", r.out);
        POD(&e, env.project, "profile", "show", "nothere");
        cr_assert_eq(tu_list_matches_description(e.err, desc), 5, "%s\n%s", e.err, desc);
        cr_assert(strstr(desc, "- project:helper: Helps"), "%s", desc);
        json_decref(j);
        tu_result_done(&r);
        tu_result_done(&e);
}

Test(prompt_cli, instruction_with_an_undefined_variable_fails) {
        tu_result r;

        tu_write(env.project, ".pod/profiles/bad.md",
                 "---\nmodel: openai:x\n---\nHello {{ nme }}\n");
        POD(&r, env.project, "profile", "show", "project:bad", "--prompt");
        cr_assert_eq(r.status, 2);
        cr_assert(strstr(r.err, "bad.md (instruction):1: undefined variable 'nme'"), "%s", r.err);
        tu_result_done(&r);
}
