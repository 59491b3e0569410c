/* SPDX-License-Identifier: MIT */
#include <criterion/criterion.h>
#include <string.h>
#include <unistd.h>

#include "manifest/manifest.h"
#include "testutil.h"

static char *root, *proj;

static void setup(void) {
        root = tu_tmpdir_real();
        proj = tu_path(root, "proj");
        tu_mkdirs(proj, ".pod/profiles");
}

static void teardown(void) {
        tu_rm_rf(root);
        free(root);
        free(proj);
}

TestSuite(manifest, .init = setup, .fini = teardown);

/* Write project:<slug> with text, discover, resolve. The set stays alive in *ret_set. */
static json_t *resolve_full(
        const char *slug, const char *text, manifest_inputs *in, json_t **explain, pod_error *err) {
        char rel[128];
        profile_set *s = NULL;
        const profile_entry *e = NULL;
        json_t *m = NULL;
        char sel[128];

        snprintf(rel, sizeof(rel), ".pod/profiles/%s.md", slug);
        snprintf(sel, sizeof(sel), "project:%s", slug);
        tu_write(proj, rel, text);
        tu_trust(proj, proj); /* the project as the config dir: trusted, no user profiles */
        cr_assert_eq(profile_set_discover(&s, proj, proj, err), 0);
        cr_assert_eq(profile_set_select(&e, s, sel, SEL_CONTEXT_CLI, err), 0, "%s", err->msg);
        if (!in->cwd)
                in->cwd = proj;
        if (manifest_resolve(&m, explain, e->profile, in, err) < 0)
                m = NULL;
        profile_set_free(s);
        return m;
}

static json_t *resolve_ok(const char *slug, const char *text) {
        manifest_inputs in = { 0 };
        pod_error err = { 0 };
        json_t *m = resolve_full(slug, text, &in, NULL, &err);

        cr_assert_not_null(m, "%s", err.msg);
        return m;
}

static json_t *at(json_t *m, const char *path) {
        char buf[256], *save = NULL;

        snprintf(buf, sizeof(buf), "%s", path);
        for (char *t = strtok_r(buf, ".", &save); t && m; t = strtok_r(NULL, ".", &save))
                m = json_object_get(m, t);
        return m;
}

static void expect_at(json_t *m, const char *path, const char *json) {
        json_t *want = json_loads(json, JSON_DECODE_ANY, NULL);
        json_t *got = at(m, path);
        char *g = got ? json_dumps(got, JSON_ENCODE_ANY | JSON_COMPACT) : strdup("(missing)");

        cr_assert_not_null(want, "bad expectation %s", json);
        cr_assert(json_equal(got, want), "%s: want %s, got %s", path, json, g);
        free(g);
        json_decref(want);
}

/* ---- every profile key reaches the manifest ----------------------------------------------- */

struct round_trip {
        const char *front; /* front matter lines; "model: openai:base\n" is added unless set */
        const char *body;
        const char *want; /* JSON at profile_keys[k].manifest */
};

static const struct round_trip cases[PK__MAX] = {
        [PK_NAME] = { "name: rt\n", "", "\"rt\"" },
        [PK_DESCRIPTION] = { "description: Sentinel description\n", "",
                             "\"Sentinel description\"" },
        [PK_MODEL] = { "model: openrouter:vendor/sentinel\n", "",
                       "\"openrouter:vendor/sentinel\"" },
        [PK_ENDPOINT] = { "endpoint: https://sentinel.example/api\n", "",
                          "\"https://sentinel.example/api/v1\"" },
        [PK_API_KEY_ENV] = { "api_key_env: SENTINEL_KEY\n", "", "\"SENTINEL_KEY\"" },
        [PK_REASONING] = { "reasoning: low\n", "", "\"low\"" },
        [PK_TOOLS] = { "tools: [Grep, Bash]\n", "", "[\"Grep\", \"Bash\"]" },
        [PK_SKILLS] = { "skills: [tickets]\n", "", "[{\"name\": \"tickets\"}]" },
        [PK_SCOPE] = { "scope: none\n", "", "\"none\"" },
        [PK_NETWORK] = { "network: full\n", "", "\"full\"" },
        [PK_MAX_TURNS] = { "limits:\n  max_turns: 11\n", "", "11" },
        [PK_MAX_DEPTH] = { "limits:\n  max_depth: 12\n", "", "12" },
        [PK_MAX_CHILDREN] = { "limits:\n  max_children: 13\n", "", "13" },
        [PK_TIMEOUT_S] = { "limits:\n  timeout_s: 14\n", "", "14" },
        [PK_MAX_TOKENS] = { "limits:\n  max_tokens: 15\n", "", "15" },
        [PK_BUDGET_TOKENS] = { "limits:\n  budget_tokens: 16\n", "", "16" },
        [PK_BUDGET_COST_USD] = { "limits:\n  budget_cost_usd: 2.5\n", "", "2.5" },
        [PK_PRICE] = { "price: {input_per_mtok: 3, output_per_mtok: 15.5}\n", "",
                       "{\"input_per_mtok\": 3.0, \"output_per_mtok\": 15.5, "
                       "\"cached_input_per_mtok\": 3.0}" },
        [PK_EXTENDS] = { "extends: builtin:reviewer\n", "", "\"builtin:reviewer\"" },
        [PK_EXECUTOR] = { "model: gpt-5\nexecutor: codex\n", "", "\"codex:gpt-5\"" },
        [PK_BODY] = { "", "Sentinel body.", "\"Sentinel body.\"" },
};

Test(manifest, every_profile_key_reaches_the_manifest) {
        for (int k = 0; k < PK__MAX; k++) {
                const struct round_trip *c = &cases[k];
                char text[1024];
                json_t *m;

                cr_assert_not_null(c->want, "profile key '%s' has no round-trip case: add one",
                                   profile_keys[k].key);
                cr_assert_not_null(profile_keys[k].manifest, "key '%s' lands nowhere",
                                   profile_keys[k].key);
                snprintf(text, sizeof(text), "---\n%s%s---\n%s\n",
                         strstr(c->front, "model:") ? "" : "model: openai:base\n", c->front,
                         c->body);
                m = resolve_ok("rt", text);
                expect_at(m, profile_keys[k].manifest, c->want);
                json_decref(m);
        }
}

Test(manifest, legacy_codex_executor_runs_the_codex_handler) {
        json_t *m = resolve_ok("legacy", "---\nmodel: gpt-5\nexecutor: codex\n---\n");

        expect_at(m, "model.handler", "\"codex-cli\"");
        expect_at(m, "model.provider", "\"codex\"");
        expect_at(m, "model.endpoint", "null");
        json_decref(m);
        m = resolve_ok("modern", "---\nmodel: openai:gpt-5\nexecutor: codex\n---\n");
        expect_at(m, "model.handler", "\"openai-responses\"");
        json_decref(m);
}

Test(manifest, base_defaults) {
        json_t *m = resolve_ok("plain", "---\nmodel: openai:m\n---\n");

        expect_at(m, "version", "1");
        expect_at(m, "pod.name", "\"plain\"");
        expect_at(m, "pod.depth", "0");
        expect_at(m, "pod.parent", "null");
        expect_at(m, "tools",
                  "[\"Read\",\"Write\",\"Edit\",\"Glob\",\"Grep\",\"Bash\",\"SpawnPod\","
                  "\"SendToPod\",\"WaitPod\",\"ReadPodOutput\",\"ListPods\",\"StopPod\"]");
        expect_at(m, "skills", "[]");
        expect_at(m, "network", "\"model-only\"");
        expect_at(m, "model.endpoint", "\"https://api.openai.com/v1\"");
        expect_at(m, "model.api_key_env", "\"OPENAI_API_KEY\"");
        expect_at(m, "model.reasoning", "null");
        expect_at(m, "limits",
                  "{\"max_turns\":200,\"max_depth\":4,\"max_children\":16,"
                  "\"timeout_s\":3600,\"max_tokens\":16384,\"budget_tokens\":0}");
        expect_at(m, "budget",
                  "{\"tokens\":null,\"turns\":200,\"seconds\":3600,"
                  "\"cost_usd\":null}");
        expect_at(m, "price", "null");
        expect_at(m, "scope.ceiling", "\"write\"");
        expect_at(m, "sandbox", "\"on\"");
        expect_at(m, "prompts", "{}");
        json_decref(m);
}

Test(manifest, top_level_scope_is_the_cwd_at_the_ceiling) {
        json_t *m = resolve_ok("ro", "---\nmodel: openai:m\nscope: read\n---\n");
        char want[4200];

        snprintf(want, sizeof(want),
                 "{\"allow\":[{\"path\":\"%s\",\"access\":\"read\",\"recursive\":true}],"
                 "\"deny\":[],\"ceiling\":\"read\"}",
                 proj);
        expect_at(m, "scope", want);
        json_decref(m);
}

Test(manifest, runtime_inputs_override) {
        manifest_inputs in = { .name = "worker-1",
                               .instruction = "Only this.",
                               .sandbox_off = true,
                               .selector = "ro" };
        pod_error err = { 0 };
        json_t *m =
                resolve_full("ro", "---\nmodel: openai:m\n---\nProfile body\n", &in, NULL, &err);

        cr_assert_not_null(m, "%s", err.msg);
        expect_at(m, "pod.name", "\"worker-1\"");
        expect_at(m, "instruction", "\"Only this.\"");
        expect_at(m, "sandbox", "\"off\"");
        expect_at(m, "profile.selector", "\"ro\"");
        expect_at(m, "profile.slug", "\"ro\"");
        json_decref(m);
}

Test(manifest, bad_runtime_inputs_are_refused) {
        manifest_inputs in = { .name = "Bad Name" };
        pod_error err = { 0 };

        cr_assert_null(resolve_full("x", "---\nmodel: openai:m\n---\n", &in, NULL, &err));
        cr_assert(strstr(err.msg, "pod name 'Bad Name' is not valid"), "%s", err.msg);
}

Test(manifest, model_override_for_another_provider_drops_endpoint_and_key) {
        manifest_inputs in = { .model = "anthropic:claude-x" };
        pod_error err = { 0 };
        json_t *m = resolve_full("p",
                                 "---\nmodel: openai:m\nendpoint: https://proxy/v1\n"
                                 "api_key_env: PROXY_KEY\n---\n",
                                 &in, NULL, &err);

        cr_assert_not_null(m, "%s", err.msg);
        expect_at(m, "model.spec", "\"anthropic:claude-x\"");
        expect_at(m, "model.handler", "\"anthropic-messages\"");
        expect_at(m, "model.endpoint", "\"https://api.anthropic.com\"");
        expect_at(m, "model.api_key_env", "\"ANTHROPIC_API_KEY\"");
        json_decref(m);
}

Test(manifest, script_models_are_inlined) {
        json_t *m;

        tu_write(proj, ".pod/profiles/demo.json", "{\"turns\":[{\"say\":\"hello\"}]}");
        m = resolve_ok("scripted", "---\nmodel: script:demo.json\n---\n");
        expect_at(m, "model.script", "{\"turns\":[{\"say\":\"hello\"}]}");
        cr_assert(str_endswith(json_string_value(at(m, "model.script_file")),
                               "/.pod/profiles/demo.json"));
        cr_assert_eq(strlen(json_string_value(at(m, "model.script_sha256"))), 64);
        expect_at(m, "model.endpoint", "null");
        json_decref(m);
}

Test(manifest, a_missing_or_bad_script_fails_resolution) {
        manifest_inputs in = { 0 };
        pod_error err = { 0 };

        cr_assert_null(resolve_full("s1", "---\nmodel: script:none.json\n---\n", &in, NULL, &err));
        cr_assert(strstr(err.msg, "none.json"), "%s", err.msg);
        tu_write(proj, ".pod/profiles/bad.json", "{\"turns\": 3}");
        in = (manifest_inputs){ 0 };
        cr_assert_null(resolve_full("s2", "---\nmodel: script:bad.json\n---\n", &in, NULL, &err));
        cr_assert(strstr(err.msg, "turns must be"), "%s", err.msg);
        /* An error about the --model override names the override, not the profile's model. */
        in = (manifest_inputs){ .model = "script:override.json" };
        cr_assert_null(resolve_full("s3", "---\nmodel: script:bad.json\n---\n", &in, NULL, &err));
        cr_assert(strstr(err.msg, "model script:override.json: "), "%s", err.msg);
}

Test(manifest, explain_names_the_origin_of_every_value) {
        manifest_inputs in = { 0 };
        pod_error err = { 0 };
        json_t *explain = NULL;
        json_t *m = resolve_full("ex", "---\nmodel: openai:m\nlimits:\n  max_turns: 5\n---\nBody\n",
                                 &in, &explain, &err);
        char want[4200];

        cr_assert_not_null(m, "%s", err.msg);
        snprintf(want, sizeof(want), "%s/.pod/profiles/ex.md:2", proj);
        cr_assert_str_eq(json_string_value(json_object_get(explain, "model.spec")), want);
        snprintf(want, sizeof(want), "%s/.pod/profiles/ex.md:4", proj);
        cr_assert_str_eq(json_string_value(json_object_get(explain, "limits.max_turns")), want);
        cr_assert_str_eq(json_string_value(json_object_get(explain, "limits.max_depth")),
                         "base default");
        cr_assert_str_eq(json_string_value(json_object_get(explain, "model.endpoint")),
                         "provider default (openai)");
        cr_assert_not_null(json_object_get(explain, "instruction"));
        json_decref(m);
        json_decref(explain);
}

Test(manifest, granted_scope_above_the_ceiling_is_refused) {
        pod_scope s = { 0 };
        manifest_inputs in = { .scope = &s };
        pod_error err = { 0 };

        scope_add(&s, false, "/tmp", POD_ACCESS_WRITE, true, NULL);
        cr_assert_null(
                resolve_full("ro2", "---\nmodel: openai:m\nscope: read\n---\n", &in, NULL, &err));
        cr_assert(strstr(err.msg, "ceiling 'read'"), "%s", err.msg);
        scope_done(&s);
}

/* ---- inherit --------------------------------------------------------------------------- */

Test(manifest, inherit_keeps_the_recipe_and_drops_identity_and_scope) {
        json_t *parent = resolve_ok("lead",
                                    "---\nmodel: codex:gpt-5\ntools: [Read, SpawnPod]\n"
                                    "limits:\n  max_turns: 9\n---\nLead body\n");
        pod_scope granted = { 0 };
        manifest_inputs in = { .name = "helper", .cwd = "/srv/x", .scope = &granted };
        pod_error err = { 0 };
        json_t *child = NULL;

        scope_add(&granted, false, "/srv/x", POD_ACCESS_READ, true, NULL);
        cr_assert_eq(manifest_inherit(&child, parent, &in, &err), 0, "%s", err.msg);
        cr_assert(json_equal(at(child, "model"), at(parent, "model")), "same model");
        cr_assert(json_equal(at(child, "tools"), at(parent, "tools")));
        cr_assert(json_equal(at(child, "limits"), at(parent, "limits")));
        cr_assert(json_equal(at(child, "instruction"), at(parent, "instruction")));
        expect_at(child, "pod.name", "\"helper\"");
        expect_at(child, "pod.cwd", "\"/srv/x\"");
        expect_at(child, "pod.depth", "1");
        expect_at(child, "pod.parent", "\"lead\"");
        expect_at(child, "profile.selector", "\"inherit\"");
        expect_at(child, "scope",
                  "{\"allow\":[{\"path\":\"/srv/x\",\"access\":\"read\","
                  "\"recursive\":true}],\"deny\":[],\"ceiling\":\"write\"}");
        json_decref(child);
        scope_done(&granted);
        json_decref(parent);
}

Test(manifest, inherit_without_a_grant_has_no_scope_and_needs_a_name) {
        json_t *parent = resolve_ok("lead2", "---\nmodel: openai:m\n---\n");
        manifest_inputs in = { .name = "c", .cwd = "/", .instruction = "Other task" };
        manifest_inputs noname = { .cwd = "/" };
        pod_error err = { 0 };
        json_t *child = NULL;

        cr_assert_eq(manifest_inherit(&child, parent, &in, &err), 0, "%s", err.msg);
        expect_at(child, "scope.allow", "[]");
        expect_at(child, "instruction", "\"Other task\"");
        json_decref(child);
        cr_assert_lt(manifest_inherit(&child, parent, &noname, &err), 0);
        cr_assert(strstr(err.msg, "name"), "%s", err.msg);
        json_decref(parent);
}

Test(manifest, inherit_refuses_an_invalid_parent) {
        json_t *bad = json_pack("{s:i}", "version", 1), *child = NULL;
        manifest_inputs in = { .name = "c", .cwd = "/" };
        pod_error err = { 0 };

        cr_assert_lt(manifest_inherit(&child, bad, &in, &err), 0);
        cr_assert(strstr(err.msg, "parent manifest is invalid"), "%s", err.msg);
        json_decref(bad);
}
