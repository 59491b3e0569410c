/* SPDX-License-Identifier: MIT */
/*
 * The tool set of a pod: construction from a manifest, dispatch of a call, the results
 * the model reads, and the JSON schemas it is offered. Inputs come from the model and are
 * hostile: each is checked against its schema (unknown fields refused) before it runs.
 */
#include <assert.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "tools-internal.h"

/* POD_SEARCH_DEADLINE_S, or less when the test hook POD_TOOL_DEADLINE_MS says so. */
static long long search_budget_ms(void) {
        const char *v = getenv("POD_TOOL_DEADLINE_MS");
        long long ms = POD_SEARCH_DEADLINE_S * 1000LL;
        int n;

        if (v && str_to_int(v, &n) == 0 && n > 0 && n < ms)
                ms = n;
        return ms;
}

int tools_new(pod_tools **out, const manifest_view *v, const char *output_dir, pod_error *err) {
        _cleanup_(tools_freep) pod_tools *t = calloc(1, sizeof(*t));
        int r;

        assert(out && v);
        if (!t)
                return pod_error_oom(err);
        t->tmp_fd = -EBADF;
        r = fs_init(&t->fs, &v->scope, v->cwd, v->name, err);
        if (r < 0)
                return r;
        t->sandboxed = v->sandboxed;
        /* Before any command runs: every command's ruleset is built from these descriptors,
         * so a rule path a command swaps for a symlink grants nothing there. */
        if (t->sandboxed && (r = sandbox_roots_open(&t->roots, &t->fs.scope, err)) < 0)
                return r;
        t->run_dir_cap = (uint64_t) POD_RUN_DIR_CAP_DEFAULT_MIB << 20;
        t->search_ms = search_budget_ms();
        t->network = v->network;
        t->tools = strv_copy(v->tools);
        if (!t->tools || (output_dir && !(t->output_dir = strdup(output_dir))) ||
            (v->model.key_env && !(t->api_key_env = strdup(v->model.key_env))))
                return pod_error_oom(err);
        *out = TAKE_PTR(t);
        return 0;
}

pod_tools *tools_free(pod_tools *t) {
        if (!t)
                return NULL;
        tools_drop_warm_shell(t);
        sandbox_roots_free(t->roots);
        safe_close(t->tmp_fd);
        fs_done(&t->fs);
        strv_free(t->tools);
        strv_free(t->read_paths);
        free(t->output_dir);
        free(t->api_key_env);
        free(t);
        return NULL;
}

void tools_set_run_dir_cap(pod_tools *t, uint64_t cap) {
        t->run_dir_cap = cap ? cap : (uint64_t) POD_RUN_DIR_CAP_DEFAULT_MIB << 20;
}

void tools_set_cancel(pod_tools *t, const volatile sig_atomic_t *cancel) {
        t->cancel = cancel;
}

void tools_set_deadline(pod_tools *t, long long at_ms) {
        t->deadline_ms = at_ms;
}

long long tools_call_deadline(const pod_tools *t, long long budget_ms) {
        long long at = mono_ms() + budget_ms;

        return t->deadline_ms > 0 && t->deadline_ms < at ? t->deadline_ms : at;
}

int tools_cap_timeout_s(const pod_tools *t, int timeout_s) {
        long long left = t->deadline_ms - mono_ms();

        if (t->deadline_ms <= 0 || left >= timeout_s * 1000LL)
                return timeout_s;
        return left > 1000 ? (int) ((left + 999) / 1000) : 1;
}

bool tools_expired(const pod_tools *t, long long deadline) {
        return (t->cancel && *t->cancel) || mono_ms() >= deadline;
}

void tool_result_done(tool_result *r) {
        free(r->text);
        *r = (tool_result){ 0 };
}

_printf_(3, 0) static int tool_setv(tool_result *out, bool is_error, const char *fmt, va_list ap) {
        pod_buf b = { 0 };
        va_list copy;
        int n;

        va_copy(copy, ap);
        n = vsnprintf(NULL, 0, fmt, copy);
        va_end(copy);
        if (n < 0)
                return -ENOMEM;
        b.data = malloc((size_t) n + 1);
        if (!b.data)
                return -ENOMEM;
        vsnprintf(b.data, (size_t) n + 1, fmt, ap);
        *out = (tool_result){ .text = b.data, .is_error = is_error };
        return 0;
}

int tool_ok(tool_result *out, const char *fmt, ...) {
        va_list ap;
        int r;

        va_start(ap, fmt);
        r = tool_setv(out, false, fmt, ap);
        va_end(ap);
        return r;
}

int tool_fail(tool_result *out, const char *fmt, ...) {
        va_list ap;
        int r;

        va_start(ap, fmt);
        r = tool_setv(out, true, fmt, ap);
        va_end(ap);
        return r;
}

int tool_ok_buf(tool_result *out, pod_buf *b) {
        char *text = buf_steal(b);

        if (!text)
                return -ENOMEM;
        *out = (tool_result){ .text = text };
        return 0;
}

int tool_note_stragglers(tool_result *out, const pod_stragglers *s, const char *by) {
        pod_buf b = { 0 };

        if (!s->killed && !s->left && !s->error)
                return 0;
        buf_puts(&b, out->text ? out->text : "");
        if (b.len && b.data[b.len - 1] != '\n')
                buf_puts(&b, "\n");
        contain_describe(&b, s, by);
        if (b.oom) {
                buf_done(&b);
                return -ENOMEM;
        }
        free(out->text);
        out->text = buf_steal(&b);
        return 0;
}

int tools_note_read(pod_tools *t, const char *real) {
        if (strv_contains(t->read_paths, real))
                return 0;
        return strv_push(&t->read_paths, real);
}

int tool_rewrite_fd(int fd, const char *data, size_t len) {
        size_t done = 0;

        if (ftruncate(fd, 0) < 0 || lseek(fd, 0, SEEK_SET) < 0)
                return -errno;
        while (done < len) {
                ssize_t k = write(fd, data + done, len - done);
                if (k < 0 && errno == EINTR)
                        continue;
                if (k < 0)
                        return -errno;
                done += (size_t) k;
        }
        return 0;
}

void tools_set_hooks(pod_tools *t, const tools_hooks *hooks) {
        t->hooks = hooks ? *hooks : (tools_hooks){ 0 };
        t->fs.leased = t->hooks.leased;
        t->fs.leased_ud = t->hooks.ud;
}

void tools_add(pod_tools *t, const tool_ext *ext, size_t n, void *ud) {
        t->ext = ext;
        t->n_ext = n;
        t->ext_ud = ud;
}

/* ---- dispatch -------------------------------------------------------------------------- */

typedef struct tool_def {
        const char *name;
        int (*run)(tool_result *out, pod_tools *t, const json_t *in);
} tool_def;

/* The descriptions and input schemas are resources/tools/<name>.json, embedded at build
 * time: the worker and the MCP server offer the one table. */
extern const struct pod_embedded_file pod_tool_specs[];

_Static_assert(POD_SEARCH_DEADLINE_S == 30, "the Glob and Grep descriptions say 30 s");

static const tool_def defs[] = {
        { "Read", tool_read }, { "Write", tool_write }, { "Edit", tool_edit },
        { "Glob", tool_glob }, { "Grep", tool_grep },   { "Bash", tool_bash },
};

json_t *tools_spec(const char *name) {
        char file[64];

        if (!name || snprintf(file, sizeof(file), "%s.json", name) >= (int) sizeof(file))
                return NULL;
        for (const struct pod_embedded_file *f = pod_tool_specs; f->name; f++)
                if (strcmp(f->name, file) == 0)
                        return json_loadb(f->data, f->size, JSON_REJECT_DUPLICATES, NULL);
        return NULL;
}

/* A tool of the set: built in, or added from above (tools_add). */
typedef struct tool_found {
        const char *name;
        const tool_def *def; /* or */
        const tool_ext *ext;
} tool_found;

static bool find_tool(tool_found *f, const char *name, const tool_ext *ext, size_t n_ext) {
        for (size_t i = 0; i < POD_ARRAY_SIZE(defs); i++)
                if (strcmp(defs[i].name, name) == 0) {
                        *f = (tool_found){ defs[i].name, &defs[i], NULL };
                        return true;
                }
        for (size_t i = 0; i < n_ext; i++)
                if (strcmp(ext[i].name, name) == 0) {
                        *f = (tool_found){ ext[i].name, NULL, &ext[i] };
                        return true;
                }
        return false;
}

static bool type_ok(const json_t *v, const char *type) {
        if (strcmp(type, "string") == 0)
                return json_is_string(v);
        if (strcmp(type, "integer") == 0)
                return json_is_integer(v);
        if (strcmp(type, "boolean") == 0)
                return json_is_boolean(v);
        if (strcmp(type, "array") == 0) /* items are the tool's to check */
                return json_is_array(v);
        if (strcmp(type, "object") == 0) /* so are members */
                return json_is_object(v);
        return false;
}

/* The input against the tool's schema: known fields only, required ones present, types
 * and integer bounds respected. */
static int check_input(tool_result *out, const tool_found *d, const json_t *input) {
        json_auto_t *spec = tools_spec(d->name);
        json_t *schema = json_object_get(spec, "input_schema");
        json_t *props = json_object_get(schema, "properties"), *v, *req;
        const char *key;
        size_t i;

        json_object_foreach((json_t *) input, key, v) {
                json_t *p = json_object_get(props, key);
                json_t *min = json_object_get(p, "minimum"), *max = json_object_get(p, "maximum");
                const char *type = json_string_value(json_object_get(p, "type"));
                if (!p)
                        return tool_fail(out, "%s: unknown field '%s'", d->name, key);
                if (!type_ok(v, type))
                        return tool_fail(out, "%s: %s must be %s %s", d->name, key,
                                         type[0] == 'i' || type[0] == 'o' ? "an" : "a", type);
                if ((min && json_integer_value(v) < json_integer_value(min)) ||
                    (max && json_integer_value(v) > json_integer_value(max)))
                        return tool_fail(out, "%s: %s must be from %lld to %lld", d->name, key,
                                         min ? (long long) json_integer_value(min) : 0LL,
                                         max ? (long long) json_integer_value(max) :
                                               (long long) INT64_MAX);
        }
        json_array_foreach(json_object_get(schema, "required"), i, req)
                if (!json_object_get(input, json_string_value(req)))
                        return tool_fail(out, "%s: %s is required", d->name,
                                         json_string_value(req));
        return 1;
}

/* A file's bytes reach results (Read, Grep, Bash): what is not UTF-8 becomes U+FFFD, or
 * the result could not be a JSON string for the model and the transcript. */
static int clean_result(tool_result *r) {
        char *clean;

        if (!r->text || utf8_valid(r->text, strlen(r->text)))
                return 0;
        clean = utf8_clean(r->text, strlen(r->text));
        if (!clean) {
                tool_result_done(r);
                return -ENOMEM;
        }
        free(r->text);
        r->text = clean;
        return 0;
}

int tools_call(tool_result *out, pod_tools *t, const char *name, const json_t *input) {
        tool_found d;
        bool known = find_tool(&d, name ? name : "", t->ext, t->n_ext);
        char *dump;
        size_t n;
        int r;

        assert(out && t);
        if (!name || !strv_contains(t->tools, name))
                return tool_fail(out, "tool '%s' is not available to pod '%s'", name ? name : "",
                                 t->fs.pod_name);
        if (!known)
                return tool_fail(out, "tool '%s' is not implemented in this version of pod", name);
        if (!json_is_object(input))
                return tool_fail(out, "%s: the input must be a JSON object", name);
        dump = json_dumps(input, JSON_COMPACT);
        n = dump ? strlen(dump) : 0;
        free(dump);
        if (n > POD_TOOL_INPUT_MAX_BYTES)
                return tool_fail(out, "%s: the input is over %u bytes", name,
                                 POD_TOOL_INPUT_MAX_BYTES);
        n = (size_t) check_input(out, &d, input);
        if (n != 1)
                return (int) n;
        r = d.def ? d.def->run(out, t, input) : d.ext->run(out, t, t->ext_ud, d.name, input);
        return r < 0 ? r : clean_result(out);
}

json_t *tools_schemas(const json_t *m, const tool_ext *ext, size_t n_ext) {
        json_t *list = json_array(), *v;
        tool_found d;
        size_t i;

        json_array_foreach(json_object_get(m, "tools"), i, v) {
                const char *name = json_string_value(v);
                if (name && find_tool(&d, name, ext, n_ext) &&
                    json_array_append_new(list, tools_spec(d.name)) < 0) {
                        json_decref(list);
                        return NULL;
                }
        }
        return list;
}
