/* SPDX-License-Identifier: MIT */
/*
 * `pod --complete commands|profiles|pods` (hidden): the words the shell completions offer,
 * one a line. It never writes: no registry is made and no dead entry reaped.
 */
#include <dirent.h>
#include <string.h>
#include <sys/stat.h>

#include "cli.h"

static int complete_profiles(char **envp) {
        _cleanup_(profile_set_freep) profile_set *set = NULL;
        _cleanup_free_ char *cwd = NULL;
        pod_dirs dirs = { 0 };
        pod_error err = { 0 };

        if (cli_resolve_cwd(&cwd, NULL) != EXIT_OK ||
            pod_dirs_from_env(&dirs, envp, getuid(), &err) < 0)
                return EXIT_RUNTIME;
        if (profile_set_discover(&set, cwd, dirs.config_dir, &err) == 0) {
                puts("default");
                for (size_t i = 0; i < profile_set_count(set); i++) {
                        const profile_entry *e = profile_set_get(set, i);
                        if (!e->profile || e->source == POD_SOURCE_PATH)
                                continue;
                        printf("%s\n", e->selector);
                        if (!e->shadowed_by && strcmp(e->slug, "default") != 0)
                                printf("%s\n", e->slug);
                }
        }
        pod_dirs_done(&dirs);
        return EXIT_OK;
}

static int complete_pods(char **envp) {
        _cleanup_free_ char *pods = NULL;
        pod_dirs dirs = { 0 };
        pod_error err = { 0 };
        struct dirent *de;
        DIR *d;

        if (pod_dirs_from_env(&dirs, envp, getuid(), &err) < 0)
                return EXIT_RUNTIME;
        pods = path_join(dirs.runtime_dir, "pods");
        pod_dirs_done(&dirs);
        d = pods ? opendir(pods) : NULL;
        while (d && (de = readdir(d))) {
                _cleanup_free_ char *file = NULL;
                struct stat st;
                if (!slug_valid(de->d_name) ||
                    asprintf(&file, "%s/%s/pod.json", pods, de->d_name) < 0)
                        continue;
                if (lstat(file, &st) == 0 && S_ISREG(st.st_mode))
                        printf("%s\n", de->d_name);
        }
        if (d)
                closedir(d);
        return EXIT_OK;
}

int cli_complete(int argc, char **argv, char **envp, const cli_command *const *commands, size_t n) {
        const char *what = argc > 1 ? argv[1] : "";

        if (strcmp(what, "commands") == 0) {
                for (size_t i = 0; i < n; i++)
                        printf("%s\n", commands[i]->name);
                return EXIT_OK;
        }
        if (strcmp(what, "profiles") == 0)
                return complete_profiles(envp);
        if (strcmp(what, "pods") == 0)
                return complete_pods(envp);
        return cli_fail(EXIT_USAGE, "--complete: commands, profiles or pods");
}
