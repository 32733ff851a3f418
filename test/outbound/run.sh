#!/usr/bin/env bash
# test/outbound/run.sh: the outbound tests of examples/datatools.c against local servers:
# TLS failures (openssl s_server with a test CA made here), connection reuse, describe_csv
# and list_objects on s3rver over HTTPS, ask_llm on a fake OpenAI API, ssm:/secretsmanager:
# configuration on a fake AWS endpoint that checks SigV4.
#
#   bash test/outbound/run.sh BUILD_DIR          BUILD_DIR/datatools (a release or ASan build)
#   bash test/outbound/run.sh BUILD_DIR --full   also a 300 MB CSV (or OUTBOUND_BIG=1)
#
# Prints "ok - name" / "not ok - name: why" and "# N passed, M failed"; exits 1 on failure.
# Installs what it lacks: Debian's openssl, python3, gcc, libbearssl-dev and time; Node 22 through
# test/node.sh; s3rver into test/outbound/node_modules (package.json, package-lock.json).
set -uo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)

bail() { echo "not ok - setup: $*"; echo "# 0 passed, 1 failed"; exit 1; }

[ $# -ge 1 ] || { echo "usage: $0 BUILD_DIR [--full]" >&2; exit 2; }
BUILD=$(cd "$1" 2>/dev/null && pwd) || bail "no directory $1"
BIN=$BUILD/datatools
[ -x "$BIN" ] || bail "$BIN is missing (./build.sh builds it)"
FULL=${OUTBOUND_BIG:-0}
[ "${2:-}" = --full ] && FULL=1

need() {
    local missing=()
    for p in "$@"; do # installed for any architecture (arm64 may sit beside amd64)
        dpkg-query -W -f='${db:Status-Status}\n' "$p" 2>/dev/null | grep -x installed >/dev/null || missing+=("$p")
    done
    [ ${#missing[@]} -eq 0 ] && return 0
    local sudo=""
    [ "$(id -u)" -eq 0 ] || sudo=sudo
    { $sudo apt-get update -qq && DEBIAN_FRONTEND=noninteractive timeout 600 $sudo apt-get install -y -qq "${missing[@]}"; } >/dev/null 2>&1
}
need openssl python3 gcc libbearssl-dev time || bail "could not install openssl python3 gcc libbearssl-dev time"

# Node 22 and this directory's npm packages
# shellcheck source=../node.sh
. "$ROOT/test/node.sh" || bail "test/node.sh could not install Node"
if ! [ -f "$HERE/node_modules/s3rver/package.json" ] || [ "$HERE/package-lock.json" -nt "$HERE/node_modules/.package-lock.json" ]; then
    (cd "$HERE" && timeout 600 npm ci --no-audit --no-fund) >"${TMPDIR:-/tmp}/outbound-npm.log" 2>&1 ||
        { cat "${TMPDIR:-/tmp}/outbound-npm.log"; bail "npm ci in test/outbound failed"; }
fi

WORK=$(mktemp -d "${TMPDIR:-/tmp}/outbound.XXXXXX")
# shellcheck disable=SC2317 # (called by the trap)
cleanup() { # what test.mjs started and left running (stopped by a timeout), by id, then the files
    if [ -f "$WORK/pids" ]; then
        while read -r pid; do # only a process of this run: its arguments or environment name $WORK
            if grep -qsF "$WORK" "/proc/$pid/cmdline" "/proc/$pid/environ"; then kill -9 "$pid" 2>/dev/null; fi
        done <"$WORK/pids"
    fi
    rm -rf "$WORK"
}
trap cleanup EXIT

# fetch.c, the test-only client, built the way the binary under test was (ASan or not)
SAN=""
if grep -q __asan_init "$BIN"; then
    SAN="-fsanitize=address,undefined -fno-omit-frame-pointer"
    # `call` returns from mcp_main with the server it was given no longer reachable, and
    # mcp.h has no way to free one: LeakSanitizer would report the server and its tools
    # (registered once in main) as leaks. Those, and only those, are suppressed; a leak in
    # a handler is still one.
    printf 'leak:%s\n' mcp_server_new mcp_server_instructions mcp_tool_add mcp_tool_output_schema \
        mcp_tool_annotations tool_prepare_locked >"$WORK/lsan.supp"
    export LSAN_OPTIONS="${LSAN_OPTIONS:+$LSAN_OPTIONS:}suppressions=$WORK/lsan.supp:print_suppressions=0"
fi
# shellcheck disable=SC2086
gcc -std=c11 -g -O1 $SAN -o "$WORK/fetch" "$HERE/fetch.c" "$ROOT/mcp.c" -lbearssl -lm -lpthread || bail "fetch.c does not build"

# The test PKI: a CA, leaf certificates for localhost (good, expired), one for another
# host, and one from a second CA that nothing trusts.
PKI=$WORK/pki
mkdir -p "$PKI/db"
(
    set -e
    cd "$PKI"
    ec() { echo -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes; }
    # shellcheck disable=SC2046
    openssl req -x509 $(ec) -keyout ca.key -out ca.pem -days 7 -subj "/CN=mcp.c outbound test CA" \
        -addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign,cRLSign
    # shellcheck disable=SC2046
    openssl req -x509 $(ec) -keyout evil.key -out evil.pem -days 7 -subj "/CN=untrusted test CA" \
        -addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign,cRLSign
    : >db/index
    echo 01 >db/serial
    printf '%s\n' '[ca]' 'default_ca = test' '[test]' 'database = db/index' 'serial = db/serial' \
        'new_certs_dir = db' 'default_md = sha256' 'policy = any' 'copy_extensions = copy' 'unique_subject = no' \
        'x509_extensions = leaf' '[any]' 'commonName = supplied' \
        '[leaf]' 'basicConstraints = CA:FALSE' 'extendedKeyUsage = serverAuth' >ca.cnf
    leaf() { # NAME CN SAN ISSUER [openssl ca options]
        local name=$1 cn=$2 san=$3 issuer=$4
        shift 4
        # shellcheck disable=SC2046
        openssl req -new $(ec) -keyout "$name.key" -out "$name.csr" -subj "/CN=$cn" -addext "subjectAltName=$san"
        openssl ca -batch -notext -config ca.cnf -cert "$issuer.pem" -keyfile "$issuer.key" -in "$name.csr" -out "$name.pem" "$@"
    }
    leaf good localhost DNS:localhost ca -days 7
    leaf expired localhost DNS:localhost ca -startdate 20200101000000Z -enddate 20200201000000Z
    leaf wronghost wrong.example DNS:wrong.example ca -days 7
    leaf untrusted localhost DNS:localhost evil -days 7
    leaf ipsan localhost DNS:localhost,IP:127.0.0.1,IP:::1 ca -days 7
) >"$WORK/pki.log" 2>&1 || { cat "$WORK/pki.log"; bail "openssl could not make the test PKI"; }

LIMIT=700
[ "$FULL" = 1 ] && LIMIT=1600
# --openssl-legacy-provider: s3rver's continuation tokens are DES-encrypted
timeout -k 10 "$LIMIT" "$NODE22" --openssl-legacy-provider "$HERE/test.mjs" "$BIN" "$WORK/fetch" "$WORK" "$FULL"
rc=$?
if [ $rc -eq 124 ] || [ $rc -eq 137 ]; then echo "not ok - test.mjs was stopped after $LIMIT s"; echo "# 0 passed, 1 failed"; fi
exit $rc
