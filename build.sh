#!/usr/bin/env bash
# build.sh: static, size-optimized, stripped MCP servers and their Lambda zips.
#
#   /path/to/mcp.c/build.sh server.c   your server, from your own folder: build/server, and
#                                      build/bootstrap + build/bootstrap.zip (the Lambda package)
#   ./build.sh                         in mcp.c's folder: every example into build/, the
#                                      data-tools server (examples/datatools.c) as build/bootstrap
#   ARCH=arm64 ./build.sh [FILES...]   the same for arm64, into build/arm64/
#
# Works from any directory: FILES are relative to the caller's directory, and the output goes
# to ./build/ there (./build/arm64/ for arm64). A server's `#include "mcp.h"` finds the mcp.h
# beside it, else the one beside build.sh; it is linked with the mcp.c beside it when there is
# one, else with the one beside build.sh. With several FILES the last one is the bootstrap.
# build/bootstrap.source names the file build/bootstrap was built from; replacing a bootstrap
# built from another file says so on stderr.
#
# Installs what it lacks from Debian (musl-tools, zip, libbearssl-dev; for arm64 the cross
# compiler, musl and BearSSL for arm64). MCP_ENABLE_TLS=0 builds without HTTPS and BearSSL.
# CC overrides the compiler; CFLAGS_EXTRA adds flags (such as -DMCP_ENABLE_AWS=0: mcp.c, section 1).
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd) # mcp.c's folder

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

# the files to build, checked before anything is installed or written
SOURCES=()
if [ $# -gt 0 ]; then
    for src in "$@"; do
        [ -f "$src" ] || { echo "build.sh: no such file: $src" >&2; exit 2; }
        SOURCES+=("$src")
    done
else
    for src in "$HERE"/examples/*.c; do SOURCES+=("$src"); done
fi

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
LDFLAGS="-static -s -Wl,--gc-sections -Wl,--build-id=none -Wl,-z,noseparate-code"
# arm64 linkers align segments to 64 KB pages by default; Lambda's arm64 kernels use 4 KB
[ "$ARCH" = arm64 ] && LDFLAGS="$LDFLAGS -Wl,-z,max-page-size=4096"
# Unwind tables (.eh_frame) come in with the C library and BearSSL, which Debian builds
# with them; a static C program never unwinds (no exceptions, musl cancels threads without
# unwinding), so they are discarded: 8 KB less on x86_64.
NOEH=$(mktemp)
trap 'rm -f "$NOEH"' EXIT
echo 'SECTIONS { /DISCARD/ : { *(.eh_frame) *(.eh_frame_hdr) } } INSERT AFTER .text;' >"$NOEH"
LDFLAGS="$LDFLAGS -Wl,-T,$NOEH"

# BearSSL: musl's include path leaves out /usr/include, so BearSSL's own header folder is
# named; Debian builds libbearssl.a with _FORTIFY_SOURCE, whose three checked copies musl
# lacks, so the linker maps them to the plain ones (their extra size argument is unused).
TLSFLAGS="-DMCP_ENABLE_TLS=0"
TLSLIBS=""
if [ "$TLS" != 0 ]; then
    TLSFLAGS="-I/usr/include/bearssl"
    TLSLIBS="$BEARSSL_LIB -Wl,--defsym=__memcpy_chk=memcpy,--defsym=__memmove_chk=memmove,--defsym=__memset_chk=memset"
fi

mkdir -p "$OUT"

build_one() { # build_one SOURCE NAME
    local dir runtime
    dir=$(cd "$(dirname "$1")" && pwd)
    runtime=$HERE/mcp.c
    [ -f "$dir/mcp.c" ] && runtime=$dir/mcp.c # the server's own copy of the runtime
    if [ "$dir/$(basename "$1")" = "$runtime" ]; then
        echo "build.sh: $1 is the runtime itself; build the server that includes mcp.h" >&2
        exit 2
    fi
    if [ "$runtime" = "$HERE/mcp.c" ] && [ -f "$dir/mcp.h" ] && ! cmp -s "$dir/mcp.h" "$HERE/mcp.h"; then
        echo "build.sh: $dir/mcp.h differs from $HERE/mcp.h and has no mcp.c beside it; put the matching mcp.c there or remove it" >&2
        exit 2
    fi
    # shellcheck disable=SC2086
    $CC $CFLAGS $TLSFLAGS ${CFLAGS_EXTRA:-} -I"$HERE" -o "$OUT/$2" "$1" "$runtime" $TLSLIBS $LDFLAGS -lm -lpthread
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

for src in "${SOURCES[@]}"; do build_one "$src" "$(basename "$src" .c)"; done

# the bootstrap: the last file named, or the data-tools server when none is
if [ $# -gt 0 ]; then BOOT=${SOURCES[${#SOURCES[@]} - 1]}; else BOOT=$HERE/examples/datatools.c; fi
BOOT_NAME=$(basename "$BOOT" .c)
BOOT_SRC="$(cd "$(dirname "$BOOT")" && pwd)/$(basename "$BOOT")"
if [ -f "$OUT/bootstrap" ]; then
    was=""
    [ -f "$OUT/bootstrap.source" ] && was=$(cat "$OUT/bootstrap.source")
    if [ -z "$was" ]; then
        echo "build.sh: replacing $OUT/bootstrap (built from an unrecorded source) with $BOOT_NAME ($BOOT_SRC)" >&2
    elif [ "$was" != "$BOOT_SRC" ]; then
        echo "build.sh: replacing $OUT/bootstrap, built from $was, with $BOOT_NAME ($BOOT_SRC)" >&2
    fi
fi
[ "$BOOT_NAME" = bootstrap ] || cp "$OUT/$BOOT_NAME" "$OUT/bootstrap"
printf '%s\n' "$BOOT_SRC" >"$OUT/bootstrap.source"
printf '%-28s %8d bytes  (%s)\n' "$OUT/bootstrap" "$(stat -c %s "$OUT/bootstrap")" "$BOOT_NAME"
zip_one "$OUT/bootstrap" "$OUT/bootstrap.zip"
