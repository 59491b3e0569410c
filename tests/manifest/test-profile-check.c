/* SPDX-License-Identifier: MIT */
#include <criterion/criterion.h>
#include <string.h>

#include "manifest/manifest.h"

static pod_profile *parse(const char *slug, const char *file, const char *text) {
        pod_profile *p = NULL;
        pod_error err = { 0 };

        cr_assert_eq(profile_parse(&p, POD_SOURCE_PROJECT, slug, file, text, strlen(text), &err), 0,
                     "%s", err.msg);
        return p;
}

static const char base_text[] = "---\n"
                                "description: Base role\n"
                                "model: openai:gpt-5\n"
                                "reasoning: low\n"
                                "tools: [Read, Grep]\n"
                                "scope: read\n"
                                "limits:\n"
                                "  max_turns: 10\n"
                                "  max_depth: 1\n"
                                "---\n"
                                "Base body.\n";

Test(profile_check, own_keys_win_and_base_fills_the_rest) {
        pod_profile *base = parse("base", "/p/base.md", base_text);
        pod_profile *p =
                parse("child", "/p/child.md",
                      "---\nextends: base\nreasoning: high\nlimits:\n  max_turns: 3\n---\n");
        pod_error err = { 0 };

        cr_assert_eq(profile_apply_base(p, base, "project:base", &err), 0, "%s", err.msg);
        cr_assert_str_eq(p->model, "openai:gpt-5");
        cr_assert_eq(p->reasoning, POD_REASONING_HIGH, "the child's key wins");
        cr_assert_eq(p->limits[0], 3, "limits merge key by key");
        cr_assert_eq(p->limits[1], 1);
        cr_assert_eq(strv_length(p->tools), 2);
        cr_assert_eq(p->scope, POD_ACCESS_READ);
        cr_assert_str_eq(p->body, "Base body.", "an empty body takes the base's");
        cr_assert_str_eq(p->base_selector, "project:base");
        cr_assert_str_eq(p->base_sha256, base->sha256);
        cr_assert_str_eq(p->origin[PK_MODEL].file, "/p/base.md", "origins point at the base");
        cr_assert_eq(p->origin[PK_MODEL].line, 3);
        cr_assert_str_eq(p->origin[PK_REASONING].file, "/p/child.md");
        profile_free(base);
        profile_free(p);
}

Test(profile_check, a_child_body_replaces_the_base_body) {
        pod_profile *base = parse("base", "/p/base.md", base_text);
        pod_profile *p = parse("child", "/p/child.md", "---\nextends: base\n---\nMine.\n");

        cr_assert_eq(profile_apply_base(p, base, "project:base", NULL), 0);
        cr_assert_str_eq(p->body, "Mine.");
        profile_free(base);
        profile_free(p);
}

Test(profile_check, finalisation_runs_after_the_base_applies) {
        pod_profile *base = parse("base", "/p/base.md",
                                  "---\nmodel: oai-compat:m\nendpoint: http://h:1\n---\n");
        pod_profile *p = parse("child", "/p/child.md", "---\nextends: base\n---\n");
        pod_profile *nomodel = parse("nm", "/p/nm.md", "---\nextends: x\n---\n");
        pod_profile *empty_base = parse("eb", "/p/eb.md", "---\nextends: y\n---\n");
        pod_error err = { 0 };

        cr_assert_eq(profile_apply_base(p, base, "project:base", &err), 0, "%s", err.msg);
        cr_assert_str_eq(p->endpoint, "http://h:1/v1");
        /* A base without a model leaves the child without one: it runs its spawner's. */
        cr_assert_eq(profile_apply_base(nomodel, empty_base, "project:eb", &err), 0, "%s", err.msg);
        cr_assert_null(nomodel->model);
        profile_free(base);
        profile_free(p);
        profile_free(nomodel);
        profile_free(empty_base);
}
