"""The rollback drill without an emulator: the AWS path (botocore Stubber), refusals.

On AWS the drill does not play CodeDeploy: it registers a revision, creates the
deployment, waits for green to take the traffic, breaks it with SetAlarmState and
polls until CodeDeploy has rolled back. The stubs stand in for AWS and check the
calls the drill makes, in order, per service. (The emulator path runs for real in
tests/e2e/drill_checks.py, run by tests/e2e/test_apply_staging.py.)
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import boto3
import pytest
from botocore.stub import ANY, Stubber
from deploy_guard import statuses

from deployer import cli, drill
from deployer.aws import AWS, Target
from deployer.config import load
from deployer.errors import EXIT_USAGE
from deployer.scope import Scope

ROOT = Path(__file__).resolve().parents[2]
ACCOUNT = "333333333333"
REGION = "us-east-1"
PREFIX = "acme-shop-staging"
BLUE = f"arn:aws:elasticloadbalancing:{REGION}:{ACCOUNT}:targetgroup/{PREFIX}-api-blue/1111"
GREEN = f"arn:aws:elasticloadbalancing:{REGION}:{ACCOUNT}:targetgroup/{PREFIX}-api-green/2222"
PROD = f"arn:aws:elasticloadbalancing:{REGION}:{ACCOUNT}:listener/app/{PREFIX}-api-alb/3/80"
TEST = f"arn:aws:elasticloadbalancing:{REGION}:{ACCOUNT}:listener/app/{PREFIX}-api-alb/3/8080"
FAMILY = f"{PREFIX}-api-service"
TD1 = f"arn:aws:ecs:{REGION}:{ACCOUNT}:task-definition/{FAMILY}:1"
TD2 = f"arn:aws:ecs:{REGION}:{ACCOUNT}:task-definition/{FAMILY}:2"
ALARMS = tuple(f"{FAMILY}-{k}" for k in ("running-tasks", "unhealthy-targets", "5xx-rate"))
TOPIC = f"arn:aws:sns:{REGION}:{ACCOUNT}:{PREFIX}-notifications"
QUEUE_URL = f"https://sqs.{REGION}.amazonaws.com/{ACCOUNT}/{PREFIX}-drill-x"
QUEUE_ARN = f"arn:aws:sqs:{REGION}:{ACCOUNT}:{PREFIX}-drill-x"
DEPLOYMENT = "d-ABCDEFGH1"
ROLLBACK = "d-ABCDEFGH2"


def layout() -> drill.Layout:
    return drill.Layout(
        environment="staging",
        region=REGION,
        account_id=ACCOUNT,
        application=f"{PREFIX}-services",
        deployment_group=FAMILY,
        cluster=f"{PREFIX}-cluster",
        service=FAMILY,
        container_name="api-service",
        container_port=8080,
        target_groups={f"{PREFIX}-api-blue": BLUE, f"{PREFIX}-api-green": GREEN},
        production_listener=PROD,
        test_listener=TEST,
        original_target_group=BLUE,
        replacement_target_group=GREEN,
        test_listener_target_group=GREEN,
        alarms=ALARMS,
        task_definition=TD1,
        primary_task_set=f"arn:aws:ecs:{REGION}:{ACCOUNT}:task-set/c/s/ecs-svc/1",
        network_configuration={"awsvpcConfiguration": {"subnets": ["subnet-1"]}},
        launch_type="FARGATE",
        topic_arn=TOPIC,
        guard_arn=f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:{PREFIX}-deploy-guard",
        unhealthy_alarm=f"{FAMILY}-unhealthy-targets",
        name_prefix=PREFIX,
    )


class Stubs:
    """One stubbed client per service: the Clients of the drill's Scope."""

    def __init__(self) -> None:
        self.clients: dict[str, Any] = {}
        self.stubbers: dict[str, Stubber] = {}
        for name in ("codedeploy", "elbv2", "ecs", "cloudwatch", "sns", "sqs"):
            client = boto3.client(
                name,  # type: ignore[call-overload]
                region_name=REGION,
                aws_access_key_id="stub",
                aws_secret_access_key="stub",
            )
            self.clients[name] = client
            self.stubbers[name] = Stubber(client)

    def client(self, service: str, region: str, **_role: Any) -> Any:
        assert region == REGION
        return self.clients[service]

    def scope(self) -> Scope:
        """Staging's scope with these stubs as its clients."""
        config = load(ROOT)
        return Scope(config, config.environment("staging"), REGION, Target(AWS), self)

    def __getitem__(self, name: str) -> Stubber:
        return self.stubbers[name]

    def activate(self) -> None:
        for stubber in self.stubbers.values():
            stubber.activate()

    def assert_done(self) -> None:
        for stubber in self.stubbers.values():
            stubber.assert_no_pending_responses()


def listener(arn: str, target_group: str) -> dict[str, Any]:
    return {
        "Listeners": [
            {
                "ListenerArn": arn,
                "DefaultActions": [{"Type": "forward", "TargetGroupArn": target_group}],
            }
        ]
    }


def deployment(status: str, **extra: Any) -> dict[str, Any]:
    return {"deploymentInfo": {"deploymentId": DEPLOYMENT, "status": status, **extra}}


def expect_start(stubs: Stubs) -> None:
    """Preflight, the drill's queue, the revision and the deployment."""
    stubs["codedeploy"].add_response(
        "list_deployments",
        {"deployments": []},
        {
            "applicationName": f"{PREFIX}-services",
            "deploymentGroupName": FAMILY,
            "includeOnlyStatuses": list(statuses.UNFINISHED),
        },
    )
    stubs["cloudwatch"].add_response(
        "describe_alarms",
        {
            "MetricAlarms": [
                {"AlarmName": name, "StateValue": "OK", "StateReason": "fine"} for name in ALARMS
            ]
        },
        {"AlarmNames": list(ALARMS)},
    )
    stubs["sqs"].add_response("create_queue", {"QueueUrl": QUEUE_URL}, None)
    stubs["sqs"].add_response("get_queue_attributes", {"Attributes": {"QueueArn": QUEUE_ARN}}, None)
    stubs["sqs"].add_response("set_queue_attributes", {}, None)
    stubs["sns"].add_response(
        "subscribe",
        {"SubscriptionArn": f"{TOPIC}:sub-1"},
        {
            "TopicArn": TOPIC,
            "Protocol": "sqs",
            "Endpoint": QUEUE_ARN,
            "ReturnSubscriptionArn": True,
        },
    )
    stubs["ecs"].add_response(
        "describe_task_definition",
        {
            "taskDefinition": {
                "taskDefinitionArn": TD1,
                "family": FAMILY,
                "containerDefinitions": [{"name": "api-service", "image": "repo:1"}],
                "networkMode": "awsvpc",
                "requiresCompatibilities": ["FARGATE"],
                "cpu": "256",
                "memory": "512",
            }
        },
        {"taskDefinition": TD1, "include": ["TAGS"]},
    )
    stubs["ecs"].add_response(
        "register_task_definition",
        {"taskDefinition": {"taskDefinitionArn": TD2, "family": FAMILY}},
        {
            "family": FAMILY,
            "tags": ANY,
            "containerDefinitions": [
                {
                    "name": "api-service",
                    "image": "repo:1",
                    "environment": [{"name": "SERVICE_VERSION", "value": ANY}],
                }
            ],
            "networkMode": "awsvpc",
            "requiresCompatibilities": ["FARGATE"],
            "cpu": "256",
            "memory": "512",
        },
    )
    stubs["codedeploy"].add_response(
        "create_deployment",
        {"deploymentId": DEPLOYMENT},
        {
            "applicationName": f"{PREFIX}-services",
            "deploymentGroupName": FAMILY,
            "revision": ANY,
            "description": ANY,
        },
    )


def expect_clean_up(stubs: Stubs) -> None:
    for name in ALARMS:
        stubs["cloudwatch"].add_response(
            "set_alarm_state",
            {},
            {"AlarmName": name, "StateValue": "OK", "StateReason": ANY},
        )
    stubs["ecs"].add_response("deregister_task_definition", {}, {"taskDefinition": TD2})
    stubs["ecs"].add_response("delete_task_definitions", {}, {"taskDefinitions": [TD2]})
    stubs["sns"].add_response("unsubscribe", {}, {"SubscriptionArn": f"{TOPIC}:sub-1"})
    stubs["sqs"].add_response("delete_queue", {}, {"QueueUrl": QUEUE_URL})


class Clock:
    def __init__(self) -> None:
        self.now = 1_700_000_000.0
        self.slept = 0.0

    def __call__(self) -> float:
        self.now += 0.25
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept += seconds
        self.now += seconds


@pytest.fixture
def stubs() -> Iterator[Stubs]:
    made = Stubs()
    yield made


def test_aws_drill_breaks_green_and_waits_for_codedeploys_rollback(stubs: Stubs) -> None:
    expect_start(stubs)
    # Green takes production traffic on the second look.
    codedeploy, elbv2 = stubs["codedeploy"], stubs["elbv2"]
    codedeploy.add_response(
        "get_deployment", deployment("InProgress"), {"deploymentId": DEPLOYMENT}
    )
    elbv2.add_response("describe_listeners", listener(PROD, BLUE), {"ListenerArns": [PROD]})
    codedeploy.add_response(
        "get_deployment", deployment("InProgress"), {"deploymentId": DEPLOYMENT}
    )
    elbv2.add_response("describe_listeners", listener(PROD, GREEN), {"ListenerArns": [PROD]})
    # The breach: the unhealthy-targets alarm goes to ALARM.
    stubs["cloudwatch"].add_response(
        "set_alarm_state",
        {},
        {"AlarmName": ALARMS[1], "StateValue": "ALARM", "StateReason": ANY},
    )
    # CodeDeploy stops the deployment, then moves production back to blue.
    codedeploy.add_response(
        "get_deployment", deployment("InProgress"), {"deploymentId": DEPLOYMENT}
    )
    stopped = deployment(
        "Stopped",
        errorInformation={"code": "ALARM_ACTIVE", "message": "alarm"},
        rollbackInfo={"rollbackDeploymentId": ROLLBACK, "rollbackMessage": "rolling back"},
    )
    codedeploy.add_response("get_deployment", stopped, {"deploymentId": DEPLOYMENT})
    elbv2.add_response("describe_listeners", listener(PROD, GREEN), {"ListenerArns": [PROD]})
    elbv2.add_response("describe_listeners", listener(PROD, BLUE), {"ListenerArns": [PROD]})
    # The rollback deployment finishes; the service is back on its task definition.
    codedeploy.add_response(
        "get_deployment",
        {"deploymentInfo": {"deploymentId": ROLLBACK, "status": "Succeeded"}},
        {"deploymentId": ROLLBACK},
    )
    task_set = layout().primary_task_set
    service = {
        "services": [
            {"serviceName": FAMILY, "taskDefinition": TD1, "taskSets": [{"taskSetArn": task_set}]}
        ]
    }
    stubs["ecs"].add_response("describe_services", service, None)
    # What the drill verifies at the end.
    elbv2.add_response("describe_listeners", listener(PROD, BLUE), {"ListenerArns": [PROD]})
    elbv2.add_response("describe_listeners", listener(TEST, GREEN), {"ListenerArns": [TEST]})
    stubs["ecs"].add_response("describe_services", service, None)
    codedeploy.add_response("get_deployment", stopped, {"deploymentId": DEPLOYMENT})
    note = {
        "Type": "Notification",
        "Subject": f"Rollback: {FAMILY} deployment {DEPLOYMENT}",
        "Message": json.dumps({"event": "rollback", "deployment_id": DEPLOYMENT}),
    }
    stubs["sqs"].add_response(
        "receive_message",
        {"Messages": [{"MessageId": "m-1", "Body": json.dumps(note)}]},
        None,
    )
    expect_clean_up(stubs)
    stubs.activate()

    clock = Clock()
    result = drill.LiveDrill(
        layout(),
        stubs.scope(),
        scenario=drill.AFTER_ALLOW_TRAFFIC,
        mode=drill.ALARM_STATE,
        clock=clock,
        sleep=clock.sleep,
        poll_seconds=5,
    ).run()

    stubs.assert_done()
    assert result.ok, result.problems
    assert result.deployment_id == DEPLOYMENT
    assert result.rollback_deployment_id == ROLLBACK
    assert result.verified == {
        "production_on_original": True,
        "test_listener_restored": True,
        "previous_task_definition": True,
        "green_task_set_removed": True,
        "deployment_rolled_back": True,
        "notification_published": True,
    }
    assert result.breach_to_restored is not None and result.breach_to_restored > 0
    assert clock.slept == 15  # polled: green serving once, stopped once, restored once
    document = result.to_json()
    assert document["target"] == "aws"
    assert document["codedeploy"] == "AWS CodeDeploy"
    assert document["notification"]["message"]["deployment_id"] == DEPLOYMENT
    steps = [s["step"] for s in document["steps"]]
    assert (
        steps.index("breach") < steps.index("deployment stopped") < steps.index("traffic restored")
    )
    assert steps[-1] == "clean up"


def test_aws_drill_reports_a_release_that_was_not_rolled_back(stubs: Stubs) -> None:
    expect_start(stubs)
    codedeploy = stubs["codedeploy"]
    codedeploy.add_response("get_deployment", deployment("InProgress"), None)
    stubs["elbv2"].add_response("describe_listeners", listener(PROD, GREEN), None)
    stubs["cloudwatch"].add_response("set_alarm_state", {}, None)
    codedeploy.add_response("get_deployment", deployment("Succeeded"), None)
    expect_clean_up(stubs)
    stubs.activate()

    clock = Clock()
    result = drill.LiveDrill(
        layout(),
        stubs.scope(),
        scenario=drill.AFTER_ALLOW_TRAFFIC,
        mode=drill.ALARM_STATE,
        clock=clock,
        sleep=clock.sleep,
    ).run()

    stubs.assert_done()  # the alarms were restored and the revision deregistered all the same
    assert not result.ok
    assert result.problems == [f"deployment {DEPLOYMENT} Succeeded despite the breach"]
    assert "DRILL FAILED" in result.to_text()


def test_discover_reads_the_deployment_group_like_codedeploy(stubs: Stubs) -> None:
    stubs["codedeploy"].add_response(
        "get_deployment_group",
        {
            "deploymentGroupInfo": {
                "ecsServices": [{"serviceName": FAMILY, "clusterName": f"{PREFIX}-cluster"}],
                "loadBalancerInfo": {
                    "targetGroupPairInfoList": [
                        {
                            "targetGroups": [
                                {"name": f"{PREFIX}-api-blue"},
                                {"name": f"{PREFIX}-api-green"},
                            ],
                            "prodTrafficRoute": {"listenerArns": [PROD]},
                            "testTrafficRoute": {"listenerArns": [TEST]},
                        }
                    ]
                },
                "alarmConfiguration": {"enabled": True, "alarms": [{"name": a} for a in ALARMS]},
            }
        },
        {"applicationName": f"{PREFIX}-services", "deploymentGroupName": FAMILY},
    )
    elbv2 = stubs["elbv2"]
    elbv2.add_response(
        "describe_target_groups",
        {
            "TargetGroups": [
                {"TargetGroupName": f"{PREFIX}-api-blue", "TargetGroupArn": BLUE},
                {"TargetGroupName": f"{PREFIX}-api-green", "TargetGroupArn": GREEN},
            ]
        },
        {"Names": [f"{PREFIX}-api-blue", f"{PREFIX}-api-green"]},
    )
    # After an earlier successful release, green serves production: blue is the new green.
    elbv2.add_response("describe_listeners", listener(PROD, GREEN), {"ListenerArns": [PROD]})
    elbv2.add_response("describe_listeners", listener(TEST, GREEN), {"ListenerArns": [TEST]})
    task_set = f"arn:aws:ecs:{REGION}:{ACCOUNT}:task-set/c/s/ecs-svc/9"
    stubs["ecs"].add_response(
        "describe_services",
        {
            "services": [
                {
                    "serviceName": FAMILY,
                    "taskDefinition": TD2,
                    "launchType": "FARGATE",
                    "loadBalancers": [
                        {
                            "targetGroupArn": GREEN,
                            "containerName": "api-service",
                            "containerPort": 8080,
                        }
                    ],
                    "taskSets": [{"taskSetArn": task_set, "status": "PRIMARY"}],
                }
            ]
        },
        {"cluster": f"{PREFIX}-cluster", "services": [FAMILY]},
    )
    stubs.activate()

    found = drill.discover(stubs.scope(), "api-service")

    stubs.assert_done()
    assert (found.original_target_group, found.replacement_target_group) == (GREEN, BLUE)
    assert found.test_listener_target_group == GREEN
    assert (found.task_definition, found.primary_task_set) == (TD2, task_set)
    assert found.breach_alarm == f"{FAMILY}-unhealthy-targets"
    assert found.topic_arn == TOPIC
    assert found.guard_arn.endswith(f":function:{PREFIX}-deploy-guard")


def test_drill_refuses_aws_without_i_know(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = cli.main(["--target", "aws", "--json", "drill", "rollback", "staging"])
    assert code == EXIT_USAGE
    document = json.loads(capsys.readouterr().out)
    assert "refusing to run a rollback drill on AWS" in document["error"]
    assert "--i-know" in document["hint"]
    # Nothing was started for it: no emulator record in the state folder.
    assert not (project / ".deployer" / "emulator.json").exists()


def test_drill_refuses_the_delivery_environment(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli.main(["drill", "rollback", "delivery"]) == EXIT_USAGE
    assert "deploys no services" in capsys.readouterr().err


def test_drill_help_has_an_example(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as info:
        cli.main(["drill", "--help"])
    assert info.value.code == 0
    out = capsys.readouterr().out
    assert "example:" in out and "deployer drill rollback staging" in out
    assert "refuses there" in out


def test_local_drill_without_the_runtime_refuses_before_any_call(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """An emulator without its runtime deploys nothing: the drill says so and touches nothing."""
    asked: list[str] = []

    def engine_runs(endpoint: str) -> bool:
        asked.append(endpoint)
        return False

    monkeypatch.setattr(drill, "engine_runs", engine_runs)

    def no_client(name: str) -> Any:
        raise AssertionError(f"the drill called {name} on an emulator that cannot deploy")

    scope = SimpleNamespace(
        target=SimpleNamespace(is_local=True, endpoint="http://127.0.0.1:4566"),
        client=no_client,
    )
    with pytest.raises(drill.DrillError) as info:
        drill.rollback(scope, "api-service", drill.AFTER_ALLOW_TRAFFIC)  # type: ignore[arg-type]
    assert asked == ["http://127.0.0.1:4566"]
    assert "runs without its runtime" in str(info.value)
    assert "no CodeDeploy engine deploys there" in str(info.value)
    assert "--no-runtime" in (info.value.hint or "")
