"""auth-service: issues signed session tokens.

A tiny HTTP service on the standard library: GET /health for the load balancer
and the container health check, POST /token {"username": ...} that answers a
token signed with HMAC-SHA256 under SIGNING_KEY (a secret in production), and
GET /verify?token=... that checks one.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import sys
import time
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

SERVICE = "auth-service"
VERSION = os.environ.get("SERVICE_VERSION", "dev")

#: The fault switch, for drills and the platform's end-to-end tests. Only with
#: FAULT_INJECTION=enabled in the environment (elsewhere the routes answer 404):
#: PUT /fault/health {"status": 503} makes GET /health answer that status (the load
#: balancer's health check then fails) until DELETE /fault/health.
FAULTS_ENABLED = os.environ.get("FAULT_INJECTION") == "enabled"
HEALTH_FAULT: dict[str, HTTPStatus] = {}
#: FAULT_HEALTH_STATUS=503 (with FAULT_INJECTION=enabled) starts with the switch on: a
#: release that is broken from its first health check, for deployment tests and drills.
if FAULTS_ENABLED and os.environ.get("FAULT_HEALTH_STATUS"):
    HEALTH_FAULT["status"] = HTTPStatus(int(os.environ["FAULT_HEALTH_STATUS"]))
TOKEN_LIFETIME_SECONDS = 3600
MAX_BODY_BYTES = 4096


def _signing_key() -> bytes:
    return (os.environ.get("JWT_SIGNING_KEY") or "local-development-key").encode()


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def issue_token(username: str, now: float | None = None) -> str:
    claims = {"sub": username, "exp": int((now or time.time()) + TOKEN_LIFETIME_SECONDS)}
    payload = _b64(json.dumps(claims, separators=(",", ":")).encode())
    signature = _b64(hmac.new(_signing_key(), payload.encode(), hashlib.sha256).digest())
    return f"{payload}.{signature}"


def verify_token(token: str, now: float | None = None) -> dict[str, Any] | None:
    """The token's claims if its signature is good and it has not expired."""
    payload, _, signature = token.partition(".")
    expected = _b64(hmac.new(_signing_key(), payload.encode(), hashlib.sha256).digest())
    if not payload or not hmac.compare_digest(signature.encode(), expected.encode()):
        return None
    padded = payload + "=" * (-len(payload) % 4)
    claims: dict[str, Any] = json.loads(base64.urlsafe_b64decode(padded))
    return claims if claims.get("exp", 0) > (now or time.time()) else None


class Handler(BaseHTTPRequestHandler):
    server_version = f"{SERVICE}/{VERSION}"

    def do_GET(self) -> None:
        url = urlsplit(self.path)
        if url.path == "/health":
            self.send_health()
        elif url.path == "/verify":
            claims = verify_token(parse_qs(url.query).get("token", [""])[0])
            if claims is None:
                self.send_json(HTTPStatus.UNAUTHORIZED, {"valid": False})
            else:
                self.send_json(HTTPStatus.OK, {"valid": True, "username": claims["sub"]})
        else:
            self.send_json(HTTPStatus.NOT_FOUND, {"error": "not found", "path": url.path})

    def do_POST(self) -> None:
        if urlsplit(self.path).path != "/token":
            self.send_json(HTTPStatus.NOT_FOUND, {"error": "not found"})
            return
        length = int(self.headers.get("Content-Length") or 0)
        if length > MAX_BODY_BYTES:
            self.send_json(HTTPStatus.REQUEST_ENTITY_TOO_LARGE, {"error": "body too large"})
            return
        try:
            username = json.loads(self.rfile.read(length) or b"{}").get("username")
        except (ValueError, AttributeError):
            username = None
        if not isinstance(username, str) or not username.strip():
            self.send_json(HTTPStatus.BAD_REQUEST, {"error": "username is required"})
            return
        self.send_json(
            HTTPStatus.OK,
            {"token": issue_token(username), "expires_in": TOKEN_LIFETIME_SECONDS},
        )

    def do_PUT(self) -> None:
        if not FAULTS_ENABLED or self.path.split("?", 1)[0] != "/fault/health":
            self.send_json(HTTPStatus.NOT_FOUND, {"error": "not found"})
            return
        try:
            length = min(int(self.headers.get("Content-Length") or 0), 1024)
            status = HTTPStatus(int(json.loads(self.rfile.read(length) or b"{}")["status"]))
        except (ValueError, KeyError, TypeError):
            status = HTTPStatus.CONTINUE
        if status < HTTPStatus.OK:
            self.send_json(HTTPStatus.BAD_REQUEST, {"error": "status must be an HTTP status"})
            return
        HEALTH_FAULT["status"] = status
        self.send_json(HTTPStatus.OK, {"health_status": int(status)})

    def do_DELETE(self) -> None:
        if not FAULTS_ENABLED or self.path.split("?", 1)[0] != "/fault/health":
            self.send_json(HTTPStatus.NOT_FOUND, {"error": "not found"})
            return
        HEALTH_FAULT.clear()
        self.send_json(HTTPStatus.OK, {"health_status": 200})

    def send_health(self) -> None:
        status = HEALTH_FAULT.get("status", HTTPStatus.OK)
        body: dict[str, Any] = {
            "status": "ok" if status == HTTPStatus.OK else "failing",
            "service": SERVICE,
            "version": VERSION,
        }
        # Whether the signing key came from the environment (a secret from Parameter
        # Store), never the key itself.
        body["signing_key"] = "set" if os.environ.get("JWT_SIGNING_KEY") else "default"
        self.send_json(status, body)

    def send_json(self, status: HTTPStatus, body: dict[str, Any]) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, format: str, *args: Any) -> None:
        sys.stderr.write(f"{SERVICE} {self.address_string()} {format % args}\n")


def make_server(host: str = "0.0.0.0", port: int = 8080) -> ThreadingHTTPServer:
    """The service's HTTP server, bound (port 0: any free port), not yet serving."""
    return ThreadingHTTPServer((host, port), Handler)


def main() -> None:
    server = make_server(port=int(os.environ.get("PORT", "8080")))
    print(f"{SERVICE} {VERSION} listening on port {server.server_port}", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
