/* SPDX-License-Identifier: MIT */
/*
 * `pod profile list --json` over 1,000 project profiles against `cat` of the same files
 * (DESIGN §16: ratio <= 3). Usage: bench-profile-list POD_BINARY [--runs N]
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "harness.h"

#define PROFILES 1000

static const char *const models[] = { "openai:gpt-5", "anthropic:claude-sonnet-4-5",
                                      "codex:gpt-5-codex", "ollama:qwen3" };

static void write_profile(const char *dir, int i) {
        char path[4096];
        FILE *f;

        snprintf(path, sizeof(path), "%s/.pod/profiles/role-%04d.md", dir, i);
        f = fopen(path, "we");
        if (!f) {
                perror(path);
                exit(1);
        }
        fprintf(f,
                "---\n"
                "description: Role %d, a generated profile for the listing benchmark\n"
                "model: %s\n"
                "reasoning: medium\n"
                "tools: [Read, Write, Edit, Glob, Grep, Bash]\n"
                "scope: %s\n"
                "limits:\n"
                "  max_turns: %d\n"
                "---\n"
                "You are role %d. Read the relevant code, make the smallest change that solves\n"
                "the task, run the tests, and report what you changed and how you verified it.\n",
                i, models[i % 4], i % 3 ? "write" : "read", 50 + i % 100, i);
        fclose(f);
}

int main(int argc, char **argv) {
        char dir[] = "/tmp/pod-bench-XXXXXX", sub[4096], cwd_arg[4096];
        char **cat_argv;
        int runs = bench_runs_arg(argc, argv, 30);

        if (argc < 2) {
                fprintf(stderr, "usage: %s POD_BINARY [--runs N]\n", argv[0]);
                return 2;
        }
        if (!mkdtemp(dir))
                return 1;
        snprintf(sub, sizeof(sub), "%s/.pod", dir);
        mkdir(sub, 0755);
        snprintf(sub, sizeof(sub), "%s/.pod/profiles", dir);
        mkdir(sub, 0755);
        cat_argv = calloc(PROFILES + 2, sizeof(char *));
        cat_argv[0] = "/bin/cat";
        for (int i = 0; i < PROFILES; i++) {
                write_profile(dir, i);
                if (asprintf(&cat_argv[i + 1], "%s/role-%04d.md", sub, i) < 0)
                        return 1;
        }
        snprintf(cwd_arg, sizeof(cwd_arg), "%s", dir);
        {
                char *pod_argv[] = { argv[1], "profile", "list", "--json", "--cwd", cwd_arg, NULL };
                bench_cmd ours = { "pod profile list --json", pod_argv };
                bench_cmd peer = { "cat", cat_argv };
                bench_compare("profile list, 1000 project profiles", &ours, &peer, runs, 3.0);
        }
        for (int i = 0; i < PROFILES; i++) {
                unlink(cat_argv[i + 1]);
                free(cat_argv[i + 1]);
        }
        free(cat_argv);
        rmdir(sub);
        snprintf(sub, sizeof(sub), "%s/.pod", dir);
        rmdir(sub);
        rmdir(dir);
        return 0;
}
