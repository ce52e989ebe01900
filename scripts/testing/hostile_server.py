#!/usr/bin/env python3
"""A hostile HTTP server for pvec's client tests: it answers every request with an endless body.

Usage: hostile_server.py MODE   (MODE: 'announced' sends Content-Length: 2 GiB, 'chunked' sends
no length, only chunks). It binds 127.0.0.1 on a free port, prints "listening on http://HOST:PORT"
and serves until killed. Each answer stops after 1 GiB or when the client goes away.
"""
import http.server
import sys

MODE = sys.argv[1] if len(sys.argv) > 1 else "announced"
CHUNK = b"0" * 65536


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def answer(self):
        length = int(self.headers.get("Content-Length") or 0)
        if length:
            self.rfile.read(length)
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        if MODE == "announced":
            self.send_header("Content-Length", str(2 << 30))
        else:
            self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        try:
            for _ in range((1 << 30) // len(CHUNK)):
                if MODE == "announced":
                    self.wfile.write(CHUNK)
                else:
                    self.wfile.write(b"%x\r\n%s\r\n" % (len(CHUNK), CHUNK))
        except (BrokenPipeError, ConnectionResetError):
            pass
        self.close_connection = True

    do_GET = answer
    do_POST = answer
    do_PUT = answer

    def log_message(self, *args):
        pass


server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
print("listening on http://127.0.0.1:%d" % server.server_address[1], flush=True)
server.serve_forever()
