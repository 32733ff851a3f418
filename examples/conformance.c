/* conformance.c: the fixtures the official MCP conformance suite calls, for every era.
 *   build/conformance serve --listen 127.0.0.1:3001
 *   npx conformance server --url http://127.0.0.1:3001/mcp  */
#define _POSIX_C_SOURCE 200809L
#include "../mcp.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static const char PNG[] = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8DwHwAFBQIAX8jx0gAAAABJRU5ErkJggg==";
static const char WAV[] = "UklGRiYAAABXQVZFZm10IBAAAAABAAEAQB8AAAB9AAACABAAZGF0YQIAAAA=";

static void pause_ms(long ms) {
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

/* The text of an elicitation answer's content field, or "". */
static const char *answer_field(const mcp_json *ans, const char *field) {
    const char *v = mcp_json_str(mcp_json_get(mcp_json_get(ans, "content"), field));
    return v ? v : "";
}

/* Tasks (the io.modelcontextprotocol/tasks extension's fixtures, and 2025-11-25 tasks). */
static int greet(mcp_call *c) { return mcp_text(c, "Hello, %s!", mcp_str(c, "name") ? mcp_str(c, "name") : "World"); }
/* Sleeps `seconds`; run in the request (no task: the client wants none, or Lambda has no
 * table) it stops a second before a Lambda deadline and says so. */
static int slow_compute(mcp_call *c) {
    int64_t ms = mcp_int(c, "seconds") * 1000, left = mcp_remaining_ms(c) - 1000;
    for (int64_t t = 0; t < ms; t += 50) {
        if (mcp_task_cancelled(c)) return 0;
        if (t >= left) return mcp_error(c, "stopped after %lld ms: the Lambda deadline is near", (long long)t);
        pause_ms(50);
    }
    const char *label = mcp_str(c, "label");
    return mcp_text(c, "computed %s after %lld s", label ? label : "", (long long)(ms / 1000));
}
static int failing_job(mcp_call *c) {
    pause_ms(1000);
    return mcp_error(c, "the job failed");
}
static int protocol_error_job(mcp_call *c) { return mcp_fail(c, -32603, "the job broke down"); }
static const char CONFIRM_SCHEMA[] = "{\"type\":\"object\",\"properties\":{\"confirm\":{\"type\":\"boolean\"}},\"required\":[\"confirm\"]}";
static int confirm_delete(mcp_call *c) {
    const mcp_json *r = mcp_elicit(c, "confirm", "Delete the file?", CONFIRM_SCHEMA);
    if (!r) return 0;
    const char *f = mcp_str(c, "filename");
    return mcp_text(c, "%s %s", mcp_json_bool(mcp_json_get(mcp_json_get(r, "content"), "confirm")) ? "deleted" : "kept", f ? f : "");
}
static int multi_input(mcp_call *c) {
    const mcp_json *a = mcp_elicit(c, "first", "First answer?", CONFIRM_SCHEMA);
    const mcp_json *b = mcp_elicit(c, "second", "Second answer?", CONFIRM_SCHEMA);
    if (!a || !b) return 0;
    return mcp_text(c, "both answered");
}
static const char NAME_SCHEMA[] = "{\"type\":\"object\",\"properties\":{\"name\":{\"type\":\"string\"}},\"required\":[\"name\"]}";
static int tool_with_task(mcp_call *c) {
    const mcp_json *r = mcp_elicit(c, "user_name", "What is your name?", NAME_SCHEMA);
    if (!r || mcp_task(c)) return 0;
    return mcp_text(c, "Hello, %s, from the task!", answer_field(r, "name"));
}

/* Lists that change while serving (announced over stdio). */
static int dynamic_echo(mcp_call *c) { return mcp_text(c, "%s", mcp_str(c, "text") ? mcp_str(c, "text") : ""); }
static int dynamic_doc(mcp_call *c) { return mcp_text(c, "a document added while serving"); }
static int dynamic_prompt(mcp_call *c) { return mcp_text(c, "a prompt added while serving"); }
static mcp_server *server;
static int add_entries(mcp_call *c) {
    mcp_tool(server, "dynamic_echo", "Echoes its text (added while serving)", "text:string", dynamic_echo);
    mcp_resource(server, "test://dynamic", "dynamic", "Added while serving", "text/plain", dynamic_doc);
    mcp_prompt(server, "dynamic_prompt", "Added while serving", "", dynamic_prompt);
    return mcp_text(c, "added");
}
static int remove_entries(mcp_call *c) {
    int r = mcp_tool_remove(server, "dynamic_echo") | mcp_resource_remove(server, "test://dynamic") |
            mcp_prompt_remove(server, "dynamic_prompt");
    return r ? mcp_error(c, "nothing to remove") : mcp_text(c, "removed");
}

static int simple_text(mcp_call *c) { return mcp_text(c, "This is a simple text response for testing."); }
static int image(mcp_call *c) { return mcp_image(c, "image/png", PNG); }
static int audio(mcp_call *c) { return mcp_audio(c, "audio/wav", WAV); }
static int embedded(mcp_call *c) {
    return mcp_embed_text(c, "test://embedded-resource", "text/plain", "This is an embedded resource content.");
}
static int mixed(mcp_call *c) {
    mcp_text(c, "Multiple content types test:");
    mcp_image(c, "image/png", PNG);
    return mcp_embed_text(c, "test://mixed-content-resource", "application/json", "{\"test\":\"data\",\"value\":123}");
}
static int with_logging(mcp_call *c) {
    mcp_log(c, "info", "Tool execution started");
    pause_ms(50);
    mcp_log(c, "info", "Tool processing data");
    pause_ms(50);
    mcp_log(c, "info", "Tool execution completed");
    return mcp_text(c, "Tool with logging executed successfully");
}
static int error_handling(mcp_call *c) {
    return mcp_error(c, "This tool intentionally returns an error for testing");
}
static int with_progress(mcp_call *c) {
    for (int i = 0; i <= 100; i += 50) {
        char m[48];
        snprintf(m, sizeof m, "Completed step %d of 100", i);
        mcp_progress(c, i, 100, m);
        if (i < 100) pause_ms(50);
    }
    return mcp_text(c, "Progress test completed");
}

static int sampling(mcp_call *c) {
    const char *prompt = mcp_str(c, "prompt");
    char params[512];
    snprintf(params, sizeof params,
             "{\"messages\":[{\"role\":\"user\",\"content\":{\"type\":\"text\",\"text\":\"%s\"}}],\"maxTokens\":100}",
             prompt ? prompt : "Test prompt for sampling");
    const mcp_json *r = mcp_sample(c, "sampling", params);
    if (!r) return mcp_error(c, "the client did not answer the sampling request");
    const char *text = mcp_json_str(mcp_json_get(mcp_json_get(r, "content"), "text"));
    return mcp_text(c, "LLM response: %s", text ? text : "");
}

static int elicitation(mcp_call *c) {
    const char *msg = mcp_str(c, "message");
    const mcp_json *r = mcp_elicit(c, "user_info", msg ? msg : "Please provide your information",
        "{\"type\":\"object\",\"properties\":{\"username\":{\"type\":\"string\",\"description\":\"User's response\"},"
        "\"email\":{\"type\":\"string\",\"description\":\"User's email address\"}},\"required\":[\"username\",\"email\"]}");
    if (!r) return mcp_error(c, "the client did not answer the elicitation request");
    char *content = mcp_json_write(mcp_json_get(r, "content"), NULL);
    mcp_text(c, "User response: action=%s, content=%s", mcp_json_str(mcp_json_get(r, "action")),
             content ? content : "{}");
    free(content);
    return 0;
}

static int elicit_defaults(mcp_call *c) {
    const mcp_json *r = mcp_elicit(c, "defaults", "Please review and update the form fields with defaults",
        "{\"type\":\"object\",\"properties\":{"
        "\"name\":{\"type\":\"string\",\"description\":\"User name\",\"default\":\"John Doe\"},"
        "\"age\":{\"type\":\"integer\",\"description\":\"User age\",\"default\":30},"
        "\"score\":{\"type\":\"number\",\"description\":\"User score\",\"default\":95.5},"
        "\"status\":{\"type\":\"string\",\"description\":\"User status\",\"enum\":[\"active\",\"inactive\",\"pending\"],\"default\":\"active\"},"
        "\"verified\":{\"type\":\"boolean\",\"description\":\"Verification status\",\"default\":true}},\"required\":[]}");
    if (!r) return mcp_error(c, "the client did not answer the elicitation request");
    char *content = mcp_json_write(mcp_json_get(r, "content"), NULL);
    mcp_text(c, "Elicitation completed: action=%s, content=%s", mcp_json_str(mcp_json_get(r, "action")),
             content ? content : "{}");
    free(content);
    return 0;
}

static int elicit_enums(mcp_call *c) {
    const mcp_json *r = mcp_elicit(c, "enums", "Please select options from the enum fields",
        "{\"type\":\"object\",\"properties\":{"
        "\"untitledSingle\":{\"type\":\"string\",\"description\":\"Select one option\",\"enum\":[\"option1\",\"option2\",\"option3\"]},"
        "\"titledSingle\":{\"type\":\"string\",\"description\":\"Select one option with titles\",\"oneOf\":["
        "{\"const\":\"value1\",\"title\":\"First Option\"},{\"const\":\"value2\",\"title\":\"Second Option\"},{\"const\":\"value3\",\"title\":\"Third Option\"}]},"
        "\"legacyEnum\":{\"type\":\"string\",\"description\":\"Select one option (legacy)\",\"enum\":[\"opt1\",\"opt2\",\"opt3\"],"
        "\"enumNames\":[\"Option One\",\"Option Two\",\"Option Three\"]},"
        "\"untitledMulti\":{\"type\":\"array\",\"description\":\"Select multiple options\",\"minItems\":1,\"maxItems\":3,"
        "\"items\":{\"type\":\"string\",\"enum\":[\"option1\",\"option2\",\"option3\"]}},"
        "\"titledMulti\":{\"type\":\"array\",\"description\":\"Select multiple options with titles\",\"minItems\":1,\"maxItems\":3,"
        "\"items\":{\"anyOf\":[{\"const\":\"value1\",\"title\":\"First Choice\"},{\"const\":\"value2\",\"title\":\"Second Choice\"},"
        "{\"const\":\"value3\",\"title\":\"Third Choice\"}]}}},\"required\":[]}");
    if (!r) return mcp_error(c, "the client did not answer the elicitation request");
    char *content = mcp_json_write(mcp_json_get(r, "content"), NULL);
    mcp_text(c, "Elicitation completed: action=%s, content=%s", mcp_json_str(mcp_json_get(r, "action")),
             content ? content : "{}");
    free(content);
    return 0;
}

static int schema_2020_12(mcp_call *c) { return mcp_text(c, "Received: %s", mcp_has(c, "name") ? mcp_str(c, "name") : "(no name)"); }
static int reconnection(mcp_call *c) { return mcp_text(c, "Reconnection test completed"); }
static int custom_header(mcp_call *c) { return mcp_text(c, "Region: %s", mcp_str(c, "region")); }

/* 2026-07-28 fixtures */
static int missing_capability(mcp_call *c) {
    if (mcp_need(c, "sampling")) return -1;
    const mcp_json *r = mcp_sample(c, "question", "{\"messages\":[{\"role\":\"user\",\"content\":{\"type\":\"text\",\"text\":\"Say hi\"}}],\"maxTokens\":20}");
    if (!r) return 0;
    return mcp_text(c, "sampled");
}
static int streaming_elicitation(mcp_call *c) {
    const mcp_json *r = mcp_elicit(c, "confirm", "Please confirm", "ok:boolean");
    if (!r) return 0;
    return mcp_text(c, "Confirmed: %s", answer_field(r, "ok"));
}
static int logging_tool(mcp_call *c) {
    mcp_log(c, "info", "logging tool ran");
    return mcp_text(c, "Logging tool completed");
}


static int mrtr_elicitation(mcp_call *c) {
    const mcp_json *r = mcp_elicit(c, "user_name", "What is your name?", NAME_SCHEMA);
    if (!r) return 0;
    return mcp_text(c, "Hello, %s!", answer_field(r, "name"));
}
static int mrtr_sampling(mcp_call *c) {
    const mcp_json *r = mcp_sample(c, "capital_question",
        "{\"messages\":[{\"role\":\"user\",\"content\":{\"type\":\"text\",\"text\":\"What is the capital of France?\"}}],\"maxTokens\":100}");
    if (!r) return 0;
    const char *t = mcp_json_str(mcp_json_get(mcp_json_get(r, "content"), "text"));
    return mcp_text(c, "Sampling said: %s", t ? t : "");
}
static int mrtr_roots(mcp_call *c) {
    const mcp_json *r = mcp_roots(c, "client_roots");
    if (!r) return 0;
    const mcp_json *roots = mcp_json_get(r, "roots");
    return mcp_text(c, "The client has %u root(s)", roots ? roots->len : 0u);
}
static int mrtr_request_state(mcp_call *c) {
    const mcp_json *r = mcp_elicit(c, "confirm", "Please confirm", "ok:boolean");
    if (!r) return mcp_set_state(c, "awaiting-confirm");
    const char *st = mcp_state(c);
    return mcp_text(c, "state-ok: %s", st ? st : "(none)");
}
static int mrtr_multiple(mcp_call *c) {
    const mcp_json *a = mcp_elicit(c, "user_name", "What is your name?", NAME_SCHEMA);
    const mcp_json *b = mcp_sample(c, "greeting",
        "{\"messages\":[{\"role\":\"user\",\"content\":{\"type\":\"text\",\"text\":\"Generate a greeting\"}}],\"maxTokens\":50}");
    const mcp_json *r = mcp_roots(c, "client_roots");
    if (!a || !b || !r) return mcp_set_state(c, "multiple");
    const char *g = mcp_json_str(mcp_json_get(mcp_json_get(b, "content"), "text"));
    return mcp_text(c, "%s %s (%u roots)", g ? g : "", answer_field(a, "name"), mcp_json_get(r, "roots")->len);
}
static int mrtr_multi_round(mcp_call *c) {
    char name[128] = "";
    const char *st = mcp_state(c);
    if (st && !strncmp(st, "name=", 5)) snprintf(name, sizeof name, "%s", st + 5);
    else {
        const mcp_json *a = mcp_elicit(c, "step1", "Step 1: What is your name?", NAME_SCHEMA);
        if (!a) return mcp_set_state(c, "step1");
        snprintf(name, sizeof name, "%s", answer_field(a, "name"));
    }
    const mcp_json *b = mcp_elicit(c, "step2", "Step 2: What is your favorite color?", "color:string");
    if (!b) {
        char st2[160];
        snprintf(st2, sizeof st2, "name=%s", name);
        return mcp_set_state(c, st2);
    }
    return mcp_text(c, "%s likes %s", name, answer_field(b, "color"));
}
static int mrtr_tampered(mcp_call *c) {
    const mcp_json *r = mcp_elicit(c, "confirm", "Please confirm", "ok:boolean");
    if (!r) return mcp_set_state(c, "tamper-check");
    return mcp_text(c, "Confirmed with state %s", mcp_state(c) ? mcp_state(c) : "(none)");
}
static int mrtr_capabilities(mcp_call *c) {
    if (mcp_client_can(c, "elicitation")) {
        const mcp_json *r = mcp_elicit(c, "user_name", "What is your name?", NAME_SCHEMA);
        if (!r) return 0;
        return mcp_text(c, "Hello, %s!", answer_field(r, "name"));
    }
    const mcp_json *r = mcp_sample(c, "name_guess",
        "{\"messages\":[{\"role\":\"user\",\"content\":{\"type\":\"text\",\"text\":\"Suggest a name\"}}],\"maxTokens\":20}");
    if (!r) return mcp_error(c, "this tool needs elicitation or sampling");
    return mcp_text(c, "Sampled a name");
}

/* resources */
static int static_text(mcp_call *c) { return mcp_text(c, "This is the content of the static text resource."); }
static int static_binary(mcp_call *c) { return mcp_blob(c, PNG); }
static int template_data(mcp_call *c) {
    const char *id = mcp_str(c, "id");
    return mcp_text(c, "{\"id\":\"%s\",\"templateTest\":true,\"data\":\"Data for ID: %s\"}", id, id);
}
static int watched(mcp_call *c) { return mcp_text(c, "Watched resource content"); }

/* prompts */
static int simple_prompt(mcp_call *c) { return mcp_text(c, "This is a simple prompt for testing."); }
static int prompt_args(mcp_call *c) {
    return mcp_text(c, "Prompt with arguments: arg1='%s', arg2='%s'", mcp_str(c, "arg1"), mcp_str(c, "arg2"));
}
static int prompt_resource(mcp_call *c) {
    mcp_embed_text(c, mcp_str(c, "resourceUri"), "text/plain", "Embedded resource content for testing.");
    return mcp_text(c, "Please process the embedded resource above.");
}
static int prompt_image(mcp_call *c) {
    mcp_image(c, "image/png", PNG);
    return mcp_text(c, "Please analyze the image above.");
}
static int prompt_mrtr(mcp_call *c) {
    const mcp_json *r = mcp_elicit(c, "user_context", "What context should the prompt use?", "context:string");
    if (!r) return 0;
    return mcp_text(c, "Use this context: %s", answer_field(r, "context"));
}

static int complete_arg(mcp_call *c) {
    static const char *const values[] = {"paris", "park", "party", "test", "testing", "tested"};
    const char *prefix = mcp_complete_value(c);
    for (size_t i = 0; i < sizeof values / sizeof *values; i++)
        if (!strncmp(values[i], prefix, strlen(prefix))) mcp_complete(c, values[i]);
    return 0;
}

static const char SCHEMA_2020_12[] =
    "{\"$schema\":\"https://json-schema.org/draft/2020-12/schema\",\"type\":\"object\","
    "\"$defs\":{\"address\":{\"$anchor\":\"addressDef\",\"type\":\"object\",\"properties\":{\"street\":{\"type\":\"string\"},\"city\":{\"type\":\"string\"}}}},"
    "\"properties\":{\"name\":{\"type\":\"string\"},\"address\":{\"$ref\":\"#/$defs/address\"},"
    "\"contactMethod\":{\"type\":\"string\",\"enum\":[\"phone\",\"email\"]},\"phone\":{\"type\":\"string\"},\"email\":{\"type\":\"string\"}},"
    "\"allOf\":[{\"anyOf\":[{\"required\":[\"phone\"]},{\"required\":[\"email\"]}]}],"
    "\"if\":{\"properties\":{\"contactMethod\":{\"const\":\"phone\"}},\"required\":[\"contactMethod\"]},"
    "\"then\":{\"required\":[\"phone\"]},\"else\":{\"required\":[\"email\"]},"
    "\"additionalProperties\":false}";

int main(int argc, char **argv) {
    mcp_server *s = mcp_server_new("mcp-conformance-test-server", "1.0.0");
    mcp_tool(s, "test_simple_text", "Tests simple text content response", "", simple_text);
    mcp_tool(s, "test_image_content", "Tests image content response", "", image);
    mcp_tool(s, "test_audio_content", "Tests audio content response", "", audio);
    mcp_tool(s, "test_embedded_resource", "Tests embedded resource content response", "", embedded);
    mcp_tool(s, "test_multiple_content_types", "Tests response with multiple content types (text, image, resource)", "", mixed);
    mcp_tool(s, "test_tool_with_logging", "Tests tool that emits log messages during execution", "", with_logging);
    mcp_tool(s, "test_error_handling", "Tests error response handling", "", error_handling);
    mcp_tool(s, "test_tool_with_progress", "Tests tool that reports progress notifications", "", with_progress);
    mcp_tool(s, "test_sampling", "Tests server-initiated sampling (LLM completion request)", "prompt:string?", sampling);
    mcp_tool(s, "test_elicitation", "Tests server-initiated elicitation (user input request)", "message:string?", elicitation);
    mcp_tool(s, "test_elicitation_sep1034_defaults", "Tests elicitation with default values (SEP-1034)", "", elicit_defaults);
    mcp_tool(s, "test_elicitation_sep1330_enums", "Tests elicitation with enum schemas (SEP-1330)", "", elicit_enums);
    mcp_tool(s, "json_schema_2020_12_tool", "Tool with JSON Schema 2020-12 features", SCHEMA_2020_12, schema_2020_12);
    mcp_tool(s, "test_reconnection", "Tests a call that outlives its stream", "", reconnection);
    mcp_tool(s, "test_custom_header", "Takes a parameter that is mirrored in the Mcp-Param-Region header",
             "{\"type\":\"object\",\"properties\":{\"region\":{\"type\":\"string\",\"x-mcp-header\":\"Region\"}},"
             "\"required\":[\"region\"]}", custom_header);
    mcp_tool(s, "test_missing_capability", "Needs the client's sampling capability", "", missing_capability);
    mcp_tool(s, "test_streaming_elicitation", "Asks the client to confirm", "", streaming_elicitation);
    mcp_tool(s, "test_logging_tool", "Logs one message when the client asked for logs", "", logging_tool);
    server = s;
    mcp_tool(s, "test_add_entries", "Adds a tool, a resource and a prompt", "", add_entries);
    mcp_tool(s, "test_remove_entries", "Removes what test_add_entries added", "", remove_entries);
    mcp_tool(s, "greet", "Says hello", "name:string?", greet);
    mcp_tool_task(mcp_tool(s, "slow_compute", "Computes for a number of seconds, as a task", "seconds:integer label:string?", slow_compute),
                  MCP_TASK_OPTIONAL);
    mcp_tool_task(mcp_tool(s, "failing_job", "Fails after a second, as a task", "", failing_job), MCP_TASK_REQUIRED);
    mcp_tool_task(mcp_tool(s, "protocol_error_job", "Breaks down, as a task", "", protocol_error_job), MCP_TASK_OPTIONAL);
    mcp_tool_task(mcp_tool(s, "confirm_delete", "Asks for confirmation, as a task", "filename:string", confirm_delete), MCP_TASK_OPTIONAL);
    mcp_tool_task(mcp_tool(s, "multi_input", "Asks two things at once, as a task", "", multi_input), MCP_TASK_OPTIONAL);
    mcp_tool_task(mcp_tool(s, "test_tool_with_task", "Asks a name, then continues as a task", "", tool_with_task),
                  MCP_TASK_REQUIRED | MCP_TASK_DEFERRED);
    mcp_tool(s, "test_input_required_result_elicitation", "Asks the user's name (multi-round-trip)", "", mrtr_elicitation);
    mcp_tool(s, "test_input_required_result_sampling", "Asks the client's model a question (multi-round-trip)", "", mrtr_sampling);
    mcp_tool(s, "test_input_required_result_list_roots", "Asks the client for its roots (multi-round-trip)", "", mrtr_roots);
    mcp_tool(s, "test_input_required_result_request_state", "Carries request state across rounds", "", mrtr_request_state);
    mcp_tool(s, "test_input_required_result_multiple_inputs", "Asks three things in one round", "", mrtr_multiple);
    mcp_tool(s, "test_input_required_result_multi_round", "Asks in two rounds", "", mrtr_multi_round);
    mcp_tool(s, "test_input_required_result_tampered_state", "Refuses altered request state", "", mrtr_tampered);
    mcp_tool(s, "test_input_required_result_capabilities", "Asks only what the client can answer", "", mrtr_capabilities);

    mcp_resource(s, "test://static-text", "static-text", "A static text resource", "text/plain", static_text);
    mcp_resource(s, "test://static-binary", "static-binary", "A static binary resource (PNG)", "image/png", static_binary);
    mcp_resource(s, "test://watched-resource", "watched-resource", "A resource to subscribe to", "text/plain", watched);
    mcp_resource_template(s, "test://template/{id}/data", "template-data", "Data for an id", "application/json", template_data);

    mcp_prompt(s, "test_simple_prompt", "A simple prompt without arguments", "", simple_prompt);
    mcp_prompt(s, "test_prompt_with_arguments", "A prompt with two required arguments", "arg1 arg2", prompt_args);
    mcp_prompt(s, "test_prompt_with_embedded_resource", "A prompt that embeds a resource", "resourceUri", prompt_resource);
    mcp_prompt(s, "test_prompt_with_image", "A prompt with an image", "", prompt_image);
    mcp_prompt(s, "test_input_required_result_prompt", "A prompt that asks for context first", "", prompt_mrtr);
    mcp_completion(s, "ref/prompt", "test_prompt_with_arguments", complete_arg);
    return mcp_main(s, argc, argv);
}
