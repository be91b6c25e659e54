"""`deployer emulator start | stop | status`: a real emulator process, loopback only."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import urllib.request
from pathlib import Path

import pytest

from deployer.emulator import Emulator
from deployer.emulator.process import pid_alive

ROOT = Path(__file__).resolve().parents[2]


def deployer(state_dir: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "DEPLOYER_STATE_DIR": str(state_dir), "DEPLOYER_PROJECT_DIR": str(ROOT)}
    return subprocess.run(
        [sys.executable, "-m", "deployer", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )


def test_start_status_stop_through_the_cli(tmp_path: Path) -> None:
    state = tmp_path / "state"
    before = deployer(state, "emulator", "status", "--json")
    assert before.returncode == 0
    assert json.loads(before.stdout)["running"] is False

    started = deployer(state, "emulator", "start")
    assert started.returncode == 0, started.stderr
    status = deployer(state, "emulator", "status", "--json")
    doc = json.loads(status.stdout)  # stdout is exactly one JSON document
    try:
        assert doc["running"] is True
        assert doc["endpoint"] == f"http://127.0.0.1:{doc['port']}"
        assert isinstance(doc["pid"], int) and pid_alive(doc["pid"])
        assert doc["moto_version"] == "5.2.5"
        # The record lives in the project-local state folder.
        assert json.loads((state / "emulator.json").read_text())["pid"] == doc["pid"]
        with urllib.request.urlopen(f"{doc['endpoint']}/moto-api/", timeout=5) as resp:
            assert resp.status == 200
        # A second start is a no-op: same process.
        again = deployer(state, "emulator", "start")
        assert again.returncode == 0
        assert (
            json.loads(deployer(state, "emulator", "status", "--json").stdout)["pid"] == doc["pid"]
        )
    finally:
        stopped = deployer(state, "emulator", "stop")
    assert stopped.returncode == 0
    assert not pid_alive(doc["pid"]), "stop left the emulator process running"
    assert json.loads(deployer(state, "emulator", "status", "--json").stdout)["running"] is False
    assert not (state / "emulator.json").exists()


def test_emulator_listens_on_loopback_only(tmp_path: Path) -> None:
    emu = Emulator(tmp_path)
    status = emu.start()
    try:
        assert status.port is not None
        # Reachable on 127.0.0.1 ...
        with socket.create_connection(("127.0.0.1", status.port), timeout=2):
            pass
        # ... and bound to it, not to all interfaces.
        listening = Path("/proc/net/tcp").read_text().splitlines()[1:]
        local = {line.split()[1] for line in listening if line.split()[3] == "0A"}
        assert f"0100007F:{status.port:04X}" in local
        assert f"00000000:{status.port:04X}" not in local
    finally:
        emu.stop()


def test_launcher_refuses_a_non_loopback_host() -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "deployer.emulator.serve", "--host", "0.0.0.0", "--port", "0"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert proc.returncode == 2
    assert "loopback only" in proc.stderr


def test_stale_record_is_not_reported_as_running(tmp_path: Path) -> None:
    emu = Emulator(tmp_path)
    tmp_path.mkdir(exist_ok=True)
    # A record left by a crashed session: the pid is gone (or reused by something else).
    (tmp_path / "emulator.json").write_text(
        json.dumps(
            {"running": True, "endpoint": "http://127.0.0.1:1", "pid": os.getpid(), "port": 1}
        )
    )
    assert emu.status().running is False
    status = emu.start()
    try:
        assert status.running and status.pid != os.getpid()
    finally:
        emu.stop()


def test_killed_emulator_is_replaced_on_next_start(tmp_path: Path) -> None:
    emu = Emulator(tmp_path)
    first = emu.start()
    assert first.pid is not None
    os.kill(first.pid, 9)
    os.waitpid(first.pid, 0)
    assert emu.status().running is False
    second = emu.start()
    try:
        assert second.running and second.pid != first.pid
    finally:
        emu.stop()


@pytest.mark.parametrize("action", ["start", "stop", "status"])
def test_emulator_help_answers(action: str, tmp_path: Path) -> None:
    result = deployer(tmp_path, "emulator", "--help")
    assert result.returncode == 0
    assert action in result.stdout
    assert "example:" in result.stdout


def test_the_readiness_probe_needs_a_200_on_moto_api() -> None:
    """`_answers` speaks plain HTTP/1.0 on a socket: 200 on /moto-api/ is up, anything
    else (another status, a closed port, not HTTP) is not."""
    import http.server
    import threading

    from deployer.emulator.process import _answers

    class Handler(http.server.BaseHTTPRequestHandler):
        status = 200

        def do_GET(self) -> None:
            code = self.status if self.path == "/moto-api/" else 404
            self.send_response(code)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    endpoint = f"http://127.0.0.1:{server.server_address[1]}"
    try:
        assert _answers(endpoint) is True
        Handler.status = 500
        assert _answers(endpoint) is False
    finally:
        server.shutdown()
        server.server_close()
    assert _answers(endpoint, timeout=0.5) is False  # nothing listens any more
    with socket.socket() as quiet:  # listens, never answers: the timeout decides
        quiet.bind(("127.0.0.1", 0))
        quiet.listen()
        assert _answers(f"http://127.0.0.1:{quiet.getsockname()[1]}", timeout=0.3) is False
    assert _answers("https://127.0.0.1:1") is False and _answers("not a url") is False
