"""elicit.py: finding 3 of issue 14, an elicitation answer that arrives before the server waits
for it. The conformance server's test_elicitation tool asks the client (elicitation/create on
the call's SSE stream) and waits for the answer, which the client POSTs on another connection.

The race is between the handler thread, which has just written the request, and the thread
that receives the answer. To make it show up in a bounded number of round trips, the server
runs at nice 19 and every thread of the server and this client share one CPU: the client is
woken by the request, preempts the handler thread right after its write and answers at once,
and the thread that receives the answer is as likely to run before the handler thread as
after it. A server that registers its wait before it sends the request loses nothing however
it is scheduled. At most 300 round trips; the first lost answer (no final result within 2 s)
ends the check."""

import json
import os
import socket
import time

from lib import Conn, Fail, Server, eq, initialize, mcp_headers, parse_sse, req_bytes, show, tool_call

WANT = 'User response: action=accept, content={"username":"u","email":"e@example.com"}'


class Stream:
    """The SSE body of a chunked response on conn, event by event, as the bytes arrive."""

    def __init__(self, conn):
        self.c = conn
        self.text = ""
        self.done = False

    def head(self, timeout):
        deadline = time.monotonic() + timeout
        while b"\r\n\r\n" not in self.c.buf:
            if self.c.closed or not self.c._fill(deadline):
                raise Fail(f"the connection closed before a response head ({show(self.c.buf)})")
        he = self.c.buf.index(b"\r\n\r\n")
        head = self.c.buf[:he].decode("latin1")
        self.c.buf = self.c.buf[he + 4:]
        if not head.startswith("HTTP/1.1 200") or "chunked" not in head.lower() or "text/event-stream" not in head:
            raise Fail(f"not a 200 SSE stream: {show(head)} {show(self.c.buf)}")

    def _chunks(self):
        while not self.done:
            b = self.c.buf
            le = b.find(b"\r\n")
            if le < 0:
                return
            size = int(b[:le].split(b";")[0], 16)
            if size == 0:
                if len(b) < le + 4:
                    return
                self.c.buf = b[le + 4:]
                self.done = True
                return
            if len(b) < le + 2 + size + 2:
                return
            self.text += b[le + 2:le + 2 + size].decode("utf-8")
            self.c.buf = b[le + 2 + size + 2:]

    def event(self, timeout):
        """The next event's JSON, or None when none comes in time (or the stream ended)."""
        deadline = time.monotonic() + timeout
        while True:
            self._chunks()
            i = self.text.find("\n\n")
            if i >= 0:
                block, self.text = self.text[:i + 2], self.text[i + 2:]
                ev = parse_sse(block)
                if ev:
                    return ev[0]
                continue
            if self.done or self.c.closed:
                return None
            try:
                if not self.c._fill(deadline):
                    return None
            except socket.timeout:
                return None


def run(binary, rounds=300, budget_s=20.0):
    cpu = min(os.sched_getaffinity(0))
    mine = os.sched_getaffinity(0)

    def pin_server():
        os.nice(19)
        os.sched_setaffinity(0, {cpu})

    srv = Server(binary, preexec=pin_server)
    try:
        os.sched_setaffinity(0, {cpu})  # this thread only
        P = srv.port
        sid = initialize(P, caps={"elicitation": {}})
        a = Conn(P, timeout=5)
        b = Conn(P, timeout=5)
        t0 = time.monotonic()
        done = 0
        for i in range(rounds):
            if time.monotonic() - t0 > budget_s:
                break
            a.send(req_bytes(P, "POST", "/mcp", mcp_headers(sid, "2025-11-25"),
                             json.dumps(tool_call("test_elicitation", {}, id=1000 + i))))
            s = Stream(a)
            s.head(5)
            ev = s.event(5)
            if not ev or ev.get("method") != "elicitation/create" or "id" not in ev:
                raise Fail(f"round {i + 1}: the first event is not an elicitation/create request: {show(ev)}")
            b.send(req_bytes(P, "POST", "/mcp", mcp_headers(sid, "2025-11-25"), json.dumps(
                {"jsonrpc": "2.0", "id": ev["id"],
                 "result": {"action": "accept", "content": {"username": "u", "email": "e@example.com"}}})))
            st, _, body = b.response(5)
            eq(st, 202, f"round {i + 1}: the answer's POST: status (body {show(body)})")
            fin = s.event(2.0)
            if fin is None:
                raise Fail(f"round {i + 1}: the answer to {ev['id']} was accepted (202) but the call never got it "
                           f"(no result within 2 s; {done} round trips before it went through)")
            eq(fin.get("id"), 1000 + i, f"round {i + 1}: final response id")
            text = (((fin.get("result") or {}).get("content") or [{}])[0]).get("text")
            eq(text, WANT, f"round {i + 1}: result text")
            while not s.done:
                if s.event(2.0) is None and not s.done:
                    raise Fail(f"round {i + 1}: the stream did not end after the result")
            done += 1
        if done < 100:
            raise Fail(f"only {done} round trips in {budget_s:g} s")
        print(f"# elicitation: {done} round trips in {time.monotonic() - t0:.1f} s, none lost", flush=True)
    finally:
        os.sched_setaffinity(0, mine)
        srv.stop()
