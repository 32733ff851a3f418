// events.mjs: every kind of event Lambda delivers, through the Runtime API emulator, against
// test/lambda/events_server.c.
//
//   gcc -std=c11 -O2 -o build/events-server mcp.c test/lambda/events_server.c -lbearssl -lm -lpthread
//   node test/lambda/events.mjs build/events-server [build/bootstrap]
//
// Prints "ok - NAME" / "not ok - NAME: WHY" per test and "# N passed, M failed"; exits 1 on
// any failure. Each test runs a fresh runtime. Covers: direct JSON-RPC; EventBridge schedules
// and custom events, SQS (partial failures, FIFO), SNS, S3, DynamoDB Streams and Kinesis, each
// with a handler, without one and malformed; events of no known kind; API Gateway HTTP APIs on
// a named stage and MCP_BASE_PATH; REST APIs buffered and streamed; authorizer contexts as
// mcp_auth sees them; AgentCore Gateway Lambda targets; `tool-schema --agentcore`; with a
// second argument (the data-tools server, examples/datatools.c), its scheduled refresh against
// a local source and a local stand-in for S3.
// The events are AWS's samples in test/data/events/ (see its NOTICE), changed per test where
// a test needs another value; AgentCore invocations follow the AgentCore developer guide.

import fs from 'node:fs';
import path from 'node:path';
import http from 'node:http';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { isDeepStrictEqual } from 'node:util';
import { RuntimeApiEmulator, spawnRuntime, within, HTTP_INTEGRATION_CT } from './emulator.mjs';

const HERE = path.dirname(fileURLToPath(import.meta.url));
if (process.argv.length < 3) { console.error('usage: node test/lambda/events.mjs BINARY'); process.exit(2); }
const BINARY = path.resolve(process.argv[2]);
const DATATOOLS = process.argv[3] ? path.resolve(process.argv[3]) : null;
const EVENTS_DIR = path.resolve(HERE, '../data/events');
const SANITIZED = (() => { try { return /__asan_init|__ubsan_handle/.test(fs.readFileSync(BINARY, 'latin1')); } catch { return false; } })();
const SLOW = SANITIZED ? 4 : 1;

const V26 = '2026-07-28';
const META = { 'io.modelcontextprotocol/protocolVersion': V26, 'io.modelcontextprotocol/clientCapabilities': {} };
const ACCEPT = 'application/json, text/event-stream';
const call26 = (id, name, args = {}) => ({ jsonrpc: '2.0', id, method: 'tools/call', params: { name, arguments: args, _meta: META } });
const headers26 = (name) => ({ 'mcp-protocol-version': V26, 'mcp-method': 'tools/call', 'mcp-name': name });
const initialize = (id) => ({ jsonrpc: '2.0', id, method: 'initialize', params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 'events-test', version: '1.0.0' } } });
const ADD_RESULT = { content: [{ type: 'text', text: '5' }], structuredContent: { sum: 5 } };

// ---------------------------------------------------------------------------------------------
// harness

let passed = 0, failed = 0;
class Fail extends Error {}
const show = (v) => { const s = v === undefined ? 'undefined' : JSON.stringify(v); return s.length > 500 ? s.slice(0, 500) + '...' : s; };
function assert(cond, msg) { if (!cond) throw new Fail(msg); }
function eq(got, want, what) { if (!isDeepStrictEqual(got, want)) throw new Fail(`${what}: got ${show(got)}, want ${show(want)}`); }
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

const tests = [];
const test = (name, fn) => tests.push({ name, fn });

/** A fresh emulator and runtime (env added to the runtime's), torn down after fn. */
async function withRuntime(env, fn, binary = BINARY) {
  const emu = new RuntimeApiEmulator({ defaultTimeoutMs: 10000 * SLOW });
  await emu.listen();
  const rt = spawnRuntime(binary, { api: emu.api, env: { MCP_EMF: '0', ...env } });
  let done = false;
  rt.exited.then((e) => { if (!done) emu.failInFlight('Runtime.ExitError', `the runtime exited (${e.signal || e.code})`); });
  try {
    await emu.waitForNext(1, 5000 * SLOW).catch((e) => { throw new Fail(`${e.message}; stderr: ${rt.stderr().slice(-400)}`); });
    await fn({ emu, rt, invoke: (ev, opts) => within(emu.invoke(ev, opts), 10000 * SLOW, 'invocation') });
    const s = emu.stats;
    assert(s.answeredTwice === 0 && s.unknownId === 0 && s.badRequests === 0, `Runtime API protocol violations: ${show(s)}`);
    const san = /(ERROR: \w+Sanitizer[^\n]*|runtime error:[^\n]*)/.exec(rt.stderr() + rt.stdout());
    assert(!san, `sanitizer report: ${san && san[0]}`);
  } finally {
    done = true;
    await rt.kill('SIGKILL');
    await emu.close();
  }
}

/** The EVT lines the handlers printed, once the runtime is back at /next. */
async function handled(emu, rt) {
  await emu.waitForNext(1, 5000 * SLOW);
  await sleep(30); // stdout is a pipe: what was written before the answer has arrived by now
  return rt.stdout().split('\n').filter((l) => l.startsWith('EVT ')).map((l) => JSON.parse(l.slice(4)));
}

/** A successful function result. */
function result(r, what) {
  assert(r.kind === 'response', `${what}: ${r.kind} ${r.errorType || ''} ${r.errorMessage || ''}`.trim());
  return r.json;
}

/** An invocation error of this type (header and body agree) whose message passes check. */
function invocationError(r, type, check, what) {
  assert(r.kind === 'error', `${what}: want an invocation error ${type}, got ${r.kind} ${show(r.json ?? r.text)}`);
  eq(r.errorType, type, `${what}: Lambda-Runtime-Function-Error-Type`);
  eq(r.bodyErrorType, type, `${what}: errorType`);
  assert(r.contentTypeOk, `${what}: Content-Type ${r.headers['content-type']}`);
  assert(typeof r.errorMessage === 'string' && check(r.errorMessage), `${what}: errorMessage ${show(r.errorMessage)}`);
}
const startsWith = (p) => (m) => m.startsWith(p);
const includes = (p) => (m) => m.includes(p);

const load = (f) => JSON.parse(fs.readFileSync(path.join(EVENTS_DIR, f), 'utf8'));

// ---------------------------------------------------------------------------------------------
// HTTP events

/** An HTTP API (payload 2.0) event: sample f, POST msg to rawPath on a stage. */
function httpApi(msg, { file = 'apigw-v2-request-no-authorizer.json', rawPath = '/mcp', stage = '$default', headers = {} } = {}) {
  const e = load(file);
  e.rawPath = rawPath;
  e.rawQueryString = '';
  e.requestContext.stage = stage;
  e.requestContext.http.method = 'POST';
  e.requestContext.http.path = rawPath;
  e.headers = { 'content-type': 'application/json', accept: ACCEPT, ...headers };
  e.body = JSON.stringify(msg);
  e.isBase64Encoded = false;
  return e;
}

/** A REST API (payload 1.0) event: sample f (default apigw-request.json), POST msg to path. */
function restApi(msg, { file = 'apigw-request.json', path: p = '/mcp', headers = {}, multi = true } = {}) {
  const e = load(file);
  const h = { 'Content-Type': 'application/json', Accept: ACCEPT, ...headers };
  e.httpMethod = 'POST';
  e.path = p;
  e.requestContext.httpMethod = 'POST';
  e.requestContext.path = `/${e.requestContext.stage}${p}`;
  e.headers = h;
  e.multiValueHeaders = multi ? Object.fromEntries(Object.entries(h).map(([k, v]) => [k, [v]])) : null;
  e.queryStringParameters = null;
  e.multiValueQueryStringParameters = null;
  e.body = JSON.stringify(msg);
  e.isBase64Encoded = false;
  return e;
}

/** The status and JSON-RPC message of a buffered HTTP answer. */
function httpAnswer(r, what) {
  const resp = result(r, what);
  assert(resp && Number.isInteger(resp.statusCode), `${what}: not an HTTP answer: ${show(resp)}`);
  const body = resp.isBase64Encoded ? Buffer.from(resp.body, 'base64').toString('utf8') : resp.body;
  let msg;
  try { msg = body ? JSON.parse(body) : undefined; } catch { msg = body; }
  return { status: resp.statusCode, msg, resp };
}

/** A 2026 tools/call of NAME through an HTTP event made by make; the tool's result. */
async function callOver(invoke, make, name, args = {}, what = name) {
  const r = await invoke(make(call26(1, name, args), headers26(name)));
  const { status, msg } = httpAnswer(r, what);
  eq(status, 200, `${what}: statusCode (${show(msg)})`);
  return msg?.result;
}

/** whoami's answer, parsed. */
const whoami = (res, what) => {
  const t = res?.content?.[0]?.text;
  try { return JSON.parse(t); } catch { throw new Fail(`${what}: whoami answered ${show(res)}`); }
};

// ---------------------------------------------------------------------------------------------
// 1. direct JSON-RPC

test('direct: a tools/call object is answered with exactly its JSON-RPC response', async () => {
  await withRuntime({}, async ({ invoke }) => {
    eq(result(await invoke(call26(1, 'add', { a: 2, b: 3 })), 'call'), { jsonrpc: '2.0', id: 1, result: { ...ADD_RESULT, resultType: 'complete' } }, 'function result');
  });
});

test('direct: an array of JSON-RPC messages (2025-03-26 batch) is answered with the array of their responses', async () => {
  await withRuntime({}, async ({ invoke }) => {
    const init = { ...initialize(1), params: { ...initialize(1).params, protocolVersion: '2025-03-26' } };
    const j = result(await invoke([init, { jsonrpc: '2.0', id: 2, method: 'ping' }]), 'batch');
    assert(Array.isArray(j), `batch answer is not an array: ${show(j)}`);
    eq(j.map((m) => [m.id, 'result' in m]), [[1, true], [2, true]], 'responses (id, has a result)');
    eq(j[1].result, {}, 'ping result');
  });
});

test('direct: a client context without bedrockAgentCoreToolName leaves a JSON-RPC event direct', async () => {
  await withRuntime({}, async ({ invoke }) => {
    const r = await invoke(call26(3, 'add', { a: 2, b: 3 }), { clientContext: { client: { app_title: 'x' }, custom: { other: 'y' }, env: {} } });
    eq(result(r, 'call')?.result, { ...ADD_RESULT, resultType: 'complete' }, 'result');
  });
});

// ---------------------------------------------------------------------------------------------
// 2. events with a handler

const SCHEDULE = () => load('cloudwatch-scheduled-event.json');
const ORDER = (state, id = 'ev-1') => ({ version: '0', id, 'detail-type': 'Order Created', source: 'com.example.orders', account: '123456789012', time: '2026-12-03T12:00:00Z', region: 'us-east-1', resources: [], detail: { state, n: 1 } });
const SQS = (bodies, arn) => {
  const e = load('sqs-event.json');
  const r0 = e.Records[0];
  e.Records = bodies.map((b, i) => ({ ...structuredClone(r0), messageId: `m${i + 1}`, body: b, ...(arn ? { eventSourceARN: arn } : {}) }));
  return e;
};
const kinesisSeq = (e) => e.Records.map((r) => r.kinesis.sequenceNumber);
const dynamoSeq = (e) => e.Records.map((r) => r.dynamodb.SequenceNumber);

test('schedule: the sample scheduled event runs the handler; the function result is null', async () => {
  await withRuntime({}, async ({ emu, rt, invoke }) => {
    const ev = SCHEDULE();
    const r = await invoke(ev);
    eq(result(r, 'schedule'), null, 'function result');
    eq(r.text, 'null', 'response body');
    eq(await handled(emu, rt), [{ source: 'schedule', id: ev.id, body: '{}', data: 'data:schedule', extra: ev.resources[0], records: -1, record: true, remaining: true }], 'handler saw');
  });
});

test('schedule: the first matching registration (rule glob) handles it; its failure is EventHandlerError with its message', async () => {
  await withRuntime({}, async ({ emu, rt, invoke }) => {
    const ev = SCHEDULE();
    ev.resources = ['arn:aws:events:us-east-1:123456789012:rule/FailingRule'];
    invocationError(await invoke(ev), 'EventHandlerError', includes('refresh failed: rule arn:aws:events:us-east-1:123456789012:rule/FailingRule'), 'failing schedule');
    eq(await handled(emu, rt), [], 'the catch-all handler did not run');
  });
});

test('eventbridge: a custom event (source glob) runs its handler with detail as the body; result null', async () => {
  await withRuntime({}, async ({ emu, rt, invoke }) => {
    eq(result(await invoke(ORDER('new')), 'order'), null, 'function result');
    const h = await handled(emu, rt);
    eq(h.length, 1, `handled records (${show(h)})`);
    eq(JSON.parse(h[0].body), { state: 'new', n: 1 }, 'body (detail as JSON)');
    eq({ ...h[0], body: undefined }, { source: 'eventbridge', id: 'ev-1', body: undefined, data: 'data:example', extra: 'Order Created', records: -1, record: true, remaining: true }, 'handler saw');
  });
});

test('eventbridge: the ECR sample matches "aws.ecr/ECR Image Action"', async () => {
  await withRuntime({}, async ({ emu, rt, invoke }) => {
    const ev = load('ecr-image-push-event.json');
    eq(result(await invoke(ev), 'ecr'), null, 'function result');
    const h = await handled(emu, rt);
    eq(h.map((x) => [x.source, x.id, x.data, x.extra]), [['eventbridge', ev.id, 'data:ecr', 'ECR Image Action']], 'handler saw');
    eq(JSON.parse(h[0].body), ev.detail, 'body');
  });
});

test('eventbridge: a handler failure is EventHandlerError naming the record', async () => {
  await withRuntime({}, async ({ invoke }) => {
    invocationError(await invoke(ORDER('fail', 'ev-2')), 'EventHandlerError', includes('rejected eventbridge record ev-2'), 'failing order');
  });
});

test('eventbridge: an event no registration matches (aws.codebuild) is Runtime.UnhandledEvent "no handler for eventbridge"', async () => {
  await withRuntime({}, async ({ emu, rt, invoke }) => {
    const ev = { ...ORDER('new'), source: 'aws.codebuild', 'detail-type': 'CodeBuild Build State Change' };
    invocationError(await invoke(ev), 'Runtime.UnhandledEvent', startsWith('no handler for eventbridge'), 'codebuild');
    eq(await handled(emu, rt), [], 'no handler ran');
  });
});

test('sqs: the sample message is handled; the result is {"batchItemFailures":[]}', async () => {
  await withRuntime({}, async ({ emu, rt, invoke }) => {
    const ev = load('sqs-event.json');
    eq(result(await invoke(ev), 'sqs'), { batchItemFailures: [] }, 'function result');
    eq(await handled(emu, rt), [{ source: 'sqs', id: 'MessageID_1', body: 'Message Body', data: 'data:sqs', extra: ev.Records[0].eventSourceARN, records: 1, record: true, remaining: true }], 'handler saw');
  });
});

test('sqs: one failed message of three is the only batchItemFailure; every message is handled', async () => {
  await withRuntime({}, async ({ emu, rt, invoke }) => {
    eq(result(await invoke(SQS(['a', 'fail', 'c'])), 'sqs'), { batchItemFailures: [{ itemIdentifier: 'm2' }] }, 'function result');
    eq((await handled(emu, rt)).map((h) => [h.id, h.body, h.records]), [['m1', 'a', 3], ['m2', 'fail', 3], ['m3', 'c', 3]], 'handled');
  });
});

test('sqs: every message failing lists every message, in order', async () => {
  await withRuntime({}, async ({ invoke }) => {
    eq(result(await invoke(SQS(['fail', 'fail'])), 'sqs'), { batchItemFailures: [{ itemIdentifier: 'm1' }, { itemIdentifier: 'm2' }] }, 'function result');
  });
});

test('sqs FIFO (ARN ending .fifo): the failed message and every later one are listed; the later ones are not handled', async () => {
  await withRuntime({}, async ({ emu, rt, invoke }) => {
    const ev = SQS(['a', 'fail', 'c', 'd'], 'arn:aws:sqs:us-west-2:123456789012:Orders.fifo');
    eq(result(await invoke(ev), 'fifo'), { batchItemFailures: [{ itemIdentifier: 'm2' }, { itemIdentifier: 'm3' }, { itemIdentifier: 'm4' }] }, 'function result');
    eq((await handled(emu, rt)).map((h) => h.id), ['m1', 'm2'], 'handled');
  });
});

test('sns: the sample notification is handled (Message, MessageId, Subject); result null', async () => {
  await withRuntime({}, async ({ emu, rt, invoke }) => {
    const ev = load('sns-event.json');
    eq(result(await invoke(ev), 'sns'), null, 'function result');
    eq(await handled(emu, rt), [{ source: 'sns', id: ev.Records[0].Sns.MessageId, body: 'Hello from SNS!', data: 'data:sns', extra: 'TestInvoke', records: 1, record: true, remaining: true }], 'handler saw');
  });
});

test('sns: a handler failure is EventHandlerError naming the message', async () => {
  await withRuntime({}, async ({ invoke }) => {
    const ev = load('sns-event.json');
    ev.Records[0].Sns.Message = 'fail';
    invocationError(await invoke(ev), 'EventHandlerError', includes(`rejected sns record ${ev.Records[0].Sns.MessageId}`), 'sns');
  });
});

test('s3: the sample record is handled (URL-decoded key, sequencer id, bucket filter); result null', async () => {
  await withRuntime({}, async ({ emu, rt, invoke }) => {
    eq(result(await invoke(load('s3-event.json')), 's3'), null, 'function result');
    eq(await handled(emu, rt), [{ source: 's3', id: 'Happy Sequencer', body: 'Happy Face.jpg', data: 'data:s3', extra: 'sourcebucket', records: 1, record: true, remaining: true }], 'handler saw');
  });
});

test('s3: a handler failure is EventHandlerError; a bucket no filter matches is Runtime.UnhandledEvent "no handler for s3"', async () => {
  await withRuntime({}, async ({ invoke }) => {
    const ev = load('s3-event.json');
    ev.Records[0].s3.object.key = 'fail';
    invocationError(await invoke(ev), 'EventHandlerError', includes('rejected s3 record Happy Sequencer'), 'failing key');
    const other = load('s3-event.json');
    other.Records[0].s3.bucket.name = 'otherbucket';
    invocationError(await invoke(other), 'Runtime.UnhandledEvent', startsWith('no handler for s3'), 'other bucket');
  });
});

test('dynamodb: the sample records are handled (NewImage as the body, sequence numbers); no failures', async () => {
  await withRuntime({}, async ({ emu, rt, invoke }) => {
    const ev = load('dynamodb-event.json');
    eq(result(await invoke(ev), 'dynamodb'), { batchItemFailures: [] }, 'function result');
    const h = await handled(emu, rt);
    eq(h.map((x) => [x.source, x.id, x.data, x.extra, x.records]), ev.Records.map((r) => ['dynamodb', r.dynamodb.SequenceNumber, 'data:dynamodb', r.dynamodb.Keys.key.S, ev.Records.length]), 'handled');
    eq(h.map((x) => JSON.parse(x.body)), ev.Records.map((r) => r.dynamodb.NewImage ?? r.dynamodb.OldImage), 'bodies');
  });
});

test('dynamodb: a REMOVE record\'s body is its OldImage; a failed record is listed by its sequence number', async () => {
  await withRuntime({}, async ({ emu, rt, invoke }) => {
    const ev = load('dynamodb-event.json');
    ev.Records = ev.Records.slice(0, 2);
    const rm = ev.Records[1];
    rm.eventName = 'REMOVE';
    rm.dynamodb.OldImage = rm.dynamodb.NewImage;
    delete rm.dynamodb.NewImage;
    rm.dynamodb.Keys.key.S = 'fail';
    eq(result(await invoke(ev), 'dynamodb'), { batchItemFailures: [{ itemIdentifier: rm.dynamodb.SequenceNumber }] }, 'function result');
    const h = await handled(emu, rt);
    eq(h.length, 2, 'handled records');
    eq(JSON.parse(h[1].body), rm.dynamodb.OldImage, 'REMOVE body');
  });
});

test('kinesis: the sample records are handled (data base64-decoded, sequence numbers); no failures', async () => {
  await withRuntime({}, async ({ emu, rt, invoke }) => {
    const ev = load('kinesis-event.json');
    eq(result(await invoke(ev), 'kinesis'), { batchItemFailures: [] }, 'function result');
    eq(await handled(emu, rt), kinesisSeq(ev).map((id) => ({ source: 'kinesis', id, body: 'Hello World', data: 'data:kinesis', extra: 's1', records: 2, record: true, remaining: true })), 'handler saw');
  });
});

test('kinesis: a failed record is listed by its sequence number', async () => {
  await withRuntime({}, async ({ invoke }) => {
    const ev = load('kinesis-event.json');
    ev.Records[0].kinesis.data = Buffer.from('fail').toString('base64');
    eq(result(await invoke(ev), 'kinesis'), { batchItemFailures: [{ itemIdentifier: kinesisSeq(ev)[0] }] }, 'function result');
  });
});

// ---------------------------------------------------------------------------------------------
// 3. events without a handler, of no known kind, malformed

const SAMPLES = {
  schedule: () => SCHEDULE(), eventbridge: () => load('ecr-image-push-event.json'), sqs: () => load('sqs-event.json'),
  sns: () => load('sns-event.json'), s3: () => load('s3-event.json'), dynamodb: () => load('dynamodb-event.json'),
  kinesis: () => load('kinesis-event.json'),
};
for (const [source, make] of Object.entries(SAMPLES)) {
  test(`no handler: the ${source} sample is Runtime.UnhandledEvent "no handler for ${source}..."`, async () => {
    await withRuntime({ EVENTS_HANDLERS: '' }, async ({ emu, rt, invoke }) => {
      invocationError(await invoke(make()), 'Runtime.UnhandledEvent', startsWith(`no handler for ${source}`), source);
      eq(await handled(emu, rt), [], 'no handler ran');
    });
  });
}

test('no handler for this source, handlers for others: the sns sample is Runtime.UnhandledEvent', async () => {
  await withRuntime({ EVENTS_HANDLERS: 'sqs,s3' }, async ({ invoke }) => {
    invocationError(await invoke(load('sns-event.json')), 'Runtime.UnhandledEvent', startsWith('no handler for sns'), 'sns');
  });
});

test('unknown: {"hello":"world"} (no known kind) is Runtime.UnknownEvent', async () => {
  await withRuntime({}, async ({ invoke }) => {
    invocationError(await invoke({ hello: 'world' }), 'Runtime.UnknownEvent', startsWith('the event is not an HTTP request'), 'hello');
  });
});

test('Records of a source mcp.c has no handlers for (aws:kafka) is Runtime.UnhandledEvent naming it', async () => {
  await withRuntime({}, async ({ invoke }) => {
    invocationError(await invoke({ Records: [{ eventSource: 'aws:kafka', value: 'x' }] }), 'Runtime.UnhandledEvent',
      startsWith('no handler for aws:kafka events'), 'kafka');
  });
});

const MALFORMED = [
  ['sqs: Records[0].messageId missing', 'Records[0].messageId', () => { const e = SQS(['a']); delete e.Records[0].messageId; return e; }],
  ['sqs: Records[1].messageId a number', 'Records[1].messageId', () => { const e = SQS(['a', 'b']); e.Records[1].messageId = 7; return e; }],
  ['sqs: Records[0].body a number', 'Records[0].body', () => { const e = SQS(['a']); e.Records[0].body = 1; return e; }],
  ['sns: Records[0].Sns.Message missing', 'Records[0].Sns.Message', () => { const e = load('sns-event.json'); delete e.Records[0].Sns.Message; return e; }],
  ['s3: Records[0].s3.object.key missing', 'Records[0].s3.object.key', () => { const e = load('s3-event.json'); delete e.Records[0].s3.object.key; return e; }],
  ['s3: Records[0].s3.bucket.name a number', 'Records[0].s3.bucket.name', () => { const e = load('s3-event.json'); e.Records[0].s3.bucket.name = 3; return e; }],
  ['dynamodb: Records[0].dynamodb.SequenceNumber missing', 'Records[0].dynamodb.SequenceNumber', () => { const e = load('dynamodb-event.json'); delete e.Records[0].dynamodb.SequenceNumber; return e; }],
  ['kinesis: Records[1].kinesis.data a number', 'Records[1].kinesis.data', () => { const e = load('kinesis-event.json'); e.Records[1].kinesis.data = 5; return e; }],
  ['kinesis: Records[0].kinesis.sequenceNumber missing', 'Records[0].kinesis.sequenceNumber', () => { const e = load('kinesis-event.json'); delete e.Records[0].kinesis.sequenceNumber; return e; }],
  ['eventbridge: detail a string', 'detail', () => ({ ...ORDER('new'), detail: 'x' })],
];
for (const [name, field, make] of MALFORMED) {
  test(`malformed ${name}: Runtime.InvalidEvent naming ${field}; no handler runs`, async () => {
    await withRuntime({}, async ({ emu, rt, invoke }) => {
      invocationError(await invoke(make()), 'Runtime.InvalidEvent', includes(field), name);
      eq(await handled(emu, rt), [], 'no handler ran');
    });
  });
}

// ---------------------------------------------------------------------------------------------
// 4. API Gateway: stages, base paths, REST buffered and streamed

const ROUTES = [
  ['HTTP API stage "prod", rawPath /prod/mcp', {}, { rawPath: '/prod/mcp', stage: 'prod' }, 200],
  ['HTTP API stage "prod", rawPath /mcp (no stage in the path)', {}, { rawPath: '/mcp', stage: 'prod' }, 200],
  ['HTTP API stage "$default", rawPath /mcp', {}, { rawPath: '/mcp', stage: '$default' }, 200],
  ['HTTP API stage "$default", rawPath /$default/mcp (nothing stripped)', {}, { rawPath: '/$default/mcp', stage: '$default' }, 404],
  ['HTTP API stage "prod", rawPath /production/mcp (a prefix, not the stage)', {}, { rawPath: '/production/mcp', stage: 'prod' }, 404],
  ['HTTP API stage "prod", rawPath /prod/other', {}, { rawPath: '/prod/other', stage: 'prod' }, 404],
  ['HTTP API MCP_BASE_PATH=/v1, rawPath /v1/mcp', { MCP_BASE_PATH: '/v1' }, { rawPath: '/v1/mcp' }, 200],
  ['HTTP API without MCP_BASE_PATH, rawPath /v1/mcp', {}, { rawPath: '/v1/mcp' }, 404],
];
for (const [name, env, where, status] of ROUTES) {
  test(`${name}: HTTP ${status}`, async () => {
    await withRuntime(env, async ({ invoke }) => {
      const { status: got, msg } = httpAnswer(await invoke(httpApi(call26(1, 'add', { a: 2, b: 3 }), { ...where, headers: headers26('add') })), name);
      eq(got, status, `statusCode (${show(msg)})`);
      if (status === 200) eq(msg, { jsonrpc: '2.0', id: 1, result: { ...ADD_RESULT, resultType: 'complete' } }, 'answer');
    });
  });
}

test('REST API MCP_BASE_PATH=/v1, path /v1/mcp: HTTP 200; path /mcp on stage testStage: HTTP 200 (buffered)', async () => {
  await withRuntime({ MCP_BASE_PATH: '/v1' }, async ({ invoke }) => {
    const a = httpAnswer(await invoke(restApi(call26(1, 'add', { a: 2, b: 3 }), { path: '/v1/mcp', headers: headers26('add') })), '/v1/mcp');
    eq([a.status, a.msg?.result], [200, { ...ADD_RESULT, resultType: 'complete' }], 'base path');
  });
  await withRuntime({}, async ({ invoke }) => {
    const r = await invoke(restApi(call26(2, 'add', { a: 2, b: 3 }), { headers: headers26('add') }));
    eq(r.kind, 'response', 'buffered without MCP_LAMBDA_STREAMING');
    const a = httpAnswer(r, '/mcp');
    eq([a.status, a.msg?.id], [200, 2], 'status and id');
  });
});

const header = (obj, name) => {
  for (const [k, v] of Object.entries(obj?.headers || {})) if (k.toLowerCase() === name) return v;
  for (const [k, v] of Object.entries(obj?.multiValueHeaders || {})) if (k.toLowerCase() === name) return [].concat(v).join(', ');
  return undefined;
};

for (const multi of [false, true]) {
  test(`MCP_LAMBDA_STREAMING=1: a REST API event${multi ? ' with multiValueHeaders' : ''} streams (prelude, 8 NUL bytes, body)`, async () => {
    await withRuntime({ MCP_LAMBDA_STREAMING: '1' }, async ({ invoke }) => {
      const r = await invoke(restApi(initialize(1), { multi }));
      eq(r.kind, 'stream', `kind (${r.errorType || ''} ${show(r.json)})`);
      eq(r.headers['lambda-runtime-function-response-mode'], 'streaming', 'Lambda-Runtime-Function-Response-Mode');
      eq(r.headers['content-type'], HTTP_INTEGRATION_CT, 'POST Content-Type');
      eq(r.prelude?.statusCode, 200, `prelude statusCode (${show(r.prelude)})`);
      assert(/^application\/json/.test(header(r.prelude, 'content-type') || ''), `prelude Content-Type: ${show(r.prelude)}`);
      assert(header(r.prelude, 'mcp-session-id'), `prelude Mcp-Session-Id: ${show(r.prelude)}`);
      const m = JSON.parse(r.payload.toString('utf8'));
      eq([m.id, m.result?.protocolVersion, m.result?.serverInfo?.name], [1, '2025-11-25', 'events-test'], 'payload');
    });
  });
}

test('MCP_LAMBDA_STREAMING=1: ALB, direct JSON-RPC and SQS events stay buffered; the function URL streams', async () => {
  await withRuntime({ MCP_LAMBDA_STREAMING: '1' }, async ({ invoke }) => {
    const alb = load('alb-lambda-target-request-headers-only.json');
    Object.assign(alb, { httpMethod: 'POST', path: '/mcp', body: JSON.stringify(initialize(1)), isBase64Encoded: false });
    alb.headers = { ...alb.headers, 'content-type': 'application/json', accept: ACCEPT };
    const a = await invoke(alb);
    eq(a.kind, 'response', 'ALB: buffered');
    eq(httpAnswer(a, 'ALB').status, 200, 'ALB: statusCode');
    eq((await invoke(call26(2, 'add', { a: 2, b: 3 }))).kind, 'response', 'direct: buffered');
    const s = await invoke(load('sqs-event.json'));
    eq([s.kind, s.json], ['response', { batchItemFailures: [] }], 'SQS: buffered result');
    const url = load('lambda-urls-request.json');
    Object.assign(url, { rawPath: '/mcp', rawQueryString: '', body: JSON.stringify(initialize(3)), isBase64Encoded: false, headers: { 'content-type': 'application/json', accept: ACCEPT } });
    url.requestContext.http.method = 'POST';
    url.requestContext.http.path = '/mcp';
    const u = await invoke(url);
    eq([u.kind, u.prelude?.statusCode], ['stream', 200], 'function URL: streamed');
  });
});

// ---------------------------------------------------------------------------------------------
// 5. authorizers reach mcp_auth

const NOBODY = { kind: null, principal: null, key: null, clientName: null, claim1: null, email: null, sub: null };
const AUTH = [
  ['HTTP API Lambda authorizer (sample: context {key})', () => ({ file: 'apigw-v2-request-lambda-authorizer.json' }), null,
    { kind: 'lambda-authorizer', key: 'value' }],
  ['HTTP API Lambda authorizer with principalId', () => ({ file: 'apigw-v2-request-lambda-authorizer.json' }), (e) => { e.requestContext.authorizer.lambda.principalId = 'user-7'; },
    { kind: 'lambda-authorizer', principal: 'user-7', key: 'value' }],
  ['HTTP API Lambda authorizer with sub', () => ({ file: 'apigw-v2-request-lambda-authorizer.json' }), (e) => { e.requestContext.authorizer.lambda.sub = 'sub-8'; },
    { kind: 'lambda-authorizer', principal: 'sub-8', key: 'value', sub: 'sub-8' }],
  ['HTTP API JWT authorizer (sample claims)', () => ({ file: 'apigw-v2-request-jwt-authorizer.json' }), null,
    { kind: 'gateway-jwt', claim1: 'value1' }],
  ['HTTP API JWT authorizer with sub and email', () => ({ file: 'apigw-v2-request-jwt-authorizer.json' }), (e) => { Object.assign(e.requestContext.authorizer.jwt.claims, { sub: 'jwt-9', email: 'j@example.com' }); },
    { kind: 'gateway-jwt', principal: 'jwt-9', claim1: 'value1', email: 'j@example.com', sub: 'jwt-9' }],
  ['HTTP API IAM (sample)', () => ({ file: 'apigw-v2-request-iam.json' }), null,
    { kind: 'iam', principal: 'arn:aws:iam::1234567890:user/Admin' }],
  ['REST API Lambda authorizer (sample: principalId admin, clientName)', () => ({ rest: true }), null,
    { kind: 'lambda-authorizer', principal: 'admin', clientName: 'Exata' }],
  ['REST API Cognito user pool authorizer (claims)', () => ({ rest: true }), (e) => { e.requestContext.authorizer = { claims: { sub: 'c-1', email: 'a@example.com', 'cognito:username': 'alice' } }; },
    { kind: 'gateway-jwt', principal: 'c-1', email: 'a@example.com', sub: 'c-1' }],
  ['REST API IAM (no authorizer, identity.userArn)', () => ({ rest: true }), (e) => { delete e.requestContext.authorizer; },
    { kind: 'iam', principal: 'theUserArn' }],
];
for (const [name, where, change, want] of AUTH) {
  test(`mcp_auth: ${name}`, async () => {
    await withRuntime({}, async ({ invoke }) => {
      const w = where();
      const make = (msg, h) => {
        const e = w.rest ? restApi(msg, { headers: h }) : httpApi(msg, { file: w.file, headers: h });
        if (change) change(e);
        return e;
      };
      eq(whoami(await callOver(invoke, make, 'whoami'), name), { ...NOBODY, ...want }, 'mcp_auth');
    });
  });
}

// ---------------------------------------------------------------------------------------------
// 6. AgentCore Gateway Lambda targets

const GATEWAY_ID = 'mcp-gw-0123456789';
const agentcore = (tool) => ({
  custom: {
    bedrockAgentCoreGatewayId: GATEWAY_ID, bedrockAgentCoreTargetId: 'TGT0123456', bedrockAgentCoreMessageVersion: '1.0',
    bedrockAgentCoreAwsRequestId: 'b7f4c1a2-1111-2222-3333-444455556666', bedrockAgentCoreMcpMessageId: '7',
    bedrockAgentCoreToolName: tool,
  },
  client: {}, env: {},
});

test('agentcore: calc___add with {a:2,b:3} answers the CallToolResult with structuredContent', async () => {
  await withRuntime({}, async ({ invoke }) => {
    eq(result(await invoke({ a: 2, b: 3 }, { clientContext: agentcore('calc___add') }), 'add'), ADD_RESULT, 'function result');
  });
});

test('agentcore: only the prefix up to the first "___" is removed (tgt___two___parts)', async () => {
  await withRuntime({}, async ({ invoke }) => {
    eq(result(await invoke({}, { clientContext: agentcore('tgt___two___parts') }), 'two___parts'), { content: [{ type: 'text', text: 'two parts' }] }, 'function result');
  });
});

test('agentcore: arguments against the schema (a string for a number, b missing) are InvalidArguments', async () => {
  await withRuntime({}, async ({ invoke }) => {
    invocationError(await invoke({ a: 'two', b: 3 }, { clientContext: agentcore('calc___add') }), 'InvalidArguments', startsWith('Invalid arguments for tool add: '), 'a string');
    invocationError(await invoke({ a: 2 }, { clientContext: agentcore('calc___add') }), 'InvalidArguments', startsWith('Invalid arguments for tool add: '), 'b missing');
  });
});

test('agentcore: an unknown tool is UnknownTool', async () => {
  await withRuntime({}, async ({ invoke }) => {
    invocationError(await invoke({}, { clientContext: agentcore('calc___nope') }), 'UnknownTool', () => true, 'calc___nope');
  });
});

test('agentcore: a tool error result is ToolError with the tool\'s text', async () => {
  await withRuntime({}, async ({ invoke }) => {
    invocationError(await invoke({ reason: 'boom' }, { clientContext: agentcore('calc___fail') }), 'ToolError', (m) => m === 'refused: boom', 'fail');
  });
});

test('agentcore: mcp_auth kind "agentcore", principal the gateway id (mcp.h)', async () => {
  await withRuntime({}, async ({ invoke }) => {
    const j = result(await invoke({}, { clientContext: agentcore('calc___whoami') }), 'whoami');
    eq(whoami(j, 'whoami'), { ...NOBODY, kind: 'agentcore', principal: GATEWAY_ID }, 'mcp_auth');
  });
});

test('agentcore: tool arguments shaped like another event (Records of aws:sqs) still go to the tool', async () => {
  await withRuntime({}, async ({ emu, rt, invoke }) => {
    const r = await invoke(load('sqs-event.json'), { clientContext: agentcore('calc___two___parts') });
    // two___parts takes no arguments; its schema has no additionalProperties, so extra members pass
    eq(result(r, 'sqs-shaped arguments'), { content: [{ type: 'text', text: 'two parts' }] }, 'function result');
    eq(await handled(emu, rt), [], 'the SQS handler did not run');
  });
});

// ---------------------------------------------------------------------------------------------
// 7. tool-schema --agentcore

test('tool-schema --agentcore prints the tools with only type, description, items, properties, required', async () => {
  const p = spawnSync(BINARY, ['tool-schema', '--agentcore'], { env: { PATH: process.env.PATH }, encoding: 'utf8', timeout: 10000 * SLOW });
  eq(p.status, 0, `exit status (stderr: ${p.stderr})`);
  let got;
  try { got = JSON.parse(p.stdout); } catch { throw new Fail(`stdout is not JSON: ${show(p.stdout)}`); }
  const empty = { type: 'object', properties: {} };
  eq(got, [
    { name: 'add', description: 'Add two numbers',
      inputSchema: { type: 'object', description: 'two numbers', properties: { a: { type: 'number', description: 'the first' }, b: { type: 'number' }, tags: { type: 'array', items: { type: 'string' } } }, required: ['a', 'b'] },
      outputSchema: { type: 'object', properties: { sum: { type: 'number' } }, required: ['sum'] } },
    { name: 'fail', description: 'Always a tool error',
      inputSchema: { type: 'object', properties: { reason: { type: 'string' }, format: { type: 'string' }, default: { type: 'boolean' } }, required: ['reason'] } },
    { name: 'two___parts', description: 'A name with three underscores', inputSchema: empty },
    { name: 'whoami', description: 'Who the runtime says is calling', inputSchema: empty },
  ], 'tool-schema --agentcore');
});

test('SIGTERM at shutdown: the runtime says so on stderr and exits 0 (its logs and metrics were written as made)', async () => {
  await withRuntime({}, async ({ rt, invoke }) => {
    await invoke({ jsonrpc: '2.0', id: 1, method: 'ping' });
    rt.proc.kill('SIGTERM');
    const e = await within(rt.exited, 5000 * SLOW, 'exit after SIGTERM');
    eq([e.code, e.signal], [0, null], 'exit status');
    eq(rt.stderr().split('\n').filter((l) => l.includes('SIGTERM')), ['mcp: SIGTERM: the sandbox is shutting down; logs and metrics are written'], 'stderr');
  });
});

// ---------------------------------------------------------------------------------------------
// 8. the data-tools example's scheduled refresh

/** A local HTTP server answering with answer(req, body); its requests in .seen. */
async function stub(answer) {
  const seen = [];
  const server = http.createServer((req, res) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      seen.push({ method: req.method, url: req.url, headers: req.headers, body });
      const [status, headers, text] = answer(req, body);
      res.writeHead(status, { 'Content-Length': Buffer.byteLength(text), ...headers });
      res.end(text);
    });
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  return { seen, url: `http://127.0.0.1:${server.address().port}`, close: () => new Promise((r) => server.close(r)) };
}

const CSV = 'day,sales\n2026-12-01,3\n2026-12-02,5\n';
const DENIED = '<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>AccessDenied</Code><Message>Access Denied</Message></Error>';

/** The data-tools server with a source answering source() and an S3 answering s3(). */
async function withRefresh({ source = () => [200, { 'Content-Type': 'text/csv' }, CSV], s3 = () => [200, { ETag: '"e"' }, ''], env = {} }, fn) {
  const src = await stub(source), s3s = await stub(s3);
  try {
    await withRuntime({
      REFRESH_URL: `${src.url}/export/sales.csv`, REFRESH_BUCKET: 'data-bucket', REFRESH_KEY: 'seed/latest.csv',
      AWS_ENDPOINT_URL_S3: s3s.url, AWS_ACCESS_KEY_ID: 'AKIDEXAMPLE', AWS_SECRET_ACCESS_KEY: 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY', AWS_MAX_ATTEMPTS: '1', ...env,
    }, (x) => fn({ ...x, src, s3: s3s }), DATATOOLS);
  } finally { await src.close(); await s3s.close(); }
}

if (DATATOOLS) {
  test('datatools refresh: a schedule fetches REFRESH_URL and puts it to s3://REFRESH_BUCKET/REFRESH_KEY (signed, its Content-Type); result null', async () => {
    await withRefresh({}, async ({ invoke, src, s3 }) => {
      eq(result(await invoke(SCHEDULE()), 'refresh'), null, 'function result');
      eq(src.seen.map((r) => [r.method, r.url]), [['GET', '/export/sales.csv']], 'source requests');
      eq(s3.seen.map((r) => [r.method, r.url, r.body, r.headers['content-type']]), [['PUT', '/data-bucket/seed/latest.csv', CSV, 'text/csv']], 'S3 requests');
      assert(/^AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE\/\d{8}\/us-east-1\/s3\/aws4_request, /.test(s3.seen[0].headers.authorization || ''), `S3 Authorization: ${s3.seen[0].headers.authorization}`);
    });
  });
  test('datatools refresh: a source answering 503 fails the invocation naming the URL and status; nothing is written', async () => {
    await withRefresh({ source: () => [503, {}, 'busy'] }, async ({ invoke, src, s3 }) => {
      invocationError(await invoke(SCHEDULE()), 'EventHandlerError', includes(`refresh: GET ${src.url}/export/sales.csv answered HTTP 503`), 'refresh');
      eq(s3.seen.length, 0, 'S3 requests');
    });
  });
  test('datatools refresh: S3 refusing the write (403 AccessDenied) fails the invocation naming the object', async () => {
    await withRefresh({ s3: () => [403, { 'Content-Type': 'application/xml' }, DENIED] }, async ({ invoke }) => {
      invocationError(await invoke(SCHEDULE()), 'EventHandlerError', includes('refresh: writing s3://data-bucket/seed/latest.csv: '), 'refresh');
    });
  });
  test('datatools refresh: REFRESH_BUCKET unset fails the invocation naming it; an SQS event has no handler', async () => {
    await withRefresh({ env: { REFRESH_BUCKET: '' } }, async ({ invoke, src }) => {
      invocationError(await invoke(SCHEDULE()), 'EventHandlerError', includes('refresh: REFRESH_BUCKET is not set'), 'refresh');
      eq(src.seen.length, 0, 'source requests');
      invocationError(await invoke(load('sqs-event.json')), 'Runtime.UnhandledEvent', startsWith('no handler for sqs'), 'sqs');
    });
  });
}

// ---------------------------------------------------------------------------------------------

for (const t of tests) {
  try {
    await within(t.fn(), 30000 * SLOW, t.name);
    passed++;
    console.log(`ok - ${t.name}`);
  } catch (e) {
    failed++;
    console.log(`not ok - ${t.name}: ${e instanceof Fail ? e.message : e.stack || e}`);
  }
}
console.log(`# ${passed} passed, ${failed} failed${SANITIZED ? ' (sanitized build)' : ''}`);
process.exit(failed ? 1 : 0);
