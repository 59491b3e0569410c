/* SPDX-License-Identifier: MIT */
/*
 * End to end: the real agent CLIs as MCP clients of a standalone `pod mcp`, their model
 * played by the mock model server (tests/mock/mockmodel.py): Claude Code (`claude -p`, npm
 * @anthropic-ai/claude-code, on the Messages wire) and Codex (`codex exec`, npm @openai/codex,
 * on the Responses wire). The model asks for a SpawnPod outside the grant (an error it
 * sees), a SpawnPod of a script-model child that writes inside its lease, and a WaitPod
 * whose result it repeats; once the CLI has exited its server's tree is gone. The servers
 * are added the ways docs/mcp.md gives. The CLIs are installed from npm into the build-local
 * prefix (scripts/npm-install.sh); without node, npm or the registry the tests skip and say
 * why.
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

#define KEY "sk-test-mcp-agents-2b7e"
/* Tools allowed without a prompt, as docs/mcp.md says: these two, or "mcp__pod" (all). */
#define ALLOWED "mcp__pod__SpawnPod,mcp__pod__WaitPod"

static tu_env env;
static char *side; /* the mock's script and log, the CLI's output (outside env.root) */
static char base_url[96], path_var[PATH_MAX + 64];

/* An agent CLI from npm. */
typedef struct agent {
        const char *package; /* PACKAGE@MAJOR */
        const char *bin; /* below the prefix */
        /* How its model names a pod tool in the mock's script: before and after the name. */
        const char *call_before, *call_after;
} agent;

static const agent claude = { "@anthropic-ai/claude-code@2", "node_modules/.bin/claude",
                              "\"tool\": \"mcp__pod__", "\"" };
/* Codex 0.171 offers each MCP server's tools as one namespace tool, mcp__SERVER. */
static const agent codex = { "@openai/codex@0", "node_modules/.bin/codex", "\"tool\": \"",
                             "\", \"namespace\": \"mcp__pod\"" };

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
        env.extra_env[1] = "OPENAI_API_KEY=" KEY;
        env.extra_env[2] = base_url;
        env.extra_env[3] = path_var;
        /* Offline: no update check, no telemetry; only the mock is asked anything. */
        env.extra_env[4] = "DISABLE_AUTOUPDATER=1";
        env.extra_env[5] = "CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC=1";
        /* claude -p connects its MCP servers in the background and may ask the model before
         * the pod tools are there: wait for the server (docs/mcp.md), long enough for a
         * sanitizer build under load. */
        env.extra_env[6] = "MCP_CONNECTION_NONBLOCKING=0";
        env.extra_env[7] = "MCP_CONNECT_TIMEOUT_MS=120000";
}

static void teardown(void) {
        tu_env_teardown(&env);
        tu_rm_rf(side);
        free(side);
}

/* The first test in a build dir installs the CLIs (large downloads). */
TestSuite(mcp_agents_cli, .init = setup, .fini = teardown, .timeout = 600);

/* The model's turns for a: a spawn beyond the grant, a spawn in src/, a wait, the answer. */
static char *script_for(const agent *a) {
        char *spawn = NULL, *wait = NULL, *script = NULL;

        cr_assert_geq(asprintf(&spawn, "%sSpawnPod%s", a->call_before, a->call_after), 0);
        cr_assert_geq(asprintf(&wait, "%sWaitPod%s", a->call_before, a->call_after), 0);
        cr_assert_geq(asprintf(&script,
                               "{\"turns\": ["
                               " {\"say\": \"Trying /etc.\", \"call\": [{%s, \"input\": "
                               "{\"name\": \"far\", \"task\": \"look\", \"profile\": "
                               "\"project:kid\", \"scope\": [{\"path\": \"/etc\", \"access\": "
                               "\"read\"}]}}]},"
                               " {\"say\": \"Spawning.\", \"call\": [{%s, \"input\": "
                               "{\"name\": \"c1\", \"task\": \"write a file\", \"profile\": "
                               "\"project:kid\", \"scope\": [{\"path\": \"@P/src\", \"access\": "
                               "\"write\"}]}}]},"
                               " {\"say\": \"Waiting.\", \"call\": [{%s, \"input\": "
                               "{\"timeout_s\": 300}}]},"
                               " {\"say\": \"Final: {{last_tool_result}}\"}]}",
                               spawn, spawn, wait),
                      0);
        free(spawn);
        free(wait);
        return script;
}

/* Install a's CLI; its path (caller frees), or skip the test with the reason. */
static char *need(const agent *a) {
        const char *const packages[] = { a->package, NULL };
        char *why = e2e_npm_install(&env, packages), *bin = tu_path(e2e_npm_prefix, a->bin);

        if (why)
                cr_skip_test("%s is not available: %s", a->package, why);
        if (access(bin, X_OK) != 0)
                cr_skip_test("npm installed %s without its binary for this platform (%s)",
                             a->package, bin);
        return bin;
}

/* Run bin with args in the project; its exit status, its stdout in *ret_out and stderr in
 * *ret_err (caller frees). Bounded by timeout(1), so that a hung CLI ends and its server
 * sees the disconnection. */
static int run_cli(const char *bin, const char *const *args, char **ret_out, char **ret_err) {
        const char *argv[32] = { "/usr/bin/timeout", "--kill-after=10", "300", bin };
        char *out_path = tu_path(side, "cli.out"), *err_path = tu_path(side, "cli.err");
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

/* After the CLI has exited, no process is left (a minute at most, not a measure) and `pod ps`
 * shows nothing. clean: the server itself stopped its tree, removed its registry entry and
 * recorded its end; otherwise (codex may kill it, docs/mcp.md) `pod ps` removes the entry of
 * the dead server. */
static void assert_tree_gone(bool clean) {
        tu_result r;
        pid_t left = 0;

        for (int i = 0; i < 600 && (left = left_below_root()); i++)
                usleep(100 * 1000);
        cr_assert_eq(left, 0, "process %d still works below the test's dirs", (int) left);
        if (clean)
                e2e_assert_no_entries(&env);
        tu_run_pod(&r, &env, env.project, (const char *const[]){ "ps", "--json", NULL });
        cr_assert_eq(r.status, 0, "%s", r.err);
        cr_assert_str_eq(r.out, "[]\n", "pod ps shows nothing running");
        tu_result_done(&r);
        e2e_assert_no_entries(&env);
        if (clean) {
                json_t *events = e2e_transcript_at(&env, "runs/mcp-*/transcript.jsonl");
                cr_assert(e2e_find_event(events, "end", NULL, 0),
                          "the server recorded its end (its client went away)");
                json_decref(events);
        }
}

/* One tool result (an Anthropic tool_result block or a Responses function_call_output item)
 * appended to b; an Anthropic error result is marked "ERROR:". */
static void add_result(pod_buf *b, json_t *item) {
        const char *type = json_string_value(json_object_get(item, "type"));
        bool anthropic = type && strcmp(type, "tool_result") == 0;
        char *text;

        if (!anthropic && !(type && strcmp(type, "function_call_output") == 0))
                return;
        text = json_dumps(json_object_get(item, anthropic ? "content" : "output"), JSON_ENCODE_ANY);
        buf_printf(b, "%s%s\n", json_is_true(json_object_get(item, "is_error")) ? "ERROR:" : "",
                   text ? text : "");
        free(text);
}

/* The tool results in the mock's longest request (the whole conversation), one a line. */
static char *tool_results(const e2e_mock *m) {
        json_t *reqs = e2e_mock_requests(m), *last = NULL, *req, *msg, *block;
        size_t i, j, most = 0;
        pod_buf b = { 0 };

        json_array_foreach(reqs, i, req) {
                json_t *body = json_object_get(req, "body");
                json_t *conv = json_object_get(body, "messages") ?: json_object_get(body, "input");
                if (json_array_size(conv) >= most) {
                        most = json_array_size(conv);
                        last = conv;
                }
        }
        json_array_foreach(last, i, msg) {
                add_result(&b, msg);
                json_array_foreach(json_object_get(msg, "content"), j, block)
                        add_result(&b, block);
        }
        json_decref(reqs);
        return buf_steal(&b);
}

/* The CLI runs a's script against the server it was given: what each way of adding the
 * server must show. */
static void spawn_and_wait(const agent *a, const char *bin, const char *const *args) {
        char *script = script_for(a), *out, *err, *text, *results;
        e2e_mock m = { 0 };
        int status;

        e2e_mock_start(&m, &env, side, "model", script, NULL, NULL);
        snprintf(base_url, sizeof(base_url), "ANTHROPIC_BASE_URL=%s", m.url);
        if (a == &codex) { /* its model provider, as an operator's config.toml names one */
                char *config = NULL, *servers = tu_read_at(env.home, ".codex/config.toml");
                cr_assert_geq(asprintf(&config,
                                       "model = \"mock-model\"\nmodel_provider = \"mock\"\n\n"
                                       "[model_providers.mock]\nname = \"mock\"\n"
                                       "base_url = \"%s/v1\"\nwire_api = \"responses\"\n"
                                       "env_key = \"OPENAI_API_KEY\"\n\n%s",
                                       m.url, servers ? servers : ""),
                              0);
                tu_write(env.home, ".codex/config.toml", config);
                free(servers);
                free(config);
        }
        status = run_cli(bin, args, &out, &err);
        cr_assert_eq(status, 0, "the CLI succeeds:\n%s\n%s", out ?: "", err ?: "");
        results = tool_results(&m);
        text = tu_read_at(env.project, "src/kid.txt");
        cr_assert(text && strcmp(text, "from the kid") == 0,
                  "the child wrote inside its lease:\n%s\n%s\n%s", out, err, results);
        free(text);
        cr_assert(strstr(results, "scope rule read:/etc refused") &&
                          (a != &claude || strstr(results, "ERROR:")),
                  "the spawn beyond the grant came back to the model as an error: %s", results);
        cr_assert(strstr(results, "Started pod 'c1'"), "%s", results);
        cr_assert(strstr(results, "kid done"), "WaitPod's result reached the model: %s", results);
        free(results);
        cr_assert(strstr(out, "Final: ") && strstr(out, "## c1") && strstr(out, "kid done"),
                  "the CLI's answer carries the WaitPod result: %s", out);
        cr_assert(!strstr(out, KEY) && !strstr(err, KEY), "the key is in no output");
        free(out);
        free(err);
        assert_tree_gone(a == &claude);
        /* The CLI may hand its environment, key included, to the server: pod keeps it out
         * of the transcripts, the registry and the children's files. */
        cr_assert(!e2e_tree_has(env.root, KEY), "no file below the test's dirs holds the key");
        e2e_mock_stop(&m);
        free(script);
}

/* ---- Claude Code ------------------------------------------------------------------------- */

/* claude -p, with the tools allowed (it cannot ask), and more arguments. */
static void claude_p(const char *allowed, const char *const *more) {
        const char *args[16] = { "-p",
                                 "Spawn a child pod that writes a file, then wait for it.",
                                 "--model",
                                 "mock-model",
                                 "--allowedTools",
                                 allowed };
        size_t n = 6;
        char *bin = need(&claude);

        for (; more && *more && n < POD_ARRAY_SIZE(args) - 1; more++)
                args[n++] = *more;
        args[n] = NULL;
        spawn_and_wait(&claude, bin, args);
        free(bin);
}

Test(mcp_agents_cli, claude_spawns_and_waits_through_mcp_config) {
        char *config = NULL, *file;

        cr_assert_geq(asprintf(&config,
                               "{\"mcpServers\": {\"pod\": {\"command\": \"%s\", \"args\": "
                               "[\"mcp\", \"--scope\", \"write:.\"]}}}",
                               POD_BINARY),
                      0);
        tu_write(side, "mcp.json", config);
        file = tu_path(side, "mcp.json");
        claude_p(ALLOWED,
                 (const char *const[]){ "--mcp-config", file, "--strict-mcp-config", NULL });
        free(file);
        free(config);
}

/* docs/mcp.md: `claude mcp add pod -- pod mcp --scope write:.` in the project. */
Test(mcp_agents_cli, the_documented_claude_mcp_add_works) {
        char *bin = need(&claude), *out, *err;

        cr_assert_eq(run_cli(bin,
                             (const char *const[]){ "mcp", "add", "pod", "--", "pod", "mcp",
                                                    "--scope", "write:.", NULL },
                             &out, &err),
                     0, "%s%s", out, err);
        free(out);
        free(err);
        free(bin);
        claude_p("mcp__pod", NULL);
}

/* docs/mcp.md: the project's .mcp.json, written by hand. */
Test(mcp_agents_cli, the_documented_mcp_json_works) {
        tu_write(env.project, ".mcp.json",
                 "{\n  \"mcpServers\": {\n    \"pod\": {\n      \"command\": \"pod\",\n"
                 "      \"args\": [\"mcp\", \"--scope\", \"write:.\"]\n    }\n  }\n}\n");
        claude_p("mcp__pod", NULL);
}

/* ---- Codex ------------------------------------------------------------------------------- */

/* docs/mcp.md: the [mcp_servers.pod] table of ~/.codex/config.toml, then codex exec. */
Test(mcp_agents_cli, the_documented_codex_config_works) {
        char *bin = need(&codex);

        tu_write(env.home, ".codex/config.toml",
                 "[mcp_servers.pod]\n"
                 "command = \"pod\"\n"
                 "args = [\"mcp\", \"--scope\", \"write:.\"]\n"
                 "env_vars = [\"XDG_RUNTIME_DIR\", \"POD_CONFIG_DIR\", \"POD_DATA_DIR\", "
                 "\"POD_RUNTIME_DIR\"]\n"
                 "default_tools_approval_mode = \"approve\"\n"
                 "startup_timeout_sec = 60\n"
                 "tool_timeout_sec = 900\n");
        spawn_and_wait(&codex, bin,
                       (const char *const[]){ "exec", "--skip-git-repo-check",
                                              "Spawn a child pod that writes a file, then "
                                              "wait for it.",
                                              NULL });
        free(bin);
}
