#!/usr/bin/env bash
# deploy/deploy.sh: an mcp.c server on AWS Lambda (provided.al2023) behind a function URL.
#
#   deploy/deploy.sh deploy [FLAGS]         build, create or update everything, smoke-test, print endpoints
#   deploy/deploy.sh outputs [FLAGS]        print the endpoints and client configuration
#   deploy/deploy.sh logs [--follow] [--since 10m]   tail the function's log group
#   deploy/deploy.sh invoke [JSON]          invoke the live alias with a direct JSON-RPC event
#   deploy/deploy.sh rollback [--to N]      point live at the previous published version (or N)
#   deploy/deploy.sh destroy [--yes]        remove exactly what deploy created
#
# Settings: mcp-deploy.conf in the current directory (or --config FILE), KEY=value lines, read
# as data (never sourced); every setting is also a flag (--memory 512, --invoke-mode=...), and
# flags win. deploy/README.md describes each one. Needs bash, coreutils, curl and the AWS CLI (v2, or v1).
#
# Exit status: 0 done; 1 an AWS call failed; 2 bad usage or settings; 3 pre-flight failed
# (no CLI, no credentials, a referenced SSM parameter or secret missing; nothing was changed);
# 4 deployed, but the smoke test failed.
#
# Environment: MCP_DEPLOY_ZIP=FILE deploys that zip instead of building (as --zip / ZIP=);
# MCP_DEPLOY_RETRY_SLEEP=seconds between retries (default 3); MCP_DEPLOY_SMOKE_TRIES (default 10).
set -euo pipefail
export AWS_PAGER=""

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$HERE/.." && pwd)

# Settings, their defaults and choices: deploy/settings.tsv, the list the template and the
# Terraform module are checked against. Every key is a config line (KEY=value) and a flag
# (--key-name).
SETTINGS=()
declare -A DEFAULT=() CHOICES=()
while IFS=$'\t' read -r _key _default _ _ _values; do
    case $_key in "" | "#"*) continue ;; esac
    SETTINGS+=("$_key")
    [ "$_default" = - ] || DEFAULT[$_key]=$_default
    [ "$_values" = "*" ] || CHOICES[$_key]=$_values
done <"$HERE/settings.tsv"
unset _key _default _values
declare -A CONF=() FLAG=() ENVV=() FLAG_ENV=()
ENV_ORDER=()
POSITIONAL=()
CONFIG=""
SIGV4=0 YES=0 FOLLOW=0 SINCE=10m TO=""

ALIAS=live
POLICY_NAME="mcp-deploy"
TAG_KEY="mcp-deploy"
SID_URL="mcp-deploy-url-public"
SID_INVOKE="mcp-deploy-url-invoke"
RUNTIME=provided.al2023
HANDLER=bootstrap
PROTO=2026-07-28
RETRY_SLEEP=${MCP_DEPLOY_RETRY_SLEEP:-3}
SMOKE_TRIES=${MCP_DEPLOY_SMOKE_TRIES:-10}

# shellcheck source-path=SCRIPTDIR source=lib/front.sh
. "$HERE/lib/front.sh"
# shellcheck source-path=SCRIPTDIR source=lib/extras.sh
. "$HERE/lib/extras.sh"

TMP=""
cleanup() { [ -z "$TMP" ] || rm -rf "$TMP"; }
trap cleanup EXIT

say() { printf 'deploy: %s\n' "$*" >&2; }
die() { local code=$1; shift; printf 'deploy: %s\n' "$*" >&2; exit "$code"; }

usage() {
    cat <<'EOF'
usage: deploy/deploy.sh COMMAND [FLAGS]

commands:
  deploy              build, then create or update role, log group, function, version, alias
                      "live", function URL, URL permission, alarms; smoke-test; print endpoints
  outputs             print the endpoints and client configuration of the deployed server
  logs                tail the log group (--follow to keep following, --since 10m)
  invoke [JSON]       invoke the live alias with a direct JSON-RPC message (default tools/list)
  rollback            point live at the previous published version (--to N for a given one)
  destroy             remove what deploy created (--yes to skip the confirmation)

settings (mcp-deploy.conf KEY=value, or the flag; flags win):
  --name NAME                 function name; also names the role, log group and alarms (required)
  --region REGION             default: AWS_REGION, AWS_DEFAULT_REGION, then the CLI's configured one
  --arch arm64|x86_64         default arm64
  --memory MB                 128..10240, default 256
  --timeout SECONDS           1..900, default 30
  --auth AWS_IAM|NONE         function URL auth, default AWS_IAM (NONE is public)
  --invoke-mode BUFFERED|RESPONSE_STREAM   default BUFFERED
  --source FILE.c             your server (default: the repository's data-tools server, examples/datatools.c)
  --zip FILE                  deploy this bootstrap zip instead of building
  --reserved-concurrency N    reserved concurrency (empty: none)
  --log-retention-days N      default 14
  --log-format JSON|Text      default JSON;  --log-level TRACE|DEBUG|INFO|WARN|ERROR|FATAL (JSON only)
  --cors-origins LIST         comma-separated origins (or *) for the function URL and the server
  --s3-prefixes LIST          bucket/prefix,... the function may get, put and list
  --alarm-topic ARN           SNS topic for the alarms' ALARM and OK actions
  --front URL|HTTP_API|REST_API   the front door, default URL (the function URL)
  --custom-domain NAME        the API's custom domain (FRONT=HTTP_API or REST_API), e.g. mcp.example.com
  --certificate-arn ARN       its ACM certificate, in the function's region (with --custom-domain)
  --base-path PATH            the domain's mapping key / base path (optional; MCP_BASE_PATH=/PATH)
  --provisioned-concurrency N provisioned concurrency on the alias live (empty or 0: none)
  --vpc-subnets LIST          subnet ids, with --vpc-security-groups LIST (both or neither)
  --dynamodb-tables LIST      table names or ARNs the function may read and write (and their indexes)
  --bedrock-models LIST       model ids, inference profile ids or ARNs the function may invoke
  --extra-policy JSON|@FILE   more IAM statements for the role (a JSON array)
  --tasks-table create|NAME   durable MCP tasks: create NAME-tasks, or use an existing table
  --env KEY=VALUE             a function environment variable (as ENV_KEY=VALUE; repeatable);
                              ssm:/param and secretsmanager:name[#key] values are resolved at start-up
other flags:
  --config FILE   the settings file (default ./mcp-deploy.conf)
  --sigv4         smoke-test an AWS_IAM URL too, signing with curl --aws-sigv4
  --yes           destroy without asking
EOF
}

# --- settings -------------------------------------------------------------------------------

abspath() { case $1 in /*) printf '%s' "$1" ;; *) printf '%s/%s' "${2:-$PWD}" "$1" ;; esac; }

is_setting() { local k; for k in "${SETTINGS[@]}"; do [ "$k" = "$1" ] && return 0; done; return 1; }

add_env() { # add_env TABLE KEY VALUE: remember an environment variable, first-seen order
    local table=$1 key=$2 val=$3
    [[ $key =~ ^[A-Za-z][A-Za-z0-9_]*$ ]] || die 2 "environment variable name not allowed: $key"
    if [ "$table" = conf ]; then ENVV[$key]=$val; else FLAG_ENV[$key]=$val; fi
    local k
    for k in "${ENV_ORDER[@]}"; do [ "$k" = "$key" ] && return 0; done
    ENV_ORDER+=("$key")
}

load_conf() { # load_conf FILE: KEY=value lines; blank lines and lines starting with # ignored
    local file=$1 dir line key val n=0
    dir=$(cd "$(dirname "$file")" && pwd)
    while IFS= read -r line || [ -n "$line" ]; do
        n=$((n + 1))
        line=${line%$'\r'}
        line=${line#"${line%%[![:space:]]*}"}
        [ -z "$line" ] && continue
        [ "${line:0:1}" = "#" ] && continue
        [[ $line =~ ^([A-Za-z_][A-Za-z0-9_]*)[[:space:]]*=(.*)$ ]] || die 2 "$file:$n: expected KEY=value, got: $line"
        key=${BASH_REMATCH[1]}
        val=${BASH_REMATCH[2]}
        val=${val#"${val%%[![:space:]]*}"}
        val=${val%"${val##*[![:space:]]}"}
        if [[ ${#val} -ge 2 && ( ( ${val:0:1} = '"' && ${val: -1} = '"' ) || ( ${val:0:1} = "'" && ${val: -1} = "'" ) ) ]]; then
            val=${val:1:${#val}-2}
        fi
        case $key in
        ENV_*) add_env conf "${key#ENV_}" "$val" ;;
        SOURCE | ZIP) [ -z "$val" ] || val=$(abspath "$val" "$dir"); CONF[$key]=$val ;;
        EXTRA_POLICY) [[ $val != @* ]] || val=@$(abspath "${val#@}" "$dir"); CONF[$key]=$val ;;
        *) is_setting "$key" || die 2 "$file:$n: unknown setting $key (see deploy/deploy.sh --help)"
           CONF[$key]=$val ;;
        esac
    done <"$file"
}

parse_args() {
    local a key val
    while [ $# -gt 0 ]; do
        a=$1
        shift
        case $a in
        -h | --help) usage; exit 0 ;;
        --sigv4) SIGV4=1 ;;
        -y | --yes) YES=1 ;;
        -f | --follow) FOLLOW=1 ;;
        --*=*) key=${a%%=*}; val=${a#*=}; set_flag "$key" "$val" ;;
        --*)
            case $a in
            --config | --since | --to | --env) ;;
            *) key=${a#--}; key=${key//-/_}; is_setting "${key^^}" || die 2 "unknown flag $a (see --help)" ;;
            esac
            [ $# -gt 0 ] || die 2 "$a needs a value"
            set_flag "$a" "$1"
            shift ;;
        -*) die 2 "unknown flag $a (see --help)" ;;
        *) POSITIONAL+=("$a") ;;
        esac
    done
}

set_flag() { # set_flag --flag VALUE
    local key
    case $1 in
    --config) CONFIG=$(abspath "$2"); return ;;
    --since) SINCE=$2; return ;;
    --to) TO=$2; return ;;
    --env)
        [[ $2 == *=* ]] || die 2 "--env needs KEY=VALUE, got: $2"
        add_env flag "${2%%=*}" "${2#*=}"
        return ;;
    esac
    key=${1#--}
    key=${key//-/_}
    key=${key^^}
    is_setting "$key" || die 2 "unknown flag $1 (see --help)"
    FLAG[$key]=$2
    case $key in
    SOURCE | ZIP) [ -z "$2" ] || FLAG[$key]=$(abspath "$2") ;;
    EXTRA_POLICY) [[ $2 != @* ]] || FLAG[$key]=@$(abspath "${2#@}") ;;
    esac
}

setting() { # setting KEY: the flag, else the config line, else the default
    if [ -n "${FLAG[$1]+x}" ]; then printf '%s' "${FLAG[$1]}"
    elif [ -n "${CONF[$1]+x}" ]; then printf '%s' "${CONF[$1]}"
    else printf '%s' "${DEFAULT[$1]:-}"; fi
}

choice() { # choice KEY VALUE: VALUE is one of settings.tsv's choices for KEY
    local k=$1 v=$2
    [ -z "${CHOICES[$k]:-}" ] && return 0
    local -a vs
    IFS='|' read -r -a vs <<<"${CHOICES[$k]}"
    in_list "$v" "${vs[@]}" || die 2 "$k must be one of ${CHOICES[$k]//|/, }, not $v"
}

in_list() { local v=$1; shift; local x; for x in "$@"; do [ "$x" = "$v" ] && return 0; done; return 1; }
is_uint() { [[ $1 =~ ^[0-9]+$ ]]; }

split_csv() { # split_csv LIST: one trimmed, non-empty item a line
    local item
    local -a items
    IFS=',' read -r -a items <<<"$1"
    for item in "${items[@]}"; do
        item=${item#"${item%%[![:space:]]*}"}
        item=${item%"${item##*[![:space:]]}"}
        [ -z "$item" ] || printf '%s\n' "$item"
    done
}

# Resolve every setting into globals, and check each one; no AWS call yet.
resolve_settings() {
    if [ -z "$CONFIG" ] && [ -f "$PWD/mcp-deploy.conf" ]; then CONFIG=$PWD/mcp-deploy.conf; fi
    if [ -n "$CONFIG" ]; then
        [ -f "$CONFIG" ] || die 2 "no such config file: $CONFIG"
        load_conf "$CONFIG"
    fi
    NAME=$(setting NAME)
    REGION=$(setting REGION)
    ARCH=$(setting ARCH)
    MEMORY=$(setting MEMORY)
    TIMEOUT=$(setting TIMEOUT)
    AUTH=$(setting AUTH)
    INVOKE_MODE=$(setting INVOKE_MODE)
    SOURCE=$(setting SOURCE)
    ZIP=$(setting ZIP)
    [ -n "$ZIP" ] || ZIP=${MCP_DEPLOY_ZIP:+$(abspath "$MCP_DEPLOY_ZIP")}
    RESERVED_CONCURRENCY=$(setting RESERVED_CONCURRENCY)
    LOG_RETENTION_DAYS=$(setting LOG_RETENTION_DAYS)
    LOG_FORMAT=$(setting LOG_FORMAT)
    LOG_LEVEL=$(setting LOG_LEVEL)
    CORS_ORIGINS=$(setting CORS_ORIGINS)
    S3_PREFIXES=$(setting S3_PREFIXES)
    ALARM_TOPIC=$(setting ALARM_TOPIC)
    FRONT=$(setting FRONT)
    STAGE=$(setting STAGE)
    THROTTLE_RATE=$(setting THROTTLE_RATE)
    THROTTLE_BURST=$(setting THROTTLE_BURST)
    ACCESS_LOGS=$(setting ACCESS_LOGS)
    JWT_ISSUER=$(setting JWT_ISSUER)
    JWT_AUDIENCE=$(setting JWT_AUDIENCE)
    COGNITO_DOMAIN=$(setting COGNITO_DOMAIN)
    COGNITO_CALLBACK_URLS=$(setting COGNITO_CALLBACK_URLS)
    SCHEDULE=$(setting SCHEDULE)
    SCHEDULE_INPUT=$(setting SCHEDULE_INPUT)
    TRACING=$(setting TRACING)
    CUSTOM_DOMAIN=$(setting CUSTOM_DOMAIN)
    CERTIFICATE_ARN=$(setting CERTIFICATE_ARN)
    BASE_PATH=$(setting BASE_PATH)
    PROVISIONED_CONCURRENCY=$(setting PROVISIONED_CONCURRENCY)
    VPC_SUBNETS=$(setting VPC_SUBNETS)
    VPC_SECURITY_GROUPS=$(setting VPC_SECURITY_GROUPS)
    DYNAMODB_TABLES=$(setting DYNAMODB_TABLES)
    BEDROCK_MODELS=$(setting BEDROCK_MODELS)
    EXTRA_POLICY=$(setting EXTRA_POLICY)
    TASKS_TABLE=$(setting TASKS_TABLE)

    [ -n "$NAME" ] || die 2 "NAME is required: NAME=... in mcp-deploy.conf, or --name"
    [[ $NAME =~ ^[A-Za-z0-9_-]{1,58}$ ]] || die 2 "NAME must be 1-58 letters, digits, - or _ (it also names the role NAME-role): $NAME"
    case $ARCH in
    arm64 | aarch64) ARCH=arm64 ;;
    x86_64 | amd64) ARCH=x86_64 ;;
    *) die 2 "ARCH must be arm64 or x86_64, not $ARCH" ;;
    esac
    AUTH=${AUTH^^}
    FRONT=${FRONT^^}
    choice FRONT "$FRONT"
    choice AUTH "$AUTH"
    case $FRONT:$AUTH in
    URL:API_KEY) die 2 "AUTH=API_KEY needs FRONT=REST_API (API Gateway's API keys and usage plan); a function URL has none" ;;
    HTTP_API:API_KEY) die 2 "AUTH=API_KEY needs FRONT=REST_API: HTTP APIs have no API keys" ;;
    REST_API:JWT) die 2 "AUTH=JWT needs FRONT=HTTP_API or URL: REST APIs have no JWT authorizer (COGNITO works with REST_API)" ;;
    esac
    if [ "$AUTH" = JWT ]; then
        [[ $JWT_ISSUER =~ ^https://[^[:space:]]+$ ]] || die 2 "AUTH=JWT needs JWT_ISSUER, the OIDC issuer's https URL, not '$JWT_ISSUER'"
        [ "$FRONT" != HTTP_API ] || [ -n "$JWT_AUDIENCE" ] || die 2 "AUTH=JWT with FRONT=HTTP_API needs JWT_AUDIENCE (API Gateway's JWT authorizer requires one)"
    fi
    [[ $STAGE =~ ^[A-Za-z0-9_-]{1,128}$ ]] || die 2 "STAGE must be letters, digits, - or _, not $STAGE"
    { is_uint "$THROTTLE_RATE" && is_uint "$THROTTLE_BURST"; } || die 2 "THROTTLE_RATE and THROTTLE_BURST must be whole numbers (requests per second, burst)"
    ACCESS_LOGS=${ACCESS_LOGS,,}
    choice ACCESS_LOGS "$ACCESS_LOGS"
    case ${TRACING,,} in active) TRACING=Active ;; passthrough) TRACING=PassThrough ;; *) choice TRACING "$TRACING" ;; esac
    [ -z "$COGNITO_DOMAIN" ] || [[ $COGNITO_DOMAIN =~ ^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$ ]] ||
        die 2 "COGNITO_DOMAIN must be a prefix of lowercase letters, digits and -, not $COGNITO_DOMAIN"
    [ -z "$SCHEDULE" ] || [[ $SCHEDULE =~ ^(rate|cron)\(.+\)$ ]] || die 2 "SCHEDULE must be rate(...) or cron(...), not $SCHEDULE"
    [[ $SCHEDULE_INPUT == "{"*"}" ]] || die 2 "SCHEDULE_INPUT must be a JSON object (a JSON-RPC message), not $SCHEDULE_INPUT"
    INVOKE_MODE=${INVOKE_MODE^^}
    in_list "$INVOKE_MODE" BUFFERED RESPONSE_STREAM || die 2 "INVOKE_MODE must be BUFFERED or RESPONSE_STREAM, not $INVOKE_MODE"
    { is_uint "$MEMORY" && [ "$MEMORY" -ge 128 ] && [ "$MEMORY" -le 10240 ]; } || die 2 "MEMORY must be 128..10240 (MB), not $MEMORY"
    { is_uint "$TIMEOUT" && [ "$TIMEOUT" -ge 1 ] && [ "$TIMEOUT" -le 900 ]; } || die 2 "TIMEOUT must be 1..900 (seconds), not $TIMEOUT"
    [ -z "$RESERVED_CONCURRENCY" ] || is_uint "$RESERVED_CONCURRENCY" || die 2 "RESERVED_CONCURRENCY must be a whole number, not $RESERVED_CONCURRENCY"
    in_list "$LOG_RETENTION_DAYS" 1 3 5 7 14 30 60 90 120 150 180 365 400 545 731 1096 1827 2192 2557 2922 3288 3653 ||
        die 2 "LOG_RETENTION_DAYS must be one of CloudWatch's values (1 3 5 7 14 30 60 90 120 150 180 365 ...), not $LOG_RETENTION_DAYS"
    case ${LOG_FORMAT,,} in json) LOG_FORMAT=JSON ;; text) LOG_FORMAT=Text ;; *) die 2 "LOG_FORMAT must be JSON or Text, not $LOG_FORMAT" ;; esac
    LOG_LEVEL=${LOG_LEVEL^^}
    in_list "$LOG_LEVEL" TRACE DEBUG INFO WARN ERROR FATAL || die 2 "LOG_LEVEL must be TRACE, DEBUG, INFO, WARN, ERROR or FATAL, not $LOG_LEVEL"
    [ -z "$SOURCE" ] || [ -f "$SOURCE" ] || die 2 "SOURCE: no such file: $SOURCE"
    [ -z "$ZIP" ] || [ -f "$ZIP" ] || die 2 "ZIP: no such file: $ZIP"
    [ -z "$ALARM_TOPIC" ] || [[ $ALARM_TOPIC == arn:*:sns:* ]] || die 2 "ALARM_TOPIC must be an SNS topic ARN, not $ALARM_TOPIC"

    CORS_LIST=()
    local o
    while IFS= read -r o; do
        [[ $o == "*" || $o =~ ^https?://[A-Za-z0-9.-]+(:[0-9]+)?$ ]] || die 2 "CORS_ORIGINS: not an origin (scheme://host[:port] or *): $o"
        CORS_LIST+=("$o")
    done < <(split_csv "$CORS_ORIGINS")
    CORS_ORIGINS=$(IFS=,; printf '%s' "${CORS_LIST[*]}")

    S3_BUCKETS=() S3_KEYS=()
    local p b k
    while IFS= read -r p; do
        p=${p#s3://}
        b=${p%%/*}
        k=""
        [[ $p == */* ]] && k=${p#*/}
        while [[ $k == */ ]]; do k=${k%/}; done
        [[ $b =~ ^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$ ]] || die 2 "S3_PREFIXES: not a bucket name: $b (from $p)"
        [[ $k != *'*'* && $k != *'"'* ]] || die 2 "S3_PREFIXES: no wildcards or quotes in a prefix: $p"
        S3_BUCKETS+=("$b")
        S3_KEYS+=("$k")
    done < <(split_csv "$S3_PREFIXES")
    resolve_knobs

    # The function's environment: ENV_* (flags win), plus what the settings imply.
    declare -gA FENV=()
    local key
    for key in "${ENV_ORDER[@]}"; do
        if [ -n "${FLAG_ENV[$key]+x}" ]; then FENV[$key]=${FLAG_ENV[$key]}; else FENV[$key]=${ENVV[$key]}; fi
        case $key in
        MCP_LAMBDA_STREAMING) die 2 "ENV_MCP_LAMBDA_STREAMING is set from INVOKE_MODE; drop it" ;;
        MCP_CORS_ORIGINS) die 2 "ENV_MCP_CORS_ORIGINS is set from CORS_ORIGINS; drop it" ;;
        MCP_BASE_PATH) die 2 "ENV_MCP_BASE_PATH is set from BASE_PATH; drop it" ;;
        MCP_TASKS_TABLE) die 2 "ENV_MCP_TASKS_TABLE is set from TASKS_TABLE; drop it" ;;
        AWS_LAMBDA_LOG_FORMAT | AWS_LAMBDA_LOG_LEVEL) die 2 "$key is set by Lambda from LOG_FORMAT / LOG_LEVEL; use those" ;;
        _HANDLER | _X_AMZN_TRACE_ID | AWS_REGION | AWS_DEFAULT_REGION | AWS_EXECUTION_ENV | AWS_ACCESS_KEY_ID | \
        AWS_SECRET_ACCESS_KEY | AWS_SESSION_TOKEN | AWS_LAMBDA_* | LAMBDA_TASK_ROOT | LAMBDA_RUNTIME_DIR | AWS_XRAY_*)
            die 2 "$key is reserved by Lambda and cannot be set" ;;
        esac
        [[ ${FENV[$key]} != *$'\t'* ]] || die 2 "ENV_$key: tabs are not allowed in values"
        case ${FENV[$key]} in
        ssm:*) [[ ${FENV[$key]#ssm:} =~ ^[A-Za-z0-9_./-]*$ ]] ||
            die 2 "ENV_$key: the runtime finds an ssm: parameter by its name only (letters, digits, _ . - /), not an ARN or a name:version selector: ${FENV[$key]}" ;;
        esac
        case $key in
        MCP_JWT_ISSUER | MCP_JWT_AUDIENCE | MCP_OAUTH_AUTHORIZATION_SERVERS | MCP_OAUTH_SCOPES | MCP_OAUTH_RESOURCE)
            if [ "$AUTH" = JWT ] || [ "$AUTH" = COGNITO ]; then die 2 "ENV_$key is set from AUTH=$AUTH; drop it"; fi ;;
        MCP_OAUTH_CLIENT_ID | MCP_OAUTH_AUTHORIZATION_ENDPOINT | MCP_OAUTH_TOKEN_ENDPOINT | MCP_OAUTH_REDIRECT_URIS)
            [ "$AUTH" != COGNITO ] || die 2 "ENV_$key is set from AUTH=$AUTH; drop it" ;;
        esac
    done
    [ "$INVOKE_MODE" = RESPONSE_STREAM ] && FENV[MCP_LAMBDA_STREAMING]=1
    # AUTH=JWT and COGNITO: the server checks the tokens too, and publishes its OAuth metadata;
    # COGNITO's values are known once the user pool exists (front_env fills them in)
    case $AUTH in
    JWT)
        FENV[MCP_JWT_ISSUER]=$JWT_ISSUER
        [ -z "$JWT_AUDIENCE" ] || FENV[MCP_JWT_AUDIENCE]=$JWT_AUDIENCE
        FENV[MCP_OAUTH_AUTHORIZATION_SERVERS]=$JWT_ISSUER ;;
    COGNITO)
        FENV[MCP_JWT_ISSUER]=pending
        FENV[MCP_OAUTH_AUTHORIZATION_SERVERS]=pending
        FENV[MCP_OAUTH_SCOPES]=$NAME/tools
        # the pool's app client, handed out by the server's POST /register (no dynamic registration)
        FENV[MCP_OAUTH_CLIENT_ID]=pending
        FENV[MCP_OAUTH_AUTHORIZATION_ENDPOINT]=pending
        FENV[MCP_OAUTH_TOKEN_ENDPOINT]=pending
        FENV[MCP_OAUTH_REDIRECT_URIS]=pending ;;
    esac
    if [ "$FRONT" = REST_API ] && { [ "$AUTH" = JWT ] || [ "$AUTH" = COGNITO ]; }; then FENV[MCP_OAUTH_RESOURCE]=pending; fi
    [ -z "$CORS_ORIGINS" ] || FENV[MCP_CORS_ORIGINS]=$CORS_ORIGINS
    [ -z "$BASE_PATH" ] || FENV[MCP_BASE_PATH]=/$BASE_PATH
    [ -z "$TASKS_TABLE_NAME" ] || FENV[MCP_TASKS_TABLE]=$TASKS_TABLE_NAME
    ENV_KEYS=()
    if [ ${#FENV[@]} -gt 0 ]; then mapfile -t ENV_KEYS < <(printf '%s\n' "${!FENV[@]}" | LC_ALL=C sort); fi
    local total=0 LC_ALL=C
    for key in "${ENV_KEYS[@]}"; do total=$((total + ${#key} + ${#FENV[$key]})); done
    [ "$total" -le 4096 ] || die 2 "the function's environment is $total bytes; Lambda allows 4 KB (4096) in all. Move large values to SSM or Secrets Manager (ENV_X=ssm:/path)"

    # Names of everything deploy creates.
    ROLE_NAME=$NAME-role
    LOG_GROUP=/aws/lambda/$NAME
    ALARMS=("$NAME-errors" "$NAME-duration-p99" "$NAME-throttles")
    URL_AUTH=NONE
    [ "$AUTH" != AWS_IAM ] || URL_AUTH=AWS_IAM
    API_LOG_GROUP=/aws/apigateway/$NAME
    POOL_NAME=$NAME-users
    CLIENT_NAME=$NAME-client
    RULE_NAME=$NAME-schedule
    DURATION_MS=$((TIMEOUT * 800)) # 80% of the timeout, in ms
}

resolve_region() {
    [ -n "$REGION" ] || REGION=${AWS_REGION:-${AWS_DEFAULT_REGION:-}}
    if [ -z "$REGION" ] && command -v aws >/dev/null 2>&1; then REGION=$(aws configure get region 2>/dev/null || true); fi
    [ -n "$REGION" ] || die 2 "no region: REGION=... in mcp-deploy.conf, --region, or AWS_REGION"
    [[ $REGION =~ ^[a-z]{2}(-[a-z]+)+-[0-9]+$ ]] || die 2 "not a region: $REGION"
}

# Regions without Lambda function URLs (cfn-lint's region data has no AWS::Lambda::Url there).
URL_REGIONS_WITHOUT=(ap-east-2 ap-south-2 ap-southeast-4 ap-southeast-5 ap-southeast-6 ap-southeast-7 ca-west-1
                     cn-northwest-1 eu-central-2 eu-south-2 il-central-1 me-central-1 mx-central-1 us-gov-east-1 us-gov-west-1)

# Pre-flight, before any AWS call: the front door exists in the region.
check_region() {
    if [ "$FRONT" = URL ] && in_list "$REGION" "${URL_REGIONS_WITHOUT[@]}"; then
        die 3 "pre-flight: Lambda function URLs are not available in $REGION; choose another REGION or FRONT=REST_API; nothing was changed"
    fi
    if [ "$FRONT" = HTTP_API ] && in_list "$REGION" "${HTTP_API_REGIONS_WITHOUT[@]}"; then
        die 3 "pre-flight: API Gateway HTTP APIs are not available in $REGION; choose another REGION or FRONT=REST_API; nothing was changed"
    fi
    if [ -n "$CERTIFICATE_ARN" ] && [ "$(cut -d: -f4 <<<"$CERTIFICATE_ARN")" != "$REGION" ]; then
        die 2 "CERTIFICATE_ARN must be a certificate in $REGION (a regional API's domain takes one of its own region), not $CERTIFICATE_ARN"
    fi
    if [ "$AUTH" = COGNITO ] && in_list "$REGION" "${COGNITO_REGIONS_WITHOUT[@]}"; then
        die 3 "pre-flight: Cognito user pools are not available in $REGION; choose another REGION or AUTH=JWT with your issuer; nothing was changed"
    fi
}

# --- JSON, written by hand -----------------------------------------------------------------------

json_str() {
    local s=$1
    s=${s//\\/\\\\}
    s=${s//\"/\\\"}
    s=${s//$'\t'/\\t}
    s=${s//$'\n'/\\n}
    s=${s//$'\r'/\\r}
    printf '"%s"' "$s"
}

json_list() {
    local out="" v
    for v in "$@"; do out+=${out:+,}$(json_str "$v"); done
    printf '[%s]' "$out"
}

# --- AWS calls -------------------------------------------------------------------------------

AWS_OUT="" AWS_ERR=""
# awsr ARGS...: run aws with --region; AWS_OUT and AWS_ERR hold its output; returns its status.
awsr() {
    local rc=0
    AWS_OUT=$(aws "$@" --region "$REGION" 2>"$TMP/stderr") || rc=$?
    AWS_ERR=$(cat "$TMP/stderr")
    return $rc
}
# awsm ARGS...: awsr, and stop with the CLI's message when it fails.
awsm() {
    awsr "$@" && return 0
    die 1 "aws $1 $2 failed: $(aws_msg)"
}
aws_msg() { printf '%s' "$AWS_ERR" | sed '/^[[:space:]]*$/d' | head -n 5; }
not_found() {
    case $AWS_ERR in
    *NotFoundException* | *NoSuchEntity* | *"(ResourceNotFound)"* | *ParameterNotFound* | *"Function not found"*) return 0 ;;
    esac
    return 1
}

start_tmp() { [ -n "$TMP" ] || TMP=$(mktemp -d "${TMPDIR:-/tmp}/mcp-deploy.XXXXXX"); }

# The CLI's major version, 1 or 2, in CLI_MAJOR: v1 lacks `logs tail`, `configure
# export-credentials` and --cli-binary-format, so those commands take another way there.
CLI_MAJOR=""
check_cli() {
    [ -z "$CLI_MAJOR" ] || return 0
    command -v aws >/dev/null 2>&1 || die 3 "pre-flight: the AWS CLI is not installed (no aws on PATH); install the AWS CLI (v2, or v1)"
    local ver
    ver=$(aws --version 2>&1) || die 3 "pre-flight: aws --version failed: $ver"
    case $ver in
    aws-cli/2.*) CLI_MAJOR=2 ;;
    aws-cli/1.*) CLI_MAJOR=1 ;;
    *) CLI_MAJOR=2; say "warning: expected AWS CLI v1 or v2, found: $ver" ;;
    esac
}

# Pre-flight: the CLI, then the credentials; sets ACCOUNT and PARTITION.
check_cli_and_identity() {
    check_cli
    if ! awsr sts get-caller-identity --query '[Account,Arn]' --output text; then
        die 3 "pre-flight: AWS credentials do not work (aws sts get-caller-identity): $(aws_msg)"
    fi
    ACCOUNT=$(cut -f1 <<<"$AWS_OUT")
    CALLER=$(cut -f2 <<<"$AWS_OUT")
    PARTITION=$(cut -d: -f2 <<<"$CALLER")
    ALIAS_ARN=arn:$PARTITION:lambda:$REGION:$ACCOUNT:function:$NAME:$ALIAS
    [[ $ACCOUNT =~ ^[0-9]{12}$ ]] || die 3 "pre-flight: unexpected answer from sts get-caller-identity: $AWS_OUT"
    say "account $ACCOUNT ($CALLER), region $REGION"
}

# Pre-flight: every ssm: and secretsmanager: reference must resolve as the runtime resolves it.
# Sets SSM_ARNS (with /aws/reference/secretsmanager/NAME for each secret named plainly, which
# the runtime reads through SSM), SECRET_ARNS, SSM_SECURE (any SecureString) and SECRET_CMK
# (any secret under a customer managed key). The runtime asks SSM GetParameters for up to ten names at a time and
# takes a value only when the answer's Name equals the reference as written (so no ARN and no
# :version or :label selector), and Secrets Manager for the name before the first #.
check_references() {
    SSM_ARNS=() SECRET_ARNS=() SSM_SECURE=0 SECRET_CMK=0
    local key val ref missing=() seen=" " arn type kms
    local -a ssm_refs=() ssm_keys=()
    for key in "${ENV_KEYS[@]}"; do
        val=${FENV[$key]}
        case $val in
        ssm:*)
            ref=${val#ssm:}
            [ -n "$ref" ] || { missing+=("ENV_$key: empty SSM parameter name"); continue; }
            [[ $seen == *" ssm:$ref "* ]] && continue
            seen+="ssm:$ref "
            ssm_refs+=("$ref")
            ssm_keys+=("$key") ;;
        secretsmanager:*)
            ref=${val#secretsmanager:}
            ref=${ref%%#*}
            [ -n "$ref" ] || { missing+=("ENV_$key: empty secret name"); continue; }
            [[ $seen == *" sm:$ref "* ]] && continue
            seen+="sm:$ref "
            if awsr secretsmanager describe-secret --secret-id "$ref" --query '[ARN,KmsKeyId]' --output text; then
                arn=$(cut -f1 <<<"$AWS_OUT")
                kms=$(cut -f2 <<<"$AWS_OUT")
                SECRET_ARNS+=("$arn")
                # a secret named plainly is read in the same SSM GetParameters as the ssm:
                # references, through Parameter Store's reference to Secrets Manager
                [[ $ref == arn:* || $ref == *'?'* ]] ||
                    SSM_ARNS+=("arn:$PARTITION:ssm:$REGION:$ACCOUNT:parameter/aws/reference/secretsmanager/$ref")
                [ "$kms" = None ] || [ -z "$kms" ] || [[ $kms == alias/aws/* ]] || SECRET_CMK=1
            elif not_found; then
                missing+=("secret $ref (ENV_$key) does not exist in $REGION")
            else
                missing+=("secret $ref (ENV_$key) cannot be described: $(aws_msg)")
            fi ;;
        esac
    done
    local i j name
    for ((i = 0; i < ${#ssm_refs[@]}; i += 10)); do
        if ! awsr ssm get-parameters --names "${ssm_refs[@]:i:10}" --query 'Parameters[].[Name,ARN,Type]' --output text; then
            missing+=("SSM parameters ${ssm_refs[*]:i:10} cannot be read: $(aws_msg)")
            continue
        fi
        for ((j = i; j < i + 10 && j < ${#ssm_refs[@]}; j++)); do
            ref=${ssm_refs[$j]}
            arn=""
            while IFS=$'\t' read -r name val type; do
                if [ "$name" = "$ref" ]; then arn=$val; break; fi
            done <<<"$AWS_OUT"
            if [ -z "$arn" ]; then
                missing+=("SSM parameter $ref (ENV_${ssm_keys[$j]}) does not exist in $REGION")
                continue
            fi
            SSM_ARNS+=("$arn")
            [ "$type" != SecureString ] || SSM_SECURE=1
        done
    done
    if [ ${#missing[@]} -gt 0 ]; then
        local m
        for m in "${missing[@]}"; do printf 'deploy: pre-flight: %s\n' "$m" >&2; done
        die 3 "pre-flight failed; nothing was changed"
    fi
}

# --- the package -------------------------------------------------------------------------------

build_package() {
    if [ -n "$ZIP" ]; then
        say "package: $ZIP (prebuilt)"
    else
        local -a args=()
        [ -z "$SOURCE" ] || args=("$SOURCE")
        say "building with ARCH=$ARCH $REPO/build.sh ${args[*]} (into $REPO/build)"
        (cd "$REPO" && ARCH=$ARCH ./build.sh "${args[@]}") >&2 || die 1 "build failed"
        if [ "$ARCH" = x86_64 ]; then ZIP=$REPO/build/bootstrap.zip; else ZIP=$REPO/build/arm64/bootstrap.zip; fi
        [ -f "$ZIP" ] || die 1 "build did not produce $ZIP"
    fi
    local size
    size=$(stat -c %s "$ZIP")
    [ "$size" -le 52428800 ] || die 2 "$ZIP is $size bytes; a direct upload takes 50 MB at most"
    local hex
    hex=$(sha256sum "$ZIP")
    hex=${hex%% *}
    # Lambda's CodeSha256: the base64 of the binary digest
    local bytes="" i
    for ((i = 0; i < ${#hex}; i += 2)); do bytes+="\\x${hex:i:2}"; done
    CODE_SHA=$(printf '%b' "$bytes" | base64 -w0)
}

# --- what deploy creates -----------------------------------------------------------------------

trust_policy() {
    printf '%s' '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"lambda.amazonaws.com"},"Action":"sts:AssumeRole"}]}'
}

# The execution role's inline policy: least privilege, compact JSON, statements in a fixed order.
role_policy() {
    local p=$PARTITION st="" i b k via=()
    st+='{"Sid":"Logs","Effect":"Allow","Action":["logs:CreateLogStream","logs:PutLogEvents"],'
    st+='"Resource":'$(json_str "arn:$p:logs:$REGION:$ACCOUNT:log-group:$LOG_GROUP:*")'}'
    if [ ${#SSM_ARNS[@]} -gt 0 ]; then
        st+=',{"Sid":"SsmParameters","Effect":"Allow","Action":["ssm:GetParameter","ssm:GetParameters","ssm:GetParametersByPath"],'
        st+='"Resource":'$(json_list "${SSM_ARNS[@]}")'}'
    fi
    if [ ${#SECRET_ARNS[@]} -gt 0 ]; then
        st+=',{"Sid":"Secrets","Effect":"Allow","Action":"secretsmanager:GetSecretValue",'
        st+='"Resource":'$(json_list "${SECRET_ARNS[@]}")'}'
    fi
    [ "$SSM_SECURE" = 0 ] || via+=("ssm.$REGION.amazonaws.com")
    [ "$SECRET_CMK" = 0 ] || via+=("secretsmanager.$REGION.amazonaws.com")
    if [ ${#via[@]} -gt 0 ]; then
        st+=',{"Sid":"KmsDecryptViaService","Effect":"Allow","Action":"kms:Decrypt",'
        st+='"Resource":'$(json_str "arn:$p:kms:$REGION:$ACCOUNT:key/*")','
        st+='"Condition":{"StringEquals":{"kms:ViaService":'$(json_list "${via[@]}")'}}}'
    fi
    if [ "$TRACING" = Active ]; then
        st+=',{"Sid":"XRay","Effect":"Allow","Action":["xray:PutTraceSegments","xray:PutTelemetryRecords"],"Resource":"*"}'
    fi
    for i in "${!S3_BUCKETS[@]}"; do
        b=${S3_BUCKETS[$i]}
        k=${S3_KEYS[$i]}
        if [ -n "$k" ]; then
            st+=',{"Sid":"S3Objects'$((i + 1))'","Effect":"Allow","Action":["s3:GetObject","s3:PutObject"],'
            st+='"Resource":'$(json_str "arn:$p:s3:::$b/$k/*")'}'
            st+=',{"Sid":"S3List'$((i + 1))'","Effect":"Allow","Action":"s3:ListBucket",'
            st+='"Resource":'$(json_str "arn:$p:s3:::$b")','
            st+='"Condition":{"StringLike":{"s3:prefix":'$(json_list "$k" "$k/*")'}}}'
        else
            st+=',{"Sid":"S3Objects'$((i + 1))'","Effect":"Allow","Action":["s3:GetObject","s3:PutObject"],'
            st+='"Resource":'$(json_str "arn:$p:s3:::$b/*")'}'
            st+=',{"Sid":"S3List'$((i + 1))'","Effect":"Allow","Action":"s3:ListBucket",'
            st+='"Resource":'$(json_str "arn:$p:s3:::$b")'}'
        fi
    done
    st+=$(extra_policy_statements)
    printf '{"Version":"2012-10-17","Statement":[%s]}' "$st"
}

# Pre-flight: the role and the function, if they exist, must be deploy.sh's own (tagged
# mcp-deploy=NAME); their state is kept for ensure_role and ensure_function.
inspect_existing() {
    ROLE_ARN="" FUNCTION_STATE=""
    if awsr iam get-role --role-name "$ROLE_NAME" --query "[Role.Arn, Role.Tags[?Key=='$TAG_KEY'].Value | [0]]" --output text; then
        ROLE_ARN=$(cut -f1 <<<"$AWS_OUT")
        [ "$(cut -f2 <<<"$AWS_OUT")" = "$NAME" ] ||
            die 3 "pre-flight: role $ROLE_NAME exists but deploy.sh did not create it (no $TAG_KEY=$NAME tag); remove it or choose another NAME; nothing was changed"
    else
        not_found || die 3 "pre-flight: aws iam get-role failed: $(aws_msg)"
    fi
    if awsr lambda get-function --function-name "$NAME" --query "$(function_query)" --output text; then
        FUNCTION_STATE=$AWS_OUT
        [ "${FUNCTION_STATE%%$'\t'*}" = "$NAME" ] ||
            die 3 "pre-flight: function $NAME exists but deploy.sh did not create it (no $TAG_KEY=$NAME tag); choose another NAME; nothing was changed"
    else
        not_found || die 3 "pre-flight: aws lambda get-function failed: $(aws_msg)"
    fi
}

ensure_role() {
    local doc
    doc=$(role_policy)
    if [ -n "$ROLE_ARN" ]; then
        awsr iam get-role-policy --role-name "$ROLE_NAME" --policy-name "$POLICY_NAME" --query 'to_string(PolicyDocument)' --output text ||
            not_found || die 1 "aws iam get-role-policy failed: $(aws_msg)"
        if [ "$AWS_OUT" = "$doc" ]; then
            say "role $ROLE_NAME: up to date"
            return
        fi
    else
        awsm iam create-role --role-name "$ROLE_NAME" --assume-role-policy-document "$(trust_policy)" \
            --description "Execution role of the MCP server $NAME (mcp.c deploy.sh)" \
            --tags "Key=$TAG_KEY,Value=$NAME" --query Role.Arn --output text
        ROLE_ARN=$AWS_OUT
        say "role $ROLE_NAME: created"
    fi
    awsm iam put-role-policy --role-name "$ROLE_NAME" --policy-name "$POLICY_NAME" --policy-document "$doc"
    say "role $ROLE_NAME: policy $POLICY_NAME written"
}

ensure_log_group() {
    awsm logs describe-log-groups --log-group-name-prefix "$LOG_GROUP" \
        --query "logGroups[?logGroupName=='$LOG_GROUP'].[logGroupName,retentionInDays]" --output text
    local have=$AWS_OUT
    if [ -z "$have" ]; then
        if ! awsr logs create-log-group --log-group-name "$LOG_GROUP" --tags "$TAG_KEY=$NAME"; then
            [[ $AWS_ERR == *ResourceAlreadyExistsException* ]] || die 1 "aws logs create-log-group failed: $(aws_msg)"
        fi
        say "log group $LOG_GROUP: created"
    elif [ "$(cut -f2 <<<"$have")" = "$LOG_RETENTION_DAYS" ]; then
        say "log group $LOG_GROUP: up to date"
        return
    fi
    awsm logs put-retention-policy --log-group-name "$LOG_GROUP" --retention-in-days "$LOG_RETENTION_DAYS"
    say "log group $LOG_GROUP: retention $LOG_RETENTION_DAYS days"
}

env_json() {
    local out="" k
    for k in "${ENV_KEYS[@]}"; do out+=${out:+,}$(json_str "$k"):$(json_str "${FENV[$k]}"); done
    printf '{"Variables":{%s}}' "$out"
}

logging_config() {
    if [ "$LOG_FORMAT" = JSON ]; then printf 'LogFormat=JSON,ApplicationLogLevel=%s' "$LOG_LEVEL"; else printf 'LogFormat=Text'; fi
}

# What get-function reports for the settings deploy manages, tab-separated, in the order of
# function_query's configuration fields.
# desired_config [unreported]: "unreported" when the service reports no logging configuration
# at all (Lambda always does; moto's server keeps none), so that it is not compared.
desired_config() {
    local line k keys
    keys=$(IFS=,; printf '%s' "${ENV_KEYS[*]}")
    line="$ROLE_ARN"$'\t'"$RUNTIME"$'\t'"$HANDLER"$'\t'"$MEMORY"$'\t'"$TIMEOUT"
    if [ "${1:-}" = unreported ]; then line+=$'\t'None$'\t'None
    elif [ "$LOG_FORMAT" = JSON ]; then line+=$'\t'"$LOG_FORMAT"$'\t'"$LOG_LEVEL"
    else line+=$'\t'"$LOG_FORMAT"$'\t'None; fi
    line+=$'\t'"$TRACING"$'\t'"$(vpc_line)"
    line+=$'\t'"$keys"
    for k in "${ENV_KEYS[@]}"; do line+=$'\t'"${FENV[$k]}"; done
    printf '%s' "$line"
}

function_query() {
    local q k
    q="[Tags.\"$TAG_KEY\", Configuration.CodeSha256, join(',', Configuration.Architectures || \`[]\`), Configuration.LastUpdateStatus,"
    q+=" Configuration.Role, Configuration.Runtime, Configuration.Handler, Configuration.MemorySize, Configuration.Timeout,"
    q+=" Configuration.LoggingConfig.LogFormat, Configuration.LoggingConfig.ApplicationLogLevel, Configuration.TracingConfig.Mode || 'PassThrough',"
    q+=" join(',', sort(Configuration.VpcConfig.SubnetIds || \`[]\`)), join(',', sort(Configuration.VpcConfig.SecurityGroupIds || \`[]\`)),"
    q+=" join(',', sort(keys(Configuration.Environment.Variables || \`{}\`)))"
    for k in "${ENV_KEYS[@]}"; do q+=", Configuration.Environment.Variables.\"$k\""; done
    printf '%s]' "$q"
}

wait_updated() { awsm lambda wait function-updated-v2 --function-name "$NAME"; }

create_function() {
    local try=1
    local -a vpc=()
    [ ${#VPC_SUBNET_LIST[@]} = 0 ] || vpc=(--vpc-config "$(vpc_json)")
    while :; do
        if awsr lambda create-function --function-name "$NAME" --runtime "$RUNTIME" --handler "$HANDLER" \
            --architectures "$ARCH" --role "$ROLE_ARN" --zip-file "fileb://$ZIP" \
            --memory-size "$MEMORY" --timeout "$TIMEOUT" --environment "$(env_json)" \
            --logging-config "$(logging_config)" --tracing-config "Mode=$TRACING" "${vpc[@]}" \
            --description "MCP server $NAME (mcp.c), deployed by deploy.sh" \
            --tags "$TAG_KEY=$NAME" --query FunctionArn --output text; then
            break
        fi
        # A new role takes a few seconds to reach Lambda.
        if [[ $AWS_ERR == *"cannot be assumed by Lambda"* || $AWS_ERR == *"role defined for the function"* ]] && [ $try -lt 10 ]; then
            say "the new role is not visible to Lambda yet; retrying in ${RETRY_SLEEP}s"
            sleep "$RETRY_SLEEP"
            try=$((try + 1))
            continue
        fi
        die 1 "aws lambda create-function failed: $(aws_msg)"
    done
    awsm lambda wait function-active-v2 --function-name "$NAME"
    say "function $NAME: created ($ARCH, $MEMORY MB, ${TIMEOUT}s)"
}

ensure_function() {
    FUNCTION_CREATED=0
    if [ -z "$FUNCTION_STATE" ]; then
        create_function
        FUNCTION_CREATED=1
        return
    fi
    local rest=$FUNCTION_STATE sha arch status
    rest=${rest#*$'\t'}
    sha=${rest%%$'\t'*}; rest=${rest#*$'\t'}
    arch=${rest%%$'\t'*}; rest=${rest#*$'\t'}
    status=${rest%%$'\t'*}; rest=${rest#*$'\t'}
    [ "$status" != InProgress ] || wait_updated
    local changed=0
    if [ "$sha" != "$CODE_SHA" ] || [ "$arch" != "$ARCH" ]; then
        awsm lambda update-function-code --function-name "$NAME" --zip-file "fileb://$ZIP" \
            --architectures "$ARCH" --query CodeSha256 --output text
        wait_updated
        say "function $NAME: code updated"
        changed=1
    fi
    local logging=""
    [ "$(cut -f6 <<<"$rest")" != None ] || logging=unreported
    if [ "$rest" != "$(desired_config $logging)" ]; then
        # the VPC configuration only when there is one to set or to remove
        local -a vpc=()
        [ "$(cut -f9,10 <<<"$rest")" = $'\t' ] && [ ${#VPC_SUBNET_LIST[@]} = 0 ] || vpc=(--vpc-config "$(vpc_json)")
        awsm lambda update-function-configuration --function-name "$NAME" --role "$ROLE_ARN" \
            --runtime "$RUNTIME" --handler "$HANDLER" --memory-size "$MEMORY" --timeout "$TIMEOUT" \
            --environment "$(env_json)" --logging-config "$(logging_config)" --tracing-config "Mode=$TRACING" "${vpc[@]}" \
            --query LastUpdateStatus --output text
        wait_updated
        say "function $NAME: configuration updated"
        changed=1
    fi
    [ $changed = 1 ] || say "function $NAME: up to date"
}

ensure_concurrency() {
    local have=None
    if [ "$FUNCTION_CREATED" = 0 ]; then
        awsm lambda get-function-concurrency --function-name "$NAME" --query ReservedConcurrentExecutions --output text
        have=$AWS_OUT
    fi
    if [ -n "$RESERVED_CONCURRENCY" ] && [ "$have" != "$RESERVED_CONCURRENCY" ]; then
        awsm lambda put-function-concurrency --function-name "$NAME" --reserved-concurrent-executions "$RESERVED_CONCURRENCY"
        say "reserved concurrency: $RESERVED_CONCURRENCY"
    elif [ -z "$RESERVED_CONCURRENCY" ] && [ "$have" != None ]; then
        awsm lambda delete-function-concurrency --function-name "$NAME"
        say "reserved concurrency: removed"
    fi
}

publish_and_alias() {
    # Lambda returns the latest version instead of a new one when nothing changed since.
    awsm lambda publish-version --function-name "$NAME" --code-sha256 "$CODE_SHA" --query Version --output text
    VERSION=$AWS_OUT
    if awsr lambda get-alias --function-name "$NAME" --name "$ALIAS" --query FunctionVersion --output text; then
        local was=$AWS_OUT
        if [ "$was" = "$VERSION" ]; then
            say "alias $ALIAS: version $VERSION, up to date"
        else
            awsm lambda update-alias --function-name "$NAME" --name "$ALIAS" --function-version "$VERSION" \
                --query FunctionVersion --output text
            say "alias $ALIAS: version $was -> $VERSION"
        fi
    else
        not_found || die 1 "aws lambda get-alias failed: $(aws_msg)"
        awsm lambda create-alias --function-name "$NAME" --name "$ALIAS" --function-version "$VERSION" \
            --description "What the function URL serves; deploy.sh rollback moves it back"
        say "alias $ALIAS: created at version $VERSION"
    fi
}

cors_json() {
    [ -n "$CORS_ORIGINS" ] || { printf '{}'; return; }
    printf '{"AllowOrigins":%s,"AllowMethods":["GET","POST","DELETE"],"AllowHeaders":%s,"ExposeHeaders":["mcp-session-id"],"MaxAge":86400}' \
        "$(json_list "${CORS_LIST[@]}")" \
        '["content-type","accept","authorization","mcp-session-id","mcp-protocol-version","mcp-method","mcp-name","last-event-id","x-amz-date","x-amz-security-token","x-amz-content-sha256"]'
}

# The function URL on the alias for FRONT=URL (auth AWS_IAM, or NONE: public, or with tokens the
# server checks); with another front door, a URL left from before is removed.
ensure_url() {
    if [ "$FRONT" != URL ]; then
        if awsr lambda get-function-url-config --function-name "$NAME" --qualifier "$ALIAS" --query FunctionUrl --output text; then
            awsm lambda delete-function-url-config --function-name "$NAME" --qualifier "$ALIAS"
            say "function URL: removed (FRONT=$FRONT)"
        fi
        return 0
    fi
    local -a cors=()
    [ -z "$CORS_ORIGINS" ] || cors=(--cors "$(cors_json)")
    if awsr lambda get-function-url-config --function-name "$NAME" --qualifier "$ALIAS" \
        --query "[FunctionUrl, AuthType, InvokeMode || 'BUFFERED', join(',', Cors.AllowOrigins || \`[]\`)]" --output text; then
        local url auth mode origins
        IFS=$'\t' read -r url auth mode origins <<<"$AWS_OUT"
        ENDPOINT=$(with_slash "$url")
        if [ "$auth" = "$URL_AUTH" ] && [ "$mode" = "$INVOKE_MODE" ] && [ "${origins:-}" = "$CORS_ORIGINS" ]; then
            say "function URL: up to date ($URL_AUTH, $INVOKE_MODE)"
            return
        fi
        awsm lambda update-function-url-config --function-name "$NAME" --qualifier "$ALIAS" --auth-type "$URL_AUTH" \
            --invoke-mode "$INVOKE_MODE" --cors "$(cors_json)" --query FunctionUrl --output text
        ENDPOINT=$(with_slash "$AWS_OUT")
        say "function URL: updated ($URL_AUTH, $INVOKE_MODE)"
    else
        not_found || die 1 "aws lambda get-function-url-config failed: $(aws_msg)"
        awsm lambda create-function-url-config --function-name "$NAME" --qualifier "$ALIAS" --auth-type "$URL_AUTH" \
            --invoke-mode "$INVOKE_MODE" "${cors[@]}" --query FunctionUrl --output text
        ENDPOINT=$(with_slash "$AWS_OUT")
        say "function URL: created ($URL_AUTH, $INVOKE_MODE)"
    fi
}

# with_slash URL: the URL ending with exactly one /, as the endpoints are appended to it
# (Lambda answers with one; other implementations of the API do not).
with_slash() { local u=$1; while [[ $u == */ ]]; do u=${u%/}; done; printf '%s/' "$u"; }

has_sid() { [[ $1 =~ \"Sid\"[[:space:]]*:[[:space:]]*\"$2\" ]]; }

# The alias's resource policy: for AUTH=NONE, lambda:InvokeFunctionUrl (FunctionUrlAuthType
# NONE) and, required since October 2025, lambda:InvokeFunction only via the function URL.
ensure_permission() {
    local policy=""
    if awsr lambda get-policy --function-name "$NAME" --qualifier "$ALIAS" --query Policy --output text; then
        policy=$AWS_OUT
    else
        not_found || die 1 "aws lambda get-policy failed: $(aws_msg)"
    fi
    # the statements wanted: the two public ones of a NONE URL, API Gateway's for this API (its
    # id in the Sid), the schedule's
    local -a want=()
    [ "$FRONT" != URL ] || [ "$URL_AUTH" != NONE ] || want+=("$SID_URL" "$SID_INVOKE")
    [ "$FRONT" = URL ] || want+=("$SID_API-$API_ID")
    [ -z "${SCHEDULE_ARN:-}" ] || want+=("$SID_SCHEDULE")
    local sid removed=0 n=0
    local -a sids=()
    mapfile -t sids < <(grep -o '"Sid" *: *"mcp-deploy-[^"]*"' <<<"$policy" | sed 's/.*"\(mcp-deploy-[^"]*\)"$/\1/' || true)
    for sid in "${sids[@]}"; do
        in_list "$sid" "${want[@]}" && continue
        awsr lambda remove-permission --function-name "$NAME" --qualifier "$ALIAS" --statement-id "$sid" ||
            not_found || die 1 "aws lambda remove-permission failed: $(aws_msg)"
        removed=$((removed + 1))
    done
    for sid in "${want[@]}"; do
        in_list "$sid" "${sids[@]}" && continue
        n=$((n + 1))
        case $sid in
        "$SID_URL")
            awsm lambda add-permission --function-name "$NAME" --qualifier "$ALIAS" --statement-id "$SID_URL" \
                --action lambda:InvokeFunctionUrl --principal '*' --function-url-auth-type NONE \
                --query Statement --output text
            say "permission: public lambda:InvokeFunctionUrl on $NAME:$ALIAS" ;;
        "$SID_INVOKE")
            if ! awsr lambda add-permission --function-name "$NAME" --qualifier "$ALIAS" --statement-id "$SID_INVOKE" \
                --action lambda:InvokeFunction --principal '*' --invoked-via-function-url \
                --query Statement --output text; then
                if [[ $AWS_ERR == *"Unknown options"* || $AWS_ERR == *"invoked-via-function-url"* ]]; then
                    die 1 "this AWS CLI cannot add lambda:InvokeFunction limited to the function URL (--invoked-via-function-url is newer); upgrade the AWS CLI and run deploy again: the public URL answers 403 until then"
                fi
                die 1 "aws lambda add-permission failed: $(aws_msg)"
            fi
            say "permission: lambda:InvokeFunction via the function URL only" ;;
        "$SID_SCHEDULE")
            awsm lambda add-permission --function-name "$NAME" --qualifier "$ALIAS" --statement-id "$SID_SCHEDULE" \
                --action lambda:InvokeFunction --principal events.amazonaws.com --source-arn "$SCHEDULE_ARN" \
                --query Statement --output text
            say "permission: lambda:InvokeFunction for the schedule $RULE_NAME" ;;
        *)
            awsm lambda add-permission --function-name "$NAME" --qualifier "$ALIAS" --statement-id "$sid" \
                --action lambda:InvokeFunction --principal apigateway.amazonaws.com \
                --source-arn "arn:$PARTITION:execute-api:$REGION:$ACCOUNT:$API_ID/*" --query Statement --output text
            say "permission: lambda:InvokeFunction for API Gateway ($API_ID)" ;;
        esac
    done
    [ $removed = 0 ] || say "permission: $removed statement(s) removed"
    [ $n -gt 0 ] || [ $removed -gt 0 ] || say "permission: up to date"
}

alarm_line() { # alarm_line NAME THRESHOLD: as describe-alarms' query prints it
    printf '%s\t%s.0\t%s' "$1" "$2" "$ALARM_TOPIC"
}

ensure_alarms() {
    awsm cloudwatch describe-alarms --alarm-names "${ALARMS[@]}" \
        --query "MetricAlarms[].[AlarmName, Threshold, join(',', AlarmActions)]" --output text
    local have=$AWS_OUT
    local -a actions=() common=(--namespace AWS/Lambda --dimensions "Name=FunctionName,Value=$NAME" --period 300
                                --evaluation-periods 1 --comparison-operator GreaterThanThreshold --treat-missing-data notBreaching)
    [ -z "$ALARM_TOPIC" ] || actions=(--alarm-actions "$ALARM_TOPIC" --ok-actions "$ALARM_TOPIC")
    local n=0
    if ! grep -qxF "$(alarm_line "${ALARMS[0]}" 0)" <<<"$have"; then
        awsm cloudwatch put-metric-alarm --alarm-name "${ALARMS[0]}" --alarm-description "MCP server $NAME: invocations failed" \
            --metric-name Errors --statistic Sum --threshold 0 "${common[@]}" "${actions[@]}"
        n=$((n + 1))
    fi
    if ! grep -qxF "$(alarm_line "${ALARMS[1]}" "$DURATION_MS")" <<<"$have"; then
        awsm cloudwatch put-metric-alarm --alarm-name "${ALARMS[1]}" \
            --alarm-description "MCP server $NAME: p99 duration above 80% of the ${TIMEOUT}s timeout" \
            --metric-name Duration --extended-statistic p99 --threshold "$DURATION_MS" "${common[@]}" "${actions[@]}"
        n=$((n + 1))
    fi
    if ! grep -qxF "$(alarm_line "${ALARMS[2]}" 0)" <<<"$have"; then
        awsm cloudwatch put-metric-alarm --alarm-name "${ALARMS[2]}" --alarm-description "MCP server $NAME: invocations throttled" \
            --metric-name Throttles --statistic Sum --threshold 0 "${common[@]}" "${actions[@]}"
        n=$((n + 1))
    fi
    if [ $n = 0 ]; then say "alarms: up to date"; else say "alarms: $n written"; fi
}

# --- smoke test -------------------------------------------------------------------------------

DISCOVER_BODY='{"jsonrpc":"2.0","id":1,"method":"server/discover","params":{"_meta":{"io.modelcontextprotocol/protocolVersion":"'$PROTO'","io.modelcontextprotocol/clientCapabilities":{}}}}'

# http_call OUTFILE CURL-ARGS...: prints the HTTP status (000 when curl failed).
http_call() {
    local out=$1 code
    shift
    local -a sign=()
    local service=lambda
    [ "$FRONT" = URL ] || service=execute-api
    if [ "$AUTH" = AWS_IAM ]; then sign=(--aws-sigv4 "aws:amz:$REGION:$service" -K "$TMP/curl-credentials"); fi
    if [ "$AUTH" = API_KEY ]; then sign=(-K "$TMP/curl-credentials"); fi
    code=$(curl -sS --max-time 30 -o "$out" -w '%{http_code}' "${sign[@]}" "$@" 2>"$TMP/curl-stderr") || code=000
    printf '%s' "$code"
}

sigv4_credentials() { # curl config with the caller's credentials: never on curl's command line
    local line id="" secret="" token=""
    if [ "$CLI_MAJOR" = 2 ]; then
        awsr configure export-credentials --format env-no-export ||
            die 1 "--sigv4: aws configure export-credentials failed (it needs a recent AWS CLI v2): $(aws_msg)"
        while IFS= read -r line; do
            case $line in
            AWS_ACCESS_KEY_ID=*) id=${line#*=} ;;
            AWS_SECRET_ACCESS_KEY=*) secret=${line#*=} ;;
            AWS_SESSION_TOKEN=*) token=${line#*=} ;;
            esac
        done <<<"$AWS_OUT"
    elif [ -n "${AWS_ACCESS_KEY_ID:-}" ]; then # v1: the environment's keys, else the profile's
        id=$AWS_ACCESS_KEY_ID secret=${AWS_SECRET_ACCESS_KEY:-} token=${AWS_SESSION_TOKEN:-}
    else
        id=$(aws configure get aws_access_key_id 2>/dev/null || true)
        secret=$(aws configure get aws_secret_access_key 2>/dev/null || true)
        token=$(aws configure get aws_session_token 2>/dev/null || true)
    fi
    { [ -n "$id" ] && [ -n "$secret" ]; } ||
        die 1 "--sigv4: no credentials found (AWS CLI v1: AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or keys in the profile)"
    (
        umask 077
        printf 'user = "%s:%s"\n' "$id" "$secret" >"$TMP/curl-credentials"
        [ -z "$token" ] || printf 'header = "x-amz-security-token: %s"\n' "$token" >>"$TMP/curl-credentials"
    )
}

api_key_header() { # curl config with the API key's value: never on curl's command line
    awsm apigateway get-api-key --api-key "$API_KEY_ID" --include-value --query value --output text
    ( umask 077; printf 'header = "x-api-key: %s"\n' "$AWS_OUT" >"$TMP/curl-credentials" )
}

smoke_test() {
    if [ "$AUTH" = AWS_IAM ] && [ "$SIGV4" = 0 ]; then
        say "smoke test: skipped (AUTH=AWS_IAM; --sigv4 signs the requests with your credentials)"
        return 0
    fi
    command -v curl >/dev/null 2>&1 || { say "smoke test: skipped (no curl)"; return 0; }
    [ "$AUTH" != AWS_IAM ] || sigv4_credentials
    [ "$AUTH" != API_KEY ] || api_key_header
    local try=1 code body ok=0
    while [ $try -le "$SMOKE_TRIES" ]; do
        code=$(http_call "$TMP/health" "${ENDPOINT}health")
        if [ "$code" = 200 ] && grep -Eq '"status"[[:space:]]*:[[:space:]]*"ok"' "$TMP/health"; then ok=1; break; fi
        # A new URL or permission takes a few seconds to take effect.
        [ $try -lt "$SMOKE_TRIES" ] && sleep "$RETRY_SLEEP"
        try=$((try + 1))
    done
    if [ $ok = 0 ]; then
        body=$(head -c 300 "$TMP/health" 2>/dev/null || true)
        say "smoke test: GET ${ENDPOINT}health answered $code: $body $(cat "$TMP/curl-stderr")"
        return 4
    fi
    say "smoke test: GET /health ok"
    if [ "$AUTH" = JWT ] || [ "$AUTH" = COGNITO ]; then
        say "smoke test: POST /mcp skipped (AUTH=$AUTH: it takes a token from $(jwt_issuer))"
        return 0
    fi
    code=$(http_call "$TMP/discover" -X POST "${ENDPOINT}mcp" \
        -H 'Content-Type: application/json' -H 'Accept: application/json, text/event-stream' \
        -H "MCP-Protocol-Version: $PROTO" -H 'Mcp-Method: server/discover' --data-binary "$DISCOVER_BODY")
    if [ "$code" != 200 ] || ! grep -q '"supportedVersions"' "$TMP/discover"; then
        body=$(head -c 300 "$TMP/discover" 2>/dev/null || true)
        say "smoke test: POST ${ENDPOINT}mcp server/discover answered $code: $body $(cat "$TMP/curl-stderr")"
        return 4
    fi
    local server
    server=$(sed -n 's/.*"io.modelcontextprotocol\/serverInfo"[[:space:]]*:[[:space:]]*{[[:space:]]*"name"[[:space:]]*:[[:space:]]*"\([^"]*\)".*/\1/p' "$TMP/discover")
    say "smoke test: server/discover ok${server:+ (server $server)}"
}

# --- outputs -------------------------------------------------------------------------------

print_outputs() { # print_outputs URL VERSION
    local url=$1 version=$2 mcp
    mcp="${url}mcp"
    cat <<EOF
$NAME is live: alias $ALIAS -> version $version, $REGION, front $FRONT, auth $AUTH, $INVOKE_MODE

Endpoints
  MCP (Streamable HTTP)   POST ${url}mcp
  JSON-RPC                POST ${url}rpc
  Health                  GET  ${url}health
  Metrics                 GET  ${url}metrics
  Call a tool             POST ${url}tools/{name}

EOF
    if [ -n "$CUSTOM_DOMAIN" ]; then
        local custom=https://$CUSTOM_DOMAIN/${BASE_PATH:+$BASE_PATH/}
        cat <<EOF
Custom domain $CUSTOM_DOMAIN${BASE_PATH:+, base path /$BASE_PATH} (the same endpoints under it)
  MCP (Streamable HTTP)   POST ${custom}mcp
  DNS                     CNAME $CUSTOM_DOMAIN -> ${DOMAIN_TARGET:-the API Gateway domain name} (or an alias record to it)

EOF
    fi
    case $AUTH in
    API_KEY)
        cat <<EOF
Requests need the header x-api-key with the value of the API key $NAME-key:
  aws apigateway get-api-key --api-key ${API_KEY_ID:-ID} --include-value --query value --output text --region $REGION
{
  "mcpServers": {
    "$NAME": { "type": "http", "url": "$mcp", "headers": { "x-api-key": "KEY" } }
  }
}
EOF
        return ;;
    JWT | COGNITO)
        cat <<EOF
Requests need a bearer token from $(jwt_issuer)$([ "$AUTH" != COGNITO ] || printf ' (scope %s)' "$NAME/tools");
MCP clients find it through ${url}.well-known/oauth-protected-resource.
EOF
        [ "$AUTH" != COGNITO ] || cat <<EOF
Cognito: user pool ${POOL_ID:-} ($POOL_NAME), app client ${CLIENT_ID:-} ($CLIENT_NAME, public, code + PKCE),
sign-in https://${POOL_DOMAIN:-DOMAIN}.auth.$REGION.amazoncognito.com, callback URLs $COGNITO_CALLBACK_URLS;
clients that register (POST ${url}register) get this app client: their redirect URI must be a callback URL.
EOF
        cat <<EOF
{
  "mcpServers": {
    "$NAME": { "type": "http", "url": "$mcp" }
  }
}
EOF
        return ;;
    esac
    if [ "$AUTH" = NONE ]; then
        cat <<EOF
MCP clients that speak Streamable HTTP (Claude Code, Cursor, VS Code, ...):
{
  "mcpServers": {
    "$NAME": { "type": "http", "url": "$mcp" }
  }
}
  claude mcp add --transport http $NAME $mcp

MCP clients that only launch commands (stdio), through the server binary's proxy mode:
{
  "mcpServers": {
    "$NAME": { "command": "$REPO/build/bootstrap", "args": ["proxy", "$mcp"] }
  }
}
EOF
    elif [ "$FRONT" != URL ]; then
        cat <<EOF
The API takes SigV4-signed requests only (service execute-api, region $REGION); callers need
execute-api:Invoke on arn:aws:execute-api:$REGION:${ACCOUNT:-ACCOUNT}:${API_ID:-API}/*. The server binary's
proxy mode signs for the lambda service (function URLs); an API needs a client that signs for
execute-api.
EOF
    else
        cat <<EOF
The URL takes SigV4-signed requests only (service lambda, region $REGION); callers need
lambda:InvokeFunctionUrl and lambda:InvokeFunction on $NAME:$ALIAS. Clients connect through
the server binary's proxy mode, which signs with the credentials of the environment
(AWS_ACCESS_KEY_ID, ...) or of a profile in ~/.aws (AWS_PROFILE):
{
  "mcpServers": {
    "$NAME": {
      "command": "$REPO/build/bootstrap",
      "args": ["proxy", "$mcp", "--sigv4"],
      "env": { "AWS_PROFILE": "default" }
    }
  }
}
  claude mcp add $NAME -e AWS_PROFILE=default -- $REPO/build/bootstrap proxy $mcp --sigv4
EOF
    fi
}

# --- commands -------------------------------------------------------------------------------

cmd_deploy() {
    case ${FENV[MCP_STATE_KEY]:-} in
    "") say "note: no ENV_MCP_STATE_KEY: multi-round (input_required) state is signed with a key of each sandbox, so a round answered by another sandbox fails; set ENV_MCP_STATE_KEY=secretsmanager:NAME" ;;
    ssm:* | secretsmanager:*) ;;
    *) say "note: ENV_MCP_STATE_KEY is stored in the function's configuration as plain text; a secretsmanager: reference keeps it out" ;;
    esac
    check_region
    check_cli_and_identity
    check_references
    inspect_existing
    inspect_front
    inspect_tasks_table
    build_package
    ensure_role
    ensure_log_group
    ensure_tasks_table
    ensure_cognito
    case $FRONT in HTTP_API) ensure_http_api ;; REST_API) ensure_rest_api ;; esac
    front_env
    ensure_function
    ensure_concurrency
    publish_and_alias
    ensure_provisioned
    ensure_url
    case $FRONT in HTTP_API) ensure_http_front ;; REST_API) ensure_rest_front ;; esac
    ensure_schedule
    ensure_permission
    ensure_alarms
    local rc=0
    smoke_test || rc=$?
    print_outputs "$ENDPOINT" "$VERSION"
    return $rc
}

cmd_outputs() {
    check_cli_and_identity
    if [ "$FRONT" != URL ]; then
        inspect_front
        [ -n "$API_ID" ] || die 1 "$NAME has no $FRONT in $REGION: run deploy first"
        case $FRONT in
        HTTP_API) ENDPOINT=$(with_slash "$API_ENDPOINT") ;;
        REST_API) ENDPOINT=https://$API_ID.execute-api.$REGION.amazonaws.com/$STAGE/ ;;
        esac
        if [ "$AUTH" = COGNITO ] && [ -n "$POOL_ID" ]; then ISSUER=https://cognito-idp.$REGION.amazonaws.com/$POOL_ID; fi
        awsm lambda get-alias --function-name "$NAME" --name "$ALIAS" --query FunctionVersion --output text
        print_outputs "$ENDPOINT" "$AWS_OUT"
        return
    fi
    if ! awsr lambda get-function-url-config --function-name "$NAME" --qualifier "$ALIAS" \
        --query '[FunctionUrl, AuthType, InvokeMode]' --output text; then
        not_found && die 1 "$NAME has no function URL on alias $ALIAS in $REGION: run deploy first"
        die 1 "aws lambda get-function-url-config failed: $(aws_msg)"
    fi
    local url mode
    IFS=$'\t' read -r url URL_AUTH mode <<<"$AWS_OUT"
    [ "$URL_AUTH" = AWS_IAM ] || [ "$AUTH" = JWT ] || [ "$AUTH" = COGNITO ] || AUTH=$URL_AUTH
    [ "$URL_AUTH" != AWS_IAM ] || AUTH=AWS_IAM
    [ "$mode" = None ] || INVOKE_MODE=$mode
    awsm lambda get-alias --function-name "$NAME" --name "$ALIAS" --query FunctionVersion --output text
    print_outputs "$(with_slash "$url")" "$AWS_OUT"
}

cmd_logs() {
    check_cli
    [[ $SINCE =~ ^([0-9]+)([smhdw]?)$ ]] || die 2 "--since takes a duration such as 30s, 10m, 2h, 1d or 1w, not $SINCE"
    if [ "$CLI_MAJOR" = 2 ]; then
        local -a follow=()
        [ "$FOLLOW" = 0 ] || follow=(--follow)
        aws logs tail "$LOG_GROUP" --since "$SINCE" "${follow[@]}" --format short --region "$REGION"
        return
    fi
    # v1 has no `logs tail`: filter-log-events from the start time on, polled with --follow
    local n=${BASH_REMATCH[1]} unit=${BASH_REMATCH[2]:-m} secs start ts msg last
    case $unit in s) secs=$n ;; m) secs=$((n * 60)) ;; h) secs=$((n * 3600)) ;; d) secs=$((n * 86400)) ;; w) secs=$((n * 604800)) ;; esac
    start=$((($(date +%s) - secs) * 1000))
    while :; do
        awsm logs filter-log-events --log-group-name "$LOG_GROUP" --start-time "$start" \
            --query 'events[].[timestamp, message]' --output text
        last=$start
        while IFS=$'\t' read -r ts msg; do
            is_uint "$ts" || continue
            printf '%s %s\n' "$(date -u -d "@$((ts / 1000))" +%Y-%m-%dT%H:%M:%S)" "$msg"
            [ "$ts" -lt "$last" ] || last=$((ts + 1))
        done <<<"$AWS_OUT"
        start=$last
        [ "$FOLLOW" = 1 ] || break
        sleep "${MCP_DEPLOY_LOGS_POLL:-5}"
    done
}

cmd_invoke() {
    local payload=${POSITIONAL[1]:-}
    [ -n "$payload" ] || payload='{"jsonrpc":"2.0","id":1,"method":"tools/list","params":{"_meta":{"io.modelcontextprotocol/protocolVersion":"'$PROTO'","io.modelcontextprotocol/clientCapabilities":{}}}}'
    [[ $payload == "{"* || $payload == "["* ]] || die 2 "invoke takes a JSON-RPC message (a JSON object), not: $payload"
    check_cli
    # from a file: v1 and v2 both read fileb:// as the raw bytes (v2 would take a string as base64)
    printf '%s' "$payload" >"$TMP/payload.json"
    awsm lambda invoke --function-name "$NAME" --qualifier "$ALIAS" --payload "fileb://$TMP/payload.json" \
        "$TMP/response.json" --query '[StatusCode, ExecutedVersion, FunctionError]' --output text
    local status version error
    IFS=$'\t' read -r status version error <<<"$AWS_OUT"
    cat "$TMP/response.json"
    echo
    say "invoked $NAME:$ALIAS (version $version), status $status"
    if [ -n "$error" ] && [ "$error" != None ]; then die 1 "the function failed: $error"; fi
}

cmd_rollback() {
    check_cli_and_identity
    awsm lambda get-alias --function-name "$NAME" --name "$ALIAS" --query FunctionVersion --output text
    local current=$AWS_OUT target="" v
    awsm lambda list-versions-by-function --function-name "$NAME" --query 'Versions[].Version' --output text
    local -a versions
    read -r -a versions <<<"$(tr '\t\n' '  ' <<<"$AWS_OUT")"
    if [ -n "$TO" ]; then
        in_list "$TO" "${versions[@]}" || die 1 "$NAME has no version $TO (versions: ${versions[*]})"
        [ "$TO" != "\$LATEST" ] || die 2 "--to takes a published version, not \$LATEST"
        target=$TO
    else
        for v in "${versions[@]}"; do
            is_uint "$v" || continue
            if [ "$v" -lt "$current" ] && { [ -z "$target" ] || [ "$v" -gt "$target" ]; }; then target=$v; fi
        done
        [ -n "$target" ] || die 1 "$ALIAS is at version $current and there is no earlier published version to roll back to"
    fi
    if [ "$target" = "$current" ]; then say "$ALIAS is at version $current already"; return 0; fi
    awsm lambda update-alias --function-name "$NAME" --name "$ALIAS" --function-version "$target" \
        --query FunctionVersion --output text
    say "rolled back: $ALIAS now serves version $target (was $current)"
}

# gone_ok WHAT ARGS...: an AWS call of destroy; not found counts as done.
DESTROY_FAILED=0
gone_ok() {
    local what=$1
    shift
    if awsr "$@"; then
        say "removed $what"
    elif not_found; then
        say "$what: already gone"
    else
        say "could not remove $what: $(aws_msg)"
        DESTROY_FAILED=1
    fi
}

cmd_destroy() {
    check_cli_and_identity
    # Only what deploy.sh made: the function and role carry its tag.
    if awsr lambda get-function --function-name "$NAME" --query "Tags.\"$TAG_KEY\"" --output text; then
        [ "$AWS_OUT" = "$NAME" ] || die 1 "function $NAME was not created by deploy.sh (no $TAG_KEY=$NAME tag); not touching it"
    else
        not_found || die 1 "aws lambda get-function failed: $(aws_msg)"
    fi
    local role_ours=1
    if awsr iam get-role --role-name "$ROLE_NAME" --query "Role.Tags[?Key=='$TAG_KEY'].Value | [0]" --output text; then
        [ "$AWS_OUT" = "$NAME" ] || role_ours=0
    fi
    if [ "$YES" = 0 ]; then
        [ -t 0 ] || die 2 "destroy removes $NAME and its URL, alias, versions, role, log group and alarms in $REGION; add --yes to confirm"
        printf 'Remove the MCP server %s in %s: function URL, permission, alias, function and every version, role %s, log group %s, alarms? Type the name to confirm: ' \
            "$NAME" "$REGION" "$ROLE_NAME" "$LOG_GROUP" >&2
        local answer
        read -r answer || true
        [ "$answer" = "$NAME" ] || die 2 "not confirmed; nothing removed"
    fi
    destroy_front
    gone_ok "function URL of $NAME:$ALIAS" lambda delete-function-url-config --function-name "$NAME" --qualifier "$ALIAS"
    gone_ok "permission $SID_URL" lambda remove-permission --function-name "$NAME" --qualifier "$ALIAS" --statement-id "$SID_URL"
    gone_ok "permission $SID_INVOKE" lambda remove-permission --function-name "$NAME" --qualifier "$ALIAS" --statement-id "$SID_INVOKE"
    gone_ok "alias $ALIAS" lambda delete-alias --function-name "$NAME" --name "$ALIAS"
    gone_ok "function $NAME" lambda delete-function --function-name "$NAME"
    if [ $role_ours = 1 ]; then
        gone_ok "role policy $POLICY_NAME" iam delete-role-policy --role-name "$ROLE_NAME" --policy-name "$POLICY_NAME"
        gone_ok "role $ROLE_NAME" iam delete-role --role-name "$ROLE_NAME"
    else
        say "role $ROLE_NAME was not created by deploy.sh; left in place"
    fi
    gone_ok "log group $LOG_GROUP" logs delete-log-group --log-group-name "$LOG_GROUP"
    destroy_tasks_table
    # delete-alarms deletes nothing when one name is unknown: ask which exist first.
    if awsr cloudwatch describe-alarms --alarm-names "${ALARMS[@]}" --query 'MetricAlarms[].AlarmName' --output text; then
        local -a have=()
        read -r -a have <<<"$(tr '\t\n' '  ' <<<"$AWS_OUT")"
        if [ ${#have[@]} -gt 0 ]; then
            gone_ok "alarms ${have[*]}" cloudwatch delete-alarms --alarm-names "${have[@]}"
        else
            say "alarms: already gone"
        fi
    else
        say "could not list the alarms: $(aws_msg)"
        DESTROY_FAILED=1
    fi
    [ $DESTROY_FAILED = 0 ] || die 1 "destroy left something behind (see above)"
    say "destroyed $NAME in $REGION"
}

main() {
    parse_args "$@"
    local cmd=${POSITIONAL[0]:-}
    case $cmd in
    help) usage; return 0 ;;
    "") usage >&2; exit 2 ;;
    deploy | outputs | logs | invoke | rollback | destroy) ;;
    *) usage >&2; die 2 "unknown command: $cmd" ;;
    esac
    [ "$cmd" = invoke ] || [ ${#POSITIONAL[@]} -le 1 ] || die 2 "$cmd takes no arguments: ${POSITIONAL[*]:1}"
    [ ${#POSITIONAL[@]} -le 2 ] || die 2 "invoke takes one JSON argument"
    resolve_settings
    resolve_region
    start_tmp
    "cmd_$cmd"
}

main "$@"
