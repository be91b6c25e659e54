"""`deployer plan --all`: every workspace, one table, CI exit codes, a Markdown summary.

Through the command line on the session's emulator, with the fake Terraform of
test_policy (every plan replaces a log group), so the deployer's own fan-out, gate
verdicts and summary are under test.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from deployer import cli
from deployer.errors import EXIT_CHANGES, EXIT_OK
from deployer.orchestrator import default_parallelism
from tests.unit.fake_terraform import read_records
from tests.unit.test_policy import LOG_GROUP, cli_project, copy_project, fake_terraform  # noqa: F401

EVERY = [
    "delivery-us-east-1",
    "dev-us-east-1",
    "prod-us-east-1",
    "prod-us-west-2",
    "staging-us-east-1",
]


def _plans(record: Path) -> list[str]:
    """The workspace of each `terraform plan` the fake ran (from its data directory)."""
    if not record.exists():
        return []
    return sorted(
        Path(str(c["env"]["TF_DATA_DIR"])).name  # type: ignore[index]
        for c in read_records(record)
        if isinstance(c["argv"], list) and "plan" in c["argv"]
    )


def test_plan_all_plans_every_workspace_and_summarises_for_a_pr(
    tmp_path: Path,
    project: Path,
    fake_terraform: Path,  # noqa: F811
    capsys: pytest.CaptureFixture[str],
) -> None:
    md = tmp_path / "out" / "plan.md"
    args = ["plan", "--all", "--detailed-exitcode", "--summary-md", str(md), "--json"]
    assert cli.main(args) == EXIT_CHANGES
    doc = json.loads(capsys.readouterr().out)
    assert doc["selection"] == "all workspaces"
    assert [w["workspace"] for w in doc["regions"]] == EVERY
    assert {w["status"] for w in doc["regions"]} == {"planned"}
    assert _plans(fake_terraform) == EVERY
    gates = {w["workspace"]: w["gate"] for w in doc["regions"]}
    assert gates == {
        "delivery-us-east-1": "refuses 1",
        "dev-us-east-1": "not protected",
        "prod-us-east-1": "refuses 1",
        "prod-us-west-2": "refuses 1",
        "staging-us-east-1": "refuses 1",
    }

    text = md.read_text()
    assert text.startswith("<!-- deployer-plan -->\n## deployer plan: all workspaces")
    assert "| dev-us-east-1 | planned | 1 | 0 | 1 | 0 | not protected |" in text
    assert "| prod-us-west-2 | planned | 1 | 0 | 1 | 0 | refuses 1 |" in text
    # Replacements by address; the gate's refusals with what apply needs.
    assert f"Replaced (1):\n- `{LOG_GROUP}`" in text
    assert text.count("The gate refuses 1") == 4
    assert "5 workspace(s) planned, 5 with changes." in text


def test_plan_all_without_detailed_exitcode_exits_0_and_prints_one_table(
    tmp_path: Path,
    project: Path,
    fake_terraform: Path,  # noqa: F811
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert cli.main(["plan", "--all", "--region", "us-west-2"]) == EXIT_OK
    out = capsys.readouterr().out
    assert out.splitlines()[0].split() == ["workspace", "status", "changes", "error"]
    assert [line.split()[0] for line in out.splitlines()[2:]] == ["prod-us-west-2"]
    assert _plans(fake_terraform) == ["prod-us-west-2"]


def test_an_empty_selection_plans_nothing_and_says_so(
    tmp_path: Path,
    fake_terraform: Path,  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    import subprocess

    root = copy_project(tmp_path / "project")
    for args in (["init", "-q"], ["add", "-A"]):
        subprocess.run(["git", *args], cwd=root, check=True)
    subprocess.run(
        ["git", "-c", "user.name=t", "-c", "user.email=t@e.com", "commit", "-qm", "base"],
        cwd=root,
        check=True,
    )
    monkeypatch.setenv("DEPLOYER_PROJECT_DIR", str(root))
    md = tmp_path / "plan.md"
    code = cli.main(["plan", "--changed", "HEAD", "--summary-md", str(md), "--detailed-exitcode"])
    assert code == EXIT_OK
    assert "nothing to plan" in capsys.readouterr().out
    assert "No workspace to plan." in md.read_text()
    assert _plans(fake_terraform) == []


def test_default_parallelism_follows_cores_and_memory() -> None:
    assert default_parallelism(cores=2, available_gib=20) == 2
    assert default_parallelism(cores=16, available_gib=6.5) == 6
    assert default_parallelism(cores=8, available_gib=0.5) == 1
