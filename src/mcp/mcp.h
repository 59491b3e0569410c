/* SPDX-License-Identifier: MIT */
#pragma once

/*
 * mcp: the MCP server over stdio (DESIGN §17): rpc's codec over stdin/stdout, the tools of
 * src/tools and the pod tools of src/pod, so any MCP client can spawn kernel-confined child
 * pods. Empty until its issue; the module, its header and its library exist so that the
 * layout (DESIGN §2) and its lint hold from now on.
 */

#include "pod/pod.h"

/* The version of the MCP server's protocol support; 0: not implemented yet. */
int mcp_version(void);
