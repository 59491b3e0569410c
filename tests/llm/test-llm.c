/* SPDX-License-Identifier: MIT */
#include <criterion/criterion.h>
#include <string.h>

#include "llm/llm.h"

static json_t *manifest_with(const char *handler, const char *script) {
        return json_pack("{s:{s:s, s:s, s:o}}", "model", "handler", handler, "spec",
                         "script:x.json", "script", script ? json_loads(script, 0, NULL) : json_null());
}

Test(llm, the_script_plays_its_turns_then_is_exhausted) {
        json_t *m = manifest_with("script", "{\"turns\": [{\"say\": \"a\", \"call\": [{\"tool\": "
                                            "\"Read\", \"input\": {\"file_path\": \"x\"}}, {\"tool\": "
                                            "\"Glob\"}]}, {\"say\": \"b\"}]}");
        llm_handler *h = NULL;
        llm_turn t = { 0 };

        cr_assert_eq(llm_open(&h, m, NULL), 0);
        cr_assert_str_eq(llm_name(h), "script");
        cr_assert_eq(llm_complete(h, NULL, NULL, &t, NULL), 0);
        cr_assert_str_eq(t.text, "a");
        cr_assert_eq(json_array_size(t.calls), 2);
        cr_assert_str_eq(json_string_value(json_object_get(json_array_get(t.calls, 0), "id")), "call_1_1");
        cr_assert_str_eq(json_string_value(json_object_get(json_array_get(t.calls, 1), "name")), "Glob");
        cr_assert(json_is_object(json_object_get(json_array_get(t.calls, 1), "input")),
                  "a call without input gets {}");
        llm_turn_done(&t);
        cr_assert_eq(llm_complete(h, NULL, NULL, &t, NULL), 0);
        cr_assert_str_eq(t.text, "b");
        cr_assert_eq(json_array_size(t.calls), 0);
        llm_turn_done(&t);
        cr_assert_eq(llm_complete(h, NULL, NULL, &t, NULL), 0);
        cr_assert_str_eq(t.text, "script exhausted");
        llm_turn_done(&t);
        llm_free(h);
        json_decref(m);
}

Test(llm, other_handlers_say_they_are_not_in_this_version) {
        json_t *m = manifest_with("openai-chat", NULL);
        llm_handler *h = NULL;
        pod_error err = { 0 };

        cr_assert_eq(llm_open(&h, m, &err), -ENOSYS);
        cr_assert(strstr(err.msg, "'openai-chat'") && strstr(err.msg, "not available"), "%s", err.msg);
        json_decref(m);
}
