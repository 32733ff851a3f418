// test.mjs: `BINARY proxy URL --sigv4 --region R` end to end: MCP over stdio in, SigV4-signed
// Streamable HTTP out, through a verifying front (front.mjs: an AWS_IAM function URL whose
// signature check is @smithy/signature-v4, not mcp.c) and the Lambda gateway of
// test/lambda/gateway.mjs running BINARY itself as the function.
//
//   node test/proxy/test.mjs BINARY [CONFORMANCE_BINARY]     (normally via test/proxy/run.sh)
//
// Prints "ok - NAME" / "not ok - NAME: WHY" per check, each followed by "# N ms" (its time), and
// "# N passed, M failed"; exits 1 on any failure. Every check and the whole run are bounded.

import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import net from 'node:net';
import http from 'node:http';
import { isDeepStrictEqual } from 'node:util';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { startStack } from '../lambda/gateway.mjs';
import { startFront, verifySigV4, MISMATCH } from './front.mjs';

if (process.argv.length < 3) { console.error('usage: node test/proxy/test.mjs BINARY [CONFORMANCE_BINARY]'); process.exit(2); }
const BINARY = path.resolve(process.argv[2]);
const CONFORMANCE = process.argv[3] ? path.resolve(process.argv[3]) : path.join(path.dirname(BINARY), 'conformance');
const TOTAL_MS = Number(process.env.PROXY_TEST_TOTAL_MS || 240000);
const SANITIZED = (() => { try { return /__asan_init|__ubsan_handle/.test(fs.readFileSync(BINARY, 'latin1')); } catch { return false; } })();
const SLOW = SANITIZED ? 4 : 1;

const REGION = 'us-east-1';
const V26 = '2026-07-28';
const META26 = { 'io.modelcontextprotocol/protocolVersion': V26, 'io.modelcontextprotocol/clientCapabilities': {} };
// the test's credentials: the front knows the secrets, the proxy gets them from env or a profile
const ENV_KEY = { id: 'AKIDPROXYENVTEST01', secret: 'env/Secret+Key=0123456789abcdefEXAMPLE' };
const PROFILE_KEY = { id: 'ASIAPROXYPROFILE02', secret: 'profile/Secret+Key=fedcba9876543210EXAMPLE', token: 'IQoJb3JpZ2luX2VjEXAMPLE//session+token/with=padding==' + 'x'.repeat(300) };
const CONFIG_KEY = { id: 'AKIDPROXYCONFIG003', secret: 'config-only-secret-EXAMPLE' };
const KEYS = {
  [ENV_KEY.id]: { secret: ENV_KEY.secret },
  [PROFILE_KEY.id]: { secret: PROFILE_KEY.secret, token: PROFILE_KEY.token },
  [CONFIG_KEY.id]: { secret: CONFIG_KEY.secret },
};

// ---------------------------------------------------------------------------------------------
// harness
let passed = 0, failed = 0;
const cleanups = new Set();
const children = new Set();
const show = (v) => { const s = v === undefined ? 'undefined' : JSON.stringify(v); return s.length > 700 ? s.slice(0, 700) + '...' : s; };
class Fail extends Error {}
function assert(cond, msg) { if (!cond) throw new Fail(typeof msg === 'function' ? msg() : msg); }
function eq(got, want, what) { if (!isDeepStrictEqual(got, want)) throw new Fail(`${what}: got ${show(got)}, want ${show(want)}`); }
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
function within(p, ms, what) {
  let t;
  return Promise.race([p, new Promise((_, rej) => { t = setTimeout(() => rej(new Fail(`${what}: nothing within ${ms} ms`)), ms); })]).finally(() => clearTimeout(t));
}

async function finish() {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  for (const c of [...cleanups]) { try { await within(c(), 5000, 'cleanup'); } catch {} }
  console.log(`# ${passed} passed, ${failed} failed${SANITIZED ? ' (sanitized build)' : ''}`);
  process.exit(failed ? 1 : 0);
}
setTimeout(() => { failed++; console.log(`not ok - the whole run finishes: still running after ${TOTAL_MS} ms`); finish(); }, TOTAL_MS).unref();
for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP']) process.on(sig, () => { failed++; console.log(`not ok - interrupted by ${sig}`); finish(); });
process.on('exit', () => { for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL'); });

// sanitizer reports in any proxy's or function's output fail the test that was running
const SAN_RE = /(ERROR: (Address|Leak|Memory|Thread)Sanitizer[^\n]*|runtime error:[^\n]*)/;
const sanitizerReports = [];
function noteOutput(who, text) { const m = SAN_RE.exec(text || ''); if (m) sanitizerReports.push(`${who}: ${m[0]}`); }

const tests = [];
function test(name, fn, ms = 20000) { tests.push({ name, fn, ms: ms * SLOW }); }

// ---------------------------------------------------------------------------------------------
// fixtures

const TMP = fs.mkdtempSync(path.join(os.tmpdir(), 'mcp-proxy-test-'));
cleanups.add(async () => fs.rmSync(TMP, { recursive: true, force: true }));
const EMPTY_HOME = path.join(TMP, 'home-empty');
fs.mkdirSync(EMPTY_HOME);

/** The proxy's environment: nothing AWS from the outer world, HOME without ~/.aws. */
function baseEnv(extra = {}) {
  return { PATH: process.env.PATH || '/usr/bin:/bin', HOME: EMPTY_HOME, LANG: 'C', ...extra };
}
const envCreds = (k = ENV_KEY, extra = {}) => baseEnv({ AWS_ACCESS_KEY_ID: k.id, AWS_SECRET_ACCESS_KEY: k.secret, ...(k.token ? { AWS_SESSION_TOKEN: k.token } : {}), ...extra });
const proxyArgs = (url, extra = ['--sigv4', '--region', REGION]) => ['proxy', url, ...extra];

const stacks = {};
/** One gateway (function-URL shape) + verifying front per binary and mode, shared by the tests. */
async function stack(binary, stream = false) {
  const key = `${binary}|${stream}`;
  if (stacks[key]) return stacks[key];
  const st = await startStack({ binary, shape: 'url', stream, timeoutMs: 20000 * SLOW, env: { MCP_EMF: '0' }, log: () => {} });
  await st.emulator.waitForNext(1, 5000 * SLOW);
  const front = await startFront({ upstream: st.url, region: REGION, keys: KEYS });
  cleanups.add(async () => { await front.close(); await st.close(); });
  stacks[key] = { st, front };
  return stacks[key];
}
/** A fresh view of the front for one test: records cleared, no fault, the usual region. */
async function fresh(binary = BINARY, stream = false) {
  const s = await stack(binary, stream);
  s.front.records.length = 0;
  s.front.fault = null;
  s.front.region = REGION;
  return s;
}

/** A proxy driven by hand: newline-delimited JSON in and out. */
class RawProxy {
  constructor(args, env) {
    this.t0 = Date.now();
    this.proc = spawn(BINARY, args, { env, stdio: ['pipe', 'pipe', 'pipe'] });
    children.add(this.proc);
    this.lines = [];
    this.err = '';
    this.waiters = new Set();
    let pending = '';
    this.proc.stdout.on('data', (d) => {
      pending += d;
      let i;
      while ((i = pending.indexOf('\n')) >= 0) {
        const text = pending.slice(0, i);
        pending = pending.slice(i + 1);
        let json;
        try { json = JSON.parse(text); } catch { json = undefined; }
        this.lines.push({ at: Date.now() - this.t0, text, json });
        for (const w of this.waiters) w();
      }
    });
    this.proc.stderr.on('data', (d) => { this.err += d; });
    this.proc.stdin.on('error', () => {});
    this.exited = new Promise((r) => this.proc.once('close', (code, signal) => {
      noteOutput(`proxy ${args.slice(2).join(' ')}`, this.err);
      for (const w of this.waiters) w();
      r({ code, signal, at: Date.now() - this.t0 });
    }));
  }
  send(msg) { this.proc.stdin.write((typeof msg === 'string' ? msg : JSON.stringify(msg)) + '\n'); }
  /** The first line (from index `from`) whose JSON satisfies pred. */
  waitFor(pred, ms, what, from = 0) {
    return within(new Promise((resolve) => {
      const check = () => {
        const l = this.lines.slice(from).find((x) => x.json !== undefined && pred(x.json));
        if (l) { this.waiters.delete(check); resolve(l); }
      };
      this.waiters.add(check);
      check();
    }), ms, `${what} (stdout so far: ${show(this.lines.map((l) => l.text))}; stderr: ${show(this.err.slice(-300))})`);
  }
  response(id, ms = 10000 * SLOW) { return this.waitFor((j) => j.id === id && ('result' in j || 'error' in j), ms, `the answer to id ${id}`).then((l) => l.json); }
  /** End stdin and wait for the exit; SIGKILL after ms. */
  async close(ms = 5000 * SLOW) {
    this.proc.stdin.end();
    const r = await Promise.race([this.exited, sleep(ms).then(() => null)]);
    if (!r) { this.proc.kill('SIGKILL'); await this.exited; children.delete(this.proc); return { timeout: true }; }
    children.delete(this.proc);
    return r;
  }
}

const initialize = (id = 1) => ({ jsonrpc: '2.0', id, method: 'initialize', params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 'proxy-test', version: '1.0.0' } } });
const INITIALIZED = { jsonrpc: '2.0', method: 'notifications/initialized' };
const add = (id, a = 2, b = 3) => ({ jsonrpc: '2.0', id, method: 'tools/call', params: { name: 'add', arguments: { a, b } } });
/** A raw proxy that has done the initialize handshake. */
async function handshaken(url, env, args) {
  const p = new RawProxy(args || proxyArgs(url), env);
  p.send(initialize(1));
  const r = await p.response(1);
  assert(r.result?.serverInfo, () => `initialize: ${show(r)}`);
  p.send(INITIALIZED);
  return p;
}

const method = (r) => r.json?.method;
const header = (r, n) => r.headers[n.toLowerCase()];
function allVerified(records, caller, what = 'front') {
  const bad = records.filter((r) => !r.auth?.ok);
  assert(!bad.length, () => `${what}: ${bad.length} of ${records.length} requests failed verification: ${show(bad.map((r) => `${method(r)}: ${r.auth?.reason}`))}`);
  const others = records.filter((r) => r.caller !== caller);
  assert(!others.length, () => `${what}: callers ${show(others.map((r) => r.caller))}, want ${caller}`);
}

// ---------------------------------------------------------------------------------------------
// what build/hello serves (as in test/sdk.mjs)
const TOOLS = {
  tools: [
    { name: 'add', description: 'Add two numbers', inputSchema: { type: 'object', properties: { a: { type: 'number' }, b: { type: 'number' } }, required: ['a', 'b'] } },
    { name: 'greet', description: 'Greet someone by name', inputSchema: { type: 'object', properties: { name: { type: 'string' } } } },
  ],
};
const README = 'hello is a demo server: tools add and greet, this resource, one prompt.';
const text = (t) => ({ content: [{ type: 'text', text: t }] });

const opts = { timeout: 10000 * SLOW };

// ---------------------------------------------------------------------------------------------
// 1 + 2. the SDK client through the proxy, the verifying front and the gateway

// ---------------------------------------------------------------------------------------------
// 1. the verifying front itself

test('front: the verifier accepts the AWS SigV4 test-suite vectors (get-vanilla, post-vanilla, query order) and refuses a changed body', async () => {
  // aws-sig-v4-test-suite: AKIDEXAMPLE, us-east-1, service "service", 20150830T123600Z
  const keys = { AKIDEXAMPLE: { secret: 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY' } };
  const o = { keys, region: 'us-east-1', service: 'service', now: Date.UTC(2015, 7, 30, 12, 36, 0) };
  const req = (m, url, sig, body = '') => ({ method: m, url, body: Buffer.from(body), rawHeaders: ['Host', 'example.amazonaws.com', 'X-Amz-Date', '20150830T123600Z',
    'Authorization', `AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, SignedHeaders=host;x-amz-date, Signature=${sig}`] });
  const vectors = [['GET', '/', '5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31'],
    ['POST', '/', '5da7c1a2acd57cee7505fc6676e4e544621c30862966e37dddb68e92efbe5d6b'],
    ['GET', '/?Param2=value2&Param1=value1', 'b97d918cfa904a5beff61c982a1b6f458b799221646efd99d3219ec94cdf2500']];
  for (const [m, u, sig] of vectors) eq((await verifySigV4(req(m, u, sig), o)).ok, true, `${m} ${u}`);
  const bad = await verifySigV4(req('POST', '/', vectors[1][2], 'x'), o);
  eq([bad.ok, bad.message], [false, MISMATCH], 'post-vanilla with a body added');
  eq((await verifySigV4(req('GET', '/', vectors[0][2]), { ...o, now: Date.now() })).ok, false, 'a signature from 2015 today');
});

/** Send a recorded request again, with changes; resolves to {status, body}. */
function replay(front, rec, change = {}) {
  const raw = [];
  for (let i = 0; i < rec.rawHeaders.length; i += 2) {
    const k = rec.rawHeaders[i], lk = k.toLowerCase();
    if (lk === 'content-length' || lk === 'connection') continue;
    if (lk in (change.headers || {})) { if (change.headers[lk] !== null) raw.push(k, change.headers[lk]); continue; }
    raw.push(k, rec.rawHeaders[i + 1]);
  }
  const body = Buffer.from(change.body ?? rec.body);
  raw.push('Content-Length', String(body.length));
  return within(new Promise((resolve, reject) => {
    const rq = http.request({ host: '127.0.0.1', port: front.port, method: 'POST', path: change.path ?? rec.url, headers: raw }, (res) => {
      let b = '';
      res.on('data', (c) => { b += c; });
      res.on('end', () => resolve({ status: res.statusCode, body: b }));
    });
    rq.on('error', reject);
    rq.end(body);
  }), 10000, 'replay');
}

test('front: a proxy request (session token in AWS_SESSION_TOKEN) replayed as is passes; with its body, Mcp-Name, token, date or path altered it gets 403', async () => {
  const { front } = await fresh();
  const p = new RawProxy(proxyArgs(front.url), envCreds(PROFILE_KEY));
  try {
    p.send({ jsonrpc: '2.0', id: 'r1', method: 'tools/call', params: { name: 'add', arguments: { a: 2, b: 3 }, _meta: META26 } });
    eq((await p.response('r1')).result, { ...text('5'), resultType: 'complete' }, 'tools/call through the proxy');
  } finally { await p.close(); }
  const rec = front.records[0];
  allVerified([rec], PROFILE_KEY.id);
  eq(header(rec, 'x-amz-security-token'), PROFILE_KEY.token, 'X-Amz-Security-Token from AWS_SESSION_TOKEN');
  const same = await replay(front, rec);
  eq(same.status, 200, `replayed unchanged (${same.body})`);
  const cases = {
    'body (a: 2 -> 7)': { body: rec.body.replace('"a":2', '"a":7') },
    'Mcp-Name': { headers: { 'mcp-name': 'greet' } },
    'Content-Type': { headers: { 'content-type': 'text/plain' } },
    'X-Amz-Security-Token dropped': { headers: { 'x-amz-security-token': null } },
    'X-Amz-Date a second later': { headers: { 'x-amz-date': header(rec, 'x-amz-date').replace(/(\d)Z$/, (m, d) => `${(+d + 1) % 10}Z`) } },
    'path /mcp -> /mcp2': { path: '/mcp2' },
    'a query string added': { path: '/mcp?x=1' },
  };
  const got = {};
  for (const [what, ch] of Object.entries(cases)) {
    const r = await replay(front, rec, ch);
    got[what] = [r.status, (() => { try { return JSON.parse(r.body).Message !== undefined; } catch { return false; } })()];
  }
  eq(got, Object.fromEntries(Object.keys(cases).map((k) => [k, [403, true]])), 'altered replays: [status, has a Message]');
});

test('sdk: initialize, tools/list, tools/call add {a:2,b:3} = "5", resources/read, prompts/get through the front and the gateway, every request verified', async () => {
  const { front } = await fresh();
  const args = proxyArgs(front.url);
  const transport = new StdioClientTransport({ command: BINARY, args, env: envCreds(), stderr: 'pipe' });
  let stderr = '';
  transport.stderr?.on('data', (d) => { stderr += d; });
  const client = new Client({ name: 'proxy-sdk-test', version: '1.0.0' });
  const transportErrors = [];
  client.onerror = (e) => transportErrors.push(String(e?.message || e));
  const cleanup = async () => { await client.close().catch(() => {}); };
  cleanups.add(cleanup);
  let proc;
  try {
    await within(client.connect(transport, opts), 15000 * SLOW, 'connect');
    proc = transport._process;
    eq(client.getServerVersion(), { name: 'hello', version: '1.0.0' }, 'serverInfo');
    eq(await within(client.listTools({}, opts), 12000 * SLOW, 'listTools'), TOOLS, 'tools/list');
    eq(await within(client.callTool({ name: 'add', arguments: { a: 2, b: 3 } }, undefined, opts), 12000 * SLOW, 'callTool'), text('5'), 'tools/call add');
    eq(await within(client.readResource({ uri: 'hello://readme' }, opts), 12000 * SLOW, 'readResource'),
      { contents: [{ uri: 'hello://readme', mimeType: 'text/plain', text: README }] }, 'resources/read');
    eq(await within(client.getPrompt({ name: 'review', arguments: { code: 'print(1)', language: 'python' } }, opts), 12000 * SLOW, 'getPrompt'),
      { description: 'Ask for a code review', messages: [{ role: 'user', content: { type: 'text', text: 'Please review this python code:\nprint(1)' } }] }, 'prompts/get');
  } catch (e) {
    if (e instanceof Fail && stderr.trim()) e.message += `; proxy stderr: ${stderr.trim().slice(-300)}`;
    throw e;
  } finally {
    await within(client.close(), 8000, 'client.close').catch(() => {});
    cleanups.delete(cleanup);
    noteOutput('proxy (SDK client)', stderr);
  }
  const recs = front.records;
  // the proxy sends each message on its own thread: a notification and the next request may swap
  eq(recs.map(method).sort(), ['initialize', 'notifications/initialized', 'prompts/get', 'resources/read', 'tools/call', 'tools/list'], 'requests the front received');
  eq(method(recs[0]), 'initialize', 'the first request');
  allVerified(recs, ENV_KEY.id);
  eq(recs.map((r) => [method(r), r.status]).sort(), [['initialize', 200], ['notifications/initialized', 202], ['prompts/get', 200], ['resources/read', 200], ['tools/call', 200], ['tools/list', 200]], 'statuses the gateway answered');
  const sid = recs[0].responseHeaders?.['mcp-session-id'];
  assert(sid, () => `initialize answer carried no Mcp-Session-Id: ${show(recs[0].responseHeaders)}`);
  eq(recs.slice(1).map((r) => header(r, 'mcp-session-id')), Array(5).fill(sid), 'Mcp-Session-Id on every request after initialize');
  eq(recs.slice(1).map((r) => header(r, 'mcp-protocol-version')), Array(5).fill('2025-11-25'), 'MCP-Protocol-Version after initialize');
  for (const r of recs) {
    const unsigned = r.auth.unsigned.filter((h) => !['user-agent', 'content-length'].includes(h));
    assert(!unsigned.length, () => `${method(r)}: headers sent but not signed: ${unsigned}`);
    assert(r.auth.signedHeaders.includes('content-type'), () => `${method(r)}: content-type not signed`);
  }
  eq(transportErrors, [], 'transport errors reported by the SDK');
  eq(proc?.exitCode, 0, 'the proxy exit status once the SDK closed its stdin (0 = it left by itself, not by SIGTERM)');
});

// ---------------------------------------------------------------------------------------------
// 3. credentials from a profile

function writeFile(name, content) { const p = path.join(TMP, name); fs.writeFileSync(p, content); return p; }

test('profile: AWS_PROFILE=test from AWS_SHARED_CREDENTIALS_FILE with a session token; the front checks X-Amz-Security-Token', async () => {
  const { front } = await fresh();
  const creds = writeFile('credentials', [
    '# a shared credentials file', '[default]', 'aws_access_key_id = AKIDWRONGDEFAULT', 'aws_secret_access_key = not-this-one', '',
    '[other]', 'aws_access_key_id=AKIDOTHER', 'aws_secret_access_key=nor-this', '',
    '[test]', `aws_access_key_id = ${PROFILE_KEY.id}`, `aws_secret_access_key = ${PROFILE_KEY.secret}`, `aws_session_token = ${PROFILE_KEY.token}`, '',
  ].join('\n'));
  const env = baseEnv({ AWS_PROFILE: 'test', AWS_SHARED_CREDENTIALS_FILE: creds, AWS_CONFIG_FILE: path.join(TMP, 'no-such-config') });
  const transport = new StdioClientTransport({ command: BINARY, args: proxyArgs(front.url), env, stderr: 'pipe' });
  let stderr = '';
  transport.stderr?.on('data', (d) => { stderr += d; });
  const client = new Client({ name: 'proxy-sdk-test', version: '1.0.0' });
  const cleanup = async () => { await client.close().catch(() => {}); };
  cleanups.add(cleanup);
  try {
    await within(client.connect(transport, opts), 15000 * SLOW, `connect (stderr ${stderr})`);
    eq(await within(client.callTool({ name: 'add', arguments: { a: 2, b: 3 } }, undefined, opts), 12000 * SLOW, 'callTool'), text('5'), 'tools/call add');
  } finally {
    await within(client.close(), 8000, 'client.close').catch(() => {});
    cleanups.delete(cleanup);
    noteOutput('proxy (SDK client, profile)', stderr);
  }
  const recs = front.records;
  eq(recs.map(method).sort(), ['initialize', 'notifications/initialized', 'tools/call'], 'requests the front received');
  allVerified(recs, PROFILE_KEY.id);
  for (const r of recs) {
    eq(header(r, 'x-amz-security-token'), PROFILE_KEY.token, `${method(r)}: X-Amz-Security-Token`);
    assert(r.auth.signedHeaders.includes('x-amz-security-token'), `${method(r)}: X-Amz-Security-Token not signed`);
  }
});

test('profile: [profile cfg] in AWS_CONFIG_FILE with its region (eu-west-1) and no --region', async () => {
  const { front } = await fresh();
  front.region = 'eu-west-1';
  const conf = writeFile('config', ['[default]', 'region = us-east-1', '', '[profile cfg]', 'region = eu-west-1',
    `aws_access_key_id = ${CONFIG_KEY.id}`, `aws_secret_access_key = ${CONFIG_KEY.secret}`, ''].join('\n'));
  const p = new RawProxy(['proxy', front.url, '--sigv4'], baseEnv({ AWS_PROFILE: 'cfg', AWS_CONFIG_FILE: conf, AWS_SHARED_CREDENTIALS_FILE: path.join(TMP, 'none') }));
  try {
    p.send(initialize(1));
    const r = await p.response(1);
    eq(r.result?.serverInfo, { name: 'hello', version: '1.0.0' }, 'initialize');
    p.send(add(2));
    eq((await p.response(2)).result, text('5'), 'tools/call add');
  } finally { await p.close(); }
  allVerified(front.records, CONFIG_KEY.id);
  assert(front.records.every((r) => /\/eu-west-1\/lambda\/aws4_request/.test(header(r, 'authorization'))), 'credential scope region eu-west-1');
});

test('profile: the default profile of $HOME/.aws/credentials when nothing else is set', async () => {
  const { front } = await fresh();
  const home = path.join(TMP, 'home-default');
  fs.mkdirSync(path.join(home, '.aws'), { recursive: true });
  fs.writeFileSync(path.join(home, '.aws', 'credentials'), `[default]\naws_access_key_id=${ENV_KEY.id}\naws_secret_access_key=${ENV_KEY.secret}\n`);
  const p = await handshaken(front.url, baseEnv({ HOME: home }));
  try {
    p.send(add(5, 40, 2));
    eq((await p.response(5)).result, text('42'), 'tools/call add');
  } finally { await p.close(); }
  allVerified(front.records, ENV_KEY.id);
});

// ---------------------------------------------------------------------------------------------
// 4. bad credentials

test('execute-api: --service execute-api signs for an IAM-protected API Gateway API (credential scope .../execute-api/aws4_request); signed for lambda, the same front refuses it', async () => {
  const { st } = await fresh();
  const front = await startFront({ upstream: st.url, region: REGION, keys: KEYS, service: 'execute-api' });
  cleanups.add(async () => { await front.close(); });
  const p = new RawProxy(proxyArgs(front.url, ['--sigv4', '--region', REGION, '--service', 'execute-api']), envCreds());
  try {
    p.send(initialize(1));
    eq((await p.response(1)).result?.serverInfo, { name: 'hello', version: '1.0.0' }, 'initialize');
    p.send(add(2));
    eq((await p.response(2)).result, text('5'), 'tools/call add');
  } finally { await p.close(); }
  allVerified(front.records, ENV_KEY.id);
  assert(front.records.every((r) => new RegExp(`/${REGION}/execute-api/aws4_request`).test(header(r, 'authorization'))), 'credential scope service execute-api');
  front.records.length = 0;
  const q = new RawProxy(proxyArgs(front.url), envCreds());
  let r;
  try { q.send(initialize(3)); r = await q.response(3); } finally { await q.close(); }
  assert(r.error && /\b403\b/.test(r.error.message), () => `signed for lambda: want a JSON-RPC error naming 403, got ${show(r)}`);
  eq(front.records.map((x) => [method(x), x.status]), [['initialize', 403]], 'the front refused the lambda-signed initialize');
});

test('bad secret: the SDK client gets a JSON-RPC error for initialize naming HTTP 403 and the remote\'s message', async () => {
  const { front } = await fresh();
  const transport = new StdioClientTransport({ command: BINARY, args: proxyArgs(front.url), env: envCreds({ ...ENV_KEY, secret: 'the-wrong-secret' }), stderr: 'pipe' });
  let stderr = '';
  transport.stderr?.on('data', (d) => { stderr += d; });
  const client = new Client({ name: 'proxy-sdk-test', version: '1.0.0' });
  const cleanup = async () => { await client.close().catch(() => {}); };
  cleanups.add(cleanup);
  let err;
  try {
    await within(client.connect(transport, opts), 15000 * SLOW, 'connect');
  } catch (e) { err = e; } finally {
    await within(client.close(), 8000, 'client.close').catch(() => {});
    cleanups.delete(cleanup);
    noteOutput('proxy (SDK client, bad secret)', stderr);
  }
  assert(err && !(err instanceof Fail), () => `connect: want a JSON-RPC error, got ${err ? err.message : 'success'}`);
  assert(typeof err.code === 'number', () => `connect failed without a JSON-RPC error: ${err.message}`);
  assert(/\b403\b/.test(err.message), () => `the error does not name HTTP 403: ${show(err.message)}`);
  assert(err.message.includes('The request signature we calculated does not match'), () => `the error does not carry the remote's message: ${show(err.message)}`);
  eq(front.records.map((r) => [method(r), r.status, /signature mismatch/.test(r.auth?.reason || '')]), [['initialize', 403, true]], 'the front: one initialize, refused for its signature');
});

test('bad secret: a raw client gets a JSON-RPC error per request (403 + message); the proxy exits 0 when stdin closes', async () => {
  const { front } = await fresh();
  const p = new RawProxy(proxyArgs(front.url), envCreds({ ...ENV_KEY, secret: 'the-wrong-secret' }));
  let r1, r2, closed;
  try {
    p.send(initialize(1));
    r1 = await p.response(1);
    p.send(add(2));
    r2 = await p.response(2);
  } finally { closed = await p.close(); }
  for (const [id, r] of [[1, r1], [2, r2]]) {
    eq([r.jsonrpc, r.id, typeof r.error?.code, 'result' in r], ['2.0', id, 'number', false], `id ${id}: a JSON-RPC error`);
    assert(/\b403\b/.test(r.error.message), () => `id ${id}: the message does not name 403: ${show(r.error.message)}`);
    assert(r.error.message.includes('The request signature we calculated does not match'), () => `id ${id}: the message lacks the remote's message: ${show(r.error.message)}`);
  }
  assert(!closed.timeout, 'the proxy was still running 5 s after stdin closed');
  eq([closed.code, closed.signal], [0, null], 'the proxy exit');
  eq(p.lines.length, 2, `lines on stdout (${show(p.lines.map((l) => l.text))})`);
});

test('unsigned (--no-sigv4) against the AWS_IAM front: JSON-RPC error with 403 Forbidden, nothing reaches the function', async () => {
  const { front } = await fresh();
  const p = new RawProxy(proxyArgs(front.url, ['--no-sigv4']), envCreds());
  let r;
  try { p.send(add(3)); r = await p.response(3); } finally { await p.close(); }
  assert(r.error && /\b403\b/.test(r.error.message), () => `want a 403 JSON-RPC error, got ${show(r)}`);
  assert(r.error.message.includes('Forbidden'), () => `the error lacks the remote's message: ${show(r.error.message)}`);
  eq(front.records.map((x) => [x.status, x.auth.reason, x.headers.authorization]), [[403, 'no Authorization header', undefined]], 'the front');
});

test('wrong region (--region us-west-2) is refused by the front (the scope is checked, not only the HMAC)', async () => {
  const { front } = await fresh();
  const p = new RawProxy(proxyArgs(front.url, ['--sigv4', '--region', 'us-west-2']), envCreds());
  let r;
  try { p.send(add(3)); r = await p.response(3); } finally { await p.close(); }
  assert(r.error && /\b403\b/.test(r.error.message), () => `want a 403 JSON-RPC error, got ${show(r)}`);
  eq(front.records.map((x) => x.auth.reason), ['credential scope region us-west-2, want us-east-1'], 'the front');
});

// ---------------------------------------------------------------------------------------------
// 5. no credentials

async function expectExit2(env, args, what) {
  const p = new RawProxy(args, env);
  const r = await Promise.race([p.exited, sleep(5000 * SLOW).then(() => null)]);
  if (!r) { await p.close(100); throw new Fail(`${what}: still running after 5 s`); }
  children.delete(p.proc);
  eq([r.code, r.signal], [2, null], `${what}: exit`);
  assert(/credentials/i.test(p.err) && /AWS_ACCESS_KEY_ID/.test(p.err), () => `${what}: stderr does not name the missing credentials: ${show(p.err)}`);
  eq(p.lines.length, 0, `${what}: nothing on stdout`);
  return p;
}

test('no credentials with --sigv4: exit 2 at once, stderr names the missing credentials, nothing sent', async () => {
  const { front } = await fresh();
  await expectExit2(baseEnv(), proxyArgs(front.url), 'empty environment and HOME');
  await expectExit2(baseEnv({ AWS_ACCESS_KEY_ID: ENV_KEY.id }), proxyArgs(front.url), 'AWS_ACCESS_KEY_ID without the secret');
  const creds = writeFile('credentials-noprofile', `[default]\naws_access_key_id=${ENV_KEY.id}\naws_secret_access_key=${ENV_KEY.secret}\n`);
  await expectExit2(baseEnv({ AWS_PROFILE: 'missing', AWS_SHARED_CREDENTIALS_FILE: creds }), proxyArgs(front.url), 'AWS_PROFILE naming a profile that is not there');
  const half = writeFile('credentials-half', `[test]\naws_access_key_id=${ENV_KEY.id}\n`);
  await expectExit2(baseEnv({ AWS_PROFILE: 'test', AWS_SHARED_CREDENTIALS_FILE: half }), proxyArgs(front.url), 'a profile with a key id and no secret');
  eq(front.records.length, 0, 'requests the front received');
});

// ---------------------------------------------------------------------------------------------
// 6. throttling, transient failures, retries

/** A fault for tools/call requests only: answers[i] for the i-th attempt, then pass through. */
function callFault(front, answers) {
  let n = 0;
  front.fault = (rec) => (method(rec) === 'tools/call' ? (n < answers.length ? answers[n++] : null) : null);
}
const calls = (front) => front.records.filter((r) => method(r) === 'tools/call');

test('throttling: 429 twice, then the call goes through (retried with backoff, each attempt re-signed and verified)', async () => {
  const { front } = await fresh();
  const p = await handshaken(front.url, envCreds());
  let r, ms;
  try {
    const tooMany = { status: 429, body: { Message: 'Rate Exceeded.' }, headers: { 'x-amzn-ErrorType': 'TooManyRequestsException' } };
    callFault(front, [tooMany, tooMany]);
    const t0 = Date.now();
    p.send(add(2));
    r = await p.response(2, 15000 * SLOW);
    ms = Date.now() - t0;
  } finally { await p.close(); }
  eq(r, { jsonrpc: '2.0', id: 2, result: text('5') }, 'the answer');
  eq(calls(front).map((x) => x.status), [429, 429, 200], 'tools/call attempts at the front');
  allVerified(front.records, ENV_KEY.id);
  assert(ms >= 250, `retried after ${ms} ms: no backoff`);
  assert(ms < 10000 * SLOW, `took ${ms} ms`);
  console.log(`# throttling 429x2: answered after ${ms} ms, attempts at ${calls(front).map((x) => x.at - calls(front)[0].at)} ms`);
});

test('transient 502 and 504, then success', async () => {
  const { front } = await fresh();
  const p = await handshaken(front.url, envCreds());
  let r;
  try {
    callFault(front, [{ status: 502, body: { Message: 'Internal Server Error' } }, { status: 504, body: { Message: 'Endpoint request timed out' } }]);
    p.send(add(2, 20, 22));
    r = await p.response(2, 15000 * SLOW);
  } finally { await p.close(); }
  eq(r, { jsonrpc: '2.0', id: 2, result: text('42') }, 'the answer');
  eq(calls(front).map((x) => x.status), [502, 504, 200], 'tools/call attempts');
});

test('a remote that stays 503: a JSON-RPC error naming 503 after the retries, within a bounded time', async () => {
  const { front } = await fresh();
  const p = await handshaken(front.url, envCreds());
  let r, ms;
  try {
    front.fault = (rec) => (method(rec) === 'tools/call' ? { status: 503, body: { Message: 'Service Unavailable' } } : null);
    const t0 = Date.now();
    p.send(add(2));
    r = await p.response(2, 30000 * SLOW);
    ms = Date.now() - t0;
  } finally { await p.close(); }
  const n = calls(front).length;
  assert(r.error && !('result' in r), () => `want a JSON-RPC error, got ${show(r)}`);
  assert(/\b503\b/.test(r.error.message), () => `the error does not name 503: ${show(r.error)}`);
  assert(n >= 2 && n <= 10, `attempts: ${n}`);
  assert(ms < 20000 * SLOW, `the error came after ${ms} ms`);
  allVerified(front.records, ENV_KEY.id);
  console.log(`# 503 forever: ${n} attempts, error after ${ms} ms: ${show(r.error)}`);
  if (!r.error.message.includes('Service Unavailable')) throw new Fail(`the error lacks the remote's message: ${show(r.error.message)}`);
});

test('a dropped connection (network error) is retried and the call succeeds', async () => {
  const { front } = await fresh();
  const p = await handshaken(front.url, envCreds());
  let r;
  try {
    callFault(front, ['reset']);
    p.send(add(2));
    r = await p.response(2, 15000 * SLOW);
  } finally { await p.close(); }
  eq(r, { jsonrpc: '2.0', id: 2, result: text('5') }, 'the answer');
  eq(calls(front).map((x) => x.status), [-1, 200], 'tools/call attempts (-1: connection dropped)');
});

test('an unreachable URL: "cannot reach" JSON-RPC error within a bounded time, exit 0 on EOF', async () => {
  const port = await new Promise((res) => { const s = net.createServer(); s.listen(0, '127.0.0.1', () => { const q = s.address().port; s.close(() => res(q)); }); });
  const p = new RawProxy(proxyArgs(`http://127.0.0.1:${port}/mcp`), envCreds());
  const t0 = Date.now();
  let r, closed;
  try { p.send(add(9)); r = await p.response(9, 30000 * SLOW); } finally { closed = await p.close(); }
  const ms = Date.now() - t0;
  assert(r.error && /cannot reach/.test(r.error.message), () => `got ${show(r)}`);
  eq(closed.code, 0, 'exit');
  console.log(`# unreachable: error after ${ms} ms: ${show(r.error.message)}`);
});

test('not retried: 500 is answered at once as a JSON-RPC error (one attempt)', async () => {
  const { front } = await fresh();
  const p = await handshaken(front.url, envCreds());
  let r;
  try {
    callFault(front, [{ status: 500, body: { Message: 'Internal failure' } }]);
    p.send(add(2));
    r = await p.response(2);
  } finally { await p.close(); }
  assert(r.error && /\b500\b/.test(r.error.message), () => `got ${show(r)}`);
  eq(calls(front).length, 1, 'tools/call attempts');
});

// ---------------------------------------------------------------------------------------------
// 7. the 2026-07-28 era through the proxy

test('2026-07-28: tools/call with _meta (no initialize): MCP-Protocol-Version, Mcp-Method, Mcp-Name at the front (signed), answer on stdout', async () => {
  const { front } = await fresh();
  const p = new RawProxy(proxyArgs(front.url), envCreds());
  let r, rr, pg;
  try {
    p.send({ jsonrpc: '2.0', id: 'c1', method: 'tools/call', params: { name: 'add', arguments: { a: 2, b: 3 }, _meta: META26 } });
    r = await p.response('c1');
    p.send({ jsonrpc: '2.0', id: 'c2', method: 'resources/read', params: { uri: 'hello://readme', _meta: META26 } });
    rr = await p.response('c2');
    p.send({ jsonrpc: '2.0', id: 'c3', method: 'prompts/get', params: { name: 'review', arguments: { code: 'x' }, _meta: META26 } });
    pg = await p.response('c3');
  } finally { await p.close(); }
  eq(r, { jsonrpc: '2.0', id: 'c1', result: { ...text('5'), resultType: 'complete' } }, 'tools/call answer');
  eq(rr.result?.contents, [{ uri: 'hello://readme', mimeType: 'text/plain', text: README }], 'resources/read answer');
  eq(pg.result?.messages, [{ role: 'user', content: { type: 'text', text: 'Please review this  code:\nx' } }], 'prompts/get answer');
  const recs = front.records;
  eq(recs.map((x) => [header(x, 'mcp-protocol-version'), header(x, 'mcp-method'), header(x, 'mcp-name')]),
    [[V26, 'tools/call', 'add'], [V26, 'resources/read', 'hello://readme'], [V26, 'prompts/get', 'review']], 'MCP-Protocol-Version, Mcp-Method, Mcp-Name at the front');
  allVerified(recs, ENV_KEY.id);
  for (const x of recs) for (const h of ['mcp-protocol-version', 'mcp-method', 'mcp-name'])
    assert(x.auth.signedHeaders.includes(h), `${h} is not signed`);
  eq(recs.map((x) => x.status), [200, 200, 200], 'statuses');
});

test('2026-07-28: a remote JSON-RPC error sent with a 4xx status (ping -> 404 -32601) reaches the client as that error', async () => {
  const { front } = await fresh();
  const p = new RawProxy(proxyArgs(front.url), envCreds());
  let r;
  try { p.send({ jsonrpc: '2.0', id: 13, method: 'ping', params: { _meta: META26 } }); r = await p.response(13); } finally { await p.close(); }
  eq(front.records.map((x) => x.status), [404], 'the remote answered');
  eq([r.id, r.error?.code], [13, -32601], `the error the client got (${show(r.error)})`);
});

test('2026-07-28 streaming: test_tool_with_progress streams its progress notifications through the proxy, live, before the result', async () => {
  assert(fs.existsSync(CONFORMANCE), `no conformance fixture at ${CONFORMANCE}`);
  const { front } = await fresh(CONFORMANCE, true);
  const p = new RawProxy(proxyArgs(front.url), envCreds());
  try {
    p.send({ jsonrpc: '2.0', id: 21, method: 'tools/call', params: { name: 'test_tool_with_progress', arguments: {}, _meta: { ...META26, progressToken: 'tok-21' } } });
    await p.response(21);
  } finally { await p.close(); }
  const msgs = p.lines.map((l) => l.json);
  eq(msgs.slice(0, 3), [0, 50, 100].map((n) => ({ jsonrpc: '2.0', method: 'notifications/progress', params: { progressToken: 'tok-21', progress: n, total: 100, message: `Completed step ${n} of 100` } })), 'progress notifications, in order');
  eq(msgs[3], { jsonrpc: '2.0', id: 21, result: { content: [{ type: 'text', text: 'Progress test completed' }], resultType: 'complete' } }, 'then the result');
  eq(msgs.length, 4, 'lines on stdout');
  const at = p.lines.map((l) => l.at);
  assert(at[3] - at[0] >= 60, `the notifications were not passed on as they came (stdout arrival ms: ${at})`);
  const rec = front.records[0];
  eq([front.records.length, rec.status, (rec.responseHeaders?.['content-type'] || '').split(';')[0], header(rec, 'mcp-name'), header(rec, 'mcp-method')],
    [1, 200, 'text/event-stream', 'test_tool_with_progress', 'tools/call'], 'the front: one streamed SSE request with its headers');
  allVerified(front.records, ENV_KEY.id);
  console.log(`# progress through the proxy: stdout arrival ms ${at}`);
});

test('20 concurrent tools/call through one proxy: 20 right answers, 20 verified requests', async () => {
  const { front } = await fresh();
  const p = await handshaken(front.url, envCreds());
  const t0 = Date.now();
  let rs;
  try {
    for (let i = 0; i < 20; i++) p.send(add(100 + i, i, 1000));
    rs = await Promise.all(Array.from({ length: 20 }, (_, i) => p.response(100 + i, 20000 * SLOW)));
  } finally { await p.close(); }
  eq(rs.map((r) => r.result), Array.from({ length: 20 }, (_, i) => text(String(1000 + i))), 'answers');
  eq(calls(front).length, 20, 'tools/call requests at the front');
  allVerified(front.records, ENV_KEY.id);
  console.log(`# 20 concurrent calls: ${Date.now() - t0} ms`);
}, 40000);

test('stdin closed while a streamed call is in flight: its notifications and answer still come, then exit 0', async () => {
  assert(fs.existsSync(CONFORMANCE), `no conformance fixture at ${CONFORMANCE}`);
  const { front } = await fresh(CONFORMANCE, true);
  const p = new RawProxy(proxyArgs(front.url), envCreds());
  p.send({ jsonrpc: '2.0', id: 23, method: 'tools/call', params: { name: 'test_tool_with_progress', arguments: {}, _meta: { ...META26, progressToken: 23 } } });
  const closed = await p.close(10000 * SLOW);
  assert(!closed.timeout, 'still running 10 s after stdin closed');
  eq([closed.code, closed.signal], [0, null], 'exit');
  eq(p.lines.map((l) => l.json?.method || l.json?.id), ['notifications/progress', 'notifications/progress', 'notifications/progress', 23], 'stdout');
});

// ---------------------------------------------------------------------------------------------
// robustness: what a remote can send back, and what a client can put in a message

test('a stream that breaks after the full answer is not re-sent: exactly one answer and one set of notifications', async () => {
  assert(fs.existsSync(CONFORMANCE), `no conformance fixture at ${CONFORMANCE}`);
  const { front } = await fresh(CONFORMANCE, true);
  let first = true;
  front.fault = () => (first ? ((first = false), 'cut-after-end') : null);
  const p = new RawProxy(proxyArgs(front.url), envCreds());
  try {
    p.send({ jsonrpc: '2.0', id: 22, method: 'tools/call', params: { name: 'test_tool_with_progress', arguments: {}, _meta: { ...META26, progressToken: 'tok-22' } } });
    await p.response(22);
    await sleep(2000); // room for a retry to show up
  } finally { await p.close(); }
  const answers = p.lines.filter((l) => l.json?.id === 22).length, progress = p.lines.filter((l) => l.json?.method === 'notifications/progress').length;
  eq({ attempts: front.records.length, answers, progress }, { attempts: 1, answers: 1, progress: 3 }, 'POSTs at the front, answers for id 22 and progress notifications on stdout');
});

test('a stream that breaks after its first event is not re-sent (the tool would run again): one answer for the id, no repeated notification', async () => {
  assert(fs.existsSync(CONFORMANCE), `no conformance fixture at ${CONFORMANCE}`);
  const { front } = await fresh(CONFORMANCE, true);
  let first = true;
  front.fault = () => (first ? ((first = false), 'cut-after-first-event') : null);
  const p = new RawProxy(proxyArgs(front.url), envCreds());
  try {
    p.send({ jsonrpc: '2.0', id: 24, method: 'tools/call', params: { name: 'test_tool_with_progress', arguments: {}, _meta: { ...META26, progressToken: 'tok-24' } } });
    await p.response(24);
    await sleep(1500);
  } finally { await p.close(); }
  const answers = p.lines.filter((l) => l.json?.id === 24).length;
  const seen = p.lines.filter((l) => l.json?.method === 'notifications/progress').map((l) => l.json.params.progress);
  eq({ attempts: front.records.length, answers, repeated: seen.length !== new Set(seen).size }, { attempts: 1, answers: 1, repeated: false },
    `POSTs at the front, answers for id 24, a progress notification repeated (progress seen: ${seen})`);
});

test('a 200 answer that is neither JSON nor SSE (an HTML page) becomes a JSON-RPC error, not silence', async () => {
  const { front } = await fresh();
  const p = await handshaken(front.url, envCreds());
  let r;
  try {
    callFault(front, [{ status: 200, body: '<html><body>Sign in to the Wi-Fi</body></html>', headers: { 'Content-Type': 'text/html' } }]);
    p.send(add(2));
    r = await p.response(2, 5000 * SLOW);
  } finally { await p.close(); }
  assert(r.error, () => `got ${show(r)}`);
});

test('a pretty-printed (multi-line) JSON answer goes to stdout as one line (stdio messages have no embedded newlines)', async () => {
  const { front } = await fresh();
  const p = await handshaken(front.url, envCreds());
  let r;
  try {
    callFault(front, [{ status: 200, body: JSON.stringify({ jsonrpc: '2.0', id: 2, result: text('5') }, null, 2) }]);
    p.send(add(2));
    r = await p.response(2, 3000 * SLOW).catch(() => undefined);
  } finally { await p.close(); }
  const bad = p.lines.filter((l) => l.json === undefined);
  eq(bad.map((l) => l.text), [], 'lines on stdout that are not JSON');
  eq(r, { jsonrpc: '2.0', id: 2, result: text('5') }, 'the answer');
});

test('a tool name with CR LF does not inject a header into the signed request', async () => {
  const { front } = await fresh();
  const p = new RawProxy(proxyArgs(front.url), envCreds());
  let r;
  try {
    p.send({ jsonrpc: '2.0', id: 31, method: 'tools/call', params: { name: 'add\r\nX-Injected: yes', arguments: { a: 1, b: 1 }, _meta: META26 } });
    r = await p.response(31);
  } finally { await p.close(); }
  assert(r.error || r.result?.isError, () => `got ${show(r)}`);
  const injected = front.records.filter((x) => 'x-injected' in x.headers);
  eq(injected.map((x) => x.headers['x-injected']), [], 'X-Injected headers the front received');
});

// ---------------------------------------------------------------------------------------------
// run

for (const f of [BINARY]) {
  try { fs.accessSync(f, fs.constants.X_OK); } catch (e) { failed++; console.log(`not ok - ${f} is executable: ${e.message}`); await finish(); }
}
const tRun = Date.now();
for (const t of tests) {
  const t0 = Date.now();
  sanitizerReports.length = 0;
  try {
    await within(t.fn(), t.ms, 'the test');
    await sleep(SANITIZED ? 300 : 0); // a proxy killed at the end of a test reports on its way out
    for (const x of Object.values(stacks)) { // only what the function printed during this test
      const all = (x.st.runtime()?.stderr?.() || '') + (x.st.runtime()?.stdout?.() || '');
      if (x.seen === undefined || x.seen > all.length) x.seen = 0;
      noteOutput('the function (gateway runtime)', all.slice(x.seen));
      x.seen = all.length;
    }
    assert(!sanitizerReports.length, () => `sanitizer report: ${sanitizerReports.join(' | ')}`);
    passed++;
    console.log(`ok - ${t.name}`);
  } catch (e) {
    failed++;
    console.log(`not ok - ${t.name}: ${(e instanceof Fail ? e.message : e?.stack || String(e)).replace(/\n/g, ' | ')}`);
  }
  console.log(`# ${Date.now() - t0} ms`);
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
}
console.log(`# total ${Date.now() - tRun} ms`);
await finish();
