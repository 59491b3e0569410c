/* SPDX-License-Identifier: MIT */
#pragma once

/* Helpers for the delegate suites (tests/e2e/test-delegate-*-cli.c): the processes a test
 * started, found in /proc by their HOME, and where a key may and may not be. */

#include <jansson.h>
#include <stdbool.h>
#include <sys/types.h>

#include "testutil.h"

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
