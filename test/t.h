/* t.h: the assertions of mcp.c's C tests. Each check prints "ok - NAME" or
 * "not ok - NAME: why"; test/run.sh counts them. A test program exits 1 if any failed. */
#ifndef T_H
#define T_H
#include <stdio.h>
#include <string.h>

static int t_pass, t_fail;

#define T_OK(name, cond) t_report((name), (cond), #cond, __FILE__, __LINE__)
#define T_EQ_INT(name, got, want) t_report_int((name), (long long)(got), (long long)(want), __FILE__, __LINE__)
#define T_EQ_STR(name, got, want) t_report_str((name), (got), (want), __FILE__, __LINE__)

static inline void t_report(const char *name, int cond, const char *expr, const char *file, int line) {
    if (cond) { t_pass++; printf("ok - %s\n", name); }
    else { t_fail++; printf("not ok - %s: %s (%s:%d)\n", name, expr, file, line); }
}
static inline void t_report_int(const char *name, long long got, long long want, const char *file, int line) {
    if (got == want) { t_pass++; printf("ok - %s\n", name); }
    else { t_fail++; printf("not ok - %s: got %lld, want %lld (%s:%d)\n", name, got, want, file, line); }
}
static inline void t_report_str(const char *name, const char *got, const char *want, const char *file, int line) {
    if (got && want && !strcmp(got, want)) { t_pass++; printf("ok - %s\n", name); }
    else {
        t_fail++;
        printf("not ok - %s: got %s%s%s, want %s%s%s (%s:%d)\n", name, got ? "'" : "", got ? got : "NULL",
               got ? "'" : "", want ? "'" : "", want ? want : "NULL", want ? "'" : "", file, line);
    }
}
static inline int t_done(void) {
    printf("# %d passed, %d failed\n", t_pass, t_fail);
    return t_fail ? 1 : 0;
}
#endif
