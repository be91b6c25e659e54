"""The ecs-tasks engine: a CODE_DEPLOY service's tasks run as containers and answer.

A service like the runtime stack's (awsvpc Fargate, the CODE_DEPLOY controller, so its
PRIMARY task set holds its tasks) is made with boto3 in the staging account, from
api-service's image pushed to the delivery account's repository, whose policy lets
staging pull. The engine starts the desired count, publishes each task's port on
loopback, injects the secret from Parameter Store, and replaces a stopped task.
"""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

from deployer.emulator import controls

from .conftest import ROOT, Local, docker

DELIVERY = "111111111111"
STAGING = "333333333333"
SECRET = "s3cr3t-value-for-the-test"
LOG_GROUP = "/ecs/acme-staging/api-service"


def push_api_service(local: Local, base: str, tmp_path: Path) -> str:
    ecr = local.client("ecr", DELIVERY)
    repo = ecr.create_repository(repositoryName="acme-api-service")["repository"]
    ecr.set_repository_policy(
        repositoryName="acme-api-service",
        policyText=json.dumps({"Version": "2012-10-17", "Statement": [{
            "Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{STAGING}:root"},
            "Action": ["ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer",
                       "ecr:BatchCheckLayerAvailability"],
        }]}),
    )  # fmt: skip
    image = f"{repo['repositoryUri']}:bootstrap"
    context = ROOT / "examples" / "monorepo" / "services" / "api-service"
    built = local.docker("build", "--quiet", "--build-arg", f"BASE_IMAGE={base}", "-t", image,
                         str(context))  # fmt: skip
    assert built.returncode == 0, built.stderr
    host = image.split("/")[0]
    local.wait_until_resolved(host)
    local.login(DELIVERY, host)
    pushed = local.docker("push", image)
    assert pushed.returncode == 0, pushed.stderr
    local.docker("rmi", image)  # the engine must pull it
    return image


def make_service(local: Local, image: str) -> tuple[Any, str]:
    ec2 = local.client("ec2", STAGING)
    vpc = ec2.create_vpc(CidrBlock="10.20.0.0/16")["Vpc"]["VpcId"]
    subnet = ec2.create_subnet(VpcId=vpc, CidrBlock="10.20.1.0/24", AvailabilityZone="us-east-1a")[
        "Subnet"
    ]["SubnetId"]
    other = ec2.create_subnet(VpcId=vpc, CidrBlock="10.20.2.0/24", AvailabilityZone="us-east-1b")[
        "Subnet"
    ]["SubnetId"]
    group = ec2.create_security_group(GroupName="tasks", Description="t", VpcId=vpc)["GroupId"]
    elbv2 = local.client("elbv2", STAGING)
    balancer = elbv2.create_load_balancer(Name="acme-staging-api-alb", Subnets=[subnet, other],
                                          SecurityGroups=[group])["LoadBalancers"][0]  # fmt: skip
    target_groups = [
        elbv2.create_target_group(Name=f"acme-staging-api-{color}", Protocol="HTTP", Port=8080,
                                  VpcId=vpc, TargetType="ip", HealthCheckPath="/health",
                                  HealthCheckIntervalSeconds=5,
                                  )["TargetGroups"][0]["TargetGroupArn"]
        for color in ("blue", "green")
    ]  # fmt: skip
    for port, target in ((80, target_groups[0]), (8081, target_groups[1])):  # green: empty
        elbv2.create_listener(LoadBalancerArn=balancer["LoadBalancerArn"], Protocol="HTTP",
                              Port=port, DefaultActions=[{"Type": "forward",
                                                          "TargetGroupArn": target}])  # fmt: skip
    ssm = local.client("ssm", STAGING)
    ssm.put_parameter(Name="/pipeline/staging/api-service/API_KEY", Value=SECRET,
                      Type="SecureString")  # fmt: skip
    local.client("logs", STAGING).create_log_group(logGroupName=LOG_GROUP)
    ecs = local.client("ecs", STAGING)
    ecs.create_cluster(clusterName="acme-staging")
    family = ecs.register_task_definition(
        family="acme-staging-api-service", networkMode="awsvpc",
        requiresCompatibilities=["FARGATE"], cpu="256", memory="512",
        containerDefinitions=[{
            "name": "api-service", "image": image, "essential": True,
            "portMappings": [{"containerPort": 8080, "protocol": "tcp"}],
            "environment": [{"name": "SERVICE_VERSION", "value": "bootstrap"}],
            "logConfiguration": {"logDriver": "awslogs", "options": {
                "awslogs-group": LOG_GROUP, "awslogs-region": "us-east-1",
                "awslogs-stream-prefix": "api-service"}},
            "secrets": [{"name": "API_KEY", "valueFrom":
                         f"arn:aws:ssm:us-east-1:{STAGING}:parameter/pipeline/staging/api-service/API_KEY"}],
        }],
    )["taskDefinition"]["taskDefinitionArn"]  # fmt: skip
    ecs.create_service(
        cluster="acme-staging", serviceName="acme-staging-api-service", taskDefinition=family,
        desiredCount=2, launchType="FARGATE", deploymentController={"type": "CODE_DEPLOY"},
        loadBalancers=[{"targetGroupArn": target_groups[0], "containerName": "api-service",
                        "containerPort": 8080}],
        networkConfiguration={"awsvpcConfiguration": {
            "subnets": [subnet], "securityGroups": [group], "assignPublicIp": "DISABLED"}},
    )  # fmt: skip
    return ecs, "acme-staging"


def running(ecs: Any, cluster: str) -> list[str]:
    arns = ecs.list_tasks(cluster=cluster, desiredStatus="RUNNING")["taskArns"]
    return sorted(arns)


def endpoints(local: Local) -> dict[str, dict[str, str]]:
    served = controls.post(str(local.status.endpoint), "runtime", None)["runtime"]
    return dict(served["ecs-tasks"]["tasks"])


def wait(condition: Any, seconds: float, what: str) -> Any:
    deadline = time.monotonic() + seconds
    while True:
        value = condition()
        if value:
            return value
        assert time.monotonic() < deadline, f"not within {seconds:.0f} s: {what}"
        time.sleep(0.5)


def _events(logs: Any, stream: str) -> list[dict[str, Any]]:
    try:
        found = logs.get_log_events(logGroupName=LOG_GROUP, logStreamName=stream)
    except logs.exceptions.ResourceNotFoundException:
        return []
    return list(found["events"])


def _with_requests(events: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The events once a request's line is among them, else none (wait for it)."""
    return events if any("/health" in e["message"] for e in events) else []


def health(address: str) -> dict[str, Any] | None:
    try:
        with urllib.request.urlopen(f"http://{address}/health", timeout=2) as response:
            return dict(json.loads(response.read()))
    except OSError:
        return None


def test_a_service_runs_its_desired_count_and_a_stopped_task_is_replaced(
    registry_emulator: Local, python_base: str, tmp_path: Path
) -> None:
    local = registry_emulator
    image = push_api_service(local, python_base, tmp_path)
    ecs, cluster = make_service(local, image)

    # Two tasks of the PRIMARY task set, each a container answering on loopback.
    first = wait(lambda: len(endpoints(local)) == 2 and endpoints(local), 90, "two tasks up")
    assert set(first) == set(running(ecs, cluster))
    for ports in first.values():
        address = ports["8080"]
        assert address.startswith("127.0.0.1:")
        body = wait(lambda a=address: health(a), 30, f"{address} answers /health")
        assert body["service"] == "api-service" and body["version"] == "bootstrap"

    # The secret is in the container's environment, resolved from Parameter Store.
    # (this emulator's: another, of other accounts, may run its tasks beside it)
    owner = f"io.deployer.emulator={(local.state_dir / 'emulator-runtime').resolve()}"
    containers = docker(
        "ps", "-q", "--filter", "label=io.deployer.ecs-task", "--filter", f"label={owner}"
    ).stdout.split()
    assert len(containers) == 2
    for container in containers:
        check = docker("exec", container, "sh", "-c", f'test "$API_KEY" = "{SECRET}"')
        assert check.returncode == 0, "the secret did not reach the container's environment"
        args = docker("inspect", "--format", "{{json .Args}} {{json .Path}}", container).stdout
        assert SECRET not in args

    # awslogs: each task's output in its stream of the log group, as the driver names it.
    logs = local.client("logs", STAGING)
    for arn in first:
        stream = f"api-service/api-service/{arn.rsplit('/', 1)[-1]}"
        # The start-up line, then a line per request (shipped on the engine's rounds).
        events = wait(
            lambda s=stream: _with_requests(_events(logs, s)),
            30, f"request log events in {LOG_GROUP} {stream}",
        )  # fmt: skip
        assert any("listening on port 8080" in e["message"] for e in events), events[:3]
        assert not any(SECRET in e["message"] for e in events)

    # Container Insights: the service's task counts.
    cloudwatch = local.client("cloudwatch", STAGING)
    names = {
        m["MetricName"]
        for m in cloudwatch.list_metrics(Namespace="ECS/ContainerInsights")["Metrics"]
        if {"Name": "ServiceName", "Value": "acme-staging-api-service"} in m["Dimensions"]
    }
    assert {"RunningTaskCount", "DesiredTaskCount", "PendingTaskCount"} <= names

    # The load balancer's listeners answer on loopback: port 80 forwards to the blue
    # group, where ECS registered both tasks; 8081's green group is empty (503).
    served = controls.post(str(local.status.endpoint), "runtime", None)["runtime"]
    listeners = {v["port"]: v for v in served["elb-listeners"]["listeners"].values()}
    assert set(listeners) == {80, 8081}
    assert listeners[80]["dns_name"].startswith("acme-staging-api-alb-")
    # A target gets traffic once its first health check passed (every 5 s here).
    wait(lambda: health(listeners[80]["address"]), 30, "the listener answering")
    for _ in range(4):
        answer = health(listeners[80]["address"])
        assert answer is not None and answer["service"] == "api-service"
    try:
        urllib.request.urlopen(f"http://{listeners[8081]['address']}/health", timeout=5)
        raise AssertionError("an empty target group answered")
    except urllib.error.HTTPError as exc:
        assert exc.code == 503

    # Stop one task: STOPPED with its reason; a new ARN replaces it; ECS takes the
    # stopped task out of its target group (it drains: the group's delay is 300 s).
    elbv2 = local.client("elbv2", STAGING)

    def target_states() -> dict[str, str]:
        states = {}
        for group in elbv2.describe_target_groups()["TargetGroups"]:
            found = elbv2.describe_target_health(TargetGroupArn=group["TargetGroupArn"])
            for item in found["TargetHealthDescriptions"]:
                states[item["Target"]["Id"]] = item["TargetHealth"]["State"]
        return states

    (before,) = ecs.describe_tasks(cluster=cluster, tasks=[sorted(first)[0]])["tasks"]
    gone_ip = next(
        d["value"]
        for a in before["attachments"]
        for d in a["details"]
        if d["name"] == "privateIPv4Address"
    )
    assert gone_ip in target_states()
    gone = sorted(first)[0]
    ecs.stop_task(cluster=cluster, task=gone, reason="game day")
    replaced = wait(
        lambda: len(endpoints(local)) == 2 and gone not in endpoints(local) and endpoints(local),
        60, "a replacement task",
    )  # fmt: skip
    assert len(set(replaced) - set(first)) == 1
    [stopped] = ecs.describe_tasks(cluster=cluster, tasks=[gone])["tasks"]
    assert stopped["lastStatus"] == "STOPPED" and stopped["stoppedReason"] == "game day"
    left = docker("ps", "-aq", "--filter", f"label=io.deployer.ecs-task={gone}").stdout
    assert left.strip() == "", "the stopped task's container is still there"
    assert wait(lambda: target_states().get(gone_ip) == "draining", 30, "the target draining")


def test_an_image_that_cannot_be_pulled_stops_the_task(
    registry_emulator: Local, tmp_path: Path
) -> None:
    local = registry_emulator
    ecr = local.client("ecr", DELIVERY)
    uri = ecr.create_repository(repositoryName="acme-api-service")["repository"]["repositoryUri"]
    local.wait_until_resolved(uri.split("/")[0])
    ecs, cluster = make_service(local, f"{uri}:does-not-exist")
    stopped = wait(
        lambda: ecs.list_tasks(cluster=cluster, desiredStatus="STOPPED")["taskArns"],
        60, "a stopped task",
    )  # fmt: skip
    [task] = ecs.describe_tasks(cluster=cluster, tasks=stopped[:1])["tasks"]
    assert task["stoppedReason"].startswith("CannotPullContainerError: "), task["stoppedReason"]
    assert task.get("stopCode") == "TaskFailedToStart"
