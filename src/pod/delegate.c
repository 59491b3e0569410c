/* SPDX-License-Identifier: MIT */
/*
 * What a pod process needs for the delegate CLIs (DESIGN §9, docs/sandbox.md): a pod that
 * runs claude: or codex:, or whose profile snapshot lets it start children that do, has
 * the CLIs' install dirs, state dirs and API ports in its own sandbox, since a child is
 * confined within its spawner's. Its scope does not grow: the file tools and Bash
 * commands, built from the scope, never reach these paths, and a child gets them only
 * through its own sandbox, when it may run a delegate itself.
 */
#include <errno.h>
#include <string.h>
#include <sys/stat.h>

#include "llm/llm.h"
#include "pod.h"

static bool is_delegate(pod_handler h) {
        return h == POD_HANDLER_CLAUDE || h == POD_HANDLER_CODEX;
}

static int add_path(char ***to, const char *path) {
        return strv_contains(*to, path) ? 0 : strv_push(to, path);
}

static void add_port(int *ports, int port) {
        size_t n = 0;

        while (n < SANDBOX_CHILD_PORTS_MAX && ports[n] > 0) {
                if (ports[n] == port)
                        return;
                n++;
        }
        if (port > 0 && n < SANDBOX_CHILD_PORTS_MAX)
                ports[n] = port;
}

/* A state dir the CLI will make at its first run is made now, while this pod can (before it
 * is confined), so that a rule can name it. */
static void make_missing(const char *path) {
        struct stat st;

        if (lstat(path, &st) < 0 && errno == ENOENT)
                (void) mkdir(path, 0700);
}

static int take(pod_delegate_extra *x, const llm_needs *n) {
        for (char **p = n->read_paths; p && *p; p++)
                if (add_path(&x->read, *p) < 0)
                        return -ENOMEM;
        for (char **p = n->write_paths; p && *p; p++) {
                make_missing(*p);
                if (add_path(&x->write, *p) < 0)
                        return -ENOMEM;
        }
        add_port(x->extra.ports, n->port);
        return 0;
}

/* Does any text in j name a delegate model? A snapshot that does not needs no parsing: every
 * spawn of a pod with SpawnPod asks, and most snapshots have no delegate profile. */
static bool mentions_delegate(const json_t *j) {
        const char *k, *str = json_string_value(j);
        const json_t *x;
        size_t i;

        if (str)
                return strstr(str, "claude:") || strstr(str, "codex:");
        json_object_foreach((json_t *) j, k, x)
                if (mentions_delegate(x))
                        return true;
        json_array_foreach(j, i, x)
                if (mentions_delegate(x))
                        return true;
        return false;
}

/* The needs of the delegate profiles v's snapshot holds; one whose CLI is missing is left
 * out (a spawn of it is refused then, with the reason). */
static int snapshot_needs(pod_delegate_extra *x, const manifest_view *v, char *const *envp) {
        profile_set *s = NULL;
        int r = 0;

        if (!manifest_view_has_tool(v, "SpawnPod") || !mentions_delegate(v->profiles) ||
            profile_set_from_snapshot(&s, v->profiles, v->cwd, NULL) < 0)
                return 0;
        for (size_t i = 0; r >= 0 && i < profile_set_count(s); i++) {
                const pod_profile *p = profile_set_get(s, i)->profile;
                model_spec spec = { 0 };
                manifest_view stub = { 0 };
                llm_needs n = { 0 };

                if (!p || !p->model || model_spec_parse(&spec, p->model, NULL) < 0)
                        continue;
                if (is_delegate(spec.provider->handler)) {
                        stub.model.spec = (char *) p->model;
                        stub.model.provider = spec.provider;
                        stub.model.handler = spec.provider->handler;
                        stub.model.name = spec.name;
                        stub.model.endpoint_url = (char *) p->endpoint;
                        if (p->endpoint &&
                            endpoint_parse(&stub.model.endpoint, p->endpoint, NULL) < 0)
                                stub.model.endpoint_url = NULL;
                        stub.cwd = v->cwd;
                        if (llm_needs_of(&n, &stub, envp, NULL) >= 0)
                                r = take(x, &n);
                        llm_needs_done(&n);
                        endpoint_done(&stub.model.endpoint);
                }
                model_spec_done(&spec);
        }
        profile_set_free(s);
        return r;
}

int delegate_extra_of(pod_delegate_extra *out,
                      const manifest_view *v,
                      char *const *envp,
                      pod_error *err) {
        pod_delegate_extra x = { 0 };
        llm_needs n = { 0 };
        int r;

        r = llm_needs_of(&n, v, envp, err);
        if (r >= 0)
                r = take(&x, &n) < 0 ? pod_error_oom(err) : 0;
        llm_needs_done(&n);
        if (r >= 0 && snapshot_needs(&x, v, envp) < 0)
                r = pod_error_oom(err);
        if (r < 0) {
                delegate_extra_done(&x);
                return r;
        }
        x.extra.read_paths = (const char *const *) x.read;
        x.extra.write_paths = (const char *const *) x.write;
        *out = x;
        return 0;
}

void delegate_extra_done(pod_delegate_extra *x) {
        strv_free(x->read);
        strv_free(x->write);
        *x = (pod_delegate_extra){ 0 };
}

/* ---- the bound MCP server, handed down by the CLI layer ------------------------------------ */

static const pod_mcp_binding *mcp_binding;

void pod_mcp_bind(const pod_mcp_binding *b) {
        mcp_binding = b;
}

const pod_mcp_binding *pod_mcp_bound(void) {
        return mcp_binding;
}
