/* SPDX-License-Identifier: MIT */
/*
 * End to end, a hostile model against the run dir's cap and the environment allowlist
 * (issue #13, class 7): repeated Bash calls try to fill the pod's run dir, through their
 * logs and the private TMPDIR, past a small cap; an operator's LC_SECRET must reach no
 * command and no child pod. Script-model profiles play the model; the real pod binary runs
 * in a temporary HOME, config, data and runtime dir.
 */
#include <criterion/criterion.h>
#include <ftw.h>
#include <glob.h>
#include <string.h>
#include <sys/stat.h>

#include "base/base.h"
#include "e2e.h"
#include "testutil.h"
#include <jansson.h>

static tu_env env;

static void setup(void) {
        tu_env_setup(&env);
        tu_write(env.project, "src/main.c", "int main(void) { return 0; }\n");
}

static void teardown(void) {
        tu_env_teardown(&env);
}

TestSuite(hostile_rundir, .init = setup, .fini = teardown, .timeout = 120);

#define POD(r, ...) tu_run_pod(r, &env, env.project, (const char *const[]){ __VA_ARGS__, NULL })

static void profile(const char *slug, const char *front, const char *script) {
        e2e_profile(&env, &(e2e_profile_opts){ .undescribed = true }, slug, front, script);
}

/* The one path matching pattern (relative to the data dir), allocated. */
static char *one_match(const char *pattern) {
        char full[4200];
        glob_t g;
        char *path;

        snprintf(full, sizeof(full), "%s/%s", env.data, pattern);
        cr_assert_eq(glob(full, 0, NULL, &g), 0, "nothing matches %s", full);
        cr_assert_eq(g.gl_pathc, 1, "%zu paths match %s", g.gl_pathc, full);
        path = strdup(g.gl_pathv[0]);
        globfree(&g);
        return path;
}

/* Every tool result's text in a transcript, one after another. */
static char *results_of(const char *transcript) {
        json_t *events = e2e_events_of(transcript), *ev;
        pod_buf b = { 0 };

        for (size_t i = 0; (ev = e2e_find_event(events, "tool_result", NULL, i)); i++)
                buf_printf(&b, "%s\n---\n", json_string_value(json_object_get(ev, "text")));
        json_decref(events);
        return buf_steal(&b);
}

/* results_of the one transcript matching pattern. */
static char *results_at(const char *pattern) {
        char *path = one_match(pattern), *text = results_of(path);

        free(path);
        return text;
}

static unsigned long long disk_used;

static int add_blocks(const char *path, const struct stat *st, int flag, struct FTW *ftw) {
        (void) path, (void) flag, (void) ftw;
        disk_used += (unsigned long long) st->st_blocks * 512;
        return 0;
}

/* What the tree under dir holds on disk, the directories too. */
static unsigned long long du(const char *dir) {
        disk_used = 0;
        cr_assert_eq(nftw(dir, add_blocks, 16, FTW_PHYS), 0, "cannot walk %s", dir);
        return disk_used;
}

#define LOG_3MB \
        "{\"tool\": \"Bash\", \"input\": {\"command\": \"head -c 3000000 /dev/zero | tr '\\\\0' x\"}}"
#define TMP_3MB \
        "{\"tool\": \"Bash\", \"input\": {\"command\": \"head -c 3000000 /dev/zero > $TMPDIR/f$RANDOM\"}}"

/* Eight rounds of 3 MB of output and 3 MB into TMPDIR, a 6 MB file, and 3 MB at the end of
 * a 100-level tree behind a directory made unreadable, against a 4 MiB cap: the run dir
 * stays under it, the model reads why its logs and TMPDIR stop, and commands go on. */
Test(hostile_rundir, repeated_bash_calls_cannot_fill_the_run_dir_past_its_cap) {
        pod_buf script = { 0 };
        char *run_dir, *transcript, *results;
        unsigned long long used;
        tu_result r;

        if (tu_landlock_abi() < 1)
                cr_skip_test("no Landlock: pod refuses to run a sandboxed pod here");
        buf_puts(&script, "{\"turns\": [");
        for (int i = 0; i < 8; i++)
                buf_puts(&script, "{\"call\": [" LOG_3MB ", " TMP_3MB "]}, ");
        buf_puts(&script,
                 "{\"call\": [{\"tool\": \"Bash\", \"input\": {\"command\": \"head -c "
                 "6000000 /dev/zero > $TMPDIR/huge; stat -c size=%s $TMPDIR/huge\"}}]}, "
                 "{\"call\": [{\"tool\": \"Bash\", \"input\": {\"command\": \"d=$TMPDIR; "
                 "for i in $(seq 100); do d=$d/x; done; mkdir -p $d && head -c 3000000 "
                 "/dev/zero > $d/f && chmod 0 $TMPDIR/x\"}}]}, "
                 "{\"call\": [{\"tool\": \"Bash\", \"input\": {\"command\": \"echo "
                 "still-$((6*7)); ls -A $TMPDIR | wc -l\"}}]}, "
                 "{\"say\": \"filled\"}]}");
        profile("filler", "tools: [Bash]\n", buf_str(&script));
        env.extra_env[0] = "POD_RUN_DIR_CAP_MIB=4";
        POD(&r, "--profile", "project:filler", "fill the run dir");
        cr_assert_eq(r.status, 0, "%s", r.err);
        run_dir = one_match("runs/filler-*");
        transcript = one_match("runs/filler-*/transcript.jsonl");
        used = du(run_dir);
        cr_assert_leq(used, 4ull << 20, "the run dir holds %llu bytes, over its cap of 4 MiB",
                      used);
        results = results_of(transcript);
        cr_assert(
                strstr(results, "output log truncated: the pod's run dir reached its cap of 4 MiB"),
                "the model reads why its logs stop: %s", results);
        cr_assert(strstr(results, "[TMPDIR emptied: it held "), "%s", results);
        cr_assert(strstr(results, "size=4194304\n"), "no file grows past the cap: %s", results);
        cr_assert(strstr(results, "[TMPDIR emptied: it held too many files or too deep a tree"),
                  "a deep tree behind a locked directory is emptied too: %s", results);
        cr_assert(strstr(results, "still-42\n0\n"), "and commands go on: %s", results);
        free(results);
        free(transcript);
        free(run_dir);
        buf_done(&script);
        tu_result_done(&r);
}

Test(hostile_rundir, an_invalid_cap_is_refused_with_its_name) {
        static const char *const bad[] = { "POD_RUN_DIR_CAP_MIB=0", "POD_RUN_DIR_CAP_MIB=lots",
                                           "POD_RUN_DIR_CAP_MIB=99999999999" };
        tu_result r;

        profile("quiet", "tools: [Bash]\n", "{\"turns\": [{\"say\": \"hi\"}]}");
        for (size_t i = 0; i < POD_ARRAY_SIZE(bad); i++) {
                env.extra_env[0] = bad[i];
                POD(&r, "--profile", "project:quiet", "hi");
                cr_assert_neq(r.status, 0, "%s is refused", bad[i]);
                cr_assert(strstr(r.err, "POD_RUN_DIR_CAP_MIB: '") &&
                                  strstr(r.err, "' is not a whole number of MiB from 1 to 1048576"),
                          "%s", r.err);
                tu_result_done(&r);
        }
}

/* The operator's LC_SECRET reaches neither a command nor a child pod (whose own
 * environment its command reads, unsandboxed, from /proc); LC_ALL does. */
Test(hostile_rundir, lc_secret_reaches_no_command_and_no_child) {
        pod_buf boss = { 0 };
        tu_result r;
        char *top, *kid;

        profile("kid", "tools: [Bash]\n",
                "{\"turns\": [{\"call\": [{\"tool\": \"Bash\", \"input\": {\"command\": \"env\"}},"
                " {\"tool\": \"Bash\", \"input\": {\"command\": \"tr '\\\\0' '\\\\n' < "
                "/proc/$PPID/environ\"}}]}, {\"say\": \"kid done\"}]}");
        buf_printf(
                &boss,
                "{\"turns\": [{\"call\": [{\"tool\": \"Bash\", \"input\": {\"command\": \"env\"}},"
                " {\"tool\": \"SpawnPod\", \"input\": {\"name\": \"kid\", \"task\": \"t\", "
                "\"profile\": \"project:kid\", \"scope\": [{\"path\": \"%s\", \"access\": "
                "\"read\"}]}}]}, {\"call\": [{\"tool\": \"WaitPod\", \"input\": {}}]}, "
                "{\"say\": \"boss done\"}]}",
                env.project);
        profile("boss", "tools: [Bash, SpawnPod, WaitPod]\n", buf_str(&boss));
        env.extra_env[0] = "LC_SECRET=hunter2";
        env.extra_env[1] = "POD_SANDBOX=off"; /* so the child's command may read its environ */
        POD(&r, "--profile", "project:boss", "go");
        cr_assert_eq(r.status, 0, "%s", r.err);
        top = results_at("runs/boss-*/transcript.jsonl");
        kid = results_at("runs/boss-*/kid-*/transcript.jsonl");
        cr_assert(strstr(top, "LC_ALL=C.UTF-8\n"), "%s", top);
        cr_assert_null(strstr(top, "hunter2"), "the spawner's command: %s", top);
        cr_assert(strstr(kid, "LC_ALL=C.UTF-8\n"), "%s", kid);
        cr_assert_null(strstr(kid, "hunter2"), "the child and its command: %s", kid);
        cr_assert(strstr(kid, "POD_RUNTIME_DIR="), "the child's own environment was read: %s", kid);
        free(top);
        free(kid);
        buf_done(&boss);
        tu_result_done(&r);
}
