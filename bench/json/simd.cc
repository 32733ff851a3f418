// simd.cc: simdjson's DOM API (C++) behind the C interface jsonbench.c uses. One
// dom::parser is kept and reused across parses (its normal use: the parser owns the
// document's memory, so a parse invalidates the previous document); the input sits in a
// buffer with SIMDJSON_PADDING readable bytes after it, so nothing is copied.
#include <simdjson.h>
#include <cstdlib>
#include <cstring>
#include <string>

#include "jsonbench.h"

using namespace simdjson;

static dom::parser *parser;
static dom::element root;
static std::string out;

static void walk(dom::element e, jb_stats *st) {
    st->values++;
    switch (e.type()) {
    case dom::element_type::ARRAY:
        for (dom::element c : dom::array(e)) walk(c, st);
        break;
    case dom::element_type::OBJECT:
        for (dom::key_value_pair kv : dom::object(e)) { st->strbytes += kv.key.size(); walk(kv.value, st); }
        break;
    case dom::element_type::STRING: st->strbytes += std::string_view(e).size(); break;
    case dom::element_type::INT64: st->numsum += (double)int64_t(e); break;
    case dom::element_type::UINT64: st->numsum += (double)uint64_t(e); break;
    case dom::element_type::DOUBLE: st->numsum += double(e); break;
    default: break;
    }
}

extern "C" {
size_t simd_padding(void) { return SIMDJSON_PADDING; }
void *simd_parse(const char *buf, size_t len) {
    if (!parser) parser = new dom::parser();
    auto r = parser->parse(buf, len, false);
    if (r.error()) return nullptr;
    root = r.value_unsafe();
    return &root;
}
void simd_walk(void *doc, jb_stats *st) { walk(*(dom::element *)doc, st); }
char *simd_write(void *doc, size_t *len) {
    out = to_string(*(dom::element *)doc);
    *len = out.size();
    return out.data();
}
void simd_free_out(char *) {}
void simd_free(void *) {}
}
