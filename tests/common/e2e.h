/* SPDX-License-Identifier: MIT */
#pragma once

/*
 * Helpers for the end-to-end suites (tests/e2e): script-model profiles that play a model,
 * runs of the real pod binary, and reading back their transcripts and registry.
 */

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "e2e-mock.h"
#include "testutil.h"

/*
 * text with every @P replaced by e's project dir, every @R by its runtime dir and every
 * @L by loop (itself filled; NULL: @L stays). Caller frees.
 */
char *e2e_fill(const tu_env *e, const char *text, const char *loop);

/* How e2e_profile writes a profile; all zero (or NULL): the usual. */
typedef struct e2e_profile_opts {
        bool undescribed; /* no "description: <slug>" line */
        const char *prompt; /* the profile's prompt; NULL: "You are <slug>." */
        const char *loop; /* what @L stands for in the script (e2e_fill) */
        bool user; /* a user profile (in the config dir) instead of the project's */
} e2e_profile_opts;

/*
 * A script-model profile slug in e's project's .pod/profiles: slug.json holds script
 * (e2e_fill'd), slug.md its front matter (description, model script:slug.json, then front) and its
 * prompt.
 */
void e2e_profile(const tu_env *e,
                 const e2e_profile_opts *o,
                 const char *slug,
                 const char *front,
                 const char *script);

/* Run pod --profile sel go in the project; it must exit 0. */
void e2e_run_ok(const tu_env *e, const char *sel);

/* The events (a JSON array) of the transcript at path; each line must be JSON. */
json_t *e2e_events_of(const char *path);
/* The events of the one transcript matching pattern (relative to the data dir). */
json_t *e2e_transcript_at(const tu_env *e, const char *pattern);
/* The events of the one top-level run's transcript (child NULL), or of one of its children. */
json_t *e2e_transcript(const tu_env *e, const char *child);

/* The nth event of a type (and tool name, when not NULL) in events; NULL when none. */
json_t *e2e_find_event(json_t *events, const char *type, const char *name, size_t nth);
/* The text of the nth result of tool name in events (its ok flag through *ok, if not NULL). */
const char *e2e_result_of(json_t *events, const char *name, size_t nth, bool *ok);
/* e2e_result_of in e2e_transcript(e, child), copied ("" for none). Caller frees. */
char *e2e_result_in(const tu_env *e, const char *child, const char *name, size_t nth, bool *ok);

/* No registry entry holds a pod.json: a sandboxed pod empties the entries it removes, and
 * may not remove their folders (docs/sandbox.md), which the next holder of the name takes. */
void e2e_assert_no_entries(const tu_env *e);

/* ---- the mock model server (tests/mock/mockmodel.py) ------------------------------------- */

/* Whether a file below root holds needle (grep -r). */
bool e2e_tree_has(const char *root, const char *needle);
/* The mock itself: e2e-mock.h. */

/* ---- npm packages (scripts/npm-install.sh) ----------------------------------------------- */

/* The build-local npm prefix the tests install into (<build dir>/npm). */
extern const char e2e_npm_prefix[];
/* Install packages (NULL-terminated specs, PACKAGE[@VERSION]) into e2e_npm_prefix once per
 * build dir: NULL, or why they are not there (one line, for cr_skip_test). Caller frees. */
char *e2e_npm_install(const tu_env *e, const char *const *packages);
