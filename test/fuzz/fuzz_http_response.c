/* fuzz_http_response.c: what a server sends back to mcp_http_do and the Lambda Runtime API
 * client: status lines and heads (http_parse_head in response mode), bodies sized, chunked
 * or read to EOF, answers to HEAD, and conn_read_msg / conn_stream_msg on a connection. The
 * checks are described in fuzz_http.h. */
#define FUZZ_RESPONSE 1
#include "fuzz_http.h"
