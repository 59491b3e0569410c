/* SPDX-License-Identifier: MIT */
/*
 * What a refusal says, made safe to show: the server's message from its error body (the
 * Anthropic and OpenAI shapes), a URL's userinfo redacted, and a key scrubbed from any text
 * that could have echoed it. Pure, like the wires.
 */
#include <string.h>

#include "llm-internal.h"

char *llm_error_message(const char *body, size_t len) {
        json_auto_t *j = json_loadb(body, len, 0, NULL);
        const json_t *e = json_object_get(j, "error");
        const char *msg = json_string_value(json_object_get(e, "message"));

        if (!msg)
                msg = json_string_value(e); /* {"error": "text"}: Ollama and others */
        if (!msg)
                msg = json_string_value(json_object_get(j, "message"));
        if (!msg && len > 0 && !j) /* not JSON: a proxy's page, the first line of it */
                return str_quote(body, 200);
        return msg ? str_quote(msg, 300) : NULL;
}

char *llm_redact_url(const char *url) {
        const char *host = url ? strstr(url, "://") : NULL;
        const char *at, *end;
        pod_buf b = { 0 };

        if (!url)
                return strdup("");
        if (!host)
                return strdup(url);
        host += 3;
        end = host + strcspn(host, "/?#");
        at = memchr(host, '@', (size_t) (end - host));
        if (!at)
                return strdup(url);
        buf_append(&b, url, (size_t) (host - url));
        buf_puts(&b, "***@");
        buf_puts(&b, at + 1);
        return buf_steal(&b);
}

void llm_scrub(char *s, const char *secret) {
        size_t n = secret ? strlen(secret) : 0;
        char *p;

        if (!s || n < 4) /* too short to be a key; scrubbing it would mangle the text */
                return;
        while ((p = strstr(s, secret))) {
                memcpy(p, "***", 3);
                memmove(p + 3, p + n, strlen(p + n) + 1);
        }
}
