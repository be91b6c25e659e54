"""deployer/emulator/docker_api.py: the log stream's frames, --since, which socket; and,
where a Docker engine answers, the two reads against what the CLI prints."""

from __future__ import annotations

import shutil
import struct
import subprocess
import uuid

import pytest

from deployer.emulator import docker_api
from deployer.emulator.docker_api import Engine, demultiplex, since_argument
from deployer.emulator.runtime import docker_nanos


def frame(stream: int, text: str) -> bytes:
    payload = text.encode()
    return struct.pack(">BxxxL", stream, len(payload)) + payload


def test_frames_of_both_streams_are_joined_in_order() -> None:
    body = frame(1, "2026-12-02T04:00:00.1Z out\n") + frame(2, "2026-12-02T04:00:00.2Z err\n")
    assert demultiplex(body) == "2026-12-02T04:00:00.1Z out\n2026-12-02T04:00:00.2Z err\n"
    assert demultiplex(b"") == ""
    assert demultiplex(b"2026-12-02T04:00:00Z a tty's raw line\n").endswith("raw line\n")


def test_since_is_seconds_and_nanoseconds() -> None:
    assert since_argument("0") == "0"
    assert since_argument("2026-12-02T04:00:00.000000005Z") == "1796184000.000000005"


def test_only_a_local_socket_is_used(monkeypatch: pytest.MonkeyPatch, tmp_path: object) -> None:
    monkeypatch.setenv("DOCKER_HOST", "tcp://127.0.0.1:2375")
    assert Engine.local() is None
    monkeypatch.setenv("DOCKER_HOST", "unix:///nowhere/docker.sock")
    assert Engine.local() is None  # no such socket
    monkeypatch.delenv("DOCKER_HOST")
    monkeypatch.setenv("DOCKER_CONTEXT", "remote")
    assert Engine.local() is None


def test_the_api_reads_what_the_cli_prints() -> None:
    engine = Engine.local()
    if engine is None or shutil.which("docker") is None:
        pytest.skip("no local Docker engine")
    images = subprocess.run(["docker", "images", "--format", "{{.Repository}}:{{.Tag}}"],
                            capture_output=True, text=True, check=False).stdout.split()  # fmt: skip
    base = next((i for i in images if i.startswith("deployer-base/")), None)
    if base is None:
        pytest.skip("no offline base image (bin/base-images)")
    label = f"io.deployer.test-docker-api={uuid.uuid4().hex}"
    ran = subprocess.run(
        ["docker", "run", "--detach", "--label", label, base, "sh", "-c",
         "echo one; echo two >&2; echo three"],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    ident = ran.stdout.strip()
    try:
        subprocess.run(["docker", "wait", ident], capture_output=True, check=True)
        (listed,) = engine.containers([label])
        assert listed["Id"] == ident and listed["State"] == "exited"
        assert listed["Status"].startswith("Exited (0)")
        cli = subprocess.run(["docker", "logs", "--timestamps", ident],
                             capture_output=True, text=True, check=True)  # fmt: skip
        api = engine.logs(ident, "0").splitlines()
        assert sorted(api) == sorted((cli.stdout + cli.stderr).splitlines())
        assert {line.split(" ", 1)[1] for line in api} == {"one", "two", "three"}
        last = max(api, key=lambda line: docker_nanos(line.split(" ", 1)[0])).split(" ", 1)[0]
        later = engine.logs(ident, since_argument(last)).splitlines()
        assert later and set(later) <= set(api)  # --since is inclusive, as the CLI's
        with pytest.raises(docker_api.EngineError):
            engine.logs("no-such-container", "0")
    finally:
        subprocess.run(["docker", "rm", "--force", ident], capture_output=True, check=False)
