#!/usr/bin/env bash
# conformance.sh: the official MCP conformance suites against a server running as an AWS
# Lambda function, through the local function-URL gateway (test/lambda/gateway.mjs).
#
#   bash test/lambda/conformance.sh build/conformance
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
set -u

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/../.." && pwd)
if [ $# -ne 1 ]; then
    echo "usage: bash test/lambda/conformance.sh BINARY   (e.g. build/conformance)" >&2
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
    for _ in $(seq 50); do kill -0 "$gw_pid" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$gw_pid" 2>/dev/null
    wait "$gw_pid" 2>/dev/null
    gw_pid=
}
# shellcheck disable=SC2317 # called by the EXIT trap
cleanup() {
    stop_gateway
    rm -rf "$work"
}
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
    if [ $status -eq 0 ]; then
        ok "conformance $name (function URL): $total; expected failures: ${expected:-none} (${secs} s)"
        return
    fi
    not_ok "conformance $name (function URL): $total; exit status $status (${secs} s)"
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

for mode in buffered streaming; do
    log="$work/gateway-$mode.log"
    flags=()
    [ $mode = streaming ] && flags=(--stream)
    if ! start_gateway "$log" "${flags[@]}"; then
        not_ok "gateway starts ($mode): gateway.mjs --shape url ${flags[*]} -- $bin"
        sed 's/^/#   /' "$log"
        continue
    fi
    url="http://127.0.0.1:$port/mcp"
    run "0.1.16 $mode" "$v1"
    run "2026-07-28 $mode" "$next" --requirements 2026-07-28
    stop_gateway
    gateway_record "$mode" "$log"
done
finish
