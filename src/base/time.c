/* SPDX-License-Identifier: MIT */
/*
 * Wall-clock time as text: every timestamp pod writes (transcripts, registry entries, run
 * directory names, the date in a system prompt) is UTC and formatted here.
 */
#include <time.h>

#include "base.h"

const char *time_format(char out[POD_TIME_MAX], time_t t, pod_time_format f) {
        struct tm tm;
        size_t n = 0;

        if (gmtime_r(&t, &tm)) {
                if (f == POD_TIME_ISO)
                        n = strftime(out, POD_TIME_MAX, "%Y-%m-%dT%H:%M:%SZ", &tm);
                else if (f == POD_TIME_DATE)
                        n = strftime(out, POD_TIME_MAX, "%Y-%m-%d", &tm);
                else if (f == POD_TIME_STAMP)
                        n = strftime(out, POD_TIME_MAX, "%Y%m%d-%H%M%S", &tm);
        }
        if (n == 0)
                out[0] = '\0';
        return out;
}

const char *time_now(char out[POD_TIME_MAX], pod_time_format f) {
        return time_format(out, time(NULL), f);
}
