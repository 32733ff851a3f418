/* fuzz_http_request.c: what a client sends to `serve`: request heads (http_parse_head in
 * request mode), chunked bodies (http_dechunk), and conn_read_msg / conn_stream_msg reading
 * pipelined requests from a connection. The checks are described in fuzz_http.h. */
#define FUZZ_RESPONSE 0
#include "fuzz_http.h"
