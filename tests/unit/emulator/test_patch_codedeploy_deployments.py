"""codedeploy_ecs_deployments, codedeploy_stop_deployment, codedeploy_lifecycle_hooks."""

from __future__ import annotations

import re
from typing import Any

import pytest
from botocore.exceptions import ClientError

from ._helpers import appspec, blue_green, error_code, status
from .conftest import Server

HOOK = "arn:aws:lambda:us-east-1:123456789012:function:deploy-guard"


def deploy(server: Server) -> tuple[Any, Any, str]:
    """A blue/green ECS service and a deployment of a new revision to it."""
    setup = blue_green(server)
    codedeploy = server.client("codedeploy")
    deployment_id = codedeploy.create_deployment(
        applicationName=setup.application,
        deploymentGroupName=setup.group,
        revision=appspec(setup.task_definition, HOOK),
    )["deploymentId"]
    return setup, codedeploy, deployment_id


def info(codedeploy: Any, deployment_id: str) -> dict[str, Any]:
    return dict(codedeploy.get_deployment(deploymentId=deployment_id)["deploymentInfo"])


def test_ecs_deployment_starts_and_is_the_groups_only_active_one(
    patched: Server, stock: Server
) -> None:
    setup, codedeploy, deployment_id = deploy(patched)
    assert re.fullmatch(r"d-[A-Z0-9]{9}", deployment_id)
    deployment = info(codedeploy, deployment_id)
    assert deployment["status"] == "InProgress"
    assert deployment["startTime"] >= deployment["createTime"]
    assert (deployment["applicationName"], deployment["deploymentGroupName"]) == (
        setup.application,
        setup.group,
    )
    assert deployment["revision"]["revisionType"] == "AppSpecContent"
    assert codedeploy.list_deployments(
        applicationName=setup.application,
        deploymentGroupName=setup.group,
        includeOnlyStatuses=["InProgress"],
    )["deployments"] == [deployment_id]
    # What the deploy guard reads to find blue and green: as created.
    group = codedeploy.get_deployment_group(
        applicationName=setup.application, deploymentGroupName=setup.group
    )["deploymentGroupInfo"]
    assert group["ecsServices"] == [{"serviceName": setup.service, "clusterName": setup.cluster}]
    (pair,) = group["loadBalancerInfo"]["targetGroupPairInfoList"]
    assert pair["prodTrafficRoute"] == {"listenerArns": [setup.production_listener]}
    assert pair["testTrafficRoute"] == {"listenerArns": [setup.test_listener]}

    with pytest.raises(ClientError) as excinfo:
        codedeploy.create_deployment(
            applicationName=setup.application,
            deploymentGroupName=setup.group,
            revision=appspec(setup.task_definition, HOOK),
        )
    assert error_code(excinfo) == "DeploymentLimitExceededException"
    assert deployment_id in str(excinfo.value)

    # Stock moto: never started, and a second deployment is accepted.
    setup, codedeploy, deployment_id = deploy(stock)
    assert info(codedeploy, deployment_id)["status"] == "Created"
    codedeploy.create_deployment(
        applicationName=setup.application,
        deploymentGroupName=setup.group,
        revision=appspec(setup.task_definition, HOOK),
    )


def test_stop_deployment_with_rollback(patched: Server, stock: Server) -> None:
    setup, codedeploy, deployment_id = deploy(patched)
    answer = codedeploy.stop_deployment(deploymentId=deployment_id, autoRollbackEnabled=True)
    assert answer["status"] == "Pending"
    stopped = info(codedeploy, deployment_id)
    assert stopped["status"] == "Stopped"
    assert stopped["errorInformation"]["code"] == "MANUAL_STOP"
    assert stopped["completeTime"] >= stopped["startTime"]
    rollback_id = stopped["rollbackInfo"]["rollbackDeploymentId"]
    assert stopped["rollbackInfo"]["rollbackMessage"]
    rollback = info(codedeploy, rollback_id)
    assert rollback["creator"] == "codeDeployRollback"
    assert rollback["status"] == "InProgress"
    assert rollback["rollbackInfo"]["rollbackTriggeringDeploymentId"] == deployment_id
    active = codedeploy.list_deployments(
        applicationName=setup.application,
        deploymentGroupName=setup.group,
        includeOnlyStatuses=["Created", "Queued", "InProgress", "Ready", "Baking"],
    )["deployments"]
    assert active == [rollback_id]

    with pytest.raises(ClientError) as excinfo:
        codedeploy.stop_deployment(deploymentId=deployment_id)
    assert error_code(excinfo) == "DeploymentAlreadyCompletedException"
    with pytest.raises(ClientError) as excinfo:
        codedeploy.stop_deployment(deploymentId="d-NOSUCHONE")
    assert error_code(excinfo) == "DeploymentDoesNotExistException"

    # Without rollback: stopped, nothing rolls back.
    _setup, codedeploy, deployment_id = deploy(patched)
    codedeploy.stop_deployment(deploymentId=deployment_id, autoRollbackEnabled=False)
    stopped = info(codedeploy, deployment_id)
    assert (stopped["status"], stopped["rollbackInfo"]) == ("Stopped", {})

    _setup, codedeploy, deployment_id = deploy(stock)
    with pytest.raises(ClientError) as excinfo:
        codedeploy.stop_deployment(deploymentId=deployment_id, autoRollbackEnabled=True)
    assert status(excinfo) >= 500


def test_lifecycle_hook_reports_once_and_failed_rolls_back(patched: Server, stock: Server) -> None:
    _setup, codedeploy, deployment_id = deploy(patched)
    assert (
        codedeploy.put_lifecycle_event_hook_execution_status(
            deploymentId=deployment_id, lifecycleEventHookExecutionId="hook-1", status="Succeeded"
        )["lifecycleEventHookExecutionId"]
        == "hook-1"
    )
    assert info(codedeploy, deployment_id)["status"] == "InProgress"
    with pytest.raises(ClientError) as excinfo:
        codedeploy.put_lifecycle_event_hook_execution_status(
            deploymentId=deployment_id, lifecycleEventHookExecutionId="hook-1", status="Failed"
        )
    assert error_code(excinfo) == "LifecycleEventAlreadyCompletedException"
    with pytest.raises(ClientError) as excinfo:
        codedeploy.put_lifecycle_event_hook_execution_status(
            deploymentId=deployment_id, lifecycleEventHookExecutionId="hook-2", status="InProgress"
        )
    assert error_code(excinfo) == "InvalidLifecycleEventHookExecutionStatusException"

    codedeploy.put_lifecycle_event_hook_execution_status(
        deploymentId=deployment_id, lifecycleEventHookExecutionId="hook-2", status="Failed"
    )
    failed = info(codedeploy, deployment_id)
    assert failed["status"] == "Failed"
    assert failed["errorInformation"]["code"] == "HOOK_EXECUTION_FAILURE"
    rollback = info(codedeploy, failed["rollbackInfo"]["rollbackDeploymentId"])
    assert rollback["rollbackInfo"]["rollbackTriggeringDeploymentId"] == deployment_id
    # The deployment is over: no hook of it can report any more.
    with pytest.raises(ClientError) as excinfo:
        codedeploy.put_lifecycle_event_hook_execution_status(
            deploymentId=deployment_id, lifecycleEventHookExecutionId="hook-3", status="Succeeded"
        )
    assert error_code(excinfo) == "LifecycleEventAlreadyCompletedException"
    with pytest.raises(ClientError) as excinfo:
        codedeploy.put_lifecycle_event_hook_execution_status(
            deploymentId="d-NOSUCHONE", lifecycleEventHookExecutionId="hook-1", status="Failed"
        )
    assert error_code(excinfo) == "DeploymentDoesNotExistException"

    _setup, codedeploy, deployment_id = deploy(stock)
    with pytest.raises(ClientError) as excinfo:
        codedeploy.put_lifecycle_event_hook_execution_status(
            deploymentId=deployment_id, lifecycleEventHookExecutionId="hook-1", status="Failed"
        )
    assert status(excinfo) >= 500
