#!/usr/bin/env bash
# test/deploy/test.sh: deploy/deploy.sh against stand-ins for the AWS CLI and curl
# (test/deploy/aws, test/deploy/curl), in a temporary project directory.
#
#   test/deploy/test.sh                    every check; "ok - NAME" / "not ok - NAME: why" lines,
#                                          then "# N passed, M failed"; exit 1 on any failure
#   UPDATE_EXPECTED=1 test/deploy/test.sh  rewrite test/deploy/expected/*.txt from this run
#                                          (review the diff before committing it)
#
# No AWS and no network: every aws call goes to the stand-in, which keeps its state in a JSON
# file and answers like the CLI (ResourceNotFoundException / NoSuchEntity with exit 254 until a
# call creates the resource). The Lambda package is a small prebuilt zip passed with --zip, so
# the tests need no musl; MCP_DEPLOY_TEST_BUILD=1 adds a check through the real ./build.sh.
# The exact sequence of aws calls of each scenario is compared with test/deploy/expected/NAME.txt
# after replacing the temporary directory by $WORK and the zips' hashes by <sha:v1>/<sha:v2>.
# Needs python3 with jmespath (the CLI's query language) and yaml; installs python3-jmespath,
# python3-yaml and shellcheck from Debian when missing.
set -uo pipefail
cd "$(dirname "$0")/../.." || exit 1
ROOT=$(pwd)
HERE=$ROOT/test/deploy
EXPECTED=$HERE/expected
DEPLOY=$ROOT/deploy/deploy.sh
UPDATE=${UPDATE_EXPECTED:-0}

PASS=0
FAIL=0
ok() { echo "ok - $1"; PASS=$((PASS + 1)); }
not_ok() { echo "not ok - $1: $2"; FAIL=$((FAIL + 1)); }
check() { # check NAME WHY-IF-NOT CMD...
    local name=$1 why=$2
    shift 2
    if "$@"; then ok "$name"; else not_ok "$name" "$why"; fi
}

apt_install() {
    local sudo=""
    [ "$(id -u)" -eq 0 ] || sudo=sudo
    { $sudo apt-get update -qq && DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "$@"; } >/dev/null 2>&1
}

# python3 with jmespath and yaml: the one on PATH, else Debian's
PY=""
for p in python3 /usr/bin/python3; do
    # the interpreter itself, not a wrapper such as pyenv's shim: the stand-ins start hundreds of times
    if command -v "$p" >/dev/null 2>&1 && "$p" -c 'import jmespath, yaml' 2>/dev/null; then
        PY=$("$p" -c 'import sys; print(sys.executable)')
        break
    fi
done
if [ -z "$PY" ]; then
    apt_install python3 python3-jmespath python3-yaml
    /usr/bin/python3 -c 'import jmespath, yaml' 2>/dev/null && PY=/usr/bin/python3
fi
if [ -z "$PY" ]; then
    not_ok "python3 with jmespath and yaml" "cannot install python3-jmespath / python3-yaml"
    echo "# $PASS passed, $FAIL failed"
    exit 1
fi
command -v shellcheck >/dev/null 2>&1 || apt_install shellcheck
command -v zip >/dev/null 2>&1 || apt_install zip

WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
PROJ=$WORK/project
STATE=$WORK/state
mkdir -p "$PROJ" "$STATE" "$WORK/tmp" "$WORK/bin"
# the stand-ins first on PATH; python3 the one found above
ln -s "$HERE/aws" "$WORK/bin/aws"
ln -s "$HERE/curl" "$WORK/bin/curl"
ln -s "$PY" "$WORK/bin/python3"
export PATH="$WORK/bin:$PATH"
export AWS_STUB_LOG=$WORK/aws.log AWS_STUB_STATE=$STATE CURL_STUB_LOG=$WORK/curl.log
export TMPDIR=$WORK/tmp MCP_DEPLOY_RETRY_SLEEP=0
unset AWS_REGION AWS_DEFAULT_REGION AWS_PROFILE MCP_DEPLOY_ZIP AWS_STUB_CREDENTIALS AWS_STUB_ROLE_PROPAGATION \
      AWS_STUB_CLI_VERSION AWS_STUB_DEFAULT_REGION

# Two deterministic packages: a bootstrap at the zip's root, mode 0755.
make_zip() { # make_zip NAME
    local d=$WORK/zip-$1
    mkdir -p "$d"
    printf '#!/bin/sh\n# stand-in bootstrap %s\n' "$1" >"$d/bootstrap"
    chmod 0755 "$d/bootstrap"
    touch -d '2020-01-01 00:00:00 UTC' "$d/bootstrap"
    (cd "$d" && TZ=UTC zip -q -X "$PROJ/$1.zip" bootstrap)
}
make_zip v1
make_zip v2
zip_sha() { "$PY" -c 'import base64,hashlib,sys; print(base64.b64encode(hashlib.sha256(open(sys.argv[1],"rb").read()).digest()).decode())' "$1"; }
SHA1=$(zip_sha "$PROJ/v1.zip")
SHA2=$(zip_sha "$PROJ/v2.zip")

seed_state() { # the SSM parameters and secrets that exist before any deploy
    cat >"$STATE/state.json" <<'EOF'
{"ssm": {"/demo/api-token": {"Type": "SecureString", "Value": "tok"}, "/demo/plain": {"Type": "String", "Value": "p"}},
 "secrets": {"demo/state-key": {}, "demo/cmk-secret": {"KmsKeyId": "arn:aws:kms:us-east-1:123456789012:key/1111"}}}
EOF
}

write_conf() {
    cat >"$PROJ/mcp-deploy.conf" <<'EOF'
# mcp-deploy.conf for the tests
NAME=demo
REGION=us-east-1
ARCH=arm64
MEMORY=256
TIMEOUT=30
AUTH=NONE
INVOKE_MODE=RESPONSE_STREAM
RESERVED_CONCURRENCY=5
LOG_RETENTION_DAYS=14
  CORS_ORIGINS = https://app.example.com
ENV_MCP_STATE_KEY=secretsmanager:demo/state-key#key
ENV_API_TOKEN=ssm:/demo/api-token
ENV_GREETING="hello, world"
ENV_RAW=$(touch pwned) and #not-a-comment
S3_PREFIXES=demo-bucket/data/,demo-logs
EOF
}

RC=0
# run ARGS...: deploy.sh in the project directory; fresh logs; RC, $WORK/out, $WORK/err
run() {
    : >"$WORK/aws.log"
    : >"$WORK/curl.log"
    (cd "$PROJ" && "$DEPLOY" "$@" </dev/null >"$WORK/out" 2>"$WORK/err")
    RC=$?
}

normalize() {
    sed -e "s#$WORK#\$WORK#g" -e 's#mcp-deploy\.[A-Za-z0-9]\{6\}#mcp-deploy.XXXXXX#g' \
        -e "s#$SHA1#<sha:v1>#g" -e "s#$SHA2#<sha:v2>#g" "$1"
}

# calls NAME: the aws calls of the last run, exactly as in expected/NAME.txt
calls() {
    local name=$1 file=$EXPECTED/$1.txt
    normalize "$WORK/aws.log" >"$WORK/calls-$name.txt"
    if [ "$UPDATE" = 1 ]; then
        mkdir -p "$EXPECTED"
        cp "$WORK/calls-$name.txt" "$file"
        ok "$name: aws calls (expected/$name.txt rewritten)"
        return
    fi
    if [ ! -f "$file" ]; then not_ok "$name: aws calls" "no $file"; return; fi
    if diff -u "$file" "$WORK/calls-$name.txt" >"$WORK/diff" 2>&1; then
        ok "$name: aws calls match expected/$name.txt ($(wc -l <"$file") calls)"
    else
        not_ok "$name: aws calls" "differ from expected/$name.txt:"
        sed 's/^/#   /' "$WORK/diff" | head -n 40
    fi
}

MUTATING='^aws [a-z0-9]+ (create-|update-|put-|delete-|publish-|add-|remove-|tag-|untag-)'
mutations() { grep -E "$MUTATING" "$WORK/aws.log" | awk '{print $2" "$3}'; }
no_mutations() { ! grep -Eq "$MUTATING" "$WORK/aws.log"; }
called() { grep -Eq "^aws $1( |$)" "$WORK/aws.log"; }
count_calls() { grep -Ec "^aws $1( |$)" "$WORK/aws.log"; }
in_err() { grep -qF -- "$1" "$WORK/err"; }
in_out() { grep -qF -- "$1" "$WORK/out"; }
state() { "$PY" -c 'import json,sys; s=json.load(open(sys.argv[1])); print(eval(sys.argv[2]))' "$STATE/state.json" "$1"; }
rc_is() { [ "$RC" -eq "$1" ]; }
why_rc() { printf 'exit %s; stderr: %s' "$RC" "$(tail -n 3 "$WORK/err" | tr '\n' ' ')"; }

# --- 1. first deploy ---------------------------------------------------------------------------
seed_state
write_conf
run deploy --zip v1.zip
check "first deploy: exits 0" "$(why_rc)" rc_is 0
calls first-deploy
check "first deploy: pre-flight before any change (aws --version, sts, secretsmanager, ssm first)" \
    "$(head -n 4 "$WORK/aws.log" | awk '{print $2" "$3}' | tr '\n' ';')" \
    test "$(head -n 4 "$WORK/aws.log" | awk '{print $2" "$3}' | tr '\n' ';')" = "--version ;sts get-caller-identity;secretsmanager describe-secret;ssm get-parameters;"
check "first deploy: function environment (streaming, CORS, references, quotes stripped, nothing expanded)" \
    "$(state "s['functions']['demo']['Configuration']['Environment']")" \
    test "$(state "sorted(s['functions']['demo']['Configuration']['Environment']['Variables'].items())")" = \
    "[('API_TOKEN', 'ssm:/demo/api-token'), ('GREETING', 'hello, world'), ('MCP_CORS_ORIGINS', 'https://app.example.com'), ('MCP_LAMBDA_STREAMING', '1'), ('MCP_STATE_KEY', 'secretsmanager:demo/state-key#key'), ('RAW', '\$(touch pwned) and #not-a-comment')]"
check "first deploy: the config file is read as data, never run" "pwned exists" test ! -e "$PROJ/pwned"
check "first deploy: function provided.al2023, arm64, handler bootstrap, 256 MB, 30 s, JSON logs" \
    "$(state "[s['functions']['demo']['Configuration'][k] for k in ('Runtime','Architectures','Handler','MemorySize','Timeout','LoggingConfig')]")" \
    test "$(state "[s['functions']['demo']['Configuration'][k] for k in ('Runtime','Architectures','Handler','MemorySize','Timeout')]+[s['functions']['demo']['Configuration']['LoggingConfig']['LogFormat']]")" = \
    "['provided.al2023', ['arm64'], 'bootstrap', 256, 30, 'JSON']"
check "first deploy: alias live -> version 1, reserved concurrency 5" "$(state "(s['functions']['demo']['Aliases'], s['functions']['demo']['Concurrency'])")" \
    test "$(state "(s['functions']['demo']['Aliases']['live']['FunctionVersion'], s['functions']['demo']['Concurrency'])")" = "('1', 5)"
check "first deploy: URL on the alias, NONE, RESPONSE_STREAM, CORS" "$(state "s['functions']['demo']['Urls']")" \
    test "$(state "(list(s['functions']['demo']['Urls']), s['functions']['demo']['Urls']['live']['AuthType'], s['functions']['demo']['Urls']['live']['InvokeMode'], s['functions']['demo']['Urls']['live']['Cors']['AllowOrigins'])")" = \
    "(['live'], 'NONE', 'RESPONSE_STREAM', ['https://app.example.com'])"
check "first deploy: public permission on the alias only: InvokeFunctionUrl (NONE) and InvokeFunction via the URL" \
    "$(state "s['functions']['demo']['Policies']")" \
    test "$(state "(list(s['functions']['demo']['Policies']), sorted((x['Action'], json.dumps(x['Condition'])) for x in s['functions']['demo']['Policies']['live']))")" = \
    "(['live'], [('lambda:InvokeFunction', '{\"Bool\": {\"lambda:InvokedViaFunctionUrl\": \"true\"}}'), ('lambda:InvokeFunctionUrl', '{\"StringEquals\": {\"lambda:FunctionUrlAuthType\": \"NONE\"}}')])"
check "first deploy: log group with 14 days retention; three alarms (Errors, Duration p99 at 24000 ms, Throttles)" \
    "$(state "(s['log_groups'], [(a['MetricName'], a.get('ExtendedStatistic', a.get('Statistic')), a['Threshold']) for a in s['alarms'].values()])")" \
    test "$(state "(s['log_groups']['/aws/lambda/demo']['retentionInDays'], sorted((a['MetricName'], a.get('ExtendedStatistic', a.get('Statistic')), a['Threshold']) for a in s['alarms'].values()))")" = \
    "(14, [('Duration', 'p99', 24000.0), ('Errors', 'Sum', 0.0), ('Throttles', 'Sum', 0.0)])"
POLICY=$(state "s['roles']['demo-role']['Policies']['mcp-deploy']")
check "first deploy: role policy grants exactly the referenced SSM parameter and secret" "$POLICY" \
    test "$(state "[(x['Sid'], x['Resource']) for x in json.loads(s['roles']['demo-role']['Policies']['mcp-deploy'])['Statement'] if x['Sid'] in ('SsmParameters','Secrets')]")" = \
    "[('SsmParameters', ['arn:aws:ssm:us-east-1:123456789012:parameter/aws/reference/secretsmanager/demo/state-key', 'arn:aws:ssm:us-east-1:123456789012:parameter/demo/api-token']), ('Secrets', ['arn:aws:secretsmanager:us-east-1:123456789012:secret:demo/state-key-XeOxeD'])]"
check "first deploy: kms:Decrypt only through SSM (a SecureString; the secret uses the AWS managed key)" "$POLICY" \
    test "$(state "[x['Condition'] for x in json.loads(s['roles']['demo-role']['Policies']['mcp-deploy'])['Statement'] if x['Action']=='kms:Decrypt']")" = \
    "[{'StringEquals': {'kms:ViaService': ['ssm.us-east-1.amazonaws.com']}}]"
check "first deploy: S3 access limited to the configured prefixes" "$POLICY" \
    test "$(state "[(x['Resource'], x.get('Condition')) for x in json.loads(s['roles']['demo-role']['Policies']['mcp-deploy'])['Statement'] if x['Sid'].startswith('S3')]")" = \
    "[('arn:aws:s3:::demo-bucket/data/*', None), ('arn:aws:s3:::demo-bucket', {'StringLike': {'s3:prefix': ['data', 'data/*']}}), ('arn:aws:s3:::demo-logs/*', None), ('arn:aws:s3:::demo-logs', None)]"
check "first deploy: smoke test GET /health then POST /mcp server/discover (2026-07-28 headers and _meta)" "$(cat "$WORK/curl.log")" \
    test "$(grep -c . "$WORK/curl.log")-$(grep -c '/health$' "$WORK/curl.log")-$(grep -cF -e "-X POST https://" "$WORK/curl.log")-$(grep -F "MCP-Protocol-Version: 2026-07-28" "$WORK/curl.log" | grep -F "Mcp-Method: server/discover" | grep -F "Accept: application/json, text/event-stream" | grep -F -c '"io.modelcontextprotocol/protocolVersion":"2026-07-28"')" = "2-1-1-1"
check "first deploy: smoke test passed" "$(cat "$WORK/err")" in_err "server/discover ok (server hello)"
URL=$(state "s['functions']['demo']['Urls']['live']['FunctionUrl']")
endpoints_ok() { local p; for p in mcp rpc health metrics 'tools/{name}'; do in_out "$URL$p" || return 1; done; }
check "first deploy: prints the endpoints /mcp /rpc /health /metrics /tools/{name}" "$(cat "$WORK/out")" endpoints_ok
check "first deploy: prints client configuration (streamable HTTP url, and stdio via bootstrap proxy)" "$(cat "$WORK/out")" \
    eval 'in_out "\"type\": \"http\", \"url\": \"${URL}mcp\"" && in_out "\"args\": [\"proxy\", \"${URL}mcp\"]" && in_out "claude mcp add --transport http demo ${URL}mcp"'
json_ok() { sed -n '/^{$/,/^}$/p' "$WORK/out" | "$PY" -c 'import sys,json; t=sys.stdin.read().split("\n}\n"); [json.loads(x+"\n}") for x in t if x.strip()]'; }
check "first deploy: the client configuration is valid JSON" "$(cat "$WORK/out")" json_ok

# --- 2. the same again: nothing to change --------------------------------------------------------
run deploy --zip v1.zip
check "unchanged redeploy: exits 0" "$(why_rc)" rc_is 0
calls unchanged
check "unchanged redeploy: no change but publish-version (which returns version 1 again)" "$(mutations | tr '\n' ';')" \
    test "$(mutations | tr '\n' ';')" = "lambda publish-version;"
check "unchanged redeploy: alias still at version 1" "$(state "s['functions']['demo']['Aliases']")" \
    test "$(state "s['functions']['demo']['Aliases']['live']['FunctionVersion']")" = 1

# --- 3. code change --------------------------------------------------------------------------
run deploy --zip v2.zip
check "code change: exits 0" "$(why_rc)" rc_is 0
calls code-change
check "code change: update-function-code, publish-version, update-alias and no create-*" "$(mutations | tr '\n' ';')" \
    test "$(mutations | tr '\n' ';')" = "lambda update-function-code;lambda publish-version;lambda update-alias;"
check "code change: the progress line names both versions" "$(grep alias "$WORK/err")" in_err "alias live: version 1 -> 2"
check "code change: live -> version 2 with the new code" "$(state "s['functions']['demo']['Versions']")" \
    test "$(state "(s['functions']['demo']['Aliases']['live']['FunctionVersion'], s['functions']['demo']['Versions']['2']['CodeSha256'])")" = "('2', '$SHA2')"

# --- 4. configuration change --------------------------------------------------------------------
sed -i -e 's/^MEMORY=256/MEMORY=512/' -e 's/^TIMEOUT=30/TIMEOUT=60/' -e 's/^ENV_GREETING=.*/ENV_GREETING=hi/' "$PROJ/mcp-deploy.conf"
run deploy --zip v2.zip
check "config change: exits 0" "$(why_rc)" rc_is 0
calls config-change
check "config change: update-function-configuration (no code update), new version, duration alarm rewritten" "$(mutations | tr '\n' ';')" \
    test "$(mutations | tr '\n' ';')" = "lambda update-function-configuration;lambda publish-version;lambda update-alias;cloudwatch put-metric-alarm;"
check "config change: 512 MB, 60 s, GREETING=hi, p99 alarm at 48000 ms" "$(state "s['functions']['demo']['Configuration']")" \
    test "$(state "(s['functions']['demo']['Configuration']['MemorySize'], s['functions']['demo']['Configuration']['Timeout'], s['functions']['demo']['Configuration']['Environment']['Variables']['GREETING'], s['alarms']['demo-duration-p99']['Threshold'], s['functions']['demo']['Aliases']['live']['FunctionVersion'])")" = \
    "(512, 60, 'hi', 48000.0, '3')"

# --- 5. auth NONE -> AWS_IAM (a flag over the config file) ---------------------------------------
run deploy --zip v2.zip --auth AWS_IAM
check "auth switch: exits 0" "$(why_rc)" rc_is 0
calls auth-switch
check "auth switch: URL updated to AWS_IAM and both public statements removed" "$(mutations | tr '\n' ';')" \
    test "$(mutations | tr '\n' ';')" = "lambda publish-version;lambda update-function-url-config;lambda remove-permission;lambda remove-permission;"
check "auth switch: no resource policy left on the alias, URL AWS_IAM" "$(state "s['functions']['demo']['Policies']")" \
    test "$(state "(s['functions']['demo']['Policies'], s['functions']['demo']['Urls']['live']['AuthType'])")" = "({}, 'AWS_IAM')"
check "auth switch: smoke test skipped without --sigv4" "$(cat "$WORK/curl.log")" \
    eval '[ ! -s "$WORK/curl.log" ] && in_err "smoke test: skipped (AUTH=AWS_IAM"'
check "auth switch: prints the proxy configuration for SigV4 (proxy URL --sigv4)" "$(cat "$WORK/out")" \
    eval 'in_out "\"args\": [\"proxy\", \"${URL}mcp\", \"--sigv4\"]" && in_out "SigV4"'

run deploy --zip v2.zip --auth AWS_IAM --sigv4
check "sigv4 smoke test: exits 0" "$(why_rc)" rc_is 0
check "sigv4 smoke test: curl --aws-sigv4 aws:amz:us-east-1:lambda on both requests, credentials from export-credentials" \
    "$(cat "$WORK/curl.log")" \
    eval '[ "$(grep -c -- "--aws-sigv4 aws:amz:us-east-1:lambda -K" "$WORK/curl.log")" = 2 ] && called "configure export-credentials"'
check "sigv4 smoke test: no secret on curl's command line" "$(cat "$WORK/curl.log")" \
    eval '! grep -q "do-not-log\|stubsessiontoken" "$WORK/curl.log"'
check "sigv4 smoke test: passed" "$(cat "$WORK/err")" in_err "server/discover ok"

# --- 6. outputs, invoke, logs ---------------------------------------------------------------------
run outputs --auth AWS_IAM
check "outputs: exits 0, only reads" "$(why_rc); $(mutations)" eval 'rc_is 0 && no_mutations'
check "outputs: endpoints and the deployed auth" "$(cat "$WORK/out")" eval 'endpoints_ok && in_out "auth AWS_IAM"'

run invoke
check "invoke: exits 0 and prints the JSON-RPC response" "$(why_rc); $(cat "$WORK/out")" \
    eval 'rc_is 0 && in_out "\"jsonrpc\":\"2.0\",\"id\":1,\"result\":{\"tools\""'
check "invoke: aws lambda invoke on the alias with a raw JSON-RPC payload" "$(cat "$WORK/aws.log")" \
    eval 'grep -q "^aws lambda invoke --function-name demo --qualifier live --payload fileb://" "$WORK/aws.log"'
run invoke '{"jsonrpc":"2.0","id":7,"method":"server/discover","params":{"_meta":{"io.modelcontextprotocol/protocolVersion":"2026-07-28","io.modelcontextprotocol/clientCapabilities":{}}}}'
check "invoke JSON: the given message" "$(cat "$WORK/out")" in_out '"id":7,"result":{"supportedVersions"'
run invoke 'not json'
check "invoke: rejects a payload that is not JSON" "$(why_rc)" eval 'rc_is 2 && [ ! -s "$WORK/aws.log" ]'

run logs --follow
check "logs --follow: aws logs tail of the function's log group" "$(cat "$WORK/aws.log")" \
    eval 'rc_is 0 && grep -qx "aws logs tail /aws/lambda/demo --since 10m --follow --format short --region us-east-1" "$WORK/aws.log"'

# --- 7. rollback ----------------------------------------------------------------------------
run rollback
check "rollback: exits 0" "$(why_rc)" rc_is 0
calls rollback
check "rollback: live moves from version 3 to 2" "$(state "s['functions']['demo']['Aliases']")" \
    eval 'test "$(state "s[\"functions\"][\"demo\"][\"Aliases\"][\"live\"][\"FunctionVersion\"]")" = 2 && in_err "now serves version 2 (was 3)"'
run rollback --to 9
check "rollback --to: an unknown version fails, alias unchanged" "$(why_rc)" \
    eval 'rc_is 1 && in_err "has no version 9" && no_mutations'
run rollback --to 1
check "rollback --to 1" "$(why_rc)" \
    eval 'rc_is 0 && test "$(state "s[\"functions\"][\"demo\"][\"Aliases\"][\"live\"][\"FunctionVersion\"]")" = 1'
run rollback
check "rollback at the first version: nothing earlier, fails" "$(why_rc)" eval 'rc_is 1 && in_err "no earlier published version" && no_mutations'

# --- 8. destroy --------------------------------------------------------------------------------
run destroy
check "destroy without --yes and no terminal: refuses, changes nothing" "$(why_rc)" eval 'rc_is 2 && no_mutations'
run destroy --yes
check "destroy: exits 0" "$(why_rc)" rc_is 0
calls destroy
check "destroy: everything deploy created is gone; SSM parameters and secrets untouched" \
    "$(state "(s['functions'], s['roles'], s['log_groups'], s['alarms'])")" \
    test "$(state "(s['functions'], s['roles'], s['log_groups'], s['alarms'], sorted(s['ssm']), sorted(s['secrets']))")" = \
    "({}, {}, {}, {}, ['/demo/api-token', '/demo/plain'], ['demo/cmk-secret', 'demo/state-key'])"
run destroy --yes
check "destroy again: tolerates what is already gone" "$(why_rc)" eval 'rc_is 0 && in_err "function demo: already gone" && in_err "alarms: already gone"'
calls destroy-again

# --- 9. pre-flight failures: nothing changed -------------------------------------------------------
seed_state
write_conf
cat >>"$PROJ/mcp-deploy.conf" <<'EOF'
ENV_MISSING_PARAM=ssm:/demo/missing
ENV_MISSING_SECRET=secretsmanager:demo/nope#password
EOF
run deploy --zip v1.zip
check "pre-flight, missing SSM parameter: exits 3" "$(why_rc)" rc_is 3
calls preflight-missing
check "pre-flight, missing SSM parameter: no mutating call" "$(mutations)" no_mutations
check "pre-flight, missing SSM parameter: names the parameter and the secret" "$(cat "$WORK/err")" \
    eval 'in_err "SSM parameter /demo/missing (ENV_MISSING_PARAM) does not exist in us-east-1" && in_err "secret demo/nope (ENV_MISSING_SECRET) does not exist in us-east-1"'

write_conf
AWS_STUB_CREDENTIALS=none run deploy --zip v1.zip
check "pre-flight, no credentials: exits 3" "$(why_rc)" rc_is 3
calls preflight-credentials
check "pre-flight, no credentials: says so, no mutating call" "$(cat "$WORK/err")" \
    eval 'in_err "AWS credentials do not work" && in_err "Unable to locate credentials" && no_mutations'
AWS_STUB_CREDENTIALS=expired run deploy --zip v1.zip
check "pre-flight, expired credentials: exits 3 with the service's message" "$(why_rc)" \
    eval 'rc_is 3 && in_err "ExpiredToken" && no_mutations'

nocli() { # deploy.sh with a PATH that has everything it uses but aws
    local d=$WORK/nocli t
    mkdir -p "$d"
    for t in bash dirname cat mktemp rm sed head cut sort stat sha256sum base64 grep tr wc; do
        [ -e "$d/$t" ] || ln -s "$(command -v "$t")" "$d/$t"
    done
    (cd "$PROJ" && PATH=$d "$DEPLOY" deploy --zip v1.zip </dev/null >"$WORK/out" 2>"$WORK/err")
}
: >"$WORK/aws.log"
nocli
RC=$?
check "pre-flight, no AWS CLI: exits 3 and says so" "$(why_rc)" eval 'rc_is 3 && in_err "AWS CLI is not installed"'

# --- 10. settings ---------------------------------------------------------------------------
settings_fails() { # settings_fails MESSAGE ARGS...: exit 2, no aws call, MESSAGE on stderr
    local msg=$1
    shift
    run "$@"
    rc_is 2 && [ ! -s "$WORK/aws.log" ] && in_err "$msg"
}
check "settings: unknown flag" "$(why_rc)" settings_fails "unknown flag --bogus" deploy --bogus 1
check "settings: AUTH must be one of the choices" "$(why_rc)" settings_fails "AUTH must be one of NONE, AWS_IAM, API_KEY, JWT, COGNITO" deploy --auth OPEN --zip v1.zip
check "settings: MEMORY range" "$(why_rc)" settings_fails "MEMORY must be 128..10240" deploy --memory 64 --zip v1.zip
check "settings: TIMEOUT range (15 minutes)" "$(why_rc)" settings_fails "TIMEOUT must be 1..900" deploy --timeout 901 --zip v1.zip
check "settings: environment over 4 KB" "$(why_rc)" settings_fails "Lambda allows 4 KB" deploy --zip v1.zip --env "BIG=$(head -c 4100 /dev/zero | tr '\0' x)"
check "settings: reserved variable" "$(why_rc)" settings_fails "reserved by Lambda" deploy --zip v1.zip --env AWS_REGION=x
check "settings: an ssm: reference the runtime cannot resolve (an ARN)" "$(why_rc)" \
    settings_fails "finds an ssm: parameter by its name only" deploy --zip v1.zip --env P=ssm:arn:aws:ssm:us-east-1:123456789012:parameter/x
run deploy --zip v1.zip --region il-central-1
check "pre-flight: a region without function URLs fails before any AWS call" "$(why_rc)" \
    eval 'rc_is 3 && [ ! -s "$WORK/aws.log" ] && in_err "function URLs are not available in il-central-1"'
check "settings: unknown command" "$(why_rc)" settings_fails "unknown command: deplyo" deplyo
printf 'NAME=demo\nREGION=us-east-1\nMEMROY=512\n' >"$PROJ/bad.conf"
check "settings: unknown key in the config file, with its line" "$(why_rc)" \
    settings_fails "bad.conf:3: unknown setting MEMROY" deploy --config bad.conf --zip v1.zip
printf 'REGION=us-east-1\n' >"$PROJ/noname.conf"
check "settings: NAME is required" "$(why_rc)" settings_fails "NAME is required" deploy --config noname.conf --zip v1.zip
run --help
check "--help: usage on stdout, exit 0" "$(why_rc)" eval 'rc_is 0 && in_out "usage: deploy/deploy.sh COMMAND"'

# --- 11. a new role not yet visible to Lambda; an AWS CLI too old for the URL permission ----------
seed_state
write_conf
AWS_STUB_ROLE_PROPAGATION=2 run deploy --zip v1.zip
check "new role propagation: create-function retried until Lambda can assume the role" "$(why_rc); $(count_calls "lambda create-function")" \
    eval 'rc_is 0 && [ "$(count_calls "lambda create-function")" = 3 ]'
run destroy --yes
AWS_STUB_CLI_VERSION=2.9.19 run deploy --zip v1.zip
check "AWS CLI without --invoked-via-function-url: fails and says to upgrade" "$(why_rc)" \
    eval 'rc_is 1 && in_err "upgrade the AWS CLI"'
run destroy --yes

# --- 12. a function deploy.sh did not create is left alone --------------------------------------
seed_state
"$PY" - "$STATE/state.json" <<'EOF'
import json, sys
p = sys.argv[1]; s = json.load(open(p))
s.setdefault("functions", {})["demo"] = {"Configuration": {"FunctionName": "demo", "State": "Active", "LastUpdateStatus": "Successful"},
                          "Tags": {}, "Versions": {}, "Aliases": {}, "Urls": {}, "Policies": {}, "Concurrency": None, "NextVersion": 1}
json.dump(s, open(p, "w"))
EOF
run destroy --yes
check "destroy: refuses a function without the mcp-deploy tag" "$(why_rc)" eval 'rc_is 1 && in_err "was not created by deploy.sh" && no_mutations'
run deploy --zip v1.zip
check "deploy: refuses, in pre-flight, a function without the mcp-deploy tag; nothing changed" "$(why_rc); $(mutations | tr '\n' ';')" \
    eval 'rc_is 3 && in_err "did not create it" && no_mutations'

seed_state
"$PY" - "$STATE/state.json" <<'EOF2'
import json, sys
p = sys.argv[1]; s = json.load(open(p))
s.setdefault("roles", {})["demo-role"] = {"Path": "/", "RoleName": "demo-role", "RoleId": "AROAEXAMPLE",
    "Arn": "arn:aws:iam::123456789012:role/demo-role", "AssumeRolePolicyDocument": {}, "Tags": [], "Policies": {}}
json.dump(s, open(p, "w"))
EOF2
run deploy --zip v1.zip
check "deploy: refuses, in pre-flight, a role without the mcp-deploy tag; nothing changed" "$(why_rc); $(mutations | tr '\n' ';')" \
    eval 'rc_is 3 && in_err "role demo-role exists but deploy.sh did not create it" && no_mutations'

# --- 12b. the other settings: changed, then converged -------------------------------------------------
seed_state
write_conf
run deploy --zip v1.zip --auth AWS_IAM
cat >"$PROJ/other.conf" <<'EOF2'
NAME=demo
REGION=us-east-1
AUTH=NONE
ARCH=x86_64
LOG_FORMAT=Text
ALARM_TOPIC=arn:aws:sns:us-east-1:123456789012:alerts
ENV_MCP_STATE_KEY=secretsmanager:demo/cmk-secret#key
ENV_PLAIN=ssm:/demo/plain
EOF2
run deploy --config other.conf --zip v1.zip
check "other settings: x86_64, Text logs, no CORS, BUFFERED, no reserved concurrency, public again, alarm actions" \
    "$(why_rc); $(mutations | tr '\n' ';')" \
    test "$(mutations | tr '\n' ';')" = "iam put-role-policy;lambda update-function-code;lambda update-function-configuration;lambda delete-function-concurrency;lambda publish-version;lambda update-alias;lambda update-function-url-config;lambda add-permission;lambda add-permission;cloudwatch put-metric-alarm;cloudwatch put-metric-alarm;cloudwatch put-metric-alarm;"
check "other settings: the state matches" "$(state "s['functions']['demo']['Configuration']")" \
    test "$(state "(s['functions']['demo']['Configuration']['Architectures'], s['functions']['demo']['Configuration']['LoggingConfig'].get('ApplicationLogLevel'), s['functions']['demo']['Configuration']['LoggingConfig']['LogFormat'], 'Cors' in s['functions']['demo']['Urls']['live'], s['functions']['demo']['Urls']['live']['InvokeMode'], s['functions']['demo']['Concurrency'], sorted(s['functions']['demo']['Configuration']['Environment']['Variables']), s['alarms']['demo-errors']['AlarmActions'])")" = \
    "(['x86_64'], None, 'Text', False, 'BUFFERED', None, ['MCP_STATE_KEY', 'PLAIN'], ['arn:aws:sns:us-east-1:123456789012:alerts'])"
check "other settings: policy for a plain String parameter and a secret under a customer managed key" "$(state "s['roles']['demo-role']['Policies']")" \
    test "$(state "[(x['Sid'], x.get('Condition')) for x in json.loads(s['roles']['demo-role']['Policies']['mcp-deploy'])['Statement'] if x['Sid'] in ('SsmParameters','Secrets','KmsDecryptViaService')]")" = \
    "[('SsmParameters', None), ('Secrets', None), ('KmsDecryptViaService', {'StringEquals': {'kms:ViaService': ['secretsmanager.us-east-1.amazonaws.com']}})]"
run deploy --config other.conf --zip v1.zip
check "other settings: the next deploy changes nothing" "$(why_rc); $(mutations | tr '\n' ';')" \
    eval 'rc_is 0 && [ "$(mutations | tr "\n" ";")" = "lambda publish-version;" ]'
run destroy --config other.conf --yes

# --- 12c. provisioned concurrency (moto has none), VPC, grants, free statements ------------------------
seed_state
write_conf
printf '[{"Sid":"Queue","Effect":"Allow","Action":"sqs:SendMessage","Resource":"arn:aws:sqs:us-east-1:123456789012:jobs"}]\n' >"$PROJ/extra.json"
cat >>"$PROJ/mcp-deploy.conf" <<'EOF2'
PROVISIONED_CONCURRENCY=2
VPC_SUBNETS=subnet-0bbbbbbbbbbbbbbbb, subnet-0aaaaaaaaaaaaaaaa
VPC_SECURITY_GROUPS=sg-0cccccccccccccccc
DYNAMODB_TABLES=notes,arn:aws:dynamodb:eu-west-1:123456789012:table/other
BEDROCK_MODELS=anthropic.claude-3-haiku-20240307-v1:0,us.anthropic.claude-sonnet-4-20250514-v1:0
EXTRA_POLICY=@extra.json
EOF2
run deploy --zip v1.zip
check "knobs deploy: exits 0; provisioned concurrency 2 put on live after the alias" "$(why_rc); $(mutations | tr '\n' ';')" \
    eval 'rc_is 0 && [[ "$(mutations | tr "\n" ";")" == *"lambda create-alias;lambda put-provisioned-concurrency-config;"* ]] && grep -q "put-provisioned-concurrency-config --function-name demo --qualifier live --provisioned-concurrent-executions 2 " "$WORK/aws.log"'
check "knobs deploy: the function in the two subnets (sorted) with the security group" "$(state "s['functions']['demo']['Configuration'].get('VpcConfig')")" \
    test "$(state "s['functions']['demo']['Configuration']['VpcConfig']['SubnetIds'], s['functions']['demo']['Configuration']['VpcConfig']['SecurityGroupIds']")" = \
    "(['subnet-0aaaaaaaaaaaaaaaa', 'subnet-0bbbbbbbbbbbbbbbb'], ['sg-0cccccccccccccccc'])"
check "knobs deploy: role statements VPC, DynamoDB (the tables, then their indexes), Bedrock (model, inference profile and its models), then the free one" "$(state "s['roles']['demo-role']['Policies']['mcp-deploy']")" \
    test "$(state "[(x['Sid'], x['Resource']) for x in json.loads(s['roles']['demo-role']['Policies']['mcp-deploy'])['Statement'][8:]]")" = \
    "[('VpcNetworkInterfaces', '*'), ('DynamoDbTables', ['arn:aws:dynamodb:us-east-1:123456789012:table/notes', 'arn:aws:dynamodb:eu-west-1:123456789012:table/other', 'arn:aws:dynamodb:us-east-1:123456789012:table/notes/index/*', 'arn:aws:dynamodb:eu-west-1:123456789012:table/other/index/*']), ('BedrockModels', ['arn:aws:bedrock:us-east-1::foundation-model/anthropic.claude-3-haiku-20240307-v1:0', 'arn:aws:bedrock:us-east-1:123456789012:inference-profile/us.anthropic.claude-sonnet-4-20250514-v1:0', 'arn:aws:bedrock:*::foundation-model/anthropic.claude-sonnet-4-20250514-v1:0']), ('Queue', 'arn:aws:sqs:us-east-1:123456789012:jobs')]"
run deploy --zip v1.zip
check "knobs unchanged redeploy: no change but publish-version" "$(why_rc); $(mutations | tr '\n' ';')" \
    eval 'rc_is 0 && [ "$(mutations | tr "\n" ";")" = "lambda publish-version;" ]'
run deploy --zip v1.zip --provisioned-concurrency 3
check "knobs: PROVISIONED_CONCURRENCY 2 -> 3 puts it again, nothing else" "$(why_rc); $(mutations | tr '\n' ';')" \
    eval 'rc_is 0 && [ "$(mutations | tr "\n" ";")" = "lambda publish-version;lambda put-provisioned-concurrency-config;" ]'
write_conf
run deploy --zip v1.zip
check "knobs removed: provisioned concurrency deleted, VPC detached, statements gone" "$(why_rc); $(mutations | tr '\n' ';')" \
    eval 'rc_is 0 && [ "$(mutations | tr "\n" ";")" = "iam put-role-policy;lambda update-function-configuration;lambda publish-version;lambda update-alias;lambda delete-provisioned-concurrency-config;" ] && grep -qF -- "--vpc-config '"'"'{\"SubnetIds\":[],\"SecurityGroupIds\":[]}'"'"'" "$WORK/aws.log"'
check "knobs removed: no provisioned concurrency, no VPC, the policy of the first deploy" "$(state "s['functions']['demo'].get('Provisioned')")" \
    test "$(state "(s['functions']['demo']['Provisioned'], s['functions']['demo']['Configuration']['VpcConfig']['SubnetIds'], len(json.loads(s['roles']['demo-role']['Policies']['mcp-deploy'])['Statement']))")" = "({}, [], 8)"
run destroy --yes
check "settings: VPC_SUBNETS without VPC_SECURITY_GROUPS" "$(why_rc)" settings_fails "VPC_SUBNETS and VPC_SECURITY_GROUPS go together" deploy --zip v1.zip --vpc-subnets subnet-0aaaaaaaaaaaaaaaa
check "settings: CUSTOM_DOMAIN with a function URL says to use an API or CloudFront" "$(why_rc)" \
    settings_fails "a function URL takes no custom domain (put CloudFront in front of it yourself, or use an API)" deploy --zip v1.zip --custom-domain mcp.example.com --certificate-arn arn:aws:acm:us-east-1:123456789012:certificate/abc
check "settings: CUSTOM_DOMAIN needs CERTIFICATE_ARN" "$(why_rc)" \
    settings_fails "CUSTOM_DOMAIN needs CERTIFICATE_ARN" deploy --zip v1.zip --front HTTP_API --custom-domain mcp.example.com
check "settings: EXTRA_POLICY must be JSON statements, checked before any call" "$(why_rc)" \
    settings_fails "EXTRA_POLICY: expected a JSON array of IAM statements" deploy --zip v1.zip --extra-policy '[{"Action":"s3:*"}]'
check "settings: EXTRA_POLICY that is not JSON" "$(why_rc)" settings_fails "EXTRA_POLICY: not JSON" deploy --zip v1.zip --extra-policy '[{'
check "settings: PROVISIONED_CONCURRENCY above RESERVED_CONCURRENCY" "$(why_rc)" \
    settings_fails "PROVISIONED_CONCURRENCY (9) cannot exceed RESERVED_CONCURRENCY (5)" deploy --zip v1.zip --provisioned-concurrency 9
run deploy --zip v1.zip --tasks-table their-table
check "pre-flight: TASKS_TABLE naming a table that does not exist exits 3, nothing changed" "$(why_rc)" \
    eval 'rc_is 3 && in_err "TASKS_TABLE: table their-table does not exist in us-east-1" && no_mutations'

# --- 13. the real build path (./build.sh), with MCP_DEPLOY_TEST_BUILD=1 ------------------------------
# Off by default: build.sh installs its toolchain with apt-get and rewrites build/; the other
# checks deploy prebuilt zips.
if [ "${MCP_DEPLOY_TEST_BUILD:-0}" = 1 ]; then
    seed_state
    printf 'NAME=built\nREGION=us-east-1\nARCH=x86_64\nAUTH=NONE\nSOURCE=%s\n' "$ROOT/examples/hello.c" >"$PROJ/built.conf"
    run deploy --config built.conf
    check "build: deploy without --zip builds SOURCE with ../build.sh and uploads build/bootstrap.zip" "$(why_rc)" \
        eval 'rc_is 0 && grep -q "create-function .*--zip-file fileb://$ROOT/build/bootstrap.zip" "$WORK/aws.log" && [ "$(state "s[\"functions\"][\"built\"][\"Configuration\"][\"CodeSha256\"]")" = "$(zip_sha "$ROOT/build/bootstrap.zip")" ]'
else
    ok "build: # SKIP the real ./build.sh runs with MCP_DEPLOY_TEST_BUILD=1 (the other checks deploy prebuilt zips)"
fi

# --- 14. shellcheck and the CloudFormation template -------------------------------------------------
if command -v shellcheck >/dev/null 2>&1; then
    check "shellcheck deploy/deploy.sh and deploy/lib/*.sh" "$(shellcheck -x "$DEPLOY" 2>&1 | head -n 20)" shellcheck -x "$DEPLOY"
    check "shellcheck test/deploy/test.sh" "$(shellcheck -e SC2016 "$HERE/test.sh" 2>&1 | head -n 20)" shellcheck -e SC2016 "$HERE/test.sh"
else
    not_ok "shellcheck deploy/deploy.sh" "shellcheck is not installed and could not be installed"
fi

# the template against the calls of this run's first deploy
"$PY" "$HERE/template_check.py" "$ROOT/deploy/template.yaml" "$WORK/calls-first-deploy.txt" >"$WORK/template.out" 2>&1
rc=$?
cat "$WORK/template.out"
PASS=$((PASS + $(grep -c '^ok ' "$WORK/template.out")))
FAIL=$((FAIL + $(grep -c '^not ok ' "$WORK/template.out")))
if [ $rc -ne 0 ] && ! grep -q '^not ok ' "$WORK/template.out"; then not_ok "template checks" "template_check.py exited $rc"; fi

if command -v cfn-lint >/dev/null 2>&1; then
    check "cfn-lint deploy/template.yaml" "$(cfn-lint "$ROOT/deploy/template.yaml" 2>&1 | head -n 20)" cfn-lint "$ROOT/deploy/template.yaml"
else
    ok "cfn-lint deploy/template.yaml # SKIP cfn-lint not installed"
fi

echo "# $PASS passed, $FAIL failed"
[ "$FAIL" -eq 0 ]
