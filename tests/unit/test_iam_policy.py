"""The CI roles' and the operator's IAM documents: deployer/iam_policies.py and the CLI.

``deployer iam-policy plan|apply|read`` prints what the delivery stack creates
(modules/ci-identity, and its own modules/ci-read-role).
The Terraform test here plans the delivery stack itself, from the variables the deployer
gives it, and holds the planned roles' documents equal to the Python ones, for the sample
configuration and for one that takes the other branches (existing OIDC provider, another
branch, environments without a deploy role). The stack is planned offline (its copy gets
providers with fake credentials and a local backend) and only ``module.ci_identity`` and
``module.ci_read_role`` (``-target``): IAM roles and policies built from known values call
no AWS API to plan.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
import yaml

from deployer import cli, iam_policies
from deployer.aws import LOCAL, Target
from deployer.config import CiSettings, Config, GitHubSettings, load
from deployer.errors import EXIT_USAGE, UsageError
from deployer.tfvars import delivery_variables
from deployer.toolchain import Toolchain
from tests import policies

ROOT = Path(__file__).resolve().parents[2]
SAMPLE = load(ROOT)
REPOSITORY = "acme/shop-platform"


def with_ci(config: Config, **settings: Any) -> Config:
    return replace(config, ci=CiSettings(github=GitHubSettings(repository=REPOSITORY, **settings)))


CI = with_ci(SAMPLE)
UNSET = replace(SAMPLE, ci=CiSettings())
# The other branches: the account's own OIDC provider, another protected branch, a
# runtime environment and the delivery environment without a deploy role.
OTHER = replace(
    with_ci(SAMPLE, branch="release/v2", create_oidc_provider=False),
    environments={
        name: replace(env, deploy_role_name=None) if name in ("delivery", "dev") else env
        for name, env in SAMPLE.environments.items()
    },
)


def statements(document: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {s["Sid"]: s for s in document["Statement"]}


def actions(document: dict[str, Any]) -> set[str]:
    found: set[str] = set()
    for statement in document["Statement"]:
        action = statement["Action"]
        found |= {action} if isinstance(action, str) else set(action)
    return found


# ---------------------------------------------------------------------------
# The documents
# ---------------------------------------------------------------------------
def test_the_plan_role_reads_state_and_history_and_assumes_only_read_roles() -> None:
    policy = iam_policies.plan_role(CI)
    assert policy.role_arn == "arn:aws:iam::111111111111:role/acme-shop-delivery-ci-plan"
    assert policy.role_arn == CI.names.delivery.ci_plan_role_arn
    assert policy.role_name == "acme-shop-delivery-ci-plan"
    (trust,) = policy.trust["Statement"] if policy.trust else []
    assert trust["Principal"] == {
        "Federated": "arn:aws:iam::111111111111:oidc-provider/token.actions.githubusercontent.com"
    }
    assert trust["Action"] == "sts:AssumeRoleWithWebIdentity"
    assert trust["Condition"] == {
        "StringEquals": {"token.actions.githubusercontent.com:aud": "sts.amazonaws.com"},
        "StringLike": {
            "token.actions.githubusercontent.com:sub": [
                "repo:acme/shop-platform:pull_request",
                "repo:acme/shop-platform:ref:refs/heads/*",
            ]
        },
    }
    assert actions(policy.permissions) == {
        "s3:ListBucket", "s3:GetObject", "s3:PutObject", "s3:DeleteObject", "ssm:GetParameter",
        "sts:AssumeRole",
    }  # fmt: skip
    by_sid = statements(policy.permissions)
    # The roles it may assume are the workspaces' read roles, never a deploy role.
    assert by_sid["AssumeReadRoles"]["Resource"] == [
        "arn:aws:iam::111111111111:role/acme-shop-delivery-ci-read-us-east-1",
        "arn:aws:iam::222222222222:role/acme-shop-dev-ci-read-us-east-1",
        "arn:aws:iam::333333333333:role/acme-shop-staging-ci-read-us-east-1",
        "arn:aws:iam::444444444444:role/acme-shop-prod-ci-read-us-east-1",
        "arn:aws:iam::444444444444:role/acme-shop-prod-ci-read-us-west-2",
    ]
    # Writes reach the lock files only; reads the workspaces' objects and run history only.
    assert by_sid["StateLocks"]["Resource"] == (
        "arn:aws:s3:::acme-shop-delivery-tfstate/workspaces/*.tflock"
    )
    assert by_sid["ReadState"]["Resource"] == "arn:aws:s3:::acme-shop-delivery-tfstate/workspaces/*"
    assert by_sid["ReadRunHistory"]["Resource"] == (
        "arn:aws:ssm:us-east-1:111111111111:parameter/deployer/runs/*"
    )
    assert any("session policy" in note for note in policy.notes)


def test_the_apply_role_trusts_the_branch_and_the_environments_and_assumes_their_roles() -> None:
    policy = iam_policies.apply_role(CI)
    assert policy.role_arn == CI.names.delivery.ci_apply_role_arn
    (trust,) = policy.trust["Statement"] if policy.trust else []
    assert trust["Condition"] == {
        "StringEquals": {
            "token.actions.githubusercontent.com:aud": "sts.amazonaws.com",
            "token.actions.githubusercontent.com:sub": [
                "repo:acme/shop-platform:ref:refs/heads/main",
                "repo:acme/shop-platform:environment:delivery",
                "repo:acme/shop-platform:environment:dev",
                "repo:acme/shop-platform:environment:prod",
                "repo:acme/shop-platform:environment:staging",
            ],
        }
    }
    by_sid = statements(policy.permissions)
    assert by_sid["AssumeDeployRoles"]["Resource"] == [
        f"arn:aws:iam::{account}:role/OrganizationAccountAccessRole"
        for account in ("111111111111", "222222222222", "333333333333", "444444444444")
    ]
    assert by_sid["ReadWriteState"]["Action"] == ["s3:DeleteObject", "s3:GetObject", "s3:PutObject"]
    assert by_sid["RunHistory"]["Action"] == ["ssm:GetParameter", "ssm:PutParameter"]


def test_the_ci_roles_reach_the_state_replica_as_they_reach_the_state() -> None:
    """While the state region does not answer, plan reads the replica and takes its lock
    files there; apply (with --state-replica) reads and writes it (deployer.state_replica)."""
    replica = "arn:aws:s3:::acme-shop-delivery-tfstate-us-west-2"
    history = "arn:aws:ssm:us-west-2:111111111111:parameter/deployer/runs/*"
    plan = statements(iam_policies.plan_role(CI).permissions)
    assert plan["ListStateReplica"]["Resource"] == replica
    assert plan["ReadStateReplica"] == {
        "Sid": "ReadStateReplica", "Effect": "Allow", "Action": "s3:GetObject",
        "Resource": f"{replica}/workspaces/*",
    }  # fmt: skip
    assert plan["StateReplicaLocks"]["Resource"] == f"{replica}/workspaces/*.tflock"
    assert plan["ReadRunHistoryReplica"]["Resource"] == history
    apply = statements(iam_policies.apply_role(CI).permissions)
    assert apply["ReadWriteStateReplica"]["Resource"] == f"{replica}/workspaces/*"
    assert apply["ReadWriteStateReplica"]["Action"] == apply["ReadWriteState"]["Action"]
    assert apply["RunHistoryReplica"]["Resource"] == history
    # Without a DR region, none of them.
    prod = CI.environments["prod"]
    single = replace(
        CI, environments={**CI.environments, "prod": replace(prod, regions=prod.regions[:1])}
    )
    for policy in (iam_policies.plan_role(single), iam_policies.apply_role(single)):
        assert not any("Replica" in sid for sid in statements(policy.permissions))


def test_environments_without_a_deploy_role_are_trusted_granted_nothing_and_named() -> None:
    policy = iam_policies.apply_role(OTHER)
    (trust,) = policy.trust["Statement"] if policy.trust else []
    subjects = trust["Condition"]["StringEquals"]["token.actions.githubusercontent.com:sub"]
    assert subjects[0] == "repo:acme/shop-platform:ref:refs/heads/release/v2"
    assert "repo:acme/shop-platform:environment:dev" in subjects
    assert statements(policy.permissions)["AssumeDeployRoles"]["Resource"] == [
        "arn:aws:iam::333333333333:role/OrganizationAccountAccessRole",
        "arn:aws:iam::444444444444:role/OrganizationAccountAccessRole",
    ]
    assert any(note.startswith("delivery, dev: no deploy_role_name") for note in policy.notes)
    # Without the delivery environment's role, the deployer reaches state itself.
    assert not any("through the delivery environment's role" in n for n in policy.notes)


def test_the_operator_needs_state_history_and_the_deploy_roles_and_no_trust() -> None:
    policy = iam_policies.operator(UNSET)  # no ci.github needed
    assert policy.trust is None and policy.role_arn is None
    by_sid = statements(policy.permissions)
    assert set(by_sid) == {
        "ListState", "CreateStateBucket", "ReadWriteState", "RunHistory", "AssumeDeployRoles",
        "CreateStateReplica", "StateReplication", "StateReplicationRole",
        "PassStateReplicationRole", "ListStateReplica", "ReadWriteStateReplica",
        "RunHistoryReplica",
    }  # fmt: skip
    assert len(by_sid["AssumeDeployRoles"]["Resource"]) == len(SAMPLE.environments)
    assert any("emulator" in note for note in policy.notes)


def test_the_operator_makes_and_uses_the_state_replica_and_passes_its_role_to_s3_only() -> None:
    by_sid = statements(iam_policies.operator(UNSET).permissions)
    state = "arn:aws:s3:::acme-shop-delivery-tfstate"
    replica = f"{state}-us-west-2"
    assert by_sid["CreateStateReplica"]["Resource"] == replica
    assert by_sid["StateReplication"]["Resource"] == [state, replica]
    assert by_sid["ListStateReplica"]["Resource"] == replica
    assert by_sid["ReadWriteStateReplica"]["Resource"] == f"{replica}/workspaces/*"
    assert by_sid["RunHistoryReplica"]["Resource"] == (
        "arn:aws:ssm:us-west-2:111111111111:parameter/deployer/runs/*"
    )
    role = "arn:aws:iam::111111111111:role/acme-shop-delivery-tfstate-replication"
    assert by_sid["StateReplicationRole"]["Resource"] == role
    passing = by_sid["PassStateReplicationRole"]
    assert (passing["Action"], passing["Resource"]) == ("iam:PassRole", role)
    assert passing["Condition"] == {"StringEquals": {"iam:PassedToService": "s3.amazonaws.com"}}
    # Without a DR region: the state bucket's statements alone, as before.
    prod = SAMPLE.environments["prod"]
    single = replace(
        UNSET, environments={**SAMPLE.environments, "prod": replace(prod, regions=prod.regions[:1])}
    )
    assert set(statements(iam_policies.operator(single).permissions)) == {
        "ListState", "CreateStateBucket", "ReadWriteState", "RunHistory", "AssumeDeployRoles",
    }  # fmt: skip


def test_a_read_role_reads_configuration_of_its_own_account_only() -> None:
    policy = iam_policies.read_role(CI, "prod", "us-west-2")
    assert policy.role_arn == "arn:aws:iam::444444444444:role/acme-shop-prod-ci-read-us-west-2"
    assert policy.role_arn == CI.names.target("prod", "us-west-2").ci_read_role_arn
    (trust,) = policy.trust["Statement"] if policy.trust else []
    assert trust["Principal"] == {"AWS": [CI.names.delivery.ci_plan_role_arn]}
    assert trust["Action"] == "sts:AssumeRole" and "Condition" not in trust
    by_sid = statements(policy.permissions)
    assert list(by_sid) == ["ReadConfiguration", "DescribeConfiguration"]
    # Route 53's ARNs name no account (its zones and health checks are global), and it has
    # no resource policies: an identity policy of this account reaches this account's only.
    global_arns = {"arn:aws:route53:::hostedzone/*", "arn:aws:route53:::healthcheck/*"}
    for arn in by_sid["ReadConfiguration"]["Resource"]:
        assert ":444444444444:" in arn or arn == "arn:aws:s3:::acme-shop-*" or arn in global_arns, (
            arn
        )
    assert by_sid["DescribeConfiguration"]["Resource"] == "*"
    every = actions(policy.permissions)
    assert all(a.split(":")[1].startswith(("Describe", "Get", "List", "BatchGet")) for a in every)
    # Nothing that reads data: objects, parameter values, secrets, decryption, log events.
    assert not every & {
        "s3:GetObject", "ssm:GetParameter", "ssm:GetParameters", "kms:Decrypt",
        "secretsmanager:GetSecretValue", "logs:GetLogEvents", "ecr:BatchGetImage",
    }  # fmt: skip
    # The delivery environment's is the default.
    assert iam_policies.read_role(CI).role_name == "acme-shop-delivery-ci-read-us-east-1"
    with pytest.raises(UsageError, match="has no region eu-west-1"):
        iam_policies.read_role(CI, "prod", "eu-west-1")


def test_the_read_actions_cover_every_type_the_stacks_use_split_as_aws_authorizes() -> None:
    document = json.loads((ROOT / iam_policies.READ_ACTIONS).read_text())
    used = set()
    for path in [*ROOT.glob("modules/*/*.tf"), *ROOT.glob("environments/stacks/*/*.tf")]:
        used |= set(re.findall(r'^(?:resource|data) "(aws_[a-z0-9_]+)"', path.read_text(), re.M))
    assert used == set(document["types"]), "modules/ci-read-role/actions.json: add or remove types"
    every = {a for acts in document["types"].values() for a in acts}
    assert set(document["no_resource_level"]) <= every
    for action in sorted(every):
        level = policies.supports_resource_level(action)
        assert level is not None, f"{action} is not in AWS's service authorization reference"
        assert level is (action not in document["no_resource_level"]), action


@pytest.mark.parametrize("config", [CI, OTHER], ids=["sample", "other"])
@pytest.mark.parametrize("role", iam_policies.ROLES)
def test_every_document_passes_the_projects_iam_audit(config: Config, role: str) -> None:
    policy = iam_policies.role_policy(config, role)
    documents = [policies.Document(role, "aws_iam_role_policy", "policy", policy.permissions)]
    if policy.trust is not None:
        documents.append(
            policies.Document(role, "aws_iam_role", "assume_role_policy", policy.trust)
        )
    assert [p for d in documents for p in policies.problems(d)] == []
    assert not any("*" in a for a in actions(policy.permissions))


@pytest.mark.parametrize("role", [iam_policies.PLAN, iam_policies.APPLY, iam_policies.READ])
def test_ci_roles_need_ci_github(role: str) -> None:
    with pytest.raises(UsageError, match=r"ci\.github is not configured"):
        iam_policies.role_policy(UNSET, role)


def test_the_delivery_stack_gets_ci_github_and_the_deploy_roles() -> None:
    env = CI.delivery
    target = Target(LOCAL, "http://127.0.0.1:1")
    variables = delivery_variables(CI, env, env.primary_region, target)
    assert variables["ci_github"] == {
        "repository": REPOSITORY, "branch": "main", "create_oidc_provider": True,
    }  # fmt: skip
    assert variables["state_store"] == {
        "bucket": "acme-shop-delivery-tfstate",
        "region": "us-east-1",
        "key_prefix": "workspaces",
        "run_history_path": "/deployer/runs",
        "replica": {"bucket": "acme-shop-delivery-tfstate-us-west-2", "region": "us-west-2"},
    }
    assert variables["environments"]["dev"]["deploy_role_arn"] is not None
    # The delivery environment's own deploy role, apart from the provider's role.
    assert (
        variables["deploy_role_arn"]
        == variables["assume_role_arn"]
        == ("arn:aws:iam::111111111111:role/OrganizationAccountAccessRole")
    )
    read_only = delivery_variables(CI, env, env.primary_region, replace(target, read_only=True))
    assert read_only["deploy_role_arn"] == variables["deploy_role_arn"]
    assert read_only["assume_role_arn"] == CI.names.delivery.ci_read_role_arn
    other = delivery_variables(OTHER, OTHER.delivery, env.primary_region, target)
    assert other["environments"]["dev"]["deploy_role_arn"] is None
    assert (
        delivery_variables(UNSET, UNSET.delivery, env.primary_region, target)["ci_github"] is None
    )


# ---------------------------------------------------------------------------
# The command
# ---------------------------------------------------------------------------
@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A copy of the sample configuration with ci.github set."""
    shutil.copytree(
        ROOT / "environments", tmp_path / "environments", ignore=shutil.ignore_patterns("stacks")
    )
    shutil.copytree(ROOT / "modules" / "ci-read-role", tmp_path / "modules" / "ci-read-role")
    path = tmp_path / "environments" / "project.yaml"
    document = yaml.safe_load(path.read_text())
    document["ci"] = {"github": {"repository": REPOSITORY}}
    path.write_text(yaml.safe_dump(document))
    monkeypatch.setenv("DEPLOYER_PROJECT_DIR", str(tmp_path))
    monkeypatch.setenv("DEPLOYER_STATE_DIR", str(tmp_path / ".deployer"))
    return tmp_path


@pytest.mark.parametrize("role", iam_policies.ROLES)
def test_the_command_prints_one_json_document(
    project: Path, role: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli.main(["iam-policy", role, "--json"]) == 0
    document = json.loads(capsys.readouterr().out)
    assert document == iam_policies.role_policy(CI, role).to_json()


def test_the_command_prints_the_documents_as_json_text(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli.main(["iam-policy", "apply"]) == 0
    out = capsys.readouterr().out
    policy = iam_policies.apply_role(CI)
    assert out.startswith(f"# apply: {policy.role_arn}\n")
    trust, permissions = out.split("# trust policy\n")[1].split("\n\n# permissions policy\n")
    assert json.loads(trust) == policy.trust
    assert json.loads(permissions.split("\n\n# notes\n")[0]) == policy.permissions


def test_without_ci_github_the_ci_roles_are_a_usage_error(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = project / "environments" / "project.yaml"
    document = yaml.safe_load(path.read_text())
    del document["ci"]
    path.write_text(yaml.safe_dump(document))
    assert cli.main(["iam-policy", "plan", "--json"]) == EXIT_USAGE
    assert "ci.github is not configured" in json.loads(capsys.readouterr().out)["error"]
    assert cli.main(["iam-policy", "operator"]) == 0


def test_the_command_has_help_with_an_example(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as info:
        cli.main(["iam-policy", "--help"])
    assert info.value.code == 0
    out = capsys.readouterr().out
    assert "example:" in out and "deployer iam-policy plan" in out


# ---------------------------------------------------------------------------
# The same documents as the delivery stack plans them
# ---------------------------------------------------------------------------
OFFLINE_PROVIDERS = """
# The test's copy of the stack: offline providers (planning IAM roles from known
# values calls no AWS API), same regions as the stack's own providers.
provider "aws" {
  region                      = var.region
  access_key                  = "offline"
  secret_key                  = "offline"
  skip_credentials_validation = true
  skip_requesting_account_id  = true
  skip_metadata_api_check     = true
  skip_region_validation      = true
}

provider "aws" {
  alias                       = "dr"
  region                      = coalesce(var.dr_region, var.region)
  access_key                  = "offline"
  secret_key                  = "offline"
  skip_credentials_validation = true
  skip_requesting_account_id  = true
  skip_metadata_api_check     = true
  skip_region_validation      = true
}
"""

LOCAL_BACKEND = 'terraform {\n  backend "local" {}\n}\n'


def _planned_resources(module: dict[str, Any]) -> dict[str, dict[str, Any]]:
    found = {r["address"]: r.get("values", {}) for r in module.get("resources", [])}
    for child in module.get("child_modules", []):
        found.update(_planned_resources(child))
    return found


@pytest.fixture(scope="module")
def planned(
    toolchain: Toolchain, tmp_path_factory: pytest.TempPathFactory
) -> dict[str, dict[str, dict[str, Any]]]:
    """Per configuration, ``module.ci_identity``'s planned resources by address."""
    work = tmp_path_factory.mktemp("ci-identity-plan")
    shutil.copytree(ROOT / "modules", work / "modules", ignore=shutil.ignore_patterns("tests"))
    stack = work / "environments" / "stacks" / "delivery"
    shutil.copytree(
        ROOT / "environments" / "stacks" / "delivery",
        stack,
        ignore=shutil.ignore_patterns(".terraform"),
    )
    (stack / "providers.tf").write_text(OFFLINE_PROVIDERS)
    (stack / "backend_override.tf").write_text(LOCAL_BACKEND)
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(work),
        "TF_DATA_DIR": str(work / ".terraform"),
        "AWS_EC2_METADATA_DISABLED": "true",
        **toolchain.environ(),
    }

    def tf(*args: str) -> str:
        result = subprocess.run(
            [str(toolchain.binary), f"-chdir={stack}", *args],
            capture_output=True,
            text=True,
            env=env,
            timeout=600,
            check=False,
        )
        assert result.returncode == 0, f"terraform {args[0]}:\n{result.stderr[-4000:]}"
        return result.stdout

    tf("init", "-input=false", "-no-color", "-lockfile=readonly")
    rendered = {}
    for key, config in (("sample", CI), ("other", OTHER)):
        delivery = config.delivery
        variables = delivery_variables(
            config, delivery, delivery.primary_region, Target(LOCAL, "http://127.0.0.1:1")
        )
        (stack / f"{key}.tfvars.json").write_text(json.dumps(variables))
        tf("plan", "-input=false", "-no-color", "-refresh=false", "-target=module.ci_identity",
           "-target=module.ci_read_role", f"-var-file={key}.tfvars.json",
           f"-out={key}.tfplan")  # fmt: skip
        plan = json.loads(tf("show", "-json", f"{key}.tfplan"))
        rendered[key] = _planned_resources(plan["planned_values"]["root_module"])
    return rendered


@pytest.mark.terraform
@pytest.mark.parametrize(("key", "config"), [("sample", CI), ("other", OTHER)])
def test_the_delivery_stack_creates_exactly_the_printed_documents(
    planned: dict[str, dict[str, dict[str, Any]]], key: str, config: Config
) -> None:
    resources = planned[key]
    base = "module.ci_identity[0]"
    for role, policy in ((iam_policies.PLAN, iam_policies.plan_role(config)),
                         (iam_policies.APPLY, iam_policies.apply_role(config))):  # fmt: skip
        created = resources[f"{base}.aws_iam_role.{role}"]
        assert created["name"] == policy.role_name
        assert json.loads(created["assume_role_policy"]) == policy.trust, role
        inline = resources[f"{base}.aws_iam_role_policy.{role}"]
        assert json.loads(inline["policy"]) == policy.permissions, role
    read = iam_policies.read_role(config)
    created = resources["module.ci_read_role[0].aws_iam_role.this"]
    assert created["name"] == read.role_name
    assert json.loads(created["assume_role_policy"]) == read.trust
    inline = resources["module.ci_read_role[0].aws_iam_role_policy.read"]
    assert json.loads(inline["policy"]) == read.permissions
    provider = f"{base}.aws_iam_openid_connect_provider.github[0]"
    github = config.ci.github
    assert github is not None
    assert (provider in resources) is github.create_oidc_provider
    if provider in resources:
        assert resources[provider]["url"] == "https://token.actions.githubusercontent.com"
        assert resources[provider]["client_id_list"] == ["sts.amazonaws.com"]
