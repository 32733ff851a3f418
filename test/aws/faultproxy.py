#!/usr/bin/env python3
"""A TLS front for moto's server that checks every SigV4 signature with botocore and injects
faults on request. Used by test/aws/moto.sh.

    faultproxy.py --moto http://127.0.0.1:PORT --cert server.pem --key server.key \
        --listen ssm --listen secretsmanager ... --listen any --listen llm \
        --access-key AK --secret-key SK --region us-east-1 \
        --log requests.jsonl --ready ports.json [--faults faults.json]

Each --listen NAME opens a TLS port of its own on 127.0.0.1 (written to --ready as
{"NAME": port, ..., "control": port} once all listen). A port named after a SigV4 signing
name only takes requests signed for that service, so a test sees which endpoint variable the
client used; "any" takes every service (for AWS_ENDPOINT_URL); GET .../.well-known/jwks.json
is passed to moto unsigned (Cognito serves a pool's keys publicly); "llm" answers OpenAI-style
chat completions with the bearer key it was sent (a stand-in for a non-AWS API).

For every request the signature is computed again with botocore (SigV4Auth, S3SigV4Auth for
S3) from the method, path, query, the headers the client listed in SignedHeaders and the
body, with the test's credentials; a request whose signature differs, whose scope names
another service, region or key, whose X-Amz-Date is more than 15 minutes off, whose S3
payload hash is not the body's (aws-chunked STREAMING-* bodies aside), or that leaves Host, X-Amz-* or Content-Type unsigned is
answered 403 with a body that says which. Every request is logged as one JSON line:
  {"t": seconds since the epoch, "port", "service", "op", "method", "path", "target",
   "conn": connection number, "seq": request number on that connection,
   "sig": "ok" or why not, "fault": the fault applied or null, "status": what was answered
   (null when the connection was reset), and for GetParameters "names": the names asked for}

Credentials: the control port also serves IAM Identity Center role credentials (GET
/federation/credentials, header x-amz-sso_bearer_token "sso-access-token"), container credentials (GET /container-credentials,
Authorization "container-session-token") and IMDSv2 (PUT /latest/api/token, GET
/latest/meta-data/iam/security-credentials/[ROLE]), both handing out the test's keys with a
session token; keys that STS AssumeRole answers carry are accepted from then on.

Faults: POST http://127.0.0.1:CONTROL/faults with one object or a list; DELETE /faults
clears; GET /faults shows what is left. The --faults file (the same JSON, a list) is read
again whenever it changes. A fault:
  {"op": "GetParameters" | "*", "service": "ssm" (optional), "count": N (default 1),
   "kind": KIND, "ms": delay, "status"/"code"/"message": for kind "error"}
applies to the next N requests that match. KIND:
  throttle      400 ThrottlingException, "Rate exceeded" (JSON 1.x body; S3 gets XML)
  slowdown      503 SlowDown, "Please reduce your request rate." (S3 XML)
  internal      500 InternalFailure (JSON) / InternalError (S3 XML)
  error         status, code and message as given (a non-retryable refusal, say)
  reset_before  the request is read, then the connection is reset: nothing was forwarded
  reset_after   the request is forwarded (moto acts on it), then the connection is reset
  close_after   the request is forwarded, then the connection is closed cleanly, unanswered
  delay         the request is forwarded and its answer held back ms milliseconds
Where moto differs from AWS in what mcp.c relies on, the proxy answers as AWS documents it
(see ssm_get_parameters: SSM GetParameters with selectors and ARNs).
S3 operations are named as the SDKs name them (GetObject, PutObject, ListObjectsV2,
HeadObject, CreateBucket, DeleteObject, ...); JSON-protocol ones by X-Amz-Target's
operation; query-protocol ones (STS) by Action.
"""
import argparse, datetime, hashlib, http.client, http.server, json, os, re, socket, ssl, struct, sys
import threading, time, urllib.parse
from botocore.auth import SigV4Auth, S3SigV4Auth
from botocore.awsrequest import AWSRequest, HTTPHeaders
from botocore.credentials import Credentials

A = None  # the parsed arguments
LOG_LOCK = threading.Lock()
FAULT_LOCK = threading.Lock()
FAULTS = []          # faults added through the control port
FILE_FAULTS = []     # faults from --faults
FILE_MTIME = [None]
CONN_SEQ = [0]
KEYS = {}            # access key -> secret key: the test's, and those STS AssumeRole handed out
CONTAINER_TOKEN = "container-session-token"
SSO_TOKEN = "sso-access-token"  # what `aws sso login` would have cached
IMDS_TOKEN = "imds-session-token"
HOP = {"connection", "keep-alive", "transfer-encoding", "content-length", "proxy-connection", "upgrade", "te"}


def log(entry):
    with LOG_LOCK, open(A.log, "a") as f:
        f.write(json.dumps(entry, sort_keys=True) + "\n")


def load_file_faults():
    if not A.faults:
        return
    try:
        m = os.stat(A.faults).st_mtime_ns
    except FileNotFoundError:
        return
    if m != FILE_MTIME[0]:
        FILE_MTIME[0] = m
        with open(A.faults) as f:
            v = json.load(f)
        FILE_FAULTS[:] = [norm_fault(x) for x in (v if isinstance(v, list) else [v])]


def norm_fault(f):
    if f.get("kind") not in ("throttle", "slowdown", "internal", "error", "reset_before", "reset_after", "close_after", "delay"):
        raise ValueError("unknown fault kind %r" % f.get("kind"))
    return dict(f, op=f.get("op", "*"), count=int(f.get("count", 1)))


def take_fault(service, op):
    with FAULT_LOCK:
        load_file_faults()
        for lst in (FAULTS, FILE_FAULTS):
            for f in lst:
                if f["count"] > 0 and f["op"] in ("*", op) and f.get("service", service) == service:
                    f["count"] -= 1
                    return dict(f)
    return None


def moto_request(method, path, body, headers):
    """(status, headers, body) of one request to moto, on a connection of its own."""
    u = urllib.parse.urlsplit(A.moto)
    c = http.client.HTTPConnection(u.hostname, u.port, timeout=30)
    try:
        c.request(method, path, body=body, headers=headers)
        r = c.getresponse()
        return r.status, r.getheaders(), r.read()
    finally:
        c.close()


def s3_op(method, path, query):
    parts = urllib.parse.urlsplit(path).path.lstrip("/").split("/", 1)
    has_key = len(parts) == 2 and parts[1] != ""
    q = urllib.parse.parse_qs(query, keep_blank_values=True)
    if not parts[0]:
        return "ListBuckets"
    if has_key:
        if "uploadId" in q:
            return {"PUT": "UploadPart", "POST": "CompleteMultipartUpload", "DELETE": "AbortMultipartUpload",
                    "GET": "ListParts"}.get(method, method)
        return {"GET": "GetObject", "PUT": "PutObject", "HEAD": "HeadObject",
                "DELETE": "DeleteObject", "POST": "CreateMultipartUpload" if "uploads" in q else "CompleteMultipartUpload"}.get(method, method)
    if method == "GET":
        return "ListObjectsV2" if q.get("list-type") == ["2"] else "ListObjects"
    return {"PUT": "CreateBucket", "HEAD": "HeadBucket", "DELETE": "DeleteBucket", "POST": "DeleteObjects"}.get(method, method)


def parse_auth(h):
    """The parts of 'AWS4-HMAC-SHA256 Credential=AK/DATE/REGION/SERVICE/aws4_request,
    SignedHeaders=a;b, Signature=hex', or None."""
    if not h or not h.startswith("AWS4-HMAC-SHA256 "):
        return None
    out = {}
    for part in h[len("AWS4-HMAC-SHA256 "):].split(","):
        k, _, v = part.strip().partition("=")
        out[k] = v
    cred = out.get("Credential", "").split("/")
    if len(cred) != 5 or cred[4] != "aws4_request" or "SignedHeaders" not in out or "Signature" not in out:
        return None
    return {"key": cred[0], "date": cred[1], "region": cred[2], "service": cred[3],
            "signed": out["SignedHeaders"].split(";"), "signature": out["Signature"]}


class Checker:
    """botocore's SigV4 over exactly the headers the client said it signed (as the service
    does: it cannot know which headers a proxy added)."""

    def __init__(self, cls, signed, creds, service, region):
        class C(cls):
            def headers_to_sign(self, request):
                m = HTTPHeaders()
                for n in signed:
                    m[n] = request.headers[n]
                return m
        self.auth = C(creds, service, region)


def verify(method, path, headers, body, port_service):
    """'ok', or why the signature is not what botocore computes."""
    a = parse_auth(headers.get("Authorization"))
    if not a:
        return "no AWS4-HMAC-SHA256 Authorization header", None
    service = a["service"]
    if port_service and service != port_service:
        return "signed for service %s, sent to the %s endpoint" % (service, port_service), service
    secret = KEYS.get(a["key"])
    if secret is None:
        return "unknown access key %s" % a["key"], service
    if a["region"] != A.region:
        return "signed for region %s, not %s" % (a["region"], A.region), service
    amz_date = headers.get("X-Amz-Date", "")
    try:
        when = datetime.datetime.strptime(amz_date, "%Y%m%dT%H%M%SZ").replace(tzinfo=datetime.timezone.utc)
    except ValueError:
        return "X-Amz-Date %r is not YYYYMMDDTHHMMSSZ" % amz_date, service
    if abs((datetime.datetime.now(datetime.timezone.utc) - when).total_seconds()) > 900:
        return "X-Amz-Date %s is more than 15 minutes off" % amz_date, service
    if a["date"] != amz_date[:8]:
        return "credential scope date %s is not X-Amz-Date's" % a["date"], service
    signed = a["signed"]
    if signed != sorted(signed) or any(n != n.lower() for n in signed):
        return "SignedHeaders not sorted lower-case names: %s" % ";".join(signed), service
    present = {k.lower() for k in headers.keys()}
    for n in signed:
        if n not in present:
            return "signed header %s is not in the request" % n, service
    must = {"host", "x-amz-date"} | {n for n in present if n.startswith("x-amz-") and n != "x-amz-signature"} | ({"content-type"} & present)
    if must - set(signed):
        return "unsigned header(s): %s" % ", ".join(sorted(must - set(signed))), service
    sha = headers.get("X-Amz-Content-SHA256")
    if sha is not None and sha != "UNSIGNED-PAYLOAD" and not sha.startswith("STREAMING-") and sha != hashlib.sha256(body).hexdigest():
        return "X-Amz-Content-SHA256 is not the body's hash", service
    if service == "s3" and sha is None:
        return "S3 request without X-Amz-Content-SHA256", service
    hdrs = {}
    for n in signed:
        hdrs[n] = ",".join(headers.get_all(n))
    req = AWSRequest(method=method, url="https://" + headers.get("Host", "") + path, data=body, headers=hdrs)
    req.context["timestamp"] = amz_date
    creds = Credentials(a["key"], secret, headers.get("X-Amz-Security-Token"))
    auth = Checker(S3SigV4Auth if service == "s3" else SigV4Auth, signed, creds, service, A.region).auth
    cr = auth.canonical_request(req)
    sig = auth.signature(auth.string_to_sign(req, cr), req)
    if sig != a["signature"]:
        return "signature mismatch: botocore's canonical request is %r" % cr, service
    return "ok", service


def error_body(service, code, message, xml):
    if xml:
        return ("application/xml", ("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>%s</Code><Message>%s</Message>"
                                    "<RequestId>faultproxy</RequestId></Error>" % (code, message)).encode())
    return ("application/x-amz-json-1.1", json.dumps({"__type": code, "message": message}).encode())


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def setup(self):
        super().setup()
        with LOG_LOCK:
            CONN_SEQ[0] += 1
            self.conn_id = CONN_SEQ[0]
        self.seq = 0
        self.reset = False

    def log_message(self, *args):
        pass

    def read_body(self):
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            out = b""
            while True:
                n = int(self.rfile.readline().split(b";")[0], 16)
                if n == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass
                    return out
                out += self.rfile.read(n)
                self.rfile.readline()
        n = int(self.headers.get("Content-Length", "0") or 0)
        return self.rfile.read(n) if n else b""

    def answer(self, status, ctype, body, extra=()):
        self.send_response(status)
        if ctype:
            self.send_header("Content-Type", ctype)
        for k, v in extra:
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)
        self.wfile.flush()

    def handle_any(self):
        self.seq += 1
        t = time.time()
        body = self.read_body()
        port = self.server.port_name
        entry = {"t": round(t, 3), "port": port, "method": self.command, "path": self.path, "conn": self.conn_id,
                 "seq": self.seq, "target": self.headers.get("X-Amz-Target"), "fault": None, "status": None}
        if port == "llm":
            return self.llm(entry, body)
        if self.command == "GET" and urllib.parse.urlsplit(self.path).path.endswith("/.well-known/jwks.json"):
            return self.public(entry, body)  # a user pool's keys are public, unsigned (as Cognito serves them)
        sig, service = verify(self.command, self.path, self.headers, body, None if port == "any" else port)
        target = self.headers.get("X-Amz-Target")
        split = urllib.parse.urlsplit(self.path)
        if target:
            op = target.rsplit(".", 1)[-1]
        elif service == "s3":
            op = s3_op(self.command, self.path, split.query)
        else:
            q = urllib.parse.parse_qs(split.query or (body.decode("utf-8", "replace") if b"Action=" in body else ""))
            op = q.get("Action", ["%s %s" % (self.command, split.path)])[0]
        entry.update(service=service, op=op, sig=sig, key=(parse_auth(self.headers.get("Authorization")) or {}).get("key"))
        if op == "GetParameters":
            try:
                entry["names"] = json.loads(body or b"{}").get("Names")
            except ValueError:
                entry["names"] = None
        xml = service == "s3"
        if sig != "ok":
            code = "SignatureDoesNotMatch" if sig.startswith("signature mismatch") else "InvalidSignatureException"
            ctype, b = error_body(service, code, "faultproxy: " + sig, xml)
            entry["status"] = 403
            log(entry)
            return self.answer(403, ctype, b)
        f = take_fault(service, op)
        if f:
            entry["fault"] = f["kind"]
            kind = f["kind"]
            canned = {"throttle": (400, "ThrottlingException", "Rate exceeded"),
                      "slowdown": (503, "SlowDown", "Please reduce your request rate."),
                      "internal": (500, "InternalError" if xml else "InternalFailure",
                                   "We encountered an internal error. Please try again."),
                      "error": (int(f.get("status", 400)), f.get("code", "AccessDeniedException"),
                                f.get("message", "faultproxy refused this request"))}
            if kind in canned:
                st, code, msg = canned[kind]
                ctype, b = error_body(service, code, msg, xml)
                entry["status"] = st
                log(entry)
                return self.answer(st, ctype, b, [("x-amzn-RequestId", "faultproxy")])
            if kind == "reset_before":
                log(entry)
                return self.reset_now()
        if op == "GetParameters" and service == "ssm":
            status, headers, rbody = self.ssm_get_parameters(body)
        else:
            status, headers, rbody = self.forward(body)
        if op == "AssumeRole" and status == 200:  # the role's keys sign what follows
            m = re.search(rb"<AccessKeyId>([^<]+)</AccessKeyId>.*?<SecretAccessKey>([^<]+)</SecretAccessKey>", rbody, re.S)
            if m:
                KEYS[m.group(1).decode()] = m.group(2).decode()
        if f and f["kind"] in ("reset_after", "close_after"):
            entry["moto_status"] = status
            log(entry)
            if f["kind"] == "close_after":
                self.close_connection = True
                return
            return self.reset_now()
        if f and f["kind"] == "delay":
            time.sleep(int(f.get("ms", 1000)) / 1000.0)
        entry["status"] = status
        log(entry)
        self.answer(status, None, rbody, [(k, v) for k, v in headers if k.lower() not in HOP and k.lower() not in ("server", "date")])

    def forward(self, body):
        hdrs = {}
        for k, v in self.headers.items():
            if k.lower() not in HOP:
                hdrs[k] = v if k not in hdrs else hdrs[k] + "," + v
        if body or self.command in ("PUT", "POST"):
            hdrs["Content-Length"] = str(len(body))
        return moto_request(self.command, self.path, body, hdrs)

    def ssm_get_parameters(self, body):
        """GetParameters as AWS answers it where moto does not (moto 5.x): a name with a
        version or label selector ("/p:3", "/p:prod") comes back with "Selector": ":3", and
        a parameter's ARN is accepted. Such names are looked up one at a time with moto's
        GetParameter, which knows selectors and ARNs; other requests go to moto as they are."""
        req = json.loads(body or b"{}")
        names = req.get("Names") or []
        if not any(n.startswith("arn:") or ":" in n for n in names):
            return self.forward(body)
        params, invalid = [], []
        for n in names:
            tail = n.split(":parameter", 1)[1] if n.startswith("arn:") and ":parameter" in n else n
            sel = tail.rsplit(":", 1)[1] if ":" in tail else None
            st, _, b = self.moto_json("AmazonSSM.GetParameter", {"Name": n, "WithDecryption": req.get("WithDecryption", False)})
            if st != 200:
                invalid.append(n)
                continue
            prm = json.loads(b)["Parameter"]
            if sel is not None:
                prm["Selector"] = ":" + sel
            params.append(prm)
        out = json.dumps({"Parameters": params, "InvalidParameters": invalid}).encode()
        return 200, [("Content-Type", "application/x-amz-json-1.1")], out

    def moto_json(self, target, obj):
        """A JSON-protocol call of our own to moto, signed as the test's client would."""
        data = json.dumps(obj).encode()
        service = {"AmazonSSM": "ssm"}[target.split(".")[0]]
        r = AWSRequest(method="POST", url=A.moto + "/", data=data,
                       headers={"X-Amz-Target": target, "Content-Type": "application/x-amz-json-1.1"})
        SigV4Auth(Credentials(A.access_key, A.secret_key), service, A.region).add_auth(r)
        return moto_request("POST", "/", data, dict(r.headers.items()))

    def reset_now(self):
        """RST instead of an answer: SO_LINGER 0, and the socket closed once nothing else
        holds it (finish)."""
        self.reset = True
        self.close_connection = True

    def finish(self):
        if not self.reset:
            return super().finish()
        try:
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        except OSError:
            pass
        self.rfile.close()
        self.wfile.close()
        self.connection.close()

    def public(self, entry, body):
        status, headers, rbody = self.forward(body)
        entry.update(service="cognito-idp", op="GetJWKS", sig="n/a", status=status)
        log(entry)
        ctype = [v for k, v in headers if k.lower() == "content-type"]
        self.answer(status, ctype[0] if ctype else "application/json", rbody)

    def llm(self, entry, body):
        auth = self.headers.get("Authorization", "")
        try:
            model = json.loads(body or b"{}").get("model")
        except ValueError:
            model = None
        entry.update(service="llm", op="chat/completions", sig="n/a", status=200)
        log(entry)
        text = "key=%s model=%s" % (auth[7:] if auth.startswith("Bearer ") else "(none)", model)
        self.answer(200, "application/json", json.dumps({"choices": [{"message": {"role": "assistant", "content": text}}]}).encode())

    do_GET = do_PUT = do_POST = do_DELETE = do_HEAD = do_PATCH = handle_any


class Server(http.server.ThreadingHTTPServer):
    daemon_threads = True

    def shutdown_request(self, request):
        try:
            request.fileno()
        except (OSError, ValueError):
            return  # reset: already closed
        super().shutdown_request(request)


class Control(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def reply(self, status, obj):
        b = json.dumps(obj).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(b)))
        self.end_headers()
        self.wfile.write(b)

    def creds(self):
        exp = (datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
        return {"AccessKeyId": A.access_key, "SecretAccessKey": A.secret_key, "Expiration": exp}

    def do_GET(self):
        auth = self.headers.get("Authorization")
        path = self.path
        if path == "/container-credentials":  # AWS_CONTAINER_CREDENTIALS_FULL_URI
            log({"t": round(time.time(), 3), "port": "control", "op": "ContainerCredentials", "authorization": auth})
            if auth != CONTAINER_TOKEN:
                return self.reply(403, {"message": "bad authorization token"})
            return self.reply(200, dict(self.creds(), Token=CONTAINER_TOKEN))
        if path.startswith("/latest/meta-data/iam/security-credentials/"):  # IMDSv2
            tok = self.headers.get("X-aws-ec2-metadata-token")
            log({"t": round(time.time(), 3), "port": "control", "op": "IMDS " + path, "token": tok})
            if tok != IMDS_TOKEN:
                return self.reply(401, {"message": "IMDSv2 token missing or wrong"})
            role = path.rsplit("/", 1)[1]
            if not role:
                return self.reply_text("mcp-test-role")
            return self.reply(200, dict(self.creds(), Code="Success", Type="AWS-HMAC", Token=IMDS_TOKEN))
        if path.startswith("/federation/credentials?"):  # IAM Identity Center portal (AWS_ENDPOINT_URL_SSO)
            q = urllib.parse.parse_qs(path.split("?", 1)[1])
            tok = self.headers.get("x-amz-sso_bearer_token")
            log({"t": round(time.time(), 3), "port": "control", "op": "GetRoleCredentials", "token": tok,
                 "account": q.get("account_id", [""])[0], "role": q.get("role_name", [""])[0]})
            if tok != SSO_TOKEN:
                return self.reply(401, {"message": "Session token not found or invalid"})
            exp_ms = int((time.time() + 3600) * 1000)
            return self.reply(200, {"roleCredentials": {"accessKeyId": A.access_key, "secretAccessKey": A.secret_key,
                                                        "sessionToken": "sso-session-token", "expiration": exp_ms}})
        with FAULT_LOCK:
            self.reply(200, [f for f in FAULTS + FILE_FAULTS if f["count"] > 0])

    def reply_text(self, text):
        b = text.encode()
        self.send_response(200)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(b)))
        self.end_headers()
        self.wfile.write(b)

    def do_PUT(self):
        if self.path == "/latest/api/token" and self.headers.get("X-aws-ec2-metadata-token-ttl-seconds"):
            log({"t": round(time.time(), 3), "port": "control", "op": "IMDS token"})
            return self.reply_text(IMDS_TOKEN)
        self.reply(404, {"message": "no such path"})

    def do_POST(self):
        n = int(self.headers.get("Content-Length", "0") or 0)
        try:
            v = json.loads(self.rfile.read(n))
            add = [norm_fault(x) for x in (v if isinstance(v, list) else [v])]
        except (ValueError, TypeError, AttributeError) as e:
            return self.reply(400, {"error": str(e)})
        with FAULT_LOCK:
            FAULTS.extend(add)
        self.reply(200, {"added": len(add)})

    def do_DELETE(self):
        with FAULT_LOCK:
            FAULTS.clear()
            for f in FILE_FAULTS:
                f["count"] = 0
        self.reply(200, {"cleared": True})


def main():
    global A
    p = argparse.ArgumentParser()
    p.add_argument("--moto", required=True)
    p.add_argument("--cert", required=True)
    p.add_argument("--key", required=True)
    p.add_argument("--listen", action="append", required=True)
    p.add_argument("--access-key", required=True)
    p.add_argument("--secret-key", required=True)
    p.add_argument("--region", default="us-east-1")
    p.add_argument("--log", required=True)
    p.add_argument("--ready", required=True)
    p.add_argument("--faults")
    A = p.parse_args()
    KEYS[A.access_key] = A.secret_key
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(A.cert, A.key)
    ports = {}
    for name in A.listen:
        s = Server(("127.0.0.1", 0), Handler)
        s.socket = ctx.wrap_socket(s.socket, server_side=True)
        s.port_name = name
        ports[name] = s.server_address[1]
        threading.Thread(target=s.serve_forever, daemon=True).start()
    c = Server(("127.0.0.1", 0), Control)
    ports["control"] = c.server_address[1]
    tmp = A.ready + ".tmp"
    with open(tmp, "w") as f:
        json.dump(ports, f)
    os.rename(tmp, A.ready)
    c.serve_forever()


if __name__ == "__main__":
    main()
