/* fetch.c: a test-only MCP server with one tool, fetch {url, method?, body?, headers?, max?},
 * that makes one request with mcp_http_do and answers "HTTP <status>\n<body>" (isError with
 * mcp_http_do's error when no response arrived). Built by test/outbound/run.sh. */
#include "../../mcp.h"

#include <stdio.h>
#include <string.h>

static int fetch(mcp_call *c) {
    const char *body = mcp_str(c, "body");
    mcp_http_request rq = {.method = mcp_str(c, "method"), .url = mcp_str(c, "url"), .headers = mcp_str(c, "headers"),
                           .body = body, .body_len = body ? strlen(body) : 0, .timeout_ms = 5000,
                           .max_response = (size_t)mcp_int(c, "max")};
    mcp_http_response rs;
    if (mcp_http_do(&rq, &rs)) mcp_error(c, "%s", rs.error);
    else mcp_text(c, "HTTP %d\n%s", rs.status, rs.body);
    mcp_http_free(&rs);
    return 0;
}

int main(int argc, char **argv) {
    mcp_server *s = mcp_server_new("fetch", "1.0.0");
    mcp_tool(s, "fetch", "Fetch a URL", "url:string method:string? body:string? headers:string? max:integer?", fetch);
    return mcp_main(s, argc, argv);
}
