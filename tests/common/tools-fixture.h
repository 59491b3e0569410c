/* SPDX-License-Identifier: MIT */
#pragma once

/* A fixture for the tests of tools and of the pod that uses them: a project tree, something
 * outside it, and tools for a manifest whose scope the test chooses. */

#include <criterion/criterion.h>
#include <string.h>
#include <unistd.h>

#include "manifest/manifest.h"
#include "testutil.h"
#include "tools/tools.h"

static char *root, *proj, *outside;
static const char *tools_output_dir; /* the run dir tools_for gives (NULL: none) */

static inline void pod_fixture_setup(void) {
        root = tu_tmpdir_real();
        proj = tu_path(root, "proj");
        outside = tu_path(root, "outside");
        tu_write(root, "proj/src/main.c", "int main(void) {\n        return 0;\n}\n");
        tu_write(root, "proj/README.md", "hello\nworld\n");
        tu_write(root, "proj/secret/key", "private\n");
        tu_write(root, "proj/vendor/lib.c", "/* vendored */\n");
        tu_write(root, "outside/passwd", "root:x:0:0\n");
}

static inline void pod_fixture_teardown(void) {
        tu_rm_rf(root);
        free(root);
        free(proj);
        free(outside);
}

/* Tools for a pod in proj with scope rules "w:/abs r:/abs -r:/abs -w:/abs" (paths
 * relative to root when they do not start with '/'). */
/* Add scope rules "w:/abs r:/abs -r:/abs -w:/abs" (relative paths: under root) to s. */
static inline void scope_from_rules(pod_scope *s, const char *rules) {
        char *copy = strdup(rules), *save = NULL;

        for (char *r = strtok_r(copy, " ", &save); r; r = strtok_r(NULL, " ", &save)) {
                bool deny = r[0] == '-';
                char *spec = r + deny, *path = spec + 2;
                char *abs = path[0] == '/' ? strdup(path) : tu_path(root, path);
                scope_add(s, deny, abs, spec[0] == 'w' ? POD_ACCESS_WRITE : POD_ACCESS_READ, true,
                          NULL);
                free(abs);
        }
        free(copy);
}

static inline pod_tools *tools_for(const char *rules, const char *tools_json) {
        pod_profile *p = NULL;
        pod_scope scope = { 0 };
        manifest_inputs in = { .cwd = proj, .name = "tester", .scope = &scope };
        json_t *m = NULL;
        manifest_view *v = NULL;
        pod_tools *t = NULL;
        pod_error err = { 0 };
        char text[1024];

        snprintf(text, sizeof(text),
                 "---\nmodel: openai:x\napi_key_env: LC_POD_TEST_KEY\ntools: %s\n---\n",
                 tools_json ? tools_json : "[Read, Write, Edit, Glob, Grep, Bash]");
        scope_from_rules(&scope, rules);
        cr_assert_eq(profile_parse(&p, POD_SOURCE_PROJECT, "t", "/t.md", text, strlen(text), &err),
                     0, "%s", err.msg);
        cr_assert_eq(manifest_resolve(&m, NULL, p, &in, &err), 0, "%s", err.msg);
        cr_assert_eq(manifest_view_new(&v, m, &err), 0, "%s", err.msg);
        cr_assert_eq(tools_new(&t, v, tools_output_dir, &err), 0, "%s", err.msg);
        manifest_view_free(v);
        json_decref(m);
        profile_free(p);
        scope_done(&scope);
        return t;
}

/* Call a tool with JSON input text; the result must be an error (want_error) or not. */
static inline char *call(pod_tools *t, const char *tool, const char *input_json, bool want_error) {
        json_t *in = json_loads(input_json, 0, NULL);
        tool_result r = { 0 };

        cr_assert_not_null(in, "bad test input %s", input_json);
        cr_assert_eq(tools_call(&r, t, tool, in), 0);
        json_decref(in);
        cr_assert_not_null(r.text);
        cr_assert_eq(r.is_error, want_error, "%s %s -> %s", tool, input_json, r.text);
        return r.text;
}

/* JSON input with one path substituted: fmt is a literal with one %s. */
#define in1(fmt, a)                                      \
        ({                                               \
                char *_s = NULL;                         \
                cr_assert_geq(asprintf(&_s, fmt, a), 0); \
                _s;                                      \
        })
