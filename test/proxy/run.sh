#!/usr/bin/env bash
# run.sh: `BINARY proxy URL --sigv4` end to end. MCP over stdio (the official TypeScript SDK
# client, and a raw newline-JSON client) -> the proxy -> a verifying front (front.mjs: an
# AWS_IAM function URL whose SigV4 check is @smithy/signature-v4, independent of mcp.c) ->
# the Lambda gateway of test/lambda/gateway.mjs -> BINARY as the function.
#
#   bash test/proxy/run.sh build/hello
#
# BINARY is both the proxy and the remote server. The streaming and progress checks use the
# conformance fixture next to it (build/conformance; PROXY_CONFORMANCE_BINARY overrides).
# Installs Node 22 + the SDK (test/node.sh) and this folder's package.json (the signer) when
# missing. Prints "ok - NAME" / "not ok - NAME: WHY" per check and "# N passed, M failed";
# exits 1 on any failure. The run is bounded by PROXY_TEST_TIMEOUT seconds (default 300).
set -u

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
if [ $# -ne 1 ]; then
    echo "usage: bash test/proxy/run.sh BINARY   (e.g. build/hello)" >&2
    exit 2
fi
bin=$1
case "$bin" in /*) ;; *) bin="$PWD/$bin" ;; esac
conf=${PROXY_CONFORMANCE_BINARY:-$(dirname "$bin")/conformance}
case "$conf" in /*) ;; *) conf="$PWD/$conf" ;; esac
limit=${PROXY_TEST_TIMEOUT:-300}

fail_setup() {
    echo "not ok - $1"
    echo "# 0 passed, 1 failed"
    exit 1
}

# shellcheck source=../node.sh
. "$here/../node.sh" || fail_setup "Node 22 and the MCP SDK install (test/node.sh)"

# This folder's own dependencies (@smithy/signature-v4, @aws-crypto/sha256-js).
deps_ok() {
    local stamp="$here/node_modules/.package-lock.json"
    [ -f "$stamp" ] && [ ! "$here/package.json" -nt "$stamp" ] && [ ! "$here/package-lock.json" -nt "$stamp" ] &&
        [ -f "$here/node_modules/@smithy/signature-v4/package.json" ] &&
        [ -f "$here/node_modules/@aws-crypto/sha256-js/package.json" ]
}
if ! deps_ok; then
    command -v npm >/dev/null 2>&1 || fail_setup "npm is installed (apt-get install npm)"
    log=$(mktemp "${TMPDIR:-/tmp}/mcp-proxy-npm.XXXXXX")
    lock="${TMPDIR:-/tmp}/mcp-proxy-npm-$(id -u)-$(printf '%s' "$here" | cksum | cut -d' ' -f1).lock"
    (
        if command -v flock >/dev/null 2>&1; then exec 9>"$lock" && flock -w 600 9 || exit 1; fi
        deps_ok && exit 0
        cd "$here" && timeout 600 npm ci --no-audit --no-fund
    ) >"$log" 2>&1
    if ! deps_ok; then
        sed 's/^/# npm: /' "$log"
        rm -f "$log"
        fail_setup "installing test/proxy/package.json's dependencies"
    fi
    rm -f "$log"
fi

[ -x "$bin" ] || fail_setup "BINARY is executable: $bin"

PROXY_TEST_TOTAL_MS=$(((limit - 10) * 1000)) timeout -k 5 "$limit" "$NODE22" "$here/test.mjs" "$bin" "$conf"
status=$?
if [ $status -eq 124 ] || [ $status -eq 137 ]; then
    echo "not ok - the run ends within ${limit} s (killed)"
    echo "# 0 passed, 1 failed"
    exit 1
fi
exit $status
