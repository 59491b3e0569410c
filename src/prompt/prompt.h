/* SPDX-License-Identifier: MIT */
#pragma once

/*
 * prompt: what the model reads (DESIGN §10-11). Templates from the embedded catalog or an
 * operator's override, skills, the nearest AGENTS.md, the system prompt, and the SpawnPod
 * tool description. The parent resolves everything that lives on disk into the manifest
 * (prompt_inline), so a child renders exactly what its parent saw without reading
 * outside its scope.
 */

#include <jansson.h>

#include "base/base.h"
#include "manifest/manifest.h"
#include "prompt-keys.h"
#include "template.h"

#define POD_SKILL_MAX_BYTES (256u * 1024u) /* one SKILL.md */
#define POD_SKILL_DESCRIPTION_MAX 1024u /* characters of a skill's description */
#define POD_AGENTS_MD_MAX_BYTES (64u * 1024u) /* AGENTS.md kept in a manifest */
#define POD_PROMPT_OVERRIDES_MAX 64u /* override files read from one folder */

typedef struct prompt_catalog_entry {
        const char *key; /* "skills_section" */
        const char *file; /* "skills_section.md", also the override's file name */
        const char *text; /* the builtin template */
        size_t len;
        const char *const *variables; /* declared, NULL-terminated */
        bool overridable;
} prompt_catalog_entry;

extern const prompt_catalog_entry prompt_catalog[PROMPT_KEY__COUNT];

/* The variables a profile's instruction body may use. */
extern const char *const prompt_instruction_variables[];

/* The entry whose file name is file, or NULL. */
const prompt_catalog_entry *prompt_catalog_by_file(const char *file);
/*
 * Render key with ctx, from the override in prompts (a manifest's "prompts" object, may be
 * NULL) when there is one, else from the builtin template.
 */
int prompt_render(
        pod_buf *out, prompt_key key, const json_t *prompts, const json_t *ctx, pod_error *err);

/* ---- resolution in the parent (inline.c, skills.c) ---------------------------------------- */

typedef struct prompt_sources {
        const char *config_dir; /* may be NULL */
        const char *project_dir; /* may be NULL */
} prompt_sources;

/*
 * Complete a resolved manifest with what lives on disk: each skill's path, sha256,
 * description and body; the operator's prompt overrides; the nearest AGENTS.md. Checks
 * the instruction's template syntax and variables. Any error leaves m unchanged.
 */
int prompt_inline(json_t *m, const prompt_sources *src, pod_error *err);

#define POD_SKILL_LIBRARY_MAX POD_SNAPSHOT_SKILLS_MAX

/*
 * The skills every profile of set names, resolved (DESIGN §11 order) when a tree starts, for
 * its profile snapshot ("skills"): {name: skill}, or {name: {name, error}} for one that could
 * not be read. A spawner inlines a child's skills from it without reading outside its scope.
 */
json_t *prompt_skill_library(const profile_set *set, const prompt_sources *src);
/*
 * A child's manifest completed by its spawner (DESIGN §6): its skills from library, and the
 * nearest AGENTS.md from its cwd up to project_dir that the spawner may read (known_agents,
 * the spawner's own, reused where it is that one). Any error leaves m unchanged.
 */
int prompt_inline_child(json_t *m,
                        const json_t *library,
                        const json_t *known_agents,
                        const char *project_dir,
                        pod_error *err);

/* Find and read skill name (DESIGN §11 order) into {name, path, sha256, description, body}. */
int skill_resolve(json_t **out, const char *name, const prompt_sources *src, pod_error *err);
/* Parse SKILL.md text; folder is the skill's folder name. */
int skill_parse(json_t **out,
                const char *folder,
                const char *path,
                const char *text,
                size_t len,
                pod_error *err);

/* ---- what the model reads (system.c, spawn.c) -------------------------------------------- */

/* The system prompt of an inlined manifest, read through its view; date is "YYYY-MM-DD". */
int prompt_system(pod_buf *out, const manifest_view *v, const char *date, pod_error *err);
/*
 * The SpawnPod tool description for the profiles in set. When set is NULL (discovery
 * failed), diagnostic says why, and the description still renders.
 */
int prompt_spawn_description(pod_buf *out,
                             const profile_set *set,
                             const char *diagnostic,
                             const json_t *prompts,
                             pod_error *err);
