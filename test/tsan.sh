#!/usr/bin/env bash
# test/tsan.sh: the concurrent parts of mcp.c under ThreadSanitizer (gcc -fsanitize=thread):
#   - serve with the official SDK client (HTTP and stdio), its task API (test/tasks.mjs:
#     handlers on their own threads, cancelled and polled from others) and the conformance suites, whose
#     elicitation and sampling round trips answer on one connection what a handler waits
#     for on another;
#   - 8 kept-alive connections calling a tool at once for 3 s (wrk), every answer a 200;
#   - (test/auth's own suite is not run here: its connection-limit checks time 48
#     connections against 5 s answers, which TSan's slowdown on a loaded machine misses;
#     test/hostile covers its concurrent cases: a hanging JWKS fetch, JWT checks)
#   - test/hostile (issue 14's hostile clients, and its soak: normal sessions, stateless
#     requests and elicitation round trips alongside trickled heads, oversized trailers,
#     7 MB bodies, malformed JSON and bad HTTP, on one server at once), whose datatools
#     checks need build/tsan/datatools;
# Every server process writes its reports to build/tsan/report.*; there must be none.
# Prints "ok"/"not ok" lines and "# N passed, M failed".
set -uo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
OUT=$ROOT/build/tsan
mkdir -p "$OUT"
rm -f "$OUT"/report.*
PASS=0
FAIL=0
ok() { echo "ok - $1"; PASS=$((PASS + 1)); }
notok() { echo "not ok - $1${2:+: $2}"; FAIL=$((FAIL + 1)); }
step() { # step NAME CMD...: a whole suite, counted as one check; its output kept in a log
    local name=$1; shift
    if "$@" >"$OUT/$name.log" 2>&1; then ok "$name under TSan ($(grep -c '^ok' "$OUT/$name.log") checks)"
    else notok "$name under TSan" "$(grep '^not ok' "$OUT/$name.log" | head -3 | tr '\n' ' ')see $OUT/$name.log"; fi
}

TSAN="-std=c11 -g -O1 -fsanitize=thread -fno-omit-frame-pointer"
for b in hello conformance datatools; do
    gcc $TSAN -o "$OUT/$b" "examples/$b.c" mcp.c -lbearssl -lm -lpthread || { notok "TSan build of $b"; echo "# $PASS passed, $FAIL failed"; exit 1; }
done
gcc $TSAN -o "$OUT/auth-server" test/auth/server.c mcp.c -lbearssl -lm -lpthread || notok "TSan build of test/auth/server.c"
ok "TSan builds (hello, conformance, datatools, the auth tests' server)"
export TSAN_OPTIONS="halt_on_error=1 second_deadlock_stack=1 log_path=$OUT/report"

. test/node.sh >/dev/null 2>&1 || { notok "Node 22" "test/node.sh failed"; echo "# $PASS passed, $FAIL failed"; exit 1; }
step sdk "$NODE22" test/sdk.mjs "$OUT/hello"
step conformance bash test/conformance.sh "$OUT/conformance"
step tasks "$NODE22" test/tasks.mjs "$OUT/conformance"
step hostile bash test/hostile/run.sh "$OUT"

# many connections at once on one server
if command -v wrk >/dev/null 2>&1; then
    port=$((20000 + RANDOM % 20000))
    "$OUT/hello" serve --listen 127.0.0.1:$port 2>"$OUT/wrk-server.log" &
    pid=$!
    for _ in $(seq 50); do curl -s -o /dev/null "http://127.0.0.1:$port/health" && break; sleep 0.1; done
    sid=$(curl -s -D - -o /dev/null -H 'Content-Type: application/json' -H 'Accept: application/json, text/event-stream' \
        -d '{"jsonrpc":"2.0","id":0,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"t","version":"1"}}}' \
        "http://127.0.0.1:$port/mcp" | tr -d '\r' | sed -n 's/^[Mm]cp-[Ss]ession-[Ii]d: //p')
    out=$(MCP_SESSION=$sid timeout 30 wrk -t2 -c8 -d3s -s bench/wrk-post.lua "http://127.0.0.1:$port/mcp" 2>&1)
    kill "$pid" 2>/dev/null
    wait "$pid" 2>/dev/null
    j=$(echo "$out" | sed -n 's/^WRK_JSON //p')
    n=$(echo "$j" | sed -n 's/.*"requests":\([0-9]*\).*/\1/p')
    bad=$(echo "$j" | sed -n 's/.*"connect":\([0-9]*\),"read":\([0-9]*\),"write":\([0-9]*\),"status":\([0-9]*\),"timeout":\([0-9]*\).*/\1 \2 \3 \4 \5/p')
    if [ -n "$sid" ] && [ "${n:-0}" -gt 100 ] && [ "$bad" = "0 0 0 0 0" ]; then ok "8 connections calling a tool at once: $n answers, every one a 200"
    else notok "8 connections calling a tool at once" "session '$sid', $n requests, errors (connect read write status timeout) '$bad'"; fi
else
    notok "wrk" "not installed (test/auth/run.sh installs it)"
fi

n=$(ls "$OUT"/report.* 2>/dev/null | wc -l)
if [ "$n" -eq 0 ]; then ok "no ThreadSanitizer report from any server process"
else notok "ThreadSanitizer reports" "$n, e.g. $(ls "$OUT"/report.* | head -1)"; head -60 "$(ls "$OUT"/report.* | head -1)" | sed 's/^/# /'; fi
echo "# $PASS passed, $FAIL failed"
[ "$FAIL" -eq 0 ]
