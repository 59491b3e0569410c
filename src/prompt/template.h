/* SPDX-License-Identifier: MIT */
#pragma once

/*
 * The template language of prompts (DESIGN §10): small and strict.
 *
 *   {{ a.b }}                         print a string, number or boolean
 *   {% if x %} {% elif not y %} {% elif z == "v" %} {% else %} {% endif %}
 *   {% for item in xs %} {{ loop.index }} {% endfor %}   (loop.index0, .first, .last, .length)
 *   {% raw %}{{ literal }}{% endraw %}
 *   {# comment #}
 *
 * A block tag alone on its line takes the whole line with it (so Markdown stays tidy);
 * `{%-` / `-%}` (and `{{-` / `-}}`) also trim the white space before / after a tag. An
 * undefined variable, a type mismatch or a syntax error is an error naming the template
 * and line: never an empty string.
 */

#include <jansson.h>

#include "base/base.h"

#define POD_TEMPLATE_MAX_BYTES (256u * 1024u) /* template source */
#define POD_TEMPLATE_OUTPUT_MAX (4u * 1024u * 1024u) /* rendered text */
#define POD_TEMPLATE_DEPTH_MAX 32u /* nested if / for */

typedef struct pod_template pod_template;

int template_parse(
        pod_template **out, const char *name, const char *text, size_t len, pod_error *err);
pod_template *template_free(pod_template *t);
static inline void template_freep(pod_template **t) {
        template_free(*t);
}
/* Append the rendering of t with ctx (a JSON object) to out. */
int template_render(pod_buf *out, const pod_template *t, const json_t *ctx, pod_error *err);

/* A free variable of a template: the first name of a path not bound by a loop. */
typedef struct template_var {
        const char *name;
        unsigned line;
} template_var;

/* Each free variable once, at its first use, in order. Valid while t lives. */
int template_free_variables(const pod_template *t,
                            template_var **ret,
                            size_t *ret_n,
                            pod_error *err);
/* Fail, naming the template and line, if t uses a variable outside declared. */
int template_check_variables(const pod_template *t, char *const *declared, pod_error *err);
const char *template_name(const pod_template *t);
