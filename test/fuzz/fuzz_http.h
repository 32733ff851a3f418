/* fuzz_http.h: HTTP/1.1 framing (section 5 of mcp.c) and the connection readers of
 * section 6, for fuzz_http_request.c (FUZZ_RESPONSE 0) and fuzz_http_response.c (1).
 *
 * The input is the bytes a peer sends: a head, then a body (chunked or not), possibly more
 * messages after it. Checked:
 *   - http_parse_head: 0 only without a complete head; a known -status; on success every
 *     slice lies inside the head, names are tokens, values trimmed and free of CR/LF/NUL,
 *     Content-Length / Transfer-Encoding / Connection read as an independent reading of the
 *     headers says, and parsing just the head gives the same answer;
 *   - http_dechunk on the rest, in a buffer of exactly its size (ASan catches any write or
 *     read past it): same result as a reference decoder, prefixes need more input, a max
 *     one below the decoded size gives -2, the decoded bytes stay inside what was consumed;
 *   - conn_read_msg, fed through conn.recv in pieces of varying size and through a
 *     socketpair, message after message (pipelining): each outcome (status, body, where the
 *     next message starts) is what the direct functions predict, and the body is followed by
 *     a NUL inside the buffer;
 *   - conn_stream_msg, fed in pieces: the head handed out is the parsed head, and a body
 *     it delivers matches the decoded one.
 */
#include "../../mcp.c"
#include "fuzz_common.h"

#include <sys/socket.h>

#ifndef FUZZ_RESPONSE
#error "define FUZZ_RESPONSE"
#endif

/* ---- independent readings of the head ---- */

static int fz_ieq(const char *p, size_t n, const char *s) {
    size_t k = strlen(s);
    if (n != k) return 0;
    for (size_t i = 0; i < n; i++) {
        int a = (unsigned char)p[i], b = (unsigned char)s[i];
        if (a >= 'A' && a <= 'Z') a += 32;
        if (b >= 'A' && b <= 'Z') b += 32;
        if (a != b) return 0;
    }
    return 1;
}
static int fz_in(const char *base, size_t n, slice s) {
    return s.n == 0 || (s.p >= base && s.p + s.n <= base + n);
}

static void check_head(const char *p, size_t n, long r, const http_msg *m, int response) {
    /* the first CRLFCRLF (a request may be preceded by empty lines, RFC 9112 2.2) */
    size_t term = 0, lead = 0;
    while (!response && lead + 1 < n && p[lead] == '\r' && p[lead + 1] == '\n') lead += 2;
    for (size_t i = lead + 3; i < n; i++)
        if (p[i - 3] == '\r' && p[i - 2] == '\n' && p[i - 1] == '\r' && p[i] == '\n') { term = i + 1; break; }
    if (r == 0) {
        FUZZ_CHECK(!term && n <= MCP_MAX_HEAD, "http_parse_head wants more, but the head is complete or too big");
        return;
    }
    if (r < 0) {
        FUZZ_CHECK(r == -400 || r == -431 || r == -501 || (r == -505 && !response), "http_parse_head returned %ld", r);
        int bare_lf = 0; /* a request line or header ending in LF alone (within the head limit) is refused at once */
        for (size_t i = lead; !response && i < n && i < MCP_MAX_HEAD; i++) if (p[i] == '\n' && (i == 0 || p[i - 1] != '\r')) bare_lf = 1;
        if (!term) FUZZ_CHECK((r == -431 && n > MCP_MAX_HEAD) || (r == -400 && bare_lf), "an incomplete head refused with %ld", r);
        return;
    }
    FUZZ_CHECK((size_t)r == term, "head length %ld, the head ends at %zu", r, term);
    FUZZ_CHECK(m->head_len == (size_t)r && r <= MCP_MAX_HEAD, "head_len");
    FUZZ_CHECK(m->minor >= 0 || response, "minor %d", m->minor);
    if (!response) {
        FUZZ_CHECK(m->minor <= 9, "minor %d", m->minor);
        FUZZ_CHECK(m->method.n > 0 && fz_in(p, term, m->method), "method slice");
        for (size_t i = 0; i < m->method.n; i++) FUZZ_CHECK(tchar((unsigned char)m->method.p[i]), "method byte");
        FUZZ_CHECK(m->target.n > 0 && fz_in(p, term, m->target), "target slice");
        for (size_t i = 0; i < m->target.n; i++)
            FUZZ_CHECK((unsigned char)m->target.p[i] > 0x20 && m->target.p[i] != 0x7f, "target byte");
        FUZZ_CHECK(!memchr(m->path.p, '?', m->path.n), "path with '?'");
        int absolute = (m->target.n > 7 && !strncasecmp(m->target.p, "http://", 7)) ||
                       (m->target.n > 8 && !strncasecmp(m->target.p, "https://", 8));
        if (absolute) { /* absolute-form: the path after the authority, "/" when there is none */
            FUZZ_CHECK((m->path.n == 1 && m->path.p[0] == '/') || fz_in(p, term, m->path), "absolute-form path slice");
            FUZZ_CHECK(!m->query.p || fz_in(p, term, m->query), "absolute-form query slice");
        } else {
            FUZZ_CHECK(m->path.p == m->target.p && m->path.n <= m->target.n, "path is not a prefix of the target");
            if (m->path.n < m->target.n) {
                FUZZ_CHECK(m->query.p == m->path.p + m->path.n + 1 && m->query.n == m->target.n - m->path.n - 1, "query slice");
            } else FUZZ_CHECK(m->query.p == NULL && m->query.n == 0, "query without '?'");
        }
    } else {
        FUZZ_CHECK(m->status >= 100 && m->status <= 999, "status %d", m->status);
        FUZZ_CHECK(!memcmp(p, "HTTP/1.", 7), "status line");
    }
    FUZZ_CHECK(m->nh >= 0 && m->nh <= MCP_MAX_HEADERS, "nh %d", m->nh);
    long long clen = -1;
    int chunked = 0, close = m->minor == 0;
    for (int i = 0; i < m->nh; i++) {
        const hdr *h = &m->h[i];
        FUZZ_CHECK(h->name.n > 0 && fz_in(p, term, h->name) && fz_in(p, term, h->value), "header %d slices", i);
        for (size_t j = 0; j < h->name.n; j++) FUZZ_CHECK(tchar((unsigned char)h->name.p[j]), "header name byte");
        FUZZ_CHECK(h->name.p[h->name.n] == ':', "header name does not end at a colon");
        for (size_t j = 0; j < h->value.n; j++) {
            char c = h->value.p[j];
            FUZZ_CHECK(c != '\r' && c != '\n' && c != 0, "header value with CR, LF or NUL");
        }
        if (h->value.n) {
            char a = h->value.p[0], z = h->value.p[h->value.n - 1];
            FUZZ_CHECK(a != ' ' && a != '\t' && z != ' ' && z != '\t', "header value not trimmed");
        }
        if (fz_ieq(h->name.p, h->name.n, "content-length")) {
            long long v = 0;
            for (size_t j = 0; j < h->value.n; j++) v = v * 10 + (h->value.p[j] - '0');
            FUZZ_CHECK(clen < 0 || clen == v, "two different lengths accepted");
            clen = v;
        } else if (fz_ieq(h->name.p, h->name.n, "transfer-encoding")) {
            FUZZ_CHECK(fz_ieq(h->value.p, h->value.n, "chunked"), "a transfer coding other than chunked accepted");
            chunked = 1;
        } else if (fz_ieq(h->name.p, h->name.n, "connection")) {
            /* a comma-separated list of tokens (RFC 9110 7.6.1), read in order */
            const char *v = h->value.p, *e = v + h->value.n;
            while (v <= e) {
                const char *c = v;
                while (c < e && *c != ',') c++;
                const char *a = v, *z = c;
                while (a < z && (*a == ' ' || *a == '\t')) a++;
                while (z > a && (z[-1] == ' ' || z[-1] == '\t')) z--;
                if (fz_ieq(a, (size_t)(z - a), "close")) close = 1;
                else if (fz_ieq(a, (size_t)(z - a), "keep-alive")) close = 0;
                v = c + 1;
            }
        }
    }
    FUZZ_CHECK(m->clen == clen, "clen %lld, the headers say %lld", m->clen, clen);
    FUZZ_CHECK(m->chunked == chunked && !(chunked && clen >= 0), "chunked");
    FUZZ_CHECK(m->close == close, "close %d, the headers say %d", m->close, close);
    /* the head alone parses the same (in a buffer of exactly its size) */
    char *only = malloc((size_t)r);
    memcpy(only, p, (size_t)r);
    http_msg *m2 = malloc(sizeof *m2);
    long r2 = http_parse_head(only, (size_t)r, m2, response);
    FUZZ_CHECK(r2 == r && m2->nh == m->nh && m2->clen == m->clen, "the head alone parses differently");
    free(m2);
    free(only);
}

/* ---- reference chunked decoder (RFC 9112 7.1, with mcp.c's tolerance of any bytes after
 * the size up to CR, and of bare LF ending a trailer line) ---- */

/* Returns consumed bytes, 0 for more input, -1 malformed, -2 over max. */
static long ref_dechunk(const char *s, size_t n, buf *out, size_t max) {
    /* RFC 9112 7.1, with mcp.c's bounds: a size line (size and extensions) of at most 4096
     * bytes (-3), trailers of at most MCP_MAX_HEAD bytes (-4), CRLF line ends only */
    size_t i = 0;
    out->len = 0;
    for (;;) {
        size_t st = i;
        unsigned long long size = 0;
        while (i < n && hexval((unsigned char)s[i]) >= 0) {
            if (size > ((unsigned long long)SIZE_MAX >> 5)) return -1;
            size = size * 16 + (unsigned)hexval((unsigned char)s[i]);
            i++;
        }
        if (i == n) return n - st > 4096 ? -3 : 0;
        if (i == st) return -1;
        if (s[i] != ';' && s[i] != ' ' && s[i] != '\t' && s[i] != '\r') return -1;
        while (i < n && s[i] != '\r') { if (s[i] == '\n') return -1; i++; }
        if (i - st > 4096) return -3;
        if (i + 1 >= n) return 0;
        if (s[i + 1] != '\n') return -1;
        i += 2;
        if (!size) break;
        if (out->len + size > max) return -2;
        if (n - i < size + 2) return 0;
        buf_put(out, s + i, (size_t)size);
        i += (size_t)size;
        if (s[i] != '\r' || s[i + 1] != '\n') return -1;
        i += 2;
    }
    size_t t0 = i;
    for (;;) { /* trailer lines, then CRLF */
        if (i - t0 > MCP_MAX_HEAD) return -4;
        if (i + 1 >= n) return 0;
        if (s[i] == '\r' && s[i + 1] == '\n') return (long)(i + 2);
        const char *nl = memchr(s + i, '\n', n - i);
        if (!nl) return n - t0 > MCP_MAX_HEAD ? -4 : 0;
        if (nl == s + i || nl[-1] != '\r') return -1;
        i = (size_t)(nl - s) + 1;
    }
}

/* The longest chunk-size line (up to its LF) of a well-formed chunked body. */
static size_t longest_size_line(const char *s, size_t used) {
    size_t i = 0, longest = 0;
    while (i < used) {
        const char *nl = memchr(s + i, '\n', used - i);
        size_t ln = nl ? (size_t)(nl - s) - i + 1 : used - i;
        if (ln > longest) longest = ln;
        size_t size = 0;
        for (size_t j = i; hexval((unsigned char)s[j]) >= 0; j++) size = size * 16 + (size_t)hexval((unsigned char)s[j]);
        i += ln;
        if (!size) break;
        i += size + 2;
    }
    return longest;
}

static void check_dechunk(const char *src, size_t n) {
    char *cb = malloc(n ? n : 1);
    memcpy(cb, src, n);
    size_t ol = (size_t)-1;
    long used = http_dechunk(cb, n, &ol, (size_t)1 << 30, NULL);
    buf ref = {0};
    long rused = ref_dechunk(src, n, &ref, (size_t)1 << 30);
    FUZZ_CHECK(used == rused, "http_dechunk returned %ld, the reference %ld: %s", used, rused, fz_show(src, n));
    if (used > 0) {
        FUZZ_CHECK((size_t)used <= n && used >= 5, "consumed %ld of %zu", used, n);
        FUZZ_CHECK(ol == ref.len && ol < (size_t)used, "decoded length %zu, the reference %zu", ol, ref.len);
        FUZZ_CHECK(!ol || !memcmp(cb, ref.p, ol), "decoded bytes differ from the reference");
        /* everything after what was consumed is untouched */
        FUZZ_CHECK(!memcmp(cb + used, src + used, n - (size_t)used), "http_dechunk wrote past what it consumed");
        /* a shorter prefix needs more input */
        for (size_t cut = 0; cut < 3; cut++) {
            size_t k = cut == 0 ? (size_t)used - 1 : cut == 1 ? (size_t)used / 2 : (size_t)used * 3 / 4;
            char *pb = malloc(k ? k : 1);
            memcpy(pb, src, k);
            size_t pl;
            long pu = http_dechunk(pb, k, &pl, (size_t)1 << 30, NULL);
            FUZZ_CHECK(pu == 0, "a prefix of %zu bytes of a complete body gave %ld", k, pu);
            free(pb);
        }
        /* one byte over the limit */
        if (ol) {
            char *mb = malloc(n);
            memcpy(mb, src, n);
            size_t ml;
            long mu = http_dechunk(mb, n, &ml, ol - 1, NULL);
            FUZZ_CHECK(mu == -2, "max %zu below the decoded %zu gave %ld", ol - 1, ol, mu);
            free(mb);
        }
    } else FUZZ_CHECK(used == 0 || used == -1 || used == -2, "http_dechunk returned %ld", used);
    buf_free(&ref);
    free(cb);
}

/* ---- what conn_read_msg should do with the bytes at p[0..n) ---- */

typedef struct {
    int r;
    size_t consumed;
    buf body;
} expect;

static void expect_read(const char *p, size_t n, int response, size_t max_body, expect *x) {
    http_msg *m = malloc(sizeof *m);
    x->body.len = 0;
    x->consumed = 0;
    long hl = http_parse_head(p ? p : "", n, m, response);
    if (hl == 0) { x->r = n ? -400 : 0; free(m); return; }
    if (hl < 0) { x->r = (int)hl; free(m); return; }
    size_t rest = n - (size_t)hl;
    const char *b = p + hl;
    int nobody_status = response && (m->status == 204 || m->status == 304 || m->status / 100 == 1);
    if (response == 2 || nobody_status) { m->chunked = 0; m->clen = 0; }
    if (m->chunked) {
        long used = ref_dechunk(b, rest, &x->body, max_body);
        x->r = used == -2 ? -413 : used <= 0 ? -400 : 1;
        x->consumed = used > 0 ? (size_t)hl + (size_t)used : 0;
        free(m);
        return;
    }
    size_t need = m->clen > 0 ? (size_t)m->clen : 0;
    if (response && m->clen < 0 && !nobody_status) {
        if (rest > max_body) { x->r = -413; free(m); return; }
        need = rest;
    }
    if (m->clen > 0 && (unsigned long long)m->clen > max_body) { x->r = -413; free(m); return; }
    if (rest < need) { x->r = -400; free(m); return; }
    x->r = 1;
    buf_put(&x->body, b, need);
    x->consumed = (size_t)hl + need;
    free(m);
}

/* ---- feeding a conn ---- */

typedef struct {
    const char *p;
    size_t n, pos;
    uint32_t rng;
    size_t max_piece;
} feed;

static long feed_recv(conn *c, char *p, size_t n) {
    feed *f = c->tls;
    if (f->pos >= f->n) return 0;
    f->rng = f->rng * 1103515245u + 12345u;
    size_t k = 1 + (f->rng >> 8) % f->max_piece;
    if (k > n) k = n;
    if (k > f->n - f->pos) k = f->n - f->pos;
    memcpy(p, f->p + f->pos, k);
    f->pos += k;
    return (long)k;
}

static void feed_init(feed *f, const char *p, size_t n, uint32_t seed) {
    f->p = p;
    f->n = n;
    f->pos = 0;
    f->rng = seed;
    static const size_t pieces[] = {1, 3, 17, 100, 1500, 70000};
    f->max_piece = pieces[seed % 6];
    if (n > 2048 && f->max_piece < 64) f->max_piece = 64; /* keep big inputs fast */
}

/* Read messages from c until the stream ends or one fails, checking each against the
 * prediction for the bytes not yet consumed. */
static void read_all(conn *c, const char *p, size_t n, int response, size_t max_body, const char *how) {
    size_t pos = 0;
    http_msg *m = malloc(sizeof *m);
    expect x = {0};
    for (int k = 0; k < 8; k++) {
        char *body = NULL;
        size_t blen = 0;
        int r = conn_read_msg(c, m, response, max_body, &body, &blen);
        expect_read(p + pos, n - pos, response, max_body, &x);
        FUZZ_CHECK(r == x.r, "%s: message %d: conn_read_msg %d, predicted %d", how, k, r, x.r);
        if (r != 1) break;
        FUZZ_CHECK(blen == x.body.len && (!blen || !memcmp(body, x.body.p, blen)), "%s: message %d: body differs", how, k);
        FUZZ_CHECK(body >= c->in.p && body + blen < c->in.p + c->in.len && body[blen] == 0,
                   "%s: body not followed by a NUL inside the buffer", how);
        FUZZ_CHECK(c->off <= c->in.len, "%s: off past len", how);
        pos += x.consumed;
        /* what the conn holds beyond the message is exactly the rest read so far */
        size_t held = c->in.len - c->off;
        FUZZ_CHECK(held <= n - pos && !memcmp(c->in.p + c->off, p + pos, held), "%s: message %d: leftover bytes differ", how, k);
    }
    buf_free(&x.body);
    free(m);
}

static int collect(void *ud, const char *p, size_t n) {
    buf_put(ud, p, n);
    return 0;
}

static void check_stream(const uint8_t *data, size_t size, uint32_t seed, int response) {
    const char *p = (const char *)data;
    feed f;
    feed_init(&f, p, size, seed * 7 + 1);
    conn c;
    memset(&c, 0, sizeof c);
    c.fd = -1;
    c.recv = feed_recv;
    c.tls = &f;
    http_msg *m = malloc(sizeof *m), *dm = malloc(sizeof *dm);
    buf head = {0}, body = {0}, err_body = {0};
    int r = conn_stream_msg(&c, m, response, &head, collect, &body, &err_body);
    long hl = http_parse_head(p, size, dm, response);
    if (hl > 0 && response && dm->status / 100 != 2) {
        /* an error answer's body goes to err_body (at most 64 KB), the callback gets nothing */
        FUZZ_CHECK(body.len == 0, "an error answer's body reached the callback");
        FUZZ_CHECK(err_body.len <= 65536, "err_body over 64 KB");
        buf t = body; body = err_body; err_body = t;
    }
    size_t cap = hl > 0 && response && dm->status / 100 != 2 ? 65536 : (size_t)-1;
#define CAP(x) ((size_t)(x) < cap ? (size_t)(x) : cap)
    if (hl > 0) {
        FUZZ_CHECK(r != 0, "conn_stream_msg returned 0");
        FUZZ_CHECK(head.len == (size_t)hl && !memcmp(head.p, p, (size_t)hl), "conn_stream_msg head differs");
        const char *b = p + hl;
        size_t rest = size - (size_t)hl;
        int nobody = response == 2 || dm->status == 204 || dm->status == 304 || dm->status / 100 == 1;
        if (nobody) FUZZ_CHECK(r == 1 && body.len == 0, "no-body message: %d, %zu bytes", r, body.len);
        else if (!dm->chunked) {
            if (dm->clen < 0) FUZZ_CHECK(r == 1 && body.len == CAP(rest) && !memcmp(body.p ? body.p : "", b, body.len), "to-EOF body");
            else if ((unsigned long long)dm->clen <= rest)
                FUZZ_CHECK(r == 1 && body.len == CAP(dm->clen) && !memcmp(body.p ? body.p : "", b, body.len), "sized body");
            else FUZZ_CHECK(r == -400, "short sized body: %d", r);
        } else {
            buf ref = {0};
            long used = ref_dechunk(b, rest, &ref, SIZE_MAX);
            if (used > 0 && longest_size_line(b, (size_t)used) <= 1024)
                FUZZ_CHECK(r == 1 && body.len == CAP(ref.len) && (!body.len || !memcmp(body.p, ref.p, body.len)),
                           "conn_stream_msg chunked body: %d, %zu bytes, the decoder %zu", r, body.len, ref.len);
            if (r == 1 && used > 0) FUZZ_CHECK(body.len == CAP(ref.len), "streamed body length");
            buf_free(&ref);
        }
    } else if (hl < 0) FUZZ_CHECK(r == (int)hl, "conn_stream_msg %d on a head refused with %ld", r, hl);
    else FUZZ_CHECK(r == -400, "conn_stream_msg %d on an incomplete head", r);
#undef CAP
    /* keep reading: more messages on the same connection */
    for (int k = 0; r == 1 && k < 4; k++) {
        head.len = 0;
        body.len = 0;
        err_body.len = 0;
        r = conn_stream_msg(&c, m, response, &head, collect, &body, k & 1 ? &err_body : NULL);
        FUZZ_CHECK(c.off <= c.in.len, "off past len");
    }
    buf_free(&head);
    buf_free(&body);
    buf_free(&err_body);
    buf_free(&c.in);
    free(m);
    free(dm);
}

static void check_socketpair(const uint8_t *data, size_t size, int response, size_t max_body) {
    if (size > 60000) return;
    int sv[2];
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv)) return;
    int big = 1 << 18;
    setsockopt(sv[1], SOL_SOCKET, SO_SNDBUF, &big, sizeof big);
    setsockopt(sv[0], SOL_SOCKET, SO_RCVBUF, &big, sizeof big);
    if (size && write_all(sv[1], data, size)) { close(sv[0]); close(sv[1]); return; }
    shutdown(sv[1], SHUT_WR);
    conn c;
    memset(&c, 0, sizeof c);
    c.fd = sv[0];
    c.timeout_ms = 2000;
    read_all(&c, (const char *)data, size, response, max_body, "socketpair");
    buf_free(&c.in);
    close(sv[0]);
    close(sv[1]);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    uint32_t seed = 2166136261u;
    for (size_t i = 0; i < size; i++) seed = (seed ^ data[i]) * 16777619u;
    /* the input in a buffer of exactly its size */
    char *in = malloc(size ? size : 1);
    memcpy(in, data, size);
    http_msg *m = malloc(sizeof *m);
    int response = FUZZ_RESPONSE;
    long r = http_parse_head(in, size, m, response);
    check_head(in, size, r, m, response);
    FUZZ_CHECK(!memcmp(in, data, size), "http_parse_head changed its input");
    size_t off = r > 0 ? (size_t)r : 0;
    check_dechunk(in + off, size - off);
    free(m);
    free(in);

    /* through a connection: responses alternate between normal and the answer to HEAD */
    if (FUZZ_RESPONSE && (seed & 16)) response = 2;
    size_t max_body = seed & 1 ? (size_t)MCP_MAX_BODY : 16 + (seed >> 4) % 512;
    feed f;
    feed_init(&f, (const char *)data, size, seed);
    conn c;
    memset(&c, 0, sizeof c);
    c.fd = -1;
    c.recv = feed_recv;
    c.tls = &f;
    read_all(&c, (const char *)data, size, response, max_body, "pieces");
    buf_free(&c.in);
    if ((seed & 6) == 0) check_socketpair(data, size, response, max_body);
    check_stream(data, size, seed, response);
    return 0;
}
