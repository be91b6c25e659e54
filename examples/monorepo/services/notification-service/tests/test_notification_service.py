"""Unit tests of notification-service: the server runs on a free port in a thread."""

from __future__ import annotations

import importlib.util
import json
import threading
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

SOURCE = Path(__file__).resolve().parents[1] / "notification_service.py"


def load() -> ModuleType:
    spec = importlib.util.spec_from_file_location("notification_service", SOURCE)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


notification_service = load()


@pytest.fixture(scope="module")
def base_url() -> Iterator[str]:
    server = notification_service.make_server("127.0.0.1", 0)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


def call(url: str, body: Any = None) -> tuple[int, dict[str, Any]]:
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(url, data=data, headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def test_health(base_url: str) -> None:
    status, body = call(f"{base_url}/health")
    assert status == 200
    assert body["status"] == "ok"
    assert body["service"] == "notification-service"


def test_notification_accepted(base_url: str) -> None:
    status, body = call(
        f"{base_url}/notifications",
        {"channel": "email", "recipient": "alice@example.com", "message": "Your order shipped."},
    )
    assert status == 202
    assert body["status"] == "accepted" and body["id"]


@pytest.mark.parametrize(
    "notification",
    [
        {"channel": "pigeon", "recipient": "alice", "message": "hi"},
        {"channel": "sms", "recipient": "", "message": "hi"},
        {"channel": "sms", "recipient": "+15550100"},
        ["not", "an", "object"],
    ],
    ids=["channel", "blank-recipient", "no-message", "not-an-object"],
)
def test_invalid_notifications_refused(base_url: str, notification: Any) -> None:
    status, body = call(f"{base_url}/notifications", notification)
    assert status == 400
    assert body["error"]


def send(method: str, url: str, body: Any = None) -> tuple[int, dict[str, Any]]:
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(url, data=data, method=method)
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def test_the_fault_switch_is_off_unless_enabled(base_url: str) -> None:
    assert send("PUT", f"{base_url}/fault/health", {"status": 503})[0] == 404
    assert send("GET", f"{base_url}/health")[0] == 200


def test_the_fault_switch_fails_health_until_cleared(
    base_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(notification_service, "FAULTS_ENABLED", True)
    assert send("PUT", f"{base_url}/fault/health", {"status": 99})[0] == 400
    assert send("PUT", f"{base_url}/fault/health", {"status": 503}) == (200, {"health_status": 503})
    status, body = send("GET", f"{base_url}/health")
    assert (status, body["status"], body["service"]) == (503, "failing", "notification-service")
    assert send("DELETE", f"{base_url}/fault/health")[0] == 200
    assert send("GET", f"{base_url}/health")[0] == 200
