/* jsonbench.c: parse and serialize throughput of mcp.c's JSON against cJSON, json-c,
 * simdjson and, when built with -DJB_YYJSON, yyjson (bench/run.sh, section 5).
 *
 *   jsonbench [--reps N] [--tag TEXT] [--fresh] FILE...
 *
 * For each repetition, each file and each parser in turn (interleaved, so drift hits all
 * alike): parse the file's bytes (timed), then serialize the parsed document as compact
 * JSON (timed), then free both (not timed). One untimed round first. Prints one JSON line
 * per (parser, file, operation) with every repetition's MB/s (MB = 10^6 bytes of the input
 * file, for serializing too, so a ratio of two MB/s figures is the inverse ratio of times).
 *
 * --fresh: every timed parse-and-serialize runs in a new process (this program again, with
 * --once), so each parser meets a fresh heap as in a cold start: its allocations page-fault
 * instead of reusing memory the previous repetition freed. Timed by the thread's CPU time
 * (user and system, page faults included), not the wall clock. The lines then carry
 * "heap":"fresh" (else "warm") and "faults": the page faults of one parse or serialize
 * (getrusage's minor faults, the last repetition's), which is where a fresh heap's time goes.
 *
 * Checks, so that nothing is optimized away or half done: after the first parse every
 * parser's document is walked (values, decoded string bytes, sum of numbers) and must agree
 * with mcp.c's; every serialized output is parsed again by mcp.c and must give the same
 * counts. A mismatch exits 1.
 *
 * Built two ways by run.sh: with gcc -O2 against Debian's cJSON, json-c and simdjson
 * (all four parsers; mcp.c compiled -O2 like the Debian libraries), and with
 * -DJB_MCP_ONLY by musl-gcc with build.sh's flags (-Os, static): mcp.c as shipped.
 */
#define _POSIX_C_SOURCE 200809L
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../../mcp.h"
#include "jsonbench.h"

#ifndef JB_MCP_ONLY
#include <cjson/cJSON.h>
#include <json-c/json.h>
#endif
#ifdef JB_YYJSON
#include <yyjson.h>
#endif

typedef struct {
    const char *name;
    void *(*parse)(const char *buf, size_t len);
    void (*walk)(void *doc, jb_stats *st);
    char *(*write)(void *doc, size_t *len);
    void (*free_out)(char *out);
    void (*free_doc)(void *doc);
} lib;

/*--- mcp.c ---*/
static void mcp_walk_v(const mcp_json *v, jb_stats *st) {
    st->values++;
    mcp_json_iter it;
    const mcp_json *c, *k;
    switch (MCP_JSON_TYPE(v)) {
    case MCP_JSON_ARRAY:
        it = mcp_json_iterate(v);
        while ((c = mcp_json_iter_next(&it, NULL))) mcp_walk_v(c, st);
        break;
    case MCP_JSON_OBJECT:
        it = mcp_json_iterate(v);
        while ((c = mcp_json_iter_next(&it, &k))) { st->strbytes += k->len; mcp_walk_v(c, st); }
        break;
    case MCP_JSON_STRING: st->strbytes += v->len; break;
    case MCP_JSON_NUMBER: st->numsum += mcp_json_num(v); break;
    default: break;
    }
}
static void *mcp_parse_(const char *buf, size_t len) {
    mcp_json_err e;
    mcp_json_doc *d = mcp_json_parse(buf, len, 0, &e);
    if (!d) fprintf(stderr, "jsonbench: mcp.c: %s at %zu\n", e.msg, e.pos);
    return d;
}
static void mcp_walk_(void *d, jb_stats *st) { mcp_walk_v(mcp_json_root(d), st); }
static char *mcp_write_(void *d, size_t *len) { return mcp_json_write(mcp_json_root(d), len); }
static void mcp_free_out_(char *p) { free(p); }
static void mcp_free_(void *d) { mcp_json_free(d); }

#ifndef JB_MCP_ONLY
/*--- cJSON ---*/
static void cj_walk_v(const cJSON *v, jb_stats *st) {
    st->values++;
    if (cJSON_IsArray(v) || cJSON_IsObject(v)) {
        for (const cJSON *c = v->child; c; c = c->next) {
            if (cJSON_IsObject(v)) st->strbytes += strlen(c->string);
            cj_walk_v(c, st);
        }
    } else if (cJSON_IsString(v)) st->strbytes += strlen(v->valuestring);
    else if (cJSON_IsNumber(v)) st->numsum += v->valuedouble;
}
static void *cj_parse(const char *buf, size_t len) { return cJSON_ParseWithLength(buf, len); }
static void cj_walk(void *d, jb_stats *st) { cj_walk_v(d, st); }
static char *cj_write(void *d, size_t *len) { char *s = cJSON_PrintUnformatted(d); *len = s ? strlen(s) : 0; return s; }
static void cj_free_out(char *p) { cJSON_free(p); }
static void cj_free(void *d) { cJSON_Delete(d); }

/*--- json-c ---*/
static void jc_walk_v(struct json_object *v, jb_stats *st) {
    st->values++;
    switch (json_object_get_type(v)) {
    case json_type_array: {
        size_t n = json_object_array_length(v);
        for (size_t i = 0; i < n; i++) jc_walk_v(json_object_array_get_idx(v, i), st);
        break;
    }
    case json_type_object: {
        json_object_object_foreach(v, key, val) { st->strbytes += strlen(key); jc_walk_v(val, st); }
        break;
    }
    case json_type_string: st->strbytes += json_object_get_string_len(v); break;
    case json_type_int: st->numsum += (double)json_object_get_int64(v); break;
    case json_type_double: st->numsum += json_object_get_double(v); break;
    case json_type_null: /* json-c represents null as a NULL object */ break;
    default: break;
    }
}
static void *jc_parse(const char *buf, size_t len) {
    struct json_tokener *tok = json_tokener_new_ex(JSON_TOKENER_DEFAULT_DEPTH);
    struct json_object *o = json_tokener_parse_ex(tok, buf, (int)len);
    enum json_tokener_error e = json_tokener_get_error(tok);
    json_tokener_free(tok);
    if (e != json_tokener_success) { json_object_put(o); fprintf(stderr, "jsonbench: json-c: %s\n", json_tokener_error_desc(e)); return NULL; }
    return o;
}
static void jc_walk(void *d, jb_stats *st) { jc_walk_v(d, st); }
static char *jc_write(void *d, size_t *len) {
    /* the string belongs to the object (freed with it) */
    return (char *)json_object_to_json_string_length(d, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE, len);
}
static void jc_free_out(char *p) { (void)p; }
static void jc_free(void *d) { json_object_put(d); }
#endif

#ifdef JB_YYJSON
/*--- yyjson (built from a copy given to run.sh, never part of the repository) ---*/
static void yy_walk_v(yyjson_val *v, jb_stats *st) {
    st->values++;
    if (yyjson_is_arr(v)) {
        yyjson_val *c;
        yyjson_arr_iter it = yyjson_arr_iter_with(v);
        while ((c = yyjson_arr_iter_next(&it))) yy_walk_v(c, st);
    } else if (yyjson_is_obj(v)) {
        yyjson_val *k;
        yyjson_obj_iter it = yyjson_obj_iter_with(v);
        while ((k = yyjson_obj_iter_next(&it))) { st->strbytes += (long long)yyjson_get_len(k); yy_walk_v(yyjson_obj_iter_get_val(k), st); }
    } else if (yyjson_is_str(v)) st->strbytes += (long long)yyjson_get_len(v);
    else if (yyjson_is_num(v)) st->numsum += yyjson_get_num(v);
}
/* yyjson_read copies the input (no YYJSON_READ_INSITU), as mcp_json_parse does */
static void *yy_parse(const char *buf, size_t len) { return yyjson_read(buf, len, 0); }
static void yy_walk(void *d, jb_stats *st) { yy_walk_v(yyjson_doc_get_root(d), st); }
static char *yy_write(void *d, size_t *len) { return yyjson_write(d, 0, len); }
static void yy_free_out(char *p) { free(p); }
static void yy_free(void *d) { yyjson_doc_free(d); }
#endif

static const lib LIBS[] = {
    {"mcp.c", mcp_parse_, mcp_walk_, mcp_write_, mcp_free_out_, mcp_free_},
#ifndef JB_MCP_ONLY
    {"cJSON", cj_parse, cj_walk, cj_write, cj_free_out, cj_free},
    {"json-c", jc_parse, jc_walk, jc_write, jc_free_out, jc_free},
    {"simdjson", simd_parse, simd_walk, simd_write, simd_free_out, simd_free},
#endif
#ifdef JB_YYJSON
    {"yyjson", yy_parse, yy_walk, yy_write, yy_free_out, yy_free},
#endif
};
#define NLIBS (sizeof LIBS / sizeof LIBS[0])

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int same(const jb_stats *a, const jb_stats *b) {
    double tol = 1e-9 * fmax(1.0, fabs(a->numsum));
    return a->values == b->values && a->strbytes == b->strbytes && fabs(a->numsum - b->numsum) <= tol;
}

static volatile size_t sink;

static char *read_file(const char *path, size_t pad, size_t *len) {
    FILE *fp = fopen(path, "rb");
    if (!fp) { perror(path); return NULL; }
    fseek(fp, 0, SEEK_END);
    *len = (size_t)ftell(fp);
    rewind(fp);
    char *b = calloc(*len + pad + 1, 1); /* zeroed padding: simdjson reads past the end */
    if (!b || fread(b, 1, *len, fp) != *len) { fprintf(stderr, "jsonbench: cannot read %s\n", path); fclose(fp); free(b); return NULL; }
    fclose(fp);
    return b;
}

static long minflt(void) {
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return ru.ru_minflt;
}

/* The thread's CPU time, user and system (page faults included): on a shared machine the
 * time spent waiting for a core stays out of it, which matters for operations of a few
 * milliseconds measured once each. */
static double cpu_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* --once LIB FILE: one parse and serialize in this (new) process; prints the CPU time of
 * each in seconds and the page faults each took. */
static int once(size_t l, const char *path, size_t pad) {
    size_t len, n = 0;
    char *b = read_file(path, pad, &len);
    if (!b || l >= NLIBS) return 1;
    long f0 = minflt();
    double t0 = cpu_s();
    void *doc = LIBS[l].parse(b, len);
    double t1 = cpu_s();
    if (!doc) return 1;
    long f1 = minflt();
    double t2 = cpu_s();
    char *out = LIBS[l].write(doc, &n);
    double t3 = cpu_s();
    if (!out || !n) return 1;
    printf("%.9f %.9f %ld %ld\n", t1 - t0, t3 - t2, f1 - f0, minflt() - f1);
    return 0;
}

/* Runs `self --once l path` (fork and exec: a new address space) and reads what it prints. */
static int spawn_once(const char *self, size_t l, const char *path, double *tp, double *tw, long *fp, long *fw) {
    char arg[32];
    snprintf(arg, sizeof arg, "%zu", l);
    int fd[2];
    if (pipe(fd)) return 0;
    fflush(stdout);
    pid_t pid = fork();
    if (pid < 0) return 0;
    if (pid == 0) {
        dup2(fd[1], 1);
        close(fd[0]);
        close(fd[1]);
        execl(self, self, "--once", arg, path, (char *)NULL);
        _exit(127);
    }
    close(fd[1]);
    FILE *f = fdopen(fd[0], "r");
    int ok = f && fscanf(f, "%lf %lf %ld %ld", tp, tw, fp, fw) == 4, st = 0;
    if (f) fclose(f);
    waitpid(pid, &st, 0);
    return ok && WIFEXITED(st) && WEXITSTATUS(st) == 0;
}

int main(int argc, char **argv) {
    int reps = 5, first = 1, fresh = 0;
    const char *tag = "";
#ifdef JB_MCP_ONLY
    size_t pad = 64;
#else
    size_t pad = simd_padding();
#endif
    if (argc == 4 && !strcmp(argv[1], "--once")) return once((size_t)atoi(argv[2]), argv[3], pad);
    while (first < argc && argv[first][0] == '-') {
        if (!strcmp(argv[first], "--reps") && first + 1 < argc) reps = atoi(argv[first + 1]), first += 2;
        else if (!strcmp(argv[first], "--tag") && first + 1 < argc) tag = argv[first + 1], first += 2;
        else if (!strcmp(argv[first], "--fresh")) fresh = 1, first++;
        else { fprintf(stderr, "usage: jsonbench [--reps N] [--tag TEXT] [--fresh] FILE...\n"); return 2; }
    }
    int nf = argc - first;
    if (nf < 1 || reps < 1) { fprintf(stderr, "usage: jsonbench [--reps N] [--tag TEXT] [--fresh] FILE...\n"); return 2; }
    char self[4096];
    ssize_t sn = readlink("/proc/self/exe", self, sizeof self - 1);
    if (sn <= 0) { perror("/proc/self/exe"); return 1; }
    self[sn] = 0;
    char **buf = calloc((size_t)nf, sizeof *buf);
    size_t *len = calloc((size_t)nf, sizeof *len);
    double *parse_mbps = calloc((size_t)nf * NLIBS * (size_t)reps, sizeof(double));
    double *write_mbps = calloc((size_t)nf * NLIBS * (size_t)reps, sizeof(double));
    jb_stats *ref = calloc((size_t)nf, sizeof *ref);
    size_t *outlen = calloc((size_t)nf * NLIBS, sizeof(size_t));
    long *faults = calloc((size_t)nf * NLIBS * 2, sizeof(long));
    if (!buf || !len || !parse_mbps || !write_mbps || !ref || !outlen || !faults) return 1;
    for (int f = 0; f < nf; f++)
        if (!(buf[f] = read_file(argv[first + f], pad, &len[f]))) return 1;
    /* round -1: untimed warm-up with the checks; rounds 0..reps-1 timed */
    for (int r = -1; r < reps; r++) {
        for (int f = 0; f < nf; f++) {
            for (size_t l = 0; l < NLIBS; l++) {
                const lib *L = &LIBS[l];
                if (fresh && r >= 0) {
                    double tp, tw;
                    long fp, fw;
                    if (!spawn_once(self, l, argv[first + f], &tp, &tw, &fp, &fw)) { fprintf(stderr, "jsonbench: %s --once failed on %s\n", L->name, argv[first + f]); return 1; }
                    size_t i = ((size_t)f * NLIBS + l) * (size_t)reps + (size_t)r;
                    parse_mbps[i] = (double)len[f] / 1e6 / tp;
                    write_mbps[i] = (double)len[f] / 1e6 / tw;
                    faults[2 * ((size_t)f * NLIBS + l)] = fp; /* the same in every repetition */
                    faults[2 * ((size_t)f * NLIBS + l) + 1] = fw;
                    continue;
                }
                double t0 = now_s();
                void *doc = L->parse(buf[f], len[f]);
                double t1 = now_s();
                if (!doc) { fprintf(stderr, "jsonbench: %s failed to parse %s\n", L->name, argv[first + f]); return 1; }
                size_t n = 0;
                double t2 = now_s();
                char *out = L->write(doc, &n);
                double t3 = now_s();
                if (!out || !n) { fprintf(stderr, "jsonbench: %s failed to serialize %s\n", L->name, argv[first + f]); return 1; }
                sink += n + (size_t)out[n - 1];
                if (r < 0) {
                    jb_stats st = {0, 0, 0}, back = {0, 0, 0};
                    L->walk(doc, &st);
                    if (l == 0) ref[f] = st;
                    else if (!same(&st, &ref[f])) {
                        fprintf(stderr, "jsonbench: %s disagrees with mcp.c on %s: values %lld/%lld, string bytes %lld/%lld, sum %.17g/%.17g\n",
                                L->name, argv[first + f], st.values, ref[f].values, st.strbytes, ref[f].strbytes, st.numsum, ref[f].numsum);
                        return 1;
                    }
                    void *again = mcp_parse_(out, n);
                    if (!again) { fprintf(stderr, "jsonbench: %s's output for %s does not parse\n", L->name, argv[first + f]); return 1; }
                    mcp_walk_(again, &back);
                    mcp_free_(again);
                    if (!same(&back, &ref[f])) {
                        fprintf(stderr, "jsonbench: %s's output for %s parses to other values: %lld/%lld values\n", L->name, argv[first + f], back.values, ref[f].values);
                        return 1;
                    }
                    outlen[(size_t)f * NLIBS + l] = n;
                } else {
                    size_t i = ((size_t)f * NLIBS + l) * (size_t)reps + (size_t)r;
                    parse_mbps[i] = (double)len[f] / 1e6 / (t1 - t0);
                    write_mbps[i] = (double)len[f] / 1e6 / (t3 - t2);
                }
                L->free_out(out);
                L->free_doc(doc);
            }
        }
    }
    for (int f = 0; f < nf; f++) {
        const char *base = strrchr(argv[first + f], '/');
        base = base ? base + 1 : argv[first + f];
        for (size_t l = 0; l < NLIBS; l++) {
            for (int op = 0; op < 2; op++) {
                double *m = (op ? write_mbps : parse_mbps) + ((size_t)f * NLIBS + l) * (size_t)reps;
                printf("{\"tag\":\"%s\",\"heap\":\"%s\",\"lib\":\"%s\",\"file\":\"%s\",\"bytes\":%zu,\"op\":\"%s\",\"values\":%lld,\"strbytes\":%lld,\"outbytes\":%zu,\"mbps\":[",
                       tag, fresh ? "fresh" : "warm", LIBS[l].name, base, len[f], op ? "serialize" : "parse", ref[f].values, ref[f].strbytes, outlen[(size_t)f * NLIBS + l]);
                for (int r = 0; r < reps; r++) printf("%s%.3f", r ? "," : "", m[r]);
                printf("]");
                if (fresh) printf(",\"faults\":%ld", faults[2 * ((size_t)f * NLIBS + l) + (size_t)op]);
                printf("}\n");
            }
        }
    }
    return 0;
}
