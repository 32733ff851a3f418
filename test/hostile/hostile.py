#!/usr/bin/env python3
"""hostile.py: the serve, datatools and authentication checks of test/hostile (issue 14).

    python3 test/hostile/hostile.py BUILD_DIR AUTH_SERVER

BUILD_DIR holds hello, conformance and datatools (build/ or build/asan/); AUTH_SERVER is
test/auth/server.c built with mcp.c (test/hostile/run.sh builds it). The expected behaviour
of every check is written in test/hostile/README.md; the numbers in the check names are the
findings of issue 14. Prints "ok - ..." / "not ok - ..." per check and "# N passed, M failed";
exits 1 on any failure. Talks only to 127.0.0.1 (from 127.0.0.1, and from 127.0.0.2 and
127.0.0.3 where a check needs a second client); every check is bounded by SIGALRM.
HOSTILE_ONLY=REGEX runs the checks whose names match."""

import json
import os
import shutil
import sys
import tempfile
import threading
import time

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import lib  # noqa: E402
from lib import (ACCEPT, Conn, Fail, Listener, Server, check, eq, error_body, init_msg, initialize,  # noqa: E402
                 jwt_hs256, mcp_headers, note, req_bytes, request, rpc, rpc_final, run_tool, show, starts,
                 tool_call, truthy)

if len(sys.argv) < 3:
    print("usage: hostile.py BUILD_DIR AUTH_SERVER", file=sys.stderr)
    sys.exit(2)
BUILD = os.path.abspath(sys.argv[1])
HELLO = os.path.join(BUILD, "hello")
CONFORMANCE = os.path.join(BUILD, "conformance")
DATATOOLS = os.path.join(BUILD, "datatools")
AUTHSERVER = os.path.abspath(sys.argv[2])


def sanitized(path):
    try:
        with open(path, "rb") as f:
            data = f.read()
        return b"__asan_init" in data or b"__ubsan_handle" in data or b"__tsan_init" in data
    except OSError:
        return False


def tsan(path):
    try:
        with open(path, "rb") as f:
            return b"__tsan_init" in f.read()
    except OSError:
        return False


lib.SANITIZED = sanitized(HELLO)
lib.TSAN = tsan(HELLO)
SLOW = 3 if lib.SANITIZED else 1  # sanitizer builds are slower: time bounds of the client side only
MB = 1024  # kB in a MB, for RSS
EXACT_400 = {"error": "400 Bad Request"}
EXACT_431 = {"error": "431 Request Header Fields Too Large"}
EXACT_408 = {"error": "408 Request Timeout"}
EXACT_415 = {"jsonrpc": "2.0", "id": None,
             "error": {"code": -32600, "message": "Unsupported Media Type: Content-Type must be application/json"}}
T0 = time.monotonic()


def json_body(body, what):
    try:
        return json.loads(body)
    except ValueError:
        raise Fail(f"{what}: the body is not JSON: {show(body)}")


def expect_refusal(conn, status, exact, what, timeout=3.0):
    """The server answers `status` with exactly this JSON body and Connection: close, then closes."""
    st, h, b = conn.response(timeout)
    eq(st, status, f"{what}: status (body {show(b)})")
    eq(json_body(b, what), exact, f"{what}: body")
    eq([v.lower() for v in h.get("connection", [])], ["close"], f"{what}: Connection header")
    truthy(conn.wait_closed(3.0), f"{what}: the connection stays open after the {status}")


class Shared:
    """One hello server for the checks that do not need a server of their own; restarted when a
    check killed it (each check says so itself)."""

    def __init__(self):
        self.srv = None

    def get(self):
        if not self.srv or not self.srv.alive():
            if self.srv:
                note(f"the shared hello server died; stderr: {show(self.srv.stderr()[-400:], 400)}")
            self.srv = Server(HELLO)
        return self.srv

    def port(self):
        return self.get().port


SH = Shared()


# ============================================================================================
# 1. chunk extensions and trailers are bounded

CHUNKED_HEAD = {"Content-Type": "application/json", "Accept": ACCEPT, "Transfer-Encoding": "chunked"}


def chunked_start(c, port, what):
    c.send(req_bytes(port, "POST", "/mcp", CHUNKED_HEAD))
    if what == "trailer":
        c.send(b"2\r\n{}\r\n0\r\n")
        return b"X-Pad: " + b"a" * 60000 + b"\r\n"
    c.send(b"1;")
    return b"a" * 60000


def c1_status(what, status, exact):
    P = SH.port()
    with Conn(P) as c:
        unit = chunked_start(c, P, what)
        for _ in range(4):  # 240 KB, never finished
            if not c.try_send(unit):
                break
        expect_refusal(c, status, exact, what)


def c1_rss(what):
    srv = Server(HELLO)
    try:
        P = srv.port
        eq(request(P, "GET", "/health")[0], 200, "GET /health before")
        base = srv.rss_kb()
        peak = base
        sent = 0
        with Conn(P) as c:
            unit = chunked_start(c, P, what)
            t0 = time.monotonic()
            while sent < (96 << 20) and time.monotonic() - t0 < 5.0:
                if not c.try_send(unit):
                    break
                sent += len(unit)
                if sent % (1 << 20) < len(unit):
                    peak = max(peak, srv.rss_kb() or 0)
            peak = max(peak, srv.rss_kb() or 0)
        note(f"{what}: {sent >> 20} MB sent before the server stopped reading; RSS {base} kB -> peak {peak} kB")
        truthy(srv.alive(), "the server died")
        truthy(peak - base < 64 * MB, f"the server's RSS grew by {(peak - base) // MB} MB (limit 64 MB) "
                                      f"while {sent >> 20} MB of {what} bytes were sent")
        eq(request(P, "GET", "/health")[0], 200, "GET /health after")
    finally:
        srv.stop()


def c1_guard():
    P = SH.port()
    body = json.dumps(init_msg()).encode()
    with Conn(P) as c:
        c.send(req_bytes(P, "POST", "/mcp", CHUNKED_HEAD))
        c.send(b"%x;name=value\r\n" % len(body) + body + b"\r\n0\r\nX-Checksum: 1\r\n\r\n")
        st, h, b = c.response(5)
        eq(st, 200, f"status (body {show(b)})")
        eq(json_body(b, "initialize")["result"]["protocolVersion"], "2025-11-25", "protocolVersion")


# ============================================================================================
# 4. slow and idle connections do not lock others out

def c4_idle():
    srv = Server(HELLO)
    conns = []
    try:
        P = srv.port
        for i in range(64):
            c = Conn(P)
            conns.append(c)
            c.send(req_bytes(P, "GET", "/health"))
            st, _, _ = c.response(5)
            eq(st, 200, f"GET /health on keep-alive connection {i + 1} of 64")
        time.sleep(0.2)
        t0 = time.monotonic()
        st, _, b = request(P, "GET", "/health", timeout=3)
        ms = (time.monotonic() - t0) * 1000
        eq(st, 200, f"a new client's GET /health while 64 idle keep-alive connections are open (body {show(b)})")
        truthy(ms < 1000, f"answered after {ms:.0f} ms")
    finally:
        for c in conns:
            c.close()
        srv.stop()


def c4_trickle():
    P = SH.port()
    with Conn(P) as c:
        t0 = time.monotonic()
        c.send(f"POST /mcp HTTP/1.1\r\nHost: 127.0.0.1:{P}\r\nX-Slow: ")
        while time.monotonic() - t0 < 14 and not c.closed:
            if not c.quiet_for(0.5):  # the server answered (or closed)
                break
            if not c.try_send(b"a"):
                break
        if b"\r\n\r\n" not in c.buf and not c.closed:
            raise Fail(f"no answer after {time.monotonic() - t0:.1f} s of trickling (want 408 after 10 s)")
        st, h, b = c.response(1)
        s = time.monotonic() - t0
        eq(st, 408, f"status after {s:.1f} s (body {show(b)})")
        eq(json_body(b, "408"), EXACT_408, "body")
        truthy(8.0 <= s <= 12.0, f"408 after {s:.1f} s of trickling (want the 10 s head deadline: 8 to 12 s)")
        truthy(c.wait_closed(2), "the connection stays open after the 408")


def c4_per_client():
    srv = Server(HELLO)
    hogs = []
    stop = threading.Event()
    try:
        P = srv.port
        for i in range(64):
            try:
                c = Conn(P, source="127.0.0.2", timeout=2)
            except OSError:
                continue
            hogs.append(c)
            c.try_send(f"GET /health HTTP/1.1\r\nHost: 127.0.0.1:{P}\r\nX-Slow: ")

        def trickle():  # a byte a second on every hog that is still open
            while not stop.wait(1.0):
                for c in hogs:
                    c.try_send(b"a")

        threading.Thread(target=trickle, daemon=True).start()
        time.sleep(0.3)
        for src in ("127.0.0.1", "127.0.0.3"):
            t0 = time.monotonic()
            st, _, b = request(P, "GET", "/health", timeout=3, source=src)
            ms = (time.monotonic() - t0) * 1000
            eq(st, 200, f"GET /health from {src} while 127.0.0.2 trickles heads on 64 connections (body {show(b)})")
            truthy(ms < 1000, f"answered after {ms:.0f} ms")
    finally:
        stop.set()
        for c in hogs:
            c.close()
        srv.stop()


# ============================================================================================
# 5. one client's initialize requests do not evict another client's session

def c5(kind):
    env = {"MCP_API_KEYS": "k1,k2"} if kind == "keys" else {}
    a_cred = {"Authorization": "Bearer k1"} if kind == "keys" else {}
    b_cred = {"Authorization": "Bearer k2"} if kind == "keys" else {}
    b_src = "127.0.0.2" if kind == "ip" else None
    srv = Server(HELLO, env)
    try:
        P = srv.port
        sid_a = initialize(P, extra=a_cred)
        body = json.dumps(init_msg()).encode()
        last = None
        with Conn(P, source=b_src, timeout=10) as c:
            for i in range(1030):
                c.send(req_bytes(P, "POST", "/mcp", mcp_headers(extra=b_cred), body))
                st, h, b = c.response(10)
                eq(st, 200, f"initialize {i + 1} of client B (body {show(b)})")
                last = (h.get("mcp-session-id") or [None])[0]
        st, _, b, r = rpc(P, sid_a, {"jsonrpc": "2.0", "id": 9, "method": "tools/list"}, extra=a_cred)
        eq(st, 200, f"client A's tools/list on its first session after 1,030 initialize requests of client B (body {show(b)})")
        names = [t.get("name") for t in (r or {}).get("result", {}).get("tools", [])]
        eq(sorted(names), ["add", "greet"], "tools")
        st, _, b, r = rpc(P, last, {"jsonrpc": "2.0", "id": 10, "method": "tools/list"}, extra=b_cred, source=b_src)
        eq(st, 200, f"client B's latest session (body {show(b)})")
    finally:
        srv.stop()


# ============================================================================================
# 6. S3 bucket names cannot point requests at other hosts

FAKE_AWS = {"AWS_ACCESS_KEY_ID": "AKIDHOSTILETEST00000", "AWS_SECRET_ACCESS_KEY": "hostile/secret/key/000000000000000000000",
            "AWS_REGION": "us-east-1"}


def tool_result(out, what):
    try:
        r = json.loads(out)
    except ValueError:
        raise Fail(f"{what}: the output is not JSON: {show(out)}")
    if not isinstance(r, dict):
        raise Fail(f"{what}: the output is not a result object: {show(out)}")
    return r


def result_text(r):
    c = r.get("content") or [{}]
    return c[0].get("text") if isinstance(c[0], dict) else None


def c6_refused(tool, args_fn, endpoint=False):
    def handler(sock):  # an S3-compatible answer: an empty listing
        data = b""
        while b"\r\n\r\n" not in data:
            d = sock.recv(65536)
            if not d:
                return
            data += d
        body = b'<?xml version="1.0" encoding="UTF-8"?><ListBucketResult><KeyCount>0</KeyCount>' \
               b"<IsTruncated>false</IsTruncated></ListBucketResult>"
        sock.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/xml\r\nContent-Length: %d\r\n\r\n" % len(body) + body)

    with Listener("close" if not endpoint else handler) as L:
        env = dict(FAKE_AWS)
        if endpoint:
            env["AWS_ENDPOINT_URL_S3"] = f"http://127.0.0.1:{L.port}"
        args, bucket = args_fn(L.port)
        rc, out, err, _ = run_tool(DATATOOLS, tool, args, env, timeout=10)
        time.sleep(0.1)
        r = tool_result(out, f"{tool} {json.dumps(args)}")
        text = result_text(r) or ""
        eq(L.count, 0, f"connections that reached 127.0.0.1:{L.port} (tool answered {show(text)})")
        eq(r.get("isError"), True, f"isError (text {show(text)})")
        truthy("invalid bucket name" in text and bucket in text,
               f"the text names the bucket as invalid: got {show(text)}, want it to contain {show(bucket)} and 'invalid bucket name'")


def c6_guard():
    got = []

    def handler(sock):
        data = b""
        while b"\r\n\r\n" not in data:
            d = sock.recv(65536)
            if not d:
                return
            data += d
        got.append(data.split(b"\r\n")[0].decode("latin1"))
        body = b'<?xml version="1.0" encoding="UTF-8"?><ListBucketResult><KeyCount>0</KeyCount>' \
               b"<IsTruncated>false</IsTruncated></ListBucketResult>"
        sock.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/xml\r\nContent-Length: %d\r\n\r\n" % len(body) + body)

    with Listener(handler) as L:
        env = dict(FAKE_AWS, AWS_ENDPOINT_URL_S3=f"http://127.0.0.1:{L.port}")
        rc, out, err, _ = run_tool(DATATOOLS, "list_objects", {"bucket": "valid-bucket.example-1"}, env, timeout=10)
        r = tool_result(out, "list_objects")
        eq(r.get("isError"), None, f"isError (text {show(result_text(r))})")
        eq(r.get("structuredContent"), {"bucket": "valid-bucket.example-1", "prefix": "", "count": 0, "objects": []},
           "structuredContent")
        eq(len(got), 1, "requests that reached the S3 endpoint")
        starts(got[0], "GET /valid-bucket.example-1/?list-type=2", "request line")


# ============================================================================================
# 7. idle keep-alive connections give back their receive buffers

def c7():
    srv = Server(HELLO)
    conns = []
    try:
        P = srv.port
        eq(request(P, "GET", "/health")[0], 200, "GET /health")
        base = srv.rss_kb()
        body = b'{"a":1,"b":2}' + b" " * (7 * 1000 * 1000)
        for i in range(20):
            c = Conn(P, timeout=10)
            conns.append(c)
            c.send(req_bytes(P, "POST", "/tools/add", {"Content-Type": "application/json"}, body))
            st, _, b = c.response(10)
            eq(st, 200, f"POST /tools/add with a 7 MB body on connection {i + 1} (body {show(b)})")
            eq(json_body(b, "add"), {"content": [{"type": "text", "text": "3"}]}, "result")
        time.sleep(0.5)
        rss = srv.rss_kb()
        note(f"RSS {base} kB before, {rss} kB with 20 idle connections that each sent 7 MB")
        truthy(rss - base < 100 * MB, f"RSS grew by {(rss - base) // MB} MB with 20 idle keep-alive connections "
                                      f"(limit 100 MB)")
    finally:
        for c in conns:
            c.close()
        srv.stop()


# ============================================================================================
# 8. describe_csv does not amplify a hostile CSV past Lambda's 6 MB

def c8(root):
    ctrl = bytes(b for b in range(1, 32) if b not in (9, 10, 13))  # no TAB, LF, CR: JSON \u00XX each
    field = (ctrl * (1000000 // len(ctrl) + 1))[:1000000 - 1]  # just under the 1 MB field limit
    path = os.path.join(root, "hostile.csv")
    with open(path, "wb") as f:
        for _ in range(4):  # the header and 3 rows, 2 columns
            f.write(field + b"," + field + b"\n")
    size = os.path.getsize(path)
    srv = Server(DATATOOLS, {"DATA_ROOT": root})
    try:
        P = srv.port
        sid = initialize(P)
        base = srv.hwm_kb()
        with Conn(P, timeout=25) as c:
            c.send(req_bytes(P, "POST", "/mcp", mcp_headers(sid, "2025-11-25"),
                             json.dumps(tool_call("describe_csv", {"source": "hostile.csv"})).encode()))
            st, h, _ = c.response(25, head_only=True)
            peak = srv.hwm_kb()
            n = int((h.get("content-length") or ["-1"])[0])
            note(f"describe_csv of a {size / 1e6:.1f} MB CSV of control characters: a {n}-byte answer, "
                 f"peak RSS {base} kB -> {peak} kB")
            eq(st, 200, "status")
            truthy(0 <= n < 6 * 1024 * 1024, f"the answer is {n} bytes (limit 6 MB = {6 * 1024 * 1024})")
            c.buf = b"HTTP/1.1 200 OK\r\n" + "".join(f"{k}: {v}\r\n" for k, vs in h.items() for v in vs).encode() \
                + b"\r\n" + c.buf  # read it again, whole
            st, h, b = c.response(25)
        r = rpc_final(h, b)
        truthy(r and isinstance((r.get("result") or {}).get("content"), list), f"no result content: {show(b)}")
        truthy(len(b) < 6 * 1024 * 1024, f"the answer is {len(b)} bytes (limit 6 MB = {6 * 1024 * 1024})")
        limit = 128 * MB
        truthy(peak - base < limit, f"peak RSS grew by {(peak - base) // MB} MB (limit {limit // MB} MB)")
    finally:
        srv.stop()


# ============================================================================================
# 9. HEAD /health sends no body

def c9():
    P = SH.port()
    with Conn(P) as c:
        c.send(req_bytes(P, "HEAD", "/health"))
        st, h, _ = c.response(3, head_only=True)
        eq(st, 200, "HEAD /health status")
        truthy(c.quiet_for(0.3), "")
        eq(c.buf, b"", "bytes after the HEAD response's head")
        c.send(req_bytes(P, "GET", "/health"))
        st, h, b = c.response(3)
        eq(st, 200, "GET /health after HEAD on the same connection: status")
        eq(json_body(b, "GET /health").get("status"), "ok", "GET /health after HEAD: status member")


# ============================================================================================
# 11. JWT policy

SECRET = "hostile-hs256-secret-0123456789abcdef"


def auth_srv(extra=None):
    return Server(AUTHSERVER, dict({"MCP_JWT_HS256_SECRET": SECRET}, **(extra or {})))


def init_with(P, token):
    return request(P, "POST", "/mcp", mcp_headers(extra={"Authorization": f"Bearer {token}"}),
                   json.dumps(init_msg()).encode())


def c11_exp(srv):
    st, _, b = init_with(srv.port, jwt_hs256(SECRET, {"sub": "alice"}))
    eq(st, 401, f"initialize with an HS256 token without exp: status (body {show(b)})")
    e = error_body(b)
    starts(e, "Unauthorized: ", "error")
    truthy("exp" in e, f"the error does not name exp: {show(e)}")


def c11_exp_off():
    with auth_srv({"MCP_JWT_REQUIRE_EXP": "0"}) as srv:
        st, _, b = init_with(srv.port, jwt_hs256(SECRET, {"sub": "alice"}))
        eq(st, 200, f"MCP_JWT_REQUIRE_EXP=0: a token without exp: status (body {show(b)})")


def c11_star(srv):
    tok = jwt_hs256(SECRET, {"sub": "mallory", "exp": int(time.time()) + 600, "scope": "*"})
    st, h, b = request(srv.port, "POST", "/tools/admin", {"Content-Type": "application/json", "Authorization": f"Bearer {tok}"},
                       b"{}")
    eq(st, 403, f"POST /tools/admin with \"scope\":\"*\": status (body {show(b)})")
    eq(json_body(b, "403").get("code"), -32003, "error code")
    truthy('error="insufficient_scope"' in ",".join(h.get("www-authenticate", [])),
           f"WWW-Authenticate {show(h.get('www-authenticate'))}")


def c11_scope_ok(srv):
    tok = jwt_hs256(SECRET, {"sub": "alice", "exp": int(time.time()) + 600, "scope": "files:read admin"})
    st, _, b = request(srv.port, "POST", "/tools/admin", {"Content-Type": "application/json", "Authorization": f"Bearer {tok}"},
                       b"{}")
    eq(st, 200, f"POST /tools/admin with scope admin: status (body {show(b)})")
    eq(json_body(b, "admin"), {"content": [{"type": "text", "text": "admin ok alice"}]}, "result")


def c11_pad(srv):
    tok = jwt_hs256(SECRET, {"sub": "alice", "exp": int(time.time()) + 600})
    eq(init_with(srv.port, tok)[0], 200, "the same token without padding")
    sig = tok.rsplit(".", 1)[1]
    eq(len(sig), 43, "signature length")
    st, _, b = init_with(srv.port, tok + "=")
    eq(st, 401, f"the signature with a trailing '=': status (body {show(b)})")
    starts(error_body(b), "Unauthorized: ", "error")


# ============================================================================================
# 12. a session belongs to the principal that created it

def c12(srv):
    P = srv.port
    k1 = {"Authorization": "Bearer k1"}
    k2 = {"Authorization": "Bearer k2"}
    sid = initialize(P, extra=k1)
    st, _, b, r = rpc(P, sid, {"jsonrpc": "2.0", "id": 3, "method": "tools/list"}, extra=k2)
    eq(st, 404, f"key 2 uses key 1's session: status (body {show(b)})")
    eq((r or {}).get("error", {}).get("message"), "Session not found", "error message")
    st, _, b = request(P, "DELETE", "/mcp", mcp_headers(sid, "2025-11-25", k2))
    eq(st, 404, f"key 2 deletes key 1's session: status (body {show(b)})")
    eq(json_body(b, "DELETE"), {"error": "Session not found"}, "DELETE body")
    st, _, b, r = rpc(P, sid, {"jsonrpc": "2.0", "id": 4, "method": "tools/list"}, extra=k1)
    eq(st, 200, f"key 1's session after key 2's DELETE: status (body {show(b)})")
    st, _, b = request(P, "DELETE", "/mcp", mcp_headers(sid, "2025-11-25", k1))
    eq(st, 200, f"key 1 deletes its own session: status (body {show(b)})")


# ============================================================================================
# 13. a hanging JWKS fetch does not hold up other requests

def c13():
    with Listener("hang") as L:
        srv = Server(HELLO, {"MCP_API_KEYS": "k1", "MCP_JWT_HS256_SECRET": SECRET,
                             "MCP_JWT_JWKS_URL": f"http://127.0.0.1:{L.port}/jwks.json"})
        try:
            P = srv.port
            rs_tok = jwt_hs256("x", {"sub": "r", "exp": int(time.time()) + 600}, {"alg": "RS256", "kid": "k"})
            hang = Conn(P, timeout=10)
            hang.send(req_bytes(P, "POST", "/mcp", mcp_headers(extra={"Authorization": f"Bearer {rs_tok}"}),
                                json.dumps(init_msg()).encode()))
            end = time.monotonic() + 3
            while L.count == 0 and time.monotonic() < end:
                time.sleep(0.02)
            eq(L.count, 1, "JWKS fetches started by an RS256 token")
            time.sleep(0.2)
            hs = jwt_hs256(SECRET, {"sub": "h", "exp": int(time.time()) + 600})
            cases = [("an API key", {"Authorization": "Bearer k1"}, 200),
                     ("an HS256 token", {"Authorization": f"Bearer {hs}"}, 200),
                     ("no credentials", {}, 401),
                     ("a wrong API key", {"Authorization": "Bearer nope"}, 401)]
            res = {}

            def one(name, cred, want):
                t0 = time.monotonic()
                try:
                    st, _, b = request(P, "POST", "/mcp", mcp_headers(extra=cred), json.dumps(init_msg()).encode(), timeout=8)
                    res[name] = (st, (time.monotonic() - t0) * 1000, b)
                except Exception as e:  # noqa: BLE001
                    res[name] = (None, (time.monotonic() - t0) * 1000, str(e))

            ts = [threading.Thread(target=one, args=c) for c in cases]
            for t in ts:
                t.start()
            for t in ts:
                t.join(9)
            hang.close()
            bad = []
            for name, _, want in cases:
                st, ms, b = res.get(name, (None, 0, "no answer"))
                if st != want or ms > 500:
                    bad.append(f"{name}: {st} after {ms:.0f} ms (want {want} within 500 ms)")
            truthy(not bad, "; ".join(bad))
        finally:
            srv.stop()


# ============================================================================================
# 14. MCP-Protocol-Version cannot change a session's era. The official conformance suite
# (0.1.16, server-sse-multiple-streams) sends another supported version on a session and
# expects it served, so a different supported version is not refused: the request is served
# in the session's era, and a batch on a 2025-11-25 session stays refused whatever the header.

def c14():
    P = SH.port()
    sid = initialize(P)  # 2025-11-25
    st, _, b = request(P, "POST", "/mcp", mcp_headers(sid, "2025-03-26"),
                       json.dumps([{"jsonrpc": "2.0", "id": 5, "method": "tools/list"}]).encode())
    eq(st, 400, f"a batch on a 2025-11-25 session with MCP-Protocol-Version: 2025-03-26: status (body {show(b)})")
    j = json_body(b, "batch")
    truthy(isinstance(j, dict), f"the answer is not one JSON-RPC error object: {show(b)}")
    eq(j.get("error", {}).get("code"), -32600, "error code")
    eq(j.get("error", {}).get("message"), "Invalid Request: batches are only accepted in protocol version 2025-03-26", "error message")
    st, _, b, r = rpc(P, sid, {"jsonrpc": "2.0", "id": 6, "method": "tools/list"}, pv="2025-06-18")
    eq(st, 200, f"tools/list on a 2025-11-25 session with MCP-Protocol-Version: 2025-06-18: status (body {show(b)})")
    st, _, b, r = rpc(P, sid, {"jsonrpc": "2.0", "id": 7, "method": "tools/list"}, pv="2099-01-01")
    eq(st, 400, f"an unsupported version: status (body {show(b)})")
    st, _, b, r = rpc(P, sid, {"jsonrpc": "2.0", "id": 8, "method": "tools/list"}, pv="2025-11-25")
    eq(st, 200, f"the matching version: status (body {show(b)})")


# ============================================================================================
# 15. HTTP parsing

def c15_refused(raw, what, timeout=3.0, body=None):
    """Refused with 400 and closed; body is the exact error body (the generic framing one by default)."""
    P = SH.port()
    with Conn(P) as c:
        c.send(raw(P) if callable(raw) else raw)
        expect_refusal(c, 400, body or EXACT_400, what, timeout)


def init_raw(P, lines, body=None, chunked=None):
    body = body if body is not None else json.dumps(init_msg()).encode()
    head = "".join(l + "\r\n" for l in lines)
    if chunked is None:
        head += f"Content-Length: {len(body)}\r\n"
        return (head + "\r\n").encode() + body
    return (head + "\r\n").encode() + chunked


def mcp_lines(P, first="POST /mcp HTTP/1.1", host=True):
    return [first] + ([f"Host: 127.0.0.1:{P}"] if host else []) + ["Content-Type: application/json", f"Accept: {ACCEPT}"]


def c15_http10():
    P = SH.port()
    with Conn(P) as c:
        c.send(b"GET /health HTTP/1.0\r\n\r\n")
        st, _, b = c.response(3)
        eq(st, 200, f"GET /health HTTP/1.0 without Host (body {show(b)})")


def c15_absolute():
    P = SH.port()
    with Conn(P) as c:
        c.send(init_raw(P, mcp_lines(P, f"POST http://127.0.0.1:{P}/mcp HTTP/1.1")))
        st, h, b = c.response(3)
        eq(st, 200, f"POST http://127.0.0.1:{P}/mcp HTTP/1.1: status (body {show(b)})")
        eq(json_body(b, "initialize").get("result", {}).get("protocolVersion"), "2025-11-25", "protocolVersion")
        truthy(h.get("mcp-session-id"), "no Mcp-Session-Id")


def c15_bare_lf():
    P = SH.port()
    with Conn(P) as c:
        t0 = time.monotonic()
        c.send(f"GET /health HTTP/1.1\nHost: 127.0.0.1:{P}\n\n")
        expect_refusal(c, 400, EXACT_400, "a request whose lines end in LF only", timeout=2.0)
        s = time.monotonic() - t0
        truthy(s < 2.0, f"answered after {s:.1f} s")


def c15_ctype(ct, want):
    P = SH.port()
    st, _, b = request(P, "POST", "/mcp", {"Content-Type": ct, "Accept": ACCEPT}, json.dumps(init_msg()).encode())
    eq(st, want, f"Content-Type: {ct}: status (body {show(b)})")
    if want == 415:
        eq(json_body(b, "415"), EXACT_415, "body")
    else:
        eq(json_body(b, "initialize").get("result", {}).get("protocolVersion"), "2025-11-25", "protocolVersion")


# ============================================================================================
# 16. a FIFO under DATA_ROOT

def c16(root):
    os.mkfifo(os.path.join(root, "pipe.csv"))
    t0 = time.monotonic()
    rc, out, err, _ = run_tool(DATATOOLS, "describe_csv", {"source": "pipe.csv"}, {"DATA_ROOT": root}, timeout=2.0 * SLOW)
    s = time.monotonic() - t0
    r = tool_result(out, "describe_csv")
    eq(r.get("isError"), True, "isError")
    eq(result_text(r), "pipe.csv: not a regular file", "text")
    truthy(s < 2.0 * SLOW, f"answered after {s:.1f} s")


# ============================================================================================
# also: NUL in strings, huge numbers, DATA_ROOT in messages, /health without auth

def invalid_args(era, st, b, r, want):
    """The answer to a call with invalid arguments: an isError result from 2025-11-25 on, a
    -32602 error before; want is the exact message."""
    eq(st, 200, f"status (body {show(b)})")
    if era >= "2025-11-25":
        res = (r or {}).get("result", {})
        eq(res.get("isError"), True, f"isError (answer {show(b)})")
        eq(result_text(res), want, "text")
    else:
        eq((r or {}).get("error", {}).get("code"), -32602, f"error code (answer {show(b)})")
        eq(r["error"].get("message"), want, "message")


def x_arg(tool, args, era, want):
    P = SH.port()
    sid = initialize(P, era)
    st, _, b, r = rpc(P, sid, tool_call(tool, args), pv=era)
    invalid_args(era, st, b, r, want)


def x_num_raw(era):
    """1e999999 written as is (json.dumps cannot write it)."""
    P = SH.port()
    sid = initialize(P, era)
    raw = b'{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"add","arguments":{"a":1e999999,"b":1}}}'
    st, h, b = request(P, "POST", "/mcp", mcp_headers(sid, era), raw)
    invalid_args(era, st, b, rpc_final(h, b), "Invalid arguments for tool add: a: number out of range")


def x_root(root, source, want):
    real = os.path.realpath(root)
    rc, out, err, _ = run_tool(DATATOOLS, "describe_csv", {"source": source}, {"DATA_ROOT": root}, timeout=5 * SLOW)
    text = result_text(tool_result(out, "describe_csv")) or ""
    truthy(real not in text and root not in text, f"the message reveals DATA_ROOT ({real}): {show(text)}")
    eq(text, want, "text")


def x_health():
    with Server(HELLO, {"MCP_API_KEYS": "k1"}) as srv:
        st, _, b = request(srv.port, "GET", "/health")
        eq(st, 200, "status")
        eq(b, b'{"status":"ok"}', "body")


# ============================================================================================

def main():
    note(f"build {BUILD}{' (sanitized)' if lib.SANITIZED else ''}; auth server {AUTHSERVER}")
    tmp = tempfile.mkdtemp(prefix="mcp-hostile-")
    try:
        # 15. HTTP parsing
        check("15. serve: HTTP/1.1 POST /mcp without Host -> 400 naming the Host header, closed",
              lambda: c15_refused(lambda P: init_raw(P, mcp_lines(P, host=False)), "no Host",
                                  body={"error": "Bad Request: an HTTP/1.1 request needs a Host header"}))
        check("15. serve: GET /health HTTP/1.0 without Host -> 200 (Host is optional in HTTP/1.0)", c15_http10)
        check("15. serve: two Host headers -> 400, closed",
              lambda: c15_refused(lambda P: init_raw(P, mcp_lines(P) + [f"Host: 127.0.0.1:{P}"]), "two Host headers",
                                  body={"error": "Bad Request: more than one Host header"}))
        check("15. serve: two Origin headers -> 400, closed",
              lambda: c15_refused(lambda P: init_raw(P, mcp_lines(P) + ["Origin: http://localhost", "Origin: http://localhost"]),
                                  "two Origin headers", body={"error": "Bad Request: more than one Origin header"}))
        check("15. serve: absolute-form target POST http://127.0.0.1:PORT/mcp -> 200, served as /mcp", c15_absolute)
        check("15. serve: chunk size 0x5 -> 400, closed",
              lambda: c15_refused(lambda P: init_raw(P, mcp_lines(P) + ["Transfer-Encoding: chunked"], chunked=b"0x5\r\nhello\r\n0\r\n\r\n"),
                                  "chunk size 0x5"))
        check("15. serve: Transfer-Encoding: chunked twice -> 400, closed",
              lambda: c15_refused(lambda P: init_raw(P, mcp_lines(P) + ["Transfer-Encoding: chunked", "Transfer-Encoding: chunked"],
                                                     chunked=b"2\r\n{}\r\n0\r\n\r\n"), "Transfer-Encoding twice"))
        check("15. serve: a request whose lines end in bare LF -> 400 within 2 s, closed", c15_bare_lf, 6)
        check("15. serve: Content-Type: application/jsonx -> 415", lambda: c15_ctype("application/jsonx", 415))
        check("15. serve: Content-Type: text/plain; x=application/json -> 415",
              lambda: c15_ctype("text/plain; x=application/json", 415))
        check("15. serve: Content-Type: application/json; charset=utf-8 -> 200",
              lambda: c15_ctype("application/json; charset=utf-8", 200))
        check("15. serve: Content-Type: Application/JSON -> 200 (media types are case-insensitive)",
              lambda: c15_ctype("Application/JSON", 200))

        # 1. chunk extensions and trailers
        check("1. serve: 240 KB of trailer lines after the last chunk -> 431 {\"error\":\"431 Request Header Fields Too Large\"}, closed",
              lambda: c1_status("trailer", 431, EXACT_431), 8)
        check("1. serve: a chunk-size line with 240 KB of extension bytes -> 400 {\"error\":\"400 Bad Request\"}, closed",
              lambda: c1_status("extension", 400, EXACT_400), 8)
        check("1. serve: up to 96 MB of trailer lines in one request: RSS grows by less than 64 MB",
              lambda: c1_rss("trailer"), 15)
        check("1. serve: up to 96 MB of chunk-extension bytes in one request: RSS grows by less than 64 MB",
              lambda: c1_rss("extension"), 15)
        check("1. serve: a chunked body with a chunk extension and a short trailer is still served (200)", c1_guard)

        # 9. HEAD
        check("9. serve: HEAD /health -> 200 with no body; the next request on the connection gets a well-formed 200", c9)

        # 14. era
        check("14. serve: MCP-Protocol-Version cannot change a session's era (a batch on a 2025-11-25 session stays refused)", c14)

        # also: arguments
        check("also: a string argument containing U+0000 -> invalid arguments (isError result, 2025-11-25)",
              lambda: x_arg("greet", {"name": "a\u0000b"}, "2025-11-25", "Invalid arguments for tool greet: name: string contains a NUL character"))
        check("also: a string argument containing U+0000 -> -32602 (2025-06-18)",
              lambda: x_arg("greet", {"name": "a\u0000b"}, "2025-06-18", "Invalid arguments for tool greet: name: string contains a NUL character"))
        check("also: a number argument 1e999999 -> invalid arguments (isError result, 2025-11-25)",
              lambda: x_num_raw("2025-11-25"))
        check("also: a number argument 1e999999 -> -32602 (2025-06-18)", lambda: x_num_raw("2025-06-18"))
        check("also: /health without credentials when MCP_API_KEYS is set -> exactly {\"status\":\"ok\"}", x_health)

        # 12. sessions and principals
        srv = Server(HELLO, {"MCP_API_KEYS": "k1,k2"})
        try:
            check("12. serve: a session created with key 1 -> 404 Session not found for key 2 (use and DELETE); key 1 keeps it",
                  lambda: c12(srv))
        finally:
            srv.stop()

        # 11. JWT policy
        srv = auth_srv()
        try:
            check("11. JWT: an HS256 token without exp -> 401 (exp is required by default)", lambda: c11_exp(srv))
            check("11. JWT: \"scope\":\"*\" does not grant a tool's scope -> 403 insufficient_scope",
                  lambda: c11_star(srv))
            check("11. JWT: a token with scope admin calls the admin tool (200)", lambda: c11_scope_ok(srv))
            check("11. JWT: a signature with a trailing '=' -> 401 (base64url without padding only)",
                  lambda: c11_pad(srv))
        finally:
            srv.stop()
        check("11. JWT: MCP_JWT_REQUIRE_EXP=0 accepts a token without exp (200)", c11_exp_off)

        # 13. JWKS
        check("13. JWT: while a JWKS fetch hangs, API-key, HS256, missing and wrong credentials are answered within 500 ms",
              c13, 12)

        # 5. sessions
        check("5. serve: a session survives 1,030 initialize requests from another client address", lambda: c5("ip"), 40)
        check("5. serve: a session survives 1,030 initialize requests from another API key", lambda: c5("keys"), 40)

        # 4. connections
        check("4. serve: with 64 idle keep-alive connections open, a new client's request -> 200", c4_idle, 20)
        check("4. serve: 64 connections trickling heads from 127.0.0.2 do not lock out 127.0.0.1 and 127.0.0.3 (200)",
              c4_per_client, 20)
        check("4. serve: a head trickled a byte every 500 ms -> 408 {\"error\":\"408 Request Timeout\"} 8 to 12 s "
              "after its first byte (10 s head deadline)", c4_trickle, 20)

        # 7. idle buffers
        check("7. serve: 20 idle keep-alive connections that each sent a 7 MB body: RSS grows by less than 100 MB", c7, 60)

        # 3. elicitation answers
        import elicit  # noqa: E402 - a module of its own: it pins threads to one CPU
        check("3. serve: 300 elicitation round trips with an immediate answer on another connection: none lost",
              lambda: elicit.run(CONFORMANCE), 30)

        # datatools: 6, 8, 16, DATA_ROOT
        check("6. datatools: list_objects bucket \"localhost:PORT?\" -> tool error naming the invalid bucket; no connection",
              lambda: c6_refused("list_objects", lambda p: ({"bucket": f"localhost:{p}?"}, f"localhost:{p}?")), 15)
        check("6. datatools: list_objects bucket \"localhost:PORT#\" -> tool error; no connection",
              lambda: c6_refused("list_objects", lambda p: ({"bucket": f"localhost:{p}#"}, f"localhost:{p}#")), 15)
        check("6. datatools: list_objects bucket \"user@localhost:PORT/\" -> tool error; no connection",
              lambda: c6_refused("list_objects", lambda p: ({"bucket": f"user@localhost:{p}/"}, f"user@localhost:{p}/")), 15)
        check("6. datatools: describe_csv s3://localhost:PORT?/data.csv -> tool error; no connection",
              lambda: c6_refused("describe_csv", lambda p: ({"source": f"s3://localhost:{p}?/data.csv"}, f"localhost:{p}?")), 15)
        check("6. datatools: with AWS_ENDPOINT_URL_S3 set, bucket \"Bad_Bucket!\" -> tool error; no connection",
              lambda: c6_refused("list_objects", lambda p: ({"bucket": "Bad_Bucket!"}, "Bad_Bucket!"), endpoint=True), 15)
        check("6. datatools: a valid bucket name still reaches the S3 endpoint (AWS_ENDPOINT_URL_S3)", c6_guard, 15)
        root = os.path.join(tmp, "data")
        os.mkdir(root)
        check("16. datatools: describe_csv of a FIFO under DATA_ROOT -> \"pipe.csv: not a regular file\" within 2 s",
              lambda: c16(root), 10)
        os.symlink("/etc/hostname", os.path.join(root, "link.csv"))
        check("also: datatools: an absolute path outside DATA_ROOT -> an error that does not reveal DATA_ROOT",
              lambda: x_root(root, "/etc/hostname", "/etc/hostname: access denied: the path is outside DATA_ROOT"))
        check("also: datatools: a link out of DATA_ROOT -> an error that does not reveal DATA_ROOT",
              lambda: x_root(root, "link.csv", "link.csv: access denied: the path is outside DATA_ROOT"))
        check("8. datatools: describe_csv of an 8 MB CSV of control characters -> result under 6 MB, peak RSS bounded",
              lambda: c8(root), 40)

        if SH.srv:
            srv = SH.srv
            check("the shared server survived every check without a sanitizer report",
                  lambda: (truthy(srv.alive(), f"it died: {show(srv.stderr()[-600:], 600)}"),
                           truthy(not srv.sanitizer_report(), f"sanitizer report: {srv.sanitizer_report()}")))
        if SH.srv:
            SH.srv.stop()
        check("no sanitizer report in the stderr of any server stopped by these checks",
              lambda: truthy(not lib.SANITIZER_REPORTS, "; ".join(lib.SANITIZER_REPORTS)))
    finally:
        if SH.srv:
            SH.srv.stop()
        lib.cleanup()
        shutil.rmtree(tmp, ignore_errors=True)
    note(f"{time.monotonic() - T0:.0f} s")
    print(f"# {lib.PASSED} passed, {lib.FAILED} failed", flush=True)
    sys.exit(1 if lib.FAILED else 0)


if __name__ == "__main__":
    main()
