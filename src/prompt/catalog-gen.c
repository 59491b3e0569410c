/* SPDX-License-Identifier: MIT */
/*
 * Build tool: turns resources/prompts/catalog.json and its templates into the embedded
 * catalog (prompt-catalog.c) and its key enum (prompt-keys.h), and fails the build when
 *   - a template does not parse, or uses a variable its catalog entry does not declare;
 *   - the catalog has a key that no source file uses (as PROMPT_KEY_<NAME>);
 *   - a source file uses a PROMPT_KEY_<NAME> that the catalog lacks.
 *
 * Usage: pod-prompt-catalog CATALOG.json TEMPLATE_DIR OUT.c OUT.h SOURCE...
 */
#include <ctype.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>

#include "template.h"

#define CATALOG_MAX_BYTES (64u * 1024u)
#define SOURCE_MAX_BYTES (4u * 1024u * 1024u)

static int fail(const char *fmt, ...) _printf_(1, 2);
static int fail(const char *fmt, ...) {
        va_list ap;

        fputs("prompt catalog: ", stderr);
        va_start(ap, fmt);
        vfprintf(stderr, fmt, ap);
        va_end(ap);
        fputc('\n', stderr);
        return 1;
}

static bool key_valid(const char *k) {
        if (!*k || strlen(k) > 64)
                return false;
        for (; *k; k++)
                if (!((*k >= 'a' && *k <= 'z') || *k == '_' || (*k >= '0' && *k <= '9')))
                        return false;
        return true;
}

static void upper(char *dst, const char *src, size_t n) {
        size_t i = 0;

        for (; src[i] && i + 1 < n; i++)
                dst[i] = (char) toupper((unsigned char) src[i]);
        dst[i] = '\0';
}

/* Check one entry's template; returns its text (caller frees). */
static char *check_entry(const char *dir, const char *key, json_t *entry, size_t *ret_len) {
        const char *file = NULL;
        json_t *vars = NULL;
        int overridable = 1;
        _cleanup_free_ char *path = NULL, *text = NULL;
        _cleanup_strv_free_ char **declared = NULL;
        _cleanup_(template_freep) pod_template *t = NULL;
        pod_error err = { 0 };
        json_error_t jerr;
        size_t i, len;
        json_t *v;

        if (!key_valid(key) ||
            json_unpack_ex(entry, &jerr, JSON_STRICT, "{s:s, s:o, s?b}", "file", &file, "variables",
                           &vars, "overridable", &overridable) < 0 ||
            !json_is_array(vars)) {
                fail("key '%s': expected {\"file\", \"variables\": [...], \"overridable\"?}", key);
                return NULL;
        }
        json_array_foreach(vars, i, v)
                if (!json_is_string(v) || strv_push(&declared, json_string_value(v)) < 0) {
                        fail("key '%s': variables must be strings", key);
                        return NULL;
                }
        path = path_join(dir, file);
        if (!path ||
            file_read_bounded(&text, &len, AT_FDCWD, path, POD_TEMPLATE_MAX_BYTES, &err) < 0 ||
            template_parse(&t, file, text, len, &err) < 0 ||
            template_check_variables(t, declared ? declared : (char *[]){ NULL }, &err) < 0) {
                fail("key '%s': %s", key, err.msg);
                return NULL;
        }
        *ret_len = len;
        return TAKE_PTR(text);
}

/* Every PROMPT_KEY_<NAME> in the sources must be a catalog key, and every key used. */
static int check_uses(json_t *catalog, char **sources, int n_sources) {
        json_auto_t *used = json_object();
        const char *key;
        json_t *v;
        int bad = 0;

        for (int s = 0; s < n_sources; s++) {
                _cleanup_free_ char *text = NULL;
                pod_error err = { 0 };
                if (file_read_bounded(&text, NULL, AT_FDCWD, sources[s], SOURCE_MAX_BYTES, &err) <
                    0)
                        return fail("%s", err.msg);
                for (char *p = text; (p = strstr(p, "PROMPT_KEY_"));) {
                        char name[80], lower[80];
                        size_t n = 0;
                        p += strlen("PROMPT_KEY_");
                        while ((isupper((unsigned char) p[n]) || isdigit((unsigned char) p[n]) ||
                                p[n] == '_') &&
                               n < sizeof(name) - 1)
                                n++;
                        memcpy(name, p, n);
                        name[n] = '\0';
                        p += n;
                        if (n == 0 || strcmp(name, "_COUNT") == 0)
                                continue;
                        for (size_t i = 0; i <= n; i++)
                                lower[i] = (char) tolower((unsigned char) name[i]);
                        if (!json_object_get(catalog, lower))
                                bad |= fail(
                                        "%s uses PROMPT_KEY_%s, but the catalog has no key '%s'",
                                        sources[s], name, lower);
                        json_object_set_new(used, lower, json_true());
                }
        }
        json_object_foreach(catalog, key, v) {
                char up[80];
                upper(up, key, sizeof(up));
                if (!json_object_get(used, key))
                        bad |= fail("catalog key '%s' is used by no code (PROMPT_KEY_%s)", key, up);
        }
        return bad;
}

static void emit_bytes(FILE *c, const char *text, size_t len) {
        for (size_t i = 0; i < len; i++)
                fprintf(c, "0x%02x,%s", (unsigned char) text[i], i % 16 == 15 ? "\n" : "");
        fputs("0x00", c);
}

static int emit(json_t *catalog, const char *dir, const char *out_c, const char *out_h) {
        FILE *c = fopen(out_c, "we"), *h = fopen(out_h, "we");
        const char *key;
        json_t *entry;
        size_t idx = 0;
        int bad = 0;

        if (!c || !h)
                return fail("cannot write the generated files");
        fputs("/* Generated by pod-prompt-catalog; do not edit. */\n#pragma once\n\n"
              "typedef enum prompt_key {\n",
              h);
        fputs("/* Generated by pod-prompt-catalog; do not edit. */\n#include \"prompt.h\"\n\n", c);
        json_object_foreach(catalog, key, entry) {
                char up[80];
                size_t len = 0;
                _cleanup_free_ char *text = check_entry(dir, key, entry, &len);
                json_t *vars = json_object_get(entry, "variables"), *v;
                size_t i;
                if (!text) {
                        bad = 1;
                        continue;
                }
                upper(up, key, sizeof(up));
                fprintf(h, "        PROMPT_KEY_%s,\n", up);
                fprintf(c, "static const char text_%zu[] = {\n", idx);
                emit_bytes(c, text, len);
                fprintf(c, "};\nstatic const char *const vars_%zu[] = { ", idx);
                json_array_foreach(vars, i, v)
                        fprintf(c, "\"%s\", ", json_string_value(v));
                fprintf(c, "NULL };\n\n");
                idx++;
        }
        fputs("        PROMPT_KEY__COUNT,\n} prompt_key;\n", h);
        fputs("const prompt_catalog_entry prompt_catalog[] = {\n", c);
        idx = 0;
        json_object_foreach(catalog, key, entry) {
                json_t *ov = json_object_get(entry, "overridable");
                fprintf(c,
                        "        { \"%s\", \"%s\", text_%zu, sizeof(text_%zu) - 1, vars_%zu, %s },\n",
                        key, json_string_value(json_object_get(entry, "file")), idx, idx, idx,
                        ov && json_is_false(ov) ? "false" : "true");
                idx++;
        }
        fputs("};\n", c);
        if (fclose(c) != 0 || fclose(h) != 0)
                return fail("cannot write the generated files");
        return bad;
}

int main(int argc, char **argv) {
        json_auto_t *catalog = NULL;
        json_error_t jerr;

        if (argc < 5)
                return fail("usage: %s CATALOG.json TEMPLATE_DIR OUT.c OUT.h SOURCE...", argv[0]);
        catalog = json_load_file(argv[1], JSON_REJECT_DUPLICATES, &jerr);
        if (!catalog || !json_is_object(catalog))
                return fail("%s:%d: %s", argv[1], jerr.line,
                            catalog ? "must be an object" : jerr.text);
        if (check_uses(catalog, argv + 5, argc - 5) != 0)
                return 1;
        if (emit(catalog, argv[2], argv[3], argv[4]) != 0) {
                remove(argv[3]);
                remove(argv[4]);
                return 1;
        }
        return 0;
}
