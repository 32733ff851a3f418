/* unit_tasks.c: the task limits, set small here so each can be crossed: past
 * MCP_MAX_TASK_THREADS a new task fails, past MCP_MAX_TASKS one is refused, each naming
 * its limit; the task that got a thread completes. Then the refusals of the 2026-07-28
 * methods, and a DynamoDB store that cannot be reached: the call fails, naming it. */
#define MCP_MAX_TASKS 3
#define MCP_MAX_TASK_THREADS 1
#include "../mcp.c"
#include "t.h"
#include "rpc1.h"

static int h_wait(mcp_call *c) {
    struct timespec ts = {0, 300 * 1000000L};
    nanosleep(&ts, NULL);
    return mcp_text(c, "waited");
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

    /* 2026-07-28: the extension declared per request */
#define META26 "\"_meta\":{\"io.modelcontextprotocol/protocolVersion\":\"2026-07-28\"," \
               "\"io.modelcontextprotocol/clientCapabilities\":{\"extensions\":{\"io.modelcontextprotocol/tasks\":{}}}}"
    a = rpc1(s, "{\"jsonrpc\":\"2.0\",\"id\":4,\"method\":\"tasks/update\",\"params\":{\"taskId\":\"x\",\"inputResponses\":[]," META26 "}}");
    T_EQ_STR("tasks/update: inputResponses that is not an object is -32602", a,
             "{\"jsonrpc\":\"2.0\",\"id\":4,\"error\":{\"code\":-32602,\"message\":\"Invalid params: inputResponses must be an object\"}}");
    free(a);
    a = rpc1(s, "{\"jsonrpc\":\"2.0\",\"id\":5,\"method\":\"tasks/update\",\"params\":{\"taskId\":\"nope\",\"inputResponses\":{}," META26 "}}");
    T_EQ_STR("tasks/update of an unknown task is -32602", a,
             "{\"jsonrpc\":\"2.0\",\"id\":5,\"error\":{\"code\":-32602,\"message\":\"Invalid params: no task nope\"}}");
    free(a);
    a = rpc1(s, "{\"jsonrpc\":\"2.0\",\"id\":6,\"method\":\"tasks/list\",\"params\":{" META26 "}}");
    T_EQ_STR("tasks/list does not exist in 2026-07-28 (-32601)", a,
             "{\"jsonrpc\":\"2.0\",\"id\":6,\"error\":{\"code\":-32601,\"message\":\"Method not found: tasks/list (removed in protocol version 2026-07-28)\"}}");
    free(a);

    /* a table that cannot be reached: a closed port, one attempt */
    setenv("MCP_TASKS_TABLE", "tasks", 1);
    setenv("AWS_ENDPOINT_URL_DYNAMODB", "http://127.0.0.1:9", 1);
    setenv("AWS_ACCESS_KEY_ID", "AKIDEXAMPLE", 1);
    setenv("AWS_SECRET_ACCESS_KEY", "secret", 1);
    setenv("AWS_REGION", "us-east-1", 1);
    setenv("AWS_MAX_ATTEMPTS", "1", 1);
    a = rpc1(s, call);
    T_OK("an unreachable task table: the call fails -32603, naming the store and DynamoDB's PutItem",
         a && strstr(a, "\"code\":-32603,\"message\":\"the task could not be recorded: dynamodb PutItem") != NULL);
    if (a && !strstr(a, "dynamodb PutItem")) printf("# got %s\n", a);
    free(a);
    a = rpc1(s, "{\"jsonrpc\":\"2.0\",\"id\":7,\"method\":\"tasks/get\",\"params\":{\"taskId\":\"abc\"}}");
    T_OK("... and tasks/get says the store failed (-32603)",
         a && strstr(a, "\"code\":-32603,\"message\":\"the task store failed: dynamodb GetItem") != NULL);
    if (a && !strstr(a, "dynamodb GetItem")) printf("# got %s\n", a);
    free(a);
    return t_done();
}
