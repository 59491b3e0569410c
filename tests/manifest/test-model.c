/* SPDX-License-Identifier: MIT */
#include <criterion/criterion.h>
#include <string.h>

#include "manifest/manifest.h"

Test(model, every_prefix_maps_to_its_handler) {
        static const struct {
                const char *spec;
                pod_handler h;
        } cases[] = {
                { "openai:gpt-5", POD_HANDLER_OPENAI_RESPONSES },
                { "openrouter:x/y", POD_HANDLER_OPENAI_CHAT },
                { "ollama:llama3", POD_HANDLER_OPENAI_CHAT },
                { "local:m", POD_HANDLER_OPENAI_CHAT },
                { "oai-compat:m", POD_HANDLER_OPENAI_CHAT },
                { "anthropic:claude-x", POD_HANDLER_ANTHROPIC },
                { "claude:sonnet", POD_HANDLER_CLAUDE },
                { "codex:gpt-5-codex", POD_HANDLER_CODEX },
                { "script:demo.json", POD_HANDLER_SCRIPT },
        };
        for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
                model_spec s;
                cr_assert_eq(model_spec_parse(&s, cases[i].spec, NULL), 0, "%s", cases[i].spec);
                cr_assert_eq(s.provider->handler, cases[i].h, "%s", cases[i].spec);
                cr_assert_str_eq(s.name, strchr(cases[i].spec, ':') + 1);
                model_spec_done(&s);
        }
}

Test(model, codex_never_maps_to_another_vendor) {
        model_spec s;

        cr_assert_eq(model_spec_parse(&s, "codex:gpt-5", NULL), 0);
        cr_assert_eq(s.provider->handler, POD_HANDLER_CODEX);
        cr_assert_str_eq(handler_to_string(s.provider->handler), "codex-cli");
        model_spec_done(&s);
}

Test(model, bare_names_and_unknown_prefixes_list_prefixes) {
        model_spec s;
        pod_error err = { 0 };

        cr_assert_lt(model_spec_parse(&s, "gpt-5", &err), 0);
        cr_assert(strstr(err.msg, "no provider prefix"), "%s", err.msg);
        cr_assert(strstr(err.msg, "openai, openrouter"), "%s", err.msg);
        cr_assert_lt(model_spec_parse(&s, "gpt:5", &err), 0);
        cr_assert(strstr(err.msg, "unknown provider 'gpt'"), "%s", err.msg);
        cr_assert(strstr(err.msg, "codex"), "%s", err.msg);
        cr_assert_lt(model_spec_parse(&s, "OpenAI:gpt-5", &err), 0, "prefixes are exact");
}

Test(model, empty_or_spaced_names_are_refused) {
        model_spec s;
        pod_error err = { 0 };

        cr_assert_lt(model_spec_parse(&s, "openai:", &err), 0);
        cr_assert(strstr(err.msg, "empty"), "%s", err.msg);
        cr_assert_lt(model_spec_parse(&s, "openai:gpt 5", &err), 0);
        cr_assert_lt(model_spec_parse(&s, "", &err), 0);
        cr_assert_lt(model_spec_parse(&s, "averyveryverylongprefixthatoverflows:x", &err), 0);
}

Test(model, provider_defaults) {
        cr_assert_str_eq(model_provider_lookup("openai")->default_endpoint,
                         "https://api.openai.com/v1");
        cr_assert_str_eq(model_provider_lookup("openrouter")->default_endpoint,
                         "https://openrouter.ai/api/v1");
        cr_assert_str_eq(model_provider_lookup("ollama")->default_endpoint,
                         "http://127.0.0.1:11434/v1");
        cr_assert_str_eq(model_provider_lookup("local")->default_endpoint,
                         "http://127.0.0.1:8080/v1");
        cr_assert_null(model_provider_lookup("oai-compat")->default_endpoint);
        cr_assert_str_eq(model_provider_lookup("anthropic")->default_endpoint,
                         "https://api.anthropic.com");
        cr_assert_null(model_provider_lookup("nope"));
}

static void expect_norm(const char *prefix, const char *in, const char *want) {
        char *out = NULL;
        pod_error err = { 0 };

        cr_assert_eq(model_endpoint_normalize(&out, model_provider_lookup(prefix), in, &err), 0,
                     "%s: %s", in, err.msg);
        cr_assert_str_eq(out, want, "%s %s", prefix, in);
        free(out);
}

Test(model, endpoints_are_normalised_once) {
        expect_norm("openai", "https://api.openai.com/v1/", "https://api.openai.com/v1");
        expect_norm("oai-compat", "http://host:8000", "http://host:8000/v1");
        expect_norm("oai-compat", "http://host:8000///", "http://host:8000/v1");
        expect_norm("oai-compat", "https://h/openai", "https://h/openai/v1");
        expect_norm("oai-compat", "https://h/api/v2", "https://h/api/v2");
        expect_norm("anthropic", "https://api.anthropic.com/v1/", "https://api.anthropic.com");
        expect_norm("anthropic", "https://proxy/anthropic", "https://proxy/anthropic");
}

Test(model, bad_endpoints_are_refused) {
        static const char *bad[] = {
                "ftp://x",          "https://",       "https:///v1",   "https://user:pw@host/v1",
                "https://h/v1?x=1", "https://h/v1#f", "https://h /v1", "https://h/\"",
        };
        const model_provider *p = model_provider_lookup("openai");

        for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
                char *out = NULL;
                pod_error err = { 0 };
                cr_assert_lt(model_endpoint_normalize(&out, p, bad[i], &err), 0, "%s", bad[i]);
                cr_assert_null(out);
        }
}

/* A delegate's endpoint is its CLI's API: claude's the bare base (ANTHROPIC_BASE_URL), codex's
 * an OpenAI-style base ending in /v1; neither needs one (the CLI's own login). */
Test(model, delegates_take_an_optional_endpoint) {
        const model_provider *claude = model_provider_lookup("claude");
        const model_provider *codex = model_provider_lookup("codex");
        char *out = NULL;
        pod_error err = { 0 };

        cr_assert(claude->endpoint_optional && codex->endpoint_optional);
        cr_assert_eq(model_endpoint_normalize(&out, claude, "http://127.0.0.1:8080/v1/", &err), 0);
        cr_assert_str_eq(out, "http://127.0.0.1:8080");
        free(out);
        cr_assert_eq(model_endpoint_normalize(&out, codex, "http://127.0.0.1:8080", &err), 0);
        cr_assert_str_eq(out, "http://127.0.0.1:8080/v1");
        free(out);
        cr_assert_lt(
                model_endpoint_normalize(&out, model_provider_lookup("script"), "https://x", &err),
                0);
        cr_assert(strstr(err.msg, "takes no endpoint"), "%s", err.msg);
}

static int parse_script(const char *text, pod_error *err) {
        json_t *j = NULL;
        int r = script_parse(&j, text, strlen(text), "s.json", err);

        json_decref(j);
        return r;
}

Test(model, script_format_is_checked) {
        pod_error err = { 0 };

        cr_assert_eq(parse_script("{\"turns\":[{\"say\":\"hi\",\"call\":[{\"tool\":\"Read\","
                                  "\"input\":{\"file_path\":\"/x\"}}]},{\"say\":\"done\"}]}",
                                  &err),
                     0, "%s", err.msg);
        cr_assert_lt(parse_script("{\"turns\":[]}", &err), 0);
        cr_assert_lt(parse_script("{\"turns\":[{\"say\":1}]}", &err), 0);
        cr_assert(strstr(err.msg, "turns[0].say"), "%s", err.msg);
        cr_assert_lt(parse_script("{\"turns\":[{\"call\":{}}]}", &err), 0);
        cr_assert_lt(parse_script("{\"turns\":[{\"call\":[{\"input\":{}}]}]}", &err), 0);
        cr_assert_lt(parse_script("{\"turns\":[{\"say\":\"x\",\"extra\":1}]}", &err), 0);
        cr_assert_lt(parse_script("{\"turns\":[{\"say\":\"a\",\"say\":\"b\"}]}", &err), 0,
                     "duplicate keys are refused");
        cr_assert_lt(parse_script("{\"turns\":[", &err), 0);
        cr_assert(strstr(err.msg, "s.json:1:"), "errors carry file:line:column: %s", err.msg);
}

Test(model, a_scripted_turns_usage_is_checked) {
        pod_error err = { 0 };

        cr_assert_eq(parse_script("{\"turns\":[{\"say\":\"hi\",\"usage\":{\"input_tokens\":80,"
                                  "\"output_tokens\":20,\"cache_read_tokens\":0,"
                                  "\"cache_write_tokens\":1000000000}}]}",
                                  &err),
                     0, "%s", err.msg);
        cr_assert_lt(parse_script("{\"turns\":[{\"usage\":5}]}", &err), 0);
        cr_assert(strstr(err.msg, "turns[0].usage must be an object"), "%s", err.msg);
        cr_assert_lt(parse_script("{\"turns\":[{\"usage\":{\"dollars\":1}}]}", &err), 0);
        cr_assert(strstr(err.msg, "unknown key 'dollars'"), "%s", err.msg);
        cr_assert_lt(parse_script("{\"turns\":[{\"usage\":{\"input_tokens\":-1}}]}", &err), 0);
        cr_assert(strstr(err.msg, "usage.input_tokens must be a whole number from 0"), "%s",
                  err.msg);
        cr_assert_lt(parse_script("{\"turns\":[{\"usage\":{\"input_tokens\":1000000001}}]}", &err),
                     0, "past 10^9 tokens a call");
        cr_assert_lt(parse_script("{\"turns\":[{\"usage\":{\"input_tokens\":1.5}}]}", &err), 0);
}

Test(model, oversized_script_is_refused) {
        size_t n = POD_SCRIPT_MAX_BYTES + 1;
        char *big = malloc(n);
        json_t *j = NULL;
        pod_error err = { 0 };

        memset(big, ' ', n);
        cr_assert_eq(script_parse(&j, big, n, "big.json", &err), -EFBIG);
        free(big);
}
