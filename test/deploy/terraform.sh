#!/usr/bin/env bash
# test/deploy/terraform.sh: deploy/terraform against moto's server: `terraform validate`, then
# plan, apply and destroy, offline (the AWS provider from the local mirror /opt/tf-plugins,
# through a CLI configuration file written here); the stack it makes is compared with the one
# deploy.sh makes for the same settings, read back with the CLI.
#
#   test/deploy/terraform.sh           "ok - ..." / "not ok - ..." lines, then "# N passed, M failed"
#   test/deploy/terraform.sh --quick   the same (kept for test/run.sh): the seven FRONT x AUTH
#                                      variants are one plan, so there is nothing left to drop
#
# The provider is a 700 MB binary that takes seconds to start: it is started once, in its
# debug mode, and every terraform command attaches to it (TF_REATTACH_PROVIDERS), the same
# provider code serving each command.
set -uo pipefail
cd "$(dirname "$0")/../.." || exit 1
ROOT=$(pwd)
PASS=0
FAIL=0
ok() { echo "ok - $1"; PASS=$((PASS + 1)); }
not_ok() { echo "not ok - $1: $2"; FAIL=$((FAIL + 1)); }
check() { local name=$1 why=$2; shift 2; if "$@"; then ok "$name"; else not_ok "$name" "$why"; fi; }
skip_all() { echo "ok - terraform tests # SKIP $1"; echo "# 1 passed, 0 failed"; exit 0; }
command -v terraform >/dev/null 2>&1 || skip_all "terraform is not installed"
MIRROR=${TF_PLUGIN_MIRROR:-/opt/tf-plugins}
[ -d "$MIRROR/registry.terraform.io/hashicorp/aws" ] ||
    skip_all "no AWS provider in the local mirror $MIRROR (set TF_PLUGIN_MIRROR): nothing can be fetched here"

# shellcheck source=test/deploy/moto_lib.sh
. "$ROOT/test/deploy/moto_lib.sh"

export TF_CLI_CONFIG_FILE=$WORK/terraform.tfrc TF_IN_AUTOMATION=1 TF_INPUT=0 CHECKPOINT_DISABLE=1
cat >"$TF_CLI_CONFIG_FILE" <<EOF
provider_installation {
  filesystem_mirror {
    path    = "$MIRROR"
    include = ["registry.terraform.io/hashicorp/aws"]
  }
  direct {
    exclude = ["registry.terraform.io/hashicorp/aws"]
  }
}
EOF

# the provider, once, attached to by each command below
PROVIDER=$(find "$MIRROR/registry.terraform.io/hashicorp/aws" -type f -name 'terraform-provider-aws*' | sort | tail -n 1)
if [ -n "$PROVIDER" ]; then
    # (without AWS_CA_BUNDLE: a provider configured twice in one process fails to add the
    # bundle again, and moto's endpoint is plain http)
    env -u AWS_CA_BUNDLE "$PROVIDER" -debug >"$WORK/provider.log" 2>&1 &
    TF_PROVIDER_PID=$!
    for _ in $(seq 1 300); do grep -q "TF_REATTACH_PROVIDERS=" "$WORK/provider.log" && break; sleep 0.1; done
    reattach=$(sed -n "s/^[[:space:]]*TF_REATTACH_PROVIDERS='\(.*\)'\$/\1/p" "$WORK/provider.log")
    [ -z "$reattach" ] || export TF_REATTACH_PROVIDERS=$reattach
fi

mkdir -p "$WORK/zip" "$WORK/root" "$WORK/variants"
printf '#!/bin/sh\n' >"$WORK/zip/bootstrap"
chmod 0755 "$WORK/zip/bootstrap"
(cd "$WORK/zip" && zip -q -X "$WORK/v1.zip" bootstrap)

# the provider at moto, in each root module
cat >"$WORK/provider.tf" <<EOF
provider "aws" {
  region                      = "us-east-1"
  access_key                  = "testing"
  secret_key                  = "testing"
  skip_credentials_validation = true
  skip_metadata_api_check     = true
  skip_requesting_account_id  = true
  endpoints {
    apigateway   = "$MOTO_URL"
    apigatewayv2 = "$MOTO_URL"
    cloudwatch   = "$MOTO_URL"
    cognitoidp   = "$MOTO_URL"
    dynamodb     = "$MOTO_URL"
    events       = "$MOTO_URL"
    iam          = "$MOTO_URL"
    lambda       = "$MOTO_URL"
    logs         = "$MOTO_URL"
    sts          = "$MOTO_URL"
  }
}
EOF
cp "$WORK/provider.tf" "$WORK/root/"
cp "$WORK/provider.tf" "$WORK/variants/"

# the root module that is applied: the module with the settings
cat >"$WORK/root/main.tf" <<EOF
variable "front" { default = "URL" }
variable "auth" { default = "AWS_IAM" }
variable "jwt_issuer" { default = null }
variable "jwt_audience" { default = null }
variable "schedule" { default = null }
variable "tracing" { default = "PassThrough" }

module "mcp" {
  source               = "$ROOT/deploy/terraform"
  name                 = "demo"
  front                = var.front
  auth                 = var.auth
  jwt_issuer           = var.jwt_issuer
  jwt_audience         = var.jwt_audience
  schedule             = var.schedule
  tracing              = var.tracing
  zip_file             = "$WORK/v1.zip"
  reserved_concurrency = 5
  cors_origins         = ["https://app.example.com"]
  s3_prefixes          = ["demo-bucket/data"]
  dynamodb_tables      = ["notes", "arn:aws:dynamodb:eu-west-1:123456789012:table/other"]
  bedrock_models       = ["anthropic.claude-3-haiku-20240307-v1:0", "us.anthropic.claude-sonnet-4-20250514-v1:0"]
  extra_policy         = jsonencode([{ Sid = "Queue", Effect = "Allow", Action = "sqs:SendMessage", Resource = "arn:aws:sqs:us-east-1:123456789012:jobs" }])
  tasks_table          = "create"
}

output "mcp_endpoint" { value = module.mcp.mcp_endpoint }
EOF

tf() { (cd "$WORK/root" && timeout 300 terraform "$@" -no-color) >"$WORK/tf.log" 2>&1; }
tf init -input=false
check "terraform init from the local mirror, offline" "$(tail -n 5 "$WORK/tf.log")" grep -q "Terraform has been successfully initialized" "$WORK/tf.log"
tf validate
check "terraform validate deploy/terraform" "$(tail -n 5 "$WORK/tf.log")" grep -q "The configuration is valid" "$WORK/tf.log"
tf plan -out="$WORK/plan"
check "terraform plan against moto" "$(grep -i error "$WORK/tf.log" | head -n 5)" grep -q "Plan: 10 to add" "$WORK/tf.log"

sorted_json() { "$PY" -c 'import json,sys; print(json.dumps(json.load(sys.stdin), sort_keys=True))' 2>&1; }

# the stack as the CLI sees it, the same lines whoever made it
snapshot() {
    q lambda get-function-configuration --function-name demo \
        --query '[Runtime, Handler, MemorySize, Timeout, join(`,`, Architectures), TracingConfig.Mode, join(`,`, sort(keys(Environment.Variables)))]'
    q lambda get-function-concurrency --function-name demo --query ReservedConcurrentExecutions
    q lambda get-alias --function-name demo --name live --query '[Name, Description]'
    q lambda get-function-url-config --function-name demo --qualifier live --query '[AuthType, InvokeMode, join(`,`, Cors.AllowOrigins)]'
    q iam get-role --role-name demo-role --query '[Role.RoleName, Role.Description]'
    local doc
    for doc in 'Role.AssumeRolePolicyDocument' ; do
        AWS_LOG_OFF=1 aws iam get-role --role-name demo-role --query "$doc" --output json | sorted_json
    done
    AWS_LOG_OFF=1 aws iam get-role-policy --role-name demo-role --policy-name mcp-deploy --query PolicyDocument --output json | sorted_json
    q logs describe-log-groups --log-group-name-prefix /aws/lambda/demo --query 'logGroups[].[logGroupName, retentionInDays]'
    q cloudwatch describe-alarms --alarm-name-prefix demo- \
        --query 'MetricAlarms[].[AlarmName, AlarmDescription, MetricName, Statistic || ExtendedStatistic, Threshold, Period, ComparisonOperator, TreatMissingData]' | sort
    q dynamodb describe-table --table-name demo-tasks --query 'Table.[TableName, BillingModeSummary.BillingMode, KeySchema[0].AttributeName, GlobalSecondaryIndexes[0].IndexName, join(`,`, GlobalSecondaryIndexes[0].KeySchema[].AttributeName), GlobalSecondaryIndexes[0].Projection.ProjectionType]'
    q dynamodb describe-time-to-live --table-name demo-tasks --query 'TimeToLiveDescription.[TimeToLiveStatus, AttributeName]'
    q lambda get-function-configuration --function-name demo --query Environment.Variables.MCP_TASKS_TABLE
}

tf apply -auto-approve "$WORK/plan"
check "terraform apply against moto" "$(grep -iA3 error "$WORK/tf.log" | head -n 8)" grep -q "Apply complete! Resources: 10 added" "$WORK/tf.log"
snapshot >"$WORK/tf-state.txt"
tf plan
# moto keeps no logging configuration, so the function's logging_config (and so a new version
# for the alias) shows as a change: anything else would be drift
replan_ok() {
    grep -q "No changes" "$WORK/tf.log" && return 0
    grep -q "Plan: 0 to add, 2 to change, 0 to destroy" "$WORK/tf.log" &&
        [ -z "$(grep -E '^ +[+-~] [a-z_]+ +=' "$WORK/tf.log" | grep -vE 'qualified_arn|qualified_invoke_arn|version|application_log_level|log_format|log_group|function_version|last_modified')" ]
}
check "terraform plan after apply: nothing to change (but the logging configuration moto does not keep)" \
    "$(grep -E '^ +[~+-] ' "$WORK/tf.log" | head -n 12)" replan_ok
tf destroy -auto-approve
check "terraform destroy against moto" "$(grep -iA3 error "$WORK/tf.log" | head -n 8)" grep -q "Destroy complete! Resources: 10 destroyed" "$WORK/tf.log"
got="$(q lambda list-functions --query 'Functions[].FunctionName')|$(q iam list-roles --query 'Roles[].RoleName')|$(q cloudwatch describe-alarms --query 'MetricAlarms[].AlarmName')|$(q dynamodb list-tables --query 'TableNames[]')"
check "terraform destroy: no function, role, alarm or tasks table left" "$got" test "$got" = "|||"

# each front door and auth mode: a module instance each in one root module, one plan of them
# all; each instance's plan makes the resource kinds the template declares for the same
# parameters (test/deploy/stack_kinds.py). NAME|TERRAFORM ARGUMENTS|TEMPLATE PARAMETERS; the
# schedule a word without spaces: plan does not check the expression.
VARIANTS=(
    'http_jwt|front="HTTP_API" auth="JWT" jwt_issuer="https://issuer.example.com" jwt_audience="mcp-demo" schedule="rate(1_hour)"|Front=HTTP_API AuthType=JWT JwtIssuer=https://issuer.example.com JwtAudience=mcp-demo Schedule=rate(1_hour)'
    'rest_cognito|front="REST_API" auth="COGNITO"|Front=REST_API AuthType=COGNITO'
    'url_iam|front="URL"|Front=URL AuthType=AWS_IAM'
    'http_cognito|front="HTTP_API" auth="COGNITO"|Front=HTTP_API AuthType=COGNITO'
    'rest_iam|front="REST_API" auth="AWS_IAM" tracing="Active"|Front=REST_API AuthType=AWS_IAM Tracing=Active'
    'rest_api_key|front="REST_API" auth="API_KEY"|Front=REST_API AuthType=API_KEY'
    'rest_none|front="REST_API" auth="NONE"|Front=REST_API AuthType=NONE'
    'http_knobs|front="HTTP_API" custom_domain="mcp.example.com" certificate_arn="arn:aws:acm:us-east-1:123456789012:certificate/abc" base_path="v1" provisioned_concurrency=2 vpc_subnets=["subnet-0aaaaaaaaaaaaaaaa"] vpc_security_groups=["sg-0cccccccccccccccc"] dynamodb_tables=["notes"] bedrock_models=["anthropic.claude-3-haiku-20240307-v1:0"] extra_policy="[{\"Effect\":\"Allow\",\"Action\":\"sqs:SendMessage\",\"Resource\":\"*\"}]" tasks_table="create"|Front=HTTP_API CustomDomain=mcp.example.com CertificateArn=arn:aws:acm:us-east-1:123456789012:certificate/abc BasePath=v1 ProvisionedConcurrency=2 VpcSubnets=subnet-0aaaaaaaaaaaaaaaa VpcSecurityGroups=sg-0cccccccccccccccc DynamoDbTableArns=arn:aws:dynamodb:us-east-1:123456789012:table/notes ExtraPolicy=[] TasksTable=create'
    'rest_domain|front="REST_API" custom_domain="mcp.example.com" certificate_arn="arn:aws:acm:us-east-1:123456789012:certificate/abc" tasks_table="existing-table"|Front=REST_API CustomDomain=mcp.example.com CertificateArn=arn:aws:acm:us-east-1:123456789012:certificate/abc TasksTable=existing-table'
)
for v in "${VARIANTS[@]}"; do
    IFS='|' read -r vname vargs _ <<<"$v"
    printf 'module "%s" {\n  source   = "%s"\n  name     = "%s"\n  zip_file = "%s"\n' "$vname" "$ROOT/deploy/terraform" "${vname//_/-}" "$WORK/v1.zip"
    for a in $vargs; do printf '  %s = %s\n' "${a%%=*}" "${a#*=}"; done
    printf '}\n'
done >"$WORK/variants/main.tf"
tfv() { (cd "$WORK/variants" && timeout 300 terraform "$@" -no-color) >"$WORK/tfv.log" 2>&1; }
if tfv init -input=false && tfv plan -refresh=false -out="$WORK/plan-v"; then
    (cd "$WORK/variants" && terraform show -json "$WORK/plan-v") >"$WORK/plan-v.json" 2>"$WORK/show.log"
    for v in "${VARIANTS[@]}"; do
        IFS='|' read -r vname _ vparams <<<"$v"
        # shellcheck disable=SC2086 # the template's parameters, one word each
        line=$("$PY" "$ROOT/test/deploy/stack_kinds.py" "$ROOT/deploy/template.yaml" "$WORK/plan-v.json" --module "$vname" $vparams 2>&1)
        case $line in "ok - "*) ok "${line#ok - }" ;; "not ok - "*) line=${line#not ok - }; not_ok "${line%%: *}" "${line#*: }" ;; *) not_ok "stack_kinds.py $vparams" "$line" ;; esac
    done
else
    not_ok "terraform plan of the FRONT x AUTH variants and the issue 16 settings" "$(grep -iA3 error "$WORK/tfv.log" | head -n 8)"
fi

# deploy.sh with the same settings: the same resources, the same settings
mkdir -p "$WORK/proj"
(cd "$WORK/proj" && "$ROOT/deploy/deploy.sh" deploy --name demo --region us-east-1 --zip "$WORK/v1.zip" \
    --reserved-concurrency 5 --cors-origins https://app.example.com --s3-prefixes demo-bucket/data \
    --dynamodb-tables notes,arn:aws:dynamodb:eu-west-1:123456789012:table/other \
    --bedrock-models anthropic.claude-3-haiku-20240307-v1:0,us.anthropic.claude-sonnet-4-20250514-v1:0 --tasks-table create \
    --extra-policy '[{"Sid":"Queue","Effect":"Allow","Action":"sqs:SendMessage","Resource":"arn:aws:sqs:us-east-1:123456789012:jobs"}]' \
    </dev/null >"$WORK/out" 2>"$WORK/err")
check "deploy.sh deploy with the same settings" "$(tail -n 3 "$WORK/err")" test $? -eq 0
snapshot >"$WORK/sh-state.txt"
check "terraform and deploy.sh make the same stack (function, concurrency, alias, URL, role and policy with the grants, log group, alarms, tasks table)" \
    "$(diff "$WORK/sh-state.txt" "$WORK/tf-state.txt" | head -n 20)" cmp -s "$WORK/sh-state.txt" "$WORK/tf-state.txt"
(cd "$WORK/proj" && "$ROOT/deploy/deploy.sh" destroy --name demo --region us-east-1 --yes </dev/null >/dev/null 2>&1)

echo "# $PASS passed, $FAIL failed"
[ "$FAIL" -eq 0 ]
