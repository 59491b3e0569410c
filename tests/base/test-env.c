/* SPDX-License-Identifier: MIT */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "base/base.h"

Test(env, the_locale_variables_pass_by_name_and_no_other_lc_name) {
        static const char *const locale[] = {
                "LANG",    "LANGUAGE",   "LC_ALL",       "LC_CTYPE",       "LC_NUMERIC",
                "LC_TIME", "LC_COLLATE", "LC_MONETARY",  "LC_MESSAGES",    "LC_PAPER",
                "LC_NAME", "LC_ADDRESS", "LC_TELEPHONE", "LC_MEASUREMENT", "LC_IDENTIFICATION"
        };
        char entry[64];

        for (size_t i = 0; i < POD_ARRAY_SIZE(locale); i++) {
                snprintf(entry, sizeof(entry), "%s=C.UTF-8", locale[i]);
                cr_assert(env_inherited(entry, NULL), "%s", entry);
        }
        cr_assert_not(env_inherited("LC_SECRET=x", NULL));
        cr_assert_not(env_inherited("LC_=x", NULL));
        cr_assert_not(env_inherited("LC_ALLX=x", NULL));
        cr_assert_not(env_inherited("LANGX=x", NULL));
        cr_assert_not(env_inherited("LC_ALL", NULL), "an entry without '=' is not a variable");
}

Test(env, a_locale_value_is_bounded) {
        char entry[POD_ENV_LOCALE_VALUE_MAX + 16];

        strcpy(entry, "LC_ALL=");
        memset(entry + 7, 'x', POD_ENV_LOCALE_VALUE_MAX);
        entry[7 + POD_ENV_LOCALE_VALUE_MAX] = '\0';
        cr_assert(env_inherited(entry, NULL), "a value of the limit passes");
        strcat(entry, "x");
        cr_assert_not(env_inherited(entry, NULL), "a longer one does not");
}

Test(env, the_common_variables_and_the_extra_names_pass) {
        static const char *const extra[] = { "TERM", NULL };

        cr_assert(env_inherited("PATH=/usr/bin", NULL));
        cr_assert(env_inherited("HOME=/h", NULL));
        cr_assert(env_inherited("TMPDIR=/t", NULL));
        cr_assert_not(env_inherited("TERM=xterm", NULL));
        cr_assert(env_inherited("TERM=xterm", extra));
        cr_assert_not(env_inherited("OPENAI_API_KEY=sk", extra));
        cr_assert_not(env_inherited("PATHX=/x", NULL));
        cr_assert(env_entry_named("K=v", (const char *const[]){ "K", NULL }));
        cr_assert_not(env_entry_named("K=v", NULL));
}
