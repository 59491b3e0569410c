/* SPDX-License-Identifier: MIT */
#include <criterion/criterion.h>

#include "base/base.h"

Test(path, join_avoids_double_slashes) {
        char *p = path_join("/a/", "/b");

        cr_assert_str_eq(p, "/a/b");
        free(p);
        p = path_join("/", "b");
        cr_assert_str_eq(p, "/b");
        free(p);
        p = path_join("/a", "");
        cr_assert_str_eq(p, "/a");
        free(p);
}

Test(path, under_is_component_wise) {
        cr_assert(path_is_under("/a/b", "/a"));
        cr_assert(path_is_under("/a", "/a"));
        cr_assert(path_is_under("/anything", "/"));
        cr_assert_not(path_is_under("/ab", "/a"), "a shared string prefix is not containment");
        cr_assert_not(path_is_under("/a", "/a/b"));
}

Test(path, parent_and_basename) {
        char *p = path_parent("/a/b");

        cr_assert_str_eq(p, "/a");
        free(p);
        p = path_parent("/a");
        cr_assert_str_eq(p, "/");
        free(p);
        p = path_parent("/");
        cr_assert_str_eq(p, "/");
        free(p);
        cr_assert_str_eq(path_basename("/x/y.md"), "y.md");
}
