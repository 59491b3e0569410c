/* SPDX-License-Identifier: MIT */
/*
 * End to end: a claude: pod runs the real claude CLI (installed from npm into the build dir;
 * skipped with the reason when it cannot be) in its delegate sandbox, against the mock model
 * server (tests/mock/mockmodel.py, the Messages wire) through the profile's endpoint and key
 * variable. The CLI's own Bash runs and its output reaches the model; a write outside the
 * pod's scope is refused by the kernel; the CLI spawns a child over the bound MCP server
 * (inside its scope: done; outside: refused); the key never leaks; `pod stop` ends the CLI
 * and all it started; SendToPod continues the CLI's session.
 */
#include <criterion/criterion.h>
#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "base/base.h"
#include "e2e.h"
#include "testutil.h"
#include <jansson.h>

#define KEY "sk-e2e-delegate-7f3a9c1e5b"
#define CLAUDE_BIN POD_NPM_PREFIX "/node_modules/.bin/claude"

static tu_env env;
static char *side; /* outside the pod's scope */
static char *mock_dir; /* the mock's script and log (the log holds the key: the server's) */
static pid_t mock_pid;
static int mock_port;

static void setup(void) {
        tu_env_setup(&env);
        side = tu_tmpdir_real();
        mock_dir = tu_tmpdir_real();
        env.extra_env[0] = "PATH=" POD_NPM_PREFIX "/node_modules/.bin:/usr/local/bin:/usr/bin:/bin";
        env.extra_env[1] = "POD_E2E_KEY=" KEY;
}

static void teardown(void) {
        if (mock_pid > 0) {
                kill(mock_pid, SIGTERM);
                waitpid(mock_pid, NULL, 0);
                mock_pid = 0;
        }
        tu_env_teardown(&env);
        tu_rm_rf(side);
        tu_rm_rf(mock_dir);
        free(side);
        free(mock_dir);
}

TestSuite(delegate_claude_cli, .init = setup, .fini = teardown, .timeout = 300);

/* The claude CLI in the build's npm prefix (scripts/npm-install.sh), or skip saying why. */
static void need_claude(void) {
        const char *argv[] = { "/bin/sh", POD_SOURCE_DIR "/scripts/npm-install.sh", POD_NPM_PREFIX,
                               "@anthropic-ai/claude-code", NULL };
        char *log = tu_path(env.root, "npm.log"), *why;
        int in = open("/dev/null", O_RDONLY | O_CLOEXEC);
        int out = open(log, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
        tu_env with_cache = env;

        with_cache.extra_env[2] = "npm_config_cache=" POD_NPM_PREFIX "/cache";
        cr_assert(in >= 0 && out >= 0);
        if (access(CLAUDE_BIN, X_OK) != 0 &&
            tu_wait(tu_spawn_with(&with_cache, NULL, argv, in, out, log)) != 0) {
                why = tu_read(log);
                cr_skip_test("the claude CLI cannot be installed: %s",
                             why && *why ? why : "scripts/npm-install.sh failed");
        }
        close(in);
        close(out);
        free(log);
        if (access(CLAUDE_BIN, X_OK) != 0)
                cr_skip_test("the claude CLI is not in %s", POD_NPM_PREFIX);
        if (tu_landlock_abi() == 0)
                cr_skip_test("no Landlock in this kernel: the delegate sandbox needs it");
}

/* The mock on script (e2e_fill'd: @P the project); its port. */
static void mock_start(const char *script) {
        char *filled = e2e_fill(&env, script, NULL), *spath, *log, line[64] = "";
        int out[2];
        size_t n = 0;

        tu_write(mock_dir, "script.json", filled);
        spath = tu_path(mock_dir, "script.json");
        log = tu_path(mock_dir, "requests.jsonl");
        cr_assert_eq(pipe2(out, O_CLOEXEC), 0);
        mock_pid = fork();
        cr_assert_geq(mock_pid, 0);
        if (mock_pid == 0) {
                dup2(out[1], 1);
                execlp("python3", "python3", POD_SOURCE_DIR "/tests/mock/mockmodel.py", "--script",
                       spath, "--log", log, (char *) NULL);
                _exit(127);
        }
        close(out[1]);
        while (n < sizeof(line) - 1 && read(out[0], line + n, 1) == 1 && line[n] != '\n')
                n++;
        close(out[0]);
        cr_assert(sscanf(line, "PORT %d", &mock_port) == 1, "the mock said '%s'", line);
        free(filled);
        free(spath);
        free(log);
}

/* The user profile "cl": the claude CLI at the mock, writing in its cwd (the project). */
static void claude_profile(const char *slug, const char *extra) {
        char *text, *rel;

        cr_assert_neq(asprintf(&text,
                               "---\nmodel: claude:mock-model\nendpoint: http://127.0.0.1:%d\n"
                               "api_key_env: POD_E2E_KEY\nscope: write\n%s---\nYou are a pod.\n",
                               mock_port, extra ? extra : ""),
                      -1);
        cr_assert_neq(asprintf(&rel, "profiles/%s.md", slug), -1);
        tu_write(env.config, rel, text);
        free(text);
        free(rel);
}

#define POD(r, ...) tu_run_pod(r, &env, env.project, (const char *const[]){ __VA_ARGS__, NULL })

/* The requests the mock logged, as a JSON array. */
static json_t *requests(void) {
        char *text = tu_read_at(mock_dir, "requests.jsonl");
        json_t *all = json_array();
        char *save = NULL;

        for (char *l = text ? strtok_r(text, "\n", &save) : NULL; l;
             l = strtok_r(NULL, "\n", &save))
                json_array_append_new(all, json_loads(l, 0, NULL));
        free(text);
        return all;
}

/* Every tool_result text the model was sent, joined. */
static char *tool_results_sent(void) {
        json_t *all = requests(), *rq, *msg, *block;
        size_t i, j, k;
        pod_buf b = { 0 };

        json_array_foreach(all, i, rq) {
                json_array_foreach(json_object_get(json_object_get(rq, "body"), "messages"), j,
                                   msg) {
                        json_array_foreach(json_object_get(msg, "content"), k, block) {
                                char *t;

                                if (!json_object_get(block, "tool_use_id"))
                                        continue;
                                t = json_dumps(json_object_get(block, "content"), JSON_ENCODE_ANY);
                                buf_printf(&b, "%s\n", t ? t : "");
                                free(t);
                        }
                }
        }
        json_decref(all);
        buf_puts(&b, "");
        return buf_steal(&b);
}

/* No file under dir (symlinks not followed) holds s. */
static void assert_no_file_holds(const char *dir, const char *s) {
        DIR *d = opendir(dir);
        struct dirent *e;

        if (!d)
                return;
        while ((e = readdir(d))) {
                char *p;
                struct stat st;

                if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
                        continue;
                p = tu_path(dir, e->d_name);
                if (lstat(p, &st) == 0 && S_ISDIR(st.st_mode))
                        assert_no_file_holds(p, s);
                else if (lstat(p, &st) == 0 && S_ISREG(st.st_mode)) {
                        char *t = NULL;
                        size_t len = 0;

                        if (file_read_bounded(&t, &len, AT_FDCWD, p, 256u << 20, NULL) == 0)
                                cr_assert_null(memmem(t, len, s, strlen(s)), "%s holds the key", p);
                        free(t);
                }
                free(p);
        }
        closedir(d);
}

/* The last line of out, parsed (pod run --json ends with its end event). */
static json_t *last_json_line(const char *out) {
        const char *end = out + strlen(out), *last;

        while (end > out && end[-1] == '\n')
                end--;
        last = end;
        while (last > out && last[-1] != '\n')
                last--;
        return json_loadb(last, (size_t) (end - last), 0, NULL);
}

Test(delegate_claude_cli, a_tool_using_task_its_usage_and_no_key_anywhere) {
        tu_result r;
        json_t *end;
        char *sent;

        need_claude();
        mock_start(
                "{\"turns\": [{\"say\": \"Running.\", \"call\": [{\"tool\": \"Bash\", \"input\": "
                "{\"command\": \"echo from-bash-$((6*7))\", \"description\": \"Say\"}}]},"
                " {\"say\": \"Result: {{last_tool_result}}\"}],"
                " \"usage\": {\"input_tokens\": 100, \"output_tokens\": 20}}");
        claude_profile("cl", NULL);
        POD(&r, "--profile", "user:cl", "--json", "run it");
        cr_assert_eq(r.status, 0, "%s\n%s", r.out, r.err);
        sent = tool_results_sent();
        cr_assert(strstr(sent, "from-bash-42"), "the CLI's own Bash ran: %s", sent);
        end = last_json_line(r.out);
        cr_assert_not_null(end, "%s", r.out);
        cr_assert_str_eq(json_string_value(json_object_get(end, "result")), "Result: from-bash-42");
        {
                json_t *own = json_object_get(json_object_get(end, "usage"), "own");

                cr_assert_eq(json_integer_value(json_object_get(own, "input_tokens")), 200,
                             "two model calls counted once each: %s", r.out);
                cr_assert_eq(json_integer_value(json_object_get(own, "output_tokens")), 40);
        }
        cr_assert_null(strstr(r.out, KEY));
        cr_assert_null(strstr(r.err, KEY));
        assert_no_file_holds(env.root, KEY);
        assert_no_file_holds(side, KEY);
        json_decref(end);
        free(sent);
        tu_result_done(&r);
}

Test(delegate_claude_cli, the_clis_own_bash_cannot_write_outside_the_scope) {
        char *script, *sent, *escape;
        tu_result r;

        need_claude();
        escape = tu_path(side, "escaped.txt");
        cr_assert_neq(
                asprintf(&script,
                         "{\"turns\": [{\"say\": \"Trying.\", \"call\": [{\"tool\": \"Bash\", "
                         "\"input\": {\"command\": \"echo x > %s; echo rc=$?; echo in > "
                         "@P/inside.txt\", \"description\": \"Try\"}}]},"
                         " {\"say\": \"Result: {{last_tool_result}}\"}]}",
                         escape),
                -1);
        mock_start(script);
        claude_profile("cl", NULL);
        POD(&r, "--profile", "user:cl", "try it");
        cr_assert_eq(r.status, 0, "%s\n%s", r.out, r.err);
        sent = tool_results_sent();
        cr_assert(strstr(sent, "rc=1") || strstr(sent, "rc=2"), "%s", sent);
        cr_assert(strstr(sent, "ermission denied"), "the kernel refused: %s", sent);
        cr_assert_neq(access(escape, F_OK), 0, "the file outside the scope was not created");
        free(escape);
        escape = tu_path(env.project, "inside.txt");
        cr_assert_eq(access(escape, F_OK), 0, "inside: written");
        free(script);
        free(sent);
        free(escape);
        tu_result_done(&r);
}

Test(delegate_claude_cli, spawns_a_child_over_mcp_inside_its_scope_never_outside) {
        char *script, *child_out;
        const char *refused;
        json_t *top;
        tu_result r;
        bool ok;

        need_claude();
        e2e_profile(&env, NULL, "kid", "tools: [Write]\nscope: write\n",
                    "{\"turns\": [{\"say\": \"Writing.\", \"call\": [{\"tool\": \"Write\", "
                    "\"input\": {\"file_path\": \"@P/sub/out.txt\", \"content\": \"from the "
                    "child\"}}]}, {\"say\": \"kid wrote it\"}]}");
        tu_mkdirs(env.project, "sub");
        cr_assert_neq(
                asprintf(&script,
                         "{\"turns\": ["
                         "{\"say\": \"Out.\", \"call\": [{\"tool\": \"mcp__pod__SpawnPod\", "
                         "\"input\": {\"name\": \"bad\", \"task\": \"x\", \"profile\": "
                         "\"project:kid\", \"scope\": [{\"path\": \"%s\", \"access\": "
                         "\"write\"}]}}]},"
                         "{\"say\": \"In.\", \"call\": [{\"tool\": \"mcp__pod__SpawnPod\", "
                         "\"input\": {\"name\": \"kid\", \"task\": \"write it\", \"profile\": "
                         "\"project:kid\", \"scope\": [{\"path\": \"@P/sub\", \"access\": "
                         "\"write\"}]}}]},"
                         "{\"say\": \"Wait.\", \"call\": [{\"tool\": \"mcp__pod__WaitPod\", "
                         "\"input\": {}}]},"
                         "{\"say\": \"Done: {{last_tool_result}}\"}]}",
                         side),
                -1);
        mock_start(script);
        claude_profile("cl", "tools: [Read, Write, Bash, SpawnPod, WaitPod, ListPods, StopPod]\n");
        tu_trust(env.config, env.project);
        POD(&r, "--profile", "user:cl", "delegate it");
        cr_assert_eq(r.status, 0, "%s\n%s", r.out, r.err);
        top = e2e_transcript(&env, NULL);
        refused = e2e_result_of(top, "mcp__pod__SpawnPod", 0, &ok);
        cr_assert(refused && !ok && strstr(refused, side),
                  "a spawn outside the scope is refused, naming the path: %s",
                  refused ? refused : "(no result)");
        cr_assert(e2e_result_of(top, "mcp__pod__SpawnPod", 1, &ok) && ok, "the spawn inside");
        cr_assert(strstr(r.out, "kid wrote it"), "WaitPod's answer reached the model: %s", r.out);
        child_out = tu_read_at(env.project, "sub/out.txt");
        cr_assert_not_null(child_out);
        cr_assert_str_eq(child_out, "from the child");
        free(child_out);
        child_out = tu_path(side, "out.txt");
        cr_assert_neq(access(child_out, F_OK), 0, "nothing outside the scope");
        json_decref(top);
        free(child_out);
        free(script);
        tu_result_done(&r);
}

/* The pids whose environment says HOME=home (this test's processes), at most max. */
static size_t test_processes(pid_t *pids, size_t max) {
        char want[4200];
        DIR *d = opendir("/proc");
        struct dirent *e;
        size_t n = 0;

        snprintf(want, sizeof(want), "HOME=%s", env.home);
        while (n < max && (e = readdir(d))) {
                char path[300], *envs = NULL;
                size_t len = 0;
                int fd;

                if (e->d_name[0] < '0' || e->d_name[0] > '9')
                        continue;
                snprintf(path, sizeof(path), "/proc/%s/environ", e->d_name);
                fd = open(path, O_RDONLY | O_CLOEXEC);
                if (fd >= 0 && fd_read_bounded(&envs, &len, fd, 1u << 20) == 0 &&
                    memmem(envs, len, want, strlen(want) + 1))
                        pids[n++] = atoi(e->d_name);
                free(envs);
                if (fd >= 0)
                        close(fd);
        }
        closedir(d);
        return n;
}

static char *proc_file(pid_t pid, const char *name, size_t *len) {
        char path[64], *t = NULL;
        int fd;

        snprintf(path, sizeof(path), "/proc/%d/%s", (int) pid, name);
        fd = open(path, O_RDONLY | O_CLOEXEC);
        *len = 0;
        if (fd >= 0 && fd_read_bounded(&t, len, fd, 1u << 20) < 0)
                t = NULL;
        if (fd >= 0)
                close(fd);
        return t;
}

static pid_t parent_of(pid_t pid) {
        size_t len;
        char *st = proc_file(pid, "stat", &len), *rp = st ? strrchr(st, ')') : NULL;
        int ppid = 0;

        if (rp)
                sscanf(rp + 1, " %*c %d", &ppid);
        free(st);
        return ppid;
}

/* pid is ancestor or a descendant of it. */
static bool descends_from(pid_t pid, pid_t ancestor) {
        for (int i = 0; i < 64 && pid > 1; i++, pid = parent_of(pid))
                if (pid == ancestor)
                        return true;
        return false;
}

/* While the CLI runs a long command: the key is in no command line, and in the environment
 * of none but the pod (its operator's) and the CLI and what it started (the CLI needs it). */
static void assert_key_kept(pid_t pod) {
        pid_t pids[256], cli = 0;
        size_t n = test_processes(pids, 256);

        for (size_t i = 0; i < n; i++) {
                size_t len;
                char *cmd = proc_file(pids[i], "cmdline", &len);

                if (cmd && memmem(cmd, len, "stream-json", 11) && parent_of(pids[i]) == pod)
                        cli = pids[i];
                cr_assert_null(cmd ? memmem(cmd, len, KEY, strlen(KEY)) : NULL,
                               "pid %d has the key in its command line", (int) pids[i]);
                free(cmd);
        }
        cr_assert_gt(cli, 0, "the pod started the CLI");
        for (size_t i = 0; i < n; i++) {
                size_t len;
                char *envs = proc_file(pids[i], "environ", &len);
                bool has = envs && memmem(envs, len, KEY, strlen(KEY));

                free(envs);
                cr_assert(!has || pids[i] == pod || descends_from(pids[i], cli),
                          "pid %d has the key in its environment", (int) pids[i]);
        }
}

/* A process of this test whose command line holds s; 0: none. */
static pid_t find_process(const char *s) {
        pid_t pids[256];
        size_t n = test_processes(pids, 256);

        for (size_t i = 0; i < n; i++) {
                size_t len;
                char *cmd = proc_file(pids[i], "cmdline", &len);
                bool hit = cmd && memmem(cmd, len, s, strlen(s));

                free(cmd);
                if (hit)
                        return pids[i];
        }
        return 0;
}

/* pod ps --json: the running delegate pod's first model call is counted (the mock's default
 * usage: 100 input and 20 output tokens a call). */
static void assert_usage_shown(const char *name) {
        json_t *all, *e, *own = NULL;
        tu_result r;
        size_t i;

        POD(&r, "ps", "--json");
        cr_assert_eq(r.status, 0, "%s", r.err);
        all = json_loads(r.out, 0, NULL);
        cr_assert(json_is_array(all), "%s", r.out);
        json_array_foreach(all, i, e) {
                if (strcmp(json_string_value(json_object_get(e, "name")) ?: "", name) == 0)
                        own = json_object_get(json_object_get(e, "usage"), "own");
        }
        cr_assert_not_null(own, "%s", r.out);
        cr_assert_gt(json_integer_value(json_object_get(own, "tokens")), 0, "%s", r.out);
        cr_assert_geq(json_integer_value(json_object_get(own, "turns")), 1, "%s", r.out);
        json_decref(all);
        tu_result_done(&r);
}

Test(delegate_claude_cli, stop_ends_the_cli_and_all_it_started) {
        char *out = NULL;
        pid_t pod, left = 0, sleeper = 0;
        pid_t pids[256];
        tu_result r;

        need_claude();
        mock_start("{\"turns\": [{\"say\": \"Sleeping.\", \"call\": [{\"tool\": \"Bash\", "
                   "\"input\": {\"command\": \"sleep 987\", \"description\": \"Wait\"}}]},"
                   " {\"say\": \"never\"}]}");
        claude_profile("cl", NULL);
        out = tu_path(env.root, "pod.out");
        pod = tu_spawn_pod(
                &env, env.project,
                (const char *const[]){ "--profile", "user:cl", "--name", "d1", "wait", NULL }, out);
        for (int i = 0; i < 1200 && !sleeper; i++) {
                usleep(100 * 1000);
                sleeper = find_process("987");
        }
        cr_assert_gt(sleeper, 0, "the CLI's Bash started its command");
        assert_key_kept(pod);
        assert_usage_shown("d1");
        POD(&r, "stop", "d1");
        tu_wait(pod);
        /* Gone once stop returned and the pod was reaped; a generous wait for the kernel to
         * take down what SIGKILL reached (no timing is asserted). */
        for (int i = 0; i < 200; i++) {
                size_t n = test_processes(pids, 256);

                left = 0;
                for (size_t k = 0; k < n && !left; k++) {
                        char st_path[64], *st = NULL;

                        snprintf(st_path, sizeof(st_path), "/proc/%d/stat", (int) pids[k]);
                        st = tu_read(st_path);
                        if (st && strrchr(st, ')') && strrchr(st, ')')[2] != 'Z')
                                left = pids[k];
                        free(st);
                }
                if (!left)
                        break;
                usleep(50 * 1000);
        }
        cr_assert_eq(left, 0, "process %d is still running after pod stop", (int) left);
        free(out);
        tu_result_done(&r);
}

Test(delegate_claude_cli, send_to_pod_continues_the_clis_session) {
        json_t *top;
        tu_result r;
        bool ok;
        const char *waited;

        need_claude();
        /* The mock answers by the number of assistant turns the request carries: a new
         * session would be answered "first" again. */
        mock_start("{\"turns\": [{\"say\": \"first\"}, {\"say\": \"second, same session\"}]}");
        claude_profile("cl", NULL);
        e2e_profile(
                &env, NULL, "boss", "tools: [SpawnPod, SendToPod, WaitPod]\n",
                "{\"turns\": [{\"call\": [{\"tool\": \"SpawnPod\", \"input\": {\"name\": \"c\", "
                "\"task\": \"one\", \"profile\": \"user:cl\", \"scope\": [{\"path\": \"@P\", "
                "\"access\": \"write\"}]}}]},"
                " {\"call\": [{\"tool\": \"WaitPod\", \"input\": {}}]},"
                " {\"call\": [{\"tool\": \"SendToPod\", \"input\": {\"name\": \"c\", "
                "\"message\": \"two\"}}]},"
                " {\"call\": [{\"tool\": \"WaitPod\", \"input\": {}}]},"
                " {\"say\": \"boss done\"}]}");
        tu_trust(env.config, env.project);
        POD(&r, "--profile", "project:boss", "go");
        cr_assert_eq(r.status, 0, "%s\n%s", r.out, r.err);
        top = e2e_transcript(&env, NULL);
        waited = e2e_result_of(top, "WaitPod", 0, &ok);
        cr_assert(waited && strstr(waited, "first"), "%s", waited ? waited : r.err);
        waited = e2e_result_of(top, "WaitPod", 1, &ok);
        cr_assert(waited && strstr(waited, "second, same session"), "%s", waited ? waited : r.err);
        json_decref(top);
        tu_result_done(&r);
}

/* Without the CLI on PATH: a configuration error naming the package, before anything runs. */
Test(delegate_claude_cli, a_missing_cli_is_a_configuration_error) {
        tu_result r;

        env.extra_env[0] = "PATH=/usr/bin:/bin";
        if (access("/usr/bin/claude", X_OK) == 0 || access("/bin/claude", X_OK) == 0)
                cr_skip_test("a claude CLI is installed system-wide");
        POD(&r, "--model", "claude:opus", "hello");
        cr_assert_eq(r.status, 2, "%s", r.err);
        cr_assert(strstr(r.err,
                         "model claude:opus runs the claude CLI, which is not on PATH: "
                         "install it with `npm install -g @anthropic-ai/claude-code`"),
                  "%s", r.err);
        tu_result_done(&r);
}
