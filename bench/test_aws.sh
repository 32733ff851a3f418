#!/usr/bin/env bash
# bench/test_aws.sh: bench/aws.sh against a stand-in `aws` (no AWS here).
#
# The stand-in records every call (one line each, arguments separated by " | ") and answers
# with canned JSON: get-function-configuration gives {"EXISTING":"1"}; each invoke writes the
# function's result to the outfile and prints {"StatusCode":200,"LogResult":base64,...} with
# the next of eight REPORT lines (cold ones with Init Duration, warm ones without, and one
# forced round that Lambda answered from a reused environment). The test checks the exact
# figures of aws.sh's table and the exact sequence of calls. Prints ok/not ok per check and
# "# N passed, M failed"; exits 1 on any failure.
set -uo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
pass=0
fail=0
ok() { pass=$((pass + 1)); echo "ok - $1"; }
notok() { fail=$((fail + 1)); echo "not ok - $1"; [ $# -lt 2 ] || printf '%s\n' "$2" | sed 's/^/#   /'; }
check() { # check NAME GOT WANT
    if [ "$2" = "$3" ]; then ok "$1"; else notok "$1" "$(printf 'got:\n%s\nwant:\n%s' "$2" "$3")"; fi
}

mkdir -p "$T/bin" "$T/logs"
# Canned REPORT lines, in the order the invocations happen (N=4, WARM=1): cold, warm, ...
R='REPORT RequestId: 8f5c1a2e-0000-4000-8000-00000000000'
printf '%s1\tDuration: 1.80 ms\tBilled Duration: 15 ms\tMemory Size: 128 MB\tMax Memory Used: 18 MB\tInit Duration: 12.51 ms\t\n' "$R" >"$T/logs/1"
printf '%s2\tDuration: 0.95 ms\tBilled Duration: 1 ms\tMemory Size: 128 MB\tMax Memory Used: 18 MB\t\n' "$R" >"$T/logs/2"
printf '%s3\tDuration: 2.20 ms\tBilled Duration: 13 ms\tMemory Size: 128 MB\tMax Memory Used: 19 MB\tInit Duration: 10.20 ms\t\n' "$R" >"$T/logs/3"
printf '%s4\tDuration: 1.05 ms\tBilled Duration: 2 ms\tMemory Size: 128 MB\tMax Memory Used: 19 MB\t\n' "$R" >"$T/logs/4"
printf '%s5\tDuration: 1.60 ms\tBilled Duration: 2 ms\tMemory Size: 128 MB\tMax Memory Used: 18 MB\t\n' "$R" >"$T/logs/5"
printf '%s6\tDuration: 0.85 ms\tBilled Duration: 1 ms\tMemory Size: 128 MB\tMax Memory Used: 18 MB\t\n' "$R" >"$T/logs/6"
printf '%s7\tDuration: 3.40 ms\tBilled Duration: 18 ms\tMemory Size: 128 MB\tMax Memory Used: 17 MB\tInit Duration: 14.03 ms\t\n' "$R" >"$T/logs/7"
printf '%s8\tDuration: 1.10 ms\tBilled Duration: 2 ms\tMemory Size: 128 MB\tMax Memory Used: 17 MB\t\n' "$R" >"$T/logs/8"
# Each log tail also carries the runtime's own lines before REPORT, as real ones do.
for i in 1 2 3 4 5 6 7 8; do
    { printf 'START RequestId: 8f5c1a2e-0000-4000-8000-00000000000%s Version: $LATEST\n' "$i"
      printf '{"_aws":{"Timestamp":1767225600000},"Service":"hello","Requests":1}\n'
      printf 'END RequestId: 8f5c1a2e-0000-4000-8000-00000000000%s\n' "$i"
      cat "$T/logs/$i"; } >"$T/logs/$i.full"
done

cat >"$T/bin/aws" <<'FAKE'
#!/usr/bin/env bash
# stand-in aws: records the call, answers from $FAKE_DIR
out=""
for a in "$@"; do out="$out${out:+ | }$a"; done
printf '%s\n' "$out" >>"$FAKE_DIR/calls"
case "$1 $2" in
"lambda get-function-configuration") printf '{\n    "EXISTING": "1"\n}\n' ;;
"lambda update-function-configuration") printf '{"FunctionName":"myfn","LastUpdateStatus":"InProgress"}\n' ;;
"lambda wait") ;;
"lambda invoke")
    n=$(($(cat "$FAKE_DIR/n" 2>/dev/null || echo 0) + 1))
    echo $n >"$FAKE_DIR/n"
    outfile=${!#}
    printf '{"jsonrpc":"2.0","id":1,"result":{"protocolVersion":"2025-11-25"}}' >"$outfile"
    printf '{\n    "StatusCode": 200,\n    "LogResult": "%s",\n    "ExecutedVersion": "$LATEST"\n}\n' "$(base64 -w0 <"$FAKE_DIR/logs/$n.full")"
    ;;
*) echo "fake aws: unexpected call: $*" >&2; exit 254 ;;
esac
FAKE
chmod +x "$T/bin/aws"

FAKE_DIR=$T PATH="$T/bin:$PATH" WARM=1 bash "$HERE/aws.sh" myfn 4 >"$T/stdout" 2>"$T/stderr"
rc=$?
check "aws.sh exits 0" "$rc" 0

table=$(grep '^|' "$T/stdout")
want='| measure | median | min | max | n |
|---|---|---|---|---|
| Init Duration, ms | 12.51 | 10.20 | 14.03 | 3 |
| Duration of the cold invocation, ms | 2.20 | 1.80 | 3.40 | 3 |
| Init Duration + Duration, ms | 14.31 | 12.40 | 17.43 | 3 |
| Duration, warm invocations, ms | 1.05 | 0.85 | 1.60 | 5 |
| Max Memory Used, MB | 18 | 17 | 19 | 8 |'
check "the table has the exact medians, minima, maxima and counts" "$table" "$want"
check "the summary counts the forced round without Init Duration" \
    "$(grep '^Function' "$T/stdout")" \
    "Function myfn: 4 forced cold starts (3 with Init Duration; 1 reused an environment), 1 warm invocation(s) after each."

# the calls, with the nonce (time-based, unique per round) replaced by NONCE-i
calls=$(sed -E 's/"MCP_BENCH_COLD":"[0-9]+-([0-9]+)"/"MCP_BENCH_COLD":"NONCE-\1"/' "$T/calls")
P='{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"mcp-bench-aws","version":"1.0.0"}}}'
inv="lambda | invoke | --function-name | myfn | --cli-binary-format | raw-in-base64-out | --payload | $P | --log-type | Tail | "
want="lambda | get-function-configuration | --function-name | myfn | --query | Environment.Variables | --output | json
lambda | wait | function-updated | --function-name | myfn"
for i in 1 2 3 4; do
    want="$want
lambda | update-function-configuration | --function-name | myfn | --environment | {\"Variables\":{\"EXISTING\":\"1\",\"MCP_BENCH_COLD\":\"NONCE-$i\"}}
lambda | wait | function-updated | --function-name | myfn
${inv}RESULT
${inv}RESULT"
done
want="$want
lambda | update-function-configuration | --function-name | myfn | --environment | {\"Variables\":{\"EXISTING\":\"1\"}}
lambda | wait | function-updated | --function-name | myfn"
calls=$(printf '%s\n' "$calls" | sed -E 's#\| [^|]*/result\.json$#| RESULT#')
check "the exact calls: read the variables, per round update + wait + cold and warm invoke, restore at the end" "$calls" "$want"

nonces=$(grep -o '"MCP_BENCH_COLD":"[0-9]*-[0-9]*"' "$T/calls" | sort -u | wc -l)
check "every round sets a different MCP_BENCH_COLD" "$nonces" 4
check "the REPORT lines are echoed on stderr (8 invocations)" "$(grep -c 'REPORT RequestId' "$T/stderr")" 8

# A failing function stops the run with the function's error, and still restores the variables.
cat >"$T/bin/aws-fail" <<'FAKE'
#!/usr/bin/env bash
out=""
for a in "$@"; do out="$out${out:+ | }$a"; done
printf '%s\n' "$out" >>"$FAKE_DIR/calls2"
case "$1 $2" in
"lambda get-function-configuration") echo null ;;
"lambda invoke") printf '{"errorMessage":"boom"}' >"${!#}"; printf '{"StatusCode":200,"FunctionError":"Unhandled","LogResult":""}\n' ;;
*) ;;
esac
FAKE
chmod +x "$T/bin/aws-fail"
mkdir -p "$T/bin2"
cp "$T/bin/aws-fail" "$T/bin2/aws"
FAKE_DIR=$T PATH="$T/bin2:$PATH" bash "$HERE/aws.sh" myfn 2 >"$T/stdout2" 2>"$T/stderr2"
rc=$?
check "a function error ends the run with a non-zero status" "$([ $rc -ne 0 ] && echo nonzero || echo zero)" nonzero
check "the function error is reported" "$(grep -c 'the function failed (Unhandled): {"errorMessage":"boom"}' "$T/stderr2")" 1
check "with no variables at first, the restore sets none" "$(grep -c -- '--environment | {"Variables":{}}$' "$T/calls2")" 1

check "usage: a bad N is refused" "$(bash "$HERE/aws.sh" myfn x >/dev/null 2>&1; echo $?)" 2

echo "# $pass passed, $fail failed"
[ $fail -eq 0 ]
