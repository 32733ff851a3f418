#!/usr/bin/env bash
# bench/run.sh: mcp.c's benchmark suite. Prints ONE table and writes it to a RESULTS.md.
#
#   bench/run.sh            quick mode (CI): small repetition counts, a few minutes at most;
#                           it checks that everything runs and the table is well formed,
#                           never how fast anything is; the table goes to bench/out/RESULTS.md
#   bench/run.sh --full     the real numbers (>= 100 cold starts, 10,000 invocations, the
#                           Node peer under callgrind, arm64 builds; about 15 minutes), written
#                           to bench/RESULTS.md (tracked: only --full rewrites it)
#
# Sections: 1 cold start through the Runtime API emulator (exec → first GET /next, exec →
# first answered invocation, instructions to the first /next); 2 warm cost (latency,
# invocations/s, instructions per invocation, peak RSS, `serve` under wrk); 3 the peer (the
# same server on the official TypeScript SDK, bench/peer/), in the same rows; 4 sizes; 5 JSON
# parse/serialize throughput against cJSON, json-c, simdjson and (when given) yyjson on
# bench/data/json/ (see its NOTICE), on a warm heap and on a fresh one (a new process per
# measurement). See bench/README.md.
#
#   --yyjson DIR (or YYJSON_DIR=DIR)   a copy of github.com/ibireme/yyjson (DIR/src/yyjson.c
#                           or DIR/yyjson.c), built as a JSON peer; never part of the repository.
#                           yyjson is not in Debian: without it its rows are left out (said so).
#
# Installs what it lacks from Debian (valgrind, wrk, hyperfine, libcjson-dev, libjson-c-dev,
# libsimdjson-dev, g++), Node 22 through test/node.sh, and bench/package.json's packages.
# Builds with ./build.sh in copies of the sources under bench/out/ (build/ is left alone).
set -euo pipefail
SELF="$(cd "$(dirname "$0")" && pwd)/$(basename "$0")"
cd "$(dirname "$0")/.."
ROOT=$(pwd)
B=$ROOT/bench
OUT=$B/out

MODE=quick
YYJSON=${YYJSON_DIR:-}
while [ $# -gt 0 ]; do
    case "$1" in
    --full) MODE=full ;;
    --quick) MODE=quick ;;
    --yyjson) [ $# -ge 2 ] || { echo "bench/run.sh: --yyjson needs a directory" >&2; exit 2; }; YYJSON=$2; shift ;;
    --yyjson=*) YYJSON=${1#--yyjson=} ;;
    -h | --help) sed -n '2,26p' "$SELF" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "bench/run.sh: unknown option $1 (--full, --quick, --yyjson DIR)" >&2; exit 2 ;;
    esac
    shift
done
T0=$(date +%s)
say() { printf 'bench: %s (%ds)\n' "$*" $(($(date +%s) - T0)) >&2; }
die() { echo "bench/run.sh: $*" >&2; exit 1; }

need() { # need PACKAGE...: install the Debian packages that are missing
    local missing=() p
    for p in "$@"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
    [ ${#missing[@]} -eq 0 ] && return 0
    say "installing ${missing[*]}"
    local sudo=""
    [ "$(id -u)" -eq 0 ] || sudo=sudo
    $sudo apt-get update -qq >&2 || true
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}" >&2
}

need valgrind wrk libcjson-dev libjson-c-dev libsimdjson-dev g++ gcc zip unzip musl-tools
need hyperfine || say "hyperfine is not available: the one-shot CLI row is left out"

. "$ROOT/test/node.sh" || die "Node 22 could not be installed (test/node.sh)"

# bench/package.json: the peer's packages (the SDK), installed when missing or out of date
if [ ! -f "$B/node_modules/.package-lock.json" ] || [ "$B/package.json" -nt "$B/node_modules/.package-lock.json" ] ||
    [ "$B/package-lock.json" -nt "$B/node_modules/.package-lock.json" ] ||
    [ ! -f "$B/node_modules/@modelcontextprotocol/sdk/package.json" ]; then
    say "npm ci in bench/"
    npmlog=$(mktemp)
    (cd "$B" && timeout 900 npm ci --no-audit --no-fund --omit=dev >"$npmlog" 2>&1) || { cat "$npmlog" >&2; rm -f "$npmlog"; die "npm ci failed"; }
    rm -f "$npmlog"
fi

rm -rf "$OUT"
mkdir -p "$OUT"
LOAD_START=$(cut -d' ' -f1-3 /proc/loadavg)

# ---------------------------------------------------------------------------------------------
# builds: ./build.sh in a copy of the sources per variant (build/ is not touched, so other
# work in this checkout neither sees nor disturbs the benchmark's binaries)
stage() { # stage NAME: $OUT/src-NAME, a copy of what build.sh builds from
    local d=$OUT/src-$1
    mkdir -p "$d"
    cp "$ROOT/mcp.c" "$ROOT/mcp.h" "$ROOT/build.sh" "$d/"
    cp -r "$ROOT/examples" "$d/"
    echo "$d"
}
build() { # build NAME [VAR=VALUE...]: ./build.sh in stage NAME with the given environment
    local name=$1 d
    shift
    d=$(stage "$name")
    say "building $name"
    (cd "$d" && env "$@" ./build.sh >"$OUT/build-$name.log" 2>&1) || { cat "$OUT/build-$name.log" >&2; die "./build.sh failed for $name"; }
}
build x86_64-tls
build x86_64-notls MCP_ENABLE_TLS=0
# the same code unstripped, for callgrind_annotate (build.sh's flags without -s)
d=$(stage syms)
sed -i 's/^LDFLAGS="-static -s /LDFLAGS="-static /' "$d/build.sh"
grep -q '^LDFLAGS="-static -Wl' "$d/build.sh" || say "could not drop -s from build.sh's LDFLAGS: the profile may lack names"
(cd "$d" && ./build.sh examples/hello.c >"$OUT/build-syms.log" 2>&1) || { cat "$OUT/build-syms.log" >&2; die "./build.sh failed for the unstripped build"; }
ARM64=0
if [ $MODE = full ]; then
    ARM64=1
else # quick: arm64 only when the cross toolchain is already there
    arm_ok=1
    for p in gcc-aarch64-linux-gnu musl-dev:arm64 libbearssl-dev:arm64 zip; do dpkg -s "$p" >/dev/null 2>&1 || arm_ok=0; done
    if [ $arm_ok = 1 ]; then ARM64=1; else say "arm64 cross toolchain missing: arm64 sizes left out of the quick run (--full installs it)"; fi
fi
if [ $ARM64 = 1 ]; then
    build arm64-tls ARCH=arm64
    build arm64-notls ARCH=arm64 MCP_ENABLE_TLS=0
fi
MCP=$OUT/src-x86_64-tls/build/hello
SYMS=$OUT/src-syms/build/hello
[ -x "$MCP" ] || die "no $MCP after the build"

gcc -O2 -Wall -Wextra -o "$OUT/launch" "$B/launch.c"

# ---------------------------------------------------------------------------------------------
# 4. sizes (and the peer's package, section 3)
REC=$OUT/records.jsonl
: >"$REC"
rec_size() { # rec_size KEY ORDER LABEL BYTES [PEER_NAME PEER_BYTES NOTE]
    local b=null
    [ $# -ge 6 ] && b="{\"name\":\"$5\",\"samples\":[$6]}"
    printf '{"sec":4,"order":%d,"key":"%s","label":"%s","unit":"bytes","exact":true,"a":{"name":"mcp.c","samples":[%d]},"b":%s,"note":"%s"}\n' \
        "$2" "$1" "$3" "$4" "$b" "${7:-}" >>"$REC"
}
PEER_PKG=$OUT/peer-package
mkdir -p "$PEER_PKG"
cp "$B/peer/bootstrap" "$B/peer/index.mjs" "$B/peer/server.mjs" "$B/package.json" "$PEER_PKG/"
cp -r "$B/node_modules" "$PEER_PKG/node_modules"
rm -f "$PEER_PKG/node_modules/.package-lock.json"
(cd "$PEER_PKG" && zip -q -X -9 -r "$OUT/peer.zip" .)
PEER_ZIP=$(stat -c %s "$OUT/peer.zip")
PEER_UNZIPPED=$(find "$PEER_PKG" -type f -printf '%s\n' | awk '{s += $1} END {print s}')
PEER_FILES=$(find "$PEER_PKG" -type f | wc -l)
NODE_BIN=$(stat -L -c %s "$NODE22")
PKG_NOTE="peer: bootstrap, index.mjs, server.mjs, package.json and node_modules (npm ci --omit=dev: the SDK and its dependencies, $PEER_FILES files), zip -9; without node itself, which the nodejs22.x managed runtime provides ($(numfmt --grouping "$NODE_BIN") bytes if shipped in a custom runtime)"
printf '{"sec":3,"order":1,"key":"peer.zip","label":"Lambda package, zipped: bootstrap.zip (x86_64, TLS) vs the peer'"'"'s zip","unit":"bytes","exact":true,"a":{"name":"mcp.c","samples":[%d]},"b":{"name":"SDK peer","samples":[%d]},"note":"%s"}\n' \
    "$(stat -c %s "$OUT/src-x86_64-tls/build/bootstrap.zip")" "$PEER_ZIP" "$PKG_NOTE" >>"$REC"
printf '{"sec":3,"order":2,"key":"peer.unzipped","label":"Lambda package, unzipped: bootstrap (x86_64, TLS) vs the peer'"'"'s files","unit":"bytes","exact":true,"a":{"name":"mcp.c","samples":[%d]},"b":{"name":"SDK peer","samples":[%d]},"note":"%s"}\n' \
    "$(stat -c %s "$OUT/src-x86_64-tls/build/bootstrap")" "$PEER_UNZIPPED" "$PKG_NOTE" >>"$REC"
order=0
for arch in x86_64 arm64; do
    for tls in tls notls; do
        dir=$OUT/src-$arch-$tls/build
        [ $arch = x86_64 ] || dir=$dir/arm64
        [ -d "$dir" ] || continue
        t="with TLS"
        [ $tls = tls ] || t="without TLS"
        for f in hello conformance bootstrap.zip; do
            order=$((order + 1))
            rec_size "size.$arch.$tls.$f" $order "$f, $arch, $t" "$(stat -c %s "$dir/$f")"
        done
    done
done

# ---------------------------------------------------------------------------------------------
# 1-3. through the Runtime API emulator, and serve under wrk
PEERCG=()
[ $MODE = full ] && PEERCG=(--peer-callgrind)
say "runtime measurements ($MODE)"
"$NODE22" "$B/lambda.mjs" --mode $MODE --mcp "$MCP" --peer "$B/peer/bootstrap" --launch "$OUT/launch" \
    --records "$REC" --work "$OUT" --syms "$SYMS" "${PEERCG[@]}" >&2
[ -f "$OUT/callgrind.mcp.profile.out" ] && callgrind_annotate --inclusive=no "$OUT/callgrind.mcp.profile.out" >"$OUT/profile.txt" 2>/dev/null || true
[ -f "$OUT/callgrind.mcp.profile-start.out" ] && callgrind_annotate --inclusive=no "$OUT/callgrind.mcp.profile-start.out" >"$OUT/profile-start.txt" 2>/dev/null || true

# one-shot CLI (hyperfine): exec → exit of `hello call add`
if command -v hyperfine >/dev/null 2>&1; then
    runs=20
    [ $MODE = full ] && runs=200
    say "hyperfine: hello call add"
    got=$("$MCP" call add '{"a":2,"b":3}')
    [ "$got" = '{"content":[{"type":"text","text":"5"}]}' ] || die "hello call add printed $got"
    hyperfine -N --warmup 3 --runs $runs --export-json "$OUT/hyperfine.json" "$MCP call add '{\"a\":2,\"b\":3}'" >/dev/null
    "$NODE22" -e '
      const h = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8")).results[0];
      console.log(JSON.stringify({ sec: 1, order: 9, key: "cli.call", label: "one-shot CLI: `hello call add` exec → exit (hyperfine -N)", unit: "ms",
        a: { name: "mcp.c", samples: h.times.map((t) => t * 1000) }, b: null, note: "no Lambda, no emulator: the process runs one tool call and exits; peer n/a (the SDK has no such mode)" }));
    ' "$OUT/hyperfine.json" >>"$REC"
fi

# ---------------------------------------------------------------------------------------------
# 5. JSON
DATA=$B/data/json
for f in twitter.json citm_catalog.json canada.json; do [ -f "$DATA/$f" ] || die "$DATA/$f is missing"; done
say "JSON: building and running jsonbench"
J=$OUT/json
mkdir -p "$J"
# yyjson: from the copy given, never from the repository
YY_SRC="" YY_CFLAGS=() YY_OBJ=() YY_VERSION=""
if [ -n "$YYJSON" ]; then
    for c in "$YYJSON/src/yyjson.c" "$YYJSON/yyjson.c"; do [ -f "$c" ] && [ -f "${c%.c}.h" ] && { YY_SRC=$c; break; }; done
    [ -n "$YY_SRC" ] || die "--yyjson $YYJSON: no src/yyjson.c with its yyjson.h there"
    YY_VERSION=$(sed -n 's/^#define YYJSON_VERSION_STRING "\(.*\)"/\1/p' "${YY_SRC%.c}.h")
    gcc -O2 -std=c11 -DNDEBUG -c -o "$J/yyjson.o" "$YY_SRC"
    YY_CFLAGS=(-DJB_YYJSON -I"$(dirname "$YY_SRC")") YY_OBJ=("$J/yyjson.o")
    say "JSON: yyjson $YY_VERSION from $YY_SRC"
else
    say "JSON: yyjson NOT measured: no copy given (bench/run.sh --yyjson DIR or YYJSON_DIR=DIR, DIR a checkout of github.com/ibireme/yyjson); its rows are left out"
fi
gcc -O2 -std=c11 -DNDEBUG -DMCP_ENABLE_TLS=0 -c -o "$J/mcp.o" "$ROOT/mcp.c"
gcc -O2 -std=c11 -DNDEBUG -Wall -Wextra "${YY_CFLAGS[@]}" -c -o "$J/jsonbench.o" "$B/json/jsonbench.c"
g++ -O2 -std=c++17 -DNDEBUG -Wall -c -o "$J/simd.o" "$B/json/simd.cc"
g++ -o "$J/jsonbench" "$J/jsonbench.o" "$J/simd.o" "$J/mcp.o" "${YY_OBJ[@]}" -lcjson -ljson-c -lsimdjson -lm -lpthread
# as shipped: build.sh's CFLAGS (read from build.sh), musl, static
SHIPPED_CFLAGS=$(sed -n '/^CFLAGS="/,/"/p' "$ROOT/build.sh" | tr '\n' ' ' | sed 's/^CFLAGS="//; s/".*//')
[ -n "$SHIPPED_CFLAGS" ] || SHIPPED_CFLAGS="-std=c11 -Os -DNDEBUG"
# shellcheck disable=SC2086
musl-gcc $SHIPPED_CFLAGS -DMCP_ENABLE_TLS=0 -DJB_MCP_ONLY -Wno-pedantic -static -o "$J/jsonbench-shipped" \
    "$B/json/jsonbench.c" "$ROOT/mcp.c" -lm -lpthread
REPS=7 FRESH_REPS=5
[ $MODE = full ] && { REPS=31; FRESH_REPS=21; }
FILES=("$DATA/twitter.json" "$DATA/citm_catalog.json" "$DATA/canada.json")
"$J/jsonbench" --reps $REPS "${FILES[@]}" >"$J/json.jsonl"
# fresh heap: a new process for every timed parse and serialize (a cold start's case)
"$J/jsonbench" --fresh --reps $FRESH_REPS "${FILES[@]}" >"$J/json-fresh.jsonl"
"$J/jsonbench-shipped" --reps $REPS "${FILES[@]}" >"$J/json-shipped.jsonl"

# ---------------------------------------------------------------------------------------------
# the table
say "report"
ver() { dpkg-query -W -f='${Version}' "$1" 2>/dev/null || echo '?'; }
COMMIT=$(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo unknown)
[ -z "$(git -C "$ROOT" status --porcelain -- mcp.c mcp.h build.sh examples 2>/dev/null)" ] || COMMIT="$COMMIT (+ uncommitted changes to the runtime)"
CMD="bench/run.sh"
RESULTS=$OUT/RESULTS.md # quick numbers say nothing: they never replace the tracked table
[ $MODE = full ] && { CMD="bench/run.sh --full"; RESULTS=$B/RESULTS.md; }
"$NODE22" -e '
  const [mode, cmd, commit, cpu, nproc, kernel, loadStart, versions] = process.argv.slice(1);
  const loadEnd = require("fs").readFileSync("/proc/loadavg", "utf8").split(" ").slice(0, 3).join(" ");
  console.log(JSON.stringify({ mode, command: cmd, commit, cpu, nproc, kernel, loadStart, loadEnd, versions,
    date: new Date().toISOString().replace("T", " ").replace(/\.\d+Z$/, " UTC") }));
' "$MODE" "$CMD" "$COMMIT" "$(grep -m1 'model name' /proc/cpuinfo | sed 's/.*: //')" "$(nproc)" "$(uname -r)" "$LOAD_START" \
    "Node $("$NODE22" --version), @modelcontextprotocol/sdk $("$NODE22" -p 'require(process.argv[1]).version' "$B/node_modules/@modelcontextprotocol/sdk/package.json"), gcc $(gcc -dumpversion), musl $(ver musl-tools), valgrind $(valgrind --version | sed 's/valgrind-//'), wrk $(ver wrk), cJSON $(ver libcjson-dev), json-c $(ver libjson-c-dev), simdjson $(ver libsimdjson-dev)${YY_VERSION:+, yyjson $YY_VERSION (built -O2 from a copy outside the repository)}" \
    >"$OUT/meta.json"
"$NODE22" "$B/report.mjs" --records "$REC" --meta "$OUT/meta.json" --out "$RESULTS" \
    --json "$J/json.jsonl" --json-fresh "$J/json-fresh.jsonl" --json-shipped "$J/json-shipped.jsonl" --profile "$OUT/profile.txt" --profile-start "$OUT/profile-start.txt"
say "done: $RESULTS"
