/* SPDX-License-Identifier: MIT */
/* Fuzz target: the endpoint URL parser; a parsed endpoint prints back to an equal one. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "manifest/manifest.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        char *text = str_from_mem(data, size);
        pod_endpoint e, again;
        char *url = NULL;
        bool v6;

        if (!text)
                return 0;
        if (endpoint_parse(&e, text, NULL) == 0) {
                if (!e.host || !*e.host || e.port == 0 || !e.path)
                        abort();
                v6 = strchr(e.host, ':') != NULL;
                if (asprintf(&url, "%s://%s%s%s:%u%s", e.tls ? "https" : "http", v6 ? "[" : "",
                             e.host, v6 ? "]" : "", e.port, e.path) < 0)
                        abort();
                if (strlen(url) <= POD_ENDPOINT_MAX) { /* the explicit port may not fit */
                        if (endpoint_parse(&again, url, NULL) != 0 || again.port != e.port ||
                            strcmp(again.host, e.host) != 0 || strcmp(again.path, e.path) != 0)
                                abort();
                        endpoint_done(&again);
                }
                endpoint_done(&e);
                free(url);
        }
        if (endpoint_port(text) < 0 || endpoint_port(text) > 65535)
                abort();
        free(text);
        return 0;
}
