/* fuzz_jwt.c: authentication (the Authentication section of mcp.c): bearer tokens, JWT
 * verification (jwt_verify), API keys, per-tool scopes, the 401/403 answers of http_route.
 *
 * Configuration: MCP_API_KEYS, MCP_JWT_ISSUER, MCP_JWT_AUDIENCE, MCP_JWT_HS256_SECRET, and a
 * JWKS holding an RSA key ("rsa1") and a P-256 key ("ec1") generated at start (the JWKS URL
 * points at a closed local port, so a refetch fails at once instead of going out).
 *
 * Input, by its first byte:
 *   'H', 'E', 'S'  HEADER-JSON '\n' PAYLOAD-JSON, made into a JWT signed with the HS256
 *                  secret, the EC key or the RSA key (whatever alg the header claims, so
 *                  algorithm confusion is tried too);
 *   'G'            PATTERN '\n' TEXT: glob_match (IAM allow-lists) against a reference;
 *   anything else  the rest is the bearer token as is.
 * Checked:
 *   - jwt_verify accepts exactly the tokens that are signed with the key of their alg (kid
 *     absent or matching), not alg none, whose payload is an object and whose exp, nbf, iss
 *     and aud pass (leeway 60 s, computed without overflow, strings compared by length);
 *     when it refuses it says why, and keeps no claims;
 *   - routed as "Authorization: Bearer ..." to POST /mcp (a 2026-07-28 tools/call of a tool
 *     with scopes, or of one that reads mcp_auth): 401 unless the token is a key or a valid
 *     JWT, never 200 for a token lacking a scope the tool needs, and the answer well formed:
 *     no CR/LF from the token in any header line (WWW-Authenticate quotes the reason).
 */
#include "../../mcp.c"
#include "fuzz_common.h"
#include "fuzz_server.h"

#define HS_SECRET "fuzz hs256 secret"
#define ISS "https://issuer.example"
#define AUD "mcp"

static mcp_server *srv;
static req ar; /* the request context every input is served with */
static br_rsa_private_key rsa_sk;
static unsigned char rsa_priv[BR_RSA_KBUF_PRIV_SIZE(1024)], rsa_pub[BR_RSA_KBUF_PUB_SIZE(1024)];
static br_ec_private_key ec_sk;
static unsigned char ec_x[32];

int LLVMFuzzerInitialize(int *argc, char ***argv) {
    (void)argc; (void)argv;
    setenv("MCP_STATE_KEY", "fuzz state key", 1);
    setenv("MCP_API_KEYS", "key-one, key-two", 1);
    setenv("MCP_JWT_ISSUER", ISS, 1);
    setenv("MCP_JWT_AUDIENCE", AUD, 1);
    setenv("MCP_JWT_HS256_SECRET", HS_SECRET, 1);
    setenv("MCP_JWT_JWKS_URL", "http://127.0.0.1:1/jwks.json", 1);
    setenv("MCP_JWT_LEEWAY", "60", 1);
    unsetenv("MCP_IAM_ALLOW");
    unsetenv("MCP_CORS_ORIGINS");
    http_conf_load();
    unsetenv("MCP_OAUTH_RESOURCE");
    srv = fz_server(1);
    req_init(&ar, srv);
    pthread_once(&auth_once, auth_setup);

    /* keys: deterministic, from a fixed DRBG seed */
    br_hmac_drbg_context rng;
    br_hmac_drbg_init(&rng, &br_sha256_vtable, "fuzz keys", 9);
    br_rsa_public_key pk;
    if (!br_rsa_keygen_get_default()(&rng.vtable, &rsa_sk, rsa_priv, &pk, rsa_pub, 1024, 65537)) abort();
    jwk j;
    memset(&j, 0, sizeof j);
    snprintf(j.kid, sizeof j.kid, "rsa1");
    j.kty = BR_KEYTYPE_RSA;
    j.n = memdup(pk.n, pk.nlen); j.nl = pk.nlen;
    j.e = memdup(pk.e, pk.elen); j.el = pk.elen;
    GROW(authc.jwks, authc.njwks);
    authc.jwks[authc.njwks++] = j;
    br_hmac_drbg_generate(&rng, ec_x, sizeof ec_x);
    ec_x[0] &= 0x7f; /* below the group order */
    ec_sk.curve = BR_EC_secp256r1;
    ec_sk.x = ec_x;
    ec_sk.xlen = sizeof ec_x;
    br_ec_public_key epk;
    memset(&j, 0, sizeof j);
    snprintf(j.kid, sizeof j.kid, "ec1");
    j.kty = BR_KEYTYPE_EC;
    if (br_ec_compute_pub(br_ec_get_default(), &epk, j.q, &ec_sk) != 65) abort();
    GROW(authc.jwks, authc.njwks);
    authc.jwks[authc.njwks++] = j;
    authc.jwks_at = now_ms();
    return 0;
}

static void b64url(buf *b, const void *p, size_t n) {
    size_t at = b->len;
    base64_put(b, p, n);
    for (size_t i = at; i < b->len; i++) b->p[i] = b->p[i] == '+' ? '-' : b->p[i] == '/' ? '_' : b->p[i];
    while (b->len > at && b->p[b->len - 1] == '=') b->p[--b->len] = 0;
}

/* HEADER.PAYLOAD signed by mode. */
static char *make_token(int mode, const char *h, size_t hn, const char *p, size_t pn, size_t *len) {
    buf t = {0};
    b64url(&t, h, hn);
    buf_putc(&t, '.');
    b64url(&t, p, pn);
    size_t signing = t.len;
    buf_putc(&t, '.');
    unsigned char sig[256], hash[32];
    size_t sl = 0;
    sha256_ctx c;
    sha256_init(&c);
    sha256_update(&c, t.p, signing);
    sha256_final(&c, hash);
    if (mode == 'H') { hmac_sha256(HS_SECRET, strlen(HS_SECRET), t.p, signing, sig); sl = 32; }
    else if (mode == 'E') sl = br_ecdsa_i31_sign_raw(br_ec_get_default(), &br_sha256_vtable, hash, &ec_sk, sig);
    else if (mode == 'S') { if (br_rsa_pkcs1_sign_get_default()(BR_HASH_OID_SHA256, hash, 32, &rsa_sk, sig)) sl = (rsa_sk.n_bitlen + 7) / 8; }
    FUZZ_CHECK(sl > 0, "signing failed");
    b64url(&t, sig, sl);
    *len = t.len;
    return t.p;
}

static int str_is(const mcp_json *v, const char *s) {
    return MCP_JSON_TYPE(v) == MCP_JSON_STRING && v->len == strlen(s) && !memcmp(v->s, s, v->len);
}

/* The claims a valid token needs, exactly (no overflow, strings by length). */
static int claims_ok(const mcp_json *c, int64_t now) {
    const mcp_json *v;
    int64_t t;
    if (!(v = mcp_json_get(c, "exp")) || !mcp_json_int(v, &t) || (__int128)now > (__int128)t + 60) return 0; /* exp required */
    if ((v = mcp_json_get(c, "nbf")) && (!mcp_json_int(v, &t) || (__int128)now + 60 < (__int128)t)) return 0;
    if (!str_is(mcp_json_get(c, "iss"), ISS)) return 0;
    const mcp_json *au = mcp_json_get(c, "aud");
    int match = str_is(au, AUD);
    mcp_json_iter it = mcp_json_iterate(au);
    while ((v = mcp_json_iter_next(&it, NULL))) if (MCP_JSON_TYPE(au) == MCP_JSON_ARRAY && str_is(v, AUD)) match = 1;
    return match;
}

/* Does the token's scope (string) or scp (array) lack one of the scoped tool's scopes? */
static int lacks_scope(const mcp_json *c) {
    static const char *const need[] = {"files:read", "files:write"};
    const mcp_json *sc = mcp_json_get(c, "scope");
    if (!sc) sc = mcp_json_get(c, "scp");
    for (int k = 0; k < 2; k++) {
        size_t wn = strlen(need[k]);
        int has = 0;
        mcp_json_iter it = mcp_json_iterate(sc);
        const mcp_json *one = MCP_JSON_TYPE(sc) == MCP_JSON_STRING ? sc : mcp_json_iter_next(&it, NULL);
        int nstr = 0;
        if (MCP_JSON_TYPE(sc) == MCP_JSON_ARRAY) {
            mcp_json_iter i2 = mcp_json_iterate(sc);
            const mcp_json *x;
            while ((x = mcp_json_iter_next(&i2, NULL))) nstr += MCP_JSON_TYPE(x) == MCP_JSON_STRING;
        }
        for (; one && !has; one = MCP_JSON_TYPE(sc) == MCP_JSON_ARRAY ? mcp_json_iter_next(&it, NULL) : NULL) {
            if (MCP_JSON_TYPE(one) != MCP_JSON_STRING) continue;
            size_t len = strlen(one->s); /* scopes are C strings in mcp.c */
            if (len == 1 && one->s[0] == '*' && (MCP_JSON_TYPE(sc) == MCP_JSON_STRING || nstr == 1)) has = 1;
            for (size_t i = 0; i < len && !has;) { /* space-separated tokens */
                size_t j = i;
                while (j < len && one->s[j] != ' ') j++;
                if (j - i == wn && !memcmp(one->s + i, need[k], wn)) has = 1;
                i = j + 1;
            }
        }
        if (!has) return 1;
    }
    return 0;
}

/* glob_match reference: '*' matches any run, everything else itself (C strings). */
static int ref_glob(const char *p, const char *s) {
    size_t pn = strlen(p), sn = strlen(s);
    unsigned char *m = calloc((pn + 1) * (sn + 1), 1); /* m[i][j]: p[i..] matches s[j..] */
#define M(i, j) m[(i) * (sn + 1) + (j)]
    for (size_t i = pn + 1; i-- > 0;)
        for (size_t j = sn + 1; j-- > 0;) {
            if (i == pn) M(i, j) = j == sn;
            else if (p[i] == '*') M(i, j) = M(i + 1, j) || (j < sn && M(i, j + 1));
            else M(i, j) = j < sn && p[i] == s[j] && M(i + 1, j + 1);
        }
    int r = M(0, 0);
#undef M
    free(m);
    return r;
}

static void check_glob(const char *in, size_t n) {
    const char *nl = memchr(in, '\n', n);
    if (!nl) return;
    size_t pl = (size_t)(nl - in), sl = n - pl - 1;
    if (pl > 100 || sl > 200) return;
    char *p = strndup(in, pl), *s = strndup(nl + 1, sl);
    int stars = 0;
    for (char *q = p; *q; q++) stars += *q == '*';
    if (stars <= 6) FUZZ_CHECK(glob_match(p, s) == ref_glob(p, s), "glob_match(\"%s\", \"%s\")", p, s);
    free(p);
    free(s);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (!size) return 0;
    int mode = data[0];
    const char *in = (const char *)data + 1;
    size_t n = size - 1;
    if (mode == 'G') { check_glob(in, n); return 0; }
    char *tok;
    size_t tl;
    mcp_json_doc *hd = NULL, *pd = NULL;
    int expect = -1; /* unknown for raw tokens */
    int signed_mode = mode == 'H' || mode == 'E' || mode == 'S';
    if (signed_mode) {
        const char *nl = memchr(in, '\n', n);
        if (!nl) return 0;
        size_t hn = (size_t)(nl - in);
        tok = make_token(mode, in, hn, nl + 1, n - hn - 1, &tl);
        mcp_json_err e;
        hd = mcp_json_parse(in, hn, 16, &e);
        pd = mcp_json_parse(nl + 1, n - hn - 1, 32, &e);
        const char *alg = mcp_json_str(mcp_json_get(mcp_json_root(hd), "alg"));
        const mcp_json *kidv = mcp_json_get(mcp_json_root(hd), "kid");
        const char *kid = mcp_json_str(kidv);
        int sig_ok = 0;
        if (alg && !strcmp(alg, "HS256")) sig_ok = mode == 'H';
        else if (alg && !strcmp(alg, "ES256")) sig_ok = mode == 'E' && (!kid || !strcmp(kid, "ec1"));
        else if (alg && !strcmp(alg, "RS256")) sig_ok = mode == 'S' && (!kid || !strcmp(kid, "rsa1"));
        expect = hd && pd && MCP_JSON_TYPE(mcp_json_root(pd)) == MCP_JSON_OBJECT && sig_ok;
    } else {
        tok = malloc(n + 1);
        memcpy(tok, in, n);
        tok[n] = 0;
        tl = n;
    }

    /* jwt_verify itself, on the token as auth_check passes it (trimmed) */
    slice tk = sl_trim((slice){tok, tl});
    char *tcopy = malloc(tk.n + 1);
    memcpy(tcopy, tk.p, tk.n);
    tcopy[tk.n] = 0;
    auth_ctx a;
    memset(&a, 0, sizeof a);
    char why[256] = "";
    int64_t now0 = (int64_t)(now_ms() / 1000);
    int r = jwt_verify(tcopy, tk.n, &a, why, sizeof why);
    int64_t now1 = (int64_t)(now_ms() / 1000);
    free(tcopy);
    if (expect == 1) {
        int c0 = claims_ok(mcp_json_root(pd), now0), c1 = claims_ok(mcp_json_root(pd), now1);
        expect = c0 == c1 ? c0 : -1; /* a second passed at the boundary: no verdict */
    }
    FUZZ_CHECK(r == 0 || r == -1, "jwt_verify returned %d", r);
    if (r) FUZZ_CHECK(why[0] && !a.claims && !a.kind, "a refusal without a reason, or with claims");
    else {
        FUZZ_CHECK(a.claims && a.kind && !strcmp(a.kind, "jwt"), "accepted without claims");
        FUZZ_CHECK(claims_ok(mcp_json_root(a.claims), now0) || claims_ok(mcp_json_root(a.claims), now1),
                   "accepted a token whose claims do not pass: %s", fz_show(tok, tl));
    }
    if (expect >= 0)
        FUZZ_CHECK((r == 0) == expect, "jwt_verify %s a token the rules %s (%s): %s", r ? "refused" : "accepted",
                   expect ? "accept" : "refuse", why, fz_show(in, n));
    int lacks = r == 0 && lacks_scope(mcp_json_root(a.claims));
    mcp_json_free(a.claims);

    /* through http_route */
    int scoped = (tl ^ (size_t)mode) & 1;
    char body[512];
    snprintf(body, sizeof body,
             "{\"jsonrpc\":\"2.0\",\"id\":7,\"method\":\"tools/call\",\"params\":{\"name\":\"%s\",\"arguments\":{},"
             "\"_meta\":{\"io.modelcontextprotocol/protocolVersion\":\"2026-07-28\","
             "\"io.modelcontextprotocol/clientCapabilities\":{}}}}", scoped ? "scoped" : "whoami");
    buf authz = {0};
    int as_key = !signed_mode && (mode == 'K');
    buf_puts(&authz, as_key ? "" : "Bearer ");
    buf_put(&authz, tok, tl);
    hdr h[6];
    const char *hn[] = {"Host", "Content-Type", "Accept", "MCP-Protocol-Version", "Mcp-Method", "Mcp-Name"};
    const char *hv[] = {"localhost", "application/json", "application/json, text/event-stream", "2026-07-28", "tools/call",
                        scoped ? "scoped" : "whoami"};
    for (int i = 0; i < 6; i++) {
        h[i].name.p = hn[i]; h[i].name.n = strlen(hn[i]);
        h[i].value.p = hv[i]; h[i].value.n = strlen(hv[i]);
    }
    hdr all[7];
    memcpy(all, h, sizeof h);
    all[6].name.p = as_key ? "X-Api-Key" : "Authorization";
    all[6].name.n = strlen(all[6].name.p);
    all[6].value = sl_trim((slice){authz.p ? authz.p : "", authz.len});
    char *b = strdup(body);
    hreq rq;
    memset(&rq, 0, sizeof rq);
    rq.method = (slice){"POST", 4};
    rq.path = (slice){"/mcp", 4};
    rq.h = all;
    rq.nh = 7;
    rq.body = b;
    rq.blen = strlen(b);
    hres rs;
    memset(&rs, 0, sizeof rs);
    http_route(&ar, &rq, &rs);
    fz_check_hres(&rs, NULL);
    int is_key = (tk.n == 7 && (!memcmp(tk.p, "key-one", 7) || !memcmp(tk.p, "key-two", 7)));
    if (!is_key && r != 0) FUZZ_CHECK(rs.status == 401, "an invalid token got %d", rs.status);
    if (r == 0 && scoped && lacks) FUZZ_CHECK(rs.status == 403, "a token without the tool's scopes got %d", rs.status);
    if (rs.status == 401) {
        const char *wa = rs.head.p ? strstr(rs.head.p, "WWW-Authenticate: Bearer resource_metadata=\"") : NULL;
        FUZZ_CHECK(wa != NULL, "401 without WWW-Authenticate");
    }
    buf_free(&rs.head);
    buf_free(&rs.body);
    buf_free(&authz);
    free(b);
    free(tok);
    mcp_json_free(hd);
    mcp_json_free(pd);
    req_reset(&ar);
    return 0;
}
