#!/usr/bin/env bash
# test/aws/moto.sh: mcp.c's AWS calls against moto's server (an independent AWS implementation)
# behind test/aws/faultproxy.py (TLS with a CA made here, every SigV4 signature computed again
# by botocore, faults on request).
#
#   test/aws/moto.sh [build | DIR]   build (the default): compiles test/aws/awsserver.c and
#                                    examples/datatools.c with mcp.c into build/aws/; DIR: a
#                                    directory holding awsserver and datatools built so
#   ONLY="basic retry"               run only these groups (basic, retry, creds, cognito)
#
# moto is seeded with the real AWS CLI (`--endpoint-url` at the proxy, so the proxy's checker
# is tried on botocore's own requests first): SSM parameters (String, SecureString, one with
# two versions and a label), a Secrets Manager secret {"user":"u","port":5432,"tls":true},
# an S3 bucket with objects, a DynamoDB table, a Cognito user pool with a user. The servers
# reach each service through its own proxy port, named by the SDKs' variables
# AWS_ENDPOINT_URL_<SERVICE_ID> (and, for binaries from before the SDK names,
# AWS_ENDPOINT_URL_<SIGNING NAME>), so the proxy's log shows which variable was used.
#
# Groups of checks (functions named in GROUP_*):
#   basic    start-up references, each helper, endpoint variables, SigV4 refusals
#   retry    the fault scenarios of issue 11: start-up through throttles, a tool call through
#            a 500, non-idempotent calls never sent twice once the server may have acted,
#            failures naming service, operation, AWS error code, message and attempts
#   creds    each credential source alone: profile keys, credential_process, role_arn through
#            moto's STS, container credentials, IMDSv2 (the last two served by the proxy)
#   cognito  a moto user pool's JWTs accepted by MCP_JWT_* auth, a tampered one refused
# Prints "ok - ..." / "not ok - ..." per check and "# N passed, M failed" last; exits 1 on any
# failure. Needs python3 with moto[server] and botocore, the aws CLI, openssl, curl, gcc.
set -uo pipefail
cd "$(dirname "$0")/../.." || exit 2
ROOT=$(pwd)
ARG=${1:-build}
PASS=0
FAIL=0
T0=$(date +%s)
ok() { PASS=$((PASS + 1)); echo "ok - $1"; }
not_ok() { FAIL=$((FAIL + 1)); echo "not ok - $1${2:+: $2}"; }
finish() {
    echo "# $(($(date +%s) - T0)) s"
    echo "# $PASS passed, $FAIL failed"
    [ "$FAIL" -eq 0 ]
    exit $?
}
# moto_lib.sh calls this when moto or the CLI is missing: a failure that says so, not a skip
skip_all() { not_ok "moto.sh cannot run" "$1"; finish; }
# check NAME GOT WANT
check() { if [ "$2" = "$3" ]; then ok "$1"; else not_ok "$1" "got [$2], want [$3]"; fi; }

# the interpreter itself, not pyenv's shim (half a second a start; the checks start it often)
PY=$(python3 -c 'import sys; print(sys.executable)' 2>/dev/null || echo python3)
. test/deploy/moto_lib.sh # moto on MOTO_URL, WORK, the aws CLI wrapper (cli_server.py)
unset AWS_ENDPOINT_URL     # moto_lib's, for its CLI: the servers get the proxy's instead
AK=testing SK=testing REGION=us-east-1

# --- the binaries ---
OUT=$ROOT/build/aws
mkdir -p "$OUT"
if [ "$ARG" = build ]; then
    gcc -std=c11 -O2 -Wall -Wextra -c -o "$WORK/mcp.o" mcp.c 2>"$WORK/build.log" || { not_ok "build mcp.c" "$(head -c 400 "$WORK/build.log")"; finish; }
    for b in awsserver:test/aws/awsserver.c datatools:examples/datatools.c; do
        if gcc -std=c11 -O2 -Wall -Wextra -o "$OUT/${b%%:*}" "$WORK/mcp.o" "${b#*:}" -lbearssl -lm -lpthread 2>"$WORK/build.log"; then
            ok "build $OUT/${b%%:*} from ${b#*:} and mcp.c"
        else not_ok "build ${b#*:}" "$(head -c 400 "$WORK/build.log")"; finish; fi
    done
    BIN=$OUT
else
    BIN=$(cd "$ARG" && pwd)
fi
SRV=$BIN/awsserver
DT=$BIN/datatools

# --- a CA and the proxy's certificate (localhost), made for this run ---
PKI=$WORK/pki
mkdir -p "$PKI"
if (cd "$PKI" &&
    openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout ca.key -out ca.pem -days 2 \
        -subj "/CN=faultproxy test CA" -addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign,cRLSign &&
    openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout server.key -out server.csr -subj "/CN=localhost" &&
    printf 'subjectAltName=DNS:localhost\nbasicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=serverAuth\n' >ext.cnf &&
    openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial -out server.pem -days 2 -extfile ext.cnf) >"$WORK/pki.log" 2>&1
then ok "test CA and the proxy's certificate (openssl)"
else not_ok "test CA" "$(tail -n 3 "$WORK/pki.log" | tr '\n' ' ')"; finish; fi

# --- the proxy: one port per service, "any" for AWS_ENDPOINT_URL, "llm" for ask_llm ---
PLOG=$WORK/requests.jsonl
: >"$PLOG"
"$PY" test/aws/faultproxy.py --moto "$MOTO_URL" --cert "$PKI/server.pem" --key "$PKI/server.key" \
    --listen ssm --listen secretsmanager --listen s3 --listen dynamodb --listen sts --listen lambda \
    --listen cognito-idp --listen any --listen llm --access-key $AK --secret-key $SK --region $REGION \
    --log "$PLOG" --ready "$WORK/ports.json" --faults "$WORK/faults.json" >"$WORK/proxy.log" 2>&1 &
SERVER_PID=$! # moto_lib's cleanup stops it
for _ in $(seq 1 100); do [ -f "$WORK/ports.json" ] && break; sleep 0.1; done
[ -f "$WORK/ports.json" ] || { not_ok "faultproxy" "did not start: $(tail -n 5 "$WORK/proxy.log")"; finish; }
port() { "$PY" -c 'import json,sys; print(json.load(open(sys.argv[1]))[sys.argv[2]])' "$WORK/ports.json" "$1"; }
declare -A P
for n in ssm secretsmanager s3 dynamodb sts lambda cognito-idp any llm control; do P[$n]=$(port $n); done
ok "faultproxy listening (ports $(tr -d '\n' <"$WORK/ports.json"))"
CTL=http://127.0.0.1:${P[control]}
ANY=https://localhost:${P[any]}

# --- seed moto with the real CLI, through the proxy (botocore's own signatures checked first) ---
export AWS_CA_BUNDLE=$PKI/ca.pem
seed_log=$WORK/seed.log
seed() { aws --endpoint-url "$ANY" "$@" >>"$seed_log" 2>&1 || { echo "aws $*" >>"$seed_log"; return 1; }; }
ACCT=123456789012
if seed ssm put-parameter --name /mcp/test/plain --value plain-value --type String &&
    seed ssm put-parameter --name /mcp/test/apikey --value 'sk-test-0123456789' --type SecureString &&
    seed ssm put-parameter --name /mcp/test/versioned --value v1-value --type String &&
    seed ssm put-parameter --name /mcp/test/versioned --value v2-value --type String --overwrite &&
    seed ssm label-parameter-version --name /mcp/test/versioned --parameter-version 1 --labels prod &&
    seed secretsmanager create-secret --name mcp/test/db --secret-string '{"user":"u","port":5432,"tls":true}' &&
    seed s3api create-bucket --bucket mcp-test-bucket &&
    printf 'id,name,score\n1,ann,3.5\n2,bob,4\n3,cy,\n' >"$WORK/data.csv" &&
    seed s3api put-object --bucket mcp-test-bucket --key data/scores.csv --body "$WORK/data.csv" &&
    seed s3api put-object --bucket mcp-test-bucket --key 'data/a b é.txt' --body "$PKI/ext.cnf" &&
    seed dynamodb create-table --table-name mcp-test --attribute-definitions AttributeName=id,AttributeType=S \
        --key-schema AttributeName=id,KeyType=HASH --billing-mode PAY_PER_REQUEST
then ok "moto seeded with the aws CLI through the proxy (SSM, Secrets Manager, S3, DynamoDB)"
else not_ok "seeding moto" "$(tail -n 4 "$seed_log" | tr '\n' ' ')"; finish; fi
bad=$(grep -vc '"sig": "ok"' "$PLOG")
check "the proxy's botocore check accepts every request the CLI signed ($(wc -l <"$PLOG") requests)" "$bad" 0
unset AWS_CA_BUNDLE

# --- the servers' environment ---
export AWS_ACCESS_KEY_ID=$AK AWS_SECRET_ACCESS_KEY=$SK AWS_REGION=$REGION SSL_CERT_FILE=$PKI/ca.pem
unset AWS_SESSION_TOKEN AWS_MAX_ATTEMPTS AWS_RETRY_MODE
endpoints() { # the SDKs' service IDs, and the signing names mcp.c read before
    export AWS_ENDPOINT_URL_SSM=https://localhost:${P[ssm]}
    export AWS_ENDPOINT_URL_SECRETS_MANAGER=https://localhost:${P[secretsmanager]}
    export AWS_ENDPOINT_URL_SECRETSMANAGER=$AWS_ENDPOINT_URL_SECRETS_MANAGER
    export AWS_ENDPOINT_URL_S3=https://localhost:${P[s3]}
    export AWS_ENDPOINT_URL_DYNAMODB=https://localhost:${P[dynamodb]}
    export AWS_ENDPOINT_URL_STS=https://localhost:${P[sts]}
    export AWS_ENDPOINT_URL_LAMBDA=https://localhost:${P[lambda]}
    export AWS_ENDPOINT_URL_COGNITO_IDENTITY_PROVIDER=https://localhost:${P[cognito-idp]}
    export AWS_ENDPOINT_URL_COGNITO_IDP=$AWS_ENDPOINT_URL_COGNITO_IDENTITY_PROVIDER
}
endpoints

# --- helpers ---
fault() { curl -s -o /dev/null -w '%{http_code}' -X POST --data "$1" "$CTL/faults" | grep -q 200 || not_ok "fault $1" "the proxy refused it"; }
clear_faults() { curl -s -o /dev/null -X DELETE "$CTL/faults"; }
MARK=0
mark() { MARK=$(wc -l <"$PLOG"); }
since() { tail -n +$((MARK + 1)) "$PLOG"; }
# arrivals OP: requests for OP that reached the proxy since the mark
arrivals() { since | grep -c "\"op\": \"$1\""; }
# field OP KEY: KEY of each request for OP since the mark, space-separated
field() { since | "$PY" -c 'import json,sys; print(" ".join(str(json.loads(l).get(sys.argv[2])) for l in sys.stdin if json.loads(l).get("op")==sys.argv[1]))' "$1" "$2"; }
# gaps OP: seconds between successive requests for OP since the mark, 1 decimal
gaps() { since | "$PY" -c 'import json,sys
t=[json.loads(l)["t"] for l in sys.stdin if json.loads(l).get("op")==sys.argv[1]]
print(" ".join("%.1f" % (b-a) for a,b in zip(t,t[1:])))' "$1"; }
# call BIN TOOL JSON: sets OUTP (stdout), ERRP (stderr), RC
call() { OUTP=$(timeout 60 "$1" call "$2" "$3" 2>"$WORK/stderr"); RC=$?; ERRP=$(cat "$WORK/stderr"); }
# text: the first text content of OUTP
text() { printf '%s' "$OUTP" | "$PY" -c 'import json,sys
try: print(json.load(sys.stdin)["content"][0]["text"], end="")
except Exception: print("(no result: %s)" % sys.stdin.read(), end="")'; }
# stdio_calls BIN JSON...: tools/call each {"name","arguments"} in one process (one connection
# pool, so later calls reuse kept-alive connections); prints the text of each result a line
stdio_calls() {
    local bin=$1; shift
    local i=1
    {
        printf '%s\n' '{"jsonrpc":"2.0","id":0,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"moto.sh","version":"1"}}}' '{"jsonrpc":"2.0","method":"notifications/initialized"}'
        for c in "$@"; do printf '{"jsonrpc":"2.0","id":%d,"method":"tools/call","params":%s}\n' $i "$c"; i=$((i + 1)); done
    } | timeout 60 "$bin" stdio 2>"$WORK/stderr" | "$PY" -c 'import json,sys
for l in sys.stdin:
    m = json.loads(l)
    if m.get("id"): r = m.get("result") or {}; print(("ERROR " if r.get("isError") else "") + (r.get("content") or [{"text": str(m.get("error"))}])[0]["text"])'
}
ddb() { # ddb OP JSON: the aws_json arguments for a DynamoDB call
    "$PY" -c 'import json,sys; print(json.dumps({"service":"dynamodb","target":"DynamoDB_20120810."+sys.argv[1],"json":sys.argv[2]}))' "$1" "$2"
}
# serve_start [VAR=VALUE...]: awsserver serve on a free port (SERVE_PORT, SERVE_PID), with these variables
serve_start() {
    SERVE_PORT=$(free_port)
    env "$@" "$SRV" serve --listen 127.0.0.1:"$SERVE_PORT" >"$WORK/serve.log" 2>&1 &
    SERVE_PID=$!
    for _ in $(seq 1 50); do curl -s -o /dev/null "http://127.0.0.1:$SERVE_PORT/health" && break; sleep 0.1; done
}
serve_stop() { kill "$SERVE_PID" 2>/dev/null; wait "$SERVE_PID" 2>/dev/null; }
# mcp_post TOKEN TOOL ARGS: initialize (with the bearer token when not empty), then call TOOL;
# the answer's body and HTTP status, a line each
mcp_post() {
    local h=(-H 'Content-Type: application/json' -H 'Accept: application/json, text/event-stream')
    [ -z "$1" ] || h+=(-H "Authorization: Bearer $1")
    local st sid
    st=$(curl -s -D "$WORK/init.head" -o /dev/null -w '%{http_code}' -X POST "http://127.0.0.1:$SERVE_PORT/mcp" "${h[@]}" \
        --data '{"jsonrpc":"2.0","id":0,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"moto.sh","version":"1"}}}')
    [ "$st" = 200 ] || { printf '\n%s\n' "$st"; return; }
    sid=$(tr -d '\r' <"$WORK/init.head" | sed -n 's/^[Mm][Cc][Pp]-[Ss]ession-[Ii][Dd]: //p')
    curl -s -w '\n%{http_code}' -X POST "http://127.0.0.1:$SERVE_PORT/mcp" "${h[@]}" ${sid:+-H "Mcp-Session-Id: $sid"} \
        -H 'MCP-Protocol-Version: 2025-11-25' \
        --data "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"tools/call\",\"params\":{\"name\":\"$2\",\"arguments\":$3}}"
}
PUT3='{"TableName":"mcp-test","Item":{"id":{"S":"3"},"n":{"N":"1"}}}'
GET3='{"TableName":"mcp-test","Key":{"id":{"S":"3"}}}'

# ============================ basic ============================
basic_startup_ssm() {
    mark
    K1=ssm:/mcp/test/apikey call "$SRV" env '{"name":"K1"}'
    check "K1=ssm:/mcp/test/apikey (SecureString) resolves at start-up: call env K1" "$RC $(text)" "0 sk-test-0123456789"
    check "  ... in one GetParameters, signed for ssm, on the AWS_ENDPOINT_URL_SSM port" "$(field GetParameters port)/$(field GetParameters sig)" "ssm/ok"
}
basic_startup_selectors() {
    K1=ssm:/mcp/test/versioned:1 call "$SRV" env '{"name":"K1"}'
    check "ssm:/mcp/test/versioned:1 (version selector) gives version 1" "$RC $(text)" "0 v1-value"
    K1=ssm:/mcp/test/versioned:prod call "$SRV" env '{"name":"K1"}'
    check "ssm:/mcp/test/versioned:prod (label selector) gives the labelled version" "$RC $(text)" "0 v1-value"
    K1=ssm:/mcp/test/versioned call "$SRV" env '{"name":"K1"}'
    check "ssm:/mcp/test/versioned gives the latest version" "$RC $(text)" "0 v2-value"
    K1=ssm:arn:aws:ssm:$REGION:$ACCT:parameter/mcp/test/plain call "$SRV" env '{"name":"K1"}'
    check "ssm:<parameter ARN> resolves" "$RC $(text)" "0 plain-value"
    K1=ssm:/mcp/test/nope call "$SRV" env '{"name":"K1"}'
    check "ssm:/mcp/test/nope stops start-up with exit 2, naming the variable" "$RC $ERRP" \
        "2 mcp: cannot start: K1=ssm:/mcp/test/nope: ssm: ParameterNotFound: the parameter does not exist or is not readable"
}
basic_startup_secrets() {
    K2='secretsmanager:mcp/test/db#port' call "$SRV" env '{"name":"K2"}'
    check 'secretsmanager:mcp/test/db#port (a number) gives its JSON text' "$RC $(text)" "0 5432"
    K2='secretsmanager:mcp/test/db#tls' call "$SRV" env '{"name":"K2"}'
    check 'secretsmanager:mcp/test/db#tls (a boolean) gives true' "$RC $(text)" "0 true"
    K2='secretsmanager:mcp/test/db#user' call "$SRV" env '{"name":"K2"}'
    check 'secretsmanager:mcp/test/db#user gives u' "$RC $(text)" "0 u"
    K2='secretsmanager:mcp/test/db?versionStage=AWSCURRENT#user' call "$SRV" env '{"name":"K2"}'
    check 'secretsmanager:mcp/test/db?versionStage=AWSCURRENT#user gives u' "$RC $(text)" "0 u"
    K2='secretsmanager:mcp/test/db' call "$SRV" env '{"name":"K2"}'
    check 'secretsmanager:mcp/test/db gives the whole secret' "$RC $(text)" '0 {"user":"u","port":5432,"tls":true}'
}
basic_datatools() {
    mark
    OPENAI_API_KEY=ssm:/mcp/test/apikey OPENAI_BASE_URL=https://localhost:${P[llm]}/v1 call "$DT" ask_llm '{"prompt":"hi"}'
    check "datatools: OPENAI_API_KEY=ssm:... resolved at start-up reaches the LLM API as the bearer key" "$RC $(text)" \
        "0 key=sk-test-0123456789 model=gpt-4o-mini"
    call "$DT" list_objects '{"bucket":"mcp-test-bucket","prefix":"data/"}'
    check "datatools list_objects: 2 objects under data/" "$RC $(text | head -n 1)" "0 2 objects in s3://mcp-test-bucket/data/ (key, size, last modified)"
    check "datatools list_objects: keys and sizes" "$(text | tail -n +2 | cut -f1,2 | tr '\t\n' ' |')" "data/a b é.txt $(stat -c %s "$PKI/ext.cnf")|data/scores.csv $(stat -c %s "$WORK/data.csv")|"
    call "$DT" describe_csv '{"source":"s3://mcp-test-bucket/data/scores.csv"}'
    check "datatools describe_csv s3://mcp-test-bucket/data/scores.csv: 3 rows, 3 columns" \
        "$RC $(printf '%s' "$OUTP" | "$PY" -c 'import json,sys; s=json.load(sys.stdin)["structuredContent"]; print(s["rows"], [(c["name"], c["type"], c["nulls"]) for c in s["columns"]])')" \
        "0 3 [('id', 'integer', 0), ('name', 'string', 0), ('score', 'number', 1)]"
    call "$DT" describe_csv '{"source":"s3://mcp-test-bucket/data/none.csv"}'
    check "datatools describe_csv of a missing object: an error naming it" "$RC $(text)" \
        "1 s3://mcp-test-bucket/data/none.csv: no such object (s3 GetObject: NoSuchKey: The specified key does not exist. (HTTP 404, 1 attempt))"
}
basic_helpers() {
    call "$SRV" ssm_get '{"name":"/mcp/test/apikey"}'
    check "mcp_ssm_get /mcp/test/apikey (decrypted)" "$RC $(text)" "0 sk-test-0123456789"
    call "$SRV" ssm_get '{"name":"/mcp/test/versioned:1"}'
    check "mcp_ssm_get /mcp/test/versioned:1" "$RC $(text)" "0 v1-value"
    call "$SRV" secret_get '{"spec":"mcp/test/db#port"}'
    check "mcp_secret_get mcp/test/db#port" "$RC $(text)" "0 5432"
    mark
    call "$SRV" s3_put '{"bucket":"mcp-test-bucket","key":"up/k é+x (1).txt","body":"hello, s3"}'
    check "mcp_s3_put a key with space, é, + and ()" "$RC $(text)" "0 HTTP 200"
    check "  ... as PUT /mcp-test-bucket/up/k%20%C3%A9%2Bx%20%281%29.txt" "$(field PutObject path)" "/mcp-test-bucket/up/k%20%C3%A9%2Bx%20%281%29.txt"
    check "  ... stored as sent (aws s3 cp -)" "$(aws --endpoint-url "$MOTO_URL" s3 cp 's3://mcp-test-bucket/up/k é+x (1).txt' - 2>&1)" "hello, s3"
    call "$SRV" s3_get '{"bucket":"mcp-test-bucket","key":"up/k é+x (1).txt"}'
    check "mcp_s3_get reads it back" "$RC $(text)" "0 hello, s3"
    mark
    call "$SRV" s3_put '{"bucket":"mcp-test-bucket","key":"zz/big.txt","body":"0123456789","repeat":2000000}'
    check "mcp_s3_put of 20,000,000 bytes: a multipart upload" "$RC $(text)" "0 HTTP 200"
    check "  ... CreateMultipartUpload, 3 UploadPart (8 MB, 8 MB, 3.2 MB), CompleteMultipartUpload" \
        "$(arrivals CreateMultipartUpload) $(arrivals UploadPart) $(arrivals CompleteMultipartUpload) $(arrivals PutObject)" "1 3 1 0"
    check "  ... moto holds the whole object, in 3 parts (aws s3api head-object)" \
        "$(aws --endpoint-url "$MOTO_URL" s3api head-object --bucket mcp-test-bucket --key zz/big.txt --query '[ContentLength, ETag]' --output text 2>&1 | sed 's/"[0-9a-f]*-/"-/')" '20000000	"-3"' 
    mark
    fault '{"op":"UploadPart","kind":"internal","count":3}'
    call "$SRV" s3_put '{"bucket":"mcp-test-bucket","key":"zz/failed.txt","body":"0123456789","repeat":2000000}'
    check "a multipart upload whose first part fails three times: the call fails, naming the part's operation and attempts" \
        "$RC $(text)" "1 s3 UploadPart: InternalError: We encountered an internal error. Please try again. (HTTP 500, 3 attempts)"
    check "  ... and the upload is aborted (no parts left behind)" "$(arrivals UploadPart) $(arrivals AbortMultipartUpload) $(arrivals CompleteMultipartUpload)" "3 1 0"
    clear_faults
    call "$SRV" s3_get '{"bucket":"mcp-test-bucket","key":"up/k é+x (1).txt","range":"bytes=0-4"}'
    check "mcp_s3_get with Range bytes=0-4" "$RC $(text)" "0 hello"
    call "$SRV" s3_list '{"bucket":"mcp-test-bucket","prefix":"up/"}'
    check "mcp_s3_list up/" "$RC $(text)" "0 1: up/k é+x (1).txt 9"
    mark
    call "$SRV" s3_list '{"bucket":"mcp-test-bucket","max":1}'
    check "mcp_s3_list max 1 sends max-keys=1 and gives one key" "$RC $(text) $(field ListObjectsV2 path)" \
        "0 1: data/a b é.txt $(stat -c %s "$PKI/ext.cnf") /mcp-test-bucket/?list-type=2&max-keys=1"
    call "$SRV" aws_json "$(ddb PutItem "$PUT3")"
    check "mcp_aws_json DynamoDB PutItem" "$RC $(text)" "0 HTTP 200 {}"
    call "$SRV" aws_json "$(ddb GetItem "$GET3")"
    check "mcp_aws_json DynamoDB GetItem gives the item" "$RC $(text)" '0 HTTP 200 {"Item": {"id": {"S": "3"}, "n": {"N": "1"}}}'
    check "  ... stored as sent (aws dynamodb get-item)" "$(aws --endpoint-url "$MOTO_URL" dynamodb get-item --table-name mcp-test --key '{"id":{"S":"3"}}' --output json | tr -d ' \n')" \
        '{"Item":{"id":{"S":"3"},"n":{"N":"1"}}}'
    call "$SRV" aws_rest '{"service":"sts","method":"GET","path":"/?Action=GetCallerIdentity&Version=2011-06-15"}'
    check "mcp_aws_rest STS GetCallerIdentity (query protocol by GET) names moto's account" \
        "$RC $(text | grep -o '<Account>[0-9]*</Account>')" "0 <Account>$ACCT</Account>"
    call "$SRV" aws_rest '{"service":"lambda","method":"GET","path":"/2015-03-31/functions/"}'
    check "mcp_aws_rest Lambda ListFunctions" "$RC $(text | tr -d ' ')" '0 HTTP200{"Functions":[]}'
    call "$SRV" aws_json '{"service":"lambda","target":"X.Invoke","json":"{}"}'
    check "mcp_aws_json refuses Lambda (rest-json), pointing at mcp_aws_rest" "$RC $(text)" "1 lambda speaks rest-json, not the JSON protocol: call it with mcp_aws_rest"
}
basic_endpoint_variables() {
    mark
    env -u AWS_ENDPOINT_URL_SECRETSMANAGER "$SRV" call secret_get '{"spec":"mcp/test/db#user"}' >/dev/null 2>&1
    check "AWS_ENDPOINT_URL_SECRETS_MANAGER alone (the SDKs' service ID) is used" "$(field GetSecretValue port)" "secretsmanager"
    mark
    env -u AWS_ENDPOINT_URL_SSM AWS_ENDPOINT_URL="$ANY" "$SRV" call ssm_get '{"name":"/mcp/test/plain"}' >/dev/null 2>&1
    check "AWS_ENDPOINT_URL serves a service without a variable of its own" "$(field GetParameter port)" "any"
    mark
    AWS_ENDPOINT_URL="$ANY" "$SRV" call ssm_get '{"name":"/mcp/test/plain"}' >/dev/null 2>&1
    check "AWS_ENDPOINT_URL_SSM comes before AWS_ENDPOINT_URL" "$(field GetParameter port)" "ssm"
}
basic_sigv4_refusals() {
    mark
    AWS_SECRET_ACCESS_KEY=wrong call "$SRV" ssm_get '{"name":"/mcp/test/plain"}'
    check "a wrong secret key: the proxy's botocore check answers 403 SignatureDoesNotMatch, not retried" \
        "$RC $(text | grep -o '^ssm GetParameter: SignatureDoesNotMatch: faultproxy: signature mismatch: ') $(text | grep -o '(HTTP 403, 1 attempt)$') $(arrivals GetParameter)" \
        "1 ssm GetParameter: SignatureDoesNotMatch: faultproxy: signature mismatch:  (HTTP 403, 1 attempt) 1"
    AWS_SESSION_TOKEN=tok-123 call "$SRV" ssm_get '{"name":"/mcp/test/plain"}'
    check "with AWS_SESSION_TOKEN: X-Amz-Security-Token signed, botocore agrees" "$RC $(text)" "0 plain-value"
}
basic_all_signed() {
    local n bad
    n=$(wc -l <"$PLOG")
    bad=$(grep -v '"sig": "ok"' "$PLOG" | grep -vc '"sig": "n/a"')
    # the one refusal is the wrong-key check's
    check "every other request mcp.c sent so far ($n in all) carries the signature botocore computes" "$bad" 1
}
# The AOMA-shaped start: five parameters and a secret in one GetParameters (the secret as
# /aws/reference/secretsmanager/NAME, which moto serves from its Secrets Manager); more than
# ten references in batches of ten; the forms Parameter Store cannot take go to Secrets
# Manager; a batch Parameter Store refuses falls back, and errors still name the reference.
basic_startup_batched() {
    local arn
    arn=$(aws --endpoint-url "$MOTO_URL" secretsmanager describe-secret --secret-id mcp/test/db --query ARN --output text 2>&1)
    mark
    K1=ssm:/mcp/test/plain K2=ssm:/mcp/test/apikey K3=ssm:/mcp/test/versioned K4=ssm:/mcp/test/versioned:1 \
        K5=ssm:/mcp/test/versioned:prod K6='secretsmanager:mcp/test/db#user' call "$SRV" env '{"name":"K1,K2,K3,K4,K5,K6"}'
    check "five ssm: parameters and a secretsmanager: key resolve at start-up" "$RC $(text)" "0 plain-value sk-test-0123456789 v2-value v1-value v1-value u"
    check "  ... in exactly one request: one GetParameters on the SSM port, no GetSecretValue" \
        "$(since | wc -l) $(arrivals GetParameters) $(field GetParameters port) $(arrivals GetSecretValue)" "1 1 ssm 0"
    check "  ... asking for the secret as /aws/reference/secretsmanager/mcp/test/db, decrypted" \
        "$(field GetParameters names | tr -d "[]'," | tr ' ' '\n' | sort | tr '\n' ' ')" \
        "/aws/reference/secretsmanager/mcp/test/db /mcp/test/apikey /mcp/test/plain /mcp/test/versioned /mcp/test/versioned:1 /mcp/test/versioned:prod "
    K1='secretsmanager:mcp/test/db' call "$SRV" env '{"name":"K1"}'
    check "secretsmanager:mcp/test/db through Parameter Store gives the whole secret" "$RC $(text)" '0 {"user":"u","port":5432,"tls":true}'
    mark
    local envs=() names=""
    for i in $(seq 1 12); do envs+=("V$i=ssm:/mcp/test/plain"); names="$names${names:+,}V$i"; done
    env "${envs[@]}" V13='secretsmanager:mcp/test/db#port' "$SRV" call env "{\"name\":\"$names,V13\"}" >/dev/null 2>&1
    check "13 references: GetParameters of 10 and of 3, no GetSecretValue" "$(arrivals GetParameters) $(arrivals GetSecretValue)" "2 0"
    mark
    K1=ssm:/mcp/test/plain K2='secretsmanager:mcp/test/db?versionStage=AWSCURRENT#user' K3="secretsmanager:$arn#port" \
        call "$SRV" env '{"name":"K1,K2,K3"}'
    check "a secret with versionStage, and one by its ARN, go to GetSecretValue; the parameter to GetParameters" \
        "$RC $(text) $(arrivals GetParameters) $(arrivals GetSecretValue)" "0 plain-value u 5432 1 2"
    mark
    K1=ssm:/mcp/test/plain K2='secretsmanager:mcp/test/nope#user' call "$SRV" env '{"name":"K1,K2"}'
    check "a secret that does not exist: start-up stops naming it, with Secrets Manager's error (moto answers 404)" "$RC $ERRP" \
        "2 mcp: cannot start: K2=secretsmanager:mcp/test/nope#user: secretsmanager GetSecretValue: ResourceNotFoundException: Secrets Manager can't find the specified secret. (HTTP 404, 1 attempt)"
    check "  ... after moto refused the batch (ParameterNotFound), the parameter alone, then GetSecretValue" \
        "$(field GetParameters status) $(arrivals GetSecretValue)" "400 200 1"
    mark
    K2='secretsmanager:mcp/test/db#nokey' call "$SRV" env '{"name":"K2"}'
    check "a JSON key the secret lacks: start-up stops naming it, after one GetParameters" "$RC $ERRP $(since | wc -l)" \
        "2 mcp: cannot start: K2=secretsmanager:mcp/test/db#nokey: secretsmanager: secret mcp/test/db has no key nokey (or it is null) 1"
    mark
    fault '{"op":"GetParameters","kind":"error","status":400,"code":"AccessDeniedException","message":"not authorized to perform: ssm:GetParameters on parameter/aws/reference/secretsmanager/mcp/test/db","count":1}'
    K1=ssm:/mcp/test/plain K2='secretsmanager:mcp/test/db#port' call "$SRV" env '{"name":"K1,K2"}'
    check "Parameter Store refusing the reference (AccessDeniedException): the secret comes from GetSecretValue" \
        "$RC $(text) $(field GetParameters status) $(arrivals GetSecretValue)" "0 plain-value 5432 400 200 1"
    clear_faults
}
GROUP_BASIC=(basic_startup_ssm basic_startup_selectors basic_startup_secrets basic_startup_batched basic_datatools basic_helpers
    basic_endpoint_variables basic_sigv4_refusals basic_all_signed)

# ============================ retry (issue 11) ============================
# What the checks expect, as botocore's standard mode (retries/standard.py) and issue 11 put it:
# - throttling codes (400 ThrottlingException, 503 SlowDown) and 500/502/503/504 are retried
#   for every operation, PutItem included: the server did not act (throttle) or the SDKs retry
#   anyway (5xx); AWS_MAX_ATTEMPTS attempts in all, 3 by default;
# - a request that may have reached the server and got no answer (reset or closed after it was
#   sent) is sent again only for idempotent operations (GetItem, GetParameters, S3 GET/PUT).
#   botocore itself resends any operation after a connection error (TransientRetryableChecker
#   retries every ConnectionError/HTTPClientError); issue 11 asks for more than the SDKs: a
#   non-idempotent call (DynamoDB PutItem, a rest-json POST) reaches the server at most once,
#   on a fresh connection and on a kept-alive one alike, since the client cannot tell a reset
#   before the server acted from one after;
# - a slow answer is waited for, not sent again;
# - a failure that remains reads "<service> <Operation>: <AWS code>: <message> (HTTP <status>,
#   <n> attempts)" and comes after exactly n requests.
retry_startup_two_throttles() {
    mark
    fault '[{"op":"GetParameters","kind":"throttle","count":2},{"op":"GetSecretValue","kind":"throttle","count":2}]'
    K1=ssm:/mcp/test/versioned:prod K2='secretsmanager:mcp/test/db?versionStage=AWSCURRENT#port' call "$SRV" env '{"name":"K1,K2"}'
    check "start-up survives two throttled GetParameters and two throttled GetSecretValue (a versionStage goes to Secrets Manager): exit 0, K1 (a label) and K2 (a numeric key) resolved" "$RC $(text)" "0 v1-value 5432"
    check "  ... GetParameters answered 400, 400, 200" "$(field GetParameters status)" "400 400 200"
    check "  ... GetSecretValue answered 400, 400, 200" "$(field GetSecretValue status)" "400 400 200"
    check "  ... each retry logged with its attempt" "$(grep -c 'ssm GetParameters: ThrottlingException: Rate exceeded (attempt [12] of 3); retrying in' <<<"$ERRP")" 2
    local g
    g=$(gaps GetParameters)
    if "$PY" -c 'import sys; g=list(map(float,sys.argv[1:])); sys.exit(not (len(g) == 2 and g[0] <= 1.1 and g[1] <= 2.1))' $g; then ok "  ... backoff within rand(0,1)*2^(i-1) s: gaps $g s"
    else not_ok "  ... backoff gaps" "$g s (want <= 1 s, <= 2 s)"; fi
    clear_faults
}
retry_startup_three_throttles() {
    mark
    fault '{"op":"GetParameters","kind":"throttle","count":3}'
    K1=ssm:/mcp/test/apikey call "$SRV" env '{"name":"K1"}'
    check "three throttles at start-up: exit 2, naming variable, service, operation, code, message, status, attempts" \
        "$RC $(tail -n 1 <<<"$ERRP")" \
        "2 mcp: cannot start: K1=ssm:/mcp/test/apikey: ssm GetParameters: ThrottlingException: Rate exceeded (HTTP 400, 3 attempts)"
    check "  ... after exactly 3 requests" "$(arrivals GetParameters)" 3
    clear_faults
}
retry_tool_survives_500() {
    mark
    fault '{"op":"GetObject","kind":"internal","count":1}'
    call "$SRV" s3_get '{"bucket":"mcp-test-bucket","key":"data/scores.csv","range":"bytes=0-12"}'
    check "a tool call survives one 500 InternalError (S3 GetObject)" "$RC $(text)" "0 id,name,score"
    check "  ... GetObject answered 500, then 206" "$(field GetObject status)" "500 206"
    mark
    fault '{"op":"PutItem","kind":"internal","count":1}'
    call "$SRV" aws_json "$(ddb PutItem "$PUT3")"
    check "a PutItem survives one 500 InternalFailure (5xx is retried for every operation)" "$RC $(text) $(field PutItem status)" "0 HTTP 200 {} 500 200"
    mark
    fault '{"op":"PutObject","kind":"slowdown","count":2}'
    call "$SRV" s3_put '{"bucket":"mcp-test-bucket","key":"up/slow.txt","body":"x"}'
    check "S3 PutObject survives two 503 SlowDown" "$RC $(text) $(field PutObject status)" "0 HTTP 200 503 503 200"
    mark
    fault '{"op":"PutItem","kind":"throttle","count":1}'
    call "$SRV" aws_json "$(ddb PutItem "$PUT3")"
    check "a throttled PutItem is sent again (the server did not act)" "$RC $(text) $(field PutItem status)" "0 HTTP 200 {} 400 200"
    clear_faults
}
retry_idempotent_after_reset() {
    mark
    fault '{"op":"GetItem","kind":"reset_after","count":1}'
    call "$SRV" aws_json "$(ddb GetItem "$GET3")"
    check "GetItem reset after the server answered: sent again, succeeds" "$RC $(text) $(arrivals GetItem)" '0 HTTP 200 {"Item": {"id": {"S": "3"}, "n": {"N": "1"}}} 2'
    mark
    fault '{"op":"PutObject","kind":"reset_after","count":1}'
    call "$SRV" s3_put '{"bucket":"mcp-test-bucket","key":"up/reset.txt","body":"y"}'
    check "S3 PutObject (idempotent) reset after the server acted: sent again, succeeds" "$RC $(text) $(arrivals PutObject)" "0 HTTP 200 2"
    clear_faults
}
retry_put_item_fresh_reset() {
    local kind
    for kind in reset_after reset_before; do
        mark
        fault '{"op":"PutItem","kind":"'$kind'","count":1}'
        call "$SRV" aws_json "$(ddb PutItem "$PUT3")"
        check "PutItem, $kind on a fresh connection: not sent again (the client cannot tell whether the server acted)" \
            "$RC $(arrivals PutItem)" "1 1"
        check "  ... the error names service, operation and attempts" "$(text)" "dynamodb PutItem: localhost sent no valid HTTP response (1 attempt)"
    done
    clear_faults
}
retry_put_item_kept_alive() {
    local kind got
    for kind in reset_after close_after; do
        mark
        fault '{"op":"PutItem","kind":"'$kind'","count":1}'
        got=$(stdio_calls "$SRV" "{\"name\":\"aws_json\",\"arguments\":$(ddb GetItem "$GET3")}" "{\"name\":\"aws_json\",\"arguments\":$(ddb PutItem "$PUT3")}")
        check "PutItem, $kind on a kept-alive connection (after a GetItem on it): reaches the server once" \
            "$(arrivals PutItem) $(field PutItem conn | wc -w) $(field PutItem seq)" "1 1 2"
        check "  ... and the call fails, naming service, operation and 1 attempt" "$(tail -n 1 <<<"$got")" \
            "ERROR dynamodb PutItem: localhost sent no valid HTTP response (1 attempt)"
    done
    clear_faults
}
retry_rest_post_reset() {
    mark
    fault '{"op":"POST /2015-03-31/functions/nope/invocations","kind":"reset_after","count":1}'
    call "$SRV" aws_rest '{"service":"lambda","method":"POST","path":"/2015-03-31/functions/nope/invocations","json":"{}"}'
    check "a rest-json POST (Lambda Invoke) reset after the server acted: not sent again" "$RC $(arrivals 'POST /2015-03-31/functions/nope/invocations')" "1 1"
    clear_faults
}
retry_failures_named() {
    mark
    fault '{"op":"GetItem","kind":"throttle","count":3}'
    call "$SRV" aws_json "$(ddb GetItem "$GET3")"
    check "GetItem throttled 3 times: the error" "$RC $(text) $(arrivals GetItem)" \
        "1 dynamodb GetItem: ThrottlingException: Rate exceeded (HTTP 400, 3 attempts) 3"
    mark
    fault '{"op":"GetObject","kind":"slowdown","count":3}'
    call "$SRV" s3_get '{"bucket":"mcp-test-bucket","key":"data/scores.csv"}'
    check "S3 GetObject answered SlowDown 3 times: the error" "$RC $(text) $(arrivals GetObject)" \
        "1 s3 GetObject: SlowDown: Please reduce your request rate. (HTTP 503, 3 attempts) 3"
    mark
    fault '{"op":"GetSecretValue","kind":"error","status":400,"code":"AccessDeniedException","message":"User: arn:aws:sts::123456789012:assumed-role/fn/x is not authorized to perform: secretsmanager:GetSecretValue"}'
    call "$SRV" secret_get '{"spec":"mcp/test/db"}'
    check "AccessDeniedException is not retried; the whole message is kept" "$RC $(text) $(arrivals GetSecretValue)" \
        "1 secretsmanager GetSecretValue: AccessDeniedException: User: arn:aws:sts::123456789012:assumed-role/fn/x is not authorized to perform: secretsmanager:GetSecretValue (HTTP 400, 1 attempt) 1"
    mark
    fault '{"op":"PutItem","kind":"internal","count":4}'
    AWS_MAX_ATTEMPTS=4 call "$SRV" aws_json "$(ddb PutItem "$PUT3")"
    check "AWS_MAX_ATTEMPTS=4: four attempts, then the error" "$RC $(text) $(arrivals PutItem)" \
        "1 dynamodb PutItem: InternalFailure: We encountered an internal error. Please try again. (HTTP 500, 4 attempts) 4"
    mark
    fault '{"op":"GetParameter","kind":"throttle","count":1}'
    AWS_MAX_ATTEMPTS=1 call "$SRV" ssm_get '{"name":"/mcp/test/plain"}'
    check "AWS_MAX_ATTEMPTS=1: no retry" "$RC $(text) $(arrivals GetParameter)" "1 ssm GetParameter: ThrottlingException: Rate exceeded (HTTP 400, 1 attempt) 1"
    clear_faults
}
retry_slow_answer() {
    mark
    fault '{"op":"GetItem","kind":"delay","ms":1500,"count":1}'
    local t1 t2
    t1=$(date +%s%N)
    call "$SRV" aws_json "$(ddb GetItem "$GET3")"
    t2=$(date +%s%N)
    check "a 1.5 s answer is waited for, not sent again" "$RC $(arrivals GetItem) $(( (t2 - t1) / 1000000 >= 1500 ))" "0 1 1"
    clear_faults
}
retry_faults_file() {
    mark
    printf '[{"op":"GetParameter","kind":"throttle","count":1}]' >"$WORK/faults.json"
    call "$SRV" ssm_get '{"name":"/mcp/test/plain"}'
    check "a fault from the --faults file applies too (throttle, then success)" "$RC $(text) $(field GetParameter status)" "0 plain-value 400 200"
    rm -f "$WORK/faults.json"
}
retry_metrics() {
    serve_start
    fault '{"op":"GetObject","kind":"internal","count":2}'
    local out
    out=$(mcp_post "" s3_get '{"bucket":"mcp-test-bucket","key":"data/scores.csv","range":"bytes=0-1"}')
    check "serve: a tool call through two 500s succeeds" "$(tail -n 1 <<<"$out") $(head -n 1 <<<"$out" | grep -o '"text":"[^"]*"')" '200 "text":"id"'
    check "  ... and GET /metrics (text/plain) counts the 2 retries" \
        "$(curl -s -H 'Accept: text/plain' "http://127.0.0.1:$SERVE_PORT/metrics" | grep '^mcp_aws_retries_total')" "mcp_aws_retries_total 2"
    serve_stop
    clear_faults
}
GROUP_RETRY=(retry_startup_two_throttles retry_startup_three_throttles retry_tool_survives_500 retry_idempotent_after_reset
    retry_put_item_fresh_reset retry_put_item_kept_alive retry_rest_post_reset retry_failures_named retry_slow_answer
    retry_faults_file retry_metrics)

# ============================ creds ============================
# Each credential source alone (no AWS_ACCESS_KEY_ID), through a start-up reference: the
# value resolves and the proxy checked a signature made with what the source gave.
# As the issue asks, under each source the server starts through two throttled answers of each
# service, with an SSM label selector and a numeric JSON key of a secret.
creds_env() { # creds_env VAR=VALUE...: run K1=ssm:/mcp/test/plain env K1 with only these credentials
    mark
    fault '[{"op":"GetParameters","kind":"throttle","count":2},{"op":"GetSecretValue","kind":"throttle","count":2}]'
    OUTP=$(env -u AWS_ACCESS_KEY_ID -u AWS_SECRET_ACCESS_KEY -u AWS_SESSION_TOKEN -u AWS_PROFILE \
        AWS_CONFIG_FILE="$WORK/creds/none" AWS_SHARED_CREDENTIALS_FILE="$WORK/creds/none" AWS_EC2_METADATA_DISABLED=true \
        "$@" K1=ssm:/mcp/test/plain K2=ssm:/mcp/test/versioned:prod K3='secretsmanager:mcp/test/db?versionStage=AWSCURRENT#port' \
        timeout 60 "$SRV" call env '{"name":"K1,K2,K3"}' 2>"$WORK/stderr")
    RC=$?
    ERRP=$(cat "$WORK/stderr")
}
creds_sources() {
    local C=$WORK/creds
    mkdir -p "$C"
    : >"$C/none"
    printf '[mcp]\naws_access_key_id = %s\naws_secret_access_key = %s\n' $AK $SK >"$C/credentials"
    printf '#!/bin/sh\necho %s\n' "'{\"Version\":1,\"AccessKeyId\":\"$AK\",\"SecretAccessKey\":\"$SK\",\"SessionToken\":\"proc-token\"}'" >"$C/process.sh"
    chmod +x "$C/process.sh"
    printf '[profile proc]\ncredential_process = %s\n[profile role]\nrole_arn = arn:aws:iam::%s:role/mcp-test\nsource_profile = mcp\n' \
        "$C/process.sh" $ACCT >"$C/config"
    printf 'container-session-token\n' >"$C/token"

    creds_env AWS_SHARED_CREDENTIALS_FILE="$C/credentials" AWS_PROFILE=mcp
    check "profile with static keys (AWS_PROFILE, AWS_SHARED_CREDENTIALS_FILE): start-up resolves, signature checked" \
        "$RC $(text) $(field GetParameters sig) $(field GetParameters key)" "0 plain-value v1-value 5432 ok ok ok $AK $AK $AK"
    creds_env AWS_CONFIG_FILE="$C/config" AWS_PROFILE=proc
    check "profile with credential_process: start-up resolves, signature (with its session token) checked" \
        "$RC $(text) $(field GetParameters sig) $(field GetParameters key)" "0 plain-value v1-value 5432 ok ok ok $AK $AK $AK"
    creds_env AWS_CONFIG_FILE="$C/config" AWS_SHARED_CREDENTIALS_FILE="$C/credentials" AWS_PROFILE=role
    check "profile with role_arn + source_profile: AssumeRole at moto's STS (signed with the source's keys), then the role's keys" \
        "$RC $(text) $(field AssumeRole port)/$(field AssumeRole sig)/$(field AssumeRole key) $(field GetParameters sig) $(field GetParameters key | grep -c "^$AK$")" \
        "0 plain-value v1-value 5432 sts/ok/$AK ok ok ok 0"
    creds_env AWS_CONTAINER_CREDENTIALS_FULL_URI="$CTL/container-credentials" AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE="$C/token"
    check "container credentials (FULL_URI, token file): start-up resolves, signature checked" \
        "$RC $(text) $(field ContainerCredentials authorization) $(field GetParameters sig)" "0 plain-value v1-value 5432 container-session-token ok ok ok"
    creds_env AWS_EC2_METADATA_DISABLED=false AWS_EC2_METADATA_SERVICE_ENDPOINT="$CTL"
    check "IMDSv2 (token, role, credentials): start-up resolves, signature checked" \
        "$RC $(text) $(since | grep -c '"op": "IMDS') $(field GetParameters sig)" "0 plain-value v1-value 5432 3 ok ok ok"
    # IAM Identity Center: the token cache `aws sso login` writes, named by the SHA-1 of the session name
    local cache=$C/home/.aws/sso/cache sha
    mkdir -p "$cache"
    printf '[profile sso]\nsso_session = mcp-sso\nsso_account_id = %s\nsso_role_name = Dev\n[sso-session mcp-sso]\nsso_region = us-east-1\nsso_start_url = https://example.awsapps.com/start\n' $ACCT >"$C/sso-config"
    sha=$(printf %s mcp-sso | sha1sum | cut -d' ' -f1)
    printf '{"accessToken":"sso-access-token","expiresAt":"2099-01-01T00:00:00Z","region":"us-east-1"}' >"$cache/$sha.json"
    creds_env HOME="$C/home" AWS_CONFIG_FILE="$C/sso-config" AWS_PROFILE=sso AWS_ENDPOINT_URL_SSO="$CTL"
    check "IAM Identity Center (sso_session, the token cache, GetRoleCredentials): start-up resolves, signature checked" \
        "$RC $(text) $(field GetRoleCredentials token) $(field GetRoleCredentials account) $(field GetRoleCredentials role) $(field GetParameters sig)" \
        "0 plain-value v1-value 5432 sso-access-token $ACCT Dev ok ok ok"
    printf '{"accessToken":"sso-access-token","expiresAt":"2020-01-01T00:00:00Z"}' >"$cache/$sha.json"
    creds_env HOME="$C/home" AWS_CONFIG_FILE="$C/sso-config" AWS_PROFILE=sso AWS_ENDPOINT_URL_SSO="$CTL"
    check "IAM Identity Center with an expired token: start-up stops and says to log in again" \
        "$RC $(grep -c 'run `aws sso login --profile sso`' <<<"$ERRP") $(arrivals GetRoleCredentials)" "2 1 0"
    creds_env
    check "no credentials anywhere: start-up stops, saying so" "$RC $(grep -c 'cannot start: K1=ssm:/mcp/test/plain' <<<"$ERRP") $(arrivals GetParameters)" "2 1 0"
}
GROUP_CREDS=(creds_sources)

# ============================ cognito ============================
cognito_jwt() {
    local pool client idtok bad out
    pool=$(aws --endpoint-url "$MOTO_URL" cognito-idp create-user-pool --pool-name mcp-test --query UserPool.Id --output text 2>&1)
    client=$(aws --endpoint-url "$MOTO_URL" cognito-idp create-user-pool-client --user-pool-id "$pool" --client-name mcp \
        --explicit-auth-flows ALLOW_ADMIN_USER_PASSWORD_AUTH ALLOW_REFRESH_TOKEN_AUTH --query UserPoolClient.ClientId --output text 2>&1)
    aws --endpoint-url "$MOTO_URL" cognito-idp admin-create-user --user-pool-id "$pool" --username alice \
        --user-attributes Name=email,Value=alice@example.com --message-action SUPPRESS >/dev/null 2>&1
    aws --endpoint-url "$MOTO_URL" cognito-idp admin-set-user-password --user-pool-id "$pool" --username alice --password 'Passw0rd!x' --permanent >/dev/null 2>&1
    idtok=$(aws --endpoint-url "$MOTO_URL" cognito-idp admin-initiate-auth --user-pool-id "$pool" --client-id "$client" \
        --auth-flow ADMIN_USER_PASSWORD_AUTH --auth-parameters USERNAME=alice,PASSWORD='Passw0rd!x' --query AuthenticationResult.IdToken --output text 2>&1)
    if [ "${#idtok}" -gt 100 ]; then ok "moto's Cognito issues an ID token for alice (pool $pool)"; else not_ok "Cognito token" "$pool $client $idtok"; return; fi
    serve_start MCP_JWT_ISSUER=https://cognito-idp.$REGION.amazonaws.com/$pool MCP_JWT_AUDIENCE=$client \
        MCP_JWT_JWKS_URL=https://localhost:${P[cognito-idp]}/$pool/.well-known/jwks.json
    out=$(mcp_post "$idtok" whoami {})
    local sub
    sub=$(aws --endpoint-url "$MOTO_URL" cognito-idp admin-get-user --user-pool-id "$pool" --username alice \
        --query "UserAttributes[?Name=='sub'].Value" --output text 2>&1)
    check "serve with MCP_JWT_ISSUER/AUDIENCE/JWKS_URL at moto's pool accepts its ID token (JWKS over TLS via the proxy)" \
        "$(tail -n 1 <<<"$out") $(head -n 1 <<<"$out" | grep -o 'kind=[^ ]* principal=[^ ]* iss=[^ ]*')" \
        "200 kind=jwt principal=$sub iss=https://cognito-idp.$REGION.amazonaws.com/$pool"
    # one character in the middle of the signature changed (the last one may carry only padding bits)
    bad=$("$PY" -c 'import sys
h,p,s=sys.argv[1].split(".")
i=len(s)//2
print(h+"."+p+"."+s[:i]+("B" if s[i]=="A" else "A")+s[i+1:])' "$idtok")
    out=$(mcp_post "$bad" whoami {})
    check "  ... and refuses the same token with its signature altered (401)" "$(tail -n 1 <<<"$out")" 401
    # a claim changed, the signature kept
    bad=$("$PY" -c 'import base64,json,sys
h,p,s=sys.argv[1].split(".")
d=json.loads(base64.urlsafe_b64decode(p+"="*(-len(p)%4)))
d["email"]="mallory@example.com"
print(h+"."+base64.urlsafe_b64encode(json.dumps(d).encode()).decode().rstrip("=")+"."+s)' "$idtok")
    out=$(mcp_post "$bad" whoami {})
    check "  ... and refuses it with a claim altered (401)" "$(tail -n 1 <<<"$out")" 401
    check "  ... the JWKS was fetched unsigned through the proxy" "$(grep -c "\"path\": \"/$pool/.well-known/jwks.json\"" "$PLOG")" 1
    serve_stop
}
GROUP_COGNITO=(cognito_jwt)

for g in ${ONLY:-basic retry creds cognito}; do
    case $g in
    basic) fns=("${GROUP_BASIC[@]}") ;;
    retry) fns=("${GROUP_RETRY[@]}") ;;
    creds) fns=("${GROUP_CREDS[@]}") ;;
    cognito) fns=("${GROUP_COGNITO[@]}") ;;
    *) not_ok "unknown group $g"; continue ;;
    esac
    echo "# $g"
    t=$(date +%s)
    for f in "${fns[@]}"; do clear_faults; $f; done
    echo "# $g: $(($(date +%s) - t)) s"
done
finish
