/* SPDX-License-Identifier: MIT */
/* Fuzz target: the SSE parser, the input fed in two chunks cut where its first byte says. */
#include <stdint.h>

#include "llm/llm-internal.h"

static int count(void *ud, const char *event, const char *data, size_t len, pod_error *err) {
        (void) event;
        (void) data;
        (void) err;
        *(size_t *) ud += len;
        return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        size_t split, total = 0;
        sse_parser p;

        if (size == 0)
                return 0;
        split = data[0] % size;
        sse_init(&p, count, &total);
        if (sse_feed(&p, (const char *) data + 1, split, NULL) == 0)
                sse_feed(&p, (const char *) data + 1 + split, size - 1 - split, NULL);
        sse_done(&p);
        return 0;
}
