#!/usr/bin/env bash
# test/run.sh: every test of mcp.c. Prints one "ok"/"not ok" line per check and always ends
# with "N passed, M failed" (a step that cannot run counts as failed, and so does a run that
# stops early); exits non-zero on any failure. Each step's output is in build/test-logs/.
#
#   test/run.sh            everything: builds, unit tests (plain and under ASan+UBSan, gcc
#                          and clang), SDK client over HTTP and stdio, the official
#                          conformance suites over serve and through the Lambda gateway
#                          (tasks there with their DynamoDB table in moto's server),
#                          Lambda runtime and fault tests, a fresh clone's first use, the
#                          deployment against a stand-in CLI and against moto (the real AWS
#                          CLI and Terraform), the quick benchmark (~25 minutes on 2 cores)
#   test/run.sh --quick    skips the sanitizer and valgrind reruns of the integration suites
#                          and the arm64 Lambda tests
#
# Installs what it needs: Debian packages (npm too, when there is none), Node 22 and the test
# packages from npm (test/node.sh). Changes no tracked file; the last step checks that.
set -uo pipefail
cd "$(dirname "$0")/.." || exit 2
ROOT=$(pwd)
QUICK=0
[ "${1:-}" = "--quick" ] && QUICK=1

PASS=0
FAIL=0
FAILED=()
LOG=$ROOT/build/test-logs
mkdir -p "$LOG"

# The closing line, also when the run stops early (an error in this script, a signal).
# Steps run in subshells: one that stops early fails alone, and a signal is handled here,
# once the step in progress has ended, outside its log's redirection.
FINISHED=0
summary() {
    echo
    if [ ${#FAILED[@]} -gt 0 ]; then echo "failed steps: ${FAILED[*]}"; fi
    echo "$PASS passed, $FAIL failed"
}
on_exit() {
    local rc=$?
    [ $FINISHED = 1 ] && return
    echo "not ok - test/run.sh stopped early (exit $rc)"
    FAIL=$((FAIL + 1))
    FAILED+=(stopped)
    summary
    exit 1
}
trap on_exit EXIT
trap 'exit 130' INT TERM

# run NAME CMD...: run a step (in a subshell); count the ok/not ok lines it prints, or its
# exit status. LAST_RC is the step's exit status.
LAST_RC=0
run() {
    local name=$1; shift
    local out="$LOG/$name.log" t0 t1 rc p f
    t0=$(date +%s)
    ("$@") >"$out" 2>&1
    rc=$?
    LAST_RC=$rc
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
need gcc g++ clang libclang-rt-14-dev musl-tools zip unzip file binutils libbearssl-dev openssl python3 python3-botocore python3-yaml ca-certificates git curl >/dev/null 2>&1 || echo "test/run.sh: could not install packages" >&2
# npm from Debian only when there is none (a Node.js from elsewhere brings its own)
command -v npm >/dev/null 2>&1 || need npm >/dev/null 2>&1 || echo "test/run.sh: could not install npm" >&2

# the checkout as the tests found it: tracked changes and untracked files (ignored ones aside)
tree_state() { git status --porcelain=v1 --untracked-files=all 2>&1; git diff HEAD --binary 2>&1 | cksum; }
TREE_BEFORE=$(tree_state)

# 0. what the steps use, checked before they use it
tools() {
    local t
    for t in gcc g++ clang musl-gcc zip unzip file nm python3 openssl git curl npm; do
        if command -v "$t" >/dev/null 2>&1; then echo "ok - $t is installed"; else echo "not ok - $t is missing (the steps that use it fail)"; fi
    done
    if [ -f /usr/include/bearssl.h ] && [ -f /usr/lib/x86_64-linux-gnu/libbearssl.a ]; then echo "ok - BearSSL (libbearssl-dev) is installed"
    else echo "not ok - BearSSL (libbearssl-dev) is missing"; fi
    # the deployment's real parts, and the task store of tasks on Lambda (the lambda-tasks,
    # deploy-moto and deploy-terraform steps skip without them)
    if command -v aws >/dev/null 2>&1; then echo "ok - the AWS CLI is installed ($(aws --version 2>&1 | cut -d' ' -f1))"
    else echo "not ok - the AWS CLI (aws) is missing: lambda-tasks, deploy-moto and deploy-terraform skip"; fi
    if python3 -c 'import moto.server' 2>/dev/null; then echo "ok - moto's server is installed"
    else echo "not ok - moto's server (python3 -m moto.server) is missing: lambda-tasks, deploy-moto and deploy-terraform skip"; fi
    if command -v terraform >/dev/null 2>&1; then echo "ok - terraform is installed"
    else echo "not ok - terraform is missing: deploy-terraform skips"; fi
    if [ -d "${TF_PLUGIN_MIRROR:-/opt/tf-plugins}/registry.terraform.io/hashicorp/aws" ]; then echo "ok - the AWS provider is in the local Terraform mirror"
    else echo "not ok - the AWS provider is missing from the local Terraform mirror ${TF_PLUGIN_MIRROR:-/opt/tf-plugins}: deploy-terraform skips"; fi
}
run tools tools

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
    # without TLS: warning-free, and nothing of BearSSL is needed to link
    local got
    mkdir -p build/notls
    if gcc $WARN -DMCP_ENABLE_TLS=0 -o build/notls/hello mcp.c examples/hello.c -lm -lpthread; then
        got=$(build/notls/hello call add '{"a":2,"b":3}')
        if [ "$got" = '{"content":[{"type":"text","text":"5"}]}' ]; then echo "ok - gcc -Werror -DMCP_ENABLE_TLS=0 mcp.c examples/hello.c links without BearSSL; call add prints $got"
        else echo "not ok - the -DMCP_ENABLE_TLS=0 build's call add printed: $got"; fi
    else echo "not ok - gcc -Werror -DMCP_ENABLE_TLS=0 mcp.c examples/hello.c (no -lbearssl) does not build"; fi
    # without AWS calls, alone and with every switch off: warning-free, the tools work, and
    # configuration that needs AWS stops the start, saying so
    local flags bin off="AWS calls are not available: this build has MCP_ENABLE_AWS=0"
    mkdir -p build/noaws
    for flags in "-DMCP_ENABLE_AWS=0" "-DMCP_ENABLE_AWS=0 -DMCP_ENABLE_TLS=0 -DMCP_ENABLE_AUTH=0 -DMCP_ENABLE_PROXY=0"; do
        bin=build/noaws/hello$([ "$flags" = -DMCP_ENABLE_AWS=0 ] || echo -alloff)
        # shellcheck disable=SC2046,SC2086
        if ! gcc $WARN $flags -o "$bin" mcp.c examples/hello.c $([ "$flags" = -DMCP_ENABLE_AWS=0 ] && echo -lbearssl) -lm -lpthread; then
            echo "not ok - gcc -Werror $flags mcp.c examples/hello.c does not build"
            continue
        fi
        got=$("$bin" call add '{"a":2,"b":3}')
        if [ "$got" = '{"content":[{"type":"text","text":"5"}]}' ]; then echo "ok - gcc -Werror $flags mcp.c examples/hello.c builds; call add prints $got"
        else echo "not ok - the $flags build's call add printed: $got"; fi
        got=$(env -i K1=ssm:/x "$bin" call add '{"a":2,"b":3}' 2>&1; echo "exit $?")
        if [ "$got" = "mcp: cannot start: K1=ssm:/x: $off
exit 2" ]; then echo "ok - $flags: K1=ssm:/x stops the start (exit 2), saying the build has no AWS calls"
        else echo "not ok - $flags: K1=ssm:/x gave: $got"; fi
        got=$(env -i MCP_TASKS_TABLE=tasks "$bin" serve 2>&1; echo "exit $?")
        if [ "$got" = "mcp: cannot start: MCP_TASKS_TABLE=tasks: $off
exit 2" ]; then echo "ok - $flags: MCP_TASKS_TABLE stops serve's start (exit 2), saying the build has no AWS calls"
        else echo "not ok - $flags: MCP_TASKS_TABLE gave: $got"; fi
    done
    got=$(build/noaws/hello proxy https://abc.lambda-url.us-east-1.on.aws/mcp --sigv4 </dev/null 2>&1; echo "exit $?")
    if [ "$got" = "mcp: proxy: --sigv4: SigV4 signing is not available: this build has MCP_ENABLE_AWS=0
exit 2" ]; then echo "ok - -DMCP_ENABLE_AWS=0: proxy --sigv4 exits 2, saying the build cannot sign"
    else echo "not ok - -DMCP_ENABLE_AWS=0: proxy --sigv4 gave: $got"; fi
}
run build-matrix build_matrix
run map bash test/map.sh

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
asan_builds() {
    local src rc=0
    mkdir -p build/asan
    for src in examples/*.c; do
        if gcc -std=c11 $SAN -o "build/asan/$(basename "$src" .c)" "$src" mcp.c -lbearssl -lm -lpthread; then echo "ok - ASan+UBSan build of $src"
        else echo "not ok - ASan+UBSan build of $src"; rc=1; fi
    done
    return $rc
}
run build-asan asan_builds
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1

# 4. Node 22 and the test packages (npm registry); then the official TypeScript SDK client,
# over HTTP and stdio
node_setup() {
    command -v npm >/dev/null 2>&1 || { echo "not ok - npm is missing: Node 22 cannot be installed"; return 1; }
    if . test/node.sh; then echo "ok - Node $("$NODE22" --version) and test/package.json's packages (test/node.sh)"
    else echo "not ok - test/node.sh could not install Node 22 and the test packages"; return 1; fi
}
node22() { # node22 ARGS...: Node 22, or a failure that says why there is none
    if [ -n "${NODE22:-}" ]; then "$NODE22" "$@"; else echo "not ok - no Node 22 (see the node step)"; return 1; fi
}
NODE22=""
run node node_setup
# installed: test/node.sh now only finds it and exports NODE22 and PATH here
if [ $LAST_RC = 0 ]; then . test/node.sh >/dev/null 2>&1 || NODE22=""; fi
run sdk node22 test/sdk.mjs build/hello
run apps node22 test/apps.mjs build/apps
run tasks node22 test/tasks.mjs build/conformance
run lists node22 test/lists.mjs build/conformance
run oauth node22 test/oauth.mjs build/hello
[ $QUICK = 1 ] || run tasks-asan node22 test/tasks.mjs build/asan/conformance
run shutdown bash test/shutdown/run.sh
[ $QUICK = 1 ] || run shutdown-asan bash test/shutdown/run.sh $SAN
[ $QUICK = 1 ] || run sdk-asan node22 test/sdk.mjs build/asan/hello

# a newcomer's first use: a fresh clone, a server in a folder outside it, the README's commands
run firstuse bash test/firstuse.sh

# 5. the official conformance suites against serve
run conformance bash test/conformance.sh build/conformance
[ $QUICK = 1 ] || run conformance-asan bash test/conformance.sh build/asan/conformance

# 6. the Lambda path: runtime, events, faults, conformance through the gateway; events of
# other AWS services
run lambda node22 test/lambda/test.mjs build/conformance
[ $QUICK = 1 ] || run lambda-asan node22 test/lambda/test.mjs build/asan/conformance
run lambda-conformance bash test/lambda/conformance.sh build/conformance
# tasks on Lambda: the 2026-07-28 suite through the gateway with the task store in DynamoDB
# (moto's server), each task's handler in an asynchronous self-invocation the gateway's
# Invoke API runs in another sandbox (skips without moto or the aws CLI)
run lambda-tasks bash test/lambda/conformance.sh --tasks build/conformance
# the events Lambda delivers besides MCP requests, against a server of the test's own
lambda_events() { # lambda_events OUT DATATOOLS CC CFLAGS...: DATATOOLS for its scheduled refresh
    local out=$1 datatools=$2 libs="-lbearssl -lm -lpthread"; shift 2
    # the plain build is what build.sh makes: static, musl, -Os (BearSSL's fortified copies mapped as there)
    [ "$1" = musl-gcc ] && libs="/usr/lib/x86_64-linux-gnu/libbearssl.a -Wl,--defsym=__memcpy_chk=memcpy,--defsym=__memmove_chk=memmove,--defsym=__memset_chk=memset -lm -lpthread"
    # warnings of mcp.c are the build matrix's concern; the test server's own are checked here
    # shellcheck disable=SC2086
    if ! gcc -std=c11 -Wall -Wextra -Wpedantic -Werror -fsyntax-only test/lambda/events_server.c ||
        ! "$@" -std=c11 -o "$out" mcp.c test/lambda/events_server.c $libs; then
        echo "not ok - test/lambda/events_server.c does not build"; return 1
    fi
    node22 test/lambda/events.mjs "$out" "$datatools"
}
run lambda-events lambda_events build/events-server build/bootstrap musl-gcc -Os -static -I/usr/include/bearssl
[ $QUICK = 1 ] || run lambda-events-asan lambda_events build/asan/events-server build/asan/datatools gcc $SAN

# 7. outbound: HTTPS over BearSSL against openssl s_server, an S3-compatible server, SigV4;
# AWS services (moto) with retries and faults
run outbound bash test/outbound/run.sh build
# AWS through moto's server behind a SigV4-checking TLS proxy that injects faults (issue 11)
run aws-moto bash test/aws/moto.sh build
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
    node22 test/sdk.mjs build/valgrind/hello
    bash test/conformance.sh build/valgrind/conformance
    bash test/lambda/conformance.sh build/valgrind/conformance
    local n errs
    n=$(ls build/valgrind/vg.*.log 2>/dev/null | wc -l)
    errs=$(cat build/valgrind/vg.*.log 2>/dev/null | grep -c '==[0-9]*==' || true)
    if [ "$n" -gt 0 ] && [ "$errs" -eq 0 ]; then echo "ok - valgrind: no error in $n server processes"
    else echo "not ok - valgrind: $errs report lines in $n logs"; cat build/valgrind/vg.*.log | head -40; fi
}
[ $QUICK = 1 ] || run valgrind valgrind_suite

# 9. deployment, with a stand-in aws CLI; then with the real parts against moto's server: the
# AWS CLI through the cycle of every front door and auth mode moto supports (--quick: one of
# each front door), Terraform's plan, apply and destroy (~10 minutes; ~6 with --quick)
run deploy bash test/deploy/test.sh
if [ $QUICK = 1 ]; then run deploy-moto bash test/deploy/moto.sh --quick
else run deploy-moto bash test/deploy/moto.sh; fi
run deploy-terraform bash test/deploy/terraform.sh --quick

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
run sdk-arm64 node22 test/sdk.mjs build/arm64/qemu-hello
run conformance-arm64 bash test/conformance.sh build/arm64/qemu-conformance
[ $QUICK = 1 ] || run lambda-arm64 node22 test/lambda/test.mjs build/arm64/qemu-conformance

# 11. the benchmark, in its quick mode, so it cannot rot (its table goes to bench/out/)
run bench bash bench/run.sh
run bench-aws bash bench/test_aws.sh

# 12. suites that run when their scripts are there
[ -f test/tsan.sh ] && run tsan bash test/tsan.sh
[ -f test/hostile/run.sh ] && run hostile bash test/hostile/run.sh build

# 13. the checkout is as the tests found it
tracked() {
    git rev-parse --git-dir >/dev/null 2>&1 || { echo "not ok - no git, or not a git checkout: cannot tell whether the tests changed tracked files"; return 1; }
    local after
    after=$(tree_state)
    if [ "$after" = "$TREE_BEFORE" ]; then echo "ok - the tests changed no tracked file and left no untracked file (git status, git diff)"
    else
        echo "not ok - the checkout changed during the run (by a test, or by hand meanwhile):"
        diff <(printf '%s\n' "$TREE_BEFORE") <(printf '%s\n' "$after") | sed 's/^/  /'
    fi
}
run tracked tracked

FINISHED=1
summary
[ "$FAIL" -eq 0 ]
