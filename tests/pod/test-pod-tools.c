/* SPDX-License-Identifier: MIT */
/* The pod tools (src/pod/pod-tools.c): their schemas beside the manifest's file tools. */
#include <criterion/criterion.h>
#include <string.h>

#include "pod/pod.h"

Test(pod_tools, schemas_follow_the_tool_set) {
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
                         "from the catalog",
                         "SpawnPod's description is the rendered catalog entry");
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
