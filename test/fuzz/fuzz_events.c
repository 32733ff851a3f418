/* fuzz_events.c: the Lambda event adapters (section 13 of mcp.c) and everything behind
 * them, as the Runtime API loop drives them (lambda_event_inner without the network).
 *
 * The input is the event, parsed in place (json_parse_inplace on a copy with its spare
 * byte) and decoded (event_decode). An HTTP event (function URL / HTTP API 2.0, REST 1.0,
 * ALB, with or without multi-value headers, base64 bodies, IAM and JWT-authorizer callers)
 * goes through http_route on a Lambda-style (stateless) server and event_response; a direct
 * invocation through direct_dispatch. CORS is on for every origin (MCP_CORS_ORIGINS=*), so
 * request headers reach response headers. Checked:
 *   - event_decode either fails with a message or gives slices that exist, at most
 *     MCP_MAX_HEADERS headers, and a body followed by a NUL;
 *   - the route's answer is well formed (fuzz_common.h fz_check_hres: status, header lines
 *     without CR/LF, JSON bodies that parse, SSE framing, JSON-RPC responses with the
 *     request's id);
 *   - event_response is valid UTF-8 JSON in the event's shape: statusCode, headers or
 *     multiValueHeaders (one member per header line, strings or arrays of one string),
 *     cookies for 2.0, statusDescription for ALB, the body as a string equal to the answer;
 *   - direct_dispatch answers JSON: null for notifications, a response with the request's
 *     id for a request, an array of responses for a batch.
 */
#include "../../mcp.c"
#include "fuzz_common.h"
#include "fuzz_server.h"

static mcp_server *srv;
static req ar; /* the request context every input is served with */

int LLVMFuzzerInitialize(int *argc, char ***argv) {
    (void)argc; (void)argv;
    setenv("MCP_CORS_ORIGINS", "*", 1);
    http_conf_load();
    setenv("MCP_STATE_KEY", "fuzz state key", 1);
    unsetenv("MCP_API_KEYS");
    unsetenv("MCP_JWT_ISSUER");
    unsetenv("MCP_JWT_AUDIENCE");
    unsetenv("MCP_JWT_HS256_SECRET");
    unsetenv("MCP_IAM_ALLOW");
    unsetenv("AWS_LAMBDA_RUNTIME_API");
    srv = fz_server(1);
    req_init(&ar, srv);
    return 0;
}

static void check_direct(const mcp_json *root, const buf *out) {
    mcp_json_doc *d = fz_must_parse("direct_dispatch output", out->p ? out->p : "", out->len);
    const mcp_json *r = mcp_json_root(d);
    if (MCP_JSON_TYPE(root) == MCP_JSON_ARRAY) {
        FUZZ_CHECK(MCP_JSON_TYPE(r) == MCP_JSON_ARRAY || MCP_JSON_TYPE(r) == MCP_JSON_NULL, "a batch answered with neither array nor null");
        mcp_json_iter it = mcp_json_iterate(r);
        const mcp_json *m;
        while ((m = mcp_json_iter_next(&it, NULL))) fz_check_response(m, NULL);
    } else if (MCP_JSON_TYPE(r) != MCP_JSON_NULL) {
        const mcp_json *id = mcp_json_get(root, "id");
        mcp_json_type t = MCP_JSON_TYPE(id);
        fz_check_response(r, t == MCP_JSON_STRING || t == MCP_JSON_NUMBER ? id : NULL);
    } else {
        /* null: nothing to answer (a notification or a response) */
        FUZZ_CHECK(MCP_JSON_TYPE(root) == MCP_JSON_OBJECT && (!mcp_json_get(root, "id") || is_response(root)),
                   "a request answered with null");
    }
    mcp_json_free(d);
}

static void check_event_response(const lev *e, const hres *rs, const buf *out) {
    mcp_json_doc *d = fz_must_parse("event_response output", out->p ? out->p : "", out->len);
    const mcp_json *r = mcp_json_root(d);
    int64_t st;
    FUZZ_CHECK(MCP_JSON_TYPE(r) == MCP_JSON_OBJECT, "event response is not an object");
    FUZZ_CHECK(mcp_json_int(mcp_json_get(r, "statusCode"), &st) && st == rs->status, "statusCode");
    FUZZ_CHECK(MCP_JSON_TYPE(mcp_json_get(r, "isBase64Encoded")) == MCP_JSON_FALSE, "isBase64Encoded");
    if (e->kind == EV_ALB) FUZZ_CHECK(mcp_json_str(mcp_json_get(r, "statusDescription")) != NULL, "ALB statusDescription");
    if (e->kind == EV_V2) FUZZ_CHECK(MCP_JSON_TYPE(mcp_json_get(r, "cookies")) == MCP_JSON_ARRAY, "2.0 cookies");
    const mcp_json *h = mcp_json_get(r, e->multi ? "multiValueHeaders" : "headers");
    FUZZ_CHECK(MCP_JSON_TYPE(h) == MCP_JSON_OBJECT, "headers object");
    /* one member per header line (and Content-Type) */
    uint32_t lines = rs->ctype ? 1 : 0;
    for (size_t i = 0; i + 1 < rs->head.len; i++) if (rs->head.p[i] == '\r' && rs->head.p[i + 1] == '\n') lines++;
    FUZZ_CHECK(h->len == lines, "%u header members for %u header lines", h->len, lines);
    mcp_json_iter it = mcp_json_iterate(h);
    const mcp_json *v, *k;
    while ((v = mcp_json_iter_next(&it, &k))) {
        FUZZ_CHECK(k->len > 0, "a header with an empty name");
        if (e->multi) FUZZ_CHECK(MCP_JSON_TYPE(v) == MCP_JSON_ARRAY && v->len == 1 && mcp_json_str(mcp_json_at(v, 0)), "multi-value header");
        else FUZZ_CHECK(MCP_JSON_TYPE(v) == MCP_JSON_STRING, "header value");
    }
    const mcp_json *b = mcp_json_get(r, "body");
    FUZZ_CHECK(MCP_JSON_TYPE(b) == MCP_JSON_STRING, "body is not a string");
    if (fz_utf8_valid(rs->body.p ? rs->body.p : "", rs->body.len))
        FUZZ_CHECK(b->len == rs->body.len && !memcmp(b->s, rs->body.p ? rs->body.p : "", b->len), "body differs from the answer");
    mcp_json_free(d);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    char *ev_text = malloc(size + 1); /* the spare byte the runtime's buffer has */
    memcpy(ev_text, data, size);
    mcp_json_err e;
    mcp_json_doc *d = json_parse_inplace(ev_text, size, 0, &e);
    if (!d) { free(ev_text); return 0; }
    const mcp_json *root = mcp_json_root(d);
    lev ev;
    char err[256];
    buf out = {0};
    if (event_decode(root, &ev, &ar.a, err, sizeof err)) {
        FUZZ_CHECK(err[0], "event_decode failed without a message");
    } else if (ev.kind == EV_DIRECT) {
        direct_dispatch(&ar, root, &out);
        FUZZ_CHECK(!out.oom, "out of memory");
        check_direct(root, &out);
    } else {
        const hreq *rq = &ev.rq;
        FUZZ_CHECK(rq->method.p && rq->path.p, "decoded without method or path");
        FUZZ_CHECK(rq->nh >= 0 && rq->nh <= MCP_MAX_HEADERS && rq->h == ev.h, "headers");
        for (int i = 0; i < rq->nh; i++) FUZZ_CHECK(rq->h[i].name.p && rq->h[i].value.p, "header %d slices", i);
        FUZZ_CHECK(rq->body && rq->body[rq->blen] == 0, "body without its NUL");
        /* the request's id, for the response check: from a copy (routing parses in place) */
        mcp_json_doc *req = mcp_json_parse(rq->body, rq->blen, 0, &e);
        const mcp_json *rid = mcp_json_get(mcp_json_root(req), "id");
        mcp_json_type rt = MCP_JSON_TYPE(rid);
        int is_mcp = sl_eq(rq->path, "/mcp") || sl_eq(rq->path, "/rpc") || sl_eq(rq->path, "/mcp/") || sl_eq(rq->path, "/");
        hres rs;
        memset(&rs, 0, sizeof rs);
        http_route(&ar, rq, &rs);
        fz_check_hres(&rs, is_mcp && (rt == MCP_JSON_STRING || rt == MCP_JSON_NUMBER) ? rid : NULL);
        mcp_json_free(req);
        event_response(&ev, &rs, &out);
        FUZZ_CHECK(!out.oom, "out of memory");
        check_event_response(&ev, &rs, &out);
        buf_free(&rs.head);
        buf_free(&rs.body);
    }
    buf_free(&out);
    mcp_json_free(d);
    free(ev_text);
    req_reset(&ar);
    return 0;
}
