/* test/aws/awsserver.c: an MCP server whose tools make mcp.c's AWS calls one at a time and
 * print what came back, for test/aws/moto.sh (`awsserver call TOOL JSON`, or serve).
 *   env        {name}                      the variable's value after start-up resolution
 *   ssm_get    {name}                      mcp_ssm_get
 *   secret_get {spec}                      mcp_secret_get
 *   s3_put     {bucket,key,body,repeat?}   mcp_s3_put of body repeated: "HTTP <status>"
 *   s3_get     {bucket,key,range?}         mcp_s3_get: the object's bytes
 *   s3_list    {bucket,prefix?,max?}       mcp_s3_list: "<n>: key size, key size, ..."
 *   aws_json   {service,target,json}       mcp_aws_json: "HTTP <status> <body>"
 *   aws_rest   {service,method,path,json?} mcp_aws_rest: "HTTP <status> <body>"
 *   whoami     {}                          mcp_auth kind, principal, iss, scope
 * A failed call is an error result with the error text mcp.c gave (exit status 1). */
#define _POSIX_C_SOURCE 200809L
#include "../../mcp.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int env(mcp_call *c) { /* name: one variable, or several separated by commas (values joined by spaces) */
    char names[512], out[4096] = "";
    snprintf(names, sizeof names, "%s", mcp_str(c, "name"));
    for (char *save = NULL, *n = strtok_r(names, ",", &save); n; n = strtok_r(NULL, ",", &save)) {
        const char *v = getenv(n);
        if (!v) return mcp_error(c, "%s is not set", n);
        snprintf(out + strlen(out), sizeof out - strlen(out), "%s%s", out[0] ? " " : "", v);
    }
    return mcp_text(c, "%s", out);
}

/* A value fetched by mcp_ssm_get or mcp_secret_get, or the error it gave. */
static int value(mcp_call *c, char *(*get)(const char *, char *, size_t), const char *arg) {
    char err[1024];
    char *v = get(mcp_str(c, arg), err, sizeof err);
    if (!v) return mcp_error(c, "%s", err);
    mcp_text(c, "%s", v);
    free(v);
    return 0;
}
static int ssm_get(mcp_call *c) { return value(c, mcp_ssm_get, "name"); }
static int secret_get(mcp_call *c) { return value(c, mcp_secret_get, "spec"); }

static int s3_put(mcp_call *c) {
    mcp_http_response rs;
    const char *body = mcp_str(c, "body");
    size_t n = strlen(body), times = mcp_has(c, "repeat") ? (size_t)mcp_int(c, "repeat") : 1;
    char *all = malloc(n * times + 1);
    if (!all) return mcp_error(c, "out of memory");
    for (size_t i = 0; i < times; i++) memcpy(all + i * n, body, n);
    int r = mcp_s3_put(mcp_str(c, "bucket"), mcp_str(c, "key"), "text/plain", all, n * times, &rs);
    free(all);
    if (r) mcp_error(c, "%s", rs.error);
    else if (rs.status / 100 != 2) mcp_error(c, "HTTP %d %s", rs.status, rs.body);
    else mcp_text(c, "HTTP %d", rs.status);
    mcp_http_free(&rs);
    return 0;
}

typedef struct { char *p; size_t n; } acc;
static int on_data(void *ud, const char *p, size_t n) {
    acc *a = ud;
    char *q = realloc(a->p, a->n + n + 1);
    if (!q) return 1;
    memcpy(q + a->n, p, n);
    a->p = q;
    a->n += n;
    a->p[a->n] = 0;
    return 0;
}

static int s3_get(mcp_call *c) {
    mcp_http_response rs;
    acc a = {NULL, 0};
    int r = mcp_s3_get(mcp_str(c, "bucket"), mcp_str(c, "key"), mcp_str(c, "range"), on_data, &a, &rs);
    if (r) mcp_error(c, "%s", rs.error);
    else if (rs.status / 100 != 2) mcp_error(c, "HTTP %d %s", rs.status, rs.body);
    else mcp_text(c, "%.*s", (int)a.n, a.p ? a.p : "");
    free(a.p);
    mcp_http_free(&rs);
    return 0;
}

static int on_object(void *ud, const char *key, long long size, const char *lm) {
    acc *a = ud;
    char line[1200];
    (void)lm;
    int n = snprintf(line, sizeof line, "%s%s %lld", a->n ? ", " : "", key, size);
    return on_data(ud, line, (size_t)n);
}

static int s3_list(mcp_call *c) {
    char err[1024];
    acc a = {NULL, 0};
    int n = mcp_s3_list(mcp_str(c, "bucket"), mcp_has(c, "prefix") ? mcp_str(c, "prefix") : "",
                        (int)mcp_int(c, "max"), on_object, &a, err, sizeof err);
    if (n < 0) mcp_error(c, "%s", err);
    else mcp_text(c, "%d: %s", n, a.p ? a.p : "");
    free(a.p);
    return 0;
}

static int answer(mcp_call *c, int r, mcp_http_response *rs) {
    if (r) mcp_error(c, "%s", rs->error);
    else mcp_text(c, "HTTP %d %s", rs->status, rs->body);
    mcp_http_free(rs);
    return 0;
}

static int aws_json(mcp_call *c) {
    mcp_http_response rs;
    int r = mcp_aws_json(mcp_str(c, "service"), mcp_str(c, "target"), mcp_str(c, "json"), &rs);
    return answer(c, r, &rs);
}

static int aws_rest(mcp_call *c) {
    mcp_http_response rs;
    int r = mcp_aws_rest(mcp_str(c, "service"), mcp_str(c, "method"), mcp_str(c, "path"), mcp_str(c, "json"), &rs);
    return answer(c, r, &rs);
}

static int whoami(mcp_call *c) {
    const char *k = mcp_auth(c, "kind"), *p = mcp_auth(c, "principal"), *i = mcp_auth(c, "iss"), *s = mcp_auth(c, "scope");
    return mcp_text(c, "kind=%s principal=%s iss=%s scope=%s", k ? k : "-", p ? p : "-", i ? i : "-", s ? s : "-");
}

int main(int argc, char **argv) {
    mcp_server *s = mcp_server_new("awsserver", "1.0.0");
    mcp_tool(s, "env", "A variable's value after start-up", "name", env);
    mcp_tool(s, "ssm_get", "mcp_ssm_get", "name", ssm_get);
    mcp_tool(s, "secret_get", "mcp_secret_get", "spec", secret_get);
    mcp_tool(s, "s3_put", "mcp_s3_put", "bucket key body", s3_put);
    mcp_tool(s, "s3_get", "mcp_s3_get", "bucket key range?", s3_get);
    mcp_tool(s, "s3_list", "mcp_s3_list", "bucket prefix? max:integer?", s3_list);
    mcp_tool(s, "aws_json", "mcp_aws_json", "service target json", aws_json);
    mcp_tool(s, "aws_rest", "mcp_aws_rest", "service method path json?", aws_rest);
    mcp_tool(s, "whoami", "Who is calling", "", whoami);
    return mcp_main(s, argc, argv);
}
