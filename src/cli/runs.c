/* SPDX-License-Identifier: MIT */
/*
 * The recorded runs under <data dir>/runs/ (a top-level pod's folder, its children's
 * inside it): what `pod logs` of an ended pod and `pod ps --all` read.
 */
#include <dirent.h>
#include <string.h>
#include <sys/stat.h>

#include "cli.h"

#define RUNS_DEPTH_MAX 16 /* levels of child run folders followed */

static void walk(const char *dir, const char *id, int depth, cli_run_fn fn, void *ud) {
        DIR *d = depth < RUNS_DEPTH_MAX ? opendir(dir) : NULL;
        struct dirent *de;

        while (d && (de = readdir(d))) {
                _cleanup_free_ char *sub = NULL, *subid = NULL, *t = NULL;
                struct stat st;
                if (de->d_name[0] == '.' || de->d_type != DT_DIR)
                        continue;
                sub = path_join(dir, de->d_name);
                subid = id ? path_join(id, de->d_name) : strdup(de->d_name);
                t = sub ? path_join(sub, "transcript.jsonl") : NULL;
                if (!subid || !t)
                        continue;
                if (stat(t, &st) == 0 && S_ISREG(st.st_mode) && st.st_size > 0)
                        fn(ud, t, subid, de->d_name, &st);
                walk(sub, subid, depth + 1, fn, ud);
        }
        if (d)
                closedir(d);
}

char *cli_runs_dir(char **envp) {
        pod_dirs dirs = { 0 };
        pod_error err = { 0 };
        char *runs;

        if (pod_dirs_from_env(&dirs, envp, getuid(), &err) < 0)
                return NULL;
        runs = path_join(dirs.data_dir, "runs");
        pod_dirs_done(&dirs);
        return runs;
}

void cli_runs_walk(const char *runs, cli_run_fn fn, void *ud) {
        walk(runs, NULL, 0, fn, ud);
}

bool cli_run_of(const char *folder, const char *name) {
        size_t n = strlen(name);
        const char *rest = folder + n + 1;

        if (strncmp(folder, name, n) != 0 || folder[n] != '-' || !*rest)
                return false;
        for (const char *p = rest; *p; p++)
                if (!((*p >= '0' && *p <= '9') || *p == '-'))
                        return false;
        return true;
}
