"""ec2_security_group_rule_description."""

from __future__ import annotations

from typing import Any

from ._helpers import unique
from .conftest import Server


def referenced_rules(server: Server) -> dict[bool, dict[str, Any]]:
    """An ingress and an egress rule referencing another group, keyed by IsEgress."""
    ec2 = server.client("ec2")
    vpc = ec2.create_vpc(CidrBlock="10.9.0.0/16")["Vpc"]["VpcId"]
    alb = ec2.create_security_group(GroupName=unique("alb"), Description="alb", VpcId=vpc)
    tasks = ec2.create_security_group(GroupName=unique("tasks"), Description="tasks", VpcId=vpc)
    ec2.authorize_security_group_ingress(
        GroupId=tasks["GroupId"],
        IpPermissions=[
            {
                "IpProtocol": "tcp",
                "FromPort": 8080,
                "ToPort": 8080,
                "UserIdGroupPairs": [
                    {"GroupId": alb["GroupId"], "Description": "From the load balancer"}
                ],
            }
        ],
    )
    ec2.authorize_security_group_egress(
        GroupId=alb["GroupId"],
        IpPermissions=[
            {
                "IpProtocol": "tcp",
                "FromPort": 8080,
                "ToPort": 8080,
                "UserIdGroupPairs": [{"GroupId": tasks["GroupId"], "Description": "To the tasks"}],
            }
        ],
    )
    rules = ec2.describe_security_group_rules(
        Filters=[{"Name": "group-id", "Values": [alb["GroupId"], tasks["GroupId"]]}]
    )["SecurityGroupRules"]
    return {
        rule["IsEgress"]: rule
        for rule in rules
        if "ReferencedGroupInfo" in rule  # not the default allow-all egress
    }


def test_referenced_group_rule_description(patched: Server, stock: Server) -> None:
    rules = referenced_rules(patched)
    assert rules[False]["Description"] == "From the load balancer"
    assert rules[True]["Description"] == "To the tasks"

    stock_rules = referenced_rules(stock)
    assert "Description" not in stock_rules[False]
    assert "Description" not in stock_rules[True]
