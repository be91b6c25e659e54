"""`deployer plan --changed BASE_REF`: which workspaces a change selects, and why.

Each test commits a copy of the project's inputs to a fresh git repository, changes one
thing, and asks for the selection against the commit.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from deployer import changes
from deployer.cli import main
from deployer.config import load as load_config
from deployer.errors import UsageError

ROOT = Path(__file__).resolve().parents[2]

ALL = {
    "delivery-us-east-1",
    "dev-us-east-1",
    "staging-us-east-1",
    "prod-us-east-1",
    "prod-us-west-2",
}
RUNTIME = ALL - {"delivery-us-east-1"}
PROD = {"prod-us-east-1", "prod-us-west-2"}


def git(repo: Path, *args: str) -> str:
    return subprocess.run(
        ["git", *args], cwd=repo, check=True, capture_output=True, text=True
    ).stdout


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    repo = tmp_path / "repo"
    ignore = shutil.ignore_patterns(".terraform*", "*.tfstate*", "__pycache__", "*.zip")
    for folder in ("environments", "modules", "functions"):
        shutil.copytree(ROOT / folder, repo / folder, ignore=ignore)
    (repo / "deployer").mkdir()
    shutil.copy(ROOT / "deployer" / "tfvars.py", repo / "deployer" / "tfvars.py")
    shutil.copy(ROOT / "README.md", repo / "README.md")
    git(repo, "init", "-q", "-b", "main")
    git(repo, "add", "-A")
    git(repo, "-c", "user.name=t", "-c", "user.email=t@example.com", "commit", "-qm", "base")
    return repo


def selected(repo: Path, base: str = "HEAD") -> dict[str, tuple[str, ...]]:
    found = changes.select(load_config(repo), base)
    return {s.workspace: s.reasons for s in found.selected}


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert re.search(old, text, re.MULTILINE), f"{old!r} not in {path}"
    path.write_text(re.sub(old, new, text, count=1, flags=re.MULTILINE))


def test_nothing_changed_selects_nothing(repo: Path) -> None:
    assert selected(repo) == {}


def test_a_readme_selects_nothing(repo: Path) -> None:
    (repo / "README.md").write_text("# changed\n")
    (repo / "modules" / "ecr" / "README.md").write_text("# changed\n")
    tests = repo / "modules" / "ecr" / "tests" / "ecr.tftest.hcl"
    tests.write_text(tests.read_text() + "\n# a comment\n")
    assert selected(repo) == {}


def test_prod_yaml_a_runtime_only_setting_selects_prod_alone(repo: Path) -> None:
    edit(repo / "environments" / "prod.yaml", r"^log_retention_days: \d+", "log_retention_days: 7")
    found = selected(repo)
    assert set(found) == PROD
    assert all("variables changed: log_retention_days" in r for r in found["prod-us-east-1"])


def test_prod_yaml_account_selects_prod_and_the_delivery_workspace(repo: Path) -> None:
    edit(repo / "environments" / "prod.yaml", r'^account_id: "\d+"', 'account_id: "999999999999"')
    found = selected(repo)
    assert set(found) == PROD | {"delivery-us-east-1"}
    assert "environments.prod.account_id" in " ".join(found["delivery-us-east-1"])
    assert "account_id" in " ".join(found["prod-us-west-2"])


def test_prod_yaml_regions_select_the_delivery_workspace_too(repo: Path) -> None:
    # prod loses its DR region: the delivery stack's view of prod changes (regions, dr_region).
    prod = repo / "environments" / "prod.yaml"
    text = prod.read_text()
    assert "us-west-2" in text
    edit(prod, r"^  - name: us-west-2.*\n    cidr: .*\n", "")
    found = selected(repo)
    assert "delivery-us-east-1" in found
    assert "environments.prod.regions" in " ".join(found["delivery-us-east-1"])
    assert set(found) >= {"prod-us-east-1"}


def test_a_policy_flag_selects_nothing(repo: Path) -> None:
    prod = repo / "environments" / "prod.yaml"
    prod.write_text(prod.read_text() + "\napproval: none\n")
    assert selected(repo) == {}


def test_a_module_used_by_both_stacks_selects_every_workspace(repo: Path) -> None:
    main_tf = repo / "modules" / "kms-key" / "main.tf"
    main_tf.write_text(main_tf.read_text() + "\n# changed\n")
    found = selected(repo)
    assert set(found) == ALL
    assert found["delivery-us-east-1"] == ("module kms-key changed (modules/kms-key/main.tf)",)


def test_a_module_used_by_one_stack_selects_that_stack(repo: Path) -> None:
    # network is used by the runtime stack only; task-definition through ecs-service too.
    main_tf = repo / "modules" / "network" / "main.tf"
    main_tf.write_text(main_tf.read_text() + "\n# changed\n")
    assert set(selected(repo)) == RUNTIME


def test_a_module_used_only_through_another_module_is_followed(repo: Path) -> None:
    uses = changes.module_uses(repo)
    stack_tf = "\n".join(p.read_text() for p in (repo / "environments/stacks/runtime").glob("*.tf"))
    assert "modules/task-definition" not in stack_tf  # reached via ecs-service only
    assert "task-definition" in uses["runtime"]


def test_the_deployers_stack_code_selects_every_workspace(repo: Path) -> None:
    code = repo / "deployer" / "tfvars.py"
    code.write_text(code.read_text() + "\n# changed\n")
    found = selected(repo)
    assert set(found) == ALL
    assert found["dev-us-east-1"] == ("the deployer's stack code changed (deployer/tfvars.py)",)


def test_the_deploy_guard_source_selects_runtime_workspaces(repo: Path) -> None:
    handler = next((repo / "functions" / "deploy_guard" / "deploy_guard").glob("*.py"))
    handler.write_text(handler.read_text() + "\n# changed\n")
    assert set(selected(repo)) == RUNTIME


def test_an_untracked_file_in_a_stack_counts(repo: Path) -> None:
    (repo / "environments" / "stacks" / "delivery" / "extra.tf").write_text("locals {}\n")
    assert set(selected(repo)) == {"delivery-us-east-1"}


def test_committed_changes_count_against_an_older_base(repo: Path) -> None:
    main_tf = repo / "environments" / "stacks" / "delivery" / "main.tf"
    main_tf.write_text(main_tf.read_text() + "\n# changed\n")
    git(repo, "-c", "user.name=t", "-c", "user.email=t@example.com", "commit", "-qam", "change")
    assert selected(repo, "HEAD") == {}
    assert set(selected(repo, "HEAD~1")) == {"delivery-us-east-1"}


def test_a_base_that_is_not_a_commit_is_a_usage_error(repo: Path) -> None:
    with pytest.raises(UsageError, match="not a commit") as info:
        selected(repo, "no-such-branch")
    assert "fetch-depth: 0" in (info.value.hint or "")


def test_a_base_whose_configuration_did_not_load_selects_everything(repo: Path) -> None:
    prod = repo / "environments" / "prod.yaml"
    good = prod.read_text()
    prod.write_text(good + "\nunknown_key: 1\n")
    git(repo, "-c", "user.name=t", "-c", "user.email=t@example.com", "commit", "-qam", "broken")
    prod.write_text(good)
    found = selected(repo)
    assert set(found) == ALL
    assert all(r == ("the configuration at HEAD does not load",) for r in found.values())


def test_matrix_prints_the_selection_as_json(
    repo: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("DEPLOYER_PROJECT_DIR", str(repo))
    monkeypatch.setenv("DEPLOYER_STATE_DIR", str(repo / ".state"))
    edit(repo / "environments" / "prod.yaml", r"^log_retention_days: \d+", "log_retention_days: 7")
    assert main(["plan", "--changed", "HEAD", "--matrix"]) == 0
    matrix = json.loads(capsys.readouterr().out)
    assert [m["workspace"] for m in matrix] == ["prod-us-east-1", "prod-us-west-2"]
    assert set(matrix[0]) == {"environment", "region", "stack", "workspace", "reasons"}
    assert matrix[0]["environment"] == "prod" and matrix[0]["stack"] == "runtime"
    # Restricted to a region, and no emulator or Terraform was needed.
    assert main(["plan", "--changed", "HEAD", "--matrix", "--region", "us-west-2"]) == 0
    assert [m["workspace"] for m in json.loads(capsys.readouterr().out)] == ["prod-us-west-2"]
    assert not (repo / ".state" / "emulator").exists()


def test_all_and_an_environment_together_are_refused(
    repo: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("DEPLOYER_PROJECT_DIR", str(repo))
    assert main(["plan", "prod", "--all", "--matrix"]) == 2
    assert "--all plans every workspace" in capsys.readouterr().err
    assert main(["plan", "--all", "--matrix", "--region", "eu-west-1"]) == 2
    assert "no such region eu-west-1" in capsys.readouterr().err
