"""Unit tests of api-service: the server runs on a free port in a thread."""

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

SOURCE = Path(__file__).resolve().parents[1] / "api_service.py"


def load() -> ModuleType:
    spec = importlib.util.spec_from_file_location("api_service", SOURCE)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


api_service = load()


@pytest.fixture(scope="module")
def base_url() -> Iterator[str]:
    server = api_service.make_server("127.0.0.1", 0)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


def get(url: str) -> tuple[int, dict[str, Any]]:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def test_health(base_url: str) -> None:
    status, body = get(f"{base_url}/health")
    assert status == 200
    assert body["status"] == "ok"
    assert body["service"] == "api-service"


def test_items(base_url: str) -> None:
    status, body = get(f"{base_url}/items")
    assert status == 200
    assert [item["id"] for item in body["items"]] == ["1", "2", "3"]

    status, body = get(f"{base_url}/items/2")
    assert status == 200
    assert body["name"] == "tea pot"


def test_unknown_paths_are_404(base_url: str) -> None:
    assert get(f"{base_url}/items/99")[0] == 404
    assert get(f"{base_url}/nothing")[0] == 404


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
    monkeypatch.setattr(api_service, "FAULTS_ENABLED", True)
    assert send("PUT", f"{base_url}/fault/health", {"status": 99})[0] == 400
    assert send("PUT", f"{base_url}/fault/health", {"status": 503}) == (200, {"health_status": 503})
    status, body = send("GET", f"{base_url}/health")
    assert (status, body["status"], body["service"]) == (503, "failing", "api-service")
    assert send("DELETE", f"{base_url}/fault/health")[0] == 200
    assert send("GET", f"{base_url}/health")[0] == 200


def test_a_release_can_start_with_the_fault_switch_on(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FAULT_INJECTION", "enabled")
    monkeypatch.setenv("FAULT_HEALTH_STATUS", "503")
    broken = load()
    assert broken.HEALTH_FAULT == {"status": 503}
    monkeypatch.delenv("FAULT_INJECTION")
    assert load().HEALTH_FAULT == {}  # only where faults are enabled
