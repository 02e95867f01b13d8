"""An OIDC issuer's endpoints on a free port, that tests can break and count.

:class:`IssuerServer` serves a :class:`~lambdagraph_client.local.oidc.LocalIssuer`'s
discovery document and JWKS from a stdlib HTTP server in a thread, counts every request per
path, and can answer ``down`` (503) or ``garbage`` (not JSON) instead.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import threading
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Literal

import jwt
import orjson
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from lambdagraph.auth.jwt import DISCOVERY_PATH
from lambdagraph_client.local.oidc import LocalIssuer

Mode = Literal["ok", "down", "garbage", "no-keys"]
AUDIENCE = "test-client"


class IssuerServer:
    """The endpoints of ``issuer`` (whose URL is this server's), with failure modes."""

    def __init__(self, server: ThreadingHTTPServer) -> None:
        host, port = server.server_address[:2]
        self.url = f"http://{host!s}:{port}"
        self.issuer = LocalIssuer(self.url, audience=AUDIENCE)
        self.mode: Mode = "ok"
        self.fetches: Counter[str] = Counter()
        self.arrived = threading.Event()
        self.gate: threading.Event | None = None
        """When set to an event, requests wait for it (a slow issuer)."""
        self._lock = threading.Lock()

    @property
    def jwks_fetches(self) -> int:
        return self.fetches["/jwks.json"]

    @property
    def discovery_fetches(self) -> int:
        return self.fetches[DISCOVERY_PATH]

    def answer(self, path: str) -> tuple[int, bytes]:
        with self._lock:
            self.fetches[path] += 1
        self.arrived.set()
        if self.gate is not None:
            self.gate.wait(10)
        if self.mode == "down":
            return 503, b"Service Unavailable"
        if self.mode == "garbage":
            return 200, b"<html>not json</html>"
        if path == DISCOVERY_PATH:
            return 200, orjson.dumps(self.issuer.discovery())
        if path == "/jwks.json":
            jwks = {"keys": []} if self.mode == "no-keys" else self.issuer.jwks()
            return 200, orjson.dumps(jwks)
        return 404, b"{}"

    def token(self, user: str = "alice", **claims: Any) -> str:
        return self.issuer.token(user, **claims)


@contextmanager
def issuer_server() -> Iterator[IssuerServer]:
    """An :class:`IssuerServer` on a free port for the duration of the block."""
    box: list[IssuerServer] = []

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            status, body = box[0].answer(self.path)
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    box.append(IssuerServer(server))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield box[0]
    finally:
        server.shutdown()
        server.server_close()
        thread.join(10)


def forged_tokens(server: IssuerServer) -> dict[str, str | None]:
    """Every kind of bad token, by name: what a client might send that must get a 401."""
    issuer = server.issuer
    now = int(time.time())
    other_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    public_pem = issuer.keys[-1].private.public_key().public_bytes(
        Encoding.PEM, PublicFormat.SubjectPublicKeyInfo
    )
    claims = {"iss": issuer.url, "sub": "alice", "aud": AUDIENCE, "exp": now + 600}
    return {
        "missing": None,
        "malformed": "not-a-jwt",
        "expired": issuer.token("alice", exp=now - 120, iat=now - 600, nbf=now - 600),
        "not yet valid": issuer.token("alice", nbf=now + 600),
        "wrong issuer": issuer.token("alice", iss="https://evil.example"),
        "wrong audience": issuer.token("alice", aud="someone-else"),
        "wrong signature": jwt.encode(
            claims, other_key, algorithm="RS256", headers={"kid": issuer.kid}
        ),
        "alg none": jwt.encode(claims, "", algorithm="none", headers={"kid": issuer.kid}),
        "HS256 with the public key": _hs256(claims, public_pem, issuer.kid),
        "unknown kid": jwt.encode(
            claims, other_key, algorithm="RS256", headers={"kid": "not-a-key-of-ours"}
        ),
        "no sub": _without_sub(issuer),
    }


def _without_sub(issuer: LocalIssuer) -> str:
    now = int(time.time())
    key = issuer.keys[-1]
    body = {"iss": issuer.url, "aud": AUDIENCE, "exp": now + 600}
    return jwt.encode(body, key.private, algorithm=key.algorithm, headers={"kid": key.kid})


def _hs256(claims: dict[str, Any], secret: bytes, kid: str) -> str:
    """An HMAC token keyed with the issuer's public key: PyJWT refuses to encode one, so it
    is built by hand, as an attacker would."""
    def b64(data: bytes) -> bytes:
        return base64.urlsafe_b64encode(data).rstrip(b"=")

    header = orjson.dumps({"alg": "HS256", "typ": "JWT", "kid": kid})
    signing_input = b64(header) + b"." + b64(orjson.dumps(claims))
    signature = hmac.new(secret, signing_input, hashlib.sha256).digest()
    return (signing_input + b"." + b64(signature)).decode()
