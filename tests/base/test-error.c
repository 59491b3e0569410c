/* SPDX-License-Identifier: MIT */
#include <criterion/criterion.h>
#include <string.h>

#include "base/base.h"

Test(error, set_returns_code_and_keeps_one_line) {
        pod_error err = { 0 };

        cr_assert_eq(pod_error_set(&err, -ENOENT, "a\nb %d", 1), -ENOENT);
        cr_assert_eq(err.code, -ENOENT);
        cr_assert_str_eq(err.msg, "a b 1", "newlines never reach the message");
}

Test(error, null_error_is_allowed) {
        cr_assert_eq(pod_error_set(NULL, -EINVAL, "x"), -EINVAL);
}

Test(error, positive_code_becomes_einval) {
        pod_error err = { 0 };

        cr_assert_eq(pod_error_set(&err, 5, "x"), -EINVAL);
}

Test(error, prefix_keeps_code_and_truncates_safely) {
        pod_error err = { 0 };
        char big[POD_ERROR_MAX * 2];

        pod_error_set(&err, -EACCES, "inner");
        cr_assert_eq(pod_error_prefix(&err, "%s: ", "file"), -EACCES);
        cr_assert_str_eq(err.msg, "file: inner");
        memset(big, 'x', sizeof(big) - 1);
        big[sizeof(big) - 1] = '\0';
        pod_error_prefix(&err, "%s", big);
        cr_assert_eq(strlen(err.msg), POD_ERROR_MAX - 1);
}

Test(error, errno_names_the_cause_and_returns_it) {
        pod_error err = { 0 };

        errno = ENOENT;
        cr_assert_eq(pod_error_errno(&err, "cannot open %s", "x.json"), -ENOENT);
        cr_assert_eq(err.code, -ENOENT);
        cr_assert_str_eq(err.msg, "cannot open x.json: No such file or directory");
        errno = 0;
        cr_assert_eq(pod_error_errno(&err, "odd"), -EIO, "a failure never returns 0");
        errno = EACCES;
        cr_assert_eq(pod_error_errno(NULL, "no err"), -EACCES);
}

Test(error, oom_says_so) {
        pod_error err = { 0 };

        cr_assert_eq(pod_error_oom(&err), -ENOMEM);
        cr_assert_str_eq(err.msg, "out of memory");
}
