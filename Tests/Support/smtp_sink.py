#!/usr/bin/env python3
"""A real SMTP server on loopback for mt's tests: speaks enough ESMTP (EHLO, AUTH PLAIN/LOGIN, MAIL, RCPT,
DATA, RSET, NOOP, QUIT) and writes each message it accepts to OUTDIR/msg-N.eml.

usage: smtp_sink.py OUTDIR PORTFILE   (binds 127.0.0.1 on a free port and writes the port to PORTFILE)
"""
import os
import socketserver
import sys
import threading

OUT = sys.argv[1]
PORTFILE = sys.argv[2]
counter = [0]
lock = threading.Lock()


class Handler(socketserver.StreamRequestHandler):
    def send(self, line):
        self.wfile.write((line + "\r\n").encode())
        self.wfile.flush()

    def handle(self):
        self.send("220 localhost mt-test-smtp ready")
        mail_from, rcpts = None, []
        while True:
            raw = self.rfile.readline()
            if not raw:
                return
            line = raw.decode("utf-8", "replace").rstrip("\r\n")
            verb = line.split(" ", 1)[0].upper()
            if verb in ("EHLO", "HELO"):
                self.wfile.write(b"250-localhost\r\n250-AUTH PLAIN LOGIN\r\n250 8BITMIME\r\n")
                self.wfile.flush()
            elif verb == "AUTH":
                parts = line.split()
                if len(parts) >= 2 and parts[1].upper() == "LOGIN":
                    self.send("334 VXNlcm5hbWU6")
                    self.rfile.readline()
                    self.send("334 UGFzc3dvcmQ6")
                    self.rfile.readline()
                elif len(parts) == 2:
                    self.send("334 ")
                    self.rfile.readline()
                self.send("235 2.7.0 Authentication successful")
            elif verb == "MAIL":
                mail_from, rcpts = line[10:], []
                self.send("250 OK")
            elif verb == "RCPT":
                rcpts.append(line[8:])
                self.send("250 OK")
            elif verb == "DATA":
                self.send("354 End data with <CR><LF>.<CR><LF>")
                data = []
                while True:
                    l = self.rfile.readline()
                    if not l or l in (b".\r\n", b".\n"):
                        break
                    if l.startswith(b".."):
                        l = l[1:]
                    data.append(l)
                with lock:
                    counter[0] += 1
                    n = counter[0]
                path = os.path.join(OUT, "msg-%d.eml" % n)
                with open(path + ".tmp", "wb") as f:
                    f.write(("X-Envelope-From: %s\r\nX-Envelope-To: %s\r\n" % (mail_from, ",".join(rcpts))).encode())
                    f.write(b"".join(data))
                os.rename(path + ".tmp", path)
                self.send("250 OK: queued as %d" % n)
            elif verb == "RSET":
                mail_from, rcpts = None, []
                self.send("250 OK")
            elif verb == "NOOP":
                self.send("250 OK")
            elif verb == "QUIT":
                self.send("221 Bye")
                return
            else:
                self.send("502 Command not implemented")


class Server(socketserver.ThreadingTCPServer):
    allow_reuse_address = True
    daemon_threads = True


if __name__ == "__main__":
    os.makedirs(OUT, exist_ok=True)
    with Server(("127.0.0.1", 0), Handler) as srv:
        with open(PORTFILE + ".tmp", "w") as f:
            f.write("%d\n" % srv.server_address[1])
        os.rename(PORTFILE + ".tmp", PORTFILE)
        srv.serve_forever()
