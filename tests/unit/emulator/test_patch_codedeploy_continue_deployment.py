"""codedeploy_continue_deployment: ContinueDeployment's answers before and after a wait.

The call's effect (the termination wait ended, the original task set deleted, the
deployment Succeeded) needs the CodeDeploy engine: test_codedeploy_engine.py.
"""

from __future__ import annotations

import pytest
from botocore.exceptions import ClientError

from ._helpers import appspec, blue_green, error_code
from .conftest import Server

HOOK = "arn:aws:lambda:us-east-1:123456789012:function:deploy-guard"


def test_continue_deployment_answers_as_codedeploy(patched: Server, stock: Server) -> None:
    setup = blue_green(patched)
    codedeploy = patched.client("codedeploy")
    deployment_id = codedeploy.create_deployment(
        applicationName=setup.application,
        deploymentGroupName=setup.group,
        revision=appspec(setup.task_definition, HOOK),
    )["deploymentId"]

    def refused(**kwargs: str) -> str:
        with pytest.raises(ClientError) as excinfo:
            codedeploy.continue_deployment(**kwargs)
        return error_code(excinfo)

    # In progress, traffic not moved (no engine runs here): no wait to end, of either kind.
    for wait_type in ("READY_WAIT", "TERMINATION_WAIT"):
        assert (
            refused(deploymentId=deployment_id, deploymentWaitType=wait_type)
            == "DeploymentIsNotInReadyStateException"
        )
    assert refused(deploymentId=deployment_id) == "DeploymentIsNotInReadyStateException"
    assert refused(deploymentId="d-NOSUCHONE") == "DeploymentDoesNotExistException"
    assert (
        refused(deploymentId=deployment_id, deploymentWaitType="SOON")
        == "InvalidDeploymentWaitTypeException"
    )
    codedeploy.stop_deployment(deploymentId=deployment_id, autoRollbackEnabled=False)
    assert (
        refused(deploymentId=deployment_id, deploymentWaitType="TERMINATION_WAIT")
        == "DeploymentAlreadyCompletedException"
    )

    # Stock moto has no ContinueDeployment at all.
    stock_setup = blue_green(stock)
    stock_codedeploy = stock.client("codedeploy")
    stock_id = stock_codedeploy.create_deployment(
        applicationName=stock_setup.application,
        deploymentGroupName=stock_setup.group,
        revision=appspec(stock_setup.task_definition, HOOK),
    )["deploymentId"]
    with pytest.raises(ClientError):
        stock_codedeploy.continue_deployment(
            deploymentId=stock_id, deploymentWaitType="TERMINATION_WAIT"
        )
