/* SPDX-License-Identifier: MIT */
/*
 * Model endpoints (DESIGN §9): the one parser of an endpoint URL, http[s]://host[:port][/path].
 * Profiles, manifest validation, the sandbox (the one TCP port a model-only pod may reach)
 * and the HTTP handlers all read an endpoint through it, so they cannot disagree on which
 * host and port it names. The text comes from profiles and manifests: hostile input,
 * bounded and refused whole when any part is off. Credentials, queries and fragments are
 * refused (a key is named with api_key_env, never written into a URL).
 */
#include <string.h>

#include "manifest.h"

static bool endpoint_chars_ok(const char *e) {
        for (; *e; e++)
                if ((unsigned char) *e <= 0x20 || *e == 0x7f || *e == '"' || *e == '\\')
                        return false;
        return true;
}

static bool host_char_ok(char c, bool bracketed) {
        if (bracketed)
                return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F') ||
                        c == ':' || c == '.';
        return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                c == '-' || c == '.' || c == '_';
}

/* host is [begin, end); an IPv6 address is written in brackets and stored without them. */
static int
parse_host(char **out, const char *url, const char *begin, const char *end, pod_error *err) {
        bool bracketed = *begin == '[';
        size_t n;

        if (bracketed) {
                if (end - begin < 3 || end[-1] != ']')
                        return pod_error_set(err, -EINVAL, "endpoint '%s' has an unclosed '['",
                                             url);
                begin++;
                end--;
        }
        n = (size_t) (end - begin);
        if (n == 0)
                return pod_error_set(err, -EINVAL, "endpoint '%s' has no host", url);
        if (n > POD_ENDPOINT_HOST_MAX)
                return pod_error_set(err, -E2BIG, "endpoint '%s': the host is over %u bytes", url,
                                     POD_ENDPOINT_HOST_MAX);
        for (const char *c = begin; c < end; c++)
                if (!host_char_ok(*c, bracketed))
                        return pod_error_set(err, -EINVAL, "endpoint '%s': the host contains '%c'",
                                             url, *c);
        *out = strndup(begin, n);
        return *out ? 0 : pod_error_set(err, -ENOMEM, "out of memory");
}

/* The digits after ':' up to end: 1 to 65535, no sign, no empty port. */
static int
parse_port(uint16_t *out, const char *url, const char *digits, const char *end, pod_error *err) {
        unsigned port = 0;

        if (digits == end || end - digits > 5)
                return pod_error_set(err, -EINVAL, "endpoint '%s': the port must be 1 to 65535",
                                     url);
        for (const char *c = digits; c < end; c++) {
                if (*c < '0' || *c > '9')
                        return pod_error_set(err, -EINVAL,
                                             "endpoint '%s': the port must be 1 to 65535", url);
                port = port * 10 + (unsigned) (*c - '0');
        }
        if (port == 0 || port > 65535)
                return pod_error_set(err, -EINVAL, "endpoint '%s': the port must be 1 to 65535",
                                     url);
        *out = (uint16_t) port;
        return 0;
}

/* The authority [auth, end): host, then an optional ":port" (after ']' for IPv6). */
static int parse_authority(
        pod_endpoint *e, const char *url, const char *auth, const char *end, pod_error *err) {
        const char *colon;

        if (auth == end)
                return pod_error_set(err, -EINVAL, "endpoint '%s' has no host", url);
        if (memchr(auth, '@', (size_t) (end - auth)))
                return pod_error_set(err, -EINVAL,
                                     "endpoint '%s' carries credentials; name the key with "
                                     "api_key_env instead",
                                     url);
        if (*auth == '[') {
                const char *close = memchr(auth, ']', (size_t) (end - auth));
                colon = close && close + 1 < end ? close + 1 : NULL;
                if (colon && *colon != ':')
                        return pod_error_set(err, -EINVAL,
                                             "endpoint '%s': text after the IPv6 address", url);
        } else
                colon = memchr(auth, ':', (size_t) (end - auth));
        if (colon) {
                int r = parse_port(&e->port, url, colon + 1, end, err);
                if (r < 0)
                        return r;
        }
        return parse_host(&e->host, url, auth, colon ? colon : end, err);
}

int endpoint_parse(pod_endpoint *out, const char *url, pod_error *err) {
        _cleanup_(endpoint_done) pod_endpoint e = { 0 };
        const char *auth, *end;
        int r;

        if (!url || !*url)
                return pod_error_set(err, -EINVAL, "endpoint is empty");
        if (strlen(url) > POD_ENDPOINT_MAX)
                return pod_error_set(err, -E2BIG, "endpoint is over %u bytes", POD_ENDPOINT_MAX);
        if (!endpoint_chars_ok(url))
                return pod_error_set(err, -EINVAL,
                                     "endpoint '%s' contains whitespace or quote characters", url);
        e.tls = str_startswith(url, "https://");
        if (!e.tls && !str_startswith(url, "http://"))
                return pod_error_set(err, -EINVAL,
                                     "endpoint '%s' must start with http:// or https://", url);
        if (strpbrk(url, "?#"))
                return pod_error_set(err, -EINVAL,
                                     "endpoint '%s' must not have a query or fragment", url);
        auth = url + (e.tls ? 8 : 7);
        end = auth + strcspn(auth, "/");
        e.port = e.tls ? 443 : 80;
        r = parse_authority(&e, url, auth, end, err);
        if (r < 0)
                return r;
        e.path = strdup(end);
        if (!e.path)
                return pod_error_set(err, -ENOMEM, "out of memory");
        *out = e;
        e = (pod_endpoint){ 0 };
        return 0;
}

void endpoint_done(pod_endpoint *e) {
        free(e->host);
        free(e->path);
        *e = (pod_endpoint){ 0 };
}

int endpoint_port(const char *url) {
        pod_endpoint e;
        int port;

        if (!url || endpoint_parse(&e, url, NULL) < 0)
                return 0;
        port = e.port;
        endpoint_done(&e);
        return port;
}
