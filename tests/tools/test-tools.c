/* SPDX-License-Identifier: MIT */
#include "tools-fixture.h"

TestSuite(tools, .init = pod_fixture_setup, .fini = pod_fixture_teardown);

Test(tools, inputs_are_checked_against_the_schema) {
        pod_tools *t = tools_for("w:proj", NULL);
        char *out;

        out = call(t, "Read", "{\"file_path\": \"x\", \"mode\": 1}", true);
        cr_assert(strstr(out, "unknown field 'mode'"), "%s", out);
        free(out);
        out = call(t, "Read", "{\"file_path\": 7}", true);
        cr_assert(strstr(out, "file_path must be a string"), "%s", out);
        free(out);
        out = call(t, "Read", "{}", true);
        cr_assert(strstr(out, "file_path is required"), "%s", out);
        free(out);
        out = call(t, "Read", "{\"file_path\": \"x\", \"offset\": 0}", true);
        cr_assert(strstr(out, "offset must be from 1"), "%s", out);
        free(out);
        out = call(t, "Bash", "{\"command\": \"true\", \"timeout_s\": 601}", true);
        cr_assert(strstr(out, "timeout_s must be from 1 to 600"), "%s", out);
        free(out);
        tools_free(t);
}

Test(tools, only_the_manifest_tools_are_available) {
        pod_tools *t = tools_for("w:proj", "[Read]");
        char *out = call(t, "Bash", "{\"command\": \"true\"}", true);

        cr_assert(strstr(out, "not available to pod 'tester'"), "%s", out);
        free(out);
        out = call(t, "Teleport", "{}", true);
        free(out);
        tools_free(t);
}

Test(tools, every_tool_has_one_embedded_spec) {
        static const char *const names[] = { "Read",    "Write",         "Edit",     "Glob",
                                             "Grep",    "Bash",          "SpawnPod", "SendToPod",
                                             "WaitPod", "ReadPodOutput", "ListPods", "StopPod" };

        for (size_t i = 0; i < POD_ARRAY_SIZE(names); i++) {
                json_t *spec = tools_spec(names[i]);
                json_t *schema = json_object_get(spec, "input_schema");
                cr_assert(spec, "resources/tools/%s.json is embedded and parses", names[i]);
                cr_assert_str_eq(json_string_value(json_object_get(spec, "name")), names[i]);
                cr_assert(*json_string_value(json_object_get(spec, "description")), "%s", names[i]);
                cr_assert_str_eq(json_string_value(json_object_get(schema, "type")), "object");
                cr_assert(json_is_false(json_object_get(schema, "additionalProperties")),
                          "%s refuses unknown fields", names[i]);
                json_decref(spec);
        }
        cr_assert_null(tools_spec("Teleport"));
        cr_assert_null(tools_spec("../prompts/catalog"));
}
