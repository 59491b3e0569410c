#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""A forward proxy for the end-to-end tests: CONNECT tunnels (https://) and absolute-form
requests (http://), one request or tunnel per connection. Prints `PORT <n>` first; appends
one line per connection to LOG: `CONNECT host:port` or `GET http://...`.

    python3 tests/e2e/proxy.py LOG
"""

import os
import socket
import sys
import threading
import time


def pipe(a, b):
    try:
        while True:
            data = a.recv(65536)
            if not data:
                break
            b.sendall(data)
    except OSError:
        pass
    for s in (a, b):
        try:
            s.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass


def handle(client, log):
    head = b""
    while b"\r\n\r\n" not in head:
        data = client.recv(65536)
        if not data:
            client.close()
            return
        head += data
    line, rest = head.split(b"\r\n", 1)
    method, target, version = line.decode().split(" ", 2)
    with open(log, "a") as f:
        f.write(f"{method} {target}\n")
    if method == "CONNECT":
        host, port = target.rsplit(":", 1)
        upstream = socket.create_connection((host, int(port)))
        client.sendall(b"HTTP/1.1 200 Connection established\r\n\r\n")
        leftover = rest.split(b"\r\n\r\n", 1)[1] if b"\r\n\r\n" in rest else b""
        if leftover:
            upstream.sendall(leftover)
    else:
        hostport, path = target.split("://", 1)[1].split("/", 1)
        host, port = hostport.rsplit(":", 1) if ":" in hostport else (hostport, "80")
        upstream = socket.create_connection((host, int(port)))
        upstream.sendall(f"{method} /{path} {version}\r\n".encode() + rest)
    threading.Thread(target=pipe, args=(upstream, client), daemon=True).start()
    pipe(client, upstream)


def main():
    log = sys.argv[1]
    parent = os.getppid()
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(16)
    print(f"PORT {server.getsockname()[1]}", flush=True)

    def watch():
        while os.getppid() == parent:
            time.sleep(0.5)
        os._exit(0)

    threading.Thread(target=watch, daemon=True).start()
    while True:
        client, _ = server.accept()
        threading.Thread(target=handle, args=(client, log), daemon=True).start()


if __name__ == "__main__":
    main()
