/* unit_json.c: the JSON reader and writer of mcp.c, base64, SHA-256 and HMAC-SHA256.
 *
 *   gcc -std=c11 -Wall -Wextra -Wpedantic -g -fsanitize=address,undefined \
 *       -o /tmp/unit_json test/unit_json.c -lbearssl -lm -lpthread && /tmp/unit_json
 * (or -DMCP_ENABLE_TLS=0 without -lbearssl; add -Wno-unused-function if mcp.c has functions
 * nothing calls yet)
 *
 * The accept/reject cases are written from RFC 8259's grammar, rule by rule; every rejection
 * asserts the error code and the byte offset where the error is. Hash vectors are the
 * published ones (FIPS 180-2 examples, RFC 4231, RFC 4648 section 10). */
#include "../mcp.c"
#include "t.h"

#include <float.h>

static char nbuf[512];
/* A test name built with printf. t.h prints the name at once, so one buffer does. */
#define NAME(...) (snprintf(nbuf, sizeof nbuf, __VA_ARGS__), nbuf)

static const char *code_name(int code) {
    switch (code) {
    case MCP_JSON_OK: return "OK";
    case MCP_JSON_E_SYNTAX: return "E_SYNTAX";
    case MCP_JSON_E_EOF: return "E_EOF";
    case MCP_JSON_E_DEPTH: return "E_DEPTH";
    case MCP_JSON_E_STRING: return "E_STRING";
    case MCP_JSON_E_NUMBER: return "E_NUMBER";
    case MCP_JSON_E_TRAILING: return "E_TRAILING";
    case MCP_JSON_E_MEMORY: return "E_MEMORY";
    default: return "E_?";
    }
}

/* Parse len bytes with max_depth; expect a rejection with this code at this byte. */
static void rej_depth(const char *name, const char *text, size_t len, int max_depth, int code, size_t pos) {
    mcp_json_err e = {-1, 99999, NULL};
    mcp_json_doc *d = mcp_json_parse(text, len, max_depth, &e);
    char got[96], want[96];
    if (d) snprintf(got, sizeof got, "accepted");
    else snprintf(got, sizeof got, "%s at %zu%s", code_name(e.code), e.pos, e.msg ? "" : " (no message)");
    snprintf(want, sizeof want, "%s at %zu", code_name(code), pos);
    T_EQ_STR(name, got, want);
    mcp_json_free(d);
}
static void rej(const char *name, const char *text, size_t len, int code, size_t pos) {
    rej_depth(name, text, len, 0, code, pos);
}
/* String literals may hold NUL bytes: the length is the literal's. */
#define REJ(name, lit, code, pos) rej((name), (lit), sizeof(lit) - 1, MCP_JSON_##code, (pos))

/* Parse text, write it back compactly, compare with want (NULL: the text itself). */
static void acc(const char *name, const char *text, size_t len, const char *want, size_t want_len) {
    mcp_json_err e = {-1, 0, NULL};
    mcp_json_doc *d = mcp_json_parse(text, len, 0, &e);
    if (!d) {
        char why[160];
        snprintf(why, sizeof why, "rejected: %s at %zu (%s)", code_name(e.code), e.pos, e.msg ? e.msg : "");
        T_EQ_STR(name, why, "accepted");
        return;
    }
    size_t n = 0;
    char *w = mcp_json_write(mcp_json_root(d), &n);
    int same = w && n == want_len && !memcmp(w, want, n) && e.code == 0;
    if (!same) {
        printf("#   wrote: ");
        for (size_t i = 0; w && i < n; i++) printf((unsigned char)w[i] < 0x20 || (unsigned char)w[i] >= 0x7f ? "\\x%02x" : "%c", (unsigned char)w[i]);
        printf("\n");
    }
    T_OK(name, same);
    free(w);
    mcp_json_free(d);
}
#define ACC(name, lit) acc((name), (lit), sizeof(lit) - 1, (lit), sizeof(lit) - 1)
#define ACC2(name, lit, want) acc((name), (lit), sizeof(lit) - 1, (want), sizeof(want) - 1)

/* Parse a string value and compare its decoded bytes (and length) exactly. */
static void str_is(const char *name, const char *text, size_t len, const char *want, size_t want_len) {
    mcp_json_err e;
    mcp_json_doc *d = mcp_json_parse(text, len, 0, &e);
    const mcp_json *v = mcp_json_root(d);
    int ok = v && MCP_JSON_TYPE(v) == MCP_JSON_STRING && v->len == want_len && !memcmp(v->s, want, want_len) &&
             v->s[want_len] == 0;
    if (!d) printf("#   rejected: %s at %zu\n", code_name(e.code), e.pos);
    T_OK(name, ok);
    mcp_json_free(d);
}
#define STR_IS(name, lit, want) str_is((name), (lit), sizeof(lit) - 1, (want), sizeof(want) - 1)

/* Parse a number; compare its double bit for bit with want and its integer flag. */
static void num_is(const char *name, const char *text, double want, int is_int) {
    mcp_json_err e;
    mcp_json_doc *d = mcp_json_parse(text, strlen(text), 0, &e);
    const mcp_json *v = mcp_json_root(d);
    int ok = v && MCP_JSON_TYPE(v) == MCP_JSON_NUMBER && !memcmp(&v->u.d, &want, sizeof want) &&
             !!(v->type & MCP_JSON_F_INT) == is_int && v->len == strlen(text) && !memcmp(v->s, text, v->len);
    if (!ok && v) printf("#   got %.17g (int flag %d), want %.17g\n", v->u.d, !!(v->type & MCP_JSON_F_INT), want);
    T_OK(name, ok);
    mcp_json_free(d);
}

/* mcp_json_int on a parsed number: returns "no" or the value. */
static void int_is(const char *name, const char *text, int want_ok, int64_t want) {
    mcp_json_err e;
    mcp_json_doc *d = mcp_json_parse(text, strlen(text), 0, &e);
    int64_t out = 12345;
    int r = mcp_json_int(mcp_json_root(d), &out);
    char got[64], exp[64];
    if (r) snprintf(got, sizeof got, "%lld", (long long)out);
    else snprintf(got, sizeof got, "not an integer (out %s)", out == 12345 ? "untouched" : "changed");
    if (want_ok) snprintf(exp, sizeof exp, "%lld", (long long)want);
    else snprintf(exp, sizeof exp, "not an integer (out untouched)");
    T_EQ_STR(name, got, exp);
    mcp_json_free(d);
}

static char *repeat(const char *a, int na, const char *mid, const char *b, int nb) {
    size_t la = strlen(a), lm = strlen(mid), lb = strlen(b);
    char *s = malloc(la * (size_t)na + lm + lb * (size_t)nb + 1), *p = s;
    for (int i = 0; i < na; i++) { memcpy(p, a, la); p += la; }
    memcpy(p, mid, lm); p += lm;
    for (int i = 0; i < nb; i++) { memcpy(p, b, lb); p += lb; }
    *p = 0;
    return s;
}

/*--- (a) the grammar: what is accepted and what is refused, where ---*/

static void test_literals(void) {
    ACC("literal true", "true");
    ACC("literal false", "false");
    ACC("literal null", "null");
    ACC2("literal with surrounding whitespace", " \t\r\n null \n\t\r ", "null");
    REJ("empty input is E_EOF at 0", "", E_EOF, 0);
    REJ("whitespace-only input is E_EOF at its end", " \t\r\n", E_EOF, 4);
    REJ("truncated literal 'tru' is refused at its start", "tru", E_SYNTAX, 0);
    REJ("misspelled literal 'trux' is refused at its start", "trux", E_SYNTAX, 0);
    REJ("literals are case-sensitive: True", "True", E_SYNTAX, 0);
    REJ("literals are case-sensitive: NULL", "NULL", E_SYNTAX, 0);
    REJ("literal 'nul' refused", "nul", E_SYNTAX, 0);
    REJ("'falsey': data after false", "falsey", E_TRAILING, 5);
    REJ("'nulls': data after null", "nulls", E_TRAILING, 4);
    REJ("NaN is not JSON", "NaN", E_SYNTAX, 0);
    REJ("Infinity is not JSON", "Infinity", E_SYNTAX, 0);
    REJ("-Infinity is a malformed number at the I", "-Infinity", E_NUMBER, 1);
    REJ("undefined is not JSON", "undefined", E_SYNTAX, 0);
    REJ("NUL byte as the whole input", "\0", E_SYNTAX, 0);
}

static void test_numbers(void) {
    ACC("number 0", "0");
    ACC("number -0", "-0");
    ACC("number 123", "123");
    ACC("number -123", "-123");
    ACC("number 0.5", "0.5");
    ACC("number -0.0 keeps its text", "-0.0");
    ACC("number 1e5", "1e5");
    ACC("number 1E5", "1E5");
    ACC("number 1e+5", "1e+5");
    ACC("number 1e-5", "1e-5");
    ACC("number 1.25e-007 keeps its exponent digits", "1.25e-007");
    ACC("number 0e0", "0e0");
    ACC("number 2.50 keeps its trailing zero", "2.50");
    ACC("number 1e400 keeps its text", "1e400");

    REJ("leading zero 01", "01", E_NUMBER, 1);
    REJ("leading zero -01", "-01", E_NUMBER, 2);
    REJ("leading zero 00", "00", E_NUMBER, 1);
    REJ("leading zero inside an array", "[01]", E_NUMBER, 2);
    REJ("lone minus", "-", E_NUMBER, 1);
    REJ("double minus", "--1", E_NUMBER, 1);
    REJ("minus then space", "- 1", E_NUMBER, 1);
    REJ("plus sign", "+1", E_SYNTAX, 0);
    REJ("fraction without integer part", ".5", E_SYNTAX, 0);
    REJ("minus fraction without integer part", "-.5", E_NUMBER, 1);
    REJ("dot without digits", "1.", E_NUMBER, 2);
    REJ("dot then exponent", "1.e3", E_NUMBER, 2);
    REJ("0. then exponent", "0.e1", E_NUMBER, 2);
    REJ("exponent without digits", "1e", E_NUMBER, 2);
    REJ("exponent sign without digits", "1e+", E_NUMBER, 3);
    REJ("exponent minus without digits", "1e-", E_NUMBER, 3);
    REJ("exponent with two signs", "1E+-2", E_NUMBER, 3);
    REJ("fraction then empty exponent", "1.5e", E_NUMBER, 4);
    REJ("hex number", "0x1F", E_TRAILING, 1);
    REJ("two dots", "1.2.3", E_TRAILING, 3);
    REJ("fractional exponent", "1e2.5", E_TRAILING, 3);
    REJ("digit separator", "1_000", E_TRAILING, 1);

    /* values: the double must be the correctly rounded one (glibc's strtod is) */
    const char *vals[] = {
        "0.1", "0.2", "0.3", "123.456", "-98.765e-3", "1e22", "1e23", "9007199254740992", "9007199254740993",
        "18446744073709551615", "18446744073709551616", "123456789012345678901234567890",
        "1.7976931348623157e308", "2.2250738585072014e-308", "2.2250738585072011e-308", "4.9406564584124654e-324",
        "5e-324", "0.000000000000000000000000000001", "1.00000000000000011102230246251565404236316680908203125",
        "3.141592653589793238462643383279502884197169399375105820974944592307816406286",
        "0.1e1", "100e-2", "1e-22", "4.35", "8.98846567431158e307",
    };
    for (size_t i = 0; i < COUNT(vals); i++)
        num_is(NAME("number %s parses to the correctly rounded double", vals[i]), vals[i], strtod(vals[i], NULL),
               !strpbrk(vals[i], ".eE"));
    /* more than 19 significant digits: the digits past the 19th still decide the rounding
     * (each of these sits just above a point halfway between two doubles) */
    const char *longs[] = {
        "14599339987076240385", "36100422049235662849", "10260693830329141559297", "1280529414638468788649985",
        "2756982363559861308882945", "1.4599339987076240385e19", "0.1651926580007884864942370",
        "0.1337460925977864284464048", "0.1816417120094785536688065",
    };
    for (size_t i = 0; i < COUNT(longs); i++)
        num_is(NAME("number %s (over 19 digits) parses to the correctly rounded double", longs[i]), longs[i],
               strtod(longs[i], NULL), !strpbrk(longs[i], ".eE"));
    num_is("number -0 is negative zero", "-0", -0.0, 1);
    num_is("number -0.0 is negative zero", "-0.0", -0.0, 0);
    num_is("huge number 1e400 is +infinity", "1e400", HUGE_VAL, 0);
    num_is("huge number -1e400 is -infinity", "-1e400", -HUGE_VAL, 0);
    num_is("huge exponent 1e99999999999 is +infinity", "1e99999999999", HUGE_VAL, 0);
    num_is("tiny number 1e-400 underflows to 0", "1e-400", 0.0, 0);
    num_is("tiny number -1e-400 underflows to -0", "-1e-400", -0.0, 0);
    num_is("zero with huge exponent 0e99999 is 0", "0e99999", 0.0, 0);
    /* a number longer than the parser's stack buffer */
    char *longnum = repeat("1", 300, ".", "9", 300);
    num_is("300-digit number parses like strtod", longnum, strtod(longnum, NULL), 0);
    free(longnum);
    num_is("integer flag set for 42", "42", 42.0, 1);
    num_is("integer flag clear for 42.0", "42.0", 42.0, 0);
    num_is("integer flag clear for 42e0", "42e0", 42.0, 0);
}

static void test_strings(void) {
    ACC("empty string", "\"\"");
    ACC("plain string", "\"hello world\"");
    STR_IS("every two-character escape decodes", "\"\\\"\\\\\\/\\b\\f\\n\\r\\t\"", "\"\\/\b\f\n\r\t");
    STR_IS("\\u escapes decode to UTF-8, hex in either case", "\"\\u0041\\u00e9\\u00E9\\u20AC\\uFFFF\"",
           "A\xC3\xA9\xC3\xA9\xE2\x82\xAC\xEF\xBF\xBF");
    STR_IS("\\u007f decodes to DEL", "\"\\u007f\"", "\x7f");
    STR_IS("\\u07FF is the last two-byte form", "\"\\u07FF\"", "\xDF\xBF");
    STR_IS("\\u0800 is the first three-byte form", "\"\\u0800\"", "\xE0\xA0\x80");
    STR_IS("surrogate pair D834 DD1E is U+1D11E", "\"\\uD834\\uDD1E\"", "\xF0\x9D\x84\x9E");
    STR_IS("lowercase surrogate pair d83d de00 is U+1F600", "\"\\ud83d\\ude00\"", "\xF0\x9F\x98\x80");
    STR_IS("surrogate pair D800 DC00 is U+10000", "\"\\uD800\\uDC00\"", "\xF0\x90\x80\x80");
    STR_IS("surrogate pair DBFF DFFF is U+10FFFF", "\"\\uDBFF\\uDFFF\"", "\xF4\x8F\xBF\xBF");
    STR_IS("\\u0000 is kept as a NUL byte and counted", "\"a\\u0000b\"", "a\0b");
    STR_IS("escapes after raw UTF-8 and raw UTF-8 after escapes", "\"\xC3\xA9\\n\xC3\xBC\\t\xF0\x9F\x98\x80\"",
           "\xC3\xA9\n\xC3\xBC\t\xF0\x9F\x98\x80");
    STR_IS("raw DEL is allowed unescaped", "\"\x7f\"", "\x7f");
    STR_IS("U+0080 (C2 80) accepted", "\"\xC2\x80\"", "\xC2\x80");
    STR_IS("U+07FF (DF BF) accepted", "\"\xDF\xBF\"", "\xDF\xBF");
    STR_IS("U+0800 (E0 A0 80) accepted", "\"\xE0\xA0\x80\"", "\xE0\xA0\x80");
    STR_IS("U+D7FF (ED 9F BF) accepted", "\"\xED\x9F\xBF\"", "\xED\x9F\xBF");
    STR_IS("U+E000 (EE 80 80) accepted", "\"\xEE\x80\x80\"", "\xEE\x80\x80");
    STR_IS("U+FFFF (EF BF BF) accepted", "\"\xEF\xBF\xBF\"", "\xEF\xBF\xBF");
    STR_IS("U+10000 (F0 90 80 80) accepted", "\"\xF0\x90\x80\x80\"", "\xF0\x90\x80\x80");
    STR_IS("U+10FFFF (F4 8F BF BF) accepted", "\"\xF4\x8F\xBF\xBF\"", "\xF4\x8F\xBF\xBF");

    REJ("unterminated string", "\"abc", E_EOF, 4);
    REJ("lone quote", "\"", E_EOF, 1);
    REJ("string ending in a backslash", "\"\\", E_EOF, 2);
    REJ("unterminated string after an escape", "\"\\n", E_EOF, 3);
    REJ("unknown escape \\x", "\"\\x\"", E_STRING, 1);
    REJ("unknown escape \\' (single quote)", "\"\\'\"", E_STRING, 1);
    REJ("unknown escape \\U", "\"\\U0041\"", E_STRING, 1);
    REJ("unknown escape \\0", "\"ab\\0\"", E_STRING, 3);
    REJ("short \\u escape is refused at its backslash", "\"\\u12\"", E_STRING, 1);
    REJ("\\u escape with a non-hex digit is refused at its backslash", "\"\\u12G4\"", E_STRING, 1);
    REJ("bad \\u after a high surrogate is refused at its backslash", "\"\\uD800\\uZZZZ\"", E_STRING, 7);
    REJ("lone high surrogate", "\"\\uD800\"", E_STRING, 1);
    REJ("high surrogate then text", "\"\\uDBFFx\"", E_STRING, 1);
    REJ("high surrogate then another escape", "\"\\uDBFF\\n\"", E_STRING, 1);
    REJ("high surrogate then a non-surrogate", "\"\\uD800\\u0041\"", E_STRING, 1);
    REJ("two high surrogates", "\"\\uD800\\uD800\"", E_STRING, 1);
    REJ("lone low surrogate", "\"\\uDC00\"", E_STRING, 1);
    REJ("low then high surrogate", "\"\\uDFFF\\uD800\"", E_STRING, 1);
    REJ("lone low surrogate after text", "\"ab\\uDE00\"", E_STRING, 3);
    REJ("raw U+0001 in a string", "\"\x01\"", E_STRING, 1);
    REJ("raw U+001F in a string", "\"a\x1f\"", E_STRING, 2);
    REJ("raw tab in a string", "\"\t\"", E_STRING, 1);
    REJ("raw newline in a string", "\"\n\"", E_STRING, 1);
    REJ("raw NUL byte in a string", "\"a\0b\"", E_STRING, 2);
    REJ("raw control character after an escape", "\"\\n\x01\"", E_STRING, 3);
    REJ("single-quoted string", "'a'", E_SYNTAX, 0);

    REJ("UTF-8: lone continuation byte 80", "\"\x80\"", E_STRING, 1);
    REJ("UTF-8: lone continuation byte BF", "\"\xBF\"", E_STRING, 1);
    REJ("UTF-8: overlong 2-byte C0 80", "\"\xC0\x80\"", E_STRING, 1);
    REJ("UTF-8: overlong 2-byte C1 BF", "\"\xC1\xBF\"", E_STRING, 1);
    REJ("UTF-8: overlong 3-byte E0 80 80", "\"\xE0\x80\x80\"", E_STRING, 1);
    REJ("UTF-8: overlong 3-byte E0 9F BF", "\"\xE0\x9F\xBF\"", E_STRING, 1);
    REJ("UTF-8: overlong 4-byte F0 80 80 80", "\"\xF0\x80\x80\x80\"", E_STRING, 1);
    REJ("UTF-8: overlong 4-byte F0 8F BF BF", "\"\xF0\x8F\xBF\xBF\"", E_STRING, 1);
    REJ("UTF-8: encoded surrogate ED A0 80 (U+D800)", "\"\xED\xA0\x80\"", E_STRING, 1);
    REJ("UTF-8: encoded surrogate ED BF BF (U+DFFF)", "\"\xED\xBF\xBF\"", E_STRING, 1);
    REJ("UTF-8: encoded surrogate pair ED A0 BD ED B8 80", "\"\xED\xA0\xBD\xED\xB8\x80\"", E_STRING, 1);
    REJ("UTF-8: above U+10FFFF F4 90 80 80", "\"\xF4\x90\x80\x80\"", E_STRING, 1);
    REJ("UTF-8: lead byte F5", "\"\xF5\x80\x80\x80\"", E_STRING, 1);
    REJ("UTF-8: 5-byte form F8", "\"\xF8\x88\x80\x80\x80\"", E_STRING, 1);
    REJ("UTF-8: byte FE", "\"\xFE\"", E_STRING, 1);
    REJ("UTF-8: byte FF", "\"\xFF\"", E_STRING, 1);
    REJ("UTF-8: truncated 2-byte C3", "\"\xC3\"", E_STRING, 1);
    REJ("UTF-8: truncated 3-byte E2 82", "\"\xE2\x82\"", E_STRING, 1);
    REJ("UTF-8: truncated 4-byte F0 9F 98", "\"\xF0\x9F\x98\"", E_STRING, 1);
    REJ("UTF-8: truncated 3-byte then ASCII", "\"\xE2\x82x\"", E_STRING, 1);
    REJ("UTF-8: truncated at end of input", "\"x\xC3", E_STRING, 2);
    REJ("UTF-8: invalid after an escape", "\"\\n\xE2\x82\"", E_STRING, 3);
    REJ("UTF-8: invalid in an object key", "{\"\xC0\x80\":1}", E_STRING, 2);
    REJ("UTF-8: invalid after valid multibyte text", "\"\xC3\xA9\xC3\"", E_STRING, 3);
}

static void test_structure(void) {
    ACC("empty array", "[]");
    ACC("empty object", "{}");
    ACC2("whitespace everywhere (space, tab, CR, LF)",
         " \r\n\t{ \"a\" \t: [ 1 ,\n2 , { } , [ ] ] ,\r\n\"b\" : \"x\" } \n",
         "{\"a\":[1,2,{},[]],\"b\":\"x\"}");
    ACC("nested mixed values", "{\"a\":[true,false,null,-1.5e3,\"s\",{\"b\":{\"c\":[[]]}}],\"d\":{}}");
    ACC("duplicate keys are kept in order", "{\"a\":1,\"a\":2}");
    ACC("scalar top-level string", "\"top\"");
    ACC("scalar top-level number", "42");

    REJ("trailing comma in array", "[1,]", E_SYNTAX, 3);
    REJ("leading comma in array", "[,1]", E_SYNTAX, 1);
    REJ("double comma in array", "[1,,2]", E_SYNTAX, 3);
    REJ("trailing comma in object", "{\"a\":1,}", E_SYNTAX, 7);
    REJ("lone comma in object", "{,}", E_SYNTAX, 1);
    REJ("key without colon or value", "{\"a\"}", E_SYNTAX, 4);
    REJ("colon without value", "{\"a\":}", E_SYNTAX, 5);
    REJ("missing colon", "{\"a\" 1}", E_SYNTAX, 5);
    REJ("unquoted key", "{a:1}", E_SYNTAX, 1);
    REJ("single-quoted key", "{'a':1}", E_SYNTAX, 1);
    REJ("number as key", "{1:1}", E_SYNTAX, 1);
    REJ("missing comma in array", "[1 2]", E_SYNTAX, 3);
    REJ("missing comma in object", "{\"a\":1 \"b\":2}", E_SYNTAX, 7);
    REJ("array closed by brace", "[1}", E_SYNTAX, 2);
    REJ("object closed by bracket", "{\"a\":1]", E_SYNTAX, 6);
    REJ("lone closing bracket", "]", E_SYNTAX, 0);
    REJ("unclosed array", "[", E_EOF, 1);
    REJ("unclosed array after a value", "[1", E_EOF, 2);
    REJ("unclosed array after a comma", "[1,", E_EOF, 3);
    REJ("unclosed object", "{", E_EOF, 1);
    REJ("unclosed object after a key", "{\"a\"", E_EOF, 4);
    REJ("unclosed object after a colon", "{\"a\":", E_EOF, 5);
    REJ("unclosed object after a value", "{\"a\":1", E_EOF, 6);
    REJ("unclosed object after a comma", "{\"a\":1,", E_EOF, 7);
    REJ("block comment before a value", "/*x*/1", E_SYNTAX, 0);
    REJ("block comment after a value", "1/*x*/", E_TRAILING, 1);
    REJ("line comment after a value", "[1]//x", E_TRAILING, 3);
    REJ("hash comment", "#1", E_SYNTAX, 0);
    REJ("two top-level values", "1 2", E_TRAILING, 2);
    REJ("two top-level objects", "{}{}", E_TRAILING, 2);
    REJ("two top-level strings", "\"a\"\"b\"", E_TRAILING, 3);
    REJ("closing bracket after the value", "[1]]", E_TRAILING, 3);
    REJ("UTF-8 byte order mark", "\xEF\xBB\xBF[]", E_SYNTAX, 0);
    REJ("form feed is not whitespace", "\f1", E_SYNTAX, 0);
    REJ("vertical tab is not whitespace", "\v1", E_SYNTAX, 0);
    REJ("form feed after the value is trailing data", "1\f", E_TRAILING, 1);
    REJ("no-break space is not whitespace", "\xC2\xA0" "1", E_SYNTAX, 0);
    REJ("NUL byte where a value belongs", "[1,\0]", E_SYNTAX, 3);
    REJ("NUL byte after the value", "1\0", E_TRAILING, 1);
    REJ("NUL byte inside whitespace", "[ \0 1]", E_SYNTAX, 2);
}

static void test_depth(void) {
    char *s;
    const int D = MCP_MAX_DEPTH; /* the default limit (128 unless configured) */
    s = repeat("[", D, "", "]", D);
    acc(NAME("%d nested arrays (the default limit) are accepted", D), s, strlen(s), s, strlen(s));
    free(s);
    s = repeat("[", D + 1, "", "]", D + 1);
    rej(NAME("%d nested arrays: E_DEPTH at the bracket one over the limit", D + 1), s, strlen(s), MCP_JSON_E_DEPTH, (size_t)D);
    free(s);
    s = repeat("{\"a\":", D, "1", "}", D);
    acc(NAME("%d nested objects are accepted", D), s, strlen(s), s, strlen(s));
    free(s);
    s = repeat("{\"a\":", D + 1, "1", "}", D + 1);
    rej(NAME("%d nested objects: E_DEPTH at the brace one over the limit", D + 1), s, strlen(s), MCP_JSON_E_DEPTH, (size_t)D * 5);
    free(s);
    s = repeat("[", 100000, "", "", 0);
    rej("100000 open brackets stop at the limit without recursion", s, strlen(s), MCP_JSON_E_DEPTH, (size_t)D);
    free(s);
    s = repeat("[", 3, "1", "]", 3);
    mcp_json_err e;
    mcp_json_doc *d = mcp_json_parse(s, strlen(s), 3, &e);
    T_OK("max_depth 3: three levels accepted", d != NULL);
    mcp_json_free(d);
    free(s);
    s = repeat("[", 4, "1", "]", 4);
    rej_depth("max_depth 3: four levels give E_DEPTH at 3", s, strlen(s), 3, MCP_JSON_E_DEPTH, 3);
    free(s);
    s = repeat("[", 64, "", "]", 64);
    d = mcp_json_parse(s, strlen(s), 64, &e);
    T_OK("max_depth 64: 64 levels accepted", d != NULL);
    mcp_json_free(d);
    free(s);
    s = repeat("[", 65, "", "]", 65);
    rej_depth("max_depth 64: 65 levels give E_DEPTH at 64", s, strlen(s), 64, MCP_JSON_E_DEPTH, 64);
    free(s);
    rej_depth("max_depth 1: [[]] gives E_DEPTH at 1", "[[]]", 4, 1, MCP_JSON_E_DEPTH, 1);
    rej_depth("max_depth 1: {\"a\":{}} gives E_DEPTH at 5", "{\"a\":{}}", 8, 1, MCP_JSON_E_DEPTH, 5);
    d = mcp_json_parse("[1,[],2]", 8, 2, &e);
    T_OK("max_depth 2: an empty inner array counts as one level", d != NULL);
    mcp_json_free(d);
    s = repeat("[", 300, "", "]", 300);
    d = mcp_json_parse(s, strlen(s), 300, &e);
    T_OK("max_depth 300: 300 levels accepted (stack beyond the built-in 64)", d != NULL);
    mcp_json_free(d);
    free(s);
    s = repeat("[", 301, "", "]", 301);
    rej_depth("max_depth 300: 301 levels give E_DEPTH at 300", s, strlen(s), 300, MCP_JSON_E_DEPTH, 300);
    free(s);
    d = mcp_json_parse("[[1]]", 5, -1, &e);
    T_OK("negative max_depth means the default", d != NULL);
    mcp_json_free(d);
}

static void test_misc_parse(void) {
    /* the document copies its input: the caller's buffer stays as it was */
    char text[] = "{\"k\":\"a\\nb\"}";
    mcp_json_err e = {7, 7, "x"};
    mcp_json_doc *d = mcp_json_parse(text, strlen(text), 0, &e);
    T_EQ_STR("parse leaves the caller's text untouched", text, "{\"k\":\"a\\nb\"}");
    T_OK("a successful parse clears err", d && e.code == 0 && e.pos == 0 && e.msg == NULL);
    mcp_json_free(d);
    /* len bounds the input: bytes after it are not read */
    d = mcp_json_parse("[1]garbage", 3, 0, &e);
    T_OK("only len bytes are parsed", d && mcp_json_root(d)->len == 1);
    mcp_json_free(d);
    d = mcp_json_parse("1", 1, 0, NULL);
    T_OK("err may be NULL on success", d != NULL);
    mcp_json_free(d);
    d = mcp_json_parse("[", 1, 0, NULL);
    T_OK("err may be NULL on failure", d == NULL);
    T_OK("mcp_json_root(NULL) is NULL", mcp_json_root(NULL) == NULL);
    mcp_json_free(NULL);
    T_OK("mcp_json_free(NULL) is harmless", 1);
    static const struct { const char *text, *msg; } msgs[] = {
        {"[1,]", "unexpected character"},
        {"[1", "unexpected end of input"},
        {"[1 2]", "expected ',' or ']'"},
        {"{\"a\":1 2}", "expected ',' or '}'"},
        {"{1:2}", "expected a string key"},
        {"{\"a\" 1}", "expected ':'"},
        {"tru", "invalid literal"},
        {"01", "leading zero in number"},
        {"-x", "malformed number"},
        {"1.x", "digit expected after '.'"},
        {"1ex", "digit expected in exponent"},
        {"\"abc", "unterminated string"},
        {"\"\\x\"", "bad escape in string"},
        {"\"\\u12\"", "bad \\u escape"},
        {"\"\\uD800\"", "lone high surrogate"},
        {"\"\\uDC00\"", "lone low surrogate"},
        {"\"\x01\"", "control character in string"},
        {"\"\xFF\"", "invalid UTF-8 in string"},
        {"[[1]]", "nesting too deep"},
        {"1 2", "unexpected data after the value"},
    };
    for (size_t i = 0; i < COUNT(msgs); i++) {
        mcp_json_err me = {0, 0, NULL};
        d = mcp_json_parse(msgs[i].text, strlen(msgs[i].text), 1, &me);
        T_EQ_STR(NAME("error message: %s", msgs[i].msg), d ? "accepted" : me.msg ? me.msg : "(none)", msgs[i].msg);
        mcp_json_free(d);
    }
    /* a large flat array grows the value array many times */
    buf b = {0};
    buf_putc(&b, '[');
    for (int i = 0; i < 20000; i++) buf_printf(&b, "%s%d", i ? "," : "", i);
    buf_putc(&b, ']');
    d = mcp_json_parse(b.p, b.len, 0, &e);
    int64_t last = -1;
    T_OK("20000-element array: length and last element", d && mcp_json_root(d)->len == 20000 &&
         mcp_json_int(mcp_json_at(mcp_json_root(d), 19999), &last) && last == 19999);
    mcp_json_free(d);
    buf_free(&b);
}

/*--- (b) access ---*/

static void test_access(void) {
    const char *text = "{\"x\":{\"a\":1,\"b\":[2,3]},\"a\":[1,[2,[3]],{\"k\":4},\"s\"],\"b\":3.5,\"s\":\"str\","
                       "\"t\":true,\"f\":false,\"n\":null,\"z\":\"a\\u0000b\",\"e\":{},\"dup\":1,\"dup\":2}";
    mcp_json_err e;
    mcp_json_doc *d = mcp_json_parse(text, strlen(text), 0, &e);
    const mcp_json *r = mcp_json_root(d);
    T_EQ_INT("root is an object", MCP_JSON_TYPE(r), MCP_JSON_OBJECT);
    T_EQ_INT("root has 11 members (duplicates count)", r->len, 11);
    T_EQ_INT("get b skips nested containers", MCP_JSON_TYPE(mcp_json_get(r, "b")), MCP_JSON_NUMBER);
    T_OK("get b is 3.5", mcp_json_num(mcp_json_get(r, "b")) == 3.5);
    T_OK("get finds the top-level a, not x.a", MCP_JSON_TYPE(mcp_json_get(r, "a")) == MCP_JSON_ARRAY);
    T_OK("get on a nested object", mcp_json_num(mcp_json_get(mcp_json_get(r, "x"), "a")) == 1);
    T_OK("get of an absent key is NULL", mcp_json_get(r, "nope") == NULL);
    T_OK("get of a key prefix is NULL", mcp_json_get(r, "du") == NULL);
    T_OK("get on an array is NULL", mcp_json_get(mcp_json_get(r, "a"), "0") == NULL);
    T_OK("get on NULL is NULL", mcp_json_get(NULL, "a") == NULL);
    T_OK("get with duplicate keys returns the first", mcp_json_num(mcp_json_get(r, "dup")) == 1);
    T_OK("get on an empty object is NULL", mcp_json_get(mcp_json_get(r, "e"), "a") == NULL);
    const mcp_json *a = mcp_json_get(r, "a");
    T_EQ_INT("array has 4 elements", a->len, 4);
    T_OK("at 0", mcp_json_num(mcp_json_at(a, 0)) == 1);
    T_EQ_INT("at 1 is the nested array", mcp_json_at(a, 1)->len, 2);
    T_OK("at 2 skips a nested array", mcp_json_num(mcp_json_get(mcp_json_at(a, 2), "k")) == 4);
    T_EQ_STR("at 3 skips nested containers", mcp_json_str(mcp_json_at(a, 3)), "s");
    T_OK("at len is NULL", mcp_json_at(a, 4) == NULL);
    T_OK("at huge index is NULL", mcp_json_at(a, (size_t)-1) == NULL);
    T_OK("at on an object is NULL", mcp_json_at(r, 0) == NULL);
    T_OK("at on NULL is NULL", mcp_json_at(NULL, 0) == NULL);
    T_OK("deep at", mcp_json_num(mcp_json_at(mcp_json_at(mcp_json_at(a, 1), 1), 0)) == 3);
    T_EQ_STR("str of a string", mcp_json_str(mcp_json_get(r, "s")), "str");
    T_OK("str of a number is NULL", mcp_json_str(mcp_json_get(r, "b")) == NULL);
    T_OK("str of NULL is NULL", mcp_json_str(NULL) == NULL);
    T_OK("num of a string is 0", mcp_json_num(mcp_json_get(r, "s")) == 0);
    T_OK("num of NULL is 0", mcp_json_num(NULL) == 0);
    T_EQ_INT("bool of true", mcp_json_bool(mcp_json_get(r, "t")), 1);
    T_EQ_INT("bool of false", mcp_json_bool(mcp_json_get(r, "f")), 0);
    T_EQ_INT("bool of null", mcp_json_bool(mcp_json_get(r, "n")), 0);
    T_EQ_INT("bool of a number", mcp_json_bool(mcp_json_get(r, "b")), 0);
    T_EQ_INT("type of null", MCP_JSON_TYPE(mcp_json_get(r, "n")), MCP_JSON_NULL);
    T_EQ_INT("MCP_JSON_TYPE(NULL) is 0", MCP_JSON_TYPE((const mcp_json *)NULL), 0);
    const mcp_json *z = mcp_json_get(r, "z");
    T_EQ_INT("embedded \\u0000: len counts it", z->len, 3);
    T_OK("embedded \\u0000: bytes a NUL b NUL", !memcmp(z->s, "a\0b\0", 4));
    T_EQ_INT("container next counts its subtree (itself, keys, values)", mcp_json_get(r, "x")->u.next, 7);

    /* iteration */
    mcp_json_iter it = mcp_json_iterate(r);
    const mcp_json *k, *v;
    buf keys = {0};
    int n = 0;
    while ((v = mcp_json_iter_next(&it, &k))) { buf_printf(&keys, "%s%s:%d", n++ ? "," : "", k->s, MCP_JSON_TYPE(v)); }
    T_EQ_STR("iterate an object: keys and value types in order", keys.p, "x:7,a:6,b:4,s:5,t:3,f:2,n:1,z:5,e:7,dup:4,dup:4");
    buf_free(&keys);
    it = mcp_json_iterate(a);
    n = 0;
    int keys_null = 1;
    const mcp_json *types[8];
    while ((v = mcp_json_iter_next(&it, &k)) && n < 8) { types[n++] = v; if (k) keys_null = 0; }
    T_EQ_INT("iterate an array: 4 elements", n, 4);
    T_OK("iterate an array: key set to NULL", keys_null);
    T_OK("iterate an array: elements in order", MCP_JSON_TYPE(types[0]) == MCP_JSON_NUMBER &&
         MCP_JSON_TYPE(types[1]) == MCP_JSON_ARRAY && MCP_JSON_TYPE(types[2]) == MCP_JSON_OBJECT &&
         MCP_JSON_TYPE(types[3]) == MCP_JSON_STRING);
    T_OK("iterate after the end stays NULL", mcp_json_iter_next(&it, &k) == NULL && mcp_json_iter_next(&it, NULL) == NULL);
    it = mcp_json_iterate(mcp_json_get(r, "e"));
    T_OK("iterate an empty object", mcp_json_iter_next(&it, &k) == NULL);
    it = mcp_json_iterate(mcp_json_get(r, "s"));
    T_OK("iterate a string yields nothing", mcp_json_iter_next(&it, &k) == NULL);
    it = mcp_json_iterate(NULL);
    T_OK("iterate NULL yields nothing", mcp_json_iter_next(&it, NULL) == NULL);
    it = mcp_json_iterate(mcp_json_get(r, "x"));
    n = 0;
    while ((v = mcp_json_iter_next(&it, NULL))) n++;
    T_EQ_INT("iterate an object with key NULL", n, 2);
    mcp_json_free(d);

    /* mcp_json_int */
    int_is("int 0", "0", 1, 0);
    int_is("int -0", "-0", 1, 0);
    int_is("int 42", "42", 1, 42);
    int_is("int -42", "-42", 1, -42);
    int_is("int INT64_MAX", "9223372036854775807", 1, INT64_MAX);
    int_is("int INT64_MAX+1 overflows", "9223372036854775808", 0, 0);
    int_is("int INT64_MIN", "-9223372036854775808", 1, INT64_MIN);
    int_is("int INT64_MIN-1 overflows", "-9223372036854775809", 0, 0);
    int_is("int 2^64 overflows", "18446744073709551616", 0, 0);
    int_is("int 30 digits overflow", "123456789012345678901234567890", 0, 0);
    int_is("int 2^53+1 is exact", "9007199254740993", 1, 9007199254740993LL);
    int_is("int 1.0 is integral", "1.0", 1, 1);
    int_is("int 2e3 is integral", "2e3", 1, 2000);
    int_is("int -2.5e1 is integral", "-2.5e1", 1, -25);
    int_is("int 1.5 is not", "1.5", 0, 0);
    int_is("int 1e-1 is not", "1e-1", 0, 0);
    int_is("int 1e300 is not (out of range)", "1e300", 0, 0);
    int_is("int -1e300 is not", "-1e300", 0, 0);
    int_is("int 1e400 (infinity) is not", "1e400", 0, 0);
    int_is("int 1.0000000000000000001 is not an integer", "1.0000000000000000001", 0, 0);
    int_is("int 4503599627370496.5 is not an integer", "4503599627370496.5", 0, 0);
    {
        mcp_json_doc *dd = mcp_json_parse("9007199254740993.0", 18, 0, &e);
        int64_t out = 0;
        int ok = mcp_json_int(mcp_json_root(dd), &out);
        T_OK("int 9007199254740993.0 is either refused or exact", !ok || out == 9007199254740993LL);
        mcp_json_free(dd);
    }
    int_is("int 1200e-2 is 12", "1200e-2", 1, 12);
    int_is("int 1.50e1 is 15", "1.50e1", 1, 15);
    int_is("int 1.05e1 is not", "1.05e1", 0, 0);
    int_is("int 1e16 is exact", "1e16", 1, 10000000000000000LL);
    int_is("int 9.2e18", "9.2e18", 1, 9200000000000000000LL);
    int_is("int 9.223372036854775807e18 is INT64_MAX", "9.223372036854775807e18", 1, INT64_MAX);
    int_is("int 9.223372036854775808e18 overflows", "9.223372036854775808e18", 0, 0);
    int_is("int -9.223372036854775808e18 is INT64_MIN", "-9.223372036854775808e18", 1, INT64_MIN);
    int_is("int 1e19 overflows", "1e19", 0, 0);
    int_is("int 1 and 27 zeros, e-10, is 1e17", "1000000000000000000000000000e-10", 1, 100000000000000000LL);
    int_is("int 0.0000000000000000000000000001e28 is 1", "0.0000000000000000000000000001e28", 1, 1);
    int_is("int 0.000 is 0", "0.000", 1, 0);
    int_is("int 0e-99999 is 0", "0e-99999", 1, 0);
    int_is("int 1e-99999999 is not", "1e-99999999", 0, 0);
    int_is("int 1e99999999 is not", "1e99999999", 0, 0);
    int_is("int of a string is not", "\"1\"", 0, 0);
    int_is("int of true is not", "true", 0, 0);
    int64_t out = 7;
    T_OK("int of NULL is not and leaves out alone", mcp_json_int(NULL, &out) == 0 && out == 7);
}

/*--- (c) writer ---*/

static char *escaped(const char *s, size_t n, int lossy) {
    buf b = {0};
    if (lossy) json_escape_lossy(&b, s, n);
    else json_escape(&b, s, n);
    return b.p;
}

static void esc_is(const char *name, const char *s, size_t n, int lossy, const char *want) {
    char *got = escaped(s, n, lossy);
    T_EQ_STR(name, got, want);
    free(got);
}
#define ESC(name, lit, want) esc_is((name), (lit), sizeof(lit) - 1, 0, (want))
#define LOSSY(name, lit, want) esc_is((name), (lit), sizeof(lit) - 1, 1, (want))

/* Documents past JSON_HUGE_MIN take the one-block path (on huge pages where offered);
 * one denser than the block's estimate moves its values out; a written document whose
 * escapes outgrow the room reserved for its unescaped size grows its buffer midway. */
static void test_large(void) {
    size_t n = 600000, len = 0;
    char *t = malloc(2 * n + 3), *p = t; /* [0,0,...,0]: one value per two bytes */
    *p++ = '[';
    for (size_t i = 0; i < n; i++) { *p++ = '0'; *p++ = ','; }
    p[-1] = ']';
    len = (size_t)(p - t);
    mcp_json_err e;
    mcp_json_doc *d = mcp_json_parse(t, len, 0, &e);
    const mcp_json *r = mcp_json_root(d);
    T_OK("a 1.2 MB array of 600000 zeros: every value, past the block's estimate",
         d && r->len == n && r->u.next == n + 1 && MCP_JSON_TYPE(mcp_json_at(r, n - 1)) == MCP_JSON_NUMBER);
    size_t wl = 0;
    char *w = d ? mcp_json_write(r, &wl) : NULL;
    T_OK("the 600000 zeros written back byte for byte", w && wl == len && !memcmp(w, t, len) && w[wl] == 0);
    free(w);
    mcp_json_free(d);
    free(t);

    /* 4000 members {"kNNNN":"<200 bytes, each tenth a character to escape>"}: 0.9 MB of
     * text that writes 10% longer than its unescaped size */
    size_t cap = 4000 * 260 + 16;
    t = malloc(cap);
    p = t;
    *p++ = '{';
    for (int i = 0; i < 4000; i++) {
        p += sprintf(p, "%s\"k%04d\":\"", i ? "," : "", i);
        for (int j = 0; j < 200; j++) {
            if (j % 10 == 9) { *p++ = '\\'; *p++ = "n\"\\tu"[(i + j) % 5]; if (p[-1] == 'u') { memcpy(p, "0001", 4); p += 4; } }
            else *p++ = (char)('a' + (i + j) % 26);
        }
        *p++ = '"';
    }
    *p++ = '}';
    len = (size_t)(p - t);
    d = mcp_json_parse(t, len, 0, &e);
    r = mcp_json_root(d);
    w = d ? mcp_json_write(r, &wl) : NULL;
    T_OK("a 0.9 MB object of escaped strings written back byte for byte", w && wl == len && !memcmp(w, t, len) && w[wl] == 0);
    free(w);
    mcp_json_free(d);
    free(t);
    /* after an escape, plain runs move eight bytes at a time: runs of every length around
     * a word, then a two-byte character, an escape and a quote */
    for (int k = 0; k < 20; k++) {
        char in[160], want[160];
        int a = snprintf(in, sizeof in, "\"\\t");
        int b = snprintf(want, sizeof want, "\t");
        for (int j = 0; j < k; j++) in[a++] = want[b++] = (char)('a' + j);
        a += snprintf(in + a, sizeof in - (size_t)a, "\xc3\xa9%.*s\\u00e9%.*s\\\"\"", k, "ABCDEFGHIJKLMNOPQRST", k, "abcdefghijklmnopqrst");
        b += snprintf(want + b, sizeof want - (size_t)b, "\xc3\xa9%.*s\xc3\xa9%.*s\"", k, "ABCDEFGHIJKLMNOPQRST", k, "abcdefghijklmnopqrst");
        d = mcp_json_parse(in, (size_t)a, 0, &e);
        r = mcp_json_root(d);
        char name[96];
        snprintf(name, sizeof name, "a decoded string with %d-byte plain runs between escapes", k);
        T_OK(name, d && r->len == (uint32_t)b && !memcmp(r->s, want, (size_t)b) && r->s[b] == 0);
        mcp_json_free(d);
    }
}

static void test_writer(void) {
    ACC2("round trip: numbers keep their text, strings are re-escaped",
         "[1,-0,1.50,1E+2,2e-7,1e400,123456789012345678901234567890,\"\\u00e9\\/\"]",
         "[1,-0,1.50,1E+2,2e-7,1e400,123456789012345678901234567890,\"\xC3\xA9/\"]");
    ACC2("round trip: escapes come back in their short forms",
         "\"\\\"\\\\\\b\\f\\n\\r\\t\\u0001\\u001F\\u007F\\u0000\"",
         "\"\\\"\\\\\\b\\f\\n\\r\\t\\u0001\\u001f\\u007f\\u0000\"");
    ACC2("round trip: surrogate pairs come back as raw UTF-8", "\"\\uD83D\\uDE00\"", "\"\xF0\x9F\x98\x80\"");
    ACC2("round trip: keys are escaped too", "{\"a\\nb\":{\"\\u0022\":[]}}", "{\"a\\nb\":{\"\\\"\":[]}}");
    ACC("round trip: raw UTF-8 stays raw", "{\"k\xC3\xA9y\":\"\xE2\x82\xAC\xF4\x8F\xBF\xBF\"}");
    {
        size_t n = 99;
        char *w = mcp_json_write(NULL, &n);
        T_OK("write NULL gives null", w && !strcmp(w, "null") && n == 4);
        free(w);
        mcp_json_err e;
        mcp_json_doc *d = mcp_json_parse("[\"x\",{\"y\":[1]}]", 15, 0, &e);
        w = mcp_json_write(mcp_json_at(mcp_json_root(d), 1), &n);
        T_OK("write a subtree", w && !strcmp(w, "{\"y\":[1]}") && n == 9);
        free(w);
        w = mcp_json_write(mcp_json_root(d), NULL);
        T_EQ_STR("write with len NULL", w, "[\"x\",{\"y\":[1]}]");
        free(w);
        mcp_json_free(d);
    }

    /* json_escape: every control character, quote, backslash, DEL */
    char ctl[32];
    for (int i = 0; i < 32; i++) ctl[i] = (char)i;
    esc_is("escape every control character U+0000..U+001F", ctl, 32, 0,
           "\"\\u0000\\u0001\\u0002\\u0003\\u0004\\u0005\\u0006\\u0007\\b\\t\\n\\u000b\\f\\r\\u000e\\u000f"
           "\\u0010\\u0011\\u0012\\u0013\\u0014\\u0015\\u0016\\u0017\\u0018\\u0019\\u001a\\u001b\\u001c\\u001d"
           "\\u001e\\u001f\"");
    ESC("escape quote and backslash", "a\"b\\c", "\"a\\\"b\\\\c\"");
    ESC("escape DEL as \\u007f", "\x7f", "\"\\u007f\"");
    ESC("slash is not escaped", "a/b", "\"a/b\"");
    ESC("empty string", "", "\"\"");
    ESC("space and tilde are plain", " ~", "\" ~\"");
    ESC("multibyte UTF-8 passes through", "\xC3\xA9\xE2\x82\xAC\xF0\x9F\x98\x80", "\"\xC3\xA9\xE2\x82\xAC\xF0\x9F\x98\x80\"");
    ESC("NUL inside the length is escaped", "a\0b", "\"a\\u0000b\"");
    ESC("escapes between plain runs", "ab\ncd\tef", "\"ab\\ncd\\tef\"");
    {
        buf b = {0};
        buf_puts(&b, "x=");
        json_escape(&b, "\"", 1);
        T_EQ_STR("escape appends to what the buffer holds", b.p, "x=\"\\\"\"");
        buf_free(&b);
    }

    /* json_escape_lossy */
    LOSSY("lossy: valid text is escaped like json_escape", "ok\xC3\xA9\n", "\"ok\xC3\xA9\\n\"");
    LOSSY("lossy: lone continuation byte becomes U+FFFD", "a\x80" "b", "\"a\xEF\xBF\xBD" "b\"");
    LOSSY("lossy: overlong C0 AF becomes two U+FFFD", "\xC0\xAF", "\"\xEF\xBF\xBD\xEF\xBF\xBD\"");
    LOSSY("lossy: encoded surrogate ED A0 80 becomes three U+FFFD", "\xED\xA0\x80", "\"\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD\"");
    LOSSY("lossy: F4 90 80 80 (above U+10FFFF) becomes four U+FFFD", "\xF4\x90\x80\x80",
          "\"\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD\"");
    LOSSY("lossy: FF then quote and newline are replaced and escaped", "\xFF\"\n", "\"\xEF\xBF\xBD\\\"\\n\"");
    LOSSY("lossy: valid multibyte around an invalid byte is kept", "\xC3\xA9\xFE\xE2\x82\xAC",
          "\"\xC3\xA9\xEF\xBF\xBD\xE2\x82\xAC\"");
    LOSSY("lossy: control character and invalid byte", "\x01\xFF", "\"\\u0001\xEF\xBF\xBD\"");
    LOSSY("lossy: empty input", "", "\"\"");

    /* jw_*: nesting and commas */
    {
        mcp_json_err e;
        mcp_json_doc *d = mcp_json_parse("{\"p\":[1,\"q\"]}", 13, 0, &e);
        buf b = {0};
        jw w = {&b, 0};
        jw_obj(&w);
        jw_key(&w, "a"); jw_arr(&w);
        jw_int(&w, 1); jw_bool(&w, 1); jw_bool(&w, 0); jw_null(&w); jw_str(&w, "x");
        jw_obj(&w); jw_key(&w, "b"); jw_num(&w, 2.5); jw_end_obj(&w);
        jw_arr(&w); jw_end_arr(&w);
        jw_end_arr(&w);
        jw_key(&w, "c"); jw_obj(&w); jw_end_obj(&w);
        jw_key(&w, "d"); jw_str(&w, NULL);
        jw_key(&w, "e"); jw_raw(&w, "[1,2]", 5);
        jw_key(&w, "f"); jw_value(&w, mcp_json_root(d));
        jw_key(&w, "q\"k"); jw_strn(&w, "a\0b", 3);
        jw_key(&w, "i"); jw_arr(&w); jw_int(&w, LLONG_MIN); jw_int(&w, LLONG_MAX); jw_int(&w, 0); jw_end_arr(&w);
        jw_end_obj(&w);
        T_EQ_STR("jw: nested objects and arrays get their commas",
                 b.p, "{\"a\":[1,true,false,null,\"x\",{\"b\":2.5},[]],\"c\":{},\"d\":null,\"e\":[1,2],"
                      "\"f\":{\"p\":[1,\"q\"]},\"q\\\"k\":\"a\\u0000b\",\"i\":[-9223372036854775808,9223372036854775807,0]}");
        buf_free(&b);
        jw w2 = {&b, 0};
        jw_arr(&w2); jw_arr(&w2); jw_end_arr(&w2); jw_obj(&w2); jw_end_obj(&w2); jw_int(&w2, 3); jw_end_arr(&w2);
        T_EQ_STR("jw: empty containers in an array", b.p, "[[],{},3]");
        buf_free(&b);
        jw w3 = {&b, 0};
        jw_str(&w3, "a"); jw_str(&w3, "b");
        T_EQ_STR("jw: top-level values are comma-separated", b.p, "\"a\",\"b\"");
        buf_free(&b);
        jw w4 = {&b, 0};
        jw_str(&w4, "bad\xFF");
        T_EQ_STR("jw_str replaces invalid UTF-8", b.p, "\"bad\xEF\xBF\xBD\"");
        buf_free(&b);
        mcp_json_free(d);
    }

    /* json_num */
    struct { double d; const char *want; const char *name; } nums[] = {
        {0.0, "0", "json_num 0"},
        {1.0, "1", "json_num 1"},
        {-42.0, "-42", "json_num -42"},
        {100.0, "100", "json_num 100"},
        {999999999999999.0, "999999999999999", "json_num largest integer printed in full"},
        {9007199254740992.0, "9007199254740992", "json_num 2^53"},
        {1e15, "1e+15", "json_num 1e15"},
        {0.1, "0.1", "json_num 0.1 is 0.1"},
        {0.5, "0.5", "json_num 0.5"},
        {1.5, "1.5", "json_num 1.5"},
        {-2.5e-10, "-2.5e-10", "json_num -2.5e-10"},
        {1234.5678, "1234.5678", "json_num 1234.5678"},
        {0.1 + 0.2, "0.30000000000000004", "json_num 0.1+0.2 needs 17 digits"},
        {1e300, "1e+300", "json_num 1e300"},
        {1e21, "1e+21", "json_num 1e21"},
        {1.7976931348623157e308, "1.7976931348623157e+308", "json_num DBL_MAX"},
        {2.2250738585072014e-308, "2.2250738585072014e-308", "json_num DBL_MIN"},
        {1e-7, "1e-07", "json_num 1e-7"},
    };
    for (size_t i = 0; i < COUNT(nums); i++) {
        buf b = {0};
        json_num(&b, nums[i].d);
        T_EQ_STR(nums[i].name, b.p, nums[i].want);
        buf_free(&b);
    }
    {
        buf b = {0};
        json_num(&b, NAN); buf_putc(&b, ' ');
        json_num(&b, HUGE_VAL); buf_putc(&b, ' ');
        json_num(&b, -HUGE_VAL);
        T_EQ_STR("json_num NaN and infinities are null", b.p, "null null null");
        buf_free(&b);
    }
    {
        /* every output reads back to the same double */
        double vals[] = {1.0 / 3, 2.0 / 3, 5e-324, 123456789.123456789, 6.02214076e23, 1e-300, 0.007, 4.35,
                         9007199254740993.0, 3.0000000000000004, -1e-10};
        int all = 1;
        for (size_t i = 0; i < COUNT(vals); i++) {
            buf b = {0};
            json_num(&b, vals[i]);
            if (strtod(b.p, NULL) != vals[i]) { all = 0; printf("#   %s does not read back\n", b.p); }
            buf_free(&b);
        }
        T_OK("json_num output reads back exactly", all);
    }
}

/*--- (d) base64, SHA-256, HMAC-SHA256 ---*/

static void hex_of(const unsigned char *p, size_t n, char *out) {
    for (size_t i = 0; i < n; i++) sprintf(out + 2 * i, "%02x", p[i]);
    out[2 * n] = 0;
}

static void sha_is(const char *name, const void *msg, size_t n, const char *want) {
    sha256_ctx c;
    unsigned char md[32];
    char hex[65];
    sha256_init(&c);
    sha256_update(&c, msg, n);
    sha256_final(&c, md);
    hex_of(md, 32, hex);
    T_EQ_STR(name, hex, want);
}

static void hmac_is(const char *name, const void *key, size_t kn, const void *msg, size_t mn, const char *want) {
    unsigned char md[32];
    char hex[65];
    hmac_sha256(key, kn, msg, mn, md);
    hex_of(md, 32, hex);
    hex[strlen(want)] = 0; /* truncated outputs (RFC 4231 test case 5) */
    T_EQ_STR(name, hex, want);
}

static void test_base64(void) {
    static const char *const rfc[][2] = {
        {"", ""}, {"f", "Zg=="}, {"fo", "Zm8="}, {"foo", "Zm9v"},
        {"foob", "Zm9vYg=="}, {"fooba", "Zm9vYmE="}, {"foobar", "Zm9vYmFy"},
    };
    for (size_t i = 0; i < COUNT(rfc); i++) {
        buf b = {0};
        base64_put(&b, (const unsigned char *)rfc[i][0], strlen(rfc[i][0]));
        T_EQ_STR(NAME("base64_put RFC 4648 vector \"%s\"", rfc[i][0]), b.p ? b.p : "", rfc[i][1]);
        buf_free(&b);
        unsigned char out[16];
        long n = base64_decode(rfc[i][1], strlen(rfc[i][1]), out);
        T_OK(NAME("base64_decode RFC 4648 vector \"%s\"", rfc[i][1]),
             n == (long)strlen(rfc[i][0]) && !memcmp(out, rfc[i][0], (size_t)n));
        /* unpadded */
        size_t L = strlen(rfc[i][1]);
        while (L && rfc[i][1][L - 1] == '=') L--;
        n = base64_decode(rfc[i][1], L, out);
        T_OK(NAME("base64_decode unpadded \"%.*s\"", (int)L, rfc[i][1]),
             n == (long)strlen(rfc[i][0]) && !memcmp(out, rfc[i][0], (size_t)n));
    }
    {
        buf b = {0};
        const unsigned char bin[] = {0xfb, 0xff, 0xbf, 0x00, 0x10};
        base64_put(&b, bin, sizeof bin);
        T_EQ_STR("base64_put uses + and / and encodes NUL", b.p, "+/+/ABA=");
        buf_puts(&b, "|");
        base64_put(&b, (const unsigned char *)"hi", 2);
        T_EQ_STR("base64_put appends", b.p, "+/+/ABA=|aGk=");
        buf_free(&b);
        unsigned char out[16];
        long n = base64_decode("-_-_ABA", 7, out);
        T_OK("base64_decode accepts the URL-safe alphabet", n == 5 && !memcmp(out, bin, 5));
        n = base64_decode("Zm9v\r\nYmFy", 10, out);
        T_OK("base64_decode skips CR and LF", n == 6 && !memcmp(out, "foobar", 6));
        T_EQ_INT("base64_decode refuses a character outside the alphabet", base64_decode("Zm9v*mFy", 8, out), -1);
        T_EQ_INT("base64_decode refuses a space", base64_decode("Zm9v YmFy", 9, out), -1);
        T_EQ_INT("base64_decode stops at padding", base64_decode("Zg==Zm8=", 8, out), 1);
    }
}

static void test_sha(void) {
    sha_is("SHA-256 of the empty string", "", 0, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    sha_is("SHA-256 of abc (FIPS 180-2)", "abc", 3, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    sha_is("SHA-256 of the 448-bit message (FIPS 180-2)", "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq", 56,
           "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
    const char *m896 = "abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmnhijklmnoijklmnopjklmnopqklmnopqrlmnopqrsmnopqrstnopqrstu";
    sha_is("SHA-256 of the 896-bit message", m896, strlen(m896), "cf5b16a778af8380036ce59e7b0492370b249b11e8f07a51afac45037afee9d1");
    static const struct { size_t n; const char *h; } as[] = {
        {55, "9f4390f8d30c2dd92ec9f095b65e2b9ae9b0a925a5258e241c9f1e910f734318"},
        {56, "b35439a4ac6f0948b6d6f9e3c6af0f5f590ce20f1bde7090ef7970686ec6738a"},
        {57, "f13b2d724659eb3bf47f2dd6af1accc87b81f09f59f2b75e5c0bed6589dfe8c6"},
        {63, "7d3e74a05d7db15bce4ad9ec0658ea98e3f06eeecf16b4c6fff2da457ddc2f34"},
        {64, "ffe054fe7ae0cb6dc65c3af9b61d5209f439851db43d0ba5997337df154668eb"},
        {65, "635361c48bb9eab14198e76ea8ab7f1a41685d6ad62aa9146d301d4f17eb0ae0"},
        {119, "31eba51c313a5c08226adf18d4a359cfdfd8d2e816b13f4af952f7ea6584dcfb"},
        {120, "2f3d335432c70b580af0e8e1b3674a7c020d683aa5f73aaaedfdc55af904c21c"},
    };
    char *a = malloc(1000000);
    memset(a, 'a', 1000000);
    for (size_t i = 0; i < COUNT(as); i++) sha_is(NAME("SHA-256 of %zu 'a' bytes (padding edge)", as[i].n), a, as[i].n, as[i].h);
    sha_is("SHA-256 of one million 'a' (FIPS 180-2)", a, 1000000, "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
    {
        /* fed in uneven pieces */
        sha256_ctx c;
        unsigned char md[32];
        char hex[65];
        sha256_init(&c);
        size_t off = 0, step = 1;
        while (off < 1000000) {
            size_t k = 1000000 - off < step ? 1000000 - off : step;
            sha256_update(&c, a + off, k);
            off += k;
            step = step * 3 % 257 + 1;
        }
        sha256_final(&c, md);
        hex_of(md, 32, hex);
        T_EQ_STR("SHA-256 fed in uneven pieces equals one-shot", hex, "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
    }
    free(a);

    unsigned char k20[20], k25[25], k131[131], d50[50];
    memset(k20, 0x0b, 20);
    hmac_is("HMAC-SHA256 RFC 4231 test case 1", k20, 20, "Hi There", 8,
            "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7");
    hmac_is("HMAC-SHA256 RFC 4231 test case 2", "Jefe", 4, "what do ya want for nothing?", 28,
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
    memset(k20, 0xaa, 20);
    memset(d50, 0xdd, 50);
    hmac_is("HMAC-SHA256 RFC 4231 test case 3", k20, 20, d50, 50,
            "773ea91e36800e46854db8ebd09181a72959098b3ef8c122d9635514ced565fe");
    for (int i = 0; i < 25; i++) k25[i] = (unsigned char)(i + 1);
    memset(d50, 0xcd, 50);
    hmac_is("HMAC-SHA256 RFC 4231 test case 4", k25, 25, d50, 50,
            "82558a389a443c0ea4cc819899f2083a85f0faa3e578f8077a2e3ff46729665b");
    memset(k20, 0x0c, 20);
    hmac_is("HMAC-SHA256 RFC 4231 test case 5 (truncated to 128 bits)", k20, 20, "Test With Truncation", 20,
            "a3b6167473100ee06e0c796c2955552b");
    memset(k131, 0xaa, 131);
    const char *m6 = "Test Using Larger Than Block-Size Key - Hash Key First";
    hmac_is("HMAC-SHA256 RFC 4231 test case 6 (key longer than a block)", k131, 131, m6, strlen(m6),
            "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54");
    const char *m7 = "This is a test using a larger than block-size key and a larger than block-size data. "
                     "The key needs to be hashed before being used by the HMAC algorithm.";
    hmac_is("HMAC-SHA256 RFC 4231 test case 7 (key and data longer than a block)", k131, 131, m7, strlen(m7),
            "9b09ffa71b942fcb27635fbcd5b0e944bfdc63644f0713938a7f51535c3a35e2");
}

int main(void) {
    test_literals();
    test_numbers();
    test_strings();
    test_structure();
    test_depth();
    test_misc_parse();
    test_access();
    test_writer();
    test_large();
    test_base64();
    test_sha();
    return t_done();
}
