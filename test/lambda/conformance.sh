#!/usr/bin/env bash
# conformance.sh: the official MCP conformance suites against a server running as an AWS
# Lambda function, through the local function-URL gateway (test/lambda/gateway.mjs).
#
#   bash test/lambda/conformance.sh build/conformance
#   bash test/lambda/conformance.sh --tasks build/conformance
#
# For each invoke mode, buffered and then streaming (RESPONSE_STREAM, gateway --stream), it
# starts `gateway.mjs --shape url [--stream] --listen 127.0.0.1:PORT -- BINARY` (the Runtime API
# emulator, the runtime, the gateway), then runs with the Node 22 from test/node.sh:
#   @modelcontextprotocol/conformance 0.1.16, active suite
#   @modelcontextprotocol/conformance 0.2.0-alpha.12 (npm alias conformance-next), --requirements 2026-07-28
# each with --expected-failures listing only the scenarios that test/lambda/EXCLUDED.md gives
# for that run, with their protocol reason. A run passes when the suite exits 0, meaning every
# failure is in the baseline and every baseline scenario still fails. After each mode it checks
# the gateway's Runtime API record: no invocation answered twice, none timed out, no runtime
# restart. Prints "ok - ..." / "not ok - ..." lines and "# N passed, M failed"; exits 1 on
# failure. Each suite run is bounded by CONFORMANCE_TIMEOUT seconds (default 300).
#
# --tasks: tasks on Lambda, with their DynamoDB store. Starts moto's server (test/deploy/moto_lib.sh;
# without moto or the aws CLI: one "ok - ... # SKIP" line), and for each mode creates a table
# with the aws CLI (key taskId, index owner-createdAt, TTL on expiresAt), starts the gateway with
# --async-sandboxes (the Lambda Invoke API and the sandboxes that run the asynchronous
# invocations, where a task's handler runs) and the runtime's environment MCP_TASKS_TABLE,
# AWS_ENDPOINT_URL_DYNAMODB (moto), AWS_ENDPOINT_URL_LAMBDA (the gateway's Invoke API, set by the
# gateway), made-up credentials, and runs only the 2026-07-28 suite. That run passes when the
# suite exits 0 and no scenario fails, the unscored ones (the tasks-* extension scenarios)
# included; and a task that would outlive the function timeout ends failed before it. Then:
# every asynchronous invocation named the function by its ARN, carried a valid SigV4 signature
# (service lambda) and ended well (answered null; none failed, timed out or was lost); the
# table holds every task those invocations ran, none of them still working, with completed,
# failed (protocol_error_job, its JSON-RPC error) and cancelled ones among them.
set -u

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/../.." && pwd)
tasks=0
[ "${1:-}" = --tasks ] && { tasks=1; shift; }
if [ $# -ne 1 ]; then
    echo "usage: bash test/lambda/conformance.sh [--tasks] BINARY   (e.g. build/conformance)" >&2
    exit 2
fi
bin=$1
case "$bin" in /*) ;; *) bin="$PWD/$bin" ;; esac
run_timeout=${CONFORMANCE_TIMEOUT:-300}

passed=0
failed=0
ok() { passed=$((passed + 1)); echo "ok - $*"; }
not_ok() { failed=$((failed + 1)); echo "not ok - $*"; }
finish() {
    echo "# $passed passed, $failed failed"
    [ "$failed" -eq 0 ]
    exit $?
}

if [ ! -x "$bin" ]; then
    not_ok "server binary is executable: $bin"
    finish
fi
# shellcheck disable=SC1091 # test/node.sh, sourced from the repository root
. "$root/test/node.sh" || { not_ok "test/node.sh installs Node 22 and the conformance suites"; finish; }

v1="$root/test/node_modules/@modelcontextprotocol/conformance/dist/index.js"
next="$root/test/node_modules/conformance-next/dist/index.js"
excluded="$here/EXCLUDED.md"

work=$(mktemp -d "${TMPDIR:-/tmp}/mcp-lambda-conformance.XXXXXX")
gw_pid=
stop_gateway() { # SIGTERM: the gateway prints its Runtime API statistics, stops the runtime
    [ -n "$gw_pid" ] || return 0
    kill -TERM "$gw_pid" 2>/dev/null
    # with --tasks, the asynchronous invocations still running get the function timeout to end
    for _ in $(seq $((tasks ? 150 : 50))); do kill -0 "$gw_pid" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$gw_pid" 2>/dev/null
    wait "$gw_pid" 2>/dev/null
    gw_pid=
}
# shellcheck disable=SC2317 # called by the EXIT trap
cleanup() {
    stop_gateway
    rm -rf "$work"
    [ "$tasks" = 0 ] || moto_cleanup
}
if [ $tasks = 1 ]; then
    # moto on MOTO_URL, the aws CLI at it with made-up credentials (and its own EXIT trap,
    # replaced below by one that calls its cleanup too)
    ROOT=$root
    skip_all() { echo "ok - conformance through the gateway with tasks in DynamoDB # SKIP $1"; echo "# 1 passed, 0 failed"; rm -rf "$work"; exit 0; }
    # shellcheck source=test/deploy/moto_lib.sh
    . "$root/test/deploy/moto_lib.sh"
fi
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

free_port() {
    "$NODE22" -e 'const s = require("net").createServer().listen(0, "127.0.0.1", () => { console.log(s.address().port); s.close(); });'
}

# start_gateway LOG ARGS...: start the gateway on a free port (timeout --foreground: stopping
# it signals the gateway alone, which then stops its runtime; a signal to the whole group would
# kill the runtime first and count as a sandbox restart), wait (10 s at most) for its
# "listening" line. Another port is tried if it exits at once (the port was taken meanwhile).
start_gateway() {
    local log=$1 _
    shift
    for _ in 1 2 3; do
        port=$(free_port) || return 1
        timeout --foreground -k 5 3600 "$NODE22" "$here/gateway.mjs" --shape url "$@" --listen "127.0.0.1:$port" \
            --timeout 10 --quiet -- "$bin" >"$log" 2>&1 &
        gw_pid=$!
        for _ in $(seq 100); do
            kill -0 "$gw_pid" 2>/dev/null || break
            if grep -qs '^gateway: listening on ' "$log"; then return 0; fi
            sleep 0.1
        done
        if kill -0 "$gw_pid" 2>/dev/null; then stop_gateway; return 1; fi
        wait "$gw_pid" 2>/dev/null
        gw_pid=
    done
    return 1
}

# baseline RUN FILE: the expected-failures YAML for RUN ("0.1.16 buffered", ...) from
# EXCLUDED.md; prints the scenario names, space-separated.
baseline() {
    local run=$1 file=$2
    awk -F'|' -v run="$run" '
        /^\| *`[a-z0-9-]+` *\|/ {
            s = $2; gsub(/[ `]/, "", s)
            n = split($3, runs, ",")
            for (i = 1; i <= n; i++) { r = runs[i]; gsub(/^ +| +$/, "", r); if (r == run) print s }
        }' "$excluded" >"$file.names"
    { echo "server:"; sed 's/^/  - /' "$file.names"; } >"$file"
    [ -s "$file.names" ] || echo "server: []" >"$file"
    tr '\n' ' ' <"$file.names" | sed 's/ $//'
}

# failed_checks DIR SCENARIO: the FAILURE checks of one scenario, from the -o results.
failed_checks() {
    # shellcheck disable=SC2016 # JavaScript, not shell
    "$NODE22" -e '
        const fs = require("fs"), path = require("path");
        const [dir, scenario] = process.argv.slice(1);
        for (const d of fs.readdirSync(dir).filter(d => d.startsWith(`server-${scenario}-`) && /^\d{4}-\d\d-\d\dT/.test(d.slice(scenario.length + 8)))) {
            let checks;
            try { checks = JSON.parse(fs.readFileSync(path.join(dir, d, "checks.json"), "utf8")); } catch { continue; }
            for (const c of checks.filter(c => c.status === "FAILURE" || c.status === "WARNING"))
                console.log(`#       ${c.status} ${c.id}: ${c.name}${c.errorMessage ? ": " + String(c.errorMessage).replace(/\s+/g, " ").slice(0, 300) : ""}`);
        }' "$1" "$2" 2>/dev/null
}

# run NAME CLI ARGS...: one suite run through the gateway, judged by its exit status.
run() {
    local name=$1 cli=$2 status t0 t1 expected out results total
    shift 2
    out="$work/run.out"
    results="$work/results.$RANDOM"
    mkdir -p "$results"
    expected=$(baseline "$name" "$work/expected.yaml")
    t0=$(date +%s.%N)
    timeout -k 10 "$run_timeout" "$NODE22" "$cli" server --url "$url" -o "$results" \
        --expected-failures "$work/expected.yaml" "$@" >"$out" 2>&1
    status=$?
    t1=$(date +%s.%N)
    [ $status -eq 124 ] && echo "(timed out after ${run_timeout}s)" >>"$out"
    sed -i 's/\x1b\[[0-9;]*m//g' "$out"
    total=$(grep -m1 '^Total:' "$out" || echo "no summary")
    local secs
    secs=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f", b - a }')
    # with --tasks, the unscored scenarios count too. With --expected-failures the suite
    # prints no "Not scored for ..." section, so: every scenario of the summary that failed
    # and is not in the baseline (the suite's exit status judged the scored ones already)
    local unscored="" ext
    if [ $tasks = 1 ]; then
        unscored=$(awk -v expected=" $expected " '/^=== SUMMARY ===/ { s = 1; next }
            s && /^(✓|✗) [^ ]+: [0-9]+ passed, [0-9]+ failed/ {
                n = $2; sub(/:$/, "", n)
                if (($1 != "✓" || $5 > 0) && index(expected, " " n " ") == 0) print n
            }' "$out" | tr '\n' ' ' | sed 's/ $//')
        ext=$(grep -c '^✓ tasks-[^ ]*: [0-9]* passed, 0 failed' "$out")
        total="$total; $ext tasks-* scenarios (extension, not scored) pass"
    fi
    if [ $status -eq 0 ] && [ -z "$unscored" ]; then
        ok "conformance $name ($front): $total; expected failures: ${expected:-none} (${secs} s)"
        return
    fi
    not_ok "conformance $name ($front): $total; exit status $status (${secs} s)"
    for scenario in $unscored; do # the unscored ones (the suite lists the scored ones below)
        awk '/^Unexpected failures \(/ { u = 1; next } /^$/ { u = 0 } u && /✗/ { print $2 }' "$out" | grep -qx "$scenario" && continue
        echo "#   ✗ $scenario (not scored, not in EXCLUDED.md for this run)"
        failed_checks "$results" "$scenario"
    done
    # the suite's verdict on the baseline: unexpected failures (with their failed checks) and
    # stale entries (scenarios of EXCLUDED.md that now pass: update EXCLUDED.md)
    awk '/^Unexpected failures \(/ { u = 1; next } /^Stale baseline entries/ { t = 1; next } /^$/ { u = t = 0 }
         u && /✗/ { print "U", $2 } t && /✓/ { print "S", $2 }' "$out" | while read -r kind scenario; do
        if [ "$kind" = S ]; then
            echo "#   ✓ $scenario passes but EXCLUDED.md lists it for this run (stale baseline)"
        else
            echo "#   ✗ $scenario (not in EXCLUDED.md for this run)"
            failed_checks "$results" "$scenario"
        fi
    done
    grep -q '^=== SUMMARY ===' "$out" || tail -n 15 "$out" | sed 's/^/#   /'
}

# gateway_record MODE LOG: the Runtime API statistics the gateway printed when it stopped.
gateway_record() {
    local mode=$1 log=$2 stats
    stats=$(grep -o '^gateway: {.*}$' "$log" | tail -n 1 | sed 's/^gateway: //')
    if [ -z "$stats" ]; then
        not_ok "gateway ($mode) stopped cleanly and reported its Runtime API record"
        tail -n 10 "$log" | sed 's/^/#   /'
        return
    fi
    # shellcheck disable=SC2016 # JavaScript, not shell
    if "$NODE22" -e '
        const s = JSON.parse(process.argv[1]);
        const bad = ["answeredTwice", "unknownId", "afterTooLarge", "timeouts", "lost", "badRequests", "restarts"].filter(k => s[k]);
        console.log(`${s.delivered} invocations, ${s.answered} answered (${s.streams} streamed)` + (bad.length ? `; ${bad.map(k => k + "=" + s[k]).join(", ")}` : ""));
        process.exit(bad.length || s.answered !== s.delivered ? 1 : 0);' "$stats" >"$work/record"; then
        ok "gateway ($mode): every invocation answered once, no timeout, no runtime restart: $(cat "$work/record")"
    else
        not_ok "gateway ($mode): Runtime API record: $(cat "$work/record")"
        grep -v '^gateway: {' "$log" | tail -n 10 | sed 's/^/#   /'
    fi
}

# create_table NAME: the tasks table as MCP_TASKS_TABLE wants it, with the aws CLI (at moto)
create_table() {
    aws dynamodb create-table --table-name "$1" --billing-mode PAY_PER_REQUEST \
        --attribute-definitions AttributeName=taskId,AttributeType=S AttributeName=owner,AttributeType=S AttributeName=createdAt,AttributeType=S \
        --key-schema AttributeName=taskId,KeyType=HASH \
        --global-secondary-indexes 'IndexName=owner-createdAt,KeySchema=[{AttributeName=owner,KeyType=HASH},{AttributeName=createdAt,KeyType=RANGE}],Projection={ProjectionType=ALL}' &&
        aws dynamodb update-time-to-live --table-name "$1" --time-to-live-specification Enabled=true,AttributeName=expiresAt
}

# tasks_record MODE LOG ASYNCLOG TABLE: the asynchronous invocations (the gateway's record and
# each invocation's line in ASYNCLOG) and the tasks TABLE holds afterwards (scanned with the CLI).
tasks_record() {
    local mode=$1 log=$2 asynclog=$3 table=$4 stats
    stats=$(grep -o '^gateway: {.*}$' "$log" | tail -n 1 | sed 's/^gateway: //')
    if ! aws dynamodb scan --table-name "$table" --output json >"$work/scan.json" 2>"$work/scan.err"; then
        not_ok "aws dynamodb scan --table-name $table: $(head -c 300 "$work/scan.err")"
        return
    fi
    # shellcheck disable=SC2016 # JavaScript, not shell
    if "$NODE22" -e '
        const fs = require("fs");
        const [stats, asyncLog, scan] = process.argv.slice(1);
        const arn = "arn:aws:lambda:us-east-1:123456789012:function:mcp-test"; // the gateway emulator'"'"'s
        const bad = [], a = (JSON.parse(stats || "{}")).async;
        if (!a) { console.log("the gateway reported no asynchronous invocations"); process.exit(1); }
        for (const k of ["errors", "timeouts", "lost", "pending", "restarts", "notFound", "badSignature", "badRequests", "otherName", "sync"])
            if (a[k]) bad.push(`${k}=${a[k]}`);
        if (!a.accepted) bad.push("no asynchronous invocation");
        const recs = fs.existsSync(asyncLog) ? fs.readFileSync(asyncLog, "utf8").split("\n").filter(Boolean).map(l => JSON.parse(l)) : [];
        if (recs.length !== a.accepted) bad.push(`${recs.length} invocations logged, ${a.accepted} accepted`);
        const invoked = new Set();
        for (const r of recs) {
            let id;
            try { id = JSON.parse(r.payload).mcpTaskId; } catch {}
            if (typeof id !== "string") bad.push(`invocation ${r.n}: payload ${r.payload}`);
            else invoked.add(id);
            if (r.outcome !== "ok") bad.push(`invocation ${r.n} (task ${id}): ${r.outcome} ${r.errorType || ""} ${r.errorMessage || ""}`);
            else if (r.answer !== "null") bad.push(`invocation ${r.n} (task ${id}) answered ${r.answer}`); // not the deadline answer of the watchdog
            if (r.name !== arn) bad.push(`invocation ${r.n} named the function ${r.name}`);
            if (r.sig !== "ok" || r.type !== "Event") bad.push(`invocation ${r.n}: SigV4 ${r.sig}, type ${r.type}`);
        }
        const tasks = new Map();
        for (const it of JSON.parse(fs.readFileSync(scan, "utf8")).Items || []) {
            const doc = JSON.parse(it.doc.S);
            if (doc.status !== it.status.S || doc.taskId !== it.taskId.S) bad.push(`task ${it.taskId.S}: item and doc disagree`);
            tasks.set(it.taskId.S, doc);
        }
        for (const id of invoked) if (!tasks.has(id)) bad.push(`task ${id} was invoked but is not in the table`);
        const by = {};
        for (const [id, t] of tasks) {
            by[t.status] = (by[t.status] || 0) + 1;
            if (!invoked.has(id)) bad.push(`task ${id} (${t.tool}, ${t.status}) never ran`);
            if (t.status === "working") bad.push(`task ${id} (${t.tool}) is still working`);
        }
        if (!by.completed) bad.push("no completed task");
        if (!by.cancelled) bad.push("no cancelled task");
        if (![...tasks.values()].some(t => t.status === "failed" && t.tool === "protocol_error_job" && t.error && t.error.code === -32603 && !t.result))
            bad.push("no failed protocol_error_job task with its error -32603");
        const runs = recs.length - invoked.size;
        console.log(`${recs.length} asynchronous invocations (${runs} of them resumed tasks) in ${a.sandboxes} sandboxes; ` +
            `${tasks.size} tasks in the table: ${Object.entries(by).map(([k, v]) => v + " " + k).join(", ")}` + (bad.length ? `; ${bad.slice(0, 8).join("; ")}` : ""));
        process.exit(bad.length ? 1 : 0);' "$stats" "$asynclog" "$work/scan.json" >"$work/record"; then
        ok "tasks ($mode): every asynchronous invocation named the function by its ARN, was signed (SigV4, lambda) and ended well; the table holds each task it ran, none still working: $(cat "$work/record")"
    else
        not_ok "tasks ($mode): $(cat "$work/record")"
        grep -v '^gateway: {' "$log" | tail -n 10 | sed 's/^/#   /'
    fi
}

# out_of_time MODE: a task whose handler would outlive the function timeout (slow_compute for
# 30 s; the gateway's timeout is 10 s) ends failed before the timeout, and says why: a sandbox
# is frozen or ended at the timeout, so a task still working then would stay working.
out_of_time() {
    # shellcheck disable=SC2016 # JavaScript, not shell
    if "$NODE22" -e '
        const url = process.argv[1], V = "2026-07-28", EXT = "io.modelcontextprotocol/tasks";
        const meta = { "io.modelcontextprotocol/protocolVersion": V, "io.modelcontextprotocol/clientCapabilities": { extensions: { [EXT]: {} } } };
        let id = 0;
        const rpc = async (method, params) => {
            const r = await fetch(url, { method: "POST", body: JSON.stringify({ jsonrpc: "2.0", id: ++id, method, params: { ...params, _meta: meta } }),
                headers: { "Content-Type": "application/json", Accept: "application/json, text/event-stream", "MCP-Protocol-Version": V,
                           "Mcp-Method": method, ...(params.name ? { "Mcp-Name": params.name } : {}) } });
            const t = await r.text();
            const j = JSON.parse((r.headers.get("content-type") || "").startsWith("text/event-stream")
                ? t.split("\n").filter(l => l.startsWith("data:")).pop().slice(5) : t);
            if (!j.result) throw new Error(`${method}: ${t.slice(0, 300)}`);
            return j.result;
        };
        (async () => {
            const t0 = Date.now();
            const c = await rpc("tools/call", { name: "slow_compute", arguments: { seconds: 30, label: "out-of-time" } });
            if (!c.taskId) throw new Error(`no task: ${JSON.stringify(c)}`);
            for (;;) {
                const g = await rpc("tasks/get", { taskId: c.taskId });
                const s = ((Date.now() - t0) / 1000).toFixed(1);
                if (g.status === "failed" && g.error && /timeout/.test(g.error.message)) { console.log(`failed after ${s} s: ${g.error.message}`); return; }
                if (g.status !== "working" || Date.now() - t0 > 20000) { console.log(`${g.status} after ${s} s: ${JSON.stringify(g).slice(0, 300)}`); process.exit(1); }
                await new Promise(r => setTimeout(r, 500));
            }
        })().catch(e => { console.log(String(e)); process.exit(1); });' "$url" >"$work/record" 2>&1; then
        ok "tasks ($1): a task that would outlive the function timeout ends failed before it: $(cat "$work/record")"
    else
        not_ok "tasks ($1): a task that would outlive the function timeout: $(cat "$work/record")"
    fi
}

front="function URL"
if [ $tasks = 1 ]; then
    front="function URL, tasks in DynamoDB"
    ok "moto's server on $MOTO_URL (moto $("$PY" -c 'import moto; print(moto.__version__)')), $(AWS_LOG_OFF=1 aws --version 2>&1 | cut -d' ' -f1)"
fi
for mode in buffered streaming; do
    log="$work/gateway-$mode.log"
    flags=()
    [ $mode = streaming ] && flags=(--stream)
    if [ $tasks = 1 ]; then
        table=mcp-tasks-$mode
        if create_table "$table" >"$work/table.log" 2>&1; then
            ok "table $table (taskId; index owner-createdAt; TTL expiresAt) created with the aws CLI"
        else
            not_ok "aws dynamodb create-table $table: $(tail -n 3 "$work/table.log" | tr '\n' ' ')"
            continue
        fi
        flags+=(--async-sandboxes 3 --async-log "$work/async-$mode.jsonl" --env "MCP_TASKS_TABLE=$table"
            --env "AWS_ENDPOINT_URL_DYNAMODB=$MOTO_URL" --env AWS_ACCESS_KEY_ID=testing --env AWS_SECRET_ACCESS_KEY=testing
            --env AWS_REGION=us-east-1)
    fi
    if ! start_gateway "$log" "${flags[@]}"; then
        not_ok "gateway starts ($mode): gateway.mjs --shape url ${flags[*]} -- $bin"
        sed 's/^/#   /' "$log"
        continue
    fi
    url="http://127.0.0.1:$port/mcp"
    [ $tasks = 1 ] || run "0.1.16 $mode" "$v1"
    run "2026-07-28 $mode" "$next" --requirements 2026-07-28
    [ $tasks = 0 ] || out_of_time "$mode"
    stop_gateway
    gateway_record "$mode" "$log"
    [ $tasks = 0 ] || tasks_record "$mode" "$log" "$work/async-$mode.jsonl" "$table"
done
finish
