"""ELBv2: DescribeTargetHealth reports the engine's health checks and draining targets.

moto (in this process) with the patch applied: a group the engine watches reports
what the engine recorded, ``initial`` for a target it has not checked yet, and a
deregistered target as ``draining`` until the engine ends the drain; a group it
does not watch (every group of an emulator without the engine, which runs with
the runtime) is reported as stock moto reports it.
"""

from __future__ import annotations

from typing import Any

import boto3
import pytest

from deployer.emulator.patches import elbv2_target_health_checks as patch
from deployer.emulator.patches.elbv2_target_health_checks import Health


@pytest.fixture
def elb(aws: Any) -> tuple[Any, str]:
    patch.apply()
    ec2 = boto3.client("ec2", region_name="us-east-1")
    vpc = ec2.create_vpc(CidrBlock="10.6.0.0/16")["Vpc"]["VpcId"]
    client = boto3.client("elbv2", region_name="us-east-1")
    group = client.create_target_group(
        Name="checked", Protocol="HTTP", Port=8080, VpcId=vpc, TargetType="ip"
    )["TargetGroups"][0]["TargetGroupArn"]
    client.register_targets(
        TargetGroupArn=group, Targets=[{"Id": "10.6.0.1"}, {"Id": "10.6.0.2"}, {"Id": "10.6.0.3"}]
    )
    return client, group


def moto_group(arn: str) -> Any:
    from moto.elbv2.models import elbv2_backends

    return elbv2_backends["123456789012"]["us-east-1"].target_groups[arn]


def health(client: Any, group: str, **kwargs: Any) -> dict[str, tuple[str, str | None]]:
    found = client.describe_target_health(TargetGroupArn=group, **kwargs)
    return {
        t["Target"]["Id"]: (t["TargetHealth"]["State"], t["TargetHealth"].get("Reason"))
        for t in found["TargetHealthDescriptions"]
    }


def test_an_unwatched_group_is_reported_as_stock_moto_reports_it(elb: tuple[Any, str]) -> None:
    client, group = elb
    assert set(health(client, group).values()) == {("healthy", None)}
    client.deregister_targets(TargetGroupArn=group, Targets=[{"Id": "10.6.0.1"}])
    assert "10.6.0.1" not in health(client, group)  # gone at once


def test_a_watched_group_reports_the_checks_and_drains(elb: tuple[Any, str]) -> None:
    client, group = elb
    fails = Health("unhealthy", "Target.Timeout", "Request timed out")
    patch.record(moto_group(group), {"10.6.0.1": Health("healthy"), "10.6.0.2": fails})
    assert health(client, group) == {
        "10.6.0.1": ("healthy", None),
        "10.6.0.2": ("unhealthy", "Target.Timeout"),
        "10.6.0.3": ("initial", "Elb.RegistrationInProgress"),  # not checked yet
    }
    # The checks' next verdict is what is reported next.
    patch.record(moto_group(group), {"10.6.0.1": fails, "10.6.0.2": fails})
    assert health(client, group)["10.6.0.1"] == ("unhealthy", "Target.Timeout")

    # Deregistered: draining, still listed, until the engine ends the drain.
    client.deregister_targets(TargetGroupArn=group, Targets=[{"Id": "10.6.0.2"}])
    found = client.describe_target_health(TargetGroupArn=group)["TargetHealthDescriptions"]
    drained = next(t for t in found if t["Target"]["Id"] == "10.6.0.2")
    assert drained["TargetHealth"] == {
        "State": "draining",
        "Reason": "Target.DeregistrationInProgress",
        "Description": "Target deregistration is in progress",
    }
    assert drained["Target"]["Port"] == 8080
    client.deregister_targets(TargetGroupArn=group, Targets=[{"Id": "10.6.0.2"}])  # again: fine
    assert patch.drains(moto_group(group))["10.6.0.2"].until is None  # the engine sets it
    del patch.drains(moto_group(group))["10.6.0.2"]  # the delay passed
    assert "10.6.0.2" not in health(client, group)
    assert health(client, group, Targets=[{"Id": "10.6.0.2"}]) == {
        "10.6.0.2": ("unused", "Target.NotRegistered")
    }

    # Registered again while draining: no longer draining, checked anew.
    client.deregister_targets(TargetGroupArn=group, Targets=[{"Id": "10.6.0.3"}])
    client.register_targets(TargetGroupArn=group, Targets=[{"Id": "10.6.0.3"}])
    assert "10.6.0.3" not in patch.drains(moto_group(group))
    assert health(client, group)["10.6.0.3"] == ("initial", "Elb.RegistrationInProgress")


def test_while_an_engine_runs_a_new_group_is_watched_before_its_first_round(
    elb: tuple[Any, str],
) -> None:
    client, group = elb
    patch.running(True)
    try:
        assert set(health(client, group).values()) == {("initial", "Elb.RegistrationInProgress")}
        client.deregister_targets(TargetGroupArn=group, Targets=[{"Id": "10.6.0.1"}])
        assert health(client, group)["10.6.0.1"] == ("draining", "Target.DeregistrationInProgress")
    finally:
        patch.running(False)
    # No engine any more: stock moto's answers again.
    assert set(health(client, group).values()) == {("healthy", None)}
