"""CodeDeploy deploys ECS services blue/green, as CodeDeploy's engine does.

Reproduces, after the CodeDeploy user guide ("Deployments on an Amazon ECS compute
platform": what happens during an ECS deployment, stopped and failed deployments,
redeployments and rollbacks; "AppSpec 'hooks' section for an Amazon ECS
deployment"; "Deployment configurations on an Amazon ECS compute platform";
"Monitoring deployments with CloudWatch alarms"; "Monitoring deployments with
Amazon CloudWatch Events") and the API reference (GetDeployment, ErrorInformation,
ECSTarget, BlueGreenDeploymentConfiguration):

* an ECS deployment that CreateDeployment started (``InProgress``, see
  ``patches/codedeploy_ecs_deployments.py``) runs its lifecycle events one at a
  time, in AWS's order: BeforeInstall, Install, AfterInstall, AllowTestTraffic,
  AfterAllowTestTraffic, BeforeAllowTraffic, AllowTraffic, AfterAllowTraffic;
  the revision is the AppSpec (``AppSpecContent``/``String`` content, or an S3
  object; YAML or JSON): ``TargetService`` with ``TaskDefinition``,
  ``LoadBalancerInfo`` (container name and port), optional
  ``NetworkConfiguration``, ``PlatformVersion``, ``CapacityProviderStrategy``; a
  revision that cannot be read fails the deployment (``INVALID_REVISION``);
* the original target group is the one the production listener forwards to,
  the replacement the group's other one;
* hooks: the function named for the event (name or ARN) is invoked
  asynchronously with ``{"DeploymentId", "LifecycleEventHookExecutionId"}``; the
  event waits for PutLifecycleEventHookExecutionStatus with that execution id
  (``patches/codedeploy_lifecycle_hooks.py`` records it): ``Succeeded`` goes on,
  ``Failed`` fails the deployment (``HOOK_EXECUTION_FAILURE``), no report within
  one hour fails it too; an event without a hook succeeds at once;
* Install creates the replacement (green) task set from the AppSpec's task
  definition behind the replacement target group (scale 100 %, external id the
  deployment id; the ECS engine runs its tasks and registers them); Install ends
  when the set runs its computed desired count;
* AllowTestTraffic points the test listener at the replacement target group and
  waits until the load balancer's health checks have decided every green target
  (healthy, or unhealthy: judging that is the validation hooks' job, next);
  without a test listener that wait is AllowTraffic's, before any production
  traffic moves. Green tasks not running, or targets not checked, 60 minutes
  after Install began fail the deployment: "The deployment timed out while
  waiting for the replacement task set to become healthy. This time out period
  is 60 minutes." (``TIMEOUT``);
* AllowTraffic shifts production traffic as the deployment configuration says:
  all at once, ``TimeBasedCanary`` (the canary percentage, then the rest after
  the interval) or ``TimeBasedLinear`` (the percentage every interval), as
  weighted forwards of the production listener, then plain forward to the
  replacement target group; the replacement task set becomes PRIMARY;
* after AfterAllowTraffic, the termination wait of the group's
  ``terminateBlueInstancesOnDeploymentSuccess`` (``instanceTerminationWaitTimeStarted``
  true; ContinueDeployment with ``TERMINATION_WAIT`` ends it early, see
  ``patches/codedeploy_continue_deployment.py``), then the original task set is
  deleted and the deployment ``Succeeded``;
* the group's alarms (``alarmConfiguration`` enabled) are read every round while
  the deployment runs: one in ALARM stops it, status ``Stopped``, error
  ``ALARM_ACTIVE`` naming the alarms, and rolls back when the deployment (or its
  group) rolls back on ``DEPLOYMENT_STOP_ON_ALARM``; a failure rolls back on
  ``DEPLOYMENT_FAILURE``; a deployment stopped by StopDeployment (see
  ``patches/codedeploy_stop_deployment.py``) rolls back when the call asked;
* a rollback is its own deployment (creator ``codeDeployRollback``, linked both
  ways through ``rollbackInfo``): production and test listeners go back to where
  they were, the original task set is PRIMARY again, the replacement task set is
  deleted, and the rollback deployment ``Succeeded``; a failure without rollback
  leaves the components as they are, as AWS does;
* "CodeDeploy Deployment State-change Notification" events (``START``,
  ``SUCCESS``, ``FAILURE``, ``STOP``) go to the account's default event bus, in
  the shape of AWS's examples;
* CodeDeploy acts as the deployment group's service role ("Service role for
  CodeDeploy", AWSCodeDeployRoleForECS): before each call it makes, the role's
  identity policies are evaluated by ``deployer.emulator.authz`` (session name the
  deployment id): ecs:CreateTaskSet (``*``, context ``ecs:cluster``) and iam:PassRole
  of the task definition's task and execution roles (``iam:PassedToService``
  ecs-tasks.amazonaws.com) at Install, elasticloadbalancing:ModifyListener on the test
  and production listeners, ecs:UpdateServicePrimaryTaskSet on the service,
  ecs:DeleteTaskSet on the original task set, lambda:InvokeFunction on each hook's
  function, cloudwatch:DescribeAlarms on the group's alarms each round; a call the role
  does not allow fails the deployment with ``IAM_ROLE_PERMISSIONS`` ("The IAM role
  <arn> does not give you permission to perform operations in the following AWS
  service: <service>." and AWS's AccessDenied message), rolled back as any failure;
* the deployment's ECS target (``deployer_ecs_target`` on moto's deployment, the
  API's ``ECSTarget``: lifecycle events with their status and times, the task
  sets with their counts, traffic weight, target group and Blue/Green label) is
  kept up to date for ListDeploymentTargets and GetDeploymentTarget.

Left out: ``deploymentReadyOption`` STOP_DEPLOYMENT (waiting for
ContinueDeployment before traffic moves: such deployments go on at once),
``KEEP_ALIVE`` termination (ECS groups take TERMINATE), ``ignorePollAlarmFailure``
(an alarm that does not exist is not watched), CodeDeploy triggers (SNS), instance
state-change events, several target group pairs or listeners, Network Load
Balancers, EC2/Lambda deployments (moto's behaviour stays), the rollback
deployment's own lifecycle events (it has none here), the service role's permissions
for what a rollback does (its calls are made unchecked) and for the reads CodeDeploy
makes (DescribeServices, DescribeTargetGroups, DescribeListeners, DescribeRules, an S3
revision's GetObject), key, resource and other policies than the role's identity
policies (see ``authz``), and the exact wording of AWS's messages other than those
quoted above.
"""

from __future__ import annotations

import json
import logging
import math
import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from deploy_guard import statuses

from deployer.emulator import authz
from deployer.emulator.patches.codedeploy_continue_deployment import END_TERMINATION_WAIT
from deployer.emulator.scheduler import BACKEND_LOCK, Scheduler

log = logging.getLogger(__name__)

ROUND_S = 1.0
#: CodeDeploy fails a hook that has not reported within an hour.
HOOK_TIMEOUT_S = 3600.0
#: ... and a replacement task set that is not healthy within 60 minutes.
HEALTHY_TIMEOUT_S = 3600.0

EVENTS = (
    "BeforeInstall",
    "Install",
    "AfterInstall",
    "AllowTestTraffic",
    "AfterAllowTestTraffic",
    "BeforeAllowTraffic",
    "AllowTraffic",
    "AfterAllowTraffic",
)
HOOKS = (
    "BeforeInstall",
    "AfterInstall",
    "AfterAllowTestTraffic",
    "BeforeAllowTraffic",
    "AfterAllowTraffic",
)

#: The AWS service named in CodeDeploy's IAM_ROLE_PERMISSIONS message, by IAM prefix.
SERVICE_NAMES = {
    "ecs": "AmazonECS",
    "elasticloadbalancing": "Elastic Load Balancing",
    "lambda": "AWS Lambda",
    "cloudwatch": "Amazon CloudWatch",
    "iam": "AWS Identity and Access Management",
}

#: iam:PassRole of a task's roles, as ECS asks it.
TO_ECS_TASKS = {"iam:PassedToService": "ecs-tasks.amazonaws.com"}

HEALTH_TIMEOUT_MESSAGE = (
    "The deployment timed out while waiting for the replacement task set to become "
    "healthy. This time out period is 60 minutes."
)

Invoke = Callable[[str, str, str, str], None]

#: A deployment's status as its target's (TargetStatus has no Stopped, Created, ...).
TARGET_STATUS = {
    "Created": "Pending",
    "Queued": "Pending",
    "Baking": "InProgress",
    "Stopped": "Failed",
}


class RevisionError(ValueError):
    """The deployment's AppSpec cannot be used."""


# -- the AppSpec ---------------------------------------------------------------------------------
@dataclass
class AppSpec:
    task_definition: str
    container_name: str
    container_port: int
    hooks: dict[str, str]
    network_configuration: dict[str, Any] | None = None
    platform_version: str | None = None
    capacity_provider_strategy: list[dict[str, Any]] | None = None


def _camel(value: Any) -> Any:
    """AppSpec keys are PascalCase (AwsvpcConfiguration); ECS's API is camelCase."""
    if isinstance(value, dict):
        return {k[:1].lower() + k[1:]: _camel(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_camel(v) for v in value]
    return value


def parse_appspec(text: str) -> AppSpec:
    """The parts of an ECS AppSpec (YAML or JSON) the deployment uses."""
    import yaml

    try:
        document = yaml.safe_load(text)
    except yaml.YAMLError as error:
        raise RevisionError(f"the AppSpec is neither YAML nor JSON: {error}") from None
    if not isinstance(document, dict):
        raise RevisionError("the AppSpec is not a mapping")
    resources = document.get("Resources") or []
    services = [
        r["TargetService"]
        for r in resources
        if isinstance(r, dict) and isinstance(r.get("TargetService"), dict)
    ]
    if len(services) != 1:
        raise RevisionError(f"the AppSpec names {len(services)} TargetService resources, not 1")
    target = services[0]
    if target.get("Type") != "AWS::ECS::Service":
        raise RevisionError(f"TargetService Type is {target.get('Type')!r}, not AWS::ECS::Service")
    props = target.get("Properties") or {}
    task_definition = props.get("TaskDefinition")
    balancer = props.get("LoadBalancerInfo") or {}
    if not task_definition:
        raise RevisionError("TargetService has no TaskDefinition")
    if not balancer.get("ContainerName") or not balancer.get("ContainerPort"):
        raise RevisionError("LoadBalancerInfo needs ContainerName and ContainerPort")
    hooks: dict[str, str] = {}
    for entry in document.get("Hooks") or []:
        if not isinstance(entry, dict):
            raise RevisionError(f"a Hooks entry is not a mapping: {entry!r}")
        for event, function in entry.items():
            if event not in HOOKS:
                raise RevisionError(f"{event} is not a lifecycle event hook of ECS deployments")
            hooks[event] = str(function)
    network = props.get("NetworkConfiguration")
    return AppSpec(
        task_definition=str(task_definition),
        container_name=str(balancer["ContainerName"]),
        container_port=int(balancer["ContainerPort"]),
        hooks=hooks,
        network_configuration=_camel(network) if network else None,
        platform_version=props.get("PlatformVersion"),
        capacity_provider_strategy=_camel(props.get("CapacityProviderStrategy")),
    )


def revision_text(revision: dict[str, Any], account: str, region: str) -> str:
    """The AppSpec text of a CreateDeployment revision (content, or an S3 object)."""
    kind = revision.get("revisionType")
    if kind in ("AppSpecContent", "String"):
        holder = revision.get("appSpecContent") or revision.get("string") or {}
        content = holder.get("content")
        if not content:
            raise RevisionError(f"the {kind} revision has no content")
        return str(content)
    if kind == "S3":
        from moto.s3.models import s3_backends

        location = revision.get("s3Location") or {}
        bucket, key = location.get("bucket"), location.get("key")
        try:
            found = s3_backends[account]["aws"].get_object(str(bucket), str(key))
        except Exception as error:
            raise RevisionError(f"s3://{bucket}/{key} cannot be read: {error}") from None
        if found is None:
            raise RevisionError(f"s3://{bucket}/{key} does not exist")
        return bytes(found.value).decode()
    raise RevisionError(f"revision type {kind!r} is not one of an ECS deployment")


def shift_steps(routing: dict[str, Any]) -> list[tuple[float, float]]:
    """(percent on green, then wait seconds) steps of production traffic for a configuration."""
    kind = routing.get("type", "AllAtOnce")
    if kind == "TimeBasedCanary":
        canary = routing.get("timeBasedCanary") or {}
        return [
            (
                float(canary.get("canaryPercentage", 10)),
                60.0 * float(canary.get("canaryInterval", 0)),
            ),
            (100.0, 0.0),
        ]
    if kind == "TimeBasedLinear":
        linear = routing.get("timeBasedLinear") or {}
        step = float(linear.get("linearPercentage", 10))
        wait = 60.0 * float(linear.get("linearInterval", 0))
        steps, percent = [], 0.0
        while percent + step < 100.0:
            percent += step
            steps.append((percent, wait))
        steps.append((100.0, 0.0))
        return steps
    return [(100.0, 0.0)]


# -- one deployment ------------------------------------------------------------------------------
@dataclass
class Run:
    account: str
    region: str
    deployment_id: str
    spec: AppSpec
    cluster: str
    service: str
    service_arn: str
    production_listener: str
    test_listener: str | None
    target_groups: dict[str, str]  # ARN -> name
    original_tg: str
    replacement_tg: str
    test_original_tg: str | None
    original_task_set: str
    steps: list[tuple[float, float]]
    termination_wait_s: float
    alarms: list[str]
    started: float
    role: str = ""  # the deployment group's service role, which CodeDeploy acts as
    cluster_arn: str = ""
    event: int = 0
    events: list[dict[str, Any]] = field(default_factory=list)
    execution: str | None = None
    hook_started: float = 0.0
    invoke_error: str | None = None
    replacement_task_set: str | None = None
    install_started: float = 0.0
    green_checked: bool = False
    test_moved: bool = False
    shift_index: int = 0
    next_shift_at: float = 0.0
    production_percent: float = 0.0
    primary_switched: bool = False
    terminate_at: float | None = None
    done: bool = False


def _elbv2(account: str, region: str) -> Any:
    from moto.elbv2.models import elbv2_backends

    return elbv2_backends[account][region]


def _ecs(account: str, region: str) -> Any:
    from moto.ecs.models import ecs_backends

    return ecs_backends[account][region]


def _forwarded(listener: Any) -> list[str]:
    arns: list[str] = []
    for action in listener.default_actions:
        data = getattr(action, "data", {}) or {}
        if data.get("Type") != "forward":
            continue
        weighted = (data.get("ForwardConfig") or {}).get("TargetGroups") or []
        if weighted:
            arns += [t["TargetGroupArn"] for t in weighted if int(t.get("Weight", 1)) > 0]
        elif data.get("TargetGroupArn"):
            arns.append(data["TargetGroupArn"])
    return sorted(set(arns))


def _listener(account: str, region: str, arn: str) -> Any:
    (found,) = _elbv2(account, region).describe_listeners(
        load_balancer_arn=None, listener_arns=[arn]
    )
    return found


def _forward(account: str, region: str, listener: str, weights: list[tuple[str, float]]) -> None:
    """Point a listener at one target group, or at several with weights."""
    live = [(arn, w) for arn, w in weights if w > 0]
    if len(live) == 1:
        action: dict[str, Any] = {"Type": "forward", "TargetGroupArn": live[0][0]}
    else:
        action = {
            "Type": "forward",
            "ForwardConfig": {
                "TargetGroups": [{"TargetGroupArn": arn, "Weight": round(w)} for arn, w in weights]
            },
        }
    _elbv2(account, region).modify_listener(listener, None, None, None, [], [action])


class CodeDeployEngine:
    """The engine (see the module docstring)."""

    name = "codedeploy"

    def __init__(self, lock: Any = BACKEND_LOCK, invoke: Invoke | None = None) -> None:
        self.lock = lock
        self.invoke = invoke or invoke_hook
        self.runs: dict[str, Run] = {}
        self.counts = {"started": 0, "succeeded": 0, "failed": 0, "stopped": 0, "rolled_back": 0}
        self.errors: dict[str, str] = {}
        self._scheduler: Scheduler | None = None
        self._invocations: list[tuple[str, str, str, str, str]] = []

    def start(self, scheduler: Scheduler) -> None:
        self._scheduler = scheduler
        scheduler.every(ROUND_S, self.run, name="codedeploy")

    def now(self) -> float:
        if self._scheduler is None:
            raise RuntimeError("codedeploy: not started")
        return self._scheduler.now()

    # -- one round ------------------------------------------------------------------------------
    def run(self, now: float | None = None) -> None:
        now = self.now() if now is None else now
        with self.lock:
            self._discover(now)
            for run in list(self.runs.values()):
                if run.done:
                    continue
                try:
                    self._advance(run, now)
                except Exception as error:  # one broken deployment must not stop the others
                    log.exception(
                        "codedeploy: deployment %s failed in the engine", run.deployment_id
                    )
                    self.errors[run.deployment_id] = f"{type(error).__name__}: {error}"
                    run.done = True
            invocations, self._invocations = self._invocations, []
        for account, region, function, payload, execution in invocations:
            self._start_invocation(account, region, function, payload, execution)

    def _start_invocation(
        self, account: str, region: str, function: str, payload: str, execution: str
    ) -> None:
        def call() -> None:
            try:
                self.invoke(account, region, function, payload)
            except Exception as error:
                with self.lock:
                    for run in self.runs.values():
                        if run.execution == execution:
                            run.invoke_error = f"{type(error).__name__}: {error}"

        threading.Thread(target=call, name=f"codedeploy-hook-{execution[:8]}", daemon=True).start()

    # -- under the lock: new deployments --------------------------------------------------------
    def _discover(self, now: float) -> None:
        from moto.codedeploy.models import codedeploy_backends

        for account in list(codedeploy_backends.keys()):
            for region, backend in list(codedeploy_backends[account].items()):
                for deployment in list(backend.deployments.values()):
                    if deployment.deployment_id in self.runs:
                        continue
                    if deployment.application.compute_platform != "ECS":
                        continue
                    if deployment.status != statuses.IN_PROGRESS:
                        continue
                    if deployment.creator == "codeDeployRollback":
                        continue  # run by the engine with the deployment it rolls back
                    self._begin(account, region, backend, deployment, now)

    def _begin(self, account: str, region: str, backend: Any, deployment: Any, now: float) -> None:
        deployment.deployer_hook_executions = {}
        events = [{"lifecycleEventName": name, "status": "Pending"} for name in EVENTS]
        deployment.deployer_ecs_target = {
            "deploymentId": deployment.deployment_id,
            "targetId": "",
            "lifecycleEvents": events,
            "status": "InProgress",
            "lastUpdatedAt": now,
            "taskSetsInfo": [],
        }
        self.counts["started"] += 1
        self._put_event(backend, deployment, "START", now)
        try:
            run = self._layout(account, region, backend, deployment, now)
        except RevisionError as error:
            from deployer.emulator.patches import _codedeploy_state as state

            for record in events:
                record["status"] = "Skipped"
            state.finish(deployment, "Failed", code="INVALID_REVISION", message=str(error))
            deployment.deployer_ecs_target["status"] = "Failed"
            deployment.deployer_ecs_target["lastUpdatedAt"] = now
            self.counts["failed"] += 1
            self._put_event(backend, deployment, "FAILURE", now)
            log.info("codedeploy: %s failed: %s", deployment.deployment_id, error)
            return
        run.events = events
        self.runs[deployment.deployment_id] = run
        target = deployment.deployer_ecs_target
        target["targetId"] = f"{run.cluster}:{run.service}"
        target["targetArn"] = run.service_arn
        log.info(
            "codedeploy: %s of %s/%s started (%s -> %s)",
            deployment.deployment_id,
            deployment.application_name,
            deployment.deployment_group_name,
            run.target_groups.get(run.original_tg),
            run.target_groups.get(run.replacement_tg),
        )

    def _layout(self, account: str, region: str, backend: Any, deployment: Any, now: float) -> Run:
        group = deployment.deployment_group
        spec = parse_appspec(revision_text(deployment.revision or {}, account, region))
        ecs = _ecs(account, region)
        try:
            ecs.describe_task_definition(spec.task_definition)
        except Exception:
            raise RevisionError(f"task definition {spec.task_definition} does not exist") from None
        (service_ref,) = group.ecs_services or [{}]
        cluster, service_name = service_ref.get("clusterName"), service_ref.get("serviceName")
        services, _ = ecs.describe_services(cluster, [service_name])
        if not services:
            raise RevisionError(f"ECS service {cluster}/{service_name} does not exist")
        service = services[0]
        primaries = [ts for ts in service.task_sets if ts.status == "PRIMARY"]
        if not primaries:
            raise RevisionError(f"ECS service {service_name} has no PRIMARY task set")
        pairs = (group.load_balancer_info or {}).get("targetGroupPairInfoList") or []
        if len(pairs) != 1:
            raise RevisionError("the deployment group needs one target group pair")
        pair = pairs[0]
        elbv2 = _elbv2(account, region)
        names = [tg["name"] for tg in pair.get("targetGroups") or []]
        groups = {tg.arn: tg.name for tg in elbv2.target_groups.values() if tg.name in names}
        if len(groups) != 2:
            raise RevisionError(f"target groups {', '.join(names)} are not two that exist")
        (production,) = (pair.get("prodTrafficRoute") or {}).get("listenerArns") or [None]
        tests = (pair.get("testTrafficRoute") or {}).get("listenerArns") or []
        if production is None:
            raise RevisionError("the deployment group has no production listener")
        serving = [
            arn for arn in _forwarded(_listener(account, region, production)) if arn in groups
        ]
        if len(serving) != 1:
            raise RevisionError("the production listener does not forward to one group of the pair")
        original = serving[0]
        (replacement,) = [arn for arn in groups if arn != original]
        test = tests[0] if tests else None
        test_original = None
        if test:
            forwarded = _forwarded(_listener(account, region, test))
            test_original = forwarded[0] if forwarded else None
        from deployer.emulator.patches import codedeploy_deployment_configs as configs

        # The deployment's configuration (CreateDeployment's, else the group's), predefined
        # or custom; a group left on moto's EC2 default shifts all at once.
        routing = (
            configs.traffic_routing(account, region, str(deployment.deployment_config_name or ""))
            or configs.traffic_routing(
                account,
                region,
                str(group.deployment_config_name or "CodeDeployDefault.ECSAllAtOnce"),
            )
            or dict(configs.ALL_AT_ONCE)
        )
        terminate = (group.blue_green_deployment_configuration or {}).get(
            "terminateBlueInstancesOnDeploymentSuccess"
        ) or {}
        wait_s = 60.0 * float(terminate.get("terminationWaitTimeInMinutes") or 0)
        from deployer.emulator.patches.codedeploy_alarm_configuration import alarm_configuration

        config = alarm_configuration(
            deployment.override_alarm_configuration or group.alarm_configuration
        )
        alarms = [a["name"] for a in config["alarms"]] if config["enabled"] else []
        return Run(
            account=account,
            region=region,
            deployment_id=deployment.deployment_id,
            spec=spec,
            cluster=service.cluster_name,
            service=service.name,
            service_arn=service.arn,
            production_listener=production,
            test_listener=test,
            target_groups=groups,
            original_tg=original,
            replacement_tg=replacement,
            test_original_tg=test_original,
            original_task_set=primaries[0].task_set_arn,
            steps=shift_steps(routing),
            termination_wait_s=wait_s,
            alarms=alarms,
            started=now,
            role=str(group.service_role_arn or ""),
            cluster_arn=str(service.cluster_arn),
        )

    # -- under the lock: one step ---------------------------------------------------------------
    def _deployment(self, run: Run) -> Any:
        from moto.codedeploy.models import codedeploy_backends

        return codedeploy_backends[run.account][run.region].deployments[run.deployment_id]

    def _backend(self, run: Run) -> Any:
        from moto.codedeploy.models import codedeploy_backends

        return codedeploy_backends[run.account][run.region]

    def _may(self, run: Run, action: str, resource: str, now: float,
             context: dict[str, str] | None = None) -> bool:  # fmt: skip
        """Whether the group's service role allows ``action`` on ``resource``; if not, the
        deployment fails with IAM_ROLE_PERMISSIONS (and rolls back once something changed)."""
        session = authz.Session(run.role, run.deployment_id) if run.role.count(":") >= 5 else None
        try:
            if session is None:
                raise authz.AccessDenied(run.role or "(no service role)", action, resource, False)
            authz.authorize(session, action, resource, {"aws:RequestedRegion": run.region,
                                                        **(context or {})})  # fmt: skip
        except authz.AccessDenied as denied:
            service = SERVICE_NAMES.get(action.split(":")[0], action.split(":")[0])
            self._fail(
                run,
                "IAM_ROLE_PERMISSIONS",
                f"The IAM role {run.role} does not give you permission to perform operations "
                f"in the following AWS service: {service}. {denied.message}",
                now,
            )
            return False
        return True

    def _advance(self, run: Run, now: float) -> None:
        deployment = self._deployment(run)
        if deployment.status in statuses.FINISHED:
            self._stopped_from_outside(run, deployment, now)
            return
        if run.event >= 1:  # from Install on, the group's alarms are watched
            firing = self._firing(run, now)
            if run.done:  # the service role may not read the alarms
                return
            if firing:
                self._stop_on_alarm(run, firing, now)
                return
        if run.event >= len(EVENTS):
            self._terminate(run, deployment, now)
            self._refresh_target(run, now)
            return
        name = EVENTS[run.event]
        record = run.events[run.event]
        if record["status"] == "Pending":
            record["status"] = "InProgress"
            record["startTime"] = now
        performed = {
            "Install": self._install,
            "AllowTestTraffic": self._allow_test_traffic,
            "AllowTraffic": self._allow_traffic,
        }.get(name)
        finished = performed(run, now) if performed else self._hook(run, name, now)
        if run.done:
            return
        if finished:
            record["status"] = "Succeeded"
            record["endTime"] = now
            run.event += 1
            run.execution = None
        self._refresh_target(run, now)

    # -- hooks ----------------------------------------------------------------------------------
    def _hook(self, run: Run, name: str, now: float) -> bool:
        function = run.spec.hooks.get(name)
        if not function:
            return True
        deployment = self._deployment(run)
        executions: dict[str, dict[str, Any]] = deployment.deployer_hook_executions
        if run.execution is None:
            arn = (
                function
                if function.startswith("arn:")
                else (f"arn:aws:lambda:{run.region}:{run.account}:function:{function}")
            )
            if not self._may(run, "lambda:InvokeFunction", arn, now):
                return False
            execution = str(uuid.uuid4())
            executions[execution] = {"lifecycleEventName": name, "status": "Pending"}
            run.execution = execution
            run.hook_started = now
            run.invoke_error = None
            payload = json.dumps(
                {"DeploymentId": run.deployment_id, "LifecycleEventHookExecutionId": execution}
            )
            self._invocations.append((run.account, run.region, function, payload, execution))
            return False
        reported = executions[run.execution]["status"]
        if reported == "Succeeded":
            return True
        if reported == "Failed":
            self._fail(
                run,
                "HOOK_EXECUTION_FAILURE",
                f"The deployment failed because the {name} lifecycle event hook {function} "
                f"reported Failed (execution {run.execution}).",
                now,
            )
            return False
        if run.invoke_error:
            self._fail(
                run,
                "HOOK_EXECUTION_FAILURE",
                f"The {name} lifecycle event hook {function} could not be invoked: "
                f"{run.invoke_error}",
                now,
            )
            return False
        if now - run.hook_started >= HOOK_TIMEOUT_S:
            executions[run.execution]["status"] = "Failed"
            self._fail(
                run,
                "HOOK_EXECUTION_FAILURE",
                f"The {name} lifecycle event hook {function} did not report a status "
                "within one hour.",
                now,
            )
            return False
        return False

    # -- the events CodeDeploy itself performs --------------------------------------------------
    def _install(self, run: Run, now: float) -> bool:
        ecs = _ecs(run.account, run.region)
        if run.replacement_task_set is None:
            if not self._may(run, "ecs:CreateTaskSet", "*", now, {"ecs:cluster": run.cluster_arn}):
                return False
            definition = ecs.describe_task_definition(run.spec.task_definition)
            for passed in (
                getattr(definition, "task_role_arn", None),
                getattr(definition, "execution_role_arn", None),
            ):
                if passed and not self._may(run, "iam:PassRole", str(passed), now, TO_ECS_TASKS):
                    return False
            services, _ = ecs.describe_services(run.cluster, [run.service])
            service = services[0]
            original = [ts for ts in service.task_sets if ts.task_set_arn == run.original_task_set]
            base = original[0] if original else None
            task_set = ecs.create_task_set(
                service=run.service,
                cluster_str=run.cluster,
                task_definition=run.spec.task_definition,
                external_id=run.deployment_id,
                network_configuration=run.spec.network_configuration
                or (base.network_configuration if base else None),
                load_balancers=[
                    {
                        "targetGroupArn": run.replacement_tg,
                        "containerName": run.spec.container_name,
                        "containerPort": run.spec.container_port,
                    }
                ],
                launch_type=None
                if run.spec.capacity_provider_strategy
                else (base.launch_type if base else "FARGATE"),
                capacity_provider_strategy=run.spec.capacity_provider_strategy,
                platform_version=run.spec.platform_version,
                scale={"unit": "PERCENT", "value": 100.0},
            )
            run.replacement_task_set = task_set.task_set_arn
            run.install_started = now
            return False
        if self._running(run):
            return True
        return self._health_deadline(run, now)

    def _allow_test_traffic(self, run: Run, now: float) -> bool:
        if run.test_listener is None:
            return True
        if not run.test_moved:
            if not self._may(run, "elasticloadbalancing:ModifyListener", run.test_listener, now):
                return False
            _forward(run.account, run.region, run.test_listener, [(run.replacement_tg, 100.0)])
            run.test_moved = True
        if self._checked(run):
            return True
        return self._health_deadline(run, now)

    def _allow_traffic(self, run: Run, now: float) -> bool:
        if not run.green_checked and not self._checked(run):
            return self._health_deadline(run, now)
        if now < run.next_shift_at:
            return False
        percent, wait = run.steps[run.shift_index]
        if not self._may(run, "elasticloadbalancing:ModifyListener", run.production_listener, now):
            return False
        _forward(
            run.account,
            run.region,
            run.production_listener,
            [(run.original_tg, 100.0 - percent), (run.replacement_tg, percent)],
        )
        run.production_percent = percent
        run.shift_index += 1
        run.next_shift_at = now + wait
        if run.shift_index < len(run.steps):
            return False
        if not self._may(run, "ecs:UpdateServicePrimaryTaskSet", run.service_arn, now):
            return False
        _ecs(run.account, run.region).update_service_primary_task_set(
            run.cluster, run.service, run.replacement_task_set
        )
        run.primary_switched = True
        return True

    def _terminate(self, run: Run, deployment: Any, now: float) -> None:
        if run.terminate_at is None:
            run.terminate_at = now + run.termination_wait_s
            deployment.instance_termination_wait_time_started = True
        # ContinueDeployment(TERMINATION_WAIT) ends the wait early.
        if now < run.terminate_at and not getattr(deployment, END_TERMINATION_WAIT, False):
            return
        if not self._may(run, "ecs:DeleteTaskSet", run.original_task_set, now):
            return
        ecs = _ecs(run.account, run.region)
        ecs.delete_task_set(run.cluster, run.service, run.original_task_set)
        self._finish(run, "Succeeded", now)

    # -- health ---------------------------------------------------------------------------------
    def _task_set(self, run: Run, arn: str | None) -> Any:
        services, _ = _ecs(run.account, run.region).describe_services(run.cluster, [run.service])
        for task_set in services[0].task_sets if services else []:
            if task_set.task_set_arn == arn:
                return task_set
        return None

    def _tasks(self, run: Run, arn: str | None) -> tuple[int, list[Any]]:
        """(computed desired count, running tasks) of a task set."""
        ecs = _ecs(run.account, run.region)
        task_set = self._task_set(run, arn)
        if task_set is None:
            return 0, []
        services, _ = ecs.describe_services(run.cluster, [run.service])
        desired = math.ceil(
            services[0].desired_count * float(task_set.scale.get("value", 100)) / 100
        )
        tasks = [
            t
            for t in ecs.tasks.get(run.cluster, {}).values()
            if t.started_by == task_set.id
            and t.desired_status == "RUNNING"
            and t.last_status == "RUNNING"
        ]
        return desired, tasks

    def _running(self, run: Run) -> bool:
        desired, tasks = self._tasks(run, run.replacement_task_set)
        return len(tasks) >= desired

    def _checked(self, run: Run) -> bool:
        """Every green task runs and the load balancer's health checks have decided each of
        its targets (healthy or unhealthy: the validation hooks judge that, then)."""
        from deployer.emulator.patches.ecs_task_set_tasks import _private_ip

        desired, tasks = self._tasks(run, run.replacement_task_set)
        if len(tasks) < desired:
            return False
        states = {
            h.instance_id: h.status
            for h in _elbv2(run.account, run.region).describe_target_health(run.replacement_tg, [])
        }
        decided = all(states.get(_private_ip(t)) in ("healthy", "unhealthy") for t in tasks)
        run.green_checked = decided
        return decided

    def _health_deadline(self, run: Run, now: float) -> bool:
        if now - run.install_started >= HEALTHY_TIMEOUT_S:
            self._fail(run, "TIMEOUT", HEALTH_TIMEOUT_MESSAGE, now)
        return False

    # -- alarms ---------------------------------------------------------------------------------
    def _firing(self, run: Run, now: float) -> list[str]:
        from moto.cloudwatch.models import cloudwatch_backends

        alarms = cloudwatch_backends[run.account][run.region].alarms
        prefix = f"arn:aws:cloudwatch:{run.region}:{run.account}:alarm:"
        for name in run.alarms:
            if not self._may(run, "cloudwatch:DescribeAlarms", prefix + name, now):
                return []
        return [
            name for name in run.alarms if name in alarms and alarms[name].state_value == "ALARM"
        ]

    def _stop_on_alarm(self, run: Run, firing: list[str], now: float) -> None:
        from deployer.emulator.patches import _codedeploy_state as state

        deployment = self._deployment(run)
        self._close_events(run, now)
        state.finish(
            deployment,
            "Stopped",
            code="ALARM_ACTIVE",
            message=(
                "One or more alarms have been activated according to the Amazon CloudWatch "
                "metrics you selected, and the affected deployments have been stopped. "
                f"Activated alarms: <{', '.join(firing)}>"
            ),
        )
        self.counts["stopped"] += 1
        self._put_event(self._backend(run), deployment, "STOP", now)
        log.info("codedeploy: %s stopped, alarms %s", run.deployment_id, ", ".join(firing))
        if state.rolls_back_on(deployment, "DEPLOYMENT_STOP_ON_ALARM"):
            state.roll_back(
                self._backend(run),
                deployment,
                "The deployment was stopped by its alarms; CodeDeploy rolls back to the "
                "original task set.",
            )
            self._roll_back(run, now)
        run.done = True
        self._refresh_target(run, now)

    # -- endings --------------------------------------------------------------------------------
    def _close_events(self, run: Run, now: float, status: str = "Failed") -> None:
        for record in run.events:
            if record["status"] == "InProgress":
                record["status"] = status
                record["endTime"] = now
            elif record["status"] == "Pending":
                record["status"] = "Skipped"

    def _fail(
        self, run: Run, code: str, message: str, now: float, *, roll_back: bool = True
    ) -> None:
        from deployer.emulator.patches import _codedeploy_state as state

        deployment = self._deployment(run)
        self._close_events(run, now)
        state.finish(deployment, "Failed", code=code, message=message)
        self.counts["failed"] += 1
        self._put_event(self._backend(run), deployment, "FAILURE", now)
        log.info("codedeploy: %s failed: %s %s", run.deployment_id, code, message)
        # Before Install nothing changed: there is nothing to roll back.
        changed = run.replacement_task_set is not None
        if roll_back and changed and state.rolls_back_on(deployment, "DEPLOYMENT_FAILURE"):
            state.roll_back(
                self._backend(run),
                deployment,
                "The deployment failed; CodeDeploy rolls back to the original task set.",
            )
            self._roll_back(run, now)
        run.done = True
        self._refresh_target(run, now)

    def _stopped_from_outside(self, run: Run, deployment: Any, now: float) -> None:
        """StopDeployment (or a hook's Failed report before the engine saw it) ended it."""
        self._close_events(run, now)
        self._put_event(
            self._backend(run),
            deployment,
            "STOP" if deployment.status == "Stopped" else "FAILURE",
            now,
        )
        self.counts["stopped" if deployment.status == "Stopped" else "failed"] += 1
        rollback = (getattr(deployment, "deployer_rollback", None) or {}).get(
            "rollbackDeploymentId"
        )
        if rollback:
            self._roll_back(run, now)
        run.done = True
        self._refresh_target(run, now)

    def _roll_back(self, run: Run, now: float) -> None:
        """Listeners back, the original task set PRIMARY, green deleted; the rollback done."""
        from deployer.emulator.patches import _codedeploy_state as state

        deployment = self._deployment(run)
        backend = self._backend(run)
        rollback_id = (getattr(deployment, "deployer_rollback", None) or {}).get(
            "rollbackDeploymentId"
        )
        rollback = backend.deployments.get(rollback_id) if rollback_id else None
        if rollback is not None:
            rollback.revision = rollback.revision or self._original_revision(run)
            self._put_event(backend, rollback, "START", now)
        if run.production_percent > 0:
            _forward(run.account, run.region, run.production_listener, [(run.original_tg, 100.0)])
            run.production_percent = 0.0
        if run.test_moved and run.test_listener and run.test_original_tg:
            _forward(run.account, run.region, run.test_listener, [(run.test_original_tg, 100.0)])
            run.test_moved = False
        ecs = _ecs(run.account, run.region)
        if run.primary_switched:
            ecs.update_service_primary_task_set(run.cluster, run.service, run.original_task_set)
            run.primary_switched = False
        if run.replacement_task_set and self._task_set(run, run.replacement_task_set) is not None:
            ecs.delete_task_set(run.cluster, run.service, run.replacement_task_set)
        self.counts["rolled_back"] += 1
        if rollback is not None:
            state.finish(rollback, "Succeeded")
            self._put_event(backend, rollback, "SUCCESS", now)
        log.info(
            "codedeploy: %s rolled back%s",
            run.deployment_id,
            f" by {rollback_id}" if rollback_id else "",
        )

    def _original_revision(self, run: Run) -> dict[str, Any]:
        """The rollback's revision: the original task set's task definition, same AppSpec."""
        task_set = self._task_set(run, run.original_task_set)
        definition = task_set.task_definition if task_set is not None else ""
        content = {
            "version": 0.0,
            "Resources": [
                {
                    "TargetService": {
                        "Type": "AWS::ECS::Service",
                        "Properties": {
                            "TaskDefinition": definition,
                            "LoadBalancerInfo": {
                                "ContainerName": run.spec.container_name,
                                "ContainerPort": run.spec.container_port,
                            },
                        },
                    }
                }
            ],
        }
        return {
            "revisionType": "AppSpecContent",
            "appSpecContent": {"content": json.dumps(content)},
        }

    def _finish(self, run: Run, status: str, now: float) -> None:
        from deployer.emulator.patches import _codedeploy_state as state

        deployment = self._deployment(run)
        state.finish(deployment, status)
        self.counts["succeeded"] += 1
        self._put_event(self._backend(run), deployment, "SUCCESS", now)
        log.info("codedeploy: %s succeeded", run.deployment_id)
        run.done = True

    # -- records --------------------------------------------------------------------------------
    def _refresh_target(self, run: Run, now: float) -> None:
        deployment = self._deployment(run)
        target = deployment.deployer_ecs_target
        target["status"] = TARGET_STATUS.get(deployment.status, deployment.status)
        target["lastUpdatedAt"] = now
        if not run.service:
            return
        infos = []
        for arn, label, group in (
            (run.original_task_set, "Blue", run.original_tg),
            (run.replacement_task_set, "Green", run.replacement_tg),
        ):
            task_set = self._task_set(run, arn) if arn else None
            if task_set is None:
                continue
            desired, tasks = self._tasks(run, arn)
            weight = run.production_percent if label == "Green" else 100.0 - run.production_percent
            infos.append(
                {
                    "identifer": task_set.id,
                    "desiredCount": desired,
                    "pendingCount": max(0, desired - len(tasks)),
                    "runningCount": len(tasks),
                    "status": task_set.status,
                    "trafficWeight": weight,
                    "targetGroup": {"name": run.target_groups.get(group, group)},
                    "taskSetLabel": label,
                }
            )
        target["taskSetsInfo"] = infos

    def _put_event(self, backend: Any, deployment: Any, state: str, now: float) -> None:
        from moto.events.models import events_backends

        application = deployment.application_name
        group = deployment.deployment_group_name
        prefix = f"arn:aws:codedeploy:{backend.region_name}:{backend.account_id}"
        detail = {
            "region": backend.region_name,
            "deploymentId": deployment.deployment_id,
            "instanceGroupId": deployment.deployment_group.deployment_group_id,
            "deploymentGroup": group,
            "state": state,
            "application": application,
        }
        entry = {
            "Source": "aws.codedeploy",
            "DetailType": "CodeDeploy Deployment State-change Notification",
            "Detail": json.dumps(detail),
            "Resources": [
                f"{prefix}:application:{application}",
                f"{prefix}:deploymentgroup:{application}/{group}",
            ],
            "Time": math.floor(now),
        }
        try:
            events_backends[backend.account_id][backend.region_name].put_events([entry])
        except Exception:  # a target moto cannot reach must not stop the deployment
            log.exception("codedeploy: the %s event of %s failed", state, deployment.deployment_id)

    def status(self) -> dict[str, Any]:
        with self.lock:
            active = {
                run.deployment_id: (
                    EVENTS[run.event] if run.event < len(EVENTS) else "TerminationWait"
                )
                for run in self.runs.values()
                if not run.done
            }
            return {**self.counts, "active": active, "errors": dict(self.errors)}


def invoke_hook(account: str, region: str, function: str, payload: str) -> None:
    """Invoke a hook's function asynchronously (InvocationType Event), as CodeDeploy does."""
    from moto.awslambda.utils import get_backend

    backend = get_backend(account, region)
    backend.invoke(
        function_name=function,
        qualifier=None,
        body=payload,
        headers={"x-amz-invocation-type": "Event"},
        response_headers={},
    )
