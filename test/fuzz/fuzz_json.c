/* fuzz_json.c: the JSON reader and writer (sections 3 and 4 of mcp.c).
 *
 * The input is the JSON text. Checked for every input:
 *   - depth limits: a parse with max_depth k succeeds exactly when the document is valid and
 *     nests at most k deep (k from the input, both sides of the 64-level stack buffer);
 *   - the flat value array is consistent (subtree sizes, child counts, NUL-terminated
 *     strings, number text that is a JSON number, the integer flag);
 *   - every number's double is the correctly rounded value of its text (strtod);
 *   - mcp_json_int agrees with an independent exact decimal reading, and with the double;
 *   - mcp_json_get/at/iterate find what a linear walk finds;
 *   - mcp_json_write gives valid UTF-8 JSON that parses to an identical tree, and writing
 *     that again gives the same bytes;
 *   - the streaming writer (jw_*, json_escape_lossy, json_num) always writes valid UTF-8
 *     JSON; lossy escaping keeps valid UTF-8 byte for byte; numbers read back exactly.
 */
#include "../../mcp.c"
#include "fuzz_common.h"

/* ---- the flat array ---- */

static int fz_is_json_number(const char *s, size_t n, int *isint) {
    size_t i = 0;
    *isint = 1;
    if (i < n && s[i] == '-') i++;
    if (i >= n) return 0;
    if (s[i] == '0') i++;
    else if (s[i] >= '1' && s[i] <= '9') while (i < n && s[i] >= '0' && s[i] <= '9') i++;
    else return 0;
    if (i < n && s[i] == '.') {
        *isint = 0;
        i++;
        if (i >= n || s[i] < '0' || s[i] > '9') return 0;
        while (i < n && s[i] >= '0' && s[i] <= '9') i++;
    }
    if (i < n && (s[i] == 'e' || s[i] == 'E')) {
        *isint = 0;
        i++;
        if (i < n && (s[i] == '+' || s[i] == '-')) i++;
        if (i >= n || s[i] < '0' || s[i] > '9') return 0;
        while (i < n && s[i] >= '0' && s[i] <= '9') i++;
    }
    return i == n;
}

/* Reference for mcp_json_int: is the exact value of the number text an int64, and which. */
static int ref_int(const char *s, size_t n, int64_t *out) {
    size_t i = 0;
    int neg = 0;
    if (s[i] == '-') { neg = 1; i++; }
    char dig[64];
    size_t nd = 0, dropped = 0; /* significant digits kept; nonzero digits beyond them */
    long long exp = 0;
    int seen_nonzero = 0;
    for (; i < n && s[i] >= '0' && s[i] <= '9'; i++) {
        if (s[i] != '0') seen_nonzero = 1;
        if (!seen_nonzero) continue;
        if (nd < sizeof dig) dig[nd++] = s[i];
        else { exp++; if (s[i] != '0') dropped = 1; }
    }
    if (i < n && s[i] == '.') {
        for (i++; i < n && s[i] >= '0' && s[i] <= '9'; i++) {
            if (s[i] != '0') seen_nonzero = 1;
            if (!seen_nonzero) { exp--; continue; }
            if (nd < sizeof dig) { dig[nd++] = s[i]; exp--; }
            else if (s[i] != '0') dropped = 1;
        }
    }
    if (i < n && (s[i] == 'e' || s[i] == 'E')) {
        i++;
        int eneg = 0;
        if (s[i] == '+' || s[i] == '-') eneg = s[i++] == '-';
        long long e = 0;
        for (; i < n; i++) if (e < 1000000000) e = e * 10 + (s[i] - '0');
        exp += eneg ? -e : e;
    }
    if (!nd) { *out = 0; return 1; } /* zero, however written */
    if (dropped) return 0;              /* more than 64 significant digits: far outside int64 */
    while (nd && dig[nd - 1] == '0') { nd--; exp++; }
    if (exp < 0) return 0;
    if ((long long)nd + exp > 19) return 0;
    unsigned __int128 m = 0;
    for (size_t k = 0; k < nd; k++) m = m * 10 + (unsigned)(dig[k] - '0');
    for (long long k = 0; k < exp; k++) m *= 10;
    unsigned __int128 lim = neg ? (unsigned __int128)INT64_MAX + 1 : (unsigned __int128)INT64_MAX;
    if (m > lim) return 0;
    *out = neg ? (int64_t)(0 - (uint64_t)m) : (int64_t)(uint64_t)m;
    return 1;
}

static int g_dups; /* the document has an object with a repeated key */

static size_t check_value(const mcp_json *v, const mcp_json *end, int is_key) {
    FUZZ_CHECK(v < end, "value array overrun");
    mcp_json_type t = MCP_JSON_TYPE(v);
    FUZZ_CHECK(t >= MCP_JSON_NULL && t <= MCP_JSON_OBJECT, "bad type %u", (unsigned)v->type);
    FUZZ_CHECK((v->type & ~0xffu) == 0 || (t == MCP_JSON_NUMBER && (v->type & ~0xffu) == MCP_JSON_F_INT),
               "stray flags 0x%x", (unsigned)v->type);
    if (is_key) FUZZ_CHECK(t == MCP_JSON_STRING, "an object key that is not a string");
    switch (t) {
    case MCP_JSON_STRING:
        FUZZ_CHECK(v->s[v->len] == 0, "string not NUL-terminated");
        FUZZ_CHECK(fz_utf8_valid(v->s, v->len), "decoded string is not UTF-8: %s", fz_show(v->s, v->len));
        return 1;
    case MCP_JSON_NUMBER: {
        int isint;
        FUZZ_CHECK(fz_is_json_number(v->s, v->len, &isint), "number text is not a JSON number: %s", fz_show(v->s, v->len));
        FUZZ_CHECK(isint == !!(v->type & MCP_JSON_F_INT), "integer flag wrong for %s", fz_show(v->s, v->len));
        /* the nearest double, as strtod (correctly rounded in glibc) reads the same text */
        char *t2 = malloc(v->len + 1);
        memcpy(t2, v->s, v->len);
        t2[v->len] = 0;
        double want = strtod(t2, NULL);
        FUZZ_CHECK(want == v->u.d || (isnan(want) && isnan(v->u.d)), "number %s parsed as %.17g, strtod says %.17g",
                   t2, v->u.d, want);
        FUZZ_CHECK(signbit(want) == signbit(v->u.d), "sign of %s", t2);
        int64_t got = 0x5a5a5a5a5a5a5a5a, ref = 0;
        int gi = mcp_json_int(v, &got), ri = ref_int(v->s, v->len, &ref);
        FUZZ_CHECK(gi == ri, "mcp_json_int(%s) says %d, the exact value says %d", t2, gi, ri);
        if (gi) {
            FUZZ_CHECK(got == ref, "mcp_json_int(%s) = %lld, exact %lld", t2, (long long)got, (long long)ref);
            FUZZ_CHECK((double)got == v->u.d, "mcp_json_int(%s) = %lld but the double is %.17g", t2, (long long)got, v->u.d);
        } else FUZZ_CHECK(got == 0x5a5a5a5a5a5a5a5a, "mcp_json_int changed *out on failure for %s", t2);
        free(t2);
        return 1;
    }
    case MCP_JSON_ARRAY:
    case MCP_JSON_OBJECT: {
        FUZZ_CHECK(v->u.next >= 1 && v + v->u.next <= end, "container size out of range");
        const mcp_json *c = v + 1;
        uint32_t count = 0;
        while (c < v + v->u.next) {
            if (t == MCP_JSON_OBJECT) c += check_value(c, v + v->u.next, 1);
            c += check_value(c, v + v->u.next, 0);
            count++;
        }
        FUZZ_CHECK(c == v + v->u.next, "children overrun their container");
        FUZZ_CHECK(count == v->len, "container says %u children, has %u", v->len, count);
        /* lookups against the walk */
        mcp_json_iter it = mcp_json_iterate(v);
        const mcp_json *k, *x;
        size_t i = 0;
        while ((x = mcp_json_iter_next(&it, &k))) {
            if (t == MCP_JSON_ARRAY) {
                FUZZ_CHECK(mcp_json_at(v, i) == x, "mcp_json_at(%zu) differs from the iterator", i);
                FUZZ_CHECK(k == NULL, "array iteration set a key");
            } else {
                /* the first member with this key */
                const mcp_json *first = json_get_n(v, k->s, k->len);
                FUZZ_CHECK(first != NULL, "json_get_n misses a key");
                mcp_json_iter j2 = mcp_json_iterate(v);
                const mcp_json *k2, *x2;
                while ((x2 = mcp_json_iter_next(&j2, &k2)))
                    if (k2->len == k->len && !memcmp(k2->s, k->s, k->len)) break;
                FUZZ_CHECK(first == x2, "json_get_n does not return the first member with the key");
                if (first != x) g_dups = 1;
                if (strlen(k->s) == k->len) FUZZ_CHECK(mcp_json_get(v, k->s) == first, "mcp_json_get differs");
                FUZZ_CHECK(mcp_json_at(v, i) == NULL, "mcp_json_at on an object");
            }
            i++;
        }
        FUZZ_CHECK(i == v->len, "iterator count");
        FUZZ_CHECK(mcp_json_at(v, v->len) == NULL && mcp_json_at(v, (size_t)-1) == NULL, "mcp_json_at out of range");
        return v->u.next;
    }
    default:
        FUZZ_CHECK(v->s == NULL && v->len == 0, "literal with text");
        return 1;
    }
}

/* ---- the streaming writer ---- */

/* Write v with jw_* (numbers through jw_num, strings lossy): must be valid JSON. */
static void jw_tree(jw *w, const mcp_json *v) {
    switch (MCP_JSON_TYPE(v)) {
    case MCP_JSON_NULL: jw_null(w); break;
    case MCP_JSON_TRUE: jw_bool(w, 1); break;
    case MCP_JSON_FALSE: jw_bool(w, 0); break;
    case MCP_JSON_NUMBER:
        if (v->type & MCP_JSON_F_INT) {
            int64_t i;
            if (mcp_json_int(v, &i)) { jw_int(w, i); break; }
        }
        jw_num(w, v->u.d);
        break;
    case MCP_JSON_STRING: jw_strn(w, v->s, v->len); break;
    case MCP_JSON_ARRAY: {
        jw_arr(w);
        mcp_json_iter it = mcp_json_iterate(v);
        const mcp_json *c;
        while ((c = mcp_json_iter_next(&it, NULL))) jw_tree(w, c);
        jw_end_arr(w);
        break;
    }
    case MCP_JSON_OBJECT: {
        jw_obj(w);
        mcp_json_iter it = mcp_json_iterate(v);
        const mcp_json *c, *k;
        while ((c = mcp_json_iter_next(&it, &k))) {
            if (strlen(k->s) == k->len) jw_key(w, k->s);
            else jw_key(w, "\\u0000 key"); /* jw_key takes a C string */
            jw_tree(w, c);
        }
        jw_end_obj(w);
        break;
    }
    default: break;
    }
}

static void check_escape(const uint8_t *data, size_t size) {
    buf b = {0};
    json_escape_lossy(&b, (const char *)data, size);
    mcp_json_doc *d = fz_must_parse("json_escape_lossy output", b.p, b.len);
    const mcp_json *s = mcp_json_root(d);
    FUZZ_CHECK(MCP_JSON_TYPE(s) == MCP_JSON_STRING, "escaped text is not a string");
    if (fz_utf8_valid(data, size))
        FUZZ_CHECK(s->len == size && !memcmp(s->s, data, size), "lossy escaping changed valid UTF-8");
    else {
        FUZZ_CHECK(fz_utf8_valid(s->s, s->len), "decoded lossy string is not UTF-8");
        FUZZ_CHECK(s->len >= size, "lossy escaping lost bytes"); /* each bad byte becomes U+FFFD */
    }
    mcp_json_free(d);
    buf_free(&b);

    /* numbers: json_num of a double made from the bytes reads back exactly */
    if (size >= 8) {
        double x;
        memcpy(&x, data, 8);
        buf nb = {0};
        json_num(&nb, x);
        if (isfinite(x)) {
            mcp_json_doc *nd = fz_must_parse("json_num output", nb.p, nb.len);
            const mcp_json *nv = mcp_json_root(nd);
            FUZZ_CHECK(MCP_JSON_TYPE(nv) == MCP_JSON_NUMBER, "json_num wrote a non-number: %s", nb.p);
            FUZZ_CHECK(nv->u.d == x, "json_num(%.17g) = %s reads back as %.17g", x, nb.p, nv->u.d);
            mcp_json_free(nd);
        } else FUZZ_CHECK(!strcmp(nb.p, "null"), "json_num of a non-finite value: %s", nb.p);
        buf_free(&nb);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    const char *text = (const char *)data;
    check_escape(data, size);

    /* the reference parse: deep enough for anything this input can nest */
    int full = size + 2 > 100000 ? 100000 : (int)size + 2;
    mcp_json_err e;
    mcp_json_doc *d = mcp_json_parse(text, size, full, &e);
    if (!d) {
        FUZZ_CHECK(e.code > MCP_JSON_OK && e.code <= MCP_JSON_E_MEMORY && e.code != MCP_JSON_E_MEMORY,
                   "error code %d", e.code);
        FUZZ_CHECK(e.pos <= size, "error position %zu past the input (%zu)", e.pos, size);
        FUZZ_CHECK(e.msg && *e.msg, "error without a message");
        FUZZ_CHECK(e.code != MCP_JSON_E_DEPTH, "depth error at the full depth");
    }

    /* a depth limit from the input: 1..140, and 0 (the default 128) */
    unsigned h = 0;
    for (size_t i = 0; i < size; i++) h = h * 31 + data[i];
    int k = (int)(h % 142) - 1; /* -1 and 0 mean the default */
    mcp_json_err ek;
    mcp_json_doc *dk = mcp_json_parse(text, size, k, &ek);
    int limit = k <= 0 ? MCP_MAX_DEPTH : k;
    if (!d) FUZZ_CHECK(!dk, "parses with max_depth %d but not with %d", k, full);
    else {
        int depth = fz_depth(mcp_json_root(d));
        if (depth <= limit) FUZZ_CHECK(dk != NULL, "depth %d refused with max_depth %d (%s)", depth, k, ek.msg);
        else FUZZ_CHECK(!dk && ek.code == MCP_JSON_E_DEPTH, "depth %d with max_depth %d: %s", depth, k,
                        dk ? "accepted" : ek.msg);
    }
    if (dk) FUZZ_CHECK(fz_tree_equal(mcp_json_root(d), mcp_json_root(dk)), "the depth limit changed the tree");
    mcp_json_free(dk);
    if (!d) return 0;

    FUZZ_CHECK(fz_utf8_valid(data, size), "a document that is not UTF-8 was accepted");
    const mcp_json *root = mcp_json_root(d);
    FUZZ_CHECK(root != NULL, "no root");
    g_dups = 0;
    FUZZ_CHECK(check_value(root, root + d->n, 0) == d->n, "the root does not span the document");

    /* round trip through mcp_json_write */
    size_t wl = 0;
    char *w1 = mcp_json_write(root, &wl);
    FUZZ_CHECK(w1 && strlen(w1) == wl, "mcp_json_write length");
    mcp_json_doc *d2 = fz_must_parse("mcp_json_write output", w1, wl);
    FUZZ_CHECK(fz_tree_equal(root, mcp_json_root(d2)), "round trip changed the document: %s", fz_show(w1, wl));
    size_t wl2 = 0;
    char *w2 = mcp_json_write(mcp_json_root(d2), &wl2);
    FUZZ_CHECK(wl2 == wl && !memcmp(w1, w2, wl), "writing twice gave different bytes");
    /* json_equal (schema const/enum) sees a document as equal to its copy, unless duplicate
     * keys make member lookup ambiguous */
    if (!g_dups) FUZZ_CHECK(json_equal(root, mcp_json_root(d2)), "json_equal says a copy differs");
    free(w2);
    mcp_json_free(d2);
    free(w1);

    /* every subtree written on its own parses to the same subtree */
    for (size_t i = 0; i < d->n && i < 64; i++) {
        const mcp_json *v = &d->v[i];
        size_t sl;
        char *s = mcp_json_write(v, &sl);
        mcp_json_doc *ds = fz_must_parse("subtree", s, sl);
        FUZZ_CHECK(fz_tree_equal(v, mcp_json_root(ds)), "subtree %zu round trip", i);
        mcp_json_free(ds);
        free(s);
    }

    /* the streaming writer over the same tree */
    buf jb = {0};
    jw w = {&jb, 0};
    jw_tree(&w, root);
    mcp_json_doc *d3 = fz_must_parse("jw_* output", jb.p, jb.len);
    FUZZ_CHECK(fz_depth(mcp_json_root(d3)) == fz_depth(root), "jw_* changed the shape");
    mcp_json_free(d3);
    buf_free(&jb);

    mcp_json_free(d);
    return 0;
}
