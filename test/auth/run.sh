#!/usr/bin/env bash
# test/auth/run.sh: authentication and limits of mcp.c, end to end, against test/auth/server.c.
#
#   test/auth/run.sh [build | BINARY] [--slow]
#
#   build (the default)  compiles test/auth/server.c with mcp.c under ASan+UBSan
#                        (gcc -std=c11 -g -fsanitize=address,undefined) into build/auth/server
#   BINARY               a server already built from test/auth/server.c and mcp.c
#   --slow               also waits out the real 30 s idle timeout (408 for a stalled head, a
#                        head trickled byte by byte)
#   SOAK_SECONDS=60      a longer soak (default 10 s)
#
# Always built from source beside the server under test: a copy with MCP_IDLE_TIMEOUT=2 (the
# timeout mechanics in seconds instead of minutes), an -O2 build without sanitizers for the
# wrk soak (ASan's quarantine would swamp the RSS measurement) and an -O0 build for valgrind.
# JWTs are minted by jose (test/auth/package.json, installed here); the JWKS is served over
# HTTPS with a certificate from a throw-away CA made with openssl (SSL_CERT_FILE points the
# server at it). Lambda events go through test/lambda/emulator.mjs.
#
# Prints "ok - name" / "not ok - name: why" per check, "# ..." notes with timings, and
# "# N passed, M failed" last; exits 1 on any failure. Every step is bounded by a timeout.
set -uo pipefail
cd "$(dirname "$0")/../.."
ROOT=$(pwd)
OUT=$ROOT/build/auth
ARG=build
SLOW=()
for a in "$@"; do
    case "$a" in
    --slow) SLOW=(--slow) ;;
    *) ARG=$a ;;
    esac
done
SOAK_SECONDS=${SOAK_SECONDS:-10}
PASS=0
FAIL=0
T_START=$(date +%s)
ok() { echo "ok - $1"; PASS=$((PASS + 1)); }
notok() { echo "not ok - $1: $2"; FAIL=$((FAIL + 1)); }
finish() {
    echo "# total $(($(date +%s) - T_START)) s"
    echo "# $PASS passed, $FAIL failed"
    [ "$FAIL" -eq 0 ]
    exit $?
}
mkdir -p "$OUT"

# --- tools: Debian packages, Node 22, jose ---
need() {
    local missing=()
    local arch
    arch=$(dpkg --print-architecture)
    for p in "$@"; do
        # installed for this architecture (a multiarch machine has libbearssl-dev:arm64 too)
        dpkg -s "$p" >/dev/null 2>&1 || dpkg -s "$p:$arch" >/dev/null 2>&1 || missing+=("$p")
    done
    [ ${#missing[@]} -eq 0 ] && return 0
    local sudo=""
    [ "$(id -u)" -eq 0 ] || sudo=sudo
    timeout 300 $sudo apt-get update -qq && DEBIAN_FRONTEND=noninteractive timeout 600 $sudo apt-get install -y -qq "${missing[@]}"
}
PKGS=(gcc libbearssl-dev openssl valgrind wrk iproute2 ca-certificates)
command -v npm >/dev/null 2>&1 || PKGS+=(npm) # npm may come with a Node install of its own
if need "${PKGS[@]}" >"$OUT/apt.log" 2>&1; then ok "packages (gcc, BearSSL, openssl, valgrind, wrk, ss, npm)"
else notok "packages" "apt-get failed: $(tail -n 3 "$OUT/apt.log" | tr '\n' ' ')"; fi

if . test/node.sh; then ok "Node 22 ($NODE22)"
else notok "Node 22" "test/node.sh failed"; finish; fi

auth_deps_ok() {
    local stamp=test/auth/node_modules/.package-lock.json
    [ -f test/auth/node_modules/jose/package.json ] && [ -f "$stamp" ] &&
        [ ! test/auth/package.json -nt "$stamp" ] && [ ! test/auth/package-lock.json -nt "$stamp" ]
}
if auth_deps_ok || (cd test/auth && timeout 300 npm ci --no-audit --no-fund >"$OUT/npm.log" 2>&1); then ok "npm deps of test/auth (jose)"
else notok "npm deps of test/auth" "npm ci failed: $(tail -n 5 "$OUT/npm.log" | tr '\n' ' ')"; finish; fi

# --- a test CA and the JWKS server's certificate (localhost), fresh each run ---
PKI=$OUT/pki
rm -rf "$PKI"
mkdir -p "$PKI"
if (
    cd "$PKI" &&
        timeout 60 openssl req -x509 -newkey rsa:2048 -nodes -keyout ca.key -out ca.pem -days 2 -subj "/CN=mcp.c auth test CA" \
            -addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign,cRLSign &&
        timeout 60 openssl req -newkey rsa:2048 -nodes -keyout server.key -out server.csr -subj "/CN=localhost" &&
        printf 'subjectAltName=DNS:localhost,IP:127.0.0.1\nbasicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth\n' >ext.cnf &&
        timeout 60 openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial -out server.pem -days 2 -extfile ext.cnf &&
        timeout 60 openssl verify -CAfile ca.pem server.pem
) >"$OUT/pki.log" 2>&1; then ok "test CA and JWKS server certificate (openssl)"
else notok "test CA" "openssl failed: $(tail -n 3 "$OUT/pki.log" | tr '\n' ' ')"; finish; fi

# --- builds ---
build() { # build NAME FLAGS...: test/auth/server.c + mcp.c into $OUT/NAME
    local name=$1; shift
    local t0=$(date +%s)
    if timeout 300 gcc -std=c11 "$@" -o "$OUT/$name" test/auth/server.c mcp.c -lbearssl -lm -lpthread >"$OUT/$name.build.log" 2>&1; then
        ok "build $name ($* ; $(($(date +%s) - t0)) s)"
    else
        notok "build $name" "$(head -c 600 "$OUT/$name.build.log" | tr '\n' ' ')"
        return 1
    fi
}
SAN=(-g -fsanitize=address,undefined)
if [ "$ARG" = build ]; then
    build server "${SAN[@]}" || finish
    BIN=$OUT/server
elif [ -x "$ARG" ] && [ -f "$ARG" ]; then
    BIN=$(cd "$(dirname "$ARG")" && pwd)/$(basename "$ARG")
    ok "server under test: $BIN"
else
    notok "server under test" "$ARG is neither 'build' nor an executable"
    finish
fi
build server-t2 "${SAN[@]}" -DMCP_IDLE_TIMEOUT=2
build server-plain -O2 -g
build server-vg -O0 -g
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1}

# --- the suites (test/auth/test.mjs), each bounded ---
# step NAME SECONDS SECTION ARGS...: run test.mjs, pass its lines through, count them
step() {
    local name=$1 secs=$2; shift 2
    local log=$OUT/$name.log t0 rc p f
    t0=$(date +%s)
    timeout -k 10 "$secs" "$NODE22" test/auth/test.mjs --binary "$BIN" --short "$OUT/server-t2" --plain "$OUT/server-plain" \
        --vg "$OUT/server-vg" --pki "$PKI" --soak-seconds "$SOAK_SECONDS" "${SLOW[@]}" "$@" >"$log" 2>&1
    rc=$?
    grep -E '^(ok|not ok|#) ' "$log" | grep -v '^# [0-9]* passed' || true
    p=$(grep -c '^ok ' "$log")
    f=$(grep -c '^not ok ' "$log")
    PASS=$((PASS + p))
    FAIL=$((FAIL + f))
    if [ $rc -eq 124 ] || [ $rc -eq 137 ]; then notok "$name" "timed out after $secs s"
    elif [ $rc -ne 0 ] && [ "$f" -eq 0 ]; then notok "$name" "test.mjs exited $rc: $(grep -v -E '^(ok|not ok|#) ' "$log" | tail -n 5 | tr '\n' ' ')"; fi
    echo "# step $name: $p passed, $f failed, $(($(date +%s) - t0)) s"
}
SLOWS=0
[ ${#SLOW[@]} -gt 0 ] && SLOWS=120
step keys 120 keys
step jwt 180 jwt
step lambda 120 lambda
step limits $((240 + SLOWS)) limits
step timeouts 180 timeouts
step soak $((SOAK_SECONDS * 2 + 120)) soak
step valgrind 600 valgrind
finish
