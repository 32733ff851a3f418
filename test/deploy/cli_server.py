#!/usr/bin/env python3
"""The real AWS CLI (v1, awscli's own driver), started once and forked for each call, so that
the moto tests do not pay the CLI's start-up (about 0.6 s a call, hundreds of calls).

    cli_server.py serve SOCKET      imports awscli, loads the service models the tests use,
                                    then forks a child per connection that runs awscli's
                                    main() with the caller's argv, environment, working
                                    directory and standard streams
    cli_server.py call SOCKET ARGS  what the `aws` wrapper runs: sends its stdin, stdout and
                                    stderr (SCM_RIGHTS), argv, environment and working
                                    directory, and exits with the CLI's status

Each call runs in a fresh child of the warmed-up process with the caller's environment in
os.environ, exactly as `aws ARGS` would, minus the interpreter's start-up.
"""
import json
import os
import signal
import socket
import struct
import sys


def recv_all(conn, n):
    data = b""
    while len(data) < n:
        chunk = conn.recv(n - len(data))
        if not chunk:
            raise EOFError
        data += chunk
    return data


DRIVER = None


def serve(path):
    import awscli.clidriver
    driver = awscli.clidriver.create_clidriver()
    driver._get_command_table()  # the command table and the argument parser, built once
    for svc in ("lambda", "iam", "logs", "cloudwatch", "ssm", "secretsmanager", "sts", "apigateway",
                "apigatewayv2", "cognito-idp", "events", "dynamodb", "cloudformation", "s3"):
        loader = driver.session.get_component("data_loader")
        for kind in ("service-2", "paginators-1", "waiters-2", "endpoint-rule-set-1"):
            try:
                loader.load_service_model(svc, kind)
            except Exception:
                pass
        try:  # the service's operations and their argument tables
            cmd = driver._get_command_table()[svc]
            for op in cmd._get_command_table().values():
                op.arg_table
        except Exception:
            pass
    global DRIVER
    DRIVER = driver
    loader = driver.session.get_component("data_loader")
    for name in ("endpoints", "partitions", "sdk-default-configuration", "_retry"):
        try:
            loader.load_data(name)
        except Exception:
            pass
    driver.session.get_component("endpoint_resolver")
    signal.signal(signal.SIGCHLD, signal.SIG_IGN)  # children reaped by the kernel
    srv = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    srv.bind(path)
    srv.listen(16)
    while True:
        conn, _ = srv.accept()
        if os.fork() == 0:
            srv.close()
            signal.signal(signal.SIGCHLD, signal.SIG_DFL)
            rc = 255
            try:
                rc = child(conn)
            except BaseException:
                import traceback
                traceback.print_exc(file=sys.__stderr__)
            finally:
                try:
                    conn.sendall(struct.pack("!i", rc))
                except OSError:
                    pass
                os._exit(0)
        conn.close()


def child(conn):
    msg, fds, _, _ = socket.recv_fds(conn, 16, 3)
    (n,) = struct.unpack("!I", msg[:4] if len(msg) >= 4 else recv_all(conn, 4))
    rest = msg[4:]
    req = json.loads((rest + recv_all(conn, n - len(rest))).decode())
    for i, fd in enumerate(fds):
        os.dup2(fd, i)
        os.close(fd)
    sys.stdin = os.fdopen(0, "r", closefd=False)
    sys.stdout = os.fdopen(1, "w", closefd=False)
    sys.stderr = os.fdopen(2, "w", closefd=False)
    data_path = os.environ.get("AWS_DATA_PATH")  # set by awscli's import: where its own data is
    os.environ.clear()
    os.environ.update(req["env"])
    if data_path and "AWS_DATA_PATH" not in req["env"]:
        os.environ["AWS_DATA_PATH"] = data_path
    os.chdir(req["cwd"])
    sys.argv = ["aws"] + req["argv"]
    try:
        rc = DRIVER.main(req["argv"])
    except SystemExit as e:
        rc = e.code if isinstance(e.code, int) else 1
    sys.stdout.flush()
    sys.stderr.flush()
    return rc or 0


def call(path, argv):
    body = json.dumps({"argv": argv, "env": dict(os.environ), "cwd": os.getcwd()}).encode()
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.connect(path)
    socket.send_fds(s, [struct.pack("!I", len(body)) + body[:1000]], [0, 1, 2])
    if len(body) > 1000:
        s.sendall(body[1000:])
    try:
        (rc,) = struct.unpack("!i", recv_all(s, 4))
    except EOFError:
        rc = 255
    return rc


if __name__ == "__main__":
    if sys.argv[1] == "serve":
        serve(sys.argv[2])
    else:
        sys.exit(call(sys.argv[2], sys.argv[3:]))
