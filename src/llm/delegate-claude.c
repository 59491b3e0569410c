/* SPDX-License-Identifier: MIT */
/*
 * The claude: delegate (DESIGN §9 "Delegates"): the claude CLI as a pod's worker. It runs
 *   claude -p --input-format stream-json --output-format stream-json --verbose
 *          --include-partial-messages --model NAME --permission-mode bypassPermissions
 *          --setting-sources "" --strict-mcp-config --append-system-prompt SYSTEM
 *          [--mcp-config {pod: EXE mcp --attach DIR}] [--resume SESSION]
 * in the pod's delegate sandbox (the kernel is the boundary, so its own permission prompts
 * are off; IS_SANDBOX=1 lets it skip them as root too), with no settings of the user's or
 * the project's and no MCP server but the pod's. Each task (the conversation's new user
 * entries) is one user message on its stdin; the process stays alive for the next one, and
 * one that died is started again with --resume, so SendToPod continues the same session.
 * Its events (claude-events.c) feed the pod's progress and usage as they come; the task's
 * answer is one turn without calls, its usage already counted.
 */
#include <string.h>
#include <sys/stat.h>

#include "llm-internal.h"

extern char **environ;

#define CLAUDE_PACKAGE "@anthropic-ai/claude-code"
#define CLAUDE_ARG_MAX (100u << 10) /* the system prompt in argv (one argument: 128 KiB) */

typedef struct claude {
        llm_delegate_model m; /* endpoint: ANTHROPIC_BASE_URL; key_env: ANTHROPIC_API_KEY's */
        llm_proc *proc; /* the running CLI, kept between tasks */
        claude_events ev;
        llm_mcp_bound *mcp; /* the bound MCP server of the running CLI; NULL: none */
} claude;

/* ---- what the CLI needs (llm_needs_of) -------------------------------------------------- */

/* The CLI's state: $CLAUDE_CONFIG_DIR (its config file inside), else ~/.claude and
 * ~/.claude.json (listed when it is a file: the CLI runs without one, and a rule for a path
 * that does not exist would have to make it). */
static int state_paths(char ***paths, char *const *envp) {
        const char *dir = env_get(envp, "CLAUDE_CONFIG_DIR"), *home = env_get(envp, "HOME");
        _cleanup_free_ char *state = NULL, *config = NULL, *state_c = NULL, *config_c = NULL;
        struct stat st;

        if (dir && dir[0] == '/')
                state = strdup(dir);
        else if (home && home[0] == '/') {
                state = path_join(home, ".claude");
                config = path_join(home, ".claude.json");
                if (!state || !config)
                        return -ENOMEM;
        } else
                return 0; /* no home: the CLI keeps no state we can grant */
        state_c = state ? llm_delegate_canonical(state) : NULL;
        if (state_c && strv_push(paths, state_c) < 0)
                return -ENOMEM;
        config_c = config ? llm_delegate_canonical(config) : NULL;
        if (config_c && lstat(config_c, &st) == 0 && S_ISREG(st.st_mode) &&
            strv_push(paths, config_c) < 0)
                return -ENOMEM;
        return 0;
}

static int claude_needs(llm_needs *out, const manifest_view *v, char *const *envp, pod_error *err) {
        _cleanup_(llm_needs_done) llm_needs n = { 0 };
        _cleanup_free_ char *dir = NULL;
        int r;

        r = llm_delegate_find(&n.exe, "claude", CLAUDE_PACKAGE, v->model.spec, envp, err);
        if (r < 0)
                return r;
        dir = llm_delegate_install_dir(n.exe);
        if (!dir || strv_push(&n.read_paths, dir) < 0 ||
            !(n.write_paths = calloc(1, sizeof(char *))) || state_paths(&n.write_paths, envp) < 0)
                return pod_error_oom(err);
        n.port = v->model.endpoint_url ? endpoint_port(v->model.endpoint_url) : 443;
        *out = n;
        n = (llm_needs){ 0 };
        return 0;
}

/* ---- open, free ------------------------------------------------------------------------- */

static void claude_free(void *state) {
        claude *c = state;

        if (!c)
                return;
        llm_proc_free(c->proc);
        llm_mcp_bound_stop(c->mcp);
        claude_events_done(&c->ev);
        llm_delegate_model_done(&c->m);
        free(c);
}

static int claude_open(void **ret_state, const manifest_view *v, pod_error *err) {
        claude *c = calloc(1, sizeof(*c));

        if (!c)
                return pod_error_oom(err);
        if (llm_delegate_model_init(&c->m, v, "claude") < 0) {
                claude_free(c);
                return pod_error_oom(err);
        }
        claude_events_init(&c->ev, c->m.spec);
        *ret_state = c;
        return 0;
}

/* ---- starting the CLI ------------------------------------------------------------------- */

/* NAME=value appended to *env. */
static int env_set(char ***env, const char *name, const char *value) {
        pod_buf b = { 0 };
        char *entry;

        buf_printf(&b, "%s=%s", name, value);
        entry = buf_steal(&b);
        if (!entry || strv_consume(env, entry) < 0) {
                free(entry); /* strv_consume takes it on success only */
                return -ENOMEM;
        }
        return 0;
}

/* Its environment: the allowlist, its own variables unless the profile names its API, and
 * what it needs to run headless in a sandbox. */
static char **claude_env(const claude *c, char *const *envp) {
        static const char *const own[] = { "ANTHROPIC_API_KEY",  "ANTHROPIC_AUTH_TOKEN",
                                           "ANTHROPIC_BASE_URL", "CLAUDE_CODE_OAUTH_TOKEN",
                                           "CLAUDE_CONFIG_DIR",  NULL };
        static const char *const config_only[] = { "CLAUDE_CONFIG_DIR", NULL };
        /* Another Claude Code's session markers: this CLI is no part of that session. */
        static const char *const strip[] = { "CLAUDECODE=", "CLAUDE_CODE_ENTRYPOINT=",
                                             "CLAUDE_CODE_SSE_PORT=", NULL };
        const char *key = llm_delegate_key(&c->m, envp);
        bool own_api = !c->m.endpoint && !key;
        _cleanup_strv_free_ char **env = llm_delegate_env(envp, own_api ? own : config_only, strip);

        if (!env)
                return NULL;
        if ((c->m.endpoint && env_set(&env, "ANTHROPIC_BASE_URL", c->m.endpoint) < 0) ||
            (key && env_set(&env, "ANTHROPIC_API_KEY", key) < 0))
                return NULL;
        if (strv_push(&env, "IS_SANDBOX=1") < 0 ||
            strv_push(&env, "CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC=1") < 0 ||
            strv_push(&env, "DISABLE_AUTOUPDATER=1") < 0)
                return NULL;
        return TAKE_PTR(env);
}

static int push_all(char ***argv, const char *const *args) {
        for (; *args; args++)
                if (strv_push(argv, *args) < 0)
                        return -ENOMEM;
        return 0;
}

static int claude_argv(char ***ret,
                       const claude *c,
                       const char *exe,
                       const json_t *conv,
                       const char *mcp_config,
                       pod_error *err) {
        const char *const fixed[] = { exe,
                                      "-p",
                                      "--input-format",
                                      "stream-json",
                                      "--output-format",
                                      "stream-json",
                                      "--verbose",
                                      "--include-partial-messages",
                                      "--permission-mode",
                                      "bypassPermissions",
                                      "--setting-sources",
                                      "",
                                      "--strict-mcp-config",
                                      NULL };
        const char *system = llm_system_text(conv);
        _cleanup_strv_free_ char **argv = NULL;

        if (strlen(system) > CLAUDE_ARG_MAX)
                return pod_error_set(err, -E2BIG,
                                     "model %s: the system prompt is over %u KiB, more than the "
                                     "claude CLI's command line takes",
                                     c->m.spec, CLAUDE_ARG_MAX >> 10);
        if (push_all(&argv, fixed) < 0 || strv_push(&argv, "--model") < 0 ||
            strv_push(&argv, c->m.name) < 0)
                return pod_error_oom(err);
        if (*system &&
            (strv_push(&argv, "--append-system-prompt") < 0 || strv_push(&argv, system) < 0))
                return pod_error_oom(err);
        if (mcp_config &&
            (strv_push(&argv, "--mcp-config") < 0 || strv_push(&argv, mcp_config) < 0))
                return pod_error_oom(err);
        if (c->ev.session[0] &&
            (strv_push(&argv, "--resume") < 0 || strv_push(&argv, c->ev.session) < 0))
                return pod_error_oom(err);
        *ret = TAKE_PTR(argv);
        return 0;
}

/* The bound MCP server's config for the CLI: `EXE mcp --attach DIR`. */
static char *mcp_config_of(const char *exe, const char *dir) {
        json_auto_t *j = json_pack("{s:{s:{s:s, s:s, s:[s, s, s]}}}", "mcpServers", "pod", "type",
                                   "stdio", "command", exe, "args", "mcp", "--attach", dir);

        return j ? json_dumps(j, JSON_COMPACT) : NULL;
}

/* Start the CLI's bound MCP server, when the pod offers tools, and its config. */
static int
start_mcp(claude *c, const llm_call *call, char **ret_config, char ***write_paths, pod_error *err) {
        int r;

        *ret_config = NULL;
        if (!call->mcp || !call->private_dir || !call->exe)
                return 0;
        r = llm_mcp_bound_start(&c->mcp, call->private_dir, call->mcp, call->mcp_ud, err);
        if (r < 0)
                return r;
        *ret_config = mcp_config_of(call->exe, llm_mcp_bound_dir(c->mcp));
        if (!*ret_config)
                return pod_error_oom(err);
        for (const char *const *p = llm_mcp_bound_paths(c->mcp); *p; p++)
                if (strv_push(write_paths, *p) < 0)
                        return pod_error_oom(err);
        return 0;
}

static int start_cli(claude *c, const json_t *conv, const llm_call *call, pod_error *err) {
        char *const *envp = call->envp ? call->envp : environ;
        _cleanup_(llm_needs_done) llm_needs n = { 0 };
        _cleanup_strv_free_ char **argv = NULL, **env = NULL;
        _cleanup_free_ char *mcp_config = NULL;
        manifest_view stub = { 0 };
        int r;

        stub.model.spec = c->m.spec;
        stub.model.endpoint_url = c->m.endpoint;
        r = claude_needs(&n, &stub, envp, err);
        /* The state dir (listed first), made before a rule names it; a missing config file
         * is not listed (the CLI runs without one). */
        if (r >= 0 && n.write_paths[0])
                (void) mkdir(n.write_paths[0], 0700);
        if (r >= 0)
                r = start_mcp(c, call, &mcp_config, &n.write_paths, err);
        if (r >= 0)
                r = claude_argv(&argv, c, n.exe, conv, mcp_config, err);
        if (r < 0)
                return r;
        env = claude_env(c, envp);
        if (!env)
                return pod_error_oom(err);
        r = llm_delegate_spawn(&c->proc, &n, argv, env, call, c->m.what, err);
        if (r < 0)
                return r;
        claude_events_new_process(&c->ev);
        return 0;
}

/* The CLI and all it started end; its session stays for the next task (--resume). */
static void stop_cli(claude *c) {
        c->proc = llm_proc_free(c->proc);
        c->mcp = llm_mcp_bound_stop(c->mcp);
}

/* ---- one task --------------------------------------------------------------------------- */

static int send_task(claude *c, const char *text, const llm_call *call, pod_error *err) {
        json_auto_t *msg = json_pack("{s:s, s:{s:s, s:s}}", "type", "user", "message", "role",
                                     "user", "content", text);
        _cleanup_free_ char *line = msg ? json_dumps(msg, JSON_COMPACT) : NULL;
        _cleanup_buf_ pod_buf b = { 0 };

        if (!line || buf_printf(&b, "%s\n", line) < 0)
                return pod_error_oom(err);
        return llm_proc_write(c->proc, call, b.data, b.len, err);
}

static int event_of(void *ev, const char *line, size_t len, json_t *actions, pod_error *err) {
        return claude_event(ev, line, len, actions, err);
}

static int task(claude *c,
                const json_t *conv,
                const char *text,
                const llm_call *call,
                const char *secret,
                pod_error *err) {
        int r;

        if (c->proc && llm_proc_wait(c->proc, 0, NULL) > 0)
                stop_cli(c); /* it ended since the last task: resumed below */
        for (int attempt = 0;; attempt++) {
                bool fresh = !c->proc;

                if (fresh) {
                        r = start_cli(c, conv, call, err);
                        if (r < 0)
                                return r;
                }
                r = send_task(c, text, call, err);
                if (r >= 0)
                        r = llm_delegate_read(c->proc, call, event_of, &c->ev, secret,
                                              !fresh && attempt == 0, err);
                /* One that ended while idle (its stdin closed, or its output ended before a
                 * word of this task): once more, resumed. */
                if (r == -EPIPE && !fresh && attempt == 0) {
                        stop_cli(c);
                        continue;
                }
                /* A new one that closed its stdin: how it ended says why. */
                return r == -EPIPE ? llm_proc_fail(c->proc, call, secret, err) : r;
        }
}

static int claude_complete(void *state,
                           const json_t *conv,
                           const json_t *tools,
                           const llm_call *call,
                           llm_turn *out,
                           pod_error *err) {
        claude *c = state;
        _cleanup_free_ char *text = NULL;
        const char *secret;
        int r;

        (void) tools; /* the CLI has its own; the pod's come over MCP */
        r = llm_delegate_begin(&call, &secret, &text, &c->m, conv, err);
        if (r < 0)
                return r;
        claude_events_new_call(&c->ev);
        r = task(c, conv, text, call, secret, err);
        /* Anything but an answer or the CLI's own error result: it and its group end now
         * (cancel, the deadline, the budget, a broken stream). */
        if (r < 0 && !(c->ev.done && r == -EPROTO))
                stop_cli(c);
        return llm_delegate_finish(out, r, &c->ev.result, secret, err);
}

const llm_ops llm_claude_ops = {
        .name = "claude",
        .open = claude_open,
        .complete = claude_complete,
        .free = claude_free,
        .needs = claude_needs,
};
