/* SPDX-License-Identifier: MIT */
#include <criterion/criterion.h>
#include <string.h>

#include "manifest/manifest.h"

static const char sha[] = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

/* A valid manifest on model spec/handler/endpoint (endpoint NULL: null), as JSON. */
static json_t *manifest(const char *spec,
                        const char *provider,
                        const char *name,
                        const char *handler,
                        const char *endpoint) {
        json_t *m = json_pack(
                "{s:i, s:{s:s, s:s, s:i, s:s}, s:{s:s, s:s, s:s, s:s, s:s, s:n, s:n},"
                " s:{s:s, s:s, s:s, s:s, s:o, s:s, s:s},"
                " s:s, s:[s, s], s:[{s:s}], s:s,"
                " s:{s:i, s:i, s:i, s:i, s:i},"
                " s:{s:[{s:s, s:s, s:b}], s:[{s:s, s:s, s:b}], s:s},"
                " s:{}, s:n, s:{s:n, s:n, s:n, s:[], s:[], s:[]}, s:s}",
                "version", 1, "pod", "name", "w", "cwd", "/p", "depth", 2, "parent", "lead",
                "profile", "selector", "project:coder", "source", "project", "slug", "coder",
                "file", "/p/.pod/profiles/coder.md", "sha256", sha, "description", "extends",
                "model", "spec", spec, "provider", provider, "name", name, "handler", handler,
                "endpoint", endpoint ? json_string(endpoint) : json_null(), "api_key_env", "MY_KEY",
                "reasoning", "high", "instruction", "Do {{ pod_name }}.", "tools", "Read",
                "SpawnPod", "skills", "name", "tickets", "network", "model-only", "limits",
                "max_turns", 7, "max_depth", 3, "max_children", 5, "timeout_s", 60, "max_tokens",
                1000, "scope", "allow", "path", "/p", "access", "write", "recursive", 1, "deny",
                "path", "/p/secrets", "access", "read", "recursive", 1, "ceiling", "write",
                "prompts", "agents_md", "profiles", "default", "default_error", "project_dir",
                "profiles", "broken", "diagnostics", "sandbox", "on");

        cr_assert_not_null(m);
        return m;
}

Test(view, every_field_is_typed) {
        json_t *m =
                manifest("local:qwen", "local", "qwen", "openai-chat", "http://127.0.0.1:8080/v1");
        manifest_view *v = NULL;
        pod_error err = { 0 };

        cr_assert_eq(manifest_view_new(&v, m, &err), 0, "%s", err.msg);
        cr_assert_str_eq(v->name, "w");
        cr_assert_str_eq(v->cwd, "/p");
        cr_assert_str_eq(v->parent, "lead");
        cr_assert_eq(v->depth, 2);
        cr_assert_str_eq(v->selector, "project:coder");
        cr_assert_eq(v->source, POD_SOURCE_PROJECT);
        cr_assert_str_eq(v->profile_file, "/p/.pod/profiles/coder.md");
        cr_assert_str_eq(v->profile_sha256, sha);
        cr_assert_str_eq(v->model.spec, "local:qwen");
        cr_assert_str_eq(v->model.provider->prefix, "local");
        cr_assert_eq(v->model.handler, POD_HANDLER_OPENAI_CHAT);
        cr_assert_str_eq(v->model.name, "qwen");
        cr_assert_str_eq(v->model.endpoint_url, "http://127.0.0.1:8080/v1");
        cr_assert_str_eq(v->model.endpoint.host, "127.0.0.1");
        cr_assert_eq(v->model.endpoint.port, 8080);
        cr_assert_str_eq(v->model.endpoint.path, "/v1");
        cr_assert_not(v->model.endpoint.tls);
        cr_assert_str_eq(v->model.key_env, "MY_KEY");
        cr_assert_eq(v->model.reasoning, POD_REASONING_HIGH);
        cr_assert_null(v->model.script);
        cr_assert_str_eq(manifest_view_instruction(v), "Do {{ pod_name }}.");
        cr_assert(manifest_view_has_tool(v, "SpawnPod"));
        cr_assert_not(manifest_view_has_tool(v, "Bash"));
        cr_assert_eq(strv_length(v->tools), 2);
        cr_assert_eq(v->network, POD_NETWORK_MODEL_ONLY);
        cr_assert_eq(v->limits.max_turns, 7);
        cr_assert_eq(v->limits.max_depth, 3);
        cr_assert_eq(v->limits.max_children, 5);
        cr_assert_eq(v->limits.timeout_s, 60);
        cr_assert_eq(v->limits.max_tokens, 1000);
        cr_assert_eq(v->scope.n_allow, 1);
        cr_assert_str_eq(v->scope.allow[0].path, "/p");
        cr_assert_eq(v->scope.allow[0].access, POD_ACCESS_WRITE);
        cr_assert_eq(v->scope.n_deny, 1);
        cr_assert_eq(v->ceiling, POD_ACCESS_WRITE);
        cr_assert(v->sandboxed);
        cr_assert_eq(json_array_size(v->skills), 1);
        cr_assert(json_is_object(v->prompts));
        cr_assert(json_is_null(v->agents_md));
        cr_assert(json_is_object(v->profiles));
        manifest_view_free(v);
        json_decref(m);
}

Test(view, the_view_outlives_changes_to_the_manifest) {
        json_t *m = manifest("anthropic:x", "anthropic", "x", "anthropic-messages",
                             "https://api.anthropic.com");
        manifest_view *v = NULL;

        cr_assert_eq(manifest_view_new(&v, m, NULL), 0);
        json_object_set_new(m, "instruction", json_string("changed"));
        json_object_set_new(m, "skills", json_array());
        json_object_set_new(m, "model", json_null());
        json_decref(m);
        cr_assert_str_eq(manifest_view_instruction(v), "Do {{ pod_name }}.");
        cr_assert_eq(json_array_size(v->skills), 1);
        cr_assert_eq(v->model.handler, POD_HANDLER_ANTHROPIC);
        cr_assert_eq(v->model.endpoint.port, 443);
        cr_assert_str_eq(v->model.endpoint.path, "");
        manifest_view_free(v);
}

Test(view, delegates_and_the_script_parse_to_their_handler) {
        static const struct {
                const char *spec, *provider, *name, *handler;
                pod_handler want;
        } cases[] = {
                { "claude:sonnet", "claude", "sonnet", "claude-cli", POD_HANDLER_CLAUDE },
                { "codex:gpt-5", "codex", "gpt-5", "codex-cli", POD_HANDLER_CODEX },
        };

        for (size_t i = 0; i < POD_ARRAY_SIZE(cases); i++) {
                json_t *m = manifest(cases[i].spec, cases[i].provider, cases[i].name,
                                     cases[i].handler, NULL);
                manifest_view *v = NULL;
                pod_error err = { 0 };
                cr_assert_eq(manifest_view_new(&v, m, &err), 0, "%s: %s", cases[i].spec, err.msg);
                cr_assert_eq(v->model.handler, cases[i].want);
                cr_assert_null(v->model.endpoint_url);
                cr_assert_null(v->model.endpoint.host);
                cr_assert_eq(v->model.endpoint.port, 0);
                manifest_view_free(v);
                json_decref(m);
        }
}

Test(view, a_script_model_carries_its_turns) {
        json_t *m = manifest("script:s.json", "script", "s.json", "script", NULL);
        json_t *model = json_object_get(m, "model");
        manifest_view *v = NULL;
        pod_error err = { 0 };

        json_object_set_new(model, "script", json_pack("{s:[{s:s}]}", "turns", "say", "hi"));
        json_object_set_new(model, "script_file", json_string("/p/s.json"));
        json_object_set_new(model, "script_sha256", json_string(sha));
        cr_assert_eq(manifest_view_new(&v, m, &err), 0, "%s", err.msg);
        cr_assert_eq(v->model.handler, POD_HANDLER_SCRIPT);
        cr_assert_eq(json_array_size(json_object_get(v->model.script, "turns")), 1);
        manifest_view_free(v);
        json_decref(m);
}

Test(view, a_refused_manifest_names_the_field_and_leaves_out_untouched) {
        json_t *m = manifest("local:qwen", "local", "qwen", "openai-chat", "http://h:0/v1");
        manifest_view *v = (manifest_view *) 0x1;
        pod_error err = { 0 };

        cr_assert_lt(manifest_view_new(&v, m, &err), 0);
        cr_assert_eq(v, (manifest_view *) 0x1);
        cr_assert(strstr(err.msg, "model.endpoint") && strstr(err.msg, "port"), "%s", err.msg);
        cr_assert_null(strchr(err.msg, '\n'));
        json_object_set_new(json_object_get(m, "model"), "endpoint",
                            json_string("http://127.0.0.1:8080/v1"));
        json_object_set_new(json_object_get(m, "limits"), "max_turns", json_integer(0));
        cr_assert_lt(manifest_view_new(&v, m, &err), 0);
        cr_assert(strstr(err.msg, "limits") && strstr(err.msg, "max_turns"), "%s", err.msg);
        cr_assert_lt(manifest_view_new(&v, NULL, &err), 0);
        cr_assert(strstr(err.msg, "(top level)"), "%s", err.msg);
        json_decref(m);
}
