// gateway.mjs: a local HTTP front end that plays the AWS service in front of a Lambda function.
//
// Each HTTP request becomes one Lambda event of the chosen shape (built like the samples in
// test/data/events/, from the AWS developer guide's payload descriptions), is invoked through the
// Runtime API emulator, and the function's result is turned back into HTTP:
//   url        function URL / API Gateway HTTP API, payload 2.0
//   rest       API Gateway REST API, payload 1.0 (headers + multiValueHeaders, query both ways)
//   alb        Application Load Balancer, multi-value headers off
//   alb-multi  Application Load Balancer, multi-value headers on (the answer must use multiValueHeaders)
// Bodies whose content type is not text or JSON go base64-encoded (isBase64Encoded: true).
// With stream (function URL, invoke mode RESPONSE_STREAM) a streamed POST /response is parsed
// as the JSON prelude, eight NUL bytes and the payload, and the payload is piped to the client
// as it arrives (SSE flows through live).
//
// Module use:
//   import { startStack, buildEvent, resultToHttp } from './gateway.mjs';
//   const st = await startStack({ binary: 'build/conformance', shape: 'url', stream: false });
//   fetch(st.url, ...);  ...;  await st.close();
//
// CLI:
//   node test/lambda/gateway.mjs --shape url|rest|alb|alb-multi [--stream] --listen PORT
//        [--timeout SEC] [--env NAME=VALUE]... [--quiet]
//        [--async-sandboxes N [--async-log FILE] [--invoke-listen PORT]] -- BINARY [ARGS...]
//   starts the emulator, the runtime (restarted like a fresh sandbox if it exits or times out)
//   and the gateway; prints "gateway: listening on http://127.0.0.1:PORT/mcp" when ready. On
//   SIGTERM it stops and prints its record: "gateway: {JSON}" (Runtime API statistics).
//   --async-sandboxes N: the Lambda Invoke API too (POST /2015-03-31/functions/NAME/invocations,
//   on PORT or any free port; every runtime gets AWS_ENDPOINT_URL_LAMBDA pointing at it), and
//   N more sandboxes that run the asynchronous invocations (X-Amz-Invocation-Type: Event: 202
//   at once, the event queued) one at a time each, as Lambda runs them apart from the sandbox
//   that made them; their record is the "async" member of the JSON, each invocation a line
//   of FILE. On SIGTERM the invocations still running get a function timeout to end.

import http from 'node:http';
import { randomUUID, randomBytes, createHash, createHmac } from 'node:crypto';
import { appendFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { RuntimeApiEmulator, spawnRuntime, PRELUDE_SEPARATOR, HTTP_INTEGRATION_CT } from './emulator.mjs';

export const SHAPES = ['url', 'rest', 'alb', 'alb-multi'];
const ASYNC_PAYLOAD_LIMIT = 1024 * 1024; // Lambda's limit for an asynchronous invocation's payload

const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'transfer-encoding', 'content-length', 'upgrade', 'trailer', 'te', 'proxy-connection']);

/** Text-like content types are passed as strings; anything else is base64-encoded. */
export function isTextual(contentType) {
  if (!contentType) return false;
  const t = contentType.split(';')[0].trim().toLowerCase();
  return t.startsWith('text/') || t === 'application/json' || t.endsWith('+json') || t === 'application/javascript' ||
    t === 'application/xml' || t.endsWith('+xml') || t === 'application/x-www-form-urlencoded' || t === 'application/yaml';
}

function clfTime(d) { // 12/Mar/2020:19:03:58 +0000
  const mon = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'][d.getUTCMonth()];
  const p = (n) => String(n).padStart(2, '0');
  return `${p(d.getUTCDate())}/${mon}/${d.getUTCFullYear()}:${p(d.getUTCHours())}:${p(d.getUTCMinutes())}:${p(d.getUTCSeconds())} +0000`;
}

function parseQuery(raw, decode) {
  const pairs = [];
  if (!raw) return pairs;
  for (const part of raw.split('&')) {
    if (!part) continue;
    const i = part.indexOf('=');
    let k = i < 0 ? part : part.slice(0, i), v = i < 0 ? '' : part.slice(i + 1);
    if (decode) {
      const dec = (s) => { try { return decodeURIComponent(s.replace(/\+/g, ' ')); } catch { return s; } };
      k = dec(k); v = dec(v);
    }
    pairs.push([k, v]);
  }
  return pairs;
}

/**
 * Build a Lambda event from an HTTP request description:
 *   {method, path (may carry ?query), headers: [[name, value], ...] (raw, in order), body: Buffer, sourceIp}
 */
export function buildEvent(shape, r) {
  const now = new Date();
  const [rawPath, rawQuery = ''] = r.path.split(/\?(.*)/s);
  const pairs = r.headers || [];
  const body = r.body || Buffer.alloc(0);
  const ctPair = pairs.find(([k]) => k.toLowerCase() === 'content-type');
  const textual = body.length === 0 || isTextual(ctPair && ctPair[1]);
  const bodyStr = textual ? body.toString('utf8') : body.toString('base64');
  const sourceIp = r.sourceIp || '127.0.0.1';
  const ua = (pairs.find(([k]) => k.toLowerCase() === 'user-agent') || [])[1] || '';
  const reqId = randomUUID();

  if (shape === 'url') { // payload 2.0
    const headers = {};
    let cookies;
    for (const [k, v] of pairs) {
      const n = k.toLowerCase();
      if (n === 'cookie') { cookies = (cookies || []).concat(v.split(';').map((c) => c.trim()).filter(Boolean)); continue; }
      headers[n] = n in headers ? `${headers[n]},${v}` : v;
    }
    const qsp = {};
    for (const [k, v] of parseQuery(rawQuery, true)) qsp[k] = k in qsp ? `${qsp[k]},${v}` : v;
    const ev = {
      version: '2.0', routeKey: '$default', rawPath, rawQueryString: rawQuery,
      ...(cookies ? { cookies } : {}),
      headers,
      ...(rawQuery ? { queryStringParameters: qsp } : {}),
      requestContext: {
        accountId: 'anonymous', apiId: 'mcptesturlid', domainName: 'mcptesturlid.lambda-url.us-east-1.on.aws', domainPrefix: 'mcptesturlid',
        http: { method: r.method, path: rawPath, protocol: 'HTTP/1.1', sourceIp, userAgent: ua },
        requestId: reqId, routeKey: '$default', stage: '$default', time: clfTime(now), timeEpoch: now.getTime(),
      },
      isBase64Encoded: !textual,
    };
    if (body.length) ev.body = bodyStr;
    return ev;
  }

  if (shape === 'rest') { // payload 1.0
    const headers = {}, mvh = {};
    for (const [k, v] of pairs) { headers[k] = v; (mvh[k] ||= []).push(v); }
    const q = parseQuery(rawQuery, true);
    let qsp = null, mvq = null;
    if (q.length) { qsp = {}; mvq = {}; for (const [k, v] of q) { qsp[k] = v; (mvq[k] ||= []).push(v); } }
    return {
      resource: '/{proxy+}', path: rawPath, httpMethod: r.method, headers, multiValueHeaders: mvh,
      queryStringParameters: qsp, multiValueQueryStringParameters: mvq,
      pathParameters: { proxy: rawPath.replace(/^\//, '') }, stageVariables: null,
      requestContext: {
        resourceId: 'abc123', resourcePath: '/{proxy+}', httpMethod: r.method, extendedRequestId: randomBytes(8).toString('base64'),
        requestTime: clfTime(now), path: `/test${rawPath}`, accountId: '123456789012', protocol: 'HTTP/1.1', stage: 'test',
        domainPrefix: 'mcptestapi', requestTimeEpoch: now.getTime(), requestId: reqId,
        identity: { cognitoIdentityPoolId: null, accountId: null, cognitoIdentityId: null, caller: null, sourceIp, principalOrgId: null,
          accessKey: null, cognitoAuthenticationType: null, cognitoAuthenticationProvider: null, userArn: null, userAgent: ua, user: null },
        domainName: 'mcptestapi.execute-api.us-east-1.amazonaws.com', apiId: 'mcptestapi',
      },
      body: body.length ? bodyStr : null,
      isBase64Encoded: !textual,
    };
  }

  if (shape === 'alb' || shape === 'alb-multi') { // ALB: header names lower-case, query values as sent
    const multi = shape === 'alb-multi';
    const ev = {
      requestContext: { elb: { targetGroupArn: 'arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/mcp-test/6d0ecf831eec9f09' } },
      httpMethod: r.method, path: rawPath,
    };
    const q = parseQuery(rawQuery, false);
    if (multi) {
      const mvq = {}, mvh = {};
      for (const [k, v] of q) (mvq[k] ||= []).push(v);
      for (const [k, v] of pairs) (mvh[k.toLowerCase()] ||= []).push(v);
      ev.multiValueQueryStringParameters = mvq;
      ev.multiValueHeaders = mvh;
    } else {
      const qsp = {}, headers = {};
      for (const [k, v] of q) qsp[k] = v;
      for (const [k, v] of pairs) headers[k.toLowerCase()] = v;
      ev.queryStringParameters = qsp;
      ev.headers = headers;
    }
    ev.body = body.length ? bodyStr : '';
    ev.isBase64Encoded = !textual;
    return ev;
  }
  throw new Error(`unknown shape ${shape}`);
}

/** The HTTP answer the AWS front end gives for a failed invocation. */
function errorHttp(shape, result) {
  const status = 502;
  let body;
  if (shape === 'url') body = JSON.stringify({ Message: result.kind === 'timeout' ? 'Internal Server Error' : 'Internal Server Error' });
  else if (shape === 'rest') body = JSON.stringify({ message: 'Internal server error' });
  else body = '<html><body><h1>502 Bad Gateway</h1></body></html>';
  return { status, headers: [['Content-Type', shape.startsWith('alb') ? 'text/html' : 'application/json']], body: Buffer.from(body), error: result };
}

/**
 * Turn a buffered function result into {status, statusMessage?, headers: [[k, v]...], body: Buffer}
 * the way the chosen front end does; `malformed` is set when the result breaks the shape's rules.
 */
export function resultToHttp(shape, result) {
  if (result.kind !== 'response') return errorHttp(shape, result);
  const text = result.text;
  let r;
  try { r = JSON.parse(text); } catch { r = undefined; }
  const out = { status: 200, headers: [], body: Buffer.alloc(0) };
  const isObj = r && typeof r === 'object' && !Array.isArray(r);
  if (shape === 'url' && !(isObj && 'statusCode' in r)) { // payload 2.0 infers a plain result
    out.headers.push(['Content-Type', 'application/json']);
    out.body = Buffer.from(text);
    out.inferred = true;
    return out;
  }
  if (!isObj || !Number.isInteger(r.statusCode) || r.statusCode < 100 || r.statusCode > 599) {
    const e = errorHttp(shape, { kind: 'malformed' });
    e.malformed = 'the function result is not a valid proxy response (statusCode)';
    return e;
  }
  out.status = r.statusCode;
  const addHeaders = (obj, multi) => {
    if (!obj || typeof obj !== 'object') return;
    for (const [k, v] of Object.entries(obj)) {
      if (HOP_BY_HOP.has(k.toLowerCase())) continue;
      if (multi) { if (Array.isArray(v)) for (const x of v) out.headers.push([k, String(x)]); }
      else if (v !== null && v !== undefined) out.headers.push([k, String(v)]);
    }
  };
  if (shape === 'alb') addHeaders(r.headers, false);                 // multi-value off: headers only
  else if (shape === 'alb-multi') addHeaders(r.multiValueHeaders, true); // multi-value on: multiValueHeaders only
  else if (shape === 'rest') {                                         // REST merges both
    addHeaders(r.headers, false);
    if (r.multiValueHeaders) {
      const seen = new Set(out.headers.map(([k]) => k.toLowerCase()));
      for (const [k, v] of Object.entries(r.multiValueHeaders)) {
        if (HOP_BY_HOP.has(k.toLowerCase()) || !Array.isArray(v)) continue;
        if (seen.has(k.toLowerCase())) { out.headers = out.headers.filter(([h]) => h.toLowerCase() !== k.toLowerCase()); }
        for (const x of v) out.headers.push([k, String(x)]);
      }
    }
  } else addHeaders(r.headers, false);                                 // url
  if (shape === 'url' && Array.isArray(r.cookies)) for (const c of r.cookies) out.headers.push(['Set-Cookie', String(c)]);
  if (shape.startsWith('alb') && typeof r.statusDescription === 'string') {
    const m = /^\d{3} (.*)$/.exec(r.statusDescription);
    if (m) out.statusMessage = m[1];
  }
  const b = r.body === undefined || r.body === null ? '' : String(r.body);
  out.body = r.isBase64Encoded ? Buffer.from(b, 'base64') : Buffer.from(b, 'utf8');
  out.lambda = r;
  return out;
}

function writeHead(res, status, headers, statusMessage) {
  const flat = [];
  for (const [k, v] of headers) flat.push(k, v);
  if (statusMessage) res.writeHead(status, statusMessage, flat); else res.writeHead(status, flat);
}

/**
 * The gateway server. opts: emulator, shape, stream (function URL streaming), timeoutMs
 * (function timeout), onTimeout(result) (called when an invocation times out: the
 * supervisor resets the sandbox), log(fn).
 */
export function createGateway(opts) {
  const { emulator, shape = 'url' } = opts;
  const stream = !!opts.stream;
  if (!SHAPES.includes(shape)) throw new Error(`unknown shape ${shape}`);
  const log = opts.log || (() => {});
  const gw = http.createServer({ requestTimeout: 0, keepAliveTimeout: 5000 }, (req, res) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      const pairs = [];
      for (let i = 0; i < req.rawHeaders.length; i += 2) {
        const k = req.rawHeaders[i];
        if (['connection', 'keep-alive', 'transfer-encoding', 'upgrade', 'te', 'proxy-connection'].includes(k.toLowerCase())) continue;
        pairs.push([k, req.rawHeaders[i + 1]]);
      }
      const body = Buffer.concat(chunks);
      if (body.length && !pairs.some(([k]) => k.toLowerCase() === 'content-length')) pairs.push(['content-length', String(body.length)]);
      pairs.push(['x-forwarded-for', req.socket.remoteAddress || '127.0.0.1'], ['x-forwarded-proto', 'https'], ['x-forwarded-port', '443']);
      const event = buildEvent(shape, { method: req.method, path: req.url, headers: pairs, body, sourceIp: req.socket.remoteAddress });
      const inv = emulator.enqueue(event, { timeoutMs: opts.timeoutMs });
      gw.emit('invocation', inv, event);
      let pre = Buffer.alloc(0), headed = false, streamed = false, raw = false;
      inv.on('stream', ({ headers }) => {
        streamed = true;
        raw = !(headers['content-type'] || '').toLowerCase().startsWith(HTTP_INTEGRATION_CT);
        if (raw) { writeHead(res, 200, [['Content-Type', headers['content-type'] || 'application/octet-stream']]); res.flushHeaders(); headed = true; }
      });
      inv.on('data', (c) => {
        if (res.destroyed) return;
        if (headed) { res.write(c); return; }
        pre = Buffer.concat([pre, c]);
        const i = pre.indexOf(PRELUDE_SEPARATOR);
        if (i < 0) return;
        let p;
        try { p = JSON.parse(pre.subarray(0, i).toString('utf8')); } catch { p = null; }
        if (!p || typeof p !== 'object') { headed = true; res.destroy(); log(`invalid prelude: ${pre.subarray(0, i)}`); return; }
        const hs = [];
        for (const [k, v] of Object.entries(p.headers || {})) if (!HOP_BY_HOP.has(k.toLowerCase())) hs.push([k, String(v)]);
        for (const c2 of p.cookies || []) hs.push(['Set-Cookie', String(c2)]);
        writeHead(res, p.statusCode || 200, hs);
        res.flushHeaders();
        headed = true;
        const rest = pre.subarray(i + 8);
        if (rest.length) res.write(rest);
      });
      inv.result.then((result) => {
        if (result.kind === 'timeout' && opts.onTimeout) opts.onTimeout(result);
        if (res.destroyed) return;
        if (streamed && result.kind === 'stream') {
          if (!headed) { const e = errorHttp(shape, result); writeHead(res, e.status, e.headers); res.end(e.body); log('stream ended before its prelude'); return; }
          if (result.streamError) { log(`stream error: ${JSON.stringify(result.streamError)}`); res.destroy(); return; }
          res.end();
          return;
        }
        if (streamed && headed) { res.destroy(); return; } // the stream failed midway (timeout, runtime died)
        const h = resultToHttp(shape, result);
        if (h.malformed) log(h.malformed);
        if (result.kind !== 'response') log(`invocation ${result.id}: ${result.kind} ${result.errorType || ''} ${result.errorMessage || ''}`);
        h.headers.push(['Content-Length', String(h.body.length)]);
        writeHead(res, h.status, h.headers, h.statusMessage);
        res.end(req.method === 'HEAD' ? undefined : h.body);
      });
    });
  });
  gw.shape = shape;
  gw.stream = stream;
  return gw;
}

/**
 * A sandbox: a runtime process of opts.binary against `emulator`, replaced like a fresh
 * sandbox when it exits (opts.restart false: not replaced). counter.restarts counts the
 * replacements. Returns {runtime() (the current process), reset() (kill it: a timed-out
 * invocation resets the sandbox), stop()}.
 */
function supervise(emulator, opts, env, log, counter) {
  let rt = null, closing = false;
  const launch = () => {
    rt = spawnRuntime(opts.binary, { api: emulator.api, args: opts.args || [], env, echo: !!opts.echo });
    const mine = rt;
    mine.exited.then((e) => {
      if (closing || opts.restart === false) return;
      log(`runtime pid ${mine.pid} exited (${e.code ?? e.signal}); starting a fresh sandbox`);
      emulator.failInFlight('Runtime.ExitError', `the runtime exited (${e.code ?? e.signal})`);
      counter.restarts++;
      if (counter.restarts > (opts.maxRestarts ?? 1000)) { log('too many restarts'); return; }
      setTimeout(launch, Math.min(1000, 10 * counter.restarts));
    });
  };
  launch();
  return {
    runtime: () => rt,
    reset() { if (rt && rt.alive()) rt.kill('SIGKILL'); },
    async stop() { closing = true; if (rt) await rt.kill('SIGKILL'); },
  };
}

/**
 * The sandboxes that run asynchronous invocations (Invoke with X-Amz-Invocation-Type: Event),
 * as Lambda runs them: apart from the sandbox that answered the request which made them. Each
 * sandbox is its own Runtime API emulator and runtime process (same binary and environment),
 * running one invocation at a time; events wait in a queue for a free sandbox. Each invocation
 * is recorded ({n, requestId, name, payload, sig, queuedAt, ms, outcome: ok | error | timeout
 * | lost, answer (the function's result, 300 bytes at most), errorType, errorMessage}) in pool.records, and appended to opts.asyncLog (JSON lines)
 * as it ends. pool.stats() sums them up.
 */
export class AsyncPool {
  constructor(opts, env, log) {
    this.opts = opts;
    this.env = env;
    this.log = log;
    this.size = opts.asyncSandboxes;
    this.timeoutMs = opts.timeoutMs ?? 30000;
    this.sandboxes = [];
    this.queue = [];
    this.records = [];
    this.counter = { restarts: 0 };
    this.idleWaiters = [];
  }

  async start() {
    for (let i = 0; i < this.size; i++) {
      const emulator = new RuntimeApiEmulator({ defaultTimeoutMs: this.timeoutMs, functionArn: this.opts.functionArn });
      await emulator.listen();
      const sb = { i, emulator, busy: null };
      sb.sup = supervise(emulator, this.opts, this.env, (m) => this.log(`async sandbox ${i}: ${m}`), this.counter);
      this.sandboxes.push(sb);
    }
  }

  /** Queue an event (Buffer); resolves to its record once it ran. */
  submit(payload, rec) {
    rec.n = this.records.length + 1;
    rec.queuedAt = Date.now();
    rec.outcome = 'queued';
    this.records.push(rec);
    const done = new Promise((resolve) => this.queue.push({ payload, rec, resolve }));
    this._pump();
    return done;
  }

  _pump() {
    for (const sb of this.sandboxes) {
      if (sb.busy || !this.queue.length) continue;
      const job = this.queue.shift();
      sb.busy = job;
      job.rec.sandbox = sb.i;
      job.rec.outcome = 'running';
      const inv = sb.emulator.enqueue(job.payload, { timeoutMs: this.timeoutMs });
      job.rec.requestId = inv.id;
      inv.result.then((r) => {
        const rec = job.rec;
        rec.ms = Date.now() - rec.queuedAt;
        rec.outcome = r.kind === 'response' || r.kind === 'stream' ? (r.streamError ? 'error' : 'ok')
          : r.kind === 'timeout' ? 'timeout' : r.kind === 'lost' || r.lost ? 'lost' : 'error';
        if (rec.outcome !== 'ok') {
          rec.errorType = r.errorType || r.streamError?.errorType;
          rec.errorMessage = r.errorMessage || r.reason;
          this.log(`async invocation ${rec.n} (${inv.id}): ${rec.outcome} ${rec.errorType || ''} ${rec.errorMessage || ''}`);
        }
        if (r.kind === 'timeout') sb.sup.reset();
        const answer = r.payload ?? r.body;
        if (answer) rec.answer = answer.subarray(0, 300).toString('utf8');
        rec.result = r;
        if (this.opts.asyncLog) {
          const { result, ...line } = rec;
          appendFileSync(this.opts.asyncLog, JSON.stringify({ ...line, payload: line.payload?.toString('utf8') }) + '\n');
        }
        sb.busy = null;
        job.resolve(rec);
        this._pump();
        if (!this.queue.length && this.sandboxes.every((s) => !s.busy)) for (const w of this.idleWaiters.splice(0)) w();
      });
    }
  }

  /** Resolves once no invocation is queued or running, or after ms. */
  idle(ms) {
    if (!this.queue.length && this.sandboxes.every((s) => !s.busy)) return Promise.resolve(true);
    return new Promise((resolve) => {
      const t = setTimeout(() => resolve(false), ms);
      this.idleWaiters.push(() => { clearTimeout(t); resolve(true); });
    });
  }

  stats() {
    const count = (o) => this.records.filter((r) => r.outcome === o).length;
    return {
      sandboxes: this.size, accepted: this.records.length, ok: count('ok'), errors: count('error'), timeouts: count('timeout'),
      lost: count('lost'), pending: count('queued') + count('running'), restarts: this.counter.restarts,
    };
  }

  async close() {
    for (const sb of this.sandboxes) await sb.sup.stop();
    for (const sb of this.sandboxes) await sb.emulator.close();
  }
}

/** hex SHA-256 and HMAC-SHA256 for SigV4 */
const sha256hex = (b) => createHash('sha256').update(b).digest('hex');
const hmac = (k, s) => createHmac('sha256', k).update(s).digest();

/** RFC 3986 encoding as SigV4 wants it: unreserved characters stay, '/' stays in paths. */
function sigv4Encode(s) {
  return Buffer.from(s, 'utf8').toString('latin1').replace(/[^A-Za-z0-9\-_.~/]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase().padStart(2, '0')}`);
}

/**
 * Check a request's SigV4 Authorization header as AWS does for a service other than S3 (the
 * canonical URI is the path decoded, then encoded twice). Returns 'ok', or what is wrong:
 * 'missing', 'malformed', 'service X' (the scope names another service), 'region X',
 * 'access key', 'stale date', 'signature'. secret: the secret key of the access key the
 * caller was given (no secret: the signature itself is not recomputed).
 */
export function checkSigV4(req, body, want) {
  const auth = req.headers.authorization;
  if (!auth) return 'missing';
  const m = /^AWS4-HMAC-SHA256 Credential=([^/]+)\/(\d{8})\/([^/]+)\/([^/]+)\/aws4_request, ?SignedHeaders=([a-z0-9;-]+), ?Signature=([0-9a-f]{64})$/.exec(auth);
  if (!m) return 'malformed';
  const [, key, date, region, service, signed, sig] = m;
  if (service !== want.service) return `service ${service}`;
  if (want.region && region !== want.region) return `region ${region}`;
  if (want.accessKey && key !== want.accessKey) return 'access key';
  const amz = req.headers['x-amz-date'] || '';
  const t = Date.parse(amz.replace(/^(\d{4})(\d\d)(\d\d)T(\d\d)(\d\d)(\d\d)Z$/, '$1-$2-$3T$4:$5:$6Z'));
  if (!amz.startsWith(date) || !(Math.abs(Date.now() - t) < 15 * 60000)) return 'stale date';
  if (!want.secret) return 'ok';
  const names = signed.split(';');
  if (!names.includes('host')) return 'malformed';
  const values = {};
  for (let i = 0; i < req.rawHeaders.length; i += 2) {
    const n = req.rawHeaders[i].toLowerCase();
    const v = req.rawHeaders[i + 1].trim().replace(/ +/g, ' ');
    values[n] = n in values ? `${values[n]},${v}` : v;
  }
  const [rawPath, rawQuery = ''] = req.url.split(/\?(.*)/s);
  let decoded;
  try { decoded = decodeURIComponent(rawPath); } catch { return 'malformed'; }
  const query = rawQuery.split('&').filter(Boolean).map((p) => {
    const [k, v = ''] = p.split(/=(.*)/s).map((x) => sigv4Encode(decodeURIComponent(x.replace(/\+/g, ' '))).replace(/\//g, '%2F'));
    return [k, v];
  }).sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : a[1] < b[1] ? -1 : a[1] > b[1] ? 1 : 0)).map(([k, v]) => `${k}=${v}`).join('&');
  const canonical = [req.method, sigv4Encode(sigv4Encode(decoded)), query,
    names.map((n) => `${n}:${values[n] ?? ''}\n`).join(''), signed,
    req.headers['x-amz-content-sha256'] || sha256hex(body)].join('\n');
  const scope = `${date}/${region}/${service}/aws4_request`;
  const toSign = `AWS4-HMAC-SHA256\n${amz}\n${scope}\n${sha256hex(canonical)}`;
  const k = hmac(hmac(hmac(hmac(`AWS4${want.secret}`, date), region), service), 'aws4_request');
  return createHmac('sha256', k).update(toSign).digest('hex') === sig ? 'ok' : 'signature';
}

/**
 * The Lambda Invoke API (2015-03-31) for the function the gateway runs:
 *   POST /2015-03-31/functions/{FunctionName}/invocations
 * FunctionName may be the name, the ARN or the partial ARN (ACCOUNT:function:NAME), with the
 * qualifier $LATEST or none; another function gets 404 ResourceNotFoundException. A request
 * whose SigV4 signature does not check (checkSigV4, service lambda) gets 403.
 * X-Amz-Invocation-Type: Event answers 202 at once and queues the event to the async pool;
 * RequestResponse (the default) runs it in the pool and answers 200 with the result
 * (X-Amz-Function-Error: Unhandled for an invocation error); DryRun answers 204. Every request
 * is counted in api.stats: calls, accepted, notFound, badSignature, badRequests, and
 * otherName (invocations that named the function otherwise than by the ARN the runtime was
 * handed as Lambda-Runtime-Invoked-Function-Arn, which is what mcp.c's tasks must use).
 */
export function createInvokeApi(pool, opts) {
  const arn = opts.functionArn;
  const [, , , region, account, , name] = arn.split(':');
  const log = opts.log || (() => {});
  const stats = { calls: 0, accepted: 0, notFound: 0, badSignature: 0, badRequests: 0, otherName: 0, sync: 0 };
  const server = http.createServer((req, res) => {
    const chunks = [];
    let size = 0;
    req.on('data', (c) => { size += c.length; if (size <= ASYNC_PAYLOAD_LIMIT + 1) chunks.push(c); });
    req.on('end', async () => {
      stats.calls++;
      const body = Buffer.concat(chunks);
      const reply = (status, obj, headers = {}) => {
        const b = obj === undefined ? Buffer.alloc(0) : Buffer.isBuffer(obj) ? obj : Buffer.from(JSON.stringify(obj));
        res.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': b.length, 'X-Amzn-RequestId': randomUUID(), ...headers });
        res.end(b);
      };
      const fail = (status, type, message, counter) => {
        stats[counter]++;
        log(`Invoke API: ${status} ${type}: ${message} (${req.method} ${req.url})`);
        reply(status, { Type: 'User', message }, { 'X-Amzn-ErrorType': type });
      };
      const m = /^\/2015-03-31\/functions\/([^/?]+)\/invocations(?:\?(.*))?$/.exec(req.url);
      if (req.method !== 'POST' || !m) return fail(404, 'UnknownOperationException', `no such operation: ${req.method} ${req.url}`, 'badRequests');
      let fn;
      try { fn = decodeURIComponent(m[1]); } catch { return fail(400, 'InvalidParameterValueException', 'bad FunctionName encoding', 'badRequests'); }
      const q = new URLSearchParams(m[2] || '').get('Qualifier');
      const fm = /^(?:(?:arn:aws:lambda:([a-z0-9-]+):)?(\d{12}):function:)?([A-Za-z0-9_-]+)(?::([A-Za-z0-9_$-]+))?$/.exec(fn);
      const qualifier = fm?.[4] ?? q;
      if (!fm || fm[3] !== name || (fm[2] && fm[2] !== account) || (fm[1] && fm[1] !== region) || (qualifier && qualifier !== '$LATEST'))
        return fail(404, 'ResourceNotFoundException', `Function not found: ${fn}`, 'notFound');
      const sig = checkSigV4(req, body, { service: 'lambda', region, accessKey: opts.accessKey, secret: opts.secret });
      if (sig !== 'ok') return fail(403, sig === 'missing' ? 'MissingAuthenticationTokenException' : 'InvalidSignatureException', `SigV4: ${sig}`, 'badSignature');
      if (size > ASYNC_PAYLOAD_LIMIT) return fail(413, 'RequestEntityTooLargeException', `payload of ${size} bytes`, 'badRequests');
      const type = req.headers['x-amz-invocation-type'] || 'RequestResponse';
      if (type === 'DryRun') return reply(204);
      if (type !== 'Event' && type !== 'RequestResponse') return fail(400, 'InvalidParameterValueException', `X-Amz-Invocation-Type ${type}`, 'badRequests');
      if (fn !== arn) stats.otherName++;
      stats.accepted++;
      const rec = { name: fn, type, payload: body, sig };
      const done = pool.submit(body, rec);
      if (type === 'Event') return reply(202, undefined, { 'Content-Length': 0 });
      stats.sync++;
      const r = (await done).result;
      const fnError = r.kind === 'error' || r.kind === 'timeout' || r.kind === 'lost' || r.streamError;
      reply(200, r.body || Buffer.from(JSON.stringify({ errorType: r.errorType, errorMessage: r.errorMessage })),
        { 'X-Amz-Executed-Version': '$LATEST', ...(fnError ? { 'X-Amz-Function-Error': 'Unhandled' } : {}) });
    });
  });
  server.stats = stats;
  return server;
}

/**
 * Emulator + runtime + gateway. opts: binary, args, shape, stream, port (0: any), host,
 * timeoutMs (function timeout, default 30 s), env (extra runtime env), echo (runtime output
 * to stderr), restart (default true: a runtime that exits or times out is replaced, as Lambda
 * replaces a sandbox), functionArn. With asyncSandboxes N (> 0) it also serves the Lambda
 * Invoke API (createInvokeApi) on invokePort (0: any) and runs asynchronous invocations in
 * an AsyncPool of N more sandboxes; every runtime gets AWS_ENDPOINT_URL_LAMBDA pointing at
 * it unless env names one; asyncLog: a file for the pool's records. Returns {emulator,
 * gateway, runtime() (the current one), url, port, restarts, pool, invokeApi, invokeUrl,
 * close()}.
 */
export async function startStack(opts) {
  const functionArn = opts.functionArn || 'arn:aws:lambda:us-east-1:123456789012:function:mcp-test';
  const emulator = new RuntimeApiEmulator({ defaultTimeoutMs: opts.timeoutMs ?? 30000, faults: opts.faults, functionArn });
  await emulator.listen();
  const env = { ...(opts.env || {}) };
  if (opts.stream) env.MCP_LAMBDA_STREAMING = '1';
  const st = { emulator, restarts: 0 };
  const log = opts.log || ((m) => process.stderr.write(`gateway: ${m}\n`));
  if (opts.asyncSandboxes > 0) {
    st.pool = new AsyncPool({ ...opts, functionArn }, env, log);
    st.invokeApi = createInvokeApi(st.pool, {
      functionArn, log, accessKey: env.AWS_ACCESS_KEY_ID, secret: env.AWS_SECRET_ACCESS_KEY,
    });
    await new Promise((resolve, reject) => {
      st.invokeApi.once('error', reject);
      st.invokeApi.listen(opts.invokePort || 0, opts.host || '127.0.0.1', () => { st.invokeApi.off('error', reject); resolve(); });
    });
    st.invokeUrl = `http://${opts.host || '127.0.0.1'}:${st.invokeApi.address().port}`;
    env.AWS_ENDPOINT_URL_LAMBDA ??= st.invokeUrl;
    await st.pool.start();
  }
  const sandbox = supervise(emulator, opts, env, log, st);
  const gateway = createGateway({
    emulator, shape: opts.shape || 'url', stream: opts.stream, timeoutMs: opts.timeoutMs ?? 30000, log,
    onTimeout: (r) => { log(`invocation ${r.id} timed out; resetting the sandbox`); sandbox.reset(); },
  });
  await new Promise((resolve, reject) => {
    gateway.once('error', reject);
    gateway.listen(opts.port || 0, opts.host || '127.0.0.1', () => { gateway.off('error', reject); resolve(); });
  });
  const port = gateway.address().port;
  Object.assign(st, {
    gateway, port, url: `http://${opts.host || '127.0.0.1'}:${port}/mcp`,
    runtime: sandbox.runtime,
    /** Runtime API statistics of the sandbox behind the gateway, restarts, and with a pool,
     * async: the pool's and the Invoke API's. */
    stats() {
      const s = { ...emulator.stats, restarts: st.restarts };
      if (st.pool) s.async = { ...st.pool.stats(), ...st.invokeApi.stats };
      return s;
    },
    async close(drainMs = 0) {
      gateway.closeAllConnections?.();
      await new Promise((r) => gateway.close(() => r()));
      if (st.pool && drainMs) await st.pool.idle(drainMs); // invocations still running end first
      await sandbox.stop();
      await emulator.close();
      if (st.pool) {
        st.invokeApi.closeAllConnections?.();
        await new Promise((r) => st.invokeApi.close(() => r()));
        await st.pool.close();
      }
    },
  });
  return st;
}

// ---------------------------------------------------------------------------------------------
// CLI
async function main(argv) {
  const o = { shape: 'url', stream: false, port: 0, env: {}, timeoutMs: 30000, echo: true };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--shape') o.shape = argv[++i];
    else if (a === '--stream') o.stream = true;
    else if (a === '--listen') { const v = argv[++i]; const m = /^(?:(.*):)?(\d+)$/.exec(v); if (!m) throw new Error(`bad --listen ${v}`); o.host = m[1] || '127.0.0.1'; o.port = Number(m[2]); }
    else if (a === '--timeout') o.timeoutMs = Number(argv[++i]) * 1000;
    else if (a === '--env') { const [k, ...v] = argv[++i].split('='); o.env[k] = v.join('='); }
    else if (a === '--quiet') o.echo = false;
    else if (a === '--async-sandboxes') o.asyncSandboxes = Number(argv[++i]);
    else if (a === '--async-log') o.asyncLog = argv[++i];
    else if (a === '--invoke-listen') o.invokePort = Number(argv[++i]);
    else if (a === '--') { o.binary = argv[i + 1]; o.args = argv.slice(i + 2); break; }
    else if (a === '-h' || a === '--help') {
      process.stdout.write('usage: node gateway.mjs --shape url|rest|alb|alb-multi [--stream] --listen [HOST:]PORT [--timeout SEC] [--env K=V]... [--quiet]\n' +
        '       [--async-sandboxes N [--async-log FILE] [--invoke-listen PORT]] -- BINARY [ARGS...]\n');
      return null;
    } else throw new Error(`unknown option ${a}`);
  }
  if (!o.binary) throw new Error('no BINARY given (after --)');
  if (!SHAPES.includes(o.shape)) throw new Error(`--shape must be one of ${SHAPES.join(', ')}`);
  if (o.stream && o.shape !== 'url') process.stderr.write('gateway: note: only function URLs stream; streaming with another shape is not an AWS configuration\n');
  const st = await startStack(o);
  process.stdout.write(`gateway: listening on ${st.url} (shape ${o.shape}${o.stream ? ', streaming' : ''}; AWS_LAMBDA_RUNTIME_API=${st.emulator.api}` +
    `${st.pool ? `; Invoke API ${st.invokeUrl}, ${o.asyncSandboxes} async sandboxes` : ''})\n`);
  let stopping = false;
  const stop = async () => { // invocations still running in the async pool get a function timeout to end
    if (stopping) return;
    stopping = true;
    await st.close(o.timeoutMs + 1000);
    process.stderr.write(`gateway: ${JSON.stringify(st.stats())}\n`);
    process.exit(0);
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
  return st;
}

if (import.meta.url === pathToFileURL(process.argv[1] || '').href) {
  main(process.argv.slice(2)).catch((e) => { process.stderr.write(`gateway: ${e.message}\n`); process.exit(2); });
}
