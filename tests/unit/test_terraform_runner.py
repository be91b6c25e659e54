"""The Terraform runner, against a fake terraform binary that records argv and env."""

from __future__ import annotations

import contextlib
import json
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from deployer import toolchain
from deployer.errors import TerraformError
from deployer.terraform import Terraform
from tests.unit.fake_terraform import read_records, write_fake_terraform


@pytest.fixture
def setup(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Terraform, Path]:
    monkeypatch.delenv(toolchain.MIRROR_ENV, raising=False)
    monkeypatch.delenv(toolchain.BINARY_ENV, raising=False)
    fake = write_fake_terraform(tmp_path)
    tc = toolchain.prepare(tmp_path / "state", tmp_path, configured_binary=str(fake))
    record = tmp_path / "record.jsonl"
    stack = tmp_path / "stack"
    stack.mkdir()
    env = {"PATH": "/usr/bin:/bin", "FAKE_TF_RECORD": str(record), "TF_WORKSPACE": "leak"}
    tf = Terraform(tc, stack, tmp_path / "data" / "staging-us-east-1", env, workspace="ws")
    return tf, record


def test_every_process_gets_its_own_data_dir_and_the_deployer_cli_config(
    setup: tuple[Terraform, Path],
) -> None:
    tf, record = setup
    tf.run(["validate"])
    (call,) = read_records(record)
    env = call["env"]
    assert isinstance(env, dict)
    assert env["TF_DATA_DIR"] == str(tf.data_dir)
    assert env["TF_CLI_CONFIG_FILE"] == str(tf.toolchain.cli_config)
    assert env["TF_IN_AUTOMATION"] == "1"
    # An inherited TF_WORKSPACE would silently switch workspaces: never passed on.
    assert "TF_WORKSPACE" not in env
    assert call["argv"] == [f"-chdir={tf.stack_dir}", "validate"]


def test_plan_argv_uses_saved_plan_and_detailed_exitcode(
    setup: tuple[Terraform, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    tf, record = setup
    tf.env["FAKE_TF_EXIT"] = "2"
    has_changes = tf.plan(var_file=Path("/v.json"), out=Path("/p.tfplan"))
    assert has_changes is True
    argv = read_records(record)[0]["argv"]
    assert argv == [
        f"-chdir={tf.stack_dir}",
        "plan",
        "-input=false",
        "-json",
        "-detailed-exitcode",
        "-var-file=/v.json",
        "-out=/p.tfplan",
    ]
    tf.env["FAKE_TF_EXIT"] = "0"
    assert tf.plan(var_file=Path("/v.json"), out=Path("/p.tfplan")) is False


def test_apply_applies_the_plan_file_only(setup: tuple[Terraform, Path]) -> None:
    tf, record = setup
    tf.apply(Path("/p.tfplan"))
    argv = read_records(record)[0]["argv"]
    assert argv[1:] == [
        "apply", "-input=false", "-json", "-auto-approve", "-lock-timeout=120s", "/p.tfplan",
    ]  # fmt: skip
    assert not any(a.startswith("-var") for a in argv)


def test_init_passes_backend_config_and_holds_the_cache_lock(
    setup: tuple[Terraform, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    tf, record = setup
    events: list[str] = []

    @contextlib.contextmanager
    def spy_lock(self: toolchain.Toolchain) -> Iterator[None]:
        events.append("locked")
        yield
        events.append("unlocked")

    monkeypatch.setattr(toolchain.Toolchain, "init_lock", spy_lock)
    tf.init(Path("/b.tfbackend"))
    assert events == ["locked", "unlocked"]
    argv = read_records(record)[0]["argv"]
    assert "-backend-config=/b.tfbackend" in argv and "-reconfigure" in argv


def test_failure_carries_command_workspace_and_stderr_tail(setup: tuple[Terraform, Path]) -> None:
    tf, _ = setup
    tf.env["FAKE_TF_EXIT"] = "1"
    tf.env["FAKE_TF_STDERR"] = "\n".join(f"line {i}" for i in range(100)) + "\nError: boom\n"
    with pytest.raises(TerraformError) as info:
        tf.run(["apply", "x.tfplan"])
    err = info.value
    assert err.command == ["terraform", "apply", "x.tfplan"]
    assert err.workspace == "ws"
    assert "Error: boom" in err.stderr_tail
    assert "line 0\n" not in err.stderr_tail  # only the tail
    # The message names the command (the full argv is on the error, for --debug).
    assert "`terraform apply` in workspace ws failed with exit code 1" in str(err)


def test_json_diagnostics_become_the_error_tail(setup: tuple[Terraform, Path]) -> None:
    tf, _ = setup
    tf.env["FAKE_TF_EXIT"] = "1"
    diag = {
        "type": "diagnostic",
        "diagnostic": {
            "severity": "error",
            "summary": "creating S3 Bucket",
            "detail": "BucketAlreadyExists",
            "address": "aws_s3_bucket.a",
        },
    }
    tf.env["FAKE_TF_STDOUT"] = json.dumps(diag) + "\n"
    with pytest.raises(TerraformError) as info:
        tf.apply(Path("p"))
    assert "Error: creating S3 Bucket (aws_s3_bucket.a)" in info.value.stderr_tail
    assert "BucketAlreadyExists" in info.value.stderr_tail


def test_full_pipes_never_hang_the_run(setup: tuple[Terraform, Path]) -> None:
    tf, _ = setup
    tf.env["FAKE_TF_FLOOD"] = "2048"  # 2 MiB on each pipe, interleaved
    lines: list[str] = []
    done = threading.Event()
    result_holder: list[object] = []

    def go() -> None:
        result_holder.append(tf.run(["plan"], on_stderr=lines.append))
        done.set()

    thread = threading.Thread(target=go, daemon=True)
    thread.start()
    assert done.wait(60), "runner deadlocked on full pipes"
    assert len(lines) == 2048
    assert len(result_holder[0].stdout) == 2048 * 1024  # type: ignore[attr-defined]


def test_concurrent_workspaces_do_not_share_data_dirs(tmp_path: Path) -> None:
    """Two regions' Terraform processes run at the same time, each in its own data dir.

    The fake takes a second per run and notes, in the TF_DATA_DIR it was given, when it
    ran: the notes must overlap in time (the runs were concurrent) and each data dir must
    hold exactly its own process's note (no process was pointed at the other's).
    """
    fake = write_fake_terraform(tmp_path)
    tc = toolchain.prepare(tmp_path / "state", tmp_path, configured_binary=str(fake))
    shared = {"PATH": "/usr/bin:/bin", "FAKE_TF_SLEEP": "1"}
    runners = [
        Terraform(tc, tmp_path, tmp_path / "data" / name, shared, workspace=name)
        for name in ("prod-us-east-1", "prod-us-west-2")
    ]
    threads = [threading.Thread(target=r.run, args=(["plan"],)) for r in runners]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    notes = []
    for runner in runners:
        lines = (runner.data_dir / "ran.jsonl").read_text().splitlines()
        (note,) = [json.loads(line) for line in lines]
        assert note["data_dir"] == str(runner.data_dir)
        notes.append(note)
    first, second = notes
    assert first["pid"] != second["pid"]
    assert first["started"] < second["ended"] and second["started"] < first["ended"], (
        "the two workspaces' Terraform processes did not run at the same time"
    )
    assert "TF_DATA_DIR" not in shared, "a runner changed the environment it was given"


def test_deployer_tf_log_gives_each_process_its_own_log_file(
    setup: tuple[Terraform, Path],
) -> None:
    """TF_LOG alone would mix two regions' logs on stderr; DEPLOYER_TF_LOG keeps them apart."""
    tf, record = setup
    tf.run(["validate"])
    tf.env["DEPLOYER_TF_LOG"] = "debug"
    tf.run(["plan"])
    plain, logged = (call["env"] for call in read_records(record))
    assert isinstance(plain, dict) and isinstance(logged, dict)
    assert "TF_LOG" not in plain and "TF_LOG_PATH" not in plain
    assert logged["TF_LOG"] == "debug"
    assert logged["TF_LOG_PATH"] == str(tf.data_dir / "terraform-plan.log")


def test_a_lock_holder_is_described_one_way() -> None:
    """The error of a locked apply and `deployer unlock` describe the holder alike."""
    from deployer.errors import StateLocked, lock_holder

    lock = {
        "ID": "f00d",
        "Who": "bob@ci",
        "Created": "2026-11-30 10:00:00 UTC",
        "Operation": "OperationTypeApply",
    }
    error = StateLocked(["terraform", "apply"], 1, workspace="dev-us-east-1", lock=lock)
    assert error.message == (
        "workspace dev-us-east-1 is locked by bob@ci since 2026-11-30 10:00:00 UTC "
        "(apply, lock ID f00d)"
    )
    assert lock_holder(lock) == "bob@ci since 2026-11-30 10:00:00 UTC (apply)"
    assert lock_holder({}) == "someone since an unknown time (a run)"
