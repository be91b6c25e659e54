"""ECS: a rolling-update service keeps its deployment configuration, and UpdateService
starts a new deployment.

After the ECS developer guide ("Deploy Amazon ECS services by replacing tasks") and
the API reference (CreateService, UpdateService, DeploymentConfiguration,
Deployment): a service with the ECS deployment controller reports its
``deploymentConfiguration`` (``maximumPercent`` 200, ``minimumHealthyPercent`` 100
and a circuit breaker turned off, ``{"enable": false, "rollback": false}``, unless
CreateService gave others); an UpdateService that changes the task definition, the
network configuration, the platform version or the load balancers, or that forces a
new deployment, starts a deployment: a new PRIMARY (``ecs-svc/<number>``, the
service's desired count, ``rolloutState`` IN_PROGRESS, "ECS deployment ... in
progress."), listed first, while the one it replaces becomes ACTIVE until its tasks
are gone. DescribeServices names the task definition by its ARN, however
UpdateService named it, and a change of the desired count is the PRIMARY's desired
count too.

moto 5.2.5 drops CreateService's ``deploymentConfiguration``, keeps the first
deployment PRIMARY with the old task definition after UpdateService (a forced
deployment only renames it) and stores the task definition as it was given
(``family:revision``). The tasks themselves, the counts and the end of a rollout
(COMPLETED, the ACTIVE deployment gone) are the ``ecs-tasks`` engine's part.

Left out: capacity provider strategies and service registries as triggers of a
deployment; a service with the CODE_DEPLOY or EXTERNAL controller keeps moto's
behaviour (it stores only the configuration it was given; its deployments are task
sets).
"""

from __future__ import annotations

import copy
from typing import Any

from ._util import _MARK, replace

GAP = (
    "ECS UpdateService with a new task definition starts no deployment (the PRIMARY keeps "
    "the old task definition) and CreateService drops deploymentConfiguration."
)

#: AWS's deploymentConfiguration for a REPLICA service when CreateService gives none.
DEFAULT_CONFIGURATION: dict[str, Any] = {
    "deploymentCircuitBreaker": {"enable": False, "rollback": False},
    "maximumPercent": 200,
    "minimumHealthyPercent": 100,
}
#: What UpdateService compares to decide whether it starts a deployment.
#: The mark of this patch's CreateService handler (see apply()).
_CHAINED = "__deployer_ecs_service_deployments__"
_TRIGGERS = ("task_definition", "network_configuration", "platform_version", "load_balancers")


def uses_ecs_controller(service: Any) -> bool:
    return bool((getattr(service, "deployment_controller", None) or {}).get("type", "ECS") == "ECS")


def configuration(given: dict[str, Any] | None) -> dict[str, Any]:
    """A deploymentConfiguration with AWS's defaults where ``given`` names none."""
    merged = copy.deepcopy(DEFAULT_CONFIGURATION)
    merged.update({k: v for k, v in (given or {}).items() if v is not None})
    return merged


def new_deployment(service: Any, task_definition: str, now: Any, reason: str | None = None) -> Any:
    """A new PRIMARY deployment of ``service`` first in its list; the previous PRIMARY
    becomes ACTIVE. Returns the new deployment (a dict, as moto keeps them)."""
    from moto.moto_api._internal import mock_random

    deployment_id = f"ecs-svc/{mock_random.randint(10**18, 10**19 - 1)}"
    for deployment in service.deployments:
        if deployment["status"] == "PRIMARY":
            deployment["status"] = "ACTIVE"
            deployment["updatedAt"] = now
    network = service.network_configuration or None
    deployment = {
        "createdAt": now,
        "desiredCount": service.desired_count,
        "failedTasks": 0,
        "id": deployment_id,
        "launchType": service.launch_type,
        "pendingCount": 0,
        "rolloutState": "IN_PROGRESS",
        "rolloutStateReason": reason or f"ECS deployment {deployment_id} in progress.",
        "runningCount": 0,
        "platformVersion": service.platform_version,
        "networkConfiguration": network,
        "platformFamily": "EC2" if service.launch_type == "EC2" else "FARGATE",
        "status": "PRIMARY",
        "taskDefinition": task_definition,
        "updatedAt": now,
    }
    service.deployments.insert(0, deployment)
    return deployment


def apply() -> None:
    from moto.core.utils import utcnow
    from moto.ecs.models import EC2ContainerServiceBackend
    from moto.ecs.responses import EC2ContainerServiceResponse

    def create_factory(original: Any) -> Any:
        def create_service(self: Any) -> Any:
            result = original(self)
            service = result.result["service"]
            given = self._get_param("deploymentConfiguration")
            if uses_ecs_controller(service):
                service.deployment_configuration = configuration(given)
            elif given:
                service.deployment_configuration = given
            return result

        return create_service

    def update_factory(original: Any) -> Any:
        def update_service(self: Any, service_properties: dict[str, Any]) -> Any:
            cluster = service_properties.get("cluster", "default")
            name = str(service_properties.get("service", "")).split("/")[-1]
            service = self._get_service(cluster, name)
            if not uses_ecs_controller(service):
                return original(self, service_properties)
            definition = service_properties.get("task_definition")
            if definition:  # AWS stores (and reports) the ARN, however it was named
                service_properties["task_definition"] = self.describe_task_definition(
                    definition
                ).arn
            given = service_properties.get("deployment_configuration")
            if given:  # the members UpdateService leaves out keep their values
                service_properties["deployment_configuration"] = {
                    **configuration(getattr(service, "deployment_configuration", None)),
                    **given,
                }
            force = bool(service_properties.pop("force_new_deployment", False))
            before = {key: copy.deepcopy(getattr(service, key, None)) for key in _TRIGGERS}
            updated = original(self, service_properties)
            changed = any(getattr(updated, key, None) != before[key] for key in _TRIGGERS)
            primary = next((d for d in updated.deployments if d["status"] == "PRIMARY"), None)
            if primary is not None:
                primary["desiredCount"] = updated.desired_count
            if updated.task_definition and (changed or force):
                new_deployment(updated, updated.task_definition, utcnow())
            return updated

        return update_service

    # ecs_availability_zone_rebalancing has replaced CreateService's handler already, and
    # replace() wraps an attribute once: this patch chains onto it under a mark of its own.
    handler = EC2ContainerServiceResponse.create_service
    if not getattr(handler, _CHAINED, False):
        chained = create_factory(handler)
        setattr(chained, _CHAINED, True)
        setattr(chained, _MARK, True)  # still a patched attribute for _util.is_patched
        EC2ContainerServiceResponse.create_service = chained  # type: ignore[method-assign]
    replace(EC2ContainerServiceBackend, "update_service", update_factory)
