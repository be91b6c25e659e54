"""House style in CI: ruff (lint and format) and mypy --strict on the deployer."""

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
