"""The rollback drill: release a new revision, break it, and watch it roll back.

``deployer drill rollback ENV`` proves the promise of the deploy guard end to
end: a bad release does not stay in front of traffic, and people hear about it.

The drill runs where CodeDeploy deploys, with the same AWS calls on both targets:
on **AWS** (``--target aws --i-know``), and on the **local emulator with its
runtime**, whose CodeDeploy engine (``deployer/emulator/engines/codedeploy.py``)
deploys, the load balancer's health checks measure, the alarms evaluate and the
deployed deploy guard runs as the lifecycle hooks. The drill:

1. registers a new task definition revision of the service (a copy of the current
   one with its own ``SERVICE_VERSION``) and creates the CodeDeploy deployment
   (an AppSpec naming the guard as the AfterAllowTestTraffic and AfterAllowTraffic
   hooks, as the pipeline's does);
2. breaks the release where ``--hook`` says: with the sample services' fault switch
   (``FAULT_INJECTION=enabled``) the release really fails ``/health``, from its
   first check (AfterAllowTestTraffic), once production traffic reaches it
   (AfterAllowTraffic) or once both hooks passed (``alarm``: the unhealthy-targets
   alarm goes off from the load balancer's data); without the switch the drill puts
   that alarm in ALARM with SetAlarmState at the same moments;
3. watches CodeDeploy, the guard and the alarms stop and roll the release back;
4. verifies production traffic is on the original target group, the service on the
   previous task definition, the green task set gone, and that the guard's
   notification reached the notifications topic (read from an SQS queue the drill
   subscribes);
5. puts back what it changed: alarm states, the drill's revision (deregistered and
   deleted), the queue and its subscription. (CodeDeploy keeps its deployment
   records; there is no API to delete them.)

An emulator started without its runtime runs no deployment engine: the drill
refuses there and says how to start one.

Every step is recorded with its time; the figure that matters is the time from
the breach to production traffic back on the original version.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Callable
from contextlib import suppress
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from botocore.exceptions import ClientError
from deploy_guard import statuses

from deployer.aws import translate
from deployer.drill_scenarios import AFTER_ALLOW_TEST_TRAFFIC as AFTER_ALLOW_TEST_TRAFFIC
from deployer.drill_scenarios import AFTER_ALLOW_TRAFFIC as AFTER_ALLOW_TRAFFIC
from deployer.drill_scenarios import ALARM as ALARM
from deployer.drill_scenarios import SCENARIOS as SCENARIOS
from deployer.errors import DeployerError
from deployer.scope import Scope

#: How a drill's deployments describe themselves ("deployer drill <label>"): `deployer
#: report` leaves them out of the delivery metrics by it.
DESCRIPTION_PREFIX = "deployer drill"

ClientFor = Callable[[str], Any]


class DrillError(DeployerError):
    """The drill could not run (the environment is not as it needs, an API failed)."""


# ---------------------------------------------------------------------------
# Timeline: what happened when
# ---------------------------------------------------------------------------
@dataclass
class Step:
    name: str
    at: float
    detail: str

    def to_json(self, start: float, breach: float | None) -> dict[str, Any]:
        return {
            "step": self.name,
            "at": iso(self.at),
            "offset_seconds": round(self.at - start, 3),
            "since_breach_seconds": None if breach is None else round(self.at - breach, 3),
            "detail": self.detail,
        }


class Timeline:
    """Steps with their wall-clock times; each is also reported as it happens."""

    def __init__(
        self, clock: Callable[[], float], progress: Callable[[str], None] | None = None
    ) -> None:
        self.clock = clock
        self.progress = progress
        self.steps: list[Step] = []
        self.start = clock()

    def step(self, name: str, detail: str) -> float:
        return self.record(name, self.clock(), detail)

    def record(self, name: str, at: float, detail: str) -> float:
        """A step that happened at ``at`` (taken before the calls it describes)."""
        self.steps.append(Step(name, at, detail))
        if self.progress is not None:
            self.progress(f"{iso(at)}  {name}: {detail}")
        return at


def iso(seconds: float) -> str:
    """ISO 8601 UTC with milliseconds."""
    moment = datetime.fromtimestamp(seconds, tz=UTC)
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


# ---------------------------------------------------------------------------
# What the drill works on: read from the deployment group, as CodeDeploy does
# ---------------------------------------------------------------------------
@dataclass(frozen=True)
class Layout:
    environment: str
    region: str
    account_id: str
    application: str
    deployment_group: str
    cluster: str
    service: str
    container_name: str
    container_port: int
    target_groups: dict[str, str]  # name -> ARN
    production_listener: str
    test_listener: str
    original_target_group: str  # ARN behind the production listener now (blue)
    replacement_target_group: str  # the other one (green)
    test_listener_target_group: str  # ARN behind the test listener now
    alarms: tuple[str, ...]
    task_definition: str
    primary_task_set: str
    network_configuration: dict[str, Any]
    launch_type: str
    topic_arn: str
    guard_arn: str
    #: The alarm a broken green trips first (the service's unhealthy-targets alarm).
    unhealthy_alarm: str
    #: ``{company}-{service}-{environment}``: names the drill's own queue.
    name_prefix: str

    @property
    def breach_alarm(self) -> str | None:
        """The alarm the drill breaches: the unhealthy-targets one, else the group's first."""
        if self.unhealthy_alarm in self.alarms:
            return self.unhealthy_alarm
        return self.alarms[0] if self.alarms else None

    def name_of(self, target_group_arn: str) -> str:
        for name, arn in self.target_groups.items():
            if arn == target_group_arn:
                return name
        return target_group_arn


def _call(doing: str, func: Callable[..., Any], **kwargs: Any) -> Any:
    try:
        return func(**kwargs)
    except ClientError as exc:
        raise translate(exc, doing) from None


def forwarded(listener: dict[str, Any]) -> list[str]:
    """Target group ARNs a listener's default actions forward to (weight above zero)."""
    arns: list[str] = []
    for action in listener.get("DefaultActions") or []:
        if action.get("Type") != "forward":
            continue
        weighted = (action.get("ForwardConfig") or {}).get("TargetGroups") or []
        if weighted:
            arns += [t["TargetGroupArn"] for t in weighted if t.get("Weight", 1) > 0]
        elif action.get("TargetGroupArn"):
            arns.append(action["TargetGroupArn"])
    return sorted(set(arns))


def listener_target(client: ClientFor, listener_arn: str) -> str:
    (listener,) = _call(
        "describe the listener",
        client("elbv2").describe_listeners,
        ListenerArns=[listener_arn],
    )["Listeners"]
    targets = forwarded(listener)
    if len(targets) != 1:
        raise DrillError(
            f"listener {listener_arn} forwards to {len(targets)} target groups; a release needs "
            "exactly one (is a deployment half-way?)"
        )
    return targets[0]


def discover(scope: Scope, service: str) -> Layout:
    """Read the service's deployment group, target groups, listeners and task sets."""
    known = [m.name for m in scope.config.microservices]
    if service not in known:
        raise DrillError(f"unknown microservice {service!r} (configured: {', '.join(known)})")
    env, region, client = scope.env, scope.region, scope.client
    target = scope.names
    names = target.service(service)
    codedeploy = client("codedeploy")
    try:
        group = codedeploy.get_deployment_group(
            applicationName=target.application_name,
            deploymentGroupName=names.deployment_group_name,
        )["deploymentGroupInfo"]
    except ClientError as exc:
        code = exc.response.get("Error", {}).get("Code", "")
        if code in ("ApplicationDoesNotExistException", "DeploymentGroupDoesNotExistException"):
            raise DrillError(
                f"{env.name} has no deployment group {names.deployment_group_name} in {region}",
                hint=f"apply the environment first: deployer apply {env.name}",
            ) from None
        raise translate(exc, "read the deployment group") from None
    (ecs_service,) = group["ecsServices"]
    (pair,) = group["loadBalancerInfo"]["targetGroupPairInfoList"]
    tg_names = [tg["name"] for tg in pair["targetGroups"]]
    (production,) = pair["prodTrafficRoute"]["listenerArns"]
    (test,) = pair["testTrafficRoute"]["listenerArns"]
    alarms = tuple(a["name"] for a in (group.get("alarmConfiguration") or {}).get("alarms") or [])

    found = _call(
        "describe the target groups",
        client("elbv2").describe_target_groups,
        Names=tg_names,
    )["TargetGroups"]
    target_groups = {tg["TargetGroupName"]: tg["TargetGroupArn"] for tg in found}
    original = listener_target(client, production)
    if original not in target_groups.values():
        raise DrillError(f"the production listener forwards to {original}, outside the pair")
    (replacement,) = [arn for arn in target_groups.values() if arn != original]
    test_target = listener_target(client, test)

    (svc,) = _call(
        "describe the service",
        client("ecs").describe_services,
        cluster=ecs_service["clusterName"],
        services=[ecs_service["serviceName"]],
    )["services"]
    primaries = [ts for ts in svc.get("taskSets") or [] if ts.get("status") == "PRIMARY"]
    if len(primaries) != 1 or len(svc.get("taskSets") or []) != 1:
        raise DrillError(
            f"service {svc['serviceName']} has {len(svc.get('taskSets') or [])} task sets "
            f"({len(primaries)} PRIMARY); a release needs one PRIMARY task set and nothing "
            "in flight",
            hint="wait for the deployment in progress to finish, then retry",
        )
    (balancer,) = svc["loadBalancers"]
    return Layout(
        environment=env.name,
        region=region,
        account_id=scope.account_id,
        application=target.application_name,
        deployment_group=names.deployment_group_name,
        cluster=ecs_service["clusterName"],
        service=ecs_service["serviceName"],
        container_name=balancer["containerName"],
        container_port=int(balancer["containerPort"]),
        target_groups=target_groups,
        production_listener=production,
        test_listener=test,
        original_target_group=original,
        replacement_target_group=replacement,
        test_listener_target_group=test_target,
        alarms=alarms,
        task_definition=svc["taskDefinition"],
        primary_task_set=primaries[0]["taskSetArn"],
        network_configuration=svc.get("networkConfiguration") or {},
        launch_type=svc.get("launchType") or "FARGATE",
        topic_arn=target.notifications_topic_arn,
        guard_arn=target.deploy_guard_arn,
        unhealthy_alarm=names.alarm_names.unhealthy_targets,
        name_prefix=target.name_prefix,
    )


def preflight(client: ClientFor, layout: Layout) -> tuple[str, dict[str, dict[str, Any]]]:
    """What both drills check first: a quiet deployment group that watches an alarm.

    Returns the alarm to breach and the states of the group's alarms before.
    """
    active = active_deployments(client, layout)
    if active:
        raise DrillError(
            f"deployment(s) {', '.join(active)} of {layout.deployment_group} in progress",
            hint="wait for them to finish; the drill needs a quiet deployment group",
        )
    breach_alarm = layout.breach_alarm
    if breach_alarm is None:
        raise DrillError(f"deployment group {layout.deployment_group} watches no alarm")
    return breach_alarm, alarm_states(client, layout.alarms)


def active_deployments(client: ClientFor, layout: Layout) -> list[str]:
    return list(
        _call(
            "list the deployments in progress",
            client("codedeploy").list_deployments,
            applicationName=layout.application,
            deploymentGroupName=layout.deployment_group,
            includeOnlyStatuses=list(statuses.UNFINISHED),
        )["deployments"]
    )


def appspec(layout: Layout, task_definition: str) -> dict[str, Any]:
    """The CreateDeployment revision, as the pipeline's appspec renders it."""
    content = {
        "version": 0.0,
        "Resources": [
            {
                "TargetService": {
                    "Type": "AWS::ECS::Service",
                    "Properties": {
                        "TaskDefinition": task_definition,
                        "LoadBalancerInfo": {
                            "ContainerName": layout.container_name,
                            "ContainerPort": layout.container_port,
                        },
                    },
                }
            }
        ],
        "Hooks": [
            {AFTER_ALLOW_TEST_TRAFFIC: layout.guard_arn},
            {AFTER_ALLOW_TRAFFIC: layout.guard_arn},
        ],
    }
    return {"revisionType": "AppSpecContent", "appSpecContent": {"content": json.dumps(content)}}


# ---------------------------------------------------------------------------
# A release, step by step, with CodeDeploy's API calls
# ---------------------------------------------------------------------------
class Release:
    """One blue/green release of a new task definition revision.

    The drill registers the revision and creates the deployment; CodeDeploy (on AWS, or
    the emulator's engine) does the rest.
    """

    def __init__(
        self,
        layout: Layout,
        client: ClientFor,
        timeline: Timeline,
        *,
        label: str,
    ) -> None:
        self.layout = layout
        self.client = client
        self.timeline = timeline
        self.label = label
        self.task_definition: str | None = None
        self.deployment_id: str | None = None

    def register_revision(self, environment: dict[str, str] | None = None) -> str:
        """A copy of the service's task definition, with ``environment`` added to (or
        replacing in) its load-balanced container's variables."""
        ecs = self.client("ecs")
        current = _call(
            "describe the task definition",
            ecs.describe_task_definition,
            taskDefinition=self.layout.task_definition,
            include=["TAGS"],
        )
        definition = current["taskDefinition"]
        keep = (
            "containerDefinitions",
            "taskRoleArn",
            "executionRoleArn",
            "networkMode",
            "volumes",
            "placementConstraints",
            "requiresCompatibilities",
            "cpu",
            "memory",
            "runtimePlatform",
        )
        request = {k: definition[k] for k in keep if definition.get(k)}
        if environment:
            for container in request["containerDefinitions"]:
                if container.get("name") != self.layout.container_name:
                    continue
                variables = {e["name"]: e["value"] for e in container.get("environment") or []}
                variables.update(environment)
                container["environment"] = [
                    {"name": k, "value": v} for k, v in sorted(variables.items())
                ]
        registered = _call(
            "register the new task definition revision",
            ecs.register_task_definition,
            family=definition["family"],
            tags=[{"key": "deployer-drill", "value": self.label}],
            **request,
        )["taskDefinition"]
        self.task_definition = str(registered["taskDefinitionArn"])
        self.timeline.step(
            "register revision",
            f"{short_arn(self.task_definition)} "
            f"(a copy of {short_arn(self.layout.task_definition)})",
        )
        return self.task_definition

    def create_deployment(self) -> str:
        assert self.task_definition
        self.deployment_id = str(
            _call(
                "create the deployment",
                self.client("codedeploy").create_deployment,
                applicationName=self.layout.application,
                deploymentGroupName=self.layout.deployment_group,
                revision=appspec(self.layout, self.task_definition),
                description=f"{DESCRIPTION_PREFIX} {self.label}",
            )["deploymentId"]
        )
        self.timeline.step(
            "create deployment",
            f"{self.deployment_id} in {self.layout.deployment_group} "
            f"(hooks: {self.layout.guard_arn.rsplit(':', 1)[-1]})",
        )
        return self.deployment_id

    def forget_revision(self) -> None:
        """Deregister (and delete, where the API allows) the release's revision."""
        if not self.task_definition:
            return
        ecs = self.client("ecs")
        with suppress(ClientError):
            ecs.deregister_task_definition(taskDefinition=self.task_definition)
        with suppress(ClientError, AttributeError):
            ecs.delete_task_definitions(taskDefinitions=[self.task_definition])


def short_arn(arn: str) -> str:
    return arn.rsplit("/", 1)[-1]


# ---------------------------------------------------------------------------
# Notifications: an SQS queue subscribed to the topic for the drill's duration
# ---------------------------------------------------------------------------
class Inbox:
    def __init__(self, client: ClientFor, topic_arn: str, name: str) -> None:
        self.client = client
        self.topic_arn = topic_arn
        self.name = name
        self.queue_url: str | None = None
        self.subscription: str | None = None
        self.seen: list[dict[str, Any]] = []

    def open(self) -> None:
        sqs = self.client("sqs")
        self.queue_url = _call("create the drill's queue", sqs.create_queue, QueueName=self.name)[
            "QueueUrl"
        ]
        arn = _call(
            "read the drill queue's ARN",
            sqs.get_queue_attributes,
            QueueUrl=self.queue_url,
            AttributeNames=["QueueArn"],
        )["Attributes"]["QueueArn"]
        policy = {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Effect": "Allow",
                    "Principal": {"Service": "sns.amazonaws.com"},
                    "Action": "sqs:SendMessage",
                    "Resource": arn,
                    "Condition": {"ArnEquals": {"aws:SourceArn": self.topic_arn}},
                }
            ],
        }
        _call(
            "allow the topic to deliver to the drill's queue",
            sqs.set_queue_attributes,
            QueueUrl=self.queue_url,
            Attributes={"Policy": json.dumps(policy)},
        )
        self.subscription = _call(
            "subscribe the drill's queue to the notifications topic",
            self.client("sns").subscribe,
            TopicArn=self.topic_arn,
            Protocol="sqs",
            Endpoint=arn,
            ReturnSubscriptionArn=True,
        )["SubscriptionArn"]

    def wait_for(
        self,
        match: Callable[[dict[str, Any]], bool],
        *,
        timeout: float,
        clock: Callable[[], float],
    ) -> dict[str, Any] | None:
        """The first notification (``{"subject", "message", "raw"}``) ``match`` accepts."""
        for note in self.seen:
            if match(note):
                return note
        if not self.queue_url:
            return None
        sqs = self.client("sqs")
        deadline = clock() + timeout
        while True:
            wait = max(0, min(1, int(deadline - clock())))
            answer = _call(
                "read the drill's queue",
                sqs.receive_message,
                QueueUrl=self.queue_url,
                MaxNumberOfMessages=10,
                WaitTimeSeconds=wait,
            )
            for message in answer.get("Messages") or []:
                note = parse_notification(message.get("Body", ""))
                self.seen.append(note)
                if match(note):
                    return note
            if clock() >= deadline:
                return None

    def close(self) -> None:
        if self.subscription and self.subscription.startswith("arn:"):
            with suppress(ClientError):
                self.client("sns").unsubscribe(SubscriptionArn=self.subscription)
        if self.queue_url:
            with suppress(ClientError):
                self.client("sqs").delete_queue(QueueUrl=self.queue_url)
        self.subscription = self.queue_url = None


def parse_notification(body: str) -> dict[str, Any]:
    """An SNS-to-SQS envelope as ``{"subject", "message", "raw"}`` (message parsed if JSON)."""
    try:
        envelope = json.loads(body)
    except ValueError:
        return {"subject": None, "message": body, "raw": body}
    if not isinstance(envelope, dict) or "Message" not in envelope:
        return {"subject": None, "message": envelope, "raw": body}
    message: Any = envelope["Message"]
    with suppress(ValueError, TypeError):
        message = json.loads(message)
    return {"subject": envelope.get("Subject"), "message": message, "raw": body}


def about(deployment_id: str) -> Callable[[dict[str, Any]], bool]:
    def match(note: dict[str, Any]) -> bool:
        message = note.get("message")
        if isinstance(message, dict):
            return bool(message.get("deployment_id") == deployment_id)
        return deployment_id in str(message)

    return match


# ---------------------------------------------------------------------------
# The result
# ---------------------------------------------------------------------------
@dataclass
class DrillResult:
    layout: Layout
    scenario: str
    target: str
    label: str
    timeline: Timeline
    deployment_id: str | None = None
    rollback_deployment_id: str | None = None
    guard: dict[str, Any] = field(default_factory=dict)
    breach_at: float | None = None
    restored_at: float | None = None
    notification: dict[str, Any] | None = None
    verified: dict[str, bool] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)
    #: Who deploys: "engine" (the emulator's CodeDeploy engine) or "aws".
    codedeploy: str = "aws"
    #: How the release was broken (LiveDrill): the fault switch or SetAlarmState.
    mode: str = ""

    @property
    def ok(self) -> bool:
        return (
            not self.problems
            and bool(self.verified)
            and all(self.verified.values())
            and self.breach_to_restored is not None
        )

    @property
    def breach_to_restored(self) -> float | None:
        if self.breach_at is None or self.restored_at is None:
            return None
        return self.restored_at - self.breach_at

    def to_json(self) -> dict[str, Any]:
        layout = self.layout
        seconds = self.breach_to_restored
        return {
            "ok": self.ok,
            "environment": layout.environment,
            "region": layout.region,
            "service": layout.service,
            "scenario": self.scenario,
            "target": self.target,
            "drill": self.label,
            "codedeploy": {
                "engine": "the emulator's CodeDeploy engine, with the deployed guard",
                "aws": "AWS CodeDeploy",
            }[self.codedeploy],
            "break": self.mode,
            "deployment_id": self.deployment_id,
            "rollback_deployment_id": self.rollback_deployment_id,
            "original_target_group": layout.name_of(layout.original_target_group),
            "replacement_target_group": layout.name_of(layout.replacement_target_group),
            "previous_task_definition": layout.task_definition,
            "guard": self.guard,
            "breach_at": iso(self.breach_at) if self.breach_at else None,
            "traffic_restored_at": iso(self.restored_at) if self.restored_at else None,
            "breach_to_traffic_restored_seconds": None if seconds is None else round(seconds, 3),
            "notification": (
                {"subject": self.notification["subject"], "message": self.notification["message"]}
                if self.notification
                else None
            ),
            "verified": self.verified,
            "problems": self.problems,
            "steps": [s.to_json(self.timeline.start, self.breach_at) for s in self.timeline.steps],
        }

    def to_text(self) -> str:
        from deployer.output import table

        layout = self.layout
        rows = []
        for step in self.timeline.steps:
            since = "" if self.breach_at is None else f"{step.at - self.breach_at:+.3f}"
            rows.append(
                (
                    iso(step.at),
                    f"{step.at - self.timeline.start:.3f}",
                    since,
                    step.name,
                    step.detail,
                )
            )
        lines = [
            f"rollback drill {self.label}: {layout.environment} {layout.region} "
            f"{layout.service}, scenario {self.scenario}",
            {
                "engine": "The emulator's CodeDeploy engine deploys; the deployed guard, the "
                "load balancer's health checks and the alarms decide.",
                "aws": "On AWS: CodeDeploy and the deployed guard do the work.",
            }[self.codedeploy]
            + (f" Broken with the {self.mode}." if self.mode else ""),
            "",
            table(("time", "+s", "breach+s", "step", "detail"), rows),
            "",
        ]
        seconds = self.breach_to_restored
        if seconds is not None:
            lines.append(
                f"breach to production traffic restored: {seconds:.3f} s "
                f"(breach {iso(self.breach_at or 0)}, restored {iso(self.restored_at or 0)})"
            )
        if self.notification:
            lines.append(f"notification: {self.notification.get('subject')}")
        lines.append(
            "verified: "
            + ", ".join(f"{k} {'yes' if v else 'NO'}" for k, v in self.verified.items())
        )
        for problem in self.problems:
            lines.append(f"problem: {problem}")
        lines.append("result: " + ("rolled back as promised" if self.ok else "DRILL FAILED"))
        return "\n".join(lines)


# ---------------------------------------------------------------------------
# Shared pieces of both drills
# ---------------------------------------------------------------------------
def alarm_states(client: ClientFor, alarms: tuple[str, ...]) -> dict[str, dict[str, Any]]:
    if not alarms:
        return {}
    found = _call(
        "read the alarms",
        client("cloudwatch").describe_alarms,
        AlarmNames=list(alarms),
    )["MetricAlarms"]
    return {a["AlarmName"]: a for a in found}


def set_alarm(client: ClientFor, name: str, state: str, reason: str) -> None:
    _call(
        f"set alarm {name} to {state}",
        client("cloudwatch").set_alarm_state,
        AlarmName=name,
        StateValue=state,
        StateReason=reason[:1023],
    )


def service_state(client: ClientFor, layout: Layout) -> dict[str, Any]:
    (svc,) = _call(
        "describe the service",
        client("ecs").describe_services,
        cluster=layout.cluster,
        services=[layout.service],
    )["services"]
    return dict(svc)


def deployment_info(client: ClientFor, deployment_id: str) -> dict[str, Any]:
    return dict(
        _call(
            "read the deployment",
            client("codedeploy").get_deployment,
            deploymentId=deployment_id,
        )["deploymentInfo"]
    )


def _verify_end_state(
    result: DrillResult, client: ClientFor, layout: Layout, release: Release
) -> None:
    production = listener_target(client, layout.production_listener)
    test = listener_target(client, layout.test_listener)
    svc = service_state(client, layout)
    sets = svc.get("taskSets") or []
    result.verified["production_on_original"] = production == layout.original_target_group
    result.verified["test_listener_restored"] = test == layout.test_listener_target_group
    result.verified["previous_task_definition"] = svc["taskDefinition"] == layout.task_definition
    result.verified["green_task_set_removed"] = [ts.get("taskSetArn") for ts in sets] == [
        layout.primary_task_set
    ]
    if release.deployment_id:
        status = deployment_info(client, release.deployment_id)["status"]
        result.verified["deployment_rolled_back"] = status in statuses.ROLLED_BACK
    result.timeline.step(
        "verified",
        f"production -> {layout.name_of(production)}, test -> {layout.name_of(test)}, "
        f"service on {short_arn(svc['taskDefinition'])}, {len(sets)} task set(s)",
    )


# ---------------------------------------------------------------------------
# One path for AWS and for the emulator's CodeDeploy engine: the drill releases,
# breaks, and watches CodeDeploy, the guard and the alarms roll it back
# ---------------------------------------------------------------------------
#: How the drill breaks the release: the sample services' documented fault switch (a
#: release that really fails its health checks), or SetAlarmState where the environment
#: has no fault switch.
FAULT, ALARM_STATE = "fault-switch", "alarm-state"
FAULT_PARAMETER = "FAULT_INJECTION"


def break_mode(scope: Scope, service: str) -> str:
    """The fault switch when the environment enables it for the service, else SetAlarmState."""
    parameters = scope.env.parameters
    for namespace in (service, "shared"):
        if (parameters.get(namespace) or {}).get(FAULT_PARAMETER) == "enabled":
            return FAULT
    return ALARM_STATE


def production_url(scope: Scope, layout: Layout) -> str:
    """The production listener's URL: the load balancer's name on AWS, the loopback
    address that serves it on the local target."""
    from deployer.endpoints import loopback_url, served_listeners

    elbv2 = scope.client("elbv2")
    (listener,) = _call(
        "describe the production listener",
        elbv2.describe_listeners,
        ListenerArns=[layout.production_listener],
    )["Listeners"]
    (balancer,) = _call(
        "describe the load balancer",
        elbv2.describe_load_balancers,
        LoadBalancerArns=[listener["LoadBalancerArn"]],
    )["LoadBalancers"]
    url = f"{str(listener['Protocol']).lower()}://{balancer['DNSName']}:{listener['Port']}"
    if not scope.target.is_local:
        return url
    local = loopback_url(url, served_listeners(scope.target))
    if local is None:
        raise DrillError(
            f"the emulator serves no listener for {url}",
            hint="the local drill needs the emulator's runtime (deployer emulator status)",
        )
    return local


def set_fault(url: str, status: int, times: int) -> list[int]:
    """``PUT /fault/health`` through the load balancer ``times`` times (round robin reaches
    every target); the answers' statuses."""
    import ssl
    import urllib.error
    import urllib.request

    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE  # the emulator's certificates name the service's domain
    answers = []
    for _ in range(times):
        request = urllib.request.Request(
            f"{url}/fault/health",
            data=json.dumps({"status": status}).encode(),
            method="PUT",
            headers={"Content-Type": "application/json"},
        )
        try:
            with urllib.request.urlopen(request, timeout=10, context=context) as answer:
                answers.append(int(answer.status))
        except urllib.error.HTTPError as error:
            answers.append(int(error.code))
        except OSError:
            answers.append(0)
    return answers


class LiveDrill:
    """The drill where CodeDeploy deploys: AWS, or the emulator's CodeDeploy engine.

    The same AWS calls on both targets: release a copy of the task definition through
    CreateDeployment (the guard as its hooks, as the pipeline's AppSpec names it), break it
    where the scenario says, and watch CodeDeploy, the guard and the alarms roll it back.
    With the fault switch (``FAULT_INJECTION=enabled`` in the environment) the release is
    really broken: for AfterAllowTestTraffic it starts with its health failing
    (``FAULT_HEALTH_STATUS=503``); for AfterAllowTraffic the switch is turned on through
    the production listener once production traffic reaches green, and the guard's
    validation window sees its targets turn unhealthy; for ``alarm`` it is turned on after
    AfterAllowTraffic passed (in the termination wait) and the unhealthy-targets alarm
    goes off from the load balancer's data. Without the switch the drill puts the alarm in
    ALARM with SetAlarmState at the same moments.
    """

    def __init__(
        self,
        layout: Layout,
        scope: Scope,
        *,
        scenario: str,
        mode: str,
        url: str | None = None,
        clock: Callable[[], float] = time.time,
        sleep: Callable[[float], None] = time.sleep,
        progress: Callable[[str], None] | None = None,
        poll_seconds: float = 5.0,
        timeout: float = 1800.0,
        notification_timeout: float = 120.0,
        target: str = "aws",
    ) -> None:
        if scenario not in SCENARIOS:
            raise DrillError(f"unknown scenario {scenario!r} (one of {', '.join(SCENARIOS)})")
        if mode == FAULT and url is None:
            raise DrillError("the fault switch needs the production listener's URL")
        self.layout = layout
        self.client: ClientFor = scope.client
        self.scenario = scenario
        self.mode = mode
        self.url = url
        self.clock = clock
        self.sleep = sleep
        self.poll_seconds = poll_seconds
        self.timeout = timeout
        self.notification_timeout = notification_timeout
        self.target = target
        self.label = uuid.uuid4().hex[:8]
        self.timeline = Timeline(clock, progress)

    def _poll(self, what: str, done: Callable[[], Any]) -> Any:
        deadline = self.clock() + self.timeout
        while True:
            value = done()
            if value:
                return value
            if self.clock() >= deadline:
                raise DrillError(f"timed out after {self.timeout:.0f}s waiting for {what}")
            self.sleep(self.poll_seconds)

    def _green_health(self) -> dict[str, str]:
        found = _call(
            "read green's target health",
            self.client("elbv2").describe_target_health,
            TargetGroupArn=self.layout.replacement_target_group,
        )["TargetHealthDescriptions"]
        return {d["Target"]["Id"]: d["TargetHealth"]["State"] for d in found}

    def _termination_wait(self) -> int:
        group = _call(
            "read the deployment group",
            self.client("codedeploy").get_deployment_group,
            applicationName=self.layout.application,
            deploymentGroupName=self.layout.deployment_group,
        )["deploymentGroupInfo"]
        terminate = (group.get("blueGreenDeploymentConfiguration") or {}).get(
            "terminateBlueInstancesOnDeploymentSuccess"
        ) or {}
        return int(terminate.get("terminationWaitTimeInMinutes") or 0)

    def run(self) -> DrillResult:
        layout, client, timeline = self.layout, self.client, self.timeline
        result = DrillResult(layout, self.scenario, self.target, self.label, timeline)
        result.mode = self.mode
        result.codedeploy = "engine" if self.target == "local" else "aws"
        timeline.step(
            "discover",
            f"{layout.deployment_group}: production on "
            f"{layout.name_of(layout.original_target_group)}, green will be "
            f"{layout.name_of(layout.replacement_target_group)}, service on "
            f"{short_arn(layout.task_definition)}; breaking it with the "
            + ("fault switch" if self.mode == FAULT else "alarm's state (SetAlarmState)"),
        )
        breach_alarm, alarms_before = preflight(client, layout)
        if self.scenario == ALARM and self._termination_wait() < 1:
            raise DrillError(
                f"{layout.deployment_group} removes the original tasks as soon as traffic has "
                "moved (termination wait 0): nothing is left to roll back to after the hooks",
                hint="use --hook AfterAllowTraffic, or give the environment "
                "deployments.termination_wait_minutes of 1 or more",
            )
        inbox = Inbox(client, layout.topic_arn, f"{layout.name_prefix}-drill-{self.label}")
        release = Release(layout, client, timeline, label=self.label)
        alarm_set = False
        try:
            inbox.open()
            timeline.step("listen", f"queue {inbox.name} subscribed to the notifications topic")
            environment = {"SERVICE_VERSION": f"drill-{self.label}"}
            if self.mode == FAULT and self.scenario == AFTER_ALLOW_TEST_TRAFFIC:
                environment["FAULT_HEALTH_STATUS"] = "503"
            release.register_revision(environment)
            deployment_id = result.deployment_id = release.create_deployment()

            def unfinished() -> None:
                status = deployment_info(client, deployment_id)["status"]
                if status not in statuses.UNFINISHED:
                    raise DrillError(f"deployment {deployment_id} ended {status} before the breach")

            # -- the breach ---------------------------------------------------------------
            if self.scenario == AFTER_ALLOW_TEST_TRAFFIC:
                listener = layout.test_listener

                def green_on(listener: str = listener) -> bool:
                    unfinished()
                    return listener_target(client, listener) == layout.replacement_target_group

                self._poll("green behind the test listener", green_on)
                timeline.step(
                    "green testing",
                    f"test listener -> {layout.name_of(layout.replacement_target_group)}",
                )
            elif self.scenario == AFTER_ALLOW_TRAFFIC:

                def serving() -> bool:
                    unfinished()
                    return (
                        listener_target(client, layout.production_listener)
                        == layout.replacement_target_group
                    )

                self._poll("production traffic on green", serving)
                timeline.step(
                    "green serving",
                    f"production listener -> {layout.name_of(layout.replacement_target_group)}",
                )
            else:

                def baking() -> bool:
                    info = deployment_info(client, deployment_id)
                    if info["status"] not in statuses.UNFINISHED:
                        raise DrillError(f"deployment {deployment_id} ended {info['status']}")
                    return bool(info.get("instanceTerminationWaitTimeStarted"))

                self._poll("both hooks passed (the termination wait)", baking)
                timeline.step("hooks passed", "green serves production; termination wait begun")

            if self.mode == FAULT and self.scenario == AFTER_ALLOW_TEST_TRAFFIC:
                self._poll(
                    "green's first failed health check",
                    lambda: "unhealthy" in self._green_health().values(),
                )
                result.breach_at = self.clock()
                timeline.record(
                    "breach",
                    result.breach_at,
                    "green's targets fail their health checks (the release starts with "
                    "its fault switch on: /health answers 503)",
                )
            elif self.mode == FAULT:
                assert self.url
                result.breach_at = self.clock()
                answers = set_fault(self.url, 503, 4 * max(1, len(self._green_health())))
                timeline.record(
                    "breach",
                    result.breach_at,
                    f"fault switch on through the production listener ({answers.count(200)} "
                    f"of {len(answers)} PUT /fault/health answered 200): green's /health "
                    "answers 503",
                )
                if 200 not in answers:
                    raise DrillError(
                        f"the service did not take the fault switch ({sorted(set(answers))})",
                        hint="the drill's fault switch is the sample services' PUT /fault/health "
                        "(examples/monorepo/README.md)",
                    )
            else:
                reason = f"deployer drill {self.label}: the new version breaches {breach_alarm}"
                result.breach_at = self.clock()
                alarm_set = True
                set_alarm(client, breach_alarm, "ALARM", reason)
                timeline.record(
                    "breach", result.breach_at, f"{breach_alarm} -> ALARM (SetAlarmState)"
                )

            # -- CodeDeploy, the guard and the alarms roll it back ------------------------
            def stopped() -> dict[str, Any] | None:
                info = deployment_info(client, deployment_id)
                if info["status"] == "Succeeded":
                    raise _Unrolled(f"deployment {deployment_id} Succeeded despite the breach")
                return info if info["status"] in statuses.ROLLED_BACK else None

            info = self._poll("CodeDeploy to stop the deployment", stopped)
            rollback = (info.get("rollbackInfo") or {}).get("rollbackDeploymentId")
            result.rollback_deployment_id = rollback
            error = info.get("errorInformation") or {}
            result.guard = {"error": error}
            timeline.step(
                "deployment " + info["status"].lower(),
                f"{deployment_id} {info['status']}"
                + (f" ({error.get('code')}: {error.get('message')})" if error else "")
                + (f"; rollback deployment {rollback}" if rollback else ""),
            )
            self._poll(
                "production traffic on the original target group",
                lambda: (
                    listener_target(client, layout.production_listener)
                    == layout.original_target_group
                ),
            )
            result.restored_at = timeline.step(
                "traffic restored",
                f"production listener -> {layout.name_of(layout.original_target_group)}",
            )
            if rollback:
                self._poll(
                    f"rollback deployment {rollback} to finish",
                    lambda: deployment_info(client, rollback)["status"] not in statuses.UNFINISHED,
                )
            self._poll(
                "the service back on the previous task definition",
                lambda: service_state(client, layout)["taskDefinition"] == layout.task_definition,
            )
            timeline.step("rolled back", f"service on {short_arn(layout.task_definition)}")
            _verify_end_state(result, client, layout, release)
            note = inbox.wait_for(
                about(deployment_id), timeout=self.notification_timeout, clock=self.clock
            )
            result.notification = note
            result.verified["notification_published"] = note is not None
            if note and isinstance(note.get("message"), dict):
                result.guard["notification"] = note["message"]
            timeline.step(
                "notification",
                f"{note['subject']}" if note else "no notification about the deployment arrived",
            )
        except _Unrolled as exc:
            result.problems.append(str(exc))
        finally:
            restored = []
            if alarm_set:
                for name, alarm in alarms_before.items():
                    with suppress(Exception):
                        set_alarm(
                            client,
                            name,
                            alarm.get("StateValue", "OK"),
                            f"deployer drill {self.label}: restored after the drill",
                        )
                        restored.append(name)
            release.forget_revision()
            inbox.close()
            timeline.step(
                "clean up",
                (f"alarms restored ({len(restored)}), " if alarm_set else "")
                + f"{short_arn(release.task_definition or '-')} deregistered, queue deleted",
            )
        return result


class _Unrolled(Exception):
    """CodeDeploy finished the broken release instead of rolling it back."""


# ---------------------------------------------------------------------------
# The command: one entry for both targets
# ---------------------------------------------------------------------------
def rollback(
    scope: Scope,
    service: str,
    scenario: str,
    progress: Callable[[str], None] | None = None,
) -> DrillResult:
    """``deployer drill rollback``: discover the service's layout, then drill.

    The drill runs where CodeDeploy deploys: on AWS, or on the local emulator with its
    runtime (whose CodeDeploy engine runs). The same calls on both (``LiveDrill``). An
    emulator without its runtime deploys nothing, so it refuses the drill and says why.
    """
    local = scope.target.is_local
    if local and not engine_runs(str(scope.target.endpoint)):
        raise DrillError(
            f"the local emulator at {scope.target.endpoint} runs without its runtime: no "
            "CodeDeploy engine deploys there, so there is nothing to roll back",
            hint="restart it with its runtime (deployer emulator stop; deployer emulator start, "
            "without --no-runtime; it needs a Docker engine: bin/docker-engine), apply the "
            "environment again, then drill",
        )
    layout = discover(scope, service)
    say = progress or (lambda _line: None)
    mode = break_mode(scope, service)
    url = production_url(scope, layout) if mode == FAULT else None
    say(
        f"rollback drill: {scope.env.name} {scope.region} {service}, --hook {scenario}, "
        + ("on the local emulator (its CodeDeploy engine deploys)" if local else "on AWS")
        + f", breaking the release with the {mode}"
    )
    return LiveDrill(
        layout,
        scope,
        scenario=scenario,
        mode=mode,
        url=url,
        progress=progress,
        poll_seconds=1.0 if local else 5.0,
        notification_timeout=60.0 if local else 120.0,
        target="local" if local else "aws",
    ).run()


def engine_runs(endpoint: str) -> bool:
    """Whether the local emulator runs its CodeDeploy engine (it does with its runtime)."""
    from deployer.emulator import controls
    from deployer.errors import EmulatorError

    try:
        runtime = controls.post(endpoint, "runtime", None).get("runtime") or {}
    except EmulatorError:
        return False
    return "codedeploy" in runtime
