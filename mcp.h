/*
 * mcp.h: the public API of mcp.c, a Model Context Protocol server runtime in one C file.
 *
 * A server is a set of tools, resources, prompts and completions registered on an
 * mcp_server, then handed to mcp_main(), which picks the transport at run time: the AWS
 * Lambda Runtime API loop when AWS_LAMBDA_RUNTIME_API is set, `serve` for Streamable HTTP,
 * `stdio`, or `call TOOL JSON` to run one tool once.
 *
 *     static int add(mcp_call *c) {
 *         return mcp_text(c, "%g", mcp_num(c, "a") + mcp_num(c, "b"));
 *     }
 *     int main(int argc, char **argv) {
 *         mcp_server *s = mcp_server_new("calc", "1.0.0");
 *         mcp_tool(s, "add", "Add two numbers", "a:number b:number", add);
 *         return mcp_main(s, argc, argv);
 *     }
 *
 * Schemas: a string that starts with '{' is JSON Schema, kept and served byte for byte.
 * Anything else is a compact field list, "name:type" separated by spaces, where type is
 * string, number, integer, boolean, object or array, and a trailing '?' makes a field
 * optional ("limit:integer?"); a bare name is a required string.
 *
 * Memory: everything a handler receives (strings, JSON values) lives until the handler
 * returns; everything it produces is copied. Nothing allocated for a request outlives it.
 *
 * Errors, one convention throughout:
 *   - registration (mcp_server_new, mcp_tool, ...) cannot fail at run time: misuse (a
 *     missing name or handler, a name registered twice) or running out of memory prints
 *     "mcp: <what>" and exits with status 2, before any request is served;
 *   - calls inside a handler that add to the result (mcp_text, mcp_image, mcp_link, ...)
 *     return 0, or -1 when this kind of handler cannot carry that content (a blob in a tool
 *     result, text in a completion); mcp_error returns 0 (the result is an isError
 *     result), mcp_fail and mcp_need return -1 (the request fails), so each can end a
 *     handler with `return`;
 *   - accessors (mcp_str, mcp_context, mcp_auth, ...) return NULL or 0 for what is absent;
 *   - JSON parsing returns NULL and fills an mcp_json_err {code, pos, msg};
 *   - outbound calls (mcp_http_do, mcp_aws_json, mcp_s3_*) return 0 or -1 with the reason
 *     in rs->error; those that return a value (mcp_ssm_get, mcp_secret_get, mcp_s3_list)
 *     return NULL or -1 with the reason in the err buffer the caller passes.
 *
 * Threads: handlers run concurrently. `serve` runs each connection on a thread of its own
 * and Lambda runs AWS_LAMBDA_MAX_CONCURRENCY Runtime API loops (1 by default) in one
 * process; a handler that shares data with others locks it. Those threads have
 * MCP_STACK_SIZE bytes of stack (256 KB unless mcp.c is compiled with another value);
 * stdio, `call` and the first Lambda loop run handlers on the main thread. Everything
 * given to a handler (mcp_call, its arguments) belongs to that one call and thread.
 */
#ifndef MCP_H
#define MCP_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define MCP_VERSION "0.1.0"

#if defined(__GNUC__)
#define MCP_PRINTF(f, a) __attribute__((format(printf, f, a)))
#else
#define MCP_PRINTF(f, a)
#endif

/*=== JSON values ===*/

typedef enum {
    MCP_JSON_NULL = 1,
    MCP_JSON_FALSE,
    MCP_JSON_TRUE,
    MCP_JSON_NUMBER,
    MCP_JSON_STRING,
    MCP_JSON_ARRAY,
    MCP_JSON_OBJECT
} mcp_json_type;

/* A parsed JSON value. Values of a document sit in one array: an array's or object's
 * children follow it, an object's as key, value, key, value. */
typedef struct mcp_json {
    uint32_t type;      /* mcp_json_type, plus MCP_JSON_F_* flags in the high bits */
    uint32_t len;       /* string: bytes; number: text bytes; container: children */
    const char *s;      /* string: decoded, NUL-terminated; number: its text as written */
    union {
        double d;       /* number: the nearest double */
        size_t next;    /* container: values in the subtree including itself */
    } u;
} mcp_json;

#define MCP_JSON_F_INT 0x100u /* number written without fraction or exponent */
#define MCP_JSON_TYPE(v) ((v) ? (mcp_json_type)((v)->type & 0xffu) : (mcp_json_type)0)

typedef struct {
    int code;           /* MCP_JSON_E_*; 0 when the parse succeeded */
    size_t pos;         /* byte offset where the error was found */
    const char *msg;    /* what was wrong, in words */
} mcp_json_err;

enum {
    MCP_JSON_OK = 0,
    MCP_JSON_E_SYNTAX,   /* unexpected character */
    MCP_JSON_E_EOF,      /* input ended inside a value */
    MCP_JSON_E_DEPTH,    /* nesting deeper than the limit */
    MCP_JSON_E_STRING,   /* bad escape, control character or invalid UTF-8 */
    MCP_JSON_E_NUMBER,   /* malformed number */
    MCP_JSON_E_TRAILING, /* data after the value */
    MCP_JSON_E_MEMORY,   /* allocation failed or size limit exceeded */
};

typedef struct mcp_json_doc mcp_json_doc;

/* Parse len bytes (copied first; a doc never points into the caller's buffer). Returns NULL
 * and fills err on failure. max_depth 0 means the default (MCP_MAX_DEPTH). */
mcp_json_doc *mcp_json_parse(const char *text, size_t len, int max_depth, mcp_json_err *err);
const mcp_json *mcp_json_root(const mcp_json_doc *doc);
void mcp_json_free(mcp_json_doc *doc);

const mcp_json *mcp_json_get(const mcp_json *obj, const char *key); /* NULL if absent */
const mcp_json *mcp_json_at(const mcp_json *arr, size_t i);         /* NULL if out of range */
const char *mcp_json_str(const mcp_json *v);   /* NULL unless a string */
double mcp_json_num(const mcp_json *v);        /* 0 unless a number */
/* Exact integer value; returns 0 and leaves *out alone unless v is an integer in range. */
int mcp_json_int(const mcp_json *v, int64_t *out);
int mcp_json_bool(const mcp_json *v);          /* 1 for true, else 0 */

/* Iterate the children of an array or object: key is set to the member's key (objects). */
typedef struct { const mcp_json *cur; uint32_t left; int obj; } mcp_json_iter;
mcp_json_iter mcp_json_iterate(const mcp_json *container);
const mcp_json *mcp_json_iter_next(mcp_json_iter *it, const mcp_json **key);

/* Serialize v as compact JSON; malloc'ed, NUL-terminated, *len set if not NULL. */
char *mcp_json_write(const mcp_json *v, size_t *len);

/*=== Server ===*/

typedef struct mcp_server mcp_server;
typedef struct mcp_call mcp_call;
typedef struct mcp_tool_def mcp_tool_def;
typedef struct mcp_resource_def mcp_resource_def;
typedef struct mcp_prompt_def mcp_prompt_def;

/* A handler returns 0 when it produced its result, or nonzero on failure; a failure with
 * no content added becomes an error result that says so. */
typedef int (*mcp_handler)(mcp_call *c);

mcp_server *mcp_server_new(const char *name, const char *version);
void mcp_server_title(mcp_server *s, const char *title);
void mcp_server_instructions(mcp_server *s, const char *text);
/* A dependency check for GET /health: fn returns 0 when healthy, else writes why to err. */
void mcp_health(mcp_server *s, const char *name, int (*fn)(void *data, char *err, size_t errsz), void *data);

/* Tools. Schemas are parsed when first needed: serve, stdio and call check every one at
 * start and exit with a message naming a bad one; on Lambda, where start-up does nothing a
 * request does not need, a bad schema makes tools/list and calls of that tool fail. */
mcp_tool_def *mcp_tool_add(mcp_server *s, const char *name, const char *description,
                       const char *input_schema, mcp_handler fn);
#define mcp_tool(...) mcp_tool_add(__VA_ARGS__)
void mcp_tool_title(mcp_tool_def *t, const char *title);
void mcp_tool_output_schema(mcp_tool_def *t, const char *schema);
/* Annotations as a JSON object, e.g. "{\"readOnlyHint\":true}". */
void mcp_tool_annotations(mcp_tool_def *t, const char *json);
void mcp_tool_data(mcp_tool_def *t, void *data); /* returned by mcp_data() in its calls */
/* OAuth scopes (space-separated) a caller's token must hold to call this tool; callers
 * without them get HTTP 403 with WWW-Authenticate: Bearer error="insufficient_scope". */
void mcp_tool_scopes(mcp_tool_def *t, const char *scopes);
/* Lists that change while serving: a tool, resource or prompt added (mcp_tool_add, ...) or
 * removed after start-up is announced to a stdio client (notifications/tools/list_changed,
 * ...; listChanged: true over stdio only, the transport with a channel to the client
 * between requests). Call them from a handler. A removed entry is never freed, since a
 * call may still hold it. Each returns 0, or -1 when nothing has that name. */
int mcp_tool_remove(mcp_server *s, const char *name);
int mcp_resource_remove(mcp_server *s, const char *uri);
int mcp_prompt_remove(mcp_server *s, const char *name);
/* Tasks: a tool whose work may outlive the request. With MCP_TASK_OPTIONAL or
 * MCP_TASK_REQUIRED, a tools/call from a client that wants a task (2026-07-28: it declared
 * the io.modelcontextprotocol/tasks extension; 2025-11-25: it sent params.task) is answered
 * at once with a task, and the handler runs apart: on a thread in serve and stdio, in an
 * asynchronous invocation of the same function on Lambda, where the task lives in the
 * DynamoDB table MCP_TASKS_TABLE (without it, Lambda offers no tasks). The client polls
 * tasks/get. A required tool refuses a client that wants no task. Add MCP_TASK_DEFERRED and
 * the handler starts in the request and makes it a task itself with mcp_task(), e.g. after
 * asking the client what it needs. The handler is the same either way: mcp_error() ends a
 * task completed with isError, mcp_fail() ends it failed, and a question (mcp_elicit, ...)
 * parks it in input_required until the client answers, then runs it again from the start
 * with the answers (2026-07-28). Returns 0, or -1 for a mode that means nothing. */
#define MCP_TASK_OPTIONAL 1
#define MCP_TASK_REQUIRED 2
#define MCP_TASK_DEFERRED 4
int mcp_tool_task(mcp_tool_def *t, int mode);

/* Resources: a fixed URI, or a template with {var} parts whose values the reader gets
 * with mcp_str(c, "var"). The reader adds contents with mcp_text() or mcp_blob(). */
mcp_resource_def *mcp_resource_add(mcp_server *s, const char *uri, const char *name,
                               const char *description, const char *mime, mcp_handler fn);
mcp_resource_def *mcp_resource_template(mcp_server *s, const char *uri_template, const char *name,
                                    const char *description, const char *mime, mcp_handler fn);
#define mcp_resource(...) mcp_resource_add(__VA_ARGS__)
void mcp_resource_title(mcp_resource_def *r, const char *title);
void mcp_resource_data(mcp_resource_def *r, void *data);

/* Prompts: arguments as "name other?" (a trailing '?' makes one optional). The handler
 * adds messages: mcp_role() picks the role of the content added after it ("user" first). */
mcp_prompt_def *mcp_prompt_add(mcp_server *s, const char *name, const char *description,
                           const char *arguments, mcp_handler fn);
#define mcp_prompt(...) mcp_prompt_add(__VA_ARGS__)
void mcp_prompt_title(mcp_prompt_def *p, const char *title);
void mcp_prompt_data(mcp_prompt_def *p, void *data);
int mcp_role(mcp_call *c, const char *role);

/* Icons (2025-11-25 and later) a client may show beside the server, a tool, a resource or
 * template, or a prompt: src an https: or data: URL, mime its type ("image/png"), sizes
 * space-separated ("48x48 96x96", "any"); NULL for either leaves it out. Call again for
 * more than one. */
void mcp_server_icon(mcp_server *s, const char *src, const char *mime, const char *sizes);
void mcp_tool_icon(mcp_tool_def *t, const char *src, const char *mime, const char *sizes);
void mcp_resource_icon(mcp_resource_def *r, const char *src, const char *mime, const char *sizes);
void mcp_prompt_icon(mcp_prompt_def *p, const char *src, const char *mime, const char *sizes);
/* _meta: members of a JSON object (e.g. "{\"com.example/owner\":\"team-a\"}") added to what
 * tools/list, resources/list and prompts/list say of the item; a resource's also go on each
 * item of its contents. Call again to add more. A handler sets its result's _meta with
 * mcp_result_meta(). */
void mcp_tool_meta(mcp_tool_def *t, const char *json);
void mcp_resource_meta(mcp_resource_def *r, const char *json);
void mcp_prompt_meta(mcp_prompt_def *p, const char *json);

/* MCP Apps (extension io.modelcontextprotocol/ui, SEP-1865): an interactive HTML view a
 * host renders beside a tool's result. mcp_app registers the view, a ui:// resource served
 * as text/html;profile=mcp-app (its reader returns the HTML with mcp_text; mcp_resource_meta
 * adds its "ui" settings: csp, permissions, domain, prefersBorder); mcp_tool_app links a
 * tool to it (_meta.ui.resourceUri), visibility "model", "app" or "model app" (NULL: both).
 * With an app registered the server declares the extension in its capabilities. */
mcp_resource_def *mcp_app(mcp_server *s, const char *uri, const char *name, const char *description, mcp_handler fn);
void mcp_tool_app(mcp_tool_def *t, const char *uri, const char *visibility);

/* Tell a client subscribed to uri (resources/subscribe) that the resource changed:
 * notifications/resources/updated. Subscriptions are offered over stdio, the transport with
 * a channel to the client between requests (serve and Lambda declare subscribe: false).
 * Any thread may call it. Returns 0 when sent, 1 when nobody subscribed, -1 on failure. */
int mcp_resource_updated(mcp_server *s, const char *uri);

/* Completion for a prompt's argument (kind "ref/prompt", name the prompt) or a resource
 * template's variable (kind "ref/resource", name the template). The handler reads
 * mcp_complete_argument(c) and mcp_complete_value(c) and adds values with
 * mcp_complete(). Values of other arguments already given are mcp_str(c, name). */
void mcp_completion(mcp_server *s, const char *kind, const char *name, mcp_handler fn);
const char *mcp_complete_argument(mcp_call *c);
const char *mcp_complete_value(mcp_call *c);
int mcp_complete(mcp_call *c, const char *value);

/*=== Inside a handler ===*/

/* Arguments (tool arguments, prompt arguments, template variables, completion context). */
const mcp_json *mcp_args(mcp_call *c);
const mcp_json *mcp_arg(mcp_call *c, const char *name);
int mcp_has(mcp_call *c, const char *name);
const char *mcp_str(mcp_call *c, const char *name);   /* NULL if absent or not a string */
double mcp_num(mcp_call *c, const char *name);        /* 0 if absent */
int64_t mcp_int(mcp_call *c, const char *name);       /* 0 if absent */
int mcp_bool(mcp_call *c, const char *name);          /* 0 if absent */
void *mcp_data(mcp_call *c);
const char *mcp_name(mcp_call *c);      /* tool, prompt or resource URI being served */
const char *mcp_protocol(mcp_call *c);  /* the era of this request, e.g. "2025-11-25" */

/* Content. Each returns 0, so `return mcp_text(c, ...);` ends a handler; -1 when this kind
 * of handler cannot carry it (see Errors above). */
int mcp_text(mcp_call *c, const char *fmt, ...) MCP_PRINTF(2, 3);
int mcp_textn(mcp_call *c, const char *text, size_t len);
int mcp_image(mcp_call *c, const char *mime, const char *base64);
int mcp_audio(mcp_call *c, const char *mime, const char *base64);
int mcp_blob(mcp_call *c, const char *base64);  /* resource reads: binary contents */
int mcp_embed_text(mcp_call *c, const char *uri, const char *mime, const char *text);
int mcp_embed_blob(mcp_call *c, const char *uri, const char *mime, const char *base64);
int mcp_link(mcp_call *c, const char *uri, const char *name, const char *description,
             const char *mime);
/* Structured content: a JSON object as text, checked against the output schema. */
int mcp_structured(mcp_call *c, const char *json);
/* The result's _meta (tool results, resource reads, prompts): a JSON object as text; -1 when
 * it is not one. */
int mcp_result_meta(mcp_call *c, const char *json);
/* A tool error result (isError) with this message. Returns 0. */
int mcp_error(mcp_call *c, const char *fmt, ...) MCP_PRINTF(2, 3);
/* Fail the request with a JSON-RPC error instead of a result: code (0 means -32603) and a
 * message, e.g. -32602 for a resource that does not exist. Content added before is dropped.
 * Returns -1, so `return mcp_fail(c, ...);` ends a handler. Use mcp_error for a tool that
 * ran and failed (the model reads the message); mcp_fail for a request that cannot be
 * served at all. */
int mcp_fail(mcp_call *c, int code, const char *fmt, ...) MCP_PRINTF(3, 4);

/* Notifications during a call. Levels: debug info notice warning error critical alert
 * emergency. Progress is sent only when the client asked for it (progressToken). Each
 * returns 0 when sent or not wanted (below the client's level, no progressToken), -1 when
 * the transport has no channel for it (a direct invocation, POST /tools/NAME, `call`). */
int mcp_log(mcp_call *c, const char *level, const char *fmt, ...) MCP_PRINTF(3, 4);
int mcp_progress(mcp_call *c, double progress, double total, const char *message);

/* Asking the client. Each question has a key, unique within the call (NULL picks one).
 * Returns the client's result, or NULL when there is none yet or the client cannot answer.
 * Over a transport with a back channel (eras before 2026-07-28) the request goes out and
 * the call waits for the answer. In the 2026-07-28 era the call ends with an
 * input_required result listing every question asked, and runs again from the start when
 * the client sends its answers: a handler asks all it needs, returns on NULL, and keeps
 * what it learned across rounds with mcp_set_state(). The same code serves both. */
const mcp_json *mcp_elicit(mcp_call *c, const char *key, const char *message, const char *schema);
const mcp_json *mcp_sample(mcp_call *c, const char *key, const char *params_json);
const mcp_json *mcp_roots(mcp_call *c, const char *key);
/* State carried to the next round (2026-07-28): signed with HMAC-SHA256 under
 * MCP_STATE_KEY (or a per-process key), so a client cannot alter it. */
const char *mcp_state(mcp_call *c);   /* the previous round's state, verified; NULL if none */
int mcp_set_state(mcp_call *c, const char *state);
/* Fail the call with -32021 unless the client declared this capability. */
int mcp_need(mcp_call *c, const char *capability);
int mcp_client_can(mcp_call *c, const char *capability); /* "sampling", "elicitation", ... */

/* Tasks (see mcp_tool_task). mcp_task: for a MCP_TASK_DEFERRED tool, make this call a task
 * now; returns 1 when it did (return at once: the handler runs again as the task) or when
 * it failed (the call fails), 0 to carry on here (already a task, or the client wants none).
 * mcp_task_cancelled: 1 once the client cancelled the task this call runs as, or (on
 * Lambda) once the function's timeout is near; long work polls it and stops. What it
 * returns then is dropped: the task stays cancelled, or ends failed with "the task did
 * not finish before the Lambda function's timeout". */
int mcp_task(mcp_call *c);
int mcp_task_cancelled(mcp_call *c);

/* The invocation's context, of the request c serves (so a thread a handler hands c to
 * reads it too). On Lambda: "request-id", "deadline-ms", "function-arn", "trace-id",
 * "client-context", "cognito-identity", "tenant-id". NULL when unknown. */
const char *mcp_context(mcp_call *c, const char *key);
/* Who is calling, when authentication is configured (see the Authentication section of
 * mcp.c) or API Gateway authorized the request: "kind" (none, key, jwt, gateway-jwt for an
 * API Gateway JWT or Cognito authorizer, lambda-authorizer, iam, agentcore for an AgentCore
 * Gateway target), "principal" (JWT sub, IAM ARN, the Lambda authorizer's principalId, the
 * gateway's id, or key-N), "scope", or any string claim of a verified JWT ("email", "iss",
 * ...) or member of a Lambda authorizer's context. */
const char *mcp_auth(mcp_call *c, const char *name);
/* Milliseconds left before the Lambda deadline; INT64_MAX outside Lambda. */
int64_t mcp_remaining_ms(mcp_call *c);

/*=== Outbound HTTP(S) ===*/

/* One HTTP/1.1 request, over TLS 1.2 for https (certificates always verified). Connections
 * are kept alive and reused across calls and warm invocations. */
typedef struct {
    const char *method;      /* default "GET" */
    const char *url;         /* http:// or https:// */
    const char *headers;     /* extra header lines, each "Name: value\r\n"; may be NULL */
    const void *body;
    size_t body_len;
    int timeout_ms;          /* default 10 s; never past the Lambda deadline */
    size_t max_response;     /* default 16 MB; a larger body is an error */
    /* When set, the body is handed over piece by piece instead of kept (no size limit);
     * returning nonzero stops it. An error answer (status not 2xx) is kept in rs->body
     * instead (up to 64 KB), so it can be read. */
    int (*on_body)(void *ud, const char *p, size_t n);
    void *ud;
} mcp_http_request;

typedef struct {
    int status;              /* the HTTP status; 0 when the request failed */
    char *head;              /* status line and headers */
    char *body;              /* NUL-terminated */
    size_t len;
    int sent;                /* the request went out (in part or whole): the server may have
                                acted on it even when no answer came */
    char error[512];         /* why it failed, in words */
} mcp_http_response;

/* Returns 0 when a response arrived (any status), -1 with rs->error set otherwise (with
 * rs->status kept when the head arrived but a streamed body was cut short). Free the
 * response with mcp_http_free. */
int mcp_http_do(const mcp_http_request *rq, mcp_http_response *rs);
const char *mcp_http_header(const mcp_http_response *rs, const char *name, size_t *len);
void mcp_http_free(mcp_http_response *rs);

/*=== AWS ===*/

/* In a runtime built with -DMCP_ENABLE_AWS=0 every call of this part still links but does
 * nothing and fails: mcp_sigv4_sign and mcp_sigv4_presign return NULL; mcp_aws_json,
 * mcp_aws_rest, mcp_s3_get and mcp_s3_put return -1 with rs->error, and mcp_ssm_get,
 * mcp_secret_get and mcp_s3_list NULL or -1 with err, set to
 * "AWS calls are not available: this build has MCP_ENABLE_AWS=0". */

/* Signature Version 4. NULL credentials come from AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY
 * and AWS_SESSION_TOKEN; a NULL region from AWS_REGION. */
typedef struct {
    const char *access_key, *secret_key, *session_token;
    const char *region;
    const char *service;     /* "s3", "ssm", "lambda", ... */
    int64_t now;             /* seconds since the epoch; 0 for the current time */
    int unsigned_payload;    /* S3: sign "UNSIGNED-PAYLOAD" instead of the body's hash */
} mcp_sigv4;

/* The header lines (X-Amz-Date, X-Amz-Content-Sha256 for S3, X-Amz-Security-Token,
 * Authorization) to add to a request with these headers and body; every given header and
 * Host are signed. malloc'ed; NULL without credentials or with a bad URL. */
char *mcp_sigv4_sign(const mcp_sigv4 *k, const char *method, const char *url, const char *headers,
                     const void *body, size_t body_len);
/* A presigned URL valid for `expires` seconds (1 to 604800). malloc'ed. */
char *mcp_sigv4_presign(const mcp_sigv4 *k, const char *method, const char *url, int expires);

/* AWS calls go where the SDKs send them: AWS_ENDPOINT_URL_<SERVICE_ID> (the SDKs' service
 * ID: SSM, SECRETS_MANAGER, DYNAMODB, S3, LAMBDA, BEDROCK_RUNTIME, CLOUDWATCH_LOGS, SFN,
 * EVENTBRIDGE, SQS, ...), then AWS_ENDPOINT_URL, unless AWS_IGNORE_CONFIGURED_ENDPOINT_URLS
 * is true; else https://SERVICE.REGION.amazonaws.com. They are retried as the SDKs' standard
 * mode retries: throttling, 5xx and failed connections, AWS_MAX_ATTEMPTS attempts in all (3
 * by default), exponential backoff with jitter, never past the Lambda deadline; a request
 * the server may have acted on is sent again only when the operation is idempotent. They
 * carry the invocation's X-Amzn-Trace-Id. On failure rs->error names the service, the
 * operation, AWS's error code and message, and the attempts made.
 *
 * A call to a service that speaks the JSON protocol (DynamoDB, SSM, Secrets Manager, SQS,
 * Step Functions, EventBridge, CloudWatch Logs, Kinesis, KMS, ...), e.g.
 *     mcp_aws_json("dynamodb", "DynamoDB_20120810.GetItem",
 *                  "{"TableName":"t","Key":{"id":{"S":"42"}}}", &rs);
 *     mcp_aws_json("dynamodb", "DynamoDB_20120810.PutItem",
 *                  "{"TableName":"t","Item":{"id":{"S":"42"},"n":{"N":"1"}}}", &rs);
 *     mcp_aws_json("dynamodb", "DynamoDB_20120810.Query", "{"TableName":"t","
 *                  ""KeyConditionExpression":"id = :v","ExpressionAttributeValues":"
 *                  "{":v":{"S":"42"}}}", &rs);
 * Returns 0 with the answer in rs->body, or -1 with rs->error set. */
int mcp_aws_json(const char *service, const char *target, const char *json, mcp_http_response *rs);
/* A call to a service that speaks rest-json (Lambda, Bedrock Runtime, API Gateway): method
 * (NULL: POST with a body, else GET), the path with its query, the JSON body or NULL, e.g.
 *     mcp_aws_rest("lambda", "POST", "/2015-03-31/functions/my-fn/invocations", "{}", &rs);
 *     mcp_aws_rest("bedrock-runtime", "POST",
 *                  "/model/anthropic.claude-3-haiku-20240307-v1%3A0/converse",
 *                  "{"messages":[{"role":"user","content":[{"text":"Hi"}]}]}", &rs);
 *     mcp_aws_rest("bedrock-runtime", "POST", "/model/MODEL-ID/invoke", model_body_json, &rs);
 * The path is sent as given: percent-encode each segment as the SDKs do (a model ID's ':'
 * as %3A), since the signature covers the path as the service reads it. POST and
 * PATCH are not idempotent, so they are not sent again once the server may have acted.
 * Returns 0 with the answer in rs->body, or -1 with rs->error set. */
int mcp_aws_rest(const char *service, const char *method, const char *path, const char *json, mcp_http_response *rs);
/* SSM Parameter Store (decrypted; "name", "name:3", "name:label" or an ARN) and Secrets
 * Manager ("ID[?versionStage=S|?versionId=V][#json-key]", ID a name or an ARN; a key's
 * number or boolean value comes as its JSON text) values, malloc'ed; NULL with err filled
 * on failure. */
char *mcp_ssm_get(const char *name, char *err, size_t errn);
char *mcp_secret_get(const char *spec, char *err, size_t errn);
/* S3: an object (or a Range of it, e.g. "bytes=0-1023") streamed to on_data; one upload
 * (in parts of MCP_S3_PART_SIZE, 8 MB, when larger: a multipart upload, aborted on failure);
 * a listing under a prefix (max 0: all), one call of on_object per key. mcp_s3_list returns
 * the number of keys, or -1 with err filled. */
int mcp_s3_get(const char *bucket, const char *key, const char *range,
               int (*on_data)(void *ud, const char *p, size_t n), void *ud, mcp_http_response *rs);
int mcp_s3_put(const char *bucket, const char *key, const char *content_type, const void *body, size_t n,
               mcp_http_response *rs);
int mcp_s3_list(const char *bucket, const char *prefix, int max,
                int (*on_object)(void *ud, const char *key, long long size, const char *last_modified), void *ud,
                char *err, size_t errn);

/*=== Events from other AWS services (Lambda) ===*/

/* Handlers for the events Lambda delivers that are not MCP requests, registered by source:
 *   "schedule"     EventBridge scheduled events (source aws.events, "Scheduled Event");
 *                  filter: the rule's ARN (a glob), or NULL for every schedule
 *   "eventbridge"  any other EventBridge event; filter "SOURCE" or "SOURCE/DETAIL-TYPE"
 *                  (globs: "com.example.*", "aws.s3/Object Created")
 *   "sqs"          one call per message; filter: the queue's ARN
 *   "sns"          one call per message; filter: the topic's ARN
 *   "s3"           one call per record; filter: the bucket's name
 *   "dynamodb"     one call per stream record; filter: the stream's ARN
 *   "kinesis"      one call per record; filter: the stream's ARN
 * The first registration whose source and filter match an event (or a record) handles it.
 * A handler returns 0 when it handled it, else nonzero (mcp_event_fail says why). For SQS,
 * DynamoDB Streams and Kinesis a failed record is reported in batchItemFailures (the event
 * source mapping needs FunctionResponseTypes ReportBatchItemFailures) and the others are
 * kept; on a FIFO queue the records after a failure are reported failed too, unhandled. For
 * the other sources a failure fails the invocation, so Lambda retries it or sends it to the
 * dead-letter queue. An event that no handler takes is an invocation error that names its
 * source, never a success. Handlers may call every outbound helper (mcp_http_do, mcp_aws_*,
 * mcp_s3_*); they run on the Lambda loop's thread, one record at a time. */
typedef struct mcp_event mcp_event;
typedef int (*mcp_event_handler)(mcp_event *e);

void mcp_on_event(mcp_server *s, const char *source, const char *filter, mcp_event_handler fn, void *data);

const char *mcp_event_source(mcp_event *e);     /* "schedule", "sqs", ... */
const mcp_json *mcp_event_json(mcp_event *e);   /* the whole event as Lambda delivered it */
const mcp_json *mcp_event_record(mcp_event *e); /* the record being handled (the event itself
                                                   for EventBridge) */
/* A member of the record by dotted path ("s3.bucket.name", "detail.state",
 * "dynamodb.Keys.id.S"); NULL when absent. mcp_event_str: only when it is a string. */
const mcp_json *mcp_event_get(mcp_event *e, const char *path);
const char *mcp_event_str(mcp_event *e, const char *path);
/* The record's payload: the SQS body, the SNS Message, Kinesis data (base64-decoded), the
 * EventBridge detail, the DynamoDB NewImage (OldImage for a REMOVE) as JSON text; for S3 the
 * object key, URL-decoded. NUL-terminated; *len (if not NULL) gets its length in bytes. */
const char *mcp_event_body(mcp_event *e, size_t *len);
/* The record's identifier: SQS messageId, SNS MessageId, Kinesis and DynamoDB sequence
 * number, the EventBridge event id; for S3 the object's sequencer. */
const char *mcp_event_id(mcp_event *e);
void *mcp_event_data(mcp_event *e);             /* as registered */
int64_t mcp_event_remaining_ms(mcp_event *e);   /* before the Lambda deadline */
/* Why this record failed, logged and (for sources without partial failures) the
 * invocation's error message. Returns -1, so `return mcp_event_fail(e, ...);` ends a handler. */
int mcp_event_fail(mcp_event *e, const char *fmt, ...) MCP_PRINTF(2, 3);

/*=== Running ===*/

/* Chooses the mode from argv and the environment; returns the process exit status. */
int mcp_main(mcp_server *s, int argc, char **argv);

#ifdef __cplusplus
}
#endif
#endif
