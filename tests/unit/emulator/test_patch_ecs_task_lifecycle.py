"""ecs_task_lifecycle: DescribeTasks does not move a task towards STOPPED;
ecs_list_tasks_service_name: ListTasks filters by service."""

from __future__ import annotations

import json

from ._helpers import unique
from .conftest import Server


def run_task(server: Server) -> tuple[object, str, str]:
    """An EC2-launch task (the launch type stock moto can start) on a registered instance."""
    ec2 = server.client("ec2")
    image = ec2.describe_images()["Images"][0]["ImageId"]
    instance = ec2.run_instances(ImageId=image, MinCount=1, MaxCount=1)["Instances"][0]
    ecs = server.client("ecs")
    cluster = unique("cluster")
    ecs.create_cluster(clusterName=cluster)
    ecs.register_container_instance(
        cluster=cluster,
        instanceIdentityDocument=json.dumps({"instanceId": instance["InstanceId"]}),
    )
    family = unique("family")
    ecs.register_task_definition(
        family=family,
        containerDefinitions=[{"name": "app", "image": "app:1", "memory": 128, "cpu": 10}],
    )
    [task] = ecs.run_task(cluster=cluster, taskDefinition=family, launchType="EC2")["tasks"]
    return ecs, cluster, task["taskArn"]


def statuses(ecs: object, cluster: str, arn: str, times: int) -> list[str]:
    return [
        ecs.describe_tasks(cluster=cluster, tasks=[arn])["tasks"][0]["lastStatus"]  # type: ignore[attr-defined]
        for _ in range(times)
    ]


def test_a_described_task_stays_running(patched: Server, stock: Server) -> None:
    ecs, cluster, arn = run_task(patched)
    assert statuses(ecs, cluster, arn, 6) == ["RUNNING"] * 6
    ecs.stop_task(cluster=cluster, task=arn, reason="stopped by the test")  # type: ignore[attr-defined]
    assert statuses(ecs, cluster, arn, 1) == ["STOPPED"]

    ecs, cluster, arn = run_task(stock)
    assert statuses(ecs, cluster, arn, 6)[-1] == "STOPPED"  # nothing stopped it


def test_list_tasks_filters_by_service(patched: Server, stock: Server) -> None:
    """ecs_list_tasks_service_name: only the named service's tasks (group service:NAME)."""
    for server, expected in ((patched, 0), (stock, 1)):
        ecs, cluster, arn = run_task(server)  # a standalone task: group family:<family>
        listed = ecs.list_tasks(cluster=cluster, serviceName="some-service")["taskArns"]  # type: ignore[attr-defined]
        assert len(listed) == expected, server
        assert ecs.list_tasks(cluster=cluster)["taskArns"] == [arn]  # type: ignore[attr-defined]
