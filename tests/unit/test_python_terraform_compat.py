"""Why the deployer does not drive Terraform through python-terraform.

python-terraform 0.10.1 (2019) predates Terraform 0.15, which removed the
positional directory argument and `destroy -force`. These tests run its
helpers against the real Terraform binary and show each failure, so that if a
release fixes them the tests fail and tell us to reconsider. What still works
(its generic ``cmd``) cannot take a per-process environment, which parallel
workspaces need (each has its own TF_DATA_DIR): it copies ``os.environ`` or
nothing. The deployer therefore has its own runner (deployer/terraform.py).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from python_terraform import IsFlagged, Terraform

from deployer.toolchain import Toolchain

pytestmark = pytest.mark.terraform

CONFIG = """
variable "greeting" {
  type    = string
  default = "hello"
}

output "greeting" {
  value = var.greeting
}
"""


@pytest.fixture
def workdir(
    tmp_path: Path, toolchain: Toolchain, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Path]:
    (tmp_path / "main.tf").write_text(CONFIG)
    # python-terraform can only pass settings through the process environment.
    for key, value in toolchain.environ().items():
        monkeypatch.setenv(key, value)
    monkeypatch.setenv("TF_DATA_DIR", str(tmp_path / ".terraform"))
    yield tmp_path


def _terraform(workdir: Path, toolchain: Toolchain) -> Terraform:
    return Terraform(working_dir=str(workdir), terraform_bin_path=str(toolchain.binary))


def test_init_with_a_directory_argument_is_rejected(workdir: Path, toolchain: Toolchain) -> None:
    code, _, err = _terraform(workdir, toolchain).init(str(workdir))
    assert code == 1
    assert "Too many command line arguments" in err


def test_plan_with_a_directory_argument_is_rejected(workdir: Path, toolchain: Toolchain) -> None:
    tf = _terraform(workdir, toolchain)
    assert tf.init()[0] == 0
    code, _, err = tf.plan(str(workdir))
    assert code == 1
    assert "Too many command line arguments" in err


def test_destroy_emits_force_which_terraform_1x_rejects(
    workdir: Path, toolchain: Toolchain
) -> None:
    tf = _terraform(workdir, toolchain)
    assert tf.init()[0] == 0
    assert "-force" in tf.generate_cmd_string("destroy", force=IsFlagged)
    code, _, err = tf.destroy()
    assert code == 1
    assert "flag provided but not defined: -force" in err


def test_cmd_works_but_only_with_the_whole_process_environment(
    workdir: Path, toolchain: Toolchain, monkeypatch: pytest.MonkeyPatch
) -> None:
    tf = _terraform(workdir, toolchain)
    assert tf.init()[0] == 0
    assert tf.cmd("apply", auto_approve=IsFlagged, input=False)[0] == 0
    code, out, _ = tf.cmd("output", json=IsFlagged)
    # The generic runner works with Terraform 1.x ...
    assert code == 0 and '"greeting"' in out
    # ... but has no per-call environment: it takes os.environ (or nothing), so two
    # workspaces in two threads cannot each get their own TF_DATA_DIR.
    import inspect

    signature = inspect.signature(Terraform.cmd)
    assert "env" not in signature.parameters
