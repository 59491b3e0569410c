/* SPDX-License-Identifier: MIT */
/*
 * The places on disk of DESIGN §3, computed from an explicit environment so tests and
 * library callers never depend on the process's own variables or cwd.
 */
#include <stdio.h>
#include <string.h>

#include "base.h"

const char *env_get(char *const *envp, const char *name) {
        size_t n = strlen(name);

        STRV_FOREACH(e, envp)
                if (strncmp(*e, name, n) == 0 && (*e)[n] == '=')
                        return *e + n + 1;
        return NULL;
}

/* An environment value used as a directory: set, non-empty and absolute, or not used. */
static int dir_var(const char **out, char *const *envp, const char *name, pod_error *err) {
        const char *v = env_get(envp, name);

        *out = NULL;
        if (!v || !*v)
                return 0;
        if (v[0] != '/')
                return pod_error_set(err, -EINVAL, "$%s=%s: must be an absolute path", name, v);
        if (strlen(v) > 2048)
                return pod_error_set(err, -ENAMETOOLONG, "$%s: path is over 2048 bytes", name);
        *out = v;
        return 0;
}

/* First of: $pod_var, $xdg_var/pod, $HOME/home_rel. */
static int pick_dir(char **out,
                    char *const *envp,
                    const char *pod_var,
                    const char *xdg_var,
                    const char *home_rel,
                    pod_error *err) {
        const char *v;
        int r;

        r = dir_var(&v, envp, pod_var, err);
        if (r < 0)
                return r;
        if (v)
                return (*out = strdup(v)) ? 0 : pod_error_oom(err);
        r = dir_var(&v, envp, xdg_var, err);
        if (r < 0)
                return r;
        if (v)
                return (*out = path_join(v, "pod")) ? 0 : pod_error_oom(err);
        if (!home_rel)
                return 0;
        r = dir_var(&v, envp, "HOME", err);
        if (r < 0)
                return r;
        if (!v)
                return pod_error_set(err, -ENOENT, "neither $%s, $%s nor $HOME is set", pod_var,
                                     xdg_var);
        return (*out = path_join(v, home_rel)) ? 0 : pod_error_oom(err);
}

int pod_dirs_from_env(pod_dirs *out, char *const *envp, uid_t uid, pod_error *err) {
        pod_dirs d = { 0 };
        int r;

        r = pick_dir(&d.config_dir, envp, "POD_CONFIG_DIR", "XDG_CONFIG_HOME", ".config/pod", err);
        if (r >= 0)
                r = pick_dir(&d.data_dir, envp, "POD_DATA_DIR", "XDG_DATA_HOME", ".local/share/pod",
                             err);
        if (r >= 0)
                r = pick_dir(&d.runtime_dir, envp, "POD_RUNTIME_DIR", "XDG_RUNTIME_DIR", NULL, err);
        if (r >= 0 && !d.runtime_dir) {
                char tmp[64];
                snprintf(tmp, sizeof(tmp), "/tmp/pod-%u", (unsigned) uid);
                d.runtime_dir = strdup(tmp);
                if (!d.runtime_dir)
                        r = pod_error_oom(err);
        }
        if (r < 0) {
                pod_dirs_done(&d);
                return r;
        }
        *out = d;
        return 0;
}

void pod_dirs_done(pod_dirs *d) {
        free(d->config_dir);
        free(d->data_dir);
        free(d->runtime_dir);
        *d = (pod_dirs){ 0 };
}
