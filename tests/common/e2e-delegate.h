/* SPDX-License-Identifier: MIT */
#pragma once

/* Helpers for the delegate suites (tests/e2e/test-delegate-*-cli.c): their environment, the
 * CLI from npm, the mock and the profile at it, the processes a test started (found in /proc
 * by their HOME), and where a key may and may not be. */

#include <jansson.h>
#include <stdbool.h>
#include <sys/types.h>

#include "e2e-mock.h"
#include "testutil.h"

/* A delegate suite's state: its env (PATH with the build's npm bin first, POD_E2E_KEY set),
 * a dir outside the pod's scope, and the mock with its own dir (its log holds the key: the
 * server's). */
typedef struct e2e_delegate {
        tu_env env;
        char *side;
        char *mock_dir;
        e2e_mock mock;
} e2e_delegate;

/* key_assignment: "POD_E2E_KEY=<key>" (kept, not copied). */
void e2e_delegate_setup(e2e_delegate *d, const char *key_assignment);
void e2e_delegate_teardown(e2e_delegate *d);
/* The CLI bin (a path under the build's npm prefix) of npm package, installed by
 * scripts/npm-install.sh, or skip saying why; skip too without Landlock. name: "claude". */
void e2e_need_cli(e2e_delegate *d, const char *name, const char *package, const char *bin);
/* The mock on script (e2e_fill'd: @P the project), logging to mock_dir. */
void e2e_delegate_mock(e2e_delegate *d, const char *script);
/* The user profile slug: model at the mock's URL + path, key POD_E2E_KEY, scope write, then
 * extra (more front matter; NULL: none). */
void e2e_delegate_profile(
        e2e_delegate *d, const char *slug, const char *model, const char *path, const char *extra);
/* A project profile "boss" that spawns "c" on child_profile in the project with task "one",
 * waits, sends it "two", waits again and says "boss done". */
void e2e_boss_profile(const tu_env *env, const char *child_profile);
/* A project profile "kid" (Write, scope write) that writes "from the child" to
 * sub/out.txt of the project (made here) and says "kid wrote it". */
void e2e_kid_profile(const tu_env *env);
/* end (pod run --json's end event) counts in input and out output tokens as the pod's own. */
void e2e_assert_own_usage(const json_t *end, long in, long out, const char *output);
/* key is in neither r's stdout nor its stderr, nor in a file of the test's dirs or side. */
void e2e_assert_no_key(const e2e_delegate *d, const tu_result *r, const char *key);
/* Start `pod --profile selector --name name wait` in the project (its output in
 * pod.out of the test's root) and wait until its CLI runs `sleep 987` (the mock's script
 * says so); the pod's pid. */
pid_t e2e_start_sleeping(e2e_delegate *d, const char *selector, const char *name);
/* `pod stop name` ends the pod (pid pod, reaped here) and every process of this test: none
 * is left running once the kernel took them down (a generous wait, no timing asserted). */
void e2e_assert_stop_ends_all(e2e_delegate *d, pid_t pod, const char *name);

/* The pids whose environment says HOME=env->home (this test's processes), at most max. */
size_t e2e_processes(const tu_env *env, pid_t *pids, size_t max);
/* /proc/PID/NAME, whole (NULL: gone); *len its length. */
char *e2e_proc_file(pid_t pid, const char *name, size_t *len);
pid_t e2e_parent_of(pid_t pid);
/* pid is ancestor or a descendant of it. */
bool e2e_descends_from(pid_t pid, pid_t ancestor);
/* While the CLI (the pod's child whose command line has the argument cli_arg) runs: key is in
 * no command line, and in the environment of none but the pod and the CLI's tree. */
void e2e_assert_key_kept(const tu_env *env, pid_t pod, const char *key, const char *cli_arg);
/* A process of this test whose command line holds s; 0: none. */
pid_t e2e_find_process(const tu_env *env, const char *s);
/* No regular file under dir (symlinks not followed) holds s. */
void e2e_assert_no_file_holds(const char *dir, const char *s);
/* The last line of out, parsed (pod run --json ends with its end event). */
json_t *e2e_last_json_line(const char *out);
