"""api-service: the shop's public API (a catalogue of items).

A tiny HTTP service on the standard library: GET /health for the load balancer
and the container health check, GET /items and GET /items/<id>.
"""

from __future__ import annotations

import json
import os
import sys
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

SERVICE = "api-service"
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

ITEMS = {
    "1": {"id": "1", "name": "coffee mug", "price_cents": 1200},
    "2": {"id": "2", "name": "tea pot", "price_cents": 3400},
    "3": {"id": "3", "name": "espresso cup", "price_cents": 800},
}


class Handler(BaseHTTPRequestHandler):
    server_version = f"{SERVICE}/{VERSION}"

    def do_GET(self) -> None:
        path = self.path.split("?", 1)[0].rstrip("/") or "/"
        if path == "/health":
            self.send_health()
        elif path == "/items":
            self.send_json(HTTPStatus.OK, {"items": list(ITEMS.values())})
        elif path.startswith("/items/") and path.removeprefix("/items/") in ITEMS:
            self.send_json(HTTPStatus.OK, ITEMS[path.removeprefix("/items/")])
        else:
            self.send_json(HTTPStatus.NOT_FOUND, {"error": "not found", "path": path})

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
