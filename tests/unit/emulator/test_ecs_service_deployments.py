"""ecs_service_deployments: a rolling-update service's deployment configuration and the
deployment UpdateService starts."""

from __future__ import annotations

from typing import Any

from ._helpers import register_task_definition, unique
from .conftest import Server


def rolling_service(server: Server, **extra: Any) -> tuple[Any, str, str, str]:
    """A cluster and an ECS-controller service; (client, cluster, service, task definition)."""
    ecs = server.client("ecs")
    cluster = unique("roll")
    ecs.create_cluster(clusterName=cluster)
    family = unique("app")
    definition = register_task_definition(ecs, family, container_memory=True)
    ecs.create_service(
        cluster=cluster, serviceName="web", taskDefinition=definition, desiredCount=2,
        launchType="FARGATE", **extra,
    )  # fmt: skip
    return ecs, cluster, "web", definition


def describe(ecs: Any, cluster: str, service: str) -> dict[str, Any]:
    (found,) = ecs.describe_services(cluster=cluster, services=[service])["services"]
    return dict(found)


def test_create_service_keeps_the_deployment_configuration(patched: Server, stock: Server) -> None:
    ecs, cluster, service, _ = rolling_service(patched)
    assert describe(ecs, cluster, service)["deploymentConfiguration"] == {
        "deploymentCircuitBreaker": {"enable": False, "rollback": False},
        "maximumPercent": 200,
        "minimumHealthyPercent": 100,
    }
    given = {
        "deploymentCircuitBreaker": {"enable": True, "rollback": True},
        "maximumPercent": 150,
        "minimumHealthyPercent": 50,
    }
    ecs, cluster, service, _ = rolling_service(patched, deploymentConfiguration=given)
    assert describe(ecs, cluster, service)["deploymentConfiguration"] == given
    # UpdateService changes the members it names and keeps the others.
    ecs.update_service(
        cluster=cluster, service=service, deploymentConfiguration={"maximumPercent": 200}
    )
    assert describe(ecs, cluster, service)["deploymentConfiguration"] == {
        **given,
        "maximumPercent": 200,
    }

    ecs, cluster, service, _ = rolling_service(stock, deploymentConfiguration=given)
    assert "deploymentConfiguration" not in describe(ecs, cluster, service)


def test_update_service_with_a_new_task_definition_starts_a_deployment(
    patched: Server, stock: Server
) -> None:
    ecs, cluster, service, first = rolling_service(patched)
    (original,) = describe(ecs, cluster, service)["deployments"]
    second = register_task_definition(
        ecs, first.split("/")[-1].split(":")[0], container_memory=True
    )
    family_revision = second.split("/")[-1]
    ecs.update_service(cluster=cluster, service=service, taskDefinition=family_revision)
    described = describe(ecs, cluster, service)
    assert described["taskDefinition"] == second  # the ARN, however it was named
    primary, active = described["deployments"]
    assert primary["status"] == "PRIMARY" and primary["taskDefinition"] == second
    assert primary["id"] != original["id"] and primary["id"].startswith("ecs-svc/")
    assert primary["rolloutState"] == "IN_PROGRESS"
    assert primary["rolloutStateReason"] == f"ECS deployment {primary['id']} in progress."
    assert (primary["desiredCount"], primary["runningCount"]) == (2, 0)
    assert (active["id"], active["status"], active["taskDefinition"]) == (
        original["id"], "ACTIVE", first,
    )  # fmt: skip

    # The same task definition again starts none; a forced deployment does.
    ecs.update_service(cluster=cluster, service=service, taskDefinition=second, desiredCount=3)
    deployments = describe(ecs, cluster, service)["deployments"]
    assert [d["id"] for d in deployments] == [primary["id"], original["id"]]
    assert deployments[0]["desiredCount"] == 3
    ecs.update_service(cluster=cluster, service=service, forceNewDeployment=True)
    forced = describe(ecs, cluster, service)["deployments"]
    assert [d["status"] for d in forced] == ["PRIMARY", "ACTIVE", "ACTIVE"]
    assert forced[0]["taskDefinition"] == second and forced[1]["id"] == primary["id"]

    # moto: the first deployment stays PRIMARY with the old task definition.
    ecs, cluster, service, first = rolling_service(stock)
    second = register_task_definition(
        ecs, first.split("/")[-1].split(":")[0], container_memory=True
    )
    ecs.update_service(cluster=cluster, service=service, taskDefinition=second)
    (only,) = describe(ecs, cluster, service)["deployments"]
    assert only["taskDefinition"] == first
