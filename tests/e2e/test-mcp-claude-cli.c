/* SPDX-License-Identifier: MIT */
/*
 * End to end: the real Claude Code CLI (`claude -p`, npm @anthropic-ai/claude-code) as the MCP
 * client of a standalone `pod mcp`, its model played by the mock model server
 * (tests/mock/mockmodel.py, the Messages wire): the model asks for a SpawnPod outside the
 * grant (an error it sees), a SpawnPod of a script-model child that writes inside its lease,
 * and a WaitPod whose result it repeats. Three ways to add the server: --mcp-config, and the
 * two that docs/mcp.md gives (`claude mcp add`, a hand-written .mcp.json). The CLI is
 * installed from npm into the build-local prefix (scripts/npm-install.sh); without node, npm
 * or the registry the tests skip and say why.
 */
#include <criterion/criterion.h>
#include <dirent.h>
#include <fcntl.h>
#include <limits.h>
#include <string.h>
#include <unistd.h>

#include "base/base.h"
#include "e2e.h"
#include "testutil.h"

#define KEY "sk-test-claude-mcp-2b7e"
#define CLAUDE_PACKAGE "@anthropic-ai/claude-code@2"
/* Tools allowed without a prompt, as docs/mcp.md says: these two, or "mcp__pod" (all). */
#define ALLOWED "mcp__pod__SpawnPod,mcp__pod__WaitPod"

static tu_env env;
static char *side; /* the mock's script and log (outside env.root) */
static char *claude; /* the CLI in the npm prefix */
static char base_url[96], path_var[PATH_MAX + 64];

static void setup(void) {
        char *dir = strdup(POD_BINARY);

        tu_env_setup(&env);
        side = tu_tmpdir();
        tu_mkdirs(env.project, "src");
        e2e_profile(&env, NULL, "kid", "tools: [Read, Write]\n",
                    "{\"turns\": [{\"say\": \"writing\", \"call\": [{\"tool\": \"Write\", "
                    "\"input\": {\"file_path\": \"@P/src/kid.txt\", \"content\": \"from the "
                    "kid\"}}]}, {\"say\": \"kid done\"}]}");
        /* `pod` on PATH, as the configs of docs/mcp.md name it. */
        dir[strlen(dir) - strlen(strrchr(dir, '/'))] = '\0';
        snprintf(path_var, sizeof(path_var), "PATH=%s:/usr/local/bin:/usr/bin:/bin", dir);
        free(dir);
        env.extra_env[0] = "ANTHROPIC_API_KEY=" KEY;
        env.extra_env[1] = base_url;
        env.extra_env[2] = path_var;
        /* Offline: no update check, no telemetry; only the mock is asked anything. */
        env.extra_env[3] = "DISABLE_AUTOUPDATER=1";
        env.extra_env[4] = "CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC=1";
        /* claude -p connects its MCP servers in the background and may ask the model before
         * the pod tools are there: wait for the server (docs/mcp.md), long enough for a
         * sanitizer build under load. */
        env.extra_env[5] = "MCP_CONNECTION_NONBLOCKING=0";
        env.extra_env[6] = "MCP_CONNECT_TIMEOUT_MS=120000";
        claude = tu_path(e2e_npm_prefix, "node_modules/.bin/claude");
}

static void teardown(void) {
        tu_env_teardown(&env);
        tu_rm_rf(side);
        free(side);
        free(claude);
}

/* The first test in a build dir installs the CLI (a large download). */
TestSuite(mcp_claude_cli, .init = setup, .fini = teardown, .timeout = 600);

/* The model's turns: a spawn beyond the grant, a spawn in src/, a wait, the answer. */
static const char script[] =
        "{\"turns\": ["
        " {\"say\": \"Trying /etc.\", \"call\": [{\"tool\": \"mcp__pod__SpawnPod\", \"input\": "
        "{\"name\": \"far\", \"task\": \"look\", \"profile\": \"project:kid\", \"scope\": "
        "[{\"path\": \"/etc\", \"access\": \"read\"}]}}]},"
        " {\"say\": \"Spawning.\", \"call\": [{\"tool\": \"mcp__pod__SpawnPod\", \"input\": "
        "{\"name\": \"c1\", \"task\": \"write a file\", \"profile\": \"project:kid\", "
        "\"scope\": [{\"path\": \"@P/src\", \"access\": \"write\"}]}}]},"
        " {\"say\": \"Waiting.\", \"call\": [{\"tool\": \"mcp__pod__WaitPod\", \"input\": "
        "{\"timeout_s\": 300}}]},"
        " {\"say\": \"Final: {{last_tool_result}}\"}]}";

/* Install the CLI; skip the test with the reason when it cannot be. */
static void need_claude(void) {
        char *why = e2e_npm_install(&env, (const char *const[]){ CLAUDE_PACKAGE, NULL });

        if (why)
                cr_skip_test("the Claude Code CLI is not available: %s", why);
        if (access(claude, X_OK) != 0)
                cr_skip_test("npm installed %s without its binary for this platform (%s)",
                             CLAUDE_PACKAGE, claude);
}

/* Run claude with args (after the program) in the project; its exit status, its stdout in
 * *ret_out and stderr in *ret_err (caller frees). Bounded by timeout(1), so that a hung CLI
 * ends and its server sees the disconnection. */
static int run_claude(const char *const *args, char **ret_out, char **ret_err) {
        const char *argv[32] = { "/usr/bin/timeout", "--kill-after=10", "300", claude };
        char *out_path = tu_path(side, "claude.out"), *err_path = tu_path(side, "claude.err");
        int in = open("/dev/null", O_RDONLY | O_CLOEXEC);
        int out = open(out_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
        size_t n = 4;
        int status;

        for (; *args && n < POD_ARRAY_SIZE(argv) - 1; args++)
                argv[n++] = *args;
        argv[n] = NULL;
        cr_assert(in >= 0 && out >= 0);
        status = tu_wait(tu_spawn_with(&env, env.project, argv, in, out, err_path));
        close(in);
        close(out);
        *ret_out = tu_read(out_path);
        *ret_err = tu_read(err_path);
        free(out_path);
        free(err_path);
        return status;
}

/* Whether a process (other than the tests') works below env.root: the server or a child. */
static pid_t left_below_root(void) {
        char *root = realpath(env.root, NULL);
        size_t len = strlen(root);
        pid_t found = 0;
        DIR *d = opendir("/proc");
        struct dirent *de;

        cr_assert(d);
        while (!found && (de = readdir(d))) {
                char link[300], cwd[PATH_MAX];
                ssize_t k;
                if (de->d_name[0] < '1' || de->d_name[0] > '9')
                        continue;
                snprintf(link, sizeof(link), "/proc/%s/cwd", de->d_name);
                k = readlink(link, cwd, sizeof(cwd) - 1);
                if (k <= 0)
                        continue;
                cwd[k] = '\0';
                if (strncmp(cwd, root, len) == 0 && (cwd[len] == '/' || cwd[len] == '\0'))
                        found = (pid_t) atoi(de->d_name);
        }
        closedir(d);
        free(root);
        return found;
}

/* After claude has exited: its server stops its tree and ends (a minute at most, not a
 * measure); then no pod is registered and no process is left. */
static void assert_tree_gone(void) {
        tu_result r;
        pid_t left = 0;

        for (int i = 0; i < 600 && (left = left_below_root()); i++)
                usleep(100 * 1000);
        cr_assert_eq(left, 0, "process %d still works below the test's dirs", (int) left);
        e2e_assert_no_entries(&env);
        tu_run_pod(&r, &env, env.project, (const char *const[]){ "ps", "--json", NULL });
        cr_assert_eq(r.status, 0, "%s", r.err);
        cr_assert_str_eq(r.out, "[]\n", "pod ps shows nothing running");
        tu_result_done(&r);
}

/* The tool results in the mock's last request (the whole conversation), as one text; each
 * error result is marked "ERROR:". */
static char *tool_results(const e2e_mock *m) {
        json_t *reqs = e2e_mock_requests(m), *last = NULL, *msg, *block;
        size_t i, j, most = 0;
        pod_buf b = { 0 };

        json_array_foreach(reqs, i, msg) {
                size_t k =
                        json_array_size(json_object_get(json_object_get(msg, "body"), "messages"));
                if (k >= most) {
                        most = k;
                        last = json_object_get(json_object_get(msg, "body"), "messages");
                }
        }
        json_array_foreach(last, i, msg) {
                json_array_foreach(json_object_get(msg, "content"), j, block) {
                        char *text;
                        if (!json_is_object(block) ||
                            strcmp(json_string_value(json_object_get(block, "type")) ?: "",
                                   "tool_result") != 0)
                                continue;
                        text = json_dumps(json_object_get(block, "content"), JSON_ENCODE_ANY);
                        buf_printf(&b, "%s%s\n",
                                   json_is_true(json_object_get(block, "is_error")) ? "ERROR:" : "",
                                   text);
                        free(text);
                }
        }
        json_decref(reqs);
        return buf_steal(&b);
}

/* `claude -p` with the tools allowed (no prompt can be answered) and more arguments runs the
 * script against the server it was given: what each way of adding it must show. */
static void spawn_and_wait(const char *allowed, const char *const *more) {
        const char *args[16] = { "-p",
                                 "Spawn a child pod that writes a file, then wait for it.",
                                 "--model",
                                 "mock-model",
                                 "--allowedTools",
                                 allowed };
        size_t n = 6;
        e2e_mock m = { 0 };
        char *out, *err, *text, *results;
        int status;

        for (; more && *more && n < POD_ARRAY_SIZE(args) - 1; more++)
                args[n++] = *more;
        args[n] = NULL;
        need_claude();
        e2e_mock_start(&m, &env, side, "model", script, NULL, NULL);
        snprintf(base_url, sizeof(base_url), "ANTHROPIC_BASE_URL=%s", m.url);
        status = run_claude(args, &out, &err);
        cr_assert_eq(status, 0, "claude -p succeeds:\n%s\n%s", out ?: "", err ?: "");
        results = tool_results(&m);
        text = tu_read_at(env.project, "src/kid.txt");
        cr_assert(text && strcmp(text, "from the kid") == 0,
                  "the child wrote inside its lease:\n%s\n%s\n%s", out, err, results);
        free(text);
        text = results;
        cr_assert(strstr(text, "ERROR:") && strstr(text, "scope rule read:/etc refused"),
                  "the spawn beyond the grant came back to the model as an error: %s", text);
        cr_assert(strstr(text, "Started pod 'c1'"), "%s", text);
        cr_assert(strstr(text, "kid done"), "WaitPod's result reached the model: %s", text);
        free(text);
        cr_assert(strstr(out, "Final: ") && strstr(out, "## c1") && strstr(out, "kid done"),
                  "claude's answer carries the WaitPod result: %s", out);
        cr_assert(!strstr(out, KEY) && !strstr(err, KEY), "the key is in no output");
        free(out);
        free(err);
        assert_tree_gone();
        {
                json_t *events = e2e_transcript_at(&env, "runs/mcp-*/transcript.jsonl");
                cr_assert(e2e_find_event(events, "end", NULL, 0),
                          "the server recorded its end (its client went away)");
                json_decref(events);
        }
        /* claude hands its environment, key included, to the server: pod keeps it out of
         * the transcripts, the registry and the children's files. */
        cr_assert(!e2e_tree_has(env.root, KEY), "no file below the test's dirs holds the key");
        e2e_mock_stop(&m);
}

Test(mcp_claude_cli, spawns_and_waits_through_mcp_config) {
        char *config = NULL, *file;

        cr_assert_geq(asprintf(&config,
                               "{\"mcpServers\": {\"pod\": {\"command\": \"%s\", \"args\": "
                               "[\"mcp\", \"--scope\", \"write:.\"]}}}",
                               POD_BINARY),
                      0);
        tu_write(side, "mcp.json", config);
        file = tu_path(side, "mcp.json");
        spawn_and_wait(ALLOWED,
                       (const char *const[]){ "--mcp-config", file, "--strict-mcp-config", NULL });
        free(file);
        free(config);
}

/* docs/mcp.md: `claude mcp add pod -- pod mcp --scope write:.` in the project. */
Test(mcp_claude_cli, the_documented_claude_mcp_add_works) {
        char *out, *err;

        need_claude();
        cr_assert_eq(run_claude((const char *const[]){ "mcp", "add", "pod", "--", "pod", "mcp",
                                                       "--scope", "write:.", NULL },
                                &out, &err),
                     0, "%s%s", out, err);
        free(out);
        free(err);
        spawn_and_wait("mcp__pod", NULL);
}

/* docs/mcp.md: the project's .mcp.json, written by hand. */
Test(mcp_claude_cli, the_documented_mcp_json_works) {
        tu_write(env.project, ".mcp.json",
                 "{\n  \"mcpServers\": {\n    \"pod\": {\n      \"command\": \"pod\",\n"
                 "      \"args\": [\"mcp\", \"--scope\", \"write:.\"]\n    }\n  }\n}\n");
        spawn_and_wait("mcp__pod", NULL);
}
