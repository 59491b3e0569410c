/* SPDX-License-Identifier: MIT */
#include <criterion/criterion.h>
#include <string.h>

#include "manifest/manifest.h"

static const char valid[] =
        "{\"version\":1,"
        "\"pod\":{\"name\":\"w\",\"cwd\":\"/p\",\"depth\":1,\"parent\":\"lead\"},"
        "\"profile\":{\"selector\":\"coder\",\"source\":\"builtin\",\"slug\":\"coder\","
        "\"file\":\"<builtin>/coder.md\",\"sha256\":\""
        "0123456789abcdef0123456789abcdef"
        "0123456789abcdef0123456789abcdef"
        "\",\"description\":null,\"extends\":null},"
        "\"model\":{\"spec\":\"openai:m\",\"provider\":\"openai\",\"name\":\"m\","
        "\"handler\":\"openai-responses\",\"endpoint\":\"https://api.openai.com/v1\","
        "\"api_key_env\":\"OPENAI_API_KEY\",\"reasoning\":null},"
        "\"instruction\":\"x\",\"tools\":[\"Read\"],\"skills\":[{\"name\":\"tickets\"}],"
        "\"network\":\"none\","
        "\"limits\":{\"max_turns\":1,\"max_depth\":1,\"max_children\":1,\"timeout_s\":1,"
        "\"max_tokens\":1},"
        "\"scope\":{\"allow\":[{\"path\":\"/p\",\"access\":\"write\",\"recursive\":true}],"
        "\"deny\":[],\"ceiling\":\"write\"},"
        "\"prompts\":{},\"agents_md\":null,"
        "\"profiles\":{\"default\":null,\"default_error\":null,\"project_dir\":null,"
        "\"profiles\":[],\"broken\":[],\"diagnostics\":[]},\"sandbox\":\"on\"}";

static json_t *base(void) {
        json_t *j = json_loads(valid, JSON_REJECT_DUPLICATES, NULL);

        cr_assert_not_null(j);
        return j;
}

/* Set path (dotted) to the JSON value text, or delete it when text is NULL. */
static void mutate(json_t *m, const char *path, const char *text) {
        char buf[128], *dot;
        json_t *obj = m;
        const char *key = buf;

        snprintf(buf, sizeof(buf), "%s", path);
        while ((dot = strchr(key, '.'))) {
                *dot = '\0';
                obj = json_object_get(obj, key);
                key = dot + 1;
        }
        if (text)
                json_object_set_new(obj, key, json_loads(text, JSON_DECODE_ANY, NULL));
        else
                json_object_del(obj, key);
}

static void expect_invalid(const char *path, const char *text, const char *want) {
        json_t *m = base();
        pod_error err = { 0 };

        mutate(m, path, text);
        cr_assert_lt(manifest_validate(m, &err), 0, "%s=%s accepted", path,
                     text ? text : "(deleted)");
        cr_assert(strstr(err.msg, want), "%s: wanted '%s' in: %s", path, want, err.msg);
        json_decref(m);
}

Test(manifest_validate, the_baseline_is_valid) {
        json_t *m = base();
        pod_error err = { 0 };

        cr_assert_eq(manifest_validate(m, &err), 0, "%s", err.msg);
        json_decref(m);
}

Test(manifest_validate, version_and_shape) {
        expect_invalid("version", "2", "not supported");
        expect_invalid("extra", "1", "extra");
        expect_invalid("prompts", NULL, "prompts");
        expect_invalid("sandbox", "\"maybe\"", "on or off");
        expect_invalid("network", "\"lan\"", "network");
        expect_invalid("instruction", "7", "instruction");
}

Test(manifest_validate, pod_identity) {
        expect_invalid("pod.name", "\"Bad Name\"", "pod.name");
        expect_invalid("pod.cwd", "\"relative\"", "absolute");
        expect_invalid("pod.depth", "-1", "out of range");
        expect_invalid("pod.parent", "null", "has a parent exactly when");
        expect_invalid("pod.socket", "\"/run/x\"", "pod");
}

Test(manifest_validate, model_must_agree_with_its_handler) {
        expect_invalid("model.handler", "\"codex-cli\"", "must agree with spec");
        expect_invalid("model.provider", "\"anthropic\"", "must agree with spec");
        expect_invalid("model.spec", "\"gpt-5\"", "no provider prefix");
        expect_invalid("model.endpoint", "\"https://api.openai.com/v1/\"", "not normalised");
        expect_invalid("model.endpoint", "null", "needs an endpoint");
        expect_invalid("model.api_key_env", "\"sk-123\"", "variable name");
        expect_invalid("model.reasoning", "\"max\"", "reasoning");
        expect_invalid("model.script", "{\"turns\":[{\"say\":\"x\"}]}", "only a script: model");
}

Test(manifest_validate, lists_and_limits) {
        expect_invalid("tools", "[\"Teleport\"]", "not a tool name");
        expect_invalid("skills", "[{\"name\":\"../x\"}]", "invalid name");
        expect_invalid("skills", "[\"tickets\"]", "skills");
        expect_invalid("limits.max_turns", "0", "max_turns");
        expect_invalid("limits.max_tokens", NULL, "exactly the 6 limits");
        expect_invalid("limits.budget_tokens", "-1", "budget_tokens");
}

Test(manifest_validate, budget_and_price_are_checked) {
        expect_invalid("budget", "{\"tokens\":0,\"turns\":1,\"seconds\":1,\"cost_usd\":null}",
                       "tokens must be a whole number from 1");
        expect_invalid("budget", "{\"tokens\":null,\"turns\":1,\"seconds\":1}", "budget");
        expect_invalid("budget", "{\"tokens\":null,\"turns\":1,\"seconds\":1,\"cost_usd\":0}",
                       "cost_usd must be a number above 0");
        expect_invalid("budget",
                       "{\"tokens\":null,\"turns\":1,\"seconds\":1,\"cost_usd\":null,\"x\":1}",
                       "budget");
        expect_invalid("price",
                       "{\"input_per_mtok\":-1,\"output_per_mtok\":1,"
                       "\"cached_input_per_mtok\":1}",
                       "each price must be from 0");
        expect_invalid("price", "{\"input_per_mtok\":1}", "price");
}

Test(manifest_validate, scope_is_canonical_and_under_its_ceiling) {
        expect_invalid("scope.ceiling", "\"read\"", "exceeds the ceiling");
        expect_invalid("scope.allow", "[{\"path\":\"/p/../etc\",\"access\":\"read\"}]",
                       "canonical");
        expect_invalid("scope.deny", "[{\"path\":\"p\",\"access\":\"read\"}]", "canonical");
        expect_invalid("scope.ceiling", NULL, "ceiling");
}

Test(manifest_validate, parse_limits_size_and_duplicates) {
        json_t *m = NULL;
        pod_error err = { 0 };
        char *big;

        cr_assert_eq(manifest_parse(&m, valid, strlen(valid), &err), 0, "%s", err.msg);
        json_decref(m);
        cr_assert_lt(manifest_parse(&m, "{\"version\":1,\"version\":1}", 26, &err), 0);
        cr_assert(strstr(err.msg, "duplicate"), "%s", err.msg);
        cr_assert_lt(manifest_parse(&m, "[", 1, &err), 0);
        big = malloc(POD_MANIFEST_MAX_BYTES + 1);
        memset(big, ' ', POD_MANIFEST_MAX_BYTES + 1);
        cr_assert_eq(manifest_parse(&m, big, POD_MANIFEST_MAX_BYTES + 1, &err), -EFBIG);
        free(big);
}
