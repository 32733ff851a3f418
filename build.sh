#!/usr/bin/env bash
# build.sh: static, size-optimized, stripped MCP servers and their Lambda zips.
#
#   ./build.sh                  every example into build/, build/bootstrap and build/bootstrap.zip
#   ./build.sh path/server.c    your server as build/bootstrap (and build/<name>)
#   ARCH=arm64 ./build.sh       the same for arm64, into build/arm64/
#
# Installs what it lacks from Debian (musl-tools, zip, libbearssl-dev; for arm64 the cross
# compiler, musl and BearSSL for arm64). MCP_ENABLE_TLS=0 builds without HTTPS and BearSSL.
# CC overrides the compiler; CFLAGS_EXTRA adds flags.
set -euo pipefail
cd "$(dirname "$0")"

ARCH=${ARCH:-x86_64}
OUT=build
[ "$ARCH" = x86_64 ] || OUT=build/$ARCH

need() { # need PACKAGE...: install the Debian packages that are missing
    local missing=()
    for p in "$@"; do dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null | grep 'ok installed' >/dev/null || missing+=("$p"); done
    [ ${#missing[@]} -eq 0 ] && return 0
    echo "build.sh: installing ${missing[*]}" >&2
    local sudo=""
    [ "$(id -u)" -eq 0 ] || sudo=sudo
    $sudo apt-get update -qq >&2
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}" >&2
}

TLS=${MCP_ENABLE_TLS:-1}
case "$ARCH" in
x86_64)
    need musl-tools zip
    [ "$TLS" = 0 ] || need "libbearssl-dev:$(dpkg --print-architecture)"
    CC=${CC:-musl-gcc}
    BEARSSL_LIB=/usr/lib/x86_64-linux-gnu/libbearssl.a
    ;;
arm64 | aarch64)
    ARCH=arm64
    if ! dpkg --print-foreign-architectures | grep -x arm64 >/dev/null; then
        [ "$(id -u)" -eq 0 ] && dpkg --add-architecture arm64 || sudo dpkg --add-architecture arm64
    fi
    need gcc-aarch64-linux-gnu musl-dev:arm64 zip
    [ "$TLS" = 0 ] || need libbearssl-dev:arm64
    CC=${CC:-"aarch64-linux-gnu-gcc -specs /usr/lib/aarch64-linux-musl/musl-gcc.specs"}
    BEARSSL_LIB=/usr/lib/aarch64-linux-gnu/libbearssl.a
    ;;
*) echo "build.sh: ARCH must be x86_64 or arm64, not $ARCH" >&2; exit 2 ;;
esac

CFLAGS="-std=c11 -Os -DNDEBUG -Wall -Wextra -Wpedantic -ffunction-sections -fdata-sections
        -fno-asynchronous-unwind-tables -fno-unwind-tables -fno-stack-protector -fno-plt"
LDFLAGS="-static -s -Wl,--gc-sections -Wl,--build-id=none"
# arm64 linkers align segments to 64 KB pages by default; Lambda's arm64 kernels use 4 KB
[ "$ARCH" = arm64 ] && LDFLAGS="$LDFLAGS -Wl,-z,max-page-size=4096"

mkdir -p "$OUT"

# BearSSL: musl's include path leaves out /usr/include, so its headers get a folder of
# their own; Debian builds libbearssl.a with _FORTIFY_SOURCE, whose three checked copies
# musl lacks, so a tiny shim supplies them (part of the build, not of mcp.c).
TLSFLAGS="-DMCP_ENABLE_TLS=0"
TLSLIBS=""
if [ "$TLS" != 0 ]; then
    mkdir -p "$OUT/include"
    ln -sfn /usr/include/bearssl.h "$OUT/include/bearssl.h"
    ln -sfn /usr/include/bearssl "$OUT/include/bearssl"
    cat >"$OUT/fortify.c" <<'SHIM'
#include <string.h>
void *__memcpy_chk(void *d, const void *s, size_t n, size_t dn) { (void)dn; return memcpy(d, s, n); }
void *__memmove_chk(void *d, const void *s, size_t n, size_t dn) { (void)dn; return memmove(d, s, n); }
void *__memset_chk(void *d, int c, size_t n, size_t dn) { (void)dn; return memset(d, c, n); }
SHIM
    # shellcheck disable=SC2086
    $CC -Os -c -o "$OUT/fortify.o" "$OUT/fortify.c"
    TLSFLAGS="-I$OUT/include"
    TLSLIBS="$OUT/fortify.o $BEARSSL_LIB"
fi

build_one() { # build_one SOURCE NAME
    # shellcheck disable=SC2086
    $CC $CFLAGS $TLSFLAGS ${CFLAGS_EXTRA:-} -o "$OUT/$2" "$1" mcp.c $TLSLIBS $LDFLAGS -lm -lpthread
    printf '%-28s %8d bytes\n' "$OUT/$2" "$(stat -c %s "$OUT/$2")"
}

zip_one() { # zip_one BINARY ZIP: the binary as bootstrap at the zip's root, mode 0755
    local tmp
    tmp=$(mktemp -d)
    cp "$1" "$tmp/bootstrap"
    chmod 0755 "$tmp/bootstrap"
    rm -f "$2"
    (cd "$tmp" && zip -q -X -9 bootstrap.zip bootstrap)
    mv "$tmp/bootstrap.zip" "$2"
    rm -rf "$tmp"
    printf '%-28s %8d bytes\n' "$2" "$(stat -c %s "$2")"
}

if [ $# -gt 0 ]; then
    for src in "$@"; do
        [ -f "$src" ] || { echo "build.sh: no such file: $src" >&2; exit 2; }
        name=$(basename "$src" .c)
        build_one "$src" "$name"
        cp "$OUT/$name" "$OUT/bootstrap"
    done
else
    for src in examples/*.c; do build_one "$src" "$(basename "$src" .c)"; done
    cp "$OUT/datatools" "$OUT/bootstrap" # the data-tools server is the default bootstrap
fi
printf '%-28s %8d bytes\n' "$OUT/bootstrap" "$(stat -c %s "$OUT/bootstrap")"
zip_one "$OUT/bootstrap" "$OUT/bootstrap.zip"
