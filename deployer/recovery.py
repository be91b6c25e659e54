"""Recovering from an apply that did not finish: adopt what it created but never recorded.

When Terraform is interrupted (Ctrl-C, SIGTERM, a CI timeout), it asks the AWS
provider to stop, and the provider cancels the API calls in flight. A create
that AWS already carried out but whose answer was cancelled leaves a resource
that exists and is in no state: the next apply would create it again. For a
subnet that is a CIDR conflict; for a VPC, a NAT gateway or a KMS key a silent
duplicate; for a named resource an "already exists" error.

So before each apply the deployer writes an in-flight marker next to the
workspace's state (``<state key>.inflight`` in the state bucket, visible from
any machine) and removes it when the apply succeeds. The next apply of a
workspace whose marker is still there plans, and for every resource the plan
would create looks for a real one with exactly that identity (its name, its
CIDR, or its Name tag, plus the stack's default tags): each one found is
imported into state (``terraform import``) and reported, then the plan is made
again. Nothing is deleted, and nothing is adopted that does not match what this
workspace's configuration creates.
"""

from __future__ import annotations

import json
import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import botocore.exceptions

from deployer.aws import ClientFactory, translate
from deployer.config import Config, Environment
from deployer.workspaces import Workspace

Finder = Callable[["Lookup", dict[str, Any]], "str | None"]


@dataclass(frozen=True)
class Adoption:
    address: str
    type: str
    import_id: str


# ---------------------------------------------------------------------------
# The in-flight marker
# ---------------------------------------------------------------------------
def marker_key(ws: Workspace) -> str:
    return ws.state_key() + ".inflight"


def _state_s3(config: Config, clients: ClientFactory) -> Any:
    delivery = config.delivery
    return clients.client(
        "s3",
        config.state.region,
        account_id=delivery.account_id,
        role_name=delivery.deploy_role_name,
    )


def mark_inflight(config: Config, clients: ClientFactory, ws: Workspace, run_id: str) -> None:
    body = json.dumps({"run_id": run_id, "started": time.strftime("%Y-%m-%dT%H:%M:%SZ")})
    try:
        _state_s3(config, clients).put_object(
            Bucket=config.state.bucket, Key=marker_key(ws), Body=body.encode()
        )
    except botocore.exceptions.ClientError as exc:
        raise translate(exc, f"mark the apply of {ws.name} in flight") from None


def clear_inflight(config: Config, clients: ClientFactory, ws: Workspace) -> None:
    try:
        _state_s3(config, clients).delete_object(Bucket=config.state.bucket, Key=marker_key(ws))
    except botocore.exceptions.ClientError as exc:
        raise translate(exc, f"clear the in-flight marker of {ws.name}") from None


def _read_state_object(config: Config, clients: ClientFactory, key: str, what: str) -> bytes | None:
    """An object next to the state in the state bucket; None when there is none."""
    try:
        body: bytes = (
            _state_s3(config, clients)
            .get_object(Bucket=config.state.bucket, Key=key)["Body"]
            .read()
        )
    except botocore.exceptions.ClientError as exc:
        if exc.response.get("Error", {}).get("Code") in ("NoSuchKey", "404"):
            return None
        raise translate(exc, f"read {what}") from None
    return body


def unfinished_run(config: Config, clients: ClientFactory, ws: Workspace) -> str | None:
    """The run ID of an earlier apply of this workspace that did not finish, if any."""
    body = _read_state_object(config, clients, marker_key(ws), f"the in-flight marker of {ws.name}")
    if body is None:
        return None
    try:
        return str(json.loads(body).get("run_id", "unknown"))
    except ValueError:
        return "unknown"


def current_lock(config: Config, clients: ClientFactory, ws: Workspace) -> dict[str, str] | None:
    """Terraform's lock on the workspace's state (its lock info), if one is held."""
    body = _read_state_object(config, clients, ws.lock_key(), f"the state lock of {ws.name}")
    if body is None:
        return None
    try:
        lock = json.loads(body)
    except ValueError:
        return {}
    return {str(k): str(v) for k, v in lock.items()} if isinstance(lock, dict) else {}


# ---------------------------------------------------------------------------
# Finding a planned resource that already exists
# ---------------------------------------------------------------------------
class Lookup:
    """boto3 clients in the workspace's account and region, plus the stack's tags."""

    def __init__(self, clients: ClientFactory, env: Environment, region: str) -> None:
        self._clients = clients
        self._env = env
        self.region = region
        self._cache: dict[str, Any] = {}

    def client(self, service: str) -> Any:
        if service not in self._cache:
            self._cache[service] = self._clients.client(
                service,
                self.region,
                account_id=self._env.account_id,
                role_name=self._env.deploy_role_name,
            )
        return self._cache[service]

    def ec2_filters(self, after: dict[str, Any], *extra: dict[str, Any]) -> list[dict[str, Any]]:
        """The planned Name tag and the stack's default tags, as EC2 filters."""
        tags = after.get("tags_all") or after.get("tags") or {}
        filters = [
            {"Name": f"tag:{key}", "Values": [value]}
            for key, value in tags.items()
            if key in ("Name", "Company", "Service", "Environment", "ManagedBy")
        ]
        return filters + list(extra)


def _one(items: list[Any], key: str) -> str | None:
    """The single match's id; none or several (ambiguous) adopt nothing."""
    return str(items[0][key]) if len(items) == 1 else None


def _named(after: dict[str, Any]) -> bool:
    tags = after.get("tags_all") or after.get("tags") or {}
    return bool(tags.get("Name"))


def _vpc(lookup: Lookup, after: dict[str, Any]) -> str | None:
    if not _named(after) or not after.get("cidr_block"):
        return None
    found = lookup.client("ec2").describe_vpcs(
        Filters=lookup.ec2_filters(after, {"Name": "cidr-block", "Values": [after["cidr_block"]]})
    )["Vpcs"]
    return _one(found, "VpcId")


def _subnet(lookup: Lookup, after: dict[str, Any]) -> str | None:
    if not after.get("cidr_block") or not after.get("vpc_id"):
        return None
    found = lookup.client("ec2").describe_subnets(
        Filters=[
            {"Name": "vpc-id", "Values": [after["vpc_id"]]},
            {"Name": "cidr-block", "Values": [after["cidr_block"]]},
        ]
    )["Subnets"]
    return _one(found, "SubnetId")


def _by_name_tag(operation: str, items_key: str, id_key: str, *extra: dict[str, Any]) -> Finder:
    def find(lookup: Lookup, after: dict[str, Any]) -> str | None:
        if not _named(after):
            return None
        ec2 = lookup.client("ec2")
        found = getattr(ec2, operation)(Filters=lookup.ec2_filters(after, *extra))[items_key]
        return _one(found, id_key)

    return find


def _nat_gateway(lookup: Lookup, after: dict[str, Any]) -> str | None:
    if not _named(after):
        return None
    found = lookup.client("ec2").describe_nat_gateways(
        Filter=lookup.ec2_filters(after, {"Name": "state", "Values": ["pending", "available"]})
    )["NatGateways"]
    return _one(found, "NatGatewayId")


def _security_group(lookup: Lookup, after: dict[str, Any]) -> str | None:
    if not after.get("name") or not after.get("vpc_id"):
        return None
    found = lookup.client("ec2").describe_security_groups(
        Filters=[
            {"Name": "group-name", "Values": [after["name"]]},
            {"Name": "vpc-id", "Values": [after["vpc_id"]]},
        ]
    )["SecurityGroups"]
    return _one(found, "GroupId")


def _security_group_rule(egress: bool) -> Finder:
    """A rule is its group, direction, protocol, ports and peer: AuthorizeSecurityGroup*
    refuses a second one (InvalidPermission.Duplicate), so an orphan must be adopted."""

    def find(lookup: Lookup, after: dict[str, Any]) -> str | None:
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
        ec2 = lookup.client("ec2")
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


def _kms_key(lookup: Lookup, after: dict[str, Any]) -> str | None:
    name = (after.get("tags_all") or after.get("tags") or {}).get("Name")
    if not name:
        return None
    kms = lookup.client("kms")
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


def _iam_role(lookup: Lookup, after: dict[str, Any]) -> str | None:
    name = after.get("name")
    if not name:
        return None
    return _absent_is_none(lambda: lookup.client("iam").get_role(RoleName=name)["Role"]["RoleName"])


def _iam_policy(lookup: Lookup, after: dict[str, Any]) -> str | None:
    name = after.get("name")
    if not name:
        return None
    iam = lookup.client("iam")
    for page in iam.get_paginator("list_policies").paginate(Scope="Local"):
        for policy in page["Policies"]:
            if policy["PolicyName"] == name and policy.get("Path", "/") == after.get("path", "/"):
                return str(policy["Arn"])
    return None


def _log_group(lookup: Lookup, after: dict[str, Any]) -> str | None:
    name = after.get("name")
    if not name:
        return None
    found = lookup.client("logs").describe_log_groups(logGroupNamePrefix=name)["logGroups"]
    return name if any(g["logGroupName"] == name for g in found) else None


def _load_balancer(lookup: Lookup, after: dict[str, Any]) -> str | None:
    name = after.get("name")
    if not name:
        return None
    return _absent_is_none(
        lambda: lookup.client("elbv2").describe_load_balancers(Names=[name])["LoadBalancers"][0][
            "LoadBalancerArn"
        ]
    )


def _target_group(lookup: Lookup, after: dict[str, Any]) -> str | None:
    name = after.get("name")
    if not name:
        return None
    return _absent_is_none(
        lambda: lookup.client("elbv2").describe_target_groups(Names=[name])["TargetGroups"][0][
            "TargetGroupArn"
        ]
    )


def _ecs_service(lookup: Lookup, after: dict[str, Any]) -> str | None:
    name, cluster = after.get("name"), after.get("cluster")
    if not name or not cluster:
        return None
    found = lookup.client("ecs").describe_services(cluster=cluster, services=[name])["services"]
    live = [s for s in found if s.get("status") != "INACTIVE"]
    cluster_name = str(cluster).rsplit("/", 1)[-1]
    return f"{cluster_name}/{name}" if len(live) == 1 else None


def _by_name(service: str, method: str, argument: str, *, items_key: str | None = None) -> Finder:
    """Resources imported by their name, found by a describe/get that fails when absent
    (or, with ``items_key``, that lists what it found there)."""

    def find(lookup: Lookup, after: dict[str, Any]) -> str | None:
        name = after.get("name")
        if not name:
            return None
        value: Any = [name] if items_key else name

        def call() -> str:
            result = getattr(lookup.client(service), method)(**{argument: value})
            if items_key and not result.get(items_key):
                raise botocore.exceptions.ClientError(
                    {"Error": {"Code": "NotFound", "Message": ""}}, method
                )
            return str(name)

        return _absent_is_none(call)

    return find


def _deployment_group(lookup: Lookup, after: dict[str, Any]) -> str | None:
    app, group = after.get("app_name"), after.get("deployment_group_name")
    if not app or not group:
        return None
    codedeploy = lookup.client("codedeploy")
    return _absent_is_none(
        lambda: (
            codedeploy.get_deployment_group(applicationName=app, deploymentGroupName=group)
            and f"{app}:{group}"
        )
    )


def _s3_bucket(lookup: Lookup, after: dict[str, Any]) -> str | None:
    name = after.get("bucket")
    if not name:
        return None
    return _absent_is_none(lambda: lookup.client("s3").head_bucket(Bucket=name) and str(name))


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
    def find(lookup: Lookup, after: dict[str, Any]) -> str | None:
        return finder(lookup, {**after, "name": after.get(key)})

    return find


FINDERS["aws_codecommit_repository"] = _with_repository_name(
    FINDERS["aws_codecommit_repository"], "repository_name"
)


def candidates(plan: dict[str, Any], lookup: Lookup) -> list[Adoption]:
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
            import_id = finder(lookup, after)
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
