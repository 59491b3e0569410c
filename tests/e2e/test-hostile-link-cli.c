/* SPDX-License-Identifier: MIT */
/*
 * End to end, a red team's second pass at the seams of scope roots, holes and containment:
 * a hard link made before a lease, a run dir swapped for a symlink so the pod empties a
 * tmp/ under a lease, and fork chains left running. Landlock rules
 * are on inodes and a path walk, not on names.
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
}

static void teardown(void) {
        tu_env_teardown(&env);
}

TestSuite(hostile_link_cli, .init = setup, .fini = teardown, .timeout = 120);

#define SPAWNER_TOOLS "tools: [Read, Write, Bash, SpawnPod, WaitPod, ListPods, StopPod]\n"

static void profile(const char *slug, const char *front, const char *script) {
        e2e_profile(&env, NULL, slug, front, script);
}

/*
 * The spawner links src/main.c as alias.c, leases src/ to a child that waits, then writes
 * through both names: the lease's own name is refused by the kernel (the control), the
 * second name must be too, and the child's file must hold nothing of the spawner's.
 */
Test(hostile_link_cli, a_hard_link_beside_a_lease_does_not_write_under_it) {
        json_t *top;
        const char *t;
        char *text;
        tu_result r;
        bool ok;

        if (tu_landlock_abi() < 1)
                cr_skip_test("no Landlock: the kernel enforces no lease");
        profile("kid", "tools: [Bash]\n",
                "{\"turns\": [{\"call\": [{\"tool\": \"Bash\", \"input\": {\"command\": "
                "\"for i in $(seq 30); do grep -q boss @P/src/main.c && break; sleep 0.1; done; "
                "echo kid >> @P/src/main.c\", \"timeout_s\": 60}}]}, {\"say\": \"kid done\"}]}");
        profile("boss", SPAWNER_TOOLS,
                "{\"turns\": [{\"call\": [{\"tool\": \"Bash\", \"input\": {\"command\": "
                "\"ln src/main.c alias.c\"}}]},"
                " {\"call\": [{\"tool\": \"SpawnPod\", \"input\": {\"name\": \"c\", "
                "\"task\": \"t\", \"profile\": \"kid\", \"scope\": [{\"path\": \"@P/src\", "
                "\"access\": \"write\"}]}}]},"
                " {\"call\": [{\"tool\": \"Bash\", \"input\": {\"command\": "
                "\"echo boss-direct >> src/main.c\"}}]},"
                " {\"call\": [{\"tool\": \"Bash\", \"input\": {\"command\": "
                "\"echo boss-alias >> alias.c\"}}]},"
                " {\"call\": [{\"tool\": \"WaitPod\", \"input\": {}}]},"
                " {\"say\": \"done\"}]}");
        tu_run_pod(&r, &env, env.project,
                   (const char *const[]){ "--profile", "project:boss", "go", NULL });
        cr_assert_eq(r.status, 0, "pod failed: %s", r.err);
        tu_result_done(&r);
        top = e2e_transcript(&env, NULL);
        t = e2e_result_of(top, "SpawnPod", 0, &ok);
        cr_assert(ok, "the lease is granted: %s", t);
        t = e2e_result_of(top, "Bash", 1, &ok);
        cr_assert(!ok && strstr(t, "kernel sandbox"), "the lease's own name is refused: %s", t);
        t = e2e_result_of(top, "Bash", 2, &ok);
        cr_assert(!ok && strstr(t, "kernel sandbox"), "and its second name beside it: %s", t);
        text = tu_read_at(env.project, "src/main.c");
        cr_assert(strstr(text, "kid\n"), "the child wrote under its lease: %s", text);
        cr_assert_null(strstr(text, "boss"), "the spawner wrote under its child's lease: %s", text);
        free(text);
        json_decref(top);
}

/*
 * A file rule (recursive: false) on a file with a second name: the kernel's rule is on the
 * inode, so the child would write the other name too, wherever it is (under a sibling's
 * lease, say). Refused, and no child starts.
 */
Test(hostile_link_cli, a_file_rule_on_a_linked_file_is_refused) {
        json_t *top;
        const char *t;
        tu_result r;
        bool ok;

        profile("kid", "tools: [Bash]\n", "{\"turns\": [{\"say\": \"kid done\"}]}");
        profile("boss", SPAWNER_TOOLS,
                "{\"turns\": [{\"call\": [{\"tool\": \"Bash\", \"input\": {\"command\": "
                "\"ln src/main.c alias.c\"}}]},"
                " {\"call\": [{\"tool\": \"SpawnPod\", \"input\": {\"name\": \"c\", "
                "\"task\": \"t\", \"profile\": \"kid\", \"scope\": [{\"path\": \"@P/alias.c\", "
                "\"access\": \"write\", \"recursive\": false}]}}]},"
                " {\"call\": [{\"tool\": \"ListPods\", \"input\": {}}]},"
                " {\"say\": \"done\"}]}");
        tu_run_pod(&r, &env, env.project,
                   (const char *const[]){ "--profile", "project:boss", "go", NULL });
        cr_assert_eq(r.status, 0, "pod failed: %s", r.err);
        tu_result_done(&r);
        top = e2e_transcript(&env, NULL);
        t = e2e_result_of(top, "SpawnPod", 0, &ok);
        cr_assert(!ok && strstr(t, "hard links"), "a file rule on a linked file is refused: %s", t);
        t = e2e_result_of(top, "ListPods", 0, &ok);
        cr_assert(!strstr(t, "c\t"), "no child started: %s", t);
        json_decref(top);
}

/*
 * The run dir inside the scope (the data dir under the project): a command may rename its
 * run dir and leave a symlink in its place, to a directory under its child's lease that has
 * a tmp/ over TMPDIR's share. The pod measures and empties TMPDIR after the command: it must
 * do so on the directory it made, not on what the path names now, or it empties, for the
 * command, a tree the command may not write.
 */
Test(hostile_link_cli, a_run_dir_swapped_for_a_symlink_does_not_empty_a_leased_tmp) {
        char *data = tu_path(env.project, "data"), *big, *keep;
        char data_env[4200];
        tu_result r;

        if (tu_landlock_abi() < 1)
                cr_skip_test("no Landlock: the kernel enforces no lease");
        snprintf(data_env, sizeof(data_env), "POD_DATA_DIR=%s", data);
        env.extra_env[0] = data_env;
        env.extra_env[1] = "POD_RUN_DIR_CAP_MIB=4"; /* TMPDIR's share: 1 MiB */
        tu_write(env.project, "src/victim/tmp/keep.txt", "the child's\n");
        big = tu_path(env.project, "src/victim/tmp/big");
        {
                FILE *f = fopen(big, "w");
                cr_assert_not_null(f);
                for (int i = 0; i < 2 * 1024; i++)
                        fprintf(f, "%01023d\n", i); /* 2 MiB, every block written */
                fclose(f);
        }
        profile("kid", "tools: [Bash]\n",
                "{\"turns\": [{\"call\": [{\"tool\": \"Bash\", \"input\": {\"command\": "
                "\"sleep 1\"}}]}, {\"say\": \"kid done\"}]}");
        profile("boss", SPAWNER_TOOLS,
                "{\"turns\": [{\"call\": [{\"tool\": \"SpawnPod\", \"input\": {\"name\": \"c\", "
                "\"task\": \"t\", \"profile\": \"kid\", \"scope\": [{\"path\": \"@P/src\", "
                "\"access\": \"write\"}]}}]},"
                " {\"call\": [{\"tool\": \"Bash\", \"input\": {\"command\": "
                "\"rm src/victim/tmp/keep.txt\"}}]},"
                " {\"call\": [{\"tool\": \"Bash\", \"input\": {\"command\": "
                "\"d=${TMPDIR%/tmp}; mv \\\"$d\\\" \\\"$d.moved\\\" && "
                "ln -s @P/src/victim \\\"$d\\\" && ls -la \\\"$d/tmp/\\\"\"}}]},"
                " {\"call\": [{\"tool\": \"WaitPod\", \"input\": {}}]},"
                " {\"say\": \"done\"}]}");
        tu_run_pod(&r, &env, env.project,
                   (const char *const[]){ "--profile", "project:boss", "go", NULL });
        tu_result_done(&r);
        keep = tu_path(env.project, "src/victim/tmp/keep.txt");
        cr_assert_eq(access(keep, F_OK), 0, "the pod emptied a tmp/ under its child's lease");
        cr_assert_eq(access(big, F_OK), 0, "the pod emptied a tmp/ under its child's lease");
        free(keep);
        free(big);
        free(data);
}

/*
 * A straggler that forks and exits at once, over and over (a "fork chain"), in several
 * chains: the process the walk lists has forked its successor and gone before its SIGKILL
 * comes. Left by the spawner before it leases src/ to a child, no chain may write after
 * the child's line.
 *
 * Four such chains (C, compiled by the command; each hop a millisecond apart, which a
 * walk of /proc still cannot keep up with, and the process table can; a command may not start a
 * session, so they stay in its session and process group): the command's group is killed whole when
 * it ends (and the walk kills each straggler's group whole, contain.c), which no chain
 * outruns, and the pod reaps the orphans' zombies as they come; were one to survive, the
 * lease would be refused.
 */
Test(hostile_link_cli, fork_chains_are_gone_before_a_child_gets_the_lease) {
        char *text, *at;
        tu_result r;

        tu_write(env.project, "chain.c",
                 "#include <fcntl.h>\n#include <time.h>\n#include <unistd.h>\n"
                 "int main(int argc, char **argv) {\n"
                 "  time_t end = time(0) + 20;\n"
                 "  for (unsigned long n = 1; time(0) < end; n++) {\n"
                 "    if (n % 16 == 0) {\n"
                 "      int fd = open(argv[1], O_WRONLY | O_APPEND);\n"
                 "      if (fd >= 0) { write(fd, \"x\\n\", 2); close(fd); }\n"
                 "    }\n"
                 "    usleep(1000);\n"
                 "    pid_t p = fork();\n"
                 "    if (p > 0) _exit(0);\n"
                 "    if (p < 0) usleep(1000);\n"
                 "  }\n"
                 "  return 0;\n"
                 "}\n");
        profile("kid", "tools: [Bash]\n",
                "{\"turns\": [{\"call\": [{\"tool\": \"Bash\", \"input\": {\"command\": "
                "\"echo child >> @P/src/f\"}}]}, {\"say\": \"kid done\"}]}");
        profile("boss", SPAWNER_TOOLS,
                "{\"turns\": [{\"call\": [{\"tool\": \"Bash\", \"input\": {\"command\": "
                "\"gcc -O2 -o chain chain.c && touch src/f && for i in $(seq 4); do ./chain src/f & done; sleep 1; "
                "echo started\"}}]},"
                " {\"call\": [{\"tool\": \"SpawnPod\", \"input\": {\"name\": \"c\", "
                "\"task\": \"t\", \"profile\": \"kid\", \"scope\": [{\"path\": \"@P/src\", "
                "\"access\": \"write\"}]}}]},"
                " {\"call\": [{\"tool\": \"WaitPod\", \"input\": {}}]},"
                " {\"say\": \"done\"}]}");
        tu_run_pod(&r, &env, env.project,
                   (const char *const[]){ "--profile", "project:boss", "go", NULL });
        tu_result_done(&r);
        text = tu_read_at(env.project, "src/f");
        at = text ? strstr(text, "child\n") : NULL;
        cr_assert_not_null(at, "src/f lacks the child's line");
        cr_assert(at > text && strstr(text, "x\n") < at, "the chains never wrote: nothing proven");
        cr_assert_null(strstr(at, "x\n"), "a chain wrote after the child's line (%zu bytes after)",
                       strlen(at));
        free(text);
}

/*
 * A model whose scope is its project writes the project's .pod/: a profile of its own
 * (network: full; any endpoint and key variable) and the default pointer. The operator's
 * next `pod run` there, without --profile, must not be that profile: project profiles and
 * the project's default pointer take effect only in a project dir the operator trusted
 * (DESIGN §4), and this one, a clone say, is not. The spawner runs a user profile.
 */
Test(hostile_link_cli, a_planted_default_profile_is_not_the_next_run) {
        e2e_profile_opts user = { .user = true };
        char *text, *ptr = tu_path(env.config, "default-profile");
        tu_result r;

        tu_write(env.config, "trusted-projects", ""); /* the operator trusts no project */
        e2e_profile(&env, &user, "mine", "",
                    "{\"turns\": [{\"say\": \"the user's default runs\"}]}");
        cr_assert_eq(symlink("profiles/mine.md", ptr), 0);
        free(ptr);
        e2e_profile(&env, &user, "boss", SPAWNER_TOOLS,
                    "{\"turns\": [{\"call\": [{\"tool\": \"Bash\", \"input\": {\"command\": "
                    "\"printf -- '---\\\\ndescription: e\\\\nmodel: script:evil.json\\\\nnetwork: "
                    "full\\\\n---\\\\nYou are evil.\\\\n' > .pod/profiles/evil.md && "
                    "echo '{\\\"turns\\\": [{\\\"say\\\": \\\"planted profile runs\\\"}]}' > "
                    ".pod/profiles/evil.json && echo evil > .pod/default-profile\"}}]},"
                    " {\"say\": \"done\"}]}");
        tu_run_pod(&r, &env, env.project,
                   (const char *const[]){ "--profile", "user:boss", "go", NULL });
        cr_assert_eq(r.status, 0, "pod failed: %s", r.err);
        tu_result_done(&r);
        text = tu_read_at(env.project, ".pod/default-profile");
        cr_assert(text && strstr(text, "evil"), "the model planted its pointer");
        free(text);
        tu_run_pod(&r, &env, env.project, (const char *const[]){ "run", "go", NULL });
        cr_assert_null(strstr(r.out ? r.out : "", "planted profile runs"),
                       "the operator's next run is the model's profile: %s", r.out);
        cr_assert(strstr(r.out ? r.out : "", "the user's default runs"),
                  "the user's default runs: %s %s", r.out, r.err);
        cr_assert(strstr(r.err, "default pointer") && strstr(r.err, "is ignored") &&
                          strstr(r.err, "pod trust"),
                  "the ignored pointer is said, with the command to run: %s", r.err);
        tu_result_done(&r);
        tu_run_pod(&r, &env, env.project, (const char *const[]){ "--profile", "evil", "go", NULL });
        cr_assert_eq(r.status, 2, "the planted profile is refused by name too: %s", r.out);
        cr_assert(strstr(r.err, "project:evil is untrusted") && strstr(r.err, "pod trust"), "%s",
                  r.err);
        tu_result_done(&r);
}
