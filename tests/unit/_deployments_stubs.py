"""Stubbed AWS for `deployer deployments` and `deployer rollback` (botocore Stubber).

Staging's api-service: its deployment group, service and a history of
deployments built by the tests, each stub checking the request it answers.
"""

from __future__ import annotations

import io
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import boto3
from botocore.response import StreamingBody
from botocore.stub import Stubber
from deploy_guard import statuses

from deployer.aws import AWS, Target
from deployer.config import load
from deployer.scope import Scope

ROOT = Path(__file__).resolve().parents[2]
ACCOUNT = "333333333333"
REGION = "us-east-1"
PREFIX = "acme-shop-staging"
APPLICATION = f"{PREFIX}-services"
GROUP = f"{PREFIX}-api-service"
CLUSTER = f"{PREFIX}-cluster"
FAMILY = GROUP
GUARD = f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:{PREFIX}-deploy-guard"
BLUE = f"arn:aws:elasticloadbalancing:{REGION}:{ACCOUNT}:targetgroup/{PREFIX}-api-blue/1111"
GREEN = f"arn:aws:elasticloadbalancing:{REGION}:{ACCOUNT}:targetgroup/{PREFIX}-api-green/2222"
PROD = f"arn:aws:elasticloadbalancing:{REGION}:{ACCOUNT}:listener/app/{PREFIX}-api-alb/3/80"
TEST = f"arn:aws:elasticloadbalancing:{REGION}:{ACCOUNT}:listener/app/{PREFIX}-api-alb/3/8080"
START = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)


def td(revision: int) -> str:
    return f"arn:aws:ecs:{REGION}:{ACCOUNT}:task-definition/{FAMILY}:{revision}"


def image(revision: int) -> str:
    return f"{ACCOUNT}.dkr.ecr.{REGION}.amazonaws.com/api-service:1.{revision}.0"


def appspec_yaml(task_definition: str) -> str:
    """The pipeline's appspec (environments/stacks/delivery/templates), as CodePipeline
    renders it with the task definition it registered."""
    return (
        "version: 0.0\n"
        "Resources:\n"
        "  - TargetService:\n"
        "      Type: AWS::ECS::Service\n"
        "      Properties:\n"
        f'        TaskDefinition: "{task_definition}"\n'
        "        LoadBalancerInfo:\n"
        '          ContainerName: "api-service"\n'
        "          ContainerPort: 8080\n"
        "Hooks:\n"
        f'  - AfterAllowTestTraffic: "{GUARD}"\n'
        f'  - AfterAllowTraffic: "{GUARD}"\n'
    )


def appspec_json(task_definition: str) -> str:
    return json.dumps(
        {
            "version": 0.0,
            "Resources": [
                {
                    "TargetService": {
                        "Type": "AWS::ECS::Service",
                        "Properties": {"TaskDefinition": task_definition},
                    }
                }
            ],
        }
    )


def content_revision(task_definition: str, *, as_json: bool = False) -> dict[str, Any]:
    text = appspec_json(task_definition) if as_json else appspec_yaml(task_definition)
    return {"revisionType": "AppSpecContent", "appSpecContent": {"content": text}}


def string_revision(task_definition: str) -> dict[str, Any]:
    return {"revisionType": "String", "string": {"content": appspec_json(task_definition)}}


def s3_revision(key: str) -> dict[str, Any]:
    return {
        "revisionType": "S3",
        "s3Location": {"bucket": f"{PREFIX}-artifacts", "key": key, "bundleType": "YAML"},
    }


def info(
    deployment_id: str,
    minutes: int,
    status: str = statuses.SUCCEEDED,
    revision: dict[str, Any] | None = None,
    **extra: Any,
) -> dict[str, Any]:
    """A DeploymentInfo created ``minutes`` after START."""
    created = START + timedelta(minutes=minutes)
    found: dict[str, Any] = {
        "deploymentId": deployment_id,
        "applicationName": APPLICATION,
        "deploymentGroupName": GROUP,
        "status": status,
        "creator": "user",
        "createTime": created,
        **({"revision": revision} if revision else {}),
        **extra,
    }
    if status in statuses.FINISHED:
        found.setdefault("completeTime", created + timedelta(minutes=6))
    return found


class Stubs:
    """One stubbed client per service: the Clients of staging's Scope."""

    def __init__(self) -> None:
        self.clients: dict[str, Any] = {}
        self.stubbers: dict[str, Stubber] = {}
        for name in ("codedeploy", "ecs", "elbv2", "s3"):
            client = boto3.client(
                name,
                region_name=REGION,
                aws_access_key_id="stub",
                aws_secret_access_key="stub",
            )
            self.clients[name] = client
            self.stubbers[name] = Stubber(client)
            self.stubbers[name].activate()

    def client(self, service: str, region: str, **_role: Any) -> Any:
        assert region == REGION
        return self.clients[service]

    def scope(self) -> Scope:
        config = load(ROOT)
        return Scope(config, config.environment("staging"), REGION, Target(AWS), self)

    def __getitem__(self, name: str) -> Stubber:
        return self.stubbers[name]

    def assert_done(self) -> None:
        for stubber in self.stubbers.values():
            stubber.assert_no_pending_responses()

    # -- what the commands read --------------------------------------------------
    def group(self, running: str | None) -> None:
        """GetDeploymentGroup and DescribeServices: the service runs ``running``."""
        self["codedeploy"].add_response(
            "get_deployment_group",
            {
                "deploymentGroupInfo": {
                    "applicationName": APPLICATION,
                    "deploymentGroupName": GROUP,
                    "ecsServices": [{"serviceName": GROUP, "clusterName": CLUSTER}],
                }
            },
            {"applicationName": APPLICATION, "deploymentGroupName": GROUP},
        )
        task_sets = (
            [
                {"taskSetArn": f"{td(0)}-green", "status": "ACTIVE", "taskDefinition": td(99)},
                {"taskSetArn": f"{td(0)}-blue", "status": "PRIMARY", "taskDefinition": running},
            ]
            if running
            else []
        )
        self["ecs"].add_response(
            "describe_services",
            {"services": [{"serviceName": GROUP, "taskSets": task_sets}]},
            {"cluster": CLUSTER, "services": [GROUP]},
        )

    def unfinished(self, *infos: dict[str, Any]) -> None:
        """ListDeployments of the unfinished ones (and BatchGet of them, when any)."""
        self["codedeploy"].add_response(
            "list_deployments",
            {"deployments": [i["deploymentId"] for i in infos]},
            {
                "applicationName": APPLICATION,
                "deploymentGroupName": GROUP,
                "includeOnlyStatuses": list(statuses.UNFINISHED),
            },
        )
        if infos:
            self["codedeploy"].add_response(
                "batch_get_deployments",
                {"deploymentsInfo": list(infos)},
                {"deploymentIds": [i["deploymentId"] for i in infos]},
            )

    def history(self, *infos: dict[str, Any], pages: int = 1) -> None:
        """ListDeployments (in ``pages`` pages, in the order given) and BatchGetDeployments."""
        ids = [i["deploymentId"] for i in infos]
        size = -(-len(ids) // pages) if ids else 1
        chunks = [ids[n : n + size] for n in range(0, len(ids), size)] or [[]]
        for n, chunk in enumerate(chunks):
            request: dict[str, Any] = {"applicationName": APPLICATION, "deploymentGroupName": GROUP}
            if n:
                request["nextToken"] = f"page-{n}"
            answer: dict[str, Any] = {"deployments": chunk}
            if n + 1 < len(chunks):
                answer["nextToken"] = f"page-{n + 1}"
            self["codedeploy"].add_response("list_deployments", answer, request)
        by_id = {i["deploymentId"]: i for i in infos}
        for start in range(0, len(ids), 25):
            batch = ids[start : start + 25]
            self["codedeploy"].add_response(
                "batch_get_deployments",
                {"deploymentsInfo": [by_id[i] for i in batch]},
                {"deploymentIds": batch},
            )

    def task_definition(self, revision: int, status: str = "ACTIVE") -> None:
        arn = td(revision)
        self["ecs"].add_response(
            "describe_task_definition",
            {
                "taskDefinition": {
                    "taskDefinitionArn": arn,
                    "family": FAMILY,
                    "revision": revision,
                    "status": status,
                    "containerDefinitions": [{"name": "api-service", "image": image(revision)}],
                }
            },
            {"taskDefinition": arn},
        )

    def deleted_task_definition(self, revision: int) -> None:
        self["ecs"].add_client_error(
            "describe_task_definition",
            service_error_code="ClientException",
            service_message="Unable to describe task definition.",
            expected_params={"taskDefinition": td(revision)},
        )

    def s3_appspec(self, key: str, text: str) -> None:
        body = text.encode()
        self["s3"].add_response(
            "get_object",
            {"Body": StreamingBody(io.BytesIO(body), len(body)), "ContentLength": len(body)},
            {"Bucket": f"{PREFIX}-artifacts", "Key": key},
        )

    def discover(self, running: str) -> None:
        """What drill.discover reads: the group's pair, listeners and the quiet service."""
        self["codedeploy"].add_response(
            "get_deployment_group",
            {
                "deploymentGroupInfo": {
                    "ecsServices": [{"serviceName": GROUP, "clusterName": CLUSTER}],
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
                }
            },
            {"applicationName": APPLICATION, "deploymentGroupName": GROUP},
        )
        self["elbv2"].add_response(
            "describe_target_groups",
            {
                "TargetGroups": [
                    {"TargetGroupName": f"{PREFIX}-api-blue", "TargetGroupArn": BLUE},
                    {"TargetGroupName": f"{PREFIX}-api-green", "TargetGroupArn": GREEN},
                ]
            },
            None,
        )
        for listener, target_group in ((PROD, BLUE), (TEST, BLUE)):
            self["elbv2"].add_response(
                "describe_listeners",
                {
                    "Listeners": [
                        {
                            "ListenerArn": listener,
                            "DefaultActions": [{"Type": "forward", "TargetGroupArn": target_group}],
                        }
                    ]
                },
                {"ListenerArns": [listener]},
            )
        self["ecs"].add_response(
            "describe_services",
            {
                "services": [
                    {
                        "serviceName": GROUP,
                        "taskDefinition": running,
                        "loadBalancers": [
                            {
                                "targetGroupArn": BLUE,
                                "containerName": "api-service",
                                "containerPort": 8080,
                            }
                        ],
                        "taskSets": [
                            {
                                "taskSetArn": "ts-blue",
                                "status": "PRIMARY",
                                "taskDefinition": running,
                            }
                        ],
                    }
                ]
            },
            {"cluster": CLUSTER, "services": [GROUP]},
        )
