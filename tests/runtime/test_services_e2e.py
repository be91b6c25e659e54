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
  shows the run); the image restored, the alarms return to OK;
- a blue/green deployment of a new api-service version, run by the emulator's CodeDeploy
  engine with the deploy guard as its hooks: a client polling at 25 requests a second
  sees the version change and no failed request; a version broken from its first health
  check is failed by the guard at AfterAllowTestTraffic (its notification names the
  deployment and the failed check), rolled back by its own rollback deployment, and
  production never leaves the good version. (`deployer plan` empty afterwards and the
  rollback drill on the engine are bench/rollback's: CI's budget.)
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
        text = error.read() or b"{}"
        try:
            return error.code, json.loads(text)
        except ValueError:  # the load balancer's own page (502, 503)
            return error.code, {"page": text.decode(errors="replace")}


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

    # -- CodeDeploy blue/green, run by the emulator's engine, the guard as its hooks ---------
    deployments = Deployments(local, account, cluster, "api-service", outputs)
    # CodeDeploy stops a deployment whose group has an alarm in ALARM (the fault phases
    # above set off api-service's): each release starts from quiet alarms.
    deployments.wait_quiet()
    healthy = deployments.release("e2e-v2")
    with Poller(api) as poller:
        info = deployments.follow(healthy, timeout=300)
    assert info["status"] == "Succeeded", info
    report = poller.report()
    assert report["failed"] == [], report  # zero failed requests during the swap
    assert report["rate"] >= 20, report
    assert report["versions"][-1] == "e2e-v2" and len(set(report["versions"])) == 2, report
    assert deployments.serving() == "e2e-v2"
    phase(f"blue/green to e2e-v2: {report['count']} requests, 0 failed, {report['rate']:.0f}/s")

    # A version broken from its first health check: the guard fails it at
    # AfterAllowTestTraffic, production never moves, CodeDeploy rolls back.
    deployments.wait_quiet()
    broken = deployments.release("e2e-broken", FAULT_HEALTH_STATUS="503")
    with Poller(api) as poller:
        info = deployments.follow(broken, timeout=300)
    assert info["status"] == "Failed", info
    assert info["errorInformation"]["code"] == "HOOK_EXECUTION_FAILURE", info
    rollback = info["rollbackInfo"]["rollbackDeploymentId"]
    assert deployments.follow(rollback, timeout=60)["status"] == "Succeeded"
    report = poller.report()
    assert report["failed"] == [] and set(report["versions"]) == {"e2e-v2"}, report
    assert deployments.serving() == "e2e-v2"

    def guard_note() -> dict[str, Any] | None:
        for message in sqs.receive_message(
            QueueUrl=queue, MaxNumberOfMessages=10, WaitTimeSeconds=1
        ).get("Messages", []):
            try:
                note = json.loads(json.loads(message["Body"])["Message"])
            except ValueError:
                continue  # a notification in words, not the guard's JSON
            if isinstance(note, dict) and note.get("deployment_id") == broken:
                return dict(note)
        return None

    note = wait_until("the guard's notification about the broken release", guard_note, 60)
    failed = [c["name"] for c in note["failed_checks"]]
    assert "target_health" in failed, note
    phase("broken release rolled back by the guard at AfterAllowTestTraffic")
    # `deployer plan e2e` empty afterwards, and the rollback drill on the engine in each
    # mode, are measured by bench/rollback (it keeps CI within its budget).


class Deployments:
    """One service's CodeDeploy deployments, made as the pipeline makes them."""

    def __init__(
        self, local: Local, account: str, cluster: str, service: str, outputs: dict[str, Any]
    ) -> None:
        self.ecs = local.client("ecs", account)
        self.codedeploy = local.client("codedeploy", account)
        self.cloudwatch = local.client("cloudwatch", account)
        self.cluster = cluster
        arns = self.ecs.list_services(cluster=cluster)["serviceArns"]
        (self.service,) = [a.rsplit("/", 1)[-1] for a in arns if a.endswith(f"-{service}")]
        self.endpoint = outputs["service_endpoints"][service]
        guard = local.client("lambda", account).get_function(
            FunctionName=outputs["deploy_guard_function_name"]
        )
        self.guard_arn = guard["Configuration"]["FunctionArn"]
        for application in self.codedeploy.list_applications()["applications"]:
            for group in self.codedeploy.list_deployment_groups(applicationName=application)[
                "deploymentGroups"
            ]:
                found = self.codedeploy.get_deployment_group(
                    applicationName=application, deploymentGroupName=group
                )["deploymentGroupInfo"]
                if found["ecsServices"][0]["serviceName"] == self.service:
                    self.application, self.group = application, group

    def wait_quiet(self, timeout: float = 240) -> None:
        """Until none of the deployment group's alarms is in ALARM."""
        group = self.codedeploy.get_deployment_group(
            applicationName=self.application, deploymentGroupName=self.group
        )["deploymentGroupInfo"]
        names = [a["name"] for a in group["alarmConfiguration"]["alarms"]]

        def quiet() -> bool:
            found = self.cloudwatch.describe_alarms(AlarmNames=names)["MetricAlarms"]
            return all(a["StateValue"] != "ALARM" for a in found)

        wait_until(f"the alarms of {self.group} out of ALARM", quiet, timeout, every=5)

    def release(self, version: str, **environment: str) -> str:
        """Register a revision of the running task definition with SERVICE_VERSION (and
        more environment), and deploy it with the pipeline's AppSpec."""
        (svc,) = self.ecs.describe_services(cluster=self.cluster, services=[self.service])[
            "services"
        ]
        current = self.ecs.describe_task_definition(taskDefinition=svc["taskDefinition"])[
            "taskDefinition"
        ]
        containers = current["containerDefinitions"]
        variables = {e["name"]: e["value"] for e in containers[0].get("environment") or []}
        variables.update(SERVICE_VERSION=version, **environment)
        containers[0]["environment"] = [{"name": k, "value": v} for k, v in variables.items()]
        keep = ("taskRoleArn", "executionRoleArn", "networkMode", "requiresCompatibilities")
        registered = self.ecs.register_task_definition(
            family=current["family"],
            containerDefinitions=containers,
            cpu=current["cpu"],
            memory=current["memory"],
            **{k: current[k] for k in keep if current.get(k)},
        )["taskDefinition"]["taskDefinitionArn"]
        mapping = containers[0]["portMappings"][0]
        content = {
            "version": 0.0,
            "Resources": [
                {
                    "TargetService": {
                        "Type": "AWS::ECS::Service",
                        "Properties": {
                            "TaskDefinition": registered,
                            "LoadBalancerInfo": {
                                "ContainerName": containers[0]["name"],
                                "ContainerPort": mapping["containerPort"],
                            },
                        },
                    }
                }
            ],
            "Hooks": [
                {"AfterAllowTestTraffic": self.guard_arn},
                {"AfterAllowTraffic": self.guard_arn},
            ],
        }
        return str(
            self.codedeploy.create_deployment(
                applicationName=self.application,
                deploymentGroupName=self.group,
                revision={
                    "revisionType": "AppSpecContent",
                    "appSpecContent": {"content": json.dumps(content)},
                },
            )["deploymentId"]
        )

    def follow(self, deployment_id: str, timeout: float) -> dict[str, Any]:
        def finished() -> dict[str, Any] | None:
            info = self.codedeploy.get_deployment(deploymentId=deployment_id)["deploymentInfo"]
            return dict(info) if info["status"] in ("Succeeded", "Failed", "Stopped") else None

        found: dict[str, Any] = wait_until(
            f"deployment {deployment_id} to finish", finished, timeout
        )
        return found

    def serving(self) -> str:
        return str(get(f"{self.endpoint}/health")[1].get("version"))


class Poller:
    """A client sending GET /health at about 25 requests a second, without retries,
    recording each answer's status and version (``with`` starts and stops it)."""

    def __init__(self, base: str, every: float = 0.04) -> None:
        import threading

        self.url = f"{base}/health"
        self.every = every
        self.answers: list[tuple[float, int, str]] = []
        self.failed: list[str] = []
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self.stop.is_set():
            at = time.monotonic()
            try:
                status, body = get(self.url)
            except (OSError, ValueError) as error:
                self.failed.append(f"{type(error).__name__}: {error}")
            else:
                self.answers.append((at, status, str(body.get("version"))))
                if status != 200:
                    self.failed.append(f"HTTP {status} from version {body.get('version')}")
            self.stop.wait(max(0.0, self.every - (time.monotonic() - at)))

    def __enter__(self) -> Poller:
        self.started = time.monotonic()
        self.thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self.stop.set()
        self.thread.join(10)
        self.ended = time.monotonic()

    def report(self) -> dict[str, Any]:
        versions: list[str] = []
        for _, _, version in self.answers:
            if not versions or versions[-1] != version:
                versions.append(version)
        count = len(self.answers) + len(self.failed)
        return {
            "count": count,
            "rate": count / max(self.ended - self.started, 1e-9),
            "failed": self.failed[:20],
            "versions": versions,
        }
