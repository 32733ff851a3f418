// test/outbound/test.mjs: the outbound tests of examples/datatools.c. Run by run.sh, which
// builds fetch.c and the test PKI first:
//   node test.mjs DATATOOLS FETCH WORKDIR FULL(0|1)
// Starts, all on 127.0.0.1 and all stopped at the end: openssl s_server instances (good,
// expired, wrong host, untrusted, TLS 1.3 only), s3rver over HTTPS, a fake OpenAI-compatible
// API and a fake AWS JSON-protocol endpoint (SSM, Secrets Manager) that checks SigV4.
// Prints "ok - name" / "not ok - name: why" and "# N passed, M failed"; exits 1 on failure.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import path from 'node:path';
import { createRequire } from 'node:module';
import { RuntimeApiEmulator, spawnRuntime } from '../lambda/emulator.mjs';

const require = createRequire(import.meta.url);
const S3rver = require('s3rver');

const [BIN, FETCH, WORK, FULL_ARG] = process.argv.slice(2);
const FULL = FULL_ARG === '1';
const PKI = path.join(WORK, 'pki');
const DATA = path.join(WORK, 'data');
const pem = (f) => fs.readFileSync(path.join(PKI, f));
const CA = pem('ca.pem');
const GOOD = { key: pem('good.key'), cert: pem('good.pem') };
const ASAN = fs.readFileSync(BIN).includes('__asan_init');

/*--- reporting ---*/

let passed = 0, failed = 0;
const children = new Set();
async function test(name, fn) {
  const t0 = Date.now();
  try {
    const note = await fn();
    passed++;
    console.log(`ok - ${name}${note ? ` (${note})` : ''}`);
  } catch (e) {
    failed++;
    const lines = String(e && e.message ? e.message : e).split('\n').filter(Boolean);
    console.log(`not ok - ${name}: ${lines[0]}`);
    for (const l of lines.slice(1, 40)) console.log(`#   ${l}`);
  }
  timings.push([name, Date.now() - t0]);
}
const timings = [];
const secs = (ms) => `${(ms / 1000).toFixed(2)} s`;

/*--- processes ---*/

const CLEAN = Object.fromEntries(Object.entries(process.env).filter(([k]) =>
  !/^(AWS_|OPENAI_|SSL_CERT_|DATA_ROOT$|MCP_)/.test(k)));

// Children are listed in WORK/pids while they run, for run.sh to stop if this process is.
function spawnTracked(cmd, args, opts) {
  const p = spawn(cmd, args, opts);
  const list = () => fs.writeFileSync(path.join(WORK, 'pids'), [...children].map((c) => `${c.pid}\n`).join(''));
  children.add(p);
  list();
  p.on('exit', () => { children.delete(p); list(); });
  return p;
}

// Run a command to completion: {code, signal, stdout, stderr, ms}. env values of undefined
// remove a variable.
function run(cmd, args, { env = {}, timeout = 60000, cwd } = {}) {
  return new Promise((resolve) => {
    const e = { ...CLEAN };
    for (const [k, v] of Object.entries(env)) if (v === undefined) delete e[k]; else e[k] = v;
    const t0 = Date.now();
    const p = spawnTracked(cmd, args, { env: e, cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    const out = [], err = [];
    p.stdout.on('data', (d) => out.push(d));
    p.stderr.on('data', (d) => err.push(d));
    let timedOut = false;
    const timer = setTimeout(() => { timedOut = true; p.kill('SIGKILL'); }, timeout);
    p.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, timedOut, ms: Date.now() - t0,
                stdout: Buffer.concat(out).toString(), stderr: Buffer.concat(err).toString() });
    });
  });
}

function describeRun(r) {
  return `exit ${r.code}${r.signal ? ` signal ${r.signal}` : ''}${r.timedOut ? ' (timed out)' : ''}; ` +
         `stdout: ${r.stdout.slice(0, 600)}; stderr: ${r.stderr.slice(0, 1500)}`;
}

// `BIN call TOOL ARGS`: the parsed result, with the raw run.
async function call(tool, args, env = {}, opts = {}) {
  const r = await run(opts.bin || BIN, ['call', tool, JSON.stringify(args)], { env: { ...baseEnv(), ...env }, ...opts });
  let res;
  try { res = JSON.parse(r.stdout); } catch { throw new Error(`no JSON result: ${describeRun(r)}`); }
  return { res, r };
}
async function callOk(tool, args, env, opts) {
  const { res, r } = await call(tool, args, env, opts);
  if (r.code !== 0 || res.isError) throw new Error(`expected success: ${describeRun(r)}`);
  return { res, r };
}
async function callErr(tool, args, env, want, opts) {
  const { res, r } = await call(tool, args, env, opts);
  assert.equal(res.isError, true, `expected isError: ${describeRun(r)}`);
  assert.equal(r.code, 1, `call exits 1 on isError: ${describeRun(r)}`);
  assert.equal(res.content[0].text, want);
  return { res, r };
}

// Peak resident memory of one `call` (KiB), measured by GNU time.
async function callMeasured(tool, args, env, opts = {}) {
  const r = await run('/usr/bin/time', ['-f', 'maxrss=%M', BIN, 'call', tool, JSON.stringify(args)], { env: { ...baseEnv(), ...env }, ...opts });
  let res;
  try { res = JSON.parse(r.stdout); } catch { throw new Error(`no JSON result: ${describeRun(r)}`); }
  if (r.code !== 0 || res.isError) throw new Error(`expected success: ${describeRun(r)}`);
  return { res, r, rssKiB: Number(/maxrss=(\d+)/.exec(r.stderr)?.[1]) };
}

function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer().listen(0, '127.0.0.1', () => { const { port } = s.address(); s.close(() => resolve(port)); });
    s.on('error', reject);
  });
}
async function waitPort(port, ms = 10000) {
  const end = Date.now() + ms;
  for (;;) {
    const ok = await new Promise((resolve) => {
      const c = net.connect(port, '127.0.0.1', () => { c.destroy(); resolve(true); });
      c.on('error', () => resolve(false));
    });
    if (ok) return;
    if (Date.now() > end) throw new Error(`nothing listens on port ${port}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

// `BIN serve` on a free port, ready when /health answers.
async function serve(env) {
  const port = await freePort();
  const e = { ...CLEAN, ...baseEnv(), ...env };
  const p = spawnTracked(BIN, ['serve', '--listen', `127.0.0.1:${port}`], { env: e, stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  p.stderr.on('data', (d) => { stderr += d; });
  const url = `http://127.0.0.1:${port}`;
  const end = Date.now() + 15000;
  for (;;) {
    try { if ((await fetch(`${url}/health`)).ok) break; } catch { /* not yet */ }
    if (p.exitCode !== null || Date.now() > end) throw new Error(`serve did not start: ${stderr}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  const stop = () => new Promise((resolve) => {
    if (p.exitCode !== null) return resolve();
    p.on('exit', resolve);
    p.kill('SIGTERM');
    setTimeout(() => p.kill('SIGKILL'), 5000).unref();
  });
  const post = async (tool, args) => {
    const r = await fetch(`${url}/tools/${tool}`, { method: 'POST', headers: { 'content-type': 'application/json' },
                                                   body: JSON.stringify(args), signal: AbortSignal.timeout(60000) });
    const text = await r.text();
    try { return { status: r.status, body: JSON.parse(text) }; } catch { throw new Error(`HTTP ${r.status}: ${text}`); }
  };
  const metrics = async () => (await fetch(`${url}/metrics`)).json();
  return { url, post, metrics, stop, stderr: () => stderr };
}

/*--- fake servers ---*/

const readBody = (req) => new Promise((resolve) => {
  const parts = [];
  req.on('data', (d) => parts.push(d));
  req.on('end', () => resolve(Buffer.concat(parts)));
});
function sendJson(res, status, obj, type = 'application/json') {
  const body = JSON.stringify(obj);
  res.writeHead(status, { 'content-type': type, 'content-length': Buffer.byteLength(body) });
  res.end(body);
}

// An OpenAI-compatible chat completions API.
const llm = { keys: new Set(['sk-test-123', 'sk-from-ssm-456', 'sk-from-secret-789']), requests: [], tlsConnections: 0 };
function startLlm() {
  const srv = https.createServer({ ...GOOD }, async (req, res) => {
    const body = (await readBody(req)).toString();
    llm.requests.push({ method: req.method, url: req.url, auth: req.headers.authorization, type: req.headers['content-type'], body });
    if (req.method !== 'POST' || req.url !== '/v1/chat/completions')
      return sendJson(res, 404, { error: { message: `Unknown request URL: ${req.method} ${req.url}.`, type: 'invalid_request_error' } });
    const key = /^Bearer (.*)$/.exec(req.headers.authorization || '')?.[1];
    if (!llm.keys.has(key))
      return sendJson(res, 401, { error: { message: `Incorrect API key provided: ${key}.`, type: 'invalid_request_error', param: null, code: 'invalid_api_key' } });
    const q = JSON.parse(body);
    sendJson(res, 200, {
      id: 'chatcmpl-test', object: 'chat.completion', created: 1700000000, model: q.model,
      choices: [{ index: 0, message: { role: 'assistant', content: `canned answer to: ${q.messages[0].content}` }, finish_reason: 'stop' }],
      usage: { prompt_tokens: 5, completion_tokens: 5, total_tokens: 10 },
    });
  });
  srv.keepAliveTimeout = 60000;
  srv.on('secureConnection', () => { llm.tlsConnections++; });
  return new Promise((resolve) => srv.listen(0, '127.0.0.1', () => resolve(srv)));
}

// SigV4 as AWS specifies it, for the JSON protocol (path "/", no query): null when the
// Authorization header is well formed and its signature is right, else why not.
const AWS_KEY = { id: 'AKIDOUTBOUNDTEST', secret: 'outbound/secret+key', region: 'eu-west-3' };
const sha256 = (b) => crypto.createHash('sha256').update(b).digest('hex');
const hmac = (k, s) => crypto.createHmac('sha256', k).update(s).digest();
function sigv4Problem(req, body, service) {
  const m = /^AWS4-HMAC-SHA256 Credential=([^/]+)\/(\d{8})\/([^/]+)\/([^/]+)\/aws4_request, SignedHeaders=([a-z0-9;-]+), Signature=([0-9a-f]{64})$/
    .exec(req.headers.authorization || '');
  if (!m) return `malformed Authorization header: ${req.headers.authorization}`;
  const [, id, date, region, svc, signed, sig] = m;
  const amz = req.headers['x-amz-date'] || '';
  if (!/^\d{8}T\d{6}Z$/.test(amz) || amz.slice(0, 8) !== date) return `bad X-Amz-Date ${amz}`;
  if (Math.abs(Date.parse(`${amz.slice(0, 4)}-${amz.slice(4, 6)}-${amz.slice(6, 8)}T${amz.slice(9, 11)}:${amz.slice(11, 13)}:${amz.slice(13, 15)}Z`) - Date.now()) > 300000)
    return `X-Amz-Date ${amz} is not now`;
  if (id !== AWS_KEY.id) return `unknown access key ${id}`;
  if (region !== AWS_KEY.region || svc !== service) return `credential scope ${region}/${svc}, expected ${AWS_KEY.region}/${service}`;
  const names = signed.split(';');
  for (const h of ['content-type', 'host', 'x-amz-date', 'x-amz-target'])
    if (!names.includes(h)) return `${h} is not signed (${signed})`;
  if ([...names].sort().join(';') !== signed) return `SignedHeaders not sorted: ${signed}`;
  const canonHeaders = names.map((n) => `${n}:${String(req.headers[n] ?? '').trim().replace(/ +/g, ' ')}\n`).join('');
  const cr = [req.method, '/', '', canonHeaders, signed, sha256(body)].join('\n');
  const sts = ['AWS4-HMAC-SHA256', amz, `${date}/${region}/${svc}/aws4_request`, sha256(cr)].join('\n');
  let k = hmac(`AWS4${AWS_KEY.secret}`, date);
  k = hmac(hmac(hmac(k, region), svc), 'aws4_request');
  return hmac(k, sts).toString('hex') === sig ? null : 'SignatureDoesNotMatch';
}

// AmazonSSM.GetParameters / GetParameter and secretsmanager.GetSecretValue.
const aws = {
  params: { '/mcp-server/openai-api-key': 'sk-from-ssm-456', '/mcp-server/other': 'other-value' },
  secrets: { 'prod/openai': JSON.stringify({ api_key: 'sk-from-secret-789', org: 'org-1' }) },
  requests: [],
};
function startAws() {
  const srv = https.createServer({ ...GOOD }, async (req, res) => {
    const body = await readBody(req);
    const target = req.headers['x-amz-target'] || '';
    const service = target.startsWith('AmazonSSM.') ? 'ssm' : 'secretsmanager';
    const problem = sigv4Problem(req, body, service);
    aws.requests.push({ target, body: body.toString(), problem, type: req.headers['content-type'], auth: req.headers.authorization });
    const type = 'application/x-amz-json-1.1';
    if (req.headers['content-type'] !== type) return sendJson(res, 400, { __type: 'SerializationException', message: `content type ${req.headers['content-type']}` }, type);
    if (problem === 'SignatureDoesNotMatch')
      return sendJson(res, 400, { __type: 'InvalidSignatureException', message: 'The request signature we calculated does not match the signature you provided.' }, type);
    if (problem) return sendJson(res, 400, { __type: 'IncompleteSignatureException', message: problem }, type);
    const q = JSON.parse(body.toString());
    const param = (n) => ({ Name: n, Type: 'SecureString', Value: aws.params[n], Version: 1, ARN: `arn:aws:ssm:${AWS_KEY.region}:123456789012:parameter${n}`, DataType: 'text' });
    if (target === 'AmazonSSM.GetParameters') {
      if (q.WithDecryption !== true) return sendJson(res, 400, { __type: 'ValidationException', message: 'WithDecryption must be true here' }, type);
      const names = q.Names || [];
      // a secret by name through Parameter Store, as AWS serves /aws/reference/secretsmanager/NAME
      const ref = (n) => n.startsWith('/aws/reference/secretsmanager/') && n.slice(30) in aws.secrets;
      const secret = (n) => ({ Name: n, Type: 'SecureString', Value: aws.secrets[n.slice(30)], Version: 0, SourceResult: '{}', ARN: `arn:aws:ssm:${AWS_KEY.region}:123456789012:parameter${n}`, DataType: 'text' });
      return sendJson(res, 200, { Parameters: [...names.filter((n) => n in aws.params).map(param), ...names.filter(ref).map(secret)],
                                  InvalidParameters: names.filter((n) => !(n in aws.params) && !ref(n)) }, type);
    }
    if (target === 'AmazonSSM.GetParameter') {
      if (!(q.Name in aws.params)) return sendJson(res, 400, { __type: 'ParameterNotFound', message: '' }, type);
      return sendJson(res, 200, { Parameter: param(q.Name) }, type);
    }
    if (target === 'secretsmanager.GetSecretValue') {
      if (!(q.SecretId in aws.secrets))
        return sendJson(res, 400, { __type: 'ResourceNotFoundException', message: "Secrets Manager can't find the specified secret." }, type);
      return sendJson(res, 200, { ARN: `arn:aws:secretsmanager:${AWS_KEY.region}:123456789012:secret:${q.SecretId}-AbCdEf`, Name: q.SecretId, SecretString: aws.secrets[q.SecretId], VersionId: 'v1', VersionStages: ['AWSCURRENT'], CreatedDate: 1700000000 }, type);
    }
    return sendJson(res, 400, { __type: 'UnknownOperationException', message: target }, type);
  });
  return new Promise((resolve) => srv.listen(0, '127.0.0.1', () => resolve(srv)));
}

// openssl s_server -www with a certificate of the test PKI.
async function sServer(name, extra = []) {
  const port = await freePort();
  const p = spawnTracked('openssl', ['s_server', '-quiet', '-www', '-accept', `127.0.0.1:${port}`, '-cert', path.join(PKI, `${name}.pem`),
                                     '-key', path.join(PKI, `${name}.key`), ...extra], { stdio: ['pipe', 'ignore', 'ignore'] });
  await waitPort(port);
  return { port, p };
}

/*--- fixtures ---*/

const agent = new https.Agent({ keepAlive: true, ca: CA });
let s3port;
function s3put(key, body, length) { // a stream goes on a new connection: a kept-alive one may have timed out
  return new Promise((resolve, reject) => {
    const rq = https.request({ host: 'localhost', port: s3port, method: 'PUT', path: `/data/${key}`,
                               ...(length === undefined ? { agent } : { agent: false, ca: CA }),
                               headers: { 'x-amz-content-sha256': 'UNSIGNED-PAYLOAD', 'content-length': length ?? Buffer.byteLength(body) } },
      (rs) => { rs.resume(); rs.on('end', () => (rs.statusCode === 200 ? resolve() : reject(new Error(`PUT ${key}: HTTP ${rs.statusCode}`)))); });
    rq.on('error', reject);
    if (typeof body?.pipe === 'function') body.pipe(rq); else rq.end(body);
  });
}
async function fixture(name, content) {
  fs.writeFileSync(path.join(DATA, name), content);
  await s3put(`fixtures/${name}`, content);
}
async function bigFixture(name, rows) { // generated to a file, then streamed to S3
  const file = path.join(DATA, name);
  const exp = writeGenerated(file, rows);
  const size = fs.statSync(file).size;
  await s3put(`big/${name}`, fs.createReadStream(file), size);
  return { ...exp, size };
}

// The generated CSV: CRLF line ends, quoted fields with commas, doubled quotes and line
// breaks, nulls; its exact profile is tracked while writing.
function writeGenerated(file, n) {
  const fd = fs.openSync(file, 'w');
  const day0 = Date.UTC(2020, 0, 1);
  const days = Array.from({ length: 1500 }, (_, k) => new Date(day0 + k * 86400000).toISOString().slice(0, 10));
  const st = { amount: [Infinity, -Infinity], flag: [null, null, 0], day: [null, null], label: [null, null], note: [null, null, 0] };
  const lex = (s, v) => { if (s[0] === null || v < s[0]) s[0] = v; if (s[1] === null || v > s[1]) s[1] = v; };
  const sample = [];
  let chunk = 'id,amount,flag,day,label,note\r\n';
  for (let i = 1; i <= n; i++) {
    const cents = (i * 37) % 20001 - 10000;
    const amount = `${cents < 0 ? '-' : ''}${Math.floor(Math.abs(cents) / 100)}.${String(Math.abs(cents) % 100).padStart(2, '0')}`;
    st.amount[0] = Math.min(st.amount[0], cents); st.amount[1] = Math.max(st.amount[1], cents);
    const flag = i % 3 === 0 ? '' : i % 2 ? 'true' : 'false';
    if (flag) lex(st.flag, flag); else st.flag[2]++;
    const day = days[(i * 13) % 1500];
    lex(st.day, day);
    const label = i % 7 === 0 ? `lbl, "${i % 1000}"` : `L${String(i % 50000).padStart(5, '0')}`;
    lex(st.label, label);
    const note = i % 11 === 0 ? 'two\nlines' : i % 5 === 0 ? '' : `n${i % 97}`;
    if (note) lex(st.note, note); else st.note[2]++;
    const q = (s) => (/[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s);
    if (i <= 5) sample.push([String(i), amount, flag, day, label, note]);
    chunk += `${i},${amount},${flag},${day},${q(label)},${q(note)}\r\n`;
    if (chunk.length > 1 << 20) { fs.writeSync(fd, chunk); chunk = ''; }
  }
  fs.writeSync(fd, chunk);
  fs.closeSync(fd);
  const columns = [
    { name: 'id', type: 'integer', nulls: 0, min: 1, max: n },
    { name: 'amount', type: 'number', nulls: 0, min: st.amount[0] / 100, max: st.amount[1] / 100 },
    { name: 'flag', type: 'boolean', nulls: st.flag[2], min: st.flag[0], max: st.flag[1] },
    { name: 'day', type: 'date', nulls: 0, min: st.day[0], max: st.day[1] },
    { name: 'label', type: 'string', nulls: 0, min: st.label[0], max: st.label[1] },
    { name: 'note', type: 'string', nulls: st.note[2], min: st.note[0], max: st.note[1] },
  ];
  return { rows: n, columns, sample };
}

const NORMAL = 'id,name,score,active,joined,note\n1,Alice,91.5,true,2024-01-15,first\n2,Bob,78,false,2023-12-01,\n' +
  '3,Carol,,TRUE,2024-02-29,vip\n4,Dave,100.25,False,,x\n5,Eve,-3.5,true,2022-07-04,\n6,Frank,42,false,2024-12-31,last one\n';
const NORMAL_EXPECTED = {
  bytes: Buffer.byteLength(NORMAL), rows: 6,
  columns: [
    { name: 'id', type: 'integer', nulls: 0, min: 1, max: 6 },
    { name: 'name', type: 'string', nulls: 0, min: 'Alice', max: 'Frank' },
    { name: 'score', type: 'number', nulls: 1, min: -3.5, max: 100.25 },
    { name: 'active', type: 'boolean', nulls: 0, min: 'False', max: 'true' },
    { name: 'joined', type: 'date', nulls: 1, min: '2022-07-04', max: '2024-12-31' },
    { name: 'note', type: 'string', nulls: 2, min: 'first', max: 'x' },
  ],
  sample: [['1', 'Alice', '91.5', 'true', '2024-01-15', 'first'], ['2', 'Bob', '78', 'false', '2023-12-01', ''],
           ['3', 'Carol', '', 'TRUE', '2024-02-29', 'vip'], ['4', 'Dave', '100.25', 'False', '', 'x'],
           ['5', 'Eve', '-3.5', 'true', '2022-07-04', '']],
};
const QUOTED = '"id","text","city"\r\n1,"Hello, world","Zürich"\r\n2,"line one\r\nline two","São Paulo"\r\n' +
  '3,"She said ""hi""",Ōsaka\r\n4,"","Kraków"\r\n5,plain,"New\nYork"\r\n6,"a,b,c","ünïcödé"';
const QUOTED_EXPECTED = {
  bytes: Buffer.byteLength(QUOTED), rows: 6,
  columns: [
    { name: 'id', type: 'integer', nulls: 0, min: 1, max: 6 },
    { name: 'text', type: 'string', nulls: 1, min: 'Hello, world', max: 'plain' },
    { name: 'city', type: 'string', nulls: 0, min: 'Kraków', max: 'Ōsaka' },
  ],
  sample: [['1', 'Hello, world', 'Zürich'], ['2', 'line one\r\nline two', 'São Paulo'], ['3', 'She said "hi"', 'Ōsaka'],
           ['4', '', 'Kraków'], ['5', 'plain', 'New\nYork']],
};
const TYPES = 'int,num,bool,date,mixed,allnull,baddate,bigint\n' +
  '+5,1e3,TRUE,2024-02-29,1,,2023-02-28,9223372036854775807\n' +
  '-7,-0.5,false,1999-12-31,2024-01-01,,2023-02-29,-9223372036854775808\n' +
  '0,.5,True,2000-01-01,x,,2023-01-01,1\n';
const TYPES_EXPECTED = [
  { name: 'int', type: 'integer', nulls: 0, min: -7, max: 5 },
  { name: 'num', type: 'number', nulls: 0, min: -0.5, max: 1000 },
  { name: 'bool', type: 'boolean', nulls: 0, min: 'TRUE', max: 'false' },
  { name: 'date', type: 'date', nulls: 0, min: '1999-12-31', max: '2024-02-29' },
  { name: 'mixed', type: 'string', nulls: 0, min: '1', max: 'x' },
  { name: 'allnull', type: 'string', nulls: 3, min: null, max: null },
  { name: 'baddate', type: 'string', nulls: 0, min: '2023-01-01', max: '2023-02-29' },
];
const RAGGED = 'a,b,c\n1,2,3\n4,"multi\nline",6\n7,8\n9,10,11\n12,13,14,15\n';
const RAGGED_MSG = 'ragged rows: record 4 (line 5) has 2 fields but the header has 3; 2 of 5 data rows have a field count other than the header\'s';
const BAD_UTF8 = {
  'lone continuation byte': Buffer.from('a,b\n1,\x80\n', 'latin1'),
  'truncated 2-byte sequence': Buffer.from('a,b\nx\xc3(,1\n', 'latin1'),
  'overlong encoding': Buffer.from('a,b\n1,\xc0\xaf\n', 'latin1'),
  'UTF-16 surrogate': Buffer.from('a,b\n1,\xed\xa0\x80\n', 'latin1'),
  'beyond U+10FFFF': Buffer.from('a,b\n1,\xf4\x90\x80\x80\n', 'latin1'),
  'cut at the end of the file': Buffer.from('a,b\n1,\xe2\x82', 'latin1'),
  'after valid multibyte text': Buffer.concat([Buffer.from('a,b\nü,€😀\n"x\n', 'utf8'), Buffer.from('\xff",1\n', 'latin1')]),
};
// Python's decoder is the independent oracle for where the first bad sequence starts.
async function pythonUtf8Offset(file) {
  const r = await run('python3', ['-c', 'import sys\ntry:\n  open(sys.argv[1],"rb").read().decode("utf-8")\n  print(-1)\nexcept UnicodeDecodeError as e:\n  print(e.start)', file]);
  return Number(r.stdout.trim());
}

const withoutSource = ({ source, ...rest }) => rest; // eslint-disable-line no-unused-vars

/*--- the tests ---*/

let s3env;
function baseEnv() { return { DATA_ROOT: DATA, SSL_CERT_FILE: path.join(PKI, 'ca.pem'), ...s3env }; }

async function main() {
  fs.mkdirSync(DATA, { recursive: true });
  const watchdog = setTimeout(() => { console.log('not ok - the whole run took too long'); finish(); }, (FULL ? 1500 : 600) * 1000);
  watchdog.unref();

  // servers
  const s3 = new S3rver({ address: '127.0.0.1', port: 0, silent: true, ...GOOD, directory: path.join(WORK, 's3'),
                          configureBuckets: [{ name: 'data' }, { name: 'empty-bucket' }] });
  s3port = (await s3.run()).port;
  s3env = { AWS_ENDPOINT_URL_S3: `https://localhost:${s3port}`, AWS_ACCESS_KEY_ID: 'S3RVER', AWS_SECRET_ACCESS_KEY: 'S3RVER', AWS_REGION: 'us-east-1' };
  const llmSrv = await startLlm();
  const llmUrl = `https://localhost:${llmSrv.address().port}/v1`;
  const awsSrv = await startAws();
  const awsEnv = { AWS_ENDPOINT_URL: `https://localhost:${awsSrv.address().port}`, AWS_ACCESS_KEY_ID: AWS_KEY.id,
                   AWS_SECRET_ACCESS_KEY: AWS_KEY.secret, AWS_REGION: AWS_KEY.region, AWS_ENDPOINT_URL_S3: undefined };

  // fixtures, locally and in the bucket
  await fixture('normal.csv', NORMAL);
  await fixture('quoted.csv', QUOTED);
  await fixture('types.csv', TYPES);
  await fixture('ragged.csv', RAGGED);
  await fixture('empty.csv', '');
  await fixture('bom.csv', '\ufeff"id",name\r\n1,a\r\n');
  await fixture('header-only.csv', 'a,b\n');
  await fixture('blank-lines.csv', 'a,b\n\n1,2\n\n\n3,4\n');
  await fixture('unterminated.csv', 'a,b\n1,"open\n2,3\n');
  await fixture('long-field.csv', `a\nok\n"${'x'.repeat((1 << 20) + 10)}"\n`);
  const badLate = Buffer.concat([Buffer.from(`n,v\n${'ok,1\n'.repeat(400000)}`), Buffer.from([0xc3, 0x28, 0x0a])]);
  await fixture('bad-late.csv', badLate);
  let i = 0;
  for (const content of Object.values(BAD_UTF8)) await fixture(`bad-utf8-${++i}.csv`, content);
  fs.symlinkSync('/etc/hostname', path.join(DATA, 'escape.csv'));
  for (let k = 0; k < 1005; k++) await s3put(`many/${String(k).padStart(4, '0')}.csv`, `n\n${k}\n`);
  const t0 = Date.now();
  const gen20 = await bigFixture('gen20.csv', 485000);
  console.log(`# generated gen20.csv: ${gen20.size} bytes, ${gen20.rows} rows, in ${secs(Date.now() - t0)}, uploaded`);

  /* TLS through fetch.c (mcp_http_do) */
  const good = await sServer('good');
  const expired = await sServer('expired');
  const wrong = await sServer('wronghost');
  const untrusted = await sServer('untrusted');
  const tls13 = await sServer('good', ['-tls1_3']);
  const fetchCall = (port, env = {}) => call('fetch', { url: `https://localhost:${port}/` }, env, { bin: FETCH, timeout: 30000 });
  await test('tls: a good chain from the test CA (SSL_CERT_FILE) succeeds', async () => {
    const { res, r } = await fetchCall(good.port);
    assert.equal(r.code, 0, describeRun(r));
    assert.match(res.content[0].text, /^HTTP 200\n<HTML>/);
  });
  const ipsan = await sServer('ipsan');
  await test('tls: https://127.0.0.1 with a certificate naming IP:127.0.0.1 succeeds (iPAddress subjectAltName)', async () => {
    const { res, r } = await call('fetch', { url: `https://127.0.0.1:${ipsan.port}/` }, {}, { bin: FETCH, timeout: 30000 });
    assert.equal(r.code, 0, describeRun(r));
    assert.match(res.content[0].text, /^HTTP 200\n<HTML>/);
  });
  await test('tls: https://127.0.0.1 with a certificate naming only DNS:localhost is refused: "TLS: the certificate does not match the host name 127.0.0.1"', async () => {
    const { res, r } = await call('fetch', { url: `https://127.0.0.1:${good.port}/` }, {}, { bin: FETCH, timeout: 30000 });
    assert.equal(r.code, 1, describeRun(r));
    assert.equal(res.content[0].text, 'TLS: the certificate does not match the host name 127.0.0.1');
  });
  const tlsCases = [
    ['an expired certificate', expired, 'TLS: the certificate of localhost has expired or is not yet valid'],
    ['a certificate for another host name', wrong, 'TLS: the certificate does not match the host name localhost'],
    ['a certificate from an untrusted CA', untrusted, 'TLS: the certificate of localhost is not trusted (unknown issuer; SSL_CERT_FILE can name a CA bundle)'],
    ['a TLS 1.3-only server', tls13, 'TLS: localhost offers no TLS 1.2 ECDHE cipher suite this client supports (protocol mismatch; TLS 1.3 only?)'],
    ['the good server without SSL_CERT_FILE (system bundle only)', good, 'TLS: the certificate of localhost is not trusted (unknown issuer; SSL_CERT_FILE can name a CA bundle)', { SSL_CERT_FILE: undefined }],
  ];
  for (const [what, srv, want, env] of tlsCases) {
    await test(`tls: ${what} is refused: "${want}"`, async () => {
      const { res, r } = await fetchCall(srv.port, env);
      assert.equal(r.code, 1, describeRun(r));
      assert.equal(res.isError, true);
      assert.equal(res.content[0].text, want);
    });
  }
  await test('tls: ask_llm reports a refused certificate as its error', async () => {
    await callErr('ask_llm', { prompt: 'hi' }, { OPENAI_API_KEY: 'sk-test-123', OPENAI_BASE_URL: `https://localhost:${expired.port}/v1` },
                  'TLS: the certificate of localhost has expired or is not yet valid');
  });
  for (const s of [good, expired, wrong, untrusted, tls13]) s.p.kill('SIGKILL');

  /* ask_llm against the fake OpenAI API */
  const llmEnv = { OPENAI_API_KEY: 'sk-test-123', OPENAI_BASE_URL: llmUrl };
  await test('ask_llm: sends the key as a Bearer token and returns the first choice', async () => {
    llm.requests.length = 0;
    const { res } = await callOk('ask_llm', { prompt: 'What is 2+2? Say "four".' }, llmEnv);
    assert.deepEqual(res.content, [{ type: 'text', text: 'canned answer to: What is 2+2? Say "four".' }]);
    assert.equal(llm.requests.length, 1);
    const [rq] = llm.requests;
    assert.equal(rq.auth, 'Bearer sk-test-123');
    assert.equal(rq.type, 'application/json');
    assert.deepEqual(JSON.parse(rq.body), { model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'What is 2+2? Say "four".' }] });
  });
  await test('ask_llm: model argument, OPENAI_BASE_URL with a trailing slash', async () => {
    llm.requests.length = 0;
    await callOk('ask_llm', { prompt: 'ünïcödé\n"q"', model: 'gpt-test' }, { ...llmEnv, OPENAI_BASE_URL: `${llmUrl}/` });
    assert.equal(llm.requests[0].url, '/v1/chat/completions');
    assert.deepEqual(JSON.parse(llm.requests[0].body), { model: 'gpt-test', messages: [{ role: 'user', content: 'ünïcödé\n"q"' }] });
  });
  await test('ask_llm: HTTP 401 gives isError with the API\'s message', async () => {
    await callErr('ask_llm', { prompt: 'hi' }, { ...llmEnv, OPENAI_API_KEY: 'sk-wrong' },
                  `${llmUrl}/chat/completions answered HTTP 401: Incorrect API key provided: sk-wrong.`);
  });
  await test('ask_llm: no OPENAI_API_KEY gives isError', async () => {
    await callErr('ask_llm', { prompt: 'hi' }, { OPENAI_BASE_URL: llmUrl }, 'OPENAI_API_KEY is not set');
  });

  /* connection reuse: one TLS handshake for five calls in one serve process */
  await test('reuse: 5 ask_llm calls in one serve process make 1 TLS handshake', async () => {
    const srv = await serve(llmEnv);
    try {
      const before = llm.tlsConnections;
      for (let k = 0; k < 5; k++) {
        const { status, body } = await srv.post('ask_llm', { prompt: `call ${k}` });
        assert.equal(status, 200);
        assert.deepEqual(body.content, [{ type: 'text', text: `canned answer to: call ${k}` }]);
      }
      const m = await srv.metrics();
      assert.equal(m.tlsHandshakes, 1, `tlsHandshakes ${m.tlsHandshakes}`);
      assert.equal(llm.tlsConnections - before, 1, 'TLS connections the server accepted');
    } finally { await srv.stop(); }
  });
  await test('reuse: 5 describe_csv calls on S3 in one serve process make 1 TLS handshake', async () => {
    const srv = await serve({});
    try {
      for (let k = 0; k < 5; k++) {
        const { status, body } = await srv.post('describe_csv', { source: 's3://data/fixtures/normal.csv' });
        assert.equal(status, 200);
        assert.deepEqual(withoutSource(body.structuredContent), NORMAL_EXPECTED);
      }
      const m = await srv.metrics();
      assert.equal(m.tlsHandshakes, 1, `tlsHandshakes ${m.tlsHandshakes}`);
    } finally { await srv.stop(); }
  });

  /* describe_csv: exact profiles, locally and from S3 */
  for (const [name, expected] of [['normal.csv', NORMAL_EXPECTED], ['quoted.csv', QUOTED_EXPECTED]]) {
    for (const src of [name, `s3://data/fixtures/${name}`]) {
      await test(`describe_csv ${src}: exact profile, text and structuredContent`, async () => {
        const { res } = await callOk('describe_csv', { source: src });
        assert.deepEqual(res.structuredContent, { source: src, ...expected });
        assert.equal(res.content[0].type, 'text');
        assert.ok(res.content[0].text.startsWith(`${src}: ${expected.rows} rows, ${expected.columns.length} columns, ${expected.bytes} bytes\n`),
                  res.content[0].text);
      });
    }
  }
  await test('describe_csv types.csv: integer, number, boolean, date, string inference; 64-bit integers exact', async () => {
    const { res, r } = await callOk('describe_csv', { source: 's3://data/fixtures/types.csv' });
    assert.deepEqual(res.structuredContent.columns.slice(0, 7), TYPES_EXPECTED);
    assert.ok(r.stdout.includes('{"name":"bigint","type":"integer","nulls":0,"min":-9223372036854775808,"max":9223372036854775807}'), r.stdout);
  });
  await test('describe_csv: the output schema is announced in tools/list', async () => {
    const srv = await serve({});
    try {
      const rpc = async (msg, session) => {
        const rs = await fetch(`${srv.url}/mcp`, { method: 'POST', body: JSON.stringify({ jsonrpc: '2.0', ...msg }),
          headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream', 'mcp-protocol-version': '2025-06-18',
                     ...(session ? { 'mcp-session-id': session } : {}) } });
        const text = await rs.text();
        const json = text.startsWith('{') ? text : text.split('\n').find((l) => l.startsWith('data: '))?.slice(6);
        return { session: rs.headers.get('mcp-session-id'), msg: json ? JSON.parse(json) : null };
      };
      const { session } = await rpc({ id: 1, method: 'initialize', params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'outbound', version: '1' } } });
      await rpc({ method: 'notifications/initialized' }, session);
      const { msg } = await rpc({ id: 2, method: 'tools/list' }, session);
      const tools = Object.fromEntries(msg.result.tools.map((t) => [t.name, t]));
      assert.deepEqual(Object.keys(tools).sort(), ['ask_llm', 'describe_csv', 'list_objects']);
      assert.deepEqual(tools.describe_csv.outputSchema.required, ['source', 'bytes', 'rows', 'columns', 'sample']);
      assert.deepEqual(tools.list_objects.outputSchema.required, ['bucket', 'prefix', 'count', 'objects']);
    } finally { await srv.stop(); }
  });
  for (const src of ['ragged.csv', 's3://data/fixtures/ragged.csv']) {
    await test(`describe_csv ${src}: ragged rows named with record, line and counts`, async () => {
      await callErr('describe_csv', { source: src }, {}, `${src}: ${RAGGED_MSG}`);
    });
  }
  for (const [idx, [what, content]] of Object.entries(BAD_UTF8).entries()) {
    const name = `bad-utf8-${idx + 1}.csv`;
    await test(`describe_csv: invalid UTF-8 (${what}) reported at Python's byte offset`, async () => {
      const off = await pythonUtf8Offset(path.join(DATA, name));
      assert.ok(off >= 0 && off < content.length, `python says ${off}`);
      await callErr('describe_csv', { source: name }, {}, `${name}: invalid UTF-8 at byte offset ${off}`);
      if (idx === 1) await callErr('describe_csv', { source: `s3://data/fixtures/${name}` }, {}, `s3://data/fixtures/${name}: invalid UTF-8 at byte offset ${off}`);
    });
  }
  await test('describe_csv: invalid UTF-8 after 2 MB of S3 stops the stream and names the offset', async () => {
    const off = badLate.length - 3;
    await callErr('describe_csv', { source: 's3://data/fixtures/bad-late.csv' }, {}, `s3://data/fixtures/bad-late.csv: invalid UTF-8 at byte offset ${off}`);
  });
  for (const src of ['empty.csv', 's3://data/fixtures/empty.csv']) {
    await test(`describe_csv ${src}: a 0-byte file is "empty file"`, async () => {
      await callErr('describe_csv', { source: src }, {}, `${src}: empty file`);
    });
  }
  await test('describe_csv: a missing local file', async () => {
    await callErr('describe_csv', { source: 'nope.csv' }, {}, 'nope.csv: no such file');
  });
  await test('describe_csv: a missing S3 object is "no such object"', async () => {
    const { res } = await call('describe_csv', { source: 's3://data/fixtures/nope.csv' });
    assert.equal(res.isError, true);
    assert.match(res.content[0].text, /^s3:\/\/data\/fixtures\/nope\.csv: no such object \(s3 GetObject: .*\(HTTP 404, 1 attempt\)\)$/);
  });
  await test('describe_csv: S3 403 (unknown access key) is "access denied"', async () => {
    const { res } = await call('describe_csv', { source: 's3://data/fixtures/normal.csv' }, { AWS_ACCESS_KEY_ID: 'NOT-S3RVER' });
    assert.equal(res.isError, true);
    assert.match(res.content[0].text, /^s3:\/\/data\/fixtures\/normal\.csv: access denied \(s3 GetObject: .*\(HTTP 403, 1 attempt\)\)$/);
  });
  // mcp.h: mcp_s3_get "returns ... -1 with rs->error naming the service, AWS's error code and message"
  await test('mcp_s3_get: a 403 error names AWS\'s code and message (InvalidAccessKeyId)', async () => {
    await callErr('describe_csv', { source: 's3://data/fixtures/normal.csv' }, { AWS_ACCESS_KEY_ID: 'NOT-S3RVER' },
                  's3://data/fixtures/normal.csv: access denied (s3 GetObject: InvalidAccessKeyId: The AWS Access Key Id you provided does not exist in our records. (HTTP 403, 1 attempt))');
  });
  await test('mcp_s3_get: a 404 error names AWS\'s code and message (NoSuchKey)', async () => {
    await callErr('describe_csv', { source: 's3://data/fixtures/nope.csv' }, {},
                  's3://data/fixtures/nope.csv: no such object (s3 GetObject: NoSuchKey: The specified key does not exist. (HTTP 404, 1 attempt))');
  });
  await test('describe_csv: paths outside DATA_ROOT are refused (.., absolute, symbolic link)', async () => {
    await callErr('describe_csv', { source: '../pki/ca.key' }, {}, "../pki/ca.key: access denied: '..' is not allowed in a path");
    await callErr('describe_csv', { source: 'sub/../../x.csv' }, {}, "sub/../../x.csv: access denied: '..' is not allowed in a path");
    const real = fs.realpathSync(DATA);
    await callErr('describe_csv', { source: '/etc/passwd' }, {}, `/etc/passwd: access denied: the path is outside DATA_ROOT`);
    await callErr('describe_csv', { source: 'escape.csv' }, {}, `escape.csv: access denied: the path is outside DATA_ROOT`);
    await callOk('describe_csv', { source: path.join(real, 'normal.csv') });
    await callErr('describe_csv', { source: '.' }, {}, '.: not a regular file');
  });
  await test('describe_csv: DATA_ROOT defaults to the current directory', async () => {
    const { res } = await callOk('describe_csv', { source: 'normal.csv' }, { DATA_ROOT: undefined }, { cwd: DATA });
    assert.deepEqual(withoutSource(res.structuredContent), NORMAL_EXPECTED);
  });
  await test('describe_csv: a byte order mark, a header alone, blank lines', async () => {
    let { res } = await callOk('describe_csv', { source: 'bom.csv' });
    assert.deepEqual(res.structuredContent, { source: 'bom.csv', bytes: 19, rows: 1, sample: [['1', 'a']], columns: [
      { name: 'id', type: 'integer', nulls: 0, min: 1, max: 1 }, { name: 'name', type: 'string', nulls: 0, min: 'a', max: 'a' }] });
    ({ res } = await callOk('describe_csv', { source: 's3://data/fixtures/header-only.csv' }));
    assert.deepEqual(res.structuredContent, { source: 's3://data/fixtures/header-only.csv', bytes: 4, rows: 0, sample: [], columns: [
      { name: 'a', type: 'string', nulls: 0, min: null, max: null }, { name: 'b', type: 'string', nulls: 0, min: null, max: null }] });
    ({ res } = await callOk('describe_csv', { source: 'blank-lines.csv' }));
    assert.deepEqual([res.structuredContent.rows, res.structuredContent.sample], [2, [['1', '2'], ['3', '4']]]);
  });
  await test('describe_csv: an unterminated quote, a field over 1 MiB', async () => {
    await callErr('describe_csv', { source: 'unterminated.csv' }, {}, 'unterminated.csv: record 2 (line 2) has a quoted field that never ends');
    await callErr('describe_csv', { source: 's3://data/fixtures/long-field.csv' }, {},
                  's3://data/fixtures/long-field.csv: record 3 (line 3) has a field longer than 1048576 bytes (an unterminated quote?)');
  });
  await test('describe_csv: a bad S3 source', async () => {
    await callErr('describe_csv', { source: 's3://data' }, {}, 's3://data: an S3 source is s3://bucket/key');
  });

  /* the generated files: exact figures, local and S3, call and serve */
  const bigCheck = async (exp, name, prefix, timeoutMs) => {
    const results = [];
    for (const src of [name, `s3://data/${prefix}/${name}`]) {
      const { res, r, rssKiB } = await callMeasured('describe_csv', { source: src }, {}, { timeout: timeoutMs });
      assert.deepEqual(res.structuredContent, { source: src, bytes: exp.size, rows: exp.rows, columns: exp.columns, sample: exp.sample });
      results.push(`${src.startsWith('s3') ? 'S3' : 'local'} ${secs(r.ms)}, peak RSS ${(rssKiB / 1024).toFixed(1)} MB`);
      if (!ASAN) assert.ok(rssKiB * 1024 < Math.min(exp.size / 2, 64 << 20), `peak RSS ${rssKiB} KiB for a ${exp.size}-byte file: not streamed?`);
    }
    return results.join('; ');
  };
  await test(`describe_csv gen20.csv (${(gen20.size / 1e6).toFixed(1)} MB): exact figures, local and S3, bounded memory`,
             () => bigCheck(gen20, 'gen20.csv', 'big', 120000));
  await test('serve: POST /tools/describe_csv gives the same result as call, local and S3', async () => {
    const srv = await serve({});
    try {
      for (const src of ['quoted.csv', 's3://data/fixtures/quoted.csv', 's3://data/big/gen20.csv']) {
        const { status, body } = await srv.post('describe_csv', { source: src });
        assert.equal(status, 200, JSON.stringify(body));
        const { res } = await callOk('describe_csv', { source: src });
        assert.deepEqual(body, res);
      }
      const { status, body } = await srv.post('describe_csv', { source: 'ragged.csv' });
      assert.equal(status, 200);
      assert.deepEqual(body, { content: [{ type: 'text', text: `ragged.csv: ${RAGGED_MSG}` }], isError: true });
    } finally { await srv.stop(); }
  });

  await test('lambda: describe_csv through the Runtime API (direct invocations) gives the same result as call, local and S3', async () => {
    const emu = new RuntimeApiEmulator({ defaultTimeoutMs: 60000 });
    await emu.listen();
    const rt = spawnRuntime(BIN, { api: emu.api, env: { ...baseEnv(), MCP_EMF: '0' } });
    try {
      for (const src of ['quoted.csv', 's3://data/fixtures/quoted.csv']) {
        const r = await emu.invoke({ jsonrpc: '2.0', id: 7, method: 'tools/call', params: { name: 'describe_csv', arguments: { source: src } } });
        assert.equal(r.kind, 'response', `${r.kind}: ${(r.text || '').slice(0, 300)}; stderr: ${rt.stderr().slice(-500)}`);
        const msg = JSON.parse(r.text);
        const { res } = await callOk('describe_csv', { source: src });
        assert.equal(msg.id, 7);
        assert.deepEqual(msg.result, res);
      }
    } finally { await rt.kill('SIGKILL'); await emu.close(); }
  });

  await test('mcp_http_do: a response over max_response is refused with a message naming the limit', async () => {
    const big = 'x'.repeat(5000);
    const srv = http.createServer((req, res) => { res.writeHead(200, { 'content-type': 'text/plain' }); res.end(big); });
    await new Promise((r) => srv.listen(0, '127.0.0.1', r));
    try {
      const url = `http://127.0.0.1:${srv.address().port}/`;
      const { res, r } = await call('fetch', { url, max: 1000 }, {}, { bin: FETCH, timeout: 30000 });
      assert.equal(res.isError, true, describeRun(r));
      assert.equal(res.content[0].text, 'the response from 127.0.0.1 is larger than 1000 bytes');
      const ok = await call('fetch', { url, max: 5000 }, {}, { bin: FETCH, timeout: 30000 });
      assert.equal(ok.res.content[0].text, `HTTP 200\n${big}`);
    } finally { srv.close(); }
  });

  /* list_objects */
  const localSize = (n) => fs.statSync(path.join(DATA, n)).size;
  await test('list_objects: exact keys, sizes and last-modified times under a prefix', async () => {
    const { res } = await callOk('list_objects', { bucket: 'data', prefix: 'fixtures/' });
    const names = ['bad-late.csv', ...Object.keys(BAD_UTF8).map((_, k) => `bad-utf8-${k + 1}.csv`), 'empty.csv', 'normal.csv', 'quoted.csv',
                   'ragged.csv', 'types.csv', 'bom.csv', 'header-only.csv', 'blank-lines.csv', 'unterminated.csv', 'long-field.csv'].sort();
    const sc = res.structuredContent;
    assert.equal(sc.count, names.length);
    assert.deepEqual(sc.objects.map((o) => [o.key, o.size]), names.map((n) => [`fixtures/${n}`, localSize(n)]));
    for (const o of sc.objects) {
      assert.match(o.lastModified, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
      assert.ok(Math.abs(Date.parse(o.lastModified) - Date.now()) < 3600e3, o.lastModified);
    }
    assert.deepEqual([sc.bucket, sc.prefix], ['data', 'fixtures/']);
    assert.equal(res.content[0].text.split('\n')[0], `${names.length} objects in s3://data/fixtures/ (key, size, last modified)`);
    assert.equal(res.content[0].text.split('\n')[1], `fixtures/bad-late.csv\t${localSize('bad-late.csv')}\t${sc.objects[0].lastModified}`);
  });
  await test('list_objects: max', async () => {
    const { res } = await callOk('list_objects', { bucket: 'data', prefix: 'fixtures/', max: 2 });
    assert.deepEqual(res.structuredContent.objects.map((o) => o.key), ['fixtures/bad-late.csv', 'fixtures/bad-utf8-1.csv']);
    assert.equal(res.content[0].text.split('\n')[0], '2 objects in s3://data/fixtures/ (key, size, last modified)');
    await callErr('list_objects', { bucket: 'data', max: 0 }, {}, 'max must be between 1 and 100000');
  });
  await test('list_objects: 1005 keys over two pages (continuation token)', async () => {
    const { res } = await callOk('list_objects', { bucket: 'data', prefix: 'many/', max: 5000 });
    assert.equal(res.structuredContent.count, 1005);
    assert.deepEqual(res.structuredContent.objects.map((o) => o.key), Array.from({ length: 1005 }, (_, k) => `many/${String(k).padStart(4, '0')}.csv`));
    const { res: dflt } = await callOk('list_objects', { bucket: 'data', prefix: 'many/' });
    assert.equal(dflt.structuredContent.count, 1000);
  });
  await test('list_objects: an empty bucket, a missing bucket, a refused key', async () => {
    const { res } = await callOk('list_objects', { bucket: 'empty-bucket' });
    assert.deepEqual(res.structuredContent, { bucket: 'empty-bucket', prefix: '', count: 0, objects: [] });
    await callErr('list_objects', { bucket: 'no-such-bucket' }, {}, 's3://no-such-bucket/: s3 ListObjectsV2: NoSuchBucket: The specified bucket does not exist (HTTP 404, 1 attempt)');
    await callErr('list_objects', { bucket: 'data' }, { AWS_ACCESS_KEY_ID: 'NOT-S3RVER' },
                  's3://data/: s3 ListObjectsV2: InvalidAccessKeyId: The AWS Access Key Id you provided does not exist in our records. (HTTP 403, 1 attempt)');
  });

  /* configuration from SSM and Secrets Manager at start-up */
  const ssmEnv = { ...awsEnv, OPENAI_BASE_URL: llmUrl };
  await test('ssm: OPENAI_API_KEY=ssm:/... is resolved at start (signed GetParameters) and sent as the Bearer token', async () => {
    llm.requests.length = 0;
    aws.requests.length = 0;
    const { res } = await callOk('ask_llm', { prompt: 'from ssm' }, { ...ssmEnv, OPENAI_API_KEY: 'ssm:/mcp-server/openai-api-key' });
    assert.deepEqual(res.content, [{ type: 'text', text: 'canned answer to: from ssm' }]);
    assert.equal(llm.requests[0].auth, 'Bearer sk-from-ssm-456');
    assert.equal(aws.requests.length, 1);
    const [q] = aws.requests;
    assert.equal(q.target, 'AmazonSSM.GetParameters');
    assert.equal(q.problem, null, `SigV4: ${q.problem}`);
    assert.deepEqual(JSON.parse(q.body), { Names: ['/mcp-server/openai-api-key'], WithDecryption: true });
  });
  await test('ssm: serve resolves once at start, not per call', async () => {
    aws.requests.length = 0;
    const srv = await serve({ ...ssmEnv, OPENAI_API_KEY: 'ssm:/mcp-server/openai-api-key' });
    try {
      for (let k = 0; k < 2; k++) {
        const { body } = await srv.post('ask_llm', { prompt: 'x' });
        assert.deepEqual(body.content, [{ type: 'text', text: 'canned answer to: x' }]);
      }
      assert.equal(aws.requests.length, 1);
    } finally { await srv.stop(); }
  });
  await test('secretsmanager: OPENAI_API_KEY=secretsmanager:name#key is resolved through Parameter Store (one signed GetParameters)', async () => {
    llm.requests.length = 0;
    aws.requests.length = 0;
    await callOk('ask_llm', { prompt: 'from secrets' }, { ...ssmEnv, OPENAI_API_KEY: 'secretsmanager:prod/openai#api_key' });
    assert.equal(llm.requests[0].auth, 'Bearer sk-from-secret-789');
    assert.deepEqual(aws.requests.map((r) => r.target), ['AmazonSSM.GetParameters']);
    assert.equal(aws.requests[0].problem, null, `SigV4: ${aws.requests[0].problem}`);
    assert.deepEqual(JSON.parse(aws.requests[0].body), { Names: ['/aws/reference/secretsmanager/prod/openai'], WithDecryption: true });
  });
  await test('secretsmanager: OPENAI_API_KEY=secretsmanager:name?versionStage=S#key is resolved (signed GetSecretValue)', async () => {
    llm.requests.length = 0;
    aws.requests.length = 0;
    await callOk('ask_llm', { prompt: 'from secrets' }, { ...ssmEnv, OPENAI_API_KEY: 'secretsmanager:prod/openai?versionStage=AWSCURRENT#api_key' });
    assert.equal(llm.requests[0].auth, 'Bearer sk-from-secret-789');
    assert.deepEqual(aws.requests.map((r) => r.target), ['secretsmanager.GetSecretValue']);
    assert.equal(aws.requests[0].problem, null, `SigV4: ${aws.requests[0].problem}`);
    assert.deepEqual(JSON.parse(aws.requests[0].body), { SecretId: 'prod/openai', VersionStage: 'AWSCURRENT' });
  });
  const startFails = async (env, want) => {
    const r = await run(BIN, ['call', 'ask_llm', '{"prompt":"x"}'], { env: { ...baseEnv(), ...ssmEnv, ...env }, timeout: 30000 });
    assert.notEqual(r.code, 0, describeRun(r));
    assert.equal(r.stdout, '');
    assert.equal(r.stderr.trim(), want);
  };
  await test('ssm: a missing parameter stops start-up with a message naming the variable', async () => {
    llm.requests.length = 0;
    await startFails({ OPENAI_API_KEY: 'ssm:/mcp-server/missing' },
                     'mcp: cannot start: OPENAI_API_KEY=ssm:/mcp-server/missing: ssm: ParameterNotFound: the parameter does not exist or is not readable');
    assert.equal(llm.requests.length, 0);
  });
  await test('ssm: a wrong secret key (bad signature) stops start-up with AWS\'s code', async () => {
    await startFails({ OPENAI_API_KEY: 'ssm:/mcp-server/openai-api-key', AWS_SECRET_ACCESS_KEY: 'wrong' },
                     'mcp: cannot start: OPENAI_API_KEY=ssm:/mcp-server/openai-api-key: ssm GetParameters: InvalidSignatureException: The request signature we calculated does not match the signature you provided. (HTTP 400, 1 attempt)');
  });
  await test('secretsmanager: a missing secret and a missing JSON key stop start-up', async () => {
    await startFails({ OPENAI_API_KEY: 'secretsmanager:prod/nope' },
                     "mcp: cannot start: OPENAI_API_KEY=secretsmanager:prod/nope: secretsmanager GetSecretValue: ResourceNotFoundException: Secrets Manager can't find the specified secret. (HTTP 400, 1 attempt)");
    await startFails({ OPENAI_API_KEY: 'secretsmanager:prod/openai#nokey' },
                     'mcp: cannot start: OPENAI_API_KEY=secretsmanager:prod/openai#nokey: secretsmanager: secret prod/openai has no key nokey (or it is null)');
  });
  await test('ssm: two variables in one GetParameters, one of them missing, names the missing one', async () => {
    aws.requests.length = 0;
    await startFails({ OPENAI_API_KEY: 'ssm:/mcp-server/openai-api-key', OTHER_SETTING: 'ssm:/mcp-server/absent' },
                     'mcp: cannot start: OTHER_SETTING=ssm:/mcp-server/absent: ssm: ParameterNotFound: the parameter does not exist or is not readable');
    assert.equal(aws.requests.length, 1);
    assert.deepEqual(JSON.parse(aws.requests[0].body).Names.sort(), ['/mcp-server/absent', '/mcp-server/openai-api-key']);
  });

  /* the big one */
  if (FULL) {
    const t1 = Date.now();
    const gen300 = await bigFixture('gen300.csv', 7100000);
    console.log(`# generated gen300.csv: ${gen300.size} bytes, ${gen300.rows} rows, and uploaded, in ${secs(Date.now() - t1)}`);
    await test(`describe_csv gen300.csv (${(gen300.size / 1e6).toFixed(0)} MB): exact figures, local and S3, bounded memory, under 60 s each${ASAN ? ' (x4 under ASan)' : ''}`,
      async () => {
        const note = await bigCheck(gen300, 'gen300.csv', 'big', (ASAN ? 240 : 60) * 1000);
        return note;
      });
    fs.rmSync(path.join(DATA, 'gen300.csv'));
  } else {
    console.log('# skipped the 300 MB file (OUTBOUND_BIG=1 or --full runs it)');
  }

  llmSrv.close();
  awsSrv.close();
  await s3.close();
  finish();
}

function finish() {
  for (const p of children) p.kill('SIGKILL');
  for (const [name, ms] of timings) if (ms > 2000) console.log(`# ${secs(ms)}  ${name}`);
  console.log(`# ${passed} passed, ${failed} failed`);
  process.exit(failed ? 1 : 0);
}

main().catch((e) => { failed++; console.log(`not ok - the test run: ${e && e.stack ? e.stack.split('\n').slice(0, 3).join(' | ') : e}`); finish(); });
