/* SPDX-License-Identifier: MIT */
#include <criterion/criterion.h>

#include "base/base.h"

Test(strv, push_copy_contains_equal) {
        _cleanup_strv_free_ char **l = NULL, **c = NULL;

        cr_assert_eq(strv_length(l), 0);
        cr_assert_eq(strv_push(&l, "a"), 0);
        cr_assert_eq(strv_push(&l, "b"), 0);
        cr_assert_eq(strv_length(l), 2);
        cr_assert(strv_contains(l, "b"));
        cr_assert_not(strv_contains(l, "c"));
        c = strv_copy(l);
        cr_assert(strv_equal(l, c));
        cr_assert_eq(strv_push(&c, "c"), 0);
        cr_assert_not(strv_equal(l, c));
}

Test(strv, empty_copy_is_an_empty_list) {
        char *empty[] = { NULL };
        _cleanup_strv_free_ char **c = strv_copy(empty);

        cr_assert_not_null(c);
        cr_assert_eq(strv_length(c), 0);
}
