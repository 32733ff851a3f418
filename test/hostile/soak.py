#!/usr/bin/env python3
"""soak.py: a soak of mixed hostile and normal traffic against one `serve` (issue 14).

    python3 test/hostile/soak.py BUILD_DIR          SOAK_SECONDS (default 20) bounds the traffic

One conformance server (BUILD_DIR/conformance serve --listen 127.0.0.1:0) gets, from threads
at once, for SOAK_SECONDS:

  normal    2025-11-25 sessions on keep-alive connections (initialize, notifications/initialized,
            tools/list, tools/call test_simple_text, DELETE), from 127.0.0.4;
            2026-07-28 stateless tools/call and tools/list on keep-alive connections, from 127.0.0.5;
            elicitation round trips (tools/call test_elicitation on one connection, the answer
            POSTed on a second one as soon as elicitation/create arrives), from 127.0.0.1
  hostile   heads trickled a byte every 200 ms that never end, from 127.0.0.2 (408);
            chunked bodies whose trailer section passes 16 KB (431);
            7 MB bodies to POST /tools/test_simple_text and POST /mcp (200, the right answer);
            a Content-Length of 9 MB (413); malformed JSON to /mcp (400, -32700) and to /tools/
            (400); bare-LF heads and two Host headers (400); 8 keep-alive connections from
            127.0.0.6 that sit idle for up to 10 s between requests (200)

Before the soak, one round of every kind warms the server up; its VmRSS then is the base.
Checks: every normal request answered correctly (zero failures; the count is printed); every
hostile request got its expected status and body; VmRSS after the soak (all connections
closed) less than 64 MB above the base; VmHWM less than 128 MB above the base (at most two
7 MB bodies are in flight at once, each a receive buffer plus its parse); /health
still 200; no sanitizer report in the server's stderr. Sanitizer builds get longer client
time bounds and larger memory bounds (see RSS_LIMIT_MB below). Prints "ok - ..." /
"not ok - ..." lines and "# N passed, M failed"; exits 1 on any failure."""

import json
import os
import socket
import sys
import threading
import time

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import lib  # noqa: E402
from lib import Conn, Fail, Server, check, eq, mcp_headers, note, req_bytes, rpc_final, show, tool_call, truthy  # noqa: E402
from elicit import Stream  # noqa: E402

if len(sys.argv) < 2:
    print("usage: soak.py BUILD_DIR", file=sys.stderr)
    sys.exit(2)
BUILD = os.path.abspath(sys.argv[1])
CONFORMANCE = os.path.join(BUILD, "conformance")
SECONDS = float(os.environ.get("SOAK_SECONDS", "20"))


def has(path, *marks):
    try:
        with open(path, "rb") as f:
            data = f.read()
        return any(m in data for m in marks)
    except OSError:
        return False


TSAN = has(CONFORMANCE, b"__tsan_init")
ASAN = has(CONFORMANCE, b"__asan_init", b"__ubsan_handle")
lib.SANITIZED = TSAN or ASAN
SLOW = 6 if TSAN else 3 if ASAN else 1  # client-side time bounds only
MB = 1024
# VmRSS growth from the warm-up to the end, and VmHWM above the warm-up level, in MB. Release:
# after the soak no connection holds a body (idle connections give their buffers back,
# finding 7); what may stay is malloc's arenas' free space. At the peak, at most two 7 MB
# bodies are in flight (two senders; trickled heads and trailers stop at 16 KB), each read
# into a buffer and parsed. ASan adds redzones and an 8 MB quarantine (lib.base_env); TSan
# adds shadow memory for every byte touched (several times the application's own).
RSS_LIMIT_MB = 64 * (4 if TSAN else 2 if ASAN else 1)
HWM_LIMIT_MB = 128 * (4 if TSAN else 2 if ASAN else 1)
T = 5.0 * SLOW  # one request's time bound
SIMPLE = "This is a simple text response for testing."
WANT_ELICIT = 'User response: action=accept, content={"username":"u","email":"e@example.com"}'
PV26 = "2026-07-28"
EXACT_400 = {"error": "400 Bad Request"}
EXACT_408 = {"error": "408 Request Timeout"}
EXACT_431 = {"error": "431 Request Header Fields Too Large"}
EXACT_413 = {"error": "Content Too Large: the request body exceeds the limit"}
BIG = 7 * 1000 * 1000


# --------------------------------------------------------------------------------------------
# tallies

class Tally:
    def __init__(self):
        self.lock = threading.Lock()
        self.ok = {}
        self.bad = {}
        self.why = []

    def good(self, kind, n=1):
        with self.lock:
            self.ok[kind] = self.ok.get(kind, 0) + n

    def fail(self, kind, why):
        with self.lock:
            self.bad[kind] = self.bad.get(kind, 0) + 1
            if len(self.why) < 8:
                self.why.append(f"{kind}: {why}")

    def total(self):
        return sum(self.ok.values())

    def failures(self):
        return sum(self.bad.values())

    def text(self):
        return ", ".join(f"{k} {v}" for k, v in sorted(self.ok.items()))


NORMAL = Tally()
HOSTILE = Tally()
STOP = threading.Event()
END = [0.0]  # monotonic time the soak ends


def running():
    return not STOP.is_set() and time.monotonic() < END[0]


def json_of(body, what):
    try:
        return json.loads(body)
    except ValueError:
        raise Fail(f"{what}: the body is not JSON: {show(body)}")


def closed_after(c, what):
    truthy(c.wait_closed(3.0 * SLOW), f"{what}: the connection stays open")


# --------------------------------------------------------------------------------------------
# normal traffic

def post(c, P, headers, msg, what, raw=None):
    c.send(req_bytes(P, "POST", "/mcp", headers, raw if raw is not None else json.dumps(msg).encode()))
    st, h, b = c.response(T)
    return st, h, b


def session_round(P, src):
    """One keep-alive connection: a 2025-11-25 session, 10 tools/list + tools/call, DELETE."""
    with Conn(P, source=src, timeout=T) as c:
        st, h, b = post(c, P, mcp_headers(), lib.init_msg("2025-11-25"), "initialize")
        eq(st, 200, f"initialize: status (body {show(b)})")
        sid = (h.get("mcp-session-id") or [None])[0]
        truthy(sid, "initialize: no Mcp-Session-Id")
        eq((rpc_final(h, b) or {}).get("result", {}).get("protocolVersion"), "2025-11-25", "initialize: protocolVersion")
        NORMAL.good("session initialize")
        st, _, b = post(c, P, mcp_headers(sid, "2025-11-25"), {"jsonrpc": "2.0", "method": "notifications/initialized"},
                        "initialized")
        eq(st, 202, f"notifications/initialized: status (body {show(b)})")
        NORMAL.good("session notification")
        for i in range(10):
            if not running():
                break
            st, h, b = post(c, P, mcp_headers(sid, "2025-11-25"), {"jsonrpc": "2.0", "id": 10 + i, "method": "tools/list"},
                            "tools/list")
            eq(st, 200, f"tools/list: status (body {show(b)})")
            r = rpc_final(h, b) or {}
            names = [t.get("name") for t in (r.get("result") or {}).get("tools", [])]
            truthy("test_simple_text" in names and "test_elicitation" in names, f"tools/list: tools {show(names)}")
            eq(r.get("id"), 10 + i, "tools/list: id")
            NORMAL.good("session tools/list")
            st, h, b = post(c, P, mcp_headers(sid, "2025-11-25"), tool_call("test_simple_text", {}, id=100 + i),
                            "tools/call")
            eq(st, 200, f"tools/call: status (body {show(b)})")
            r = rpc_final(h, b) or {}
            eq(r.get("id"), 100 + i, "tools/call: id")
            eq((r.get("result") or {}).get("content"), [{"type": "text", "text": SIMPLE}], "tools/call: content")
            NORMAL.good("session tools/call")
        c.send(req_bytes(P, "DELETE", "/mcp", mcp_headers(sid, "2025-11-25")))
        st, _, b = c.response(T)
        eq(st, 200, f"DELETE /mcp: status (body {show(b)})")
        NORMAL.good("session DELETE")


def h26(method, name=None):
    h = {"Content-Type": "application/json", "Accept": lib.ACCEPT, "MCP-Protocol-Version": PV26, "Mcp-Method": method}
    if name:
        h["Mcp-Name"] = name
    return h


def meta26():
    return {"io.modelcontextprotocol/protocolVersion": PV26, "io.modelcontextprotocol/clientCapabilities": {}}


def call26(id, extra_ws=0):
    body = json.dumps({"jsonrpc": "2.0", "id": id, "method": "tools/call",
                       "params": {"name": "test_simple_text", "arguments": {}, "_meta": meta26()}}).encode()
    return body + b" " * extra_ws


def check26(st, b, id, what):
    eq(st, 200, f"{what}: status (body {show(b)})")
    r = json_of(b, what)
    eq(r.get("id"), id, f"{what}: id")
    eq((r.get("result") or {}).get("content"), [{"type": "text", "text": SIMPLE}], f"{what}: content")


def stateless_round(P, src):
    """One keep-alive connection: 20 stateless 2026-07-28 requests (tools/call, tools/list)."""
    with Conn(P, source=src, timeout=T) as c:
        for i in range(20):
            if not running():
                break
            if i % 4 == 3:
                st, h, b = post(c, P, h26("tools/list"), None, "tools/list", raw=json.dumps(
                    {"jsonrpc": "2.0", "id": i, "method": "tools/list", "params": {"_meta": meta26()}}).encode())
                eq(st, 200, f"2026 tools/list: status (body {show(b)})")
                names = [t.get("name") for t in (json_of(b, "2026 tools/list").get("result") or {}).get("tools", [])]
                truthy("test_simple_text" in names, f"2026 tools/list: tools {show(names)}")
                NORMAL.good("stateless tools/list")
            else:
                st, h, b = post(c, P, h26("tools/call", "test_simple_text"), None, "tools/call", raw=call26(i))
                check26(st, b, i, "2026 tools/call")
                NORMAL.good("stateless tools/call")


def elicit_worker(P):
    """Elicitation round trips on one 2025-11-25 session: the call on connection a, the answer
    on connection b."""
    with Conn(P, timeout=T) as c0:
        st, h, b = post(c0, P, mcp_headers(), lib.init_msg("2025-11-25", {"elicitation": {}}), "initialize")
        eq(st, 200, f"initialize: status (body {show(b)})")
        sid = h["mcp-session-id"][0]
        st, _, _ = post(c0, P, mcp_headers(sid, "2025-11-25"), {"jsonrpc": "2.0", "method": "notifications/initialized"}, "")
        eq(st, 202, "notifications/initialized: status")
        NORMAL.good("elicitation session", 2)
    a = Conn(P, timeout=T)
    b = Conn(P, timeout=T)
    try:
        i = 0
        while running() and i < 100000:
            i += 1
            a.send(req_bytes(P, "POST", "/mcp", mcp_headers(sid, "2025-11-25"),
                             json.dumps(tool_call("test_elicitation", {}, id=5000 + i))))
            s = Stream(a)
            s.head(T)
            ev = s.event(T)
            if not ev or ev.get("method") != "elicitation/create" or "id" not in ev:
                raise Fail(f"round {i}: the first event is not an elicitation/create request: {show(ev)}")
            b.send(req_bytes(P, "POST", "/mcp", mcp_headers(sid, "2025-11-25"), json.dumps(
                {"jsonrpc": "2.0", "id": ev["id"],
                 "result": {"action": "accept", "content": {"username": "u", "email": "e@example.com"}}})))
            st, _, body = b.response(T)
            eq(st, 202, f"round {i}: the answer's POST: status (body {show(body)})")
            NORMAL.good("elicitation answer")
            fin = s.event(T)
            if fin is None:
                raise Fail(f"round {i}: the answer was accepted (202) but the call got no result within {T:g} s")
            eq(fin.get("id"), 5000 + i, f"round {i}: final response id")
            eq((((fin.get("result") or {}).get("content") or [{}])[0]).get("text"), WANT_ELICIT, f"round {i}: result text")
            while not s.done:
                if s.event(T) is None and not s.done:
                    raise Fail(f"round {i}: the stream did not end after the result")
            NORMAL.good("elicitation tools/call")
    finally:
        a.close()
        b.close()


# --------------------------------------------------------------------------------------------
# hostile traffic

def trickle(P):
    """A head that never ends, a byte every 200 ms, from 127.0.0.2: 408 about 10 s after its
    first byte (MCP_HEAD_TIMEOUT), exactly {"error":"408 Request Timeout"}, closed. A trickle
    the soak's end cuts short is not counted."""
    with Conn(P, source="127.0.0.2", timeout=T) as c:
        c.send(f"GET /health HTTP/1.1\r\nHost: 127.0.0.1:{P}\r\nX-Pad: ".encode())
        t0 = time.monotonic()
        while time.monotonic() - t0 < 15 + 2 * SLOW:
            if not running():
                return
            if not c.try_send(b"a") or not c.quiet_for(0.2) or c.closed:
                break
        st, h, b = c.response(T)
        s = time.monotonic() - t0
        eq(st, 408, f"trickled head: status (body {show(b)})")
        eq(json_of(b, "408"), EXACT_408, "trickled head: body")
        truthy(8.0 <= s <= 12.0 + SLOW, f"trickled head: the 408 came {s:.1f} s after the first byte (want 8 to 12)")
        closed_after(c, "trickled head")
    HOSTILE.good("trickled head 408")


def trailer(P):
    with Conn(P, timeout=T) as c:
        c.send(req_bytes(P, "POST", "/mcp", {"Content-Type": "application/json", "Accept": lib.ACCEPT,
                                               "Transfer-Encoding": "chunked"}))
        c.try_send(b"2\r\n{}\r\n0\r\n" + b"X-Pad: " + b"a" * 20000 + b"\r\n" + b"X-More: " + b"b" * 4000)
        st, h, b = c.response(T)
        eq(st, 431, f"oversized trailers: status (body {show(b)})")
        eq(json_of(b, "431"), EXACT_431, "oversized trailers: body")
        closed_after(c, "oversized trailers")
    HOSTILE.good("oversized trailers 431")


def big_tools(P):
    with Conn(P, timeout=T * 2) as c:
        c.send(req_bytes(P, "POST", "/tools/test_simple_text", {"Content-Type": "application/json"}, b"{}" + b" " * BIG))
        st, h, b = c.response(T * 2)
        eq(st, 200, f"7 MB POST /tools/test_simple_text: status (body {show(b)})")
        eq(json_of(b, "7 MB /tools"), {"content": [{"type": "text", "text": SIMPLE}]}, "7 MB POST /tools: body")
    HOSTILE.good("7 MB body to /tools 200")


def big_mcp(P, i):
    with Conn(P, timeout=T * 2) as c:
        c.send(req_bytes(P, "POST", "/mcp", h26("tools/call", "test_simple_text"), call26(i, BIG)))
        st, h, b = c.response(T * 2)
        check26(st, b, i, "7 MB POST /mcp")
    HOSTILE.good("7 MB body to /mcp 200")


def too_big(P):
    with Conn(P, timeout=T) as c:
        head = req_bytes(P, "POST", "/mcp", h26("tools/call", "test_simple_text"))
        c.send(head.replace(b"\r\n\r\n", b"\r\nContent-Length: 9000000\r\n\r\n", 1) + b"{")
        st, h, b = c.response(T)
        eq(st, 413, f"Content-Length 9 MB: status (body {show(b)})")
        eq(json_of(b, "413"), EXACT_413, "Content-Length 9 MB: body")
        closed_after(c, "Content-Length 9 MB")
    HOSTILE.good("9 MB Content-Length 413")


def malformed(P, i):
    k = i % 4
    with Conn(P, timeout=T) as c:
        if k == 0:
            c.send(req_bytes(P, "POST", "/mcp", h26("tools/call", "test_simple_text"), b'{"jsonrpc":"2.0","id":1,"method":'))
            st, h, b = c.response(T)
            eq(st, 400, f"malformed JSON to /mcp: status (body {show(b)})")
            j = json_of(b, "malformed JSON to /mcp")
            eq((j.get("error") or {}).get("code"), -32700, "malformed JSON to /mcp: error code")
            HOSTILE.good("malformed JSON to /mcp 400")
        elif k == 1:
            c.send(req_bytes(P, "POST", "/tools/test_simple_text", {"Content-Type": "application/json"}, b'{"a":[1,'))
            st, h, b = c.response(T)
            eq(st, 400, f"malformed JSON to /tools: status (body {show(b)})")
            lib.starts(json_of(b, "malformed JSON to /tools").get("error"), "Bad Request: the body is not JSON",
                       "malformed JSON to /tools: error")
            HOSTILE.good("malformed JSON to /tools 400")
        elif k == 2:
            c.send(f"GET /health HTTP/1.1\nHost: 127.0.0.1:{P}\n\n".encode())
            st, h, b = c.response(T)
            eq(st, 400, f"bare LF: status (body {show(b)})")
            eq(json_of(b, "bare LF"), EXACT_400, "bare LF: body")
            closed_after(c, "bare LF")
            HOSTILE.good("bare LF 400")
        else:
            c.send(req_bytes(P, "GET", "/health", [("Host", f"127.0.0.1:{P}")]))
            st, h, b = c.response(T)
            eq(st, 400, f"two Host headers: status (body {show(b)})")
            eq(json_of(b, "two Host"), {"error": "Bad Request: more than one Host header"}, "two Host headers: body")
            closed_after(c, "two Host headers")
            HOSTILE.good("two Host headers 400")


def health(c, P, what):
    c.send(req_bytes(P, "GET", "/health"))
    st, h, b = c.response(T)
    eq(st, 200, f"{what}: status (body {show(b)})")
    eq(json_of(b, what).get("status"), "ok", f"{what}: status field")


def idle_round(P):
    """8 keep-alive connections from 127.0.0.6: GET /health, idle for up to 10 s, GET /health."""
    conns = []
    try:
        for i in range(8):
            c = Conn(P, source="127.0.0.6", timeout=T)
            conns.append(c)
            health(c, P, f"idle connection {i + 1}: first GET /health")
            HOSTILE.good("idle keep-alive 200")
        t0 = time.monotonic()
        while running() and time.monotonic() - t0 < 10:
            time.sleep(0.1)
        for i, c in enumerate(conns):
            health(c, P, f"idle connection {i + 1}: GET /health after {time.monotonic() - t0:.1f} s idle")
            HOSTILE.good("idle keep-alive 200")
    finally:
        for c in conns:
            c.close()


# --------------------------------------------------------------------------------------------

def loop(tally, kind, fn, stagger=0.0, pause=0.0):
    """Run fn(i) until the soak ends (at most 1,000,000 times); each exception is one failure."""
    def run():
        time.sleep(stagger)
        i = 0
        while running() and i < 1000000:
            i += 1
            try:
                fn(i)
            except Exception as e:  # noqa: BLE001 - every error is a failed request
                tally.fail(kind, e if str(e) else type(e).__name__)
                time.sleep(0.2)  # a failing worker does not spin
            if pause:
                time.sleep(pause)
    t = threading.Thread(target=run, daemon=True, name=kind)
    t.start()
    return t


def warm_up(P):
    """One of every kind, one after another."""
    session_round(P, "127.0.0.4")
    stateless_round(P, "127.0.0.5")
    big_tools(P)
    big_mcp(P, 0)
    too_big(P)
    trailer(P)
    for i in range(4):
        malformed(P, i)
    with Conn(P, source="127.0.0.6", timeout=T) as c:
        health(c, P, "warm-up GET /health")


def main():
    note(f"build {BUILD}{' (TSan)' if TSAN else ' (ASan/UBSan)' if ASAN else ''}; soak {SECONDS:g} s")
    srv = Server(CONFORMANCE)
    P = srv.port
    state = {}
    try:
        def warm():
            END[0] = time.monotonic() + 120
            warm_up(P)
            time.sleep(0.5)
            state["base"] = srv.rss_kb()
            state["hwm0"] = srv.hwm_kb()
            for t in (NORMAL, HOSTILE):
                t.ok.clear()
                t.bad.clear()
                t.why.clear()
            note(f"after warm-up: VmRSS {state['base']} kB, VmHWM {state['hwm0']} kB")
        check("soak: warm-up, one request of every kind answered as expected", warm, 60 * SLOW)
        if "base" not in state:
            return

        def soak():
            t0 = time.monotonic()
            END[0] = t0 + SECONDS
            ts = []
            for k in range(2):
                ts.append(loop(NORMAL, "session", lambda i: session_round(P, "127.0.0.4")))
            ts.append(loop(NORMAL, "stateless", lambda i: stateless_round(P, "127.0.0.5")))
            ts.append(loop(NORMAL, "elicitation", lambda i: elicit_worker(P)))
            for k in range(6):
                ts.append(loop(HOSTILE, "trickle", lambda i: trickle(P), stagger=0.3 * k))
            ts.append(loop(HOSTILE, "trailers", lambda i: trailer(P), pause=0.05))
            ts.append(loop(HOSTILE, "big /tools", lambda i: big_tools(P), pause=0.1))
            ts.append(loop(HOSTILE, "big /mcp", lambda i: (big_mcp(P, i), too_big(P)), pause=0.1))
            ts.append(loop(HOSTILE, "malformed", lambda i: malformed(P, i), pause=0.02))
            ts.append(loop(HOSTILE, "idle", lambda i: idle_round(P)))
            limit = time.monotonic() + SECONDS + 30 * SLOW
            while time.monotonic() < END[0]:
                time.sleep(0.2)
                truthy(srv.alive(), f"the server died: {show(srv.stderr()[-600:], 600)}")
            for t in ts:
                t.join(max(0.1, limit - time.monotonic()))
            STOP.set()
            stuck = [t.name for t in ts if t.is_alive()]
            truthy(not stuck, f"workers still running {30 * SLOW} s after the soak's end: {stuck}")
            state["secs"] = time.monotonic() - t0
        check(f"soak: {SECONDS:g} s of mixed traffic, the server alive throughout", soak, SECONDS + 60 * SLOW)
        STOP.set()
        note(f"normal: {NORMAL.total()} answered correctly ({NORMAL.text()}); {NORMAL.failures()} failed")
        note(f"hostile: {HOSTILE.total()} got their expected answer ({HOSTILE.text()}); {HOSTILE.failures()} did not")

        def normal():
            truthy(NORMAL.failures() == 0, f"{NORMAL.failures()} failed: {'; '.join(NORMAL.why)}")
            for k in ("session tools/call", "stateless tools/call", "elicitation tools/call"):
                truthy(NORMAL.ok.get(k, 0) > 0, f"no {k} was answered")
        check(f"soak: every normal request answered correctly ({NORMAL.total()} requests, 0 failures allowed)", normal)

        def hostile():
            truthy(HOSTILE.failures() == 0, f"{HOSTILE.failures()} did not: {'; '.join(HOSTILE.why)}")
            kinds = ["oversized trailers 431", "7 MB body to /tools 200", "7 MB body to /mcp 200", "9 MB Content-Length 413",
                     "malformed JSON to /mcp 400", "malformed JSON to /tools 400", "bare LF 400", "two Host headers 400",
                     "idle keep-alive 200"]
            if SECONDS >= 14:
                kinds.append("trickled head 408")
            missing = [k for k in kinds if not HOSTILE.ok.get(k)]
            truthy(not missing, f"none of these ran to the end: {missing}")
        check(f"soak: every hostile request got its expected status ({HOSTILE.total()} requests)", hostile)

        def health_end():
            with Conn(P, timeout=T) as c:
                health(c, P, "GET /health after the soak")
        check("soak: the server still answers GET /health after the soak", health_end, 3 * T)

        def memory():
            time.sleep(1.0)
            rss, hwm, base, hwm0 = srv.rss_kb(), srv.hwm_kb(), state["base"], state["hwm0"]
            note(f"VmRSS {base} kB after warm-up, {rss} kB after the soak (+{(rss - base) // MB} MB, "
                 f"limit {RSS_LIMIT_MB} MB); VmHWM {hwm0} kB after warm-up, {hwm} kB at the end "
                 f"(+{(hwm - base) // MB} MB above the warm-up VmRSS, limit {HWM_LIMIT_MB} MB)")
            truthy(rss - base < RSS_LIMIT_MB * MB, f"VmRSS grew by {(rss - base) // MB} MB (limit {RSS_LIMIT_MB} MB)")
            truthy(hwm - base < HWM_LIMIT_MB * MB, f"VmHWM is {(hwm - base) // MB} MB above the warm-up VmRSS "
                                                   f"(limit {HWM_LIMIT_MB} MB)")
        check(f"soak: VmRSS after the soak less than {RSS_LIMIT_MB} MB above the warm-up level, "
              f"VmHWM less than {HWM_LIMIT_MB} MB above it", memory)

        srv.stop()

        def reports():
            text = srv.stderr()
            bad = [l for l in text.splitlines()
                   if "ERROR: AddressSanitizer" in l or "runtime error:" in l or "WARNING: ThreadSanitizer" in l
                   or "ERROR: ThreadSanitizer" in l]
            truthy(not bad, f"{len(bad)} sanitizer lines, e.g. {show(bad[0] if bad else '')}")
        check("soak: no sanitizer report in the server's stderr", reports)
    finally:
        STOP.set()
        srv.stop()
        lib.cleanup()
    print(f"# {lib.PASSED} passed, {lib.FAILED} failed", flush=True)
    sys.exit(1 if lib.FAILED else 0)


if __name__ == "__main__":
    main()
