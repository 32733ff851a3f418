#!/usr/bin/python3
"""Compare mcp.c's SigV4 with botocore's (an independent implementation) on requests that
exercise the canonicalization rules. Usage: sigv4.py path/to/sigv4_tool"""
import os, subprocess, sys, datetime
from unittest import mock
from botocore.auth import SigV4Auth, S3SigV4Auth, SigV4QueryAuth, S3SigV4QueryAuth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

TOOL = sys.argv[1]
EPOCH = 1795300000  # 2026-11-22T..Z
CASES = [
    # method, url, service, region, headers, body, unsigned, token
    ("GET", "https://ssm.us-east-1.amazonaws.com/", "ssm", "us-east-1", {}, "", False, None),
    ("POST", "https://ssm.eu-west-1.amazonaws.com/", "ssm", "eu-west-1",
     {"Content-Type": "application/x-amz-json-1.1", "X-Amz-Target": "AmazonSSM.GetParameter"},
     '{"Name":"/mcp-server/openai-api-key","WithDecryption":true}', False, "FQoGZXIvYXdzEXAMPLETOKEN+/="),
    ("GET", "https://examplebucket.s3.amazonaws.com/test%20file%2B%28v1%29.txt", "s3", "us-east-1", {"Range": "bytes=0-9"}, "", True, None),
    ("GET", "https://examplebucket.s3.us-west-2.amazonaws.com/?list-type=2&prefix=data%2F2026%2F&max-keys=10&continuation-token=a%2Bb%3D%3D", "s3", "us-west-2", {}, "", True, None),
    ("PUT", "https://bucket.s3.amazonaws.com/dir/k%C3%A9y%20%2A%21.csv", "s3", "us-east-1", {"Content-Type": "text/csv"}, "a,b\n1,2\n", False, None),
    ("GET", "https://lambda.us-east-1.amazonaws.com/2015-03-31/functions/my%20fn/configuration?Qualifier=live", "lambda", "us-east-1", {}, "", False, None),
    ("POST", "https://dynamodb.us-east-1.amazonaws.com/", "dynamodb", "us-east-1",
     {"Content-Type": "application/x-amz-json-1.0", "X-Amz-Target": "DynamoDB_20120810.GetItem", "X-Custom": "  a   b  "},
     '{"TableName":"t","Key":{"id":{"S":"1"}}}', False, "tok"),
    ("GET", "https://sts.amazonaws.com/?Version=2011-06-15&Action=GetCallerIdentity", "sts", "us-east-1", {}, "", False, None),
    ("GET", "http://127.0.0.1:4569/bucket/key%20with%20space?tagging", "s3", "us-east-1", {}, "", True, None),
    ("GET", "https://x.lambda-url.us-east-1.on.aws/mcp?a=1&a=0&b=~x_y.z-", "lambda", "us-east-1", {"Accept": "application/json, text/event-stream"}, "", False, None),
]

AK, SK = "AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
ok = bad = 0

def report(name, good, detail=""):
    global ok, bad
    if good:
        ok += 1; print("ok - sigv4 %s" % name)
    else:
        bad += 1; print("not ok - sigv4 %s: %s" % (name, detail))

fixed = datetime.datetime.fromtimestamp(EPOCH, datetime.timezone.utc).replace(tzinfo=None)
for i, (method, url, service, region, headers, body, unsigned, token) in enumerate(CASES):
    env = dict(os.environ, AWS_ACCESS_KEY_ID=AK, AWS_SECRET_ACCESS_KEY=SK)
    env.pop("AWS_SESSION_TOKEN", None)
    if token:
        env["AWS_SESSION_TOKEN"] = token
    hdr_text = "\n".join("%s: %s" % kv for kv in headers.items())
    req = AWSRequest(method=method, url=url, data=body.encode(), headers=dict(headers))
    creds = Credentials(AK, SK, token)
    auth = (S3SigV4Auth if service == "s3" else SigV4Auth)(creds, service, region)
    if service == "s3":
        class Cfg: s3 = {"payload_signing_enabled": not unsigned}
        req.context["client_config"] = Cfg()
    with mock.patch("botocore.auth.datetime") as dt:
        dt.datetime.utcnow.return_value = fixed
        auth.add_auth(req)
    theirs = req.headers["Authorization"]
    # botocore decides per request whether S3 signs the payload; sign the same way
    used_unsigned = req.headers.get("X-Amz-Content-SHA256") == "UNSIGNED-PAYLOAD"
    unsigned_seen = globals().get("unsigned_seen", 0) + used_unsigned
    globals()["unsigned_seen"] = unsigned_seen
    args = [TOOL, "sign", method, url, service, region, str(EPOCH), hdr_text, body] + (["unsigned"] if used_unsigned else [])
    out = subprocess.run(args, env=env, capture_output=True, text=True)
    mine = {}
    for line in out.stdout.splitlines():
        if ": " in line:
            k, v = line.split(": ", 1); mine[k] = v
    report("case %d %s %s" % (i, method, url[:60]), mine.get("Authorization") == theirs,
           "\n   mcp.c:    %s\n   botocore: %s\n   stderr: %s" % (mine.get("Authorization"), theirs, out.stderr))

report("UNSIGNED-PAYLOAD was among the signed requests", globals().get("unsigned_seen", 0) > 0)

# presigned URLs
for i, (method, url, service) in enumerate([("GET", "https://examplebucket.s3.amazonaws.com/test.txt", "s3"),
                                             ("GET", "https://b.s3.us-west-2.amazonaws.com/a%20b/c.csv?versionId=3", "s3"),
                                             ("PUT", "https://b.s3.amazonaws.com/up.bin", "s3")]):
    env = dict(os.environ, AWS_ACCESS_KEY_ID=AK, AWS_SECRET_ACCESS_KEY=SK)
    env.pop("AWS_SESSION_TOKEN", None)
    region = "us-west-2" if "us-west-2" in url else "us-east-1"
    out = subprocess.run([TOOL, "presign", method, url, service, region, str(EPOCH), "3600"], env=env, capture_output=True, text=True)
    req = AWSRequest(method=method, url=url)
    auth = S3SigV4QueryAuth(Credentials(AK, SK), service, region, expires=3600)
    with mock.patch("botocore.auth.datetime") as dt:
        dt.datetime.utcnow.return_value = fixed
        auth.add_auth(req)
    theirs_sig = req.url.split("X-Amz-Signature=")[1]
    mine_sig = out.stdout.strip().split("X-Amz-Signature=")[-1]
    report("presign %d %s" % (i, url[:60]), mine_sig == theirs_sig, "\n   mcp.c:    %s\n   botocore: %s" % (out.stdout.strip(), req.url))

print("# %d passed, %d failed" % (ok, bad))
sys.exit(1 if bad else 0)
