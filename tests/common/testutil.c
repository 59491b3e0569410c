/* SPDX-License-Identifier: MIT */
/* Test helpers: temporary trees and an isolated run of the real pod binary. */
#include "testutil.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <grp.h>
#include <poll.h>
#include <pty.h>
#include <signal.h>
#include <spawn.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#ifndef POD_BINARY
#        define POD_BINARY "pod"
#endif

static void die(const char *what) {
        fprintf(stderr, "testutil: %s: %s\n", what, strerror(errno));
        abort();
}

char *tu_tmpdir(void) {
        const char *t = getenv("TMPDIR");
        char *p;

        if (asprintf(&p, "%s/pod-test-XXXXXX", t && *t ? t : "/tmp") < 0)
                die("asprintf");
        if (!mkdtemp(p))
                die("mkdtemp");
        return p;
}

char *tu_tmpdir_real(void) {
        char *t = tu_tmpdir(), *r = realpath(t, NULL);

        if (!r)
                die("realpath");
        free(t);
        return r;
}

int tu_list_matches_description(const char *error_msg, const char *desc) {
        const char *list = strstr(error_msg, "available profiles: "), *pos = desc;
        char *copy, *save = NULL;
        int n = 0;

        if (!list)
                return -1;
        copy = strdup(list + strlen("available profiles: "));
        copy[strcspn(copy, ";")] = '\0';
        for (char *item = strtok_r(copy, ",", &save); item; item = strtok_r(NULL, ",", &save)) {
                char line[256];
                while (*item == ' ')
                        item++;
                snprintf(line, sizeof(line), "\n- %s", item);
                pos = strstr(pos, line);
                if (!pos || (pos[strlen(line)] != ':' && pos[strlen(line)] != '\n')) {
                        fprintf(stderr, "'%s' is not (in order) in the description\n", item);
                        free(copy);
                        return -1;
                }
                n++;
        }
        free(copy);
        return n;
}

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw) {
        (void) st;
        (void) ftw;
        if (flag == FTW_DP)
                rmdir(path);
        else
                unlink(path);
        return 0;
}

void tu_rm_rf(const char *path) {
        if (path)
                nftw(path, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

char *tu_path(const char *dir, const char *rel) {
        char *p;

        if (asprintf(&p, "%s/%s", dir, rel) < 0)
                die("asprintf");
        return p;
}

void tu_mkdirs(const char *dir, const char *rel) {
        char *p = tu_path(dir, rel);

        for (char *s = p + 1; *s; s++) {
                if (*s != '/')
                        continue;
                *s = '\0';
                if (mkdir(p, 0755) < 0 && errno != EEXIST)
                        die(p);
                *s = '/';
        }
        if (mkdir(p, 0755) < 0 && errno != EEXIST)
                die(p);
        free(p);
}

void tu_write_n(const char *dir, const char *rel, const char *content, size_t n) {
        char *p = tu_path(dir, rel);
        const char *slash = strrchr(rel, '/');
        FILE *f;

        if (slash) {
                char *parent = strndup(rel, (size_t) (slash - rel));
                tu_mkdirs(dir, parent);
                free(parent);
        }
        f = fopen(p, "we");
        if (!f || fwrite(content, 1, n, f) != n || fclose(f) != 0)
                die(p);
        free(p);
}

void tu_write(const char *dir, const char *rel, const char *content) {
        tu_write_n(dir, rel, content, strlen(content));
}

void tu_trust(const char *config, const char *project) {
        char *real, *old, *text = NULL;

        tu_mkdirs(project, "");
        tu_mkdirs(config, "");
        real = realpath(project, NULL);
        if (!real)
                die("realpath");
        old = tu_read_at(config, "trusted-projects");
        if (asprintf(&text, "%s%s\n", old ? old : "", real) < 0)
                die("asprintf");
        tu_write(config, "trusted-projects", text);
        free(text);
        free(old);
        free(real);
}

char *tu_read(const char *path) {
        FILE *f = fopen(path, "re");
        char *buf = NULL;
        size_t n = 0;

        if (!f)
                return NULL;
        if (getdelim(&buf, &n, '\0', f) < 0) {
                free(buf);
                buf = strdup("");
        }
        fclose(f);
        return buf;
}

char *tu_read_at(const char *dir, const char *rel) {
        char *p = tu_path(dir, rel), *text = tu_read(p);

        free(p);
        return text;
}

size_t tu_lines(const char *s) {
        size_t n = 0;

        for (; s && *s; s++)
                n += *s == '\n';
        return n;
}

void tu_env_setup(tu_env *e) {
        memset(e, 0, sizeof(*e));
        e->root = tu_tmpdir();
        chmod(e->root, 0755);
        e->home = tu_path(e->root, "home");
        e->config = tu_path(e->root, "home/.config/pod");
        e->data = tu_path(e->root, "home/.local/share/pod");
        e->runtime = tu_path(e->root, "run");
        e->project = tu_path(e->root, "project");
        tu_mkdirs(e->root, "home/.config/pod");
        tu_mkdirs(e->root, "home/.local/share/pod");
        tu_mkdirs(e->root, "run");
        chmod(e->runtime, 0700);
        tu_mkdirs(e->root, "project/.pod/profiles");
        /* The operator trusts the test's project (DESIGN §4); the trust tests revoke it. */
        tu_trust(e->config, e->project);
}

void tu_env_teardown(tu_env *e) {
        if (!getenv("TU_KEEP")) /* TU_KEEP=1 keeps a failed test's files to look at */
                tu_rm_rf(e->root);
        free(e->root);
        free(e->home);
        free(e->config);
        free(e->data);
        free(e->runtime);
        free(e->project);
        memset(e, 0, sizeof(*e));
}

static void drain(int fds[2], char **out, char **err) {
        size_t len[2] = { 0, 0 }, cap[2] = { 4096, 4096 };
        char *buf[2] = { malloc(4096), malloc(4096) };
        struct pollfd p[2] = { { fds[0], POLLIN, 0 }, { fds[1], POLLIN, 0 } };
        int open_fds = 2;

        while (open_fds > 0) {
                if (poll(p, 2, -1) < 0 && errno != EINTR)
                        die("poll");
                for (int i = 0; i < 2; i++) {
                        ssize_t k;
                        if (p[i].fd < 0 || !(p[i].revents & (POLLIN | POLLHUP | POLLERR)))
                                continue;
                        if (len[i] + 4096 > cap[i] && !(buf[i] = realloc(buf[i], cap[i] *= 2)))
                                die("realloc");
                        k = read(p[i].fd, buf[i] + len[i], cap[i] - len[i] - 1);
                        if (k <= 0) {
                                close(p[i].fd);
                                p[i].fd = -1;
                                open_fds--;
                        } else
                                len[i] += (size_t) k;
                }
        }
        buf[0][len[0]] = '\0';
        buf[1][len[1]] = '\0';
        *out = buf[0];
        *err = buf[1];
}

static char **build_env(const tu_env *e) {
        static char *env[32];
        static char bufs[6][4200];
        size_t n = 0;

        snprintf(bufs[0], sizeof(bufs[0]), "HOME=%s", e->home);
        snprintf(bufs[1], sizeof(bufs[1]), "POD_CONFIG_DIR=%s", e->config);
        snprintf(bufs[2], sizeof(bufs[2]), "POD_DATA_DIR=%s", e->data);
        snprintf(bufs[3], sizeof(bufs[3]), "POD_RUNTIME_DIR=%s", e->runtime);
        snprintf(bufs[4], sizeof(bufs[4]), "PATH=%s", "/usr/local/bin:/usr/bin:/bin");
        snprintf(bufs[5], sizeof(bufs[5]), "LC_ALL=C.UTF-8");
        /* Extra entries come first: a variable's first occurrence is the one that counts. */
        for (int i = 0; i < 8 && e->extra_env[i]; i++)
                env[n++] = (char *) e->extra_env[i];
        for (int i = 0; i < 6; i++)
                env[n++] = bufs[i];
        env[n] = NULL;
        return env;
}

void tu_run_pod(tu_result *r, const tu_env *e, const char *cwd, const char *const *args) {
        const char *argv[64] = { POD_BINARY };
        int out[2], err[2], status;
        size_t n = 1;
        pid_t pid;

        for (; args && *args && n < 63; args++)
                argv[n++] = *args;
        argv[n] = NULL;
        if (pipe2(out, O_CLOEXEC) < 0 || pipe2(err, O_CLOEXEC) < 0)
                die("pipe2");
        pid = fork();
        if (pid < 0)
                die("fork");
        if (pid == 0) {
                int in = open(e->stdin_path ? e->stdin_path : "/dev/null", O_RDONLY);
                if (in < 0 || dup2(in, 0) < 0)
                        _exit(124);
                dup2(out[1], 1);
                dup2(err[1], 2);
                if (cwd && chdir(cwd) < 0)
                        _exit(126);
                if (e->run_as_uid &&
                    (setgroups(0, NULL) < 0 ||
                     setresgid(e->run_as_uid, e->run_as_uid, e->run_as_uid) < 0 ||
                     setresuid(e->run_as_uid, e->run_as_uid, e->run_as_uid) < 0))
                        _exit(125);
                execve(POD_BINARY, (char *const *) argv, build_env(e));
                _exit(127);
        }
        close(out[1]);
        close(err[1]);
        drain((int[2]){ out[0], err[0] }, &r->out, &r->err);
        while (waitpid(pid, &status, 0) < 0)
                if (errno != EINTR)
                        die("waitpid");
        r->status = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

void tu_result_done(tu_result *r) {
        free(r->out);
        free(r->err);
        r->out = r->err = NULL;
}

void tu_run_pod_tty(tu_result *r,
                    const tu_env *e,
                    const char *cwd,
                    const char *const *args,
                    const char *input) {
        const char *argv[64] = { POD_BINARY };
        size_t n = 1, len = 0, cap = 4096;
        char *out = malloc(cap);
        int master, status;
        pid_t pid;

        for (; args && *args && n < 63; args++)
                argv[n++] = *args;
        argv[n] = NULL;
        pid = forkpty(&master, NULL, NULL, NULL);
        if (pid < 0 || !out)
                die("forkpty");
        if (pid == 0) {
                if (cwd && chdir(cwd) < 0)
                        _exit(125);
                execve(POD_BINARY, (char *const *) argv, build_env(e));
                _exit(127);
        }
        if (input && write(master, input, strlen(input)) < 0)
                die("write to the terminal");
        for (;;) { /* until the terminal hangs up: EIO once the child and its editor ended */
                ssize_t k;
                if (len + 1024 > cap && !(out = realloc(out, cap *= 2)))
                        die("realloc");
                k = read(master, out + len, cap - len - 1);
                if (k < 0 && errno == EINTR)
                        continue;
                if (k <= 0)
                        break;
                len += (size_t) k;
        }
        out[len] = '\0';
        close(master);
        while (waitpid(pid, &status, 0) < 0)
                if (errno != EINTR)
                        die("waitpid");
        r->status = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
        r->out = out;
        r->err = strdup("");
}

pid_t tu_spawn_pod(const tu_env *e,
                   const char *cwd,
                   const char *const *args,
                   const char *out_path) {
        const char *argv[64] = { POD_BINARY };
        size_t n = 1;
        pid_t pid;

        for (; args && *args && n < 63; args++)
                argv[n++] = *args;
        argv[n] = NULL;
        pid = fork();
        if (pid < 0)
                die("fork");
        if (pid == 0) {
                int out = open(out_path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
                int in = open("/dev/null", O_RDONLY);
                if (out < 0 || in < 0 || dup2(in, 0) < 0 || dup2(out, 1) < 0 || dup2(out, 2) < 0 ||
                    (cwd && chdir(cwd) < 0))
                        _exit(125);
                execve(POD_BINARY, (char *const *) argv, build_env(e));
                _exit(127);
        }
        return pid;
}

pid_t tu_spawn_with(const tu_env *e,
                    const char *cwd,
                    const char *const *argv,
                    int in_fd,
                    int out_fd,
                    const char *err_path) {
        pid_t pid = fork();

        if (pid < 0)
                die("fork");
        if (pid == 0) {
                int errfd = open(err_path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
                if (errfd < 0 || dup2(in_fd, 0) < 0 || dup2(out_fd, 1) < 0 || dup2(errfd, 2) < 0 ||
                    (cwd && chdir(cwd) < 0))
                        _exit(125);
                execve(argv[0], (char *const *) argv, build_env(e));
                _exit(127);
        }
        return pid;
}

pid_t tu_spawn_pod_pipes(const tu_env *e,
                         const char *cwd,
                         const char *const *args,
                         int *ret_in,
                         int *ret_out,
                         const char *err_path) {
        const char *argv[64] = { POD_BINARY };
        int in[2], out[2];
        size_t n = 1;
        pid_t pid;

        for (; args && *args && n < 63; args++)
                argv[n++] = *args;
        argv[n] = NULL;
        if (pipe2(in, O_CLOEXEC) < 0 || pipe2(out, O_CLOEXEC) < 0)
                die("pipe2");
        pid = tu_spawn_with(e, cwd, argv, in[0], out[1], err_path);
        close(in[0]);
        close(out[1]);
        *ret_in = in[1];
        *ret_out = out[0];
        return pid;
}

int tu_wait(pid_t pid) {
        int status;

        while (waitpid(pid, &status, 0) < 0)
                if (errno != EINTR)
                        die("waitpid");
        return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

bool tu_wait_for_path(const char *path, int ms) {
        for (int waited = 0; waited <= ms; waited += 20) {
                if (access(path, F_OK) == 0)
                        return true;
                usleep(20 * 1000);
        }
        return false;
}

int tu_landlock_abi(void) {
        long abi = syscall(__NR_landlock_create_ruleset, NULL, 0, 1u /* VERSION */);

        return abi < 0 ? 0 : (int) abi;
}

int tu_unix_bound(const char *addr, int type) {
        struct sockaddr_un a = { .sun_family = AF_UNIX };
        size_t n = strlen(addr);
        int fd = socket(AF_UNIX, type | SOCK_CLOEXEC, 0);

        if (fd < 0 || n >= sizeof(a.sun_path))
                abort();
        memcpy(a.sun_path, addr, n);
        if (addr[0] == '@')
                a.sun_path[0] = '\0';
        if (bind(fd, (struct sockaddr *) &a,
                 (socklen_t) (offsetof(struct sockaddr_un, sun_path) + n + (addr[0] != '@'))) < 0) {
                fprintf(stderr, "tu_unix_bound: bind %s: %s\n", addr, strerror(errno));
                abort();
        }
        return fd;
}

pid_t tu_unix_server(const char *addr, int type, int *ret_seen) {
        int l = tu_unix_bound(addr, type), seen[2];
        pid_t pid;

        if (listen(l, 16) < 0 || pipe2(seen, O_CLOEXEC | O_NONBLOCK) < 0)
                abort();
        pid = fork();
        if (pid < 0)
                abort();
        if (pid == 0) {
                char buf[16];
                alarm(60);
                for (;;) {
                        int c = accept(l, NULL, NULL);
                        if (c < 0)
                                continue;
                        /* a client that went away gets no answer */
                        if (write(seen[1], "c", 1) == 1 && read(c, buf, sizeof(buf)) > 0)
                                (void) !write(c, "pong", 4);
                        close(c);
                }
        }
        close(l);
        close(seen[1]);
        *ret_seen = seen[0];
        return pid;
}

int tu_unix_seen(int seen) {
        char buf[64];
        int n = 0;
        ssize_t k;

        while ((k = read(seen, buf, sizeof(buf))) > 0)
                n += (int) k;
        return n;
}

void tu_unix_server_stop(pid_t pid, int seen) {
        kill(pid, SIGKILL);
        waitpid(pid, NULL, 0);
        close(seen);
}

/* A running process of group pgid, 0 when none. */
static pid_t group_running_member(pid_t pgid) {
        DIR *d = opendir("/proc");
        struct dirent *e;
        pid_t found = 0;

        while (d && !found && (e = readdir(d))) {
                char path[300], *stat, *rp;
                int pgrp = 0;
                char state = 0;

                snprintf(path, sizeof(path), "/proc/%s/stat", e->d_name);
                stat = tu_read(path);
                rp = stat ? strrchr(stat, ')') : NULL;
                if (rp && sscanf(rp + 1, " %c %*d %d", &state, &pgrp) == 2 && pgrp == pgid &&
                    state != 'Z')
                        found = atoi(e->d_name);
                free(stat);
        }
        if (d)
                closedir(d);
        return found;
}

pid_t tu_group_survivor(pid_t pgid, int ms) {
        pid_t left = group_running_member(pgid);

        for (int waited = 0; left && waited < ms; waited += 50) {
                usleep(50 * 1000);
                left = group_running_member(pgid);
        }
        return left;
}
