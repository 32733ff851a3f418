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
//        [--timeout SEC] [--env NAME=VALUE]... [--quiet] -- BINARY [ARGS...]
//   starts the emulator, the runtime (restarted like a fresh sandbox if it exits or times out)
//   and the gateway; prints "gateway: listening on http://127.0.0.1:PORT/mcp" when ready.

import http from 'node:http';
import { randomUUID, randomBytes } from 'node:crypto';
import { pathToFileURL } from 'node:url';
import { RuntimeApiEmulator, spawnRuntime, PRELUDE_SEPARATOR, HTTP_INTEGRATION_CT } from './emulator.mjs';

export const SHAPES = ['url', 'rest', 'alb', 'alb-multi'];

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
 * Emulator + runtime + gateway. opts: binary, args, shape, stream, port (0: any), host,
 * timeoutMs (function timeout, default 30 s), env (extra runtime env), echo (runtime output
 * to stderr), restart (default true: a runtime that exits or times out is replaced, as Lambda
 * replaces a sandbox). Returns {emulator, gateway, runtime() (the current one), url, port,
 * restarts, close()}.
 */
export async function startStack(opts) {
  const emulator = new RuntimeApiEmulator({ defaultTimeoutMs: opts.timeoutMs ?? 30000, faults: opts.faults });
  await emulator.listen();
  const env = { ...(opts.env || {}) };
  if (opts.stream) env.MCP_LAMBDA_STREAMING = '1';
  let rt = null, closing = false;
  const st = { emulator, restarts: 0 };
  const log = opts.log || ((m) => process.stderr.write(`gateway: ${m}\n`));
  const launch = () => {
    rt = spawnRuntime(opts.binary, { api: emulator.api, args: opts.args || [], env, echo: !!opts.echo });
    const mine = rt;
    mine.exited.then((e) => {
      if (closing || opts.restart === false) return;
      log(`runtime pid ${mine.pid} exited (${e.code ?? e.signal}); starting a fresh sandbox`);
      emulator.failInFlight('Runtime.ExitError', `the runtime exited (${e.code ?? e.signal})`);
      st.restarts++;
      if (st.restarts > (opts.maxRestarts ?? 1000)) { log('too many restarts'); return; }
      setTimeout(launch, Math.min(1000, 10 * st.restarts));
    });
  };
  launch();
  const gateway = createGateway({
    emulator, shape: opts.shape || 'url', stream: opts.stream, timeoutMs: opts.timeoutMs ?? 30000, log,
    onTimeout: (r) => { log(`invocation ${r.id} timed out; resetting the sandbox`); if (rt && rt.alive()) rt.kill('SIGKILL'); },
  });
  await new Promise((resolve, reject) => {
    gateway.once('error', reject);
    gateway.listen(opts.port || 0, opts.host || '127.0.0.1', () => { gateway.off('error', reject); resolve(); });
  });
  const port = gateway.address().port;
  Object.assign(st, {
    gateway, port, url: `http://${opts.host || '127.0.0.1'}:${port}/mcp`,
    runtime: () => rt,
    async close() {
      closing = true;
      gateway.closeAllConnections?.();
      await new Promise((r) => gateway.close(() => r()));
      if (rt) await rt.kill('SIGKILL');
      await emulator.close();
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
    else if (a === '--') { o.binary = argv[i + 1]; o.args = argv.slice(i + 2); break; }
    else if (a === '-h' || a === '--help') {
      process.stdout.write('usage: node gateway.mjs --shape url|rest|alb|alb-multi [--stream] --listen [HOST:]PORT [--timeout SEC] [--env K=V]... [--quiet] -- BINARY [ARGS...]\n');
      return null;
    } else throw new Error(`unknown option ${a}`);
  }
  if (!o.binary) throw new Error('no BINARY given (after --)');
  if (!SHAPES.includes(o.shape)) throw new Error(`--shape must be one of ${SHAPES.join(', ')}`);
  if (o.stream && o.shape !== 'url') process.stderr.write('gateway: note: only function URLs stream; streaming with another shape is not an AWS configuration\n');
  const st = await startStack(o);
  process.stdout.write(`gateway: listening on ${st.url} (shape ${o.shape}${o.stream ? ', streaming' : ''}; AWS_LAMBDA_RUNTIME_API=${st.emulator.api})\n`);
  const stop = async () => { await st.close(); process.stderr.write(`gateway: ${JSON.stringify({ ...st.emulator.stats, restarts: st.restarts })}\n`); process.exit(0); };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
  return st;
}

if (import.meta.url === pathToFileURL(process.argv[1] || '').href) {
  main(process.argv.slice(2)).catch((e) => { process.stderr.write(`gateway: ${e.message}\n`); process.exit(2); });
}
