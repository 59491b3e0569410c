/* SPDX-License-Identifier: MIT */
#include "pod-test.h"

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
        static const char *const names[] = { "Read",     "Write",     "Edit",    "Glob",
                                              "Grep",     "Bash",      "SpawnPod", "SendToPod",
                                              "WaitPod",  "ReadPodOutput", "ListPods", "StopPod" };

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

Test(tools, schemas_follow_the_tool_set) {
        pod_profile *p = NULL;
        manifest_inputs in = { .cwd = "/" };
        json_t *m = NULL, *s;
        const char text[] = "---\nmodel: openai:x\ntools: [Read, Bash, SpawnPod]\n---\n";

        cr_assert_eq(profile_parse(&p, POD_SOURCE_USER, "x", "/x.md", text, strlen(text), NULL), 0);
        cr_assert_eq(manifest_resolve(&m, NULL, p, &in, NULL), 0);
        s = pod_tool_schemas(m, "from the catalog");
        cr_assert_eq(json_array_size(s), 3, "one schema per tool of the profile");
        cr_assert_str_eq(json_string_value(json_object_get(json_array_get(s, 0), "name")), "Read");
        cr_assert(json_is_object(json_object_get(json_array_get(s, 1), "input_schema")));
        cr_assert_str_eq(json_string_value(json_object_get(json_array_get(s, 2), "description")),
                         "from the catalog", "SpawnPod's description is the rendered catalog entry");
        {
                json_t *props = json_object_get(
                        json_object_get(json_array_get(s, 2), "input_schema"), "properties");
                cr_assert(json_is_object(json_object_get(json_object_get(props, "scope"), "items")),
                          "scope rules have a schema of their own");
        }
        json_decref(s);
        json_decref(m);
        profile_free(p);
}
