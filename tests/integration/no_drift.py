"""No drift fight: Terraform leaves a blue/green swap alone.

CodeDeploy moves production traffic to the green target group and the ECS
service to a new task definition revision (through task sets). The runtime
stack ignores exactly those attributes, so after a swap the re-plan is empty
and a later apply does not move anything back. The integration tests' emulator
runs without its runtime, so no CodeDeploy engine deploys there: the swap here is
made with the ECS and ELB calls CodeDeploy's engine makes for a successful
blue/green deployment (:func:`swap`); the engine itself is tested with the runtime
(tests/unit/emulator/test_codedeploy_engine.py, tests/runtime/test_services_e2e.py).

Then `deployer drift` on the same workspace: changes made behind Terraform's back
(an alarm threshold, a log retention) are found, exactly those, and what the swap
changed is listed as left to CodeDeploy, not as drift. It runs inside the staging
case of test_runtime_stack, on the workspace that test applied (one apply less in CI).
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import pytest

from deployer import cli, drill, errors
from deployer.aws import Target
from deployer.names import role_name_of
from deployer.scope import Scope
from tests.integration.stacks import StackRun, config

CFG = config()
ENV = "staging"
REGION = "us-east-1"
MICROSERVICE = "api-service"


def swap(client: Any, layout: drill.Layout, task_definition: str) -> None:
    """A successful blue/green swap, with the calls CodeDeploy's engine makes: the
    replacement task set behind the green target group, the test and production
    listeners to green, green the primary task set, the original one deleted."""
    ecs, elbv2 = client("ecs"), client("elbv2")
    green = ecs.create_task_set(
        cluster=layout.cluster,
        service=layout.service,
        taskDefinition=task_definition,
        externalId="no-drift",
        networkConfiguration=layout.network_configuration,
        loadBalancers=[{
            "targetGroupArn": layout.replacement_target_group,
            "containerName": layout.container_name,
            "containerPort": layout.container_port,
        }],
        launchType=layout.launch_type,
        scale={"unit": "PERCENT", "value": 100.0},
    )["taskSet"]["taskSetArn"]  # fmt: skip
    for listener in (layout.test_listener, layout.production_listener):
        elbv2.modify_listener(
            ListenerArn=listener,
            DefaultActions=[{"Type": "forward", "TargetGroupArn": layout.replacement_target_group}],
        )
    ecs.update_service_primary_task_set(
        cluster=layout.cluster, service=layout.service, primaryTaskSet=green
    )
    ecs.delete_task_set(
        cluster=layout.cluster, service=layout.service, taskSet=layout.primary_task_set
    )


def check_no_drift_fight(
    run: StackRun,
    target: Target,
    tmp_path: Path,
    emulator_state_dir: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """On an applied staging workspace: a swap, no drift fight, then `deployer drift`."""
    made: dict[str, Any] = {}

    def client(name: str) -> Any:
        if name not in made:
            made[name] = run.client(name)
        return made[name]

    def swapped_state(layout: drill.Layout) -> tuple[str, str, list[tuple[str, str]]]:
        service = drill.service_state(client, layout)
        return (
            layout.name_of(drill.listener_target(client, layout.production_listener)),
            service["taskDefinition"],
            [(ts["status"], ts["taskDefinition"]) for ts in service["taskSets"]],
        )

    layout = drill.discover(Scope(CFG, run.env, REGION, target, run.clients), MICROSERVICE)
    blue, green = layout.original_target_group, layout.replacement_target_group
    assert layout.name_of(blue).endswith("-blue") and layout.name_of(green).endswith("-green")

    # A successful release, as CodeDeploy's engine makes it.
    release = drill.Release(layout, client, drill.Timeline(time.time), label="no-drift")
    revision = release.register_revision()
    assert revision != layout.task_definition
    swap(client, layout, revision)
    swapped = (layout.name_of(green), revision, [("PRIMARY", revision)])
    assert swapped_state(layout) == swapped

    # Terraform sees nothing to change ...
    assert run.plan_changes() == []
    # `deployer drift`: changes made behind Terraform's back are found, exactly
    # those; what the swap changed is left to CodeDeploy, not reported as drift.
    names = CFG.names.service(ENV, REGION, MICROSERVICE)
    cloudwatch = client("cloudwatch")
    (alarm,) = cloudwatch.describe_alarms(AlarmNames=[names.alarm_names.unhealthy_targets])[
        "MetricAlarms"
    ]
    keep = ("AlarmName", "AlarmDescription", "ActionsEnabled", "OKActions", "AlarmActions",
            "InsufficientDataActions", "MetricName", "Namespace", "Statistic", "Dimensions",
            "Period", "EvaluationPeriods", "DatapointsToAlarm", "ComparisonOperator",
            "TreatMissingData")  # fmt: skip
    cloudwatch.put_metric_alarm(
        **{k: alarm[k] for k in keep if k in alarm}, Threshold=alarm["Threshold"] + 5
    )
    client("logs").put_retention_policy(logGroupName=names.log_group_name, retentionInDays=7)
    monkeypatch.setenv("DEPLOYER_STATE_DIR", str(emulator_state_dir))
    report = tmp_path / "drift.md"
    args = ["drift", ENV, "--json", "--summary-md", str(report)]
    assert cli.main(args) == errors.EXIT_CHANGES
    (workspace,) = json.loads(capsys.readouterr().out)["workspaces"]
    assert workspace["status"] == "drifted"
    found = sorted(
        ((d["address"], a["attribute"], a["state"], a["remote"])
         for d in workspace["drifted"] for a in d["attributes"]),
        key=lambda t: (t[0], t[1]),
    )  # fmt: skip
    service = f'module.service["{MICROSERVICE}"]'
    assert found == [
        (f'module.monitoring.aws_cloudwatch_metric_alarm.unhealthy_targets["{MICROSERVICE}"]',
         "threshold", alarm["Threshold"], alarm["Threshold"] + 5),
        (f"{service}.aws_cloudwatch_log_group.this", "retention_in_days",
         CFG.environment(ENV).log_retention_days, 7),
    ]  # fmt: skip
    left = {d["address"]: d["left_to_codedeploy"] for d in workspace["left_to_codedeploy"]}
    assert left[f"{service}.aws_ecs_service.this"] == ["load_balancer", "task_definition"]
    assert left[f"{service}.aws_lb_listener.production"] == ["default_action"]
    text = report.read_text()
    assert f"retention_in_days: {CFG.environment(ENV).log_retention_days} -> 7" in text
    assert "Left to CodeDeploy" in text
    # Read-only, as the drift workflow runs it: state as the CI plan role, the
    # account through the read role the stack created (the emulator does not
    # evaluate IAM, so this shows the path and the role, not the permissions).
    read_role = CFG.names.target(ENV, REGION).ci_read_role_arn
    role = client("iam").get_role(RoleName=role_name_of(read_role))["Role"]
    assert role["Arn"] == read_role
    (trusted,) = role["AssumeRolePolicyDocument"]["Statement"]
    assert trusted["Principal"]["AWS"] in (plan_role := CFG.names.delivery.ci_plan_role_arn,
                                           [plan_role])  # fmt: skip
    assert cli.main(["drift", ENV, "--read-only", "--json"]) == errors.EXIT_CHANGES
    (read_only,) = json.loads(capsys.readouterr().out)["workspaces"]
    assert sorted(
        (d["address"], a["attribute"]) for d in read_only["drifted"] for a in d["attributes"]
    ) == [(address, attribute) for address, attribute, _, _ in found]
    # Put back what was changed, for the checks that follow on this workspace.
    cloudwatch.put_metric_alarm(**{k: alarm[k] for k in keep if k in alarm},
                                Threshold=alarm["Threshold"])  # fmt: skip
    client("logs").put_retention_policy(
        logGroupName=names.log_group_name,
        retentionInDays=CFG.environment(ENV).log_retention_days,
    )

    # ... and an apply (what `deployer apply staging` runs) moves nothing back.
    run.apply()
    assert swapped_state(layout) == swapped
    assert drill.listener_target(client, layout.test_listener) == green
    assert run.plan_changes() == []
