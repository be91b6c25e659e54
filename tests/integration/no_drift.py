"""No drift fight: Terraform leaves a blue/green swap alone.

CodeDeploy moves production traffic to the green target group and the ECS
service to a new task definition revision (through task sets). The runtime
stack ignores exactly those attributes, so after a swap the re-plan is empty
and a later apply does not move anything back. The swap here is made with the
drill's release machinery (deployer/drill.py), the API calls CodeDeploy makes,
on the emulator the tests start.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest

from deployer import drill
from deployer.aws import Target
from deployer.emulator import controls
from deployer.scope import Scope
from tests.integration.stacks import config, stack_run

pytestmark = pytest.mark.integration

CFG = config()
ENV = "staging"
REGION = "us-east-1"
MICROSERVICE = "api-service"


def test_terraform_does_not_undo_a_blue_green_swap(
    target: Target, tf_env: dict[str, str], terraform_binary: str, tmp_path: Path
) -> None:
    run = stack_run(
        CFG,
        ENV,
        REGION,
        target=target,
        tf_env=tf_env,
        terraform_binary=terraform_binary,
        work_dir=tmp_path,
    )
    made: dict[str, Any] = {}

    def client(name: str) -> Any:
        if name not in made:
            made[name] = run.client(name)
        return made[name]

    def engine(deployment_id: str, status: str) -> None:
        controls.post(
            str(target.endpoint),
            "codedeploy/deployment-status",
            {
                "account_id": run.env.account_id,
                "region": REGION,
                "deployment_id": deployment_id,
                "status": status,
            },
        )

    def swapped_state(layout: drill.Layout) -> tuple[str, str, list[tuple[str, str]]]:
        service = drill.service_state(client, layout)
        return (
            layout.name_of(drill.listener_target(client, layout.production_listener)),
            service["taskDefinition"],
            [(ts["status"], ts["taskDefinition"]) for ts in service["taskSets"]],
        )

    try:
        run.apply()
        layout = drill.discover(Scope(CFG, run.env, REGION, target, run.clients), MICROSERVICE)
        blue, green = layout.original_target_group, layout.replacement_target_group
        assert layout.name_of(blue).endswith("-blue") and layout.name_of(green).endswith("-green")

        # A successful release, as CodeDeploy makes it.
        release = drill.Release(
            layout, client, drill.Timeline(time.time), engine=engine, label="no-drift"
        )
        revision = release.register_revision()
        assert revision != layout.task_definition
        deployment_id = release.create_deployment()
        release.install()
        release.allow_test_traffic()
        release.allow_traffic()
        release.finish()
        swapped = (layout.name_of(green), revision, [("PRIMARY", revision)])
        assert swapped_state(layout) == swapped
        info = client("codedeploy").get_deployment(deploymentId=deployment_id)["deploymentInfo"]
        assert info["status"] == "Succeeded"

        # Terraform sees nothing to change ...
        assert run.plan_changes() == []
        # ... and an apply (what `deployer apply staging` runs) moves nothing back.
        run.apply()
        assert swapped_state(layout) == swapped
        assert drill.listener_target(client, layout.test_listener) == green
        assert run.plan_changes() == []
    finally:
        run.destroy()
