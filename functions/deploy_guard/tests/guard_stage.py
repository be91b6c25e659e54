"""One service of one environment, in moto (in process), for the deploy guard's tests.

``make_stage()`` builds what the runtime stack builds for a microservice: a load balancer
with a production listener (blue) and a test listener (green), the two target groups, an ECS
service on the CODE_DEPLOY controller, its three alarms, the CodeDeploy application and
blue/green deployment group naming all of them, a deployment, and the notifications topic
(read back through an SQS queue subscribed to it).

moto 5.2.5 implements every read the guard makes and SNS Publish, but not CodeDeploy
PutLifecycleEventHookExecutionStatus or StopDeployment (it raises NotImplementedError):
those two always go to a botocore ``Stubber``, every other call to moto. A test that needs
an answer moto cannot give (an unhealthy target, an API error) routes that one operation to
the Stubber too, with ``stage.stub(service, operation)``, and says so in its docstring.
"""

from __future__ import annotations

import json
from typing import Any
from unittest import mock

import boto3
from botocore.stub import Stubber
from deploy_guard.handler import Guard
from moto.codedeploy.models import codedeploy_backends

REGION = "us-east-1"
ACCOUNT = "123456789012"
PREFIX = "acme-shop-staging"
APPLICATION = f"{PREFIX}-services"
SERVICE = f"{PREFIX}-api-service"
GROUP = f"{PREFIX}-api-service"
CLUSTER = f"{PREFIX}-cluster"
BLUE = f"{PREFIX}-api-blue"
GREEN = f"{PREFIX}-api-green"
ALARMS = [
    f"{PREFIX}-api-service-running-tasks",
    f"{PREFIX}-api-service-unhealthy-targets",
    f"{PREFIX}-api-service-5xx-rate",
]
HOOK_ID = "a1b2c3d4-hook-execution"
#: Notifications are stamped with this time (the guard's injected clock).
NOW = 1_767_225_600.0  # 2026-01-01T00:00:00Z

#: CodeDeploy operations moto 5.2.5 lacks: always answered by the Stubber.
UNIMPLEMENTED = ("put_lifecycle_event_hook_execution_status", "stop_deployment")


def any_client(service: str) -> Any:
    """A boto3 client for a service named at run time."""
    return boto3.client(service, region_name=REGION)  # type: ignore[call-overload]


class Routed:
    """A boto3 client whose listed operations go to a Stubber, every other one to moto."""

    def __init__(self, service: str, operations: tuple[str, ...] = ()) -> None:
        self.moto = any_client(service)
        self.twin = any_client(service)
        self.stubber = Stubber(self.twin)
        self.stubber.activate()
        self.operations = set(operations)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.twin if name in self.operations else self.moto, name)


class Stage:
    """The service's resources in moto, the clients the guard gets, what was published."""

    def __init__(self, *, green_targets: int = 2, running: int = 2, desired: int = 2) -> None:
        self._routed: dict[str, Routed] = {"codedeploy": Routed("codedeploy", UNIMPLEMENTED)}
        ec2 = boto3.client("ec2", region_name=REGION)
        vpc = ec2.create_vpc(CidrBlock="10.40.0.0/16")["Vpc"]["VpcId"]
        subnets = [
            ec2.create_subnet(VpcId=vpc, CidrBlock=f"10.40.{i}.0/24", AvailabilityZone=zone)[
                "Subnet"
            ]["SubnetId"]
            for i, zone in enumerate(("us-east-1a", "us-east-1b"))
        ]

        self.elbv2 = boto3.client("elbv2", region_name=REGION)
        lb = self.elbv2.create_load_balancer(Name=f"{PREFIX}-api-alb", Subnets=subnets)
        lb_arn = lb["LoadBalancers"][0]["LoadBalancerArn"]
        self.target_group_arn = {
            name: self.elbv2.create_target_group(
                Name=name, Protocol="HTTP", Port=8080, VpcId=vpc, TargetType="ip"
            )["TargetGroups"][0]["TargetGroupArn"]
            for name in (BLUE, GREEN)
        }
        self.listener_arn = {
            role: self.elbv2.create_listener(
                LoadBalancerArn=lb_arn,
                Protocol="HTTP",
                Port=port,
                DefaultActions=[{"Type": "forward", "TargetGroupArn": self.target_group_arn[tg]}],
            )["Listeners"][0]["ListenerArn"]
            for role, port, tg in (("production", 80, BLUE), ("test", 8080, GREEN))
        }
        self.register(GREEN, green_targets)

        # moto sets a new service's runningCount from MOTO_ECS_SERVICE_RUNNING.
        ecs = boto3.client("ecs", region_name=REGION)
        ecs.create_cluster(clusterName=CLUSTER)
        family = ecs.register_task_definition(
            family=SERVICE,
            requiresCompatibilities=["FARGATE"],
            networkMode="awsvpc",
            cpu="256",
            memory="512",
            containerDefinitions=[{"name": "api-service", "image": "api:1", "essential": True}],
        )["taskDefinition"]["taskDefinitionArn"]
        with mock.patch.dict("os.environ", {"MOTO_ECS_SERVICE_RUNNING": str(running)}):
            ecs.create_service(
                cluster=CLUSTER,
                serviceName=SERVICE,
                taskDefinition=family,
                desiredCount=desired,
                launchType="FARGATE",
                deploymentController={"type": "CODE_DEPLOY"},
            )

        self.cloudwatch = boto3.client("cloudwatch", region_name=REGION)
        for name in ALARMS:
            self.cloudwatch.put_metric_alarm(
                AlarmName=name,
                Namespace="ECS/ContainerInsights",
                MetricName="RunningTaskCount",
                Statistic="Average",
                Period=60,
                EvaluationPeriods=1,
                Threshold=1,
                ComparisonOperator="LessThanThreshold",
            )
            self.set_alarm(name, "OK", "Threshold Crossed: no datapoint breaching")

        self.codedeploy = boto3.client("codedeploy", region_name=REGION)
        self.codedeploy.create_application(applicationName=APPLICATION, computePlatform="ECS")
        self.codedeploy.create_deployment_group(
            applicationName=APPLICATION,
            deploymentGroupName=GROUP,
            serviceRoleArn=f"arn:aws:iam::{ACCOUNT}:role/{PREFIX}-codedeploy-{REGION}",
            deploymentConfigName="CodeDeployDefault.ECSAllAtOnce",
            deploymentStyle={
                "deploymentType": "BLUE_GREEN",
                "deploymentOption": "WITH_TRAFFIC_CONTROL",
            },
            ecsServices=[{"clusterName": CLUSTER, "serviceName": SERVICE}],
            loadBalancerInfo={
                "targetGroupPairInfoList": [
                    {
                        "targetGroups": [{"name": BLUE}, {"name": GREEN}],
                        "prodTrafficRoute": {"listenerArns": [self.listener_arn["production"]]},
                        "testTrafficRoute": {"listenerArns": [self.listener_arn["test"]]},
                    }
                ]
            },
            alarmConfiguration={"enabled": True, "alarms": [{"name": n} for n in ALARMS]},
            autoRollbackConfiguration={
                "enabled": True,
                "events": ["DEPLOYMENT_FAILURE", "DEPLOYMENT_STOP_ON_ALARM"],
            },
        )
        self.deployment_id = self.deploy()

        sns = boto3.client("sns", region_name=REGION)
        self.topic_arn = sns.create_topic(Name=f"{PREFIX}-notifications")["TopicArn"]
        self.sqs = boto3.client("sqs", region_name=REGION)
        self.queue_url = self.sqs.create_queue(QueueName="notifications-inbox")["QueueUrl"]
        queue_arn = self.sqs.get_queue_attributes(
            QueueUrl=self.queue_url, AttributeNames=["QueueArn"]
        )["Attributes"]["QueueArn"]
        sns.subscribe(TopicArn=self.topic_arn, Protocol="sqs", Endpoint=queue_arn)

    # --- Arranging ---------------------------------------------------------------

    def register(self, target_group: str, count: int) -> None:
        if count:
            self.elbv2.register_targets(
                TargetGroupArn=self.target_group_arn[target_group],
                Targets=[{"Id": f"10.40.{i % 2}.{10 + i}", "Port": 8080} for i in range(count)],
            )

    def set_alarm(self, name: str, state: str, reason: str) -> None:
        self.cloudwatch.set_alarm_state(AlarmName=name, StateValue=state, StateReason=reason)

    def deploy(self, group: str = GROUP) -> str:
        revision = {
            "revisionType": "AppSpecContent",
            "appSpecContent": {"content": '{"version": 0.0, "Resources": []}'},
        }
        response = self.codedeploy.create_deployment(
            applicationName=APPLICATION, deploymentGroupName=group, revision=revision
        )
        return str(response["deploymentId"])

    def set_deployment(self, deployment_id: str, *, status: str, creator: str = "user") -> None:
        """moto never advances a deployment (it stays Created): set what CodeDeploy would."""
        deployment = codedeploy_backends[ACCOUNT][REGION].deployments[deployment_id]
        deployment.status = status
        deployment.creator = creator

    def stub(self, service: str, *operations: str) -> Stubber:
        """Route ``operations`` of ``service`` to a Stubber (before the guard first calls it)."""
        routed = self._routed.setdefault(service, Routed(service))
        routed.operations.update(operations)
        return routed.stubber

    # --- What the guard gets, and what it did -----------------------------------

    def client(self, service: str) -> Any:
        return self._routed.get(service) or any_client(service)

    def guard(self, *, application: str = APPLICATION) -> Guard:
        return Guard(self.client, application=application, topic_arn=self.topic_arn, clock=clock)

    def expect_report(self, status: str, deployment_id: str | None = None) -> None:
        self.stub("codedeploy").add_response(
            "put_lifecycle_event_hook_execution_status",
            {"lifecycleEventHookExecutionId": HOOK_ID},
            {
                "deploymentId": deployment_id or self.deployment_id,
                "lifecycleEventHookExecutionId": HOOK_ID,
                "status": status,
            },
        )

    def hook_event(self, deployment_id: str | None = None) -> dict[str, str]:
        return {
            "DeploymentId": deployment_id or self.deployment_id,
            "LifecycleEventHookExecutionId": HOOK_ID,
        }

    def notifications(self) -> list[dict[str, Any]]:
        """Everything published so far: ``{"subject": ..., "message": <parsed JSON>}``."""
        found: list[dict[str, Any]] = []
        while True:
            batch = self.sqs.receive_message(QueueUrl=self.queue_url, MaxNumberOfMessages=10)
            messages = batch.get("Messages", [])
            if not messages:
                return found
            for raw in messages:
                envelope = json.loads(raw["Body"])
                found.append(
                    {"subject": envelope.get("Subject"), "message": json.loads(envelope["Message"])}
                )
                self.sqs.delete_message(QueueUrl=self.queue_url, ReceiptHandle=raw["ReceiptHandle"])

    def verify(self) -> None:
        """Every stubbed call the test queued was made."""
        for routed in self._routed.values():
            routed.stubber.assert_no_pending_responses()


def clock() -> float:
    return NOW


def alarm_event(name: str, state: str = "ALARM", reason: str = "") -> dict[str, Any]:
    """An EventBridge "CloudWatch Alarm State Change" event, as AWS sends it."""
    reason = reason or (
        "Threshold Crossed: 1 out of the last 1 datapoints [12.5 (01/01/26 00:00:00)] was "
        "greater than the threshold (5.0)."
    )
    return {
        "version": "0",
        "id": "c4c1c1c9-6542-e61b-6ef0-8c4d36933a92",
        "detail-type": "CloudWatch Alarm State Change",
        "source": "aws.cloudwatch",
        "account": ACCOUNT,
        "time": "2026-01-01T00:00:00Z",
        "region": REGION,
        "resources": [f"arn:aws:cloudwatch:{REGION}:{ACCOUNT}:alarm:{name}"],
        "detail": {
            "alarmName": name,
            "state": {
                "value": state,
                "reason": reason,
                "reasonData": '{"version":"1.0","queryDate":"2026-01-01T00:00:00.000+0000"}',
                "timestamp": "2026-01-01T00:00:00.000+0000",
            },
            "previousState": {
                "value": "OK",
                "reason": "Threshold Crossed",
                "timestamp": "2025-12-31T23:55:00.000+0000",
            },
            "configuration": {"description": f"{name} (test)"},
        },
    }
