/* unit_tasks.c: the task limits, set small here so each can be crossed: past
 * MCP_MAX_TASK_THREADS a new task fails, past MCP_MAX_TASKS one is refused, each naming
 * its limit; the task that got a thread completes. */
#define MCP_MAX_TASKS 3
#define MCP_MAX_TASK_THREADS 1
#include "../mcp.c"
#include "t.h"

static int h_wait(mcp_call *c) {
    struct timespec ts = {0, 300 * 1000000L};
    nanosleep(&ts, NULL);
    return mcp_text(c, "waited");
}

/* One JSON-RPC message through the plain loop (2025-11-25); the answer, malloc'ed. */
static char *rpc1(mcp_server *s, const char *msg) {
    mcp_json_err e;
    mcp_json_doc *d = mcp_json_parse(msg, strlen(msg), 0, &e);
    req r;
    req_init(&r, s);
    buf out = {0};
    rpc_serve_plain(&r, mcp_json_root(d), &out);
    req_free(&r);
    mcp_json_free(d);
    return out.p;
}

/* result.task.taskId of an answer, or "". */
static void task_id(const char *answer, char id[40]) {
    mcp_json_err e;
    mcp_json_doc *d = mcp_json_parse(answer, strlen(answer), 0, &e);
    const char *v = mcp_json_str(mcp_json_get(mcp_json_get(mcp_json_get(mcp_json_root(d), "result"), "task"), "taskId"));
    snprintf(id, 40, "%s", v ? v : "");
    mcp_json_free(d);
}

int main(void) {
    static mcp_server *s; /* reachable at exit: not a leak */
    s = mcp_server_new("limits", "1");
    mcp_tool_task(mcp_tool(s, "wait", "Waits", "", h_wait), MCP_TASK_OPTIONAL);
    const char *call = "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"tools/call\",\"params\":{\"name\":\"wait\",\"arguments\":{},\"task\":{}}}";
    char ids[3][40];
    for (int i = 0; i < 3; i++) {
        char *a = rpc1(s, call);
        task_id(a, ids[i]);
        T_EQ_INT("a task within MCP_MAX_TASKS is created (a 32-digit id)", (long long)strlen(ids[i]), 32);
        free(a);
    }
    char *a = rpc1(s, call);
    T_EQ_STR("past MCP_MAX_TASKS a task is refused, naming the limit", a,
             "{\"jsonrpc\":\"2.0\",\"id\":1,\"error\":{\"code\":-32603,\"message\":\"the task could not be recorded: "
             "the server keeps at most 3 tasks (MCP_MAX_TASKS)\"}}");
    free(a);
    char get[200], want[300];
    for (int i = 1; i < 3; i++) {
        snprintf(get, sizeof get, "{\"jsonrpc\":\"2.0\",\"id\":2,\"method\":\"tasks/result\",\"params\":{\"taskId\":\"%s\"}}", ids[i]);
        a = rpc1(s, get);
        T_EQ_STR("past MCP_MAX_TASK_THREADS a task fails, naming the limit", a,
                 "{\"jsonrpc\":\"2.0\",\"id\":2,\"error\":{\"code\":-32603,\"message\":\"1 task handlers are running already (MCP_MAX_TASK_THREADS)\"}}");
        free(a);
    }
    snprintf(get, sizeof get, "{\"jsonrpc\":\"2.0\",\"id\":3,\"method\":\"tasks/result\",\"params\":{\"taskId\":\"%s\"}}", ids[0]);
    a = rpc1(s, get);
    snprintf(want, sizeof want, "{\"jsonrpc\":\"2.0\",\"id\":3,\"result\":{\"content\":[{\"type\":\"text\",\"text\":\"waited\"}],"
             "\"_meta\":{\"io.modelcontextprotocol/related-task\":{\"taskId\":\"%s\"}}}}", ids[0]);
    T_EQ_STR("the task that had a thread completes (tasks/result waits for it)", a, want);
    free(a);
    struct timespec ts = {0, 50 * 1000000L}; /* its thread lets go of its slot after the result is stored */
    nanosleep(&ts, NULL);
    return t_done();
}
