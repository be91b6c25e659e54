"""codedeploy_deployment_configs: Create/Get/List/DeleteDeploymentConfig and their use."""

from __future__ import annotations

import json
import urllib.error
from collections.abc import Iterator
from datetime import datetime
from typing import Any

import pytest
from botocore.exceptions import ClientError
from moto import mock_aws

from deployer.emulator.patches import codedeploy_deployment_configs as configs

from ._helpers import error_code, unique
from .conftest import ACCOUNT, REGION, Server

ROLE = f"arn:aws:iam::{ACCOUNT}:role/codedeploy"
ECS_LINEAR = {
    "type": "TimeBasedLinear",
    "timeBasedLinear": {"linearPercentage": 20, "linearInterval": 2},
}


def config_info(codedeploy: Any, name: str) -> dict[str, Any]:
    return dict(codedeploy.get_deployment_config(deploymentConfigName=name)["deploymentConfigInfo"])


def raw_error(server: Server, action: str, body: dict[str, Any]) -> str:
    """The error code of a call boto3 would refuse to send (an empty name)."""
    with pytest.raises(urllib.error.HTTPError) as excinfo:
        server.raw_json("codedeploy", f"CodeDeploy_20141006.{action}", body)
    assert excinfo.value.code == 400
    return str(json.loads(excinfo.value.read())["__type"]).rpartition("#")[2]


def server_group(server: Server, config: str | None = None) -> tuple[str, str]:
    codedeploy = server.client("codedeploy")
    app, group = unique("app"), unique("group")
    codedeploy.create_application(applicationName=app, computePlatform="Server")
    extra = {"deploymentConfigName": config} if config else {}
    codedeploy.create_deployment_group(
        applicationName=app, deploymentGroupName=group, serviceRoleArn=ROLE, **extra
    )
    return app, group


def test_predefined_configurations_as_aws_reports_them(patched: Server, stock: Server) -> None:
    codedeploy = patched.client("codedeploy")
    linear = config_info(codedeploy, "CodeDeployDefault.ECSLinear10PercentEvery1Minutes")
    assert linear["computePlatform"] == "ECS"
    assert linear["trafficRoutingConfig"] == {
        "type": "TimeBasedLinear",
        "timeBasedLinear": {"linearPercentage": 10, "linearInterval": 1},
    }
    assert "minimumHealthyHosts" not in linear
    assert isinstance(linear["createTime"], datetime)
    assert config_info(codedeploy, "CodeDeployDefault.ECSCanary10Percent15Minutes")[
        "trafficRoutingConfig"
    ] == {
        "type": "TimeBasedCanary",
        "timeBasedCanary": {"canaryPercentage": 10, "canaryInterval": 15},
    }
    assert config_info(codedeploy, "CodeDeployDefault.ECSAllAtOnce")["trafficRoutingConfig"] == {
        "type": "AllAtOnce"
    }
    lambda_linear = config_info(codedeploy, "CodeDeployDefault.LambdaLinear10PercentEvery1Minute")
    assert lambda_linear["computePlatform"] == "Lambda"
    assert lambda_linear["trafficRoutingConfig"]["timeBasedLinear"]["linearInterval"] == 1
    one = config_info(codedeploy, "CodeDeployDefault.OneAtATime")
    assert one["minimumHealthyHosts"] == {"type": "MOST_CONCURRENCY", "value": 1}
    assert one["computePlatform"] == "Server"
    assert "trafficRoutingConfig" not in one
    assert config_info(codedeploy, "CodeDeployDefault.HalfAtATime")["minimumHealthyHosts"] == {
        "type": "FLEET_PERCENT",
        "value": 50,
    }
    listed = codedeploy.list_deployment_configs()["deploymentConfigsList"]
    assert listed[: len(configs.PREDEFINED)] == list(configs.PREDEFINED)
    assert len(configs.PREDEFINED) == 17

    with pytest.raises(ClientError):
        config_info(stock.client("codedeploy"), "CodeDeployDefault.ECSAllAtOnce")


def test_predefined_configurations_exist_in_every_region(patched: Server) -> None:
    import boto3

    for region in ("eu-west-1", "ap-southeast-2"):
        client = boto3.client(
            "codedeploy",
            endpoint_url=patched.endpoint,
            region_name=region,
            aws_access_key_id="test",
            aws_secret_access_key="test",
        )
        info = config_info(client, "CodeDeployDefault.ECSCanary10Percent5Minutes")
        home = config_info(patched.client("codedeploy"), info["deploymentConfigName"])
        assert info == home


def test_terraform_round_trip(patched: Server) -> None:
    # What provider 5.100.0 sends for aws_codedeploy_deployment_config with
    # compute_platform = "ECS" and a traffic_routing_config block, then reads.
    codedeploy = patched.client("codedeploy")
    name = unique("ecs-linear")
    created = codedeploy.create_deployment_config(
        deploymentConfigName=name, computePlatform="ECS", trafficRoutingConfig=ECS_LINEAR
    )
    info = config_info(codedeploy, name)
    assert info["deploymentConfigId"] == created["deploymentConfigId"]
    assert {k: v for k, v in info.items() if k not in ("deploymentConfigId", "createTime")} == {
        "deploymentConfigName": name,
        "computePlatform": "ECS",
        "trafficRoutingConfig": ECS_LINEAR,
    }
    # No minimumHealthyHosts and no zonalConfig: Terraform reads back what it wrote.
    wire = patched.raw_json(
        "codedeploy", "CodeDeploy_20141006.GetDeploymentConfig", {"deploymentConfigName": name}
    )["deploymentConfigInfo"]
    assert isinstance(wire["createTime"], int | float)
    assert set(wire) == {
        "deploymentConfigId",
        "deploymentConfigName",
        "createTime",
        "computePlatform",
        "trafficRoutingConfig",
    }
    assert name in codedeploy.list_deployment_configs()["deploymentConfigsList"]

    # Used by a deployment group it cannot go; then it can, once.
    app, group = server_group(patched, name)
    with pytest.raises(ClientError) as excinfo:
        codedeploy.delete_deployment_config(deploymentConfigName=name)
    assert error_code(excinfo) == "DeploymentConfigInUseException"
    codedeploy.delete_deployment_group(applicationName=app, deploymentGroupName=group)
    codedeploy.delete_deployment_config(deploymentConfigName=name)
    with pytest.raises(ClientError) as excinfo:
        config_info(codedeploy, name)
    assert error_code(excinfo) == "DeploymentConfigDoesNotExistException"
    assert name not in codedeploy.list_deployment_configs()["deploymentConfigsList"]
    codedeploy.delete_deployment_config(deploymentConfigName=name)  # gone: no error


def test_server_configuration_with_zonal_config(patched: Server) -> None:
    codedeploy = patched.client("codedeploy")
    name = unique("zonal")
    zonal = {
        "firstZoneMonitorDurationInSeconds": 10,
        "monitorDurationInSeconds": 20,
        "minimumHealthyHostsPerZone": {"type": "HOST_COUNT", "value": 2},
    }
    codedeploy.create_deployment_config(
        deploymentConfigName=name,
        minimumHealthyHosts={"type": "FLEET_PERCENT", "value": 75},
        zonalConfig=zonal,
    )
    info = config_info(codedeploy, name)
    assert info["computePlatform"] == "Server"  # the default
    assert info["minimumHealthyHosts"] == {"type": "FLEET_PERCENT", "value": 75}
    assert info["zonalConfig"] == zonal
    assert "trafficRoutingConfig" not in info


def test_a_config_used_by_an_active_deployment_cannot_be_deleted(patched: Server) -> None:
    codedeploy = patched.client("codedeploy")
    name = unique("half")
    codedeploy.create_deployment_config(
        deploymentConfigName=name, minimumHealthyHosts={"type": "HOST_COUNT", "value": 1}
    )
    app, group = server_group(patched)
    codedeploy.create_deployment(
        applicationName=app,
        deploymentGroupName=group,
        deploymentConfigName=name,
        revision={"revisionType": "S3", "s3Location": {"bucket": "b", "key": "k"}},
    )
    codedeploy.delete_deployment_group(applicationName=app, deploymentGroupName=group)
    with pytest.raises(ClientError) as excinfo:
        codedeploy.delete_deployment_config(deploymentConfigName=name)
    assert error_code(excinfo) == "DeploymentConfigInUseException"


def test_a_predefined_configuration_cannot_be_deleted(patched: Server) -> None:
    with pytest.raises(ClientError) as excinfo:
        patched.client("codedeploy").delete_deployment_config(
            deploymentConfigName="CodeDeployDefault.ECSAllAtOnce"
        )
    assert error_code(excinfo) == "InvalidOperationException"


CANARY = {
    "type": "TimeBasedCanary",
    "timeBasedCanary": {"canaryPercentage": 10, "canaryInterval": 5},
}


@pytest.mark.parametrize(
    ("request_fields", "code"),
    [
        pytest.param(
            {
                "deploymentConfigName": "has space",
                "computePlatform": "ECS",
                "trafficRoutingConfig": CANARY,
            },
            "InvalidDeploymentConfigNameException",
            id="name-characters",
        ),
        pytest.param(
            {
                "deploymentConfigName": "n" * 101,
                "computePlatform": "ECS",
                "trafficRoutingConfig": CANARY,
            },
            "InvalidDeploymentConfigNameException",
            id="name-length",
        ),
        pytest.param(
            {"computePlatform": "Fargate", "trafficRoutingConfig": CANARY},
            "InvalidComputePlatformException",
            id="platform",
        ),
        pytest.param(
            {
                "deploymentConfigName": "CodeDeployDefault.ECSAllAtOnce",
                "computePlatform": "ECS",
                "trafficRoutingConfig": {"type": "AllAtOnce"},
            },
            "DeploymentConfigAlreadyExistsException",
            id="predefined-name",
        ),
        pytest.param(
            {"computePlatform": "Server"},
            "InvalidMinimumHealthyHostValueException",
            id="server-without-minimum-healthy-hosts",
        ),
        pytest.param(
            {"minimumHealthyHosts": {"type": "FLEET_PERCENT", "value": 101}},
            "InvalidMinimumHealthyHostValueException",
            id="fleet-percent-over-100",
        ),
        pytest.param(
            {"minimumHealthyHosts": {"type": "HOST_COUNT", "value": -1}},
            "InvalidMinimumHealthyHostValueException",
            id="host-count-negative",
        ),
        pytest.param(
            {
                "minimumHealthyHosts": {"type": "HOST_COUNT", "value": 1},
                "trafficRoutingConfig": CANARY,
            },
            "InvalidTrafficRoutingConfigurationException",
            id="server-with-time-based-routing",
        ),
        pytest.param(
            {
                "minimumHealthyHosts": {"type": "HOST_COUNT", "value": 1},
                "zonalConfig": {"monitorDurationInSeconds": -1},
            },
            "InvalidZonalDeploymentConfigurationException",
            id="zonal-negative-duration",
        ),
        pytest.param(
            {"computePlatform": "ECS"},
            "InvalidTrafficRoutingConfigurationException",
            id="ecs-without-traffic-routing",
        ),
        pytest.param(
            {
                "computePlatform": "ECS",
                "trafficRoutingConfig": CANARY,
                "minimumHealthyHosts": {"type": "HOST_COUNT", "value": 1},
            },
            "InvalidMinimumHealthyHostValueException",
            id="ecs-with-minimum-healthy-hosts",
        ),
        pytest.param(
            {
                "computePlatform": "ECS",
                "trafficRoutingConfig": CANARY,
                "zonalConfig": {"monitorDurationInSeconds": 10},
            },
            "InvalidZonalDeploymentConfigurationException",
            id="ecs-with-zonal-config",
        ),
        pytest.param(
            {"computePlatform": "ECS", "trafficRoutingConfig": {"type": "TimeBasedCanary"}},
            "InvalidTrafficRoutingConfigurationException",
            id="canary-without-its-block",
        ),
        pytest.param(
            {
                "computePlatform": "ECS",
                "trafficRoutingConfig": {**CANARY, "type": "TimeBasedLinear"},
            },
            "InvalidTrafficRoutingConfigurationException",
            id="type-and-block-disagree",
        ),
        pytest.param(
            {
                "computePlatform": "Lambda",
                "trafficRoutingConfig": {
                    "type": "TimeBasedCanary",
                    "timeBasedCanary": {"canaryPercentage": 100, "canaryInterval": 5},
                },
            },
            "InvalidTrafficRoutingConfigurationException",
            id="canary-percentage-100",
        ),
        pytest.param(
            {
                "computePlatform": "ECS",
                "trafficRoutingConfig": {
                    "type": "TimeBasedLinear",
                    "timeBasedLinear": {"linearPercentage": 0, "linearInterval": 1},
                },
            },
            "InvalidTrafficRoutingConfigurationException",
            id="linear-percentage-0",
        ),
        pytest.param(
            {
                "computePlatform": "ECS",
                "trafficRoutingConfig": {
                    "type": "TimeBasedLinear",
                    "timeBasedLinear": {"linearPercentage": 10, "linearInterval": 0},
                },
            },
            "InvalidTrafficRoutingConfigurationException",
            id="linear-interval-0",
        ),
    ],
)
def test_create_validation(patched: Server, request_fields: dict[str, Any], code: str) -> None:
    codedeploy = patched.client("codedeploy")
    request_fields = dict(request_fields)
    name = request_fields.pop("deploymentConfigName", unique("bad"))
    with pytest.raises(ClientError) as excinfo:
        codedeploy.create_deployment_config(deploymentConfigName=name, **request_fields)
    assert error_code(excinfo) == code
    if code != "DeploymentConfigAlreadyExistsException":
        with pytest.raises(ClientError):
            config_info(codedeploy, name)  # nothing was created


def test_the_valid_edges_are_accepted(patched: Server) -> None:
    codedeploy = patched.client("codedeploy")
    for platform, routing in (
        (
            "Lambda",
            {
                "type": "TimeBasedCanary",
                "timeBasedCanary": {"canaryPercentage": 99, "canaryInterval": 1},
            },
        ),
        (
            "ECS",
            {
                "type": "TimeBasedLinear",
                "timeBasedLinear": {"linearPercentage": 100, "linearInterval": 1},
            },
        ),
        ("ECS", {"type": "AllAtOnce"}),
    ):
        name = unique("edge")
        codedeploy.create_deployment_config(
            deploymentConfigName=name, computePlatform=platform, trafficRoutingConfig=routing
        )
        assert config_info(codedeploy, name)["trafficRoutingConfig"] == routing
    name = unique("edge")
    codedeploy.create_deployment_config(
        deploymentConfigName=name, minimumHealthyHosts={"type": "FLEET_PERCENT", "value": 0}
    )


def test_duplicate_and_name_errors(patched: Server) -> None:
    codedeploy = patched.client("codedeploy")
    name = unique("dup")
    codedeploy.create_deployment_config(
        deploymentConfigName=name, computePlatform="ECS", trafficRoutingConfig=CANARY
    )
    with pytest.raises(ClientError) as excinfo:
        codedeploy.create_deployment_config(
            deploymentConfigName=name, computePlatform="ECS", trafficRoutingConfig=CANARY
        )
    assert error_code(excinfo) == "DeploymentConfigAlreadyExistsException"
    for action in ("CreateDeploymentConfig", "GetDeploymentConfig", "DeleteDeploymentConfig"):
        assert raw_error(patched, action, {"deploymentConfigName": ""}) == (
            "DeploymentConfigNameRequiredException"
        )
        assert raw_error(patched, action, {"deploymentConfigName": "a/b"}) == (
            "InvalidDeploymentConfigNameException"
        )
    with pytest.raises(ClientError) as excinfo:
        config_info(codedeploy, unique("never"))
    assert error_code(excinfo) == "DeploymentConfigDoesNotExistException"


def test_list_is_paginated(patched: Server, monkeypatch: pytest.MonkeyPatch) -> None:
    codedeploy = patched.client("codedeploy")
    before = codedeploy.list_deployment_configs()
    assert "nextToken" not in before
    count = len(before["deploymentConfigsList"])
    made = [unique("page") for _ in range(configs.PAGE_SIZE - count + 5)]
    for name in made:
        codedeploy.create_deployment_config(
            deploymentConfigName=name, computePlatform="ECS", trafficRoutingConfig=CANARY
        )
    first = codedeploy.list_deployment_configs()
    assert len(first["deploymentConfigsList"]) == configs.PAGE_SIZE
    second = codedeploy.list_deployment_configs(nextToken=first["nextToken"])
    assert "nextToken" not in second
    names = first["deploymentConfigsList"] + second["deploymentConfigsList"]
    assert names == [*before["deploymentConfigsList"], *made]
    paginated = [
        name
        for page in codedeploy.get_paginator("list_deployment_configs").paginate()
        for name in page["deploymentConfigsList"]
    ]
    assert paginated == names
    with pytest.raises(ClientError) as excinfo:
        codedeploy.list_deployment_configs(nextToken="not-a-token")
    assert error_code(excinfo) == "InvalidNextTokenException"
    for name in made:
        codedeploy.delete_deployment_config(deploymentConfigName=name)


def test_groups_and_deployments_must_name_an_existing_config(
    patched: Server, stock: Server
) -> None:
    codedeploy = patched.client("codedeploy")
    missing = unique("missing")
    app = unique("app")
    codedeploy.create_application(applicationName=app, computePlatform="Server")
    with pytest.raises(ClientError) as excinfo:
        codedeploy.create_deployment_group(
            applicationName=app,
            deploymentGroupName=unique("group"),
            serviceRoleArn=ROLE,
            deploymentConfigName=missing,
        )
    assert error_code(excinfo) == "DeploymentConfigDoesNotExistException"
    assert missing in str(excinfo.value)
    assert codedeploy.list_deployment_groups(applicationName=app)["deploymentGroups"] == []

    app, group = server_group(patched, "CodeDeployDefault.HalfAtATime")
    with pytest.raises(ClientError) as excinfo:
        codedeploy.update_deployment_group(
            applicationName=app, currentDeploymentGroupName=group, deploymentConfigName=missing
        )
    assert error_code(excinfo) == "DeploymentConfigDoesNotExistException"
    info = codedeploy.get_deployment_group(applicationName=app, deploymentGroupName=group)
    assert info["deploymentGroupInfo"]["deploymentConfigName"] == "CodeDeployDefault.HalfAtATime"
    # The group's own errors still come first.
    with pytest.raises(ClientError) as excinfo:
        codedeploy.update_deployment_group(
            applicationName=app, currentDeploymentGroupName="nope", deploymentConfigName=missing
        )
    assert error_code(excinfo) == "DeploymentGroupDoesNotExistException"

    revision = {"revisionType": "S3", "s3Location": {"bucket": "b", "key": "k"}}
    with pytest.raises(ClientError) as excinfo:
        codedeploy.create_deployment(
            applicationName=app,
            deploymentGroupName=group,
            deploymentConfigName=missing,
            revision=revision,
        )
    assert error_code(excinfo) == "DeploymentConfigDoesNotExistException"
    assert (
        codedeploy.list_deployments(applicationName=app, deploymentGroupName=group)["deployments"]
        == []
    )
    with pytest.raises(ClientError) as excinfo:
        codedeploy.create_deployment_group(
            applicationName=unique("no-app"),
            deploymentGroupName="g",
            serviceRoleArn=ROLE,
            deploymentConfigName=missing,
        )
    assert error_code(excinfo) == "ApplicationDoesNotExistException"

    # Stock moto takes the unknown name.
    stock_app = unique("app")
    stock.client("codedeploy").create_application(applicationName=stock_app)
    stock.client("codedeploy").create_deployment_group(
        applicationName=stock_app,
        deploymentGroupName="g",
        serviceRoleArn=ROLE,
        deploymentConfigName=missing,
    )


@pytest.fixture
def backend() -> Iterator[Any]:
    with mock_aws():
        from moto.codedeploy.models import codedeploy_backends

        yield codedeploy_backends[ACCOUNT][REGION]


def test_traffic_routing_reads_the_backend(backend: Any) -> None:
    assert configs.traffic_routing(
        ACCOUNT, REGION, "CodeDeployDefault.ECSCanary10Percent5Minutes"
    ) == {
        "type": "TimeBasedCanary",
        "timeBasedCanary": {"canaryPercentage": 10, "canaryInterval": 5},
    }
    assert configs.traffic_routing(ACCOUNT, REGION, "custom-linear") is None
    configs.create(
        backend, "custom-linear", compute_platform="ECS", traffic_routing_config=ECS_LINEAR
    )
    routing = configs.traffic_routing(ACCOUNT, REGION, "custom-linear")
    assert routing == ECS_LINEAR
    assert routing is not None
    routing["timeBasedLinear"]["linearPercentage"] = 50  # a copy: the stored one is unchanged
    assert configs.traffic_routing(ACCOUNT, REGION, "custom-linear") == ECS_LINEAR
    assert configs.traffic_routing(ACCOUNT, "eu-west-1", "custom-linear") is None
    assert configs.traffic_routing("210987654321", REGION, "custom-linear") is None
    configs.delete(backend, "custom-linear")
    assert configs.traffic_routing(ACCOUNT, REGION, "custom-linear") is None
