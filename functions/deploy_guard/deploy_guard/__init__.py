"""The deploy guard: health checks and alarm-driven rollback for ECS blue/green deployments.

``deploy_guard.handler.handler`` is the Lambda entry point; ``Guard`` holds the logic, with
its AWS clients injected so that tests and the rollback drill run it against moto or the
local emulator. (The package does not re-export the ``handler`` function: that name is the
``deploy_guard.handler`` module.)
"""

from __future__ import annotations

from deploy_guard.handler import Check, Guard, Verdict

__all__ = ["Check", "Guard", "Verdict"]
