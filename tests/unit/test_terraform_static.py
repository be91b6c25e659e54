"""Terraform hygiene in the suite: fmt, validate, and every module's own tests.

Modules are copied (with their siblings) to a temporary folder, with the stacks' lock file
(`seed_lock_file`), before `init`, so no lock file or `.terraform` folder ever lands in the
source tree; the stacks are validated in
place (their lock files are committed) and must leave those files unchanged.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from deployer.toolchain import Toolchain
from tests.validation_mutants import seed_lock_file

pytestmark = pytest.mark.terraform

ROOT = Path(__file__).resolve().parents[2]
MODULES = sorted(p.parent for p in (ROOT / "modules").glob("*/versions.tf"))
STACKS = sorted(p.parent for p in (ROOT / "environments" / "stacks").glob("*/versions.tf"))


def tf(
    toolchain: Toolchain, cwd: Path, data_dir: Path, *args: str, timeout: float = 600
) -> subprocess.CompletedProcess[str]:
    env = {
        "PATH": "/usr/bin:/bin",
        "HOME": str(data_dir),
        "TF_DATA_DIR": str(data_dir),
        **toolchain.environ(),
    }
    return subprocess.run(
        [str(toolchain.binary), f"-chdir={cwd}", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=timeout,
        check=False,
    )


def test_every_module_and_stack_folder_is_checked() -> None:
    """The checks below run on folders holding versions.tf: a module or stack folder
    without one would silently escape validation and its tests."""
    folders = {p for p in (ROOT / "modules").iterdir() if p.is_dir()}
    assert folders == set(MODULES), f"not checked: {sorted(p.name for p in folders - set(MODULES))}"
    stacks = {p for p in (ROOT / "environments" / "stacks").iterdir() if p.is_dir()}
    assert stacks == set(STACKS) and {p.name for p in STACKS} == {"delivery", "runtime"}


def test_fmt_check(toolchain: Toolchain, tmp_path: Path) -> None:
    targets = ["modules", "environments", "tests/integration"]
    result = tf(toolchain, ROOT, tmp_path, "fmt", "-check", "-recursive", "-diff", *targets)
    assert result.returncode == 0, f"terraform fmt found unformatted files:\n{result.stdout}"


@pytest.mark.parametrize("stack", STACKS, ids=lambda p: p.name)
def test_stack_validates_with_its_committed_lock_file(
    stack: Path, toolchain: Toolchain, tmp_path: Path
) -> None:
    lock = stack / ".terraform.lock.hcl"
    assert lock.is_file(), f"{stack.name}: commit the .terraform.lock.hcl (the stacks pin exactly)"
    before = lock.read_text()
    init = tf(toolchain, stack, tmp_path, "init", "-backend=false", "-input=false", "-no-color",
              "-lockfile=readonly")  # fmt: skip
    assert init.returncode == 0, init.stderr
    result = tf(toolchain, stack, tmp_path, "validate", "-no-color")
    assert result.returncode == 0, result.stderr + result.stdout
    assert lock.read_text() == before


@pytest.mark.parametrize("module", MODULES, ids=lambda p: p.name)
def test_module_validates_and_its_tests_pass(
    module: Path, toolchain: Toolchain, tmp_path: Path
) -> None:
    # The whole modules folder, so that a module calling a sibling
    # ("../task-definition") finds it.
    shutil.copytree(
        module.parent,
        tmp_path / "modules",
        ignore=shutil.ignore_patterns(".terraform*", "*.tfstate*"),
    )
    copy = tmp_path / "modules" / module.name
    seed_lock_file(ROOT, copy)
    data = tmp_path / "data"
    init = tf(toolchain, copy, data, "init", "-backend=false", "-input=false", "-no-color")
    assert init.returncode == 0, init.stderr
    assert list((copy / "tests").glob("*.tftest.hcl")), f"{module.name} has no terraform tests"
    # `terraform test` validates the module first (a configuration that `terraform validate`
    # refuses fails every run), so no separate validate: each Terraform process that loads
    # the AWS provider's schema costs a CPU-second or two of CI's budget.
    result = tf(toolchain, copy, data, "test", "-no-color")
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
    assert " 0 failed" in result.stdout


@pytest.mark.parametrize("module", MODULES, ids=lambda p: p.name)
def test_module_follows_the_house_layout(module: Path) -> None:
    for name in ("versions.tf", "variables.tf", "outputs.tf", "main.tf", "README.md"):
        assert (module / name).is_file(), f"{module.name}/{name} is missing"
    text = "\n".join(p.read_text() for p in module.glob("*.tf"))
    assert 'provider "aws"' not in text, f"{module.name}: modules never configure providers"
