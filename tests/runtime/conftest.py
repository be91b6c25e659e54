"""Fixtures of the runtime tests: the Docker engine, the offline base, an emulator with
its runtime (ECR's registry on 127.0.0.1:80 and its names in /etc/hosts).

One registry can hold the port and the names at a time, and the suite runs on several
workers: :func:`registry_emulator` takes a machine-wide lock for the length of one test,
so the runtime tests of all workers take turns (each starts its own emulator, about
2 s). Without an engine the tests fail, saying how to get one; they never skip.
"""

from __future__ import annotations

import base64
import fcntl
import json
import os
import shutil
import subprocess
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.config import Config

from deployer.emulator import Emulator, EmulatorStatus

ROOT = Path(__file__).resolve().parents[2]
BASE = "deployer-base/python-runtime:bookworm"
GET_ENGINE = (
    "run bin/docker-engine (as root on Debian it installs docker.io and starts dockerd), "
    "or start Docker yourself"
)
#: Held while a test owns the registry's port and names (one at a time per machine).
RUNTIME_LOCK = Path(tempfile.gettempdir()) / "deployer-runtime-tests.lock"


def docker(
    *args: str, timeout: float = 120, env: dict[str, str] | None = None, stdin: str | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["docker", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
        env=env,
        input=stdin,
    )


@pytest.fixture(scope="session")
def engine() -> str:
    """The engine's server version; a failure that says how to get one when none answers."""
    if shutil.which("docker") is None:
        pytest.fail(f"no docker client on PATH: {GET_ENGINE}")
    info = docker("info", "--format", "{{.ServerVersion}}", timeout=30)
    if info.returncode != 0 or not info.stdout.strip():
        pytest.fail(f"no Docker engine answers ({info.stderr.strip()[:300]}): {GET_ENGINE}")
    return info.stdout.strip()


@pytest.fixture(scope="session")
def python_base(engine: str) -> str:
    """The offline Python base, built (or found built, or imported from the cache)."""
    built = subprocess.run(
        [str(ROOT / "bin" / "base-images")],
        capture_output=True,
        text=True,
        timeout=1200,
        check=False,
    )
    assert built.returncode == 0, f"bin/base-images failed:\n{built.stderr[-3000:]}"
    return BASE


@dataclass
class Local:
    """An emulator with its runtime, and a private Docker client configuration."""

    status: EmulatorStatus
    state_dir: Path
    docker_env: dict[str, str]

    def client(self, service: str, account: str, region: str = "us-east-1") -> Any:
        """A client acting in ``account`` (credentials of a role session there)."""
        sts = boto3.client(
            "sts", endpoint_url=self.status.endpoint, region_name=region,
            aws_access_key_id="test", aws_secret_access_key="test",
        )  # fmt: skip
        creds = sts.assume_role(
            RoleArn=f"arn:aws:iam::{account}:role/runtime-test", RoleSessionName="runtime-test"
        )["Credentials"]
        return boto3.client(
            service, endpoint_url=self.status.endpoint, region_name=region,
            aws_access_key_id=creds["AccessKeyId"],
            aws_secret_access_key=creds["SecretAccessKey"],
            aws_session_token=creds["SessionToken"],
            config=Config(retries={"max_attempts": 1}),
        )  # fmt: skip

    def login(self, account: str, host: str, region: str = "us-east-1") -> None:
        """``aws ecr get-login-password | docker login`` as ``account``, for ``host``."""
        data = self.client("ecr", account, region).get_authorization_token()
        token = data["authorizationData"][0]["authorizationToken"]
        user, _, password = base64.b64decode(token).decode().partition(":")
        done = self.docker("login", "--username", user, "--password-stdin", host, stdin=password)
        assert done.returncode == 0, done.stderr

    def wait_until_resolved(self, host: str, timeout: float = 15.0) -> None:
        """Wait until the Docker engine resolves ``host``: its resolver re-reads the
        hosts file at most every 5 s (runtime.py), and a test moves faster than that."""
        deadline = time.monotonic() + timeout
        while True:
            probe = self.docker("pull", f"{host}/resolver-probe:none")
            if "no such host" not in probe.stderr:
                return
            assert time.monotonic() < deadline, f"the engine does not resolve {host}"
            time.sleep(0.5)

    def docker(self, *args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
        return docker(*args, env=self.docker_env, stdin=stdin, timeout=600)


@pytest.fixture
def registry_emulator(
    engine: str, tmp_path: Path, request: pytest.FixtureRequest
) -> Iterator[Local]:
    """A fresh emulator with its runtime, this test's alone for its length; at the time
    scale of the test's ``time_scale`` mark when it has one (real time otherwise).

    A test whose project has registry names of its own (other account IDs, another
    company: ``registry_names(NAME)``) takes a lock of its own, and runs beside the
    others: its registry takes the next loopback address, its names their own hosts
    block, its images their own tags."""
    mark = request.node.get_closest_marker("time_scale")
    names = request.node.get_closest_marker("registry_names")
    lock_path = RUNTIME_LOCK
    if names is not None:
        lock_path = RUNTIME_LOCK.with_name(f"deployer-runtime-tests-{names.args[0]}.lock")
    with open(lock_path, "a+") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        emulator = Emulator(tmp_path / "state")
        try:
            status = emulator.start(runtime=True, time_scale=mark.args[0] if mark else None)
            runtime = status.runtime or {}
            assert runtime.get("registry"), f"the registry is down: {runtime.get('registry_down')}"
            config = tmp_path / "docker-config"
            config.mkdir()
            env = {**os.environ, "DOCKER_CONFIG": str(config)}
            yield Local(status, tmp_path / "state", env)
        finally:
            emulator.stop()


def wait_until(
    what: str,
    probe: Callable[[], Any],
    timeout: float,
    every: float = 2.0,
    show: Callable[[], Any] | None = None,
) -> Any:
    """``probe()``'s first truthy answer; fails with the last one (or ``show()``) after
    ``timeout`` s."""
    deadline = time.monotonic() + timeout
    last: Any = None
    while time.monotonic() < deadline:
        try:
            last = probe()
        except (OSError, ValueError) as exc:
            last = exc
        else:
            if last:
                return last
        time.sleep(every)
    if show is not None:
        last = show()
    raise AssertionError(f"{what}: not within {timeout:.0f} s (last: {last!r})")


def get(url: str) -> tuple[int, dict[str, Any]]:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        text = error.read() or b"{}"
        try:
            return error.code, json.loads(text)
        except ValueError:  # the load balancer's own page (502, 503)
            return error.code, {"page": text.decode(errors="replace")}
