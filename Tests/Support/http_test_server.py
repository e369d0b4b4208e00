#!/usr/bin/env python3
"""A real HTTP/1.1 server on loopback for MTCore's HTTP client tests.

usage: http_test_server.py PORTFILE
Paths:  /status/N        answers N with body "status N"
        /auth            200 only with basic auth user:secret, else 401 + WWW-Authenticate
        /slow/SECONDS    sleeps, then answers 200
        /trickle         sends headers, then 1 byte every 2 s (for low-speed timeouts)
        /utf8            a UTF-8 JSON body
        /connections     how many TCP connections this server has accepted so far
        /big/N           N bytes of "x" with their Content-Length
        /chunked/N       N bytes of "x" in 64 KiB chunks, no Content-Length (the size is known only at the end)
Any method is accepted; the method is echoed in the X-Method header.
"""
import base64
import http.server
import os
import socketserver
import sys
import threading
import time

connections = [0]
lock = threading.Lock()


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def setup(self):
        super().setup()
        with lock:
            connections[0] += 1

    def reply(self, status, body=b"", ctype="text/plain; charset=utf-8", extra=None):
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("X-Method", self.command)
        for k, v in (extra or {}).items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(body)

    def handle_any(self):
        p = self.path
        if p.startswith("/status/"):
            n = int(p.split("/")[2])
            self.reply(n, ("status %d" % n).encode())
        elif p == "/auth":
            expected = "Basic " + base64.b64encode(b"user:secret").decode()
            if self.headers.get("Authorization") == expected:
                self.reply(200, b"welcome")
            else:
                self.reply(401, b"no", extra={"WWW-Authenticate": 'Basic realm="test"'})
        elif p.startswith("/slow/"):
            time.sleep(float(p.split("/")[2]))
            self.reply(200, b"late")
        elif p == "/trickle":
            self.send_response(200)
            self.send_header("Content-Length", "100")
            self.end_headers()
            for _ in range(100):
                self.wfile.write(b"x")
                self.wfile.flush()
                time.sleep(2)
        elif p == "/utf8":
            self.reply(200, '[{"text":"é è 中文 🙂, \\"q\\""}]'.encode(), "application/json")
        elif p.startswith("/big/"):
            self.reply(200, b"x" * int(p.split("/")[2]))
        elif p.startswith("/chunked/"):
            left = int(p.split("/")[2])
            self.send_response(200)
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            try:
                while left > 0:
                    n = min(left, 65536)
                    self.wfile.write(b"%x\r\n" % n + b"x" * n + b"\r\n")
                    left -= n
                self.wfile.write(b"0\r\n\r\n")
            except (BrokenPipeError, ConnectionResetError):
                pass
        elif p == "/connections":
            self.reply(200, str(connections[0]).encode())
        else:
            self.reply(404, b"not found")

    do_GET = do_DELETE = do_POST = do_PUT = handle_any


class Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True


if __name__ == "__main__":
    srv = Server(("127.0.0.1", 0), Handler)
    with open(sys.argv[1] + ".tmp", "w") as f:
        f.write("%d\n" % srv.server_address[1])
    os.rename(sys.argv[1] + ".tmp", sys.argv[1])
    srv.serve_forever()
