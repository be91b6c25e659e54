"""Both ways of running the deployer agree: the console script and bin/deployer.

`pip install` puts a `deployer` console script on PATH (here .venv/bin/deployer);
the checkout has bin/deployer. Both must find the machine's provider mirror by
themselves (no DEPLOYER_PROVIDER_MIRROR), and take turns on one workspace
without breaking it: before the deployer found the mirror itself, only
bin/deployer did, and a console-script run after it failed at `terraform init`.
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

from deployer.toolchain import MIRROR_ENV
from tests.e2e.conftest import ROOT

pytestmark = pytest.mark.e2e

CONSOLE_SCRIPT = ROOT / ".venv" / "bin" / "deployer"
BIN_DEPLOYER = ROOT / "bin" / "deployer"


def test_console_script_and_bin_deployer_take_turns_on_one_workspace(tmp_path: Path) -> None:
    assert CONSOLE_SCRIPT.is_file(), "the project's .venv has no deployer console script"
    env = {
        **os.environ,
        "DEPLOYER_STATE_DIR": str(tmp_path / "state"),
        "DEPLOYER_PROJECT_DIR": str(ROOT),
    }
    env.pop(MIRROR_ENV, None)
    env.pop("DEPLOYER_TARGET", None)
    # Not the venv's bin first on PATH: the console script must stand alone.
    env["PATH"] = os.pathsep.join(
        p for p in env.get("PATH", "").split(os.pathsep) if not p.startswith(str(ROOT / ".venv"))
    )

    def plan(entry: Path) -> dict[str, object]:
        proc = subprocess.run(
            [str(entry), "plan", "staging", "--json", "-v"],
            capture_output=True,
            text=True,
            env=env,
            cwd=tmp_path,
            timeout=900,
            check=False,
        )
        assert proc.returncode == 0, f"{entry} plan staging failed:\n{proc.stderr[-3000:]}"
        assert "providers from the registry" not in proc.stderr
        doc: dict[str, object] = json.loads(proc.stdout)
        return doc

    try:
        first = plan(CONSOLE_SCRIPT)
        second = plan(BIN_DEPLOYER)
        third = plan(CONSOLE_SCRIPT)
        for doc in (first, second, third):
            (region,) = doc["regions"]  # type: ignore[misc]
            assert region["status"] == "planned"
            assert region["changes"]["add"] > 100
        cache = json.loads((tmp_path / "state" / "terraform" / "provider-mirror.json").read_text())
        assert cache["path"] and Path(cache["path"]).is_dir()
    finally:
        subprocess.run(
            [str(CONSOLE_SCRIPT), "emulator", "stop"],
            env=env,
            capture_output=True,
            timeout=60,
            check=False,
        )
