/* SPDX-License-Identifier: MIT */
/*
 * `pod profile`: what an operator sees of profiles. `list` shows every discovered profile
 * (default marked, shadowed and broken ones shown); `show` prints one, the manifest it
 * would resolve to (--resolved), or where every value comes from (--explain).
 */
#include <getopt.h>
#include <string.h>

#include <time.h>

#include "cli.h"
#include "prompt/prompt.h"

typedef struct profile_opts {
        cli_target t;
        bool json, resolved, explain, prompt;
} profile_opts;

static const char list_help[] =
        "Usage: pod profile list [--cwd DIR] [--json]\n"
        "\n"
        "List every profile visible from DIR (default: the current directory): builtin ones,\n"
        "the user's (<config dir>/profiles) and the project's (<project>/.pod/profiles).\n"
        "The default is marked with '*'. A bare slug means the highest source that has it\n"
        "(project > user > builtin); the profiles it hides are marked shadowed. Profiles of\n"
        "an untrusted project are listed as UNTRUSTED (pod trust --help), broken ones with\n"
        "the reason.\n"
        "\n"
        "  --cwd DIR   discover relative to DIR instead of the current directory\n"
        "  --json      print one JSON object for scripts\n";

static const char show_help[] =
        "Usage: pod profile show [SELECTOR] [--cwd DIR] [--name N] [--model SPEC] [--endpoint URL]\n"
        "                        [--scope read:P|write:P]... [--resolved|--explain|--prompt]\n"
        "                        [--json]\n"
        "\n"
        "Show one profile (default: the effective default). SELECTOR is default,\n"
        "builtin:SLUG, user:SLUG, project:SLUG, a bare SLUG, or path:FILE.\n"
        "\n"
        "  --resolved     print the manifest that would run (JSON)\n"
        "  --explain      print where every manifest value comes from\n"
        "  --prompt       print the system prompt the model would read (with --json, also\n"
        "                 the SpawnPod tool description)\n"
        "  --name N       the pod name to resolve with (default: the profile slug)\n"
        "  --model SPEC   override the model (provider:model)\n"
        "  --endpoint URL override the model's endpoint\n"
        "  --scope RULE   add a scope rule to the top-level scope (repeatable)\n"
        "  --cwd DIR      the pod cwd (default: the current directory)\n"
        "  --json         JSON output\n";

static const char profile_help[] =
        "Usage: pod profile COMMAND [ARGS...]\n"
        "\n"
        "  list           list the profiles visible from a directory\n"
        "  show           show a profile, its resolved manifest, or where its values come from\n"
        "  create         write a new user or project profile\n"
        "  use            make a profile the default (pod profile use codex)\n"
        "  edit           edit a profile in $VISUAL/$EDITOR; validated before it is replaced\n"
        "  delete         delete a user or project profile\n"
        "  diff           compare the manifests two profiles resolve to\n"
        "  init-starters  write the starter profiles claude, codex, anthropic, openai, local\n"
        "\n"
        "A change is written atomically and reaches running pods: the children they start\n"
        "afterwards resolve against it. Project profiles take effect only in a trusted\n"
        "project (pod trust --help).\n"
        "\n"
        "Run 'pod profile COMMAND --help' for options. docs/profiles.md describes the format.\n";

static int parse_opts(profile_opts *o, int argc, char **argv, const char *help, bool show) {
        static const struct option longopts[] = {
                { "cwd", required_argument, NULL, CLI_OPT_CWD },
                { "name", required_argument, NULL, CLI_OPT_NAME },
                { "model", required_argument, NULL, CLI_OPT_MODEL },
                { "endpoint", required_argument, NULL, CLI_OPT_ENDPOINT },
                { "executor", required_argument, NULL, CLI_OPT_EXECUTOR },
                { "scope", required_argument, NULL, CLI_OPT_SCOPE },
                { "json", no_argument, NULL, CLI_OPT_JSON },
                { "resolved", no_argument, NULL, CLI_OPT_RESOLVED },
                { "explain", no_argument, NULL, CLI_OPT_EXPLAIN },
                { "prompt", no_argument, NULL, CLI_OPT_PROMPT },
                { "help", no_argument, NULL, 'h' },
                {},
        };
        cli_opts st = { argc, argv, longopts, help, false };
        int c, r;

        while ((r = cli_next_option(&st, &c)) > 0) {
                if (!show && c != CLI_OPT_CWD && c != CLI_OPT_JSON)
                        return cli_fail(EXIT_USAGE, "%s: option '%s' belongs to 'pod profile show'",
                                        argv[0], argv[optind - 1]);
                if (cli_target_option(&o->t, c, optarg) < 0)
                        return cli_fail(EXIT_RUNTIME, "out of memory");
                o->json |= c == CLI_OPT_JSON;
                o->resolved |= c == CLI_OPT_RESOLVED;
                o->explain |= c == CLI_OPT_EXPLAIN;
                o->prompt |= c == CLI_OPT_PROMPT;
        }
        if (r < 0)
                return r == -1 ? -1 : EXIT_USAGE;
        r = cli_target_executor(&o->t);
        if (r != EXIT_OK)
                return r;
        if (optind < argc && show)
                o->t.selector = argv[optind++];
        if (optind < argc)
                return cli_fail(EXIT_USAGE, "%s: unexpected argument '%s'\n%s", argv[0],
                                argv[optind], help);
        return 0;
}

/* Discover from the pod cwd with the config dir of this environment. */
int cli_discover(profile_set **out, char **ret_cwd, const char *cwd_opt, char **envp) {
        _cleanup_free_ char *cwd = NULL;
        pod_dirs dirs = { 0 };
        pod_error err = { 0 };
        int r;

        r = cli_resolve_cwd(&cwd, cwd_opt);
        if (r != EXIT_OK)
                return r;
        if (pod_dirs_from_env(&dirs, envp, getuid(), &err) < 0)
                return cli_fail(EXIT_USAGE, "%s", err.msg);
        r = profile_set_discover(out, cwd, dirs.config_dir, &err);
        pod_dirs_done(&dirs);
        if (r < 0)
                return cli_fail(EXIT_RUNTIME, "%s", err.msg);
        STRV_FOREACH(d, profile_set_diagnostics(*out))
                cli_warn("%s", *d);
        *ret_cwd = TAKE_PTR(cwd);
        return EXIT_OK;
}

/* ---- list ------------------------------------------------------------------------------ */

/* The skills of e that cannot be found (flagged, naming the profile), as a JSON array. */
static json_t *missing_skills(const profile_entry *e, const json_t *lib) {
        json_t *a = json_array();

        STRV_FOREACH(name, e->profile && !e->untrusted ? e->profile->skills : NULL)
                if (json_object_get(json_object_get(lib, *name), "error"))
                        json_array_append_new(a, json_string(*name));
        return a;
}

/* Every skill the profiles name, resolved as a pod would (DESIGN §11). */
static json_t *skill_library(const profile_set *s, char **envp) {
        pod_dirs dirs = { 0 };
        json_t *lib;

        if (pod_dirs_from_env(&dirs, envp, getuid(), NULL) < 0)
                return json_object();
        lib = prompt_skill_library(
                s, &(prompt_sources){ dirs.config_dir, profile_set_project_dir(s) });
        pod_dirs_done(&dirs);
        return lib;
}

static json_t *entry_json(const profile_entry *e, const profile_entry *def, const json_t *lib) {
        json_t *j;

        const pod_profile *p = e->profile;

        j = json_pack("{s:s, s:s, s:s, s:s, s:o, s:o, s:b, s:b, s:o, s:b, s:o, s:o, s:o}",
                      "selector", e->selector, "source", source_to_string(e->source), "slug",
                      e->slug, "file", e->file, "description",
                      p && p->description ? json_string(p->description) : json_null(), "model",
                      p && p->model ? json_string(p->model) : json_null(), "untrusted",
                      e->untrusted, "default", e == def, "shadowed_by",
                      e->shadowed_by ? json_string(e->shadowed_by->selector) : json_null(),
                      "broken", !p, "error", p ? json_null() : json_string(e->error), "sha256",
                      p ? json_string(p->sha256) : json_null(), "extends",
                      p && p->base_selector ? json_string(p->base_selector) : json_null());
        if (j)
                json_object_set_new(j, "missing_skills", missing_skills(e, lib));
        return j;
}

static int list_json(const profile_set *s, const json_t *lib) {
        const char *why = NULL;
        const profile_entry *def = profile_set_default(s, &why);
        json_auto_t *arr = json_array(), *diags = json_array(), *root = NULL;

        for (size_t i = 0; i < profile_set_count(s); i++)
                json_array_append_new(arr, entry_json(profile_set_get(s, i), def, lib));
        STRV_FOREACH(d, profile_set_diagnostics(s))
                json_array_append_new(diags, json_string(*d));
        root = json_pack("{s:s, s:o, s:b, s:o, s:o, s:o, s:O, s:O}", "cwd", profile_set_cwd(s),
                         "project_dir",
                         profile_set_project_dir(s) ? json_string(profile_set_project_dir(s)) :
                                                      json_null(),
                         "project_trusted", profile_set_project_trusted(s), "default",
                         def ? json_string(def->selector) : json_null(), "default_error",
                         def ? json_null() : json_string(why), "default_note",
                         profile_set_default_note(s) ? json_string(profile_set_default_note(s)) :
                                                       json_null(),
                         "profiles", arr, "diagnostics", diags);
        if (!root)
                return cli_fail(EXIT_RUNTIME, "out of memory");
        return cli_print_json(root);
}

static void
list_row(const profile_entry *e, const profile_entry *def, int width, const json_t *lib) {
        const pod_profile *p = e->profile;
        json_auto_t *missing = missing_skills(e, lib);
        json_t *m;
        size_t i;

        printf("%-*s %s ", width, e->selector, e == def ? "*" : " ");
        if (e->untrusted) {
                printf("%-32s %s\n", "UNTRUSTED",
                       "takes no effect until 'pod trust' of its project");
                return;
        }
        if (!p) {
                printf("BROKEN: %s\n", e->error);
                return;
        }
        printf("%-32s %s", p->model ? p->model : "(the spawner's model)",
               p->description ? p->description : "");
        if (e->shadowed_by)
                printf(" [shadowed by %s]", e->shadowed_by->selector);
        json_array_foreach(missing, i, m)
                printf(" [skill '%s' not found]", json_string_value(m));
        putchar('\n');
}

static int list_text(const profile_set *s, const json_t *lib) {
        const char *why = NULL;
        const profile_entry *def = profile_set_default(s, &why);
        size_t broken = 0;
        int width = 8;

        for (size_t i = 0; i < profile_set_count(s); i++) {
                int n = (int) strlen(profile_set_get(s, i)->selector);
                if (n > width)
                        width = n < 40 ? n : 40;
        }
        printf("%-*s   %-32s %s\n", width, "SELECTOR", "MODEL", "DESCRIPTION");
        for (size_t i = 0; i < profile_set_count(s); i++) {
                list_row(profile_set_get(s, i), def, width, lib);
                broken += !profile_set_get(s, i)->profile;
        }
        if (def)
                printf("\n* default: %s\n", def->selector);
        else
                cli_warn("no usable default profile: %s", why);
        if (profile_set_default_note(s))
                cli_warn("%s", profile_set_default_note(s));
        for (size_t i = 0; broken && i < profile_set_count(s); i++)
                if (!profile_set_get(s, i)->profile)
                        cli_warn("%s is broken: %s", profile_set_get(s, i)->selector,
                                 profile_set_get(s, i)->error);
        return EXIT_OK;
}

static int profile_list(int argc, char **argv, char **envp) {
        _cleanup_(profile_set_freep) profile_set *s = NULL;
        json_auto_t *lib = NULL;
        _cleanup_free_ char *cwd = NULL;
        profile_opts o = { 0 };
        int r;

        cli_json_errors(argc, argv);
        r = parse_opts(&o, argc, argv, list_help, false);
        if (r != 0)
                return r < 0 ? EXIT_OK : r;
        r = cli_discover(&s, &cwd, o.t.cwd, envp);
        if (r != EXIT_OK)
                return r;
        lib = skill_library(s, envp);
        return o.json ? list_json(s, lib) : list_text(s, lib);
}

/* ---- show ------------------------------------------------------------------------------ */

/* A list as a JSON array, or null when the key was not set. */
static json_t *strv_json(char *const *l) {
        json_t *a;

        if (!l)
                return json_null();
        a = json_array();
        STRV_FOREACH(v, l)
                json_array_append_new(a, json_string(*v));
        return a;
}

static int print_and_free(json_t *j) {
        int r = j ? cli_print_json(j) : cli_fail(EXIT_RUNTIME, "out of memory");

        json_decref(j);
        return r;
}

static json_t *profile_to_json(const profile_entry *e) {
        const pod_profile *p = e->profile;
        json_t *limits = json_object();

        for (int k = PK_MAX_TURNS; k <= PK_BUDGET_TOKENS; k++)
                json_object_set_new(limits, profile_keys[k].key + strlen("limits."),
                                    json_integer(p->limits[k - PK_MAX_TURNS]));
        return json_pack(
                "{s:s, s:s, s:s, s:s, s:s, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:s, s:s, s:o, s:s}",
                "selector", e->selector, "source", source_to_string(e->source), "slug", e->slug,
                "file", e->file, "sha256", p->sha256, "extends",
                p->base_selector ? json_string(p->base_selector) : json_null(), "description",
                p->description ? json_string(p->description) : json_null(), "model",
                p->model ? json_string(p->model) : json_null(), "endpoint",
                p->endpoint ? json_string(p->endpoint) : json_null(), "api_key_env",
                p->api_key_env ? json_string(p->api_key_env) : json_null(), "reasoning",
                reasoning_to_string(p->reasoning) ? json_string(reasoning_to_string(p->reasoning)) :
                                                    json_null(),
                "tools", strv_json(p->tools), "skills", strv_json(p->skills), "scope",
                access_to_string(p->scope), "network", network_to_string(p->network), "limits",
                limits, "body", p->body);
}

static void print_list_field(const char *label, char *const *l, const char *unset) {
        printf("%-12s ", label);
        if (!l) {
                printf("%s\n", unset);
                return;
        }
        STRV_FOREACH(s, l)
                printf("%s%s", *s, s[1] ? ", " : "");
        putchar('\n');
}

static int show_text(const profile_entry *e) {
        const pod_profile *p = e->profile;

        printf("%-12s %s\n%-12s %s\n%-12s %s\n", "profile", e->selector, "file", e->file, "sha256",
               p->sha256);
        if (p->base_selector)
                printf("%-12s %s (%s)\n", "extends", p->base_selector, p->base_file);
        printf("%-12s %s\n%-12s %s\n", "description", p->description ? p->description : "-",
               "model",
               p->model ? p->model : "(none: the spawner's; a top-level pod the default's)");
        printf("%-12s %s\n%-12s %s\n%-12s %s\n", "endpoint",
               p->endpoint ? p->endpoint : "(provider default)", "api_key_env",
               p->api_key_env ? p->api_key_env : "(provider default)", "reasoning",
               reasoning_to_string(p->reasoning) ? reasoning_to_string(p->reasoning) :
                                                   "(model default)");
        print_list_field("tools", p->tools, "(all)");
        print_list_field("skills", p->skills, "(none)");
        printf("%-12s %s\n%-12s %s\n%-12s", "scope", access_to_string(p->scope), "network",
               network_to_string(p->network), "limits");
        for (unsigned i = 0; i < POD_LIMITS_COUNT; i++)
                printf(" %s=%lld", profile_keys[PK_MAX_TURNS + i].key + strlen("limits."),
                       (long long) p->limits[i]);
        printf("\n\n%s\n", p->body);
        return EXIT_OK;
}

static int show_explain_text(const json_t *manifest, const json_t *explain) {
        const char *field;
        json_t *origin;

        json_object_foreach((json_t *) explain, field, origin) {
                json_t *v = json_object_getn(manifest, field, strcspn(field, "."));
                _cleanup_free_ char *text = NULL;
                for (const char *dot = strchr(field, '.'); v && dot; dot = strchr(dot + 1, '.'))
                        v = json_object_getn(v, dot + 1, strcspn(dot + 1, "."));
                if (json_is_string(v))
                        text = str_quote(json_string_value(v), 60);
                else
                        text = v ? json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY) : strdup("-");
                printf("%-24s %-40s <- %s\n", field, text ? text : "?", json_string_value(origin));
        }
        return EXIT_OK;
}

/* The system prompt, and with --json the SpawnPod description the pod would get. */
static int show_prompt(const json_t *m, profile_set *s, const profile_opts *o) {
        _cleanup_buf_ pod_buf text = { 0 }, spawn = { 0 };
        _cleanup_(manifest_view_freep) manifest_view *v = NULL;
        pod_error err = { 0 };
        char date[POD_TIME_MAX];
        json_t *j;

        time_now(date, POD_TIME_DATE);
        if (manifest_view_new(&v, m, &err) < 0 || prompt_system(&text, v, date, &err) < 0)
                return cli_fail(EXIT_USAGE, "%s", err.msg);
        if (!o->json) {
                fputs(buf_str(&text), stdout);
                return EXIT_OK;
        }
        if (prompt_spawn_description(&spawn, s, NULL, v->prompts, &err) < 0)
                return cli_fail(EXIT_USAGE, "%s", err.msg);
        j = json_pack("{s:s, s:{s:s}}", "system_prompt", buf_str(&text), "tools", "SpawnPod",
                      buf_str(&spawn));
        return print_and_free(j);
}

static int show_resolved(cli_resolved *res, const profile_opts *o) {
        if (o->prompt)
                return show_prompt(res->manifest, res->set, o);
        if (!o->explain)
                return cli_print_json(res->manifest);
        if (!o->json)
                return show_explain_text(res->manifest, res->explain);
        return print_and_free(
                json_pack("{s:O, s:O}", "manifest", res->manifest, "origins", res->explain));
}

static void warn_missing_skills(const profile_set *s, const profile_entry *e, char **envp) {
        json_auto_t *lib = skill_library(s, envp);
        json_auto_t *missing = missing_skills(e, lib);
        json_t *m;
        size_t i;

        json_array_foreach(missing, i, m) {
                const char *name = json_string_value(m);
                cli_warn("profile %s: skill '%s' cannot be found: %s", e->selector, name,
                         json_string_value(json_object_get(json_object_get(lib, name), "error")));
        }
}

static int profile_show(int argc, char **argv, char **envp) {
        profile_opts o = { 0 };
        cli_resolved res = { 0 };
        bool manifest;
        int r;

        cli_json_errors(argc, argv);
        r = parse_opts(&o, argc, argv, show_help, true);
        if (r != 0) {
                strv_free(o.t.scope);
                return r < 0 ? EXIT_OK : r;
        }
        manifest = o.resolved || o.explain || o.prompt;
        o.t.explain = o.explain;
        r = cli_resolve(&res, &o.t, manifest, envp);
        if (r == EXIT_OK && !manifest)
                warn_missing_skills(res.set, res.entry, envp);
        if (r == EXIT_OK)
                r = manifest   ? show_resolved(&res, &o) :
                        o.json ? print_and_free(profile_to_json(res.entry)) :
                                 show_text(res.entry);
        cli_resolved_done(&res);
        strv_free(o.t.scope);
        return r;
}

static int run_profile(int argc, char **argv, char **envp) {
        const char *sub = argc > 1 ? argv[1] : NULL;
        int r;

        if (!sub || strcmp(sub, "--help") == 0 || strcmp(sub, "-h") == 0) {
                fputs(profile_help, sub ? stdout : stderr);
                return sub ? EXIT_OK : EXIT_USAGE;
        }
        if (strcmp(sub, "list") == 0)
                return profile_list(argc - 1, argv + 1, envp);
        if (strcmp(sub, "show") == 0)
                return profile_show(argc - 1, argv + 1, envp);
        r = cli_profile_store(sub, argc - 1, argv + 1, envp);
        if (r >= 0)
                return r;
        return cli_fail(EXIT_USAGE, "profile: unknown command '%s'\n%s", sub, profile_help);
}

const cli_command cmd_profile = {
        .name = "profile",
        .summary = "list, show, create, switch and edit profiles (pod profile --help)",
        .run = run_profile,
};
