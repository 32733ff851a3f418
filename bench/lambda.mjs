// lambda.mjs: the benchmark's runtime measurements (sections 1-3 of bench/run.sh).
//
//   node bench/lambda.mjs --mode quick|full --mcp BINARY --peer BOOTSTRAP --launch LAUNCHER
//        --records FILE [--work DIR] [--only same,cold,callgrind,profile,warm,rss,serve]
//        [--peer-callgrind] [--syms UNSTRIPPED_BINARY]
//
// Appends one JSON record per measured figure to FILE (report.mjs turns them into the table):
//   {sec, key, label, unit, a: {name, samples}, b: {name, samples} | null, note}
// Both servers run under the Runtime API emulator of test/lambda/emulator.mjs (reused, not
// copied) and get the same events, built by test/lambda/gateway.mjs's buildEvent as function
// URL (payload 2.0) events. Runs of the two servers are interleaved so that drift of the
// machine hits both alike.
//
// Cold start: LAUNCHER (bench/launch.c) reads CLOCK_MONOTONIC just before execve and hands it
// over on fd 3; this process takes process.hrtime.bigint() (also CLOCK_MONOTONIC) when the
// runtime's first GET /next arrives (the emulator's 'request' event) and when the answer to
// the event queued before the start has been received in full (the invocation's 'result').

import { spawn } from 'node:child_process';
import { once } from 'node:events';
import fs from 'node:fs';
import path from 'node:path';
import net from 'node:net';
import { fileURLToPath, pathToFileURL } from 'node:url';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const ROOT = path.resolve(HERE, '..');
const { RuntimeApiEmulator } = await import(pathToFileURL(path.join(ROOT, 'test/lambda/emulator.mjs')).href);
const { buildEvent } = await import(pathToFileURL(path.join(ROOT, 'test/lambda/gateway.mjs')).href);

// ---------------------------------------------------------------------------------------------
// options
const opt = { mode: 'quick', only: null, peerCallgrind: false, work: path.join(HERE, 'out') };
for (let i = 2; i < process.argv.length; i++) {
  const a = process.argv[i], v = () => process.argv[++i];
  if (a === '--mode') opt.mode = v();
  else if (a === '--mcp') opt.mcp = path.resolve(v());
  else if (a === '--peer') opt.peer = path.resolve(v());
  else if (a === '--launch') opt.launch = path.resolve(v());
  else if (a === '--records') opt.records = path.resolve(v());
  else if (a === '--work') opt.work = path.resolve(v());
  else if (a === '--only') opt.only = new Set(v().split(','));
  else if (a === '--peer-callgrind') opt.peerCallgrind = true;
  else if (a === '--syms') opt.syms = path.resolve(v());
  else { console.error(`lambda.mjs: unknown option ${a}`); process.exit(2); }
}
for (const k of ['mcp', 'peer', 'launch', 'records']) if (!opt[k]) { console.error(`lambda.mjs: --${k} is required`); process.exit(2); }
const FULL = opt.mode === 'full';
const CFG = FULL
  ? { cold: 100, warmup: 300, batches: 10, batch: 300, rssN: 10000, rssReps: 3, cgReps: 3, wrkSec: 10, wrkReps: 5, wrkConns: 8 }
  : { cold: 10, warmup: 50, batches: 5, batch: 40, rssN: 1000, rssReps: 3, cgReps: 3, wrkSec: 2, wrkReps: 3, wrkConns: 8 };
const want = (s) => !opt.only || opt.only.has(s);
fs.mkdirSync(opt.work, { recursive: true });
const NODE = process.execPath;
const PEER_INDEX = path.join(path.dirname(opt.peer), 'index.mjs');
const PEER_SERVE = path.join(path.dirname(opt.peer), 'serve.mjs');
const A = 'mcp.c', B = 'SDK peer';

const log = (...m) => console.error('  bench:', ...m);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const now = () => process.hrtime.bigint();
const ms = (d) => Number(d) / 1e6;
function record(r) { fs.appendFileSync(opt.records, JSON.stringify(r) + '\n'); }
function fail(msg) { throw new Error(msg); }
function within(p, t, what) {
  let h;
  return Promise.race([p, new Promise((_, rej) => { h = setTimeout(() => rej(new Error(`${what}: no answer within ${t} ms`)), t); })])
    .finally(() => clearTimeout(h));
}

// ---------------------------------------------------------------------------------------------
// events
const V26 = '2026-07-28', V25 = '2025-11-25';
const META = { 'io.modelcontextprotocol/protocolVersion': V26, 'io.modelcontextprotocol/clientCapabilities': {} };
const URL_HOST = 'abcdefghijklmnopqrstuvwxyz012345.lambda-url.us-east-1.on.aws';
function urlEvent(message, extra = []) {
  return buildEvent('url', {
    method: 'POST', path: '/mcp',
    headers: [
      ['host', URL_HOST], ['content-type', 'application/json'], ['accept', 'application/json, text/event-stream'],
      ['user-agent', 'mcp-bench/1.0'], ['x-forwarded-for', '203.0.113.7'], ['x-forwarded-proto', 'https'],
      ['x-forwarded-port', '443'], ['x-amzn-trace-id', 'Root=1-67891233-abcdef012345678912345678'], ...extra,
    ],
    body: Buffer.from(JSON.stringify(message)),
  });
}
const MSG = {
  initialize: { jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: V25, capabilities: {}, clientInfo: { name: 'mcp-bench', version: '1.0.0' } } },
  initialized: { jsonrpc: '2.0', method: 'notifications/initialized' },
  discover: { jsonrpc: '2.0', id: 1, method: 'server/discover', params: { _meta: META } },
  list: { jsonrpc: '2.0', id: 2, method: 'tools/list', params: {} },
  call: { jsonrpc: '2.0', id: 3, method: 'tools/call', params: { name: 'add', arguments: { a: 2, b: 3 } } },
};
const EV = {
  initialize: () => urlEvent(MSG.initialize),
  discover: () => urlEvent(MSG.discover, [['mcp-protocol-version', V26], ['mcp-method', 'server/discover']]),
  // 2025-11-25 requests after initialize: the session id mcp.c gave out (on Lambda it names
  // its era and needs no table, so any sandbox accepts it); the SDK peer is stateless and
  // ignores it.
  initialized: (sid) => urlEvent(MSG.initialized, [['mcp-protocol-version', V25], ['mcp-session-id', sid]]),
  list: (sid) => urlEvent(MSG.list, [['mcp-protocol-version', V25], ['mcp-session-id', sid]]),
  call: (sid) => urlEvent(MSG.call, [['mcp-protocol-version', V25], ['mcp-session-id', sid]]),
};

/** The function URL answer to an invocation, checked: {status, headers, body (parsed)}. */
function answer(r, what) {
  if (r.kind !== 'response') fail(`${what}: the invocation ended as ${r.kind} ${r.errorType || ''} ${r.errorMessage || ''}`);
  const env = r.json;
  if (!env || typeof env.statusCode !== 'number') fail(`${what}: not a function URL result: ${r.text.slice(0, 300)}`);
  let body = null;
  if (env.body) { try { body = JSON.parse(env.isBase64Encoded ? Buffer.from(env.body, 'base64').toString() : env.body); } catch { body = env.body; } }
  return { status: env.statusCode, headers: env.headers || {}, body };
}
const CHECK = {
  initialize: (a, w) => { if (a.status !== 200 || a.body?.result?.serverInfo?.name !== 'hello') fail(`${w}: initialize answered ${a.status} ${JSON.stringify(a.body).slice(0, 300)}`); },
  discover: (a, w) => { if (a.status !== 200 || !a.body?.result?.supportedVersions?.includes(V26)) fail(`${w}: server/discover answered ${a.status} ${JSON.stringify(a.body).slice(0, 300)}`); },
  initialized: (a, w) => { if (a.status !== 202) fail(`${w}: notifications/initialized answered ${a.status}`); },
  list: (a, w) => { const t = a.body?.result?.tools?.map((x) => x.name).join(','); if (a.status !== 200 || t !== 'add,greet') fail(`${w}: tools/list answered ${a.status} ${JSON.stringify(a.body).slice(0, 300)}`); },
  call: (a, w) => { if (a.status !== 200 || a.body?.result?.content?.[0]?.text !== '5') fail(`${w}: tools/call add answered ${a.status} ${JSON.stringify(a.body).slice(0, 300)}`); },
};

// ---------------------------------------------------------------------------------------------
// runtimes
function runtimeEnv(api) {
  return {
    PATH: process.env.PATH || '/usr/bin:/bin', // the peer's bootstrap finds node on PATH
    AWS_LAMBDA_RUNTIME_API: api, AWS_REGION: 'us-east-1', AWS_DEFAULT_REGION: 'us-east-1',
    AWS_LAMBDA_FUNCTION_NAME: 'mcp-bench', AWS_LAMBDA_FUNCTION_MEMORY_SIZE: '128', AWS_LAMBDA_FUNCTION_VERSION: '$LATEST',
    AWS_LAMBDA_LOG_GROUP_NAME: '/aws/lambda/mcp-bench', AWS_LAMBDA_LOG_STREAM_NAME: '2026/01/01/[$LATEST]0123456789abcdef',
    _HANDLER: 'bootstrap', LAMBDA_TASK_ROOT: opt.work, LAMBDA_RUNTIME_DIR: opt.work, TZ: ':UTC', LANG: 'en_US.UTF-8',
  };
}
const IMPL = {
  [A]: { argv: [opt.mcp], cg: [opt.mcp] },
  [B]: { argv: [opt.peer], cg: [NODE, PEER_INDEX] }, // callgrind does not follow the sh exec: run node itself
};

/** A process whose stdout goes to /dev/null (EMF lines, like any log) and stderr is kept. */
function startProc(argv, env, extraFd) {
  const stdio = ['ignore', 'ignore', 'pipe'];
  if (extraFd) stdio.push('pipe');
  const proc = spawn(argv[0], argv.slice(1), { env, stdio });
  let err = '';
  proc.stderr.on('data', (d) => { if (err.length < 65536) err += d; });
  const exited = new Promise((res) => { proc.on('exit', (code, signal) => res({ code, signal })); proc.on('error', (e) => res({ error: e })); });
  let done = false;
  exited.then(() => { done = true; });
  return { proc, exited, stderr: () => err, async kill() { if (!done) proc.kill('SIGKILL'); return exited; } };
}

/** One cold start: a fresh emulator with `event` queued, the runtime started through the launcher. */
async function coldStart(impl, evName) {
  const emu = new RuntimeApiEmulator({ defaultTimeoutMs: 60000 });
  await emu.listen();
  let tNext = null, tAns = null;
  emu.on('request', (rec) => { if (rec.kind === 'next' && tNext === null) tNext = now(); });
  const inv = emu.enqueue(EV[evName]());
  inv.on('result', () => { tAns = now(); });
  const t0 = now();
  const p = startProc([opt.launch, ...IMPL[impl].argv], runtimeEnv(emu.api), true);
  let stamp = '';
  p.proc.stdio[3].on('data', (d) => { stamp += d; });
  const stampDone = once(p.proc.stdio[3], 'close');
  try {
    const r = await within(inv.result, 30000, `${impl} cold start`).catch((e) => fail(`${e.message}; stderr: ${p.stderr().slice(-400)}`));
    await within(stampDone, 5000, 'launcher stamp');
    const tExec = BigInt(stamp.trim() || '0');
    if (!(t0 < tExec && tExec < tNext && tNext <= tAns)) fail(`${impl}: clocks out of order (spawn ${t0}, exec ${tExec}, /next ${tNext}, answer ${tAns})`);
    CHECK[evName](answer(r, `${impl} cold ${evName}`), `${impl} cold ${evName}`);
    return { next: ms(tNext - tExec), answer: ms(tAns - tExec) };
  } finally {
    await p.kill();
    await emu.close();
  }
}

/** A warm runtime: started, initialized; .invoke(name) runs one checked invocation. */
async function warmRuntime(impl, argv = IMPL[impl].argv, emuOpts = {}) {
  const emu = new RuntimeApiEmulator({ defaultTimeoutMs: 60000, ...emuOpts });
  await emu.listen();
  const p = startProc(argv, runtimeEnv(emu.api));
  const rt = { impl, emu, p, sid: null };
  rt.invoke = async (name) => {
    const r = await within(emu.invoke(EV[name](rt.sid)), 60000, `${impl} ${name}`).catch((e) => fail(`${e.message}; stderr: ${p.stderr().slice(-400)}`));
    const a = answer(r, `${impl} ${name}`);
    CHECK[name](a, `${impl} ${name}`);
    return a;
  };
  rt.close = async () => { await p.kill(); await emu.close(); };
  try {
    await within(emu.waitForNext(1, 30000), 31000, `${impl} first /next`);
    const a = await rt.invoke('initialize');
    rt.sid = a.headers['Mcp-Session-Id'] || a.headers['mcp-session-id'] || SID;
    await rt.invoke('initialized');
  } catch (e) { await rt.close(); throw e; }
  return rt;
}

function vm(pid, field) {
  const m = new RegExp(`${field}:\\s+(\\d+) kB`).exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) : NaN;
}

let SID = 'e3-00000000000000000000000000000000';

// ---------------------------------------------------------------------------------------------
// 1. cold start
async function sectionCold() {
  const res = { [A]: { next: [], init: [], disc: [] }, [B]: { next: [], init: [] } };
  // one untimed start of each first (page cache, the emulator's own code paths)
  await coldStart(A, 'initialize'); await coldStart(B, 'initialize');
  for (let i = 0; i < CFG.cold; i++) {
    for (const impl of i % 2 ? [B, A] : [A, B]) {
      const r = await coldStart(impl, 'initialize');
      res[impl].next.push(r.next);
      res[impl].init.push(r.answer);
    }
    const d = await coldStart(A, 'discover');
    res[A].disc.push(d.answer);
    res[A].next.push(d.next);
  }
  const n = CFG.cold;
  record({ sec: 1, order: 1, key: 'cold.next', label: 'cold start: exec → first GET /next', unit: 'ms', a: { name: A, samples: res[A].next }, b: { name: B, samples: res[B].next },
    note: `launcher stamp → emulator arrival; mcp.c pooled over its initialize and discover starts (${2 * n})` });
  record({ sec: 1, order: 2, key: 'cold.init', label: 'cold start: exec → initialize answered (function URL event)', unit: 'ms', a: { name: A, samples: res[A].init }, b: { name: B, samples: res[B].init },
    note: 'event queued before exec; answer received in full' });
  record({ sec: 1, order: 3, key: 'cold.discover', label: `cold start: exec → server/discover answered (${V26})`, unit: 'ms', a: { name: A, samples: res[A].disc }, b: null,
    note: 'peer n/a: SDK 1.32.2 answers 400 "Unsupported protocol version: 2026-07-28"' });
}

// ---------------------------------------------------------------------------------------------
// callgrind: instructions to the first /next, and per invocation ((11 - 1) / 10)
function callgrindTotal(file) {
  const t = fs.readFileSync(file, 'utf8');
  const m = /^(?:totals|summary):\s*(\d+)/m.exec(t);
  if (!m) fail(`no totals in ${file}`);
  return Number(m[1]);
}

/** Run argv under callgrind with `events` queued; the /next after them answers 500 and the runtime exits. */
async function callgrindRun(impl, events, tag, argv = IMPL[impl].cg) {
  const out = path.join(opt.work, `callgrind.${impl === A ? 'mcp' : 'peer'}.${tag}.out`);
  fs.rmSync(out, { force: true });
  const emu = new RuntimeApiEmulator({ defaultTimeoutMs: 600000, faults: { failNextAt: events.length + 1 } });
  await emu.listen();
  const invs = events.map(([name, ev]) => [name, emu.enqueue(ev)]);
  const p = startProc(['valgrind', '--tool=callgrind', `--callgrind-out-file=${out}`, ...argv], runtimeEnv(emu.api));
  try {
    const ex = await within(p.exited, 900000, `${impl} under callgrind`);
    for (const [name, inv] of invs) {
      if (!inv.settled) fail(`${impl} under callgrind: ${name} not answered; stderr: ${p.stderr().slice(-600)}`);
      CHECK[name](answer(inv.final, `${impl} ${name} (callgrind)`), `${impl} ${name} (callgrind)`);
    }
    if (ex.code !== 1) fail(`${impl} under callgrind: exit ${JSON.stringify(ex)} after the 500, wanted 1; stderr: ${p.stderr().slice(-600)}`);
    return callgrindTotal(out);
  } finally { await p.kill(); await emu.close(); }
}

/** Run argv under callgrind until its first GET /next arrives, then stop it with SIGUSR2 (a
 * signal neither runtime handles: the process ends where it stands, blocked reading the
 * answer, and callgrind writes its totals). Counts exec → the first GET /next written, no more. */
async function callgrindToNext(impl, tag, argv = IMPL[impl].cg) {
  const out = path.join(opt.work, `callgrind.${impl === A ? 'mcp' : 'peer'}.${tag}.out`);
  fs.rmSync(out, { force: true });
  const emu = new RuntimeApiEmulator({ defaultTimeoutMs: 600000 });
  await emu.listen();
  const p = startProc(['valgrind', '--tool=callgrind', `--callgrind-out-file=${out}`, ...argv], runtimeEnv(emu.api));
  emu.on('request', (rec) => { if (rec.kind === 'next') p.proc.kill('SIGUSR2'); });
  try {
    const ex = await within(p.exited, 900000, `${impl} under callgrind`);
    if (emu.stats.nextCalls !== 1 || ex.signal !== 'SIGUSR2') fail(`${impl} under callgrind: ${emu.stats.nextCalls} GET /next, ended ${JSON.stringify(ex)}, wanted one GET and SIGUSR2; stderr: ${p.stderr().slice(-600)}`);
    return callgrindTotal(out);
  } finally { await p.kill(); await emu.close(); }
}

async function sectionCallgrind() {
  const impls = opt.peerCallgrind ? [A, B] : [A];
  const start = { [A]: [], [B]: [] }, per = { list: { [A]: [], [B]: [] }, call: { [A]: [], [B]: [] } };
  const evs = (name, k) => [['initialize', EV.initialize()], ['initialized', EV.initialized(SID)], ...Array.from({ length: k }, () => [name, EV[name](SID)])];
  for (const impl of impls) {
    for (let r = 0; r < CFG.cgReps; r++) {
      log(`callgrind ${impl} run ${r + 1}/${CFG.cgReps}`);
      start[impl].push(await callgrindToNext(impl, `start.${r}`));
      for (const name of ['list', 'call']) {
        const one = await callgrindRun(impl, evs(name, 1), `${name}1.${r}`);
        const eleven = await callgrindRun(impl, evs(name, 11), `${name}11.${r}`);
        per[name][impl].push((eleven - one) / 10);
      }
    }
  }
  const peerNote = opt.peerCallgrind ? 'peer: node itself under callgrind (all threads: JIT, GC)' : 'peer n/a in quick mode (node under callgrind takes ~10 s a run; --full measures it). perf stat -e instructions: <not supported> here (no PMU in this VM)';
  const b = (s) => (opt.peerCallgrind ? { name: B, samples: s } : null);
  record({ sec: 1, order: 4, key: 'cg.start', label: 'cold start: instructions exec → first GET /next (callgrind)', unit: 'instr', a: { name: A, samples: start[A] }, b: b(start[B]),
    note: `to the GET written: the process is stopped there by a signal it does not handle; ${peerNote}` });
  record({ sec: 2, order: 4.5, key: 'cg.list', label: 'warm: instructions per tools/list invocation (callgrind, (11 − 1)/10)', unit: 'instr', a: { name: A, samples: per.list[A] }, b: b(per.list[B]), note: 'whole process: Runtime API HTTP, event parse, MCP, response' });
  record({ sec: 2, order: 4.6, key: 'cg.call', label: 'warm: instructions per tools/call add invocation (callgrind, (11 − 1)/10)', unit: 'instr', a: { name: A, samples: per.call[A] }, b: b(per.call[B]), note: '' });
}

/** Where the instructions go: the unstripped build (same code) with 100 tools/call after
 * initialize, under callgrind; run.sh annotates the output file. */
async function sectionProfile() {
  if (!opt.syms) return;
  const evs = [['initialize', EV.initialize()], ['initialized', EV.initialized(SID)], ...Array.from({ length: 100 }, () => ['call', EV.call(SID)])];
  await callgrindRun(A, evs, 'profile', [opt.syms]);
  await callgrindToNext(A, 'profile-start', [opt.syms]);
}

// ---------------------------------------------------------------------------------------------
// 2. warm latency and invocations per second, interleaved batches
async function sectionWarm() {
  const rts = { [A]: await warmRuntime(A), [B]: await warmRuntime(B) };
  try {
    const lat = { list: { [A]: [], [B]: [] }, call: { [A]: [], [B]: [] } };
    const rate = { list: { [A]: [], [B]: [] }, call: { [A]: [], [B]: [] } };
    for (const impl of [A, B]) for (let i = 0; i < CFG.warmup; i++) await rts[impl].invoke(i % 2 ? 'call' : 'list');
    for (let b = 0; b < CFG.batches; b++) {
      for (const name of ['list', 'call']) {
        for (const impl of b % 2 ? [B, A] : [A, B]) {
          const rt = rts[impl];
          const t0 = now();
          for (let i = 0; i < CFG.batch; i++) {
            const t = now();
            await rt.invoke(name);
            lat[name][impl].push(ms(now() - t));
          }
          rate[name][impl].push(CFG.batch / (ms(now() - t0) / 1000));
        }
      }
    }
    const n = `${CFG.batches} batches of ${CFG.batch} sequential invocations after ${CFG.warmup} warm-up`;
    for (const [name, what] of [['list', 'tools/list'], ['call', 'tools/call add']]) {
      record({ sec: 2, order: name === 'list' ? 1 : 3, key: `warm.lat.${name}`, label: `warm: ${what} latency through the emulator`, unit: 'ms', a: { name: A, samples: lat[name][A] }, b: { name: B, samples: lat[name][B] },
        note: `each invocation: queued → answer received; ${n}` });
      record({ sec: 2, order: name === 'list' ? 2 : 4, key: `warm.rate.${name}`, label: `warm: ${what} invocations/s (one runtime, sequential)`, unit: 'inv/s', higher: true, a: { name: A, samples: rate[name][A] }, b: { name: B, samples: rate[name][B] },
        note: 'per batch; bounded by the Node emulator too' });
    }
  } finally { await rts[A].close(); await rts[B].close(); }
}

// ---------------------------------------------------------------------------------------------
// 2/3. memory: VmHWM at the first /next, and after N tools/call invocations
async function sectionRss() {
  const init = { [A]: [], [B]: [] }, after = { [A]: [], [B]: [] };
  for (let r = 0; r < CFG.rssReps; r++) {
    for (const impl of [A, B]) {
      const emu = new RuntimeApiEmulator({ defaultTimeoutMs: 60000 });
      await emu.listen();
      const p = startProc(IMPL[impl].argv, runtimeEnv(emu.api));
      try {
        await within(emu.waitForNext(1, 30000), 31000, `${impl} first /next`);
        init[impl].push(vm(p.proc.pid, 'VmHWM'));
        const ev = EV.call(SID);
        for (let i = 0; i < CFG.rssN; i++) {
          const res = await emu.invoke(ev);
          if (i === 0 || i === CFG.rssN - 1) CHECK.call(answer(res, `${impl} rss`), `${impl} rss`);
          else if (res.kind !== 'response') fail(`${impl} rss: invocation ${i} ended as ${res.kind}`);
        }
        after[impl].push(vm(p.proc.pid, 'VmHWM'));
      } finally { await p.kill(); await emu.close(); }
    }
  }
  record({ sec: 2, order: 7, key: 'rss.init', label: 'memory: peak RSS (VmHWM) at the first GET /next', unit: 'KB', a: { name: A, samples: init[A] }, b: { name: B, samples: init[B] }, note: '/proc/PID/status' });
  record({ sec: 2, order: 8, key: 'rss.after', label: `memory: peak RSS (VmHWM) after ${CFG.rssN.toLocaleString('en')} tools/call invocations`, unit: 'KB', a: { name: A, samples: after[A] }, b: { name: B, samples: after[B] }, note: `${CFG.rssReps} fresh runtimes each` });
}

// ---------------------------------------------------------------------------------------------
// serve under wrk
function freePort() {
  return new Promise((res, rej) => { const s = net.createServer(); s.listen(0, '127.0.0.1', () => { const p = s.address().port; s.close(() => res(p)); }); s.on('error', rej); });
}
async function httpPost(url, body, headers) {
  const r = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream', ...headers }, body: JSON.stringify(body) });
  return { status: r.status, headers: r.headers, text: await r.text() };
}
async function startServe(impl) {
  const port = await freePort();
  const listen = `127.0.0.1:${port}`;
  const argv = impl === A ? [opt.mcp, 'serve', '--listen', listen] : [NODE, PEER_SERVE, '--listen', listen];
  const p = startProc(argv, { PATH: process.env.PATH, HOME: process.env.HOME || '/tmp' });
  const url = `http://${listen}/mcp`;
  const end = Date.now() + 20000;
  for (;;) {
    try { await httpPost(url, MSG.initialize, {}); break; } catch (e) {
      if (Date.now() > end) { await p.kill(); fail(`${impl} serve did not come up: ${e.message}; ${p.stderr().slice(-400)}`); }
      await sleep(50);
    }
  }
  const init = await httpPost(url, MSG.initialize, {});
  if (init.status !== 200) fail(`${impl} serve: initialize answered ${init.status} ${init.text}`);
  const sid = init.headers.get('mcp-session-id') || '';
  const h = { 'mcp-protocol-version': V25, ...(sid ? { 'mcp-session-id': sid } : {}) };
  const ni = await httpPost(url, MSG.initialized, h);
  if (ni.status !== 202) fail(`${impl} serve: notifications/initialized answered ${ni.status}`);
  const c = await httpPost(url, MSG.call, h);
  if (c.status !== 200 || JSON.parse(c.text)?.result?.content?.[0]?.text !== '5') fail(`${impl} serve: tools/call answered ${c.status} ${c.text}`);
  return { p, url, sid };
}
function runWrk(url, sid, seconds) {
  return new Promise((resolve, reject) => {
    const args = ['-t1', `-c${CFG.wrkConns}`, `-d${seconds}s`, '--timeout', '5s', '-s', path.join(HERE, 'wrk-post.lua'), url];
    const w = spawn('wrk', args, { env: { ...process.env, MCP_SESSION: sid }, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '', err = '';
    w.stdout.on('data', (d) => { out += d; });
    w.stderr.on('data', (d) => { err += d; });
    w.on('exit', (code) => {
      const m = /^WRK_JSON (.*)$/m.exec(out);
      if (code !== 0 || !m) return reject(new Error(`wrk exited ${code}: ${out}${err}`));
      resolve(JSON.parse(m[1]));
    });
  });
}
async function sectionServe() {
  const res = { [A]: { rps: [], p50: [], p99: [] }, [B]: { rps: [], p50: [], p99: [] } };
  const srv = { [A]: await startServe(A), [B]: await startServe(B) };
  try {
    for (const impl of [A, B]) await runWrk(srv[impl].url, srv[impl].sid, 1); // warm-up
    for (let r = 0; r < CFG.wrkReps; r++) {
      for (const impl of r % 2 ? [B, A] : [A, B]) {
        const w = await runWrk(srv[impl].url, srv[impl].sid, CFG.wrkSec);
        const errs = w.connect + w.read + w.write + w.status + w.timeout;
        if (errs || !w.requests) fail(`${impl} serve under wrk: ${w.requests} requests, errors ${JSON.stringify(w)}`);
        res[impl].rps.push(w.requests / (w.duration_us / 1e6));
        res[impl].p50.push(w.p50_us / 1000);
        res[impl].p99.push(w.p99_us / 1000);
      }
    }
  } finally { await srv[A].p.kill(); await srv[B].p.kill(); }
  const how = `wrk -t1 -c${CFG.wrkConns} -d${CFG.wrkSec}s, keep-alive, POST tools/call add; ${CFG.wrkReps} runs, 0 errors each`;
  record({ sec: 2, order: 9, key: 'serve.rps', label: 'serve: tools/call requests/s (Streamable HTTP, wrk)', unit: 'req/s', higher: true, a: { name: A, samples: res[A].rps }, b: { name: B, samples: res[B].rps }, note: `${how}; peer: SDK Express app, stateless` });
  record({ sec: 2, order: 10, key: 'serve.p50', label: 'serve: tools/call latency p50 (wrk)', unit: 'ms', a: { name: A, samples: res[A].p50 }, b: { name: B, samples: res[B].p50 }, note: '' });
  record({ sec: 2, order: 11, key: 'serve.p99', label: 'serve: tools/call latency p99 (wrk)', unit: 'ms', a: { name: A, samples: res[A].p99 }, b: { name: B, samples: res[B].p99 }, note: '' });
}

// ---------------------------------------------------------------------------------------------
// same answers: the peer is the same server
async function sectionSame() {
  const rts = { [A]: await warmRuntime(A), [B]: await warmRuntime(B) };
  const reqs = [
    { method: 'tools/call', params: { name: 'add', arguments: { a: 2, b: 3 } } },
    { method: 'tools/call', params: { name: 'add', arguments: { a: 0.1, b: 0.2 } } },
    { method: 'tools/call', params: { name: 'add', arguments: { a: 1234567, b: 1 } } },
    { method: 'tools/call', params: { name: 'add', arguments: { a: 1e-7, b: 0 } } },
    { method: 'tools/call', params: { name: 'greet', arguments: { name: 'Ada' } } },
    { method: 'tools/call', params: { name: 'greet', arguments: {} } },
    { method: 'resources/read', params: { uri: 'hello://readme' } },
    { method: 'resources/read', params: { uri: 'hello://users/42' } },
    { method: 'prompts/get', params: { name: 'review', arguments: { code: 'x = 1', language: 'python' } } },
  ];
  try {
    for (const [i, m] of reqs.entries()) {
      const got = {};
      for (const impl of [A, B]) {
        const ev = urlEvent({ jsonrpc: '2.0', id: 10 + i, ...m }, [['mcp-protocol-version', V25], ['mcp-session-id', rts[impl].sid]]);
        const a = answer(await rts[impl].emu.invoke(ev), `${impl} ${m.method}`);
        got[impl] = JSON.stringify(a.body?.result);
      }
      if (got[A] !== got[B]) fail(`the peer answers differently to ${JSON.stringify(m)}: mcp.c ${got[A]}, peer ${got[B]}`);
    }
  } finally { await rts[A].close(); await rts[B].close(); }
  log(`same answers from mcp.c and the peer (${reqs.length} requests)`);
}

// ---------------------------------------------------------------------------------------------
const T0 = Date.now();
{ // a real session id for the warm events (any sandbox accepts it on Lambda)
  const rt = await warmRuntime(A);
  SID = rt.sid;
  await rt.close();
}
const sections = [['same', sectionSame], ['cold', sectionCold], ['callgrind', sectionCallgrind], ['profile', sectionProfile], ['warm', sectionWarm], ['rss', sectionRss], ['serve', sectionServe]];
for (const [name, fn] of sections) {
  if (!want(name)) continue;
  const t = Date.now();
  log(`${name}...`);
  await fn();
  log(`${name} done in ${((Date.now() - t) / 1000).toFixed(1)} s`);
}
log(`runtime sections done in ${((Date.now() - T0) / 1000).toFixed(1)} s`);
