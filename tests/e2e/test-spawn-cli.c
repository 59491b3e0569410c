/* SPDX-License-Identifier: MIT */
/*
 * End to end: SpawnPod and the pod tree through script-model profiles, run by the real pod
 * binary in a temporary HOME, config, data and runtime dir. Scripts name paths as @P (the
 * project dir), filled in when the profile is written.
 */
#include <criterion/criterion.h>
#include <glob.h>
#include <signal.h>
#include <string.h>
#include <sys/wait.h>
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
}

static void teardown(void) {
        tu_env_teardown(&env);
}

TestSuite(spawn_cli, .init = setup, .fini = teardown, .timeout = 120);

#define POD(r, ...) tu_run_pod(r, &env, env.project, (const char *const[]){ __VA_ARGS__, NULL })

static void profile(const char *slug, const char *front, const char *script) {
        e2e_profile(&env, NULL, slug, front, script);
}

#define SPAWNER_TOOLS \
        "tools: [Read, Write, Bash, SpawnPod, SendToPod, WaitPod, ReadPodOutput, ListPods, StopPod]\n"

/* A child that answers at once. */
static void quick_child(void) {
        profile("kid", "tools: [Read, Write, Bash]\n", "{\"turns\": [{\"say\": \"kid done\"}]}");
}

/* ---- the sequence, tools and results ----------------------------------------------------- */

Test(spawn_cli, a_child_works_in_its_scope_and_its_result_comes_back) {
        json_t *top, *kid;
        bool ok;

        profile("coder", "tools: [Read, Write, Bash]\n",
                "{\"turns\": [{\"say\": \"writing\", \"call\": [{\"tool\": \"Write\", \"input\": "
                "{\"file_path\": \"@P/src/new.c\", \"content\": \"x\"}}, {\"tool\": \"Write\", "
                "\"input\": {\"file_path\": \"@P/docs/x.txt\", \"content\": \"x\"}}]},"
                " {\"say\": \"coder finished\"}]}");
        profile("boss", SPAWNER_TOOLS,
                "{\"turns\": [{\"call\": [{\"tool\": \"SpawnPod\", \"input\": {\"name\": \"c1\", "
                "\"task\": \"code\", \"profile\": \"project:coder\", \"scope\": [{\"path\": "
                "\"@P/src\", \"access\": \"write\"}]}}]},"
                " {\"call\": [{\"tool\": \"Write\", \"input\": {\"file_path\": \"@P/src/boss.c\", "
                "\"content\": \"x\"}}, {\"tool\": \"ListPods\", \"input\": {}}]},"
                " {\"call\": [{\"tool\": \"WaitPod\", \"input\": {}}, {\"tool\": \"ReadPodOutput\", "
                "\"input\": {\"name\": \"c1\"}}, {\"tool\": \"ReadPodOutput\", \"input\": {\"name\": "
                "\"c1\"}}]},"
                " {\"call\": [{\"tool\": \"StopPod\", \"input\": {\"name\": \"c1\"}}]},"
                " {\"call\": [{\"tool\": \"Write\", \"input\": {\"file_path\": \"@P/src/boss.c\", "
                "\"content\": \"x\"}}]},"
                " {\"say\": \"boss done\", \"echo\": true}]}");
        e2e_run_ok(&env, "project:boss");
        top = e2e_transcript(&env, NULL);
        cr_assert(strstr(e2e_result_of(top, "SpawnPod", 0, &ok), "Started pod 'c1'") && ok);
        cr_assert(strstr(e2e_result_of(top, "Write", 0, &ok), "child 'c1' holds the write lease") &&
                          !ok,
                  "while the child holds src/, its spawner has read only there");
        cr_assert(strstr(e2e_result_of(top, "ListPods", 0, &ok), "c1\t"));
        cr_assert(strstr(e2e_result_of(top, "WaitPod", 0, &ok), "coder finished"),
                  "WaitPod returns the child's answer");
        cr_assert(strstr(e2e_result_of(top, "ReadPodOutput", 0, &ok), "writing"));
        cr_assert(strstr(e2e_result_of(top, "ReadPodOutput", 1, &ok), "no new output"),
                  "the cursor moved past what was read");
        cr_assert(strstr(e2e_result_of(top, "StopPod", 0, &ok), "lease is back"));
        e2e_result_of(top, "Write", 1, &ok);
        cr_assert(ok, "the write lease returns when the child stops");
        kid = e2e_transcript(&env, "c1");
        e2e_result_of(kid, "Write", 0, &ok);
        cr_assert(ok, "the child writes inside its scope");
        cr_assert(strstr(e2e_result_of(kid, "Write", 1, &ok), "out of scope") && !ok,
                  "and nowhere else");
        e2e_assert_no_entries(&env);
        json_decref(top);
        json_decref(kid);
}

Test(spawn_cli, every_selector_form_spawns) {
        static const char *const forms[] = { "default", "project:kid", "kid", "builtin:coder",
                                             "inherit" };
        pod_buf s = { 0 };
        json_t *top;
        bool ok;

        quick_child();
        tu_write(env.project, ".pod/default-profile", "kid\n");
        buf_puts(&s, "{\"turns\": [{\"call\": [");
        for (size_t i = 0; i < POD_ARRAY_SIZE(forms); i++)
                buf_printf(&s,
                           "%s{\"tool\": \"SpawnPod\", \"input\": {\"name\": \"s%zu\", \"task\": "
                           "\"t\", \"profile\": \"%s\", \"scope\": [{\"path\": \"@P/docs\", "
                           "\"access\": \"read\"}]}}",
                           i ? ", " : "", i, forms[i]);
        buf_puts(&s,
                 ", {\"tool\": \"SpawnPod\", \"input\": {\"name\": \"s9\", \"task\": \"t\", "
                 "\"scope\": [{\"path\": \"@P/docs\", \"access\": \"read\"}]}}]},"
                 " {\"say\": \"spawned\"}]}");
        profile("boss", SPAWNER_TOOLS "limits:\n  max_children: 16\n", buf_str(&s));
        buf_done(&s);
        e2e_run_ok(&env, "project:boss");
        top = e2e_transcript(&env, NULL);
        for (size_t i = 0; i <= POD_ARRAY_SIZE(forms); i++) {
                const char *text = e2e_result_of(top, "SpawnPod", i, &ok);
                cr_assert(ok, "selector form %zu: %s", i, text);
        }
        cr_assert(strstr(e2e_result_of(top, "SpawnPod", 4, &ok), "profile inherit"));
        json_decref(top);
        e2e_assert_no_entries(&env);
}

Test(spawn_cli, path_selectors_and_near_misses_are_refused_with_the_list) {
        json_t *top;
        bool ok;
        const char *t;

        quick_child();
        tu_write(env.config, "profiles/dup.md", "---\nmodel: script:dup.json\n---\nu\n");
        tu_write(env.config, "profiles/dup.json", "{\"turns\": [{\"say\": \"u\"}]}");
        profile("dup", "", "{\"turns\": [{\"say\": \"p\"}]}");
        profile("boss", SPAWNER_TOOLS,
                "{\"turns\": [{\"call\": ["
                "{\"tool\": \"SpawnPod\", \"input\": {\"name\": \"a\", \"task\": \"t\", \"profile\": "
                "\"path:kid.md\", \"scope\": [{\"path\": \"@P/docs\", \"access\": \"read\"}]}},"
                "{\"tool\": \"SpawnPod\", \"input\": {\"name\": \"b\", \"task\": \"t\", \"profile\": "
                "\"./kid.md\", \"scope\": [{\"path\": \"@P/docs\", \"access\": \"read\"}]}},"
                "{\"tool\": \"SpawnPod\", \"input\": {\"name\": \"c\", \"task\": \"t\", \"profile\": "
                "\"dpu\", \"scope\": [{\"path\": \"@P/docs\", \"access\": \"read\"}]}}]},"
                " {\"say\": \"done\"}]}");
        e2e_run_ok(&env, "project:boss");
        top = e2e_transcript(&env, NULL);
        t = e2e_result_of(top, "SpawnPod", 0, &ok);
        cr_assert(!ok && strstr(t, "project:kid") && strstr(t, "inherit"),
                  "a path selector is refused with the list: %s", t);
        t = e2e_result_of(top, "SpawnPod", 1, &ok);
        cr_assert(!ok && strstr(t, "project:kid"), "%s", t);
        t = e2e_result_of(top, "SpawnPod", 2, &ok);
        cr_assert(!ok && strstr(t, "did you mean project:dup?") && strstr(t, "user:dup"),
                  "a near miss names the closest selector, the project's: %s", t);
        json_decref(top);
        e2e_assert_no_entries(&env);
}

Test(spawn_cli, the_three_scope_refusals_and_sibling_leases) {
        json_t *top;
        bool ok;
        const char *t;

        quick_child();
        profile("looker", "scope: read\n", "{\"turns\": [{\"say\": \"l\"}]}");
        profile("slow", "tools: [Bash]\n",
                "{\"turns\": [{\"call\": [{\"tool\": \"Bash\", \"input\": {\"command\": "
                "\"sleep 5\"}}]}, {\"say\": \"slow done\"}]}");
        profile("boss", SPAWNER_TOOLS,
                "{\"turns\": [{\"call\": ["
                "{\"tool\": \"SpawnPod\", \"input\": {\"name\": \"a\", \"task\": \"t\", \"profile\": "
                "\"kid\", \"scope\": [{\"path\": \"/etc\", \"access\": \"read\"}]}},"
                "{\"tool\": \"SpawnPod\", \"input\": {\"name\": \"b\", \"task\": \"t\", \"profile\": "
                "\"looker\", \"scope\": [{\"path\": \"@P/docs\", \"access\": \"write\"}]}},"
                "{\"tool\": \"SpawnPod\", \"input\": {\"name\": \"c\", \"task\": \"t\", \"profile\": "
                "\"slow\", \"scope\": [{\"path\": \"@P/src\", \"access\": \"write\"}]}},"
                "{\"tool\": \"SpawnPod\", \"input\": {\"name\": \"d\", \"task\": \"t\", \"profile\": "
                "\"kid\", \"scope\": [{\"path\": \"@P/src/sub\", \"access\": \"write\"}]}},"
                "{\"tool\": \"SpawnPod\", \"input\": {\"name\": \"e\", \"task\": \"t\", \"profile\": "
                "\"kid\", \"scope\": [{\"path\": \"@P/src\", \"access\": \"read\"}]}}]},"
                " {\"say\": \"done\"}]}");
        e2e_run_ok(&env, "project:boss");
        top = e2e_transcript(&env, NULL);
        t = e2e_result_of(top, "SpawnPod", 0, &ok);
        cr_assert(!ok && strstr(t, "read:/etc") && strstr(t, "not covered by the spawner"), "%s",
                  t);
        t = e2e_result_of(top, "SpawnPod", 1, &ok);
        cr_assert(!ok && strstr(t, "ceiling"), "%s", t);
        e2e_result_of(top, "SpawnPod", 2, &ok);
        cr_assert(ok);
        t = e2e_result_of(top, "SpawnPod", 3, &ok);
        cr_assert(!ok && strstr(t, "write lease pod 'c' holds"),
                  "siblings' writes never overlap: %s", t);
        e2e_result_of(top, "SpawnPod", 4, &ok);
        cr_assert(ok, "reading a sibling's leased path is fine");
        json_decref(top);
        e2e_assert_no_entries(&env);
}

/* Bash under its children's leases, also with the shell started ahead for the next command:
 * one built before a lease was granted, or before one was returned, is not used. */
Test(spawn_cli, bash_follows_the_leases_with_a_shell_started_ahead) {
        json_t *top;
        bool ok;
        const char *t;

        if (tu_landlock_abi() < 1)
                cr_skip_test("the kernel offers no Landlock");
        quick_child();
        profile("boss", SPAWNER_TOOLS,
                "{\"turns\": [{\"call\": [{\"tool\": \"Bash\", \"input\": {\"command\": "
                "\"echo a >> src/main.c\"}}]},"
                " {\"call\": [{\"tool\": \"SpawnPod\", \"input\": {\"name\": \"c\", \"task\": "
                "\"t\", \"profile\": \"kid\", \"scope\": [{\"path\": \"@P/src\", \"access\": "
                "\"write\"}]}}]},"
                " {\"call\": [{\"tool\": \"Bash\", \"input\": {\"command\": "
                "\"echo b >> src/main.c\"}}]},"
                " {\"call\": [{\"tool\": \"StopPod\", \"input\": {\"name\": \"c\"}}]},"
                " {\"call\": [{\"tool\": \"Bash\", \"input\": {\"command\": "
                "\"echo c >> src/main.c\"}}]},"
                " {\"say\": \"done\"}]}");
        e2e_run_ok(&env, "project:boss");
        top = e2e_transcript(&env, NULL);
        e2e_result_of(top, "Bash", 0, &ok);
        cr_assert(ok, "before the lease, src/ is writable");
        t = e2e_result_of(top, "Bash", 1, &ok);
        cr_assert(!ok && strstr(t, "kernel sandbox"), "under the lease, read only: %s", t);
        t = e2e_result_of(top, "Bash", 2, &ok);
        cr_assert(ok, "the lease returned, writable again: %s", t);
        json_decref(top);
        t = tu_read_at(env.project, "src/main.c");
        cr_assert(strstr(t, "a\n") && !strstr(t, "b\n") && strstr(t, "c\n"), "%s", t);
        free((char *) t);
}

/*
 * A hostile child granted overlapping write rules (src/, src/a/, src/b/) replaces a/ with a
 * symlink to the registry's pods/ folder and b/ with one to its own run dir, then writes
 * there. Its pod process may write both; its commands may not, and the rules now named by
 * symlinks are dropped, not looked up again (docs/sandbox.md "Scope roots").
 */
Test(spawn_cli, a_child_cannot_point_its_rules_at_the_registry_or_its_run_dir) {
        char script[4096];
        json_t *kid;
        const char *t;
        bool ok;

        if (tu_landlock_abi() < 1)
                cr_skip_test("the kernel offers no Landlock");
        tu_write(env.project, "src/a/x.c", "a\n");
        tu_write(env.project, "src/b/x.c", "b\n");
        snprintf(script, sizeof(script),
                 "{\"turns\": [{\"call\": [{\"tool\": \"Bash\", \"input\": {\"command\": "
                 "\"rm -rf a b && ln -s %s/pods a && ln -s \\\"$TMPDIR\\\"/.. b && ls -l\"}}]},"
                 " {\"call\": [{\"tool\": \"Bash\", \"input\": {\"command\": "
                 "\"echo '{}' > a/c/pod.json\"}}]},"
                 " {\"call\": [{\"tool\": \"Bash\", \"input\": {\"command\": "
                 "\"echo pwned > b/transcript.jsonl\"}}]},"
                 " {\"say\": \"kid done\"}]}",
                 env.runtime);
        profile("kid", "tools: [Bash]\n", script);
        profile("boss", SPAWNER_TOOLS,
                "{\"turns\": [{\"call\": [{\"tool\": \"SpawnPod\", \"input\": {\"name\": \"c\", "
                "\"task\": \"t\", \"profile\": \"kid\", \"cwd\": \"@P/src\", \"scope\": ["
                "{\"path\": \"@P/src\", \"access\": \"write\"}, {\"path\": \"@P/src/a\", "
                "\"access\": \"write\"}, {\"path\": \"@P/src/b\", \"access\": \"write\"}]}}]},"
                " {\"call\": [{\"tool\": \"WaitPod\", \"input\": {}}]},"
                " {\"say\": \"done\"}]}");
        e2e_run_ok(&env, "project:boss");
        kid = e2e_transcript(&env, "c"); /* every line still JSON: nothing wrote over it */
        t = e2e_result_of(kid, "Bash", 0, &ok);
        cr_assert(ok, "the swap is inside the child's scope: %s", t);
        t = e2e_result_of(kid, "Bash", 1, &ok);
        cr_assert(!ok, "a command cannot write a registry entry: %s", t);
        cr_assert(strstr(t, "/src/a was dropped: the path no longer names what it named"), "%s", t);
        t = e2e_result_of(kid, "Bash", 2, &ok);
        cr_assert(!ok, "a command cannot write its pod's transcript: %s", t);
        cr_assert(strstr(t, "/src/b was dropped"), "%s", t);
        json_decref(kid);
        e2e_assert_no_entries(&env);
}

Test(spawn_cli, depth_and_child_limits) {
        json_t *top;
        bool ok;
        const char *t;

        quick_child();
        profile("boss", SPAWNER_TOOLS "limits:\n  max_children: 1\n",
                "{\"turns\": [{\"call\": ["
                "{\"tool\": \"SpawnPod\", \"input\": {\"name\": \"a\", \"task\": \"t\", \"profile\": "
                "\"kid\", \"scope\": [{\"path\": \"@P/docs\", \"access\": \"read\"}]}},"
                "{\"tool\": \"SpawnPod\", \"input\": {\"name\": \"b\", \"task\": \"t\", \"profile\": "
                "\"kid\", \"scope\": [{\"path\": \"@P/docs\", \"access\": \"read\"}]}}]},"
                " {\"say\": \"done\"}]}");
        profile("leaf", SPAWNER_TOOLS "limits:\n  max_depth: 0\n",
                "{\"turns\": [{\"call\": [{\"tool\": \"SpawnPod\", \"input\": {\"name\": \"a\", "
                "\"task\": \"t\", \"profile\": \"kid\", \"scope\": [{\"path\": \"@P/docs\", "
                "\"access\": \"read\"}]}}]}, {\"say\": \"done\"}]}");
        e2e_run_ok(&env, "project:boss");
        top = e2e_transcript(&env, NULL);
        e2e_result_of(top, "SpawnPod", 0, &ok);
        cr_assert(ok);
        t = e2e_result_of(top, "SpawnPod", 1, &ok);
        cr_assert(!ok && strstr(t, "max_children"), "%s", t);
        json_decref(top);
        tu_rm_rf(env.data);
        e2e_run_ok(&env, "project:leaf");
        top = e2e_transcript(&env, NULL);
        t = e2e_result_of(top, "SpawnPod", 0, &ok);
        cr_assert(!ok && strstr(t, "max_depth"), "%s", t);
        json_decref(top);
}

Test(spawn_cli, inherit_keeps_the_model_and_drops_scope_and_name_and_instruction_replaces) {
        json_t *top, *kid, *m, *ev;
        bool ok;

        quick_child();
        /* The heir runs this script too: its own SpawnPods must fail whatever the timing
         * (its name is its own; src/ is outside its scope), or it could take the name "told"
         * before its spawner does. */
        profile("boss", SPAWNER_TOOLS,
                "{\"turns\": [{\"call\": ["
                "{\"tool\": \"SpawnPod\", \"input\": {\"name\": \"heir\", \"task\": \"t\", "
                "\"profile\": \"inherit\", \"scope\": [{\"path\": \"@P/docs\", \"access\": "
                "\"read\"}]}},"
                "{\"tool\": \"SpawnPod\", \"input\": {\"name\": \"told\", \"task\": \"t\", "
                "\"profile\": \"kid\", \"instruction\": \"You only ever say ZEBRA.\", \"scope\": "
                "[{\"path\": \"@P/src\", \"access\": \"read\"}]}}]},"
                " {\"call\": [{\"tool\": \"WaitPod\", \"input\": {}}]}, {\"say\": \"done\"}]}");
        e2e_run_ok(&env, "project:boss");
        top = e2e_transcript(&env, NULL);
        e2e_result_of(top, "SpawnPod", 0, &ok);
        cr_assert(ok);
        e2e_result_of(top, "SpawnPod", 1, &ok);
        cr_assert(ok, "the spawner, not its heir, starts 'told'");
        kid = e2e_transcript(&env, "heir");
        m = e2e_find_event(kid, "manifest", NULL, 0);
        cr_assert_not_null(m, "the child's transcript records its manifest");
        cr_assert_str_eq(json_string_value(json_object_get(m, "model")), "script:boss.json",
                         "inherit keeps the spawner's model");
        cr_assert_str_eq(json_string_value(json_object_get(json_object_get(m, "pod"), "name")),
                         "heir", "SpawnPod.name always names the child");
        cr_assert_eq(json_array_size(json_object_get(json_object_get(m, "scope"), "allow")), 1);
        cr_assert(strstr(json_string_value(json_object_get(
                                 json_array_get(
                                         json_object_get(json_object_get(m, "scope"), "allow"), 0),
                                 "path")),
                         "/docs"),
                  "the scope is the requested one, not the spawner's");
        json_decref(kid);
        kid = e2e_transcript(&env, "told");
        ev = e2e_find_event(kid, "system_prompt", NULL, 0);
        cr_assert_not_null(ev, "the child's transcript records its system prompt");
        cr_assert(strstr(json_string_value(json_object_get(ev, "text")), "ZEBRA"));
        cr_assert(!strstr(json_string_value(json_object_get(ev, "text")), "You are kid."),
                  "the instruction replaces the profile's");
        json_decref(kid);
        json_decref(top);
}

/* ---- failure at each step ---------------------------------------------------------------- */

/* spawn_ok: 1 SpawnPod succeeds, 0 it fails, -1 either (the child may die before or after
 * its acknowledgement leaves the socket). */
static void fault_run(const char *point, int spawn_ok) {
        json_t *top;
        bool ok;
        const char *t;
        char fault[64];

        snprintf(fault, sizeof(fault), "POD_FAULT=%s", point);
        env.extra_env[0] = fault;
        quick_child();
        profile("boss", SPAWNER_TOOLS,
                "{\"turns\": [{\"call\": [{\"tool\": \"SpawnPod\", \"input\": {\"name\": \"k\", "
                "\"task\": \"t\", \"profile\": \"kid\", \"scope\": [{\"path\": \"@P/src\", "
                "\"access\": \"write\"}]}}]},"
                " {\"call\": [{\"tool\": \"WaitPod\", \"input\": {}}, {\"tool\": \"Write\", "
                "\"input\": {\"file_path\": \"@P/src/after.c\", \"content\": \"x\"}},"
                " {\"tool\": \"Bash\", \"input\": {\"command\": \"ls $POD_RUNTIME_DIR/pods\"}}]},"
                " {\"say\": \"done\"}]}");
        e2e_run_ok(&env, "project:boss");
        top = e2e_transcript(&env, NULL);
        t = e2e_result_of(top, "SpawnPod", 0, &ok);
        cr_assert(spawn_ok < 0 || ok == (spawn_ok == 1), "%s: %s", point, t);
        if (!ok)
                cr_assert(strstr(t, "exited before it was ready") || strstr(t, "did not take"),
                          "%s: %s", point, t);
        else
                cr_assert(strstr(e2e_result_of(top, "WaitPod", 0, &ok), "killed"));
        e2e_result_of(top, "Write", 0, &ok);
        cr_assert(ok, "%s: the lease is returned", point);
        e2e_assert_no_entries(&env);
        json_decref(top);
}

Test(spawn_cli, child_killed_before_ready_rolls_back) {
        fault_run("before-ready", 0);
}

Test(spawn_cli, child_killed_after_ready_rolls_back) {
        fault_run("after-ready", 0);
}

Test(spawn_cli, child_killed_after_taking_its_task_is_reaped) {
        fault_run("after-run", -1);
}

/* ---- the tree ---------------------------------------------------------------------------- */

/* The grandchild also shows what the kernel holds of its own process: a confined spawner
 * loads no second copy of the pod filter it passes on (docs/sandbox.md), so this is where
 * an inherited filter would be found missing. */
Test(spawn_cli, a_depth_three_tree_reports_to_the_top) {
        tu_result r;

        profile("leaf", "tools: [Read, Bash]\n",
                "{\"turns\": [{\"call\": [{\"tool\": \"Bash\", \"input\": {\"command\": \"grep -E "
                "'^(NoNewPrivs|Seccomp|CapPrm|CapEff):' /proc/$PPID/status | tr '\\\\t' ' '\"}}]},"
                " {\"say\": \"leaf answer 42\", \"echo\": true}]}");
        profile("mid", SPAWNER_TOOLS,
                "{\"turns\": [{\"call\": [{\"tool\": \"SpawnPod\", \"input\": {\"name\": \"leaf\", "
                "\"task\": \"t\", \"profile\": \"leaf\", \"scope\": [{\"path\": \"@P/src\", "
                "\"access\": \"read\"}]}}]}, {\"call\": [{\"tool\": \"WaitPod\", \"input\": {}}]},"
                " {\"say\": \"mid heard:\", \"echo\": true}]}");
        profile("top", SPAWNER_TOOLS,
                "{\"turns\": [{\"call\": [{\"tool\": \"SpawnPod\", \"input\": {\"name\": \"mid\", "
                "\"task\": \"t\", \"profile\": \"mid\", \"scope\": [{\"path\": \"@P/src\", "
                "\"access\": \"write\"}]}}]}, {\"call\": [{\"tool\": \"WaitPod\", \"input\": {}}]},"
                " {\"say\": \"top heard:\", \"echo\": true}]}");
        POD(&r, "--profile", "top", "go");
        cr_assert_eq(r.status, 0, "%s", r.err);
        cr_assert(strstr(r.out, "top heard:") && strstr(r.out, "mid heard:") &&
                          strstr(r.out, "leaf answer 42"),
                  "the grandchild's answer reaches the top: %s", r.out);
        if (tu_landlock_abi() >= 1)
                cr_assert(strstr(r.out, "NoNewPrivs: 1") && strstr(r.out, "Seccomp: 2") &&
                                  strstr(r.out, "CapPrm: 0000000000000000") &&
                                  strstr(r.out, "CapEff: 0000000000000000"),
                          "the grandchild pod's own process is confined: %s", r.out);
        tu_result_done(&r);
        e2e_assert_no_entries(&env);
}

/* The system prompt a pod's transcript begins with; pattern globs its transcript. */
static char *system_prompt_of(const char *pattern_rel) {
        char pattern[4200];
        glob_t g;
        json_t *events, *ev;
        char *text;

        snprintf(pattern, sizeof(pattern), "%s/runs/%s/transcript.jsonl", env.data, pattern_rel);
        cr_assert_eq(glob(pattern, 0, NULL, &g), 0, "no transcript matches %s", pattern);
        events = e2e_events_of(g.gl_pathv[0]);
        globfree(&g);
        ev = e2e_find_event(events, "system_prompt", NULL, 0);
        cr_assert_not_null(ev);
        text = strdup(json_string_value(json_object_get(ev, "text")));
        json_decref(events);
        return text;
}

/* A child's skills and nearest AGENTS.md come inlined by its spawner (DESIGN §6): neither
 * the skill's folder nor the project's AGENTS.md is in a grandchild's scope, nor readable in
 * its sandbox, and both still reach its system prompt. */
Test(spawn_cli, skills_and_agents_md_reach_children_outside_their_scope) {
        char *mid, *leaf, *docs;

        tu_write(env.project, ".pod/skills/lint/SKILL.md",
                 "---\nname: lint\ndescription: Lint before handing back.\n---\nLINT SKILL BODY\n");
        tu_write(env.project, "AGENTS.md", "ROOT RULES\n");
        tu_write(env.project, "src/AGENTS.md", "SRC RULES\n");
        profile("leaf", "tools: [Read]\nskills: [lint]\n", "{\"turns\": [{\"say\": \"leaf\"}]}");
        profile("reader", "tools: [Read]\n", "{\"turns\": [{\"say\": \"reader\"}]}");
        profile("mid", SPAWNER_TOOLS,
                "{\"turns\": [{\"call\": [{\"tool\": \"SpawnPod\", \"input\": {\"name\": \"leaf\", "
                "\"task\": \"t\", \"profile\": \"leaf\", \"scope\": [{\"path\": \"@P/src\", "
                "\"access\": \"read\"}]}}]}, {\"call\": [{\"tool\": \"WaitPod\", \"input\": {}}]},"
                " {\"say\": \"mid done\"}]}");
        profile("top", SPAWNER_TOOLS,
                "{\"turns\": [{\"call\": [{\"tool\": \"SpawnPod\", \"input\": {\"name\": \"mid\", "
                "\"task\": \"t\", \"profile\": \"mid\", \"scope\": [{\"path\": \"@P/src\", "
                "\"access\": \"write\"}]}}, {\"tool\": \"SpawnPod\", \"input\": {\"name\": "
                "\"docs\", \"task\": \"t\", \"profile\": \"reader\", \"scope\": [{\"path\": "
                "\"@P/docs\", \"access\": \"read\"}]}}]}, {\"call\": [{\"tool\": \"WaitPod\", "
                "\"input\": {}}]}, {\"say\": \"top done\"}]}");
        e2e_run_ok(&env, "project:top");
        mid = system_prompt_of("*/mid-*");
        leaf = system_prompt_of("*/mid-*/leaf-*");
        docs = system_prompt_of("*/docs-*");
        cr_assert(strstr(leaf, "LINT SKILL BODY"), "the grandchild's skill: %s", leaf);
        cr_assert(strstr(leaf, "SRC RULES") && !strstr(leaf, "ROOT RULES"),
                  "the AGENTS.md nearest its cwd (src/): %s", leaf);
        cr_assert(strstr(mid, "SRC RULES"), "%s", mid);
        cr_assert(strstr(docs, "ROOT RULES"), "docs/ has none: the project's, above it: %s", docs);
        free(mid);
        free(leaf);
        free(docs);
        e2e_assert_no_entries(&env);
}

Test(spawn_cli, send_to_an_idle_child_starts_a_turn) {
        json_t *top;
        bool ok;

        profile("kid", "", "{\"turns\": [{\"say\": \"first\"}, {\"say\": \"second\"}]}");
        profile("boss", SPAWNER_TOOLS,
                "{\"turns\": [{\"call\": [{\"tool\": \"SpawnPod\", \"input\": {\"name\": \"k\", "
                "\"task\": \"t\", \"profile\": \"kid\", \"scope\": [{\"path\": \"@P/docs\", "
                "\"access\": \"read\"}]}}]}, {\"call\": [{\"tool\": \"WaitPod\", \"input\": {}}]},"
                " {\"call\": [{\"tool\": \"SendToPod\", \"input\": {\"name\": \"k\", \"message\": "
                "\"again\"}}]}, {\"call\": [{\"tool\": \"WaitPod\", \"input\": {\"names\": [\"k\"]}}, "
                "{\"tool\": \"SendToPod\", \"input\": {\"name\": \"nobody\", \"message\": \"x\"}}]},"
                " {\"say\": \"done\"}]}");
        e2e_run_ok(&env, "project:boss");
        top = e2e_transcript(&env, NULL);
        cr_assert(strstr(e2e_result_of(top, "WaitPod", 0, &ok), "first"));
        cr_assert(strstr(e2e_result_of(top, "WaitPod", 1, &ok), "second"),
                  "the message made a second turn");
        cr_assert(strstr(e2e_result_of(top, "SendToPod", 1, &ok), "no child pod named 'nobody'") &&
                  !ok);
        json_decref(top);
}

/* WaitPod's timeout (600 s unless given) ends with its pod's timeout_s. */
Test(spawn_cli, a_childs_wall_time_ends_within_its_spawners) {
        json_t *top;
        tu_result r;
        bool ok;

        profile("slow", "tools: [Bash]\n",
                "{\"turns\": [{\"call\": [{\"tool\": \"Bash\", \"input\": {\"command\": "
                "\"sleep 60\"}}]}, {\"say\": \"slow done\"}]}");
        profile("boss", "limits:\n  timeout_s: 3\n" SPAWNER_TOOLS,
                "{\"turns\": [{\"call\": [{\"tool\": \"SpawnPod\", \"input\": {\"name\": \"s\", "
                "\"task\": \"t\", \"profile\": \"slow\", \"scope\": [{\"path\": \"@P/docs\", "
                "\"access\": \"read\"}]}}]}, {\"call\": [{\"tool\": \"WaitPod\", \"input\": {}}]},"
                " {\"say\": \"boss done\"}]}");
        POD(&r, "--profile", "project:boss", "go");
        tu_result_done(&r);
        top = e2e_transcript(&env, NULL);
        /* The child's wall time is at most what the boss had left (docs/budgets.md), so the
         * child's budget ends its command before the boss's timeout_s would end the wait. */
        cr_assert(
                strstr(e2e_result_of(top, "WaitPod", 0, &ok), "s: failed") &&
                        strstr(e2e_result_of(top, "WaitPod", 0, &ok), "budget exhausted (seconds "),
                "%s", e2e_result_of(top, "WaitPod", 0, &ok));
        json_decref(top);
        e2e_assert_no_entries(&env);
}

static pid_t pid_in(const char *entry_dir) {
        char *path = tu_path(entry_dir, "pod.json");
        json_t *j = json_load_file(path, 0, NULL);
        pid_t pid = (pid_t) json_integer_value(json_object_get(j, "pid"));

        json_decref(j);
        free(path);
        return pid;
}

Test(spawn_cli, a_killed_parent_takes_its_tree_with_it) {
        char *out = tu_path(env.root, "out.txt");
        char *mid = tu_path(env.runtime, "pods/mid"), *leaf = tu_path(env.runtime, "pods/leaf");
        char *ready = tu_path(env.runtime, "pods/leaf/result.json");
        pid_t top, mid_pid, leaf_pid;

        profile("leaf", "tools: [Bash]\n", "{\"turns\": [{\"say\": \"leaf idle\"}]}");
        profile("mid", SPAWNER_TOOLS,
                "{\"turns\": [{\"call\": [{\"tool\": \"SpawnPod\", \"input\": {\"name\": \"leaf\", "
                "\"task\": \"t\", \"profile\": \"leaf\", \"scope\": [{\"path\": \"@P/src\", "
                "\"access\": \"read\"}]}}]}, {\"call\": [{\"tool\": \"Bash\", \"input\": "
                "{\"command\": \"sleep 60\"}}]}, {\"say\": \"mid done\"}]}");
        profile("top", SPAWNER_TOOLS,
                "{\"turns\": [{\"call\": [{\"tool\": \"SpawnPod\", \"input\": {\"name\": \"mid\", "
                "\"task\": \"t\", \"profile\": \"mid\", \"scope\": [{\"path\": \"@P/src\", "
                "\"access\": \"write\"}]}}]}, {\"call\": [{\"tool\": \"Bash\", \"input\": "
                "{\"command\": \"sleep 60\"}}]}, {\"say\": \"top done\"}]}");
        top = tu_spawn_pod(&env, env.project,
                           (const char *const[]){ "--profile", "top", "go", NULL }, out);
        cr_assert(tu_wait_for_path(ready, 30000), "the grandchild never finished its turn");
        mid_pid = pid_in(mid);
        leaf_pid = pid_in(leaf);
        cr_assert(mid_pid > 0 && leaf_pid > 0 && kill(mid_pid, 0) == 0 && kill(leaf_pid, 0) == 0);
        kill(top, SIGKILL);
        tu_wait(top);
        for (int i = 0; i < 300 && (kill(mid_pid, 0) == 0 || kill(leaf_pid, 0) == 0); i++)
                usleep(50 * 1000);
        cr_assert_neq(kill(mid_pid, 0), 0, "the child outlived its killed parent");
        cr_assert_neq(kill(leaf_pid, 0), 0, "the grandchild outlived the tree");
        {
                tu_result r;
                POD(&r, "ps", "--json");
                cr_assert_eq(r.status, 0);
                cr_assert(strstr(r.out, "[]") || !strstr(r.out, "\"name\""),
                          "no live pod is left: %s", r.out);
                tu_result_done(&r);
        }
        free(out);
        free(mid);
        free(leaf);
        free(ready);
}

Test(spawn_cli, fifty_concurrent_spawns_of_one_name_have_one_winner) {
        enum { N = 50 };
        char *flag = tu_path(env.root, "go");
        pid_t pids[N];
        int wins = 0;

        profile("kid", "", "{\"turns\": [{\"say\": \"kid\"}]}");
        profile("racer", SPAWNER_TOOLS,
                "{\"turns\": [{\"call\": [{\"tool\": \"Bash\", \"input\": {\"command\": "
                "\"while [ ! -e @P/../go ]; do sleep 0.05; done\"}}]},"
                " {\"call\": [{\"tool\": \"SpawnPod\", \"input\": {\"name\": \"same\", \"task\": "
                "\"t\", \"profile\": \"kid\", \"scope\": [{\"path\": \"@P/docs\", \"access\": "
                "\"read\"}]}}]}, {\"call\": [{\"tool\": \"Bash\", \"input\": {\"command\": "
                "\"sleep 8\"}}]}, {\"say\": \"done\"}]}");
        for (int i = 0; i < N; i++) {
                char name[32], out[64];
                snprintf(name, sizeof(name), "racer%d", i);
                snprintf(out, sizeof(out), "%s/out%d", env.root, i);
                pids[i] = tu_spawn_pod(&env, env.project,
                                       (const char *const[]){ "--profile", "racer", "--name", name,
                                                              "--json", "go", NULL },
                                       out);
        }
        tu_write(env.root, "go", "");
        for (int i = 0; i < N; i++) {
                char rel[32];
                char *text;
                cr_assert_eq(tu_wait(pids[i]), 0);
                snprintf(rel, sizeof(rel), "out%d", i);
                text = tu_read_at(env.root, rel);
                wins += strstr(text, "Started pod 'same'") != NULL;
                free(text);
        }
        cr_assert_eq(wins, 1, "%d spawns of one name succeeded", wins);
        e2e_assert_no_entries(&env);
        free(flag);
}

/* ---- pod demo ------------------------------------------------------------------------------ */

Test(spawn_cli, the_demo_runs_its_tree_confined) {
        char *dir = tu_path(env.root, "demo");
        tu_result r;

        POD(&r, "demo", "--dir", dir);
        cr_assert_eq(r.status, 0, "%s", r.err);
        cr_assert(strstr(r.out, "├─ coder") && strstr(r.out, "└─ reviewer"), "the tree: %s", r.out);
        cr_assert(strstr(r.out, "Bash     sh test.sh             ok"), "the coder's test ran: %s",
                  r.out);
        cr_assert(strstr(r.out, "REFUSED") && strstr(r.out, "is read only for pod 'reviewer'"),
                  "the reviewer's write is refused, saying why: %s", r.out);
        if (tu_landlock_abi() >= 1)
                cr_assert(strstr(r.out, "ran confined by the kernel"), "%s", r.out);
        tu_result_done(&r);
        free(dir);
}

/* ---- the idle timeout -------------------------------------------------------------------- */

/* A child that has answered waits for work; after POD_IDLE_TIMEOUT_S idle it stops itself
 * and reports exited. The spawner's command waits for the child's socket to go (no sleep
 * of a guessed length; the test's timeout only stops a hang). */
Test(spawn_cli, an_idle_child_stops_itself_after_its_idle_timeout) {
        char *script = NULL;
        json_t *top;
        bool ok;
        const char *t;

        env.extra_env[0] = "POD_IDLE_TIMEOUT_S=1";
        env.extra_env[1] = "POD_SANDBOX=off"; /* the spawner's command watches the registry */
        quick_child();
        cr_assert_geq(
                asprintf(
                        &script,
                        "{\"turns\": [{\"call\": [{\"tool\": \"SpawnPod\", \"input\": "
                        "{\"name\": \"k\", \"task\": \"t\", \"profile\": \"kid\", "
                        "\"scope\": [{\"path\": \"@P/src\", \"access\": \"write\"}]}}]},"
                        " {\"call\": [{\"tool\": \"WaitPod\", \"input\": {}}, "
                        "{\"tool\": \"ListPods\", \"input\": {}}]},"
                        " {\"call\": [{\"tool\": \"Bash\", \"input\": {\"command\": "
                        "\"test -e %s/pods/k/sock || exit 1; p=$(grep -o "
                        "'[^_a-z]\\\"pid\\\": *[0-9]*' %s/pods/k/pod.json | tr -dc 0-9); "
                        "case $p in '') exit 2;; esac; while [ -e %s/pods/k/sock ]; do sleep 0.05; done; "
                        "while [ -e /proc/$p ] && ! grep -q ') Z' /proc/$p/stat; "
                        "do sleep 0.05; done; echo gone\", \"timeout_s\": 100}}]},"
                        " {\"call\": [{\"tool\": \"ListPods\", \"input\": {}}, "
                        "{\"tool\": \"Write\", \"input\": {\"file_path\": "
                        "\"@P/src/after.c\", \"content\": \"x\"}}]},"
                        " {\"say\": \"done\"}]}",
                        env.runtime, env.runtime, env.runtime),
                0);
        profile("boss", SPAWNER_TOOLS, script);
        free(script);
        e2e_run_ok(&env, "project:boss");
        top = e2e_transcript(&env, NULL);
        cr_assert(strstr(e2e_result_of(top, "WaitPod", 0, &ok), "kid done"));
        t = e2e_result_of(top, "ListPods", 0, &ok);
        cr_assert(strstr(t, "k\tidle"), "the child waits for work first: %s", t);
        t = e2e_result_of(top, "Bash", 0, &ok);
        cr_assert(ok && strstr(t, "gone"),
                  "the child's socket was there, then it went, and its "
                  "process: %s",
                  t);
        t = e2e_result_of(top, "ListPods", 1, &ok);
        cr_assert(strstr(t, "k\texited"), "then it has stopped itself: %s", t);
        t = e2e_result_of(top, "Write", 0, &ok);
        cr_assert(ok, "its lease is back with the spawner: %s", t);
        e2e_assert_no_entries(&env);
        json_decref(top);
}
