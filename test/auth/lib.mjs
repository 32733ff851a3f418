// lib.mjs: the harness of test/auth: checks that print "ok - name" / "not ok - name: why", a
// raw HTTP/1.1 client (exact bytes out, exact status, headers and body in), the server under
// test started with `serve --listen 127.0.0.1:0`, and MCP request builders.

import net from 'node:net';
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// ---------------------------------------------------------------------------------------------
// checks

export const tally = { passed: 0, failed: 0 };

export function ok(name) { tally.passed++; process.stdout.write(`ok - ${name}\n`); }
export function notOk(name, why) {
  tally.failed++;
  process.stdout.write(`not ok - ${name}: ${String(why).replace(/\s+/g, ' ').slice(0, 900)}\n`);
}
export function note(text) { process.stdout.write(`# ${text}\n`); }

export function within(p, ms, what = 'operation') {
  let t;
  return Promise.race([p, new Promise((_, rej) => { t = setTimeout(() => rej(new Error(`${what} timed out after ${ms} ms`)), ms); })])
    .finally(() => clearTimeout(t));
}

/** Run one check, bounded by ms; a thrown Error is its failure. */
export async function check(name, fn, ms = 20000) {
  try { await within(Promise.resolve().then(fn), ms, 'the check'); ok(name); return true; }
  catch (e) { notOk(name, e && e.message ? e.message : e); return false; }
}

const show = (v) => { const s = JSON.stringify(v); return s === undefined ? String(v) : s.length > 400 ? s.slice(0, 400) + '...' : s; };
export function eq(got, want, what) { if (got !== want) throw new Error(`${what}: got ${show(got)}, want ${show(want)}`); }
export function deq(got, want, what) { if (JSON.stringify(got) !== JSON.stringify(want)) throw new Error(`${what}: got ${show(got)}, want ${show(want)}`); }
export function truthy(v, what) { if (!v) throw new Error(what); }

// ---------------------------------------------------------------------------------------------
// the server under test

/** The environment without the caller's MCP_*, AWS_* and SSL_CERT_* settings, plus extra. */
export function cleanEnv(extra = {}) {
  const env = {};
  for (const [k, v] of Object.entries(process.env)) if (!/^(MCP_|AWS_|SSL_CERT_)/.test(k)) env[k] = v;
  return { ...env, ...extra };
}

/** Start BINARY serve on an ephemeral port. opts.prefix: a wrapper command (valgrind ...). */
export async function startServe(binary, env = {}, opts = {}) {
  const argv = [...(opts.prefix || []), binary, 'serve', '--listen', '127.0.0.1:0'];
  const proc = spawn(argv[0], argv.slice(1), { env: cleanEnv(env), stdio: ['ignore', 'ignore', 'pipe'] });
  let err = '';
  proc.stderr.on('data', (d) => { if (err.length < (8 << 20)) err += d; });
  let done = null;
  const exited = new Promise((r) => proc.on('exit', (code, signal) => { done = { code, signal }; r(done); }));
  const port = await within(new Promise((resolve, reject) => {
    const t = setInterval(() => {
      const m = /serving MCP on http:\/\/127\.0\.0\.1:(\d+)\/mcp/.exec(err);
      if (m) { clearInterval(t); resolve(Number(m[1])); }
      else if (done) { clearInterval(t); reject(new Error(`the server exited ${JSON.stringify(done)}: ${err.slice(-2000)}`)); }
    }, 20);
  }), opts.startMs ?? 30000, 'server start');
  return {
    port, proc, pid: proc.pid, exited,
    stderr: () => err,
    alive: () => !done,
    async stop(signal = 'SIGTERM', ms = 30000) {
      if (!done) proc.kill(signal);
      return within(exited, ms, 'server exit').catch(() => { proc.kill('SIGKILL'); return exited; });
    },
  };
}

/** Resident set size of a process in kB (VmRSS), or null. */
export function rssKb(pid) {
  try { const m = /VmRSS:\s+(\d+)\s+kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8')); return m ? Number(m[1]) : null; }
  catch { return null; }
}

// ---------------------------------------------------------------------------------------------
// raw HTTP/1.1

/** Parse one response at the start of buf; null when it is not complete yet. */
export function parseResponse(buf, closed) {
  const he = buf.indexOf('\r\n\r\n');
  if (he < 0) return null;
  const head = buf.subarray(0, he).toString('latin1');
  const lines = head.split('\r\n');
  const m = /^HTTP\/1\.([01]) (\d{3})(?: (.*))?$/.exec(lines[0]);
  if (!m) throw new Error(`bad status line ${JSON.stringify(lines[0])}`);
  const status = Number(m[2]);
  const headers = {}, rawHeaders = [];
  for (const l of lines.slice(1)) {
    const i = l.indexOf(':');
    const k = l.slice(0, i).trim().toLowerCase(), v = l.slice(i + 1).trim();
    rawHeaders.push([k, v]);
    headers[k] = k in headers ? `${headers[k]}, ${v}` : v;
  }
  let p = he + 4, body;
  const chunked = /chunked/i.test(headers['transfer-encoding'] || '');
  if (chunked) {
    const parts = [];
    for (;;) {
      const le = buf.indexOf('\r\n', p);
      if (le < 0) return closed ? { status, headers, rawHeaders, head, body: Buffer.concat(parts).toString('utf8'), incomplete: true, bytes: buf.length } : null;
      const size = parseInt(buf.subarray(p, le).toString('latin1'), 16);
      if (!Number.isFinite(size)) throw new Error('bad chunk size');
      if (size === 0) {
        const te = buf.indexOf('\r\n', le + 2);
        if (te < 0) return closed ? { status, headers, rawHeaders, head, body: Buffer.concat(parts).toString('utf8'), incomplete: true, bytes: buf.length } : null;
        p = te + 2;
        break;
      }
      if (buf.length < le + 2 + size + 2) {
        if (!closed) return null;
        parts.push(buf.subarray(le + 2, Math.min(buf.length, le + 2 + size)));
        return { status, headers, rawHeaders, head, body: Buffer.concat(parts).toString('utf8'), incomplete: true, bytes: buf.length };
      }
      parts.push(buf.subarray(le + 2, le + 2 + size));
      p = le + 2 + size + 2;
    }
    body = Buffer.concat(parts);
  } else if ('content-length' in headers) {
    const n = Number(headers['content-length']);
    if (buf.length < p + n) return closed ? { status, headers, rawHeaders, head, body: buf.subarray(p).toString('utf8'), incomplete: true, bytes: buf.length } : null;
    body = buf.subarray(p, p + n);
    p += n;
  } else if (status === 204 || status === 304 || (status >= 100 && status < 200)) body = Buffer.alloc(0);
  else {
    if (!closed) return null;
    body = buf.subarray(p);
    p = buf.length;
  }
  return { status, headers, rawHeaders, head, body: body.toString('utf8'), bytes: p };
}

/** One TCP connection to the server, read as responses arrive. */
export class Conn {
  constructor(sock) {
    this.sock = sock;
    this.chunks = [];
    this.buf = Buffer.alloc(0);
    this.received = 0;
    this.closedAt = null;
    this.error = null;
    this.waiters = [];
    sock.on('data', (d) => { this.chunks.push(d); this.received += d.length; this._wake(); });
    sock.on('end', () => { this.closedAt ??= Date.now(); this._wake(); });
    sock.on('close', () => { this.closedAt ??= Date.now(); this._wake(); });
    sock.on('error', (e) => { this.error = e; });
  }
  static open(port, { paused = false, timeoutMs = 5000, from } = {}) {
    return within(new Promise((resolve, reject) => {
      const s = net.connect({ port, host: '127.0.0.1', ...(from ? { localAddress: from } : {}) });
      s.setNoDelay(true);
      if (paused) s.pause();
      s.once('connect', () => { s.removeListener('error', reject); resolve(new Conn(s)); });
      s.once('error', reject);
    }), timeoutMs, 'connect');
  }
  get closed() { return this.closedAt !== null; }
  _take() { if (this.chunks.length) { this.buf = Buffer.concat([this.buf, ...this.chunks]); this.chunks = []; } return this.buf; }
  _wake() { for (const w of this.waiters.splice(0)) w(); }
  _wait(ms) {
    return new Promise((resolve) => {
      const t = setTimeout(() => { this.waiters = this.waiters.filter((w) => w !== f); resolve(); }, ms);
      const f = () => { clearTimeout(t); resolve(); };
      this.waiters.push(f);
    });
  }
  write(data) {
    return new Promise((resolve) => {
      if (this.sock.destroyed) return resolve(false);
      this.sock.write(data, (e) => resolve(!e));
    });
  }
  /** The next complete response (or, once closed, whatever part of one arrived). */
  async response(timeoutMs = 10000) {
    const end = Date.now() + timeoutMs;
    for (;;) {
      const b = this._take();
      const r = parseResponse(b, this.closed);
      if (r) { this.buf = b.subarray(r.bytes); return r; }
      if (this.closed) {
        throw new Error(`the connection closed without a complete response (${b.length} bytes: ${JSON.stringify(b.subarray(0, 300).toString('latin1'))}${this.error ? `; ${this.error.code || this.error.message}` : ''})`);
      }
      const left = end - Date.now();
      if (left <= 0) throw new Error(`no response within ${timeoutMs} ms (${b.length} bytes so far)`);
      await this._wait(left);
    }
  }
  /** Resolves true once the peer closed, false after ms. */
  async waitClosed(ms) {
    const end = Date.now() + ms;
    while (!this.closed) {
      const left = end - Date.now();
      if (left <= 0) return false;
      await this._wait(left);
    }
    return true;
  }
  pending() { return this._take().length; }
  pause() { this.sock.pause(); }
  resume() { this.sock.resume(); }
  destroy() { this.sock.destroy(); }
}

/** The bytes of one request. headers: object or [[name, value]...]. */
export function reqBytes(port, { method = 'GET', path = '/', headers = {}, body = null, close = true, host = true } = {}) {
  let h = `${method} ${path} HTTP/1.1\r\n`;
  if (host) h += `Host: 127.0.0.1:${port}\r\n`;
  for (const [k, v] of Array.isArray(headers) ? headers : Object.entries(headers)) h += `${k}: ${v}\r\n`;
  if (body !== null && body !== undefined) h += `Content-Length: ${Buffer.byteLength(body)}\r\n`;
  if (close) h += 'Connection: close\r\n';
  h += '\r\n';
  const hb = Buffer.from(h, 'latin1');
  if (body === null || body === undefined) return hb;
  return Buffer.concat([hb, Buffer.isBuffer(body) ? body : Buffer.from(body)]);
}

/** One request on a fresh connection. */
export async function request(port, opts = {}, timeoutMs = 10000, { from } = {}) {
  const c = await Conn.open(port, { from });
  try {
    await c.write(reqBytes(port, opts));
    return await c.response(timeoutMs);
  } finally { c.destroy(); }
}

// ---------------------------------------------------------------------------------------------
// MCP requests (protocol version 2026-07-28: stateless, one POST per call)

export const PV = '2026-07-28';

export function rpcBody(tool, args = {}, meta = {}, id = 1) {
  return JSON.stringify({
    jsonrpc: '2.0', id, method: 'tools/call',
    params: { name: tool, arguments: args, _meta: { 'io.modelcontextprotocol/protocolVersion': PV, 'io.modelcontextprotocol/clientCapabilities': {}, ...meta } },
  });
}

export function mcpHeaders(tool, extra = {}) {
  return {
    'Content-Type': 'application/json', Accept: 'application/json, text/event-stream',
    'MCP-Protocol-Version': PV, 'Mcp-Method': 'tools/call', 'Mcp-Name': tool, ...extra,
  };
}

export const bearer = (t) => ({ Authorization: `Bearer ${t}` });

/** POST /mcp tools/call TOOL with these extra headers (credentials). */
export function callTool(port, tool, cred = {}, args = {}, opts = {}) {
  return request(port, { method: 'POST', path: '/mcp', headers: mcpHeaders(tool, cred), body: rpcBody(tool, args, opts.meta) }, opts.timeoutMs);
}

/** The text of a tool result's first content item. */
export function toolText(r) {
  let j;
  try { j = JSON.parse(r.body); } catch { throw new Error(`HTTP ${r.status}, body is not JSON: ${r.body.slice(0, 300)}`); }
  if (!j.result || !j.result.content) throw new Error(`HTTP ${r.status}, no result: ${r.body.slice(0, 300)}`);
  return j.result.content[0].text;
}

/** whoami's answer: {kind, principal, scope, email, tenant, iss}. */
export function who(r) {
  if (r.status !== 200) throw new Error(`HTTP ${r.status}: ${r.body.slice(0, 300)}`);
  return JSON.parse(toolText(r));
}

/** Expect a 401 with the exact challenge and body. why: the reason (invalid_token), or null for no credentials. */
export function expect401(r, base, why, noCredsWhy = 'no credentials (a bearer token is required)') {
  eq(r.status, 401, 'status');
  const meta = `Bearer resource_metadata="${base}/.well-known/oauth-protected-resource/mcp"`;
  if (why === null) {
    eq(r.headers['www-authenticate'], meta, 'WWW-Authenticate');
    eq(r.body, JSON.stringify({ error: `Unauthorized: ${noCredsWhy}` }), 'body');
  } else {
    eq(r.headers['www-authenticate'], `${meta}, error="invalid_token", error_description="${why}"`, 'WWW-Authenticate');
    eq(r.body, JSON.stringify({ error: `Unauthorized: ${why}` }), 'body');
  }
}
