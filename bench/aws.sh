#!/usr/bin/env bash
# bench/aws.sh: cold starts of a deployed Lambda function, measured by Lambda itself.
#
#   bench/aws.sh FUNCTION [N]        N forced cold starts (default 10)
#
# For each of N rounds: change an environment variable (MCP_BENCH_COLD, the other variables
# kept), which makes Lambda start a new execution environment for the next invocation;
# `aws lambda wait function-updated`; invoke with --log-type Tail and read the REPORT line of
# the log tail (base64 in LogResult) for Init Duration, Duration and Max Memory Used; then
# WARM more invocations of the same environment. At the end the function's variables are put
# back as they were. Prints a table: median, min and max of each figure.
#
# An invocation whose REPORT has an Init Duration is a cold start; one without is warm (a
# forced round without Init Duration is counted and reported: Lambda reused an environment).
#
# Environment: PAYLOAD (the event; default an MCP initialize as a direct invocation, which
# mcp.c answers with the JSON-RPC response, and so does bench/peer/index.mjs), WARM (warm
# invocations after each cold one, default 1), and the AWS CLI's own (AWS_PROFILE,
# AWS_REGION, ...). Needs the AWS CLI and python3 (JSON handling). The caller needs
# lambda:GetFunctionConfiguration, lambda:UpdateFunctionConfiguration, lambda:InvokeFunction.
set -euo pipefail

usage() { echo "usage: bench/aws.sh FUNCTION [N]   (env: PAYLOAD, WARM)" >&2; exit 2; }
[ $# -ge 1 ] && [ $# -le 2 ] || usage
FN=$1
N=${2:-10}
WARM=${WARM:-1}
case "$N" in '' | *[!0-9]*) usage ;; esac
case "$WARM" in '' | *[!0-9]*) usage ;; esac
[ "$N" -ge 1 ] || usage
PAYLOAD=${PAYLOAD:-'{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"mcp-bench-aws","version":"1.0.0"}}}'}
export AWS_PAGER=""

command -v aws >/dev/null 2>&1 || { echo "bench/aws.sh: the AWS CLI (aws) is not on PATH" >&2; exit 1; }
command -v python3 >/dev/null 2>&1 || { echo "bench/aws.sh: python3 is needed to handle the CLI's JSON" >&2; exit 1; }

tmp=$(mktemp -d)
ORIG_ENV=""
restore() {
    if [ -n "$ORIG_ENV" ]; then
        echo "aws.sh: restoring the function's environment variables" >&2
        aws lambda update-function-configuration --function-name "$FN" --environment "$ORIG_ENV" >/dev/null || true
        aws lambda wait function-updated --function-name "$FN" || true
    fi
    rm -rf "$tmp"
}
trap restore EXIT

# The variables as they are: {"K":"V",...} or null.
vars=$(aws lambda get-function-configuration --function-name "$FN" --query 'Environment.Variables' --output json)
ORIG_ENV=$(python3 -c 'import json,sys; v=json.loads(sys.argv[1] or "null") or {}; print(json.dumps({"Variables":v},separators=(",",":")))' "$vars")
with_nonce() { # with_nonce VALUE: the original variables plus MCP_BENCH_COLD=VALUE, as --environment JSON
    python3 -c 'import json,sys; v=json.loads(sys.argv[1])["Variables"]; v["MCP_BENCH_COLD"]=sys.argv[2]; print(json.dumps({"Variables":v},separators=(",",":")))' "$ORIG_ENV" "$1"
}

# invoke_report: one invocation; prints its REPORT line (tabs as in the log)
invoke_report() {
    local res
    res=$(aws lambda invoke --function-name "$FN" --cli-binary-format raw-in-base64-out --payload "$PAYLOAD" \
        --log-type Tail "$tmp/result.json")
    python3 -c '
import base64, json, sys
r = json.loads(sys.argv[1])
if r.get("FunctionError"):
    sys.exit("aws.sh: the function failed (%s): %s" % (r["FunctionError"], open(sys.argv[2]).read()[:500]))
log = base64.b64decode(r.get("LogResult", "")).decode("utf-8", "replace")
rep = [l for l in log.splitlines() if l.startswith("REPORT ")]
if not rep:
    sys.exit("aws.sh: no REPORT line in the log tail:\n" + log)
print(rep[-1])
' "$res" "$tmp/result.json"
}

# field NAME LINE: the number after "NAME: " in a REPORT line (fields are tab-separated)
field() {
    printf '%s\n' "$2" | tr '\t' '\n' | awk -v k="$1" '
        { sub(/^[ \t]+/, "") }
        index($0, k ": ") == 1 { s = substr($0, length(k) + 3); split(s, a, " "); print a[1]; exit }'
}

: >"$tmp/init" ; : >"$tmp/cold" ; : >"$tmp/total" ; : >"$tmp/warm" ; : >"$tmp/mem"
reused=0
take() { # take LINE: file the REPORT line's figures
    local line=$1 d init mem
    d=$(field Duration "$line")
    init=$(field "Init Duration" "$line")
    mem=$(field "Max Memory Used" "$line")
    [ -n "$d" ] || { echo "aws.sh: no Duration in: $line" >&2; exit 1; }
    [ -z "$mem" ] || echo "$mem" >>"$tmp/mem"
    if [ -n "$init" ]; then
        echo "$init" >>"$tmp/init"
        echo "$d" >>"$tmp/cold"
        awk -v a="$init" -v b="$d" 'BEGIN { printf "%.2f\n", a + b }' >>"$tmp/total"
        return 0
    fi
    echo "$d" >>"$tmp/warm"
    return 1
}

aws lambda wait function-updated --function-name "$FN"
for i in $(seq 1 "$N"); do
    aws lambda update-function-configuration --function-name "$FN" --environment "$(with_nonce "$(date +%s%N)-$i")" >/dev/null
    aws lambda wait function-updated --function-name "$FN"
    line=$(invoke_report)
    echo "cold $i/$N: $line" >&2
    take "$line" || reused=$((reused + 1))
    for w in $(seq 1 "$WARM"); do
        line=$(invoke_report)
        echo "warm $i.$w: $line" >&2
        take "$line" || true
    done
done

stat_row() { # stat_row LABEL FILE DECIMALS: | label | median | min | max | n |
    sort -g "$2" | awk -v label="$1" -v dec="$3" '
        { v[NR] = $1 }
        END {
            if (NR == 0) { printf "| %s | n/a | n/a | n/a | 0 |\n", label; exit }
            m = NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2
            f = "%." dec "f"
            printf "| %s | " f " | " f " | " f " | %d |\n", label, m, v[1], v[NR], NR
        }'
}

echo
echo "Function $FN: $N forced cold starts ($((N - reused)) with Init Duration; $reused reused an environment), $WARM warm invocation(s) after each."
echo
echo "| measure | median | min | max | n |"
echo "|---|---|---|---|---|"
stat_row "Init Duration, ms" "$tmp/init" 2
stat_row "Duration of the cold invocation, ms" "$tmp/cold" 2
stat_row "Init Duration + Duration, ms" "$tmp/total" 2
stat_row "Duration, warm invocations, ms" "$tmp/warm" 2
stat_row "Max Memory Used, MB" "$tmp/mem" 0
