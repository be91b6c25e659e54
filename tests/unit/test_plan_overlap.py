"""A warm `deployer plan` starts Terraform without waiting for the state store.

The state bucket's check (boto3 imported, the delivery role assumed, HeadBucket)
and the in-flight marker's check run in the background while Terraform plans;
apply waits for them first. When the check had to create the bucket (a fresh
emulator under a warm data directory), the plan initialises again and runs once
more. Through the CLI with the fake Terraform of test_policy.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import pytest

from deployer import cli, state
from deployer.errors import EXIT_OK, TerraformError
from deployer.project import load_project
from deployer.terraform import Terraform
from deployer.workspaces import Workspace
from tests.unit.fake_terraform import read_records
from tests.unit.test_policy import cli_project, fake_terraform  # noqa: F401


def _warm() -> None:
    """`deployer plan dev` once, then what a real `init` leaves: the backend's record."""
    assert cli.main(["plan", "dev"]) == EXIT_OK
    data_dir = Workspace("runtime", "dev", "us-east-1").data_dir(load_project())
    (data_dir / "terraform.tfstate").write_text("{}")


def _subcommands(record: Path) -> list[str]:
    return [next(a for a in c["argv"] if not a.startswith("-")) for c in read_records(record)]


def test_a_warm_plan_starts_terraform_while_the_state_check_runs(
    tmp_path: Path,
    project: Path,
    fake_terraform: Path,  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    _warm()  # initialised, the bucket there
    real = state.ensure_bucket
    finished: list[float] = []

    def slow_check(*args: Any, **kwargs: Any) -> bool:
        time.sleep(1.5)
        created = real(*args, **kwargs)
        finished.append(time.time())
        return created

    real_plan = Terraform.plan
    planned: list[float] = []

    def plan(self: Terraform, *args: Any, **kwargs: Any) -> bool:
        changes = real_plan(self, *args, **kwargs)
        planned.append(time.time())
        return changes

    monkeypatch.setattr(state, "ensure_bucket", slow_check)
    monkeypatch.setattr(Terraform, "plan", plan)
    capsys.readouterr()
    assert cli.main(["plan", "dev", "--json"]) == EXIT_OK
    (run,) = json.loads(capsys.readouterr().out)["regions"]
    assert run["status"] == "planned"
    # Terraform's plan ran, and ended, before the state check was done.
    assert len(planned) == 1 and len(finished) == 1
    assert planned[0] < finished[0]


def test_apply_waits_for_the_state_check_before_terraform(
    project: Path,
    fake_terraform: Path,  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    calls: list[str] = []
    real = state.ensure_bucket

    def check(*args: Any, **kwargs: Any) -> bool:
        time.sleep(0.5)
        calls.append("state")
        return real(*args, **kwargs)

    real_plan = Terraform.plan

    def plan(self: Terraform, *args: Any, **kwargs: Any) -> bool:
        calls.append("plan")
        return real_plan(self, *args, **kwargs)

    monkeypatch.setattr(state, "ensure_bucket", check)
    monkeypatch.setattr(Terraform, "plan", plan)
    monkeypatch.setenv("FAKE_TF_PLAN_STDOUT", "")
    monkeypatch.setenv("FAKE_TF_PLAN_EXIT", "0")
    assert cli.main(["apply", "dev", "--auto-approve"]) == EXIT_OK
    assert calls[:2] == ["state", "plan"]


def test_a_plan_whose_state_bucket_was_just_created_initialises_again(
    project: Path,
    fake_terraform: Path,  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    _warm()
    before = len(read_records(fake_terraform))
    # The emulator lost the bucket (restarted): the check creates it, and the first
    # plan on the stale initialisation fails.
    monkeypatch.setattr(state, "ensure_bucket", lambda *a, **k: True)
    real_plan = Terraform.plan
    attempts: list[int] = []

    def plan(self: Terraform, *args: Any, **kwargs: Any) -> bool:
        attempts.append(1)
        if len(attempts) == 1:
            raise TerraformError(
                ["terraform", "plan"], 1, stderr_tail="Error: S3 bucket does not exist"
            )
        return real_plan(self, *args, **kwargs)

    monkeypatch.setattr(Terraform, "plan", plan)
    capsys.readouterr()
    assert cli.main(["plan", "dev", "--json"]) == EXIT_OK
    (run,) = json.loads(capsys.readouterr().out)["regions"]
    assert run["status"] == "planned"
    assert len(attempts) == 2
    # Initialised again before the second plan (the first never reached Terraform).
    calls = _subcommands(fake_terraform)[before:]
    assert calls.count("plan") == 1 and calls[-1] == "plan"
    assert "init" in calls
