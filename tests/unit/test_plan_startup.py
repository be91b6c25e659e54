"""What a warm `deployer plan` does before Terraform starts, and what it leaves out.

- The init stamp holds by the sources' stat (no source file read) and by their
  content when only their times changed; a changed source runs `init` again.
  Sources changed within RACY_SECONDS leave a stamp with the content digest only.
- The state store's preparation (botocore, the delivery role, HeadBucket) starts once
  Terraform's plan process runs, not while the deployer prepares its files; apply
  starts it before its own work (delivery stack, bootstrap images). Its thread runs
  at a lower CPU priority (Linux).
- The configuration's YAML is parsed by libyaml; its errors read as PyYAML's.
- Importing the CLI does not import what a plan does not need (boto3, jinja2, the
  modules of other commands).

Through the CLI with the fake Terraform of test_policy, on the session emulator.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import pytest
import yaml

from deployer import cli, config, orchestrator, state
from deployer.errors import EXIT_OK
from deployer.project import load_project
from deployer.workspaces import Workspace
from tests.unit.fake_terraform import read_records
from tests.unit.test_policy import cli_project, fake_terraform  # noqa: F401

ROOT = Path(__file__).resolve().parents[2]


def _data_dir() -> Path:
    return Workspace("runtime", "dev", "us-east-1").data_dir(load_project())


def _warm() -> None:
    """`deployer plan dev` once (it runs init), then what a real `init` leaves."""
    assert cli.main(["plan", "dev"]) == EXIT_OK
    (_data_dir() / "terraform.tfstate").write_text("{}")


def _inits(record: Path) -> int:
    calls = [c["argv"] for c in read_records(record)]
    return len([argv for argv in calls if isinstance(argv, list) and "init" in argv])


def _plan_dev() -> None:
    assert cli.main(["plan", "dev"]) == EXIT_OK


@pytest.fixture
def not_racy(monkeypatch: pytest.MonkeyPatch) -> None:
    """The copied project's files are seconds old: take their stat as settled."""
    monkeypatch.setattr(orchestrator, "RACY_SECONDS", 0)


def test_a_warm_plan_reads_no_source_to_know_init_is_not_needed(
    project: Path,
    fake_terraform: Path,  # noqa: F811
    not_racy: None,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    _warm()
    _plan_dev()  # the stamp's signature is brought up to date
    inits = _inits(fake_terraform)
    read: list[Path] = []
    real = Path.read_bytes

    def read_bytes(self: Path) -> bytes:
        if str(self).endswith(".tf"):
            read.append(self)
        return real(self)

    monkeypatch.setattr(Path, "read_bytes", read_bytes)
    _plan_dev()
    assert _inits(fake_terraform) == inits
    assert read == []


def test_a_changed_module_runs_init_again_and_a_touched_one_does_not(
    project: Path,
    fake_terraform: Path,  # noqa: F811
    not_racy: None,
) -> None:
    _warm()
    _plan_dev()
    inits = _inits(fake_terraform)
    source = project / "environments" / "stacks" / "runtime" / "main.tf"
    text = source.read_text()

    # Only its times change: the content digest still holds, no init.
    later = time.time() + 5
    os.utime(source, (later, later))
    _plan_dev()
    assert _inits(fake_terraform) == inits
    stamp = (_data_dir() / orchestrator.INIT_STAMP).read_text().splitlines()
    assert len(stamp) == 2 and stamp[1]  # signature rewritten for the new times

    # Same size, other content: init again.
    source.write_text(text.replace("=", "=", 1)[:-1] + ("\n" if text[-1] != "\n" else " "))
    assert source.stat().st_size == len(text.encode())
    _plan_dev()
    assert _inits(fake_terraform) == inits + 1


def test_sources_changed_just_now_leave_a_stamp_of_their_content_only(
    project: Path,
    fake_terraform: Path,  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(orchestrator, "RACY_SECONDS", 10**6)  # every file is "just changed"
    _warm()
    (_data_dir() / orchestrator.INIT_STAMP).unlink()
    _plan_dev()  # init again, stamp written
    digest, *rest = (_data_dir() / orchestrator.INIT_STAMP).read_text().splitlines()
    assert len(digest) == 64 and rest in ([], [""])
    inits = _inits(fake_terraform)
    _plan_dev()  # held by content
    assert _inits(fake_terraform) == inits


def test_the_state_check_starts_once_terraform_runs(
    project: Path,
    fake_terraform: Path,  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    _warm()
    events: list[str] = []
    real_check, real_popen = state.ensure_bucket, subprocess.Popen

    def check(*args: Any, **kwargs: Any) -> bool:
        events.append("state check")
        return real_check(*args, **kwargs)

    def popen(argv: list[str], *args: Any, **kwargs: Any) -> subprocess.Popen[str]:
        events.append(next(a for a in argv[1:] if not a.startswith("-")))
        return real_popen(argv, *args, **kwargs)

    monkeypatch.setattr(state, "ensure_bucket", check)
    monkeypatch.setattr(subprocess, "Popen", popen)
    _plan_dev()
    assert events[-2:] == ["plan", "state check"]


#: Modules a plan never needs, which importing the CLI must not import.
NOT_AT_START = (
    "boto3",
    "botocore",
    "jinja2",
    "matplotlib",
    "deployer.report",
    "deployer.ci_github",
    "deployer.drift",
    "deployer.endpoints",
    "deployer.params",
    "deployer.recovery",
    "deployer.emulator.controls",
)


def test_importing_the_cli_leaves_out_what_a_plan_does_not_need() -> None:
    code = "import sys, json, deployer.cli; print(json.dumps(sorted(sys.modules)))"
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT
    ).stdout
    loaded = set(json.loads(out))
    assert "deployer.orchestrator" in loaded  # the plan path itself is there
    assert sorted(loaded.intersection(NOT_AT_START)) == []


def test_configuration_errors_read_as_pyyaml_gives_them(monkeypatch: pytest.MonkeyPatch) -> None:
    """Valid YAML is parsed by libyaml (PyYAML's parser never runs); what libyaml
    refuses is parsed again by PyYAML, whose message (with its excerpt) is the one shown."""
    pure = yaml.safe_load
    text = "regions:\n  - name: us-east-1\n    cidr: 10.0.0.0/16\n"
    calls: list[str] = []

    def safe_load(source: str) -> Any:
        calls.append(source)
        return pure(source)

    monkeypatch.setattr(yaml, "safe_load", safe_load)
    assert config._parse_yaml(text) == pure(text)
    assert calls == []
    bad = "a: 1\n b: 2\n"
    with pytest.raises(yaml.YAMLError) as expected:
        pure(bad)
    with pytest.raises(yaml.YAMLError) as got:
        config._parse_yaml(bad)
    assert str(got.value) == str(expected.value)
    assert "^" in str(got.value)  # PyYAML's excerpt, which libyaml's message lacks


def test_apply_starts_the_state_check_before_its_own_work(
    project: Path,
    fake_terraform: Path,  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """apply has work before Terraform (the delivery stack first, bootstrap images on
    the local target): the state check runs meanwhile, not after it."""
    from deployer.cli import images as images_cli

    _warm()
    checking = threading.Event()
    real_check, real_first = state.ensure_bucket, images_cli.delivery_first
    seen: list[bool] = []

    def check(*args: Any, **kwargs: Any) -> bool:
        checking.set()
        return real_check(*args, **kwargs)

    def delivery_first(*args: Any, **kwargs: Any) -> list[str]:
        seen.append(checking.wait(5))
        return real_first(*args, **kwargs)

    monkeypatch.setattr(state, "ensure_bucket", check)
    monkeypatch.setattr(images_cli, "delivery_first", delivery_first)
    monkeypatch.setenv("FAKE_TF_PLAN_EXIT", "0")  # nothing to apply
    assert cli.main(["apply", "dev", "--auto-approve"]) == EXIT_OK
    assert seen == [True]


@pytest.mark.skipif(sys.platform != "linux", reason="a thread's own nice value is Linux's")
def test_the_state_check_runs_at_a_lower_cpu_priority(
    project: Path,
    fake_terraform: Path,  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The checks take the CPU Terraform leaves idle: their thread is niced, the rest not."""
    _warm()
    real = state.ensure_bucket
    niceness: list[int] = []

    def check(*args: Any, **kwargs: Any) -> bool:
        niceness.append(os.getpriority(os.PRIO_PROCESS, threading.get_native_id()))
        return real(*args, **kwargs)

    monkeypatch.setattr(state, "ensure_bucket", check)
    mine = os.getpriority(os.PRIO_PROCESS, threading.get_native_id())
    _plan_dev()
    assert niceness == [min(19, mine + orchestrator.BACKGROUND_NICENESS)]
    assert os.getpriority(os.PRIO_PROCESS, threading.get_native_id()) == mine
