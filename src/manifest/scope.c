/* SPDX-License-Identifier: MIT */
/*
 * Scope (DESIGN §7): which files a pod may read and write, and the rules of delegation.
 * Everything here is a pure function of its arguments except scope_canonicalize(), which
 * asks the filesystem where symlinks point. A child's scope is exactly what was requested,
 * or the request is refused with the rule and the term that refused it: nothing is
 * silently clamped.
 */
#include <limits.h>
#include <stdint.h>
#include <string.h>
#include <sys/stat.h>

#include "manifest.h"

#define SYMLINK_MAX_FOLLOW 40

/* ---- canonicalisation ------------------------------------------------------------------ */

/* Replace *resolved by its parent ("/" stays "/"). */
static int pop_component(pod_buf *resolved) {
        char *slash = strrchr(resolved->data, '/');

        resolved->len = slash == resolved->data ? 1 : (size_t) (slash - resolved->data);
        resolved->data[resolved->len] = '\0';
        return 0;
}

static int push_component(pod_buf *resolved, const char *comp, size_t n) {
        if (resolved->len > 1)
                buf_puts(resolved, "/");
        return buf_append(resolved, comp, n);
}

/* Prepend a symlink target to the unprocessed rest of the path. */
static int splice_link(pod_buf *rest, const char *target, const char *after) {
        pod_buf n = { 0 };

        buf_puts(&n, target);
        buf_puts(&n, "/");
        buf_puts(&n, after);
        if (n.oom) {
                buf_done(&n);
                return -ENOMEM;
        }
        buf_done(rest);
        *rest = n;
        return 0;
}

/* Follow one component; *ret_link is set when it was a symlink (rest was rewritten). */
static int walk_component(pod_buf *resolved,
                          pod_buf *rest,
                          const char *comp,
                          size_t n,
                          const char *after,
                          unsigned *links,
                          const char *orig,
                          pod_error *err) {
        char target[PATH_MAX];
        struct stat st;
        ssize_t k;

        push_component(resolved, comp, n);
        if (resolved->oom)
                return pod_error_oom(err);
        if (lstat(resolved->data, &st) < 0) {
                if (errno == ENOENT)
                        return 0; /* a missing tail resolves lexically from here */
                if (errno == ENOTDIR)
                        return pod_error_set(err, -ENOTDIR,
                                             "%s: a component of the path is not a directory",
                                             orig);
                return pod_error_errno(err, "%s: %s", orig, resolved->data);
        }
        if (!S_ISLNK(st.st_mode))
                return 0;
        if (++*links > SYMLINK_MAX_FOLLOW)
                return pod_error_set(err, -ELOOP, "%s: too many levels of symlinks", orig);
        k = readlink(resolved->data, target, sizeof(target) - 1);
        if (k < 0)
                return pod_error_errno(err, "%s: %s", orig, resolved->data);
        target[k] = '\0';
        if (target[0] == '/') {
                resolved->len = 1;
                resolved->data[1] = '\0';
        } else
                pop_component(resolved);
        if (splice_link(rest, target, after) < 0)
                return pod_error_oom(err);
        return 1;
}

static int canonicalize_walk(pod_buf *resolved, pod_buf *rest, const char *orig, pod_error *err) {
        unsigned links = 0;
        size_t pos = 0;
        int r;

        while (pos < rest->len) {
                const char *comp = rest->data + pos;
                size_t n = strcspn(comp, "/");

                pos += n + (comp[n] == '/');
                if (n == 0 || (n == 1 && comp[0] == '.'))
                        continue;
                if (n == 2 && comp[0] == '.' && comp[1] == '.') {
                        pop_component(resolved);
                        continue;
                }
                r = walk_component(resolved, rest, comp, n, rest->data + pos, &links, orig, err);
                if (r < 0)
                        return r;
                if (r > 0)
                        pos = 0; /* rest now starts with the link target */
        }
        return 0;
}

int scope_canonicalize(char **out, const char *path, const char *base, pod_error *err) {
        _cleanup_buf_ pod_buf resolved = { 0 }, rest = { 0 };
        int r;

        if (!path || !*path)
                return pod_error_set(err, -EINVAL, "empty path");
        if (strlen(path) >= PATH_MAX)
                return pod_error_set(err, -ENAMETOOLONG, "path is over %d bytes", PATH_MAX - 1);
        if (path[0] != '/') {
                if (!base || base[0] != '/')
                        return pod_error_set(err, -EINVAL, "%s: path must be absolute", path);
                buf_puts(&rest, base);
                buf_puts(&rest, "/");
        }
        buf_puts(&rest, path);
        buf_puts(&resolved, "/");
        if (rest.oom || resolved.oom)
                return pod_error_oom(err);
        r = canonicalize_walk(&resolved, &rest, path, err);
        if (r < 0)
                return r;
        if (resolved.len >= PATH_MAX)
                return pod_error_set(err, -ENAMETOOLONG, "%s: resolved path is too long", path);
        *out = buf_steal(&resolved);
        return *out ? 0 : pod_error_oom(err);
}

/* ---- strings --------------------------------------------------------------------------- */

const char *access_to_string(pod_access a) {
        switch (a) {
        case POD_ACCESS_NONE:
                return "none";
        case POD_ACCESS_READ:
                return "read";
        case POD_ACCESS_WRITE:
                return "write";
        }
        return "invalid";
}

int access_from_string(pod_access *out, const char *s) {
        for (pod_access a = POD_ACCESS_NONE; a <= POD_ACCESS_WRITE; a++)
                if (strcmp(s, access_to_string(a)) == 0) {
                        *out = a;
                        return 0;
                }
        return -EINVAL;
}

/* ---- rules and sets -------------------------------------------------------------------- */

void scope_rule_done(scope_rule *r) {
        free(r->path);
        r->path = NULL;
}

void scope_done(pod_scope *s) {
        for (size_t i = 0; i < s->n_allow; i++)
                scope_rule_done(&s->allow[i]);
        for (size_t i = 0; i < s->n_deny; i++)
                scope_rule_done(&s->deny[i]);
        free(s->allow);
        free(s->deny);
        *s = (pod_scope){ 0 };
}

int scope_add(pod_scope *s,
              bool deny,
              const char *path,
              pod_access access,
              bool recursive,
              pod_error *err) {
        scope_rule **rules = deny ? &s->deny : &s->allow;
        size_t *n = deny ? &s->n_deny : &s->n_allow;
        scope_rule *nr;
        char *p;

        if (*n >= POD_SCOPE_RULES_MAX)
                return pod_error_set(err, -E2BIG, "scope has more than %u %s rules",
                                     POD_SCOPE_RULES_MAX, deny ? "deny" : "allow");
        p = strdup(path);
        nr = p ? realloc(*rules, (*n + 1) * sizeof(scope_rule)) : NULL;
        if (!nr) {
                free(p);
                return pod_error_oom(err);
        }
        nr[*n] = (scope_rule){ .path = p, .access = access, .recursive = recursive };
        *rules = nr;
        (*n)++;
        return 0;
}

int scope_copy(pod_scope *out, const pod_scope *s, pod_error *err) {
        pod_scope c = { 0 };
        int r = 0;

        for (size_t i = 0; r >= 0 && i < s->n_allow; i++)
                r = scope_add(&c, false, s->allow[i].path, s->allow[i].access,
                              s->allow[i].recursive, err);
        for (size_t i = 0; r >= 0 && i < s->n_deny; i++)
                r = scope_add(&c, true, s->deny[i].path, s->deny[i].access, s->deny[i].recursive,
                              err);
        if (r < 0) {
                scope_done(&c);
                return r;
        }
        *out = c;
        return 0;
}

bool scope_rule_matches(const scope_rule *r, const char *path) {
        return r->recursive ? path_is_under(path, r->path) : strcmp(path, r->path) == 0;
}

/* Cap imposed by one matching deny rule. */
static pod_access deny_cap(const scope_rule *d) {
        return d->access == POD_ACCESS_WRITE ? POD_ACCESS_READ : POD_ACCESS_NONE;
}

/* A deny rule caps its whole tree, as the sandbox's holes do, whatever its `recursive`. */
pod_access scope_access_at(const pod_scope *s, const char *path) {
        pod_access best = POD_ACCESS_NONE;

        for (size_t i = 0; i < s->n_allow; i++)
                if (scope_rule_matches(&s->allow[i], path) && s->allow[i].access > best)
                        best = s->allow[i].access;
        for (size_t i = 0; i < s->n_deny; i++)
                if (path_is_under(path, s->deny[i].path) && deny_cap(&s->deny[i]) < best)
                        best = deny_cap(&s->deny[i]);
        return best;
}

/*
 * The access the spawner holds on every path below path (path included): the union of its
 * recursive allow rules at or above it, capped by its deny rules at or above it.
 * Rules strictly inside path cover only part of the subtree, so they cannot count; deny
 * rules strictly inside are inherited by the child instead of refusing the request.
 */
static pod_access subtree_access(const pod_scope *s, const char *path) {
        pod_access best = POD_ACCESS_NONE;

        for (size_t i = 0; i < s->n_allow; i++)
                if (s->allow[i].recursive && path_is_under(path, s->allow[i].path) &&
                    s->allow[i].access > best)
                        best = s->allow[i].access;
        for (size_t i = 0; i < s->n_deny; i++)
                if (path_is_under(path, s->deny[i].path) && deny_cap(&s->deny[i]) < best)
                        best = deny_cap(&s->deny[i]);
        return best;
}

/*
 * Overlap is judged as the kernel grants, not as `recursive` reads: a Landlock rule on a
 * directory covers its whole tree, and nothing lies beneath a file, so every rule counts
 * as its tree here. That is exact for files and directories alike, and fails closed for a
 * path that does not exist yet (it may become a directory).
 */
bool scope_rules_overlap(const char *a, const char *b) {
        return path_is_under(a, b) || path_is_under(b, a);
}

int scope_rule_check_file(const scope_rule *q, pod_error *err) {
        struct stat st;

        if (q->recursive)
                return 0;
        if (lstat(q->path, &st) < 0) {
                int e = errno;
                return pod_error_set(err, -e, "recursive: false names one existing file, and %s %s",
                                     q->path, e == ENOENT ? "does not exist" : strerror(e));
        }
        if (S_ISDIR(st.st_mode))
                return pod_error_set(err, -EISDIR,
                                     "recursive: false names one file, and %s is a directory: "
                                     "the kernel grants a directory with everything beneath it "
                                     "(omit recursive, or name the files)",
                                     q->path);
        /* A rule is on the inode: a second name would take the grant beyond this path, into
         * another pod's lease or a deny rule, which the checks compare by path (the file
         * tools write no such file either). */
        if (!S_ISDIR(st.st_mode) && st.st_nlink > 1)
                return pod_error_set(err, -EMLINK,
                                     "recursive: false names one file, and %s has %ju hard links: "
                                     "the kernel would grant every name of it",
                                     q->path, (uintmax_t) st.st_nlink);
        return 0;
}

int scope_rule_parse(scope_rule *out, const char *text, const char *base, pod_error *err) {
        const char *colon = strchr(text, ':');
        _cleanup_free_ char *kind = NULL;
        pod_access access;
        char *path;
        int r;

        if (!colon)
                return pod_error_set(err, -EINVAL,
                                     "scope rule '%s': expected read:PATH or write:PATH", text);
        kind = strndup(text, (size_t) (colon - text));
        if (!kind)
                return pod_error_oom(err);
        if (access_from_string(&access, kind) < 0 || access == POD_ACCESS_NONE)
                return pod_error_set(err, -EINVAL,
                                     "scope rule '%s': access must be read or write, not '%s'",
                                     text, kind);
        r = scope_canonicalize(&path, colon + 1, base, err);
        if (r < 0)
                return pod_error_prefix(err, "scope rule '%s': ", text);
        *out = (scope_rule){ .path = path, .access = access, .recursive = true };
        return 0;
}

/* ---- delegation ------------------------------------------------------------------------ */

static int check_rule_shape(const scope_rule *q, pod_error *err) {
        if (!q->path || q->path[0] != '/')
                return pod_error_set(err, -EINVAL, "scope rule path '%s' is not absolute",
                                     q->path ? q->path : "");
        if (q->access != POD_ACCESS_READ && q->access != POD_ACCESS_WRITE)
                return pod_error_set(err, -EINVAL, "scope rule %s: access must be read or write",
                                     q->path);
        return 0;
}

int scope_lease_check(const scope_rule *q,
                      const scope_lease *leases,
                      size_t n_leases,
                      pod_error *err) {
        for (size_t i = 0; q->access == POD_ACCESS_WRITE && i < n_leases; i++)
                if (scope_rules_overlap(q->path, leases[i].path))
                        return pod_error_set(
                                err, -EBUSY,
                                "scope rule write:%s refused: overlaps the write lease "
                                "pod '%s' holds on %s",
                                q->path, leases[i].holder, leases[i].path);
        return 0;
}

static int check_one_request(const pod_scope *spawner,
                             pod_access ceiling,
                             const scope_lease *leases,
                             size_t n_leases,
                             const scope_rule *q,
                             pod_error *err) {
        const char *acc = access_to_string(q->access);
        pod_access have;
        int r;

        r = check_rule_shape(q, err);
        if (r < 0)
                return r;
        have = scope_access_at(spawner, q->path);
        if (q->recursive) {
                pod_access sub = subtree_access(spawner, q->path);
                if (sub < have)
                        have = sub;
        }
        if (have < q->access)
                return pod_error_set(err, -EACCES,
                                     "scope rule %s:%s refused: not covered by the spawner's scope "
                                     "(the spawner has %s access there)",
                                     acc, q->path,
                                     have == POD_ACCESS_NONE ? "no" : access_to_string(have));
        if (q->access > ceiling)
                return pod_error_set(err, -EACCES,
                                     "scope rule %s:%s refused: exceeds the child profile's scope "
                                     "ceiling '%s'",
                                     acc, q->path, access_to_string(ceiling));
        return scope_lease_check(q, leases, n_leases, err);
}

int scope_delegate(pod_scope *out,
                   const pod_scope *spawner,
                   pod_access ceiling,
                   const scope_lease *leases,
                   size_t n_leases,
                   const scope_rule *req,
                   size_t n_req,
                   pod_error *err) {
        pod_scope child = { 0 };
        int r;

        if (n_req > POD_SCOPE_RULES_MAX)
                return pod_error_set(err, -E2BIG, "scope has %zu rules; at most %u are allowed",
                                     n_req, POD_SCOPE_RULES_MAX);
        for (size_t i = 0; i < n_req; i++) {
                r = check_one_request(spawner, ceiling, leases, n_leases, &req[i], err);
                if (r < 0)
                        return r;
        }
        for (size_t i = 0; i < n_req; i++) {
                r = scope_add(&child, false, req[i].path, req[i].access, req[i].recursive, err);
                if (r < 0)
                        goto fail;
        }
        /* The spawner's deny rules that touch a granted path follow the grant. */
        for (size_t d = 0; d < spawner->n_deny; d++) {
                const scope_rule *dr = &spawner->deny[d];
                for (size_t i = 0; i < n_req; i++) {
                        if (!scope_rules_overlap(dr->path, req[i].path))
                                continue;
                        r = scope_add(&child, true, dr->path, dr->access, true, err);
                        if (r < 0)
                                goto fail;
                        break;
                }
        }
        *out = child;
        return 0;
fail:
        scope_done(&child);
        return r;
}

int scope_top_level(pod_scope *out,
                    const char *cwd,
                    pod_access ceiling,
                    const scope_rule *extra,
                    size_t n_extra,
                    pod_error *err) {
        pod_scope s = { 0 };
        int r = 0;

        if (!cwd || cwd[0] != '/')
                return pod_error_set(err, -EINVAL, "cwd must be an absolute path");
        if (ceiling != POD_ACCESS_NONE)
                r = scope_add(&s, false, cwd, ceiling, true, err);
        for (size_t i = 0; r >= 0 && i < n_extra; i++) {
                r = check_rule_shape(&extra[i], err);
                if (r >= 0 && extra[i].access > ceiling)
                        r = pod_error_set(err, -EACCES,
                                          "scope rule %s:%s refused: exceeds the profile's scope "
                                          "ceiling '%s'",
                                          access_to_string(extra[i].access), extra[i].path,
                                          access_to_string(ceiling));
                if (r >= 0)
                        r = scope_add(&s, false, extra[i].path, extra[i].access, extra[i].recursive,
                                      err);
        }
        if (r < 0) {
                scope_done(&s);
                return r;
        }
        *out = s;
        return 0;
}

/* ---- JSON ------------------------------------------------------------------------------ */

static json_t *rules_to_json(const scope_rule *rules, size_t n) {
        json_t *a = json_array();

        for (size_t i = 0; a && i < n; i++)
                json_array_append_new(a,
                                      json_pack("{s:s, s:s, s:b}", "path", rules[i].path, "access",
                                                access_to_string(rules[i].access), "recursive",
                                                rules[i].recursive));
        return a;
}

json_t *scope_to_json(const pod_scope *s) {
        return json_pack("{s:o, s:o}", "allow", rules_to_json(s->allow, s->n_allow), "deny",
                         rules_to_json(s->deny, s->n_deny));
}

/* An absolute path with no ".", "..", empty components or trailing slash. */
static bool path_is_normal(const char *p) {
        if (p[0] != '/' || strlen(p) >= PATH_MAX)
                return false;
        if (strcmp(p, "/") == 0)
                return true;
        for (const char *c = p; *c;) {
                size_t n;
                c++; /* skip '/' */
                n = strcspn(c, "/");
                if (n == 0 || (n == 1 && c[0] == '.') || (n == 2 && c[0] == '.' && c[1] == '.'))
                        return false;
                c += n;
        }
        return true;
}

static int rule_from_json(
        pod_scope *s, bool deny, const json_t *j, const char *what, size_t idx, pod_error *err) {
        const char *kind = deny ? "deny" : "allow";
        const char *path = NULL, *access = NULL;
        int recursive = 1;
        pod_access a;
        json_error_t jerr;

        if (json_unpack_ex((json_t *) j, &jerr, JSON_STRICT, "{s:s, s:s, s?b}", "path", &path,
                           "access", &access, "recursive", &recursive) < 0)
                return pod_error_set(err, -EINVAL, "%s: scope.%s[%zu]: %s", what, kind, idx,
                                     jerr.text);
        if (!path_is_normal(path))
                return pod_error_set(err, -EINVAL,
                                     "%s: scope.%s[%zu]: path must be absolute and canonical", what,
                                     kind, idx);
        if (access_from_string(&a, access) < 0 || a == POD_ACCESS_NONE)
                return pod_error_set(err, -EINVAL,
                                     "%s: scope.%s[%zu]: access must be read or write", what, kind,
                                     idx);
        if (deny && !recursive) /* the sandbox's holes, like the kernel, deny whole trees */
                return pod_error_set(err, -EINVAL,
                                     "%s: scope.deny[%zu]: a deny rule covers its whole tree; "
                                     "recursive: false is refused",
                                     what, idx);
        return scope_add(s, deny, path, a, recursive, err);
}

static int
rules_from_json(pod_scope *s, bool deny, const json_t *arr, const char *what, pod_error *err) {
        const char *kind = deny ? "deny" : "allow";
        size_t i;
        json_t *v;
        int r;

        if (!json_is_array(arr))
                return pod_error_set(err, -EINVAL, "%s: scope.%s must be an array", what, kind);
        if (json_array_size(arr) > POD_SCOPE_RULES_MAX)
                return pod_error_set(err, -E2BIG, "%s: scope.%s has more than %u rules", what, kind,
                                     POD_SCOPE_RULES_MAX);
        json_array_foreach(arr, i, v) {
                r = rule_from_json(s, deny, v, what, i, err);
                if (r < 0)
                        return r;
        }
        return 0;
}

int scope_from_json(pod_scope *out, const json_t *j, const char *what, pod_error *err) {
        pod_scope s = { 0 };
        json_t *allow = NULL, *deny = NULL;
        json_error_t jerr;
        int r;

        if (json_unpack_ex((json_t *) j, &jerr, JSON_STRICT, "{s:o, s:o}", "allow", &allow, "deny",
                           &deny) < 0)
                return pod_error_set(err, -EINVAL, "%s: scope: %s", what, jerr.text);
        r = rules_from_json(&s, false, allow, what, err);
        if (r >= 0)
                r = rules_from_json(&s, true, deny, what, err);
        if (r < 0) {
                scope_done(&s);
                return r;
        }
        *out = s;
        return 0;
}

void lease_list_free(scope_lease *l, size_t n) {
        for (size_t i = 0; i < n; i++) {
                free((char *) l[i].path);
                free((char *) l[i].holder);
        }
        free(l);
}
