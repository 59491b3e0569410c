/* SPDX-License-Identifier: MIT */
/*
 * Fuzz target: the bound MCP server's reading of mcp.in (llm_mcp_lines, src/llm/delegate-mcp.c),
 * what a relay, or any process of a delegate's CLI, writes into the FIFO. The input is fed in
 * chunks cut where its first byte says, with a small line limit so long lines are skipped too.
 */
#include <stdint.h>
#include <string.h>

#include "llm/llm-internal.h"

typedef struct tally {
        size_t lines, sessions;
} tally;

static int on_line(void *ud, const char *line, size_t len, bool too_large) {
        tally *t = ud;

        if (!too_large && (len > 64 || memchr(line, '\n', len) || memchr(line, '\0', len)))
                __builtin_trap(); /* a line is bounded and holds neither end nor hello */
        t->lines++;
        return 0;
}

static void on_session(void *ud, const char *token, size_t len) {
        if (token ? len > LLM_MCP_TOKEN_MAX || memchr(token, '\n', len) : len != 0)
                __builtin_trap();
        ((tally *) ud)->sessions++;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        llm_mcp_lines l = { .max = 64 };
        tally t = { 0 };
        llm_mcp_lines_ops ops = { .line = on_line, .session = on_session, .ud = &t };
        size_t step;

        if (size == 0)
                return 0;
        step = data[0] % 16 + 1;
        data++;
        size--;
        for (size_t off = 0; off < size; off += step) {
                size_t n = size - off < step ? size - off : step;
                if (llm_mcp_lines_feed(&l, (const char *) data + off, n, &ops) < 0)
                        break;
                if (data[off] == 0xff)
                        llm_mcp_lines_reset(&l); /* the relay left */
        }
        llm_mcp_lines_done(&l);
        return 0;
}
