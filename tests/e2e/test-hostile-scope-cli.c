/* SPDX-License-Identifier: MIT */
/*
 * End to end, a hostile model shaping SpawnPod's scope and cwd: a non-recursive rule on a
 * directory (which the kernel would grant as a whole tree), and a cwd that leaves the
 * child's scope through ".." or a symlink. Run by the real pod binary in a temporary HOME,
 * config, data and runtime dir; scripts name paths as @P (the project dir).
 */
#include <criterion/criterion.h>
#include <string.h>
#include <unistd.h>

#include "base/base.h"
#include "e2e.h"
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

static void profile(const char *slug, const char *front, const char *script) {
        e2e_profile(&env, NULL, slug, front, script);
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
        e2e_run_ok(&env, "project:boss");
        top = e2e_transcript(&env, NULL);
        t = e2e_result_of(top, "SpawnPod", 0, &ok);
        cr_assert(!ok && strstr(t, "scope[0]") && strstr(t, "recursive: false") &&
                          strstr(t, "is a directory"),
                  "a non-recursive write rule on a directory is refused: %s", t);
        t = e2e_result_of(top, "SpawnPod", 1, &ok);
        cr_assert(!ok && strstr(t, "is a directory"), "and a read rule: %s", t);
        t = e2e_result_of(top, "SpawnPod", 2, &ok);
        cr_assert(!ok && strstr(t, "does not exist"), "and one on a missing path: %s", t);
        t = e2e_result_of(top, "SpawnPod", 3, &ok);
        cr_assert(ok, "no refused rule left a lease behind: %s", t);
        t = e2e_result_of(top, "SpawnPod", 4, &ok);
        cr_assert(ok, "a non-recursive rule on a file is granted: %s", t);
        t = e2e_result_of(top, "ListPods", 0, &ok);
        cr_assert(!strstr(t, "dir\t") && !strstr(t, "new\t") && strstr(t, "sib\t"),
                  "no refused child started: %s", t);
        json_decref(top);

        kid = e2e_transcript(&env, "file");
        t = e2e_result_of(kid, "Bash", 0, &ok);
        cr_assert(ok, "the granted file is writable: %s", t);
        if (tu_landlock_abi() >= 1) {
                t = e2e_result_of(kid, "Bash", 1, &ok);
                cr_assert(!ok && strstr(t, "kernel sandbox"), "nothing beside the file: %s", t);
                cr_assert_not(exists("docs/x/y/z"));
        }
        t = e2e_result_of(kid, "Write", 0, &ok);
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
        e2e_run_ok(&env, "project:boss");
        top = e2e_transcript(&env, NULL);
        t = e2e_result_of(top, "SpawnPod", 0, &ok);
        cr_assert(!ok && strstr(t, "cwd") && strstr(t, "resolves to") && strstr(t, outside),
                  "a cwd leaving the scope through '..' is refused: %s", t);
        t = e2e_result_of(top, "SpawnPod", 1, &ok);
        cr_assert(!ok && strstr(t, "cwd") && strstr(t, outside),
                  "a cwd leaving the scope through a symlink is refused: %s", t);
        t = e2e_result_of(top, "SpawnPod", 2, &ok);
        cr_assert(ok, "a cwd that resolves inside the scope is fine: %s", t);
        t = e2e_result_of(top, "ListPods", 0, &ok);
        cr_assert(!strstr(t, "dots\t") && !strstr(t, "link\t") && strstr(t, "fine\t"),
                  "no refused child started: %s", t);
        json_decref(top);
        free(outside);
        free(link);
}
