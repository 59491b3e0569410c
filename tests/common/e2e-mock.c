/* SPDX-License-Identifier: MIT */
#include "e2e-mock.h"

#include <criterion/criterion.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "e2e.h"

bool e2e_have(const char *prog) {
        char cmd[128];

        snprintf(cmd, sizeof(cmd), "command -v %s >/dev/null 2>&1", prog);
        return system(cmd) == 0;
}

int e2e_helper_start(pid_t *ret_pid, const char *const *argv) {
        char line[64] = "";
        int out[2], port = 0;
        size_t n = 0;

        if (!e2e_have("python3"))
                cr_skip_test("python3 is not installed (scripts/install-deps.sh installs it)");
        cr_assert_eq(pipe2(out, O_CLOEXEC), 0);
        *ret_pid = fork();
        cr_assert_geq(*ret_pid, 0);
        if (*ret_pid == 0) {
                dup2(out[1], 1);
                execvp("python3", (char *const *) argv);
                _exit(127);
        }
        close(out[1]);
        while (n < sizeof(line) - 1 && read(out[0], line + n, 1) == 1 && line[n] != '\n')
                n++;
        close(out[0]);
        cr_assert(sscanf(line, "PORT %d", &port) == 1, "%s said '%s'", argv[1], line);
        return port;
}

void e2e_mock_start(e2e_mock *m,
                    const tu_env *e,
                    const char *dir,
                    const char *name,
                    const char *script,
                    const char *cert,
                    const char *key) {
        char *filled = e2e_fill(e, script, NULL), *rel = NULL, *spath = NULL;

        cr_assert_geq(asprintf(&rel, "%s.json", name), 0);
        tu_write(dir, rel, filled);
        spath = tu_path(dir, rel);
        cr_assert_geq(asprintf(&m->log, "%s/%s.log", dir, name), 0);
        unlink(m->log); /* a mock of the same name before this one */
        m->port = e2e_helper_start(&m->pid,
                                   (const char *const[]){ "python3",
                                                          POD_SOURCE_DIR "/tests/mock/mockmodel.py",
                                                          "--script", spath, "--log", m->log,
                                                          cert ? "--tls" : NULL, cert, key, NULL });
        snprintf(m->url, sizeof(m->url), "%s://127.0.0.1:%d", cert ? "https" : "http", m->port);
        free(filled);
        free(rel);
        free(spath);
}

void e2e_mock_stop(e2e_mock *m) {
        if (m->pid > 0) {
                kill(m->pid, SIGTERM);
                waitpid(m->pid, NULL, 0);
        }
        free(m->log);
        *m = (e2e_mock){ 0 };
}

json_t *e2e_mock_requests(const e2e_mock *m) {
        char *text = tu_read(m->log);
        json_t *all = json_array();
        char *save = NULL;

        for (char *l = text ? strtok_r(text, "\n", &save) : NULL; l;
             l = strtok_r(NULL, "\n", &save))
                json_array_append_new(all, json_loads(l, 0, NULL));
        free(text);
        return all;
}

size_t e2e_mock_count(const e2e_mock *m) {
        json_t *all = e2e_mock_requests(m);
        size_t n = json_array_size(all);

        json_decref(all);
        return n;
}

void e2e_native_profile(const tu_env *e,
                        const char *slug,
                        const char *model,
                        const char *endpoint,
                        const char *front) {
        char *rel = NULL, *md = NULL;

        cr_assert_geq(asprintf(&rel, ".pod/profiles/%s.md", slug), 0);
        cr_assert_geq(asprintf(&md,
                               "---\ndescription: %s\nmodel: %s\nendpoint: %s\n%s---\nYou "
                               "are %s.\n",
                               slug, model, endpoint, front, slug),
                      0);
        tu_write(e->project, rel, md);
        free(rel);
        free(md);
}
