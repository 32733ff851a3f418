"""lib.py: the harness of test/hostile: checks that print "ok - NAME" / "not ok - NAME: WHY",
servers started on ports they pick (127.0.0.1:0), a raw HTTP/1.1 client over sockets, MCP
request builders and HS256 JWT minting (hmac + hashlib). Python 3 standard library only."""

import base64
import hashlib
import hmac
import json
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time

# --------------------------------------------------------------------------------------------
# checks

PASSED = 0
FAILED = 0
FAILED_NAMES = []
ONLY = os.environ.get("HOSTILE_ONLY")  # a regular expression: run only the checks it matches


class Fail(Exception):
    pass


class CheckTimeout(BaseException):  # not an Exception: nothing in a check swallows it
    pass


def _alarm(signum, frame):
    raise CheckTimeout()


signal.signal(signal.SIGALRM, _alarm)


def ok(name):
    global PASSED
    PASSED += 1
    print(f"ok - {name}", flush=True)


def not_ok(name, why):
    global FAILED
    FAILED += 1
    FAILED_NAMES.append(name)
    why = re.sub(r"\s+", " ", str(why))[:700]
    print(f"not ok - {name}: {why}", flush=True)


def wanted(name):
    return not ONLY or re.search(ONLY, name)


def check(name, fn, seconds=10.0):
    """Run fn() bounded by `seconds` (SIGALRM); an exception is the check's failure."""
    if not wanted(name):
        return
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        fn()
        signal.setitimer(signal.ITIMER_REAL, 0)
        ok(name)
    except CheckTimeout:
        not_ok(name, f"no result within {seconds:g} s")
    except Exception as e:  # noqa: BLE001 - every error is the check's failure
        signal.setitimer(signal.ITIMER_REAL, 0)
        not_ok(name, e if str(e) else type(e).__name__)
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)


def note(text):
    print(f"# {text}", flush=True)


def show(v, n=300):
    s = v if isinstance(v, str) else repr(v)
    return s if len(s) <= n else s[:n] + "..."


def eq(got, want, what):
    if got != want:
        raise Fail(f"{what}: got {show(got)}, want {show(want)}")


def truthy(v, what):
    if not v:
        raise Fail(what)


def starts(got, prefix, what):
    if not isinstance(got, str) or not got.startswith(prefix):
        raise Fail(f"{what}: got {show(got)}, want a string starting with {show(prefix)}")


# --------------------------------------------------------------------------------------------
# processes

PROCS = []  # every process started here, ended at exit


def cleanup():
    for p in PROCS:
        if p.poll() is None:
            try:
                p.kill()
            except OSError:
                pass
    for p in PROCS:
        try:
            p.wait(timeout=5)
        except Exception:  # noqa: BLE001
            pass


def _term(signum, frame):
    cleanup()
    sys.exit(1)


signal.signal(signal.SIGTERM, _term)
signal.signal(signal.SIGINT, _term)
signal.signal(signal.SIGHUP, _term)

SANITIZER_REPORTS = []  # reports seen in the stderr of servers that were stopped
SANITIZED = False  # set by the runner when the binaries are ASan/UBSan or TSan builds
TSAN = False  # set by the runner when they are TSan builds


def base_env(extra=None):
    """The environment without the caller's MCP_*, AWS_*, SSL_CERT_*, DATA_ROOT, OPENAI_*."""
    env = {k: v for k, v in os.environ.items() if not re.match(r"^(MCP_|AWS_|SSL_CERT_|DATA_ROOT$|OPENAI_)", k)}
    # ASan keeps freed memory in a quarantine (256 MB by default): a small one, so that RSS
    # measures what the server holds, not what the sanitizer holds back
    env["ASAN_OPTIONS"] = (env.get("ASAN_OPTIONS", "") + ":quarantine_size_mb=8:thread_local_quarantine_size_kb=256"
                           + ":allocator_release_to_os_interval_ms=100").lstrip(":")
    if extra:
        env.update({k: str(v) for k, v in extra.items()})
    return env


def rss_kb(pid, field="VmRSS"):
    """VmRSS (or VmHWM, the peak) of a process in kB, or None."""
    try:
        with open(f"/proc/{pid}/status") as f:
            m = re.search(field + r":\s+(\d+)\s+kB", f.read())
            return int(m.group(1)) if m else None
    except OSError:
        return None


class Server:
    """BINARY serve --listen 127.0.0.1:0, its port read from the line it prints on stderr."""

    def __init__(self, binary, env=None, start_s=20.0, preexec=None):
        self.proc = subprocess.Popen([binary, "serve", "--listen", "127.0.0.1:0"], env=base_env(env), preexec_fn=preexec,
                                     stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        PROCS.append(self.proc)
        self.err = b""
        self.port = None
        got = threading.Event()

        def reader():
            for line in iter(self.proc.stderr.readline, b""):
                if len(self.err) < (4 << 20):
                    self.err += line
                m = re.search(rb"serving MCP on http://127\.0\.0\.1:(\d+)/mcp", line)
                if m and not got.is_set():
                    self.port = int(m.group(1))
                    got.set()
            got.set()

        threading.Thread(target=reader, daemon=True).start()
        got.wait(start_s)
        if not self.port:
            self.stop()
            raise Fail(f"{binary} serve did not start: {show(self.err.decode('latin1'), 500)}")
        self.pid = self.proc.pid

    def alive(self):
        return self.proc.poll() is None

    def rss_kb(self):
        return rss_kb(self.pid)

    def hwm_kb(self):
        return rss_kb(self.pid, "VmHWM")

    def stderr(self):
        return self.err.decode("utf-8", "replace")

    def sanitizer_report(self):
        m = re.search(r"((ERROR|WARNING): (Address|Leak|Memory|Thread)Sanitizer[^\n]*|runtime error:[^\n]*)", self.stderr())
        return m.group(0) if m else None

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=5)
        time.sleep(0.05)  # the stderr reader takes the last lines
        rep = self.sanitizer_report()
        if rep and rep not in SANITIZER_REPORTS:
            SANITIZER_REPORTS.append(rep)

    def __enter__(self):
        return self

    def __exit__(self, *a):
        self.stop()


def run_tool(binary, tool, args, env=None, timeout=10.0):
    """BINARY call TOOL JSON: (exit code, stdout bytes, stderr bytes, peak RSS in kB or None)."""
    p = subprocess.Popen([binary, "call", tool, json.dumps(args)], env=base_env(env), stdin=subprocess.DEVNULL,
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    PROCS.append(p)
    out = []
    err = []
    t1 = threading.Thread(target=lambda: out.append(p.stdout.read()), daemon=True)
    t2 = threading.Thread(target=lambda: err.append(p.stderr.read()), daemon=True)
    t1.start()
    t2.start()
    peak = None
    try:
        _, status, ru = os.wait4(p.pid, 0) if _wait_ready(p, timeout) else (None, None, None)
    except ChildProcessError:
        status, ru = None, None
    if status is None:
        p.kill()
        p.wait()
        t1.join(2)
        t2.join(2)
        raise Fail(f"{os.path.basename(binary)} call {tool} still running after {timeout:g} s")
    p.returncode = os.waitstatus_to_exitcode(status)
    peak = ru.ru_maxrss
    t1.join(5)
    t2.join(5)
    return p.returncode, (out[0] if out else b""), (err[0] if err else b""), peak


def _wait_ready(p, timeout):
    """Wait up to timeout for p to exit without reaping it (so wait4 can read its rusage)."""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        try:
            r = os.waitid(os.P_PID, p.pid, os.WEXITED | os.WNOWAIT | os.WNOHANG)
        except ChildProcessError:
            return False
        if r is not None and r.si_pid == p.pid:
            return True
        time.sleep(0.01)
    return False


# --------------------------------------------------------------------------------------------
# raw HTTP/1.1

class Conn:
    """One TCP connection to 127.0.0.1:port (optionally from another loopback address)."""

    def __init__(self, port, source=None, timeout=5.0):
        self.port = port
        self.s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        if source:
            self.s.bind((source, 0))
        self.s.settimeout(timeout)
        self.s.connect(("127.0.0.1", port))
        self.buf = b""
        self.closed = False

    def send(self, data):
        if isinstance(data, str):
            data = data.encode("latin1")
        self.s.sendall(data)

    def try_send(self, data):
        """Send; False when the server closed or reset the connection."""
        try:
            self.send(data)
            return True
        except (BrokenPipeError, ConnectionResetError, ConnectionAbortedError):
            return False

    def _recv(self, deadline):
        """Bytes that arrive before deadline (b"" at the end of the connection)."""
        left = deadline - time.monotonic()
        if left <= 0:
            raise socket.timeout()
        self.s.settimeout(left)
        try:
            d = self.s.recv(1 << 18)
        except ConnectionResetError:
            d = b""
        if not d:
            self.closed = True
        return d

    def _fill(self, deadline):
        d = self._recv(deadline)
        self.buf += d
        return d

    def response(self, timeout=5.0, head_only=False):
        """The next response: (status, headers {lower name: [values]}, body bytes). Raises
        Fail when none comes in time or the connection closes before a whole one."""
        deadline = time.monotonic() + timeout
        try:
            while b"\r\n\r\n" not in self.buf:
                if self.closed or not self._fill(deadline):
                    raise Fail(f"the connection closed without a response (got {show(self.buf)})")
            he = self.buf.index(b"\r\n\r\n")
            head = self.buf[:he].decode("latin1")
            lines = head.split("\r\n")
            m = re.match(r"^HTTP/1\.[01] (\d{3})(?: .*)?$", lines[0])
            if not m:
                raise Fail(f"bad status line {show(lines[0])}")
            status = int(m.group(1))
            headers = {}
            for line in lines[1:]:
                k, _, v = line.partition(":")
                headers.setdefault(k.strip().lower(), []).append(v.strip())
            rest = self.buf[he + 4:]
            if head_only or status in (204, 304) or 100 <= status < 200:
                self.buf = rest
                return status, headers, b""
            te = ",".join(headers.get("transfer-encoding", []))
            if "chunked" in te.lower():
                body = b""
                p = 0
                while True:
                    while b"\r\n" not in rest[p:]:
                        if self.closed or not self._fill(deadline):
                            raise Fail("the connection closed inside a chunked body")
                        rest = self.buf[he + 4:]
                    le = rest.index(b"\r\n", p)
                    size = int(rest[p:le].split(b";")[0], 16)
                    if size == 0:
                        while rest.find(b"\r\n", le + 2) < 0:
                            if self.closed or not self._fill(deadline):
                                raise Fail("the connection closed inside the trailers")
                            rest = self.buf[he + 4:]
                        end = rest.index(b"\r\n", le + 2) + 2
                        self.buf = rest[end:]
                        return status, headers, body
                    while len(rest) < le + 2 + size + 2:
                        if self.closed or not self._fill(deadline):
                            raise Fail("the connection closed inside a chunk")
                        rest = self.buf[he + 4:]
                    body += rest[le + 2:le + 2 + size]
                    p = le + 2 + size + 2
            if "content-length" in headers:
                n = int(headers["content-length"][0])
                parts, got = [rest], len(rest)
                self.buf = b""
                while got < n:
                    d = b"" if self.closed else self._recv(deadline)
                    if not d:
                        raise Fail(f"the connection closed inside a body of {n} bytes (got {got})")
                    parts.append(d)
                    got += len(d)
                data = b"".join(parts)
                self.buf = data[n:]
                return status, headers, data[:n]
            while not self.closed:  # to the end of the connection
                self._fill(deadline)
            self.buf = b""
            return status, headers, self.buf[he + 4:]
        except socket.timeout:
            raise Fail(f"no response within {timeout:g} s (got {show(self.buf)})")

    def wait_closed(self, timeout=2.0):
        """True when the server closes the connection within timeout (data read meanwhile is kept)."""
        deadline = time.monotonic() + timeout
        try:
            while not self.closed:
                self._fill(deadline)
            return True
        except socket.timeout:
            return False
        except OSError:
            return True

    def quiet_for(self, seconds):
        """True when nothing more arrives for `seconds` (the connection may stay open)."""
        deadline = time.monotonic() + seconds
        n = len(self.buf)
        try:
            while time.monotonic() < deadline and not self.closed:
                self._fill(deadline)
        except socket.timeout:
            pass
        return len(self.buf) == n

    def close(self):
        try:
            self.s.close()
        except OSError:
            pass

    def __enter__(self):
        return self

    def __exit__(self, *a):
        self.close()


ACCEPT = "application/json, text/event-stream"


def req_bytes(port, method="GET", path="/", headers=None, body=None, close=False, host=True):
    h = f"{method} {path} HTTP/1.1\r\n"
    if host:
        h += f"Host: 127.0.0.1:{port}\r\n"
    for k, v in (headers.items() if isinstance(headers, dict) else (headers or [])):
        h += f"{k}: {v}\r\n"
    if body is not None:
        if isinstance(body, str):
            body = body.encode()
        h += f"Content-Length: {len(body)}\r\n"
    if close:
        h += "Connection: close\r\n"
    h += "\r\n"
    return h.encode("latin1") + (body or b"")


def request(port, method="GET", path="/", headers=None, body=None, timeout=5.0, source=None, head_only=False):
    with Conn(port, source=source, timeout=timeout) as c:
        c.send(req_bytes(port, method, path, headers, body, close=True))
        return c.response(timeout, head_only=head_only)


def error_body(body):
    """The "error" member of a JSON object body (a string), or the body when it is not one."""
    try:
        j = json.loads(body)
    except ValueError:
        return body.decode("latin1") if isinstance(body, bytes) else body
    return j.get("error") if isinstance(j, dict) else j


def parse_sse(text):
    out = []
    for block in re.split(r"\r?\n\r?\n", text):
        data = [l[5:].lstrip(" ") if l.startswith("data:") else None for l in re.split(r"\r?\n", block)]
        data = [d for d in data if d is not None]
        if data:
            try:
                out.append(json.loads("\n".join(data)))
            except ValueError:
                out.append({"unparsable": "\n".join(data)})
    return out


def rpc_final(headers, body):
    """The JSON-RPC response of a POST answered with JSON or SSE."""
    ct = ",".join(headers.get("content-type", []))
    if ct.startswith("text/event-stream"):
        for e in parse_sse(body.decode("utf-8", "replace")):
            if "id" in e and ("result" in e or "error" in e):
                return e
        return None
    try:
        return json.loads(body)
    except ValueError:
        return None


def mcp_headers(sid=None, pv=None, extra=None):
    h = {"Content-Type": "application/json", "Accept": ACCEPT}
    if sid:
        h["Mcp-Session-Id"] = sid
    if pv:
        h["MCP-Protocol-Version"] = pv
    if extra:
        h.update(extra)
    return h


def init_msg(pv="2025-11-25", caps=None, id=1):
    return {"jsonrpc": "2.0", "id": id, "method": "initialize",
            "params": {"protocolVersion": pv, "capabilities": caps or {}, "clientInfo": {"name": "hostile", "version": "1"}}}


def initialize(port, pv="2025-11-25", caps=None, extra=None, source=None, conn=None):
    """initialize + notifications/initialized; returns the session id."""
    body = json.dumps(init_msg(pv, caps)).encode()
    if conn:
        conn.send(req_bytes(port, "POST", "/mcp", mcp_headers(extra=extra), body))
        st, h, b = conn.response()
    else:
        st, h, b = request(port, "POST", "/mcp", mcp_headers(extra=extra), body, source=source)
    eq(st, 200, f"initialize status (body {show(b)})")
    sid = (h.get("mcp-session-id") or [None])[0]
    truthy(sid, "initialize: no Mcp-Session-Id")
    n = json.dumps({"jsonrpc": "2.0", "method": "notifications/initialized"}).encode()
    if conn:
        conn.send(req_bytes(port, "POST", "/mcp", mcp_headers(sid, pv, extra), n))
        st, _, _ = conn.response()
    else:
        st, _, _ = request(port, "POST", "/mcp", mcp_headers(sid, pv, extra), n, source=source)
    eq(st, 202, "notifications/initialized status")
    return sid


def rpc(port, sid, msg, pv="2025-11-25", extra=None, timeout=5.0, source=None):
    """POST one message on a fresh connection: (status, headers, body, final JSON-RPC response)."""
    st, h, b = request(port, "POST", "/mcp", mcp_headers(sid, pv, extra), json.dumps(msg).encode(), timeout=timeout,
                       source=source)
    return st, h, b, rpc_final(h, b)


def tool_call(name, args, id=2):
    return {"jsonrpc": "2.0", "id": id, "method": "tools/call", "params": {"name": name, "arguments": args}}


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    p = s.getsockname()[1]
    s.close()
    return p


class Listener:
    """A TCP listener on 127.0.0.1 that counts connections; `mode` says what it does with one:
    'close' (accept and close), 'hang' (accept, read, never answer) or a callable(sock)."""

    def __init__(self, mode="close"):
        self.s = socket.socket()
        self.s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.s.bind(("127.0.0.1", 0))
        self.s.listen(64)
        self.port = self.s.getsockname()[1]
        self.count = 0
        self.held = []
        self.mode = mode
        self.stopped = False
        self.t = threading.Thread(target=self._run, daemon=True)
        self.t.start()

    def _run(self):
        while not self.stopped:
            try:
                c, _ = self.s.accept()
            except OSError:
                return
            if self.stopped:
                c.close()
                return
            self.count += 1
            if self.mode == "close":
                c.close()
            elif self.mode == "hang":
                self.held.append(c)
            else:
                threading.Thread(target=self._serve, args=(c,), daemon=True).start()

    def _serve(self, c):
        try:
            c.settimeout(5)
            self.mode(c)
        except Exception:  # noqa: BLE001
            pass
        finally:
            c.close()

    def close(self):
        self.stopped = True
        try:
            socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
        except OSError:
            pass
        self.s.close()
        for c in self.held:
            c.close()

    def __enter__(self):
        return self

    def __exit__(self, *a):
        self.close()


# --------------------------------------------------------------------------------------------
# JWT (HS256), minted here with hmac: an independent implementation

def b64url(b):
    return base64.urlsafe_b64encode(b).rstrip(b"=").decode()


def jwt_hs256(secret, claims, header=None):
    h = b64url(json.dumps(header or {"alg": "HS256", "typ": "JWT"}, separators=(",", ":")).encode())
    p = b64url(json.dumps(claims, separators=(",", ":")).encode())
    sig = hmac.new(secret.encode(), f"{h}.{p}".encode(), hashlib.sha256).digest()
    return f"{h}.{p}.{b64url(sig)}"
