/* events_server.c: the server test/lambda/events.mjs drives through the Runtime API emulator.
 *
 *   gcc -std=c11 -O2 -o build/events-server mcp.c test/lambda/events_server.c -lbearssl -lm -lpthread
 *
 * Tools (for MCP over HTTP events, direct invocations and AgentCore Gateway targets):
 *   add {a, b, tags?}   a JSON Schema with keywords an AgentCore tool schema leaves out; the sum
 *                       as text and as structuredContent {"sum"} (an output schema)
 *   fail {reason}       a tool error result (isError) "refused: REASON"
 *   two___parts {}      a name holding "___", for the AgentCore prefix rule
 *   whoami {}           mcp_auth's kind, principal and a few context keys, as a JSON object text
 *
 * Event handlers, registered from EVENTS_HANDLERS (a comma-separated list of sources; unset:
 * all, empty: none). Each handled record prints one line to stdout:
 *   EVT {"source":..,"id":..,"body":..,"data":..,"extra":..,"records":N,"remaining":bool}
 * and a record fails when its payload (body, Message, decoded data, S3 key, DynamoDB key
 * "key") is "fail", or EventBridge detail.state is "fail"; schedules of a rule named
 * FailingRule fail too. mcp_event_fail's message is "rejected SOURCE record ID".
 */
#include "../../mcp.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void put_json(const char *s, size_t n) {
    if (!s) { fputs("null", stdout); return; }
    putchar('"');
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == '"' || c == '\\') printf("\\%c", c);
        else if (c < 0x20) printf("\\u%04x", c);
        else putchar(c);
    }
    putchar('"');
}
static void put_str(const char *s) { put_json(s, s ? strlen(s) : 0); }

/* What a record's "extra" shows: one member the test checks per source. */
static const char *extra_of(mcp_event *e) {
    const char *src = mcp_event_source(e);
    if (!strcmp(src, "schedule")) return mcp_json_str(mcp_json_at(mcp_event_get(e, "resources"), 0));
    if (!strcmp(src, "eventbridge")) return mcp_event_str(e, "detail-type");
    if (!strcmp(src, "sqs")) return mcp_event_str(e, "eventSourceARN");
    if (!strcmp(src, "sns")) return mcp_event_str(e, "Sns.Subject");
    if (!strcmp(src, "s3")) return mcp_event_str(e, "s3.bucket.name");
    if (!strcmp(src, "dynamodb")) return mcp_event_str(e, "dynamodb.Keys.key.S");
    if (!strcmp(src, "kinesis")) return mcp_event_str(e, "kinesis.partitionKey");
    return NULL;
}

static int on_event(mcp_event *e) {
    size_t n = 0;
    const char *body = mcp_event_body(e, &n);
    const mcp_json *records = mcp_json_get(mcp_event_json(e), "Records");
    const char *src = mcp_event_source(e);
    fputs("EVT {\"source\":", stdout);
    put_str(src);
    fputs(",\"id\":", stdout);
    put_str(mcp_event_id(e));
    fputs(",\"body\":", stdout);
    put_json(body, n);
    fputs(",\"data\":", stdout);
    put_str(mcp_event_data(e));
    fputs(",\"extra\":", stdout);
    put_str(extra_of(e));
    printf(",\"records\":%d,\"record\":%s,\"remaining\":%s}\n", records ? (int)records->len : -1,
           MCP_JSON_TYPE(mcp_event_record(e)) == MCP_JSON_OBJECT ? "true" : "false",
           mcp_event_remaining_ms(e) > 0 ? "true" : "false");
    fflush(stdout);
    const char *state = mcp_event_str(e, "detail.state");
    const char *key = mcp_event_str(e, "dynamodb.Keys.key.S");
    if ((body && !strcmp(body, "fail")) || (state && !strcmp(state, "fail")) || (key && !strcmp(key, "fail")))
        return mcp_event_fail(e, "rejected %s record %s", src, mcp_event_id(e));
    return 0;
}

static int on_failing_schedule(mcp_event *e) {
    return mcp_event_fail(e, "refresh failed: rule %s", mcp_json_str(mcp_json_at(mcp_event_get(e, "resources"), 0)));
}

static int add(mcp_call *c) {
    double sum = mcp_num(c, "a") + mcp_num(c, "b");
    char j[64];
    snprintf(j, sizeof j, "{\"sum\":%g}", sum);
    mcp_text(c, "%g", sum);
    return mcp_structured(c, j);
}

static int fail(mcp_call *c) { return mcp_error(c, "refused: %s", mcp_str(c, "reason")); }

static int two_parts(mcp_call *c) { return mcp_text(c, "two parts"); }

static int whoami(mcp_call *c) {
    static const char *const names[] = {"kind", "principal", "key", "clientName", "claim1", "email", "sub"};
    char out[2048];
    size_t o = 0;
    o += (size_t)snprintf(out, sizeof out, "{");
    for (size_t i = 0; i < sizeof names / sizeof *names && o < sizeof out; i++) {
        const char *v = mcp_auth(c, names[i]);
        o += (size_t)snprintf(out + o, sizeof out - o, "%s\"%s\":", i ? "," : "", names[i]);
        if (!v) o += (size_t)snprintf(out + o, sizeof out - o, "null");
        else { /* the values the tests use need no escapes; anything else is shown as "?" */
            int plain = 1;
            for (const char *p = v; *p; p++) if (*p == '"' || *p == '\\' || (unsigned char)*p < 0x20) plain = 0;
            o += (size_t)snprintf(out + o, sizeof out - o, "\"%s\"", plain ? v : "?");
        }
    }
    if (o < sizeof out) snprintf(out + o, sizeof out - o, "}");
    return mcp_text(c, "%s", out);
}

/* Keywords an AgentCore inline schema cannot carry (additionalProperties, minimum, default,
 * maxItems, enum, $schema, maxLength) beside those it keeps; "format" and "default" are also
 * property names here, which stay. */
static const char add_schema[] =
    "{\"$schema\":\"https://json-schema.org/draft/2020-12/schema\",\"type\":\"object\",\"description\":\"two numbers\","
    "\"additionalProperties\":false,\"properties\":{"
    "\"a\":{\"type\":\"number\",\"description\":\"the first\",\"minimum\":-1000},"
    "\"b\":{\"type\":\"number\",\"default\":0},"
    "\"tags\":{\"type\":\"array\",\"maxItems\":3,\"items\":{\"type\":\"string\",\"enum\":[\"x\",\"y\"]}}},"
    "\"required\":[\"a\",\"b\"]}";
static const char add_output[] =
    "{\"type\":\"object\",\"properties\":{\"sum\":{\"type\":\"number\",\"examples\":[5]}},\"required\":[\"sum\"]}";
static const char fail_schema[] =
    "{\"type\":\"object\",\"properties\":{\"reason\":{\"type\":\"string\",\"maxLength\":100},"
    "\"format\":{\"type\":\"string\"},\"default\":{\"type\":\"boolean\"}},\"required\":[\"reason\"]}";

static int wanted(const char *source) {
    const char *list = getenv("EVENTS_HANDLERS");
    if (!list) return 1;
    size_t n = strlen(source);
    for (const char *p = list; *p;) {
        const char *end = strchr(p, ',');
        size_t len = end ? (size_t)(end - p) : strlen(p);
        if (len == n && !strncmp(p, source, n)) return 1;
        p += len + (end != NULL);
    }
    return 0;
}

int main(int argc, char **argv) {
    mcp_server *s = mcp_server_new("events-test", "1.0.0");
    mcp_tool_def *t = mcp_tool(s, "add", "Add two numbers", add_schema, add);
    mcp_tool_output_schema(t, add_output);
    mcp_tool(s, "fail", "Always a tool error", fail_schema, fail);
    mcp_tool(s, "two___parts", "A name with three underscores", "", two_parts);
    mcp_tool(s, "whoami", "Who the runtime says is calling", "", whoami);

    if (wanted("schedule")) {
        mcp_on_event(s, "schedule", "arn:aws:events:*:rule/FailingRule", on_failing_schedule, "data:failing");
        mcp_on_event(s, "schedule", NULL, on_event, "data:schedule");
    }
    if (wanted("eventbridge")) {
        mcp_on_event(s, "eventbridge", "com.example.*", on_event, "data:example");
        mcp_on_event(s, "eventbridge", "aws.ecr/ECR Image Action", on_event, "data:ecr");
    }
    if (wanted("sqs")) mcp_on_event(s, "sqs", NULL, on_event, "data:sqs");
    if (wanted("sns")) mcp_on_event(s, "sns", NULL, on_event, "data:sns");
    if (wanted("s3")) mcp_on_event(s, "s3", "sourcebucket", on_event, "data:s3");
    if (wanted("dynamodb")) mcp_on_event(s, "dynamodb", NULL, on_event, "data:dynamodb");
    if (wanted("kinesis")) mcp_on_event(s, "kinesis", NULL, on_event, "data:kinesis");
    return mcp_main(s, argc, argv);
}
