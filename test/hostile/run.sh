#!/usr/bin/env bash
# test/hostile/run.sh: hostile-client checks of mcp.c, one or more per finding of issue 14
# (resource exhaustion, request smuggling, event type confusion, session and token policy).
# The expected behaviour of each check, with exact statuses and messages, is in
# test/hostile/README.md.
#
#   bash test/hostile/run.sh [BUILD_DIR]      BUILD_DIR (default build) holds hello, conformance
#                                             and datatools: build/ from ./build.sh, or
#                                             build/asan/ from test/run.sh (ASan + UBSan), or
#                                             build/tsan/ from test/tsan.sh (TSan)
#   SOAK_SECONDS=N bash test/hostile/run.sh build      the soak's length (default 20 s)
#   HOSTILE_ONLY=REGEX bash test/hostile/run.sh build      only the checks whose names match
#
# Builds test/auth/server.c with mcp.c into BUILD_DIR/hostile/authserver (with the sanitizers
# when BUILD_DIR's binaries have them: ASan + UBSan or TSan) for the JWT scope checks. Then runs
# hostile.py (serve, datatools, JWT; Python 3 standard library), soak.py (mixed hostile and
# normal traffic against one server for SOAK_SECONDS) and lambda.mjs (the Lambda runtime against
# test/lambda/emulator.mjs; Node 20 or 22). Every server listens on 127.0.0.1 on a port it
# picks; clients connect from 127.0.0.1, 127.0.0.2 and 127.0.0.3. Prints one "ok - ..." /
# "not ok - ..." line per check and "N passed, M failed" last; exits 1 on any failure.
# Each check is bounded (a few seconds, 40 s for the longest); the whole run takes about
# 1 to 2 minutes (more for sanitizer builds).
set -uo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
BUILD=${1:-build}
case "$BUILD" in /*) ;; *) BUILD=$ROOT/$BUILD ;; esac
cd "$ROOT" || exit 2

PASS=0
FAIL=0
PIDS=()
cleanup() {
    local p
    for p in "${PIDS[@]}"; do kill -TERM "$p" 2>/dev/null; done
}
trap cleanup EXIT
trap 'cleanup; exit 1' INT TERM HUP

count() { # count LOG: add its ok / not ok lines to the totals
    local p f
    p=$(grep -c '^ok ' "$1")
    f=$(grep -c '^not ok ' "$1")
    PASS=$((PASS + p))
    FAIL=$((FAIL + f))
}

for b in hello conformance datatools; do
    if [ ! -x "$BUILD/$b" ]; then
        echo "not ok - $BUILD/$b is missing (./build.sh builds build/; test/run.sh builds build/asan/)"
        echo "0 passed, 1 failed"
        exit 1
    fi
done

SANITIZED=0 # 1: ASan + UBSan (test/run.sh's build/asan/), 2: TSan (test/tsan.sh's build/tsan/)
grep -q -a -e __asan_init -e __ubsan_handle "$BUILD/hello" && SANITIZED=1
grep -q -a -e __tsan_init "$BUILD/hello" && SANITIZED=2

PY=/usr/bin/python3
[ -x "$PY" ] || PY=$(command -v python3)
NODE=${NODE22:-}
if [ -z "$NODE" ] && command -v node >/dev/null 2>&1; then
    case "$(node --version 2>/dev/null)" in v2[0-9].* | v[3-9][0-9].*) NODE=$(command -v node) ;; esac
fi
if [ -z "$NODE" ]; then
    # shellcheck disable=SC1091
    . "$ROOT/test/node.sh" && NODE=$NODE22
fi

# the auth test server (scoped tools), built beside the binaries under test
OUT=$BUILD/hostile
mkdir -p "$OUT"
AUTH=$OUT/authserver
AUTH_SAN=0
[ -x "$AUTH" ] && grep -q -a -e __asan_init -e __ubsan_handle "$AUTH" && AUTH_SAN=1
[ -x "$AUTH" ] && grep -q -a -e __tsan_init "$AUTH" && AUTH_SAN=2
if [ ! -x "$AUTH" ] || [ $AUTH_SAN != $SANITIZED ] || [ "$ROOT/mcp.c" -nt "$AUTH" ] || [ "$ROOT/mcp.h" -nt "$AUTH" ] || [ "$ROOT/test/auth/server.c" -nt "$AUTH" ]; then
    FLAGS=(-O1)
    [ $SANITIZED = 1 ] && FLAGS=(-g -O1 -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined)
    [ $SANITIZED = 2 ] && FLAGS=(-g -O1 -fsanitize=thread -fno-omit-frame-pointer)
    if timeout 300 gcc -std=c11 "${FLAGS[@]}" -o "$AUTH" test/auth/server.c mcp.c -lbearssl -lm -lpthread >"$OUT/authserver.log" 2>&1; then
        echo "ok - build test/auth/server.c into $AUTH"
        PASS=$((PASS + 1))
    else
        echo "not ok - build test/auth/server.c: $(head -c 400 "$OUT/authserver.log" | tr '\n' ' ')"
        FAIL=$((FAIL + 1))
    fi
fi

export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=0}

# serve, datatools and JWT checks
LOG=$OUT/hostile.log
PYTHONDONTWRITEBYTECODE=1 timeout -k 5 $((SANITIZED ? 600 : 240)) "$PY" -u "$HERE/hostile.py" "$BUILD" "$AUTH" >"$LOG" 2>&1 &
PIDS+=($!)
wait $! 
rc=$?
cat "$LOG"
count "$LOG"
if [ $rc -eq 124 ] || [ $rc -eq 137 ]; then echo "not ok - hostile.py did not finish in time"; FAIL=$((FAIL + 1))
elif [ $rc -ne 0 ] && ! grep -q '^not ok ' "$LOG"; then echo "not ok - hostile.py exited $rc"; FAIL=$((FAIL + 1)); fi

# the soak: mixed hostile and normal traffic against one conformance server for SOAK_SECONDS
LOG=$OUT/soak.log
SOAK_SECONDS=${SOAK_SECONDS:-20} PYTHONDONTWRITEBYTECODE=1 timeout -k 5 $((SANITIZED ? 600 : 180)) "$PY" -u "$HERE/soak.py" "$BUILD" >"$LOG" 2>&1 &
PIDS+=($!)
wait $!
rc=$?
cat "$LOG"
count "$LOG"
if [ $rc -eq 124 ] || [ $rc -eq 137 ]; then echo "not ok - soak.py did not finish in time"; FAIL=$((FAIL + 1))
elif [ $rc -ne 0 ] && ! grep -q '^not ok ' "$LOG"; then echo "not ok - soak.py exited $rc"; FAIL=$((FAIL + 1)); fi

# Lambda checks
LOG=$OUT/lambda.log
if [ -n "$NODE" ]; then
    timeout -k 5 $((SANITIZED ? 300 : 120)) "$NODE" "$HERE/lambda.mjs" "$BUILD/hello" >"$LOG" 2>&1 &
    PIDS+=($!)
    wait $!
    rc=$?
    cat "$LOG"
    count "$LOG"
    if [ $rc -eq 124 ] || [ $rc -eq 137 ]; then echo "not ok - lambda.mjs did not finish in time"; FAIL=$((FAIL + 1))
    elif [ $rc -ne 0 ] && ! grep -q '^not ok ' "$LOG"; then echo "not ok - lambda.mjs exited $rc"; FAIL=$((FAIL + 1)); fi
else
    echo "not ok - Node 20 or 22 is not available for the Lambda checks (test/node.sh failed)"
    FAIL=$((FAIL + 1))
fi

echo "$PASS passed, $FAIL failed"
[ "$FAIL" -eq 0 ]
