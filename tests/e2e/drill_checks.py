"""`deployer drill rollback` on an emulator without its runtime: refused, nothing touched.

The e2e tests run the emulator without its runtime (no Docker engine needed): nothing
deploys there, so the drill must say so and change nothing. The drill itself, on the
CodeDeploy engine with real health checks, alarms and guard, is tested where the runtime
runs (tests/runtime/test_services_e2e.py).

test_apply_staging.py calls :func:`check_drill_refuses_without_the_runtime` on the
staging it applied.
"""

from __future__ import annotations

from typing import Any

from tests.e2e.conftest import DeployerCLI, account_client

STAGING_ACCOUNT = "333333333333"
REGION = "us-east-1"
PREFIX = "acme-shop-staging"
SERVICE = f"{PREFIX}-api-service"


def staging_client(endpoint: str, service: str) -> Any:
    return account_client(endpoint, STAGING_ACCOUNT, service, "e2e-drill-check")


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


def check_drill_refuses_without_the_runtime(cli: DeployerCLI) -> None:
    """On an applied staging (its emulator running without the runtime): a clear refusal."""
    endpoint = cli("emulator", "status", "--json").json()["endpoint"]
    before = end_state(endpoint)
    assert before["production"] == f"{PREFIX}-api-blue"
    assert before["task_definition"] == f"{SERVICE}:1"
    deployments = staging_client(endpoint, "codedeploy").list_deployments()["deployments"]

    run = cli("drill", "rollback", "staging", "--service", "api-service", "--json")
    assert run.returncode == 1, run.stderr[-3000:] + run.stdout[-3000:]
    document = run.json()  # the error, as one JSON document on stdout
    assert "runs without its runtime" in document["error"]
    assert "no CodeDeploy engine deploys there" in document["error"]
    assert "--no-runtime" in document["hint"]

    # Nothing was touched: no deployment, no revision, the same listeners and alarms.
    assert end_state(endpoint) == before
    assert staging_client(endpoint, "codedeploy").list_deployments()["deployments"] == deployments
    revisions = staging_client(endpoint, "ecs").list_task_definitions(
        familyPrefix=SERVICE, status="ACTIVE"
    )["taskDefinitionArns"]
    assert [r.rsplit("/", 1)[-1] for r in revisions] == [f"{SERVICE}:1"]
