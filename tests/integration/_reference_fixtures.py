"""Stand-ins for the session fixtures of tests/integration/conftest.py.

``tests/integration/test_reference.py`` imports these only while that
conftest does not exist yet; same names and meaning: ``emulator`` (a fresh
patched emulator in a temporary state directory, stopped after the session),
``tf_env`` (environment for terraform processes) and ``terraform_binary``.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PLUGIN_MIRROR = os.environ.get("TF_PLUGIN_MIRROR", "/opt/tf-plugins")


@dataclass
class RunningEmulator:
    endpoint: str
    port: int
    process: subprocess.Popen[str]


@pytest.fixture(scope="session")
def emulator(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningEmulator]:
    state = tmp_path_factory.mktemp("emulator-state")
    process = subprocess.Popen(
        [sys.executable, "-m", "deployer.emulator.serve", "--port", "0"],
        cwd=state,
        stdout=subprocess.PIPE,
        stderr=(state / "emulator.log").open("w"),
        text=True,
        start_new_session=True,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    assert process.stdout is not None
    line = process.stdout.readline()
    if not line:
        process.wait(10)
        pytest.fail(f"emulator did not start: {(state / 'emulator.log').read_text()}")
    port = int(json.loads(line)["port"])
    try:
        yield RunningEmulator(f"http://127.0.0.1:{port}", port, process)
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(10)


@pytest.fixture(scope="session")
def terraform_binary() -> str:
    binary = shutil.which("terraform")
    if binary is None:
        pytest.skip("terraform is not installed")
    return binary


@pytest.fixture(scope="session")
def tf_env(emulator: RunningEmulator, tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    home = tmp_path_factory.mktemp("terraform-cli")
    cache = Path(os.environ.get("TF_PLUGIN_CACHE_DIR") or home / "plugin-cache")
    cache.mkdir(parents=True, exist_ok=True)
    cli_config = home / "cli.tfrc"
    cli_config.write_text(
        "provider_installation {\n"
        f'  filesystem_mirror {{\n    path    = "{PLUGIN_MIRROR}"\n'
        '    include = ["registry.terraform.io/hashicorp/*"]\n  }\n'
        '  direct {\n    exclude = ["registry.terraform.io/hashicorp/*"]\n  }\n}\n'
        f'plugin_cache_dir = "{cache}"\n'
    )
    return {
        "TF_CLI_CONFIG_FILE": str(cli_config),
        "TF_IN_AUTOMATION": "1",
        "CHECKPOINT_DISABLE": "1",
        "AWS_ENDPOINT_URL": emulator.endpoint,
        "AWS_ACCESS_KEY_ID": "test",
        "AWS_SECRET_ACCESS_KEY": "test",
        "AWS_REGION": "us-east-1",
    }
