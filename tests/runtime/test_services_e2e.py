"""The services at work on the local target, with the real engines and no time scale.

`deployer apply e2e` (the sample environment examples/environments/e2e.yaml: the runtime
stack with its timing knobs at AWS's minimums) in a copy of the project, on an emulator
with its runtime. Then, as on AWS:

- every `service_endpoints` URL answers `/health` with its service's JSON;
- a stopped task is replaced by a new ARN, the old one STOPPED with its reason;
- a target failing its health check (the sample services' fault switch) is reported
  unhealthy with its reason and gets no traffic; all of them failing, the load balancer
  fails open;
- a service held below its desired count (its image deleted from ECR) sets off its
  running-task alarm, the composite alarm notifies the topic (read through an SQS
  subscription), the alarm's event invokes the deploy guard for real (its log group
  shows the run); the image restored, the alarms return to OK.
"""

from __future__ import annotations

import json
import shutil
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from deployer.config import load as load_config
from deployer.emulator import controls
from tests.e2e.conftest import DeployerCLI

from .conftest import ROOT, Local, docker

pytestmark = pytest.mark.e2e

SECRET = "e2e-Services-Secret-93b1"


def project_copy(into: Path) -> Path:
    """The project with examples/environments/e2e.yaml among its environments."""
    environments = into / "environments"
    shutil.copytree(
        ROOT / "environments", environments, ignore=shutil.ignore_patterns(".terraform")
    )
    shutil.copy(ROOT / "examples" / "environments" / "e2e.yaml", environments / "e2e.yaml")
    for name in ("modules", "functions", "examples", "bin", "deployer"):
        (into / name).symlink_to(ROOT / name)
    shutil.copy(ROOT / "pyproject.toml", into / "pyproject.toml")
    return into


def wait_until(
    what: str,
    probe: Callable[[], Any],
    timeout: float,
    every: float = 2.0,
    show: Callable[[], Any] | None = None,
) -> Any:
    """``probe()``'s first truthy answer; fails with the last one (or ``show()``) after
    ``timeout`` s."""
    deadline = time.monotonic() + timeout
    last: Any = None
    while time.monotonic() < deadline:
        try:
            last = probe()
        except (OSError, ValueError) as exc:
            last = exc
        else:
            if last:
                return last
        time.sleep(every)
    if show is not None:
        last = show()
    raise AssertionError(f"{what}: not within {timeout:.0f} s (last: {last!r})")


def get(url: str) -> tuple[int, dict[str, Any]]:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read() or b"{}")


def send(method: str, url: str, body: Any = None) -> int:
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(url, data=data, method=method)
    with urllib.request.urlopen(request, timeout=5) as response:
        return int(response.status)


@pytest.fixture
def e2e(registry_emulator: Local, tmp_path: Path) -> Iterator[tuple[DeployerCLI, Local, Any]]:
    project = project_copy(tmp_path / "project")
    runner = DeployerCLI(registry_emulator.state_dir)
    runner.env["DEPLOYER_PROJECT_DIR"] = str(project)
    runner.env["DEPLOYER_SECRET_AUTH_SERVICE_JWT_SIGNING_KEY"] = SECRET
    temp = tmp_path / "tmp"
    temp.mkdir()
    runner.env["TMPDIR"] = str(temp)
    cfg = load_config(project)
    try:
        yield runner, registry_emulator, cfg
    finally:
        host = f"{cfg.delivery.account_id}.dkr.ecr.{cfg.names.delivery.region}.amazonaws.com"
        docker(
            "rmi",
            *(f"{host}/{n}:bootstrap" for n in cfg.names.delivery.ecr_repository_names.values()),
        )


def test_the_services_answer_heal_fail_open_and_alarm(
    e2e: tuple[DeployerCLI, Local, Any], python_base: str
) -> None:
    cli, local, cfg = e2e
    started = time.monotonic()

    def phase(name: str) -> None:  # where the time goes (shown with -s, or on failure)
        print(f"{time.monotonic() - started:5.0f} s  {name}", flush=True)

    account = cfg.environment("e2e").account_id
    applied = cli("apply", "e2e", "--json")
    assert applied.returncode == 0, applied.stderr[-3000:]
    phase("applied (delivery first, images, e2e)")
    (region,) = applied.json()["regions"]
    outputs = region["outputs"]
    urls: dict[str, str] = outputs["service_endpoints"]
    for service, url in urls.items():
        assert url.startswith("http://127.0.0.1:"), url
        wait_until(
            f"{service} healthy",
            lambda u=url, s=service: get(f"{u}/health")[1].get("service") == s,
            300,
        )

    phase("endpoints answer")
    ecs = local.client("ecs", account)
    elbv2 = local.client("elbv2", account)
    cluster = outputs["cluster_name"]

    def running(service: str) -> list[str]:
        names = [
            s
            for s in ecs.list_services(cluster=cluster)["serviceArns"]
            if s.endswith(f"-{service}")
        ]
        found = ecs.list_tasks(
            cluster=cluster, serviceName=names[0].rsplit("/", 1)[-1], desiredStatus="RUNNING"
        )
        return sorted(found["taskArns"])

    def runtime() -> dict[str, Any]:
        return dict(controls.post(local.status.endpoint, "runtime", None)["runtime"])

    # -- a stopped api-service task is replaced by a new ARN ------------------------------
    before = running("api-service")
    assert len(before) == 2
    ecs.stop_task(cluster=cluster, task=before[0], reason="e2e: stop one task")
    after = wait_until(
        "a replacement task", lambda: [a for a in running("api-service") if a not in before], 120
    )
    assert len(after) == 1
    (old,) = ecs.describe_tasks(cluster=cluster, tasks=[before[0]])["tasks"]
    assert (old["lastStatus"], old["stoppedReason"]) == ("STOPPED", "e2e: stop one task")
    phase("a stopped task replaced")
    api = urls["api-service"]
    wait_until(
        "api-service answers again",
        lambda: len(running("api-service")) == 2 and get(f"{api}/health")[0] == 200,
        120,
    )

    # -- a target that fails its health check: unhealthy, with the reason, no traffic ---
    def task_ports() -> dict[str, str]:
        tasks = runtime()["ecs-tasks"]["tasks"]
        return {arn: tasks[arn]["8080"] for arn in running("api-service") if arn in tasks}

    ports = wait_until(
        "both api-service tasks' containers", lambda: len(task_ports()) == 2 and task_ports(), 120
    )
    groups = [g["TargetGroupArn"] for g in elbv2.describe_target_groups()["TargetGroups"]]
    (group_arn,) = [
        arn
        for arn in groups
        if "-api-" in arn
        and elbv2.describe_target_health(TargetGroupArn=arn)["TargetHealthDescriptions"]
    ]

    def health() -> dict[str, tuple[str, str | None]]:
        found = elbv2.describe_target_health(TargetGroupArn=group_arn)["TargetHealthDescriptions"]
        return {
            d["Target"]["Id"]: (d["TargetHealth"]["State"], d["TargetHealth"].get("Reason"))
            for d in found
        }

    wait_until(
        "both api-service targets healthy",
        lambda: [s for s, _ in health().values()] == ["healthy"] * 2,
        60,
        show=lambda: (health(), runtime().get("elb-listeners"), task_ports()),
    )
    phase("both api targets healthy")
    first, second = sorted(ports.values())
    assert send("PUT", f"http://{first}/fault/health", {"status": 503}) == 200
    wait_until(
        "one target unhealthy",
        lambda: (
            sorted(health().values())
            == [("healthy", None), ("unhealthy", "Target.ResponseCodeMismatch")]
        ),
        60,
        show=health,
    )
    answers = [get(f"{api}/health")[0] for _ in range(12)]
    assert answers == [200] * 12  # the healthy target takes all the traffic
    assert send("PUT", f"http://{second}/fault/health", {"status": 503}) == 200
    wait_until(
        "both unhealthy",
        lambda: [s for s, _ in health().values()] == ["unhealthy"] * 2,
        60,
        show=health,
    )
    answers = [get(f"{api}/health")[0] for _ in range(12)]
    assert answers == [503] * 12  # fail open: the load balancer routes to all of them
    for address in (first, second):
        send("DELETE", f"http://{address}/fault/health")
    wait_until(
        "healthy again",
        lambda: [s for s, _ in health().values()] == ["healthy"] * 2,
        60,
        show=health,
    )

    phase("fail open seen and healed")
    # -- the running-task alarm, the composite's notification, the guard's run ----------
    # From a steady state: the apply started the tasks before their images existed, so
    # the alarms may still be on their way back from that.
    cloudwatch = local.client("cloudwatch", account)
    (running_alarm,) = [
        a
        for a in cloudwatch.describe_alarms()["MetricAlarms"]
        if a.get("MetricName") == "RunningTaskCount"
        and any(d["Value"].endswith("notification-service") for d in a["Dimensions"])
    ]
    name = running_alarm["AlarmName"]

    def state(alarm: str) -> str:
        found = cloudwatch.describe_alarms(AlarmNames=[alarm])
        return str((found["MetricAlarms"] or found["CompositeAlarms"])[0]["StateValue"])

    composites = cloudwatch.describe_alarms(AlarmTypes=["CompositeAlarm"])["CompositeAlarms"]
    composite = next(a["AlarmName"] for a in composites if name in a["AlarmRule"])
    wait_until(
        "notification-service's alarms OK",
        lambda: state(name) == "OK" and state(composite) == "OK",
        300,
        every=5,
    )

    phase("alarms OK")
    # Hold notification-service below its desired count: its image is gone.
    repositories = cfg.names.delivery.ecr_repository_names
    delivery_ecr = local.client("ecr", cfg.delivery.account_id)
    delivery_ecr.batch_delete_image(
        repositoryName=repositories["notification-service"], imageIds=[{"imageTag": "bootstrap"}]
    )
    topic = outputs["notifications_topic_arn"]
    sqs = local.client("sqs", account)
    queue = sqs.create_queue(QueueName="e2e-notifications")["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    local.client("sns", account).subscribe(TopicArn=topic, Protocol="sqs", Endpoint=queue_arn)
    held = running("notification-service")
    for arn in held:
        ecs.stop_task(cluster=cluster, task=arn, reason="e2e: hold the service below its count")

    wait_until("the running-task alarm in ALARM", lambda: state(name) == "ALARM", 240, every=5)
    phase("running-task alarm in ALARM")
    # Restore the image at once: ECS's back-off between failed starts grows the longer
    # the service fails (10 s doubling); the alarm and its consequences are already set.
    host = f"{cfg.delivery.account_id}.dkr.ecr.{cfg.names.delivery.region}.amazonaws.com"
    image = f"{host}/{repositories['notification-service']}:bootstrap"
    local.login(cfg.delivery.account_id, host)
    pushed = local.docker("push", image)
    assert pushed.returncode == 0, pushed.stderr
    wait_until("the composite alarm in ALARM", lambda: state(composite) == "ALARM", 60)

    def notified(value: str) -> bool:
        for message in sqs.receive_message(
            QueueUrl=queue, MaxNumberOfMessages=10, WaitTimeSeconds=1
        ).get("Messages", []):
            body = json.loads(json.loads(message["Body"])["Message"])
            if body["AlarmName"] == composite and body["NewStateValue"] == value:
                return True
        return False

    wait_until(
        "the topic's ALARM notification",
        lambda: notified("ALARM"),
        60,
        show=lambda: cloudwatch.describe_alarm_history(AlarmName=composite)["AlarmHistoryItems"],
    )
    guard_log = f"/aws/lambda/{outputs['deploy_guard_function_name']}"
    logs = local.client("logs", account)

    def guard_ran() -> bool:
        events = logs.filter_log_events(logGroupName=guard_log)["events"]
        return any(e["message"].startswith("START RequestId:") for e in events)

    wait_until("the deploy guard invoked by the alarm's event", guard_ran, 120)

    phase("notified, guard ran")
    # The image restored (pushed as soon as the alarm went off, above), the service
    # comes back and the alarms return to OK.
    notifications = urls["notification-service"]
    wait_until(
        "notification-service back",
        lambda: (
            len(running("notification-service")) == 2 and get(f"{notifications}/health")[0] == 200
        ),
        300,
        every=5,
    )
    phase("notification-service back")
    wait_until(
        "the alarms back to OK",
        lambda: state(name) == "OK" and state(composite) == "OK",
        240,
        every=5,
    )
    wait_until("the topic's OK notification", lambda: notified("OK"), 60)
    # Nothing of this put the secret in a log.
    for group in logs.describe_log_groups()["logGroups"]:
        for event in logs.filter_log_events(logGroupName=group["logGroupName"])["events"]:
            assert SECRET not in event["message"], group["logGroupName"]
    phase("back to OK, notified")
