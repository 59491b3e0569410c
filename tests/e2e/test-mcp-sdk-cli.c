/* SPDX-License-Identifier: MIT */
/*
 * End to end: the official MCP TypeScript SDK as the client of `pod mcp` (tests/mcp-sdk/
 * client.mjs): v1 (@modelcontextprotocol/sdk) over the initialize-based revision, v2
 * (@modelcontextprotocol/client) negotiating the current one. The SDK is installed from npm
 * into a build-local prefix (scripts/npm-install.sh); without npm or its registry the tests
 * skip and say why.
 */
#include <criterion/criterion.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include "e2e.h"
#include "testutil.h"

static tu_env env;

static void setup(void) {
        tu_env_setup(&env);
        tu_mkdirs(env.project, "src");
        e2e_profile(
                &env, NULL, "kid", "tools: [Read, Write, Bash]\n",
                "{\"turns\": [{\"say\": \"writing\", \"call\": [{\"tool\": \"Write\", \"input\": "
                "{\"file_path\": \"@P/src/kid.c\", \"content\": \"x\"}}]}, {\"say\": \"kid "
                "done\"}]}");
}

static void teardown(void) {
        tu_env_teardown(&env);
}

TestSuite(mcp_sdk_cli, .init = setup, .fini = teardown, .timeout = 600);

static void run_client(const char *mode) {
        const char *argv[] = { "/usr/bin/env",
                               "node",
                               POD_SOURCE_DIR "/tests/mcp-sdk/client.mjs",
                               mode,
                               e2e_npm_prefix,
                               POD_BINARY_PATH,
                               env.project,
                               NULL };
        char *why = e2e_npm_install(&env,
                                    (const char *const[]){ "@modelcontextprotocol/sdk@1",
                                                           "@modelcontextprotocol/client@2",
                                                           NULL }),
             *out_path, *text;
        int in, out, status;

        if (why)
                cr_skip_test("the MCP SDK is not available: %s", why);
        out_path = tu_path(env.root, "client.log");
        in = open("/dev/null", O_RDONLY | O_CLOEXEC);
        out = open(out_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
        status = tu_wait(tu_spawn_with(&env, env.project, argv, in, out, out_path));
        text = tu_read(out_path);
        cr_assert_eq(status, 0, "the SDK client (%s) passes its checks:\n%s", mode, text);
        cr_assert(strstr(text, "ok a scope beyond the grant is an isError result"), "%s", text);
        free(text);
        text = tu_read_at(env.project, "src/kid.c");
        cr_assert(text, "the child wrote inside its lease");
        free(text);
        e2e_assert_no_entries(&env);
        close(in);
        close(out);
        free(out_path);
}

Test(mcp_sdk_cli, the_v1_sdk_spawns_and_waits_over_the_initialize_revision) {
        run_client("v1");
}

Test(mcp_sdk_cli, the_v2_sdk_negotiates_the_current_revision) {
        run_client("v2");
}
