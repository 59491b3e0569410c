/* SPDX-License-Identifier: MIT */
#pragma once

/*
 * The mock model server (tests/mock/mockmodel.py, README there) for the end-to-end suites:
 * started on a script, answering each wire as the real APIs do, logging every request.
 * Tests that need python3 skip without it.
 */

#include <jansson.h>
#include <stdbool.h>
#include <sys/types.h>

#include "testutil.h"

typedef struct e2e_mock {
        pid_t pid;
        int port;
        char *log;
        char url[64]; /* http(s)://127.0.0.1:PORT */
} e2e_mock;

/* Is prog on PATH? */
bool e2e_have(const char *prog);

/* Start a python3 helper (argv: "python3", the script, its arguments; NULL-terminated) that
 * prints "PORT n" as its first line; its port. Skips the test without python3. */
int e2e_helper_start(pid_t *ret_pid, const char *const *argv);

/*
 * Start the mock on script (JSON text, e2e_fill'd with e), with TLS when cert (and key, PEM
 * paths) are given. Its script and request log are dir/name.json and dir/name.log.
 */
void e2e_mock_start(e2e_mock *m,
                    const tu_env *e,
                    const char *dir,
                    const char *name,
                    const char *script,
                    const char *cert,
                    const char *key);
void e2e_mock_stop(e2e_mock *m);
/* The requests the mock logged, as a JSON array (README "--log"). */
json_t *e2e_mock_requests(const e2e_mock *m);
/* How many requests it has served. */
size_t e2e_mock_count(const e2e_mock *m);

/* A profile slug in e's project: model (e.g. anthropic:mock-model) at endpoint, then front
 * (more front matter, e.g. "tools: [Bash]\n"), its prompt "You are <slug>.". */
void e2e_native_profile(const tu_env *e,
                        const char *slug,
                        const char *model,
                        const char *endpoint,
                        const char *front);
