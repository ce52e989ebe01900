#!/usr/bin/env python3
"""A recording HTTP proxy in front of a real OCI registry, for tests of what pvec sends.

It forwards every request to --upstream (the Host header is kept, so the registry's Location
headers point back at the proxy) and appends one line per request to --log:
`METHOD PATH?QUERY content-range=<value or ->`. Two faults can be switched on:

--cut-patch N      the N-th PATCH (1-based) reaches the registry with only the first half of
                   its chunk (Content-Range and Content-Length adjusted), then the client gets
                   a truncated answer and the connection closes: a transfer cut mid-chunk.
--race-tag T --race-body F
                   after forwarding a PUT of the manifest tag T, PUT the manifest in file F
                   under T too, before answering: another push winning the race between
                   pvec's PUT and its read-back.

Prints the port it listens on (127.0.0.1, a free one) on the first line of stdout.
Standard library only.
"""
import argparse
import http.client
import http.server
import sys
import threading

HOP = {"connection", "keep-alive", "transfer-encoding", "content-length", "proxy-connection", "upgrade"}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--upstream", required=True, help="HOST:PORT of the registry")
    ap.add_argument("--log", required=True)
    ap.add_argument("--cut-patch", type=int, default=0)
    ap.add_argument("--race-tag")
    ap.add_argument("--race-body")
    args = ap.parse_args()
    host, port = args.upstream.rsplit(":", 1)
    lock = threading.Lock()
    state = {"patches": 0}
    race_body = open(args.race_body, "rb").read() if args.race_body else None

    def upstream(method, path, headers, body):
        c = http.client.HTTPConnection(host, int(port), timeout=120)
        c.request(method, path, body=body, headers=headers)
        r = c.getresponse()
        data = r.read()
        c.close()
        return r, data

    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *a):
            pass

        def handle_any(self):
            n = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(n) if n else b""
            headers = {k: v for k, v in self.headers.items() if k.lower() not in HOP}
            with lock:
                with open(args.log, "a") as f:
                    f.write(f"{self.command} {self.path} content-range={self.headers.get('Content-Range', '-')}\n")
            if self.command == "PATCH":
                with lock:
                    state["patches"] += 1
                    cut = state["patches"] == args.cut_patch
                if cut and len(body) >= 2:
                    half = body[: len(body) // 2]
                    start = int((self.headers.get("Content-Range") or "0-0").split("-")[0])
                    headers["Content-Range"] = f"{start}-{start + len(half) - 1}"
                    upstream("PATCH", self.path, headers, half)
                    # A truncated answer, then the connection closes: the client sees a failed
                    # transfer (a connection closed before any answer might be retried by curl).
                    self.wfile.write(b"HTTP/1.1 502 Bad Gateway\r\nContent-Length: 64\r\n\r\ncut")
                    self.wfile.flush()
                    self.close_connection = True
                    self.connection.shutdown(2)
                    return
            r, data = upstream(self.command, self.path, headers, body if (n or self.command in ("PUT", "POST", "PATCH")) else None)
            if (self.command == "PUT" and args.race_tag and race_body is not None
                    and self.path.split("?")[0].endswith("/manifests/" + args.race_tag) and r.status in (200, 201)):
                other = {"Content-Type": "application/vnd.oci.image.manifest.v1+json"}
                upstream("PUT", self.path.split("?")[0], other, race_body)
            self.send_response(r.status)
            for k, v in r.getheaders():
                if k.lower() not in HOP:
                    self.send_header(k, v)
            if self.command == "HEAD":
                self.send_header("Content-Length", r.getheader("Content-Length") or "0")
                self.end_headers()
                return
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        do_GET = do_HEAD = do_PUT = do_POST = do_PATCH = do_DELETE = handle_any

    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    srv.daemon_threads = True
    print(srv.server_address[1], flush=True)
    srv.serve_forever()


if __name__ == "__main__":
    sys.exit(main())
