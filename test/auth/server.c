/* server.c: a test-only MCP server for test/auth/run.sh. Its tools make the caller's identity
 * observable (mcp_auth) and need scopes (mcp_tool_scopes):
 *   whoami            {"kind","principal","scope","email","tenant","iss"} as JSON text (null when unset)
 *   admin             needs scope "admin"; answers "admin ok PRINCIPAL"
 *   files             needs scopes "files:read files:write"; answers "files ok"
 *   flood {count,size} sends count log notifications of size bytes each (an SSE stream when the
 *                     request's _meta asks for a log level), then answers "flooded"
 * Built by test/auth/run.sh:
 *   gcc -std=c11 -g -fsanitize=address,undefined -o X test/auth/server.c mcp.c -lbearssl -lm -lpthread */
#include "../../mcp.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Append s as a JSON string (or null) to out[*at..n). */
static void put_json(char *out, size_t n, size_t *at, const char *key, const char *s) {
    if (*at + 8 + strlen(key) >= n) return;
    *at += (size_t)snprintf(out + *at, n - *at, "%s\"%s\":", *at > 1 ? "," : "", key);
    if (!s) {
        if (*at + 5 < n) *at += (size_t)snprintf(out + *at, n - *at, "null");
        return;
    }
    if (*at + 1 < n) out[(*at)++] = '"';
    for (const unsigned char *p = (const unsigned char *)s; *p && *at + 8 < n; p++) {
        if (*p == '"' || *p == '\\') { out[(*at)++] = '\\'; out[(*at)++] = (char)*p; }
        else if (*p < 0x20) *at += (size_t)snprintf(out + *at, n - *at, "\\u%04x", *p);
        else out[(*at)++] = (char)*p;
    }
    if (*at + 1 < n) out[(*at)++] = '"';
    out[*at] = 0;
}

static int whoami(mcp_call *c) {
    char out[4096] = "{";
    size_t at = 1;
    static const char *const keys[] = {"kind", "principal", "scope", "email", "tenant", "iss"};
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++) put_json(out, sizeof out - 2, &at, keys[i], mcp_auth(c, keys[i]));
    out[at++] = '}';
    out[at] = 0;
    return mcp_textn(c, out, at);
}

static int admin(mcp_call *c) {
    const char *p = mcp_auth(c, "principal");
    return mcp_text(c, "admin ok %s", p ? p : "(none)");
}

static int files(mcp_call *c) {
    return mcp_text(c, "files ok");
}

static int flood(mcp_call *c) {
    int64_t count = mcp_has(c, "count") ? mcp_int(c, "count") : 100, size = mcp_has(c, "size") ? mcp_int(c, "size") : 1000;
    if (count < 0 || count > 100000 || size < 1 || size > 1000000) return mcp_fail(c, -32602, "count 0..100000, size 1..1000000");
    char *pad = malloc((size_t)size + 1);
    if (!pad) return mcp_fail(c, -32603, "out of memory");
    memset(pad, 'x', (size_t)size);
    pad[size] = 0;
    int64_t sent = 0;
    for (; sent < count; sent++)
        if (mcp_log(c, "info", "%s", pad)) break; /* the client went away */
    free(pad);
    return mcp_text(c, "flooded %lld", (long long)sent);
}

int main(int argc, char **argv) {
    mcp_server *s = mcp_server_new("authtest", "1.0.0");
    mcp_tool(s, "whoami", "Who is calling", "{\"type\":\"object\"}", whoami);
    mcp_tool_scopes(mcp_tool(s, "admin", "Needs scope admin", "{\"type\":\"object\"}", admin), "admin");
    mcp_tool_scopes(mcp_tool(s, "files", "Needs two scopes", "{\"type\":\"object\"}", files), "files:read files:write");
    mcp_tool(s, "flood", "Many log notifications", "count:integer? size:integer?", flood);
    return mcp_main(s, argc, argv);
}
