/* SPDX-License-Identifier: MIT */
#include <criterion/criterion.h>
#include <string.h>

#include "prompt/prompt.h"

static json_t *manifest(const char *profile_text, const pod_scope *scope) {
        pod_profile *p = NULL;
        manifest_inputs in = { .cwd = "/p", .name = "worker", .scope = scope };
        json_t *m = NULL;
        pod_error err = { 0 };
        prompt_sources none = { NULL, NULL };

        cr_assert_eq(profile_parse(&p, POD_SOURCE_PROJECT, "r", "/p/r.md", profile_text,
                                   strlen(profile_text), &err),
                     0, "%s", err.msg);
        cr_assert_eq(manifest_resolve(&m, NULL, p, &in, &err), 0, "%s", err.msg);
        cr_assert_eq(prompt_inline(m, &none, &err), 0, "%s", err.msg);
        profile_free(p);
        return m;
}

/* A digest of the right form for an inlined text. */
#define SHA "0000000000000000000000000000000000000000000000000000000000000000"

static manifest_view *view_of(const json_t *m) {
        manifest_view *v = NULL;
        pod_error err = { 0 };

        cr_assert_eq(manifest_view_new(&v, m, &err), 0, "%s", err.msg);
        return v;
}

static char *system_prompt(json_t *m) {
        manifest_view *v = view_of(m);
        pod_buf out = { 0 };
        pod_error err = { 0 };

        cr_assert_eq(prompt_system(&out, v, "2026-11-21", &err), 0, "%s", err.msg);
        manifest_view_free(v);
        return buf_steal(&out);
}

Test(system, sections_come_in_order) {
        json_t *m =
                manifest("---\nmodel: openai:gpt-5\nskills: [tickets]\n---\nYou are {{ pod_name }} "
                         "on {{ model }} at depth {{ depth }}, {{ date }}, in {{ cwd }}.\n",
                         NULL);
        char *s;
        const char *skills, *bounds, *agents, *orch;

        json_object_set_new(m, "agents_md",
                            json_pack("{s:s, s:s, s:s, s:b}", "path", "/p/AGENTS.md", "sha256", SHA,
                                      "text", "House rules.", "truncated", 0));
        s = system_prompt(m);
        cr_assert(
                str_startswith(s, "You are worker on openai:gpt-5 at depth 0, 2026-11-21, in /p."),
                "%s", s);
        skills = strstr(s, "## Skills");
        bounds = strstr(s, "## Working boundaries");
        agents = strstr(s, "House rules.");
        orch = strstr(s, "## Working with child pods");
        cr_assert(skills && bounds && agents && orch, "%s", s);
        cr_assert(skills < bounds && bounds < agents && agents < orch, "order: %s", s);
        cr_assert(str_endswith(s, ".\n"), "ends with one newline");
        cr_assert_null(strstr(s, "\n\n\n"), "no runs of blank lines: %s", s);
        free(s);
        json_decref(m);
}

Test(system, boundaries_list_what_the_scope_allows) {
        pod_scope sc = { 0 };
        json_t *m;
        char *s;

        scope_add(&sc, false, "/p/src", POD_ACCESS_WRITE, true, NULL);
        scope_add(&sc, false, "/p", POD_ACCESS_READ, true, NULL);
        scope_add(&sc, true, "/p/src/secret", POD_ACCESS_READ, true, NULL);
        scope_add(&sc, true, "/p/src/vendor", POD_ACCESS_WRITE, true, NULL);
        m = manifest("---\nmodel: openai:x\nnetwork: none\n---\n", &sc);
        s = system_prompt(m);
        cr_assert(strstr(s, "You may read and write:\n- `/p/src`"), "%s", s);
        cr_assert(strstr(s, "You may read, but not change:\n- `/p`"), "%s", s);
        cr_assert(strstr(s, "- `/p/src/secret`: no access"), "%s", s);
        cr_assert(strstr(s, "- `/p/src/vendor`: read only"), "%s", s);
        cr_assert(strstr(s, "Network: none"), "%s", s);
        free(s);
        json_decref(m);
        scope_done(&sc);
}

Test(system, no_skills_and_no_spawnpod_means_no_such_sections) {
        json_t *m = manifest("---\nmodel: openai:x\ntools: [Read]\n---\nBody.\n", NULL);
        char *s = system_prompt(m);

        cr_assert_null(strstr(s, "## Skills"), "%s", s);
        cr_assert_null(strstr(s, "child pods"), "%s", s);
        cr_assert(strstr(s, "## Working boundaries"), "%s", s);
        free(s);
        json_decref(m);
}

Test(system, sandbox_off_is_said_plainly) {
        json_t *m = manifest("---\nmodel: openai:x\n---\n", NULL);
        char *s;

        json_object_set_new(m, "sandbox", json_string("off"));
        s = system_prompt(m);
        cr_assert(strstr(s, "turned the kernel sandbox off"), "%s", s);
        free(s);
        json_decref(m);
}

Test(system, overrides_change_sections_but_never_the_boundaries) {
        json_t *m = manifest("---\nmodel: openai:x\n---\nBody.\n", NULL);
        char *s;

        json_object_set_new(json_object_get(m, "prompts"), "orchestration",
                            json_pack("{s:s, s:s, s:s}", "file", "/o/orchestration.md", "sha256",
                                      SHA, "text", "Delegate at most {{ max_children }}."));
        json_object_set_new(json_object_get(m, "prompts"), "working_boundaries",
                            json_pack("{s:s, s:s, s:s}", "file", "/o/wb.md", "sha256", SHA, "text",
                                      "No limits."));
        s = system_prompt(m);
        cr_assert(strstr(s, "Delegate at most 16."), "%s", s);
        cr_assert(strstr(s, "## Working boundaries"), "%s", s);
        cr_assert_null(strstr(s, "No limits."), "%s", s);
        free(s);
        json_decref(m);
}

Test(system, an_unresolved_skill_is_an_error) {
        json_t *m = manifest("---\nmodel: openai:x\n---\n", NULL);
        pod_buf out = { 0 };
        pod_error err = { 0 };

        json_array_append_new(json_object_get(m, "skills"), json_pack("{s:s}", "name", "lint"));
        manifest_view *v = view_of(m);
        cr_assert_lt(prompt_system(&out, v, "2026-11-21", &err), 0);
        manifest_view_free(v);
        cr_assert(strstr(err.msg, "skill 'lint' was not resolved"), "%s", err.msg);
        buf_done(&out);
        json_decref(m);
}
