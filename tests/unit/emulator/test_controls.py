"""The drill controls (/_deployer/...): emulator-only, not fidelity patches.

They stand in for what AWS runs by itself (load balancer health checks,
CodeDeploy's deployment engine), so there is no AWS behaviour to compare with:
the test shows what a drill relies on, and that stock moto has no such thing.
Their hook in moto's classes is a patch of the registry
(``elbv2_target_health_control``): applied and listed with the others.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from collections.abc import Callable
from typing import Any

import pytest

from deployer.emulator import controls
from deployer.emulator.patches import elbv2_target_health_control
from deployer.errors import EmulatorError

from ._helpers import appspec, blue_green
from .conftest import ACCOUNT, REGION, Server

HOOK = elbv2_target_health_control.__name__.rpartition(".")[2]


def health(server: Server, target_group: str) -> dict[str, tuple[str, str | None]]:
    found = server.client("elbv2").describe_target_health(TargetGroupArn=target_group)
    return {
        t["Target"]["Id"]: (t["TargetHealth"]["State"], t["TargetHealth"].get("Reason"))
        for t in found["TargetHealthDescriptions"]
    }


def get(server: Server, path: str) -> tuple[int, Any]:
    try:
        with urllib.request.urlopen(server.endpoint + path, timeout=10) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()


def test_controls_are_listed(patched: Server, stock: Server) -> None:
    code, document = get(patched, "/_deployer/")
    assert code == 200
    paths = {c["path"] for c in document["controls"]}
    assert paths == {
        "/_deployer/elbv2/target-health",
        "/_deployer/codedeploy/deployment-status",
        "/_deployer/runtime",
    }
    assert sorted(controls.names()) == sorted(
        f"{c['method']} {c['path']}" for c in document["controls"]
    )
    code, _ = get(stock, "/_deployer/")
    assert code == 404
    # The controls' hook in moto is a patch: applied and announced (what
    # `deployer emulator status` lists) on the patched server only.
    assert HOOK in patched.patches
    assert HOOK not in stock.patches


def test_target_health_control(patched: Server) -> None:
    elb = patched.client("elbv2")
    setup = blue_green(patched)
    elb.register_targets(
        TargetGroupArn=setup.green, Targets=[{"Id": "10.9.1.10", "Port": 8080}, {"Id": "10.9.1.11"}]
    )
    assert health(patched, setup.green) == {
        "10.9.1.10": ("healthy", None),
        "10.9.1.11": ("healthy", None),
    }

    answer = controls.post(
        patched.endpoint,
        "elbv2/target-health",
        {
            "target_group_arn": setup.green,
            "state": "unhealthy",
            "reason": "Target.ResponseCodeMismatch",
            "description": "Health checks failed with these codes: [500]",
        },
    )
    assert answer["targets"] == {"10.9.1.10": "unhealthy", "10.9.1.11": "unhealthy"}
    assert health(patched, setup.green) == {
        "10.9.1.10": ("unhealthy", "Target.ResponseCodeMismatch"),
        "10.9.1.11": ("unhealthy", "Target.ResponseCodeMismatch"),
    }
    assert health(patched, setup.blue) == {}  # other groups untouched

    controls.post(
        patched.endpoint,
        "elbv2/target-health",
        {"target_group_arn": setup.green, "state": None, "target_ids": ["10.9.1.11"]},
    )
    assert health(patched, setup.green)["10.9.1.11"] == ("healthy", None)
    # A deregistered target is no longer reported with the override.
    elb.deregister_targets(TargetGroupArn=setup.green, Targets=[{"Id": "10.9.1.10", "Port": 8080}])
    assert "10.9.1.10" not in health(patched, setup.green)

    with pytest.raises(EmulatorError, match="HTTP 404"):
        controls.post(
            patched.endpoint,
            "elbv2/target-health",
            {
                "target_group_arn": setup.green.replace(setup.green[-6:], "000000"),
                "state": "unhealthy",
            },
        )
    with pytest.raises(EmulatorError, match="HTTP 400"):
        controls.post(
            patched.endpoint,
            "elbv2/target-health",
            {"target_group_arn": setup.green, "state": "sick"},
        )


def test_target_health_control_without_its_hook(server_factory: Callable[..., Server]) -> None:
    # An emulator whose --only-patches leaves the hook out refuses the control
    # rather than accept a health that DescribeTargetHealth would never report.
    partial = server_factory("--only-patches", "codecommit_timestamps")
    assert HOOK not in partial.patches
    ec2, elb = partial.client("ec2"), partial.client("elbv2")
    vpc = ec2.create_vpc(CidrBlock="10.8.0.0/16")["Vpc"]["VpcId"]
    group = elb.create_target_group(
        Name="hookless", Protocol="HTTP", Port=8080, VpcId=vpc, TargetType="ip"
    )["TargetGroups"][0]["TargetGroupArn"]
    elb.register_targets(TargetGroupArn=group, Targets=[{"Id": "10.8.1.10"}])
    with pytest.raises(EmulatorError, match=f"HTTP 501.*{HOOK}"):
        controls.post(
            partial.endpoint,
            "elbv2/target-health",
            {"target_group_arn": group, "state": "unhealthy"},
        )
    assert health(partial, group) == {"10.8.1.10": ("healthy", None)}


def test_deployment_status_control(patched: Server) -> None:
    setup = blue_green(patched)
    codedeploy = patched.client("codedeploy")
    deployment_id = codedeploy.create_deployment(
        applicationName=setup.application,
        deploymentGroupName=setup.group,
        revision=appspec(setup.task_definition, "arn:aws:lambda:us-east-1:123456789012:function:g"),
    )["deploymentId"]
    answer = controls.post(
        patched.endpoint,
        "codedeploy/deployment-status",
        {
            "account_id": ACCOUNT,
            "region": REGION,
            "deployment_id": deployment_id,
            "status": "Succeeded",
        },
    )
    assert answer == {"deployment_id": deployment_id, "status": "Succeeded"}
    deployment = codedeploy.get_deployment(deploymentId=deployment_id)["deploymentInfo"]
    assert deployment["status"] == "Succeeded"
    assert "completeTime" in deployment
    with pytest.raises(EmulatorError, match="HTTP 404"):
        controls.post(
            patched.endpoint,
            "codedeploy/deployment-status",
            {
                "account_id": ACCOUNT,
                "region": REGION,
                "deployment_id": "d-NONE",
                "status": "Failed",
            },
        )
    with pytest.raises(EmulatorError, match="HTTP 400"):
        controls.post(
            patched.endpoint,
            "codedeploy/deployment-status",
            {
                "account_id": ACCOUNT,
                "region": REGION,
                "deployment_id": deployment_id,
                "status": "Done",
            },
        )
