/* hello.c: the smallest useful MCP server on mcp.c.
 *   ./build.sh && build/hello serve        (or: stdio, call add '{"a":1,"b":2}')  */
#include "../mcp.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>

static int add(mcp_call *c) {
    return mcp_text(c, "%g", mcp_num(c, "a") + mcp_num(c, "b"));
}

static int greet(mcp_call *c) {
    const char *name = mcp_str(c, "name");
    return mcp_text(c, "Hello, %s!", name ? name : "world");
}

static int readme(mcp_call *c) {
    return mcp_text(c, "hello is a demo server: tools add and greet, this resource, one prompt.");
}

static int user_profile(mcp_call *c) {
    const char *id = mcp_str(c, "id");
    for (const char *p = id; *p; p++)
        if (!isalnum((unsigned char)*p)) return mcp_fail(c, -32602, "user ids are letters and digits");
    return mcp_text(c, "{\"user\":\"%s\"}", id);
}

static int review(mcp_call *c) {
    return mcp_text(c, "Please review this %s code:\n%s",
                    mcp_has(c, "language") ? mcp_str(c, "language") : "", mcp_str(c, "code"));
}

int main(int argc, char **argv) {
    mcp_server *s = mcp_server_new("hello", "1.0.0");
    mcp_tool(s, "add", "Add two numbers", "a:number b:number", add);
    mcp_tool(s, "greet", "Greet someone by name", "name:string?", greet);
    mcp_resource(s, "hello://readme", "readme", "What this server offers", "text/plain", readme);
    mcp_resource_template(s, "hello://users/{id}", "user", "A user's profile", "application/json", user_profile);
    mcp_prompt(s, "review", "Ask for a code review", "code language?", review);
    return mcp_main(s, argc, argv);
}
