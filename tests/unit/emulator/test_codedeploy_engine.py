"""The codedeploy engine: ECS blue/green deployments run, fail and roll back as CodeDeploy's do.

In a separate interpreter (the patches must not leak into this one's moto): moto with the
fidelity patches, the runtime stack's layout for one service (``_helpers.blue_green``),
and the engine's rounds run by hand on a fake clock. Without the ECS and load balancer
engines, tasks are RUNNING as moto starts them and registered targets are healthy as
moto reports them; a target's health is set with the drill control's override where a
case needs green unhealthy. Hook functions are not run: the fake ``invoke`` records each
invocation and the case reports the verdict with PutLifecycleEventHookExecutionStatus,
as the hook's Lambda would. tests/runtime runs the engine with real containers.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[3]

PRELUDE = r"""
import json, sys, threading
sys.path.insert(0, ROOT)
from deployer.emulator import patches
patches.apply_all()
from moto import mock_aws
import boto3
from botocore.exceptions import ClientError
from deployer.emulator.engines import codedeploy as engine_module
from deployer.emulator.engines.codedeploy import CodeDeployEngine
from deployer.emulator.patches.elbv2_target_health_control import HealthOverride, overrides
from tests.unit.emulator import _helpers

HOOK = "arn:aws:lambda:us-east-1:123456789012:function:guard"

class Local:
    def client(self, service):
        return boto3.client(service, region_name="us-east-1")

invocations = []
def fake_invoke(account, region, function, payload):
    invocations.append({"function": function, **json.loads(payload)})

out = {}
T = [1_796_083_200.0]

with mock_aws():
    server = Local()
    cd, ecs, elb = server.client("codedeploy"), server.client("ecs"), server.client("elbv2")
    cw, events, sqs = server.client("cloudwatch"), server.client("events"), server.client("sqs")
    bg = _helpers.blue_green(server, alarms=["svc-unhealthy"])
    cw.put_metric_alarm(AlarmName="svc-unhealthy", MetricName="UnHealthyHostCount",
        Namespace="AWS/ApplicationELB", Statistic="Maximum", Period=60, EvaluationPeriods=1,
        Threshold=0, ComparisonOperator="GreaterThanThreshold")
    cw.set_alarm_state(AlarmName="svc-unhealthy", StateValue="OK", StateReason="start")
    queue = sqs.create_queue(QueueName="cd-events")["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["QueueArn"])[
        "Attributes"]["QueueArn"]
    events.put_rule(Name="cd", EventPattern=json.dumps({"source": ["aws.codedeploy"]}))
    events.put_targets(Rule="cd", Targets=[{"Id": "q", "Arn": queue_arn}])
    engine = CodeDeployEngine(lock=threading.RLock(), invoke=fake_invoke)

    def rounds(n=1, step=1.0):
        for _ in range(n):
            T[0] += step
            engine.run(now=T[0])
        import time; time.sleep(0.05)  # the fake invocations run on threads

    def new_revision():
        return _helpers.register_task_definition(ecs, ecs.describe_task_definition(
            taskDefinition=bg.task_definition)["taskDefinition"]["family"])

    def deploy(td, hooks=True, **extra):
        revision = _helpers.appspec(td, HOOK)
        if not hooks:
            content = json.loads(revision["appSpecContent"]["content"])
            content.pop("Hooks")
            revision["appSpecContent"]["content"] = json.dumps(content)
        return cd.create_deployment(applicationName=bg.application,
            deploymentGroupName=bg.group, revision=revision, **extra)["deploymentId"]

    def report(deployment, status, event=None):
        found = [i for i in invocations if i["DeploymentId"] == deployment]
        return cd.put_lifecycle_event_hook_execution_status(deploymentId=deployment,
            lifecycleEventHookExecutionId=found[-1]["LifecycleEventHookExecutionId"],
            status=status)

    def forwards(listener):
        (found,) = elb.describe_listeners(ListenerArns=[listener])["Listeners"]
        action = found["DefaultActions"][0]
        weighted = action.get("ForwardConfig", {}).get("TargetGroups")
        if weighted and not action.get("TargetGroupArn"):
            return {t["TargetGroupArn"]: t["Weight"] for t in weighted}
        return {action["TargetGroupArn"]: 100}

    def service():
        return ecs.describe_services(cluster=bg.cluster, services=[bg.service])["services"][0]

    def info(deployment):
        return cd.get_deployment(deploymentId=deployment)["deploymentInfo"]

    def lifecycle(deployment):
        target = engine.runs[deployment]
        return {e["lifecycleEventName"]: e["status"] for e in target.events}

    def states():
        found = []
        while True:
            got = sqs.receive_message(QueueUrl=queue, MaxNumberOfMessages=10).get("Messages", [])
            if not got:
                return found
            for m in got:
                body = json.loads(m["Body"])
                found.append((body["detail"]["deploymentId"], body["detail"]["state"],
                              body["detail-type"]))
                sqs.delete_message(QueueUrl=queue, ReceiptHandle=m["ReceiptHandle"])

    def green_of(listener_before):
        return bg.green if listener_before == bg.blue else bg.blue
"""


def run(body: str) -> dict[str, Any]:
    script = PRELUDE.replace("ROOT", repr(str(ROOT))) + body + "\n    print(json.dumps(out))\n"
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, cwd=ROOT, timeout=300
    )
    assert done.returncode == 0, done.stderr[-4000:]
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def indent(text: str) -> str:
    return "\n".join("    " + line if line else line for line in text.splitlines())


def test_a_healthy_release_goes_through_every_event_and_replaces_blue() -> None:
    out = run(
        indent(
            """
old_td = service()["taskDefinition"]
td = new_revision()
d = deploy(td)
rounds(1)
out["started"] = info(d)["status"]
# BeforeInstall (no hook) -> Install: the green task set behind the green group
rounds(3)
sets = service()["taskSets"]
out["sets"] = sorted((s["status"], s["taskDefinition"] == td) for s in sets)
green = [s for s in sets if s["taskDefinition"] == td][0]
out["green_group"] = green["loadBalancers"][0]["targetGroupArn"] == bg.green
out["green_external"] = green["externalId"] == d
rounds(3)
out["test_listener"] = forwards(bg.test_listener) == {bg.green: 100}
out["production_before_hook"] = forwards(bg.production_listener) == {bg.blue: 100}
out["invocations"] = [(i["function"], i["DeploymentId"] == d) for i in invocations]
out["waiting"] = lifecycle(d)["AfterAllowTestTraffic"]
rounds(5)
out["still_waiting"] = lifecycle(d)["AfterAllowTestTraffic"]
report(d, "Succeeded")
try:
    report(d, "Succeeded")
except ClientError as e:
    out["second_report"] = e.response["Error"]["Code"]
try:
    cd.put_lifecycle_event_hook_execution_status(deploymentId=d,
        lifecycleEventHookExecutionId="made-up", status="Succeeded")
except ClientError as e:
    out["made_up_id"] = e.response["Error"]["Code"]
rounds(4)
out["production_after"] = forwards(bg.production_listener) == {bg.green: 100}
out["primary"] = [
    s["taskDefinition"] == td for s in service()["taskSets"] if s["status"] == "PRIMARY"
]
report(d, "Succeeded")
rounds(3)
final = info(d)
out["final"] = final["status"]
out["service_td"] = service()["taskDefinition"] == td
out["sets_after"] = [(s["status"], s["taskDefinition"] == td) for s in service()["taskSets"]]
out["lifecycle"] = lifecycle(d)
out["wait_started"] = final["instanceTerminationWaitTimeStarted"]
out["events"] = [(dep == d, state, kind) for dep, state, kind in states()]
from moto.codedeploy.models import codedeploy_backends
target = codedeploy_backends["123456789012"]["us-east-1"].deployments[d].deployer_ecs_target
out["target"] = {"id": target["targetId"] == f"{bg.cluster}:{bg.service}",
                 "status": target["status"],
                 "labels": sorted(t["taskSetLabel"] for t in target["taskSetsInfo"])}
"""
        )
    )
    assert out["started"] == "InProgress"
    assert out["sets"] == [["ACTIVE", True], ["PRIMARY", False]]
    assert out["green_group"] and out["green_external"]
    assert out["test_listener"] and out["production_before_hook"]
    assert out["invocations"] == [["arn:aws:lambda:us-east-1:123456789012:function:guard", True]]
    assert out["waiting"] == "InProgress" and out["still_waiting"] == "InProgress"
    assert out["second_report"] == "LifecycleEventAlreadyCompletedException"
    assert out["made_up_id"] == "InvalidLifecycleEventHookExecutionIdException"
    assert out["production_after"] and out["primary"] == [True]
    assert out["final"] == "Succeeded"
    assert out["service_td"]
    assert out["sets_after"] == [["PRIMARY", True]]
    assert set(out["lifecycle"].values()) == {"Succeeded"}
    assert list(out["lifecycle"]) == [
        "BeforeInstall",
        "Install",
        "AfterInstall",
        "AllowTestTraffic",
        "AfterAllowTestTraffic",
        "BeforeAllowTraffic",
        "AllowTraffic",
        "AfterAllowTraffic",
    ]
    assert out["wait_started"] is True
    assert out["events"] == [
        [True, "START", "CodeDeploy Deployment State-change Notification"],
        [True, "SUCCESS", "CodeDeploy Deployment State-change Notification"],
    ]
    assert out["target"] == {"id": True, "status": "Succeeded", "labels": ["Green"]}


def test_a_failed_hook_rolls_back_before_production_moves() -> None:
    out = run(
        indent(
            """
old_td = service()["taskDefinition"]
td = new_revision()
d = deploy(td)
rounds(8)
out["hook"] = lifecycle(d)["AfterAllowTestTraffic"]
report(d, "Failed")
rounds(1)
final = info(d)
out["status"] = final["status"]
out["error"] = final["errorInformation"]["code"]
rollback = final["rollbackInfo"].get("rollbackDeploymentId")
back = info(rollback)
out["rollback"] = [back["status"], back["creator"],
                   back["rollbackInfo"].get("rollbackTriggeringDeploymentId") == d]
out["production"] = forwards(bg.production_listener) == {bg.blue: 100}
out["test"] = forwards(bg.test_listener) == {bg.green: 100}
out["sets"] = [(s["status"], s["taskDefinition"] == old_td) for s in service()["taskSets"]]
out["service_td"] = service()["taskDefinition"] == old_td
out["lifecycle"] = lifecycle(d)
out["events"] = [(dep == d, state) for dep, state, _ in states()]
rounds(3)
out["still"] = info(d)["status"]
"""
        )
    )
    assert out["hook"] == "InProgress"
    assert out["status"] == "Failed" and out["error"] == "HOOK_EXECUTION_FAILURE"
    assert out["rollback"] == ["Succeeded", "codeDeployRollback", True]
    assert out["production"] and out["test"]
    assert out["sets"] == [["PRIMARY", True]] and out["service_td"]
    lifecycle = out["lifecycle"]
    assert lifecycle["Install"] == "Succeeded"
    assert lifecycle["AfterAllowTestTraffic"] == "Failed"
    assert lifecycle["AllowTraffic"] == "Skipped" and lifecycle["AfterAllowTraffic"] == "Skipped"
    # START and FAILURE of the deployment, START and SUCCESS of its rollback
    assert out["events"] == [
        [True, "START"],
        [True, "FAILURE"],
        [False, "START"],
        [False, "SUCCESS"],
    ]
    assert out["still"] == "Failed"


def test_an_alarm_after_the_shift_stops_and_rolls_back() -> None:
    out = run(
        indent(
            """
old_td = service()["taskDefinition"]
td = new_revision()
d = deploy(td, hooks=False)
rounds(8)
out["moved"] = forwards(bg.production_listener) == {bg.green: 100}
out["service_moved"] = service()["taskDefinition"] == td
# the termination wait keeps blue: give the group one
from moto.codedeploy.models import codedeploy_backends
engine.runs[d].terminate_at = T[0] + 600
cw.set_alarm_state(AlarmName="svc-unhealthy", StateValue="ALARM", StateReason="green 5XX")
rounds(1)
final = info(d)
out["status"] = [final["status"], final["errorInformation"]["code"],
                 "svc-unhealthy" in final["errorInformation"]["message"]]
out["production"] = forwards(bg.production_listener) == {bg.blue: 100}
out["service_td"] = service()["taskDefinition"] == old_td
out["sets"] = [(s["status"], s["taskDefinition"] == old_td) for s in service()["taskSets"]]
rollback = final["rollbackInfo"]["rollbackDeploymentId"]
out["rollback"] = info(rollback)["status"]
out["events"] = [state for _, state, _ in states()]
"""
        )
    )
    assert out["moved"] and out["service_moved"]
    assert out["status"] == ["Stopped", "ALARM_ACTIVE", True]
    assert out["production"] and out["service_td"]
    assert out["sets"] == [["PRIMARY", True]]
    assert out["rollback"] == "Succeeded"
    assert out["events"] == ["START", "STOP", "START", "SUCCESS"]


def test_a_canary_shifts_ten_percent_then_the_rest_after_the_interval() -> None:
    out = run(
        indent(
            """
td = new_revision()
d = deploy(td, hooks=False, deploymentConfigName="CodeDeployDefault.ECSCanary10Percent5Minutes")
rounds(8)
out["canary"] = forwards(bg.production_listener) == {bg.blue: 90, bg.green: 10}
out["weight"] = [(i["taskSetLabel"], i["trafficWeight"]) for i in
    __import__("moto.codedeploy.models", fromlist=["x"]).codedeploy_backends[
        "123456789012"]["us-east-1"].deployments[d].deployer_ecs_target["taskSetsInfo"]]
rounds(1, step=299)
out["before_interval"] = forwards(bg.production_listener) == {bg.blue: 90, bg.green: 10}
rounds(1, step=1)
out["after_interval"] = forwards(bg.production_listener) == {bg.green: 100}
rounds(3)
out["status"] = info(d)["status"]
"""
        )
    )
    assert out["canary"] and out["before_interval"] and out["after_interval"]
    assert sorted(map(tuple, out["weight"])) == [("Blue", 90.0), ("Green", 10.0)]
    assert out["status"] == "Succeeded"


def test_linear_steps() -> None:
    from deployer.emulator.engines.codedeploy import shift_steps
    from deployer.emulator.patches.codedeploy_deployment_configs import traffic_routing

    linear = traffic_routing(
        "123456789012", "us-east-1", "CodeDeployDefault.ECSLinear10PercentEvery3Minutes"
    )
    assert linear is not None
    steps = shift_steps(linear)
    assert [p for p, _ in steps] == [10, 20, 30, 40, 50, 60, 70, 80, 90, 100]
    assert {w for _, w in steps[:-1]} == {180.0}
    assert shift_steps({"type": "AllAtOnce"}) == [(100.0, 0.0)]


def test_a_hook_that_never_reports_fails_after_an_hour() -> None:
    out = run(
        indent(
            """
td = new_revision()
d = deploy(td)
rounds(8)
rounds(1, step=3590)
out["before"] = info(d)["status"]
rounds(1, step=10)
final = info(d)
out["after"] = [final["status"], final["errorInformation"]["code"]]
out["production"] = forwards(bg.production_listener) == {bg.blue: 100}
out["rolled_back"] = bool(final["rollbackInfo"].get("rollbackDeploymentId"))
"""
        )
    )
    assert out["before"] == "InProgress"
    assert out["after"] == ["Failed", "HOOK_EXECUTION_FAILURE"]
    assert out["production"] and out["rolled_back"]


def test_a_green_never_checked_healthy_times_out_and_is_removed() -> None:
    out = run(
        indent(
            """
td = new_revision()
d = deploy(td, hooks=False)
rounds(3)
from moto.elbv2.models import elbv2_backends
group = elbv2_backends["123456789012"]["us-east-1"].target_groups[bg.green]
for target in list(group.targets):
    overrides(group)[target] = HealthOverride(
        "initial", "Elb.InitialHealthChecking", "Initial health checks in progress")
rounds(10)
out["waiting"] = [info(d)["status"], lifecycle(d)["AllowTestTraffic"]]
rounds(1, step=3600)
final = info(d)
error = final["errorInformation"]
out["final"] = [final["status"], error["code"], error["message"]]
out["sets"] = len(service()["taskSets"])
out["production"] = forwards(bg.production_listener) == {bg.blue: 100}
"""
        )
    )
    assert out["waiting"] == ["InProgress", "InProgress"]
    assert out["final"][:2] == ["Failed", "TIMEOUT"]
    assert "60 minutes" in out["final"][2]
    assert out["sets"] == 1 and out["production"]


@pytest.mark.parametrize("roll_back", [True, False])
def test_stop_deployment(roll_back: bool) -> None:
    out = run(
        indent(
            f"""
old_td = service()["taskDefinition"]
td = new_revision()
d = deploy(td)
rounds(8)
answer = cd.stop_deployment(deploymentId=d, autoRollbackEnabled={roll_back})
out["answer"] = answer["status"]
rounds(1)
final = info(d)
out["final"] = [final["status"], final["errorInformation"]["code"]]
out["sets"] = sorted((s["status"], s["taskDefinition"] == td) for s in service()["taskSets"])
out["test"] = forwards(bg.test_listener) == {{bg.green: 100}}
out["rollback"] = final["rollbackInfo"].get("rollbackDeploymentId") is not None
out["events"] = [state for _, state, _ in states()]
rounds(3)
out["sets_later"] = len(service()["taskSets"])
"""
        )
    )
    assert out["answer"] == "Pending"
    assert out["final"] == ["Stopped", "MANUAL_STOP"]
    if roll_back:
        assert out["sets"] == [["PRIMARY", False]]
        assert out["rollback"]
        assert out["events"] == ["START", "STOP", "START", "SUCCESS"]
    else:
        # AWS leaves the components as they are: green stays, nothing rolls back
        assert out["sets"] == [["ACTIVE", True], ["PRIMARY", False]]
        assert not out["rollback"]
        assert out["events"] == ["START", "STOP"]
        assert out["sets_later"] == 2


def test_a_revision_that_cannot_be_deployed_fails_at_once() -> None:
    out = run(
        indent(
            """
d = deploy("arn:aws:ecs:us-east-1:123456789012:task-definition/nothing:9")
rounds(1)
final = info(d)
out["final"] = [final["status"], final["errorInformation"]["code"]]
out["sets"] = len(service()["taskSets"])
"""
        )
    )
    assert out["final"] == ["Failed", "INVALID_REVISION"]
    assert out["sets"] == 1
