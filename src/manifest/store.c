/* SPDX-License-Identifier: MIT */
/*
 * The profile store (DESIGN §4): the write side of profiles. Every change validates first,
 * then writes a temporary file (or symlink) beside its target and rename(2)s it into place,
 * so a reader sees the old file or the new one, never a part, never a missing default
 * pointer; and nothing is ever written through a symlink (a pointer's target is a profile).
 */
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include "manifest-internal.h"

extern const struct pod_embedded_file pod_starter_profiles[];

#define POINTER_NAME "default-profile"

/* ".<name>.<random>.tmp": hidden, so discovery never reads a half-made file. */
static void temp_name(char out[POD_NAME_BUF + 32], const char *name) {
        uint64_t rnd = 0;

        if (getrandom(&rnd, sizeof(rnd), GRND_NONBLOCK) != (ssize_t) sizeof(rnd))
                rnd = (uint64_t) mono_ms() ^ ((uint64_t) getpid() << 32);
        snprintf(out, POD_NAME_BUF + 32, ".%.64s.%016llx.tmp", name, (unsigned long long) rnd);
}

static int write_all(int fd, const char *data, size_t len) {
        while (len > 0) {
                ssize_t k = write(fd, data, len);
                if (k < 0 && errno == EINTR)
                        continue;
                if (k < 0)
                        return -errno;
                data += k;
                len -= (size_t) k;
        }
        return 0;
}

/* Move tmp to name: over it (STORE_REPLACE), or only where nothing is (STORE_NOREPLACE). */
static int move_into_place(int dfd, const char *tmp, const char *name, store_write_mode how) {
        if (how == STORE_REPLACE)
                return renameat(dfd, tmp, dfd, name) < 0 ? -errno : 0;
        if (renameat2(dfd, tmp, dfd, name, RENAME_NOREPLACE) == 0)
                return 0;
        if (errno != EINVAL && errno != ENOSYS)
                return -errno;
        /* A file system without RENAME_NOREPLACE: link(2) never replaces either. */
        if (linkat(dfd, tmp, dfd, name, 0) < 0)
                return -errno;
        unlinkat(dfd, tmp, 0);
        return 0;
}

int store_write_file(int dfd,
                     const char *name,
                     const char *data,
                     size_t len,
                     mode_t mode,
                     store_write_mode how,
                     pod_error *err) {
        char tmp[POD_NAME_BUF + 32];
        _cleanup_close_ int fd = -EBADF;
        int r;

        temp_name(tmp, name);
        fd = openat(dfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
        if (fd < 0)
                return pod_error_errno(err, "cannot write %s", name);
        r = write_all(fd, data, len);
        if (r >= 0 && fchmod(fd, mode & 07777) < 0)
                r = -errno;
        if (r >= 0 && fsync(fd) < 0)
                r = -errno;
        if (r >= 0)
                r = move_into_place(dfd, tmp, name, how);
        if (r < 0) {
                unlinkat(dfd, tmp, 0);
                if (r == -EEXIST)
                        return pod_error_set(err, r, "%s exists", name);
                return pod_error_set(err, r, "cannot write %s: %s", name, strerror(-r));
        }
        return 0;
}

int store_write_pointer(int dfd, const char *target, bool *ret_symlink, pod_error *err) {
        char tmp[POD_NAME_BUF + 32];
        _cleanup_free_ char *line = NULL;

        temp_name(tmp, POINTER_NAME);
        if (symlinkat(target, dfd, tmp) == 0) {
                if (renameat(dfd, tmp, dfd, POINTER_NAME) == 0) {
                        *ret_symlink = true;
                        return 0;
                }
                unlinkat(dfd, tmp, 0);
                return pod_error_errno(err, "cannot replace " POINTER_NAME);
        }
        if (errno != EPERM && errno != EOPNOTSUPP && errno != ENOSYS)
                return pod_error_errno(err, "cannot make the " POINTER_NAME " symlink");
        /* No symlinks here: the one-line file, renamed over the pointer, never through it. */
        *ret_symlink = false;
        if (asprintf(&line, "%s\n", target) < 0)
                return pod_error_oom(err);
        return store_write_file(dfd, POINTER_NAME, line, strlen(line), 0644, STORE_REPLACE, err);
}

/* ---- where a source's files are --------------------------------------------------------- */

int store_source_root(char **out, const profile_set *s, profile_source src, pod_error *err) {
        if (src == POD_SOURCE_USER) {
                if (!s->config_dir)
                        return pod_error_set(err, -EINVAL, "no config dir to hold user profiles");
                *out = strdup(s->config_dir);
        } else if (src == POD_SOURCE_PROJECT)
                *out = path_join(s->project_dir ? s->project_dir : s->cwd, ".pod");
        else
                return pod_error_set(err, -EPERM,
                                     "builtin profiles are part of pod and cannot be changed; "
                                     "pod profile create NAME --from builtin:SLUG makes an "
                                     "editable copy");
        return *out ? 0 : pod_error_oom(err);
}

/* The profiles folder of a source, made when missing, opened. */
static int open_profiles_dir(
        int *ret_root, int *ret_dir, const profile_set *s, profile_source src, pod_error *err) {
        _cleanup_free_ char *root = NULL, *dir = NULL;
        int r = store_source_root(&root, s, src, err);

        if (r < 0)
                return r;
        dir = path_join(root, "profiles");
        if (!dir)
                return pod_error_oom(err);
        r = mkdir_p(dir, 0755);
        if (r < 0)
                return pod_error_set(err, r, "cannot create %s: %s", dir, strerror(-r));
        *ret_root = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (*ret_root < 0)
                return pod_error_errno(err, "%s", root);
        *ret_dir = openat(*ret_root, "profiles", O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
        if (*ret_dir < 0) {
                *ret_root = safe_close(*ret_root);
                return pod_error_errno(err, "%s", dir);
        }
        return 0;
}

/* ---- validation ------------------------------------------------------------------------- */

int store_validate(profile_set *s,
                   profile_source src,
                   const char *slug,
                   const char *file,
                   const char *text,
                   size_t len,
                   pod_error *err) {
        _cleanup_(profile_freep) pod_profile *p = NULL;
        const profile_entry *base = NULL;
        int r;

        r = profile_parse(&p, src, slug, file, text, len, err);
        if (r < 0 || !p->extends)
                return r;
        r = profile_set_select(&base, s, p->extends, SEL_CONTEXT_EXTENDS, err);
        if (r < 0)
                return pod_error_prefix(err, "%s:%u: extends: ", file, p->origin[PK_EXTENDS].line);
        if (!base->profile || base->profile->extends)
                return pod_error_set(err, -EINVAL, "%s: extends: %s %s", file, base->selector,
                                     base->profile ? "itself extends a profile (one level only)" :
                                                     "is broken");
        if (base->source == src && strcmp(base->slug, slug) == 0)
                return pod_error_set(err, -ELOOP, "%s: extends cycle: %s extends itself", file,
                                     base->selector);
        return profile_apply_base(p, base->profile, base->selector, err);
}

/* ---- rendering a complete profile ------------------------------------------------------- */

static void put_string(pod_buf *b, const char *key, const char *v) {
        json_t *j = json_string(v);
        char *q = j ? json_dumps(j, JSON_ENCODE_ANY) : NULL;

        /* A JSON string is a YAML double-quoted scalar. */
        buf_printf(b, "%s: %s\n", key, q ? q : "\"\"");
        if (!q)
                b->oom = true;
        free(q);
        json_decref(j);
}

static void put_list(pod_buf *b, const char *key, char *const *l) {
        buf_printf(b, "%s: [", key);
        STRV_FOREACH(v, l)
                buf_printf(b, "%s%s", v == l ? "" : ", ", *v);
        buf_puts(b, "]\n");
}

int profile_render(pod_buf *b, const pod_profile *p) {
        bool limits = false;

        buf_puts(b, "---\n");
        if (p->description)
                put_string(b, "description", p->description);
        if (p->model)
                put_string(b, "model", p->model);
        if (p->endpoint)
                put_string(b, "endpoint", p->endpoint);
        if (p->api_key_env)
                put_string(b, "api_key_env", p->api_key_env);
        if (reasoning_to_string(p->reasoning))
                buf_printf(b, "reasoning: %s\n", reasoning_to_string(p->reasoning));
        if (p->tools)
                put_list(b, "tools", p->tools);
        if (p->skills)
                put_list(b, "skills", p->skills);
        buf_printf(b, "scope: %s\nnetwork: %s\n", access_to_string(p->scope),
                   network_to_string(p->network));
        for (unsigned i = 0; i < POD_LIMITS_COUNT; i++) {
                if (!p->set[PK_MAX_TURNS + i])
                        continue;
                if (!limits)
                        buf_puts(b, "limits:\n");
                limits = true;
                buf_printf(b, "  %s: %lld\n", profile_limits[i].name, (long long) p->limits[i]);
        }
        buf_printf(b, "---\n%s", p->body ? p->body : "");
        if (b->len && b->data[b->len - 1] != '\n')
                buf_puts(b, "\n");
        return b->oom ? -ENOMEM : 0;
}

/* ---- create ----------------------------------------------------------------------------- */

static int replace_str(char **dst, const char *v) {
        char *n;

        if (!v)
                return 0;
        n = strdup(v);
        if (!n)
                return -ENOMEM;
        free(*dst);
        *dst = n;
        return 0;
}

/* The new profile's text: from's values (after extends) with the options applied. */
static int
create_text(pod_buf *b, const pod_profile *from, const store_create_opts *o, pod_error *err) {
        _cleanup_(profile_freep) pod_profile *p = NULL;
        int r;

        r = profile_parse(&p, from->source, from->slug, from->file, from->text, strlen(from->text),
                          err);
        if (r < 0)
                return r;
        /* The base's values, as resolved: the new file is complete on its own. */
        if (p->extends) {
                free(p->extends);
                p->extends = NULL;
        }
        for (int k = 0; k < PK__MAX; k++)
                p->set[k] = from->set[k];
        p->reasoning = from->reasoning;
        p->scope = from->scope;
        p->network = from->network;
        memcpy(p->limits, from->limits, sizeof(p->limits));
        if (replace_str(&p->description, from->description) < 0 ||
            replace_str(&p->model, from->model) < 0 ||
            replace_str(&p->endpoint, from->endpoint) < 0 ||
            replace_str(&p->api_key_env, from->api_key_env) < 0 ||
            replace_str(&p->body, from->body) < 0 ||
            (from->tools && !p->tools && !(p->tools = strv_copy(from->tools))) ||
            (from->skills && !p->skills && !(p->skills = strv_copy(from->skills))))
                return pod_error_oom(err);
        if (o->model && strcmp(o->model, p->model ? p->model : "") != 0) {
                /* Another model: the old endpoint and key variable belonged to the old one. */
                free(p->endpoint);
                free(p->api_key_env);
                p->endpoint = p->api_key_env = NULL;
        }
        if (replace_str(&p->model, o->model) < 0 || replace_str(&p->endpoint, o->endpoint) < 0 ||
            replace_str(&p->description, o->description) < 0)
                return pod_error_oom(err);
        return profile_render(b, p) < 0 ? pod_error_oom(err) : 0;
}

int store_create(profile_set *s, const store_create_opts *o, char **ret_file, pod_error *err) {
        _cleanup_buf_ pod_buf text = { 0 };
        _cleanup_close_ int root = -EBADF, dir = -EBADF;
        _cleanup_free_ char *name = NULL, *rootpath = NULL, *file = NULL;
        const profile_entry *from = NULL;
        int r;

        if (!slug_valid(o->slug))
                return pod_error_set(err, -EINVAL,
                                     "'%s' is not a valid profile name ([a-z0-9][a-z0-9._-]{0,63})",
                                     o->slug);
        r = profile_set_select(&from, s, o->from ? o->from : "builtin:default", SEL_CONTEXT_CLI,
                               err);
        if (r < 0)
                return pod_error_prefix(err, "--from: ");
        if (!from || !from->profile->text)
                return pod_error_set(err, -EINVAL, "--from must name a profile");
        r = store_source_root(&rootpath, s, o->source, err);
        if (r < 0)
                return r;
        if (asprintf(&name, "%s.md", o->slug) < 0 ||
            asprintf(&file, "%s/profiles/%s", rootpath, name) < 0)
                return pod_error_oom(err);
        r = create_text(&text, from->profile, o, err);
        if (r >= 0)
                r = store_validate(s, o->source, o->slug, file, buf_str(&text), text.len, err);
        if (r >= 0)
                r = open_profiles_dir(&root, &dir, s, o->source, err);
        if (r >= 0)
                r = store_write_file(dir, name, buf_str(&text), text.len, 0644,
                                     o->force ? STORE_REPLACE : STORE_NOREPLACE, err);
        if (r == -EEXIST)
                return pod_error_set(err, r, "%s exists; --force replaces it", file);
        if (r < 0)
                return r;
        if (ret_file)
                *ret_file = TAKE_PTR(file);
        return 0;
}

/* ---- replace (edit) --------------------------------------------------------------------- */

int store_replace(
        profile_set *s, const profile_entry *e, const char *text, size_t len, pod_error *err) {
        _cleanup_close_ int root = -EBADF, dir = -EBADF;
        _cleanup_free_ char *name = NULL;
        struct stat st;
        mode_t mode = 0644;
        int r;

        if (e->source != POD_SOURCE_USER && e->source != POD_SOURCE_PROJECT)
                return store_source_root(&name, s, e->source, err);
        r = store_validate(s, e->source, e->slug, e->file, text, len, err);
        if (r < 0)
                return r;
        r = open_profiles_dir(&root, &dir, s, e->source, err);
        if (r < 0)
                return r;
        if (asprintf(&name, "%s.md", e->slug) < 0)
                return pod_error_oom(err);
        if (fstatat(dir, name, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISREG(st.st_mode))
                mode = st.st_mode & 07777; /* the file's mode is kept */
        return store_write_file(dir, name, text, len, mode, STORE_REPLACE, err);
}

/* ---- use -------------------------------------------------------------------------------- */

int store_use(profile_set *s,
              const profile_entry *e,
              profile_source pointer,
              char **ret_path,
              bool *ret_symlink,
              pod_error *err) {
        _cleanup_close_ int root = -EBADF, dir = -EBADF;
        _cleanup_free_ char *target = NULL, *rootpath = NULL;
        int r;

        if (pointer != POD_SOURCE_USER && pointer != POD_SOURCE_PROJECT)
                pointer = e->source == POD_SOURCE_PROJECT ? POD_SOURCE_PROJECT : POD_SOURCE_USER;
        if (e->source == POD_SOURCE_PATH)
                return pod_error_set(err, -EINVAL,
                                     "a profile file cannot be the default; "
                                     "pod profile create NAME --from path:FILE "
                                     "stores it first");
        if (!e->profile || !e->profile->model)
                return pod_error_set(err, -EINVAL,
                                     "%s names no model, so it cannot be the default (the roles "
                                     "that name none run the default's); pick one that does, or "
                                     "pod profile create NAME --from %s --model SPEC",
                                     e->selector, e->selector);
        if (e->source > pointer)
                return pod_error_set(err, -EINVAL,
                                     "the %s default pointer cannot name %s, a profile of a "
                                     "higher source; use --project",
                                     source_to_string(pointer), e->selector);
        if (e->source == pointer)
                r = asprintf(&target, "profiles/%s.md", e->slug);
        else
                r = asprintf(&target, "%s", e->selector);
        if (r < 0)
                return pod_error_oom(err);
        r = open_profiles_dir(&root, &dir, s, pointer, err);
        if (r >= 0)
                r = store_write_pointer(root, target, ret_symlink, err);
        if (r >= 0 && ret_path) {
                r = store_source_root(&rootpath, s, pointer, err);
                if (r >= 0 && !(*ret_path = path_join(rootpath, POINTER_NAME)))
                        r = pod_error_oom(err);
        }
        return r;
}

/* ---- delete ----------------------------------------------------------------------------- */

int store_delete(
        profile_set *s, const profile_entry *e, bool force, char **ret_note, pod_error *err) {
        _cleanup_close_ int root = -EBADF, dir = -EBADF;
        _cleanup_free_ char *name = NULL;
        _cleanup_buf_ pod_buf note = { 0 };
        const profile_source sources[] = { POD_SOURCE_USER, POD_SOURCE_PROJECT };
        int r;

        if (e->source != POD_SOURCE_USER && e->source != POD_SOURCE_PROJECT)
                return store_source_root(&name, s, e->source, err);
        for (size_t i = 0; i < POD_ARRAY_SIZE(sources); i++) {
                const char *path = NULL;
                if (profile_set_pointer(s, sources[i], &path) != e)
                        continue;
                if (!force)
                        return pod_error_set(err, -EBUSY,
                                             "%s is the default (%s names it); pod profile use "
                                             "another one first, or --force deletes both",
                                             e->selector, path);
                if (unlink(path) < 0 && errno != ENOENT)
                        return pod_error_errno(err, "cannot remove %s", path);
                buf_printf(&note, "%sremoved %s", note.len ? "; " : "", path);
        }
        r = open_profiles_dir(&root, &dir, s, e->source, err);
        if (r < 0)
                return r;
        if (asprintf(&name, "%s.md", e->slug) < 0)
                return pod_error_oom(err);
        /* unlink removes a symlink itself, never what it points to. */
        if (unlinkat(dir, name, 0) < 0)
                return pod_error_errno(err, "cannot delete %s", e->file);
        if (ret_note)
                *ret_note = buf_steal(&note);
        return 0;
}

/* ---- starters --------------------------------------------------------------------------- */

int store_init_starters(
        profile_set *s, profile_source src, char ***ret_written, char ***ret_kept, pod_error *err) {
        _cleanup_close_ int root = -EBADF, dir = -EBADF;
        int r;

        r = open_profiles_dir(&root, &dir, s, src, err);
        if (r < 0)
                return r;
        for (const struct pod_embedded_file *f = pod_starter_profiles; f->name; f++) {
                _cleanup_free_ char *slug = strndup(f->name, strlen(f->name) - 3);
                if (!slug)
                        return pod_error_oom(err);
                r = store_validate(s, src, slug, f->name, f->data, f->size, err);
                if (r < 0)
                        return pod_error_prefix(err, "internal: starter %s: ", f->name);
                r = store_write_file(dir, f->name, f->data, f->size, 0644, STORE_NOREPLACE, err);
                if (r < 0 && r != -EEXIST)
                        return r;
                if (strv_push(r == -EEXIST ? ret_kept : ret_written, slug) < 0)
                        return pod_error_oom(err);
        }
        return 0;
}

/* ---- finding what to change ------------------------------------------------------------- */

int store_find(const profile_entry **out, profile_set *s, const char *text, pod_error *err) {
        const profile_entry *found[8];
        pod_selector sel;
        size_t n;
        int r;

        r = selector_parse(&sel, text, SEL_CONTEXT_CLI, err);
        if (r < 0)
                return r;
        if (sel.kind == SEL_PATH) {
                selector_done(&sel);
                return pod_error_set(err, -EINVAL,
                                     "name a stored profile (source:slug or a slug), "
                                     "not a file");
        }
        if (sel.kind == SEL_DEFAULT)
                *out = profile_set_default(s, NULL);
        else if (sel.kind == SEL_QUALIFIED)
                *out = profile_set_find(s, sel.source, sel.value);
        else {
                n = profile_set_find_slug(s, sel.value, found, POD_ARRAY_SIZE(found));
                *out = n ? found[(n < POD_ARRAY_SIZE(found) ? n : POD_ARRAY_SIZE(found)) - 1] :
                           NULL;
        }
        if (!*out)
                r = profile_set_select(out, s, text, SEL_CONTEXT_CLI, err); /* the error, listed */
        selector_done(&sel);
        return r < 0 ? r : *out ? 0 : pod_error_set(err, -ENOENT, "no profile '%s'", text);
}
