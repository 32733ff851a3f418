/* rpc1.h: one JSON-RPC message through the runtime's plain loop, for the C tests that
 * include mcp.c (include this after it). */
#ifndef RPC1_H
#define RPC1_H

/* The answer to msg (2025-11-25 unless the message says otherwise), malloc'ed. */
static char *rpc1(mcp_server *s, const char *msg) {
    mcp_json_err e;
    mcp_json_doc *d = mcp_json_parse(msg, strlen(msg), 0, &e);
    req r;
    req_init(&r, s);
    buf out = {0};
    rpc_serve_plain(&r, mcp_json_root(d), &out);
    req_free(&r);
    mcp_json_free(d);
    return out.p;
}
#endif
