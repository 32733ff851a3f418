# test/deploy/moto_lib.sh: sourced by the tests that run against moto's server (moto.sh,
# terraform.sh). Starts moto on a free loopback port, points the real AWS CLI at it, and
# cleans up at exit. Sets WORK (a temporary directory), MOTO_URL, AWS_REAL (the CLI itself,
# not a version manager's shim), and puts a logging wrapper of the CLI first on PATH
# ($WORK/aws.log, one shell-quoted argv a line).
#
# The caller defines ok/not_ok/skip_all before sourcing, and sets ROOT.

PY=${PY:-python3}
# the interpreter itself: a version manager's shim (pyenv's) costs most of a second a call
PY=$("$PY" -c 'import sys; print(sys.executable)' 2>/dev/null || printf '%s' "$PY")
MOTO_PID=""
moto_cleanup() {
    [ -z "$MOTO_PID" ] || kill "$MOTO_PID" 2>/dev/null
    [ -z "${CLI_SERVER_PID:-}" ] || kill "$CLI_SERVER_PID" 2>/dev/null
    [ -z "${SERVER_PID:-}" ] || kill "$SERVER_PID" 2>/dev/null
    [ -z "${TF_PROVIDER_PID:-}" ] || kill "$TF_PROVIDER_PID" 2>/dev/null
    wait 2>/dev/null
    [ -z "${WORK:-}" ] || rm -rf "$WORK"
}
trap moto_cleanup EXIT

"$PY" -c 'import moto.server' 2>/dev/null ||
    skip_all "moto's server is not installed (pip install 'moto[server]'): nothing here runs without it"
command -v aws >/dev/null 2>&1 || skip_all "the AWS CLI is not installed (no aws on PATH)"
# the CLI itself, not pyenv's shim, which costs half a second a call
AWS_REAL=$(command -v aws)
if command -v pyenv >/dev/null 2>&1 && pyenv which aws >/dev/null 2>&1; then AWS_REAL=$(pyenv which aws); fi

free_port() { "$PY" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }

WORK=$(mktemp -d)
mkdir -p "$WORK/bin" "$WORK/tmp"
MOTO_PORT=$(free_port)
MOTO_URL=http://127.0.0.1:$MOTO_PORT
"$PY" -m moto.server -H 127.0.0.1 -p "$MOTO_PORT" >"$WORK/moto.log" 2>&1 &
MOTO_PID=$!
for _ in $(seq 1 100); do
    curl -s -o /dev/null "$MOTO_URL/moto-api/" && break
    sleep 0.1
done
curl -s -o /dev/null "$MOTO_URL/moto-api/" || { not_ok "moto server" "did not start: $(tail -n 5 "$WORK/moto.log")"; exit 1; }

# The CLI at moto, with made-up credentials and no profile of this machine's user.
export AWS_ENDPOINT_URL=$MOTO_URL AWS_ACCESS_KEY_ID=testing AWS_SECRET_ACCESS_KEY=testing AWS_DEFAULT_REGION=us-east-1
export AWS_CONFIG_FILE=$WORK/aws-config AWS_SHARED_CREDENTIALS_FILE=$WORK/aws-credentials AWS_PAGER=""
unset AWS_PROFILE AWS_REGION AWS_SESSION_TOKEN MCP_DEPLOY_ZIP
: >"$AWS_CONFIG_FILE"
: >"$AWS_SHARED_CREDENTIALS_FILE"
export TMPDIR=$WORK/tmp MCP_DEPLOY_RETRY_SLEEP=0

# aws on PATH: log the call, then the real CLI. A CLI v1 (awscli in a Python) runs through
# cli_server.py: the same CLI code, started once and forked for each call.
CLI_PY=$(head -n 1 "$AWS_REAL" | sed -n 's/^#! *//p')
CLI_PY=${CLI_PY%% *}
RUN_CLI="exec '$AWS_REAL' \"\$@\""
if [ -n "$CLI_PY" ] && [ -x "$CLI_PY" ] && "$CLI_PY" -c 'import awscli.clidriver' 2>/dev/null; then
    "$CLI_PY" "$ROOT/test/deploy/cli_server.py" serve "$WORK/cli.sock" 2>"$WORK/cli_server.log" &
    CLI_SERVER_PID=$!
    for _ in $(seq 1 100); do [ -S "$WORK/cli.sock" ] && break; sleep 0.1; done
    [ -S "$WORK/cli.sock" ] && RUN_CLI="exec '$CLI_PY' -S '$ROOT/test/deploy/cli_server.py' call '$WORK/cli.sock' \"\$@\""
fi
# moto has no provisioned concurrency (its server answers 404): the wrapper answers as Lambda does
# for an alias without any; test/deploy/test.sh's stand-in covers putting and removing it.
cat >"$WORK/bin/aws" <<EOF
#!/usr/bin/env bash
[ -n "\${AWS_LOG_OFF:-}" ] || { printf 'aws'; printf ' %q' "\$@"; printf '\n'; } >>"$WORK/aws.log"
if [ "\$1 \$2" = "lambda get-provisioned-concurrency-config" ]; then
    printf '\nAn error occurred (ProvisionedConcurrencyConfigNotFoundException) when calling the GetProvisionedConcurrencyConfig operation: No Provisioned Concurrency Config found for this function\n' >&2
    exit 254
fi
$RUN_CLI
EOF
chmod +x "$WORK/bin/aws"
export PATH="$WORK/bin:$PATH"
: >"$WORK/aws.log"

moto_reset() { curl -s -X POST -o /dev/null "$MOTO_URL/moto-api/reset"; }

# q ARGS...: the CLI, unlogged, text output (for reading state back)
q() { AWS_LOG_OFF=1 aws "$@" --output text 2>&1; }
