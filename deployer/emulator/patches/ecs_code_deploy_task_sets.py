"""ECS: a CODE_DEPLOY service starts with its PRIMARY task set.

A service with the CODE_DEPLOY deployment controller runs its tasks in task
sets. On AWS, CreateService with a task definition creates the first one:
DescribeServices lists it under ``taskSets`` with status ``PRIMARY``, the
service's task definition, load balancers, network configuration, launch type
and a scale of 100 percent. Each blue/green deployment then creates a
replacement task set, makes it PRIMARY (UpdateServicePrimaryTaskSet) and
deletes the original, or on rollback deletes the replacement.

moto 5.2.5 creates no task set for such a service (``taskSets: []``), so there
is no original task set to return to: a rollback that makes it PRIMARY again
fails, and the service's task definition cannot follow its primary task set.
"""

from __future__ import annotations

from typing import Any

from ._util import replace

GAP = (
    "ECS CreateService with the CODE_DEPLOY controller creates no PRIMARY task set: "
    "there is no original task set to roll back to."
)


def apply() -> None:
    from moto.ecs.models import EC2ContainerServiceBackend, TaskSet

    def factory(original: Any) -> Any:
        def create_service(self: Any, *args: Any, **kwargs: Any) -> Any:
            service = original(self, *args, **kwargs)
            controller = (service.deployment_controller or {}).get("type")
            if controller != "CODE_DEPLOY" or not service.task_definition or service.task_sets:
                return service
            task_set = TaskSet(
                service.name,
                service.cluster_name,
                service.task_definition,
                self.account_id,
                self.region_name,
                network_configuration=service.network_configuration or None,
                load_balancers=[dict(lb) for lb in service.load_balancers],
                service_registries=list(service.service_registries),
                launch_type=service.launch_type,
                platform_version=service.platform_version,
                scale={"value": 100.0, "unit": "PERCENT"},
            )
            task_set.status = "PRIMARY"
            task_set.service_arn = service.arn
            task_set.cluster_arn = service.cluster_arn
            service.task_sets.append(task_set)
            return service

        return create_service

    replace(EC2ContainerServiceBackend, "create_service", factory)
