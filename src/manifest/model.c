/* SPDX-License-Identifier: MIT */
/*
 * Model specs (DESIGN §9): `provider:model` and the single table that maps a provider
 * prefix to the handler that runs it. Nothing else in pod decides which handler runs, so a
 * profile that says `codex:` can never end up on another vendor's model. Also the script
 * model's file format, which is checked here so a broken script fails at resolution.
 */
#include <string.h>

#include "manifest.h"

static const model_provider providers[] = {
        { "openai", POD_HANDLER_OPENAI_RESPONSES, "https://api.openai.com/v1", "OPENAI_API_KEY",
          true, false },
        { "openrouter", POD_HANDLER_OPENAI_CHAT, "https://openrouter.ai/api/v1",
          "OPENROUTER_API_KEY", true, false },
        { "ollama", POD_HANDLER_OPENAI_CHAT, "http://127.0.0.1:11434/v1", NULL, true, false },
        { "local", POD_HANDLER_OPENAI_CHAT, "http://127.0.0.1:8080/v1", NULL, true, false },
        { "oai-compat", POD_HANDLER_OPENAI_CHAT, NULL, NULL, true, false },
        { "anthropic", POD_HANDLER_ANTHROPIC, "https://api.anthropic.com", "ANTHROPIC_API_KEY",
          true, false },
        /* Delegates: the CLI's own login, or an endpoint and key variable of the profile's
         * (ANTHROPIC_BASE_URL for claude, a model provider for codex). */
        { "claude", POD_HANDLER_CLAUDE, NULL, NULL, true, true },
        { "codex", POD_HANDLER_CODEX, NULL, NULL, true, true },
        { "script", POD_HANDLER_SCRIPT, NULL, NULL, false, false },
};

const model_provider *model_provider_lookup(const char *prefix) {
        for (size_t i = 0; i < POD_ARRAY_SIZE(providers); i++)
                if (strcmp(providers[i].prefix, prefix) == 0)
                        return &providers[i];
        return NULL;
}

const char *model_prefix_list(void) {
        return "openai, openrouter, ollama, local, oai-compat, anthropic, claude, codex, script";
}

const char *handler_to_string(pod_handler h) {
        switch (h) {
        case POD_HANDLER_OPENAI_RESPONSES:
                return "openai-responses";
        case POD_HANDLER_OPENAI_CHAT:
                return "openai-chat";
        case POD_HANDLER_ANTHROPIC:
                return "anthropic-messages";
        case POD_HANDLER_CLAUDE:
                return "claude-cli";
        case POD_HANDLER_CODEX:
                return "codex-cli";
        case POD_HANDLER_SCRIPT:
                return "script";
        case POD_HANDLER__COUNT:
                break;
        }
        return "invalid";
}

static bool model_name_char_ok(unsigned char c) {
        return c > 0x20 && c != 0x7f;
}

int model_spec_parse(model_spec *out, const char *text, pod_error *err) {
        const model_provider *p;
        const char *colon;
        char prefix[32];
        size_t plen;
        char *name;

        if (!text || !*text)
                return pod_error_set(err, -EINVAL, "model is empty; expected provider:model (%s)",
                                     model_prefix_list());
        if (strlen(text) > POD_MODEL_SPEC_MAX)
                return pod_error_set(err, -E2BIG, "model is over %u bytes", POD_MODEL_SPEC_MAX);
        colon = strchr(text, ':');
        if (!colon)
                return pod_error_set(err, -EINVAL,
                                     "model '%s' has no provider prefix; write provider:model "
                                     "with one of: %s",
                                     text, model_prefix_list());
        plen = (size_t) (colon - text);
        if (plen >= sizeof(prefix))
                plen = sizeof(prefix) - 1;
        memcpy(prefix, text, plen);
        prefix[plen] = '\0';
        p = model_provider_lookup(prefix);
        if (!p || (size_t) (colon - text) != plen)
                return pod_error_set(err, -EINVAL, "model '%s': unknown provider '%s'; known: %s",
                                     text, prefix, model_prefix_list());
        if (!colon[1])
                return pod_error_set(err, -EINVAL,
                                     "model '%s': the model name after '%s:' is empty", text,
                                     prefix);
        for (const char *c = colon + 1; *c; c++)
                if (!model_name_char_ok((unsigned char) *c))
                        return pod_error_set(err, -EINVAL,
                                             "model '%s': the model name contains whitespace or a "
                                             "control character",
                                             text);
        name = strdup(colon + 1);
        if (!name)
                return pod_error_oom(err);
        *out = (model_spec){ .provider = p, .name = name };
        return 0;
}

void model_spec_done(model_spec *s) {
        free(s->name);
        *s = (model_spec){ 0 };
}

static int endpoint_check(const char *e, pod_error *err) {
        pod_endpoint parsed;
        int r;

        r = endpoint_parse(&parsed, e, err);
        if (r >= 0)
                endpoint_done(&parsed);
        return r;
}

/*
 * OpenAI-wire endpoints (codex: too) are normalised to end in a version segment ("/v1"
 * appended when the path has none); Anthropic endpoints (claude: too, ANTHROPIC_BASE_URL) to
 * the bare base (a trailing "/v1" removed), since the handlers and CLIs append their own
 * paths. Trailing slashes go in both cases.
 */
int model_endpoint_normalize(char **out,
                             const model_provider *p,
                             const char *endpoint,
                             pod_error *err) {
        _cleanup_buf_ pod_buf b = { 0 };
        const char *host, *path, *last;
        bool versioned;
        size_t n;
        int r;

        if (!p->takes_endpoint)
                return pod_error_set(err, -EINVAL, "provider '%s' takes no endpoint", p->prefix);
        r = endpoint_check(endpoint, err);
        if (r < 0)
                return r;
        n = strlen(endpoint);
        while (n > 0 && endpoint[n - 1] == '/')
                n--;
        buf_append(&b, endpoint, n);
        if (b.oom)
                return pod_error_oom(err);
        host = strstr(b.data, "://") + 3;
        path = strchr(host, '/');
        last = path ? strrchr(path, '/') : NULL;
        versioned = last && last[1] == 'v' && last[2] >= '0' && last[2] <= '9';
        if (p->handler == POD_HANDLER_ANTHROPIC || p->handler == POD_HANDLER_CLAUDE) {
                if (last && strcmp(last, "/v1") == 0) {
                        b.len = (size_t) (last - b.data);
                        b.data[b.len] = '\0';
                }
        } else if (!versioned)
                buf_puts(&b, "/v1");
        *out = buf_steal(&b);
        return *out ? 0 : pod_error_oom(err);
}

/* ---- the script model ------------------------------------------------------------------ */

#define SCRIPT_TURNS_MAX 10000
#define SCRIPT_CALLS_MAX 64
#define SCRIPT_USAGE_MAX 1000000000LL /* tokens one scripted call may report */

static int
script_call_check(const json_t *call, const char *what, size_t t, size_t c, pod_error *err) {
        const char *tool;
        json_t *input = NULL;
        json_error_t jerr;

        if (json_unpack_ex((json_t *) call, &jerr, JSON_STRICT, "{s:s, s?o}", "tool", &tool,
                           "input", &input) < 0)
                return pod_error_set(err, -EINVAL, "%s: turns[%zu].call[%zu]: %s", what, t, c,
                                     jerr.text);
        if (input && !json_is_object(input))
                return pod_error_set(err, -EINVAL,
                                     "%s: turns[%zu].call[%zu].input must be an object", what, t,
                                     c);
        if (!*tool)
                return pod_error_set(err, -EINVAL, "%s: turns[%zu].call[%zu].tool is empty", what,
                                     t, c);
        return 0;
}

/* usage {input_tokens?, output_tokens?, cache_read_tokens?, cache_write_tokens?}: what the
 * scripted model call reports having used, each a whole number up to SCRIPT_USAGE_MAX. */
static int script_usage_check(const json_t *u, const char *what, size_t t, pod_error *err) {
        static const char *const keys[] = { "input_tokens", "output_tokens", "cache_read_tokens",
                                            "cache_write_tokens" };
        const char *k;
        json_t *v;

        if (!json_is_object(u))
                return pod_error_set(err, -EINVAL, "%s: turns[%zu].usage must be an object", what,
                                     t);
        json_object_foreach((json_t *) u, k, v) {
                bool known = false;
                for (size_t i = 0; i < POD_ARRAY_SIZE(keys); i++)
                        known |= strcmp(k, keys[i]) == 0;
                if (!known)
                        return pod_error_set(err, -EINVAL,
                                             "%s: turns[%zu].usage: unknown key '%s' (known: "
                                             "input_tokens, output_tokens, cache_read_tokens, "
                                             "cache_write_tokens)",
                                             what, t, k);
                if (!json_is_integer(v) || json_integer_value(v) < 0 ||
                    json_integer_value(v) > SCRIPT_USAGE_MAX)
                        return pod_error_set(err, -EINVAL,
                                             "%s: turns[%zu].usage.%s must be a whole number from "
                                             "0 to %lld",
                                             what, t, k, (long long) SCRIPT_USAGE_MAX);
        }
        return 0;
}

static int script_turn_check(const json_t *turn, const char *what, size_t t, pod_error *err) {
        json_t *say = NULL, *call = NULL, *usage = NULL, *v;
        json_error_t jerr;
        int echo = 0;
        size_t c;
        int r;

        if (json_unpack_ex((json_t *) turn, &jerr, JSON_STRICT, "{s?o, s?o, s?b, s?o}", "say", &say,
                           "call", &call, "echo", &echo, "usage", &usage) < 0)
                return pod_error_set(err, -EINVAL, "%s: turns[%zu]: %s", what, t, jerr.text);
        if (say && !json_is_string(say))
                return pod_error_set(err, -EINVAL, "%s: turns[%zu].say must be a string", what, t);
        if (usage && (r = script_usage_check(usage, what, t, err)) < 0)
                return r;
        if (!call)
                return 0;
        if (!json_is_array(call) || json_array_size(call) > SCRIPT_CALLS_MAX)
                return pod_error_set(err, -EINVAL,
                                     "%s: turns[%zu].call must be an array of at most %d calls",
                                     what, t, SCRIPT_CALLS_MAX);
        json_array_foreach(call, c, v) {
                r = script_call_check(v, what, t, c, err);
                if (r < 0)
                        return r;
        }
        return 0;
}

int script_validate(const json_t *script, const char *what, pod_error *err) {
        json_t *turns = NULL, *v;
        json_error_t jerr;
        size_t t;
        int r;

        if (json_unpack_ex((json_t *) script, &jerr, JSON_STRICT, "{s:o}", "turns", &turns) < 0)
                return pod_error_set(err, -EINVAL, "%s: %s", what, jerr.text);
        if (!json_is_array(turns) || json_array_size(turns) == 0 ||
            json_array_size(turns) > SCRIPT_TURNS_MAX)
                return pod_error_set(err, -EINVAL,
                                     "%s: turns must be a non-empty array of at most %d turns",
                                     what, SCRIPT_TURNS_MAX);
        json_array_foreach(turns, t, v) {
                r = script_turn_check(v, what, t, err);
                if (r < 0)
                        return r;
        }
        return 0;
}

int script_parse(json_t **out, const char *text, size_t len, const char *what, pod_error *err) {
        json_auto_t *j = NULL;
        json_error_t jerr;
        int r;

        if (len > POD_SCRIPT_MAX_BYTES)
                return pod_error_set(err, -EFBIG, "%s: script is over %u bytes", what,
                                     POD_SCRIPT_MAX_BYTES);
        j = json_loadb(text, len, JSON_REJECT_DUPLICATES, &jerr);
        if (!j)
                return pod_error_set(err, -EINVAL, "%s:%d:%d: %s", what, jerr.line, jerr.column,
                                     jerr.text);
        r = script_validate(j, what, err);
        if (r < 0)
                return r;
        *out = json_incref(j);
        return 0;
}
