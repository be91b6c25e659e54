"""Small builders shared by the patch tests."""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from typing import Any

import pytest
from botocore.exceptions import ClientError


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def trust_policy(*services: str) -> str:
    principal: Any = list(services) if len(services) > 1 else services[0]
    return json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {"Effect": "Allow", "Principal": {"Service": principal}, "Action": "sts:AssumeRole"}
            ],
        }
    )


def create_role(iam: Any, *services: str) -> str:
    name = unique("role")
    return str(
        iam.create_role(RoleName=name, AssumeRolePolicyDocument=trust_policy(*services))["Role"][
            "Arn"
        ]
    )


#: AWSCodeDeployRoleForECS (AWS managed policy, v3) as an inline policy: what CodeDeploy's
#: service role is allowed in an ECS blue/green deployment.
CODEDEPLOY_FOR_ECS = {
    "Version": "2012-10-17",
    "Statement": [
        {
            "Sid": "BlueGreen",
            "Effect": "Allow",
            "Action": [
                "ecs:DescribeServices",
                "ecs:CreateTaskSet",
                "ecs:UpdateServicePrimaryTaskSet",
                "ecs:DeleteTaskSet",
                "elasticloadbalancing:DescribeTargetGroups",
                "elasticloadbalancing:DescribeListeners",
                "elasticloadbalancing:ModifyListener",
                "elasticloadbalancing:DescribeRules",
                "elasticloadbalancing:ModifyRule",
                "lambda:InvokeFunction",
                "cloudwatch:DescribeAlarms",
                "sns:Publish",
                "s3:GetObject",
                "s3:GetObjectVersion",
            ],
            "Resource": "*",
        },
        {
            "Sid": "PassTaskRoles",
            "Effect": "Allow",
            "Action": "iam:PassRole",
            "Resource": "*",
            "Condition": {"StringLike": {"iam:PassedToService": ["ecs-tasks.amazonaws.com"]}},
        },
    ],
}


def codedeploy_role(iam: Any) -> str:
    """A CodeDeploy service role allowed what AWSCodeDeployRoleForECS allows."""
    arn = create_role(iam, "codedeploy.amazonaws.com")
    iam.put_role_policy(
        RoleName=arn.rsplit("/", 1)[-1],
        PolicyName="ecs-blue-green",
        PolicyDocument=json.dumps(CODEDEPLOY_FOR_ECS),
    )
    return arn


def action(name: str, category: str, provider: str, **extra: Any) -> dict[str, Any]:
    """A CodePipeline action declaration of an AWS-owned provider, version 1."""
    return {
        "name": name,
        "actionTypeId": {
            "category": category,
            "owner": "AWS",
            "provider": provider,
            "version": "1",
        },
        **extra,
    }


def pipeline_definition(name: str, role_arn: str) -> dict[str, Any]:

    return {
        "name": name,
        "roleArn": role_arn,
        "artifactStore": {"type": "S3", "location": "artifacts-bucket"},
        "stages": [
            {
                "name": "Source",
                "actions": [
                    action(
                        "Source",
                        "Source",
                        "CodeCommit",
                        outputArtifacts=[{"name": "source"}],
                        configuration={"RepositoryName": "repo", "BranchName": "main"},
                    )
                ],
            },
            {
                "name": "Build",
                "actions": [
                    action(
                        "Build",
                        "Build",
                        "CodeBuild",
                        inputArtifacts=[{"name": "source"}],
                        configuration={"ProjectName": "build"},
                    )
                ],
            },
        ],
    }


def error_code(excinfo: pytest.ExceptionInfo[ClientError]) -> str:
    return str(excinfo.value.response["Error"]["Code"])


def status(excinfo: pytest.ExceptionInfo[ClientError]) -> int:
    return int(excinfo.value.response["ResponseMetadata"]["HTTPStatusCode"])


@dataclass
class BlueGreen:
    """An ECS service on the CODE_DEPLOY controller behind blue/green target groups."""

    cluster: str
    service: str
    task_definition: str
    blue: str
    green: str
    production_listener: str
    test_listener: str
    subnet: str
    security_group: str
    application: str
    group: str

    @property
    def network(self) -> dict[str, Any]:
        return {
            "awsvpcConfiguration": {
                "subnets": [self.subnet],
                "securityGroups": [self.security_group],
                "assignPublicIp": "DISABLED",
            }
        }

    def load_balancer(self, target_group: str) -> dict[str, Any]:
        return {"targetGroupArn": target_group, "containerName": "app", "containerPort": 8080}


def register_task_definition(ecs: Any, family: str, *, container_memory: bool = False) -> str:
    """A Fargate awsvpc task definition sized at task level, like the project's."""
    container: dict[str, Any] = {
        "name": "app",
        "image": "example/app:1",
        "essential": True,
        "portMappings": [{"containerPort": 8080, "hostPort": 8080, "protocol": "tcp"}],
    }
    if container_memory:
        container["memory"] = 512
    return str(
        ecs.register_task_definition(
            family=family,
            requiresCompatibilities=["FARGATE"],
            networkMode="awsvpc",
            cpu="256",
            memory="512",
            containerDefinitions=[container],
        )["taskDefinition"]["taskDefinitionArn"]
    )


def blue_green(
    server: Any,
    *,
    dns_hostnames: bool = False,
    container_memory: bool = False,
    alarms: list[str] | None = None,
) -> BlueGreen:
    """Build what the runtime stack builds for one microservice, with unique names."""
    ec2, elb, ecs = server.client("ec2"), server.client("elbv2"), server.client("ecs")
    vpc = ec2.create_vpc(CidrBlock="10.9.0.0/16")["Vpc"]["VpcId"]
    if dns_hostnames:
        ec2.modify_vpc_attribute(VpcId=vpc, EnableDnsHostnames={"Value": True})
    subnets = [
        ec2.create_subnet(VpcId=vpc, CidrBlock=f"10.9.{n}.0/24", AvailabilityZone=f"us-east-1{z}")[
            "Subnet"
        ]["SubnetId"]
        for n, z in ((1, "a"), (2, "b"))
    ]
    sg = ec2.create_security_group(GroupName=unique("sg"), Description="tasks", VpcId=vpc)[
        "GroupId"
    ]
    alb = elb.create_load_balancer(Name=unique("alb"), Subnets=subnets, SecurityGroups=[sg])[
        "LoadBalancers"
    ][0]["LoadBalancerArn"]
    names = {color: unique(color) for color in ("blue", "green")}
    groups = {
        color: elb.create_target_group(
            Name=name, Protocol="HTTP", Port=8080, VpcId=vpc, TargetType="ip"
        )["TargetGroups"][0]["TargetGroupArn"]
        for color, name in names.items()
    }

    def listener(port: int, color: str) -> str:
        return str(
            elb.create_listener(
                LoadBalancerArn=alb,
                Protocol="HTTP",
                Port=port,
                DefaultActions=[{"Type": "forward", "TargetGroupArn": groups[color]}],
            )["Listeners"][0]["ListenerArn"]
        )

    production, test = listener(80, "blue"), listener(8080, "green")
    cluster = unique("cluster")
    ecs.create_cluster(clusterName=cluster)
    family = unique("family")
    task_definition = register_task_definition(ecs, family, container_memory=container_memory)
    service = unique("service")
    ecs.create_service(
        cluster=cluster,
        serviceName=service,
        taskDefinition=task_definition,
        desiredCount=2,
        launchType="FARGATE",
        deploymentController={"type": "CODE_DEPLOY"},
        loadBalancers=[
            {"targetGroupArn": groups["blue"], "containerName": "app", "containerPort": 8080}
        ],
        networkConfiguration={
            "awsvpcConfiguration": {
                "subnets": subnets[:1],
                "securityGroups": [sg],
                "assignPublicIp": "DISABLED",
            }
        },
    )
    codedeploy = server.client("codedeploy")
    application, group = unique("app"), unique("group")
    codedeploy.create_application(applicationName=application, computePlatform="ECS")
    extra: dict[str, Any] = {}
    if alarms:
        extra["alarmConfiguration"] = {
            "enabled": True,
            "alarms": [{"name": name} for name in alarms],
        }
    codedeploy.create_deployment_group(
        applicationName=application,
        deploymentGroupName=group,
        serviceRoleArn=codedeploy_role(server.client("iam")),
        deploymentStyle={
            "deploymentType": "BLUE_GREEN",
            "deploymentOption": "WITH_TRAFFIC_CONTROL",
        },
        ecsServices=[{"serviceName": service, "clusterName": cluster}],
        autoRollbackConfiguration={
            "enabled": True,
            "events": ["DEPLOYMENT_FAILURE", "DEPLOYMENT_STOP_ON_ALARM"],
        },
        loadBalancerInfo={
            "targetGroupPairInfoList": [
                {
                    "targetGroups": [{"name": names["blue"]}, {"name": names["green"]}],
                    "prodTrafficRoute": {"listenerArns": [production]},
                    "testTrafficRoute": {"listenerArns": [test]},
                }
            ]
        },
        **extra,
    )
    return BlueGreen(
        cluster=cluster,
        service=service,
        task_definition=task_definition,
        blue=groups["blue"],
        green=groups["green"],
        production_listener=production,
        test_listener=test,
        subnet=subnets[0],
        security_group=sg,
        application=application,
        group=group,
    )


def appspec(task_definition: str, hook_arn: str) -> dict[str, Any]:
    """A CreateDeployment revision as the pipeline's CodeDeployToECS action sends it."""
    content = {
        "version": 0.0,
        "Resources": [
            {
                "TargetService": {
                    "Type": "AWS::ECS::Service",
                    "Properties": {
                        "TaskDefinition": task_definition,
                        "LoadBalancerInfo": {"ContainerName": "app", "ContainerPort": 8080},
                    },
                }
            }
        ],
        "Hooks": [{"AfterAllowTestTraffic": hook_arn}, {"AfterAllowTraffic": hook_arn}],
    }
    return {"revisionType": "AppSpecContent", "appSpecContent": {"content": json.dumps(content)}}
