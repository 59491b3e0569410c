/* SPDX-License-Identifier: MIT */
/*
 * The one environment allowlist (DESIGN §9, §14): which of the operator's variables a
 * process pod starts inherits, a Bash command or a child pod. Everything else (keys,
 * tokens, sockets, whatever a name like LC_SECRET carries) stays behind. The locale
 * variables pass by name, glibc's list, each with a value a locale name can have.
 */
#include <string.h>

#include "base.h"

/* What every process pod starts inherits, besides the locale. */
static const char *const env_common[] = { "PATH", "HOME",  "USER",   "LOGNAME",
                                          "TZ",   "SHELL", "TMPDIR", NULL };

/* glibc's locale variables (locale(7)). */
static const char *const env_locale[] = {
        "LANG",    "LANGUAGE",   "LC_ALL",       "LC_CTYPE",       "LC_NUMERIC",
        "LC_TIME", "LC_COLLATE", "LC_MONETARY",  "LC_MESSAGES",    "LC_PAPER",
        "LC_NAME", "LC_ADDRESS", "LC_TELEPHONE", "LC_MEASUREMENT", "LC_IDENTIFICATION",
        NULL
};

bool env_entry_named(const char *entry, const char *const *names) {
        size_t n = strcspn(entry, "=");

        if (entry[n] != '=')
                return false;
        for (const char *const *k = names; k && *k; k++)
                if (strlen(*k) == n && strncmp(entry, *k, n) == 0)
                        return true;
        return false;
}

bool env_inherited(const char *entry, const char *const *extra) {
        if (env_entry_named(entry, env_locale))
                return strlen(entry + strcspn(entry, "=") + 1) <= POD_ENV_LOCALE_VALUE_MAX;
        return env_entry_named(entry, env_common) || env_entry_named(entry, extra);
}
