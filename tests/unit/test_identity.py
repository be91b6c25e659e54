"""Read-only: as whom the deployer acts when it plans as the CI plan role (deployer.identity).

State with the plan role's own credentials (on the emulator the deployer assumes the
plan role itself), each workspace's account through its read role, never a deploy
role; and nothing created, not even the state bucket.
"""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path
from typing import Any

import botocore.exceptions
import pytest
import yaml

from deployer import cli, identity, state
from deployer.aws import AWS, LOCAL, ClientFactory, Target
from deployer.config import CiSettings, load
from deployer.errors import EXIT_USAGE, UsageError
from deployer.project import load_project
from deployer.scope import Scope
from deployer.tfvars import variables_for
from deployer.workspaces import Workspace, backend_settings
from tests.unit.fake_terraform import read_records
from tests.unit.test_policy import cli_project, fake_terraform  # noqa: F401

ROOT = Path(__file__).resolve().parents[2]
SAMPLE = load(ROOT)  # the sample has ci.github
AWS_RO = Target(AWS, read_only=True)
LOCAL_RO = Target(LOCAL, "http://127.0.0.1:1", read_only=True)
DELIVERY = "arn:aws:iam::111111111111:role"


def test_read_only_assumes_each_workspace_s_read_role_never_a_deploy_role() -> None:
    for env_name, region, account in (
        ("staging", "us-east-1", "333333333333"),
        ("prod", "us-west-2", "444444444444"),
        ("delivery", "us-east-1", "111111111111"),
    ):
        env = SAMPLE.environment(env_name)
        expected = f"arn:aws:iam::{account}:role/acme-shop-{env_name}-ci-read-{region}"
        for target in (AWS_RO, LOCAL_RO):
            variables = variables_for(SAMPLE, env, region, target, package=False)
            assert variables["assume_role_arn"] == expected
            scope = Scope(SAMPLE, env, region, target, ClientFactory(target))
            assert scope.role_name == expected.rsplit("/", 1)[1]
        # Not read-only: the deploy role, as before.
        normal = variables_for(SAMPLE, env, region, Target(AWS), package=False)
        assert normal["assume_role_arn"].endswith(":role/OrganizationAccountAccessRole")


def test_read_only_state_is_the_plan_role_s_own_and_on_the_emulator_assumed() -> None:
    ws = Workspace("runtime", "staging", "us-east-1")
    # On AWS the CI job's credentials are the plan role's: nothing to assume.
    assert "assume_role" not in backend_settings(SAMPLE, AWS_RO, ws)
    assert identity.state_role_name(SAMPLE, AWS_RO) is None
    # The emulator has no OIDC exchange: the deployer assumes the plan role itself.
    local = backend_settings(SAMPLE, LOCAL_RO, ws)
    assert local["assume_role"]["role_arn"] == f"{DELIVERY}/acme-shop-delivery-ci-plan"
    normal = backend_settings(SAMPLE, Target(AWS), ws)
    assert normal["assume_role"]["role_arn"] == f"{DELIVERY}/OrganizationAccountAccessRole"


def test_the_runtime_stack_creates_its_read_role_only_with_ci_github() -> None:
    env = SAMPLE.environment("staging")
    with_ci = variables_for(SAMPLE, env, "us-east-1", Target(AWS), package=False)
    assert with_ci["ci_plan_role_arn"] == f"{DELIVERY}/acme-shop-delivery-ci-plan"
    unset = replace(SAMPLE, ci=CiSettings())
    assert (
        variables_for(unset, env, "us-east-1", Target(AWS), package=False)["ci_plan_role_arn"]
        is None
    )
    with pytest.raises(UsageError, match=r"ci\.github is not configured"):
        variables_for(unset, env, "us-east-1", AWS_RO, package=False)


class _MissingBucket:
    """An S3 client whose bucket does not exist, and that fails on any write."""

    def __init__(self) -> None:
        self.calls: list[str] = []

    def head_bucket(self, **_: Any) -> None:
        self.calls.append("head_bucket")
        raise botocore.exceptions.ClientError(
            {"Error": {"Code": "404", "Message": "Not Found"}}, "HeadBucket"
        )

    def __getattr__(self, name: str) -> Any:
        raise AssertionError(f"read-only called {name}")


class _Clients:
    def __init__(self) -> None:
        self.s3 = _MissingBucket()
        self.asked: list[tuple[str, str | None, str | None]] = []

    def client(self, service: str, region: str, *, account_id: str | None = None,
               role_name: str | None = None) -> Any:  # fmt: skip
        self.asked.append((service, account_id, role_name))
        return self.s3


def test_read_only_never_creates_the_state_bucket() -> None:
    clients = _Clients()
    with pytest.raises(UsageError, match=r"does not exist .* --read-only creates nothing"):
        state.ensure_bucket(SAMPLE, clients, LOCAL_RO, lambda _: None)
    assert clients.s3.calls == ["head_bucket"]
    assert clients.asked == [("s3", "111111111111", "acme-shop-delivery-ci-plan")]


def test_plan_read_only_writes_each_workspace_s_read_identity(
    project: Path,
    fake_terraform: Path,  # noqa: F811
    capsys: pytest.CaptureFixture[str],
) -> None:
    # A plan as the deploy roles first: on a fresh emulator it creates the state bucket.
    assert cli.main(["plan", "staging"]) == 0
    capsys.readouterr()
    before = len(read_records(fake_terraform))
    assert cli.main(["plan", "--all", "--read-only", "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert {w["status"] for w in doc["regions"]} == {"planned"}
    assert len([c for c in read_records(fake_terraform)[before:] if "plan" in c["argv"]]) == 5
    proj = load_project()
    for ws_doc in doc["regions"]:
        env_name, region = ws_doc["environment"], ws_doc["region"]
        stack = "delivery" if env_name == "delivery" else "runtime"
        data_dir = Workspace(stack, env_name, region).data_dir(proj)
        variables = json.loads((data_dir / "terraform.tfvars.json").read_text())
        assert variables["assume_role_arn"].endswith(f"-{env_name}-ci-read-{region}")
        backend = (data_dir / "backend.tfbackend").read_text()
        assert "acme-shop-delivery-ci-plan" in backend
        assert "OrganizationAccountAccessRole" not in backend


def test_read_only_without_ci_github_is_a_usage_error_that_plans_nothing(
    project: Path,
    fake_terraform: Path,  # noqa: F811
    capsys: pytest.CaptureFixture[str],
) -> None:
    path = project / "environments" / "project.yaml"
    document = yaml.safe_load(path.read_text())
    del document["ci"]
    path.write_text(yaml.safe_dump(document))
    assert cli.main(["drift", "staging", "--read-only", "--json"]) == EXIT_USAGE
    error = json.loads(capsys.readouterr().out)["error"]
    assert "--read-only" in error and "ci.github is not configured" in error
    assert not fake_terraform.exists() or not read_records(fake_terraform)
