/* fuzz_sse.c: the Server-Sent Events writer of Streamable HTTP (sse_put, section 11).
 *
 * The input is split at NUL bytes into messages; each is handed to sse_put as the JSON
 * message of an event, into a buffered hres (as Lambda and the tests use it) and into a
 * streaming one (as serve uses it, through start/write). Checked:
 *   - the stream's framing survives any payload: every line is "event:...", "data:..." or
 *     empty (a bare CR counts as a line end, as it does for a browser), and it ends at an
 *     event boundary;
 *   - a browser's parse of the stream gives one "message" event per sse_put, in order, whose
 *     data is the message: byte for byte for payloads without line breaks, and the same JSON
 *     document whenever the payload is JSON;
 *   - the buffered and the streamed output are the same bytes; status and type are set.
 */
#include "../../mcp.c"
#include "fuzz_common.h"

static int starts, writes;
static buf streamed;

static int t_start(hres *r) { (void)r; starts++; return 0; }
static int t_write(hres *r, const char *p, size_t n) { (void)r; writes++; buf_put(&streamed, p, n); return 0; }

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    const char *in = (const char *)data;
    hres b, s;
    memset(&b, 0, sizeof b);
    memset(&s, 0, sizeof s);
    s.start = t_start;
    s.write = t_write;
    starts = writes = 0;
    streamed.len = 0;
    int nmsg = 0;
    size_t at = 0;
    for (;;) {
        const char *z = memchr(in + at, 0, size - at);
        size_t len = z ? (size_t)(z - in) - at : size - at;
        FUZZ_CHECK(sse_put(&b, in + at, len) == 0, "sse_put failed (buffered)");
        FUZZ_CHECK(sse_put(&s, in + at, len) == 0, "sse_put failed (streaming)");
        nmsg++;
        if (!z || nmsg == 64) break;
        at += len + 1;
    }
    FUZZ_CHECK(b.sse && b.status == 200 && b.ctype && !strcmp(b.ctype, "text/event-stream") && !b.streaming, "buffered hres state");
    FUZZ_CHECK(s.sse && s.streaming && starts == 1 && writes == nmsg && s.body.len == 0, "streaming hres state");
    FUZZ_CHECK(streamed.len == b.body.len && !memcmp(streamed.p, b.body.p, b.body.len), "streamed and buffered output differ");

    fz_events es;
    fz_sse_parse(b.body.p, b.body.len, &es);
    FUZZ_CHECK(es.n == nmsg, "%d messages became %d events", nmsg, es.n);
    at = 0;
    for (int i = 0; i < es.n; i++) {
        const char *z = memchr(in + at, 0, size - at);
        size_t len = z ? (size_t)(z - in) - at : size - at;
        const char *msg = in + at;
        FUZZ_CHECK(!strcmp(es.ev[i].type, "message"), "event %d has type %s", i, es.ev[i].type);
        if (!memchr(msg, '\n', len) && !memchr(msg, '\r', len))
            FUZZ_CHECK(es.ev[i].len == len && !memcmp(es.ev[i].data, msg, len), "event %d data differs from the message", i);
        mcp_json_err e;
        mcp_json_doc *want = mcp_json_parse(msg, len, 1000, &e);
        if (want) {
            mcp_json_doc *got = mcp_json_parse(es.ev[i].data, es.ev[i].len, 1000, &e);
            FUZZ_CHECK(got && fz_tree_equal(mcp_json_root(want), mcp_json_root(got)),
                       "event %d does not carry the JSON message it was given", i);
            mcp_json_free(got);
            mcp_json_free(want);
        }
        at += len + 1;
    }
    fz_events_free(&es);
    buf_free(&b.body);
    buf_free(&b.head);
    buf_free(&s.body);
    buf_free(&s.head);
    return 0;
}
