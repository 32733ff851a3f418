/* get.c: HTTPS GETs through mcp_http_do, for bench/tls.sh. Each GET is its own function so
 * callgrind can count one of them alone (--toggle-collect=get_1 or get_2).
 *   get URL [N [URL2]]   N GETs of URL (default 1), each on a new connection when the server
 *                        closes; URL2, when given, for the second and later ones
 * Exits 1 unless every GET answers 200. */
#include "../../mcp.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int get(const char *url) {
    mcp_http_request rq = {.url = url, .timeout_ms = 5000};
    mcp_http_response rs;
    int rc = mcp_http_do(&rq, &rs);
    if (rc || rs.status != 200) fprintf(stderr, "get %s: %s (status %d)\n", url, rc ? rs.error : "bad status", rs.status);
    rc = rc || rs.status != 200;
    mcp_http_free(&rs);
    return rc;
}
__attribute__((noinline)) int get_1(const char *url) { return get(url); }
__attribute__((noinline)) int get_2(const char *url) { return get(url); }
__attribute__((noinline)) int get_n(const char *url) { return get(url); }

int main(int argc, char **argv) {
    if (argc < 2) { fprintf(stderr, "usage: get URL [N [URL2]]\n"); return 2; }
    int n = argc > 2 ? atoi(argv[2]) : 1, bad = 0;
    const char *u2 = argc > 3 ? argv[3] : argv[1];
    for (int i = 0; i < n; i++) bad |= i == 0 ? get_1(argv[1]) : i == 1 ? get_2(u2) : get_n(u2);
    return bad;
}
