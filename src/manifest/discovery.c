/* SPDX-License-Identifier: MIT */
/*
 * Discovery: every profile visible from a pod cwd, from the builtin, user and project
 * sources (DESIGN §4), with their default pointers. The cwd is always an argument: nothing
 * here reads the process cwd. A broken profile becomes an entry with its error, so one bad
 * file never hides the others.
 */
#include <dirent.h>
#include <fcntl.h>
#include <limits.h>
#include <string.h>
#include <sys/stat.h>

#include "manifest-internal.h"

extern const struct pod_embedded_file pod_builtin_profiles[];

#define DEFAULT_POINTER_MAX 512

static profile_entry *entry_free(profile_entry *e) {
        if (!e)
                return NULL;
        free(e->slug);
        free(e->selector);
        free(e->file);
        profile_free(e->profile);
        free(e->error);
        free(e);
        return NULL;
}

profile_set *profile_set_free(profile_set *s) {
        if (!s)
                return NULL;
        for (size_t i = 0; i < s->n; i++)
                entry_free(s->entries[i]);
        free(s->entries);
        free(s->by_slug);
        free(s->cwd);
        free(s->project_dir);
        free(s->config_dir);
        strv_free(s->diagnostics);
        free(s->def_error);
        free(s->def_origin);
        free(s->def_note);
        for (size_t i = 0; i < POD_ARRAY_SIZE(s->pointer_path); i++)
                free(s->pointer_path[i]);
        free(s);
        return NULL;
}

size_t profile_set_count(const profile_set *s) {
        return s->n;
}

const profile_entry *profile_set_get(const profile_set *s, size_t i) {
        return i < s->n ? s->entries[i] : NULL;
}

const char *profile_set_project_dir(const profile_set *s) {
        return s->project_dir;
}

const char *profile_set_cwd(const profile_set *s) {
        return s->cwd;
}

char *const *profile_set_diagnostics(const profile_set *s) {
        return s->diagnostics;
}

bool profile_set_project_trusted(const profile_set *s) {
        return s->project_trusted;
}

const char *profile_set_default_origin(const profile_set *s) {
        return s->def_origin;
}

const char *profile_set_default_note(const profile_set *s) {
        return s->def_note;
}

const profile_entry *
profile_set_pointer(const profile_set *s, profile_source source, const char **ret_path) {
        size_t i = source == POD_SOURCE_PROJECT ? 1 : 0;

        if (source != POD_SOURCE_USER && source != POD_SOURCE_PROJECT)
                return NULL;
        if (ret_path)
                *ret_path = s->pointer_path[i];
        return s->pointer_entry[i];
}

const profile_entry *profile_set_default(const profile_set *s, const char **ret_error) {
        if (!s->def && ret_error)
                *ret_error = s->def_error;
        return s->def;
}

static int diag(profile_set *s, const char *fmt, ...) _printf_(2, 3);
static int diag(profile_set *s, const char *fmt, ...) {
        char line[POD_ERROR_MAX];
        va_list ap;

        va_start(ap, fmt);
        vsnprintf(line, sizeof(line), fmt, ap);
        va_end(ap);
        return strv_push(&s->diagnostics, line);
}

/* ---- entries --------------------------------------------------------------------------- */

/* Take p (or the error when p is NULL) into a new entry. */
int profile_set_add(profile_set *s,
                    profile_source source,
                    const char *slug,
                    const char *file,
                    pod_profile *p,
                    const pod_error *perr,
                    profile_entry **ret) {
        profile_entry *e;
        pod_buf sel = { 0 };

        if (s->n == s->cap) {
                size_t cap = s->cap ? s->cap * 2 : 32;
                profile_entry **ne = realloc(s->entries, cap * sizeof(*ne));
                if (!ne)
                        return -ENOMEM;
                s->entries = ne;
                s->cap = cap;
        }
        e = calloc(1, sizeof(*e));
        if (!e)
                return -ENOMEM;
        if (source == POD_SOURCE_PATH)
                buf_printf(&sel, "path:%s", file);
        else
                buf_printf(&sel, "%s:%s", source_to_string(source), slug);
        e->source = source;
        e->selector = buf_steal(&sel);
        e->slug = strdup(slug);
        e->file = strdup(file);
        e->error = p ? NULL : strdup(perr->msg);
        if (!e->selector || !e->slug || !e->file || (!p && !e->error)) {
                entry_free(e);
                return -ENOMEM;
        }
        e->profile = p;
        s->entries[s->n++] = e;
        if (ret)
                *ret = e;
        return 0;
}

int profile_set_load_builtin(profile_set *s) {
        for (const struct pod_embedded_file *f = pod_builtin_profiles; f->name; f++) {
                _cleanup_free_ char *slug = strndup(f->name, strlen(f->name) - 3);
                _cleanup_free_ char *file = path_join("<builtin>", f->name);
                pod_profile *p = NULL;
                pod_error err = { 0 };
                int r;

                if (!slug || !file)
                        return -ENOMEM;
                r = profile_parse(&p, POD_SOURCE_BUILTIN, slug, file, f->data, f->size, &err);
                if (r == -ENOMEM)
                        return r;
                r = profile_set_add(s, POD_SOURCE_BUILTIN, slug, file, p, &err, NULL);
                if (r < 0) {
                        profile_free(p);
                        return r;
                }
        }
        return 0;
}

static int cmp_str(const void *a, const void *b) {
        return strcmp(*(char *const *) a, *(char *const *) b);
}

/* The *.md names in a profiles folder, sorted; NULL list when the folder does not exist. */
static int list_profile_files(profile_set *s, int dfd, const char *dir, char ***ret) {
        _cleanup_strv_free_ char **names = NULL;
        DIR *d;
        struct dirent *de;
        size_t n = 0;

        d = fdopendir(dfd);
        if (!d) {
                safe_close(dfd); /* keeps errno */
                return -errno;
        }
        while ((de = readdir(d))) {
                if (de->d_name[0] == '.' || !str_endswith(de->d_name, ".md"))
                        continue;
                if (n >= POD_PROFILES_PER_SOURCE_MAX) {
                        diag(s, "%s: more than %u profiles; the rest are not read", dir,
                             POD_PROFILES_PER_SOURCE_MAX);
                        break;
                }
                if (strv_push(&names, de->d_name) < 0) {
                        closedir(d);
                        return -ENOMEM;
                }
                n++;
        }
        closedir(d);
        if (names)
                qsort(names, n, sizeof(char *), cmp_str);
        *ret = TAKE_PTR(names);
        return 0;
}

static int
load_one_file(profile_set *s, profile_source source, int dfd, const char *dir, const char *name) {
        _cleanup_free_ char *display = path_join(dir, name);
        _cleanup_free_ char *slug = strndup(name, strlen(name) - 3);
        pod_profile *p = NULL;
        pod_error err = { 0 };
        int r;

        if (!display || !slug)
                return -ENOMEM;
        r = profile_load(&p, source, dfd, name, display, &err);
        if (r == -ENOMEM)
                return r;
        r = profile_set_add(s, source, slug, display, p, &err, NULL);
        if (r < 0)
                profile_free(p);
        return r;
}

static int load_dir(profile_set *s, profile_source source, const char *dir) {
        _cleanup_strv_free_ char **names = NULL;
        _cleanup_close_ int dfd = -EBADF;
        int r;

        dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (dfd < 0) {
                if (errno == ENOENT)
                        return 0;
                return diag(s, "%s: cannot read profiles: %s", dir,
                            errno == ELOOP ? "symlink loop" : strerror(errno));
        }
        r = list_profile_files(s, fcntl(dfd, F_DUPFD_CLOEXEC, 3), dir, &names);
        if (r < 0)
                return r == -ENOMEM ? r :
                                      diag(s, "%s: cannot read profiles: %s", dir, strerror(-r));
        STRV_FOREACH(name, names) {
                r = load_one_file(s, source, dfd, dir, *name);
                if (r < 0)
                        return r;
        }
        return 0;
}

/* ---- project dir and default pointers ---------------------------------------------------- */

int project_dir_find(char **ret, const char *cwd) {
        _cleanup_free_ char *dir = strdup(cwd);
        struct stat st;

        if (!dir)
                return -ENOMEM;
        for (;;) {
                _cleanup_free_ char *pod = path_join(dir, ".pod");
                char *parent;

                if (!pod)
                        return -ENOMEM;
                if (stat(pod, &st) == 0 && S_ISDIR(st.st_mode)) {
                        *ret = TAKE_PTR(dir);
                        return 0;
                }
                if (strcmp(dir, "/") == 0)
                        break;
                parent = path_parent(dir);
                if (!parent)
                        return -ENOMEM;
                free(dir);
                dir = parent;
        }
        *ret = NULL;
        return 0;
}

/*
 * What a default pointer names. A symlink to "profiles/<slug>.md" names that slug of its own
 * source; a symlink whose target is a qualified selector ("builtin:default", "user:codex")
 * names a profile of a lower source (readlink shows it as it is). The one-line file form
 * holds a slug or such a selector.
 */
int pointer_parse(profile_source *ret_src,
                  char **ret_slug,
                  const char *path,
                  profile_source own,
                  const char *text,
                  pod_error *err) {
        pod_selector sel;

        if (selector_parse(&sel, text, SEL_CONTEXT_EXTENDS, NULL) < 0)
                return pod_error_set(err, -EINVAL,
                                     "%s: default pointer holds '%s', not a profile slug or "
                                     "source:slug",
                                     path, text);
        *ret_src = sel.kind == SEL_QUALIFIED ? sel.source : own;
        *ret_slug = TAKE_PTR(sel.value);
        if (*ret_src > own) {
                free(*ret_slug);
                *ret_slug = NULL;
                return pod_error_set(err, -EINVAL,
                                     "%s: a %s default pointer may not name a %s profile (%s)",
                                     path, source_to_string(own), source_to_string(*ret_src), text);
        }
        return 0;
}

static int read_pointer(profile_source *ret_src,
                        char **ret_slug,
                        const char *path,
                        profile_source own,
                        pod_error *err) {
        _cleanup_free_ char *text = NULL;
        char target[PATH_MAX];
        const char *name;
        size_t len;
        ssize_t k;
        int r;

        k = readlink(path, target, sizeof(target) - 1);
        if (k >= 0) {
                target[k] = '\0';
                name = path_basename(target);
                if (str_startswith(target, "profiles/") &&
                    !strchr(target + strlen("profiles/"), '/') && str_endswith(name, ".md")) {
                        *ret_src = own;
                        return (*ret_slug = strndup(name, strlen(name) - 3)) ? 0 : -ENOMEM;
                }
                if (strchr(target, ':') && !strchr(target, '/'))
                        return pointer_parse(ret_src, ret_slug, path, own, target, err);
                return pod_error_set(err, -EINVAL,
                                     "%s: default pointer must link to profiles/<slug>.md (or "
                                     "name source:slug), not %s",
                                     path, target);
        }
        if (errno != EINVAL)
                return pod_error_errno(err, "%s", path);
        r = file_read_bounded(&text, &len, AT_FDCWD, path, DEFAULT_POINTER_MAX, err);
        if (r < 0)
                return r;
        if (strlen(text) != len)
                return pod_error_set(err, -EINVAL, "%s: default pointer holds a NUL byte", path);
        while (len > 0 && strchr(" \t\r\n", text[len - 1]))
                text[--len] = '\0';
        return pointer_parse(ret_src, ret_slug, path, own, text, err);
}

/*
 * Read the pointer beside <root>/profiles into s->pointer_*; 1 when one exists (then
 * *ret_error is why it names no usable profile, or NULL), 0 when there is none.
 */
static int
read_one_pointer(profile_set *s, profile_source source, const char *root, char **ret_error) {
        size_t i = source == POD_SOURCE_PROJECT ? 1 : 0;
        _cleanup_free_ char *slug = NULL;
        profile_source src = source;
        pod_error err = { 0 };
        struct stat st;
        int r;

        *ret_error = NULL;
        s->pointer_path[i] = path_join(root, "default-profile");
        if (!s->pointer_path[i])
                return -ENOMEM;
        if (lstat(s->pointer_path[i], &st) < 0) {
                if (errno == ENOENT)
                        return 0;
                r = pod_error_errno(&err, "%s", s->pointer_path[i]);
        } else
                r = read_pointer(&src, &slug, s->pointer_path[i], source, &err);
        if (r == -ENOMEM)
                return r;
        if (r >= 0) {
                s->pointer_entry[i] = profile_set_find(s, src, slug);
                if (!s->pointer_entry[i])
                        r = pod_error_set(&err, -ENOENT,
                                          "%s: default pointer names profile '%s:%s', which does "
                                          "not exist",
                                          s->pointer_path[i], source_to_string(src), slug);
                else if (s->pointer_entry[i]->untrusted)
                        r = pod_error_set(&err, -EACCES,
                                          "%s: default pointer names %s, which is untrusted",
                                          s->pointer_path[i], s->pointer_entry[i]->selector);
        }
        if (r < 0 && !(*ret_error = strdup(err.msg)))
                return -ENOMEM;
        return 1;
}

static int set_origin(profile_set *s, const char *fmt, ...) _printf_(2, 3);
static int set_origin(profile_set *s, const char *fmt, ...) {
        char line[POD_ERROR_MAX];
        va_list ap;

        va_start(ap, fmt);
        vsnprintf(line, sizeof(line), fmt, ap);
        va_end(ap);
        free(s->def_origin);
        s->def_origin = strdup(line);
        return s->def_origin ? 0 : -ENOMEM;
}

/* Apply one source's pointer: 1 when it decides the default (usable or not). */
static int apply_pointer(profile_set *s, profile_source source, const char *root) {
        size_t i = source == POD_SOURCE_PROJECT ? 1 : 0;
        _cleanup_free_ char *why = NULL;
        int r = read_one_pointer(s, source, root, &why);

        if (r <= 0)
                return r;
        if (source == POD_SOURCE_PROJECT && !s->project_trusted) {
                /* A cloned repository's pointer must not pick what the operator runs. */
                pod_buf b = { 0 };
                buf_printf(&b,
                           "the project's default pointer %s is ignored: the project dir %s is "
                           "not trusted (run 'pod trust %s' to use it)",
                           s->pointer_path[i], s->project_dir, s->project_dir);
                s->def_note = buf_steal(&b);
                return s->def_note ? 0 : -ENOMEM;
        }
        if (why) {
                s->def = NULL;
                s->def_error = TAKE_PTR(why);
                return 1;
        }
        s->def = s->pointer_entry[i];
        r = set_origin(s, "the %s's default pointer %s", source_to_string(source),
                       s->pointer_path[i]);
        return r < 0 ? r : 1;
}

static int resolve_default(profile_set *s) {
        _cleanup_free_ char *pod_dir = NULL;
        int r;

        if (s->project_dir) {
                pod_dir = path_join(s->project_dir, ".pod");
                if (!pod_dir)
                        return -ENOMEM;
                r = apply_pointer(s, POD_SOURCE_PROJECT, pod_dir);
                if (r < 0)
                        return r;
        }
        if (s->config_dir) {
                /* Read even when the project's decides: `delete` must know what it names. */
                _cleanup_free_ char *why = NULL;
                r = s->def || s->def_error ?
                        read_one_pointer(s, POD_SOURCE_USER, s->config_dir, &why) :
                        apply_pointer(s, POD_SOURCE_USER, s->config_dir);
                if (r < 0)
                        return r;
        }
        if (s->def || s->def_error)
                return 0;
        s->def = profile_set_find(s, POD_SOURCE_BUILTIN, "default");
        if (!s->def && !(s->def_error = strdup("builtin:default is missing from this build")))
                return -ENOMEM;
        return set_origin(s, "builtin:default (no default pointer)");
}

/* Is the project dir trusted? An unreadable list trusts nothing, and says why. */
static int check_trust(profile_set *s) {
        pod_error err = { 0 };
        int r;

        r = trust_check(&s->project_trusted, s->config_dir, s->project_dir, &err);
        if (r == -ENOMEM)
                return r;
        if (r < 0) {
                s->project_trusted = false;
                return diag(s, "%s; the project's profiles are not trusted", err.msg);
        }
        return 0;
}

/* ---- lookup ---------------------------------------------------------------------------- */

static int cmp_entry(const void *a, const void *b) {
        const profile_entry *x = *(profile_entry *const *) a, *y = *(profile_entry *const *) b;
        int c = strcmp(x->slug, y->slug);

        return c ? c : (int) x->source - (int) y->source;
}

int profile_set_build_index(profile_set *s) {
        s->by_slug = calloc(s->n ? s->n : 1, sizeof(*s->by_slug));
        if (!s->by_slug)
                return -ENOMEM;
        for (size_t i = 0; i < s->n; i++)
                if (s->entries[i]->source != POD_SOURCE_PATH)
                        s->by_slug[s->n_by_slug++] = s->entries[i];
        qsort(s->by_slug, s->n_by_slug, sizeof(*s->by_slug), cmp_entry);
        /* Within one slug, each lower source is shadowed by the highest one that takes
         * effect: an untrusted project profile shadows nothing. */
        for (size_t i = 0; i < s->n_by_slug;) {
                size_t j = i, top;
                while (j + 1 < s->n_by_slug &&
                       strcmp(s->by_slug[j + 1]->slug, s->by_slug[i]->slug) == 0)
                        j++;
                top = j;
                while (top > i && s->by_slug[top]->untrusted)
                        top--;
                for (size_t k = i; k < top; k++)
                        s->by_slug[k]->shadowed_by = s->by_slug[top];
                i = j + 1;
        }
        return 0;
}

/* First index in by_slug with this slug, or n_by_slug. */
static size_t slug_lower_bound(const profile_set *s, const char *slug) {
        size_t lo = 0, hi = s->n_by_slug;

        while (lo < hi) {
                size_t mid = lo + (hi - lo) / 2;
                if (strcmp(s->by_slug[mid]->slug, slug) < 0)
                        lo = mid + 1;
                else
                        hi = mid;
        }
        return lo;
}

const profile_entry *
profile_set_find(const profile_set *s, profile_source source, const char *slug) {
        for (size_t i = slug_lower_bound(s, slug);
             i < s->n_by_slug && strcmp(s->by_slug[i]->slug, slug) == 0; i++)
                if (s->by_slug[i]->source == source)
                        return s->by_slug[i];
        return NULL;
}

size_t profile_set_find_slug(const profile_set *s,
                             const char *slug,
                             const profile_entry **ret,
                             size_t max) {
        size_t n = 0;

        for (size_t i = slug_lower_bound(s, slug);
             i < s->n_by_slug && strcmp(s->by_slug[i]->slug, slug) == 0; i++) {
                if (n < max)
                        ret[n] = s->by_slug[i];
                n++;
        }
        return n;
}

/* ---- extends --------------------------------------------------------------------------- */

static int mark_broken(profile_entry *e, const pod_error *err) {
        e->profile = profile_free(e->profile);
        e->error = strdup(err->msg);
        return e->error ? 0 : -ENOMEM;
}

static int resolve_extends_one(profile_set *s, profile_entry *e, pod_error *err) {
        pod_profile *p = e->profile;
        const profile_entry *b;
        unsigned line = p->origin[PK_EXTENDS].line;
        int r;

        r = profile_set_select(&b, s, p->extends, SEL_CONTEXT_EXTENDS, err);
        if (r < 0)
                return pod_error_prefix(err, "%s:%u: extends: ", p->file, line);
        if (b == e)
                return pod_error_set(err, -ELOOP, "%s:%u: extends cycle: %s extends itself",
                                     p->file, line, e->selector);
        if (b->profile && b->profile->extends) {
                const profile_entry *bb = NULL;
                pod_error ignored = { 0 };
                if (profile_set_select(&bb, s, b->profile->extends, SEL_CONTEXT_EXTENDS,
                                       &ignored) >= 0 &&
                    bb == e)
                        return pod_error_set(err, -ELOOP, "%s:%u: extends cycle: %s -> %s -> %s",
                                             p->file, line, e->selector, b->selector, e->selector);
                return pod_error_set(err, -EINVAL,
                                     "%s:%u: extends: %s itself extends '%s'; extends is one level "
                                     "deep",
                                     p->file, line, b->selector, b->profile->extends);
        }
        if (!b->profile)
                return pod_error_set(err, -EINVAL, "%s:%u: extends: base %s is broken: %s", p->file,
                                     line, b->selector, b->error);
        return profile_apply_base(p, b->profile, b->selector, err);
}

int profile_set_apply_extends(profile_set *s, profile_entry *e) {
        pod_error err = { 0 };
        int r;

        if (!e->profile || !e->profile->extends || e->profile->base_selector)
                return 0;
        r = resolve_extends_one(s, e, &err);
        if (r == -ENOMEM)
                return r;
        return r < 0 ? mark_broken(e, &err) : 0;
}

/*
 * Apply every extends: against the profiles as parsed. Bases that extend something are
 * refused (one level), so the order of application does not matter; the check reads the
 * base's own extends: key, which applying never clears.
 */
int profile_set_resolve_extends(profile_set *s) {
        for (size_t i = 0; i < s->n; i++) {
                int r = profile_set_apply_extends(s, s->entries[i]);
                if (r < 0)
                        return r;
        }
        return 0;
}

int profile_set_discover(profile_set **out,
                         const char *cwd,
                         const char *config_dir,
                         pod_error *err) {
        _cleanup_(profile_set_freep) profile_set *s = NULL;
        _cleanup_free_ char *proj_profiles = NULL, *user_profiles = NULL;
        int r;

        if (!cwd || cwd[0] != '/')
                return pod_error_set(err, -EINVAL, "discovery needs an absolute cwd");
        if (config_dir && config_dir[0] != '/')
                return pod_error_set(err, -EINVAL, "config dir must be absolute");
        s = calloc(1, sizeof(*s));
        if (!s || !(s->cwd = strdup(cwd)) || (config_dir && !(s->config_dir = strdup(config_dir))))
                return pod_error_oom(err);
        r = project_dir_find(&s->project_dir, cwd);
        if (r >= 0)
                r = check_trust(s);
        if (r >= 0)
                r = profile_set_load_builtin(s);
        if (r >= 0 && s->config_dir) {
                user_profiles = path_join(s->config_dir, "profiles");
                r = user_profiles ? load_dir(s, POD_SOURCE_USER, user_profiles) : -ENOMEM;
        }
        if (r >= 0 && s->project_dir) {
                proj_profiles = path_join(s->project_dir, ".pod/profiles");
                r = proj_profiles ? load_dir(s, POD_SOURCE_PROJECT, proj_profiles) : -ENOMEM;
                for (size_t i = 0; r >= 0 && i < s->n; i++)
                        if (s->entries[i]->source == POD_SOURCE_PROJECT)
                                s->entries[i]->untrusted = !s->project_trusted;
        }
        if (r >= 0)
                r = profile_set_build_index(s);
        if (r >= 0)
                r = profile_set_resolve_extends(s);
        if (r >= 0)
                r = resolve_default(s);
        if (r < 0)
                return pod_error_set(err, r, "profile discovery: %s", strerror(-r));
        *out = TAKE_PTR(s);
        return 0;
}

/* Load a profile file named by a path selector into the set (CLI only). */
int profile_set_add_path(const profile_entry **out,
                         profile_set *s,
                         const char *path,
                         pod_error *err) {
        _cleanup_free_ char *canon = NULL;
        const char *base;
        pod_profile *p = NULL;
        profile_entry *e;
        int r;

        r = scope_canonicalize(&canon, path, s->cwd, err);
        if (r < 0)
                return r;
        for (size_t i = 0; i < s->n; i++)
                if (s->entries[i]->source == POD_SOURCE_PATH &&
                    strcmp(s->entries[i]->file, canon) == 0) {
                        *out = s->entries[i];
                        return 0;
                }
        r = profile_load(&p, POD_SOURCE_PATH, AT_FDCWD, canon, canon, err);
        if (r < 0)
                return r;
        base = path_basename(canon);
        r = profile_set_add(s, POD_SOURCE_PATH, p->slug ? p->slug : base, canon, p, err, &e);
        if (r < 0) {
                profile_free(p);
                return pod_error_set(err, r, "out of memory");
        }
        r = profile_set_apply_extends(s, e);
        if (r < 0)
                return pod_error_set(err, r, "out of memory");
        if (!e->profile)
                return pod_error_set(err, -EINVAL, "%s", e->error);
        *out = e;
        return 0;
}
