/* SPDX-License-Identifier: MIT */
/*
 * `pod doctor`'s checks of every profile visible from the cwd (DESIGN §19): it parses, the
 * default pointer is valid, its manifest resolves (skills and prompt overrides included),
 * its model handler opens, its key variable is set, its delegate CLI is on PATH (with its
 * version), libcurl loads where a handler speaks HTTP, and with --network, each endpoint
 * answers. A profile that cannot run is a FAIL when it is the operator's (user, project,
 * or the default), a warning for a builtin one nobody chose.
 */
#include <dlfcn.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include "doctor-internal.h"
#include "llm/llm.h"

#define DOCTOR_VERSION_MAX 4096u
#define DOCTOR_CHILD_MS 5000
#define DOCTOR_CONNECT_MS 5000

typedef struct prof_scan {
        const profile_entry *def;
        bool need_curl;
        char **endpoints; /* distinct endpoint URLs, for --network */
} prof_scan;

static doctor_level level_of(const prof_scan *s, const profile_entry *e) {
        return e->source == POD_SOURCE_BUILTIN && e != s->def ? DOCTOR_WARN : DOCTOR_FAIL;
}

/* ---- delegate CLIs --------------------------------------------------------------------- */

/* path of prog in PATH (from envp), or NULL. Caller frees. */
static char *which(char **envp, const char *prog) {
        _cleanup_free_ char *path = strdup(env_get(envp, "PATH") ?: "/usr/local/bin:/usr/bin:/bin");
        char *save = NULL;

        for (char *dir = path ? strtok_r(path, ":", &save) : NULL; dir;
             dir = strtok_r(NULL, ":", &save)) {
                char *full = dir[0] == '/' ? path_join(dir, prog) : NULL;
                if (full && access(full, X_OK) == 0)
                        return full;
                free(full);
        }
        return NULL;
}

/* The first line `exe --version` prints within DOCTOR_CHILD_MS, or "" (it is stopped then). */
static void version_of(char *out, size_t size, const char *exe, char **envp) {
        _cleanup_free_ char *text = NULL;
        char *const argv[] = { (char *) exe, (char *) "--version", NULL };
        int p[2], null = open("/dev/null", O_RDWR | O_CLOEXEC), status;
        proc_plan plan = {
                .path = exe, .argv = argv, .envp = envp, .n_fds = 3, .new_session = true
        };
        pod_buf b = { 0 };
        long long deadline = mono_ms() + DOCTOR_CHILD_MS;
        pid_t pid;

        out[0] = '\0';
        if (null < 0 || pipe2(p, O_CLOEXEC) < 0) {
                safe_close(null);
                return;
        }
        plan.fds[0] = null, plan.fds[1] = p[1], plan.fds[2] = p[1];
        if (proc_spawn(&pid, &plan, NULL) < 0)
                pid = -1;
        safe_close(p[1]);
        safe_close(null);
        while (pid > 0 && b.len < DOCTOR_VERSION_MAX && fd_read_more(&b, p[0], deadline) >= 0)
                ;
        safe_close(p[0]);
        if (pid > 0 && proc_wait(pid, 0, &status) != 1)
                proc_kill(pid, 100);
        text = buf_steal(&b);
        if (text) {
                text[strcspn(text, "\n")] = '\0';
                if (cli_printable(text, size - 1))
                        snprintf(out, size, "%s", text);
        }
}

static void
check_delegate(doctor *d, const prof_scan *s, const profile_entry *e, const manifest_view *v) {
        const char *prog = v->model.handler == POD_HANDLER_CLAUDE ? "claude" : "codex";
        _cleanup_free_ char *exe = which(d->envp, prog);
        char area[POD_ERROR_MAX], version[256], fix[128];

        snprintf(area, sizeof(area), "profile %s", e->selector);
        if (!exe) {
                snprintf(fix, sizeof(fix), "install the %s CLI, or put it on PATH", prog);
                doctor_report(d, level_of(s, e), area, fix, "model %s: '%s' is not on PATH",
                              v->model.spec, prog);
                return;
        }
        version_of(version, sizeof(version), exe, d->envp);
        doctor_report(d, DOCTOR_OK, area, NULL, "delegate CLI %s%s%s%s", exe,
                      version[0] ? " (" : "", version,
                      version[0] ? ")" : " (it printed no version)");
}

/* ---- one profile ----------------------------------------------------------------------- */

static void check_model(
        doctor *d, prof_scan *s, const profile_entry *e, const manifest_view *v, const char *area) {
        const char *key = v->model.key_env ? env_get(d->envp, v->model.key_env) : NULL;
        pod_error err = { 0 };
        llm_handler *h = NULL;
        char fix[POD_ERROR_MAX];

        if (v->model.key_env && !(key && key[0])) {
                snprintf(fix, sizeof(fix), "export %s=... (the key itself is never printed)",
                         v->model.key_env);
                doctor_report(d, level_of(s, e), area, fix,
                              "model %s: its key variable %s is not set", v->model.spec,
                              v->model.key_env);
        }
        if (v->model.handler == POD_HANDLER_CLAUDE || v->model.handler == POD_HANDLER_CODEX)
                check_delegate(d, s, e, v);
        if (llm_open(&h, v, &err) < 0) {
                doctor_report(d, level_of(s, e), area,
                              "pick a model whose handler this pod has, with model: in the profile",
                              "%s", err.msg);
                return;
        }
        llm_free(h);
        doctor_report(d, DOCTOR_OK, area, NULL, "resolves; model %s (%s handler)", v->model.spec,
                      handler_to_string(v->model.handler));
}

static void check_profile(doctor *d, prof_scan *s, const profile_set *set, const profile_entry *e) {
        _cleanup_(manifest_view_freep) manifest_view *v = NULL;
        json_auto_t *m = NULL;
        pod_error err = { 0 };
        char area[POD_ERROR_MAX], fix[POD_ERROR_MAX];

        snprintf(area, sizeof(area), "profile %s", e->selector);
        snprintf(fix, sizeof(fix), "edit %s (docs/profiles.md)", e->file);
        if (!e->profile) {
                doctor_report(d, level_of(s, e), area, fix, "broken: %s", e->error);
                return;
        }
        if (cli_profile_manifest(&m, set, e, d->dirs.config_dir, &err) < 0 ||
            manifest_view_new(&v, m, &err) < 0) {
                doctor_report(d, level_of(s, e), area, fix, "does not resolve: %s", err.msg);
                return;
        }
        if (v->model.provider && v->model.provider->takes_endpoint) {
                s->need_curl = true;
                if (v->model.endpoint_url && !strv_contains(s->endpoints, v->model.endpoint_url))
                        (void) strv_push(&s->endpoints, v->model.endpoint_url);
        }
        check_model(d, s, e, v, area);
}

/* ---- the set --------------------------------------------------------------------------- */

/* The pointer file in effect: the project's when it exists, else the user's. */
static char *pointer_path(const doctor *d, const profile_set *set) {
        const char *proj = profile_set_project_dir(set);
        char *p = proj ? path_join(proj, ".pod/default-profile") : NULL;
        struct stat st;

        if (p && lstat(p, &st) == 0)
                return p;
        free(p);
        return path_join(d->dirs.config_dir, "default-profile");
}

/* The default pointer; --fix removes a dangling one (the next source's default applies). */
static int check_default(doctor *d, profile_set **set) {
        const char *why = NULL;
        const profile_entry *def = profile_set_default(*set, &why);
        _cleanup_free_ char *ptr = NULL;
        pod_error err = { 0 };

        if (def) {
                doctor_report(d, DOCTOR_OK, "profiles", NULL, "the default is %s", def->selector);
                return 0;
        }
        ptr = pointer_path(d, *set);
        if (!d->fix || !ptr || unlink(ptr) < 0) {
                doctor_report(d, DOCTOR_FAIL, "profiles",
                              "pod profile use SELECTOR, or pod doctor --fix removes the pointer",
                              "%s", why ?: "no default profile");
                return 0;
        }
        *set = profile_set_free(*set);
        if (profile_set_discover(set, d->cwd, d->dirs.config_dir, &err) < 0)
                return -ENOMEM;
        def = profile_set_default(*set, &why);
        doctor_fixed(d, "profiles",
                     "removed the dangling default pointer %s; the default is now %s", ptr,
                     def         ? def->selector :
                             why ?:
                                   "none");
        return 0;
}

static void check_curl(doctor *d, const prof_scan *s) {
        void *h = dlopen("libcurl.so.4", RTLD_NOW | RTLD_LOCAL);

        if (h) {
                dlclose(h);
                doctor_report(d, DOCTOR_OK, "libcurl", NULL, "libcurl.so.4 loads");
                return;
        }
        doctor_report(d, s->need_curl ? DOCTOR_FAIL : DOCTOR_WARN, "libcurl",
                      "apt install libcurl4 (pod loads it when a model speaks HTTP)",
                      "libcurl.so.4 does not load%s",
                      s->need_curl ? "; HTTP models cannot run" : "");
}

/* A TCP connection to endpoint url's host and port within DOCTOR_CONNECT_MS. */
static int connect_to(const char *url, char *why, size_t size) {
        pod_endpoint ep = { 0 };
        pod_error err = { 0 };
        struct addrinfo hints = { .ai_socktype = SOCK_STREAM }, *ai = NULL;
        char port[8];
        int fd = -1, r = -1, soerr = 0;
        socklen_t len = sizeof(soerr);

        if (endpoint_parse(&ep, url, &err) < 0) {
                snprintf(why, size, "%s", err.msg);
                return -1;
        }
        snprintf(port, sizeof(port), "%u", ep.port);
        r = getaddrinfo(ep.host, port, &hints, &ai);
        if (r != 0)
                snprintf(why, size, "%s: %s", ep.host, gai_strerror(r));
        else if ((fd = socket(ai->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0)) < 0 ||
                 (connect(fd, ai->ai_addr, ai->ai_addrlen) < 0 && errno != EINPROGRESS))
                snprintf(why, size, "%s", strerror(errno));
        else if (poll(&(struct pollfd){ .fd = fd, .events = POLLOUT }, 1, DOCTOR_CONNECT_MS) != 1)
                snprintf(why, size, "no answer within %d s", DOCTOR_CONNECT_MS / 1000);
        else if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &len) < 0 || soerr)
                snprintf(why, size, "%s", strerror(soerr ?: errno));
        else
                r = 0, why[0] = '\0';
        if (why[0])
                r = -1;
        safe_close(fd);
        if (ai)
                freeaddrinfo(ai);
        endpoint_done(&ep);
        return r;
}

static void check_network(doctor *d, const prof_scan *s) {
        char why[POD_ERROR_MAX];

        STRV_FOREACH(url, s->endpoints)
                if (connect_to(*url, why, sizeof(why)) == 0)
                        doctor_report(d, DOCTOR_OK, "network", NULL, "%s answers", *url);
                else
                        doctor_report(d, DOCTOR_FAIL, "network",
                                      "check the endpoint: in the profile, the network, a proxy",
                                      "%s does not answer: %s", *url, why);
        if (!s->endpoints)
                doctor_report(d, DOCTOR_OK, "network", NULL, "no profile names an HTTP endpoint");
}

/* A project with profiles of its own: trusted (they take effect) or not (ignored, DESIGN §4). */
static void check_trust(doctor *d, const profile_set *set) {
        const char *project = profile_set_project_dir(set);
        const char *note = profile_set_default_note(set);
        bool own = false;

        for (size_t i = 0; i < profile_set_count(set); i++)
                own |= profile_set_get(set, i)->source == POD_SOURCE_PROJECT ||
                        profile_set_get(set, i)->untrusted;
        if (!project || !own)
                return;
        if (profile_set_project_trusted(set))
                doctor_report(d, DOCTOR_OK, "trust", NULL,
                              "project %s is trusted: its profiles and default pointer apply",
                              project);
        else
                doctor_report(d, DOCTOR_WARN, "trust",
                              "run 'pod trust' in the project if you mean its profiles to apply",
                              "project %s is not trusted: its profiles and default pointer are "
                              "ignored%s%s",
                              project, note ? "; " : "", note ?: "");
}

void doctor_profiles(doctor *d) {
        _cleanup_(profile_set_freep) profile_set *set = NULL;
        pod_error err = { 0 };
        prof_scan s = { 0 };

        if (profile_set_discover(&set, d->cwd, d->dirs.config_dir, &err) < 0 ||
            check_default(d, &set) < 0) {
                doctor_report(d, DOCTOR_FAIL, "profiles", NULL, "not checked: %s",
                              err.msg[0] ? err.msg : "out of memory");
                return;
        }
        STRV_FOREACH(diag, profile_set_diagnostics(set))
                doctor_report(d, DOCTOR_WARN, "profiles", "check the file's permissions", "%s",
                              *diag);
        s.def = profile_set_default(set, NULL);
        for (size_t i = 0; i < profile_set_count(set); i++)
                check_profile(d, &s, set, profile_set_get(set, i));
        check_trust(d, set);
        check_curl(d, &s);
        if (d->network)
                check_network(d, &s);
        strv_free(s.endpoints);
}
