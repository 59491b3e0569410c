/* SPDX-License-Identifier: MIT */
/*
 * Selectors (DESIGN §5): how a user, an agent or a profile's `extends` names a profile.
 * Every selector error ends with the compact list of available selectors, produced by the
 * one formatter the SpawnPod description also uses, so an agent always sees what it may
 * ask for.
 */
#include <string.h>

#include "manifest-internal.h"

#define SELECTOR_LIST_BYTES 1200u

static bool is_path_form(const char *t) {
        return str_startswith(t, "path:") || strchr(t, '/') || t[0] == '.' ||
                str_endswith(t, ".md");
}

static const char *context_accepts(selector_context ctx) {
        switch (ctx) {
        case SEL_CONTEXT_CLI:
                return "default, source:slug (builtin:, user:, project:), a slug, or path:FILE";
        case SEL_CONTEXT_SPAWN:
                return "default, inherit, source:slug (builtin:, user:, project:) or a slug";
        case SEL_CONTEXT_EXTENDS:
                return "source:slug (builtin:, user:, project:) or a slug";
        }
        return "";
}

static int refuse(selector_context ctx, const char *text, const char *why, pod_error *err) {
        return pod_error_set(err, -EINVAL, "profile selector '%s': %s; accepted here: %s", text,
                             why, context_accepts(ctx));
}

static int
parse_special(pod_selector *out, const char *text, selector_context ctx, pod_error *err) {
        if (strcmp(text, "default") == 0) {
                if (ctx == SEL_CONTEXT_EXTENDS)
                        return refuse(ctx, text, "extends must name its base profile", err);
                *out = (pod_selector){ .kind = SEL_DEFAULT };
                return 1;
        }
        if (strcmp(text, "inherit") == 0) {
                if (ctx == SEL_CONTEXT_CLI)
                        return refuse(ctx, text,
                                      "inherit is only for SpawnPod, where it derives a child "
                                      "from the spawning pod",
                                      err);
                if (ctx == SEL_CONTEXT_EXTENDS)
                        return refuse(ctx, text, "extends must name its base profile", err);
                *out = (pod_selector){ .kind = SEL_INHERIT };
                return 1;
        }
        return 0;
}

static int parse_path(pod_selector *out, const char *text, selector_context ctx, pod_error *err) {
        const char *p = str_startswith(text, "path:") ? text + 5 : text;
        char *v;

        if (ctx == SEL_CONTEXT_SPAWN)
                return refuse(ctx, text,
                              "SpawnPod does not take profile files; name a discovered profile",
                              err);
        if (ctx == SEL_CONTEXT_EXTENDS)
                return refuse(ctx, text, "extends does not take profile files", err);
        if (!*p)
                return refuse(ctx, text, "the path is empty", err);
        v = strdup(p);
        if (!v)
                return pod_error_oom(err);
        *out = (pod_selector){ .kind = SEL_PATH, .value = v };
        return 0;
}

static int parse_named(pod_selector *out, const char *text, selector_context ctx, pod_error *err) {
        static const profile_source named[] = { POD_SOURCE_BUILTIN, POD_SOURCE_USER,
                                                POD_SOURCE_PROJECT };
        const char *colon = strchr(text, ':');
        const char *slug = colon ? colon + 1 : text;
        selector_kind kind = colon ? SEL_QUALIFIED : SEL_SLUG;
        profile_source source = POD_SOURCE_BUILTIN;
        bool known = !colon;
        char *v;

        for (size_t i = 0; colon && i < POD_ARRAY_SIZE(named); i++) {
                const char *name = source_to_string(named[i]);
                if (strlen(name) == (size_t) (colon - text) && str_startswith(text, name)) {
                        source = named[i];
                        known = true;
                }
        }
        if (!known)
                return refuse(ctx, text, "unknown source (use builtin:, user: or project:)", err);
        if (!slug_valid(slug))
                return refuse(ctx, text, "not a valid slug ([a-z0-9][a-z0-9._-]{0,63})", err);
        v = strdup(slug);
        if (!v)
                return pod_error_oom(err);
        *out = (pod_selector){ .kind = kind, .source = source, .value = v };
        return 0;
}

int selector_parse(pod_selector *out, const char *text, selector_context ctx, pod_error *err) {
        int r;

        if (!text || !*text)
                return refuse(ctx, "", "the selector is empty", err);
        if (strlen(text) > POD_SELECTOR_MAX)
                return pod_error_set(err, -E2BIG, "profile selector is over %u bytes",
                                     POD_SELECTOR_MAX);
        if (!utf8_valid(text, strlen(text)) || strpbrk(text, "\n\r\t"))
                return refuse(ctx, "?", "the selector is not one line of UTF-8 text", err);
        r = parse_special(out, text, ctx, err);
        if (r != 0)
                return r < 0 ? r : 0;
        if (is_path_form(text))
                return parse_path(out, text, ctx, err);
        return parse_named(out, text, ctx, err);
}

void selector_done(pod_selector *s) {
        free(s->value);
        s->value = NULL;
}

/* ---- the list of available selectors ----------------------------------------------------- */

static const char *special_note(selector_context ctx) {
        switch (ctx) {
        case SEL_CONTEXT_CLI:
                return "; also accepted: default, path:FILE (inherit is accepted by SpawnPod only)";
        case SEL_CONTEXT_SPAWN:
                return "; also accepted: default, inherit";
        case SEL_CONTEXT_EXTENDS:
                return "";
        }
        return "";
}

/* Appended piece by piece, not with a format: the SpawnPod description labels every profile
 * at every pod start, and two vsnprintf passes per label were a sixth of its time. */
int selector_entry_label(pod_buf *b, const profile_set *s, const profile_entry *e) {
        buf_puts(b, e->selector);
        if (e == profile_set_default(s, NULL))
                buf_puts(b, " (default)");
        buf_puts(b, e->untrusted ? " (untrusted)" : e->profile ? "" : " (broken)");
        return b->oom ? -ENOMEM : 0;
}

int selector_format_available(pod_buf *b,
                              const profile_set *s,
                              selector_context ctx,
                              size_t max_bytes) {
        size_t start = b->len, listed = 0, total = 0;

        buf_puts(b, "available profiles: ");
        for (size_t i = 0; i < profile_set_count(s); i++) {
                const profile_entry *e = profile_set_get(s, i);
                size_t before = b->len;

                if (e->source == POD_SOURCE_PATH)
                        continue;
                total++;
                if (b->len - start > max_bytes)
                        continue;
                if (listed)
                        buf_puts(b, ", ");
                selector_entry_label(b, s, e);
                if (b->len - start > max_bytes) {
                        b->len = before; /* does not fit: count it instead */
                        b->data[b->len] = '\0';
                        continue;
                }
                listed++;
        }
        if (listed < total)
                buf_printf(b, "%sand %zu more (pod profile list)", listed ? ", " : "",
                           total - listed);
        buf_puts(b, special_note(ctx));
        return b->oom ? -ENOMEM : 0;
}

/* The usable selector nearest to what was written, when one is near; NULL otherwise. */
static const char *closest(const profile_set *s, const char *text) {
        const char *slug = strchr(text, ':') ? strchr(text, ':') + 1 : text;
        const profile_entry *best = NULL;
        size_t best_d = 3 + strlen(slug) / 4;

        for (size_t i = 0; i < profile_set_count(s); i++) {
                const profile_entry *e = profile_set_get(s, i);
                size_t d;
                if (e->source == POD_SOURCE_PATH || e->untrusted || !e->profile)
                        continue;
                d = str_edit_distance(text, e->selector);
                if (str_edit_distance(slug, e->slug) < d)
                        d = str_edit_distance(slug, e->slug);
                /* Among equals, the highest source (the one a bare slug means). */
                if (d < best_d ||
                    (best && d == best_d && e->source > best->source &&
                     strcmp(e->slug, best->slug) == 0)) {
                        best = e;
                        best_d = d;
                }
        }
        return best && strcmp(best->selector, text) != 0 ? best->selector : NULL;
}

static int
fail_with_list(const profile_set *s, const char *text, selector_context ctx, pod_error *err) {
        _cleanup_buf_ pod_buf b = { 0 };
        char msg[POD_ERROR_MAX];
        const char *near = text ? closest(s, text) : NULL;

        if (!err)
                return -EINVAL;
        if (near)
                buf_printf(&b, "did you mean %s? ", near);
        if (selector_format_available(&b, s, ctx, SELECTOR_LIST_BYTES) < 0)
                return err->code;
        memcpy(msg, err->msg, sizeof(msg));
        return pod_error_set(err, err->code, "%s; %s", msg, buf_str(&b));
}

int profile_untrusted_error(const profile_set *s, const profile_entry *e, pod_error *err) {
        const char *dir = s->project_dir ? s->project_dir : "the project dir";

        return pod_error_set(err, -EACCES,
                             "profile %s is untrusted: the project dir %s is not trusted, so its "
                             "profiles and default pointer take no effect; run 'pod trust %s' to "
                             "use them",
                             e->selector, dir, dir);
}

/* ---- resolution ------------------------------------------------------------------------ */

/* A bare slug: the highest source that has it (project > user > builtin, DESIGN §5); an
 * untrusted project's profile takes no effect, so it wins only when nothing else has it. */
static int
select_slug(const profile_entry **out, const profile_set *s, const char *slug, pod_error *err) {
        const profile_entry *found[8];
        size_t n = profile_set_find_slug(s, slug, found, POD_ARRAY_SIZE(found));

        if (n == 0)
                return pod_error_set(err, -ENOENT, "no profile named '%s'", slug);
        if (n > POD_ARRAY_SIZE(found))
                n = POD_ARRAY_SIZE(found);
        for (size_t i = n; i-- > 0;)
                if (!found[i]->untrusted) {
                        *out = found[i];
                        return 0;
                }
        return profile_untrusted_error(s, found[n - 1], err);
}

static int
select_parsed(const profile_entry **out, profile_set *s, const pod_selector *sel, pod_error *err) {
        const char *why = NULL;

        switch (sel->kind) {
        case SEL_DEFAULT:
                *out = profile_set_default(s, &why);
                if (!*out)
                        return pod_error_set(err, -ENOENT, "%s", why);
                return 0;
        case SEL_QUALIFIED:
                *out = profile_set_find(s, sel->source, sel->value);
                if (!*out)
                        return pod_error_set(err, -ENOENT, "no profile '%s:%s'",
                                             source_to_string(sel->source), sel->value);
                return (*out)->untrusted ? profile_untrusted_error(s, *out, err) : 0;
        case SEL_SLUG:
                return select_slug(out, s, sel->value, err);
        case SEL_PATH:
                return profile_set_add_path(out, s, sel->value, err);
        case SEL_INHERIT:
                break;
        }
        *out = NULL;
        return 1;
}

int profile_set_select(const profile_entry **out,
                       profile_set *s,
                       const char *text,
                       selector_context ctx,
                       pod_error *err) {
        const profile_entry *e = NULL;
        pod_selector sel;
        int r;

        r = selector_parse(&sel, text, ctx, err);
        if (r < 0)
                return fail_with_list(s, text, ctx, err);
        r = select_parsed(&e, s, &sel, err);
        selector_done(&sel);
        if (r == -EACCES)
                return r; /* untrusted: the error names the command to run */
        if (r < 0)
                return sel.kind == SEL_PATH ? r : fail_with_list(s, text, ctx, err);
        if (r > 0) {
                *out = NULL;
                return 1;
        }
        if (!e->profile && ctx != SEL_CONTEXT_EXTENDS)
                return pod_error_set(err, -EINVAL, "profile %s is broken: %s", e->selector,
                                     e->error);
        *out = e;
        return 0;
}
