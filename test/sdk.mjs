// sdk.mjs: build/hello against the official MCP TypeScript SDK client, over Streamable HTTP
// and over stdio, with exact expected results.
//
//   . test/node.sh && "$NODE22" test/sdk.mjs build/hello
//
// Prints "ok - NAME" or "not ok - NAME: got ... want ..." per assertion, then
// "# N passed, M failed"; exits 1 on any failure. Every step is bounded in time.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { isDeepStrictEqual } from 'node:util';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';

const REQUEST_MS = 5000;    // one MCP request
const START_MS = 10000;     // the HTTP server accepting connections
const TOTAL_MS = 90000;     // the whole run

if (process.argv.length < 3) {
    console.error('usage: node test/sdk.mjs BINARY   (e.g. build/hello)');
    process.exit(2);
}
const BINARY = path.resolve(process.argv[2]);

let passed = 0, failed = 0;
const children = new Set();   // server processes this script started

function ok(name) { passed++; console.log(`ok - ${name}`); }
function notOk(name, why) { failed++; console.log(`not ok - ${name}: ${why}`); }
const show = v => v === undefined ? 'undefined' : JSON.stringify(v);

function finish() {
    console.log(`# ${passed} passed, ${failed} failed`);
    for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
    process.exit(failed ? 1 : 0);
}

// The watchdog: whatever hangs, the run ends.
setTimeout(() => {
    notOk('whole run finishes', `still running after ${TOTAL_MS} ms`);
    finish();
}, TOTAL_MS);
process.on('exit', () => { for (const c of children) if (c.exitCode === null) c.kill('SIGKILL'); });
for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP']) process.on(sig, () => process.exit(1));

function withTimeout(promise, ms, what) {
    let timer;
    return Promise.race([
        promise,
        new Promise((_, reject) => { timer = setTimeout(() => reject(new Error(`${what}: no answer within ${ms} ms`)), ms); }),
    ]).finally(() => clearTimeout(timer));
}

// expectResult(name, () => promise, want): the promise resolves to exactly want.
async function expectResult(name, fn, want) {
    let got;
    try {
        got = await withTimeout(fn(), REQUEST_MS + 1000, name);
    } catch (e) {
        return notOk(name, `got error ${errorText(e)}, want ${show(want)}`);
    }
    if (isDeepStrictEqual(got, want)) ok(name);
    else notOk(name, `got ${show(got)}, want ${show(want)}`);
}

// The JSON-RPC error an McpError carries: {code, message, data}. The SDK prefixes the
// server's message with "MCP error CODE: "; take that off to compare what was sent.
function rpcError(e) {
    const prefix = `MCP error ${e.code}: `;
    const message = typeof e.message === 'string' && e.message.startsWith(prefix) ? e.message.slice(prefix.length) : e.message;
    const err = { code: e.code, message };
    if (e.data !== undefined) err.data = e.data;
    return err;
}
function errorText(e) {
    return typeof e?.code === 'number' ? `JSON-RPC error ${show(rpcError(e))}` : String(e?.message || e);
}

// expectError(name, () => promise, want): the promise rejects with exactly the JSON-RPC
// error want ({code, message[, data]}).
async function expectError(name, fn, want) {
    let got;
    try {
        got = await withTimeout(fn(), REQUEST_MS + 1000, name);
    } catch (e) {
        if (typeof e?.code !== 'number') return notOk(name, `got ${errorText(e)}, want JSON-RPC error ${show(want)}`);
        const err = rpcError(e);
        if (isDeepStrictEqual(err, want)) return ok(name);
        return notOk(name, `got JSON-RPC error ${show(err)}, want ${show(want)}`);
    }
    notOk(name, `got result ${show(got)}, want JSON-RPC error ${show(want)}`);
}

/*=== What build/hello serves ===*/

const TOOLS = {
    tools: [
        {
            name: 'add',
            description: 'Add two numbers',
            inputSchema: {
                type: 'object',
                properties: { a: { type: 'number' }, b: { type: 'number' } },
                required: ['a', 'b'],
            },
        },
        {
            name: 'greet',
            description: 'Greet someone by name',
            inputSchema: { type: 'object', properties: { name: { type: 'string' } } },
        },
    ],
};
const text = t => ({ content: [{ type: 'text', text: t }] });
const README = 'hello is a demo server: tools add and greet, this resource, one prompt.';

async function suite(label, transport) {
    const t = name => `${label}: ${name}`;
    const opts = { timeout: REQUEST_MS };
    const client = new Client({ name: 'mcp.c-sdk-test', version: '1.0.0' });
    const transportErrors = [];
    client.onerror = e => transportErrors.push(String(e?.message || e));
    try {
        await withTimeout(client.connect(transport, opts), REQUEST_MS + 1000, 'connect');
        ok(t('connect (initialize handshake)'));
    } catch (e) {
        notOk(t('connect (initialize handshake)'), errorText(e));
        await client.close().catch(() => {});
        return;
    }

    const info = client.getServerVersion();
    if (isDeepStrictEqual(info, { name: 'hello', version: '1.0.0' })) ok(t('serverInfo'));
    else notOk(t('serverInfo'), `got ${show(info)}, want {"name":"hello","version":"1.0.0"}`);
    const caps = client.getServerCapabilities() ?? {};
    const missing = ['tools', 'resources', 'prompts'].filter(k => typeof caps[k] !== 'object');
    if (!missing.length) ok(t('capabilities include tools, resources, prompts'));
    else notOk(t('capabilities include tools, resources, prompts'), `got ${show(caps)}, missing ${missing.join(', ')}`);

    await expectResult(t('ping'), () => client.ping(opts), {});
    await expectResult(t('listTools'), () => client.listTools({}, opts), TOOLS);
    await expectResult(t('callTool add {a:2,b:3}'),
        () => client.callTool({ name: 'add', arguments: { a: 2, b: 3 } }, undefined, opts), text('5'));
    await expectResult(t('callTool greet {name:"Ada"}'),
        () => client.callTool({ name: 'greet', arguments: { name: 'Ada' } }, undefined, opts), text('Hello, Ada!'));
    await expectResult(t('callTool greet {} (no name)'),
        () => client.callTool({ name: 'greet', arguments: {} }, undefined, opts), text('Hello, world!'));
    await expectResult(t('callTool add {a:"x",b:3} is a tool error'),
        () => client.callTool({ name: 'add', arguments: { a: 'x', b: 3 } }, undefined, opts),
        { ...text('Invalid arguments for tool add: a: expected number, got string'), isError: true });
    await expectResult(t('callTool add {a:1} (b missing) is a tool error'),
        () => client.callTool({ name: 'add', arguments: { a: 1 } }, undefined, opts),
        { ...text('Invalid arguments for tool add: b: required property is missing'), isError: true });
    await expectError(t('callTool of an unknown tool is JSON-RPC error -32602'),
        () => client.callTool({ name: 'no_such_tool', arguments: {} }, undefined, opts),
        { code: -32602, message: 'Unknown tool: no_such_tool' });

    await expectResult(t('listResources'), () => client.listResources({}, opts), {
        resources: [{ name: 'readme', uri: 'hello://readme', description: 'What this server offers', mimeType: 'text/plain' }],
    });
    await expectResult(t('readResource hello://readme'), () => client.readResource({ uri: 'hello://readme' }, opts), {
        contents: [{ uri: 'hello://readme', mimeType: 'text/plain', text: README }],
    });
    await expectResult(t('readResource hello://users/42 (template)'),
        () => client.readResource({ uri: 'hello://users/42' }, opts), {
            contents: [{ uri: 'hello://users/42', mimeType: 'application/json', text: '{"user":"42"}' }],
        });
    await expectError(t('readResource of an unknown URI is JSON-RPC error -32002'),
        () => client.readResource({ uri: 'hello://nothing-here' }, opts),
        { code: -32002, message: 'Resource not found: hello://nothing-here', data: { uri: 'hello://nothing-here' } });
    await expectResult(t('listResourceTemplates'), () => client.listResourceTemplates({}, opts), {
        resourceTemplates: [{ name: 'user', uriTemplate: 'hello://users/{id}', description: "A user's profile", mimeType: 'application/json' }],
    });

    await expectResult(t('listPrompts'), () => client.listPrompts({}, opts), {
        prompts: [{
            name: 'review',
            description: 'Ask for a code review',
            arguments: [{ name: 'code', required: true }, { name: 'language', required: false }],
        }],
    });
    await expectResult(t('getPrompt review {code, language}'),
        () => client.getPrompt({ name: 'review', arguments: { code: 'print(1)', language: 'python' } }, opts), {
            description: 'Ask for a code review',
            messages: [{ role: 'user', content: { type: 'text', text: 'Please review this python code:\nprint(1)' } }],
        });
    await expectError(t('getPrompt review without its required code is JSON-RPC error -32602'),
        () => client.getPrompt({ name: 'review', arguments: { language: 'python' } }, opts),
        { code: -32602, message: 'prompt review: missing required argument code' });

    if (transport instanceof StreamableHTTPClientTransport && transport.sessionId) {
        try {
            await withTimeout(transport.terminateSession(), REQUEST_MS, 'terminateSession');
            ok(t('terminateSession (DELETE)'));
        } catch (e) {
            notOk(t('terminateSession (DELETE)'), errorText(e));
        }
    }
    await withTimeout(client.close(), REQUEST_MS + 1000, 'close').catch(e => notOk(t('close'), errorText(e)));
    if (!transportErrors.length) ok(t('no transport errors reported by the SDK'));
    else notOk(t('no transport errors reported by the SDK'), transportErrors.join(' | '));
}

/*=== Starting servers ===*/

function freePort() {
    return new Promise((resolve, reject) => {
        const srv = net.createServer();
        srv.on('error', reject);
        srv.listen(0, '127.0.0.1', () => {
            const { port } = srv.address();
            srv.close(() => resolve(port));
        });
    });
}

function canConnect(port) {
    return new Promise(resolve => {
        const sock = net.connect({ host: '127.0.0.1', port });
        sock.setTimeout(500);
        sock.once('connect', () => { sock.destroy(); resolve(true); });
        sock.once('timeout', () => { sock.destroy(); resolve(false); });
        sock.once('error', () => resolve(false));
    });
}

// Start `BINARY serve --listen 127.0.0.1:PORT` on a free port and wait until it accepts
// connections. Retries with another port if the first one was taken in between.
async function startHttpServer() {
    let lastErr = '';
    for (let attempt = 0; attempt < 3; attempt++) {
        const port = await freePort();
        const child = spawn(BINARY, ['serve', '--listen', `127.0.0.1:${port}`], { stdio: ['ignore', 'pipe', 'pipe'] });
        children.add(child);
        let log = '';
        child.stdout.on('data', d => { log += d; });
        child.stderr.on('data', d => { log += d; });
        let spawnError = null;
        child.on('error', e => { spawnError = e; });
        const deadline = Date.now() + START_MS;
        while (Date.now() < deadline) {
            if (spawnError) return { error: `cannot run ${BINARY}: ${spawnError.message}` };
            if (child.exitCode !== null || child.signalCode !== null) break;
            if (await canConnect(port)) return { child, port, log: () => log };
            await new Promise(r => setTimeout(r, 50));
        }
        const exited = child.exitCode !== null || child.signalCode !== null;
        lastErr = exited
            ? `server exited (${child.exitCode ?? child.signalCode}): ${log.trim()}`
            : `server not accepting connections on 127.0.0.1:${port} after ${START_MS} ms: ${log.trim()}`;
        await stop(child);
        if (!exited) break; // only an exit (the port taken meanwhile) is worth another try
    }
    return { error: lastErr };
}

// Stop a server: SIGTERM, then SIGKILL after 3 s; never waits more than 5 s.
async function stop(child) {
    children.delete(child);
    if (child.pid === undefined || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise(r => child.once('exit', r));
    child.kill('SIGTERM');
    const t1 = setTimeout(() => child.kill('SIGKILL'), 3000);
    const t2 = new Promise(r => setTimeout(r, 5000).unref());
    await Promise.race([exited, t2]);
    clearTimeout(t1);
}

// stdio: a server whose stdin closes at once ends by itself, with status 0.
async function stdioEof() {
    const name = 'stdio: server exits 0 when stdin closes';
    const child = spawn(BINARY, ['stdio'], { stdio: ['pipe', 'ignore', 'pipe'] });
    children.add(child);
    let log = '';
    child.stderr.on('data', d => { log += d; });
    child.on('error', () => {});
    child.stdin.end();
    const status = await Promise.race([
        new Promise(r => child.once('exit', (code, sig) => r(sig ? `signal ${sig}` : code))),
        new Promise(r => setTimeout(() => r('timeout'), 5000)),
    ]);
    if (status === 0) ok(name);
    else notOk(name, `got ${status === 'timeout' ? 'still running after 5000 ms' : `exit ${status}`}, want exit 0${log.trim() ? ` (stderr: ${log.trim()})` : ''}`);
    await stop(child);
}

/*=== The run ===*/

try {
    fs.accessSync(BINARY, fs.constants.X_OK);
} catch (e) {
    notOk('server binary is executable', `${BINARY}: ${e.message}`);
    finish();
}

const http = await startHttpServer();
if (http.error) {
    notOk('http: server starts', http.error);
} else {
    ok('http: server starts');
    const url = new URL(`http://127.0.0.1:${http.port}/mcp`);
    await suite('http', new StreamableHTTPClientTransport(url));
    if (http.child.exitCode !== null || http.child.signalCode !== null)
        notOk('http: server still running after the session', `exited (${http.child.exitCode ?? http.child.signalCode}): ${http.log().trim()}`);
    else ok('http: server still running after the session');
    await stop(http.child);
}

const stdio = new StdioClientTransport({ command: BINARY, args: ['stdio'], stderr: 'pipe' });
let stdioLog = '';
stdio.stderr?.on('data', d => { stdioLog += d; });
await suite('stdio', stdio);
if (failed && stdioLog.trim()) console.log(stdioLog.trim().split('\n').map(l => `# stdio server stderr: ${l}`).join('\n'));
await stdioEof();

finish();
