/* SPDX-License-Identifier: MIT */
/*
 * `pod profile create|use|edit|delete|diff|init-starters`: the operator's side of the
 * profile store (src/manifest/store.c does the writing). Each change is validated before
 * anything is replaced, written atomically, and then sent to the running pods.
 */
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cli.h"

enum {
        O_USER = 1 << 0,
        O_PROJECT = 1 << 1,
        O_FROM = 1 << 2,
        O_MODEL = 1 << 3,
        O_ENDPOINT = 1 << 4,
        O_DESCRIPTION = 1 << 5,
        O_FORCE = 1 << 6,
        O_YES = 1 << 7,
        O_JSON = 1 << 8,
        O_CWD = 1 << 9,
};

typedef struct store_opts {
        const char *cwd, *from, *model, *endpoint, *description;
        unsigned seen;
        const char *arg[2];
} store_opts;

typedef struct store_cmd {
        const char *name;
        unsigned allowed; /* O_* */
        int n_args; /* operands it takes */
        const char *help;
        int (*run)(const store_opts *o, char **envp);
} store_cmd;

/* ---- outcome: what --json prints ---------------------------------------------------------- */

static char last_error[POD_ERROR_MAX];
static json_t *outcome; /* the command's result, filled as it goes */

/* cli_fail, keeping the message for --json. */
static int sfail(int code, const char *fmt, ...) _printf_(2, 3);
static int sfail(int code, const char *fmt, ...) {
        va_list ap;

        va_start(ap, fmt);
        vsnprintf(last_error, sizeof(last_error), fmt, ap);
        va_end(ap);
        return cli_fail(code, "%s", last_error);
}

static void report(const char *key, json_t *v) {
        if (outcome)
                json_object_set_new(outcome, key, v);
        else
                json_decref(v);
}

static void reconfigure(char **envp, const char *config_dir) {
        report("pods_reconfigured", json_integer(cli_reconfigure_pods(envp, config_dir)));
}

static json_t *strv_json(char *const *l) {
        json_t *a = json_array();

        STRV_FOREACH(v, l)
                json_array_append_new(a, json_string(*v));
        return a;
}

/* ---- options ---------------------------------------------------------------------------- */

static int parse(store_opts *o, const store_cmd *cmd, int argc, char **argv) {
        static const struct option longopts[] = {
                { "user", no_argument, NULL, O_USER },
                { "project", no_argument, NULL, O_PROJECT },
                { "from", required_argument, NULL, O_FROM },
                { "model", required_argument, NULL, O_MODEL },
                { "endpoint", required_argument, NULL, O_ENDPOINT },
                { "description", required_argument, NULL, O_DESCRIPTION },
                { "force", no_argument, NULL, O_FORCE },
                { "yes", no_argument, NULL, O_YES },
                { "json", no_argument, NULL, O_JSON },
                { "cwd", required_argument, NULL, O_CWD },
                { "help", no_argument, NULL, 'h' },
                {},
        };
        cli_opts st = { argc, argv, longopts, cmd->help, false };
        int c, r, n = 0;

        while ((r = cli_next_option(&st, &c)) > 0) {
                if (!(cmd->allowed & (unsigned) c))
                        return sfail(EXIT_USAGE,
                                     "profile %s: option '%s' is not one of its "
                                     "options\n%s",
                                     cmd->name, argv[optind - 1], cmd->help);
                o->seen |= (unsigned) c;
                o->from = c == O_FROM ? optarg : o->from;
                o->model = c == O_MODEL ? optarg : o->model;
                o->endpoint = c == O_ENDPOINT ? optarg : o->endpoint;
                o->description = c == O_DESCRIPTION ? optarg : o->description;
                o->cwd = c == O_CWD ? optarg : o->cwd;
        }
        if (r < 0)
                return r == -1 ? -1 : EXIT_USAGE;
        while (optind < argc && n < cmd->n_args)
                o->arg[n++] = argv[optind++];
        if (optind < argc || n < cmd->n_args)
                return sfail(EXIT_USAGE, "profile %s: %s\n%s", cmd->name,
                             optind < argc ? "too many arguments" : "missing arguments", cmd->help);
        if ((o->seen & O_USER) && (o->seen & O_PROJECT))
                return sfail(EXIT_USAGE, "profile %s: --user and --project exclude each other",
                             cmd->name);
        return 0;
}

static profile_source target_source(const store_opts *o, profile_source dflt) {
        return o->seen & O_PROJECT ? POD_SOURCE_PROJECT : o->seen & O_USER ? POD_SOURCE_USER : dflt;
}

typedef struct store_ctx {
        profile_set *set;
        char *cwd;
        pod_dirs dirs;
} store_ctx;

static void ctx_done(store_ctx *c) {
        profile_set_free(c->set);
        free(c->cwd);
        pod_dirs_done(&c->dirs);
}

static int ctx_open(store_ctx *c, const store_opts *o, char **envp) {
        pod_error err = { 0 };

        *c = (store_ctx){ 0 };
        if (pod_dirs_from_env(&c->dirs, envp, getuid(), &err) < 0)
                return sfail(EXIT_USAGE, "%s", err.msg);
        return cli_discover(&c->set, &c->cwd, o->cwd, envp);
}

/* A project profile written where it takes no effect yet: say what makes it count. */
static void warn_untrusted(const store_ctx *c, profile_source src) {
        const char *dir = profile_set_project_dir(c->set) ?: c->cwd;

        if (src == POD_SOURCE_PROJECT && !profile_set_project_trusted(c->set))
                cli_warn("%s is not a trusted project: its profiles take effect after 'pod trust "
                         "%s'",
                         dir, dir);
}

/* Errors of the store: configuration (exit 2), or the system refusing a write (exit 1). */
static int store_fail(const pod_error *err) {
        bool usage = err->code == -EINVAL || err->code == -EEXIST || err->code == -ENOENT ||
                err->code == -EACCES || err->code == -EBUSY || err->code == -EPERM ||
                err->code == -ELOOP || err->code == -E2BIG;

        return sfail(usage ? EXIT_USAGE : EXIT_RUNTIME, "%s", err->msg);
}

/* ---- create ----------------------------------------------------------------------------- */

static const char create_help[] =
        "Usage: pod profile create NAME [--user|--project] [--from SEL] [--model SPEC]\n"
        "                          [--endpoint URL] [--description TEXT] [--force]\n"
        "\n"
        "Write a complete profile NAME: the values of --from (default: builtin:default, after\n"
        "its extends) with the model, endpoint and description given. It is validated before\n"
        "it is written, and an existing profile is kept unless --force.\n"
        "\n"
        "  --user          in <config dir>/profiles (the default)\n"
        "  --project       in <project>/.pod/profiles\n"
        "  --from SEL      the profile to start from\n"
        "  --model SPEC    provider:model (see docs/profiles.md, Models)\n"
        "  --endpoint URL  base URL for HTTP providers\n"
        "  --description TEXT\n"
        "  --force         replace an existing profile of that name\n"
        "  --json          print one JSON object for scripts\n";

static int create_run(const store_opts *o, char **envp) {
        _cleanup_(ctx_done) store_ctx c = { 0 };
        _cleanup_free_ char *file = NULL;
        store_create_opts co = { .slug = o->arg[0],
                                 .source = target_source(o, POD_SOURCE_USER),
                                 .from = o->from,
                                 .model = o->model,
                                 .endpoint = o->endpoint,
                                 .description = o->description,
                                 .force = o->seen & O_FORCE };
        pod_error err = { 0 };
        int r = ctx_open(&c, o, envp);

        if (r != EXIT_OK)
                return r;
        if (store_create(c.set, &co, &file, &err) < 0)
                return store_fail(&err);
        fprintf(stderr, "created %s:%s (%s)\n", source_to_string(co.source), co.slug, file);
        report("created", json_sprintf("%s:%s", source_to_string(co.source), co.slug));
        warn_untrusted(&c, co.source);
        report("file", json_string(file));
        reconfigure(envp, c.dirs.config_dir);
        return EXIT_OK;
}

/* ---- use -------------------------------------------------------------------------------- */

static const char use_help[] =
        "Usage: pod profile use SEL [--user|--project] [--cwd DIR]\n"
        "\n"
        "Make SEL the default profile: every pod started afterwards, and every child that\n"
        "names no model of its own, runs it. The default pointer of the source SEL lives in\n"
        "is replaced atomically (a project profile: the project's; a user or builtin\n"
        "profile: the user's, or the project's with --project). 'readlink' shows it:\n"
        "\n"
        "  readlink ~/.config/pod/default-profile      # profiles/codex.md\n"
        "\n"
        "Running pods are told: the children they start afterwards get the new default.\n"
        "--json prints {\"status\", \"default\", \"pointer\", \"symlink\", \"pods_reconfigured\"}.\n";

static void
say_effective(const store_ctx *c, const store_opts *o, char **envp, const profile_entry *chosen) {
        _cleanup_(profile_set_freep) profile_set *now = NULL;
        _cleanup_free_ char *cwd = NULL;
        const profile_entry *def;

        if (cli_discover(&now, &cwd, o->cwd, envp) != EXIT_OK)
                return;
        def = profile_set_default(now, NULL);
        if (!def || strcmp(def->selector, chosen->selector) != 0)
                cli_warn("in %s the default is still %s, from %s", c->cwd,
                         def ? def->selector : "(none)",
                         profile_set_default_origin(now) ?: "a broken pointer");
}

static int use_run(const store_opts *o, char **envp) {
        _cleanup_(ctx_done) store_ctx c = { 0 };
        _cleanup_free_ char *pointer = NULL;
        const profile_entry *e = NULL;
        pod_error err = { 0 };
        bool symlink = false;
        int r = ctx_open(&c, o, envp);

        if (r != EXIT_OK)
                return r;
        if (profile_set_select(&e, c.set, o->arg[0], SEL_CONTEXT_CLI, &err) < 0)
                return sfail(EXIT_USAGE, "%s", err.msg);
        if (store_use(c.set, e, target_source(o, POD_SOURCE_BUILTIN), &pointer, &symlink, &err) < 0)
                return store_fail(&err);
        fprintf(stderr, "default: %s (%s %s)\n", e->selector, pointer,
                symlink ? "is a symlink" : "holds its name: symlinks cannot be made here");
        report("default", json_string(e->selector));
        report("pointer", json_string(pointer));
        report("symlink", json_boolean(symlink));
        say_effective(&c, o, envp, e);
        reconfigure(envp, c.dirs.config_dir);
        return EXIT_OK;
}

/* ---- edit ------------------------------------------------------------------------------- */

static const char edit_help[] =
        "Usage: pod profile edit NAME [--cwd DIR]\n"
        "\n"
        "Open a copy of the user or project profile NAME in $VISUAL (else $EDITOR). The\n"
        "result is validated, then replaces the profile atomically, keeping its file mode.\n"
        "An invalid result is opened again with the error when stdin is a terminal (empty\n"
        "the file to give up); otherwise it is refused (exit 2) and the profile is kept.\n"
        "--json prints one JSON object for scripts.\n";

static int run_editor(const char *editor, const char *path, char **envp) {
        _cleanup_free_ char *script = NULL;
        pod_error err = { 0 };
        pid_t pid;
        int status = 0;

        if (asprintf(&script, "%s \"$@\"", editor) < 0)
                return sfail(EXIT_RUNTIME, "out of memory");
        char *argv[] = { (char *) "sh", (char *) "-c", script, (char *) "sh", (char *) path, NULL };
        proc_plan plan = {
                .path = "/bin/sh", .argv = argv, .envp = envp, .fds = { 0, 1, 2 }, .n_fds = 3
        };
        if (proc_spawn(&pid, &plan, &err) < 0)
                return sfail(EXIT_RUNTIME, "cannot start the editor: %s", err.msg);
        if (proc_wait(pid, -1, &status) <= 0 || !WIFEXITED(status) || WEXITSTATUS(status) != 0)
                return sfail(EXIT_RUNTIME, "the editor (%s) failed; the profile is unchanged",
                             editor);
        return EXIT_OK;
}

/* A private copy of text to edit, in $TMPDIR. */
static int edit_copy(char **ret, const char *slug, const char *text, char **envp) {
        const char *tmp = env_get(envp, "TMPDIR");
        char *path = NULL;
        int fd;

        if (asprintf(&path, "%s/pod-edit-%s-XXXXXX.md", tmp && tmp[0] == '/' ? tmp : "/tmp", slug) <
            0)
                return sfail(EXIT_RUNTIME, "out of memory");
        fd = mkstemps(path, 3);
        if (fd < 0 || write(fd, text, strlen(text)) != (ssize_t) strlen(text)) {
                sfail(EXIT_RUNTIME, "cannot write a copy to edit (%s): %s", path, strerror(errno));
                if (fd >= 0)
                        unlink(path);
                safe_close(fd);
                free(path);
                return EXIT_RUNTIME;
        }
        safe_close(fd);
        *ret = path;
        return EXIT_OK;
}

static int
edit_loop(store_ctx *c, const profile_entry *e, const char *copy, const char *editor, char **envp) {
        for (;;) {
                _cleanup_free_ char *text = NULL;
                pod_error err = { 0 };
                size_t len = 0;
                int r = run_editor(editor, copy, envp);

                if (r != EXIT_OK)
                        return r;
                if (file_read_bounded(&text, &len, AT_FDCWD, copy, POD_PROFILE_MAX_BYTES, &err) < 0)
                        return sfail(EXIT_USAGE, "%s; the profile is unchanged", err.msg);
                if (len == 0)
                        return sfail(EXIT_USAGE, "the copy is empty: nothing changed");
                if (e->profile && e->profile->text && strcmp(text, e->profile->text) == 0) {
                        fprintf(stderr, "%s: no change\n", e->selector);
                        return EXIT_OK;
                }
                if (store_replace(c->set, e, text, len, &err) >= 0) {
                        fprintf(stderr, "saved %s (%s)\n", e->selector, e->file);
                        report("saved", json_string(e->selector));
                        return EXIT_OK;
                }
                if (!isatty(STDIN_FILENO))
                        return sfail(EXIT_USAGE, "%s; the profile is unchanged", err.msg);
                cli_warn("%s", err.msg);
                fputs("pod: opening the editor again (empty the file to give up)\n", stderr);
        }
}

static int read_text(char **ret, const profile_entry *e) {
        pod_error err = { 0 };
        size_t len;

        if (e->profile && e->profile->text)
                return (*ret = strdup(e->profile->text)) ? EXIT_OK : EXIT_RUNTIME;
        /* A broken profile: its file as it is, to be fixed. */
        if (file_read_bounded(ret, &len, AT_FDCWD, e->file, POD_PROFILE_MAX_BYTES, &err) < 0)
                return sfail(EXIT_USAGE, "%s", err.msg);
        return EXIT_OK;
}

static int edit_run(const store_opts *o, char **envp) {
        _cleanup_(ctx_done) store_ctx c = { 0 };
        _cleanup_free_ char *copy = NULL, *text = NULL;
        const char *editor = env_get(envp, "VISUAL");
        const profile_entry *e = NULL;
        pod_error err = { 0 };
        int r;

        if (!editor || !*editor)
                editor = env_get(envp, "EDITOR");
        if (!editor || !*editor)
                return sfail(EXIT_USAGE, "set $VISUAL or $EDITOR to the editor to use");
        r = ctx_open(&c, o, envp);
        if (r != EXIT_OK)
                return r;
        if (store_find(&e, c.set, o->arg[0], &err) < 0)
                return sfail(EXIT_USAGE, "%s", err.msg);
        if (e->source != POD_SOURCE_USER && e->source != POD_SOURCE_PROJECT)
                return sfail(EXIT_USAGE,
                             "%s is builtin and cannot be edited; 'pod profile "
                             "create NAME --from %s' makes an editable copy",
                             e->selector, e->selector);
        r = read_text(&text, e);
        if (r == EXIT_OK)
                r = edit_copy(&copy, e->slug, text, envp);
        if (r != EXIT_OK)
                return r;
        r = edit_loop(&c, e, copy, editor, envp);
        unlink(copy);
        if (r == EXIT_OK)
                reconfigure(envp, c.dirs.config_dir);
        return r;
}

/* ---- delete ----------------------------------------------------------------------------- */

static const char delete_help[] =
        "Usage: pod profile delete NAME [--force] [--yes] [--cwd DIR]\n"
        "\n"
        "Delete the user or project profile NAME. The profile a default pointer names is kept\n"
        "unless --force, which removes that pointer too. On a terminal pod asks first; --yes\n"
        "does not ask. --json prints one JSON object for scripts.\n";

static bool confirm(const char *selector, const char *file) {
        char line[16];

        fprintf(stderr, "delete %s (%s)? [y/N] ", selector, file);
        fflush(stderr);
        if (!fgets(line, sizeof(line), stdin))
                return false;
        return line[0] == 'y' || line[0] == 'Y';
}

static int delete_run(const store_opts *o, char **envp) {
        _cleanup_(ctx_done) store_ctx c = { 0 };
        _cleanup_free_ char *note = NULL;
        const profile_entry *e = NULL;
        pod_error err = { 0 };
        int r = ctx_open(&c, o, envp);

        if (r != EXIT_OK)
                return r;
        if (store_find(&e, c.set, o->arg[0], &err) < 0)
                return sfail(EXIT_USAGE, "%s", err.msg);
        if (e->source != POD_SOURCE_USER && e->source != POD_SOURCE_PROJECT)
                return sfail(EXIT_USAGE, "%s is builtin and cannot be deleted", e->selector);
        if (!(o->seen & O_YES) && isatty(STDIN_FILENO) && !confirm(e->selector, e->file))
                return sfail(EXIT_USAGE, "not deleted");
        if (store_delete(c.set, e, o->seen & O_FORCE, &note, &err) < 0)
                return store_fail(&err);
        fprintf(stderr, "deleted %s (%s)%s%s\n", e->selector, e->file, note && *note ? "; " : "",
                note ? note : "");
        report("deleted", json_string(e->selector));
        report("file", json_string(e->file));
        reconfigure(envp, c.dirs.config_dir);
        return EXIT_OK;
}

/* ---- diff ------------------------------------------------------------------------------- */

static const char diff_help[] =
        "Usage: pod profile diff A B [--cwd DIR] [--json]\n"
        "\n"
        "Compare the manifests profiles A and B resolve to from DIR: every field that\n"
        "differs, then the worker instructions as a unified diff. With --json:\n"
        "{\"a\", \"b\", \"fields\": [{\"field\", \"a\", \"b\"}], \"instruction_diff\"}.\n";

static int resolve_one(cli_resolved *out, const store_opts *o, const char *sel, char **envp) {
        cli_target t = { .cwd = o->cwd, .selector = sel, .name = "diff" };

        return cli_resolve(out, &t, true, envp);
}

static void print_fields(const json_t *fields) {
        json_t *f;
        size_t i;

        json_array_foreach(fields, i, f) {
                char *a = json_dumps(json_object_get(f, "a"), JSON_COMPACT | JSON_ENCODE_ANY);
                char *b = json_dumps(json_object_get(f, "b"), JSON_COMPACT | JSON_ENCODE_ANY);
                printf("%s\n  - %s\n  + %s\n", json_string_value(json_object_get(f, "field")),
                       a ? a : "?", b ? b : "?");
                free(a);
                free(b);
        }
}

static int diff_print(const cli_resolved *a, const cli_resolved *b, bool json) {
        json_auto_t *fields = NULL, *out = NULL;
        _cleanup_buf_ pod_buf d = { 0 };
        const char *ia = json_string_value(json_object_get(a->manifest, "instruction"));
        const char *ib = json_string_value(json_object_get(b->manifest, "instruction"));

        if (manifest_diff_fields(&fields, a->manifest, b->manifest) < 0 ||
            text_unified_diff(&d, ia ? ia : "", ib ? ib : "", a->entry->selector,
                              b->entry->selector) < 0)
                return sfail(EXIT_RUNTIME, "out of memory");
        if (json) {
                out = json_pack("{s:s, s:s, s:O, s:s}", "a", a->entry->selector, "b",
                                b->entry->selector, "fields", fields, "instruction_diff",
                                d.data ? d.data : "");
                return out ? cli_print_json(out) : sfail(EXIT_RUNTIME, "out of memory");
        }
        printf("a: %s\nb: %s\n", a->entry->selector, b->entry->selector);
        print_fields(fields);
        if (d.len)
                printf("instruction\n%s", d.data);
        if (!json_array_size(fields) && !d.len)
                puts("the two resolve to the same manifest");
        return EXIT_OK;
}

static int diff_run(const store_opts *o, char **envp) {
        cli_resolved a = { 0 }, b = { 0 };
        int r = resolve_one(&a, o, o->arg[0], envp);

        if (r == EXIT_OK)
                r = resolve_one(&b, o, o->arg[1], envp);
        if (r == EXIT_OK)
                r = diff_print(&a, &b, o->seen & O_JSON);
        cli_resolved_done(&a);
        cli_resolved_done(&b);
        return r;
}

/* ---- init-starters ---------------------------------------------------------------------- */

static const char starters_help[] =
        "Usage: pod profile init-starters [--user|--project] [--cwd DIR]\n"
        "\n"
        "Write the starter profiles, each extending builtin:default:\n"
        "  claude     claude:opus, the claude CLI (its own login)\n"
        "  codex      codex:gpt-5.5, the codex CLI (its own login)\n"
        "  anthropic  the Anthropic API, key in ANTHROPIC_API_KEY\n"
        "  openai     the OpenAI API, key in OPENAI_API_KEY\n"
        "  local      local:qwen3-coder at http://127.0.0.1:8088/v1 (edit it to your server)\n"
        "An existing file is never overwritten. Then 'pod profile use codex' switches every\n"
        "pod started afterwards, and every child that names no model, to codex.\n"
        "--json prints {\"status\", \"written\", \"kept\", \"pods_reconfigured\"}.\n";

static int starters_run(const store_opts *o, char **envp) {
        _cleanup_(ctx_done) store_ctx c = { 0 };
        _cleanup_strv_free_ char **written = NULL, **kept = NULL;
        profile_source src = target_source(o, POD_SOURCE_USER);
        pod_error err = { 0 };
        int r = ctx_open(&c, o, envp);

        if (r != EXIT_OK)
                return r;
        if (store_init_starters(c.set, src, &written, &kept, &err) < 0)
                return store_fail(&err);
        STRV_FOREACH(s, written)
                fprintf(stderr, "wrote %s:%s\n", source_to_string(src), *s);
        STRV_FOREACH(s, kept)
                fprintf(stderr, "kept %s:%s (it exists)\n", source_to_string(src), *s);
        report("written", strv_json(written));
        warn_untrusted(&c, src);
        report("kept", strv_json(kept));
        if (written)
                reconfigure(envp, c.dirs.config_dir);
        return EXIT_OK;
}

static const store_cmd store_cmds[] = {
        { "create",
          O_USER | O_PROJECT | O_FROM | O_MODEL | O_ENDPOINT | O_DESCRIPTION | O_FORCE | O_CWD |
                  O_JSON,
          1, create_help, create_run },
        { "use", O_USER | O_PROJECT | O_CWD | O_JSON, 1, use_help, use_run },
        { "edit", O_CWD | O_JSON, 1, edit_help, edit_run },
        { "delete", O_FORCE | O_YES | O_CWD | O_JSON, 1, delete_help, delete_run },
        { "diff", O_JSON | O_CWD, 2, diff_help, diff_run },
        { "init-starters", O_USER | O_PROJECT | O_CWD | O_JSON, 0, starters_help, starters_run },
};

/* With --json: one object on stdout, {"status": "ok", ...} or {"status": "failed", "error"}. */
static int run_json(const store_cmd *cmd, const store_opts *o, char **envp) {
        json_auto_t *j = NULL;
        int r;

        outcome = json_object();
        last_error[0] = '\0';
        r = cmd->run(o, envp);
        j = r == EXIT_OK ? json_incref(outcome) :
                           json_pack("{s:s}", "error", last_error[0] ? last_error : "see stderr");
        json_object_set_new(j, "status", json_string(r == EXIT_OK ? "ok" : "failed"));
        json_decref(outcome);
        outcome = NULL;
        if (cli_print_json(j) != EXIT_OK)
                return EXIT_RUNTIME;
        return r;
}

int cli_profile_store(const char *sub, int argc, char **argv, char **envp) {
        for (size_t i = 0; i < POD_ARRAY_SIZE(store_cmds); i++) {
                store_opts o = { 0 };
                int r;
                if (strcmp(sub, store_cmds[i].name) != 0)
                        continue;
                r = parse(&o, &store_cmds[i], argc, argv);
                if (r != 0)
                        return r < 0 ? EXIT_OK : r;
                if (strcmp(sub, "diff") == 0 || !(o.seen & O_JSON))
                        return store_cmds[i].run(&o, envp);
                return run_json(&store_cmds[i], &o, envp);
        }
        return -1;
}
