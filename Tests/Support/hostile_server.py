#!/usr/bin/env python3
"""A study server that sends hostile scale names (path escapes, terminal escapes) and ids, for mt's security tests (real HTTP on loopback).

usage: hostile_server.py PORTFILE
GET  /api/export          a list mixing one good scale (OA) with names that try to escape PATH
GET  /api/export/OA       two good entries
GET  /api/export/IDS      entries whose ids are a hostile string and a number far too large
GET  /api/export/<other>  one entry each (mt must never ask for them)
DELETE /api/export/...    200, and the path is appended to the file named by $HOSTILE_LOG
"""
import http.server
import json
import os
import socketserver
import sys
import urllib.parse

NAMES = ["OA", "IDS", "../escape", "/etc/mt-hostile", "a/../../b", ".hidden", "x" * 300, "caf\u00e9", "nul\u0000byte",
         "..", "sp ace", "%2e%2e%2fenc",
         # Names that try to drive the terminal that shows them: colour, window title, clear screen (ESC and
         # the one-character C1 CSI), a bidi override, a forged log line.
         "OA\u001b[31mRED\u001b[0m", "\u001b]0;pwned\u0007", "\u009b2J", "\u202eevil", "x\nCRITICAL forged"]


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def reply(self, status, obj):
        body = json.dumps(obj, ensure_ascii=False).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):
        path = self.path.split("?")[0]
        if path == "/api/export":
            self.reply(200, [{"name": n, "size": 2, "deleteable": True} for n in NAMES])
        elif path == "/api/export/OA":
            self.reply(200, [
                {"id": 1, "date": "Tue, 03 Apr 2018 14:05:09 -0400", "anxious_freq": 1, "session": "PRE"},
                {"id": 2, "date": "Tue, 03 Apr 2018 14:06:09 -0400", "anxious_freq": 2, "session": "PRE"},
            ])
        elif path == "/api/export/IDS":
            self.reply(200, [{"id": "../../x"}, {"id": 123456789012345678901234567890}])
        else:
            with open(os.environ.get("HOSTILE_LOG", "/dev/null"), "a") as f:
                f.write("GET " + urllib.parse.unquote(path) + "\n")
            self.reply(200, [{"id": 9, "x": 1}])

    def do_DELETE(self):
        with open(os.environ.get("HOSTILE_LOG", "/dev/null"), "a") as f:
            f.write("DELETE " + urllib.parse.unquote(self.path) + "\n")
        self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()


class Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True


if __name__ == "__main__":
    srv = Server(("127.0.0.1", 0), Handler)
    with open(sys.argv[1] + ".tmp", "w") as f:
        f.write("%d\n" % srv.server_address[1])
    os.rename(sys.argv[1] + ".tmp", sys.argv[1])
    srv.serve_forever()
