/* SPDX-License-Identifier: MIT */
/* The delegate suites' helpers (e2e-delegate.h): their setup, the CLI, mock and profile, this
 * test's processes in /proc, where a key may be, the last JSON line of an output. */
#include <criterion/criterion.h>
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/base.h"
#include "e2e-delegate.h"
#include "e2e.h"

void e2e_assert_no_file_holds(const char *dir, const char *s) {
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
                        e2e_assert_no_file_holds(p, s);
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
json_t *e2e_last_json_line(const char *out) {
        const char *end = out + strlen(out), *last;

        while (end > out && end[-1] == '\n')
                end--;
        last = end;
        while (last > out && last[-1] != '\n')
                last--;
        return json_loadb(last, (size_t) (end - last), 0, NULL);
}

size_t e2e_processes(const tu_env *env, pid_t *pids, size_t max) {
        char want[4200];
        DIR *d = opendir("/proc");
        struct dirent *e;
        size_t n = 0;

        snprintf(want, sizeof(want), "HOME=%s", env->home);
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

char *e2e_proc_file(pid_t pid, const char *name, size_t *len) {
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

pid_t e2e_parent_of(pid_t pid) {
        size_t len;
        char *st = e2e_proc_file(pid, "stat", &len), *rp = st ? strrchr(st, ')') : NULL;
        int ppid = 0;

        if (rp)
                sscanf(rp + 1, " %*c %d", &ppid);
        free(st);
        return ppid;
}

bool e2e_descends_from(pid_t pid, pid_t ancestor) {
        for (int i = 0; i < 64 && pid > 1; i++, pid = e2e_parent_of(pid))
                if (pid == ancestor)
                        return true;
        return false;
}

/* While the CLI runs a long command: the key is in no command line, and in the environment
 * of none but the pod (its operator's) and the CLI and what it started (the CLI needs it). */
void e2e_assert_key_kept(const tu_env *env, pid_t pod, const char *key, const char *cli_arg) {
        pid_t pids[256], cli = 0;
        size_t n = e2e_processes(env, pids, 256);

        for (size_t i = 0; i < n; i++) {
                size_t len;
                char *cmd = e2e_proc_file(pids[i], "cmdline", &len);

                if (cmd && memmem(cmd, len, cli_arg, strlen(cli_arg) + 1) &&
                    e2e_parent_of(pids[i]) == pod)
                        cli = pids[i];
                cr_assert_null(cmd ? memmem(cmd, len, key, strlen(key)) : NULL,
                               "pid %d has the key in its command line", (int) pids[i]);
                free(cmd);
        }
        cr_assert_gt(cli, 0, "the pod started the CLI");
        for (size_t i = 0; i < n; i++) {
                size_t len;
                char *envs = e2e_proc_file(pids[i], "environ", &len);
                bool has = envs && memmem(envs, len, key, strlen(key));

                free(envs);
                cr_assert(!has || pids[i] == pod || e2e_descends_from(pids[i], cli),
                          "pid %d has the key in its environment", (int) pids[i]);
        }
}

pid_t e2e_find_process(const tu_env *env, const char *s) {
        pid_t pids[256];
        size_t n = e2e_processes(env, pids, 256);

        for (size_t i = 0; i < n; i++) {
                size_t len;
                char *cmd = e2e_proc_file(pids[i], "cmdline", &len);
                bool hit = cmd && memmem(cmd, len, s, strlen(s));

                free(cmd);
                if (hit)
                        return pids[i];
        }
        return 0;
}

void e2e_delegate_setup(e2e_delegate *d, const char *key_assignment) {
        *d = (e2e_delegate){ 0 };
        tu_env_setup(&d->env);
        d->side = tu_tmpdir_real();
        d->mock_dir = tu_tmpdir_real();
        d->env.extra_env[0] =
                "PATH=" POD_NPM_PREFIX "/node_modules/.bin:/usr/local/bin:/usr/bin:/bin";
        d->env.extra_env[1] = key_assignment;
}

void e2e_delegate_teardown(e2e_delegate *d) {
        e2e_mock_stop(&d->mock);
        tu_env_teardown(&d->env);
        tu_rm_rf(d->side);
        tu_rm_rf(d->mock_dir);
        free(d->side);
        free(d->mock_dir);
}

void e2e_need_cli(e2e_delegate *d, const char *name, const char *package, const char *bin) {
        if (access(bin, X_OK) != 0) {
                char *why = e2e_npm_install(&d->env, (const char *const[]){ package, NULL });

                if (why)
                        cr_skip_test("the %s CLI cannot be installed: %s", name, why);
        }
        if (access(bin, X_OK) != 0)
                cr_skip_test("the %s CLI is not in %s", name, e2e_npm_prefix);
        if (tu_landlock_abi() == 0)
                cr_skip_test("no Landlock in this kernel: the delegate sandbox needs it");
}

void e2e_delegate_mock(e2e_delegate *d, const char *script) {
        e2e_mock_start(&d->mock, &d->env, d->mock_dir, "requests", script, NULL, NULL);
}

void e2e_delegate_profile(
        e2e_delegate *d, const char *slug, const char *model, const char *path, const char *extra) {
        char *text, *rel;

        cr_assert_neq(asprintf(&text,
                               "---\nmodel: %s\nendpoint: %s%s\napi_key_env: POD_E2E_KEY\n"
                               "scope: write\n%s---\nYou are a pod.\n",
                               model, d->mock.url, path, extra ? extra : ""),
                      -1);
        cr_assert_neq(asprintf(&rel, "profiles/%s.md", slug), -1);
        tu_write(d->env.config, rel, text);
        free(text);
        free(rel);
}

void e2e_boss_profile(const tu_env *env, const char *child_profile) {
        char *script;

        cr_assert_neq(
                asprintf(&script,
                         "{\"turns\": [{\"call\": [{\"tool\": \"SpawnPod\", \"input\": {\"name\": "
                         "\"c\", \"task\": \"one\", \"profile\": \"%s\", \"scope\": [{\"path\": "
                         "\"@P\", \"access\": \"write\"}]}}]},"
                         " {\"call\": [{\"tool\": \"WaitPod\", \"input\": {}}]},"
                         " {\"call\": [{\"tool\": \"SendToPod\", \"input\": {\"name\": \"c\", "
                         "\"message\": \"two\"}}]},"
                         " {\"call\": [{\"tool\": \"WaitPod\", \"input\": {}}]},"
                         " {\"say\": \"boss done\"}]}",
                         child_profile),
                -1);
        e2e_profile(env, NULL, "boss", "tools: [SpawnPod, SendToPod, WaitPod]\n", script);
        free(script);
}

/* A process of this test whose command line holds s, waited for up to two minutes; 0: none. */
static pid_t await_process(const tu_env *env, const char *s) {
        pid_t found = 0;

        for (int i = 0; i < 1200 && !found; i++) {
                usleep(100 * 1000);
                found = e2e_find_process(env, s);
        }
        return found;
}

pid_t e2e_start_sleeping(e2e_delegate *d, const char *selector, const char *name) {
        char *out = tu_path(d->env.root, "pod.out");
        pid_t pod = tu_spawn_pod(
                &d->env, d->env.project,
                (const char *const[]){ "--profile", selector, "--name", name, "wait", NULL }, out);

        free(out);
        cr_assert_gt(await_process(&d->env, "987"), 0, "the CLI's Bash started its command");
        return pod;
}

/* A process of this test still running (not a zombie), after up to ten seconds; 0: none. */
static pid_t process_left(const tu_env *env) {
        pid_t pids[256], left = 0;

        for (int i = 0; i < 200; i++) {
                size_t n = e2e_processes(env, pids, 256);

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
        return left;
}

void e2e_assert_stop_ends_all(e2e_delegate *d, pid_t pod, const char *name) {
        tu_result r;
        pid_t left;

        tu_run_pod(&r, &d->env, d->env.project, (const char *const[]){ "stop", name, NULL });
        tu_wait(pod);
        /* Gone once stop returned and the pod was reaped. */
        left = process_left(&d->env);
        cr_assert_eq(left, 0, "process %d is still running after pod stop", (int) left);
        tu_result_done(&r);
}

void e2e_kid_profile(const tu_env *env) {
        e2e_profile(env, NULL, "kid", "tools: [Write]\nscope: write\n",
                    "{\"turns\": [{\"say\": \"Writing.\", \"call\": [{\"tool\": \"Write\", "
                    "\"input\": {\"file_path\": \"@P/sub/out.txt\", \"content\": \"from the "
                    "child\"}}]}, {\"say\": \"kid wrote it\"}]}");
        tu_mkdirs(env->project, "sub");
}

void e2e_assert_own_usage(const json_t *end, long in, long out, const char *output) {
        json_t *own = json_object_get(json_object_get(end, "usage"), "own");

        cr_assert_eq(json_integer_value(json_object_get(own, "input_tokens")), in,
                     "two model calls counted once each: %s", output);
        cr_assert_eq(json_integer_value(json_object_get(own, "output_tokens")), out);
}

void e2e_assert_no_key(const e2e_delegate *d, const tu_result *r, const char *key) {
        cr_assert_null(strstr(r->out, key));
        cr_assert_null(strstr(r->err, key));
        e2e_assert_no_file_holds(d->env.root, key);
        e2e_assert_no_file_holds(d->side, key);
}
