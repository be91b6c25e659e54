"""ELBv2: DescribeTargetHealth reports the health a drill control set.

Not a fidelity gap: the hook in moto of a drill control. On AWS the load
balancer's health checks decide a target's health, and nothing can set it. moto
runs no health checks and reports every registered IP target ``healthy``, which
is as close to AWS as an emulator without traffic can be. A rollback drill
needs the new version's targets to fail their health checks, so the control
``POST /_deployer/elbv2/target-health`` (:mod:`deployer.emulator.controls`)
records a health for targets of a target group, and this patch makes
``FakeTargetGroup.health_for`` report it while the target stays registered. A
target without a recorded health is reported as stock moto reports it.

It is in the registry because it changes moto's classes, so that it is applied
and listed (``deployer emulator status``) like every other such change.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, NamedTuple

from ._util import is_patched, replace

if TYPE_CHECKING:
    from collections.abc import Callable

    from moto.ec2.models import EC2Backend
    from moto.elbv2.models import FakeHealthStatus, FakeTargetGroup

    HealthFor = Callable[[FakeTargetGroup, dict[str, Any], EC2Backend], FakeHealthStatus]

GAP = (
    "Not an AWS gap but the hook of the drill control POST /_deployer/elbv2/target-health: "
    "DescribeTargetHealth reports the health the control set, in place of the load "
    "balancer's health checks, which the emulator does not run."
)

#: Attribute of a target group holding its overrides (not a moto attribute).
_OVERRIDES = "deployer_health"


class HealthOverride(NamedTuple):
    """The health a control set for one target, as DescribeTargetHealth reports it."""

    state: str
    reason: str | None
    description: str | None


def overrides(group: FakeTargetGroup) -> dict[str, HealthOverride]:
    """The target group's overrides by target id, kept on the group (created on first use)."""
    found: dict[str, HealthOverride] | None = getattr(group, _OVERRIDES, None)
    if found is None:
        found = {}
        setattr(group, _OVERRIDES, found)
    return found


def is_applied() -> bool:
    """Whether this process's moto reports the overrides (the patch was applied)."""
    from moto.elbv2.models import FakeTargetGroup

    return is_patched(FakeTargetGroup, "health_for")


def apply() -> None:
    from moto.elbv2.models import FakeHealthStatus, FakeTargetGroup

    def factory(original: HealthFor) -> HealthFor:
        def health_for(
            self: FakeTargetGroup, target: dict[str, Any], ec2_backend: EC2Backend
        ) -> FakeHealthStatus:
            status = original(self, target, ec2_backend)
            recorded: dict[str, HealthOverride] = getattr(self, _OVERRIDES, {})
            override = recorded.get(target["Id"])
            if override is None or target["Id"] not in self.targets:
                return status
            return FakeHealthStatus(
                status.instance_id,
                status.port,
                status.health_check_port,
                override.state,
                override.reason,
                override.description,
            )

        return health_for

    replace(FakeTargetGroup, "health_for", factory)
