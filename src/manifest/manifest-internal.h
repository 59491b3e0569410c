/* SPDX-License-Identifier: MIT */
#pragma once

/* Shared inside the manifest module only. */

#include "manifest.h"

typedef struct profile_limit_info {
        const char *name; /* "max_turns" */
        int64_t min, max, def;
} profile_limit_info;

extern const profile_limit_info profile_limits[POD_LIMITS_COUNT];

/* Checks that need only the profile's own keys (name = stem, model and extends syntax). */
int profile_check_own(pod_profile *p, pod_error *err);
/* Checks that need the complete profile (after extends): model present and valid, the
 * legacy executor key, endpoint and key variable consistent with the provider. */
int profile_finalize(pod_profile *p, pod_error *err);

struct profile_set {
        char *cwd;
        char *project_dir;
        char *config_dir;
        profile_entry **entries; /* builtin, user, project (by slug), then path entries */
        size_t n, cap;
        profile_entry **by_slug; /* discovered entries sorted by slug, then source */
        size_t n_by_slug;
        char **diagnostics;
        const profile_entry *def;
        char *def_error;
        char *def_origin; /* which pointer (or none) chose the default, for --explain */
        char *def_note; /* a pointer that was ignored, and why */
        bool project_trusted;
        char *pointer_path[2]; /* user, project: default-profile, if read */
        const profile_entry *pointer_entry[2]; /* what each names, when it exists */
};

/* Take p (or, when p is NULL, perr's message as the reason it is broken) into a new entry. */
int profile_set_add(profile_set *s,
                    profile_source source,
                    const char *slug,
                    const char *file,
                    pod_profile *p,
                    const pod_error *perr,
                    profile_entry **ret);
int profile_set_load_builtin(profile_set *s);
/* Index by slug and mark shadowed entries; then apply every extends:. */
int profile_set_build_index(profile_set *s);
int profile_set_resolve_extends(profile_set *s);

/* Entries with this slug (any discovered source); returns the count, fills up to max. */
size_t profile_set_find_slug(const profile_set *s,
                             const char *slug,
                             const profile_entry **ret,
                             size_t max);
/* Apply extends: to one entry (marks it broken on failure); -ENOMEM only. */
int profile_set_apply_extends(profile_set *s, profile_entry *e);
/* Load the profile file a path selector names into the set. */
int profile_set_add_path(const profile_entry **out,
                         profile_set *s,
                         const char *path,
                         pod_error *err);

/* The untrusted refusal for an entry of an untrusted project (-EACCES). */
int profile_untrusted_error(const profile_set *s, const profile_entry *e, pod_error *err);
