"""CodeDeploy: PutLifecycleEventHookExecutionStatus is missing.

moto 5.2.5 has no PutLifecycleEventHookExecutionStatus (HTTP 500), so a
lifecycle hook (the deploy guard on AfterAllowTestTraffic/AfterAllowTraffic)
cannot report its verdict.

On AWS the hook reports once per execution: the call returns the
``lifecycleEventHookExecutionId``; a second report for the same execution, or a
report after the deployment finished, is ``LifecycleEventAlreadyCompletedException``;
only ``Succeeded`` and ``Failed`` may be reported
(``InvalidLifecycleEventHookExecutionStatusException`` otherwise); an unknown
deployment is ``DeploymentDoesNotExistException``. ``Failed`` fails the
deployment (status ``Failed``, error code ``HOOK_EXECUTION_FAILURE``) and, when
the deployment rolls back on ``DEPLOYMENT_FAILURE``, starts the rollback
deployment linked through ``rollbackInfo``.

AWS accepts only execution ids it issued when it invoked the hook. The emulator
has no engine that invokes hooks, so it accepts the first report of any id for
an active deployment (the caller playing CodeDeploy, such as ``deployer drill``,
makes the id up) and records it on the deployment.
"""

from __future__ import annotations

from typing import Any

from deploy_guard import statuses

from . import _codedeploy_state as state
from ._util import add_method

GAP = (
    "CodeDeploy has no PutLifecycleEventHookExecutionStatus: a lifecycle hook cannot "
    "report Succeeded or Failed."
)

_REPORTABLE = ("Succeeded", "Failed")


def apply() -> None:
    from moto.codedeploy.responses import CodeDeployResponse
    from moto.core.responses import ActionResult

    state.install_deployment_info()

    def put_lifecycle_event_hook_execution_status(self: Any) -> ActionResult:
        backend = self.codedeploy_backend
        deployment = state.deployment(backend, self._get_param("deploymentId"))
        execution_id = self._get_param("lifecycleEventHookExecutionId")
        status = self._get_param("status")
        if not execution_id:
            raise state.error(
                "InvalidLifecycleEventHookExecutionIdException",
                "A lifecycle event hook execution ID must be specified.",
            )
        if status not in _REPORTABLE:
            raise state.error(
                "InvalidLifecycleEventHookExecutionStatusException",
                f"The status {status} is not valid: report Succeeded or Failed.",
            )
        reported: dict[str, str] = getattr(deployment, "deployer_hooks", None) or {}
        deployment.deployer_hooks = reported
        if execution_id in reported or deployment.status in statuses.FINISHED:
            raise state.error(
                "LifecycleEventAlreadyCompletedException",
                f"The lifecycle event hook execution {execution_id} of deployment "
                f"{deployment.deployment_id} has already completed.",
            )
        reported[execution_id] = status
        if status == "Failed":
            state.finish(
                deployment,
                "Failed",
                code="HOOK_EXECUTION_FAILURE",
                message=(
                    f"The deployment failed because lifecycle event hook execution "
                    f"{execution_id} reported Failed."
                ),
            )
            if state.rolls_back_on(deployment, "DEPLOYMENT_FAILURE"):
                state.roll_back(
                    backend,
                    deployment,
                    "The deployment failed; CodeDeploy rolls back to the original task set.",
                )
        return ActionResult({"lifecycleEventHookExecutionId": execution_id})

    add_method(
        CodeDeployResponse,
        "put_lifecycle_event_hook_execution_status",
        put_lifecycle_event_hook_execution_status,
    )
