"""Fixtures of the unit tests that need AWS in-process (moto) or the sample configuration."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from moto import mock_aws

from deployer.aws import AWS, ClientFactory, Target
from deployer.config import Config
from deployer.config import load as load_config

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch) -> Iterator[ClientFactory]:
    """AWS in this process (moto), reached as the aws target, with no ambient settings."""
    for key in ("AWS_PROFILE", "AWS_ENDPOINT_URL"):
        monkeypatch.delenv(key, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    with mock_aws():
        yield ClientFactory(Target(AWS))


@pytest.fixture
def cfg() -> Config:
    """The project's sample configuration (environments/)."""
    return load_config(ROOT)


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A copy of the sample configuration (environments/, no stacks) as the project, with a
    private state folder (tests whose project differs define their own ``project``)."""
    shutil.copytree(
        ROOT / "environments", tmp_path / "environments", ignore=shutil.ignore_patterns("stacks")
    )
    monkeypatch.setenv("DEPLOYER_PROJECT_DIR", str(tmp_path))
    monkeypatch.setenv("DEPLOYER_STATE_DIR", str(tmp_path / ".deployer"))
    return tmp_path
