"""The command line: help, exit codes, and one JSON document on stdout with --json."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from deployer import cli
from deployer.cli import stack
from deployer.cli.common import Context
from deployer.errors import EXIT_USAGE

ROOT = Path(__file__).resolve().parents[2]
COMMANDS = ["validate", "plan", "apply", "destroy", "output", "emulator"]


@pytest.mark.parametrize("command", COMMANDS)
def test_every_command_has_help_with_an_example(
    command: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as info:
        cli.main([command, "--help"])
    assert info.value.code == 0
    out = capsys.readouterr().out
    assert "example:" in out
    assert f"deployer {command}" in out


def test_top_level_help_lists_exit_codes(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        cli.main(["--help"])
    out = capsys.readouterr().out
    assert "3 plan has changes" in out and "4 some regions failed" in out
    assert "DEPLOYER_PROVIDER_MIRROR" in out


def test_validate_ok(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["validate", "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["valid"] is True
    assert {e["name"] for e in doc["environments"]} == {"delivery", "dev", "staging", "prod"}


def test_invalid_config_exits_2_before_anything_runs(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = project / "environments" / "staging.yaml"
    path.write_text(path.read_text().replace("cpu: 256", "cpu: 300"))
    code = cli.main(["apply", "staging", "--json"])
    captured = capsys.readouterr()
    assert code == EXIT_USAGE
    doc = json.loads(captured.out)  # exactly one JSON document, even on error
    assert doc["ok"] is False and doc["exit_code"] == 2
    assert "environments/staging.yaml: sizing.cpu: 300 is not one of" in captured.err
    # Nothing was started: no emulator record, no terraform data.
    assert not (project / ".deployer" / "emulator.json").exists()
    assert not (project / ".deployer" / "terraform").exists()


def test_unknown_environment_exits_2(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["plan", "qa"]) == EXIT_USAGE
    assert "unknown environment 'qa'" in capsys.readouterr().err


def test_global_options_work_after_the_command(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli.main(["validate", "staging", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["environments"][0]["name"] == "staging"


def test_bad_target_variable_is_a_usage_error(
    project: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("DEPLOYER_TARGET", "azure")
    assert cli.main(["plan", "staging"]) == EXIT_USAGE
    assert "DEPLOYER_TARGET='azure' is not one of local, aws" in capsys.readouterr().err


def test_outside_a_project_is_a_clear_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("DEPLOYER_PROJECT_DIR", raising=False)
    monkeypatch.chdir(tmp_path)
    assert cli.main(["validate"]) == EXIT_USAGE
    assert "no environments/project.yaml in" in capsys.readouterr().err


def test_internal_errors_hide_tracebacks_without_debug(
    project: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    def boom(ctx: Context) -> int:
        raise RuntimeError("kaboom")

    monkeypatch.setattr(stack, "cmd_validate", boom)
    assert cli.main(["validate"]) == 1
    err = capsys.readouterr().err
    assert "internal error: RuntimeError: kaboom (re-run with --debug" in err
    assert "Traceback" not in err
    assert cli.main(["validate", "--debug"]) == 1
    assert "Traceback" in capsys.readouterr().err
