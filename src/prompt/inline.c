/* SPDX-License-Identifier: MIT */
/*
 * What the parent inlines into a manifest before a pod starts (DESIGN §6, §10, §11): skill
 * bodies, the operator's prompt overrides and the nearest AGENTS.md. Everything is computed
 * first and set at the end, so a failure leaves the manifest as it was.
 */
#include <dirent.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>

#include "prompt.h"

/* ---- the instruction ------------------------------------------------------------------- */

static int check_instruction(const manifest_view *v, pod_error *err) {
        const char *text = manifest_view_instruction(v);
        _cleanup_(template_freep) pod_template *t = NULL;
        char name[4200];
        int r;

        snprintf(name, sizeof(name), "%s (instruction)", v->profile_file);
        r = template_parse(&t, name, text, strlen(text), err);
        if (r >= 0)
                r = template_check_variables(t, (char *const *) prompt_instruction_variables, err);
        return r;
}

/* ---- skills ---------------------------------------------------------------------------- */

static int
inline_skills(json_t **out, const manifest_view *v, const prompt_sources *src, pod_error *err) {
        json_auto_t *skills = json_array();
        size_t i;
        json_t *s;

        json_array_foreach(v->skills, i, s) {
                json_t *full = NULL;
                int r;
                if (json_object_get(s, "body")) { /* already inlined by a parent */
                        json_array_append(skills, s);
                        continue;
                }
                r = skill_resolve(&full, json_string_value(json_object_get(s, "name")), src, err);
                if (r < 0)
                        return r;
                json_array_append_new(skills, full);
        }
        *out = json_incref(skills);
        return 0;
}

/* ---- overrides ------------------------------------------------------------------------- */

static int read_override(json_t *prompts, const char *dir, const char *file, pod_error *err) {
        const prompt_catalog_entry *e = prompt_catalog_by_file(file);
        _cleanup_(template_freep) pod_template *t = NULL;
        _cleanup_free_ char *path = path_join(dir, file), *text = NULL;
        char sha[SHA256_HEX_LEN + 1];
        size_t len;
        int r;

        if (!path)
                return pod_error_oom(err);
        if (!e)
                return pod_error_set(err, -ENOENT,
                                     "%s: no prompt template is called '%s' (see docs/prompts.md)",
                                     path, file);
        if (!e->overridable)
                return pod_error_set(err, -EPERM,
                                     "%s: '%s' cannot be overridden: the working boundaries are "
                                     "always generated from the scope",
                                     path, file);
        r = file_read_bounded(&text, &len, AT_FDCWD, path, POD_TEMPLATE_MAX_BYTES, err);
        if (r >= 0)
                r = template_parse(&t, path, text, len, err);
        if (r >= 0)
                r = template_check_variables(t, (char *const *) e->variables, err);
        if (r < 0)
                return r;
        sha256_hex(sha, text, len);
        json_object_set_new(
                prompts, e->key,
                json_pack("{s:s, s:s, s:s%}", "file", path, "sha256", sha, "text", text, len));
        return 0;
}

static int cmp_str(const void *a, const void *b) {
        return strcmp(*(char *const *) a, *(char *const *) b);
}

/* Read every override in dir into prompts (later folders replace earlier ones' keys). */
static int read_override_dir(json_t *prompts, const char *root, const char *rel, pod_error *err) {
        _cleanup_free_ char *dir = root ? path_join(root, rel) : NULL;
        _cleanup_strv_free_ char **names = NULL;
        struct dirent *de;
        size_t n = 0;
        DIR *d;
        int r = 0;

        if (!dir || !(d = opendir(dir)))
                return !root || !dir || errno == ENOENT ? 0 : pod_error_errno(err, "%s", dir);
        while ((de = readdir(d)) && r >= 0) {
                if (de->d_name[0] == '.' || !str_endswith(de->d_name, ".md"))
                        continue;
                if (++n > POD_PROMPT_OVERRIDES_MAX)
                        r = pod_error_set(err, -E2BIG, "%s: more than %u prompt overrides", dir,
                                          POD_PROMPT_OVERRIDES_MAX);
                else if (strv_push(&names, de->d_name) < 0)
                        r = pod_error_oom(err);
        }
        closedir(d);
        if (names)
                qsort(names, strv_length(names), sizeof(char *), cmp_str);
        STRV_FOREACH(name, names) {
                if (r < 0)
                        break;
                r = read_override(prompts, dir, *name, err);
        }
        return r;
}

static int
inline_prompts(json_t **out, const manifest_view *v, const prompt_sources *src, pod_error *err) {
        json_auto_t *prompts = json_deep_copy(v->prompts);
        int r;

        if (!prompts)
                return pod_error_oom(err);
        r = read_override_dir(prompts, src->config_dir, "prompts", err);
        if (r >= 0)
                r = read_override_dir(prompts, src->project_dir, ".pod/prompts", err);
        if (r < 0)
                return r;
        *out = json_incref(prompts);
        return 0;
}

/* ---- AGENTS.md ------------------------------------------------------------------------- */

/* Up to max bytes of a regular file, not through a symlink; 0 when absent. */
static int
read_prefix(char **ret, size_t *ret_len, bool *ret_truncated, const char *path, size_t max) {
        _cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
        _cleanup_free_ char *buf = NULL;
        struct stat st;
        size_t len = 0;

        if (fd < 0)
                return errno == ENOENT || errno == ELOOP || errno == ENOTDIR ? 0 : -errno;
        if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode))
                return 0;
        buf = malloc(max + 2);
        if (!buf)
                return -ENOMEM;
        while (len <= max) {
                ssize_t k = read(fd, buf + len, max + 1 - len);
                if (k < 0 && errno == EINTR)
                        continue;
                if (k < 0)
                        return -errno;
                if (k == 0)
                        break;
                len += (size_t) k;
        }
        *ret_truncated = len > max;
        *ret_len = len > max ? max : len;
        *ret = TAKE_PTR(buf);
        return 1;
}

/* Length of s without a multi-byte character that a size limit cut in two. */
static size_t cut_partial(const char *s, size_t n) {
        size_t i = n;
        unsigned char lead;
        size_t need;

        while (i > 0 && n - i < 3 && ((unsigned char) s[i - 1] & 0xc0) == 0x80)
                i--;
        if (i == 0)
                return n;
        lead = (unsigned char) s[i - 1];
        need = lead >= 0xf0 ? 4 : lead >= 0xe0 ? 3 : lead >= 0xc0 ? 2 : 1;
        return i - 1 + need > n ? i - 1 : n;
}

/*
 * The nearest AGENTS.md from cwd up to the project dir (only cwd's own outside a project).
 * A spawner passes the one it was given as known (reused, not read, where it is the one)
 * and skips folders its sandbox keeps it from reading (unreadable).
 */
static int find_agents_md(json_t **out,
                          const char *cwd,
                          const char *project_dir,
                          const json_t *known,
                          bool unreadable,
                          pod_error *err) {
        const char *known_path = json_string_value(json_object_get(known, "path"));
        _cleanup_free_ char *dir = strdup(cwd);
        bool stop_at_cwd = !project_dir || !path_is_under(cwd, project_dir);

        *out = json_null();
        while (dir) {
                _cleanup_free_ char *path = path_join(dir, "AGENTS.md"), *raw = NULL, *text = NULL;
                char sha[SHA256_HEX_LEN + 1];
                bool truncated = false;
                size_t len = 0;
                char *parent;
                int r;
                if (path && known_path && strcmp(path, known_path) == 0) {
                        *out = json_deep_copy(known);
                        return *out ? 0 : pod_error_oom(err);
                }
                r = path ? read_prefix(&raw, &len, &truncated, path, POD_AGENTS_MD_MAX_BYTES) :
                           -ENOMEM;
                if (r < 0 && unreadable && (r == -EACCES || r == -EPERM))
                        r = 0;
                if (r < 0)
                        return pod_error_set(err, r, "%s: %s", path ? path : "AGENTS.md",
                                             strerror(-r));
                if (r > 0) {
                        text = utf8_clean(raw, truncated ? cut_partial(raw, len) : len);
                        sha256_hex(sha, raw, len);
                        *out = json_pack("{s:s, s:s, s:s, s:b}", "path", path, "sha256", sha,
                                         "text", text ? text : "", "truncated", truncated);
                        return *out ? 0 : pod_error_oom(err);
                }
                if (stop_at_cwd || strcmp(dir, project_dir) == 0 || strcmp(dir, "/") == 0)
                        break;
                parent = path_parent(dir);
                free(dir);
                dir = parent;
        }
        return dir ? 0 : pod_error_oom(err);
}

int prompt_inline(json_t *m, const prompt_sources *src, pod_error *err) {
        _cleanup_(manifest_view_freep) manifest_view *v = NULL;
        json_t *skills = NULL, *prompts = NULL, *agents = NULL;
        int r;

        r = manifest_view_new(&v, m, err);
        if (r >= 0)
                r = check_instruction(v, err);
        if (r >= 0)
                r = inline_skills(&skills, v, src, err);
        if (r >= 0)
                r = inline_prompts(&prompts, v, src, err);
        if (r >= 0)
                r = find_agents_md(&agents, v->cwd, src->project_dir, NULL, false, err);
        if (r < 0) {
                json_decref(skills);
                json_decref(prompts);
                json_decref(agents);
                return r;
        }
        json_object_set_new(m, "skills", skills);
        json_object_set_new(m, "prompts", prompts);
        json_object_set_new(m, "agents_md", agents);
        return 0;
}

/* ---- for the snapshot, and for a child --------------------------------------------------- */

json_t *prompt_skill_library(const profile_set *set, const prompt_sources *src) {
        json_t *lib = json_object();

        for (size_t i = 0; lib && i < profile_set_count(set); i++) {
                const profile_entry *e = profile_set_get(set, i);
                STRV_FOREACH(name, e->profile ? e->profile->skills : NULL) {
                        json_t *full = NULL;
                        pod_error err = { 0 };
                        if (json_object_get(lib, *name) ||
                            json_object_size(lib) >= POD_SKILL_LIBRARY_MAX)
                                continue;
                        if (skill_resolve(&full, *name, src, &err) < 0)
                                full = json_pack("{s:s, s:s}", "name", *name, "error", err.msg);
                        json_object_set_new(lib, *name, full);
                }
        }
        return lib;
}

int prompt_inline_child(json_t *m,
                        const json_t *library,
                        const json_t *known_agents,
                        const char *project_dir,
                        pod_error *err) {
        _cleanup_(manifest_view_freep) manifest_view *v = NULL;
        json_auto_t *skills = json_array();
        json_t *s, *agents = NULL;
        size_t i;
        int r;

        r = manifest_view_new(&v, m, err);
        if (r < 0)
                return r;
        json_array_foreach(v->skills, i, s) {
                const char *name = json_string_value(json_object_get(s, "name"));
                json_t *full = json_object_get(library, name ? name : "");
                if (json_object_get(s, "body")) /* inherited, already inlined */
                        full = s;
                else if (!full)
                        return pod_error_set(err, -ENOENT,
                                             "skill '%s' is not among those resolved when the "
                                             "tree started (a profile added since then?)",
                                             name ? name : "?");
                else if (json_object_get(full, "error"))
                        return pod_error_set(err, -ENOENT, "%s",
                                             json_string_value(json_object_get(full, "error")));
                json_array_append(skills, full);
        }
        r = find_agents_md(&agents, v->cwd, project_dir, known_agents, true, err);
        if (r < 0)
                return r;
        json_object_set(m, "skills", skills);
        json_object_set_new(m, "agents_md", agents);
        return 0;
}
