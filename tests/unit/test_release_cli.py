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


@pytest.mark.parametrize(
    ("layout", "error"),
    [
        ({}, "no files to commit (an empty folder, or git ignores all)"),
        ({"app.py": "print(1)\n"}, "no services/ folder"),
    ],
)
def test_an_empty_source_or_one_without_services_is_refused_before_anything_starts(
    project: Path, capsys: pytest.CaptureFixture[str], layout: dict[str, str], error: str
) -> None:
    source = project / "tree"
    source.mkdir()
    for name, text in layout.items():
        (source / name).write_text(text)
    code = cli.main(["--json", "release", "--source", str(source), "--wait"])
    assert code == EXIT_USAGE
    document = json.loads(capsys.readouterr().out)
    assert document["error"].startswith(f"--source {source}: {error}")
    assert not (project / ".deployer" / "emulator.json").exists()


def test_release_defaults_to_the_projects_monorepo(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = cli.main(["--json", "release"])  # the copied project has no examples/monorepo
    assert code == EXIT_USAGE
    document = json.loads(capsys.readouterr().out)
    assert document["error"] == f"--source {project / 'examples' / 'monorepo'}: no such folder"


@pytest.mark.parametrize(
    ("argv", "shown"),
    [
        (
            ["release"],
            ["deployer release --wait", "--wait", "default examples/monorepo of the project"],
        ),
        (["pipeline"], ["deployer pipeline status --execution", "DEPLOYMENT_ID"]),
        (["approve"], ['deployer approve --comment "checked staging"', "--wait", "exit 2"]),
        (["reject"], ['deployer reject --comment "staging shows the old prices"', "--comment"]),
    ],
)
def test_pipeline_commands_help_answers_with_examples(
    capsys: pytest.CaptureFixture[str], argv: list[str], shown: list[str]
) -> None:
    with pytest.raises(SystemExit) as info:
        cli.main([*argv, "--help"])
    assert info.value.code == 0
    out = capsys.readouterr().out
    assert "example:" in out
    for text in shown:
        assert text in out, text
