// SPDX-License-Identifier: MIT
// The official MCP TypeScript SDK as a client of `pod mcp` (tests/e2e/test-mcp-sdk-cli.c).
// Usage: node client.mjs v1|v2 PREFIX POD PROJECT
//   v1: @modelcontextprotocol/sdk 1.x, the initialize-based revision (2025-11-25)
//   v2: @modelcontextprotocol/client 2.x, negotiating (server/discover, 2026-07-28)
// It connects, lists the tools, spawns a script-model child that writes inside its lease,
// waits for it, gets an isError result for a scope beyond the grant, and disconnects.
// It prints one line per check and exits 1 on the first that fails.
import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';

const [mode, prefix, pod, project] = process.argv.slice(2);
const require = createRequire(prefix + '/package.json');

async function load(name) {
        return import(pathToFileURL(require.resolve(name)).href);
}

function check(ok, what, detail) {
        if (!ok) {
                console.log(`FAIL ${what}: ${detail === undefined ? '' : JSON.stringify(detail)}`);
                process.exit(1);
        }
        console.log(`ok ${what}`);
}

async function connect() {
        const params = { command: pod, args: ['mcp', '--scope', 'write:.'], cwd: project,
                         env: process.env, stderr: 'inherit' };
        if (mode === 'v1') {
                const { Client } = await load('@modelcontextprotocol/sdk/client/index.js');
                const { StdioClientTransport } = await load('@modelcontextprotocol/sdk/client/stdio.js');
                const client = new Client({ name: 'pod-test', version: '1.0.0' });
                await client.connect(new StdioClientTransport(params));
                return client;
        }
        const { Client } = await load('@modelcontextprotocol/client');
        const { StdioClientTransport } = await load('@modelcontextprotocol/client/stdio');
        const client = new Client({ name: 'pod-test', version: '2.0.0' },
                                  { versionNegotiation: { mode: 'auto' } });
        await client.connect(new StdioClientTransport(params));
        return client;
}

const text = (r) => (r.content && r.content[0] && r.content[0].text) || '';

const client = await connect();
const version = client.getNegotiatedProtocolVersion ? client.getNegotiatedProtocolVersion() : null;
if (mode === 'v2')
        check(version === '2026-07-28', 'the current revision is negotiated', version);
check(client.getServerVersion().name === 'pod', 'the server is pod', client.getServerVersion());

const { tools } = await client.listTools();
const names = tools.map((t) => t.name);
check(JSON.stringify(names) ===
              JSON.stringify(['SpawnPod', 'SendToPod', 'WaitPod', 'ReadPodOutput', 'ListPods', 'StopPod']),
      'tools/list gives the pod tools', names);
check(tools[0].inputSchema.required.includes('scope'), 'SpawnPod has its schema', tools[0].inputSchema);

let r = await client.callTool({ name: 'SpawnPod', arguments: {
        name: `sdk-${mode}`, task: 'code', profile: 'project:kid',
        scope: [{ path: `${project}/src`, access: 'write' }] } });
check(!r.isError && text(r).includes(`Started pod 'sdk-${mode}'`), 'SpawnPod starts a child', r);

r = await client.callTool({ name: 'WaitPod', arguments: { timeout_s: 60 } });
check(!r.isError && text(r).includes('kid done'), 'WaitPod returns its answer', r);

r = await client.callTool({ name: 'SpawnPod', arguments: {
        name: `far-${mode}`, task: 'look', profile: 'project:kid',
        scope: [{ path: '/etc', access: 'read' }] } });
check(r.isError === true && text(r).includes('refused'), 'a scope beyond the grant is an isError result', r);

await client.close();
console.log('done');
