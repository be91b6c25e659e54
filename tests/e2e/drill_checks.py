"""`deployer drill rollback` end to end: a broken release is rolled back, people hear of it.

On an applied staging, runs the drill through the CLI for the lifecycle hook path
(the guard fails green at AfterAllowTraffic) and the alarm path (the guard stops
the deployment when the alarm fires), checks the end state independently through
boto3 in the staging account, and that nothing is left for Terraform to change.

test_apply_staging.py calls :func:`check_drill_rolls_back_a_broken_release` on the
staging it applied (one staging apply less in CI).
"""

from __future__ import annotations

from typing import Any

import boto3

from deployer.emulator import TEST_CREDENTIALS
from tests.e2e.conftest import DeployerCLI

STAGING_ACCOUNT = "333333333333"
REGION = "us-east-1"
PREFIX = "acme-shop-staging"
SERVICE = f"{PREFIX}-api-service"


def staging_client(endpoint: str, service: str) -> Any:
    base = {
        "endpoint_url": endpoint,
        "region_name": REGION,
        "aws_access_key_id": TEST_CREDENTIALS["AWS_ACCESS_KEY_ID"],
        "aws_secret_access_key": TEST_CREDENTIALS["AWS_SECRET_ACCESS_KEY"],
    }
    creds = boto3.client("sts", **base).assume_role(  # type: ignore[call-overload]
        RoleArn=f"arn:aws:iam::{STAGING_ACCOUNT}:role/OrganizationAccountAccessRole",
        RoleSessionName="e2e-drill-check",
    )["Credentials"]
    return boto3.client(  # type: ignore[call-overload]
        service,
        **{
            **base,
            "aws_access_key_id": creds["AccessKeyId"],
            "aws_secret_access_key": creds["SecretAccessKey"],
            "aws_session_token": creds["SessionToken"],
        },
    )


def end_state(endpoint: str) -> dict[str, Any]:
    """What production serves and what the service runs, read independently of the drill."""
    elbv2 = staging_client(endpoint, "elbv2")
    (alb,) = elbv2.describe_load_balancers(Names=[f"{PREFIX}-api-alb"])["LoadBalancers"]
    listeners = {
        listener["Port"]: listener["DefaultActions"][0]["TargetGroupArn"]
        for listener in elbv2.describe_listeners(LoadBalancerArn=alb["LoadBalancerArn"])[
            "Listeners"
        ]
    }
    groups = {
        tg["TargetGroupArn"]: tg["TargetGroupName"]
        for tg in elbv2.describe_target_groups(Names=[f"{PREFIX}-api-blue", f"{PREFIX}-api-green"])[
            "TargetGroups"
        ]
    }
    (service,) = staging_client(endpoint, "ecs").describe_services(
        cluster=f"{PREFIX}-cluster", services=[SERVICE]
    )["services"]
    alarms = staging_client(endpoint, "cloudwatch").describe_alarms(AlarmNamePrefix=SERVICE)
    return {
        "production": groups[listeners[80]],
        "test": groups[listeners[8080]],
        "task_definition": service["taskDefinition"].rsplit("/", 1)[-1],
        "task_sets": [(ts["status"], ts["taskDefinition"]) for ts in service["taskSets"]],
        "alarms": {a["AlarmName"]: a["StateValue"] for a in alarms["MetricAlarms"]},
    }


def drill(cli: DeployerCLI, *args: str) -> dict[str, Any]:
    run = cli("drill", "rollback", "staging", "--service", "api-service", "--json", *args)
    assert run.returncode == 0, run.stderr[-3000:] + run.stdout[-3000:]
    document: dict[str, Any] = run.json()  # stdout is exactly one JSON document
    # Progress, step by step with its time, went to stderr.
    assert "the drill plays CodeDeploy's part" in run.stderr
    assert "  breach: " in run.stderr and "  traffic restored: " in run.stderr
    return document


def check_drill_rolls_back_a_broken_release(cli: DeployerCLI) -> None:
    """On an applied staging (its emulator running): both drills, end state checked."""
    endpoint = cli("emulator", "status", "--json").json()["endpoint"]
    before = end_state(endpoint)
    assert before["production"] == f"{PREFIX}-api-blue"
    assert before["task_definition"] == f"{SERVICE}:1"

    # -- the guard fails green at AfterAllowTraffic ----------------------------------
    doc = drill(cli)
    assert doc["ok"] is True, doc["problems"]
    assert doc["scenario"] == "AfterAllowTraffic" and doc["target"] == "local"
    assert all(doc["verified"].values()) and len(doc["verified"]) == 6
    deployment_id = doc["deployment_id"]
    assert doc["guard"]["status"] == "Failed" and doc["guard"]["deployment_id"] == deployment_id
    failed = {c["name"] for c in doc["guard"]["checks"] if not c["ok"]}
    assert failed == {"target_health", "alarms"}  # the breach, and nothing else
    message = doc["notification"]["message"]
    assert message["deployment_id"] == deployment_id
    assert {c["name"] for c in message["failed_checks"]} == failed
    assert 0 < doc["breach_to_traffic_restored_seconds"] < 2
    steps = [s["step"] for s in doc["steps"]]
    assert steps.index("allow traffic") < steps.index("breach") < steps.index("traffic restored")
    assert all(s["at"].endswith("Z") for s in doc["steps"])
    after = end_state(endpoint)
    assert after == before  # blue serving, previous revision, alarms as they were
    codedeploy = staging_client(endpoint, "codedeploy")
    info = codedeploy.get_deployment(deploymentId=deployment_id)["deploymentInfo"]
    assert info["status"] == "Failed"
    assert info["errorInformation"]["code"] == "HOOK_EXECUTION_FAILURE"
    rollback = codedeploy.get_deployment(deploymentId=info["rollbackInfo"]["rollbackDeploymentId"])
    assert rollback["deploymentInfo"]["status"] == "Succeeded"
    # The drill's revision is gone from the family's active revisions.
    revisions = staging_client(endpoint, "ecs").list_task_definitions(
        familyPrefix=SERVICE, status="ACTIVE"
    )["taskDefinitionArns"]
    assert [r.rsplit("/", 1)[-1] for r in revisions] == [f"{SERVICE}:1"]

    # -- the alarm fires after both hooks passed: the guard stops the deployment -------
    doc = drill(cli, "--hook", "alarm")
    assert doc["ok"] is True, doc["problems"]
    assert doc["guard"]["action"] == "rollback"
    message = doc["notification"]["message"]
    assert message["event"] == "rollback"
    assert message["deployment_id"] == doc["deployment_id"]
    assert message["alarm"] == f"{SERVICE}-unhealthy-targets"
    assert 0 < doc["breach_to_traffic_restored_seconds"] < 2
    info = codedeploy.get_deployment(deploymentId=doc["deployment_id"])["deploymentInfo"]
    assert info["status"] == "Stopped"
    assert end_state(endpoint) == before

    # Nothing left for Terraform: no drift, no leftovers.
    plan = cli("plan", "staging", "--detailed-exitcode")
    assert plan.returncode == 0, plan.stderr[-3000:]
