"""`deployer tf-config`: plain Terraform plans exactly what `deployer plan` plans.

On the session's emulator: `deployer plan dev` saves its plan; `deployer tf-config dev`
writes the backend, variables and env.sh; the README's commands then run as a user (or a
CI job) would, in a shell; both plans, read with `terraform show -json`, must hold the
same resource changes, values included.
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path
from typing import Any

import pytest

from deployer import cli
from deployer.emulator import EmulatorStatus
from deployer.toolchain import Toolchain

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]
ENV, REGION = "dev", "us-east-1"


def _changes(plan: dict[str, Any]) -> list[tuple[str, list[str], Any]]:
    return sorted(
        (rc["address"], rc["change"]["actions"], rc["change"]["after"])
        for rc in plan["resource_changes"]
    )


def test_plain_terraform_plans_what_the_deployer_plans(
    emulator: EmulatorStatus,  # started (and stopped) by the session, found by the CLI
    emulator_state_dir: Path,
    toolchain: Toolchain,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("DEPLOYER_STATE_DIR", str(emulator_state_dir))
    monkeypatch.setenv("DEPLOYER_PROJECT_DIR", str(ROOT))
    monkeypatch.chdir(ROOT)

    # The deployer's plan, from its own workspace data directory.
    assert cli.main(["plan", ENV, "--region", REGION, "--json"]) == 0
    (planned,) = json.loads(capsys.readouterr().out)["regions"]
    assert planned["status"] == "planned" and planned["changes"]["add"] > 100
    data_dir = emulator_state_dir / "terraform" / "runtime" / f"{ENV}-{REGION}"
    plan_file = data_dir / f"apply-{os.getpid()}.tfplan"
    shown = subprocess.run(
        [str(toolchain.binary), f"-chdir={ROOT / 'environments/stacks/runtime'}", "show",
         "-json", str(plan_file)],
        env={**os.environ, **toolchain.environ(), "TF_DATA_DIR": str(data_dir)},
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    deployer_plan = json.loads(shown.stdout)

    # Plain Terraform, as the README shows it.
    out = tmp_path / "tf"
    assert cli.main(["tf-config", ENV, "--region", REGION, "--dir", str(out), "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["commands"][0] == f". {out / 'env.sh'}"
    env_sh = (out / "env.sh").read_text()
    assert f"export TF_WORKSPACE={ENV}-{REGION}\n" in env_sh
    script = "\n".join(
        [
            "set -euo pipefail",
            *doc["commands"][:2],
            doc["commands"][2] + f" -input=false -out={out / 'plain.tfplan'}",
            f"terraform -chdir=environments/stacks/runtime show -json {out / 'plain.tfplan'}"
            f" > {out / 'plain.json'}",
        ]
    )
    path = f"{toolchain.binary.parent}:{os.environ['PATH']}"
    result = subprocess.run(
        ["bash", "-c", script],
        cwd=ROOT,
        env={"PATH": path, "HOME": str(tmp_path)},
        capture_output=True,
        text=True,
        check=False,
        timeout=600,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    plain_plan = json.loads((out / "plain.json").read_text())

    assert _changes(plain_plan) == _changes(deployer_plan)
    assert plain_plan["variables"] == deployer_plan["variables"]
    # The source tree is untouched: Terraform's data went to DIR/.terraform.
    assert not (ROOT / "environments" / "stacks" / "runtime" / ".terraform").exists()
