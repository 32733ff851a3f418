#!/usr/bin/env bash
# bench/tls.sh: instructions (callgrind, function-scoped) for one HTTPS GET through mcp.c's
# mcp_http_do and through OpenSSL 3, side by side, against one local openssl s_server
# (TLS 1.2, RSA-2048 leaf for localhost signed by an RSA-2048 test CA, -www), plus the sizes
# of build.sh's binaries. Every count is one deterministic callgrind run of the named function:
#   fresh GET, one CA        the first GET of a process; SSL_CERT_FILE (CAfile) = the test CA
#   resumed GET              the second GET of the same process, to the same host, on a new
#                            connection (s_server -www closes each): the session is resumed
#   second GET, full         the same without resumption: a full handshake in a warm process
#                            (mcp.c: to https://127.0.0.1, which has no session yet and which
#                            the leaf names too; OpenSSL: OGET_NORESUME)
#   fresh GET, system bundle the first GET with SSL_CERT_FILE = Debian's bundle (144
#                            certificates in bookworm's) with the test CA appended at its end
# and a table of sizes: hello and datatools as built, and with each MCP_ENABLE_* switch off
# (TLS, AUTH, PROXY, AWS; TLS and AWS together; all four).
#
#   bench/tls.sh [ROOT]      ROOT: the checkout whose mcp.c to measure (default: this one)
# TLS_NO_SIZES=1 skips the sizes. Writes bench/out/tls/ (untracked). mcp.c is built as build.sh builds it (musl, -Os, static,
# Debian's libbearssl.a) but unstripped; the OpenSSL client with gcc -O2 against Debian's
# libssl3 (glibc, dynamic), so its counts include glibc's getaddrinfo and OpenSSL's
# initialization on the first GET, as mcp.c's include musl's and the anchors' loading.
set -euo pipefail
B=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "${1:-$B/..}" && pwd)
OUT=$B/out/tls
mkdir -p "$OUT"
die() { echo "bench/tls.sh: $*" >&2; exit 1; }
for t in valgrind openssl musl-gcc gcc; do command -v $t >/dev/null || die "$t is missing (apt-get install valgrind openssl musl-tools gcc libssl-dev libbearssl-dev)"; done
BUNDLE=/etc/ssl/certs/ca-certificates.crt
[ -f $BUNDLE ] || die "no $BUNDLE (apt-get install ca-certificates)"

# the test PKI, and the system bundle with its CA
P=$OUT/pki
if [ ! -f "$P/leaf.pem" ]; then
    bash "$B/pki.sh" "$P" "bench test" || die "could not make the test PKI ($P/pki.log)"
    cat $BUNDLE "$P/ca.pem" >"$P/bundle.pem"
fi

# the clients (the mcp.c one with build.sh's flags, read from it, but unstripped)
CFLAGS=$(sed -n '/^CFLAGS="/,/"/p' "$ROOT/build.sh" | tr '\n' ' ' | sed 's/^CFLAGS="//; s/".*//')
[ -n "$CFLAGS" ] || CFLAGS="-std=c11 -Os -DNDEBUG"
musl-gcc $CFLAGS -I/usr/include/bearssl -I"$ROOT" -o "$OUT/get" "$B/tls/get.c" "$ROOT/mcp.c" /usr/lib/$(gcc -dumpmachine)/libbearssl.a \
    -Wl,--defsym=__memcpy_chk=memcpy,--defsym=__memmove_chk=memmove,--defsym=__memset_chk=memset -static -Wl,--gc-sections -lm -lpthread ||
    die "get.c does not build"
gcc -O2 -o "$OUT/oget" "$B/tls/oget.c" -lssl -lcrypto || die "oget.c does not build (libssl-dev)"

# the server
PORT=$((20000 + RANDOM % 20000))
openssl s_server -quiet -www -tls1_2 -accept $PORT -cert "$P/leaf.pem" -key "$P/leaf.key" >"$OUT/s_server.log" 2>&1 &
SRV=$!
trap 'kill $SRV 2>/dev/null' EXIT
for _ in $(seq 50); do (exec 3<>/dev/tcp/127.0.0.1/$PORT) 2>/dev/null && break; sleep 0.1; done
URL=https://localhost:$PORT/

ir() { # ir FUNCTION CMD...: instructions inside FUNCTION (inclusive) over the run of CMD
    local fn=$1 f
    shift
    f=$OUT/cg.$fn.$$
    valgrind --tool=callgrind --callgrind-out-file="$f" --toggle-collect="$fn" "$@" >/dev/null 2>"$f.err" || { cat "$f.err" >&2; die "$* failed under callgrind"; }
    sed -n 's/^summary: //p' "$f"
    rm -f "$f" "$f.err"
}
row() { # row LABEL MCP OPENSSL
    printf '| %s | %s | %s | %.2f |\n' "$1" "$2" "$3" "$(echo "$2 / $3" | bc -l)"
}
# correctness first: both clients fetch the page
SSL_CERT_FILE=$P/ca.pem "$OUT/get" "$URL" 2 || die "mcp.c's GET failed"
OGET_VERBOSE=1 "$OUT/oget" localhost $PORT "$P/ca.pem" 2 || die "OpenSSL's GET failed"

echo "| one HTTPS GET to localhost (s_server, RSA-2048, TLS 1.2) | mcp.c | OpenSSL 3 | mcp.c/OpenSSL |"
echo "|---|---|---|---|"
row "fresh GET, one CA in SSL_CERT_FILE" \
    "$(SSL_CERT_FILE=$P/ca.pem ir get_1 "$OUT/get" "$URL" 1)" "$(ir get_1 "$OUT/oget" localhost $PORT "$P/ca.pem" 1)"
row "second GET, same host, new connection (resumed)" \
    "$(SSL_CERT_FILE=$P/ca.pem ir get_2 "$OUT/get" "$URL" 2)" "$(ir get_2 "$OUT/oget" localhost $PORT "$P/ca.pem" 2)"
row "second GET, new connection, full handshake (no session to resume)" \
    "$(SSL_CERT_FILE=$P/ca.pem ir get_2 "$OUT/get" "$URL" 2 "https://127.0.0.1:$PORT/")" "$(OGET_NORESUME=1 ir get_2 "$OUT/oget" localhost $PORT "$P/ca.pem" 2)"
row "fresh GET, SSL_CERT_FILE = system bundle + test CA ($(grep -c "BEGIN CERTIFICATE" "$P/bundle.pem") certificates)" \
    "$(SSL_CERT_FILE=$P/bundle.pem ir get_1 "$OUT/get" "$URL" 1)" "$(ir get_1 "$OUT/oget" localhost $PORT "$P/bundle.pem" 1)"

[ "${TLS_NO_SIZES:-0}" = 1 ] && exit 0
# sizes: build.sh in a copy of the sources (build/ is not touched), per variant; "code" is
# text + data (size(1)), which page alignment of the file does not round
S=$OUT/src
rm -rf "$S"
mkdir -p "$S"
cp "$ROOT/mcp.c" "$ROOT/mcp.h" "$ROOT/build.sh" "$S/"
cp -r "$ROOT/examples" "$S/"
variant() { # variant NAME [VAR=VALUE...]: build.sh hello and datatools into $S/NAME/build
    local name=$1
    shift
    mkdir -p "$S/$name"
    (cd "$S/$name" && env "$@" ../build.sh ../examples/hello.c ../examples/datatools.c >>"$OUT/build.log" 2>&1) || die "build.sh failed ($name): $OUT/build.log"
}
: >"$OUT/build.log"
variant default
variant notls MCP_ENABLE_TLS=0
variant noauth CFLAGS_EXTRA=-DMCP_ENABLE_AUTH=0
variant noproxy CFLAGS_EXTRA=-DMCP_ENABLE_PROXY=0
variant noaws CFLAGS_EXTRA=-DMCP_ENABLE_AWS=0
variant notls-noaws MCP_ENABLE_TLS=0 CFLAGS_EXTRA=-DMCP_ENABLE_AWS=0
variant alloff MCP_ENABLE_TLS=0 "CFLAGS_EXTRA=-DMCP_ENABLE_AWS=0 -DMCP_ENABLE_AUTH=0 -DMCP_ENABLE_PROXY=0"
echo
echo "| size (build.sh, x86_64, musl, -Os, static, stripped) | hello: file | code | datatools (bootstrap): file | code |"
echo "|---|---|---|---|---|"
for v in default notls noauth noproxy noaws notls-noaws alloff; do
    d=$S/$v/build
    [ -f "$d/hello" ] || continue
    case $v in
    default) l="as built" ;; notls) l="MCP_ENABLE_TLS=0" ;; noauth) l="MCP_ENABLE_AUTH=0" ;;
    noproxy) l="MCP_ENABLE_PROXY=0" ;; noaws) l="MCP_ENABLE_AWS=0" ;; notls-noaws) l="MCP_ENABLE_TLS=0 MCP_ENABLE_AWS=0" ;;
    alloff) l="all four off (TLS, AWS, AUTH, PROXY)" ;;
    esac
    printf '| %s | %s | %s | %s | %s |\n' "$l" "$(stat -c %s "$d/hello")" "$(size "$d/hello" | awk 'NR==2{print $1+$2}')" \
        "$(stat -c %s "$d/datatools")" "$(size "$d/datatools" | awk 'NR==2{print $1+$2}')"
done
