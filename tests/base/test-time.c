/* SPDX-License-Identifier: MIT */
#include <criterion/criterion.h>
#include <string.h>
#include <time.h>

#include "base/base.h"

#define T 1764765624 /* 2025-12-03 12:40:24 UTC */

Test(time, formats_a_moment_in_utc) {
        char out[POD_TIME_MAX];

        cr_assert_str_eq(time_format(out, T, POD_TIME_ISO), "2025-12-03T12:40:24Z");
        cr_assert_str_eq(time_format(out, T, POD_TIME_DATE), "2025-12-03");
        cr_assert_str_eq(time_format(out, T, POD_TIME_STAMP), "20251203-124024");
        cr_assert_str_eq(time_format(out, 0, POD_TIME_ISO), "1970-01-01T00:00:00Z");
}

Test(time, the_time_zone_does_not_matter) {
        char out[POD_TIME_MAX];

        setenv("TZ", "Asia/Kolkata", 1);
        tzset();
        cr_assert_str_eq(time_format(out, T, POD_TIME_ISO), "2025-12-03T12:40:24Z");
}

Test(time, now_is_an_iso_moment) {
        char now[POD_TIME_MAX];

        time_now(now, POD_TIME_ISO);
        cr_assert_eq(strlen(now), 20, "%s", now);
        cr_assert(now[4] == '-' && now[10] == 'T' && now[19] == 'Z', "%s", now);
        cr_assert_geq(strncmp(now, "2025", 4), 0, "%s", now);
}
