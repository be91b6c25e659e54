"""ECS: task sets and the services that run them report their task counts.

On AWS a task set reports ``computedDesiredCount`` (the service's desired count
times the task set's scale percentage, rounded up), ``runningCount`` and
``pendingCount``; the ``runningCount`` of a service with the CODE_DEPLOY or
EXTERNAL deployment controller counts the tasks of all its task sets (during a
blue/green deployment, original and replacement together).

moto 5.2.5 gives task sets no counts at all and reports such a service with
``runningCount`` 0 and ``pendingCount`` equal to its desired count for ever (or
the fixed ``MOTO_ECS_SERVICE_RUNNING``), so a check that the service runs as
many tasks as it wants fails on every healthy service.

The emulator runs no containers. As moto already does for UpdateService, it
reports the tasks a task set wants as started: ``runningCount`` =
``computedDesiredCount``, ``pendingCount`` 0. Services with the ECS deployment
controller keep moto's behaviour.
"""

from __future__ import annotations

import math
from typing import Any

from ._util import replace

GAP = (
    "ECS task sets report no counts and a CODE_DEPLOY service's runningCount is 0: "
    "a healthy service looks like it runs no task."
)

_TASK_SET_CONTROLLERS = ("CODE_DEPLOY", "EXTERNAL")


def _service_of(task_set: Any) -> Any:
    from moto.ecs.models import ecs_backends

    # arn:aws:ecs:REGION:ACCOUNT:task-set/CLUSTER/SERVICE/ID
    parts = task_set.task_set_arn.split(":")
    account, region = parts[4], parts[3]
    _, cluster, service = parts[5].split("/", 3)[:3]
    return ecs_backends[account][region].services.get(f"{cluster}:{service}")


def _computed_desired_count(task_set: Any) -> int:
    service = _service_of(task_set)
    if service is None:
        return 0
    scale = task_set.scale or {}
    if scale.get("unit", "PERCENT") != "PERCENT":
        return 0
    return math.ceil(int(service.desired_count) * float(scale.get("value", 100.0)) / 100)


def apply() -> None:
    from moto.ecs.models import Service, TaskSet

    replace(TaskSet, "computed_desired_count", lambda _o: property(_computed_desired_count))
    replace(TaskSet, "running_count", lambda _o: property(_computed_desired_count))
    replace(TaskSet, "pending_count", lambda _o: property(lambda self: 0))

    def uses_task_sets(service: Any) -> bool:
        controller = (getattr(service, "deployment_controller", None) or {}).get("type")
        return controller in _TASK_SET_CONTROLLERS

    def running(self: Any) -> int:
        if uses_task_sets(self):
            return sum(ts.running_count for ts in self.task_sets)
        return int(self.__dict__.get("deployer_running_count", 0))

    def set_running(self: Any, value: int) -> None:
        self.__dict__["deployer_running_count"] = value

    def pending(self: Any) -> int:
        if uses_task_sets(self):
            return sum(ts.pending_count for ts in self.task_sets)
        return int(self.__dict__.get("deployer_pending_count", 0))

    def set_pending(self: Any, value: int) -> None:
        self.__dict__["deployer_pending_count"] = value

    replace(Service, "running_count", lambda _o: property(running, set_running))
    replace(Service, "pending_count", lambda _o: property(pending, set_pending))
