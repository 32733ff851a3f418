# deploy/lib/extras.sh: the settings of issue 16 besides the custom domain (deploy/lib/front.sh):
# provisioned concurrency on the alias, VPC attachment, DynamoDB, Bedrock and free IAM grants,
# and the durable-tasks table. Sourced by deploy/deploy.sh, whose helpers (awsm, awsr, say, die,
# json_str, ...) and settings it uses.

TASKS_HASH_KEY=taskId
TASKS_INDEX=owner-createdAt
TASKS_TTL=expiresAt
# what Lambda needs to attach the function's network interfaces (AWSLambdaVPCAccessExecutionRole's
# EC2 actions); EC2 checks them against "*"
VPC_ACTIONS='["ec2:CreateNetworkInterface","ec2:DescribeNetworkInterfaces","ec2:DescribeSubnets","ec2:DeleteNetworkInterface","ec2:AssignPrivateIpAddresses","ec2:UnassignPrivateIpAddresses"]'
DYNAMODB_ACTIONS='["dynamodb:GetItem","dynamodb:PutItem","dynamodb:UpdateItem","dynamodb:DeleteItem","dynamodb:Query","dynamodb:Scan","dynamodb:BatchGetItem","dynamodb:BatchWriteItem","dynamodb:ConditionCheckItem"]'
TASKS_ACTIONS='["dynamodb:GetItem","dynamodb:PutItem","dynamodb:UpdateItem","dynamodb:DeleteItem","dynamodb:Query"]'
BEDROCK_ACTIONS='["bedrock:InvokeModel","bedrock:InvokeModelWithResponseStream"]'
# the geography prefixes of Bedrock's cross-region inference profiles (us.anthropic.claude-...)
BEDROCK_PROFILE_RE='^(us|eu|apac|us-gov|global|jp|au|ca)\.(.+)$'

# Check the settings, before any AWS call (exit 2); called by resolve_settings.
resolve_knobs() {
    CUSTOM_DOMAIN=${CUSTOM_DOMAIN,,}
    while [[ $BASE_PATH == /* ]]; do BASE_PATH=${BASE_PATH#/}; done
    while [[ $BASE_PATH == */ ]]; do BASE_PATH=${BASE_PATH%/}; done
    if [ -n "$CUSTOM_DOMAIN" ]; then
        [ "$FRONT" != URL ] || die 2 "CUSTOM_DOMAIN needs FRONT=HTTP_API or REST_API: a function URL takes no custom domain (put CloudFront in front of it yourself, or use an API)"
        [[ $CUSTOM_DOMAIN =~ ^([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$ ]] || die 2 "CUSTOM_DOMAIN must be a domain name such as mcp.example.com, not $CUSTOM_DOMAIN"
        [[ $CERTIFICATE_ARN =~ ^arn:aws[a-z-]*:acm:[a-z0-9-]+:[0-9]{12}:certificate/[A-Za-z0-9-]+$ ]] ||
            die 2 "CUSTOM_DOMAIN needs CERTIFICATE_ARN, the ARN of an ACM certificate for it in the function's region, not '$CERTIFICATE_ARN'"
        [ -z "$BASE_PATH" ] || [[ $BASE_PATH =~ ^[A-Za-z0-9._-]+(/[A-Za-z0-9._-]+)*$ ]] || die 2 "BASE_PATH must be letters, digits, . _ - and /, not $BASE_PATH"
    elif [ -n "$CERTIFICATE_ARN" ] || [ -n "$BASE_PATH" ]; then
        die 2 "CERTIFICATE_ARN and BASE_PATH go with CUSTOM_DOMAIN, which is not set"
    fi
    [ -z "$PROVISIONED_CONCURRENCY" ] || is_uint "$PROVISIONED_CONCURRENCY" || die 2 "PROVISIONED_CONCURRENCY must be a whole number, not $PROVISIONED_CONCURRENCY"
    [ "$PROVISIONED_CONCURRENCY" != 0 ] || PROVISIONED_CONCURRENCY=""
    [ -z "$PROVISIONED_CONCURRENCY" ] || [ -z "$RESERVED_CONCURRENCY" ] || [ "$PROVISIONED_CONCURRENCY" -le "$RESERVED_CONCURRENCY" ] ||
        die 2 "PROVISIONED_CONCURRENCY ($PROVISIONED_CONCURRENCY) cannot exceed RESERVED_CONCURRENCY ($RESERVED_CONCURRENCY)"

    VPC_SUBNET_LIST=() VPC_SG_LIST=()
    mapfile -t VPC_SUBNET_LIST < <(split_csv "$VPC_SUBNETS" | LC_ALL=C sort -u)
    mapfile -t VPC_SG_LIST < <(split_csv "$VPC_SECURITY_GROUPS" | LC_ALL=C sort -u)
    if [ $((${#VPC_SUBNET_LIST[@]} > 0)) != $((${#VPC_SG_LIST[@]} > 0)) ]; then
        die 2 "VPC_SUBNETS and VPC_SECURITY_GROUPS go together: set both (the function's subnets and security groups) or neither"
    fi
    local x
    for x in "${VPC_SUBNET_LIST[@]}"; do [[ $x =~ ^subnet-[0-9a-f]{8,17}$ ]] || die 2 "VPC_SUBNETS: not a subnet id: $x"; done
    for x in "${VPC_SG_LIST[@]}"; do [[ $x =~ ^sg-[0-9a-f]{8,17}$ ]] || die 2 "VPC_SECURITY_GROUPS: not a security group id: $x"; done
    [ ${#VPC_SUBNET_LIST[@]} -le 16 ] && [ ${#VPC_SG_LIST[@]} -le 5 ] || die 2 "a function takes 16 subnets and 5 security groups at most"

    DYNAMODB_LIST=() BEDROCK_LIST=()
    mapfile -t DYNAMODB_LIST < <(split_csv "$DYNAMODB_TABLES")
    for x in "${DYNAMODB_LIST[@]}"; do
        [[ $x =~ ^[A-Za-z0-9_.-]{3,255}$ || $x =~ ^arn:aws[a-z-]*:dynamodb:[a-z0-9-]+:[0-9]{12}:table/[A-Za-z0-9_.-]{3,255}$ ]] ||
            die 2 "DYNAMODB_TABLES: not a table name or table ARN: $x"
    done
    mapfile -t BEDROCK_LIST < <(split_csv "$BEDROCK_MODELS")
    for x in "${BEDROCK_LIST[@]}"; do
        [[ $x =~ ^[A-Za-z0-9._:-]+$ || $x =~ ^arn:aws[a-z-]*:bedrock:[a-z0-9-]*:[0-9]*:[a-z-]+/[A-Za-z0-9._:/-]+$ ]] ||
            die 2 "BEDROCK_MODELS: not a model id or ARN: $x"
    done
    EXTRA_STATEMENTS=""
    [ -z "$EXTRA_POLICY" ] || EXTRA_STATEMENTS=$(extra_statements "$EXTRA_POLICY")

    TASKS_TABLE_NAME="" TASKS_CREATE=0
    case $TASKS_TABLE in
    "") ;;
    create | CREATE) TASKS_TABLE_NAME=$NAME-tasks TASKS_CREATE=1 ;;
    *) [[ $TASKS_TABLE =~ ^[A-Za-z0-9_.-]{3,255}$ ]] || die 2 "TASKS_TABLE must be empty, create, or the name of an existing table, not $TASKS_TABLE"
       TASKS_TABLE_NAME=$TASKS_TABLE ;;
    esac
}

# extra_statements JSON|@FILE: the IAM statements of EXTRA_POLICY, compact and comma-separated,
# checked as JSON with python3 (else jq): an array of statements (or one), each with an Effect and
# an Action or NotAction.
extra_statements() {
    local src=$1 text
    if [[ $src == @* ]]; then
        [ -f "${src#@}" ] || die 2 "EXTRA_POLICY: no such file: ${src#@}"
        text=$(cat "${src#@}")
    else
        text=$src
    fi
    local out
    if command -v python3 >/dev/null 2>&1; then
        out=$(python3 -c '
import json, sys
try:
    v = json.loads(sys.stdin.read())
except ValueError as e:
    sys.exit("not JSON: %s" % e)
v = [v] if isinstance(v, dict) else v
if not isinstance(v, list) or not v or not all(isinstance(s, dict) and s.get("Effect") in ("Allow", "Deny")
                                               and ("Action" in s or "NotAction" in s) for s in v):
    sys.exit("expected a JSON array of IAM statements, each with Effect Allow or Deny and Action or NotAction")
print(",".join(json.dumps(s, separators=(",", ":")) for s in v))' <<<"$text" 2>&1) || die 2 "EXTRA_POLICY: $out"
    elif command -v jq >/dev/null 2>&1; then
        out=$(jq -r 'if type == "object" then [.] else . end
            | if type == "array" and length > 0 and all(.[]; type == "object" and (.Effect == "Allow" or .Effect == "Deny") and (has("Action") or has("NotAction")))
              then map(tojson) | join(",") else error("expected a JSON array of IAM statements, each with Effect Allow or Deny and Action or NotAction") end' <<<"$text" 2>&1) ||
            die 2 "EXTRA_POLICY: $out"
    else
        die 2 "EXTRA_POLICY needs python3 or jq to check its JSON; neither is installed"
    fi
    printf '%s' "$out"
}

# --- the role's policy: what these settings grant -------------------------------------------------

table_arn() { # table_arn NAME|ARN
    if [[ $1 == arn:* ]]; then printf '%s' "$1"; else printf 'arn:%s:dynamodb:%s:%s:table/%s' "$PARTITION" "$REGION" "$ACCOUNT" "$1"; fi
}

# bedrock_arns ID|ARN: one ARN a line; an inference profile (us.anthropic....) and the
# foundation model it routes to in any region
bedrock_arns() {
    local m=$1
    if [[ $m == arn:* ]]; then printf '%s\n' "$m"
    elif [[ $m =~ $BEDROCK_PROFILE_RE ]]; then
        printf 'arn:%s:bedrock:%s:%s:inference-profile/%s\n' "$PARTITION" "$REGION" "$ACCOUNT" "$m"
        printf 'arn:%s:bedrock:*::foundation-model/%s\n' "$PARTITION" "${BASH_REMATCH[2]}"
    else printf 'arn:%s:bedrock:%s::foundation-model/%s\n' "$PARTITION" "$REGION" "$m"; fi
}

# The statements after role_policy's own, in this order: VPC, DynamoDB, Bedrock, tasks, free.
extra_policy_statements() {
    local st="" t a fn
    local -a arns=()
    if [ ${#VPC_SUBNET_LIST[@]} -gt 0 ]; then
        st+=',{"Sid":"VpcNetworkInterfaces","Effect":"Allow","Action":'$VPC_ACTIONS',"Resource":"*"}'
    fi
    if [ ${#DYNAMODB_LIST[@]} -gt 0 ]; then
        for t in "${DYNAMODB_LIST[@]}"; do arns+=("$(table_arn "$t")"); done # the tables, then their indexes
        for t in "${DYNAMODB_LIST[@]}"; do arns+=("$(table_arn "$t")/index/*"); done
        st+=',{"Sid":"DynamoDbTables","Effect":"Allow","Action":'$DYNAMODB_ACTIONS',"Resource":'$(json_list "${arns[@]}")'}'
    fi
    if [ ${#BEDROCK_LIST[@]} -gt 0 ]; then
        arns=()
        for t in "${BEDROCK_LIST[@]}"; do mapfile -t -O "${#arns[@]}" arns < <(bedrock_arns "$t"); done
        st+=',{"Sid":"BedrockModels","Effect":"Allow","Action":'$BEDROCK_ACTIONS',"Resource":'$(json_list "${arns[@]}")'}'
    fi
    if [ -n "$TASKS_TABLE_NAME" ]; then
        a=$(table_arn "$TASKS_TABLE_NAME")
        fn=arn:$PARTITION:lambda:$REGION:$ACCOUNT:function:$NAME
        st+=',{"Sid":"TasksTable","Effect":"Allow","Action":'$TASKS_ACTIONS',"Resource":'$(json_list "$a" "$a/index/*")'}'
        # the runtime continues a task by invoking its own alias asynchronously
        st+=',{"Sid":"TasksSelfInvoke","Effect":"Allow","Action":"lambda:InvokeFunction","Resource":'$(json_list "$fn" "$fn:*")'}'
    fi
    [ -z "$EXTRA_STATEMENTS" ] || st+=,$EXTRA_STATEMENTS
    printf '%s' "$st"
}

# --- VPC ---------------------------------------------------------------------------------------

vpc_json() { # the function's --vpc-config; empty lists detach it
    printf '{"SubnetIds":%s,"SecurityGroupIds":%s}' "$(json_list "${VPC_SUBNET_LIST[@]}")" "$(json_list "${VPC_SG_LIST[@]}")"
}
vpc_line() { # as function_query reads it back: subnets<TAB>security groups, sorted, comma-joined
    printf '%s\t%s' "$(IFS=,; printf '%s' "${VPC_SUBNET_LIST[*]}")" "$(IFS=,; printf '%s' "${VPC_SG_LIST[*]}")"
}

# --- provisioned concurrency on the alias ------------------------------------------------------------

ensure_provisioned() {
    local have=None
    if [ "$FUNCTION_CREATED" = 0 ]; then
        if awsr lambda get-provisioned-concurrency-config --function-name "$NAME" --qualifier "$ALIAS" \
            --query RequestedProvisionedConcurrentExecutions --output text; then
            have=$AWS_OUT
        else
            not_found || die 1 "aws lambda get-provisioned-concurrency-config failed: $(aws_msg)"
        fi
    fi
    if [ -n "$PROVISIONED_CONCURRENCY" ] && [ "$have" != "$PROVISIONED_CONCURRENCY" ]; then
        awsm lambda put-provisioned-concurrency-config --function-name "$NAME" --qualifier "$ALIAS" \
            --provisioned-concurrent-executions "$PROVISIONED_CONCURRENCY" --query Status --output text
        say "provisioned concurrency: $PROVISIONED_CONCURRENCY on $ALIAS ($AWS_OUT; ready within minutes)"
    elif [ -z "$PROVISIONED_CONCURRENCY" ] && [ "$have" != None ]; then
        awsm lambda delete-provisioned-concurrency-config --function-name "$NAME" --qualifier "$ALIAS"
        say "provisioned concurrency: removed from $ALIAS"
    fi
}

# --- the durable-tasks table ------------------------------------------------------------------------

# Pre-flight: a named table must exist; NAME-tasks, if it exists, must be deploy.sh's own.
inspect_tasks_table() {
    TASKS_TABLE_EXISTS=0
    [ -n "$TASKS_TABLE_NAME" ] || return 0
    if awsr dynamodb describe-table --table-name "$TASKS_TABLE_NAME" --query Table.TableArn --output text; then
        TASKS_TABLE_EXISTS=1
        [ "$TASKS_CREATE" = 1 ] || return 0
        awsm dynamodb list-tags-of-resource --resource-arn "$AWS_OUT" --query "Tags[?Key=='$TAG_KEY'].Value | [0]" --output text
        [ "$AWS_OUT" = "$NAME" ] ||
            die 3 "pre-flight: table $TASKS_TABLE_NAME exists but deploy.sh did not create it (no $TAG_KEY=$NAME tag); set TASKS_TABLE=$TASKS_TABLE_NAME to use it; nothing was changed"
    elif not_found; then
        [ "$TASKS_CREATE" = 1 ] || die 3 "pre-flight: TASKS_TABLE: table $TASKS_TABLE_NAME does not exist in $REGION (TASKS_TABLE=create makes $NAME-tasks); nothing was changed"
    else
        die 3 "pre-flight: aws dynamodb describe-table failed: $(aws_msg)"
    fi
}

# TASKS_TABLE=create: NAME-tasks, on demand, key taskId, index owner-createdAt, TTL on expiresAt.
ensure_tasks_table() {
    [ "$TASKS_CREATE" = 1 ] || return 0
    if [ "$TASKS_TABLE_EXISTS" = 1 ]; then
        say "table $TASKS_TABLE_NAME: exists"
    else
        awsm dynamodb create-table --table-name "$TASKS_TABLE_NAME" --billing-mode PAY_PER_REQUEST \
            --attribute-definitions AttributeName=$TASKS_HASH_KEY,AttributeType=S AttributeName=owner,AttributeType=S AttributeName=createdAt,AttributeType=S \
            --key-schema AttributeName=$TASKS_HASH_KEY,KeyType=HASH \
            --global-secondary-indexes '[{"IndexName":"'$TASKS_INDEX'","KeySchema":[{"AttributeName":"owner","KeyType":"HASH"},{"AttributeName":"createdAt","KeyType":"RANGE"}],"Projection":{"ProjectionType":"ALL"}}]' \
            --tags "Key=$TAG_KEY,Value=$NAME" --query TableDescription.TableStatus --output text
        awsm dynamodb wait table-exists --table-name "$TASKS_TABLE_NAME"
        say "table $TASKS_TABLE_NAME: created (key $TASKS_HASH_KEY, index $TASKS_INDEX)"
    fi
    awsm dynamodb describe-time-to-live --table-name "$TASKS_TABLE_NAME" \
        --query 'TimeToLiveDescription.[TimeToLiveStatus, AttributeName]' --output text
    case $AWS_OUT in
    ENABLED$'\t'$TASKS_TTL | ENABLING$'\t'$TASKS_TTL) ;;
    *) awsm dynamodb update-time-to-live --table-name "$TASKS_TABLE_NAME" \
           --time-to-live-specification "Enabled=true,AttributeName=$TASKS_TTL" --query TimeToLiveSpecification.Enabled --output text
       say "table $TASKS_TABLE_NAME: TTL on $TASKS_TTL" ;;
    esac
}

# destroy: NAME-tasks, when deploy.sh made it (tagged), whatever TASKS_TABLE says now.
destroy_tasks_table() {
    local table=$NAME-tasks
    awsr dynamodb describe-table --table-name "$table" --query Table.TableArn --output text || return 0
    if awsr dynamodb list-tags-of-resource --resource-arn "$AWS_OUT" --query "Tags[?Key=='$TAG_KEY'].Value | [0]" --output text &&
        [ "$AWS_OUT" = "$NAME" ]; then
        gone_ok "table $table" dynamodb delete-table --table-name "$table" --query TableDescription.TableName --output text
    else
        say "table $table was not created by deploy.sh; left in place"
    fi
}
