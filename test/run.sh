#!/usr/bin/env bash
# test/run.sh: every test of mcp.c. Prints one "ok"/"not ok" line per check and ends with
# "N passed, M failed"; exits non-zero on any failure.
#
#   test/run.sh            everything: builds, unit tests (plain and under ASan+UBSan, gcc
#                          and clang), SDK client over HTTP and stdio, the official
#                          conformance suites over serve and through the Lambda gateway,
#                          Lambda runtime and fault tests, the quick benchmark
#   test/run.sh --quick    skips the sanitizer rebuild of the integration suites
set -uo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
QUICK=0
[ "${1:-}" = "--quick" ] && QUICK=1

PASS=0
FAIL=0
FAILED=()
LOG=$ROOT/build/test-logs
mkdir -p "$LOG"

# run NAME CMD...: run a step; count the ok/not ok lines it prints, or its exit status.
run() {
    local name=$1; shift
    local out="$LOG/$name.log" t0 t1 rc p f
    t0=$(date +%s)
    "$@" >"$out" 2>&1
    rc=$?
    t1=$(date +%s)
    p=$(grep -c '^ok ' "$out")
    f=$(grep -c '^not ok ' "$out")
    if [ "$p" -eq 0 ] && [ "$f" -eq 0 ]; then
        if [ $rc -eq 0 ]; then p=1; echo "ok - $name"; else f=1; echo "not ok - $name (exit $rc)"; fi
    else
        grep '^not ok ' "$out" | sed "s/^/  [$name] /"
        if [ $rc -ne 0 ] && [ "$f" -eq 0 ]; then f=1; echo "not ok - $name exited $rc"; fi
        echo "$( [ "$f" -eq 0 ] && echo ok || echo 'not ok') - $name: $p passed, $f failed ($((t1 - t0)) s)"
    fi
    if [ "$f" -ne 0 ]; then FAILED+=("$name"); tail -n 20 "$out" | sed "s/^/  | /"; fi
    PASS=$((PASS + p))
    FAIL=$((FAIL + f))
}

need() {
    local missing=()
    for p in "$@"; do dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null | grep 'ok installed' >/dev/null || missing+=("$p"); done
    [ ${#missing[@]} -eq 0 ] && return 0
    local sudo=""
    [ "$(id -u)" -eq 0 ] || sudo=sudo
    $sudo apt-get update -qq && DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}"
}
need gcc clang libclang-rt-14-dev musl-tools zip unzip file binutils libbearssl-dev openssl python3 python3-botocore python3-yaml ca-certificates >/dev/null 2>&1 || echo "test/run.sh: could not install packages" >&2

WARN="-std=c11 -Wall -Wextra -Wpedantic -Werror"
SAN="-g -O1 -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined"

# 1. builds: the release build, and warning-free with gcc and clang on glibc and musl
run build ./build.sh
build_matrix() {
    local ok=1
    for cc in gcc clang musl-gcc; do
        for f in mcp.c examples/hello.c examples/conformance.c; do
            if $cc $WARN $( [ $cc = musl-gcc ] && echo -I/usr/include/bearssl ) -c "$f" -o /dev/null; then echo "ok - $cc -Wall -Wextra -Wpedantic $f"
            else echo "not ok - $cc warns or fails on $f"; ok=0; fi
        done
    done
    if g++ -std=c++11 -Wall -Wextra -Werror -x c++ -fsyntax-only - <<<'#include "mcp.h"
int main() { return 0; }'; then echo "ok - mcp.h compiles as C++"; else echo "not ok - mcp.h as C++"; fi
    # nothing exported without the mcp_ prefix
    local bad
    gcc -std=c11 -c mcp.c -o "$LOG/../mcp.o"
    bad=$(nm -g --defined-only "$LOG/../mcp.o" | awk '{print $3}' | grep -v '^mcp_' || true)
    if [ -z "$bad" ]; then echo "ok - every exported symbol starts with mcp_"; else echo "not ok - exported without mcp_: $bad"; fi
    for b in build/bootstrap build/hello build/conformance; do
        if file "$b" | grep 'statically linked' >/dev/null; then echo "ok - $b is static"; else echo "not ok - $b is not static"; fi
        if [ "$(stat -c %s "$b")" -lt 1048576 ]; then echo "ok - $b is under 1 MB"; else echo "not ok - $b is over 1 MB"; fi
    done
    if unzip -Z build/bootstrap.zip | grep '^-rwxr-xr-x.* bootstrap$' >/dev/null; then echo "ok - bootstrap.zip holds bootstrap, mode 0755"
    else echo "not ok - bootstrap.zip layout"; unzip -Z build/bootstrap.zip; fi
}
run build-matrix build_matrix

# 2. unit tests, plain and sanitized, gcc and clang
unit() { # unit COMPILER FLAGS...
    local cc=$1; shift
    local rc=0
    for t in test/unit_*.c; do
        local bin="$LOG/$(basename "$t" .c)-$cc"
        $cc -std=c11 -Wall -Wextra -Wpedantic "$@" -o "$bin" "$t" -lbearssl -lm -lpthread || { echo "not ok - $t does not build with $cc"; rc=1; continue; }
        "$bin" || rc=1
    done
    return $rc
}
run unit-gcc unit gcc -O2
run unit-clang unit clang -O2
run unit-asan unit gcc $SAN
run unit-clang-asan unit clang $SAN

# SigV4 against botocore, an independent implementation; the compiled-in trust anchors
# against the system's certificates
sigv4() {
    gcc -std=c11 $SAN -o "$LOG/sigv4_tool" test/aws/sigv4_tool.c -lbearssl -lm -lpthread || return 1
    /usr/bin/python3 test/aws/sigv4.py "$LOG/sigv4_tool"
}
run sigv4 sigv4
anchors() {
    local want got
    want=$(/usr/bin/python3 test/anchors.py)
    got=$(sed -n '/BEGIN anchors/,/END anchors/p' mcp.c | sed '1d;$d')
    if [ "$want" = "$got" ]; then echo "ok - mcp.c's trust anchors are the system's AWS roots"
    else echo "not ok - mcp.c's trust anchors differ from test/anchors.py's output"; fi
}
run anchors anchors

# 3. sanitized builds of the examples, for the integration suites
mkdir -p build/asan
for src in examples/*.c; do
    gcc -std=c11 $SAN -o "build/asan/$(basename "$src" .c)" "$src" mcp.c -lbearssl -lm -lpthread
done
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1

# 4. the official TypeScript SDK client, over HTTP and stdio
. test/node.sh
run sdk "$NODE22" test/sdk.mjs build/hello
[ $QUICK = 1 ] || run sdk-asan "$NODE22" test/sdk.mjs build/asan/hello

# 5. the official conformance suites against serve
run conformance bash test/conformance.sh build/conformance
[ $QUICK = 1 ] || run conformance-asan bash test/conformance.sh build/asan/conformance

# 6. the Lambda path: runtime, events, faults, conformance through the gateway
run lambda "$NODE22" test/lambda/test.mjs build/conformance
[ $QUICK = 1 ] || run lambda-asan "$NODE22" test/lambda/test.mjs build/asan/conformance
run lambda-conformance bash test/lambda/conformance.sh build/conformance

# 7. outbound: HTTPS over BearSSL against openssl s_server, an S3-compatible server, SigV4
run outbound bash test/outbound/run.sh build
[ $QUICK = 1 ] || run outbound-asan bash test/outbound/run.sh build/asan

# 8. who may call, and what survives bad input: auth modes, limits, soak, valgrind; fuzzing
run auth bash test/auth/run.sh build
run fuzz bash test/fuzz.sh "${FUZZ_SECONDS:-5}"

# the stdio proxy, through a SigV4-verifying front and the Lambda gateway
run proxy bash test/proxy/run.sh build/hello
[ $QUICK = 1 ] || run proxy-asan bash test/proxy/run.sh build/asan/hello

# valgrind over the integration suites: the SDK session (stdio ends with the exit status
# valgrind sets), the conformance suites over serve and through the Lambda gateway (each
# process's errors go to a log of its own, which must stay empty)
need valgrind >/dev/null 2>&1 || true
valgrind_suite() {
    mkdir -p build/valgrind
    rm -f build/valgrind/vg.*.log
    for b in hello conformance; do
        gcc -std=c11 -g -O0 -o "build/valgrind/$b-bin" "examples/$b.c" mcp.c -lbearssl -lm -lpthread || return 1
        printf '#!/bin/sh\nexec valgrind -q --error-exitcode=99 --leak-check=full --show-leak-kinds=definite --errors-for-leak-kinds=definite --log-file="$(dirname "$0")/vg.%%p.log" "$(dirname "$0")/%s-bin" "$@"\n' "$b" >"build/valgrind/$b"
        chmod +x "build/valgrind/$b"
    done
    "$NODE22" test/sdk.mjs build/valgrind/hello
    bash test/conformance.sh build/valgrind/conformance
    bash test/lambda/conformance.sh build/valgrind/conformance
    local n errs
    n=$(ls build/valgrind/vg.*.log 2>/dev/null | wc -l)
    errs=$(cat build/valgrind/vg.*.log 2>/dev/null | grep -c '==[0-9]*==' || true)
    if [ "$n" -gt 0 ] && [ "$errs" -eq 0 ]; then echo "ok - valgrind: no error in $n server processes"
    else echo "not ok - valgrind: $errs report lines in $n logs"; cat build/valgrind/vg.*.log | head -40; fi
}
[ $QUICK = 1 ] || run valgrind valgrind_suite

# 9. deployment, with a stand-in aws CLI
run deploy bash test/deploy/test.sh

# 10. arm64 builds, their tests under qemu-user
need qemu-user-static gcc-aarch64-linux-gnu >/dev/null 2>&1 || true
arm64() {
    ARCH=arm64 ./build.sh >/dev/null || { echo "not ok - ARCH=arm64 ./build.sh"; return 1; }
    for b in hello conformance; do
        printf '#!/bin/sh\nexec qemu-aarch64-static "$(dirname "$0")/%s" "$@"\n' "$b" >"build/arm64/qemu-$b"
        chmod +x "build/arm64/qemu-$b"
    done
    local got
    got=$(build/arm64/qemu-hello call add '{"a":2,"b":3}')
    if [ "$got" = '{"content":[{"type":"text","text":"5"}]}' ]; then echo "ok - arm64 hello call add"; else echo "not ok - arm64 hello call add: $got"; fi
    if file build/arm64/bootstrap | grep 'ARM aarch64.*statically linked' >/dev/null; then echo "ok - build/arm64/bootstrap is a static aarch64 binary"
    else echo "not ok - build/arm64/bootstrap: $(file build/arm64/bootstrap)"; fi
    if unzip -Z build/arm64/bootstrap.zip | grep '^-rwxr-xr-x.* bootstrap$' >/dev/null; then echo "ok - arm64 bootstrap.zip holds bootstrap, mode 0755"
    else echo "not ok - arm64 bootstrap.zip layout"; fi
}
run arm64 arm64
run sdk-arm64 "$NODE22" test/sdk.mjs build/arm64/qemu-hello
run conformance-arm64 bash test/conformance.sh build/arm64/qemu-conformance
[ $QUICK = 1 ] || run lambda-arm64 "$NODE22" test/lambda/test.mjs build/arm64/qemu-conformance

# 11. the benchmark, in its quick mode, so it cannot rot
run bench bash bench/run.sh
run bench-aws bash bench/test_aws.sh

echo
if [ ${#FAILED[@]} -gt 0 ]; then echo "failed steps: ${FAILED[*]}"; fi
echo "$PASS passed, $FAIL failed"
[ "$FAIL" -eq 0 ]
