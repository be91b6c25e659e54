"""ECS: ListTasks with serviceName lists that service's tasks only.

AWS: ``serviceName`` "filters the results to tasks that belong to that
service"; a service's tasks carry the group ``service:<name>``. moto 5.2.5
ignores the parameter (its backend started no tasks for services) and lists
every task of the cluster, so a reader counting one service's tasks (the deploy
guard, a drill) counts all of them. With the ECS engine and the task set patch,
a service's tasks carry their group; this patch filters on it.
"""

from __future__ import annotations

from typing import Any

from ._util import replace

GAP = "ECS ListTasks ignores serviceName and lists every task of the cluster."


def apply() -> None:
    from moto.ecs.models import EC2ContainerServiceBackend

    def factory(original: Any) -> Any:
        def list_tasks(
            self: Any,
            cluster_str: str | None = None,
            container_instance: str | None = None,
            family: str | None = None,
            started_by: str | None = None,
            service_name: str | None = None,
            desiredStatus: str | None = None,
        ) -> Any:
            tasks = original(
                self, cluster_str, container_instance, family, started_by, None, desiredStatus
            )
            if not service_name:
                return tasks
            name = service_name.split("/")[-1]
            return [t for t in tasks if t.group == f"service:{name}"]

        return list_tasks

    replace(EC2ContainerServiceBackend, "list_tasks", factory)
