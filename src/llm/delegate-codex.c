/* SPDX-License-Identifier: MIT */
/*
 * The codex: delegate (DESIGN §9 "Delegates"): the codex CLI as a pod's worker. Each task
 * (the conversation's new user entries, on its stdin) is one run of
 *   codex exec [resume] --json --skip-git-repo-check --ignore-user-config
 *        --dangerously-bypass-approvals-and-sandbox -m NAME
 *        [-c developer_instructions=SYSTEM] [-c model_provider=pod -c model_providers.pod...]
 *        [-c mcp_servers.pod.command=EXE -c mcp_servers.pod.args=["mcp","--attach",DIR]]
 *        [THREAD] -
 * in the pod's delegate sandbox. Codex's own sandbox is off: it would need user namespaces,
 * which the pod's seccomp filter refuses, and the pod's kernel sandbox is the boundary; the
 * same flag approves its commands and MCP tool calls. The user's config.toml is not read
 * (its MCP servers, providers and profiles are no part of the pod); its login in CODEX_HOME
 * still is. The first task starts a thread, each next one resumes it (`exec resume`), so
 * SendToPod continues the same session. Its events (codex-events.c) feed the pod's progress
 * and usage; the task's answer is one turn without calls, its usage already counted.
 */
#include <string.h>
#include <sys/stat.h>

#include "llm-internal.h"

extern char **environ;

#define CODEX_PACKAGE "@openai/codex"
#define CODEX_ARG_MAX (100u << 10) /* one -c value in argv (one argument: 128 KiB) */
#define CODEX_EXIT_WAIT_MS 2000 /* for the CLI to exit once its turn ended */
#define CODEX_MCP_STARTUP_S 30 /* `pod mcp --attach` starts in milliseconds */
#define CODEX_MCP_TOOL_S 86400 /* a WaitPod may wait for hours; the pod's deadline governs */

typedef struct codex {
        llm_delegate_model m; /* endpoint: the model provider's; key_env: its key's */
        codex_events ev;
} codex;

/* ---- what the CLI needs (llm_needs_of) -------------------------------------------------- */

/* Its state dir: $CODEX_HOME, else ~/.codex; canonical (its parent's realpath and its name
 * when it does not exist yet: it is made before the CLI starts). NULL: none (no home). */
static char *state_dir(char *const *envp) {
        const char *dir = env_get(envp, "CODEX_HOME"), *home = env_get(envp, "HOME");
        _cleanup_free_ char *path = NULL;

        if (dir && dir[0] == '/')
                path = strdup(dir);
        else if (home && home[0] == '/')
                path = path_join(home, ".codex");
        if (!path)
                return NULL;
        return llm_delegate_canonical(path);
}

static int codex_needs(llm_needs *out, const manifest_view *v, char *const *envp, pod_error *err) {
        _cleanup_(llm_needs_done) llm_needs n = { 0 };
        _cleanup_free_ char *dir = NULL, *state = NULL;
        int r;

        r = llm_delegate_find(&n.exe, "codex", CODEX_PACKAGE, v->model.spec, envp, err);
        if (r < 0)
                return r;
        /* codex.js (node) execs the binary of a sibling package: the whole install dir. */
        dir = llm_delegate_install_dir(n.exe);
        state = state_dir(envp);
        if (!dir || strv_push(&n.read_paths, dir) < 0 ||
            !(n.write_paths = calloc(1, sizeof(char *))) ||
            (state && strv_push(&n.write_paths, state) < 0))
                return pod_error_oom(err);
        n.port = v->model.endpoint_url ? endpoint_port(v->model.endpoint_url) : 443;
        *out = n;
        n = (llm_needs){ 0 };
        return 0;
}

/* ---- open, free ------------------------------------------------------------------------- */

static void codex_free(void *state) {
        codex *c = state;

        if (!c)
                return;
        codex_events_done(&c->ev);
        llm_delegate_model_done(&c->m);
        free(c);
}

static int codex_open(void **ret_state, const manifest_view *v, pod_error *err) {
        codex *c;

        if (!v->model.spec || !v->model.name || !*v->model.name)
                return pod_error_set(err, -EINVAL, "model %s: codex: names no model",
                                     v->model.spec ? v->model.spec : "codex:");
        c = calloc(1, sizeof(*c));
        if (!c)
                return pod_error_oom(err);
        if (llm_delegate_model_init(&c->m, v, "codex") < 0) {
                codex_free(c);
                return pod_error_oom(err);
        }
        codex_events_init(&c->ev, c->m.spec);
        *ret_state = c;
        return 0;
}

/* ---- the command line ------------------------------------------------------------------- */

/* s as a TOML basic string: quoted, with \, " and control characters escaped. */
char *codex_toml_string(const char *s) {
        _cleanup_buf_ pod_buf b = { 0 };

        buf_puts(&b, "\"");
        for (const unsigned char *p = (const unsigned char *) s; *p; p++) {
                if (*p == '"' || *p == '\\')
                        buf_printf(&b, "\\%c", *p);
                else if (*p < 0x20 || *p == 0x7f)
                        buf_printf(&b, "\\u%04x", *p);
                else
                        buf_append(&b, (const char *) p, 1);
        }
        buf_puts(&b, "\"");
        return buf_steal(&b);
}

/* "-c" and key=VALUE, the value a TOML string of value (or raw TOML when raw). */
static int push_config(char ***argv, const char *key, const char *value, bool raw) {
        _cleanup_free_ char *toml = raw ? strdup(value) : codex_toml_string(value), *arg = NULL;

        if (!toml || asprintf(&arg, "%s=%s", key, toml) < 0)
                return -ENOMEM;
        if (strlen(arg) > CODEX_ARG_MAX)
                return -E2BIG;
        return strv_push(argv, "-c") < 0 || strv_consume(argv, TAKE_PTR(arg)) < 0 ? -ENOMEM : 0;
}

/* The endpoint as a model provider of the pod's (Responses wire), its key read from the
 * profile's variable by codex itself: never in argv. */
static int push_provider(char ***argv, const codex_argv_in *in) {
        int r = 0;

        if (!in->endpoint)
                return 0;
        if (r >= 0)
                r = push_config(argv, "model_provider", "pod", false);
        if (r >= 0)
                r = push_config(argv, "model_providers.pod.name", "pod", false);
        if (r >= 0)
                r = push_config(argv, "model_providers.pod.base_url", in->endpoint, false);
        if (r >= 0)
                r = push_config(argv, "model_providers.pod.wire_api", "responses", false);
        if (r >= 0 && in->key_env)
                r = push_config(argv, "model_providers.pod.env_key", in->key_env, false);
        return r;
}

/* The bound MCP server: `EXE mcp --attach DIR`, with time for a WaitPod. */
static int push_mcp(char ***argv, const char *exe, const char *dir) {
        _cleanup_free_ char *d = codex_toml_string(dir), *args = NULL, *t1 = NULL, *t2 = NULL;
        int r;

        if (!d || asprintf(&args, "[\"mcp\", \"--attach\", %s]", d) < 0 ||
            asprintf(&t1, "%d", CODEX_MCP_STARTUP_S) < 0 ||
            asprintf(&t2, "%d", CODEX_MCP_TOOL_S) < 0)
                return -ENOMEM;
        r = push_config(argv, "mcp_servers.pod.command", exe, false);
        if (r >= 0)
                r = push_config(argv, "mcp_servers.pod.args", args, true);
        if (r >= 0)
                r = push_config(argv, "mcp_servers.pod.startup_timeout_sec", t1, true);
        if (r >= 0)
                r = push_config(argv, "mcp_servers.pod.tool_timeout_sec", t2, true);
        return r;
}

/* The key's variables are kept from the commands the CLI runs (codex passes its own
 * environment to them, minus what this excludes; its default leaves out only names with KEY,
 * SECRET or TOKEN in them). */
static int push_key_exclude(char ***argv, const codex_argv_in *in) {
        _cleanup_free_ char *named = in->key_env ? codex_toml_string(in->key_env) : NULL,
                            *list = NULL;

        if ((in->key_env && !named) ||
            asprintf(&list, "[\"CODEX_API_KEY\", \"OPENAI_API_KEY\"%s%s]", named ? ", " : "",
                     named ? named : "") < 0)
                return -ENOMEM;
        return push_config(argv, "shell_environment_policy.exclude", list, true);
}

int codex_argv(char ***ret, const codex_argv_in *in, pod_error *err) {
        const char *const fixed[] = { "--json",
                                      "--skip-git-repo-check",
                                      "--ignore-user-config",
                                      "--dangerously-bypass-approvals-and-sandbox",
                                      "-m",
                                      NULL };
        _cleanup_strv_free_ char **argv = NULL;
        int r = 0;

        if (strv_push(&argv, in->exe) < 0 || strv_push(&argv, "exec") < 0 ||
            (in->thread && strv_push(&argv, "resume") < 0))
                return pod_error_oom(err);
        for (const char *const *a = fixed; *a; a++)
                if (strv_push(&argv, *a) < 0)
                        return pod_error_oom(err);
        if (strv_push(&argv, in->name) < 0)
                return pod_error_oom(err);
        if (in->system && *in->system)
                r = push_config(&argv, "developer_instructions", in->system, false);
        if (r >= 0)
                r = push_provider(&argv, in);
        if (r >= 0)
                r = push_key_exclude(&argv, in);
        if (r >= 0 && in->mcp_dir)
                r = push_mcp(&argv, in->mcp_exe, in->mcp_dir);
        if (r == -E2BIG)
                return pod_error_set(err, r,
                                     "model %s: the system prompt is over %u KiB, more than the "
                                     "codex CLI's command line takes",
                                     in->spec, CODEX_ARG_MAX >> 10);
        if (r < 0 || (in->thread && strv_push(&argv, in->thread) < 0) || strv_push(&argv, "-") < 0)
                return pod_error_oom(err);
        *ret = TAKE_PTR(argv);
        return 0;
}

/* ---- its environment -------------------------------------------------------------------- */

/* The allowlist, and its own variables unless the profile names its API: with an endpoint,
 * the provider reads the profile's variable by its name; without, the key is CODEX_API_KEY. */
static char **codex_env(const codex *c, char *const *envp) {
        static const char *const own[] = { "OPENAI_API_KEY", "CODEX_API_KEY", "OPENAI_BASE_URL",
                                           "CODEX_HOME", NULL };
        const char *key = llm_delegate_key(&c->m, envp);
        const char *named[] = { "CODEX_HOME", c->m.endpoint ? c->m.key_env : NULL, NULL };
        _cleanup_strv_free_ char **env =
                llm_delegate_env(envp, c->m.endpoint || key ? named : own, NULL);
        _cleanup_free_ char *k = NULL;

        if (!env)
                return NULL;
        if (!c->m.endpoint && key &&
            (asprintf(&k, "CODEX_API_KEY=%s", key) < 0 || strv_consume(&env, TAKE_PTR(k)) < 0))
                return NULL;
        return TAKE_PTR(env);
}

/* ---- one task --------------------------------------------------------------------------- */

static int event_of(void *ev, const char *line, size_t len, json_t *actions, pod_error *err) {
        return codex_event(ev, line, len, actions, err);
}

/* Its sandbox's paths and its command line, for this task. */
static int prepare(codex *c,
                   const json_t *conv,
                   const llm_call *call,
                   const llm_mcp_bound *mcp,
                   llm_needs *n,
                   char ***argv,
                   pod_error *err) {
        char *const *envp = call->envp ? call->envp : environ;
        manifest_view stub = { 0 };
        codex_argv_in in;
        int r;

        stub.model.spec = c->m.spec;
        stub.model.endpoint_url = c->m.endpoint;
        r = codex_needs(n, &stub, envp, err);
        if (r < 0)
                return r;
        STRV_FOREACH(p, n->write_paths)
                (void) mkdir(*p, 0700); /* the state dir, before a rule names it */
        if (mcp)
                for (const char *const *p = llm_mcp_bound_paths(mcp); *p; p++)
                        if (strv_push(&n->write_paths, *p) < 0)
                                return pod_error_oom(err);
        in = (codex_argv_in){ .exe = n->exe,
                              .spec = c->m.spec,
                              .name = c->m.name,
                              .system = llm_system_text(conv),
                              .endpoint = c->m.endpoint,
                              .key_env = c->m.key_env,
                              .thread = c->ev.thread[0] ? c->ev.thread : NULL,
                              .mcp_exe = mcp ? call->exe : NULL,
                              .mcp_dir = mcp ? llm_mcp_bound_dir(mcp) : NULL };
        return codex_argv(argv, &in, err);
}

/* One `codex exec` for text; its process group ends before this returns. */
static int run_task(codex *c,
                    const json_t *conv,
                    const char *text,
                    const llm_call *call,
                    const char *secret,
                    pod_error *err) {
        _cleanup_(llm_mcp_bound_stopp) llm_mcp_bound *mcp = NULL;
        _cleanup_(llm_needs_done) llm_needs n = { 0 };
        _cleanup_strv_free_ char **argv = NULL, **env = NULL;
        llm_proc *p = NULL;
        int r = 0;

        if (call->mcp && call->private_dir && call->exe)
                r = llm_mcp_bound_start(&mcp, call->private_dir, call->mcp, call->mcp_ud, err);
        if (r >= 0)
                r = prepare(c, conv, call, mcp, &n, &argv, err);
        if (r < 0)
                return r;
        env = codex_env(c, call->envp ? call->envp : environ);
        if (!env)
                return pod_error_oom(err);
        r = llm_delegate_spawn(&p, &n, argv, env, call, c->m.what, err);
        if (r < 0)
                return r;
        r = llm_proc_write(p, call, text, strlen(text), err);
        llm_proc_close_input(p);
        if (r >= 0)
                r = llm_delegate_read(p, call, event_of, &c->ev, secret, false, err);
        if (r >= 0)
                (void) llm_proc_wait(p, CODEX_EXIT_WAIT_MS, NULL); /* it exits after its turn */
        llm_proc_free(p); /* whatever of its group is left ends */
        return r;
}

static int codex_complete(void *state,
                          const json_t *conv,
                          const json_t *tools,
                          const llm_call *call,
                          llm_turn *out,
                          pod_error *err) {
        codex *c = state;
        _cleanup_free_ char *text = NULL;
        const char *secret;
        int r;

        (void) tools; /* the CLI has its own; the pod's come over MCP */
        r = llm_delegate_begin(&call, &secret, &text, &c->m, conv, err);
        if (r < 0)
                return r;
        codex_events_new_call(&c->ev);
        r = run_task(c, conv, text, call, secret, err);
        return llm_delegate_finish(out, r, &c->ev.result, secret, err);
}

const llm_ops llm_codex_ops = {
        .name = "codex",
        .open = codex_open,
        .complete = codex_complete,
        .free = codex_free,
        .needs = codex_needs,
};
