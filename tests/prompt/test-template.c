/* SPDX-License-Identifier: MIT */
#include <criterion/criterion.h>
#include <string.h>

#include "prompt/template.h"

static const char ctx_json[] =
        "{\"name\": \"pod\", \"n\": 3, \"pi\": 1.5, \"yes\": true, \"no\": false, \"nil\": null,"
        " \"empty\": \"\", \"xs\": [\"a\", \"b\", \"c\"], \"none\": [],"
        " \"obj\": {\"inner\": {\"v\": \"deep\"}}, \"mode\": \"read\","
        " \"rows\": [{\"k\": \"x\", \"vs\": [1, 2]}, {\"k\": \"y\", \"vs\": []}]}";

/* Render text with the test context; returns the output (caller frees) or NULL. */
static char *render(const char *text, pod_error *err) {
        pod_template *t = NULL;
        json_t *ctx = json_loads(ctx_json, 0, NULL);
        pod_buf out = { 0 };
        int r;

        cr_assert_not_null(ctx);
        r = template_parse(&t, "t.md", text, strlen(text), err);
        if (r >= 0)
                r = template_render(&out, t, ctx, err);
        template_free(t);
        json_decref(ctx);
        if (r < 0) {
                buf_done(&out);
                return NULL;
        }
        return buf_steal(&out);
}

static void expect(const char *text, const char *want) {
        pod_error err = { 0 };
        char *got = render(text, &err);

        cr_assert_not_null(got, "%s: %s", text, err.msg);
        cr_assert_str_eq(got, want, "template: %s", text);
        free(got);
}

static void expect_error(const char *text, const char *want) {
        pod_error err = { 0 };
        char *got = render(text, &err);

        cr_assert_null(got, "rendered %s as: %s", text, got);
        cr_assert(strstr(err.msg, want), "wanted '%s' in: %s", want, err.msg);
        cr_assert(str_startswith(err.msg, "t.md:"), "names the template: %s", err.msg);
}

Test(template, text_passes_through) {
        expect("plain text, { single braces } and % signs\n",
               "plain text, { single braces } and % signs\n");
        expect("", "");
}

Test(template, variables_print_scalars) {
        expect("{{ name }}/{{n}}/{{ pi }}/{{ yes }}/{{ no }}", "pod/3/1.5/true/false");
        expect("{{ obj.inner.v }}", "deep");
}

Test(template, if_elif_else) {
        expect("{% if yes %}Y{% endif %}", "Y");
        expect("{% if no %}Y{% else %}N{% endif %}", "N");
        expect("{% if nil %}1{% elif empty %}2{% elif n %}3{% else %}4{% endif %}", "3");
        expect("{% if none %}1{% elif xs %}2{% endif %}", "2");
        expect("{% if not no %}ok{% endif %}", "ok");
        expect("{% if mode == \"read\" %}r{% endif %}{% if mode != \"read\" %}w{% endif %}", "r");
        expect("{% if obj %}o{% endif %}{% if pi %}p{% endif %}", "op");
}

Test(template, for_loops_with_loop_variables) {
        expect("{% for x in xs %}{{ loop.index }}{{ x }}{% if not loop.last %},{% endif %}{% endfor %}",
               "1a,2b,3c");
        expect("{% for x in xs %}{{ loop.index0 }}{% if loop.first %}F{% endif %}{{ loop.length }}{% endfor %}",
               "0F3"
               "13"
               "23");
        expect("{% for x in none %}never{% endfor %}", "");
}

Test(template, nested_loops_shadow_loop) {
        expect("{% for r in rows %}{{ r.k }}:{% for v in r.vs %}{{ v }}@{{ loop.index }}{% endfor %};{% endfor %}",
               "x:1@12@2;y:;");
}

Test(template, raw_blocks_and_comments) {
        expect("{% raw %}{{ not a var }} {% if %}{% endraw %}!", "{{ not a var }} {% if %}!");
        expect("a{# a comment #}b", "ab");
}

Test(template, block_tags_alone_on_a_line_take_the_line) {
        expect("list:\n{% for x in xs %}\n- {{ x }}\n{% endfor %}\nend\n",
               "list:\n- a\n- b\n- c\nend\n");
        expect("  {% if yes %}\n  indented\n  {% endif %}\n", "  indented\n");
        expect("{# note #}\nnext\n", "next\n");
        expect("a {% if yes %}b{% endif %}\nc", "a b\nc");
}

Test(template, dash_markers_trim_white_space) {
        expect("a   {{- name -}}   b", "apodb");
        expect("x\n\n{%- if yes -%}\n\ny{% endif %}", "xy");
}

Test(template, undefined_variables_are_errors_not_empty) {
        expect_error("{{ missing }}", "t.md:1: undefined variable 'missing'");
        expect_error("line\n{{ obj.nope }}", "t.md:2: undefined variable 'obj.nope'");
        expect_error("{% if ghost %}x{% endif %}", "undefined variable 'ghost'");
        expect_error("{% for x in ghosts %}{% endfor %}", "undefined variable 'ghosts'");
}

Test(template, type_mismatches_are_errors) {
        expect_error("{{ xs }}", "cannot print 'xs': it is a list");
        expect_error("{{ obj }}", "it is an object");
        expect_error("{{ nil }}", "it is null");
        expect_error("{{ name.x }}", "'name' is a string, not an object");
        expect_error("{% for c in name %}{% endfor %}", "cannot loop over 'name': it is a string");
        expect_error("{% if n == \"3\" %}{% endif %}", "cannot compare 'n' with a string");
}

Test(template, syntax_errors_name_the_line) {
        expect_error("\n\n{{ name", "t.md:3: '{{' is never closed");
        expect_error("{% if yes %}\nopen", "t.md:1: {% if %} is never closed");
        expect_error("{% endif %}", "unexpected {% endif %} (no open block)");
        expect_error("{% for x in xs %}{% endif %}", "unexpected {% endif %} inside {% for %}");
        expect_error("{% frobnicate %}", "unknown tag 'frobnicate'");
        expect_error("{% for x xs %}{% endfor %}", "expected 'in'");
        expect_error("{% for loop in xs %}{% endfor %}", "may not be 'loop'");
        expect_error("{{ a b }}", "only a variable path");
        expect_error("{{ }}", "expected a variable name");
        expect_error("{% if mode == read %}{% endif %}", "expected a \"string\"");
        expect_error("{% if mode == \"read %}{% endif %}", "unterminated string");
        expect_error("{% raw %}never closed", "{% raw %} is never closed");
        expect_error("{% if yes extra %}{% endif %}", "unexpected 'extra'");
        expect_error("{{-}}", "expected a variable name");
        expect_error("{%-%}", "empty or malformed tag");
}

Test(template, nesting_and_size_limits) {
        char *deep = malloc(64 * 40);
        size_t n = 0;
        pod_template *t = NULL;
        pod_error err = { 0 };
        char *big;

        for (int i = 0; i < 40; i++)
                n += (size_t) sprintf(deep + n, "{%% if yes %%}");
        cr_assert_lt(template_parse(&t, "t.md", deep, n, &err), 0);
        cr_assert(strstr(err.msg, "nested more than 32"), "%s", err.msg);
        free(deep);
        big = malloc(POD_TEMPLATE_MAX_BYTES + 1);
        memset(big, 'x', POD_TEMPLATE_MAX_BYTES + 1);
        cr_assert_eq(template_parse(&t, "t.md", big, POD_TEMPLATE_MAX_BYTES + 1, &err), -EFBIG);
        cr_assert_eq(template_parse(&t, "t.md", big, POD_TEMPLATE_MAX_BYTES, &err), 0);
        template_free(t);
        free(big);
        cr_assert_lt(template_parse(&t, "t.md", "\xff", 1, &err), 0);
        cr_assert(strstr(err.msg, "UTF-8"), "%s", err.msg);
}

Test(template, output_is_bounded) {
        /* 64 KiB of text printed 64 times is over the 4 MiB output limit. */
        size_t n = 64 * 1024;
        char *s = malloc(n + 1);
        json_t *xs = json_array(), *ctx;
        pod_template *t = NULL;
        pod_buf out = { 0 };
        pod_error err = { 0 };

        memset(s, 'y', n);
        s[n] = '\0';
        for (int i = 0; i < 80; i++)
                json_array_append_new(xs, json_string(s));
        ctx = json_pack("{s:o}", "xs", xs);
        cr_assert_eq(template_parse(&t, "t.md", "{% for x in xs %}{{ x }}{% endfor %}", 36, &err),
                     0);
        cr_assert_eq(template_render(&out, t, ctx, &err), -E2BIG);
        cr_assert(strstr(err.msg, "output is over"), "%s", err.msg);
        buf_done(&out);
        template_free(t);
        json_decref(ctx);
        free(s);
}

Test(template, free_variables_skip_loop_bindings) {
        pod_template *t = NULL;
        template_var *vars;
        size_t n;
        char *declared[] = { "xs", "title", NULL };
        char *short_list[] = { "xs", NULL };
        pod_error err = { 0 };
        const char *text = "{{ title }}\n{% for x in xs %}{{ x.name }}{{ loop.index }}{% endfor %}";

        cr_assert_eq(template_parse(&t, "t.md", text, strlen(text), &err), 0);
        cr_assert_eq(template_free_variables(t, &vars, &n, &err), 0);
        cr_assert_eq(n, 2);
        cr_assert_str_eq(vars[0].name, "title");
        cr_assert_str_eq(vars[1].name, "xs");
        cr_assert_eq(vars[1].line, 2);
        cr_assert_eq(template_check_variables(t, declared, &err), 0);
        cr_assert_lt(template_check_variables(t, short_list, &err), 0);
        cr_assert(strstr(err.msg, "t.md:1: undefined variable 'title' (this template has: xs)"),
                  "%s", err.msg);
        template_free(t);
}

Test(template, context_must_be_an_object) {
        pod_template *t = NULL;
        pod_buf out = { 0 };
        json_t *arr = json_array();

        cr_assert_eq(template_parse(&t, "t.md", "x", 1, NULL), 0);
        cr_assert_lt(template_render(&out, t, arr, NULL), 0);
        json_decref(arr);
        template_free(t);
        buf_done(&out);
}
