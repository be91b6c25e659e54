"""The codedeploy engine's scenarios, all run by one separate interpreter.

``python -m tests.unit.emulator._codedeploy_scenarios RESULTS.json [NAME ...]`` applies
the fidelity patches (they must not leak into the pytest process's moto; see
``LEFT_OUT`` for the one it spares), then runs each scenario (all of them, or the ones
named) inside one ``mock_aws()``, resetting every moto backend before each as
``mock_aws`` does when it starts: each scenario starts from empty backends (:class:`Case`
checks that it does) with its own engine, clock and hook recorder. RESULTS.json maps
each scenario's name to ``{"out": ..., "error": ..., "seconds": ...}``: what the
scenario observed (as far as it got) and, if it raised, the traceback.
``test_codedeploy_engine.py`` asserts on each scenario's ``out``.

A scenario builds the runtime stack's layout for one service (``_helpers.blue_green``)
and runs the engine's rounds by hand on a fake clock. Without the ECS and load balancer
engines, tasks are RUNNING as moto starts them and registered targets are healthy as
moto reports them; where a case needs green not yet checked, it records on the group
what the load balancer engine records while the initial health checks run
(``elbv2_target_health_checks.record``). Hook functions are not run: the fake
``invoke`` records each invocation and the case reports the verdict with
PutLifecycleEventHookExecutionStatus, as the hook's Lambda would. tests/runtime runs
the engine with real containers.

Importing this module imports neither moto nor the patches: only :func:`main` does.
"""

from __future__ import annotations

import json
import sys
import threading
import time
from collections.abc import Callable
from functools import partial
from typing import TYPE_CHECKING, Any

from tests.unit.emulator import _helpers

if TYPE_CHECKING:
    from deployer.emulator.engines.codedeploy import CodeDeployEngine

ACCOUNT = "123456789012"
REGION = "us-east-1"
HOOK = f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:guard"
START = 1_796_083_200.0

#: Patches this process leaves out. ``iam_aws_managed_policies`` makes every IAM backend
#: moto creates parse and build its ~1,600 AWS managed policies (0.3-0.5 s of CPU each, a
#: dozen times a scenario as moto creates and resets the backends): most of the CPU of
#: the run. The scenarios attach no managed policy (the service role's is inline).
LEFT_OUT = frozenset({"iam_aws_managed_policies"})
#: moto's settings for this process: EC2 backends without moto's catalogue of default
#: AMIs (the scenarios start no instance), as ``MOTO_EC2_LOAD_DEFAULT_AMIS`` documents.
ENVIRONMENT = {"MOTO_EC2_LOAD_DEFAULT_AMIS": "false"}

Out = dict[str, Any]
Scenario = Callable[["Case", Out], None]


class Case:
    """One scenario's world: fresh moto backends (inside ``mock_aws``), the blue/green
    layout with an alarm on the group, an EventBridge rule that copies CodeDeploy's
    events to a queue, and an engine whose hooks are recorded, not run."""

    def __init__(self, clients: dict[str, Any]) -> None:
        from deployer.emulator.engines.codedeploy import CodeDeployEngine

        self.clients = clients
        self.invocations: list[dict[str, Any]] = []
        self.clock = START
        self.cd = self.client("codedeploy")
        if self.cd.list_applications()["applications"]:
            raise RuntimeError("moto state leaked from an earlier scenario")
        self.ecs, self.elb = self.client("ecs"), self.client("elbv2")
        self.cw, self.events, self.sqs = (
            self.client("cloudwatch"),
            self.client("events"),
            self.client("sqs"),
        )
        self.bg = _helpers.blue_green(self, alarms=["svc-unhealthy"])
        self.cw.put_metric_alarm(
            AlarmName="svc-unhealthy",
            MetricName="UnHealthyHostCount",
            Namespace="AWS/ApplicationELB",
            Statistic="Maximum",
            Period=60,
            EvaluationPeriods=1,
            Threshold=0,
            ComparisonOperator="GreaterThanThreshold",
        )
        self.cw.set_alarm_state(AlarmName="svc-unhealthy", StateValue="OK", StateReason="start")
        self.queue = self.sqs.create_queue(QueueName="cd-events")["QueueUrl"]
        queue_arn = self.sqs.get_queue_attributes(QueueUrl=self.queue, AttributeNames=["QueueArn"])[
            "Attributes"
        ]["QueueArn"]
        self.events.put_rule(Name="cd", EventPattern=json.dumps({"source": ["aws.codedeploy"]}))
        self.events.put_targets(Rule="cd", Targets=[{"Id": "q", "Arn": queue_arn}])
        self.engine: CodeDeployEngine = CodeDeployEngine(
            lock=threading.RLock(), invoke=self.fake_invoke
        )

    def client(self, service: str) -> Any:
        import boto3

        if service not in self.clients:
            make: Callable[..., Any] = boto3.client  # any service name, not a literal
            self.clients[service] = make(service, region_name=REGION)
        return self.clients[service]

    def fake_invoke(self, account: str, region: str, function: str, payload: str) -> None:
        self.invocations.append({"function": function, **json.loads(payload)})

    def rounds(self, n: int = 1, step: float = 1.0) -> None:
        for _ in range(n):
            self.clock += step
            self.engine.run(now=self.clock)
        time.sleep(0.05)  # the fake invocations run on threads

    def new_revision(self) -> str:
        family = self.ecs.describe_task_definition(taskDefinition=self.bg.task_definition)[
            "taskDefinition"
        ]["family"]
        return _helpers.register_task_definition(self.ecs, family)

    def deploy(self, td: str, hooks: bool = True, **extra: Any) -> str:
        revision = _helpers.appspec(td, HOOK)
        if not hooks:
            content = json.loads(revision["appSpecContent"]["content"])
            content.pop("Hooks")
            revision["appSpecContent"]["content"] = json.dumps(content)
        return str(
            self.cd.create_deployment(
                applicationName=self.bg.application,
                deploymentGroupName=self.bg.group,
                revision=revision,
                **extra,
            )["deploymentId"]
        )

    def report(self, deployment: str, status: str) -> Any:
        found = [i for i in self.invocations if i["DeploymentId"] == deployment]
        return self.cd.put_lifecycle_event_hook_execution_status(
            deploymentId=deployment,
            lifecycleEventHookExecutionId=found[-1]["LifecycleEventHookExecutionId"],
            status=status,
        )

    def forwards(self, listener: str) -> dict[str, int]:
        (found,) = self.elb.describe_listeners(ListenerArns=[listener])["Listeners"]
        action = found["DefaultActions"][0]
        weighted = action.get("ForwardConfig", {}).get("TargetGroups")
        if weighted and not action.get("TargetGroupArn"):
            return {t["TargetGroupArn"]: t["Weight"] for t in weighted}
        return {action["TargetGroupArn"]: 100}

    def service(self) -> dict[str, Any]:
        found: dict[str, Any] = self.ecs.describe_services(
            cluster=self.bg.cluster, services=[self.bg.service]
        )["services"][0]
        return found

    def info(self, deployment: str) -> dict[str, Any]:
        found: dict[str, Any] = self.cd.get_deployment(deploymentId=deployment)["deploymentInfo"]
        return found

    def lifecycle(self, deployment: str) -> dict[str, str]:
        target = self.engine.runs[deployment]
        return {e["lifecycleEventName"]: e["status"] for e in target.events}

    def states(self) -> list[tuple[str, str, str]]:
        """The CodeDeploy events delivered to the queue since the last call:
        (deployment id, state, detail-type)."""
        found: list[tuple[str, str, str]] = []
        while True:
            got = self.sqs.receive_message(QueueUrl=self.queue, MaxNumberOfMessages=10).get(
                "Messages", []
            )
            if not got:
                return found
            for m in got:
                body = json.loads(m["Body"])
                detail = body["detail"]
                found.append((detail["deploymentId"], detail["state"], body["detail-type"]))
                self.sqs.delete_message(QueueUrl=self.queue, ReceiptHandle=m["ReceiptHandle"])

    def moto_deployment(self, deployment: str) -> Any:
        from moto.codedeploy.models import codedeploy_backends

        return codedeploy_backends[ACCOUNT][REGION].deployments[deployment]


# -- the scenarios -------------------------------------------------------------------------------
SCENARIOS: dict[str, Scenario] = {}


def scenario(name: str) -> Callable[[Scenario], Scenario]:
    def register(function: Scenario) -> Scenario:
        SCENARIOS[name] = function
        return function

    return register


@scenario("healthy_release")
def healthy_release(c: Case, out: Out) -> None:
    from botocore.exceptions import ClientError

    bg = c.bg
    td = c.new_revision()
    d = c.deploy(td)
    c.rounds(1)
    out["started"] = c.info(d)["status"]
    # BeforeInstall (no hook) -> Install: the green task set behind the green group
    c.rounds(3)
    sets = c.service()["taskSets"]
    out["sets"] = sorted((s["status"], s["taskDefinition"] == td) for s in sets)
    green = next(s for s in sets if s["taskDefinition"] == td)
    out["green_group"] = green["loadBalancers"][0]["targetGroupArn"] == bg.green
    out["green_external"] = green["externalId"] == d
    c.rounds(3)
    out["test_listener"] = c.forwards(bg.test_listener) == {bg.green: 100}
    out["production_before_hook"] = c.forwards(bg.production_listener) == {bg.blue: 100}
    out["invocations"] = [(i["function"], i["DeploymentId"] == d) for i in c.invocations]
    out["waiting"] = c.lifecycle(d)["AfterAllowTestTraffic"]
    c.rounds(5)
    out["still_waiting"] = c.lifecycle(d)["AfterAllowTestTraffic"]
    c.report(d, "Succeeded")
    try:
        c.report(d, "Succeeded")
    except ClientError as e:
        out["second_report"] = e.response["Error"]["Code"]
    try:
        c.cd.put_lifecycle_event_hook_execution_status(
            deploymentId=d, lifecycleEventHookExecutionId="made-up", status="Succeeded"
        )
    except ClientError as e:
        out["made_up_id"] = e.response["Error"]["Code"]
    c.rounds(4)
    out["production_after"] = c.forwards(bg.production_listener) == {bg.green: 100}
    out["primary"] = [
        s["taskDefinition"] == td for s in c.service()["taskSets"] if s["status"] == "PRIMARY"
    ]
    c.report(d, "Succeeded")
    c.rounds(3)
    final = c.info(d)
    out["final"] = final["status"]
    out["service_td"] = c.service()["taskDefinition"] == td
    out["sets_after"] = [(s["status"], s["taskDefinition"] == td) for s in c.service()["taskSets"]]
    out["lifecycle"] = c.lifecycle(d)
    out["wait_started"] = final["instanceTerminationWaitTimeStarted"]
    out["events"] = [(dep == d, state, kind) for dep, state, kind in c.states()]
    target = c.moto_deployment(d).deployer_ecs_target
    out["target"] = {
        "id": target["targetId"] == f"{bg.cluster}:{bg.service}",
        "status": target["status"],
        "labels": sorted(t["taskSetLabel"] for t in target["taskSetsInfo"]),
    }


@scenario("failed_hook")
def failed_hook(c: Case, out: Out) -> None:
    bg = c.bg
    old_td = c.service()["taskDefinition"]
    td = c.new_revision()
    d = c.deploy(td)
    c.rounds(8)
    out["hook"] = c.lifecycle(d)["AfterAllowTestTraffic"]
    c.report(d, "Failed")
    c.rounds(1)
    final = c.info(d)
    out["status"] = final["status"]
    out["error"] = final["errorInformation"]["code"]
    rollback = final["rollbackInfo"].get("rollbackDeploymentId")
    back = c.info(rollback)
    out["rollback"] = [
        back["status"],
        back["creator"],
        back["rollbackInfo"].get("rollbackTriggeringDeploymentId") == d,
    ]
    out["production"] = c.forwards(bg.production_listener) == {bg.blue: 100}
    out["test"] = c.forwards(bg.test_listener) == {bg.green: 100}
    out["sets"] = [(s["status"], s["taskDefinition"] == old_td) for s in c.service()["taskSets"]]
    out["service_td"] = c.service()["taskDefinition"] == old_td
    out["lifecycle"] = c.lifecycle(d)
    out["events"] = [(dep == d, state) for dep, state, _ in c.states()]
    c.rounds(3)
    out["still"] = c.info(d)["status"]


@scenario("alarm_after_shift")
def alarm_after_shift(c: Case, out: Out) -> None:
    bg = c.bg
    old_td = c.service()["taskDefinition"]
    td = c.new_revision()
    d = c.deploy(td, hooks=False)
    c.rounds(8)
    out["moved"] = c.forwards(bg.production_listener) == {bg.green: 100}
    out["service_moved"] = c.service()["taskDefinition"] == td
    # the termination wait keeps blue: give the group one
    c.engine.runs[d].terminate_at = c.clock + 600
    c.cw.set_alarm_state(AlarmName="svc-unhealthy", StateValue="ALARM", StateReason="green 5XX")
    c.rounds(1)
    final = c.info(d)
    out["status"] = [
        final["status"],
        final["errorInformation"]["code"],
        "svc-unhealthy" in final["errorInformation"]["message"],
    ]
    out["production"] = c.forwards(bg.production_listener) == {bg.blue: 100}
    out["service_td"] = c.service()["taskDefinition"] == old_td
    out["sets"] = [(s["status"], s["taskDefinition"] == old_td) for s in c.service()["taskSets"]]
    rollback = final["rollbackInfo"]["rollbackDeploymentId"]
    out["rollback"] = c.info(rollback)["status"]
    out["events"] = [state for _, state, _ in c.states()]


@scenario("canary")
def canary(c: Case, out: Out) -> None:
    bg = c.bg
    td = c.new_revision()
    d = c.deploy(
        td, hooks=False, deploymentConfigName="CodeDeployDefault.ECSCanary10Percent5Minutes"
    )
    c.rounds(8)
    out["canary"] = c.forwards(bg.production_listener) == {bg.blue: 90, bg.green: 10}
    out["weight"] = [
        (i["taskSetLabel"], i["trafficWeight"])
        for i in c.moto_deployment(d).deployer_ecs_target["taskSetsInfo"]
    ]
    c.rounds(1, step=299)
    out["before_interval"] = c.forwards(bg.production_listener) == {bg.blue: 90, bg.green: 10}
    c.rounds(1, step=1)
    out["after_interval"] = c.forwards(bg.production_listener) == {bg.green: 100}
    c.rounds(3)
    out["status"] = c.info(d)["status"]


@scenario("hook_never_reports")
def hook_never_reports(c: Case, out: Out) -> None:
    td = c.new_revision()
    d = c.deploy(td)
    c.rounds(8)
    c.rounds(1, step=3590)
    out["before"] = c.info(d)["status"]
    c.rounds(1, step=10)
    final = c.info(d)
    out["after"] = [final["status"], final["errorInformation"]["code"]]
    out["production"] = c.forwards(c.bg.production_listener) == {c.bg.blue: 100}
    out["rolled_back"] = bool(final["rollbackInfo"].get("rollbackDeploymentId"))


@scenario("green_never_checked")
def green_never_checked(c: Case, out: Out) -> None:
    from moto.elbv2.models import elbv2_backends

    from deployer.emulator.patches.elbv2_target_health_checks import Health, record

    td = c.new_revision()
    d = c.deploy(td, hooks=False)
    c.rounds(3)
    # what the load balancer engine records while the initial health checks run
    group = elbv2_backends[ACCOUNT][REGION].target_groups[c.bg.green]
    out["green_targets"] = len(group.targets)
    checking = Health("initial", "Elb.InitialHealthChecking", "Initial health checks in progress")
    record(group, dict.fromkeys(group.targets, checking))
    c.rounds(10)
    out["waiting"] = [c.info(d)["status"], c.lifecycle(d)["AllowTestTraffic"]]
    c.rounds(1, step=3600)
    final = c.info(d)
    error = final["errorInformation"]
    out["final"] = [final["status"], error["code"], error["message"]]
    out["sets"] = len(c.service()["taskSets"])
    out["production"] = c.forwards(c.bg.production_listener) == {c.bg.blue: 100}


def stop_deployment(roll_back: bool, c: Case, out: Out) -> None:
    bg = c.bg
    td = c.new_revision()
    d = c.deploy(td)
    c.rounds(8)
    answer = c.cd.stop_deployment(deploymentId=d, autoRollbackEnabled=roll_back)
    out["answer"] = answer["status"]
    c.rounds(1)
    final = c.info(d)
    out["final"] = [final["status"], final["errorInformation"]["code"]]
    out["sets"] = sorted((s["status"], s["taskDefinition"] == td) for s in c.service()["taskSets"])
    out["test"] = c.forwards(bg.test_listener) == {bg.green: 100}
    out["rollback"] = final["rollbackInfo"].get("rollbackDeploymentId") is not None
    out["events"] = [state for _, state, _ in c.states()]
    c.rounds(3)
    out["sets_later"] = len(c.service()["taskSets"])


SCENARIOS["stop_with_rollback"] = partial(stop_deployment, True)
SCENARIOS["stop_without_rollback"] = partial(stop_deployment, False)


def termination_wait(continued: bool, c: Case, out: Out) -> None:
    """A group that keeps the original task set 60 minutes after traffic moved; the wait
    ends with ContinueDeployment(TERMINATION_WAIT) or when the hour has passed."""
    from botocore.exceptions import ClientError

    bg = c.bg
    c.cd.update_deployment_group(
        applicationName=bg.application,
        currentDeploymentGroupName=bg.group,
        blueGreenDeploymentConfiguration={
            "terminateBlueInstancesOnDeploymentSuccess": {
                "action": "TERMINATE",
                "terminationWaitTimeInMinutes": 60,
            }
        },
    )
    td = c.new_revision()
    d = c.deploy(td, hooks=False)
    c.rounds(10)
    waiting = c.info(d)
    out["waiting"] = [waiting["status"], waiting["instanceTerminationWaitTimeStarted"]]
    out["production"] = c.forwards(bg.production_listener) == {bg.green: 100}
    out["sets"] = sorted((s["status"], s["taskDefinition"] == td) for s in c.service()["taskSets"])
    try:
        c.cd.continue_deployment(deploymentId=d, deploymentWaitType="READY_WAIT")
    except ClientError as e:
        out["ready_wait"] = e.response["Error"]["Code"]
    if continued:
        c.cd.continue_deployment(deploymentId=d, deploymentWaitType="TERMINATION_WAIT")
        c.rounds(1)
    else:
        c.rounds(1, step=3590)
        out["before_the_hour"] = c.info(d)["status"]
        c.rounds(1, step=10)
    out["final"] = c.info(d)["status"]
    out["sets_after"] = [(s["status"], s["taskDefinition"] == td) for s in c.service()["taskSets"]]
    out["events"] = [state for _, state, _ in c.states()]
    try:
        c.cd.continue_deployment(deploymentId=d, deploymentWaitType="TERMINATION_WAIT")
    except ClientError as e:
        out["after_end"] = e.response["Error"]["Code"]


SCENARIOS["termination_wait_continued"] = partial(termination_wait, True)
SCENARIOS["termination_wait_elapsed"] = partial(termination_wait, False)


def _without(c: Case, *actions: str) -> str:
    """The group's service role with ``actions`` taken out of its policy; its ARN."""
    group = c.cd.get_deployment_group(
        applicationName=c.bg.application, deploymentGroupName=c.bg.group
    )["deploymentGroupInfo"]
    role = group["serviceRoleArn"]
    document = json.loads(json.dumps(_helpers.CODEDEPLOY_FOR_ECS))
    kept = [a for a in document["Statement"][0]["Action"] if a not in actions]
    document["Statement"][0]["Action"] = kept
    c.client("iam").put_role_policy(
        RoleName=role.rsplit("/", 1)[-1],
        PolicyName="ecs-blue-green",
        PolicyDocument=json.dumps(document),
    )
    return str(role)


@scenario("role_without_create_task_set")
def role_without_create_task_set(c: Case, out: Out) -> None:
    out["role"] = _without(c, "ecs:CreateTaskSet")
    td = c.new_revision()
    d = c.deploy(td, hooks=False)
    c.rounds(3)
    info = c.info(d)
    out["final"] = [info["status"], info.get("errorInformation")]
    out["sets"] = [(s["status"], s["taskDefinition"] == td) for s in c.service()["taskSets"]]
    out["lifecycle"] = c.lifecycle(d)
    out["deployment"] = d


@scenario("role_without_invoke")
def role_without_invoke(c: Case, out: Out) -> None:
    out["role"] = _without(c, "lambda:InvokeFunction")
    d = c.deploy(c.new_revision())
    c.rounds(8)
    info = c.info(d)
    out["final"] = [info["status"], info.get("errorInformation")]
    out["invocations"] = c.invocations
    out["production"] = c.forwards(c.bg.production_listener) == {c.bg.blue: 100}
    out["deployment"] = d


@scenario("invalid_revision")
def invalid_revision(c: Case, out: Out) -> None:
    d = c.deploy(f"arn:aws:ecs:{REGION}:{ACCOUNT}:task-definition/nothing:9")
    c.rounds(1)
    final = c.info(d)
    out["final"] = [final["status"], final["errorInformation"]["code"]]
    out["sets"] = len(c.service()["taskSets"])


def main(argv: list[str]) -> int:
    from tests.unit.emulator._scenario_runner import main as run_main

    return run_main(
        argv,
        doc=__doc__,
        scenarios=SCENARIOS,
        case=Case,
        environment=ENVIRONMENT,
        left_out=LEFT_OUT,
        default=None,
    )


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
