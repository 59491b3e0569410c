/* SPDX-License-Identifier: MIT */
/*
 * End to end, a hostile model shaping SpawnPod's scope and cwd: a non-recursive rule on a
 * directory (which the kernel would grant as a whole tree), and a cwd that leaves the
 * child's scope through ".." or a symlink. Run by the real pod binary in a temporary HOME,
 * config, data and runtime dir; scripts name paths as @P (the project dir).
 */
#include <criterion/criterion.h>
#include <glob.h>
#include <string.h>
#include <unistd.h>

#include "base/base.h"
#include "testutil.h"
#include <jansson.h>

static tu_env env;

static void setup(void) {
        tu_env_setup(&env);
        tu_write(env.project, "src/main.c", "int main(void) { return 0; }\n");
        tu_write(env.project, "docs/readme.txt", "docs\n");
        tu_mkdirs(env.project, "docs/deep");
        tu_mkdirs(env.root, "outside"); /* @P/src/../../outside */
}

static void teardown(void) {
        tu_env_teardown(&env);
}

TestSuite(hostile_scope_cli, .init = setup, .fini = teardown, .timeout = 120);

#define SPAWNER_TOOLS "tools: [Read, Write, Bash, SpawnPod, WaitPod, ListPods, StopPod]\n"

/* text with every @P replaced by the project dir. */
static char *fill(const char *text) {
        pod_buf b = { 0 };

        for (const char *p = text; *p; p++)
                if (p[0] == '@' && p[1] == 'P') {
                        buf_puts(&b, env.project);
                        p++;
                } else
                        buf_append(&b, p, 1);
        return buf_steal(&b);
}

static void profile(const char *slug, const char *front, const char *script) {
        char rel[256], text[2048];
        char *filled = fill(script);

        snprintf(rel, sizeof(rel), ".pod/profiles/%s.json", slug);
        tu_write(env.project, rel, filled);
        snprintf(rel, sizeof(rel), ".pod/profiles/%s.md", slug);
        snprintf(text, sizeof(text),
                 "---\ndescription: %s\nmodel: script:%s.json\n%s---\nYou are %s.\n", slug, slug,
                 front, slug);
        tu_write(env.project, rel, text);
        free(filled);
}

static void run_ok(const char *sel) {
        tu_result r;

        tu_run_pod(&r, &env, env.project, (const char *const[]){ "--profile", sel, "go", NULL });
        cr_assert_eq(r.status, 0, "pod failed: %s", r.err);
        tu_result_done(&r);
}

/* The transcript of the top-level run (child NULL) or of one of its children. */
static json_t *transcript(const char *child) {
        char pattern[4200];
        json_t *events = json_array();
        char *text, *save = NULL;
        glob_t g;

        snprintf(pattern, sizeof(pattern), "%s/runs/*/%s%stranscript.jsonl", env.data,
                 child ? child : "", child ? "-*/" : "");
        cr_assert_eq(glob(pattern, 0, NULL, &g), 0, "no transcript matches %s", pattern);
        cr_assert_eq(g.gl_pathc, 1, "%zu transcripts match %s", g.gl_pathc, pattern);
        text = tu_read(g.gl_pathv[0]);
        globfree(&g);
        for (char *l = strtok_r(text, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
                json_t *ev = json_loads(l, 0, NULL);
                cr_assert_not_null(ev, "a transcript line is not JSON: %s", l);
                json_array_append_new(events, ev);
        }
        free(text);
        return events;
}

/* The text of the nth result of tool name (its ok flag through *ok). */
static const char *result_of(json_t *events, const char *name, size_t nth, bool *ok) {
        size_t i;
        json_t *ev;

        json_array_foreach(events, i, ev) {
                const char *t = json_string_value(json_object_get(ev, "type"));
                const char *n = json_string_value(json_object_get(ev, "name"));
                if (strcmp(t, "tool_result") == 0 && n && strcmp(n, name) == 0 && nth-- == 0) {
                        *ok = json_is_true(json_object_get(ev, "ok"));
                        return json_string_value(json_object_get(ev, "text"));
                }
        }
        cr_assert_fail("no result %zu of %s", nth, name);
        return NULL;
}

static bool exists(const char *rel) {
        char *p = tu_path(env.project, rel);
        bool yes = access(p, F_OK) == 0;

        free(p);
        return yes;
}

/*
 * recursive: false names one file (docs/spawnpod.md): the kernel grants a rule on a
 * directory its whole tree, so a non-recursive rule on a directory, or on a path that does
 * not exist, is refused, and a sibling's write below it can never be judged disjoint.
 */
Test(hostile_scope_cli, a_non_recursive_rule_is_for_one_file) {
        json_t *top, *kid;
        const char *t;
        bool ok;

        profile("filekid", "tools: [Read, Write, Bash]\n",
                "{\"turns\": [{\"call\": [{\"tool\": \"Bash\", \"input\": {\"command\": "
                "\"echo kid >> ../docs/readme.txt\"}}, {\"tool\": \"Bash\", \"input\": {\"command\": "
                "\"mkdir -p ../docs/x/y && echo z > ../docs/x/y/z\"}}, {\"tool\": \"Write\", "
                "\"input\": {\"file_path\": \"@P/docs/deep/w\", \"content\": \"x\"}}]},"
                " {\"say\": \"filekid done\"}]}");
        profile("kid", "tools: [Read]\n", "{\"turns\": [{\"say\": \"kid done\"}]}");
        profile("boss", SPAWNER_TOOLS,
                "{\"turns\": [{\"call\": ["
                "{\"tool\": \"SpawnPod\", \"input\": {\"name\": \"dir\", \"task\": \"t\", "
                "\"profile\": \"kid\", \"scope\": [{\"path\": \"@P/docs\", \"access\": \"write\", "
                "\"recursive\": false}]}},"
                "{\"tool\": \"SpawnPod\", \"input\": {\"name\": \"rdir\", \"task\": \"t\", "
                "\"profile\": \"kid\", \"scope\": [{\"path\": \"@P/src\", \"access\": \"read\", "
                "\"recursive\": false}]}},"
                "{\"tool\": \"SpawnPod\", \"input\": {\"name\": \"new\", \"task\": \"t\", "
                "\"profile\": \"kid\", \"scope\": [{\"path\": \"@P/docs/new\", \"access\": "
                "\"write\", \"recursive\": false}]}},"
                "{\"tool\": \"SpawnPod\", \"input\": {\"name\": \"sib\", \"task\": \"t\", "
                "\"profile\": \"kid\", \"scope\": [{\"path\": \"@P/docs/deep\", \"access\": "
                "\"write\"}]}},"
                "{\"tool\": \"SpawnPod\", \"input\": {\"name\": \"file\", \"task\": \"t\", "
                "\"profile\": \"filekid\", \"cwd\": \"@P/src\", \"scope\": [{\"path\": "
                "\"@P/docs/readme.txt\", \"access\": \"write\", \"recursive\": false}, {\"path\": "
                "\"@P/src\", \"access\": \"read\"}]}}]},"
                " {\"call\": [{\"tool\": \"WaitPod\", \"input\": {\"names\": [\"file\"]}}]},"
                " {\"call\": [{\"tool\": \"ListPods\", \"input\": {}}]},"
                " {\"say\": \"done\"}]}");
        run_ok("project:boss");
        top = transcript(NULL);
        t = result_of(top, "SpawnPod", 0, &ok);
        cr_assert(!ok && strstr(t, "scope[0]") && strstr(t, "recursive: false") &&
                          strstr(t, "is a directory"),
                  "a non-recursive write rule on a directory is refused: %s", t);
        t = result_of(top, "SpawnPod", 1, &ok);
        cr_assert(!ok && strstr(t, "is a directory"), "and a read rule: %s", t);
        t = result_of(top, "SpawnPod", 2, &ok);
        cr_assert(!ok && strstr(t, "does not exist"), "and one on a missing path: %s", t);
        t = result_of(top, "SpawnPod", 3, &ok);
        cr_assert(ok, "no refused rule left a lease behind: %s", t);
        t = result_of(top, "SpawnPod", 4, &ok);
        cr_assert(ok, "a non-recursive rule on a file is granted: %s", t);
        t = result_of(top, "ListPods", 0, &ok);
        cr_assert(!strstr(t, "dir\t") && !strstr(t, "new\t") && strstr(t, "sib\t"),
                  "no refused child started: %s", t);
        json_decref(top);

        kid = transcript("file");
        t = result_of(kid, "Bash", 0, &ok);
        cr_assert(ok, "the granted file is writable: %s", t);
        if (tu_landlock_abi() >= 1) {
                t = result_of(kid, "Bash", 1, &ok);
                cr_assert(!ok && strstr(t, "kernel sandbox"), "nothing beside the file: %s", t);
                cr_assert_not(exists("docs/x/y/z"));
        }
        t = result_of(kid, "Write", 0, &ok);
        cr_assert(!ok && strstr(t, "out of scope"), "%s", t);
        json_decref(kid);
        t = tu_read_at(env.project, "docs/readme.txt");
        cr_assert_str_eq(t, "docs\nkid\n");
        free((char *) t);
}

/* SpawnPod.cwd is resolved before it is checked: ".." and symlinks cannot leave the scope. */
Test(hostile_scope_cli, a_cwd_outside_the_scope_is_refused_and_no_child_starts) {
        char *outside = tu_path(env.root, "outside"), *link = tu_path(env.project, "src/out");
        json_t *top;
        const char *t;
        bool ok;

        cr_assert_eq(symlink(outside, link), 0);
        profile("kid", "tools: [Read, Bash]\n",
                "{\"turns\": [{\"call\": [{\"tool\": \"Bash\", \"input\": {\"command\": "
                "\"pwd\"}}]}, {\"say\": \"kid done\"}]}");
        profile("boss", SPAWNER_TOOLS,
                "{\"turns\": [{\"call\": ["
                "{\"tool\": \"SpawnPod\", \"input\": {\"name\": \"dots\", \"task\": \"t\", "
                "\"profile\": \"kid\", \"cwd\": \"@P/src/../../outside\", \"scope\": [{\"path\": "
                "\"@P/src\", \"access\": \"read\"}]}},"
                "{\"tool\": \"SpawnPod\", \"input\": {\"name\": \"link\", \"task\": \"t\", "
                "\"profile\": \"kid\", \"cwd\": \"@P/src/out\", \"scope\": [{\"path\": "
                "\"@P/src\", \"access\": \"read\"}]}},"
                "{\"tool\": \"SpawnPod\", \"input\": {\"name\": \"fine\", \"task\": \"t\", "
                "\"profile\": \"kid\", \"cwd\": \"@P/src/../src\", \"scope\": [{\"path\": "
                "\"@P/src\", \"access\": \"read\"}]}}]},"
                " {\"call\": [{\"tool\": \"ListPods\", \"input\": {}}]},"
                " {\"say\": \"done\"}]}");
        run_ok("project:boss");
        top = transcript(NULL);
        t = result_of(top, "SpawnPod", 0, &ok);
        cr_assert(!ok && strstr(t, "cwd") && strstr(t, "resolves to") && strstr(t, outside),
                  "a cwd leaving the scope through '..' is refused: %s", t);
        t = result_of(top, "SpawnPod", 1, &ok);
        cr_assert(!ok && strstr(t, "cwd") && strstr(t, outside),
                  "a cwd leaving the scope through a symlink is refused: %s", t);
        t = result_of(top, "SpawnPod", 2, &ok);
        cr_assert(ok, "a cwd that resolves inside the scope is fine: %s", t);
        t = result_of(top, "ListPods", 0, &ok);
        cr_assert(!strstr(t, "dots\t") && !strstr(t, "link\t") && strstr(t, "fine\t"),
                  "no refused child started: %s", t);
        json_decref(top);
        free(outside);
        free(link);
}
