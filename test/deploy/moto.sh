#!/usr/bin/env bash
# test/deploy/moto.sh: deploy/deploy.sh with the real AWS CLI against moto's server, the whole
# cycle (deploy, redeploy with nothing changed, code change, rollback, logs, destroy), each
# state read back with the CLI.
#
#   test/deploy/moto.sh           "ok - ..." / "not ok - ..." lines, then "# N passed, M failed"
#   test/deploy/moto.sh --quick   the whole cycle of each front door only (function URL with NONE,
#                                 HTTP API with Cognito, REST API with IAM), as test/run.sh runs it:
#                                 about half the time
#
# moto cannot run a function (it needs Docker for that), so the smoke test's requests go to
# the data-tools server built here and run on loopback: a curl wrapper sends what deploy.sh
# asks of https://<id>.lambda-url.<region>.on.aws/PATH to http://127.0.0.1:PORT/PATH.
# test/deploy/README.md lists what still needs the stand-in CLI (test/deploy/aws).
set -uo pipefail
cd "$(dirname "$0")/../.." || exit 1
ROOT=$(pwd)
DEPLOY=$ROOT/deploy/deploy.sh

PASS=0
FAIL=0
ok() { echo "ok - $1"; PASS=$((PASS + 1)); }
not_ok() { echo "not ok - $1: $2"; FAIL=$((FAIL + 1)); }
check() { local name=$1 why=$2; shift 2; if "$@"; then ok "$name"; else not_ok "$name" "$why"; fi; }
skip_all() { echo "ok - moto deploy tests # SKIP $1"; echo "# 1 passed, 0 failed"; exit 0; }
T0=$(date +%s)
QUICK=0
[ "${1:-}" = --quick ] && QUICK=1

# shellcheck source=test/deploy/moto_lib.sh
. "$ROOT/test/deploy/moto_lib.sh"

# --- the server behind the front door, and curl pointed at it ------------------------------------
SERVER_PORT=$(free_port)
gcc -std=c11 -O0 -o "$WORK/datatools" "$ROOT/examples/datatools.c" "$ROOT/mcp.c" -lbearssl -lm -lpthread 2>"$WORK/gcc.log" ||
    { not_ok "build the data-tools server" "$(head -n 5 "$WORK/gcc.log")"; exit 1; }
"$WORK/datatools" serve --listen "127.0.0.1:$SERVER_PORT" >"$WORK/server.log" 2>&1 &
SERVER_PID=$!
REAL_CURL=$(command -v curl)
cat >"$WORK/bin/curl" <<EOF
#!/usr/bin/env bash
# every https URL of a front door to the local server; the call logged
args=()
for a in "\$@"; do
    if [[ \$a =~ ^https://[^/]+\.lambda-url\.[a-z0-9-]+\.on\.aws(/.*)?\$ ]]; then
        a="http://127.0.0.1:$SERVER_PORT\${BASH_REMATCH[1]:-/}"
    elif [[ \$a =~ ^https://[^/]+\.execute-api\.[a-z0-9-]+\.amazonaws\.com(/live)?(/.*)?\$ ]]; then
        a="http://127.0.0.1:$SERVER_PORT\${BASH_REMATCH[2]:-/}" # a REST API's stage is not the server's
    fi
    args+=("\$a")
done
{ printf 'curl'; printf ' %q' "\${args[@]}"; printf '\n'; } >>"$WORK/curl.log"
exec "$REAL_CURL" "\${args[@]}"
EOF
chmod +x "$WORK/bin/curl"

# --- the project: two packages, a parameter and a secret ------------------------------------------
PROJ=$WORK/project
mkdir -p "$PROJ"
make_zip() { # make_zip NAME: a bootstrap at the zip's root, mode 0755
    local d=$WORK/zip-$1
    mkdir -p "$d"
    printf '#!/bin/sh\n# stand-in bootstrap %s\n' "$1" >"$d/bootstrap"
    chmod 0755 "$d/bootstrap"
    (cd "$d" && zip -q -X "$PROJ/$1.zip" bootstrap)
}
make_zip v1
make_zip v2
seed() {
    q ssm put-parameter --name /demo/api-token --type SecureString --value tok >/dev/null
    q secretsmanager create-secret --name demo/state-key --secret-string '{"key":"k"}' >/dev/null
}
seed
# what the issue 16 settings refer to: a certificate, a VPC's subnet and security group, free statements
CERT=$(q acm request-certificate --domain-name '*.example.com' --query CertificateArn)
VPC=$(q ec2 create-vpc --cidr-block 10.9.0.0/16 --query Vpc.VpcId)
SUBNET=$(q ec2 create-subnet --vpc-id "$VPC" --cidr-block 10.9.1.0/24 --query Subnet.SubnetId)
SG=$(q ec2 create-security-group --vpc-id "$VPC" --group-name demo --description demo --query GroupId)
printf '[{"Sid":"Queue","Effect":"Allow","Action":"sqs:SendMessage","Resource":"arn:aws:sqs:us-east-1:123456789012:jobs"}]\n' >"$PROJ/extra.json"

RC=0
run() { # run ARGS...: deploy.sh in the project; RC, $WORK/out, $WORK/err, fresh logs
    : >"$WORK/aws.log"
    : >"$WORK/curl.log"
    (cd "$PROJ" && "$DEPLOY" "$@" </dev/null >"$WORK/out" 2>"$WORK/err")
    RC=$?
}
rc_is() { [ "$RC" -eq "$1" ]; }
why_rc() { printf 'exit %s; stderr: %s' "$RC" "$(tail -n 4 "$WORK/err" | tr '\n' ' ')"; }
in_err() { grep -qF -- "$1" "$WORK/err"; }
in_out() { grep -qF -- "$1" "$WORK/out"; }
MUTATING='^aws [a-z0-9-]+ (create-|update-|put-|delete-|publish-|add-|remove-|tag-|untag-)'
mutations() { grep -E "$MUTATING" "$WORK/aws.log" | awk '{print $2" "$3}' | tr '\n' ';'; }
is() { [ "$1" = "$2" ]; } # is GOT WANT

cat >"$PROJ/mcp-deploy.conf" <<'EOF'
NAME=demo
REGION=us-east-1
AUTH=NONE
MEMORY=256
TIMEOUT=30
RESERVED_CONCURRENCY=5
CORS_ORIGINS=https://app.example.com
ENV_MCP_STATE_KEY=secretsmanager:demo/state-key#key
ENV_API_TOKEN=ssm:/demo/api-token
S3_PREFIXES=demo-bucket/data
EOF

# --- 1. function URL, AUTH=NONE: the whole cycle ------------------------------------------------------
run deploy --zip v1.zip
check "url/none deploy: exits 0" "$(why_rc)" rc_is 0
got=$(q lambda get-function-configuration --function-name demo \
    --query '[Runtime, Handler, MemorySize, Timeout, join(`,`, Architectures), LoggingConfig.LogFormat]' | tr '\t' ' ')
# moto keeps no logging configuration (None); the stand-in test checks it
check "url/none deploy: function provided.al2023, bootstrap, 256 MB, 30 s, arm64" "$got" \
    is "$got" "provided.al2023 bootstrap 256 30 arm64 None"
got=$(q lambda get-function-configuration --function-name demo --query 'Environment.Variables' | tr '\t' ' ')
check "url/none deploy: environment (references as written, CORS origins)" "$got" \
    is "$got" "ssm:/demo/api-token https://app.example.com secretsmanager:demo/state-key#key"
got=$(q lambda get-alias --function-name demo --name live --query FunctionVersion)
check "url/none deploy: alias live -> 1" "$got" is "$got" 1
got=$(q lambda get-function-concurrency --function-name demo --query ReservedConcurrentExecutions)
check "url/none deploy: reserved concurrency 5" "$got" is "$got" 5
got=$(q lambda get-function-url-config --function-name demo --qualifier live --query '[AuthType, InvokeMode, join(`,`, Cors.AllowOrigins)]' | tr '\t' ' ')
check "url/none deploy: URL on live, NONE, BUFFERED, CORS" "$got" is "$got" "NONE BUFFERED https://app.example.com"
URL=$(q lambda get-function-url-config --function-name demo --qualifier live --query FunctionUrl)
check "url/none deploy: endpoints printed under the URL with one slash (moto's URL has none)" "$URL; $(grep POST "$WORK/out")" \
    eval 'in_out "POST ${URL%/}/mcp" && ! grep -q "on.awsmcp\|//mcp" "$WORK/out"'
got=$(q lambda get-policy --function-name demo --qualifier live --query Policy | "$PY" -c \
    'import json,sys; print(" ".join(sorted(s["Sid"] + ":" + s["Action"] for s in json.load(sys.stdin)["Statement"])))')
check "url/none deploy: the two public statements on the alias" "$got" \
    is "$got" "mcp-deploy-url-invoke:lambda:InvokeFunction mcp-deploy-url-public:lambda:InvokeFunctionUrl"
got=$(q iam get-role-policy --role-name demo-role --policy-name mcp-deploy --query 'PolicyDocument.Statement[].Sid' | tr '\t' ' ')
check "url/none deploy: role policy: logs, the parameter, the secret, kms via SSM, S3 prefix" "$got" \
    is "$got" "Logs SsmParameters Secrets KmsDecryptViaService S3Objects1 S3List1"
got=$(q iam get-role-policy --role-name demo-role --policy-name mcp-deploy --query 'PolicyDocument.Statement[?Sid==`SsmParameters`].Resource[]' | tr '\t' ' ')
check "url/none deploy: the parameter's ARN from get-parameters, and the secret's Parameter Store reference (read in the same GetParameters)" "$got" \
    is "$got" "arn:aws:ssm:us-east-1:123456789012:parameter/aws/reference/secretsmanager/demo/state-key arn:aws:ssm:us-east-1:123456789012:parameter/demo/api-token"
got=$(q logs describe-log-groups --log-group-name-prefix /aws/lambda/demo --query 'logGroups[].[logGroupName, retentionInDays]' | tr '\t' ' ')
check "url/none deploy: log group, 14 days" "$got" is "$got" "/aws/lambda/demo 14"
got=$(q cloudwatch describe-alarms --alarm-name-prefix demo- --query 'MetricAlarms[].[AlarmName, Threshold]' | sort | tr '\t\n' ' ')
check "url/none deploy: three alarms" "$got" is "$got" "demo-duration-p99 24000.0 demo-errors 0.0 demo-throttles 0.0 "
check "url/none deploy: smoke test through the printed endpoints reached the server" "$(cat "$WORK/curl.log")" \
    eval 'in_err "smoke test: GET /health ok" && in_err "server/discover ok (server datatools)"'

run deploy --zip v1.zip
check "url/none unchanged redeploy: exits 0, no change but publish-version" "$(why_rc); $(mutations)" \
    eval 'rc_is 0 && is "$(mutations)" "lambda publish-version;"'
got=$(q lambda list-versions-by-function --function-name demo --query 'Versions[].Version' | tr '\t' ' ')
check "url/none unchanged redeploy: no new version" "$got" is "$got" "\$LATEST 1"

run deploy --zip v2.zip
check "url/none code change: exits 0; update-function-code, publish-version, update-alias" "$(why_rc); $(mutations)" \
    eval 'rc_is 0 && is "$(mutations)" "lambda update-function-code;lambda publish-version;lambda update-alias;"'
check "url/none code change: the progress line is one line with both versions" "$(grep alias "$WORK/err")" \
    eval 'is "$(grep "alias live" "$WORK/err")" "deploy: alias live: version 1 -> 2"'
got=$(q lambda get-alias --function-name demo --name live --query FunctionVersion)
check "url/none code change: live -> 2" "$got" is "$got" 2

run outputs
check "outputs: exits 0, reads only, the endpoints" "$(why_rc); $(mutations)" \
    eval 'rc_is 0 && is "$(mutations)" "" && in_out "POST ${URL%/}/mcp"'

run logs --since 5m
check "logs (CLI v1: filter-log-events): exits 0" "$(why_rc); $(cat "$WORK/aws.log")" \
    eval 'rc_is 0 && grep -q "^aws logs filter-log-events --log-group-name /aws/lambda/demo" "$WORK/aws.log"'

run rollback
got=$(q lambda get-alias --function-name demo --name live --query FunctionVersion)
check "rollback: live -> 1, one line of progress" "$(why_rc); $got" \
    eval 'rc_is 0 && is "$got" 1 && in_err "rolled back: live now serves version 1 (was 2)"'

run destroy --yes
check "url/none destroy: exits 0" "$(why_rc)" rc_is 0
got="$(q lambda list-functions --query 'Functions[].FunctionName')|$(q iam list-roles --query 'Roles[].RoleName')|$(q logs describe-log-groups --query 'logGroups[].logGroupName')|$(q cloudwatch describe-alarms --query 'MetricAlarms[].AlarmName')"
check "url/none destroy: no function, role, log group or alarm left" "$got" is "$got" "|||"
got="$(q ssm get-parameter --name /demo/api-token --query Parameter.Name)|$(q secretsmanager describe-secret --secret-id demo/state-key --query Name)"
check "url/none destroy: the parameter and the secret untouched" "$got" is "$got" "/demo/api-token|demo/state-key"
run destroy --yes
check "url/none destroy again: exits 0, everything already gone" "$(why_rc)" eval 'rc_is 0 && in_err "function demo: already gone"'

if [ "$QUICK" = 0 ]; then # (--quick: not in test/run.sh, which keeps the cycle of each front door)
# --- 2. function URL, AUTH=AWS_IAM, signed smoke test -----------------------------------------------
run deploy --zip v1.zip --auth AWS_IAM --sigv4
check "url/iam deploy --sigv4: exits 0, signed smoke test with the environment's keys (CLI v1)" "$(why_rc)" \
    eval 'rc_is 0 && in_err "server/discover ok" && [ "$(grep -c -- "--aws-sigv4 aws:amz:us-east-1:lambda" "$WORK/curl.log")" = 2 ]'
got=$(q lambda get-function-url-config --function-name demo --qualifier live --query AuthType)
pol=$(q lambda get-policy --function-name demo --qualifier live --query Policy 2>&1)
check "url/iam deploy: AWS_IAM URL, no public statement" "$got; $pol" eval 'is "$got" AWS_IAM && [[ $pol != *mcp-deploy-url* ]]'
run deploy --zip v1.zip --auth AWS_IAM
check "url/iam unchanged redeploy: no change but publish-version" "$(why_rc); $(mutations)" \
    eval 'rc_is 0 && is "$(mutations)" "lambda publish-version;"'
run destroy --yes
check "url/iam destroy: exits 0" "$(why_rc)" rc_is 0

fi

# --- 3. HTTP API with Cognito: user pool, resource server, client, domain, JWT authorizer ---------------
sed -i 's/^AUTH=NONE$/AUTH=COGNITO/' "$PROJ/mcp-deploy.conf"
printf 'CUSTOM_DOMAIN=mcp.example.com\nCERTIFICATE_ARN=%s\n' "$CERT" >>"$PROJ/mcp-deploy.conf"
CALLBACKS=http://localhost:8080/callback,http://localhost:33418/callback
printf 'COGNITO_CALLBACK_URLS=%s\n' "$CALLBACKS" >>"$PROJ/mcp-deploy.conf"
run deploy --zip v1.zip --front HTTP_API
check "http/cognito deploy: exits 0" "$(why_rc)" rc_is 0
API=$(q apigatewayv2 get-apis --query "Items[?Name=='demo'].ApiId | [0]")
POOL=$(q cognito-idp list-user-pools --max-results 10 --query "UserPools[?Name=='demo-users'].Id | [0]")
CLIENT=$(q cognito-idp list-user-pool-clients --user-pool-id "$POOL" --query "UserPoolClients[?ClientName=='demo-client'].ClientId | [0]")
ISS=https://cognito-idp.us-east-1.amazonaws.com/$POOL
got=$(q cognito-idp describe-resource-server --user-pool-id "$POOL" --identifier demo --query 'ResourceServer.Scopes[].ScopeName')
check "http/cognito deploy: user pool demo-users with resource server demo, scope tools" "$POOL $got" is "$got" tools
got=$(q cognito-idp describe-user-pool-client --user-pool-id "$POOL" --client-id "$CLIENT" \
    --query 'UserPoolClient.[join(`,`, AllowedOAuthFlows), join(`,`, AllowedOAuthScopes), join(`,`, CallbackURLs)]' | tr '\t' ' ')
check "http/cognito deploy: public app client, code flow, openid + demo/tools, the callback URLs" "$got" \
    is "$got" "code openid,demo/tools $CALLBACKS"
got=$(q cognito-idp describe-user-pool-client --user-pool-id "$POOL" --client-id "$CLIENT" --query 'UserPoolClient.[to_string(ClientSecret), to_string(AllowedOAuthFlowsUserPoolClient)]' | tr '\t' ' ')
check "http/cognito deploy: the app client has no secret, OAuth flows on" "$got" is "$got" "null true"
got=$(q cognito-idp describe-user-pool --user-pool-id "$POOL" --query UserPool.Domain)
check "http/cognito deploy: domain demo-123456789012" "$got" is "$got" demo-123456789012
authorizer() { q apigatewayv2 get-authorizer --api-id "$API" --authorizer-id "$(q apigatewayv2 get-routes --api-id "$API" --query "Items[?RouteKey=='\$default'].AuthorizerId | [0]")" "$@"; }
got=$(authorizer --query '[AuthorizerType, JwtConfiguration.Issuer, join(`,`, JwtConfiguration.Audience), join(`,`, IdentitySource)]' | tr '\t' ' ')
check "http/cognito deploy: JWT authorizer: the pool's issuer, the client as audience" "$got" \
    is "$got" "JWT $ISS $CLIENT \$request.header.Authorization"
got=$(q apigatewayv2 get-routes --api-id "$API" --query 'Items[].[RouteKey, AuthorizationType, join(`,`, AuthorizationScopes || `[]`)]' | sort | tr '\t\n' ' ')
check "http/cognito deploy: routes: \$default behind the authorizer (scope demo/tools), /health, OAuth metadata and POST /register public" "$got" \
    is "$got" "\$default JWT demo/tools GET /.well-known/{proxy+} NONE  GET /health NONE  POST /register NONE  "
got=$(q apigatewayv2 get-routes --api-id "$API" --query "Items[?RouteKey=='POST /register'].[AuthorizationType, AuthorizerId || '-', Target]" | tr '\t' ' ')
check "http/cognito deploy: POST /register reaches the integration without an authorizer" "$got" \
    eval '[[ $got =~ ^NONE\ -\ integrations/[a-z0-9]+$ ]]'
got=$(q apigatewayv2 get-integrations --api-id "$API" --query 'Items[].[IntegrationType, IntegrationUri, PayloadFormatVersion]' | tr '\t' ' ')
check "http/cognito deploy: one AWS_PROXY integration of the alias, payload 2.0" "$got" \
    is "$got" "AWS_PROXY arn:aws:lambda:us-east-1:123456789012:function:demo:live 2.0"
got=$(q apigatewayv2 get-stages --api-id "$API" --query 'Items[].[StageName, to_string(AutoDeploy), to_string(DefaultRouteSettings.ThrottlingRateLimit), to_string(DefaultRouteSettings.ThrottlingBurstLimit), AccessLogSettings.DestinationArn]' | tr '\t' ' ')
check "http/cognito deploy: \$default stage, auto-deploy, 50/s burst 100, access logs" "$got" \
    is "$got" "\$default true 50.0 100 arn:aws:logs:us-east-1:123456789012:log-group:/aws/apigateway/demo"
got=$(q lambda get-function-configuration --function-name demo --query 'Environment.Variables.[MCP_JWT_ISSUER, MCP_OAUTH_AUTHORIZATION_SERVERS, MCP_OAUTH_SCOPES]' | tr '\t' ' ')
check "http/cognito deploy: the function's MCP_JWT_ISSUER, MCP_OAUTH_AUTHORIZATION_SERVERS, MCP_OAUTH_SCOPES" "$got" \
    is "$got" "$ISS $ISS demo/tools"
OAUTH=https://demo-123456789012.auth.us-east-1.amazoncognito.com/oauth2
got=$(q lambda get-function-configuration --function-name demo --query 'Environment.Variables.[MCP_OAUTH_CLIENT_ID, MCP_OAUTH_AUTHORIZATION_ENDPOINT, MCP_OAUTH_TOKEN_ENDPOINT, MCP_OAUTH_REDIRECT_URIS]' | tr '\t' ' ')
check "http/cognito deploy: the function's MCP_OAUTH_CLIENT_ID (the app client), authorization and token endpoints of the domain, redirect URIs" "$got" \
    is "$got" "$CLIENT $OAUTH/authorize $OAUTH/token $CALLBACKS"
# the server with that environment: its POST /register hands out the app client
REG_PORT=$(free_port)
env MCP_OAUTH_CLIENT_ID="$CLIENT" MCP_OAUTH_AUTHORIZATION_ENDPOINT="$OAUTH/authorize" MCP_OAUTH_TOKEN_ENDPOINT="$OAUTH/token" \
    MCP_OAUTH_REDIRECT_URIS="$CALLBACKS" "$WORK/datatools" serve --listen "127.0.0.1:$REG_PORT" >"$WORK/server-reg.log" 2>&1 &
REG_PID=$!
for _ in 1 2 3 4 5 6 7 8 9 10; do "$REAL_CURL" -s -o /dev/null "http://127.0.0.1:$REG_PORT/health" && break; sleep 0.2; done
got=$("$REAL_CURL" -s -w ' %{http_code}' -X POST -H 'Content-Type: application/json' \
    -d '{"redirect_uris":["http://localhost:33418/callback"],"token_endpoint_auth_method":"none"}' "http://127.0.0.1:$REG_PORT/register")
kill "$REG_PID" 2>/dev/null; wait "$REG_PID" 2>/dev/null
check "http/cognito deploy: the server with the function's environment answers POST /register 201 with the app client" "$got" \
    eval '[[ $got == *"\"client_id\":\"$CLIENT\""*" 201" ]]'
got=$(q lambda get-policy --function-name demo --qualifier live --query Policy | "$PY" -c \
    'import json,sys; print(" ".join(sorted(s["Sid"] for s in json.load(sys.stdin)["Statement"])))')
check "http/cognito deploy: API Gateway may invoke the alias; no public URL statement" "$got" is "$got" "mcp-deploy-api-$API"
got=$(q lambda get-function-url-config --function-name demo --qualifier live --query AuthType)
check "http/cognito deploy: no function URL" "$got" eval '[[ $got == *ResourceNotFound* ]]'
check "http/cognito deploy: endpoints under the API, smoke test GET /health" "$(cat "$WORK/out")" \
    eval 'in_out "POST https://$API.execute-api.us-east-1.amazonaws.com/mcp" && in_err "smoke test: GET /health ok"'
got=$(q apigatewayv2 get-domain-name --domain-name mcp.example.com --query '[DomainNameConfigurations[0].CertificateArn, DomainNameConfigurations[0].EndpointType, DomainNameConfigurations[0].SecurityPolicy, Tags."mcp-deploy"]' | tr '\t' ' ')
check "http/cognito deploy: custom domain mcp.example.com, REGIONAL, TLS_1_2, the certificate, tagged" "$got" is "$got" "$CERT REGIONAL TLS_1_2 demo"
got=$(q apigatewayv2 get-api-mappings --domain-name mcp.example.com --query 'Items[].[ApiId, Stage, ApiMappingKey]' | tr '\t' ' ')
check "http/cognito deploy: one API mapping of the domain to the API's \$default stage, no key" "$got" is "$got" "$API \$default "
got=$(q lambda get-function-configuration --function-name demo --query 'Environment.Variables.MCP_BASE_PATH')
check "http/cognito deploy: no BASE_PATH, no MCP_BASE_PATH" "$got" is "$got" None
check "http/cognito deploy: prints the custom domain's endpoint" "$(grep -A2 "Custom domain" "$WORK/out")" in_out "POST https://mcp.example.com/mcp"
run deploy --zip v1.zip --front HTTP_API
check "http/cognito unchanged redeploy: no change but publish-version" "$(why_rc); $(mutations)" \
    eval 'rc_is 0 && is "$(mutations)" "lambda publish-version;"'
run destroy --yes --front HTTP_API
got="$(q apigatewayv2 get-apis --query 'Items[].Name')|$(q cognito-idp list-user-pools --max-results 10 --query 'UserPools[].Name')|$(q logs describe-log-groups --query 'logGroups[].logGroupName')|$(q lambda list-functions --query 'Functions[].FunctionName')|$(q apigatewayv2 get-domain-names --query 'Items[].DomainName')"
check "http/cognito destroy: API, user pool, log groups, function, custom domain gone" "$(why_rc); $got" eval 'rc_is 0 && is "$got" "||||"'
sed -i '/^CUSTOM_DOMAIN=/d; /^CERTIFICATE_ARN=/d; /^COGNITO_CALLBACK_URLS=/d' "$PROJ/mcp-deploy.conf"

# --- 4. REST API with IAM: methods, deployment, stage; signed smoke test; rollback ---------------------
sed -i 's/^AUTH=COGNITO$/AUTH=AWS_IAM/' "$PROJ/mcp-deploy.conf"
cat >>"$PROJ/mcp-deploy.conf" <<EOF
CUSTOM_DOMAIN=api.example.com
CERTIFICATE_ARN=$CERT
BASE_PATH=v1
VPC_SUBNETS=$SUBNET
VPC_SECURITY_GROUPS=$SG
DYNAMODB_TABLES=notes,arn:aws:dynamodb:eu-west-1:123456789012:table/other
BEDROCK_MODELS=anthropic.claude-3-haiku-20240307-v1:0,us.anthropic.claude-sonnet-4-20250514-v1:0
EXTRA_POLICY=@extra.json
TASKS_TABLE=create
EOF
run deploy --zip v1.zip --front REST_API --sigv4 --tracing Active
check "rest/iam deploy: exits 0, smoke test signed for execute-api" "$(why_rc)" \
    eval 'rc_is 0 && in_err "server/discover ok" && [ "$(grep -c -- "--aws-sigv4 aws:amz:us-east-1:execute-api" "$WORK/curl.log")" = 2 ]'
API=$(q apigateway get-rest-apis --query "items[?name=='demo'].id | [0]")
got=$(q apigateway get-resources --rest-api-id "$API" --embed methods --query 'items[].[path, resourceMethods.ANY.authorizationType, resourceMethods.ANY.methodIntegration.type]' | sort | tr '\t\n' ' ')
check "rest/iam deploy: ANY / and ANY /{proxy+}, AWS_IAM, Lambda proxy" "$got" is "$got" "/ AWS_IAM AWS_PROXY /{proxy+} AWS_IAM AWS_PROXY "
got=$(q apigateway get-stage --rest-api-id "$API" --stage-name live --query '[to_string(methodSettings."*/*".throttlingRateLimit), to_string(methodSettings."*/*".throttlingBurstLimit), accessLogSettings.destinationArn, to_string(tracingEnabled)]' | tr '\t' ' ')
check "rest/iam deploy: stage live: 50/s burst 100, access logs, tracing" "$got" \
    is "$got" "50.0 100 arn:aws:logs:us-east-1:123456789012:log-group:/aws/apigateway/demo true"
got=$(q lambda get-function-configuration --function-name demo --query TracingConfig.Mode)
check "rest/iam deploy: the function's tracing Active" "$got" is "$got" Active
check "rest/iam deploy: endpoints under the stage" "$(grep POST "$WORK/out")" in_out "POST https://$API.execute-api.us-east-1.amazonaws.com/live/mcp"
got=$(q apigateway get-domain-name --domain-name api.example.com --query '[regionalCertificateArn, join(`,`, endpointConfiguration.types), securityPolicy, tags."mcp-deploy", regionalDomainName]' | tr '\t' ' ')
TARGET=${got##* }
check "rest/iam deploy: custom domain api.example.com, REGIONAL, TLS_1_2, the certificate, tagged" "$got" is "$got" "$CERT REGIONAL TLS_1_2 demo $TARGET"
got=$(q apigateway get-base-path-mappings --domain-name api.example.com --query 'items[].[basePath, restApiId, stage]' | tr '\t' ' ')
check "rest/iam deploy: base path v1 -> the REST API's stage live" "$got" is "$got" "v1 $API live"
check "rest/iam deploy: prints https://api.example.com/v1/mcp and the DNS target" "$(grep -A3 "Custom domain" "$WORK/out")" \
    eval 'in_out "POST https://api.example.com/v1/mcp" && in_out "CNAME api.example.com -> $TARGET" && [[ $TARGET == *.execute-api.us-east-1.amazonaws.com ]]'
got=$(q lambda get-function-configuration --function-name demo --query 'Environment.Variables.[MCP_BASE_PATH, MCP_TASKS_TABLE]' | tr '\t' ' ')
check "rest/iam deploy: the function's MCP_BASE_PATH=/v1 and MCP_TASKS_TABLE=demo-tasks" "$got" is "$got" "/v1 demo-tasks"
got=$(q lambda get-function-configuration --function-name demo --query '[join(`,`, VpcConfig.SubnetIds), join(`,`, VpcConfig.SecurityGroupIds)]' | tr '\t' ' ')
check "rest/iam deploy: the function in the VPC's subnet with its security group" "$got" is "$got" "$SUBNET $SG"
got=$(AWS_LOG_OFF=1 aws iam get-role-policy --role-name demo-role --policy-name mcp-deploy --query 'PolicyDocument.Statement[7:]' --output json | "$PY" -c 'import json,sys; print(json.dumps(json.load(sys.stdin), separators=(",", ":")))')
check "rest/iam deploy: role statements after X-Ray's and S3's, exactly: VPC ENIs, DynamoDB, Bedrock, the tasks table and self-invoke, the free one" "$got" \
    is "$got" '[{"Sid":"VpcNetworkInterfaces","Effect":"Allow","Action":["ec2:CreateNetworkInterface","ec2:DescribeNetworkInterfaces","ec2:DescribeSubnets","ec2:DeleteNetworkInterface","ec2:AssignPrivateIpAddresses","ec2:UnassignPrivateIpAddresses"],"Resource":"*"},{"Sid":"DynamoDbTables","Effect":"Allow","Action":["dynamodb:GetItem","dynamodb:PutItem","dynamodb:UpdateItem","dynamodb:DeleteItem","dynamodb:Query","dynamodb:Scan","dynamodb:BatchGetItem","dynamodb:BatchWriteItem","dynamodb:ConditionCheckItem"],"Resource":["arn:aws:dynamodb:us-east-1:123456789012:table/notes","arn:aws:dynamodb:eu-west-1:123456789012:table/other","arn:aws:dynamodb:us-east-1:123456789012:table/notes/index/*","arn:aws:dynamodb:eu-west-1:123456789012:table/other/index/*"]},{"Sid":"BedrockModels","Effect":"Allow","Action":["bedrock:InvokeModel","bedrock:InvokeModelWithResponseStream"],"Resource":["arn:aws:bedrock:us-east-1::foundation-model/anthropic.claude-3-haiku-20240307-v1:0","arn:aws:bedrock:us-east-1:123456789012:inference-profile/us.anthropic.claude-sonnet-4-20250514-v1:0","arn:aws:bedrock:*::foundation-model/anthropic.claude-sonnet-4-20250514-v1:0"]},{"Sid":"TasksTable","Effect":"Allow","Action":["dynamodb:GetItem","dynamodb:PutItem","dynamodb:UpdateItem","dynamodb:DeleteItem","dynamodb:Query"],"Resource":["arn:aws:dynamodb:us-east-1:123456789012:table/demo-tasks","arn:aws:dynamodb:us-east-1:123456789012:table/demo-tasks/index/*"]},{"Sid":"TasksSelfInvoke","Effect":"Allow","Action":"lambda:InvokeFunction","Resource":["arn:aws:lambda:us-east-1:123456789012:function:demo","arn:aws:lambda:us-east-1:123456789012:function:demo:*"]},{"Sid":"Queue","Effect":"Allow","Action":"sqs:SendMessage","Resource":"arn:aws:sqs:us-east-1:123456789012:jobs"}]'
got=$(q dynamodb describe-table --table-name demo-tasks --query 'Table.[BillingModeSummary.BillingMode, join(`,`, KeySchema[].[AttributeName, KeyType][]), GlobalSecondaryIndexes[0].IndexName, join(`,`, GlobalSecondaryIndexes[0].KeySchema[].[AttributeName, KeyType][]), GlobalSecondaryIndexes[0].Projection.ProjectionType]' | tr '\t' ' ')
check "rest/iam deploy: table demo-tasks on demand, key taskId, index owner-createdAt (owner, createdAt), projection ALL" "$got" \
    is "$got" "PAY_PER_REQUEST taskId,HASH owner-createdAt owner,HASH,createdAt,RANGE ALL"
got=$(q dynamodb describe-time-to-live --table-name demo-tasks --query 'TimeToLiveDescription.[TimeToLiveStatus, AttributeName]' | tr '\t' ' ')
check "rest/iam deploy: TTL on expiresAt" "$got" is "$got" "ENABLED expiresAt"
run deploy --zip v1.zip --front REST_API --tracing Active
check "rest/iam unchanged redeploy: no change but publish-version" "$(why_rc); $(mutations)" \
    eval 'rc_is 0 && is "$(mutations)" "lambda publish-version;"'
run deploy --zip v2.zip --front REST_API --tracing Active
run rollback --front REST_API
got=$(q lambda get-alias --function-name demo --name live --query FunctionVersion)
check "rest/iam code change then rollback: live back at 1" "$(why_rc); $got" eval 'rc_is 0 && is "$got" 1'
run destroy --yes --front REST_API
got="$(q apigateway get-rest-apis --query 'items[].name')|$(q lambda list-functions --query 'Functions[].FunctionName')|$(q apigateway get-domain-names --query 'items[].domainName')|$(q dynamodb list-tables --query 'TableNames[]')"
check "rest/iam destroy: REST API, function, custom domain and tasks table gone" "$(why_rc); $got" eval 'rc_is 0 && is "$got" "|||"'
sed -i '/^CUSTOM_DOMAIN=/d; /^CERTIFICATE_ARN=/d; /^BASE_PATH=/d; /^VPC_/d; /^DYNAMODB_TABLES=/d; /^BEDROCK_MODELS=/d; /^EXTRA_POLICY=/d; /^TASKS_TABLE=/d' "$PROJ/mcp-deploy.conf"

if [ "$QUICK" = 0 ]; then # (--quick: not in test/run.sh, which keeps the cycle of each front door)
# --- 5. REST API with an API key and usage plan ---------------------------------------------------------
run deploy --zip v1.zip --front REST_API --auth API_KEY --throttle-rate 5 --throttle-burst 10
check "rest/api-key deploy: exits 0, smoke test with the key's header" "$(why_rc)" \
    eval 'rc_is 0 && in_err "server/discover ok" && [ "$(grep -c -- "-K" "$WORK/curl.log")" = 2 ]'
API=$(q apigateway get-rest-apis --query "items[?name=='demo'].id | [0]")
got=$(q apigateway get-usage-plans --query 'items[].[name, apiStages[0].apiId, apiStages[0].stage, to_string(throttle.rateLimit), to_string(throttle.burstLimit)]' | tr '\t' ' ')
check "rest/api-key deploy: usage plan on the stage, 5/s burst 10" "$got" is "$got" "demo $API live 5.0 10"
got=$(q apigateway get-resources --rest-api-id "$API" --embed methods --query 'items[].[path, to_string(resourceMethods.ANY.apiKeyRequired)]' | sort | tr '\t\n' ' ')
check "rest/api-key deploy: the methods require the key" "$got" is "$got" "/ true /{proxy+} true "
run deploy --zip v1.zip --front REST_API --auth API_KEY --throttle-rate 5 --throttle-burst 10
check "rest/api-key unchanged redeploy: no change but publish-version" "$(why_rc); $(mutations)" \
    eval 'rc_is 0 && is "$(mutations)" "lambda publish-version;"'
run destroy --yes
got="$(q apigateway get-rest-apis --query 'items[].name')|$(q apigateway get-usage-plans --query 'items[].name')|$(q apigateway get-api-keys --query 'items[].name')"
check "rest/api-key destroy: API, usage plan, key gone" "$(why_rc); $got" eval 'rc_is 0 && is "$got" "||"'

# --- 6. HTTP API with any OIDC issuer, and a schedule ------------------------------------------------------
run deploy --zip v1.zip --front HTTP_API --auth JWT --jwt-issuer https://issuer.example.com --jwt-audience mcp-demo \
    --schedule 'rate(1 hour)' --access-logs false
check "http/jwt deploy with a schedule: exits 0" "$(why_rc)" rc_is 0
API=$(q apigatewayv2 get-apis --query "Items[?Name=='demo'].ApiId | [0]")
got=$(authorizer --query '[JwtConfiguration.Issuer, join(`,`, JwtConfiguration.Audience)]' | tr '\t' ' ')
check "http/jwt deploy: authorizer of the issuer and audience" "$got" is "$got" "https://issuer.example.com mcp-demo"
got=$(q lambda get-function-configuration --function-name demo --query 'Environment.Variables.[MCP_JWT_ISSUER, MCP_JWT_AUDIENCE]' | tr '\t' ' ')
check "http/jwt deploy: the function checks the same issuer and audience" "$got" is "$got" "https://issuer.example.com mcp-demo"
got=$(q events describe-rule --name demo-schedule --query '[ScheduleExpression, State]' | tr '\t' ' ')
got2=$(q events list-targets-by-rule --rule demo-schedule --query 'Targets[].[Arn, Input]' | tr '\t' ' ')
check "http/jwt deploy: schedule rate(1 hour) targets the alias with a JSON-RPC ping" "$got; $got2" \
    eval 'is "$got" "rate(1 hour) ENABLED" && is "$got2" "arn:aws:lambda:us-east-1:123456789012:function:demo:live {\"jsonrpc\":\"2.0\",\"id\":\"schedule\",\"method\":\"ping\"}"'
got=$(q lambda get-policy --function-name demo --qualifier live --query Policy | "$PY" -c \
    'import json,sys; print(" ".join(sorted(s["Sid"] for s in json.load(sys.stdin)["Statement"])))')
check "http/jwt deploy: API Gateway and EventBridge may invoke the alias" "$got" is "$got" "mcp-deploy-api-$API mcp-deploy-schedule"
got=$(q apigatewayv2 get-stages --api-id "$API" --query 'Items[].AccessLogSettings.DestinationArn')
check "http/jwt deploy: ACCESS_LOGS=false: no access logs" "$got" is "$got" ""
run deploy --zip v1.zip --front HTTP_API --auth JWT --jwt-issuer https://issuer.example.com --jwt-audience mcp-demo --access-logs false
got=$(q events describe-rule --name demo-schedule --query Name 2>&1)
check "http/jwt redeploy without SCHEDULE: the rule and its permission removed" "$(why_rc); $got; $(mutations)" \
    eval 'rc_is 0 && [[ $got == *ResourceNotFound* ]] && [[ "$(mutations)" == *"lambda remove-permission"* ]]'
run destroy --yes
check "http/jwt destroy: exits 0" "$(why_rc)" rc_is 0

# --- 7. pre-flight against moto: a missing parameter, nothing changed -------------------------------------
run deploy --zip v1.zip --auth NONE --env MISSING=ssm:/demo/missing
check "pre-flight: a missing parameter exits 3, names it, changes nothing" "$(why_rc); $(mutations)" \
    eval 'rc_is 3 && in_err "SSM parameter /demo/missing (ENV_MISSING) does not exist in us-east-1" && is "$(mutations)" ""'

fi

echo "# moto deploy tests: $(($(date +%s) - T0)) s"
echo "# $PASS passed, $FAIL failed"
[ "$FAIL" -eq 0 ]
