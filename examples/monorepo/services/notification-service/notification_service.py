"""notification-service: accepts notifications to deliver.

A tiny HTTP service on the standard library: GET /health for the load balancer
and the container health check, and POST /notifications {"channel": "email" |
"sms", "recipient": ..., "message": ...} that validates a notification and
accepts it (202, with its id) for delivery.
"""

from __future__ import annotations

import json
import os
import sys
import uuid
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

SERVICE = "notification-service"
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
CHANNELS = ("email", "sms")
MAX_BODY_BYTES = 16384


def validate(notification: Any) -> str | None:
    """Why a notification is refused, or None when it is acceptable."""
    if not isinstance(notification, dict):
        return "the body must be a JSON object"
    if notification.get("channel") not in CHANNELS:
        return f"channel must be one of {', '.join(CHANNELS)}"
    for field in ("recipient", "message"):
        if not isinstance(notification.get(field), str) or not notification[field].strip():
            return f"{field} is required"
    return None


class Handler(BaseHTTPRequestHandler):
    server_version = f"{SERVICE}/{VERSION}"

    def do_GET(self) -> None:
        if self.path.split("?", 1)[0] == "/health":
            self.send_health()
        else:
            self.send_json(HTTPStatus.NOT_FOUND, {"error": "not found"})

    def do_POST(self) -> None:
        if self.path.split("?", 1)[0] != "/notifications":
            self.send_json(HTTPStatus.NOT_FOUND, {"error": "not found"})
            return
        length = int(self.headers.get("Content-Length") or 0)
        if length > MAX_BODY_BYTES:
            self.send_json(HTTPStatus.REQUEST_ENTITY_TOO_LARGE, {"error": "body too large"})
            return
        try:
            notification = json.loads(self.rfile.read(length) or b"null")
        except ValueError:
            notification = None
        problem = validate(notification)
        if problem:
            self.send_json(HTTPStatus.BAD_REQUEST, {"error": problem})
            return
        self.send_json(HTTPStatus.ACCEPTED, {"id": str(uuid.uuid4()), "status": "accepted"})

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
