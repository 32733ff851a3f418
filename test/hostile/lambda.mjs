// lambda.mjs: the Lambda checks of test/hostile (issue 14, findings 2 and 10), against the
// Runtime API emulator of test/lambda/emulator.mjs.
//
//   node test/hostile/lambda.mjs BINARY        (BINARY: build/hello or a sanitizer build of it)
//
// Finding 2: every field the runtime reads from an HTTP event is type-checked; an event with a
// field of the wrong type is an invocation error (POST /runtime/invocation/ID/error, errorType
// Runtime.InvalidEvent, errorMessage starting with the field's name, as listed in
// test/hostile/README.md), never a crash, and the runtime serves the next event.
// Finding 10: an event with more than 64 headers is answered, in the event's own shape, with
// statusCode 431 and the body {"error":"431 Request Header Fields Too Large"}.
// Prints "ok - ..." / "not ok - ..." per check and "# N passed, M failed"; exits 1 on any failure.

import fs from 'node:fs';
import path from 'node:path';
import { isDeepStrictEqual } from 'node:util';
import { RuntimeApiEmulator, spawnRuntime, within } from '../lambda/emulator.mjs';

if (process.argv.length < 3) { console.error('usage: node test/hostile/lambda.mjs BINARY'); process.exit(2); }
const BINARY = path.resolve(process.argv[2]);
const SANITIZED = (() => { try { return /__asan_init|__ubsan_handle/.test(fs.readFileSync(BINARY, 'latin1')); } catch { return false; } })();
const SLOW = SANITIZED ? 4 : 1;
const ONLY = process.env.HOSTILE_ONLY ? new RegExp(process.env.HOSTILE_ONLY) : null;
const ACCEPT = 'application/json, text/event-stream';
const INIT = JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 'hostile', version: '1' } } });
const EXACT_431 = { error: '431 Request Header Fields Too Large' };

let passed = 0, failed = 0;
class Fail extends Error {}
const show = (v) => { const s = v === undefined ? 'undefined' : JSON.stringify(v); return s.length > 400 ? s.slice(0, 400) + '...' : s; };
function assert(c, msg) { if (!c) throw new Fail(typeof msg === 'function' ? msg() : msg); }
function eq(got, want, what) { if (!isDeepStrictEqual(got, want)) throw new Fail(`${what}: got ${show(got)}, want ${show(want)}`); }

async function check(name, fn, ms = 10000) {
  if (ONLY && !ONLY.test(name)) return;
  try {
    await within(Promise.resolve().then(fn), ms * SLOW, 'the check');
    passed++;
    console.log(`ok - ${name}`);
  } catch (e) {
    failed++;
    console.log(`not ok - ${name}: ${String(e && e.message ? e.message : e).replace(/\s+/g, ' ').slice(0, 700)}`);
  }
}

function sanitizerReport(rt) {
  const m = /(ERROR: (Address|Leak|Memory|Thread)Sanitizer[^\n]*|runtime error:[^\n]*)/.exec(rt.stderr() + rt.stdout());
  return m ? m[0] : null;
}

/** A fresh emulator and runtime for fn({emu, rt}); the runtime must survive and report nothing. */
async function withRuntime(fn) {
  const emu = new RuntimeApiEmulator({ defaultTimeoutMs: 5000 * SLOW });
  await emu.listen();
  const rt = spawnRuntime(BINARY, { api: emu.api, env: { MCP_EMF: '0' } });
  let killed = false;
  rt.exited.then((e) => { if (!killed) emu.failInFlight('Runtime.ExitError', `the runtime exited (${e.signal || e.code})`); });
  try {
    await emu.waitForNext(1, 5000 * SLOW);
    await fn({ emu, rt });
    assert(rt.alive(), () => `the runtime died: ${sanitizerReport(rt) || rt.stderr().trim().split('\n').slice(-2).join(' | ')}`);
    const san = sanitizerReport(rt);
    assert(!san, () => `sanitizer report: ${san}`);
    const s = emu.stats;
    assert(s.answeredTwice === 0 && s.unknownId === 0 && s.badRequests === 0, () => `Runtime API protocol violations: ${show(s)}`);
  } finally {
    killed = true;
    await rt.kill('SIGKILL');
    await emu.close();
  }
}

// ---------------------------------------------------------------------------------------------
// well-formed events of each shape: POST /mcp initialize

const SHAPES = {
  v2: () => ({
    version: '2.0', routeKey: '$default', rawPath: '/mcp', rawQueryString: '',
    headers: { 'content-type': 'application/json', accept: ACCEPT },
    requestContext: { http: { method: 'POST', path: '/mcp', protocol: 'HTTP/1.1', sourceIp: '127.0.0.1' }, requestId: 'r', stage: '$default' },
    body: INIT, isBase64Encoded: false,
  }),
  rest: () => ({
    resource: '/{proxy+}', path: '/mcp', httpMethod: 'POST',
    headers: { 'Content-Type': 'application/json', Accept: ACCEPT },
    multiValueHeaders: { 'Content-Type': ['application/json'], Accept: [ACCEPT] },
    queryStringParameters: null, multiValueQueryStringParameters: null,
    requestContext: { stage: 'test', httpMethod: 'POST', path: '/test/mcp', identity: { sourceIp: '127.0.0.1' } },
    body: INIT, isBase64Encoded: false,
  }),
  alb: () => ({
    requestContext: { elb: { targetGroupArn: 'arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/t/0123456789abcdef' } },
    httpMethod: 'POST', path: '/mcp', queryStringParameters: {},
    headers: { 'content-type': 'application/json', accept: ACCEPT },
    body: INIT, isBase64Encoded: false,
  }),
  'alb-multi': () => ({
    requestContext: { elb: { targetGroupArn: 'arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/t/0123456789abcdef' } },
    httpMethod: 'POST', path: '/mcp', multiValueQueryStringParameters: {},
    multiValueHeaders: { 'content-type': ['application/json'], accept: [ACCEPT] },
    body: INIT, isBase64Encoded: false,
  }),
};

const statusOf = (r) => r.json?.statusCode;
const bodyOf = (r) => { try { return JSON.parse(r.json.isBase64Encoded ? Buffer.from(r.json.body, 'base64').toString() : r.json.body); } catch { return r.json?.body; } };

async function expectServed(emu, shape, what) {
  const r = await within(emu.invoke(SHAPES[shape]()), 5000 * SLOW, what);
  eq(r.kind, 'response', `${what}: result kind (${r.errorType || ''} ${r.errorMessage || ''})`);
  eq(statusOf(r), 200, `${what}: statusCode`);
  eq(bodyOf(r)?.result?.protocolVersion, '2025-11-25', `${what}: initialize result`);
}

// ---------------------------------------------------------------------------------------------
// 2. malformed events

const BAD = [
  // [shape, what, mutate(ev), expected errorMessage prefix]
  ['v2', 'headers is an array [1,2]', (e) => { e.headers = [1, 2]; }, 'headers must be an object'],
  ['v2', 'headers is a number', (e) => { e.headers = 5; }, 'headers must be an object'],
  ['v2', 'headers is a string', (e) => { e.headers = 'content-type: application/json'; }, 'headers must be an object'],
  ['v2', 'a header value is a number', (e) => { e.headers['x-count'] = 5; }, 'headers must be an object'],
  ['v2', 'body is a number', (e) => { e.body = 5; }, 'body must be a string'],
  ['v2', 'body is an object', (e) => { e.body = JSON.parse(INIT); }, 'body must be a string'],
  ['v2', 'requestContext is a string', (e) => { e.requestContext = 'POST /mcp'; }, 'requestContext must be an object'],
  ['v2', 'requestContext.http is a string', (e) => { e.requestContext.http = 'POST'; }, 'requestContext.http must be an object'],
  ['v2', 'requestContext.http.method is a number', (e) => { e.requestContext.http.method = 5; }, 'requestContext.http.method must be a string'],
  ['v2', 'rawPath is a number', (e) => { e.rawPath = 5; }, 'rawPath must be a string'],
  ['v2', 'rawQueryString is an array', (e) => { e.rawQueryString = ['a=1']; }, 'rawQueryString must be a string'],
  ['v2', 'isBase64Encoded with a body that is not base64', (e) => { e.isBase64Encoded = true; e.body = '%%% not base64 %%%'; }, 'body is not valid base64'],
  ['v2', 'isBase64Encoded is a string', (e) => { e.isBase64Encoded = 'true'; }, 'isBase64Encoded must be a boolean'],
  ['rest', 'headers is an array [1,2] (multiValueHeaders present)', (e) => { e.headers = [1, 2]; }, 'headers must be an object'],
  ['rest', 'headers is an array [1,2] (multiValueHeaders null)', (e) => { e.headers = [1, 2]; e.multiValueHeaders = null; }, 'headers must be an object'],
  ['rest', 'headers is a number', (e) => { e.headers = 5; e.multiValueHeaders = null; }, 'headers must be an object'],
  ['rest', 'multiValueHeaders with non-string items', (e) => { e.multiValueHeaders.Accept = [1, 2]; }, 'multiValueHeaders must be an object'],
  ['rest', 'multiValueHeaders with a string where an array belongs', (e) => { e.multiValueHeaders.Accept = ACCEPT; }, 'multiValueHeaders must be an object'],
  ['rest', 'multiValueHeaders is an array', (e) => { e.multiValueHeaders = [1]; }, 'multiValueHeaders must be an object'],
  ['rest', 'httpMethod is a number', (e) => { e.httpMethod = 5; }, 'httpMethod must be a string'],
  ['rest', 'path is a number', (e) => { e.path = 5; }, 'path must be a string'],
  ['rest', 'body is a number', (e) => { e.body = 5; }, 'body must be a string'],
  ['rest', 'requestContext is a string', (e) => { e.requestContext = 'test'; }, 'requestContext must be an object'],
  ['rest', 'isBase64Encoded with a body that is not base64', (e) => { e.isBase64Encoded = true; e.body = '%%% not base64 %%%'; }, 'body is not valid base64'],
  ['alb', 'headers is an array [1,2]', (e) => { e.headers = [1, 2]; }, 'headers must be an object'],
  ['alb', 'body is a number', (e) => { e.body = 5; }, 'body must be a string'],
  ['alb', 'requestContext.elb is a string', (e) => { e.requestContext.elb = 'arn'; }, 'requestContext.elb must be an object'],
  ['alb', 'isBase64Encoded with a body that is not base64', (e) => { e.isBase64Encoded = true; e.body = '%%% not base64 %%%'; }, 'body is not valid base64'],
  ['alb-multi', 'multiValueHeaders with non-string items', (e) => { e.multiValueHeaders.accept = [1]; }, 'multiValueHeaders must be an object'],
  ['alb-multi', 'multiValueHeaders is a number', (e) => { e.multiValueHeaders = 7; }, 'multiValueHeaders must be an object'],
];

for (const [shape, what, mutate, prefix] of BAD) {
  await check(`2. Lambda ${shape} event, ${what} -> Runtime.InvalidEvent "${prefix}..."; the next event is served`, async () => {
    await withRuntime(async ({ emu }) => {
      const ev = SHAPES[shape]();
      mutate(ev);
      const r = await within(emu.invoke(ev), 5000 * SLOW, 'the malformed event');
      eq(r.kind, 'error', `result kind (statusCode ${r.json?.statusCode}, body ${show(r.json?.body)}; ${r.errorType || ''})`);
      eq(r.errorType, 'Runtime.InvalidEvent', 'errorType');
      eq(r.bodyErrorType, 'Runtime.InvalidEvent', 'errorType in the body');
      assert(typeof r.errorMessage === 'string' && r.errorMessage.startsWith(prefix), `errorMessage ${show(r.errorMessage)} does not start with ${show(prefix)}`);
      await expectServed(emu, shape, 'the next event');
    });
  });
}

await check('2. Lambda events with null headers, multiValueHeaders and body (as API Gateway sends them) are served, not refused', async () => {
  await withRuntime(async ({ emu }) => {
    const rest = SHAPES.rest();
    Object.assign(rest, { httpMethod: 'GET', path: '/health', headers: null, multiValueHeaders: null, body: null });
    let r = await emu.invoke(rest);
    eq(r.kind, 'response', `REST GET /health: result kind (${r.errorType || ''} ${r.errorMessage || ''})`);
    eq(statusOf(r), 200, 'REST GET /health: statusCode');
    const v2 = SHAPES.v2();
    v2.requestContext.http.method = 'GET';
    v2.rawPath = '/health';
    delete v2.body;
    v2.headers = {};
    r = await emu.invoke(v2);
    eq(r.kind, 'response', `v2 GET /health without body: result kind (${r.errorType || ''} ${r.errorMessage || ''})`);
    eq(statusOf(r), 200, 'v2 GET /health: statusCode');
  });
});

// ---------------------------------------------------------------------------------------------
// 10. more than 64 headers

function withHeaders(shape, n) {
  const e = SHAPES[shape]();
  const extra = n - 2; // content-type and accept are there already
  for (let i = 0; i < extra; i++) {
    const k = `x-extra-${String(i).padStart(2, '0')}`;
    if (e.headers) e.headers[k] = `v${i}`;
    if (e.multiValueHeaders) e.multiValueHeaders[k] = [`v${i}`];
  }
  return e;
}

function headerOf(resp, name) {
  for (const [k, v] of Object.entries(resp.headers || {})) if (k.toLowerCase() === name) return v;
  for (const [k, v] of Object.entries(resp.multiValueHeaders || {})) if (k.toLowerCase() === name) return Array.isArray(v) ? v.join(', ') : v;
  return undefined;
}

for (const shape of ['v2', 'rest', 'alb', 'alb-multi']) {
  await check(`10. Lambda ${shape} event with 65 headers -> answered with statusCode 431, body {"error":"431 Request Header Fields Too Large"}`, async () => {
    await withRuntime(async ({ emu }) => {
      const r = await within(emu.invoke(withHeaders(shape, 65)), 5000 * SLOW, '65 headers');
      eq(r.kind, 'response', `result kind (${r.errorType || ''} ${r.errorMessage || ''})`);
      eq(statusOf(r), 431, 'statusCode');
      eq(bodyOf(r), EXACT_431, 'body');
      eq(headerOf(r.json, 'content-type'), 'application/json', 'Content-Type');
      if (shape.startsWith('alb')) eq(r.json.statusDescription, '431 Request Header Fields Too Large', 'statusDescription');
      if (shape === 'rest' || shape === 'alb-multi') { // a multi-value request: a multi-value answer
        assert(r.json.multiValueHeaders && Object.values(r.json.multiValueHeaders).every(Array.isArray), `no multiValueHeaders arrays in the answer: ${show(r.json)}`);
        if (shape === 'alb-multi') assert(!r.json.headers, 'a multi-value ALB answer with headers too');
      }
      await expectServed(emu, shape, 'the next event');
    });
  });
}

await check('10. Lambda v2 and REST events with exactly 64 headers are served (200)', async () => {
  await withRuntime(async ({ emu }) => {
    for (const shape of ['v2', 'rest']) {
      const r = await emu.invoke(withHeaders(shape, 64));
      eq(r.kind, 'response', `${shape}: result kind (${r.errorType || ''} ${r.errorMessage || ''})`);
      eq(statusOf(r), 200, `${shape}: statusCode`);
    }
  });
});

console.log(`# ${passed} passed, ${failed} failed${SANITIZED ? ' (sanitized build)' : ''}`);
process.exit(failed ? 1 : 0);
