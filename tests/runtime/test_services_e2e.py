"""The services at work on the local target, with the real engines and no time scale.

`deployer apply e2e` (the sample environment examples/environments/e2e.yaml: the runtime
stack with its timing knobs at AWS's minimums) in a copy of the project, on an emulator
with its runtime. Then, as on AWS:

- every `service_endpoints` URL answers `/health` with its service's JSON;

then three lanes at once, one service each (each its own load balancer, deployment group
and alarms, as teams share an environment), with the emulator's CodeDeploy engine and
the deploy guard as its hooks where they deploy:

- api-service: a canary release (a custom TimeBasedCanary config, 25 % for a minute) and
  an all-at-once one, each under a client polling at 25 requests a second that sees zero
  failed requests and, during the canary, green's share within its tolerance; then
  `deployer rollback` to the previous release and `--to` a named deployment (healthy
  releases end their termination wait with ContinueDeployment); then a stopped task is
  replaced by a new ARN, the old one STOPPED with its reason; a target failing its health
  check (the sample services' fault switch) is reported unhealthy with its reason and
  gets no traffic; all of them failing, the load balancer fails open;
- auth-service: `deployer drill rollback` at AfterAllowTestTraffic (production never
  moves, polled) and at AfterAllowTraffic, each release really broken with the fault
  switch;
- notification-service: held below its desired count (its image deleted from ECR) it
  sets off its running-task alarm, the composite alarm notifies the topic (read through
  an SQS subscription), the alarm's event invokes the deploy guard for real (its log
  group shows the run); the image restored, the alarms return to OK; then the drill's
  third mode, the alarm in the termination wait;
- each drill rolled back by its own rollback deployment, production on the old version,
  the guard's notification naming the deployment (and the failed check);

and afterwards `deployer plan e2e` finds nothing to change.

The copy of e2e.yaml keeps the original tasks for a termination wait of
TERMINATION_WAIT_MINUTES (the drill's alarm mode needs one).
"""

from __future__ import annotations

import json
import shutil
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager, suppress
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from deployer.config import load as load_config
from deployer.emulator import controls
from tests.e2e.conftest import DeployerCLI

from .conftest import ROOT, Local, docker, get, wait_until

pytestmark = pytest.mark.e2e

SECRET = "e2e-Services-Secret-93b1"
TERMINATION_WAIT_MINUTES = 3
#: A custom canary: 25 % of production traffic to green for a minute, then the rest.
CANARY = "e2e-canary-25-percent-1-minute"
CANARY_PERCENT = 25
CANARY_TOLERANCE = 0.08  # share of answers; about 7 standard deviations at 25 requests/s
#: The polling client aims at 25 requests a second; with every core of a 2-core CI busy it
#: kept 18.8 and 19.5 in two runs (2026-12-01). At 15 a second (a request every 67 ms) the
#: swap is still sampled many times a second, which is what "zero failed" needs.
MIN_RATE = 15
HOOK_MODES = ("AfterAllowTestTraffic", "AfterAllowTraffic", "alarm")
ALARM_PERIOD_S = 60  # examples/environments/e2e.yaml: alarms.period_seconds


def project_copy(into: Path) -> Path:
    """The project with examples/environments/e2e.yaml among its environments."""
    environments = into / "environments"
    shutil.copytree(
        ROOT / "environments", environments, ignore=shutil.ignore_patterns(".terraform")
    )
    text = (ROOT / "examples" / "environments" / "e2e.yaml").read_text()
    # The drill's alarm mode breaks the release in the termination wait (the alarm takes
    # its 60 s period and more): the copy keeps the original tasks TERMINATION_WAIT_MINUTES;
    # healthy releases end the wait early with ContinueDeployment, as an operator does.
    edited = text.replace(
        "termination_wait_minutes: 0", f"termination_wait_minutes: {TERMINATION_WAIT_MINUTES}"
    )
    assert edited != text, "examples/environments/e2e.yaml has no termination_wait_minutes: 0"
    (environments / "e2e.yaml").write_text(edited)
    for name in ("modules", "functions", "examples", "bin", "deployer"):
        (into / name).symlink_to(ROOT / name)
    shutil.copy(ROOT / "pyproject.toml", into / "pyproject.toml")
    return into


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
    cluster = outputs["cluster_name"]
    # Three lanes from here, one service each, as three teams would share an environment:
    # the drills on auth-service (a thread), the blue/green releases and `deployer rollback`
    # then the task and health phases on api-service (a thread), and the alarm phases on
    # notification-service (this thread). Each service has its own load balancer,
    # deployment group and alarms; the lanes overlap their waits (alarm periods, hooks).
    lanes = ThreadPoolExecutor(2, thread_name_prefix="e2e-lane")
    auth_lane = lanes.submit(
        drill_every_mode,
        cli,
        Deployments(local, account, cluster, "auth-service", outputs),
        ("AfterAllowTestTraffic", "AfterAllowTraffic"),
        lambda what: phase(f"[auth-service] {what}"),
    )
    try:
        api_lane = services_at_work(cli, local, cfg, account, outputs, urls, lanes, phase)
        # The drill's third mode on notification-service, its alarm phases done: the
        # alarm mode waits for a real alarm (a minute or two), the lanes' longest step.
        drills = drill_every_mode(
            cli,
            Deployments(local, account, cluster, "notification-service", outputs),
            ("alarm",),
            lambda what: phase(f"[notification-service] {what}"),
        )
        phase("notification-service lane done; waiting for the others")
        api_results = api_lane.result(timeout=1800)
        drills.update(auth_lane.result(timeout=1800))
    finally:
        lanes.shutdown(wait=False, cancel_futures=True)
    check_drills(drills, local.client("codedeploy", account))
    phase("drills checked")
    assert api_results["serving"] == "e2e-v3", api_results
    # Nothing left for Terraform: the swaps, rollbacks and drills are CodeDeploy's business.
    replan = cli("plan", "e2e", "--detailed-exitcode")
    assert replan.returncode == 0, replan.stderr[-3000:] + replan.stdout[-3000:]
    phase("`deployer plan e2e`: no changes")


def running_tasks(ecs: Any, cluster: str, service: str) -> list[str]:
    """The RUNNING task ARNs of a microservice's ECS service, sorted."""
    names = [
        s for s in ecs.list_services(cluster=cluster)["serviceArns"] if s.endswith(f"-{service}")
    ]
    found = ecs.list_tasks(
        cluster=cluster, serviceName=names[0].rsplit("/", 1)[-1], desiredStatus="RUNNING"
    )
    return sorted(found["taskArns"])


def services_at_work(
    cli: DeployerCLI,
    local: Local,
    cfg: Any,
    account: str,
    outputs: dict[str, Any],
    urls: dict[str, str],
    lanes: ThreadPoolExecutor,
    phase: Callable[[str], None],
) -> Future[dict[str, Any]]:
    """api-service's lane started; then notification-service's alarm phases. Returns the
    api-service lane."""
    ecs = local.client("ecs", account)
    cluster = outputs["cluster_name"]

    def running(service: str) -> list[str]:
        return running_tasks(ecs, cluster, service)

    # api-service's lane: its releases and rollbacks from the alarms the apply left quiet,
    # then its task and health phases (which set off its alarms: nothing waits on them).
    api_lane = lanes.submit(
        api_service_lane, cli, local, account, outputs, lambda what: phase(f"[api-service] {what}")
    )
    # -- the running-task alarm, the composite's notification, the guard's run ----------
    # From a steady state: the apply started the tasks before their images existed, so
    # the alarms may still be on their way back from that.
    cloudwatch = local.client("cloudwatch", account)
    # RunningTaskCount over DesiredTaskCount (modules/monitoring), by metric math
    (running_alarm,) = [
        a
        for a in cloudwatch.describe_alarms()["MetricAlarms"]
        if a["AlarmName"].endswith("-notification-service-running-tasks")
        and {m.get("MetricStat", {}).get("Metric", {}).get("MetricName") for m in a["Metrics"]}
        >= {"RunningTaskCount", "DesiredTaskCount"}
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
            try:
                body = json.loads(json.loads(message["Body"])["Message"])
            except ValueError:
                continue  # a notification in words (the other lanes share the topic)
            if (
                isinstance(body, dict)
                and body.get("AlarmName") == composite
                and body.get("NewStateValue") == value
            ):
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
        # The run on this alarm's event (the other lanes' deployments run the guard as
        # their hooks, and their alarms too): the guard logs each alarm it handles.
        events = logs.filter_log_events(logGroupName=guard_log)["events"]
        return any(
            '"deploy_guard": "alarm"' in e["message"] and "notification-service" in e["message"]
            for e in events
        )

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

    return api_lane


# -- api-service: tasks replaced, health measured, fail-open ---------------------------------------
def api_service_lane(
    cli: DeployerCLI,
    local: Local,
    account: str,
    outputs: dict[str, Any],
    phase: Callable[[str], None],
) -> dict[str, Any]:
    cluster = outputs["cluster_name"]
    results = release_and_roll_back(
        cli, Deployments(local, account, cluster, "api-service", outputs), phase
    )
    tasks_and_health(local, account, outputs, phase)
    return results


def tasks_and_health(
    local: Local, account: str, outputs: dict[str, Any], phase: Callable[[str], None]
) -> None:
    """A stopped task replaced by a new ARN; a target failing its health check reported
    unhealthy with its reason and taking no traffic; all failing: the load balancer fails
    open; then healed."""
    ecs = local.client("ecs", account)
    elbv2 = local.client("elbv2", account)
    cluster = outputs["cluster_name"]
    api = outputs["service_endpoints"]["api-service"]

    def running(service: str) -> list[str]:
        return running_tasks(ecs, cluster, service)

    def runtime() -> dict[str, Any]:
        return dict(controls.post(str(local.status.endpoint), "runtime", None)["runtime"])

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


# -- api-service: blue/green releases and `deployer rollback`, on the engine ----------------------
def release_and_roll_back(
    cli: DeployerCLI, deployments: Deployments, phase: Callable[[str], None]
) -> dict[str, Any]:
    """A canary release and an all-at-once one under a polling client (zero failed
    requests, the canary's share within its tolerance), then `deployer rollback` to the
    previous release and to a named deployment. Healthy releases end their termination
    wait with ContinueDeployment (an operator's "terminate original task set")."""
    # CodeDeploy stops a deployment whose group has an alarm in ALARM (the apply started
    # the tasks before their images were pushed): the releases start from quiet alarms.
    deployments.wait_quiet(timeout=360)
    deployments.codedeploy.create_deployment_config(
        deploymentConfigName=CANARY,
        computePlatform="ECS",
        trafficRoutingConfig={
            "type": "TimeBasedCanary",
            "timeBasedCanary": {"canaryPercentage": CANARY_PERCENT, "canaryInterval": 1},
        },
    )
    before = deployments.serving()
    with deployments.ending_termination_waits():
        canary = deployments.release("e2e-v2", config=CANARY)
        with Poller(deployments.endpoint) as poller:
            info = deployments.follow(canary, timeout=420)
        assert info["status"] == "Succeeded", info
        assert info["deploymentConfigName"] == CANARY, info
        assert info["instanceTerminationWaitTimeStarted"] is True, info
        report = poller.report()
        assert report["failed"] == [], report  # zero failed requests during the swap
        assert report["rate"] >= MIN_RATE, report
        assert report["versions"][0] == before and report["versions"][-1] == "e2e-v2", report
        share, count, seconds = poller.share("e2e-v2", before)
        assert abs(share - CANARY_PERCENT / 100) <= CANARY_TOLERANCE, (share, count, seconds)
        assert 50 <= seconds <= 80, (share, count, seconds)  # the canary's one minute
        assert deployments.serving() == "e2e-v2"
        phase(
            f"canary to e2e-v2: {report['count']} requests, 0 failed, {report['rate']:.0f}/s; "
            f"{share:.1%} on green over the {seconds:.0f} s canary ({count} answers)"
        )

        all_at_once = deployments.release("e2e-v3")
        with Poller(deployments.endpoint) as poller:
            info = deployments.follow(all_at_once, timeout=300)
        assert info["status"] == "Succeeded", info
        report = poller.report()
        assert report["failed"] == [] and report["rate"] >= MIN_RATE, report
        assert report["versions"] == ["e2e-v2", "e2e-v3"], report  # all at once: one switch
        phase(f"all at once to e2e-v3: {report['count']} requests, 0 failed")

        # What can be chosen, then back to the previous release ...
        listed = cli("deployments", "e2e", "--service", "api-service", "--json")
        assert listed.returncode == 0, listed.stderr[-3000:]
        history = {d["deployment_id"]: d for d in listed.json()["deployments"]}
        assert history[all_at_once]["current"] is True, history[all_at_once]
        assert history[canary]["outcome"] == "Succeeded", history[canary]
        back = cli("rollback", "e2e", "--service", "api-service", "--json")
        assert back.returncode == 0, back.stderr[-3000:] + back.stdout[-3000:]
        doc = back.json()
        assert doc["ok"] is True and doc["status"] == "Succeeded", doc
        assert doc["target"]["deployment_id"] == canary, doc
        assert deployments.serving() == "e2e-v2"
        phase(f"`deployer rollback` to the previous release ({canary}): e2e-v2 serves")
        # ... and forward again to a named one.
        named = cli("rollback", "e2e", "--service", "api-service", "--to", all_at_once, "--json")
        assert named.returncode == 0, named.stderr[-3000:] + named.stdout[-3000:]
        doc = named.json()
        assert doc["ok"] is True and doc["target"]["deployment_id"] == all_at_once, doc
        serving = deployments.serving()
        assert serving == "e2e-v3"
        phase(f"`deployer rollback --to {all_at_once}`: e2e-v3 serves")
    return {"serving": serving}


# -- the rollback drill in every mode, on the engine (auth-service, notification-service) ---------
def drill_every_mode(
    cli: DeployerCLI,
    deployments: Deployments,
    hooks: tuple[str, ...],
    phase: Callable[[str], None],
) -> dict[str, Any]:
    """`deployer drill rollback e2e --service S --hook H` for each of ``hooks``, from a
    quiet deployment group each time; production polled during each drill.

    A drill's breach shows in the alarms' data of the minute it happened, which CloudWatch
    evaluates once that minute is over (up to a minute later): the next drill waits until
    that evaluation has happened, then for the alarms out of ALARM; else an alarm of the
    previous breach can stop the next release before its own breach."""
    results: dict[str, Any] = {}
    settled_at = 0.0  # epoch seconds
    for hook in hooks:
        time.sleep(max(0.0, settled_at - time.time()))
        deployments.wait_quiet(timeout=300)
        before = deployments.serving()
        with Poller(deployments.endpoint) as poller:
            run = cli(
                "drill",
                "rollback",
                "e2e",
                "--service",
                deployments.microservice,
                "--hook",
                hook,
                "--json",
            )
        doc = run.json() if run.stdout.strip() else None
        results[hook] = {
            "returncode": run.returncode,
            "doc": doc,
            "stderr": run.stderr[-3000:],
            "before": before,
            "after": deployments.serving(),
            "polled": poller.report(),
        }
        seconds = (doc or {}).get("breach_to_traffic_restored_seconds")
        phase(f"drill --hook {hook}: exit {run.returncode}, breach to restored {seconds} s")
        breach = (doc or {}).get("breach_at")
        if breach:
            at = datetime.fromisoformat(breach.replace("Z", "+00:00")).timestamp()
            # The breach's minute ends, then the evaluation after it (the engine's round is
            # a minute), with a few seconds to spare.
            settled_at = (at // ALARM_PERIOD_S + 2) * ALARM_PERIOD_S + 5
    return results


def check_drills(results: dict[str, Any], codedeploy: Any) -> None:
    """Each drill rolled back for real: the engine stopped or failed the release, its
    rollback deployment succeeded, production answers the old version, people heard."""
    assert set(results) == set(HOOK_MODES)
    for hook, result in results.items():
        doc = result["doc"]
        assert result["returncode"] == 0 and doc, (hook, result["stderr"])
        assert doc["ok"] is True, (hook, doc["problems"], doc["verified"])
        assert doc["target"] == "local" and doc["break"] == "fault-switch", (hook, doc)
        assert "engine" in doc["codedeploy"], (hook, doc["codedeploy"])
        assert all(doc["verified"].values()), (hook, doc["verified"])
        info = codedeploy.get_deployment(deploymentId=doc["deployment_id"])["deploymentInfo"]
        rollback = codedeploy.get_deployment(
            deploymentId=info["rollbackInfo"]["rollbackDeploymentId"]
        )["deploymentInfo"]
        assert (rollback["status"], rollback["creator"]) == ("Succeeded", "codeDeployRollback")
        # Production answers the version it answered before (and, polled throughout, never
        # failed where production never moved).
        assert result["after"] == result["before"], (hook, result)
        note = doc["notification"]["message"]  # the guard's JSON (or words naming it)
        assert doc["deployment_id"] in json.dumps(note), (hook, note)
        if hook == "alarm":
            # The alarm after traffic moved: CodeDeploy's alarm monitoring or the guard on
            # the alarm's event stopped it, whichever was first.
            assert info["status"] == "Stopped", (hook, info)
            assert info["errorInformation"]["code"] in ("ALARM_ACTIVE", "MANUAL_STOP"), info
        else:
            # The guard failed the hook: it names the failed check.
            assert info["status"] == "Failed", (hook, info)
            assert info["errorInformation"]["code"] == "HOOK_EXECUTION_FAILURE", (hook, info)
            # The guard's JSON names the deployment and the failed check (a notification in
            # words was checked for the deployment ID above).
            if isinstance(note, dict):
                assert note["deployment_id"] == doc["deployment_id"], (hook, note)
                assert "target_health" in [c["name"] for c in note["failed_checks"]], (hook, note)
        if hook == "AfterAllowTestTraffic":
            polled = result["polled"]
            assert polled["failed"] == [], polled  # production never moved
            assert set(polled["versions"]) == {result["before"]}, polled


class Deployments:
    """One service's CodeDeploy deployments, made as the pipeline makes them."""

    def __init__(
        self, local: Local, account: str, cluster: str, service: str, outputs: dict[str, Any]
    ) -> None:
        self.ecs = local.client("ecs", account)
        self.codedeploy = local.client("codedeploy", account)
        self.cloudwatch = local.client("cloudwatch", account)
        self.cluster = cluster
        self.microservice = service
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

    @contextmanager
    def ending_termination_waits(self) -> Iterator[None]:
        """While inside: every deployment of the group whose termination wait has begun
        is continued at once (ContinueDeployment, TERMINATION_WAIT), as an operator who
        has seen the release healthy ends the wait."""
        import threading

        stop = threading.Event()

        def operator() -> None:
            while not stop.wait(1.0):
                with suppress(Exception):
                    for deployment_id in self.codedeploy.list_deployments(
                        applicationName=self.application,
                        deploymentGroupName=self.group,
                        includeOnlyStatuses=["InProgress"],
                    )["deployments"]:
                        info = self.codedeploy.get_deployment(deploymentId=deployment_id)
                        if info["deploymentInfo"].get("instanceTerminationWaitTimeStarted"):
                            self.codedeploy.continue_deployment(
                                deploymentId=deployment_id, deploymentWaitType="TERMINATION_WAIT"
                            )

        thread = threading.Thread(target=operator, daemon=True)
        thread.start()
        try:
            yield
        finally:
            stop.set()
            thread.join(10)

    def release(self, version: str, config: str | None = None, **environment: str) -> str:
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
                **({"deploymentConfigName": config} if config else {}),
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

    def share(self, new: str, old: str) -> tuple[float, int, float]:
        """While both versions answered (from ``new``'s first answer to ``old``'s last):
        ``new``'s share of the answers, their count, and that window's seconds."""
        first = min(at for at, _, version in self.answers if version == new)
        last = max(at for at, _, version in self.answers if version == old)
        window = [version for at, _, version in self.answers if first <= at <= last]
        return window.count(new) / max(len(window), 1), len(window), last - first

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
