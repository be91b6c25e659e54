"""CodeDeploy: an ECS deployment's target (ListDeploymentTargets and friends).

moto 5.2.5 has no ListDeploymentTargets, BatchGetDeploymentTargets or
GetDeploymentTarget (HTTP 500), so nothing can see how an ECS deployment is
going on its service: which lifecycle events ran, how the traffic is split
between the blue and the green task set. Its GetDeployment answers a
``deploymentOverview`` of zeros whatever the deployment does.

After the CodeDeploy API reference (ListDeploymentTargets,
BatchGetDeploymentTargets, GetDeploymentTarget, DeploymentTarget, ECSTarget,
DeploymentOverview): an ECS deployment has exactly one target, its service,
with the id ``<cluster-name>:<service-name>`` and the type ``ECSTarget``.

* ListDeploymentTargets answers its id; ``targetFilters`` keep targets whose
  ``TargetStatus`` is one of the values given and, for ``ServerInstanceLabel``
  (``Blue``/``Green``), targets with a task set of that label. An unknown filter
  name is ``InvalidTargetFilterNameException``, an unknown status
  ``InvalidInstanceStatusException``, an unknown label
  ``InvalidInstanceTypeException``, a label filter on an in-place deployment
  ``InvalidDeploymentInstanceTypeException``. One target never needs a second
  page: no ``nextToken`` is issued, so any token sent is
  ``InvalidNextTokenException``.
* BatchGetDeploymentTargets and GetDeploymentTarget answer the target
  (``deploymentTargetType`` ``ECSTarget`` and ``ecsTarget``). No id is
  ``DeploymentTargetIdRequiredException``; more than one id for an ECS
  deployment (whose target list "must have exactly one item"), or more than 25,
  ``DeploymentTargetListSizeExceededException``; an id not of the form
  ``<cluster-name>:<service-name>`` ``InvalidDeploymentTargetIdException`` (with
  the message AWS gives); another service ``DeploymentTargetDoesNotExistException``.
* All three: no deployment id is ``DeploymentIdRequiredException``, an id not
  of CodeDeploy's format (``d-`` and nine upper-case letters or digits)
  ``InvalidDeploymentIdException``, an unknown one
  ``DeploymentDoesNotExistException``, and a deployment with no target yet
  ``DeploymentNotStartedException``.
* GetDeployment/BatchGetDeployments: an ECS deployment's ``deploymentOverview``
  counts its one target under the target's status (``InProgress: 1``, then
  ``Succeeded: 1``...); ``Unknown`` counts nowhere.

The target is what CodeDeploy's engine records: the emulator's CodeDeploy ECS
engine keeps the API's ``ecsTarget`` dict on moto's ``DeploymentInfo`` as
``deployer_ecs_target`` and updates it as the deployment goes on (under the
backend lock, which every request holds too). This patch only serves it; until
the engine has found the service (``targetId`` empty), the target's id is the
deployment group's ``<clusterName>:<serviceName>``.

Left out: targets of EC2/On-premises, Lambda and CloudFormation deployments
(moto never starts those, so they stay without targets and answer
``DeploymentNotStartedException``, as AWS does before a deployment starts); an
ECS deployment the engine has not picked up yet answers the same, where AWS
would already list its service. How AWS applies ``ServerInstanceLabel`` to an
ECS target is not documented; matching a task set's ``taskSetLabel`` is the
emulator's reading. An empty value list in a filter does not filter.
"""

from __future__ import annotations

import copy
import functools
import re
from typing import Any

from . import _codedeploy_state as state
from ._util import add_method, replace

GAP = (
    "CodeDeploy has no ListDeploymentTargets, BatchGetDeploymentTargets or "
    "GetDeploymentTarget, and an ECS deployment's deploymentOverview stays all zeros."
)

#: The attribute of moto's DeploymentInfo where the engine keeps the ``ecsTarget``.
ECS_TARGET_ATTRIBUTE = "deployer_ecs_target"

#: How many target ids BatchGetDeploymentTargets takes, whatever the platform.
MAX_BATCH = 25

_DEPLOYMENT_ID = re.compile(r"d-[A-Z0-9]{9}")
_ECS_TARGET_ID = re.compile(r"[^:]+:[^:]+")
_FILTER_STATUS = "TargetStatus"
_FILTER_LABEL = "ServerInstanceLabel"


@functools.cache
def _enum(shape: str) -> tuple[str, ...]:
    """The values of one of the API's enums, from botocore's model of CodeDeploy."""
    from botocore.session import get_session

    model = get_session().get_service_model("codedeploy")
    enum: list[str] = getattr(model.shape_for(shape), "enum", [])
    return tuple(enum)


def ecs_target(deployment: Any) -> dict[str, Any] | None:
    """The ``ecsTarget`` the engine recorded on the deployment, if any."""
    target = getattr(deployment, ECS_TARGET_ATTRIBUTE, None)
    return target if isinstance(target, dict) else None


def _is_ecs(deployment: Any) -> bool:
    return bool(deployment.application.compute_platform == "ECS")


def _deployment(backend: Any, deployment_id: str | None) -> Any:
    """The deployment, after AWS's checks of the id: given, well formed, known."""
    known = deployment_id in backend.deployments  # moto's own ids (UUIDs) are well formed
    if deployment_id and not known and not _DEPLOYMENT_ID.fullmatch(deployment_id):
        raise state.error(
            "InvalidDeploymentIdException",
            f"Specified DeploymentId is not in the valid format: {deployment_id}",
        )
    return state.deployment(backend, deployment_id)


def _started_target(deployment: Any) -> dict[str, Any]:
    target = ecs_target(deployment)
    if target is None:
        raise state.error(
            "DeploymentNotStartedException",
            f"The deployment {deployment.deployment_id} has not started.",
        )
    return target


def _check_target_id(deployment: Any, target_id: str) -> None:
    if not target_id:
        raise state.error(
            "DeploymentTargetIdRequiredException", "A deployment target ID must be specified."
        )
    if _is_ecs(deployment) and not _ECS_TARGET_ID.fullmatch(target_id):
        raise state.error(
            "InvalidDeploymentTargetIdException",
            f"Invalid id {target_id} for ECS deployment, valid Id should be in format "
            "<cluster-name>:<service-name>",
        )


def _target_id(deployment: Any, target: dict[str, Any]) -> str:
    """The target's id: as recorded, or (before the engine has laid the deployment
    out) the deployment group's service, which is what the target is on AWS."""
    recorded = target.get("targetId")
    if recorded:
        return str(recorded)
    services = deployment.deployment_group.ecs_services or [{}]
    cluster, service = services[0].get("clusterName"), services[0].get("serviceName")
    return f"{cluster}:{service}" if cluster and service else ""


def _answer(deployment: Any, target_id: str) -> dict[str, Any]:
    """The DeploymentTarget for ``target_id``, a copy taken under the lock."""
    target = _started_target(deployment)
    if not target_id or _target_id(deployment, target) != target_id:
        raise state.error(
            "DeploymentTargetDoesNotExistException",
            f"The target {target_id} does not belong to the deployment {deployment.deployment_id}.",
        )
    answer = copy.deepcopy(target)
    answer["targetId"] = target_id
    return {"deploymentTargetType": "ECSTarget", "ecsTarget": answer}


def _filters(deployment: Any, filters: Any) -> dict[str, list[str]]:
    """ListDeploymentTargets' ``targetFilters``, checked as AWS checks them."""
    checked: dict[str, list[str]] = {}
    for name, values in (filters or {}).items():
        values = list(values or [])
        if name == _FILTER_STATUS:
            for value in values:
                if value not in _enum("TargetStatus"):
                    raise state.error(
                        "InvalidInstanceStatusException",
                        f"The specified instance status does not exist: {value}",
                    )
        elif name == _FILTER_LABEL:
            style = deployment.deployment_group.deployment_style or {}
            if not _is_ecs(deployment) and style.get("deploymentType") != "BLUE_GREEN":
                raise state.error(
                    "InvalidDeploymentInstanceTypeException",
                    "An instance type was specified for an in-place deployment. Instance "
                    "types are supported for blue/green deployments only.",
                )
            for value in values:
                if value not in _enum("TargetLabel"):
                    raise state.error(
                        "InvalidInstanceTypeException",
                        f"The instance type {value} is not valid: valid values are "
                        "Blue for an original environment and Green for a replacement "
                        "environment.",
                    )
        else:
            raise state.error(
                "InvalidTargetFilterNameException",
                f"The target filter name {name} is invalid: valid names are "
                f"{_FILTER_STATUS} and {_FILTER_LABEL}.",
            )
        checked[name] = values
    return checked


def _matches(target: dict[str, Any], filters: dict[str, list[str]]) -> bool:
    statuses = filters.get(_FILTER_STATUS)
    if statuses and target.get("status") not in statuses:
        return False
    labels = filters.get(_FILTER_LABEL)
    if labels:
        carried = {task_set.get("taskSetLabel") for task_set in target.get("taskSetsInfo") or []}
        if not carried.intersection(labels):
            return False
    return True


def overview(deployment: Any, recorded: dict[str, int]) -> dict[str, int]:
    """``deploymentOverview``: for an ECS deployment with a target, its one target
    counted under its status; otherwise what moto recorded."""
    target = ecs_target(deployment)
    if target is None or not _is_ecs(deployment):
        return recorded
    counts = dict.fromkeys(recorded, 0)
    status = target.get("status")
    if status in counts:
        counts[status] = 1
    return counts


def apply() -> None:
    from moto.codedeploy.models import DeploymentInfo
    from moto.codedeploy.responses import CodeDeployResponse
    from moto.core.responses import ActionResult

    def list_deployment_targets(self: Any) -> ActionResult:
        deployment = _deployment(self.codedeploy_backend, self._get_param("deploymentId"))
        if self._get_param("nextToken"):
            raise state.error(
                "InvalidNextTokenException", "The next token was specified in an invalid format."
            )
        filters = _filters(deployment, self._get_param("targetFilters"))
        target = _started_target(deployment)
        target_id = _target_id(deployment, target)
        ids = [target_id] if target_id and _matches(target, filters) else []
        return ActionResult({"targetIds": ids})

    def batch_get_deployment_targets(self: Any) -> ActionResult:
        deployment = _deployment(self.codedeploy_backend, self._get_param("deploymentId"))
        target_ids = list(self._get_param("targetIds") or [])
        if not target_ids:
            raise state.error(
                "DeploymentTargetIdRequiredException", "A deployment target ID must be specified."
            )
        if len(target_ids) > MAX_BATCH or (_is_ecs(deployment) and len(target_ids) > 1):
            raise state.error(
                "DeploymentTargetListSizeExceededException",
                f"The target list has {len(target_ids)} items: the target list of an "
                f"Amazon ECS deployment must have exactly one item (at most {MAX_BATCH} "
                "for any deployment).",
            )
        for target_id in target_ids:
            _check_target_id(deployment, target_id)
        _started_target(deployment)
        targets = [_answer(deployment, target_id) for target_id in target_ids]
        return ActionResult({"deploymentTargets": targets})

    def get_deployment_target(self: Any) -> ActionResult:
        deployment = _deployment(self.codedeploy_backend, self._get_param("deploymentId"))
        target_id = self._get_param("targetId") or ""
        _check_target_id(deployment, target_id)
        return ActionResult({"deploymentTarget": _answer(deployment, target_id)})

    add_method(CodeDeployResponse, "list_deployment_targets", list_deployment_targets)
    add_method(CodeDeployResponse, "batch_get_deployment_targets", batch_get_deployment_targets)
    add_method(CodeDeployResponse, "get_deployment_target", get_deployment_target)

    # ``responses._deployment_info`` is the shared patch's (_codedeploy_state), and a
    # second replace() of one attribute is a no-op: the overview is a property instead,
    # which __init__'s assignment goes through.
    def overview_factory(_original: Any) -> property:
        def get(self: Any) -> dict[str, int]:
            # An instance made before apply() keeps moto's own attribute.
            recorded = self.__dict__.get(
                "_deployer_recorded_overview", self.__dict__.get("deployment_overview", {})
            )
            return overview(self, recorded)

        def set_(self: Any, value: dict[str, int]) -> None:
            self.__dict__["_deployer_recorded_overview"] = value

        return property(get, set_)

    replace(DeploymentInfo, "deployment_overview", overview_factory)
