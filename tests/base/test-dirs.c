/* SPDX-License-Identifier: MIT */
#include <criterion/criterion.h>
#include <string.h>

#include "base/base.h"

Test(dirs, pod_variables_win) {
        char *env[] = { "POD_CONFIG_DIR=/c", "XDG_CONFIG_HOME=/x", "HOME=/h",
                        "POD_DATA_DIR=/d",   "POD_RUNTIME_DIR=/r", NULL };
        pod_dirs d;

        cr_assert_eq(pod_dirs_from_env(&d, env, 1000, NULL), 0);
        cr_assert_str_eq(d.config_dir, "/c");
        cr_assert_str_eq(d.data_dir, "/d");
        cr_assert_str_eq(d.runtime_dir, "/r");
        pod_dirs_done(&d);
}

Test(dirs, xdg_then_home_then_tmp) {
        char *env[] = { "XDG_CONFIG_HOME=/x", "XDG_RUNTIME_DIR=/run/user/7", "HOME=/h", NULL };
        char *bare[] = { "HOME=/h", NULL };
        pod_dirs d;

        cr_assert_eq(pod_dirs_from_env(&d, env, 7, NULL), 0);
        cr_assert_str_eq(d.config_dir, "/x/pod");
        cr_assert_str_eq(d.data_dir, "/h/.local/share/pod");
        cr_assert_str_eq(d.runtime_dir, "/run/user/7/pod");
        pod_dirs_done(&d);
        cr_assert_eq(pod_dirs_from_env(&d, bare, 7, NULL), 0);
        cr_assert_str_eq(d.config_dir, "/h/.config/pod");
        cr_assert_str_eq(d.runtime_dir, "/tmp/pod-7");
        pod_dirs_done(&d);
}

Test(dirs, relative_or_missing_is_an_error) {
        char *rel[] = { "POD_CONFIG_DIR=relative", "HOME=/h", NULL };
        char *none[] = { NULL };
        pod_error err = { 0 };
        pod_dirs d;

        cr_assert_lt(pod_dirs_from_env(&d, rel, 0, &err), 0);
        cr_assert(strstr(err.msg, "POD_CONFIG_DIR"), "%s", err.msg);
        cr_assert_lt(pod_dirs_from_env(&d, none, 0, &err), 0);
        cr_assert(strstr(err.msg, "HOME"), "%s", err.msg);
}

Test(dirs, empty_variables_are_unset) {
        char *env[] = { "POD_CONFIG_DIR=", "HOME=/h", NULL };
        pod_dirs d;

        cr_assert_eq(pod_dirs_from_env(&d, env, 0, NULL), 0);
        cr_assert_str_eq(d.config_dir, "/h/.config/pod");
        pod_dirs_done(&d);
}
