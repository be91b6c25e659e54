"""``deployer dr status``: whether an environment's DR region could take production now.

Per microservice of a two-region environment, with the AWS API only (the same calls on
AWS and on the local emulator). The command is for a bad day: it reads nothing in the
primary region but what the DR region must be compared against, and when the primary's
API fails it says which checks could not compare and why, and still reports the rest.

* **image**: the image the primary's service runs (DescribeServices' task definition,
  DescribeTaskDefinition's container image, resolved to its digest with ECR
  DescribeImages in the delivery account's repository of the primary region) exists in
  the delivery account's repository of the DR region (ECR replication);
* **task definition**: the DR service's task definition runs that digest (its image
  resolved in the DR region's repository) with the same settings: task cpu and memory,
  the container's environment, its secrets' names (their ARNs differ by region), port
  mappings and health check;
* **parameters**: the DR region's SSM parameters under ``/pipeline/<env>/<service>/`` and
  ``/pipeline/<env>/shared/`` (GetParametersByPath, decrypted) have the primary's names
  and values. Values are compared as SHA-256 digests and never printed nor put in the
  JSON document: only the names that differ are;
* **capacity**: the DR service runs its standby count (``regions[1].standby_count``), or
  its desired count when it serves (by the configuration's ``serving``, or the serving
  record once ``dr failover`` or ``failback`` wrote one): DescribeServices' running =
  desired = that count, and DescribeTargetHealth of its blue and green target groups
  reports that many healthy targets and no unhealthy one;
* **deployment**: no CodeDeploy deployment of its deployment group in flight
  (ListDeployments, statuses Created, Queued, InProgress, Baking, Ready);
* **alarms**: its alarms (three metric alarms and the composite health alarm) exist and
  are OK (DescribeAlarms);
* **health checks**: with ``dns``, Route 53's current view of the service's failover
  records' health checks (ListResourceRecordSets of the zone in the delivery account,
  GetHealthCheckStatus of each record's check). Route 53's control plane is in
  us-east-1: when it does not answer, the check says so. Without ``dns``, skipped;
* **state replica**: the Terraform state's replica in the DR region holds the newest
  version of each of the environment's workspaces' state, and both replication rules
  are in place (deployer/state_replica.py ``check``: S3 GetBucketReplication of both
  buckets, HeadObject of each state in both); with the state region down, ``unknown``,
  saying what the replica holds and when it was written;

A check is ``ok``, a ``gap`` (named with its fix: a command or a configuration change),
``unknown`` (could not compare: the primary's API failed; not a gap: on the day the
primary is down that is expected) or ``skipped``. Ready: no gap.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from typing import TYPE_CHECKING, Any

from botocore.exceptions import BotoCoreError, ClientError

from deployer.config import Config, Environment
from deployer.errors import UsageError
from deployer.names import SHARED_NAMESPACE, ServiceNames, TargetNames, parameter_path
from deployer.output import table

if TYPE_CHECKING:
    from deployer.state_replica import ReplicaCheck

OK, GAP, UNKNOWN, SKIPPED = "ok", "gap", "unknown", "skipped"
#: CodeDeploy statuses of a deployment that has not ended.
IN_FLIGHT = ("Created", "Queued", "InProgress", "Baking", "Ready")
#: The row of what is the environment's, not one service's.
ENVIRONMENT_ROW = "(environment)"


@dataclass(frozen=True)
class Check:
    service: str
    check: str
    status: str
    detail: str
    fix: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "service": self.service,
            "check": self.check,
            "status": self.status,
            "detail": self.detail,
            "fix": self.fix,
        }


@dataclass(frozen=True)
class Sources:
    """Where each read goes: clients of the environment's account in the primary and the
    DR region, of the delivery account's ECR per region, and of Route 53 (the zone's
    account); the names the runtime stack gives in each region."""

    primary: Callable[[str], Any]  # AWS service name -> client in the primary region
    dr: Callable[[str], Any]  # the same in the DR region
    delivery_ecr: Callable[[str], Any]  # region -> ECR client of the delivery account
    route53: Callable[[], Any]  # Route 53 client of the zone's (delivery) account
    primary_names: TargetNames
    dr_names: TargetNames
    #: The state replica's check (deployer/state_replica.py ``check`` of the environment's
    #: workspaces); None: not checked (the row says so).
    state_replica: Callable[[], ReplicaCheck] | None = None


@dataclass
class Status:
    environment: str
    primary: str
    dr: str
    serving: str
    checks: list[Check] = field(default_factory=list)

    @property
    def ready(self) -> bool:
        return not any(c.status == GAP for c in self.checks)

    def to_json(self) -> dict[str, Any]:
        return {
            "environment": self.environment,
            "primary_region": self.primary,
            "dr_region": self.dr,
            "serving_region": self.serving,
            "ready": self.ready,
            "checks": [c.to_json() for c in self.checks],
            "gaps": [c.to_json() for c in self.checks if c.status == GAP],
        }

    def to_text(self) -> str:
        rows = [(c.service, c.check, c.status, c.detail) for c in self.checks]
        lines = [
            f"{self.environment}: can {self.dr} take production from {self.primary}? "
            + ("ready" if self.ready else "NOT READY"),
            "",
            table(("SERVICE", "CHECK", "STATUS", "DETAIL"), rows),
        ]
        gaps = [c for c in self.checks if c.status == GAP]
        if gaps:
            lines += ["", "to fix:"]
            lines += [f"  {c.service} {c.check}: {c.fix}" for c in gaps]
        return "\n".join(lines)


def dr_region_of(config: Config, env: Environment) -> str:
    """The DR region, or a usage error: an environment with one region has none."""
    if env.stack != "runtime":
        raise UsageError(f"{env.name} uses the {env.stack} stack, which deploys no services")
    if env.dr_region is None:
        raise UsageError(
            f"{env.name} has one region ({env.primary_region}): nothing to fail over to",
            hint=f"add a second region to environments/{env.file.name}",
        )
    return env.dr_region


def _failure(exc: Exception) -> str:
    if isinstance(exc, ClientError):
        error = exc.response.get("Error", {})
        code = error.get("Code") or exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
        return f"{exc.operation_name}: {code}: {error.get('Message', '')}".rstrip(": ")
    return str(exc)


class _Unavailable(Exception):
    """A read of the primary region failed: what it was and why."""


def _primary(what: str, call: Callable[[], Any]) -> Any:
    try:
        return call()
    except (ClientError, BotoCoreError) as exc:
        raise _Unavailable(f"{what} in the primary region failed ({_failure(exc)})") from exc


# ---------------------------------------------------------------------------
# Reads
# ---------------------------------------------------------------------------
def _service(ecs: Any, cluster: str, service: str) -> dict[str, Any] | None:
    found = ecs.describe_services(cluster=cluster, services=[service]).get("services", [])
    active = [s for s in found if s.get("status") == "ACTIVE"]
    return active[0] if active else None


def _task_definition(ecs: Any, arn: str) -> dict[str, Any]:
    return dict(ecs.describe_task_definition(taskDefinition=arn)["taskDefinition"])


def _container(task_definition: dict[str, Any], name: str) -> dict[str, Any]:
    for container in task_definition.get("containerDefinitions", []):
        if container.get("name") == name:
            return dict(container)
    return {}


def settings(task_definition: dict[str, Any], container_name: str) -> dict[str, Any]:
    """What must be equal in both regions (the image aside, compared by digest)."""
    container = _container(task_definition, container_name)
    return {
        "cpu": str(task_definition.get("cpu")),
        "memory": str(task_definition.get("memory")),
        "environment": sorted(
            (e["name"], e.get("value")) for e in container.get("environment", [])
        ),
        "secrets": sorted(s["name"] for s in container.get("secrets", [])),
        "ports": sorted(p.get("containerPort") for p in container.get("portMappings", [])),
        "health_check": container.get("healthCheck"),
    }


def _split_image(image: str) -> tuple[str, dict[str, str]]:
    """``<host>/<repository>:<tag>`` or ``@<digest>``: the repository and ECR's image id."""
    path = image.split("/", 1)[1] if "/" in image else image
    if "@" in path:
        repository, digest = path.split("@", 1)
        return repository, {"imageDigest": digest}
    repository, _, tag = path.rpartition(":")
    return (repository, {"imageTag": tag}) if repository else (path, {"imageTag": "latest"})


def _digest(ecr: Any, image: str) -> str | None:
    """The digest of ``image`` in ``ecr``'s region, or None when the repository lacks it."""
    repository, image_id = _split_image(image)
    try:
        found = ecr.describe_images(repositoryName=repository, imageIds=[image_id])
    except ClientError as exc:
        code = exc.response.get("Error", {}).get("Code")
        if code in ("ImageNotFoundException", "RepositoryNotFoundException"):
            return None
        raise
    details = found.get("imageDetails", [])
    return str(details[0]["imageDigest"]) if details else None


def _region_of(image: str) -> str | None:
    host = image.split("/", 1)[0]
    parts = host.split(".")
    return parts[3] if len(parts) > 4 and parts[1:3] == ["dkr", "ecr"] else None


def parameter_digests(ssm: Any, path: str) -> dict[str, str]:
    """Each parameter under ``path`` (its name after the path) -> SHA-256 of its value.
    Values are decrypted to be hashed and dropped here: nothing else sees them."""
    digests: dict[str, str] = {}
    for page in ssm.get_paginator("get_parameters_by_path").paginate(
        Path=path, Recursive=True, WithDecryption=True
    ):
        for parameter in page.get("Parameters", []):
            value = str(parameter.get("Value", "")).encode()
            digests[parameter["Name"].removeprefix(path)] = hashlib.sha256(value).hexdigest()
    return digests


# ---------------------------------------------------------------------------
# Checks
# ---------------------------------------------------------------------------
@dataclass(frozen=True)
class _PrimaryView:
    """What the DR side is compared against, or why it could not be read."""

    image: str | None = None
    digest: str | None = None
    settings: dict[str, Any] | None = None
    failed: str | None = None


def _read_primary(sources: Sources, names: ServiceNames, cluster: str, region: str) -> _PrimaryView:
    # The clients are made inside _primary: making one may call the primary region
    # (a role's assumption), which fails with it.
    try:
        service = _primary(
            f"ECS DescribeServices of {names.service_name}",
            lambda: _service(sources.primary("ecs"), cluster, names.service_name),
        )
        if service is None:
            return _PrimaryView(failed=f"{names.service_name} does not exist in {region}")
        td = _primary(
            "ECS DescribeTaskDefinition",
            lambda: _task_definition(sources.primary("ecs"), service["taskDefinition"]),
        )
        image = str(_container(td, names.container_name).get("image", ""))
        digest = _primary(
            f"ECR DescribeImages of {image}",
            lambda: _digest(sources.delivery_ecr(_region_of(image) or region), image),
        )
    except _Unavailable as exc:
        return _PrimaryView(failed=str(exc))
    return _PrimaryView(image, digest, settings(td, names.container_name))


def _service_checks(
    sources: Sources,
    env: Environment,
    dr: str,
    microservice: str,
    delivery: str,
    progress: Callable[[str], None],
    *,
    serving: str,
    want: int,
) -> list[Check]:
    pnames = sources.primary_names.service(microservice)
    dnames = sources.dr_names.service(microservice)
    out: list[Check] = []

    def add(check: str, status: str, detail: str, fix: str | None = None) -> None:
        out.append(Check(microservice, check, status, detail, fix))

    progress(f"dr status: {microservice}: reading the primary's task definition")
    primary = _read_primary(
        sources, pnames, sources.primary_names.cluster_name, sources.primary_names.key
    )
    progress(f"dr status: {microservice}: reading {dr}")
    ecs = sources.dr("ecs")
    service = _service(ecs, sources.dr_names.cluster_name, dnames.service_name)
    apply = f"deployer apply {env.name} --region {dr}"
    if service is None:
        add("service", GAP, f"{dnames.service_name} does not exist in {dr}", apply)
        return out
    td = _task_definition(ecs, service["taskDefinition"])
    dr_image = str(_container(td, dnames.container_name).get("image", ""))
    dr_ecr = sources.delivery_ecr(dr)
    dr_digest = _digest(dr_ecr, dr_image)
    repository = _split_image(dnames.image_repository)[0]

    # image: the primary's digest is in the DR region's repository
    if primary.failed:
        runs = f"{dr} runs {dr_digest}, in its ECR" if dr_digest else f"{dr_image} is not in {dr}"
        add("image", UNKNOWN, f"{runs}; could not compare: {primary.failed}")
    elif primary.digest is None:
        add("image", UNKNOWN, f"could not compare: {primary.image} is not in the primary's ECR")
    elif _digest(dr_ecr, f"{repository}@{primary.digest}") is None:
        add(
            "image",
            GAP,
            f"{primary.digest} (production's image) is not in {repository} in {dr}",
            f"check the delivery stack's ECR replication to {dr} (deployer plan "
            f"{delivery}), or push {primary.digest} to {dnames.image_repository}",
        )
    else:
        add("image", OK, f"{primary.digest} is in {repository} in {dr}")

    # task definition: the DR service runs that digest with the same settings
    if primary.failed or primary.settings is None:
        if dr_digest is None:
            add("task definition", GAP, f"{dr_image} is not in {dr}'s ECR", apply)
        else:
            add("task definition", UNKNOWN, f"could not compare: {primary.failed}")
    else:
        drift = [
            key
            for key, value in settings(td, dnames.container_name).items()
            if primary.settings.get(key) != value
        ]
        if primary.digest is not None and dr_digest != primary.digest:
            drift.insert(0, f"image ({dr_digest or dr_image + ' not found'})")
        if drift:
            add(
                "task definition",
                GAP,
                f"{td.get('family')}:{td.get('revision')} differs from the primary's: "
                + ", ".join(drift),
                f"deploy production's version to {dr}: deployer rollback {env.name} "
                f"--region {dr} --service {microservice} --to <the primary's deployment>, "
                f"or {apply} for the settings",
            )
        else:
            add("task definition", OK, f"{td.get('family')}:{td.get('revision')} matches")

    # capacity: running = desired = the count it should run, all healthy
    role = "desired" if serving == dr else "standby"
    running, desired = service.get("runningCount", 0), service.get("desiredCount", 0)
    elb = sources.dr("elbv2")
    healthy = unhealthy = 0
    groups = elb.describe_target_groups(
        Names=[dnames.target_group_names.blue, dnames.target_group_names.green]
    )["TargetGroups"]
    for group in groups:
        for target in elb.describe_target_health(TargetGroupArn=group["TargetGroupArn"])[
            "TargetHealthDescriptions"
        ]:
            state = target.get("TargetHealth", {}).get("State")
            healthy += state == "healthy"
            unhealthy += state in ("unhealthy", "unavailable")
    detail = f"running {running}, desired {desired}, {role} {want}; {healthy} healthy targets"
    if running == desired == want and healthy >= want and not unhealthy:
        add("capacity", OK, detail)
    else:
        fix = (
            apply
            if desired != want
            else f"wait for {dnames.service_name}'s tasks to start and pass health checks "
            "(aws ecs describe-services shows why they do not)"
        )
        add("capacity", GAP, detail + (f", {unhealthy} unhealthy" if unhealthy else ""), fix)

    # deployment: none in flight
    codedeploy = sources.dr("codedeploy")
    try:
        in_flight = codedeploy.list_deployments(
            applicationName=sources.dr_names.application_name,
            deploymentGroupName=dnames.deployment_group_name,
            includeOnlyStatuses=list(IN_FLIGHT),
        ).get("deployments", [])
    except ClientError as exc:
        add("deployment", GAP, f"could not list deployments ({_failure(exc)})", apply)
    else:
        if in_flight:
            add(
                "deployment",
                GAP,
                f"{', '.join(in_flight)} in flight",
                f"wait for it (deployer deployments {env.name} --region {dr} --service "
                f"{microservice}) or stop it (aws deploy stop-deployment --deployment-id "
                f"{in_flight[0]} --auto-rollback-enabled --region {dr})",
            )
        else:
            add("deployment", OK, "none in flight")

    # alarms: all exist and are OK
    cloudwatch = sources.dr("cloudwatch")
    alarms = dnames.alarm_names
    wanted = [*alarms.deployment, alarms.health]
    found = cloudwatch.describe_alarms(
        AlarmNames=wanted, AlarmTypes=["MetricAlarm", "CompositeAlarm"]
    )
    states = {
        a["AlarmName"]: a["StateValue"]
        for a in [*found.get("MetricAlarms", []), *found.get("CompositeAlarms", [])]
    }
    missing = [name for name in wanted if name not in states]
    bad = sorted(f"{name} {state}" for name, state in states.items() if state != "OK")
    if missing:
        add("alarms", GAP, f"missing: {', '.join(missing)}", apply)
    elif bad:
        add(
            "alarms",
            GAP,
            ", ".join(bad),
            f"find why in {dr} (aws cloudwatch describe-alarms --alarm-names "
            f"{bad[0].split()[0]} --region {dr}) and mend the service",
        )
    else:
        add("alarms", OK, f"{len(wanted)} alarms OK")
    return out


def _primary_digests(sources: Sources, path: str) -> dict[str, str]:
    return parameter_digests(sources.primary("ssm"), path)


def _parameter_checks(
    sources: Sources, env: Environment, dr: str, namespaces: list[str]
) -> list[Check]:
    out = []
    for namespace in namespaces:
        path = parameter_path(env.name, namespace)
        row = namespace if namespace != SHARED_NAMESPACE else ENVIRONMENT_ROW
        dr_side = parameter_digests(sources.dr("ssm"), path)
        try:
            primary = _primary(
                f"SSM GetParametersByPath {path}",
                partial(_primary_digests, sources, path),
            )
        except _Unavailable as exc:
            out.append(
                Check(
                    row,
                    "parameters",
                    UNKNOWN,
                    f"{path}: {len(dr_side)} in {dr}; could not compare: {exc}",
                )
            )
            continue
        missing = sorted(set(primary) - set(dr_side))
        extra = sorted(set(dr_side) - set(primary))
        differ = sorted(k for k in set(primary) & set(dr_side) if primary[k] != dr_side[k])
        problems = [
            f"{label}: {', '.join(keys)}"
            for label, keys in (("missing in DR", missing), ("only in DR", extra),
                                ("values differ", differ))
            if keys
        ]  # fmt: skip
        if problems:
            out.append(
                Check(
                    row,
                    "parameters",
                    GAP,
                    f"{path}: " + "; ".join(problems),
                    f"deployer seed {env.name} --region {dr} (for secrets: put the primary's "
                    f"value under {path} in {dr})",
                )
            )
        else:
            out.append(Check(row, "parameters", OK, f"{path}: {len(primary)} match (by digest)"))
    return out


def _check_view(route53: Any, check_id: str) -> tuple[bool | None, str]:
    """Route 53's view of one health check: healthy (None: no checker reported yet) and
    in words. A calculated check (the primary's, with the traffic switch) has no status
    of its own to ask for (GetHealthCheckStatus refuses one): its children's are given."""
    config = route53.get_health_check(HealthCheckId=check_id)["HealthCheck"]["HealthCheckConfig"]
    if config.get("Type") == "CALCULATED":
        children = [_check_view(route53, c) for c in config.get("ChildHealthChecks", [])]
        threshold = config.get("HealthThreshold", len(children))
        up = sum(1 for ok, _ in children if ok is not False)
        words = "; ".join(seen for _, seen in children)
        return up >= threshold, f"calculated, {up} of {len(children)} healthy ({words})"
    observations = route53.get_health_check_status(HealthCheckId=check_id)[
        "HealthCheckObservations"
    ]
    healthy = sum(
        o.get("StatusReport", {}).get("Status", "").startswith("Success") for o in observations
    )
    kind = "the traffic switch's alarm" if config.get("Type") == "CLOUDWATCH_METRIC" else "checkers"
    seen = f"{healthy}/{len(observations)} {kind} healthy"
    return (bool(healthy) if observations else None), seen


def _health_check_checks(
    sources: Sources, config: Config, env: Environment, dr: str
) -> list[Check]:
    if env.dns is None:
        return [
            Check(
                ENVIRONMENT_ROW,
                "health checks",
                SKIPPED,
                "no dns in the configuration: no failover names, no health checks",
            )
        ]
    out = []
    try:
        route53 = sources.route53()
        zones = route53.list_hosted_zones_by_name(DNSName=env.dns.zone + ".")["HostedZones"]
        zone = next((z for z in zones if z["Name"] == env.dns.zone + "."), None)
        if zone is None:
            return [
                Check(
                    ENVIRONMENT_ROW,
                    "health checks",
                    GAP,
                    f"no hosted zone {env.dns.zone}",
                    f"deployer apply {config.delivery_environment}",
                )
            ]
        for m in config.microservices:
            name = env.dns.record_name(m.name) + "."
            records = route53.list_resource_record_sets(
                HostedZoneId=zone["Id"], StartRecordName=name, StartRecordType="A"
            )["ResourceRecordSets"]
            views = []
            for record in records:
                if record["Name"] != name or "HealthCheckId" not in record:
                    continue
                healthy, seen = _check_view(route53, record["HealthCheckId"])
                views.append(f"{record.get('SetIdentifier')} ({record.get('Failover')}): {seen}")
                if record.get("SetIdentifier") == dr and healthy is False:
                    out.append(
                        Check(
                            m.name,
                            "health checks",
                            GAP,
                            "; ".join(views),
                            f"Route 53 sees {dr}'s load balancer unhealthy: see its target "
                            "health and the capacity check",
                        )
                    )
                    break
            else:
                if not views:
                    out.append(Check(m.name, "health checks", GAP, f"no failover records for "
                                     f"{name}", f"deployer apply {env.name}"))  # fmt: skip
                else:
                    out.append(Check(m.name, "health checks", OK, "; ".join(views)))
    except (ClientError, BotoCoreError) as exc:
        out.append(
            Check(
                ENVIRONMENT_ROW,
                "health checks",
                UNKNOWN,
                f"Route 53's control plane (us-east-1) did not answer: {_failure(exc)}",
            )
        )
    return out


def _dr_unreadable(row: str, dr: str, exc: Exception) -> Check:
    """The DR region's API failed: that region cannot be shown ready."""
    return Check(
        row,
        "dr region",
        GAP,
        f"{dr}'s API failed: {_failure(exc)}",
        f"retry; a failover to {dr} needs its API (and this command's role there)",
    )


def status(
    sources: Sources,
    config: Config,
    env: Environment,
    *,
    progress: Callable[[str], None] = lambda _: None,
    serving: str | None = None,
) -> Status:
    """Every check of ``env``'s DR region (see the module docstring). ``serving``: the
    serving record's region, when there is one (deployer/failover.py); the
    configuration's otherwise."""
    dr = dr_region_of(config, env)
    serving = serving or env.serving_region
    found = Status(env.name, env.primary_region, dr, serving)
    # What the DR region's workspace runs (environments/stacks/runtime/serving.tf).
    want = env.desired_count(dr) if serving == dr else env.standby_count(dr)
    for m in config.microservices:
        try:
            found.checks += _service_checks(
                sources, env, dr, m.name, config.delivery_environment, progress,
                serving=serving, want=want,
            )  # fmt: skip
        except (ClientError, BotoCoreError) as exc:
            found.checks.append(_dr_unreadable(m.name, dr, exc))
    progress("dr status: parameters")
    namespaces = [m.name for m in config.microservices] + [SHARED_NAMESPACE]
    try:
        found.checks += _parameter_checks(sources, env, dr, namespaces)
    except (ClientError, BotoCoreError) as exc:
        found.checks.append(_dr_unreadable(ENVIRONMENT_ROW, dr, exc))
    progress("dr status: health checks")
    found.checks += _health_check_checks(sources, config, env, dr)
    found.checks.append(_state_replica_check(sources))
    return found


def _state_replica_check(sources: Sources) -> Check:
    """The Terraform state's replica (deployer/state_replica.py): current, behind (a
    gap, with its fix), or unknown when the state region does not answer."""
    if sources.state_replica is None:
        return Check(ENVIRONMENT_ROW, "state replica", SKIPPED, "not checked")
    from deployer import state_replica

    found = sources.state_replica()
    if found.current:
        status = OK
    elif found.current is False:
        status = GAP
    elif found.verdict in (state_replica.STATE_REGION_DOWN, state_replica.UNREADABLE):
        status = UNKNOWN
    else:  # no replica: the production environment has one region
        status = SKIPPED
    return Check(ENVIRONMENT_ROW, "state replica", status, found.detail, found.fix)
