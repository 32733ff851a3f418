/*
 * mcp.c: a Model Context Protocol server runtime in one C file, built to start in
 * microseconds as the `bootstrap` of an AWS Lambda custom runtime and to serve the same
 * tools over local HTTP and stdio. Public API and usage: mcp.h.
 *
 * Contents (leaves first; each section opens with a banner of the same name, and
 * test/map.sh checks that this list and the banners agree):
 *   1. Configuration                 compile-time knobs and their costs
 *   2. Utilities                     arena, growable buffer, base64, SHA-256, small helpers
 *   3. JSON reader                   RFC 8259 parser into one flat array of values
 *   4. JSON writer                   streaming writer with exact escaping
 *   5. Request context and logs      one request from transport to handler; log lines
 *   6. HTTP/1.1 messages             request/response heads, bodies sized or chunked
 *   7. Sockets                       listening, connecting, timed reads and writes
 *   8. TLS and the HTTP client       BearSSL, trust anchors, pooled HTTP/1.1 client
 *   9. AWS Signature Version 4       SigV4 headers and presigned URLs
 *  10. AWS calls                     services, endpoints, retries; SSM, Secrets Manager, S3
 *  11. AWS credentials and configuration   the provider chain; ssm: and secretsmanager: values
 *  12. Regular expressions           pattern: the ECMA-262 subset schemas use; format checks
 *  13. JSON Schema subset            validation of tool arguments before a handler runs
 *  14. MCP registry                  eras, tools, resources, prompts, sessions, counters
 *  15. Handler API                   mcp_call: arguments in, content and results out
 *  16. Client requests and state     elicitation, sampling, roots; requestState
 *  17. MCP methods                   one function per JSON-RPC method
 *  18. Task store                    task records: in memory or in DynamoDB, compare and swap
 *  19. Tasks                         work that outlives its request: tasks/ methods, runners
 *  20. Dispatch                      method table, era of a message, the one batch loop
 *  21. Streamable HTTP               POST /mcp: sessions, SSE, the 2026-07-28 checks
 *  22. Authentication                API keys, JWTs, IAM, OAuth metadata
 *  23. HTTP endpoints                /health, /metrics, /tools/NAME, CORS, routing
 *  24. Transports                    `serve` (HTTP/1.1 server) and `stdio`
 *  25. Event adapters                function URL / HTTP API 2.0, REST 1.0, ALB, direct
 *  26. Event sources                 EventBridge, SQS, SNS, S3, streams; AgentCore Gateway
 *  27. Lambda Runtime API            the custom-runtime loop (2018-06-01 API)
 *  28. stdio proxy                   `proxy URL`: stdio to a remote server, SigV4
 *  29. Command line                  mcp_main: Lambda, serve, stdio, call, proxy
 *
 * One request, walked: a transport reads it (serve_thread, stdio_main, lambda_loop) into
 * a req (section 5); HTTP requests go through http_route (23) to http_mcp (21), Lambda
 * events through event_decode (25) first, the others through event_other (26) to their
 * handlers, or to direct_dispatch (25) for JSON-RPC; every path ends in rpc_serve (20),
 * which resolves each message's era (era_resolve) and calls rpc_dispatch, which finds the
 * method in the method table and calls it (17); a tool's handler gets an mcp_call (15).
 * The answer goes back the same way.
 *
 * Everything not in mcp.h is static: one translation unit, nothing to clash with.
 */
#if !defined(_POSIX_C_SOURCE) && !defined(_GNU_SOURCE)
#define _POSIX_C_SOURCE 200809L
#endif
#ifndef _DEFAULT_SOURCE
#define _DEFAULT_SOURCE 1
#endif

#include "mcp.h"

#include <errno.h>
#include <fcntl.h>
#include <float.h>
#include <limits.h>
#include <math.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/types.h>
#include <arpa/inet.h>
#include <time.h>
#include <unistd.h>

/*=== MARK: - 1. Configuration (Public knobs) ===*/

/* Deepest JSON nesting accepted. Each level costs 16 bytes of parser stack. */
#ifndef MCP_MAX_DEPTH
#define MCP_MAX_DEPTH 128
#endif
/* Largest request body accepted (serve: 413 above it; Lambda caps events at 6 MB). */
#ifndef MCP_MAX_BODY
#define MCP_MAX_BODY (8u << 20)
#endif
/* Longest JSON string accepted, in bytes as written; a longer one is a parse error. By
 * default a body may be one string; lower it to bound what a handler is handed. */
#ifndef MCP_MAX_STRING
#define MCP_MAX_STRING MCP_MAX_BODY
#endif
/* Largest HTTP request head (request line and headers) in serve; 431 above it. */
#ifndef MCP_MAX_HEAD
#define MCP_MAX_HEAD 16384
#endif
/* Most headers in one HTTP message. */
#ifndef MCP_MAX_HEADERS
#define MCP_MAX_HEADERS 64
#endif
/* Tasks (section 19): how long a task is kept after it starts, at most (a 2025-11-25 client
 * may ask for less), and how often a client is told to poll. */
#ifndef MCP_TASK_TTL_MS
#define MCP_TASK_TTL_MS 3600000
#endif
#ifndef MCP_TASK_POLL_MS
#define MCP_TASK_POLL_MS 500
#endif
/* Tasks kept in memory (serve, stdio) at once, finished ones included until their TTL, and
 * task handlers running at once (a thread each, MCP_STACK_SIZE of stack): past either a new
 * task is refused or fails, and says which limit it met. */
#ifndef MCP_MAX_TASKS
#define MCP_MAX_TASKS 1024
#endif
#ifndef MCP_MAX_TASK_THREADS
#define MCP_MAX_TASK_THREADS 32
#endif
/* Concurrent connections in serve; one thread each (64 KB stack). */
#ifndef MCP_MAX_CONNS
#define MCP_MAX_CONNS 64
#endif
/* Connections in serve from one client address; the rest stay for everyone else. */
#ifndef MCP_MAX_CONNS_PER_CLIENT
#define MCP_MAX_CONNS_PER_CLIENT (MCP_MAX_CONNS * 3 / 4)
#endif
/* Seconds a serve connection may sit idle, or take to send one request, before it is closed. */
#ifndef MCP_IDLE_TIMEOUT
#define MCP_IDLE_TIMEOUT 30
#endif
/* Seconds serve gives the requests in progress to finish after SIGTERM or SIGINT. */
#ifndef MCP_SHUTDOWN_GRACE
#define MCP_SHUTDOWN_GRACE 10
#endif
/* Seconds a request's head may take from its first byte (408 after). */
#ifndef MCP_HEAD_TIMEOUT
#define MCP_HEAD_TIMEOUT 10
#endif
/* Lambda's buffered response limit (the whole payload, 6 MB): a larger answer is
 * replaced by a JSON-RPC error that says so. */
#ifndef MCP_LAMBDA_MAX_RESPONSE
#define MCP_LAMBDA_MAX_RESPONSE 6291556u
#endif
/* How long before the Lambda deadline a still-running handler's invocation is answered
 * with an error by the watchdog thread (one thread per loop, 64 KB of stack). */
#ifndef MCP_DEADLINE_MARGIN_MS
#define MCP_DEADLINE_MARGIN_MS 300
#endif
/* JSON documents and written JSON of at least this many bytes go on transparent huge
 * pages (a 2 MiB page faulted in once instead of 512 small ones; see json_big_alloc); 0
 * turns it off. */
#ifndef MCP_JSON_HUGE_MIN
#define MCP_JSON_HUGE_MIN ((size_t)256 << 10)
#endif
/* Tools per tools/list page. */
#ifndef MCP_PAGE_SIZE
#define MCP_PAGE_SIZE 100
#endif
/* Seconds a handler waits for the client's answer to a server-to-client request. */
#ifndef MCP_CLIENT_TIMEOUT
#define MCP_CLIENT_TIMEOUT 60
#endif
/* Stack of every thread that runs handlers: serve's connection threads and the Lambda
 * Runtime API loops beyond the first (AWS_LAMBDA_MAX_CONCURRENCY > 1). stdio, `call` and
 * the first Lambda loop run handlers on the main thread, whose stack the system sets. */
#ifndef MCP_STACK_SIZE
#define MCP_STACK_SIZE (256u << 10)
#endif

/* S3 puts larger than this go up in parts of this size (multipart upload; 5 MB at least). */
#ifndef MCP_S3_PART_SIZE
#define MCP_S3_PART_SIZE ((size_t)8 << 20)
#endif
/* AWS service calls: SigV4, SSM, Secrets Manager, S3, mcp_aws_json and mcp_aws_rest, the
 * credentials chain, ssm: and secretsmanager: values (sections 9-11), the DynamoDB task store
 * and the Lambda invocations of tasks (18, 19), the proxy's SigV4 (28). Off saves 36-40 KB
 * of code with TLS, 33-36 KB without (x86_64, hello and datatools; bench/tls.sh's table). A server built so answers those calls with an error that names this switch, and
 * refuses to start with an ssm: or secretsmanager: value or MCP_TASKS_TABLE set; tasks are
 * kept in memory only, so none are offered on Lambda. Lambda events, MCP_IAM_ALLOW and the
 * claims of API Gateway authorizers work either way. */
#ifndef MCP_ENABLE_AWS
#define MCP_ENABLE_AWS 1
#endif
/* The `proxy URL` command: stdio to a remote MCP server, SigV4-signed (section 28). Off
 * saves 6 KB of code (x86_64: datatools and hello, with or without TLS; bench/tls.sh). */
#ifndef MCP_ENABLE_PROXY
#define MCP_ENABLE_PROXY 1
#endif
/* Authentication by API keys and JWTs (section 22: MCP_API_KEYS, MCP_JWT_*, the JWKS fetch,
 * RS256/ES256/HS256). Off saves 5 KB of code with TLS, 3 KB without (x86_64, datatools and
 * hello; the files shrink by 4 KB);
 * a server built so refuses every request (403) when MCP_API_KEYS or MCP_JWT_* is set.
 * MCP_IAM_ALLOW and the claims of API Gateway authorizers work either way. */
#ifndef MCP_ENABLE_AUTH
#define MCP_ENABLE_AUTH 1
#endif
/* HTTPS for outbound calls (BearSSL). Off saves about 80 KB (x86_64, datatools and hello)
 * and the BearSSL dependency. */
#ifndef MCP_ENABLE_TLS
#define MCP_ENABLE_TLS 1
#endif
#if MCP_ENABLE_TLS
#include <bearssl.h>

/* The roots AWS endpoints chain to, trusted with no file read at start (section 8). A
 * build for another cloud or a private CA can add its roots here, in the same form. */
/* BEGIN anchors: Amazon Root CA 1-4 and Starfield Services Root G2, as test/anchors.py prints them */
static const unsigned char ta0_dn[] = {
    0x30, 0x39, 0x31, 0x0b, 0x30, 0x09, 0x06, 0x03, 0x55, 0x04, 0x06, 0x13,
    0x02, 0x55, 0x53, 0x31, 0x0f, 0x30, 0x0d, 0x06, 0x03, 0x55, 0x04, 0x0a,
    0x13, 0x06, 0x41, 0x6d, 0x61, 0x7a, 0x6f, 0x6e, 0x31, 0x19, 0x30, 0x17,
    0x06, 0x03, 0x55, 0x04, 0x03, 0x13, 0x10, 0x41, 0x6d, 0x61, 0x7a, 0x6f,
    0x6e, 0x20, 0x52, 0x6f, 0x6f, 0x74, 0x20, 0x43, 0x41, 0x20, 0x31,
};
static const unsigned char ta0_n[] = {
    0xb2, 0x78, 0x80, 0x71, 0xca, 0x78, 0xd5, 0xe3, 0x71, 0xaf, 0x47, 0x80,
    0x50, 0x74, 0x7d, 0x6e, 0xd8, 0xd7, 0x88, 0x76, 0xf4, 0x99, 0x68, 0xf7,
    0x58, 0x21, 0x60, 0xf9, 0x74, 0x84, 0x01, 0x2f, 0xac, 0x02, 0x2d, 0x86,
    0xd3, 0xa0, 0x43, 0x7a, 0x4e, 0xb2, 0xa4, 0xd0, 0x36, 0xba, 0x01, 0xbe,
    0x8d, 0xdb, 0x48, 0xc8, 0x07, 0x17, 0x36, 0x4c, 0xf4, 0xee, 0x88, 0x23,
    0xc7, 0x3e, 0xeb, 0x37, 0xf5, 0xb5, 0x19, 0xf8, 0x49, 0x68, 0xb0, 0xde,
    0xd7, 0xb9, 0x76, 0x38, 0x1d, 0x61, 0x9e, 0xa4, 0xfe, 0x82, 0x36, 0xa5,
    0xe5, 0x4a, 0x56, 0xe4, 0x45, 0xe1, 0xf9, 0xfd, 0xb4, 0x16, 0xfa, 0x74,
    0xda, 0x9c, 0x9b, 0x35, 0x39, 0x2f, 0xfa, 0xb0, 0x20, 0x50, 0x06, 0x6c,
    0x7a, 0xd0, 0x80, 0xb2, 0xa6, 0xf9, 0xaf, 0xec, 0x47, 0x19, 0x8f, 0x50,
    0x38, 0x07, 0xdc, 0xa2, 0x87, 0x39, 0x58, 0xf8, 0xba, 0xd5, 0xa9, 0xf9,
    0x48, 0x67, 0x30, 0x96, 0xee, 0x94, 0x78, 0x5e, 0x6f, 0x89, 0xa3, 0x51,
    0xc0, 0x30, 0x86, 0x66, 0xa1, 0x45, 0x66, 0xba, 0x54, 0xeb, 0xa3, 0xc3,
    0x91, 0xf9, 0x48, 0xdc, 0xff, 0xd1, 0xe8, 0x30, 0x2d, 0x7d, 0x2d, 0x74,
    0x70, 0x35, 0xd7, 0x88, 0x24, 0xf7, 0x9e, 0xc4, 0x59, 0x6e, 0xbb, 0x73,
    0x87, 0x17, 0xf2, 0x32, 0x46, 0x28, 0xb8, 0x43, 0xfa, 0xb7, 0x1d, 0xaa,
    0xca, 0xb4, 0xf2, 0x9f, 0x24, 0x0e, 0x2d, 0x4b, 0xf7, 0x71, 0x5c, 0x5e,
    0x69, 0xff, 0xea, 0x95, 0x02, 0xcb, 0x38, 0x8a, 0xae, 0x50, 0x38, 0x6f,
    0xdb, 0xfb, 0x2d, 0x62, 0x1b, 0xc5, 0xc7, 0x1e, 0x54, 0xe1, 0x77, 0xe0,
    0x67, 0xc8, 0x0f, 0x9c, 0x87, 0x23, 0xd6, 0x3f, 0x40, 0x20, 0x7f, 0x20,
    0x80, 0xc4, 0x80, 0x4c, 0x3e, 0x3b, 0x24, 0x26, 0x8e, 0x04, 0xae, 0x6c,
    0x9a, 0xc8, 0xaa, 0x0d,
};
static const unsigned char ta0_e[] = {
    0x01, 0x00, 0x01,
};
static const unsigned char ta1_dn[] = {
    0x30, 0x39, 0x31, 0x0b, 0x30, 0x09, 0x06, 0x03, 0x55, 0x04, 0x06, 0x13,
    0x02, 0x55, 0x53, 0x31, 0x0f, 0x30, 0x0d, 0x06, 0x03, 0x55, 0x04, 0x0a,
    0x13, 0x06, 0x41, 0x6d, 0x61, 0x7a, 0x6f, 0x6e, 0x31, 0x19, 0x30, 0x17,
    0x06, 0x03, 0x55, 0x04, 0x03, 0x13, 0x10, 0x41, 0x6d, 0x61, 0x7a, 0x6f,
    0x6e, 0x20, 0x52, 0x6f, 0x6f, 0x74, 0x20, 0x43, 0x41, 0x20, 0x32,
};
static const unsigned char ta1_n[] = {
    0xad, 0x96, 0x9f, 0x2d, 0x9c, 0x4a, 0x4c, 0x4a, 0x81, 0x79, 0x51, 0x99,
    0xec, 0x8a, 0xcb, 0x6b, 0x60, 0x51, 0x13, 0xbc, 0x4d, 0x6d, 0x06, 0xfc,
    0xb0, 0x08, 0x8d, 0xdd, 0x19, 0x10, 0x6a, 0xc7, 0x26, 0x0c, 0x35, 0xd8,
    0xc0, 0x6f, 0x20, 0x84, 0xe9, 0x94, 0xb1, 0x9b, 0x85, 0x03, 0xc3, 0x5b,
    0xdb, 0x4a, 0xe8, 0xc8, 0xf8, 0x90, 0x76, 0xd9, 0x5b, 0x4f, 0xe3, 0x4c,
    0xe8, 0x06, 0x36, 0x4d, 0xcc, 0x9a, 0xac, 0x3d, 0x0c, 0x90, 0x2b, 0x92,
    0xd4, 0x06, 0x19, 0x60, 0xac, 0x37, 0x44, 0x79, 0x85, 0x81, 0x82, 0xad,
    0x5a, 0x37, 0xe0, 0x0d, 0xcc, 0x9d, 0xa6, 0x4c, 0x52, 0x76, 0xea, 0x43,
    0x9d, 0xb7, 0x04, 0xd1, 0x50, 0xf6, 0x55, 0xe0, 0xd5, 0xd2, 0xa6, 0x49,
    0x85, 0xe9, 0x37, 0xe9, 0xca, 0x7e, 0xae, 0x5c, 0x95, 0x4d, 0x48, 0x9a,
    0x3f, 0xae, 0x20, 0x5a, 0x6d, 0x88, 0x95, 0xd9, 0x34, 0xb8, 0x52, 0x1a,
    0x43, 0x90, 0xb0, 0xbf, 0x6c, 0x05, 0xb9, 0xb6, 0x78, 0xb7, 0xea, 0xd0,
    0xe4, 0x3a, 0x3c, 0x12, 0x53, 0x62, 0xff, 0x4a, 0xf2, 0x7b, 0xbe, 0x35,
    0x05, 0xa9, 0x12, 0x34, 0xe3, 0xf3, 0x64, 0x74, 0x62, 0x2c, 0x3d, 0x00,
    0x49, 0x5a, 0x28, 0xfe, 0x32, 0x44, 0xbb, 0x87, 0xdd, 0x65, 0x27, 0x02,
    0x71, 0x3b, 0xda, 0x4a, 0xf7, 0x1f, 0xda, 0xcd, 0xf7, 0x21, 0x55, 0x90,
    0x4f, 0x0f, 0xec, 0xae, 0x82, 0xe1, 0x9f, 0x6b, 0xd9, 0x45, 0xd3, 0xbb,
    0xf0, 0x5f, 0x87, 0xed, 0x3c, 0x2c, 0x39, 0x86, 0xda, 0x3f, 0xde, 0xec,
    0x72, 0x55, 0xeb, 0x79, 0xa3, 0xad, 0xdb, 0xdd, 0x7c, 0xb0, 0xba, 0x1c,
    0xce, 0xfc, 0xde, 0x4f, 0x35, 0x76, 0xcf, 0x0f, 0xf8, 0x78, 0x1f, 0x6a,
    0x36, 0x51, 0x46, 0x27, 0x61, 0x5b, 0xe9, 0x9e, 0xcf, 0xf0, 0xa2, 0x55,
    0x7d, 0x7c, 0x25, 0x8a, 0x6f, 0x2f, 0xb4, 0xc5, 0xcf, 0x84, 0x2e, 0x2b,
    0xfd, 0x0d, 0x51, 0x10, 0x6c, 0xfb, 0x5f, 0x1b, 0xbc, 0x1b, 0x7e, 0xc5,
    0xae, 0x3b, 0x98, 0x01, 0x31, 0x92, 0xff, 0x0b, 0x57, 0xf4, 0x9a, 0xb2,
    0xb9, 0x57, 0xe9, 0xab, 0xef, 0x0d, 0x76, 0xd1, 0xf0, 0xee, 0xf4, 0xce,
    0x86, 0xa7, 0xe0, 0x6e, 0xe9, 0xb4, 0x69, 0xa1, 0xdf, 0x69, 0xf6, 0x33,
    0xc6, 0x69, 0x2e, 0x97, 0x13, 0x9e, 0xa5, 0x87, 0xb0, 0x57, 0x10, 0x81,
    0x37, 0xc9, 0x53, 0xb3, 0xbb, 0x7f, 0xf6, 0x92, 0xd1, 0x9c, 0xd0, 0x18,
    0xf4, 0x92, 0x6e, 0xda, 0x83, 0x4f, 0xa6, 0x63, 0x99, 0x4c, 0xa5, 0xfb,
    0x5e, 0xef, 0x21, 0x64, 0x7a, 0x20, 0x5f, 0x6c, 0x64, 0x85, 0x15, 0xcb,
    0x37, 0xe9, 0x62, 0x0c, 0x0b, 0x2a, 0x16, 0xdc, 0x01, 0x2e, 0x32, 0xda,
    0x3e, 0x4b, 0xf5, 0x9e, 0x3a, 0xf6, 0x17, 0x40, 0x94, 0xef, 0x9e, 0x91,
    0x08, 0x86, 0xfa, 0xbe, 0x63, 0xa8, 0x5a, 0x33, 0xec, 0xcb, 0x74, 0x43,
    0x95, 0xf9, 0x6c, 0x69, 0x52, 0x36, 0xc7, 0x29, 0x6f, 0xfc, 0x55, 0x03,
    0x5c, 0x1f, 0xfb, 0x9f, 0xbd, 0x47, 0xeb, 0xe7, 0x49, 0x47, 0x95, 0x0b,
    0x4e, 0x89, 0x22, 0x09, 0x49, 0xe0, 0xf5, 0x61, 0x1e, 0xf1, 0xbf, 0x2e,
    0x8a, 0x72, 0x6e, 0x80, 0x59, 0xff, 0x57, 0x3a, 0xf9, 0x75, 0x32, 0xa3,
    0x4e, 0x5f, 0xec, 0xed, 0x28, 0x62, 0xd9, 0x4d, 0x73, 0xf2, 0xcc, 0x81,
    0x17, 0x60, 0xed, 0xcd, 0xeb, 0xdc, 0xdb, 0xa7, 0xca, 0xc5, 0x7e, 0x02,
    0xbd, 0xf2, 0x54, 0x08, 0x54, 0xfd, 0xb4, 0x2d, 0x09, 0x2c, 0x17, 0x54,
    0x4a, 0x98, 0xd1, 0x54, 0xe1, 0x51, 0x67, 0x08, 0xd2, 0xed, 0x6e, 0x7e,
    0x6f, 0x3f, 0xd2, 0x2d, 0x81, 0x59, 0x29, 0x66, 0xcb, 0x90, 0x39, 0x95,
    0x11, 0x1e, 0x74, 0x27, 0xfe, 0xdd, 0xeb, 0xaf,
};
static const unsigned char ta1_e[] = {
    0x01, 0x00, 0x01,
};
static const unsigned char ta2_dn[] = {
    0x30, 0x39, 0x31, 0x0b, 0x30, 0x09, 0x06, 0x03, 0x55, 0x04, 0x06, 0x13,
    0x02, 0x55, 0x53, 0x31, 0x0f, 0x30, 0x0d, 0x06, 0x03, 0x55, 0x04, 0x0a,
    0x13, 0x06, 0x41, 0x6d, 0x61, 0x7a, 0x6f, 0x6e, 0x31, 0x19, 0x30, 0x17,
    0x06, 0x03, 0x55, 0x04, 0x03, 0x13, 0x10, 0x41, 0x6d, 0x61, 0x7a, 0x6f,
    0x6e, 0x20, 0x52, 0x6f, 0x6f, 0x74, 0x20, 0x43, 0x41, 0x20, 0x33,
};
static const unsigned char ta2_q[] = {
    0x04, 0x29, 0x97, 0xa7, 0xc6, 0x41, 0x7f, 0xc0, 0x0d, 0x9b, 0xe8, 0x01,
    0x1b, 0x56, 0xc6, 0xf2, 0x52, 0xa5, 0xba, 0x2d, 0xb2, 0x12, 0xe8, 0xd2,
    0x2e, 0xd7, 0xfa, 0xc9, 0xc5, 0xd8, 0xaa, 0x6d, 0x1f, 0x73, 0x81, 0x3b,
    0x3b, 0x98, 0x6b, 0x39, 0x7c, 0x33, 0xa5, 0xc5, 0x4e, 0x86, 0x8e, 0x80,
    0x17, 0x68, 0x62, 0x45, 0x57, 0x7d, 0x44, 0x58, 0x1d, 0xb3, 0x37, 0xe5,
    0x67, 0x08, 0xeb, 0x66, 0xde,
};
static const unsigned char ta3_dn[] = {
    0x30, 0x39, 0x31, 0x0b, 0x30, 0x09, 0x06, 0x03, 0x55, 0x04, 0x06, 0x13,
    0x02, 0x55, 0x53, 0x31, 0x0f, 0x30, 0x0d, 0x06, 0x03, 0x55, 0x04, 0x0a,
    0x13, 0x06, 0x41, 0x6d, 0x61, 0x7a, 0x6f, 0x6e, 0x31, 0x19, 0x30, 0x17,
    0x06, 0x03, 0x55, 0x04, 0x03, 0x13, 0x10, 0x41, 0x6d, 0x61, 0x7a, 0x6f,
    0x6e, 0x20, 0x52, 0x6f, 0x6f, 0x74, 0x20, 0x43, 0x41, 0x20, 0x34,
};
static const unsigned char ta3_q[] = {
    0x04, 0xd2, 0xab, 0x8a, 0x37, 0x4f, 0xa3, 0x53, 0x0d, 0xfe, 0xc1, 0x8a,
    0x7b, 0x4b, 0xa8, 0x7b, 0x46, 0x4b, 0x63, 0xb0, 0x62, 0xf6, 0x2d, 0x1b,
    0xdb, 0x08, 0x71, 0x21, 0xd2, 0x00, 0xe8, 0x63, 0xbd, 0x9a, 0x27, 0xfb,
    0xf0, 0x39, 0x6e, 0x5d, 0xea, 0x3d, 0xa5, 0xc9, 0x81, 0xaa, 0xa3, 0x5b,
    0x20, 0x98, 0x45, 0x5d, 0x16, 0xdb, 0xfd, 0xe8, 0x10, 0x6d, 0xe3, 0x9c,
    0xe0, 0xe3, 0xbd, 0x5f, 0x84, 0x62, 0xf3, 0x70, 0x64, 0x33, 0xa0, 0xcb,
    0x24, 0x2f, 0x70, 0xba, 0x88, 0xa1, 0x2a, 0xa0, 0x75, 0xf8, 0x81, 0xae,
    0x62, 0x06, 0xc4, 0x81, 0xdb, 0x39, 0x6e, 0x29, 0xb0, 0x1e, 0xfa, 0x2e,
    0x5c,
};
static const unsigned char ta4_dn[] = {
    0x30, 0x81, 0x98, 0x31, 0x0b, 0x30, 0x09, 0x06, 0x03, 0x55, 0x04, 0x06,
    0x13, 0x02, 0x55, 0x53, 0x31, 0x10, 0x30, 0x0e, 0x06, 0x03, 0x55, 0x04,
    0x08, 0x13, 0x07, 0x41, 0x72, 0x69, 0x7a, 0x6f, 0x6e, 0x61, 0x31, 0x13,
    0x30, 0x11, 0x06, 0x03, 0x55, 0x04, 0x07, 0x13, 0x0a, 0x53, 0x63, 0x6f,
    0x74, 0x74, 0x73, 0x64, 0x61, 0x6c, 0x65, 0x31, 0x25, 0x30, 0x23, 0x06,
    0x03, 0x55, 0x04, 0x0a, 0x13, 0x1c, 0x53, 0x74, 0x61, 0x72, 0x66, 0x69,
    0x65, 0x6c, 0x64, 0x20, 0x54, 0x65, 0x63, 0x68, 0x6e, 0x6f, 0x6c, 0x6f,
    0x67, 0x69, 0x65, 0x73, 0x2c, 0x20, 0x49, 0x6e, 0x63, 0x2e, 0x31, 0x3b,
    0x30, 0x39, 0x06, 0x03, 0x55, 0x04, 0x03, 0x13, 0x32, 0x53, 0x74, 0x61,
    0x72, 0x66, 0x69, 0x65, 0x6c, 0x64, 0x20, 0x53, 0x65, 0x72, 0x76, 0x69,
    0x63, 0x65, 0x73, 0x20, 0x52, 0x6f, 0x6f, 0x74, 0x20, 0x43, 0x65, 0x72,
    0x74, 0x69, 0x66, 0x69, 0x63, 0x61, 0x74, 0x65, 0x20, 0x41, 0x75, 0x74,
    0x68, 0x6f, 0x72, 0x69, 0x74, 0x79, 0x20, 0x2d, 0x20, 0x47, 0x32,
};
static const unsigned char ta4_n[] = {
    0xd5, 0x0c, 0x3a, 0xc4, 0x2a, 0xf9, 0x4e, 0xe2, 0xf5, 0xbe, 0x19, 0x97,
    0x5f, 0x8e, 0x88, 0x53, 0xb1, 0x1f, 0x3f, 0xcb, 0xcf, 0x9f, 0x20, 0x13,
    0x6d, 0x29, 0x3a, 0xc8, 0x0f, 0x7d, 0x3c, 0xf7, 0x6b, 0x76, 0x38, 0x63,
    0xd9, 0x36, 0x60, 0xa8, 0x9b, 0x5e, 0x5c, 0x00, 0x80, 0xb2, 0x2f, 0x59,
    0x7f, 0xf6, 0x87, 0xf9, 0x25, 0x43, 0x86, 0xe7, 0x69, 0x1b, 0x52, 0x9a,
    0x90, 0xe1, 0x71, 0xe3, 0xd8, 0x2d, 0x0d, 0x4e, 0x6f, 0xf6, 0xc8, 0x49,
    0xd9, 0xb6, 0xf3, 0x1a, 0x56, 0xae, 0x2b, 0xb6, 0x74, 0x14, 0xeb, 0xcf,
    0xfb, 0x26, 0xe3, 0x1a, 0xba, 0x1d, 0x96, 0x2e, 0x6a, 0x3b, 0x58, 0x94,
    0x89, 0x47, 0x56, 0xff, 0x25, 0xa0, 0x93, 0x70, 0x53, 0x83, 0xda, 0x84,
    0x74, 0x14, 0xc3, 0x67, 0x9e, 0x04, 0x68, 0x3a, 0xdf, 0x8e, 0x40, 0x5a,
    0x1d, 0x4a, 0x4e, 0xcf, 0x43, 0x91, 0x3b, 0xe7, 0x56, 0xd6, 0x00, 0x70,
    0xcb, 0x52, 0xee, 0x7b, 0x7d, 0xae, 0x3a, 0xe7, 0xbc, 0x31, 0xf9, 0x45,
    0xf6, 0xc2, 0x60, 0xcf, 0x13, 0x59, 0x02, 0x2b, 0x80, 0xcc, 0x34, 0x47,
    0xdf, 0xb9, 0xde, 0x90, 0x65, 0x6d, 0x02, 0xcf, 0x2c, 0x91, 0xa6, 0xa6,
    0xe7, 0xde, 0x85, 0x18, 0x49, 0x7c, 0x66, 0x4e, 0xa3, 0x3a, 0x6d, 0xa9,
    0xb5, 0xee, 0x34, 0x2e, 0xba, 0x0d, 0x03, 0xb8, 0x33, 0xdf, 0x47, 0xeb,
    0xb1, 0x6b, 0x8d, 0x25, 0xd9, 0x9b, 0xce, 0x81, 0xd1, 0x45, 0x46, 0x32,
    0x96, 0x70, 0x87, 0xde, 0x02, 0x0e, 0x49, 0x43, 0x85, 0xb6, 0x6c, 0x73,
    0xbb, 0x64, 0xea, 0x61, 0x41, 0xac, 0xc9, 0xd4, 0x54, 0xdf, 0x87, 0x2f,
    0xc7, 0x22, 0xb2, 0x26, 0xcc, 0x9f, 0x59, 0x54, 0x68, 0x9f, 0xfc, 0xbe,
    0x2a, 0x2f, 0xc4, 0x55, 0x1c, 0x75, 0x40, 0x60, 0x17, 0x85, 0x02, 0x55,
    0x39, 0x8b, 0x7f, 0x05,
};
static const unsigned char ta4_e[] = {
    0x01, 0x00, 0x01,
};
static const br_x509_trust_anchor aws_anchors[] = {
    {{(unsigned char *)ta0_dn, sizeof ta0_dn}, BR_X509_TA_CA, {BR_KEYTYPE_RSA, {.rsa = {(unsigned char *)ta0_n, sizeof ta0_n, (unsigned char *)ta0_e, sizeof ta0_e}}}}, /* Amazon Root CA 1 */
    {{(unsigned char *)ta1_dn, sizeof ta1_dn}, BR_X509_TA_CA, {BR_KEYTYPE_RSA, {.rsa = {(unsigned char *)ta1_n, sizeof ta1_n, (unsigned char *)ta1_e, sizeof ta1_e}}}}, /* Amazon Root CA 2 */
    {{(unsigned char *)ta2_dn, sizeof ta2_dn}, BR_X509_TA_CA, {BR_KEYTYPE_EC, {.ec = {BR_EC_secp256r1, (unsigned char *)ta2_q, sizeof ta2_q}}}}, /* Amazon Root CA 3 */
    {{(unsigned char *)ta3_dn, sizeof ta3_dn}, BR_X509_TA_CA, {BR_KEYTYPE_EC, {.ec = {BR_EC_secp384r1, (unsigned char *)ta3_q, sizeof ta3_q}}}}, /* Amazon Root CA 4 */
    {{(unsigned char *)ta4_dn, sizeof ta4_dn}, BR_X509_TA_CA, {BR_KEYTYPE_RSA, {.rsa = {(unsigned char *)ta4_n, sizeof ta4_n, (unsigned char *)ta4_e, sizeof ta4_e}}}}, /* Starfield Services Root Certificate Authority - G2 */
};
/* END anchors */
#endif

#if defined(NDEBUG)
#define ALWAYS(x) (x)
#define NEVER(x) (x)
#else
#include <assert.h>
#define ALWAYS(x) ((x) ? 1 : (assert(0), 0))
#define NEVER(x) ((x) ? (assert(0), 1) : 0)
#endif

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

/* The few helpers of the per-request path that a size-optimized (-Os) build would call
 * rather than inline: inlined all the same (measured: 8 bytes of JSON string per call). */
#if defined(__GNUC__)
#define HOT static inline __attribute__((always_inline))
#else
#define HOT static inline
#endif

/*=== MARK: - 2. Utilities (Private) ===*/

typedef struct invocation invocation;
static void log_v(int level, const invocation *inv, const char *fmt, va_list ap);

/* Fatal misuse of the API at registration time: say what and stop. */
static void die(const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    log_v(5 /* LOG_FATAL */, NULL, fmt, ap);
    va_end(ap);
    exit(2);
}

static void *xmalloc(size_t n) {
    void *p = malloc(n ? n : 1);
    if (!p) die("out of memory (%zu bytes)", n);
    return p;
}

static char *xstrdup(const char *s) {
    if (!s) return NULL;
    size_t n = strlen(s) + 1;
    return memcpy(xmalloc(n), s, n);
}

/* getenv, comparing in place up to the first byte that differs: start-up reads a dozen
 * variables from an environment of twenty or more (measured: 1.2k instructions a call with
 * musl's getenv, which calls strncmp for every entry, under Lambda's environment). */
extern char **environ;
static char *env_get(const char *name) {
    for (char **e = environ; name[0] && e && *e; e++) {
        const char *a = *e, *b = name;
        while (*b && *a == *b) a++, b++;
        if (!*b && *a == '=') return (char *)a + 1;
    }
    return NULL;
}
#define getenv(name) env_get(name)

#define GROW(arr, n) do { \
        if (((n) & ((n) - 1)) == 0) { \
            void *np_ = realloc((arr), sizeof(*(arr)) * ((n) ? (size_t)(n) * 2 : 4)); \
            if (!np_) die("out of memory"); \
            (arr) = np_; \
        } \
    } while (0)

/* A string slice: no NUL, no ownership. */
typedef struct { const char *p; size_t n; } slice;

/* Whether a[0..n) and b[0..n) are the same bytes: eight at a time (musl's memcmp goes a
 * byte at a time; keys and header names are compared on every request). */
HOT int mem_eq(const void *a, const void *b, size_t n) {
    const unsigned char *x = a, *y = b;
    uint64_t u, v;
    for (; n >= 8; n -= 8, x += 8, y += 8) {
        memcpy(&u, x, 8); memcpy(&v, y, 8);
        if (u != v) return 0;
    }
    while (n--) if (*x++ != *y++) return 0;
    return 1;
}
static int sl_eqn(slice a, const char *b, size_t n) { return a.n == n && mem_eq(a.p, b, n); }
/* b is mostly a literal, whose length is known when compiling */
#define sl_eq(a, b) sl_eqn((a), (b), strlen(b))
/* ASCII lower case of a byte value (evaluated twice: no side effects in the argument). */
#define lower(c) ((int)(c) + ((unsigned)(c) - 'A' < 26u ? 32 : 0))
/* a, b and c joined into d (n bytes, cut short if need be) without printf: the paths and
 * ids copied on every invocation. */
static void cat3(char *d, size_t n, const char *a, const char *b, const char *c) {
    size_t k = 0;
    const char *parts[3] = {a, b, c};
    for (int i = 0; i < 3; i++) {
        size_t l = strlen(parts[i]);
        if (l > n - 1 - k) l = n - 1 - k;
        memcpy(d + k, parts[i], l);
        k += l;
    }
    d[k] = 0;
}

/* Case-insensitive equality with b of n bytes (header names: looked up on every request). */
/* Eight bytes with A-Z made a-z, the others as they were. */
HOT uint64_t lower8(uint64_t x) {
    const uint64_t h = 0x8080808080808080ull, low7 = 0x7f7f7f7f7f7f7f7full;
    uint64_t y = x & low7;
    uint64_t ge_a = y + 0x3f3f3f3f3f3f3f3full;  /* high bit set where the 7 low bits >= 'A' */
    uint64_t gt_z = y + 0x2525252525252525ull;  /* high bit set where they are > 'Z' */
    uint64_t up = ge_a & ~gt_z & ~x & h;        /* and the byte is ASCII */
    return x | (up >> 2);
}
static int sl_ieqn(slice a, const char *b, size_t n) {
    if (a.n != n) return 0;
    const char *x = a.p;
    uint64_t u, v;
    for (; n >= 8; n -= 8, x += 8, b += 8) {
        memcpy(&u, x, 8); memcpy(&v, b, 8);
        if (lower8(u) != lower8(v)) return 0;
    }
    for (; n; n--, x++, b++)
        if (lower((unsigned char)*x) != lower((unsigned char)*b)) return 0;
    return 1;
}
#define sl_ieq(a, b) sl_ieqn((a), (b), strlen(b))
/* Case-insensitive search for token b in a (for header values like Accept). */
static int sl_icontains_n(slice a, const char *b, size_t n) {
    if (!n) return 1;
    int c0 = lower((unsigned char)b[0]);
    for (size_t i = 0; i + n <= a.n; i++)
        if (lower((unsigned char)a.p[i]) == c0) {
            slice at = {a.p + i, n};
            if (sl_ieqn(at, b, n)) return 1;
        }
    return 0;
}
#define sl_icontains(a, b) sl_icontains_n((a), (b), strlen(b))
static slice sl_trim(slice a) {
    while (a.n && (a.p[0] == ' ' || a.p[0] == '\t')) a.p++, a.n--;
    while (a.n && (a.p[a.n - 1] == ' ' || a.p[a.n - 1] == '\t' || a.p[a.n - 1] == '\r')) a.n--;
    return a;
}

/* Arena: per-request memory, released in one go. The first block is kept across resets
 * so a warm process reuses it and memory stays flat. */
typedef struct arena_blk { struct arena_blk *next; size_t cap, used; } arena_blk;
typedef struct { arena_blk *head; } arena;

#define ARENA_BLOCK 16384

static char *blk_base(arena_blk *b) {
    char *p = (char *)(b + 1);
    return p + ((16 - ((uintptr_t)p & 15)) & 15);
}

static void *arena_alloc(arena *a, size_t n) {
    n = (n + 15) & ~(size_t)15;
    arena_blk *b = a->head;
    if (b && b->cap - b->used >= n) {
        void *p = blk_base(b) + b->used;
        b->used += n;
        return p;
    }
    size_t cap = n > ARENA_BLOCK / 2 ? n : ARENA_BLOCK;
    arena_blk *nb = malloc(sizeof(arena_blk) + 16 + cap);
    if (!nb) return NULL;
    nb->cap = cap;
    nb->used = n;
    if (b && cap != ARENA_BLOCK) { /* a big one goes behind the open block, which stays open */
        nb->next = b->next;
        b->next = nb;
    } else {
        nb->next = b;
        a->head = nb;
    }
    return blk_base(nb);
}

static void arena_reset(arena *a) {
    arena_blk *b = a->head, *keep = NULL;
    while (b) {
        arena_blk *next = b->next;
        if (!keep && b->cap == ARENA_BLOCK) keep = b;
        else free(b);
        b = next;
    }
    if (keep) { keep->used = 0; keep->next = NULL; }
    a->head = keep;
}

static void arena_free(arena *a) {
    arena_reset(a);
    free(a->head);
    a->head = NULL;
}

static char *arena_strndup(arena *a, const char *s, size_t n) {
    char *p = arena_alloc(a, n + 1);
    if (!p) return NULL;
    memcpy(p, s, n);
    p[n] = 0;
    return p;
}

/* Blocks of up to BLK_CACHE_MAX bytes that buffers and parsed documents give back are
 * kept, a few per thread, for the next one to take: the dozen short-lived buffers and the
 * documents of a warm request then cost no malloc and no free. Bounded, so memory stays
 * flat; a thread empties its cache (blk_cache_drop) before it ends. Off under
 * AddressSanitizer, which then sees every buffer's use after free. */
#if defined(__SANITIZE_ADDRESS__)
#define BLK_CACHE_N 0
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define BLK_CACHE_N 0
#endif
#endif
#ifndef BLK_CACHE_N
#define BLK_CACHE_N 8
#endif
#define BLK_CACHE_MAX 16384
#if BLK_CACHE_N
static _Thread_local struct { void *p[BLK_CACHE_N]; size_t cap[BLK_CACHE_N]; int n; } blk_cache;
#endif

/* A cached block of at least want bytes (its size in *cap), or NULL. A block is not
 * given to a request of less than a quarter of it (or 2 KB), since a buffer's memory may
 * be kept long after (a task's record). */
static void *blk_take(size_t want, size_t *cap) {
#if BLK_CACHE_N
    size_t most = want < 1024 ? 4096 : want * 4;
    for (int i = blk_cache.n - 1; i >= 0; i--)
        if (blk_cache.cap[i] >= want && blk_cache.cap[i] <= most) {
            void *p = blk_cache.p[i];
            *cap = blk_cache.cap[i];
            blk_cache.n--;
            blk_cache.p[i] = blk_cache.p[blk_cache.n];
            blk_cache.cap[i] = blk_cache.cap[blk_cache.n];
            return p;
        }
#else
    (void)want; (void)cap;
#endif
    return NULL;
}
#if BLK_CACHE_N
/* A thread that ends gives its cached blocks back (a key's destructor), whoever started
 * it: a handler's own threads use buffers too. */
static pthread_key_t blk_key;
static pthread_once_t blk_once = PTHREAD_ONCE_INIT;
static _Thread_local int blk_keyed;
static void blk_cache_drop(void);
static void blk_key_drop(void *unused) { (void)unused; blk_cache_drop(); }
static void blk_key_init(void) { pthread_key_create(&blk_key, blk_key_drop); }
#endif

/* Give back a malloc'ed block of cap bytes: kept when small and there is room, else freed. */
static void blk_give(void *p, size_t cap) {
#if BLK_CACHE_N
    if (p && cap && cap <= BLK_CACHE_MAX && blk_cache.n < BLK_CACHE_N) {
        if (!blk_keyed) {
            pthread_once(&blk_once, blk_key_init);
            pthread_setspecific(blk_key, &blk_cache);
            blk_keyed = 1;
        }
        blk_cache.p[blk_cache.n] = p;
        blk_cache.cap[blk_cache.n++] = cap;
        return;
    }
#else
    (void)cap;
#endif
    free(p);
}
static void blk_cache_drop(void) {
#if BLK_CACHE_N
    while (blk_cache.n) free(blk_cache.p[--blk_cache.n]);
#endif
}

/* Growable byte buffer. A failed allocation sets oom and later appends are dropped, so
 * callers check once at the end. */
typedef struct { char *p; size_t len, cap; int oom; } buf;

static int buf_grow(buf *b, size_t extra) {
    if (b->oom) return 0;
    if (b->len < b->cap && extra < b->cap - b->len) return 1; /* len + extra + 1 <= cap, without overflow */
    if (extra > SIZE_MAX / 4 - b->len) { b->oom = 1; return 0; }
    if (!b->p) { /* a new buffer starts in a cached block when one is large enough */
        size_t got;
        char *p = blk_take(b->len + extra + 1, &got);
        if (p) { b->p = p; b->cap = got; return 1; }
    }
    size_t cap = b->cap ? b->cap : 256;
    while (cap < b->len + extra + 1) cap *= 2;
    char *p = realloc(b->p, cap);
    if (!p) { b->oom = 1; return 0; }
    b->p = p;
    b->cap = cap;
    return 1;
}
static void buf_put(buf *b, const void *s, size_t n) {
    if (!n || (!(b->len < b->cap && n < b->cap - b->len && !b->oom) && !buf_grow(b, n))) return;
    memcpy(b->p + b->len, s, n);
    b->len += n;
    b->p[b->len] = 0;
}
static void buf_puts(buf *b, const char *s) { buf_put(b, s, strlen(s)); }
static void buf_putc(buf *b, char c) {
    if (!(b->len + 1 < b->cap && !b->oom) && !buf_grow(b, 1)) return;
    b->p[b->len++] = c;
    b->p[b->len] = 0;
}
static void buf_vprintf(buf *b, const char *fmt, va_list ap) {
    va_list ap2;
    va_copy(ap2, ap);
    char tmp[256];
    int n = vsnprintf(tmp, sizeof tmp, fmt, ap2);
    va_end(ap2);
    if (n < 0) return;
    if ((size_t)n < sizeof tmp) { buf_put(b, tmp, (size_t)n); return; }
    if (!buf_grow(b, (size_t)n)) return;
    vsnprintf(b->p + b->len, (size_t)n + 1, fmt, ap);
    b->len += (size_t)n;
}
static void buf_printf(buf *b, const char *fmt, ...) MCP_PRINTF(2, 3);
static void buf_printf(buf *b, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    buf_vprintf(b, fmt, ap);
    va_end(ap);
}
#define BUF_KEEP (1u << 20) /* a buffer reused across requests keeps at most this */

/* Empty the buffer for reuse; give back memory a large request took. */
static void buf_reset(buf *b) {
    b->len = 0;
    b->oom = 0;
    if (b->cap > BUF_KEEP) { free(b->p); b->p = NULL; b->cap = 0; }
    else if (b->p) b->p[0] = 0;
}
static void buf_free(buf *b) { blk_give(b->p, b->cap); memset(b, 0, sizeof *b); }

/* A comma-separated list, each item trimmed, empty ones dropped; malloc'ed. */
static char **split_list(const char *s, int *n) {
    char **v = NULL;
    *n = 0;
    while (s && *s) {
        const char *e = strchr(s, ',');
        size_t l = e ? (size_t)(e - s) : strlen(s);
        slice it = {s, l};
        it = sl_trim(it);
        if (it.n) {
            GROW(v, *n);
            v[*n] = memcpy(xmalloc(it.n + 1), it.p, it.n);
            v[*n][it.n] = 0;
            (*n)++;
        }
        if (!e) break;
        s = e + 1;
    }
    return v;
}

/* A list split once; "*" alone matches anything. */
typedef struct { char **v; int n; } strlist;

static void strlist_set(strlist *l, const char *env) {
    for (int i = 0; i < l->n; i++) free(l->v[i]);
    free(l->v);
    l->v = split_list(getenv(env), &l->n);
}

static int strlist_has(const strlist *l, slice x, int nocase) {
    for (int i = 0; i < l->n; i++) {
        size_t n = strlen(l->v[i]);
        if ((n == 1 && l->v[i][0] == '*') ||
            (n == x.n && (nocase ? !strncasecmp(l->v[i], x.p, n) : !memcmp(l->v[i], x.p, n)))) return 1;
    }
    return 0;
}

static const char hexdig[] = "0123456789abcdef";
static const char b64chars[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

static void base64_put(buf *b, const unsigned char *s, size_t n) {
    if (!buf_grow(b, (n + 2) / 3 * 4)) return;
    char *o = b->p + b->len;
    size_t i = 0;
    for (; i + 2 < n; i += 3) {
        uint32_t v = (uint32_t)s[i] << 16 | (uint32_t)s[i + 1] << 8 | s[i + 2];
        *o++ = b64chars[v >> 18]; *o++ = b64chars[(v >> 12) & 63];
        *o++ = b64chars[(v >> 6) & 63]; *o++ = b64chars[v & 63];
    }
    if (i < n) {
        uint32_t v = (uint32_t)s[i] << 16 | (i + 1 < n ? (uint32_t)s[i + 1] << 8 : 0);
        *o++ = b64chars[v >> 18]; *o++ = b64chars[(v >> 12) & 63];
        *o++ = i + 1 < n ? b64chars[(v >> 6) & 63] : '=';
        *o++ = '=';
    }
    b->len = (size_t)(o - b->p);
    b->p[b->len] = 0;
}

/* Decode base64 (standard alphabet, padding optional) into out; returns bytes written or
 * -1 on a character outside the alphabet. out needs n*3/4 bytes. */
static long base64_decode(const char *s, size_t n, unsigned char *out) {
    uint32_t acc = 0;
    int bits = 0;
    long o = 0;
    for (size_t i = 0; i < n; i++) {
        int c = (unsigned char)s[i], v;
        if (c >= 'A' && c <= 'Z') v = c - 'A';
        else if (c >= 'a' && c <= 'z') v = c - 'a' + 26;
        else if (c >= '0' && c <= '9') v = c - '0' + 52;
        else if (c == '+' || c == '-') v = 62;
        else if (c == '/' || c == '_') v = 63;
        else if (c == '=') break;
        else if (c == '\n' || c == '\r') continue;
        else return -1;
        acc = acc << 6 | (uint32_t)v;
        bits += 6;
        if (bits >= 8) { bits -= 8; out[o++] = (unsigned char)(acc >> bits); }
    }
    return o;
}

#if MCP_ENABLE_TLS
/* DER and PEM reading for the TLS client's trust (section 8). */
/* A DER element's header at p: its tag, and where its n content bytes start; unlike
 * der_next, the contents may run past end (a certificate decoded only in part). */
static const unsigned char *der_head(const unsigned char *p, const unsigned char *end, int *tag, size_t *n) {
    if (end - p < 2) return NULL;
    *tag = p[0];
    *n = p[1];
    p += 2;
    if (*n & 0x80) {
        int k = (int)(*n & 0x7f);
        if (k < 1 || k > 3 || end - p < k) return NULL;
        for (*n = 0; k--; ) *n = *n << 8 | *p++;
    }
    return p;
}

/* One DER element at *p: its tag, and its contents in *v (*vn bytes). Returns its end, or NULL. */
static const unsigned char *der_next(const unsigned char *p, const unsigned char *end, int *tag,
                                     const unsigned char **v, size_t *vn) {
    p = der_head(p, end, tag, vn);
    if (!p || (size_t)(end - p) < *vn) return NULL;
    *v = p;
    return p + *vn;
}

/* The parts of a certificate that trust needs: issuer and subject (whole DER elements),
 * and the rest of tbsCertificate after the subject (the key, then the extensions). */
typedef struct { const unsigned char *iss, *sub, *rest, *end; size_t issn, subn; } cert_parts;

/* Find them in a certificate of which the first n bytes are at der. Returns 0, or -1 when
 * issuer and subject are not within those bytes. */
static int cert_dns(const unsigned char *der, size_t n, cert_parts *c) {
    const unsigned char *end = der + n, *p = der, *v;
    size_t vn;
    int tag;
    if (!(p = der_head(p, end, &tag, &vn)) || tag != 0x30) return -1;   /* Certificate */
    if (!(p = der_head(p, end, &tag, &vn)) || tag != 0x30) return -1;   /* tbsCertificate */
    c->end = vn < (size_t)(end - p) ? p + vn : end;
    const unsigned char *e = der_next(p, end, &tag, &v, &vn);
    if (e && tag == 0xa0) e = der_next(p = e, end, &tag, &v, &vn);      /* [0] version, then serial */
    if (!e || !(e = der_next(p = e, end, &tag, &v, &vn))) return -1;    /* signature */
    if (!(e = der_next(p = e, end, &tag, &v, &vn)) || tag != 0x30) return -1;
    c->iss = p;                                                         /* issuer */
    c->issn = (size_t)(e - p);
    if (!(e = der_next(p = e, end, &tag, &v, &vn))) return -1;          /* validity */
    if (!(e = der_next(p = e, end, &tag, &v, &vn)) || tag != 0x30) return -1;
    c->sub = p;                                                         /* subject */
    c->subn = (size_t)(e - p);
    c->rest = e;
    return 0;
}

/* The first w (n bytes) in [s, e), or NULL. */
static const char *find_str(const char *s, const char *e, const char *w, size_t n) {
    for (; (s = memchr(s, w[0], (size_t)(e - s))) && (size_t)(e - s) >= n; s++)
        if (!memcmp(s, w, n)) return s;
    return NULL;
}

/* Decode n characters of PEM base64 into out (3n/4 bytes at most), skipping line breaks
 * and stopping at padding; returns the bytes written. Faster than base64_decode, which
 * tells every character apart with comparisons: it runs over every certificate of a bundle. */
static long pem_b64(const char *s, size_t n, unsigned char *out) {
    static unsigned char val[256]; /* 1 + the digit's value; 0 outside the alphabet */
    if (!val['/']) for (int i = 0; i < 64; i++) val[(unsigned char)b64chars[i]] = (unsigned char)(i + 1);
    uint32_t acc = 0;
    int bits = 0;
    long o = 0;
    for (const char *e = s + n; s < e; s++) {
        unsigned v = val[(unsigned char)*s];
        if (!v) { if (*s == '=') break; continue; }
        acc = acc << 6 | (v - 1);
        if ((bits += 6) >= 8) out[o++] = (unsigned char)(acc >> (bits -= 8));
    }
    return o;
}
#endif

/* SHA-256 (FIPS 180-4) and HMAC (RFC 2104): request-state integrity here, SigV4 later. */
typedef struct { uint32_t h[8]; uint64_t len; unsigned char blk[64]; size_t n; } sha256_ctx;

static const uint32_t sha256_k[64] = {
    0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
    0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
    0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
    0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
    0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
    0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
    0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
    0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
};

#define ROR32(x, n) (((x) >> (n)) | ((x) << (32 - (n))))

static void sha256_block(sha256_ctx *c, const unsigned char *p) {
    uint32_t w[64], a, b, d, e, f, g, h, cc, t1, t2;
    for (int i = 0; i < 16; i++)
        w[i] = (uint32_t)p[4 * i] << 24 | (uint32_t)p[4 * i + 1] << 16 | (uint32_t)p[4 * i + 2] << 8 | p[4 * i + 3];
    for (int i = 16; i < 64; i++) {
        uint32_t s0 = ROR32(w[i - 15], 7) ^ ROR32(w[i - 15], 18) ^ (w[i - 15] >> 3);
        uint32_t s1 = ROR32(w[i - 2], 17) ^ ROR32(w[i - 2], 19) ^ (w[i - 2] >> 10);
        w[i] = w[i - 16] + s0 + w[i - 7] + s1;
    }
    a = c->h[0]; b = c->h[1]; cc = c->h[2]; d = c->h[3];
    e = c->h[4]; f = c->h[5]; g = c->h[6]; h = c->h[7];
    for (int i = 0; i < 64; i++) {
        t1 = h + (ROR32(e, 6) ^ ROR32(e, 11) ^ ROR32(e, 25)) + ((e & f) ^ (~e & g)) + sha256_k[i] + w[i];
        t2 = (ROR32(a, 2) ^ ROR32(a, 13) ^ ROR32(a, 22)) + ((a & b) ^ (a & cc) ^ (b & cc));
        h = g; g = f; f = e; e = d + t1; d = cc; cc = b; b = a; a = t1 + t2;
    }
    c->h[0] += a; c->h[1] += b; c->h[2] += cc; c->h[3] += d;
    c->h[4] += e; c->h[5] += f; c->h[6] += g; c->h[7] += h;
}

static void sha256_init(sha256_ctx *c) {
    static const uint32_t iv[8] = {0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a,
                                   0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19};
    memcpy(c->h, iv, sizeof iv);
    c->len = 0;
    c->n = 0;
}

static void sha256_update(sha256_ctx *c, const void *data, size_t n) {
    const unsigned char *p = data;
    c->len += n;
    while (n) {
        size_t k = 64 - c->n < n ? 64 - c->n : n;
        memcpy(c->blk + c->n, p, k);
        c->n += k; p += k; n -= k;
        if (c->n == 64) { sha256_block(c, c->blk); c->n = 0; }
    }
}

static void sha256_final(sha256_ctx *c, unsigned char out[32]) {
    uint64_t bits = c->len * 8;
    unsigned char pad = 0x80, z = 0;
    sha256_update(c, &pad, 1);
    while (c->n != 56) sha256_update(c, &z, 1);
    unsigned char L[8];
    for (int i = 0; i < 8; i++) L[i] = (unsigned char)(bits >> (56 - 8 * i));
    sha256_update(c, L, 8);
    for (int i = 0; i < 8; i++) {
        out[4 * i] = (unsigned char)(c->h[i] >> 24); out[4 * i + 1] = (unsigned char)(c->h[i] >> 16);
        out[4 * i + 2] = (unsigned char)(c->h[i] >> 8); out[4 * i + 3] = (unsigned char)c->h[i];
    }
}

static void hmac_sha256(const void *key, size_t kn, const void *msg, size_t mn, unsigned char out[32]) {
    unsigned char k[64] = {0}, ipad[64], opad[64], inner[32];
    sha256_ctx c;
    if (kn > 64) { sha256_init(&c); sha256_update(&c, key, kn); sha256_final(&c, k); }
    else memcpy(k, key, kn);
    for (int i = 0; i < 64; i++) { ipad[i] = k[i] ^ 0x36; opad[i] = k[i] ^ 0x5c; }
    sha256_init(&c); sha256_update(&c, ipad, 64); sha256_update(&c, msg, mn); sha256_final(&c, inner);
    sha256_init(&c); sha256_update(&c, opad, 64); sha256_update(&c, inner, 32); sha256_final(&c, out);
}

static uint64_t now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}
static uint64_t mono_us(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000 + (uint64_t)ts.tv_nsec / 1000;
}

/* UTC calendar fields of a Unix time (days to civil date after Howard Hinnant's
 * days_from_civil inverse), without libc's time-zone machinery. */
typedef struct { int year, mon, day, hour, min, sec; } utc_time;

static utc_time utc_of(int64_t t) {
    utc_time u;
    int64_t days = t / 86400, rem = t % 86400;
    if (rem < 0) { rem += 86400; days--; }
    u.hour = (int)(rem / 3600);
    u.min = (int)(rem / 60 % 60);
    u.sec = (int)(rem % 60);
    days += 719468;
    int64_t era = (days >= 0 ? days : days - 146096) / 146097;
    unsigned doe = (unsigned)(days - era * 146097);
    unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    unsigned mp = (5 * doy + 2) / 153;
    u.day = (int)(doy - (153 * mp + 2) / 5 + 1);
    u.mon = (int)(mp < 10 ? mp + 3 : mp - 9);
    u.year = (int)(yoe + era * 400 + (u.mon <= 2));
    return u;
}

/* nbytes random bytes as hex into out (2*nbytes+1 bytes). */
static void random_hex(char *out, size_t nbytes) {
    unsigned char r[32];
    if (nbytes > sizeof r) nbytes = sizeof r;
    if (getentropy(r, nbytes)) {
        uint64_t t = mono_us() ^ ((uint64_t)getpid() << 32);
        for (size_t i = 0; i < nbytes; i++) { t = t * 6364136223846793005ull + 1442695040888963407ull; r[i] = (unsigned char)(t >> 56); }
    }
    for (size_t i = 0; i < nbytes; i++) { out[2 * i] = hexdig[r[i] >> 4]; out[2 * i + 1] = hexdig[r[i] & 15]; }
    out[2 * nbytes] = 0;
}

/*=== MARK: - 3. JSON reader (Public: mcp_json_*) ===*/
/*
 * RFC 8259, strictly: no comments, no trailing commas, no leading zeros, no NaN, UTF-8
 * validated (overlong forms, surrogates and code points above U+10FFFF refused), escapes
 * decoded with surrogate pairs joined and lone surrogates refused. The parser is
 * iterative (depth is a counter, not the C stack) and writes every value into one array;
 * strings are decoded in place in the document's own copy of the text, so a string
 * without escapes costs one scan and no copy.
 */

/* A document is one allocation: this header, then (mcp_json_parse) the copy of the text,
 * then the value array. Only a value array that outgrows its estimate moves out. */
struct mcp_json_doc {
    mcp_json *v;
    size_t n, cap;
    char *text;     /* the input, strings decoded in place: the block's copy or the caller's */
    int own_text;   /* text is a separate allocation that goes with the document */
    int own_v;      /* v grew out of the block into an allocation of its own */
    size_t blk;     /* the block's size when it may go back to the cache (blk_give), else 0 */
};

/* Large blocks (documents, written JSON) go on transparent huge pages where the kernel
 * offers them for madvise'd memory (Linux's default mode, "madvise"). A fresh process pays
 * a page fault for every 4 KiB page it first touches, and under a hypervisor (Firecracker,
 * which Lambda uses) each costs 20-40 us here: a 2 MB document touches a thousand pages,
 * while one 2 MiB page is faulted in about as long as ten small ones. The price: resident
 * memory rounded up to 2 MiB per block while it lives, and on bare metal, where a small
 * fault costs well under a microsecond, zeroing a whole huge page makes a block near
 * MCP_JSON_HUGE_MIN slower to fill (by about 0.1 ms). The block is malloc's (posix_memalign),
 * so free() and realloc() take it. */
#define JSON_HUGE_PAGE ((size_t)2 << 20)
static const size_t json_huge_min = MCP_JSON_HUGE_MIN ? MCP_JSON_HUGE_MIN : SIZE_MAX; /* 0: never */

static void *json_big_alloc(size_t n) {
#if defined(__linux__) && defined(MADV_HUGEPAGE)
    if (n >= json_huge_min && n <= SIZE_MAX - JSON_HUGE_PAGE) {
        size_t r = (n + JSON_HUGE_PAGE - 1) & ~(JSON_HUGE_PAGE - 1);
        void *p;
        if (!posix_memalign(&p, JSON_HUGE_PAGE, r)) {
            madvise(p, r, MADV_HUGEPAGE); /* a hint: without it, ordinary pages */
            return p;
        }
    }
#endif
    return malloc(n ? n : 1);
}

/* Character classes for the string scanner: 0 plain, 1 quote or backslash, 2 control,
 * 3 non-ASCII. */
static const unsigned char json_sclass[256] = {
#define C2 2,2,2,2,2,2,2,2,2,2,2,2,2,2,2,2
#define C3 3,3,3,3,3,3,3,3,3,3,3,3,3,3,3,3
    C2, C2,
    0,0,1,0,0,0,0,0,0,0,0,0,0,0,0,0,
    0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,
    0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,
    0,0,0,0,0,0,0,0,0,0,0,0,1,0,0,0,
    0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,
    0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,
    C3, C3, C3, C3, C3, C3, C3, C3,
#undef C2
#undef C3
};

static const double json_pow10[] = {
    1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11,
    1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22,
};

#if (defined(__x86_64__) || defined(__i386__)) && !defined(MCP_NO_X87)
#if LDBL_MANT_DIG == 64
#define JSON_X87 1
static const long double json_pow10l[] = {
    1e0L, 1e1L, 1e2L, 1e3L, 1e4L, 1e5L, 1e6L, 1e7L, 1e8L, 1e9L, 1e10L, 1e11L, 1e12L, 1e13L,
    1e14L, 1e15L, 1e16L, 1e17L, 1e18L, 1e19L, 1e20L, 1e21L, 1e22L, 1e23L, 1e24L, 1e25L, 1e26L, 1e27L,
};
#endif
#endif

static int hexval(int c) {
    if (c >= '0' && c <= '9') return c - '0';
    c |= 32;
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    return -1;
}

/* Length of a valid UTF-8 sequence at p (p[0] >= 0x80), or 0. */
static int utf8_seq(const unsigned char *p, const unsigned char *end) {
    unsigned c = p[0];
    if (c >= 0xC2 && c <= 0xDF) return end - p >= 2 && (p[1] & 0xC0) == 0x80 ? 2 : 0;
    if (c >= 0xE0 && c <= 0xEF) {
        if (end - p < 3 || (p[1] & 0xC0) != 0x80 || (p[2] & 0xC0) != 0x80) return 0;
        if (c == 0xE0 && p[1] < 0xA0) return 0; /* overlong */
        if (c == 0xED && p[1] >= 0xA0) return 0; /* UTF-16 surrogate */
        return 3;
    }
    if (c >= 0xF0 && c <= 0xF4) {
        if (end - p < 4 || (p[1] & 0xC0) != 0x80 || (p[2] & 0xC0) != 0x80 ||
            (p[3] & 0xC0) != 0x80)
            return 0;
        if (c == 0xF0 && p[1] < 0x90) return 0; /* overlong */
        if (c == 0xF4 && p[1] >= 0x90) return 0; /* above U+10FFFF */
        return 4;
    }
    return 0;
}

static char *utf8_put(char *w, uint32_t cp) {
    if (cp < 0x80) *w++ = (char)cp;
    else if (cp < 0x800) { *w++ = (char)(0xC0 | cp >> 6); *w++ = (char)(0x80 | (cp & 63)); }
    else if (cp < 0x10000) {
        *w++ = (char)(0xE0 | cp >> 12); *w++ = (char)(0x80 | ((cp >> 6) & 63));
        *w++ = (char)(0x80 | (cp & 63));
    } else {
        *w++ = (char)(0xF0 | cp >> 18); *w++ = (char)(0x80 | ((cp >> 12) & 63));
        *w++ = (char)(0x80 | ((cp >> 6) & 63)); *w++ = (char)(0x80 | (cp & 63));
    }
    return w;
}

typedef struct {
    mcp_json_doc *d;
    char *start, *end;
    mcp_json_err *err;
} jparser;

static int jfail(jparser *P, const char *at, int code, const char *msg) {
    if (P->err) {
        P->err->code = code;
        P->err->pos = (size_t)(at - P->start);
        P->err->msg = msg;
    }
    return 0;
}

/* The value array outgrew the block's estimate: it moves to an allocation of its own,
 * which then doubles. */
static int jgrow(mcp_json_doc *d) {
    size_t cap = d->cap * 2;
    mcp_json *v;
    if (cap > SIZE_MAX / 2 / sizeof *v) return 0;
    if (d->own_v) v = realloc(d->v, cap * sizeof *v);
    else if ((v = json_big_alloc(cap * sizeof *v))) memcpy(v, d->v, d->n * sizeof *v);
    if (!v) return 0;
    d->v = v;
    d->cap = cap;
    d->own_v = 1;
    return 1;
}

static mcp_json *jpush(jparser *P) {
    mcp_json_doc *d = P->d;
    if (d->n == d->cap && !jgrow(d)) return NULL;
    return &d->v[d->n++];
}

/* Whether eight bytes of string text hold a byte below 0x20, a quote, a backslash or a
 * non-ASCII byte (borrows may mark more: the byte loops after it sort those out). */
HOT uint64_t jstop8m(const unsigned char *p, uint64_t *word) {
    const uint64_t ones = 0x0101010101010101ull, highs = 0x8080808080808080ull;
    uint64_t x, q, b;
    memcpy(&x, p, 8);
    q = x ^ (ones * '"');
    b = x ^ (ones * '\\');
    *word = x;
    return (((x - ones * 0x20) & ~x) | ((q - ones) & ~q) | ((b - ones) & ~b) | x) & highs;
}
#define jstop8(p, word) (jstop8m((p), (word)) != 0)
/* The first byte jstop8m marked: the lowest mark is always a real one (borrows only mark
 * bytes above it), so a scan can jump to it. */
#if defined(__GNUC__) && defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
#define JSTOP_SKIP(m) ((size_t)__builtin_ctzll(m) >> 3)
#else
#define JSTOP_SKIP(m) ((size_t)0)
#endif

/* Parse the string whose opening quote is at *pp; decode in place. */
static int jstring(jparser *P, char **pp, mcp_json *v) {
    unsigned char *p = (unsigned char *)*pp + 1, *end = (unsigned char *)P->end;
    unsigned char *s = p;
    uint64_t x;
    for (;;) { /* fast scan: no escapes yet, nothing to move; eight plain bytes at a time */
        uint64_t m = 0;
        while (end - p >= 8 && !(m = jstop8m(p, &x))) p += 8;
        if (m) p += JSTOP_SKIP(m);
        while (!json_sclass[*p]) p++;
        if (*p == '"') {
            if ((size_t)(p - s) > MCP_MAX_STRING) return jfail(P, (char *)s - 1, MCP_JSON_E_STRING, "string longer than the limit (MCP_MAX_STRING)");
            v->type = MCP_JSON_STRING;
            v->s = (const char *)s;
            v->len = (uint32_t)(p - s);
            *p = 0;
            *pp = (char *)p + 1;
            return 1;
        }
        if (*p >= 0x80) {
            int n = utf8_seq(p, end);
            if (!n) return jfail(P, (char *)p, MCP_JSON_E_STRING, "invalid UTF-8 in string");
            p += n;
            continue;
        }
        break;
    }
    unsigned char *w = p;
    for (;;) {
        while (end - p >= 8 && !jstop8(p, &x)) { /* plain runs move a word at a time; w <= p */
            memcpy(w, &x, 8);
            w += 8;
            p += 8;
        }
        unsigned c = *p;
        if (!json_sclass[c]) { *w++ = *p++; continue; }
        if (c == '"') break;
        if (c == '\\') {
            p++;
            switch (*p) {
            case '"': *w++ = '"'; p++; break;
            case '\\': *w++ = '\\'; p++; break;
            case '/': *w++ = '/'; p++; break;
            case 'b': *w++ = '\b'; p++; break;
            case 'f': *w++ = '\f'; p++; break;
            case 'n': *w++ = '\n'; p++; break;
            case 'r': *w++ = '\r'; p++; break;
            case 't': *w++ = '\t'; p++; break;
            case 'u': {
                uint32_t cp = 0;
                for (int i = 1; i <= 4; i++) {
                    int h = hexval(p[i]);
                    if (h < 0) return jfail(P, (char *)p - 1, MCP_JSON_E_STRING, "bad \\u escape");
                    cp = cp << 4 | (uint32_t)h;
                }
                p += 5;
                if (cp >= 0xDC00 && cp <= 0xDFFF)
                    return jfail(P, (char *)p - 6, MCP_JSON_E_STRING, "lone low surrogate");
                if (cp >= 0xD800 && cp <= 0xDBFF) {
                    uint32_t lo = 0;
                    if (p[0] != '\\' || p[1] != 'u')
                        return jfail(P, (char *)p - 6, MCP_JSON_E_STRING, "lone high surrogate");
                    for (int i = 2; i <= 5; i++) {
                        int h = hexval(p[i]);
                        if (h < 0) return jfail(P, (char *)p, MCP_JSON_E_STRING, "bad \\u escape");
                        lo = lo << 4 | (uint32_t)h;
                    }
                    if (lo < 0xDC00 || lo > 0xDFFF)
                        return jfail(P, (char *)p - 6, MCP_JSON_E_STRING, "lone high surrogate");
                    p += 6;
                    cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
                }
                w = (unsigned char *)utf8_put((char *)w, cp);
                break;
            }
            default:
                if (p >= end) return jfail(P, (char *)p, MCP_JSON_E_EOF, "unterminated string");
                return jfail(P, (char *)p - 1, MCP_JSON_E_STRING, "bad escape in string");
            }
            continue;
        }
        if (c >= 0x80) {
            int n = utf8_seq(p, end);
            if (!n) return jfail(P, (char *)p, MCP_JSON_E_STRING, "invalid UTF-8 in string");
            while (n--) *w++ = *p++;
            continue;
        }
        if (p >= end) return jfail(P, (char *)p, MCP_JSON_E_EOF, "unterminated string");
        return jfail(P, (char *)p, MCP_JSON_E_STRING, "control character in string");
    }
    if ((size_t)(p - s) > MCP_MAX_STRING) return jfail(P, (char *)s - 1, MCP_JSON_E_STRING, "string longer than the limit (MCP_MAX_STRING)");
    v->type = MCP_JSON_STRING;
    v->s = (const char *)s;
    v->len = (uint32_t)(w - s);
    *w = 0;
    *pp = (char *)p + 1;
    return 1;
}

static int jnumber(jparser *P, char **pp, mcp_json *v) {
    const char *p = *pp, *s = p;
    int neg = 0, isint = 1, dropped = 0;
    uint64_t m = 0;
    int digits = 0, exp10 = 0;
    if (*p == '-') { neg = 1; p++; }
    if (*p == '0') {
        p++;
        if (*p >= '0' && *p <= '9') return jfail(P, p, MCP_JSON_E_NUMBER, "leading zero in number");
    } else if (*p >= '1' && *p <= '9') {
        while (*p >= '0' && *p <= '9') {
            if (digits < 19) m = m * 10 + (uint64_t)(*p - '0'), digits++;
            else exp10++, dropped |= *p != '0';
            p++;
        }
    } else return jfail(P, p, MCP_JSON_E_NUMBER, "malformed number");
    if (*p == '.') {
        isint = 0;
        p++;
        if (!(*p >= '0' && *p <= '9')) return jfail(P, p, MCP_JSON_E_NUMBER, "digit expected after '.'");
        while (*p >= '0' && *p <= '9') {
            if (digits < 19) {
                m = m * 10 + (uint64_t)(*p - '0');
                if (m) digits++;
                exp10--;
            } else dropped |= *p != '0';
            p++;
        }
    }
    if (*p == 'e' || *p == 'E') {
        isint = 0;
        p++;
        int eneg = 0, e = 0;
        if (*p == '+' || *p == '-') eneg = *p++ == '-';
        if (!(*p >= '0' && *p <= '9')) return jfail(P, p, MCP_JSON_E_NUMBER, "digit expected in exponent");
        while (*p >= '0' && *p <= '9') {
            if (e < 100000) e = e * 10 + (*p - '0');
            p++;
        }
        exp10 += eneg ? -e : e;
    }
    double d;
    int done = 0;
    /* Exact when the digits fit a double's 53-bit mantissa and 10^|e| is exact (Clinger's
     * fast path). */
    if (digits <= 19 && m <= (1ull << 53) && exp10 >= -22 && exp10 <= 22) {
        d = (double)m;
        d = exp10 < 0 ? d / json_pow10[-exp10] : d * json_pow10[exp10];
        done = 1;
    }
#if JSON_X87
    /* Up to 19 digits: x87's 64-bit mantissa holds m and 10^|e| (|e| <= 27) exactly, so one
     * rounding gives q; rounding q to a double is then correct unless q sits within one
     * unit of its last place of a halfway point between two doubles, which is checked. */
    else if (!dropped && m && exp10 >= -27 && exp10 <= 27) {
        long double q = (long double)m;
        q = exp10 < 0 ? q / json_pow10l[-exp10] : q * json_pow10l[exp10];
        uint64_t mant;
        memcpy(&mant, &q, sizeof mant); /* the explicit 64-bit significand */
        unsigned low = (unsigned)(mant & 0x7ff);
        if (low < 0x3ff || low > 0x401) { d = (double)q; done = 1; }
    }
#endif
    if (done) {
        if (neg) d = -d;
    } else {
        char tmp[64], *t = tmp;
        size_t n = (size_t)(p - s);
        if (n >= sizeof tmp && !(t = malloc(n + 1))) return jfail(P, s, MCP_JSON_E_MEMORY, "out of memory");
        memcpy(t, s, n);
        t[n] = 0;
        d = strtod(t, NULL);
        if (t != tmp) free(t);
    }
    v->type = MCP_JSON_NUMBER | (isint ? MCP_JSON_F_INT : 0);
    v->s = s;
    v->len = (uint32_t)(p - s);
    v->u.d = d;
    *pp = (char *)p;
    return 1;
}

/* Whitespace: most often none (one compare), else indentation, skipped eight spaces at a
 * time. The text ends in a NUL, which stops every loop. */
static char *jws(char *p, const char *end) {
    if ((unsigned char)*p > ' ') return p;
    for (;;) {
        while (end - p >= 8) {
            uint64_t x;
            memcpy(&x, p, 8);
            if (x != 0x2020202020202020ull) break;
            p += 8;
        }
        if (*p == ' ' || *p == '\n' || *p == '\r' || *p == '\t') p++;
        else return p;
    }
}
#define JWS(p) ((p) = jws((p), P->end))

/* Parse [text, text+len), which must be followed by a writable NUL. */
static int jparse(jparser *P, int max_depth) {
    char *p = P->start;
    size_t stack_buf[64], *stack = stack_buf; /* indices of open containers */
    uint32_t count_buf[64], *count = count_buf;
    int depth = 0, ok = 0;
    if (max_depth <= 0) max_depth = MCP_MAX_DEPTH;
    mcp_json *v;
value:
    JWS(p);
    if (!(v = jpush(P))) { jfail(P, p, MCP_JSON_E_MEMORY, "out of memory"); goto out; }
    switch (*p) {
    case '"':
        if (!jstring(P, &p, v)) goto out;
        break;
    case '-': case '0': case '1': case '2': case '3': case '4':
    case '5': case '6': case '7': case '8': case '9':
        if (!jnumber(P, &p, v)) goto out;
        break;
    case 't':
        if (strncmp(p, "true", 4)) { jfail(P, p, MCP_JSON_E_SYNTAX, "invalid literal"); goto out; }
        v->type = MCP_JSON_TRUE; v->len = 0; v->s = NULL; p += 4;
        break;
    case 'f':
        if (strncmp(p, "false", 5)) { jfail(P, p, MCP_JSON_E_SYNTAX, "invalid literal"); goto out; }
        v->type = MCP_JSON_FALSE; v->len = 0; v->s = NULL; p += 5;
        break;
    case 'n':
        if (strncmp(p, "null", 4)) { jfail(P, p, MCP_JSON_E_SYNTAX, "invalid literal"); goto out; }
        v->type = MCP_JSON_NULL; v->len = 0; v->s = NULL; p += 4;
        break;
    case '[':
    case '{':
        if (depth >= max_depth) { jfail(P, p, MCP_JSON_E_DEPTH, "nesting too deep"); goto out; }
        if (depth == 64 && stack == stack_buf) { /* deeper than the stack's own room: allocated only now */
            size_t *s2 = malloc((size_t)max_depth * sizeof *stack);
            uint32_t *c2 = malloc((size_t)max_depth * sizeof *count);
            if (!s2 || !c2) { free(s2); free(c2); jfail(P, p, MCP_JSON_E_MEMORY, "out of memory"); goto out; }
            memcpy(s2, stack_buf, sizeof stack_buf);
            memcpy(c2, count_buf, sizeof count_buf);
            stack = s2;
            count = c2;
        }
        v->type = *p == '[' ? MCP_JSON_ARRAY : MCP_JSON_OBJECT;
        v->s = NULL;
        stack[depth] = P->d->n - 1;
        count[depth++] = 0;
        p++;
        JWS(p);
        if (*p == (v->type == MCP_JSON_ARRAY ? ']' : '}')) { p++; goto close; }
        if (v->type == MCP_JSON_OBJECT) goto key;
        goto value;
    default:
        jfail(P, p, p >= P->end ? MCP_JSON_E_EOF : MCP_JSON_E_SYNTAX,
              p >= P->end ? "unexpected end of input" : "unexpected character");
        goto out;
    }
after:
    if (!depth) goto done;
    count[depth - 1]++;
    JWS(p);
    {
        int isobj = (P->d->v[stack[depth - 1]].type & 0xff) == MCP_JSON_OBJECT;
        if (*p == ',') {
            p++;
            if (isobj) { JWS(p); goto key; }
            goto value;
        }
        if (*p == (isobj ? '}' : ']')) { p++; goto close; }
        jfail(P, p, p >= P->end ? MCP_JSON_E_EOF : MCP_JSON_E_SYNTAX,
              p >= P->end ? "unexpected end of input" : isobj ? "expected ',' or '}'" : "expected ',' or ']'");
        goto out;
    }
close: {
        mcp_json *c = &P->d->v[stack[--depth]];
        c->len = count[depth];
        c->u.next = P->d->n - stack[depth];
        goto after;
    }
key:
    if (*p != '"') {
        jfail(P, p, p >= P->end ? MCP_JSON_E_EOF : MCP_JSON_E_SYNTAX,
              p >= P->end ? "unexpected end of input" : "expected a string key");
        goto out;
    }
    if (!(v = jpush(P))) { jfail(P, p, MCP_JSON_E_MEMORY, "out of memory"); goto out; }
    if (!jstring(P, &p, v)) goto out;
    JWS(p);
    if (*p != ':') {
        jfail(P, p, p >= P->end ? MCP_JSON_E_EOF : MCP_JSON_E_SYNTAX,
              p >= P->end ? "unexpected end of input" : "expected ':'");
        goto out;
    }
    p++;
    goto value;
done:
    JWS(p);
    if (p != P->end) { jfail(P, p, MCP_JSON_E_TRAILING, "unexpected data after the value"); goto out; }
    ok = 1;
out:
    if (stack != stack_buf) free(stack);
    if (count != count_buf) free(count);
    return ok;
}

/* One block: the header, copylen bytes of text room (0 when the text is elsewhere), then
 * the value array, for one value per 16 bytes of text (typical JSON has fewer), or per 8
 * in a block that goes on huge pages, where room not filled costs no page faults. A
 * denser document moves its array out (jgrow). */
static mcp_json_doc *json_doc_new(size_t len, size_t copylen) {
    size_t head = (sizeof(mcp_json_doc) + 15) & ~(size_t)15;
    size_t tlen = (copylen + 15) & ~(size_t)15;
    size_t cap = len / 8 + 16;
    if (len > SIZE_MAX / 32) return NULL; /* no block could hold it */
    if (head + tlen + cap * sizeof(mcp_json) < json_huge_min) cap = len / 16 + 16;
    size_t size = head + tlen + cap * sizeof(mcp_json), blk = 0;
    mcp_json_doc *d = size <= BLK_CACHE_MAX ? blk_take(size, &blk) : NULL;
    if (d) cap = (blk - head - tlen) / sizeof(mcp_json); /* all of a larger block */
    else if (!(d = json_big_alloc(size))) return NULL;
    else if (size <= BLK_CACHE_MAX) blk = size;
    d->blk = blk;
    d->text = copylen ? (char *)d + head : NULL;
    d->v = (mcp_json *)((char *)d + head + tlen);
    d->n = 0;
    d->cap = cap;
    d->own_text = 0;
    d->own_v = 0;
    return d;
}

static void json_doc_free(mcp_json_doc *d) {
    if (d->own_v) free(d->v);
    if (d->blk) blk_give(d, d->blk);
    else free(d);
}

static mcp_json_doc *json_parse_doc(mcp_json_doc *d, char *text, size_t len, int max_depth, mcp_json_err *err) {
    text[len] = 0;
    d->text = text;
    jparser P = {d, text, text + len, err};
    if (!jparse(&P, max_depth)) { json_doc_free(d); return NULL; }
    return d;
}

static int json_too_large(size_t len, mcp_json_err *err) {
    if (len <= UINT32_MAX) return 0;
    if (err) { err->code = MCP_JSON_E_MEMORY; err->pos = 0; err->msg = "document too large"; }
    return 1;
}

static void json_oom(mcp_json_err *err) {
    if (err) { err->code = MCP_JSON_E_MEMORY; err->pos = 0; err->msg = "out of memory"; }
}

/* Parse text in place (it must have a writable byte after len). Used on request buffers
 * the runtime owns, which saves the copy. */
static mcp_json_doc *json_parse_inplace(char *text, size_t len, int max_depth, mcp_json_err *err) {
    if (err) { err->code = 0; err->pos = 0; err->msg = NULL; }
    if (json_too_large(len, err)) return NULL;
    mcp_json_doc *d = json_doc_new(len, 0);
    if (!d) { json_oom(err); return NULL; }
    return json_parse_doc(d, text, len, max_depth, err);
}

mcp_json_doc *mcp_json_parse(const char *text, size_t len, int max_depth, mcp_json_err *err) {
    if (err) { err->code = 0; err->pos = 0; err->msg = NULL; }
    if (json_too_large(len, err)) return NULL;
    mcp_json_doc *d = json_doc_new(len, len + 1);
    if (!d) { json_oom(err); return NULL; }
    memcpy(d->text, text, len);
    return json_parse_doc(d, d->text, len, max_depth, err);
}

const mcp_json *mcp_json_root(const mcp_json_doc *d) { return d && d->n ? d->v : NULL; }

void mcp_json_free(mcp_json_doc *d) {
    if (!d) return;
    if (d->own_text) free(d->text);
    json_doc_free(d);
}

static size_t jsize(const mcp_json *v) {
    uint32_t t = v->type & 0xff;
    return t == MCP_JSON_ARRAY || t == MCP_JSON_OBJECT ? v->u.next : 1;
}

static const mcp_json *json_get_n(const mcp_json *o, const char *key, size_t kn);

const mcp_json *mcp_json_get(const mcp_json *o, const char *key) {
    return json_get_n(o, key, strlen(key));
}
/* Inside mcp.c keys are mostly literals: their length is known when compiling. */
#define mcp_json_get(o, key) json_get_n((o), (key), strlen(key))

/* A member by a key of kn bytes (which may hold NULs). */
static const mcp_json *json_get_n(const mcp_json *o, const char *key, size_t kn) {
    if (MCP_JSON_TYPE(o) != MCP_JSON_OBJECT) return NULL;
    const mcp_json *k = o + 1;
    for (uint32_t i = 0; i < o->len; i++) {
        const mcp_json *val = k + 1;
        if (k->len == kn && mem_eq(k->s, key, kn)) return val;
        k = val + jsize(val);
    }
    return NULL;
}

const mcp_json *mcp_json_at(const mcp_json *a, size_t i) {
    if (MCP_JSON_TYPE(a) != MCP_JSON_ARRAY || i >= a->len) return NULL;
    const mcp_json *v = a + 1;
    while (i--) v += jsize(v);
    return v;
}

const char *mcp_json_str(const mcp_json *v) {
    return MCP_JSON_TYPE(v) == MCP_JSON_STRING ? v->s : NULL;
}
double mcp_json_num(const mcp_json *v) {
    return MCP_JSON_TYPE(v) == MCP_JSON_NUMBER ? v->u.d : 0;
}
int mcp_json_bool(const mcp_json *v) { return MCP_JSON_TYPE(v) == MCP_JSON_TRUE; }

/* Exact, from the number's text: 12, 1.0, 2e3 and 1200e-2 are integers; 1.5 and
 * 1.0000000000000000001 are not; nothing outside int64 is. */
int mcp_json_int(const mcp_json *v, int64_t *out) {
    if (MCP_JSON_TYPE(v) != MCP_JSON_NUMBER) return 0;
    const char *p = v->s, *e = v->s + v->len;
    int neg = *p == '-', in_frac = 0, nd = 0;
    char d[24];
    long ex = 0, zeros = 0;
    for (p += neg; p < e && *p != 'e' && *p != 'E'; p++) {
        if (*p == '.') { in_frac = 1; continue; }
        if (in_frac) ex--;
        if (!nd && *p == '0') continue;
        if (nd < (int)sizeof d) d[nd++] = *p;
        else if (*p == '0') zeros++; /* value = digits x 10^zeros x 10^ex */
        else return 0;               /* over 24 significant digits: not an int64 */
    }
    if (p < e) { /* exponent */
        int eneg = 0;
        long x = 0;
        p++;
        if (*p == '+' || *p == '-') eneg = *p++ == '-';
        for (; p < e; p++) if (x < 100000) x = x * 10 + (*p - '0');
        ex += eneg ? -x : x;
    }
    while (nd && d[nd - 1] == '0') { nd--; ex++; }
    ex += zeros;
    if (!nd) { *out = 0; return 1; }
    if (ex < 0 || nd + ex > 19) return 0;
    uint64_t m = 0, lim = neg ? (uint64_t)INT64_MAX + 1 : (uint64_t)INT64_MAX;
    for (int i = 0; i < nd + ex; i++) {
        unsigned dig = i < nd ? (unsigned)(d[i] - '0') : 0;
        if (m > (lim - dig) / 10) return 0;
        m = m * 10 + dig;
    }
    *out = neg ? (int64_t)(0 - m) : (int64_t)m;
    return 1;
}

mcp_json_iter mcp_json_iterate(const mcp_json *c) {
    mcp_json_iter it = {NULL, 0, 0};
    mcp_json_type t = MCP_JSON_TYPE(c);
    if (t == MCP_JSON_ARRAY || t == MCP_JSON_OBJECT) {
        it.cur = c + 1;
        it.left = c->len;
        it.obj = t == MCP_JSON_OBJECT;
    }
    return it;
}

const mcp_json *mcp_json_iter_next(mcp_json_iter *it, const mcp_json **key) {
    if (!it->left) return NULL;
    it->left--;
    const mcp_json *v = it->cur;
    if (it->obj) {
        if (key) *key = v;
        v++;
    } else if (key) *key = NULL;
    it->cur = v + jsize(v);
    return v;
}

/*=== MARK: - 4. JSON writer (Private) ===*/
/*
 * Appends to a buf. One flag does the commas: set after a complete value, cleared after
 * an opening bracket or a key, so objects and arrays nest without a stack.
 */

typedef struct { buf *b; int comma; } jw;

/* Bytes written as an escape: quote, backslash, controls and DEL. */
static const unsigned char json_eclass[256] = {
    1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1, 1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,
    0,0,1,0,0,0,0,0,0,0,0,0,0,0,0,0, 0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,
    0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0, 0,0,0,0,0,0,0,0,0,0,0,0,1,0,0,0,
    0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0, 0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,1,
};

/* Whether any of the eight bytes in x needs an escape: exact (no false alarms), so a run of
 * plain text is copied eight bytes a test. */
static int jesc8(uint64_t x) {
    const uint64_t ones = 0x0101010101010101ull, highs = 0x8080808080808080ull;
    uint64_t q = x ^ (ones * '"'), b = x ^ (ones * '\\'), d = x ^ (ones * 0x7f);
    return ((((x - ones * 0x20) & ~x) | ((q - ones) & ~q) | ((b - ones) & ~b) | ((d - ones) & ~d)) & highs) != 0;
}

/* Escape s into b. *end is where the output reserved so far ends (b has room up to it):
 * this string is counted in it unescaped, and each escape moves it on by its extra bytes.
 * NULL: only this string is reserved. */
static void json_escape_to(buf *b, const char *s, size_t n, size_t *end) {
    size_t own;
    if (!end) {
        if (!buf_grow(b, n + 2)) return;
        own = b->len + n + 2;
        end = &own;
    }
    char *o = b->p + b->len;
    const unsigned char *q = (const unsigned char *)s, *e = q + n;
    *o++ = '"';
    for (;;) {
        uint64_t x;
        while (e - q >= 8) { /* the room for this string takes whole words */
            memcpy(&x, q, 8);
            if (jesc8(x)) break;
            memcpy(o, &x, 8);
            o += 8;
            q += 8;
        }
        while (q < e && !json_eclass[*q]) *o++ = (char)*q++;
        if (q == e) break;
        unsigned char c = *q++;
        int wide = c == 0x7f || (c < 0x20 && c != '\n' && c != '\r' && c != '\t' && c != '\b' && c != '\f');
        *end += wide ? 5 : 1;
        b->len = (size_t)(o - b->p);
        if (!buf_grow(b, *end - b->len)) return;
        o = b->p + b->len;
        *o++ = '\\';
        switch (c) {
        case '"': *o++ = '"'; break;
        case '\\': *o++ = '\\'; break;
        case '\n': *o++ = 'n'; break;
        case '\r': *o++ = 'r'; break;
        case '\t': *o++ = 't'; break;
        case '\b': *o++ = 'b'; break;
        case '\f': *o++ = 'f'; break;
        default:
            *o++ = 'u'; *o++ = '0'; *o++ = '0'; *o++ = hexdig[c >> 4]; *o++ = hexdig[c & 15];
        }
    }
    *o++ = '"';
    b->len = (size_t)(o - b->p);
    if (end == &own) b->p[b->len] = 0;
}
static void json_escape(buf *b, const char *s, size_t n) { json_escape_to(b, s, n, NULL); }

/* Escape for JSON, replacing invalid UTF-8 with U+FFFD so the output is always valid. */
static void json_escape_lossy(buf *b, const char *s, size_t n) {
    const unsigned char *p = (const unsigned char *)s, *e = p + n;
    int clean = 1;
    for (const unsigned char *q = p; q < e;) {
        uint64_t x;
        if (e - q >= 8 && (memcpy(&x, q, 8), !(x & 0x8080808080808080ull))) { q += 8; continue; }
        if (*q < 0x80) { q++; continue; }
        int k = utf8_seq(q, e);
        if (!k) { clean = 0; break; }
        q += k;
    }
    if (clean) { json_escape(b, s, n); return; }
    buf t = {0};
    while (p < e) {
        if (*p < 0x80) { buf_putc(&t, (char)*p++); continue; }
        int k = utf8_seq(p, e);
        if (k) { buf_put(&t, p, (size_t)k); p += k; }
        else { buf_put(&t, "\xEF\xBF\xBD", 3); p++; }
    }
    json_escape(b, t.p ? t.p : "", t.len);
    buf_free(&t);
}

static void jw_sep(jw *w) {
    if (w->comma) buf_putc(w->b, ',');
    w->comma = 1;
}
static void jw_obj(jw *w) { jw_sep(w); buf_putc(w->b, '{'); w->comma = 0; }
static void jw_arr(jw *w) { jw_sep(w); buf_putc(w->b, '['); w->comma = 0; }
static void jw_end_obj(jw *w) { buf_putc(w->b, '}'); w->comma = 1; }
static void jw_end_arr(jw *w) { buf_putc(w->b, ']'); w->comma = 1; }
static void jw_keyn(jw *w, const char *k, size_t n) {
    buf *b = w->b;
    if (!buf_grow(b, n + 4)) return;
    char *o = b->p + b->len;
    size_t i = 0;
    if (w->comma) *o++ = ',';
    w->comma = 0;
    while (i < n && !json_eclass[(unsigned char)k[i]]) i++;
    if (i < n) { /* a key to escape */
        b->len = (size_t)(o - b->p);
        json_escape(b, k, n);
        buf_putc(b, ':');
        return;
    }
    *o++ = '"';
    memcpy(o, k, n);
    o += n;
    *o++ = '"';
    *o++ = ':';
    *o = 0;
    b->len = (size_t)(o - b->p);
}
/* keys are mostly literals: their length is known when compiling */
#define jw_key(w, k) jw_keyn((w), (k), strlen(k))
static void jw_strn(jw *w, const char *s, size_t n) { jw_sep(w); json_escape_lossy(w->b, s, n); }
static void jw_str(jw *w, const char *s) {
    if (!s) { jw_sep(w); buf_puts(w->b, "null"); return; }
    jw_strn(w, s, strlen(s));
}
static void jw_int(jw *w, long long v) { /* digits without printf: ids and statuses on every answer */
    char t[24];
    int i = 24;
    unsigned long long u = v < 0 ? 0ull - (unsigned long long)v : (unsigned long long)v;
    do t[--i] = (char)('0' + u % 10); while ((u /= 10));
    if (v < 0) t[--i] = '-';
    jw_sep(w);
    buf_put(w->b, t + i, (size_t)(24 - i));
}
static void jw_bool(jw *w, int v) { jw_sep(w); buf_puts(w->b, v ? "true" : "false"); }
static void jw_null(jw *w) { jw_sep(w); buf_puts(w->b, "null"); }
static void jw_raw(jw *w, const char *s, size_t n) { jw_sep(w); buf_put(w->b, s, n); }

static void json_num(buf *b, double d) {
    if (!isfinite(d)) { buf_puts(b, "null"); return; }
    if (d == floor(d) && fabs(d) < 1e15) { buf_printf(b, "%.0f", d); return; }
    char tmp[32];
    for (int prec = 15; prec <= 17; prec++) { /* the shortest that reads back exactly */
        snprintf(tmp, sizeof tmp, "%.*g", prec, d);
        if (strtod(tmp, NULL) == d) break;
    }
    buf_puts(b, tmp);
}
static void jw_num(jw *w, double d) { jw_sep(w); json_num(w->b, d); }

/* Bytes v takes written compact, escapes aside (a string is counted unescaped), with a
 * separator after every value: the output's size for typical text, found from the value
 * array alone. */
static size_t json_write_size(const mcp_json *v) {
    const mcp_json *e = v + jsize(v);
    size_t n = 0;
    for (; v < e; v++) {
        switch (MCP_JSON_TYPE(v)) {
        case MCP_JSON_NUMBER: n += v->len + 1; break;
        case MCP_JSON_STRING: n += v->len + 3; break;
        case MCP_JSON_ARRAY: case MCP_JSON_OBJECT: n += 3; break;
        default: n += 6;
        }
    }
    return n;
}

/* A parsed value, compact; numbers keep the text they were written with. Room for the
 * value (escapes aside) is made before: everything but an escape writes without checks. */
static void json_write_rec(buf *b, const mcp_json *v, size_t *end) {
    switch (MCP_JSON_TYPE(v)) {
    case MCP_JSON_NULL: memcpy(b->p + b->len, "null", 4); b->len += 4; return;
    case MCP_JSON_TRUE: memcpy(b->p + b->len, "true", 4); b->len += 4; return;
    case MCP_JSON_FALSE: memcpy(b->p + b->len, "false", 5); b->len += 5; return;
    case MCP_JSON_NUMBER: memcpy(b->p + b->len, v->s, v->len); b->len += v->len; return;
    case MCP_JSON_STRING: json_escape_to(b, v->s, v->len, end); return;
    case MCP_JSON_ARRAY:
    case MCP_JSON_OBJECT: {
        int obj = MCP_JSON_TYPE(v) == MCP_JSON_OBJECT;
        const mcp_json *c = v + 1;
        b->p[b->len++] = obj ? '{' : '[';
        for (uint32_t i = 0; i < v->len && !b->oom; i++) {
            if (i) b->p[b->len++] = ',';
            if (obj) {
                json_escape_to(b, c->s, c->len, end);
                if (b->oom) return;
                b->p[b->len++] = ':';
                c++;
            }
            json_write_rec(b, c, end);
            c += jsize(c);
        }
        if (b->oom) return;
        b->p[b->len++] = obj ? '}' : ']';
        return;
    }
    default: memcpy(b->p + b->len, "null", 4); b->len += 4;
    }
}

static void json_write_value(buf *b, const mcp_json *v) {
    if (!v) { buf_put(b, "null", 4); return; }
    size_t n = json_write_size(v), end = b->len + n;
    if (!buf_grow(b, n)) return;
    json_write_rec(b, v, &end);
    if (!b->oom) b->p[b->len] = 0;
}
static void jw_value(jw *w, const mcp_json *v) { jw_sep(w); json_write_value(w->b, v); }

char *mcp_json_write(const mcp_json *v, size_t *len) {
    buf b = {0};
    if (v) { /* one allocation of the right size for text without escapes */
        b.cap = json_write_size(v) + 1;
        if (!(b.p = json_big_alloc(b.cap))) return NULL;
    }
    json_write_value(&b, v);
    if (b.oom) { buf_free(&b); return NULL; }
    if (!b.p) buf_putc(&b, 0);
    if (len) *len = b.len;
    return b.p;
}

/* A document of its own holding a copy of v (NULL for NULL). */
static mcp_json_doc *json_copy(const mcp_json *v) {
    if (!v) return NULL;
    buf b = {0};
    json_write_value(&b, v);
    mcp_json_err e;
    mcp_json_doc *d = b.oom ? NULL : json_parse_inplace(b.p, b.len, 0, &e);
    if (d) d->own_text = 1; /* the text is the buffer's */
    else buf_free(&b);
    return d;
}

/*=== MARK: - 5. Request context and logs (Private) ===*/

/* The caller, as authentication found it (kind NULL when nothing was checked). */
typedef struct {
    const char *kind;           /* "key", "jwt", "gateway-jwt", "lambda-authorizer", "iam", "agentcore" */
    char principal[256];
    char scopes[512];           /* space-separated, as the credential granted them */
    int all_scopes;             /* API keys and IAM callers: trusted with every scope */
    mcp_json_doc *claims;       /* verified JWT claims (owned) */
    const mcp_json *gw_claims;  /* claims from an API Gateway JWT authorizer, or a Lambda authorizer's context */
    char missing_scope[256];    /* set when a tool needed a scope the caller lacks */
} auth_ctx;

/* A Lambda invocation, from the headers of GET /next. */
struct invocation {
    char id[128];               /* Lambda-Runtime-Aws-Request-Id */
    char trace[512];            /* Lambda-Runtime-Trace-Id */
    char deadline[24], arn[256], tenant[128];
    char *client_context, *cognito; /* malloc'ed per event, may be large */
};

/* Logs: every line goes through log_at. On Lambda they follow its advanced logging
 * controls, AWS_LAMBDA_LOG_FORMAT (Text or JSON) and AWS_LAMBDA_LOG_LEVEL (TRACE DEBUG INFO
 * WARN ERROR FATAL; INFO by default), and name the invocation; elsewhere a line is
 * "mcp: message". A line below the level costs one comparison. */
enum { LOG_TRACE, LOG_DEBUG, LOG_INFO, LOG_WARN, LOG_ERROR, LOG_FATAL };
static const char *const log_names[] = {"TRACE", "DEBUG", "INFO", "WARN", "ERROR", "FATAL"};
static struct { int level, lambda, json, emf; } logc = {LOG_INFO, 0, 0, 1};

static void log_setup_lambda(const char *lv, const char *fmt, const char *emf) { /* AWS_LAMBDA_LOG_LEVEL, _FORMAT, MCP_EMF */
    for (int i = 0; lv && i < (int)COUNT(log_names); i++) if (!strcasecmp(lv, log_names[i])) logc.level = i;
    logc.lambda = 1;
    logc.json = fmt && !strcasecmp(fmt, "JSON");
    logc.emf = !(emf && !strcmp(emf, "0"));
}

static void log_v(int level, const invocation *inv, const char *fmt, va_list ap) {
    if (level < logc.level) return;
    buf msg = {0}, line = {0};
    buf_vprintf(&msg, fmt, ap);
    const char *id = inv && inv->id[0] ? inv->id : NULL;
    if (logc.json) {
        uint64_t ms = now_ms();
        utc_time u = utc_of((int64_t)(ms / 1000));
        char ts[80];
        snprintf(ts, sizeof ts, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", u.year, u.mon, u.day, u.hour, u.min, u.sec,
                 (int)(ms % 1000));
        jw w = {&line, 0};
        jw_obj(&w);
        jw_key(&w, "timestamp"); jw_str(&w, ts);
        jw_key(&w, "level"); jw_str(&w, log_names[level]);
        if (id) { jw_key(&w, "requestId"); jw_str(&w, id); }
        if (inv && inv->trace[0]) { jw_key(&w, "traceId"); jw_str(&w, inv->trace); }
        jw_key(&w, "message"); jw_strn(&w, msg.p ? msg.p : "", msg.len);
        jw_end_obj(&w);
    } else if (logc.lambda) buf_printf(&line, "%s\t%s\t%s", log_names[level], id ? id : "-", msg.p ? msg.p : "");
    else { buf_puts(&line, "mcp: "); buf_put(&line, msg.p, msg.len); }
    buf_putc(&line, '\n');
    if (write(2, line.p, line.len) < 0) { /* nowhere left to say it */ }
    buf_free(&msg);
    buf_free(&line);
}

static void log_at(int level, const invocation *inv, const char *fmt, ...) MCP_PRINTF(3, 4);
static void log_at(int level, const invocation *inv, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    log_v(level, inv, fmt, ap);
    va_end(ap);
}
#define log_error(...) log_at(LOG_ERROR, NULL, __VA_ARGS__)
#define log_info(...) log_at(LOG_INFO, NULL, __VA_ARGS__)

typedef struct watchdog watchdog;

/* One request, from the transport that read it to the answer: what every layer between
 * needs and nothing more. A transport owns one per connection or loop and resets it for
 * each request, so its arena's first block is reused and memory stays flat.
 *
 * Memory, decided by measurement: the arena holds what dies with the request and is
 * made here (joined multi-value headers, decoded event bodies, request-state payloads);
 * JSON documents and buffers use malloc. Measured with callgrind on a warm tools/call
 * through a function URL event (musl's mallocng, -Os, bench/ method, (11 - 1)/10 events):
 * malloc, free and realloc take 9.3k of 98.9k instructions (9.4%), less than strlen
 * (10k) or printf (10.6k); an allocator parameter for the parser and buf is worth at most
 * that share, and is left for when the rest of the path is down to it. */
typedef struct req {
    mcp_server *s;
    const invocation *inv;      /* Lambda: the invocation; NULL elsewhere */
    uint64_t deadline_ms;       /* Unix ms by which the answer is due; 0 when none */
    watchdog *wd;               /* Lambda: answers for the request if the deadline comes first */
    auth_ctx auth;              /* the caller */
    int requests, errors;       /* JSON-RPC requests served and failed, for the metrics line */
    char tool[128];             /* the tool called last */
    arena a;                    /* memory that lives until the answer is sent */
    void *conn;                 /* serve: the connection */
    const char *peer;           /* serve: the client's address */
    void (*waiting)(struct req *r, int on); /* serve: a handler waits for the client (1) or not (0) */
} req;

static void req_init(req *r, mcp_server *s) {
    memset(r, 0, sizeof *r);
    r->s = s;
}

/* Ready r for the next request on the same connection or loop. */
static void req_reset(req *r) {
    mcp_json_free(r->auth.claims);
    r->auth.claims = NULL; /* the rest means nothing while kind is NULL (auth_check fills it whole) */
    r->auth.kind = NULL;
    r->auth.gw_claims = NULL;
    r->auth.all_scopes = 0;
    r->auth.missing_scope[0] = 0;
    r->requests = r->errors = 0;
    r->tool[0] = 0;
    arena_reset(&r->a);
}

static void req_free(req *r) {
    req_reset(r);
    arena_free(&r->a);
}

/* The request this thread serves. This is the one thread-local: the outbound helpers
 * (mcp_http_do, mcp_ssm_get, ...) take no call, yet must not run past the deadline of the
 * request a handler serves; they read it here. Set by every transport around a request. */
static _Thread_local req *cur_req;

static uint64_t req_deadline(void) { return cur_req ? cur_req->deadline_ms : 0; }

/*=== MARK: - 6. HTTP/1.1 messages (Private) ===*/
/*
 * RFC 9112 framing for both sides: a head is parsed into slices of the receive buffer, a
 * body is sized (Content-Length) or chunked (with trailers, which are read and dropped).
 * Nothing is copied; obs-fold, bare CR and conflicting lengths are refused as the RFC
 * advises against request smuggling.
 */

typedef struct { slice name, value; } hdr;

typedef struct {
    slice method, target, path, query; /* requests */
    int status;                        /* responses */
    int minor;                         /* HTTP/1.minor */
    hdr h[MCP_MAX_HEADERS];
    int nh;
    size_t head_len;
    long long clen;                    /* -1 when absent */
    int chunked, close;
} http_msg;

/* A header's value by name (case-insensitive); the length and first letter are compared
 * before the rest. */
static slice headers_find(const hdr *h, int nh, const char *name, size_t n) {
    int c0 = lower((unsigned char)name[0]);
    for (int i = 0; i < nh; i++)
        if (h[i].name.n == n && lower((unsigned char)h[i].name.p[0]) == c0 && sl_ieqn(h[i].name, name, n)) return h[i].value;
    slice none = {NULL, 0};
    return none;
}
#define http_header(m, name) headers_find((m)->h, (m)->nh, (name), strlen(name))

/* RFC 9110 tchar: letters, digits and !#$%&'*+-.^_`|~ */
static const unsigned char tchar_tab[256] = {
    ['!'] = 1, ['#'] = 1, ['$'] = 1, ['%'] = 1, ['&'] = 1, ['\''] = 1, ['*'] = 1, ['+'] = 1, ['-'] = 1,
    ['.'] = 1, ['^'] = 1, ['_'] = 1, ['`'] = 1, ['|'] = 1, ['~'] = 1,
    ['0'] = 1, ['1'] = 1, ['2'] = 1, ['3'] = 1, ['4'] = 1, ['5'] = 1, ['6'] = 1, ['7'] = 1, ['8'] = 1, ['9'] = 1,
    ['A'] = 1, ['B'] = 1, ['C'] = 1, ['D'] = 1, ['E'] = 1, ['F'] = 1, ['G'] = 1, ['H'] = 1, ['I'] = 1, ['J'] = 1,
    ['K'] = 1, ['L'] = 1, ['M'] = 1, ['N'] = 1, ['O'] = 1, ['P'] = 1, ['Q'] = 1, ['R'] = 1, ['S'] = 1, ['T'] = 1,
    ['U'] = 1, ['V'] = 1, ['W'] = 1, ['X'] = 1, ['Y'] = 1, ['Z'] = 1,
    ['a'] = 1, ['b'] = 1, ['c'] = 1, ['d'] = 1, ['e'] = 1, ['f'] = 1, ['g'] = 1, ['h'] = 1, ['i'] = 1, ['j'] = 1,
    ['k'] = 1, ['l'] = 1, ['m'] = 1, ['n'] = 1, ['o'] = 1, ['p'] = 1, ['q'] = 1, ['r'] = 1, ['s'] = 1, ['t'] = 1,
    ['u'] = 1, ['v'] = 1, ['w'] = 1, ['x'] = 1, ['y'] = 1, ['z'] = 1,
};
static int tchar(int c) { return tchar_tab[(unsigned char)c]; }

/* The buffer holding a parsed head (n bytes) moved from old to now: its slices follow
 * (those into the head; a path of "/" put in for an absolute-form target stays). */
static void head_rebase(http_msg *m, uintptr_t o, size_t n, const char *now) {
#define MOVE(sl) do { \
        uintptr_t a = (uintptr_t)(sl).p; \
        if (a >= o && a - o < n) (sl).p = now + (a - o); \
    } while (0)
    MOVE(m->method); MOVE(m->target); MOVE(m->path); MOVE(m->query);
    for (int i = 0; i < m->nh; i++) { MOVE(m->h[i].name); MOVE(m->h[i].value); }
#undef MOVE
}

/* Whether p[0..8) holds a CR, an LF or a NUL: where a header value's scan must look. */
HOT int head_stop8(const char *p) {
    const uint64_t ones = 0x0101010101010101ull, highs = 0x8080808080808080ull;
    uint64_t x, r, l;
    memcpy(&x, p, 8);
    r = x ^ (ones * '\r');
    l = x ^ (ones * '\n');
    return (((x - ones) & ~x) | ((r - ones) & ~r) | ((l - ones) & ~l)) & highs ? 1 : 0;
}

/* Parse a head in p[0..n). Returns its length, 0 if incomplete, or -status on a bad one
 * (400 malformed, 431 too many or too large headers, 505 version, 501 transfer coding). */
static long http_parse_head(const char *p, size_t n, http_msg *m, int response) {
    const char *end = NULL;
    size_t lead = 0; /* empty lines before a request line (RFC 9112 2.2) */
    while (!response && lead + 1 < n && p[lead] == '\r' && p[lead + 1] == '\n') lead += 2;
    for (const char *lf = n > lead ? memchr(p + lead, '\n', n - lead) : NULL; lf; lf = memchr(lf + 1, '\n', (size_t)(p + n - lf - 1)))
        if (lf - p >= (ptrdiff_t)lead + 3 && lf[-1] == '\r' && lf[-2] == '\n' && lf[-3] == '\r') { end = lf + 1; break; }
    /* a request line or header ending in a bare LF: refused as soon as it is seen, not at
     * the timeout, and the same whether the head arrived whole or in pieces */
    if (!response) {
        size_t scan = end ? (size_t)(end - p) : n;
        if (scan > MCP_MAX_HEAD) scan = MCP_MAX_HEAD;
        for (const char *lf = scan > lead ? memchr(p + lead, '\n', scan - lead) : NULL; lf;
             lf = memchr(lf + 1, '\n', (size_t)(p + scan - lf - 1)))
            if (lf == p || lf[-1] != '\r') return -400;
    }
    if (!end) return n > MCP_MAX_HEAD ? -431 : 0;
    if ((size_t)(end - p) > MCP_MAX_HEAD) return -431;
    memset(m, 0, offsetof(http_msg, h)); /* the header array is filled as far as nh says */
    m->nh = 0;
    m->head_len = 0;
    m->clen = -1;
    m->chunked = m->close = 0;
    const char *q = p, *le;
    /* tolerate empty lines before a request line (RFC 9112 2.2) */
    while (!response && q + 1 < end && q[0] == '\r' && q[1] == '\n') q += 2;
    le = memchr(q, '\r', (size_t)(end - q));
    if (!le || le[1] != '\n') return -400;
    if (response) {
        if (le - q < 12 || memcmp(q, "HTTP/1.", 7) || q[8] != ' ') return -400;
        m->minor = q[7] - '0';
        if (q[9] < '1' || q[9] > '9' || q[10] < '0' || q[10] > '9' || q[11] < '0' || q[11] > '9')
            return -400;
        m->status = (q[9] - '0') * 100 + (q[10] - '0') * 10 + (q[11] - '0');
    } else {
        const char *sp1 = memchr(q, ' ', (size_t)(le - q));
        if (!sp1 || sp1 == q) return -400;
        const char *sp2 = memchr(sp1 + 1, ' ', (size_t)(le - sp1 - 1));
        if (!sp2 || sp2 == sp1 + 1) return -400;
        for (const char *c = q; c < sp1; c++) if (!tchar((unsigned char)*c)) return -400;
        for (const char *c = sp1 + 1; c < sp2; c++) if ((unsigned char)*c <= 0x20 || *c == 0x7f) return -400;
        if (le - sp2 - 1 != 8 || memcmp(sp2 + 1, "HTTP/1.", 7)) return le - sp2 - 1 == 8 && !memcmp(sp2 + 1, "HTTP/", 5) ? -505 : -400;
        m->minor = sp2[8] - '0';
        if (m->minor < 0 || m->minor > 9) return -400;
        m->method.p = q; m->method.n = (size_t)(sp1 - q);
        m->target.p = sp1 + 1; m->target.n = (size_t)(sp2 - sp1 - 1);
        slice t = m->target;
        int absolute = (t.n > 7 && !strncasecmp(t.p, "http://", 7)) || (t.n > 8 && !strncasecmp(t.p, "https://", 8));
        if (absolute) {
            const char *a = (const char *)memchr(t.p, ':', t.n) + 3; /* absolute-form (RFC 9112 3.2.2): the path after the authority */
            const char *e = a;
            while (e < t.p + t.n && *e != '/' && *e != '?') e++;
            t.n -= (size_t)(e - t.p);
            t.p = e;
        }
        const char *qm = memchr(t.p, '?', t.n);
        m->path.p = t.p;
        m->path.n = qm ? (size_t)(qm - t.p) : t.n;
        if (absolute && !m->path.n) { m->path.p = "/"; m->path.n = 1; }
        if (qm) { m->query.p = qm + 1; m->query.n = (size_t)(t.p + t.n - qm - 1); }
    }
    m->close = m->minor == 0;
    /* One pass a line: the name's tchars up to ':', then the value up to CR, where LF and
     * NUL are refused. end[-2] is a CR, so neither scan can run past the head. */
    for (q = le + 2; q < end - 2; q = le + 2) {
        const char *c = q;
        while (tchar_tab[(unsigned char)*c]) c++;
        if (*c != ':' || c == q) return -400; /* obs-fold (a leading space) included */
        const char *colon = c++;
        while (end - c >= 8 && !head_stop8(c)) c += 8; /* eight plain bytes at a time */
        for (; *c != '\r'; c++)
            if (*c == '\n' || *c == 0) return -400;
        le = c;
        if (le[1] != '\n') return -400;
        size_t vn = (size_t)(le - colon - 1);
        if (m->nh == MCP_MAX_HEADERS) return -431;
        hdr *h = &m->h[m->nh++];
        h->name.p = q; h->name.n = (size_t)(colon - q);
        slice v = {colon + 1, vn};
        h->value = sl_trim(v);
        size_t hn = h->name.n;
        if (hn != 14 && hn != 17 && hn != 10) continue; /* none of the three below */
        if (sl_ieq(h->name, "content-length")) {
            long long cl = 0;
            if (!h->value.n) return -400;
            for (size_t i = 0; i < h->value.n; i++) {
                char c = h->value.p[i];
                if (c < '0' || c > '9' || cl > (LLONG_MAX - 9) / 10) return -400;
                cl = cl * 10 + (c - '0');
            }
            if (m->clen >= 0 && m->clen != cl) return -400;
            m->clen = cl;
        } else if (sl_ieq(h->name, "transfer-encoding")) {
            if (!sl_ieq(h->value, "chunked")) return -501;
            if (m->chunked) return -400; /* said twice: a proxy might read it otherwise */
            m->chunked = 1;
        } else if (sl_ieq(h->name, "connection")) { /* a list of tokens */
            for (size_t i = 0; i < h->value.n;) {
                size_t j = i;
                while (j < h->value.n && h->value.p[j] != ',') j++;
                slice tk = {h->value.p + i, j - i};
                tk = sl_trim(tk);
                if (sl_ieq(tk, "close")) m->close = 1;
                else if (sl_ieq(tk, "keep-alive")) m->close = 0;
                i = j + 1;
            }
        }
    }
    if (m->chunked && m->clen >= 0) return -400;
    m->head_len = (size_t)(end - p);
    return (long)m->head_len;
}

/* Where a chunked body's check got to, so a body that arrives in many reads is scanned
 * once, not again from the start after each read. Zero it for each message. */
typedef struct { size_t r, w; } dechunk_state;

#define CHUNK_LINE_MAX 4096 /* a chunk-size line with its extensions */

/* Decode a chunked body in place: src[0..n) holds the bytes after the head. Returns the
 * bytes consumed (body and trailers) and sets *out_len to the decoded length; 0 if more
 * input is needed; -1 on malformed framing (a size that is not all hex digits before its
 * extensions, a bare LF); -2 when the body exceeds max; -3 when a chunk-size line is
 * longer than CHUNK_LINE_MAX; -4 when the trailers are longer than MCP_MAX_HEAD. st, when
 * not NULL, carries the check across calls on a growing src. */
static long http_dechunk(char *src, size_t n, size_t *out_len, size_t max, dechunk_state *st) {
    /* Two passes: the first only checks that the whole body is there (the buffer is left as
     * it was, so a caller can read more and call again); the second moves the data. */
    dechunk_state local = {0, 0};
    if (!st) st = &local;
    for (int pass = 0; pass < 2; pass++) {
        size_t r = pass ? 0 : st->r, w = pass ? 0 : st->w;
        for (;;) {
            size_t size = 0, i = r;
            int digits = 0;
            for (; i < n; i++) {
                int h = hexval((unsigned char)src[i]);
                if (h < 0) break;
                if (size > (SIZE_MAX >> 5)) return -1;
                size = size << 4 | (size_t)h;
                digits++;
            }
            if (i == n) return i - r > CHUNK_LINE_MAX ? -3 : 0;
            if (!digits || (src[i] != ';' && src[i] != ' ' && src[i] != '\t' && src[i] != '\r')) return -1;
            while (i < n && src[i] != '\r') { /* chunk extensions: skipped */
                if (src[i] == '\n') return -1;
                i++;
            }
            if (i - r > CHUNK_LINE_MAX) return -3;
            if (i + 1 >= n) return 0;
            if (src[i + 1] != '\n') return -1;
            i += 2;
            if (size == 0) { /* trailers, then the final CRLF */
                size_t t0 = i;
                for (;;) {
                    if (i - t0 > MCP_MAX_HEAD) return -4;
                    if (i + 1 >= n) return 0;
                    if (src[i] == '\r' && src[i + 1] == '\n') {
                        if (pass) { *out_len = w; return (long)(i + 2); }
                        break;
                    }
                    char *nl = memchr(src + i, '\n', n - i);
                    if (!nl) return n - t0 > MCP_MAX_HEAD ? -4 : 0;
                    if (nl == src + i || nl[-1] != '\r') return -1;
                    i = (size_t)(nl - src) + 1;
                }
                break;
            }
            if (w + size > max) return -2;
            if (n - i < size + 2) return 0;
            if (src[i + size] != '\r' || src[i + size + 1] != '\n') return -1;
            if (pass) memmove(src + w, src + i, size);
            w += size;
            r = i + size + 2;
            if (!pass) { st->r = r; st->w = w; } /* this chunk is whole: never scanned again */
        }
    }
    return -1;
}

static const char *http_reason(int status) {
    switch (status) {
    case 200: return "OK";
    case 202: return "Accepted";
    case 204: return "No Content";
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 406: return "Not Acceptable";
    case 408: return "Request Timeout";
    case 411: return "Length Required";
    case 413: return "Content Too Large";
    case 415: return "Unsupported Media Type";
    case 431: return "Request Header Fields Too Large";
    case 500: return "Internal Server Error";
    case 501: return "Not Implemented";
    case 503: return "Service Unavailable";
    case 505: return "HTTP Version Not Supported";
    default: return "Status";
    }
}

/*=== MARK: - 7. Sockets (Private) ===*/

/* A connection with its receive buffer; bytes before `off` are consumed. */
typedef struct conn {
    int fd;
    buf in;
    size_t off;
    int timeout_ms; /* per read; -1 waits forever (the Runtime API's /next) */
    uint64_t deadline_us; /* when set, no read waits past it */
    int request_ms;       /* serve: a request must arrive whole this long after its first byte */
    int head_ms;          /* serve: and its head this long after it */
    /* TLS connections read through this (NULL: plain read on fd); it applies the timeout. */
    long (*recv)(struct conn *c, char *p, size_t n);
    void *tls;
} conn;

/* Read more bytes. Returns bytes read, 0 at EOF, -1 on error or timeout. */
static long conn_fill(conn *c) {
    if (c->off && c->off == c->in.len) { c->in.len = 0; c->off = 0; }
    if (!buf_grow(&c->in, 16384)) return -1;
    if (c->recv) {
        long n = c->recv(c, c->in.p + c->in.len, c->in.cap - c->in.len - 1);
        if (n > 0) { c->in.len += (size_t)n; c->in.p[c->in.len] = 0; }
        return n;
    }
    for (;;) {
        if (c->timeout_ms >= 0) {
            struct pollfd pfd = {c->fd, POLLIN, 0};
            int wait = c->timeout_ms;
            if (c->deadline_us) { /* a client trickling a request byte by byte still meets it */
                uint64_t now = mono_us();
                int64_t left = now >= c->deadline_us ? 0 : (int64_t)((c->deadline_us - now) / 1000);
                if (left < wait) wait = (int)left;
            }
            int r = poll(&pfd, 1, wait);
            if (r == 0) { errno = ETIMEDOUT; return -1; }
            if (r < 0) { if (errno == EINTR) continue; return -1; }
        }
        ssize_t n = read(c->fd, c->in.p + c->in.len, c->in.cap - c->in.len - 1);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) return -1;
        c->in.len += (size_t)n;
        c->in.p[c->in.len] = 0;
        return (long)n;
    }
}

static int write_all(int fd, const void *p, size_t n) {
    const char *s = p;
    while (n) {
        ssize_t w = send(fd, s, n, MSG_NOSIGNAL);
        if (w < 0 && errno == EINTR) continue;
        if (w <= 0) return -1;
        s += w;
        n -= (size_t)w;
    }
    return 0;
}

/* Read one message head and body into c->in. Returns 1 with m, body and blen set
 * (the body is decoded in place, followed by a writable byte), 0 on a clean EOF before any
 * byte, or -status for a bad message (-408 timeout, -413 too large, -400 malformed ...). */
static int conn_read_msg(conn *c, http_msg *m, int response, size_t max_body,
                         char **body, size_t *blen) {
    int no_body = response == 2; /* the answer to a HEAD request */
    long hl;
    /* compact: drop what was consumed so the head starts at 0 */
    if (c->off) {
        memmove(c->in.p, c->in.p + c->off, c->in.len - c->off);
        c->in.len -= c->off;
        c->off = 0;
    }
    /* deadlines run from the request's first byte: trickling cannot extend them */
    uint64_t first = c->in.len ? mono_us() : 0, whole = 0;
#define SET_DEADLINES() do { \
        whole = first + (uint64_t)c->request_ms * 1000; \
        c->deadline_us = c->head_ms && c->head_ms < c->request_ms ? first + (uint64_t)c->head_ms * 1000 : whole; \
    } while (0)
    if (c->request_ms && first) SET_DEADLINES();
    while ((hl = http_parse_head(c->in.p ? c->in.p : "", c->in.len, m, response)) == 0) {
        long r = conn_fill(c);
        if (r == 0) return c->in.len ? -400 : 0;
        if (r < 0) return errno == ETIMEDOUT && c->in.len ? -408 : 0;
        if (c->request_ms && !first) { first = mono_us(); SET_DEADLINES(); }
    }
#undef SET_DEADLINES
    if (hl < 0) return (int)hl;
    if (whole) c->deadline_us = whole; /* the head is in: the body has until the whole deadline */
    size_t start = (size_t)hl;
    uintptr_t base = (uintptr_t)c->in.p; /* reading the body may move the buffer; the head's slices then follow */
#define HEAD_REBASE() do { if ((uintptr_t)c->in.p != base) head_rebase(m, base, (size_t)hl, c->in.p); } while (0)
    if (no_body || (response && (m->status == 204 || m->status == 304 || m->status / 100 == 1))) {
        m->chunked = 0;
        m->clen = 0;
    }
    if (m->chunked) {
        dechunk_state st = {0, 0};
        for (;;) {
            size_t dl = 0;
            long used = http_dechunk(c->in.p + start, c->in.len - start, &dl, max_body, &st);
            if (used == -2) return -413;
            if (used == -4) return -431;
            if (used < 0) return -400;
            if (used > 0) {
                /* the decoded body sits at start..start+dl; keep the rest for the next message */
                size_t rest = c->in.len - start - (size_t)used;
                char *tail = c->in.p + start + used;
                /* move leftovers right after the body plus one spare byte */
                memmove(c->in.p + start + dl + 1, tail, rest);
                c->in.p[start + dl] = 0;
                c->in.len = start + dl + 1 + rest;
                c->off = start + dl + 1;
                *body = c->in.p + start;
                *blen = dl;
                HEAD_REBASE();
                return 1;
            }
            long r = conn_fill(c);
            if (r <= 0) return r < 0 && errno == ETIMEDOUT ? -408 : -400;
        }
    }
    size_t need = m->clen > 0 ? (size_t)m->clen : 0;
    if (response && m->clen < 0 && !(m->status == 204 || m->status == 304 || m->status / 100 == 1)) {
        /* read to EOF */
        for (;;) {
            if (c->in.len - start > max_body) return -413;
            long r = conn_fill(c);
            if (r == 0) break;
            if (r < 0) return -400;
        }
        need = c->in.len - start;
        m->close = 1;
    }
    if (m->clen > 0 && (unsigned long long)m->clen > max_body) return -413;
    while (c->in.len - start < need) {
        if (!buf_grow(&c->in, need - (c->in.len - start))) return -413;
        long r = conn_fill(c);
        if (r <= 0) return r < 0 && errno == ETIMEDOUT ? -408 : -400;
    }
    /* one spare byte after the body for in-place parsing: shift any pipelined rest */
    size_t rest = c->in.len - start - need;
    if (!buf_grow(&c->in, 1)) return -413;
    memmove(c->in.p + start + need + 1, c->in.p + start + need, rest);
    c->in.p[start + need] = 0;
    c->in.len += 1;
    c->in.p[c->in.len] = 0;
    c->off = start + need + 1;
    *body = c->in.p + start;
    *blen = need;
    HEAD_REBASE();
    return 1;
#undef HEAD_REBASE
}

/* An error answer's body is kept (up to 64 KB), not streamed: it says what went wrong. */
static int keep_error_body(void *ud, const char *p, size_t n) {
    buf *b = ud;
    if (b->len < 65536) buf_put(b, p, n < 65536 - b->len ? n : 65536 - b->len);
    return 0;
}

/* Read a message head, then hand its body to cb piece by piece (for bodies larger than
 * memory); a response whose status is not 2xx goes to err_body instead. The head is copied
 * to head_out first. Returns 1 when the whole body was delivered, or -status (-400
 * framing, -408 timeout, -499 cb stopped it). The connection is reusable only after 1. */
static int conn_stream_msg(conn *c, http_msg *m, int response, buf *head_out,
                           int (*cb)(void *ud, const char *p, size_t n), void *ud, buf *err_body) {
    long hl;
    if (c->off) {
        memmove(c->in.p, c->in.p + c->off, c->in.len - c->off);
        c->in.len -= c->off;
        c->off = 0;
    }
    while ((hl = http_parse_head(c->in.p ? c->in.p : "", c->in.len, m, response)) == 0) {
        long r = conn_fill(c);
        if (r <= 0) return r < 0 && errno == ETIMEDOUT ? -408 : -400;
    }
    if (hl < 0) return (int)hl;
    buf_put(head_out, c->in.p, (size_t)hl);
    c->off = (size_t)hl;
    if (response && err_body && m->status / 100 != 2) { cb = keep_error_body; ud = err_body; }
    if (response == 2 || m->status == 204 || m->status == 304 || m->status / 100 == 1) return 1;
#define AVAIL (c->in.len - c->off)
#define MORE() do { \
        if (c->off == c->in.len) { c->in.len = c->off = 0; } \
        long r_ = conn_fill(c); \
        if (r_ <= 0) return r_ < 0 && errno == ETIMEDOUT ? -408 : -400; \
    } while (0)
    if (!m->chunked) {
        int to_eof = m->clen < 0;
        unsigned long long left = to_eof ? ULLONG_MAX : (unsigned long long)m->clen;
        while (left) {
            if (!AVAIL) {
                if (c->off == c->in.len) { c->in.len = c->off = 0; }
                long r = conn_fill(c);
                if (r == 0 && to_eof) { m->close = 1; return 1; }
                if (r <= 0) return r < 0 && errno == ETIMEDOUT ? -408 : -400;
            }
            size_t take = AVAIL < left ? AVAIL : (size_t)left;
            if (cb(ud, c->in.p + c->off, take)) return -499;
            c->off += take;
            left -= take;
        }
        return 1;
    }
    for (;;) {
        char *eol;
        while (!(eol = AVAIL ? memchr(c->in.p + c->off, '\n', AVAIL) : NULL)) {
            if (AVAIL > 1024) return -400;
            if (c->off) { memmove(c->in.p, c->in.p + c->off, AVAIL); c->in.len = AVAIL; c->off = 0; }
            MORE();
        }
        unsigned long long size = 0;
        int digits = 0;
        char *p = c->in.p + c->off;
        for (; p < eol && hexval((unsigned char)*p) >= 0; p++, digits++) {
            if (size >> 56) return -400;
            size = size << 4 | (unsigned)hexval((unsigned char)*p);
        }
        if (!digits || (*p != ';' && *p != ' ' && *p != '\t' && *p != '\r' && *p != '\n')) return -400;
        c->off = (size_t)(eol - c->in.p) + 1;
        if (!size) { /* trailers until an empty line, within MCP_MAX_HEAD */
            for (size_t trailers = 0;; ) {
                while (!(eol = AVAIL ? memchr(c->in.p + c->off, '\n', AVAIL) : NULL)) {
                    if (AVAIL > MCP_MAX_HEAD) return -400;
                    if (c->off) { memmove(c->in.p, c->in.p + c->off, AVAIL); c->in.len = AVAIL; c->off = 0; }
                    MORE();
                }
                int empty = eol == c->in.p + c->off || (eol == c->in.p + c->off + 1 && c->in.p[c->off] == '\r');
                trailers += (size_t)(eol - c->in.p) + 1 - c->off;
                c->off = (size_t)(eol - c->in.p) + 1;
                if (empty) return 1;
                if (trailers > MCP_MAX_HEAD) return -400;
            }
        }
        while (size) {
            if (!AVAIL) MORE();
            size_t take = AVAIL < size ? AVAIL : (size_t)size;
            if (cb(ud, c->in.p + c->off, take)) return -499;
            c->off += take;
            size -= take;
        }
        while (AVAIL < 2) {
            if (c->off) { memmove(c->in.p, c->in.p + c->off, AVAIL); c->in.len = AVAIL; c->off = 0; }
            MORE();
        }
        if (c->in.p[c->off] != '\r' || c->in.p[c->off + 1] != '\n') return -400;
        c->off += 2;
    }
#undef AVAIL
#undef MORE
}

static int tcp_connect(const char *host, const char *port, int timeout_ms) {
    struct addrinfo hints, *res = NULL, *ai;
    memset(&hints, 0, sizeof hints);
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    if (getaddrinfo(host, port, &hints, &res)) return -1;
    int fd = -1;
    for (ai = res; ai; ai = ai->ai_next) {
        fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, ai->ai_protocol);
        if (fd < 0) continue;
        if (timeout_ms >= 0) {
            int fl = fcntl(fd, F_GETFL);
            fcntl(fd, F_SETFL, fl | O_NONBLOCK);
            int r = connect(fd, ai->ai_addr, ai->ai_addrlen);
            if (r < 0 && errno == EINPROGRESS) {
                struct pollfd pfd = {fd, POLLOUT, 0};
                int err = 0;
                socklen_t el = sizeof err;
                int pr = poll(&pfd, 1, timeout_ms);
                if (pr == 1 && !getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &el) && !err) r = 0;
                else errno = pr == 0 ? ETIMEDOUT : err ? err : errno;
            }
            fcntl(fd, F_SETFL, fl);
            if (r == 0) break;
        } else if (connect(fd, ai->ai_addr, ai->ai_addrlen) == 0) break;
        close(fd);
        fd = -1;
    }
    freeaddrinfo(res);
    if (fd >= 0) {
        int one = 1;
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    }
    return fd;
}

/*=== MARK: - 8. TLS and the HTTP client (Public: mcp_http_*) ===*/
/*
 * Outbound HTTP/1.1 (RFC 9112) over TCP or TLS 1.2 (BearSSL: ECDHE with AES-GCM or
 * ChaCha20-Poly1305; certificate chain, validity and host name always verified, SNI sent).
 * Trust: the five roots AWS endpoints chain to are compiled in (section 1), free at start;
 * SSL_CERT_FILE, or the system bundle for a host outside amazonaws.com, is indexed once, on
 * the first connection that needs it, and only the certificates a server's chain names are
 * decoded. X25519 is offered first; a server's session is resumed on a new connection. One
 * kept-alive connection per scheme, host and port is pooled for the sandbox's life, so a
 * warm invocation pays no handshake. Cost of one fresh GET (bench/tls.sh, x86_64): about
 * 10 M instructions, 80% of it X25519 and two RSA-2048 verifications in BearSSL.
 */

typedef struct outc {
    struct outc *next;
    char key[300];          /* scheme://host:port */
    char host[256];
    int tls;
    conn c;
#if MCP_ENABLE_TLS
    br_ssl_client_context sc;
    br_x509_minimal_context xc;
    const br_x509_class *wv;    /* the chain through x509_wrap_vtable: anchors looked up, IP names */
    unsigned char ip[16];       /* an IP-address host: the address the certificate must name, ipn bytes */
    int ipn;
    int sys;                    /* the system bundle is trusted for this host */
    buf ee;                     /* the server's certificate, for its iPAddress names */
    buf cert;                   /* the certificate being received, until its anchors are looked up */
    int ncert, cert_pass;       /* certificates so far; 1: this one is too large to hold, passed on */
    br_x509_trust_anchor ta[COUNT(aws_anchors) + 8]; /* the AWS roots, then what the chain named */
    size_t nta;
    br_sslio_context io;
    unsigned char iobuf[BR_SSL_BUFSIZE_BIDI];
#endif
} outc;

static outc *out_pool;      /* idle connections */
static pthread_mutex_t out_lock = PTHREAD_MUTEX_INITIALIZER;
static unsigned long tls_handshakes; /* counted for /metrics and the tests, under out_lock */
static unsigned long tls_handshake_count(void) {
    pthread_mutex_lock(&out_lock);
    unsigned long n = tls_handshakes;
    pthread_mutex_unlock(&out_lock);
    return n;
}

static void outc_free(outc *o) {
    if (!o) return;
    if (o->c.fd >= 0) close(o->c.fd);
    buf_free(&o->c.in);
#if MCP_ENABLE_TLS
    buf_free(&o->ee);
    buf_free(&o->cert);
#endif
    free(o);
}

/* Wait until fd is readable or writable, within the connection's timeout. */
static int wait_fd(int fd, short ev, int timeout_ms) {
    struct pollfd p = {fd, ev, 0};
    for (;;) {
        int r = poll(&p, 1, timeout_ms);
        if (r < 0 && errno == EINTR) continue;
        if (r == 0) errno = ETIMEDOUT;
        return r > 0 ? 0 : -1;
    }
}

#if MCP_ENABLE_TLS
static int tls_low_read(void *ctx, unsigned char *p, size_t n) {
    outc *o = ctx;
    if (wait_fd(o->c.fd, POLLIN, o->c.timeout_ms)) return -1;
    for (;;) {
        ssize_t r = read(o->c.fd, p, n);
        if (r < 0 && errno == EINTR) continue;
        return r > 0 ? (int)r : -1;
    }
}

static int tls_low_write(void *ctx, const unsigned char *p, size_t n) {
    outc *o = ctx;
    if (wait_fd(o->c.fd, POLLOUT, o->c.timeout_ms)) return -1;
    for (;;) {
        ssize_t r = send(o->c.fd, p, n, MSG_NOSIGNAL);
        if (r < 0 && errno == EINTR) continue;
        return r > 0 ? (int)r : -1;
    }
}

static long tls_recv(conn *c, char *p, size_t n) {
    outc *o = c->tls;
    int r = br_sslio_read(&o->io, p, n);
    if (r > 0) return r;
    /* a clean close_notify is an end of stream; anything else is an error */
    return br_ssl_engine_last_error(&o->sc.eng) == BR_ERR_OK ? 0 : -1;
}

/* Trust beyond the compiled-in AWS roots: a PEM bundle (SSL_CERT_FILE; the system's for a
 * host outside AWS when it is unset) is indexed once, on the first connection that needs
 * it: the index holds each certificate's place in the file and its subject DN, found by
 * decoding the first part of its base64 and walking the DER. A certificate becomes a trust
 * anchor only when a server's chain names it (as an issuer, or presents it), and stays one
 * for the process. Decoding all 144 certificates of Debian's bundle up front with BearSSL's
 * PEM and X.509 decoders cost 390 M instructions (callgrind); indexing it costs 2.5 M. */
typedef struct {
    long off;                   /* the base64 between the BEGIN and END lines, in the file */
    size_t len;
    unsigned char *dn;          /* the subject, DER */
    size_t dnlen;
    br_x509_trust_anchor *ta;   /* decoded on first use */
    int bad;                    /* could not be decoded: not tried again */
} ca_entry;
typedef struct { char *path; ca_entry *v; size_t n; int indexed; } ca_bundle;
static ca_bundle ca_env, ca_sys; /* SSL_CERT_FILE; the system bundle */

static void *memdup(const void *p, size_t n) { return memcpy(xmalloc(n ? n : 1), p, n); }

/* Index the certificates of a PEM file into cb. Returns how many, or -1 if unreadable. */
static long ca_index(ca_bundle *cb, const char *path) {
    static const char begin[] = "-----BEGIN CERTIFICATE-----", end[] = "-----END CERTIFICATE-----";
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return -1;
    buf f = {0};
    char chunk[16384];
    ssize_t r;
    while ((r = read(fd, chunk, sizeof chunk)) > 0) buf_put(&f, chunk, (size_t)r);
    close(fd);
    if (f.oom || !f.len) { buf_free(&f); return f.oom ? -1 : 0; }
    size_t cap = 0;
    unsigned char *der = NULL;
    for (const char *s = f.p, *fe = f.p + f.len, *b; (b = find_str(s, fe, begin, sizeof begin - 1));) {
        b += sizeof begin - 1;
        const char *e = find_str(b, fe, end, sizeof end - 1);
        if (!e) break;
        s = e + sizeof end - 1;
        size_t len = (size_t)(e - b), k = 0;
        if (cap < len) { free(der); der = malloc(cap = len); if (!der) { cap = 0; break; } }
        cert_parts c;
        long n = 0;
        do { /* the subject ends within 500 bytes in Debian's bundle, 260 in most certificates */
            k = k ? (k * 2 < len ? k * 2 : len) : (len < 448 ? len : 448);
            n = pem_b64(b, k, der);
        } while (cert_dns(der, (size_t)n, &c) && k < len);
        if (k == len && cert_dns(der, (size_t)n, &c)) continue;
        GROW(cb->v, cb->n);
        cb->v[cb->n++] = (ca_entry){(long)(b - f.p), len, memdup(c.sub, c.subn), c.subn, NULL, 0};
    }
    free(der);
    buf_free(&f);
    cb->path = strdup(path);
    return (long)cb->n;
}

/* Strip an unsigned INTEGER's leading zeros. */
static const unsigned char *der_uint(const unsigned char *v, size_t *n) {
    while (*n > 1 && !v[0]) v++, (*n)--;
    return v;
}

/* A certificate (DER) as a trust anchor: its subject, its key (RSA, or EC on P-256, P-384
 * or P-521) and whether basicConstraints makes it a CA, as BearSSL's decoder reads them;
 * NULL for anything else. One allocation, kept for the process. */
static br_x509_trust_anchor *anchor_new(const unsigned char *der, size_t n) {
    static const unsigned char rsa_oid[] = {0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x01},
                               ec_oid[] = {0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01}, bc_oid[] = {0x55, 0x1d, 0x13};
    static const struct { int curve; unsigned char n, oid[8]; } curves[] = {
        {BR_EC_secp256r1, 8, {0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07}},
        {BR_EC_secp384r1, 5, {0x2b, 0x81, 0x04, 0x00, 0x22}},
        {BR_EC_secp521r1, 5, {0x2b, 0x81, 0x04, 0x00, 0x23}},
    };
    cert_parts c;
    const unsigned char *p, *v, *alg, *ae, *oid, *key, *k1 = NULL, *k2 = NULL;
    size_t vn, an, oidn, keyn, k1n = 0, k2n = 0;
    int tag, curve = 0, ca = 0;
    if (cert_dns(der, n, &c) ||
        !(p = der_next(c.rest, c.end, &tag, &v, &vn)) || tag != 0x30 ||                 /* subjectPublicKeyInfo */
        !(ae = der_next(v, v + vn, &tag, &alg, &an)) || tag != 0x30 ||                  /* algorithm */
        !der_next(ae, v + vn, &tag, &key, &keyn) || tag != 0x03 || keyn < 2 || key[0] || /* subjectPublicKey */
        !(alg = der_next(alg, alg + an, &tag, &oid, &oidn)) || tag != 0x06)
        return NULL;
    key++, keyn--;
    if (oidn == sizeof rsa_oid && !memcmp(oid, rsa_oid, oidn)) { /* RSAPublicKey: n, e */
        const unsigned char *s, *q;
        size_t sn;
        if (!der_next(key, key + keyn, &tag, &s, &sn) || tag != 0x30 || !(q = der_next(s, s + sn, &tag, &k1, &k1n)) ||
            tag != 0x02 || !der_next(q, s + sn, &tag, &k2, &k2n) || tag != 0x02)
            return NULL;
        k1 = der_uint(k1, &k1n);
        k2 = der_uint(k2, &k2n);
    } else if (oidn == sizeof ec_oid && !memcmp(oid, ec_oid, oidn) && der_next(alg, ae, &tag, &oid, &oidn) && tag == 0x06) {
        for (size_t i = 0; i < COUNT(curves); i++)
            if (oidn == curves[i].n && !memcmp(oid, curves[i].oid, oidn)) curve = curves[i].curve;
        if (!curve) return NULL;
        k1 = key;
        k1n = keyn;
    } else return NULL;
    while (p < c.end && (p = der_next(p, c.end, &tag, &v, &vn)) && tag != 0xa3) {} /* [3] extensions */
    if (p && tag == 0xa3 && der_next(v, v + vn, &tag, &v, &vn) && tag == 0x30)
        for (const unsigned char *e = v, *ee = v + vn, *x, *xv; e && e < ee;) {
            size_t xn;
            if (!(e = der_next(e, ee, &tag, &x, &xn)) || tag != 0x30) break;                /* Extension */
            const unsigned char *xe = x + xn;
            if (!(x = der_next(x, xe, &tag, &xv, &xn)) || xn != sizeof bc_oid || memcmp(xv, bc_oid, xn)) continue;
            if ((x = der_next(x, xe, &tag, &xv, &xn)) && tag == 0x01) x = der_next(x, xe, &tag, &xv, &xn); /* critical */
            if (x && tag == 0x04 && der_next(xv, xv + xn, &tag, &xv, &xn) && tag == 0x30 && /* BasicConstraints */
                der_next(xv, xv + xn, &tag, &xv, &xn) && tag == 0x01 && xn == 1)
                ca = xv[0] != 0;
            break;
        }
    br_x509_trust_anchor *ta = xmalloc(sizeof *ta + c.subn + k1n + k2n);
    unsigned char *d = (unsigned char *)(ta + 1);
    memset(ta, 0, sizeof *ta);
    ta->dn.data = memcpy(d, c.sub, c.subn);
    ta->dn.len = c.subn;
    ta->flags = ca ? BR_X509_TA_CA : 0;
    ta->pkey.key_type = curve ? BR_KEYTYPE_EC : BR_KEYTYPE_RSA;
    if (curve) {
        ta->pkey.key.ec = (br_ec_public_key){curve, memcpy(d + c.subn, k1, k1n), k1n};
    } else {
        ta->pkey.key.rsa = (br_rsa_public_key){memcpy(d + c.subn, k1, k1n), k1n, memcpy(d + c.subn + k1n, k2, k2n), k2n};
    }
    return ta;
}

/* Decode an indexed certificate (read again from its file) into its trust anchor. */
static br_x509_trust_anchor *ca_decode(const ca_bundle *cb, ca_entry *ce) {
    if (ce->ta || ce->bad) return ce->ta;
    ce->bad = 1;
    char *b64 = malloc(ce->len);
    unsigned char *der = malloc(ce->len);
    int fd = b64 && der ? open(cb->path, O_RDONLY | O_CLOEXEC) : -1;
    if (fd >= 0) {
        long n = pread(fd, b64, ce->len, ce->off) == (ssize_t)ce->len ? pem_b64(b64, ce->len, der) : -1;
        cert_parts c;
        /* the file may have changed since it was indexed: the subject must still match */
        if (n > 0 && !cert_dns(der, (size_t)n, &c) && c.subn == ce->dnlen && !memcmp(c.sub, ce->dn, c.subn) &&
            (ce->ta = anchor_new(der, (size_t)n)))
            ce->bad = 0;
        close(fd);
    }
    free(b64);
    free(der);
    return ce->ta;
}

static int host_is_aws(const char *h) {
    size_t n = strlen(h);
    return (n > 14 && !strcmp(h + n - 14, ".amazonaws.com")) || (n > 17 && !strcmp(h + n - 17, ".amazonaws.com.cn")) ||
           (n > 7 && !strcmp(h + n - 7, ".on.aws"));
}

/* Index what a connection to host may trust besides the AWS roots, on first need: the
 * SSL_CERT_FILE bundle, else for a host outside AWS the system's. Returns 1 when the
 * system bundle applies to host. */
static int ca_prepare(const char *host) {
    pthread_mutex_lock(&out_lock);
    const char *env = getenv("SSL_CERT_FILE");
    if (!ca_env.indexed) {
        ca_env.indexed = 1;
        if (env && *env) ca_index(&ca_env, env);
    }
    int sys = !host_is_aws(host) && !(env && *env);
    if (sys && !ca_sys.indexed) {
        static const char *const bundles[] = {
            "/etc/pki/tls/certs/ca-bundle.crt", /* Amazon Linux, provided.al2023 */
            "/etc/ssl/certs/ca-certificates.crt", "/etc/ssl/cert.pem",
        };
        ca_sys.indexed = 1;
        for (size_t i = 0; i < COUNT(bundles); i++) if (ca_index(&ca_sys, bundles[i]) > 0) break;
    }
    pthread_mutex_unlock(&out_lock);
    return sys;
}

/* BearSSL's minimal X.509 engine is given its trust anchors up front and matches DNS names
 * only. This wrapper around it holds each certificate of the chain until it has looked up
 * the certificate's issuer and subject in the indexed bundles (anchors decoded only then),
 * and for a host given as an IP address it checks the chain with no name and then looks for
 * the address among the server certificate's iPAddress names (RFC 5280 4.2.1.6). */
static outc *x509_wrap_outc(const br_x509_class **ctx) { return (outc *)(void *)((char *)ctx - offsetof(outc, wv)); }

/* Is ip (n bytes) one of the certificate's iPAddress names? */
static int x509_names_ip(const unsigned char *der, size_t len, const unsigned char *ip, int n) {
    static const unsigned char san_oid[] = {0x55, 0x1d, 0x11};
    const unsigned char *v, *end = der + len, *q;
    size_t vn;
    int tag;
    if (!der_next(der, end, &tag, &v, &vn) || tag != 0x30) return 0;   /* Certificate */
    if (!der_next(v, v + vn, &tag, &v, &vn) || tag != 0x30) return 0;  /* tbsCertificate */
    const unsigned char *t = v, *te = v + vn;
    while (t && t < te) {
        q = der_next(t, te, &tag, &v, &vn);
        if (!q) return 0;
        t = q;
        if (tag != 0xa3) continue;                                       /* [3] extensions */
        if (!der_next(v, v + vn, &tag, &v, &vn) || tag != 0x30) return 0;
        for (const unsigned char *e = v, *ee = v + vn; e < ee;) {
            const unsigned char *x, *xv;
            size_t xn;
            if (!(e = der_next(e, ee, &tag, &x, &xn)) || tag != 0x30) return 0; /* Extension */
            const unsigned char *xe = x + xn;
            if (!(x = der_next(x, xe, &tag, &xv, &xn)) || tag != 0x06) return 0;
            if (xn != sizeof san_oid || memcmp(xv, san_oid, sizeof san_oid)) continue;
            const unsigned char *w = der_next(x, xe, &tag, &xv, &xn);
            if (w && tag == 0x01) w = der_next(w, xe, &tag, &xv, &xn);  /* critical */
            if (!w || tag != 0x04) return 0;                            /* extnValue */
            if (!der_next(xv, xv + xn, &tag, &xv, &xn) || tag != 0x30) return 0; /* GeneralNames */
            for (const unsigned char *g = xv, *ge = xv + xn; g < ge;) {
                const unsigned char *gv;
                size_t gn;
                if (!(g = der_next(g, ge, &tag, &gv, &gn))) return 0;
                if (tag == 0x87 && gn == (size_t)n && !memcmp(gv, ip, (size_t)n)) return 1; /* [7] iPAddress */
            }
            return 0;
        }
    }
    return 0;
}

/* Add the anchors the bundles hold for dn to the connection's, decoding them on first use. */
static void ca_match(outc *o, const unsigned char *dn, size_t dnlen) {
    ca_bundle *bundles[2] = {&ca_env, o->sys ? &ca_sys : NULL};
    pthread_mutex_lock(&out_lock);
    for (int b = 0; b < 2; b++)
        for (size_t i = 0; bundles[b] && i < bundles[b]->n && o->nta < COUNT(o->ta); i++) {
            ca_entry *ce = &bundles[b]->v[i];
            if (ce->dnlen != dnlen || memcmp(ce->dn, dn, dnlen) || !ca_decode(bundles[b], ce)) continue;
            size_t k = 0;
            while (k < o->nta && o->ta[k].dn.data != ce->ta->dn.data) k++;
            if (k == o->nta) o->ta[o->nta++] = *ce->ta;
        }
    pthread_mutex_unlock(&out_lock);
    o->xc.trust_anchors = o->ta; /* read by the engine only while it checks a certificate */
    o->xc.trust_anchors_num = o->nta;
}

static int x509_lazy(const outc *o) { return ca_env.n || (o->sys && ca_sys.n); }

static void x509_wrap_start_chain(const br_x509_class **ctx, const char *server_name) {
    outc *o = x509_wrap_outc(ctx);
    o->ee.len = 0;
    o->ncert = 0;
    o->xc.vtable->start_chain(&o->xc.vtable, server_name);
}
static void x509_wrap_start_cert(const br_x509_class **ctx, uint32_t length) {
    outc *o = x509_wrap_outc(ctx);
    o->ncert++;
    o->cert.len = 0;
    o->cert.oom = 0;
    o->cert_pass = !x509_lazy(o);
    o->xc.vtable->start_cert(&o->xc.vtable, length);
}
static void x509_wrap_append(const br_x509_class **ctx, const unsigned char *buf, size_t len) {
    outc *o = x509_wrap_outc(ctx);
    if (o->ipn && o->ncert == 1 && o->ee.len + len <= 65536) buf_put(&o->ee, buf, len);
    if (!o->cert_pass) {
        if (o->cert.len + len <= 65536 && (buf_put(&o->cert, buf, len), !o->cert.oom)) return;
        o->cert_pass = 1; /* too large to hold: checked against the anchors found so far */
        if (o->cert.len && !o->cert.oom) o->xc.vtable->append(&o->xc.vtable, (unsigned char *)o->cert.p, o->cert.len);
    }
    o->xc.vtable->append(&o->xc.vtable, buf, len);
}
static void x509_wrap_end_cert(const br_x509_class **ctx) {
    outc *o = x509_wrap_outc(ctx);
    if (!o->cert_pass) {
        const unsigned char *der = (const unsigned char *)o->cert.p;
        cert_parts c;
        if (!cert_dns(der, o->cert.len, &c)) {
            ca_match(o, c.iss, c.issn);
            ca_match(o, c.sub, c.subn); /* a certificate the bundle holds itself */
        }
        o->xc.vtable->append(&o->xc.vtable, der, o->cert.len);
    }
    o->xc.vtable->end_cert(&o->xc.vtable);
}
static unsigned x509_wrap_end_chain(const br_x509_class **ctx) {
    outc *o = x509_wrap_outc(ctx);
    unsigned r = o->xc.vtable->end_chain(&o->xc.vtable);
    if (!r && o->ipn && (o->ee.oom || !x509_names_ip((const unsigned char *)o->ee.p, o->ee.len, o->ip, o->ipn))) r = BR_ERR_X509_BAD_SERVER_NAME;
    buf_free(&o->ee);
    buf_free(&o->cert);
    return r;
}
static const br_x509_pkey *x509_wrap_get_pkey(const br_x509_class *const *ctx, unsigned *usages) {
    const outc *o = (const outc *)(const void *)((const char *)ctx - offsetof(outc, wv));
    return o->xc.vtable->get_pkey(&o->xc.vtable, usages);
}
static const br_x509_class x509_wrap_vtable = {
    sizeof(outc), x509_wrap_start_chain, x509_wrap_start_cert, x509_wrap_append, x509_wrap_end_cert, x509_wrap_end_chain, x509_wrap_get_pkey,
};

/* The implementations, named one by one (br_ssl_engine_set_default_* and the *_get_default
 * functions link a fallback for every case). RSA: the 62-bit code wherever the compiler
 * has 128-bit integers (x86_64, arm64), BearSSL's fastest; the 31-bit one would add 3 KB.
 * EC (tls_ec): X25519's own code, the generic i31 code for the NIST curves; br_ec_all_m31's
 * P-256 made for speed would add 9 KB (tls_hello_x25519_first makes X25519 the usual pick).
 * Poly1305: the 64x64->128 multiplication (BearSSL has it wherever the compiler does). */
#if defined(__SIZEOF_INT128__)
#define TLS_RSA_VRFY br_rsa_i62_pkcs1_vrfy
#else
#define TLS_RSA_VRFY br_rsa_i31_pkcs1_vrfy
#endif
#define TLS_EC(c) ((c) == BR_EC_curve25519 ? &br_ec_c25519_m31 : &br_ec_prime_i31)
static const unsigned char *tls_ec_gen(int c, size_t *n) { return TLS_EC(c)->generator(c, n); }
static const unsigned char *tls_ec_order(int c, size_t *n) { return TLS_EC(c)->order(c, n); }
static size_t tls_ec_xoff(int c, size_t *n) { return TLS_EC(c)->xoff(c, n); }
static uint32_t tls_ec_mul(unsigned char *g, size_t gn, const unsigned char *x, size_t xn, int c) { return TLS_EC(c)->mul(g, gn, x, xn, c); }
static size_t tls_ec_mulgen(unsigned char *r, const unsigned char *x, size_t xn, int c) { return TLS_EC(c)->mulgen(r, x, xn, c); }
static uint32_t tls_ec_muladd(unsigned char *a, const unsigned char *b, size_t n, const unsigned char *x, size_t xn,
                              const unsigned char *y, size_t yn, int c) { return TLS_EC(c)->muladd(a, b, n, x, xn, y, yn, c); }
static const br_ec_impl tls_ec = {1u << BR_EC_secp256r1 | 1u << BR_EC_secp384r1 | 1u << BR_EC_secp521r1 | 1u << BR_EC_curve25519,
                                  tls_ec_gen, tls_ec_order, tls_ec_xoff, tls_ec_mul, tls_ec_mulgen, tls_ec_muladd};
static void tls_set_ciphers(br_ssl_engine_context *eng) {
    br_ssl_engine_set_gcm(eng, &br_sslrec_in_gcm_vtable, &br_sslrec_out_gcm_vtable);
    br_ssl_engine_set_chapol(eng, &br_sslrec_in_chapol_vtable, &br_sslrec_out_chapol_vtable);
    const br_block_ctr_class *ctr = NULL; /* what the CPU offers, else the portable code */
    br_ghash gh = 0; br_chacha20_run cc = 0;
#if defined(__x86_64__) /* AES-NI, PCLMULQDQ and SSE2 when the CPU has them (every Lambda host does) */
    ctr = br_aes_x86ni_ctr_get_vtable();
    gh = br_ghash_pclmul_get();
    cc = br_chacha20_sse2_get();
#endif
    br_ssl_engine_set_aes_ctr(eng, ctr ? ctr : &br_aes_ct64_ctr_vtable);
    br_ssl_engine_set_ghash(eng, gh ? gh : &br_ghash_ctmul64);
    br_ssl_engine_set_chacha20(eng, cc ? cc : &br_chacha20_ct_run);
#if defined(__SIZEOF_INT128__)
    br_ssl_engine_set_poly1305(eng, br_poly1305_ctmulq_get());
#else
    br_ssl_engine_set_poly1305(eng, &br_poly1305_ctmul_run);
#endif
}

/* A TLS 1.2 client profile trimmed to what AWS and the common APIs use. */
static void tls_client_init(outc *o) {
    static const uint16_t suites[] = {
        BR_TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256, BR_TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,
        BR_TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384, BR_TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384,
        BR_TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256, BR_TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256,
    };
    o->sys = ca_prepare(o->host);
    memcpy(o->ta, aws_anchors, sizeof aws_anchors);
    o->nta = COUNT(aws_anchors);
    br_ssl_client_context *cc = &o->sc;
    br_x509_minimal_context *xc = &o->xc;
    br_ssl_client_zero(cc);
    br_ssl_engine_set_versions(&cc->eng, BR_TLS12, BR_TLS12);
    br_ssl_engine_set_suites(&cc->eng, suites, COUNT(suites));
    br_x509_minimal_init(xc, &br_sha256_vtable, o->ta, o->nta);
    br_x509_minimal_set_hash(xc, br_sha256_ID, &br_sha256_vtable);
    br_x509_minimal_set_hash(xc, br_sha384_ID, &br_sha384_vtable);
    br_x509_minimal_set_hash(xc, br_sha512_ID, &br_sha512_vtable);
    br_x509_minimal_set_rsa(xc, TLS_RSA_VRFY);
    br_x509_minimal_set_ecdsa(xc, &tls_ec, &br_ecdsa_i31_vrfy_asn1);
    o->ipn = inet_pton(AF_INET, o->host, o->ip) == 1 ? 4 : inet_pton(AF_INET6, o->host, o->ip) == 1 ? 16 : 0;
    o->wv = &x509_wrap_vtable;
    br_ssl_engine_set_x509(&cc->eng, o->ipn || x509_lazy(o) ? &o->wv : &xc->vtable);
    br_ssl_engine_set_hash(&cc->eng, br_sha256_ID, &br_sha256_vtable);
    br_ssl_engine_set_hash(&cc->eng, br_sha384_ID, &br_sha384_vtable);
    br_ssl_engine_set_prf_sha256(&cc->eng, &br_tls12_sha256_prf);
    br_ssl_engine_set_prf_sha384(&cc->eng, &br_tls12_sha384_prf);
    tls_set_ciphers(&cc->eng);
    br_ssl_engine_set_ec(&cc->eng, &tls_ec);
    br_ssl_engine_set_rsavrfy(&cc->eng, TLS_RSA_VRFY);
    br_ssl_engine_set_ecdsa(&cc->eng, &br_ecdsa_i31_vrfy_asn1);
    br_ssl_engine_set_buffer(&cc->eng, o->iobuf, sizeof o->iobuf, 1);
}

/* BearSSL 0.6 lists its curves in the ClientHello in increasing ID order (the code meant
 * to put X25519 first tests the wrong value), so P-256 comes first and a server that
 * follows the client's order picks it: with Debian's BearSSL, which has only the portable
 * 31-bit P-256 code, that costs about 5 M instructions more per handshake than X25519.
 * After br_ssl_client_reset the ClientHello is still in the engine's output buffer, in
 * clear: X25519 moves to the front of its supported_groups list and the handshake hash is
 * started again over the bytes that will be sent, so the Finished messages agree. */
static void tls_hello_x25519_first(br_ssl_engine_context *eng) {
    size_t len;
    unsigned char *r = br_ssl_engine_sendrec_buf(eng, &len);
    if (!r || len < 9 || r[0] != 22 || r[5] != 1) return; /* a ClientHello record */
    size_t hl = (size_t)r[6] << 16 | (size_t)r[7] << 8 | r[8];
    if (len < 9 + hl || ((size_t)r[3] << 8 | r[4]) != 4 + hl) return;  /* the whole message, alone */
    const unsigned char *end = r + 9 + hl;
    unsigned char *p = r + 9 + 34;                                     /* version, random */
    size_t k;
    if (p >= end || (k = 1 + (size_t)p[0]) > (size_t)(end - p)) return; /* session id */
    p += k;
    if (end - p < 2 || (k = 2 + ((size_t)p[0] << 8 | p[1])) > (size_t)(end - p)) return; /* cipher suites */
    p += k;
    if (end - p < 1 || (k = 1 + (size_t)p[0]) > (size_t)(end - p)) return; /* compression */
    p += k + 2;                                                        /* extensions' length */
    while (end - p >= 4) {
        size_t type = (size_t)p[0] << 8 | p[1], n = (size_t)p[2] << 8 | p[3];
        p += 4;
        if (n > (size_t)(end - p)) return;
        if (type == 10 && n >= 2) { /* supported_groups: a length, then 16-bit IDs */
            unsigned char *l = p + 2;
            for (unsigned char *c = l; c + 2 <= p + n; c += 2)
                if (c[0] == 0 && c[1] == 29 && c != l) {
                    memmove(l + 2, l, (size_t)(c - l));
                    l[0] = 0;
                    l[1] = 29;
                    br_multihash_init(&eng->mhash);
                    br_multihash_update(&eng->mhash, r + 5, 4 + hl);
                    return;
                }
            return;
        }
        p += n;
    }
}

/* TLS sessions by scheme://host:port, to resume (RFC 5246 7.3: an abbreviated handshake
 * with no key exchange and no certificates) on the next connection to the same server. */
typedef struct tls_sess { struct tls_sess *next; char key[300]; br_ssl_session_parameters p; } tls_sess;
static tls_sess *tls_sessions;

/* The session to offer for key, copied to *p; 0 if none. */
static int tls_session_get(const char *key, br_ssl_session_parameters *p) {
    pthread_mutex_lock(&out_lock);
    tls_sess *s = tls_sessions;
    while (s && strcmp(s->key, key)) s = s->next;
    if (s) *p = s->p;
    pthread_mutex_unlock(&out_lock);
    return s != NULL;
}

/* Keep the session of a completed handshake for key (at most 16 servers, the latest kept). */
static void tls_session_put(const char *key, const br_ssl_session_parameters *p) {
    pthread_mutex_lock(&out_lock);
    tls_sess **pp = &tls_sessions, *s = NULL;
    int n = 0;
    for (; *pp; n++) {
        if (!strcmp((*pp)->key, key) || (n == 15 && !(*pp)->next)) { s = *pp; *pp = s->next; break; }
        pp = &(*pp)->next;
    }
    if (!s) s = malloc(sizeof *s);
    if (s) {
        snprintf(s->key, sizeof s->key, "%s", key);
        s->p = *p;
        s->next = tls_sessions;
        tls_sessions = s;
    }
    pthread_mutex_unlock(&out_lock);
}

/* Words a user can act on for a failed handshake. */
static void tls_error(outc *o, char *err, size_t n) {
    int e = br_ssl_engine_last_error(&o->sc.eng);
    switch (e) {
    case BR_ERR_X509_EXPIRED:
        snprintf(err, n, "TLS: the certificate of %.96s has expired or is not yet valid", o->host); break;
    case BR_ERR_X509_BAD_SERVER_NAME:
        snprintf(err, n, "TLS: the certificate does not match the host name %.96s", o->host); break;
    case BR_ERR_X509_NOT_TRUSTED:
        snprintf(err, n, "TLS: the certificate of %.96s is not trusted (unknown issuer; SSL_CERT_FILE can name a CA bundle)", o->host); break;
    case BR_ERR_UNSUPPORTED_VERSION: case BR_ERR_BAD_VERSION:
    case BR_ERR_RECV_FATAL_ALERT + 70: case BR_ERR_RECV_FATAL_ALERT + 40:
        snprintf(err, n, "TLS: %.96s offers no TLS 1.2 ECDHE cipher suite this client supports (protocol mismatch; TLS 1.3 only?)", o->host); break;
    case BR_ERR_IO: case BR_ERR_OK:
        snprintf(err, n, "TLS: the connection to %.96s failed during the handshake (%s)", o->host, errno == ETIMEDOUT ? "timed out" : "closed"); break;
    default:
        if (e >= BR_ERR_X509_OK && e < BR_ERR_X509_OK + 64)
            snprintf(err, n, "TLS: the certificate of %.96s was refused (X.509 error %d)", o->host, e);
        else if (e > BR_ERR_RECV_FATAL_ALERT && e < BR_ERR_SEND_FATAL_ALERT)
            snprintf(err, n, "TLS: %.96s sent fatal alert %d", o->host, e - BR_ERR_RECV_FATAL_ALERT);
        else snprintf(err, n, "TLS: handshake with %.96s failed (BearSSL error %d)", o->host, e);
    }
}
#endif

/* Split http[s]://host[:port]/path?query. */
typedef struct { int tls; char host[256]; char port[8]; const char *path; } url_parts;

static int url_parse(const char *url, url_parts *u) {
    memset(u, 0, sizeof *u);
    const char *p;
    if (!strncmp(url, "https://", 8)) { u->tls = 1; p = url + 8; strcpy(u->port, "443"); }
    else if (!strncmp(url, "http://", 7)) { p = url + 7; strcpy(u->port, "80"); }
    else return -1;
    const char *hs = p, *he;
    if (*p == '[') { he = strchr(p, ']'); if (!he) return -1; hs = p + 1; p = he + 1; }
    else { while (*p && *p != ':' && *p != '/' && *p != '?') p++; he = p; }
    if (he == hs || (size_t)(he - hs) >= sizeof u->host) return -1;
    memcpy(u->host, hs, (size_t)(he - hs));
    if (*p == ':') {
        const char *ps = ++p;
        while (*p >= '0' && *p <= '9') p++;
        if (p == ps || (size_t)(p - ps) >= sizeof u->port) return -1;
        memcpy(u->port, ps, (size_t)(p - ps));
        u->port[p - ps] = 0;
    }
    if (*p && *p != '/' && *p != '?') return -1;
    u->path = *p ? p : "/";
    return 0;
}

/* Take an idle pooled connection for key, or open a new one. */
static outc *out_get(const url_parts *u, int timeout_ms, char *err, size_t errn, int *reused) {
    char key[300];
    snprintf(key, sizeof key, "%s://%s:%s", u->tls ? "https" : "http", u->host, u->port);
    pthread_mutex_lock(&out_lock);
    for (outc **pp = &out_pool; *pp;) {
        if (strcmp((*pp)->key, key)) { pp = &(*pp)->next; continue; }
        outc *o = *pp;
        *pp = o->next;
        /* an idle connection with something to read has been closed (or spoiled) by the
         * server: never sent on, so a request is never lost to it or sent twice */
        struct pollfd pf = {o->c.fd, POLLIN, 0};
        if (poll(&pf, 1, 0) != 0) { outc_free(o); continue; }
        pthread_mutex_unlock(&out_lock);
        o->c.timeout_ms = timeout_ms;
        *reused = 1;
        return o;
    }
    pthread_mutex_unlock(&out_lock);
    *reused = 0;
#if !MCP_ENABLE_TLS
    if (u->tls) { snprintf(err, errn, "https is not available: this build has MCP_ENABLE_TLS=0"); return NULL; }
#endif
    outc *o = calloc(1, sizeof *o);
    if (!o) { snprintf(err, errn, "out of memory"); return NULL; }
    snprintf(o->key, sizeof o->key, "%s", key);
    snprintf(o->host, sizeof o->host, "%s", u->host);
    o->tls = u->tls;
    o->c.timeout_ms = timeout_ms;
    o->c.fd = tcp_connect(u->host, u->port, timeout_ms);
    if (o->c.fd < 0) {
        snprintf(err, errn, "cannot connect to %.96s:%s (%.64s)", u->host, u->port, errno ? strerror(errno) : "no address");
        free(o);
        return NULL;
    }
#if MCP_ENABLE_TLS
    if (u->tls) {
        tls_client_init(o);
        br_ssl_session_parameters sp;
        int resume = tls_session_get(key, &sp);
        if (resume) br_ssl_engine_set_session_parameters(&o->sc.eng, &sp);
        if (!br_ssl_client_reset(&o->sc, o->ipn ? NULL : u->host, resume)) { tls_error(o, err, errn); outc_free(o); return NULL; } /* no SNI for an address */
        tls_hello_x25519_first(&o->sc.eng);
        br_sslio_init(&o->io, &o->sc.eng, tls_low_read, o, tls_low_write, o);
        if (br_sslio_flush(&o->io) < 0 || (br_ssl_engine_current_state(&o->sc.eng) & BR_SSL_CLOSED)) {
            tls_error(o, err, errn);
            outc_free(o);
            return NULL;
        }
        br_ssl_engine_get_session_parameters(&o->sc.eng, &sp);
        tls_session_put(key, &sp);
        pthread_mutex_lock(&out_lock);
        tls_handshakes++;
        pthread_mutex_unlock(&out_lock);
        o->c.recv = tls_recv;
        o->c.tls = o;
    }
#endif
    return o;
}

static void out_put(outc *o) {
    pthread_mutex_lock(&out_lock);
    o->next = out_pool;
    out_pool = o;
    pthread_mutex_unlock(&out_lock);
}

static int out_send(outc *o, const void *p, size_t n) {
#if MCP_ENABLE_TLS
    if (o->tls) return br_sslio_write_all(&o->io, p, n) < 0 ? -1 : 0;
#endif
    if (wait_fd(o->c.fd, POLLOUT, o->c.timeout_ms)) return -1;
    return write_all(o->c.fd, p, n);
}

static int out_flush(outc *o) {
#if MCP_ENABLE_TLS
    if (o->tls) return br_sslio_flush(&o->io) < 0 ? -1 : 0;
#endif
    (void)o;
    return 0;
}

void mcp_http_free(mcp_http_response *r) {
    if (!r) return;
    free(r->body);
    free(r->head);
    r->body = r->head = NULL;
    r->len = 0;
}

const char *mcp_http_header(const mcp_http_response *r, const char *name, size_t *len) {
    size_t n = strlen(name);
    const char *p = r && r->head ? strchr(r->head, '\n') : NULL;
    while (p && *++p && *p != '\r') {
        const char *eol = strchr(p, '\r');
        if (!eol) break;
        if ((size_t)(eol - p) > n && p[n] == ':' && !strncasecmp(p, name, n)) {
            const char *v = p + n + 1;
            while (*v == ' ' || *v == '\t') v++;
            if (len) *len = (size_t)(eol - v);
            return v;
        }
        p = strchr(eol, '\n');
    }
    return NULL;
}

#define HTTP_MAX_RESPONSE ((size_t)16 << 20) /* mcp_http_request.max_response by default */

int mcp_http_do(const mcp_http_request *rq, mcp_http_response *rs) {
    memset(rs, 0, sizeof *rs);
    url_parts u;
    if (!rq->url || url_parse(rq->url, &u)) {
        snprintf(rs->error, sizeof rs->error, "not an http(s) URL: %s", rq->url ? rq->url : "(null)");
        return -1;
    }
    const char *method = rq->method ? rq->method : "GET";
    int64_t timeout = rq->timeout_ms > 0 ? rq->timeout_ms : 10000;
    uint64_t deadline = req_deadline();
    if (deadline) { /* leave time to answer before Lambda stops us */
        int64_t left = (int64_t)deadline - (int64_t)now_ms() - 500;
        if (left < timeout) timeout = left;
    }
    if (timeout < 1) { snprintf(rs->error, sizeof rs->error, "no time left before the invocation deadline"); return -1; }
    size_t max = rq->max_response ? rq->max_response : HTTP_MAX_RESPONSE;
    buf req = {0};
    int default_port = !strcmp(u.port, u.tls ? "443" : "80");
    buf_printf(&req, "%s %s HTTP/1.1\r\nHost: %s%s%s%s%s\r\nUser-Agent: mcp.c/" MCP_VERSION "\r\n", method, u.path,
               strchr(u.host, ':') ? "[" : "", u.host, strchr(u.host, ':') ? "]" : "", default_port ? "" : ":",
               default_port ? "" : u.port);
    if (rq->headers) buf_puts(&req, rq->headers);
    if (rq->body || (strcmp(method, "GET") && strcmp(method, "HEAD") && strcmp(method, "DELETE")))
        buf_printf(&req, "Content-Length: %zu\r\n", rq->body_len);
    buf_puts(&req, "\r\n");
    if (req.oom) { snprintf(rs->error, sizeof rs->error, "out of memory"); buf_free(&req); return -1; }
    int rc = -1, idempotent = !strcmp(method, "GET") || !strcmp(method, "HEAD") || !strcmp(method, "PUT") ||
                              !strcmp(method, "DELETE") || !strcmp(method, "OPTIONS");
    http_msg *m = malloc(sizeof *m);
    for (int attempt = 0; m && attempt < 2; attempt++) {
        int reused;
        outc *o = out_get(&u, (int)timeout, rs->error, sizeof rs->error, &reused);
        if (!o) break;
        rs->sent = 1; /* from here on the server may have it */
        if (out_send(o, req.p, req.len) || (rq->body_len && out_send(o, rq->body, rq->body_len)) || out_flush(o)) {
            outc_free(o);
            if (reused && idempotent) continue; /* the server closed an idle connection: once more on a new one */
            snprintf(rs->error, sizeof rs->error, "sending to %.96s failed: %.64s", u.host, strerror(errno));
            break;
        }
        char *body = NULL;
        size_t blen = 0;
        buf head = {0};
        buf errb = {0};
        int r = rq->on_body ? conn_stream_msg(&o->c, m, strcmp(method, "HEAD") ? 1 : 2, &head, rq->on_body, rq->ud, &errb)
                            : conn_read_msg(&o->c, m, strcmp(method, "HEAD") ? 1 : 2, max, &body, &blen);
        if (errb.len) { body = errb.p; blen = errb.len; }
        if (r != 1) buf_free(&errb);
        if (r == -499) { /* the callback stopped the body: the connection cannot be reused */
            outc_free(o);
            snprintf(rs->error, sizeof rs->error, "stopped by the body callback");
            rs->status = m->status;
            rs->head = head.p;
            break;
        }
        if (r != 1) {
            int fresh_eof = (r == 0 || (r == -400 && reused && !o->c.in.len)) && !head.len;
            outc_free(o);
            /* closed as it was reused: sent again only when sending twice does no harm */
            if (reused && fresh_eof && idempotent) { buf_free(&head); continue; }
            if (head.len) { /* the head came, the body was cut short: the status stays known */
                rs->status = m->status;
                rs->head = head.p;
                snprintf(rs->error, sizeof rs->error, "the response from %.96s was cut short", u.host);
                break;
            }
            buf_free(&head);
            if (r == -413) snprintf(rs->error, sizeof rs->error, "the response from %.96s is larger than %zu bytes", u.host, max);
            else if (r == -408 || errno == ETIMEDOUT) snprintf(rs->error, sizeof rs->error, "%.96s did not answer within %lld ms", u.host, (long long)timeout);
            else snprintf(rs->error, sizeof rs->error, "%.96s sent no valid HTTP response", u.host);
            break;
        }
        rs->status = m->status;
        if (rq->on_body) rs->head = head.p;
        else {
            rs->head = xmalloc(m->head_len + 1);
            memcpy(rs->head, o->c.in.p, m->head_len);
            rs->head[m->head_len] = 0;
        }
        rs->body = xmalloc(blen + 1);
        if (blen) memcpy(rs->body, body, blen);
        rs->body[blen] = 0;
        rs->len = blen;
        buf_free(&errb);
        if (m->close) outc_free(o);
        else out_put(o);
        rc = 0;
        break;
    }
    free(m);
    buf_free(&req);
    return rc;
}

/*=== MARK: - 9. AWS Signature Version 4 (Public: mcp_sigv4_*) ===*/
/*
 * SigV4 as the AWS General Reference specifies it ("Create a signed AWS API request"):
 * canonical request, string to sign, derived key, Authorization header or presigned query.
 * Credentials come from the standard variables Lambda sets; endpoints from the region, or
 * AWS_ENDPOINT_URL_<SERVICE> / AWS_ENDPOINT_URL, so tests can point at local servers.
 * A build with MCP_ENABLE_AWS=0 keeps only uri_decode here; mcp_sigv4_* return NULL.
 */

/* Decode %XX in place; returns the new length. URI templates use it too (section 15). */
static size_t uri_decode(char *s, size_t n) {
    size_t w = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '%' && i + 2 < n && hexval((unsigned char)s[i + 1]) >= 0 && hexval((unsigned char)s[i + 2]) >= 0) {
            s[w++] = (char)(hexval((unsigned char)s[i + 1]) << 4 | hexval((unsigned char)s[i + 2]));
            i += 2;
        } else s[w++] = s[i];
    }
    return w;
}

#if MCP_ENABLE_AWS
static void hex_put(buf *b, const unsigned char *p, size_t n) {
    if (!buf_grow(b, 2 * n)) return;
    for (size_t i = 0; i < n; i++) { b->p[b->len++] = hexdig[p[i] >> 4]; b->p[b->len++] = hexdig[p[i] & 15]; }
    b->p[b->len] = 0;
}

static void sha256_hex(const void *p, size_t n, buf *out) {
    sha256_ctx c;
    unsigned char d[32];
    sha256_init(&c);
    sha256_update(&c, p, n);
    sha256_final(&c, d);
    hex_put(out, d, 32);
}

/* RFC 3986 unreserved characters stay; everything else is %XX (upper-case hex). '/' is kept
 * when keep_slash (paths). */
static void uri_encode(buf *b, const char *s, size_t n, int keep_slash) {
    static const char up[] = "0123456789ABCDEF";
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_' ||
            c == '.' || c == '~' || (keep_slash && c == '/'))
            buf_putc(b, (char)c);
        else { char e[3] = {'%', up[c >> 4], up[c & 15]}; buf_put(b, e, 3); }
    }
}

typedef struct { char *k, *v; } kv;
static int kv_cmp(const void *a, const void *b) {
    const kv *x = a, *y = b;
    int c = strcmp(x->k, y->k);
    return c ? c : strcmp(x->v, y->v);
}

/* The canonical query string: each name and value decoded, then encoded the SigV4 way,
 * sorted by name and value. */
static void canonical_query(buf *out, const char *q, size_t n) {
    kv *items = NULL;
    int count = 0;
    for (size_t i = 0; i < n;) {
        size_t j = i;
        while (j < n && q[j] != '&') j++;
        if (j > i) {
            const char *eq = memchr(q + i, '=', j - i);
            size_t kl = eq ? (size_t)(eq - q - i) : j - i;
            char *k = memcpy(xmalloc(kl + 1), q + i, kl);
            k[uri_decode(k, kl)] = 0;
            size_t vl = eq ? j - i - kl - 1 : 0;
            char *v = memcpy(xmalloc(vl + 1), eq ? eq + 1 : "", vl);
            v[uri_decode(v, vl)] = 0;
            GROW(items, count);
            items[count].k = k;
            items[count].v = v;
            count++;
        }
        i = j + 1;
    }
    for (int i = 1; i < count; i++) /* a few parameters: insertion sort */
        for (int j = i; j > 0 && kv_cmp(&items[j - 1], &items[j]) > 0; j--) { kv t = items[j]; items[j] = items[j - 1]; items[j - 1] = t; }
    for (int i = 0; i < count; i++) {
        if (i) buf_putc(out, '&');
        uri_encode(out, items[i].k, strlen(items[i].k), 0);
        buf_putc(out, '=');
        uri_encode(out, items[i].v, strlen(items[i].v), 0);
        free(items[i].k);
        free(items[i].v);
    }
    free(items);
}

typedef struct { char name[64]; const char *v; size_t vn; } sighdr;
static int sighdr_cmp(const void *a, const void *b) { return strcmp(((const sighdr *)a)->name, ((const sighdr *)b)->name); }

static void sigv4_key(const char *secret, const char *date, const char *region, const char *service, unsigned char out[32]) {
    unsigned char k[32];
    buf s = {0};
    buf_printf(&s, "AWS4%s", secret);
    hmac_sha256(s.p, s.len, date, strlen(date), k);
    hmac_sha256(k, 32, region, strlen(region), k);
    hmac_sha256(k, 32, service, strlen(service), k);
    hmac_sha256(k, 32, "aws4_request", 12, out);
    memset(s.p, 0, s.len);
    buf_free(&s);
}

static void amz_dates(time_t now, char amz[17], char date[9]) {
    utc_time u = utc_of((int64_t)now);
    char t[48];
    snprintf(t, sizeof t, "%04d%02d%02dT%02d%02d%02dZ", u.year, u.mon, u.day, u.hour, u.min, u.sec);
    memcpy(amz, t, 16);
    amz[16] = 0;
    memcpy(date, amz, 8);
    date[8] = 0;
}

/* Credentials found by the provider chain (see "Credentials" below). */
typedef struct { char ak[128], sk[128], tok[4096]; int64_t expires; } aws_creds;
static int aws_creds_get(aws_creds *c, char *err, size_t errn);

/* The keys to sign with: k's, else the environment's (Lambda sets them), else the chain's
 * (copied into store). */
static void sigv4_creds(const mcp_sigv4 *k, aws_creds *store, const char **ak, const char **sk, const char **tok) {
    *ak = k->access_key ? k->access_key : getenv("AWS_ACCESS_KEY_ID");
    *sk = k->secret_key ? k->secret_key : getenv("AWS_SECRET_ACCESS_KEY");
    *tok = k->session_token ? k->session_token : (k->access_key ? NULL : getenv("AWS_SESSION_TOKEN"));
    if (!k->access_key && (!*ak || !*sk || !**ak) && !aws_creds_get(store, NULL, 0)) {
        *ak = store->ak;
        *sk = store->sk;
        *tok = store->tok[0] ? store->tok : NULL;
    }
}

/* The region of the profile (AWS_PROFILE or default) in the shared config, read once. */
static char profile_region_v[64];
static pthread_once_t profile_region_once = PTHREAD_ONCE_INIT;
static void profile_region_read(void);

static const char *sigv4_region(const mcp_sigv4 *k) {
    const char *r = k->region ? k->region : getenv("AWS_REGION");
    if (!r || !*r) r = getenv("AWS_DEFAULT_REGION");
    if (r && *r) return r;
    pthread_once(&profile_region_once, profile_region_read);
    return profile_region_v[0] ? profile_region_v : "us-east-1";
}

/* The signature of a canonical request, as hex. */
static void sigv4_sign_cr(const mcp_sigv4 *k, const char *sk, const char *amz, const char *date, const char *region,
                          const buf *cr, buf *sig) {
    buf sts = {0};
    buf_printf(&sts, "AWS4-HMAC-SHA256\n%s\n%s/%s/%s/aws4_request\n", amz, date, region, k->service);
    sha256_hex(cr->p, cr->len, &sts);
    unsigned char key[32], mac[32];
    sigv4_key(sk, date, region, k->service, key);
    hmac_sha256(key, 32, sts.p, sts.len, mac);
    hex_put(sig, mac, 32);
    memset(key, 0, sizeof key);
    buf_free(&sts);
}

char *mcp_sigv4_sign(const mcp_sigv4 *k, const char *method, const char *url, const char *headers,
                     const void *body, size_t body_len) {
    const char *ak, *sk, *tok;
    aws_creds store;
    sigv4_creds(k, &store, &ak, &sk, &tok);
    url_parts u;
    if (!ak || !sk || !k->service || url_parse(url, &u)) return NULL;
    const char *region = sigv4_region(k);
    char amz[17], date[9];
    amz_dates(k->now ? (time_t)k->now : time(NULL), amz, date);
    buf payload = {0}, out = {0}, cr = {0}, hostv = {0};
    if (k->unsigned_payload) buf_puts(&payload, "UNSIGNED-PAYLOAD");
    else sha256_hex(body ? body : "", body ? body_len : 0, &payload);
    int default_port = !strcmp(u.port, u.tls ? "443" : "80");
    buf_printf(&hostv, "%s%s%s%s%s", strchr(u.host, ':') ? "[" : "", u.host, strchr(u.host, ':') ? "]" : "",
               default_port ? "" : ":", default_port ? "" : u.port);
    /* the headers that go out with the signature */
    buf_printf(&out, "X-Amz-Date: %s\r\n", amz);
    if (!strcmp(k->service, "s3")) buf_printf(&out, "X-Amz-Content-Sha256: %s\r\n", payload.p);
    if (tok && *tok) buf_printf(&out, "X-Amz-Security-Token: %s\r\n", tok);
    /* every header is signed: host, the caller's and ours */
    sighdr hs[MCP_MAX_HEADERS];
    int nh = 0;
    const char *lists[2] = {headers ? headers : "", out.p};
    snprintf(hs[nh].name, sizeof hs[nh].name, "host");
    hs[nh].v = hostv.p;
    hs[nh].vn = hostv.len;
    nh++;
    for (int L = 0; L < 2; L++) {
        for (const char *p = lists[L]; *p && nh < MCP_MAX_HEADERS;) {
            const char *colon = strchr(p, ':'), *eol = strstr(p, "\r\n");
            if (!colon || !eol || colon > eol) break;
            size_t nl = (size_t)(colon - p);
            if (nl < sizeof hs[nh].name) {
                for (size_t i = 0; i < nl; i++) hs[nh].name[i] = (char)lower((unsigned char)p[i]);
                hs[nh].name[nl] = 0;
                slice v = {colon + 1, (size_t)(eol - colon - 1)};
                v = sl_trim(v);
                hs[nh].v = v.p;
                hs[nh].vn = v.n;
                nh++;
            }
            p = eol + 2;
        }
    }
    for (int i = 1; i < nh; i++) /* stable, so repeated names keep their order */
        for (int j = i; j > 0 && sighdr_cmp(&hs[j - 1], &hs[j]) > 0; j--) { sighdr t = hs[j]; hs[j] = hs[j - 1]; hs[j - 1] = t; }
    /* canonical request */
    const char *path = u.path, *qm = strchr(path, '?');
    size_t plen = qm ? (size_t)(qm - path) : strlen(path);
    buf_printf(&cr, "%s\n", method);
    if (!strcmp(k->service, "s3")) buf_put(&cr, path, plen); /* S3: the path as sent, encoded once */
    else { /* others: each segment normalized and encoded twice */
        buf once = {0};
        char *dec = memcpy(xmalloc(plen + 1), path, plen);
        size_t dl = uri_decode(dec, plen);
        uri_encode(&once, dec, dl, 1);
        uri_encode(&cr, once.p ? once.p : "", once.len, 1);
        buf_free(&once);
        free(dec);
    }
    buf_putc(&cr, '\n');
    if (qm) canonical_query(&cr, qm + 1, strlen(qm + 1));
    buf_putc(&cr, '\n');
    buf signed_names = {0};
    for (int i = 0; i < nh; i++) {
        /* repeated names join their values with commas */
        if (i && !strcmp(hs[i].name, hs[i - 1].name)) {
            cr.len--; /* the newline */
            buf_putc(&cr, ',');
        } else {
            buf_printf(&cr, "%s:", hs[i].name);
            if (signed_names.len) buf_putc(&signed_names, ';');
            buf_puts(&signed_names, hs[i].name);
        }
        /* sequential spaces become one */
        for (size_t j = 0; j < hs[i].vn; j++)
            if (!(hs[i].v[j] == ' ' && j && hs[i].v[j - 1] == ' ')) buf_putc(&cr, hs[i].v[j]);
        buf_putc(&cr, '\n');
    }
    buf_printf(&cr, "\n%s\n%s", signed_names.p, payload.p);
    buf sig = {0};
    sigv4_sign_cr(k, sk, amz, date, region, &cr, &sig);
    buf_printf(&out, "Authorization: AWS4-HMAC-SHA256 Credential=%s/%s/%s/%s/aws4_request, SignedHeaders=%s, Signature=%s\r\n",
               ak, date, region, k->service, signed_names.p, sig.p);
    buf_free(&sig);
    buf_free(&signed_names);
    buf_free(&cr);
    buf_free(&payload);
    buf_free(&hostv);
    if (out.oom) { buf_free(&out); return NULL; }
    return out.p;
}

char *mcp_sigv4_presign(const mcp_sigv4 *k, const char *method, const char *url, int expires) {
    const char *ak, *sk, *tok;
    aws_creds store;
    sigv4_creds(k, &store, &ak, &sk, &tok);
    url_parts u;
    if (!ak || !sk || !k->service || url_parse(url, &u) || expires < 1 || expires > 604800) return NULL;
    const char *region = sigv4_region(k);
    char amz[17], date[9];
    amz_dates(k->now ? (time_t)k->now : time(NULL), amz, date);
    buf q = {0}, cred = {0}, full = {0}, cr = {0};
    buf_printf(&cred, "%s/%s/%s/%s/aws4_request", ak, date, region, k->service);
    const char *path = u.path, *qm = strchr(path, '?');
    size_t plen = qm ? (size_t)(qm - path) : strlen(path);
    if (qm && qm[1]) { buf_puts(&q, qm + 1); buf_putc(&q, '&'); }
    buf_puts(&q, "X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=");
    uri_encode(&q, cred.p, cred.len, 0);
    buf_printf(&q, "&X-Amz-Date=%s&X-Amz-Expires=%d", amz, expires);
    if (tok && *tok) { buf_puts(&q, "&X-Amz-Security-Token="); uri_encode(&q, tok, strlen(tok), 0); }
    buf_puts(&q, "&X-Amz-SignedHeaders=host");
    int default_port = !strcmp(u.port, u.tls ? "443" : "80");
    buf_printf(&cr, "%s\n", method);
    buf_put(&cr, path, plen);
    buf_putc(&cr, '\n');
    canonical_query(&cr, q.p, q.len);
    buf_printf(&cr, "\nhost:%s%s%s%s%s\n\nhost\nUNSIGNED-PAYLOAD", strchr(u.host, ':') ? "[" : "", u.host,
               strchr(u.host, ':') ? "]" : "", default_port ? "" : ":", default_port ? "" : u.port);
    buf sig = {0};
    sigv4_sign_cr(k, sk, amz, date, region, &cr, &sig);
    if (u.path >= url && u.path <= url + strlen(url)) buf_put(&full, url, (size_t)(u.path - url) + plen);
    else { buf_puts(&full, url); buf_putc(&full, '/'); } /* no path in the URL: it is "/" */
    buf_putc(&full, '?');
    buf_put(&full, q.p, q.len);
    buf_printf(&full, "&X-Amz-Signature=%s", sig.p);
    buf_free(&sig);
    buf_free(&cr);
    buf_free(&q);
    buf_free(&cred);
    if (full.oom) { buf_free(&full); return NULL; }
    return full.p;
}
#else
/* What the AWS calls of a build without them answer (MCP_ENABLE_AWS=0, section 1). */
#define AWS_OFF "AWS calls are not available: this build has MCP_ENABLE_AWS=0"

char *mcp_sigv4_sign(const mcp_sigv4 *k, const char *method, const char *url, const char *headers,
                     const void *body, size_t body_len) {
    (void)k, (void)method, (void)url, (void)headers, (void)body, (void)body_len;
    return NULL;
}

char *mcp_sigv4_presign(const mcp_sigv4 *k, const char *method, const char *url, int expires) {
    (void)k, (void)method, (void)url, (void)expires;
    return NULL;
}
#endif

/*=== MARK: - 10. AWS calls (Public: mcp_aws_*, mcp_ssm_get, mcp_secret_get, mcp_s3_*) ===*/
/*
 * AWS services called the way the SDKs call them: the endpoint each SDK would pick, the
 * protocol the service speaks, the standard retry mode, errors that name the service, the
 * operation and AWS's code; then the services a server reads at start and from its tools.
 * With MCP_ENABLE_AWS=0 each public call fails at once with AWS_OFF as its error.
 */

#if MCP_ENABLE_AWS
/* The AWS services mcp.c knows, from the SDKs' service models: the name callers use (the
 * endpoint prefix, <name>.<region>.amazonaws.com), the service ID as the SDKs spell it in
 * AWS_ENDPOINT_URL_<ID> (spaces as '_', upper-cased), the SigV4 signing name, and the
 * protocol. A service not listed is taken as JSON 1.1 under its own name. */
enum { AWS_JSON10, AWS_JSON11, AWS_REST_JSON, AWS_REST_XML, AWS_QUERY };
typedef struct { const char *name, *id, *signing; int proto; } aws_service;
static const aws_service aws_services[] = {
    {"ssm", "SSM", "ssm", AWS_JSON11},
    {"secretsmanager", "SECRETS_MANAGER", "secretsmanager", AWS_JSON11},
    {"dynamodb", "DYNAMODB", "dynamodb", AWS_JSON10},
    {"streams.dynamodb", "DYNAMODB_STREAMS", "dynamodb", AWS_JSON10},
    {"s3", "S3", "s3", AWS_REST_XML},
    {"sts", "STS", "sts", AWS_QUERY},
    {"lambda", "LAMBDA", "lambda", AWS_REST_JSON},
    {"bedrock-runtime", "BEDROCK_RUNTIME", "bedrock", AWS_REST_JSON},
    {"bedrock-agent-runtime", "BEDROCK_AGENT_RUNTIME", "bedrock", AWS_REST_JSON},
    {"logs", "CLOUDWATCH_LOGS", "logs", AWS_JSON11},
    {"monitoring", "CLOUDWATCH", "monitoring", AWS_QUERY},
    {"events", "EVENTBRIDGE", "events", AWS_JSON11},
    {"states", "SFN", "states", AWS_JSON10},
    {"sqs", "SQS", "sqs", AWS_JSON10},
    {"sns", "SNS", "sns", AWS_QUERY},
    {"kinesis", "KINESIS", "kinesis", AWS_JSON11},
    {"firehose", "FIREHOSE", "firehose", AWS_JSON11},
    {"kms", "KMS", "kms", AWS_JSON11},
    {"cognito-idp", "COGNITO_IDENTITY_PROVIDER", "cognito-idp", AWS_JSON11},
    {"apigateway", "API_GATEWAY", "apigateway", AWS_REST_JSON},
};
static const char *const aws_proto_names[] = {"JSON 1.0", "JSON 1.1", "rest-json", "rest-xml", "query"};

static aws_service aws_service_find(const char *name) {
    for (size_t i = 0; i < COUNT(aws_services); i++)
        if (!strcmp(aws_services[i].name, name) || !strcmp(aws_services[i].signing, name)) return aws_services[i];
    aws_service sv = {name, NULL, name, AWS_JSON11};
    return sv;
}

/* The endpoint of a service as the SDKs find it: AWS_ENDPOINT_URL_<SERVICE_ID>, then
 * AWS_ENDPOINT_URL (neither when AWS_IGNORE_CONFIGURED_ENDPOINT_URLS is true), else
 * https://<name>.<region>.amazonaws.com. No trailing slash. */
static void aws_endpoint(const aws_service *sv, buf *out, int *custom) {
    const char *ign = getenv("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS"), *e = NULL;
    if (!(ign && !strcasecmp(ign, "true"))) {
        char var[96] = "AWS_ENDPOINT_URL_";
        size_t n = strlen(var);
        for (const char *p = sv->id ? sv->id : sv->name; *p && n + 1 < sizeof var; p++)
            var[n++] = *p == '-' || *p == '.' || *p == ' ' ? '_' : (*p >= 'a' && *p <= 'z') ? (char)(*p - 32) : *p;
        var[n] = 0;
        e = getenv(var);
        if (!e || !*e) e = getenv("AWS_ENDPOINT_URL");
    }
    *custom = e && *e;
    if (*custom) {
        buf_puts(out, e);
        while (out->len && out->p[out->len - 1] == '/') out->p[--out->len] = 0;
    } else {
        mcp_sigv4 k;
        memset(&k, 0, sizeof k);
        buf_printf(out, "https://%s.%s.amazonaws.com", sv->name, sigv4_region(&k));
    }
}

/* Retries as the SDKs' standard mode does them (botocore retries/standard.py): at most
 * AWS_MAX_ATTEMPTS attempts (3; 5 with AWS_RETRY_MODE=legacy), throttling and transient
 * errors only, a delay of rand(0,1) * min(2^(attempt-1), 20) s before each retry, and a
 * process-wide quota (500 tokens; a retry takes 5, 10 after a timeout; a success gives back
 * what its retries took, or 1) so that an outage is not met with a storm. No delay runs
 * past the Lambda deadline. A request the server may have acted on (the connection failed
 * after it was sent) is sent again only when the operation is idempotent. */
#define AWS_RETRY_QUOTA 500
#define AWS_RETRY_COST 5
#define AWS_RETRY_TIMEOUT_COST 10
#define AWS_MAX_BACKOFF_S 20
static struct { pthread_mutex_t mu; int tokens; unsigned long retries; } aws_retry = {PTHREAD_MUTEX_INITIALIZER, AWS_RETRY_QUOTA, 0};

static unsigned long aws_retry_count(void) {
    pthread_mutex_lock(&aws_retry.mu);
    unsigned long n = aws_retry.retries;
    pthread_mutex_unlock(&aws_retry.mu);
    return n;
}

static int aws_max_attempts(void) {
    const char *m = getenv("AWS_MAX_ATTEMPTS"), *mode = getenv("AWS_RETRY_MODE");
    int n = m && *m ? atoi(m) : 0;
    if (n >= 1) return n > 10 ? 10 : n;
    return mode && !strcasecmp(mode, "legacy") ? 5 : 3;
}

/* Throttling and transient error codes the SDKs retry (any status). */
static int aws_code_retryable(const char *code) {
    static const char *const codes[] = {
        "Throttling", "ThrottlingException", "ThrottledException", "RequestThrottledException", "TooManyRequestsException",
        "ProvisionedThroughputExceededException", "TransactionInProgressException", "RequestLimitExceeded",
        "BandwidthLimitExceeded", "LimitExceededException", "RequestThrottled", "SlowDown", "PriorRequestNotComplete",
        "RequestTimeout", "RequestTimeoutException", "EC2ThrottledException", "IDPCommunicationError",
    };
    for (size_t i = 0; i < COUNT(codes); i++) if (!strcmp(code, codes[i])) return 1;
    return 0;
}

/* The AWS error code and message of an error answer: JSON {"__type":"...#Code",
 * "message":...} (or the X-Amzn-ErrorType header), or XML <Code>/<Message>. */
static void aws_error_parts(const mcp_http_response *rs, char *code, size_t cn, char *msg, size_t mn) {
    code[0] = msg[0] = 0;
    mcp_json_err je;
    mcp_json_doc *d = rs->body && rs->len ? mcp_json_parse(rs->body, rs->len, 0, &je) : NULL;
    if (d) {
        const mcp_json *r = mcp_json_root(d);
        const char *t = mcp_json_str(mcp_json_get(r, "__type")), *m = mcp_json_str(mcp_json_get(r, "message"));
        if (!t) t = mcp_json_str(mcp_json_get(r, "code"));
        if (!m) m = mcp_json_str(mcp_json_get(r, "Message"));
        if (t) snprintf(code, cn, "%s", strchr(t, '#') ? strchr(t, '#') + 1 : t);
        if (m) snprintf(msg, mn, "%s", m);
        mcp_json_free(d);
    } else if (rs->body) {
        const char *c = strstr(rs->body, "<Code>"), *m = strstr(rs->body, "<Message>"), *e;
        if (c && (e = strstr(c += 6, "</Code>"))) snprintf(code, cn, "%.*s", (int)(e - c), c);
        if (m && (e = strstr(m += 9, "</Message>"))) snprintf(msg, mn, "%.*s", (int)(e - m), m);
    }
    size_t n;
    const char *h = code[0] ? NULL : mcp_http_header(rs, "x-amzn-errortype", &n);
    if (h) { /* "Code:http://internal.amazon.com/..." */
        size_t k = 0;
        while (k < n && h[k] != ':') k++;
        snprintf(code, cn, "%.*s", (int)k, h);
    }
}

/* Sleep ms, or not at all when that would pass the Lambda deadline (with a second left to
 * make the request and answer). Returns 0 when it slept. */
static int aws_backoff(int ms) {
    uint64_t deadline = req_deadline();
    if (deadline && now_ms() + (uint64_t)ms + 1000 > deadline) return -1;
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) && errno == EINTR) {}
    return 0;
}

/* Sign and send one AWS request, retried as above. op names the operation in logs and
 * errors; on failure rs->error says service, operation, AWS error code, message, HTTP
 * status and attempts made. */
static int aws_send(const aws_service *sv, const char *op, int idempotent, const char *method, const char *url,
                    const char *headers, const void *body, size_t blen, int unsigned_payload, mcp_http_request *base,
                    mcp_http_response *rs) {
    int max = aws_max_attempts(), taken = 0, r = -1, attempt;
    const req *cr = cur_req;
    for (attempt = 1;; attempt++) {
        mcp_sigv4 k;
        memset(&k, 0, sizeof k);
        k.service = sv->signing;
        k.unsigned_payload = unsigned_payload;
        buf h = {0};
        buf_puts(&h, headers ? headers : "");
        if (cr && cr->inv && cr->inv->trace[0]) buf_printf(&h, "X-Amzn-Trace-Id: %s\r\n", cr->inv->trace); /* X-Ray links the call */
        char *sig = h.oom ? NULL : mcp_sigv4_sign(&k, method, url, h.p, body, blen);
        if (!sig) {
            buf_free(&h);
            memset(rs, 0, sizeof *rs);
            aws_creds c;
            char why[440];
            if (!aws_creds_get(&c, why, sizeof why)) snprintf(why, sizeof why, "the request could not be signed (%.200s)", url);
            memset(&c, 0, sizeof c);
            snprintf(rs->error, sizeof rs->error, "%.24s %.40s: %s", sv->name, op, why);
            return -1;
        }
        buf_puts(&h, sig);
        free(sig);
        mcp_http_request rq;
        if (base) rq = *base;
        else memset(&rq, 0, sizeof rq);
        rq.method = method;
        rq.url = url;
        rq.headers = h.p;
        rq.body = body;
        rq.body_len = blen;
        r = mcp_http_do(&rq, rs);
        buf_free(&h);
        char code[96] = "", msg[384] = "";
        int retry, cost = AWS_RETRY_COST;
        if (r) { /* no answer: retried unless the server may have acted on a request that is not idempotent */
            snprintf(msg, sizeof msg, "%.380s", rs->error);
            retry = !rs->status && (!rs->sent || idempotent);
            if (strstr(rs->error, "did not answer")) cost = AWS_RETRY_TIMEOUT_COST;
        } else if (rs->status / 100 == 2) {
            pthread_mutex_lock(&aws_retry.mu); /* a success gives back what its retries took */
            aws_retry.tokens += taken ? taken : 1;
            if (aws_retry.tokens > AWS_RETRY_QUOTA) aws_retry.tokens = AWS_RETRY_QUOTA;
            pthread_mutex_unlock(&aws_retry.mu);
            return 0;
        } else {
            aws_error_parts(rs, code, sizeof code, msg, sizeof msg);
            retry = (rs->status >= 500 && rs->status <= 504 && rs->status != 501) || aws_code_retryable(code);
        }
        if (retry && attempt < max) {
            pthread_mutex_lock(&aws_retry.mu);
            int ok = aws_retry.tokens >= cost;
            if (ok) { aws_retry.tokens -= cost; aws_retry.retries++; taken += cost; }
            pthread_mutex_unlock(&aws_retry.mu);
            unsigned char rnd[2] = {0, 0};
            if (getentropy(rnd, sizeof rnd)) rnd[0] = (unsigned char)mono_us();
            int cap = attempt - 1 < 5 ? 1 << (attempt - 1) : AWS_MAX_BACKOFF_S;
            int ms = (int)((uint32_t)(rnd[0] << 8 | rnd[1]) * (uint32_t)(cap > AWS_MAX_BACKOFF_S ? AWS_MAX_BACKOFF_S : cap) * 1000u / 65536u);
            if (ok) {
                log_at(LOG_WARN, cr ? cr->inv : NULL, "%s %s: %s%s%s (attempt %d of %d); retrying in %d ms", sv->name, op,
                       code[0] ? code : "", code[0] && msg[0] ? ": " : "", msg, attempt, max, ms);
                if (!aws_backoff(ms)) { mcp_http_free(rs); continue; }
            }
        }
        char st[16] = "";
        if (rs->status) snprintf(st, sizeof st, "HTTP %d, ", rs->status);
        const char *c = code[0] ? code : r ? "" : "error";
        buf e = {0};
        buf_printf(&e, "%.24s %.48s: %.64s%s%.360s (%s%d attempt%s)", sv->name, op, c, c[0] && msg[0] ? ": " : "", msg, st,
                   attempt, attempt == 1 ? "" : "s");
        snprintf(rs->error, sizeof rs->error, "%s", e.p && !e.oom ? e.p : "out of memory");
        buf_free(&e);
        return -1;
    }
}

/* Read-only operations by name: a JSON-protocol call the server may have received is sent
 * again only for these. */
static int aws_op_idempotent(const char *op) {
    static const char *const pre[] = {"Get", "List", "Describe", "Query", "Scan", "BatchGet", "Head"};
    for (size_t i = 0; i < COUNT(pre); i++) if (!strncmp(op, pre[i], strlen(pre[i]))) return 1;
    return 0;
}

int mcp_aws_json(const char *service, const char *target, const char *json, mcp_http_response *rs) {
    aws_service sv = aws_service_find(service);
    if (sv.proto != AWS_JSON10 && sv.proto != AWS_JSON11) {
        memset(rs, 0, sizeof *rs);
        snprintf(rs->error, sizeof rs->error, "%s speaks %s, not the JSON protocol%s", service, aws_proto_names[sv.proto],
                 sv.proto == AWS_REST_JSON ? ": call it with mcp_aws_rest" : "");
        return -1;
    }
    buf url = {0}, h = {0};
    int custom;
    aws_endpoint(&sv, &url, &custom);
    buf_putc(&url, '/');
    buf_printf(&h, "Content-Type: application/x-amz-json-%s\r\nX-Amz-Target: %s\r\n", sv.proto == AWS_JSON10 ? "1.0" : "1.1", target);
    const char *op = strrchr(target, '.') ? strrchr(target, '.') + 1 : target;
    int r = aws_send(&sv, op, aws_op_idempotent(op), "POST", url.p, h.p, json, strlen(json), 0, NULL, rs);
    buf_free(&url);
    buf_free(&h);
    return r;
}

/* mcp_aws_rest with extra header lines (each "Name: value\r\n"), named op in errors. */
static int aws_rest(const char *service, const char *op_name, const char *method, const char *path,
                    const char *headers, const char *json, mcp_http_response *rs) {
    aws_service sv = aws_service_find(service);
    buf url = {0}, h = {0};
    int custom;
    aws_endpoint(&sv, &url, &custom);
    if (!path || path[0] != '/') {
        memset(rs, 0, sizeof *rs);
        snprintf(rs->error, sizeof rs->error, "%s: the path must start with '/'", service);
        buf_free(&url);
        return -1;
    }
    buf_puts(&url, path);
    if (json) buf_puts(&h, "Content-Type: application/json\r\n");
    if (headers) buf_puts(&h, headers);
    const char *m = method ? method : json ? "POST" : "GET";
    char op[64];
    snprintf(op, sizeof op, "%s", op_name ? op_name : m);
    int idem = strcmp(m, "POST") && strcmp(m, "PATCH");
    int r = aws_send(&sv, op, idem, m, url.p, h.len ? h.p : NULL, json, json ? strlen(json) : 0, 0, NULL, rs);
    buf_free(&url);
    buf_free(&h);
    return r;
}

int mcp_aws_rest(const char *service, const char *method, const char *path, const char *json, mcp_http_response *rs) {
    return aws_rest(service, NULL, method, path, NULL, json, rs);
}

/* A string member of a JSON answer, malloc'ed. */
static char *json_member_dup(const char *body, size_t len, const char *outer, const char *inner) {
    mcp_json_err e;
    mcp_json_doc *d = mcp_json_parse(body, len, 0, &e);
    const mcp_json *v = mcp_json_get(mcp_json_root(d), outer);
    if (inner) v = mcp_json_get(v, inner);
    char *r = mcp_json_str(v) ? xstrdup(v->s) : NULL;
    mcp_json_free(d);
    return r;
}

char *mcp_ssm_get(const char *name, char *err, size_t errn) {
    buf b = {0};
    jw w = {&b, 0};
    jw_obj(&w);
    jw_key(&w, "Name"); jw_str(&w, name);
    jw_key(&w, "WithDecryption"); jw_bool(&w, 1);
    jw_end_obj(&w);
    mcp_http_response rs;
    int r = mcp_aws_json("ssm", "AmazonSSM.GetParameter", b.p, &rs);
    buf_free(&b);
    char *v = r ? NULL : json_member_dup(rs.body, rs.len, "Parameter", "Value");
    if (!v && err) snprintf(err, errn, "%s", r ? rs.error : "ssm: the answer has no Parameter.Value");
    mcp_http_free(&rs);
    return v;
}

/* A JSON value as configuration text: a string as itself, a number as written, true and
 * false, an object or array as JSON; NULL for null or nothing. malloc'ed. */
static char *json_config_text(const mcp_json *v) {
    switch (MCP_JSON_TYPE(v)) {
    case MCP_JSON_STRING: case MCP_JSON_NUMBER: { /* a number's text is not NUL-terminated */
        char *t = memcpy(xmalloc(v->len + 1), v->s, v->len);
        t[v->len] = 0;
        return t;
    }
    case MCP_JSON_TRUE: return xstrdup("true");
    case MCP_JSON_FALSE: return xstrdup("false");
    case MCP_JSON_OBJECT: case MCP_JSON_ARRAY: { buf b = {0}; json_write_value(&b, v); return b.oom ? NULL : b.p; }
    default: return NULL;
    }
}

/* One key of a JSON secret (id names it in errors): the key's value as json_config_text
 * gives it, or NULL with err set. Takes v, and wipes it. */
static char *secret_json_key(char *v, const char *id, const char *key, char *err, size_t errn) {
    mcp_json_err je;
    mcp_json_doc *d = mcp_json_parse(v, strlen(v), 0, &je);
    char *inner = json_config_text(mcp_json_get(mcp_json_root(d), key));
    mcp_json_free(d);
    memset(v, 0, strlen(v));
    free(v);
    if (!inner && err) snprintf(err, errn, "secretsmanager: secret %.200s has no key %.100s (or it is null)", id, key);
    return inner;
}

/* "ID[?versionStage=STAGE|?versionId=ID][#json-key]": ID a name or an ARN. */
char *mcp_secret_get(const char *spec, char *err, size_t errn) {
    char id[1024];
    snprintf(id, sizeof id, "%s", spec);
    char *hash = strchr(id, '#');
    if (hash) *hash++ = 0;
    char *q = strchr(id, '?');
    if (q) *q++ = 0;
    buf b = {0};
    jw w = {&b, 0};
    jw_obj(&w);
    jw_key(&w, "SecretId"); jw_str(&w, id);
    if (q) {
        char *eq = strchr(q, '=');
        if (!eq || (strncmp(q, "versionStage=", 13) && strncmp(q, "versionId=", 10)) || !eq[1]) {
            if (err) snprintf(err, errn, "secretsmanager: %.200s: after '?' comes versionStage=STAGE or versionId=ID", id);
            buf_free(&b);
            return NULL;
        }
        jw_key(&w, q[7] == 'S' ? "VersionStage" : "VersionId"); jw_str(&w, eq + 1);
    }
    jw_end_obj(&w);
    mcp_http_response rs;
    int r = mcp_aws_json("secretsmanager", "secretsmanager.GetSecretValue", b.p, &rs);
    buf_free(&b);
    char *v = r ? NULL : json_member_dup(rs.body, rs.len, "SecretString", NULL);
    if (!v && err) snprintf(err, errn, "%s", r ? rs.error : "secretsmanager: the secret has no SecretString");
    if (rs.body) memset(rs.body, 0, rs.len);
    mcp_http_free(&rs);
    if (v && hash) v = secret_json_key(v, id, hash, err, errn);
    return v;
}

/* Does a Parameter of a GetParameters answer answer the reference want ("name",
 * "name:3", "name:label", or the parameter's ARN, with a selector too)? */
static int ssm_ref_match(const char *want, const mcp_json *p) {
    char base[1024], sel[128] = "";
    snprintf(base, sizeof base, "%s", want);
    char *name = base;
    if (!strncmp(base, "arn:", 4)) { /* arn:PARTITION:ssm:REGION:ACCOUNT:parameter/NAME */
        char *r = strstr(base, ":parameter/");
        if (!r) return 0;
        name = r + 11;
    }
    char *colon = strchr(name, ':');
    if (colon) { snprintf(sel, sizeof sel, "%s", colon + 1); *colon = 0; }
    const char *pn = mcp_json_str(mcp_json_get(p, "Name")), *parn = mcp_json_str(mcp_json_get(p, "ARN"));
    int named = pn && (!strcmp(pn, base) || !strcmp(pn, name) || (pn[0] == '/' && !strcmp(pn + 1, name)));
    if (!named && !(parn && !strcmp(parn, base))) return 0;
    if (!sel[0]) return 1;
    const char *ps = mcp_json_str(mcp_json_get(p, "Selector"));
    const mcp_json *ver = mcp_json_get(p, "Version");
    if (ps) return ps[0] == ':' && !strcmp(ps + 1, sel);
    return ver && MCP_JSON_TYPE(ver) == MCP_JSON_NUMBER && ver->len == strlen(sel) && !memcmp(ver->s, sel, ver->len);
}

/* S3's bucket naming rules: 3 to 63 lowercase letters, digits, dots and hyphens, a letter or
 * digit at each end. Checked before any URL is built, so a name cannot carry a host, a
 * port or a path of its own. */
#define S3_BAD_BUCKET "invalid bucket name (3 to 63 lowercase letters, digits, dots and hyphens)"
static int s3_bucket_ok(const char *b) {
    size_t n = b ? strlen(b) : 0;
    if (n < 3 || n > 63) return 0;
    for (size_t i = 0; i < n; i++) {
        char c = b[i];
        int alnum = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
        if (!alnum && ((c != '.' && c != '-') || i == 0 || i == n - 1)) return 0;
    }
    return 1;
}

/* The URL of an S3 object (or of the bucket when key is NULL): path style on a custom
 * endpoint or for bucket names with dots, virtual-hosted otherwise. */
static void s3_url(buf *u, const char *bucket, const char *key) {
    int custom;
    buf ep = {0};
    aws_service sv = aws_service_find("s3");
    aws_endpoint(&sv, &ep, &custom);
    if (custom || strchr(bucket, '.')) {
        if (!custom) { mcp_sigv4 k; memset(&k, 0, sizeof k); ep.len = 0; buf_printf(&ep, "https://s3.%s.amazonaws.com", sigv4_region(&k)); }
        buf_printf(u, "%s/", ep.p);
        uri_encode(u, bucket, strlen(bucket), 0);
    } else {
        mcp_sigv4 k;
        memset(&k, 0, sizeof k);
        buf_printf(u, "https://%s.s3.%s.amazonaws.com", bucket, sigv4_region(&k));
    }
    buf_putc(u, '/');
    if (key) uri_encode(u, key, strlen(key), 1);
    buf_free(&ep);
}

int mcp_s3_get(const char *bucket, const char *key, const char *range,
               int (*on_data)(void *ud, const char *p, size_t n), void *ud, mcp_http_response *rs) {
    buf u = {0}, h = {0};
    if (!s3_bucket_ok(bucket)) {
        memset(rs, 0, sizeof *rs);
        snprintf(rs->error, sizeof rs->error, "%s", S3_BAD_BUCKET);
        return -1;
    }
    s3_url(&u, bucket, key);
    if (range) buf_printf(&h, "Range: %s\r\n", range);
    mcp_http_request base;
    memset(&base, 0, sizeof base);
    base.on_body = on_data;
    base.ud = ud;
    base.timeout_ms = 30000;
    aws_service sv = aws_service_find("s3");
    int r = aws_send(&sv, "GetObject", 1, "GET", u.p, h.p, NULL, 0, 1, &base, rs);
    buf_free(&u);
    buf_free(&h);
    return r;
}

static const char *xml_take(const char *p, const char *end, const char *tag, buf *out);

/* A put larger than one part, as the SDKs' transfer managers make it: CreateMultipartUpload,
 * one UploadPart per MCP_S3_PART_SIZE bytes (each retried on its own), then
 * CompleteMultipartUpload with every part's ETag; on failure AbortMultipartUpload, so no
 * parts are left behind to be billed. */
static int s3_multipart(const aws_service *sv, const char *url, const char *headers, const void *body, size_t n,
                        mcp_http_response *rs) {
    buf u = {0}, id = {0}, done = {0};
    buf_printf(&u, "%s?uploads", url);
    int r = aws_send(sv, "CreateMultipartUpload", 0, "POST", u.p, headers, NULL, 0, 0, NULL, rs);
    if (!r && !xml_take(rs->body, rs->body + rs->len, "UploadId", &id)) {
        snprintf(rs->error, sizeof rs->error, "s3 CreateMultipartUpload: the answer has no UploadId");
        r = -1;
    }
    if (r) { buf_free(&u); buf_free(&id); return -1; }
    mcp_http_free(rs);
    buf_puts(&done, "<CompleteMultipartUpload xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">");
    size_t off = 0;
    for (int part = 1; !r && off < n; part++) {
        size_t len = n - off < MCP_S3_PART_SIZE ? n - off : MCP_S3_PART_SIZE;
        u.len = 0;
        buf_printf(&u, "%s?partNumber=%d&uploadId=", url, part);
        uri_encode(&u, id.p, id.len, 0);
        r = aws_send(sv, "UploadPart", 1, "PUT", u.p, NULL, (const char *)body + off, len, 0, NULL, rs);
        size_t en;
        const char *e = r ? NULL : mcp_http_header(rs, "etag", &en);
        if (!r && !e) { snprintf(rs->error, sizeof rs->error, "s3 UploadPart %d: the answer has no ETag", part); r = -1; }
        if (!r) {
            buf_printf(&done, "<Part><PartNumber>%d</PartNumber><ETag>%.*s</ETag></Part>", part, (int)en, e);
            mcp_http_free(rs);
        }
        off += len;
    }
    buf_puts(&done, "</CompleteMultipartUpload>");
    u.len = 0;
    buf_printf(&u, "%s?uploadId=", url);
    uri_encode(&u, id.p, id.len, 0);
    if (!r) {
        r = aws_send(sv, "CompleteMultipartUpload", 1, "POST", u.p, "Content-Type: application/xml\r\n", done.p, done.len, 0, NULL, rs);
        /* a 200 may still carry an error once the parts were being assembled */
        if (!r && rs->body && strstr(rs->body, "<Error>")) {
            char code[96], msg[300];
            aws_error_parts(rs, code, sizeof code, msg, sizeof msg);
            snprintf(rs->error, sizeof rs->error, "s3 CompleteMultipartUpload: %s: %s", code, msg);
            r = -1;
        }
    }
    if (r) { /* keep the failure; abort on a response of its own */
        mcp_http_response ab;
        aws_send(sv, "AbortMultipartUpload", 1, "DELETE", u.p, NULL, NULL, 0, 0, NULL, &ab);
        mcp_http_free(&ab);
    }
    buf_free(&u);
    buf_free(&id);
    buf_free(&done);
    return r;
}

int mcp_s3_put(const char *bucket, const char *key, const char *content_type, const void *body, size_t n,
               mcp_http_response *rs) {
    buf u = {0}, h = {0};
    if (!s3_bucket_ok(bucket)) {
        memset(rs, 0, sizeof *rs);
        snprintf(rs->error, sizeof rs->error, "%s", S3_BAD_BUCKET);
        return -1;
    }
    s3_url(&u, bucket, key);
    buf_printf(&h, "Content-Type: %s\r\n", content_type ? content_type : "application/octet-stream");
    aws_service sv = aws_service_find("s3");
    int r = n > MCP_S3_PART_SIZE ? s3_multipart(&sv, u.p, h.p, body, n, rs)
                                 : aws_send(&sv, "PutObject", 1, "PUT", u.p, h.p, body, n, 0, NULL, rs);
    buf_free(&u);
    buf_free(&h);
    return r;
}

/* The text of <tag>...</tag> at or after p, XML entities decoded, into out. */
static const char *xml_take(const char *p, const char *end, const char *tag, buf *out) {
    char open[64], close[64];
    snprintf(open, sizeof open, "<%s>", tag);
    snprintf(close, sizeof close, "</%s>", tag);
    const char *a = strstr(p, open);
    if (!a || a >= end) return NULL;
    a += strlen(open);
    const char *b = strstr(a, close);
    if (!b || b > end) return NULL;
    out->len = 0;
    for (const char *q = a; q < b; q++) {
        if (*q != '&') { buf_putc(out, *q); continue; }
        static const struct { const char *e; char c; } ents[] = {{"&amp;", '&'}, {"&lt;", '<'}, {"&gt;", '>'}, {"&quot;", '"'}, {"&apos;", '\''}};
        size_t i;
        for (i = 0; i < COUNT(ents); i++)
            if (!strncmp(q, ents[i].e, strlen(ents[i].e))) { buf_putc(out, ents[i].c); q += strlen(ents[i].e) - 1; break; }
        if (i == COUNT(ents)) buf_putc(out, '&');
    }
    if (!out->p) buf_putc(out, 0), out->len = 0;
    return b + strlen(close);
}

int mcp_s3_list(const char *bucket, const char *prefix, int max,
                int (*on_object)(void *ud, const char *key, long long size, const char *last_modified), void *ud,
                char *err, size_t errn) {
    buf token = {0};
    int count = 0, more = 1;
    if (!s3_bucket_ok(bucket)) { if (err) snprintf(err, errn, "%s", S3_BAD_BUCKET); return -1; }
    while (more && (max <= 0 || count < max)) {
        buf u = {0};
        s3_url(&u, bucket, NULL);
        buf_puts(&u, "?list-type=2");
        buf_printf(&u, "&max-keys=%d", max > 0 && max - count < 1000 ? max - count : 1000);
        if (prefix && *prefix) { buf_puts(&u, "&prefix="); uri_encode(&u, prefix, strlen(prefix), 0); }
        if (token.len) { buf_puts(&u, "&continuation-token="); uri_encode(&u, token.p, token.len, 0); }
        mcp_http_response rs;
        aws_service sv = aws_service_find("s3");
        int r = aws_send(&sv, "ListObjectsV2", 1, "GET", u.p, NULL, NULL, 0, 1, NULL, &rs);
        buf_free(&u);
        if (r) { if (err) snprintf(err, errn, "%s", rs.error); mcp_http_free(&rs); buf_free(&token); return -1; }
        const char *p = rs.body, *end = rs.body + rs.len;
        buf v = {0}, key = {0};
        while ((p = strstr(p, "<Contents>")) && (max <= 0 || count < max)) {
            const char *ce = strstr(p, "</Contents>");
            if (!ce) break;
            long long size = -1;
            char lm[40] = "";
            if (xml_take(p, ce, "Key", &key)) {
                if (xml_take(p, ce, "Size", &v)) size = strtoll(v.p, NULL, 10);
                if (xml_take(p, ce, "LastModified", &v)) snprintf(lm, sizeof lm, "%s", v.p);
                count++;
                if (on_object(ud, key.p, size, lm)) { more = 0; break; }
            }
            p = ce;
        }
        more = more && xml_take(rs.body, end, "IsTruncated", &v) && !strcmp(v.p, "true") &&
               xml_take(rs.body, end, "NextContinuationToken", &token);
        buf_free(&v);
        buf_free(&key);
        mcp_http_free(&rs);
    }
    buf_free(&token);
    return count;
}
#else
static unsigned long aws_retry_count(void) { return 0; }

/* The failure of a call that answers in rs. */
static int aws_off(mcp_http_response *rs) {
    memset(rs, 0, sizeof *rs);
    snprintf(rs->error, sizeof rs->error, "%s", AWS_OFF);
    return -1;
}

int mcp_aws_json(const char *service, const char *target, const char *json, mcp_http_response *rs) {
    (void)service, (void)target, (void)json;
    return aws_off(rs);
}

int mcp_aws_rest(const char *service, const char *method, const char *path, const char *json, mcp_http_response *rs) {
    (void)service, (void)method, (void)path, (void)json;
    return aws_off(rs);
}

char *mcp_ssm_get(const char *name, char *err, size_t errn) {
    (void)name;
    if (err) snprintf(err, errn, "%s", AWS_OFF);
    return NULL;
}

char *mcp_secret_get(const char *spec, char *err, size_t errn) { return mcp_ssm_get(spec, err, errn); }

int mcp_s3_get(const char *bucket, const char *key, const char *range,
               int (*on_data)(void *ud, const char *p, size_t n), void *ud, mcp_http_response *rs) {
    (void)bucket, (void)key, (void)range, (void)on_data, (void)ud;
    return aws_off(rs);
}

int mcp_s3_put(const char *bucket, const char *key, const char *content_type, const void *body, size_t n,
               mcp_http_response *rs) {
    (void)bucket, (void)key, (void)content_type, (void)body, (void)n;
    return aws_off(rs);
}

int mcp_s3_list(const char *bucket, const char *prefix, int max,
                int (*on_object)(void *ud, const char *key, long long size, const char *last_modified), void *ud,
                char *err, size_t errn) {
    (void)bucket, (void)prefix, (void)max, (void)on_object, (void)ud;
    if (err) snprintf(err, errn, "%s", AWS_OFF);
    return -1;
}
#endif

/*=== MARK: - 11. AWS credentials and configuration (Private) ===*/
/*
 * Where the signing keys come from when the environment has none (serve on a laptop, a
 * container, an instance, the proxy), and the configuration values that name an SSM
 * parameter or a secret, resolved once at start.
 */

/* Whether config_resolve set any variable (the runtime's own values, read once at start,
 * are then read again). */
static int config_changed;

#if MCP_ENABLE_AWS
/* One value of an INI file section ([name] or [profile name]). */
static int ini_get(const char *path, const char *section, const char *key, char *out, size_t outn) {
    FILE *f = fopen(path, "r");
    if (!f) return 0;
    char line[4096];
    int in = 0, found = 0;
    while (!found && fgets(line, sizeof line, f)) {
        slice l = {line, strcspn(line, "\r\n")};
        l = sl_trim(l);
        if (!l.n || l.p[0] == '#' || l.p[0] == ';') continue;
        if (l.p[0] == '[') {
            slice name = {l.p + 1, l.n > 2 ? l.n - 2 : 0};
            name = sl_trim(name);
            if (name.n > 8 && !memcmp(name.p, "profile ", 8)) { name.p += 8; name.n -= 8; name = sl_trim(name); }
            in = sl_eq(name, section);
            continue;
        }
        const char *eq = memchr(l.p, '=', l.n);
        if (!in || !eq) continue;
        slice k = {l.p, (size_t)(eq - l.p)}, v = {eq + 1, l.n - (size_t)(eq - l.p) - 1};
        k = sl_trim(k);
        v = sl_trim(v);
        if (sl_eq(k, key) && v.n < outn) { memcpy(out, v.p, v.n); out[v.n] = 0; found = 1; }
    }
    fclose(f);
    return found;
}

/* Credentials as the SDKs find them (AWS SDKs and Tools Reference Guide, "Standardized
 * credential providers"), in order:
 *   1. AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN (what Lambda sets);
 *   2. the profile AWS_PROFILE (else "default") of the shared files (AWS_SHARED_CREDENTIALS_FILE,
 *      AWS_CONFIG_FILE, else ~/.aws/credentials and ~/.aws/config): static keys; role_arn
 *      with source_profile or credential_source (STS AssumeRole); credential_process; IAM
 *      Identity Center (sso_session or sso_start_url) from the token cache that
 *      `aws sso login` leaves in ~/.aws/sso/cache;
 *   3. container credentials: AWS_CONTAINER_CREDENTIALS_FULL_URI, or _RELATIVE_URI under
 *      http://169.254.170.2, with AWS_CONTAINER_AUTHORIZATION_TOKEN(_FILE);
 *   4. the EC2 instance metadata service, IMDSv2 (AWS_EC2_METADATA_SERVICE_ENDPOINT;
 *      AWS_EC2_METADATA_DISABLED=true skips it).
 * What the chain finds is kept and found again five minutes before it expires. On Lambda
 * the first step always answers: nothing else runs. */
#define CREDS_REFRESH_S 300
#define CREDS_PROFILE_DEPTH 4
static struct { pthread_mutex_t mu; aws_creds c; int have; char why[512]; } creds_cache = {PTHREAD_MUTEX_INITIALIZER, {"", "", "", 0}, 0, ""};

static void creds_files(char *creds, size_t cn, char *conf, size_t fn) {
    const char *home = getenv("HOME"), *e;
    creds[0] = conf[0] = 0;
    if ((e = getenv("AWS_SHARED_CREDENTIALS_FILE")) && *e) snprintf(creds, cn, "%s", e);
    else if (home) snprintf(creds, cn, "%s/.aws/credentials", home);
    if ((e = getenv("AWS_CONFIG_FILE")) && *e) snprintf(conf, fn, "%s", e);
    else if (home) snprintf(conf, fn, "%s/.aws/config", home);
}

/* A setting of a profile: the credentials file first, then the config file. */
static int profile_get(const char *prof, const char *key, char *out, size_t n) {
    char creds[1024], conf[1024];
    creds_files(creds, sizeof creds, conf, sizeof conf);
    return ini_get(creds, prof, key, out, n) || ini_get(conf, prof, key, out, n);
}

static void profile_region_read(void) {
    const char *prof = getenv("AWS_PROFILE");
    if (!profile_get(prof && *prof ? prof : "default", "region", profile_region_v, sizeof profile_region_v)) profile_region_v[0] = 0;
}

/* "2026-12-03T13:00:00Z" (or with fractional seconds / +00:00) as Unix seconds; 0 if not. */
static int64_t iso8601_epoch(const char *s) {
    /* by hand, not sscanf: the scanf family would be the only user of 12 KB of musl */
    static const struct { unsigned char width; char sep; } f[6] = {{4, '-'}, {2, '-'}, {2, 'T'}, {2, ':'}, {2, ':'}, {2, 0}};
    int v[6];
    for (int i = 0; i < 6; i++) {
        int k = 0;
        for (v[i] = 0; s && k < f[i].width && *s >= '0' && *s <= '9'; k++) v[i] = v[i] * 10 + *s++ - '0';
        if (!k || (f[i].sep && *s++ != f[i].sep)) return 0;
    }
    int y = v[0], mo = v[1], d = v[2], h = v[3], mi = v[4], se = v[5];
    y -= mo <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    unsigned yoe = (unsigned)(y - era * 400), doy = (unsigned)((153 * (mo + (mo > 2 ? -3 : 9)) + 2) / 5 + d - 1);
    unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return (era * 146097 + (int64_t)doe - 719468) * 86400 + h * 3600 + mi * 60 + se;
}

/* Keys from a JSON answer (container, IMDS, credential_process, SSO): the member names
 * differ, so each source names its own. Returns 0 when both keys were there. */
static int creds_from_json(const mcp_json *o, const char *akn, const char *skn, const char *tokn, const char *expn,
                           aws_creds *c) {
    const char *ak = mcp_json_str(mcp_json_get(o, akn)), *sk = mcp_json_str(mcp_json_get(o, skn));
    const char *tok = mcp_json_str(mcp_json_get(o, tokn));
    const mcp_json *ex = mcp_json_get(o, expn);
    if (!ak || !sk || strlen(ak) >= sizeof c->ak || strlen(sk) >= sizeof c->sk || (tok && strlen(tok) >= sizeof c->tok)) return -1;
    snprintf(c->ak, sizeof c->ak, "%s", ak);
    snprintf(c->sk, sizeof c->sk, "%s", sk);
    snprintf(c->tok, sizeof c->tok, "%s", tok ? tok : "");
    c->expires = MCP_JSON_TYPE(ex) == MCP_JSON_NUMBER ? (int64_t)(mcp_json_num(ex) / 1000) : iso8601_epoch(mcp_json_str(ex));
    return 0;
}

/* GET (or PUT) a JSON document of credentials from a local endpoint. */
static int creds_http(const char *method, const char *url, const char *headers, mcp_http_response *rs, char *why, size_t whyn) {
    mcp_http_request rq;
    memset(&rq, 0, sizeof rq);
    rq.method = method;
    rq.url = url;
    rq.headers = headers;
    rq.timeout_ms = 2000;
    rq.max_response = 65536;
    if (mcp_http_do(&rq, rs) || rs->status != 200) {
        snprintf(why, whyn, "%.100s: %.140s", url, rs->status ? "refused" : rs->error);
        mcp_http_free(rs);
        return -1;
    }
    return 0;
}

static int creds_container(aws_creds *c, char *why, size_t whyn) {
    const char *full = getenv("AWS_CONTAINER_CREDENTIALS_FULL_URI"), *rel = getenv("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI");
    const char *tf = getenv("AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE"), *tv = getenv("AWS_CONTAINER_AUTHORIZATION_TOKEN");
    if (!(full && *full) && !(rel && *rel)) return 1;
    char url[1024], tok[4096] = "";
    snprintf(url, sizeof url, "%s%s", full && *full ? "" : "http://169.254.170.2", full && *full ? full : rel);
    if (tf && *tf) {
        FILE *f = fopen(tf, "r");
        size_t n = f ? fread(tok, 1, sizeof tok - 1, f) : 0;
        if (f) fclose(f);
        tok[n] = 0;
        while (n && (tok[n - 1] == '\n' || tok[n - 1] == '\r' || tok[n - 1] == ' ')) tok[--n] = 0;
    } else if (tv) snprintf(tok, sizeof tok, "%s", tv);
    if (strpbrk(tok, "\r\n")) { snprintf(why, whyn, "the container authorization token holds a line break"); return -1; }
    buf h = {0};
    if (tok[0]) buf_printf(&h, "Authorization: %s\r\n", tok);
    mcp_http_response rs;
    int r = creds_http("GET", url, h.p, &rs, why, whyn);
    buf_free(&h);
    if (r) return -1;
    mcp_json_err je;
    mcp_json_doc *d = mcp_json_parse(rs.body, rs.len, 0, &je);
    r = creds_from_json(mcp_json_root(d), "AccessKeyId", "SecretAccessKey", "Token", "Expiration", c);
    if (r) snprintf(why, whyn, "%.100s: no AccessKeyId and SecretAccessKey in the answer", url);
    mcp_json_free(d);
    mcp_http_free(&rs);
    return r;
}

static int creds_imds(aws_creds *c, char *why, size_t whyn) {
    const char *dis = getenv("AWS_EC2_METADATA_DISABLED"), *ep = getenv("AWS_EC2_METADATA_SERVICE_ENDPOINT");
    if (dis && !strcasecmp(dis, "true")) return 1;
    char base[512], url[1024], h[700];
    snprintf(base, sizeof base, "%s", ep && *ep ? ep : "http://169.254.169.254");
    while (base[0] && base[strlen(base) - 1] == '/') base[strlen(base) - 1] = 0;
    mcp_http_response rs;
    snprintf(url, sizeof url, "%s/latest/api/token", base);
    if (creds_http("PUT", url, "X-aws-ec2-metadata-token-ttl-seconds: 21600\r\n", &rs, why, whyn)) return 1;
    snprintf(h, sizeof h, "X-aws-ec2-metadata-token: %.600s\r\n", rs.body);
    mcp_http_free(&rs);
    snprintf(url, sizeof url, "%s/latest/meta-data/iam/security-credentials/", base);
    if (creds_http("GET", url, h, &rs, why, whyn)) return -1;
    char role[256];
    snprintf(role, sizeof role, "%.*s", (int)strcspn(rs.body, "\r\n"), rs.body);
    mcp_http_free(&rs);
    snprintf(url, sizeof url, "%s/latest/meta-data/iam/security-credentials/%s", base, role);
    if (!role[0] || creds_http("GET", url, h, &rs, why, whyn)) { if (!role[0]) snprintf(why, whyn, "IMDS: the instance has no role"); return -1; }
    mcp_json_err je;
    mcp_json_doc *d = mcp_json_parse(rs.body, rs.len, 0, &je);
    int r = creds_from_json(mcp_json_root(d), "AccessKeyId", "SecretAccessKey", "Token", "Expiration", c);
    if (r) snprintf(why, whyn, "IMDS: no credentials for role %.100s", role);
    mcp_json_free(d);
    mcp_http_free(&rs);
    return r;
}

/* credential_process: a command whose standard output is {"Version":1,"AccessKeyId":...}. */
static int creds_process(const char *cmd, aws_creds *c, char *why, size_t whyn) {
    FILE *p = popen(cmd, "r");
    if (!p) { snprintf(why, whyn, "credential_process could not be started"); return -1; }
    buf out = {0};
    char chunk[4096];
    size_t n;
    while ((n = fread(chunk, 1, sizeof chunk, p)) > 0 && out.len < 65536) buf_put(&out, chunk, n);
    int st = pclose(p);
    mcp_json_err je;
    mcp_json_doc *d = st == 0 && out.len ? mcp_json_parse(out.p, out.len, 0, &je) : NULL;
    int r = d ? creds_from_json(mcp_json_root(d), "AccessKeyId", "SecretAccessKey", "SessionToken", "Expiration", c) : -1;
    if (r) snprintf(why, whyn, "credential_process %s", st ? "failed" : "printed no AccessKeyId and SecretAccessKey");
    mcp_json_free(d);
    if (out.p) memset(out.p, 0, out.len);
    buf_free(&out);
    return r;
}

/* STS AssumeRole (query protocol) with the source credentials src. */
static int creds_assume(const char *prof, const char *role, const aws_creds *src, aws_creds *c, char *why, size_t whyn) {
    aws_service sv = aws_service_find("sts");
    buf url = {0}, body = {0}, sess = {0};
    int custom;
    aws_endpoint(&sv, &url, &custom);
    buf_putc(&url, '/');
    char v[256];
    buf_puts(&body, "Action=AssumeRole&Version=2011-06-15&RoleArn=");
    uri_encode(&body, role, strlen(role), 0);
    buf_puts(&body, "&RoleSessionName=");
    if (profile_get(prof, "role_session_name", v, sizeof v)) buf_puts(&sess, v);
    else buf_printf(&sess, "mcp-c-%lld", (long long)time(NULL));
    uri_encode(&body, sess.p, sess.len, 0);
    if (profile_get(prof, "duration_seconds", v, sizeof v)) buf_printf(&body, "&DurationSeconds=%d", atoi(v));
    if (profile_get(prof, "external_id", v, sizeof v)) { buf_puts(&body, "&ExternalId="); uri_encode(&body, v, strlen(v), 0); }
    mcp_sigv4 k;
    memset(&k, 0, sizeof k);
    k.access_key = src->ak;
    k.secret_key = src->sk;
    k.session_token = src->tok[0] ? src->tok : NULL;
    k.service = "sts";
    const char *hdr = "Content-Type: application/x-www-form-urlencoded; charset=utf-8\r\n";
    char *sig = mcp_sigv4_sign(&k, "POST", url.p, hdr, body.p, body.len);
    buf h = {0};
    buf_puts(&h, hdr);
    if (sig) buf_puts(&h, sig);
    free(sig);
    mcp_http_request rq;
    memset(&rq, 0, sizeof rq);
    rq.method = "POST";
    rq.url = url.p;
    rq.headers = h.p;
    rq.body = body.p;
    rq.body_len = body.len;
    mcp_http_response rs;
    int r = -1;
    if (mcp_http_do(&rq, &rs)) snprintf(why, whyn, "sts AssumeRole %.100s: %.120s", role, rs.error);
    else if (rs.status != 200) {
        char code[96], msg[200];
        aws_error_parts(&rs, code, sizeof code, msg, sizeof msg);
        snprintf(why, whyn, "sts AssumeRole %.100s: %.60s: %.100s (HTTP %d)", role, code, msg, rs.status);
    } else {
        buf x = {0};
        const char *end = rs.body + rs.len;
        if (xml_take(rs.body, end, "AccessKeyId", &x) && x.len < sizeof c->ak) {
            snprintf(c->ak, sizeof c->ak, "%s", x.p);
            if (xml_take(rs.body, end, "SecretAccessKey", &x) && x.len < sizeof c->sk) {
                snprintf(c->sk, sizeof c->sk, "%s", x.p);
                if (xml_take(rs.body, end, "SessionToken", &x) && x.len < sizeof c->tok) {
                    snprintf(c->tok, sizeof c->tok, "%s", x.p);
                    c->expires = xml_take(rs.body, end, "Expiration", &x) ? iso8601_epoch(x.p) : 0;
                    r = 0;
                }
            }
        }
        if (r) snprintf(why, whyn, "sts AssumeRole %.100s: the answer holds no credentials", role);
        if (x.p) memset(x.p, 0, x.len);
        buf_free(&x);
    }
    if (rs.body) memset(rs.body, 0, rs.len);
    mcp_http_free(&rs);
    buf_free(&url);
    buf_free(&body);
    buf_free(&sess);
    buf_free(&h);
    return r;
}

#if MCP_ENABLE_TLS
/* IAM Identity Center: the token `aws sso login` cached (file name: the SHA-1 of the
 * session name, or of the start URL for a legacy profile), exchanged for role credentials. */
static int creds_sso(const char *prof, aws_creds *c, char *why, size_t whyn) {
    char sess[256], sect[300], url[512], region[64], acct[64], role[256];
    int modern = profile_get(prof, "sso_session", sess, sizeof sess);
    if (modern) {
        char creds[1024], conf[1024];
        creds_files(creds, sizeof creds, conf, sizeof conf);
        snprintf(sect, sizeof sect, "sso-session %s", sess);
        if (!ini_get(conf, sect, "sso_region", region, sizeof region)) { snprintf(why, whyn, "[sso-session %.100s] has no sso_region", sess); return -1; }
    } else if (!profile_get(prof, "sso_start_url", url, sizeof url)) return 1;
    else if (!profile_get(prof, "sso_region", region, sizeof region)) { snprintf(why, whyn, "profile %.100s has no sso_region", prof); return -1; }
    if (!profile_get(prof, "sso_account_id", acct, sizeof acct) || !profile_get(prof, "sso_role_name", role, sizeof role)) {
        snprintf(why, whyn, "profile %.100s has no sso_account_id or sso_role_name", prof);
        return -1;
    }
    const char *key = modern ? sess : url, *home = getenv("HOME");
    unsigned char h[20];
    br_sha1_context sc;
    br_sha1_init(&sc);
    br_sha1_update(&sc, key, strlen(key));
    br_sha1_out(&sc, h);
    buf path = {0};
    buf_printf(&path, "%s/.aws/sso/cache/", home ? home : "");
    hex_put(&path, h, sizeof h);
    buf_puts(&path, ".json");
    FILE *f = path.oom ? NULL : fopen(path.p, "r");
    buf t = {0};
    char chunk[4096];
    size_t n;
    while (f && (n = fread(chunk, 1, sizeof chunk, f)) > 0 && t.len < 65536) buf_put(&t, chunk, n);
    if (f) fclose(f);
    mcp_json_err je;
    mcp_json_doc *d = t.len ? mcp_json_parse(t.p, t.len, 0, &je) : NULL;
    const char *tok = mcp_json_str(mcp_json_get(mcp_json_root(d), "accessToken"));
    int64_t exp = iso8601_epoch(mcp_json_str(mcp_json_get(mcp_json_root(d), "expiresAt")));
    int r = -1;
    if (!tok || (exp && exp <= (int64_t)time(NULL)))
        snprintf(why, whyn, "no valid IAM Identity Center token in %.200s: run `aws sso login%s%.100s`", path.p,
                 strcmp(prof, "default") ? " --profile " : "", strcmp(prof, "default") ? prof : "");
    else {
        aws_service sv = {"portal.sso", "SSO", "awsssoportal", AWS_REST_JSON};
        buf u = {0}, hd = {0};
        int custom;
        mcp_sigv4 k;
        memset(&k, 0, sizeof k);
        k.region = region;
        if (getenv("AWS_ENDPOINT_URL_SSO") || getenv("AWS_ENDPOINT_URL")) aws_endpoint(&sv, &u, &custom);
        else buf_printf(&u, "https://portal.sso.%s.amazonaws.com", region);
        buf_puts(&u, "/federation/credentials?account_id=");
        uri_encode(&u, acct, strlen(acct), 0);
        buf_puts(&u, "&role_name=");
        uri_encode(&u, role, strlen(role), 0);
        buf_printf(&hd, "x-amz-sso_bearer_token: %s\r\n", tok);
        mcp_http_response rs;
        if (!creds_http("GET", u.p, hd.p, &rs, why, whyn)) {
            mcp_json_doc *a = mcp_json_parse(rs.body, rs.len, 0, &je);
            r = creds_from_json(mcp_json_get(mcp_json_root(a), "roleCredentials"), "accessKeyId", "secretAccessKey",
                                "sessionToken", "expiration", c);
            if (r) snprintf(why, whyn, "IAM Identity Center: no role credentials for %.60s in %.40s", role, acct);
            mcp_json_free(a);
            memset(rs.body, 0, rs.len);
            mcp_http_free(&rs);
        }
        buf_free(&u);
        memset(hd.p, 0, hd.len);
        buf_free(&hd);
    }
    mcp_json_free(d);
    if (t.p) memset(t.p, 0, t.len);
    buf_free(&t);
    buf_free(&path);
    return r;
}
#endif

/* The credentials of a profile. Returns 0, 1 when the profile names none, -1 (why set). */
static int creds_profile(const char *prof, int depth, aws_creds *c, char *why, size_t whyn) {
    char v[1024];
    if (depth > CREDS_PROFILE_DEPTH) { snprintf(why, whyn, "profile %.100s: source_profile chain too long", prof); return -1; }
    if (profile_get(prof, "role_arn", v, sizeof v)) {
        char role[1024], src[256];
        snprintf(role, sizeof role, "%s", v);
        aws_creds base;
        memset(&base, 0, sizeof base);
        int r;
        if (profile_get(prof, "source_profile", src, sizeof src))
            r = strcmp(src, prof) ? creds_profile(src, depth + 1, &base, why, whyn) : 2;
        else if (profile_get(prof, "credential_source", src, sizeof src)) {
            if (!strcmp(src, "Environment")) {
                const char *ak = getenv("AWS_ACCESS_KEY_ID"), *sk = getenv("AWS_SECRET_ACCESS_KEY"), *tk = getenv("AWS_SESSION_TOKEN");
                r = ak && sk ? 0 : 1;
                if (!r) { snprintf(base.ak, sizeof base.ak, "%s", ak); snprintf(base.sk, sizeof base.sk, "%s", sk); snprintf(base.tok, sizeof base.tok, "%s", tk ? tk : ""); }
            } else if (!strcmp(src, "EcsContainer")) r = creds_container(&base, why, whyn);
            else if (!strcmp(src, "Ec2InstanceMetadata")) r = creds_imds(&base, why, whyn);
            else { snprintf(why, whyn, "profile %.100s: unknown credential_source %.60s", prof, src); return -1; }
        } else { snprintf(why, whyn, "profile %.100s: role_arn without source_profile or credential_source", prof); return -1; }
        if (r == 2) { /* a profile that is its own source: its static keys */
            r = profile_get(prof, "aws_access_key_id", base.ak, sizeof base.ak) && profile_get(prof, "aws_secret_access_key", base.sk, sizeof base.sk) ? 0 : 1;
            if (!r && !profile_get(prof, "aws_session_token", base.tok, sizeof base.tok)) base.tok[0] = 0;
        }
        if (r) { if (r > 0) snprintf(why, whyn, "profile %.100s: its source has no credentials", prof); return -1; }
        r = creds_assume(prof, role, &base, c, why, whyn);
        memset(&base, 0, sizeof base);
        return r;
    }
    if (profile_get(prof, "aws_access_key_id", c->ak, sizeof c->ak) && profile_get(prof, "aws_secret_access_key", c->sk, sizeof c->sk)) {
        if (!profile_get(prof, "aws_session_token", c->tok, sizeof c->tok)) c->tok[0] = 0;
        c->expires = 0;
        return 0;
    }
    if (profile_get(prof, "credential_process", v, sizeof v)) return creds_process(v, c, why, whyn);
#if MCP_ENABLE_TLS
    int r = creds_sso(prof, c, why, whyn);
    if (r <= 0) return r;
#endif
    return 1;
}

static int creds_find(aws_creds *c, char *why, size_t whyn) {
    memset(c, 0, sizeof *c);
    const char *ak = getenv("AWS_ACCESS_KEY_ID"), *sk = getenv("AWS_SECRET_ACCESS_KEY"), *tk = getenv("AWS_SESSION_TOKEN");
    if (ak && *ak && sk && *sk && strlen(ak) < sizeof c->ak && strlen(sk) < sizeof c->sk && (!tk || strlen(tk) < sizeof c->tok)) {
        snprintf(c->ak, sizeof c->ak, "%s", ak);
        snprintf(c->sk, sizeof c->sk, "%s", sk);
        snprintf(c->tok, sizeof c->tok, "%s", tk ? tk : "");
        return 0;
    }
    const char *prof = getenv("AWS_PROFILE");
    int explicit = prof && *prof;
    if (!explicit) prof = "default";
    int r = creds_profile(prof, 0, c, why, whyn);
    if (r <= 0) return r;
    if (explicit) {
        snprintf(why, whyn, "profile %.100s (AWS_PROFILE) has none in the shared files (~/.aws/credentials, ~/.aws/config), "
                            "and AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY are not set", prof);
        return -1;
    }
    if ((r = creds_container(c, why, whyn)) <= 0) return r;
    if ((r = creds_imds(c, why, whyn)) <= 0) return r;
    snprintf(why, whyn, "none in the environment (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY), the shared files "
                        "(~/.aws/credentials, ~/.aws/config), a container or EC2 instance metadata");
    return -1;
}

static int aws_creds_get(aws_creds *c, char *err, size_t errn) {
    pthread_mutex_lock(&creds_cache.mu);
    int64_t now = (int64_t)time(NULL);
    if (!creds_cache.have || (creds_cache.c.expires && creds_cache.c.expires - CREDS_REFRESH_S <= now)) {
        aws_creds fresh;
        creds_cache.have = !creds_find(&fresh, creds_cache.why, sizeof creds_cache.why);
        if (creds_cache.have) { creds_cache.c = fresh; creds_cache.why[0] = 0; }
        memset(&fresh, 0, sizeof fresh);
    }
    int r = creds_cache.have ? 0 : -1;
    if (!r) *c = creds_cache.c;
    else if (err) snprintf(err, errn, "no AWS credentials: %.400s", creds_cache.why);
    pthread_mutex_unlock(&creds_cache.mu);
    return r;
}

/* Configuration values that name a secret, resolved once at start and cached in the
 * environment for the process's life: VAR=ssm:NAME (SSM Parameter Store, decrypted; NAME may
 * carry a version or label selector, "/app/key:3", "/app/key:prod", or be the parameter's
 * ARN) or VAR=secretsmanager:ID[?versionStage=S|?versionId=V][#key] (ID a name or an ARN; a
 * key's number or boolean value as its JSON text). Values are never logged.
 *
 * A cold start pays for every round trip, so the references go out together: each ssm: name,
 * and each secret given by its name alone, in one GetParameters of up to ten names (then the
 * next ten), secrets as Parameter Store's /aws/reference/secretsmanager/NAME, which Parameter
 * Store serves from Secrets Manager (WithDecryption is required, and set). Five parameters
 * and a secret are one request over one connection. A secret named by its ARN, or with
 * versionStage or versionId, goes to Secrets Manager's GetSecretValue: an ARN has colons,
 * which Parameter Store reads as a version selector, and the AWS documentation gives no
 * reference syntax for a secret's stage or version id. When Parameter Store refuses a batch
 * that holds secrets (a 4xx other than throttling: no ssm:GetParameters permission on the
 * reference, a secret it cannot find), or answers without one of them, those secrets go to
 * GetSecretValue instead, so permissions that name only the secret keep working and every
 * error names the variable and reference that failed.
 * Each call is retried as every AWS call is. Returns 0, or -1 with err naming the variable
 * that could not be resolved. */

#define SECRET_REF "/aws/reference/secretsmanager/"
enum { CFG_SSM, CFG_SECRET_SSM, CFG_SECRET };
typedef struct {
    char *var, *spec; /* "NAME", "ssm:..." or "secretsmanager:..." */
    char *name;       /* what GetParameters is asked for (CFG_SSM, CFG_SECRET_SSM) */
    const char *key;  /* the JSON key of a secret, or NULL */
    int kind, done;
} cfg_ref;

/* The reference's Parameter in a GetParameters answer, or NULL. A secret's comes back with
 * SourceResult (its Secrets Manager description), named as asked or (moto) by the secret's
 * own name; a parameter's never has one, so neither is taken for the other. */
static const mcp_json *cfg_find(const cfg_ref *c, const mcp_json *params) {
    mcp_json_iter it = mcp_json_iterate(params);
    const mcp_json *p, *hit = NULL;
    while ((p = mcp_json_iter_next(&it, NULL))) {
        int secret = mcp_json_get(p, "SourceResult") != NULL;
        const char *pn = mcp_json_str(mcp_json_get(p, "Name"));
        if (c->kind == CFG_SSM ? !secret && ssm_ref_match(c->name, p)
                               : secret && pn && (!strcmp(pn, c->name) || !strcmp(pn, c->name + strlen(SECRET_REF))))
            hit = p;
    }
    return hit;
}

/* One GetParameters for up to ten of the references not yet done. Returns 0 (values set,
 * or secrets handed on to GetSecretValue), 1 when there was nothing to ask, or -1 with err. */
static int cfg_batch(cfg_ref *refs, int n, char *err, size_t errn) {
    int idx[10], k = 0, secrets = 0, rc = 0;
    buf b = {0};
    jw w = {&b, 0};
    jw_obj(&w);
    jw_key(&w, "Names"); jw_arr(&w);
    for (int j = 0; j < n && k < 10; j++)
        if (!refs[j].done && refs[j].kind != CFG_SECRET) {
            idx[k++] = j;
            secrets += refs[j].kind == CFG_SECRET_SSM;
            jw_str(&w, refs[j].name);
        }
    jw_end_arr(&w);
    jw_key(&w, "WithDecryption"); jw_bool(&w, 1);
    jw_end_obj(&w);
    if (!k) { buf_free(&b); return 1; }
    mcp_http_response rs;
    if (mcp_aws_json("ssm", "AmazonSSM.GetParameters", b.p, &rs)) {
        char code[96], msg[8];
        aws_error_parts(&rs, code, sizeof code, msg, sizeof msg);
        if (secrets && rs.status >= 400 && rs.status < 500 && !aws_code_retryable(code)) {
            for (int j = 0; j < n; j++) if (refs[j].kind == CFG_SECRET_SSM) refs[j].kind = CFG_SECRET;
        } else {
            snprintf(err, errn, "%.100s=%.200s: %.512s", refs[idx[0]].var, refs[idx[0]].spec, rs.error);
            rc = -1;
        }
    } else {
        mcp_json_err je;
        mcp_json_doc *d = mcp_json_parse(rs.body, rs.len, 0, &je);
        const mcp_json *params = mcp_json_get(mcp_json_root(d), "Parameters");
        for (int t = 0; t < k && !rc; t++) {
            cfg_ref *c = &refs[idx[t]];
            const char *val = mcp_json_str(mcp_json_get(cfg_find(c, params), "Value"));
            if (!val && c->kind == CFG_SECRET_SSM) { c->kind = CFG_SECRET; continue; }
            c->done = 1;
            if (!val) {
                snprintf(err, errn, "%s=%s: ssm: ParameterNotFound: the parameter does not exist or is not readable", c->var, c->spec);
                rc = -1;
            } else if (c->key) {
                char e[256];
                char *v = secret_json_key(xstrdup(val), c->name + strlen(SECRET_REF), c->key, e, sizeof e);
                if (!v) { snprintf(err, errn, "%s=%s: %s", c->var, c->spec, e); rc = -1; }
                else { setenv(c->var, v, 1); memset(v, 0, strlen(v)); free(v); }
            } else setenv(c->var, val, 1);
        }
        mcp_json_free(d);
    }
    if (rs.body) memset(rs.body, 0, rs.len);
    mcp_http_free(&rs);
    buf_free(&b);
    return rc;
}

static int config_resolve(char *err, size_t errn) {
    cfg_ref *refs = NULL;
    int n = 0, rc = 0;
    for (char **e = environ; e && *e; e++) {
        const char *eq = *e;
        while (*eq && *eq != '=') eq++;
        if (*eq != '=' || eq[1] != 's' || (strncmp(eq + 1, "ssm:", 4) && strncmp(eq + 1, "secretsmanager:", 15))) continue;
        GROW(refs, n);
        cfg_ref *c = memset(&refs[n++], 0, sizeof *refs);
        c->var = memcpy(xmalloc((size_t)(eq - *e) + 1), *e, (size_t)(eq - *e));
        c->var[eq - *e] = 0;
        c->spec = xstrdup(eq + 1);
        if (!strncmp(c->spec, "ssm:", 4)) {
            c->kind = CFG_SSM;
            c->name = xstrdup(c->spec + 4);
            continue;
        }
        const char *id = c->spec + 15, *hash = strchr(id, '#');
        size_t idn = hash ? (size_t)(hash - id) : strlen(id);
        c->kind = CFG_SECRET;
        if (idn && !memchr(id, '?', idn) && strncmp(id, "arn:", 4)) {
            c->kind = CFG_SECRET_SSM;
            c->name = xmalloc(sizeof SECRET_REF + idn);
            memcpy(c->name, SECRET_REF, sizeof SECRET_REF - 1);
            memcpy(c->name + sizeof SECRET_REF - 1, id, idn);
            c->name[sizeof SECRET_REF - 1 + idn] = 0;
            c->key = hash ? hash + 1 : NULL;
        }
    }
    config_changed = n > 0;
    while (n && !rc && !(rc = cfg_batch(refs, n, err, errn))) {}
    if (rc == 1) rc = 0;
    for (int i = 0; i < n && !rc; i++) {
        if (refs[i].done || refs[i].kind != CFG_SECRET) continue;
        char e[256];
        char *v = mcp_secret_get(refs[i].spec + 15, e, sizeof e);
        if (!v) { snprintf(err, errn, "%s=%s: %s", refs[i].var, refs[i].spec, e); rc = -1; break; }
        setenv(refs[i].var, v, 1);
        memset(v, 0, strlen(v));
        free(v);
    }
    for (int i = 0; i < n; i++) { free(refs[i].var); free(refs[i].spec); free(refs[i].name); }
    free(refs);
    return rc;
}
#else
/* A build without AWS calls resolves nothing: a value that names an SSM parameter or a
 * secret, and a DynamoDB task table (MCP_TASKS_TABLE, section 18), stop the start with an
 * error that names the variable, rather than be taken as they are. */
static int config_resolve(char *err, size_t errn) {
    for (char **e = environ; e && *e; e++) {
        const char *eq = strchr(*e, '=');
        if (eq && (!strncmp(eq + 1, "ssm:", 4) || !strncmp(eq + 1, "secretsmanager:", 15))) {
            snprintf(err, errn, "%.300s: %s", *e, AWS_OFF);
            return -1;
        }
    }
    const char *t = getenv("MCP_TASKS_TABLE");
    if (t && *t) { snprintf(err, errn, "MCP_TASKS_TABLE=%.200s: %s", t, AWS_OFF); return -1; }
    return 0;
}
#endif

/*=== MARK: - 12. Regular expressions (Private) ===*/
/*
 * What JSON Schema's pattern and format keywords need, for the validator that follows.
 */

/* pattern: the subset of ECMA-262 regular expressions schemas use, matched anywhere in the
 * string as JSON Schema says: literals, '.', classes ([a-z], [^...], \d \w \s and their
 * negations), anchors ^ $, word boundaries \b \B, groups ((...), (?:...), (?<name>...)),
 * alternation, and the quantifiers * + ? {n} {n,} {n,m}, greedy or lazy, over code points.
 * Backreferences and lookaround are refused when the schema is registered. The matcher
 * backtracks, bounded in steps and depth, so a pattern cannot hold a request hostage: a
 * string it cannot decide within the bound is refused, saying so. */
#define RX_MAX_STEPS 1000000
#define RX_MAX_DEPTH 800
#define RX_INF 0x7fffffff

enum { RX_CHAR, RX_ANY, RX_CLASS, RX_BOL, RX_EOL, RX_WORDB, RX_NWORDB, RX_GROUP };
typedef struct rx_seq rx_seq;
typedef struct {
    int type, min, max, lazy;
    uint32_t c;                 /* RX_CHAR */
    int neg, nr;                /* RX_CLASS: ranges [lo, hi] */
    uint32_t (*r)[2];
    rx_seq *alts;               /* RX_GROUP */
    int nalts;
} rx_node;
struct rx_seq { rx_node *n; int len; };
typedef struct {
    const char *p, *end, *start;
    const char *err;
    arena *a;
} rx_parse;

static int rx_fail(rx_parse *P, const char *why) { if (!P->err) P->err = why; return -1; }

static uint32_t utf8_next(const char **p, const char *end) {
    const unsigned char *s = (const unsigned char *)*p;
    uint32_t c = *s;
    int n = c < 0x80 ? 1 : c < 0xE0 ? 2 : c < 0xF0 ? 3 : 4;
    if (n > end - *p) n = 1;
    if (n > 1) { c &= 0x3Fu >> (n - 1); for (int i = 1; i < n; i++) c = c << 6 | (s[i] & 0x3F); }
    *p += n;
    return c;
}

static int rx_add_range(rx_parse *P, rx_node *x, uint32_t lo, uint32_t hi) {
    if (!(x->nr & (x->nr - 1)) || !x->r) { /* a power of two (or none): grow */
        uint32_t (*r)[2] = arena_alloc(P->a, sizeof *r * (size_t)(x->nr ? x->nr * 2 : 4));
        if (!r) return rx_fail(P, "out of memory");
        if (x->nr) memcpy(r, x->r, sizeof *r * (size_t)x->nr);
        x->r = r;
    }
    x->r[x->nr][0] = lo;
    x->r[x->nr++][1] = hi;
    return 0;
}

/* \d \w \s (and \D \W \S as a negated class of their own) */
static int rx_class_escape(rx_parse *P, rx_node *x, char e) {
    switch (e) {
    case 'd': return rx_add_range(P, x, '0', '9');
    case 'w': return rx_add_range(P, x, 'a', 'z') | rx_add_range(P, x, 'A', 'Z') | rx_add_range(P, x, '0', '9') | rx_add_range(P, x, '_', '_');
    case 's': return rx_add_range(P, x, ' ', ' ') | rx_add_range(P, x, '\t', '\r') | rx_add_range(P, x, 0xA0, 0xA0) |
                     rx_add_range(P, x, 0x2028, 0x2029) | rx_add_range(P, x, 0xFEFF, 0xFEFF);
    }
    return 1;
}

/* One escaped character (after the backslash) as a code point; -1 if it is not one. */
static long rx_escape_char(rx_parse *P) {
    char e = *P->p++;
    switch (e) {
    case 'n': return '\n'; case 't': return '\t'; case 'r': return '\r'; case 'f': return '\f'; case 'v': return '\v';
    case '0': return 0;
    case 'x': case 'u': {
        int n = e == 'x' ? 2 : 4;
        long v = 0;
        if (e == 'u' && P->p < P->end && *P->p == '{') { /* \u{...} */
            P->p++;
            while (P->p < P->end && *P->p != '}' && hexval(*P->p) >= 0) v = v * 16 + hexval(*P->p++);
            if (P->p >= P->end || *P->p++ != '}' || v > 0x10FFFF) return rx_fail(P, "bad \\u{...} escape");
            return v;
        }
        for (int i = 0; i < n; i++) {
            if (P->p >= P->end || hexval(*P->p) < 0) return rx_fail(P, "bad hex escape");
            v = v * 16 + hexval(*P->p++);
        }
        return v;
    }
    case 'c': if (P->p < P->end && ((*P->p | 32) >= 'a' && (*P->p | 32) <= 'z')) return (*P->p++ | 32) - 'a' + 1;
              return rx_fail(P, "bad \\c escape");
    }
    if ((e >= '1' && e <= '9') || e == 'k') return rx_fail(P, "backreferences are not supported");
    if (e == 'p' || e == 'P') return rx_fail(P, "Unicode property escapes are not supported");
    if ((e >= 'a' && e <= 'z') || (e >= 'A' && e <= 'Z')) return rx_fail(P, "unknown escape");
    P->p--;
    return (long)utf8_next(&P->p, P->end); /* an escaped punctuator stands for itself */
}

static int rx_alts(rx_parse *P, rx_node *g);

/* "{n}", "{n,}" or "{n,m}" at p: a quantifier (any other '{' stands for itself). */
static int rx_is_quant(const char *p, const char *end) {
    const char *q = ++p;
    while (q < end && *q >= '0' && *q <= '9') q++;
    if (q == p) return 0;
    if (q < end && *q == ',') { q++; while (q < end && *q >= '0' && *q <= '9') q++; }
    return q < end && *q == '}';
}

static int rx_atom(rx_parse *P, rx_node *x) {
    memset(x, 0, sizeof *x);
    x->min = x->max = 1;
    char ch = *P->p;
    if (ch == '.') { P->p++; x->type = RX_ANY; return 0; }
    if (ch == '^') { P->p++; x->type = RX_BOL; return 0; }
    if (ch == '$') { P->p++; x->type = RX_EOL; return 0; }
    if (ch == '(') {
        P->p++;
        if (P->p < P->end && *P->p == '?') {
            if (P->end - P->p >= 2 && P->p[1] == ':') P->p += 2;
            else if (P->end - P->p >= 2 && P->p[1] == '<' && P->end - P->p >= 3 && P->p[2] != '=' && P->p[2] != '!') {
                P->p = memchr(P->p, '>', (size_t)(P->end - P->p));
                if (!P->p) { P->p = P->end; return rx_fail(P, "unterminated group name"); }
                P->p++;
            } else return rx_fail(P, "lookahead and lookbehind are not supported");
        }
        x->type = RX_GROUP;
        if (rx_alts(P, x)) return -1;
        if (P->p >= P->end || *P->p != ')') return rx_fail(P, "missing )");
        P->p++;
        return 0;
    }
    if (ch == ')') return rx_fail(P, "unmatched )");
    if (ch == '*' || ch == '+' || ch == '?' || (ch == '{' && rx_is_quant(P->p, P->end))) return rx_fail(P, "nothing to repeat");
    if (ch == '[') {
        P->p++;
        x->type = RX_CLASS;
        if (P->p < P->end && *P->p == '^') { x->neg = 1; P->p++; }
        for (int first = 1; P->p < P->end && (*P->p != ']' || first); first = 0) {
            long lo, hi;
            if (*P->p == '\\') {
                P->p++;
                if (P->p >= P->end) break;
                char e = *P->p;
                int r = rx_class_escape(P, x, e);
                if (r <= 0) { if (r) return -1; P->p++; continue; }
                if (e == 'D' || e == 'W' || e == 'S') return rx_fail(P, "\\D, \\W and \\S inside a class are not supported");
                if (e == 'b') { P->p++; lo = '\b'; } else if ((lo = rx_escape_char(P)) < 0) return -1;
            } else lo = (long)utf8_next(&P->p, P->end);
            hi = lo;
            if (P->end - P->p >= 2 && *P->p == '-' && P->p[1] != ']') {
                P->p++;
                if (*P->p == '\\') { P->p++; if (P->p >= P->end || (hi = rx_escape_char(P)) < 0) return rx_fail(P, "bad class range"); }
                else hi = (long)utf8_next(&P->p, P->end);
                if (hi < lo) return rx_fail(P, "class range out of order");
            }
            if (rx_add_range(P, x, (uint32_t)lo, (uint32_t)hi)) return -1;
        }
        if (P->p >= P->end) return rx_fail(P, "missing ]");
        P->p++;
        return 0;
    }
    if (ch == '\\') {
        P->p++;
        if (P->p >= P->end) return rx_fail(P, "trailing backslash");
        char e = *P->p;
        if (e == 'b' || e == 'B') { P->p++; x->type = e == 'b' ? RX_WORDB : RX_NWORDB; return 0; }
        if (strchr("dwsDWS", e)) {
            P->p++;
            x->type = RX_CLASS;
            x->neg = e < 'a';
            return rx_class_escape(P, x, (char)(e | 32)) ? -1 : 0;
        }
        long c = rx_escape_char(P);
        if (c < 0) return -1;
        x->type = RX_CHAR;
        x->c = (uint32_t)c;
        return 0;
    }
    x->type = RX_CHAR;
    x->c = utf8_next(&P->p, P->end);
    return 0;
}

/* Digits of a {n,m} bound; -1 when there are none. */
static long rx_int(rx_parse *P) {
    long v = -1;
    while (P->p < P->end && *P->p >= '0' && *P->p <= '9') { v = (v < 0 ? 0 : v) * 10 + (*P->p++ - '0'); if (v > 100000) v = 100000; }
    return v;
}

static int rx_seq_parse(rx_parse *P, rx_seq *s) {
    int cap = 0;
    s->n = NULL;
    s->len = 0;
    while (P->p < P->end && *P->p != '|' && *P->p != ')') {
        if (s->len == cap) {
            rx_node *n = arena_alloc(P->a, sizeof *n * (size_t)(cap = cap ? cap * 2 : 8));
            if (!n) return rx_fail(P, "out of memory");
            if (s->len) memcpy(n, s->n, sizeof *n * (size_t)s->len);
            s->n = n;
        }
        rx_node *x = &s->n[s->len++];
        if (rx_atom(P, x)) return -1;
        if (P->p >= P->end) break;
        char q = *P->p;
        if (q == '*') { x->min = 0; x->max = RX_INF; P->p++; }
        else if (q == '+') { x->min = 1; x->max = RX_INF; P->p++; }
        else if (q == '?') { x->min = 0; x->max = 1; P->p++; }
        else if (q == '{' && rx_is_quant(P->p, P->end)) {
            P->p++;
            long lo = rx_int(P), hi = lo;
            if (*P->p == ',') { P->p++; hi = rx_int(P); if (hi < 0) hi = RX_INF; }
            P->p++; /* the '}' */
            if (hi < lo) return rx_fail(P, "numbers out of order in {} quantifier");
            x->min = (int)lo;
            x->max = (int)hi;
        } else continue;
        if (x->type == RX_BOL || x->type == RX_EOL || x->type == RX_WORDB || x->type == RX_NWORDB)
            return rx_fail(P, "nothing to repeat");
        if (P->p < P->end && *P->p == '?') { x->lazy = 1; P->p++; }
    }
    return 0;
}

static int rx_alts(rx_parse *P, rx_node *g) {
    int cap = 0;
    for (;;) {
        if (g->nalts == cap) {
            rx_seq *a = arena_alloc(P->a, sizeof *a * (size_t)(cap = cap ? cap * 2 : 2));
            if (!a) return rx_fail(P, "out of memory");
            if (g->nalts) memcpy(a, g->alts, sizeof *a * (size_t)g->nalts);
            g->alts = a;
        }
        if (rx_seq_parse(P, &g->alts[g->nalts++])) return -1;
        if (P->p >= P->end || *P->p != '|') return 0;
        P->p++;
    }
}

/* Compile pattern into root (a group). Returns NULL, or what is wrong. */
static const char *rx_compile(const char *pat, size_t n, arena *a, rx_node *root, size_t *at) {
    rx_parse P = {pat, pat + n, pat, NULL, a};
    memset(root, 0, sizeof *root);
    root->type = RX_GROUP;
    root->min = root->max = 1;
    if (!rx_alts(&P, root) && P.p < P.end) rx_fail(&P, "unmatched )");
    *at = (size_t)(P.p - pat);
    return P.err;
}

/* Matching: backtracking with continuations, so a group's alternatives and repetitions
 * resume what follows them. */
typedef struct rx_k {
    const rx_seq *s;
    int i;                  /* the node of s to go on with */
    const rx_node *rep;     /* a repeated group: its node, iterations done, where the last began */
    int count;
    const char *from;
    const struct rx_k *next;
} rx_k;
typedef struct { const char *start, *end; long steps; int depth; int gave_up; } rx_m;

static int rx_seq_at(rx_m *M, const rx_seq *s, int i, const char *p, const rx_k *k);

static int rx_is_word(uint32_t c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_'; }

static int rx_char_ok(const rx_node *x, uint32_t c) {
    if (x->type == RX_ANY) return c != '\n' && c != '\r' && c != 0x2028 && c != 0x2029;
    if (x->type == RX_CHAR) return c == x->c;
    int in = 0;
    for (int i = 0; i < x->nr && !in; i++) in = c >= x->r[i][0] && c <= x->r[i][1];
    return in != x->neg;
}

static int rx_resume(rx_m *M, const rx_k *k, const char *p);

/* A repeated group after count iterations, the last begun at from. */
static int rx_group_rep(rx_m *M, const rx_node *x, int count, const char *from, const char *p, const rx_seq *s, int i, const rx_k *k) {
    int more = count < x->max && !(count > x->min && p == from); /* an empty iteration ends the loop */
    int done = count >= x->min;
    for (int pass = 0; pass < 2; pass++) {
        int again = (pass == 0) != x->lazy; /* greedy: another iteration first */
        if (again && more) {
            rx_k rk = {s, i, x, count + 1, p, k};
            for (int a = 0; a < x->nalts; a++) {
                int r = rx_seq_at(M, &x->alts[a], 0, p, &rk);
                if (r) return r;
            }
        } else if (!again && done) {
            int r = rx_seq_at(M, s, i + 1, p, k);
            if (r) return r;
        }
    }
    return 0;
}

static int rx_resume(rx_m *M, const rx_k *k, const char *p) {
    if (!k) return 1;
    if (k->rep) return rx_group_rep(M, k->rep, k->count, k->from, p, k->s, k->i, k->next);
    return rx_seq_at(M, k->s, k->i, p, k->next);
}

/* Match node i of s (and everything after it) at p. 1 matched, 0 not, -1 gave up. */
static int rx_seq_at(rx_m *M, const rx_seq *s, int i, const char *p, const rx_k *k) {
    if (++M->steps > RX_MAX_STEPS || M->depth > RX_MAX_DEPTH) { M->gave_up = 1; return -1; }
    if (i == s->len) return rx_resume(M, k, p);
    const rx_node *x = &s->n[i];
    int r;
    M->depth++;
    switch (x->type) {
    case RX_BOL: r = p == M->start ? rx_seq_at(M, s, i + 1, p, k) : 0; break;
    case RX_EOL: r = p == M->end ? rx_seq_at(M, s, i + 1, p, k) : 0; break;
    case RX_WORDB: case RX_NWORDB: {
        const char *q = p;
        int before = 0, after = p < M->end && rx_is_word(utf8_next(&q, M->end));
        if (p > M->start) before = rx_is_word((unsigned char)p[-1]);
        r = ((before != after) == (x->type == RX_WORDB)) ? rx_seq_at(M, s, i + 1, p, k) : 0;
        break;
    }
    case RX_GROUP: r = rx_group_rep(M, x, 0, NULL, p, s, i, k); break;
    default: { /* one code point each time: the run is measured, then tried long to short
                * (lazy: short to long), stepping over UTF-8 sequences either way */
        const char *q = p;
        int n = 0;
        r = 0;
        while (n < x->max && q < M->end) {
            const char *t = q;
            if (!rx_char_ok(x, utf8_next(&t, M->end))) break;
            q = t;
            n++;
            if (++M->steps > RX_MAX_STEPS) { M->gave_up = 1; r = -1; break; }
        }
        if (r || n < x->min) break;
        if (!x->lazy) {
            for (int c = n;; c--) {
                if ((r = rx_seq_at(M, s, i + 1, q, k)) || c == x->min) break;
                do q--; while (q > p && ((unsigned char)*q & 0xC0) == 0x80);
            }
        } else {
            q = p;
            for (int c = 0; c < x->min; c++) utf8_next(&q, M->end);
            for (int c = x->min;; c++) {
                if ((r = rx_seq_at(M, s, i + 1, q, k)) || c == n) break;
                utf8_next(&q, M->end);
            }
        }
        break;
    }
    }
    M->depth--;
    return r;
}

/* Does the pattern match somewhere in s? 1, 0, or -1 when it could not be decided. */
static int rx_search(const rx_node *root, const char *s, size_t n) {
    rx_m M = {s, s + n, 0, 0, 0};
    rx_seq top = {(rx_node *)root, 1};
    for (const char *p = s;; ) {
        int r = rx_seq_at(&M, &top, 0, p, NULL);
        if (r) return r;
        if (p >= M.end) return 0;
        utf8_next(&p, M.end);
    }
}

/* format: the formats schemas use most, checked (others are annotations). 1 valid, 0 not,
 * -1 a format mcp.c does not check. */
static int two(const char *p) { return p[0] >= '0' && p[0] <= '9' && p[1] >= '0' && p[1] <= '9' ? (p[0] - '0') * 10 + p[1] - '0' : -1; }
static int fmt_date(const char *s, size_t n) {
    if (n != 10 || s[4] != '-' || s[7] != '-') return 0;
    int y1 = two(s), y2 = two(s + 2), m = two(s + 5), d = two(s + 8);
    if (y1 < 0 || y2 < 0 || m < 1 || m > 12 || d < 1) return 0;
    int y = y1 * 100 + y2;
    static const int days[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    int leap = (y % 4 == 0 && y % 100) || y % 400 == 0;
    return d <= days[m - 1] + (m == 2 && leap);
}
static int fmt_time(const char *s, size_t n) { /* HH:MM:SS[.frac](Z|+HH:MM|-HH:MM) */
    if (n < 9 || s[2] != ':' || s[5] != ':') return 0;
    int h = two(s), mi = two(s + 3), se = two(s + 6);
    if (h < 0 || h > 23 || mi < 0 || mi > 59 || se < 0 || se > 60) return 0;
    size_t i = 8;
    if (i < n && s[i] == '.') { size_t j = ++i; while (i < n && s[i] >= '0' && s[i] <= '9') i++; if (i == j) return 0; }
    if (i + 1 == n && (s[i] == 'Z' || s[i] == 'z')) return 1;
    if (i + 6 != n || (s[i] != '+' && s[i] != '-') || s[i + 3] != ':') return 0;
    int oh = two(s + i + 1), om = two(s + i + 4);
    return oh >= 0 && oh <= 23 && om >= 0 && om <= 59;
}
static int fmt_check(const char *f, const char *s, size_t n) {
    if (!strcmp(f, "date")) return fmt_date(s, n);
    if (!strcmp(f, "time")) return fmt_time(s, n);
    if (!strcmp(f, "date-time")) return n > 11 && (s[10] == 'T' || s[10] == 't') && fmt_date(s, 10) && fmt_time(s + 11, n - 11);
    if (!strcmp(f, "uuid")) {
        if (n != 36) return 0;
        for (size_t i = 0; i < n; i++) if (i == 8 || i == 13 || i == 18 || i == 23 ? s[i] != '-' : hexval(s[i]) < 0) return 0;
        return 1;
    }
    if (!strcmp(f, "ipv4") || !strcmp(f, "ipv6")) {
        unsigned char a[16];
        char t[64];
        if (n >= sizeof t || memchr(s, '%', n)) return 0; /* no zone ids */
        memcpy(t, s, n);
        t[n] = 0;
        if (f[3] == '6') return inet_pton(AF_INET6, t, a) == 1;
        for (const char *p = t; *p; p++) if (p[0] == '0' && p[1] >= '0' && p[1] <= '9' && (p == t || p[-1] == '.')) return 0; /* no leading zeros */
        return inet_pton(AF_INET, t, a) == 1;
    }
    if (!strcmp(f, "email")) { /* local@domain: both non-empty, the domain dotted labels, no spaces */
        const char *at = memchr(s, '@', n);
        if (!at || at == s || at + 1 == s + n || memchr(at + 1, '@', (size_t)(s + n - at - 1))) return 0;
        for (size_t i = 0; i < n; i++) if ((unsigned char)s[i] <= ' ' || s[i] == 0x7f) return 0;
        const char *d = at + 1;
        if (*d == '.' || s[n - 1] == '.' || !memchr(d, '.', (size_t)(s + n - d))) return 0;
        for (const char *p = d; p < s + n; p++) if (p[0] == '.' && p + 1 < s + n && p[1] == '.') return 0;
        return 1;
    }
    if (!strcmp(f, "uri")) { /* scheme ":" and no whitespace (RFC 3986 scheme: ALPHA *( ALPHA / DIGIT / "+" / "-" / "." )) */
        size_t i = 0;
        if (!n || !((s[0] | 32) >= 'a' && (s[0] | 32) <= 'z')) return 0;
        while (i < n && (((s[i] | 32) >= 'a' && (s[i] | 32) <= 'z') || (s[i] >= '0' && s[i] <= '9') || s[i] == '+' || s[i] == '-' || s[i] == '.')) i++;
        if (i == n || s[i] != ':') return 0;
        for (; i < n; i++) if ((unsigned char)s[i] <= ' ' || s[i] == '"' || s[i] == '<' || s[i] == '>' || s[i] == '\\' || s[i] == 0x7f) return 0;
        return 1;
    }
    return -1;
}

/*=== MARK: - 13. JSON Schema subset (Private) ===*/
/*
 * Tool arguments are checked against the tool's input schema before its handler runs
 * (JSON Schema 2020-12 keywords: type, properties, required, additionalProperties, items,
 * enum, const, minimum, maximum, exclusiveMinimum, exclusiveMaximum, minLength,
 * maxLength, pattern, format, minItems, maxItems, anyOf, oneOf, allOf, not, $ref into
 * $defs/definitions). format checks date-time, date, time, email, uri, uuid, ipv4 and ipv6
 * and takes other formats as annotations. The first failure is reported with the path of
 * the offending value. schema_lint refuses, at registration, a schema these keywords
 * cannot be applied from, with the path of what is wrong.
 */

static int json_equal(const mcp_json *a, const mcp_json *b) {
    mcp_json_type ta = MCP_JSON_TYPE(a), tb = MCP_JSON_TYPE(b);
    if (ta != tb) return 0;
    switch (ta) {
    case MCP_JSON_NUMBER: return a->u.d == b->u.d;
    case MCP_JSON_STRING: return a->len == b->len && !memcmp(a->s, b->s, a->len);
    case MCP_JSON_ARRAY: {
        if (a->len != b->len) return 0;
        mcp_json_iter ia = mcp_json_iterate(a), ib = mcp_json_iterate(b);
        const mcp_json *x, *y;
        while ((x = mcp_json_iter_next(&ia, NULL)) && (y = mcp_json_iter_next(&ib, NULL)))
            if (!json_equal(x, y)) return 0;
        return 1;
    }
    case MCP_JSON_OBJECT: {
        if (a->len != b->len) return 0;
        mcp_json_iter ia = mcp_json_iterate(a);
        const mcp_json *k, *x;
        while ((x = mcp_json_iter_next(&ia, &k))) {
            const mcp_json *y = json_get_n(b, k->s, k->len);
            if (!y || !json_equal(x, y)) return 0;
        }
        return 1;
    }
    default: return 1;
    }
}

static const char *json_type_name(const mcp_json *v) {
    switch (MCP_JSON_TYPE(v)) {
    case MCP_JSON_NULL: return "null";
    case MCP_JSON_TRUE: case MCP_JSON_FALSE: return "boolean";
    case MCP_JSON_NUMBER: return v->type & MCP_JSON_F_INT ? "integer" : "number";
    case MCP_JSON_STRING: return "string";
    case MCP_JSON_ARRAY: return "array";
    case MCP_JSON_OBJECT: return "object";
    default: return "nothing";
    }
}

static int type_matches(const mcp_json *v, const char *t, size_t tn) {
    slice s = {t, tn};
    mcp_json_type vt = MCP_JSON_TYPE(v);
    if (sl_eq(s, "integer")) {
        int64_t i;
        return vt == MCP_JSON_NUMBER && (mcp_json_int(v, &i) || (v->u.d == floor(v->u.d) && isfinite(v->u.d)));
    }
    if (sl_eq(s, "number")) return vt == MCP_JSON_NUMBER;
    if (sl_eq(s, "string")) return vt == MCP_JSON_STRING;
    if (sl_eq(s, "boolean")) return vt == MCP_JSON_TRUE || vt == MCP_JSON_FALSE;
    if (sl_eq(s, "object")) return vt == MCP_JSON_OBJECT;
    if (sl_eq(s, "array")) return vt == MCP_JSON_ARRAY;
    if (sl_eq(s, "null")) return vt == MCP_JSON_NULL;
    return 1; /* unknown type names do not fail the value */
}

static size_t utf8_count(const char *s, size_t n) {
    size_t c = 0;
    for (size_t i = 0; i < n; i++) c += ((unsigned char)s[i] & 0xC0) != 0x80;
    return c;
}

typedef struct {
    const mcp_json *root;
    buf *err;     /* the message, set on the first failure */
    char path[256];
    int depth;
} vctx;

static int vfail(vctx *x, const char *fmt, ...) MCP_PRINTF(2, 3);
static int vfail(vctx *x, const char *fmt, ...) {
    if (x->err->len) return 0;
    buf_puts(x->err, x->path[0] ? x->path : "(arguments)");
    buf_puts(x->err, ": ");
    va_list ap;
    va_start(ap, fmt);
    buf_vprintf(x->err, fmt, ap);
    va_end(ap);
    return 0;
}

static const mcp_json *schema_ref(vctx *x, const char *ref) {
    if (!strcmp(ref, "#")) return x->root;
    const mcp_json *cur = NULL;
    if (!strncmp(ref, "#/$defs/", 8)) cur = mcp_json_get(x->root, "$defs"), ref += 8;
    else if (!strncmp(ref, "#/definitions/", 14)) cur = mcp_json_get(x->root, "definitions"), ref += 14;
    else return NULL;
    return mcp_json_get(cur, ref);
}

static int validate(vctx *x, const mcp_json *sch, const mcp_json *v);

/* Validate quietly (for anyOf/oneOf/not): the message buffer is swapped out. */
static int validate_quiet(vctx *x, const mcp_json *sch, const mcp_json *v) {
    buf tmp = {0}, *saved = x->err;
    x->err = &tmp;
    int ok = validate(x, sch, v);
    x->err = saved;
    buf_free(&tmp);
    return ok;
}

/* The keywords validate() applies, each found by one pass over the schema's members (the
 * first of a repeated one, as mcp_json_get would), rather than one lookup each. */
enum { VK_REF, VK_TYPE, VK_CONST, VK_ENUM, VK_MIN, VK_MAX, VK_XMIN, VK_XMAX, VK_MINLEN, VK_MAXLEN, VK_FORMAT, VK_PATTERN, VK_MINITEMS, VK_MAXITEMS, VK_ITEMS, VK_PROPS, VK_REQ, VK_ADDL, VK_ALLOF, VK_ANYOF, VK_ONEOF, VK_NOT, VK_N };
static const char *const vk_names[VK_N] = {"$ref", "type", "const", "enum", "minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum", "minLength", "maxLength", "format", "pattern", "minItems", "maxItems", "items", "properties", "required", "additionalProperties", "allOf", "anyOf", "oneOf", "not"};
static void vkw_gather(const mcp_json *sch, const mcp_json *kw[VK_N]) {
    memset(kw, 0, VK_N * sizeof *kw);
    mcp_json_iter it = mcp_json_iterate(sch);
    const mcp_json *k, *v;
    while ((v = mcp_json_iter_next(&it, &k)))
        for (int i = 0; i < VK_N; i++)
            if (k->s[0] == vk_names[i][0] && k->len == strlen(vk_names[i]) && !memcmp(k->s, vk_names[i], k->len)) {
                if (!kw[i]) kw[i] = v;
                break;
            }
}

static int validate(vctx *x, const mcp_json *sch, const mcp_json *v) {
    /* what a handler could not read as given: a C string cut at a NUL, a number as inf */
    if (MCP_JSON_TYPE(v) == MCP_JSON_STRING && strlen(v->s) != v->len) return vfail(x, "string contains a NUL character");
    if (MCP_JSON_TYPE(v) == MCP_JSON_NUMBER && !isfinite(v->u.d)) return vfail(x, "number out of range");
    if (MCP_JSON_TYPE(sch) == MCP_JSON_TRUE) return 1;
    if (MCP_JSON_TYPE(sch) == MCP_JSON_FALSE) return vfail(x, "no value is allowed here");
    if (MCP_JSON_TYPE(sch) != MCP_JSON_OBJECT) return 1;
    if (++x->depth > 64) { x->depth--; return vfail(x, "schema nests too deeply"); }
    const mcp_json *kw[VK_N];
    vkw_gather(sch, kw);
    int ok = 0;
    const mcp_json *k;
    if ((k = kw[VK_REF]) && mcp_json_str(k)) {
        const mcp_json *t = schema_ref(x, k->s);
        if (!t) { vfail(x, "schema reference %s not found", k->s); goto out; }
        if (!validate(x, t, v)) goto out;
    }
    if ((k = kw[VK_TYPE])) {
        int match = 0;
        if (MCP_JSON_TYPE(k) == MCP_JSON_STRING) match = type_matches(v, k->s, k->len);
        else {
            mcp_json_iter it = mcp_json_iterate(k);
            const mcp_json *t;
            while ((t = mcp_json_iter_next(&it, NULL)))
                if (MCP_JSON_TYPE(t) == MCP_JSON_STRING && type_matches(v, t->s, t->len)) match = 1;
        }
        if (!match) {
            char want[128] = "";
            if (MCP_JSON_TYPE(k) == MCP_JSON_STRING) snprintf(want, sizeof want, "%s", k->s);
            else snprintf(want, sizeof want, "one of the listed types");
            vfail(x, "expected %s, got %s", want, json_type_name(v));
            goto out;
        }
    }
    if ((k = kw[VK_CONST]) && !json_equal(k, v)) {
        char *w = mcp_json_write(k, NULL);
        vfail(x, "must be %s", w ? w : "the constant");
        free(w);
        goto out;
    }
    if ((k = kw[VK_ENUM])) {
        mcp_json_iter it = mcp_json_iterate(k);
        const mcp_json *e;
        int found = 0;
        while ((e = mcp_json_iter_next(&it, NULL))) if (json_equal(e, v)) { found = 1; break; }
        if (!found) {
            char *w = mcp_json_write(k, NULL);
            vfail(x, "must be one of %s", w ? w : "the listed values");
            free(w);
            goto out;
        }
    }
    switch (MCP_JSON_TYPE(v)) {
    case MCP_JSON_NUMBER: {
        double d = v->u.d;
        if ((k = kw[VK_MIN]) && MCP_JSON_TYPE(k) == MCP_JSON_NUMBER && d < k->u.d) {
            vfail(x, "must be >= %.*s", (int)k->len, k->s); goto out;
        }
        if ((k = kw[VK_MAX]) && MCP_JSON_TYPE(k) == MCP_JSON_NUMBER && d > k->u.d) {
            vfail(x, "must be <= %.*s", (int)k->len, k->s); goto out;
        }
        if ((k = kw[VK_XMIN]) && MCP_JSON_TYPE(k) == MCP_JSON_NUMBER && d <= k->u.d) {
            vfail(x, "must be > %.*s", (int)k->len, k->s); goto out;
        }
        if ((k = kw[VK_XMAX]) && MCP_JSON_TYPE(k) == MCP_JSON_NUMBER && d >= k->u.d) {
            vfail(x, "must be < %.*s", (int)k->len, k->s); goto out;
        }
        break;
    }
    case MCP_JSON_STRING: {
        size_t n = 0;
        int lim_min = (k = kw[VK_MINLEN]) && MCP_JSON_TYPE(k) == MCP_JSON_NUMBER;
        double mn = lim_min ? k->u.d : 0;
        int lim_max = (k = kw[VK_MAXLEN]) && MCP_JSON_TYPE(k) == MCP_JSON_NUMBER;
        double mx = lim_max ? k->u.d : 0;
        if (lim_min || lim_max) n = utf8_count(v->s, v->len);
        if (lim_min && (double)n < mn) { vfail(x, "must be at least %g characters long", mn); goto out; }
        if (lim_max && (double)n > mx) { vfail(x, "must be at most %g characters long", mx); goto out; }
        if ((k = kw[VK_FORMAT]) && mcp_json_str(k) && !fmt_check(k->s, v->s, v->len)) {
            vfail(x, "is not a valid %s", k->s);
            goto out;
        }
        if ((k = kw[VK_PATTERN]) && mcp_json_str(k)) {
            arena a = {0};
            rx_node re;
            size_t at;
            const char *bad = rx_compile(k->s, k->len, &a, &re, &at);
            int m = bad ? -2 : rx_search(&re, v->s, v->len);
            arena_free(&a);
            if (m == 1) break;
            if (m == 0) vfail(x, "does not match the pattern %s", k->s);
            else if (m == -1) vfail(x, "could not be checked against the pattern %s within its step limit", k->s);
            else vfail(x, "the schema's pattern %s is not valid: %s at %zu", k->s, bad, at);
            goto out;
        }
        break;
    }
    case MCP_JSON_ARRAY: {
        if ((k = kw[VK_MINITEMS]) && MCP_JSON_TYPE(k) == MCP_JSON_NUMBER && v->len < k->u.d) {
            vfail(x, "must have at least %g items", k->u.d); goto out;
        }
        if ((k = kw[VK_MAXITEMS]) && MCP_JSON_TYPE(k) == MCP_JSON_NUMBER && v->len > k->u.d) {
            vfail(x, "must have at most %g items", k->u.d); goto out;
        }
        if ((k = kw[VK_ITEMS])) {
            mcp_json_iter it = mcp_json_iterate(v);
            const mcp_json *e;
            size_t plen = strlen(x->path), i = 0;
            while ((e = mcp_json_iter_next(&it, NULL))) {
                snprintf(x->path + plen, sizeof x->path - plen, "[%zu]", i++);
                int r = validate(x, k, e);
                x->path[plen] = 0;
                if (!r) goto out;
            }
        }
        break;
    }
    case MCP_JSON_OBJECT: {
        const mcp_json *props = kw[VK_PROPS];
        if ((k = kw[VK_REQ])) {
            mcp_json_iter it = mcp_json_iterate(k);
            const mcp_json *r;
            while ((r = mcp_json_iter_next(&it, NULL)))
                if (mcp_json_str(r) && !mcp_json_get(v, r->s)) {
                    size_t plen = strlen(x->path);
                    snprintf(x->path + plen, sizeof x->path - plen, "%s%s", plen ? "." : "", r->s);
                    vfail(x, "required property is missing");
                    x->path[plen] = 0;
                    goto out;
                }
        }
        const mcp_json *addl = kw[VK_ADDL];
        mcp_json_iter it = mcp_json_iterate(v);
        const mcp_json *name, *val;
        size_t plen = strlen(x->path);
        while ((val = mcp_json_iter_next(&it, &name))) {
            const mcp_json *ps = json_get_n(props, name->s, name->len);
            cat3(x->path + plen, sizeof x->path - plen, plen ? "." : "", name->s, ""); /* per argument: no printf */
            int r = 1;
            if (ps) r = validate(x, ps, val);
            else if (MCP_JSON_TYPE(addl) == MCP_JSON_FALSE) r = vfail(x, "unknown property");
            else if (MCP_JSON_TYPE(addl) == MCP_JSON_OBJECT) r = validate(x, addl, val);
            x->path[plen] = 0;
            if (!r) goto out;
        }
        break;
    }
    default: break;
    }
    if ((k = kw[VK_ALLOF])) {
        mcp_json_iter it = mcp_json_iterate(k);
        const mcp_json *s;
        while ((s = mcp_json_iter_next(&it, NULL))) if (!validate(x, s, v)) goto out;
    }
    if ((k = kw[VK_ANYOF])) {
        mcp_json_iter it = mcp_json_iterate(k);
        const mcp_json *s;
        int any = 0;
        while ((s = mcp_json_iter_next(&it, NULL))) if (validate_quiet(x, s, v)) { any = 1; break; }
        if (!any) { vfail(x, "matches none of the anyOf schemas"); goto out; }
    }
    if ((k = kw[VK_ONEOF])) {
        mcp_json_iter it = mcp_json_iterate(k);
        const mcp_json *s;
        int n = 0;
        while ((s = mcp_json_iter_next(&it, NULL))) n += validate_quiet(x, s, v);
        if (n != 1) { vfail(x, n ? "matches more than one of the oneOf schemas" : "matches none of the oneOf schemas"); goto out; }
    }
    if ((k = kw[VK_NOT]) && validate_quiet(x, k, v)) {
        vfail(x, "must not match the schema under \"not\"");
        goto out;
    }
    ok = 1;
out:
    x->depth--;
    return ok;
}

/* Is sch a schema validate() can apply? 1, or 0 with "path: what is wrong" in err. */
static int schema_lint_at(const mcp_json *root, const mcp_json *sch, char *path, size_t cap, buf *err, int depth) {
    size_t plen = strlen(path);
#define LINT_FAIL(...) do { buf_puts(err, path[0] ? path : "(the schema)"); buf_puts(err, ": "); buf_printf(err, __VA_ARGS__); return 0; } while (0)
    if (depth > 64) LINT_FAIL("nests too deeply");
    mcp_json_type t = MCP_JSON_TYPE(sch);
    if (t == MCP_JSON_TRUE || t == MCP_JSON_FALSE) return 1;
    if (t != MCP_JSON_OBJECT) LINT_FAIL("a schema is an object or a boolean");
    mcp_json_iter it = mcp_json_iterate(sch);
    const mcp_json *k, *v;
    while ((v = mcp_json_iter_next(&it, &k))) {
        const char *name = k->s;
        mcp_json_type vt = MCP_JSON_TYPE(v);
        snprintf(path + plen, cap - plen, "%s%s", plen ? "." : "", name);
        if (!strcmp(name, "type")) {
            static const char *const types[] = {"string", "number", "integer", "boolean", "object", "array", "null"};
            mcp_json_iter ti = mcp_json_iterate(v);
            const mcp_json *one = vt == MCP_JSON_STRING ? v : mcp_json_iter_next(&ti, NULL);
            if (vt != MCP_JSON_STRING && vt != MCP_JSON_ARRAY) LINT_FAIL("must be a type name or an array of them");
            for (; one; one = vt == MCP_JSON_ARRAY ? mcp_json_iter_next(&ti, NULL) : NULL) {
                int known = 0;
                for (size_t i = 0; mcp_json_str(one) && i < COUNT(types); i++) known |= !strcmp(one->s, types[i]);
                if (!known) LINT_FAIL("unknown type %s", mcp_json_str(one) ? one->s : "(not a string)");
            }
        } else if (!strcmp(name, "properties") || !strcmp(name, "$defs") || !strcmp(name, "definitions") || !strcmp(name, "patternProperties")) {
            if (vt != MCP_JSON_OBJECT) LINT_FAIL("must be an object of schemas");
            mcp_json_iter pi = mcp_json_iterate(v);
            const mcp_json *pk, *pv;
            size_t l2 = strlen(path);
            while ((pv = mcp_json_iter_next(&pi, &pk))) {
                snprintf(path + l2, cap - l2, ".%s", pk->s);
                if (!schema_lint_at(root, pv, path, cap, err, depth + 1)) return 0;
            }
        } else if (!strcmp(name, "items") || !strcmp(name, "additionalProperties") || !strcmp(name, "not") ||
                   !strcmp(name, "contains") || !strcmp(name, "propertyNames")) {
            if (vt == MCP_JSON_ARRAY && !strcmp(name, "items")) { /* draft-07 tuples */
                mcp_json_iter ai = mcp_json_iterate(v);
                const mcp_json *e;
                while ((e = mcp_json_iter_next(&ai, NULL))) if (!schema_lint_at(root, e, path, cap, err, depth + 1)) return 0;
            } else if (!schema_lint_at(root, v, path, cap, err, depth + 1)) return 0;
        } else if (!strcmp(name, "anyOf") || !strcmp(name, "oneOf") || !strcmp(name, "allOf")) {
            if (vt != MCP_JSON_ARRAY || !v->len) LINT_FAIL("must be a non-empty array of schemas");
            mcp_json_iter ai = mcp_json_iterate(v);
            const mcp_json *e;
            size_t l2 = strlen(path), i = 0;
            while ((e = mcp_json_iter_next(&ai, NULL))) {
                snprintf(path + l2, cap - l2, "[%zu]", i++);
                if (!schema_lint_at(root, e, path, cap, err, depth + 1)) return 0;
            }
        } else if (!strcmp(name, "required")) {
            if (vt != MCP_JSON_ARRAY) LINT_FAIL("must be an array of property names");
            mcp_json_iter ai = mcp_json_iterate(v);
            const mcp_json *e;
            while ((e = mcp_json_iter_next(&ai, NULL))) if (!mcp_json_str(e)) LINT_FAIL("must be an array of property names");
        } else if (!strcmp(name, "enum")) {
            if (vt != MCP_JSON_ARRAY) LINT_FAIL("must be an array");
        } else if (!strcmp(name, "minimum") || !strcmp(name, "maximum") || !strcmp(name, "exclusiveMinimum") ||
                   !strcmp(name, "exclusiveMaximum") || !strcmp(name, "minLength") || !strcmp(name, "maxLength") ||
                   !strcmp(name, "minItems") || !strcmp(name, "maxItems") || !strcmp(name, "multipleOf")) {
            if (vt != MCP_JSON_NUMBER) LINT_FAIL("must be a number");
        } else if (!strcmp(name, "format")) {
            if (vt != MCP_JSON_STRING) LINT_FAIL("must be a string");
        } else if (!strcmp(name, "pattern")) {
            if (vt != MCP_JSON_STRING) LINT_FAIL("must be a string");
            arena a = {0};
            rx_node re;
            size_t at;
            const char *bad = rx_compile(v->s, v->len, &a, &re, &at);
            arena_free(&a);
            if (bad) LINT_FAIL("%s at offset %zu of %s", bad, at, v->s);
        } else if (!strcmp(name, "$ref")) {
            vctx x = {root, NULL, "", 0};
            if (vt != MCP_JSON_STRING || !schema_ref(&x, v->s)) LINT_FAIL("%s does not name # or a schema under #/$defs or #/definitions", mcp_json_str(v) ? v->s : "(not a string)");
        }
        path[plen] = 0;
    }
#undef LINT_FAIL
    return 1;
}

static int schema_lint(const mcp_json *schema, buf *err) {
    char path[512] = "";
    return schema_lint_at(schema, schema, path, sizeof path, err, 0);
}

/* Check v against schema; on failure err holds "path: reason". */
static int schema_check(const mcp_json *schema, const mcp_json *v, buf *err) {
    vctx x;
    x.root = schema;
    x.err = err;
    x.path[0] = 0;
    x.depth = 0;
    return validate(&x, schema, v);
}

/* Expand a compact field list ("a:number b:string?") into JSON Schema text. */
static int schema_expand(const char *spec, buf *out) {
    static const char *const types[] = {"string", "number", "integer", "boolean", "object", "array"};
    buf req = {0};
    int nreq = 0, first = 1;
    buf_puts(out, "{\"type\":\"object\",\"properties\":{");
    for (const char *p = spec; *p;) {
        while (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r' || *p == ',') p++;
        if (!*p) break;
        const char *name = p;
        while (*p && !strchr(":?, \t\n\r", *p)) p++;
        size_t nn = (size_t)(p - name);
        const char *type = "string";
        size_t tn = 6;
        int optional = 0;
        if (*p == ':') {
            const char *t = ++p;
            while (*p && !strchr("?, \t\n\r", *p)) p++;
            type = t;
            tn = (size_t)(p - t);
            int known = 0;
            for (size_t i = 0; i < COUNT(types); i++) if (strlen(types[i]) == tn && !memcmp(types[i], t, tn)) known = 1;
            if (!known) { buf_free(&req); return 0; }
        }
        if (*p == '?') { optional = 1; p++; }
        if (!nn) { buf_free(&req); return 0; }
        if (!first) buf_putc(out, ',');
        first = 0;
        json_escape(out, name, nn);
        buf_puts(out, ":{\"type\":");
        json_escape(out, type, tn);
        buf_putc(out, '}');
        if (!optional) {
            if (nreq++) buf_putc(&req, ',');
            json_escape(&req, name, nn);
        }
    }
    buf_puts(out, "}");
    if (nreq) { buf_puts(out, ",\"required\":["); buf_put(out, req.p, req.len); buf_putc(out, ']'); }
    buf_putc(out, '}');
    buf_free(&req);
    return !out->oom;
}

/*=== MARK: - 14. MCP registry (Public: mcp_server_*, mcp_tool_*, mcp_resource_*, mcp_prompt_*) ===*/
/*
 * JSON-RPC 2.0 and the Model Context Protocol, every era on one endpoint:
 *   2024-11-05  base protocol, initialize handshake
 *   2025-03-26  Streamable HTTP, batches (accepted in this era only), annotations, audio
 *   2025-06-18  structuredContent/outputSchema, elicitation, resource_link, titles
 *   2025-11-25  invalid tool input is an isError result; Origin checked
 *   2026-07-28  stateless: server/discover, per-request _meta protocol version and client
 *               capabilities, resultType, multi-round-trip input_required results
 * This section holds what a server is: its eras, its tools, resources, prompts and
 * completions, its sessions and counters. Registration stores what the user wrote; schemas
 * are parsed on first use, so start-up does no work that a request does not need.
 */

enum { ERA_2024_11_05, ERA_2025_03_26, ERA_2025_06_18, ERA_2025_11_25, ERA_2026_07_28, ERA_COUNT };
static const char *const era_names[ERA_COUNT] = {
    "2024-11-05", "2025-03-26", "2025-06-18", "2025-11-25", "2026-07-28",
};
#define ERA_LATEST_SESSION ERA_2025_11_25
#define ERA_LATEST ERA_2026_07_28

static int era_find(const char *v, size_t n) {
    for (int i = 0; i < ERA_COUNT; i++)
        if (strlen(era_names[i]) == n && !memcmp(era_names[i], v, n)) return i;
    return -1;
}

/* JSON-RPC and MCP error codes. */
enum {
    RPC_PARSE = -32700, RPC_INVALID = -32600, RPC_NO_METHOD = -32601,
    RPC_BAD_PARAMS = -32602, RPC_INTERNAL = -32603,
    MCP_E_NO_RESOURCE = -32002,
    MCP_E_HEADER_MISMATCH = -32020, MCP_E_MISSING_CAPABILITY = -32021,
    MCP_E_UNSUPPORTED_VERSION = -32022,
    RPC_SERVER_ERROR = -32001,   /* the answer cannot be given (Lambda deadline, 6 MB limit) */
    MCP_E_FORBIDDEN = -32003,    /* the caller lacks a scope the tool needs */
};

/* Counts and a latency histogram: bucket i holds calls under 2^i * 32 us. */
#define LAT_BUCKETS 24
typedef struct { uint64_t count, errors, total_us; uint32_t hist[LAT_BUCKETS]; } stat;

/* Counter slots: one per entry of the method table (see Dispatch) and one for the rest. */
#define MAX_METHODS 24

typedef struct {
    char *name;
    int (*fn)(void *data, char *err, size_t errsz);
    void *data;
} health_check;

/* What a client may show beside a server, tool, resource, template or prompt: icons
 * (2025-11-25; a JSON array) and _meta (members of a JSON object, without the braces). */
typedef struct { char *icons, *meta; } decor;

struct mcp_tool_def {
    stat st;
    decor d;
    char *scopes;                 /* OAuth scopes a caller needs, space-separated */
    char *name, *title, *desc, *schema_src, *out_src, *annotations;
    char *schema;                 /* JSON text of the input schema (expanded if compact) */
    buf lint_msg;                 /* why a schema was refused (schema_lint), once it was */
    mcp_json_doc *in_doc, *out_doc; /* parsed on first use */
    mcp_handler fn;
    void *data;
    int task_mode;                /* MCP_TASK_* (section 19) */
};

struct mcp_resource_def {
    decor d;
    char *uri, *name, *title, *desc, *mime;
    int is_template;
    mcp_handler fn;
    void *data;
};

typedef struct { char *name; int required; } prompt_arg;

struct mcp_prompt_def {
    decor d;
    char *name, *title, *desc;
    prompt_arg *args;
    int nargs;
    mcp_handler fn;
    void *data;
};

typedef struct { char *kind, *name; mcp_handler fn; } completer;
typedef struct ev_handler ev_handler;

/* A server-to-client request waiting for its answer (HTTP transports). */
typedef struct waiter {
    struct waiter *next;
    char key[96];          /* session id and request id */
    char *answer;          /* JSON text of the client's response message, malloc'ed */
    pthread_cond_t cv;
} waiter;

typedef struct session {
    struct session *next;
    char id[36];           /* SESSION_ID_LEN and a NUL */
    int era;
    int level;             /* logging threshold, index into log_levels */
    mcp_json_doc *caps;    /* client capabilities, as initialize declared them */
    uint64_t last_used;
    int refs;              /* requests using it now; a dropped session is freed after the last */
    int dropped;
    char owner[300];       /* who created it: "kind:principal" with authentication, else "addr:..." */
    int bound;             /* only its owner may use it (authentication was configured) */
} session;

/* What a transport knows of a message's session before reading the message. */
typedef struct {
    int era;               /* the session's era, or the transport's default */
    const mcp_json *caps;  /* the session's client capabilities (NULL: none declared) */
    int level;             /* its log threshold */
} sess_view;

struct mcp_server {
    char *name, *version, *title, *instructions;
    decor d;
    int apps;               /* MCP Apps resources registered: the extension is declared */
    mcp_tool_def **tools; int ntools;
    mcp_resource_def **res; int nres;
    mcp_prompt_def **prompts; int nprompts;
    completer *comps; int ncomps;
    pthread_mutex_t lock;  /* guards sessions, waiters and seq; never held while a handler runs */
    session *sessions;
    int nsessions;
    waiter *waiters;
    unsigned long long seq; /* server-to-client request ids */
    pthread_mutex_t mlock;  /* guards the counters below */
    stat mstat[MAX_METHODS];
    uint64_t started_us, http_requests, http_errors;
    health_check *checks; int nchecks;
    ev_handler *evh; int nevh; /* handlers of events from other services (Event sources) */
    int stateless;          /* no session table (Lambda): ids are self-describing */
    int serving;            /* stdio has started: list changes are announced */
};

static const char *const log_levels[] = {
    "debug", "info", "notice", "warning", "error", "critical", "alert", "emergency",
};
#define LEVEL_OFF ((int)COUNT(log_levels)) /* above every level: no log notifications */
static int level_find(const char *s) {
    for (int i = 0; s && i < (int)COUNT(log_levels); i++) if (!strcmp(log_levels[i], s)) return i;
    return -1;
}

/* Registration records live as long as the process (mcp_*_remove unlists one; a handler
 * may still be running), so a record and copies of its strings share one allocation:
 * rec_new(size, n, strings...) gives size zeroed bytes followed by room for the n strings
 * (NULL ones take none), and rec_str copies each in turn. */
#define REC_POOL 8192 /* the first records' room: the typical server's registrations, no malloc */
static void *rec_new(size_t size, int n, ...) {
    va_list ap;
    va_start(ap, n);
    size_t total = size;
    for (int i = 0; i < n; i++) {
        const char *x = va_arg(ap, const char *);
        if (x) total += strlen(x) + 1;
    }
    va_end(ap);
    total = (total + 15) & ~(size_t)15;
    static _Alignas(16) char pool[REC_POOL]; /* zero, and no page of it touched before use */
    static size_t used;
    static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
    void *r = NULL;
    pthread_mutex_lock(&mu);
    if (total <= REC_POOL - used) { r = pool + used; used += total; }
    pthread_mutex_unlock(&mu);
    if (!r && !(r = calloc(1, total))) die("out of memory");
    return r;
}
static char *rec_str(char **at, const char *x) {
    if (!x) return NULL;
    size_t n = strlen(x) + 1;
    char *p = memcpy(*at, x, n);
    *at += n;
    return p;
}

mcp_server *mcp_server_new(const char *name, const char *version) {
    if (!name) name = "mcp-server";
    if (!version) version = "0.0.0";
    mcp_server *s = rec_new(sizeof *s, 2, name, version);
    char *at = (char *)(s + 1);
    s->name = rec_str(&at, name);
    s->version = rec_str(&at, version);
    pthread_mutex_init(&s->lock, NULL);
    pthread_mutex_init(&s->mlock, NULL);
    s->started_us = mono_us();
    return s;
}
void mcp_health(mcp_server *s, const char *name, int (*fn)(void *data, char *err, size_t errsz), void *data) {
    if (!name || !fn) die("mcp_health: a check needs a name and a function");
    GROW(s->checks, s->nchecks);
    s->checks[s->nchecks].name = xstrdup(name);
    s->checks[s->nchecks].fn = fn;
    s->checks[s->nchecks].data = data;
    s->nchecks++;
}

static void stat_add(stat *st, uint64_t us, int err) {
    st->count++;
    st->errors += err != 0;
    st->total_us += us;
    int b = 0;
    while (b < LAT_BUCKETS - 1 && us >= (32ull << b)) b++;
    st->hist[b]++;
}

/* The latency under which a fraction q of calls finished, in ms (a bucket's upper bound). */
static double stat_pct(const stat *st, double q) {
    if (!st->count) return 0;
    uint64_t want = (uint64_t)ceil(q * (double)st->count), seen = 0;
    for (int b = 0; b < LAT_BUCKETS; b++) {
        seen += st->hist[b];
        if (seen >= want) return (double)(32ull << b) / 1000.0;
    }
    return (double)(32ull << (LAT_BUCKETS - 1)) / 1000.0;
}

void mcp_server_title(mcp_server *s, const char *t) { free(s->title); s->title = xstrdup(t); }
void mcp_server_instructions(mcp_server *s, const char *t) { free(s->instructions); s->instructions = xstrdup(t); }

/* A list changed after stdio started: notifications/KIND/list_changed (section 17). */
static void list_changed(mcp_server *s, const char *kind);

mcp_tool_def *mcp_tool_add(mcp_server *s, const char *name, const char *desc, const char *schema,
                       mcp_handler fn) {
    if (!name || !*name || !fn) die("mcp_tool_def: a tool needs a name and a handler");
    for (int i = 0; i < s->ntools; i++)
        if (!strcmp(s->tools[i]->name, name)) die("mcp_tool_def: tool %s is registered twice", name);
    if (!schema) schema = "";
    mcp_tool_def *t = rec_new(sizeof *t, 3, name, desc, schema);
    char *at = (char *)(t + 1);
    t->name = rec_str(&at, name);
    t->desc = rec_str(&at, desc);
    t->schema_src = rec_str(&at, schema);
    t->fn = fn;
    pthread_mutex_lock(&s->lock);
    GROW(s->tools, s->ntools);
    s->tools[s->ntools++] = t;
    pthread_mutex_unlock(&s->lock);
    list_changed(s, "tools");
    return t;
}
void mcp_tool_title(mcp_tool_def *t, const char *v) { free(t->title); t->title = xstrdup(v); }
void mcp_tool_output_schema(mcp_tool_def *t, const char *v) { free(t->out_src); t->out_src = xstrdup(v); }
void mcp_tool_annotations(mcp_tool_def *t, const char *v) { free(t->annotations); t->annotations = xstrdup(v); }
void mcp_tool_data(mcp_tool_def *t, void *d) { t->data = d; }
void mcp_tool_scopes(mcp_tool_def *t, const char *scopes) { free(t->scopes); t->scopes = xstrdup(scopes); }

static mcp_resource_def *resource_new(mcp_server *s, const char *uri, const char *name,
                                  const char *desc, const char *mime, mcp_handler fn, int tmpl) {
    if (!uri || !*uri || !fn) die("mcp_resource_def: a resource needs a URI and a reader");
    if (!name) name = uri;
    mcp_resource_def *r = rec_new(sizeof *r, 4, uri, name, desc, mime);
    char *at = (char *)(r + 1);
    r->uri = rec_str(&at, uri);
    r->name = rec_str(&at, name);
    r->desc = rec_str(&at, desc);
    r->mime = rec_str(&at, mime);
    r->fn = fn;
    r->is_template = tmpl;
    pthread_mutex_lock(&s->lock);
    GROW(s->res, s->nres);
    s->res[s->nres++] = r;
    pthread_mutex_unlock(&s->lock);
    list_changed(s, "resources");
    return r;
}
mcp_resource_def *mcp_resource_add(mcp_server *s, const char *uri, const char *name,
                               const char *desc, const char *mime, mcp_handler fn) {
    return resource_new(s, uri, name, desc, mime, fn, 0);
}
mcp_resource_def *mcp_resource_template(mcp_server *s, const char *uri, const char *name,
                                    const char *desc, const char *mime, mcp_handler fn) {
    return resource_new(s, uri, name, desc, mime, fn, 1);
}
void mcp_resource_title(mcp_resource_def *r, const char *v) { free(r->title); r->title = xstrdup(v); }
void mcp_resource_data(mcp_resource_def *r, void *d) { r->data = d; }

mcp_prompt_def *mcp_prompt_add(mcp_server *s, const char *name, const char *desc,
                           const char *args, mcp_handler fn) {
    if (!name || !*name || !fn) die("mcp_prompt_def: a prompt needs a name and a handler");
    if (!args) args = "";
    mcp_prompt_def *p = rec_new(sizeof *p, 3, name, desc, args);
    char *at = (char *)(p + 1);
    p->name = rec_str(&at, name);
    p->desc = rec_str(&at, desc);
    p->fn = fn;
    for (char *a = rec_str(&at, args); *a;) { /* the names are cut out of the record's copy */
        while (*a == ' ' || *a == ',') a++;
        if (!*a) break;
        char *b = a;
        while (*a && *a != ' ' && *a != ',' && *a != '?') a++;
        GROW(p->args, p->nargs);
        p->args[p->nargs].name = b;
        p->args[p->nargs].required = *a != '?';
        if (*a) *a++ = 0;
        p->nargs++;
    }
    pthread_mutex_lock(&s->lock);
    GROW(s->prompts, s->nprompts);
    s->prompts[s->nprompts++] = p;
    pthread_mutex_unlock(&s->lock);
    list_changed(s, "prompts");
    return p;
}

/* Removal: the entry leaves the list but is never freed, since a call or task may still
 * hold it. Returns 0, or -1 when nothing has that name. */
static int list_remove(mcp_server *s, void **items, int *n, size_t name_at, const char *name, const char *kind) {
    int i, found = 0;
    pthread_mutex_lock(&s->lock);
    for (i = 0; name && i < *n; i++) {
        const char *nm = *(const char *const *)((const char *)items[i] + name_at);
        if (!strcmp(nm, name)) { memmove(items + i, items + i + 1, (size_t)(*n - i - 1) * sizeof *items); (*n)--; found = 1; break; }
    }
    pthread_mutex_unlock(&s->lock);
    if (found) list_changed(s, kind);
    return found ? 0 : -1;
}
int mcp_tool_remove(mcp_server *s, const char *name) {
    return list_remove(s, (void **)s->tools, &s->ntools, offsetof(mcp_tool_def, name), name, "tools");
}
int mcp_resource_remove(mcp_server *s, const char *uri) {
    return list_remove(s, (void **)s->res, &s->nres, offsetof(mcp_resource_def, uri), uri, "resources");
}
int mcp_prompt_remove(mcp_server *s, const char *name) {
    return list_remove(s, (void **)s->prompts, &s->nprompts, offsetof(mcp_prompt_def, name), name, "prompts");
}
void mcp_prompt_title(mcp_prompt_def *p, const char *v) { free(p->title); p->title = xstrdup(v); }

/* Space-separated words as a JSON array of strings. */
static void jw_words(jw *w, const char *words) {
    jw_arr(w);
    for (const char *p = words; *p;) {
        while (*p == ' ') p++;
        const char *e = p;
        while (*e && *e != ' ') e++;
        if (e > p) jw_strn(w, p, (size_t)(e - p));
        p = e;
    }
    jw_end_arr(w);
}

static void decor_icon(decor *d, const char *what, const char *src, const char *mime, const char *sizes) {
    if (!src || !*src) die("%s: an icon needs a src (an https: or data: URL)", what);
    buf b = {0};
    jw w = {&b, 0};
    if (d->icons) { buf_puts(&b, d->icons); b.len--; w.comma = 1; } /* reopen the array */
    else jw_arr(&w);
    jw_obj(&w);
    jw_key(&w, "src"); jw_str(&w, src);
    if (mime && *mime) { jw_key(&w, "mimeType"); jw_str(&w, mime); }
    if (sizes && *sizes) { jw_key(&w, "sizes"); jw_words(&w, sizes); }
    jw_end_obj(&w);
    jw_end_arr(&w);
    if (b.oom) die("out of memory");
    free(d->icons);
    d->icons = b.p;
}

static void decor_meta(decor *d, const char *what, const char *json) {
    mcp_json_err e;
    mcp_json_doc *doc = json ? mcp_json_parse(json, strlen(json), 0, &e) : NULL;
    const mcp_json *o = mcp_json_root(doc);
    if (MCP_JSON_TYPE(o) != MCP_JSON_OBJECT) die("%s: _meta must be a JSON object", what);
    buf b = {0};
    if (d->meta) buf_puts(&b, d->meta);
    mcp_json_iter it = mcp_json_iterate(o);
    const mcp_json *k, *v;
    while ((v = mcp_json_iter_next(&it, &k))) {
        if (b.len) buf_putc(&b, ',');
        json_escape(&b, k->s, k->len);
        buf_putc(&b, ':');
        json_write_value(&b, v);
    }
    mcp_json_free(doc);
    if (b.oom) die("out of memory");
    free(d->meta);
    d->meta = b.p;
}

/* icons and _meta of a listed item, in the eras that have them */
static void decor_write(jw *w, const decor *d, int era) {
    if (d->icons && era >= ERA_2025_11_25) { jw_key(w, "icons"); jw_raw(w, d->icons, strlen(d->icons)); }
    if (d->meta) { jw_key(w, "_meta"); jw_sep(w); buf_putc(w->b, '{'); buf_puts(w->b, d->meta); buf_putc(w->b, '}'); }
}

void mcp_server_icon(mcp_server *s, const char *src, const char *mime, const char *sizes) { decor_icon(&s->d, "mcp_server_icon", src, mime, sizes); }
void mcp_tool_icon(mcp_tool_def *t, const char *src, const char *mime, const char *sizes) { decor_icon(&t->d, "mcp_tool_icon", src, mime, sizes); }
void mcp_resource_icon(mcp_resource_def *r, const char *src, const char *mime, const char *sizes) { decor_icon(&r->d, "mcp_resource_icon", src, mime, sizes); }
void mcp_prompt_icon(mcp_prompt_def *p, const char *src, const char *mime, const char *sizes) { decor_icon(&p->d, "mcp_prompt_icon", src, mime, sizes); }
void mcp_tool_meta(mcp_tool_def *t, const char *json) { decor_meta(&t->d, "mcp_tool_meta", json); }
void mcp_resource_meta(mcp_resource_def *r, const char *json) { decor_meta(&r->d, "mcp_resource_meta", json); }
void mcp_prompt_meta(mcp_prompt_def *p, const char *json) { decor_meta(&p->d, "mcp_prompt_meta", json); }

/* MCP Apps (io.modelcontextprotocol/ui): an HTML view as a ui:// resource, and a tool that
 * names it in _meta.ui.resourceUri, so a host renders the view beside the tool's result. */
#define MCP_APP_MIME "text/html;profile=mcp-app"
mcp_resource_def *mcp_app(mcp_server *s, const char *uri, const char *name, const char *description, mcp_handler fn) {
    if (!uri || strncmp(uri, "ui://", 5)) die("mcp_app: the URI of an app's view starts with ui://");
    s->apps = 1;
    return resource_new(s, uri, name, description, MCP_APP_MIME, fn, 0);
}
void mcp_tool_app(mcp_tool_def *t, const char *uri, const char *visibility) {
    if (!uri || strncmp(uri, "ui://", 5)) die("mcp_tool_app: the URI of an app's view starts with ui://");
    buf b = {0};
    jw w = {&b, 0};
    jw_obj(&w);
    jw_key(&w, "ui"); jw_obj(&w);
    jw_key(&w, "resourceUri"); jw_str(&w, uri);
    if (visibility && *visibility) { jw_key(&w, "visibility"); jw_words(&w, visibility); } /* "model", "app", "model app" */
    jw_end_obj(&w);
    jw_key(&w, "ui/resourceUri"); jw_str(&w, uri); /* the flat key hosts read before _meta.ui */
    jw_end_obj(&w);
    if (b.oom) die("out of memory");
    decor_meta(&t->d, "mcp_tool_app", b.p);
    buf_free(&b);
}
void mcp_prompt_data(mcp_prompt_def *p, void *d) { p->data = d; }

void mcp_completion(mcp_server *s, const char *kind, const char *name, mcp_handler fn) {
    if (!kind || !name || !fn) die("mcp_completion: kind, name and handler are required");
    GROW(s->comps, s->ncomps);
    completer *c = &s->comps[s->ncomps++];
    c->kind = xstrdup(kind);
    c->name = xstrdup(name);
    c->fn = fn;
}

/* Parse a tool's schemas the first time they are needed. Returns an error message or NULL. */
static pthread_mutex_t prepare_lock = PTHREAD_MUTEX_INITIALIZER;
static const char *tool_prepare_locked(mcp_tool_def *t);

static const char *tool_prepare(mcp_tool_def *t) {
    pthread_mutex_lock(&prepare_lock);
    const char *e = tool_prepare_locked(t);
    pthread_mutex_unlock(&prepare_lock);
    return e;
}

static const char *tool_prepare_locked(mcp_tool_def *t) {
    if (t->schema) return NULL;
    buf b = {0};
    const char *src = t->schema_src;
    while (*src == ' ' || *src == '\n' || *src == '\t') src++;
    if (*src == '{') buf_puts(&b, t->schema_src);
    else if (!schema_expand(src, &b)) { buf_free(&b); return "the compact input schema has an unknown type"; }
    mcp_json_err e;
    t->in_doc = mcp_json_parse(b.p, b.len, 0, &e);
    if (!t->in_doc || MCP_JSON_TYPE(mcp_json_root(t->in_doc)) != MCP_JSON_OBJECT) {
        buf_free(&b);
        mcp_json_free(t->in_doc);
        t->in_doc = NULL;
        return "the input schema is not a JSON object";
    }
    if (t->out_src) {
        t->out_doc = mcp_json_parse(t->out_src, strlen(t->out_src), 0, &e);
        if (!t->out_doc || MCP_JSON_TYPE(mcp_json_root(t->out_doc)) != MCP_JSON_OBJECT) {
            buf_free(&b);
            mcp_json_free(t->in_doc);
            mcp_json_free(t->out_doc);
            t->in_doc = t->out_doc = NULL;
            return "the output schema is not a JSON object";
        }
    }
    for (int i = 0; i < 2; i++) { /* keywords this validator would misread: refused, with the path */
        const mcp_json *sch = mcp_json_root(i ? t->out_doc : t->in_doc);
        buf le = {0};
        if (!sch || schema_lint(sch, &le)) { buf_free(&le); continue; }
        t->lint_msg.len = 0;
        buf_printf(&t->lint_msg, "the %s schema is not valid: %s", i ? "output" : "input", le.p ? le.p : "");
        buf_free(&le);
        buf_free(&b);
        mcp_json_free(t->in_doc);
        mcp_json_free(t->out_doc);
        t->in_doc = t->out_doc = NULL;
        return t->lint_msg.p ? t->lint_msg.p : "the schema is not valid";
    }
    if (t->annotations) {
        mcp_json_doc *d = mcp_json_parse(t->annotations, strlen(t->annotations), 0, &e);
        int ok = d && MCP_JSON_TYPE(mcp_json_root(d)) == MCP_JSON_OBJECT;
        mcp_json_free(d);
        if (!ok) { buf_free(&b); mcp_json_free(t->in_doc); mcp_json_free(t->out_doc);
                   t->in_doc = t->out_doc = NULL; return "the annotations are not a JSON object"; }
    }
    t->schema = b.p;
    return NULL;
}

/* Check every tool's schemas now (serve and stdio do this at start; Lambda does not). */
static int server_check(mcp_server *s) {
    int ok = 1;
    for (int i = 0; i < s->ntools; i++) {
        const char *e = tool_prepare(s->tools[i]);
        if (e) { log_error("tool %s: %s", s->tools[i]->name, e); ok = 0; }
    }
    return ok;
}

/* One JSON-RPC request being served. The transport fills the sinks. */
/*=== MARK: - 15. Handler API (Public: mcp_call and what a handler calls) ===*/
/*
 * One request being served (rpc) and one handler's view of it (mcp_call): arguments in,
 * content, structured results, errors, logs and progress out.
 */

typedef struct rpc rpc;
/* A request that failed: its JSON-RPC error code, message and data (JSON text). */
typedef struct rpc_fail { int code; buf msg, data; } rpc_fail;
static void wd_serving(watchdog *w, const mcp_json *id);
struct rpc {
    mcp_server *s;
    req *r;                   /* the request context */
    const char *method;
    int era;
    session *sess;            /* NULL when stateless */
    sess_view *view;          /* the session as the transport saw it (NULL: none) */
    const mcp_json *id;       /* request id; NULL for notifications */
    const mcp_json *params;
    const mcp_json *meta;     /* params._meta */
    const mcp_json *caps;     /* client capabilities (this request's, or the session's) */
    int level;                /* logging threshold */
    /* Send a message (notification or request) to the client now; 0 on success. NULL when
     * the transport has no channel for it. */
    int (*emit)(rpc *x, const char *json, size_t n);
    /* Send request id (JSON text json) to the client and wait for its response; returns
     * the response as malloc'ed JSON, or NULL. NULL when the transport cannot ask. */
    char *(*ask)(rpc *x, const char *id, const char *json, size_t n);
    void *tx;                 /* the transport's state */
    int typed;                /* resultType written */
    mcp_tool_def *tool;           /* tools/call: the tool, and whether its result was an error */
    int tool_error;
    struct task *task;            /* the task this call runs as (section 19), or NULL */
};

enum { CALL_TOOL, CALL_RESOURCE, CALL_PROMPT, CALL_COMPLETE };

struct mcp_call {
    rpc *x;
    int kind;
    const char *name;
    void *data;
    const mcp_json *args;
    mcp_json_doc *args_doc;   /* template variables, built for the call */
    buf content;              /* comma-separated content items (or messages, contents) */
    int ncontent;
    int is_error;
    char *structured;         /* structuredContent, JSON text */
    char *meta;               /* the result's _meta, JSON text (mcp_result_meta) */
    const char *item_meta;    /* resources: each content item's _meta members (mcp_resource_meta) */
    int fail_code;
    buf fail_msg;
    const char *role;
    const char *mime;         /* resources: the registered type */
    const char *comp_arg, *comp_value;
    int ncomp, comp_more, comp_total;
    /* 2026-07-28 multi-round-trip: answers sent back, and requests still open */
    const mcp_json *input_responses;
    buf input_requests;       /* "key":{request},... */
    int ninput;
    int nasked;               /* mcp_elicit/mcp_sample calls so far, for stable keys */
    mcp_json_doc *answers[8]; /* the client's answers over a back channel */
    int nanswers;
    const char *state;        /* verified requestState payload */
    char *new_state;          /* signed state for the next round */
    char *raw_state;          /* the same, as the handler set it */
    buf fail_data;            /* error.data, JSON text */
    struct task *task;        /* the task mcp_task made of this call */
    uint64_t task_checked;    /* when mcp_task_cancelled last looked */
};

static const mcp_json *empty_object(void) {
    static const mcp_json v = {MCP_JSON_OBJECT, 0, NULL, {.next = 1}};
    return &v;
}

const mcp_json *mcp_args(mcp_call *c) { return c->args ? c->args : empty_object(); }
const mcp_json *mcp_arg(mcp_call *c, const char *n) { return mcp_json_get(c->args, n); }
int mcp_has(mcp_call *c, const char *n) { return mcp_json_get(c->args, n) != NULL; }
const char *mcp_str(mcp_call *c, const char *n) { return mcp_json_str(mcp_json_get(c->args, n)); }
double mcp_num(mcp_call *c, const char *n) { return mcp_json_num(mcp_json_get(c->args, n)); }
int64_t mcp_int(mcp_call *c, const char *n) {
    int64_t v = 0;
    const mcp_json *j = mcp_json_get(c->args, n);
    if (!mcp_json_int(j, &v) && MCP_JSON_TYPE(j) == MCP_JSON_NUMBER) { /* not an int64: truncated, clamped */
        double d = j->u.d;
        v = d != d ? 0 : d >= 9223372036854775807.0 ? INT64_MAX : d <= -9223372036854775808.0 ? INT64_MIN : (int64_t)d;
    }
    return v;
}
int mcp_bool(mcp_call *c, const char *n) { return mcp_json_bool(mcp_json_get(c->args, n)); }
void *mcp_data(mcp_call *c) { return c->data; }
const char *mcp_name(mcp_call *c) { return c->name; }
const char *mcp_protocol(mcp_call *c) { return era_names[c->x->era]; }
const char *mcp_complete_argument(mcp_call *c) { return c->comp_arg; }
const char *mcp_complete_value(mcp_call *c) { return c->comp_value ? c->comp_value : ""; }

int mcp_complete(mcp_call *c, const char *value) {
    if (c->kind != CALL_COMPLETE || !value) return -1;
    c->comp_total++;
    if (c->ncomp >= 100) { c->comp_more = 1; return 0; } /* the spec's cap per response */
    if (c->ncomp++) buf_putc(&c->content, ',');
    json_escape_lossy(&c->content, value, strlen(value));
    return 0;
}

int mcp_role(mcp_call *c, const char *role) {
    if (!role || (strcmp(role, "user") && strcmp(role, "assistant"))) return -1;
    c->role = strcmp(role, "user") ? "assistant" : "user";
    return 0;
}

/* Start one content item: prompts wrap each in a message with the current role. */
static void content_open(mcp_call *c, jw *w) {
    if (c->ncontent++) buf_putc(&c->content, ',');
    w->b = &c->content;
    w->comma = 0;
    if (c->kind == CALL_PROMPT) {
        jw_obj(w);
        jw_key(w, "role");
        jw_str(w, c->role ? c->role : "user");
        jw_key(w, "content");
    }
    jw_obj(w);
}
static void content_close(mcp_call *c, jw *w) {
    jw_end_obj(w);
    if (c->kind == CALL_PROMPT) jw_end_obj(w);
}

int mcp_textn(mcp_call *c, const char *text, size_t n) {
    jw w;
    if (c->kind == CALL_COMPLETE) return -1;
    if (c->kind == CALL_RESOURCE) {
        if (c->ncontent++) buf_putc(&c->content, ',');
        w.b = &c->content; w.comma = 0;
        jw_obj(&w);
        jw_key(&w, "uri"); jw_str(&w, c->name);
        if (c->mime) { jw_key(&w, "mimeType"); jw_str(&w, c->mime); }
        jw_key(&w, "text"); jw_strn(&w, text, n);
        if (c->item_meta) { jw_key(&w, "_meta"); jw_sep(&w); buf_printf(w.b, "{%s}", c->item_meta); }
        jw_end_obj(&w);
        return 0;
    }
    content_open(c, &w);
    jw_key(&w, "type"); jw_str(&w, "text");
    jw_key(&w, "text"); jw_strn(&w, text, n);
    content_close(c, &w);
    return 0;
}

int mcp_text(mcp_call *c, const char *fmt, ...) {
    buf b = {0};
    va_list ap;
    va_start(ap, fmt);
    buf_vprintf(&b, fmt, ap);
    va_end(ap);
    int r = mcp_textn(c, b.p ? b.p : "", b.len);
    buf_free(&b);
    return r;
}

static int media(mcp_call *c, const char *type, const char *mime, const char *b64) {
    if (c->kind == CALL_COMPLETE || c->kind == CALL_RESOURCE) return -1;
    jw w;
    content_open(c, &w);
    jw_key(&w, "type"); jw_str(&w, type);
    jw_key(&w, "data"); jw_str(&w, b64 ? b64 : "");
    jw_key(&w, "mimeType"); jw_str(&w, mime ? mime : "application/octet-stream");
    content_close(c, &w);
    return 0;
}
int mcp_image(mcp_call *c, const char *mime, const char *b64) { return media(c, "image", mime, b64); }
int mcp_audio(mcp_call *c, const char *mime, const char *b64) { return media(c, "audio", mime, b64); }

int mcp_blob(mcp_call *c, const char *b64) {
    if (c->kind != CALL_RESOURCE) return -1;
    jw w = {&c->content, 0};
    if (c->ncontent++) buf_putc(&c->content, ',');
    jw_obj(&w);
    jw_key(&w, "uri"); jw_str(&w, c->name);
    if (c->mime) { jw_key(&w, "mimeType"); jw_str(&w, c->mime); }
    jw_key(&w, "blob"); jw_str(&w, b64 ? b64 : "");
    if (c->item_meta) { jw_key(&w, "_meta"); jw_sep(&w); buf_printf(w.b, "{%s}", c->item_meta); }
    jw_end_obj(&w);
    return 0;
}

static int embed(mcp_call *c, const char *uri, const char *mime, const char *field, const char *v) {
    if (c->kind == CALL_COMPLETE || c->kind == CALL_RESOURCE || !uri) return -1;
    jw w;
    content_open(c, &w);
    jw_key(&w, "type"); jw_str(&w, "resource");
    jw_key(&w, "resource");
    jw_obj(&w);
    jw_key(&w, "uri"); jw_str(&w, uri);
    if (mime) { jw_key(&w, "mimeType"); jw_str(&w, mime); }
    jw_key(&w, field); jw_str(&w, v ? v : "");
    jw_end_obj(&w);
    content_close(c, &w);
    return 0;
}
int mcp_embed_text(mcp_call *c, const char *uri, const char *mime, const char *text) {
    return embed(c, uri, mime, "text", text);
}
int mcp_embed_blob(mcp_call *c, const char *uri, const char *mime, const char *b64) {
    return embed(c, uri, mime, "blob", b64);
}

int mcp_link(mcp_call *c, const char *uri, const char *name, const char *desc, const char *mime) {
    if (c->kind == CALL_COMPLETE || c->kind == CALL_RESOURCE || !uri) return -1;
    jw w;
    content_open(c, &w);
    jw_key(&w, "type"); jw_str(&w, "resource_link");
    jw_key(&w, "uri"); jw_str(&w, uri);
    jw_key(&w, "name"); jw_str(&w, name ? name : uri);
    if (desc) { jw_key(&w, "description"); jw_str(&w, desc); }
    if (mime) { jw_key(&w, "mimeType"); jw_str(&w, mime); }
    content_close(c, &w);
    return 0;
}

int mcp_result_meta(mcp_call *c, const char *json) {
    mcp_json_err e;
    mcp_json_doc *d = json ? mcp_json_parse(json, strlen(json), 0, &e) : NULL;
    int ok = MCP_JSON_TYPE(mcp_json_root(d)) == MCP_JSON_OBJECT;
    mcp_json_free(d);
    if (!ok || c->kind == CALL_COMPLETE) return -1;
    free(c->meta);
    c->meta = xstrdup(json);
    return 0;
}

int mcp_structured(mcp_call *c, const char *json) {
    if (c->kind != CALL_TOOL || !json) return -1;
    mcp_json_err e;
    mcp_json_doc *d = mcp_json_parse(json, strlen(json), 0, &e);
    int ok = d && MCP_JSON_TYPE(mcp_json_root(d)) == MCP_JSON_OBJECT;
    mcp_json_free(d);
    if (!ok) return mcp_fail(c, RPC_INTERNAL, "tool %s: structured content is not a JSON object", c->name);
    free(c->structured);
    c->structured = xstrdup(json);
    return 0;
}

int mcp_error(mcp_call *c, const char *fmt, ...) {
    buf b = {0};
    va_list ap;
    va_start(ap, fmt);
    buf_vprintf(&b, fmt, ap);
    va_end(ap);
    c->is_error = 1;
    if (c->kind == CALL_TOOL) mcp_textn(c, b.p ? b.p : "", b.len);
    else { c->fail_code = RPC_INTERNAL; c->fail_msg.len = 0; buf_put(&c->fail_msg, b.p, b.len); }
    buf_free(&b);
    return 0;
}

int mcp_fail(mcp_call *c, int code, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    c->fail_code = code ? code : RPC_INTERNAL;
    c->fail_msg.len = 0;
    buf_vprintf(&c->fail_msg, fmt, ap);
    va_end(ap);
    return -1;
}

/* Send a notification to the client, if the transport can. */
static int rpc_notify(rpc *x, const char *method, buf *params) {
    if (!x->emit) return -1;
    buf b = {0};
    buf_puts(&b, "{\"jsonrpc\":\"2.0\",\"method\":");
    json_escape(&b, method, strlen(method));
    buf_puts(&b, ",\"params\":");
    buf_put(&b, params->p, params->len);
    buf_putc(&b, '}');
    int r = b.oom ? -1 : x->emit(x, b.p, b.len);
    buf_free(&b);
    return r;
}

int mcp_log(mcp_call *c, const char *level, const char *fmt, ...) {
    int lv = level_find(level);
    if (lv < 0) lv = 1;
    if (lv < c->x->level) return 0;
    buf p = {0}, msg = {0};
    va_list ap;
    va_start(ap, fmt);
    buf_vprintf(&msg, fmt, ap);
    va_end(ap);
    jw w = {&p, 0};
    jw_obj(&w);
    jw_key(&w, "level"); jw_str(&w, log_levels[lv]);
    jw_key(&w, "logger"); jw_str(&w, c->name ? c->name : c->x->s->name);
    jw_key(&w, "data"); jw_strn(&w, msg.p ? msg.p : "", msg.len);
    jw_end_obj(&w);
    int r = rpc_notify(c->x, "notifications/message", &p);
    buf_free(&p);
    buf_free(&msg);
    return r;
}

int mcp_progress(mcp_call *c, double progress, double total, const char *message) {
    const mcp_json *tok = mcp_json_get(c->x->meta, "progressToken");
    mcp_json_type t = MCP_JSON_TYPE(tok);
    if (t != MCP_JSON_STRING && t != MCP_JSON_NUMBER) return 0;
    buf p = {0};
    jw w = {&p, 0};
    jw_obj(&w);
    jw_key(&w, "progressToken"); jw_value(&w, tok);
    jw_key(&w, "progress"); jw_num(&w, progress);
    if (total > 0) { jw_key(&w, "total"); jw_num(&w, total); }
    if (message) { jw_key(&w, "message"); jw_str(&w, message); }
    jw_end_obj(&w);
    int r = rpc_notify(c->x, "notifications/progress", &p);
    buf_free(&p);
    return r;
}

int mcp_client_can(mcp_call *c, const char *cap) {
    return mcp_json_get(c->x->caps, cap) != NULL;
}

/* Match uri against a template with {var} parts; on success the variables, percent-decoded,
 * are returned as a JSON object (malloc'ed doc). A variable matches one or more characters
 * other than '/' (RFC 6570 simple expansion; the {+var} and {/var} operators are not
 * supported). */
static int template_match(const char *tmpl, const char *uri, mcp_json_doc **vars) {
    buf b = {0};
    jw w = {&b, 0};
    jw_obj(&w);
    const char *t = tmpl, *u = uri;
    while (*t) {
        if (*t == '{') {
            const char *close = strchr(t, '}');
            if (!close) break;
            const char *vs = u;
            /* the variable ends where the template's next literal character appears */
            char stop = close[1];
            while (*u && *u != '/' && *u != stop) u++;
            if (u == vs) { buf_free(&b); return 0; }
            if (w.comma) buf_putc(&b, ',');
            json_escape(&b, t + 1, (size_t)(close - t - 1));
            buf_putc(&b, ':');
            w.comma = 0;
            char *val = memcpy(xmalloc((size_t)(u - vs) + 1), vs, (size_t)(u - vs)); /* %XX decoded */
            jw_strn(&w, val, uri_decode(val, (size_t)(u - vs)));
            free(val);
            t = close + 1;
        } else if (*t++ != *u++) { buf_free(&b); return 0; }
    }
    if (*u || *t) { buf_free(&b); return 0; }
    jw_end_obj(&w);
    mcp_json_err e;
    *vars = mcp_json_parse(b.p, b.len, 0, &e);
    buf_free(&b);
    return *vars != NULL;
}

static void state_verify(mcp_call *c, const mcp_json *st);
static int call_input_required(rpc *x, jw *w, mcp_call *c);

static void call_init(mcp_call *c, rpc *x, int kind, const char *name, void *data) {
    memset(c, 0, sizeof *c);
    c->x = x;
    c->kind = kind;
    c->name = name;
    c->data = data;
    if (x->era < ERA_2026_07_28) return;
    const mcp_json *ir = mcp_json_get(x->params, "inputResponses");
    if (ir && MCP_JSON_TYPE(ir) != MCP_JSON_OBJECT) {
        mcp_fail(c, RPC_BAD_PARAMS, "Invalid params: inputResponses must be an object");
        return;
    }
    c->input_responses = ir;
    state_verify(c, mcp_json_get(x->params, "requestState"));
}
static void task_clear(struct task *t);
static void call_free(mcp_call *c) {
    if (c->task) { task_clear(c->task); free(c->task); }
    free(c->raw_state);
    buf_free(&c->content);
    buf_free(&c->fail_msg);
    buf_free(&c->input_requests);
    free(c->structured);
    free(c->meta);
    mcp_json_free(c->args_doc);
    for (int i = 0; i < c->nanswers; i++) mcp_json_free(c->answers[i]);
    free(c->new_state);
    buf_free(&c->fail_data);
}

/* Results in the 2026-07-28 era say what kind they are, and how long they may be cached. */
static void result_type(rpc *x, jw *w, const char *type) {
    if (x->era >= ERA_2026_07_28 && !x->typed) { jw_key(w, "resultType"); jw_str(w, type); }
    x->typed = 1;
}

static void result_cache(rpc *x, jw *w) {
    if (x->era < ERA_2026_07_28) return;
    jw_key(w, "ttlMs"); jw_int(w, 0);
    jw_key(w, "cacheScope"); jw_str(w, "private");
}

/*=== MARK: - 16. Client requests and state (Public: mcp_elicit, mcp_sample, mcp_roots, mcp_state) ===*/
/*
 * Asking the client during a call: over the stream and waiting (eras before 2026-07-28), or
 * by ending the round with input_required and a signed requestState (2026-07-28).
 */

#define META_VERSION "io.modelcontextprotocol/protocolVersion"
#define META_CAPS "io.modelcontextprotocol/clientCapabilities"

/* requestState: base64url(payload) "." hex(HMAC-SHA256(key, payload)). */
static unsigned char state_key[32];
static int state_key_set;
static pthread_mutex_t state_key_lock = PTHREAD_MUTEX_INITIALIZER;

static void state_mac(const char *payload, size_t n, char hex[65]) {
    pthread_mutex_lock(&state_key_lock);
    if (!state_key_set) {
        const char *k = getenv("MCP_STATE_KEY");
        if (k && *k) hmac_sha256("mcp.c state", 11, k, strlen(k), state_key);
        else {
            char r[65];
            random_hex(r, 32);
            memcpy(state_key, r, 32);
        }
        state_key_set = 1;
    }
    pthread_mutex_unlock(&state_key_lock);
    unsigned char mac[32];
    hmac_sha256(state_key, sizeof state_key, payload, n, mac);
    for (int i = 0; i < 32; i++) { hex[2 * i] = hexdig[mac[i] >> 4]; hex[2 * i + 1] = hexdig[mac[i] & 15]; }
    hex[64] = 0;
}

int mcp_set_state(mcp_call *c, const char *state) {
    if (!state) return -1;
    size_t n = strlen(state);
    buf b = {0};
    base64_put(&b, (const unsigned char *)state, n);
    for (size_t i = 0; i < b.len; i++) b.p[i] = b.p[i] == '+' ? '-' : b.p[i] == '/' ? '_' : b.p[i];
    while (b.len && b.p[b.len - 1] == '=') b.p[--b.len] = 0;
    char hex[65];
    state_mac(state, n, hex);
    buf_putc(&b, '.');
    buf_puts(&b, hex);
    free(c->new_state);
    c->new_state = b.p;
    free(c->raw_state);
    c->raw_state = xstrdup(state);
    return 0;
}

const char *mcp_state(mcp_call *c) { return c->state; }

/* Verify the requestState a client sent back; sets c->state or fails the call. */
static void state_verify(mcp_call *c, const mcp_json *st) {
    if (!st) return;
    const char *dot = MCP_JSON_TYPE(st) == MCP_JSON_STRING ? strrchr(st->s, '.') : NULL;
    if (dot && strlen(dot + 1) == 64) {
        size_t n = (size_t)(dot - st->s);
        char *payload = arena_alloc(&c->x->r->a, n + 4);
        long k = payload ? base64_decode(st->s, n, (unsigned char *)payload) : -1;
        if (k >= 0) {
            char hex[65];
            payload[k] = 0;
            state_mac(payload, (size_t)k, hex);
            unsigned diff = 0; /* constant time */
            for (int i = 0; i < 64; i++) diff |= (unsigned)(hex[i] ^ dot[1 + i]);
            if (!diff && strlen(payload) == (size_t)k) { c->state = payload; return; }
        }
    }
    mcp_fail(c, RPC_BAD_PARAMS, "Invalid params: requestState was altered or was not issued by this server");
}

int mcp_need(mcp_call *c, const char *cap) {
    if (mcp_json_get(c->x->caps, cap)) return 0;
    mcp_fail(c, MCP_E_MISSING_CAPABILITY, "Missing required client capability: %s", cap);
    c->fail_data.len = 0;
    buf_puts(&c->fail_data, "{\"requiredCapabilities\":{");
    json_escape(&c->fail_data, cap, strlen(cap));
    buf_puts(&c->fail_data, ":{}}}");
    return -1;
}

/* Is ans a well-formed answer to a request of this method? */
static int answer_ok(const char *method, const mcp_json *ans) {
    if (MCP_JSON_TYPE(ans) != MCP_JSON_OBJECT) return 0;
    if (!strcmp(method, "elicitation/create")) return mcp_json_str(mcp_json_get(ans, "action")) != NULL;
    if (!strcmp(method, "sampling/createMessage")) return MCP_JSON_TYPE(mcp_json_get(ans, "content")) == MCP_JSON_OBJECT ||
                                                          MCP_JSON_TYPE(mcp_json_get(ans, "content")) == MCP_JSON_ARRAY;
    if (!strcmp(method, "roots/list")) return MCP_JSON_TYPE(mcp_json_get(ans, "roots")) == MCP_JSON_ARRAY;
    return 1;
}

/* Ask the client (elicitation, sampling, roots). See mcp.h for the two ways this goes. */
static const mcp_json *ask_client(mcp_call *c, const char *key, const char *method, buf *params,
                                  const char *capability) {
    rpc *x = c->x;
    char auto_key[48];
    if (!key) { snprintf(auto_key, sizeof auto_key, "%s-%d", capability, c->nasked + 1); key = auto_key; }
    c->nasked++;
    if (!mcp_json_get(x->caps, capability)) return NULL; /* never ask what the client cannot answer */
    if (x->era >= ERA_2026_07_28) {
        if (c->kind == CALL_COMPLETE) return NULL;
        const mcp_json *ans = mcp_json_get(c->input_responses, key);
        if (ans && answer_ok(method, ans)) return ans;
        if (c->ninput++) buf_putc(&c->input_requests, ',');
        json_escape(&c->input_requests, key, strlen(key));
        buf_puts(&c->input_requests, ":{\"method\":");
        json_escape(&c->input_requests, method, strlen(method));
        buf_puts(&c->input_requests, ",\"params\":");
        buf_put(&c->input_requests, params->p, params->len);
        buf_putc(&c->input_requests, '}');
        return NULL;
    }
    if (!x->ask) return NULL;
    char id[48];
    pthread_mutex_lock(&x->s->lock);
    unsigned long long seq = ++x->s->seq;
    pthread_mutex_unlock(&x->s->lock);
    snprintf(id, sizeof id, "s%llu", seq);
    buf b = {0};
    buf_printf(&b, "{\"jsonrpc\":\"2.0\",\"id\":\"%s\",\"method\":", id);
    json_escape(&b, method, strlen(method));
    buf_puts(&b, ",\"params\":");
    buf_put(&b, params->p, params->len);
    buf_putc(&b, '}');
    char *ans = b.oom ? NULL : x->ask(x, id, b.p, b.len);
    buf_free(&b);
    if (!ans) return NULL;
    mcp_json_err e;
    mcp_json_doc *d = mcp_json_parse(ans, strlen(ans), 0, &e);
    free(ans);
    const mcp_json *res = mcp_json_get(mcp_json_root(d), "result");
    if (!res || c->nanswers == (int)COUNT(c->answers)) { mcp_json_free(d); return NULL; }
    c->answers[c->nanswers++] = d; /* kept until the call ends */
    return res;
}

const mcp_json *mcp_elicit(mcp_call *c, const char *key, const char *message, const char *schema) {
    buf p = {0};
    jw w = {&p, 0};
    jw_obj(&w);
    if (c->x->era >= ERA_2025_11_25) { jw_key(&w, "mode"); jw_str(&w, "form"); }
    jw_key(&w, "message"); jw_str(&w, message ? message : "");
    jw_key(&w, "requestedSchema");
    if (schema && *schema == '{') jw_raw(&w, schema, strlen(schema));
    else {
        buf e = {0};
        if (!schema_expand(schema ? schema : "", &e)) { buf_free(&e); buf_free(&p); return NULL; }
        jw_raw(&w, e.p, e.len);
        buf_free(&e);
    }
    jw_end_obj(&w);
    const mcp_json *r = ask_client(c, key, "elicitation/create", &p, "elicitation");
    buf_free(&p);
    return r;
}

const mcp_json *mcp_sample(mcp_call *c, const char *key, const char *params_json) {
    buf p = {0};
    buf_puts(&p, params_json ? params_json : "{}");
    const mcp_json *r = ask_client(c, key, "sampling/createMessage", &p, "sampling");
    buf_free(&p);
    return r;
}

const mcp_json *mcp_roots(mcp_call *c, const char *key) {
    buf p = {0};
    buf_puts(&p, "{}");
    const mcp_json *r = ask_client(c, key, "roots/list", &p, "roots");
    buf_free(&p);
    return r;
}

/* A handler that asked the client something in the 2026-07-28 era: answer input_required.
 * Returns 1 when it did. */
static int call_input_required(rpc *x, jw *w, mcp_call *c) {
    if (!c->ninput || x->era < ERA_2026_07_28) return 0;
    jw_key(w, "inputRequests");
    jw_obj(w);
    buf_put(w->b, c->input_requests.p, c->input_requests.len);
    jw_end_obj(w);
    if (c->new_state) { jw_key(w, "requestState"); jw_str(w, c->new_state); }
    result_type(x, w, "input_required");
    return 1;
}

static void fail_from_call(rpc_fail *f, mcp_call *c) {
    f->code = c->fail_code ? c->fail_code : RPC_INTERNAL;
    f->msg.len = 0;
    buf_put(&f->msg, c->fail_msg.p, c->fail_msg.len);
    if (!f->msg.len) buf_printf(&f->msg, "%s failed", c->name ? c->name : "the request");
    f->data.len = 0;
    buf_put(&f->data, c->fail_data.p, c->fail_data.len);
}

/*=== MARK: - 17. MCP methods (Private) ===*/
/* One function per method; each writes the members of its result, or fills rpc_fail. */

static int auth_tool_scopes(const mcp_tool_def *t, auth_ctx *a, rpc_fail *f);

/* Write the error member of a response; data is JSON text or NULL. */
static void rpc_error_body(jw *w, int code, const char *msg, const buf *data) {
    jw_key(w, "error");
    jw_obj(w);
    jw_key(w, "code"); jw_int(w, code);
    jw_key(w, "message"); jw_str(w, msg);
    if (data && data->len) { jw_key(w, "data"); jw_raw(w, data->p, data->len); }
    jw_end_obj(w);
}

static void rpc_head(jw *w, const mcp_json *id) {
    jw_obj(w);
    jw_key(w, "jsonrpc"); jw_str(w, "2.0");
    jw_key(w, "id");
    if (id) jw_value(w, id); else jw_null(w);
}

static void rpc_error(buf *out, const mcp_json *id, int code, const char *msg) {
    jw w = {out, 0};
    rpc_head(&w, id);
    rpc_error_body(&w, code, msg, NULL);
    jw_end_obj(&w);
}

static int stdio_emit(rpc *x, const char *json, size_t n);

static int tasks_available(mcp_server *s);
static void server_caps(rpc *x, jw *w) {
    mcp_server *s = x->s;
    jw_obj(w);
    /* Resource subscriptions and list changes are announced over stdio, the one transport
     * with a channel to the client between requests (mcp_resource_updated, mcp_tool_add or
     * mcp_tool_remove after start-up, ...); they are offered nowhere else. */
    int legacy = x->era < ERA_2026_07_28, subscribe = x->emit == stdio_emit;
    if (s->ntools) { jw_key(w, "tools"); jw_obj(w); if (legacy) { jw_key(w, "listChanged"); jw_bool(w, subscribe); } jw_end_obj(w); }
    if (s->nres) {
        jw_key(w, "resources"); jw_obj(w);
        if (legacy) { jw_key(w, "subscribe"); jw_bool(w, subscribe); jw_key(w, "listChanged"); jw_bool(w, subscribe); }
        jw_end_obj(w);
    }
    if (s->nprompts) { jw_key(w, "prompts"); jw_obj(w); if (legacy) { jw_key(w, "listChanged"); jw_bool(w, subscribe); } jw_end_obj(w); }
    if (s->ncomps && x->era >= ERA_2025_03_26) { jw_key(w, "completions"); jw_obj(w); jw_end_obj(w); }
    jw_key(w, "logging"); jw_obj(w); jw_end_obj(w);
    int tasks = tasks_available(s);
    if (tasks && x->era == ERA_2025_11_25) { /* tasks as 2025-11-25 defines them */
        jw_key(w, "tasks"); jw_obj(w);
        jw_key(w, "list"); jw_obj(w); jw_end_obj(w);
        jw_key(w, "cancel"); jw_obj(w); jw_end_obj(w);
        jw_key(w, "requests"); jw_obj(w);
        jw_key(w, "tools"); jw_obj(w); jw_key(w, "call"); jw_obj(w); jw_end_obj(w); jw_end_obj(w);
        jw_end_obj(w);
        jw_end_obj(w);
    }
    tasks = tasks && x->era >= ERA_2026_07_28;
    if (s->apps || tasks) { /* extensions: MCP Apps (SEP-1865), tasks (SEP-2663) */
        jw_key(w, "extensions"); jw_obj(w);
        if (s->apps) { jw_key(w, "io.modelcontextprotocol/ui"); jw_obj(w); jw_end_obj(w); }
        if (tasks) { jw_key(w, "io.modelcontextprotocol/tasks"); jw_obj(w); jw_end_obj(w); }
        jw_end_obj(w);
    }
    jw_end_obj(w);
}

static void server_info(rpc *x, jw *w) {
    jw_key(w, "serverInfo");
    jw_obj(w);
    jw_key(w, "name"); jw_str(w, x->s->name);
    if (x->s->title && x->era >= ERA_2025_06_18) { jw_key(w, "title"); jw_str(w, x->s->title); }
    jw_key(w, "version"); jw_str(w, x->s->version);
    decor_write(w, &x->s->d, x->era);
    jw_end_obj(w);
    if (x->s->instructions) { jw_key(w, "instructions"); jw_str(w, x->s->instructions); }
}

static void m_tools_list(rpc *x, jw *w, rpc_fail *f) {
    mcp_server *s = x->s;
    int64_t start = 0;
    const mcp_json *cur = mcp_json_get(x->params, "cursor");
    if (cur) {
        const char *cs = mcp_json_str(cur);
        char *end = NULL;
        if (cs) start = strtoll(cs, &end, 10);
        if (!cs || !*cs || *end || start < 0 || start > s->ntools) {
            f->code = RPC_BAD_PARAMS;
            buf_puts(&f->msg, "Invalid params: unknown cursor");
            return;
        }
    }
    jw_key(w, "tools");
    jw_arr(w);
    int i, tasks_on = tasks_available(s);
    for (i = (int)start; i < s->ntools && i < start + MCP_PAGE_SIZE; i++) {
        mcp_tool_def *t = s->tools[i];
        const char *e = tool_prepare(t);
        if (e) { f->code = RPC_INTERNAL; buf_printf(&f->msg, "tool %s: %s", t->name, e); return; }
        jw_obj(w);
        jw_key(w, "name"); jw_str(w, t->name);
        if (t->title && x->era >= ERA_2025_06_18) { jw_key(w, "title"); jw_str(w, t->title); }
        if (t->desc) { jw_key(w, "description"); jw_str(w, t->desc); }
        jw_key(w, "inputSchema"); jw_raw(w, t->schema, strlen(t->schema));
        if (t->out_src && x->era >= ERA_2025_06_18) { jw_key(w, "outputSchema"); jw_raw(w, t->out_src, strlen(t->out_src)); }
        if (t->annotations && x->era >= ERA_2025_03_26) { jw_key(w, "annotations"); jw_raw(w, t->annotations, strlen(t->annotations)); }
        if (t->task_mode && x->era >= ERA_2025_11_25 && tasks_on) {
            jw_key(w, "execution"); jw_obj(w);
            jw_key(w, "taskSupport"); jw_str(w, t->task_mode & MCP_TASK_REQUIRED ? "required" : "optional");
            jw_end_obj(w);
        }
        decor_write(w, &t->d, x->era);
        jw_end_obj(w);
    }
    jw_end_arr(w);
    if (i < s->ntools) { char nc[24]; snprintf(nc, sizeof nc, "%d", i); jw_key(w, "nextCursor"); jw_str(w, nc); }
    result_cache(x, w);
}

static mcp_tool_def *tool_find(mcp_server *s, const char *name) {
    mcp_tool_def *t = NULL;
    pthread_mutex_lock(&s->lock); /* a task's thread looks up while a handler may add or remove */
    for (int i = 0; name && i < s->ntools && !t; i++) if (!strcmp(s->tools[i]->name, name)) t = s->tools[i];
    pthread_mutex_unlock(&s->lock);
    return t;
}

static void fail_uri(rpc_fail *f, const char *uri) {
    f->data.len = 0;
    buf_puts(&f->data, "{\"uri\":");
    json_escape_lossy(&f->data, uri, strlen(uri));
    buf_putc(&f->data, '}');
}

/* Take a failed call's error over. */
static void fail_from_call(rpc_fail *f, mcp_call *c);

/* Tasks (section 19): where tools/call goes when a task is wanted. */
typedef struct task task;
static int task_decide(rpc *x, mcp_tool_def *t, rpc_fail *f);
static void task_created(rpc *x, jw *w, const task *t);
static int task_begin(mcp_call *c, jw *w);

/* Run tool t's handler for call c. 0: c holds the result; 1: the handler asked the client
 * (2026-07-28: input required); 2: the handler made the call a task (c->task); -1: the
 * call failed (f). */
static int tool_exec(rpc *x, mcp_tool_def *t, mcp_call *c, rpc_fail *f) {
    const char *name = t->name;
    int r = t->fn(c);
    if (c->fail_code) { fail_from_call(f, c); return -1; }
    if (c->task) return 2;
    if (c->ninput && x->era >= ERA_2026_07_28) return 1;
    if (r && !c->ncontent) mcp_error(c, "tool %s failed", name);
    else if (r) c->is_error = 1;
    if (!c->is_error && t->out_doc) {
        if (!c->structured) {
            mcp_error(c, "tool %s declares an output schema but returned no structured content", name);
        } else {
            mcp_json_err e;
            mcp_json_doc *d = mcp_json_parse(c->structured, strlen(c->structured), 0, &e);
            buf oerr = {0};
            if (d && !schema_check(mcp_json_root(t->out_doc), mcp_json_root(d), &oerr)) {
                c->content.len = 0; c->ncontent = 0;
                mcp_error(c, "tool %s returned structured content that does not match its output schema: %s", name, oerr.p);
            }
            buf_free(&oerr);
            mcp_json_free(d);
        }
    }
    return 0;
}

/* The members of a CallToolResult. */
static void tool_result(rpc *x, jw *w, mcp_call *c) {
    jw_key(w, "content");
    jw_arr(w);
    if (c->ncontent) buf_put(w->b, c->content.p, c->content.len);
    else if (c->structured && !c->is_error) { /* older clients read content: mirror the JSON */
        jw_obj(w); jw_key(w, "type"); jw_str(w, "text"); jw_key(w, "text"); jw_str(w, c->structured); jw_end_obj(w);
    }
    jw_end_arr(w);
    if (c->structured && !c->is_error && x->era >= ERA_2025_06_18) {
        jw_key(w, "structuredContent");
        jw_raw(w, c->structured, strlen(c->structured));
    }
    if (c->is_error) { jw_key(w, "isError"); jw_bool(w, 1); }
    if (c->meta) { jw_key(w, "_meta"); jw_raw(w, c->meta, strlen(c->meta)); }
}

static void m_tools_call(rpc *x, jw *w, rpc_fail *f) {
    const char *name = mcp_json_str(mcp_json_get(x->params, "name"));
    if (!name) { f->code = RPC_BAD_PARAMS; buf_puts(&f->msg, "tools/call: params.name must be a string"); return; }
    mcp_tool_def *t = tool_find(x->s, name);
    if (!t) { f->code = RPC_BAD_PARAMS; buf_printf(&f->msg, "Unknown tool: %s", name); return; }
    x->tool = t;
    if (auth_tool_scopes(t, &x->r->auth, f)) return;
    const char *perr = tool_prepare(t);
    if (perr) { f->code = RPC_INTERNAL; buf_printf(&f->msg, "tool %s: %s", name, perr); return; }
    const mcp_json *args = mcp_json_get(x->params, "arguments");
    if (args && MCP_JSON_TYPE(args) != MCP_JSON_OBJECT) {
        f->code = RPC_BAD_PARAMS; buf_puts(&f->msg, "tools/call: params.arguments must be an object"); return;
    }
    int as_task = task_decide(x, t, f);
    if (as_task < 0) return;
    mcp_call c;
    call_init(&c, x, CALL_TOOL, t->name, t->data);
    c.args = args ? args : empty_object();
    if (c.fail_code) { fail_from_call(f, &c); call_free(&c); return; }
    buf verr = {0};
    if (!schema_check(mcp_json_root(t->in_doc), c.args, &verr)) {
        /* Before 2025-11-25 invalid arguments were a protocol error; since, a tool result
         * the model can read and correct. */
        if (x->era < ERA_2025_11_25) {
            f->code = RPC_BAD_PARAMS;
            buf_printf(&f->msg, "Invalid arguments for tool %s: %s", name, verr.p);
            buf_free(&verr);
            call_free(&c);
            return;
        }
        mcp_error(&c, "Invalid arguments for tool %s: %s", name, verr.p);
        buf_free(&verr);
    } else {
        buf_free(&verr);
        if (as_task) {
            if (task_begin(&c, w)) fail_from_call(f, &c);
            call_free(&c);
            return;
        }
        int k = tool_exec(x, t, &c, f);
        if (k == 2) task_created(x, w, c.task);
        if (k == 1) call_input_required(x, w, &c);
        if (k) { call_free(&c); return; }
    }
    tool_result(x, w, &c);
    x->tool_error = c.is_error;
    call_free(&c);
}

static void m_resources_list(rpc *x, jw *w, int templates) {
    jw_key(w, templates ? "resourceTemplates" : "resources");
    jw_arr(w);
    for (int i = 0; i < x->s->nres; i++) {
        mcp_resource_def *r = x->s->res[i];
        if (r->is_template != templates) continue;
        jw_obj(w);
        jw_key(w, templates ? "uriTemplate" : "uri"); jw_str(w, r->uri);
        jw_key(w, "name"); jw_str(w, r->name);
        if (r->title && x->era >= ERA_2025_06_18) { jw_key(w, "title"); jw_str(w, r->title); }
        if (r->desc) { jw_key(w, "description"); jw_str(w, r->desc); }
        if (r->mime) { jw_key(w, "mimeType"); jw_str(w, r->mime); }
        decor_write(w, &r->d, x->era);
        jw_end_obj(w);
    }
    jw_end_arr(w);
    result_cache(x, w);
}

static void m_resources_read(rpc *x, jw *w, rpc_fail *f) {
    const char *uri = mcp_json_str(mcp_json_get(x->params, "uri"));
    if (!uri) { f->code = RPC_BAD_PARAMS; buf_puts(&f->msg, "resources/read: params.uri must be a string"); return; }
    mcp_resource_def *r = NULL;
    mcp_json_doc *vars = NULL;
    for (int i = 0; i < x->s->nres && !r; i++)
        if (!x->s->res[i]->is_template && !strcmp(x->s->res[i]->uri, uri)) r = x->s->res[i];
    for (int i = 0; i < x->s->nres && !r; i++)
        if (x->s->res[i]->is_template && template_match(x->s->res[i]->uri, uri, &vars)) r = x->s->res[i];
    if (!r) {
        f->code = x->era >= ERA_2026_07_28 ? RPC_BAD_PARAMS : MCP_E_NO_RESOURCE;
        buf_printf(&f->msg, "Resource not found: %s", uri);
        fail_uri(f, uri);
        return;
    }
    mcp_call c;
    call_init(&c, x, CALL_RESOURCE, uri, r->data);
    c.mime = r->mime;
    c.item_meta = r->d.meta;
    c.args_doc = vars;
    c.args = vars ? mcp_json_root(vars) : empty_object();
    int rc = c.fail_code ? -1 : r->fn(&c);
    if (!c.fail_code && call_input_required(x, w, &c)) { call_free(&c); return; }
    if (c.fail_code || rc) {
        fail_from_call(f, &c);
        if (!c.fail_msg.len) { f->msg.len = 0; buf_printf(&f->msg, "reading %s failed", uri); }
        if (!f->data.len && (f->code == MCP_E_NO_RESOURCE || f->code == RPC_BAD_PARAMS)) fail_uri(f, uri);
        call_free(&c);
        return;
    }
    jw_key(w, "contents");
    jw_arr(w);
    buf_put(w->b, c.content.p, c.content.len);
    jw_end_arr(w);
    if (c.meta) { jw_key(w, "_meta"); jw_raw(w, c.meta, strlen(c.meta)); }
    result_cache(x, w);
    call_free(&c);
}

static void m_prompts_list(rpc *x, jw *w) {
    jw_key(w, "prompts");
    jw_arr(w);
    for (int i = 0; i < x->s->nprompts; i++) {
        mcp_prompt_def *p = x->s->prompts[i];
        jw_obj(w);
        jw_key(w, "name"); jw_str(w, p->name);
        if (p->title && x->era >= ERA_2025_06_18) { jw_key(w, "title"); jw_str(w, p->title); }
        if (p->desc) { jw_key(w, "description"); jw_str(w, p->desc); }
        jw_key(w, "arguments");
        jw_arr(w);
        for (int j = 0; j < p->nargs; j++) {
            jw_obj(w);
            jw_key(w, "name"); jw_str(w, p->args[j].name);
            jw_key(w, "required"); jw_bool(w, p->args[j].required);
            jw_end_obj(w);
        }
        jw_end_arr(w);
        decor_write(w, &p->d, x->era);
        jw_end_obj(w);
    }
    jw_end_arr(w);
    result_cache(x, w);
}

static void m_prompts_get(rpc *x, jw *w, rpc_fail *f) {
    const char *name = mcp_json_str(mcp_json_get(x->params, "name"));
    mcp_prompt_def *p = NULL;
    for (int i = 0; name && i < x->s->nprompts; i++) if (!strcmp(x->s->prompts[i]->name, name)) p = x->s->prompts[i];
    if (!p) { f->code = RPC_BAD_PARAMS; buf_printf(&f->msg, "Unknown prompt: %s", name ? name : "(no name)"); return; }
    const mcp_json *args = mcp_json_get(x->params, "arguments");
    if (args && MCP_JSON_TYPE(args) != MCP_JSON_OBJECT) { f->code = RPC_BAD_PARAMS; buf_puts(&f->msg, "prompts/get: params.arguments must be an object"); return; }
    for (int j = 0; j < p->nargs; j++) {
        const mcp_json *a = mcp_json_get(args, p->args[j].name);
        if (p->args[j].required && !a) {
            f->code = RPC_BAD_PARAMS;
            buf_printf(&f->msg, "prompt %s: missing required argument %s", name, p->args[j].name);
            return;
        }
        if (a && MCP_JSON_TYPE(a) != MCP_JSON_STRING) {
            f->code = RPC_BAD_PARAMS;
            buf_printf(&f->msg, "prompt %s: argument %s must be a string", name, p->args[j].name);
            return;
        }
    }
    mcp_call c;
    call_init(&c, x, CALL_PROMPT, p->name, p->data);
    c.args = args ? args : empty_object();
    int rc = c.fail_code ? -1 : p->fn(&c);
    if (!c.fail_code && call_input_required(x, w, &c)) { call_free(&c); return; }
    if (c.fail_code || (rc && !c.ncontent)) {
        fail_from_call(f, &c);
        call_free(&c);
        return;
    }
    if (p->desc) { jw_key(w, "description"); jw_str(w, p->desc); }
    jw_key(w, "messages");
    jw_arr(w);
    buf_put(w->b, c.content.p, c.content.len);
    jw_end_arr(w);
    if (c.meta) { jw_key(w, "_meta"); jw_raw(w, c.meta, strlen(c.meta)); }
    call_free(&c);
}

static void m_complete(rpc *x, jw *w, rpc_fail *f) {
    const mcp_json *ref = mcp_json_get(x->params, "ref");
    const char *type = mcp_json_str(mcp_json_get(ref, "type"));
    const char *name = mcp_json_str(mcp_json_get(ref, type && !strcmp(type, "ref/resource") ? "uri" : "name"));
    const mcp_json *arg = mcp_json_get(x->params, "argument");
    const char *an = mcp_json_str(mcp_json_get(arg, "name"));
    const char *av = mcp_json_str(mcp_json_get(arg, "value"));
    if (!type || !name || !an) {
        f->code = RPC_BAD_PARAMS;
        buf_puts(&f->msg, "completion/complete: params.ref (type and name or uri) and params.argument.name are required");
        return;
    }
    completer *cp = NULL;
    for (int i = 0; i < x->s->ncomps; i++)
        if (!strcmp(x->s->comps[i].kind, type) && !strcmp(x->s->comps[i].name, name)) cp = &x->s->comps[i];
    mcp_call c;
    call_init(&c, x, CALL_COMPLETE, name, NULL);
    c.comp_arg = an;
    c.comp_value = av;
    const mcp_json *ctx = mcp_json_get(mcp_json_get(x->params, "context"), "arguments");
    c.args = MCP_JSON_TYPE(ctx) == MCP_JSON_OBJECT ? ctx : empty_object();
    if (cp && cp->fn(&c) && c.fail_code) {
        fail_from_call(f, &c);
        call_free(&c);
        return;
    }
    jw_key(w, "completion");
    jw_obj(w);
    jw_key(w, "values");
    jw_arr(w);
    buf_put(w->b, c.content.p, c.content.len);
    jw_end_arr(w);
    jw_key(w, "total"); jw_int(w, c.comp_total);
    jw_key(w, "hasMore"); jw_bool(w, c.comp_more);
    jw_end_obj(w);
    call_free(&c);
}

static void m_initialize(rpc *x, jw *w, rpc_fail *f) {
    (void)f; /* the era was picked by era_resolve */
    jw_key(w, "protocolVersion"); jw_str(w, era_names[x->era]);
    jw_key(w, "capabilities"); server_caps(x, w);
    server_info(x, w);
}

static void m_ping(rpc *x, jw *w, rpc_fail *f) { (void)x; (void)w; (void)f; }

static void m_discover(rpc *x, jw *w, rpc_fail *f) {
    (void)f;
    jw_key(w, "supportedVersions");
    jw_arr(w);
    for (int i = ERA_COUNT - 1; i >= 0; i--) jw_str(w, era_names[i]);
    jw_end_arr(w);
    jw_key(w, "capabilities"); server_caps(x, w);
    if (x->s->instructions) { jw_key(w, "instructions"); jw_str(w, x->s->instructions); }
    jw_key(w, "_meta"); jw_obj(w);
    jw_key(w, "io.modelcontextprotocol/serverInfo"); jw_obj(w);
    jw_key(w, "name"); jw_str(w, x->s->name);
    if (x->s->title) { jw_key(w, "title"); jw_str(w, x->s->title); }
    jw_key(w, "version"); jw_str(w, x->s->version);
    decor_write(w, &x->s->d, x->era);
    jw_end_obj(w); jw_end_obj(w);
    result_cache(x, w);
}

/* The stdio client's resource subscriptions (one client per process). */
static struct { pthread_mutex_t mu; void *tx; char **uris; int n; } subs = {PTHREAD_MUTEX_INITIALIZER, NULL, NULL, 0};

static void m_subscribe(rpc *x, jw *w, rpc_fail *f) {
    (void)w;
    const char *uri = mcp_json_str(mcp_json_get(x->params, "uri"));
    if (!uri) {
        f->code = RPC_BAD_PARAMS;
        buf_printf(&f->msg, "%s: params.uri must be a string", x->method);
        return;
    }
    if (x->emit != stdio_emit) return; /* not offered (subscribe: false), acknowledged all the same */
    int add = !strcmp(x->method, "resources/subscribe");
    pthread_mutex_lock(&subs.mu);
    subs.tx = x->tx;
    int i;
    for (i = 0; i < subs.n && strcmp(subs.uris[i], uri); i++) {}
    if (add && i == subs.n) { GROW(subs.uris, subs.n); subs.uris[subs.n++] = xstrdup(uri); }
    else if (!add && i < subs.n) { free(subs.uris[i]); subs.uris[i] = subs.uris[--subs.n]; }
    pthread_mutex_unlock(&subs.mu);
}

static int stdio_write(void *t, const char *p, size_t n);

int mcp_resource_updated(mcp_server *s, const char *uri) {
    (void)s;
    if (!uri) return -1;
    pthread_mutex_lock(&subs.mu);
    int i, r = 1;
    for (i = 0; i < subs.n && strcmp(subs.uris[i], uri); i++) {}
    if (i < subs.n && subs.tx) {
        buf b = {0};
        buf_puts(&b, "{\"jsonrpc\":\"2.0\",\"method\":\"notifications/resources/updated\",\"params\":{\"uri\":");
        json_escape_lossy(&b, uri, strlen(uri));
        buf_puts(&b, "}}");
        r = b.oom || stdio_write(subs.tx, b.p, b.len) ? -1 : 0;
        buf_free(&b);
    }
    pthread_mutex_unlock(&subs.mu);
    return r;
}

static void list_changed(mcp_server *s, const char *kind) {
    if (!s->serving) return;
    char m[96];
    int n = snprintf(m, sizeof m, "{\"jsonrpc\":\"2.0\",\"method\":\"notifications/%s/list_changed\"}", kind);
    pthread_mutex_lock(&subs.mu);
    if (subs.tx) stdio_write(subs.tx, m, (size_t)n);
    pthread_mutex_unlock(&subs.mu);
}

static void m_set_level(rpc *x, jw *w, rpc_fail *f) {
    (void)w;
    int lv = level_find(mcp_json_str(mcp_json_get(x->params, "level")));
    if (lv < 0) { f->code = RPC_BAD_PARAMS; buf_puts(&f->msg, "logging/setLevel: unknown level"); return; }
    x->level = lv;
    if (x->view) x->view->level = lv; /* later requests of the same batch or stream */
    if (x->sess) { /* kept for the session's later requests */
        pthread_mutex_lock(&x->s->lock);
        x->sess->level = lv;
        pthread_mutex_unlock(&x->s->lock);
    }
}

static void m_resources_list_fixed(rpc *x, jw *w, rpc_fail *f) { (void)f; m_resources_list(x, w, 0); }
static void m_resources_templates(rpc *x, jw *w, rpc_fail *f) { (void)f; m_resources_list(x, w, 1); }
static void m_prompts_list_all(rpc *x, jw *w, rpc_fail *f) { (void)f; m_prompts_list(x, w); }

/*=== MARK: - 18. Task store (Private) ===*/
/*
 * A task is one JSON record with a version, saved only over the version it was read at
 * (compare and swap), so a cancel, an answer and the handler's end never overwrite each
 * other. The store is this process's memory (serve, stdio; at most MCP_MAX_TASKS records),
 * or a DynamoDB table named by MCP_TASKS_TABLE: key taskId (S), index owner-createdAt
 * (owner S, createdAt S), TTL on expiresAt; each item holds the record (doc), its version
 * (ver) and the keys. A build with MCP_ENABLE_AWS=0 has memory only. What the records
 * mean is section 19's.
 */

#define TASKS_EXT "io.modelcontextprotocol/tasks"

typedef struct task {
    char id[40], status[16], created[32], updated[32];
    char owner[256];
    int64_t ttl_ms, expires;    /* expires: Unix seconds */
    int64_t ver;                /* the stored version this was read at (0: new) */
    int era;
    int out_of_time;            /* task_run: mcp_task_cancelled stopped the handler for the deadline */
    char *tool, *args, *caps, *responses, *requests, *state, *result, *error, *msg; /* JSON text; state plain */
} task;

/* On Lambda a task's handler stops this long before the function's timeout (mcp_task_cancelled
 * says so), to record the task failed while it can: the watchdog answers the invocation
 * MCP_DEADLINE_MARGIN_MS before it, and then the sandbox is frozen or ended, and a task still
 * working would stay working until its TTL. */
#define TASK_DEADLINE_RESERVE_MS (MCP_DEADLINE_MARGIN_MS + 1500)

static void task_clear(task *t) {
    free(t->tool); free(t->args); free(t->caps); free(t->responses); free(t->requests);
    free(t->state); free(t->result); free(t->error); free(t->msg);
    memset(t, 0, sizeof *t);
}

static void iso_now(char out[32]) {
    uint64_t ms = now_ms();
    utc_time u = utc_of((int64_t)(ms / 1000));
    snprintf(out, 32, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", u.year, u.mon, u.day, u.hour, u.min, u.sec, (int)(ms % 1000));
}

static int task_terminal(const task *t) {
    return !strcmp(t->status, "completed") || !strcmp(t->status, "failed") || !strcmp(t->status, "cancelled");
}

static void task_write(const task *t, buf *b) {
    jw w = {b, 0};
    jw_obj(&w);
    jw_key(&w, "taskId"); jw_str(&w, t->id);
    jw_key(&w, "status"); jw_str(&w, t->status);
    jw_key(&w, "owner"); jw_str(&w, t->owner);
    jw_key(&w, "createdAt"); jw_str(&w, t->created);
    jw_key(&w, "lastUpdatedAt"); jw_str(&w, t->updated);
    jw_key(&w, "ttlMs"); jw_int(&w, t->ttl_ms);
    jw_key(&w, "expiresAt"); jw_int(&w, t->expires);
    jw_key(&w, "era"); jw_str(&w, era_names[t->era]);
    jw_key(&w, "tool"); jw_str(&w, t->tool ? t->tool : "");
    const char *raw[] = {"arguments", t->args, "caps", t->caps, "inputResponses", t->responses,
                         "inputRequests", t->requests, "result", t->result, "error", t->error};
    for (size_t i = 0; i < COUNT(raw); i += 2)
        if (raw[i + 1]) { jw_key(&w, raw[i]); jw_raw(&w, raw[i + 1], strlen(raw[i + 1])); }
    if (t->state) { jw_key(&w, "state"); jw_str(&w, t->state); }
    if (t->msg) { jw_key(&w, "statusMessage"); jw_str(&w, t->msg); }
    jw_end_obj(&w);
}

static char *member_text(const mcp_json *o, const char *k) {
    const mcp_json *v = mcp_json_get(o, k);
    return v ? mcp_json_write(v, NULL) : NULL;
}
static char *member_str(const mcp_json *o, const char *k) {
    const char *s = mcp_json_str(mcp_json_get(o, k));
    return s ? xstrdup(s) : NULL;
}

static int task_read(const char *text, size_t n, task *t) {
    mcp_json_err e;
    mcp_json_doc *d = mcp_json_parse(text, n, 0, &e);
    const mcp_json *o = mcp_json_root(d);
    const char *id = mcp_json_str(mcp_json_get(o, "taskId")), *st = mcp_json_str(mcp_json_get(o, "status"));
    const char *era = mcp_json_str(mcp_json_get(o, "era"));
    if (!id || !st || !era) { mcp_json_free(d); return -1; }
    int64_t ver = t->ver;
    memset(t, 0, sizeof *t);
    t->ver = ver;
    snprintf(t->id, sizeof t->id, "%s", id);
    snprintf(t->status, sizeof t->status, "%s", st);
    snprintf(t->owner, sizeof t->owner, "%s", mcp_json_str(mcp_json_get(o, "owner")) ? mcp_json_str(mcp_json_get(o, "owner")) : "");
    snprintf(t->created, sizeof t->created, "%s", mcp_json_str(mcp_json_get(o, "createdAt")) ? mcp_json_str(mcp_json_get(o, "createdAt")) : "");
    snprintf(t->updated, sizeof t->updated, "%s", mcp_json_str(mcp_json_get(o, "lastUpdatedAt")) ? mcp_json_str(mcp_json_get(o, "lastUpdatedAt")) : "");
    mcp_json_int(mcp_json_get(o, "ttlMs"), &t->ttl_ms);
    mcp_json_int(mcp_json_get(o, "expiresAt"), &t->expires);
    t->era = era_find(era, strlen(era));
    if (t->era < ERA_2025_11_25) t->era = ERA_2025_11_25;
    t->tool = member_str(o, "tool");
    t->args = member_text(o, "arguments");
    t->caps = member_text(o, "caps");
    t->responses = member_text(o, "inputResponses");
    t->requests = member_text(o, "inputRequests");
    t->result = member_text(o, "result");
    t->error = member_text(o, "error");
    t->state = member_str(o, "state");
    t->msg = member_str(o, "statusMessage");
    mcp_json_free(d);
    return 0;
}

/* The store. In memory: a list under a lock, expired records dropped as it is walked. */
typedef struct mem_task { struct mem_task *next; char id[40], owner[256], created[32]; int64_t ver, expires; char *doc; } mem_task;
static struct { pthread_mutex_t mu; mem_task *head; int n, running; } task_mem = {PTHREAD_MUTEX_INITIALIZER, NULL, 0, 0};

static const char *task_table(void) {
#if MCP_ENABLE_AWS
    const char *t = getenv("MCP_TASKS_TABLE");
    return t && *t ? t : NULL;
#else
    return NULL; /* memory only: config_resolve refuses MCP_TASKS_TABLE, and the DynamoDB code is dead */
#endif
}

static void mem_prune(int64_t now) {
    for (mem_task **p = &task_mem.head; *p;) {
        mem_task *m = *p;
        if (m->expires && m->expires < now) { *p = m->next; free(m->doc); free(m); task_mem.n--; }
        else p = &m->next;
    }
}

/* One DynamoDB operation with the request body the caller built: 0, or -1 with rs->error
 * (or err, when the body could not be built; rs is then empty, so freeing it is safe). */
static int ddb_call(const char *op, buf *body, mcp_http_response *rs, char *err, size_t errn) {
    char target[64];
    snprintf(target, sizeof target, "DynamoDB_20120810.%s", op);
    if (body->oom) { memset(rs, 0, sizeof *rs); snprintf(err, errn, "out of memory"); return -1; }
    return mcp_aws_json("dynamodb", target, body->p, rs) ? -1 : 0;
}

/* Load task id: 0 found (t filled), 1 no such task (or expired), -1 the store failed (err). */
static int store_load(const char *id, task *t, char *err, size_t errn) {
    int64_t now = (int64_t)(now_ms() / 1000);
    const char *table = task_table();
    if (!table) {
        pthread_mutex_lock(&task_mem.mu);
        mem_prune(now);
        mem_task *m = task_mem.head;
        while (m && strcmp(m->id, id)) m = m->next;
        char *doc = m ? xstrdup(m->doc) : NULL;
        int64_t ver = m ? m->ver : 0;
        pthread_mutex_unlock(&task_mem.mu);
        if (!doc) return 1;
        t->ver = ver;
        int r = task_read(doc, strlen(doc), t);
        free(doc);
        if (r) { snprintf(err, errn, "task %s: the stored record is damaged", id); return -1; }
        return 0;
    }
    buf b = {0};
    jw w = {&b, 0};
    jw_obj(&w);
    jw_key(&w, "TableName"); jw_str(&w, table);
    jw_key(&w, "Key"); jw_obj(&w); jw_key(&w, "taskId"); jw_obj(&w); jw_key(&w, "S"); jw_str(&w, id); jw_end_obj(&w); jw_end_obj(&w);
    jw_key(&w, "ConsistentRead"); jw_bool(&w, 1);
    jw_end_obj(&w);
    mcp_http_response rs;
    int r = ddb_call("GetItem", &b, &rs, err, errn);
    buf_free(&b);
    if (r) { if (!err[0]) snprintf(err, errn, "%s", rs.error); mcp_http_free(&rs); return -1; }
    mcp_json_err e;
    mcp_json_doc *d = mcp_json_parse(rs.body, rs.len, 0, &e);
    const mcp_json *item = mcp_json_get(mcp_json_root(d), "Item");
    const char *doc = mcp_json_str(mcp_json_get(mcp_json_get(item, "doc"), "S"));
    const char *ver = mcp_json_str(mcp_json_get(mcp_json_get(item, "ver"), "N"));
    const char *exp = mcp_json_str(mcp_json_get(mcp_json_get(item, "expiresAt"), "N"));
    int rc = 1;
    if (item && (!doc || !ver)) { snprintf(err, errn, "task %s: the item in %s has no doc or ver", id, table); rc = -1; }
    else if (item && !(exp && strtoll(exp, NULL, 10) < now)) { /* DynamoDB deletes expired items late */
        t->ver = strtoll(ver, NULL, 10);
        rc = task_read(doc, strlen(doc), t) ? -1 : 0;
        if (rc) snprintf(err, errn, "task %s: the stored record is damaged", id);
    }
    mcp_json_free(d);
    mcp_http_free(&rs);
    return rc;
}

/* Save t over the version it was read at: 0 saved (t->ver is the new version), 1 someone
 * else saved first (or, for a new task, the id exists), -1 the store failed (err). */
static int store_save(task *t, char *err, size_t errn) {
    iso_now(t->updated);
    buf doc = {0};
    task_write(t, &doc);
    if (doc.oom) { buf_free(&doc); snprintf(err, errn, "out of memory"); return -1; }
    const char *table = task_table();
    if (!table) {
        int rc = 1;
        pthread_mutex_lock(&task_mem.mu);
        mem_task *m = task_mem.head;
        while (m && strcmp(m->id, t->id)) m = m->next;
        if (!t->ver && !m) {
            mem_prune((int64_t)(now_ms() / 1000));
            m = task_mem.n < MCP_MAX_TASKS ? calloc(1, sizeof *m) : NULL;
            if (!m) rc = -1;
            if (!m) snprintf(err, errn, task_mem.n < MCP_MAX_TASKS ? "out of memory" : "the server keeps at most %d tasks (MCP_MAX_TASKS)", MCP_MAX_TASKS);
            if (m) {
                task_mem.n++;
                snprintf(m->id, sizeof m->id, "%s", t->id);
                snprintf(m->owner, sizeof m->owner, "%s", t->owner);
                snprintf(m->created, sizeof m->created, "%s", t->created);
                m->next = task_mem.head;
                task_mem.head = m;
            }
        } else if (!m || m->ver != t->ver) m = NULL;
        if (m) {
            free(m->doc);
            m->doc = doc.p;
            doc.p = NULL;
            m->ver = ++t->ver;
            m->expires = t->expires;
            rc = 0;
        }
        pthread_mutex_unlock(&task_mem.mu);
        buf_free(&doc);
        return rc;
    }
    char nv[24], ov[24], ex[24];
    snprintf(nv, sizeof nv, "%lld", (long long)(t->ver + 1));
    snprintf(ov, sizeof ov, "%lld", (long long)t->ver);
    snprintf(ex, sizeof ex, "%lld", (long long)t->expires);
    buf b = {0};
    jw w = {&b, 0};
    jw_obj(&w);
    jw_key(&w, "TableName"); jw_str(&w, table);
    jw_key(&w, "Item"); jw_obj(&w);
    const char *attrs[] = {"taskId", "S", t->id, "owner", "S", t->owner[0] ? t->owner : "-", "createdAt", "S", t->created,
                           "expiresAt", "N", ex, "ver", "N", nv, "status", "S", t->status};
    for (size_t i = 0; i < COUNT(attrs); i += 3) {
        jw_key(&w, attrs[i]); jw_obj(&w); jw_key(&w, attrs[i + 1]); jw_str(&w, attrs[i + 2]); jw_end_obj(&w);
    }
    jw_key(&w, "doc"); jw_obj(&w); jw_key(&w, "S"); jw_strn(&w, doc.p, doc.len); jw_end_obj(&w);
    jw_end_obj(&w);
    if (!t->ver) { jw_key(&w, "ConditionExpression"); jw_str(&w, "attribute_not_exists(taskId)"); }
    else {
        jw_key(&w, "ConditionExpression"); jw_str(&w, "ver = :v");
        jw_key(&w, "ExpressionAttributeValues"); jw_obj(&w);
        jw_key(&w, ":v"); jw_obj(&w); jw_key(&w, "N"); jw_str(&w, ov); jw_end_obj(&w);
        jw_end_obj(&w);
    }
    jw_end_obj(&w);
    buf_free(&doc);
    mcp_http_response rs;
    int r = ddb_call("PutItem", &b, &rs, err, errn);
    buf_free(&b);
    int rc = 0;
    if (r && strstr(rs.error, "ConditionalCheckFailed")) rc = 1;
    else if (r) { if (!err[0]) snprintf(err, errn, "%s", rs.error); rc = -1; }
    else t->ver++;
    mcp_http_free(&rs);
    return rc;
}

/* The caller's tasks, newest first, from cursor on: ids into out (up to max); returns how
 * many, with *more set when others follow. -1 when the store failed. */
static int store_list(const char *owner, int64_t from, char (*out)[40], int max, int *more, char *err, size_t errn) {
    const char *table = task_table();
    int n = 0;
    *more = 0;
    if (!table) {
        pthread_mutex_lock(&task_mem.mu);
        mem_prune((int64_t)(now_ms() / 1000));
        int64_t i = 0;
        for (mem_task *m = task_mem.head; m; m = m->next) {
            if (strcmp(m->owner, owner)) continue;
            if (i++ < from) continue;
            if (n == max) { *more = 1; break; }
            memcpy(out[n++], m->id, 40);
        }
        pthread_mutex_unlock(&task_mem.mu);
        return n;
    }
    buf b = {0};
    jw w = {&b, 0};
    jw_obj(&w);
    jw_key(&w, "TableName"); jw_str(&w, table);
    jw_key(&w, "IndexName"); jw_str(&w, "owner-createdAt");
    jw_key(&w, "KeyConditionExpression"); jw_str(&w, "#o = :o");
    jw_key(&w, "ExpressionAttributeNames"); jw_obj(&w); jw_key(&w, "#o"); jw_str(&w, "owner"); jw_end_obj(&w);
    jw_key(&w, "ExpressionAttributeValues"); jw_obj(&w);
    jw_key(&w, ":o"); jw_obj(&w); jw_key(&w, "S"); jw_str(&w, owner[0] ? owner : "-"); jw_end_obj(&w);
    jw_end_obj(&w);
    jw_key(&w, "ScanIndexForward"); jw_bool(&w, 0);
    jw_key(&w, "ProjectionExpression"); jw_str(&w, "taskId");
    jw_end_obj(&w);
    mcp_http_response rs;
    int r = ddb_call("Query", &b, &rs, err, errn);
    buf_free(&b);
    if (r) { if (!err[0]) snprintf(err, errn, "%s", rs.error); mcp_http_free(&rs); return -1; }
    mcp_json_err e;
    mcp_json_doc *d = mcp_json_parse(rs.body, rs.len, 0, &e);
    mcp_json_iter it = mcp_json_iterate(mcp_json_get(mcp_json_root(d), "Items"));
    const mcp_json *item;
    int64_t i = 0;
    while ((item = mcp_json_iter_next(&it, NULL))) {
        const char *id = mcp_json_str(mcp_json_get(mcp_json_get(item, "taskId"), "S"));
        if (!id || i++ < from) continue;
        if (n == max) { *more = 1; break; }
        snprintf(out[n++], 40, "%s", id);
    }
    mcp_json_free(d);
    mcp_http_free(&rs);
    return n;
}

/*=== MARK: - 19. Tasks (Public: mcp_tool_task, mcp_task, mcp_task_cancelled) ===*/
/*
 * Work that outlives the request that started it. A tool registered with mcp_tool_task
 * answers tools/call with a task, its handler runs apart from the request, and the client
 * polls tasks/get (and, as 2025-11-25 defines tasks, waits with tasks/result or lists with
 * tasks/list). Two wire forms, one store (section 18):
 *   2025-11-25   the client asks with params.task {ttl}; capabilities.tasks; CreateTaskResult
 *                {task:{...}}; tasks/get, tasks/result, tasks/list, tasks/cancel.
 *   2026-07-28   the io.modelcontextprotocol/tasks extension (SEP-2663): the server decides
 *                for a client that declared the extension; a flat CreateTaskResult
 *                (resultType "task", ttlMs, pollIntervalMs); tasks/get inlines the result or
 *                error; a handler's questions park the task in input_required until
 *                tasks/update has answered them all, then it runs again from the start with
 *                the answers, as a multi-round-trip call does.
 * In serve and stdio the handler runs on a thread (at most MCP_MAX_TASK_THREADS at once).
 * On Lambda only the table serves, and the handler runs in an asynchronous invocation of
 * the same function and alias ({"mcpTaskId": ID}), so a task may run for Lambda's 15
 * minutes while any sandbox answers the polls. A handler that polls mcp_task_cancelled is
 * told to stop shortly before the function's timeout, and its task ends failed, saying so.
 */

/* Tasks are offered where they can be kept: anywhere but Lambda, and on Lambda with a table. */
static int tasks_available(mcp_server *s) {
    int any = 0;
    for (int i = 0; i < s->ntools && !any; i++) any = s->tools[i]->task_mode != 0;
    return any && (!s->stateless || task_table());
}

/* The client declared the extension (2026-07-28), or asked for a task (2025-11-25). */
static int task_wanted(rpc *x) {
    if (x->era >= ERA_2026_07_28) return mcp_json_get(mcp_json_get(x->caps, "extensions"), TASKS_EXT) != NULL;
    return x->era == ERA_2025_11_25 && MCP_JSON_TYPE(mcp_json_get(x->params, "task")) == MCP_JSON_OBJECT;
}

static const char *task_owner(rpc *x) { return x->r->auth.kind ? x->r->auth.principal : ""; }

static void task_launch(mcp_server *s, const task *t, rpc *x);

/* Make call c a task: record it and start its handler apart. 0, or -1 with c failed. */
static int task_create(mcp_call *c, task *t) {
    rpc *x = c->x;
    memset(t, 0, sizeof *t);
    random_hex(t->id, 16);
    snprintf(t->status, sizeof t->status, "working");
    snprintf(t->owner, sizeof t->owner, "%s", task_owner(x));
    iso_now(t->created);
    t->era = x->era;
    t->ttl_ms = MCP_TASK_TTL_MS;
    int64_t want = 0;
    if (x->era < ERA_2026_07_28 && mcp_json_int(mcp_json_get(mcp_json_get(x->params, "task"), "ttl"), &want) && want > 0)
        t->ttl_ms = want < MCP_TASK_TTL_MS ? want : MCP_TASK_TTL_MS;
    t->expires = (int64_t)(now_ms() / 1000) + (t->ttl_ms + 999) / 1000;
    t->tool = xstrdup(c->name);
    t->args = mcp_json_write(c->args, NULL);
    t->caps = x->caps ? mcp_json_write(x->caps, NULL) : xstrdup("{}");
    if (c->input_responses) t->responses = mcp_json_write(c->input_responses, NULL);
    if (c->state) t->state = xstrdup(c->state);
    char err[600] = "";
    int r = t->args && t->caps ? store_save(t, err, sizeof err) : -1;
    if (r) {
        mcp_fail(c, RPC_INTERNAL, "the task could not be recorded: %s", r > 0 ? "its id exists" : err[0] ? err : "out of memory");
        task_clear(t);
        return -1;
    }
    task_launch(x->s, t, x);
    return 0;
}

/* CreateTaskResult, flat (2026-07-28) or as {task} (2025-11-25). */
static void task_fields(rpc *x, jw *w, const task *t) {
    int v2 = x->era >= ERA_2026_07_28;
    jw_key(w, "taskId"); jw_str(w, t->id);
    jw_key(w, "status"); jw_str(w, t->status);
    if (t->msg) { jw_key(w, "statusMessage"); jw_str(w, t->msg); }
    jw_key(w, "createdAt"); jw_str(w, t->created);
    jw_key(w, "lastUpdatedAt"); jw_str(w, t->updated);
    jw_key(w, v2 ? "ttlMs" : "ttl"); jw_int(w, t->ttl_ms);
    jw_key(w, v2 ? "pollIntervalMs" : "pollInterval"); jw_int(w, MCP_TASK_POLL_MS);
}

static void task_created(rpc *x, jw *w, const task *t) {
    if (x->era >= ERA_2026_07_28) {
        result_type(x, w, "task");
        task_fields(x, w, t);
        return;
    }
    jw_key(w, "task"); jw_obj(w); task_fields(x, w, t); jw_end_obj(w);
}

/* tools/call made a task from the start: record it, start it, answer with it. */
static int task_begin(mcp_call *c, jw *w) {
    task t;
    if (task_create(c, &t)) return -1;
    task_created(c->x, w, &t);
    task_clear(&t);
    return 0;
}

int mcp_tool_task(mcp_tool_def *t, int mode) {
    if (!t || (mode & ~(MCP_TASK_REQUIRED | MCP_TASK_OPTIONAL | MCP_TASK_DEFERRED)) ||
        (mode & MCP_TASK_REQUIRED && mode & MCP_TASK_OPTIONAL) || (mode == MCP_TASK_DEFERRED)) return -1;
    t->task_mode = mode;
    return 0;
}

/* Before tools/call runs tool t: -1 failed (f), 0 run it here, 1 make it a task now. */
static int task_decide(rpc *x, mcp_tool_def *t, rpc_fail *f) {
    int mode = t->task_mode;
    if (!mode) return 0; /* most tools: nothing more to look at */
    int want = task_wanted(x);
    if (mode & MCP_TASK_REQUIRED && !want) {
        if (x->era >= ERA_2026_07_28) {
            f->code = MCP_E_MISSING_CAPABILITY;
            buf_printf(&f->msg, "Missing required client capability: tool %s runs only as a task (extension " TASKS_EXT ")", t->name);
            buf_puts(&f->data, "{\"requiredCapabilities\":{\"extensions\":{\"" TASKS_EXT "\":{}}}}");
        } else {
            f->code = RPC_NO_METHOD;
            buf_printf(&f->msg, "tool %s must be called as a task (params.task)", t->name);
        }
        return -1;
    }
    if (!want) return 0;
    if (!tasks_available(x->s)) {
        if (!(mode & MCP_TASK_REQUIRED)) return 0;
        f->code = RPC_INTERNAL;
#if MCP_ENABLE_AWS
        buf_printf(&f->msg, "tool %s runs only as a task, and tasks need MCP_TASKS_TABLE on Lambda", t->name);
#else
        buf_printf(&f->msg, "tool %s runs only as a task, and tasks on Lambda need MCP_TASKS_TABLE: " AWS_OFF, t->name);
#endif
        return -1;
    }
    return mode & MCP_TASK_DEFERRED ? 0 : 1;
}

int mcp_task(mcp_call *c) {
    rpc *x = c->x;
    if (c->kind != CALL_TOOL || x->task || c->task || !x->tool || !(x->tool->task_mode & MCP_TASK_DEFERRED) ||
        !task_wanted(x) || !tasks_available(x->s)) return 0;
    task *t = calloc(1, sizeof *t);
    if (!t) { mcp_fail(c, RPC_INTERNAL, "out of memory"); return 1; }
    if (task_create(c, t)) { free(t); return 1; }
    c->task = t;
    return 1;
}

int mcp_task_cancelled(mcp_call *c) {
    rpc *x = c->x;
    if (!x->task) return 0;
    uint64_t dl = x->r ? x->r->deadline_ms : 0;
    if (dl && now_ms() + TASK_DEADLINE_RESERVE_MS >= dl) { x->task->out_of_time = 1; return 1; }
    uint64_t now = mono_us();
    if (c->task_checked && now - c->task_checked < (task_table() ? 1000000u : 50000u)) return 0;
    c->task_checked = now;
    task t = {0};
    char err[600];
    int cancelled = store_load(x->task->id, &t, err, sizeof err) == 0 && !strcmp(t.status, "cancelled");
    task_clear(&t);
    return cancelled;
}

/* Run task id's handler once, here, and record what came of it. */
static int tool_exec(rpc *x, mcp_tool_def *t, mcp_call *c, rpc_fail *f);
static void tool_result(rpc *x, jw *w, mcp_call *c);

static void task_run(mcp_server *s, const char *id, const invocation *inv, uint64_t deadline_ms) {
    task t = {0};
    char err[600] = "";
    if (store_load(id, &t, err, sizeof err)) {
        log_at(LOG_ERROR, inv, "task %s: %s", id, err[0] ? err : "no such task");
        return;
    }
    if (strcmp(t.status, "working")) { task_clear(&t); return; }
    req r;
    req_init(&r, s);
    r.inv = inv;
    r.deadline_ms = deadline_ms;
    req *saved = cur_req;
    cur_req = &r;
    buf p = {0}, out = {0};
    jw w = {&p, 0};
    jw_obj(&w);
    jw_key(&w, "name"); jw_str(&w, t.tool ? t.tool : "");
    if (t.args) { jw_key(&w, "arguments"); jw_raw(&w, t.args, strlen(t.args)); }
    if (t.responses && t.era >= ERA_2026_07_28) { jw_key(&w, "inputResponses"); jw_raw(&w, t.responses, strlen(t.responses)); }
    jw_end_obj(&w);
    mcp_json_err e;
    mcp_json_doc *pd = p.oom ? NULL : mcp_json_parse(p.p, p.len, 0, &e);
    mcp_json_doc *cd = t.caps ? mcp_json_parse(t.caps, strlen(t.caps), 0, &e) : NULL;
    rpc x;
    memset(&x, 0, sizeof x);
    x.s = s; x.r = &r; x.method = "tools/call"; x.era = t.era; x.level = LEVEL_OFF;
    x.params = pd ? mcp_json_root(pd) : empty_object();
    x.caps = mcp_json_root(cd);
    x.task = &t;
    x.tool = tool_find(s, t.tool);
    rpc_fail f;
    memset(&f, 0, sizeof f);
    int k = -1;
    char *requests = NULL, *state = NULL, *result = NULL, *error = NULL;
    if (!pd) { f.code = RPC_INTERNAL; buf_puts(&f.msg, "out of memory"); }
    else if (!x.tool) { f.code = RPC_INTERNAL; buf_printf(&f.msg, "tool %s is no longer registered", t.tool ? t.tool : ""); }
    else {
        mcp_call c;
        call_init(&c, &x, CALL_TOOL, x.tool->name, x.tool->data);
        c.args = mcp_json_get(x.params, "arguments");
        if (!c.args) c.args = empty_object();
        if (t.state) c.state = t.state;
        k = c.fail_code ? (fail_from_call(&f, &c), -1) : tool_exec(&x, x.tool, &c, &f);
        if (k == 1) {
            buf q = {0};
            buf_putc(&q, '{'); buf_put(&q, c.input_requests.p, c.input_requests.len); buf_putc(&q, '}');
            requests = q.p;
            state = c.raw_state ? xstrdup(c.raw_state) : t.state ? xstrdup(t.state) : NULL;
        } else if (k == 0) {
            jw rw = {&out, 0};
            jw_obj(&rw);
            tool_result(&x, &rw, &c);
            jw_key(&rw, "resultType"); jw_str(&rw, "complete");
            jw_end_obj(&rw);
            result = out.p;
            out.p = NULL;
        } else if (k == 2) { f.code = RPC_INTERNAL; buf_puts(&f.msg, "a task cannot start another task"); k = -1; }
        call_free(&c);
    }
    if (t.out_of_time) { /* told to stop for the deadline: what the handler made of it is dropped */
        free(requests); free(state); free(result);
        requests = state = result = NULL;
        buf_free(&f.msg); buf_free(&f.data);
        f.code = RPC_INTERNAL;
        buf_printf(&f.msg, "the task did not finish before the Lambda function's timeout");
        k = -1;
    }
    if (k < 0) {
        buf eb = {0};
        rpc_fail *fp = &f;
        jw ew = {&eb, 0};
        jw_obj(&ew);
        jw_key(&ew, "code"); jw_int(&ew, fp->code ? fp->code : RPC_INTERNAL);
        jw_key(&ew, "message"); jw_str(&ew, fp->msg.p ? fp->msg.p : "the task failed");
        if (fp->data.len) { jw_key(&ew, "data"); jw_raw(&ew, fp->data.p, fp->data.len); }
        jw_end_obj(&ew);
        error = eb.p;
    }
    /* Record the outcome unless the task moved on (cancelled) meanwhile. */
    for (int tries = 0; tries < 8; tries++) {
        if (strcmp(t.status, "working")) break;
        snprintf(t.status, sizeof t.status, "%s", k == 1 ? "input_required" : k == 0 ? "completed" : "failed");
        free(t.requests); t.requests = requests; requests = NULL;
        if (k == 1) { free(t.state); t.state = state; state = NULL; }
        free(t.result); t.result = result; result = NULL;
        free(t.error); t.error = error; error = NULL;
        int rc = store_save(&t, err, sizeof err);
        if (rc <= 0) { if (rc < 0) log_at(LOG_ERROR, inv, "task %s: %s", id, err); break; }
        requests = t.requests; t.requests = NULL; /* lost the race: read again, keep the outcome */
        result = t.result; t.result = NULL;
        error = t.error; t.error = NULL;
        if (k == 1) { state = t.state; t.state = NULL; }
        task_clear(&t);
        if (store_load(id, &t, err, sizeof err)) break;
    }
    free(requests); free(state); free(result); free(error);
    buf_free(&f.msg); buf_free(&f.data); buf_free(&p); buf_free(&out);
    mcp_json_free(pd); mcp_json_free(cd);
    task_clear(&t);
    cur_req = saved;
    req_free(&r);
}

typedef struct { mcp_server *s; char id[40]; } task_job;
static void *task_thread(void *arg) {
    task_job *j = arg;
    task_run(j->s, j->id, NULL, 0);
    free(j);
    pthread_mutex_lock(&task_mem.mu);
    task_mem.running--;
    pthread_mutex_unlock(&task_mem.mu);
    blk_cache_drop();
    return NULL;
}

/* Start task t's handler: on Lambda an asynchronous invocation of this function and alias,
 * elsewhere a thread. Failing to start it fails the task. */
static void task_launch(mcp_server *s, const task *t, rpc *x) {
    char err[600] = "";
    if (s->stateless) {
#if MCP_ENABLE_AWS
        const invocation *inv = x->r->inv;
        const char *fn = inv && inv->arn[0] ? inv->arn : getenv("AWS_LAMBDA_FUNCTION_NAME");
        buf path = {0}, body = {0};
        buf_puts(&path, "/2015-03-31/functions/");
        for (const char *p = fn ? fn : ""; *p; p++) { /* the ARN's colons, as the SDKs send them */
            if (*p == ':') buf_puts(&path, "%3A"); else buf_putc(&path, *p);
        }
        buf_puts(&path, "/invocations");
        buf_printf(&body, "{\"mcpTaskId\":\"%s\"}", t->id);
        mcp_http_response rs;
        int r = !fn || path.oom || body.oom ? -1
                : aws_rest("lambda", "Invoke", "POST", path.p, "X-Amz-Invocation-Type: Event\r\n", body.p, &rs);
        if (r) snprintf(err, sizeof err, "%s", fn && !path.oom && !body.oom ? rs.error : fn ? "out of memory" : "AWS_LAMBDA_FUNCTION_NAME is not set");
        if (fn && !path.oom && !body.oom) mcp_http_free(&rs);
        buf_free(&path);
        buf_free(&body);
#else
        (void)x; /* not reached: on Lambda tasks need a table */
        snprintf(err, sizeof err, "%s", AWS_OFF);
#endif
    } else {
        pthread_mutex_lock(&task_mem.mu);
        int room = task_mem.running < MCP_MAX_TASK_THREADS;
        task_mem.running += room;
        pthread_mutex_unlock(&task_mem.mu);
        task_job *j = room ? calloc(1, sizeof *j) : NULL;
        pthread_t th;
        pthread_attr_t at;
        if (!room) snprintf(err, sizeof err, "%d task handlers are running already (MCP_MAX_TASK_THREADS)", MCP_MAX_TASK_THREADS);
        else if (j) {
            j->s = s;
            memcpy(j->id, t->id, sizeof j->id);
            pthread_attr_init(&at);
            pthread_attr_setdetachstate(&at, PTHREAD_CREATE_DETACHED);
            pthread_attr_setstacksize(&at, MCP_STACK_SIZE);
            if (pthread_create(&th, &at, task_thread, j)) { free(j); snprintf(err, sizeof err, "no thread could be started"); }
            pthread_attr_destroy(&at);
        } else snprintf(err, sizeof err, "out of memory");
        if (room && err[0]) {
            pthread_mutex_lock(&task_mem.mu);
            task_mem.running--;
            pthread_mutex_unlock(&task_mem.mu);
        }
    }
    if (!err[0]) return;
    log_error("task %s: its handler could not be started: %s", t->id, err);
    task u = {0};
    char e2[600];
    if (store_load(t->id, &u, e2, sizeof e2) == 0 && !strcmp(u.status, "working")) {
        snprintf(u.status, sizeof u.status, "failed");
        buf eb = {0};
        buf_printf(&eb, "{\"code\":%d,\"message\":", RPC_INTERNAL);
        json_escape_lossy(&eb, err, strlen(err));
        buf_putc(&eb, '}');
        free(u.error);
        u.error = eb.p;
        store_save(&u, e2, sizeof e2);
    }
    task_clear(&u);
}

/* A Lambda event {"mcpTaskId": ID}: run that task here. */
static int task_event(req *r, const mcp_json *ev, buf *out) {
    const char *id = mcp_json_str(mcp_json_get(ev, "mcpTaskId"));
    if (!id || ev->len != 1) return 0;
    task_run(r->s, id, r->inv, r->deadline_ms);
    buf_puts(out, "null");
    return 1;
}

/* tasks/get, tasks/update, tasks/cancel, tasks/result: the caller's task named by
 * params.taskId. 0 with t filled, or -1 with f filled. */
static int task_param(rpc *x, task *t, rpc_fail *f) {
    if (x->era >= ERA_2026_07_28 && !mcp_json_get(mcp_json_get(x->caps, "extensions"), TASKS_EXT)) {
        f->code = MCP_E_MISSING_CAPABILITY;
        buf_printf(&f->msg, "Missing required client capability: extension " TASKS_EXT);
        buf_puts(&f->data, "{\"requiredCapabilities\":{\"extensions\":{\"" TASKS_EXT "\":{}}}}");
        return -1;
    }
    const char *id = mcp_json_str(mcp_json_get(x->params, "taskId"));
    if (!id) { f->code = RPC_BAD_PARAMS; buf_printf(&f->msg, "Invalid params: %s needs a string taskId", x->method); return -1; }
    char err[600] = "";
    int r = strlen(id) < sizeof t->id ? store_load(id, t, err, sizeof err) : 1;
    if (r == 0 && strcmp(t->owner, task_owner(x))) { task_clear(t); r = 1; } /* another caller's task is no task */
    if (r > 0) { f->code = RPC_BAD_PARAMS; buf_printf(&f->msg, "Invalid params: no task %.64s", id); return -1; }
    if (r < 0) { f->code = RPC_INTERNAL; buf_printf(&f->msg, "the task store failed: %s", err); return -1; }
    return 0;
}

static void m_tasks_get(rpc *x, jw *w, rpc_fail *f) {
    task t = {0};
    if (task_param(x, &t, f)) return;
    task_fields(x, w, &t);
    if (x->era >= ERA_2026_07_28) {
        if (!strcmp(t.status, "completed") && t.result) { jw_key(w, "result"); jw_raw(w, t.result, strlen(t.result)); }
        if (!strcmp(t.status, "failed") && t.error) { jw_key(w, "error"); jw_raw(w, t.error, strlen(t.error)); }
        if (!strcmp(t.status, "input_required") && t.requests) { jw_key(w, "inputRequests"); jw_raw(w, t.requests, strlen(t.requests)); }
    }
    task_clear(&t);
}

/* Set a terminal or pending status over the stored version, retrying a lost race. */
static void m_tasks_cancel(rpc *x, jw *w, rpc_fail *f) {
    for (int tries = 0; tries < 8; tries++) {
        task t = {0};
        if (task_param(x, &t, f)) return;
        if (task_terminal(&t)) {
            if (x->era < ERA_2026_07_28) {
                f->code = RPC_BAD_PARAMS;
                buf_printf(&f->msg, "Invalid params: task %s is already %s", t.id, t.status);
            }
            task_clear(&t);
            return; /* 2026-07-28: the same empty acknowledgement */
        }
        snprintf(t.status, sizeof t.status, "cancelled");
        free(t.msg); t.msg = xstrdup("cancelled by the client");
        char err[600] = "";
        int r = store_save(&t, err, sizeof err);
        if (r == 0 && x->era < ERA_2026_07_28) task_fields(x, w, &t);
        task_clear(&t);
        if (r < 0) { f->code = RPC_INTERNAL; buf_printf(&f->msg, "the task store failed: %s", err); }
        if (r <= 0) return;
    }
    f->code = RPC_INTERNAL;
    buf_puts(&f->msg, "the task kept changing: try again");
}

/* tasks/update (2026-07-28): answers to the task's questions; once none is left open the
 * handler runs again with every answer. */
static void m_tasks_update(rpc *x, jw *w, rpc_fail *f) {
    (void)w;
    const mcp_json *ir = mcp_json_get(x->params, "inputResponses");
    if (MCP_JSON_TYPE(ir) != MCP_JSON_OBJECT) { f->code = RPC_BAD_PARAMS; buf_puts(&f->msg, "Invalid params: inputResponses must be an object"); return; }
    for (int tries = 0; tries < 8; tries++) {
        task t = {0};
        if (task_param(x, &t, f)) return;
        if (strcmp(t.status, "input_required")) { task_clear(&t); return; } /* nothing asked: acknowledged */
        mcp_json_err e;
        mcp_json_doc *old = t.responses ? mcp_json_parse(t.responses, strlen(t.responses), 0, &e) : NULL;
        mcp_json_doc *req = t.requests ? mcp_json_parse(t.requests, strlen(t.requests), 0, &e) : NULL;
        buf nr = {0}, nq = {0};
        jw a = {&nr, 0}, q = {&nq, 0};
        jw_obj(&a);
        jw_obj(&q);
        mcp_json_iter it = mcp_json_iterate(mcp_json_root(old));
        const mcp_json *v;
        const mcp_json *k;
        while ((v = mcp_json_iter_next(&it, &k)))
            if (!mcp_json_get(ir, k->s)) { jw_key(&a, k->s); jw_value(&a, v); }
        it = mcp_json_iterate(ir);
        while ((v = mcp_json_iter_next(&it, &k))) { jw_key(&a, k->s); jw_value(&a, v); }
        int open = 0;
        it = mcp_json_iterate(mcp_json_root(req));
        while ((v = mcp_json_iter_next(&it, &k))) {
            if (mcp_json_get(ir, k->s)) continue;
            jw_key(&q, k->s); jw_value(&q, v);
            open++;
        }
        jw_end_obj(&a);
        jw_end_obj(&q);
        mcp_json_free(old);
        mcp_json_free(req);
        free(t.responses); t.responses = nr.p;
        free(t.requests); t.requests = open ? nq.p : (buf_free(&nq), NULL);
        if (!open) snprintf(t.status, sizeof t.status, "working");
        char err[600] = "";
        int r = nr.oom || nq.oom ? -1 : store_save(&t, err, sizeof err);
        if (r == 0 && !open) task_launch(x->s, &t, x);
        task_clear(&t);
        if (r < 0) { f->code = RPC_INTERNAL; buf_printf(&f->msg, "the task store failed: %s", err[0] ? err : "out of memory"); }
        if (r <= 0) return;
    }
    f->code = RPC_INTERNAL;
    buf_puts(&f->msg, "the task kept changing: try again");
}

/* tasks/result (2025-11-25): wait for the end, then the tool's result or its error. */
static void m_tasks_result(rpc *x, jw *w, rpc_fail *f) {
    task t = {0};
    for (;;) {
        if (task_param(x, &t, f)) return;
        if (task_terminal(&t)) break;
        uint64_t dl = req_deadline();
        if (dl && now_ms() + 2 * MCP_TASK_POLL_MS > dl) {
            f->code = RPC_INTERNAL;
            buf_printf(&f->msg, "task %s is still %s: ask again", t.id, t.status);
            task_clear(&t);
            return;
        }
        task_clear(&t);
        struct timespec ts = {0, (long)(task_table() ? MCP_TASK_POLL_MS : 50) * 1000000L};
        nanosleep(&ts, NULL);
    }
    mcp_json_err e;
    mcp_json_doc *d = NULL;
    if (!strcmp(t.status, "failed") && t.error) {
        d = mcp_json_parse(t.error, strlen(t.error), 0, &e);
        int64_t code = RPC_INTERNAL;
        mcp_json_int(mcp_json_get(mcp_json_root(d), "code"), &code);
        f->code = (int)code;
        const char *m = mcp_json_str(mcp_json_get(mcp_json_root(d), "message"));
        buf_puts(&f->msg, m ? m : "the task failed");
    } else if (!strcmp(t.status, "cancelled")) {
        f->code = RPC_BAD_PARAMS;
        buf_printf(&f->msg, "task %s was cancelled", t.id);
    } else if (t.result && (d = mcp_json_parse(t.result, strlen(t.result), 0, &e))) {
        mcp_json_iter it = mcp_json_iterate(mcp_json_root(d));
        const mcp_json *v;
        const mcp_json *k;
        while ((v = mcp_json_iter_next(&it, &k)))
            if (strcmp(k->s, "_meta") && strcmp(k->s, "resultType")) { jw_key(w, k->s); jw_value(w, v); }
        jw_key(w, "_meta"); jw_obj(w);
        const mcp_json *meta = mcp_json_get(mcp_json_root(d), "_meta");
        it = mcp_json_iterate(meta);
        while ((v = mcp_json_iter_next(&it, &k))) { jw_key(w, k->s); jw_value(w, v); }
        jw_key(w, "io.modelcontextprotocol/related-task"); jw_obj(w); jw_key(w, "taskId"); jw_str(w, t.id); jw_end_obj(w);
        jw_end_obj(w);
    }
    mcp_json_free(d);
    task_clear(&t);
}

/* tasks/list (2025-11-25): the caller's tasks, a page at a time. */
static void m_tasks_list(rpc *x, jw *w, rpc_fail *f) {
    int64_t from = 0;
    const mcp_json *cur = mcp_json_get(x->params, "cursor");
    if (cur) {
        const char *cs = mcp_json_str(cur);
        char *end = NULL;
        if (cs) from = strtoll(cs, &end, 10);
        if (!cs || !*cs || *end || from < 0) { f->code = RPC_BAD_PARAMS; buf_puts(&f->msg, "Invalid params: unknown cursor"); return; }
    }
    char ids[MCP_PAGE_SIZE][40], err[600] = "";
    int more, n = store_list(task_owner(x), from, ids, MCP_PAGE_SIZE, &more, err, sizeof err);
    if (n < 0) { f->code = RPC_INTERNAL; buf_printf(&f->msg, "the task store failed: %s", err); return; }
    jw_key(w, "tasks");
    jw_arr(w);
    for (int i = 0; i < n; i++) {
        task t = {0};
        if (store_load(ids[i], &t, err, sizeof err)) continue;
        jw_obj(w); task_fields(x, w, &t); jw_end_obj(w);
        task_clear(&t);
    }
    jw_end_arr(w);
    if (more) { char nc[24]; snprintf(nc, sizeof nc, "%lld", (long long)(from + n)); jw_key(w, "nextCursor"); jw_str(w, nc); }
}

/*=== MARK: - 20. Dispatch (Private) ===*/
/*
 * From a parsed message to its answer, the same for every transport: the method table,
 * the era of each message, and the one loop over a message or a batch.
 */

/* Every method, with the eras it exists in. The index is the method's slot in the
 * server's counters (/metrics); unknown methods count under the last slot, "other".
 * A request for a method outside its eras is -32601, as for one that never existed. */
static const struct method {
    const char *name;
    unsigned char from, to;     /* first and last era */
    void (*fn)(rpc *x, jw *w, rpc_fail *f);
} methods[] = {
    {"initialize", ERA_2024_11_05, ERA_2025_11_25, m_initialize},
    {"ping", ERA_2024_11_05, ERA_2025_11_25, m_ping},
    {"server/discover", ERA_2024_11_05, ERA_LATEST, m_discover},
    {"tools/list", ERA_2024_11_05, ERA_LATEST, m_tools_list},
    {"tools/call", ERA_2024_11_05, ERA_LATEST, m_tools_call},
    {"resources/list", ERA_2024_11_05, ERA_LATEST, m_resources_list_fixed},
    {"resources/templates/list", ERA_2024_11_05, ERA_LATEST, m_resources_templates},
    {"resources/read", ERA_2024_11_05, ERA_LATEST, m_resources_read},
    {"resources/subscribe", ERA_2024_11_05, ERA_2025_11_25, m_subscribe},
    {"resources/unsubscribe", ERA_2024_11_05, ERA_2025_11_25, m_subscribe},
    {"prompts/list", ERA_2024_11_05, ERA_LATEST, m_prompts_list_all},
    {"prompts/get", ERA_2024_11_05, ERA_LATEST, m_prompts_get},
    {"completion/complete", ERA_2024_11_05, ERA_LATEST, m_complete},
    {"logging/setLevel", ERA_2024_11_05, ERA_2025_11_25, m_set_level},
    {"tasks/get", ERA_2025_11_25, ERA_LATEST, m_tasks_get},
    {"tasks/cancel", ERA_2025_11_25, ERA_LATEST, m_tasks_cancel},
    {"tasks/result", ERA_2025_11_25, ERA_2025_11_25, m_tasks_result},
    {"tasks/list", ERA_2025_11_25, ERA_2025_11_25, m_tasks_list},
    {"tasks/update", ERA_2026_07_28, ERA_LATEST, m_tasks_update},
    /* a notification, never a request; listed so that 2026-07-28 can say it was removed */
    {"notifications/initialized", ERA_2024_11_05, ERA_2025_11_25, NULL},
};
_Static_assert(COUNT(methods) < MAX_METHODS, "MAX_METHODS counts the method table and one more slot");
#define M_OTHER COUNT(methods)

static const char *method_name(size_t i) { return i < M_OTHER ? methods[i].name : "other"; }

static size_t method_find(const char *name) {
    size_t i = 0;
    while (i < COUNT(methods) && strcmp(methods[i].name, name)) i++;
    return i;
}

/* The era of one message, and the client's capabilities and log threshold that go with it.
 * A 2026-07-28 request names its era in _meta (and carries its capabilities there);
 * initialize proposes one (answered with the latest session era when it proposes an era
 * this server does not know); anything else is in the session's era (sv). */
static void era_resolve(rpc *x, const mcp_json *msg, const sess_view *sv) {
    const mcp_json *params = mcp_json_get(msg, "params");
    const mcp_json *meta = mcp_json_get(params, "_meta");
    const mcp_json *mv = mcp_json_get(meta, META_VERSION);
    if (mcp_json_str(mv)) {
        int era = era_find(mv->s, mv->len);
        x->era = era < 0 ? ERA_LATEST : era;
        x->caps = mcp_json_get(meta, META_CAPS);
        const char *lv = mcp_json_str(mcp_json_get(meta, "io.modelcontextprotocol/logLevel"));
        x->level = lv && level_find(lv) >= 0 ? level_find(lv) : LEVEL_OFF;
        x->sess = NULL;
        return;
    }
    x->era = sv->era;
    x->caps = sv->caps;
    x->level = sv->level;
    const char *m = mcp_json_str(mcp_json_get(msg, "method"));
    if (m && !strcmp(m, "initialize")) {
        const char *pv = mcp_json_str(mcp_json_get(params, "protocolVersion"));
        int e = pv ? era_find(pv, strlen(pv)) : -1;
        x->era = e < 0 || e > ERA_LATEST_SESSION ? ERA_LATEST_SESSION : e;
        x->caps = mcp_json_get(params, "capabilities");
    }
}

/* Dispatch one JSON-RPC message that is not a response. Writes the response to out unless
 * the message is a notification; returns the JSON-RPC error code, or 0. */
static int rpc_dispatch(rpc *x, const mcp_json *msg, buf *out) {
    jw w = {out, 0};
    const mcp_json *id = mcp_json_get(msg, "id");
    mcp_json_type it = MCP_JSON_TYPE(id);
    const char *method = mcp_json_str(mcp_json_get(msg, "method"));
    const mcp_json *ver = mcp_json_get(msg, "jsonrpc");
    if (id && it != MCP_JSON_STRING && it != MCP_JSON_NUMBER) {
        rpc_error(out, NULL, RPC_INVALID, "Invalid Request: id must be a string or a number");
        return RPC_INVALID;
    }
    if (MCP_JSON_TYPE(ver) != MCP_JSON_STRING || strcmp(ver->s, "2.0") || !method) {
        rpc_error(out, id, RPC_INVALID, !method ? "Invalid Request: method must be a string"
                                                : "Invalid Request: jsonrpc must be \"2.0\"");
        return RPC_INVALID;
    }
    const mcp_json *params = mcp_json_get(msg, "params");
    if (params && MCP_JSON_TYPE(params) != MCP_JSON_OBJECT) {
        if (id) rpc_error(out, id, RPC_BAD_PARAMS, "Invalid params: params must be an object");
        return RPC_BAD_PARAMS;
    }
    if (!id) return 0; /* notifications: nothing to answer */
    uint64_t t0 = mono_us();
    if (x->r->wd) wd_serving(x->r->wd, id);
    x->id = id;
    x->method = method;
    x->params = params ? params : empty_object();
    x->meta = mcp_json_get(params, "_meta");
    rpc_fail f;
    memset(&f, 0, sizeof f);
    rpc_head(&w, id);
    size_t mark = out->len;
    jw_key(&w, "result");
    jw_obj(&w);
    size_t mi = method_find(method);
    if (mi < M_OTHER && methods[mi].fn && x->era >= methods[mi].from && x->era <= methods[mi].to) {
        methods[mi].fn(x, &w, &f);
    } else {
        f.code = RPC_NO_METHOD;
        buf_printf(&f.msg, "Method not found: %s", method);
        if (mi < M_OTHER && x->era > methods[mi].to) buf_printf(&f.msg, " (removed in protocol version %s)", era_names[methods[mi].to + 1]);
    }
    if (f.code) {
        out->len = mark;
        w.comma = 1;
        rpc_error_body(&w, f.code, f.msg.p ? f.msg.p : "error", &f.data);
        jw_end_obj(&w);
    } else {
        result_type(x, &w, "complete");
        jw_end_obj(&w);
        jw_end_obj(&w);
    }
    buf_free(&f.msg);
    buf_free(&f.data);
    uint64_t us = mono_us() - t0;
    int failed = f.code || x->tool_error;
    pthread_mutex_lock(&x->s->mlock);
    stat_add(&x->s->mstat[mi], us, failed);
    if (x->tool) stat_add(&x->tool->st, us, failed);
    pthread_mutex_unlock(&x->s->mlock);
    x->r->requests++;
    x->r->errors += failed;
    if (x->tool) { /* the metrics line's tool, cut to fit */
        size_t n = strlen(x->tool->name);
        if (n >= sizeof x->r->tool) n = sizeof x->r->tool - 1;
        memcpy(x->r->tool, x->tool->name, n);
        x->r->tool[n] = 0;
    }
    return f.code;
}

/* A response (from the client to the server's own request), not a request. */
static int is_response(const mcp_json *m) {
    return MCP_JSON_TYPE(m) == MCP_JSON_OBJECT && !mcp_json_get(m, "method") &&
           (mcp_json_get(m, "result") || mcp_json_get(m, "error"));
}

/* The one loop over a JSON-RPC message or batch, for every transport. Requests are
 * dispatched in order with the era era_resolve picks for each, their answers joined with
 * commas in out; responses (the client answering the server) go to tx->response;
 * notifications need no answer. tx->initialized runs after a successful initialize.
 * Returns the number of answers written. */
typedef struct rpc_tx {
    /* the rpc every request starts from: s, r, emit, ask, tx, sess */
    rpc proto;
    sess_view view;
    void (*response)(struct rpc_tx *t, const mcp_json *msg);
    void (*initialized)(struct rpc_tx *t, rpc *x);
    void *ctx;
    int requests;               /* requests among the messages */
    int code;                   /* the JSON-RPC error code of the last one, or 0 */
} rpc_tx;

static int rpc_serve(rpc_tx *t, const mcp_json *root, buf *out) {
    int batch = MCP_JSON_TYPE(root) == MCP_JSON_ARRAY, n = 0;
    mcp_json_iter it = mcp_json_iterate(root);
    const mcp_json *msg = batch ? mcp_json_iter_next(&it, NULL) : root;
    for (; msg; msg = batch ? mcp_json_iter_next(&it, NULL) : NULL) {
        if (MCP_JSON_TYPE(msg) != MCP_JSON_OBJECT) {
            if (n++) buf_putc(out, ',');
            rpc_error(out, NULL, RPC_INVALID, "Invalid Request: expected a JSON-RPC message object");
            continue;
        }
        if (is_response(msg)) { if (t->response) t->response(t, msg); continue; }
        if (!mcp_json_get(msg, "id")) continue; /* notifications (cancellation included: calls run to the end) */
        t->requests++;
        rpc x = t->proto;
        era_resolve(&x, msg, &t->view);
        if (n++) buf_putc(out, ',');
        int code = t->code = rpc_dispatch(&x, msg, out);
        const char *m = mcp_json_str(mcp_json_get(msg, "method"));
        if (!code && t->initialized && x.era < ERA_2026_07_28 && !strcmp(m, "initialize")) t->initialized(t, &x);
    }
    return n;
}

/* A loop for request r whose messages, unless they say otherwise, are in era with log
 * threshold level; the transport adds its channel (emit, ask, tx) and session. */
static void rpc_tx_init(rpc_tx *t, req *r, int era, int level) {
    memset(t, 0, sizeof *t);
    t->proto.s = r->s;
    t->proto.r = r;
    t->proto.view = &t->view;
    t->view.era = era;
    t->view.level = level;
}

/* Requests without a session or a back channel (direct invocations, POST /tools/NAME,
 * `call`): the latest session era unless a message says otherwise, no log messages. */
static int rpc_serve_plain(req *r, const mcp_json *root, buf *out) {
    rpc_tx t;
    rpc_tx_init(&t, r, ERA_LATEST_SESSION, LEVEL_OFF);
    return rpc_serve(&t, root, out);
}

/* Batches exist in 2025-03-26 only: NULL when root may be served, else why not. */
static const char *batch_refused(const mcp_json *root, int era) {
    if (MCP_JSON_TYPE(root) != MCP_JSON_ARRAY) return NULL;
    if (!root->len) return "Invalid Request: empty batch";
    if (era != ERA_2025_03_26) return "Invalid Request: batches are only accepted in protocol version 2025-03-26";
    return NULL;
}

/*=== MARK: - 21. Streamable HTTP (Private) ===*/
/*
 * The HTTP face of the core, the same for `serve` and for Lambda events: POST carries
 * JSON-RPC; a request is answered with JSON, or with an SSE stream once the call sends a
 * notification or asks the client something; notifications and responses get 202.
 * Eras before 2026-07-28 get a session (Mcp-Session-Id) from initialize; 2026-07-28
 * requests carry their version and capabilities in _meta and need no session.
 */

typedef struct {
    slice method, path, query;
    const hdr *h;
    int nh;
    char *body;     /* writable, with one spare byte after blen */
    size_t blen;
    int local;      /* serve: Host and Origin are checked against the allow-lists */
    const char *iam_arn;        /* Lambda: the caller AWS IAM authenticated */
    const mcp_json *gw_claims;  /* Lambda: claims an API Gateway JWT authorizer verified */
    const mcp_json *lambda_ctx; /* Lambda: the context an API Gateway Lambda authorizer returned */
} hreq;

typedef struct hres hres;
struct hres {
    int status;
    const char *ctype;
    buf head;       /* extra header lines, "Name: value\r\n" each */
    buf body;
    /* A transport that can send as it goes sets these; otherwise SSE events are buffered. */
    int (*start)(hres *r);
    int (*write)(hres *r, const char *p, size_t n);
    void *tx;
    int streaming;  /* head sent: the body goes out through write */
    int sse;
};

#define req_header(rq, name) headers_find((rq)->h, (rq)->nh, (name), strlen(name))

static void res_header(hres *r, const char *name, const char *fmt, ...) MCP_PRINTF(3, 4);
static void res_header(hres *r, const char *name, const char *fmt, ...) {
    buf_puts(&r->head, name);
    buf_puts(&r->head, ": ");
    size_t at = r->head.len;
    va_list ap;
    va_start(ap, fmt);
    buf_vprintf(&r->head, fmt, ap);
    va_end(ap);
    for (size_t i = at; i < r->head.len; i++) /* a value never breaks the header block */
        if (r->head.p[i] == '\r' || r->head.p[i] == '\n' || !r->head.p[i]) r->head.p[i] = ' ';
    buf_puts(&r->head, "\r\n");
}

/* A JSON-RPC error as the whole HTTP answer. */
static void res_rpc_error(hres *r, int status, const mcp_json *id, int code, const char *msg) {
    r->status = status;
    r->ctype = "application/json";
    r->body.len = 0;
    rpc_error(&r->body, id, code, msg);
}

static void res_text(hres *r, int status, const char *msg) {
    r->status = status;
    r->ctype = "application/json";
    r->body.len = 0;
    jw w = {&r->body, 0};
    jw_obj(&w);
    jw_key(&w, "error"); jw_str(&w, msg);
    jw_end_obj(&w);
}

static int sse_put(hres *r, const char *json, size_t n) {
    if (!r->sse) {
        r->sse = 1;
        r->status = 200;
        r->ctype = "text/event-stream";
        if (r->start) {
            if (r->start(r)) return -1;
            r->streaming = 1;
        }
    }
    buf ev = {0};
    buf_puts(&ev, "event: message\n");
    /* each line of the payload (CR, LF or CRLF ends one, as for an SSE reader) is a data:
     * field of its own; the reader joins them with LF, which JSON reads as whitespace */
    for (size_t i = 0;;) {
        size_t end = i;
        while (end < n && json[end] != '\n' && json[end] != '\r') end++;
        buf_puts(&ev, "data: ");
        buf_put(&ev, json + i, end - i);
        buf_putc(&ev, '\n');
        if (end == n) break;
        i = end + (json[end] == '\r' && end + 1 < n && json[end + 1] == '\n' ? 2 : 1);
    }
    buf_putc(&ev, '\n');
    int rc = 0;
    if (ev.oom) rc = -1;
    else if (r->streaming) rc = r->write(r, ev.p, ev.len);
    else buf_put(&r->body, ev.p, ev.len);
    buf_free(&ev);
    return rc;
}

static int http_emit(rpc *x, const char *json, size_t n) { return sse_put(x->tx, json, n); }

/* Sessions (serve). Ids are 32 random hex digits; on Lambda, where a sandbox cannot know
 * its peers' sessions, the id carries its era instead ("e3-<hex>") and no table is kept.
 * All of these are called with s->lock held. A request holds its session (refs) while it
 * runs, so a DELETE or an eviction meanwhile only unlinks it. */
#define MAX_SESSIONS 1024
#define MAX_SESSIONS_PER_CLIENT (MAX_SESSIONS / 4) /* a client over it loses its own oldest */
#define SESSION_ID_LEN 35 /* "e3-" and 32 hex digits on Lambda; 32 hex digits in serve */

static void session_free(session *e) {
    mcp_json_doc *c = e->caps;
    free(e);
    mcp_json_free(c);
}

/* Who a request's sessions belong to: the authenticated principal, else the client's
 * address; *bound says whether the session is then the principal's alone. */
static void session_owner(const req *r, char *out, size_t n, int *bound) {
    *bound = r->auth.kind != NULL;
    if (*bound) snprintf(out, n, "%s:%s", r->auth.kind, r->auth.principal);
    else snprintf(out, n, "addr:%s", r->peer ? r->peer : "");
}

/* The session id names, if the caller may use it (another principal's is not found). */
static session *session_find(mcp_server *s, slice id, const req *r) {
    char owner[300];
    int bound;
    if (r) session_owner(r, owner, sizeof owner, &bound);
    for (session *e = s->sessions; e; e = e->next)
        if (sl_eq(id, e->id)) {
            if (r && e->bound && strcmp(e->owner, owner)) return NULL;
            e->last_used = mono_us();
            return e;
        }
    return NULL;
}

static void session_drop(mcp_server *s, session *e) {
    for (session **pp = &s->sessions; *pp; pp = &(*pp)->next)
        if (*pp == e) {
            *pp = e->next;
            s->nsessions--;
            e->dropped = 1;
            if (!e->refs) session_free(e);
            return;
        }
}

static void session_release(session *e) {
    if (--e->refs == 0 && e->dropped) session_free(e);
}

/* The least recently used session, of owner only when owner is not NULL. */
static session *session_lru(mcp_server *s, const char *owner, int *count) {
    session *old = NULL;
    *count = 0;
    for (session *e = s->sessions; e; e = e->next) {
        if (owner && strcmp(e->owner, owner)) continue;
        ++*count;
        if (!old || e->last_used < old->last_used) old = e;
    }
    return old;
}

static session *session_new(mcp_server *s, int era, const mcp_json *caps, const req *r) {
    char owner[300];
    int bound, n;
    session_owner(r, owner, sizeof owner, &bound);
    session *old = session_lru(s, owner, &n);
    if (n >= MAX_SESSIONS_PER_CLIENT) session_drop(s, old); /* a client over its share loses its own first */
    else if (s->nsessions >= MAX_SESSIONS && (old = session_lru(s, NULL, &n))) session_drop(s, old);
    session *e = calloc(1, sizeof *e);
    if (!e) return NULL;
    snprintf(e->owner, sizeof e->owner, "%s", owner);
    e->bound = bound;
    random_hex(e->id, 16);
    e->era = era;
    e->level = 0;
    e->caps = json_copy(caps);
    e->last_used = mono_us();
    e->next = s->sessions;
    s->sessions = e;
    s->nsessions++;
    return e;
}

/* Ask the client on this call's stream and wait for the answer, which the client POSTs on
 * another connection; that one hands it over in waiter_answer. The waiter is in place
 * before the request goes out, so an answer cannot arrive unawaited. */
static char *http_ask(rpc *x, const char *id, const char *json, size_t n) {
    mcp_server *s = x->s;
    waiter w;
    memset(&w, 0, sizeof w);
    pthread_mutex_lock(&s->lock);
    snprintf(w.key, sizeof w.key, "%s/%s", x->sess ? x->sess->id : "", id);
    pthread_cond_init(&w.cv, NULL);
    w.next = s->waiters;
    s->waiters = &w;
    pthread_mutex_unlock(&s->lock);
    int sent = !sse_put(x->tx, json, n);
    if (x->r->waiting) x->r->waiting(x->r, 1);
    pthread_mutex_lock(&s->lock);
    struct timespec until;
    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_sec += MCP_CLIENT_TIMEOUT;
    while (sent && !w.answer) /* waiting releases the lock */
        if (pthread_cond_timedwait(&w.cv, &s->lock, &until) == ETIMEDOUT) break;
    for (waiter **pp = &s->waiters; *pp; pp = &(*pp)->next)
        if (*pp == &w) { *pp = w.next; break; }
    pthread_mutex_unlock(&s->lock);
    pthread_cond_destroy(&w.cv);
    if (x->r->waiting) x->r->waiting(x->r, 0);
    return w.answer;
}

/* A response from the client: give it to the call waiting for it. */
static int waiter_answer(mcp_server *s, session *sess, const mcp_json *msg) {
    const mcp_json *id = mcp_json_get(msg, "id");
    char key[96];
    if (MCP_JSON_TYPE(id) == MCP_JSON_STRING) snprintf(key, sizeof key, "%s/%s", sess ? sess->id : "", id->s);
    else return 0;
    for (waiter *w = s->waiters; w; w = w->next)
        if (!strcmp(w->key, key) && !w->answer) {
            w->answer = mcp_json_write(msg, NULL);
            pthread_cond_signal(&w->cv);
            return 1;
        }
    return 0;
}

/* Host header allowed for a local server: localhost names on any port. */
/* The lists requests consult, from the environment: split at the first request (on
 * Lambda, start-up reads nothing the first event does not need), never per request. */
static struct {
    strlist hosts;      /* MCP_ALLOWED_HOSTS: Host names serve accepts besides localhost */
    strlist origins;    /* MCP_ALLOWED_ORIGINS: Origins serve accepts besides localhost */
    strlist cors;       /* MCP_CORS_ORIGINS: Origins answered with CORS headers */
    strlist oauth_as;   /* MCP_OAUTH_AUTHORIZATION_SERVERS */
    strlist oauth_scopes; /* MCP_OAUTH_SCOPES */
    strlist oauth_redirects; /* MCP_OAUTH_REDIRECT_URIS */
    const char *oauth_client; /* MCP_OAUTH_CLIENT_ID, or NULL */
} httpc;

static pthread_once_t httpc_once = PTHREAD_ONCE_INIT;

/* (Re)read the lists; done once by http_route, again by tests that change them. */
static void http_conf_load(void) {
    strlist_set(&httpc.hosts, "MCP_ALLOWED_HOSTS");
    strlist_set(&httpc.origins, "MCP_ALLOWED_ORIGINS");
    strlist_set(&httpc.cors, "MCP_CORS_ORIGINS");
    strlist_set(&httpc.oauth_as, "MCP_OAUTH_AUTHORIZATION_SERVERS");
    strlist_set(&httpc.oauth_scopes, "MCP_OAUTH_SCOPES");
    strlist_set(&httpc.oauth_redirects, "MCP_OAUTH_REDIRECT_URIS");
    httpc.oauth_client = getenv("MCP_OAUTH_CLIENT_ID");
    if (httpc.oauth_client && !*httpc.oauth_client) httpc.oauth_client = NULL;
}

static int host_allowed(slice h) {
    if (!h.p) return 1; /* HTTP/1.0 clients may omit it */
    size_t n = h.n;
    if (n && h.p[0] == '[') { const char *e = memchr(h.p, ']', n); if (!e) return 0; n = (size_t)(e - h.p) + 1; }
    else { const char *c = memchr(h.p, ':', n); if (c) n = (size_t)(c - h.p); }
    slice name = {h.p, n};
    if (sl_ieq(name, "localhost") || sl_eq(name, "127.0.0.1") || sl_eq(name, "[::1]")) return 1;
    return strlist_has(&httpc.hosts, name, 1);
}

static int origin_allowed(slice o) {
    if (!o.p) return 1; /* not a browser */
    const char *p = memchr(o.p, ':', o.n);
    if (!p || o.n - (size_t)(p - o.p) < 3 || p[1] != '/' || p[2] != '/') return 0;
    slice host = {p + 3, o.n - (size_t)(p + 3 - o.p)};
    return strlist_has(&httpc.origins, o, 1) || host_allowed(host);
}

/* Strict base64 (standard alphabet, whole quads, correct padding) into out; -1 if not. */
static const unsigned char b64val[256] = { /* 1 + the digit's value; 0 outside the alphabet */
    ['A'] = 1, ['B'] = 2, ['C'] = 3, ['D'] = 4, ['E'] = 5, ['F'] = 6, ['G'] = 7, ['H'] = 8,
    ['I'] = 9, ['J'] = 10, ['K'] = 11, ['L'] = 12, ['M'] = 13, ['N'] = 14, ['O'] = 15, ['P'] = 16,
    ['Q'] = 17, ['R'] = 18, ['S'] = 19, ['T'] = 20, ['U'] = 21, ['V'] = 22, ['W'] = 23, ['X'] = 24,
    ['Y'] = 25, ['Z'] = 26, ['a'] = 27, ['b'] = 28, ['c'] = 29, ['d'] = 30, ['e'] = 31, ['f'] = 32,
    ['g'] = 33, ['h'] = 34, ['i'] = 35, ['j'] = 36, ['k'] = 37, ['l'] = 38, ['m'] = 39, ['n'] = 40,
    ['o'] = 41, ['p'] = 42, ['q'] = 43, ['r'] = 44, ['s'] = 45, ['t'] = 46, ['u'] = 47, ['v'] = 48,
    ['w'] = 49, ['x'] = 50, ['y'] = 51, ['z'] = 52, ['0'] = 53, ['1'] = 54, ['2'] = 55, ['3'] = 56,
    ['4'] = 57, ['5'] = 58, ['6'] = 59, ['7'] = 60, ['8'] = 61, ['9'] = 62, ['+'] = 63, ['/'] = 64,
};

static long b64_strict(const char *s, size_t n, unsigned char *out) {
    if (n % 4) return -1;
    size_t pad = n && s[n - 1] == '=' ? (n > 1 && s[n - 2] == '=' ? 2 : 1) : 0;
    long o = 0;
    for (size_t i = 0; i < n; i += 4) { /* one pass: checked and decoded a quad at a time */
        int last = i + 4 == n, k = last ? 4 - (int)pad : 4;
        uint32_t v = 0;
        for (int j = 0; j < 4; j++) {
            int d = j < k ? b64val[(unsigned char)s[i + j]] - 1 : 0;
            if (d < 0) return -1;
            v = v << 6 | (uint32_t)d;
        }
        out[o++] = (unsigned char)(v >> 16);
        if (k > 2) out[o++] = (unsigned char)(v >> 8);
        if (k > 3) out[o++] = (unsigned char)v;
    }
    return o;
}

/* Tool parameters mirrored in headers (SEP-2243): an input-schema property with
 * "x-mcp-header": "Suffix" must arrive as Mcp-Param-Suffix too, plain or as
 * =?base64?...?=, with the same value as the argument. Returns 0, or -1 with why. */
static int param_headers_check(mcp_server *s, const hreq *rq, const char *tool, const mcp_json *args, char *why, size_t whyn) {
    mcp_tool_def *t = tool_find(s, tool);
    if (!t || tool_prepare(t)) return 0; /* the call itself will say what is wrong */
    mcp_json_iter it = mcp_json_iterate(mcp_json_get(mcp_json_root(t->in_doc), "properties"));
    const mcp_json *k, *p;
    while ((p = mcp_json_iter_next(&it, &k))) {
        const char *suffix = mcp_json_str(mcp_json_get(p, "x-mcp-header"));
        if (!suffix) continue;
        char hname[128];
        snprintf(hname, sizeof hname, "mcp-param-%s", suffix);
        slice h = req_header(rq, hname);
        const mcp_json *a = json_get_n(args, k->s, k->len);
        if (!a && !h.p) continue;
        if (!h.p || !mcp_json_str(a)) { snprintf(why, whyn, "Mcp-Param-%.60s header and argument %.60s must come together", suffix, k->s); return -1; }
        slice v = h;
        unsigned char *dec = NULL;
        if (v.n >= 12 && !memcmp(v.p, "=?base64?", 9) && !memcmp(v.p + v.n - 2, "?=", 2)) {
            dec = xmalloc(v.n);
            long dn = b64_strict(v.p + 9, v.n - 11, dec);
            if (dn < 0) { free(dec); snprintf(why, whyn, "Mcp-Param-%.60s header is not valid base64", suffix); return -1; }
            v.p = (const char *)dec;
            v.n = (size_t)dn;
        }
        int same = v.n == a->len && !memcmp(v.p, a->s, a->len);
        free(dec);
        if (!same) { snprintf(why, whyn, "Mcp-Param-%.60s header does not match argument %.60s", suffix, k->s); return -1; }
    }
    return 0;
}

/* Is this POST of the 2026-07-28 (stateless) kind? Its MCP-Protocol-Version is not one of
 * the session eras, or its _meta names a version, or it asks server/discover. */
static int is_stateless_msg(const hreq *rq, const mcp_json *msg) {
    slice pv = req_header(rq, "mcp-protocol-version");
    if (pv.p && !req_header(rq, "mcp-session-id").p && (era_find(pv.p, pv.n) < 0 || era_find(pv.p, pv.n) >= ERA_2026_07_28))
        return 1;
    if (MCP_JSON_TYPE(msg) != MCP_JSON_OBJECT) return 0;
    const char *m = mcp_json_str(mcp_json_get(msg, "method"));
    if (m && !strcmp(m, "server/discover")) return 1;
    const mcp_json *meta = mcp_json_get(mcp_json_get(msg, "params"), "_meta");
    return mcp_json_get(meta, META_VERSION) || mcp_json_get(meta, META_CAPS);
}

/* The rpc every request of one HTTP POST starts from. */
static void http_tx(rpc_tx *t, req *r, hres *rs) {
    rpc_tx_init(t, r, ERA_2025_03_26, 0);
    t->proto.tx = rs;
    t->proto.emit = http_emit;
}

/* The answer (out, a batch's already opened with '['): on the stream if one was started,
 * else as the JSON body, where it moves without a copy. */
static void res_final(hres *rs, buf *out, int batch) {
    if (batch) buf_putc(out, ']');
    if (!rs->sse) {
        rs->status = 200;
        rs->ctype = "application/json";
        buf_free(&rs->body);
        rs->body = *out;
        memset(out, 0, sizeof *out);
        return;
    }
    if (!batch) { sse_put(rs, out->p, out->len); return; }
    mcp_json_err e; /* one event per response */
    mcp_json_doc *d = mcp_json_parse(out->p, out->len, 0, &e);
    if (NEVER(!d)) return; /* written here, so always JSON */
    mcp_json_iter it = mcp_json_iterate(mcp_json_root(d));
    const mcp_json *m;
    while ((m = mcp_json_iter_next(&it, NULL))) {
        char *t = mcp_json_write(m, NULL);
        if (t) sse_put(rs, t, strlen(t));
        free(t);
    }
    mcp_json_free(d);
}

/* A POST of the 2026-07-28 era: one request that says everything about itself. */
static void http_stateless(req *r, const hreq *rq, hres *rs, const mcp_json *msg) {
    mcp_server *s = r->s;
    const mcp_json *id = mcp_json_get(msg, "id");
    if (id && MCP_JSON_TYPE(id) != MCP_JSON_STRING && MCP_JSON_TYPE(id) != MCP_JSON_NUMBER) {
        res_rpc_error(rs, 400, NULL, RPC_INVALID, "Invalid Request: id must be a string or a number");
        return;
    }
    if (MCP_JSON_TYPE(msg) != MCP_JSON_OBJECT) {
        res_rpc_error(rs, 400, NULL, RPC_INVALID, "Invalid Request: batches are not supported in protocol version 2026-07-28");
        return;
    }
    if (is_response(msg)) { rs->status = 202; return; }
    const char *method = mcp_json_str(mcp_json_get(msg, "method"));
    const mcp_json *params = mcp_json_get(msg, "params");
    const mcp_json *meta = mcp_json_get(params, "_meta");
    const mcp_json *mv = mcp_json_get(meta, META_VERSION);
    const mcp_json *caps = mcp_json_get(meta, META_CAPS);
    slice hv = req_header(rq, "mcp-protocol-version");
    if (!method) { res_rpc_error(rs, 400, id, RPC_INVALID, "Invalid Request: method must be a string"); return; }
    if (!mv || !mcp_json_str(mv) || MCP_JSON_TYPE(caps) != MCP_JSON_OBJECT) {
        if (!id) { rs->status = 202; return; }
        res_rpc_error(rs, 400, id, RPC_BAD_PARAMS,
                      "Invalid params: _meta must carry \"" META_VERSION "\" and \"" META_CAPS "\"");
        return;
    }
    if (hv.p && !sl_eq(hv, mv->s)) {
        buf m = {0};
        buf_printf(&m, "MCP-Protocol-Version header (%.*s) does not match _meta protocol version (%s)", (int)hv.n, hv.p, mv->s);
        res_rpc_error(rs, 400, id, MCP_E_HEADER_MISMATCH, m.p);
        buf_free(&m);
        return;
    }
    int era = era_find(mv->s, mv->len);
    if (era < ERA_2026_07_28) {
        rs->status = 400;
        rs->ctype = "application/json";
        jw w = {&rs->body, 0};
        rpc_head(&w, id);
        jw_key(&w, "error"); jw_obj(&w);
        jw_key(&w, "code"); jw_int(&w, MCP_E_UNSUPPORTED_VERSION);
        jw_key(&w, "message"); jw_str(&w, "Unsupported protocol version");
        jw_key(&w, "data"); jw_obj(&w);
        jw_key(&w, "supported"); jw_arr(&w); jw_str(&w, era_names[ERA_2026_07_28]); jw_end_arr(&w);
        jw_key(&w, "requested"); jw_str(&w, mv->s);
        jw_end_obj(&w); jw_end_obj(&w); jw_end_obj(&w);
        return;
    }
    /* Mcp-Method and Mcp-Name must say what the body says */
    slice hm = req_header(rq, "mcp-method");
    if (!hm.p || !sl_eq(hm, method)) {
        res_rpc_error(rs, 400, id, MCP_E_HEADER_MISMATCH, hm.p ? "Mcp-Method header does not match the request's method"
                                                               : "Mcp-Method header is required");
        return;
    }
    slice hn = req_header(rq, "mcp-name");
    const char *name = NULL;
    int required = 1; /* SEP-2243 names; SEP-2663's taskId is checked when sent */
    if (!strcmp(method, "tools/call") || !strcmp(method, "prompts/get")) name = mcp_json_str(mcp_json_get(params, "name"));
    else if (!strcmp(method, "resources/read")) name = mcp_json_str(mcp_json_get(params, "uri"));
    else if (!strcmp(method, "tasks/get") || !strcmp(method, "tasks/update") || !strcmp(method, "tasks/cancel"))
        name = mcp_json_str(mcp_json_get(params, "taskId")), required = 0;
    if ((hn.p || (name && required)) && (!name || !hn.p || !sl_eq(hn, name))) {
        res_rpc_error(rs, 400, id, MCP_E_HEADER_MISMATCH, "Mcp-Name header does not match the request's name");
        return;
    }
    if (!strcmp(method, "tools/call") && name) {
        char why[200];
        if (param_headers_check(s, rq, name, mcp_json_get(params, "arguments"), why, sizeof why)) {
            res_rpc_error(rs, 400, id, MCP_E_HEADER_MISMATCH, why);
            return;
        }
    }
    if (!id) { rs->status = 202; return; }
    rpc_tx t;
    http_tx(&t, r, rs);
    buf out = {0};
    rpc_serve(&t, msg, &out); /* era, capabilities and log level from _meta, as checked above */
    res_final(rs, &out, 0);
    if (!rs->sse) { /* errors with their own HTTP status in this era */
        if (t.code == RPC_NO_METHOD) rs->status = 404;
        else if (t.code == MCP_E_HEADER_MISMATCH || t.code == MCP_E_MISSING_CAPABILITY || t.code == MCP_E_UNSUPPORTED_VERSION)
            rs->status = 400;
    }
    buf_free(&out);
}

static void http_session_response(rpc_tx *t, const mcp_json *msg) {
    mcp_server *s = t->proto.s;
    pthread_mutex_lock(&s->lock);
    waiter_answer(s, t->proto.sess, msg);
    pthread_mutex_unlock(&s->lock);
}

/* initialize answered: the session's id goes back in Mcp-Session-Id. */
static void http_session_created(rpc_tx *t, rpc *x) {
    hres *rs = t->proto.tx;
    mcp_server *s = x->s;
    if (s->stateless) {
        char id[SESSION_ID_LEN + 1];
        id[0] = 'e'; id[1] = (char)('0' + x->era); id[2] = '-';
        random_hex(id + 3, 16);
        res_header(rs, "Mcp-Session-Id", "%s", id);
        return;
    }
    pthread_mutex_lock(&s->lock);
    session *ns = session_new(s, x->era, x->caps, x->r);
    if (ns) res_header(rs, "Mcp-Session-Id", "%s", ns->id);
    pthread_mutex_unlock(&s->lock);
}

/* A POST of the eras with sessions (2024-11-05 to 2025-11-25). */
static void http_session(req *r, const hreq *rq, hres *rs, const mcp_json *root) {
    mcp_server *s = r->s;
    int batch = MCP_JSON_TYPE(root) == MCP_JSON_ARRAY;
    slice sid = req_header(rq, "mcp-session-id");
    slice pv = req_header(rq, "mcp-protocol-version");
    const char *m0 = mcp_json_str(mcp_json_get(root, "method"));
    int is_init = !batch && m0 && !strcmp(m0, "initialize");
    if (batch && !root->len) { res_rpc_error(rs, 400, NULL, RPC_INVALID, "Invalid Request: empty batch"); return; }
    if (MCP_JSON_TYPE(root) != MCP_JSON_OBJECT && !batch) {
        res_rpc_error(rs, 400, NULL, RPC_INVALID, "Invalid Request: expected a JSON-RPC message object");
        return;
    }
    session *sess = NULL, lambda_sess;
    int era = ERA_2025_03_26;
    if (pv.p) {
        era = era_find(pv.p, pv.n);
        if (era < 0 || era > ERA_LATEST_SESSION) { /* 2026-07-28 has no sessions */
            buf m = {0};
            buf_printf(&m, "Bad Request: unsupported MCP-Protocol-Version: %.*s", (int)pv.n, pv.p);
            res_rpc_error(rs, 400, NULL, RPC_INVALID, m.p);
            buf_free(&m);
            return;
        }
    }
    rpc_tx t;
    http_tx(&t, r, rs);
    if (!is_init) {
        if (!sid.p) {
            res_rpc_error(rs, 400, NULL, RPC_INVALID, "Bad Request: Mcp-Session-Id header is required");
            return;
        }
        if (s->stateless) { /* "e<era>-<hex>" */
            if (sid.n != SESSION_ID_LEN || sid.p[0] != 'e' || sid.p[2] != '-' || sid.p[1] < '0' || sid.p[1] > '0' + ERA_LATEST_SESSION) {
                res_rpc_error(rs, 404, NULL, RPC_INVALID, "Session not found");
                return;
            }
            memset(&lambda_sess, 0, sizeof lambda_sess);
            memcpy(lambda_sess.id, sid.p, sid.n);
            lambda_sess.era = sid.p[1] - '0';
            sess = &lambda_sess;
        } else {
            pthread_mutex_lock(&s->lock);
            if ((sess = session_find(s, sid, r))) sess->refs++; /* held: a DELETE meanwhile only unlinks it */
            if (sess) t.view.level = sess->level;
            pthread_mutex_unlock(&s->lock);
            if (!sess) { res_rpc_error(rs, 404, NULL, RPC_INVALID, "Session not found"); return; }
        }
        /* the era is the session's, fixed at initialize: a header naming another supported
         * one cannot change it (the official suite sends such headers and expects answers) */
        era = sess->era;
        t.view.caps = mcp_json_root(sess->caps);
    }
    const char *why = batch_refused(root, era);
    buf out = {0};
    int n = 0;
    if (why) res_rpc_error(rs, 400, NULL, RPC_INVALID, why);
    else {
        t.view.era = era;
        t.proto.sess = sess;
        t.proto.ask = http_ask;
        t.response = http_session_response;
        t.initialized = http_session_created;
        if (batch) buf_putc(&out, '[');
        n = rpc_serve(&t, root, &out);
    }
    if (sess && !s->stateless) {
        pthread_mutex_lock(&s->lock);
        session_release(sess);
        pthread_mutex_unlock(&s->lock);
    }
    if (why) return;
    if (!t.requests && !(batch && n)) { rs->status = 202; buf_free(&out); return; }
    res_final(rs, &out, batch);
    buf_free(&out);
}

static void http_mcp(req *r, const hreq *rq, hres *rs) {
    mcp_server *s = r->s;
    if (sl_eq(rq->method, "DELETE")) {
        slice sid = req_header(rq, "mcp-session-id");
        if (!sid.p) { res_text(rs, 400, "Mcp-Session-Id header is required"); return; }
        pthread_mutex_lock(&s->lock);
        session *e = s->stateless ? NULL : session_find(s, sid, r);
        if (e) session_drop(s, e);
        pthread_mutex_unlock(&s->lock);
        if (!e && !s->stateless) { res_text(rs, 404, "Session not found"); return; }
        rs->status = 200;
        return;
    }
    if (!sl_eq(rq->method, "POST")) {
        rs->status = 405;
        res_header(rs, "Allow", "POST, DELETE");
        res_text(rs, 405, "Method Not Allowed: this endpoint takes POST (no standalone SSE stream)");
        return;
    }
    slice ct = req_header(rq, "content-type");
    if (ct.p) { /* the media type, without its parameters */
        const char *semi = memchr(ct.p, ';', ct.n);
        if (semi) ct.n = (size_t)(semi - ct.p);
        ct = sl_trim(ct);
    }
    if (!ct.p || !sl_ieq(ct, "application/json")) {
        res_rpc_error(rs, 415, NULL, RPC_INVALID, "Unsupported Media Type: Content-Type must be application/json");
        return;
    }
    slice acc = req_header(rq, "accept");
    if (acc.p && !sl_icontains(acc, "*/*") &&
        !(sl_icontains(acc, "application/json") && sl_icontains(acc, "text/event-stream"))) {
        res_rpc_error(rs, 406, NULL, RPC_INVALID, "Not Acceptable: Accept must list application/json and text/event-stream");
        return;
    }
    mcp_json_err e;
    mcp_json_doc *d = json_parse_inplace(rq->body, rq->blen, 0, &e);
    if (!d) {
        char m[160];
        snprintf(m, sizeof m, "Parse error: %s at byte %zu", e.msg ? e.msg : "invalid JSON", e.pos);
        res_rpc_error(rs, 400, NULL, RPC_PARSE, m);
        return;
    }
    const mcp_json *root = mcp_json_root(d);
    if (is_stateless_msg(rq, root)) http_stateless(r, rq, rs, root);
    else http_session(r, rq, rs, root);
    mcp_json_free(d);
}

/*=== MARK: - 22. Authentication (Private; mcp_auth is public) ===*/
/*
 * Who may call, the same on Lambda and in serve, configured by environment (values may be
 * ssm:/secretsmanager: references, resolved at start):
 *   MCP_API_KEYS        bearer keys, comma-separated (several at once, for rotation);
 *                       "Authorization: Bearer KEY" or "X-Api-Key: KEY"; compared in
 *                       constant time
 *   MCP_JWT_ISSUER, MCP_JWT_AUDIENCE, MCP_JWT_JWKS_URL (default ISSUER/.well-known/jwks.json),
 *   MCP_JWT_HS256_SECRET, MCP_JWT_LEEWAY (seconds, default 60)
 *                       JWTs signed RS256, ES256 (keys from the JWKS, fetched over HTTPS,
 *                       cached, fetched again for an unknown kid) or HS256 (only when a
 *                       secret is configured); "alg":"none" and algorithm confusion refused
 *   MCP_IAM_ALLOW       ARN patterns (* matches any run) for callers authenticated by AWS
 *                       IAM (function URL or API Gateway with AWS_IAM)
 *   MCP_OAUTH_RESOURCE, MCP_OAUTH_AUTHORIZATION_SERVERS, MCP_OAUTH_SCOPES
 *                       the OAuth protected-resource metadata (RFC 9728) the MCP
 *                       authorization spec asks for
 *   MCP_OAUTH_CLIENT_ID, MCP_OAUTH_AUTHORIZATION_ENDPOINT, MCP_OAUTH_TOKEN_ENDPOINT,
 *   MCP_OAUTH_REDIRECT_URIS
 *                       for an authorization server without dynamic client registration
 *                       (Cognito): the server names itself as the authorization server,
 *                       serves its metadata (RFC 8414) with those endpoints, and answers
 *                       registration (RFC 7591, POST /register) with the one provisioned
 *                       public client, for the redirect URIs it was provisioned with
 * Claims an API Gateway JWT authorizer already verified are accepted from the event. With
 * nothing configured, nothing is checked (a function URL with auth NONE is public). Every
 * refusal is logged with its reason, never the credential, and counted.
 */

typedef struct {
    char kid[128];
    int kty;                    /* BR_KEYTYPE_RSA or BR_KEYTYPE_EC */
    unsigned char *n, *e;       /* RSA */
    size_t nl, el;
    unsigned char q[65];        /* EC P-256, uncompressed */
} jwk;

typedef struct {
    int configured;
    char **keys; int nkeys;
    char *iss, *aud, *jwks_url, *hs;
    long leeway;
    int require_exp;            /* MCP_JWT_REQUIRE_EXP (1 unless "0") */
    char **iam; int niam;
    jwk *jwks; int njwks;
    uint64_t jwks_at;           /* when the JWKS was last fetched (ms) */
    char jwks_err[256];         /* why the last fetch failed; empty when it worked */
    unsigned long refusals;
} auth_conf;

#define JWKS_TIMEOUT_MS 5000     /* one JWKS fetch */
#define JWKS_REFETCH_MS 10000    /* at most one fetch this often, failed or not */
#define JWKS_MAX (1u << 20)      /* the largest JWKS document accepted */

static auth_conf authc;
static pthread_once_t auth_once = PTHREAD_ONCE_INIT;
static pthread_mutex_t auth_lock = PTHREAD_MUTEX_INITIALIZER;


static char *env_dup(const char *name) {
    const char *v = getenv(name);
    return v && *v ? xstrdup(v) : NULL;
}

static void auth_setup(void) {
    authc.keys = split_list(getenv("MCP_API_KEYS"), &authc.nkeys);
    authc.iam = split_list(getenv("MCP_IAM_ALLOW"), &authc.niam);
    authc.iss = env_dup("MCP_JWT_ISSUER");
    authc.aud = env_dup("MCP_JWT_AUDIENCE");
    authc.hs = env_dup("MCP_JWT_HS256_SECRET");
    authc.jwks_url = env_dup("MCP_JWT_JWKS_URL");
    if (!authc.jwks_url && authc.iss) {
        buf u = {0};
        buf_puts(&u, authc.iss);
        while (u.len && u.p[u.len - 1] == '/') u.p[--u.len] = 0;
        buf_puts(&u, "/.well-known/jwks.json");
        authc.jwks_url = u.p;
    }
    const char *re = getenv("MCP_JWT_REQUIRE_EXP"); /* "0": tokens without exp are accepted */
    authc.require_exp = !(re && !strcmp(re, "0"));
    const char *lw = getenv("MCP_JWT_LEEWAY");
    authc.leeway = lw ? atol(lw) : 60;
    authc.configured = authc.nkeys || authc.niam || authc.iss || authc.hs || authc.aud || authc.jwks_url;
}

#if MCP_ENABLE_AUTH
/* Constant time in the length of the secret: both sides are hashed first. */
static int secret_eq(const char *a, size_t an, const char *b, size_t bn) {
    unsigned char x[32], y[32];
    hmac_sha256("mcp.c key", 9, a, an, x);
    hmac_sha256("mcp.c key", 9, b, bn, y);
    unsigned d = 0;
    for (int i = 0; i < 32; i++) d |= (unsigned)(x[i] ^ y[i]);
    return !d;
}

#endif

static int glob_match(const char *pat, const char *s) {
    if (!*pat) return !*s;
    if (*pat == '*') {
        for (;; s++) {
            if (glob_match(pat + 1, s)) return 1;
            if (!*s) return 0;
        }
    }
    return *s && *pat == *s && glob_match(pat + 1, s + 1);
}

#if MCP_ENABLE_AUTH
/* base64url (padding optional) into a malloc'ed buffer. */
static unsigned char *b64url_dup(const char *s, size_t n, size_t *out, int padding) {
    unsigned char *o = xmalloc(n * 3 / 4 + 4);
    for (size_t i = 0; i < n; i++)
        if (!((s[i] >= 'A' && s[i] <= 'Z') || (s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9') ||
              s[i] == '-' || s[i] == '_' || (padding && s[i] == '='))) { free(o); return NULL; }
    long k = base64_decode(s, n, o);
    if (k < 0) { free(o); return NULL; }
    o[k] = 0;
    *out = (size_t)k;
    return o;
}

#if MCP_ENABLE_TLS
static void jwks_free(jwk *keys, int n) {
    for (int i = 0; i < n; i++) { free(keys[i].n); free(keys[i].e); }
    free(keys);
}

/* Fetch the JWKS (RSA and P-256 keys) into *keys. Runs without auth_lock: requests go on
 * with the keys already known while it waits. */
static int jwks_fetch(jwk **keys, int *nkeys, char *why, size_t whyn) {
    mcp_http_request rq;
    memset(&rq, 0, sizeof rq);
    rq.url = authc.jwks_url;
    rq.timeout_ms = JWKS_TIMEOUT_MS;
    rq.max_response = JWKS_MAX;
    mcp_http_response rs;
    *keys = NULL;
    *nkeys = 0;
    if (mcp_http_do(&rq, &rs) || rs.status != 200) {
        snprintf(why, whyn, "the JWKS at %.100s could not be fetched (%.60s)", authc.jwks_url, rs.status ? "HTTP error" : rs.error);
        mcp_http_free(&rs);
        return -1;
    }
    mcp_json_err e;
    mcp_json_doc *d = mcp_json_parse(rs.body, rs.len, 0, &e);
    mcp_http_free(&rs);
    mcp_json_iter it = mcp_json_iterate(mcp_json_get(mcp_json_root(d), "keys"));
    const mcp_json *k;
    while ((k = mcp_json_iter_next(&it, NULL))) {
        const char *kty = mcp_json_str(mcp_json_get(k, "kty")), *kid = mcp_json_str(mcp_json_get(k, "kid"));
        jwk j;
        memset(&j, 0, sizeof j);
        snprintf(j.kid, sizeof j.kid, "%s", kid ? kid : "");
        if (kty && !strcmp(kty, "RSA")) {
            const mcp_json *n = mcp_json_get(k, "n"), *ex = mcp_json_get(k, "e");
            if (!mcp_json_str(n) || !mcp_json_str(ex)) continue;
            j.kty = BR_KEYTYPE_RSA;
            j.n = b64url_dup(n->s, n->len, &j.nl, 1);
            j.e = b64url_dup(ex->s, ex->len, &j.el, 1);
            if (!j.n || !j.e) { free(j.n); free(j.e); continue; }
        } else if (kty && !strcmp(kty, "EC")) {
            const char *crv = mcp_json_str(mcp_json_get(k, "crv"));
            const mcp_json *x = mcp_json_get(k, "x"), *y = mcp_json_get(k, "y");
            size_t xl, yl;
            if (!crv || strcmp(crv, "P-256") || !mcp_json_str(x) || !mcp_json_str(y)) continue;
            unsigned char *xb = b64url_dup(x->s, x->len, &xl, 1), *yb = b64url_dup(y->s, y->len, &yl, 1);
            if (!xb || !yb || xl != 32 || yl != 32) { free(xb); free(yb); continue; }
            j.kty = BR_KEYTYPE_EC;
            j.q[0] = 4;
            memcpy(j.q + 1, xb, 32);
            memcpy(j.q + 33, yb, 32);
            free(xb);
            free(yb);
        } else continue;
        GROW(*keys, *nkeys);
        (*keys)[(*nkeys)++] = j;
    }
    mcp_json_free(d);
    return 0;
}

/* A copy of the JWKS key for kid (any key of the type when the token names none): the
 * JWKS is fetched when none is known and again for an unknown kid, at most every
 * JWKS_REFETCH_MS, so an unreachable JWKS or a stream of unknown kids cannot make every
 * request wait. Returns 1 when found (free out's n and e). */
static int jwks_key(const char *kid, int kty, jwk *out, char *why, size_t whyn) {
    for (int pass = 0; pass < 2; pass++) {
        pthread_mutex_lock(&auth_lock);
        if (pass || !authc.njwks) {
            if (authc.jwks_at && now_ms() - authc.jwks_at < JWKS_REFETCH_MS) {
                if (authc.jwks_err[0]) snprintf(why, whyn, "%s", authc.jwks_err); /* the last fetch failed */
                pthread_mutex_unlock(&auth_lock);
                return 0;
            }
            authc.jwks_at = now_ms(); /* this thread fetches; the others wait for nothing */
            pthread_mutex_unlock(&auth_lock);
            jwk *keys;
            int n;
            char err[256];
            int rc = jwks_fetch(&keys, &n, err, sizeof err);
            pthread_mutex_lock(&auth_lock);
            if (rc) {
                snprintf(authc.jwks_err, sizeof authc.jwks_err, "%s", err);
                snprintf(why, whyn, "%s", err);
                pthread_mutex_unlock(&auth_lock);
                return 0;
            }
            authc.jwks_err[0] = 0;
            jwks_free(authc.jwks, authc.njwks);
            authc.jwks = keys;
            authc.njwks = n;
        }
        int found = 0;
        for (int i = 0; i < authc.njwks && !found; i++) {
            const jwk *k = &authc.jwks[i];
            if ((kid && strcmp(k->kid, kid)) || k->kty != kty) continue;
            *out = *k;
            out->n = k->n ? memcpy(xmalloc(k->nl), k->n, k->nl) : NULL;
            out->e = k->e ? memcpy(xmalloc(k->el), k->e, k->el) : NULL;
            found = 1;
        }
        pthread_mutex_unlock(&auth_lock);
        if (found) return 1;
    }
    return 0;
}
#endif

/* Verify a JWT: signature, then exp/nbf/iss/aud. On success a->claims holds the payload. */
static int jwt_verify(const char *tok, size_t n, auth_ctx *a, char *why, size_t whyn) {
    const char *d1 = memchr(tok, '.', n), *d2 = d1 ? memchr(d1 + 1, '.', n - (size_t)(d1 + 1 - tok)) : NULL;
    if (!d1 || !d2 || memchr(d2 + 1, '.', n - (size_t)(d2 + 1 - tok))) { snprintf(why, whyn, "the token is not a JWT"); return -1; }
    size_t hl, pl, sl;
    unsigned char *h = b64url_dup(tok, (size_t)(d1 - tok), &hl, 0); /* JWS: base64url without padding */
    unsigned char *p = b64url_dup(d1 + 1, (size_t)(d2 - d1 - 1), &pl, 0);
    unsigned char *sig = b64url_dup(d2 + 1, n - (size_t)(d2 + 1 - tok), &sl, 0);
    mcp_json_doc *hd = NULL, *pd = NULL;
    int rc = -1;
    mcp_json_err e;
    if (!h || !p || !sig || !(hd = mcp_json_parse((char *)h, hl, 16, &e)) || !(pd = mcp_json_parse((char *)p, pl, 32, &e)) ||
        MCP_JSON_TYPE(mcp_json_root(pd)) != MCP_JSON_OBJECT) {
        snprintf(why, whyn, "the JWT is malformed");
        goto out;
    }
    const char *alg = mcp_json_str(mcp_json_get(mcp_json_root(hd), "alg"));
    const char *kid = mcp_json_str(mcp_json_get(mcp_json_root(hd), "kid"));
    (void)kid;
    if (!alg || !strcmp(alg, "none") || !strcmp(alg, "None") || !strcmp(alg, "NONE")) {
        snprintf(why, whyn, "unsigned JWTs (alg none) are refused");
        goto out;
    }
    unsigned char hash[32];
    sha256_ctx sc;
    sha256_init(&sc);
    sha256_update(&sc, tok, (size_t)(d2 - tok));
    sha256_final(&sc, hash);
    if (!strcmp(alg, "HS256")) {
        if (!authc.hs) { snprintf(why, whyn, "HS256 tokens are not accepted (no shared secret is configured)"); goto out; }
        unsigned char mac[32];
        hmac_sha256(authc.hs, strlen(authc.hs), tok, (size_t)(d2 - tok), mac);
        unsigned diff = sl != 32;
        for (size_t i = 0; i < 32 && sl == 32; i++) diff |= (unsigned)(mac[i] ^ sig[i]);
        if (diff) { snprintf(why, whyn, "the JWT signature does not verify"); goto out; }
    } else if (!strcmp(alg, "RS256") || !strcmp(alg, "ES256")) {
#if MCP_ENABLE_TLS
        int want = alg[0] == 'R' ? BR_KEYTYPE_RSA : BR_KEYTYPE_EC, ok;
        if (!authc.jwks_url) { snprintf(why, whyn, "%s tokens need MCP_JWT_JWKS_URL or MCP_JWT_ISSUER", alg); goto out; }
        jwk k;
        if (!jwks_key(kid, want, &k, why, whyn)) {
            if (!why[0]) snprintf(why, whyn, "no %s key%s%.100s in the JWKS", alg, kid ? " with kid " : "", kid ? kid : "");
            goto out;
        }
        if (want == BR_KEYTYPE_RSA) { /* outside the lock: checks run in parallel */
            br_rsa_public_key pk = {k.n, k.nl, k.e, k.el};
            unsigned char dig[32];
            ok = br_rsa_pkcs1_vrfy_get_default()(sig, sl, BR_HASH_OID_SHA256, 32, &pk, dig) && !memcmp(dig, hash, 32);
        } else {
            br_ec_public_key pk = {BR_EC_secp256r1, k.q, 65};
            ok = sl == 64 && br_ecdsa_i31_vrfy_raw(&br_ec_prime_i31, hash, 32, &pk, sig, 64);
        }
        free(k.n);
        free(k.e);
        if (!ok) { snprintf(why, whyn, "the JWT signature does not verify"); goto out; }
#else
        snprintf(why, whyn, "%s tokens need a build with MCP_ENABLE_TLS", alg);
        goto out;
#endif
    } else {
        snprintf(why, whyn, "JWT algorithm %.20s is not accepted (RS256, ES256, HS256 are)", alg);
        goto out;
    }
    const mcp_json *c = mcp_json_root(pd), *v;
    int64_t now = (int64_t)(now_ms() / 1000), t;
    if (!(v = mcp_json_get(c, "exp"))) {
        if (authc.require_exp) { snprintf(why, whyn, "the JWT has no exp claim"); goto out; }
    } else if (!mcp_json_int(v, &t) || now - authc.leeway > t) { snprintf(why, whyn, "the JWT has expired"); goto out; }
    if ((v = mcp_json_get(c, "nbf")) && (!mcp_json_int(v, &t) || now + authc.leeway < t)) { snprintf(why, whyn, "the JWT is not valid yet (nbf)"); goto out; }
    const mcp_json *iss = mcp_json_get(c, "iss");
    if (authc.iss && (!mcp_json_str(iss) || iss->len != strlen(authc.iss) || memcmp(iss->s, authc.iss, iss->len))) {
        snprintf(why, whyn, "the JWT was issued by someone else (iss)");
        goto out;
    }
    if (authc.aud) { /* a string, or an array of strings; compared byte for byte */
        const mcp_json *au = mcp_json_get(c, "aud");
        size_t al = strlen(authc.aud);
        int match = mcp_json_str(au) && au->len == al && !memcmp(au->s, authc.aud, al);
        mcp_json_iter it = mcp_json_iterate(MCP_JSON_TYPE(au) == MCP_JSON_ARRAY ? au : NULL);
        while ((v = mcp_json_iter_next(&it, NULL)))
            if (mcp_json_str(v) && v->len == al && !memcmp(v->s, authc.aud, al)) match = 1;
        if (!match) { snprintf(why, whyn, "the JWT is for another audience (aud)"); goto out; }
    }
    a->kind = "jwt";
    snprintf(a->principal, sizeof a->principal, "%s", mcp_json_str(mcp_json_get(c, "sub")) ? mcp_json_get(c, "sub")->s : "");
    const mcp_json *sc2 = mcp_json_get(c, "scope");
    if (!sc2) sc2 = mcp_json_get(c, "scp");
    if (mcp_json_str(sc2)) snprintf(a->scopes, sizeof a->scopes, "%s", sc2->s);
    else {
        mcp_json_iter it = mcp_json_iterate(sc2);
        size_t at = 0;
        while ((v = mcp_json_iter_next(&it, NULL)))
            if (mcp_json_str(v) && at + v->len + 2 < sizeof a->scopes) at += (size_t)snprintf(a->scopes + at, sizeof a->scopes - at, "%s%s", at ? " " : "", v->s);
    }
    a->claims = pd;
    pd = NULL;
    rc = 0;
out:
    free(h); free(p); free(sig);
    mcp_json_free(hd);
    mcp_json_free(pd);
    return rc;
}

#endif

static int has_scope(const char *granted, const char *want, size_t wn) {
    for (const char *p = granted; *p;) {
        while (*p == ' ') p++;
        const char *e = p;
        while (*e && *e != ' ') e++;
        if ((size_t)(e - p) == wn && !memcmp(p, want, wn)) return 1;
        p = e;
    }
    return 0;
}

/* Check the caller. Returns 0 (a filled in), or the HTTP status to refuse with (why says
 * why, invalid says whether a presented token was bad). */
static int auth_check(const hreq *rq, auth_ctx *a, char *why, size_t whyn, int *invalid) {
    pthread_once(&auth_once, auth_setup);
    memset(a, 0, sizeof *a);
    *invalid = 0;
    const char *iam_arn = rq->iam_arn;
    if (authc.niam) {
        if (!iam_arn) { snprintf(why, whyn, "the request is not signed with AWS IAM"); return 403; }
        for (int i = 0; i < authc.niam; i++)
            if (glob_match(authc.iam[i], iam_arn)) {
                a->kind = "iam";
                snprintf(a->principal, sizeof a->principal, "%s", iam_arn);
                a->all_scopes = 1; strcpy(a->scopes, "*");
                return 0;
            }
        snprintf(why, whyn, "IAM principal %.200s is not allowed", iam_arn);
        return 403;
    }
    if (rq->lambda_ctx) { /* let through by an API Gateway Lambda authorizer */
        const mcp_json *c = rq->lambda_ctx;
        const char *who = mcp_json_str(mcp_json_get(c, "principalId"));
        if (!who) who = mcp_json_str(mcp_json_get(c, "sub"));
        const char *sc = mcp_json_str(mcp_json_get(c, "scope"));
        a->kind = "lambda-authorizer";
        a->gw_claims = c;
        snprintf(a->principal, sizeof a->principal, "%s", who ? who : "");
        snprintf(a->scopes, sizeof a->scopes, "%s", sc ? sc : "");
        return 0;
    }
    if (rq->gw_claims) { /* verified by an API Gateway JWT authorizer */
        a->kind = "gateway-jwt";
        a->gw_claims = rq->gw_claims;
        const char *sub = mcp_json_str(mcp_json_get(rq->gw_claims, "sub"));
        const char *sc = mcp_json_str(mcp_json_get(rq->gw_claims, "scope"));
        snprintf(a->principal, sizeof a->principal, "%s", sub ? sub : "");
        snprintf(a->scopes, sizeof a->scopes, "%s", sc ? sc : "");
        return 0;
    }
    if (!authc.configured) {
        if (iam_arn) { a->kind = "iam"; snprintf(a->principal, sizeof a->principal, "%s", iam_arn); a->all_scopes = 1; strcpy(a->scopes, "*"); }
        return 0;
    }
#if !MCP_ENABLE_AUTH
    snprintf(why, whyn, "MCP_API_KEYS or MCP_JWT_* is set, but this server was built with MCP_ENABLE_AUTH=0");
    return 403;
#else
    slice h = req_header(rq, "authorization"), tok = {NULL, 0};
    if (h.p && h.n > 7 && !strncasecmp(h.p, "Bearer ", 7)) { tok.p = h.p + 7; tok.n = h.n - 7; tok = sl_trim(tok); }
    slice xk = req_header(rq, "x-api-key");
    if (!tok.n && xk.p) tok = xk;
    if (!tok.n) { snprintf(why, whyn, "no credentials (a bearer token is required)"); return 401; }
    for (int i = 0; i < authc.nkeys; i++)
        if (secret_eq(tok.p, tok.n, authc.keys[i], strlen(authc.keys[i]))) {
            a->kind = "key";
            snprintf(a->principal, sizeof a->principal, "key-%d", i + 1);
            a->all_scopes = 1; strcpy(a->scopes, "*");
            return 0;
        }
    *invalid = 1;
    if (authc.iss || authc.hs || authc.aud || authc.jwks_url) {
        char *t = memcpy(xmalloc(tok.n + 1), tok.p, tok.n);
        t[tok.n] = 0;
        int r = jwt_verify(t, tok.n, a, why, whyn);
        free(t);
        return r ? 401 : 0;
    }
    snprintf(why, whyn, "the API key is not valid");
    return 401;
#endif
}

const char *mcp_auth(mcp_call *c, const char *name) {
    const auth_ctx *a = c ? &c->x->r->auth : NULL;
    if (!name) return NULL;
    if (!strcmp(name, "kind")) return a && a->kind ? a->kind : "none";
    if (!a || !a->kind) return NULL;
    if (!strcmp(name, "principal")) return a->principal[0] ? a->principal : NULL;
    if (!strcmp(name, "scope")) return a->scopes;
    const mcp_json *claims = a->claims ? mcp_json_root(a->claims) : a->gw_claims;
    return mcp_json_str(mcp_json_get(claims, name));
}

/* A tool that needs scopes the caller lacks: -32003 here, 403 insufficient_scope at the HTTP layer. */
static int auth_tool_scopes(const mcp_tool_def *t, auth_ctx *a, rpc_fail *f) {
    if (!t->scopes || !a->kind) return 0;
    for (const char *p = t->scopes; *p;) {
        while (*p == ' ') p++;
        const char *e = p;
        while (*e && *e != ' ') e++;
        if (e > p && !a->all_scopes && !has_scope(a->scopes, p, (size_t)(e - p))) {
            snprintf(a->missing_scope, sizeof a->missing_scope, "%s", t->scopes);
            f->code = MCP_E_FORBIDDEN;
            buf_printf(&f->msg, "Forbidden: tool %s needs scope %.*s", t->name, (int)(e - p), p);
            return -1;
        }
        p = e;
    }
    return 0;
}

static void auth_refused(const req *r, const hreq *rq, const char *why) {
    pthread_mutex_lock(&auth_lock);
    authc.refusals++;
    pthread_mutex_unlock(&auth_lock);
    log_at(LOG_ERROR, r->inv, "refused %.*s %.*s: %s", (int)rq->method.n, rq->method.p, (int)rq->path.n, rq->path.p, why);
}

/* The base URL clients reach this server at, for the metadata document. */
static void auth_base(const hreq *rq, buf *out) {
    const char *res = getenv("MCP_OAUTH_RESOURCE");
    if (res && *res) {
        const char *p = strstr(res, "://");
        const char *slash = p ? strchr(p + 3, '/') : NULL;
        buf_put(out, res, slash ? (size_t)(slash - res) : strlen(res));
        return;
    }
    slice host = req_header(rq, "host");
    buf_printf(out, "%s://", rq->local ? "http" : "https");
    if (!host.p) buf_puts(out, "localhost");
    for (size_t i = 0; host.p && i < host.n; i++) { /* it goes inside a quoted header value */
        char ch = host.p[i];
        int ok = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') || strchr(".-:[]", ch);
        buf_putc(out, ok && ch ? ch : '_');
    }
}

/* GET /.well-known/oauth-protected-resource (RFC 9728). */
static void http_resource_metadata(const hreq *rq, hres *rs) {
    buf base = {0};
    auth_base(rq, &base);
    const char *res = getenv("MCP_OAUTH_RESOURCE");
    rs->status = 200;
    rs->ctype = "application/json";
    jw w = {&rs->body, 0};
    jw_obj(&w);
    jw_key(&w, "resource");
    if (res && *res) jw_str(&w, res);
    else { buf r = {0}; buf_printf(&r, "%s/mcp", base.p); jw_str(&w, r.p); buf_free(&r); }
    if (httpc.oauth_client) { jw_key(&w, "authorization_servers"); jw_arr(&w); jw_str(&w, base.p); jw_end_arr(&w); }
    else if (httpc.oauth_as.n || authc.iss) {
        jw_key(&w, "authorization_servers"); jw_arr(&w);
        if (!httpc.oauth_as.n) jw_str(&w, authc.iss);
        for (int i = 0; i < httpc.oauth_as.n; i++) jw_str(&w, httpc.oauth_as.v[i]);
        jw_end_arr(&w);
    }
    if (httpc.oauth_scopes.n) {
        jw_key(&w, "scopes_supported"); jw_arr(&w);
        for (int i = 0; i < httpc.oauth_scopes.n; i++) jw_str(&w, httpc.oauth_scopes.v[i]);
        jw_end_arr(&w);
    }
    jw_key(&w, "bearer_methods_supported"); jw_arr(&w); jw_str(&w, "header"); jw_end_arr(&w);
    jw_end_obj(&w);
    buf_free(&base);
}

/* The provisioned client stands in for dynamic registration (MCP_OAUTH_CLIENT_ID). */
static const char *oauth_env(const char *name) {
    const char *v = getenv(name);
    return v && *v ? v : NULL;
}

static void oauth_str_array(jw *w, const char *key, const char *const *v, int n) {
    jw_key(w, key); jw_arr(w);
    for (int i = 0; i < n; i++) jw_str(w, v[i]);
    jw_end_arr(w);
}

/* GET /.well-known/oauth-authorization-server (RFC 8414). */
static void http_as_metadata(const hreq *rq, hres *rs) {
    const char *az = oauth_env("MCP_OAUTH_AUTHORIZATION_ENDPOINT"), *tk = oauth_env("MCP_OAUTH_TOKEN_ENDPOINT");
    if (!az || !tk) { res_text(rs, 500, "MCP_OAUTH_CLIENT_ID needs MCP_OAUTH_AUTHORIZATION_ENDPOINT and MCP_OAUTH_TOKEN_ENDPOINT"); return; }
    buf base = {0}, reg = {0};
    auth_base(rq, &base);
    buf_printf(&reg, "%s/register", base.p);
    static const char *const code[] = {"code"}, *const grants[] = {"authorization_code", "refresh_token"},
                             *const s256[] = {"S256"}, *const none[] = {"none"};
    rs->status = 200;
    rs->ctype = "application/json";
    jw w = {&rs->body, 0};
    jw_obj(&w);
    jw_key(&w, "issuer"); jw_str(&w, base.p);
    jw_key(&w, "authorization_endpoint"); jw_str(&w, az);
    jw_key(&w, "token_endpoint"); jw_str(&w, tk);
    jw_key(&w, "registration_endpoint"); jw_str(&w, reg.p);
    oauth_str_array(&w, "response_types_supported", code, 1);
    oauth_str_array(&w, "grant_types_supported", grants, 2);
    oauth_str_array(&w, "code_challenge_methods_supported", s256, 1);
    oauth_str_array(&w, "token_endpoint_auth_methods_supported", none, 1);
    if (httpc.oauth_scopes.n) oauth_str_array(&w, "scopes_supported", (const char *const *)httpc.oauth_scopes.v, httpc.oauth_scopes.n);
    jw_end_obj(&w);
    buf_free(&base);
    buf_free(&reg);
}

static void oauth_error(hres *rs, const char *error, const char *desc) {
    rs->status = 400;
    rs->ctype = "application/json";
    rs->body.len = 0;
    jw w = {&rs->body, 0};
    jw_obj(&w);
    jw_key(&w, "error"); jw_str(&w, error);
    jw_key(&w, "error_description"); jw_str(&w, desc);
    jw_end_obj(&w);
}

/* POST /register (RFC 7591): the provisioned public client, for redirect URIs it knows. */
static void http_register(const hreq *rq, hres *rs) {
    const char *cid = oauth_env("MCP_OAUTH_CLIENT_ID");
    mcp_json_err e;
    mcp_json_doc *d = mcp_json_parse(rq->body ? rq->body : "", rq->blen, 0, &e);
    const mcp_json *m = mcp_json_root(d), *uris = mcp_json_get(m, "redirect_uris"), *u;
    const char *method = mcp_json_str(mcp_json_get(m, "token_endpoint_auth_method"));
    const strlist allowed = httpc.oauth_redirects;
    char why[300] = "";
    if (MCP_JSON_TYPE(m) != MCP_JSON_OBJECT) snprintf(why, sizeof why, "the body must be a JSON object of client metadata");
    else if (MCP_JSON_TYPE(uris) != MCP_JSON_ARRAY || !uris->len) snprintf(why, sizeof why, "redirect_uris must be a non-empty array");
    else if (method && strcmp(method, "none"))
        snprintf(why, sizeof why, "token_endpoint_auth_method %.100s: the client is public (none)", method);
    if (why[0]) { oauth_error(rs, "invalid_client_metadata", why); goto out; }
    mcp_json_iter it = mcp_json_iterate(uris);
    while ((u = mcp_json_iter_next(&it, NULL))) {
        const char *v = mcp_json_str(u);
        int ok = v != NULL && !allowed.n;
        for (int i = 0; v && i < allowed.n && !ok; i++) ok = !strcmp(allowed.v[i], v);
        if (!ok) {
            buf b = {0};
            buf_printf(&b, "redirect URI %.200s is not one the client was provisioned with:", v ? v : "(not a string)");
            for (int i = 0; i < allowed.n; i++) buf_printf(&b, " %s", allowed.v[i]);
            oauth_error(rs, "invalid_redirect_uri", b.p);
            buf_free(&b);
            goto out;
        }
    }
    static const char *const code[] = {"code"}, *const grants[] = {"authorization_code", "refresh_token"};
    rs->status = 201;
    rs->ctype = "application/json";
    jw w = {&rs->body, 0};
    jw_obj(&w);
    jw_key(&w, "client_id"); jw_str(&w, cid);
    jw_key(&w, "client_id_issued_at"); jw_int(&w, (int64_t)(now_ms() / 1000));
    jw_key(&w, "redirect_uris"); jw_value(&w, uris);
    const mcp_json *name = mcp_json_get(m, "client_name");
    if (mcp_json_str(name)) { jw_key(&w, "client_name"); jw_value(&w, name); }
    oauth_str_array(&w, "grant_types", grants, 2);
    oauth_str_array(&w, "response_types", code, 1);
    jw_key(&w, "token_endpoint_auth_method"); jw_str(&w, "none");
    if (httpc.oauth_scopes.n) {
        buf sc = {0};
        for (int i = 0; i < httpc.oauth_scopes.n; i++) buf_printf(&sc, "%s%s", i ? " " : "", httpc.oauth_scopes.v[i]);
        jw_key(&w, "scope"); jw_str(&w, sc.p);
        buf_free(&sc);
    }
    jw_end_obj(&w);
out:
    mcp_json_free(d);
}

/*=== MARK: - 23. HTTP endpoints (Private) ===*/
/*
 * Everything a request path can reach besides MCP itself: GET /health, GET /metrics,
 * POST /tools/NAME, CORS preflights, and the router that picks among them and checks the
 * caller first. Handlers run without the server lock: in serve, calls on different
 * connections run at the same time.
 */

/* GET /health: the server, its counters, and each registered dependency check. */
static void http_health(mcp_server *s, hres *rs) {
    jw w = {&rs->body, 0};
    int ok = 1;
    buf checks = {0};
    jw cw = {&checks, 0};
    jw_arr(&cw);
    for (int i = 0; i < s->nchecks; i++) {
        char err[256] = "";
        uint64_t t0 = mono_us();
        int r = s->checks[i].fn(s->checks[i].data, err, sizeof err);
        uint64_t us = mono_us() - t0;
        ok &= r == 0;
        jw_obj(&cw);
        jw_key(&cw, "name"); jw_str(&cw, s->checks[i].name);
        jw_key(&cw, "ok"); jw_bool(&cw, r == 0);
        jw_key(&cw, "latencyMs"); jw_num(&cw, (double)us / 1000.0);
        if (r && err[0]) { jw_key(&cw, "error"); jw_str(&cw, err); }
        jw_end_obj(&cw);
    }
    jw_end_arr(&cw);
    pthread_mutex_lock(&s->mlock);
    uint64_t req = s->http_requests, errs = s->http_errors;
    pthread_mutex_unlock(&s->mlock);
    rs->status = ok ? 200 : 503;
    rs->ctype = "application/json";
    jw_obj(&w);
    jw_key(&w, "status"); jw_str(&w, ok ? "ok" : "failing");
    jw_key(&w, "name"); jw_str(&w, s->name);
    jw_key(&w, "version"); jw_str(&w, s->version);
    jw_key(&w, "runtime"); jw_str(&w, "mcp.c " MCP_VERSION);
    jw_key(&w, "uptimeSeconds"); jw_num(&w, (double)((mono_us() - s->started_us) / 1000) / 1000.0);
    jw_key(&w, "requests"); jw_int(&w, (long long)req);
    jw_key(&w, "errors"); jw_int(&w, (long long)errs);
    jw_key(&w, "checks"); jw_raw(&w, checks.p, checks.len);
    jw_end_obj(&w);
    buf_free(&checks);
}

static void metric_json(jw *w, const stat *st) {
    jw_obj(w);
    jw_key(w, "count"); jw_int(w, (long long)st->count);
    jw_key(w, "errors"); jw_int(w, (long long)st->errors);
    jw_key(w, "meanMs"); jw_num(w, st->count ? (double)st->total_us / 1000.0 / (double)st->count : 0);
    jw_key(w, "p50Ms"); jw_num(w, stat_pct(st, 0.5));
    jw_key(w, "p90Ms"); jw_num(w, stat_pct(st, 0.9));
    jw_key(w, "p99Ms"); jw_num(w, stat_pct(st, 0.99));
    jw_end_obj(w);
}

static void metric_prom(buf *b, const char *label, const char *value, const stat *st) {
    buf_printf(b, "mcp_requests_total{%s=\"%s\"} %llu\n", label, value, (unsigned long long)st->count);
    buf_printf(b, "mcp_errors_total{%s=\"%s\"} %llu\n", label, value, (unsigned long long)st->errors);
    uint64_t cum = 0;
    for (int i = 0; i < LAT_BUCKETS; i++) {
        cum += st->hist[i];
        buf_printf(b, "mcp_duration_seconds_bucket{%s=\"%s\",le=\"%g\"} %llu\n", label, value,
                   (double)(32ull << i) / 1e6, (unsigned long long)cum);
    }
    buf_printf(b, "mcp_duration_seconds_bucket{%s=\"%s\",le=\"+Inf\"} %llu\n", label, value, (unsigned long long)cum);
    buf_printf(b, "mcp_duration_seconds_sum{%s=\"%s\"} %g\n", label, value, (double)st->total_us / 1e6);
    buf_printf(b, "mcp_duration_seconds_count{%s=\"%s\"} %llu\n", label, value, (unsigned long long)st->count);
}

/* GET /metrics: per-method and per-tool counts, errors and latency; JSON, or the
 * Prometheus text format when the client accepts text/plain. */
static void http_metrics(mcp_server *s, const hreq *rq, hres *rs) {
    unsigned long handshakes = tls_handshake_count(), retries = aws_retry_count(), refusals;
    pthread_mutex_lock(&auth_lock);
    refusals = authc.refusals;
    pthread_mutex_unlock(&auth_lock);
    pthread_mutex_lock(&s->mlock);
    if (sl_icontains(req_header(rq, "accept"), "text/plain")) {
        rs->ctype = "text/plain; version=0.0.4";
        for (size_t i = 0; i <= M_OTHER; i++)
            if (s->mstat[i].count) metric_prom(&rs->body, "method", method_name(i), &s->mstat[i]);
        for (int i = 0; i < s->ntools; i++)
            if (s->tools[i]->st.count) metric_prom(&rs->body, "tool", s->tools[i]->name, &s->tools[i]->st);
        buf_printf(&rs->body, "mcp_uptime_seconds %g\n", (double)(mono_us() - s->started_us) / 1e6);
        buf_printf(&rs->body, "mcp_aws_retries_total %lu\n", retries);
    } else {
        rs->ctype = "application/json";
        jw w = {&rs->body, 0};
        jw_obj(&w);
        jw_key(&w, "uptimeSeconds"); jw_num(&w, (double)((mono_us() - s->started_us) / 1000) / 1000.0);
        jw_key(&w, "httpRequests"); jw_int(&w, (long long)s->http_requests);
        jw_key(&w, "tlsHandshakes"); jw_int(&w, (long long)handshakes);
        jw_key(&w, "awsRetries"); jw_int(&w, (long long)retries);
        jw_key(&w, "authRefusals"); jw_int(&w, (long long)refusals);
        jw_key(&w, "methods"); jw_obj(&w);
        for (size_t i = 0; i <= M_OTHER; i++)
            if (s->mstat[i].count) { jw_key(&w, method_name(i)); metric_json(&w, &s->mstat[i]); }
        jw_end_obj(&w);
        jw_key(&w, "tools"); jw_obj(&w);
        for (int i = 0; i < s->ntools; i++)
            if (s->tools[i]->st.count) { jw_key(&w, s->tools[i]->name); metric_json(&w, &s->tools[i]->st); }
        jw_end_obj(&w);
        jw_end_obj(&w);
    }
    pthread_mutex_unlock(&s->mlock);
    rs->status = 200;
}

/* POST /tools/NAME with the arguments as a JSON object: the tool's result as JSON, for
 * plain HTTP clients. 404 for an unknown tool, 400 for a body that is not an object. */
static void http_tool(req *r, const hreq *rq, hres *rs, slice name) {
    mcp_server *s = r->s;
    if (!sl_eq(rq->method, "POST")) {
        res_header(rs, "Allow", "POST");
        res_text(rs, 405, "Method Not Allowed: call a tool with POST");
        return;
    }
    char tname[256];
    if (name.n == 0 || name.n >= sizeof tname) { res_text(rs, 404, "Not Found: no such tool"); return; }
    memcpy(tname, name.p, name.n);
    tname[name.n] = 0;
    if (!tool_find(s, tname)) {
        buf m = {0};
        buf_printf(&m, "Not Found: no tool named %s", tname);
        res_text(rs, 404, m.p);
        buf_free(&m);
        return;
    }
    buf req = {0};
    buf_puts(&req, "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"tools/call\",\"params\":{\"name\":");
    json_escape(&req, tname, strlen(tname));
    buf_puts(&req, ",\"arguments\":");
    size_t at = req.len;
    buf_put(&req, rq->body, rq->blen);
    if (req.len == at) buf_puts(&req, "{}");
    buf_puts(&req, "}}");
    mcp_json_err e;
    mcp_json_doc *args = mcp_json_parse(rq->body, rq->blen, 0, &e);
    if (rq->blen && (!args || MCP_JSON_TYPE(mcp_json_root(args)) != MCP_JSON_OBJECT)) {
        char m[160];
        if (!args) snprintf(m, sizeof m, "Bad Request: the body is not JSON: %s at byte %zu", e.msg, e.pos);
        else snprintf(m, sizeof m, "Bad Request: the body must be a JSON object of arguments");
        res_text(rs, 400, m);
        mcp_json_free(args);
        buf_free(&req);
        return;
    }
    mcp_json_free(args);
    mcp_json_doc *d = mcp_json_parse(req.p, req.len, 0, &e);
    buf_free(&req);
    if (!d) { res_text(rs, 400, "Bad Request: the body is not JSON"); return; }
    buf out = {0};
    rpc_serve_plain(r, mcp_json_root(d), &out);
    mcp_json_free(d);
    mcp_json_doc *ans = mcp_json_parse(out.p, out.len, 0, &e);
    const mcp_json *root = mcp_json_root(ans), *err = mcp_json_get(root, "error");
    int64_t code = 0;
    mcp_json_int(mcp_json_get(err, "code"), &code);
    const mcp_json *res = err ? err : mcp_json_get(root, "result");
    rs->status = err ? (code == RPC_BAD_PARAMS ? 400 : 500) : 200;
    rs->ctype = "application/json";
    json_write_value(&rs->body, res);
    mcp_json_free(ans);
    buf_free(&out);
}

/* CORS, from MCP_CORS_ORIGINS (comma-separated origins, or *). */
static int cors_origin(slice origin) { return origin.p && strlist_has(&httpc.cors, origin, 0); }

static void http_route(req *r, const hreq *rq, hres *rs) {
    mcp_server *s = r->s;
    pthread_once(&httpc_once, http_conf_load);
    rs->status = 200;
    slice origin = req_header(rq, "origin");
    int cors = cors_origin(origin);
    if (rq->local) {
        if (!host_allowed(req_header(rq, "host"))) { res_text(rs, 403, "Forbidden: Host header not allowed"); goto out; }
        if (!cors && !origin_allowed(origin)) { res_text(rs, 403, "Forbidden: Origin not allowed"); goto out; }
    }
    if (cors) {
        res_header(rs, "Access-Control-Allow-Origin", "%.*s", (int)origin.n, origin.p);
        res_header(rs, "Access-Control-Expose-Headers", "Mcp-Session-Id");
        res_header(rs, "Vary", "Origin");
    }
    if (sl_eq(rq->method, "OPTIONS")) {
        rs->status = 204;
        if (cors) {
            res_header(rs, "Access-Control-Allow-Methods", "GET, POST, DELETE, OPTIONS");
            res_header(rs, "Access-Control-Allow-Headers", "Content-Type, Accept, Authorization, Mcp-Session-Id, "
                                                           "MCP-Protocol-Version, Mcp-Method, Mcp-Name, Last-Event-ID");
            res_header(rs, "Access-Control-Max-Age", "86400");
        }
        res_header(rs, "Allow", "GET, POST, DELETE, OPTIONS");
        goto out;
    }
    int is_mcp = sl_eq(rq->path, "/mcp") || sl_eq(rq->path, "/rpc") || sl_eq(rq->path, "/mcp/") ||
                 (!rq->local && sl_eq(rq->path, "/"));
    int protected_path = is_mcp || sl_eq(rq->path, "/metrics") || (rq->path.n > 7 && !memcmp(rq->path.p, "/tools/", 7));
    auth_ctx *actx = &r->auth;
    if (sl_eq(rq->path, "/.well-known/oauth-protected-resource") ||
        sl_eq(rq->path, "/.well-known/oauth-protected-resource/mcp")) {
        pthread_once(&auth_once, auth_setup);
        http_resource_metadata(rq, rs);
        goto out;
    }
    if (httpc.oauth_client) {
        if (sl_eq(rq->path, "/.well-known/oauth-authorization-server") ||
            sl_eq(rq->path, "/.well-known/oauth-authorization-server/mcp") ||
            sl_eq(rq->path, "/.well-known/openid-configuration")) {
            if (sl_eq(rq->method, "GET") || sl_eq(rq->method, "HEAD")) http_as_metadata(rq, rs);
            else { res_text(rs, 405, "Method Not Allowed"); res_header(rs, "Allow", "GET, HEAD, OPTIONS"); }
            goto out;
        }
        if (sl_eq(rq->path, "/register")) {
            if (sl_eq(rq->method, "POST")) http_register(rq, rs);
            else { res_text(rs, 405, "Method Not Allowed"); res_header(rs, "Allow", "POST, OPTIONS"); }
            goto out;
        }
    }
    if (protected_path) {
        char why[256] = "";
        int invalid, st = auth_check(rq, actx, why, sizeof why, &invalid);
        for (char *p = why; *p; p++) /* it goes into a header and a log line: nothing that could break either */
            if ((unsigned char)*p < 0x20 || *p == 0x7f || *p == '"' || *p == '\\') *p = '?';
        if (st) {
            auth_refused(r, rq, why);
            buf base = {0};
            auth_base(rq, &base);
            if (st == 401)
                res_header(rs, "WWW-Authenticate", "Bearer resource_metadata=\"%s/.well-known/oauth-protected-resource/mcp\"%s%s%s",
                           base.p, invalid ? ", error=\"invalid_token\", error_description=\"" : "", invalid ? why : "", invalid ? "\"" : "");
            buf_free(&base);
            buf m = {0};
            buf_printf(&m, "%s: %s", st == 401 ? "Unauthorized" : "Forbidden", why);
            res_text(rs, st, m.p);
            buf_free(&m);
            goto out;
        }
    }
    if (is_mcp) {
        http_mcp(r, rq, rs);
    } else if (sl_eq(rq->path, "/health")) {
        if (sl_eq(rq->method, "GET") || sl_eq(rq->method, "HEAD")) {
            /* with authentication configured, a caller without credentials learns only that
             * the server is alive: no name, version, counters or dependency checks */
            char why[256];
            int invalid;
            pthread_once(&auth_once, auth_setup);
            if (authc.configured && !actx->kind && auth_check(rq, actx, why, sizeof why, &invalid)) {
                rs->status = 200;
                rs->ctype = "application/json";
                buf_puts(&rs->body, "{\"status\":\"ok\"}");
            } else http_health(s, rs);
        }
        else { res_header(rs, "Allow", "GET"); res_text(rs, 405, "Method Not Allowed: use GET"); }
    } else if (sl_eq(rq->path, "/metrics")) {
        if (sl_eq(rq->method, "GET")) http_metrics(s, rq, rs);
        else { res_header(rs, "Allow", "GET"); res_text(rs, 405, "Method Not Allowed: use GET"); }
    } else if (rq->path.n > 7 && !memcmp(rq->path.p, "/tools/", 7)) {
        slice name = {rq->path.p + 7, rq->path.n - 7};
        http_tool(r, rq, rs, name);
    } else {
        res_text(rs, 404, "Not Found: the MCP endpoint is /mcp");
    }
    if (actx->missing_scope[0]) { /* a tool needed a scope the caller lacks */
        char why[384];
        snprintf(why, sizeof why, "%.100s lacks a scope of \"%.200s\"", actx->principal[0] ? actx->principal : "the caller", actx->missing_scope);
        for (char *p = why; *p; p++) if ((unsigned char)*p < 0x20 || *p == 0x7f) *p = '?';
        auth_refused(r, rq, why);
    }
    if (actx->missing_scope[0] && !rs->streaming) {
        rs->status = 403;
        res_header(rs, "WWW-Authenticate", "Bearer error=\"insufficient_scope\", scope=\"%s\"", actx->missing_scope);
    }
out:
    pthread_mutex_lock(&s->mlock);
    s->http_requests++;
    s->http_errors += rs->status >= 500;
    pthread_mutex_unlock(&s->mlock);
}

/*=== MARK: - 24. Transports (Private) ===*/

/* --- serve: HTTP/1.1 server, one thread per connection --- */

/* The connections, one slot each. When all MCP_MAX_CONNS slots are taken, the connection
 * idle longest (between requests) gives way to the new one; one client address holds at
 * most MCP_MAX_CONNS_PER_CLIENT; a handler waiting for the client's answer to an
 * elicitation or sampling request gives its slot back while it waits. */
enum { CONN_IDLE, CONN_BUSY, CONN_WAITING };

typedef struct serve_conn {
    struct serve_conn *next;
    mcp_server *s;
    int fd;
    int state;              /* CONN_*, under conns_lock */
    int evicted;            /* shut down to make room */
    uint64_t idle_since;
    char peer[INET6_ADDRSTRLEN];
} serve_conn;

static serve_conn *conns;
static pthread_mutex_t conns_lock = PTHREAD_MUTEX_INITIALIZER;

static void conn_state(serve_conn *sc, int state) {
    pthread_mutex_lock(&conns_lock);
    if (state == CONN_IDLE && sc->state != CONN_IDLE) sc->idle_since = mono_us();
    sc->state = state;
    pthread_mutex_unlock(&conns_lock);
}

/* Room for a connection from peer? 0 (sc is in the table), or the reason it is refused. */
static const char *conn_admit(serve_conn *sc) {
    int slots = 0, mine = 0, all = 0;
    serve_conn *idlest = NULL, *my_idlest = NULL;
    pthread_mutex_lock(&conns_lock);
    for (serve_conn *o = conns; o; o = o->next) {
        all++;
        if (o->state == CONN_WAITING || o->evicted) continue;
        slots++;
        int same = !strcmp(o->peer, sc->peer);
        mine += same;
        if (o->state != CONN_IDLE) continue;
        if (!idlest || o->idle_since < idlest->idle_since) idlest = o;
        if (same && (!my_idlest || o->idle_since < my_idlest->idle_since)) my_idlest = o;
    }
    const char *why = NULL;
    serve_conn *evict = NULL;
    if (all >= 2 * MCP_MAX_CONNS) why = "Service Unavailable: too many connections";
    else if (mine >= MCP_MAX_CONNS_PER_CLIENT) { /* the client's own idle connection gives way, or it waits */
        if (!(evict = my_idlest)) why = "Service Unavailable: too many connections from this client";
    } else if (slots >= MCP_MAX_CONNS) {
        if (!(evict = idlest)) why = "Service Unavailable: too many connections";
    }
    if (evict) { evict->evicted = 1; shutdown(evict->fd, SHUT_RDWR); } /* its thread sees EOF and ends */
    if (!why) {
        sc->state = CONN_IDLE;
        sc->idle_since = mono_us();
        sc->next = conns;
        conns = sc;
    }
    pthread_mutex_unlock(&conns_lock);
    return why;
}

static void conn_leave(serve_conn *sc) {
    pthread_mutex_lock(&conns_lock);
    for (serve_conn **pp = &conns; *pp; pp = &(*pp)->next)
        if (*pp == sc) { *pp = sc->next; break; }
    pthread_mutex_unlock(&conns_lock);
}

/* A handler waits for the client (req.waiting): its slot is free meanwhile. */
static void serve_waiting(req *r, int on) { conn_state(r->conn, on ? CONN_WAITING : CONN_BUSY); }

static void send_head(buf *o, int status, const char *ctype, const buf *extra, long long clen) {
    buf_printf(o, "HTTP/1.1 %d %s\r\n", status, http_reason(status));
    if (ctype) buf_printf(o, "Content-Type: %s\r\n", ctype);
    if (status == 204 || status == 304) { /* no body, and no length said */ }
    else if (clen >= 0) buf_printf(o, "Content-Length: %lld\r\n", clen);
    else buf_puts(o, "Transfer-Encoding: chunked\r\n");
    if (extra && extra->len) buf_put(o, extra->p, extra->len);
    buf_puts(o, "\r\n");
}

static int serve_start(hres *r) {
    serve_conn *sc = r->tx;
    buf o = {0};
    buf_printf(&r->head, "Cache-Control: no-cache\r\n");
    send_head(&o, 200, "text/event-stream", &r->head, -1);
    int rc = o.oom ? -1 : write_all(sc->fd, o.p, o.len);
    buf_free(&o);
    return rc;
}

static int serve_write(hres *r, const char *p, size_t n) {
    serve_conn *sc = r->tx;
    char sz[24];
    int k = snprintf(sz, sizeof sz, "%zx\r\n", n);
    if (write_all(sc->fd, sz, (size_t)k) || write_all(sc->fd, p, n) || write_all(sc->fd, "\r\n", 2)) return -1;
    return 0;
}

/* Close after an error without resetting the connection: a client still sending a body
 * it was refused (413) must be able to read the answer first, so the rest is drained,
 * briefly and within a bound. */
static void linger_close(int fd) {
    shutdown(fd, SHUT_WR);
    char sink[16384];
    uint64_t until = mono_us() + 2000000;
    size_t total = 0;
    while (total < (size_t)MCP_MAX_BODY * 8 && mono_us() < until) {
        struct pollfd p = {fd, POLLIN, 0};
        if (poll(&p, 1, 200) <= 0) break;
        ssize_t n = read(fd, sink, sizeof sink);
        if (n <= 0) break;
        total += (size_t)n;
    }
}

static void serve_error(int fd, int status, const char *msg) {
    buf o = {0}, body = {0};
    char m[96];
    snprintf(m, sizeof m, "%d %s", status, http_reason(status));
    if (!msg) msg = status == 413 ? "Content Too Large: the request body exceeds the limit" : m;
    jw w = {&body, 0};
    jw_obj(&w);
    jw_key(&w, "error"); jw_str(&w, msg);
    jw_end_obj(&w);
    buf extra = {0};
    buf_puts(&extra, "Connection: close\r\n");
    send_head(&o, status, "application/json", &extra, (long long)body.len);
    buf_put(&o, body.p, body.len);
    write_all(fd, o.p, o.len);
    buf_free(&o); buf_free(&body); buf_free(&extra);
}

/* Headers a front proxy and this server might read differently: refused. */
static const char *request_head_refused(const http_msg *m) {
    int host = 0, origin = 0;
    for (int i = 0; i < m->nh; i++) {
        host += sl_ieq(m->h[i].name, "host");
        origin += sl_ieq(m->h[i].name, "origin");
    }
    if (host > 1) return "Bad Request: more than one Host header";
    if (origin > 1) return "Bad Request: more than one Origin header";
    if (!host && m->minor >= 1) return "Bad Request: an HTTP/1.1 request needs a Host header";
    return NULL;
}

static void *serve_thread(void *arg) {
    serve_conn *sc = arg;
    mcp_server *s = sc->s;
    conn c;
    memset(&c, 0, sizeof c);
    c.fd = sc->fd;
    c.timeout_ms = MCP_IDLE_TIMEOUT * 1000;
    c.request_ms = MCP_IDLE_TIMEOUT * 1000;
    c.head_ms = MCP_HEAD_TIMEOUT * 1000;
    req r;
    req_init(&r, s);
    r.conn = sc;
    r.peer = sc->peer;
    r.waiting = serve_waiting;
    cur_req = &r;
    http_msg *m = malloc(sizeof *m);
    for (; m;) {
        char *body = NULL;
        size_t blen = 0;
        if (c.off == c.in.len) { /* idle until the next request's first byte */
            if (c.in.cap > BUF_KEEP) buf_free(&c.in); /* an idle connection keeps no large buffer */
            c.in.len = c.off = 0;
            conn_state(sc, CONN_IDLE);
            struct pollfd pf = {sc->fd, POLLIN, 0};
            int pr;
            while ((pr = poll(&pf, 1, MCP_IDLE_TIMEOUT * 1000)) < 0 && errno == EINTR) {}
            if (pr <= 0) break;
        }
        conn_state(sc, CONN_BUSY);
        c.deadline_us = 0; /* the head within MCP_HEAD_TIMEOUT of its first byte, the whole request within MCP_IDLE_TIMEOUT */
        int got = conn_read_msg(&c, m, 0, MCP_MAX_BODY, &body, &blen);
        if (got == 0) break;
        if (got < 0) { serve_error(sc->fd, -got, NULL); linger_close(sc->fd); break; }
        const char *bad = request_head_refused(m);
        if (bad) { serve_error(sc->fd, 400, bad); linger_close(sc->fd); break; }
        hreq rq;
        memset(&rq, 0, sizeof rq);
        rq.method = m->method; rq.path = m->path; rq.query = m->query;
        rq.h = m->h; rq.nh = m->nh;
        rq.body = body; rq.blen = blen;
        rq.local = 1;
        hres rs;
        memset(&rs, 0, sizeof rs);
        rs.start = serve_start;
        rs.write = serve_write;
        rs.tx = sc;
        http_route(&r, &rq, &rs);
        int fail = 0;
        if (rs.streaming) fail = write_all(sc->fd, "0\r\n\r\n", 5);
        else {
            buf o = {0};
            if (m->close) buf_puts(&rs.head, "Connection: close\r\n");
            send_head(&o, rs.status, rs.ctype, &rs.head, (long long)rs.body.len);
            if (!sl_eq(m->method, "HEAD")) buf_put(&o, rs.body.p, rs.body.len); /* HEAD: the length a GET would send, no body */
            fail = o.oom || write_all(sc->fd, o.p, o.len);
            buf_free(&o);
        }
        buf_free(&rs.head);
        buf_free(&rs.body);
        req_reset(&r);
        if (fail || m->close) break;
    }
    free(m);
    cur_req = NULL;
    req_free(&r);
    buf_free(&c.in);
    conn_leave(sc);
    close(sc->fd);
    free(sc);
    blk_cache_drop();
    return NULL;
}

/* SIGTERM or SIGINT: serve stops accepting, lets the requests in progress finish (for up to
 * MCP_SHUTDOWN_GRACE seconds), and exits 0. The handler only writes to a pipe the accept
 * loop watches, whichever thread the signal lands on. */
static int serve_stop_pipe[2] = {-1, -1};
static void serve_on_signal(int sig) {
    char c = (char)sig;
    if (write(serve_stop_pipe[1], &c, 1) < 0) { /* the loop wakes anyway on the next one */ }
}

/* Connections serving a request (or waiting for the client within one). */
static int conns_busy(void) {
    int n = 0;
    pthread_mutex_lock(&conns_lock);
    for (serve_conn *c = conns; c; c = c->next) n += c->state != CONN_IDLE;
    pthread_mutex_unlock(&conns_lock);
    return n;
}

static int serve_main(mcp_server *s, const char *listen_at) {
    char host[256] = "127.0.0.1", port[16] = "8080";
    if (listen_at) {
        const char *colon = strrchr(listen_at, ':');
        if (!colon) { log_error("--listen takes HOST:PORT, got %s", listen_at); return 2; }
        size_t hl = (size_t)(colon - listen_at);
        if (hl >= sizeof host || strlen(colon + 1) >= sizeof port || !colon[1]) { log_error("bad --listen %s", listen_at); return 2; }
        memcpy(host, listen_at, hl);
        host[hl] = 0;
        if (host[0] == '[' && hl > 2 && host[hl - 1] == ']') { memmove(host, host + 1, hl - 2); host[hl - 2] = 0; }
        strcpy(port, colon + 1);
    }
    if (!server_check(s)) return 2;
    struct addrinfo hints, *res;
    memset(&hints, 0, sizeof hints);
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_PASSIVE;
    int gr = getaddrinfo(host[0] ? host : NULL, port, &hints, &res);
    if (gr) { log_error("cannot resolve %s:%s: %s", host, port, gai_strerror(gr)); return 1; }
    int fd = socket(res->ai_family, res->ai_socktype | SOCK_CLOEXEC, res->ai_protocol), one = 1;
    if (fd >= 0) setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (fd < 0 || bind(fd, res->ai_addr, res->ai_addrlen) || listen(fd, 128)) {
        log_error("cannot listen on %s:%s: %s", host, port, strerror(errno));
        freeaddrinfo(res);
        return 1;
    }
    freeaddrinfo(res);
    signal(SIGPIPE, SIG_IGN);
    struct sockaddr_storage bound;
    socklen_t bl = sizeof bound;
    if (!getsockname(fd, (struct sockaddr *)&bound, &bl)) /* port 0: say which one we got */
        snprintf(port, sizeof port, "%u", ntohs(bound.ss_family == AF_INET6 ? ((struct sockaddr_in6 *)&bound)->sin6_port
                                                                             : ((struct sockaddr_in *)&bound)->sin_port));
    log_info("%s %s serving MCP on http://%s%s%s:%s/mcp", s->name, s->version,
            strchr(host, ':') ? "[" : "", host, strchr(host, ':') ? "]" : "", port);
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    pthread_attr_setstacksize(&attr, MCP_STACK_SIZE);
    if (!pipe(serve_stop_pipe)) {
        struct sigaction sa;
        memset(&sa, 0, sizeof sa);
        sa.sa_handler = serve_on_signal;
        sigaction(SIGTERM, &sa, NULL);
        sigaction(SIGINT, &sa, NULL);
    }
    for (;;) {
        struct pollfd pf[2] = {{fd, POLLIN, 0}, {serve_stop_pipe[0], POLLIN, 0}};
        if (poll(pf, serve_stop_pipe[0] >= 0 ? 2 : 1, -1) < 0) continue;
        if (pf[1].revents) break;
        if (!(pf[0].revents & POLLIN)) continue;
        struct sockaddr_storage peer;
        socklen_t plen = sizeof peer;
        memset(&peer, 0, sizeof peer);
        int cfd = accept(fd, (struct sockaddr *)&peer, &plen);
        if (cfd < 0) {
            if (errno == EINTR || errno == ECONNABORTED) continue;
            if (errno == EMFILE || errno == ENFILE) { usleep(10000); continue; }
            log_error("accept: %s", strerror(errno));
            return 1;
        }
        setsockopt(cfd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        struct timeval wt = {MCP_IDLE_TIMEOUT, 0}; /* a client that stops reading is dropped */
        setsockopt(cfd, SOL_SOCKET, SO_SNDTIMEO, &wt, sizeof wt);
        serve_conn *sc = calloc(1, sizeof *sc);
        pthread_t th;
        if (!sc) { close(cfd); continue; }
        sc->s = s;
        sc->fd = cfd;
        if (peer.ss_family == AF_INET6) inet_ntop(AF_INET6, &((struct sockaddr_in6 *)&peer)->sin6_addr, sc->peer, sizeof sc->peer);
        else inet_ntop(AF_INET, &((struct sockaddr_in *)&peer)->sin_addr, sc->peer, sizeof sc->peer);
        const char *why = conn_admit(sc);
        if (why) { serve_error(cfd, 503, why); close(cfd); free(sc); continue; }
        if (pthread_create(&th, &attr, serve_thread, sc)) {
            conn_leave(sc);
            serve_error(cfd, 503, NULL);
            close(cfd);
            free(sc);
        }
    }
    close(fd); /* new connections are refused from here on */
    uint64_t until = mono_us() + (uint64_t)MCP_SHUTDOWN_GRACE * 1000000u;
    int busy = conns_busy();
    log_info("stopping: %d request(s) in progress, %d s to finish", busy, MCP_SHUTDOWN_GRACE);
    while ((busy = conns_busy()) && mono_us() < until) usleep(10000);
    if (busy) log_error("stopped with %d request(s) unfinished after %d s", busy, MCP_SHUTDOWN_GRACE);
    else log_info("stopped");
    pthread_attr_destroy(&attr);
    return busy ? 1 : 0;
}

/* --- stdio: newline-delimited JSON-RPC on stdin and stdout --- */

typedef struct {
    conn in;        /* stdin, read with the same buffer code as sockets */
    int out;
    session sess;   /* the one session of this process */
    int have_sess;
    buf queue;      /* lines read while waiting for an answer, processed after */
} stdio_tx;

/* One whole line to stdout; other threads (mcp_resource_updated) write between lines. */
static int stdio_write(void *tx, const char *p, size_t n) {
    static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
    stdio_tx *t = tx;
    pthread_mutex_lock(&mu);
    int r = write(t->out, p, n) != (ssize_t)n || write(t->out, "\n", 1) != 1 ? -1 : 0;
    pthread_mutex_unlock(&mu);
    return r;
}

static int stdio_emit(rpc *x, const char *json, size_t n) { return stdio_write(x->tx, json, n); }

/* Next line from stdin (without its newline), NUL-terminated in the buffer; NULL at EOF. */
static char *stdio_line(stdio_tx *t, size_t *len) {
    for (;;) {
        char *start = t->in.in.p ? t->in.in.p + t->in.off : NULL;
        char *nl = start ? memchr(start, '\n', t->in.in.len - t->in.off) : NULL;
        if (nl) {
            *nl = 0;
            *len = (size_t)(nl - start);
            if (*len && start[*len - 1] == '\r') start[--*len] = 0;
            t->in.off = (size_t)(nl - t->in.in.p) + 1;
            return start;
        }
        if (t->in.off) { /* keep the partial line at the front */
            memmove(t->in.in.p, t->in.in.p + t->in.off, t->in.in.len - t->in.off);
            t->in.in.len -= t->in.off;
            t->in.off = 0;
        }
        if (t->in.in.len > MCP_MAX_BODY) return NULL;
        long r = conn_fill(&t->in);
        if (r <= 0) {
            if (t->in.in.len > t->in.off) { /* last line without a newline */
                start = t->in.in.p + t->in.off;
                *len = t->in.in.len - t->in.off;
                t->in.off = t->in.in.len;
                return start;
            }
            return NULL;
        }
    }
}

/* Ask the client on stdout and read stdin until its answer: other messages read meanwhile
 * wait in the queue. */
static char *stdio_ask(rpc *x, const char *id, const char *json, size_t jn) {
    stdio_tx *t = x->tx;
    if (stdio_write(t, json, jn)) return NULL;
    size_t n;
    char *line;
    while ((line = stdio_line(t, &n))) {
        mcp_json_err e;
        mcp_json_doc *d = mcp_json_parse(line, n, 0, &e);
        const mcp_json *m = mcp_json_root(d);
        const mcp_json *mid = mcp_json_get(m, "id");
        if (d && is_response(m) && mcp_json_str(mid) && !strcmp(mid->s, id)) {
            char *ans = mcp_json_write(m, NULL);
            mcp_json_free(d);
            return ans;
        }
        mcp_json_free(d);
        buf_put(&t->queue, line, n); /* not ours: handle it after this call */
        buf_putc(&t->queue, '\n');
    }
    return NULL;
}

static void stdio_initialized(rpc_tx *tx, rpc *x) {
    stdio_tx *t = tx->ctx;
    t->have_sess = 1;
    t->sess.era = x->era;
    mcp_json_free(t->sess.caps);
    t->sess.caps = json_copy(x->caps);
    tx->view.era = x->era; /* for the rest of a batch */
    tx->view.caps = mcp_json_root(t->sess.caps);
}

static void stdio_message(req *r, stdio_tx *t, char *line, size_t n) {
    buf out = {0};
    mcp_json_err e;
    /* a copy: answers read during the call may move the input buffer */
    mcp_json_doc *d = mcp_json_parse(line, n, 0, &e);
    if (!d) {
        char m[160];
        snprintf(m, sizeof m, "Parse error: %s at byte %zu", e.msg ? e.msg : "invalid JSON", e.pos);
        rpc_error(&out, NULL, RPC_PARSE, m);
        stdio_write(t, out.p, out.len);
        buf_free(&out);
        return;
    }
    const mcp_json *root = mcp_json_root(d);
    int batch = MCP_JSON_TYPE(root) == MCP_JSON_ARRAY, nresp;
    const char *why = batch_refused(root, t->sess.era);
    if (why) {
        rpc_error(&out, NULL, RPC_INVALID, why);
        nresp = 1;
        batch = 0;
    } else {
        rpc_tx tx;
        rpc_tx_init(&tx, r, t->sess.era, t->sess.level);
        tx.proto.tx = t;
        tx.proto.emit = stdio_emit;
        tx.proto.ask = stdio_ask;
        tx.proto.sess = &t->sess;
        tx.view.caps = mcp_json_root(t->sess.caps);
        tx.initialized = stdio_initialized;
        tx.ctx = t;
        if (batch) buf_putc(&out, '[');
        nresp = rpc_serve(&tx, root, &out);
        if (batch) buf_putc(&out, ']');
    }
    if (nresp) stdio_write(t, out.p, out.len);
    buf_free(&out);
    mcp_json_free(d);
}

static int stdio_main(mcp_server *s) {
    if (!server_check(s)) return 2;
    stdio_tx t;
    memset(&t, 0, sizeof t);
    t.in.fd = 0;
    t.in.timeout_ms = -1;
    t.out = 1;
    t.sess.era = ERA_2025_03_26;
    signal(SIGPIPE, SIG_IGN);
    pthread_mutex_lock(&subs.mu); /* list changes and resource updates go out from now on */
    subs.tx = &t;
    s->serving = 1;
    pthread_mutex_unlock(&subs.mu);
    req r;
    req_init(&r, s);
    cur_req = &r;
    size_t n;
    char *line;
    for (;;) {
        if (t.queue.len) { /* messages that arrived during a call */
            buf q = t.queue;
            memset(&t.queue, 0, sizeof t.queue);
            char *p = q.p, *end = q.p + q.len;
            while (p < end) {
                char *nl = memchr(p, '\n', (size_t)(end - p));
                if (NEVER(!nl)) break; /* every queued line ends with one */
                *nl = 0;
                if (nl > p) stdio_message(&r, &t, p, (size_t)(nl - p));
                p = nl + 1;
                req_reset(&r);
            }
            buf_free(&q);
            continue;
        }
        if (!(line = stdio_line(&t, &n))) break;
        if (n) stdio_message(&r, &t, line, n);
        req_reset(&r);
    }
    pthread_mutex_lock(&subs.mu); /* t goes away with this frame */
    subs.tx = NULL;
    pthread_mutex_unlock(&subs.mu);
    cur_req = NULL;
    req_free(&r);
    buf_free(&t.in.in);
    mcp_json_free(t.sess.caps);
    return 0;
}

/*=== MARK: - 25. Event adapters (Private) ===*/
/*
 * Lambda events in, the matching shape out (AWS Lambda developer guide, "Invoking Lambda
 * with HTTP"): function URLs and API Gateway HTTP APIs send payload 2.0, REST APIs payload
 * 1.0, ALB its own with optional multi-value headers; anything without requestContext or
 * httpMethod is a direct invocation whose event is the JSON-RPC message itself.
 */

enum { EV_DIRECT, EV_V2, EV_V1, EV_ALB,
       EV_EVENT }; /* not HTTP or JSON-RPC (Event sources): its failures are invocation errors */

typedef struct {
    int kind;
    int multi;              /* the request used multiValueHeaders: answer the same way */
    int too_many;           /* more than MCP_MAX_HEADERS headers: answered 431 */
    hdr h[MCP_MAX_HEADERS];
    int nh;
    hreq rq;
} lev;

static slice js(const mcp_json *v) {
    slice r = {NULL, 0};
    if (MCP_JSON_TYPE(v) == MCP_JSON_STRING) { r.p = v->s; r.n = v->len; }
    return r;
}

#define T_BIT(t) (1u << (t))
#define T_STRING T_BIT(MCP_JSON_STRING)
#define T_OBJECT T_BIT(MCP_JSON_OBJECT)
#define T_ARRAY T_BIT(MCP_JSON_ARRAY)
#define T_BOOL (T_BIT(MCP_JSON_TRUE) | T_BIT(MCP_JSON_FALSE))

/* Member name of o when its type is one of mask; NULL when absent or null. A member of any
 * other type makes *bad name it (the first one found), so the event can be refused. */
static const mcp_json *ev_get_n(const mcp_json *o, const char *path, const char *name, size_t kn, unsigned mask, char *bad, size_t badn) {
    const mcp_json *v = json_get_n(o, name, kn);
    if (!v || MCP_JSON_TYPE(v) == MCP_JSON_NULL) return NULL;
    if (T_BIT(MCP_JSON_TYPE(v)) & mask) return v;
    if (!bad[0]) {
        const char *want = mask == T_STRING ? "a string" : mask == T_OBJECT ? "an object" : mask == T_ARRAY ? "an array"
                         : mask == T_BOOL ? "a boolean" : "of another type";
        snprintf(bad, badn, "%s%s%s must be %s", path, *path ? "." : "", name, want);
    }
    return NULL;
}
#define ev_get(o, path, name, mask, bad, badn) ev_get_n((o), (path), (name), strlen(name), (mask), (bad), (badn))

/* MCP_BASE_PATH: the base path of a custom domain's mapping ("/v1"), removed from every
 * request's path before routing. Read once, before the first event. */
static const char *lambda_base_path;

/* Remove a leading "/PREFIX" (a whole segment: followed by '/' or the end) from *path. */
static void path_strip(slice *path, const char *prefix, size_t n) {
    while (n && *prefix == '/') { prefix++; n--; }
    while (n && prefix[n - 1] == '/') n--;
    if (!n || path->n < n + 1 || path->p[0] != '/' || memcmp(path->p + 1, prefix, n)) return;
    if (path->n == n + 1) { path->p = "/"; path->n = 1; return; }
    if (path->p[n + 1] != '/') return;
    path->p += n + 1;
    path->n -= n + 1;
}

/* Fill e from a parsed event, every field type-checked. The event's strings are writable
 * (the document was parsed in place in a buffer the runtime owns), so the body is used
 * where it lies. Returns 0, or -1 with what was wrong in err. More headers than
 * MCP_MAX_HEADERS is not an error of the event: e->too_many says so, for a 431. */
static int event_decode(const mcp_json *ev, lev *e, arena *a, char *err, size_t errn) {
    memset(e, 0, sizeof *e);
    err[0] = 0;
    const mcp_json *rc = mcp_json_get(ev, "requestContext");
    const mcp_json *hm = mcp_json_get(ev, "httpMethod");
    if (MCP_JSON_TYPE(ev) != MCP_JSON_OBJECT || (!rc && !hm)) { e->kind = EV_DIRECT; return 0; }
    rc = ev_get(ev, "", "requestContext", T_OBJECT, err, errn);
    const mcp_json *ver = ev_get(ev, "", "version", T_STRING, err, errn);
    const mcp_json *hdrs = ev_get(ev, "", "headers", T_OBJECT, err, errn), *mv = NULL, *cookies = NULL;
    if (ver && !strcmp(ver->s, "2.0")) {
        e->kind = EV_V2;
        const mcp_json *http = ev_get(rc, "requestContext", "http", T_OBJECT, err, errn);
        e->rq.method = js(ev_get(http, "requestContext.http", "method", T_STRING, err, errn));
        e->rq.path = js(ev_get(ev, "", "rawPath", T_STRING, err, errn));
        e->rq.query = js(ev_get(ev, "", "rawQueryString", T_STRING, err, errn));
        cookies = ev_get(ev, "", "cookies", T_ARRAY, err, errn);
    } else {
        e->kind = mcp_json_get(rc, "elb") ? EV_ALB : EV_V1;
        if (e->kind == EV_ALB) ev_get(rc, "requestContext", "elb", T_OBJECT, err, errn);
        e->rq.method = js(ev_get(ev, "", "httpMethod", T_STRING, err, errn));
        e->rq.path = js(ev_get(ev, "", "path", T_STRING, err, errn));
        mv = ev_get(ev, "", "multiValueHeaders", T_OBJECT, err, errn);
        e->multi = mv != NULL;
    }
    const mcp_json *body = ev_get(ev, "", "body", T_STRING, err, errn);
    const mcp_json *b64 = ev_get(ev, "", "isBase64Encoded", T_BOOL, err, errn);
    /* who AWS says is calling: IAM (function URL or API with AWS_IAM), or a JWT authorizer */
    const mcp_json *az = ev_get(rc, "requestContext", "authorizer", T_OBJECT, err, errn);
    const mcp_json *iam = ev_get(az, "requestContext.authorizer", "iam", T_OBJECT, err, errn);
    const mcp_json *arn = ev_get(iam, "requestContext.authorizer.iam", "userArn", T_STRING, err, errn);
    if (!arn && e->kind != EV_V2) { /* REST APIs name the IAM caller here */
        const mcp_json *id = ev_get(rc, "requestContext", "identity", T_OBJECT, err, errn);
        arn = ev_get(id, "requestContext.identity", "userArn", T_STRING, err, errn);
    }
    e->rq.iam_arn = mcp_json_str(arn);
    const mcp_json *jwt = ev_get(az, "requestContext.authorizer", "jwt", T_OBJECT, err, errn);
    const mcp_json *claims = ev_get(jwt, "requestContext.authorizer.jwt", "claims", T_OBJECT, err, errn);
    if (!claims && e->kind == EV_V1) /* Cognito user pool authorizer */
        claims = ev_get(az, "requestContext.authorizer", "claims", T_OBJECT, err, errn);
    e->rq.gw_claims = claims;
    /* a Lambda authorizer's context: HTTP APIs nest it under "lambda", REST APIs put its
     * members (principalId first) in the authorizer object itself */
    const mcp_json *lctx = ev_get(az, "requestContext.authorizer", "lambda", T_OBJECT, err, errn);
    if (!lctx && e->kind == EV_V1 && !claims && mcp_json_get(az, "principalId")) lctx = az;
    e->rq.lambda_ctx = lctx;
    const mcp_json *stage = ev_get(rc, "requestContext", "stage", T_STRING, err, errn);
    const mcp_json *domain = ev_get(rc, "requestContext", "domainName", T_STRING, err, errn);
    if (err[0]) return -1;
    if (!e->rq.method.p || !e->rq.path.p) {
        snprintf(err, errn, "the event has no HTTP method or path (%s)", e->kind == EV_V2 ? "requestContext.http.method, rawPath" : "httpMethod, path");
        return -1;
    }
    /* An HTTP API on a named stage keeps the stage in rawPath when called at its
     * execute-api address (a custom domain's mapping takes it out); REST APIs never do. */
    if (e->kind == EV_V2 && stage && strcmp(stage->s, "$default") && (!domain || strstr(domain->s, ".execute-api.")))
        path_strip(&e->rq.path, stage->s, stage->len);
    if (lambda_base_path) path_strip(&e->rq.path, lambda_base_path, strlen(lambda_base_path));
    mcp_json_iter it;
    const mcp_json *k, *v;
    if (mv) { /* headers are checked too where multiValueHeaders is what is read */
        it = mcp_json_iterate(hdrs);
        while ((v = mcp_json_iter_next(&it, &k)))
            if (!mcp_json_str(v)) { snprintf(err, errn, "headers must be an object of strings (header \"%.100s\")", k->s); return -1; }
    }
    it = mcp_json_iterate(mv ? mv : hdrs);
    while ((v = mcp_json_iter_next(&it, &k))) {
        slice value;
        if (!mv) {
            if (!mcp_json_str(v)) { snprintf(err, errn, "headers must be an object of strings (header \"%.100s\")", k->s); return -1; }
            value = js(v);
        } else { /* multi-value: join as one list */
            buf j = {0};
            mcp_json_iter vi = mcp_json_iterate(v);
            const mcp_json *x;
            int ok = MCP_JSON_TYPE(v) == MCP_JSON_ARRAY;
            while (ok && (x = mcp_json_iter_next(&vi, NULL))) {
                if (!mcp_json_str(x)) { ok = 0; break; }
                if (j.len) buf_puts(&j, ", ");
                buf_put(&j, x->s, x->len);
            }
            if (!ok) {
                buf_free(&j);
                snprintf(err, errn, "multiValueHeaders must be an object of string arrays (header \"%.100s\")", k->s);
                return -1;
            }
            value.p = arena_strndup(a, j.p ? j.p : "", j.len);
            value.n = j.len;
            buf_free(&j);
            if (!value.p) { snprintf(err, errn, "out of memory"); return -1; }
        }
        if (e->nh == MCP_MAX_HEADERS) { e->too_many = 1; continue; }
        e->h[e->nh].name.p = k->s;
        e->h[e->nh].name.n = k->len;
        e->h[e->nh++].value = value;
    }
    if (cookies && cookies->len) { /* HTTP API 2.0 moves Cookie headers here */
        buf j = {0};
        mcp_json_iter ci = mcp_json_iterate(cookies);
        const mcp_json *x;
        while ((x = mcp_json_iter_next(&ci, NULL))) {
            if (!mcp_json_str(x)) { buf_free(&j); snprintf(err, errn, "cookies must be an array of strings"); return -1; }
            if (j.len) buf_puts(&j, "; ");
            buf_put(&j, x->s, x->len);
        }
        char *c = arena_strndup(a, j.p ? j.p : "", j.len);
        size_t cn = j.len;
        buf_free(&j);
        if (!c) { snprintf(err, errn, "out of memory"); return -1; }
        if (e->nh == MCP_MAX_HEADERS) e->too_many = 1;
        else {
            e->h[e->nh].name.p = "cookie";
            e->h[e->nh].name.n = 6;
            e->h[e->nh].value.p = c;
            e->h[e->nh++].value.n = cn;
        }
    }
    e->rq.h = e->h;
    e->rq.nh = e->nh;
    if (body) {
        if (mcp_json_bool(b64)) {
            unsigned char *out = arena_alloc(a, body->len / 4 * 3 + 4);
            long n = out ? b64_strict(body->s, body->len, out) : -1;
            if (n < 0) { snprintf(err, errn, "body is not valid base64 (isBase64Encoded is true)"); return -1; }
            out[n] = 0;
            e->rq.body = (char *)out;
            e->rq.blen = (size_t)n;
        } else {
            e->rq.body = (char *)body->s; /* NUL-terminated in place: the spare byte is there */
            e->rq.blen = body->len;
        }
    } else {
        e->rq.body = arena_alloc(a, 1);
        if (!e->rq.body) { snprintf(err, errn, "out of memory"); return -1; }
        e->rq.body[0] = 0;
    }
    return 0;
}

/* Each "Name: value\r\n" line of rs->head, as JSON members (or one-element arrays). */
static void event_headers(jw *w, const hres *rs, int multi) {
    jw_obj(w);
    if (rs->ctype) {
        jw_key(w, "Content-Type");
        if (multi) { jw_arr(w); jw_str(w, rs->ctype); jw_end_arr(w); } else jw_str(w, rs->ctype);
    }
    const char *p = rs->head.p, *end = p ? p + rs->head.len : NULL;
    while (p && p < end) {
        const char *colon = memchr(p, ':', (size_t)(end - p));
        const char *eol = memchr(p, '\r', (size_t)(end - p));
        if (!colon || !eol || colon > eol) break;
        buf name = {0};
        buf_put(&name, p, (size_t)(colon - p));
        const char *v = colon + 1;
        while (*v == ' ') v++;
        jw_key(w, name.p);
        if (multi) jw_arr(w);
        jw_strn(w, v, (size_t)(eol - v));
        if (multi) jw_end_arr(w);
        buf_free(&name);
        p = eol + 2;
    }
    jw_end_obj(w);
}

/* The answer in the shape of the event that asked. */
static void event_response(const lev *e, const hres *rs, buf *out) {
    jw w = {out, 0};
    jw_obj(&w);
    jw_key(&w, "statusCode"); jw_int(&w, rs->status);
    if (e->kind == EV_ALB) {
        char d[64];
        snprintf(d, sizeof d, "%d %s", rs->status, http_reason(rs->status));
        jw_key(&w, "statusDescription"); jw_str(&w, d);
    }
    jw_key(&w, e->multi ? "multiValueHeaders" : "headers");
    event_headers(&w, rs, e->multi);
    if (e->kind == EV_V2) { jw_key(&w, "cookies"); jw_arr(&w); jw_end_arr(&w); }
    jw_key(&w, "body"); jw_strn(&w, rs->body.p ? rs->body.p : "", rs->body.len);
    jw_key(&w, "isBase64Encoded"); jw_bool(&w, 0);
    jw_end_obj(&w);
}

/* A direct invocation: the event is a JSON-RPC message (or a 2025-03-26 batch), the
 * function's result is the response (null for a notification). No session: the era is the
 * request's _meta version, or initialize's, or 2025-11-25. */
static void direct_dispatch(req *r, const mcp_json *root, buf *out) {
    int batch = MCP_JSON_TYPE(root) == MCP_JSON_ARRAY;
    size_t at = out->len;
    if (batch) buf_putc(out, '[');
    if (rpc_serve_plain(r, root, out)) { if (batch) buf_putc(out, ']'); }
    else { out->len = at; buf_puts(out, "null"); }
}

/*=== MARK: - 26. Event sources (Public: mcp_on_event, mcp_event_*) ===*/
/*
 * Lambda events that are neither HTTP requests nor JSON-RPC messages. EventBridge
 * (schedules and other events), SQS, SNS, S3, DynamoDB Streams and Kinesis events go to the
 * handlers the server registered with mcp_on_event, one record at a time; SQS and the
 * streams answer with batchItemFailures (Lambda developer guide, "Handling errors for an
 * SQS event source", "Reporting batch item failures"). An AgentCore Gateway Lambda target's
 * event is a tool's arguments, and the client context names the tool as TARGET___TOOL
 * (AgentCore developer guide, "Lambda function targets", "Tool naming"). Whatever cannot be
 * handled is an invocation error that says why, so Lambda counts it, retries it and sends it
 * to the dead-letter queue: never a success that would delete the message.
 */

enum { SRC_SCHEDULE, SRC_EVENTBRIDGE, SRC_SQS, SRC_SNS, SRC_S3, SRC_DYNAMODB, SRC_KINESIS, SRC_COUNT };
static const char *const src_names[SRC_COUNT] = {"schedule", "eventbridge", "sqs", "sns", "s3", "dynamodb", "kinesis"};
static const char *const src_aws[SRC_COUNT] = {NULL, NULL, "aws:sqs", "aws:sns", "aws:s3", "aws:dynamodb", "aws:kinesis"};
#define SRC_BATCH(k) ((k) == SRC_SQS || (k) == SRC_DYNAMODB || (k) == SRC_KINESIS) /* partial failures */

struct ev_handler { int src; char *filter; mcp_event_handler fn; void *data; };

void mcp_on_event(mcp_server *s, const char *source, const char *filter, mcp_event_handler fn, void *data) {
    int k = -1;
    for (int i = 0; source && i < SRC_COUNT; i++) if (!strcmp(source, src_names[i])) k = i;
    if (k < 0) die("mcp_on_event: unknown source %s (schedule, eventbridge, sqs, sns, s3, dynamodb, kinesis)", source ? source : "(null)");
    if (!fn) die("mcp_on_event: a %s handler needs a function", source);
    GROW(s->evh, s->nevh);
    s->evh[s->nevh].src = k;
    s->evh[s->nevh].filter = filter && *filter ? xstrdup(filter) : NULL;
    s->evh[s->nevh].fn = fn;
    s->evh[s->nevh++].data = data;
}

struct mcp_event {
    int src;
    const mcp_json *root, *rec;
    const ev_handler *h;
    req *r;
    const char *body;       /* the payload, decoded on first use */
    size_t blen;
    char why[400];          /* mcp_event_fail's message */
};

/* Which kind of event this is: SRC_*, or -1 when it is none of them (*aws names the
 * eventSource of a Records event mcp.c does not know). */
static int event_source(const mcp_json *ev, const char **aws) {
    *aws = NULL;
    const mcp_json *recs = mcp_json_get(ev, "Records"), *r0 = mcp_json_at(recs, 0);
    if (MCP_JSON_TYPE(recs) == MCP_JSON_ARRAY && MCP_JSON_TYPE(r0) == MCP_JSON_OBJECT) {
        const char *es = mcp_json_str(mcp_json_get(r0, "eventSource"));
        if (!es) es = mcp_json_str(mcp_json_get(r0, "EventSource")); /* SNS */
        for (int i = SRC_SQS; es && i < SRC_COUNT; i++) if (!strcmp(es, src_aws[i])) return i;
        *aws = es;
        return -1;
    }
    const char *src = mcp_json_str(mcp_json_get(ev, "source")), *dt = mcp_json_str(mcp_json_get(ev, "detail-type"));
    if (src && dt) return !strcmp(src, "aws.events") && !strcmp(dt, "Scheduled Event") ? SRC_SCHEDULE : SRC_EVENTBRIDGE;
    return -1;
}

/* The string at o.name, required: NULL with err naming it when absent or not a string. */
static const mcp_json *ev_need(const mcp_json *o, const char *path, const char *name, unsigned mask, char *err, size_t errn) {
    const mcp_json *v = ev_get(o, path, name, mask, err, errn);
    if (!v && !err[0]) snprintf(err, errn, "%s%s%s is missing", path, *path ? "." : "", name);
    return v;
}

/* Check a record of source k; its filter key (what mcp_on_event's filter is matched
 * against) and identifier. Returns 0, or -1 with err naming the field that is wrong. */
static int event_record(int k, const mcp_json *rec, const char *path, const char **key, const char **id, buf *tmp, char *err, size_t errn) {
    char p[64];
    const mcp_json *v = NULL, *o;
    *key = *id = "";
    err[0] = 0;
    if (MCP_JSON_TYPE(rec) != MCP_JSON_OBJECT) { snprintf(err, errn, "%s must be an object", path); return -1; }
    switch (k) {
    case SRC_SCHEDULE: case SRC_EVENTBRIDGE:
        v = ev_need(rec, path, "id", T_STRING, err, errn);
        ev_need(rec, path, "detail", T_OBJECT, err, errn);
        o = ev_get(rec, path, "resources", T_ARRAY, err, errn);
        if (err[0]) return -1;
        *id = v->s;
        if (k == SRC_SCHEDULE) { const char *rule = mcp_json_str(mcp_json_at(o, 0)); *key = rule ? rule : ""; }
        else {
            tmp->len = 0;
            buf_printf(tmp, "%s/%s", mcp_json_str(mcp_json_get(rec, "source")), mcp_json_str(mcp_json_get(rec, "detail-type")));
            if (tmp->oom) { snprintf(err, errn, "out of memory"); return -1; }
            *key = tmp->p;
        }
        return 0;
    case SRC_SQS:
        v = ev_need(rec, path, "messageId", T_STRING, err, errn);
        ev_need(rec, path, "body", T_STRING, err, errn);
        o = ev_need(rec, path, "eventSourceARN", T_STRING, err, errn);
        break;
    case SRC_SNS:
        o = ev_need(rec, path, "Sns", T_OBJECT, err, errn);
        snprintf(p, sizeof p, "%s.Sns", path);
        v = ev_need(o, p, "MessageId", T_STRING, err, errn);
        ev_need(o, p, "Message", T_STRING, err, errn);
        o = ev_need(o, p, "TopicArn", T_STRING, err, errn);
        break;
    case SRC_S3: {
        const mcp_json *s3 = ev_need(rec, path, "s3", T_OBJECT, err, errn);
        snprintf(p, sizeof p, "%s.s3", path);
        const mcp_json *b = ev_need(s3, p, "bucket", T_OBJECT, err, errn), *ob = ev_need(s3, p, "object", T_OBJECT, err, errn);
        snprintf(p, sizeof p, "%s.s3.bucket", path);
        o = ev_need(b, p, "name", T_STRING, err, errn);
        snprintf(p, sizeof p, "%s.s3.object", path);
        ev_need(ob, p, "key", T_STRING, err, errn);
        v = ev_get(ob, p, "sequencer", T_STRING, err, errn);
        break;
    }
    case SRC_DYNAMODB:
        o = ev_need(rec, path, "dynamodb", T_OBJECT, err, errn);
        snprintf(p, sizeof p, "%s.dynamodb", path);
        v = ev_need(o, p, "SequenceNumber", T_STRING, err, errn);
        ev_get(o, p, "NewImage", T_OBJECT, err, errn);
        ev_get(o, p, "OldImage", T_OBJECT, err, errn);
        o = ev_need(rec, path, "eventSourceARN", T_STRING, err, errn);
        break;
    default: { /* SRC_KINESIS */
        const mcp_json *kn = ev_need(rec, path, "kinesis", T_OBJECT, err, errn);
        snprintf(p, sizeof p, "%s.kinesis", path);
        v = ev_need(kn, p, "sequenceNumber", T_STRING, err, errn);
        const mcp_json *d = ev_need(kn, p, "data", T_STRING, err, errn);
        o = ev_need(rec, path, "eventSourceARN", T_STRING, err, errn);
        if (!err[0] && (!buf_grow(tmp, d->len / 4 * 3 + 4) || b64_strict(d->s, d->len, (unsigned char *)tmp->p) < 0))
            snprintf(err, errn, "%s.kinesis.data is not valid base64", path);
        break;
    }
    }
    if (err[0]) return -1;
    *key = o->s;
    *id = v ? v->s : "";
    return 0;
}

/* The first handler registered for source k whose filter matches key. */
static const ev_handler *event_handler(const mcp_server *s, int k, const char *key) {
    for (int i = 0; i < s->nevh; i++) {
        const ev_handler *h = &s->evh[i];
        if (h->src != k) continue;
        if (!h->filter) return h;
        if (k == SRC_EVENTBRIDGE && !strchr(h->filter, '/')) { /* SOURCE alone */
            const char *slash = strchr(key, '/');
            char src[256];
            snprintf(src, sizeof src, "%.*s", slash ? (int)(slash - key) : (int)strlen(key), key);
            if (glob_match(h->filter, src)) return h;
        } else if (glob_match(h->filter, key)) return h;
    }
    return NULL;
}

/* Run an event of source k through its handlers. Returns 0 with the function's result in
 * out, or -1 with an invocation error (type, message). */
static int events_run(req *r, const mcp_json *ev, int k, buf *out, const char **etype, char *msg, size_t msgn) {
    const mcp_json *recs = k == SRC_SCHEDULE || k == SRC_EVENTBRIDGE ? NULL : mcp_json_get(ev, "Records");
    size_t n = recs ? recs->len : 1;
    const ev_handler **hs = arena_alloc(&r->a, n * sizeof *hs);
    const char **ids = arena_alloc(&r->a, n * sizeof *ids);
    buf tmp = {0};
    char path[32];
    const char *key, *id, *fifo = NULL;
    if (!hs || !ids) { *etype = "Runtime.OutOfMemory"; snprintf(msg, msgn, "the event's records could not be held"); return -1; }
    /* every record checked, and its handler found, before any handler runs */
    for (size_t i = 0; i < n; i++) {
        const mcp_json *rec = recs ? mcp_json_at(recs, i) : ev;
        if (recs) snprintf(path, sizeof path, "Records[%zu]", i);
        else path[0] = 0;
        if (event_record(k, rec, path, &key, &id, &tmp, msg, msgn)) { *etype = "Runtime.InvalidEvent"; buf_free(&tmp); return -1; }
        if (recs) {
            const char *es = mcp_json_str(mcp_json_get(rec, k == SRC_SNS ? "EventSource" : "eventSource"));
            if (!es || strcmp(es, src_aws[k])) {
                *etype = "Runtime.InvalidEvent";
                snprintf(msg, msgn, "%s.%s must be \"%s\", as the first record's", path, k == SRC_SNS ? "EventSource" : "eventSource", src_aws[k]);
                buf_free(&tmp);
                return -1;
            }
        }
        hs[i] = event_handler(r->s, k, key);
        if (!hs[i]) {
            *etype = "Runtime.UnhandledEvent";
            snprintf(msg, msgn, "no handler for %s events%s%.200s%s: register one with mcp_on_event(s, \"%s\", ...)",
                     src_names[k], *key ? " (" : "", key, *key ? ")" : "", src_names[k]);
            buf_free(&tmp);
            return -1;
        }
        ids[i] = id;
        if (k == SRC_SQS && strlen(key) > 5 && !strcmp(key + strlen(key) - 5, ".fifo")) fifo = key;
    }
    buf_free(&tmp);
    jw w = {out, 0};
    if (SRC_BATCH(k)) { jw_obj(&w); jw_key(&w, "batchItemFailures"); jw_arr(&w); }
    int failed = 0;
    for (size_t i = 0; i < n; i++) {
        r->requests++;
        if (failed && fifo) { /* a FIFO queue keeps its order: the rest wait for the failed one */
            r->errors++;
            jw_obj(&w); jw_key(&w, "itemIdentifier"); jw_str(&w, ids[i]); jw_end_obj(&w);
            continue;
        }
        mcp_event e;
        memset(&e, 0, sizeof e);
        e.src = k;
        e.root = ev;
        e.rec = recs ? mcp_json_at(recs, i) : ev;
        e.h = hs[i];
        e.r = r;
        int rc = hs[i]->fn(&e);
        if (!rc) continue;
        r->errors++;
        failed = 1;
        if (!e.why[0]) snprintf(e.why, sizeof e.why, "the handler returned %d", rc);
        if (SRC_BATCH(k)) {
            log_at(LOG_ERROR, r->inv, "%s record %s failed: %s", src_names[k], ids[i], e.why);
            jw_obj(&w); jw_key(&w, "itemIdentifier"); jw_str(&w, ids[i]); jw_end_obj(&w);
            continue;
        }
        *etype = "EventHandlerError";
        if (recs) snprintf(msg, msgn, "%s record %zu (%.100s): %s", src_names[k], i, ids[i], e.why);
        else snprintf(msg, msgn, "%s event %.100s: %s", src_names[k], ids[i], e.why);
        return -1;
    }
    if (SRC_BATCH(k)) { jw_end_arr(&w); jw_end_obj(&w); }
    else buf_puts(out, "null");
    return 0;
}

const char *mcp_event_source(mcp_event *e) { return e ? src_names[e->src] : NULL; }
const mcp_json *mcp_event_json(mcp_event *e) { return e ? e->root : NULL; }
const mcp_json *mcp_event_record(mcp_event *e) { return e ? e->rec : NULL; }
void *mcp_event_data(mcp_event *e) { return e ? e->h->data : NULL; }
int64_t mcp_event_remaining_ms(mcp_event *e) {
    uint64_t d = e ? e->r->deadline_ms : 0;
    return d ? (int64_t)d - (int64_t)now_ms() : INT64_MAX;
}

const mcp_json *mcp_event_get(mcp_event *e, const char *path) {
    const mcp_json *v = e ? e->rec : NULL;
    while (v && path && *path) {
        const char *dot = strchr(path, '.');
        size_t n = dot ? (size_t)(dot - path) : strlen(path);
        char seg[128];
        if (n >= sizeof seg) return NULL;
        memcpy(seg, path, n);
        seg[n] = 0;
        if (MCP_JSON_TYPE(v) == MCP_JSON_ARRAY && n && strspn(seg, "0123456789") == n) v = mcp_json_at(v, (size_t)strtoul(seg, NULL, 10));
        else v = mcp_json_get(v, seg);
        path = dot ? dot + 1 : path + n;
    }
    return v;
}

const char *mcp_event_str(mcp_event *e, const char *path) { return mcp_json_str(mcp_event_get(e, path)); }

const char *mcp_event_id(mcp_event *e) {
    static const char *const paths[SRC_COUNT] = {"id", "id", "messageId", "Sns.MessageId", "s3.object.sequencer",
                                                 "dynamodb.SequenceNumber", "kinesis.sequenceNumber"};
    return e ? mcp_event_str(e, paths[e->src]) : NULL;
}

const char *mcp_event_body(mcp_event *e, size_t *len) {
    if (!e) return NULL;
    if (!e->body) {
        buf b = {0};
        const mcp_json *v;
        switch (e->src) {
        case SRC_SQS: v = mcp_event_get(e, "body"); buf_put(&b, v->s, v->len); break;
        case SRC_SNS: v = mcp_event_get(e, "Sns.Message"); buf_put(&b, v->s, v->len); break;
        case SRC_KINESIS: {
            v = mcp_event_get(e, "kinesis.data");
            buf_grow(&b, v->len / 4 * 3 + 4);
            long n = b.oom ? -1 : b64_strict(v->s, v->len, (unsigned char *)b.p);
            b.len = n > 0 ? (size_t)n : 0;
            break;
        }
        case SRC_S3: { /* keys arrive URL-encoded, spaces as '+' */
            v = mcp_event_get(e, "s3.object.key");
            for (size_t i = 0; i < v->len; i++) {
                int h1, h2;
                if (v->s[i] == '+') buf_putc(&b, ' ');
                else if (v->s[i] == '%' && i + 2 < v->len && (h1 = hexval(v->s[i + 1])) >= 0 && (h2 = hexval(v->s[i + 2])) >= 0) {
                    buf_putc(&b, (char)(h1 * 16 + h2));
                    i += 2;
                } else buf_putc(&b, v->s[i]);
            }
            break;
        }
        case SRC_DYNAMODB:
            v = mcp_event_get(e, "dynamodb.NewImage");
            if (!v) v = mcp_event_get(e, "dynamodb.OldImage");
            if (v) json_write_value(&b, v);
            break;
        default: json_write_value(&b, mcp_event_get(e, "detail")); break;
        }
        e->blen = b.len;
        e->body = b.oom ? NULL : arena_strndup(&e->r->a, b.p ? b.p : "", b.len);
        buf_free(&b);
        if (!e->body) return NULL;
    }
    if (len) *len = e->blen;
    return e->body;
}

int mcp_event_fail(mcp_event *e, const char *fmt, ...) {
    if (!e) return -1;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(e->why, sizeof e->why, fmt ? fmt : "failed", ap);
    va_end(ap);
    return -1;
}

/* The tool an AgentCore Gateway invocation names (client context custom.
 * bedrockAgentCoreToolName, "TARGET___TOOL"), copied into tool; NULL when the invocation
 * did not come from a gateway. The gateway's id goes into gw. */
static const char *agentcore_tool(const char *client_context, char *tool, size_t tooln, char *gw, size_t gwn) {
    if (!client_context || !strstr(client_context, "bedrockAgentCoreToolName")) return NULL;
    mcp_json_err je;
    mcp_json_doc *d = mcp_json_parse(client_context, strlen(client_context), 0, &je);
    const mcp_json *custom = mcp_json_get(mcp_json_root(d), "custom");
    const char *name = mcp_json_str(mcp_json_get(custom, "bedrockAgentCoreToolName"));
    const char *g = mcp_json_str(mcp_json_get(custom, "bedrockAgentCoreGatewayId"));
    const char *sep = name ? strstr(name, "___") : NULL;
    if (name) snprintf(tool, tooln, "%s", sep ? sep + 3 : name);
    snprintf(gw, gwn, "%s", g ? g : "");
    mcp_json_free(d);
    return name ? tool : NULL;
}

/* One tool call from an AgentCore Gateway: the result object is the function's result; a
 * tool error or a refused call is an invocation error, which the gateway hands its client
 * as an isError result. The call runs in the 2025-06-18 era: invalid arguments are a
 * JSON-RPC error there, and structuredContent is kept. */
static int agentcore_run(req *r, const char *tool, const char *gw, const mcp_json *args, buf *out,
                         const char **etype, char *msg, size_t msgn) {
    if (!tool_find(r->s, tool)) {
        *etype = "UnknownTool";
        snprintf(msg, msgn, "no tool named %.200s", tool);
        return -1;
    }
    if (MCP_JSON_TYPE(args) != MCP_JSON_OBJECT) {
        *etype = "InvalidArguments";
        snprintf(msg, msgn, "Invalid arguments for tool %.200s: the event (the tool's arguments) must be a JSON object", tool);
        return -1;
    }
    r->auth.kind = "agentcore";
    snprintf(r->auth.principal, sizeof r->auth.principal, "%s", gw);
    r->auth.all_scopes = 1;
    strcpy(r->auth.scopes, "*");
    buf m = {0}, ans = {0};
    buf_puts(&m, "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"tools/call\",\"params\":{\"name\":");
    json_escape(&m, tool, strlen(tool));
    buf_puts(&m, ",\"arguments\":");
    json_write_value(&m, args);
    buf_puts(&m, "}}");
    mcp_json_err je;
    mcp_json_doc *d = m.oom ? NULL : mcp_json_parse(m.p, m.len, 0, &je), *a = NULL;
    if (d) {
        rpc_tx t;
        rpc_tx_init(&t, r, ERA_2025_06_18, LEVEL_OFF);
        rpc_serve(&t, mcp_json_root(d), &ans);
        a = ans.oom ? NULL : mcp_json_parse(ans.p, ans.len, 0, &je);
    }
    const mcp_json *res = mcp_json_get(mcp_json_root(a), "result"), *err = mcp_json_get(mcp_json_root(a), "error");
    int rc = 0;
    if (!a || (!res && !err)) { *etype = "Runtime.OutOfMemory"; snprintf(msg, msgn, "the tool's answer could not be built"); rc = -1; }
    else if (err) {
        int64_t code = 0;
        mcp_json_int(mcp_json_get(err, "code"), &code);
        *etype = code == RPC_BAD_PARAMS ? "InvalidArguments" : "ToolError";
        snprintf(msg, msgn, "%s", mcp_json_str(mcp_json_get(err, "message")));
        rc = -1;
    } else if (mcp_json_bool(mcp_json_get(res, "isError"))) {
        buf t = {0};
        mcp_json_iter it = mcp_json_iterate(mcp_json_get(res, "content"));
        const mcp_json *c;
        while ((c = mcp_json_iter_next(&it, NULL))) {
            const char *s = mcp_json_str(mcp_json_get(c, "text"));
            if (!s) continue;
            if (t.len) buf_putc(&t, '\n');
            buf_puts(&t, s);
        }
        *etype = "ToolError";
        snprintf(msg, msgn, "%s", t.p && !t.oom ? t.p : "the tool failed");
        buf_free(&t);
        rc = -1;
    } else json_write_value(out, res);
    mcp_json_free(a);
    mcp_json_free(d);
    buf_free(&m);
    buf_free(&ans);
    return rc;
}

/* A Lambda event that is not an HTTP request: an AgentCore Gateway tool call, a JSON-RPC
 * message, or an event for the registered handlers. Returns 0 with the function's result in
 * out, or -1 with an invocation error (type and message). The watchdog, if any, learns
 * which kind it is, to answer in kind should the deadline come first. */
static void wd_kind(watchdog *w, int kind);

static int event_other(req *r, const mcp_json *ev, const char *client_context, watchdog *wd, buf *out,
                       const char **etype, char *msg, size_t msgn) {
    char tool[256], gw[128];
    if (agentcore_tool(client_context, tool, sizeof tool, gw, sizeof gw)) {
        if (wd) wd_kind(wd, EV_EVENT);
        return agentcore_run(r, tool, gw, ev, out, etype, msg, msgn);
    }
    if (MCP_JSON_TYPE(ev) == MCP_JSON_ARRAY || mcp_json_get(ev, "jsonrpc") || mcp_json_get(ev, "method")) {
        direct_dispatch(r, ev, out);
        return 0;
    }
    if (task_event(r, ev, out)) return 0;
    const char *aws;
    int k = event_source(ev, &aws);
    if (wd) wd_kind(wd, EV_EVENT);
    if (k >= 0) return events_run(r, ev, k, out, etype, msg, msgn);
    if (aws) {
        *etype = "Runtime.UnhandledEvent";
        snprintf(msg, msgn, "no handler for %.100s events: mcp.c handles schedule, eventbridge, sqs, sns, s3, dynamodb and kinesis events", aws);
        return -1;
    }
    *etype = "Runtime.UnknownEvent";
    snprintf(msg, msgn, "the event is not an HTTP request (function URL, API Gateway, ALB), a JSON-RPC message, "
                        "an AgentCore Gateway tool call or an event of a known source (EventBridge, SQS, SNS, S3, DynamoDB, Kinesis)");
    return -1;
}

/*=== MARK: - 27. Lambda Runtime API (Private) ===*/
/*
 * The custom-runtime loop (Lambda Runtime API 2018-06-01): GET /next with no timeout,
 * answer with POST /response (buffered, or streamed for function URLs in RESPONSE_STREAM
 * mode), POST /error when an event cannot be handled, POST /init/error when start-up
 * fails. Nothing runs before the first GET /next that the first event does not need.
 */

#define WATCHDOG_STACK (64u << 10)          /* the watchdog runs no handler */
#define RUNTIME_MAX_MESSAGE ((size_t)64 << 20) /* an event or an answer of the Runtime API */

/* The deadline watchdog's view of the invocation in progress (see lambda_watchdog). */
struct watchdog {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int armed;              /* an invocation is in progress */
    int answered;           /* its answer was claimed, by the loop or the watchdog */
    uint64_t deadline;      /* Unix ms */
    int kind, multi;        /* the event's shape, once decoded (-1 before) */
    char id[128];           /* the invocation's request id */
    char rpc_id[128];       /* the JSON-RPC id being served, as JSON text */
    int idle;               /* the watchdog waits for an invocation to watch */
    uint64_t until;         /* or until this time (Unix ms; 0: it is not waiting) */
};

typedef struct {
    const char *api;      /* host:port */
    char host[256], port[16];
    conn c;
    invocation inv;       /* the event being served */
    req r;                /* its request context */
    buf out;              /* the response being built */
    buf rq;               /* a Runtime API request's head, kept between calls */
    int streaming;        /* MCP_LAMBDA_STREAMING: function URL in RESPONSE_STREAM mode */
    int stream_failed;
    watchdog *wd;
} lrt;

/* A log line about this invocation (L may be NULL). */
static const invocation *lrt_inv(const lrt *L) { return L ? &L->inv : NULL; }
#define rt_log(L, level, ...) log_at((level), lrt_inv(L), __VA_ARGS__)

/* Decimal digits without printf: this runs on every invocation. */
static void buf_u64(buf *b, uint64_t v) {
    char t[24];
    int i = 24;
    do t[--i] = (char)('0' + v % 10); while ((v /= 10));
    buf_put(b, t + i, (size_t)(24 - i));
}

/* One CloudWatch Embedded Metric Format line per invocation (MCP_EMF=0 turns it off). */
static void rt_emf_line(const req *st, uint64_t us) {
    const mcp_server *s = st->s;
    if (!logc.emf) return;
    buf b = {0};
    buf_puts(&b, "{\"_aws\":{\"Timestamp\":");
    buf_u64(&b, now_ms());
    buf_puts(&b, ",\"CloudWatchMetrics\":[{\"Namespace\":\"mcp.c\",\"Dimensions\":[[\"Service\"]");
    if (st->tool[0]) buf_puts(&b, ",[\"Service\",\"Tool\"]");
    buf_puts(&b, "],\"Metrics\":[{\"Name\":\"Requests\",\"Unit\":\"Count\"},{\"Name\":\"Errors\",\"Unit\":\"Count\"},"
                 "{\"Name\":\"Duration\",\"Unit\":\"Milliseconds\"}");
    if (st->tool[0]) buf_puts(&b, ",{\"Name\":\"ToolCalls\",\"Unit\":\"Count\"}");
    buf_puts(&b, "]}]},\"Service\":");
    json_escape_lossy(&b, s->name, strlen(s->name));
    if (st->tool[0]) { buf_puts(&b, ",\"Tool\":"); json_escape_lossy(&b, st->tool, strlen(st->tool)); buf_puts(&b, ",\"ToolCalls\":1"); }
    buf_puts(&b, ",\"Requests\":");
    buf_u64(&b, (uint64_t)st->requests);
    buf_puts(&b, ",\"Errors\":");
    buf_u64(&b, (uint64_t)st->errors);
    buf_puts(&b, ",\"Duration\":");
    buf_u64(&b, us / 1000);
    char frac[5] = {'.', (char)('0' + us / 100 % 10), (char)('0' + us / 10 % 10), (char)('0' + us % 10), 0};
    buf_puts(&b, frac);
    buf_puts(&b, "}\n");
    if (!b.oom && write(1, b.p, b.len) < 0) { /* as above */ }
    buf_free(&b);
}

/* The runtime's own variables, read in one pass over the environment before the first
 * GET /next (a getenv scans all of it each time: ~450 instructions apiece under Lambda's
 * forty-odd variables); the first of a name counts, as for getenv. Written before the
 * loops' threads start, read-only after. */
static struct {
    const char *api, *log_level, *log_format, *max_concurrency; /* AWS_LAMBDA_* */
    const char *emf, *streaming, *base_path;                    /* MCP_* */
} lenv;

/* Whether s starts with the n bytes of p (a NUL in s ends the match). */
static int env_prefix(const char *s, const char *p, size_t n) {
    while (n && *s == *p) s++, p++, n--;
    return !n;
}

static void lenv_read(void) {
    static const struct { const char *name; size_t n; const char **to; int mcp; } vars[] = {
        {"RUNTIME_API=", sizeof "RUNTIME_API=" - 1, &lenv.api, 0}, /* after AWS_LAMBDA_ */
        {"LOG_LEVEL=", sizeof "LOG_LEVEL=" - 1, &lenv.log_level, 0},
        {"LOG_FORMAT=", sizeof "LOG_FORMAT=" - 1, &lenv.log_format, 0},
        {"MAX_CONCURRENCY=", sizeof "MAX_CONCURRENCY=" - 1, &lenv.max_concurrency, 0},
        {"EMF=", sizeof "EMF=" - 1, &lenv.emf, 1}, /* after MCP_ */
        {"LAMBDA_STREAMING=", sizeof "LAMBDA_STREAMING=" - 1, &lenv.streaming, 1},
        {"BASE_PATH=", sizeof "BASE_PATH=" - 1, &lenv.base_path, 1},
    };
    memset(&lenv, 0, sizeof lenv);
    for (char **e = environ; e && *e; e++) {
        const char *v = *e;
        int mcp;
        if (v[0] == 'A' && env_prefix(v, "AWS_LAMBDA_", 11)) v += 11, mcp = 0;
        else if (v[0] == 'M' && env_prefix(v, "MCP_", 4)) v += 4, mcp = 1;
        else continue;
        for (size_t i = 0; i < COUNT(vars); i++)
            if (vars[i].mcp == mcp && v[0] == vars[i].name[0] && !*vars[i].to && env_prefix(v, vars[i].name, vars[i].n)) {
                *vars[i].to = v + vars[i].n;
                break;
            }
    }
}

/* An lrt for the API in AWS_LAMBDA_RUNTIME_API (host:port), not yet connected. */
static void rt_init(lrt *L) {
    memset(L, 0, sizeof *L);
    L->c.fd = -1;
    L->c.timeout_ms = -1; /* /next blocks for as long as the sandbox is frozen */
    L->api = lenv.api ? lenv.api : getenv("AWS_LAMBDA_RUNTIME_API");
    const char *colon = strrchr(L->api, ':');
    size_t hl = colon ? (size_t)(colon - L->api) : strlen(L->api);
    if (hl >= sizeof L->host) hl = sizeof L->host - 1;
    memcpy(L->host, L->api, hl);
    cat3(L->port, sizeof L->port, colon ? colon + 1 : "80", "", "");
}

static int rt_connect(lrt *L) {
    if (L->c.fd >= 0) close(L->c.fd);
    L->c.in.len = 0;
    L->c.off = 0;
    L->c.fd = -1;
    struct sockaddr_in sa;
    memset(&sa, 0, sizeof sa);
    sa.sin_family = AF_INET;
    sa.sin_port = htons((uint16_t)atoi(L->port));
    if (inet_pton(AF_INET, L->host, &sa.sin_addr) == 1) { /* the usual 127.0.0.1: no resolver */
        int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (fd < 0) return -1;
        if (connect(fd, (struct sockaddr *)&sa, sizeof sa)) { close(fd); return -1; }
        int one = 1;
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        L->c.fd = fd;
    } else L->c.fd = tcp_connect(L->host, L->port, 5000);
    return L->c.fd >= 0 ? 0 : -1;
}

/* Send one request on the runtime connection (reconnecting once if a kept-alive connection
 * was closed) and read the answer. Returns the status, or -1 when the API cannot be reached. */
static int rt_call(lrt *L, const char *method, const char *path, const char *headers,
                   const char *body, size_t blen, http_msg *m, char **rbody, size_t *rlen) {
    buf *rq = &L->rq; /* built without printf, in a buffer kept between calls: this runs twice per invocation */
#define LIT(s) buf_put(rq, s, sizeof s - 1)
    rq->len = 0;
    buf_puts(rq, method);
    LIT(" /2018-06-01/runtime/");
    buf_puts(rq, path);
    LIT(" HTTP/1.1\r\nHost: ");
    buf_puts(rq, L->api);
    LIT("\r\n");
    if (headers) buf_puts(rq, headers);
    if (body) { LIT("Content-Length: "); buf_u64(rq, blen); LIT("\r\n"); }
    LIT("\r\n");
#undef LIT
    buf req = *rq;
    for (int attempt = 0; attempt < 2; attempt++) {
        if (L->c.fd < 0 && rt_connect(L)) break;
        if (!write_all(L->c.fd, req.p, req.len) && (!body || !write_all(L->c.fd, body, blen))) {
            int r = conn_read_msg(&L->c, m, 1, RUNTIME_MAX_MESSAGE, rbody, rlen);
            if (r == 1) {
                if (m->close) { close(L->c.fd); L->c.fd = -1; } /* read already; reconnect next time */
                return m->status;
            }
            /* sent but unanswered: the API may have taken it, so it is never sent twice */
            close(L->c.fd);
            L->c.fd = -1;
            break;
        }
        close(L->c.fd); /* a kept-alive connection the API closed: once more on a new one */
        L->c.fd = -1;
    }
    return -1;
}

static void rt_error_body(buf *b, const char *type, const char *msg) {
    jw w = {b, 0};
    jw_obj(&w);
    jw_key(&w, "errorMessage"); jw_str(&w, msg);
    jw_key(&w, "errorType"); jw_str(&w, type);
    jw_key(&w, "stackTrace"); jw_arr(&w); jw_end_arr(&w);
    jw_end_obj(&w);
}

/* POST /error (path "invocation/ID/error") or /init/error ("init/error"). */
static void rt_post_error(lrt *L, const char *path, const char *type, const char *msg) {
    buf b = {0}, h = {0};
    rt_error_body(&b, type, msg);
    buf_printf(&h, "Content-Type: application/vnd.aws.lambda.error+json\r\nLambda-Runtime-Function-Error-Type: %s\r\n", type);
    http_msg *m = malloc(sizeof *m);
    char *rb;
    size_t rl;
    if (m) rt_call(L, "POST", path, h.p, b.p, b.len, m, &rb, &rl);
    free(m);
    buf_free(&b);
    buf_free(&h);
    rt_log(L, LOG_ERROR, "%s: %s", type, msg);
}

/* Streaming (function URLs in RESPONSE_STREAM mode): the POST goes out chunked; the body
 * opens with the HTTP prelude and eight NUL bytes. */
static int lstream_chunk(lrt *L, const char *p, size_t n) {
    char sz[24];
    int k = snprintf(sz, sizeof sz, "%zx\r\n", n);
    if (!n) return 0;
    if (write_all(L->c.fd, sz, (size_t)k) || write_all(L->c.fd, p, n) || write_all(L->c.fd, "\r\n", 2)) {
        L->stream_failed = 1;
        return -1;
    }
    return 0;
}

static int wd_claim(watchdog *w);

static int lstream_start(hres *r) {
    lrt *L = r->tx;
    if (!wd_claim(L->wd)) { L->stream_failed = 1; return -1; } /* the watchdog answered already */
    buf h = {0};
    buf_printf(&h, "POST /2018-06-01/runtime/invocation/%s/response HTTP/1.1\r\nHost: %s\r\n"
                   "Lambda-Runtime-Function-Response-Mode: streaming\r\n"
                   "Content-Type: application/vnd.awslambda.http-integration-response\r\n"
                   "Transfer-Encoding: chunked\r\n"
                   "Trailer: Lambda-Runtime-Function-Error-Type, Lambda-Runtime-Function-Error-Body\r\n\r\n",
               L->inv.id, L->api);
    buf pre = {0};
    jw w = {&pre, 0};
    jw_obj(&w);
    jw_key(&w, "statusCode"); jw_int(&w, r->status ? r->status : 200);
    jw_key(&w, "headers"); event_headers(&w, r, 0);
    jw_key(&w, "cookies"); jw_arr(&w); jw_end_arr(&w);
    jw_end_obj(&w);
    buf_put(&pre, "\0\0\0\0\0\0\0\0", 8);
    int rc = -1;
    if (L->c.fd >= 0 || !rt_connect(L)) rc = write_all(L->c.fd, h.p, h.len) ? -1 : lstream_chunk(L, pre.p, pre.len);
    if (rc) L->stream_failed = 1;
    buf_free(&h);
    buf_free(&pre);
    return rc;
}

static int lstream_write(hres *r, const char *p, size_t n) { return lstream_chunk(r->tx, p, n); }

/* End the streamed response and read the API's answer. */
static void lstream_end(lrt *L, const char *error_type, const char *error_msg) {
    if (error_type) { /* a failure after the stream began goes out as trailers */
        buf eb = {0}, t = {0};
        rt_error_body(&eb, error_type, error_msg);
        buf_printf(&t, "0\r\nLambda-Runtime-Function-Error-Type: %s\r\nLambda-Runtime-Function-Error-Body: ", error_type);
        base64_put(&t, (const unsigned char *)eb.p, eb.len);
        buf_puts(&t, "\r\n\r\n");
        if (write_all(L->c.fd, t.p, t.len)) L->stream_failed = 1;
        buf_free(&eb);
        buf_free(&t);
    } else if (write_all(L->c.fd, "0\r\n\r\n", 5)) L->stream_failed = 1;
    http_msg *m = malloc(sizeof *m);
    char *rb;
    size_t rl;
    int r = m && !L->stream_failed ? conn_read_msg(&L->c, m, 1, RUNTIME_MAX_MESSAGE, &rb, &rl) : -1;
    if (r != 1 || m->status != 202) {
        rt_log(L, LOG_ERROR, "the streamed response was not accepted (%d)", r == 1 ? m->status : -1);
        close(L->c.fd);
        L->c.fd = -1;
    } else if (m->close) { close(L->c.fd); L->c.fd = -1; }
    free(m);
}

/* Only one answer per invocation: the loop and the watchdog both claim before posting. */
static int wd_claim(watchdog *w) {
    if (!w) return 1;
    pthread_mutex_lock(&w->mu);
    int mine = !w->answered;
    w->answered = 1;
    pthread_mutex_unlock(&w->mu);
    return mine;
}

/* A JSON-RPC error for rpc_id, in the shape of the event (kind, multi). */
static void lambda_error_answer(int kind, int multi, const char *rpc_id, const char *msg, buf *out) {
    buf body = {0};
    buf_printf(&body, "{\"jsonrpc\":\"2.0\",\"id\":%s,\"error\":{\"code\":%d,\"message\":", rpc_id, RPC_SERVER_ERROR);
    json_escape(&body, msg, strlen(msg));
    buf_puts(&body, "}}");
    out->len = 0;
    if (kind == EV_DIRECT || kind < 0) buf_put(out, body.p, body.len);
    else {
        lev e;
        memset(&e, 0, sizeof e);
        e.kind = kind;
        e.multi = multi;
        hres r;
        memset(&r, 0, sizeof r);
        r.status = 200;
        r.ctype = "application/json";
        r.body = body;
        event_response(&e, &r, out);
    }
    buf_free(&body);
}

/* The deadline watchdog: a handler still running MCP_DEADLINE_MARGIN_MS before the Lambda
 * deadline gets its invocation answered with a JSON-RPC error, on a connection of its own,
 * so the client learns why instead of seeing the platform's timeout. C code cannot be
 * stopped, so the handler runs on; its own answer is then dropped. */
static void *lambda_watchdog(void *arg) {
    lrt *L0 = arg;
    watchdog *w = L0->wd;
    lrt W;
    memset(&W, 0, sizeof W);
    W.c.fd = -1;
    W.c.timeout_ms = 2000;
    W.api = L0->api;
    memcpy(W.host, L0->host, sizeof W.host);
    memcpy(W.port, L0->port, sizeof W.port);
    /* It is woken only when it must look sooner than it would anyway: when it waits for an
     * invocation, or when one arrives with a deadline before the time it waits for. Waking
     * at a later invocation's deadline, or after an answer, it looks again and waits on. */
    pthread_mutex_lock(&w->mu);
    for (;;) {
        while (!w->armed || w->answered) {
            w->idle = 1;
            pthread_cond_wait(&w->cv, &w->mu);
        }
        w->idle = 0;
        uint64_t target = w->deadline > MCP_DEADLINE_MARGIN_MS ? w->deadline - MCP_DEADLINE_MARGIN_MS : 0;
        if (now_ms() < target) {
            struct timespec ts = {(time_t)(target / 1000), (long)(target % 1000) * 1000000L};
            w->until = target;
            pthread_cond_timedwait(&w->cv, &w->mu, &ts);
            w->until = 0;
            continue;
        }
        {
            w->answered = 1;
            int kind = w->kind, multi = w->multi;
            char rid[128], id[128];
            snprintf(rid, sizeof rid, "%s", w->rpc_id[0] ? w->rpc_id : "null");
            memcpy(id, w->id, sizeof id);
            pthread_mutex_unlock(&w->mu);
            char path[200];
            snprintf(W.inv.id, sizeof W.inv.id, "%s", id);
            if (kind == EV_EVENT) { /* an event or a gateway's tool call: fails, to be retried */
                snprintf(path, sizeof path, "invocation/%s/error", id);
                rt_post_error(&W, path, "Runtime.Timeout", "the handler did not finish before the Lambda function's timeout");
                pthread_mutex_lock(&w->mu);
                continue;
            }
            buf out = {0};
            lambda_error_answer(kind, multi, rid, "the request did not finish before the Lambda function's timeout", &out);
            snprintf(path, sizeof path, "invocation/%s/response", id);
            http_msg *m = malloc(sizeof *m);
            char *rb;
            size_t rl;
            int st = m ? rt_call(&W, "POST", path, "Content-Type: application/json\r\n", out.p, out.len, m, &rb, &rl) : -1;
            rt_log(&W, LOG_ERROR, "the handler was still running near the deadline; answered with an error (HTTP %d)", st);
            free(m);
            buf_free(&out);
            pthread_mutex_lock(&w->mu);
        }
    }
    return NULL;
}

static void lambda_event_inner(lrt *L, char *event, size_t elen);

static void wd_kind(watchdog *w, int kind) {
    pthread_mutex_lock(&w->mu);
    w->kind = kind;
    pthread_mutex_unlock(&w->mu);
}

/* Record the JSON-RPC id being served, for an answer the watchdog may have to give. */
static void wd_serving(watchdog *w, const mcp_json *id) {
    buf t = {0};
    json_write_value(&t, id);
    pthread_mutex_lock(&w->mu);
    cat3(w->rpc_id, sizeof w->rpc_id, t.len < 120 && t.p ? t.p : "null", "", "");
    pthread_mutex_unlock(&w->mu);
    buf_free(&t);
}

/* Serve one event; the answer (or an error) is posted before returning. */
static void lambda_event(lrt *L, char *event, size_t elen) {
    req *r = &L->r;
    r->inv = &L->inv;
    r->deadline_ms = (uint64_t)strtoull(L->inv.deadline, NULL, 10);
    r->wd = L->wd;
    if (L->wd) {
        pthread_mutex_lock(&L->wd->mu);
        L->wd->armed = 1;
        L->wd->answered = 0;
        L->wd->kind = -1;
        L->wd->multi = 0;
        L->wd->rpc_id[0] = 0;
        L->wd->deadline = r->deadline_ms;
        cat3(L->wd->id, sizeof L->wd->id, L->inv.id, "", "");
        uint64_t target = r->deadline_ms > MCP_DEADLINE_MARGIN_MS ? r->deadline_ms - MCP_DEADLINE_MARGIN_MS : 0;
        if (L->wd->idle || (L->wd->until && target < L->wd->until)) pthread_cond_signal(&L->wd->cv);
        pthread_mutex_unlock(&L->wd->mu);
    }
    uint64_t t0 = mono_us();
    lambda_event_inner(L, event, elen);
    uint64_t us = mono_us() - t0;
    if (L->wd) {
        pthread_mutex_lock(&L->wd->mu);
        L->wd->armed = 0; /* the watchdog sees it when it next wakes */
        pthread_mutex_unlock(&L->wd->mu);
    }
    rt_log(L, LOG_DEBUG, "%d request(s), %d error(s), %.3f ms", r->requests, r->errors, (double)us / 1000.0);
    rt_emf_line(r, us);
}

static void lambda_event_inner(lrt *L, char *event, size_t elen) {
    mcp_json_err e;
    mcp_json_doc *d = json_parse_inplace(event, elen, 0, &e);
    char path[200];
    cat3(path, sizeof path, "invocation/", L->inv.id, "/error");
    if (!d) {
        char m[160];
        snprintf(m, sizeof m, "the event is not valid JSON: %s at byte %zu", e.msg ? e.msg : "?", e.pos);
        if (wd_claim(L->wd)) rt_post_error(L, path, "Runtime.InvalidEvent", m);
        return;
    }
    lev ev;
    char err[256];
    L->out.len = 0;
    if (event_decode(mcp_json_root(d), &ev, &L->r.a, err, sizeof err)) {
        if (wd_claim(L->wd)) rt_post_error(L, path, "Runtime.InvalidEvent", err);
        mcp_json_free(d);
        return;
    }
    if (L->wd) {
        pthread_mutex_lock(&L->wd->mu);
        L->wd->kind = ev.kind;
        L->wd->multi = ev.multi;
        pthread_mutex_unlock(&L->wd->mu);
    }
    L->stream_failed = 0;
    int streamed = 0;
    if (ev.kind == EV_DIRECT) {
        const char *etype = NULL;
        char msg[600];
        if (event_other(&L->r, mcp_json_root(d), L->inv.client_context, L->wd, &L->out, &etype, msg, sizeof msg)) {
            if (wd_claim(L->wd)) rt_post_error(L, path, etype, msg);
            mcp_json_free(d);
            return;
        }
    } else {
        hres rs;
        memset(&rs, 0, sizeof rs);
        int stream = L->streaming && (ev.kind == EV_V2 || ev.kind == EV_V1); /* function URLs, REST APIs */
        if (stream) {
            rs.start = lstream_start;
            rs.write = lstream_write;
            rs.tx = L;
        }
        if (ev.too_many) { /* anyone who can reach the URL could send them: a 431, not a function error */
            char m[64];
            snprintf(m, sizeof m, "431 %s", http_reason(431)); /* as serve answers framing errors */
            res_text(&rs, 431, m);
        }
        else http_route(&L->r, &ev.rq, &rs);
        if (rs.streaming) {
            lstream_end(L, NULL, NULL);
            streamed = 1;
        } else if (stream) { /* not an SSE answer: prelude and body at once */
            if (!lstream_start(&rs)) lstream_chunk(L, rs.body.p, rs.body.len);
            lstream_end(L, NULL, NULL);
            streamed = 1;
        } else event_response(&ev, &rs, &L->out);
        buf_free(&rs.head);
        buf_free(&rs.body);
    }
    mcp_json_free(d);
    if (streamed || !wd_claim(L->wd)) return;
    if (L->out.oom) { rt_post_error(L, path, "Runtime.OutOfMemory", "the response could not be built"); return; }
    if (L->out.len > MCP_LAMBDA_MAX_RESPONSE) { /* Lambda would refuse it: say so in MCP terms */
        char rid[128] = "null", m[160];
        if (L->wd) {
            pthread_mutex_lock(&L->wd->mu);
            if (L->wd->rpc_id[0]) memcpy(rid, L->wd->rpc_id, sizeof rid);
            pthread_mutex_unlock(&L->wd->mu);
        }
        snprintf(m, sizeof m, "the result (%zu bytes) is larger than Lambda's 6 MB response limit", L->out.len);
        rt_log(L, LOG_ERROR, "%s", m);
        lambda_error_answer(ev.kind, ev.multi, rid, m, &L->out);
    }
    char rpath[200];
    cat3(rpath, sizeof rpath, "invocation/", L->inv.id, "/response");
    http_msg *m = malloc(sizeof *m);
    char *rb;
    size_t rl;
    int st = m ? rt_call(L, "POST", rpath, "Content-Type: application/json\r\n", L->out.p, L->out.len, m, &rb, &rl) : -1;
    /* 413: the platform answers the caller with ResponseSizeTooLarge; posting /error now is refused */
    if (st == 413) rt_log(L, LOG_ERROR, "the response (%zu bytes) is over Lambda's 6 MB limit; the caller gets ResponseSizeTooLarge", L->out.len);
    else if (st != 202) rt_log(L, LOG_ERROR, "the response was refused (HTTP %d)", st);
    free(m);
}

/* _X_AMZN_TRACE_ID for the event being served. One buffer handed to putenv once and
 * rewritten in place: setenv would keep every old value (glibc does), and trace ids are
 * all different. With several loops the variable holds the latest event's id. */
static void trace_env(const char *trace) {
    static char env[sizeof "_X_AMZN_TRACE_ID=" + 512] = "_X_AMZN_TRACE_ID=";
    static int put;
    static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
    pthread_mutex_lock(&mu);
    cat3(env + 17, sizeof env - 17, trace, "", "");
    if (!put && trace[0]) put = !putenv(env);
    pthread_mutex_unlock(&mu);
}

const char *mcp_context(mcp_call *c, const char *key) {
    const invocation *v = c ? c->x->r->inv : NULL;
    if (!v || !key) return NULL;
    if (!strcmp(key, "request-id")) return v->id;
    if (!strcmp(key, "deadline-ms")) return v->deadline[0] ? v->deadline : NULL;
    if (!strcmp(key, "function-arn")) return v->arn[0] ? v->arn : NULL;
    if (!strcmp(key, "trace-id")) return v->trace[0] ? v->trace : NULL;
    if (!strcmp(key, "tenant-id")) return v->tenant[0] ? v->tenant : NULL;
    if (!strcmp(key, "client-context")) return v->client_context;
    if (!strcmp(key, "cognito-identity")) return v->cognito;
    return NULL;
}

int64_t mcp_remaining_ms(mcp_call *c) {
    uint64_t d = c ? c->x->r->deadline_ms : 0;
    return d ? (int64_t)d - (int64_t)now_ms() : INT64_MAX;
}

static void *lambda_loop(void *arg) {
    mcp_server *s = arg;
    lrt L;
    rt_init(&L);
    const char *st = lenv.streaming;
    L.streaming = st && *st && strcmp(st, "0");
    req_init(&L.r, s);
    cur_req = &L.r;
    http_msg *m = malloc(sizeof *m);
    if (!m) exit(1);
    for (;;) {
        char *event;
        size_t elen;
        int status = rt_call(&L, "GET", "invocation/next", NULL, NULL, 0, m, &event, &elen);
        if (status != 200) { /* 500, or the API is gone: let Lambda replace the sandbox */
            rt_log(&L, LOG_FATAL, "GET /next failed (%d); exiting so Lambda replaces the sandbox", status);
            exit(1);
        }
        /* the invocation's headers, in one pass over what /next sent */
        slice hv[7];
        static const struct { const char *suffix; size_t n; } lh[7] = {
            {"aws-request-id", 14}, {"trace-id", 8}, {"deadline-ms", 11}, {"invoked-function-arn", 20},
            {"aws-tenant-id", 13}, {"client-context", 14}, {"cognito-identity", 16},
        };
        memset(hv, 0, sizeof hv);
        for (int i = 0; i < m->nh; i++) {
            slice nm = m->h[i].name;
            if (nm.n <= 15) continue;
            slice head = {nm.p, 15}, rest = {nm.p + 15, nm.n - 15};
            if (!sl_ieqn(head, "lambda-runtime-", 15)) continue;
            for (size_t k = 0; k < COUNT(lh); k++)
                if (sl_ieqn(rest, lh[k].suffix, lh[k].n)) { hv[k] = m->h[i].value; break; }
        }
        slice v = hv[0];
        if (!v.p || v.n >= sizeof L.inv.id) { log_error("/next gave no request id; exiting"); exit(1); }
        memcpy(L.inv.id, v.p, v.n);
        L.inv.id[v.n] = 0;
        v = hv[1];
        if (v.p && v.n < sizeof L.inv.trace) {
            memcpy(L.inv.trace, v.p, v.n);
            L.inv.trace[v.n] = 0;
        } else L.inv.trace[0] = 0;
        trace_env(L.inv.trace);
        static const struct { int k; size_t off, size; } small[] = {
            {2, offsetof(lrt, inv.deadline), sizeof L.inv.deadline},
            {3, offsetof(lrt, inv.arn), sizeof L.inv.arn},
            {4, offsetof(lrt, inv.tenant), sizeof L.inv.tenant},
        };
        for (size_t i = 0; i < COUNT(small); i++) {
            char *dst = (char *)&L + small[i].off;
            v = hv[small[i].k];
            size_t n = v.p ? (v.n < small[i].size ? v.n : small[i].size - 1) : 0;
            memcpy(dst, v.p ? v.p : "", n);
            dst[n] = 0;
        }
        free(L.inv.client_context);
        free(L.inv.cognito);
        v = hv[5];
        L.inv.client_context = v.p ? memcpy(xmalloc(v.n + 1), v.p, v.n) : NULL;
        if (L.inv.client_context) L.inv.client_context[v.n] = 0;
        v = hv[6];
        L.inv.cognito = v.p ? memcpy(xmalloc(v.n + 1), v.p, v.n) : NULL;
        if (L.inv.cognito) L.inv.cognito[v.n] = 0;
        if (!L.wd) { /* started with the first event, not before: cold start waits for nothing */
            watchdog *wd = calloc(1, sizeof *wd);
            if (wd) {
                pthread_mutex_init(&wd->mu, NULL);
                pthread_cond_init(&wd->cv, NULL);
                L.wd = wd;
                pthread_t th;
                pthread_attr_t at;
                pthread_attr_init(&at);
                pthread_attr_setstacksize(&at, WATCHDOG_STACK);
                pthread_attr_setdetachstate(&at, PTHREAD_CREATE_DETACHED);
                if (pthread_create(&th, &at, lambda_watchdog, &L)) { free(wd); L.wd = NULL; }
                pthread_attr_destroy(&at);
            }
        }
        lambda_event(&L, event, elen);
        req_reset(&L.r);
        buf_reset(&L.out);
    }
}

/* Lambda sends SIGTERM at shutdown when extensions are registered. Every log line and
 * metric went out with write() as it was made, so nothing is held back: say so and go. */
static void lambda_on_sigterm(int sig) {
    static const char msg[] = "mcp: SIGTERM: the sandbox is shutting down; logs and metrics are written\n";
    (void)sig;
    if (write(2, msg, sizeof msg - 1) < 0) { /* nothing else to do */ }
    _exit(0);
}

static int lambda_main(mcp_server *s) {
    s->stateless = 1; /* sandboxes share nothing: session ids describe themselves */
    lenv_read();
    log_setup_lambda(lenv.log_level, lenv.log_format, lenv.emf);
    signal(SIGPIPE, SIG_IGN);
    signal(SIGTERM, lambda_on_sigterm);
    const char *bp = lenv.base_path;
    lambda_base_path = bp && *bp ? bp : NULL;
    char err[1024];
    if (config_resolve(err, sizeof err)) { /* Lambda shows this to the first invocation */
        lrt L;
        rt_init(&L);
        rt_post_error(&L, "init/error", "Runtime.ConfigurationError", err);
        return 1;
    }
    if (config_changed) lenv_read(); /* a value given as ssm:... is now its parameter's */
    const char *mc = lenv.max_concurrency;
    int n = mc ? atoi(mc) : 1;
    if (n > 1) { /* Lambda Managed Instances: that many loops in one process */
        if (n > 64) n = 64;
        pthread_attr_t at;
        pthread_attr_init(&at);
        pthread_attr_setstacksize(&at, MCP_STACK_SIZE);
        pthread_attr_setdetachstate(&at, PTHREAD_CREATE_DETACHED);
        for (int i = 1; i < n; i++) {
            pthread_t th;
            if (pthread_create(&th, &at, lambda_loop, s)) break;
        }
        pthread_attr_destroy(&at);
    }
    lambda_loop(s);
    return 0;
}

/*=== MARK: - 28. stdio proxy (Private) ===*/
/*
 * `proxy URL`: MCP over stdio on one side, Streamable HTTP to a remote server (an mcp.c
 * function URL or API Gateway API) on the other, for clients that only launch commands.
 * Requests are signed with SigV4 when the URL is a function URL and credentials are found
 * (the environment, or AWS_PROFILE in ~/.aws/credentials and ~/.aws/config), or always
 * with --sigv4; the service is "lambda" for a function URL, "execute-api" for an API
 * Gateway address (either one names its region), or --service. Throttling and network failures are retried with backoff; a remote
 * failure becomes a JSON-RPC error the client can show. A build with MCP_ENABLE_AWS=0 signs
 * nothing: it refuses --sigv4, and calls a function URL unsigned with a note on stderr.
 */

#if MCP_ENABLE_PROXY
#define PROXY_MAX_ANSWER ((size_t)64 << 20) /* a JSON answer from the remote server */

typedef struct {
    const char *url;
    int sign;
    char region[64];
    char service[64];          /* the SigV4 service: lambda, execute-api, or --service */
    pthread_mutex_t out_lock;  /* whole lines to stdout */
    pthread_mutex_t state_lock;
    char session[128];
    char version[32];
    int active;                /* requests in flight */
    pthread_cond_t idle;
} proxy;

static void proxy_line(proxy *px, const char *p, size_t n) {
    pthread_mutex_lock(&px->out_lock);
    if (write(1, p, n) < 0 || write(1, "\n", 1) < 0) { /* the client went away */ }
    pthread_mutex_unlock(&px->out_lock);
}

#if MCP_ENABLE_AWS
/* The signing keys, by the provider chain (environment, profile with roles, processes and
 * IAM Identity Center, container, instance), and the profile's region. 0 when found. */
static int proxy_credentials(proxy *px, char *why, size_t whyn) {
    aws_creds c;
    int r = aws_creds_get(&c, why, whyn);
    memset(&c, 0, sizeof c); /* found again (cached, refreshed) for each request */
    if (!px->region[0] && !getenv("AWS_REGION") && !getenv("AWS_DEFAULT_REGION")) {
        const char *prof = getenv("AWS_PROFILE");
        if (!profile_get(prof && *prof ? prof : "default", "region", px->region, sizeof px->region)) px->region[0] = 0;
    }
    return r;
}
#endif

/* SSE from the remote, parsed as it arrives: each event's data is one message. */
typedef struct {
    proxy *px;
    buf line, data;
    int sse;            /* -1 until the first byte says */
    buf whole;          /* a JSON (not SSE) body */
    const mcp_json *id; /* the request's id, NULL for a notification */
    int answered;       /* a response with that id was passed on */
    size_t delivered;   /* body bytes seen */
} proxy_rx;

/* Pass one message from the remote to the client: one line, compact, whatever the remote's
 * layout; note whether it answers our request. */
static void proxy_message(proxy_rx *rx, const char *p, size_t n) {
    mcp_json_err e;
    mcp_json_doc *d = mcp_json_parse(p, n, 0, &e);
    if (!d) { /* not JSON: said on one line all the same */
        char *t = memcpy(xmalloc(n + 1), p, n);
        for (size_t i = 0; i < n; i++) if (t[i] == '\n' || t[i] == '\r') t[i] = ' ';
        proxy_line(rx->px, t, n);
        free(t);
        return;
    }
    const mcp_json *m = mcp_json_root(d), *mid = mcp_json_get(m, "id");
    if (rx->id && mid && !mcp_json_get(m, "method") && json_equal(mid, rx->id)) rx->answered = 1;
    size_t len;
    char *line = mcp_json_write(m, &len);
    if (line) proxy_line(rx->px, line, len);
    free(line);
    mcp_json_free(d);
}

static int proxy_body(void *ud, const char *p, size_t n) {
    proxy_rx *rx = ud;
    rx->delivered += n;
    if (rx->sse < 0) { /* JSON starts with a bracket; an event stream with a field name or ':' */
        size_t i = 0;
        while (i < n && (p[i] == ' ' || p[i] == '\r' || p[i] == '\n' || p[i] == '\t')) i++;
        if (i == n) return 0;
        rx->sse = p[i] != '{' && p[i] != '[';
    }
    if (!rx->sse) { buf_put(&rx->whole, p, n); return rx->whole.len > PROXY_MAX_ANSWER; }
    for (size_t i = 0; i < n; i++) {
        if (p[i] != '\n') { buf_putc(&rx->line, p[i]); continue; }
        if (rx->line.len && rx->line.p[rx->line.len - 1] == '\r') rx->line.len--;
        if (!rx->line.len) { /* end of event */
            if (rx->data.len) proxy_message(rx, rx->data.p, rx->data.len);
            rx->data.len = 0;
        } else if (rx->line.len >= 5 && !memcmp(rx->line.p, "data:", 5)) {
            size_t off = rx->line.len > 5 && rx->line.p[5] == ' ' ? 6 : 5;
            if (rx->data.len) buf_putc(&rx->data, '\n');
            buf_put(&rx->data, rx->line.p + off, rx->line.len - off);
        }
        rx->line.len = 0;
    }
    return 0;
}

typedef struct { proxy *px; char *msg; } proxy_job;

static void proxy_error(proxy *px, const mcp_json *id, const char *fmt, ...) MCP_PRINTF(3, 4);
static void proxy_error(proxy *px, const mcp_json *id, const char *fmt, ...) {
    if (!id) return; /* a notification: nobody to tell */
    buf m = {0}, out = {0};
    va_list ap;
    va_start(ap, fmt);
    buf_vprintf(&m, fmt, ap);
    va_end(ap);
    rpc_error(&out, id, RPC_INTERNAL, m.p);
    proxy_line(px, out.p, out.len);
    buf_free(&m);
    buf_free(&out);
}

static void *proxy_send(void *arg) {
    proxy_job *job = arg;
    proxy *px = job->px;
    mcp_json_err e;
    mcp_json_doc *d = mcp_json_parse(job->msg, strlen(job->msg), 0, &e);
    const mcp_json *m = mcp_json_root(d), *id = mcp_json_get(m, "id");
    const char *method = mcp_json_str(mcp_json_get(m, "method"));
    const mcp_json *params = mcp_json_get(m, "params");
    const char *mv = mcp_json_str(mcp_json_get(mcp_json_get(params, "_meta"), META_VERSION));
    buf h = {0};
    buf_puts(&h, "Content-Type: application/json\r\nAccept: application/json, text/event-stream\r\n");
    pthread_mutex_lock(&px->state_lock);
    if (px->session[0]) buf_printf(&h, "Mcp-Session-Id: %s\r\n", px->session);
    if (mv) buf_printf(&h, "MCP-Protocol-Version: %s\r\n", mv);
    else if (px->version[0]) buf_printf(&h, "MCP-Protocol-Version: %s\r\n", px->version);
    pthread_mutex_unlock(&px->state_lock);
    if (mv && method) {
        const char *nm = mcp_json_str(mcp_json_get(params, !strcmp(method, "resources/read") ? "uri" : "name"));
        if (!(nm && (!strcmp(method, "tools/call") || !strcmp(method, "prompts/get") || !strcmp(method, "resources/read"))))
            nm = NULL;
        int bad = 0; /* header values: no control characters; non-ASCII names go base64 (SEP-2243) */
        for (const char *q = method; *q; q++) bad |= (unsigned char)*q < 0x20 || *q == 0x7f || (unsigned char)*q >= 0x80;
        for (const char *q = nm ? nm : ""; *q; q++) bad |= (unsigned char)*q < 0x20 || *q == 0x7f;
        if (bad) {
            proxy_error(px, id, "Invalid params: the method or name holds characters a header cannot carry");
            buf_free(&h);
            goto done;
        }
        buf_printf(&h, "Mcp-Method: %s\r\n", method);
        if (nm) {
            int ascii = 1;
            for (const char *q = nm; *q; q++) ascii &= (unsigned char)*q < 0x80;
            if (ascii) buf_printf(&h, "Mcp-Name: %s\r\n", nm);
            else {
                buf_puts(&h, "Mcp-Name: =?base64?");
                base64_put(&h, (const unsigned char *)nm, strlen(nm));
                buf_puts(&h, "?=\r\n");
            }
        }
    }
    int delay = 200;
    for (int attempt = 0;; attempt++) {
        buf hs = {0};
        buf_put(&hs, h.p, h.len);
#if MCP_ENABLE_AWS
        if (px->sign) {
            mcp_sigv4 k;
            memset(&k, 0, sizeof k);
            k.region = px->region[0] ? px->region : NULL;
            k.service = px->service;
            char *sig = mcp_sigv4_sign(&k, "POST", px->url, h.p, job->msg, strlen(job->msg));
            if (sig) { buf_puts(&hs, sig); free(sig); }
        }
#endif
        proxy_rx rx;
        memset(&rx, 0, sizeof rx);
        rx.px = px;
        rx.id = id;
        mcp_http_request rq;
        memset(&rq, 0, sizeof rq);
        rq.method = "POST";
        rq.url = px->url;
        rq.headers = hs.p;
        rq.body = job->msg;
        rq.body_len = strlen(job->msg);
        rq.timeout_ms = 900000; /* a tool may run for Lambda's whole 15 minutes */
        rq.on_body = proxy_body;
        rq.ud = &rx;
        mcp_http_response rs;
        rx.sse = -1;
        int r = mcp_http_do(&rq, &rs);
        (void)r;
        buf_free(&hs);
        /* again only when the remote cannot have acted: nothing came back, or it said so */
        int retry = 0;
        if (rs.status == 0 && !rx.delivered && !rs.head) retry = 1;
        else if (rs.status == 429 || rs.status == 502 || rs.status == 503 || rs.status == 504) retry = 1;
        if (retry && attempt < 4) {
            mcp_http_free(&rs);
            buf_free(&rx.line); buf_free(&rx.data); buf_free(&rx.whole);
            struct timespec ts = {delay / 1000, (delay % 1000) * 1000000L};
            nanosleep(&ts, NULL);
            delay *= 2;
            continue;
        }
        if (rs.status == 0 && !rx.delivered && !rs.head) proxy_error(px, id, "cannot reach the MCP server at %s: %s", px->url, rs.error);
        else if (rs.status == 0 || (rs.status / 100 == 2 && r)) {
            if (!rx.answered) proxy_error(px, id, "the MCP server's answer was cut short: %s", rs.error);
        } else {
            size_t sl;
            const char *sid = mcp_http_header(&rs, "mcp-session-id", &sl);
            if (sid && sl < sizeof px->session) {
                pthread_mutex_lock(&px->state_lock);
                memcpy(px->session, sid, sl);
                px->session[sl] = 0;
                pthread_mutex_unlock(&px->state_lock);
            }
            if (rs.status / 100 != 2 && rs.len) { /* an error answer's body is kept, not streamed */
                buf_free(&rx.whole);
                buf_put(&rx.whole, rs.body, rs.len);
            }
            if (rs.status / 100 == 2 && rx.whole.len && rx.sse == 0) {
                /* a JSON answer; remember the negotiated version after initialize */
                mcp_json_doc *rd = mcp_json_parse(rx.whole.p, rx.whole.len, 0, &e);
                const char *pv = mcp_json_str(mcp_json_get(mcp_json_get(mcp_json_root(rd), "result"), "protocolVersion"));
                if (pv && method && !strcmp(method, "initialize")) {
                    pthread_mutex_lock(&px->state_lock);
                    snprintf(px->version, sizeof px->version, "%s", pv);
                    pthread_mutex_unlock(&px->state_lock);
                }
                mcp_json_free(rd);
                proxy_message(&rx, rx.whole.p, rx.whole.len);
            } else if (rs.status / 100 != 2) {
                /* the remote's JSON-RPC error if it sent one, else the HTTP status in words */
                mcp_json_doc *rd = rx.whole.len ? mcp_json_parse(rx.whole.p, rx.whole.len, 0, &e) : NULL;
                if (rd && mcp_json_get(mcp_json_root(rd), "error") && id) proxy_message(&rx, rx.whole.p, rx.whole.len);
                else proxy_error(px, id, "the MCP server answered HTTP %d%s%.200s", rs.status,
                                 rx.whole.len ? ": " : "", rx.whole.len ? rx.whole.p : "");
                mcp_json_free(rd);
                rx.answered = 1;
            }
            if (rs.status / 100 == 2 && id && !rx.answered) /* a 2xx without our answer (or not MCP at all) */
                proxy_error(px, id, "the MCP server's answer (HTTP %d) held no response to this request", rs.status);
        }
        mcp_http_free(&rs);
        buf_free(&rx.line); buf_free(&rx.data); buf_free(&rx.whole);
        break;
    }
    buf_free(&h);
done:
    mcp_json_free(d);
    free(job->msg);
    free(job);
    pthread_mutex_lock(&px->state_lock);
    if (!--px->active) pthread_cond_signal(&px->idle);
    pthread_mutex_unlock(&px->state_lock);
    blk_cache_drop();
    return NULL;
}

static int proxy_main(int argc, char **argv) {
    proxy px;
    memset(&px, 0, sizeof px);
    pthread_mutex_init(&px.out_lock, NULL);
    pthread_mutex_init(&px.state_lock, NULL);
    pthread_cond_init(&px.idle, NULL);
    int force = -1;
    for (int i = 2; i < argc; i++) {
        if (!strcmp(argv[i], "--sigv4")) force = 1;
        else if (!strcmp(argv[i], "--no-sigv4")) force = 0;
        else if (!strcmp(argv[i], "--region") && i + 1 < argc) snprintf(px.region, sizeof px.region, "%s", argv[++i]);
        else if (!strcmp(argv[i], "--service") && i + 1 < argc) snprintf(px.service, sizeof px.service, "%s", argv[++i]);
        else if (!px.url && (!strncmp(argv[i], "https://", 8) || !strncmp(argv[i], "http://", 7))) px.url = argv[i];
        else { log_error("proxy: unexpected argument %s", argv[i]); return 2; }
    }
    url_parts u;
    if (!px.url || url_parse(px.url, &u)) { log_error("usage: proxy URL [--sigv4|--no-sigv4] [--region R] [--service S]"); return 2; }
    /* function URLs and API Gateway addresses name their region:
     * <id>.lambda-url.<region>.on.aws, <id>.execute-api.<region>.amazonaws.com */
    const char *lu = strstr(u.host, ".lambda-url."), *xa = strstr(u.host, ".execute-api.");
    const char *named = lu ? lu + 12 : xa ? xa + 13 : NULL;
    if (!px.region[0] && named) {
        const char *dot = strchr(named, '.');
        if (dot && (size_t)(dot - named) < sizeof px.region) { memcpy(px.region, named, (size_t)(dot - named)); px.region[dot - named] = 0; }
    }
    if (!px.service[0]) snprintf(px.service, sizeof px.service, "%s", xa ? "execute-api" : "lambda");
    if (!px.region[0] && (getenv("AWS_REGION") || getenv("AWS_DEFAULT_REGION")))
        snprintf(px.region, sizeof px.region, "%s", getenv("AWS_REGION") ? getenv("AWS_REGION") : getenv("AWS_DEFAULT_REGION"));
#if MCP_ENABLE_AWS
    char why[512] = "";
    int have = force != 0 && !proxy_credentials(&px, why, sizeof why);
    px.sign = force == 1 || (force == -1 && lu && have);
    if (px.sign && !have) {
        log_error("proxy: --sigv4: %s", why);
        return 2;
    }
#else
    if (force == 1) { log_error("proxy: --sigv4: SigV4 signing is not available: this build has MCP_ENABLE_AWS=0"); return 2; }
    if (force == -1 && lu) /* what would have been signed goes unsigned: say so */
        log_at(LOG_WARN, NULL, "proxy: the function URL is called unsigned: SigV4 signing is not available: this build has "
                               "MCP_ENABLE_AWS=0 (--no-sigv4 leaves out this note)");
#endif
    signal(SIGPIPE, SIG_IGN);
    stdio_tx t;
    memset(&t, 0, sizeof t);
    t.in.fd = 0;
    t.in.timeout_ms = -1;
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    size_t n;
    char *line;
    while ((line = stdio_line(&t, &n))) {
        if (!n) continue;
        mcp_json_err e;
        mcp_json_doc *d = mcp_json_parse(line, n, 0, &e);
        if (!d) {
            char m[160];
            buf out = {0};
            snprintf(m, sizeof m, "Parse error: %s at byte %zu", e.msg ? e.msg : "invalid JSON", e.pos);
            rpc_error(&out, NULL, RPC_PARSE, m);
            proxy_line(&px, out.p, out.len);
            buf_free(&out);
            continue;
        }
        const char *method = mcp_json_str(mcp_json_get(mcp_json_root(d), "method"));
        int init = method && !strcmp(method, "initialize");
        mcp_json_free(d);
        proxy_job *job = xmalloc(sizeof *job);
        job->px = &px;
        job->msg = memcpy(xmalloc(n + 1), line, n);
        job->msg[n] = 0;
        pthread_t th;
        pthread_mutex_lock(&px.state_lock);
        px.active++;
        pthread_mutex_unlock(&px.state_lock);
        /* initialize runs alone: what follows needs its session */
        if (init) proxy_send(job);
        else if (pthread_create(&th, &attr, proxy_send, job)) proxy_send(job);
    }
    /* stdin closed: let the requests in flight finish */
    pthread_mutex_lock(&px.state_lock);
    while (px.active) pthread_cond_wait(&px.idle, &px.state_lock);
    pthread_mutex_unlock(&px.state_lock);
    buf_free(&t.in.in);
    return 0;
}

#endif /* MCP_ENABLE_PROXY */

/*=== MARK: - 29. Command line (Public: mcp_main) ===*/

static int call_main(mcp_server *s, const char *tool, const char *args) {
    buf msg = {0};
    buf_puts(&msg, "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"tools/call\",\"params\":{\"name\":");
    json_escape(&msg, tool, strlen(tool));
    buf_puts(&msg, ",\"arguments\":");
    buf_puts(&msg, args && *args ? args : "{}");
    buf_puts(&msg, "}}");
    mcp_json_err e;
    mcp_json_doc *d = mcp_json_parse(msg.p, msg.len, 0, &e);
    buf_free(&msg);
    if (!d) { log_error("call: the arguments are not valid JSON"); return 2; }
    req r;
    req_init(&r, s);
    cur_req = &r;
    buf out = {0};
    rpc_serve_plain(&r, mcp_json_root(d), &out);
    mcp_json_free(d);
    mcp_json_doc *ans = mcp_json_parse(out.p, out.len, 0, &e);
    const mcp_json *root = mcp_json_root(ans), *res = mcp_json_get(root, "result"), *err = mcp_json_get(root, "error");
    int rc = 0;
    if (err) {
        log_error("%s", mcp_json_str(mcp_json_get(err, "message")));
        rc = 2;
    } else {
        char *t = mcp_json_write(res, NULL);
        printf("%s\n", t ? t : "null");
        free(t);
        rc = mcp_json_bool(mcp_json_get(res, "isError")) ? 1 : 0;
    }
    mcp_json_free(ans);
    buf_free(&out);
    cur_req = NULL;
    req_free(&r);
    return rc;
}

/* A schema cut down to what an AgentCore Gateway's inline tool schema takes: type (one
 * name), description, properties, items and required. What is dropped is said on stderr. */
static void schema_agentcore(jw *w, const mcp_json *v, const char *tool, const char *path) {
    jw_obj(w);
    mcp_json_iter it = mcp_json_iterate(v);
    const mcp_json *k, *x;
    while ((x = mcp_json_iter_next(&it, &k))) {
        if (!strcmp(k->s, "type")) {
            const char *t = mcp_json_str(x);
            mcp_json_iter ti = mcp_json_iterate(x); /* ["string", "null"]: the one that is not null */
            const mcp_json *y;
            while (!t && (y = mcp_json_iter_next(&ti, NULL))) if (mcp_json_str(y) && strcmp(y->s, "null")) t = y->s;
            if (t) { jw_key(w, "type"); jw_str(w, t); }
        } else if (!strcmp(k->s, "description") && mcp_json_str(x)) { jw_key(w, "description"); jw_value(w, x); }
        else if (!strcmp(k->s, "required") && MCP_JSON_TYPE(x) == MCP_JSON_ARRAY) { jw_key(w, "required"); jw_value(w, x); }
        else if (!strcmp(k->s, "items") && MCP_JSON_TYPE(x) == MCP_JSON_OBJECT) {
            char p[512];
            snprintf(p, sizeof p, "%s[]", path);
            jw_key(w, "items");
            schema_agentcore(w, x, tool, p);
        } else if (!strcmp(k->s, "properties") && MCP_JSON_TYPE(x) == MCP_JSON_OBJECT) {
            jw_key(w, "properties");
            jw_obj(w);
            mcp_json_iter pi = mcp_json_iterate(x);
            const mcp_json *pk, *pv;
            while ((pv = mcp_json_iter_next(&pi, &pk))) {
                char p[512];
                snprintf(p, sizeof p, "%s%s%s", path, *path ? "." : "", pk->s);
                jw_key(w, pk->s);
                schema_agentcore(w, pv, tool, p);
            }
            jw_end_obj(w);
        } else if (strcmp(k->s, "$schema") && strcmp(k->s, "additionalProperties"))
            fprintf(stderr, "mcp: tool %s: %s%s%s dropped (an AgentCore Gateway schema has no such keyword)\n",
                    tool, path, *path ? "." : "", k->s);
    }
    jw_end_obj(w);
}

/* `tool-schema [--agentcore]`: the tools as a JSON array of {name, description,
 * inputSchema[, outputSchema]}, for a gateway's inline tool schema (deploy/ feeds it). */
static int tool_schema_main(mcp_server *s, int agentcore) {
    if (!server_check(s)) return 2;
    buf b = {0};
    jw w = {&b, 0};
    jw_arr(&w);
    for (int i = 0; i < s->ntools; i++) {
        const mcp_tool_def *t = s->tools[i];
        jw_obj(&w);
        jw_key(&w, "name"); jw_str(&w, t->name);
        jw_key(&w, "description"); jw_str(&w, t->desc ? t->desc : t->name);
        jw_key(&w, "inputSchema");
        if (agentcore) schema_agentcore(&w, mcp_json_root(t->in_doc), t->name, "");
        else jw_raw(&w, t->schema, strlen(t->schema));
        if (t->out_doc) {
            jw_key(&w, "outputSchema");
            if (agentcore) schema_agentcore(&w, mcp_json_root(t->out_doc), t->name, "output");
            else jw_raw(&w, t->out_src, strlen(t->out_src));
        }
        jw_end_obj(&w);
    }
    jw_end_arr(&w);
    int rc = b.oom ? 2 : 0;
    if (!rc) printf("%s\n", b.p);
    buf_free(&b);
    return rc;
}

static void usage(mcp_server *s, FILE *f) {
    fprintf(f,
            "%s %s (mcp.c %s): a Model Context Protocol server\n"
            "\n"
            "usage:\n"
            "  %s serve [--listen HOST:PORT]   Streamable HTTP on http://HOST:PORT/mcp (default 127.0.0.1:8080)\n"
            "  %s stdio                        MCP over stdin and stdout\n"
            "  %s call TOOL ['JSON-ARGS']      run one tool once and print its result\n"
            "  %s proxy URL [--sigv4]          stdio to a remote MCP server (SigV4 for AWS_IAM function URLs\n"
            "                                  and API Gateway APIs)\n"
            "  %s tool-schema [--agentcore]    print the tools' schemas (--agentcore: as an AgentCore Gateway\n"
            "                                  Lambda target's inline tool schema)\n"
            "  %s --help | --version\n"
            "\n"
            "With AWS_LAMBDA_RUNTIME_API set and no arguments it runs as an AWS Lambda custom runtime.\n"
            "MCP_ALLOWED_HOSTS and MCP_ALLOWED_ORIGINS (comma-separated) extend serve's localhost allow-list.\n",
            s->name, s->version, MCP_VERSION, s->name, s->name, s->name, s->name, s->name, s->name);
}

static mcp_server *volatile main_server; /* the server lives as long as the process: kept reachable */

int mcp_main(mcp_server *s, int argc, char **argv) {
    main_server = s;
    if (argc < 2) {
        if (getenv("AWS_LAMBDA_RUNTIME_API")) return lambda_main(s);
        usage(s, stderr);
        return 2;
    }
    const char *cmd = argv[1];
    if (!strcmp(cmd, "--help") || !strcmp(cmd, "-h") || !strcmp(cmd, "help")) { usage(s, stdout); return 0; }
    if (!strcmp(cmd, "--version")) { printf("%s %s (mcp.c %s)\n", s->name, s->version, MCP_VERSION); return 0; }
    if (!strcmp(cmd, "tool-schema")) { /* at build time: no configuration to resolve */
        int ac = argc == 3 && !strcmp(argv[2], "--agentcore");
        if (argc > 3 || (argc == 3 && !ac)) { log_error("usage: %s tool-schema [--agentcore]", argv[0]); return 2; }
        return tool_schema_main(s, ac);
    }
    char err[1024];
    if (strcmp(cmd, "--help") && config_resolve(err, sizeof err)) {
        log_error("cannot start: %s", err);
        return 2;
    }
    if (!strcmp(cmd, "serve")) {
        const char *listen_at = getenv("MCP_LISTEN");
        for (int i = 2; i < argc; i++) {
            if (!strcmp(argv[i], "--listen") && i + 1 < argc) listen_at = argv[++i];
            else if (!strncmp(argv[i], "--listen=", 9)) listen_at = argv[i] + 9;
            else { log_error("serve: unknown option %s", argv[i]); return 2; }
        }
        return serve_main(s, listen_at);
    }
    if (!strcmp(cmd, "stdio")) return stdio_main(s);
#if MCP_ENABLE_PROXY
    if (!strcmp(cmd, "proxy")) return proxy_main(argc, argv);
#else
    if (!strcmp(cmd, "proxy")) { log_error("proxy: this build has MCP_ENABLE_PROXY=0"); return 2; }
#endif

    if (!strcmp(cmd, "call")) {
        if (argc < 3 || argc > 4) { log_error("usage: %s call TOOL ['JSON-ARGS']", argv[0]); return 2; }
        if (!tool_find(s, argv[2])) { log_error("call: no tool named %s", argv[2]); return 2; }
        if (!server_check(s)) return 2;
        return call_main(s, argv[2], argc == 4 ? argv[3] : "{}");
    }
    log_error("unknown command %s", cmd);
    usage(s, stderr);
    return 2;
}
