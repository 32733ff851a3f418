#!/usr/bin/env bash
# test/firstuse.sh: a newcomer's first ten minutes, on a fresh clone, from folders outside it.
#
#   test/firstuse.sh
#
# Clones this repository into an empty temporary folder (the working tree's uncommitted
# changes to tracked files are applied on top, so a run checks what is on disk; untracked
# files are not copied) and checks, each with its exact result:
#   - the clone is self-contained: the fixtures of the tests and benchmarks are in it, no file
#     refers to a folder outside it, no tracked file is over 3 MB;
#   - README "A server": its C code saved as server.c in a folder outside the clone, and the
#     README's commands run there: build.sh called by absolute path, `call` with the outputs the
#     README shows, stdio and serve;
#   - `call`'s exit status: 0 for a result, 1 for an error result, 2 for usage errors, with
#     exactly what goes to stdout and stderr;
#   - build.sh: a relative path from another directory, mcp.h beside the server or only in the
#     clone, mcp.c and mcp.h copied beside the server (that copy is linked), output in the
#     caller's ./build/ and nothing written in the clone, the notice when a bootstrap built from
#     another file is replaced, refusals (missing file, a stray mcp.h that differs);
#   - README's plain compiler line (musl-gcc, BearSSL), with mcp.h beside the server and without;
#   - README's two Lambda invocations (direct, function URL event), their payloads taken from
#     the README's curl commands and sent to the zip's bootstrap through test/lambda/emulator.mjs.
# Prints "ok - ..." / "not ok - ..." per check and "# N passed, M failed"; exits 1 on any failure.
# Needs git, musl-tools, libbearssl-dev, zip, unzip, curl, file, python3 and Node (NODE22 when set).
set -uo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)

PASS=0
FAIL=0
ok() { echo "ok - $1"; PASS=$((PASS + 1)); }
nok() { # nok NAME [DETAIL...]
    echo "not ok - $1"
    shift
    local l
    for l in "$@"; do printf '%s\n' "$l" | sed 's/^/#   /'; done
    FAIL=$((FAIL + 1))
}
same() { # same NAME WANT GOT
    if [ "$2" = "$3" ]; then ok "$1"; else nok "$1" "want: $2" "got:  $3"; fi
}
finish() {
    echo "# $PASS passed, $FAIL failed"
    [ "$FAIL" -eq 0 ]
    exit
}
# capture CMD...: runs CMD; sets OUT (stdout), ERR (stderr) and RC
capture() {
    OUT=$("$@" 2>"$T/stderr")
    RC=$?
    ERR=$(cat "$T/stderr")
}

for tool in git musl-gcc zip unzip curl file python3; do
    command -v "$tool" >/dev/null || { nok "$tool is not installed"; finish; }
done
NODE=${NODE22:-$(command -v node || true)}
[ -n "$NODE" ] || { nok "no Node.js (NODE22 unset, no node on PATH)"; finish; }

T=$(mktemp -d "${TMPDIR:-/tmp}/mcp-firstuse.XXXXXX")
trap 'rm -rf "$T"' EXIT
M=$T/mcp.c # the clone, where a user would have it

# --- the clone ---------------------------------------------------------------------------------
if git clone -q "$ROOT" "$M" 2>"$T/clone.log" && git -C "$M" checkout -q --detach "$(git -C "$ROOT" rev-parse HEAD)"; then
    ok "git clone of the repository into an empty folder"
else
    nok "git clone of the repository" "$(cat "$T/clone.log")"
    finish
fi
git -C "$ROOT" diff HEAD --binary >"$T/wip.patch"
if [ -s "$T/wip.patch" ]; then
    if git -C "$M" apply --whitespace=nowarn "$T/wip.patch" 2>"$T/apply.log"; then
        echo "# the working tree's uncommitted changes applied: $(git -C "$M" diff --name-only | tr '\n' ' ')"
    else
        nok "applying the working tree's uncommitted changes to the clone" "$(cat "$T/apply.log")"
    fi
fi

refs=$(git -C "$M" grep -n -I -E '\.\./shared/|/work/shared' -- . ':!test/firstuse.sh')
same "no file refers to ../shared or /work/shared" "" "$refs"
missing=""
for f in test/data/events/NOTICE test/data/events/lambda-urls-request.json test/data/events/apigw-request.json \
    test/data/events/alb-lambda-target-request-multivalue-headers.json bench/data/json/NOTICE \
    bench/data/json/twitter.json bench/data/json/citm_catalog.json bench/data/json/canada.json; do
    if [ ! -f "$M/$f" ]; then missing="$missing $f"
    elif [ "${f##*.}" = json ] && ! python3 -m json.tool "$M/$f" >/dev/null 2>&1; then missing="$missing $f(not JSON)"; fi
done
same "the fixtures of the tests and benchmarks are in the clone, with their NOTICEs" "" "$missing"
big=$(cd "$M" && git ls-files -z | xargs -0 stat -c '%s %n' | awk '$1 > 3145728')
same "no tracked file is over 3 MB" "" "$big"
same "the clone has no build/ before the first build" "no" "$([ -e "$M/build" ] && echo yes || echo no)"

# README.md's fenced block of language LANG that comes first after the line containing AFTER
block() {
    awk -v after="$1" -v fence="\`\`\`$2" '
        !seen && index($0, after) { seen = 1; next }
        seen && !inb && $0 == fence { inb = 1; next }
        inb && $0 == "```" { exit }
        inb { print }' "$M/README.md"
}

# --- README "A server", in a folder of the user's ------------------------------------------------
A=$T/my-server
mkdir -p "$A"
block '## A server' c >"$A/server.c"
if grep -q '#include "mcp.h"' "$A/server.c" && grep -q 'mcp_main' "$A/server.c"; then ok "README's server code extracted ($(wc -l <"$A/server.c") lines, #include \"mcp.h\")"
else nok "README's server code (the c block after ## A server) not found"; fi
block 'Save it as `server.c`' sh >"$T/commands"
ncalls=0
while IFS= read -r line; do
    cmd=$(printf '%s' "$line" | sed 's/[[:space:]]\{2,\}#.*$//')
    want=$(printf '%s' "$line" | sed -n 's/^.*[[:space:]]\{2,\}# //p')
    cmd=${cmd//\/path\/to\/mcp.c/$M}
    case "$cmd" in
    "cd "*) ;; # we are in the folder already
    "$M/build.sh "*)
        (cd "$A" && capture eval "$cmd" </dev/null && echo "$RC" >"$T/rc" && printf '%s\n' "$OUT" >"$T/out" && printf '%s\n' "$ERR" >"$T/err")
        if [ "$(cat "$T/rc")" = 0 ]; then ok "README: ${line%%  *} in a folder outside the clone"
        else nok "README: ${line%%  *} exited $(cat "$T/rc")" "$(cat "$T/out" "$T/err")"; fi
        for f in ${want//,/ }; do
            if [ -f "$A/$f" ]; then ok "README: $f is there"; else nok "README: no $f in $A after the build"; fi
        done
        same "build.sh writes nothing in the clone (no $M/build)" "no" "$([ -e "$M/build" ] && echo yes || echo no)"
        same "build/bootstrap.source names the file built" "$A/server.c" "$(cat "$A/build/bootstrap.source" 2>/dev/null)"
        same "build.sh's first build says nothing about replacing" "" "$(grep replacing "$T/err")"
        ;;
    "build/server call "*)
        (cd "$A" && capture eval "$cmd" </dev/null && printf '%s\n' "$RC" "$OUT" >"$T/res")
        same "README: ${cmd} prints the output shown, exit 0" "$(printf '%s\n' 0 "$want")" "$(cat "$T/res")"
        ncalls=$((ncalls + 1))
        ;;
    "build/server stdio"*)
        got=$(cd "$A" && printf '%s\n' '{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"t","version":"1"}}}' | timeout 10 build/server stdio)
        same "README: build/server stdio answers initialize" '{"jsonrpc":"2.0","id":1,"result":{"protocolVersion":"2025-11-25","capabilities":{"tools":{"listChanged":true},"logging":{}},"serverInfo":{"name":"hello","version":"1.0.0"}}}' "$got"
        ;;
    "build/server serve --listen 127.0.0.1:"*)
        port=$((20000 + RANDOM % 20000))
        # shellcheck disable=SC2086 # the README's words
        (cd "$A" && exec ${cmd%:*}:$port) </dev/null 2>"$T/serve.err" &
        spid=$!
        got=""
        for _ in $(seq 50); do
            got=$(curl -s -m 5 "http://127.0.0.1:$port/mcp" -H 'content-type: application/json' -H 'accept: application/json, text/event-stream' \
                -d '{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"t","version":"1"}}}') && break
            sleep 0.1
        done
        kill "$spid" 2>/dev/null
        wait "$spid" 2>/dev/null
        same "README: build/server serve --listen answers initialize on POST /mcp" '{"jsonrpc":"2.0","id":1,"result":{"protocolVersion":"2025-11-25","capabilities":{"tools":{"listChanged":false},"logging":{}},"serverInfo":{"name":"hello","version":"1.0.0"}}}' "$got"
        ;;
    *) nok "README: a command this test does not know how to check: $line" ;;
    esac
done <"$T/commands"
if [ $ncalls -ge 1 ]; then ok "README: $ncalls call command(s) checked"; else nok "README: no 'build/server call' command with its output found"; fi

# --- call's exit status ----------------------------------------------------------------------------
cd "$A" || finish
check_call() { # check_call NAME RC STDOUT STDERR ARGS...
    local name=$1 rc=$2 out=$3 err=$4
    shift 4
    capture build/server call "$@"
    same "call $name: exit $rc, stdout and stderr exact" "$(printf '%s|%s|%s' "$rc" "$out" "$err")" "$(printf '%s|%s|%s' "$RC" "$OUT" "$ERR")"
}
check_call "greet (no arguments)" 0 '{"content":[{"type":"text","text":"Hello, world!"}]}' "" greet
check_call "add with a string (an error result)" 1 '{"content":[{"type":"text","text":"Invalid arguments for tool add: a: expected number, got string"}],"isError":true}' "" add '{"a":"x","b":1}'
check_call "add with b missing (an error result)" 1 '{"content":[{"type":"text","text":"Invalid arguments for tool add: b: required property is missing"}],"isError":true}' "" add '{"a":2}'
check_call "of an unknown tool (usage)" 2 "" "mcp: call: no tool named nope" nope '{}'
check_call "with arguments that are not JSON (usage)" 2 "" "mcp: call: the arguments are not valid JSON" add '{bad'
check_call "with no tool (usage)" 2 "" "mcp: usage: build/server call TOOL ['JSON-ARGS']"
check_call "with too many words (usage)" 2 "" "mcp: usage: build/server call TOOL ['JSON-ARGS']" add '{}' extra

# --- README's Lambda invocations, through this project's Runtime API emulator ----------------------
capture eval "$(block 'Trying the Lambda package locally' sh | grep '^unzip ')"
same "README: unzip of build/bootstrap.zip gives build/task/bootstrap, the server" "0 same" "$RC $(cmp -s build/task/bootstrap build/server && echo same)"
# shellcheck disable=SC2317 # called through eval
curl() { # stands in for the README's curl: prints the event it would send, on one line
    local d=""
    while [ $# -gt 0 ]; do case $1 in -d) d=$2; shift 2 ;; *) shift ;; esac; done
    printf '%s' "$d" | python3 -c 'import json, sys; print(json.dumps(json.loads(sys.stdin.read()), separators=(",", ":")))'
}
block 'Then, from another terminal' sh >"$T/rie"
: >"$T/events"
: >"$T/expected"
cmd=""
while IFS= read -r line; do
    case "$line" in
    "# "*)
        [ -n "$cmd" ] || continue
        eval "$cmd" >>"$T/events" || nok "README: the curl command does not parse: $cmd"
        printf '%s\n' "${line#\# }" >>"$T/expected"
        cmd=""
        ;;
    *) cmd="$cmd$line"$'\n' ;;
    esac
done <"$T/rie"
unset -f curl
same "README: two curl invocations, each followed by its result" "2 2" "$(wc -l <"$T/events") $(wc -l <"$T/expected")"
timeout 60 "$NODE" "$M/test/lambda/emulator.mjs" -- "$A/build/task/bootstrap" <"$T/events" >"$T/results" 2>"$T/emulator.log"
i=0
while IFS= read -r want; do
    i=$((i + 1))
    got=$(sed -n "${i}p" "$T/results" | "$NODE" -e '
        let s = ""; process.stdin.on("data", (d) => (s += d)).on("end", () => {
          const r = JSON.parse(s || "null");
          process.stdout.write(r && r.kind === "response" ? JSON.stringify(r.result) : "the invocation ended as " + JSON.stringify(r));
        });')
    sid=$(printf '%s' "$got" | sed -n 's/.*"Mcp-Session-Id":"\([^"]*\)".*/\1/p')
    if [ -n "$sid" ]; then
        if [[ $sid =~ ^e3-[0-9a-f]{32}$ ]]; then ok "README: invocation $i: Mcp-Session-Id $sid"; else nok "README: invocation $i: Mcp-Session-Id $sid"; fi
        got=${got//"$sid"/e3-…}
    fi
    same "README: invocation $i ($(sed -n "${i}p" "$T/events" | cut -c1-40)...) gets exactly the result shown" "$want" "$got"
done <"$T/expected"

# --- build.sh from elsewhere, mcp.h beside the server, the bootstrap notice -------------------------
B=$T/beside
mkdir -p "$B"
cp "$A/server.c" "$M/mcp.h" "$B/"
cd "$T" || finish
capture "$M/build.sh" beside/server.c
same "build.sh beside/server.c from the folder above (relative path, mcp.h beside the server): exit 0" "0" "$RC"
same "  ... output in that folder's build/: build/server call add" '{"content":[{"type":"text","text":"5"}]}' "$(build/server call add '{"a":2,"b":3}')"

cd "$A" || finish
sed 's/mcp_server_new("hello"/mcp_server_new("other"/' server.c >other.c
capture "$M/build.sh" other.c
same "build.sh other.c after server.c: exit 0, and says that it replaces the bootstrap" \
    "0|build.sh: replacing build/bootstrap, built from $A/server.c, with other ($A/other.c)" "$RC|$ERR"
same "  ... build/bootstrap is now other" "other 1.0.0" "$(build/bootstrap --version | cut -d' ' -f1,2)"
same "  ... and build/bootstrap.zip holds it" "same" "$(unzip -p build/bootstrap.zip bootstrap | cmp -s - build/other && echo same)"

V=$T/vendored
mkdir -p "$V"
{ cat "$M/mcp.h"; echo 'int mcp_vendored(void);'; } >"$V/mcp.h"
{ cat "$M/mcp.c"; echo 'int mcp_vendored(void) { return 42; }'; } >"$V/mcp.c"
cat >"$V/vend.c" <<'EOF'
#include "mcp.h"
static int answer(mcp_call *c) { return mcp_text(c, "%d", mcp_vendored()); }
int main(int argc, char **argv) {
    mcp_server *s = mcp_server_new("vend", "1.0.0");
    mcp_tool(s, "answer", "The vendored copy's answer", "", answer);
    return mcp_main(s, argc, argv);
}
EOF
cd "$V" || finish
capture "$M/build.sh" vend.c
same "build.sh with mcp.c and mcp.h copied beside the server links that copy: exit 0" "0" "$RC"
same "  ... build/vend call answer" '{"content":[{"type":"text","text":"42"}]}' "$(build/vend call answer 2>&1)"

cd "$T" || finish
capture "$M/build.sh" nope.c
same "build.sh nope.c: exit 2, says so" "2|build.sh: no such file: nope.c" "$RC|$ERR"
D=$T/stray
mkdir -p "$D"
cp "$A/server.c" "$D/"
{ cat "$M/mcp.h"; echo '/* another version */'; } >"$D/mcp.h"
capture "$M/build.sh" stray/server.c
same "build.sh refuses a server whose mcp.h differs from the clone's, with no mcp.c beside it" \
    "2|build.sh: $D/mcp.h differs from $M/mcp.h and has no mcp.c beside it; put the matching mcp.c there or remove it" "$RC|$ERR"
capture "$M/build.sh" "$M/mcp.c"
same "build.sh refuses to build mcp.c as a server" "2|build.sh: $M/mcp.c is the runtime itself; build the server that includes mcp.h" "$RC|$ERR"
same "none of this wrote in the clone" "no" "$([ -e "$M/build" ] && echo yes || echo no)"

# --- README's plain compiler line -------------------------------------------------------------------
line=$(block 'Without build.sh' sh | sed 's/[[:space:]]*\\$//' | tr '\n' ' ')
case "$line" in musl-gcc*) ok "README: the compiler line: ${line:0:60}..." ;; *) nok "README: no musl-gcc line after 'Without build.sh'" "$line" ;; esac
line=${line//\/path\/to\/mcp.c/$M}
for dir in "$A" "$B"; do
    cd "$dir" || finish
    rm -f server
    capture eval "$line"
    what="mcp.h only in the clone"
    [ -f mcp.h ] && what="mcp.h beside the server"
    same "README's compiler line ($what): exit 0, no output" "0||" "$RC|$OUT|$ERR"
    same "  ... ./server call add" '{"content":[{"type":"text","text":"5"}]}' "$(./server call add '{"a":2,"b":3}' 2>&1)"
    same "  ... ./server is static" "yes" "$(file server | grep -q 'statically linked' && echo yes || echo no)"
done

finish
