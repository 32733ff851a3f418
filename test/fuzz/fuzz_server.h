/* fuzz_server.h: the MCP server the events, mcp and jwt fuzz targets talk to. It registers
 * tools with compact and JSON schemas (one with an output schema, one with annotations,
 * one with scopes), a resource, two resource templates, a prompt and completions, and its
 * handlers use the handler API the way servers do: mcp_text/mcp_textn, media and embedded
 * content, mcp_structured, mcp_error/mcp_fail, mcp_log/mcp_progress, mcp_elicit/
 * mcp_sample/mcp_roots with mcp_state/mcp_set_state, mcp_need/mcp_client_can, mcp_auth,
 * mcp_int/mcp_num/mcp_bool/mcp_str. Everything is registered once and never freed (the
 * server lives as long as the process, as in mcp_main). */
#ifndef FUZZ_SERVER_H
#define FUZZ_SERVER_H

static int h_add(mcp_call *c) { return mcp_text(c, "%g", mcp_num(c, "a") + mcp_num(c, "b")); }

/* echo: "text:string count:integer? loud:boolean?" */
static int h_echo(mcp_call *c) {
    const char *t = mcp_str(c, "text");
    int64_t n = mcp_int(c, "count");
    if (n < 1) n = 1;
    if (n > 4) n = 4;
    if (mcp_bool(c, "loud")) mcp_log(c, "info", "echoing %lld times", (long long)n);
    mcp_progress(c, 1, 2, "halfway");
    for (int64_t i = 0; i < n; i++) mcp_textn(c, t ? t : "", t ? strlen(t) : 0);
    return 0;
}

/* kinds: {"kind": one of the content kinds, "code": integer, "data": string} */
static int h_kinds(mcp_call *c) {
    const char *k = mcp_str(c, "kind"), *d = mcp_str(c, "data");
    if (!k) k = "text";
    if (!d) d = "aGVsbG8=";
    if (!strcmp(k, "image")) return mcp_image(c, "image/png", d);
    if (!strcmp(k, "audio")) return mcp_audio(c, "audio/wav", d);
    if (!strcmp(k, "embed")) { mcp_embed_text(c, "test://readme", "text/plain", d); return mcp_embed_blob(c, "test://bin", NULL, d); }
    if (!strcmp(k, "link")) return mcp_link(c, d, "a link", "described", "text/plain");
    if (!strcmp(k, "error")) return mcp_error(c, "failed on purpose: %s", d);
    if (!strcmp(k, "fail")) return mcp_fail(c, (int)mcp_num(c, "code"), "failed with a code: %s", d);
    if (!strcmp(k, "nothing")) return 1; /* failure with no content */
    if (!strcmp(k, "misuse")) { /* calls that do not belong in a tool */
        if (mcp_blob(c, d) != -1 || mcp_role(c, "user") != 0 || mcp_complete(c, "x") != -1) return mcp_text(c, "odd");
        return mcp_text(c, "%s", mcp_protocol(c));
    }
    return mcp_textn(c, d, strlen(d));
}

/* structured: {"a":number,"b":number,"json":string,"log":boolean}; output schema {sum:number} */
static int h_structured(mcp_call *c) {
    if (mcp_bool(c, "log")) mcp_log(c, "warning", "structured result coming");
    const char *j = mcp_str(c, "json");
    if (j) return mcp_structured(c, j);
    char tmp[64];
    snprintf(tmp, sizeof tmp, "{\"sum\":%.17g}", mcp_num(c, "a") + mcp_num(c, "b"));
    return mcp_structured(c, tmp);
}

/* wizard: asks the client (elicitation, sampling, roots), keeps state across rounds */
static int h_wizard(mcp_call *c) {
    const char *st = mcp_state(c);
    const mcp_json *name = mcp_elicit(c, "name", "Your name?", "name:string");
    const mcp_json *sure = mcp_elicit(c, NULL, "Sure?", "{\"type\":\"object\",\"properties\":{\"ok\":{\"type\":\"boolean\"}}}");
    const mcp_json *smp = mcp_client_can(c, "sampling") ? mcp_sample(c, "draft", "{\"messages\":[],\"maxTokens\":16}") : NULL;
    const mcp_json *roots = mcp_roots(c, NULL);
    if (mcp_bool(c, "needSampling") && mcp_need(c, "sampling")) return -1;
    if (!name || !sure) {
        char s[96];
        snprintf(s, sizeof s, "%s+1", st ? st : "round");
        if (strlen(s) > 60) s[60] = 0;
        mcp_set_state(c, s);
        return 0;
    }
    const char *action = mcp_json_str(mcp_json_get(name, "action"));
    return mcp_text(c, "action=%s sampled=%d roots=%d state=%s", action ? action : "?", smp != NULL, roots != NULL, st ? st : "-");
}

/* whoami: what authentication and the context say */
static int h_whoami(mcp_call *c) {
    const char *kind = mcp_auth(c, "kind"), *p = mcp_auth(c, "principal"), *sc = mcp_auth(c, "scope");
    const char *sub = mcp_auth(c, "sub"), *email = mcp_auth(c, "email");
    const char *claim = mcp_str(c, "claim");
    const char *cv = claim ? mcp_auth(c, claim) : NULL;
    mcp_auth(c, NULL);
    return mcp_text(c, "kind=%s principal=%s scope=%s sub=%s email=%s claim=%s ctx=%s left=%d name=%s", kind ? kind : "-",
                    p ? p : "-", sc ? sc : "-", sub ? sub : "-", email ? email : "-", cv ? cv : "-",
                    mcp_context(c, "request-id") ? "yes" : "no", mcp_remaining_ms(c) > 0, mcp_name(c));
}

static int h_readme(mcp_call *c) { return mcp_text(c, "# Read me\nline two"); }
static int h_note(mcp_call *c) {
    const char *folder = mcp_str(c, "folder"), *name = mcp_str(c, "name");
    if (name && !strcmp(name, "missing")) return mcp_fail(c, -32002, "no note %s", name);
    if (name && !strcmp(name, "broken")) return -1;
    return mcp_text(c, "note %s in %s", name ? name : "?", folder ? folder : "?");
}
static int h_blob(mcp_call *c) {
    const char *id = mcp_str(c, "id");
    if (mcp_textn(c, "x", 1) != 0 && mcp_image(c, "image/png", "AA==") != -1) return -1;
    return mcp_blob(c, id && *id == 'e' ? "" : "AAECAwQ=");
}

static int h_greet(mcp_call *c) {
    const char *name = mcp_str(c, "name"), *style = mcp_str(c, "style");
    mcp_text(c, "Greet %s", name ? name : "someone");
    if (style && !strcmp(style, "pirate")) { mcp_role(c, "assistant"); mcp_text(c, "Arr, %s!", name ? name : "matey"); }
    if (style && !strcmp(style, "fail")) return mcp_fail(c, 0, "prompt failed");
    if (style && !strcmp(style, "bad")) mcp_role(c, "system");
    mcp_link(c, "test://readme", NULL, NULL, NULL);
    return 0;
}

static int h_complete_style(mcp_call *c) {
    static const char *const styles[] = {"formal", "friendly", "pirate", "fail", "bad"};
    const char *v = mcp_complete_value(c);
    if (strcmp(mcp_complete_argument(c), "style")) {
        if (!strcmp(mcp_complete_argument(c), "many")) /* past the 100-value cap */
            for (int i = 0; i < 150; i++) { char b[16]; snprintf(b, sizeof b, "v%d", i); mcp_complete(c, b); }
        if (!strcmp(mcp_complete_argument(c), "fail")) return mcp_fail(c, -32602, "no completions for %s", v);
        if (!strcmp(mcp_complete_argument(c), "echo")) mcp_complete(c, v);
        return 0;
    }
    for (size_t i = 0; i < sizeof styles / sizeof *styles; i++)
        if (!strncmp(styles[i], v, strlen(v))) mcp_complete(c, styles[i]);
    if (mcp_text(c, "no") != -1) return -1;
    return 0;
}
static int h_complete_folder(mcp_call *c) {
    const char *other = mcp_str(c, "name");
    mcp_complete(c, "inbox");
    mcp_complete(c, other ? other : "archive");
    return 0;
}

static int check_ok(void *data, char *err, size_t n) { (void)data; (void)err; (void)n; return 0; }
static int check_bad(void *data, char *err, size_t n) { (void)data; snprintf(err, n, "the \"database\" is \xff down"); return 1; }

static mcp_server *fz_server(int stateless) {
    mcp_server *s = mcp_server_new("fuzz", "1.0.0");
    mcp_server_title(s, "Fuzz \"server\"");
    mcp_server_instructions(s, "Use the tools.\nCarefully.");
    mcp_health(s, "ok", check_ok, NULL);
    mcp_health(s, "bad", check_bad, NULL);
    mcp_tool(s, "add", "Add two numbers", "a:number b:number", h_add);
    mcp_tool_def *t = mcp_tool(s, "echo", "Echo text", "text:string count:integer? loud:boolean?", h_echo);
    mcp_tool_title(t, "Echo");
    mcp_tool_annotations(t, "{\"readOnlyHint\":true,\"idempotentHint\":true}");
    mcp_tool(s, "kinds", "Every kind of content",
             "{\"type\":\"object\",\"properties\":{\"kind\":{\"enum\":[\"text\",\"image\",\"audio\",\"embed\",\"link\","
             "\"error\",\"fail\",\"nothing\",\"misuse\"]},\"code\":{\"type\":\"integer\",\"minimum\":-40000,\"maximum\":40000},"
             "\"data\":{\"type\":\"string\",\"maxLength\":200}},\"additionalProperties\":false}",
             h_kinds);
    t = mcp_tool(s, "structured", "Structured output",
                 "{\"type\":\"object\",\"properties\":{\"a\":{\"type\":\"number\"},\"b\":{\"type\":\"number\"},"
                 "\"json\":{\"type\":\"string\"},\"log\":{\"type\":\"boolean\"}},"
                 "\"allOf\":[{\"not\":{\"required\":[\"json\",\"a\"]}}],\"$defs\":{\"n\":{\"type\":\"number\"}}}",
                 h_structured);
    mcp_tool_output_schema(t, "{\"type\":\"object\",\"properties\":{\"sum\":{\"$ref\":\"#/$defs/n\"}},\"required\":[\"sum\"],"
                              "\"$defs\":{\"n\":{\"type\":\"number\"}}}");
    mcp_tool(s, "wizard", "Asks questions", "topic:string? needSampling:boolean?", h_wizard);
    mcp_tool(s, "whoami", "Who is calling", "claim:string?", h_whoami);
    t = mcp_tool(s, "scoped", "Needs scopes", "", h_whoami);
    mcp_tool_scopes(t, "files:read files:write");
    mcp_resource(s, "test://readme", "readme", "The read-me", "text/markdown", h_readme);
    mcp_resource_title(mcp_resource_template(s, "note://{folder}/{name}.txt", "note", "A note", "text/plain", h_note), "Notes");
    mcp_resource_template(s, "blob://{id}", "blob", NULL, "application/octet-stream", h_blob);
    mcp_prompt_title(mcp_prompt(s, "greet", "Greets someone", "name style?", h_greet), "Greeting");
    mcp_completion(s, "ref/prompt", "greet", h_complete_style);
    mcp_completion(s, "ref/resource", "note://{folder}/{name}.txt", h_complete_folder);
    s->stateless = stateless;
    return s;
}

/* Drop every session but keep (the fixed one a target uses), and reset its level, so an
 * input's initialize or logging/setLevel does not change how later inputs run. */
static void fz_sessions_reset(mcp_server *s, session *keep) {
    for (session *e = s->sessions, *next; e; e = next) {
        next = e->next;
        if (e != keep) session_drop(s, e);
    }
    if (keep) keep->level = 0;
}

#endif
