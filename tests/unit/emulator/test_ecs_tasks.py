"""The ecs-tasks engine's service scheduler and task lifecycle, with a fake Docker CLI.

In a separate interpreter (the patches must not leak into this one's moto; ``_isolated``
runs both scripts once per test session, in the interpreter of the patched group): moto with
the fidelity patches, a CODE_DEPLOY service (so a PRIMARY task set) or services with the
ECS deployment controller (rolling updates), and the engine's rounds run by hand.
tests/runtime/test_ecs_tasks.py runs the task set half with the real engine.
"""

from __future__ import annotations

import json
from collections.abc import Callable

import pytest

from ._isolated import output, script

PRELUDE = r"""
import json, subprocess, threading, tempfile
from pathlib import Path
from deployer.emulator import patches
patches.apply_all()
from moto import mock_aws
import boto3
from deployer.emulator.engines.ecs_tasks import EcsTasks

containers, runs, on_pull = {}, [], []

def fake(*args, timeout=120, stdin=None, env=None):
    args = list(args)
    if args[:2] == ["--config", args[1]]:
        args = args[2:]
    ok = lambda out="": subprocess.CompletedProcess(args, 0, out, "")
    if args[0] == "ps":
        return ok("\n".join(json.dumps({
            "ID": cid, "State": c["state"], "Status": c["status"],
            "Labels": f"io.deployer.emulator=/o,io.deployer.ecs-task={c['task']},"
                      "io.deployer.ecs-container=app"}) for cid, c in containers.items()))
    if args[0] == "pull":
        for hook in on_pull:
            hook()
        if args[-1].endswith(":missing"):
            error = "Error response from daemon: manifest unknown"
            return subprocess.CompletedProcess(args, 1, "", error)
        return ok()
    if args[0] == "run":
        task = next(a.split("=", 1)[1] for a in args if a.startswith("io.deployer.ecs-task="))
        cid = f"c{len(runs)}"
        containers[cid] = {"task": task, "state": "running", "status": "Up 1 second"}
        runs.append({"args": args, "env": dict(env or {})})
        return ok(cid + "\n")
    if args[0] == "port":
        return ok("127.0.0.1:49153\n")
    if args[0] == "rm":
        for cid in args:
            containers.pop(cid, None)
        return ok()
    return ok()

class Clock:
    now_value = 0.0
    time_scale = 1.0
    def now(self):
        return self.now_value

"""

SCRIPT = (
    PRELUDE
    + r"""
with mock_aws():
    ec2 = boto3.client("ec2", region_name="us-east-1")
    vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
    subnet = ec2.create_subnet(VpcId=vpc, CidrBlock="10.0.1.0/24")["Subnet"]["SubnetId"]
    group = ec2.create_security_group(GroupName="g", Description="g", VpcId=vpc)["GroupId"]
    boto3.client("ssm", region_name="us-east-1").put_parameter(
        Name="/pipeline/staging/app/KEY", Value="the-secret", Type="SecureString")
    ecs = boto3.client("ecs", region_name="us-east-1")
    ecs.create_cluster(clusterName="c")
    def service(name, image, count, health=None):
        extra = {"healthCheck": health} if health else {}
        arn = ecs.register_task_definition(
            family=name, networkMode="awsvpc", requiresCompatibilities=["FARGATE"], cpu="256",
            memory="512", containerDefinitions=[{
                "name": "app", "image": image, "essential": True,
                "portMappings": [{"containerPort": 8080}],
                "environment": [{"name": "MODE", "value": "plain"}],
                "secrets": [{"name": "KEY", "valueFrom":
                    "arn:aws:ssm:us-east-1:123456789012:parameter/pipeline/staging/app/KEY"}],
                **extra}],
        )["taskDefinition"]["taskDefinitionArn"]
        ecs.create_service(cluster="c", serviceName=name, taskDefinition=arn, desiredCount=count,
            launchType="FARGATE", deploymentController={"type": "CODE_DEPLOY"},
            networkConfiguration={"awsvpcConfiguration": {"subnets": [subnet],
                                                          "securityGroups": [group]}})
    service("good", "111111111111.dkr.ecr.us-east-1.amazonaws.com/app:v1", 2)
    service("broken", "111111111111.dkr.ecr.us-east-1.amazonaws.com/app:missing", 2)
    clock = Clock()
    engine = EcsTasks("/o", Path(tempfile.mkdtemp()), docker=fake, lock=threading.RLock(),
                      issue_token=lambda account, arn: "pw")
    engine._scheduler = clock
    out = {}
    def tasks(name, status):
        arns = ecs.list_tasks(cluster="c", serviceName=name, desiredStatus=status)["taskArns"]
        return ecs.describe_tasks(cluster="c", tasks=arns)["tasks"] if arns else []

    engine.reconcile()
    good = tasks("good", "RUNNING")
    task_set = ecs.describe_services(cluster="c", services=["good"])["services"][0]["taskSets"][0]
    out["first"] = {"running": len(good), "started_by": sorted({t["startedBy"] for t in good}),
                    "task_set": task_set["id"], "group": sorted({t["group"] for t in good}),
                    "runs": len(runs), "endpoints": len(engine.endpoints),
                    "args": runs[0]["args"], "env": runs[0]["env"]}
    broken = tasks("broken", "STOPPED")
    out["broken"] = [(t["stoppedReason"], t.get("stopCode")) for t in broken]

    # The essential container of one task exits with 3.
    victim = good[0]["taskArn"]
    cid = next(c for c, v in containers.items() if v["task"] == victim)
    containers[cid].update(state="exited", status="Exited (3) 2 seconds ago")
    engine.reconcile()
    [stopped] = ecs.describe_tasks(cluster="c", tasks=[victim])["tasks"]
    out["exited"] = {"reason": stopped["stoppedReason"], "code": stopped.get("stopCode"),
                     "exit": stopped["containers"][0].get("exitCode"),
                     "container_left": cid in containers}
    engine.reconcile()
    out["replaced"] = sorted(t["taskArn"] for t in tasks("good", "RUNNING"))
    out["victim"] = victim
    # The broken service waits out its back-off: 10 s after its first failed attempt (one
    # step for the attempt, though two of its tasks failed in it).
    out["broken_before"] = len(tasks("broken", "STOPPED"))
    clock.now_value = 11.0
    engine.reconcile()
    out["broken_after"] = len(tasks("broken", "STOPPED"))

    # Container health checks: Docker's, from the definition; the task follows them.
    service("checked", "111111111111.dkr.ecr.us-east-1.amazonaws.com/app:v1", 1,
            {"command": ["CMD-SHELL", "curl -f http://localhost:8080/health || exit 1"],
             "interval": 5, "retries": 2})
    engine.reconcile()
    [checked] = tasks("checked", "RUNNING")
    cid = next(c for c, v in containers.items() if v["task"] == checked["taskArn"])
    run_args = next(r["args"] for r in runs if f"io.deployer.ecs-task={checked['taskArn']}"
                    in r["args"])
    out["health_args"] = run_args[run_args.index("--health-cmd"):][:10]
    out["health_starting"] = checked.get("healthStatus")
    containers[cid]["status"] = "Up 9 seconds (healthy)"
    engine.reconcile()
    [now] = ecs.describe_tasks(cluster="c", tasks=[checked["taskArn"]])["tasks"]
    out["health_up"] = (now["healthStatus"], now["containers"][0]["healthStatus"])
    [plain] = tasks("good", "RUNNING")[:1]
    out["plain"] = plain["healthStatus"]
    containers[cid]["status"] = "Up 30 seconds (unhealthy)"
    engine.reconcile()
    [now] = ecs.describe_tasks(cluster="c", tasks=[checked["taskArn"]])["tasks"]
    out["unhealthy"] = (now["lastStatus"], now["stoppedReason"], now.get("stopCode"),
                        cid in containers)
    engine.reconcile()
    out["checked_after"] = [t["taskArn"] for t in tasks("checked", "RUNNING")]
    out["checked_before"] = checked["taskArn"]
    print(json.dumps(out))
"""
)

ROLLING = (
    PRELUDE
    + r"""
from deployer.emulator.patches import elbv2_target_health_checks as checks

def task_def(family, image):
    return ecs.register_task_definition(
        family=family, networkMode="awsvpc", requiresCompatibilities=["FARGATE"], cpu="256",
        memory="512", containerDefinitions=[{"name": "app", "image": image, "essential": True,
                                             "portMappings": [{"containerPort": 8080}]}],
    )["taskDefinition"]["taskDefinitionArn"]

with mock_aws():
    ec2 = boto3.client("ec2", region_name="us-east-1")
    vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
    subnet = ec2.create_subnet(VpcId=vpc, CidrBlock="10.0.1.0/24")["Subnet"]["SubnetId"]
    group = ec2.create_security_group(GroupName="g", Description="g", VpcId=vpc)["GroupId"]
    network = {"awsvpcConfiguration": {"subnets": [subnet], "securityGroups": [group]}}
    elbv2 = boto3.client("elbv2", region_name="us-east-1")
    target_group = elbv2.create_target_group(Name="web", Protocol="HTTP", Port=8080, VpcId=vpc,
                                             TargetType="ip")["TargetGroups"][0]["TargetGroupArn"]
    ecs = boto3.client("ecs", region_name="us-east-1")
    ecs.create_cluster(clusterName="c")
    image = "111111111111.dkr.ecr.us-east-1.amazonaws.com/app:"
    clock = Clock()
    engine = EcsTasks("/o", Path(tempfile.mkdtemp()), docker=fake, lock=threading.RLock(),
                      issue_token=lambda account, arn: "pw")
    engine._scheduler = clock
    from deployer.emulator.patches.ecs_task_set_tasks import register_when_running
    register_when_running()  # as EcsTasks.start does
    out = {}

    def describe(name):
        return ecs.describe_services(cluster="c", services=[name])["services"][0]

    def tasks(name, status="RUNNING"):
        arns = ecs.list_tasks(cluster="c", serviceName=name, desiredStatus=status)["taskArns"]
        return ecs.describe_tasks(cluster="c", tasks=arns)["tasks"] if arns else []

    def by_deployment(name):
        found = {}
        for t in tasks(name):
            found.setdefault(t["startedBy"], []).append(t["taskArn"])
        return {k: len(v) for k, v in found.items()}

    def ip(task):
        return next(d["value"] for a in task["attachments"] for d in a["details"]
                    if d["name"] == "privateIPv4Address")

    def health(healthy_ips):
        # The load balancer's checks: these targets healthy, the others still initial.
        from moto.elbv2.models import elbv2_backends
        tg = elbv2_backends["123456789012"]["us-east-1"].target_groups[target_group]
        checks.record(tg, {i: checks.Health("healthy") for i in healthy_ips})

    def registered():
        found = elbv2.describe_target_health(TargetGroupArn=target_group)
        return {t["Target"]["Id"]: t["TargetHealth"]["State"]
                for t in found["TargetHealthDescriptions"]}

    def brief(name):
        d = describe(name)
        return {"running": d["runningCount"], "pending": d["pendingCount"],
                "deployments": [(x["status"], x["rolloutState"], x["desiredCount"],
                                 x["runningCount"], x["taskDefinition"].rsplit("/", 1)[-1])
                                for x in d["deployments"]]}

    # The web service: the ECS controller by default, behind a target group, 200/100.
    v1 = task_def("web", image + "v1")
    ecs.create_service(cluster="c", serviceName="web", taskDefinition=v1, desiredCount=2,
                       launchType="FARGATE", networkConfiguration=network,
                       loadBalancers=[{"targetGroupArn": target_group, "containerName": "app",
                                       "containerPort": 8080}])
    first = describe("web")["deployments"][0]["id"]
    while_pulling = []
    on_pull.append(lambda: while_pulling.append(registered()))
    engine.reconcile()
    on_pull.clear()
    started = tasks("web")
    out["first"] = {"started_by": sorted({t["startedBy"] for t in started}), "deployment": first,
                    "group": sorted({t["group"] for t in started}), "count": len(started),
                    "registered": sorted(registered()) == sorted(ip(t) for t in started),
                    "while_pulling": while_pulling, "service": brief("web")}
    health([ip(t) for t in started])
    engine.reconcile()
    web = describe("web")
    out["steady"] = {**brief("web"), "reason": web["deployments"][0]["rolloutStateReason"],
                     "events": [e["message"] for e in web["events"]][:2]}

    # A new task definition: a rolling update.
    v2 = task_def("web", image + "v2")
    ecs.update_service(cluster="c", service="web", taskDefinition=v2)
    second = describe("web")["deployments"][0]["id"]
    engine.reconcile()
    out["surge"] = {**brief("web"), "tasks": by_deployment("web"), "second": second}
    engine.reconcile()
    out["waiting"] = by_deployment("web")  # the new tasks are not healthy in the group yet
    new = [t for t in tasks("web") if t["startedBy"] == second]
    old_ips = [ip(t) for t in started]
    health(old_ips + [ip(new[0])])
    engine.reconcile()
    stopped = [t for t in tasks("web", "STOPPED") if t["startedBy"] == first]
    out["one_old_stopped"] = {
        "tasks": by_deployment("web"),
        "stopped": [(t["stoppedReason"], t.get("stopCode")) for t in stopped],
        "deregistered": [registered().get(ip(t)) for t in stopped],
        "service": brief("web"),
    }
    health(old_ips + [ip(t) for t in new])
    engine.reconcile()
    web = describe("web")
    out["rolled"] = {**brief("web"), "tasks": by_deployment("web"),
                     "reason": web["deployments"][0]["rolloutStateReason"],
                     "events": [e["message"] for e in web["events"]][:2]}

    # minimumHealthyPercent 50, maximumPercent 100: stop first, then start.
    ecs.create_service(cluster="c", serviceName="lean",
                       taskDefinition=task_def("lean", image + "v1"),
                       desiredCount=2, launchType="FARGATE", networkConfiguration=network,
                       deploymentConfiguration={"maximumPercent": 100,
                                                "minimumHealthyPercent": 50})
    engine.reconcile()
    engine.reconcile()
    out["lean_young"] = brief("lean")["deployments"][0][1]  # not 40 s old: not healthy yet
    clock.now_value += 41
    engine.reconcile()
    lean_first = describe("lean")["deployments"][0]
    ecs.update_service(cluster="c", service="lean", taskDefinition=task_def("lean", image + "v2"))
    lean_second = describe("lean")["deployments"][0]["id"]
    engine.reconcile()
    out["lean"] = {"first": lean_first["rolloutState"], "tasks": by_deployment("lean"),
                   "old": lean_first["id"], "new": lean_second}
    for _ in range(3):
        clock.now_value += 41
        engine.reconcile()
    out["lean_done"] = {**brief("lean"), "tasks": by_deployment("lean")}

    # The circuit breaker: a task definition whose image cannot be pulled, rolled back.
    ecs.create_service(cluster="c", serviceName="guarded",
                       taskDefinition=task_def("guarded", image + "v1"), desiredCount=2,
                       launchType="FARGATE", networkConfiguration=network,
                       deploymentConfiguration={"deploymentCircuitBreaker":
                                                {"enable": True, "rollback": True}})
    engine.reconcile()
    clock.now_value += 41
    engine.reconcile()
    good = describe("guarded")["deployments"][0]
    ecs.update_service(cluster="c", service="guarded",
                       taskDefinition=task_def("guarded", image + "missing"))
    for _ in range(10):  # back-off between the failed attempts: 10 s, then 20 s
        clock.now_value += 11
        engine.reconcile()
        guarded = describe("guarded")
        if any(d["rolloutState"] == "FAILED" for d in guarded["deployments"]):
            break
    out["breaker"] = {"good": good["id"], "good_state": good["rolloutState"],
                      "deployments": [(d["status"], d["rolloutState"], d["rolloutStateReason"],
                                       d["taskDefinition"].rsplit("/", 1)[-1], d["failedTasks"])
                                      for d in guarded["deployments"]],
                      "task_definition": guarded["taskDefinition"].rsplit("/", 1)[-1],
                      "events": [e["message"] for e in guarded["events"]][:3]}
    for _ in range(3):
        clock.now_value += 41
        engine.reconcile()
    out["recovered"] = brief("guarded")
    print(json.dumps(out))
"""
)


SCHEDULER = script("patched", "ecs_tasks.scheduler", SCRIPT)
ROLLING_UPDATE = script("patched", "ecs_tasks.rolling_update", ROLLING)

Run = Callable[..., dict[str, object]]


@pytest.fixture
def run(tmp_path_factory: pytest.TempPathFactory) -> Run:
    """``run(name=SCHEDULER)``: what the script printed."""

    def get(name: str = SCHEDULER) -> dict[str, object]:
        printed = output(tmp_path_factory, "patched", name)
        return dict(json.loads(printed.strip().splitlines()[-1]))

    return get


def test_the_scheduler_and_the_task_lifecycle(run: Run) -> None:
    out = run()
    first = out["first"]
    assert isinstance(first, dict)
    # The PRIMARY task set's desired count, started as ECS starts a set's tasks.
    assert first["running"] == 2 and first["runs"] == 2 and first["endpoints"] == 2
    assert first["started_by"] == [first["task_set"]] and first["group"] == ["service:good"]
    # The secret reaches the container through the client's environment, not its arguments.
    assert first["env"] == {"MODE": "plain", "KEY": "the-secret"}
    assert "the-secret" not in json.dumps(first["args"])
    assert first["args"][first["args"].index("KEY") - 1 :][:2] == ["--env", "KEY"]
    assert "127.0.0.1::8080" in first["args"]
    # No health check defined: the image's own is off (ECS does not monitor it).
    assert "--no-healthcheck" in first["args"]
    # An image that cannot be pulled.
    assert out["broken"] == [
        ["CannotPullContainerError: Error response from daemon: manifest unknown",
         "TaskFailedToStart"]
    ] * 2  # fmt: skip
    # An essential container that exits, then its replacement with a new ARN.
    assert out["exited"] == {
        "reason": "Essential container in task exited",
        "code": "EssentialContainerExited",
        "exit": 3,
        "container_left": False,
    }
    replaced = out["replaced"]
    assert isinstance(replaced, list) and len(replaced) == 2 and out["victim"] not in replaced
    # Back-off: no new attempt within 10 s of the failure, one after.
    assert out["broken_before"] == 2 and out["broken_after"] == 4
    # A container health check from the task definition, with ECS's defaults filled in.
    assert out["health_args"] == [
        "--health-cmd", "curl -f http://localhost:8080/health || exit 1",
        "--health-interval", "5s", "--health-timeout", "5s", "--health-retries", "2",
        "--health-start-period", "0s",
    ]  # fmt: skip
    # DescribeTasks' healthStatus follows it; a task without a check stays UNKNOWN.
    assert out["health_up"] == ["HEALTHY", "HEALTHY"]
    assert out["plain"] == "UNKNOWN"
    # Unhealthy: stopped with ECS's reason, its containers removed, then replaced.
    assert out["unhealthy"] == [
        "STOPPED", "Task failed container health checks", "ServiceSchedulerInitiated", False
    ]  # fmt: skip
    after = out["checked_after"]
    assert isinstance(after, list) and len(after) == 1 and after != [out["checked_before"]]


def test_a_rolling_update_service_replaces_its_tasks(run: Run) -> None:
    out = run(ROLLING_UPDATE)
    first = out["first"]
    assert isinstance(first, dict)
    # The desired count, started by the service's deployment; the containers run after the
    # round that started them: pending until then, and in no target group until they run
    # (ECS registers a task while it is ACTIVATING, after its containers started).
    assert first["started_by"] == [first["deployment"]] and first["group"] == ["service:web"]
    assert first["count"] == 2 and first["registered"] is True
    # While a task's image is pulled it is in no target group yet: the first task's pull saw
    # none, the second's only the first (whose container ran by then).
    assert [len(seen) for seen in first["while_pulling"]] == [0, 1]
    assert first["service"] == {
        "running": 0, "pending": 2, "deployments": [["PRIMARY", "IN_PROGRESS", 2, 0, "web:1"]]
    }  # fmt: skip
    steady = out["steady"]
    assert isinstance(steady, dict)
    assert steady["deployments"] == [["PRIMARY", "COMPLETED", 2, 2, "web:1"]]
    assert steady["running"] == 2 and steady["pending"] == 0
    assert steady["reason"] == f"ECS deployment {first['deployment']} completed."
    assert steady["events"] == [
        "(service web) has reached a steady state.",
        f"(service web) (deployment {first['deployment']}) deployment completed.",
    ]
    # UpdateService: maximumPercent 200 starts the new tasks beside the old ones.
    surge = out["surge"]
    assert isinstance(surge, dict)
    assert surge["deployments"] == [
        ["PRIMARY", "IN_PROGRESS", 2, 0, "web:2"], ["ACTIVE", "COMPLETED", 2, 2, "web:1"]
    ]  # fmt: skip
    assert surge["tasks"] == {first["deployment"]: 2, surge["second"]: 2}
    # minimumHealthyPercent 100: no old task stops before a new one is healthy in the group.
    assert out["waiting"] == {first["deployment"]: 2, surge["second"]: 2}
    one = out["one_old_stopped"]
    assert isinstance(one, dict)
    assert one["tasks"] == {first["deployment"]: 1, surge["second"]: 2}
    assert one["stopped"] == [
        [f"Scaling activity initiated by (deployment {first['deployment']})",
         "ServiceSchedulerInitiated"]
    ]  # fmt: skip
    assert one["deregistered"] == ["draining"]
    assert one["service"]["deployments"] == [
        ["PRIMARY", "IN_PROGRESS", 2, 2, "web:2"], ["ACTIVE", "COMPLETED", 1, 1, "web:1"]
    ]  # fmt: skip
    # Every new task healthy: the last old one stops, its deployment goes, the rollout ends.
    rolled = out["rolled"]
    assert isinstance(rolled, dict)
    assert rolled["deployments"] == [["PRIMARY", "COMPLETED", 2, 2, "web:2"]]
    assert rolled["tasks"] == {surge["second"]: 2}
    assert rolled["reason"] == f"ECS deployment {surge['second']} completed."

    # Without a load balancer or health check a task counts as healthy after 40 s.
    assert out["lean_young"] == "IN_PROGRESS"
    # 50/100: one old task stops to make room, one new starts in its place.
    lean = out["lean"]
    assert isinstance(lean, dict)
    assert lean["first"] == "COMPLETED"
    assert lean["tasks"] == {lean["old"]: 1, lean["new"]: 1}
    done = out["lean_done"]
    assert isinstance(done, dict)
    assert done["deployments"] == [["PRIMARY", "COMPLETED", 2, 2, "lean:2"]]
    assert done["tasks"] == {lean["new"]: 2}

    # The circuit breaker: 4 tasks failed (threshold 3), the deployment FAILED, and a new
    # deployment rolls back to the last completed one's task definition.
    breaker = out["breaker"]
    assert isinstance(breaker, dict)
    assert breaker["good_state"] == "COMPLETED"
    rollback, failed, good = breaker["deployments"]
    assert rollback[:2] == ["PRIMARY", "IN_PROGRESS"] and rollback[3] == "guarded:1"
    assert rollback[2] == (
        f"ECS deployment circuit breaker: rolling back to deploymentId {breaker['good']}."
    )
    assert failed == [
        "ACTIVE", "FAILED", "ECS deployment circuit breaker: tasks failed to start.",
        "guarded:2", 4,
    ]  # fmt: skip
    assert good[:2] == ["ACTIVE", "COMPLETED"] and good[3] == "guarded:1"
    assert breaker["task_definition"] == "guarded:1"
    assert out["recovered"] == {
        "running": 2, "pending": 0, "deployments": [["PRIMARY", "COMPLETED", 2, 2, "guarded:1"]]
    }  # fmt: skip
