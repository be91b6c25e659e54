"""Safety follows an environment's role, never its name.

The sample configuration, copied with `prod` renamed to `live` everywhere, must
be exactly as safe as the original: the destroy gate refuses a log group
replacement and the apply asks first, as for `prod`. The deployer runs through
its command line on the local emulator, with a fake Terraform whose plan
replaces a log group, so only the deployer's own decisions are under test.
"""

from __future__ import annotations

import io
import json
import shutil
from pathlib import Path
from typing import Any

import pytest
import yaml

from deployer import cli
from deployer.config import APPROVAL_NONE, APPROVAL_REQUIRED, load
from deployer.emulator import EmulatorStatus
from deployer.errors import EXIT_FAILURE, EXIT_OK, EXIT_USAGE
from tests.unit.fake_terraform import read_records, write_fake_terraform

ROOT = Path(__file__).resolve().parents[2]
LOG_GROUP = 'module.service["api-service"].aws_cloudwatch_log_group.this'


def copy_project(dest: Path, rename: dict[str, str] | None = None) -> Path:
    """The sample project (configuration, stacks, the guard's source), environments renamed."""
    shutil.copytree(
        ROOT / "environments", dest / "environments", ignore=shutil.ignore_patterns(".terraform")
    )
    shutil.copytree(
        ROOT / "functions", dest / "functions", ignore=shutil.ignore_patterns("dist", "__pycache__")
    )
    for old, new in (rename or {}).items():
        (dest / "environments" / f"{old}.yaml").rename(dest / "environments" / f"{new}.yaml")
        project = dest / "environments" / "project.yaml"
        doc = yaml.safe_load(project.read_text())
        for key, value in doc.get("pipeline", {}).items():
            if value == old:
                doc["pipeline"][key] = new
        if doc.get("delivery_environment") == old:
            doc["delivery_environment"] = new
        project.write_text(yaml.safe_dump(doc, sort_keys=False))
    return dest


def test_renaming_prod_keeps_its_policy(tmp_path: Path) -> None:
    original = load(ROOT)
    renamed = load(copy_project(tmp_path, {"prod": "live"}))
    prod, live = original.environment("prod"), renamed.environment("live")
    assert (live.protected, live.approval) == (prod.protected, prod.approval)
    assert (live.protected, live.approval) == (True, APPROVAL_REQUIRED)
    assert live.approval_required(on_aws=False) and live.approval_required(on_aws=True)


def test_policy_defaults_follow_the_pipeline_and_the_delivery_environment() -> None:
    cfg = load(ROOT)
    protected = {name for name, env in cfg.environments.items() if env.protected}
    assert protected == {"delivery", cfg.pipeline.staging, cfg.pipeline.production}
    dev = cfg.environment("dev")
    # Unset: asks on AWS only.
    assert dev.approval is None
    assert not dev.approval_required(on_aws=False)
    assert dev.approval_required(on_aws=True)


def test_an_environment_can_set_its_own_policy(tmp_path: Path) -> None:
    root = copy_project(tmp_path)
    dev = root / "environments" / "dev.yaml"
    dev.write_text(dev.read_text() + "protected: true\napproval: required\n")
    staging = root / "environments" / "staging.yaml"
    staging.write_text(staging.read_text() + f"protected: false\napproval: {APPROVAL_NONE}\n")
    cfg = load(root)
    assert cfg.environment("dev").protected is True
    assert cfg.environment("dev").approval_required(on_aws=False)
    assert cfg.environment("staging").protected is False
    assert not cfg.environment("staging").approval_required(on_aws=True)


# ---------------------------------------------------------------------------
# Through the command line
# ---------------------------------------------------------------------------
def _plan_stream(*changes: tuple[str, str, str]) -> str:
    """What `terraform plan -json` streams: planned changes, then the summary."""
    lines: list[dict[str, Any]] = []
    counts = {"add": 0, "change": 0, "remove": 0}
    for address, kind, action in changes:
        lines.append(
            {
                "type": "planned_change",
                "change": {"action": action, "resource": {"addr": address, "resource_type": kind}},
            }
        )
        counts["add"] += action in ("create", "replace")
        counts["remove"] += action in ("delete", "replace")
        counts["change"] += action == "update"
    lines.append({"type": "change_summary", "changes": {**counts, "operation": "plan"}})
    return "".join(json.dumps(line) + "\n" for line in lines)


class _Terminal(io.StringIO):
    """A stdin that is a terminal, answering the confirmation prompt."""

    def isatty(self) -> bool:
        return True


@pytest.fixture
def fake_terraform(
    tmp_path: Path,
    emulator: EmulatorStatus,
    emulator_state_dir: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> Path:
    """A Terraform whose every plan replaces a log group; the CLI on the session's emulator."""
    bindir = tmp_path / "bin"
    bindir.mkdir()
    fake = write_fake_terraform(bindir)
    record = tmp_path / "terraform-calls.jsonl"
    monkeypatch.setenv("DEPLOYER_TERRAFORM", str(fake))
    monkeypatch.setenv("FAKE_TF_RECORD", str(record))
    monkeypatch.setenv(
        "FAKE_TF_PLAN_STDOUT", _plan_stream((LOG_GROUP, "aws_cloudwatch_log_group", "replace"))
    )
    monkeypatch.setenv("FAKE_TF_PLAN_EXIT", "2")  # -detailed-exitcode: changes
    monkeypatch.setenv("FAKE_TF_OUTPUT_STDOUT", "{}")
    # A state folder of its own holding the session emulator's record: the CLI finds the
    # running emulator, and the fake's workspace data folders stay out of the session's
    # (a real `terraform init` of test_tf_config once read what a fake run left there).
    state = tmp_path / "state"
    state.mkdir()
    shutil.copy(emulator_state_dir / "emulator.json", state / "emulator.json")
    monkeypatch.setenv("DEPLOYER_STATE_DIR", str(state))
    monkeypatch.setattr("sys.stdin", io.StringIO(""))  # no terminal
    return record


@pytest.fixture(name="project")
def cli_project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A copy of the sample project, the one the CLI works on (import it with
    fake_terraform: tests of the CLI on the session emulator)."""
    root = copy_project(tmp_path / "project")
    monkeypatch.setenv("DEPLOYER_PROJECT_DIR", str(root))
    return root


def _applied(record: Path) -> list[list[str]]:
    calls = [c["argv"] for c in read_records(record)] if record.exists() else []
    return [a for a in calls if isinstance(a, list) and "apply" in a]


@pytest.mark.parametrize(
    ("rename", "env_name"), [(None, "prod"), ({"prod": "live"}, "live")], ids=["prod", "live"]
)
def test_the_gate_and_the_prompt_hold_whatever_the_name(
    rename: dict[str, str] | None,
    env_name: str,
    tmp_path: Path,
    fake_terraform: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    root = copy_project(tmp_path / "project", rename)
    monkeypatch.setenv("DEPLOYER_PROJECT_DIR", str(root))

    # The gate: a replaced log group is refused, nothing applied.
    assert cli.main(["apply", env_name, "--region", "us-east-1", "--json"]) == EXIT_FAILURE
    doc = json.loads(capsys.readouterr().out)
    assert "refusing to apply" in doc["error"] and LOG_GROUP in doc["error"]
    assert f"--allow-destroy {LOG_GROUP}" in doc["hint"]
    assert _applied(fake_terraform) == []

    # Allowed past the gate, the apply still asks; without a terminal it cannot.
    args = ["apply", env_name, "--region", "us-east-1", "--allow-destroy", LOG_GROUP, "--json"]
    assert cli.main(args) == EXIT_USAGE
    doc = json.loads(capsys.readouterr().out)
    assert "needs approval, and there is no terminal" in doc["error"]
    assert _applied(fake_terraform) == []

    # With a terminal, the question is asked; anything but "yes" applies nothing.
    monkeypatch.setattr("sys.stdin", _Terminal("no\n"))
    assert cli.main(args) == EXIT_FAILURE
    captured = capsys.readouterr()
    assert f"Apply to {env_name} (" in captured.err
    assert "cancelled: nothing was applied" in json.loads(captured.out)["error"]
    assert _applied(fake_terraform) == []


def test_an_unprotected_environment_applies_without_asking(
    tmp_path: Path,
    fake_terraform: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """The control: the same plan in dev (not protected, no approval locally) is applied."""
    root = copy_project(tmp_path / "project")
    monkeypatch.setenv("DEPLOYER_PROJECT_DIR", str(root))
    assert cli.main(["apply", "dev", "--json"]) == EXIT_OK
    doc = json.loads(capsys.readouterr().out)
    assert [r["status"] for r in doc["regions"]] == ["applied"]
    assert len(_applied(fake_terraform)) == 1
