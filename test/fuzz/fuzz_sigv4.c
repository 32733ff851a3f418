/* fuzz_sigv4.c: AWS Signature Version 4 (section 8 of mcp.c).
 *
 * The input is METHOD \0 URL \0 HEADERS \0 BODY (missing parts are empty; HEADERS is given
 * to mcp_sigv4_sign as is, "Name: value\r\n" lines or anything else). Fixed credentials
 * and time; each input is signed for a generic service and for S3, with and without a
 * session token and UNSIGNED-PAYLOAD, and presigned. Checked:
 *   - no crash, no leak, on any URL, header block or body;
 *   - the result is NULL exactly when the URL does not parse (url_parse), otherwise header
 *     lines of the documented shape: X-Amz-Date, X-Amz-Content-Sha256 (S3),
 *     X-Amz-Security-Token (with a token), then Authorization with this credential scope,
 *     a sorted list of lower-case signed header names that includes host, and a 64-digit
 *     signature; signing twice gives the same bytes; a different secret changes only the
 *     signature;
 *   - the presigned URL keeps the URL up to its query, carries every X-Amz-* parameter and
 *     ends with the signature; presigning twice gives the same URL; bad expiries are refused;
 *   - canonical_query is deterministic and idempotent (canonicalizing its own output gives
 *     the same bytes), and writes only unreserved characters, %XX, '=' and '&'.
 */
#include "../../mcp.c"
#include "fuzz_common.h"

#define AK "AKIDEXAMPLE"
#define SK "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
#define TOKEN "IQoJb3JpZ2luX2VjEXAMPLETOKEN//////////wEaCXVzLWVhc3QtMSJHMEUCIQ"
#define NOW 1440938160 /* 20150830T123600Z, the date of AWS's test suite */

static int is_hex64(const char *p) {
    for (int i = 0; i < 64; i++) if (!((p[i] >= '0' && p[i] <= '9') || (p[i] >= 'a' && p[i] <= 'f'))) return 0;
    return 1;
}

static void check_canonical(const char *q, size_t n) {
    buf a = {0}, b = {0}, c = {0};
    canonical_query(&a, q, n);
    canonical_query(&b, q, n);
    FUZZ_CHECK(a.len == b.len && !memcmp(a.p ? a.p : "", b.p ? b.p : "", a.len), "canonical_query is not deterministic");
    for (size_t i = 0; i < a.len; i++) {
        char ch = a.p[i];
        int ok = (ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') || ch == '-' ||
                 ch == '_' || ch == '.' || ch == '~' || ch == '=' || ch == '&';
        if (ch == '%') {
            FUZZ_CHECK(i + 2 < a.len && strchr("0123456789ABCDEF", a.p[i + 1]) && strchr("0123456789ABCDEF", a.p[i + 2]) &&
                       a.p[i + 1] && a.p[i + 2], "canonical query: bad escape at %zu: %s", i, fz_show(a.p, a.len));
            i += 2;
            continue;
        }
        FUZZ_CHECK(ok, "canonical query: byte 0x%02x at %zu: %s", (unsigned char)ch, i, fz_show(a.p, a.len));
    }
    canonical_query(&c, a.p ? a.p : "", a.len);
    FUZZ_CHECK(c.len == a.len && !memcmp(c.p ? c.p : "", a.p ? a.p : "", a.len), "canonical_query is not idempotent: %s",
               fz_show(q, n));
    buf_free(&a);
    buf_free(&b);
    buf_free(&c);
}

/* Are the header names mcp_sigv4_sign will sign (lines up to the first without a colon
 * before its CRLF) all tokens? Only then is SignedHeaders a ';' list one can take apart. */
static int names_are_tokens(const char *h) {
    for (const char *p = h; *p;) {
        const char *colon = strchr(p, ':'), *eol = strstr(p, "\r\n");
        if (!colon || !eol || colon > eol) break;
        if (colon == p) return 0;
        for (const char *c = p; c < colon; c++) if (!tchar((unsigned char)*c)) return 0;
        p = eol + 2;
    }
    return 1;
}

/* The lines of a signing result; returns the Authorization line. */
static const char *check_sign_shape(const char *out, const char *service, int token, int tokens, const char *amz) {
    char want[64];
    snprintf(want, sizeof want, "X-Amz-Date: %s\r\n", amz);
    FUZZ_CHECK(!strncmp(out, want, strlen(want)), "first line: %s", fz_show(out, strlen(out)));
    const char *p = out + strlen(want);
    if (!strcmp(service, "s3")) {
        FUZZ_CHECK(!strncmp(p, "X-Amz-Content-Sha256: ", 22), "S3 content hash line");
        p += 22;
        if (!strncmp(p, "UNSIGNED-PAYLOAD\r\n", 18)) p += 18;
        else { FUZZ_CHECK(is_hex64(p) && !strncmp(p + 64, "\r\n", 2), "content hash"); p += 66; }
    }
    if (token) {
        const char *t = "X-Amz-Security-Token: " TOKEN "\r\n";
        FUZZ_CHECK(!strncmp(p, t, strlen(t)), "token line");
        p += strlen(t);
    }
    char cred[160];
    snprintf(cred, sizeof cred, "Authorization: AWS4-HMAC-SHA256 Credential=" AK "/%.8s/us-east-1/%s/aws4_request, SignedHeaders=", amz, service);
    FUZZ_CHECK(!strncmp(p, cred, strlen(cred)), "authorization line: %s", fz_show(p, strlen(p)));
    const char *auth = p;
    p += strlen(cred);
    /* signed header names: sorted, lower case, unique, include host */
    const char *e = strstr(p, ", Signature=");
    FUZZ_CHECK(e != NULL, "no signature");
    int host = 0;
    char prev[80] = "";
    for (const char *q = p; q < e;) {
        const char *sc = memchr(q, ';', (size_t)(e - q));
        size_t l = sc ? (size_t)(sc - q) : (size_t)(e - q);
        char name[80];
        FUZZ_CHECK(l < sizeof name, "signed header name too long");
        memcpy(name, q, l);
        name[l] = 0;
        for (size_t i = 0; i < l; i++) FUZZ_CHECK(!(name[i] >= 'A' && name[i] <= 'Z'), "upper case in a signed header name");
        if (tokens) FUZZ_CHECK(strcmp(prev, name) < 0, "signed header names not sorted and unique: %s", fz_show(p, (size_t)(e - p)));
        if (!strcmp(name, "host")) host = 1;
        snprintf(prev, sizeof prev, "%s", name);
        q += l + (sc ? 1 : 0);
        if (!sc) break;
    }
    FUZZ_CHECK(host, "host is not signed");
    e += strlen(", Signature=");
    FUZZ_CHECK(is_hex64(e) && !strcmp(e + 64, "\r\n"), "signature: %s", fz_show(e, strlen(e)));
    return auth;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    /* METHOD \0 URL \0 HEADERS \0 BODY */
    char *copy = malloc(size + 1);
    memcpy(copy, data, size);
    copy[size] = 0;
    const char *part[3] = {"", "", ""};
    size_t at = 0;
    for (int i = 0; i < 3; i++) {
        part[i] = copy + at;
        size_t l = strlen(copy + at);
        at += l;
        if (at < size) at++; /* past the NUL */
        else { at = size; for (int j = i + 1; j < 3; j++) part[j] = copy + size; break; }
    }
    const char *method = part[0], *url = part[1], *headers = part[2];
    const char *body = copy + at;
    size_t blen = size - at;

    url_parts u;
    int url_ok = url_parse(url, &u) == 0;
    const char *qm = url_ok ? strchr(u.path, '?') : NULL;
    if (qm) check_canonical(qm + 1, strlen(qm + 1));
    check_canonical(headers, strlen(headers)); /* any bytes as a query */

    /* a signing time from the input, years 1 to 9999: the calendar against gmtime_r */
    uint64_t h = 1469598103934665603ull;
    for (size_t i = 0; i < size; i++) h = (h ^ data[i]) * 1099511628211ull;
    int64_t t = (int64_t)(h % (253402300800ull + 62135596800ull)) - 62135596800ll;
    if (!t) t = 1;
    struct tm tm;
    time_t tt = (time_t)t;
    FUZZ_CHECK(gmtime_r(&tt, &tm) != NULL, "gmtime_r");
    utc_time ut = utc_of(t);
    FUZZ_CHECK(ut.year == tm.tm_year + 1900 && ut.mon == tm.tm_mon + 1 && ut.day == tm.tm_mday && ut.hour == tm.tm_hour &&
               ut.min == tm.tm_min && ut.sec == tm.tm_sec, "utc_of(%lld) = %04d-%02d-%02d %02d:%02d:%02d, gmtime_r says "
               "%04d-%02d-%02d %02d:%02d:%02d", (long long)t, ut.year, ut.mon, ut.day, ut.hour, ut.min, ut.sec,
               tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
    char amz_t[32];
    snprintf(amz_t, sizeof amz_t, "%04d%02d%02dT%02d%02d%02dZ", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
             tm.tm_min, tm.tm_sec);

    static const char *const services[] = {"execute-api", "s3", "lambda"};
    for (int v = 0; v < 4; v++) {
        const char *svc = services[v % 3];
        mcp_sigv4 k = {AK, SK, v & 1 ? TOKEN : NULL, "us-east-1", svc, v == 2 ? t : NOW, v == 3};
        char *out = mcp_sigv4_sign(&k, method, url, headers, body, blen);
        FUZZ_CHECK((out != NULL) == url_ok, "sign gave %s for a URL that %s", out ? "a result" : "NULL",
                   url_ok ? "parses" : "does not parse");
        if (!out) continue;
        const char *auth = check_sign_shape(out, svc, v & 1, names_are_tokens(headers), v == 2 ? amz_t : "20150830T123600Z");
        char *again = mcp_sigv4_sign(&k, method, url, headers, body, blen);
        FUZZ_CHECK(again && !strcmp(out, again), "signing is not deterministic");
        free(again);
        mcp_sigv4 k2 = k;
        k2.secret_key = "another secret";
        char *other = mcp_sigv4_sign(&k2, method, url, headers, body, blen);
        size_t upto = (size_t)(strstr(auth, "Signature=") - out) + 10;
        FUZZ_CHECK(other && strlen(other) == strlen(out) && !memcmp(other, out, upto) && strcmp(other, out),
                   "another secret must change the signature and nothing else");
        free(other);
        free(out);
    }

    int expires = size ? (int)(data[size - 1] % 3 == 0 ? 0 : data[size - 1] % 3 == 1 ? 3600 : 604801) : 60;
    for (int v = 0; v < 2; v++) {
        mcp_sigv4 k = {AK, SK, v ? TOKEN : NULL, "eu-west-1", v ? "s3" : "lambda", NOW, 0};
        char *p = mcp_sigv4_presign(&k, method, url, expires);
        int want = url_ok && expires >= 1 && expires <= 604800;
        FUZZ_CHECK((p != NULL) == want, "presign gave %s", p ? "a URL" : "NULL");
        if (!p) continue;
        size_t plen = qm ? (size_t)(qm - url) : strlen(url);
        /* a URL without a path is signed for "/" */
        FUZZ_CHECK(!strncmp(p, url, plen) && (p[plen] == '?' || (!strcmp(u.path, "/") && !strncmp(p + plen, "/?", 2))),
                   "presigned URL does not keep the URL: %s", fz_show(p, strlen(p)));
        FUZZ_CHECK(strstr(p, "X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=" AK "%2F20150830%2Feu-west-1%2F") != NULL,
                   "credential parameter");
        FUZZ_CHECK(strstr(p, "&X-Amz-Date=20150830T123600Z&X-Amz-Expires=") != NULL, "date parameter");
        FUZZ_CHECK(!v || strstr(p, "&X-Amz-Security-Token=") != NULL, "token parameter");
        const char *sig = NULL; /* the last one: the URL may carry one of its own */
        for (const char *q = p; (q = strstr(q, "&X-Amz-Signature=")); q++) sig = q;
        FUZZ_CHECK(sig && is_hex64(sig + 17) && sig[17 + 64] == 0, "signature parameter");
        char *again = mcp_sigv4_presign(&k, method, url, expires);
        FUZZ_CHECK(again && !strcmp(p, again), "presigning is not deterministic");
        free(again);
        free(p);
    }
    free(copy);
    return 0;
}
