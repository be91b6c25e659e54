"""The deploy guard: health checks and alarm-driven rollback for ECS blue/green deployments.

``deploy_guard.handler.handler`` is the Lambda entry point; ``Guard`` holds the logic, with
its AWS clients injected so that tests and the rollback drill run it against moto or the
local emulator. (The package does not re-export the ``handler`` function: that name is the
``deploy_guard.handler`` module.)
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from deploy_guard.handler import Check, Guard, Verdict

__all__ = ["Check", "Guard", "Verdict"]


def __getattr__(name: str) -> Any:
    # Imported on first use (PEP 562): the deployer imports deploy_guard.statuses on
    # every start, and should not pay for boto3 there (the handler imports it).
    if name in __all__:
        from deploy_guard import handler

        return getattr(handler, name)
    raise AttributeError(f"module 'deploy_guard' has no attribute {name!r}")
