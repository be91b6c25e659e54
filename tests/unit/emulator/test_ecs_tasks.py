"""The ecs-tasks engine's service scheduler and task lifecycle, with a fake Docker CLI.

In a separate interpreter (the patches must not leak into this one's moto): moto with
the fidelity patches, a CODE_DEPLOY service (so a PRIMARY task set), and the engine's
rounds run by hand. tests/runtime/test_ecs_tasks.py runs the same with the real engine.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]

SCRIPT = r"""
import json, subprocess, threading, tempfile
from pathlib import Path
from deployer.emulator import patches
patches.apply_all()
from moto import mock_aws
import boto3
from deployer.emulator.engines.ecs_tasks import EcsTasks

containers, runs = {}, []

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


def run() -> dict[str, object]:
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT], capture_output=True, text=True, timeout=300,
        check=False, cwd=ROOT,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    return dict(json.loads(done.stdout.strip().splitlines()[-1]))


def test_the_scheduler_and_the_task_lifecycle() -> None:
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
