/* SPDX-License-Identifier: MIT */
/*
 * The tree (a pod's children) without a model: the "pod executable" is a shell script that
 * plays a child on the adopt channel (descriptor 4: ready, then one run request), or fails
 * to. What is checked is the spawner's bookkeeping: leases, the registry, limits, reaping,
 * stopping and the rollback of a child that never becomes ready.
 */
#include <errno.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "pod-test.h"

static char *run_dir, *runtime_dir, *sock, *exe;
static pod_registry *reg;
static json_t *manifest, *entry;
static pod_tree *tree;
static volatile sig_atomic_t cancel;

/* The spawner: project:lead in proj, write proj, without a sandbox (the fake child is a
 * script), with the given profile lines. */
static json_t *lead_manifest(const char *front) {
        profile_set *s = NULL;
        const profile_entry *e = NULL;
        pod_scope scope = { 0 };
        manifest_inputs in = { .cwd = proj, .name = "lead", .scope = &scope, .sandbox_off = true };
        char text[512];
        json_t *m = NULL;
        pod_error err = { 0 };

        snprintf(text, sizeof(text),
                 "---\nmodel: openai:x\napi_key_env: LC_POD_TEST_KEY\n%s---\nLead.\n", front);
        tu_write(proj, ".pod/profiles/lead.md", text);
        tu_trust(proj, proj); /* the project as the config dir: trusted, no user profiles */
        cr_assert_eq(profile_set_discover(&s, proj, proj, &err), 0, "%s", err.msg);
        cr_assert_eq(profile_set_select(&e, s, "project:lead", SEL_CONTEXT_CLI, &err), 0, "%s",
                     err.msg);
        scope_add(&scope, false, proj, POD_ACCESS_WRITE, true, NULL);
        cr_assert_eq(manifest_resolve(&m, NULL, e->profile, &in, &err), 0, "%s", err.msg);
        json_object_set_new(m, "profiles", profile_set_snapshot(s));
        scope_done(&scope);
        profile_set_free(s);
        return m;
}

/* A tree whose children are the script exe_body (after "#!/bin/sh\n"). */
static void start_tree(const char *front, const char *exe_body) {
        char script[1024];
        pod_error err = { 0 };
        tree_opts o;

        exe = tu_path(root, "fake-pod");
        snprintf(script, sizeof(script), "#!/bin/sh\n%s", exe_body);
        tu_write(root, "fake-pod", script);
        cr_assert_eq(chmod(exe, 0755), 0);
        run_dir = tu_path(root, "runs");
        runtime_dir = tu_path(root, "rt");
        sock = tu_path(root, "rt/lead.sock");
        tu_mkdirs(root, "runs");
        cr_assert_eq(registry_open(&reg, runtime_dir, &err), 0, "%s", err.msg);
        manifest = lead_manifest(front);
        entry = json_pack("{s:s, s:s}", "name", "lead", "state", "running");
        cr_assert_eq(registry_reserve(reg, "lead", entry, NULL, &err), 0, "%s", err.msg);
        o = (tree_opts){ .manifest = manifest,
                         .name = "lead",
                         .sock = sock,
                         .run_dir = run_dir,
                         .exe = exe,
                         .runtime_dir = runtime_dir,
                         .envp = environ,
                         .reg = reg,
                         .entry = entry,
                         .cancel = &cancel };
        cr_assert_eq(tree_new(&tree, &o, &err), 0, "%s", err.msg);
}

static void stop_tree(void) {
        tree = tree_free(tree);
        json_decref(manifest);
        json_decref(entry);
        reg = registry_free(reg);
        free(run_dir);
        free(runtime_dir);
        free(sock);
        free(exe);
        cr_assert_eq(waitpid(-1, NULL, WNOHANG), -1, "no child process is left, not even a zombie");
        cr_assert_eq(errno, ECHILD);
}

static void setup(void) {
        pod_fixture_setup();
        unsetenv("POD_READY_TIMEOUT_MS");
}

static void teardown(void) {
        if (tree)
                stop_tree();
        pod_fixture_teardown();
}

TestSuite(tree, .init = setup, .fini = teardown);

/* A child that reports ready, acknowledges its task and then waits to be stopped. */
static const char *good_child =
        "printf R >&4\n"
        "read -r line <&4\n"
        "printf '{\"jsonrpc\":\"2.0\",\"id\":1,\"result\":{\"accepted\":true,\"turn\":1}}\\n' >&4\n"
        "exec sleep 600\n";

/* Run a pod tool; the result must be an error (want_error) or not. */
static char *tool(const char *name, const char *input_json, bool want_error) {
        json_t *in = json_loads(input_json, 0, NULL);
        tool_result r = { 0 };

        cr_assert_not_null(in, "bad test input %s", input_json);
        cr_assert_eq(tree_tool(&r, tree, name, in), 0);
        json_decref(in);
        cr_assert_eq(r.is_error, want_error, "%s %s -> %s", name, input_json, r.text);
        return r.text;
}

/* SpawnPod {name, task, scope: write <proj>/<dir>}. */
static char *spawn(const char *name, const char *dir, bool want_error) {
        char *in = NULL, *out;

        cr_assert_geq(asprintf(&in,
                               "{\"name\": \"%s\", \"task\": \"fix\", \"scope\": [{\"path\": "
                               "\"%s/%s\", \"access\": \"write\"}]}",
                               name, proj, dir),
                      0);
        out = tool("SpawnPod", in, want_error);
        free(in);
        return out;
}

static bool has_entry(const char *name) {
        json_t *e = NULL;
        bool alive = false;
        int r = registry_read(&e, &alive, reg, name, NULL);

        json_decref(e);
        return r >= 0;
}

static bool leased(const char *rel) {
        char *p = tu_path(proj, rel), holder[POD_NAME_BUF] = "";
        bool l = tree_leased(tree, p, holder);

        free(p);
        return l;
}

Test(tree, a_child_holds_its_lease_until_it_is_stopped) {
        scope_lease *l = NULL;
        size_t n = 0;
        json_t *kids;
        char *out;

        start_tree("", good_child);
        tu_mkdirs(proj, "src");
        free(spawn("c1", "src", false));
        cr_assert_eq(tree_live_children(tree), 1);
        cr_assert(has_entry("c1"));
        cr_assert(leased("src/main.c"), "the child's write scope is leased");
        cr_assert_not(leased("README.md"), "the rest is the spawner's");
        cr_assert_eq(tree_lease_list(tree, &l, &n), 0);
        cr_assert_eq(n, 1);
        cr_assert(strstr(l[0].path, "/proj/src"), "%s", l[0].path);
        lease_list_free(l, n);
        kids = json_object_get(entry, "children");
        cr_assert_not_null(json_object_get(kids, "c1"), "the spawner's entry lists the child");
        /* The lease is exclusive: an overlapping child is refused, naming the holder. */
        out = spawn("c2", "src/sub", true);
        cr_assert(strstr(out, "c1"), "%s", out);
        free(out);
        cr_assert_not(has_entry("c2"), "a refusal leaves nothing behind");
        out = tool("StopPod", "{\"name\": \"c1\"}", false);
        cr_assert(strstr(out, "Stopped pod 'c1'; its write lease is back with you"), "%s", out);
        free(out);
        cr_assert_eq(tree_live_children(tree), 0);
        cr_assert_not(has_entry("c1"), "the stopped child's entry is removed");
        cr_assert_not(leased("src/main.c"), "the lease is back");
        free(spawn("c2", "src", false)); /* and can be given again */
}

/* The spawner's pod.json lists its children as its memory does: each record is kept made and
 * only a changed one made again, so the file is checked against the entry in memory. */
static void assert_file_lists_children(const char *const *names, size_t n) {
        json_t *e = NULL, *kids;
        bool alive = false;

        cr_assert_eq(registry_read(&e, &alive, reg, "lead", NULL), 0);
        kids = json_object_get(e, "children");
        cr_assert(json_equal(kids, json_object_get(entry, "children")),
                  "pod.json's children are the entry's");
        cr_assert_eq(json_object_size(kids), n);
        for (size_t i = 0; i < n; i++) {
                json_t *k = json_object_get(kids, names[i]);
                cr_assert_not_null(k, "pod.json lists %s", names[i]);
                cr_assert(json_is_object(json_object_get(k, "budget")), "%s has its budget",
                          names[i]);
                cr_assert(json_is_object(json_object_get(k, "usage")), "%s has its usage",
                          names[i]);
        }
        cr_assert_str_eq(json_string_value(json_object_get(e, "name")), "lead");
        json_decref(e);
}

static const char *recorded_state(const char *name) {
        json_t *kids = json_object_get(entry, "children");

        return json_string_value(json_object_get(json_object_get(kids, name), "state"));
}

Test(tree, the_spawners_pod_json_lists_its_children_as_they_change) {
        start_tree("", good_child);
        tu_mkdirs(proj, "a");
        tu_mkdirs(proj, "b");
        free(spawn("c1", "a", false));
        assert_file_lists_children((const char *[]){ "c1" }, 1);
        free(spawn("c2", "b", false));
        assert_file_lists_children((const char *[]){ "c1", "c2" }, 2);
        free(tool("StopPod", "{\"name\": \"c1\"}", false));
        assert_file_lists_children((const char *[]){ "c1", "c2" }, 2);
        cr_assert_str_eq(recorded_state("c1"), "stopped");
        free(spawn("c1", "a", false)); /* a new c1 takes the ended one's place */
        assert_file_lists_children((const char *[]){ "c1", "c2" }, 2);
        cr_assert_str_eq(recorded_state("c1"), "running");
        free(tool("StopPod", "{\"name\": \"c1\"}", false));
        free(tool("StopPod", "{\"name\": \"c2\"}", false));
}

Test(tree, a_child_that_ends_is_reaped_and_its_lease_returns) {
        start_tree("",
                   "printf R >&4\nread -r line <&4\n"
                   "printf '{\"jsonrpc\":\"2.0\",\"id\":1,\"result\":{}}\\n' >&4\n"
                   "read -r line <&4\n");
        tu_mkdirs(proj, "src");
        free(spawn("c1", "src", false));
        cr_assert(leased("src"));
        /* The script ends when the spawner's end of the channel closes (it did after run); the
         * loop only bounds a hang (60 s), it times nothing. */
        for (int i = 0; i < 6000 && tree_live_children(tree) > 0; i++)
                usleep(10 * 1000);
        cr_assert_eq(tree_live_children(tree), 0, "the ended child is reaped");
        cr_assert_not(has_entry("c1"));
        cr_assert_not(leased("src"));
}

Test(tree, max_children_counts_live_children) {
        char *out;

        start_tree("limits:\n  max_children: 1\n", good_child);
        tu_mkdirs(proj, "a");
        tu_mkdirs(proj, "b");
        free(spawn("c1", "a", false));
        out = spawn("c2", "b", true);
        cr_assert(strstr(out,
                         "refused by max_children: this pod already has 1 children (its "
                         "limit is 1)"),
                  "%s", out);
        free(out);
        cr_assert_not(has_entry("c2"));
        free(tool("StopPod", "{\"name\": \"c1\"}", false));
        free(spawn("c2", "b", false)); /* a stopped child no longer counts */
}

Test(tree, a_child_that_never_reports_ready_is_stopped_and_rolled_back) {
        char *out, *runs;

        cr_assert_eq(setenv("POD_READY_TIMEOUT_MS", "300", 1), 0);
        start_tree("", "exec sleep 600\n");
        tu_mkdirs(proj, "src");
        out = spawn("c1", "src", true);
        cr_assert(strstr(out,
                         "SpawnPod: pod 'c1' did not report ready within 0.3 s and was "
                         "stopped"),
                  "%s", out);
        free(out);
        cr_assert_eq(tree_live_children(tree), 0);
        cr_assert_not(has_entry("c1"), "the reservation is rolled back");
        cr_assert_not(leased("src"), "and the lease with it");
        runs = tu_path(root, "runs/c1-1");
        cr_assert_neq(access(runs, F_OK), 0, "the child's run dir is removed");
        free(runs);
}

Test(tree, a_child_that_fails_to_start_says_why) {
        char *out;

        start_tree("", "printf '!no key in LC_POD_TEST_KEY' >&4\nexit 1\n");
        tu_mkdirs(proj, "src");
        out = spawn("c1", "src", true);
        cr_assert(strstr(out,
                         "SpawnPod: pod 'c1' exited before it was ready: no key in "
                         "LC_POD_TEST_KEY"),
                  "%s", out);
        free(out);
        cr_assert_not(has_entry("c1"));
        cr_assert_not(leased("src"));
}

Test(tree, a_child_that_dies_at_once_shows_its_stderr) {
        char *out;

        start_tree("", "echo 'fake-pod: cannot start' >&2\nexit 3\n");
        tu_mkdirs(proj, "src");
        out = spawn("c1", "src", true);
        cr_assert(strstr(out, "exited before it was ready"), "%s", out);
        cr_assert(strstr(out, "fake-pod: cannot start"), "%s", out);
        free(out);
        cr_assert_not(has_entry("c1"));
}

/* reconfigure (DESIGN §12): a bad snapshot changes nothing; a good one is what the next
 * SpawnPod resolves against. */
Test(tree, a_reconfigured_snapshot_is_what_later_spawns_resolve_against) {
        json_t *snap, *params, *res = NULL;
        pod_error err = { 0 };
        char *out;

        start_tree("", good_child);
        tu_mkdirs(proj, "src");
        params = json_pack("{s:i}", "profiles", 5);
        cr_assert_lt(tree_reconfigure(tree, params, &res, &err), 0);
        cr_assert(strstr(err.msg, "reconfigure needs {profiles"), "%s", err.msg);
        json_decref(params);
        out = tool("SpawnPod",
                   "{\"name\": \"k\", \"task\": \"t\", \"profile\": \"kid2\", \"scope\": "
                   "[{\"path\": \"/nonexistent-is-refused-later\", \"access\": \"read\"}]}",
                   true);
        cr_assert(strstr(out, "no profile named 'kid2'"), "%s", out);
        free(out);
        snap = json_deep_copy(json_object_get(manifest, "profiles"));
        json_array_append_new(json_object_get(snap, "profiles"),
                              json_pack("{s:s, s:s, s:s, s:s}", "source", "user", "slug", "kid2",
                                        "file", "/cfg/profiles/kid2.md", "text",
                                        "---\nmodel: openai:k\n---\nKid.\n"));
        params = json_pack("{s:o}", "profiles", snap);
        cr_assert_eq(tree_reconfigure(tree, params, &res, &err), 0, "%s", err.msg);
        cr_assert_eq(strlen(json_string_value(json_object_get(res, "digest"))), 64);
        cr_assert_eq(json_integer_value(json_object_get(res, "forwarded")), 0, "no children yet");
        json_decref(res);
        json_decref(params);
        {
                char *in = NULL;
                cr_assert_geq(
                        asprintf(&in,
                                 "{\"name\": \"k\", \"task\": \"t\", \"profile\": \"kid2\", "
                                 "\"scope\": [{\"path\": \"%s/src\", \"access\": \"write\"}]}",
                                 proj),
                        0);
                free(tool("SpawnPod", in, false));
                free(in);
        }
}
