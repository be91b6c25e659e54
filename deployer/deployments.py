"""A service's CodeDeploy deployments, and a rollback to an earlier one.

``deployer deployments ENV --service S`` lists what CodeDeploy deployed to the
service's deployment group, newest first (ListDeployments, then
BatchGetDeployments 25 at a time, ordered by ``createTime``): each deployment's
creator (``user``, ``codeDeployRollback``, ...), status, times, the task
definition its revision names (the AppSpec's ``TargetService`` resource, read
from an ``AppSpecContent`` or ``String`` revision or from the S3 object an ``S3``
revision points at; YAML or JSON), that task definition's images and whether
ECS still holds it, the outcome (CodeDeploy's ``errorInformation`` and
``rollbackInfo``), and which deployment the service runs now (the task
definition of its PRIMARY task set).

``deployer rollback ENV --service S [--to ID]`` deploys an earlier revision
through CodeDeploy blue/green, as the pipeline does (the appspec of
``drill.appspec``: the deploy guard on AfterAllowTestTraffic and
AfterAllowTraffic, the service's container name and port), then follows the
deployment to its end (GetDeployment; the ECS target's lifecycle events where
ListDeploymentTargets/BatchGetDeploymentTargets answer). Its default target is
the last deployment that succeeded before the one that deployed what the
service runs now, with another task definition that ECS can still deploy
(deregistered task definitions cannot be: ECS refuses an INACTIVE one for a
new task set). It refuses while a deployment of the group is unfinished (as
CreateDeployment would, with DeploymentLimitExceededException), and a ``--to``
that never succeeded, belongs to another group, deployed what runs now, or
names a task definition ECS can no longer deploy. The same API calls on the
local emulator and on AWS.

Left out: EC2/Lambda deployment groups (ECS only), GitHub and zip/tar bundle
revisions (the task definition is then reported unknown), re-registering a
deregistered task definition so it can be deployed again, and following the
automatic rollback deployment CodeDeploy starts when the rollback itself fails
(its id is reported).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import yaml
from botocore.exceptions import ClientError
from deploy_guard import statuses

from deployer import drill
from deployer.aws import translate
from deployer.errors import DeployerError, UsageError
from deployer.scope import Scope

#: BatchGetDeployments takes at most 25 deployment IDs a call.
BATCH = 25
#: The AppSpec resource type of an ECS service, and where its task definition is.
ECS_SERVICE = "AWS::ECS::Service"
#: ``DescribeTaskDefinition`` statuses; ``DELETED`` is ours: ECS no longer knows it.
ACTIVE = "ACTIVE"
DELETED = "DELETED"
TASK_DEFINITION_STATES = {
    ACTIVE: "active",
    "INACTIVE": "deregistered",
    "DELETE_IN_PROGRESS": "being deleted",
    DELETED: "deleted",
}
#: A rollback deployment's description names what it rolls back to.
DESCRIPTION = "deployer rollback to {}"
#: Lifecycle event statuses not worth a line while they last.
QUIET_EVENT_STATES = ("Pending", "Unknown")


class RollbackRefused(DeployerError):
    """The rollback cannot be made as asked: nothing was created."""


def _call(doing: str, func: Callable[..., Any], **kwargs: Any) -> Any:
    try:
        return func(**kwargs)
    except ClientError as exc:
        raise translate(exc, doing) from None


def _code(exc: ClientError) -> str:
    return str(exc.response.get("Error", {}).get("Code", ""))


def iso(moment: datetime | None) -> str | None:
    if moment is None:
        return None
    return moment.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


# ---------------------------------------------------------------------------
# The service's deployment group and what it runs now
# ---------------------------------------------------------------------------
@dataclass(frozen=True)
class Group:
    environment: str
    region: str
    service: str  # the microservice's name
    application: str
    deployment_group: str
    cluster: str
    ecs_service: str
    #: The PRIMARY task set's task definition (what production traffic reaches).
    running: str | None

    def watch_hint(self, deployment_id: str) -> str:
        return (
            f"deployer deployments {self.environment} --service {self.service} "
            f"--region {self.region}, or: aws deploy get-deployment --deployment-id "
            f"{deployment_id} --region {self.region}"
        )


def locate(scope: Scope, service: str) -> Group:
    """The service's deployment group (GetDeploymentGroup) and its running task definition."""
    known = [m.name for m in scope.config.microservices]
    if service not in known:
        raise UsageError(f"unknown microservice {service!r} (configured: {', '.join(known)})")
    names = scope.names
    group_name = names.service(service).deployment_group_name
    try:
        info = scope.codedeploy.get_deployment_group(
            applicationName=names.application_name, deploymentGroupName=group_name
        )["deploymentGroupInfo"]
    except ClientError as exc:
        if _code(exc) in (
            "ApplicationDoesNotExistException",
            "DeploymentGroupDoesNotExistException",
        ):
            raise DeployerError(
                f"{scope.env.name} has no deployment group {group_name} in {scope.region}",
                hint=f"apply the environment first: deployer apply {scope.env.name}",
            ) from None
        raise translate(exc, "read the deployment group") from None
    (ecs,) = info.get("ecsServices") or [{}]
    if not ecs.get("serviceName"):
        raise DeployerError(f"deployment group {group_name} deploys no ECS service")
    cluster, ecs_service = ecs["clusterName"], ecs["serviceName"]
    found = _call(
        "describe the service",
        scope.ecs.describe_services,
        cluster=cluster,
        services=[ecs_service],
    )["services"]
    running = None
    if found:
        svc: dict[str, Any] = dict(found[0])
        primaries = [ts for ts in svc.get("taskSets") or [] if ts.get("status") == "PRIMARY"]
        running = primaries[0]["taskDefinition"] if primaries else svc.get("taskDefinition")
    return Group(
        environment=scope.env.name,
        region=scope.region,
        service=service,
        application=names.application_name,
        deployment_group=group_name,
        cluster=cluster,
        ecs_service=ecs_service,
        running=running,
    )


# ---------------------------------------------------------------------------
# One deployment, as CodeDeploy records it, with its revision resolved
# ---------------------------------------------------------------------------
@dataclass
class Deployment:
    info: dict[str, Any]
    task_definition: str | None = None
    #: Why the task definition is not known (unreadable revision, no ECS resource).
    revision_problem: str | None = None
    #: ``ACTIVE``, ``INACTIVE``, ``DELETE_IN_PROGRESS`` or ``DELETED``.
    task_definition_status: str | None = None
    images: tuple[str, ...] = ()
    current: bool = False
    resolved: bool = False

    @property
    def id(self) -> str:
        return str(self.info["deploymentId"])

    @property
    def status(self) -> str:
        return str(self.info.get("status", ""))

    @property
    def created(self) -> datetime | None:
        created: datetime | None = self.info.get("createTime")
        return created

    @property
    def error(self) -> dict[str, Any]:
        return dict(self.info.get("errorInformation") or {})

    @property
    def rollback(self) -> dict[str, Any]:
        return dict(self.info.get("rollbackInfo") or {})

    @property
    def deployable(self) -> bool:
        """ECS can start a task set of its task definition (ACTIVE only)."""
        return self.task_definition is not None and self.task_definition_status == ACTIVE

    @property
    def outcome(self) -> str:
        parts = [self.status]
        if self.status not in statuses.FINISHED:
            parts = [f"{self.status} (unfinished)"]
        elif self.error.get("code"):
            parts = [f"{self.status} ({self.error['code']})"]
        rolled_back_by = self.rollback.get("rollbackDeploymentId")
        if rolled_back_by:
            parts.append(f"rolled back by {rolled_back_by}")
        triggered_by = self.rollback.get("rollbackTriggeringDeploymentId")
        if triggered_by:
            parts.append(f"rollback of {triggered_by}")
        return ", ".join(parts)

    def describe_task_definition(self) -> str:
        if self.task_definition is None:
            return f"unknown ({self.revision_problem})"
        label = drill.short_arn(self.task_definition)
        state = TASK_DEFINITION_STATES.get(self.task_definition_status or "", "")
        return label if self.task_definition_status == ACTIVE else f"{label} ({state})"

    def to_json(self) -> dict[str, Any]:
        error = self.error
        rollback = self.rollback
        return {
            "deployment_id": self.id,
            "status": self.status,
            "outcome": self.outcome,
            "creator": self.info.get("creator"),
            "description": self.info.get("description"),
            "created": iso(self.created),
            "completed": iso(self.info.get("completeTime")),
            "revision_type": (self.info.get("revision") or {}).get("revisionType"),
            "task_definition": self.task_definition,
            "task_definition_status": self.task_definition_status,
            "revision_problem": self.revision_problem,
            "images": list(self.images),
            "error": {"code": error.get("code"), "message": error.get("message")}
            if error
            else None,
            "rollback": {
                "rolled_back_by": rollback.get("rollbackDeploymentId"),
                "rollback_of": rollback.get("rollbackTriggeringDeploymentId"),
                "message": rollback.get("rollbackMessage"),
            }
            if rollback
            else None,
            "current": self.current,
        }


def task_definition_of(appspec_text: str) -> str:
    """The TaskDefinition of an AppSpec's ECS service resource (YAML or JSON)."""
    try:
        document = yaml.safe_load(appspec_text)
    except yaml.YAMLError as exc:
        raise ValueError(
            f"its AppSpec is neither YAML nor JSON ({exc.__class__.__name__})"
        ) from exc
    resources = document.get("Resources") if isinstance(document, dict) else None
    for resource in resources if isinstance(resources, list) else []:
        for body in resource.values() if isinstance(resource, dict) else []:
            if isinstance(body, dict) and body.get("Type") == ECS_SERVICE:
                value = (body.get("Properties") or {}).get("TaskDefinition")
                if isinstance(value, str) and value:
                    return value
    raise ValueError(f"its AppSpec has no {ECS_SERVICE} resource with a TaskDefinition")


class Reader:
    """Reads a group's deployments and resolves their revisions, with caches."""

    def __init__(self, scope: Scope, group: Group) -> None:
        self.scope = scope
        self.group = group
        self._task_definitions: dict[str, tuple[str, tuple[str, ...]]] = {}

    def ids(self, only: tuple[str, ...] | None = None) -> list[str]:
        """ListDeployments of the group, every page."""
        kwargs: dict[str, Any] = {
            "applicationName": self.group.application,
            "deploymentGroupName": self.group.deployment_group,
        }
        if only:
            kwargs["includeOnlyStatuses"] = list(only)
        found: list[str] = []
        while True:
            page = _call("list the deployments", self.scope.codedeploy.list_deployments, **kwargs)
            found += page.get("deployments") or []
            if not page.get("nextToken"):
                return found
            kwargs["nextToken"] = page["nextToken"]

    def get(self, ids: list[str]) -> list[Deployment]:
        """BatchGetDeployments, 25 IDs a call."""
        found: list[Deployment] = []
        for start in range(0, len(ids), BATCH):
            answer = _call(
                "read the deployments",
                self.scope.codedeploy.batch_get_deployments,
                deploymentIds=ids[start : start + BATCH],
            )
            found += [Deployment(dict(info)) for info in answer.get("deploymentsInfo") or []]
        return found

    def history(self) -> list[Deployment]:
        """Every deployment of the group, newest first (revisions not yet resolved)."""
        epoch = datetime.fromtimestamp(0, tz=UTC)
        return sorted(self.get(self.ids()), key=lambda d: d.created or epoch, reverse=True)

    def resolve(self, deployment: Deployment) -> Deployment:
        """The revision's task definition, its images and whether ECS still holds it."""
        if deployment.resolved:
            return deployment
        deployment.resolved = True
        try:
            deployment.task_definition = task_definition_of(self._appspec(deployment.info))
        except ValueError as exc:
            deployment.revision_problem = str(exc)
            return deployment
        status, images = self._task_definition(deployment.task_definition)
        deployment.task_definition_status, deployment.images = status, images
        return deployment

    def _appspec(self, info: dict[str, Any]) -> str:
        revision = info.get("revision") or {}
        kind = revision.get("revisionType")
        if kind == "AppSpecContent":
            return str((revision.get("appSpecContent") or {}).get("content") or "")
        if kind == "String":
            return str((revision.get("string") or {}).get("content") or "")
        if kind == "S3":
            location = revision.get("s3Location") or {}
            bucket, key = location.get("bucket"), location.get("key")
            bundle = location.get("bundleType")
            if bundle not in (None, "YAML", "JSON"):
                raise ValueError(f"its revision is a {bundle} bundle in S3, not an AppSpec file")
            request: dict[str, Any] = {"Bucket": bucket, "Key": key}
            if location.get("version"):
                request["VersionId"] = location["version"]
            try:
                body = self.scope.s3.get_object(**request)["Body"].read()
            except ClientError as exc:
                raise ValueError(
                    f"its AppSpec s3://{bucket}/{key} is unreadable ({_code(exc)})"
                ) from None
            return bytes(body).decode("utf-8", errors="replace")
        raise ValueError(f"its revision is of type {kind or 'none'}, which names no AppSpec")

    def _task_definition(self, arn: str) -> tuple[str, tuple[str, ...]]:
        if arn not in self._task_definitions:
            try:
                found = self.scope.ecs.describe_task_definition(taskDefinition=arn)
            except ClientError as exc:
                if _code(exc) != "ClientException":
                    raise translate(exc, f"describe the task definition {arn}") from None
                self._task_definitions[arn] = (DELETED, ())  # "Unable to describe ..."
            else:
                definition = found["taskDefinition"]
                images = tuple(
                    str(c["image"]) for c in definition.get("containerDefinitions") or []
                )
                self._task_definitions[arn] = (str(definition.get("status", ACTIVE)), images)
        return self._task_definitions[arn]

    def current(self, deployments: list[Deployment]) -> Deployment | None:
        """The newest succeeded deployment of what the service runs now (marked ``current``)."""
        if self.group.running is None:
            return None
        for deployment in deployments:
            if deployment.status != statuses.SUCCEEDED:
                continue
            if self.resolve(deployment).task_definition == self.group.running:
                deployment.current = True
                return deployment
        return None


@dataclass
class History:
    group: Group
    deployments: list[Deployment]  # newest first, the first ``limit`` resolved
    current: Deployment | None
    total: int

    def to_json(self) -> dict[str, Any]:
        return {
            "environment": self.group.environment,
            "region": self.group.region,
            "service": self.group.service,
            "application": self.group.application,
            "deployment_group": self.group.deployment_group,
            "running_task_definition": self.group.running,
            "current_deployment": self.current.id if self.current else None,
            "total": self.total,
            "deployments": [d.to_json() for d in self.deployments],
        }

    def to_text(self) -> str:
        from deployer.output import table

        group = self.group
        running = drill.short_arn(group.running) if group.running else "nothing"
        head = f"{group.deployment_group} ({group.environment} {group.region}): the service runs "
        if self.current:
            head += f"{running}, deployed by {self.current.id} (marked *)"
        elif group.running:
            head += f"{running}, which no deployment of the group deployed"
        else:
            head += "no task set"
        if not self.deployments:
            return head + "\nno deployments"
        rows = [
            (
                "*" if d.current else "",
                d.id,
                iso(d.created) or "",
                iso(d.info.get("completeTime")) or "",
                d.info.get("creator") or "",
                d.outcome,
                d.describe_task_definition(),
                ", ".join(i.rsplit("/", 1)[-1] for i in d.images),  # the JSON has them whole
            )
            for d in self.deployments
        ]
        shown = "" if len(rows) == self.total else f"\n({len(rows)} of {self.total} shown)"
        headers = (
            *("", "deployment", "created", "completed", "creator", "outcome"),
            *("task definition", "image"),
        )
        return head + "\n" + table(headers, rows) + shown


def history(scope: Scope, service: str, *, limit: int | None = None) -> History:
    """``deployer deployments``: the group's deployments, newest first."""
    group = locate(scope, service)
    reader = Reader(scope, group)
    deployments = reader.history()
    current = reader.current(deployments)
    shown = deployments if limit is None else deployments[:limit]
    for deployment in shown:
        reader.resolve(deployment)
    return History(group, shown, current, len(deployments))


# ---------------------------------------------------------------------------
# Choosing what to roll back to
# ---------------------------------------------------------------------------
@dataclass(frozen=True)
class Choice:
    target: Deployment
    reason: str
    skipped: tuple[str, ...] = ()


def choose(scope: Scope, reader: Reader, deployments: list[Deployment], to: str | None) -> Choice:
    """The deployment to roll back to, and why; a refusal names what and why."""
    group = reader.group
    running = drill.short_arn(group.running) if group.running else None
    hint = f"see: deployer deployments {group.environment} --service {group.service}"
    current = reader.current(deployments)
    if to is not None:
        return _named(scope, reader, deployments, to, hint)
    if current is None:
        raise RollbackRefused(
            f"the service runs {running or 'no task set'}, which no succeeded deployment of "
            f"{group.deployment_group} deployed: there is no 'previous' to go back to",
            hint=f"name the deployment to roll back to with --to ({hint})",
        )
    skipped: list[str] = []
    for candidate in deployments[deployments.index(current) + 1 :]:
        if candidate.status != statuses.SUCCEEDED:
            continue
        reader.resolve(candidate)
        if candidate.task_definition is None:
            skipped.append(
                f"{candidate.id}: task definition unknown ({candidate.revision_problem})"
            )
            continue
        if candidate.task_definition == group.running:
            continue  # the same version again: nothing to roll back to
        if not candidate.deployable:
            skipped.append(
                f"{candidate.id}: {candidate.describe_task_definition()} cannot be deployed"
            )
            continue
        reason = (
            f"the service runs {running}, deployed by {current.id}; {candidate.id} is the last "
            f"deployment that succeeded before it with another task definition "
            f"({drill.short_arn(candidate.task_definition)})"
        )
        return Choice(candidate, reason, tuple(skipped))
    raise RollbackRefused(
        f"no deployment of {group.deployment_group} succeeded before {current.id} with a task "
        f"definition other than {running} that ECS can still deploy"
        + (f" (skipped: {'; '.join(skipped)})" if skipped else ""),
        hint=hint,
    )


def _named(
    scope: Scope, reader: Reader, deployments: list[Deployment], to: str, hint: str
) -> Choice:
    group = reader.group
    chosen = next((d for d in deployments if d.id == to), None)
    if chosen is None:
        try:
            info = scope.codedeploy.get_deployment(deploymentId=to)["deploymentInfo"]
        except ClientError as exc:
            if _code(exc) in ("DeploymentDoesNotExistException", "InvalidDeploymentIdException"):
                raise RollbackRefused(
                    f"there is no deployment {to} in {group.region}", hint=hint
                ) from None
            raise translate(exc, f"read the deployment {to}") from None
        raise RollbackRefused(
            f"{to} is a deployment of {info.get('applicationName')}/"
            f"{info.get('deploymentGroupName')}, not of {group.application}/"
            f"{group.deployment_group} ({group.service})",
            hint=hint,
        )
    if chosen.status != statuses.SUCCEEDED:
        raise RollbackRefused(
            f"{to} never succeeded ({chosen.outcome}): only a deployment that succeeded "
            "is a known good version to roll back to",
            hint=hint,
        )
    reader.resolve(chosen)
    if chosen.task_definition is None:
        raise RollbackRefused(
            f"cannot tell what {to} deployed: {chosen.revision_problem}", hint=hint
        )
    if chosen.task_definition == group.running:
        raise RollbackRefused(
            f"{to} deployed {drill.short_arn(chosen.task_definition)}, which the service runs "
            "now: there is nothing to roll back",
            hint=hint,
        )
    if not chosen.deployable:
        raise RollbackRefused(
            f"{to} deployed {chosen.describe_task_definition()}: ECS cannot start a task set "
            "of a task definition that is not ACTIVE",
            hint=f"choose another deployment ({hint})",
        )
    return Choice(chosen, f"named with --to ({chosen.outcome}, created {iso(chosen.created)})")


# ---------------------------------------------------------------------------
# Following a deployment to its end
# ---------------------------------------------------------------------------
FINISHED = "finished"
TIMEOUT = "timeout"
INTERRUPTED = "interrupted"


@dataclass
class Followed:
    """What following a deployment saw."""

    deployment_id: str
    info: dict[str, Any] = field(default_factory=dict)
    events: list[dict[str, Any]] = field(default_factory=list)
    #: ``finished``, ``timeout`` or ``interrupted`` (the deployment goes on without us).
    ending: str = FINISHED
    #: Why lifecycle events were not read (the API did not answer).
    targets_unavailable: str | None = None

    @property
    def status(self) -> str:
        return str(self.info.get("status", ""))

    @property
    def succeeded(self) -> bool:
        return self.ending == FINISHED and self.status == statuses.SUCCEEDED


class Follower:
    """Polls GetDeployment and the ECS target's lifecycle events until the deployment ends."""

    def __init__(
        self,
        scope: Scope,
        deployment_id: str,
        *,
        progress: Callable[[str], None] | None = None,
        clock: Callable[[], float] | None = None,
        sleep: Callable[[float], None] | None = None,
        poll_seconds: float = 3.0,
        timeout: float = 3600.0,
    ) -> None:
        self.codedeploy = scope.codedeploy
        self.result = Followed(deployment_id)
        self.progress = progress or (lambda _line: None)
        self.clock = clock or time.time
        self.sleep = sleep or time.sleep
        self.poll_seconds = poll_seconds
        self.timeout = timeout
        self._seen: dict[str, str] = {}  # lifecycle event -> last status said

    def _say(self, what: str, status: str, detail: str = "") -> None:
        at = self.clock()
        self.result.events.append(
            {"at": drill.iso(at), "event": what, "status": status, "detail": detail or None}
        )
        self.progress(f"{drill.iso(at)}  {what}: {status}" + (f" ({detail})" if detail else ""))

    def run(self) -> Followed:
        deadline = self.clock() + self.timeout
        last_status = None
        try:
            while True:
                info = dict(
                    _call(
                        "read the deployment",
                        self.codedeploy.get_deployment,
                        deploymentId=self.result.deployment_id,
                    )["deploymentInfo"]
                )
                self.result.info = info
                status = str(info.get("status", ""))
                if status in statuses.FINISHED:  # the last events, then how it ended
                    self._lifecycle_events()
                    self._say(f"deployment {self.result.deployment_id}", status, _why(info))
                    return self.result
                if status != last_status:
                    last_status = status
                    self._say(f"deployment {self.result.deployment_id}", status, _why(info))
                self._lifecycle_events()
                if self.clock() >= deadline:
                    self.result.ending = TIMEOUT
                    return self.result
                self.sleep(self.poll_seconds)
        except KeyboardInterrupt:
            self.result.ending = INTERRUPTED
            return self.result

    def _lifecycle_events(self) -> None:
        if self.result.targets_unavailable is not None:
            return
        deployment_id = self.result.deployment_id
        try:
            ids = self._target_ids(deployment_id)
            if not ids:
                return
            answer = self.codedeploy.batch_get_deployment_targets(
                deploymentId=deployment_id, targetIds=ids
            )
        except ClientError as exc:
            if _code(exc) == "DeploymentNotStartedException":
                return  # not yet: ask again on the next poll
            self.result.targets_unavailable = f"{_code(exc)}: {exc}"
            return
        for target in answer.get("deploymentTargets") or []:
            ecs = target.get("ecsTarget") or {}
            for event in ecs.get("lifecycleEvents") or []:
                name, status = event.get("lifecycleEventName", "?"), event.get("status", "")
                if self._seen.get(name) == status or status in QUIET_EVENT_STATES:
                    continue
                self._seen[name] = status
                diagnostics = event.get("diagnostics") or {}
                detail = " ".join(
                    str(diagnostics[k]) for k in ("errorCode", "message") if diagnostics.get(k)
                )
                self._say(name, status, detail)

    def _target_ids(self, deployment_id: str) -> list[str]:
        ids: list[str] = []
        kwargs: dict[str, Any] = {"deploymentId": deployment_id}
        while True:
            page = self.codedeploy.list_deployment_targets(**kwargs)
            ids += page.get("targetIds") or []
            if not page.get("nextToken"):
                return ids
            kwargs["nextToken"] = page["nextToken"]


def _why(info: dict[str, Any]) -> str:
    error = info.get("errorInformation") or {}
    rollback = info.get("rollbackInfo") or {}
    parts = []
    if error.get("code"):
        parts.append(f"{error['code']}: {error.get('message', '')}".rstrip(": "))
    if rollback.get("rollbackDeploymentId"):
        parts.append(f"rolled back by {rollback['rollbackDeploymentId']}")
    return "; ".join(parts)


# ---------------------------------------------------------------------------
# The rollback
# ---------------------------------------------------------------------------
@dataclass
class RollbackResult:
    group: Group
    choice: Choice
    deployment_id: str
    followed: Followed

    @property
    def ok(self) -> bool:
        return self.followed.succeeded

    def to_json(self) -> dict[str, Any]:
        followed = self.followed
        return {
            "ok": self.ok,
            "environment": self.group.environment,
            "region": self.group.region,
            "service": self.group.service,
            "deployment_group": self.group.deployment_group,
            "rolled_back_from": self.group.running,
            "target": self.choice.target.to_json(),
            "reason": self.choice.reason,
            "skipped": list(self.choice.skipped),
            "deployment_id": self.deployment_id,
            "status": followed.status,
            "ending": followed.ending,
            "error": followed.info.get("errorInformation") or None,
            "rollback_info": followed.info.get("rollbackInfo") or None,
            "events": followed.events,
            "lifecycle_events_unavailable": followed.targets_unavailable,
            "watch": None
            if followed.ending == FINISHED
            else self.group.watch_hint(self.deployment_id),
        }

    def to_text(self) -> str:
        followed, target = self.followed, self.choice.target
        head = (
            f"rollback of {self.group.service} ({self.group.environment} {self.group.region}) "
            f"to {target.id} ({target.describe_task_definition()}) as deployment "
            f"{self.deployment_id}: "
        )
        if followed.ending == FINISHED:
            why = _why(followed.info)
            return head + followed.status + (f" ({why})" if why else "")
        return head + (
            f"still {followed.status or 'unknown'} after "
            + ("the timeout" if followed.ending == TIMEOUT else "Ctrl-C")
            + f"; CodeDeploy carries on. Watch it with: {self.group.watch_hint(self.deployment_id)}"
        )


def refuse_while_busy(reader: Reader) -> None:
    """CodeDeploy takes one deployment a group at a time: name the one in the way."""
    busy = reader.ids(statuses.UNFINISHED)
    if not busy:
        return
    described = []
    for deployment in reader.get(busy):
        described.append(
            f"{deployment.id} ({deployment.status}, created {iso(deployment.created)} by "
            f"{deployment.info.get('creator', '?')})"
        )
    group = reader.group
    raise RollbackRefused(
        f"deployment {', '.join(described) or ', '.join(busy)} of {group.deployment_group} "
        "is in progress; CodeDeploy runs one deployment of a group at a time",
        hint=f"wait for it to finish ({group.watch_hint(busy[0])}), or stop it: aws deploy "
        f"stop-deployment --deployment-id {busy[0]} --auto-rollback-enabled",
    )


def rollback(
    scope: Scope,
    service: str,
    *,
    to: str | None = None,
    progress: Callable[[str], None] | None = None,
    timeout: float = 3600.0,
    follower: Callable[..., Follower] = Follower,
) -> RollbackResult:
    """``deployer rollback``: choose, create the deployment, follow it to its end."""
    say = progress or (lambda _line: None)
    group = locate(scope, service)
    reader = Reader(scope, group)
    refuse_while_busy(reader)
    choice = choose(scope, reader, reader.history(), to)
    target = choice.target
    assert target.task_definition is not None
    say(f"rolling back to {target.id}: {choice.reason}")
    for skipped in choice.skipped:
        say(f"  skipped {skipped}")
    layout = drill.discover(scope, service)
    try:
        deployment_id = str(
            scope.codedeploy.create_deployment(
                applicationName=group.application,
                deploymentGroupName=group.deployment_group,
                revision=drill.appspec(layout, target.task_definition),  # type: ignore[arg-type]
                description=DESCRIPTION.format(target.id),
            )["deploymentId"]
        )
    except ClientError as exc:
        if _code(exc) == "DeploymentLimitExceededException":
            raise RollbackRefused(
                f"CodeDeploy refused the rollback: {exc.response['Error'].get('Message', '')}",
                hint="another deployment started meanwhile; wait for it and retry",
            ) from None
        raise translate(exc, "create the rollback deployment") from None
    say(
        f"created deployment {deployment_id} of {group.deployment_group}: "
        f"{drill.short_arn(target.task_definition)} ({', '.join(target.images)})"
    )
    followed = follower(scope, deployment_id, progress=progress, timeout=timeout).run()
    if followed.ending != FINISHED:
        say(
            f"deployment {deployment_id} continues in CodeDeploy "
            f"({'timed out' if followed.ending == TIMEOUT else 'interrupted'}); "
            f"watch it with: {group.watch_hint(deployment_id)}"
        )
    return RollbackResult(group, choice, deployment_id, followed)
