#!/usr/bin/env bash
# conformance.sh: the official MCP conformance suite against a server's Streamable HTTP endpoint.
#
#   bash test/conformance.sh build/conformance
#
# Starts `BINARY serve --listen 127.0.0.1:PORT` on a free port, then runs, each with the
# Node 22 from test/node.sh and no expected-failures file:
#   (a) @modelcontextprotocol/conformance 0.1.16, `server --url URL` (the active suite)
#   (b) 0.2.0-alpha.12 (npm alias conformance-next), `--requirements 2025-11-25`
#   (c) 0.2.0-alpha.12, `--requirements 2026-07-28`
# A run passes when the suite exits 0 and no scenario of its summary failed, the ones
# listed under "Not scored for ..." (the tasks extension's, with --requirements) included,
# though the suite's own verdict leaves those out. Prints "ok - ..." / "not ok - ..." per run (a failing run is
# followed by its failing scenarios and their failed checks), then "# N passed, M failed";
# exits 1 on any failure. Each run is bounded by CONFORMANCE_TIMEOUT seconds (default 300).
set -u

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
if [ $# -ne 1 ]; then
    echo "usage: bash test/conformance.sh BINARY   (e.g. build/conformance)" >&2
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
# shellcheck source=test/node.sh
. "$here/node.sh" || { not_ok "test/node.sh installs Node 22 and the conformance suites"; finish; }

v1="$here/node_modules/@modelcontextprotocol/conformance/dist/index.js"
next="$here/node_modules/conformance-next/dist/index.js"

work=$(mktemp -d "${TMPDIR:-/tmp}/mcp-conformance.XXXXXX")
server_pid=
stop_server() {
    [ -n "$server_pid" ] || return 0
    kill "$server_pid" 2>/dev/null
    for _ in $(seq 50); do kill -0 "$server_pid" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$server_pid" 2>/dev/null
    wait "$server_pid" 2>/dev/null
    server_pid=
}
# shellcheck disable=SC2317 # called by the EXIT trap
cleanup() {
    stop_server
    rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

free_port() {
    "$NODE22" -e 'const s = require("net").createServer().listen(0, "127.0.0.1", () => { console.log(s.address().port); s.close(); });'
}

# Start the server on a free port; wait (10 s at most) until it accepts connections.
# Another port is tried if the server exits at once (the port was taken in between).
start_server() {
    local _
    for _ in 1 2 3; do
        port=$(free_port) || return 1
        # timeout: the server can never outlive this script by more than an hour.
        timeout -k 5 3600 "$bin" serve --listen "127.0.0.1:$port" >"$work/server.log" 2>&1 &
        server_pid=$!
        for _ in $(seq 100); do
            kill -0 "$server_pid" 2>/dev/null || break
            if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then return 0; fi
            sleep 0.1
        done
        if kill -0 "$server_pid" 2>/dev/null; then
            stop_server
            return 1 # running but not accepting: no point in another port
        fi
        wait "$server_pid" 2>/dev/null
        server_pid=
    done
    return 1
}

# report NAME OUT STATUS: judge one run from its exit status and its summary.
report() {
    local name=$1 out=$2 status=$3 verdict
    verdict=$(sed 's/\x1b\[[0-9;]*m//g' "$out" | awk -v status="$status" '
        /^=== SUMMARY ===/ { summary = 1; next }
        summary && /^Total:/ { total = $0; next }
        summary && /^Not scored for / { unscored_section = 1; unscored_line = $0; next }
        unscored_section && /^ +(✓|✗) / {
            name = $2; unscored[name] = 1; next
        }
        summary && !unscored_section && /^(✓|✗) [^ ]+: [0-9]+ passed, [0-9]+ failed/ {
            name = $2; sub(/:$/, "", name)
            n++; order[n] = name; mark[name] = $1; p[name] = $3; f[name] = $5
            next
        }
        END {
            if (total == "") { print "no summary (the suite did not finish; exit status " status ")"; print "FAILED"; exit }
            scored = 0; bad = 0; sp = 0; sf = 0; un = 0; unbad = 0; list = ""
            for (i = 1; i <= n; i++) {
                s = order[i]
                if (s in unscored) {
                    un++
                    if (mark[s] != "✓" || f[s] > 0) { unbad++; list = list s " (not scored; " p[s] " passed, " f[s] " failed)\n" }
                    continue
                }
                scored++; sp += p[s]; sf += f[s]
                if (mark[s] != "✓" || f[s] > 0) { bad++; list = list s " (" p[s] " passed, " f[s] " failed)\n" }
            }
            line = total
            if (unscored_line != "") {
                line = scored - bad "/" scored " scored scenarios pass, " sp " passed, " sf " failed (suite " total "; not scored: " un " run, " unbad " failing)"
            }
            if (status != 0) line = line "; exit status " status
            print line
            printf "%s", list
            print (bad == 0 && unbad == 0 && status == 0) ? "PASSED" : "FAILED"
        }')
    local head tail failing
    head=$(printf '%s\n' "$verdict" | head -n 1)
    tail=$(printf '%s\n' "$verdict" | tail -n 1)
    failing=$(printf '%s\n' "$verdict" | sed '1d;$d')
    if [ "$tail" = PASSED ]; then
        ok "conformance $name: $head"
        return
    fi
    not_ok "conformance $name: $head"
    if [ -n "$failing" ]; then
        printf '%s\n' "$failing" | while read -r scenario rest; do
            echo "#   ✗ $scenario $rest"
            # The failed checks, from the run's results directory.
            # shellcheck disable=SC2016 # JavaScript, not shell
            "$NODE22" -e '
                const fs = require("fs"), path = require("path");
                const [dir, scenario] = process.argv.slice(1);
                for (const d of fs.readdirSync(dir).filter(d => d.startsWith(`server-${scenario}-`) && /^\d{4}-\d\d-\d\dT/.test(d.slice(scenario.length + 8)))) {
                    let checks;
                    try { checks = JSON.parse(fs.readFileSync(path.join(dir, d, "checks.json"), "utf8")); } catch { continue; }
                    for (const c of checks.filter(c => c.status === "FAILURE"))
                        console.log(`#       ${c.id}: ${c.name}${c.errorMessage ? ": " + String(c.errorMessage).replace(/\s+/g, " ").slice(0, 400) : ""}`);
                }' "$work/$name.results" "$scenario" 2>/dev/null
        done
    else
        # No scenario to show: the tail of the suite's output says what happened.
        tail -n 15 "$out" | sed 's/^/#   /'
    fi
}

# run NAME CLI ARGS...: one suite run against the server.
run() {
    local name=$1 cli=$2 status
    shift 2
    mkdir -p "$work/$name.results"
    timeout -k 10 "$run_timeout" "$NODE22" "$cli" server --url "$url" -o "$work/$name.results" "$@" \
        >"$work/$name.out" 2>&1
    status=$?
    [ $status -eq 124 ] && echo "(timed out after ${run_timeout}s)" >>"$work/$name.out"
    report "$name" "$work/$name.out" "$status"
}

if ! start_server; then
    not_ok "server starts: $bin serve --listen 127.0.0.1:PORT"
    sed 's/^/#   /' "$work/server.log"
    finish
fi
url="http://127.0.0.1:$port/mcp"

run "0.1.16 active suite" "$v1"
run "0.2.0-alpha.12 --requirements 2025-11-25" "$next" --requirements 2025-11-25
run "0.2.0-alpha.12 --requirements 2026-07-28" "$next" --requirements 2026-07-28

if kill -0 "$server_pid" 2>/dev/null; then
    ok "conformance server still running after the runs"
else
    wait "$server_pid" 2>/dev/null
    not_ok "conformance server still running after the runs: it exited with status $?"
    sed 's/^/#   /' "$work/server.log" | tail -n 20
    server_pid=
fi
finish
