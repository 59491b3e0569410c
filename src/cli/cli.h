/* SPDX-License-Identifier: MIT */
#pragma once

/*
 * cli: the only module that prints. main.c dispatches to one file per subcommand; each
 * returns an exit code of DESIGN §13.
 */

#include <getopt.h>
#include <stdio.h>

#include "base/base.h"
#include "manifest/manifest.h"
#include "pod/pod.h"

enum {
        EXIT_OK = 0,
        EXIT_RUNTIME = 1, /* a runtime failure */
        EXIT_USAGE = 2,   /* a usage or configuration error */
};

typedef struct cli_command {
        const char *name;
        const char *summary;
        int (*run)(int argc, char **argv, char **envp);
} cli_command;

extern const cli_command cmd_profile;
extern const cli_command cmd_run;
extern const cli_command cmd_ps;
extern const cli_command cmd_logs;
extern const cli_command cmd_send;
extern const cli_command cmd_stop;
extern const cli_command cmd_adopt;
extern const cli_command cmd_demo;

/* The registry of this environment's runtime dir. Prints its errors; returns an exit code. */
int cli_open_registry(pod_registry **out, char **envp);
/* A live pod's entry by name (with its token). Prints its errors; returns an exit code. */
int cli_find_pod(json_t **out, pod_registry *reg, const char *name);

/* What the user asked to run or show. */
typedef struct cli_target {
        const char *cwd;      /* --cwd; NULL: the current directory */
        const char *selector; /* NULL: default */
        const char *name;     /* --name */
        const char *model;    /* --model */
        char **scope;         /* --scope rules as written */
        bool explain;         /* also record where every value came from */
        manifest_budget_args budget; /* --budget-tokens, --budget-usd, --max-turns, --timeout-s */
} cli_target;

typedef struct cli_resolved {
        profile_set *set;
        char *cwd;
        pod_dirs dirs;
        const profile_entry *entry;
        json_t *manifest; /* resolved and inlined, when asked for */
        json_t *explain;
} cli_resolved;

/* Long options shared by the subcommands (getopt_long values). */
enum {
        CLI_OPT_CWD = 1000,
        CLI_OPT_NAME,
        CLI_OPT_MODEL,
        CLI_OPT_SCOPE,
        CLI_OPT_PROFILE,
        CLI_OPT_JSON,
        CLI_OPT_RESOLVED,
        CLI_OPT_EXPLAIN,
        CLI_OPT_PROMPT,
        CLI_OPT_BUDGET_TOKENS,
        CLI_OPT_BUDGET_USD,
        CLI_OPT_MAX_TURNS,
        CLI_OPT_TIMEOUT_S,
};

/* getopt_long over a subcommand's argv with its help text. */
typedef struct cli_opts {
        int argc;
        char **argv;
        const struct option *longopts;
        const char *help;
        bool started;
} cli_opts;

/*
 * The next option: 1 with *ret_opt (and optarg) set, 0 after the last option (optind is
 * then the first operand), -1 after printing the help for --help, -2 after printing a
 * usage error for an unknown or incomplete option.
 */
int cli_next_option(cli_opts *o, int *ret_opt);

/* Take a target option (--cwd, --name, --model, --scope, --profile) into t: 1 if opt was
 * one, 0 if not, < 0 when memory runs out. */
int cli_target_option(cli_target *t, int opt, const char *arg);

/* Discover, select and (when manifest) resolve. Prints its errors; returns an exit code. */
int cli_resolve(cli_resolved *out, const cli_target *t, bool manifest, char **envp);
void cli_resolved_done(cli_resolved *r);

/* "pod: <message>" on stderr; returns code. */
int cli_fail(int code, const char *fmt, ...) _printf_(2, 3);
void cli_warn(const char *fmt, ...) _printf_(1, 2);
/* The pod cwd: --cwd made absolute and canonical, or the process cwd. */
int cli_resolve_cwd(char **out, const char *opt);
/* Print JSON to stdout, pretty, with a final newline. */
int cli_print_json(const json_t *j);
