/* SPDX-License-Identifier: MIT */
#pragma once

/*
 * cli: the only module that prints. main.c dispatches to one file per subcommand; each
 * returns an exit code of DESIGN §13.
 */

#include <getopt.h>
#include <stdio.h>
#include <sys/stat.h>

#include "base/base.h"
#include "manifest/manifest.h"
#include "pod/pod.h"

enum {
        EXIT_OK = 0,
        EXIT_RUNTIME = 1, /* a runtime failure */
        EXIT_USAGE = 2, /* a usage or configuration error */
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
extern const cli_command cmd_mcp;
extern const cli_command cmd_trust;

/* The profile snapshot a manifest carries (with the skills its profiles name). */
json_t *cli_snapshot(const profile_set *set, const char *config_dir);
/* Send `reconfigure {profiles}` to every live top-level pod (DESIGN §12); prints how many
 * it reached on stderr and returns that count. */
unsigned cli_reconfigure_pods(char **envp, const char *config_dir);
/* Discover the profiles visible from cwd_opt (NULL: the current directory), printing the
 * set's diagnostics; *ret_cwd is the pod cwd. Prints its errors; returns an exit code. */
int cli_discover(profile_set **out, char **ret_cwd, const char *cwd_opt, char **envp);
/* `pod profile create|use|edit|delete|diff|init-starters`; -1 when sub is none of them. */
int cli_profile_store(const char *sub, int argc, char **argv, char **envp);
extern const cli_command cmd_doctor;

/* `pod --complete commands|profiles|pods` (hidden, for the shell completions). */
int cli_complete(int argc, char **argv, char **envp, const cli_command *const *commands, size_t n);

/* ---- recorded runs (runs.c) ---- */

/* <data dir>/runs of this environment, or NULL. Caller frees. */
char *cli_runs_dir(char **envp);
/* For each run below runs with a transcript that holds something: its transcript's path, its
 * ID (the path below runs/), its folder's name, and the transcript's stat. */
typedef void (*cli_run_fn)(void *ud,
                           const char *transcript,
                           const char *id,
                           const char *folder,
                           const struct stat *st);
void cli_runs_walk(const char *runs, cli_run_fn fn, void *ud);
/* folder is a run of pod name: "<name>-<stamp>-<pid>" (top level) or "<name>-<n>" (a child). */
bool cli_run_of(const char *folder, const char *name);

/* The registry of this environment's runtime dir. Prints its errors; returns an exit code. */
int cli_open_registry(pod_registry **out, char **envp);
/* A live pod's entry by name (with its token). Prints its errors; returns an exit code. */
int cli_find_pod(json_t **out, pod_registry *reg, const char *name);

/* What the user asked to run or show. */
typedef struct cli_target {
        const char *cwd; /* --cwd; NULL: the current directory */
        const char *selector; /* NULL: default */
        const char *name; /* --name */
        const char *model; /* --model */
        const char *endpoint; /* --endpoint */
        const char *executor; /* the legacy --executor/-x PROVIDER, mapped to model (DESIGN §9) */
        char **scope; /* --scope rules as written */
        bool explain; /* also record where every value came from */
        bool scope_exact; /* the --scope rules alone, read of the cwd when none (pod mcp);
                           * else the cwd at the profile's ceiling plus the rules */
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
        CLI_OPT_ENDPOINT,
        CLI_OPT_BUDGET_TOKENS,
        CLI_OPT_BUDGET_USD,
        CLI_OPT_MAX_TURNS,
        CLI_OPT_TIMEOUT_S,
};

/* getopt_long over a subcommand's argv with its help text. */
/* The legacy --executor, also -x (getopt's value for the short form). */
#define CLI_OPT_EXECUTOR 'x'

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
/* The legacy --executor/-x PROVIDER with --model MODEL: one deprecation warning, and the model
 * spec PROVIDER:MODEL. Prints its errors; returns an exit code. */
int cli_target_executor(cli_target *t);

/* Discover, select and (when manifest) resolve. Prints its errors; returns an exit code. */
int cli_resolve(cli_resolved *out, const cli_target *t, bool manifest, char **envp);
void cli_resolved_done(cli_resolved *r);
/* The manifest profile entry e (not broken) would run with at the set's cwd, no --scope
 * rules: what `pod doctor` checks of every profile. Prints nothing. */
int cli_profile_manifest(json_t **out,
                         const profile_set *set,
                         const profile_entry *e,
                         const char *config_dir,
                         pod_error *err);
/* The manifest's model handler opens (and is closed again); else a configuration error,
 * printed. Returns an exit code. */
int cli_check_handler(const json_t *manifest);
/* POD_SANDBOX: unset, empty or on (the sandbox), off (*ret_off); any other value is a
 * configuration error, printed. Returns an exit code. */
int cli_sandbox_setting(bool *ret_off, char **envp);

/* Colour for f: a terminal, NO_COLOR unset or empty, TERM not dumb (DESIGN §13). */
bool cli_colour(FILE *f);
/* A command whose argv asks for --json: from now on, cli_fail also prints its error as
 * {"status": "failed", "error": ...} on stdout (once), as DESIGN §13 asks. */
void cli_json_errors(int argc, char **argv);
/* "pod: <message>" on stderr (and the JSON object, see cli_json_errors); returns code. */
int cli_fail(int code, const char *fmt, ...) _printf_(2, 3);
void cli_warn(const char *fmt, ...) _printf_(1, 2);
/* The pod cwd: --cwd made absolute and canonical, or the process cwd. */
int cli_resolve_cwd(char **out, const char *opt);
/* Print JSON to stdout, pretty, with a final newline. */
int cli_print_json(const json_t *j);

/* arg is one word (no whitespace) and not an option or -: never a task on its own. */
bool cli_single_word(const char *arg);
/* The name of names (n of them) closest to word by edit distance, NULL when none is near. */
const char *cli_closest(const char *word, const char *const *names, size_t n);
/* s is at most max bytes of printable ASCII (safe to echo to a terminal). */
bool cli_printable(const char *s, size_t max);
