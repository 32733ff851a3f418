// emulator.mjs: an AWS Lambda Runtime API (2018-06-01) emulator for testing custom runtimes.
//
// It implements the AWS side of the custom-runtime contract from the developer guide
// ("Using the Lambda runtime API for custom runtimes", "Response streaming"), not from any
// runtime's code:
//   GET  /2018-06-01/runtime/invocation/next          blocks until an event is queued (no timeout)
//   POST /2018-06-01/runtime/invocation/{id}/response  202; 413 above 6,291,556 bytes (buffered);
//                                                      streamed when Lambda-Runtime-Function-Response-Mode: streaming
//   POST /2018-06-01/runtime/invocation/{id}/error     202; records errorType/errorMessage
//   POST /2018-06-01/runtime/init/error                202; marks the init as failed
// Unknown request ids get 404, a second answer for one id gets 400, anything after a 413 gets 403.
//
// Module use:
//   import { RuntimeApiEmulator, spawnRuntime } from './emulator.mjs';
//   const emu = new RuntimeApiEmulator({ faults: { failNextAt: 3 } });
//   await emu.listen();                                  // emu.api is "127.0.0.1:PORT"
//   const rt = spawnRuntime('build/conformance', { api: emu.api });
//   const r = await emu.invoke({ jsonrpc: '2.0', id: 1, method: 'tools/list' });
//   // r.kind is 'response' | 'error' | 'stream' | 'timeout' | 'lost'
//   await rt.kill(); await emu.close();
//
// CLI (JSON events in, one JSON result per line out):
//   node test/lambda/emulator.mjs [--port N] [--stream] [-- BINARY [ARGS...]]  < events.jsonl
//   Each stdin line is one event (any JSON); with BINARY the runtime is started against the
//   emulator (MCP_LAMBDA_STREAMING=1 with --stream). Without BINARY it waits for a runtime
//   started by hand with AWS_LAMBDA_RUNTIME_API=127.0.0.1:PORT (printed on stderr).

import http from 'node:http';
import { spawn } from 'node:child_process';
import { randomUUID, randomBytes } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { readFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import readline from 'node:readline';

export const BUFFERED_LIMIT = 6291556;          // the emulator's limit for a buffered response
export const STREAMED_LIMIT = 200 * 1024 * 1024; // streamed responses
export const CHUNKED_EVENT_THRESHOLD = 1024;     // events above this go out chunked
export const PRELUDE_SEPARATOR = Buffer.alloc(8); // eight NUL bytes after the HTTP prelude
export const HTTP_INTEGRATION_CT = 'application/vnd.awslambda.http-integration-response';
export const ERROR_CT = 'application/vnd.aws.lambda.error+json';

const PREFIX = '/2018-06-01/runtime/';
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** An X-Ray trace header value: Root=1-<8 hex time>-<24 hex>;Parent=<16 hex>;Sampled=1 */
export function makeTraceId() {
  const t = Math.floor(Date.now() / 1000).toString(16).padStart(8, '0');
  return `Root=1-${t}-${randomBytes(12).toString('hex')};Parent=${randomBytes(8).toString('hex')};Sampled=1`;
}

/** Split a streamed response body into its JSON prelude and payload (null if no separator yet). */
export function splitPrelude(buf) {
  const i = buf.indexOf(PRELUDE_SEPARATOR);
  if (i < 0) return null;
  const text = buf.subarray(0, i).toString('utf8');
  let prelude;
  try { prelude = JSON.parse(text); } catch (e) { prelude = { invalid: true, text, error: String(e) }; }
  return { prelude, payload: buf.subarray(i + 8) };
}

function tryJson(buf) {
  try { return JSON.parse(buf.toString('utf8')); } catch { return undefined; }
}

/**
 * One queued or running invocation. Emits:
 *   'delivered' ()                       the event went out on a /next
 *   'stream'    ({headers})              a streamed POST /response began
 *   'data'      (Buffer)                 raw bytes of a streamed response body, as they arrive
 *   'result'    (result)                 the final result (also the resolution of .result)
 */
class Invocation extends EventEmitter {
  constructor(emu, seq, payload, opts) {
    super();
    this.emu = emu;
    this.seq = seq;
    this.id = opts.requestId || randomUUID();
    this.payload = payload;
    this.opts = opts;
    this.state = 'queued'; // queued | delivered | answering | answered | too-large | timeout | lost
    this.posts = [];
    this.queuedAt = Date.now();
    this.result = new Promise((resolve) => { this._resolve = resolve; });
    this.settled = false;
  }
  settle(result) {
    if (this.settled) return;
    this.settled = true;
    clearTimeout(this.timer);
    result.id = this.id;
    result.seq = this.seq;
    result.ms = Date.now() - (this.deliveredAt || this.queuedAt);
    this.final = result;
    this.emit('result', result);
    this._resolve(result);
  }
}

export class RuntimeApiEmulator extends EventEmitter {
  /**
   * opts.faults (all optional, may be changed later through emu.faults):
   *   failNextAt: N | [N..] | (n) => bool   answer the Nth GET /next (1-based) with 500
   *   dropNextAt: N | [..] | fn | 'all'      close the connection of the Nth /next without answering
   *   dropMidBodyAt: N | [..] | fn           deliver the Nth event's head and half its body, then close
   *   nextDelayMs: ms                        wait before answering each /next that has an event
   *   postDelayMs: ms                        wait before answering each POST
   *   trickle: {bytes, delayMs}             send event bodies in pieces of `bytes` with pauses
   *   force413At: N | [..] | fn              answer the Nth buffered POST /response with 413
   *   dropAfterPostAt: N | [..] | fn         accept the Nth answer (response or error), then close
   *                                          the connection without replying
   *   bufferedLimit: bytes                   default 6,291,556
   * opts.functionArn, opts.defaultTimeoutMs (30000), opts.chunkSize (event chunk size when chunked)
   */
  constructor(opts = {}) {
    super();
    this.faults = { ...(opts.faults || {}) };
    this.functionArn = opts.functionArn || 'arn:aws:lambda:us-east-1:123456789012:function:mcp-test';
    this.defaultTimeoutMs = opts.defaultTimeoutMs ?? 30000;
    this.chunkSize = opts.chunkSize ?? 700;
    this.recordBodies = opts.recordBodies ?? 4096; // bytes of each request body kept in the log
    this.queue = [];
    this.waiters = new Set(); // pending GET /next {req,res,n}
    this.invocations = new Map(); // id -> Invocation (delivered at least once)
    this.all = [];
    this.requests = []; // every request received, for assertions
    this.sockets = new Set();
    this.initError = null;
    this.seq = 0;
    this.bufferedPosts = 0;
    this.answerPosts = 0;
    this.stats = {
      nextCalls: 0, queued: 0, delivered: 0, responses: 0, errors: 0, streams: 0, initErrors: 0,
      answered: 0, resets: 0, tooLarge: 0, unknownId: 0, answeredTwice: 0, afterTooLarge: 0, badRequests: 0,
      lost: 0, afterLost: 0, timeouts: 0, maxConcurrentNext: 0,
    };
    this.server = http.createServer({ requestTimeout: 0, headersTimeout: 60000, keepAliveTimeout: 0, maxHeaderSize: 1 << 20 },
      (req, res) => this._handle(req, res));
    this.server.keepAliveTimeout = 0;     // 0: keep-alive connections are never closed for idleness
    this.server.requestTimeout = 0;
    this.server.timeout = 0;
    this.server.on('connection', (s) => {
      s.setNoDelay(true);
      this.sockets.add(s);
      s.on('close', () => this.sockets.delete(s));
    });
    this.server.on('clientError', (err, socket) => {
      if (err.code === 'ECONNRESET' || err.code === 'EPIPE') this.stats.resets++; // the runtime closed with data unread
      else this.stats.badRequests++;                                              // malformed HTTP (HPE_*)
      this.requests.push({ t: Date.now(), method: '?', path: '?', clientError: String(err.code || err) });
      if (socket.writable) socket.end('HTTP/1.1 400 Bad Request\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
    });
  }

  /** Start listening; resolves to the port. emu.api is then "HOST:PORT". */
  async listen(port = 0, host = '127.0.0.1') {
    await new Promise((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(port, host, () => { this.server.off('error', reject); resolve(); });
    });
    this.port = this.server.address().port;
    this.host = host;
    this.api = `${host}:${this.port}`;
    return this.port;
  }

  async close() {
    for (const inv of this.all) if (!inv.settled) inv.settle({ kind: 'lost', reason: 'emulator closed' });
    for (const s of this.sockets) s.destroy();
    await new Promise((r) => this.server.close(() => r()));
  }

  /** Queue an event. event: any JSON value, or a Buffer/Uint8Array of raw bytes sent as is.
   * opts: timeoutMs (function timeout, from delivery; also sets the deadline), deadlineMs
   * (absolute epoch ms), traceId (null: no header), clientContext, cognitoIdentity, tenantId,
   * requestId, functionArn, chunked (force true/false), headers (extra /next headers).
   * Returns the Invocation: await inv.result, or listen to its 'stream'/'data' events. */
  enqueue(event, opts = {}) {
    const payload = Buffer.isBuffer(event) ? event : event instanceof Uint8Array ? Buffer.from(event)
      : Buffer.from(JSON.stringify(event) ?? 'null');
    const inv = new Invocation(this, ++this.seq, payload, opts);
    this.all.push(inv);
    this.stats.queued++;
    if (this.initError) {
      inv.settle({ kind: 'error', initError: true, errorType: this.initError.errorType, errorMessage: this.initError.errorMessage });
      return inv;
    }
    this.queue.push(inv);
    this._pump();
    return inv;
  }

  /** Invoke and wait: resolves to {kind, body, text, json, headers, trailers, prelude, payload, ...}. */
  invoke(event, opts = {}) { return this.enqueue(event, opts).result; }

  /** Settle every delivered but unanswered invocation as an error (the runtime died or was killed). */
  failInFlight(errorType = 'Runtime.ExitError', errorMessage = 'the runtime exited') {
    for (const inv of this.all) {
      if (!inv.settled && (inv.state === 'delivered' || inv.state === 'answering')) {
        inv.state = 'lost';
        this.stats.lost++;
        inv.settle({ kind: 'error', errorType, errorMessage, lost: true });
      }
    }
  }

  /** Pending GET /next requests right now. */
  get waiting() { return this.waiters.size; }

  /** Resolves when at least n GET /next are waiting (the runtime is idle), or rejects after ms. */
  async waitForNext(n = 1, ms = 5000) {
    const end = Date.now() + ms;
    while (this.waiters.size < n) {
      if (Date.now() > end) throw new Error(`timed out waiting for ${n} GET /next (have ${this.waiters.size})`);
      await sleep(5);
    }
  }

  _fault(name, n) {
    const f = this.faults[name];
    if (f === undefined || f === null || f === false) return false;
    if (f === 'all' || f === true) return true;
    if (typeof f === 'number') return f === n;
    if (Array.isArray(f)) return f.includes(n);
    if (typeof f === 'function') return !!f(n);
    return false;
  }

  _record(req, extra) {
    const rec = { t: Date.now(), method: req.method, path: req.url, headers: { ...req.headers }, ...extra };
    this.requests.push(rec);
    this.emit('request', rec);
    return rec;
  }

  _reply(res, status, obj, headers = {}) {
    if (res.headersSent || res.destroyed) return;
    const body = obj === undefined ? '' : typeof obj === 'string' ? obj : JSON.stringify(obj);
    res.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body), ...headers });
    res.end(body);
  }

  async _handle(req, res) {
    const url = req.url.split('?')[0];
    if (!url.startsWith(PREFIX)) {
      this._record(req, { status: 404 });
      req.resume();
      return this._reply(res, 404, { errorMessage: 'Not found', errorType: 'InvalidPath' });
    }
    const rest = url.slice(PREFIX.length);
    if (rest === 'invocation/next') {
      if (req.method !== 'GET') { req.resume(); this._record(req, { status: 405 }); return this._reply(res, 405, { errorMessage: 'GET only' }); }
      return this._next(req, res);
    }
    let m;
    if ((m = /^invocation\/([^/]+)\/(response|error)$/.exec(rest))) {
      if (req.method !== 'POST') { req.resume(); this._record(req, { status: 405 }); return this._reply(res, 405, { errorMessage: 'POST only' }); }
      return this._post(req, res, decodeURIComponent(m[1]), m[2]);
    }
    if (rest === 'init/error') {
      if (req.method !== 'POST') { req.resume(); this._record(req, { status: 405 }); return this._reply(res, 405, { errorMessage: 'POST only' }); }
      return this._initError(req, res);
    }
    req.resume();
    this._record(req, { status: 404 });
    return this._reply(res, 404, { errorMessage: 'Not found', errorType: 'InvalidPath' });
  }

  _next(req, res) {
    const n = ++this.stats.nextCalls;
    const rec = this._record(req, { n, kind: 'next' });
    req.resume();
    if (this._fault('failNextAt', n)) {
      rec.status = 500;
      return this._reply(res, 500, { errorMessage: 'injected container error', errorType: 'Runtime.ContainerError' });
    }
    if (this._fault('dropNextAt', n)) {
      rec.status = 'dropped';
      return req.socket.destroy();
    }
    const w = { req, res, n, rec };
    this.waiters.add(w);
    this.stats.maxConcurrentNext = Math.max(this.stats.maxConcurrentNext, this.waiters.size);
    res.on('close', () => this.waiters.delete(w));
    this._pump();
  }

  _pump() {
    while (this.queue.length && this.waiters.size) {
      const w = this.waiters.values().next().value;
      this.waiters.delete(w);
      if (w.res.destroyed || !w.res.socket || w.res.socket.destroyed) continue; // gone: next waiter
      const inv = this.queue.shift();
      this._deliver(w, inv).catch((e) => this.emit('warning', e));
    }
  }

  async _deliver(w, inv) {
    const { res, n, rec } = w;
    const o = inv.opts;
    inv.state = 'delivered';
    inv.deliveredAt = Date.now();
    this.invocations.set(inv.id, inv);
    this.stats.delivered++;
    const timeoutMs = o.timeoutMs ?? this.defaultTimeoutMs;
    const deadline = o.deadlineMs ?? inv.deliveredAt + timeoutMs;
    inv.deadline = deadline;
    inv.traceId = o.traceId === undefined ? makeTraceId() : o.traceId;
    const h = {
      'Content-Type': 'application/json',
      'Lambda-Runtime-Aws-Request-Id': inv.id,
      'Lambda-Runtime-Deadline-Ms': String(deadline),
      'Lambda-Runtime-Invoked-Function-Arn': o.functionArn || this.functionArn,
    };
    if (inv.traceId) h['Lambda-Runtime-Trace-Id'] = inv.traceId;
    if (o.clientContext !== undefined) h['Lambda-Runtime-Client-Context'] = typeof o.clientContext === 'string' ? o.clientContext : JSON.stringify(o.clientContext);
    if (o.cognitoIdentity !== undefined) h['Lambda-Runtime-Cognito-Identity'] = typeof o.cognitoIdentity === 'string' ? o.cognitoIdentity : JSON.stringify(o.cognitoIdentity);
    if (o.tenantId !== undefined) h['Lambda-Runtime-Aws-Tenant-Id'] = o.tenantId;
    Object.assign(h, o.headers || {});
    const body = inv.payload;
    const chunked = o.chunked ?? body.length > CHUNKED_EVENT_THRESHOLD;
    rec.requestId = inv.id;
    rec.status = 200;
    rec.chunked = chunked;
    rec.eventBytes = body.length;
    inv.timer = setTimeout(() => {
      if (inv.settled) return;
      inv.state = 'timeout';
      this.stats.timeouts++;
      inv.settle({ kind: 'timeout', errorType: 'Sandbox.Timedout', errorMessage: `no answer within ${timeoutMs} ms` });
    }, Math.max(1, deadline - Date.now()));
    inv.emit('delivered');
    if (this.faults.nextDelayMs) await sleep(this.faults.nextDelayMs);
    if (this._fault('dropMidBodyAt', n)) {
      inv.state = 'lost';
      this.stats.lost++;
      rec.status = 'dropped-mid-body';
      const half = body.subarray(0, Math.max(1, body.length >> 1));
      if (chunked) { res.writeHead(200, h); res.write(half); }
      else { res.writeHead(200, { ...h, 'Content-Length': body.length }); res.write(half); }
      await sleep(20);
      res.socket?.destroy();
      inv.settle({ kind: 'lost', reason: 'connection dropped mid-body (injected)' });
      return;
    }
    if (chunked) res.writeHead(200, h);
    else res.writeHead(200, { ...h, 'Content-Length': body.length });
    const trickle = this.faults.trickle;
    const piece = trickle ? Math.max(1, trickle.bytes | 0) : chunked ? this.chunkSize : body.length;
    if (piece >= body.length && !chunked) return res.end(body);
    res.flushHeaders();
    for (let i = 0; i < body.length; i += piece) {
      if (res.destroyed) return;
      res.write(body.subarray(i, i + piece));
      if (trickle && trickle.delayMs) await sleep(trickle.delayMs);
    }
    res.end();
  }

  _post(req, res, id, what) {
    const inv = this.invocations.get(id);
    const rec = this._record(req, { kind: what, requestId: id });
    const streaming = what === 'response' && /^streaming$/i.test(req.headers['lambda-runtime-function-response-mode'] || '');
    rec.streaming = streaming;
    const chunks = [];
    let size = 0;
    let status = 202;
    let reject = null;
    if (!inv) { status = 404; reject = { errorMessage: `unknown request id ${id}`, errorType: 'InvalidRequestID' }; this.stats.unknownId++; }
    else if (inv.state === 'too-large') { status = 403; reject = { errorMessage: 'the response was already refused as too large', errorType: 'InvalidStateTransition' }; this.stats.afterTooLarge++; }
    else if (inv.state === 'lost') { status = 400; reject = { errorMessage: `invocation ${id} was lost`, errorType: 'InvalidStateTransition' }; this.stats.afterLost++; }
    else if (inv.state !== 'delivered' && inv.state !== 'timeout') {
      status = 400; reject = { errorMessage: `invocation ${id} was already answered`, errorType: 'InvalidStateTransition' }; this.stats.answeredTwice++;
    }
    if (!reject) inv.state = 'answering';
    if (!reject && streaming) {
      this.stats.streams++;
      inv.emit('stream', { headers: { ...req.headers } });
    }
    let tooLarge = false;
    req.on('data', (c) => {
      size += c.length;
      if (reject) return; // drained and dropped
      if (streaming) {
        if (size > STREAMED_LIMIT) { tooLarge = true; return; }
        chunks.push(c);
        inv.emit('data', c);
      } else if (what === 'response' && size > (this.faults.bufferedLimit ?? BUFFERED_LIMIT)) {
        tooLarge = true; // keep draining, keep nothing
      } else chunks.push(c);
    });
    req.on('error', () => {});
    req.on('aborted', () => { rec.aborted = true; });
    req.on('end', async () => {
      rec.bytes = size;
      const body = Buffer.concat(chunks);
      rec.body = body.subarray(0, this.recordBodies).toString('utf8');
      rec.trailers = { ...req.trailers };
      if (this.faults.postDelayMs) await sleep(this.faults.postDelayMs);
      if (reject) { rec.status = status; return this._reply(res, status, reject); }
      const nResp = what === 'response' && !streaming ? ++this.bufferedPosts : 0;
      if (nResp && (tooLarge || this._fault('force413At', nResp))) {
        inv.state = 'too-large';
        this.stats.tooLarge++;
        rec.status = 413;
        this._reply(res, 413, { errorMessage: `Response payload size (${size} bytes) exceeded maximum allowed payload size (${this.faults.bufferedLimit ?? BUFFERED_LIMIT} bytes).`, errorType: 'RequestEntityTooLarge' });
        inv.settle({ kind: 'error', errorType: 'Function.ResponseSizeTooLarge', errorMessage: 'Response payload size exceeded maximum allowed payload size', tooLarge: true, bytes: size, headers: { ...req.headers } });
        return;
      }
      const late = inv.state === 'timeout' || inv.settled;
      inv.state = 'answered';
      this.stats.answered++;
      rec.status = 202;
      if (this._fault('dropAfterPostAt', ++this.answerPosts)) { rec.status = 'accepted-then-dropped'; req.socket.destroy(); }
      else this._reply(res, 202, { status: 'OK' });
      const headers = { ...req.headers };
      if (what === 'error') {
        this.stats.errors++;
        const j = tryJson(body);
        const result = {
          kind: 'error', body, text: body.toString('utf8'), json: j, headers,
          errorType: headers['lambda-runtime-function-error-type'] || j?.errorType,
          errorMessage: j?.errorMessage, bodyErrorType: j?.errorType,
          contentTypeOk: (headers['content-type'] || '').toLowerCase().startsWith(ERROR_CT),
        };
        rec.errorType = result.errorType;
        if (!late) inv.settle(result); else rec.late = true;
        return;
      }
      this.stats.responses++;
      const result = { kind: streaming ? 'stream' : 'response', body, text: body.toString('utf8'), headers, trailers: { ...req.trailers }, bytes: size };
      if (streaming) {
        result.chunkedRequest = /chunked/i.test(headers['transfer-encoding'] || '');
        result.declaredTrailers = headers.trailer || '';
        result.tooLarge = tooLarge;
        if ((headers['content-type'] || '').toLowerCase().startsWith(HTTP_INTEGRATION_CT)) {
          const sp = splitPrelude(body);
          if (sp) { result.prelude = sp.prelude; result.payload = sp.payload; }
          else { result.prelude = null; result.payload = null; result.preludeMissing = true; }
        } else result.payload = body;
        const et = req.trailers['lambda-runtime-function-error-type'];
        const eb = req.trailers['lambda-runtime-function-error-body'];
        if (et || eb) {
          let decoded;
          try { decoded = JSON.parse(Buffer.from(eb || '', 'base64').toString('utf8')); } catch { decoded = undefined; }
          result.streamError = { errorType: et, body: eb, decoded };
        }
      } else result.json = tryJson(body);
      if (!late) inv.settle(result); else rec.late = true;
    });
  }

  _initError(req, res) {
    const rec = this._record(req, { kind: 'init-error' });
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      const j = tryJson(body);
      this.stats.initErrors++;
      this.initError = { errorType: req.headers['lambda-runtime-function-error-type'] || j?.errorType, errorMessage: j?.errorMessage, body: body.toString('utf8'), headers: { ...req.headers } };
      rec.status = 202;
      rec.body = body.toString('utf8');
      this._reply(res, 202, { status: 'OK' });
      // Lambda serves the init error to the invocations that were waiting for this sandbox
      for (const inv of this.queue.splice(0)) inv.settle({ kind: 'error', initError: true, errorType: this.initError.errorType, errorMessage: this.initError.errorMessage });
      this.emit('init-error', this.initError);
    });
  }
}

/**
 * Start a runtime binary against an emulator: env AWS_LAMBDA_RUNTIME_API=api plus the usual
 * reserved variables, the sanitizer options of this process (ASAN_OPTIONS, ...), plus opts.env
 * (opts.inheritEnv: the whole environment of this process). Returns {proc, pid, exited (Promise<{code, signal, ms}>),
 * stderr() (text so far), stdout(), alive(), kill(signal)}.
 */
export function spawnRuntime(binary, opts = {}) {
  const env = {
    PATH: process.env.PATH || '/usr/bin:/bin',
    AWS_LAMBDA_RUNTIME_API: opts.api,
    AWS_REGION: 'us-east-1',
    AWS_LAMBDA_FUNCTION_NAME: 'mcp-test',
    AWS_LAMBDA_FUNCTION_MEMORY_SIZE: '128',
    AWS_LAMBDA_FUNCTION_VERSION: '$LATEST',
    _HANDLER: 'bootstrap',
    LAMBDA_TASK_ROOT: process.cwd(),
    TZ: ':UTC',
    ...Object.fromEntries(Object.entries(process.env).filter(([k]) => /^(ASAN|UBSAN|LSAN|MSAN|TSAN)_OPTIONS$/.test(k))),
    ...(opts.inheritEnv ? process.env : {}),
    ...(opts.env || {}),
  };
  if (opts.api) env.AWS_LAMBDA_RUNTIME_API = opts.api;
  const started = Date.now();
  const proc = spawn(binary, opts.args || [], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let err = '', out = '';
  const maxLog = opts.maxLog ?? 1 << 20;
  proc.stderr.on('data', (d) => { if (err.length < maxLog) err += d; if (opts.echo) process.stderr.write(d); });
  proc.stdout.on('data', (d) => { if (out.length < maxLog) out += d; if (opts.echo) process.stderr.write(d); });
  let done = false;
  const exited = new Promise((resolve) => {
    proc.on('exit', (code, signal) => { done = true; resolve({ code, signal, ms: Date.now() - started }); });
    proc.on('error', (e) => { done = true; resolve({ code: null, signal: null, error: e, ms: Date.now() - started }); });
  });
  return {
    proc, pid: proc.pid, exited, started,
    stderr: () => err, stdout: () => out,
    alive: () => !done,
    async kill(signal = 'SIGKILL') { if (!done) proc.kill(signal); return exited; },
  };
}

/** Resident set size of a process in KB (Linux /proc/PID/status VmRSS), or null. */
export function rssKb(pid) {
  try {
    const m = /VmRSS:\s+(\d+)\s+kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) : null;
  } catch { return null; }
}

/** Resolve with `p`, or reject after ms with a message. */
export function within(p, ms, what = 'operation') {
  let t;
  return Promise.race([p, new Promise((_, rej) => { t = setTimeout(() => rej(new Error(`${what} timed out after ${ms} ms`)), ms); })])
    .finally(() => clearTimeout(t));
}

// ---------------------------------------------------------------------------------------------
// CLI
async function main(argv) {
  let port = 0, stream = false, binary = null, args = [], timeoutMs = 30000;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--port') port = Number(argv[++i]);
    else if (a === '--stream') stream = true;
    else if (a === '--timeout') timeoutMs = Number(argv[++i]) * 1000;
    else if (a === '--') { binary = argv[i + 1]; args = argv.slice(i + 2); break; }
    else if (a === '-h' || a === '--help') {
      process.stdout.write('usage: node emulator.mjs [--port N] [--stream] [--timeout SEC] [-- BINARY [ARGS...]] < events.jsonl\n');
      return 0;
    } else { process.stderr.write(`emulator: unknown option ${a}\n`); return 2; }
  }
  const emu = new RuntimeApiEmulator({ defaultTimeoutMs: timeoutMs });
  await emu.listen(port);
  process.stderr.write(`emulator: AWS_LAMBDA_RUNTIME_API=${emu.api}\n`);
  let rt = null;
  if (binary) {
    rt = spawnRuntime(binary, { api: emu.api, args, env: stream ? { MCP_LAMBDA_STREAMING: '1' } : {}, echo: true });
    rt.exited.then((e) => process.stderr.write(`emulator: runtime exited ${JSON.stringify(e)}\n`));
  }
  const rl = readline.createInterface({ input: process.stdin });
  const pending = [];
  for await (const line of rl) {
    if (!line.trim()) continue;
    let ev;
    try { ev = JSON.parse(line); } catch { ev = Buffer.from(line); }
    const r = await emu.invoke(ev);
    const out = { id: r.id, kind: r.kind, ms: r.ms };
    if (r.kind === 'response') out.result = r.json ?? r.text;
    if (r.kind === 'stream') { out.prelude = r.prelude; out.payload = r.payload?.toString('utf8'); if (r.streamError) out.streamError = r.streamError; }
    if (r.kind === 'error' || r.kind === 'timeout') { out.errorType = r.errorType; out.errorMessage = r.errorMessage; }
    process.stdout.write(JSON.stringify(out) + '\n');
  }
  await Promise.all(pending);
  if (rt) await rt.kill('SIGTERM');
  await emu.close();
  process.stderr.write(`emulator: ${JSON.stringify(emu.stats)}\n`);
  return 0;
}

if (import.meta.url === pathToFileURL(process.argv[1] || '').href) {
  main(process.argv.slice(2)).then((c) => process.exit(c), (e) => { console.error(e); process.exit(1); });
}
