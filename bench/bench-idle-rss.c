/* SPDX-License-Identifier: MIT */
/*
 * Resident memory of a pod that is waiting (DESIGN §16: <= 4 MiB; a Node.js process idles
 * near 40 MiB). Starts `pod run` on a script model whose first call sleeps in Bash, reads
 * the pod's VmRSS from /proc while it waits, then stops it.
 * Usage: bench-idle-rss POD_BINARY
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

static void write_file(const char *dir, const char *name, const char *text) {
        char path[4096];
        FILE *f;

        snprintf(path, sizeof(path), "%s/%s", dir, name);
        f = fopen(path, "we");
        if (!f || fputs(text, f) < 0 || fclose(f) != 0)
                exit(1);
}

static long rss_kib(pid_t pid) {
        char path[64], line[256];
        long kib = -1;
        FILE *f;

        snprintf(path, sizeof(path), "/proc/%d/status", (int) pid);
        f = fopen(path, "re");
        while (f && fgets(line, sizeof(line), f))
                if (sscanf(line, "VmRSS: %ld kB", &kib) == 1)
                        break;
        if (f)
                fclose(f);
        return kib;
}

int main(int argc, char **argv) {
        char dir[] = "/tmp/pod-bench-XXXXXX", sub[4200], env_run[4300], env_data[4300],
             env_cfg[4300], env_home[4300];
        char *env[] = { env_run,  env_data,          env_cfg,
                        env_home, "POD_SANDBOX=off", "PATH=/usr/bin:/bin",
                        NULL };
        long kib;
        pid_t pid;

        char *pod = argc > 1 ? realpath(argv[1], NULL) : NULL; /* the child changes directory */

        if (!pod || !mkdtemp(dir))
                return 2;
        snprintf(sub, sizeof(sub), "%s/.pod", dir);
        mkdir(sub, 0755);
        snprintf(sub, sizeof(sub), "%s/.pod/profiles", dir);
        mkdir(sub, 0755);
        write_file(sub, "idle.json",
                   "{\"turns\": [{\"call\": [{\"tool\": \"Bash\", \"input\": "
                   "{\"command\": \"sleep 5\"}}]}, {\"say\": \"done\"}]}");
        write_file(sub, "idle.md", "---\nmodel: script:idle.json\n---\n");
        /* The operator trusts the project, so its profile takes effect (DESIGN §4). */
        snprintf(sub, sizeof(sub), "%s/config", dir);
        mkdir(sub, 0700);
        {
                char *real = realpath(dir, NULL), line[4200];
                snprintf(line, sizeof(line), "%s\n", real ? real : dir);
                write_file(sub, "trusted-projects", line);
                free(real);
        }
        snprintf(env_run, sizeof(env_run), "POD_RUNTIME_DIR=%s/run", dir);
        snprintf(env_data, sizeof(env_data), "POD_DATA_DIR=%s/data", dir);
        snprintf(env_cfg, sizeof(env_cfg), "POD_CONFIG_DIR=%s/config", dir);
        snprintf(env_home, sizeof(env_home), "HOME=%s", dir);
        pid = fork();
        if (pid == 0) {
                char *av[] = { pod, "--profile", "project:idle", "wait", NULL };
                if (chdir(dir) < 0 || !freopen("/dev/null", "w", stderr) ||
                    !freopen("/dev/null", "w", stdout))
                        _exit(1);
                execve(pod, av, env);
                _exit(127);
        }
        sleep(2);
        kib = rss_kib(pid);
        kill(pid, SIGTERM);
        waitpid(pid, NULL, 0);
        if (kib < 0) {
                fprintf(stderr, "bench-idle-rss: the pod was not running\n");
                return 1;
        }
        printf("idle pod resident memory: %.2f MiB; ratio %.2f of the 4 MiB budget %s\n",
               (double) kib / 1024, (double) kib / 4096,
               kib <= 4096 ? "within budget" : "OVER BUDGET");
        free(pod);
        snprintf(sub, sizeof(sub), "rm -rf '%s'", dir);
        return system(sub) == 0 ? 0 : 1;
}
