/* SPDX-License-Identifier: MIT */
/*
 * Skills (DESIGN §11): `skills: [name]` in a profile, each a folder with a SKILL.md. The
 * parent finds each (project .pod, project .agents, user config, then builtin), checks its
 * front matter, and carries path, sha256, description and body in the manifest, so the
 * child needs no access to the skill's folder.
 */
#include <fcntl.h>
#include <string.h>

#include "prompt.h"

extern const struct pod_embedded_file pod_builtin_skills[];

static const char *const skill_keys[] = { "name",     "description", "license", "allowed-tools",
                                          "metadata", "version",     NULL };

static size_t utf8_chars(const char *s) {
        size_t n = 0;

        for (; *s; s++)
                n += ((unsigned char) *s & 0xc0) != 0x80;
        return n;
}

static int check_keys(const json_t *values, const json_t *lines, const char *path, pod_error *err) {
        const char *key;
        json_t *v;

        json_object_foreach((json_t *) values, key, v)
                if (!strv_contains((char *const *) skill_keys, key))
                        return pod_error_set(err, -EINVAL,
                                             "%s:%lld: unknown key '%s' (known: name, description, "
                                             "license, allowed-tools, metadata, version)",
                                             path, json_integer_value(json_object_get(lines, key)),
                                             key);
        return 0;
}

static int check_name_description(const json_t *values,
                                  const json_t *lines,
                                  const char *folder,
                                  const char *path,
                                  pod_error *err) {
        const char *name = json_string_value(json_object_get(values, "name"));
        const char *desc = json_string_value(json_object_get(values, "description"));
        long long nl = json_integer_value(json_object_get(lines, "name"));
        long long dl = json_integer_value(json_object_get(lines, "description"));

        if (!name)
                return pod_error_set(err, -EINVAL, "%s: front matter needs name: %s", path, folder);
        if (strcmp(name, folder) != 0)
                return pod_error_set(
                        err, -EINVAL,
                        "%s:%lld: name '%s' differs from its folder '%s'; they must match", path,
                        nl, name, folder);
        if (!desc || !*desc)
                return pod_error_set(
                        err, -EINVAL,
                        "%s: front matter needs a description: (what the skill is for)", path);
        if (utf8_chars(desc) > POD_SKILL_DESCRIPTION_MAX)
                return pod_error_set(err, -EINVAL, "%s:%lld: description is over %u characters",
                                     path, dl, POD_SKILL_DESCRIPTION_MAX);
        return 0;
}

int skill_parse(json_t **out,
                const char *folder,
                const char *path,
                const char *text,
                size_t len,
                pod_error *err) {
        json_auto_t *values = NULL, *lines = NULL;
        char sha[SHA256_HEX_LEN + 1];
        const char *body;
        unsigned body_line;
        size_t n;
        int r;

        r = frontmatter_parse(&values, &lines, &body, &body_line, text, len, POD_SKILL_MAX_BYTES,
                              path, err);
        if (r >= 0)
                r = check_keys(values, lines, path, err);
        if (r >= 0)
                r = check_name_description(values, lines, folder, path, err);
        if (r < 0)
                return r;
        while (*body == '\n' || *body == '\r')
                body++;
        n = (size_t) (text + len - body);
        while (n > 0 && strchr(" \t\r\n", body[n - 1]))
                n--;
        sha256_hex(sha, text, len);
        *out = json_pack("{s:s, s:s, s:s, s:O, s:s%}", "name", folder, "path", path, "sha256", sha,
                         "description", json_object_get(values, "description"), "body", body, n);
        return *out ? 0 : pod_error_oom(err);
}

static const struct pod_embedded_file *builtin_skill(const char *name) {
        size_t n = strlen(name);

        for (const struct pod_embedded_file *f = pod_builtin_skills; f->name; f++)
                if (strncmp(f->name, name, n) == 0 && strcmp(f->name + n, "/SKILL.md") == 0)
                        return f;
        return NULL;
}

/* Try one location: 1 and *out when found, 0 when absent, < 0 on any other failure. */
static int try_path(json_t **out,
                    const char *root,
                    const char *rel,
                    const char *name,
                    pod_buf *tried,
                    pod_error *err) {
        _cleanup_free_ char *path = NULL, *text = NULL;
        pod_buf p = { 0 };
        size_t len;
        int r;

        if (!root)
                return 0;
        buf_printf(&p, "%s/%s/%s/SKILL.md", root, rel, name);
        path = buf_steal(&p);
        if (!path)
                return pod_error_oom(err);
        buf_printf(tried, "%s%s", tried->len ? ", " : "", path);
        r = file_read_bounded(&text, &len, AT_FDCWD, path, POD_SKILL_MAX_BYTES, err);
        if (r == -ENOENT || r == -ENOTDIR)
                return 0;
        if (r < 0)
                return r;
        r = skill_parse(out, name, path, text, len, err);
        return r < 0 ? r : 1;
}

int skill_resolve(json_t **out, const char *name, const prompt_sources *src, pod_error *err) {
        _cleanup_buf_ pod_buf tried = { 0 };
        const struct pod_embedded_file *f;
        char label[128];
        int r;

        if (!slug_valid(name))
                return pod_error_set(err, -EINVAL, "skill name '%s' is not valid", name);
        r = try_path(out, src->project_dir, ".pod/skills", name, &tried, err);
        if (r == 0)
                r = try_path(out, src->project_dir, ".agents/skills", name, &tried, err);
        if (r == 0)
                r = try_path(out, src->config_dir, "skills", name, &tried, err);
        if (r != 0)
                return r < 0 ? r : 0;
        snprintf(label, sizeof(label), "<builtin>/skills/%s/SKILL.md", name);
        f = builtin_skill(name);
        buf_printf(&tried, "%s%s", tried.len ? ", " : "", label);
        if (!f)
                return pod_error_set(err, -ENOENT, "skill '%s' not found; tried: %s", name,
                                     buf_str(&tried) ?: "");
        return skill_parse(out, name, label, f->data, f->size, err);
}
