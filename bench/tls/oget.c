/* oget.c: the same GETs as get.c through OpenSSL 3 (Debian's libssl), for bench/tls.sh:
 * getaddrinfo, connect, TLS 1.2 (the highest mcp.c speaks), certificate and host name
 * verified against CAFILE, GET, read to the end. The first GET also creates the SSL_CTX
 * and loads CAFILE, as mcp.c's first GET reads SSL_CERT_FILE; later GETs offer the first
 * one's session (resumption), as mcp.c does, unless OGET_NORESUME is set.
 *   oget HOST PORT CAFILE [N] */
#include <netdb.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static SSL_CTX *ctx;
static SSL_SESSION *sess;

static int get(const char *host, const char *port, const char *cafile) {
    if (!ctx) {
        ctx = SSL_CTX_new(TLS_client_method());
        SSL_CTX_set_max_proto_version(ctx, TLS1_2_VERSION);
        SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
        if (SSL_CTX_load_verify_locations(ctx, cafile, NULL) != 1) { fprintf(stderr, "cannot load %s\n", cafile); return 1; }
        SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_CLIENT);
    }
    struct addrinfo hints = {.ai_socktype = SOCK_STREAM}, *ai;
    if (getaddrinfo(host, port, &hints, &ai)) return 1;
    int fd = socket(ai->ai_family, SOCK_STREAM, 0);
    if (connect(fd, ai->ai_addr, ai->ai_addrlen)) { freeaddrinfo(ai); return 1; }
    freeaddrinfo(ai);
    SSL *s = SSL_new(ctx);
    SSL_set_fd(s, fd);
    SSL_set_tlsext_host_name(s, host);
    SSL_set1_host(s, host);
    if (sess && !getenv("OGET_NORESUME")) SSL_set_session(s, sess);
    if (SSL_connect(s) != 1) { ERR_print_errors_fp(stderr); return 1; }
    if (!sess) sess = SSL_get1_session(s);
    char req[512];
    int n = snprintf(req, sizeof req, "GET / HTTP/1.1\r\nHost: %s\r\nUser-Agent: oget\r\n\r\n", host);
    SSL_write(s, req, n);
    char buf[16384];
    size_t got = 0;
    int r;
    while ((r = SSL_read(s, buf, sizeof buf)) > 0) got += (size_t)r;
    int ok = got > 12;
    if (getenv("OGET_VERBOSE")) fprintf(stderr, "oget: %zu bytes, resumed %d, %s\n", got, (int)SSL_session_reused(s), SSL_get_cipher(s));
    SSL_shutdown(s);
    SSL_free(s);
    close(fd);
    return !ok;
}
__attribute__((noinline)) int get_1(const char *h, const char *p, const char *ca) { return get(h, p, ca); }
__attribute__((noinline)) int get_2(const char *h, const char *p, const char *ca) { return get(h, p, ca); }
__attribute__((noinline)) int get_n(const char *h, const char *p, const char *ca) { return get(h, p, ca); }

int main(int argc, char **argv) {
    if (argc < 4) { fprintf(stderr, "usage: oget HOST PORT CAFILE [N]\n"); return 2; }
    int n = argc > 4 ? atoi(argv[4]) : 1, bad = 0;
    for (int i = 0; i < n; i++) bad |= i == 0 ? get_1(argv[1], argv[2], argv[3]) : i == 1 ? get_2(argv[1], argv[2], argv[3]) : get_n(argv[1], argv[2], argv[3]);
    return bad;
}
