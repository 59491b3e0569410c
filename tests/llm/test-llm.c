/* SPDX-License-Identifier: MIT */
#include <criterion/criterion.h>
#include <string.h>

#include "llm/llm.h"

/* The part of a manifest view a handler reads: the model. */
static manifest_view view_with(pod_handler handler, const char *script) {
        return (manifest_view){ .model = { .spec = (char *) "script:x.json",
                                           .handler = handler,
                                           .script =
                                                   script ? json_loads(script, 0, NULL) : NULL } };
}

Test(llm, the_script_plays_its_turns_then_is_exhausted) {
        manifest_view v = view_with(POD_HANDLER_SCRIPT,
                                    "{\"turns\": [{\"say\": \"a\", \"call\": [{\"tool\": "
                                    "\"Read\", \"input\": {\"file_path\": \"x\"}}, {\"tool\": "
                                    "\"Glob\"}]}, {\"say\": \"b\"}]}");
        llm_handler *h = NULL;
        llm_turn t = { 0 };

        cr_assert_eq(llm_open(&h, &v, NULL), 0);
        json_decref(v.model.script); /* the handler keeps what it needs */
        cr_assert_str_eq(llm_name(h), "script");
        cr_assert_eq(llm_complete(h, NULL, NULL, NULL, &t, NULL), 0);
        cr_assert_str_eq(t.text, "a");
        cr_assert_eq(json_array_size(t.calls), 2);
        cr_assert_str_eq(json_string_value(json_object_get(json_array_get(t.calls, 0), "id")),
                         "call_1_1");
        cr_assert_str_eq(json_string_value(json_object_get(json_array_get(t.calls, 1), "name")),
                         "Glob");
        cr_assert(json_is_object(json_object_get(json_array_get(t.calls, 1), "input")),
                  "a call without input gets {}");
        llm_turn_done(&t);
        cr_assert_eq(llm_complete(h, NULL, NULL, NULL, &t, NULL), 0);
        cr_assert_str_eq(t.text, "b");
        cr_assert_eq(json_array_size(t.calls), 0);
        llm_turn_done(&t);
        cr_assert_eq(llm_complete(h, NULL, NULL, NULL, &t, NULL), 0);
        cr_assert_str_eq(t.text, "script exhausted");
        llm_turn_done(&t);
        llm_free(h);
}

Test(llm, a_scripted_turn_reports_the_usage_it_declares) {
        manifest_view v =
                view_with(POD_HANDLER_SCRIPT,
                          "{\"turns\": [{\"say\": \"a\", \"usage\": {\"input_tokens\": 80, "
                          "\"cache_read_tokens\": 7}}, {\"say\": \"b\"}]}");
        llm_handler *h = NULL;
        llm_turn t = { 0 };
        json_t *want;

        cr_assert_eq(llm_open(&h, &v, NULL), 0);
        json_decref(v.model.script);
        cr_assert_eq(llm_complete(h, NULL, NULL, NULL, &t, NULL), 0);
        want = json_pack("{s:i, s:i, s:i, s:i}", "input_tokens", 80, "output_tokens", 0,
                         "cache_read_tokens", 7, "cache_write_tokens", 0);
        cr_assert(json_equal(t.usage, want), "every count, 0 when not declared");
        json_decref(want);
        llm_turn_done(&t);
        cr_assert_eq(llm_complete(h, NULL, NULL, NULL, &t, NULL), 0);
        cr_assert_eq(json_integer_value(json_object_get(t.usage, "input_tokens")), 0);
        llm_turn_done(&t);
        llm_free(h);
}

Test(llm, every_handler_of_the_table_opens) {
        manifest_view v = { .model = { .spec = (char *) "codex:x",
                                       .name = (char *) "x",
                                       .handler = POD_HANDLER_CODEX } };
        llm_handler *h = NULL;
        pod_error err = { 0 };

        cr_assert_eq(llm_open(&h, &v, &err), 0, "%s", err.msg);
        cr_assert_str_eq(llm_name(h), "codex");
        llm_free(h);
}

Test(llm, a_native_handler_without_its_key_names_the_variable) {
        manifest_view v = { .model = { .spec = (char *) "anthropic:claude-x",
                                       .handler = POD_HANDLER_ANTHROPIC,
                                       .name = (char *) "claude-x",
                                       .endpoint_url = (char *) "http://127.0.0.1:9",
                                       .key_env = (char *) "POD_TEST_NO_SUCH_KEY" } };
        llm_handler *h = (llm_handler *) 0x1;
        pod_error err = { 0 };

        unsetenv("POD_TEST_NO_SUCH_KEY");
        cr_assert_eq(llm_check(&v, &err), -ENOKEY);
        cr_assert(strstr(err.msg, "POD_TEST_NO_SUCH_KEY"), "%s", err.msg);
        cr_assert_eq(llm_open(&h, &v, &err), -ENOKEY);
        cr_assert_eq(h, (llm_handler *) 0x1);
        setenv("POD_TEST_NO_SUCH_KEY", "sk-test", 1);
        cr_assert_eq(llm_check(&v, NULL), 0);
        cr_assert_eq(llm_open(&h, &v, &err), 0, "%s", err.msg);
        cr_assert_str_eq(llm_name(h), "native");
        llm_free(h);
        v.model.key_env = NULL; /* a local server: no key */
        cr_assert_eq(llm_check(&v, NULL), 0);
}

Test(llm, a_script_handler_without_a_script_is_refused) {
        manifest_view v = view_with(POD_HANDLER_SCRIPT, NULL);
        llm_handler *h = (llm_handler *) 0x1;
        pod_error err = { 0 };

        cr_assert_eq(llm_open(&h, &v, &err), -EINVAL);
        cr_assert(strstr(err.msg, "no script"), "%s", err.msg);
        cr_assert_eq(h, (llm_handler *) 0x1);
}
