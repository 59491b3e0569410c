// SPDX-License-Identifier: MIT
// The mock model server's streams, read by the official clients: each wire is streamed
// through its SDK with tool calls, and the SDK must assemble the text, tool calls and usage
// the script says; the SDK's error classes must see the fault statuses.
//
//   POD_NPM_PREFIX=build/npm node --test tests/mock/validate/validate.mjs
//
// (tests/mock/validate/run.sh installs the SDKs and skips with a reason when it cannot.)
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import { existsSync, mkdtempSync, writeFileSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const prefix = process.env.POD_NPM_PREFIX;
assert.ok(prefix, 'POD_NPM_PREFIX names the npm prefix holding the SDKs');
const require = createRequire(join(resolve(prefix), 'node_modules', 'x.js'));
const Anthropic = require('@anthropic-ai/sdk').default ?? require('@anthropic-ai/sdk');
const OpenAI = require('openai').default ?? require('openai');
const MOCK = join(dirname(fileURLToPath(import.meta.url)), '..', 'mockmodel.py');
const PYTHON = process.env.PYTHON || (existsSync('/usr/bin/python3') ? '/usr/bin/python3' : 'python3');
const KEY = 'sk-validate-not-a-key';

// Start the mock on a script; returns {port, log(), stop()}.
async function startMock(script) {
    const dir = mkdtempSync(join(tmpdir(), 'pod-mock-validate-'));
    writeFileSync(join(dir, 'script.json'), JSON.stringify(script));
    const child = spawn(PYTHON, [MOCK, '--script', join(dir, 'script.json'),
        '--log', join(dir, 'log.jsonl')], { stdio: ['ignore', 'pipe', 'inherit'] });
    const port = await new Promise((resolve, reject) => {
        let out = '';
        child.stdout.on('data', (d) => {
            out += d;
            const m = /^PORT (\d+)\n/.exec(out);
            if (m) resolve(Number(m[1]));
        });
        child.on('exit', (code) => reject(new Error(`mockmodel exited ${code}`)));
    });
    return {
        port,
        log: () => readFileSync(join(dir, 'log.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l)),
        stop: () => { child.kill('SIGTERM'); rmSync(dir, { recursive: true, force: true }); },
    };
}

const anthropic = (port, opts = {}) =>
    new Anthropic({ apiKey: KEY, baseURL: `http://127.0.0.1:${port}`, maxRetries: 0, ...opts });
const openai = (port, opts = {}) =>
    new OpenAI({ apiKey: KEY, baseURL: `http://127.0.0.1:${port}/v1`, maxRetries: 0, ...opts });

const BASH = { name: 'Bash', description: 'Run a command', schema: {
    type: 'object', properties: { command: { type: 'string' } }, required: ['command'] } };
const SCRIPT = {
    turns: [
        { say: 'Running it. ', thinking: 'Let me think: ünïcödé → 🚀.',
          call: [{ tool: 'Bash', input: { command: 'echo "a\\nb" | wc -l' } },
                 { tool: 'Bash', input: {} }] },
        { say: 'The output was: {{last_tool_result}}' },
    ],
    usage: { input_tokens: 1200, output_tokens: 345, cache_read_tokens: 1000, cache_write_tokens: 77 },
    ping: true,
};

test('anthropic: messages.stream assembles thinking, text, tool_use input and usage', async () => {
    const m = await startMock(SCRIPT);
    try {
        const client = anthropic(m.port);
        const tools = [{ name: BASH.name, description: BASH.description, input_schema: BASH.schema }];
        const messages = [{ role: 'user', content: 'go' }];
        let deltas = 0;
        const stream = client.messages.stream({ model: 'claude-mock', max_tokens: 1024, messages, tools,
            thinking: { type: 'enabled', budget_tokens: 1024 } });
        stream.on('text', () => deltas++);
        const msg = await stream.finalMessage();
        assert.equal(msg.stop_reason, 'tool_use');
        assert.deepEqual(msg.content.map((b) => b.type), ['thinking', 'text', 'tool_use', 'tool_use']);
        assert.equal(msg.content[0].thinking, 'Let me think: ünïcödé → 🚀.');
        assert.ok(msg.content[0].signature.length > 0);
        assert.equal(msg.content[1].text, 'Running it. ');
        assert.deepEqual(msg.content[2].input, { command: 'echo "a\\nb" | wc -l' });
        assert.deepEqual(msg.content[3].input, {});
        assert.notEqual(msg.content[2].id, msg.content[3].id);
        assert.ok(deltas >= 2, 'the text arrives in more than one delta');
        // The API's input_tokens leave out the cache write (the script's 1200 include it).
        assert.deepEqual(msg.usage, { ...msg.usage, input_tokens: 1123, output_tokens: 345,
            cache_read_input_tokens: 1000, cache_creation_input_tokens: 77 });

        messages.push({ role: 'assistant', content: msg.content });
        messages.push({ role: 'user', content: [
            { type: 'tool_result', tool_use_id: msg.content[2].id, content: '2\n' },
            { type: 'tool_result', tool_use_id: msg.content[3].id, content: [{ type: 'text', text: 'REAL-OUTPUT' }] }] });
        const final = await client.messages.stream({ model: 'claude-mock', max_tokens: 1024, messages, tools }).finalMessage();
        assert.equal(final.stop_reason, 'end_turn');
        assert.equal(final.content[0].text, 'The output was: REAL-OUTPUT');
        const log = m.log();
        assert.equal(log.length, 2);
        // The key travels in x-api-key (or, from this SDK version on, as a bearer token).
        const h = log[0].headers;
        assert.ok(h['x-api-key'] === KEY || h.authorization === `Bearer ${KEY}`, 'the key was sent');
        assert.equal(log[0].body.tools[0].name, 'Bash');
    } finally {
        m.stop();
    }
});

test('chat: chat.completions.stream assembles text, tool_calls by index and usage', async () => {
    const m = await startMock(SCRIPT);
    try {
        const client = openai(m.port);
        const tools = [{ type: 'function', function: { name: BASH.name, description: BASH.description,
            parameters: BASH.schema } }];
        const messages = [{ role: 'user', content: 'go' }];
        const stream = client.chat.completions.stream({ model: 'gpt-mock', messages, tools,
            stream_options: { include_usage: true } });
        let chunks = 0;
        stream.on('chunk', () => chunks++);
        const done = await stream.finalChatCompletion();
        const choice = done.choices[0];
        assert.equal(choice.finish_reason, 'tool_calls');
        assert.equal(choice.message.content, 'Running it. ');
        const calls = choice.message.tool_calls;
        assert.equal(calls.length, 2);
        assert.equal(calls[0].function.name, 'Bash');
        assert.deepEqual(JSON.parse(calls[0].function.arguments), { command: 'echo "a\\nb" | wc -l' });
        assert.deepEqual(JSON.parse(calls[1].function.arguments), {});
        assert.ok(chunks > 4, 'the answer arrives in many chunks');
        assert.equal(done.usage.prompt_tokens, 2200);
        assert.equal(done.usage.completion_tokens, 345);
        assert.equal(done.usage.prompt_tokens_details.cached_tokens, 1000);

        messages.push(choice.message);
        messages.push({ role: 'tool', tool_call_id: calls[0].id, content: '2\n' });
        messages.push({ role: 'tool', tool_call_id: calls[1].id, content: 'REAL-OUTPUT' });
        const final = await client.chat.completions.stream({ model: 'gpt-mock', messages, tools }).finalChatCompletion();
        assert.equal(final.choices[0].message.content, 'The output was: REAL-OUTPUT');
        assert.equal(final.choices[0].finish_reason, 'stop');
        const log = m.log();
        assert.equal(log[0].headers.authorization, `Bearer ${KEY}`);
        assert.equal(log[0].body.stream_options.include_usage, true);
    } finally {
        m.stop();
    }
});

test('responses: responses.stream assembles reasoning, message, function calls and usage', async () => {
    const m = await startMock(SCRIPT);
    try {
        const client = openai(m.port);
        const tools = [{ type: 'function', name: BASH.name, description: BASH.description,
            parameters: BASH.schema, strict: false }];
        const input = [{ role: 'user', content: 'go' }];
        const stream = client.responses.stream({ model: 'gpt-mock', input, tools });
        let argDeltas = 0;
        stream.on('response.function_call_arguments.delta', () => argDeltas++);
        const resp = await stream.finalResponse();
        assert.equal(resp.status, 'completed');
        assert.deepEqual(resp.output.map((i) => i.type), ['reasoning', 'message', 'function_call', 'function_call']);
        assert.equal(resp.output[0].summary[0].text, 'Let me think: ünïcödé → 🚀.');
        assert.equal(resp.output_text, 'Running it. ');
        assert.deepEqual(JSON.parse(resp.output[2].arguments), { command: 'echo "a\\nb" | wc -l' });
        assert.equal(resp.output[2].name, 'Bash');
        assert.ok(argDeltas > 2, 'the arguments arrive in deltas');
        assert.equal(resp.usage.input_tokens, 2200);
        assert.equal(resp.usage.output_tokens, 345);
        assert.equal(resp.usage.input_tokens_details.cached_tokens, 1000);

        for (const item of resp.output) input.push(item);
        input.push({ type: 'function_call_output', call_id: resp.output[2].call_id, output: '2\n' });
        input.push({ type: 'function_call_output', call_id: resp.output[3].call_id, output: 'REAL-OUTPUT' });
        const final = await client.responses.stream({ model: 'gpt-mock', input, tools }).finalResponse();
        assert.equal(final.output_text, 'The output was: REAL-OUTPUT');
    } finally {
        m.stop();
    }
});

// Each status in each wire's shape reaches the SDK as its own error class, message intact.
const STATUSES = [
    [400, 'BadRequestError', {}, /messages|Invalid value/],
    [400, 'BadRequestError', { error: 'context_length' }, /prompt is too long|context/],
    [401, 'AuthenticationError', {}, /x-api-key|API key/],
    [403, 'PermissionDeniedError', {}, /permission|not supported/],
    [404, 'NotFoundError', {}, /mock-404/],
    [408, 'APIError', {}, /timed out/],
    [409, 'ConflictError', {}, /Conflict/],
    [429, 'RateLimitError', {}, /rate limit|Rate limit/],
    [500, 'InternalServerError', {}, /error/i],
    [503, 'InternalServerError', {}, /unavailable|overloaded/],
    [529, 'InternalServerError', {}, /Overloaded|overloaded/],
];

const WIRES = {
    anthropic: (port) => anthropic(port).messages.stream({ model: 'mock-404', max_tokens: 64,
        messages: [{ role: 'user', content: 'x' }] }).finalMessage(),
    chat: (port) => openai(port).chat.completions.stream({ model: 'mock-404',
        messages: [{ role: 'user', content: 'x' }] }).finalChatCompletion(),
    responses: (port) => openai(port).responses.stream({ model: 'mock-404', input: 'x' }).finalResponse(),
};

for (const [wire, call] of Object.entries(WIRES)) {
    test(`${wire}: the SDK's error classes see every fault status`, async () => {
        const faults = STATUSES.map(([status, , extra], i) => ({ request: i, status, ...extra }));
        const m = await startMock({ turns: [{ say: 'ok' }], faults });
        try {
            for (const [status, cls, , re] of STATUSES) {
                const SDK = wire === 'anthropic' ? Anthropic : OpenAI;
                await assert.rejects(call(m.port), (e) => {
                    assert.equal(e.status, status);
                    assert.ok(e instanceof SDK[cls], `${status}: ${e.constructor.name}, want ${cls}`);
                    assert.match(e.message, re);
                    return true;
                });
            }
        } finally {
            m.stop();
        }
    });

    test(`${wire}: the SDK retries 429 and 529 with retry-after, then succeeds`, async () => {
        const m = await startMock({ turns: [{ say: 'after retries' }],
            faults: [{ request: 0, status: 429, retry_after: 0 }, { request: 1, status: 529, retry_after_ms: 10 }] });
        try {
            const opts = { maxRetries: 2 };
            const port = m.port;
            const r = wire === 'anthropic'
                ? await anthropic(port, opts).messages.stream({ model: 'm', max_tokens: 64,
                    messages: [{ role: 'user', content: 'x' }] }).finalMessage()
                : wire === 'chat'
                    ? await openai(port, opts).chat.completions.stream({ model: 'm',
                        messages: [{ role: 'user', content: 'x' }] }).finalChatCompletion()
                    : await openai(port, opts).responses.stream({ model: 'm', input: 'x' }).finalResponse();
            const text = r.content?.[0]?.text ?? r.choices?.[0]?.message?.content ?? r.output_text;
            assert.equal(text, 'after retries');
            assert.equal(m.log().length, 3);
        } finally {
            m.stop();
        }
    });

    test(`${wire}: an overload inside a 200 stream, a cut connection and invalid JSON are errors`, async () => {
        const m = await startMock({ turns: [{ say: 'never seen whole, this text is long enough to cut' }],
            faults: [{ request: 0, kind: 'overload' }, { request: 1, kind: 'close', after_bytes: 400 },
                { request: 2, kind: 'invalid_json' }] });
        try {
            if (wire === 'responses') {
                // The Responses API reports a failure as a terminal `response.failed` event: the
                // SDK resolves with that failed response.
                const r = await call(m.port);
                assert.equal(r.status, 'failed');
                assert.equal(r.error.code, 'server_is_overloaded');
            } else {
                await assert.rejects(call(m.port), /overloaded|Overloaded/, 'overload');
            }
            await assert.rejects(call(m.port), undefined, 'connection closed mid-stream');
            await assert.rejects(call(m.port), undefined, 'invalid JSON');
        } finally {
            m.stop();
        }
    });
}
