// report.mjs: turns the benchmark's records into ONE table, printed and written to a file.
//
//   node bench/report.mjs --records FILE --meta FILE --out bench/RESULTS.md
//        [--json FILE] [--json-fresh FILE] [--json-shipped FILE] [--profile FILE] [--profile-start FILE]
//
// records: JSON lines {sec, key, label, unit, higher?, exact?, a: {name, samples}, b: {...} | null, note}
// json / json-fresh / json-shipped: jsonbench's JSON lines (warm heap, fresh heap, as shipped). Every figure is the median of its samples with
// min and max; a ratio is mcp.c's median over the peer's, both from this run. Exits 1 when
// the table is not well formed (a section missing, a figure that is not a finite number), so
// the quick mode can stand as a check that the benchmark runs; it never judges speed.
import fs from 'node:fs';

const opt = {};
for (let i = 2; i < process.argv.length; i += 2) opt[process.argv[i].replace(/^--/, '')] = process.argv[i + 1];
const readLines = (f) => (f && fs.existsSync(f) ? fs.readFileSync(f, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l)) : []);
const meta = JSON.parse(fs.readFileSync(opt.meta, 'utf8'));
const rows = readLines(opt.records);
const problems = [];

// ---------------------------------------------------------------------------------------------
// JSON rows
const SEC_JSON = 5;
function jsonRows(lines, shipped, fresh) {
  const by = new Map();
  for (const l of lines) by.set(`${l.lib}|${l.file}|${l.op}`, l);
  const files = [...new Set(lines.map((l) => l.file))].sort((x, y) => x.localeCompare(y));
  const libs = [...new Set(lines.map((l) => l.lib))].filter((l) => l !== 'mcp.c');
  const out = [];
  for (const op of ['parse', 'serialize']) {
    for (const file of files) {
      const a = by.get(`mcp.c|${file}|${op}`);
      if (!a) { problems.push(`json: no mcp.c ${op} figure for ${file}`); continue; }
      const size = a.bytes.toLocaleString('en');
      const check = `${a.values.toLocaleString('en')} values`;
      if (shipped) {
        out.push({ sec: SEC_JSON, key: `json.shipped.${op}.${file}`, label: `JSON ${op} ${file} (${size} B), mcp.c as shipped: musl, -Os, static`, unit: 'MB/s', higher: true,
          a: { name: 'mcp.c', samples: a.mbps }, b: null, note: 'build.sh\'s flags; no peer (cJSON, json-c and simdjson are glibc libraries here)' });
        continue;
      }
      for (const lib of libs) {
        const b = by.get(`${lib}|${file}|${op}`);
        if (!b) { problems.push(`json: no ${lib} ${op} figure for ${file}`); continue; }
        if (fresh) {
          out.push({ sec: SEC_JSON, order: 500, key: `json.fresh.${op}.${file}.${lib}`, unit: 'MB/s', higher: true,
            label: `JSON ${op} ${file}, fresh heap (page faults: mcp.c ${a.faults ?? '?'}, ${lib} ${b.faults ?? '?'})`,
            a: { name: 'mcp.c', samples: a.mbps }, b: { name: lib, samples: b.mbps },
            note: 'fresh heap: every timed parse and serialize in a new process (jsonbench --fresh), as in a cold start, so each library\'s allocations page-fault; timed by the thread\'s CPU time (user and system, page faults included; waiting for a core on a shared machine left out); MB/s = file bytes / that time; page faults = getrusage minor faults of one parse or serialize' });
          continue;
        }
        out.push({ sec: SEC_JSON, key: `json.${op}.${file}.${lib}`, label: `JSON ${op} ${file} (${size} B, ${check})`, unit: 'MB/s', higher: true,
          a: { name: 'mcp.c', samples: a.mbps }, b: { name: lib, samples: b.mbps },
          note: op === 'parse'
            ? 'MB/s = file bytes / parse time; mcp_json_parse copies its input first (counted), as yyjson_read does; cJSON and json-c allocate a node per value; simdjson reuses one dom::parser on a padded buffer; every document walked and checked against mcp.c\'s (values, string bytes, number sum)'
            : 'MB/s = file bytes / time to write the parsed document as compact JSON (mcp_json_write, cJSON_PrintUnformatted, json_object_to_json_string_length, simdjson::to_string, yyjson_write); every output parsed again and checked' });
      }
    }
  }
  return out;
}
rows.push(...jsonRows(readLines(opt.json), false, false), ...jsonRows(readLines(opt['json-fresh']), false, true),
  ...jsonRows(readLines(opt['json-shipped']), true, false));

// ---------------------------------------------------------------------------------------------
// statistics and formatting
function stats(s) {
  const v = [...s].sort((x, y) => x - y);
  const n = v.length;
  const med = n % 2 ? v[(n - 1) / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
  return { n, med, min: v[0], max: v[n - 1] };
}
const sep = (x) => Math.round(x).toLocaleString('en');
function fmt(x, unit) {
  if (!Number.isFinite(x)) return String(x);
  switch (unit) {
    case 'ms': return x >= 100 ? x.toFixed(0) : x >= 10 ? x.toFixed(1) : x >= 1 ? x.toFixed(2) : x.toFixed(3);
    case 'MB/s': return x >= 100 ? x.toFixed(0) : x.toFixed(1);
    case 'instr': case 'KB': case 'bytes': case 'inv/s': case 'req/s': return sep(x);
    default: return String(+x.toPrecision(4));
  }
}
function fmtRatio(r) {
  if (!Number.isFinite(r)) return 'n/a';
  if (r >= 100) return r.toFixed(0);
  if (r >= 10) return r.toFixed(1);
  if (r >= 0.1) return r.toFixed(2);
  return String(+r.toPrecision(2));
}
function cell(st, unit) {
  if (!st) return 'n/a';
  if (st.n === 1 || st.min === st.max) return `${fmt(st.med, unit)}`;
  return `${fmt(st.med, unit)} (${fmt(st.min, unit)}–${fmt(st.max, unit)})`;
}

const notes = [];
function noteRef(text) {
  if (!text) return '';
  let i = notes.indexOf(text);
  if (i < 0) { notes.push(text); i = notes.length - 1; }
  return ` [${i + 1}]`;
}

const SECTIONS = { 1: 'cold start', 2: 'warm', 3: 'peer', 4: 'size', 5: 'JSON' };
const table = [];
table.push('| § | measure | mcp.c: median (min–max) | peer | peer: median (min–max) | mcp.c/peer | better | n |');
table.push('|---|---|---|---|---|---|---|---|');
const order = (r) => r.sec * 1000 + (r.order ?? 0);
rows.sort((x, y) => order(x) - order(y));
let losses = [];
for (const r of rows) {
  const bad = (s) => !s || !Array.isArray(s.samples) || !s.samples.length || s.samples.some((x) => typeof x !== 'number' || !Number.isFinite(x));
  if (bad(r.a) || (r.b && bad(r.b))) { problems.push(`${r.key}: figures missing or not finite: ${JSON.stringify(r).slice(0, 300)}`); continue; }
  const a = stats(r.a.samples), b = r.b ? stats(r.b.samples) : null;
  const ratio = b ? a.med / b.med : NaN;
  let better = '';
  if (b) {
    const aWins = r.higher ? a.med > b.med : a.med < b.med;
    better = a.med === b.med ? '=' : aWins ? 'mcp.c' : `**${r.b.name}**`;
    if (!aWins && a.med !== b.med) losses.push(r);
  }
  const n = r.exact ? 'exact' : b ? (a.n === b.n ? `${a.n}` : `${a.n}/${b.n}`) : `${a.n}`;
  table.push(`| ${r.sec} | ${r.label}, ${r.unit}${noteRef(r.note)} | ${cell(a, r.unit)} | ${r.b ? r.b.name : 'n/a'} | ${cell(b, r.unit)} | ${fmtRatio(ratio)} | ${better} | ${n} |`);
}

// well-formed: every section present, the headline rows present
const keys = new Set(rows.map((r) => r.key));
for (const k of ['cold.next', 'cold.init', 'cold.discover', 'cg.start', 'cg.list', 'cg.call', 'warm.lat.list', 'warm.rate.list',
  'warm.lat.call', 'warm.rate.call', 'rss.init', 'rss.after', 'serve.rps', 'serve.p50', 'serve.p99', 'peer.zip', 'peer.unzipped']) {
  if (!keys.has(k)) problems.push(`row ${k} is missing`);
}
for (const s of [1, 2, 3, 4, 5]) if (!rows.some((r) => r.sec === s)) problems.push(`section ${s} (${SECTIONS[s]}) has no rows`);

// ---------------------------------------------------------------------------------------------
// where the instructions go (callgrind_annotate of the unstripped build)
function profileList(file, title) {
  if (!file || !fs.existsSync(file)) return [];
  const lines = fs.readFileSync(file, 'utf8').split('\n');
  const total = /^([\d,]+)\s+\(100\.0%\)\s+PROGRAM TOTALS/m.exec(lines.join('\n'));
  const out = [];
  for (const l of lines) {
    const m = /^\s*([\d,]+)\s+\(\s*([\d.]+)%\)\s+(?:\S*?:)?([A-Za-z_][\w.]*)(?:\s|$)/.exec(l);
    if (m && !/PROGRAM TOTALS/.test(l)) out.push(`${m[3]} ${m[2]}%`);
    if (out.length >= 14) break;
  }
  if (!out.length) return [];
  return [`- ${title}${total ? ` (${total[1]} instructions)` : ''}: ${out.join(', ')}`];
}

const md = [];
md.push('# mcp.c benchmark results');
md.push('');
md.push(`Mode: **${meta.mode}** (\`${meta.command}\`). Date: ${meta.date}. Commit: \`${meta.commit}\`.`);
md.push(`Machine: ${meta.cpu}, nproc ${meta.nproc}, Linux ${meta.kernel}; load average ${meta.loadStart} at start, ${meta.loadEnd} at end (other work on the machine shows up as spread).`);
md.push(`Versions: ${meta.versions}.`);
md.push('');
md.push('Each figure is the median over repeated runs, with (min–max); n is the number of runs. "mcp.c/peer" is the ratio of the two medians from this run; "better" names the side with the better median (lower time, instructions, memory and size; higher rates). Peer for §1–3: the same server on the official TypeScript SDK on Node 22 (bench/peer/); for §5: the library named.');
md.push('');
md.push(...table);
md.push('');
md.push('Notes:');
notes.forEach((n, i) => md.push(`${i + 1}. ${n}`));
const prof = [...profileList(opt['profile-start'], 'mcp.c exec → first GET /next'), ...profileList(opt.profile, 'mcp.c initialize + 100 tools/call, self cost by function')];
if (prof.length) {
  md.push('');
  md.push('Where mcp.c\'s instructions go (callgrind on the unstripped build of the same code, `callgrind_annotate`):');
  md.push(...prof);
}
if (losses.length) {
  md.push('');
  md.push(`Figures where mcp.c loses: ${losses.map((r) => `${r.label} (vs ${r.b.name})`).join('; ')}.`);
}
const text = md.join('\n') + '\n';
if (problems.length) {
  console.error('report: the table is not well formed:');
  for (const p of problems) console.error(`  - ${p}`);
  process.stdout.write(text);
  process.exit(1);
}
fs.writeFileSync(opt.out, text);
process.stdout.write(text);
console.error(`report: ${rows.length} rows, well formed; written to ${opt.out}`);
