/* server.c: a server with one slow tool, for test/shutdown/run.sh. */
#define _POSIX_C_SOURCE 200809L
#include "../../mcp.h"

#include <time.h>

static int nap(mcp_call *c) {
    long ms = (long)mcp_int(c, "ms");
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
    return mcp_text(c, "slept %ld ms", ms);
}

int main(int argc, char **argv) {
    mcp_server *s = mcp_server_new("shutdown-test", "1.0.0");
    mcp_tool(s, "nap", "Sleep ms milliseconds", "ms:integer", nap);
    return mcp_main(s, argc, argv);
}
