"""The emulator controls (/_deployer/...): not AWS APIs, and no part of AWS played.

They report on the emulator itself (its runtime); there is no AWS behaviour to
compare with: the tests show what a client (``deployer emulator status``, the
image and endpoint commands) relies on, and that stock moto has no such thing.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from deployer.emulator import ADDRESS_ENV, RUNTIME_ENV, controls
from deployer.emulator.hosts import HOSTS_ENV
from deployer.errors import EmulatorError

from .conftest import Server


def call(
    server: Server, path: str, *, method: str = "GET", data: bytes | None = None
) -> tuple[int, Any]:
    request = urllib.request.Request(server.endpoint + path, data=data, method=method)
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as exc:
        body = exc.read()
        try:
            return exc.code, json.loads(body)
        except ValueError:
            return exc.code, body


def test_controls_are_listed(patched: Server, stock: Server) -> None:
    code, document = call(patched, "/_deployer/")
    assert code == 200
    assert document["controls"] == [
        {"method": method, "path": f"/_deployer/{path}", "description": description}
        for (method, path), (_handler, description) in controls.CONTROLS.items()
    ]
    assert controls.names() == [
        "GET /_deployer/runtime",
        "GET /_deployer/ca",
        "GET /_deployer/regions",
        "POST /_deployer/regions/down",
        "POST /_deployer/regions/up",
    ]
    # The CA the emulator's ACM signs with, for clients to trust.
    code, ca = call(patched, "/_deployer/ca")
    assert code == 200 and ca["certificate"].startswith("-----BEGIN CERTIFICATE-----"), ca
    assert ca["path"].endswith("ca.pem")
    # No control needs a hook in moto's classes: none of the patches is one.
    assert all(not name.endswith("_control") for name in patched.patches)
    code, _ = call(stock, "/_deployer/")
    assert code == 404  # stock moto serves no controls


def test_an_unknown_control_or_method_is_404(patched: Server) -> None:
    code, document = call(patched, "/_deployer/no-such-control")
    assert code == 404
    assert document == {"error": "no control GET /_deployer/no-such-control"}
    # The runtime control is read with GET only.
    code, document = call(patched, "/_deployer/runtime", method="POST", data=b"{}")
    assert code == 404
    assert document == {"error": "no control POST /_deployer/runtime"}
    with pytest.raises(EmulatorError, match=r"HTTP 404.*no control POST /_deployer/runtime"):
        controls.post(patched.endpoint, "runtime", {})


def test_a_body_must_be_a_json_object(patched: Server) -> None:
    code, document = call(patched, "/_deployer/runtime", data=b"{not json", method="GET")
    assert code == 400
    assert document["error"].startswith("invalid JSON")
    code, document = call(patched, "/_deployer/runtime", data=b"[1]", method="GET")
    assert (code, document) == (400, {"error": "the body must be a JSON object"})


def test_runtime_control(
    server_factory: Callable[..., Server], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    # With a runtime: its status, from the emulator process that runs it. Its registry is
    # down at once (an address off loopback is refused before anything is bound), so the
    # test needs neither port 80 nor root; the hosts file is a scratch one.
    monkeypatch.setenv(RUNTIME_ENV, "1")
    monkeypatch.setenv(ADDRESS_ENV, "192.0.2.1:80")
    monkeypatch.setenv(HOSTS_ENV, str(tmp_path / "hosts"))
    with_runtime = server_factory()
    served = controls.post(with_runtime.endpoint, "runtime", None)["runtime"]
    assert served["pid"] == with_runtime.process.pid
    assert served["hosts_file"] == str(tmp_path / "hosts")
    assert served["registry"]["up"] is False
    assert served["registry"]["address"] == "192.0.2.1:80"
    assert "loopback" in served["registry"]["reason"]
    assert served["names"] == []

    # Without one: null, not an error.
    without = server_factory("--no-runtime")
    assert controls.post(without.endpoint, "runtime", None) == {"runtime": None}
