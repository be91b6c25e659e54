"""Emulator servers for the fidelity patch tests.

One stock moto server (``--no-patches``) and one with every patch are shared by
the whole session; each patch test asserts AWS's behaviour on the patched one
and the gap on the stock one, so a moto upgrade that closes a gap shows up as
a failing "stock" assertion (the patch is then obsolete).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.config import Config

ROOT = Path(__file__).resolve().parents[3]
REGION = "us-east-1"
ACCOUNT = "123456789012"


@dataclass
class Server:
    endpoint: str
    patches: list[str]
    process: subprocess.Popen[str]

    def client(self, service: str) -> Any:
        return boto3.client(
            service,
            endpoint_url=self.endpoint,
            region_name=REGION,
            aws_access_key_id="test",
            aws_secret_access_key="test",
            config=Config(retries={"max_attempts": 1, "mode": "standard"}),
        )

    def raw_json(self, signing_name: str, target: str, body: dict[str, Any]) -> Any:
        """A JSON 1.1 call as the Go SDK sends it; returns the undecoded JSON.

        boto3 parses timestamps whatever their encoding; this shows the wire
        type (number or string). moto routes on the credential scope of the
        Authorization header and does not check the signature.
        """
        request = urllib.request.Request(
            self.endpoint + "/",
            data=json.dumps(body).encode(),
            method="POST",
            headers={
                "Content-Type": "application/x-amz-json-1.1",
                "X-Amz-Target": target,
                "Authorization": (
                    f"AWS4-HMAC-SHA256 Credential=test/20250101/{REGION}/{signing_name}/"
                    "aws4_request, SignedHeaders=host, Signature=0"
                ),
            },
        )
        with urllib.request.urlopen(request, timeout=30) as response:
            return json.loads(response.read())


def start_server(tmp: Path, *args: str) -> Server:
    process = subprocess.Popen(
        [sys.executable, "-m", "deployer.emulator.serve", "--port", "0", *args],
        cwd=tmp,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        start_new_session=True,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    assert process.stdout is not None
    line = process.stdout.readline()
    if not line:
        process.wait(10)
        raise RuntimeError(f"emulator {args} did not start (exit {process.returncode})")
    announced = json.loads(line)
    return Server(f"http://127.0.0.1:{announced['port']}", announced["patches"], process)


def stop_server(server: Server) -> None:
    if server.process.poll() is None:
        server.process.send_signal(signal.SIGTERM)
        try:
            server.process.wait(10)
        except subprocess.TimeoutExpired:
            server.process.kill()
            server.process.wait(10)


@pytest.fixture(scope="session")
def server_factory(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Callable[..., Server]]:
    started: list[Server] = []

    def factory(*args: str) -> Server:
        server = start_server(tmp_path_factory.mktemp("emulator"), *args)
        started.append(server)
        return server

    yield factory
    for server in started:
        stop_server(server)


@pytest.fixture(scope="session")
def stock(server_factory: Callable[..., Server]) -> Server:
    """moto 5.2.5 as released."""
    server = server_factory("--no-patches")
    assert server.patches == []
    return server


@pytest.fixture(scope="session")
def patched(server_factory: Callable[..., Server]) -> Server:
    """moto 5.2.5 with every fidelity patch."""
    return server_factory()
