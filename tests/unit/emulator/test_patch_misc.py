"""appautoscaling_tags, cloudwatch_composite_alarm, ecs_availability_zone_rebalancing,
iam_aws_managed_policies."""

from __future__ import annotations

import json
import random
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError

from deployer.emulator.patches import iam_aws_managed_policies

from ._helpers import create_role, error_code, status, unique
from .conftest import REGION, Server


def register_target(server: Server, **extra: object) -> str:
    return str(
        server.client("application-autoscaling").register_scalable_target(
            ServiceNamespace="dynamodb",
            ResourceId=f"table/{unique('table')}",
            ScalableDimension="dynamodb:table:ReadCapacityUnits",
            MinCapacity=1,
            MaxCapacity=5,
            **extra,
        )["ScalableTargetARN"]
    )


def test_scalable_target_tags(patched: Server, stock: Server) -> None:
    client = patched.client("application-autoscaling")
    arn = register_target(patched, Tags={"team": "platform"})
    assert client.list_tags_for_resource(ResourceARN=arn)["Tags"] == {"team": "platform"}
    client.tag_resource(ResourceARN=arn, Tags={"env": "test"})
    client.untag_resource(ResourceARN=arn, TagKeys=["team"])
    assert client.list_tags_for_resource(ResourceARN=arn)["Tags"] == {"env": "test"}
    with pytest.raises(ClientError) as excinfo:
        client.list_tags_for_resource(ResourceARN=arn + "x")
    assert error_code(excinfo) == "ResourceNotFoundException"

    stock_arn = register_target(stock)
    with pytest.raises(ClientError) as excinfo:
        stock.client("application-autoscaling").list_tags_for_resource(ResourceARN=stock_arn)
    assert status(excinfo) >= 500


def test_put_composite_alarm(patched: Server, stock: Server) -> None:
    cloudwatch = patched.client("cloudwatch")
    child = unique("child")
    cloudwatch.put_metric_alarm(
        AlarmName=child,
        Namespace="AWS/ECS",
        MetricName="CPUUtilization",
        Statistic="Average",
        Period=60,
        EvaluationPeriods=1,
        Threshold=80,
        ComparisonOperator="GreaterThanThreshold",
    )
    name = unique("composite")
    rule = f"ALARM({child})"
    cloudwatch.put_composite_alarm(
        AlarmName=name,
        AlarmRule=rule,
        AlarmDescription="health",
        AlarmActions=["arn:aws:sns:us-east-1:123456789012:topic"],
        Tags=[{"Key": "team", "Value": "platform"}],
    )
    found = cloudwatch.describe_alarms(AlarmNames=[name], AlarmTypes=["CompositeAlarm"])
    (alarm,) = found["CompositeAlarms"]
    assert alarm["AlarmRule"] == rule
    assert alarm["AlarmDescription"] == "health"
    assert alarm["AlarmActions"] == ["arn:aws:sns:us-east-1:123456789012:topic"]
    assert found["MetricAlarms"] == []
    tags = cloudwatch.list_tags_for_resource(ResourceARN=alarm["AlarmArn"])["Tags"]
    assert tags == [{"Key": "team", "Value": "platform"}]

    with pytest.raises(ClientError) as excinfo:
        stock.client("cloudwatch").put_composite_alarm(AlarmName=unique("c"), AlarmRule=rule)
    assert status(excinfo) >= 500


def create_service(server: Server, **extra: object) -> dict[str, object]:
    ecs = server.client("ecs")
    cluster = unique("cluster")
    ecs.create_cluster(clusterName=cluster)
    task = ecs.register_task_definition(
        family=unique("task"),
        requiresCompatibilities=["FARGATE"],
        networkMode="awsvpc",
        cpu="256",
        memory="512",
        containerDefinitions=[{"name": "app", "image": "nginx", "essential": True}],
    )["taskDefinition"]["taskDefinitionArn"]
    ecs.create_service(
        cluster=cluster,
        serviceName="svc",
        taskDefinition=task,
        desiredCount=1,
        launchType="FARGATE",
        deploymentController={"type": "CODE_DEPLOY"},
        **extra,
    )
    (service,) = ecs.describe_services(cluster=cluster, services=["svc"])["services"]
    return dict(service)


def test_ecs_service_availability_zone_rebalancing(patched: Server, stock: Server) -> None:
    assert create_service(patched)["availabilityZoneRebalancing"] == "DISABLED"
    service = create_service(patched, availabilityZoneRebalancing="ENABLED")
    assert service["availabilityZoneRebalancing"] == "ENABLED"

    assert "availabilityZoneRebalancing" not in create_service(
        stock, availabilityZoneRebalancing="DISABLED"
    )


@pytest.mark.parametrize(
    "policy",
    [
        "arn:aws:iam::aws:policy/service-role/AmazonECSTaskExecutionRolePolicy",
        "arn:aws:iam::aws:policy/AWSCodeDeployRoleForECS",
        "arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole",
    ],
)
def test_aws_managed_policies_attachable(patched: Server, stock: Server, policy: str) -> None:
    iam = patched.client("iam")
    role = create_role(iam, "ecs-tasks.amazonaws.com").rsplit("/", 1)[-1]
    iam.attach_role_policy(RoleName=role, PolicyArn=policy)
    attached = iam.list_attached_role_policies(RoleName=role)["AttachedPolicies"]
    assert [p["PolicyArn"] for p in attached] == [policy]

    stock_iam = stock.client("iam")
    stock_role = create_role(stock_iam, "ecs-tasks.amazonaws.com").rsplit("/", 1)[-1]
    with pytest.raises(ClientError) as excinfo:
        stock_iam.attach_role_policy(RoleName=stock_role, PolicyArn=policy)
    assert error_code(excinfo) == "NoSuchEntity"


POLICY_DOCUMENT = (
    '{"Version": "2012-10-17", "Statement": '
    '[{"Effect": "Allow", "Action": "s3:ListBucket", "Resource": "*"}]}'
)


def iam_in_account(server: Server, account: str) -> Any:
    """An IAM client of ``account``: credentials of a role assumed there, as moto maps them."""
    credentials = server.client("sts").assume_role(
        RoleArn=f"arn:aws:iam::{account}:role/admin", RoleSessionName="test"
    )["Credentials"]
    return boto3.client(
        "iam",
        endpoint_url=server.endpoint,
        region_name=REGION,
        aws_access_key_id=credentials["AccessKeyId"],
        aws_secret_access_key=credentials["SecretAccessKey"],
        aws_session_token=credentials["SessionToken"],
    )


def test_aws_managed_policies_count_attachments_per_account(patched: Server) -> None:
    policy = "arn:aws:iam::aws:policy/ReadOnlyAccess"
    first = iam_in_account(patched, str(random.randrange(10**11, 10**12)))
    second = iam_in_account(patched, str(random.randrange(10**11, 10**12)))
    # A customer managed policy first, in an account whose IAM has read no policy yet:
    # the AWS managed ones appear beside it, not instead of it.
    own = second.create_policy(PolicyName="own", PolicyDocument=POLICY_DOCUMENT)["Policy"]
    assert [p["Arn"] for p in second.list_policies(Scope="Local")["Policies"]] == [own["Arn"]]
    assert len(second.list_policies(Scope="AWS", MaxItems=1000)["Policies"]) == 1000
    for iam in (first, second, first):
        role = create_role(iam, "ecs-tasks.amazonaws.com").rsplit("/", 1)[-1]
        iam.attach_role_policy(RoleName=role, PolicyArn=policy)
    assert first.get_policy(PolicyArn=policy)["Policy"]["AttachmentCount"] == 2
    assert second.get_policy(PolicyArn=policy)["Policy"]["AttachmentCount"] == 1


def test_aws_managed_policies_built_as_moto_builds_them() -> None:
    """The policies built from the parse kept for the process are moto's own, field by field
    (the policy id is random in both); this builds objects only, it patches nothing."""
    from moto.iam.aws_managed_policies import aws_managed_policies_data
    from moto.iam.models import AWSManagedPolicy

    def fields(policy: Any) -> tuple[Any, ...]:
        (version,) = policy.versions
        return (
            policy.arn,
            policy.name,
            policy.account_id,
            policy.path,
            policy.description,
            policy.default_version_id,
            policy.next_version_num,
            policy.attachment_count,
            policy.create_date,
            policy.update_date,
            (version.policy_arn, version.document, version.is_default, version.version_id),
            version.create_date,
        )

    account = "210987654321"
    built = iam_aws_managed_policies.build(account, "aws-cn")
    mine = [fields(p) for p in built]
    moto = [
        fields(AWSManagedPolicy.from_data(name, account, "aws-cn", data))
        for name, data in json.loads(aws_managed_policies_data).items()
    ]
    assert len(mine) > 1000 and mine == moto
    assert all(p.arn.startswith("arn:aws-cn:iam::aws:policy/") for p in built)
    again = iam_aws_managed_policies.build(account, "aws-cn")
    assert not {id(p) for p in built} & {id(p) for p in again}
