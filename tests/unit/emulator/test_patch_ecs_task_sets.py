"""ecs_code_deploy_task_sets, ecs_task_set_counts, ecs_awsvpc_tasks, ecs_task_set_tasks."""

from __future__ import annotations

from typing import Any

import pytest
from botocore.exceptions import ClientError

from ._helpers import BlueGreen, blue_green, register_task_definition, status, unique
from .conftest import Server


def service(server: Server, setup: BlueGreen) -> dict[str, Any]:
    (found,) = server.client("ecs").describe_services(
        cluster=setup.cluster, services=[setup.service]
    )["services"]
    return dict(found)


def green_task_set(server: Server, setup: BlueGreen, task_definition: str) -> dict[str, Any]:
    return dict(
        server.client("ecs").create_task_set(
            cluster=setup.cluster,
            service=setup.service,
            taskDefinition=task_definition,
            externalId="d-EXAMPLE12",
            launchType="FARGATE",
            networkConfiguration=setup.network,
            loadBalancers=[setup.load_balancer(setup.green)],
            scale={"unit": "PERCENT", "value": 100.0},
        )["taskSet"]
    )


def targets(server: Server, target_group: str) -> dict[str, str]:
    found = server.client("elbv2").describe_target_health(TargetGroupArn=target_group)
    return {
        t["Target"]["Id"]: t["TargetHealth"]["State"] for t in found["TargetHealthDescriptions"]
    }


def test_code_deploy_service_starts_with_its_primary_task_set(
    patched: Server, stock: Server
) -> None:
    setup = blue_green(patched)
    (task_set,) = service(patched, setup)["taskSets"]
    assert task_set["status"] == "PRIMARY"
    assert task_set["taskDefinition"] == setup.task_definition
    assert task_set["loadBalancers"] == [setup.load_balancer(setup.blue)]
    assert task_set["launchType"] == "FARGATE"
    assert task_set["networkConfiguration"] == setup.network
    assert task_set["scale"] == {"value": 100.0, "unit": "PERCENT"}

    # A rollback makes the original task set PRIMARY again: the service follows it.
    ecs = patched.client("ecs")
    new = register_task_definition(ecs, setup.task_definition.split("/")[-1].split(":")[0])
    green = green_task_set(patched, setup, new)
    ecs.update_service_primary_task_set(
        cluster=setup.cluster, service=setup.service, primaryTaskSet=green["taskSetArn"]
    )
    assert service(patched, setup)["taskDefinition"] == new
    ecs.update_service_primary_task_set(
        cluster=setup.cluster, service=setup.service, primaryTaskSet=task_set["taskSetArn"]
    )
    ecs.delete_task_set(cluster=setup.cluster, service=setup.service, taskSet=green["taskSetArn"])
    after = service(patched, setup)
    assert after["taskDefinition"] == setup.task_definition
    assert after["loadBalancers"] == [setup.load_balancer(setup.blue)]
    assert [ts["status"] for ts in after["taskSets"]] == ["PRIMARY"]

    assert service(stock, blue_green(stock))["taskSets"] == []


def test_task_sets_and_their_service_count_tasks(patched: Server, stock: Server) -> None:
    setup = blue_green(patched)
    described = service(patched, setup)
    assert (described["desiredCount"], described["runningCount"], described["pendingCount"]) == (
        2,
        2,
        0,
    )
    (primary,) = described["taskSets"]
    assert (primary["computedDesiredCount"], primary["runningCount"], primary["pendingCount"]) == (
        2,
        2,
        0,
    )
    # During a blue/green deployment both task sets run: 2 + 2.
    green = green_task_set(patched, setup, setup.task_definition)
    assert green["computedDesiredCount"] == 2
    assert service(patched, setup)["runningCount"] == 4
    # Scale is a percentage of the service's desired count, rounded up: 2 + ceil(0.5).
    patched.client("ecs").update_task_set(
        cluster=setup.cluster,
        service=setup.service,
        taskSet=green["taskSetArn"],
        scale={"unit": "PERCENT", "value": 25.0},
    )
    assert service(patched, setup)["runningCount"] == 3

    described = service(stock, blue_green(stock))
    assert (described["runningCount"], described["pendingCount"]) == (0, 2)


def test_awsvpc_fargate_tasks_start(patched: Server, stock: Server) -> None:
    setup = blue_green(patched)
    tasks = patched.client("ecs").run_task(
        cluster=setup.cluster,
        taskDefinition=setup.task_definition,
        launchType="FARGATE",
        networkConfiguration=setup.network,
        count=1,
    )["tasks"]
    assert len(tasks) == 1
    green = green_task_set(patched, setup, setup.task_definition)
    assert green["status"] == "ACTIVE"

    setup = blue_green(stock)
    ecs = stock.client("ecs")
    with pytest.raises(ClientError) as excinfo:
        ecs.run_task(
            cluster=setup.cluster,
            taskDefinition=setup.task_definition,
            launchType="FARGATE",
            networkConfiguration=setup.network,
        )
    assert status(excinfo) >= 500
    with pytest.raises(ClientError) as excinfo:
        green_task_set(stock, setup, setup.task_definition)
    assert status(excinfo) >= 500
    # ... after attaching the task set to the service.
    sets = ecs.describe_task_sets(cluster=setup.cluster, service=setup.service)["taskSets"]
    assert sets != []
    # With container-level memory, the network interface is next (DNS hostnames off).
    family = unique("sized")
    sized = register_task_definition(ecs, family, container_memory=True)
    with pytest.raises(ClientError) as excinfo:
        ecs.run_task(
            cluster=setup.cluster,
            taskDefinition=sized,
            launchType="FARGATE",
            networkConfiguration=setup.network,
        )
    assert status(excinfo) >= 500


def test_task_set_tasks_sit_behind_its_target_group_and_end_with_it(
    patched: Server, stock: Server
) -> None:
    setup = blue_green(patched)
    ecs = patched.client("ecs")
    green = green_task_set(patched, setup, setup.task_definition)
    started = ecs.list_tasks(cluster=setup.cluster, startedBy=green["id"])["taskArns"]
    assert len(started) == 2
    tasks = ecs.describe_tasks(cluster=setup.cluster, tasks=started)["tasks"]
    assert {t["group"] for t in tasks} == {f"service:{setup.service}"}
    ips = {
        d["value"]
        for t in tasks
        for a in t["attachments"]
        for d in a["details"]
        if d["name"] == "privateIPv4Address"
    }
    assert targets(patched, setup.green) == dict.fromkeys(ips, "healthy")

    ecs.delete_task_set(cluster=setup.cluster, service=setup.service, taskSet=green["taskSetArn"])
    assert targets(patched, setup.green) == {}
    running = ecs.list_tasks(cluster=setup.cluster, startedBy=green["id"], desiredStatus="RUNNING")
    assert running["taskArns"] == []
    stopped = ecs.describe_tasks(cluster=setup.cluster, tasks=started)["tasks"]
    assert {t["lastStatus"] for t in stopped} == {"STOPPED"}

    # Stock moto starts them only where it can (container memory, DNS hostnames on):
    # started by the account, never behind the target group, still running after.
    setup = blue_green(stock, dns_hostnames=True, container_memory=True)
    ecs = stock.client("ecs")
    green = green_task_set(stock, setup, setup.task_definition)
    assert targets(stock, setup.green) == {}
    assert ecs.list_tasks(cluster=setup.cluster, startedBy=green["id"])["taskArns"] == []
    ecs.delete_task_set(cluster=setup.cluster, service=setup.service, taskSet=green["taskSetArn"])
    running = ecs.list_tasks(cluster=setup.cluster, desiredStatus="RUNNING")
    assert len(running["taskArns"]) == 2
