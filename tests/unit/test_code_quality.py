"""House style in CI: ruff (lint and format), mypy --strict and vulture on the deployer."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent


def run(*argv: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(argv, cwd=ROOT, capture_output=True, text=True, timeout=600, check=False)


def test_ruff_lint_is_clean() -> None:
    result = run(
        str(BIN / "ruff"),
        "check",
        "--output-format",
        "concise",
        "deployer",
        "tests",
        "bench",
        "functions",
        "examples",
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_ruff_format_is_clean() -> None:
    result = run(
        str(BIN / "ruff"),
        "format",
        "--check",
        "deployer",
        "tests",
        "bench",
        "functions",
        "examples",
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_mypy_strict_is_clean() -> None:
    result = run(str(BIN / "mypy"))
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr


def test_vulture_finds_no_dead_code() -> None:
    """Paths, confidence and the names vulture cannot see used are in pyproject.toml."""
    result = run(str(BIN / "vulture"))
    assert result.returncode == 0, result.stdout + result.stderr


def test_clients_are_made_only_by_the_factory() -> None:
    """ruff's banned-api rule (TID251) holds: a boto3.client call in the deployer is an error
    (checked as if the code were a deployer module, without writing one)."""
    result = subprocess.run(
        [str(BIN / "ruff"), "check", "--output-format", "concise",
         "--stdin-filename", "deployer/probe.py", "-"],
        input='import boto3\n\nS3 = boto3.client("s3")\n',
        cwd=ROOT, capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert result.returncode != 0
    assert "TID251" in result.stdout and "use a Scope" in result.stdout
