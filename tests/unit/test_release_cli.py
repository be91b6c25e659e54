"""`deployer release`: bad input is refused before anything is started or asked of AWS."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from deployer import cli
from deployer.errors import EXIT_USAGE

ROOT = Path(__file__).resolve().parents[2]


def test_a_missing_source_is_refused_before_the_emulator_starts(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = cli.main(["--json", "release", "--source", str(project / "nowhere")])
    assert code == EXIT_USAGE
    document = json.loads(capsys.readouterr().out)
    assert document["error"] == f"--source {project / 'nowhere'}: no such folder"
    assert not (project / ".deployer" / "emulator.json").exists()


def test_release_help_has_an_example(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as info:
        cli.main(["release", "--help"])
    assert info.value.code == 0
    out = capsys.readouterr().out
    assert "example:" in out and "deployer release --source examples/monorepo" in out
