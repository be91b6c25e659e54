"""Recovering from an apply that did not finish: adopt what it created but never recorded.

When Terraform is interrupted (Ctrl-C, SIGTERM, a CI timeout), it asks the AWS
provider to stop, and the provider cancels the API calls in flight. A create
that AWS already carried out but whose answer was cancelled leaves a resource
that exists and is in no state: the next apply would create it again. For a
subnet that is a CIDR conflict; for a VPC, a NAT gateway or a KMS key a silent
duplicate; for a named resource an "already exists" error.

So before each apply the deployer writes an in-flight marker next to the
workspace's state (``<state key>.inflight`` in the state bucket, visible from
any machine; ``deployer.state``) and removes it when the apply succeeds. The
next apply of a workspace whose marker is still there plans, and for every
resource the plan would create looks for a real one with exactly that identity
(its name, its CIDR, or its Name tag plus the stack's default tags; for a
security group rule its group, direction, protocol, ports and peer), through
the workspace's Scope. Each one found gets an ``import`` block in a copy of the
stack (``adoption_root``), so the import is planned with everything else: the
user sees ``N to import`` in the plan, and exactly that plan is applied.
Nothing is deleted, and nothing is adopted that does not match what this
workspace's configuration creates.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import botocore.exceptions

from deployer.scope import Scope

if TYPE_CHECKING:
    from mypy_boto3_ec2.type_defs import FilterTypeDef

Finder = Callable[[Scope, dict[str, Any]], "str | None"]

#: The stack's default tags (provider default_tags) a planned resource carries.
STACK_TAGS = ("Name", "Company", "Service", "Environment", "ManagedBy")


@dataclass(frozen=True)
class Adoption:
    address: str
    type: str
    import_id: str


# ---------------------------------------------------------------------------
# Finding a planned resource that already exists
# ---------------------------------------------------------------------------
def ec2_filters(after: dict[str, Any], *extra: FilterTypeDef) -> list[FilterTypeDef]:
    """The planned Name tag and the stack's default tags, as EC2 filters."""
    tags = after.get("tags_all") or after.get("tags") or {}
    filters: list[FilterTypeDef] = [
        {"Name": f"tag:{key}", "Values": [value]}
        for key, value in tags.items()
        if key in STACK_TAGS
    ]
    return filters + list(extra)


def _one(items: list[Any], key: str) -> str | None:
    """The single match's id; none or several (ambiguous) adopt nothing."""
    return str(items[0][key]) if len(items) == 1 else None


def _named(after: dict[str, Any]) -> bool:
    tags = after.get("tags_all") or after.get("tags") or {}
    return bool(tags.get("Name"))


def _vpc(scope: Scope, after: dict[str, Any]) -> str | None:
    if not _named(after) or not after.get("cidr_block"):
        return None
    found = scope.ec2.describe_vpcs(
        Filters=ec2_filters(after, {"Name": "cidr-block", "Values": [after["cidr_block"]]})
    )["Vpcs"]
    return _one(found, "VpcId")


def _subnet(scope: Scope, after: dict[str, Any]) -> str | None:
    if not after.get("cidr_block") or not after.get("vpc_id"):
        return None
    found = scope.ec2.describe_subnets(
        Filters=[
            {"Name": "vpc-id", "Values": [after["vpc_id"]]},
            {"Name": "cidr-block", "Values": [after["cidr_block"]]},
        ]
    )["Subnets"]
    return _one(found, "SubnetId")


def _by_name_tag(operation: str, items_key: str, id_key: str, *extra: FilterTypeDef) -> Finder:
    def find(scope: Scope, after: dict[str, Any]) -> str | None:
        if not _named(after):
            return None
        ec2 = scope.ec2
        found = getattr(ec2, operation)(Filters=ec2_filters(after, *extra))[items_key]
        return _one(found, id_key)

    return find


def _route_table(scope: Scope, route_table_id: str) -> dict[str, Any] | None:
    found = scope.ec2.describe_route_tables(RouteTableIds=[route_table_id])["RouteTables"]
    return dict(found[0]) if len(found) == 1 else None


def _route(scope: Scope, after: dict[str, Any]) -> str | None:
    """A route is its table and destination: CreateRoute refuses a second one
    (RouteAlreadyExists), so an orphan must be adopted."""
    table_id, destination = after.get("route_table_id"), after.get("destination_cidr_block")
    if not table_id or not destination:
        return None
    table = _route_table(scope, table_id)
    routes = [r for r in (table or {}).get("Routes", []) if r.get("Origin") == "CreateRoute"]
    if any(r.get("DestinationCidrBlock") == destination for r in routes):
        return f"{table_id}_{destination}"
    return None


def _route_table_association(scope: Scope, after: dict[str, Any]) -> str | None:
    """A subnet has one route table association (Resource.AlreadyAssociated)."""
    table_id, subnet_id = after.get("route_table_id"), after.get("subnet_id")
    if not table_id or not subnet_id:
        return None
    table = _route_table(scope, table_id)
    associations = (table or {}).get("Associations", [])
    if any(a.get("SubnetId") == subnet_id for a in associations):
        return f"{subnet_id}/{table_id}"
    return None


def _nat_gateway(scope: Scope, after: dict[str, Any]) -> str | None:
    if not _named(after):
        return None
    # botocore names this parameter Filter (the stubs say Filters, which EC2 rejects).
    found = scope.ec2.describe_nat_gateways(  # type: ignore[call-arg]
        Filter=ec2_filters(after, {"Name": "state", "Values": ["pending", "available"]})
    )["NatGateways"]
    return _one(found, "NatGatewayId")


def _security_group(scope: Scope, after: dict[str, Any]) -> str | None:
    if not after.get("name") or not after.get("vpc_id"):
        return None
    found = scope.ec2.describe_security_groups(
        Filters=[
            {"Name": "group-name", "Values": [after["name"]]},
            {"Name": "vpc-id", "Values": [after["vpc_id"]]},
        ]
    )["SecurityGroups"]
    return _one(found, "GroupId")


def _security_group_rule(egress: bool) -> Finder:
    """A rule is its group, direction, protocol, ports and peer: AuthorizeSecurityGroup*
    refuses a second one (InvalidPermission.Duplicate), so an orphan must be adopted."""

    def find(scope: Scope, after: dict[str, Any]) -> str | None:
        group = after.get("security_group_id")
        protocol = after.get("ip_protocol")
        if not group or not protocol:
            return None
        everything = str(protocol) == "-1"
        wanted = {
            "IsEgress": egress,
            "IpProtocol": str(protocol),
            "FromPort": -1 if everything else after.get("from_port"),
            "ToPort": -1 if everything else after.get("to_port"),
            "CidrIpv4": after.get("cidr_ipv4"),
            "CidrIpv6": after.get("cidr_ipv6"),
            "PrefixListId": after.get("prefix_list_id"),
            "ReferencedGroupId": after.get("referenced_security_group_id"),
        }
        ec2 = scope.ec2
        rules = []
        for page in ec2.get_paginator("describe_security_group_rules").paginate(
            Filters=[{"Name": "group-id", "Values": [group]}]
        ):
            rules.extend(page["SecurityGroupRules"])
        matches = [
            rule
            for rule in rules
            if {
                "IsEgress": rule.get("IsEgress"),
                "IpProtocol": rule.get("IpProtocol"),
                "FromPort": -1 if everything else rule.get("FromPort"),
                "ToPort": -1 if everything else rule.get("ToPort"),
                "CidrIpv4": rule.get("CidrIpv4"),
                "CidrIpv6": rule.get("CidrIpv6"),
                "PrefixListId": rule.get("PrefixListId"),
                "ReferencedGroupId": (rule.get("ReferencedGroupInfo") or {}).get("GroupId"),
            }
            == wanted
        ]
        return _one(matches, "SecurityGroupRuleId")

    return find


def _kms_key(scope: Scope, after: dict[str, Any]) -> str | None:
    name = (after.get("tags_all") or after.get("tags") or {}).get("Name")
    if not name:
        return None
    kms = scope.kms
    matches = []
    for page in kms.get_paginator("list_keys").paginate():
        for key in page["Keys"]:
            meta = kms.describe_key(KeyId=key["KeyId"])["KeyMetadata"]
            if meta.get("KeyState") in ("PendingDeletion", "PendingReplicaDeletion"):
                continue
            if meta.get("KeyManager") != "CUSTOMER":
                continue
            tags = kms.list_resource_tags(KeyId=key["KeyId"]).get("Tags", [])
            if {"TagKey": "Name", "TagValue": name} in tags and meta.get(
                "Description", ""
            ) == after.get("description", ""):
                matches.append({"KeyId": key["KeyId"]})
    return _one(matches, "KeyId")


def _absent_is_none(call: Callable[[], str]) -> str | None:
    try:
        return call()
    except botocore.exceptions.ClientError as exc:
        code = exc.response.get("Error", {}).get("Code", "")
        status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
        if (
            status == 404
            or "NotFound" in code
            or "NoSuch" in code
            or code
            in (
                "ResourceNotFoundException",
                "RepositoryNotFoundException",
                "ApplicationDoesNotExistException",
                "DeploymentGroupDoesNotExistException",
                "PipelineNotFoundException",
                "RepositoryDoesNotExistException",
                "LoadBalancerNotFound",
                "TargetGroupNotFound",
                "404",
            )
        ):
            return None
        raise


def _iam_role(scope: Scope, after: dict[str, Any]) -> str | None:
    name = after.get("name")
    if not name:
        return None
    return _absent_is_none(lambda: scope.iam.get_role(RoleName=name)["Role"]["RoleName"])


def _iam_policy(scope: Scope, after: dict[str, Any]) -> str | None:
    name = after.get("name")
    if not name:
        return None
    iam = scope.iam
    for page in iam.get_paginator("list_policies").paginate(Scope="Local"):
        for policy in page["Policies"]:
            if policy["PolicyName"] == name and policy.get("Path", "/") == after.get("path", "/"):
                return str(policy["Arn"])
    return None


def _log_group(scope: Scope, after: dict[str, Any]) -> str | None:
    name = after.get("name")
    if not name:
        return None
    found = scope.logs.describe_log_groups(logGroupNamePrefix=name)["logGroups"]
    return name if any(g["logGroupName"] == name for g in found) else None


def _load_balancer(scope: Scope, after: dict[str, Any]) -> str | None:
    name = after.get("name")
    if not name:
        return None
    return _absent_is_none(
        lambda: scope.elbv2.describe_load_balancers(Names=[name])["LoadBalancers"][0][
            "LoadBalancerArn"
        ]
    )


def _target_group(scope: Scope, after: dict[str, Any]) -> str | None:
    name = after.get("name")
    if not name:
        return None
    return _absent_is_none(
        lambda: scope.elbv2.describe_target_groups(Names=[name])["TargetGroups"][0][
            "TargetGroupArn"
        ]
    )


def _ecs_service(scope: Scope, after: dict[str, Any]) -> str | None:
    name, cluster = after.get("name"), after.get("cluster")
    if not name or not cluster:
        return None
    found = scope.ecs.describe_services(cluster=cluster, services=[name])["services"]
    live = [s for s in found if s.get("status") != "INACTIVE"]
    cluster_name = str(cluster).rsplit("/", 1)[-1]
    return f"{cluster_name}/{name}" if len(live) == 1 else None


def _by_name(service: str, method: str, argument: str, *, items_key: str | None = None) -> Finder:
    """Resources imported by their name, found by a describe/get that fails when absent
    (or, with ``items_key``, that lists what it found there)."""

    def find(scope: Scope, after: dict[str, Any]) -> str | None:
        name = after.get("name")
        if not name:
            return None
        value: Any = [name] if items_key else name

        def call() -> str:
            result = getattr(scope.client(service), method)(**{argument: value})
            if items_key and not result.get(items_key):
                raise botocore.exceptions.ClientError(
                    {"Error": {"Code": "NotFound", "Message": ""}}, method
                )
            return str(name)

        return _absent_is_none(call)

    return find


def _deployment_group(scope: Scope, after: dict[str, Any]) -> str | None:
    app, group = after.get("app_name"), after.get("deployment_group_name")
    if not app or not group:
        return None
    codedeploy = scope.codedeploy
    return _absent_is_none(
        lambda: (
            codedeploy.get_deployment_group(applicationName=app, deploymentGroupName=group)
            and f"{app}:{group}"
        )
    )


def _s3_bucket(scope: Scope, after: dict[str, Any]) -> str | None:
    name = after.get("bucket")
    if not name:
        return None
    return _absent_is_none(lambda: scope.s3.head_bucket(Bucket=name) and str(name))


#: Resource types whose create is not idempotent, and how to find one that exists.
#: Upserting creates (alarms, dashboards, event rules, topics, ECS clusters) need
#: nothing; task definition revisions are not adopted (a stray revision is inert).
FINDERS: dict[str, Finder] = {
    "aws_vpc": _vpc,
    "aws_subnet": _subnet,
    "aws_route_table": _by_name_tag("describe_route_tables", "RouteTables", "RouteTableId"),
    "aws_internet_gateway": _by_name_tag(
        "describe_internet_gateways", "InternetGateways", "InternetGatewayId"
    ),
    "aws_eip": _by_name_tag("describe_addresses", "Addresses", "AllocationId"),
    "aws_route": _route,
    "aws_route_table_association": _route_table_association,
    "aws_nat_gateway": _nat_gateway,
    "aws_security_group": _security_group,
    "aws_vpc_security_group_ingress_rule": _security_group_rule(egress=False),
    "aws_vpc_security_group_egress_rule": _security_group_rule(egress=True),
    "aws_vpc_endpoint": _by_name_tag(
        "describe_vpc_endpoints",
        "VpcEndpoints",
        "VpcEndpointId",
        {"Name": "vpc-endpoint-state", "Values": ["pending", "available"]},
    ),
    "aws_flow_log": _by_name_tag("describe_flow_logs", "FlowLogs", "FlowLogId"),
    "aws_kms_key": _kms_key,
    "aws_iam_role": _iam_role,
    "aws_iam_policy": _iam_policy,
    "aws_cloudwatch_log_group": _log_group,
    "aws_lb": _load_balancer,
    "aws_lb_target_group": _target_group,
    "aws_ecs_service": _ecs_service,
    "aws_ecr_repository": _by_name(
        "ecr", "describe_repositories", "repositoryNames", items_key="repositories"
    ),
    "aws_codebuild_project": _by_name(
        "codebuild", "batch_get_projects", "names", items_key="projects"
    ),
    "aws_codepipeline": _by_name("codepipeline", "get_pipeline", "name"),
    "aws_codedeploy_app": _by_name("codedeploy", "get_application", "applicationName"),
    "aws_codedeploy_deployment_group": _deployment_group,
    "aws_codecommit_repository": _by_name("codecommit", "get_repository", "repositoryName"),
    "aws_s3_bucket": _s3_bucket,
}


def _with_repository_name(finder: Finder, key: str) -> Finder:
    def find(scope: Scope, after: dict[str, Any]) -> str | None:
        return finder(scope, {**after, "name": after.get(key)})

    return find


FINDERS["aws_codecommit_repository"] = _with_repository_name(
    FINDERS["aws_codecommit_repository"], "repository_name"
)


def candidates(plan: dict[str, Any], scope: Scope) -> list[Adoption]:
    """Planned creates that already exist: what an interrupted apply left behind."""
    found = []
    for rc in plan.get("resource_changes", []) or []:
        if rc.get("mode") != "managed" or rc.get("change", {}).get("actions") != ["create"]:
            continue
        finder = FINDERS.get(rc.get("type", ""))
        if finder is None:
            continue
        after = rc["change"].get("after") or {}
        try:
            import_id = finder(scope, after)
        except botocore.exceptions.ClientError:
            continue  # cannot tell: adopt nothing rather than guess
        if import_id:
            found.append(Adoption(rc["address"], rc["type"], import_id))
    return found


# ---------------------------------------------------------------------------
# Planning the adoption: the stack plus `import` blocks
# ---------------------------------------------------------------------------
def adoption_root(
    project_root: Path, stack_dir: Path, data_dir: Path, adoptions: list[Adoption]
) -> Path:
    """A copy of the stack with `import` blocks, where its relative module sources work.

    `terraform import` evaluates the whole configuration against the partial
    state and fails on any output that indexes a missing instance; `import`
    blocks are planned with everything else and do not. The copy sits at the
    stack's own place in a mirror of the project (its other top-level folders
    linked), so ``../../../modules/...`` resolves as it does for the stack.
    """
    base = data_dir / "adopt-root"
    shutil.rmtree(base, ignore_errors=True)
    root = base / stack_dir.relative_to(project_root)
    shutil.copytree(
        stack_dir, root, ignore=shutil.ignore_patterns(".terraform", "*.tfstate*", "*.tfplan")
    )
    # Everything a stack may reach by a relative path (modules, the function
    # packages) is linked at the same place as in the project.
    top = stack_dir.relative_to(project_root).parts[0]
    for entry in project_root.iterdir():
        if entry.name != top and not entry.name.startswith("."):
            (base / entry.name).symlink_to(entry, target_is_directory=entry.is_dir())
    blocks = [
        "# Written by the deployer: resources an interrupted apply created but never\n"
        "# recorded, adopted into state by this plan.\n"
    ]
    for adoption in adoptions:
        blocks.append(
            f"import {{\n  to = {adoption.address}\n  id = {json.dumps(adoption.import_id)}\n}}\n"
        )
    (root / "deployer_adoptions.tf").write_text("\n".join(blocks))
    return root


def remove_adoption_root(data_dir: Path) -> None:
    shutil.rmtree(data_dir / "adopt-root", ignore_errors=True)
    shutil.rmtree(data_dir / "adopt-data", ignore_errors=True)
