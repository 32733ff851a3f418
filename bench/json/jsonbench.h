/* jsonbench.h: what a parser under test provides to jsonbench.c. */
#ifndef JSONBENCH_H
#define JSONBENCH_H
#include <stddef.h>
#ifdef __cplusplus
extern "C" {
#endif
typedef struct {
    long long values;   /* every value (keys not counted) */
    long long strbytes; /* decoded bytes of every string and key */
    double numsum;      /* sum of every number, in document order */
} jb_stats;
size_t simd_padding(void);
void *simd_parse(const char *buf, size_t len);
void simd_walk(void *doc, jb_stats *st);
char *simd_write(void *doc, size_t *len);
void simd_free_out(char *out);
void simd_free(void *doc);
#ifdef __cplusplus
}
#endif
#endif
