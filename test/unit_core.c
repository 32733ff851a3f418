/* unit_core.c: the JSON Schema subset, URI templates, the MCP core through http_route()
 * for every protocol era, and the stdio transport in a child process.
 *
 *   gcc -std=c11 -Wall -Wextra -Wpedantic -g -fsanitize=address,undefined \
 *       -o /tmp/unit_core test/unit_core.c -lbearssl -lm -lpthread && /tmp/unit_core
 * (or -DMCP_ENABLE_TLS=0 without -lbearssl; add -Wno-unused-function if mcp.c has functions
 * nothing calls yet)
 *
 * Expected JSON is written with single quotes for readability; Q() turns them into double
 * quotes, and a backquote into an apostrophe. Every HTTP check compares the
 * status, the Content-Type and the body byte for byte in one assertion. */
#include "../mcp.c"
#include "t.h"

#include <sys/wait.h>

static char nbuf[512];
#define NAME(...) (snprintf(nbuf, sizeof nbuf, __VA_ARGS__), nbuf)

/* ---- small helpers ---- */

#define QRING 64
static char *qring[QRING];
static int qpos;

/* A copy of s with ' turned into " and ` into ', kept until QRING more copies have been made. */
static const char *Q(const char *s) {
    size_t n = strlen(s);
    char *r = malloc(n + 1);
    for (size_t i = 0; i <= n; i++) r[i] = s[i] == '\'' ? '"' : s[i] == '`' ? '\'' : s[i];
    free(qring[qpos]);
    qring[qpos] = r;
    qpos = (qpos + 1) % QRING;
    return r;
}
static const char *QF(const char *fmt, ...) MCP_PRINTF(1, 2);
static const char *QF(const char *fmt, ...) {
    buf b = {0};
    va_list ap;
    va_start(ap, fmt);
    buf_vprintf(&b, fmt, ap);
    va_end(ap);
    const char *r = Q(b.p ? b.p : "");
    buf_free(&b);
    return r;
}
static void q_free(void) {
    for (int i = 0; i < QRING; i++) { free(qring[i]); qring[i] = NULL; }
}

/* ---- (a) JSON Schema subset ---- */

static mcp_json_doc *parse_q(const char *qtext) {
    const char *t = Q(qtext);
    mcp_json_err e;
    mcp_json_doc *d = mcp_json_parse(t, strlen(t), 0, &e);
    if (!d) printf("# bad test JSON: %s (%s at %zu)\n", t, e.msg, e.pos);
    return d;
}

/* Validate value against schema (both in single-quote notation); want NULL means valid. */
static void schk(const char *name, const char *schema, const char *value, const char *want) {
    mcp_json_doc *s = parse_q(schema), *v = parse_q(value);
    buf err = {0};
    int ok = schema_check(mcp_json_root(s), mcp_json_root(v), &err);
    const char *got = ok ? (err.len ? "valid, but a message was left" : "valid") : err.p ? err.p : "invalid, no message";
    T_EQ_STR(name, got, want ? Q(want) : "valid");
    buf_free(&err);
    mcp_json_free(s);
    mcp_json_free(v);
}

static int h_add(mcp_call *c);

/* schema_lint of schema (single-quote notation): want NULL means accepted. */
static void lint(const char *name, const char *schema, const char *want) {
    mcp_json_doc *s = parse_q(schema);
    buf err = {0};
    int ok = schema_lint(mcp_json_root(s), &err);
    T_EQ_STR(name, ok ? "accepted" : err.p ? err.p : "refused, no message", want ? Q(want) : "accepted");
    buf_free(&err);
    mcp_json_free(s);
}

static void test_patterns(void) {
    schk("pattern: ^a+b?$ matches aab", "{'pattern':'^a+b?$'}", "'aab'", NULL);
    schk("pattern: ^a+b?$ refuses abb", "{'pattern':'^a+b?$'}", "'abb'", "(arguments): does not match the pattern ^a+b?$");
    schk("pattern: unanchored, found anywhere", "{'pattern':'b'}", "'abc'", NULL);
    schk("pattern: class and {2,5}", "{'pattern':'^[A-Z][a-z0-9_-]{2,5}$'}", "'Abc-1'", NULL);
    schk("pattern: class and {2,5}, too short", "{'pattern':'^[A-Z][a-z0-9_-]{2,5}$'}", "'Ab'", "(arguments): does not match the pattern ^[A-Z][a-z0-9_-]{2,5}$");
    schk("pattern: \\d{3}-\\d{4}", "{'pattern':'^\\\\d{3}-\\\\d{4}$'}", "'555-1234'", NULL);
    schk("pattern: \\d{3}-\\d{4} refuses 55-1234", "{'pattern':'^\\\\d{3}-\\\\d{4}$'}", "'55-1234'", "(arguments): does not match the pattern ^\\d{3}-\\d{4}$");
    schk("pattern: alternation in a group", "{'pattern':'^(cat|dog)s?$'}", "'dogs'", NULL);
    schk("pattern: alternation in a group refuses cow", "{'pattern':'^(cat|dog)s?$'}", "'cow'", "(arguments): does not match the pattern ^(cat|dog)s?$");
    schk("pattern: backtracking into an earlier group", "{'pattern':'^(a|ab)(c|bcd)(d*)$'}", "'abcd'", NULL);
    schk("pattern: repeated group with a minimum", "{'pattern':'^(?:ab){2,3}$'}", "'ababab'", NULL);
    schk("pattern: repeated group over its maximum", "{'pattern':'^(?:ab){2,3}$'}", "'abababab'", "(arguments): does not match the pattern ^(?:ab){2,3}$");
    schk("pattern: lazy quantifier", "{'pattern':'^a.*?b$'}", "'axxbyb'", NULL);
    schk("pattern: . is one code point (3 of them in h\xc3\xa9\xc3\xa9)", "{'pattern':'^.{3}$'}", "'h\xc3\xa9\xc3\xa9'", NULL);
    schk("pattern: a class range of code points", "{'pattern':'^[\xc3\xa0-\xc3\xbf]+$'}", "'\xc3\xa9\xc3\xa8'", NULL);
    schk("pattern: \\b word boundary", "{'pattern':'\\\\bfoo\\\\b'}", "'a foo b'", NULL);
    schk("pattern: \\b refuses afoob", "{'pattern':'\\\\bfoo\\\\b'}", "'afoob'", "(arguments): does not match the pattern \\bfoo\\b");
    schk("pattern: negated class", "{'pattern':'^[^@ ]+@[^@ ]+$'}", "'a@b'", NULL);
    schk("pattern: \\S+ refuses a space", "{'pattern':'^\\\\S+$'}", "'a b'", "(arguments): does not match the pattern ^\\S+$");
    schk("pattern: a { that is no quantifier stands for itself", "{'pattern':'^a{b$'}", "'a{b'", NULL);
    schk("pattern: \\u0041 is A", "{'pattern':'^\\\\u0041$'}", "'A'", NULL);
    schk("pattern: catastrophic (a+)+$ is given up within the step limit, and says so", "{'pattern':'^(a+)+$'}",
         "'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaab'", "(arguments): could not be checked against the pattern ^(a+)+$ within its step limit");
    {
        size_t n = 100000;
        char *big = malloc(n + 3);
        big[0] = '\'';
        memset(big + 1, 'a', n);
        big[n + 1] = '\'';
        big[n + 2] = 0;
        schk("pattern: a 100,000-character string against ^[a-z]*x$ is decided, not given up", "{'pattern':'^[a-z]*x$'}", big,
             "(arguments): does not match the pattern ^[a-z]*x$");
        schk("pattern: a 100,000-character string against ^a+$ matches", "{'pattern':'^a+$'}", big, NULL);
        free(big);
    }
    schk("format date-time", "{'format':'date-time'}", "'2026-12-03T13:00:00.25Z'", NULL);
    schk("format date-time with an offset", "{'format':'date-time'}", "'2026-12-03t13:00:00+05:30'", NULL);
    schk("format date-time: February 30", "{'format':'date-time'}", "'2026-02-30T13:00:00Z'", "(arguments): is not a valid date-time");
    schk("format date-time: no zone", "{'format':'date-time'}", "'2026-12-03T13:00:00'", "(arguments): is not a valid date-time");
    schk("format date: a leap day", "{'format':'date'}", "'2024-02-29'", NULL);
    schk("format date: not a leap year", "{'format':'date'}", "'2023-02-29'", "(arguments): is not a valid date");
    schk("format time", "{'format':'time'}", "'23:59:60-08:00'", NULL);
    schk("format time: hour 24", "{'format':'time'}", "'24:00:00Z'", "(arguments): is not a valid time");
    schk("format email", "{'format':'email'}", "'first.last@example.co.uk'", NULL);
    schk("format email: no dot in the domain", "{'format':'email'}", "'a@localhost'", "(arguments): is not a valid email");
    schk("format email: two @", "{'format':'email'}", "'a@b@c.d'", "(arguments): is not a valid email");
    schk("format uri", "{'format':'uri'}", "'https://example.com/a?b=c'", NULL);
    schk("format uri: a relative reference", "{'format':'uri'}", "'/a/b'", "(arguments): is not a valid uri");
    schk("format uri: a space", "{'format':'uri'}", "'https://a b'", "(arguments): is not a valid uri");
    schk("format uuid", "{'format':'uuid'}", "'123e4567-e89b-12d3-a456-426614174000'", NULL);
    schk("format uuid: a g", "{'format':'uuid'}", "'123e4567-e89b-12d3-a456-42661417400g'", "(arguments): is not a valid uuid");
    schk("format ipv4", "{'format':'ipv4'}", "'192.168.0.1'", NULL);
    schk("format ipv4: a leading zero", "{'format':'ipv4'}", "'192.168.0.01'", "(arguments): is not a valid ipv4");
    schk("format ipv6", "{'format':'ipv6'}", "'2001:db8::1'", NULL);
    schk("format ipv6: two ::", "{'format':'ipv6'}", "'1::2::3'", "(arguments): is not a valid ipv6");
    schk("format: others are annotations", "{'format':'hostname'}", "'not a hostname!'", NULL);
    schk("format and pattern apply to strings only", "{'format':'date','pattern':'^x$'}", "5", NULL);
    schk("$ref into $defs with a pattern", "{'$defs':{'id':{'type':'string','pattern':'^[0-9]+$'}},'properties':{'id':{'$ref':'#/$defs/id'}}}",
         "{'id':'12a'}", "id: does not match the pattern ^[0-9]+$");

    lint("lint: a valid schema", "{'type':'object','properties':{'a':{'type':['string','null'],'pattern':'^x'}},'required':['a'],'$defs':{'d':{}}}", NULL);
    lint("lint: an unknown type", "{'properties':{'a':{'type':'strin'}}}", "properties.a.type: unknown type strin");
    lint("lint: a pattern that does not compile", "{'properties':{'a':{'pattern':'(ab'}}}", "properties.a.pattern: missing ) at offset 3 of (ab");
    lint("lint: lookahead", "{'properties':{'a':{'pattern':'(?=a)'}}}", "properties.a.pattern: lookahead and lookbehind are not supported at offset 1 of (?=a)");
    lint("lint: a backreference", "{'pattern':'(a)\\\\1'}", "pattern: backreferences are not supported at offset 5 of (a)\\1");
    lint("lint: a $ref to nothing", "{'items':{'$ref':'#/$defs/nope'}}", "items.$ref: #/$defs/nope does not name # or a schema under #/$defs or #/definitions");
    lint("lint: required not an array", "{'required':'a'}", "required: must be an array of property names");
    lint("lint: an empty anyOf", "{'anyOf':[]}", "anyOf: must be a non-empty array of schemas");
    lint("lint: the path goes into anyOf", "{'anyOf':[{},{'minimum':'3'}]}", "anyOf[1].minimum: must be a number");
    lint("lint: a schema that is a number", "{'properties':{'a':3}}", "properties.a: a schema is an object or a boolean");
    static mcp_server *volatile s; /* kept reachable: the forked tests after this check for leaks */
    s = mcp_server_new("lint", "1");
    mcp_tool_def *t = mcp_tool(s, "bad", NULL, "{\"type\":\"object\",\"properties\":{\"when\":{\"type\":\"string\",\"format\":7}}}", h_add);
    T_EQ_STR("a tool with a bad schema is refused with the path", tool_prepare(t), "the input schema is not valid: properties.when.format: must be a string");
}

static void test_schema(void) {
    schk("type string accepts a string", "{'type':'string'}", "'x'", NULL);
    schk("type string refuses an integer", "{'type':'string'}", "1", "(arguments): expected string, got integer");
    schk("type string refuses a number", "{'type':'string'}", "1.5", "(arguments): expected string, got number");
    schk("type string refuses true", "{'type':'string'}", "true", "(arguments): expected string, got boolean");
    schk("type string refuses null", "{'type':'string'}", "null", "(arguments): expected string, got null");
    schk("type string refuses an array", "{'type':'string'}", "[]", "(arguments): expected string, got array");
    schk("type string refuses an object", "{'type':'string'}", "{}", "(arguments): expected string, got object");
    schk("type number accepts an integer", "{'type':'number'}", "3", NULL);
    schk("type integer accepts 1.0", "{'type':'integer'}", "1.0", NULL);
    schk("type integer accepts 2e3", "{'type':'integer'}", "2e3", NULL);
    schk("type integer refuses 1.5", "{'type':'integer'}", "1.5", "(arguments): expected integer, got number");
    schk("type boolean accepts false", "{'type':'boolean'}", "false", NULL);
    schk("type null accepts null", "{'type':'null'}", "null", NULL);
    schk("type array of names accepts a listed one", "{'type':['string','null']}", "null", NULL);
    schk("type array of names refuses others", "{'type':['string','null']}", "1",
         "(arguments): expected one of the listed types, got integer");
    schk("unknown type name does not fail", "{'type':'thing'}", "1", NULL);
    schk("unknown keywords are ignored", "{'x-thing':'^a$','deprecated':true}", "'zzz'", NULL);
    schk("boolean schema true accepts anything", "true", "{'a':[1]}", NULL);
    schk("boolean schema false refuses everything", "false", "1", "(arguments): no value is allowed here");

    schk("required: all present", "{'type':'object','required':['a','b']}", "{'a':1,'b':2}", NULL);
    schk("required: the first missing one is named", "{'type':'object','required':['a','b','c']}", "{'a':1}",
         "b: required property is missing");
    schk("required: nested path", "{'properties':{'o':{'type':'object','required':['x']}}}", "{'o':{}}",
         "o.x: required property is missing");
    schk("required does not apply to non-objects", "{'required':['a']}", "5", NULL);

    schk("enum: a listed value", "{'enum':['a','b',1]}", "'b'", NULL);
    schk("enum: 1.0 equals 1", "{'enum':['a','b',1]}", "1.0", NULL);
    schk("enum: an unlisted value", "{'enum':['a','b',1]}", "'c'", "(arguments): must be one of ['a','b',1]");
    schk("enum: objects compare by members in any order", "{'enum':[{'a':1,'b':[1,2]}]}", "{'b':[1,2],'a':1}", NULL);
    schk("enum: arrays compare in order", "{'enum':[[1,2]]}", "[2,1]", "(arguments): must be one of [[1,2]]");
    schk("enum: arrays of other lengths differ", "{'enum':[[1,2]]}", "[1,2,3]", "(arguments): must be one of [[1,2]]");
    schk("enum: string is not number", "{'enum':['1']}", "1", "(arguments): must be one of ['1']");
    schk("const: equal object", "{'const':{'k':[1,2]}}", "{'k':[1,2]}", NULL);
    schk("const: different object", "{'const':{'k':[1,2]}}", "{'k':[1,3]}", "(arguments): must be {'k':[1,2]}");
    schk("const: extra member", "{'const':{'k':1}}", "{'k':1,'j':2}", "(arguments): must be {'k':1}");
    schk("const: null vs false", "{'const':null}", "false", "(arguments): must be null");
    schk("const: string", "{'const':'x'}", "'y'", "(arguments): must be 'x'");

    schk("minimum: equal is fine", "{'minimum':1}", "1", NULL);
    schk("minimum: below", "{'minimum':1.5}", "1", "(arguments): must be >= 1.5");
    schk("maximum: equal is fine", "{'maximum':10}", "10", NULL);
    schk("maximum: above", "{'maximum':10}", "11", "(arguments): must be <= 10");
    schk("exclusiveMinimum: equal fails", "{'exclusiveMinimum':0}", "0", "(arguments): must be > 0");
    schk("exclusiveMinimum: above is fine", "{'exclusiveMinimum':0}", "0.001", NULL);
    schk("exclusiveMaximum: equal fails, bound as written", "{'exclusiveMaximum':1e2}", "100", "(arguments): must be < 1e2");
    schk("exclusiveMaximum: below is fine", "{'exclusiveMaximum':100}", "99.9", NULL);
    schk("number bounds ignore strings", "{'minimum':5}", "'abc'", NULL);

    schk("minLength counts code points, not bytes (1 < 2)", "{'minLength':2}", "'\xC3\xA9'",
         "(arguments): must be at least 2 characters long");
    schk("maxLength: two 2-byte characters fit 2", "{'maxLength':2}", "'\xC3\xA9\xC3\xA9'", NULL);
    schk("maxLength: a 4-byte character is one", "{'maxLength':1}", "'\xF0\x9F\x98\x80'", NULL);
    schk("maxLength: an escaped surrogate pair is one", "{'maxLength':1}", "'\\uD83D\\uDE00'", NULL);
    schk("maxLength: too long", "{'maxLength':1}", "'ab'", "(arguments): must be at most 1 characters long");
    schk("a string with an embedded NUL is refused (a handler would read it cut short)", "{'minLength':3}", "'a\\u0000b'",
         "(arguments): string contains a NUL character");
    schk("a number out of a double's range is refused (a handler would read inf)", "{'type':'number'}", "1e999999",
         "(arguments): number out of range");
    schk("minItems", "{'minItems':2}", "[1]", "(arguments): must have at least 2 items");
    schk("maxItems", "{'maxItems':1}", "[1,2]", "(arguments): must have at most 1 items");

    schk("items: each element checked, index in the path", "{'type':'array','items':{'type':'integer'}}", "[1,'x']",
         "[1]: expected integer, got string");
    schk("items under a property", "{'properties':{'a':{'items':{'type':'string'}}}}", "{'a':['x',2]}",
         "a[1]: expected string, got integer");
    schk("items of objects: required inside an element", "{'items':{'required':['id']}}", "[{'id':1},{}]",
         "[1].id: required property is missing");
    schk("deep path through arrays and objects",
         "{'properties':{'list':{'type':'array','items':{'type':'object','properties':{'n':{'type':'integer'}}}}}}",
         "{'list':[{'n':1},{'n':'x'}]}", "list[1].n: expected integer, got string");

    schk("additionalProperties false: known ones pass", "{'properties':{'a':{}},'additionalProperties':false}", "{'a':1}", NULL);
    schk("additionalProperties false: unknown one named",
         "{'properties':{'a':{}},'additionalProperties':false}", "{'a':1,'b':2}", "b: unknown property");
    schk("additionalProperties schema", "{'properties':{'a':{}},'additionalProperties':{'type':'number'}}",
         "{'a':'s','x':'s'}", "x: expected number, got string");
    schk("additionalProperties true", "{'additionalProperties':true}", "{'x':1}", NULL);
    schk("properties: checked only when present", "{'properties':{'a':{'type':'string'}}}", "{}", NULL);
    schk("properties: wrong type named", "{'properties':{'a':{'type':'string'}}}", "{'a':5}", "a: expected string, got integer");

    schk("$ref into $defs: passes", "{'$defs':{'pos':{'type':'integer','minimum':0}},'properties':{'n':{'$ref':'#/$defs/pos'}}}",
         "{'n':3}", NULL);
    schk("$ref into $defs: fails with the path of the value",
         "{'$defs':{'pos':{'type':'integer','minimum':0}},'properties':{'n':{'$ref':'#/$defs/pos'}}}", "{'n':-1}",
         "n: must be >= 0");
    schk("$ref into definitions", "{'definitions':{'s':{'type':'string'}},'items':{'$ref':'#/definitions/s'}}", "['a',1]",
         "[1]: expected string, got integer");
    schk("$ref to a missing definition", "{'properties':{'n':{'$ref':'#/$defs/nope'}}}", "{'n':1}",
         "n: schema reference #/$defs/nope not found");
    schk("$ref to an external URI is not found", "{'$ref':'http://example.com/s.json'}", "1",
         "(arguments): schema reference http://example.com/s.json not found");
    schk("$ref with sibling keywords: both apply", "{'$defs':{'s':{'type':'string'}},'$ref':'#/$defs/s','minLength':3}", "'ab'",
         "(arguments): must be at least 3 characters long");
    schk("$ref # recursion", "{'type':'object','properties':{'child':{'$ref':'#'}},'additionalProperties':false}",
         "{'child':{'child':{'x':1}}}", "child.child.x: unknown property");
    schk("$ref chain through $defs", "{'$defs':{'a':{'$ref':'#/$defs/b'},'b':{'type':'string'}},'$ref':'#/$defs/a'}", "1",
         "(arguments): expected string, got integer");
    schk("$ref # self-loop stops at the nesting limit", "{'$ref':'#'}", "1", "(arguments): schema nests too deeply");

    schk("anyOf: one matches", "{'anyOf':[{'type':'string'},{'type':'integer'}]}", "1", NULL);
    schk("anyOf: none matches, inner messages not leaked",
         "{'anyOf':[{'type':'string'},{'type':'object','required':['x']}]}", "{}",
         "(arguments): matches none of the anyOf schemas");
    schk("anyOf under a property", "{'properties':{'v':{'anyOf':[{'type':'string'},{'type':'integer'}]}}}", "{'v':true}",
         "v: matches none of the anyOf schemas");
    schk("oneOf: exactly one", "{'oneOf':[{'type':'integer'},{'minimum':0}]}", "-1", NULL);
    schk("oneOf: more than one", "{'oneOf':[{'type':'integer'},{'minimum':0}]}", "5",
         "(arguments): matches more than one of the oneOf schemas");
    schk("oneOf: none", "{'oneOf':[{'type':'integer'},{'minimum':0}]}", "-1.5",
         "(arguments): matches none of the oneOf schemas");
    schk("allOf: all pass", "{'allOf':[{'type':'number'},{'maximum':3}]}", "2", NULL);
    schk("allOf: the failing one reports", "{'allOf':[{'type':'number'},{'maximum':3}]}", "4", "(arguments): must be <= 3");
    schk("not: matching fails", "{'not':{'type':'null'}}", "null", "(arguments): must not match the schema under 'not'");
    schk("not: other values pass", "{'not':{'type':'null'}}", "0", NULL);
    schk("first failure wins (type before enum)", "{'type':'string','enum':['a']}", "1",
         "(arguments): expected string, got integer");
    schk("object with several errors reports the first property",
         "{'properties':{'a':{'type':'string'},'b':{'type':'string'}}}", "{'a':1,'b':2}", "a: expected string, got integer");

    /* keys with an embedded NUL are distinct keys (RFC 8259: names are compared code unit by code unit) */
    schk("additionalProperties false refuses a key that only starts like a known one",
         "{'properties':{'a':{'type':'string'}},'additionalProperties':false}", "{'a\\u0000x':'s'}", "a: unknown property");
    schk("const object: a key with an embedded NUL is a different key", "{'const':{'a':1}}", "{'a\\u0000b':1}",
         "(arguments): must be {'a':1}");
}

static void sexp(const char *name, const char *spec, const char *want) {
    buf b = {0};
    int ok = schema_expand(spec, &b);
    T_EQ_STR(name, ok ? (b.p ? b.p : "") : "(refused)", want ? Q(want) : "(refused)");
    buf_free(&b);
}

static void test_schema_expand(void) {
    sexp("compact: 'a:number b:string?'", "a:number b:string?",
         "{'type':'object','properties':{'a':{'type':'number'},'b':{'type':'string'}},'required':['a']}");
    sexp("compact: empty spec", "", "{'type':'object','properties':{}}");
    sexp("compact: blank spec", "  \t ", "{'type':'object','properties':{}}");
    sexp("compact: a bare name is a required string", "name", "{'type':'object','properties':{'name':{'type':'string'}},'required':['name']}");
    sexp("compact: a bare optional name", "q?", "{'type':'object','properties':{'q':{'type':'string'}}}");
    sexp("compact: every type, commas as separators", "i:integer?, b:boolean,o:object,a:array s:string n:number",
         "{'type':'object','properties':{'i':{'type':'integer'},'b':{'type':'boolean'},'o':{'type':'object'},"
         "'a':{'type':'array'},'s':{'type':'string'},'n':{'type':'number'}},'required':['b','o','a','s','n']}");
    sexp("compact: a newline separates fields after a type", "a:number\nb:string",
         "{'type':'object','properties':{'a':{'type':'number'},'b':{'type':'string'}},'required':['a','b']}");
    sexp("compact: a tab separates fields after a bare name", "a\tb:integer",
         "{'type':'object','properties':{'a':{'type':'string'},'b':{'type':'integer'}},'required':['a','b']}");
    sexp("compact: leading newline and tab are skipped", "\n\ta:number",
         "{'type':'object','properties':{'a':{'type':'number'}},'required':['a']}");
    sexp("compact: a name that needs escaping", "we\"ird:string", "{'type':'object','properties':{'we\\'ird':{'type':'string'}},'required':['we\\'ird']}");
    sexp("compact: unknown type refused", "a:float", NULL);
    sexp("compact: unknown type after good ones refused", "a:number b:str", NULL);
    sexp("compact: empty type refused", "a:", NULL);
    sexp("compact: empty name refused", ":number", NULL);
    sexp("compact: type names are case-sensitive", "a:Number", NULL);
}

/* ---- (b) URI templates ---- */

static void tmatch(const char *name, const char *tmpl, const char *uri, const char *want) {
    mcp_json_doc *vars = NULL;
    int ok = template_match(tmpl, uri, &vars);
    char *w = ok ? mcp_json_write(mcp_json_root(vars), NULL) : NULL;
    T_EQ_STR(name, ok ? (w ? w : "(null)") : "(no match)", want ? Q(want) : "(no match)");
    free(w);
    mcp_json_free(vars);
}

static void test_template(void) {
    tmatch("template: one variable", "x://users/{id}", "x://users/42", "{'id':'42'}");
    tmatch("template: empty variable does not match", "x://users/{id}", "x://users/", NULL);
    tmatch("template: a variable does not cross '/'", "x://users/{id}", "x://users/42/posts", NULL);
    tmatch("template: two variables", "x://{a}/{b}", "x://1/2", "{'a':'1','b':'2'}");
    tmatch("template: a variable ends at the next literal", "x://{a}-{b}.txt", "x://p-q.txt", "{'a':'p','b':'q'}");
    tmatch("template: last variable takes the rest (no '/')", "x://{a}.{b}", "x://v1.2.3", "{'a':'v1','b':'2.3'}");
    tmatch("template: variable at the end", "x://file{n}", "x://file7", "{'n':'7'}");
    tmatch("template: literal mismatch", "x://a", "x://b", NULL);
    tmatch("template: uri shorter than the template", "x://ab", "x://a", NULL);
    tmatch("template: uri longer than the template", "x://a", "x://ab", NULL);
    tmatch("template: literal after the variable missing", "x://{a}.txt", "x://abc", NULL);
    tmatch("template: no variables, equal", "x://fixed", "x://fixed", "{}");
    tmatch("template: value with a quote is escaped", "x://{q}", "x://a\"b", "{'q':'a\\'b'}");
    tmatch("template: value with invalid UTF-8 is made valid", "x://{q}", "x://a\xFF", "{'q':'a\xEF\xBF\xBD'}");
    tmatch("template: values are percent-decoded", "x://users/{id}", "x://users/a%20b%2Fc", "{'id':'a b/c'}");
    tmatch("template: a stray % stays as it is", "x://{q}", "x://50%", "{'q':'50%'}");
}

/* ---- (c) the core through http_route ---- */

static mcp_server *g_srv, *g_big, *g_lambda, *g_err, *g_child, *g_ph; /* reachable at exit: not leaks */

static int h_add(mcp_call *c) { return mcp_text(c, "%g", mcp_num(c, "a") + mcp_num(c, "b")); }
static int h_echo(mcp_call *c) {
    char *w = mcp_json_write(mcp_args(c), NULL);
    mcp_text(c, "%s", w);
    free(w);
    return 0;
}
static int h_fail(mcp_call *c) { return mcp_error(c, "boom %d", 7); }
static int h_crash(mcp_call *c) { (void)c; return 1; }
static int h_weather(mcp_call *c) { return mcp_structured(c, "{\"temp\":21.5,\"unit\":\"C\"}"); }
static int h_bad_weather(mcp_call *c) { return mcp_structured(c, "{\"temp\":\"hot\"}"); }
static int h_no_struct(mcp_call *c) { return mcp_text(c, "no data"); }
static int h_notify(mcp_call *c) {
    mcp_log(c, "info", "hello %d", 1);
    mcp_log(c, "debug", "dbg");
    mcp_progress(c, 1, 2, "half");
    return mcp_text(c, "done");
}
static int h_ask(mcp_call *c) {
    const mcp_json *r = mcp_elicit(c, "name", "Your name?", "name:string");
    if (!r) return mcp_set_state(c, "round1");
    const char *st = mcp_state(c);
    const char *nm = mcp_json_str(mcp_json_get(mcp_json_get(r, "content"), "name"));
    return mcp_text(c, "Hello, %s (state %s)", nm ? nm : "?", st ? st : "none");
}
static int h_need(mcp_call *c) {
    if (mcp_need(c, "sampling")) return -1;
    return mcp_text(c, "sampling ok");
}
static int h_proto(mcp_call *c) { return mcp_text(c, "%s", mcp_protocol(c)); }

static int h_readme(mcp_call *c) { return mcp_text(c, "hello readme"); }
static int h_bin(mcp_call *c) { return mcp_blob(c, "AAEC"); }
static int h_broken(mcp_call *c) { (void)c; return 1; }
static int h_missing(mcp_call *c) { return mcp_fail(c, -32002, "it went away"); }
static int h_user(mcp_call *c) { return mcp_text(c, "{\"id\":\"%s\"}", mcp_str(c, "id")); }

static int h_review(mcp_call *c) {
    const char *lang = mcp_str(c, "language");
    return mcp_text(c, "Review this %s code: %s", lang ? lang : "any", mcp_str(c, "code"));
}
static int h_chat(mcp_call *c) {
    mcp_text(c, "hi");
    mcp_role(c, "assistant");
    return mcp_text(c, "hello");
}
static int h_comp_lang(mcp_call *c) {
    static const char *const langs[] = {"c", "go", "python", "perl"};
    const char *v = mcp_complete_value(c);
    for (size_t i = 0; i < COUNT(langs); i++)
        if (!strncmp(langs[i], v, strlen(v))) mcp_complete(c, langs[i]);
    return 0;
}
static int h_comp_users(mcp_call *c) {
    mcp_complete(c, "1");
    return mcp_complete(c, "2");
}
static int h_comp_many(mcp_call *c) {
    for (int i = 0; i < 150; i++) {
        char v[16];
        snprintf(v, sizeof v, "v%d", i);
        mcp_complete(c, v);
    }
    return 0;
}

#define OUT_SCHEMA "{'type':'object','properties':{'temp':{'type':'number'},'unit':{'type':'string'}},'required':['temp']}"
#define ECHO_SCHEMA "{'type':'object','properties':{'n':{'type':'integer','minimum':0},'tags':{'type':'array','items':{'type':'string'}}},'required':['n'],'additionalProperties':false}"
#define EMPTY_SCHEMA "{'type':'object','properties':{}}"

static mcp_server *make_server(void) {
    mcp_server *s = mcp_server_new("test", "1.2.3");
    mcp_server_title(s, "Test Server");
    mcp_server_instructions(s, "Use the tools.");
    mcp_tool_def *t = mcp_tool(s, "add", "Add two numbers", "a:number b:number", h_add);
    mcp_tool_title(t, "Adder");
    mcp_tool_annotations(t, "{\"readOnlyHint\":true}");
    mcp_tool(s, "echo", "Echo the arguments", Q(ECHO_SCHEMA), h_echo);
    mcp_tool(s, "fail", "Always fails", "", h_fail);
    mcp_tool(s, "crash", NULL, "", h_crash);
    t = mcp_tool(s, "weather", "Weather", "city:string?", h_weather);
    mcp_tool_output_schema(t, Q(OUT_SCHEMA));
    t = mcp_tool(s, "bad_weather", NULL, "", h_bad_weather);
    mcp_tool_output_schema(t, Q(OUT_SCHEMA));
    t = mcp_tool(s, "no_struct", NULL, "", h_no_struct);
    mcp_tool_output_schema(t, Q(OUT_SCHEMA));
    mcp_tool(s, "notify", NULL, "", h_notify);
    mcp_tool(s, "ask", NULL, "", h_ask);
    mcp_tool(s, "need", NULL, "", h_need);
    mcp_tool(s, "proto", NULL, "", h_proto);
    mcp_resource_def *r = mcp_resource(s, "test://readme", "readme", "Read me", "text/plain", h_readme);
    mcp_resource_title(r, "README");
    mcp_resource(s, "test://bin", "bin", NULL, "application/octet-stream", h_bin);
    mcp_resource(s, "test://broken", "broken", NULL, NULL, h_broken);
    mcp_resource(s, "test://missing", "missing", NULL, NULL, h_missing);
    mcp_resource_template(s, "test://users/{id}", "user", "A user", "application/json", h_user);
    mcp_prompt_def *p = mcp_prompt(s, "review", "Review code", "code language?", h_review);
    mcp_prompt_title(p, "Code Review");
    mcp_prompt(s, "chat", NULL, "", h_chat);
    mcp_completion(s, "ref/prompt", "review", h_comp_lang);
    mcp_completion(s, "ref/resource", "test://users/{id}", h_comp_users);
    mcp_completion(s, "ref/prompt", "chat", h_comp_many);
    return s;
}

enum { E24, E25a, E25b, E25c, E26 }; /* 2024-11-05, 2025-03-26, 2025-06-18, 2025-11-25, 2026-07-28 */
static const char *const ERA[] = {"2024-11-05", "2025-03-26", "2025-06-18", "2025-11-25", "2026-07-28"};

static void tool_item(buf *b, int era, const char *name, const char *title, const char *desc, const char *in,
                      const char *out, const char *ann) {
    if (b->len > 1) buf_putc(b, ',');
    buf_printf(b, "{'name':'%s'", name);
    if (title && era >= E25b) buf_printf(b, ",'title':'%s'", title);
    if (desc) buf_printf(b, ",'description':'%s'", desc);
    buf_printf(b, ",'inputSchema':%s", in);
    if (out && era >= E25b) buf_printf(b, ",'outputSchema':%s", out);
    if (ann && era >= E25a) buf_printf(b, ",'annotations':%s", ann);
    buf_putc(b, '}');
}

/* The tools array of make_server() as this era lists it. */
static const char *tools_json(int era) {
    buf b = {0};
    buf_putc(&b, '[');
    tool_item(&b, era, "add", "Adder", "Add two numbers",
              "{'type':'object','properties':{'a':{'type':'number'},'b':{'type':'number'}},'required':['a','b']}", NULL,
              "{'readOnlyHint':true}");
    tool_item(&b, era, "echo", NULL, "Echo the arguments", ECHO_SCHEMA, NULL, NULL);
    tool_item(&b, era, "fail", NULL, "Always fails", EMPTY_SCHEMA, NULL, NULL);
    tool_item(&b, era, "crash", NULL, NULL, EMPTY_SCHEMA, NULL, NULL);
    tool_item(&b, era, "weather", NULL, "Weather", "{'type':'object','properties':{'city':{'type':'string'}}}", OUT_SCHEMA, NULL);
    tool_item(&b, era, "bad_weather", NULL, NULL, EMPTY_SCHEMA, OUT_SCHEMA, NULL);
    tool_item(&b, era, "no_struct", NULL, NULL, EMPTY_SCHEMA, OUT_SCHEMA, NULL);
    tool_item(&b, era, "notify", NULL, NULL, EMPTY_SCHEMA, NULL, NULL);
    tool_item(&b, era, "ask", NULL, NULL, EMPTY_SCHEMA, NULL, NULL);
    tool_item(&b, era, "need", NULL, NULL, EMPTY_SCHEMA, NULL, NULL);
    tool_item(&b, era, "proto", NULL, NULL, EMPTY_SCHEMA, NULL, NULL);
    buf_putc(&b, ']');
    const char *r = Q(b.p);
    buf_free(&b);
    return r;
}

/* The capabilities of the test server over stdio: resource subscriptions and list changes
 * are announced there. */
static const char *caps_json_stdio(int era) {
    (void)era; /* the stdio tests use 2025-03-26 and 2025-06-18, whose capabilities agree */
    return "{'tools':{'listChanged':true},'resources':{'subscribe':true,'listChanged':true},"
           "'prompts':{'listChanged':true},'completions':{},'logging':{}}";
}

/* ... and over HTTP, where they are not offered. */
static const char *caps_json(int era) {
    if (era == E26) return "{'tools':{},'resources':{},'prompts':{},'completions':{},'logging':{}}";
    if (era == E24) /* completions arrived in 2025-03-26 */
        return "{'tools':{'listChanged':false},'resources':{'subscribe':false,'listChanged':false},"
               "'prompts':{'listChanged':false},'logging':{}}";
    return "{'tools':{'listChanged':false},'resources':{'subscribe':false,'listChanged':false},"
           "'prompts':{'listChanged':false},'completions':{},'logging':{}}";
}

/* HTTP plumbing */
typedef struct { int status; const char *ctype; char *head, *body; } resp;

/* One request through http_route. hdrs: "Name: value" lines separated by '\n'. */
static const char *g_peer; /* the client address requests come from (serve's view of it) */

static resp route_req(mcp_server *s, const char *method, const char *path, const char *hdrs, const char *body, int local) {
    hdr h[32];
    int nh = 0;
    char *hc = xstrdup(hdrs ? hdrs : "");
    for (char *p = hc; *p && nh < 32;) {
        char *nl = strchr(p, '\n');
        if (!nl) nl = p + strlen(p);
        char *colon = memchr(p, ':', (size_t)(nl - p));
        if (colon) {
            slice nm = {p, (size_t)(colon - p)}, v = {colon + 1, (size_t)(nl - colon - 1)};
            h[nh].name = nm;
            h[nh].value = sl_trim(v);
            nh++;
        }
        p = *nl ? nl + 1 : nl;
    }
    size_t bl = body ? strlen(body) : 0;
    char *b = malloc(bl + 1);
    memcpy(b, body ? body : "", bl + 1);
    hreq rq;
    memset(&rq, 0, sizeof rq);
    slice m = {method, strlen(method)}, pa = {path, strlen(path)};
    rq.method = m;
    rq.path = pa;
    rq.h = h;
    rq.nh = nh;
    rq.body = b;
    rq.blen = bl;
    rq.local = local;
    hres rs;
    memset(&rs, 0, sizeof rs);
    req r;
    req_init(&r, s);
    r.peer = g_peer;
    http_route(&r, &rq, &rs); /* takes s->lock itself where it needs it */
    resp rr = {rs.status, rs.ctype, xstrdup(rs.head.p ? rs.head.p : ""), xstrdup(rs.body.p ? rs.body.p : "")};
    buf_free(&rs.head);
    buf_free(&rs.body);
    req_free(&r);
    free(b);
    free(hc);
    return rr;
}

#define HJ "Content-Type: application/json\nAccept: application/json, text/event-stream\n"

static resp post(mcp_server *s, const char *hdrs, const char *body) {
    return route_req(s, "POST", "/mcp", QF(HJ "%s", hdrs ? hdrs : ""), body, 0);
}

/* status, content type and body in one comparison; frees r */
static void check(const char *name, resp r, int status, const char *ctype, const char *body) {
    buf got = {0}, want = {0};
    buf_printf(&got, "%d %s %s", r.status, r.ctype ? r.ctype : "-", r.body);
    buf_printf(&want, "%d %s %s", status, ctype ? ctype : "-", body);
    T_EQ_STR(name, got.p, want.p);
    buf_free(&got);
    buf_free(&want);
    free(r.head);
    free(r.body);
}
#define JSON "application/json"
#define SSE "text/event-stream"

typedef struct { char *sid; int era; } sess_t;

static int is_hex(const char *p, size_t n) {
    for (size_t i = 0; i < n; i++) if (!strchr("0123456789abcdef", p[i])) return 0;
    return 1;
}

/* initialize a session in this era; returns the session (sid NULL on failure) */
static sess_t open_session(mcp_server *s, int era, const char *caps) {
    sess_t ss = {NULL, era};
    resp r = post(s, NULL, QF("{'jsonrpc':'2.0','id':1,'method':'initialize','params':{'protocolVersion':'%s',"
                              "'capabilities':%s,'clientInfo':{'name':'t','version':'1'}}}", ERA[era], caps ? caps : "{}"));
    const char *p = strstr(r.head, "Mcp-Session-Id: ");
    if (p) {
        p += 16;
        const char *e = strstr(p, "\r\n");
        if (e) ss.sid = memcpy(calloc(1, (size_t)(e - p) + 1), p, (size_t)(e - p));
    }
    free(r.head);
    free(r.body);
    return ss;
}

/* a request on a session; the MCP-Protocol-Version header is sent from 2025-06-18 on */
static resp spost(mcp_server *s, sess_t ss, const char *body) {
    if (ss.era >= E25b) return post(s, QF("Mcp-Session-Id: %s\nMCP-Protocol-Version: %s\n", ss.sid, ERA[ss.era]), body);
    return post(s, QF("Mcp-Session-Id: %s\n", ss.sid), body);
}

static const char *ok_body(int id, const char *result) { return QF("{'jsonrpc':'2.0','id':%d,'result':%s}", id, result); }
static const char *err_body(int id, int code, const char *msg) {
    return QF("{'jsonrpc':'2.0','id':%d,'error':{'code':%d,'message':'%s'}}", id, code, msg);
}
static const char *err_null(int code, const char *msg) {
    return QF("{'jsonrpc':'2.0','id':null,'error':{'code':%d,'message':'%s'}}", code, msg);
}
static const char *call_body(int id, const char *tool, const char *args) {
    return QF("{'jsonrpc':'2.0','id':%d,'method':'tools/call','params':{'name':'%s','arguments':%s}}", id, tool, args);
}

static void test_initialize(void) {
    for (int era = E24; era <= E25c; era++) {
        resp r = post(g_srv, NULL, QF("{'jsonrpc':'2.0','id':1,'method':'initialize','params':{'protocolVersion':'%s',"
                                      "'capabilities':{},'clientInfo':{'name':'t','version':'1'}}}", ERA[era]));
        const char *p = r.head;
        int head_ok = strlen(p) == 50 && !strncmp(p, "Mcp-Session-Id: ", 16) && is_hex(p + 16, 32) && !strcmp(p + 48, "\r\n");
        T_OK(NAME("initialize %s issues an Mcp-Session-Id of 32 hex digits", ERA[era]), head_ok);
        check(NAME("initialize %s: result", ERA[era]), r, 200, JSON,
              ok_body(1, QF("{'protocolVersion':'%s','capabilities':%s,'serverInfo':{'name':'test',%s'version':'1.2.3'},"
                            "'instructions':'Use the tools.'}", ERA[era], caps_json(era),
                            era >= E25b ? "'title':'Test Server'," : "")));
    }
    check("initialize with an unknown version answers 2025-11-25",
          post(g_srv, NULL, Q("{'jsonrpc':'2.0','id':'i','method':'initialize','params':{'protocolVersion':'1999-01-01','capabilities':{}}}")),
          200, JSON, Q("{'jsonrpc':'2.0','id':'i','result':{'protocolVersion':'2025-11-25','capabilities':" "{'tools':{'listChanged':false},'resources':{'subscribe':false,'listChanged':false},'prompts':{'listChanged':false},'completions':{},'logging':{}}" ",'serverInfo':{'name':'test','title':'Test Server','version':'1.2.3'},'instructions':'Use the tools.'}}"));
    check("initialize asking for 2026-07-28 answers 2025-11-25 (the newest session era)",
          post(g_srv, NULL, Q("{'jsonrpc':'2.0','id':2,'method':'initialize','params':{'protocolVersion':'2026-07-28','capabilities':{}}}")),
          200, JSON, ok_body(2, QF("{'protocolVersion':'2025-11-25','capabilities':%s,'serverInfo':{'name':'test','title':'Test Server','version':'1.2.3'},'instructions':'Use the tools.'}", caps_json(E25c))));
    check("initialize without a protocolVersion answers 2025-11-25",
          post(g_srv, NULL, Q("{'jsonrpc':'2.0','id':3,'method':'initialize','params':{}}")),
          200, JSON, ok_body(3, QF("{'protocolVersion':'2025-11-25','capabilities':%s,'serverInfo':{'name':'test','title':'Test Server','version':'1.2.3'},'instructions':'Use the tools.'}", caps_json(E25c))));

    /* the session remembers its era */
    sess_t s24 = open_session(g_srv, E24, NULL), s25 = open_session(g_srv, E25c, NULL);
    check("session era 2024-11-05 is used without a version header", spost(g_srv, s24, call_body(4, "proto", "{}")), 200, JSON,
          ok_body(4, "{'content':[{'type':'text','text':'2024-11-05'}]}"));
    check("session era 2025-11-25 is used", spost(g_srv, s25, call_body(5, "proto", "{}")), 200, JSON,
          ok_body(5, "{'content':[{'type':'text','text':'2025-11-25'}]}"));
    T_OK("two sessions get different ids", s24.sid && s25.sid && strcmp(s24.sid, s25.sid) != 0);
    free(s24.sid);
    free(s25.sid);

    /* a server whose name is "error" still gets its session (the check must not search the text) */
    resp r = post(g_err, NULL, Q("{'jsonrpc':'2.0','id':1,'method':'initialize','params':{'protocolVersion':'2025-06-18','capabilities':{}}}"));
    T_OK("initialize issues a session even when the server's name is \"error\"", strstr(r.head, "Mcp-Session-Id: ") != NULL);
    free(r.head);
    free(r.body);
}

static void test_sessions(void) {
    check("no Mcp-Session-Id: 400", post(g_srv, NULL, Q("{'jsonrpc':'2.0','id':1,'method':'ping'}")), 400, JSON,
          err_null(-32600, "Bad Request: Mcp-Session-Id header is required"));
    check("unknown Mcp-Session-Id: 404", post(g_srv, "Mcp-Session-Id: 0123456789abcdef0123456789abcdef\n",
                                             Q("{'jsonrpc':'2.0','id':1,'method':'ping'}")),
          404, JSON, err_null(-32600, "Session not found"));
    sess_t ss = open_session(g_srv, E25b, NULL);
    check("ping", spost(g_srv, ss, Q("{'jsonrpc':'2.0','id':7,'method':'ping'}")), 200, JSON, ok_body(7, "{}"));
    check("ping with a string id", spost(g_srv, ss, Q("{'jsonrpc':'2.0','id':'p-1','method':'ping'}")), 200, JSON,
          Q("{'jsonrpc':'2.0','id':'p-1','result':{}}"));
    check("notification: 202, no body", spost(g_srv, ss, Q("{'jsonrpc':'2.0','method':'notifications/initialized'}")), 202, NULL, "");
    check("cancel notification: 202", spost(g_srv, ss, Q("{'jsonrpc':'2.0','method':'notifications/cancelled','params':{'requestId':1}}")),
          202, NULL, "");
    check("a client's response message: 202", spost(g_srv, ss, Q("{'jsonrpc':'2.0','id':'s99','result':{}}")), 202, NULL, "");
    check("DELETE without a session id: 400",
          route_req(g_srv, "DELETE", "/mcp", "", "", 0), 400, JSON, Q("{'error':'Mcp-Session-Id header is required'}"));
    check("DELETE an unknown session: 404",
          route_req(g_srv, "DELETE", "/mcp", "Mcp-Session-Id: nope\n", "", 0), 404, JSON, Q("{'error':'Session not found'}"));
    check("DELETE the session: 200, empty", route_req(g_srv, "DELETE", "/mcp", QF("Mcp-Session-Id: %s\n", ss.sid), "", 0),
          200, NULL, "");
    check("the deleted session is gone: 404", spost(g_srv, ss, Q("{'jsonrpc':'2.0','id':8,'method':'ping'}")), 404, JSON,
          err_null(-32600, "Session not found"));
    check("DELETE it again: 404", route_req(g_srv, "DELETE", "/mcp", QF("Mcp-Session-Id: %s\n", ss.sid), "", 0),
          404, JSON, Q("{'error':'Session not found'}"));
    free(ss.sid);

    /* an unsupported MCP-Protocol-Version on a session request */
    ss = open_session(g_srv, E25b, NULL);
    check("session request with an unsupported MCP-Protocol-Version: 400 naming the version",
          post(g_srv, QF("Mcp-Session-Id: %s\nMCP-Protocol-Version: 1999-01-01\n", ss.sid), Q("{'jsonrpc':'2.0','id':1,'method':'ping'}")),
          400, JSON, err_null(-32600, "Bad Request: unsupported MCP-Protocol-Version: 1999-01-01"));
    check("session request with MCP-Protocol-Version 2026-07-28 (not a session era): 400",
          post(g_srv, QF("Mcp-Session-Id: %s\nMCP-Protocol-Version: 2026-07-28\n", ss.sid), Q("{'jsonrpc':'2.0','id':2,'method':'tools/list'}")),
          400, JSON, err_null(-32600, "Bad Request: unsupported MCP-Protocol-Version: 2026-07-28"));
    free(ss.sid);

    /* Lambda-style sessions: the id carries the era, nothing is stored */
    resp r = post(g_lambda, NULL, Q("{'jsonrpc':'2.0','id':1,'method':'initialize','params':{'protocolVersion':'2025-06-18','capabilities':{}}}"));
    T_OK("stateless server: session id is e2- and 32 hex digits",
         strlen(r.head) == 53 && !strncmp(r.head, "Mcp-Session-Id: e2-", 19) && is_hex(r.head + 19, 32));
    char sid[40] = "";
    if (strlen(r.head) == 53) memcpy(sid, r.head + 16, 35);
    free(r.head);
    free(r.body);
    check("stateless server: the era comes from the id",
          post(g_lambda, QF("Mcp-Session-Id: %s\n", sid), call_body(2, "proto", "{}")), 200, JSON,
          ok_body(2, "{'content':[{'type':'text','text':'2025-06-18'}]}"));
    check("stateless server: a malformed id is not found",
          post(g_lambda, "Mcp-Session-Id: e9-0123456789abcdef0123456789abcdef\n", Q("{'jsonrpc':'2.0','id':3,'method':'ping'}")),
          404, JSON, err_null(-32600, "Session not found"));
    check("stateless server: DELETE is accepted", route_req(g_lambda, "DELETE", "/mcp", QF("Mcp-Session-Id: %s\n", sid), "", 0),
          200, NULL, "");
}

static void test_http_checks(void) {
    const char *ping = Q("{'jsonrpc':'2.0','id':1,'method':'ping'}");
    check("malformed JSON: 400 -32700 with the position",
          post(g_srv, NULL, Q("{'jsonrpc':'2.0' 'id':1}")), 400, JSON, err_null(-32700, "Parse error: expected `,` or `}` at byte 17"));
    check("empty body: 400 -32700", post(g_srv, NULL, ""), 400, JSON, err_null(-32700, "Parse error: unexpected end of input at byte 0"));
    check("a JSON string is not a message: 400", post(g_srv, NULL, "\"x\""), 400, JSON,
          err_null(-32600, "Invalid Request: expected a JSON-RPC message object"));
    check("wrong Content-Type: 415", route_req(g_srv, "POST", "/mcp", "Content-Type: text/plain\n", ping, 0), 415, JSON,
          err_null(-32600, "Unsupported Media Type: Content-Type must be application/json"));
    check("no Content-Type: 415", route_req(g_srv, "POST", "/mcp", "Accept: */*\n", ping, 0), 415, JSON,
          err_null(-32600, "Unsupported Media Type: Content-Type must be application/json"));
    check("Accept text/html: 406", route_req(g_srv, "POST", "/mcp", "Content-Type: application/json\nAccept: text/html\n", ping, 0),
          406, JSON, err_null(-32600, "Not Acceptable: Accept must list application/json and text/event-stream"));
    check("Accept application/json alone: 406",
          route_req(g_srv, "POST", "/mcp", "Content-Type: application/json\nAccept: application/json\n", ping, 0), 406, JSON,
          err_null(-32600, "Not Acceptable: Accept must list application/json and text/event-stream"));
    check("Accept */* is enough (then the session check)",
          route_req(g_srv, "POST", "/mcp", "Content-Type: application/json; charset=utf-8\nAccept: */*\n", ping, 0), 400, JSON,
          err_null(-32600, "Bad Request: Mcp-Session-Id header is required"));
    resp r = route_req(g_srv, "GET", "/mcp", "Accept: text/event-stream\n", "", 0);
    T_EQ_STR("GET: Allow header", r.head, "Allow: POST, DELETE\r\n");
    check("GET: 405", r, 405, JSON, Q("{'error':'Method Not Allowed: this endpoint takes POST (no standalone SSE stream)'}"));
    check("PUT: 405", route_req(g_srv, "PUT", "/mcp", HJ, ping, 0), 405, JSON,
          Q("{'error':'Method Not Allowed: this endpoint takes POST (no standalone SSE stream)'}"));
    check("unknown path: 404", route_req(g_srv, "POST", "/other", HJ, ping, 0), 404, JSON,
          Q("{'error':'Not Found: the MCP endpoint is /mcp'}"));
    check("/mcp/ is the endpoint too", route_req(g_srv, "POST", "/mcp/", HJ, ping, 0), 400, JSON,
          err_null(-32600, "Bad Request: Mcp-Session-Id header is required"));
    check("/rpc is the endpoint too", route_req(g_srv, "POST", "/rpc", HJ, ping, 0), 400, JSON,
          err_null(-32600, "Bad Request: Mcp-Session-Id header is required"));

    /* local servers check Host and Origin (DNS rebinding) */
    const char *sess_err = err_null(-32600, "Bad Request: Mcp-Session-Id header is required");
    check("local: foreign Host: 403", route_req(g_srv, "POST", "/mcp", HJ "Host: evil.example\n", ping, 1), 403, JSON,
          Q("{'error':'Forbidden: Host header not allowed'}"));
    check("local: Host localhost.evil.example: 403", route_req(g_srv, "POST", "/mcp", HJ "Host: localhost.evil.example\n", ping, 1),
          403, JSON, Q("{'error':'Forbidden: Host header not allowed'}"));
    check("local: Host 127.0.0.2: 403", route_req(g_srv, "POST", "/mcp", HJ "Host: 127.0.0.2:8080\n", ping, 1), 403, JSON,
          Q("{'error':'Forbidden: Host header not allowed'}"));
    check("local: Host localhost:3000 passes", route_req(g_srv, "POST", "/mcp", HJ "Host: localhost:3000\n", ping, 1), 400, JSON, sess_err);
    check("local: Host LOCALHOST passes", route_req(g_srv, "POST", "/mcp", HJ "Host: LOCALHOST\n", ping, 1), 400, JSON, sess_err);
    check("local: Host 127.0.0.1:8080 passes", route_req(g_srv, "POST", "/mcp", HJ "Host: 127.0.0.1:8080\n", ping, 1), 400, JSON, sess_err);
    check("local: Host [::1]:8080 passes", route_req(g_srv, "POST", "/mcp", HJ "Host: [::1]:8080\n", ping, 1), 400, JSON, sess_err);
    check("local: foreign Origin: 403",
          route_req(g_srv, "POST", "/mcp", HJ "Host: localhost\nOrigin: http://evil.example\n", ping, 1), 403, JSON,
          Q("{'error':'Forbidden: Origin not allowed'}"));
    check("local: Origin null: 403", route_req(g_srv, "POST", "/mcp", HJ "Host: localhost\nOrigin: null\n", ping, 1), 403, JSON,
          Q("{'error':'Forbidden: Origin not allowed'}"));
    check("local: Origin http://localhost:5173 passes",
          route_req(g_srv, "POST", "/mcp", HJ "Host: localhost\nOrigin: http://localhost:5173\n", ping, 1), 400, JSON, sess_err);
    check("local: Origin https://127.0.0.1 passes",
          route_req(g_srv, "POST", "/mcp", HJ "Host: localhost\nOrigin: https://127.0.0.1\n", ping, 1), 400, JSON, sess_err);
    check("not local: a foreign Host is not checked",
          route_req(g_srv, "POST", "/mcp", HJ "Host: evil.example\nOrigin: http://evil.example\n", ping, 0), 400, JSON, sess_err);
    setenv("MCP_ALLOWED_HOSTS", "api.example.com, other.test", 1);
    setenv("MCP_ALLOWED_ORIGINS", "https://app.example.com", 1);
    http_conf_load();
    check("MCP_ALLOWED_HOSTS extends the Host list",
          route_req(g_srv, "POST", "/mcp", HJ "Host: other.test:443\n", ping, 1), 400, JSON, sess_err);
    check("MCP_ALLOWED_ORIGINS extends the Origin list",
          route_req(g_srv, "POST", "/mcp", HJ "Host: api.example.com\nOrigin: https://app.example.com\n", ping, 1), 400, JSON, sess_err);
    check("MCP_ALLOWED_ORIGINS is exact", route_req(g_srv, "POST", "/mcp", HJ "Host: api.example.com\nOrigin: https://app.example.com.evil\n", ping, 1),
          403, JSON, Q("{'error':'Forbidden: Origin not allowed'}"));
    unsetenv("MCP_ALLOWED_HOSTS");
    unsetenv("MCP_ALLOWED_ORIGINS");
    http_conf_load();
    check("local: once unset, the extra Host is refused", route_req(g_srv, "POST", "/mcp", HJ "Host: other.test\n", ping, 1),
          403, JSON, Q("{'error':'Forbidden: Host header not allowed'}"));
}

static void test_jsonrpc(void) {
    sess_t ss = open_session(g_srv, E25b, NULL);
    check("jsonrpc 1.0 is an invalid request", spost(g_srv, ss, Q("{'jsonrpc':'1.0','id':1,'method':'ping'}")), 200, JSON,
          err_body(1, -32600, "Invalid Request: jsonrpc must be \\'2.0\\'"));
    check("missing method is an invalid request", spost(g_srv, ss, Q("{'jsonrpc':'2.0','id':2}")), 200, JSON,
          err_body(2, -32600, "Invalid Request: method must be a string"));
    check("id true is an invalid request", spost(g_srv, ss, Q("{'jsonrpc':'2.0','id':true,'method':'ping'}")), 200, JSON,
          err_null(-32600, "Invalid Request: id must be a string or a number"));
    check("id null is an invalid request", spost(g_srv, ss, Q("{'jsonrpc':'2.0','id':null,'method':'ping'}")), 200, JSON,
          err_null(-32600, "Invalid Request: id must be a string or a number"));
    check("params as an array: -32602", spost(g_srv, ss, Q("{'jsonrpc':'2.0','id':3,'method':'ping','params':[]}")), 200, JSON,
          err_body(3, -32602, "Invalid params: params must be an object"));
    check("unknown method: -32601", spost(g_srv, ss, Q("{'jsonrpc':'2.0','id':4,'method':'foo/bar'}")), 200, JSON,
          err_body(4, -32601, "Method not found: foo/bar"));
    check("server/discover with a session and no _meta is stateless: 400",
          spost(g_srv, ss, Q("{'jsonrpc':'2.0','id':5,'method':'server/discover'}")), 400, JSON,
          err_body(5, -32602, "Invalid params: _meta must carry \\'io.modelcontextprotocol/protocolVersion\\' and \\'io.modelcontextprotocol/clientCapabilities\\'"));
    check("id keeps its exact number text", spost(g_srv, ss, Q("{'jsonrpc':'2.0','id':1.50,'method':'ping'}")), 200, JSON,
          Q("{'jsonrpc':'2.0','id':1.50,'result':{}}"));
    free(ss.sid);
}

static void test_tools(void) {
    sess_t s6 = open_session(g_srv, E25b, NULL), s11 = open_session(g_srv, E25c, NULL), s3 = open_session(g_srv, E25a, NULL),
           s4 = open_session(g_srv, E24, NULL);
    check("tools/list 2024-11-05 (no titles, annotations or output schemas)", spost(g_srv, s4, Q("{'jsonrpc':'2.0','id':1,'method':'tools/list'}")),
          200, JSON, ok_body(1, QF("{'tools':%s}", tools_json(E24))));
    check("tools/list 2025-03-26 (annotations)", spost(g_srv, s3, Q("{'jsonrpc':'2.0','id':1,'method':'tools/list'}")),
          200, JSON, ok_body(1, QF("{'tools':%s}", tools_json(E25a))));
    check("tools/list 2025-06-18 (titles and output schemas)", spost(g_srv, s6, Q("{'jsonrpc':'2.0','id':1,'method':'tools/list','params':{}}")),
          200, JSON, ok_body(1, QF("{'tools':%s}", tools_json(E25b))));
    check("tools/list: invalid cursor: -32602", spost(g_srv, s6, Q("{'jsonrpc':'2.0','id':2,'method':'tools/list','params':{'cursor':'abc'}}")),
          200, JSON, err_body(2, -32602, "Invalid params: unknown cursor"));
    check("tools/list: numeric cursor: -32602", spost(g_srv, s6, Q("{'jsonrpc':'2.0','id':2,'method':'tools/list','params':{'cursor':5}}")),
          200, JSON, err_body(2, -32602, "Invalid params: unknown cursor"));
    check("tools/list: empty cursor: -32602", spost(g_srv, s6, Q("{'jsonrpc':'2.0','id':2,'method':'tools/list','params':{'cursor':''}}")),
          200, JSON, err_body(2, -32602, "Invalid params: unknown cursor"));
    check("tools/list: negative cursor: -32602", spost(g_srv, s6, Q("{'jsonrpc':'2.0','id':2,'method':'tools/list','params':{'cursor':'-1'}}")),
          200, JSON, err_body(2, -32602, "Invalid params: unknown cursor"));
    check("tools/list: cursor past the end: -32602", spost(g_srv, s6, Q("{'jsonrpc':'2.0','id':2,'method':'tools/list','params':{'cursor':'12'}}")),
          200, JSON, err_body(2, -32602, "Invalid params: unknown cursor"));

    /* calls */
    check("tools/call add", spost(g_srv, s6, call_body(3, "add", "{'a':1,'b':2}")), 200, JSON,
          ok_body(3, "{'content':[{'type':'text','text':'3'}]}"));
    check("tools/call echo: arguments reach the handler as sent", spost(g_srv, s6, call_body(3, "echo", "{'n':5,'tags':['x','\\u00e9']}")),
          200, JSON, ok_body(3, "{'content':[{'type':'text','text':'{\\'n\\':5,\\'tags\\':[\\'x\\',\\'\xC3\xA9\\']}'}]}"));
    check("tools/call with isError", spost(g_srv, s6, call_body(3, "fail", "{}")), 200, JSON,
          ok_body(3, "{'content':[{'type':'text','text':'boom 7'}],'isError':true}"));
    check("tools/call: a handler failing with no content", spost(g_srv, s6, call_body(3, "crash", "{}")), 200, JSON,
          ok_body(3, "{'content':[{'type':'text','text':'tool crash failed'}],'isError':true}"));
    check("tools/call without arguments", spost(g_srv, s6, Q("{'jsonrpc':'2.0','id':3,'method':'tools/call','params':{'name':'proto'}}")),
          200, JSON, ok_body(3, "{'content':[{'type':'text','text':'2025-06-18'}]}"));
    check("tools/call unknown tool: -32602", spost(g_srv, s6, call_body(3, "nope", "{}")), 200, JSON,
          err_body(3, -32602, "Unknown tool: nope"));
    check("tools/call unknown tool in 2025-11-25: -32602", spost(g_srv, s11, call_body(3, "nope", "{}")), 200, JSON,
          err_body(3, -32602, "Unknown tool: nope"));
    check("tools/call without a name: -32602", spost(g_srv, s6, Q("{'jsonrpc':'2.0','id':3,'method':'tools/call','params':{}}")), 200, JSON,
          err_body(3, -32602, "tools/call: params.name must be a string"));
    check("tools/call with array arguments: -32602", spost(g_srv, s6, call_body(3, "add", "[1,2]")), 200, JSON,
          err_body(3, -32602, "tools/call: params.arguments must be an object"));
    check("invalid arguments in 2025-06-18: protocol error -32602", spost(g_srv, s6, call_body(4, "add", "{'a':'x','b':2}")), 200, JSON,
          err_body(4, -32602, "Invalid arguments for tool add: a: expected number, got string"));
    check("missing argument in 2025-06-18: protocol error -32602", spost(g_srv, s6, call_body(4, "add", "{'b':2}")), 200, JSON,
          err_body(4, -32602, "Invalid arguments for tool add: a: required property is missing"));
    check("invalid arguments in 2025-03-26: protocol error -32602", spost(g_srv, s3, call_body(4, "echo", "{'n':-1}")), 200, JSON,
          err_body(4, -32602, "Invalid arguments for tool echo: n: must be >= 0"));
    check("invalid arguments in 2025-11-25: isError result", spost(g_srv, s11, call_body(4, "add", "{'a':'x','b':2}")), 200, JSON,
          ok_body(4, "{'content':[{'type':'text','text':'Invalid arguments for tool add: a: expected number, got string'}],'isError':true}"));
    check("unknown argument in 2025-11-25: isError result", spost(g_srv, s11, call_body(4, "echo", "{'n':1,'x':2}")), 200, JSON,
          ok_body(4, "{'content':[{'type':'text','text':'Invalid arguments for tool echo: x: unknown property'}],'isError':true}"));

    /* structured content */
    check("structured content 2025-06-18: mirrored text and structuredContent", spost(g_srv, s6, call_body(5, "weather", "{}")), 200, JSON,
          ok_body(5, "{'content':[{'type':'text','text':'{\\'temp\\':21.5,\\'unit\\':\\'C\\'}'}],'structuredContent':{'temp':21.5,'unit':'C'}}"));
    check("structured content 2025-03-26: text only", spost(g_srv, s3, call_body(5, "weather", "{}")), 200, JSON,
          ok_body(5, "{'content':[{'type':'text','text':'{\\'temp\\':21.5,\\'unit\\':\\'C\\'}'}]}"));
    check("structured content not matching the output schema: isError", spost(g_srv, s6, call_body(5, "bad_weather", "{}")), 200, JSON,
          ok_body(5, "{'content':[{'type':'text','text':'tool bad_weather returned structured content that does not match its output schema: temp: expected number, got string'}],'isError':true}"));
    check("output schema but no structured content: isError", spost(g_srv, s6, call_body(5, "no_struct", "{}")), 200, JSON,
          ok_body(5, "{'content':[{'type':'text','text':'no data'},{'type':'text','text':'tool no_struct declares an output schema but returned no structured content'}],'isError':true}"));

    /* notifications during a call become an SSE stream */
    check("log notifications during a call: SSE (session level debug)", spost(g_srv, s6, call_body(6, "notify", "{}")), 200, SSE,
          Q("event: message\ndata: {'jsonrpc':'2.0','method':'notifications/message','params':{'level':'info','logger':'notify','data':'hello 1'}}\n\n"
            "event: message\ndata: {'jsonrpc':'2.0','method':'notifications/message','params':{'level':'debug','logger':'notify','data':'dbg'}}\n\n"
            "event: message\ndata: {'jsonrpc':'2.0','id':6,'result':{'content':[{'type':'text','text':'done'}]}}\n\n"));
    check("logging/setLevel warning", spost(g_srv, s6, Q("{'jsonrpc':'2.0','id':7,'method':'logging/setLevel','params':{'level':'warning'}}")),
          200, JSON, ok_body(7, "{}"));
    check("logging/setLevel unknown level: -32602", spost(g_srv, s6, Q("{'jsonrpc':'2.0','id':8,'method':'logging/setLevel','params':{'level':'loud'}}")),
          200, JSON, err_body(8, -32602, "logging/setLevel: unknown level"));
    check("logging/setLevel without a level: -32602", spost(g_srv, s6, Q("{'jsonrpc':'2.0','id':8,'method':'logging/setLevel','params':{}}")),
          200, JSON, err_body(8, -32602, "logging/setLevel: unknown level"));
    check("after setLevel warning, info logs are not sent: plain JSON", spost(g_srv, s6, call_body(9, "notify", "{}")), 200, JSON,
          ok_body(9, "{'content':[{'type':'text','text':'done'}]}"));
    check("progress is sent when the request has a progressToken",
          spost(g_srv, s6, Q("{'jsonrpc':'2.0','id':10,'method':'tools/call','params':{'name':'notify','arguments':{},'_meta':{'progressToken':'tok'}}}")),
          200, SSE,
          Q("event: message\ndata: {'jsonrpc':'2.0','method':'notifications/progress','params':{'progressToken':'tok','progress':1,'total':2,'message':'half'}}\n\n"
            "event: message\ndata: {'jsonrpc':'2.0','id':10,'result':{'content':[{'type':'text','text':'done'}]}}\n\n"));
    check("setLevel is per session: another session still gets info and debug", spost(g_srv, s11, call_body(11, "notify", "{}")), 200, SSE,
          Q("event: message\ndata: {'jsonrpc':'2.0','method':'notifications/message','params':{'level':'info','logger':'notify','data':'hello 1'}}\n\n"
            "event: message\ndata: {'jsonrpc':'2.0','method':'notifications/message','params':{'level':'debug','logger':'notify','data':'dbg'}}\n\n"
            "event: message\ndata: {'jsonrpc':'2.0','id':11,'result':{'content':[{'type':'text','text':'done'}]}}\n\n"));
    check("mcp_need without the capability in 2025-06-18: -32021 with data", spost(g_srv, s6, call_body(12, "need", "{}")), 200, JSON,
          Q("{'jsonrpc':'2.0','id':12,'error':{'code':-32021,'message':'Missing required client capability: sampling','data':{'requiredCapabilities':{'sampling':{}}}}}"));
    sess_t sc = open_session(g_srv, E25b, "{'sampling':{}}");
    check("mcp_need with the capability declared at initialize", spost(g_srv, sc, call_body(12, "need", "{}")), 200, JSON,
          ok_body(12, "{'content':[{'type':'text','text':'sampling ok'}]}"));
    check("elicitation without the client capability: not asked, handler goes on", spost(g_srv, s6, call_body(13, "ask", "{}")), 200, JSON,
          ok_body(13, "{'content':[]}"));
    free(sc.sid);
    free(s6.sid);
    free(s11.sid);
    free(s3.sid);
    free(s4.sid);

    /* pagination */
    sess_t sb = open_session(g_big, E25b, NULL);
    buf page1 = {0}, page2 = {0};
    for (int i = 0; i < MCP_PAGE_SIZE + 5; i++)
        buf_printf(i < MCP_PAGE_SIZE ? &page1 : &page2, "%s{'name':'t%03d','inputSchema':" EMPTY_SCHEMA "}",
                   (i < MCP_PAGE_SIZE ? i : i - MCP_PAGE_SIZE) ? "," : "", i);
    check("tools/list page 1: MCP_PAGE_SIZE tools and nextCursor", spost(g_big, sb, Q("{'jsonrpc':'2.0','id':1,'method':'tools/list'}")),
          200, JSON, ok_body(1, QF("{'tools':[%s],'nextCursor':'%d'}", page1.p, MCP_PAGE_SIZE)));
    check("tools/list page 2: the rest, no nextCursor",
          spost(g_big, sb, QF("{'jsonrpc':'2.0','id':2,'method':'tools/list','params':{'cursor':'%d'}}", MCP_PAGE_SIZE)),
          200, JSON, ok_body(2, QF("{'tools':[%s]}", page2.p)));
    check("tools/list: a cursor not issued (past the end): -32602",
          spost(g_big, sb, QF("{'jsonrpc':'2.0','id':3,'method':'tools/list','params':{'cursor':'%d'}}", MCP_PAGE_SIZE + 6)),
          200, JSON, err_body(3, -32602, "Invalid params: unknown cursor"));
    buf_free(&page1);
    buf_free(&page2);
    free(sb.sid);
}

static void test_resources_prompts(void) {
    sess_t s6 = open_session(g_srv, E25b, NULL), s4 = open_session(g_srv, E24, NULL);
    check("resources/list 2025-06-18", spost(g_srv, s6, Q("{'jsonrpc':'2.0','id':1,'method':'resources/list'}")), 200, JSON,
          ok_body(1, "{'resources':[{'uri':'test://readme','name':'readme','title':'README','description':'Read me','mimeType':'text/plain'},"
                     "{'uri':'test://bin','name':'bin','mimeType':'application/octet-stream'},{'uri':'test://broken','name':'broken'},"
                     "{'uri':'test://missing','name':'missing'}]}"));
    check("resources/list 2024-11-05 (no title)", spost(g_srv, s4, Q("{'jsonrpc':'2.0','id':1,'method':'resources/list'}")), 200, JSON,
          ok_body(1, "{'resources':[{'uri':'test://readme','name':'readme','description':'Read me','mimeType':'text/plain'},"
                     "{'uri':'test://bin','name':'bin','mimeType':'application/octet-stream'},{'uri':'test://broken','name':'broken'},"
                     "{'uri':'test://missing','name':'missing'}]}"));
    check("resources/templates/list", spost(g_srv, s6, Q("{'jsonrpc':'2.0','id':2,'method':'resources/templates/list'}")), 200, JSON,
          ok_body(2, "{'resourceTemplates':[{'uriTemplate':'test://users/{id}','name':'user','description':'A user','mimeType':'application/json'}]}"));
    check("resources/read static text", spost(g_srv, s6, Q("{'jsonrpc':'2.0','id':3,'method':'resources/read','params':{'uri':'test://readme'}}")),
          200, JSON, ok_body(3, "{'contents':[{'uri':'test://readme','mimeType':'text/plain','text':'hello readme'}]}"));
    check("resources/read blob", spost(g_srv, s6, Q("{'jsonrpc':'2.0','id':3,'method':'resources/read','params':{'uri':'test://bin'}}")),
          200, JSON, ok_body(3, "{'contents':[{'uri':'test://bin','mimeType':'application/octet-stream','blob':'AAEC'}]}"));
    check("resources/read through a template", spost(g_srv, s6, Q("{'jsonrpc':'2.0','id':4,'method':'resources/read','params':{'uri':'test://users/42'}}")),
          200, JSON, ok_body(4, "{'contents':[{'uri':'test://users/42','mimeType':'application/json','text':'{\\'id\\':\\'42\\'}'}]}"));
    check("resources/read not found 2025-06-18: -32002 with data.uri",
          spost(g_srv, s6, Q("{'jsonrpc':'2.0','id':5,'method':'resources/read','params':{'uri':'test://nope'}}")), 200, JSON,
          Q("{'jsonrpc':'2.0','id':5,'error':{'code':-32002,'message':'Resource not found: test://nope','data':{'uri':'test://nope'}}}"));
    check("resources/read not found 2024-11-05: -32002 with data.uri",
          spost(g_srv, s4, Q("{'jsonrpc':'2.0','id':5,'method':'resources/read','params':{'uri':'test://users/'}}")), 200, JSON,
          Q("{'jsonrpc':'2.0','id':5,'error':{'code':-32002,'message':'Resource not found: test://users/','data':{'uri':'test://users/'}}}"));
    check("resources/read: a reader failing with no message: -32603",
          spost(g_srv, s6, Q("{'jsonrpc':'2.0','id':6,'method':'resources/read','params':{'uri':'test://broken'}}")), 200, JSON,
          err_body(6, -32603, "reading test://broken failed"));
    check("resources/read: a reader's own -32002 gets data.uri",
          spost(g_srv, s6, Q("{'jsonrpc':'2.0','id':6,'method':'resources/read','params':{'uri':'test://missing'}}")), 200, JSON,
          Q("{'jsonrpc':'2.0','id':6,'error':{'code':-32002,'message':'it went away','data':{'uri':'test://missing'}}}"));
    check("resources/read without a uri: -32602", spost(g_srv, s6, Q("{'jsonrpc':'2.0','id':6,'method':'resources/read','params':{}}")),
          200, JSON, err_body(6, -32602, "resources/read: params.uri must be a string"));
    check("resources/subscribe", spost(g_srv, s6, Q("{'jsonrpc':'2.0','id':7,'method':'resources/subscribe','params':{'uri':'test://readme'}}")),
          200, JSON, ok_body(7, "{}"));
    check("resources/unsubscribe", spost(g_srv, s6, Q("{'jsonrpc':'2.0','id':8,'method':'resources/unsubscribe','params':{'uri':'test://readme'}}")),
          200, JSON, ok_body(8, "{}"));
    check("resources/subscribe without a uri: -32602", spost(g_srv, s6, Q("{'jsonrpc':'2.0','id':9,'method':'resources/subscribe','params':{}}")),
          200, JSON, err_body(9, -32602, "resources/subscribe: params.uri must be a string"));

    check("prompts/list 2025-06-18", spost(g_srv, s6, Q("{'jsonrpc':'2.0','id':1,'method':'prompts/list'}")), 200, JSON,
          ok_body(1, "{'prompts':[{'name':'review','title':'Code Review','description':'Review code','arguments':[{'name':'code','required':true},"
                     "{'name':'language','required':false}]},{'name':'chat','arguments':[]}]}"));
    check("prompts/get", spost(g_srv, s6, Q("{'jsonrpc':'2.0','id':2,'method':'prompts/get','params':{'name':'review','arguments':{'code':'x=1','language':'py'}}}")),
          200, JSON, ok_body(2, "{'description':'Review code','messages':[{'role':'user','content':{'type':'text','text':'Review this py code: x=1'}}]}"));
    check("prompts/get with roles", spost(g_srv, s6, Q("{'jsonrpc':'2.0','id':3,'method':'prompts/get','params':{'name':'chat'}}")),
          200, JSON, ok_body(3, "{'messages':[{'role':'user','content':{'type':'text','text':'hi'}},{'role':'assistant','content':{'type':'text','text':'hello'}}]}"));
    check("prompts/get missing a required argument: -32602",
          spost(g_srv, s6, Q("{'jsonrpc':'2.0','id':4,'method':'prompts/get','params':{'name':'review','arguments':{'language':'c'}}}")),
          200, JSON, err_body(4, -32602, "prompt review: missing required argument code"));
    check("prompts/get with a non-string argument: -32602",
          spost(g_srv, s6, Q("{'jsonrpc':'2.0','id':5,'method':'prompts/get','params':{'name':'review','arguments':{'code':1}}}")),
          200, JSON, err_body(5, -32602, "prompt review: argument code must be a string"));
    check("prompts/get unknown prompt: -32602", spost(g_srv, s6, Q("{'jsonrpc':'2.0','id':6,'method':'prompts/get','params':{'name':'nope'}}")),
          200, JSON, err_body(6, -32602, "Unknown prompt: nope"));

    check("completion/complete for a prompt argument",
          spost(g_srv, s6, Q("{'jsonrpc':'2.0','id':1,'method':'completion/complete','params':{'ref':{'type':'ref/prompt','name':'review'},'argument':{'name':'language','value':'p'}}}")),
          200, JSON, ok_body(1, "{'completion':{'values':['python','perl'],'total':2,'hasMore':false}}"));
    check("completion/complete for a resource template",
          spost(g_srv, s6, Q("{'jsonrpc':'2.0','id':2,'method':'completion/complete','params':{'ref':{'type':'ref/resource','uri':'test://users/{id}'},'argument':{'name':'id','value':''}}}")),
          200, JSON, ok_body(2, "{'completion':{'values':['1','2'],'total':2,'hasMore':false}}"));
    check("completion/complete with no completer: empty",
          spost(g_srv, s6, Q("{'jsonrpc':'2.0','id':3,'method':'completion/complete','params':{'ref':{'type':'ref/prompt','name':'nope'},'argument':{'name':'x','value':'y'}}}")),
          200, JSON, ok_body(3, "{'completion':{'values':[],'total':0,'hasMore':false}}"));
    check("completion/complete without an argument: -32602",
          spost(g_srv, s6, Q("{'jsonrpc':'2.0','id':4,'method':'completion/complete','params':{'ref':{'type':'ref/prompt','name':'review'}}}")),
          200, JSON, err_body(4, -32602, "completion/complete: params.ref (type and name or uri) and params.argument.name are required"));
    buf vals = {0};
    for (int i = 0; i < 100; i++) buf_printf(&vals, "%s'v%d'", i ? "," : "", i);
    check("completion/complete: 100 values at most, hasMore, total is every value offered",
          spost(g_srv, s6, Q("{'jsonrpc':'2.0','id':5,'method':'completion/complete','params':{'ref':{'type':'ref/prompt','name':'chat'},'argument':{'name':'x','value':''}}}")),
          200, JSON, ok_body(5, QF("{'completion':{'values':[%s],'total':150,'hasMore':true}}", vals.p)));
    buf_free(&vals);
    free(s6.sid);
    free(s4.sid);
}

static void test_batches(void) {
    sess_t s3 = open_session(g_srv, E25a, NULL), s6 = open_session(g_srv, E25b, NULL);
    check("batch in 2025-03-26: requests answered in order, notifications skipped",
          spost(g_srv, s3, Q("[{'jsonrpc':'2.0','id':1,'method':'ping'},{'jsonrpc':'2.0','method':'notifications/initialized'},"
                             "{'jsonrpc':'2.0','id':2,'method':'tools/call','params':{'name':'add','arguments':{'a':2,'b':3}}}]")),
          200, JSON, Q("[{'jsonrpc':'2.0','id':1,'result':{}},{'jsonrpc':'2.0','id':2,'result':{'content':[{'type':'text','text':'5'}]}}]"));
    check("batch of notifications only: 202",
          spost(g_srv, s3, Q("[{'jsonrpc':'2.0','method':'notifications/initialized'},{'jsonrpc':'2.0','method':'notifications/x'}]")),
          202, NULL, "");
    check("batch with a non-object element: an error for it",
          spost(g_srv, s3, Q("[1,{'jsonrpc':'2.0','id':3,'method':'ping'}]")), 200, JSON,
          Q("[{'jsonrpc':'2.0','id':null,'error':{'code':-32600,'message':'Invalid Request: expected a JSON-RPC message object'}},{'jsonrpc':'2.0','id':3,'result':{}}]"));
    check("empty batch: 400", spost(g_srv, s3, "[]"), 400, JSON, err_null(-32600, "Invalid Request: empty batch"));
    check("batch in 2025-06-18: 400", spost(g_srv, s6, Q("[{'jsonrpc':'2.0','id':1,'method':'ping'}]")), 400, JSON,
          err_null(-32600, "Invalid Request: batches are only accepted in protocol version 2025-03-26"));
    check("batch holding initialize: 400",
          post(g_srv, NULL, Q("[{'jsonrpc':'2.0','id':1,'method':'initialize','params':{'protocolVersion':'2025-03-26'}}]")), 400, JSON,
          err_null(-32600, "Bad Request: Mcp-Session-Id header is required"));
    check("batch with notifications during a call: one SSE event per message",
          spost(g_srv, s3, Q("[{'jsonrpc':'2.0','id':1,'method':'tools/call','params':{'name':'notify','arguments':{}}},{'jsonrpc':'2.0','id':2,'method':'ping'}]")),
          200, SSE,
          Q("event: message\ndata: {'jsonrpc':'2.0','method':'notifications/message','params':{'level':'info','logger':'notify','data':'hello 1'}}\n\n"
            "event: message\ndata: {'jsonrpc':'2.0','method':'notifications/message','params':{'level':'debug','logger':'notify','data':'dbg'}}\n\n"
            "event: message\ndata: {'jsonrpc':'2.0','id':1,'result':{'content':[{'type':'text','text':'done'}]}}\n\n"
            "event: message\ndata: {'jsonrpc':'2.0','id':2,'result':{}}\n\n"));
    free(s3.sid);
    free(s6.sid);
}

/* 2026-07-28: stateless */
#define META26 "'_meta':{'io.modelcontextprotocol/protocolVersion':'2026-07-28','io.modelcontextprotocol/clientCapabilities':{}}"

static resp post26(const char *method, const char *name, const char *body) {
    return post(g_srv, QF("MCP-Protocol-Version: 2026-07-28\nMcp-Method: %s\n%s%s%s", method, name ? "Mcp-Name: " : "", name ? name : "",
                          name ? "\n" : ""), body);
}
static const char *req26(int id, const char *method, const char *params_extra) {
    return QF("{'jsonrpc':'2.0','id':%d,'method':'%s','params':{%s%s" META26 "}}", id, method, params_extra ? params_extra : "",
              params_extra ? "," : "");
}
static const char *call26(int id, const char *tool, const char *args, const char *caps, const char *extra) {
    return QF("{'jsonrpc':'2.0','id':%d,'method':'tools/call','params':{'name':'%s','arguments':%s%s%s,'_meta':{"
              "'io.modelcontextprotocol/protocolVersion':'2026-07-28','io.modelcontextprotocol/clientCapabilities':%s}}}",
              id, tool, args, extra ? "," : "", extra ? extra : "", caps ? caps : "{}");
}

#define STATE1 "cm91bmQx.570d0120642dd35c33a95389a4d065dbfa6e9cfa1d94b5f88ae02ae72b622f8e"


/* SEP-2243: a parameter marked x-mcp-header travels in Mcp-Param-NAME too */
static void test_param_headers(void) {
    g_ph = mcp_server_new("ph", "1");
    mcp_tool(g_ph, "where", "Where", Q("{'type':'object','properties':{'region':{'type':'string','x-mcp-header':'Region'}}}"), h_echo);
    const char *body = QF("{'jsonrpc':'2.0','id':1,'method':'tools/call','params':{'name':'where','arguments':{'region':'Hello'},"
                          "'_meta':{'io.modelcontextprotocol/protocolVersion':'2026-07-28','io.modelcontextprotocol/clientCapabilities':{}}}}");
    const char *base = "MCP-Protocol-Version: 2026-07-28\nMcp-Method: tools/call\nMcp-Name: where\n";
    const char *okb = Q("{'jsonrpc':'2.0','id':1,'result':{'content':[{'type':'text','text':'{\\'region\\':\\'Hello\\'}'}],'resultType':'complete'}}");
    check("Mcp-Param: a plain value equal to the argument is accepted", post(g_ph, QF("%sMcp-Param-Region: Hello\n", base), body), 200, JSON, okb);
    check("Mcp-Param: a =?base64?...?= value is decoded", post(g_ph, QF("%sMcp-Param-Region: =?base64?SGVsbG8=?=\n", base), body), 200, JSON, okb);
    check("Mcp-Param: a different value is refused (-32020)", post(g_ph, QF("%sMcp-Param-Region: World\n", base), body), 400, JSON,
          err_body(1, -32020, "Mcp-Param-Region header does not match argument region"));
    check("Mcp-Param: bad base64 padding is refused (-32020)", post(g_ph, QF("%sMcp-Param-Region: =?base64?SGVsbG8?=\n", base), body), 400, JSON,
          err_body(1, -32020, "Mcp-Param-Region header is not valid base64"));
    check("Mcp-Param: a missing header for a present argument is refused (-32020)", post(g_ph, base, body), 400, JSON,
          err_body(1, -32020, "Mcp-Param-Region header and argument region must come together"));
}

static void test_2026(void) {
    check("server/discover: exact result",
          post26("server/discover", NULL, req26(1, "server/discover", NULL)), 200, JSON,
          ok_body(1, QF("{'supportedVersions':['2026-07-28','2025-11-25','2025-06-18','2025-03-26','2024-11-05'],'capabilities':%s,"
                        "'instructions':'Use the tools.','_meta':{'io.modelcontextprotocol/serverInfo':{'name':'test','title':'Test Server','version':'1.2.3'}},"
                        "'ttlMs':0,'cacheScope':'private','resultType':'complete'}", caps_json(E26))));
    check("server/discover without the version header (the _meta says it)",
          post(g_srv, "Mcp-Method: server/discover\n", req26(2, "server/discover", NULL)), 200, JSON,
          ok_body(2, QF("{'supportedVersions':['2026-07-28','2025-11-25','2025-06-18','2025-03-26','2024-11-05'],'capabilities':%s,"
                        "'instructions':'Use the tools.','_meta':{'io.modelcontextprotocol/serverInfo':{'name':'test','title':'Test Server','version':'1.2.3'}},"
                        "'ttlMs':0,'cacheScope':'private','resultType':'complete'}", caps_json(E26))));
    check("tools/list 2026-07-28: resultType, ttlMs, cacheScope", post26("tools/list", NULL, req26(3, "tools/list", NULL)), 200, JSON,
          ok_body(3, QF("{'tools':%s,'ttlMs':0,'cacheScope':'private','resultType':'complete'}", tools_json(E26))));
    check("resources/list 2026-07-28", post26("resources/list", NULL, req26(4, "resources/list", NULL)), 200, JSON,
          ok_body(4, "{'resources':[{'uri':'test://readme','name':'readme','title':'README','description':'Read me','mimeType':'text/plain'},"
                     "{'uri':'test://bin','name':'bin','mimeType':'application/octet-stream'},{'uri':'test://broken','name':'broken'},"
                     "{'uri':'test://missing','name':'missing'}],'ttlMs':0,'cacheScope':'private','resultType':'complete'}"));
    check("resources/templates/list 2026-07-28", post26("resources/templates/list", NULL, req26(4, "resources/templates/list", NULL)), 200, JSON,
          ok_body(4, "{'resourceTemplates':[{'uriTemplate':'test://users/{id}','name':'user','description':'A user','mimeType':'application/json'}],"
                     "'ttlMs':0,'cacheScope':'private','resultType':'complete'}"));
    check("prompts/list 2026-07-28", post26("prompts/list", NULL, req26(4, "prompts/list", NULL)), 200, JSON,
          ok_body(4, "{'prompts':[{'name':'review','title':'Code Review','description':'Review code','arguments':[{'name':'code','required':true},"
                     "{'name':'language','required':false}]},{'name':'chat','arguments':[]}],'ttlMs':0,'cacheScope':'private','resultType':'complete'}"));
    check("resources/read 2026-07-28 (Mcp-Name is the uri)",
          post26("resources/read", "test://readme", req26(5, "resources/read", "'uri':'test://readme'")), 200, JSON,
          ok_body(5, "{'contents':[{'uri':'test://readme','mimeType':'text/plain','text':'hello readme'}],'ttlMs':0,'cacheScope':'private','resultType':'complete'}"));
    check("resources/read not found 2026-07-28: -32602 with data.uri",
          post26("resources/read", "test://nope", req26(6, "resources/read", "'uri':'test://nope'")), 200, JSON,
          Q("{'jsonrpc':'2.0','id':6,'error':{'code':-32602,'message':'Resource not found: test://nope','data':{'uri':'test://nope'}}}"));
    check("prompts/get 2026-07-28", post26("prompts/get", "chat", req26(7, "prompts/get", "'name':'chat'")), 200, JSON,
          ok_body(7, "{'messages':[{'role':'user','content':{'type':'text','text':'hi'}},{'role':'assistant','content':{'type':'text','text':'hello'}}],'resultType':'complete'}"));
    check("tools/call 2026-07-28", post26("tools/call", "add", call26(8, "add", "{'a':1,'b':2}", NULL, NULL)), 200, JSON,
          ok_body(8, "{'content':[{'type':'text','text':'3'}],'resultType':'complete'}"));
    check("tools/call 2026-07-28 sees its era", post26("tools/call", "proto", call26(8, "proto", "{}", NULL, NULL)), 200, JSON,
          ok_body(8, "{'content':[{'type':'text','text':'2026-07-28'}],'resultType':'complete'}"));
    check("invalid arguments 2026-07-28: isError result", post26("tools/call", "add", call26(9, "add", "{'a':1}", NULL, NULL)), 200, JSON,
          ok_body(9, "{'content':[{'type':'text','text':'Invalid arguments for tool add: b: required property is missing'}],'isError':true,'resultType':'complete'}"));
    check("completion/complete 2026-07-28",
          post26("completion/complete", NULL, req26(10, "completion/complete", "'ref':{'type':'ref/prompt','name':'review'},'argument':{'name':'language','value':'g'}")),
          200, JSON, ok_body(10, "{'completion':{'values':['go'],'total':1,'hasMore':false},'resultType':'complete'}"));

    /* errors of this era */
    check("missing _meta: 400 -32602", post26("tools/list", NULL, Q("{'jsonrpc':'2.0','id':1,'method':'tools/list'}")), 400, JSON,
          err_body(1, -32602, "Invalid params: _meta must carry \\'io.modelcontextprotocol/protocolVersion\\' and \\'io.modelcontextprotocol/clientCapabilities\\'"));
    check("_meta without clientCapabilities: 400 -32602",
          post26("tools/list", NULL, Q("{'jsonrpc':'2.0','id':1,'method':'tools/list','params':{'_meta':{'io.modelcontextprotocol/protocolVersion':'2026-07-28'}}}")),
          400, JSON, err_body(1, -32602, "Invalid params: _meta must carry \\'io.modelcontextprotocol/protocolVersion\\' and \\'io.modelcontextprotocol/clientCapabilities\\'"));
    check("_meta version not a string: 400 -32602",
          post26("tools/list", NULL, Q("{'jsonrpc':'2.0','id':1,'method':'tools/list','params':{'_meta':{'io.modelcontextprotocol/protocolVersion':2026,'io.modelcontextprotocol/clientCapabilities':{}}}}")),
          400, JSON, err_body(1, -32602, "Invalid params: _meta must carry \\'io.modelcontextprotocol/protocolVersion\\' and \\'io.modelcontextprotocol/clientCapabilities\\'"));
    check("header and _meta versions differ: 400 -32020",
          post26("tools/list", NULL, Q("{'jsonrpc':'2.0','id':2,'method':'tools/list','params':{'_meta':{'io.modelcontextprotocol/protocolVersion':'2026-07-29','io.modelcontextprotocol/clientCapabilities':{}}}}")),
          400, JSON, err_body(2, -32020, "MCP-Protocol-Version header (2026-07-28) does not match _meta protocol version (2026-07-29)"));
    check("session-era header with 2026 _meta: 400 -32020",
          post(g_srv, "MCP-Protocol-Version: 2025-11-25\nMcp-Method: tools/list\n", req26(2, "tools/list", NULL)), 400, JSON,
          err_body(2, -32020, "MCP-Protocol-Version header (2025-11-25) does not match _meta protocol version (2026-07-28)"));
    check("unsupported _meta version: 400 -32022 with data",
          post(g_srv, "Mcp-Method: tools/list\n", Q("{'jsonrpc':'2.0','id':3,'method':'tools/list','params':{'_meta':{'io.modelcontextprotocol/protocolVersion':'2025-06-18','io.modelcontextprotocol/clientCapabilities':{}}}}")),
          400, JSON, Q("{'jsonrpc':'2.0','id':3,'error':{'code':-32022,'message':'Unsupported protocol version','data':{'supported':['2026-07-28'],'requested':'2025-06-18'}}}"));
    check("unknown future _meta version: 400 -32022 with data",
          post(g_srv, "Mcp-Method: tools/list\n", Q("{'jsonrpc':'2.0','id':3,'method':'tools/list','params':{'_meta':{'io.modelcontextprotocol/protocolVersion':'2030-01-01','io.modelcontextprotocol/clientCapabilities':{}}}}")),
          400, JSON, Q("{'jsonrpc':'2.0','id':3,'error':{'code':-32022,'message':'Unsupported protocol version','data':{'supported':['2026-07-28'],'requested':'2030-01-01'}}}"));
    const char *removed[] = {"ping", "initialize", "logging/setLevel", "resources/subscribe", "resources/unsubscribe"};
    for (size_t i = 0; i < COUNT(removed); i++)
        check(NAME("removed method %s: 404 -32601", removed[i]), post26(removed[i], NULL, req26(4, removed[i], NULL)), 404, JSON,
              err_body(4, -32601, QF("Method not found: %s (removed in protocol version 2026-07-28)", removed[i])));
    check("unknown method 2026-07-28: 404 -32601", post26("foo/bar", NULL, req26(5, "foo/bar", NULL)), 404, JSON,
          err_body(5, -32601, "Method not found: foo/bar"));
    check("Mcp-Method missing: 400 -32020", post(g_srv, "MCP-Protocol-Version: 2026-07-28\n", req26(6, "tools/list", NULL)), 400, JSON,
          err_body(6, -32020, "Mcp-Method header is required"));
    check("Mcp-Method mismatch: 400 -32020", post26("prompts/list", NULL, req26(6, "tools/list", NULL)), 400, JSON,
          err_body(6, -32020, "Mcp-Method header does not match the request`s method"));
    check("Mcp-Name missing on tools/call: 400 -32020", post26("tools/call", NULL, call26(7, "add", "{'a':1,'b':2}", NULL, NULL)), 400, JSON,
          err_body(7, -32020, "Mcp-Name header does not match the request`s name"));
    check("Mcp-Name mismatch on tools/call: 400 -32020", post26("tools/call", "echo", call26(7, "add", "{'a':1,'b':2}", NULL, NULL)), 400, JSON,
          err_body(7, -32020, "Mcp-Name header does not match the request`s name"));
    check("Mcp-Name mismatch on prompts/get: 400 -32020", post26("prompts/get", "review", req26(7, "prompts/get", "'name':'chat'")), 400, JSON,
          err_body(7, -32020, "Mcp-Name header does not match the request`s name"));
    check("Mcp-Name on a method without a name: 400 -32020", post26("tools/list", "add", req26(7, "tools/list", NULL)), 400, JSON,
          err_body(7, -32020, "Mcp-Name header does not match the request`s name"));
    check("notification 2026-07-28: 202", post26("notifications/x", NULL, Q("{'jsonrpc':'2.0','method':'notifications/x','params':{" META26 "}}")),
          202, NULL, "");
    check("batch 2026-07-28: 400", post26("tools/list", NULL, QF("[%s]", req26(1, "tools/list", NULL))), 400, JSON,
          err_null(-32600, "Invalid Request: batches are not supported in protocol version 2026-07-28"));
    {
        resp r = post26("tools/list", NULL, Q("{'jsonrpc':'2.0','id':true,'method':'tools/list','params':{" META26 "}}"));
        T_OK("2026: a request with id true is not taken for a notification (no 202)", r.status != 202);
        T_EQ_STR("2026: a request with id true gets an Invalid Request error", r.body,
                 err_null(-32600, "Invalid Request: id must be a string or a number"));
        free(r.head);
        free(r.body);
    }

    /* notifications from a tool: buffered SSE */
    check("2026 log notifications at the requested level: SSE",
          post26("tools/call", "notify", Q("{'jsonrpc':'2.0','id':1,'method':'tools/call','params':{'name':'notify','arguments':{},'_meta':{"
                                           "'io.modelcontextprotocol/protocolVersion':'2026-07-28','io.modelcontextprotocol/clientCapabilities':{},"
                                           "'io.modelcontextprotocol/logLevel':'info','progressToken':7}}}")),
          200, SSE,
          Q("event: message\ndata: {'jsonrpc':'2.0','method':'notifications/message','params':{'level':'info','logger':'notify','data':'hello 1'}}\n\n"
            "event: message\ndata: {'jsonrpc':'2.0','method':'notifications/progress','params':{'progressToken':7,'progress':1,'total':2,'message':'half'}}\n\n"
            "event: message\ndata: {'jsonrpc':'2.0','id':1,'result':{'content':[{'type':'text','text':'done'}],'resultType':'complete'}}\n\n"));
    check("2026 without a logLevel: no log notifications, plain JSON",
          post26("tools/call", "notify", call26(2, "notify", "{}", NULL, NULL)), 200, JSON,
          ok_body(2, "{'content':[{'type':'text','text':'done'}],'resultType':'complete'}"));

    /* multi-round-trip requests */
    check("MRTR round 1: input_required with inputRequests and a signed requestState",
          post26("tools/call", "ask", call26(1, "ask", "{}", "{'elicitation':{}}", NULL)), 200, JSON,
          ok_body(1, "{'inputRequests':{'name':{'method':'elicitation/create','params':{'mode':'form','message':'Your name?',"
                     "'requestedSchema':{'type':'object','properties':{'name':{'type':'string'}},'required':['name']}}}},"
                     "'requestState':'" STATE1 "','resultType':'input_required'}"));
    check("MRTR round 2: inputResponses and the state complete the call",
          post26("tools/call", "ask", call26(2, "ask", "{}", "{'elicitation':{}}",
                                              "'inputResponses':{'name':{'action':'accept','content':{'name':'Ada'}}},'requestState':'" STATE1 "'")),
          200, JSON, ok_body(2, "{'content':[{'type':'text','text':'Hello, Ada (state round1)'}],'resultType':'complete'}"));
    check("MRTR: an answer without action is asked again",
          post26("tools/call", "ask", call26(3, "ask", "{}", "{'elicitation':{}}", "'inputResponses':{'name':{'content':{'name':'Ada'}}}")),
          200, JSON,
          ok_body(3, "{'inputRequests':{'name':{'method':'elicitation/create','params':{'mode':'form','message':'Your name?',"
                     "'requestedSchema':{'type':'object','properties':{'name':{'type':'string'}},'required':['name']}}}},"
                     "'requestState':'" STATE1 "','resultType':'input_required'}"));
    check("MRTR: tampered MAC: -32602",
          post26("tools/call", "ask", call26(4, "ask", "{}", "{'elicitation':{}}",
                                              "'inputResponses':{'name':{'action':'accept','content':{'name':'Ada'}}},"
                                              "'requestState':'cm91bmQx.570d0120642dd35c33a95389a4d065dbfa6e9cfa1d94b5f88ae02ae72b622f8f'")),
          200, JSON, err_body(4, -32602, "Invalid params: requestState was altered or was not issued by this server"));
    check("MRTR: tampered payload: -32602",
          post26("tools/call", "ask", call26(4, "ask", "{}", "{'elicitation':{}}",
                                              "'requestState':'cm91bmQy.570d0120642dd35c33a95389a4d065dbfa6e9cfa1d94b5f88ae02ae72b622f8e'")),
          200, JSON, err_body(4, -32602, "Invalid params: requestState was altered or was not issued by this server"));
    check("MRTR: requestState not a string: -32602",
          post26("tools/call", "ask", call26(4, "ask", "{}", "{'elicitation':{}}", "'requestState':5")),
          200, JSON, err_body(4, -32602, "Invalid params: requestState was altered or was not issued by this server"));
    check("MRTR: inputResponses not an object: -32602",
          post26("tools/call", "ask", call26(5, "ask", "{}", "{'elicitation':{}}", "'inputResponses':[1]")),
          200, JSON, err_body(5, -32602, "Invalid params: inputResponses must be an object"));
    check("MRTR: without the capability nothing is asked",
          post26("tools/call", "ask", call26(6, "ask", "{}", "{}", NULL)), 200, JSON,
          ok_body(6, "{'content':[],'resultType':'complete'}"));
    check("mcp_need without the capability: 400 -32021 with data.requiredCapabilities",
          post26("tools/call", "need", call26(7, "need", "{}", "{}", NULL)), 400, JSON,
          Q("{'jsonrpc':'2.0','id':7,'error':{'code':-32021,'message':'Missing required client capability: sampling','data':{'requiredCapabilities':{'sampling':{}}}}}"));
    check("mcp_need with the capability", post26("tools/call", "need", call26(8, "need", "{}", "{'sampling':{}}", NULL)), 200, JSON,
          ok_body(8, "{'content':[{'type':'text','text':'sampling ok'}],'resultType':'complete'}"));
}

/* ---- (d) stdio in a child process ---- */

static char *run_stdio(const char *input, int *status) {
    int in[2], out[2];
    if (pipe(in) || pipe(out)) return NULL;
    fflush(stdout);
    fflush(stderr);
    pid_t pid = fork();
    if (pid == 0) {
        dup2(in[0], 0);
        dup2(out[1], 1);
        close(in[0]); close(in[1]); close(out[0]); close(out[1]);
        g_child = make_server();
        q_free();
        exit(stdio_main(g_child)); /* exit, not _exit: LeakSanitizer checks the child too */
    }
    close(in[0]);
    close(out[1]);
    size_t n = strlen(input), off = 0;
    while (off < n) {
        ssize_t w = write(in[1], input + off, n - off);
        if (w <= 0) break;
        off += (size_t)w;
    }
    close(in[1]);
    buf o = {0};
    char tmp[4096];
    ssize_t r;
    while ((r = read(out[0], tmp, sizeof tmp)) > 0) buf_put(&o, tmp, (size_t)r);
    close(out[0]);
    waitpid(pid, status, 0);
    if (!o.p) buf_putc(&o, 0);
    return o.p;
}

static void test_stdio(void) {
    int st = 0;
    buf in = {0}, want = {0};
    /* session in 2025-03-26: batches allowed */
    buf_puts(&in, Q("{'jsonrpc':'2.0','id':1,'method':'initialize','params':{'protocolVersion':'2025-03-26','capabilities':{},'clientInfo':{'name':'t','version':'1'}}}\n"));
    buf_printf(&want, "%s\n", ok_body(1, QF("{'protocolVersion':'2025-03-26','capabilities':%s,'serverInfo':{'name':'test','version':'1.2.3'},'instructions':'Use the tools.'}", caps_json_stdio(E25a))));
    buf_puts(&in, Q("{'jsonrpc':'2.0','method':'notifications/initialized'}\n"));
    buf_puts(&in, "\n");
    buf_puts(&in, Q("{'jsonrpc':'2.0','id':2,'method':'tools/call','params':{'name':'add','arguments':{'a':1,'b':2}}}\r\n"));
    buf_printf(&want, "%s\n", ok_body(2, "{'content':[{'type':'text','text':'3'}]}"));
    buf_puts(&in, "{bad json\n");
    buf_printf(&want, "%s\n", err_null(-32700, "Parse error: expected a string key at byte 1"));
    buf_puts(&in, Q("[{'jsonrpc':'2.0','id':3,'method':'ping'},{'jsonrpc':'2.0','method':'notifications/x'},"
                    "{'jsonrpc':'2.0','id':4,'method':'tools/call','params':{'name':'add','arguments':{'a':2,'b':2}}}]\n"));
    buf_printf(&want, "%s\n", Q("[{'jsonrpc':'2.0','id':3,'result':{}},{'jsonrpc':'2.0','id':4,'result':{'content':[{'type':'text','text':'4'}]}}]"));
    buf_puts(&in, "[]\n");
    buf_printf(&want, "%s\n", err_null(-32600, "Invalid Request: empty batch"));
    buf_puts(&in, "[1]\n");
    buf_printf(&want, "%s\n", Q("[{'jsonrpc':'2.0','id':null,'error':{'code':-32600,'message':'Invalid Request: expected a JSON-RPC message object'}}]"));
    buf_puts(&in, Q("{'jsonrpc':'2.0','id':5,'method':'tools/call','params':{'name':'notify','arguments':{}}}\n"));
    buf_printf(&want, "%s\n", Q("{'jsonrpc':'2.0','method':'notifications/message','params':{'level':'info','logger':'notify','data':'hello 1'}}"));
    buf_printf(&want, "%s\n", Q("{'jsonrpc':'2.0','method':'notifications/message','params':{'level':'debug','logger':'notify','data':'dbg'}}"));
    buf_printf(&want, "%s\n", ok_body(5, "{'content':[{'type':'text','text':'done'}]}"));
    buf_puts(&in, Q("{'jsonrpc':'2.0','id':6,'method':'tools/list'}\n"));
    buf_printf(&want, "%s\n", ok_body(6, QF("{'tools':%s}", tools_json(E25a))));
    buf_puts(&in, Q("{'jsonrpc':'2.0','id':7,'method':'nope'}\n"));
    buf_printf(&want, "%s\n", err_body(7, -32601, "Method not found: nope"));
    buf_puts(&in, Q("{'jsonrpc':'2.0','id':9,'method':'ping'}")); /* the last line has no newline */
    buf_printf(&want, "%s\n", ok_body(9, "{}"));
    char *out = run_stdio(in.p, &st);
    T_EQ_STR("stdio 2025-03-26: initialize, call, parse error, batches, notifications, list, last line", out, want.p);
    T_OK("stdio child exits 0 (no leaks)", WIFEXITED(st) && WEXITSTATUS(st) == 0);
    free(out);
    buf_free(&in);
    buf_free(&want);

    /* session in 2025-06-18 with elicitation: a request to the client, a message queued meanwhile */
    buf_puts(&in, Q("{'jsonrpc':'2.0','id':1,'method':'initialize','params':{'protocolVersion':'2025-06-18','capabilities':{'elicitation':{}},'clientInfo':{'name':'t','version':'1'}}}\n"));
    buf_printf(&want, "%s\n", ok_body(1, QF("{'protocolVersion':'2025-06-18','capabilities':%s,'serverInfo':{'name':'test','title':'Test Server','version':'1.2.3'},'instructions':'Use the tools.'}", caps_json_stdio(E25b))));
    buf_puts(&in, Q("{'jsonrpc':'2.0','id':2,'method':'tools/call','params':{'name':'ask','arguments':{}}}\n"));
    buf_printf(&want, "%s\n", Q("{'jsonrpc':'2.0','id':'s1','method':'elicitation/create','params':{'message':'Your name?','requestedSchema':"
                                "{'type':'object','properties':{'name':{'type':'string'}},'required':['name']}}}"));
    buf_puts(&in, Q("{'jsonrpc':'2.0','id':3,'method':'ping'}\n"));
    buf_puts(&in, Q("{'jsonrpc':'2.0','id':'s1','result':{'action':'accept','content':{'name':'Ada'}}}\n"));
    buf_printf(&want, "%s\n", ok_body(2, "{'content':[{'type':'text','text':'Hello, Ada (state none)'}]}"));
    buf_printf(&want, "%s\n", ok_body(3, "{}"));
    buf_puts(&in, Q("[{'jsonrpc':'2.0','id':4,'method':'ping'}]\n"));
    buf_printf(&want, "%s\n", err_null(-32600, "Invalid Request: batches are only accepted in protocol version 2025-03-26"));
    buf_puts(&in, Q("{'jsonrpc':'2.0','id':5,'method':'logging/setLevel','params':{'level':'error'}}\n"));
    buf_printf(&want, "%s\n", ok_body(5, "{}"));
    buf_puts(&in, Q("{'jsonrpc':'2.0','id':6,'method':'tools/call','params':{'name':'notify','arguments':{}}}\n"));
    buf_printf(&want, "%s\n", ok_body(6, "{'content':[{'type':'text','text':'done'}]}"));
    buf_puts(&in, Q("{'jsonrpc':'2.0','id':7,'method':'tools/call','params':{'name':'proto','arguments':{}}}\n"));
    buf_printf(&want, "%s\n", ok_body(7, "{'content':[{'type':'text','text':'2025-06-18'}]}"));
    /* a 2026-07-28 message on stdio carries its own era */
    buf_printf(&in, "%s\n", call26(8, "ask", "{}", "{'elicitation':{}}", NULL));
    buf_printf(&want, "%s\n", ok_body(8, "{'inputRequests':{'name':{'method':'elicitation/create','params':{'mode':'form','message':'Your name?',"
                                         "'requestedSchema':{'type':'object','properties':{'name':{'type':'string'}},'required':['name']}}}},"
                                         "'requestState':'" STATE1 "','resultType':'input_required'}"));
    buf_printf(&in, "%s\n", req26(9, "tools/list", NULL));
    buf_printf(&want, "%s\n", ok_body(9, QF("{'tools':%s,'ttlMs':0,'cacheScope':'private','resultType':'complete'}", tools_json(E26))));
    out = run_stdio(in.p, &st);
    T_EQ_STR("stdio 2025-06-18: elicitation round trip with a queued request, batch refused, setLevel, 2026 messages", out, want.p);
    T_OK("stdio child exits 0 (no leaks)", WIFEXITED(st) && WEXITSTATUS(st) == 0);
    free(out);
    buf_free(&in);
    buf_free(&want);

    /* EOF without any input */
    out = run_stdio("", &st);
    T_EQ_STR("stdio: empty input, no output", out, "");
    T_OK("stdio: empty input exits 0", WIFEXITED(st) && WEXITSTATUS(st) == 0);
    free(out);
}

/* ---- a session-era request to the client over HTTP, answered on another request ---- */

typedef struct { mcp_server *s; char *hdrs, *body; resp r; } call_arg;

static void *call_thread(void *p) {
    call_arg *a = p;
    a->r = route_req(a->s, "POST", "/mcp", a->hdrs, a->body, 0);
    return NULL;
}

static void test_http_elicitation(void) {
    sess_t ss = open_session(g_srv, E25c, "{'elicitation':{}}");
    call_arg a;
    memset(&a, 0, sizeof a);
    a.s = g_srv;
    a.hdrs = xstrdup(QF(HJ "Mcp-Session-Id: %s\nMCP-Protocol-Version: 2025-11-25\n", ss.sid));
    a.body = xstrdup(call_body(20, "ask", "{}"));
    pthread_t th;
    pthread_create(&th, NULL, call_thread, &a);
    char key[96] = "";
    for (int i = 0; i < 10000 && !key[0]; i++) { /* wait until the call waits for its answer */
        pthread_mutex_lock(&g_srv->lock);
        if (g_srv->waiters) snprintf(key, sizeof key, "%s", g_srv->waiters->key);
        pthread_mutex_unlock(&g_srv->lock);
        if (!key[0]) { struct timespec ts = {0, 1000000}; nanosleep(&ts, NULL); }
    }
    const char *slash = strchr(key, '/');
    T_OK("session-era elicitation: the call waits under key SESSION/sN",
         slash && (size_t)(slash - key) == strlen(ss.sid) && !strncmp(key, ss.sid, strlen(ss.sid)) && slash[1] == 's');
    const char *rid = slash ? slash + 1 : "s0";
    char *rid_copy = xstrdup(rid);
    check("session-era elicitation: the answer is accepted with 202",
          spost(g_srv, ss, QF("{'jsonrpc':'2.0','id':'%s','result':{'action':'accept','content':{'name':'Ada'}}}", rid_copy)), 202, NULL, "");
    pthread_join(th, NULL);
    check("session-era elicitation: request and result on the SSE stream", a.r, 200, SSE,
          QF("event: message\ndata: {'jsonrpc':'2.0','id':'%s','method':'elicitation/create','params':{'mode':'form','message':'Your name?',"
             "'requestedSchema':{'type':'object','properties':{'name':{'type':'string'}},'required':['name']}}}\n\n"
             "event: message\ndata: {'jsonrpc':'2.0','id':20,'result':{'content':[{'type':'text','text':'Hello, Ada (state none)'}]}}\n\n",
             rid_copy));
    free(rid_copy);
    free(a.hdrs);
    free(a.body);
    free(ss.sid);
}

/* ---- the session table forgets the least recently used session when full ---- */

static mcp_server *g_lru;
static mcp_server *volatile g_quota; /* kept reachable: servers live as long as the process */

static const char *const lru_peers[] = {"192.0.2.1", "192.0.2.2", "192.0.2.3", "192.0.2.4", "192.0.2.5"};

static void test_session_lru(void) {
    g_lru = mcp_server_new("lru", "1");
    sess_t *all = calloc(MAX_SESSIONS + 1, sizeof *all);
    int ok = 1;
    for (int i = 0; i < MAX_SESSIONS; i++) { /* five clients, each under its share */
        g_peer = lru_peers[i % 5];
        all[i] = open_session(g_lru, E25a, NULL);
        if (!all[i].sid) ok = 0;
        if (i == 1) { struct timespec ts = {0, 2000000}; nanosleep(&ts, NULL); } /* all[1] is strictly the oldest after all[0] */
    }
    T_OK("MAX_SESSIONS sessions can be opened", ok);
    check("touching the oldest session", spost(g_lru, all[0], Q("{'jsonrpc':'2.0','id':1,'method':'ping'}")), 200, JSON, ok_body(1, "{}"));
    all[MAX_SESSIONS] = open_session(g_lru, E25a, NULL);
    check("a session past the limit evicts the least recently used one",
          spost(g_lru, all[1], Q("{'jsonrpc':'2.0','id':2,'method':'ping'}")), 404, JSON, err_null(-32600, "Session not found"));
    check("the touched session survives", spost(g_lru, all[0], Q("{'jsonrpc':'2.0','id':3,'method':'ping'}")), 200, JSON, ok_body(3, "{}"));
    check("the new session works", spost(g_lru, all[MAX_SESSIONS], Q("{'jsonrpc':'2.0','id':4,'method':'ping'}")), 200, JSON, ok_body(4, "{}"));
    T_EQ_INT("the table stays at MAX_SESSIONS", g_lru->nsessions, MAX_SESSIONS);
    for (int i = 0; i <= MAX_SESSIONS; i++) free(all[i].sid);
    /* one client past its share loses its own oldest session, never another client's */
    mcp_server *q = g_quota = mcp_server_new("quota", "1");
    g_peer = "198.51.100.1";
    sess_t other = open_session(q, E25a, NULL);
    g_peer = "198.51.100.2";
    sess_t first = open_session(q, E25a, NULL);
    ok = 1;
    for (int i = 1; i < MAX_SESSIONS_PER_CLIENT + 10; i++) { sess_t t = open_session(q, E25a, NULL); ok &= t.sid != NULL; free(t.sid); }
    T_OK("a client opens more sessions than its share", ok);
    T_EQ_INT("it holds its share, the other client its one", q->nsessions, MAX_SESSIONS_PER_CLIENT + 1);
    check("its oldest session is gone", spost(q, first, Q("{'jsonrpc':'2.0','id':5,'method':'ping'}")), 404, JSON, err_null(-32600, "Session not found"));
    g_peer = "198.51.100.1";
    check("the other client's session survives", spost(q, other, Q("{'jsonrpc':'2.0','id':6,'method':'ping'}")), 200, JSON, ok_body(6, "{}"));
    g_peer = NULL;
    free(other.sid);
    free(first.sid);
    free(all);
}

/* ---- handler API corners, on a server of their own ---- */

static int h_bad_struct(mcp_call *c) { return mcp_structured(c, "[1]"); }
static int h_media(mcp_call *c) {
    mcp_image(c, "image/png", "iVBO");
    mcp_audio(c, NULL, "UklG");
    mcp_embed_text(c, "x://e", "text/plain", "inside");
    mcp_embed_blob(c, "x://b", NULL, "AAEC");
    mcp_link(c, "x://l", NULL, "a link", "text/html");
    mcp_textn(c, "a\0b\xFF", 4);
    return 0;
}
static int h_progress_num(mcp_call *c) {
    mcp_progress(c, 0.5, 0, NULL);
    return mcp_text(c, "%d", mcp_blob(c, "AA") + mcp_complete(c, "x"));
}
static int h_args(mcp_call *c) {
    const char *str = mcp_str(c, "s");
    return mcp_text(c, "%s|%g|%lld|%d|%d|%d|%s", str ? str : "NULL", mcp_num(c, "n"), (long long)mcp_int(c, "i"), mcp_bool(c, "b"),
                    mcp_has(c, "s"), mcp_has(c, "zz"), mcp_name(c));
}

static mcp_server *g_api;

static void test_handler_api(void) {
    g_api = mcp_server_new("api", "1");
    mcp_tool(g_api, "bad_struct", NULL, "", h_bad_struct);
    mcp_tool(g_api, "media", NULL, "", h_media);
    mcp_tool(g_api, "progress_num", NULL, "", h_progress_num);
    mcp_tool(g_api, "args", NULL, "s:string? n:number? i:integer? b:boolean?", h_args);
    sess_t ss = open_session(g_api, E25c, NULL);
    check("mcp_structured with a non-object: -32603", spost(g_api, ss, call_body(1, "bad_struct", "{}")), 200, JSON,
          err_body(1, -32603, "tool bad_struct: structured content is not a JSON object"));
    check("every content kind, text with NUL and invalid UTF-8", spost(g_api, ss, call_body(2, "media", "{}")), 200, JSON,
          ok_body(2, "{'content':[{'type':'image','data':'iVBO','mimeType':'image/png'},{'type':'audio','data':'UklG','mimeType':'application/octet-stream'},"
                     "{'type':'resource','resource':{'uri':'x://e','mimeType':'text/plain','text':'inside'}},"
                     "{'type':'resource','resource':{'uri':'x://b','blob':'AAEC'}},"
                     "{'type':'resource_link','uri':'x://l','name':'x://l','description':'a link','mimeType':'text/html'},"
                     "{'type':'text','text':'a\\u0000b\xEF\xBF\xBD'}]}"));
    check("numeric progressToken, no total; mcp_blob and mcp_complete refused in a tool",
          spost(g_api, ss, Q("{'jsonrpc':'2.0','id':3,'method':'tools/call','params':{'name':'progress_num','arguments':{},'_meta':{'progressToken':42}}}")),
          200, SSE,
          Q("event: message\ndata: {'jsonrpc':'2.0','method':'notifications/progress','params':{'progressToken':42,'progress':0.5}}\n\n"
            "event: message\ndata: {'jsonrpc':'2.0','id':3,'result':{'content':[{'type':'text','text':'-2'}]}}\n\n"));
    check("argument accessors", spost(g_api, ss, call_body(4, "args", "{'s':'x','n':2.5,'i':9007199254740993,'b':true}")), 200, JSON,
          ok_body(4, "{'content':[{'type':'text','text':'x|2.5|9007199254740993|1|1|0|args'}]}"));
    check("argument accessors on absent arguments", spost(g_api, ss, call_body(5, "args", "{}")), 200, JSON,
          ok_body(5, "{'content':[{'type':'text','text':'NULL|0|0|0|0|0|args'}]}"));
    free(ss.sid);
}

/* ---- registration, and where bad schemas are caught (mcp.h) ---- */

static mcp_server *g_reg;

/* Run fn in a child with stdout and stderr sent to /dev/null; its exit status. */
static int child_exit(void (*fn)(void)) {
    fflush(stdout);
    fflush(stderr);
    pid_t pid = fork();
    if (pid == 0) {
        int fd = open("/dev/null", O_WRONLY);
        if (fd >= 0) { dup2(fd, 1); dup2(fd, 2); }
        alarm(10); /* a serve that got past its checks would wait forever */
        fn();
        exit(0);
    }
    int st = 0;
    waitpid(pid, &st, 0);
    return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}
static void reg_twice(void) {
    g_reg = mcp_server_new("reg", "1");
    mcp_tool(g_reg, "x", NULL, "", h_add);
    mcp_tool(g_reg, "x", NULL, "", h_add);
}
static void reg_no_handler(void) {
    g_reg = mcp_server_new("reg", "1");
    mcp_tool(g_reg, "x", NULL, "", NULL);
}
static void reg_no_name(void) {
    g_reg = mcp_server_new("reg", "1");
    mcp_tool(g_reg, "", NULL, "", h_add);
}
static void reg_bad(void) { /* registering is fine: the schema is parsed when first needed */
    g_reg = mcp_server_new("reg", "1");
    mcp_tool(g_reg, "ok", NULL, "", h_add);
    mcp_tool(g_reg, "x", NULL, "a:float", h_add);
    mcp_tool(g_reg, "y", NULL, "{\"type\":", h_add);
}
static void run_stdio_bad(void) {
    reg_bad();
    exit(stdio_main(g_reg));
}
static void run_call_bad(void) {
    reg_bad();
    char *argv[] = {"reg", "call", "ok", "{}", NULL};
    exit(mcp_main(g_reg, 4, argv));
}
static void run_serve_bad(void) {
    reg_bad();
    char *argv[] = {"reg", "serve", "--listen", "127.0.0.1:0", NULL};
    exit(mcp_main(g_reg, 4, argv));
}
static void run_call_good(void) {
    g_reg = mcp_server_new("reg", "1");
    mcp_tool(g_reg, "ok", NULL, "", h_add);
    char *argv[] = {"reg", "call", "ok", "{}", NULL};
    exit(mcp_main(g_reg, 4, argv));
}

static mcp_server *g_bad;

static void test_registration(void) {
    T_EQ_INT("registering a tool name twice exits 2", child_exit(reg_twice), 2);
    T_EQ_INT("registering a tool without a handler exits 2", child_exit(reg_no_handler), 2);
    T_EQ_INT("registering a tool without a name exits 2", child_exit(reg_no_name), 2);
    T_EQ_INT("registering bad schemas does not abort (they are parsed when first needed)", child_exit(reg_bad), 0);
    T_EQ_INT("stdio checks every schema at start and exits 2", child_exit(run_stdio_bad), 2);
    T_EQ_INT("serve checks every schema at start and exits 2", child_exit(run_serve_bad), 2);
    T_EQ_INT("call checks every schema at start and exits 2", child_exit(run_call_bad), 2);
    T_EQ_INT("call with good schemas exits 0", child_exit(run_call_good), 0);
    /* where nothing is checked at start (Lambda), the bad schema fails tools/list and its tool */
    g_bad = mcp_server_new("bad", "1");
    mcp_tool(g_bad, "ok", NULL, "", h_add);
    mcp_tool(g_bad, "typo", NULL, "a:float", h_add);
    mcp_tool(g_bad, "broken", NULL, "{\"type\":", h_add);
    sess_t ss = open_session(g_bad, E25c, NULL);
    check("tools/list with a bad schema: -32603", spost(g_bad, ss, Q("{'jsonrpc':'2.0','id':1,'method':'tools/list'}")), 200, JSON,
          err_body(1, -32603, "tool typo: the compact input schema has an unknown type"));
    check("tools/call on a tool with a bad compact schema: -32603 naming the problem", spost(g_bad, ss, call_body(2, "typo", "{}")), 200, JSON,
          err_body(2, -32603, "tool typo: the compact input schema has an unknown type"));
    check("tools/call on a tool whose JSON schema does not parse: -32603", spost(g_bad, ss, call_body(3, "broken", "{}")), 200, JSON,
          err_body(3, -32603, "tool broken: the input schema is not a JSON object"));
    check("tools/call on the good tool still works", spost(g_bad, ss, call_body(4, "ok", "{}")), 200, JSON,
          ok_body(4, "{'content':[{'type':'text','text':'0'}]}"));
    free(ss.sid);
}

/* ---- HTTP/1.1 framing (RFC 9112) ---- */

/* "LEN METHOD PATH QUERY clen=N chunked=N close=N nh=N", or the negative status */
static void head_is(const char *name, const char *text, const char *want) {
    http_msg m;
    long r = http_parse_head(text, strlen(text), &m, 0);
    char got[256];
    if (r <= 0) snprintf(got, sizeof got, "%ld", r);
    else snprintf(got, sizeof got, "%ld %.*s %.*s %.*s clen=%lld chunked=%d close=%d nh=%d", r, (int)m.method.n, m.method.p,
                  (int)m.path.n, m.path.p, (int)m.query.n, m.query.p ? m.query.p : "", m.clen, m.chunked, m.close, m.nh);
    T_EQ_STR(name, got, want);
}
static void dechunk_is(const char *name, const char *text, const char *want) {
    char b[256];
    snprintf(b, sizeof b, "%s", text);
    size_t ol = 0;
    long r = http_dechunk(b, strlen(b), &ol, 64, NULL);
    char got[300];
    if (r > 0) snprintf(got, sizeof got, "%ld '%.*s'", r, (int)ol, b);
    else snprintf(got, sizeof got, "%ld", r);
    T_EQ_STR(name, got, want);
}

static void test_http_framing(void) {
    head_is("head: request line and a header", "GET /mcp HTTP/1.1\r\nHost: a\r\n\r\n", "30 GET /mcp  clen=-1 chunked=0 close=0 nh=1");
    head_is("head: query split from the path", "POST /a/b?x=1&y HTTP/1.1\r\n\r\n", "28 POST /a/b x=1&y clen=-1 chunked=0 close=0 nh=0");
    head_is("head: incomplete is 0", "GET / HTTP/1.1\r\nHost: a\r\n", "0");
    head_is("head: HTTP/1.0 closes by default", "GET / HTTP/1.0\r\n\r\n", "18 GET /  clen=-1 chunked=0 close=1 nh=0");
    head_is("head: HTTP/1.0 with keep-alive", "GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n", "42 GET /  clen=-1 chunked=0 close=0 nh=1");
    head_is("head: Connection close", "GET / HTTP/1.1\r\nConnection: close\r\n\r\n", "37 GET /  clen=-1 chunked=0 close=1 nh=1");
    head_is("head: one empty line before the request line is ignored", "\r\nGET / HTTP/1.1\r\n\r\n", "20 GET /  clen=-1 chunked=0 close=0 nh=0");
    head_is("head: two empty lines before the request line are ignored", "\r\n\r\nGET / HTTP/1.1\r\n\r\n", "22 GET /  clen=-1 chunked=0 close=0 nh=0");
    head_is("head: equal Content-Lengths accepted", "POST / HTTP/1.1\r\nContent-Length: 5\r\ncontent-length: 5\r\n\r\n",
            "57 POST /  clen=5 chunked=0 close=0 nh=2");
    head_is("head: conflicting Content-Lengths: 400", "POST / HTTP/1.1\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\n", "-400");
    head_is("head: Content-Length and chunked: 400", "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\nContent-Length: 6\r\n\r\n", "-400");
    head_is("head: negative Content-Length: 400", "POST / HTTP/1.1\r\nContent-Length: -1\r\n\r\n", "-400");
    head_is("head: empty Content-Length: 400", "POST / HTTP/1.1\r\nContent-Length:\r\n\r\n", "-400");
    head_is("head: overflowing Content-Length: 400", "POST / HTTP/1.1\r\nContent-Length: 99999999999999999999\r\n\r\n", "-400");
    head_is("head: chunked, any case", "POST / HTTP/1.1\r\nTransfer-Encoding: Chunked\r\n\r\n", "47 POST /  clen=-1 chunked=1 close=0 nh=1");
    head_is("head: another transfer coding: 501", "POST / HTTP/1.1\r\nTransfer-Encoding: gzip, chunked\r\n\r\n", "-501");
    head_is("head: space before the colon: 400", "GET / HTTP/1.1\r\nHost : a\r\n\r\n", "-400");
    head_is("head: obs-fold: 400", "GET / HTTP/1.1\r\nX: a\r\n b\r\n\r\n", "-400");
    head_is("head: bare CR in a value: 400", "GET / HTTP/1.1\r\nX: a\rb\r\n\r\n", "-400");
    head_is("head: bare LF in a value: 400", "GET / HTTP/1.1\r\nX: a\nb\r\n\r\n", "-400");
    head_is("head: control character in the method: 400", "G\x01T / HTTP/1.1\r\n\r\n", "-400");
    head_is("head: two spaces after the method: 400", "GET  / HTTP/1.1\r\n\r\n", "-400");
    head_is("head: HTTP/2.0: 505", "GET / HTTP/2.0\r\n\r\n", "-505");
    head_is("head: not HTTP: 400", "GET / FTP/1.1\r\n\r\n", "-400");
    dechunk_is("chunked: one chunk", "5\r\nhello\r\n0\r\n\r\n", "15 'hello'");
    dechunk_is("chunked: two chunks, hex size in capitals", "5\r\nhello\r\nB\r\n, big world\r\n0\r\n\r\n", "31 'hello, big world'");
    dechunk_is("chunked: extensions and trailers skipped", "5;ext=1\r\nhello\r\n0\r\nTrailer: x\r\n\r\n", "33 'hello'");
    dechunk_is("chunked: empty body", "0\r\n\r\n", "5 ''");
    dechunk_is("chunked: incomplete is 0", "5\r\nhel", "0");
    dechunk_is("chunked: final CRLF missing is 0", "0\r\n", "0");
    dechunk_is("chunked: bare LF after the size: -1", "5\nhello\r\n0\r\n\r\n", "-1");
    dechunk_is("chunked: data longer than the size: -1", "5\r\nhelloXX0\r\n\r\n", "-1");
    dechunk_is("chunked: no size: -1", "\r\n5\r\nhello\r\n0\r\n\r\n", "-1");
    dechunk_is("chunked: a size that overflows: -1", "fffffffffffffffffffff\r\n", "-1");
    dechunk_is("chunked: over the limit: -2", "41\r\n", "-2");
    dechunk_is("chunked: at the limit", "40\r\n", "0");
    dechunk_is("chunked: a size of 0x5 is not a size of 0 with an extension: -1", "0x5\r\nhello\r\n0\r\n\r\n", "-1");
    dechunk_is("chunked: a trailer ending in a bare LF: -1", "0\r\nX: 1\n\r\n", "-1");
    /* the bounds: a chunk-size line of CHUNK_LINE_MAX, trailers of MCP_MAX_HEAD */
    size_t big = MCP_MAX_HEAD + 64;
    char *b = malloc(big + 16);
    size_t ol;
    memset(b, 'x', big); memcpy(b, "1;", 2);
    T_EQ_INT("chunked: extensions past CHUNK_LINE_MAX without their CRLF: -3", http_dechunk(b, CHUNK_LINE_MAX + 2, &ol, 1 << 20, NULL), -3);
    memcpy(b + CHUNK_LINE_MAX + 2, "\r\n", 2);
    T_EQ_INT("chunked: a size line past CHUNK_LINE_MAX with its CRLF: -3", http_dechunk(b, CHUNK_LINE_MAX + 4, &ol, 1 << 20, NULL), -3);
    memset(b, 'x', big); memcpy(b, "0\r\nX-A: ", 8);
    T_EQ_INT("chunked: an unfinished trailer line past MCP_MAX_HEAD: -4", http_dechunk(b, big, &ol, 1 << 20, NULL), -4);
    memcpy(b, "0\r\n", 3);
    for (size_t i = 3; i + 8 < big; i += 8) memcpy(b + i, "X-A: 1\r\n", 8);
    T_EQ_INT("chunked: trailer lines past MCP_MAX_HEAD: -4", http_dechunk(b, big - big % 8, &ol, 1 << 20, NULL), -4);
    /* a body checked in pieces: what was whole is not scanned again, and the result is the same */
    const char *whole = "5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n";
    dechunk_state st = {0, 0};
    memcpy(b, whole, strlen(whole) + 1);
    T_EQ_INT("chunked in pieces: the first 14 bytes want more", http_dechunk(b, 14, &ol, 64, &st), 0);
    T_EQ_INT("... the first chunk is remembered as checked", (long long)st.r, 10);
    long used = http_dechunk(b, strlen(whole), &ol, 64, &st);
    T_EQ_INT("... then the whole body: all of it consumed", used, (long long)strlen(whole));
    T_EQ_STR("... and decoded", (b[ol] = 0, b), "hello world");
    free(b);
}

/* Strict base64 (Lambda bodies, Mcp-Param headers) and S3 bucket names. */
static void test_b64_and_buckets(void) {
    unsigned char o[16];
    T_EQ_INT("base64: whole quads", b64_strict("aGVsbG8h", 8, o), 6);
    T_EQ_INT("base64: one pad", b64_strict("aGVsbG8=", 8, o), 5);
    T_OK("... decoded", !memcmp(o, "hello", 5));
    T_EQ_INT("base64: two pads", b64_strict("aGk=", 4, o) , 2);
    T_EQ_INT("base64: a length that is not whole quads: -1", b64_strict("aGk", 3, o), -1);
    T_EQ_INT("base64: '=' inside: -1", b64_strict("aG=k", 4, o), -1);
    T_EQ_INT("base64: three pads: -1", b64_strict("a===", 4, o), -1);
    T_EQ_INT("base64: the url alphabet is not base64: -1", b64_strict("a-_k", 4, o), -1);
    T_EQ_INT("base64: empty", b64_strict("", 0, o), 0);
    static const char *const good[] = {"abc", "my-bucket.example-1", "0.0.0.0"};
    static const char *const bad[] = {"ab", "Bad_Bucket", "localhost:80", "-abc", "abc-", "a/b", "user@host",
                                      "x234567890123456789012345678901234567890123456789012345678901234"};
    for (size_t i = 0; i < COUNT(good); i++) T_OK(NAME("S3 bucket name %s accepted", good[i]), s3_bucket_ok(good[i]));
    for (size_t i = 0; i < COUNT(bad); i++) T_OK(NAME("S3 bucket name %s refused", bad[i]), !s3_bucket_ok(bad[i]));
    char err[200];
    mcp_http_response rs;
    T_EQ_INT("mcp_s3_put refuses a bad bucket before any connection", mcp_s3_put("localhost:1", "k", NULL, "x", 1, &rs), -1);
    T_EQ_STR("... saying why", rs.error, S3_BAD_BUCKET);
    T_EQ_INT("mcp_s3_list likewise", mcp_s3_list("a/b", NULL, 0, NULL, NULL, err, sizeof err), -1);
    T_EQ_STR("... saying why", err, S3_BAD_BUCKET);
}

/* ---- AWS calls: endpoints, protocols, tracing ---- */

/* A listener that takes one request, keeps its head and body, and answers it. */
typedef struct { int fd; char req[8192]; const char *answer; } one_req;
static void *one_req_run(void *arg) {
    one_req *o = arg;
    int c = accept(o->fd, NULL, NULL);
    if (c < 0) return NULL;
    size_t n = 0;
    ssize_t r;
    while (n < sizeof o->req - 1 && (r = read(c, o->req + n, sizeof o->req - 1 - n)) > 0) {
        n += (size_t)r;
        o->req[n] = 0;
        const char *e = strstr(o->req, "\r\n\r\n"), *cl = strstr(o->req, "Content-Length: ");
        if (e && (size_t)(e + 4 - o->req) + (cl ? strtoul(cl + 16, NULL, 10) : 0) <= n) break;
    }
    if (write(c, o->answer, strlen(o->answer)) < 0) { /* the test sees it */ }
    close(c);
    return NULL;
}

static void test_aws_calls(void) {
    buf u = {0};
    int custom;
    setenv("AWS_REGION", "us-west-2", 1);
    setenv("AWS_ENDPOINT_URL_SECRETS_MANAGER", "http://127.0.0.1:1/", 1);
    setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:2", 1);
    aws_service sv = aws_service_find("secretsmanager");
    aws_endpoint(&sv, &u, &custom);
    T_EQ_STR("endpoint: AWS_ENDPOINT_URL_<SERVICE_ID> with the SDKs' ID (SECRETS_MANAGER), no trailing slash", u.p, "http://127.0.0.1:1");
    u.len = 0;
    sv = aws_service_find("dynamodb");
    aws_endpoint(&sv, &u, &custom);
    T_EQ_STR("endpoint: AWS_ENDPOINT_URL for a service without its own", u.p, "http://127.0.0.1:2");
    setenv("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS", "true", 1);
    u.len = 0;
    sv = aws_service_find("secretsmanager");
    aws_endpoint(&sv, &u, &custom);
    T_EQ_STR("endpoint: AWS_IGNORE_CONFIGURED_ENDPOINT_URLS=true ignores both", u.p, "https://secretsmanager.us-west-2.amazonaws.com");
    unsetenv("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS");
    unsetenv("AWS_ENDPOINT_URL");
    u.len = 0;
    sv = aws_service_find("bedrock-runtime");
    aws_endpoint(&sv, &u, &custom);
    T_EQ_STR("endpoint: bedrock-runtime by default", u.p, "https://bedrock-runtime.us-west-2.amazonaws.com");
    T_EQ_STR("... signed as bedrock", sv.signing, "bedrock");
    buf_free(&u);
    mcp_http_response rs;
    T_EQ_INT("mcp_aws_json refuses a rest-json service", mcp_aws_json("lambda", "X.Y", "{}", &rs), -1);
    T_EQ_STR("... naming the call to use", rs.error, "lambda speaks rest-json, not the JSON protocol: call it with mcp_aws_rest");

    /* one call during an invocation: JSON 1.0 for SQS, the trace header signed */
    one_req o;
    memset(&o, 0, sizeof o);
    o.answer = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\n{}";
    struct sockaddr_in sa = {0};
    sa.sin_family = AF_INET;
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t sl = sizeof sa;
    o.fd = socket(AF_INET, SOCK_STREAM, 0);
    T_OK("a listener for the call", o.fd >= 0 && !bind(o.fd, (struct sockaddr *)&sa, sizeof sa) && !listen(o.fd, 1) &&
                                   !getsockname(o.fd, (struct sockaddr *)&sa, &sl));
    char url[64];
    snprintf(url, sizeof url, "http://127.0.0.1:%d", ntohs(sa.sin_port));
    setenv("AWS_ENDPOINT_URL_SQS", url, 1);
    setenv("AWS_ACCESS_KEY_ID", "AKIDEXAMPLE", 1);
    setenv("AWS_SECRET_ACCESS_KEY", "secret", 1);
    pthread_t th;
    pthread_create(&th, NULL, one_req_run, &o);
    invocation inv;
    memset(&inv, 0, sizeof inv);
    snprintf(inv.trace, sizeof inv.trace, "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1");
    req r;
    req_init(&r, g_srv);
    r.inv = &inv;
    req *saved = cur_req;
    cur_req = &r;
    int rc = mcp_aws_json("sqs", "AmazonSQS.SendMessage", "{\"QueueUrl\":\"q\"}", &rs);
    cur_req = saved;
    pthread_join(th, NULL);
    close(o.fd);
    T_EQ_INT("sqs SendMessage answered 200", rc == 0 ? rs.status : -1, 200);
    T_OK("... sent as JSON 1.0 with its target", strstr(o.req, "Content-Type: application/x-amz-json-1.0\r\nX-Amz-Target: AmazonSQS.SendMessage\r\n") != NULL);
    T_OK("... carrying the invocation's X-Amzn-Trace-Id",
         strstr(o.req, "\r\nX-Amzn-Trace-Id: Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1\r\n") != NULL);
    T_OK("... signed with it", strstr(o.req, "SignedHeaders=content-type;host;x-amz-date;x-amz-target;x-amzn-trace-id,") != NULL);
    mcp_http_free(&rs);
    req_free(&r);
    unsetenv("AWS_ENDPOINT_URL_SQS");
    unsetenv("AWS_ENDPOINT_URL_SECRETS_MANAGER");
    unsetenv("AWS_ACCESS_KEY_ID");
    unsetenv("AWS_SECRET_ACCESS_KEY");
}

/* A listener that serves scripted answers on kept-alive connections, keeping each request's
 * X-Amz-Target and body: what start-up sends to resolve ssm: and secretsmanager: values. */
typedef struct { int fd, n, conns; const char *answers[4]; char target[4][64], body[4][2048]; } aws_script;
static void *aws_script_run(void *arg) {
    aws_script *o = arg;
    while (o->n < 4 && o->answers[o->n]) {
        int c = accept(o->fd, NULL, NULL);
        if (c < 0) return NULL;
        o->conns++;
        char rq[8192];
        size_t n = 0;
        ssize_t r = 1;
        while (o->n < 4 && o->answers[o->n] && r > 0) {
            const char *e = n ? strstr(rq, "\r\n\r\n") : NULL, *cl = n ? strstr(rq, "Content-Length: ") : NULL;
            size_t len = e ? (size_t)(e + 4 - rq) + (cl ? strtoul(cl + 16, NULL, 10) : 0) : 0;
            if (e && len <= n) { /* one whole request */
                const char *t = strstr(rq, "X-Amz-Target: ");
                snprintf(o->target[o->n], sizeof o->target[0], "%.*s", t ? (int)strcspn(t + 14, "\r") : 0, t ? t + 14 : "");
                snprintf(o->body[o->n], sizeof o->body[0], "%.*s", (int)(len - (size_t)(e + 4 - rq)), e + 4);
                const char *a = o->answers[o->n++];
                char head[160];
                int hn = snprintf(head, sizeof head, "HTTP/1.1 %.3s OK\r\nContent-Type: application/x-amz-json-1.1\r\nContent-Length: %zu\r\n\r\n",
                                  a, strlen(a + 4));
                if (write(c, head, (size_t)hn) < 0 || write(c, a + 4, strlen(a + 4)) < 0) break;
                memmove(rq, rq + len, n - len);
                n -= len;
                rq[n] = 0;
                continue;
            }
            r = read(c, rq + n, sizeof rq - 1 - n);
            if (r > 0) { n += (size_t)r; rq[n] = 0; }
        }
        close(c);
    }
    return NULL;
}

/* config_resolve against aws_script: the answers ("STATUS BODY"), the variables set before,
 * err afterwards; returns config_resolve's result. */
static int resolve_with(aws_script *o, char *err, size_t errn) {
    struct sockaddr_in sa;
    memset(&sa, 0, sizeof sa);
    sa.sin_family = AF_INET;
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t sl = sizeof sa;
    o->fd = socket(AF_INET, SOCK_STREAM, 0);
    if (o->fd < 0 || bind(o->fd, (struct sockaddr *)&sa, sizeof sa) || listen(o->fd, 4) || getsockname(o->fd, (struct sockaddr *)&sa, &sl))
        return -2;
    char url[64];
    snprintf(url, sizeof url, "http://127.0.0.1:%d", ntohs(sa.sin_port));
    setenv("AWS_ENDPOINT_URL", url, 1);
    pthread_t th;
    pthread_create(&th, NULL, aws_script_run, o);
    err[0] = 0;
    int rc = config_resolve(err, errn);
    shutdown(o->fd, SHUT_RDWR);
    close(o->fd);
    pthread_join(th, NULL);
    unsetenv("AWS_ENDPOINT_URL");
    return rc;
}

/* Start-up references: parameters and secrets by name in one GetParameters (secrets as
 * /aws/reference/secretsmanager/NAME), ten names a call, the other secret forms and refused
 * batches through GetSecretValue. */
static void test_config_resolve(void) {
    char err[700];
    T_OK("iso8601_epoch: 2026-12-03T13:00:00Z", iso8601_epoch("2026-12-03T13:00:00Z") == 1796302800);
    T_OK("iso8601_epoch: fractional seconds and an offset after them are ignored", iso8601_epoch("1970-01-02T00:00:01.5+00:00") == 86401);
    T_OK("iso8601_epoch: a date alone, a space for T, NULL: 0",
         !iso8601_epoch("2026-12-03") && !iso8601_epoch("2026-12-03 13:00:00Z") && !iso8601_epoch(NULL));
    setenv("AWS_REGION", "us-east-1", 1);
    setenv("AWS_ACCESS_KEY_ID", "AKIDEXAMPLE", 1);
    setenv("AWS_SECRET_ACCESS_KEY", "secret", 1);
    setenv("AWS_MAX_ATTEMPTS", "1", 1);
    unsetenv("AWS_ENDPOINT_URL_SSM");
    unsetenv("AWS_ENDPOINT_URL_SECRETS_MANAGER");
    setenv("T_A", "ssm:/app/a", 1);
    setenv("T_B", "ssm:/app/b:3", 1);
    setenv("T_C", "secretsmanager:app/db#port", 1);
    aws_script o = {.answers = {"200 {\"Parameters\":[{\"Name\":\"/app/a\",\"Value\":\"va\",\"Version\":1},"
                                "{\"Name\":\"/app/b\",\"Selector\":\":3\",\"Value\":\"vb3\",\"Version\":3},"
                                "{\"Name\":\"/aws/reference/secretsmanager/app/db\",\"Value\":\"{\\\"port\\\":5432}\",\"SourceResult\":\"{}\"}],"
                                "\"InvalidParameters\":[]}"}};
    T_EQ_INT("two parameters and a secret's key resolve", resolve_with(&o, err, sizeof err), 0);
    T_EQ_STR("... T_A", getenv("T_A"), "va");
    T_EQ_STR("... T_B (a version selector)", getenv("T_B"), "vb3");
    T_EQ_STR("... T_C (the key port of the secret)", getenv("T_C"), "5432");
    T_EQ_INT("... in one request on one connection", o.n * 10 + o.conns, 11);
    T_EQ_STR("... a GetParameters", o.target[0], "AmazonSSM.GetParameters");
    char *names = strstr(o.body[0], "\"Names\":");
    T_OK("... asking for the secret as a Parameter Store reference, decrypted",
         names && strstr(names, "\"/aws/reference/secretsmanager/app/db\"") && strstr(o.body[0], "\"WithDecryption\":true") &&
         strstr(names, "\"/app/a\"") && strstr(names, "\"/app/b:3\""));
    unsetenv("T_A"); unsetenv("T_B"); unsetenv("T_C");

    char var[8], val[16];
    for (int i = 0; i < 11; i++) { snprintf(var, sizeof var, "T_%02d", i); snprintf(val, sizeof val, "ssm:/p/%d", i); setenv(var, val, 1); }
    aws_script o2 = {.answers = {"200 {\"Parameters\":[{\"Name\":\"/p/0\",\"Value\":\"0\"},{\"Name\":\"/p/1\",\"Value\":\"1\"},"
                                 "{\"Name\":\"/p/2\",\"Value\":\"2\"},{\"Name\":\"/p/3\",\"Value\":\"3\"},{\"Name\":\"/p/4\",\"Value\":\"4\"},"
                                 "{\"Name\":\"/p/5\",\"Value\":\"5\"},{\"Name\":\"/p/6\",\"Value\":\"6\"},{\"Name\":\"/p/7\",\"Value\":\"7\"},"
                                 "{\"Name\":\"/p/8\",\"Value\":\"8\"},{\"Name\":\"/p/9\",\"Value\":\"9\"},{\"Name\":\"/p/10\",\"Value\":\"10\"}]}",
                                 "200 {\"Parameters\":[{\"Name\":\"/p/0\",\"Value\":\"0\"},{\"Name\":\"/p/1\",\"Value\":\"1\"},"
                                 "{\"Name\":\"/p/2\",\"Value\":\"2\"},{\"Name\":\"/p/3\",\"Value\":\"3\"},{\"Name\":\"/p/4\",\"Value\":\"4\"},"
                                 "{\"Name\":\"/p/5\",\"Value\":\"5\"},{\"Name\":\"/p/6\",\"Value\":\"6\"},{\"Name\":\"/p/7\",\"Value\":\"7\"},"
                                 "{\"Name\":\"/p/8\",\"Value\":\"8\"},{\"Name\":\"/p/9\",\"Value\":\"9\"},{\"Name\":\"/p/10\",\"Value\":\"10\"}]}"}};
    T_EQ_INT("eleven parameters resolve", resolve_with(&o2, err, sizeof err), 0);
    int names0 = 0, names1 = 0;
    for (const char *p = o2.body[0]; (p = strstr(p, "\"/p/")); p++) names0++;
    for (const char *p = o2.body[1]; (p = strstr(p, "\"/p/")); p++) names1++;
    T_EQ_INT("... in two GetParameters of ten and one, on one connection", names0 * 100 + names1 * 10 + o2.conns, 1011);
    T_EQ_STR("... T_10", getenv("T_10"), "10");
    for (int i = 0; i < 11; i++) { snprintf(var, sizeof var, "T_%02d", i); unsetenv(var); }

    setenv("T_A", "ssm:/app/a", 1);
    setenv("T_C", "secretsmanager:app/db#port", 1);
    setenv("T_D", "secretsmanager:app/db?versionStage=AWSPREVIOUS", 1);
    aws_script o3 = {.answers = {"400 {\"__type\":\"AccessDeniedException\",\"message\":\"no ssm:GetParameters on /aws/reference\"}",
                                 "200 {\"Parameters\":[{\"Name\":\"/app/a\",\"Value\":\"va\"}]}",
                                 "200 {\"SecretString\":\"{\\\"port\\\":1}\"}",
                                 "200 {\"SecretString\":\"old\"}"}};
    T_EQ_INT("Parameter Store refuses the reference: the secrets come from GetSecretValue", resolve_with(&o3, err, sizeof err), 0);
    T_EQ_STR("... T_A", getenv("T_A"), "va");
    T_EQ_STR("... T_C", getenv("T_C"), "1");
    T_EQ_STR("... T_D (versionStage, never through Parameter Store)", getenv("T_D"), "old");
    T_OK("... GetParameters with the secret, then without it, then GetSecretValue twice",
         !strcmp(o3.target[0], "AmazonSSM.GetParameters") && strstr(o3.body[0], "/aws/reference/secretsmanager/app/db") &&
         !strcmp(o3.target[1], "AmazonSSM.GetParameters") && !strstr(o3.body[1], "/aws/reference/") &&
         !strcmp(o3.target[2], "secretsmanager.GetSecretValue") && !strcmp(o3.target[3], "secretsmanager.GetSecretValue"));
    T_OK("... the versionStage asked of Secrets Manager",
         strstr(o3.body[2], "\"VersionStage\":\"AWSPREVIOUS\"") || strstr(o3.body[3], "\"VersionStage\":\"AWSPREVIOUS\""));
    unsetenv("T_A"); unsetenv("T_C"); unsetenv("T_D");

    setenv("T_C", "secretsmanager:app/db#user", 1);
    aws_script o4 = {.answers = {"200 {\"Parameters\":[{\"Name\":\"/aws/reference/secretsmanager/app/db\",\"Value\":\"{\\\"port\\\":1}\",\"SourceResult\":\"{}\"}]}"}};
    T_EQ_INT("a key the secret lacks stops start-up", resolve_with(&o4, err, sizeof err), -1);
    T_EQ_STR("... naming the variable and reference", err,
             "T_C=secretsmanager:app/db#user: secretsmanager: secret app/db has no key user (or it is null)");
    setenv("T_A", "ssm:/app/a", 1);
    setenv("T_C", "secretsmanager:app/db", 1);
    aws_script o5 = {.answers = {"200 {\"Parameters\":[{\"Name\":\"/app/db\",\"Value\":\"not-the-secret\"}],\"InvalidParameters\":[\"/app/a\"]}"}};
    T_EQ_INT("a parameter named like the secret is not taken for it, and a missing one stops start-up", resolve_with(&o5, err, sizeof err), -1);
    T_EQ_STR("... naming it", err, "T_A=ssm:/app/a: ssm: ParameterNotFound: the parameter does not exist or is not readable");
    unsetenv("T_A"); unsetenv("T_C");
    unsetenv("AWS_MAX_ATTEMPTS");
    unsetenv("AWS_ACCESS_KEY_ID");
    unsetenv("AWS_SECRET_ACCESS_KEY");
}

/* ---- extra routes ---- */

#if BLK_CACHE_N
/* A thread's cached block is tied to the key whose destructor gives it back at exit. */
static void *blk_thread(void *arg) {
    buf b = {0};
    buf_puts(&b, "x");
    buf_free(&b);
    *(int *)arg = blk_cache.n == 1 && pthread_getspecific(blk_key) == (void *)&blk_cache;
    return NULL;
}
#endif

/* The helpers the warm path leans on: case-folded and plain comparisons a word at a time,
 * cat3's truncation, and the per-thread block cache buffers and documents share. */
static void test_fast_helpers(void) {
    slice a = {"Content-Length", 14};
    T_OK("sl_ieq: any case", sl_ieq(a, "content-length") && sl_ieq(a, "CONTENT-LENGTH"));
    T_OK("sl_ieq: one byte differs after the first word", !sl_ieq(a, "content-lengtx"));
    T_OK("sl_ieq: lengths differ", !sl_ieq(a, "content-len"));
    slice odd = {"\r@[`{", 5}; /* bytes next to the letters fold to themselves only */
    T_OK("sl_ieq: @[`{ are not letters", sl_ieq(odd, "\r@[`{") && !sl_ieq(odd, "\r`{@[") && !sl_ieq(odd, "\r@{`["));
    slice hi = {"\xc1" "BCDEFGHIJ", 10};
    T_OK("sl_ieq: a byte with the high bit is not folded", !sl_ieq(hi, "\xe1" "bcdefghij") && sl_ieq(hi, "\xc1" "bcdefghij"));
    slice acc = {"text/html, Application/JSON;q=0.9, text/event-stream", 52};
    T_OK("sl_icontains: found in any case", sl_icontains(acc, "application/json") && sl_icontains(acc, "TEXT/EVENT-STREAM"));
    T_OK("sl_icontains: absent", !sl_icontains(acc, "application/xml") && !sl_icontains(acc, "text/event-streams"));
    T_OK("sl_eq", sl_eq(a, "Content-Length") && !sl_eq(a, "content-length"));
    T_OK("mem_eq: every length up to 17", mem_eq("abcdefghijklmnopq", "abcdefghijklmnopq", 17) && !mem_eq("abcdefghijklmnopq", "abcdefghijklmnopX", 17)
         && !mem_eq("abcdefghX", "abcdefghY", 9) && mem_eq("", "x", 0));
    char d[8];
    cat3(d, sizeof d, "ab", "cdef", "ghij");
    T_EQ_STR("cat3: cut to the room", d, "abcdefg");
    cat3(d, sizeof d, "", "x", "");
    T_EQ_STR("cat3: short", d, "x");
#if BLK_CACHE_N
    blk_cache_drop();
    buf b1 = {0};
    buf_puts(&b1, "hello");
    char *p1 = b1.p;
    size_t cap1 = b1.cap;
    buf_free(&b1);
    T_EQ_INT("blk: a freed buffer's block is kept", blk_cache.n, 1);
    buf b2 = {0};
    buf_putc(&b2, 'x');
    T_OK("blk: the next buffer takes it, whole", b2.p == p1 && b2.cap == cap1 && !strcmp(b2.p, "x"));
    T_EQ_INT("blk: taken", blk_cache.n, 0);
    buf_free(&b2);
    buf big = {0};
    char *junk = malloc(BLK_CACHE_MAX * 2);
    memset(junk, 'j', BLK_CACHE_MAX * 2);
    buf_put(&big, junk, BLK_CACHE_MAX * 2);
    free(junk);
    buf_free(&big);
    T_EQ_INT("blk: a large block is freed, not kept", blk_cache.n, 1);
    buf many[BLK_CACHE_N + 2];
    memset(many, 0, sizeof many);
    char fill[600];
    memset(fill, 'y', sizeof fill);
    for (int i = 0; i < BLK_CACHE_N + 2; i++) buf_put(&many[i], fill, sizeof fill); /* 1024-byte blocks */
    for (int i = 0; i < BLK_CACHE_N + 2; i++) buf_free(&many[i]);
    T_EQ_INT("blk: at most BLK_CACHE_N kept", blk_cache.n, BLK_CACHE_N);
    mcp_json_err e;
    char txt[] = "{\"a\":[1,2,{\"b\":\"c\"}]}";
    mcp_json_doc *doc = json_parse_inplace(txt, strlen(txt), 0, &e);
    T_EQ_INT("blk: a document takes a cached block", blk_cache.n, BLK_CACHE_N - 1);
    T_EQ_STR("blk: and parses in it", mcp_json_str(mcp_json_get(mcp_json_at(mcp_json_get(mcp_json_root(doc), "a"), 2), "b")), "c");
    mcp_json_free(doc);
    T_EQ_INT("blk: and gives it back", blk_cache.n, BLK_CACHE_N);
    blk_cache_drop();
    T_EQ_INT("blk: dropped", blk_cache.n, 0);
    buf large = {0};
    for (int i = 0; i < 8; i++) buf_put(&large, fill, sizeof fill); /* 4,800 bytes: an 8 KB block */
    T_EQ_INT("blk: 4,800 bytes take an 8 KB block", large.cap, 8192);
    buf_free(&large);
    buf tiny = {0};
    buf_putc(&tiny, 'z');
    T_OK("blk: an 8 KB block is not given to a 2-byte buffer", tiny.cap == 256 && blk_cache.n == 1);
    buf_free(&tiny);
    blk_cache_drop();
    int keyed = 0;
    pthread_t th;
    pthread_create(&th, NULL, blk_thread, &keyed);
    pthread_join(th, NULL);
    T_OK("blk: a thread's cache is tied to the key that empties it at exit", keyed);
#endif
}

static void test_routes(void) {
    check("POST /tools/add: the result as JSON", route_req(g_srv, "POST", "/tools/add", "Content-Type: application/json\n", Q("{'a':2,'b':5}"), 0),
          200, JSON, Q("{'content':[{'type':'text','text':'7'}]}"));
    check("POST /tools/proto with no body", route_req(g_srv, "POST", "/tools/proto", "", "", 0), 200, JSON,
          Q("{'content':[{'type':'text','text':'2025-11-25'}]}"));
    check("POST /tools/nope: 404", route_req(g_srv, "POST", "/tools/nope", "", "{}", 0), 404, JSON,
          Q("{'error':'Not Found: no tool named nope'}"));
    check("POST /tools/add with an array: 400", route_req(g_srv, "POST", "/tools/add", "", "[1]", 0), 400, JSON,
          Q("{'error':'Bad Request: the body must be a JSON object of arguments'}"));
    check("POST /tools/add with bad JSON: 400", route_req(g_srv, "POST", "/tools/add", "", "{", 0), 400, JSON,
          Q("{'error':'Bad Request: the body is not JSON: unexpected end of input at byte 1'}"));
    check("GET /tools/add: 405", route_req(g_srv, "GET", "/tools/add", "", "", 0), 405, JSON,
          Q("{'error':'Method Not Allowed: call a tool with POST'}"));
    check("POST /tools/add with invalid arguments: an isError result",
          route_req(g_srv, "POST", "/tools/add", "", Q("{'a':'x','b':1}"), 0), 200, JSON,
          Q("{'content':[{'type':'text','text':'Invalid arguments for tool add: a: expected number, got string'}],'isError':true}"));
    resp r = route_req(g_srv, "OPTIONS", "/mcp", "", "", 0);
    T_EQ_STR("OPTIONS: Allow header", r.head, "Allow: GET, POST, DELETE, OPTIONS\r\n");
    check("OPTIONS: 204", r, 204, NULL, "");
    const char *ping = Q("{'jsonrpc':'2.0','id':1,'method':'ping'}");
    check("path / is the endpoint when not local", route_req(g_srv, "POST", "/", HJ, ping, 0), 400, JSON,
          err_null(-32600, "Bad Request: Mcp-Session-Id header is required"));
    check("path / is not the endpoint when local", route_req(g_srv, "POST", "/", HJ "Host: localhost\n", ping, 1), 404, JSON,
          Q("{'error':'Not Found: the MCP endpoint is /mcp'}"));
    setenv("MCP_CORS_ORIGINS", "https://app.test", 1);
    http_conf_load();
    r = route_req(g_srv, "OPTIONS", "/mcp", "Host: localhost\nOrigin: https://app.test\n", "", 1);
    T_EQ_STR("CORS preflight from an allowed origin: headers",
             r.head, "Access-Control-Allow-Origin: https://app.test\r\nAccess-Control-Expose-Headers: Mcp-Session-Id\r\n"
                     "Vary: Origin\r\nAccess-Control-Allow-Methods: GET, POST, DELETE, OPTIONS\r\n"
                     "Access-Control-Allow-Headers: Content-Type, Accept, Authorization, Mcp-Session-Id, MCP-Protocol-Version, "
                     "Mcp-Method, Mcp-Name, Last-Event-ID\r\nAccess-Control-Max-Age: 86400\r\nAllow: GET, POST, DELETE, OPTIONS\r\n");
    check("CORS preflight: 204", r, 204, NULL, "");
    r = route_req(g_srv, "POST", "/mcp", HJ "Host: localhost\nOrigin: https://app.test\n", ping, 1);
    T_EQ_STR("CORS: an allowed origin passes the local Origin check and gets its headers", r.head,
             "Access-Control-Allow-Origin: https://app.test\r\nAccess-Control-Expose-Headers: Mcp-Session-Id\r\nVary: Origin\r\n");
    check("CORS: the request goes on", r, 400, JSON, err_null(-32600, "Bad Request: Mcp-Session-Id header is required"));
    check("CORS: another origin is still refused", route_req(g_srv, "POST", "/mcp", HJ "Host: localhost\nOrigin: https://other.test\n", ping, 1),
          403, JSON, Q("{'error':'Forbidden: Origin not allowed'}"));
    unsetenv("MCP_CORS_ORIGINS");
    http_conf_load();
}

int main(void) {
    setenv("MCP_STATE_KEY", "test-key", 1);
    unsetenv("MCP_ALLOWED_HOSTS");
    unsetenv("MCP_ALLOWED_ORIGINS");
    unsetenv("MCP_CORS_ORIGINS");
    http_conf_load();
    test_schema();
    test_patterns();
    test_schema_expand();
    test_template();
    test_fast_helpers();
    test_stdio(); /* first: the child starts from a fresh server either way */
    g_srv = make_server();
    g_big = mcp_server_new("big", "1");
    for (int i = 0; i < MCP_PAGE_SIZE + 5; i++) {
        char n[16];
        snprintf(n, sizeof n, "t%03d", i);
        mcp_tool(g_big, n, NULL, "", h_add);
    }
    g_lambda = make_server();
    g_lambda->stateless = 1;
    g_err = mcp_server_new("error", "1");
    test_initialize();
    test_sessions();
    test_http_checks();
    test_jsonrpc();
    test_tools();
    test_resources_prompts();
    test_batches();
    test_2026();
    test_param_headers();
    test_routes();
    test_http_elicitation();
    test_session_lru();
    test_handler_api();
    test_registration();
    test_http_framing();
    test_b64_and_buckets();
    test_aws_calls();
    test_config_resolve();
    q_free();
    return t_done();
}
