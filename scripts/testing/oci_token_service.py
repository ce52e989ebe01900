#!/usr/bin/env python3
"""A tiny token service for docker-registry's `auth: token:` mode, for the bearer-flow tests.

GET /token?service=S[&scope=repository:NAME:ACTIONS]... with HTTP basic credentials
USER:PASSWORD (given on the command line) answers {"token", "access_token", "expires_in",
"issued_at"}: an ES256 JWT signed with --key (a PEM EC P-256 private key), whose header names
the key by its libtrust key id (`kid`), which distribution derives from each certificate of
its `rootcertbundle`. Each requested scope is granted in full; wrong or missing credentials
get 401. Every request is appended to --log as `scope=<scopes> user=<user or ->`.

Prints the port it listens on (127.0.0.1, a free one) on the first line of stdout.
Needs the `cryptography` package (scripts/bootstrap checks for it).
"""
import argparse
import base64
import hashlib
import http.server
import json
import sys
import threading
import time
import urllib.parse
import uuid

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature


def b64url(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def libtrust_kid(public_key):
    """distribution's key id: base32 of the first 240 bits of SHA-256(DER SubjectPublicKeyInfo),
    in 12 groups of 4 joined by ':'."""
    der = public_key.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    s = base64.b32encode(hashlib.sha256(der).digest()[:30]).decode().rstrip("=")
    return ":".join(s[i:i + 4] for i in range(0, len(s), 4))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--key", required=True)
    ap.add_argument("--issuer", required=True)
    ap.add_argument("--user", required=True)
    ap.add_argument("--password", required=True)
    ap.add_argument("--log", required=True)
    args = ap.parse_args()
    key = serialization.load_pem_private_key(open(args.key, "rb").read(), password=None)
    kid = libtrust_kid(key.public_key())
    lock = threading.Lock()

    def token(service, scopes, user):
        access = []
        for s in scopes:
            parts = s.split(":")
            if len(parts) >= 3:
                access.append({"type": parts[0], "name": ":".join(parts[1:-1]), "actions": parts[-1].split(",")})
        now = int(time.time())
        header = {"typ": "JWT", "alg": "ES256", "kid": kid}
        claims = {"iss": args.issuer, "sub": user, "aud": service, "exp": now + 300, "nbf": now - 10, "iat": now,
                  "jti": uuid.uuid4().hex, "access": access}
        signing = (b64url(json.dumps(header).encode()) + "." + b64url(json.dumps(claims).encode())).encode()
        r, s = decode_dss_signature(key.sign(signing, ec.ECDSA(hashes.SHA256())))
        return signing.decode() + "." + b64url(r.to_bytes(32, "big") + s.to_bytes(32, "big"))

    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *a):
            pass

        def answer(self, status, body, extra=None):
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            for k, v in (extra or {}).items():
                self.send_header(k, v)
            self.end_headers()
            self.wfile.write(data)

        def do_GET(self):
            url = urllib.parse.urlparse(self.path)
            q = urllib.parse.parse_qs(url.query)
            scopes = [s for v in q.get("scope", []) for s in v.split(" ") if s]
            user = None
            auth = self.headers.get("Authorization", "")
            if auth.startswith("Basic "):
                try:
                    u, _, p = base64.b64decode(auth[6:]).decode().partition(":")
                    if u == args.user and p == args.password:
                        user = u
                except Exception:
                    pass
            with lock:
                with open(args.log, "a") as f:
                    f.write(f"scope={' '.join(scopes) or '-'} user={user or '-'}\n")
            if url.path != "/token":
                return self.answer(404, {"error": "not found"})
            if user is None:
                return self.answer(401, {"errors": [{"code": "UNAUTHORIZED", "message": "bad credentials"}]},
                                   {"WWW-Authenticate": 'Basic realm="pvec-token"'})
            t = token(q.get("service", [""])[0], scopes, user)
            self.answer(200, {"token": t, "access_token": t, "expires_in": 300,
                              "issued_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())})

    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    srv.daemon_threads = True
    print(srv.server_address[1], flush=True)
    srv.serve_forever()


if __name__ == "__main__":
    sys.exit(main())
