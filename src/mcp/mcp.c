/* SPDX-License-Identifier: MIT */
/* The MCP server (DESIGN §17): nothing yet beyond its place in the layout. */
#include "mcp.h"

int mcp_version(void) {
        return 0;
}
