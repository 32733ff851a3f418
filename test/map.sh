#!/usr/bin/env bash
# test/map.sh: mcp.c's table of contents lists exactly its section banners, in order and
# with the same names, and no section is longer than 800 lines.
set -uo pipefail
cd "$(dirname "$0")/.."
toc=$(sed -n '/^ \* Contents/,/^ \*$/p' mcp.c | sed -n 's/^ \* *\([0-9][0-9]*\)\. \(.*[^ ]\)  .*$/\1. \2/p' | sed 's/ *$//')
banners=$(sed -n 's/^\/\*=== MARK: - \([0-9][0-9]*\. [^(]*[^ (]\) *(.*$/\1/p' mcp.c)
nb=$(grep -c '^/\*=== MARK' mcp.c)
if [ "$toc" = "$banners" ] && [ -n "$toc" ]; then echo "ok - the table of contents lists the $nb banners in order"
else echo "not ok - the table of contents and the banners differ:"; diff <(echo "$toc") <(echo "$banners") | sed 's/^/# /'; fi
if [ "$(echo "$banners" | wc -l)" -eq "$nb" ]; then echo "ok - every banner is numbered and named"
else echo "not ok - $nb banners, $(echo "$banners" | wc -l) of them numbered and named"; fi
total=$(wc -l <mcp.c)
grep -n '^/\*=== MARK' mcp.c | cut -d: -f1 | { prev=; pname=; bad=0
    while read -r n; do
        [ -n "$prev" ] && [ $((n - prev)) -gt 800 ] && { echo "# section at line $prev is $((n - prev)) lines"; bad=1; }
        prev=$n
    done
    [ $((total - prev)) -gt 800 ] && { echo "# the last section is $((total - prev)) lines"; bad=1; }
    if [ $bad = 0 ]; then echo "ok - every section is at most 800 lines"; else echo "not ok - a section is longer than 800 lines"; fi; }
