#!/usr/bin/env python3
"""seeds.py: writes the hand-made seed inputs of the fuzz targets into test/fuzz/corpus/.

    python3 test/fuzz/seeds.py        (re)writes every seed this script knows; files it does
                                      not know (crash reproducers, hand-added seeds) are kept

Seeds are small valid inputs: JSON-RPC messages for every method and era, Lambda events
of every shape (the AWS samples of test/data/events), HTTP heads with
chunked bodies, SigV4 requests with odd URLs, SSE payloads and JWTs.
"""
import base64, hashlib, hmac, json, os, sys

HERE = os.path.dirname(os.path.abspath(__file__))
CORPUS = os.path.join(HERE, "corpus")
STATE_KEY = "fuzz state key"  # MCP_STATE_KEY in the targets


def write(target, name, data):
    d = os.path.join(CORPUS, target)
    os.makedirs(d, exist_ok=True)
    if isinstance(data, str):
        data = data.encode()
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)


def j(v):
    return json.dumps(v, separators=(",", ":"), ensure_ascii=False)


def rpc(method, params=None, id=1):
    m = {"jsonrpc": "2.0", "id": id, "method": method}
    if params is not None:
        m["params"] = params
    return m


META = "io.modelcontextprotocol/protocolVersion"
CAPS = "io.modelcontextprotocol/clientCapabilities"
ALL_CAPS = {"elicitation": {}, "sampling": {}, "roots": {}}


def meta(caps=None, level=None):
    m = {META: "2026-07-28", CAPS: ALL_CAPS if caps is None else caps}
    if level:
        m["io.modelcontextprotocol/logLevel"] = level
    return m


def state(payload):
    """A requestState as mcp.c signs it under MCP_STATE_KEY."""
    key = hmac.new(b"mcp.c state", STATE_KEY.encode(), hashlib.sha256).digest()
    mac = hmac.new(key, payload.encode(), hashlib.sha256).hexdigest()
    b64 = base64.urlsafe_b64encode(payload.encode()).decode().rstrip("=")
    return b64 + "." + mac


# JSON-RPC messages: the session eras (no _meta) and 2026-07-28 (with _meta)
SESSION_MSGS = {
    "initialize": rpc("initialize", {"protocolVersion": "2025-06-18", "capabilities": {"elicitation": {}},
                                     "clientInfo": {"name": "fuzz", "version": "1"}}),
    "initialize_old": rpc("initialize", {"protocolVersion": "2024-11-05", "capabilities": {}, "clientInfo": {"name": "c", "version": "0"}}, id="init"),
    "ping": rpc("ping", id="p1"),
    "tools_list": rpc("tools/list", {}),
    "tools_list_cursor": rpc("tools/list", {"cursor": "3"}),
    "call_add": rpc("tools/call", {"name": "add", "arguments": {"a": 2, "b": 3.5}}),
    "call_add_bad": rpc("tools/call", {"name": "add", "arguments": {"a": "x"}}),
    "call_echo": rpc("tools/call", {"name": "echo", "arguments": {"text": "hi\u00e9", "count": 2, "loud": True}, "_meta": {"progressToken": "t1"}}),
    "call_kinds": rpc("tools/call", {"name": "kinds", "arguments": {"kind": "embed", "data": "QUJD"}}),
    "call_kinds_fail": rpc("tools/call", {"name": "kinds", "arguments": {"kind": "fail", "code": -32000}}),
    "call_structured": rpc("tools/call", {"name": "structured", "arguments": {"a": 1, "b": 2}}),
    "call_structured_json": rpc("tools/call", {"name": "structured", "arguments": {"json": "{\"sum\":3}"}}),
    "call_wizard": rpc("tools/call", {"name": "wizard", "arguments": {"topic": "x"}}),
    "call_whoami": rpc("tools/call", {"name": "whoami", "arguments": {"claim": "email"}}),
    "call_unknown": rpc("tools/call", {"name": "nope"}),
    "resources_list": rpc("resources/list"),
    "templates_list": rpc("resources/templates/list"),
    "read_readme": rpc("resources/read", {"uri": "test://readme"}),
    "read_note": rpc("resources/read", {"uri": "note://inbox/todo.txt"}),
    "read_missing": rpc("resources/read", {"uri": "note://inbox/missing.txt"}),
    "read_blob": rpc("resources/read", {"uri": "blob://e1"}),
    "subscribe": rpc("resources/subscribe", {"uri": "test://readme"}),
    "prompts_list": rpc("prompts/list"),
    "prompt_get": rpc("prompts/get", {"name": "greet", "arguments": {"name": "Ada", "style": "pirate"}}),
    "complete_prompt": rpc("completion/complete", {"ref": {"type": "ref/prompt", "name": "greet"}, "argument": {"name": "style", "value": "f"}}),
    "complete_many": rpc("completion/complete", {"ref": {"type": "ref/prompt", "name": "greet"}, "argument": {"name": "many", "value": ""}}),
    "complete_resource": rpc("completion/complete", {"ref": {"type": "ref/resource", "uri": "note://{folder}/{name}.txt"},
                                                     "argument": {"name": "folder", "value": "in"}, "context": {"arguments": {"name": "x"}}}),
    "set_level": rpc("logging/setLevel", {"level": "debug"}),
    "notification": {"jsonrpc": "2.0", "method": "notifications/initialized"},
    "cancelled": {"jsonrpc": "2.0", "method": "notifications/cancelled", "params": {"requestId": 1}},
    "response": {"jsonrpc": "2.0", "id": "s1", "result": {"action": "accept"}},
    "batch": [rpc("ping", id=1), rpc("tools/list", id=2), {"jsonrpc": "2.0", "method": "notifications/x"}, 7],
    "bad_version": {"jsonrpc": "1.0", "id": 1, "method": "ping"},
    "bad_id": {"jsonrpc": "2.0", "id": [1], "method": "ping"},
    "unknown_method": rpc("no/such/method", id=None),
}

STATELESS_MSGS = {
    "discover": rpc("server/discover", {"_meta": meta()}),
    "tools_list26": rpc("tools/list", {"_meta": meta()}),
    "call_add26": rpc("tools/call", {"name": "add", "arguments": {"a": 1, "b": 2}, "_meta": meta()}),
    "call_echo26_log": rpc("tools/call", {"name": "echo", "arguments": {"text": "a\nb", "loud": True},
                                          "_meta": dict(meta(level="debug"), progressToken=7)}),
    "call_structured26": rpc("tools/call", {"name": "structured", "arguments": {"a": 1, "b": 2, "log": True}, "_meta": meta(level="info")}),
    "call_wizard26": rpc("tools/call", {"name": "wizard", "arguments": {}, "_meta": meta()}),
    "call_wizard26_answers": rpc("tools/call", {"name": "wizard", "arguments": {"needSampling": True}, "_meta": meta(),
                                                "inputResponses": {"name": {"action": "accept", "content": {"name": "Ada"}},
                                                                   "elicitation-2": {"action": "accept", "content": {"ok": True}},
                                                                   "draft": {"role": "assistant", "content": {"type": "text", "text": "x"}},
                                                                   "roots-4": {"roots": [{"uri": "file:///tmp"}]}},
                                                "requestState": state("round+1")}),
    "call_wizard26_badstate": rpc("tools/call", {"name": "wizard", "arguments": {}, "_meta": meta(), "requestState": "cm91bmQ.00"}),
    "call_wizard26_nocaps": rpc("tools/call", {"name": "wizard", "arguments": {"needSampling": True}, "_meta": meta(caps={})}),
    "read26": rpc("resources/read", {"uri": "note://a/b.txt", "_meta": meta()}),
    "prompt26": rpc("prompts/get", {"name": "greet", "arguments": {"name": "Bo"}, "_meta": meta()}),
    "complete26": rpc("completion/complete", {"ref": {"type": "ref/prompt", "name": "greet"}, "argument": {"name": "echo", "value": "zz"}, "_meta": meta()}),
    "removed26": rpc("ping", {"_meta": meta()}),
    "oldversion26": rpc("tools/list", {"_meta": {META: "2025-06-18", CAPS: {}}}),
    "nometa26": rpc("tools/list", {"_meta": {META: "2026-07-28"}}),
}


def mcp_seeds():
    for k, v in {**SESSION_MSGS, **STATELESS_MSGS}.items():
        write("mcp", k, j(v))
    # pretty-printed and with odd whitespace: a body is any JSON text
    write("mcp", "pretty_call", json.dumps(SESSION_MSGS["call_add"], indent=2))


def event(kind, method, path, body, headers=None, b64=False, extra=None):
    headers = headers or {}
    if kind == "v2":
        e = {"version": "2.0", "routeKey": "$default", "rawPath": path, "rawQueryString": "a=1",
             "headers": headers, "requestContext": {"http": {"method": method, "path": path}, "requestId": "r1"},
             "body": body, "isBase64Encoded": b64}
    elif kind == "v1":
        e = {"resource": "/{proxy+}", "path": path, "httpMethod": method, "headers": headers,
             "multiValueHeaders": {k: [v] for k, v in headers.items()}, "requestContext": {"resourcePath": "/{proxy+}"},
             "body": body, "isBase64Encoded": b64}
    else:  # alb
        e = {"requestContext": {"elb": {"targetGroupArn": "arn:aws:elasticloadbalancing:us-east-1:1:targetgroup/t/1"}},
             "httpMethod": method, "path": path, "headers": headers, "body": body, "isBase64Encoded": b64}
    if extra:
        for k, v in extra.items():
            if k == "authorizer":
                e["requestContext"]["authorizer"] = v
            else:
                e[k] = v
    return e


H_SESSION = {"content-type": "application/json", "accept": "application/json, text/event-stream",
             "mcp-session-id": "e3-0123456789abcdef0123456789abcdef"}
H_26 = {"content-type": "application/json", "accept": "application/json, text/event-stream",
        "mcp-protocol-version": "2026-07-28"}


def events_seeds():
    src = os.path.join(HERE, "..", "data", "events")
    for f in sorted(os.listdir(src)):
        if f.endswith(".json"):
            with open(os.path.join(src, f), "rb") as fh:
                write("events", "aws_" + f[:-5], fh.read())
    n = 0
    for name, m in list(SESSION_MSGS.items())[:20]:
        kind = ["v2", "v1", "alb"][n % 3]
        h = dict(H_SESSION)
        if name.startswith("initialize"):
            del h["mcp-session-id"]
        write("events", "ev_" + kind + "_" + name, j(event(kind, "POST", "/mcp", j(m), h)))
        n += 1
    for name, m in STATELESS_MSGS.items():
        h = dict(H_26, **{"mcp-method": m["method"]})
        p = m.get("params", {})
        if m["method"] in ("tools/call", "prompts/get"):
            h["mcp-name"] = p["name"]
        if m["method"] == "resources/read":
            h["mcp-name"] = p["uri"]
        write("events", "ev_v2_" + name, j(event("v2", "POST", "/mcp", j(m), h)))
    write("events", "ev_b64", j(event("v2", "POST", "/mcp", base64.b64encode(j(SESSION_MSGS["call_add"]).encode()).decode(), H_SESSION, b64=True)))
    write("events", "ev_multi_alb", j({"requestContext": {"elb": {}}, "httpMethod": "POST", "path": "/mcp",
                                       "multiValueHeaders": {"content-type": ["application/json"], "accept": ["application/json", "text/event-stream"],
                                                             "mcp-session-id": ["e1-0123456789abcdef0123456789abcdef"]},
                                       "body": j(SESSION_MSGS["batch"]), "isBase64Encoded": False}))
    write("events", "ev_health", j(event("v2", "GET", "/health", "")))
    write("events", "ev_metrics", j(event("v1", "GET", "/metrics", "", {"accept": "text/plain"})))
    write("events", "ev_tool_route", j(event("v2", "POST", "/tools/add", '{"a":1,"b":2}', {"content-type": "application/json"})))
    write("events", "ev_options_cors", j(event("v2", "OPTIONS", "/mcp", "", {"origin": "https://app.example"})))
    write("events", "ev_delete", j(event("v1", "DELETE", "/mcp", "", {"mcp-session-id": "e3-0123456789abcdef0123456789abcdef"})))
    write("events", "ev_metadata", j(event("v2", "GET", "/.well-known/oauth-protected-resource", "", {"host": "abc.lambda-url.us-east-1.on.aws"})))
    write("events", "ev_iam", j(event("v2", "POST", "/mcp", j(STATELESS_MSGS["call_whoami"] if "call_whoami" in STATELESS_MSGS else
                                                              rpc("tools/call", {"name": "whoami", "arguments": {}, "_meta": meta()})),
                                      dict(H_26, **{"mcp-method": "tools/call", "mcp-name": "whoami"}),
                                      extra={"authorizer": {"iam": {"userArn": "arn:aws:iam::111122223333:user/ada"}}})))
    write("events", "ev_jwt_claims", j(event("v2", "POST", "/mcp", j(rpc("tools/call", {"name": "scoped", "arguments": {}, "_meta": meta()})),
                                             dict(H_26, **{"mcp-method": "tools/call", "mcp-name": "scoped"}),
                                             extra={"authorizer": {"jwt": {"claims": {"sub": "u1", "scope": "files:read", "email": "a@b.c"}, "scopes": None}}})))
    write("events", "ev_cognito_v1", j(event("v1", "POST", "/mcp", j(rpc("tools/call", {"name": "whoami", "arguments": {"claim": "email"}, "_meta": meta()})),
                                             dict(H_26, **{"mcp-method": "tools/call", "mcp-name": "whoami"}),
                                             extra={"authorizer": {"claims": {"sub": "c1", "email": "c@d.e"}}})))
    for name in ("call_add", "tools_list", "batch", "notification", "initialize"):
        write("events", "direct_" + name, j(SESSION_MSGS[name]))
    write("events", "direct_26", j(STATELESS_MSGS["call_wizard26"]))


def http_seeds():
    req = {
        "post_sized": b"POST /mcp HTTP/1.1\r\nHost: localhost:8080\r\nContent-Type: application/json\r\nAccept: application/json, text/event-stream\r\nContent-Length: 40\r\n\r\n{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"ping\"}",
        "post_chunked": b"POST /mcp?x=1&y=%20 HTTP/1.1\r\nHost: localhost\r\nTransfer-Encoding: chunked\r\n\r\n5;ext=1\r\nhello\r\n6\r\n world\r\n0\r\nX-Trailer: yes\r\n\r\n",
        "pipelined": b"GET /health HTTP/1.1\r\nHost: localhost\r\n\r\nGET /metrics HTTP/1.1\r\nHost: localhost\r\nAccept: text/plain\r\n\r\nDELETE /mcp HTTP/1.1\r\nMcp-Session-Id: abc\r\nConnection: close\r\n\r\n",
        "http10": b"\r\n\r\nGET / HTTP/1.0\r\nConnection: keep-alive, Upgrade\r\n\r\n",
        "bad_obsfold": b"GET / HTTP/1.1\r\nX: a\r\n b\r\n\r\n",
        "bad_te": b"POST / HTTP/1.1\r\nTransfer-Encoding: gzip, chunked\r\n\r\n",
        "bad_cl_te": b"POST / HTTP/1.1\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
        "dup_cl": b"POST / HTTP/1.1\r\nContent-Length: 3\r\ncontent-length: 3\r\n\r\nabcGET / HTTP/1.1\r\n\r\n",
        "version": b"GET / HTTP/2.0\r\n\r\n",
        "chunked_pipelined": b"POST /a HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n1\r\na\r\n0\r\n\r\nPOST /b HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nA\r\n0123456789\r\n0\r\n\r\n",
        "big_chunk_hex": b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nfffffffffffffff\r\nabc",
    }
    for k, v in req.items():
        write("http_request", k, v)
    res = {
        "ok_sized": b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{}",
        "ok_chunked": b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\nHTTP/1.1 202 Accepted\r\nContent-Length: 0\r\n\r\n",
        "to_eof": b"HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\n\r\nall of this until the connection closes\n",
        "no_content": b"HTTP/1.1 204 No Content\r\nContent-Length: 5\r\n\r\nHTTP/1.1 304 Not Modified\r\n\r\nHTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\nx",
        "lambda_next": b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nLambda-Runtime-Aws-Request-Id: 8476a536-e9f4-11e8-9739-2dfe598c3fcd\r\nLambda-Runtime-Deadline-Ms: 1542409706888\r\nLambda-Runtime-Invoked-Function-Arn: arn:aws:lambda:us-east-2:123456789012:function:custom-runtime\r\nLambda-Runtime-Trace-Id: Root=1-5bef4de7-ad49b0e87f6ef6c87fc2e700;Parent=9a9197af755a6419;Sampled=1\r\nContent-Length: 14\r\n\r\n{\"event\":true}",
        "chunked_trailers": b"HTTP/1.1 500 Internal Server Error\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n0004\r\nfail\r\n0\r\nA: 1\nB: 2\r\n\r\n",
        "bad_status": b"HTTP/1.1 2x0 OK\r\n\r\n",
        "s3_error": b"HTTP/1.1 403 Forbidden\r\nx-amz-request-id: 1\r\nContent-Type: application/xml\r\nContent-Length: 94\r\n\r\n<?xml version=\"1.0\"?><Error><Code>AccessDenied</Code><Message>Access Denied</Message></Error>",
    }
    for k, v in res.items():
        write("http_response", k, v)


def json_seeds():
    seeds = {
        "object": j(SESSION_MSGS["call_add"]),
        "array": '[1, -0, 0.5, -1.25e-3, 1E+2, 9007199254740993, 123456789012345678901234567890, 1e400, -1e-400]',
        "literals": '[true,false,null,{},[],"",{"":""}]',
        "escapes": '"a\\"b\\\\c\\/d\\b\\f\\n\\r\\t\\u0000\\u00e9\\u20ac\\ud83d\\ude00"',
        "utf8": '{"k\u00e9y":"\u65e5\u672c\u8a9e \U0001F600","dup":1,"dup":2}',
        "nested": '[[[[[[[[[[{"a":[[[[{"b":{}}]]]]}]]]]]]]]]]',
        "deep70": '[' * 70 + ']' * 70,
        "deep130": '{"a":' * 130 + '1' + '}' * 130,
        "numbers_int": '[0, 1.0, 2e3, 1200e-2, 9223372036854775807, -9223372036854775808, 9223372036854775808, 1.5, 10000000000000000000000e-3, 0.0000e5]',
        "numbers_hard": '[2.2250738585072011e-308, 1.7976931348623157e308, 4.9e-324, 0.1, 0.30000000000000004, 7205759403792793199999e-5, 1.00000000000000011102230246251565404236316680908203125]',
        "ws": ' \t\r\n{ "a" : [ 1 , 2 ] } \n',
        "string_long": '"' + 'abcdefgh' * 20 + '\\n' + 'x' * 37 + '"',
        "bad_trailing": '{"a":1},',
        "bad_surrogate": '"\\ud800"',
        "bad_utf8": b'"\xc0\xaf"',
        "bad_leading_zero": '[01]',
        "scalar": '-12.5e+7',
    }
    for k, v in seeds.items():
        write("json", k, v)


def sigv4_seeds():
    z = "\0"
    seeds = {
        "get_s3": "GET" + z + "https://examplebucket.s3.amazonaws.com/test.txt" + z + "Range: bytes=0-9\r\n" + z,
        "post_json": "POST" + z + "https://dynamodb.us-east-1.amazonaws.com/" + z +
                     "Content-Type: application/x-amz-json-1.0\r\nX-Amz-Target: DynamoDB_20120810.GetItem\r\n" + z + '{"TableName":"t"}',
        "query_odd": "GET" + z + "https://example.amazonaws.com/a%20b/../c//d?Param2=value2&Param1=value1&b=%zz&a=%41%42&&=x&k=v=w&%00=1" + z + z,
        "ipv6_port": "PUT" + z + "http://[::1]:8080/p%2Fq?x" + z + "X-Dup: a\r\nx-dup: b\r\nX-Spaces:   a   b  \r\n" + z + "body",
        "function_url": "POST" + z + "https://abcdefg.lambda-url.us-east-1.on.aws/mcp" + z + "Content-Type: application/json\r\n" + z + '{"jsonrpc":"2.0"}',
        "utf8_path": "GET" + z + "https://h.example/\u00e9t\u00e9/\U0001F600?q=\u00e9" + z + z + "\x01",
        "no_path": "GET" + z + "https://bucket.s3.amazonaws.com?list-type=2&prefix=a%2Fb" + z + z,
        "bad_url": "GET" + z + "ftp://x/y" + z + z,
    }
    for k, v in seeds.items():
        write("sigv4", k, v)


def sse_seeds():
    write("sse", "message", j(SESSION_MSGS["call_add"]))
    write("sse", "several", j({"jsonrpc": "2.0", "method": "notifications/message", "params": {"level": "info", "data": "x"}}) + "\0" +
          j({"jsonrpc": "2.0", "id": 1, "result": {"content": []}}))
    write("sse", "escaped_newlines", j({"text": "line1\nline2\r\n"}))
    write("sse", "empty", "")


def b64u(b):
    return base64.urlsafe_b64encode(b).decode().rstrip("=")


def jwt_seeds():
    # raw-token inputs: mode byte 'R', then the token (the target routes it as a bearer token)
    hs = "fuzz hs256 secret"
    def hs256(header, payload):
        h = b64u(j(header).encode()) + "." + b64u(j(payload).encode())
        return h + "." + b64u(hmac.new(hs.encode(), h.encode(), hashlib.sha256).digest())
    good = {"iss": "https://issuer.example", "aud": "mcp", "sub": "user-1", "exp": 4102444800, "nbf": 0,
            "scope": "files:read files:write", "email": "a@b.c"}
    write("jwt", "raw_hs256_good", "R" + hs256({"alg": "HS256", "typ": "JWT"}, good))
    write("jwt", "raw_hs256_expired", "R" + hs256({"alg": "HS256"}, dict(good, exp=1000)))
    write("jwt", "raw_none", "R" + b64u(b'{"alg":"none"}') + "." + b64u(j(good).encode()) + ".")
    write("jwt", "raw_rs256_kid", "R" + b64u(b'{"alg":"RS256","kid":"rsa1"}') + "." + b64u(j(good).encode()) + "." + b64u(b"\0" * 128))
    write("jwt", "raw_apikey", "Rkey-one")
    write("jwt", "raw_garbage", "Rnot.a.jwt.at.all")
    # signed inputs: mode byte 'H' (HS256), 'E' (ES256), 'S' (RS256), then HEADER-JSON \n PAYLOAD-JSON;
    # the target signs them, so the claims checks are reachable
    for m in "HES":
        alg = {"H": "HS256", "E": "ES256", "S": "RS256"}[m]
        write("jwt", "signed_" + alg, m + j({"alg": alg, "kid": {"H": "", "E": "ec1", "S": "rsa1"}[m]}) + "\n" + j(good))
    write("jwt", "signed_aud_list", "H" + j({"alg": "HS256"}) + "\n" + j(dict(good, aud=["x", "mcp"], scope=None, scp=["files:read"])))
    write("jwt", "signed_wrong_iss", "H" + j({"alg": "HS256"}) + "\n" + j(dict(good, iss="https://evil.example")))
    write("jwt", "signed_nbf_future", "H" + j({"alg": "HS256"}) + "\n" + j(dict(good, nbf=4102444800)))
    write("jwt", "signed_alg_confusion", "H" + j({"alg": "RS256", "kid": "rsa1"}) + "\n" + j(good))


if __name__ == "__main__":
    json_seeds()
    http_seeds()
    sigv4_seeds()
    sse_seeds()
    mcp_seeds()
    events_seeds()
    jwt_seeds()
    print("seeds written under", CORPUS)
