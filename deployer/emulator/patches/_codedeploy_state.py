"""What the CodeDeploy patches share: deployment states, errors and rollbacks.

moto 5.2.5 keeps a deployment's ``status`` but has no error information, no
rollback information and no lifecycle hook records; GetDeployment answers
``errorInformation: {}`` and ``rollbackInfo: {}`` whatever happened. The
patches record those on moto's ``DeploymentInfo`` (attributes prefixed
``deployer_``) and :func:`install_deployment_info` makes GetDeployment and
BatchGetDeployments return them, as AWS does.
"""

from __future__ import annotations

import uuid
from typing import Any, TypedDict

from ._util import replace


class ErrorInformation(TypedDict):
    """GetDeployment's ``errorInformation``, kept as ``deployer_error``."""

    code: str
    message: str


class RollbackInfo(TypedDict, total=False):
    """GetDeployment's ``rollbackInfo``, kept as ``deployer_rollback``: the rolled-back
    deployment names its rollback, the rollback the deployment that triggered it."""

    rollbackDeploymentId: str
    rollbackMessage: str
    rollbackTriggeringDeploymentId: str


def error(code: str, message: str) -> Exception:
    """A CodeDeploy error as AWS returns it (HTTP 400, JSON ``__type``)."""
    from moto.core.exceptions import JsonRESTError

    return JsonRESTError(code, message)


def deployment(backend: Any, deployment_id: str | None) -> Any:
    """The deployment, or the error AWS returns for a missing or unknown id."""
    if not deployment_id:
        raise error("DeploymentIdRequiredException", "A deployment ID must be specified.")
    found = backend.deployments.get(deployment_id)
    if found is None:
        raise error(
            "DeploymentDoesNotExistException",
            f"The deployment {deployment_id} could not be found.",
        )
    return found


def finish(deployment: Any, status: str, *, code: str | None = None, message: str = "") -> None:
    """End a deployment with ``status`` (and, for a failure, its error information)."""
    from moto.core.utils import utcnow

    deployment.status = status
    deployment.complete_time = utcnow()
    if code:
        deployment.deployer_error = ErrorInformation(code=code, message=message)


def roll_back(backend: Any, deployment: Any, message: str) -> str:
    """Start the rollback deployment CodeDeploy creates for ``deployment``.

    The rollback is a deployment of its own (creator ``codeDeployRollback``) in the
    same deployment group, linked both ways through ``rollbackInfo``. It is
    InProgress: CodeDeploy's engine (in the emulator ``engines/codedeploy.py``, which
    runs with the runtime) moves traffic back and then completes it; without the
    runtime it stays InProgress.
    """
    from moto.codedeploy.models import DeploymentInfo
    from moto.core.utils import utcnow

    rollback = DeploymentInfo(
        deployment.application,
        deployment.deployment_group,
        {},  # AWS names the last successful revision; the emulator does not track it
        deployment.deployment_config_name,
        f"Rollback of deployment {deployment.deployment_id}",
        None,
        None,
        None,
        None,
        None,
        None,
        "codeDeployRollback",
    )
    rollback.deployment_id = new_deployment_id()
    rollback.status = "InProgress"
    rollback.start_time = utcnow()
    _set_rollback_info(rollback, {"rollbackTriggeringDeploymentId": deployment.deployment_id})
    backend.deployments[rollback.deployment_id] = rollback
    _set_rollback_info(
        deployment,
        {"rollbackDeploymentId": rollback.deployment_id, "rollbackMessage": message},
    )
    return str(rollback.deployment_id)


def _set_rollback_info(deployment: Any, info: RollbackInfo) -> None:
    # Any: moto's DeploymentInfo declares no deployer_* attributes.
    deployment.deployer_rollback = info


def rolls_back_on(deployment: Any, event: str) -> bool:
    """Whether the deployment rolls back automatically on ``event`` (a group setting
    that CreateDeployment's autoRollbackConfiguration overrides)."""
    config = deployment.auto_rollback_configuration
    if not config:
        config = deployment.deployment_group.auto_rollback_configuration
    return bool(config and config.get("enabled") and event in (config.get("events") or []))


def new_deployment_id() -> str:
    """A deployment id in AWS's format: ``d-`` and nine upper-case letters or digits."""
    return "d-" + uuid.uuid4().hex[:9].upper()


def install_deployment_info() -> None:
    """GetDeployment/BatchGetDeployments: return the recorded error and rollback info."""
    from moto.codedeploy import responses

    def info_factory(original: Any) -> Any:
        def _deployment_info(deployment: Any) -> dict[str, Any]:
            info: dict[str, Any] = original(deployment)
            info["errorInformation"] = getattr(deployment, "deployer_error", None) or {}
            info["rollbackInfo"] = getattr(deployment, "deployer_rollback", None) or {}
            return info

        return _deployment_info

    replace(responses, "_deployment_info", info_factory)
