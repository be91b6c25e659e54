"""The runtime's states without an engine or a writable hosts file: down, with the reason."""

from __future__ import annotations

from pathlib import Path

import pytest

from deployer.emulator import hosts, runtime


def test_a_stopped_engine_is_down_with_dockers_own_message(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("DOCKER_HOST", f"unix://{tmp_path}/no-engine.sock")
    state = runtime.engine_state()
    assert state["up"] is False
    assert "Cannot connect to the Docker daemon" in state["reason"], state
    described = runtime.describe({"owner": "/x", "pid": 0, "registry": {"up": True}})
    assert described["docker"]["up"] is False and described["containers"] == []


def test_no_client_is_down_saying_where_to_get_one(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(runtime.shutil, "which", lambda _name: None)
    assert runtime.engine_state() == {
        "up": False,
        "reason": "no docker client on PATH (bin/docker-engine installs one)",
    }
    assert runtime.describe(None)["enabled"] is False


@pytest.mark.parametrize(
    ("address", "message"),
    [
        ("10.0.0.1:80", "must be a loopback address"),
        ("127.0.0.1", "must be HOST:PORT"),
    ],
)
def test_the_registry_address_is_loopback_only(address: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        runtime.parse_address(address)


def test_an_unwritable_hosts_file_takes_the_registry_down(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv(hosts.HOSTS_ENV, str(tmp_path / "no-folder" / "hosts"))
    local = runtime.Runtime(tmp_path / "state", address="127.0.0.1:0")
    local.start()
    try:
        assert local.registry_down is None  # nothing to clean up in a missing file
        local._on_repository("111111111111", "us-east-1")
        assert local.registry_down is not None and "cannot write" in local.registry_down
        assert local.status()["registry"]["up"] is False
    finally:
        local.stop()
    assert not (tmp_path / "state" / "registry").exists()
