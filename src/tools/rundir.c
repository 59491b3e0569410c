/* SPDX-License-Identifier: MIT */
/*
 * A pod's run dir has a cap (DESIGN §14, docs/running.md): the operator's
 * POD_RUN_DIR_CAP_MIB, or 256 MiB. The transcript (worker.c), the Bash logs (tool-bash.c)
 * and the private TMPDIR (here) each keep to a share of it. The pod writes the first two
 * itself and counts what it writes; TMPDIR is written by commands, so it is measured after
 * each one and emptied when it holds more than its share.
 */
#include <string.h>

#include "tools.h"

int run_dir_cap_from_env(uint64_t *ret, char *const *envp, pod_error *err) {
        const char *v = env_get(envp, "POD_RUN_DIR_CAP_MIB");
        int mib;

        if (!v || !*v) {
                *ret = (uint64_t) POD_RUN_DIR_CAP_DEFAULT_MIB << 20;
                return 0;
        }
        if (strlen(v) > 16 || str_to_int(v, &mib) < 0 || mib < 1 ||
            (unsigned) mib > POD_RUN_DIR_CAP_MAX_MIB)
                return pod_error_set(err, -EINVAL,
                                     "POD_RUN_DIR_CAP_MIB: '%.16s' is not a whole number of MiB "
                                     "from 1 to %u",
                                     v, POD_RUN_DIR_CAP_MAX_MIB);
        *ret = (uint64_t) mib << 20;
        return 0;
}

int run_dir_bound_tmp(uint64_t *ret_held, int tmp_fd, uint64_t share) {
        uint64_t held = 0;
        int measured = dir_disk_usage(&held, tmp_fd, ".", POD_TMP_MAX_ENTRIES), r;

        if (measured == -ENOENT)
                return 0; /* never made: nothing to bound */
        if (measured >= 0 && held <= share)
                return 0;
        r = dir_empty(tmp_fd, "."); /* over its share, or too large or deep to measure */
        if (r < 0)
                return r;
        *ret_held = measured >= 0 ? held : UINT64_MAX;
        return 1;
}
