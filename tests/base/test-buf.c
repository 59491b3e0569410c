/* SPDX-License-Identifier: MIT */
#include <criterion/criterion.h>
#include <string.h>

#include "base/base.h"

Test(buf, appends_and_formats) {
        _cleanup_buf_ pod_buf b = { 0 };

        cr_assert_str_eq(buf_str(&b), "", "an empty buffer reads as the empty string");
        buf_puts(&b, "a");
        buf_printf(&b, "%d-%s", 42, "x");
        buf_append(&b, "yz", 1);
        cr_assert_str_eq(buf_str(&b), "a42-xy");
        cr_assert_eq(b.len, 6);
}

Test(buf, grows_past_initial_capacity) {
        _cleanup_buf_ pod_buf b = { 0 };
        char *s;

        for (int i = 0; i < 1000; i++)
                buf_puts(&b, "0123456789");
        cr_assert_eq(b.len, 10000);
        s = buf_steal(&b);
        cr_assert_eq(strlen(s), 10000);
        cr_assert_eq(b.data, NULL, "steal leaves the buffer empty");
        free(s);
}
