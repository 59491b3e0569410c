/* SPDX-License-Identifier: MIT */
#include <criterion/criterion.h>
#include <string.h>

#include "manifest/manifest.h"

static void expect_ok(const char *url, bool tls, const char *host, int port, const char *path) {
        pod_endpoint e;
        pod_error err = { 0 };

        cr_assert_eq(endpoint_parse(&e, url, &err), 0, "%s: %s", url, err.msg);
        cr_assert_eq(e.tls, tls, "%s", url);
        cr_assert_str_eq(e.host, host, "%s", url);
        cr_assert_eq(e.port, port, "%s", url);
        cr_assert_str_eq(e.path, path, "%s", url);
        cr_assert_eq(endpoint_port(url), port, "%s", url);
        endpoint_done(&e);
}

Test(endpoint, parts_are_parsed_once) {
        expect_ok("https://api.openai.com/v1", true, "api.openai.com", 443, "/v1");
        expect_ok("http://localhost", false, "localhost", 80, "");
        expect_ok("http://127.0.0.1:11434/v1", false, "127.0.0.1", 11434, "/v1");
        expect_ok("http://[::1]:8080/api/v1", false, "::1", 8080, "/api/v1");
        expect_ok("https://[fe80::1]/", true, "fe80::1", 443, "/");
        expect_ok("https://h:65535", true, "h", 65535, "");
}

static void expect_bad(const char *url, const char *why) {
        pod_endpoint e = { .port = 7 };
        pod_error err = { 0 };

        cr_assert_lt(endpoint_parse(&e, url, &err), 0, "%s accepted", url);
        cr_assert(strstr(err.msg, why), "%s: %s", url, err.msg);
        cr_assert_eq(e.port, 7, "out is untouched on failure");
        cr_assert_null(strchr(err.msg, '\n'), "one line: %s", err.msg);
        cr_assert_eq(endpoint_port(url), 0, "%s", url);
}

Test(endpoint, hostile_urls_are_refused_with_a_reason) {
        expect_bad("", "empty");
        expect_bad("ftp://h/", "http:// or https://");
        expect_bad("HTTP://h/", "http:// or https://");
        expect_bad("https://", "no host");
        expect_bad("https:///v1", "no host");
        expect_bad("https://user:pw@h/v1", "credentials");
        expect_bad("https://h@evil/v1", "credentials");
        expect_bad("https://h/v1?x=1", "query or fragment");
        expect_bad("https://h/v1#f", "query or fragment");
        expect_bad("https://h /v1", "whitespace");
        expect_bad("https://h/\"", "quote");
        expect_bad("http://h:0/", "port must be 1 to 65535");
        expect_bad("http://h:65536/", "port must be 1 to 65535");
        expect_bad("http://h:99999999999/", "port must be 1 to 65535");
        expect_bad("http://h:/", "port must be 1 to 65535");
        expect_bad("http://h:+80/", "port must be 1 to 65535");
        expect_bad("http://h:8a/", "port must be 1 to 65535");
        expect_bad("http://[::1/", "unclosed");
        expect_bad("http://[::1]x/", "after the IPv6 address");
        expect_bad("http://[]/", "unclosed");
        expect_bad("http://[g::1]/", "contains 'g'");
        expect_bad("http://h%41/", "contains '%'");
        expect_bad("http://:80/", "no host");
}

Test(endpoint, sizes_are_bounded) {
        char host[POD_ENDPOINT_HOST_MAX + 2], *url;
        size_t n = POD_ENDPOINT_MAX + 1;

        memset(host, 'a', sizeof(host) - 1);
        host[sizeof(host) - 1] = '\0';
        cr_assert_eq(asprintf(&url, "http://%s/", host), (int) strlen(host) + 8);
        expect_bad(url, "host is over");
        free(url);
        host[POD_ENDPOINT_HOST_MAX] = '\0';
        cr_assert_eq(asprintf(&url, "http://%s/", host), (int) strlen(host) + 8);
        expect_ok(url, false, host, 80, "/");
        free(url);
        url = malloc(n + 1);
        memcpy(url, "http://h/", 9);
        memset(url + 9, 'p', n - 9);
        url[n] = '\0';
        expect_bad(url, "over 2048 bytes");
        url[n - 1] = '\0';
        expect_ok(url, false, "h", 80, url + 8);
        free(url);
}
