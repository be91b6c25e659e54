"""Unit tests of auth-service: the server runs on a free port in a thread."""

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

SOURCE = Path(__file__).resolve().parents[1] / "auth_service.py"


def load() -> ModuleType:
    spec = importlib.util.spec_from_file_location("auth_service", SOURCE)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


auth_service = load()


@pytest.fixture(scope="module")
def base_url() -> Iterator[str]:
    server = auth_service.make_server("127.0.0.1", 0)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


def call(url: str, body: dict[str, Any] | None = None) -> tuple[int, dict[str, Any]]:
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
    assert body["service"] == "auth-service"


def test_token_round_trip(base_url: str) -> None:
    status, body = call(f"{base_url}/token", {"username": "alice"})
    assert status == 200
    assert body["expires_in"] == 3600

    status, verified = call(f"{base_url}/verify?token={body['token']}")
    assert status == 200
    assert verified == {"valid": True, "username": "alice"}


def test_tampered_or_expired_tokens_are_refused(base_url: str) -> None:
    token = auth_service.issue_token("alice")
    signature = token.partition(".")[2]
    forged = auth_service.issue_token("mallory").partition(".")[0] + "." + signature
    assert call(f"{base_url}/verify?token={forged}")[0] == 401
    assert auth_service.verify_token(token, now=10**12) is None


def test_token_needs_a_username(base_url: str) -> None:
    assert call(f"{base_url}/token", {"user": "alice"})[0] == 400


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
    monkeypatch.setattr(auth_service, "FAULTS_ENABLED", True)
    assert send("PUT", f"{base_url}/fault/health", {"status": 99})[0] == 400
    assert send("PUT", f"{base_url}/fault/health", {"status": 503}) == (200, {"health_status": 503})
    status, body = send("GET", f"{base_url}/health")
    assert (status, body["status"], body["service"]) == (503, "failing", "auth-service")
    assert send("DELETE", f"{base_url}/fault/health")[0] == 200
    assert send("GET", f"{base_url}/health")[0] == 200


def test_health_says_whether_the_signing_key_is_set_never_what_it_is(
    base_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert send("GET", f"{base_url}/health")[1]["signing_key"] == "default"
    monkeypatch.setenv("JWT_SIGNING_KEY", "s3cret-from-ssm")
    status, body = send("GET", f"{base_url}/health")
    assert (status, body["signing_key"]) == (200, "set")
    assert "s3cret" not in json.dumps(body)
    token = send("POST", f"{base_url}/token", {"username": "ada"})[1]["token"]
    monkeypatch.setenv("JWT_SIGNING_KEY", "another-key")
    assert send("GET", f"{base_url}/verify?token={token}")[0] == 401  # signed with the secret
