/* sigv4_tool: mcp.c's SigV4 for one request, for test/aws/sigv4.py to compare with botocore.
 *   sigv4_tool sign METHOD URL SERVICE REGION EPOCH HEADERS BODY [unsigned]
 *   sigv4_tool presign METHOD URL SERVICE REGION EPOCH EXPIRES
 * HEADERS are "Name: value" lines joined by \n. Credentials come from the environment. */
#include "../../mcp.c"

int main(int argc, char **argv) {
    if (argc < 7) return 2;
    mcp_sigv4 k;
    memset(&k, 0, sizeof k);
    k.service = argv[4];
    k.region = argv[5];
    k.now = strtoll(argv[6], NULL, 10);
    if (!strcmp(argv[1], "presign")) {
        char *u = mcp_sigv4_presign(&k, argv[2], argv[3], atoi(argv[7]));
        if (!u) return 1;
        printf("%s\n", u);
        free(u);
        return 0;
    }
    if (argc < 9) return 2;
    k.unsigned_payload = argc > 9 && !strcmp(argv[9], "unsigned");
    buf h = {0};
    for (const char *p = argv[7]; *p;) {
        const char *nl = strchr(p, '\n');
        size_t n = nl ? (size_t)(nl - p) : strlen(p);
        if (n) { buf_put(&h, p, n); buf_puts(&h, "\r\n"); }
        p += n + (nl != NULL);
    }
    char *out = mcp_sigv4_sign(&k, argv[2], argv[3], h.p ? h.p : "", argv[8], strlen(argv[8]));
    buf_free(&h);
    if (!out) return 1;
    fputs(out, stdout);
    free(out);
    return 0;
}
