#!/usr/bin/env bash
# test/fuzz.sh: build the libFuzzer targets of test/fuzz/ and run each for a while.
#
#   test/fuzz.sh SECONDS [TARGET...]    e.g. test/fuzz.sh 5, test/fuzz.sh 600 json mcp
#
# Targets are test/fuzz/fuzz_NAME.c (each includes mcp.c); they are built with clang,
# libFuzzer, ASan and UBSan (every UBSan report fatal) into build/fuzz/fuzz_NAME and run
# for SECONDS each (-max_total_time, -timeout=10, -rss_limit_mb=2048) on a copy of the
# seed corpus test/fuzz/corpus/NAME: the seeds stay as they are, and inputs the run finds
# interesting accumulate in build/fuzz/corpus-NAME for the next run. A dictionary
# test/fuzz/NAME.dict is used when present. Crash, leak, timeout and out-of-memory inputs
# are written to build/fuzz/artifacts-NAME/; the full log is build/fuzz/fuzz-NAME.log.
#
# Prints one line per target, "ok - fuzz NAME: E execs, C coverage, F features" or
# "not ok - fuzz NAME: crash (REPRODUCER)" with the sanitizer's summary, then
# "# N passed, M failed"; exits 1 if any target crashed or did not build.
# Reproduce a crash with build/fuzz/fuzz_NAME REPRODUCER (FUZZ_DEBUG=1 prints what the
# HTTP-level targets answered).
set -uo pipefail
cd "$(dirname "$0")/.."

if [ $# -lt 1 ] || ! [[ $1 =~ ^[0-9]+$ ]]; then
    echo "usage: test/fuzz.sh SECONDS [TARGET...]" >&2
    exit 2
fi
SECS=$1
shift
if [ $# -gt 0 ]; then
    TARGETS=("$@")
else
    TARGETS=()
    for f in test/fuzz/fuzz_*.c; do t=${f#test/fuzz/fuzz_}; TARGETS+=("${t%.c}"); done
fi

CC=${CC:-clang}

# What the build needs, checked by what it uses (a package name can be ambiguous once a
# foreign architecture's copy is installed too); missing pieces come from Debian.
missing=()
command -v "${CC%% *}" >/dev/null || missing+=(clang)
[ -f /usr/include/bearssl.h ] || missing+=(libbearssl-dev)
if command -v "${CC%% *}" >/dev/null &&
    ! echo 'int LLVMFuzzerTestOneInput(const unsigned char *d, unsigned long n) { (void)d; return (int)n * 0; }' |
        $CC -fsanitize=fuzzer -x c - -o /dev/null >/dev/null 2>&1; then
    missing+=(libclang-rt-14-dev)
fi
if [ ${#missing[@]} -gt 0 ] && command -v apt-get >/dev/null; then
    sudo=""
    [ "$(id -u)" -eq 0 ] || sudo=sudo
    echo "test/fuzz.sh: installing ${missing[*]}" >&2
    { $sudo apt-get update -qq && DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}"; } >&2 ||
        echo "test/fuzz.sh: could not install ${missing[*]}" >&2
fi
OUT=build/fuzz
mkdir -p "$OUT"
CFLAGS="-g -O1 -fno-omit-frame-pointer -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all"

PASS=0
FAIL=0
declare -A BUILT
# build every target at once
pids=()
for t in "${TARGETS[@]}"; do
    if [ ! -f "test/fuzz/fuzz_$t.c" ]; then
        echo "not ok - fuzz $t: no such target (test/fuzz/fuzz_$t.c)"
        FAIL=$((FAIL + 1))
        continue
    fi
    # shellcheck disable=SC2086
    ( $CC $CFLAGS -o "$OUT/fuzz_$t" "test/fuzz/fuzz_$t.c" -lbearssl -lm -lpthread >"$OUT/build-$t.log" 2>&1 ) &
    pids+=("$!:$t")
done
for pt in "${pids[@]}"; do
    pid=${pt%%:*}
    t=${pt#*:}
    if wait "$pid"; then BUILT[$t]=1
    else
        echo "not ok - fuzz $t: build failed ($OUT/build-$t.log)"
        grep -m5 'error' "$OUT/build-$t.log" | sed 's/^/  | /'
        FAIL=$((FAIL + 1))
    fi
done

export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}

for t in "${TARGETS[@]}"; do
    [ -n "${BUILT[$t]:-}" ] || continue
    corpus="$OUT/corpus-$t"
    art="$OUT/artifacts-$t"
    log="$OUT/fuzz-$t.log"
    mkdir -p "$corpus" "$art"
    if [ -d "test/fuzz/corpus/$t" ]; then cp -n "test/fuzz/corpus/$t"/* "$corpus"/ 2>/dev/null; fi
    dict=()
    [ -f "test/fuzz/$t.dict" ] && dict=("-dict=test/fuzz/$t.dict")
    "$OUT/fuzz_$t" -max_total_time="$SECS" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
        -artifact_prefix="$art/" "${dict[@]}" "$corpus" >"$log" 2>&1
    rc=$?
    unit=$(sed -n 's/.*Test unit written to \(.*\)$/\1/p' "$log" | tail -1)
    if [ $rc -ne 0 ] || [ -n "$unit" ]; then
        echo "not ok - fuzz $t: crash (${unit:-exit $rc, see $log})"
        grep -E -m8 'INVARIANT FAILED|^  [A-Za-z]|ERROR: (AddressSanitizer|LeakSanitizer|libFuzzer)|runtime error|SUMMARY' "$log" | sed 's/^/  | /'
        grep -E -m12 '^    #[0-9]+ .* in .*(mcp\.c|test/fuzz)' "$log" | sed 's/^/  | /'
        FAIL=$((FAIL + 1))
        continue
    fi
    execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
    stats=$(grep -E '^#[0-9]+.*cov: [0-9]+ ft: [0-9]+' "$log" | tail -1)
    cov=$(sed -n 's/.*cov: \([0-9]*\).*/\1/p' <<<"$stats")
    ft=$(sed -n 's/.*ft: \([0-9]*\).*/\1/p' <<<"$stats")
    echo "ok - fuzz $t: ${execs:-0} execs, ${cov:-0} coverage, ${ft:-0} features"
    PASS=$((PASS + 1))
done

echo "# $PASS passed, $FAIL failed"
[ $FAIL -eq 0 ]
