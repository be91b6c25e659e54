"""CodeDeploy: ContinueDeployment is missing.

moto 5.2.5 has no ContinueDeployment (HTTP 500), so a blue/green deployment's
termination wait cannot be ended early, as the console's "Terminate original task
set" button and ``aws deploy continue-deployment --deployment-wait-type
TERMINATION_WAIT`` end it on AWS.

After the API reference (ContinueDeployment, DeploymentWaitType) and the user guide
("Deployments on an Amazon ECS compute platform"): ``deploymentWaitType``
``TERMINATION_WAIT`` on a blue/green deployment whose traffic has moved and whose
original task set is kept for the termination wait (``instanceTerminationWaitTimeStarted``)
ends the wait: the CodeDeploy engine (``engines/codedeploy.py``, which runs with the
emulator's runtime) deletes the original task set on its next round and the
deployment ``Succeeded``. The call answers an empty body. Errors, as AWS names them:

* no id: ``DeploymentIdRequiredException``; an unknown one:
  ``DeploymentDoesNotExistException``;
* a wait type other than ``READY_WAIT``/``TERMINATION_WAIT``:
  ``InvalidDeploymentWaitTypeException``;
* a finished deployment: ``DeploymentAlreadyCompletedException``;
* an in-place deployment (not ECS, not blue/green): ``UnsupportedActionForDeploymentTypeException``;
* a deployment not in the wait the call names: ``DeploymentIsNotInReadyStateException``
  ("The deployment does not have a status of Ready and can't continue yet."). For
  ``READY_WAIT`` that is every deployment here: the engine leaves out
  ``deploymentReadyOption`` STOP_DEPLOYMENT, so no deployment ever waits to be
  continued before traffic moves.

Left out: ``READY_WAIT`` for EC2/on-premises blue/green deployments (moto's engine-less
deployments never reach Ready).
"""

from __future__ import annotations

from typing import Any

from deploy_guard import statuses

from . import _codedeploy_state as state
from ._util import add_method

GAP = (
    "CodeDeploy has no ContinueDeployment: a blue/green deployment's termination wait "
    "cannot be ended early."
)

WAIT_TYPES = ("READY_WAIT", "TERMINATION_WAIT")
#: Set on moto's deployment when TERMINATION_WAIT was continued; the engine reads it.
END_TERMINATION_WAIT = "deployer_end_termination_wait"


def _blue_green(deployment: Any) -> bool:
    application = getattr(deployment, "application", None)
    if getattr(application, "compute_platform", None) == "ECS":
        return True  # ECS deployments are blue/green
    style = getattr(deployment.deployment_group, "deployment_style", None) or {}
    return style.get("deploymentType") == "BLUE_GREEN"


def apply() -> None:
    from moto.codedeploy.responses import CodeDeployResponse
    from moto.core.responses import ActionResult

    state.install_deployment_info()

    def continue_deployment(self: Any) -> ActionResult:
        backend = self.codedeploy_backend
        deployment = state.deployment(backend, self._get_param("deploymentId"))
        wait_type = self._get_param("deploymentWaitType") or "READY_WAIT"
        if wait_type not in WAIT_TYPES:
            raise state.error(
                "InvalidDeploymentWaitTypeException",
                f"The wait type is invalid: {wait_type}. Valid values: {', '.join(WAIT_TYPES)}.",
            )
        if deployment.status in statuses.FINISHED:
            raise state.error(
                "DeploymentAlreadyCompletedException",
                f"The deployment {deployment.deployment_id} has already completed.",
            )
        if not _blue_green(deployment):
            raise state.error(
                "UnsupportedActionForDeploymentTypeException",
                "ContinueDeployment is supported for blue/green deployments only.",
            )
        waiting = wait_type == "TERMINATION_WAIT" and bool(
            getattr(deployment, "instance_termination_wait_time_started", False)
        )
        if not waiting:
            raise state.error(
                "DeploymentIsNotInReadyStateException",
                "The deployment does not have a status of Ready and can't continue yet.",
            )
        setattr(deployment, END_TERMINATION_WAIT, True)
        return ActionResult({})

    add_method(CodeDeployResponse, "continue_deployment", continue_deployment)
