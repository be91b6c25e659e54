"""ELBv2: DescribeTargetHealth reports the load balancer's health checks, and a
deregistered target drains.

After the ALB user guide ("Health checks for Application Load Balancer target
groups": target health states and reason codes; "Deregistration delay"): a
registered target is ``initial`` (``Elb.RegistrationInProgress``, then
``Elb.InitialHealthChecking``) until its health checks decide ``healthy`` or
``unhealthy``; it is ``unused`` (``Target.NotInUse``) while its group is used by
no listener; a deregistered target stays ``draining``
(``Target.DeregistrationInProgress``), listed by DescribeTargetHealth, for the
group's ``deregistration_delay.timeout_seconds``, then is ``unused``
(``Target.NotRegistered``) and no longer listed.

moto runs no health checks: it reports every registered target ``healthy`` and
forgets a deregistered one at once. The checks themselves run in the
``elb-listeners`` engine (:mod:`deployer.emulator.engines.elb_health`), which
watches a group by recording its targets' health on it (:func:`record`) and
ends each drain when its delay has passed; while it runs, every group is
watched. A group no engine watches (an emulator without the engine, which
runs with the runtime) is reported as stock moto reports it. Nothing else sets a
target's health: as on AWS, it is what the checks measured.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, NamedTuple

from ._util import replace

if TYPE_CHECKING:
    from collections.abc import Callable

    from moto.ec2.models import EC2Backend
    from moto.elbv2.models import ELBv2Backend, FakeHealthStatus, FakeTargetGroup


GAP = (
    "DescribeTargetHealth reports every registered target healthy and drops a "
    "deregistered target at once; AWS reports the health checks' initial, healthy, "
    "unhealthy and unused states with their reason codes, and a deregistered target "
    "draining for the group's deregistration delay."
)

#: Attributes of a target group (not moto's): the engine's records, the drains.
_CHECKS = "deployer_checks"
_DRAINING = "deployer_draining"

REGISTERING = ("initial", "Elb.RegistrationInProgress", "Target registration is in progress")
DRAINING = ("draining", "Target.DeregistrationInProgress", "Target deregistration is in progress")


class Health(NamedTuple):
    """One target's health as DescribeTargetHealth reports it."""

    state: str
    reason: str | None = None
    description: str | None = None


@dataclass
class Drain:
    """A deregistered target being drained; ``until`` (emulated epoch seconds) is set
    by the engine's first round after the deregistration."""

    target: dict[str, Any]
    until: float | None = None


def record(group: FakeTargetGroup, health: dict[str, Health]) -> None:
    """The engine's view of the group's registered targets, by target id (the caller
    holds the backend lock). A group with a record is watched: it drains."""
    setattr(group, _CHECKS, dict(health))


#: How many engines run the health checks in this process (see :func:`running`).
_engines = 0


def running(yes: bool) -> None:
    """An engine that runs the health checks starts (True) or stops (False): while one
    runs, every group is watched, also one created since the engine's last round."""
    global _engines
    _engines = max(0, _engines + (1 if yes else -1))


def watched(group: FakeTargetGroup) -> bool:
    return _engines > 0 or getattr(group, _CHECKS, None) is not None


def drains(group: FakeTargetGroup) -> dict[str, Drain]:
    """The group's draining targets by id (created on first use)."""
    found: dict[str, Drain] | None = getattr(group, _DRAINING, None)
    if found is None:
        found = {}
        setattr(group, _DRAINING, found)
    return found


def apply() -> None:
    from moto.elbv2.models import ELBv2Backend, FakeHealthStatus, FakeTargetGroup

    def register_factory(original: Callable[..., None]) -> Callable[..., None]:
        def register(self: FakeTargetGroup, targets: list[dict[str, Any]]) -> None:
            original(self, targets)
            for target in targets:  # registered again: no longer draining
                getattr(self, _DRAINING, {}).pop(target["Id"], None)

        return register

    def deregister_factory(original: Callable[..., None]) -> Callable[..., None]:
        def deregister(self: FakeTargetGroup, targets: list[dict[str, Any]]) -> None:
            known = {
                t["Id"]: dict(self.targets[t["Id"]]) for t in targets if t["Id"] in self.targets
            }
            draining = drains(self) if watched(self) else {}
            targets = [t for t in targets if t["Id"] in known or t["Id"] not in draining]
            original(self, targets)  # raises InvalidTarget for one never registered
            if watched(self):
                for target_id, target in known.items():
                    draining[target_id] = Drain(target)

        return deregister

    def describe_factory(original: Callable[..., Any]) -> Callable[..., Any]:
        def describe_target_health(
            self: ELBv2Backend, target_group_arn: str, targets: list[dict[str, Any]]
        ) -> list[FakeHealthStatus]:
            group = self.target_groups.get(target_group_arn)
            if group is None or not watched(group):
                found: list[FakeHealthStatus] = original(self, target_group_arn, targets)
                return found
            if not targets:
                draining = [d.target for d in getattr(group, _DRAINING, {}).values()]
                targets = [*group.targets.values(), *draining]
            return [_health(group, t, self.ec2_backend) for t in targets]

        return describe_target_health

    def _health(
        group: FakeTargetGroup, target: dict[str, Any], ec2: EC2Backend
    ) -> FakeHealthStatus:
        target_id = target["Id"]
        registered = group.targets.get(target_id)
        checks: dict[str, Health] = getattr(group, _CHECKS, {})
        if registered is None:
            drain = getattr(group, _DRAINING, {}).get(target_id)
            if drain is None:
                return group.health_for(target, ec2)  # stock: unused, Target.NotRegistered
            port = drain.target.get("Port", group.port)
            return FakeHealthStatus(target_id, port, group.health_check_port, *DRAINING)
        health = checks.get(target_id) or Health(*REGISTERING)
        return FakeHealthStatus(
            target_id,
            registered["Port"],
            group.health_check_port,
            health.state,
            health.reason,
            health.description,
        )

    replace(FakeTargetGroup, "register", register_factory)
    replace(FakeTargetGroup, "deregister", deregister_factory)
    replace(ELBv2Backend, "describe_target_health", describe_factory)
