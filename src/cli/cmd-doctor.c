/* SPDX-License-Identifier: MIT */
/*
 * `pod doctor` (DESIGN §19): one line per check, ok, warn or FAIL, each problem with its
 * fix. The checks themselves live in doctor-checks.c; this file holds the report (text or
 * --json), the options, and the order of the checks.
 */
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "doctor-internal.h"

static const char doctor_help[] =
        "Usage: pod doctor [--fix] [--json] [--network] [--cwd DIR]\n"
        "\n"
        "Check what pod needs, one line per check: ok, warn or FAIL, each problem with its\n"
        "fix. It checks the kernel (Landlock ABI, seccomp, POD_SANDBOX), the config, data\n"
        "and runtime dirs (owner, mode), the registry (dead entries, torn or foreign\n"
        "pod.json, stale sockets, leases of dead pods) and every profile visible from DIR\n"
        "(it parses, the default pointer is valid, its manifest resolves with its skills and\n"
        "prompt overrides, its model handler opens, its key variable is set, its delegate CLI\n"
        "is on PATH, libcurl loads).\n"
        "\n"
        "  --fix       repair what is safe: reap dead registry entries (their sockets and\n"
        "              leases), tighten the runtime dir's mode, remove a dangling default\n"
        "              pointer; each repair is reported\n"
        "  --json      print one JSON object: {\"status\", \"checks\": [{\"area\", \"status\",\n"
        "              \"message\", \"fix\", \"fixed\"}]}\n"
        "  --network   also check that each profile's model endpoint answers (TCP connect)\n"
        "  --cwd DIR   check the profiles visible from DIR (default: the current directory)\n"
        "\n"
        "Exit status: 0 when nothing failed (warnings allowed), 1 when a check failed, 2 on a\n"
        "usage error. docs/doctor.md lists every check.\n";

static const char *const level_names[] = { "ok", "warn", "FAIL" };
static const char *const level_json[] = { "ok", "warn", "fail" };
static const char *const level_colour[] = { "\033[32m", "\033[33m", "\033[1;31m" };

void doctor_report(
        doctor *d, doctor_level level, const char *area, const char *fix, const char *fmt, ...) {
        char msg[POD_ERROR_MAX * 2];
        va_list ap;

        va_start(ap, fmt);
        vsnprintf(msg, sizeof(msg), fmt, ap);
        va_end(ap);
        /* What a profile or an entry said is echoed: nothing in it acts on a terminal. */
        for (char *p = msg; *p; p++)
                if ((unsigned char) *p < 0x20 || *p == 0x7f)
                        *p = '?';
        d->count[level]++;
        if (d->json) {
                json_t *c = json_pack("{s:s, s:s, s:s}", "area", area, "status", level_json[level],
                                      "message", msg);
                if (c && fix)
                        json_object_set_new(c, "fix", json_string(fix));
                if (c && d->fixing)
                        json_object_set_new(c, "fixed", json_true());
                json_array_append_new(d->checks, c);
                return;
        }
        printf("%s%-4s%s  %s: %s%s%s\n", d->colour ? level_colour[level] : "", level_names[level],
               d->colour ? "\033[0m" : "", area, msg, fix ? "; fix: " : "", fix ?: "");
}

void doctor_fixed(doctor *d, const char *area, const char *fmt, ...) {
        char msg[POD_ERROR_MAX * 2];
        va_list ap;

        va_start(ap, fmt);
        vsnprintf(msg, sizeof(msg), fmt, ap);
        va_end(ap);
        d->fixing = true;
        doctor_report(d, DOCTOR_OK, area, NULL, "fixed: %s", msg);
        d->fixing = false;
}

static int parse(doctor *d, const char **cwd, int argc, char **argv) {
        enum { OPT_FIX = 2000, OPT_NETWORK };
        static const struct option longopts[] = {
                { "fix", no_argument, NULL, OPT_FIX },
                { "json", no_argument, NULL, CLI_OPT_JSON },
                { "network", no_argument, NULL, OPT_NETWORK },
                { "cwd", required_argument, NULL, CLI_OPT_CWD },
                { "help", no_argument, NULL, 'h' },
                {},
        };
        cli_opts st = { argc, argv, longopts, doctor_help, false };
        int c, r;

        while ((r = cli_next_option(&st, &c)) > 0) {
                d->fix |= c == OPT_FIX;
                d->json |= c == CLI_OPT_JSON;
                d->network |= c == OPT_NETWORK;
                if (c == CLI_OPT_CWD)
                        *cwd = optarg;
        }
        if (r < 0)
                return r == -1 ? -1 : EXIT_USAGE;
        if (optind != argc)
                return cli_fail(EXIT_USAGE, "doctor: unexpected argument '%s'\n%s", argv[optind],
                                doctor_help);
        return EXIT_OK;
}

static int finish(doctor *d) {
        const char *status = d->count[DOCTOR_FAIL] ? "failed" : "ok";

        if (d->json) {
                json_auto_t *j =
                        json_pack("{s:s, s:O, s:{s:I, s:I, s:I}}", "status", status, "checks",
                                  d->checks, "counts", "ok", (json_int_t) d->count[DOCTOR_OK],
                                  "warn", (json_int_t) d->count[DOCTOR_WARN], "fail",
                                  (json_int_t) d->count[DOCTOR_FAIL]);
                if (!j || cli_print_json(j) != EXIT_OK)
                        return EXIT_RUNTIME;
        } else
                printf("\n%u ok, %u warn, %u FAIL\n", d->count[DOCTOR_OK], d->count[DOCTOR_WARN],
                       d->count[DOCTOR_FAIL]);
        return d->count[DOCTOR_FAIL] ? EXIT_RUNTIME : EXIT_OK;
}

static int doctor_main(int argc, char **argv, char **envp) {
        doctor d = { .envp = envp, .checks = json_array() };
        const char *cwd_opt = NULL;
        pod_error err = { 0 };
        int r;

        cli_json_errors(argc, argv);
        r = parse(&d, &cwd_opt, argc, argv);
        if (r == EXIT_OK && !d.checks)
                r = cli_fail(EXIT_RUNTIME, "out of memory");
        if (r == EXIT_OK)
                r = cli_resolve_cwd(&d.cwd, cwd_opt);
        if (r == EXIT_OK && pod_dirs_from_env(&d.dirs, envp, getuid(), &err) < 0)
                r = cli_fail(EXIT_USAGE, "%s", err.msg);
        if (r == EXIT_OK) {
                d.colour = !d.json && cli_colour(stdout);
                doctor_kernel(&d);
                doctor_dirs(&d);
                doctor_registry(&d);
                doctor_profiles(&d);
                r = finish(&d);
        }
        json_decref(d.checks);
        free(d.cwd);
        pod_dirs_done(&d.dirs);
        return r < 0 ? EXIT_OK : r;
}

const cli_command cmd_doctor = {
        .name = "doctor",
        .summary = "check the kernel, dirs, registry and profiles (pod doctor --fix)",
        .run = doctor_main,
};
