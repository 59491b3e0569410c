/* SPDX-License-Identifier: MIT */
/*
 * `pod demo [--dir DIR] [--keep]`: a throwaway project with three script-model profiles, and a
 * real run of its orchestrator. The orchestrator gives a coder the write lease on src/ and
 * a reviewer read access to the project; the coder writes a script and runs its test with
 * Bash; the reviewer's attempt to write is refused and says why; the results come back up.
 * Then the demo prints the tree and what each pod did, from the transcripts.
 */
#include <dirent.h>
#include <fcntl.h>
#include <ftw.h>
#include <signal.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cli.h"

static const char demo_help[] =
        "Usage: pod demo [--dir DIR] [--keep]\n"
        "\n"
        "Create a throwaway project (in DIR, which must be missing or empty; default: a new\n"
        "directory under $TMPDIR or /tmp) with three profiles on the scripted model, and run\n"
        "its orchestrator: it spawns a coder with the write lease on src/ and a reviewer with\n"
        "read access, waits for both, and reports. No API key and no network are needed.\n"
        "\n"
        "  --dir DIR  make the project in DIR; it is kept\n"
        "  --keep     keep the throwaway project (its transcripts are in .pod-data/runs/);\n"
        "             without --keep or --dir it is removed at the end, and a failed demo's\n"
        "             is always kept to look into\n";

static const char orchestrator_md[] =
        "---\n"
        "description: Splits the work between a coder and a reviewer (scripted)\n"
        "model: script:orchestrator.json\n"
        "tools: [Read, Glob, SpawnPod, WaitPod, ReadPodOutput, ListPods, StopPod, SendToPod]\n"
        "limits:\n"
        "  max_children: 4\n"
        "---\n"
        "You coordinate: hand each part of the work to a child pod with the narrowest scope.\n";

static const char coder_md[] = "---\n"
                               "description: Writes code and runs its tests (scripted)\n"
                               "model: script:coder.json\n"
                               "tools: [Read, Write, Edit, Glob, Grep, Bash]\n"
                               "---\n"
                               "You write small, tested shell scripts.\n";

static const char reviewer_md[] = "---\n"
                                  "description: Reviews code; never edits it (scripted)\n"
                                  "model: script:reviewer.json\n"
                                  "tools: [Read, Glob, Grep, Write]\n"
                                  "scope: read\n"
                                  "---\n"
                                  "You review code and report what you find.\n";

static int write_file(const char *dir, const char *name, const char *text) {
        _cleanup_free_ char *path = path_join(dir, name);
        _cleanup_close_ int fd = -EBADF;
        size_t len = strlen(text);

        if (!path)
                return -ENOMEM;
        fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0644);
        if (fd < 0 || write(fd, text, len) != (ssize_t) len)
                return cli_fail(EXIT_RUNTIME, "cannot write %s: %s", path, strerror(errno));
        return 0;
}

static int write_json(const char *dir, const char *name, json_t *j) {
        _cleanup_free_ char *text = j ? json_dumps(j, JSON_INDENT(2)) : NULL;

        json_decref(j);
        return text ? write_file(dir, name, text) : cli_fail(EXIT_RUNTIME, "out of memory");
}

static json_t *rule(const char *path, const char *access) {
        return json_pack("[{s:s, s:s}]", "path", path, "access", access);
}

static json_t *orchestrator_script(const char *root, const char *src) {
        return json_pack(
                "{s:[{s:s, s:[{s:s, s:{s:s, s:s, s:s, s:o}}]}, {s:[{s:s, s:{s:[s]}}]},"
                " {s:s, s:[{s:s, s:{s:s, s:s, s:s, s:o}}]}, {s:[{s:s, s:{}}]},"
                " {s:s, s:b}]}",
                "turns", "say",
                "I give the coder the write lease on src/ and keep read only there myself.", "call",
                "tool", "SpawnPod", "input", "name", "coder", "profile", "project:coder", "task",
                "Write src/greet.sh, which prints \"Hello, NAME!\" for its first argument, and a "
                "test src/test.sh; run the test.",
                "scope", rule(src, "write"), "call", "tool", "WaitPod", "input", "names", "coder",
                "say", "The coder is done; a reviewer with read access checks its work.", "call",
                "tool", "SpawnPod", "input", "name", "reviewer", "profile", "project:reviewer",
                "task", "Review src/greet.sh and leave your notes in src/REVIEW.md.", "scope",
                rule(root, "read"), "call", "tool", "WaitPod", "input", "say",
                "Both children reported:", "echo", 1);
}

static json_t *coder_script(const char *src) {
        _cleanup_free_ char *greet = path_join(src, "greet.sh"), *test = path_join(src, "test.sh");

        if (!greet || !test)
                return NULL;
        return json_pack(
                "{s:[{s:s, s:[{s:s, s:{s:s, s:s}}, {s:s, s:{s:s, s:s}}]},"
                " {s:[{s:s, s:{s:s}}]}, {s:s, s:b}]}",
                "turns", "say", "Writing greet.sh and its test.", "call", "tool", "Write", "input",
                "file_path", greet, "content", "#!/bin/sh\necho \"Hello, ${1:-world}!\"\n", "tool",
                "Write", "input", "file_path", test, "content",
                "out=$(sh ./greet.sh pod)\n"
                "if [ \"$out\" = \"Hello, pod!\" ]; then echo \"test passed\"; else echo \"test "
                "failed: $out\"; exit 1; fi\n",
                "call", "tool", "Bash", "input", "command", "sh test.sh", "say",
                "Wrote src/greet.sh and src/test.sh. The test run:", "echo", 1);
}

static json_t *reviewer_script(const char *src) {
        _cleanup_free_ char *greet = path_join(src, "greet.sh"),
                            *notes = path_join(src, "REVIEW.md");

        if (!greet || !notes)
                return NULL;
        return json_pack("{s:[{s:s, s:[{s:s, s:{s:s}}]}, {s:s, s:[{s:s, s:{s:s, s:s}}]}, {s:s, "
                         "s:b}]}",
                         "turns", "say", "Reading the coder's script.", "call", "tool", "Read",
                         "input", "file_path", greet, "say", "It looks right. Leaving my notes.",
                         "call", "tool", "Write", "input", "file_path", notes, "content",
                         "greet.sh: fine.\n", "say",
                         "greet.sh is correct and quotes its argument. I could not leave "
                         "notes:",
                         "echo", 1);
}

static int make_project(const char *root) {
        _cleanup_free_ char *pods = path_join(root, ".pod/profiles"), *src = path_join(root, "src");
        int r;

        if (!pods || !src)
                return cli_fail(EXIT_RUNTIME, "out of memory");
        r = mkdir_p(pods, 0755);
        if (r < 0 || mkdir(src, 0755) < 0)
                return cli_fail(EXIT_RUNTIME, "cannot create the project in %s: %s", root,
                                strerror(r < 0 ? -r : errno));
        if ((r = write_file(pods, "orchestrator.md", orchestrator_md)) ||
            (r = write_file(pods, "coder.md", coder_md)) ||
            (r = write_file(pods, "reviewer.md", reviewer_md)) ||
            (r = write_json(pods, "orchestrator.json", orchestrator_script(root, src))) ||
            (r = write_json(pods, "coder.json", coder_script(src))) ||
            (r = write_json(pods, "reviewer.json", reviewer_script(src))) ||
            (r = write_file(root, "AGENTS.md",
                            "# Demo project\n\nShell scripts live in src/, each with a test.\n")))
                return r;
        return 0;
}

/* DIR must be missing or empty; without --dir, a fresh one under $TMPDIR. */
static int pick_dir(char **out, const char *opt, char **envp) {
        const char *tmp = env_get(envp, "TMPDIR");
        pod_buf b = { 0 };
        int r;

        if (opt) {
                DIR *d;
                struct dirent *de;
                if (mkdir(opt, 0755) < 0 && errno != EEXIST)
                        return cli_fail(EXIT_USAGE, "--dir %s: %s", opt, strerror(errno));
                d = opendir(opt);
                if (!d)
                        return cli_fail(EXIT_USAGE, "--dir %s: %s", opt, strerror(errno));
                while ((de = readdir(d)))
                        if (strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0) {
                                closedir(d);
                                return cli_fail(EXIT_USAGE,
                                                "--dir %s is not empty; the demo needs an empty "
                                                "or missing directory",
                                                opt);
                        }
                closedir(d);
                return cli_resolve_cwd(out, opt);
        }
        buf_printf(&b, "%s/pod-demo-XXXXXX", tmp && tmp[0] == '/' ? tmp : "/tmp");
        if (b.oom || !mkdtemp(b.data)) {
                buf_done(&b);
                return cli_fail(EXIT_RUNTIME, "cannot create a directory for the demo: %s",
                                strerror(errno));
        }
        r = cli_resolve_cwd(out, b.data);
        buf_done(&b);
        return r;
}

/* ---- the report -------------------------------------------------------------------------- */

static const char *short_path(const char *p, const char *root) {
        size_t n = strlen(root);

        return strncmp(p, root, n) == 0 && p[n] == '/' ? p + n + 1 : p;
}

/* One line per tool call of a transcript, and its final answer. */
static void
report_pod(const char *name, const char *transcript, const char *root, const char *indent) {
        _cleanup_free_ char *text = NULL;
        json_t *calls = json_object();
        size_t len = 0;
        char *line, *save = NULL;

        if (file_read_bounded(&text, &len, AT_FDCWD, transcript, 64u * 1024u * 1024u, NULL) < 0) {
                printf("%s%s: (no transcript)\n", indent, name);
                json_decref(calls);
                return;
        }
        printf("%s\n", name);
        for (line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
                json_t *ev = json_loads(line, 0, NULL);
                const char *type = json_string_value(json_object_get(ev, "type"));
                if (type && strcmp(type, "tool_call") == 0)
                        json_object_set(calls, json_string_value(json_object_get(ev, "id")), ev);
                else if (type && strcmp(type, "tool_result") == 0) {
                        json_t *call = json_object_get(
                                calls, json_string_value(json_object_get(ev, "id")));
                        json_t *in = json_object_get(call, "input");
                        const char *arg = json_string_value(json_object_get(in, "file_path")) ?:
                                json_string_value(json_object_get(in, "command"))             ?:
                                json_string_value(json_object_get(in, "name"))                ?:
                                                                                                "";
                        const char *res = json_string_value(json_object_get(ev, "text"));
                        bool ok = json_is_true(json_object_get(ev, "ok"));
                        printf("%s  %-8s %-22s %s %.*s\n", indent,
                               json_string_value(json_object_get(ev, "name")),
                               short_path(arg, root), ok ? "ok     " : "REFUSED",
                               ok ? 0 : (int) strcspn(res, "\n"), res);
                } else if (type && strcmp(type, "end") == 0) {
                        const char *res = json_string_value(json_object_get(ev, "result"));
                        printf("%s  answer:\n", indent);
                        for (const char *p = res ? res : ""; *p;) {
                                int n = (int) strcspn(p, "\n");
                                printf("%s    %.*s\n", indent, n, p);
                                p += n + (p[n] == '\n');
                        }
                }
                json_decref(ev);
        }
        json_decref(calls);
}

/* The scope each child was given, from the SpawnPod calls in the parent's transcript. */
static json_t *granted_scopes(const char *transcript, const char *root) {
        _cleanup_free_ char *text = NULL;
        json_t *out = json_object();
        char *line, *save = NULL;
        size_t len;

        if (file_read_bounded(&text, &len, AT_FDCWD, transcript, 64u * 1024u * 1024u, NULL) < 0)
                return out;
        for (line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
                json_t *ev = json_loads(line, 0, NULL), *in = json_object_get(ev, "input"), *r;
                pod_buf b = { 0 };
                size_t i;
                if (strcmp(json_string_value(json_object_get(ev, "name")) ?: "", "SpawnPod") == 0 &&
                    strcmp(json_string_value(json_object_get(ev, "type")) ?: "", "tool_call") ==
                            0) {
                        json_array_foreach(json_object_get(in, "scope"), i, r) {
                                const char *p = json_string_value(json_object_get(r, "path")) ?: "";
                                buf_printf(&b, "%s%s %s", i ? ", " : "",
                                           json_string_value(json_object_get(r, "access")),
                                           strcmp(p, root) == 0 ? "the project" :
                                                                  short_path(p, root));
                        }
                        json_object_set_new(out,
                                            json_string_value(json_object_get(in, "name")) ?: "",
                                            json_string(buf_str(&b)));
                }
                buf_done(&b);
                json_decref(ev);
        }
        return out;
}

static int is_child_dir(const struct dirent *de) {
        return de->d_name[0] != '.' && de->d_type == DT_DIR;
}

static void show(const char *root, const char *run_dir) {
        _cleanup_free_ char *top = path_join(run_dir, "transcript.jsonl");
        struct dirent **kids = NULL;
        json_t *scopes = granted_scopes(top, root);
        int n = scandir(run_dir, &kids, is_child_dir, alphasort);

        printf("\nThe tree, and what each pod did (transcripts under %s):\n\n", run_dir);
        report_pod("orchestrator  [write on the project]", top, root, "");
        for (int i = 0; i < n; i++) {
                _cleanup_free_ char *dir = path_join(run_dir, kids[i]->d_name);
                _cleanup_free_ char *tr = dir ? path_join(dir, "transcript.jsonl") : NULL;
                pod_buf label = { 0 };
                char name[POD_NAME_BUF];
                snprintf(name, sizeof(name), "%.*s", (int) strcspn(kids[i]->d_name, "-"),
                         kids[i]->d_name);
                buf_printf(&label, "%s %s  [%s]", i + 1 == n ? "└─" : "├─", name,
                           json_string_value(json_object_get(scopes, name)) ?: "?");
                if (tr)
                        report_pod(buf_str(&label), tr, root, i + 1 == n ? "   " : "│  ");
                buf_done(&label);
                free(kids[i]);
        }
        free(kids);
        json_decref(scopes);
}

/* The environment of the demo's pods: its own data and config dirs first (the first of a
 * name is the one that counts), then the caller's. */
static int demo_env(char ***env, char **envp, const char *data, const char *config) {
        pod_buf b = { 0 };

        if (!data || !config)
                return cli_fail(EXIT_RUNTIME, "out of memory");
        buf_printf(&b, "POD_DATA_DIR=%s", data);
        strv_consume(env, buf_steal(&b));
        buf_printf(&b, "POD_CONFIG_DIR=%s", config);
        strv_consume(env, buf_steal(&b));
        STRV_FOREACH(v, envp)
                if (!str_startswith(*v, "POD_DATA_DIR=") &&
                    !str_startswith(*v, "POD_CONFIG_DIR=") && strv_push(env, *v) < 0)
                        return cli_fail(EXIT_RUNTIME, "out of memory");
        return strv_length(*env) < 2 ? cli_fail(EXIT_RUNTIME, "out of memory") : 0;
}

/* The throwaway project is the demo's own: trusted in its own config dir (DESIGN §4). */
static int trust_demo(const char *root, const char *config) {
        _cleanup_free_ char *canon = NULL;
        pod_error err = { 0 };

        if (scope_canonicalize(&canon, root, NULL, &err) < 0 ||
            trust_change(config, canon, true, NULL, &err) < 0)
                return cli_fail(EXIT_RUNTIME, "cannot trust the demo project: %s", err.msg);
        return 0;
}

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw) {
        (void) st;
        (void) ftw;
        return flag == FTW_DP ? rmdir(path) : unlink(path);
}

/* Say where the project is, or remove it (the throwaway one of a demo that worked). */
static void leave(const char *root, bool keep) {
        if (!keep && nftw(root, rm_one, 16, FTW_DEPTH | FTW_PHYS) == 0) {
                printf("\nRemoved the throwaway project %s ('pod demo --keep' keeps it).\n", root);
                return;
        }
        printf("\nThe project stays in %s (transcripts in %s/.pod-data/runs/).\n", root, root);
}

/* The demo in the project root: the orchestrator's run, the tree and what each pod did. */
static int run_demo(const char *root, char **envp) {
        _cleanup_free_ char *data = NULL, *config = NULL, *answer = NULL;
        _cleanup_strv_free_ char **env = NULL;
        cli_target t = { .selector = "project:orchestrator" };
        cli_resolved res = { 0 };
        pod_host h = { 0 };
        pod_error err = { 0 };
        int r;

        data = path_join(root, ".pod-data");
        config = path_join(root, ".pod-config");
        r = demo_env(&env, envp, data, config);
        if (r == 0)
                r = trust_demo(root, config);
        if (r != 0)
                return r;
        printf("pod demo: a throwaway project in %s\n"
               "  .pod/profiles/: orchestrator, coder and reviewer, on the scripted model\n"
               "  The orchestrator gives the coder the write lease on src/ and the reviewer read\n"
               "  access to the project; progress follows on stderr.\n\n",
               root);
        fflush(stdout);
        t.cwd = root;
        r = cli_resolve(&res, &t, true, env);
        if (r != 0)
                return r;
        host_signals();
        h = (pod_host){ .manifest = res.manifest, .envp = env };
        r = host_start_top(&h, &res.dirs, &err) < 0 ? EXIT_RUNTIME : EXIT_OK;
        if (r == EXIT_OK)
                r = host_turn(&h, "Have src/greet.sh written, tested and reviewed.", &answer,
                              &err) < 0 ?
                        EXIT_RUNTIME :
                        EXIT_OK;
        if (r == EXIT_OK) {
                _cleanup_free_ char *run_dir = strdup(h.run_dir);
                host_stop(&h, true);
                show(root, run_dir);
                printf("\nThe orchestrator's answer:\n%s\n", answer);
                if (!manifest_sandboxed(res.manifest))
                        printf("\nPOD_SANDBOX=off: the pods were held to their scopes by pod's "
                               "own checks only,\nnot by the kernel.\n");
                else
                        printf("\nEvery pod and every command ran confined by the kernel to its "
                               "scope:\nLandlock (ABI %d), seccomp, no capabilities "
                               "(docs/sandbox.md).\n",
                               sandbox_abi());
        } else {
                cli_fail(EXIT_RUNTIME, "the demo failed: %s", err.msg);
                host_stop(&h, true);
        }
        cli_resolved_done(&res);
        return r;
}

/*
 * A pod confines the process it runs in, which then cannot remove the project's folder:
 * the demo runs in a child process while this one, unconfined, waits to remove it.
 */
static int run_and_remove(const char *root, char **envp) {
        pid_t parent = getpid(), pid;
        int status = 0;

        fflush(NULL);
        pid = fork();
        if (pid < 0)
                return run_demo(root, envp);
        if (pid == 0) {
                if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0 || getppid() != parent)
                        _exit(EXIT_RUNTIME);
                status = run_demo(root, envp);
                fflush(NULL);
                _exit(status);
        }
        signal(SIGINT, SIG_IGN); /* the demo itself stops on ^C, then this removes its project */
        signal(SIGQUIT, SIG_IGN);
        while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
                ;
        return WIFEXITED(status) ? WEXITSTATUS(status) : EXIT_RUNTIME;
}

static int demo_main(int argc, char **argv, char **envp) {
        static const struct option longopts[] = {
                { "dir", required_argument, NULL, 'd' },
                { "keep", no_argument, NULL, 'k' },
                { "help", no_argument, NULL, 'h' },
                {},
        };
        cli_opts st = { argc, argv, longopts, demo_help, false };
        _cleanup_free_ char *root = NULL;
        const char *dir = NULL;
        bool keep = false;
        int c, r;

        while ((r = cli_next_option(&st, &c)) > 0) {
                keep |= c == 'k';
                if (c == 'd')
                        dir = optarg;
        }
        if (r < 0)
                return r == -1 ? EXIT_OK : EXIT_USAGE;
        if (optind != argc)
                return cli_fail(EXIT_USAGE, "demo takes no operands\n%s", demo_help);
        r = pick_dir(&root, dir, envp);
        if (r == 0)
                r = make_project(root);
        if (r != 0)
                return r;
        keep |= dir != NULL;
        r = keep ? run_demo(root, envp) : run_and_remove(root, envp);
        leave(root, keep || r != EXIT_OK);
        return r;
}

const cli_command cmd_demo = {
        .name = "demo",
        .summary = "run a three-pod demo in a throwaway project (pod demo --help)",
        .run = demo_main,
};
