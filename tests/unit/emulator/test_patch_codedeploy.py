"""codedeploy_alarm_configuration, codedeploy_delete, codedeploy_update_deployment_group."""

from __future__ import annotations

from typing import Any

import pytest
from botocore.exceptions import ClientError

from ._helpers import create_role, unique
from .conftest import Server

ALARMS = {"enabled": True, "ignorePollAlarmFailure": False, "alarms": [{"name": "service-5xx"}]}


def create_group(server: Server, **extra: Any) -> tuple[str, str]:
    codedeploy = server.client("codedeploy")
    app, group = unique("app"), unique("group")
    codedeploy.create_application(applicationName=app, computePlatform="ECS")
    codedeploy.create_deployment_group(
        applicationName=app,
        deploymentGroupName=group,
        serviceRoleArn=create_role(server.client("iam"), "codedeploy.amazonaws.com"),
        deploymentStyle={
            "deploymentType": "BLUE_GREEN",
            "deploymentOption": "WITH_TRAFFIC_CONTROL",
        },
        **extra,
    )
    return app, group


def test_alarm_configuration_returned(patched: Server, stock: Server) -> None:
    app, group = create_group(patched, alarmConfiguration=ALARMS)
    info = patched.client("codedeploy").get_deployment_group(
        applicationName=app, deploymentGroupName=group
    )["deploymentGroupInfo"]
    assert info["alarmConfiguration"] == ALARMS

    app, group = create_group(patched)
    info = patched.client("codedeploy").get_deployment_group(
        applicationName=app, deploymentGroupName=group
    )["deploymentGroupInfo"]
    assert info["alarmConfiguration"] == {
        "enabled": False,
        "ignorePollAlarmFailure": False,
        "alarms": [],
    }

    app, group = create_group(stock, alarmConfiguration=ALARMS)
    info = stock.client("codedeploy").get_deployment_group(
        applicationName=app, deploymentGroupName=group
    )["deploymentGroupInfo"]
    assert info["alarmConfiguration"] == {}


def test_delete_deployment_group_and_application(patched: Server, stock: Server) -> None:
    codedeploy = patched.client("codedeploy")
    app, group = create_group(patched)
    assert (
        codedeploy.delete_deployment_group(applicationName=app, deploymentGroupName=group)[
            "hooksNotCleanedUp"
        ]
        == []
    )
    with pytest.raises(ClientError) as excinfo:
        codedeploy.get_deployment_group(applicationName=app, deploymentGroupName=group)
    assert excinfo.value.response["Error"]["Code"] == "DeploymentGroupDoesNotExistException"
    codedeploy.delete_application(applicationName=app)
    with pytest.raises(ClientError) as excinfo:
        codedeploy.get_application(applicationName=app)
    assert excinfo.value.response["Error"]["Code"] == "ApplicationDoesNotExistException"
    # Deleting what is already gone succeeds, as on AWS.
    codedeploy.delete_application(applicationName=app)

    app, group = create_group(stock)
    with pytest.raises(ClientError):
        stock.client("codedeploy").delete_deployment_group(
            applicationName=app, deploymentGroupName=group
        )
    with pytest.raises(ClientError):
        stock.client("codedeploy").delete_application(applicationName=app)


def test_update_deployment_group(patched: Server, stock: Server) -> None:
    codedeploy = patched.client("codedeploy")
    tags = [{"Key": "team", "Value": "a"}]
    app, group = create_group(patched, alarmConfiguration=ALARMS, tags=tags)
    watched = {**ALARMS, "alarms": [{"name": "service-5xx"}, {"name": "service-tasks"}]}
    answer = codedeploy.update_deployment_group(
        applicationName=app,
        currentDeploymentGroupName=group,
        newDeploymentGroupName=f"{group}-renamed",
        alarmConfiguration=watched,
        deploymentConfigName="CodeDeployDefault.ECSAllAtOnce",
    )
    assert answer["hooksNotCleanedUp"] == []
    info = codedeploy.get_deployment_group(
        applicationName=app, deploymentGroupName=f"{group}-renamed"
    )["deploymentGroupInfo"]
    assert info["alarmConfiguration"] == watched
    assert info["deploymentConfigName"] == "CodeDeployDefault.ECSAllAtOnce"
    # Fields the request left out keep their values.
    assert info["deploymentStyle"]["deploymentType"] == "BLUE_GREEN"
    assert info["serviceRoleArn"].startswith("arn:aws:iam::")
    # The old name is gone; the tags followed the group.
    with pytest.raises(ClientError) as excinfo:
        codedeploy.get_deployment_group(applicationName=app, deploymentGroupName=group)
    assert excinfo.value.response["Error"]["Code"] == "DeploymentGroupDoesNotExistException"
    arn = f"arn:aws:codedeploy:us-east-1:123456789012:deploymentgroup:{app}/{group}-renamed"
    assert codedeploy.list_tags_for_resource(ResourceArn=arn)["Tags"] == tags
    # Unknown groups answer as AWS does.
    with pytest.raises(ClientError) as excinfo:
        codedeploy.update_deployment_group(applicationName=app, currentDeploymentGroupName="nope")
    assert excinfo.value.response["Error"]["Code"] == "DeploymentGroupDoesNotExistException"

    app, group = create_group(stock)
    with pytest.raises(ClientError):
        stock.client("codedeploy").update_deployment_group(
            applicationName=app, currentDeploymentGroupName=group, deploymentConfigName="x"
        )
