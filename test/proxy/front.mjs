// front.mjs: a Lambda function URL with AuthType AWS_IAM, played locally for `proxy URL` tests.
//
// Every request's SigV4 Authorization header is checked with an implementation independent of
// mcp.c (@smithy/signature-v4, the AWS SDK's signer): the signature is recomputed for the
// received method, path, query, the headers named in SignedHeaders (their received values)
// and the received body, with the known secret key of the access key it names, the expected
// region and service "lambda", and the date of its X-Amz-Date; the whole Authorization value
// must match. A key that has a session token must send it in X-Amz-Security-Token, signed.
// A request that fails gets 403 with a JSON {"Message": ...} body, as a function URL does;
// one that passes is forwarded (streamed both ways) to the upstream URL — normally the Lambda
// gateway of test/lambda/gateway.mjs in function-URL shape — and the caller is recorded.
//
// Module use:
//   import { startFront } from './front.mjs';
//   const f = await startFront({ upstream: st.url, region: 'us-east-1',
//                                keys: { AKIDEXAMPLE: { secret: '...', token: '...' } } });
//   f.url; f.records (one per request: headers, body, auth verdict, status); await f.close();
//   f.fault = (rec) => null | {status, body, headers} | 'reset' | 'cut-after-end' | 'cut-after-first-event';
//   (applied after verification, so retried attempts are verified too)
//
// CLI:
//   node test/proxy/front.mjs --upstream URL [--listen PORT] [--region R] --key AKID:SECRET[:TOKEN]...

import http from 'node:http';
import { timingSafeEqual } from 'node:crypto';
import { pathToFileURL } from 'node:url';
import { SignatureV4 } from '@smithy/signature-v4';
import { Sha256 } from '@aws-crypto/sha256-js';

export const MISMATCH = 'The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details.';
export const MISSING = 'Forbidden';
export const BAD_TOKEN = 'The security token included in the request is invalid.';
const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'transfer-encoding', 'upgrade', 'te', 'trailer', 'proxy-connection', 'proxy-authorization']);
const AUTH_RE = /^AWS4-HMAC-SHA256 Credential=([^/\s,]+)\/(\d{8})\/([^/\s,]+)\/([^/\s,]+)\/aws4_request, ?SignedHeaders=([a-z0-9\-;]+), ?Signature=([0-9a-f]{64})$/;
const SKEW_MS = 15 * 60 * 1000; // AWS rejects requests signed more than 15 minutes off

function amzDate(s) { // 20260101T000000Z -> Date
  const m = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(s || '');
  return m ? new Date(Date.UTC(+m[1], +m[2] - 1, +m[3], +m[4], +m[5], +m[6])) : null;
}

function sameString(a, b) {
  const x = Buffer.from(a), y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

/**
 * Verify one request. r: {method, url (path?query), rawHeaders, body: Buffer}; opts: {keys, region, service,
 * now (ms, for test vectors)}.
 * Returns {ok: true, accessKey, signedHeaders, unsigned} or {ok: false, message, reason}.
 */
export async function verifySigV4(r, opts) {
  const pairs = [];
  for (let i = 0; i < r.rawHeaders.length; i += 2) pairs.push([r.rawHeaders[i].toLowerCase(), r.rawHeaders[i + 1]]);
  const all = (n) => pairs.filter(([k]) => k === n).map(([, v]) => v);
  const auths = all('authorization');
  if (!auths.length) return { ok: false, message: MISSING, reason: 'no Authorization header' };
  if (auths.length > 1) return { ok: false, message: MISMATCH, reason: 'several Authorization headers' };
  const m = AUTH_RE.exec(auths[0].trim());
  if (!m) return { ok: false, message: MISMATCH, reason: `malformed Authorization: ${auths[0]}` };
  const [, ak, day, region, service, signedList] = m;
  const key = opts.keys[ak];
  if (!key) return { ok: false, message: BAD_TOKEN, reason: `unknown access key ${ak}` };
  if (region !== opts.region) return { ok: false, message: MISMATCH, reason: `credential scope region ${region}, want ${opts.region}` };
  if (service !== (opts.service || 'lambda')) return { ok: false, message: MISMATCH, reason: `credential scope service ${service}, want lambda` };
  const signed = signedList.split(';');
  const sorted = [...signed].sort();
  if (signed.join(';') !== sorted.join(';') || new Set(signed).size !== signed.length) return { ok: false, message: MISMATCH, reason: `SignedHeaders not sorted/unique: ${signedList}` };
  for (const need of ['host', 'x-amz-date']) if (!signed.includes(need)) return { ok: false, message: MISMATCH, reason: `${need} is not signed` };
  const dates = all('x-amz-date');
  const when = dates.length === 1 ? amzDate(dates[0]) : null;
  if (!when) return { ok: false, message: MISMATCH, reason: `bad X-Amz-Date ${JSON.stringify(dates)}` };
  if (dates[0].slice(0, 8) !== day) return { ok: false, message: MISMATCH, reason: `credential date ${day} vs X-Amz-Date ${dates[0]}` };
  if (Math.abs((opts.now ?? Date.now()) - when.getTime()) > SKEW_MS) return { ok: false, message: 'Signature expired', reason: `X-Amz-Date ${dates[0]} is too far from now` };
  const toks = all('x-amz-security-token');
  if (key.token) {
    if (toks.length !== 1 || toks[0] !== key.token) return { ok: false, message: BAD_TOKEN, reason: `X-Amz-Security-Token ${JSON.stringify(toks)}, want the session token` };
    if (!signed.includes('x-amz-security-token')) return { ok: false, message: MISMATCH, reason: 'X-Amz-Security-Token is not signed' };
  } else if (toks.length) return { ok: false, message: BAD_TOKEN, reason: 'a session token for a key that has none' };
  for (const n of signed) if (!all(n).length) return { ok: false, message: MISMATCH, reason: `signed header ${n} is absent` };

  // The independent signature: only the signed headers, with their received values.
  const headers = {};
  for (const n of signed) if (n !== 'x-amz-date' && n !== 'x-amz-security-token') headers[n] = all(n).join(',');
  const [path, rawQuery = ''] = r.url.split(/\?(.*)/s);
  const query = {};
  for (const part of rawQuery.split('&')) {
    if (!part) continue;
    const i = part.indexOf('=');
    const dec = (s) => { try { return decodeURIComponent(s.replace(/\+/g, '%20')); } catch { return s; } };
    const k = dec(i < 0 ? part : part.slice(0, i)), v = dec(i < 0 ? '' : part.slice(i + 1));
    if (k in query) query[k] = [].concat(query[k], v); else query[k] = v;
  }
  const signer = new SignatureV4({
    credentials: { accessKeyId: ak, secretAccessKey: key.secret, ...(key.token ? { sessionToken: key.token } : {}) },
    region: opts.region, service: opts.service || 'lambda', sha256: Sha256, applyChecksum: false, uriEscapePath: true,
  });
  const out = await signer.sign({
    method: r.method, protocol: 'http:', hostname: (headers.host || '').replace(/:\d+$/, ''), path, query, headers,
    body: r.body,
  }, { signingDate: when, signableHeaders: new Set(signed) });
  const want = out.headers.authorization;
  if (!sameString(want, auths[0].trim())) return { ok: false, message: MISMATCH, reason: `signature mismatch: got ${auths[0]}, recomputed ${want}` };
  const unsigned = [...new Set(pairs.map(([k]) => k))].filter((k) => !signed.includes(k) && k !== 'authorization');
  return { ok: true, accessKey: ak, signedHeaders: signed, unsigned };
}

/**
 * Start the front. opts: upstream (URL to forward verified requests to), keys ({AKID: {secret,
 * token?}}), region (default us-east-1), service (default lambda), port (0: any), host.
 */
export async function startFront(opts) {
  const up = new URL(opts.upstream);
  const keys = opts.keys || {};
  const records = [];
  const sockets = new Set();
  const agent = new http.Agent({ keepAlive: true });
  const front = { records, fault: null, url: '', port: 0, region: opts.region || 'us-east-1' }; // region: mutable
  const srv = http.createServer({ requestTimeout: 0, keepAliveTimeout: 5000 }, (req, res) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', async () => {
      const body = Buffer.concat(chunks);
      const rec = {
        at: Date.now(), method: req.method, url: req.url, rawHeaders: req.rawHeaders.slice(),
        headers: Object.fromEntries(Object.entries(req.headers)), body: body.toString('utf8'), status: 0,
      };
      try { rec.json = JSON.parse(rec.body); } catch { rec.json = undefined; }
      records.push(rec);
      front.onRequest?.(rec);
      let v;
      try { v = await verifySigV4({ method: req.method, url: req.url, rawHeaders: req.rawHeaders, body }, { keys, region: front.region, service: opts.service }); }
      catch (e) { v = { ok: false, message: MISMATCH, reason: `verifier threw: ${e.message}` }; }
      rec.auth = v;
      front.onVerdict?.(rec);
      if (!v.ok) {
        rec.status = 403;
        const b = JSON.stringify({ Message: v.message });
        res.writeHead(403, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(b), 'x-amzn-ErrorType': 'AccessDeniedException' });
        res.end(b);
        return;
      }
      rec.caller = v.accessKey;
      const f = front.fault ? front.fault(rec) : null;
      if (f === 'reset') { rec.status = -1; req.socket.destroy(); return; }
      if (f && typeof f === 'object') {
        rec.status = f.status;
        const b = f.body === undefined ? '' : typeof f.body === 'string' ? f.body : JSON.stringify(f.body);
        res.writeHead(f.status, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(b), ...(f.headers || {}) });
        res.end(b);
        return;
      }
      // forward, streaming the answer through as it arrives
      const hs = [];
      for (let i = 0; i < req.rawHeaders.length; i += 2) if (!HOP_BY_HOP.has(req.rawHeaders[i].toLowerCase())) hs.push(req.rawHeaders[i], req.rawHeaders[i + 1]);
      const fw = http.request({ host: up.hostname, port: up.port, method: req.method, path: req.url, headers: hs, agent }, (ur) => {
        rec.status = ur.statusCode;
        rec.responseHeaders = ur.headers;
        const out = [];
        for (let i = 0; i < ur.rawHeaders.length; i += 2) if (!HOP_BY_HOP.has(ur.rawHeaders[i].toLowerCase())) out.push(ur.rawHeaders[i], ur.rawHeaders[i + 1]);
        res.writeHead(ur.statusCode, out);
        res.flushHeaders();
        let events = 0;
        ur.on('data', (c) => {
          if (res.destroyed) return;
          res.write(c);
          // 'cut-after-first-event': the connection drops once the first SSE event has gone out
          if (f === 'cut-after-first-event' && (events += (c.toString().match(/\n\n/g) || []).length) >= 1) { rec.cut = true; ur.destroy(); setTimeout(() => req.socket.destroy(), 20); }
        });
        ur.on('end', () => {
          if (f === 'cut-after-end') { rec.cut = true; setTimeout(() => req.socket.destroy(), 20); return; }
          res.end();
        });
        ur.on('error', () => res.destroy());
      });
      fw.on('error', (e) => {
        rec.status = 502;
        rec.upstreamError = e.message;
        if (res.headersSent) { res.destroy(); return; }
        const b = JSON.stringify({ Message: 'Internal Server Error' });
        res.writeHead(502, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(b) });
        res.end(b);
      });
      fw.end(body);
    });
  });
  srv.on('connection', (s) => { sockets.add(s); s.on('close', () => sockets.delete(s)); });
  await new Promise((resolve, reject) => {
    srv.once('error', reject);
    srv.listen(opts.port || 0, opts.host || '127.0.0.1', () => { srv.off('error', reject); resolve(); });
  });
  front.port = srv.address().port;
  front.url = `http://${opts.host || '127.0.0.1'}:${front.port}/mcp`;
  front.server = srv;
  front.close = async () => {
    for (const s of sockets) s.destroy();
    agent.destroy();
    await new Promise((r) => srv.close(() => r()));
  };
  return front;
}

// ---------------------------------------------------------------------------------------------
// CLI
if (import.meta.url === pathToFileURL(process.argv[1] || '').href) {
  const a = process.argv.slice(2), o = { keys: {}, region: 'us-east-1', port: 0 };
  for (let i = 0; i < a.length; i++) {
    if (a[i] === '--upstream') o.upstream = a[++i];
    else if (a[i] === '--listen') o.port = Number(a[++i]);
    else if (a[i] === '--region') o.region = a[++i];
    else if (a[i] === '--key') { const [k, s, t] = a[++i].split(':'); o.keys[k] = { secret: s, ...(t ? { token: t } : {}) }; }
    else { process.stderr.write(`front: unknown option ${a[i]}\n`); process.exit(2); }
  }
  if (!o.upstream) { process.stderr.write('usage: node front.mjs --upstream URL [--listen PORT] [--region R] --key AKID:SECRET[:TOKEN]...\n'); process.exit(2); }
  const f = await startFront(o);
  f.onVerdict = (rec) => process.stderr.write(`front: ${rec.method} ${rec.url} ${rec.auth?.ok ? `verified (${rec.caller})` : `403 (${rec.auth?.reason})`}\n`);
  process.stdout.write(`front: listening on ${f.url} -> ${o.upstream}\n`);
  for (const sig of ['SIGINT', 'SIGTERM']) process.on(sig, async () => { await f.close(); process.exit(0); });
}
