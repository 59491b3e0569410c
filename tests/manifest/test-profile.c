/* SPDX-License-Identifier: MIT */
#include <criterion/criterion.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>

#include "manifest/manifest.h"
#include "testutil.h"

static int parse(pod_profile **out, const char *text, pod_error *err) {
        return profile_parse(out, POD_SOURCE_PROJECT, "coder", "/p/coder.md", text, strlen(text),
                             err);
}

/* Parse text that must fail; the error must name the file and contain want. */
static void expect_error(const char *text, const char *want) {
        pod_profile *p = NULL;
        pod_error err = { 0 };

        cr_assert_lt(parse(&p, text, &err), 0, "accepted: %s", text);
        cr_assert_null(p, "no output on failure");
        cr_assert(strstr(err.msg, "/p/coder.md"), "names the file: %s", err.msg);
        cr_assert(strstr(err.msg, want), "wanted '%s' in: %s", want, err.msg);
        cr_assert_null(strchr(err.msg, '\n'), "one line");
}

static const char full[] = "---\n"
                           "name: coder\n"
                           "description: Writes code\n"
                           "model: openai:gpt-5\n"
                           "endpoint: https://proxy.example/v1/\n"
                           "api_key_env: MY_KEY\n"
                           "reasoning: high\n"
                           "tools: [Read, Bash]\n"
                           "skills:\n"
                           "  - tickets\n"
                           "scope: read\n"
                           "network: none\n"
                           "limits:\n"
                           "  max_turns: 7\n"
                           "  max_depth: 2\n"
                           "  max_children: 3\n"
                           "  timeout_s: 60\n"
                           "  max_tokens: 1000\n"
                           "---\n"
                           "\n"
                           "Do the work.\n";

Test(profile, every_key_is_parsed_with_its_type) {
        pod_profile *p = NULL;
        pod_error err = { 0 };

        cr_assert_eq(parse(&p, full, &err), 0, "%s", err.msg);
        cr_assert_str_eq(p->name, "coder");
        cr_assert_str_eq(p->description, "Writes code");
        cr_assert_str_eq(p->model, "openai:gpt-5");
        cr_assert_str_eq(p->endpoint, "https://proxy.example/v1", "normalised");
        cr_assert_str_eq(p->api_key_env, "MY_KEY");
        cr_assert_eq(p->reasoning, POD_REASONING_HIGH);
        cr_assert_eq(strv_length(p->tools), 2);
        cr_assert_str_eq(p->skills[0], "tickets");
        cr_assert_eq(p->scope, POD_ACCESS_READ);
        cr_assert_eq(p->network, POD_NETWORK_NONE);
        cr_assert_eq(p->limits[0], 7);
        cr_assert_eq(p->limits[4], 1000);
        cr_assert_str_eq(p->body, "Do the work.");
        cr_assert_eq(strlen(p->sha256), 64);
        profile_free(p);
}

Test(profile, origins_record_file_lines) {
        pod_profile *p = NULL;

        cr_assert_eq(parse(&p, full, NULL), 0);
        cr_assert_eq(p->origin[PK_NAME].line, 2);
        cr_assert_eq(p->origin[PK_MODEL].line, 4);
        cr_assert_eq(p->origin[PK_MAX_TURNS].line, 14);
        cr_assert_eq(p->origin[PK_MAX_TOKENS].line, 18);
        cr_assert_eq(p->origin[PK_BODY].line, 21, "the first non-blank body line");
        cr_assert_str_eq(p->origin[PK_MODEL].file, "/p/coder.md");
        cr_assert_not(p->set[PK_EXTENDS]);
        profile_free(p);
}

Test(profile, defaults_apply_to_unset_keys) {
        pod_profile *p = NULL;

        cr_assert_eq(parse(&p, "---\nmodel: openai:gpt-5\n---\n", NULL), 0);
        cr_assert_eq(p->scope, POD_ACCESS_WRITE);
        cr_assert_eq(p->network, POD_NETWORK_MODEL_ONLY);
        cr_assert_null(p->tools, "unset tools means all tools");
        cr_assert_eq(p->limits[0], 200);
        cr_assert_str_eq(p->body, "");
        profile_free(p);
}

Test(profile, crlf_and_bom_are_accepted) {
        pod_profile *p = NULL;
        pod_error err = { 0 };

        cr_assert_eq(parse(&p, "\xef\xbb\xbf---\r\nmodel: openai:gpt-5\r\n---\r\nBody\r\n", &err),
                     0, "%s", err.msg);
        cr_assert_str_eq(p->body, "Body");
        profile_free(p);
}

Test(profile, front_matter_is_required_and_closed) {
        expect_error("model: openai:x\n", "missing YAML front matter");
        expect_error("---\nmodel: openai:x\n", "not closed");
        expect_error("", "missing YAML front matter");
}

Test(profile, malformed_yaml_names_the_line) {
        expect_error("---\nmodel: openai:x\ntools: [Read\n---\n", "malformed YAML");
        /* An unclosed flow list names the line it opens on, not the line after. */
        expect_error("---\nmodel: openai:x\ntools: [Read, Bash\ndescription: d\n---\n",
                     "coder.md:3: malformed YAML");
        expect_error("---\nmodel: openai:x\ntools: [Read, Bash\ndescription: d\n---\n",
                     "(noticed at line 4)");
        expect_error("---\nmodel: openai:x\n  bad: indent: here\n---\n", ":3:");
        expect_error("---\n- a\n- b\n---\n", "must be a mapping");
}

Test(profile, unknown_keys_are_named_with_line) {
        expect_error("---\nmodel: openai:x\ncolour: blue\n---\n",
                     "coder.md:3: unknown key 'colour'");
        expect_error("---\nmodel: openai:x\nlimits:\n  max_turn: 3\n---\n",
                     "unknown key 'max_turn'");
}

Test(profile, duplicate_keys_are_refused) {
        expect_error("---\nmodel: openai:x\nmodel: openai:y\n---\n",
                     "duplicate key (first at line 2)");
        expect_error("---\nmodel: openai:x\nlimits: {max_turns: 1, max_turns: 2}\n---\n",
                     "duplicate key");
}

Test(profile, wrong_types_are_refused) {
        expect_error("---\nmodel: openai:x\ntools: Read\n---\n", "tools: must be a list");
        expect_error("---\nmodel: [openai:x]\n---\n", "model: must be a string");
        expect_error("---\nmodel: openai:x\nlimits:\n  max_turns: \"5\"\n---\n", "whole number");
        expect_error("---\nmodel: openai:x\nlimits:\n  max_turns: 0\n---\n", "out of range");
        expect_error("---\nmodel: openai:x\nlimits:\n  max_turns: -1\n---\n", "whole number");
        expect_error("---\nmodel: openai:x\nlimits:\n  timeout_s: 9999999999999999\n---\n",
                     "whole number");
        expect_error("---\nmodel: openai:x\nlimits: 5\n---\n", "must be a mapping");
        expect_error("---\nmodel: openai:x\nreasoning: extreme\n---\n", "not one of: low");
        expect_error("---\nmodel: openai:x\nnetwork: some\n---\n", "model-only, none, full");
        expect_error("---\nmodel: openai:x\nscope: exec\n---\n", "write, read, none");
        expect_error("---\nmodel: openai:x\ndescription:\n---\n", "has no value");
        expect_error("---\nmodel: openai:x\ndescription: |\n  two\n  lines\n---\n", "one line");
        expect_error("---\nmodel: openai:x\ntools: [Read, Teleport]\n---\n", "'Teleport'");
        expect_error("---\nmodel: openai:x\ntools: [Read, Teleport]\n---\n",
                     "(valid: Read, Write, Edit, Glob, Grep, Bash, SpawnPod, SendToPod, WaitPod, "
                     "ReadPodOutput, ListPods, StopPod)");
        expect_error("---\nmodel: openai:x\ntools: [Read, Read]\n---\n", "listed twice");
        expect_error("---\nmodel: openai:x\nskills: [Bad/Name]\n---\n", "skill name");
}

Test(profile, authority_and_runtime_keys_are_refused_with_reason) {
        expect_error("---\nmodel: openai:x\npod_name: a\n---\n", "not allowed in a profile");
        expect_error("---\nmodel: openai:x\npod: a\n---\n", "spawn time");
        expect_error("---\nmodel: openai:x\nscope:\n  allow: [/etc]\n---\n", "only a ceiling");
        expect_error("---\nmodel: openai:x\nallow: [/]\n---\n", "granted at spawn time");
        expect_error("---\nmodel: openai:x\nsocket: /run/x.sock\n---\n", "runtime state");
        expect_error("---\nmodel: openai:x\ntoken: abc\n---\n", "runtime state");
}

Test(profile, name_must_equal_the_file_stem) {
        expect_error("---\nname: other\nmodel: openai:x\n---\n",
                     "name 'other' differs from the file name 'coder.md'");
}

Test(profile, text_must_be_utf8_without_nul) {
        pod_profile *p = NULL;
        pod_error err = { 0 };
        static const char nul[] = "---\nmodel: openai:x\n---\na\0b";

        expect_error("---\nmodel: openai:x\ndescription: caf\xe9\n---\n",
                     "coder.md:3: not valid UTF-8");
        cr_assert_lt(profile_parse(&p, POD_SOURCE_USER, "coder", "/p/coder.md", nul,
                                   sizeof(nul) - 1, &err),
                     0);
        cr_assert(strstr(err.msg, "NUL byte"), "%s", err.msg);
}

Test(profile, size_limit_is_enforced_at_its_edge) {
        size_t n = POD_PROFILE_MAX_BYTES;
        char *t = malloc(n + 1);
        pod_profile *p = NULL;
        pod_error err = { 0 };
        const char head[] = "---\nmodel: openai:x\n---\n";

        memset(t, 'a', n + 1);
        memcpy(t, head, sizeof(head) - 1);
        cr_assert_eq(profile_parse(&p, POD_SOURCE_USER, "c", "/c.md", t, n, &err), 0,
                     "exactly the limit is fine: %s", err.msg);
        profile_free(p);
        p = NULL;
        cr_assert_eq(profile_parse(&p, POD_SOURCE_USER, "c", "/c.md", t, n + 1, &err), -EFBIG);
        cr_assert(strstr(err.msg, "byte limit"), "%s", err.msg);
        free(t);
}

Test(profile, model_may_be_left_to_the_spawner_and_is_checked_when_given) {
        pod_profile *p = NULL;
        pod_error err = { 0 };

        /* No model: the pod runs its spawner's (DESIGN §4); what belongs to a model needs one. */
        cr_assert_eq(parse(&p, "---\ndescription: x\n---\n", &err), 0, "%s", err.msg);
        cr_assert_null(p->model);
        profile_free(p);
        expect_error("---\nendpoint: https://x\n---\n", "coder.md:2: endpoint: belongs to a model");
        expect_error("---\napi_key_env: K\n---\n", "api_key_env: belongs to a model");
        expect_error("---\nmodel: gpt-5\n---\n", "no provider prefix");
        expect_error("---\nmodel: nope:gpt-5\n---\n",
                     "coder.md:2: model: model 'nope:gpt-5': unknown provider");
        expect_error("---\nmodel: oai-compat:m\n---\n", "needs an endpoint");
        expect_error("---\nmodel: script:s.json\nendpoint: https://x\n---\n", "takes no endpoint");
        expect_error("---\nmodel: script:s.json\napi_key_env: K\n---\n", "uses no API key");
        expect_error("---\nmodel: openai:x\napi_key_env: sk-live-123\n---\n",
                     "not an environment variable name");
        expect_error("---\nmodel: openai:x\nendpoint: ftp://x\n---\n", "http:// or https://");
}

Test(profile, legacy_executor_supplies_the_provider_with_one_warning) {
        pod_profile *p = NULL;
        pod_error err = { 0 };

        cr_assert_eq(parse(&p, "---\nmodel: gpt-5-codex\nexecutor: codex\n---\n", &err), 0, "%s",
                     err.msg);
        cr_assert_str_eq(p->model, "codex:gpt-5-codex");
        cr_assert_eq(strv_length(p->warnings), 1);
        cr_assert(strstr(p->warnings[0], "deprecated"), "%s", p->warnings[0]);
        profile_free(p);
}

Test(profile, executor_is_ignored_when_model_names_its_provider) {
        pod_profile *p = NULL;

        cr_assert_eq(parse(&p, "---\nmodel: openai:gpt-5\nexecutor: codex\n---\n", NULL), 0);
        cr_assert_str_eq(p->model, "openai:gpt-5", "the model's own prefix wins");
        cr_assert_eq(strv_length(p->warnings), 1);
        cr_assert(strstr(p->warnings[0], "ignored"), "%s", p->warnings[0]);
        profile_free(p);
        expect_error("---\nmodel: gpt-5\nexecutor: skynet\n---\n", "not a provider");
}

Test(profile, extends_syntax_is_checked_early) {
        expect_error("---\nextends: path:/x.md\n---\n", "extends does not take profile files");
        expect_error("---\nextends: inherit\n---\n", "extends must name its base");
        expect_error("---\nextends: default\n---\n", "extends must name its base");
}

Test(profile, a_profile_with_extends_is_not_finalised_alone) {
        pod_profile *p = NULL;
        pod_error err = { 0 };

        cr_assert_eq(parse(&p, "---\nextends: builtin:coder\n---\n", &err), 0,
                     "model may come from the base: %s", err.msg);
        cr_assert_null(p->model);
        profile_free(p);
}

Test(profile, load_takes_slug_from_file_name) {
        char *dir = tu_tmpdir(), *path;
        pod_profile *p = NULL;
        pod_error err = { 0 };

        tu_write(dir, "my-role.md", "---\nmodel: openai:x\n---\nHi\n");
        tu_write(dir, "Bad Name.md", "---\nmodel: openai:x\n---\n");
        path = tu_path(dir, "my-role.md");
        cr_assert_eq(profile_load(&p, POD_SOURCE_USER, AT_FDCWD, path, path, &err), 0, "%s",
                     err.msg);
        cr_assert_str_eq(p->slug, "my-role");
        profile_free(p);
        free(path);
        path = tu_path(dir, "Bad Name.md");
        cr_assert_lt(profile_load(&p, POD_SOURCE_USER, AT_FDCWD, path, path, &err), 0);
        cr_assert(strstr(err.msg, "not a valid profile slug"), "%s", err.msg);
        free(path);
        tu_rm_rf(dir);
        free(dir);
}

Test(profile, selector_of_each_source) {
        pod_profile *p = NULL;
        char *s;

        cr_assert_eq(parse(&p, "---\nmodel: openai:x\n---\n", NULL), 0);
        s = profile_selector(p);
        cr_assert_str_eq(s, "project:coder");
        free(s);
        profile_free(p);
}

Test(profile, deep_nesting_is_refused_before_it_gets_slow) {
        size_t depth = 100000, n = 0;
        char *t = malloc(2 * depth + 64);

        n += (size_t) sprintf(t, "---\nmodel: openai:x\ntools: ");
        memset(t + n, '[', depth);
        n += depth;
        memset(t + n, ']', depth);
        n += depth;
        n += (size_t) sprintf(t + n, "\n---\n");
        expect_error(t, "coder.md:3: YAML nested more than 8 levels deep");
        free(t);
        expect_error(
                "---\nmodel: openai:x\nlimits: {a: {b: {c: {d: {e: {f: {g: {h: 1}}}}}}}}\n---\n",
                "nested more than 8");
}

Test(profile, anchors_and_aliases_are_refused) {
        expect_error("---\nmodel: &m openai:x\ndescription: *m\n---\n", "coder.md:2: YAML anchors");
        expect_error("---\nmodel: openai:x\ntools: &t [Read]\n---\n", "anchors and aliases");
}

Test(profile, node_count_is_bounded) {
        size_t n = 0, items = POD_YAML_NODES_MAX + 10;
        char *t = malloc(items * 4 + 64);

        n += (size_t) sprintf(t, "---\nmodel: openai:x\nskills: [");
        for (size_t i = 0; i < items; i++)
                n += (size_t) sprintf(t + n, "a,");
        n += (size_t) sprintf(t + n, "a]\n---\n");
        expect_error(t, "more than 4096 YAML nodes");
        free(t);
}

Test(profile, budgets_and_prices_are_checked) {
        expect_error("---\nmodel: openai:x\nlimits:\n  budget_cost_usd: abc\n---\n",
                     "limits.budget_cost_usd: 'abc' is not a number such as 2.50");
        expect_error("---\nmodel: openai:x\nlimits:\n  budget_cost_usd: -1\n---\n", "not a number");
        expect_error("---\nmodel: openai:x\nlimits:\n  budget_cost_usd: 1.0000000001\n---\n",
                     "not a number");
        expect_error("---\nmodel: openai:x\nlimits:\n  budget_cost_usd: 1000000.01\n---\n",
                     "out of range (0 to 1e+06)");
        expect_error("---\nmodel: openai:x\nlimits:\n  budget_cost_usd: \"5\"\n---\n",
                     "must be a number");
        expect_error("---\nmodel: openai:x\nlimits:\n  budget_tokens: -5\n---\n", "whole number");
        expect_error("---\nmodel: openai:x\nlimits:\n  budget_tokens: 1000000000001\n---\n",
                     "out of range");
        expect_error("---\nmodel: openai:x\nprice: 3\n---\n", "price: must be a mapping");
        expect_error("---\nmodel: openai:x\nprice: {input_per_mtok: 3}\n---\n",
                     "needs input_per_mtok and output_per_mtok");
        expect_error("---\nmodel: openai:x\nprice: {input_per_mtok: 3, output_per_mtok: 1, "
                     "per_call: 1}\n---\n",
                     "unknown key 'per_call'");
        expect_error("---\nmodel: openai:x\nprice: {input_per_mtok: 3, output_per_mtok: 1, "
                     "output_per_mtok: 2}\n---\n",
                     "duplicate key 'output_per_mtok'");
        expect_error(
                "---\nmodel: openai:x\nprice: {input_per_mtok: 100001, output_per_mtok: 1}\n---\n",
                "out of range");
}

Test(profile, budgets_and_prices_are_read) {
        pod_profile *p = NULL;
        pod_error err = { 0 };

        cr_assert_eq(
                parse(&p,
                      "---\nmodel: openai:x\nprice: {input_per_mtok: 2.5, output_per_mtok: 10}\n"
                      "limits:\n  budget_tokens: 5000\n  budget_cost_usd: 0.75\n---\n",
                      &err),
                0, "%s", err.msg);
        cr_assert_eq(p->limits[PK_BUDGET_TOKENS - PK_MAX_TURNS], 5000);
        cr_assert_float_eq(p->budget_cost_usd, 0.75, 1e-12);
        cr_assert(p->set[PK_PRICE]);
        cr_assert_float_eq(p->price[0], 2.5, 1e-12);
        cr_assert_float_eq(p->price[1], 10, 1e-12);
        cr_assert_float_eq(p->price[2], 2.5, 1e-12, "cached reads cost input unless said");
        profile_free(p);
}

/* A delegate profile may name its CLI's API (endpoint and key variable) or leave both to the
 * CLI's own login. */
Test(profile, delegate_endpoint_and_key_variable) {
        static const char text[] = "---\nmodel: claude:sonnet\nendpoint: http://127.0.0.1:9/v1\n"
                                   "api_key_env: MY_KEY\n---\n";
        pod_profile *p = NULL;
        pod_error err = { 0 };

        cr_assert_eq(parse(&p, text, &err), 0, "%s", err.msg);
        cr_assert_str_eq(p->endpoint, "http://127.0.0.1:9");
        cr_assert_str_eq(p->api_key_env, "MY_KEY");
        profile_free(p);
        cr_assert_eq(parse(&p, "---\nmodel: codex:gpt-5\n---\n", &err), 0, "%s", err.msg);
        cr_assert_null(p->endpoint);
        profile_free(p);
}
