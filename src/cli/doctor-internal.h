/* SPDX-License-Identifier: MIT */
#pragma once

/* `pod doctor` (DESIGN §19): the report its checks write to, and the checks. */

#include <stdarg.h>

#include "cli.h"

typedef enum doctor_level {
        DOCTOR_OK,
        DOCTOR_WARN,
        DOCTOR_FAIL,
} doctor_level;

typedef struct doctor {
        char **envp;
        char *cwd; /* where profiles are discovered from */
        pod_dirs dirs;
        bool fix, json, network, colour;
        bool fixing; /* the report being written is a repair */
        json_t *checks; /* --json: the checks, in order */
        unsigned count[3];
} doctor;

/* One check's line: area ("kernel", "registry", "profile project:coder"), what was found,
 * and for a problem, its fix (NULL: none). */
void doctor_report(
        doctor *d, doctor_level level, const char *area, const char *fix, const char *fmt, ...)
        _printf_(5, 6);
/* What --fix did, reported as an ok line marked fixed. */
void doctor_fixed(doctor *d, const char *area, const char *fmt, ...) _printf_(3, 4);

/* doctor-checks.c */
void doctor_kernel(doctor *d);
void doctor_dirs(doctor *d);
void doctor_registry(doctor *d);
/* doctor-profiles.c */
void doctor_profiles(doctor *d);
