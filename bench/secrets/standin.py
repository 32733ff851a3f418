#!/usr/bin/env python3
"""bench/secrets/standin.py: local stand-ins for SSM Parameter Store and Secrets Manager over
HTTPS (HTTP/1.1 keep-alive), each on its own port, checking every SigV4 signature with
botocore (test/aws/faultproxy.py's verify). Serves AmazonSSM.GetParameters (names, version
selectors, /aws/reference/secretsmanager/NAME as Parameter Store does) and
secretsmanager.GetSecretValue from --data (JSON: {"params": {...}, "secrets": {...}}).
Writes its ports to --ready and one JSON line per request to --log:
  {"port": "ssm" | "secretsmanager", "op", "conn", "sig", "status", "names"}.

  standin.py --cert C --key K --data D --ready R --log L --access-key AK --secret-key SK --region RG
"""
import argparse, http.server, json, os, ssl, sys, threading, types

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "test", "aws"))
import faultproxy  # noqa: E402  (verify: botocore's SigV4 over the signed headers)

REF = "/aws/reference/secretsmanager/"
LOCK = threading.Lock()
CONN = [0]


def main():
    p = argparse.ArgumentParser()
    for a in ("cert", "key", "data", "ready", "log", "access-key", "secret-key", "region"):
        p.add_argument("--" + a, required=True)
    a = p.parse_args()
    faultproxy.A = types.SimpleNamespace(region=a.region)
    faultproxy.KEYS[a.access_key] = a.secret_key
    data = json.load(open(a.data))
    log = open(a.log, "a")

    def answer(h, status, obj):
        b = json.dumps(obj).encode()
        h.send_response(status)
        h.send_header("Content-Type", "application/x-amz-json-1.1")
        h.send_header("Content-Length", str(len(b)))
        h.end_headers()
        h.wfile.write(b)

    def ssm(q):
        params, invalid = [], []
        for n in q.get("Names") or []:
            if n.startswith(REF) and n[len(REF):] in data["secrets"]:
                params.append({"Name": n, "Type": "SecureString", "Value": data["secrets"][n[len(REF):]], "Version": 0,
                               "SourceResult": "{}", "DataType": "text"})
                continue
            base, _, sel = n.partition(":")
            if base in data["params"]:
                prm = {"Name": base, "Type": "SecureString", "Value": data["params"][base], "Version": 1, "DataType": "text"}
                if sel:
                    prm["Selector"] = ":" + sel
                params.append(prm)
            else:
                invalid.append(n)
        return 200, {"Parameters": params, "InvalidParameters": invalid}

    class H(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def setup(self):
            super().setup()
            with LOCK:
                CONN[0] += 1
                self.conn = CONN[0]

        def log_message(self, *args):
            pass

        def do_POST(self):
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            port = self.server.name
            sig, _ = faultproxy.verify("POST", self.path, self.headers, body, port)
            target = self.headers.get("X-Amz-Target", "")
            q = json.loads(body or b"{}")
            if sig != "ok":
                st, obj = 403, {"__type": "InvalidSignatureException", "message": sig}
            elif port == "ssm" and target == "AmazonSSM.GetParameters" and q.get("WithDecryption") is True:
                st, obj = ssm(q)
            elif port == "secretsmanager" and target == "secretsmanager.GetSecretValue" and q.get("SecretId") in data["secrets"]:
                st, obj = 200, {"Name": q["SecretId"], "SecretString": data["secrets"][q["SecretId"]], "VersionId": "v1",
                                "VersionStages": ["AWSCURRENT"]}
            else:
                st, obj = 400, {"__type": "ResourceNotFoundException", "message": "not here: %s" % target}
            with LOCK:
                log.write(json.dumps({"port": port, "op": target.rsplit(".", 1)[-1], "conn": self.conn, "sig": sig,
                                      "status": st, "names": q.get("Names")}) + "\n")
                log.flush()
            answer(self, st, obj)

    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(a.cert, a.key)
    ports = {}
    for name in ("ssm", "secretsmanager"):
        srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), H)
        srv.daemon_threads = True
        srv.name = name
        srv.socket = ctx.wrap_socket(srv.socket, server_side=True)
        ports[name] = srv.server_address[1]
        threading.Thread(target=srv.serve_forever, daemon=True).start()
    with open(a.ready + ".tmp", "w") as f:
        json.dump(ports, f)
    os.rename(a.ready + ".tmp", a.ready)
    threading.Event().wait()


if __name__ == "__main__":
    main()
