"""The deploy guard: Lambda entry point and logic.

Two kinds of event reach the function:

* a **CodeDeploy lifecycle hook** (``AfterAllowTestTraffic`` and ``AfterAllowTraffic`` of an
  ECS blue/green deployment, ``{"DeploymentId", "LifecycleEventHookExecutionId"}``). The guard
  reads the deployment group (its ECS service, target groups, listeners and alarms), checks
  the green target group's health, the service's running task count and the group's alarms,
  and reports ``Succeeded`` or ``Failed`` with ``PutLifecycleEventHookExecutionStatus``;
  CodeDeploy rolls back on ``Failed``. It fails closed: anything it cannot check is a failure.
* an **EventBridge "CloudWatch Alarm State Change"** to ``ALARM`` for one of the services'
  alarms. The guard finds the deployment groups of its application that watch that alarm and
  stops their deployments in progress with automatic rollback.

Every failed check and every rollback is published to the notifications topic.

Configuration is environment variables: ``APPLICATION_NAME`` (the environment's CodeDeploy
application), ``TOPIC_ARN`` (the notifications topic) and ``VALIDATION_SECONDS`` (how long a
hook keeps watching a release that passes its checks: the checks run again every 2 seconds
until that window has passed, and the first failure fails the hook; 0 checks once). A window
at least as long as the load balancer needs to find a target unhealthy (interval times
unhealthy threshold, plus one interval) catches a release that breaks once traffic reaches
it, which one look right after the shift cannot. Everything else comes from the deployment
groups themselves.
"""

from __future__ import annotations

import functools
import json
import logging
import os
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import asdict, dataclass
from typing import Any

import boto3
import botocore.config
from botocore.exceptions import ClientError

from deploy_guard import notify, statuses

LOG = logging.getLogger("deploy_guard")
LOG.setLevel(logging.INFO)

SUCCEEDED = "Succeeded"
FAILED = "Failed"

#: The EventBridge detail type of alarm state changes.
ALARM_EVENT = "CloudWatch Alarm State Change"

#: Deployments that are themselves rollbacks: stopping one would strand the service
#: half-way, so they are left to finish.
ROLLBACK_CREATORS = frozenset({"codeDeployRollback", "CloudFormationRollback"})

#: CodeDeploy's answer when a hook already has a status (an earlier invocation reported it).
HOOK_ALREADY_COMPLETED = "LifecycleEventAlreadyCompletedException"

#: CodeDeploy's answer to StopDeployment for a deployment that finished meanwhile.
DEPLOYMENT_ALREADY_COMPLETED = "DeploymentAlreadyCompletedException"

TARGET_HEALTH_EXPECTED = "total >= 1 and healthy == total"
RUNNING_TASKS_EXPECTED = "running >= desired"
ALARMS_EXPECTED = "no alarm in ALARM"

#: DescribeAlarms takes at most 100 alarm names a call.
_ALARM_NAMES_PER_CALL = 100


class GuardError(Exception):
    """The event, the configuration or a deployment group lacks what the guard needs."""


@dataclass
class Check:
    """One check of a deployment: what was measured (``value``) against what was required."""

    name: str
    ok: bool
    value: Any
    expected: Any
    detail: str = ""


@dataclass
class Verdict:
    """The guard's decision on one lifecycle hook.

    ``reported`` is True when CodeDeploy accepted this invocation's
    ``PutLifecycleEventHookExecutionStatus``; False when the hook already had a status (a
    re-invocation: nothing is published again) or the call failed (``reason`` says why).
    """

    deployment_id: str
    service: str
    status: str
    reason: str
    checks: list[Check]
    reported: bool


@dataclass(frozen=True)
class DeploymentGroup:
    """What the guard reads from a deployment group (``GetDeploymentGroup``)."""

    application: str
    name: str
    cluster: str
    service: str
    target_group_names: tuple[str, ...]
    test_listener_arns: tuple[str, ...]
    alarm_names: tuple[str, ...]

    @classmethod
    def from_api(cls, info: dict[str, Any]) -> DeploymentGroup:
        services = info.get("ecsServices") or [{}]
        pairs = (info.get("loadBalancerInfo") or {}).get("targetGroupPairInfoList") or [{}]
        pair = pairs[0]
        alarms = (info.get("alarmConfiguration") or {}).get("alarms") or []
        return cls(
            application=str(info.get("applicationName") or ""),
            name=str(info.get("deploymentGroupName") or ""),
            cluster=str(services[0].get("clusterName") or ""),
            service=str(services[0].get("serviceName") or ""),
            target_group_names=tuple(str(tg["name"]) for tg in pair.get("targetGroups") or []),
            test_listener_arns=_listener_arns(pair.get("testTrafficRoute")),
            alarm_names=tuple(str(a["name"]) for a in alarms if a.get("name")),
        )


class Guard:
    """The guard's decisions, with its AWS clients injected.

    ``client(name)`` returns a boto3 client for ``name`` (``"codedeploy"``, ``"elbv2"``,
    ``"ecs"``, ``"cloudwatch"``, ``"sns"``); the Lambda passes ``boto3.client``, tests pass
    moto-backed or stubbed clients, the rollback drill emulator clients. ``clock`` gives the
    time stamped on notifications.
    """

    def __init__(
        self,
        client: Callable[[str], Any],
        *,
        application: str,
        topic_arn: str,
        clock: Callable[[], float] = time.time,
        sleep: Callable[[float], None] = time.sleep,
        validation_seconds: float = 0.0,
        poll_seconds: float = 2.0,
    ) -> None:
        self.application = application
        self.topic_arn = topic_arn
        self.validation_seconds = validation_seconds
        self.poll_seconds = poll_seconds
        self._client_factory = client
        self._clock = clock
        self._sleep = sleep
        self._clients: dict[str, Any] = {}
        # What this guard has published, so that a re-invocation in the same (warm)
        # container does not publish the same verdict or rollback twice.
        self._published: set[tuple[str, ...]] = set()

    # --- CodeDeploy lifecycle hooks ------------------------------------------------

    def on_lifecycle_hook(self, event: dict[str, Any]) -> Verdict:
        """Check the deployment, report the verdict to CodeDeploy, publish a failure."""
        deployment_id = str(event.get("DeploymentId") or "")
        hook_id = str(event.get("LifecycleEventHookExecutionId") or "")
        group: DeploymentGroup | None = None
        checks: list[Check] = []
        try:
            if not deployment_id or not hook_id:
                raise GuardError(
                    "the event has no DeploymentId or no LifecycleEventHookExecutionId"
                )
            group = self._group_of_deployment(deployment_id)
            checks = self._watch(group)
            failed = [c for c in checks if not c.ok]
            status = FAILED if failed else SUCCEEDED
            if failed:
                reason = "; ".join(f"{c.name}: {c.detail}" for c in failed)
            else:
                reason = "all checks passed: " + "; ".join(c.detail for c in checks)
        except Exception as exc:  # fail closed: whatever went wrong, the deployment fails
            status = FAILED
            reason = f"the guard could not check the deployment: {describe(exc)}"

        verdict = Verdict(
            deployment_id=deployment_id,
            service=group.service if group else "",
            status=status,
            reason=reason,
            checks=checks,
            reported=False,
        )
        already_reported = bool(deployment_id and hook_id) and self._report(verdict, hook_id)
        if verdict.status == FAILED and not already_reported:
            self._publish_failed_verdict(verdict, hook_id, group)
        LOG.info(json.dumps({"deploy_guard": "verdict", **asdict(verdict)}, default=str))
        return verdict

    def _watch(self, group: DeploymentGroup) -> list[Check]:
        """The checks, again every ``poll_seconds`` while they pass, until the validation
        window has passed: the first failing round is the verdict."""
        until = self._clock() + self.validation_seconds
        while True:
            checks = self._checks(group)
            if any(not c.ok for c in checks) or self._clock() >= until:
                return checks
            self._sleep(min(self.poll_seconds, max(0.0, until - self._clock())))

    def _group_of_deployment(self, deployment_id: str) -> DeploymentGroup:
        if not self.application:
            raise GuardError("APPLICATION_NAME is not set: the guard has no CodeDeploy application")
        info = self._api("codedeploy").get_deployment(deploymentId=deployment_id)
        deployment = info["deploymentInfo"]
        application = deployment.get("applicationName")
        if application != self.application:
            raise GuardError(
                f"deployment {deployment_id} belongs to the application {application}, "
                f"not to {self.application}"
            )
        group = self._group(str(deployment["deploymentGroupName"]))
        if not group.cluster or not group.service:
            raise GuardError(f"deployment group {group.name} names no ECS service")
        return group

    def _checks(self, group: DeploymentGroup) -> list[Check]:
        return [
            _guarded("target_health", TARGET_HEALTH_EXPECTED, self._target_health, group),
            _guarded("running_tasks", RUNNING_TASKS_EXPECTED, self._running_tasks, group),
            _guarded("alarms", ALARMS_EXPECTED, self._alarms, group),
        ]

    def _target_health(self, group: DeploymentGroup) -> Check:
        """At least one target in the green target group, and every target healthy."""
        arn = self._green_target_group(group)
        name = target_group_name(arn)
        response = self._api("elbv2").describe_target_health(TargetGroupArn=arn)
        targets: dict[str, str] = {}
        reasons: dict[str, str] = {}
        for description in response.get("TargetHealthDescriptions") or []:
            target = description.get("Target") or {}
            health = description.get("TargetHealth") or {}
            key = (
                f"{target.get('Id')}:{target.get('Port')}"
                if target.get("Port")
                else target.get("Id")
            )
            targets[str(key)] = str(health.get("State") or "unknown")
            if health.get("Reason"):
                reasons[str(key)] = str(health["Reason"])
        total = len(targets)
        healthy = sum(1 for state in targets.values() if state == "healthy")
        ok = total >= 1 and healthy == total
        if total == 0:
            detail = f"no target registered in the green target group {name}"
        elif ok:
            detail = f"{healthy} of {total} targets healthy in the green target group {name}"
        else:
            bad = ", ".join(
                f"{t} {s}" + (f" ({reasons[t]})" if t in reasons else "")
                for t, s in sorted(targets.items())
                if s != "healthy"
            )
            detail = (
                f"{total - healthy} of {total} targets not healthy in the green target "
                f"group {name}: {bad}"
            )
        value = {"target_group": name, "healthy": healthy, "total": total, "targets": targets}
        return Check("target_health", ok, value, TARGET_HEALTH_EXPECTED, detail)

    def _green_target_group(self, group: DeploymentGroup) -> str:
        """The ARN of the target group the test listener forwards to: the replacement's."""
        if not group.test_listener_arns:
            raise GuardError(
                f"deployment group {group.name} has no test listener, so the green target "
                "group is unknown"
            )
        response = self._api("elbv2").describe_listeners(
            ListenerArns=list(group.test_listener_arns)
        )
        arns = sorted(
            {
                arn
                for listener in response.get("Listeners") or []
                for arn in _forwarded_target_groups(listener.get("DefaultActions") or [])
            }
        )
        if len(arns) != 1:
            names = ", ".join(target_group_name(a) for a in arns) or "none"
            raise GuardError(
                f"the test listener forwards to {len(arns)} target groups ({names}), expected one"
            )
        name = target_group_name(arns[0])
        if group.target_group_names and name not in group.target_group_names:
            raise GuardError(
                f"the test listener forwards to {name}, which is not a target group of "
                f"deployment group {group.name} ({', '.join(group.target_group_names)})"
            )
        return arns[0]

    def _running_tasks(self, group: DeploymentGroup) -> Check:
        """The service runs at least as many tasks as it desires."""
        response = self._api("ecs").describe_services(
            cluster=group.cluster, services=[group.service]
        )
        services = response.get("services") or []
        if not services:
            failures = "; ".join(
                f"{f.get('arn')}: {f.get('reason')}" for f in response.get("failures") or []
            )
            raise GuardError(
                f"ECS service {group.service} not found in cluster {group.cluster}"
                + (f" ({failures})" if failures else "")
            )
        service = services[0]
        running = int(service.get("runningCount") or 0)
        desired = int(service.get("desiredCount") or 0)
        pending = int(service.get("pendingCount") or 0)
        ok = running >= desired
        detail = f"{running} of {desired} desired tasks running in {group.service}"
        if pending:
            detail += f" ({pending} pending)"
        value = {"running": running, "desired": desired, "pending": pending}
        return Check("running_tasks", ok, value, RUNNING_TASKS_EXPECTED, detail)

    def _alarms(self, group: DeploymentGroup) -> Check:
        """None of the deployment group's alarms is in ALARM (or missing)."""
        names = group.alarm_names
        if not names:
            detail = f"deployment group {group.name} names no alarms"
            return Check("alarms", True, {}, ALARMS_EXPECTED, detail)
        found = self._alarm_states(names)
        value = {name: found[name][0] if name in found else "MISSING" for name in names}
        in_alarm = [n for n in names if value[n] == "ALARM"]
        missing = [n for n in names if value[n] == "MISSING"]
        problems = [
            f"{n} in ALARM ({found[n][1]})" if found[n][1] else f"{n} in ALARM" for n in in_alarm
        ]
        problems += [f"{n} does not exist" for n in missing]
        ok = not problems
        detail = "; ".join(problems) if problems else f"none of {len(names)} alarms in ALARM"
        return Check("alarms", ok, value, ALARMS_EXPECTED, detail)

    def _alarm_states(self, names: Iterable[str]) -> dict[str, tuple[str, str]]:
        """{alarm name: (state, state reason)} of the alarms that exist, metric or composite."""
        wanted = list(names)
        found: dict[str, tuple[str, str]] = {}
        for start in range(0, len(wanted), _ALARM_NAMES_PER_CALL):
            chunk = wanted[start : start + _ALARM_NAMES_PER_CALL]
            kwargs: dict[str, Any] = {
                "AlarmNames": chunk,
                "AlarmTypes": ["CompositeAlarm", "MetricAlarm"],
            }
            while True:
                response = self._api("cloudwatch").describe_alarms(**kwargs)
                for alarm in [
                    *response.get("MetricAlarms", []),
                    *response.get("CompositeAlarms", []),
                ]:
                    found[str(alarm["AlarmName"])] = (
                        str(alarm.get("StateValue") or ""),
                        str(alarm.get("StateReason") or ""),
                    )
                if not response.get("NextToken"):
                    break
                kwargs["NextToken"] = response["NextToken"]
        return found

    def _report(self, verdict: Verdict, hook_id: str) -> bool:
        """Report the verdict to CodeDeploy; True when the hook already had a status."""
        try:
            self._api("codedeploy").put_lifecycle_event_hook_execution_status(
                deploymentId=verdict.deployment_id,
                lifecycleEventHookExecutionId=hook_id,
                status=verdict.status,
            )
        except ClientError as exc:
            if error_code(exc) == HOOK_ALREADY_COMPLETED:
                verdict.reason += (
                    "; CodeDeploy already had a status for this hook "
                    "(nothing reported or published again)"
                )
                return True
            self._not_reported(verdict, exc)
        except Exception as exc:  # a connection error, a timeout: fail closed all the same
            self._not_reported(verdict, exc)
        else:
            verdict.reported = True
        return False

    @staticmethod
    def _not_reported(verdict: Verdict, exc: Exception) -> None:
        # Without a status the hook times out and CodeDeploy fails the deployment: a guard
        # that could not report has not let the deployment through.
        if verdict.status == SUCCEEDED:
            verdict.status = FAILED
            verdict.reason = (
                f"the checks passed ({verdict.reason}), but CodeDeploy did not take the "
                f"status: {describe(exc)}"
            )
        else:
            verdict.reason += f"; CodeDeploy did not take the status: {describe(exc)}"

    def _publish_failed_verdict(
        self, verdict: Verdict, hook_id: str, group: DeploymentGroup | None
    ) -> None:
        key = ("verdict", verdict.deployment_id, hook_id, verdict.status)
        if key in self._published:
            return
        who = verdict.service or "unknown service"
        body = {
            "event": "deployment_check_failed",
            "deployment_id": verdict.deployment_id,
            "application": self.application,
            "deployment_group": group.name if group else None,
            "service": verdict.service,
            "lifecycle_event_hook_execution_id": hook_id,
            "status": verdict.status,
            "reported": verdict.reported,
            "reason": verdict.reason,
            "failed_checks": [asdict(c) for c in verdict.checks if not c.ok],
            "time": notify.timestamp(self._clock()),
        }
        subject = f"Deploy guard: {who} deployment {verdict.deployment_id or '?'} failed checks"
        if self._publish(subject, body):
            self._published.add(key)

    # --- Alarms ----------------------------------------------------------------------

    def on_alarm(self, event: dict[str, Any]) -> dict[str, Any]:
        """Stop, with rollback, the deployments in progress of the groups watching the alarm."""
        detail = event.get("detail") or {}
        alarm = str(detail.get("alarmName") or "")
        state = detail.get("state") or {}
        value = str(state.get("value") or "")
        result: dict[str, Any] = {
            "action": "none",
            "alarm": alarm,
            "state": value,
            "reason": "",
            "deployments": [],
        }
        if not alarm:
            result["reason"] = "the event names no alarm: nothing to do"
            return result
        if value != "ALARM":
            result["reason"] = (
                f"alarm {alarm} changed to {value or 'no state'}, not ALARM: nothing to do"
            )
            return result
        try:
            groups, unreadable = self._groups_watching(alarm)
            if not groups:
                if unreadable:
                    raise GuardError(
                        f"no readable deployment group of {self.application} watches {alarm}; "
                        f"unreadable: {'; '.join(unreadable)}"
                    )
                result["reason"] = (
                    f"no deployment group of {self.application} watches alarm {alarm}: "
                    "nothing to do"
                )
                return result
            entries = [
                self._stop(group, deployment_id, alarm, detail)
                for group in groups
                for deployment_id in self._active_deployments(group)
            ]
        except Exception as exc:  # the alarm still fires: make sure people hear of it
            result["action"] = "error"
            result["reason"] = f"the guard could not act on alarm {alarm}: {describe(exc)}"
            self._publish(
                f"Deploy guard: could not act on alarm {alarm}",
                {
                    "event": "alarm_not_handled",
                    "application": self.application,
                    "alarm": alarm,
                    "reason": result["reason"],
                    "evidence": _alarm_evidence(alarm, detail),
                    "time": notify.timestamp(self._clock()),
                },
            )
            LOG.info(json.dumps({"deploy_guard": "alarm", **result}, default=str))
            return result

        result["deployments"] = entries
        stopped = [e["deployment_id"] for e in entries if e["stopped"]]
        group_names = ", ".join(g.name for g in groups)
        if stopped:
            result["action"] = "rollback"
            result["reason"] = f"alarm {alarm} in ALARM: stopped with rollback {', '.join(stopped)}"
        elif entries:
            result["action"] = "error" if any("error" in e for e in entries) else "none"
            result["reason"] = (
                f"alarm {alarm} in ALARM, but no deployment was stopped: "
                + "; ".join(f"{e['deployment_id']}: {e['detail']}" for e in entries)
            )
        else:
            result["reason"] = (
                f"alarm {alarm} in ALARM, but no deployment of {group_names} is in progress: "
                "nothing to do"
            )
        LOG.info(json.dumps({"deploy_guard": "alarm", **result}, default=str))
        return result

    def _groups_watching(self, alarm: str) -> tuple[list[DeploymentGroup], list[str]]:
        """The application's deployment groups whose alarm configuration names ``alarm``."""
        if not self.application:
            raise GuardError("APPLICATION_NAME is not set: the guard has no CodeDeploy application")
        groups: list[DeploymentGroup] = []
        unreadable: list[str] = []
        for name in self._group_names():
            try:
                group = self._group(name)
            except ClientError as exc:
                unreadable.append(f"{name}: {describe(exc)}")
                continue
            if alarm in group.alarm_names:
                groups.append(group)
        return groups, unreadable

    def _group_names(self) -> Iterator[str]:
        kwargs: dict[str, Any] = {"applicationName": self.application}
        while True:
            response = self._api("codedeploy").list_deployment_groups(**kwargs)
            yield from (str(n) for n in response.get("deploymentGroups") or [])
            if not response.get("nextToken"):
                return
            kwargs["nextToken"] = response["nextToken"]

    def _active_deployments(self, group: DeploymentGroup) -> Iterator[str]:
        kwargs: dict[str, Any] = {
            "applicationName": self.application,
            "deploymentGroupName": group.name,
            "includeOnlyStatuses": list(statuses.STOPPABLE),
        }
        while True:
            response = self._api("codedeploy").list_deployments(**kwargs)
            yield from (str(d) for d in response.get("deployments") or [])
            if not response.get("nextToken"):
                return
            kwargs["nextToken"] = response["nextToken"]

    def _stop(
        self, group: DeploymentGroup, deployment_id: str, alarm: str, detail: dict[str, Any]
    ) -> dict[str, Any]:
        entry: dict[str, Any] = {
            "deployment_id": deployment_id,
            "deployment_group": group.name,
            "service": group.service,
            "stopped": False,
            "detail": "",
        }
        codedeploy = self._api("codedeploy")
        body: dict[str, Any] = {
            "deployment_id": deployment_id,
            "application": self.application,
            "deployment_group": group.name,
            "service": group.service,
            "alarm": alarm,
            "evidence": _alarm_evidence(alarm, detail),
        }
        try:
            deployment = codedeploy.get_deployment(deploymentId=deployment_id)["deploymentInfo"]
            if deployment.get("creator") in ROLLBACK_CREATORS:
                entry["detail"] = "a rollback deployment: left to finish"
                return entry
            response = codedeploy.stop_deployment(
                deploymentId=deployment_id, autoRollbackEnabled=True
            )
        except Exception as exc:
            if isinstance(exc, ClientError) and error_code(exc) == DEPLOYMENT_ALREADY_COMPLETED:
                entry["detail"] = "the deployment finished before it could be stopped"
                return entry
            # The deployment goes on with an alarm in ALARM: people must hear of it.
            entry["error"] = describe(exc)
            entry["detail"] = f"could not stop it: {describe(exc)}"
            body |= {
                "event": "rollback_failed",
                "reason": f"alarm {alarm} is in ALARM, but deployment {deployment_id} could "
                f"not be stopped: {describe(exc)}",
                "time": notify.timestamp(self._clock()),
            }
            self._publish(
                f"Deploy guard: could not roll back {group.service} {deployment_id}", body
            )
            return entry

        entry["stopped"] = True
        entry["detail"] = str(response.get("statusMessage") or response.get("status") or "stopped")
        key = ("rollback", deployment_id)
        if key not in self._published:
            body |= {
                "event": "rollback",
                "reason": f"alarm {alarm} went to ALARM during deployment {deployment_id}: "
                "stopped with automatic rollback",
                "stop_status": response.get("status"),
                "time": notify.timestamp(self._clock()),
            }
            subject = f"Rollback: {group.service} deployment {deployment_id} (alarm {alarm})"
            if self._publish(subject, body):
                self._published.add(key)
        return entry

    # --- Shared ----------------------------------------------------------------------

    def _api(self, service: str) -> Any:
        if service not in self._clients:
            self._clients[service] = self._client_factory(service)
        return self._clients[service]

    def _group(self, name: str) -> DeploymentGroup:
        response = self._api("codedeploy").get_deployment_group(
            applicationName=self.application, deploymentGroupName=name
        )
        return DeploymentGroup.from_api(response["deploymentGroupInfo"])

    def _publish(self, subject: str, body: dict[str, Any]) -> bool:
        """Publish to the notifications topic; False (and an error logged) if that failed."""
        if not self.topic_arn:
            LOG.error("TOPIC_ARN is not set: not published: %s", subject)
            return False
        try:
            self._api("sns").publish(
                TopicArn=self.topic_arn,
                Subject=notify.subject(subject),
                Message=notify.message(body),
            )
        except Exception as exc:  # the decision stands; the log keeps the notification
            LOG.error("could not publish %r: %s: %s", subject, describe(exc), notify.message(body))
            return False
        return True


# --- Lambda entry point --------------------------------------------------------------

_CONFIG = botocore.config.Config(
    retries={"mode": "standard", "max_attempts": 3},
    connect_timeout=5,
    read_timeout=10,
)

#: One guard per configuration, kept across warm invocations (its memory of what it
#: published is what makes a re-invocation in the same container publish nothing twice).
_GUARDS: dict[tuple[str, str], Guard] = {}


@functools.cache
def _client(service: str) -> Any:
    return boto3.client(service, config=_CONFIG)  # type: ignore[call-overload]


def handler(event: dict[str, Any], _context: object) -> dict[str, Any]:
    """Lambda entry point: a CodeDeploy lifecycle hook or a CloudWatch alarm state change."""
    application = os.environ.get("APPLICATION_NAME", "")
    topic_arn = os.environ.get("TOPIC_ARN", "")
    guard = _GUARDS.get((application, topic_arn))
    if guard is None:
        window = float(os.environ.get("VALIDATION_SECONDS") or 0)
        guard = Guard(
            _client, application=application, topic_arn=topic_arn, validation_seconds=window
        )
        _GUARDS[(application, topic_arn)] = guard
    if "DeploymentId" in event or "LifecycleEventHookExecutionId" in event:
        return asdict(guard.on_lifecycle_hook(event))
    if event.get("detail-type") == ALARM_EVENT:
        return guard.on_alarm(event)
    LOG.warning("ignored an event that is neither a lifecycle hook nor an alarm state change")
    return {
        "action": "none",
        "reason": "not a CodeDeploy lifecycle hook or a CloudWatch alarm state change event",
    }


# --- Helpers -------------------------------------------------------------------------


def error_code(exc: ClientError) -> str:
    return str(exc.response.get("Error", {}).get("Code") or "")


def describe(exc: BaseException) -> str:
    """One line naming what failed: the API operation and AWS's error, or the exception."""
    if isinstance(exc, ClientError):
        message = exc.response.get("Error", {}).get("Message") or ""
        return f"{exc.operation_name}: {error_code(exc)}" + (f": {message}" if message else "")
    if isinstance(exc, GuardError):
        return str(exc)
    return f"{type(exc).__name__}: {exc}"


def target_group_name(arn: str) -> str:
    """``arn:...:targetgroup/<name>/<id>`` -> ``<name>``."""
    resource = arn.split(":", 5)[-1]
    parts = resource.split("/")
    return parts[1] if len(parts) >= 2 and parts[0] == "targetgroup" else arn


def _listener_arns(route: dict[str, Any] | None) -> tuple[str, ...]:
    return tuple(str(a) for a in (route or {}).get("listenerArns") or [])


def _forwarded_target_groups(actions: list[dict[str, Any]]) -> Iterator[str]:
    """Target groups a listener's default actions send traffic to (weight above zero)."""
    for action in actions:
        if action.get("Type") != "forward":
            continue
        weighted = (action.get("ForwardConfig") or {}).get("TargetGroups") or []
        if weighted:
            yield from (str(t["TargetGroupArn"]) for t in weighted if t.get("Weight", 1) > 0)
        elif action.get("TargetGroupArn"):
            yield str(action["TargetGroupArn"])


def _guarded(
    name: str, expected: str, check: Callable[[DeploymentGroup], Check], group: DeploymentGroup
) -> Check:
    """Run one check; an error makes it a failed check that says what went wrong."""
    try:
        return check(group)
    except Exception as exc:
        return Check(name, False, None, expected, f"could not check: {describe(exc)}")


def _alarm_evidence(alarm: str, detail: dict[str, Any]) -> dict[str, Any]:
    state = detail.get("state") or {}
    evidence = {
        "alarm": alarm,
        "state": state.get("value"),
        "state_reason": state.get("reason"),
        "state_time": state.get("timestamp"),
        "previous_state": (detail.get("previousState") or {}).get("value"),
    }
    if state.get("reasonData"):
        evidence["state_reason_data"] = state["reasonData"]
    return evidence
