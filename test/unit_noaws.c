/* unit_noaws.c: the runtime built with MCP_ENABLE_AWS=0. Every public AWS call still links
 * and fails at once with the error mcp.h documents (no connection is tried: the endpoints
 * below are closed ports); configuration that needs AWS stops the start, naming the
 * variable; tasks are kept in memory, and on Lambda are not offered, saying why. */
#define MCP_ENABLE_AWS 0
#include "../mcp.c"
#include "t.h"
#include "rpc1.h"

#define OFF "AWS calls are not available: this build has MCP_ENABLE_AWS=0"

static int h_add(mcp_call *c) { return mcp_text(c, "%g", mcp_num(c, "a") + mcp_num(c, "b")); }

/* An answer from a call that fills an mcp_http_response: -1, the error, nothing else set. */
static void rs_check(const char *name, int rc, mcp_http_response *rs) {
    char n[160];
    snprintf(n, sizeof n, "%s returns -1 with rs->error saying the build has no AWS calls", name);
    T_OK(n, rc == -1 && !strcmp(rs->error, OFF) && rs->status == 0 && !rs->body && !rs->head && !rs->sent);
    if (strcmp(rs->error, OFF)) printf("# got '%s'\n", rs->error);
    mcp_http_free(rs);
}

/* config_resolve's answer with VAR=VALUE added to the environment. */
static void cfg_check(const char *name, const char *var, const char *value, int want_rc, const char *want_err) {
    char err[1024] = "";
    setenv(var, value, 1);
    int rc = config_resolve(err, sizeof err);
    unsetenv(var);
    char n[200];
    snprintf(n, sizeof n, "%s: config_resolve returns %d", name, want_rc);
    T_EQ_INT(n, rc, want_rc);
    snprintf(n, sizeof n, "%s: ... with the error", name);
    T_EQ_STR(n, err, want_err);
}

int main(void) {
    setenv("AWS_ACCESS_KEY_ID", "AKIDEXAMPLE", 1);
    setenv("AWS_SECRET_ACCESS_KEY", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", 1);
    setenv("AWS_REGION", "us-east-1", 1);
    setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:9", 1);

    /* SigV4: NULL even with every key given */
    mcp_sigv4 k;
    memset(&k, 0, sizeof k);
    k.access_key = "AKIDEXAMPLE";
    k.secret_key = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";
    k.region = "us-east-1";
    k.service = "s3";
    k.now = 1440938160;
    T_OK("mcp_sigv4_sign returns NULL", mcp_sigv4_sign(&k, "GET", "https://example.s3.amazonaws.com/k", "", NULL, 0) == NULL);
    T_OK("mcp_sigv4_presign returns NULL", mcp_sigv4_presign(&k, "GET", "https://example.s3.amazonaws.com/k", 60) == NULL);

    /* the calls that answer in an mcp_http_response */
    mcp_http_response rs;
    memset(&rs, 0x5a, sizeof rs); /* whatever was there is replaced */
    rs_check("mcp_aws_json", mcp_aws_json("dynamodb", "DynamoDB_20120810.GetItem", "{}", &rs), &rs);
    memset(&rs, 0x5a, sizeof rs);
    rs_check("mcp_aws_rest", mcp_aws_rest("lambda", "POST", "/2015-03-31/functions/f/invocations", "{}", &rs), &rs);
    memset(&rs, 0x5a, sizeof rs);
    rs_check("mcp_s3_get", mcp_s3_get("bucket", "key", NULL, NULL, NULL, &rs), &rs);
    memset(&rs, 0x5a, sizeof rs);
    rs_check("mcp_s3_put", mcp_s3_put("bucket", "key", "text/plain", "x", 1, &rs), &rs);

    /* the calls that answer with a value and an err buffer */
    char err[256] = "";
    T_OK("mcp_ssm_get returns NULL", mcp_ssm_get("/app/key", err, sizeof err) == NULL);
    T_EQ_STR("... with err saying the build has no AWS calls", err, OFF);
    err[0] = 0;
    T_OK("mcp_secret_get returns NULL", mcp_secret_get("app/db#password", err, sizeof err) == NULL);
    T_EQ_STR("... with err saying the build has no AWS calls", err, OFF);
    err[0] = 0;
    T_EQ_INT("mcp_s3_list returns -1", mcp_s3_list("bucket", "", 0, NULL, NULL, err, sizeof err), -1);
    T_EQ_STR("... with err saying the build has no AWS calls", err, OFF);
    T_OK("mcp_ssm_get and mcp_s3_list take a NULL err", !mcp_ssm_get("/x", NULL, 0) && mcp_s3_list("b", NULL, 0, NULL, NULL, NULL, 0) == -1);

    /* start-up configuration that needs AWS calls */
    cfg_check("an ssm: value", "K1", "ssm:/x", -1, "K1=ssm:/x: " OFF);
    cfg_check("a secretsmanager: value", "K2", "secretsmanager:app/db#password", -1,
              "K2=secretsmanager:app/db#password: " OFF);
    cfg_check("MCP_TASKS_TABLE", "MCP_TASKS_TABLE", "tasks", -1, "MCP_TASKS_TABLE=tasks: " OFF);
    cfg_check("an empty MCP_TASKS_TABLE", "MCP_TASKS_TABLE", "", 0, "");
    cfg_check("a value that only mentions ssm", "K3", "x ssm:/x", 0, "");
    T_EQ_INT("/metrics counts no AWS retries", (long long)aws_retry_count(), 0);
    char t[] = "a%20b%2Fc";
    size_t tn = uri_decode(t, strlen(t));
    T_OK("uri_decode (URI templates) is still there", tn == 5 && !memcmp(t, "a b/c", 5));

    /* tasks: in memory (MCP_TASKS_TABLE is not read), and not offered on Lambda */
    static mcp_server *s; /* reachable at exit: not a leak */
    s = mcp_server_new("noaws", "1");
    mcp_tool_task(mcp_tool(s, "add", "Adds", "a:number b:number", h_add), MCP_TASK_OPTIONAL);
    mcp_tool_task(mcp_tool(s, "add_task", "Adds, as a task", "a:number b:number", h_add), MCP_TASK_REQUIRED);
    setenv("MCP_TASKS_TABLE", "tasks", 1);
    T_OK("the task table is never read", task_table() == NULL);
    char *a = rpc1(s, "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"tools/call\",\"params\":{\"name\":\"add\","
                      "\"arguments\":{\"a\":2,\"b\":3},\"task\":{}}}");
    mcp_json_err je;
    mcp_json_doc *d = a ? mcp_json_parse(a, strlen(a), 0, &je) : NULL;
    const char *id = mcp_json_str(mcp_json_get(mcp_json_get(mcp_json_get(mcp_json_root(d), "result"), "task"), "taskId"));
    T_EQ_INT("a task is created in memory (a 32-digit id)", (long long)(id ? strlen(id) : 0), 32);
    char get[200], want[300];
    snprintf(get, sizeof get, "{\"jsonrpc\":\"2.0\",\"id\":2,\"method\":\"tasks/result\",\"params\":{\"taskId\":\"%s\"}}", id ? id : "");
    snprintf(want, sizeof want, "{\"jsonrpc\":\"2.0\",\"id\":2,\"result\":{\"content\":[{\"type\":\"text\",\"text\":\"5\"}],"
             "\"_meta\":{\"io.modelcontextprotocol/related-task\":{\"taskId\":\"%s\"}}}}", id ? id : "");
    mcp_json_free(d);
    free(a);
    a = rpc1(s, get);
    T_EQ_STR("... and completes (tasks/result)", a, want);
    free(a);
    s->stateless = 1; /* as on Lambda */
    a = rpc1(s, "{\"jsonrpc\":\"2.0\",\"id\":3,\"method\":\"tools/call\",\"params\":{\"name\":\"add_task\","
                "\"arguments\":{\"a\":2,\"b\":3},\"task\":{}}}");
    T_EQ_STR("on Lambda a task-only tool fails, saying tasks need a table this build cannot use", a,
             "{\"jsonrpc\":\"2.0\",\"id\":3,\"error\":{\"code\":-32603,\"message\":\"tool add_task runs only as a task, "
             "and tasks on Lambda need MCP_TASKS_TABLE: " OFF "\"}}");
    free(a);
    a = rpc1(s, "{\"jsonrpc\":\"2.0\",\"id\":4,\"method\":\"tools/call\",\"params\":{\"name\":\"add\","
                "\"arguments\":{\"a\":2,\"b\":3},\"task\":{}}}");
    T_EQ_STR("... and a tool that may be a task runs at once", a,
             "{\"jsonrpc\":\"2.0\",\"id\":4,\"result\":{\"content\":[{\"type\":\"text\",\"text\":\"5\"}]}}");
    free(a);
    return t_done();
}
