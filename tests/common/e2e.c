/* SPDX-License-Identifier: MIT */
#include "e2e.h"

#include <criterion/criterion.h>
#include <dirent.h>
#include <fcntl.h>
#include <glob.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "base/base.h"

char *e2e_fill(const tu_env *e, const char *text, const char *loop) {
        pod_buf b = { 0 };

        for (const char *p = text; *p; p++) {
                char *inner;

                if (p[0] != '@' || !p[1] || !strchr("PRL", p[1]) || (p[1] == 'L' && !loop)) {
                        buf_append(&b, p, 1);
                        continue;
                }
                switch (*++p) {
                case 'P':
                        buf_puts(&b, e->project);
                        break;
                case 'R':
                        buf_puts(&b, e->runtime);
                        break;
                default:
                        inner = e2e_fill(e, loop, NULL);
                        buf_puts(&b, inner);
                        free(inner);
                }
        }
        return buf_steal(&b);
}

void e2e_profile(const tu_env *e,
                 const e2e_profile_opts *o,
                 const char *slug,
                 const char *front,
                 const char *script) {
        static const e2e_profile_opts usual;
        char *filled, *rel = NULL;
        pod_buf md = { 0 };

        o = o ? o : &usual;
        filled = e2e_fill(e, script, o->loop);
        cr_assert_geq(asprintf(&rel, "%s/%s.json", o->user ? "profiles" : ".pod/profiles", slug),
                      0);
        tu_write(o->user ? e->config : e->project, rel, filled);
        free(rel);
        buf_puts(&md, "---\n");
        if (!o->undescribed)
                buf_printf(&md, "description: %s\n", slug);
        buf_printf(&md, "model: script:%s.json\n%s---\n", slug, front);
        if (o->prompt)
                buf_printf(&md, "%s\n", o->prompt);
        else
                buf_printf(&md, "You are %s.\n", slug);
        cr_assert_geq(asprintf(&rel, "%s/%s.md", o->user ? "profiles" : ".pod/profiles", slug), 0);
        tu_write(o->user ? e->config : e->project, rel, buf_str(&md));
        free(rel);
        buf_done(&md);
        free(filled);
}

void e2e_run_ok(const tu_env *e, const char *sel) {
        tu_result r;

        tu_run_pod(&r, e, e->project, (const char *const[]){ "--profile", sel, "go", NULL });
        cr_assert_eq(r.status, 0, "pod failed: %s", r.err);
        tu_result_done(&r);
}

json_t *e2e_events_of(const char *path) {
        json_t *events = json_array();
        char *text = tu_read(path), *save = NULL;

        cr_assert_not_null(text, "no transcript at %s", path);
        for (char *l = strtok_r(text, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
                json_t *ev = json_loads(l, 0, NULL);
                cr_assert_not_null(ev, "a transcript line is not JSON: %s", l);
                json_array_append_new(events, ev);
        }
        free(text);
        return events;
}

json_t *e2e_transcript_at(const tu_env *e, const char *pattern) {
        char *full = tu_path(e->data, pattern);
        glob_t g;
        json_t *events;

        cr_assert_eq(glob(full, 0, NULL, &g), 0, "no transcript matches %s", full);
        cr_assert_eq(g.gl_pathc, 1, "%zu transcripts match %s", g.gl_pathc, full);
        events = e2e_events_of(g.gl_pathv[0]);
        globfree(&g);
        free(full);
        return events;
}

json_t *e2e_transcript(const tu_env *e, const char *child) {
        char pattern[512];

        snprintf(pattern, sizeof(pattern), "runs/*/%s%stranscript.jsonl", child ? child : "",
                 child ? "-*/" : "");
        return e2e_transcript_at(e, pattern);
}

json_t *e2e_find_event(json_t *events, const char *type, const char *name, size_t nth) {
        size_t i;
        json_t *ev;

        json_array_foreach(events, i, ev) {
                const char *t = json_string_value(json_object_get(ev, "type"));
                const char *n = json_string_value(json_object_get(ev, "name"));
                if (t && strcmp(t, type) == 0 && (!name || (n && strcmp(n, name) == 0)) &&
                    nth-- == 0)
                        return ev;
        }
        return NULL;
}

const char *e2e_result_of(json_t *events, const char *name, size_t nth, bool *ok) {
        json_t *ev = e2e_find_event(events, "tool_result", name, nth);

        cr_assert_not_null(ev, "no result %zu of %s", nth, name);
        if (ok)
                *ok = json_is_true(json_object_get(ev, "ok"));
        return json_string_value(json_object_get(ev, "text"));
}

char *e2e_result_in(const tu_env *e, const char *child, const char *name, size_t nth, bool *ok) {
        json_t *events = e2e_transcript(e, child);
        char *text = strdup(e2e_result_of(events, name, nth, ok) ?: "");

        json_decref(events);
        return text;
}

void e2e_assert_no_entries(const tu_env *e) {
        char *pods = tu_path(e->runtime, "pods");
        DIR *d = opendir(pods);
        struct dirent *de;

        cr_assert_not_null(d);
        while ((de = readdir(d))) {
                char rel[512];
                snprintf(rel, sizeof(rel), "%s/pod.json", de->d_name);
                if (de->d_name[0] != '.') {
                        char *entry = tu_path(pods, rel);
                        cr_assert_neq(access(entry, F_OK), 0, "registry entry '%s' is left behind",
                                      de->d_name);
                        free(entry);
                }
        }
        closedir(d);
        free(pods);
}

bool e2e_tree_has(const char *root, const char *needle) {
        char *cmd = NULL;
        int r;

        cr_assert_geq(asprintf(&cmd, "grep -rqF -- '%s' '%s'", needle, root), 0);
        r = system(cmd);
        free(cmd);
        return WIFEXITED(r) && WEXITSTATUS(r) == 0;
}

const char e2e_npm_prefix[] = POD_NPM_PREFIX;

char *e2e_npm_install(const tu_env *e, const char *const *packages) {
        const char *argv[16] = { "/bin/sh", POD_SOURCE_DIR "/scripts/npm-install.sh",
                                 POD_NPM_PREFIX };
        char *log = tu_path(e->root, "npm-install.log"), *why = NULL;
        int in = open("/dev/null", O_RDONLY | O_CLOEXEC);
        int out = open(log, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
        size_t n = 3;

        for (; *packages && n < POD_ARRAY_SIZE(argv) - 1; packages++)
                argv[n++] = *packages;
        argv[n] = NULL;
        cr_assert(in >= 0 && out >= 0);
        if (tu_wait(tu_spawn_with(e, NULL, argv, in, out, log)) != 0) {
                char *text = tu_read(log), *last = text;
                /* The script's last line says why. */
                for (char *p = text; p && *p; p++)
                        if (*p == '\n' && p[1])
                                last = p + 1;
                why = strdup(last && *last ? last : "scripts/npm-install.sh failed");
                why[strcspn(why, "\n")] = '\0';
                free(text);
        }
        close(in);
        close(out);
        free(log);
        return why;
}
