#!/usr/bin/env bash
# bench/secrets.sh: a cold start with secrets, mcp.c against Node 22 + the AWS SDK v3. The
# shape of a real deployment's start (issue 17): five SSM parameters and one Secrets Manager
# secret (a JSON key of it) named by the environment, resolved at start-up over TLS from local
# stand-ins (bench/secrets/standin.py: SSM at https://localhost:P1, Secrets Manager at
# https://127.0.0.1:P2, separate hosts; every SigV4 signature checked with botocore), then the
# first tools/call answered (add 2 3; the process prints the result and exits).
#   mcp.c       build/hello as build.sh builds it, `hello call add '{"a":2,"b":3}'`, with
#               K1..K5=ssm:/aoma/... and K6=secretsmanager:aoma/db#password; and once more with
#               K6=secretsmanager:aoma/db?versionStage=AWSCURRENT#password (a form that goes
#               to Secrets Manager itself: two hosts, two TLS handshakes)
#   Node peer   bench/secrets/peer.mjs: @aws-sdk/client-ssm GetParameters and
#               @aws-sdk/client-secrets-manager GetSecretValue in parallel, then the hello
#               server on the MCP SDK (bench/peer/server.mjs) answers the tools/call in memory
# Rows: instructions of the whole process from exec to exit (valgrind --tool=callgrind, which
# counts every thread; perf stat has no PMU in this VM), wall time exec to exit (median of N,
# min-max), requests and connections that reached each stand-in, and whether every signature
# checked out. Writes bench/out/secrets/ (untracked) and prints the table.
#
#   bench/secrets.sh [N]     N wall-time runs each (default 20)
# Needs valgrind, openssl, python3 with botocore, musl-tools; Node 22 (test/node.sh) and
# bench/package.json's packages (npm ci in bench/ when missing).
set -euo pipefail
B=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$B/.." && pwd)
OUT=$B/out/secrets
N=${1:-20}
rm -rf "$OUT"
mkdir -p "$OUT"
die() { echo "bench/secrets.sh: $*" >&2; exit 1; }
for t in valgrind openssl python3 musl-gcc; do command -v $t >/dev/null || die "$t is missing"; done
. "$ROOT/test/node.sh" || die "Node 22 could not be installed (test/node.sh)"
if [ ! -f "$B/node_modules/@aws-sdk/client-ssm/package.json" ] || [ ! -f "$B/node_modules/@aws-sdk/client-secrets-manager/package.json" ] ||
    [ ! -f "$B/node_modules/@modelcontextprotocol/sdk/package.json" ]; then
    (cd "$B" && timeout 900 npm ci --no-audit --no-fund --omit=dev >"$OUT/npm.log" 2>&1) || die "npm ci failed: $(tail -n 5 "$OUT/npm.log")"
fi

# the PKI: an RSA-2048 CA and leaf (localhost and 127.0.0.1), as AWS endpoints present RSA
P=$OUT/pki
bash "$B/pki.sh" "$P" "bench secrets" || die "could not make the test PKI ($P/pki.log)"

# the stand-ins
AK=AKIDBENCHSECRETS SK=bench-secret-key REGION=us-east-1
cat >"$OUT/data.json" <<'JSON'
{"params": {"/aoma/db-host": "db.internal", "/aoma/db-user": "aoma", "/aoma/api-url": "https://api.example.com",
            "/aoma/feature-flags": "a,b,c", "/aoma/openai-key": "sk-bench-0123456789"},
 "secrets": {"aoma/db": "{\"password\":\"pw-bench-42\",\"port\":5432}"}}
JSON
LOG=$OUT/requests.jsonl
: >"$LOG"
python3 "$B/secrets/standin.py" --cert "$P/leaf.pem" --key "$P/leaf.key" --data "$OUT/data.json" --ready "$OUT/ports.json" \
    --log "$LOG" --access-key $AK --secret-key $SK --region $REGION >"$OUT/standin.log" 2>&1 &
SRV=$!
trap 'kill $SRV 2>/dev/null' EXIT
for _ in $(seq 100); do [ -f "$OUT/ports.json" ] && break; sleep 0.1; done
[ -f "$OUT/ports.json" ] || die "the stand-ins did not start: $(tail -n 5 "$OUT/standin.log")"
port() { python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))[sys.argv[2]])' "$OUT/ports.json" "$1"; }
SSM_URL=https://localhost:$(port ssm) SM_URL=https://127.0.0.1:$(port secretsmanager)

# mcp.c as build.sh builds it (musl, -Os, static, stripped)
(cd "$OUT" && "$ROOT/build.sh" "$ROOT/examples/hello.c" >build.log 2>&1) || die "build.sh failed: $(tail -n 5 "$OUT/build.log")"
HELLO=$OUT/build/hello

ENV=(env -i PATH="$PATH" HOME="$OUT" AWS_ACCESS_KEY_ID=$AK AWS_SECRET_ACCESS_KEY=$SK AWS_REGION=$REGION
    AWS_ENDPOINT_URL_SSM="$SSM_URL" AWS_ENDPOINT_URL_SECRETS_MANAGER="$SM_URL"
    SSL_CERT_FILE="$P/ca.pem" NODE_EXTRA_CA_CERTS="$P/ca.pem"
    K1=ssm:/aoma/db-host K2=ssm:/aoma/db-user K3=ssm:/aoma/api-url K4=ssm:/aoma/feature-flags K5=ssm:/aoma/openai-key)
SECRET='K6=secretsmanager:aoma/db#password'
SECRET_DIRECT='K6=secretsmanager:aoma/db?versionStage=AWSCURRENT#password'
WANT='{"content":[{"type":"text","text":"5"}]}'
MCP=("$HELLO" call add '{"a":2,"b":3}')
NODE=("$NODE22" "$B/secrets/peer.mjs")

# run NAME SECRET CMD...: once under callgrind (instructions, requests, connections, signatures),
# then N times for the wall time; prints a row's fields
declare -A INSTR WALL REQS
run() {
    local name=$1 secret=$2
    shift 2
    local mark out
    mark=$(wc -l <"$LOG")
    out=$("${ENV[@]}" "$secret" valgrind --tool=callgrind --callgrind-out-file="$OUT/$name.callgrind" "$@" 2>"$OUT/$name.valgrind.log") ||
        die "$name under callgrind failed: $(tail -n 5 "$OUT/$name.valgrind.log")"
    [ "$(printf '%s' "$out" | tr -d ' ')" = "$WANT" ] || [ "$(printf '%s' "$out" | python3 -c 'import json,sys; print(json.dumps(json.load(sys.stdin)["content"], separators=(",", ":")))')" = '[{"type":"text","text":"5"}]' ] ||
        die "$name answered $out"
    INSTR[$name]=$(sed -n 's/^summary: //p; s/^totals: //p' "$OUT/$name.callgrind" | head -n 1)
    REQS[$name]=$(tail -n +$((mark + 1)) "$LOG" | python3 -c 'import json,sys
r=[json.loads(l) for l in sys.stdin]
def n(p): return sum(1 for x in r if x["port"]==p)
def c(p): return len({x["conn"] for x in r if x["port"]==p})
bad=sum(1 for x in r if x["sig"]!="ok" or x["status"]!=200)
print("%d / %d | %d / %d | %s" % (n("ssm"), c("ssm"), n("secretsmanager"), c("secretsmanager"), "all ok" if not bad else "%d refused" % bad))')
    local ts=() t0 t1 i
    for i in $(seq "$N"); do
        t0=$(date +%s%N)
        "${ENV[@]}" "$secret" "$@" >/dev/null 2>&1 || die "$name run $i failed"
        t1=$(date +%s%N)
        ts+=($(((t1 - t0) / 1000)))
    done
    WALL[$name]=$(printf '%s\n' "${ts[@]}" | sort -n | awk '{a[NR]=$1} END {printf "%.2f ms (%.2f-%.2f)", a[int((NR+1)/2)]/1000, a[1]/1000, a[NR]/1000}')
}
"${ENV[@]}" "$SECRET" "$HELLO" call add '{"a":2,"b":3}' >/dev/null 2>&1 || die "hello does not start: $("${ENV[@]}" "$SECRET" "$HELLO" call add '{"a":2,"b":3}' 2>&1 | tail -n 2)"
run mcp "$SECRET" "${MCP[@]}"
run mcp_direct "$SECRET_DIRECT" "${MCP[@]}"
run node "$SECRET" "${NODE[@]}"

fmt() { python3 -c 'import sys; print(format(int(sys.argv[1]), ","))' "$1"; }
ratio() { python3 -c 'import sys; print("%.5f (%.0fx fewer)" % (int(sys.argv[1]) / int(sys.argv[2]), int(sys.argv[2]) / int(sys.argv[1])))' "$1" "$2"; }
{
    echo "## Cold start with secrets ($(date -u +%Y-%m-%d), $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg), commit $(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo '?'))"
    echo
    echo "| | instructions, exec to exit (callgrind) | wall, exec to exit (median of $N, min-max) | SSM requests / connections | Secrets Manager requests / connections | signatures |"
    echo "|---|---|---|---|---|---|"
    echo "| mcp.c \`hello call add\`, secret by name | $(fmt "${INSTR[mcp]}") | ${WALL[mcp]} | ${REQS[mcp]} |"
    echo "| mcp.c, secret with versionStage (to Secrets Manager) | $(fmt "${INSTR[mcp_direct]}") | ${WALL[mcp_direct]} | ${REQS[mcp_direct]} |"
    echo "| Node 22 + AWS SDK v3 + MCP SDK | $(fmt "${INSTR[node]}") | ${WALL[node]} | ${REQS[node]} |"
    echo
    echo "mcp.c/Node, instructions: $(ratio "${INSTR[mcp]}" "${INSTR[node]}"); hello: $(stat -c %s "$HELLO") bytes; node $("$NODE22" --version), @aws-sdk/client-ssm $("$NODE22" -p 'require("'"$B"'/node_modules/@aws-sdk/client-ssm/package.json").version')"
} | tee "$OUT/RESULTS.md"
