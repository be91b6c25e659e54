"""EC2: DescribeSecurityGroupRules must return the description of a rule
that references another security group.

AWS keeps the ``Description`` of every security group rule, including one
whose source or destination is another security group (``UserIdGroupPairs``
in AuthorizeSecurityGroupIngress/Egress), and returns it in
DescribeSecurityGroupRules. moto 5.2.5 stores it with the referenced group
but reads a rule's description from its CIDR range only, so such a rule comes
back without a description and ``aws_vpc_security_group_ingress_rule`` /
``aws_vpc_security_group_egress_rule`` with ``referenced_security_group_id``
and a ``description`` show a perpetual diff.
"""

from __future__ import annotations

from typing import Any

from ._util import replace

GAP = (
    "EC2 DescribeSecurityGroupRules drops the Description of rules that reference "
    "a security group: perpetual diff on aws_vpc_security_group_*_rule description."
)


def apply() -> None:
    from moto.ec2.models.security_groups import SecurityGroupRule

    def description_factory(original: Any) -> property:
        def description(self: Any) -> str | None:
            found: str | None = original.fget(self)
            if found is None and self.source_group:
                found = self.source_group.get("Description")
            return found

        return property(description)

    replace(SecurityGroupRule, "description", description_factory)
