/* fuzz_common.h: invariant checks shared by the fuzz targets in test/fuzz/. Included after
 * "../../mcp.c", so everything static in mcp.c is visible; the checks here are written
 * independently of mcp.c's own code where that matters (UTF-8, SSE framing, equality). */
#ifndef FUZZ_COMMON_H
#define FUZZ_COMMON_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A broken invariant: say which and abort, so libFuzzer keeps the input as a crash.
 *
 * Built with -DFUZZ_EXPLORE (for long runs while known bugs are still open, never for CI):
 * each failing check is reported once, with its input saved as explore-LINE-HASH in the
 * directory FUZZ_EXPLORE_DIR (default "."), and the input is abandoned instead of
 * aborting, so the run goes on to other code. Memory the abandoned input held is not freed:
 * run such builds with -detect_leaks=0. Sanitizer reports stay fatal unless the build adds
 * -fsanitize-recover. */
#ifdef FUZZ_EXPLORE
#include <setjmp.h>
static jmp_buf fz_jmp;
static const uint8_t *fz_cur;
static size_t fz_cur_n;
static unsigned char fz_seen[8192];
static unsigned fz_key(const char *file, int line) { return ((unsigned)(uintptr_t)file * 31u + (unsigned)line) % 8192; }
static int fz_first(const char *file, int line) { return !fz_seen[fz_key(file, line)]; }
static void fz_explore_fail(const char *file, int line) {
    unsigned key = fz_key(file, line);
    if (!fz_seen[key]) {
        fz_seen[key] = 1;
        uint32_t h = 2166136261u;
        for (size_t i = 0; i < fz_cur_n; i++) h = (h ^ fz_cur[i]) * 16777619u;
        const char *dir = getenv("FUZZ_EXPLORE_DIR");
        char path[512];
        snprintf(path, sizeof path, "%s/explore-%d-%08x", dir ? dir : ".", line, h);
        FILE *f = fopen(path, "wb");
        if (f) { fwrite(fz_cur, 1, fz_cur_n, f); fclose(f); }
        fprintf(stderr, "EXPLORE: first failure at %s:%d, input saved as %s\n", file, line, path);
    }
    longjmp(fz_jmp, 1);
}
int fz_target(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (setjmp(fz_jmp)) return 0;
    fz_cur = data;
    fz_cur_n = size;
    return fz_target(data, size);
}
#define LLVMFuzzerTestOneInput fz_target
#define FZ_FAIL() fz_explore_fail(__FILE__, __LINE__)
#else
#define FZ_FAIL() abort()
#define fz_first(file, line) 1
#endif

#define FUZZ_CHECK(cond, ...) do { \
        if (!(cond)) { \
            if (fz_first(__FILE__, __LINE__)) { \
                fprintf(stderr, "\nINVARIANT FAILED %s:%d: %s\n  ", __FILE__, __LINE__, #cond); \
                fprintf(stderr, __VA_ARGS__); \
                fputc('\n', stderr); \
            } \
            FZ_FAIL(); \
        } \
    } while (0)

/* Print up to 300 bytes of p, escaped, for failure messages. */
static const char *fz_show(const void *p, size_t n) {
    static char out[1300];
    const unsigned char *s = p;
    size_t o = 0;
    for (size_t i = 0; i < n && i < 300; i++) {
        unsigned c = s[i];
        if (c >= 0x20 && c < 0x7f && c != '\\') out[o++] = (char)c;
        else o += (size_t)snprintf(out + o, sizeof out - o, "\\x%02x", c);
    }
    if (n > 300) { memcpy(out + o, "...", 3); o += 3; }
    out[o] = 0;
    return out;
}

/* Strict UTF-8 (RFC 3629): no overlongs, no surrogates, nothing above U+10FFFF. */
static int fz_utf8_valid(const void *p, size_t n) {
    const unsigned char *s = p;
    size_t i = 0;
    while (i < n) {
        unsigned c = s[i];
        if (c < 0x80) { i++; continue; }
        size_t k;
        unsigned cp;
        if ((c & 0xE0) == 0xC0) { k = 2; cp = c & 0x1F; }
        else if ((c & 0xF0) == 0xE0) { k = 3; cp = c & 0x0F; }
        else if ((c & 0xF8) == 0xF0) { k = 4; cp = c & 0x07; }
        else return 0;
        if (n - i < k) return 0;
        for (size_t j = 1; j < k; j++) {
            if ((s[i + j] & 0xC0) != 0x80) return 0;
            cp = cp << 6 | (s[i + j] & 0x3F);
        }
        if ((k == 2 && cp < 0x80) || (k == 3 && cp < 0x800) || (k == 4 && cp < 0x10000)) return 0;
        if (cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return 0;
        i += k;
    }
    return 1;
}

/* Exact structural equality of two parsed values: same types, same lengths, same string
 * bytes, same number text, members in the same order (duplicate keys included). */
static int fz_tree_equal(const mcp_json *a, const mcp_json *b) {
    if (MCP_JSON_TYPE(a) != MCP_JSON_TYPE(b)) return 0;
    switch (MCP_JSON_TYPE(a)) {
    case MCP_JSON_NUMBER:
        return a->len == b->len && !memcmp(a->s, b->s, a->len) && (a->type & MCP_JSON_F_INT) == (b->type & MCP_JSON_F_INT);
    case MCP_JSON_STRING: return a->len == b->len && !memcmp(a->s, b->s, a->len);
    case MCP_JSON_ARRAY:
    case MCP_JSON_OBJECT: {
        if (a->len != b->len) return 0;
        mcp_json_iter ia = mcp_json_iterate(a), ib = mcp_json_iterate(b);
        const mcp_json *x, *y, *kx, *ky;
        while ((x = mcp_json_iter_next(&ia, &kx))) {
            y = mcp_json_iter_next(&ib, &ky);
            if (!y) return 0;
            if (MCP_JSON_TYPE(a) == MCP_JSON_OBJECT && !fz_tree_equal(kx, ky)) return 0;
            if (!fz_tree_equal(x, y)) return 0;
        }
        return mcp_json_iter_next(&ib, NULL) == NULL;
    }
    default: return 1;
    }
}

/* Nesting depth: scalars 0, [] 1, [[1]] 2. */
static int fz_depth(const mcp_json *v) {
    mcp_json_type t = MCP_JSON_TYPE(v);
    if (t != MCP_JSON_ARRAY && t != MCP_JSON_OBJECT) return 0;
    int d = 0;
    mcp_json_iter it = mcp_json_iterate(v);
    const mcp_json *c;
    while ((c = mcp_json_iter_next(&it, NULL))) {
        int cd = fz_depth(c);
        if (cd > d) d = cd;
    }
    return d + 1;
}

/* Parse text that must be JSON (any depth up to its length); aborts if it is not. */
static mcp_json_doc *fz_must_parse(const char *what, const char *p, size_t n) {
    mcp_json_err e;
    FUZZ_CHECK(fz_utf8_valid(p, n), "%s is not valid UTF-8: %s", what, fz_show(p, n));
    int depth = n + 2 > 100000 ? 100000 : (int)n + 2;
    mcp_json_doc *d = mcp_json_parse(p, n, depth, &e);
    FUZZ_CHECK(d != NULL, "%s is not JSON (%s at %zu): %s", what, e.msg ? e.msg : "?", e.pos, fz_show(p, n));
    return d;
}

/* FUZZ_DEBUG=1 in the environment: the targets print what they got (for checking seeds). */
static void fz_debug_hres(const char *what, const void *rsv) {
    static int on = -1;
    if (on < 0) on = getenv("FUZZ_DEBUG") != NULL;
    if (!on) return;
    const struct hres *rs = rsv;
    fprintf(stderr, "--- %s: %d %s\n%s%.*s\n", what, rs->status, rs->ctype ? rs->ctype : "-", rs->head.p ? rs->head.p : "",
            (int)(rs->body.len > 2000 ? 2000 : rs->body.len), rs->body.p ? rs->body.p : "");
}

/* ---- Server-Sent Events (WHATWG HTML, "Interpreting an event stream") ---- */

typedef struct { char *data; size_t len; char type[32]; } fz_event;
typedef struct { fz_event *ev; int n; } fz_events;

static void fz_events_free(fz_events *es) {
    for (int i = 0; i < es->n; i++) free(es->ev[i].data);
    free(es->ev);
    es->ev = NULL;
    es->n = 0;
}

/* Check an SSE stream as mcp.c writes it: every line is "event: ...", "data: ..." or empty
 * (so nothing in a payload broke the framing), the stream ends at an event boundary, and
 * then parse it as a browser would: events with their type and data (lines joined by \n). */
static void fz_sse_parse(const char *p, size_t n, fz_events *out) {
    out->ev = NULL;
    out->n = 0;
    buf data = {0};
    char type[32] = "";
    int have_data = 0;
    size_t i = 0;
    while (i < n) {
        size_t s = i;
        while (i < n && p[i] != '\r' && p[i] != '\n') i++;
        FUZZ_CHECK(i < n, "SSE stream ends inside a line: %s", fz_show(p + s, n - s));
        size_t ln = i - s;
        const char *line = p + s;
        /* the line terminator: CRLF, CR or LF (a bare CR ends a line for a browser too) */
        if (p[i] == '\r' && i + 1 < n && p[i + 1] == '\n') i += 2; else i++;
        if (ln == 0) {
            if (have_data) {
                out->ev = realloc(out->ev, sizeof *out->ev * (size_t)(out->n + 1));
                fz_event *e = &out->ev[out->n++];
                e->len = data.len ? data.len - 1 : 0; /* drop the last \n */
                e->data = malloc(e->len + 1);
                memcpy(e->data, data.p ? data.p : "", e->len);
                e->data[e->len] = 0;
                snprintf(e->type, sizeof e->type, "%s", type[0] ? type : "message");
            }
            data.len = 0;
            type[0] = 0;
            have_data = 0;
            continue;
        }
        int is_event = ln >= 6 && !memcmp(line, "event:", 6), is_data = ln >= 5 && !memcmp(line, "data:", 5);
        FUZZ_CHECK(is_event || is_data, "SSE line is neither event:, data: nor empty: \"%s\"", fz_show(line, ln));
        size_t f = is_event ? 6 : 5;
        if (f < ln && line[f] == ' ') f++;
        if (is_event) snprintf(type, sizeof type, "%.*s", (int)(ln - f), line + f);
        else {
            buf_put(&data, line + f, ln - f);
            buf_putc(&data, '\n');
            have_data = 1;
        }
    }
    FUZZ_CHECK(!have_data && !type[0], "SSE stream does not end with an empty line");
    buf_free(&data);
}

/* ---- JSON-RPC responses ---- */

/* One JSON-RPC response object as mcp.c must write it. req_id: the request's id, or NULL
 * when unknown; the response's id must then be equal to it or null. */
static void fz_check_response(const mcp_json *r, const mcp_json *req_id) {
    FUZZ_CHECK(MCP_JSON_TYPE(r) == MCP_JSON_OBJECT, "a JSON-RPC response is not an object");
    const mcp_json *v = mcp_json_get(r, "jsonrpc");
    FUZZ_CHECK(mcp_json_str(v) && !strcmp(v->s, "2.0"), "response without \"jsonrpc\":\"2.0\"");
    const mcp_json *id = mcp_json_get(r, "id");
    FUZZ_CHECK(id != NULL, "response without id");
    mcp_json_type it = MCP_JSON_TYPE(id);
    FUZZ_CHECK(it == MCP_JSON_NULL || it == MCP_JSON_STRING || it == MCP_JSON_NUMBER, "response id of a bad type");
    if (req_id && it != MCP_JSON_NULL) FUZZ_CHECK(fz_tree_equal(id, req_id), "response id differs from the request's");
    const mcp_json *res = mcp_json_get(r, "result"), *err = mcp_json_get(r, "error");
    FUZZ_CHECK((res != NULL) != (err != NULL), "response must have exactly one of result and error");
    if (err) {
        int64_t code;
        FUZZ_CHECK(MCP_JSON_TYPE(err) == MCP_JSON_OBJECT, "error is not an object");
        FUZZ_CHECK(mcp_json_int(mcp_json_get(err, "code"), &code), "error.code is not an integer");
        FUZZ_CHECK(mcp_json_str(mcp_json_get(err, "message")), "error.message is not a string");
    } else FUZZ_CHECK(MCP_JSON_TYPE(res) == MCP_JSON_OBJECT, "result is not an object");
}

/* A message the server sent on an SSE stream before its response: a notification or a
 * request (has a method), never a response. */
static void fz_check_server_message(const mcp_json *m) {
    FUZZ_CHECK(MCP_JSON_TYPE(m) == MCP_JSON_OBJECT, "server message is not an object");
    const mcp_json *v = mcp_json_get(m, "jsonrpc");
    FUZZ_CHECK(mcp_json_str(v) && !strcmp(v->s, "2.0"), "server message without \"jsonrpc\":\"2.0\"");
    FUZZ_CHECK(mcp_json_str(mcp_json_get(m, "method")) != NULL, "server message without a method");
    FUZZ_CHECK(MCP_JSON_TYPE(mcp_json_get(m, "params")) == MCP_JSON_OBJECT, "server message without params object");
}

/* The header names mcp.c sets on an answer (res_header, serve_start): any other name in a
 * head means something from the request got in as a header line of its own. */
static const char *const fz_known_headers[] = {
    "Access-Control-Allow-Headers", "Access-Control-Allow-Methods", "Access-Control-Allow-Origin",
    "Access-Control-Expose-Headers", "Access-Control-Max-Age", "Allow", "Mcp-Session-Id", "Vary",
    "WWW-Authenticate", "Cache-Control", "Connection",
};

/* WWW-Authenticate: Bearer [auth-param *("," auth-param)], auth-param = token "=" (token /
 * quoted-string), RFC 9110 11.6.1: every quoted string closed, nothing after the params. */
static void fz_check_www_authenticate(const char *v, size_t n) {
    FUZZ_CHECK(n >= 6 && !memcmp(v, "Bearer", 6), "WWW-Authenticate without the Bearer scheme: %s", fz_show(v, n));
    size_t i = 6;
    int first = 1;
    while (i < n) {
        if (!first) {
            while (i < n && (v[i] == ' ' || v[i] == '\t')) i++;
            FUZZ_CHECK(i < n && v[i] == ',', "WWW-Authenticate: expected ',' at %zu: %s", i, fz_show(v, n));
            i++;
        }
        first = 0;
        while (i < n && (v[i] == ' ' || v[i] == '\t')) i++;
        size_t t = i;
        while (i < n && tchar((unsigned char)v[i])) i++;
        FUZZ_CHECK(i > t && i < n && v[i] == '=', "WWW-Authenticate: bad parameter name at %zu: %s", t, fz_show(v, n));
        i++;
        if (i < n && v[i] == '"') {
            for (i++; i < n && v[i] != '"'; i++) {
                if (v[i] == '\\') i++;
                else FUZZ_CHECK((unsigned char)v[i] >= 0x20 || v[i] == '\t', "WWW-Authenticate: control byte in a quoted string");
            }
            FUZZ_CHECK(i < n, "WWW-Authenticate: unterminated quoted string: %s", fz_show(v, n));
            i++;
        } else {
            size_t s = i;
            while (i < n && tchar((unsigned char)v[i])) i++;
            FUZZ_CHECK(i > s, "WWW-Authenticate: empty parameter value: %s", fz_show(v, n));
        }
    }
}

/* The extra header lines of an hres: each "Name: value\r\n" with a name mcp.c sets and a
 * value free of CR, LF and NUL (no header injection), and nothing else. */
static void fz_check_head_lines(const buf *head) {
    const char *p = head->p, *end = p ? p + head->len : NULL;
    while (p && p < end) {
        const char *eol = NULL;
        for (const char *q = p; q + 1 < end; q++)
            if (q[0] == '\r' && q[1] == '\n') { eol = q; break; }
        FUZZ_CHECK(eol != NULL, "response header block does not end with CRLF: %s", fz_show(p, (size_t)(end - p)));
        const char *colon = memchr(p, ':', (size_t)(eol - p));
        FUZZ_CHECK(colon && colon > p, "response header line without a name: %s", fz_show(p, (size_t)(eol - p)));
        for (const char *c = p; c < colon; c++)
            FUZZ_CHECK(tchar((unsigned char)*c), "response header name with a non-token byte: %s", fz_show(p, (size_t)(eol - p)));
        for (const char *c = colon + 1; c < eol; c++)
            FUZZ_CHECK(*c != '\r' && *c != '\n' && *c != 0, "response header value with CR, LF or NUL: %s",
                       fz_show(p, (size_t)(eol - p)));
        int known = 0;
        for (size_t k = 0; k < sizeof fz_known_headers / sizeof *fz_known_headers; k++)
            if ((size_t)(colon - p) == strlen(fz_known_headers[k]) && !memcmp(p, fz_known_headers[k], (size_t)(colon - p))) known = 1;
        FUZZ_CHECK(known, "a response header mcp.c does not set (injected from the request?): %s", fz_show(p, (size_t)(eol - p)));
        FUZZ_CHECK(colon + 1 < eol && colon[1] == ' ', "header line without ': '");
        if ((size_t)(colon - p) == 16 && !memcmp(p, "WWW-Authenticate", 16)) fz_check_www_authenticate(colon + 2, (size_t)(eol - colon - 2));
        p = eol + 2;
    }
}

/* The answer of http_route: status, content type, body in the shape the type says. req_id
 * as in fz_check_response (for a single request). Returns the number of JSON-RPC messages. */
static int fz_check_hres(const hres *rs, const mcp_json *req_id) {
    fz_debug_hres("answer", rs);
    FUZZ_CHECK(rs->status >= 100 && rs->status <= 599, "HTTP status %d", rs->status);
    FUZZ_CHECK(!rs->head.oom && !rs->body.oom, "response buffer out of memory");
    fz_check_head_lines(&rs->head);
    const char *b = rs->body.p ? rs->body.p : "";
    size_t n = rs->body.len;
    int msgs = 0;
    if (rs->status == 202 || rs->status == 204) FUZZ_CHECK(n == 0, "status %d with a body: %s", rs->status, fz_show(b, n));
    if (!rs->ctype) { FUZZ_CHECK(n == 0, "a body without a Content-Type: %s", fz_show(b, n)); return 0; }
    if (!strcmp(rs->ctype, "application/json")) {
        mcp_json_doc *d = fz_must_parse("application/json body", b, n);
        const mcp_json *root = mcp_json_root(d);
        /* JSON-RPC answers; plain {"error":...} objects from the non-MCP routes are fine too */
        if (MCP_JSON_TYPE(root) == MCP_JSON_ARRAY) {
            mcp_json_iter it = mcp_json_iterate(root);
            const mcp_json *m;
            while ((m = mcp_json_iter_next(&it, NULL))) { fz_check_response(m, NULL); msgs++; }
        } else if (mcp_json_get(root, "jsonrpc")) { fz_check_response(root, req_id); msgs = 1; }
        mcp_json_free(d);
    } else if (!strcmp(rs->ctype, "text/event-stream")) {
        FUZZ_CHECK(rs->status == 200, "SSE with status %d", rs->status);
        fz_events es;
        fz_sse_parse(b, n, &es);
        FUZZ_CHECK(es.n >= 1, "an SSE answer with no event");
        for (int i = 0; i < es.n; i++) {
            FUZZ_CHECK(!strcmp(es.ev[i].type, "message"), "SSE event of type %s", es.ev[i].type);
            mcp_json_doc *d = fz_must_parse("SSE event data", es.ev[i].data, es.ev[i].len);
            const mcp_json *m = mcp_json_root(d);
            if (mcp_json_get(m, "method")) fz_check_server_message(m);
            else { fz_check_response(m, req_id); msgs++; }
            mcp_json_free(d);
        }
        /* the stream ends with a response (a batch: one response per event at the end) */
        FUZZ_CHECK(msgs >= 1, "an SSE answer without a response");
        fz_events_free(&es);
    } else {
        FUZZ_CHECK(!strncmp(rs->ctype, "text/plain", 10), "unexpected Content-Type %s", rs->ctype);
        FUZZ_CHECK(fz_utf8_valid(b, n), "text body is not UTF-8");
    }
    return msgs;
}

#endif
