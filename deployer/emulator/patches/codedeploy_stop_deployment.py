"""CodeDeploy: StopDeployment is missing.

moto 5.2.5 has no StopDeployment (HTTP 500), so nothing can stop a deployment:
not a deploy guard reacting to an alarm, not an operator.

On AWS, StopDeployment of an active deployment answers ``{"status": "Pending",
"statusMessage": ...}`` and the deployment ends ``Stopped`` with the error code
``MANUAL_STOP``. With ``autoRollbackEnabled`` CodeDeploy rolls back: it starts a
rollback deployment (creator ``codeDeployRollback``) and links the two through
``rollbackInfo`` (``rollbackDeploymentId`` and ``rollbackMessage`` on the
stopped one, ``rollbackTriggeringDeploymentId`` on the rollback). A finished
deployment cannot be stopped (``DeploymentAlreadyCompletedException``), an
unknown one is ``DeploymentDoesNotExistException``.

The stop takes effect at once. The rollback deployment is InProgress; the
CodeDeploy engine (``engines/codedeploy.py``), which runs with the emulator's
runtime, moves traffic back and completes it. Without the runtime it stays
InProgress.
"""

from __future__ import annotations

from typing import Any

from deploy_guard import statuses

from . import _codedeploy_state as state
from ._util import add_method

GAP = "CodeDeploy has no StopDeployment: a deployment cannot be stopped or rolled back."


def apply() -> None:
    from moto.codedeploy.responses import CodeDeployResponse
    from moto.core.responses import ActionResult

    state.install_deployment_info()

    def stop_deployment(self: Any) -> ActionResult:
        backend = self.codedeploy_backend
        deployment = state.deployment(backend, self._get_param("deploymentId"))
        if deployment.status in statuses.FINISHED:
            raise state.error(
                "DeploymentAlreadyCompletedException",
                f"The deployment {deployment.deployment_id} has already completed.",
            )
        state.finish(
            deployment,
            "Stopped",
            code="MANUAL_STOP",
            message="The deployment was stopped by a user or a StopDeployment call.",
        )
        if self._get_bool_param("autoRollbackEnabled", False):
            state.roll_back(
                backend,
                deployment,
                "The deployment was stopped; CodeDeploy rolls back to the original task set.",
            )
        return ActionResult(
            {
                "status": "Pending",
                "statusMessage": f"Stopping Pending. Stopping to deploy {deployment.deployment_id}",
            }
        )

    add_method(CodeDeployResponse, "stop_deployment", stop_deployment)
