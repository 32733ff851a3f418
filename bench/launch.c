/* launch.c: exec a program and say when.
 *
 *   launch PROGRAM [ARGS...]
 *
 * Reads CLOCK_MONOTONIC, writes it to file descriptor 3 as decimal nanoseconds and a
 * newline, closes fd 3, then execv()s PROGRAM in place (same pid, same environment). The
 * benchmark's Node process reads the stamp from its end of the pipe and compares it with
 * process.hrtime.bigint() (libuv's uv_hrtime, also CLOCK_MONOTONIC) taken when the runtime's
 * first GET /next and its first answer arrive: "exec to first GET /next" starts here, after
 * fork, with only the write of the stamp (a few microseconds) before the execve.
 */
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

int main(int argc, char **argv) {
    if (argc < 2) {
        fprintf(stderr, "usage: launch PROGRAM [ARGS...]\n");
        return 2;
    }
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    char line[48];
    int n = snprintf(line, sizeof line, "%lld\n", (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec);
    if (write(3, line, (size_t)n) != n) { /* no pipe: the stamp is lost, the program still runs */ }
    close(3);
    execv(argv[1], argv + 1);
    perror(argv[1]);
    return 127;
}
