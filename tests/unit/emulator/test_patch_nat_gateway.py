"""ec2_nat_gateway_release_eip."""

from __future__ import annotations

import pytest
from botocore.exceptions import ClientError

from ._helpers import error_code
from .conftest import Server


def replace_nat_gateway(server: Server) -> tuple[str | None, str]:
    """Create a NAT gateway, delete it, create another with the same EIP.

    Returns (association id of the EIP after the delete, id of the new gateway).
    """
    ec2 = server.client("ec2")
    vpc = ec2.create_vpc(CidrBlock="10.8.0.0/16")["Vpc"]["VpcId"]
    subnet = ec2.create_subnet(VpcId=vpc, CidrBlock="10.8.1.0/24")["Subnet"]["SubnetId"]
    allocation = ec2.allocate_address(Domain="vpc")["AllocationId"]
    first = ec2.create_nat_gateway(SubnetId=subnet, AllocationId=allocation)
    ec2.delete_nat_gateway(NatGatewayId=first["NatGateway"]["NatGatewayId"])
    (address,) = ec2.describe_addresses(AllocationIds=[allocation])["Addresses"]
    second = ec2.create_nat_gateway(SubnetId=subnet, AllocationId=allocation)
    return address.get("AssociationId"), second["NatGateway"]["NatGatewayId"]


def test_deleting_a_nat_gateway_releases_its_eip(patched: Server, stock: Server) -> None:
    association, replacement = replace_nat_gateway(patched)
    assert association is None
    assert replacement.startswith("nat-")

    with pytest.raises(ClientError) as excinfo:
        replace_nat_gateway(stock)
    assert error_code(excinfo) == "Resource.AlreadyAssociated"
