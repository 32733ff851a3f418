/* fuzz_mcp.c: JSON-RPC and MCP (sections 10 and 11 of mcp.c) through http_route, as
 * `serve` hands requests to it: POST /mcp with valid headers and the input as the body.
 *
 * Every input is routed twice:
 *   A. a session-era request: Content-Type and Accept, Host: localhost, the Mcp-Session-Id
 *      of a session opened at start, and an MCP-Protocol-Version of the era the input's
 *      hash picks (none, each session era, or an unknown one);
 *   B. a 2026-07-28 request: MCP-Protocol-Version: 2026-07-28 and the Mcp-Method and
 *      Mcp-Name headers that match the body (left out now and then, by the hash).
 * The server (fuzz_server.h) has tools with compact and JSON schemas, an output schema,
 * resources and templates, a prompt and completions; handlers use the content, logging,
 * structured-content, elicitation, sampling, roots and state APIs. Checked for each answer
 * (fz_check_hres): a status, header lines without CR/LF, a JSON body that parses as
 * JSON-RPC responses carrying the request's id, or an SSE stream whose every line is
 * event:/data:/empty and whose events are JSON-RPC messages ending with the response.
 * For B also: a successful result says its resultType, and when it is input_required with
 * a requestState, sending that state back with answers to every question is accepted (the
 * server must take the state it signed). Sessions opened by an input are dropped after it.
 */
#include "../../mcp.c"
#include "fuzz_common.h"
#include "fuzz_server.h"

static mcp_server *srv;
static req ar; /* the request context every input is served with */
static char sid[64];
static session *fixed_sess;

typedef struct { const char *name, *value; } kvh;

/* Route body (copied: routing parses it in place) with these headers. */
static void route(const kvh *hv, int nh, const char *body, size_t blen, hres *rs) {
    hdr h[16];
    for (int i = 0; i < nh; i++) {
        h[i].name.p = hv[i].name; h[i].name.n = strlen(hv[i].name);
        h[i].value.p = hv[i].value; h[i].value.n = strlen(hv[i].value);
    }
    char *b = malloc(blen + 1);
    memcpy(b, body, blen);
    b[blen] = 0;
    hreq rq;
    memset(&rq, 0, sizeof rq);
    rq.method.p = "POST"; rq.method.n = 4;
    rq.path.p = "/mcp"; rq.path.n = 4;
    rq.h = h;
    rq.nh = nh;
    rq.body = b;
    rq.blen = blen;
    rq.local = 1;
    memset(rs, 0, sizeof *rs);
    http_route(&ar, &rq, rs);
    free(b);
}

static void res_free(hres *rs) { buf_free(&rs->head); buf_free(&rs->body); }

int LLVMFuzzerInitialize(int *argc, char ***argv) {
    (void)argc; (void)argv;
    setenv("MCP_STATE_KEY", "fuzz state key", 1);
    unsetenv("MCP_CORS_ORIGINS");
    unsetenv("MCP_API_KEYS");
    unsetenv("MCP_JWT_ISSUER");
    unsetenv("MCP_JWT_AUDIENCE");
    unsetenv("MCP_JWT_HS256_SECRET");
    unsetenv("MCP_IAM_ALLOW");
    unsetenv("MCP_ALLOWED_HOSTS");
    unsetenv("MCP_ALLOWED_ORIGINS");
    http_conf_load();
    srv = fz_server(0);
    req_init(&ar, srv);
    /* the session every A request uses: no capabilities, so nothing waits for a client */
    static const char init[] = "{\"jsonrpc\":\"2.0\",\"id\":0,\"method\":\"initialize\",\"params\":{\"protocolVersion\":"
                               "\"2025-11-25\",\"capabilities\":{},\"clientInfo\":{\"name\":\"fuzz\",\"version\":\"1\"}}}";
    kvh hv[] = {{"Host", "localhost"}, {"Content-Type", "application/json"}, {"Accept", "application/json, text/event-stream"}};
    hres rs;
    route(hv, 3, init, sizeof init - 1, &rs);
    const char *p = rs.head.p ? strstr(rs.head.p, "Mcp-Session-Id: ") : NULL;
    if (rs.status != 200 || !p) { fprintf(stderr, "fuzz_mcp: initialize failed: %d %s\n", rs.status, rs.body.p); abort(); }
    snprintf(sid, sizeof sid, "%.32s", p + 16);
    slice s = {sid, strlen(sid)};
    fixed_sess = session_find(srv, s, NULL);
    res_free(&rs);
    req_reset(&ar);
    return 0;
}

static void jw_raw_s(jw *w, const char *s) { jw_raw(w, s, strlen(s)); }

/* Answers to every question of an input_required result, by method. */
static void write_answers(jw *w, const mcp_json *reqs) {
    jw_obj(w);
    mcp_json_iter it = mcp_json_iterate(reqs);
    const mcp_json *k, *q;
    while ((q = mcp_json_iter_next(&it, &k))) {
        const char *m = mcp_json_str(mcp_json_get(q, "method"));
        if (strlen(k->s) != k->len) continue;
        jw_key(w, k->s);
        if (m && !strcmp(m, "sampling/createMessage"))
            jw_raw_s(w, "{\"role\":\"assistant\",\"content\":{\"type\":\"text\",\"text\":\"ok\"},\"model\":\"m\"}");
        else if (m && !strcmp(m, "roots/list")) jw_raw_s(w, "{\"roots\":[{\"uri\":\"file:///tmp\"}]}");
        else jw_raw_s(w, "{\"action\":\"accept\",\"content\":{\"name\":\"Ada\",\"ok\":true}}");
    }
    jw_end_obj(w);
}

/* The request again, with the state the server issued and answers; NULL if it cannot be
 * rewritten (keys with NULs). */
static char *resend_body(const mcp_json *req, const char *state, const mcp_json *reqs, size_t *len) {
    buf b = {0};
    jw w = {&b, 0};
    jw_obj(&w);
    mcp_json_iter it = mcp_json_iterate(req);
    const mcp_json *k, *v;
    while ((v = mcp_json_iter_next(&it, &k))) {
        if (strlen(k->s) != k->len) { buf_free(&b); return NULL; }
        if (!strcmp(k->s, "params")) continue;
        jw_key(&w, k->s);
        jw_value(&w, v);
    }
    jw_key(&w, "params");
    jw_obj(&w);
    it = mcp_json_iterate(mcp_json_get(req, "params"));
    while ((v = mcp_json_iter_next(&it, &k))) {
        if (strlen(k->s) != k->len) { buf_free(&b); return NULL; }
        if (!strcmp(k->s, "requestState") || !strcmp(k->s, "inputResponses")) continue;
        jw_key(&w, k->s);
        jw_value(&w, v);
    }
    jw_key(&w, "requestState"); jw_str(&w, state);
    jw_key(&w, "inputResponses"); write_answers(&w, reqs);
    jw_end_obj(&w);
    jw_end_obj(&w);
    *len = b.len;
    return b.p;
}

static const char *const eras[] = {NULL, "2024-11-05", "2025-03-26", "2025-06-18", "2025-11-25", "2099-01-01"};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    const char *body = (const char *)data;
    uint32_t hsh = 2166136261u;
    for (size_t i = 0; i < size; i++) hsh = (hsh ^ data[i]) * 16777619u;

    /* what the body says, for the request id and the 2026 headers */
    mcp_json_err e;
    mcp_json_doc *req = mcp_json_parse(body, size, 0, &e);
    const mcp_json *root = mcp_json_root(req);
    const mcp_json *id = mcp_json_get(root, "id");
    if (MCP_JSON_TYPE(id) != MCP_JSON_STRING && MCP_JSON_TYPE(id) != MCP_JSON_NUMBER) id = NULL;

    /* A: the session */
    kvh hv[8];
    int nh = 0;
    hv[nh++] = (kvh){"Host", "localhost"};
    hv[nh++] = (kvh){"Content-Type", "application/json"};
    hv[nh++] = (kvh){"Accept", "application/json, text/event-stream"};
    hv[nh++] = (kvh){"Mcp-Session-Id", sid};
    const char *era = eras[hsh % 6];
    if (era) hv[nh++] = (kvh){"MCP-Protocol-Version", era};
    hres rs;
    route(hv, nh, body, size, &rs);
    fz_check_hres(&rs, MCP_JSON_TYPE(root) == MCP_JSON_OBJECT ? id : NULL);
    res_free(&rs);
    fz_sessions_reset(srv, fixed_sess);
    req_reset(&ar);

    /* B: 2026-07-28 */
    nh = 0;
    hv[nh++] = (kvh){"Host", "localhost"};
    hv[nh++] = (kvh){"Content-Type", "application/json"};
    hv[nh++] = (kvh){"Accept", "application/json, text/event-stream"};
    if ((hsh >> 8) % 8) hv[nh++] = (kvh){"MCP-Protocol-Version", "2026-07-28"};
    const char *method = mcp_json_str(mcp_json_get(root, "method"));
    const mcp_json *params = mcp_json_get(root, "params");
    const char *name = NULL;
    if (method && (!strcmp(method, "tools/call") || !strcmp(method, "prompts/get"))) name = mcp_json_str(mcp_json_get(params, "name"));
    else if (method && !strcmp(method, "resources/read")) name = mcp_json_str(mcp_json_get(params, "uri"));
    if (method && (hsh >> 11) % 8) hv[nh++] = (kvh){"Mcp-Method", method};
    if (name && (hsh >> 14) % 8) hv[nh++] = (kvh){"Mcp-Name", name};
    route(hv, nh, body, size, &rs);
    fz_check_hres(&rs, MCP_JSON_TYPE(root) == MCP_JSON_OBJECT ? id : NULL);
    mcp_json_doc *ans = NULL;
    if (rs.status == 200 && rs.ctype && !strcmp(rs.ctype, "application/json"))
        ans = mcp_json_parse(rs.body.p, rs.body.len, 0, &e);
    const mcp_json *result = mcp_json_get(mcp_json_root(ans), "result");
    const mcp_json *meta_v = mcp_json_get(mcp_json_get(params, "_meta"), META_VERSION);
    int era26 = mcp_json_str(meta_v) && era_find(meta_v->s, meta_v->len) >= ERA_2026_07_28;
    if (result && era26) {
        const char *rt = mcp_json_str(mcp_json_get(result, "resultType"));
        FUZZ_CHECK(rt && (!strcmp(rt, "complete") || !strcmp(rt, "input_required")), "a 2026-07-28 result without resultType");
        const char *st = mcp_json_str(mcp_json_get(result, "requestState"));
        const mcp_json *reqs = mcp_json_get(result, "inputRequests");
        if (!strcmp(rt, "input_required"))
            FUZZ_CHECK(MCP_JSON_TYPE(reqs) == MCP_JSON_OBJECT && reqs->len > 0, "input_required without inputRequests");
        if (st && MCP_JSON_TYPE(root) == MCP_JSON_OBJECT) {
            size_t nl;
            char *nb = resend_body(root, st, reqs, &nl);
            if (nb) {
                hres r2;
                route(hv, nh, nb, nl, &r2);
                fz_check_hres(&r2, id);
                FUZZ_CHECK(!strstr(r2.body.p ? r2.body.p : "", "requestState was altered"),
                           "the server refused the requestState it issued: %s", fz_show(nb, nl));
                res_free(&r2);
                free(nb);
            }
        }
    }
    mcp_json_free(ans);
    res_free(&rs);
    fz_sessions_reset(srv, fixed_sess);
    req_reset(&ar);
    mcp_json_free(req);
    return 0;
}
