"""Adopting what an interrupted apply created but never recorded (moto in-process)."""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from moto import mock_aws

from deployer import recovery
from deployer.aws import AWS, ClientFactory, Target
from deployer.config import load
from deployer.errors import TerraformError
from deployer.orchestrator import Orchestrator, RegionRun, RunStatus, plan_path
from deployer.output import Reporter
from deployer.project import Project
from deployer.scope import Scope
from deployer.state import StateStore
from deployer.workspaces import Workspace

ROOT = Path(__file__).resolve().parents[2]
TAGS = {"Company": "acme", "Service": "shop", "Environment": "dev", "ManagedBy": "terraform"}


@pytest.fixture
def lookup(monkeypatch: pytest.MonkeyPatch) -> Iterator[Scope]:
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    with mock_aws():
        config = load(ROOT)
        env = config.environment("dev")
        yield Scope(config, env, "us-east-1", Target(AWS), ClientFactory(Target(AWS)))


def create(address: str, kind: str, after: dict[str, Any]) -> dict[str, Any]:
    return {
        "address": address,
        "mode": "managed",
        "type": kind,
        "change": {"actions": ["create"], "after": after},
    }


def tagged(name: str, **extra: str) -> dict[str, dict[str, str]]:
    return {"tags_all": {**TAGS, "Name": name, **extra}}


def ec2_tags(name: str, environment: str = "dev") -> list[dict[str, Any]]:
    tags = {**TAGS, "Name": name, "Environment": environment}
    return [{"ResourceType": "vpc", "Tags": [{"Key": k, "Value": v} for k, v in tags.items()]}]


def test_an_orphaned_network_is_found_by_identity(lookup: Scope) -> None:
    ec2 = lookup.client("ec2")
    vpc = ec2.create_vpc(CidrBlock="10.10.0.0/16", TagSpecifications=ec2_tags("acme-shop-dev-vpc"))
    vpc_id = vpc["Vpc"]["VpcId"]
    subnet = ec2.create_subnet(VpcId=vpc_id, CidrBlock="10.10.0.0/18")["Subnet"]["SubnetId"]
    plan = {
        "resource_changes": [
            create("module.network.aws_vpc.this", "aws_vpc",
                   {"cidr_block": "10.10.0.0/16", **tagged("acme-shop-dev-vpc")}),
            create('module.network.aws_subnet.private["us-east-1a"]', "aws_subnet",
                   {"cidr_block": "10.10.0.0/18", "vpc_id": vpc_id}),
            # Planned, but nothing like it exists: created normally.
            create('module.network.aws_subnet.private["us-east-1b"]', "aws_subnet",
                   {"cidr_block": "10.10.64.0/18", "vpc_id": vpc_id}),
        ]
    }  # fmt: skip
    found = {a.address: a.import_id for a in recovery.candidates(plan, lookup)}
    assert found == {
        "module.network.aws_vpc.this": vpc_id,
        'module.network.aws_subnet.private["us-east-1a"]': subnet,
    }


def test_a_vpc_of_another_environment_is_never_adopted(lookup: Scope) -> None:
    ec2 = lookup.client("ec2")
    staging_tags = ec2_tags("acme-shop-dev-vpc", environment="staging")
    ec2.create_vpc(CidrBlock="10.10.0.0/16", TagSpecifications=staging_tags)
    plan = {"resource_changes": [create("module.network.aws_vpc.this", "aws_vpc",
            {"cidr_block": "10.10.0.0/16", **tagged("acme-shop-dev-vpc")})]}  # fmt: skip
    assert recovery.candidates(plan, lookup) == []


def test_ambiguous_matches_adopt_nothing(lookup: Scope) -> None:
    ec2 = lookup.client("ec2")
    for _ in range(2):
        ec2.create_vpc(CidrBlock="10.10.0.0/16", TagSpecifications=ec2_tags("acme-shop-dev-vpc"))
    plan = {"resource_changes": [create("module.network.aws_vpc.this", "aws_vpc",
            {"cidr_block": "10.10.0.0/16", **tagged("acme-shop-dev-vpc")})]}  # fmt: skip
    assert recovery.candidates(plan, lookup) == []


def test_orphaned_routes_and_associations_are_found_by_what_they_join(lookup: Scope) -> None:
    """CreateRoute and AssociateRouteTable refuse a second one (RouteAlreadyExists,
    Resource.AlreadyAssociated): a kill after AWS made one left the rerun failing."""
    ec2 = lookup.ec2
    vpc_id = ec2.create_vpc(CidrBlock="10.10.0.0/16")["Vpc"]["VpcId"]
    gateway = ec2.create_internet_gateway()["InternetGateway"]["InternetGatewayId"]
    subnet = ec2.create_subnet(VpcId=vpc_id, CidrBlock="10.10.0.0/18")["Subnet"]["SubnetId"]
    other = ec2.create_subnet(VpcId=vpc_id, CidrBlock="10.10.64.0/18")["Subnet"]["SubnetId"]
    table = ec2.create_route_table(VpcId=vpc_id)["RouteTable"]["RouteTableId"]
    ec2.create_route(RouteTableId=table, DestinationCidrBlock="0.0.0.0/0", GatewayId=gateway)
    ec2.associate_route_table(RouteTableId=table, SubnetId=subnet)
    route = "aws_route"
    association = "aws_route_table_association"
    plan = {
        "resource_changes": [
            create("n.aws_route.public_internet", route,
                   {"route_table_id": table, "destination_cidr_block": "0.0.0.0/0"}),
            # The VPC's local route exists in every table: it is not a CreateRoute.
            create("n.aws_route.local", route,
                   {"route_table_id": table, "destination_cidr_block": "10.10.0.0/16"}),
            create("n.aws_route.missing", route,
                   {"route_table_id": table, "destination_cidr_block": "192.168.0.0/16"}),
            create('n.aws_route_table_association.public["a"]', association,
                   {"route_table_id": table, "subnet_id": subnet}),
            create('n.aws_route_table_association.public["b"]', association,
                   {"route_table_id": table, "subnet_id": other}),
        ]
    }  # fmt: skip
    found = {a.address: a.import_id for a in recovery.candidates(plan, lookup)}
    assert found == {
        "n.aws_route.public_internet": f"{table}_0.0.0.0/0",
        'n.aws_route_table_association.public["a"]': f"{subnet}/{table}",
    }


def test_named_resources_are_found_by_name(lookup: Scope) -> None:
    iam = lookup.client("iam")
    iam.create_role(RoleName="acme-shop-dev-api-task-us-east-1", AssumeRolePolicyDocument="{}")
    logs = lookup.client("logs")
    logs.create_log_group(logGroupName="/ecs/acme-shop-dev/api-service")
    logs.create_log_group(logGroupName="/ecs/acme-shop-dev/api-service-old")
    kms = lookup.client("kms")
    key_tags = [{"TagKey": "Name", "TagValue": "alias/acme-shop-dev-parameters"}]
    key = kms.create_key(Description="params", Tags=key_tags)["KeyMetadata"]["KeyId"]
    plan = {
        "resource_changes": [
            create("a.aws_iam_role.task", "aws_iam_role",
                   {"name": "acme-shop-dev-api-task-us-east-1"}),
            create("a.aws_iam_role.exec", "aws_iam_role",
                   {"name": "acme-shop-dev-api-exec-us-east-1"}),
            create("a.aws_cloudwatch_log_group.this", "aws_cloudwatch_log_group",
                   {"name": "/ecs/acme-shop-dev/api-service"}),
            create("a.aws_kms_key.this", "aws_kms_key",
                   {"description": "params", **tagged("alias/acme-shop-dev-parameters")}),
            # Upserting creates and unknown types are never adopted.
            create("a.aws_cloudwatch_metric_alarm.x", "aws_cloudwatch_metric_alarm",
                   {"alarm_name": "x"}),
        ]
    }  # fmt: skip
    found = {a.address: a.import_id for a in recovery.candidates(plan, lookup)}
    assert found == {
        "a.aws_iam_role.task": "acme-shop-dev-api-task-us-east-1",
        "a.aws_cloudwatch_log_group.this": "/ecs/acme-shop-dev/api-service",
        "a.aws_kms_key.this": key,
    }


def test_only_creates_are_considered(lookup: Scope) -> None:
    lookup.client("iam").create_role(RoleName="r", AssumeRolePolicyDocument="{}")
    change = create("a.aws_iam_role.r", "aws_iam_role", {"name": "r"})
    change["change"]["actions"] = ["update"]
    assert recovery.candidates({"resource_changes": [change]}, lookup) == []


def test_adoption_root_keeps_relative_module_sources_working(tmp_path: Path) -> None:
    stack = ROOT / "environments" / "stacks" / "runtime"
    adoption = recovery.Adoption('module.network.aws_subnet.private["us-east-1a"]', "aws_subnet",
                                 "subnet-123")  # fmt: skip
    root = recovery.adoption_root(ROOT, stack, tmp_path, [adoption])
    assert root == tmp_path / "adopt-root" / "environments" / "stacks" / "runtime"
    assert (root / "main.tf").read_text() == (stack / "main.tf").read_text()
    assert (root / "../../../modules/network/main.tf").resolve() == (
        ROOT / "modules" / "network" / "main.tf"
    )
    blocks = (root / "deployer_adoptions.tf").read_text()
    assert 'to = module.network.aws_subnet.private["us-east-1a"]' in blocks
    assert 'id = "subnet-123"' in blocks
    recovery.remove_adoption_root(tmp_path)
    assert not (tmp_path / "adopt-root").exists()
    assert boto3  # the finders use boto3 clients from the factory


def test_security_group_rules_are_found_by_what_they_allow(lookup: Scope) -> None:
    """AuthorizeSecurityGroupEgress is not idempotent: a rule an interrupted (or retried)
    create left behind would fail the rerun with InvalidPermission.Duplicate."""
    ec2 = lookup.client("ec2")
    vpc_id = ec2.create_vpc(CidrBlock="10.10.0.0/16")["Vpc"]["VpcId"]
    alb = ec2.create_security_group(GroupName="alb", Description="alb", VpcId=vpc_id)["GroupId"]
    tasks = ec2.create_security_group(GroupName="tasks", Description="t", VpcId=vpc_id)["GroupId"]
    to_tasks = ec2.authorize_security_group_egress(
        GroupId=alb,
        IpPermissions=[{"IpProtocol": "tcp", "FromPort": 8080, "ToPort": 8080,
                        "UserIdGroupPairs": [{"GroupId": tasks}]}],
    )["SecurityGroupRules"][0]["SecurityGroupRuleId"]  # fmt: skip
    https_in = ec2.authorize_security_group_ingress(
        GroupId=alb,
        IpPermissions=[{"IpProtocol": "tcp", "FromPort": 443, "ToPort": 443,
                        "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}],
    )["SecurityGroupRules"][0]["SecurityGroupRuleId"]  # fmt: skip
    egress = "aws_vpc_security_group_egress_rule"
    ingress = "aws_vpc_security_group_ingress_rule"
    rule = {"security_group_id": alb, "ip_protocol": "tcp", "from_port": 8080, "to_port": 8080,
            "referenced_security_group_id": tasks}  # fmt: skip
    https = {"security_group_id": alb, "ip_protocol": "tcp", "from_port": 443, "to_port": 443,
             "cidr_ipv4": "0.0.0.0/0"}  # fmt: skip
    plan = {
        "resource_changes": [
            create("s.aws_vpc_security_group_egress_rule.alb_to_tasks", egress, rule),
            create("s.aws_vpc_security_group_ingress_rule.https", ingress, https),
            # Same group and peer, another port or direction: not the rule that exists.
            create("s.aws_vpc_security_group_egress_rule.other_port", egress,
                   {**rule, "from_port": 9090, "to_port": 9090}),
            create("s.aws_vpc_security_group_ingress_rule.reversed", ingress, rule),
            # The group itself is still to be created: nothing to look at.
            create("s.aws_vpc_security_group_egress_rule.unknown", egress,
                   {**rule, "security_group_id": None}),
        ]
    }  # fmt: skip
    found = {a.address: a.import_id for a in recovery.candidates(plan, lookup)}
    assert found == {
        "s.aws_vpc_security_group_egress_rule.alb_to_tasks": to_tasks,
        "s.aws_vpc_security_group_ingress_rule.https": https_in,
    }


class _FailingTerraform:
    def apply(self, plan_file: Path, on_message: Any = None) -> None:
        raise TerraformError(
            ["terraform", "apply"],
            1,
            workspace="dev-us-east-1",
            stderr_tail="Error: InvalidPermission.Duplicate",
        )


def test_a_failed_apply_keeps_its_marker_and_says_a_rerun_converges(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The in-flight marker is what lets the next apply adopt what this one left behind."""
    config = load(ROOT)
    env = config.environment("dev")
    marks: list[str] = []
    monkeypatch.setattr(StateStore, "mark_inflight", lambda *a: marks.append("mark"))
    monkeypatch.setattr(StateStore, "clear_inflight", lambda *a: marks.append("clear"))
    orchestrator = Orchestrator(
        Project(ROOT, tmp_path), None, Reporter(verbosity=-1),  # type: ignore[arg-type]
    )  # fmt: skip
    no_clients = ClientFactory(Target(AWS))
    run = RegionRun(
        Scope(config, env, "us-east-1", Target(AWS), no_clients),
        tf=_FailingTerraform(),  # type: ignore[arg-type]
        plan_file=tmp_path / "apply.tfplan",
        has_changes=True,
    )
    (result,) = orchestrator.apply([run])
    assert result.status is RunStatus.FAILED
    assert marks == ["mark"], "the marker must survive a failed apply"
    assert result.error is not None
    assert "InvalidPermission.Duplicate" in result.error.message
    assert result.error.hint is not None
    assert "run `deployer apply dev --region us-east-1` again" in result.error.hint


def test_plan_files_are_per_process_and_stale_ones_go(tmp_path: Path) -> None:
    """Two runs on one workspace share its data directory: the second must not
    remove or overwrite the plan the first is applying."""
    other_live = tmp_path / f"apply-{os.getppid()}.tfplan"
    other_live.write_text("the first run's plan")
    gone = subprocess.Popen(["true"])
    gone.wait()
    stale = tmp_path / f"apply-{gone.pid}.tfplan"
    stale.write_text("left by a run that died")
    legacy = tmp_path / "apply.tfplan"
    legacy.write_text("named before plans were per process")

    mine = plan_path(tmp_path, "apply")

    assert mine == tmp_path / f"apply-{os.getpid()}.tfplan"
    assert other_live.read_text() == "the first run's plan"
    assert not stale.exists() and not legacy.exists()


def test_the_current_lock_is_read_from_the_state_bucket(monkeypatch: pytest.MonkeyPatch) -> None:
    """A marker with the lock held is an apply still running (the orchestrator stops)."""
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    with mock_aws():
        config = load(ROOT)
        env = config.environment("dev")
        ws = Workspace(env.stack, env.name, "us-east-1")
        clients = ClientFactory(Target(AWS))
        delivery = config.environment("delivery")
        s3 = clients.client("s3", config.state.region, account_id=delivery.account_id,
                            role_name=delivery.deploy_role_name)  # fmt: skip
        s3.create_bucket(Bucket=config.state.bucket)
        store = Scope(config, env, "us-east-1", Target(AWS), clients).state
        assert store.current_lock() is None
        info = {"ID": "abc", "Operation": "OperationTypeApply", "Who": "ci@runner"}
        s3.put_object(Bucket=config.state.bucket, Key=ws.lock_key(), Body=json.dumps(info))
        assert store.current_lock() == info


def test_only_a_lock_of_a_run_that_changes_state_means_an_apply_is_running() -> None:
    """The state checks run while this run's own `terraform plan` holds the lock: a plan's
    lock (ours, or anyone's) is no apply under way; an apply's, a state command's (Terraform
    names some OperationTypeInvalid) or one that cannot be read is."""
    from deployer.orchestrator import apply_running

    assert apply_running(None) is False
    assert apply_running({"ID": "a", "Operation": "OperationTypePlan", "Who": "me@here"}) is False
    assert apply_running({"ID": "b", "Operation": "OperationTypeApply", "Who": "ci@x"}) is True
    assert apply_running({"ID": "c", "Operation": "OperationTypeInvalid"}) is True
    assert apply_running({}) is True  # a lock file whose body is not Terraform's JSON
