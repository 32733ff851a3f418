/* datatools.c: an MCP server for looking at data, on mcp.c.
 *
 *   describe_csv {source}                 profile a CSV file: a path under DATA_ROOT or s3://bucket/key
 *   list_objects {bucket, prefix?, max?}  S3 keys with their size and last-modified time
 *   ask_llm      {prompt, model?}         one chat completion from an OpenAI-compatible API
 *
 * and, on Lambda, a scheduled refresh: an EventBridge schedule invoking the function fetches
 * REFRESH_URL (GET, up to 16 MB) and writes the answer to s3://REFRESH_BUCKET/REFRESH_KEY with
 * the source's Content-Type, the shape of a nightly job that keeps a data set current. A
 * failure (a variable unset, the fetch failing or answering other than 2xx, S3 refusing the
 * write) fails the invocation with a message naming it, so Lambda retries the event and counts
 * it in the Errors metric.
 *
 * Build and run:
 *   ./build.sh                                # build/datatools, with every other example
 *   ./build.sh examples/datatools.c           # build/bootstrap and build/bootstrap.zip for Lambda
 *   DATA_ROOT=$HOME/data build/datatools call describe_csv '{"source":"sales.csv"}'
 *   build/datatools call describe_csv '{"source":"s3://my-bucket/2024/sales.csv"}'
 *   build/datatools call list_objects '{"bucket":"my-bucket","prefix":"2024/"}'
 *   OPENAI_API_KEY=sk-... build/datatools call ask_llm '{"prompt":"Say hi"}'
 *   build/datatools serve                     # MCP on http://127.0.0.1:8080/mcp
 *
 * Environment: DATA_ROOT (local files are read only below it; default the current
 * directory); AWS credentials and AWS_REGION as Lambda sets them (AWS_ENDPOINT_URL_S3 points
 * at an S3-compatible server, path style); OPENAI_BASE_URL (default
 * https://api.openai.com/v1), OPENAI_API_KEY, OPENAI_MODEL (default gpt-4o-mini). On Lambda,
 * set OPENAI_API_KEY=ssm:/mcp-server/openai-api-key and the runtime resolves it at start.
 * REFRESH_URL, REFRESH_BUCKET and REFRESH_KEY configure the scheduled refresh; the function's
 * role needs s3:PutObject on that key.
 *
 * describe_csv reads RFC 4180 CSV (quoted fields, "" escapes, CRLF or LF line ends, line
 * breaks inside quotes; a UTF-8 byte order mark is skipped) in one streaming pass that
 * keeps a few rows, never the file, so files larger than memory work. The first record is
 * the header and names the columns; `rows` counts the records after it; blank lines are
 * skipped. An empty field is a null.
 * A column's type is the first of integer, number, boolean (true/false, any case), date
 * (YYYY-MM-DD) and string that fits every non-null value (string when there is none); min
 * and max are numeric for integer and number columns and lexicographic (by UTF-8 bytes)
 * for the others. Bad input is a tool error that says why: no such file, access denied, an
 * empty file, invalid UTF-8 (with the byte offset of the first bad sequence, counted from
 * 0), an unterminated quote, or ragged rows: the whole file is read, then the error names
 * the first record whose field count differs from the header's (records are numbered from
 * the header, record 1, with the line it starts on) and how many such records there are.
 */
#define _XOPEN_SOURCE 700 /* realpath */
#include "../mcp.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

/* What the answer shows of a value (a column name, a min or max string, a sample field),
 * and how large the profile may grow: whatever a file holds, the answer stays well inside
 * Lambda's 6 MB (a control character is six bytes once escaped, and the profile is sent
 * twice, as text and as structured content). */
#define SHOWN_BYTES 256
#define SAMPLE_ROW_BYTES 16384
#define PROFILE_BYTES (1 << 20)

/*--- a growable string, and JSON out ---*/

typedef struct { char *p; size_t n, cap; } str;

static char *room(str *s, size_t n) { /* space for n more bytes and a NUL */
    if (s->n + n + 1 > s->cap) {
        s->cap = (s->n + n + 1) * 2;
        if (!(s->p = realloc(s->p, s->cap))) abort();
    }
    return s->p + s->n;
}
static void put(str *s, const char *p, size_t n) {
    memcpy(room(s, n), p, n);
    s->p[s->n += n] = 0;
}
static void puts_(str *s, const char *p) { put(s, p, strlen(p)); }

static void putf(str *s, const char *fmt, ...) MCP_PRINTF(2, 3);
static void putf(str *s, const char *fmt, ...) {
    va_list ap, aq;
    va_start(ap, fmt);
    va_copy(aq, ap);
    int n = vsnprintf(NULL, 0, fmt, ap);
    if (n > 0) s->n += (size_t)vsnprintf(room(s, (size_t)n), (size_t)n + 1, fmt, aq);
    va_end(aq);
    va_end(ap);
}

/* The first SHOWN_BYTES of p, cut at a UTF-8 boundary, with "..." when cut. */
static void put_json_shown(str *s, const char *p, size_t n);

static void put_json(str *s, const char *p, size_t n) { /* p is valid UTF-8 */
    put(s, "\"", 1);
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)p[i];
        if (c == '"' || c == '\\') { put(s, "\\", 1); put(s, p + i, 1); }
        else if (c == '\n') put(s, "\\n", 2);
        else if (c == '\r') put(s, "\\r", 2);
        else if (c == '\t') put(s, "\\t", 2);
        else if (c < 0x20) putf(s, "\\u%04x", c);
        else put(s, p + i, 1);
    }
    put(s, "\"", 1);
}

static void put_json_shown(str *s, const char *p, size_t n) {
    if (n <= SHOWN_BYTES) { put_json(s, p, n); return; }
    size_t k = SHOWN_BYTES;
    while (k && ((unsigned char)p[k] & 0xC0) == 0x80) k--; /* not inside a character */
    str t = {0};
    put(&t, p, k);
    puts_(&t, "...");
    put_json(s, t.p, t.n);
    free(t.p);
}

static void put_num(str *s, double d) { /* the shortest text that reads back as d */
    char b[32];
    for (int prec = 1; prec <= 17; prec++) {
        snprintf(b, sizeof b, "%.*g", prec, d);
        if (strtod(b, NULL) == d) break;
    }
    puts_(s, b);
}

/*--- describe_csv: what one column holds ---*/

typedef struct {
    str name, smin, smax;
    long long nulls, seen;
    int not_int, not_num, not_bool, not_date;
    long long imin, imax;
    double dmin, dmax;
} column;

static int is_digit(char c) { return c >= '0' && c <= '9'; }

static int parse_int(const char *s, size_t n, long long *v) {
    size_t i = n && (s[0] == '-' || s[0] == '+');
    if (i == n) return 0;
    for (size_t j = i; j < n; j++) if (!is_digit(s[j])) return 0;
    errno = 0;
    *v = strtoll(s, NULL, 10);
    return errno != ERANGE;
}

static int parse_num(const char *s, size_t n, double *v) { /* decimal only: no inf, nan, hex */
    size_t i = n && (s[0] == '-' || s[0] == '+'), digits = 0;
    for (; i < n && is_digit(s[i]); i++) digits++;
    if (i < n && s[i] == '.') for (i++; i < n && is_digit(s[i]); i++) digits++;
    if (!digits) return 0;
    if (i < n && (s[i] == 'e' || s[i] == 'E')) {
        i += i + 1 < n && (s[i + 1] == '-' || s[i + 1] == '+');
        size_t e = ++i;
        while (i < n && is_digit(s[i])) i++;
        if (i == e) return 0;
    }
    *v = strtod(s, NULL);
    return i == n && isfinite(*v);
}

static int is_date(const char *s, size_t n) {
    static const int mdays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (n != 10 || s[4] != '-' || s[7] != '-') return 0;
    for (int i = 0; i < 10; i++) if (i != 4 && i != 7 && !is_digit(s[i])) return 0;
    int y = atoi(s), m = atoi(s + 5), d = atoi(s + 8);
    int leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    return m >= 1 && m <= 12 && d >= 1 && d <= mdays[m - 1] + (m == 2 && leap);
}

static int bytes_cmp(const char *a, size_t an, const str *b) {
    int c = memcmp(a, b->p, an < b->n ? an : b->n);
    return c ? c : (an > b->n) - (an < b->n);
}

static void column_add(column *k, const char *v, size_t n) {
    if (!n) { k->nulls++; return; }
    long long i;
    double d;
    int first = !k->seen++;
    if (!k->not_int && !(k->not_int = !parse_int(v, n, &i))) {
        if (first || i < k->imin) k->imin = i;
        if (first || i > k->imax) k->imax = i;
    }
    if (!k->not_num && !(k->not_num = !parse_num(v, n, &d))) {
        if (first || d < k->dmin) k->dmin = d;
        if (first || d > k->dmax) k->dmax = d;
    }
    if (!k->not_bool) k->not_bool = !((n == 4 && !strncasecmp(v, "true", 4)) || (n == 5 && !strncasecmp(v, "false", 5)));
    if (!k->not_date) k->not_date = !is_date(v, n);
    size_t keep = n > SHOWN_BYTES + 1 ? SHOWN_BYTES + 1 : n; /* compared and kept by their first bytes */
    if (first || bytes_cmp(v, keep, &k->smin) < 0) { k->smin.n = 0; put(&k->smin, v, keep); }
    if (first || bytes_cmp(v, keep, &k->smax) > 0) { k->smax.n = 0; put(&k->smax, v, keep); }
}

static const char *column_type(const column *k) {
    return !k->seen ? "string" : !k->not_int ? "integer" : !k->not_num ? "number"
         : !k->not_bool ? "boolean" : !k->not_date ? "date" : "string";
}

/*--- describe_csv: the streaming reader ---*/

#define MAX_FIELD (1 << 20)
#define MAX_COLUMNS 10000
#define SAMPLE_ROWS 5

enum { START, UNQUOTED, QUOTED, QUOTE_SEEN };

typedef struct {
    unsigned long long off, line, rec_line, ragged, ragged_rec, ragged_line;
    int utf8_need, utf8_lo, utf8_hi;     /* the UTF-8 check */
    unsigned long long utf8_at;          /* where the pending sequence started */
    int state, after_cr;
    str field;                           /* the field being read */
    str sample[SAMPLE_ROWS];             /* the first rows, each a JSON array */
    int sample_cut[SAMPLE_ROWS];
    size_t nfield, ragged_n;
    column *col;
    size_t ncol;                         /* the header's fields */
    long long records;                   /* the header included */
    char err[300];
} csv;

static int csv_fail(csv *c, const char *fmt, ...) MCP_PRINTF(2, 3);
static int csv_fail(csv *c, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    if (!c->err[0]) vsnprintf(c->err, sizeof c->err, fmt, ap);
    va_end(ap);
    return -1;
}

static int field_end(csv *c) {
    size_t i = c->nfield++;
    if (c->records == 0) {
        if (i >= MAX_COLUMNS) return csv_fail(c, "more than %d columns", MAX_COLUMNS);
        if (!(c->col = realloc(c->col, (i + 1) * sizeof *c->col))) abort();
        memset(&c->col[i], 0, sizeof *c->col);
        put(&c->col[i].name, c->field.p ? c->field.p : "", c->field.n);
        c->ncol = i + 1;
    } else if (i < c->ncol) {
        put(&c->field, "", 0); /* NUL-terminated for the parsers */
        column_add(&c->col[i], c->field.p, c->field.n);
    }
    if (c->records >= 1 && c->records <= SAMPLE_ROWS && i < MAX_COLUMNS) {
        str *row = &c->sample[c->records - 1];
        if (row->n < SAMPLE_ROW_BYTES) {
            put(row, i ? "," : "[", 1);
            put_json_shown(row, c->field.p ? c->field.p : "", c->field.n);
        } else if (!c->sample_cut[c->records - 1]) { /* the rest of a wide row is left out */
            c->sample_cut[c->records - 1] = 1;
            puts_(row, ",\"...\"");
        }
    }
    c->field.n = 0;
    return 0;
}

static int record_end(csv *c) {
    if (c->state == START && c->nfield == 0) return 0; /* a blank line */
    if (field_end(c)) return -1;
    if (c->records > 0 && c->nfield != c->ncol && !c->ragged++) {
        c->ragged_rec = (unsigned long long)c->records + 1;
        c->ragged_line = c->rec_line;
        c->ragged_n = c->nfield;
    }
    if (c->records >= 1 && c->records <= SAMPLE_ROWS) puts_(&c->sample[c->records - 1], "]");
    c->records++;
    c->nfield = 0;
    return 0;
}

/* One byte through the UTF-8 check (RFC 3629: no overlongs, surrogates or > U+10FFFF). */
static int utf8_ok(csv *c, unsigned char b) {
    if (c->utf8_need) {
        if (b < c->utf8_lo || b > c->utf8_hi) return 0;
        c->utf8_lo = 0x80, c->utf8_hi = 0xBF;
        c->utf8_need--;
        return 1;
    }
    c->utf8_at = c->off;
    c->utf8_lo = 0x80, c->utf8_hi = 0xBF;
    if (b >= 0xC2 && b <= 0xDF) c->utf8_need = 1;
    else if (b >= 0xE0 && b <= 0xEF) {
        c->utf8_need = 2;
        if (b == 0xE0) c->utf8_lo = 0xA0;
        if (b == 0xED) c->utf8_hi = 0x9F;
    } else if (b >= 0xF0 && b <= 0xF4) {
        c->utf8_need = 3;
        if (b == 0xF0) c->utf8_lo = 0x90;
        if (b == 0xF4) c->utf8_hi = 0x8F;
    } else return 0;
    return 1;
}

static int field_add(csv *c, char b) {
    if (c->field.n >= MAX_FIELD)
        return csv_fail(c, "record %lld (line %llu) has a field longer than %d bytes (an unterminated quote?)",
                        c->records + 1, c->rec_line, MAX_FIELD);
    put(&c->field, &b, 1);
    return 0;
}

/* Feed the next n bytes; nonzero stops (c->err says why). The shape of an on_body callback. */
static int csv_feed(void *ud, const char *p, size_t n) {
    csv *c = ud;
    if (c->off == 0 && n >= 3 && !memcmp(p, "\xEF\xBB\xBF", 3)) p += 3, n -= 3, c->off = 3; /* a BOM */
    for (size_t i = 0; i < n; i++, c->off++) {
        unsigned char b = (unsigned char)p[i];
        if ((b >= 0x80 || c->utf8_need) && !utf8_ok(c, b))
            return csv_fail(c, "invalid UTF-8 at byte offset %llu", c->utf8_at);
        if (c->after_cr) {
            c->after_cr = 0;
            if (b == '\n') { c->line++; continue; } /* CRLF */
        }
        if (c->state == START && c->nfield == 0) c->rec_line = c->line;
        int r = 0;
        switch (c->state) {
        case QUOTED:
            if (b == '"') c->state = QUOTE_SEEN;
            else r = field_add(c, (char)b);
            break;
        case QUOTE_SEEN:
            if (b == '"') { c->state = QUOTED; r = field_add(c, '"'); break; }
            c->state = UNQUOTED; /* the closing quote: go on as outside quotes */
            /* fall through */
        default:
            if (b == ',') { r = field_end(c); c->state = START; }
            else if (b == '\n' || b == '\r') { r = record_end(c); c->state = START; c->after_cr = b == '\r'; }
            else if (b == '"' && c->state == START) c->state = QUOTED;
            else { r = field_add(c, (char)b); c->state = UNQUOTED; }
        }
        if (r) return r;
        if (b == '\n') c->line++;
    }
    return 0;
}

static int csv_end(csv *c) {
    if (c->err[0]) return -1;
    if (c->utf8_need) return csv_fail(c, "invalid UTF-8 at byte offset %llu", c->utf8_at);
    if (c->state == QUOTED)
        return csv_fail(c, "record %lld (line %llu) has a quoted field that never ends", c->records + 1, c->rec_line);
    if (record_end(c)) return -1;
    if (c->off == 0) return csv_fail(c, "empty file");
    if (c->records == 0) return csv_fail(c, "no header row (only blank lines)");
    if (c->ragged)
        return csv_fail(c, "ragged rows: record %llu (line %llu) has %zu fields but the header has %zu; "
                        "%llu of %lld data rows have a field count other than the header's",
                        c->ragged_rec, c->ragged_line, c->ragged_n, c->ncol, c->ragged, c->records - 1);
    return 0;
}

static void csv_free(csv *c) {
    for (size_t i = 0; i < c->ncol; i++) {
        free(c->col[i].name.p);
        free(c->col[i].smin.p);
        free(c->col[i].smax.p);
    }
    for (int i = 0; i < SAMPLE_ROWS; i++) free(c->sample[i].p);
    free(c->col);
    free(c->field.p);
}

/*--- describe_csv: the sources ---*/

static int has_dotdot(const char *path) {
    for (const char *p = path; p; p = strchr(p, '/') ? strchr(p, '/') + 1 : NULL)
        if (p[0] == '.' && p[1] == '.' && (p[2] == '/' || !p[2])) return 1;
    return 0;
}

static int under(const char *path, const char *root) {
    size_t n = strlen(root);
    return !strncmp(path, root, n) && (path[n] == '/' || !path[n]);
}

/* Stream a local file: a relative path below DATA_ROOT, or an absolute one inside it. */
static int read_local(const char *src, csv *c) {
    const char *root = getenv("DATA_ROOT");
    char rroot[PATH_MAX], path[PATH_MAX + 1024], real[PATH_MAX];
    if (!realpath(root && *root ? root : ".", rroot)) return csv_fail(c, "DATA_ROOT: %s", strerror(errno));
    if (has_dotdot(src)) return csv_fail(c, "access denied: '..' is not allowed in a path");
    if (src[0] == '/' && !under(src, rroot)) return csv_fail(c, "access denied: the path is outside DATA_ROOT");
    if (src[0] == '/') snprintf(path, sizeof path, "%s", src);
    else snprintf(path, sizeof path, "%s/%s", rroot, src);
    if (!realpath(path, real)) return csv_fail(c, "%s", errno == ENOENT ? "no such file" : strerror(errno));
    if (!under(real, rroot)) return csv_fail(c, "access denied: the path is outside DATA_ROOT"); /* a link */
    int fd = open(real, O_RDONLY | O_CLOEXEC | O_NONBLOCK); /* a FIFO must not block the open */
    struct stat st;
    if (fd < 0) return csv_fail(c, "%s", strerror(errno));
    if (fstat(fd, &st) || !S_ISREG(st.st_mode)) { close(fd); return csv_fail(c, "not a regular file"); }
    fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK);
    char *chunk = malloc(1 << 16);
    ssize_t n = 0;
    while (chunk && (n = read(fd, chunk, 1 << 16)) > 0 && !csv_feed(c, chunk, (size_t)n)) {}
    if (!chunk || n < 0) csv_fail(c, "read: %s", strerror(chunk ? errno : ENOMEM));
    free(chunk);
    close(fd);
    return c->err[0] ? -1 : 0;
}

/* Stream s3://bucket/key. */
static int read_s3(const char *src, csv *c) {
    const char *key = strchr(src + 5, '/');
    if (!key || key == src + 5 || !key[1] || key - src - 5 > 255) return csv_fail(c, "an S3 source is s3://bucket/key");
    char bucket[256];
    snprintf(bucket, sizeof bucket, "%.*s", (int)(key - src - 5), src + 5);
    mcp_http_response rs;
    int r = mcp_s3_get(bucket, key + 1, NULL, csv_feed, c, &rs);
    if (rs.status && rs.status / 100 != 2) c->err[0] = 0; /* S3 refused: what the parser saw was no object */
    if (rs.status == 403) csv_fail(c, "access denied (%s)", rs.error);
    else if (rs.status == 404) csv_fail(c, "no such object (%s)", rs.error);
    else if (r) csv_fail(c, "%s", rs.error); /* kept when the parser stopped the stream */
    mcp_http_free(&rs);
    return c->err[0] ? -1 : 0;
}

static int describe_csv(mcp_call *call) {
    const char *src = mcp_str(call, "source");
    csv c = {.line = 1};
    int r = strncmp(src, "s3://", 5) ? read_local(src, &c) : read_s3(src, &c);
    if (r || csv_end(&c)) {
        mcp_error(call, "%s: %s", src, c.err);
        csv_free(&c);
        return 0;
    }
    str j = {0}, t = {0};
    puts_(&j, "{\"source\":");
    put_json(&j, src, strlen(src));
    putf(&j, ",\"bytes\":%llu,\"rows\":%lld,\"columns\":[", c.off, c.records - 1);
    putf(&t, "%s: %lld rows, %zu columns, %llu bytes\n", src, c.records - 1, c.ncol, c.off);
    for (size_t i = 0; i < c.ncol; i++) {
        column *k = &c.col[i];
        const char *type = column_type(k);
        str lo = {0}, hi = {0};
        if (!k->seen) { puts_(&lo, "null"); puts_(&hi, "null"); }
        else if (!strcmp(type, "integer")) { putf(&lo, "%lld", k->imin); putf(&hi, "%lld", k->imax); }
        else if (!strcmp(type, "number")) { put_num(&lo, k->dmin); put_num(&hi, k->dmax); }
        else { put_json_shown(&lo, k->smin.p, k->smin.n); put_json_shown(&hi, k->smax.p, k->smax.n); }
        if (j.n > PROFILE_BYTES || t.n > PROFILE_BYTES) { /* the rest would not fit an answer */
            free(lo.p);
            free(hi.p);
            putf(&t, "  ... %zu more columns not shown\n", c.ncol - i);
            break;
        }
        puts_(&j, i ? ",{\"name\":" : "{\"name\":");
        put_json_shown(&j, k->name.p ? k->name.p : "", k->name.n);
        putf(&j, ",\"type\":\"%s\",\"nulls\":%lld,\"min\":%s,\"max\":%s}", type, k->nulls, lo.p, hi.p);
        str nm = {0};
        put_json_shown(&nm, k->name.p ? k->name.p : "", k->name.n);
        putf(&t, "  %.*s: %s, %lld nulls, min %s, max %s\n", (int)(nm.n - 2), nm.p + 1, type, k->nulls, lo.p, hi.p);
        free(nm.p);
        free(lo.p);
        free(hi.p);
    }
    puts_(&j, "],\"sample\":[");
    puts_(&t, "first rows:\n");
    for (long long i = 0; i < SAMPLE_ROWS && i < c.records - 1; i++) {
        if (i) puts_(&j, ",");
        put(&j, c.sample[i].p, c.sample[i].n);
        puts_(&t, "  ");
        put(&t, c.sample[i].p, c.sample[i].n);
        puts_(&t, "\n");
    }
    puts_(&j, "]}");
    mcp_textn(call, t.p, t.n);
    mcp_structured(call, j.p);
    free(j.p);
    free(t.p);
    csv_free(&c);
    return 0;
}

static const char describe_schema[] =
    "{\"type\":\"object\",\"required\":[\"source\",\"bytes\",\"rows\",\"columns\",\"sample\"],\"properties\":{"
    "\"source\":{\"type\":\"string\"},\"bytes\":{\"type\":\"integer\"},"
    "\"rows\":{\"type\":\"integer\",\"description\":\"records after the header\"},"
    "\"columns\":{\"type\":\"array\",\"items\":{\"type\":\"object\",\"required\":[\"name\",\"type\",\"nulls\",\"min\",\"max\"],"
    "\"properties\":{\"name\":{\"type\":\"string\"},"
    "\"type\":{\"enum\":[\"integer\",\"number\",\"boolean\",\"date\",\"string\"]},"
    "\"nulls\":{\"type\":\"integer\",\"description\":\"empty fields\"},"
    "\"min\":{\"type\":[\"number\",\"string\",\"null\"]},\"max\":{\"type\":[\"number\",\"string\",\"null\"]}}}},"
    "\"sample\":{\"type\":\"array\",\"description\":\"the first rows after the header\","
    "\"items\":{\"type\":\"array\",\"items\":{\"type\":\"string\"}}}}}";

/*--- list_objects ---*/

typedef struct { str json, text; } listing;

static int on_object(void *ud, const char *key, long long size, const char *last_modified) {
    listing *l = ud;
    puts_(&l->json, l->json.n ? ",{\"key\":" : "{\"key\":");
    put_json(&l->json, key, strlen(key));
    putf(&l->json, ",\"size\":%lld,\"lastModified\":", size);
    put_json(&l->json, last_modified, strlen(last_modified));
    puts_(&l->json, "}");
    putf(&l->text, "%s\t%lld\t%s\n", key, size, last_modified);
    return 0;
}

static int list_objects(mcp_call *call) {
    const char *bucket = mcp_str(call, "bucket"), *prefix = mcp_has(call, "prefix") ? mcp_str(call, "prefix") : "";
    int64_t max = mcp_has(call, "max") ? mcp_int(call, "max") : 1000;
    if (max < 1 || max > 100000) return mcp_error(call, "max must be between 1 and 100000");
    listing l = {{0}, {0}};
    char err[256];
    int n = mcp_s3_list(bucket, prefix, (int)max, on_object, &l, err, sizeof err);
    if (n < 0) mcp_error(call, "s3://%s/%s: %s", bucket, prefix, err);
    else {
        str j = {0};
        puts_(&j, "{\"bucket\":");
        put_json(&j, bucket, strlen(bucket));
        puts_(&j, ",\"prefix\":");
        put_json(&j, prefix, strlen(prefix));
        putf(&j, ",\"count\":%d,\"objects\":[", n);
        if (l.json.n) put(&j, l.json.p, l.json.n);
        puts_(&j, "]}");
        mcp_text(call, "%d object%s in s3://%s/%s (key, size, last modified)\n%s", n, n == 1 ? "" : "s", bucket, prefix,
                 l.text.p ? l.text.p : "");
        mcp_structured(call, j.p);
        free(j.p);
    }
    free(l.json.p);
    free(l.text.p);
    return 0;
}

static const char list_schema[] =
    "{\"type\":\"object\",\"required\":[\"bucket\",\"prefix\",\"count\",\"objects\"],\"properties\":{"
    "\"bucket\":{\"type\":\"string\"},\"prefix\":{\"type\":\"string\"},\"count\":{\"type\":\"integer\"},"
    "\"objects\":{\"type\":\"array\",\"items\":{\"type\":\"object\",\"required\":[\"key\",\"size\",\"lastModified\"],"
    "\"properties\":{\"key\":{\"type\":\"string\"},\"size\":{\"type\":\"integer\"},\"lastModified\":{\"type\":\"string\"}}}}}}";

/*--- ask_llm ---*/

static int ask_llm(mcp_call *call) {
    const char *key = getenv("OPENAI_API_KEY"), *base = getenv("OPENAI_BASE_URL"), *model = mcp_str(call, "model");
    const char *prompt = mcp_str(call, "prompt");
    if (!key || !*key) return mcp_error(call, "OPENAI_API_KEY is not set");
    if (!base || !*base) base = "https://api.openai.com/v1";
    if (!model) model = getenv("OPENAI_MODEL") && *getenv("OPENAI_MODEL") ? getenv("OPENAI_MODEL") : "gpt-4o-mini";
    str url = {0}, body = {0}, head = {0};
    putf(&url, "%.*s/chat/completions", (int)(strlen(base) - (base[strlen(base) - 1] == '/')), base);
    puts_(&body, "{\"model\":");
    put_json(&body, model, strlen(model));
    puts_(&body, ",\"messages\":[{\"role\":\"user\",\"content\":");
    put_json(&body, prompt, strlen(prompt));
    puts_(&body, "}]}");
    puts_(&head, "Content-Type: application/json\r\nAuthorization: Bearer ");
    puts_(&head, key);
    puts_(&head, "\r\n");
    mcp_http_request rq = {.method = "POST", .url = url.p, .headers = head.p, .body = body.p, .body_len = body.n,
                           .timeout_ms = 120000};
    mcp_http_response rs;
    if (mcp_http_do(&rq, &rs)) mcp_error(call, "%s", rs.error);
    else {
        mcp_json_err e;
        mcp_json_doc *d = mcp_json_parse(rs.body, rs.len, 0, &e);
        const mcp_json *root = mcp_json_root(d);
        const mcp_json *answer = mcp_json_get(mcp_json_get(mcp_json_at(mcp_json_get(root, "choices"), 0), "message"), "content");
        const char *why = mcp_json_str(mcp_json_get(mcp_json_get(root, "error"), "message"));
        if (rs.status / 100 != 2) mcp_error(call, "%s answered HTTP %d: %s", url.p, rs.status, why ? why : rs.body);
        else if (!mcp_json_str(answer)) mcp_error(call, "%s: the answer has no choices[0].message.content", url.p);
        else mcp_textn(call, answer->s, answer->len);
        mcp_json_free(d);
    }
    mcp_http_free(&rs);
    memset(head.p, 0, head.n); /* the key */
    free(head.p);
    free(url.p);
    free(body.p);
    return 0;
}

/*--- the scheduled refresh ---*/

static int refresh(mcp_event *e) {
    static const char *const vars[] = {"REFRESH_URL", "REFRESH_BUCKET", "REFRESH_KEY"};
    for (size_t i = 0; i < sizeof vars / sizeof *vars; i++)
        if (!getenv(vars[i]) || !*getenv(vars[i])) return mcp_event_fail(e, "refresh: %s is not set", vars[i]);
    const char *url = getenv("REFRESH_URL"), *bucket = getenv("REFRESH_BUCKET"), *key = getenv("REFRESH_KEY");
    mcp_http_request rq = {.url = url, .timeout_ms = 60000};
    mcp_http_response got, put;
    int r;
    if (mcp_http_do(&rq, &got)) r = mcp_event_fail(e, "refresh: GET %s: %s", url, got.error);
    else if (got.status / 100 != 2) r = mcp_event_fail(e, "refresh: GET %s answered HTTP %d", url, got.status);
    else {
        size_t n = 0;
        const char *ct = mcp_http_header(&got, "Content-Type", &n);
        char type[128] = "application/octet-stream";
        if (ct && n && n < sizeof type) snprintf(type, sizeof type, "%.*s", (int)n, ct);
        if (mcp_s3_put(bucket, key, type, got.body, got.len, &put) || put.status / 100 != 2)
            r = mcp_event_fail(e, "refresh: writing s3://%s/%s: %s", bucket, key, put.error[0] ? put.error : "refused");
        else {
            fprintf(stderr, "refresh: %zu bytes from %s written to s3://%s/%s\n", got.len, url, bucket, key);
            r = 0;
        }
        mcp_http_free(&put);
    }
    mcp_http_free(&got);
    return r;
}

int main(int argc, char **argv) {
    mcp_server *s = mcp_server_new("datatools", "1.0.0");
    mcp_server_instructions(s, "Tools to profile CSV files (local or on S3), list S3 objects, and ask an LLM.");
    mcp_tool_def *t = mcp_tool(s, "describe_csv",
                           "Profile a CSV file without loading it: row count, columns with inferred type "
                           "(integer, number, boolean, date, string), empty (null) count, min and max, and the "
                           "first 5 rows. source is a path relative to the data directory, or s3://bucket/key.",
                           "source:string", describe_csv);
    mcp_tool_output_schema(t, describe_schema);
    mcp_tool_annotations(t, "{\"readOnlyHint\":true,\"openWorldHint\":true}");
    t = mcp_tool(s, "list_objects", "List the objects of an S3 bucket under an optional prefix (at most max, default "
                 "1000) with their size in bytes and last-modified time.",
                 "bucket:string prefix:string? max:integer?", list_objects);
    mcp_tool_output_schema(t, list_schema);
    mcp_tool_annotations(t, "{\"readOnlyHint\":true,\"openWorldHint\":true}");
    t = mcp_tool(s, "ask_llm", "Ask a large language model (an OpenAI-compatible chat completions API) one question "
                 "and return its answer.", "prompt:string model:string?", ask_llm);
    mcp_tool_annotations(t, "{\"readOnlyHint\":true,\"openWorldHint\":true}");
    mcp_on_event(s, "schedule", NULL, refresh, NULL);
    return mcp_main(s, argc, argv);
}
