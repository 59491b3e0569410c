/* SPDX-License-Identifier: MIT */
/*
 * Hot reload (DESIGN §4, §12): after a change to profiles or trust, every live top-level
 * pod of this operator gets `reconfigure {profiles}` with a snapshot discovered anew from
 * its own cwd. The pod forwards it to its children; children spawned afterwards resolve
 * against it, and pods already running keep the manifest they started with.
 */
#include <string.h>
#include <sys/stat.h>

#include "cli.h"
#include "prompt/prompt.h"

json_t *cli_snapshot(const profile_set *set, const char *config_dir) {
        prompt_sources src = { config_dir, profile_set_project_dir(set) };
        json_t *snap = profile_set_snapshot(set);

        /* The snapshot carries the skills its profiles name, so that a spawner inlines its
         * children's without reading outside its scope (DESIGN §6). */
        if (snap && json_object_set_new(snap, "skills", prompt_skill_library(set, &src)) < 0) {
                json_decref(snap);
                return NULL;
        }
        return snap;
}

/* The snapshot a pod whose cwd is cwd sees now. */
static json_t *snapshot_for(const char *cwd, const char *config_dir, pod_error *err) {
        _cleanup_(profile_set_freep) profile_set *set = NULL;

        if (!cwd || profile_set_discover(&set, cwd, config_dir, err) < 0)
                return NULL;
        return cli_snapshot(set, config_dir);
}

static int reconfigure_one(pod_registry *reg,
                           const char *name,
                           const char *cwd,
                           const char *config_dir,
                           pod_error *err) {
        _cleanup_free_ char *sock = registry_path(reg, name, "sock");
        json_auto_t *e = NULL, *params = NULL, *res = NULL;
        json_t *snap;
        int r;

        r = registry_read_live(&e, reg, name, err);
        if (r < 0)
                return r;
        snap = snapshot_for(cwd, config_dir, err);
        if (!snap)
                return -EINVAL;
        params = json_pack("{s:o}", "profiles", snap);
        if (!params || !sock)
                return pod_error_oom(err);
        return ipc_call(&res, sock, (pid_t) json_integer_value(json_object_get(e, "pid")),
                        json_string_value(json_object_get(e, "token")), "reconfigure", params, err);
}

unsigned cli_reconfigure_pods(char **envp, const char *config_dir) {
        _cleanup_(registry_freep) pod_registry *reg = NULL;
        json_auto_t *list = NULL;
        pod_dirs dirs = { 0 };
        pod_error err = { 0 };
        unsigned reached = 0, live = 0;
        json_t *e;
        size_t i;

        if (pod_dirs_from_env(&dirs, envp, getuid(), &err) < 0 ||
            registry_open(&reg, dirs.runtime_dir, &err) < 0 ||
            registry_list(&list, reg, &err) < 0) {
                pod_dirs_done(&dirs);
                cli_warn("running pods were not told of the change: %s", err.msg);
                return 0;
        }
        pod_dirs_done(&dirs);
        json_array_foreach(list, i, e) {
                const char *name = json_string_value(json_object_get(e, "name"));
                if (!name || !json_is_null(json_object_get(e, "parent")))
                        continue; /* a child hears it from its spawner */
                live++;
                if (reconfigure_one(reg, name, json_string_value(json_object_get(e, "cwd")),
                                    config_dir, &err) < 0)
                        cli_warn("pod '%s' was not reconfigured: %s", name, err.msg);
                else
                        reached++;
        }
        fprintf(stderr, "reconfigured %u of %u running top-level pod%s\n", reached, live,
                live == 1 ? "" : "s");
        return reached;
}
