/* SPDX-License-Identifier: MIT */
/*
 * `pod doctor`'s checks of the host: the kernel (Landlock, seccomp, POD_SANDBOX), the
 * places on disk (DESIGN §3) and the registry (DESIGN §8). Nothing here changes anything
 * unless --fix asked, and then only what is safe: dead entries are reaped the way `pod ps`
 * reaps them (under the registry lock), and the runtime dir's mode is narrowed.
 */
#include <dirent.h>
#include <linux/seccomp.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>

#include "doctor-internal.h"
#include "sandbox/sandbox.h"

/* ---- the kernel ------------------------------------------------------------------------ */

static void check_sandbox_setting(doctor *d) {
        const char *v = env_get(d->envp, "POD_SANDBOX");

        if (!v || !v[0] || strcmp(v, "on") == 0)
                doctor_report(d, DOCTOR_OK, "kernel", NULL, "POD_SANDBOX %s: pods run confined",
                              v && v[0] ? "is on" : "is unset");
        else if (strcmp(v, "off") == 0)
                doctor_report(d, DOCTOR_WARN, "kernel",
                              "unset POD_SANDBOX wherever the kernel has Landlock",
                              "POD_SANDBOX=off: pods run without the kernel sandbox (Landlock, "
                              "seccomp), held to their scopes by pod's own checks alone");
        else
                doctor_report(d, DOCTOR_FAIL, "kernel",
                              "unset POD_SANDBOX (the sandbox is on), or set POD_SANDBOX=off",
                              "POD_SANDBOX=%s is not a setting pod knows; every run refuses it",
                              cli_printable(v, 64) ? v : "...");
}

static void check_landlock(doctor *d) {
        const char *v = env_get(d->envp, "POD_SANDBOX");
        bool off = v && strcmp(v, "off") == 0;
        int abi = sandbox_abi();

        if (abi < 1)
                doctor_report(d, off ? DOCTOR_WARN : DOCTOR_FAIL, "kernel",
                              "boot Linux 5.13 or later with landlock in the lsm= list; only if "
                              "you cannot, POD_SANDBOX=off runs pods unconfined",
                              "the kernel offers no Landlock: %s",
                              off ? "pods run unconfined (POD_SANDBOX=off)" : "pods refuse to run");
        else if (abi < 4)
                doctor_report(d, DOCTOR_WARN, "kernel", "a kernel with Landlock ABI 4 or later",
                              "Landlock ABI %d: no network rules (ABI 4), so network: model-only "
                              "rests on seccomp alone",
                              abi);
        else if (abi < 6)
                doctor_report(d, DOCTOR_WARN, "kernel", "a kernel with Landlock ABI 6 (Linux 6.12)",
                              "Landlock ABI %d: signals and abstract sockets are not scoped (ABI "
                              "6); seccomp and the registry's checks stand in",
                              abi);
        else
                doctor_report(d, DOCTOR_OK, "kernel", NULL, "Landlock ABI %d", abi);
}

static void check_seccomp(doctor *d) {
        int mode = prctl(PR_GET_SECCOMP, 0, 0, 0, 0);

        /* A NULL program: EFAULT where filters exist (the copy fails first), EINVAL where not. */
        if (mode < 0 ||
            (prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, NULL, 0, 0) < 0 && errno != EFAULT &&
             mode != SECCOMP_MODE_FILTER))
                doctor_report(d, DOCTOR_FAIL, "kernel", "a kernel built with CONFIG_SECCOMP_FILTER",
                              "the kernel offers no seccomp filters: %s", strerror(errno));
        else
                doctor_report(d, DOCTOR_OK, "kernel", NULL, "seccomp filters%s",
                              mode == SECCOMP_MODE_FILTER ? " (doctor itself runs under one: "
                                                            "inside a pod?)" :
                                                            "");
}

void doctor_kernel(doctor *d) {
        check_sandbox_setting(d);
        check_landlock(d);
        check_seccomp(d);
}

/* ---- the places on disk ------------------------------------------------------------------ */

static void check_dir(doctor *d, const char *what, const char *dir, bool private) {
        char area[64], fix[POD_ERROR_MAX];
        struct stat st;

        snprintf(area, sizeof(area), "%s dir", what);
        if (lstat(dir, &st) < 0) {
                if (errno == ENOENT)
                        doctor_report(d, DOCTOR_OK, area, NULL, "%s (not made yet; pod makes it)",
                                      dir);
                else
                        doctor_report(d, DOCTOR_FAIL, area, "check the path and its parents",
                                      "%s: %s", dir, strerror(errno));
                return;
        }
        if (!S_ISDIR(st.st_mode)) {
                doctor_report(d, DOCTOR_FAIL, area,
                              "remove it, or point pod elsewhere (docs/operator.md)",
                              "%s is not a directory%s", dir,
                              S_ISLNK(st.st_mode) && private ? " (a symlink is refused)" : "");
                return;
        }
        if (st.st_uid != getuid()) {
                snprintf(fix, sizeof(fix), "chown %u %s, or point pod at a dir of yours",
                         (unsigned) getuid(), dir);
                doctor_report(d, DOCTOR_FAIL, area, fix,
                              "%s belongs to uid %u, not to you (uid %u)", dir,
                              (unsigned) st.st_uid, (unsigned) getuid());
                return;
        }
        if (st.st_mode & (private ? 077 : 022)) {
                snprintf(fix, sizeof(fix), "chmod %s %s", private ? "700" : "go-w", dir);
                if (d->fix && private && chmod(dir, 0700) == 0) {
                        doctor_fixed(d, area, "%s had mode %04o; now 0700", dir,
                                     (unsigned) (st.st_mode & 07777));
                        return;
                }
                doctor_report(d, DOCTOR_FAIL, area, fix, "%s has mode %04o: %s", dir,
                              (unsigned) (st.st_mode & 07777),
                              private ? "others may reach the pods' sockets and entries" :
                                        "others may change what pod reads");
                return;
        }
        doctor_report(d, DOCTOR_OK, area, NULL, "%s (yours, mode %04o)", dir,
                      (unsigned) (st.st_mode & 07777));
}

void doctor_dirs(doctor *d) {
        check_dir(d, "config", d->dirs.config_dir, false);
        check_dir(d, "data", d->dirs.data_dir, false);
        check_dir(d, "runtime", d->dirs.runtime_dir, true);
}

/* ---- the registry ------------------------------------------------------------------------ */

typedef struct reg_scan {
        unsigned live, dead, empty, torn, foreign;
        char **reapable; /* names --fix reaps */
} reg_scan;

static bool has_write_rule(const json_t *e) {
        const json_t *r;
        size_t k;

        json_array_foreach(json_object_get(json_object_get(e, "scope"), "allow"), k, r)
                if (strcmp(json_string_value(json_object_get(r, "access")) ?: "", "write") == 0)
                        return true;
        return false;
}

static bool is_socket(pod_registry *reg, const char *name) {
        _cleanup_free_ char *sock = registry_path(reg, name, "sock");
        struct stat st;

        return sock && lstat(sock, &st) == 0 && S_ISSOCK(st.st_mode);
}

/* An entry whose pod.json could not be read. */
static void scan_unreadable(
        doctor *d, reg_scan *s, pod_registry *reg, const char *name, int r, const char *why) {
        _cleanup_free_ char *dir = registry_path(reg, name, NULL);
        struct stat st;

        if (r == -ENOENT) { /* an emptied folder: free for the next holder of the name */
                s->empty++;
                return;
        }
        s->torn++;
        if (dir && lstat(dir, &st) == 0 && time(NULL) - st.st_mtime < 60) {
                doctor_report(d, DOCTOR_WARN, "registry", "run pod doctor again in a minute",
                              "entry '%s': pod.json unreadable (%s); it may be being made", name,
                              why);
                return;
        }
        (void) strv_push(&s->reapable, name);
        doctor_report(d, DOCTOR_WARN, "registry", "pod doctor --fix (or pod ps) reaps it",
                      "entry '%s': pod.json is torn or unreadable: %s", name, why);
}

static void scan_entry(doctor *d, reg_scan *s, pod_registry *reg, const char *name) {
        _cleanup_free_ char *file = registry_path(reg, name, "pod.json");
        json_auto_t *e = NULL;
        pod_error err = { 0 };
        const char *recorded;
        bool alive = false;
        struct stat st;
        int r;

        r = registry_read(&e, &alive, reg, name, &err);
        if (r < 0) {
                scan_unreadable(d, s, reg, name, r, err.msg);
                return;
        }
        recorded = json_string_value(json_object_get(e, "name"));
        if ((file && lstat(file, &st) == 0 && st.st_uid != getuid()) ||
            (recorded && strcmp(recorded, name) != 0)) {
                s->foreign++;
                (void) strv_push(&s->reapable, name); /* reaped if its pod is gone */
                doctor_report(d, DOCTOR_FAIL, "registry",
                              "check what wrote it, then remove the entry's folder by hand",
                              "entry '%s': a foreign pod.json (%s)", name,
                              recorded && strcmp(recorded, name) != 0 ? "it names another pod" :
                                                                        "another user's file");
                return;
        }
        if (alive) {
                s->live++;
                if (!is_socket(reg, name))
                        doctor_report(
                                d, DOCTOR_WARN, "registry", "pod stop it if it does not start",
                                "live pod '%s' has no control socket (still starting?)", name);
                return;
        }
        s->dead++;
        (void) strv_push(&s->reapable, name);
        doctor_report(d, DOCTOR_WARN, "registry", "pod doctor --fix (or pod ps) reaps it",
                      "dead entry '%s' (pid %lld is gone)%s%s", name,
                      (long long) json_integer_value(json_object_get(e, "pid")),
                      is_socket(reg, name) ? ", with a stale socket" : "",
                      has_write_rule(e) && json_is_string(json_object_get(e, "parent")) ?
                              ", holding the write leases of a dead pod" :
                              "");
}

static void reap(doctor *d, reg_scan *s, pod_registry *reg) {
        json_auto_t *list = NULL;
        pod_error err = { 0 };

        /* The reaping `pod ps` does, under the registry lock: only dead entries go. */
        if (registry_list(&list, reg, &err) < 0) {
                doctor_report(d, DOCTOR_FAIL, "registry", "check the runtime dir", "reaping: %s",
                              err.msg);
                return;
        }
        STRV_FOREACH(n, s->reapable) {
                _cleanup_free_ char *file = registry_path(reg, *n, "pod.json");
                struct stat st;
                if (file && lstat(file, &st) < 0 && errno == ENOENT)
                        doctor_fixed(d, "registry",
                                     "reaped entry '%s': its pod is gone (its socket and leases "
                                     "went with it)",
                                     *n);
        }
}

static void scan_pods(doctor *d, reg_scan *s, pod_registry *reg) {
        _cleanup_free_ char *pods = path_join(d->dirs.runtime_dir, "pods");
        struct dirent *de;
        DIR *dir = pods ? opendir(pods) : NULL;

        if (!dir) {
                doctor_report(d, DOCTOR_FAIL, "registry", "check the runtime dir", "%s: %s",
                              pods ?: "pods", strerror(errno));
                return;
        }
        while ((de = readdir(dir))) {
                if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
                        continue;
                if (!slug_valid(de->d_name)) {
                        s->foreign++;
                        doctor_report(d, DOCTOR_WARN, "registry",
                                      "remove it by hand; pod made none such",
                                      "%s/%s: not a pod's entry", pods,
                                      cli_printable(de->d_name, 128) ? de->d_name : "...");
                        continue;
                }
                scan_entry(d, s, reg, de->d_name);
        }
        closedir(dir);
}

void doctor_registry(doctor *d) {
        _cleanup_(registry_freep) pod_registry *reg = NULL;
        pod_error err = { 0 };
        reg_scan s = { 0 };
        struct stat st;

        if (lstat(d->dirs.runtime_dir, &st) < 0 && errno == ENOENT) {
                doctor_report(d, DOCTOR_OK, "registry", NULL, "empty (no pod has run yet)");
                return;
        }
        if (registry_open(&reg, d->dirs.runtime_dir, &err) < 0) {
                doctor_report(d, DOCTOR_FAIL, "registry", "see the runtime dir's line above",
                              "not checked: %s", err.msg);
                return;
        }
        scan_pods(d, &s, reg);
        if (d->fix && s.reapable)
                reap(d, &s, reg);
        if (!s.dead && !s.torn && !s.foreign)
                doctor_report(d, DOCTOR_OK, "registry", NULL, "%u live pod%s, no dead entries",
                              s.live, s.live == 1 ? "" : "s");
        strv_free(s.reapable);
}
