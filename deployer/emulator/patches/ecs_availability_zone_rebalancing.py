"""ECS: services must report ``availabilityZoneRebalancing``.

AWS stores the ``availabilityZoneRebalancing`` of CreateService/UpdateService
and returns it in DescribeServices (DISABLED for a service that cannot
rebalance, such as one with the CODE_DEPLOY deployment controller). moto 5.2.5
ignores the parameter and omits the field, so ``aws_ecs_service`` (which sends
DISABLED by default) reads back "" and shows a perpetual diff on
``availability_zone_rebalancing``.
"""

from __future__ import annotations

from typing import Any

from ._util import replace

GAP = (
    "ECS DescribeServices omits availabilityZoneRebalancing: perpetual diff on "
    "aws_ecs_service availability_zone_rebalancing."
)

_DEFAULT = "DISABLED"


def apply() -> None:
    from moto.ecs.models import Service
    from moto.ecs.responses import EC2ContainerServiceResponse

    if not hasattr(Service, "availability_zone_rebalancing"):
        # A class default, for a service the patched CreateService did not make;
        # moto's Service declares no such attribute.
        setattr(Service, "availability_zone_rebalancing", _DEFAULT)  # noqa: B010

    def create_factory(original: Any) -> Any:
        def create_service(self: Any) -> Any:
            result = original(self)
            service = result.result["service"]
            service.availability_zone_rebalancing = (
                self._get_param("availabilityZoneRebalancing") or _DEFAULT
            )
            return result

        return create_service

    def update_factory(original: Any) -> Any:
        def update_service(self: Any) -> Any:
            value = self._get_param("availabilityZoneRebalancing")
            result = original(self)
            if value:
                result.result["service"].availability_zone_rebalancing = value
            return result

        return update_service

    replace(EC2ContainerServiceResponse, "create_service", create_factory)
    replace(EC2ContainerServiceResponse, "update_service", update_factory)
