"""End-to-end: the `deployer` command itself, as a user runs it, on a private state folder."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]


def account_client(endpoint: str, account: str, service: str, session: str = "e2e-check") -> Any:
    """A boto3 client of the emulator at ``endpoint`` acting in ``account`` (us-east-1),
    through the account's OrganizationAccountAccessRole, as the deployer reaches it."""
    import boto3

    from deployer.emulator import TEST_CREDENTIALS

    base = {
        "endpoint_url": endpoint,
        "region_name": "us-east-1",
        "aws_access_key_id": TEST_CREDENTIALS["AWS_ACCESS_KEY_ID"],
        "aws_secret_access_key": TEST_CREDENTIALS["AWS_SECRET_ACCESS_KEY"],
    }
    creds = boto3.client("sts", **base).assume_role(  # type: ignore[call-overload]
        RoleArn=f"arn:aws:iam::{account}:role/OrganizationAccountAccessRole",
        RoleSessionName=session,
    )["Credentials"]
    return boto3.client(  # type: ignore[call-overload]
        service,
        **{
            **base,
            "aws_access_key_id": creds["AccessKeyId"],
            "aws_secret_access_key": creds["SecretAccessKey"],
            "aws_session_token": creds["SessionToken"],
        },
    )


@dataclass
class Run:
    returncode: int
    stdout: str
    stderr: str

    def json(self) -> Any:
        return json.loads(self.stdout)


class DeployerCLI:
    def __init__(self, state_dir: Path) -> None:
        self.state_dir = state_dir
        self.env = {
            **os.environ,
            "DEPLOYER_STATE_DIR": str(state_dir),
            "DEPLOYER_PROJECT_DIR": str(ROOT),
        }
        self.env.pop("DEPLOYER_TARGET", None)

    def __call__(self, *args: str, timeout: float = 900, stdin: str | None = None) -> Run:
        proc = subprocess.run(
            [sys.executable, "-m", "deployer", *args],
            capture_output=True,
            text=True,
            env=self.env,
            timeout=timeout,
            input=stdin,
            check=False,
            cwd=ROOT,
        )
        return Run(proc.returncode, proc.stdout, proc.stderr)


def project_with(into: Path, services: tuple[str, ...]) -> Path:
    """A copy of the project whose monorepo has only ``services`` (project.yaml's
    microservices, and each environment's parameters and secrets of the others dropped):
    for tests of the deployer's own mechanics, on fewer resources a workspace."""
    import shutil

    import yaml

    environments = into / "environments"
    shutil.copytree(
        ROOT / "environments", environments, ignore=shutil.ignore_patterns(".terraform")
    )
    for path in environments.glob("*.yaml"):
        document = yaml.safe_load(path.read_text())
        if path.name == "project.yaml":
            kept = [m for m in document["microservices"] if m["name"] in services]
            assert [m["name"] for m in kept] == list(services), kept
            document["microservices"] = kept
        for section in ("parameters", "secrets"):
            values = document.get(section) or {}
            for name in [n for n in values if n != "shared" and n not in services]:
                del values[name]
            if section in document and not values:
                del document[section]
        path.write_text(yaml.safe_dump(document, sort_keys=False))
    for name in ("modules", "functions", "examples", "bin", "deployer", "images"):
        (into / name).symlink_to(ROOT / name)
    shutil.copy(ROOT / "pyproject.toml", into / "pyproject.toml")
    return into


@pytest.fixture(scope="module")
def cli(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DeployerCLI]:
    """A deployer with its own state folder; its emulator is stopped afterwards."""
    runner = DeployerCLI(tmp_path_factory.mktemp("e2e-state"))
    try:
        yield runner
    finally:
        runner("emulator", "stop", timeout=60)
