"""ECS: Fargate tasks in awsvpc mode can be started (RunTask, CreateTaskSet).

moto 5.2.5 fails to start such a task twice over (HTTP 500):

* a Fargate task definition may give its memory at task level only, with no
  ``memory``/``memoryReservation`` on its containers (this project's task
  definitions do exactly that); moto adds up the containers' memory to place
  the task and fails on the missing value (``int + None``);
* the task's network interface is described with its ``private_dns_name``, which
  moto only sets on interfaces in a VPC with DNS hostnames enabled
  (``AttributeError`` otherwise).

RunTask fails, and CreateTaskSet with a ``scale`` fails after it has already
attached the new task set to the service, leaving a half-created task set
behind. AWS starts such tasks: the task-level memory is what the task reserves,
and an interface without a DNS hostname simply has none. The patch counts the
task's memory when a container has none, and gives interfaces a
``private_dns_name`` of None unless moto set one.
"""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

from ._util import replace

GAP = (
    "ECS cannot start awsvpc Fargate tasks (RunTask, CreateTaskSet with a scale): HTTP 500 "
    "on task-level memory and on the task's network interface."
)


def _has_memory(container: dict[str, Any]) -> bool:
    return any(
        container.get(key) is not None
        for key in ("memory", "memoryReservation", "Memory", "MemoryReservation")
    )


def apply() -> None:
    from moto.ec2.models.elastic_network_interfaces import NetworkInterface
    from moto.ecs.models import EC2ContainerServiceBackend

    # A class default: moto's own instance attribute (DNS hostnames on) still wins.
    # moto's type for it is ``str``, inferred from that one assignment; an interface
    # without a DNS hostname has none, hence None.
    if "private_dns_name" not in NetworkInterface.__dict__:
        NetworkInterface.private_dns_name = None  # type: ignore[assignment]

    def factory(original: Any) -> Any:
        calculate = original.__func__ if isinstance(original, staticmethod) else original

        def _calculate_task_resource_requirements(task_definition: Any) -> dict[str, Any]:
            containers = task_definition.container_definitions
            if all(_has_memory(c) for c in containers):
                return dict(calculate(task_definition))
            sized = SimpleNamespace(
                container_definitions=[
                    c if _has_memory(c) else {**c, "memory": 0} for c in containers
                ]
            )
            requirements: dict[str, Any] = calculate(sized)
            task_memory = int(task_definition.memory or 0)
            requirements["MEMORY"] = max(requirements["MEMORY"], task_memory)
            return requirements

        return staticmethod(_calculate_task_resource_requirements)

    replace(EC2ContainerServiceBackend, "_calculate_task_resource_requirements", factory)
