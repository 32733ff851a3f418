/* unit_limits.c: the compile-time limits, set small here so each can be crossed: a JSON
 * string longer than MCP_MAX_STRING and nesting deeper than MCP_MAX_DEPTH are parse
 * errors with their own messages, and a request that crosses one gets -32700 naming it. */
#define MCP_MAX_STRING 16
#define MCP_MAX_DEPTH 4
#include "../mcp.c"
#include "t.h"

static void parse_err(const char *name, const char *text, int code, size_t pos, const char *msg) {
    mcp_json_err e;
    mcp_json_doc *d = mcp_json_parse(text, strlen(text), 0, &e);
    char got[160], want[160];
    snprintf(got, sizeof got, "%s %d at %zu: %s", d ? "parsed" : "refused", e.code, e.pos, e.msg ? e.msg : "");
    snprintf(want, sizeof want, "refused %d at %zu: %s", code, pos, msg);
    T_EQ_STR(name, got, want);
    mcp_json_free(d);
}

static void parse_ok(const char *name, const char *text) {
    mcp_json_err e;
    mcp_json_doc *d = mcp_json_parse(text, strlen(text), 0, &e);
    T_OK(name, d != NULL);
    mcp_json_free(d);
}

static int h_echo(mcp_call *c) { return mcp_text(c, "%s", mcp_str(c, "s") ? mcp_str(c, "s") : ""); }

int main(void) {
    parse_ok("a string of exactly MCP_MAX_STRING bytes is accepted", "\"0123456789abcdef\"");
    parse_err("a string one byte over MCP_MAX_STRING is refused at its opening quote", "[\"0123456789abcdefg\"]",
              MCP_JSON_E_STRING, 1, "string longer than the limit (MCP_MAX_STRING)");
    parse_err("a key over MCP_MAX_STRING is refused too", "{\"0123456789abcdefgh\":1}", MCP_JSON_E_STRING, 1,
              "string longer than the limit (MCP_MAX_STRING)");
    parse_err("the limit counts the string as written (escapes included)", "\"\\n\\n\\n\\n\\n\\n\\n\\n\\n\"",
              MCP_JSON_E_STRING, 0, "string longer than the limit (MCP_MAX_STRING)");
    parse_ok("nesting of exactly MCP_MAX_DEPTH is accepted", "[[[[1]]]]");
    parse_err("nesting one over MCP_MAX_DEPTH is refused at the bracket", "[[[[[1]]]]]", MCP_JSON_E_DEPTH, 4, "nesting too deep");

    /* through the HTTP face: a 2026-07-28 tools/call whose argument is too long */
    static mcp_server *s; /* reachable at exit: not a leak */
    s = mcp_server_new("limits", "1");
    mcp_tool(s, "echo", "Echo", "s:string", h_echo);
    static char body[] = "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"tools/call\",\"params\":{\"name\":\"echo\","
                         "\"arguments\":{\"s\":\"this is longer than sixteen\"}}}";
    char buf_body[sizeof body + 1];
    memcpy(buf_body, body, sizeof body);
    hdr h[3] = {{{"content-type", 12}, {"application/json", 16}},
                {{"accept", 6}, {"application/json, text/event-stream", 36}},
                {{"host", 4}, {"localhost", 9}}};
    hreq rq;
    memset(&rq, 0, sizeof rq);
    rq.method.p = "POST"; rq.method.n = 4;
    rq.path.p = "/mcp"; rq.path.n = 4;
    rq.h = h; rq.nh = 3;
    rq.body = buf_body; rq.blen = sizeof body - 1;
    hres rs;
    memset(&rs, 0, sizeof rs);
    req r;
    req_init(&r, s);
    http_route(&r, &rq, &rs);
    T_EQ_INT("a request with a string over the limit: HTTP 400", rs.status, 400);
    T_EQ_STR("... and -32700 naming the limit and where", rs.body.p,
             "{\"jsonrpc\":\"2.0\",\"id\":null,\"error\":{\"code\":-32700,\"message\":\"Parse error: string longer than the limit (MCP_MAX_STRING) at byte 87\"}}");
    buf_free(&rs.head);
    buf_free(&rs.body);
    req_free(&r);
    return t_done();
}
