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

AWS accepts only execution ids it issued when it invoked the hook. A deployment
run by the emulator's CodeDeploy engine (``engines/codedeploy.py``) has the ids
the engine issued (``deployer_hook_executions``): a report for another id is
``InvalidLifecycleEventHookExecutionIdException``, a report is recorded there
and the engine acts on it (fails and rolls back, or goes on) on its next round.
A deployment no engine runs (an emulator without the runtime) accepts the first
report of any id (the caller playing CodeDeploy makes the id up) and a
``Failed`` report fails it at once, as above.
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
        issued: dict[str, dict[str, str]] | None = getattr(
            deployment, "deployer_hook_executions", None
        )
        if issued is not None:
            execution = issued.get(execution_id)
            if execution is None:
                raise state.error(
                    "InvalidLifecycleEventHookExecutionIdException",
                    f"The lifecycle event hook execution ID {execution_id} is not valid for "
                    f"deployment {deployment.deployment_id}.",
                )
            if execution["status"] != "Pending" or deployment.status in statuses.FINISHED:
                raise state.error(
                    "LifecycleEventAlreadyCompletedException",
                    f"The lifecycle event hook execution {execution_id} of deployment "
                    f"{deployment.deployment_id} has already completed.",
                )
            execution["status"] = status
            return ActionResult({"lifecycleEventHookExecutionId": execution_id})
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
