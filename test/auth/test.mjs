// test.mjs: authentication and limits of mcp.c, against test/auth/server.c.
//
//   node test/auth/test.mjs --binary BIN [--short BIN] [--plain BIN] [--vg BIN] [--pki DIR]
//        [--slow] [--soak-seconds N] SECTION...
//
// Sections: keys, jwt, lambda, limits, timeouts (needs --short: a build with
// -DMCP_IDLE_TIMEOUT=2), soak (needs --plain: an optimized build without sanitizers; runs
// wrk), valgrind (needs --vg: -O0 -g without sanitizers, so that every live pointer sits in
// memory valgrind scans when the server is stopped with SIGTERM). --pki names the folder with ca.pem, server.pem and server.key
// (the test CA and the JWKS server's certificate), made by test/auth/run.sh.
// Prints "ok - name" / "not ok - name: why" per check and "# ..." notes; exits 1 on a failure.

import https from 'node:https';
import { spawn } from 'node:child_process';
import { readFileSync, writeFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import * as jose from 'jose';
import { RuntimeApiEmulator, spawnRuntime } from '../lambda/emulator.mjs';
import { buildEvent } from '../lambda/gateway.mjs';
import {
  tally, ok, notOk, note, within, check, eq, deq, truthy, sleep, startServe, rssKb, Conn, reqBytes, request,
  rpcBody, mcpHeaders, bearer, callTool, toolText, who, expect401, PV,
} from './lib.mjs';

const opts = { sections: [], slow: false, soakSeconds: 10 };
{
  const a = process.argv.slice(2);
  for (let i = 0; i < a.length; i++) {
    if (a[i] === '--binary') opts.binary = a[++i];
    else if (a[i] === '--short') opts.short = a[++i];
    else if (a[i] === '--plain') opts.plain = a[++i];
    else if (a[i] === '--vg') opts.vg = a[++i];
    else if (a[i] === '--pki') opts.pki = a[++i];
    else if (a[i] === '--slow') opts.slow = true;
    else if (a[i] === '--soak-seconds') opts.soakSeconds = Number(a[++i]);
    else opts.sections.push(a[i]);
  }
  if (!opts.binary) { process.stderr.write('usage: test.mjs --binary BIN [--short BIN] [--plain BIN] [--pki DIR] [--slow] SECTION...\n'); process.exit(2); }
}

const now = () => Math.floor(Date.now() / 1000);
const b64u = (s) => Buffer.from(s).toString('base64url');
const lines = (text) => text.split('\n');
const refusedLines = (text) => lines(text).filter((l) => l.startsWith('mcp: refused '));

/** GET /metrics (JSON) with these credentials. */
async function metrics(port, cred) {
  const r = await request(port, { method: 'GET', path: '/metrics', headers: cred });
  eq(r.status, 200, `GET /metrics status (${r.body.slice(0, 200)})`);
  return JSON.parse(r.body);
}

/** The stderr lines and the /metrics count agree with the refusals we made; no secret is logged. */
async function checkRefusalLog(label, srv, cred, whys, secrets) {
  await check(`${label}: every refusal is logged on stderr with its reason`, async () => {
    const all = () => { const got = refusedLines(srv.stderr()); return whys.every((w) => got.some((l) => l.endsWith(`: ${w}`))); };
    for (let i = 0; i < 40 && !all(); i++) await sleep(50); // stderr is a pipe: let it drain
    const got = refusedLines(srv.stderr());
    for (const w of whys) truthy(got.some((l) => l.endsWith(`: ${w}`)), `no "mcp: refused ...: ${w}" line in: ${JSON.stringify(got.slice(-20))}`);
  });
  await check(`${label}: GET /metrics authRefusals counts the refusals`, async () => {
    const m = await metrics(srv.port, cred);
    eq(m.authRefusals, refusedLines(srv.stderr()).length, 'authRefusals vs refusal lines');
    truthy(m.authRefusals >= whys.length, `authRefusals ${m.authRefusals} < ${whys.length} refusals made`);
  });
  await check(`${label}: no credential appears in the log`, () => {
    const err = srv.stderr();
    for (const s of secrets) {
      truthy(!err.includes(s), `the log contains the credential ${s.slice(0, 24)}...`);
      if (s.split('.').length === 3) for (const part of s.split('.')) if (part.length > 16) truthy(!err.includes(part), `the log contains part of a token (${part.slice(0, 16)}...)`);
    }
  });
}

// ---------------------------------------------------------------------------------------------
// API keys

async function sectionKeys() {
  const K1 = 'k1-3c8f0e9a1b2d4c6e8f0a1b2c', K2 = 'k2-rotated-7d9e1f3a5b7c9d1e';
  const srv = await startServe(opts.binary, { MCP_API_KEYS: ` ${K1} , ${K2} ` });
  const P = srv.port, base = `http://127.0.0.1:${P}`;
  const whys = [], secrets = [];
  try {
    await check('keys: no credentials -> 401 with WWW-Authenticate Bearer resource_metadata', async () => {
      expect401(await callTool(P, 'whoami'), base, null);
      whys.push('no credentials (a bearer token is required)');
    });
    await check('keys: a wrong key -> 401 error="invalid_token"', async () => {
      expect401(await callTool(P, 'whoami', bearer('k1-wrong-key-0000000000000')), base, 'the API key is not valid');
      whys.push('the API key is not valid');
      secrets.push('k1-wrong-key-0000000000000');
    });
    await check('keys: a prefix or an extension of a key is refused', async () => {
      expect401(await callTool(P, 'whoami', bearer(K1.slice(0, -1))), base, 'the API key is not valid');
      expect401(await callTool(P, 'whoami', bearer(K1 + 'x')), base, 'the API key is not valid');
    });
    await check('keys: the first key is accepted (principal key-1, every scope)', async () => {
      deq(who(await callTool(P, 'whoami', bearer(K1))), { kind: 'key', principal: 'key-1', scope: '*', email: null, tenant: null, iss: null }, 'whoami');
    });
    await check('keys: the second (rotated) key is accepted (principal key-2)', async () => {
      deq(who(await callTool(P, 'whoami', bearer(K2))), { kind: 'key', principal: 'key-2', scope: '*', email: null, tenant: null, iss: null }, 'whoami');
    });
    await check('keys: X-Api-Key is accepted', async () => {
      eq(who(await callTool(P, 'whoami', { 'X-Api-Key': K2 })).principal, 'key-2', 'principal');
    });
    await check('keys: a wrong X-Api-Key -> 401 invalid_token', async () => {
      expect401(await callTool(P, 'whoami', { 'X-Api-Key': 'nope-not-a-key' }), base, 'the API key is not valid');
      secrets.push('nope-not-a-key');
    });
    await check('keys: the Bearer scheme is case-insensitive', async () => {
      eq(who(await callTool(P, 'whoami', { Authorization: `bearer ${K1}` })).principal, 'key-1', 'principal');
    });
    await check('keys: Basic credentials are not a bearer token -> 401 no credentials', async () => {
      expect401(await callTool(P, 'whoami', { Authorization: 'Basic dXNlcjpwYXNz' }), base, null);
    });
    await check('keys: a key carries every scope (admin tool -> 200)', async () => {
      const r = await callTool(P, 'admin', bearer(K1));
      eq(r.status, 200, 'status');
      eq(toolText(r), 'admin ok key-1', 'text');
    });
    await check('keys: /health stays open: without credentials only {"status":"ok"}, with a key the whole report', async () => {
      const r = await request(P, { path: '/health' });
      eq(r.status, 200, 'status');
      eq(r.body, '{"status":"ok"}', 'body without credentials');
      const k = await request(P, { path: '/health', headers: { Authorization: `Bearer ${K1}` } });
      eq(k.status, 200, 'status with a key');
      const j = JSON.parse(k.body);
      eq(j.status, 'ok', 'health status');
      eq(j.name, 'authtest', 'name');
    });
    await check('keys: /.well-known/oauth-protected-resource is open, exact document', async () => {
      const want = JSON.stringify({ resource: `${base}/mcp`, bearer_methods_supported: ['header'] });
      for (const p of ['/.well-known/oauth-protected-resource', '/.well-known/oauth-protected-resource/mcp']) {
        const r = await request(P, { path: p });
        eq(r.status, 200, `${p} status`);
        eq(r.headers['content-type'], 'application/json', `${p} content type`);
        eq(r.body, want, `${p} body`);
      }
    });
    await check('keys: /metrics and /tools/NAME are protected (401 without credentials)', async () => {
      expect401(await request(P, { path: '/metrics' }), base, null);
      expect401(await request(P, { method: 'POST', path: '/tools/whoami', headers: { 'Content-Type': 'application/json' }, body: '{}' }), base, null);
    });
    await check('keys: POST /tools/whoami with a key -> 200 with the identity', async () => {
      const r = await request(P, { method: 'POST', path: '/tools/whoami', headers: { 'Content-Type': 'application/json', ...bearer(K2) }, body: '{}' });
      eq(r.status, 200, 'status');
      eq(JSON.parse(JSON.parse(r.body).content[0].text).principal, 'key-2', 'principal');
    });
    await checkRefusalLog('keys', srv, bearer(K1), whys, [...secrets, K1, K2]);
  } finally { await srv.stop(); }
}

// ---------------------------------------------------------------------------------------------
// JWTs

/** An HTTPS server for the JWKS (certificate from the test CA); counts fetches per path. */
async function jwksServer(pki) {
  const st = { jwks: { keys: [] }, fetches: [] };
  const srv = https.createServer({ key: readFileSync(path.join(pki, 'server.key')), cert: readFileSync(path.join(pki, 'server.pem')) }, (req, res) => {
    if (req.method === 'GET' && (req.url === '/down/.well-known/jwks.json' || req.url === '/empty/.well-known/jwks.json')) {
      st.fetches.push({ t: Date.now(), path: req.url });
      const b = req.url.startsWith('/down') ? '{"message":"unavailable"}' : '{"keys":[]}';
      res.writeHead(req.url.startsWith('/down') ? 503 : 200, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(b) });
      res.end(b);
    } else if (req.method === 'GET' && (req.url === '/.well-known/jwks.json' || req.url === '/jwks.json')) {
      st.fetches.push({ t: Date.now(), path: req.url });
      const b = JSON.stringify(st.jwks);
      res.writeHead(200, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(b) });
      res.end(b);
    } else { res.writeHead(404, { 'Content-Length': 0 }); res.end(); }
  });
  await new Promise((r) => srv.listen(0, '127.0.0.1', r));
  st.port = srv.address().port;
  st.origin = `https://localhost:${st.port}`;
  st.count = (p) => st.fetches.filter((f) => f.path === p).length;
  st.close = () => { srv.closeAllConnections(); return new Promise((r) => srv.close(r)); };
  return st;
}

async function keys() {
  const gen = async (alg) => jose.generateKeyPair(alg, { extractable: true });
  const k = { ps: await gen('PS256'), rsa1: await gen('RS256'), ec1: await gen('ES256'), rsa2: await gen('RS256'), rsaEvil: await gen('RS256'), ecEvil: await gen('ES256') };
  const pub = async (kp, kid, alg) => ({ ...(await jose.exportJWK(kp.publicKey)), kid, alg, use: 'sig' });
  k.jwk = { rsa1: await pub(k.rsa1, 'rsa1', 'RS256'), ec1: await pub(k.ec1, 'ec1', 'ES256'), rsa2: await pub(k.rsa2, 'rsa2', 'RS256') };
  k.rsa1Pem = await jose.exportSPKI(k.rsa1.publicKey);
  k.rsa1Der = Buffer.from(k.rsa1Pem.replace(/-----[^-]+-----|\s/g, ''), 'base64');
  return k;
}

/** A JWT signed by jose. c: {alg, key, kid, iss, aud, sub, exp, nbf, claims, header} (null drops a claim). */
async function mint(c) {
  const payload = { sub: 'user', ...(c.claims || {}) };
  if (c.iss !== null) payload.iss = c.iss;
  if (c.aud !== null) payload.aud = c.aud;
  if (c.sub !== undefined) payload.sub = c.sub;
  let j = new jose.SignJWT(payload).setProtectedHeader({ alg: c.alg, ...(c.kid ? { kid: c.kid } : {}), typ: 'JWT', ...(c.header || {}) }).setIssuedAt();
  if (c.exp !== null) j = j.setExpirationTime(c.exp ?? now() + 600);
  if (c.nbf !== undefined) j = j.setNotBefore(c.nbf);
  return j.sign(c.key);
}

/** A JWT over an exact payload text (jose CompactSign), for values JSON.stringify cannot write. */
async function mintRaw(alg, key, headerObj, payloadText) {
  return new jose.CompactSign(new TextEncoder().encode(payloadText)).setProtectedHeader({ alg, ...headerObj }).sign(key);
}

async function sectionJwt() {
  const jw = await jwksServer(opts.pki);
  const K = await keys();
  jw.jwks = { keys: [K.jwk.rsa1, K.jwk.ec1] };
  const ISS = jw.origin, AUD = 'mcp-test-audience';
  const HS = new TextEncoder().encode('hs256-shared-secret-for-the-auth-tests-0123456789');
  const caEnv = { SSL_CERT_FILE: path.join(opts.pki, 'ca.pem') };
  const A = await startServe(opts.binary, { MCP_JWT_ISSUER: ISS, MCP_JWT_AUDIENCE: AUD, MCP_OAUTH_SCOPES: 'admin,files:read,files:write', ...caEnv });
  const B = await startServe(opts.binary, {
    MCP_JWT_HS256_SECRET: new TextDecoder().decode(HS), MCP_JWT_ISSUER: 'https://issuer.b.test', MCP_JWT_AUDIENCE: AUD, MCP_JWT_LEEWAY: '10',
    MCP_API_KEYS: 'b-key-5f6e7d8c9b0a', MCP_OAUTH_RESOURCE: 'https://mcp.example.com/mcp',
    MCP_OAUTH_AUTHORIZATION_SERVERS: 'https://auth1.example.com, https://auth2.example.com', ...caEnv,
  });
  const C = await startServe(opts.binary, { MCP_JWT_JWKS_URL: `${jw.origin}/jwks.json`, ...caEnv });
  const D = await startServe(opts.binary, { MCP_JWT_ISSUER: `${jw.origin}/down`, ...caEnv });
  const E = await startServe(opts.binary, { MCP_JWT_ISSUER: `${jw.origin}/empty`, ...caEnv });
  const PA = A.port, baseA = `http://127.0.0.1:${PA}`, PB = B.port;
  const JW = '/.well-known/jwks.json';
  const whys = [], secrets = [];
  const rs = (over = {}) => mint({ alg: 'RS256', key: K.rsa1.privateKey, kid: 'rsa1', iss: ISS, aud: AUD, sub: 'user-rs', ...over });
  const es = (over = {}) => mint({ alg: 'ES256', key: K.ec1.privateKey, kid: 'ec1', iss: ISS, aud: AUD, sub: 'user-es', ...over });
  /** a refusal on A with this token: the exact 401, and remembered for the log checks */
  const refusedA = async (tok, why) => {
    expect401(await callTool(PA, 'whoami', bearer(tok)), baseA, why);
    whys.push(why);
    secrets.push(tok);
  };
  try {
    await check('jwt: RS256 (JWKS over HTTPS from the test CA) -> 200; sub and custom claims reach the handler', async () => {
      const t = await rs({ claims: { scope: 'read', email: 'rs@example.com', tenant: 'acme' } });
      deq(who(await callTool(PA, 'whoami', bearer(t))), { kind: 'jwt', principal: 'user-rs', scope: 'read', email: 'rs@example.com', tenant: 'acme', iss: ISS }, 'whoami');
      eq(jw.count(JW), 1, 'JWKS fetches (from MCP_JWT_ISSUER + /.well-known/jwks.json)');
    });
    await check('jwt: ES256 -> 200, principal = sub', async () => {
      const t = await es({ claims: { email: 'es@example.com' } });
      const w = who(await callTool(PA, 'whoami', bearer(t)));
      eq(w.principal, 'user-es', 'principal');
      eq(w.email, 'es@example.com', 'email');
    });
    await check('jwt: the JWKS is cached (no fetch for known kids)', async () => {
      eq(who(await callTool(PA, 'whoami', bearer(await rs()))).kind, 'jwt', 'kind');
      eq(jw.count(JW), 1, 'JWKS fetches');
    });
    await check('jwt: an unknown kid right after a fetch -> 401 without hammering the JWKS (at most one fetch per 10 s)', async () => {
      const t = await mint({ alg: 'RS256', key: K.rsaEvil.privateKey, kid: 'ghost', iss: ISS, aud: AUD });
      await refusedA(t, 'no RS256 key with kid ghost in the JWKS');
      eq(jw.count(JW), 1, 'JWKS fetches');
    });
    await check('jwt: RS256 bad signature (payload altered) -> 401', async () => {
      const t = await rs();
      const [h, , s] = t.split('.');
      const forged = `${h}.${b64u(JSON.stringify({ iss: ISS, aud: AUD, sub: 'admin', exp: now() + 600 }))}.${s}`;
      await refusedA(forged, 'the JWT signature does not verify');
    });
    await check('jwt: RS256 signed by another key under a known kid -> 401', async () => {
      await refusedA(await mint({ alg: 'RS256', key: K.rsaEvil.privateKey, kid: 'rsa1', iss: ISS, aud: AUD }), 'the JWT signature does not verify');
    });
    await check('jwt: ES256 signed by another key under a known kid -> 401', async () => {
      await refusedA(await mint({ alg: 'ES256', key: K.ecEvil.privateKey, kid: 'ec1', iss: ISS, aud: AUD }), 'the JWT signature does not verify');
    });
    await check('jwt: wrong issuer -> 401', async () => {
      await refusedA(await rs({ iss: 'https://evil.example.com' }), 'the JWT was issued by someone else (iss)');
    });
    await check('jwt: no issuer claim -> 401', async () => {
      await refusedA(await rs({ iss: null }), 'the JWT was issued by someone else (iss)');
    });
    await check('jwt: wrong audience -> 401', async () => {
      await refusedA(await rs({ aud: 'another-api' }), 'the JWT is for another audience (aud)');
    });
    await check('jwt: audience array holding ours -> 200', async () => {
      eq(who(await callTool(PA, 'whoami', bearer(await rs({ aud: ['another-api', AUD] })))).principal, 'user-rs', 'principal');
    });
    await check('jwt: expired beyond the leeway (exp 120 s ago, leeway 60 s) -> 401', async () => {
      await refusedA(await rs({ exp: now() - 120 }), 'the JWT has expired');
    });
    await check('jwt: expired within the leeway (exp 30 s ago) -> 200', async () => {
      eq(who(await callTool(PA, 'whoami', bearer(await rs({ exp: now() - 30 })))).kind, 'jwt', 'kind');
    });
    await check('jwt: nbf in the future beyond the leeway (120 s) -> 401', async () => {
      await refusedA(await rs({ nbf: now() + 120 }), 'the JWT is not valid yet (nbf)');
    });
    await check('jwt: nbf within the leeway (30 s ahead) -> 200', async () => {
      eq(who(await callTool(PA, 'whoami', bearer(await rs({ nbf: now() + 30 })))).kind, 'jwt', 'kind');
    });
    await check('jwt: alg "none" (jose UnsecuredJWT) -> 401', async () => {
      const t = new jose.UnsecuredJWT({ iss: ISS, aud: AUD, sub: 'admin' }).setIssuedAt().setExpirationTime('10m').encode();
      await refusedA(t, 'unsigned JWTs (alg none) are refused');
    });
    await check('jwt: alg "none" with a signature attached -> 401', async () => {
      const t = await rs();
      const [, p, s] = t.split('.');
      await refusedA(`${b64u('{"alg":"none","typ":"JWT"}')}.${p}.${s}`, 'unsigned JWTs (alg none) are refused');
    });
    await check('jwt: algorithm confusion (HS256 keyed with the RSA public key PEM, no HS256 secret) -> 401', async () => {
      const t = await mint({ alg: 'HS256', key: new TextEncoder().encode(K.rsa1Pem), kid: 'rsa1', iss: ISS, aud: AUD, sub: 'admin' });
      await refusedA(t, 'HS256 tokens are not accepted (no shared secret is configured)');
    });
    await check('jwt: algorithm confusion (HS256 keyed with the RSA public key DER) -> 401', async () => {
      const t = await mint({ alg: 'HS256', key: new Uint8Array(K.rsa1Der), kid: 'rsa1', iss: ISS, aud: AUD, sub: 'admin' });
      await refusedA(t, 'HS256 tokens are not accepted (no shared secret is configured)');
    });
    await check('jwt: an algorithm outside RS256/ES256/HS256 (PS256) -> 401', async () => {
      await refusedA(await mint({ alg: 'PS256', key: K.ps.privateKey, kid: 'rsa1', iss: ISS, aud: AUD }), 'JWT algorithm PS256 is not accepted (RS256, ES256, HS256 are)');
    });
    await check('jwt: malformed tokens -> 401 (not a JWT / malformed)', async () => {
      await refusedA('this-is-not-a-jwt', 'the token is not a JWT');
      await refusedA('a.b.c.d', 'the token is not a JWT');
      await refusedA('!!!!.e30.c2ln', 'the JWT is malformed');
      await refusedA(`${b64u('not json')}.${b64u('{}')}.c2ln`, 'the JWT is malformed');
      await refusedA(`${b64u('{"alg":"RS256","kid":"rsa1"}')}.${b64u('[1,2]')}.c2ln`, 'the JWT is malformed');
    });
    await check('jwt: a token is not an API key here (no keys configured) and whitespace around it is ignored', async () => {
      const t = await rs();
      eq(who(await callTool(PA, 'whoami', { Authorization: `Bearer   ${t}  ` })).principal, 'user-rs', 'principal');
    });

    // per-tool scopes
    const forbidden = (r, scopes, tool, missing) => {
      eq(r.status, 403, 'status');
      eq(r.headers['www-authenticate'], `Bearer error="insufficient_scope", scope="${scopes}"`, 'WWW-Authenticate');
      const j = JSON.parse(r.body);
      eq(j.id, 1, 'JSON-RPC id');
      eq(j.error && j.error.code, -32003, 'JSON-RPC error code');
      eq(j.error.message, `Forbidden: tool ${tool} needs scope ${missing}`, 'JSON-RPC error message');
      truthy(!('result' in j), 'no result');
    };
    await check('scopes: a token without the scope -> 403 insufficient_scope + JSON-RPC error', async () => {
      forbidden(await callTool(PA, 'admin', bearer(await rs({ claims: { scope: 'read' } }))), 'admin', 'admin', 'admin');
    });
    await check('scopes: a scope that merely contains the name (administrator) -> 403', async () => {
      forbidden(await callTool(PA, 'admin', bearer(await rs({ claims: { scope: 'administrator' } }))), 'admin', 'admin', 'admin');
    });
    await check('scopes: a token with the scope -> 200', async () => {
      const r = await callTool(PA, 'admin', bearer(await rs({ claims: { scope: 'read admin' } })));
      eq(r.status, 200, 'status');
      eq(toolText(r), 'admin ok user-rs', 'text');
    });
    await check('scopes: two scopes needed, one held -> 403 naming the missing one', async () => {
      forbidden(await callTool(PA, 'files', bearer(await es({ claims: { scope: 'files:read' } }))), 'files:read files:write', 'files', 'files:write');
    });
    await check('scopes: both held as an "scp" array -> 200', async () => {
      const r = await callTool(PA, 'files', bearer(await es({ claims: { scp: ['files:read', 'files:write'] } })));
      eq(r.status, 200, 'status');
      eq(toolText(r), 'files ok', 'text');
    });
    await check('scopes: POST /tools/admin without the scope -> 403 insufficient_scope', async () => {
      const r = await request(PA, { method: 'POST', path: '/tools/admin', headers: { 'Content-Type': 'application/json', ...bearer(await rs({ claims: { scope: 'read' } })) }, body: '{}' });
      eq(r.status, 403, `status (${r.body})`);
      eq(r.headers['www-authenticate'], 'Bearer error="insufficient_scope", scope="admin"', 'WWW-Authenticate');
    });
    await check('scopes: in a session (protocol 2025-11-25) a call without the scope -> 403 insufficient_scope', async () => {
      const t = await rs({ claims: { scope: 'read' } });
      const hdr = { 'Content-Type': 'application/json', Accept: 'application/json, text/event-stream', ...bearer(t) };
      const init = await request(PA, { method: 'POST', path: '/mcp', headers: hdr, body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 't', version: '1' } } }) });
      eq(init.status, 200, 'initialize status');
      const sid = init.headers['mcp-session-id'];
      truthy(sid, 'no Mcp-Session-Id');
      const r = await request(PA, { method: 'POST', path: '/mcp', headers: { ...hdr, 'Mcp-Session-Id': sid, 'MCP-Protocol-Version': '2025-11-25' }, body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'admin', arguments: {} } }) });
      forbidden(r, 'admin', 'admin', 'admin');
    });
    await check('scopes: an insufficient_scope refusal is logged and counted like the others', async () => {
      await sleep(200);
      const before = (await metrics(PA, bearer(await rs()))).authRefusals;
      const n = refusedLines(A.stderr()).length;
      const r = await callTool(PA, 'admin', bearer(await rs({ claims: { scope: 'read' } })));
      eq(r.status, 403, 'status');
      const after = (await metrics(PA, bearer(await rs()))).authRefusals;
      await sleep(200);
      eq(after, before + 1, 'authRefusals after an insufficient_scope 403');
      eq(refusedLines(A.stderr()).length, n + 1, 'refusal lines after an insufficient_scope 403');
    });

    await check('jwt: /.well-known/oauth-protected-resource names the issuer and the scopes', async () => {
      const r = await request(PA, { path: '/.well-known/oauth-protected-resource' });
      eq(r.status, 200, 'status');
      eq(r.body, JSON.stringify({ resource: `${baseA}/mcp`, authorization_servers: [ISS], scopes_supported: ['admin', 'files:read', 'files:write'], bearer_methods_supported: ['header'] }), 'document');
    });
    await check('jwt: no credentials on a JWT server -> 401 with resource_metadata', async () => {
      expect401(await callTool(PA, 'whoami'), baseA, null);
      whys.push('no credentials (a bearer token is required)');
    });
    await check('jwt: a kid with CR LF cannot inject a response header', async () => {
      const t = await mint({ alg: 'RS256', key: K.rsaEvil.privateKey, kid: 'x\r\nX-Injected: yes', iss: ISS, aud: AUD });
      secrets.push(t);
      const r = await callTool(PA, 'whoami', bearer(t));
      eq(r.status, 401, 'status');
      truthy(!('x-injected' in r.headers), `the response carries an injected header: ${JSON.stringify(r.head)}`);
    });
    await check('jwt: a refusal is logged on one line even when the kid holds CR LF', async () => {
      for (let i = 0; i < 40 && !A.stderr().includes('with kid x'); i++) await sleep(50);
      truthy(A.stderr().includes('with kid x'), 'no log line for the refusal');
      truthy(!lines(A.stderr()).some((l) => l.startsWith('X-Injected')), `stderr has a forged line: ${JSON.stringify(A.stderr().slice(-300))}`);
    });
    await check('jwt: error_description stays a valid quoted-string when the kid holds a quote', async () => {
      const t = await mint({ alg: 'RS256', key: K.rsaEvil.privateKey, kid: 'a"b', iss: ISS, aud: AUD });
      secrets.push(t);
      const r = await callTool(PA, 'whoami', bearer(t));
      eq(r.status, 401, 'status');
      const m = /error_description="((?:[^"\\]|\\.)*)"$/.exec(r.headers['www-authenticate'] || '');
      truthy(m, `WWW-Authenticate is not well-formed: ${r.headers['www-authenticate']}`);
      truthy(/^[\x20-\x7e]*$/.test(r.headers['www-authenticate']), 'WWW-Authenticate has control characters');
    });

    // HS256 (server B)
    const baseB = 'https://mcp.example.com';
    const hs = (over = {}) => mint({ alg: 'HS256', key: HS, iss: 'https://issuer.b.test', aud: AUD, sub: 'user-hs', ...over });
    const whysB = [], secretsB = [];
    const refusedB = async (tok, why) => { expect401(await callTool(PB, 'whoami', bearer(tok)), baseB, why); whysB.push(why); secretsB.push(tok); };
    await check('hs256: a token signed with MCP_JWT_HS256_SECRET -> 200, claims reach the handler', async () => {
      deq(who(await callTool(PB, 'whoami', bearer(await hs({ claims: { email: 'hs@example.com', tenant: 't1', scope: 'a b' } })))),
        { kind: 'jwt', principal: 'user-hs', scope: 'a b', email: 'hs@example.com', tenant: 't1', iss: 'https://issuer.b.test' }, 'whoami');
    });
    await check('hs256: a token signed with another secret -> 401', async () => {
      await refusedB(await mint({ alg: 'HS256', key: new TextEncoder().encode('another-secret-another-secret-another-secret'), iss: 'https://issuer.b.test', aud: AUD }), 'the JWT signature does not verify');
    });
    await check('hs256: a truncated signature -> 401', async () => {
      const t = await hs();
      await refusedB(t.slice(0, -6), 'the JWT signature does not verify');
    });
    await check('hs256: algorithm confusion with the RSA public key PEM as the HMAC key -> 401', async () => {
      await refusedB(await mint({ alg: 'HS256', key: new TextEncoder().encode(K.rsa1Pem), iss: 'https://issuer.b.test', aud: AUD }), 'the JWT signature does not verify');
    });
    await check('hs256: MCP_JWT_LEEWAY=10: expired 5 s ago -> 200, 20 s ago -> 401', async () => {
      eq(who(await callTool(PB, 'whoami', bearer(await hs({ exp: now() - 5 })))).kind, 'jwt', 'kind (5 s)');
      await refusedB(await hs({ exp: now() - 20 }), 'the JWT has expired');
    });
    await check('hs256: MCP_JWT_LEEWAY=10: nbf 5 s ahead -> 200, 20 s ahead -> 401', async () => {
      eq(who(await callTool(PB, 'whoami', bearer(await hs({ nbf: now() + 5 })))).kind, 'jwt', 'kind (5 s)');
      await refusedB(await hs({ nbf: now() + 20 }), 'the JWT is not valid yet (nbf)');
    });
    await check('hs256: wrong audience -> 401', async () => {
      await refusedB(await hs({ aud: 'x' }), 'the JWT is for another audience (aud)');
    });
    await check('hs256: exp at the largest int64 is far future -> 200, with no undefined behaviour', async () => {
      const before = B.stderr().length;
      const t = await mintRaw('HS256', HS, { typ: 'JWT' }, `{"iss":"https://issuer.b.test","aud":"${AUD}","sub":"user-far","exp":9223372036854775807}`);
      const r = await callTool(PB, 'whoami', bearer(t));
      truthy(!/runtime error/.test(B.stderr().slice(before)), `UBSan: ${B.stderr().slice(before).split('\n').find((l) => /runtime error/.test(l))}`);
      eq(r.status, 200, `status (${r.body})`);
    });
    await check('hs256: an API key works beside JWTs; a non-JWT non-key -> 401 "not a JWT"', async () => {
      eq(who(await callTool(PB, 'whoami', bearer('b-key-5f6e7d8c9b0a'))).principal, 'key-1', 'principal');
      await refusedB('b-key-wrong', 'the token is not a JWT');
    });
    await check('hs256: MCP_OAUTH_RESOURCE and MCP_OAUTH_AUTHORIZATION_SERVERS: exact document', async () => {
      const r = await request(PB, { path: '/.well-known/oauth-protected-resource' });
      eq(r.status, 200, 'status');
      eq(r.body, JSON.stringify({ resource: 'https://mcp.example.com/mcp', authorization_servers: ['https://auth1.example.com', 'https://auth2.example.com'], bearer_methods_supported: ['header'] }), 'document');
    });
    await check('hs256: the 401 challenge points at MCP_OAUTH_RESOURCE\'s origin', async () => {
      expect401(await callTool(PB, 'whoami'), baseB, null);
      whysB.push('no credentials (a bearer token is required)');
    });
    await checkRefusalLog('hs256', B, bearer('b-key-5f6e7d8c9b0a'), whysB, secretsB);

    // only MCP_JWT_JWKS_URL (server C)
    await check('jwks-only: with only MCP_JWT_JWKS_URL set, a request without credentials is refused (401)', async () => {
      const r = await callTool(C.port, 'whoami');
      eq(r.status, 401, `status (body ${r.body})`);
    });
    await check('jwks-only: with only MCP_JWT_JWKS_URL set, an RS256 token is verified (kind jwt)', async () => {
      eq(who(await callTool(C.port, 'whoami', bearer(await rs()))).kind, 'jwt', 'kind');
    });

    // a JWKS that cannot be fetched, or holds no usable key: refused, and not fetched again
    // for every request (each fetch holds the lock every RS256/ES256 check waits on)
    await check('jwks-down: a JWKS answering 503 -> 401 naming it; not fetched again for each request', async () => {
      const url = `${jw.origin}/down/.well-known/jwks.json`;
      for (let i = 0; i < 4; i++) {
        const t = await mint({ alg: 'RS256', key: K.rsa1.privateKey, kid: 'rsa1', iss: `${jw.origin}/down`, aud: null });
        expect401(await callTool(D.port, 'whoami', bearer(t)), `http://127.0.0.1:${D.port}`, `the JWKS at ${url} could not be fetched (HTTP error)`);
      }
      eq(jw.count('/down/.well-known/jwks.json'), 1, 'JWKS fetches for 4 tokens within 10 s');
    });
    await check('jwks-empty: a JWKS with no usable key -> 401; not fetched again for each request', async () => {
      for (let i = 0; i < 4; i++) {
        const t = await mint({ alg: 'ES256', key: K.ec1.privateKey, kid: 'ec1', iss: `${jw.origin}/empty`, aud: null });
        expect401(await callTool(E.port, 'whoami', bearer(t)), `http://127.0.0.1:${E.port}`, 'no ES256 key with kid ec1 in the JWKS');
      }
      eq(jw.count('/empty/.well-known/jwks.json'), 1, 'JWKS fetches for 4 tokens within 10 s');
    });

    // key rotation: a token signed by a key that is not in the cached JWKS makes the server
    // fetch it again (once; the refetch is rate-limited to one per 10 s)
    await check('jwt: key rotation: an unknown kid refetches the JWKS exactly once and the new key is accepted', async () => {
      const last = Math.max(...jw.fetches.filter((f) => f.path === JW).map((f) => f.t));
      const wait = last + 10300 - Date.now();
      if (wait > 0) { note(`waiting ${(wait / 1000).toFixed(1)} s for the JWKS refetch interval (10 s)`); await sleep(wait); }
      jw.jwks = { keys: [K.jwk.rsa2, K.jwk.ec1] };
      const n0 = jw.count(JW);
      const t = await mint({ alg: 'RS256', key: K.rsa2.privateKey, kid: 'rsa2', iss: ISS, aud: AUD, sub: 'user-rotated' });
      eq(who(await callTool(PA, 'whoami', bearer(t))).principal, 'user-rotated', 'principal');
      eq(jw.count(JW), n0 + 1, 'JWKS fetches');
      eq(who(await callTool(PA, 'whoami', bearer(t))).principal, 'user-rotated', 'principal (again)');
      eq(who(await callTool(PA, 'whoami', bearer(await es()))).principal, 'user-es', 'principal (ES256 key kept)');
      eq(jw.count(JW), n0 + 1, 'JWKS fetches after more requests');
    }, 30000);
    await check('jwt: after rotation, the retired key is refused and does not trigger another fetch', async () => {
      const n0 = jw.count(JW);
      await refusedA(await rs(), 'no RS256 key with kid rsa1 in the JWKS');
      eq(jw.count(JW), n0, 'JWKS fetches');
    });
    await checkRefusalLog('jwt', A, bearer(await mint({ alg: 'RS256', key: K.rsa2.privateKey, kid: 'rsa2', iss: ISS, aud: AUD })), whys, secrets);
    note(`JWKS fetches: ${JSON.stringify(jw.fetches.map((f) => f.path))}`);
  } finally {
    await Promise.all([A.stop(), B.stop(), C.stop(), D.stop(), E.stop()]);
    await jw.close();
  }
}

// ---------------------------------------------------------------------------------------------
// Lambda function URL / API Gateway events

const LAMBDA_HOST = 'abc123def456.lambda-url.us-east-1.on.aws';

function lambdaEvent(shape, tool, { args = {}, headers = {} } = {}) {
  const hdrs = Object.entries({ Host: LAMBDA_HOST, ...mcpHeaders(tool), ...headers });
  return buildEvent(shape, { method: 'POST', path: '/mcp', headers: hdrs, body: Buffer.from(rpcBody(tool, args)) });
}
const iamAuthorizer = (arn) => ({ iam: { accessKey: 'ASIAEXAMPLEEXAMPLE', accountId: arn.split(':')[4], callerId: 'AROAEXAMPLE:session', cognitoIdentity: null, principalOrgId: null, userArn: arn, userId: 'AROAEXAMPLE:session' } });

async function lambdaStack(env) {
  const emu = new RuntimeApiEmulator({ defaultTimeoutMs: 20000 });
  await emu.listen();
  const rt = spawnRuntime(opts.binary, { api: emu.api, env: { MCP_EMF: '0', ...env } });
  return {
    emu, rt,
    async invoke(ev) {
      const r = await within(emu.invoke(ev), 20000, 'invocation');
      if (r.kind !== 'response') throw new Error(`invocation ended ${r.kind} ${r.errorType || ''} ${r.errorMessage || ''}; runtime stderr: ${rt.stderr().slice(-500)}`);
      const lr = r.json;
      truthy(lr && Number.isInteger(lr.statusCode), `not a proxy response: ${r.text.slice(0, 300)}`);
      return lr;
    },
    async close() { await rt.kill(); await emu.close(); },
  };
}

const lambdaWho = (lr) => {
  if (lr.statusCode !== 200) throw new Error(`statusCode ${lr.statusCode}: ${lr.body}`);
  return JSON.parse(JSON.parse(lr.body).result.content[0].text);
};
const lambdaHeader = (lr, name) => { for (const [k, v] of Object.entries(lr.headers || {})) if (k.toLowerCase() === name) return v; return undefined; };

async function sectionLambda() {
  const ALLOW = 'arn:aws:iam::123456789012:role/mcp-*, arn:aws:sts::123456789012:assumed-role/mcp-agent/*';
  const L = await lambdaStack({ MCP_IAM_ALLOW: ALLOW });
  const refusedWhy = [];
  try {
    await check('iam: a function URL event from an allowed role ARN -> 200, principal = the ARN', async () => {
      const ev = lambdaEvent('url', 'whoami');
      ev.requestContext.authorizer = iamAuthorizer('arn:aws:iam::123456789012:role/mcp-caller');
      deq(lambdaWho(await L.invoke(ev)), { kind: 'iam', principal: 'arn:aws:iam::123456789012:role/mcp-caller', scope: '*', email: null, tenant: null, iss: null }, 'whoami');
    });
    await check('iam: an allowed assumed-role session ARN -> 200', async () => {
      const ev = lambdaEvent('url', 'whoami');
      ev.requestContext.authorizer = iamAuthorizer('arn:aws:sts::123456789012:assumed-role/mcp-agent/session-42');
      eq(lambdaWho(await L.invoke(ev)).principal, 'arn:aws:sts::123456789012:assumed-role/mcp-agent/session-42', 'principal');
    });
    await check('iam: an allowed ARN holds every scope (admin tool -> 200)', async () => {
      const ev = lambdaEvent('url', 'admin');
      ev.requestContext.authorizer = iamAuthorizer('arn:aws:iam::123456789012:role/mcp-caller');
      const lr = await L.invoke(ev);
      eq(lr.statusCode, 200, 'statusCode');
      eq(JSON.parse(lr.body).result.content[0].text, 'admin ok arn:aws:iam::123456789012:role/mcp-caller', 'text');
    });
    for (const [what, arn] of [['another role', 'arn:aws:iam::123456789012:role/other-role'], ['another account', 'arn:aws:iam::999999999999:role/mcp-caller'],
      ['a pattern match that is not at the start', 'x-arn:aws:iam::123456789012:role/mcp-caller']]) {
      await check(`iam: ${what} -> 403`, async () => {
        const ev = lambdaEvent('url', 'whoami');
        ev.requestContext.authorizer = iamAuthorizer(arn);
        const lr = await L.invoke(ev);
        eq(lr.statusCode, 403, 'statusCode');
        eq(lr.body, JSON.stringify({ error: `Forbidden: IAM principal ${arn} is not allowed` }), 'body');
        eq(lambdaHeader(lr, 'www-authenticate'), undefined, 'WWW-Authenticate');
        refusedWhy.push(`IAM principal ${arn} is not allowed`);
      });
    }
    await check('iam: no IAM identity while MCP_IAM_ALLOW is set -> 403', async () => {
      const lr = await L.invoke(lambdaEvent('url', 'whoami'));
      eq(lr.statusCode, 403, 'statusCode');
      eq(lr.body, JSON.stringify({ error: 'Forbidden: the request is not signed with AWS IAM' }), 'body');
      refusedWhy.push('the request is not signed with AWS IAM');
    });
    await check('iam: a bearer token does not replace the IAM identity -> 403', async () => {
      const lr = await L.invoke(lambdaEvent('url', 'whoami', { headers: bearer('some-token') }));
      eq(lr.statusCode, 403, 'statusCode');
    });
    await check('iam: an API Gateway REST event (requestContext.identity.userArn) from an allowed ARN -> 200', async () => {
      const ev = lambdaEvent('rest', 'whoami');
      ev.requestContext.identity.userArn = 'arn:aws:iam::123456789012:role/mcp-rest';
      eq(lambdaWho(await L.invoke(ev)).principal, 'arn:aws:iam::123456789012:role/mcp-rest', 'principal');
    });
    await check('iam: refusals are logged by the runtime with their reason', async () => {
      // a Lambda log line: level, the invocation's request id, the message (AWS_LAMBDA_LOG_FORMAT Text)
      const line = (w) => new RegExp(`^ERROR\\t[0-9a-f-]{8,}\\trefused POST /mcp: ${w.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}$`, 'm');
      const all = () => refusedWhy.every((w) => line(w).test(L.rt.stderr()));
      for (let i = 0; i < 40 && !all(); i++) await sleep(50); // stderr is a pipe: let it drain
      const err = L.rt.stderr();
      for (const w of refusedWhy) truthy(line(w).test(err), `no log line for "${w}": ${err.slice(-800)}`);
    });
    await check('iam: GET /metrics (an allowed ARN) counts the refusals', async () => {
      const ev = buildEvent('url', { method: 'GET', path: '/metrics', headers: [['Host', LAMBDA_HOST]] });
      ev.requestContext.authorizer = iamAuthorizer('arn:aws:iam::123456789012:role/mcp-caller');
      const lr = await L.invoke(ev);
      eq(lr.statusCode, 200, 'statusCode');
      eq(JSON.parse(lr.body).authRefusals, refusedWhy.length + 1, 'authRefusals');
    });
  } finally { await L.close(); }

  const ISS = 'https://cognito-idp.us-east-1.amazonaws.com/us-east-1_Test';
  const G = await lambdaStack({ MCP_JWT_ISSUER: ISS, MCP_JWT_AUDIENCE: 'client-123' });
  const claims = (scope) => ({ sub: 'gw-user-1', email: 'gw@example.com', scope, iss: ISS, client_id: 'client-123', token_use: 'access', exp: String(now() + 600) });
  try {
    await check('gateway-jwt: HTTP API JWT authorizer claims are accepted; principal = claims.sub', async () => {
      const ev = lambdaEvent('url', 'whoami');
      ev.requestContext.authorizer = { jwt: { claims: claims('read admin'), scopes: ['read', 'admin'] } };
      deq(lambdaWho(await G.invoke(ev)), { kind: 'gateway-jwt', principal: 'gw-user-1', scope: 'read admin', email: 'gw@example.com', tenant: null, iss: ISS }, 'whoami');
    });
    await check('gateway-jwt: scope from the claims: without it -> 403 insufficient_scope + JSON-RPC error', async () => {
      const ev = lambdaEvent('url', 'admin');
      ev.requestContext.authorizer = { jwt: { claims: claims('read'), scopes: ['read'] } };
      const lr = await G.invoke(ev);
      eq(lr.statusCode, 403, 'statusCode');
      eq(lambdaHeader(lr, 'www-authenticate'), 'Bearer error="insufficient_scope", scope="admin"', 'WWW-Authenticate');
      eq(JSON.parse(lr.body).error.code, -32003, 'JSON-RPC error code');
    });
    await check('gateway-jwt: with the scope -> 200', async () => {
      const ev = lambdaEvent('url', 'admin');
      ev.requestContext.authorizer = { jwt: { claims: claims('read admin'), scopes: ['read', 'admin'] } };
      const lr = await G.invoke(ev);
      eq(lr.statusCode, 200, 'statusCode');
      eq(JSON.parse(lr.body).result.content[0].text, 'admin ok gw-user-1', 'text');
    });
    await check('gateway-jwt: REST API Cognito authorizer claims (requestContext.authorizer.claims) -> 200', async () => {
      const ev = lambdaEvent('rest', 'whoami');
      ev.requestContext.authorizer = { claims: { ...claims('read'), sub: 'cognito-user-9' } };
      eq(lambdaWho(await G.invoke(ev)).principal, 'cognito-user-9', 'principal');
    });
    await check('gateway-jwt: no authorizer and no token -> 401 with resource_metadata on the function URL host', async () => {
      const lr = await G.invoke(lambdaEvent('url', 'whoami'));
      eq(lr.statusCode, 401, 'statusCode');
      eq(lambdaHeader(lr, 'www-authenticate'), `Bearer resource_metadata="https://${LAMBDA_HOST}/.well-known/oauth-protected-resource/mcp"`, 'WWW-Authenticate');
      eq(lr.body, JSON.stringify({ error: 'Unauthorized: no credentials (a bearer token is required)' }), 'body');
    });
    await check('gateway-jwt: /.well-known/oauth-protected-resource over the function URL', async () => {
      const lr = await G.invoke(buildEvent('url', { method: 'GET', path: '/.well-known/oauth-protected-resource', headers: [['Host', LAMBDA_HOST]] }));
      eq(lr.statusCode, 200, 'statusCode');
      eq(lr.body, JSON.stringify({ resource: `https://${LAMBDA_HOST}/mcp`, authorization_servers: [ISS], bearer_methods_supported: ['header'] }), 'document');
    });
  } finally { await G.close(); }
}

// ---------------------------------------------------------------------------------------------
// limits

const MAX_BODY = 8 << 20, MAX_HEAD = 16384, MAX_HEADERS = 64, MAX_DEPTH = 128, MAX_CONNS = 64, PER_CLIENT = 48;

/** GET /health whose head is exactly n bytes. */
function headOfSize(port, n) {
  const fixed = `GET /health HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nConnection: close\r\nX-Pad: \r\n\r\n`;
  return Buffer.from(fixed.replace('X-Pad: ', `X-Pad: ${'p'.repeat(n - fixed.length)}`), 'latin1');
}

async function served(port, n = 10) {
  const t0 = Date.now();
  const rs = await Promise.all(Array.from({ length: n }, (_, i) => (i % 2 ? request(port, { path: '/health' }, 5000) : callTool(port, 'whoami', {}, {}, { timeoutMs: 5000 }))));
  for (const r of rs) eq(r.status, 200, 'status of a concurrent request');
  return Date.now() - t0;
}

/** The sanitizer's one-line summary (or the tail) of a crashed server's stderr. */
const crashSummary = (err) => (/SUMMARY: \w+Sanitizer: [^\n]*/.exec(err) || /runtime error: [^\n]*/.exec(err) || [err.slice(-400)])[0];

/** Checks against one server that is started again when a check crashed it (the crash fails that check). */
function guarded(start) {
  const g = { srv: null, crashes: [] };
  g.ensure = async () => { if (!g.srv || !g.srv.alive()) g.srv = await start(); return g.srv.port; };
  g.check = (name, fn, ms) => check(name, async () => {
    const port = await g.ensure();
    const srv = g.srv;
    let err = null;
    try { await fn(port); } catch (e) { err = e; }
    await sleep(50);
    if (!srv.alive()) {
      await within(srv.exited, 5000, 'exit').catch(() => {});
      g.crashes.push(name);
      throw new Error(`the server crashed: ${crashSummary(srv.stderr())}${err ? ` (${err.message})` : ''}`);
    }
    if (err) throw err;
  }, ms);
  g.stop = async () => { if (g.srv) await g.srv.stop(); };
  return g;
}

async function sectionLimits() {
  const g = guarded(() => startServe(opts.binary, {}));
  try {
    const freed = async (P) => { // the server frees the slots as it sees the connections close
      const end = Date.now() + 5000;
      for (;;) {
        const r = await request(P, { path: '/health' }, 3000);
        if (r.status === 200) break;
        if (Date.now() > end) throw new Error(`still ${r.status} after closing the connections`);
        await sleep(100);
      }
    };
    await g.check(`limits: one client address holds at most ${PER_CLIENT} busy connections; the next -> 503 naming why, other clients keep working`, async (P) => {
      const conns = [];
      try {
        for (let i = 0; i < PER_CLIENT; i++) {
          const c = await Conn.open(P);
          conns.push(c);
          await c.write(Buffer.from('GET /health HTTP/1.1\r\n')); // busy: a head on its way
        }
        await sleep(300);
        const extra = await Conn.open(P);
        conns.push(extra);
        const r = await extra.response(5000);
        eq(r.status, 503, 'status');
        eq(r.body, JSON.stringify({ error: 'Service Unavailable: too many connections from this client' }), 'body');
        eq(r.headers.connection, 'close', 'Connection');
        truthy(await extra.waitClosed(2000), 'the refused connection stays open');
        truthy(conns.slice(0, PER_CLIENT).every((c) => !c.closed), `one of the first ${PER_CLIENT} connections was closed`);
        await conns[0].write(Buffer.from(`Host: 127.0.0.1:${P}\r\n\r\n`));
        eq((await conns[0].response(5000)).status, 200, 'the head finished on one of them');
        const other = await request(P, { path: '/health' }, 3000, { from: '127.0.0.9' });
        eq(other.status, 200, 'a client at another address');
      } finally { for (const c of conns) c.destroy(); }
      await freed(P);
    });
    await g.check(`limits: a client at its ${PER_CLIENT} connections, all idle: its new connection is served, its own idlest gives way`, async (P) => {
      const conns = [];
      try {
        for (let i = 0; i < PER_CLIENT; i++) conns.push(await Conn.open(P));
        await sleep(300);
        const r = await request(P, { path: '/health' }, 5000);
        eq(r.status, 200, 'the new connection');
        truthy(await conns[0].waitClosed(2000), 'the connection idle longest was not closed');
        eq(conns.filter((c) => c.closed).length, 1, 'connections closed');
      } finally { for (const c of conns) c.destroy(); }
      await freed(P);
    });
    await g.check(`limits: all ${MAX_CONNS} slots held by idle connections: a new client is served, the one idle longest gives way`, async (P) => {
      const conns = [];
      try {
        for (let i = 0; i < MAX_CONNS; i++) conns.push(await Conn.open(P, { from: i < MAX_CONNS / 2 ? '127.0.0.2' : '127.0.0.3' }));
        await sleep(300);
        const r = await request(P, { path: '/health' }, 5000, { from: '127.0.0.4' });
        eq(r.status, 200, 'the new client');
        truthy(await conns[0].waitClosed(2000), 'the connection idle longest was not closed');
        eq(conns.filter((c) => c.closed).length, 1, 'connections closed');
      } finally { for (const c of conns) c.destroy(); }
      await freed(P);
    });
    await g.check(`limits: all ${MAX_CONNS} slots busy (heads half sent): the next -> 503`, async (P) => {
      const conns = [];
      try {
        for (let i = 0; i < MAX_CONNS; i++) {
          const c = await Conn.open(P, { from: i < MAX_CONNS / 2 ? '127.0.0.5' : '127.0.0.6' });
          conns.push(c);
          await c.write(Buffer.from('GET /health HTTP/1.1\r\n'));
        }
        await sleep(300);
        const extra = await Conn.open(P, { from: '127.0.0.7' });
        conns.push(extra);
        const r = await extra.response(5000);
        eq(r.status, 503, 'status');
        eq(r.body, JSON.stringify({ error: 'Service Unavailable: too many connections' }), 'body');
        truthy(conns.slice(0, MAX_CONNS).every((c) => !c.closed), 'a busy connection was closed');
      } finally { for (const c of conns) c.destroy(); }
      await freed(P);
    });
    await g.check('limits: a 100 KB body (more than the first receive buffer) -> 200', async (P) => {
      const r = await request(P, { method: 'POST', path: '/mcp', headers: mcpHeaders('whoami'), body: rpcBody('whoami', { pad: 'x'.repeat(100000) }) });
      eq(r.status, 200, `status (${r.body.slice(0, 200)})`);
    });
    await g.check(`limits: a body of exactly ${MAX_BODY} bytes is accepted (200)`, async (P) => {
      const empty = rpcBody('whoami', { pad: '' });
      const body = rpcBody('whoami', { pad: 'x'.repeat(MAX_BODY - Buffer.byteLength(empty)) });
      eq(Buffer.byteLength(body), MAX_BODY, 'body size');
      const r = await request(P, { method: 'POST', path: '/mcp', headers: mcpHeaders('whoami'), body }, 30000);
      eq(r.status, 200, `status (${r.body.slice(0, 200)})`);
    }, 60000);
    await g.check(`limits: Content-Length ${MAX_BODY + 1} -> 413 before the body is sent`, async (P) => {
      const c = await Conn.open(P);
      try {
        const h = reqBytes(P, { method: 'POST', path: '/mcp', headers: { ...mcpHeaders('whoami'), 'Content-Length': MAX_BODY + 1 }, close: false });
        await c.write(h);
        const r = await c.response(5000);
        eq(r.status, 413, 'status');
        eq(r.body, JSON.stringify({ error: 'Content Too Large: the request body exceeds the limit' }), 'body');
        eq(r.headers.connection, 'close', 'Connection');
        truthy(await c.waitClosed(2000), 'connection not closed');
      } finally { c.destroy(); }
    });
    // fetch (undici) is what the MCP TypeScript SDK sends with: it writes the whole body
    // before it reads, so it sees the 413 only if the server lets the body drain before closing
    await g.check(`limits: fetch() POSTing ${MAX_BODY + 1} bytes (Content-Length) gets the 413 (3 tries)`, async (P) => {
      for (let i = 1; i <= 3; i++) {
        let r;
        try {
          r = await fetch(`http://127.0.0.1:${P}/mcp`, { method: 'POST', headers: mcpHeaders('whoami'), body: Buffer.alloc(MAX_BODY + 1, 0x20) });
        } catch (e) { throw new Error(`try ${i}: fetch failed: ${e.cause ? e.cause.code || e.cause.message : e.message}`); }
        eq(r.status, 413, `try ${i}: status`);
        eq(await r.text(), JSON.stringify({ error: 'Content Too Large: the request body exceeds the limit' }), `try ${i}: body`);
      }
    }, 60000);
    await g.check(`limits: fetch() streaming a chunked body over ${MAX_BODY} bytes gets the 413`, async (P) => {
      let n = 0, r;
      const body = new ReadableStream({ pull(c) { if (n++ < 9) c.enqueue(new Uint8Array(1 << 20).fill(0x20)); else c.close(); } });
      try {
        r = await fetch(`http://127.0.0.1:${P}/mcp`, { method: 'POST', duplex: 'half', headers: mcpHeaders('whoami'), body });
      } catch (e) { throw new Error(`fetch failed: ${e.cause ? e.cause.code || e.cause.message : e.message}`); }
      eq(r.status, 413, 'status');
      eq(await r.text(), JSON.stringify({ error: 'Content Too Large: the request body exceeds the limit' }), 'body');
    }, 30000);
    await g.check(`limits: a head of exactly ${MAX_HEAD} bytes is accepted`, async (P) => {
      const c = await Conn.open(P);
      try {
        const h = headOfSize(P, MAX_HEAD);
        eq(h.length, MAX_HEAD, 'head size');
        await c.write(h);
        eq((await c.response(5000)).status, 200, 'status');
      } finally { c.destroy(); }
    });
    await g.check(`limits: a head over ${MAX_HEAD} bytes -> 431`, async (P) => {
      for (const n of [MAX_HEAD + 1, 64 * 1024]) {
        const c = await Conn.open(P);
        try {
          await c.write(headOfSize(P, n));
          const r = await c.response(5000);
          eq(r.status, 431, `status (${n} bytes)`);
          eq(r.body, JSON.stringify({ error: '431 Request Header Fields Too Large' }), 'body');
        } finally { c.destroy(); }
      }
    });
    await g.check(`limits: an unterminated head growing past ${MAX_HEAD} bytes -> 431 without waiting for its end`, async (P) => {
      const c = await Conn.open(P);
      try {
        await c.write(`GET /health HTTP/1.1\r\nHost: 127.0.0.1:${P}\r\nX-Long: ${'a'.repeat(MAX_HEAD + 100)}`);
        eq((await c.response(5000)).status, 431, 'status');
      } finally { c.destroy(); }
    });
    const withHeaders = (P, n) => { // n headers in all, Host included
      const hs = [];
      for (let i = 1; i < n; i++) hs.push([`X-H${i}`, String(i)]);
      return reqBytes(P, { path: '/health', headers: hs, close: false });
    };
    await g.check(`limits: exactly ${MAX_HEADERS} headers are accepted`, async (P) => {
      const c = await Conn.open(P);
      try { await c.write(withHeaders(P, MAX_HEADERS)); eq((await c.response(5000)).status, 200, 'status'); } finally { c.destroy(); }
    });
    await g.check(`limits: ${MAX_HEADERS + 1} headers -> 431`, async (P) => {
      const c = await Conn.open(P);
      try {
        await c.write(withHeaders(P, MAX_HEADERS + 1));
        const r = await c.response(5000);
        eq(r.status, 431, 'status');
        eq(r.body, JSON.stringify({ error: '431 Request Header Fields Too Large' }), 'body');
      } finally { c.destroy(); }
    });
    const nested = (depth) => { // the message object, params and arguments are 3 levels
      const pre = `{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"whoami","_meta":{"io.modelcontextprotocol/protocolVersion":"${PV}","io.modelcontextprotocol/clientCapabilities":{}},"arguments":{"x":`;
      const k = depth - 3;
      return { body: `${pre}${'['.repeat(k)}${']'.repeat(k)}}}}`, at: pre.length + k - 1 };
    };
    await g.check(`limits: JSON nested ${MAX_DEPTH} deep is accepted`, async (P) => {
      const r = await request(P, { method: 'POST', path: '/mcp', headers: mcpHeaders('whoami'), body: nested(MAX_DEPTH).body });
      eq(r.status, 200, `status (${r.body.slice(0, 200)})`);
    });
    await g.check(`limits: JSON nested ${MAX_DEPTH + 1} deep -> 400, -32700 Parse error: nesting too deep`, async (P) => {
      const { body, at } = nested(MAX_DEPTH + 1);
      const r = await request(P, { method: 'POST', path: '/mcp', headers: mcpHeaders('whoami'), body });
      eq(r.status, 400, 'status');
      eq(r.body, JSON.stringify({ jsonrpc: '2.0', id: null, error: { code: -32700, message: `Parse error: nesting too deep at byte ${at}` } }), 'body');
    });
    await g.check('limits: JSON nested 5000 deep -> -32700', async (P) => {
      const r = await request(P, { method: 'POST', path: '/mcp', headers: mcpHeaders('whoami'), body: '['.repeat(5000) + ']'.repeat(5000) });
      eq(r.status, 400, 'status');
      eq(JSON.parse(r.body).error.code, -32700, 'code');
      truthy(/nesting too deep/.test(JSON.parse(r.body).error.message), 'message');
    });

    await g.check('slow-loris: a client that sends a partial head and stalls does not hold up others', async (P) => {
      const slow = await Conn.open(P);
      try {
        await slow.write(`POST /mcp HTTP/1.1\r\nHost: 127.0.0.1:${P}\r\nContent-Type: appl`);
        const tSent = Date.now();
        await sleep(200);
        for (let round = 0; round < 3; round++) {
          const ms = await served(P, 16);
          truthy(ms < 3000, `16 requests took ${ms} ms while the slow client stalled`);
        }
        truthy(!slow.closed, 'the stalled connection was closed early');
        if (opts.slow) {
          const r = await slow.response(45000);
          const s = (Date.now() - tSent) / 1000;
          eq(r.status, 408, 'status');
          eq(r.body, JSON.stringify({ error: '408 Request Timeout' }), 'body');
          truthy(s > 25 && s < 35, `408 after ${s} s (the idle timeout is 30 s)`);
          truthy(await slow.waitClosed(2000), 'not closed after the 408');
        }
      } finally { slow.destroy(); }
    }, opts.slow ? 60000 : 20000);
    if (opts.slow) {
      await g.check('slow-loris (--slow): a client trickling its head one byte every 5 s is cut within the 30 s timeout', async (P) => {
        const c = await Conn.open(P);
        const t0 = Date.now();
        try {
          await c.write(`GET /health HTTP/1.1\r\nHost: 127.0.0.1:${P}\r\nX-Slow: `);
          while (!c.closed && Date.now() - t0 < 45000) { await c.write('a'); await c._wait(5000); }
          truthy(c.closed, `still open after ${(Date.now() - t0) / 1000} s of trickling (the request may take 30 s)`);
          truthy(Date.now() - t0 < 36000, `closed only after ${(Date.now() - t0) / 1000} s`);
        } finally { c.destroy(); }
      }, 60000);
    }
    await g.check('sse: a client that stops reading an SSE response does not stall other clients', async (P) => {
      const c = await Conn.open(P, { paused: true });
      try {
        await c.write(reqBytes(P, { method: 'POST', path: '/mcp', headers: mcpHeaders('flood'), body: rpcBody('flood', { count: 20000, size: 2000 }, { 'io.modelcontextprotocol/logLevel': 'debug' }), close: false }));
        await sleep(1500); // 40 MB of events: the socket buffers are full and the server's writer blocks
        for (let round = 0; round < 3; round++) {
          const ms = await served(P, 16);
          truthy(ms < 3000, `16 requests took ${ms} ms while an SSE reader stalled`);
        }
        const m = await request(P, { path: '/metrics' });
        eq(m.status, 200, '/metrics');
      } finally { c.destroy(); }
    }, 30000);
    await g.check('limits: the server is healthy after all of it (no crash, /health 200)', async (P) => {
      eq((await request(P, { path: '/health' })).status, 200, 'status');
      truthy(!/ERROR: AddressSanitizer|runtime error:/.test(g.srv.stderr()), `sanitizer report: ${crashSummary(g.srv.stderr())}`);
      eq(g.crashes.length, 0, `checks that crashed the server: ${g.crashes.join('; ')}`);
    });
  } finally { await g.stop(); }
}

// ---------------------------------------------------------------------------------------------
// timeouts, with a build whose MCP_IDLE_TIMEOUT is 2 s

/** Does the server still hold an established connection from this client port (ss)? */
async function serverHolds(serverPort, clientPort) {
  const r = await run('ss', ['-Htn', 'state', 'established', `( sport = :${serverPort} and dport = :${clientPort} )`], 5000);
  if (r.code !== 0) throw new Error(`ss failed: ${r.err}`);
  return r.out.trim().length > 0;
}

async function sectionTimeouts() {
  if (!opts.short) { notOk('timeouts', 'no --short binary (a build with -DMCP_IDLE_TIMEOUT=2)'); return; }
  const T = 2;
  const srv = await startServe(opts.short, {});
  const P = srv.port;
  try {
    await check(`timeouts (MCP_IDLE_TIMEOUT=${T}): a partial head, then silence -> 408 after the timeout, closed`, async () => {
      const c = await Conn.open(P);
      try {
        const t0 = Date.now();
        await c.write(`POST /mcp HTTP/1.1\r\nHost: 127.0.0.1:${P}\r\nContent-Ty`);
        const r = await c.response(T * 1000 + 4000);
        const s = (Date.now() - t0) / 1000;
        eq(r.status, 408, 'status');
        eq(r.body, JSON.stringify({ error: '408 Request Timeout' }), 'body');
        truthy(s >= T - 0.3 && s < T + 2, `408 after ${s} s`);
        truthy(await c.waitClosed(1000), 'not closed');
      } finally { c.destroy(); }
    });
    await check(`timeouts (MCP_IDLE_TIMEOUT=${T}): a body that stalls -> 408`, async () => {
      const c = await Conn.open(P);
      try {
        await c.write(Buffer.concat([reqBytes(P, { method: 'POST', path: '/mcp', headers: { ...mcpHeaders('whoami'), 'Content-Length': 100 }, close: false }), Buffer.from('{"jsonrpc"')]));
        eq((await c.response(T * 1000 + 4000)).status, 408, 'status');
      } finally { c.destroy(); }
    });
    await check(`timeouts (MCP_IDLE_TIMEOUT=${T}): an idle keep-alive connection is closed quietly`, async () => {
      const c = await Conn.open(P);
      try {
        await c.write(reqBytes(P, { path: '/health', close: false }));
        eq((await c.response(3000)).status, 200, 'status');
        const t0 = Date.now();
        truthy(await c.waitClosed(T * 1000 + 3000), 'still open');
        const s = (Date.now() - t0) / 1000;
        truthy(s >= T - 0.3, `closed after ${s} s`);
        eq(c.pending(), 0, 'bytes after the response');
      } finally { c.destroy(); }
    });
    await check(`timeouts (MCP_IDLE_TIMEOUT=${T}): others are served while a client stalls`, async () => {
      const c = await Conn.open(P);
      try {
        await c.write('GET /health HTTP/1.1\r\n');
        const ms = await served(P, 16);
        truthy(ms < 1500, `${ms} ms`);
      } finally { c.destroy(); }
    });
    await check(`timeouts (MCP_IDLE_TIMEOUT=${T}): a head trickled one byte per 0.4 s is cut (a request may take ${T} s)`, async () => {
      const c = await Conn.open(P);
      const t0 = Date.now();
      try {
        await c.write(`GET /health HTTP/1.1\r\nHost: 127.0.0.1:${P}\r\nX-Slow: `);
        while (!c.closed && Date.now() - t0 < 4 * T * 1000) { await c.write('a'); await c._wait(400); }
        truthy(c.closed, `still open after ${(Date.now() - t0) / 1000} s of trickling`);
      } finally { c.destroy(); }
    }, 20000);
    await check(`timeouts (MCP_IDLE_TIMEOUT=${T}): a client that stops reading an SSE stream is dropped, others are served meanwhile`, async () => {
      const c = await Conn.open(P, { paused: true });
      try {
        await c.write(reqBytes(P, { method: 'POST', path: '/mcp', headers: mcpHeaders('flood'), body: rpcBody('flood', { count: 20000, size: 2000 }, { 'io.modelcontextprotocol/logLevel': 'debug' }), close: false }));
        const t0 = Date.now();
        // SO_SNDTIMEO bounds each send(); a send that moves a few bytes starts a new wait, so the
        // drop comes after a few multiples of the timeout: allow 15.
        let dropped = null, served_ = 0;
        while (Date.now() - t0 < 15 * T * 1000) {
          await sleep(500);
          if (served_ < 3) { const ms = await served(P, 8); truthy(ms < 1500, `others took ${ms} ms`); served_++; }
          if (!(await serverHolds(P, c.sock.localPort))) { dropped = Date.now() - t0; break; }
        }
        truthy(dropped !== null, `the server still holds the stalled SSE connection after ${15 * T} s`);
        note(`a stalled SSE reader was dropped after ${(dropped / 1000).toFixed(1)} s (MCP_IDLE_TIMEOUT=${T})`);
        c.resume();
        truthy(await c.waitClosed(5000), 'not closed');
        const r = await c.response(1000);
        eq(r.status, 200, 'status');
        eq(r.headers['content-type'], 'text/event-stream', 'content type');
        truthy(r.incomplete, 'the stream completed although the client did not read');
      } finally { c.destroy(); }
    }, 20 * T * 1000 + 10000);
  } finally {
    await srv.stop();
    if (/ERROR: AddressSanitizer|runtime error:/.test(srv.stderr())) notOk('timeouts: sanitizer report', srv.stderr().slice(-1500));
  }
}

// ---------------------------------------------------------------------------------------------
// soak: wrk, keep-alive, 32 connections

function run(cmd, args, ms) {
  return new Promise((resolve) => {
    const p = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '', err = '';
    p.stdout.on('data', (d) => { out += d; });
    p.stderr.on('data', (d) => { err += d; });
    const t = setTimeout(() => p.kill('SIGKILL'), ms);
    p.on('exit', (code, signal) => { clearTimeout(t); resolve({ code, signal, out, err }); });
    p.on('error', (e) => { clearTimeout(t); resolve({ code: null, out, err: String(e) }); });
  });
}

async function sectionSoak() {
  const bin = opts.plain || opts.binary;
  const KEY = 'soak-key-0123456789abcdef';
  const HS = 'soak-hs256-secret-0123456789abcdef0123456789';
  const srv = await startServe(bin, { MCP_API_KEYS: KEY, MCP_JWT_HS256_SECRET: HS, MCP_JWT_AUDIENCE: 'soak' });
  const dir = mkdtempSync(path.join(tmpdir(), 'mcp-auth-soak-'));
  try {
    const jwt = await mint({ alg: 'HS256', key: new TextEncoder().encode(HS), iss: null, aud: 'soak', sub: 'soak-user', exp: now() + 7200 });
    const body = rpcBody('whoami');
    const luaHeaders = (cred) => `{${Object.entries({ ...mcpHeaders('whoami'), Authorization: `Bearer ${cred}` }).map(([k, v]) => `[${JSON.stringify(k)}]=${JSON.stringify(v)}`).join(', ')}}`;
    const lua = `-- alternate an API key and an HS256 JWT; count answers that are not 200 with an identity
local threads = {}
function setup(thread) table.insert(threads, thread) end
function init(args)
  good = 0; bad = 0; n = 0
  local body = [==[${body}]==]
  reqs = { wrk.format("POST", "/mcp", ${luaHeaders(KEY)}, body), wrk.format("POST", "/mcp", ${luaHeaders(jwt)}, body) }
end
function request() n = n + 1; return reqs[n % 2 + 1] end
function response(status, headers, body)
  if status == 200 and body:find('principal', 1, true) then good = good + 1 else bad = bad + 1 end
end
function done(summary, latency, requests)
  local g, b = 0, 0
  for _, t in ipairs(threads) do g = g + t:get("good"); b = b + t:get("bad") end
  io.write(string.format("WRK good=%d bad=%d\\n", g, b))
end
`;
    const script = path.join(dir, 'soak.lua');
    writeFileSync(script, lua);
    const url = `http://127.0.0.1:${srv.port}/mcp`;
    const wrk = async (seconds) => {
      const r = await run('wrk', ['-t2', '-c32', `-d${seconds}s`, '--timeout', '5s', '-s', script, url], (seconds + 30) * 1000);
      const m = /WRK good=(\d+) bad=(\d+)/.exec(r.out);
      const total = /(\d+) requests in/.exec(r.out);
      const rps = /Requests\/sec:\s+([\d.]+)/.exec(r.out);
      return { ...r, good: m ? Number(m[1]) : -1, bad: m ? Number(m[2]) : -1, total: total ? Number(total[1]) : -1, rps: rps ? Number(rps[1]) : 0, socketErrors: /Socket errors/.test(r.out), non2xx: /Non-2xx/.test(r.out) };
    };
    const rss0 = rssKb(srv.pid);
    const warm = await wrk(3);
    await sleep(500);
    const rss1 = rssKb(srv.pid);
    note(`warm-up: ${warm.total} requests, ${warm.rps} req/s, RSS ${rss0} kB -> ${rss1} kB`);
    const t0 = Date.now();
    const soak = await wrk(opts.soakSeconds);
    await sleep(500);
    const rss2 = rssKb(srv.pid);
    note(`soak: ${opts.soakSeconds} s, ${soak.total} requests, ${soak.rps} req/s, RSS after ${rss2} kB (${rss2 - rss1 >= 0 ? '+' : ''}${rss2 - rss1} kB), ${((Date.now() - t0) / 1000).toFixed(1)} s`);
    await check('soak: wrk ran (keep-alive, 32 connections) and every answer was 200 with an identity', () => {
      eq(soak.code, 0, `wrk exit (${soak.err.slice(0, 300)})`);
      truthy(soak.total > 0, `no requests: ${soak.out}`);
      truthy(!soak.socketErrors, `socket errors: ${soak.out}`);
      truthy(!soak.non2xx, `non-2xx responses: ${soak.out}`);
      eq(soak.bad, 0, 'answers that were not 200 with an identity');
      eq(soak.good, soak.total, 'good answers vs requests');
    });
    // The bound: after the warm-up the server holds what a steady state needs (32 connection
    // threads' stacks, their malloc arenas, per-connection receive buffers, the request arena's
    // first block kept across requests); the soak repeats the same requests on the same number
    // of connections, so a leak-free server adds nothing (measured: +50 to +100 kB). 2 MB of
    // slack covers allocator noise (a thread landing on another arena, trim thresholds) while
    // a leak of 4 bytes per request crosses it over the ~600k requests of a 10 s soak at
    // ~60k req/s (1 byte per request with SOAK_SECONDS=60).
    const BOUND = 2048;
    await check(`soak: RSS after the soak is within ${BOUND} kB of RSS after the warm-up`, () => {
      truthy(rss1 && rss2, 'RSS not readable');
      truthy(rss2 - rss1 <= BOUND, `RSS grew ${rss2 - rss1} kB (${rss1} -> ${rss2}) over ${soak.total} requests`);
    });
    await check('soak: no refusals and no errors were logged', () => {
      eq(refusedLines(srv.stderr()).length, 0, 'refusal lines');
      truthy(srv.alive(), 'the server died');
    });
  } finally {
    await srv.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

// ---------------------------------------------------------------------------------------------
// valgrind

async function sectionValgrind() {
  const bin = opts.vg;
  if (!bin) { notOk('valgrind', 'no --vg binary (a build without sanitizers, -O0 -g)'); return; }
  const jw = await jwksServer(opts.pki);
  const K = await keys();
  jw.jwks = { keys: [K.jwk.rsa1, K.jwk.ec1] };
  const dir = mkdtempSync(path.join(tmpdir(), 'mcp-auth-vg-'));
  const log = path.join(dir, 'valgrind.log');
  const supp = path.join(path.dirname(new URL(import.meta.url).pathname), 'valgrind.supp');
  const KEY = 'vg-key-0123456789', HS = 'vg-hs256-secret-0123456789abcdef0123', ISS = 'https://issuer.vg.test', AUD = 'vg';
  const srv = await startServe(bin, {
    MCP_API_KEYS: KEY, MCP_JWT_HS256_SECRET: HS, MCP_JWT_ISSUER: ISS, MCP_JWT_AUDIENCE: AUD, MCP_JWT_JWKS_URL: `${jw.origin}/jwks.json`,
    SSL_CERT_FILE: path.join(opts.pki, 'ca.pem'),
  }, { prefix: ['valgrind', '--error-exitcode=9', '--leak-check=full', `--suppressions=${supp}`, `--log-file=${log}`], startMs: 60000 });
  const P = srv.port, base = `http://127.0.0.1:${P}`;
  const t = (over = {}) => mint({ alg: 'RS256', key: K.rsa1.privateKey, kid: 'rsa1', iss: ISS, aud: AUD, sub: 'vg-user', ...over });
  const hs = (over = {}) => mint({ alg: 'HS256', key: new TextEncoder().encode(HS), iss: ISS, aud: AUD, sub: 'vg-hs', ...over });
  const slow = { timeoutMs: 30000 };
  try {
    await check('valgrind: a sequence of authenticated and refused requests answers as expected', async () => {
      expect401(await callTool(P, 'whoami', {}, {}, slow), base, null);
      expect401(await callTool(P, 'whoami', bearer('vg-wrong'), {}, slow), base, 'the token is not a JWT');
      eq(who(await callTool(P, 'whoami', bearer(KEY), {}, slow)).principal, 'key-1', 'API key');
      eq(who(await callTool(P, 'whoami', { 'X-Api-Key': KEY }, {}, slow)).principal, 'key-1', 'X-Api-Key');
      eq(who(await callTool(P, 'whoami', bearer(await hs({ claims: { email: 'v@example.com' } })), {}, slow)).email, 'v@example.com', 'HS256');
      expect401(await callTool(P, 'whoami', bearer(await hs({ exp: now() - 3600 })), {}, slow), base, 'the JWT has expired');
      eq(who(await callTool(P, 'whoami', bearer(await t()), {}, slow)).principal, 'vg-user', 'RS256 (JWKS over TLS)');
      eq(who(await callTool(P, 'whoami', bearer(await mint({ alg: 'ES256', key: K.ec1.privateKey, kid: 'ec1', iss: ISS, aud: AUD, sub: 'vg-es' })), {}, slow)).principal, 'vg-es', 'ES256');
      expect401(await callTool(P, 'whoami', bearer(await mint({ alg: 'RS256', key: K.rsaEvil.privateKey, kid: 'rsa1', iss: ISS, aud: AUD })), {}, slow), base, 'the JWT signature does not verify');
      expect401(await callTool(P, 'whoami', bearer(await mint({ alg: 'RS256', key: K.rsaEvil.privateKey, kid: 'nokid', iss: ISS, aud: AUD })), {}, slow), base, 'no RS256 key with kid nokid in the JWKS');
      expect401(await callTool(P, 'whoami', bearer(new jose.UnsecuredJWT({ iss: ISS, aud: AUD }).encode()), {}, slow), base, 'unsigned JWTs (alg none) are refused');
      expect401(await callTool(P, 'whoami', bearer('!!!.e30.x'), {}, slow), base, 'the JWT is malformed');
      expect401(await callTool(P, 'whoami', bearer(await t({ aud: 'other' })), {}, slow), base, 'the JWT is for another audience (aud)');
      eq((await callTool(P, 'admin', bearer(await t({ claims: { scope: 'read' } })), {}, slow)).status, 403, 'admin without the scope');
      eq((await callTool(P, 'admin', bearer(await t({ claims: { scope: 'admin' } })), {}, slow)).status, 200, 'admin with the scope');
      eq((await request(P, { path: '/health' }, 30000)).status, 200, '/health');
      eq((await request(P, { path: '/.well-known/oauth-protected-resource' }, 30000)).status, 200, 'metadata');
      eq((await request(P, { path: '/metrics', headers: bearer(KEY) }, 30000)).status, 200, '/metrics');
      eq((await request(P, { method: 'POST', path: '/mcp', headers: { ...mcpHeaders('whoami'), 'Content-Length': MAX_BODY + 1 }, close: true }, 30000)).status, 413, '413');
      const c = await Conn.open(P);
      try { await c.write(headOfSize(P, MAX_HEAD + 1)); eq((await c.response(30000)).status, 431, '431'); } finally { c.destroy(); }
      eq((await request(P, { method: 'POST', path: '/mcp', headers: { ...mcpHeaders('whoami'), ...bearer(KEY) }, body: '['.repeat(200) + ']'.repeat(200) }, 30000)).status, 400, 'nesting');
    }, 240000);
  } finally {
    await sleep(500); // let the connection threads finish
    const e = await srv.stop('SIGTERM', 60000);
    await jw.close();
    const text = (() => { try { return readFileSync(log, 'utf8'); } catch { return ''; } })();
    await check('valgrind: no memory errors and no leaks (ERROR SUMMARY: 0 errors)', () => {
      const m = /ERROR SUMMARY: (\d+) errors/.exec(text);
      truthy(/Memcheck/.test(text) && m, `no valgrind summary (exit ${JSON.stringify(e)}): ${text.slice(-1500)}`);
      eq(Number(m[1]), 0, `valgrind errors:\n${text.split('\n').filter((l) => /==\d+== (Invalid|Conditional|Use of|Syscall|Mismatched|\s+(at|by) |.*lost in loss record|.*definitely lost:|.*possibly lost:)/.test(l)).slice(0, 40).join('\n')}`);
      truthy(/definitely lost: 0 bytes|All heap blocks were freed|no leaks are possible/.test(text), `leaks: ${(/LEAK SUMMARY:[\s\S]{0,600}/.exec(text) || [''])[0]}`);
    });
    rmSync(dir, { recursive: true, force: true });
  }
}

// ---------------------------------------------------------------------------------------------

const SECTIONS = { keys: sectionKeys, jwt: sectionJwt, lambda: sectionLambda, limits: sectionLimits, timeouts: sectionTimeouts, soak: sectionSoak, valgrind: sectionValgrind };
for (const s of opts.sections.length ? opts.sections : ['keys', 'jwt', 'lambda', 'limits', 'timeouts']) {
  if (!SECTIONS[s]) { notOk(s, 'no such section'); continue; }
  const t0 = Date.now();
  const before = tally.passed + tally.failed;
  try { await SECTIONS[s](); } catch (e) { notOk(`${s}: the section failed to run`, e.stack || e); }
  note(`section ${s}: ${tally.passed + tally.failed - before} checks in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
}
note(`test.mjs ${opts.sections.join(' ')}: ${tally.passed} passed, ${tally.failed} failed`);
process.exit(tally.failed ? 1 : 0);
