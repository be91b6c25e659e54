"""EC2: deleting a NAT gateway releases its Elastic IP.

On AWS, once a NAT gateway is deleted its Elastic IP is disassociated and can be
given to a new NAT gateway. moto 5.2.5 marks the gateway ``deleted`` but keeps
the address associated with the gateway's network interface, so creating a
replacement NAT gateway with the same allocation fails with
``Resource.AlreadyAssociated``. Terraform hits this whenever it replaces a NAT
gateway but keeps its EIP: a gateway left tainted by an interrupted apply, or a
change to the gateway's subnet.
"""

from __future__ import annotations

from typing import Any

from ._util import replace

GAP = (
    "EC2 DeleteNatGateway keeps the Elastic IP associated: replacing a NAT gateway that "
    "keeps its EIP fails with Resource.AlreadyAssociated."
)


def apply() -> None:
    from moto.ec2.models.nat_gateways import NatGatewayBackend

    def factory(original: Any) -> Any:
        def delete_nat_gateway(self: Any, nat_gateway_id: str) -> Any:
            gateway = original(self, nat_gateway_id)
            eni = getattr(gateway, "_eni", None)
            if eni is not None:
                for address in list(self.addresses):
                    if address.eni is eni and address.association_id:
                        self.disassociate_address(association_id=address.association_id)
            return gateway

        return delete_nat_gateway

    replace(NatGatewayBackend, "delete_nat_gateway", factory)
