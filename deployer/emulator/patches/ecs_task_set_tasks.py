"""ECS: a task set's tasks sit behind its target groups and end with it.

On AWS the tasks a task set starts carry its id as ``startedBy`` and the
service's ``group`` (``service:NAME``); ECS registers each task's private IP and
container port with the task set's load balancer target groups; DeleteTaskSet
stops the tasks and deregisters them. That is how a blue/green deployment puts
the replacement version behind the green target group and takes it away on
rollback.

moto 5.2.5 starts the tasks of a task set with a scale (``startedBy`` the
account id), registers none of them with a target group (the green target
group stays empty, so target health says nothing about the new version) and
leaves them running, with their network interfaces, after DeleteTaskSet.

When the tasks' containers really run (``engines/ecs_tasks.py`` started), a task is
registered only once its containers have started: ECS registers a task with its load
balancers while it is ACTIVATING, after PENDING (pulling images, starting containers),
as the task lifecycle in the ECS developer guide describes. Until then the target is in
no target group (DescribeTargetHealth does not list it), so a container that is slow to
start is not a target failing its health checks. Without the engine (the APIs alone,
where no container ever runs) the targets are registered at once, as before.
"""

from __future__ import annotations

from typing import Any

from ._util import replace

GAP = (
    "ECS task set tasks are not registered with the task set's target groups and keep "
    "running after DeleteTaskSet."
)


def _private_ip(task: Any) -> str | None:
    for attachment in getattr(task, "attachments", None) or []:
        for detail in attachment.get("details", []):
            if detail.get("name") == "privateIPv4Address":
                return str(detail["value"])
    return None


#: While an engine runs the containers: task ARN -> (elbv2 backend, [(target group
#: ARN, target)]), the registrations that wait for the task's containers to start.
_waiting: dict[str, tuple[Any, list[tuple[str, dict[str, Any]]]]] | None = None


def register_when_running() -> None:
    """From now on, register tasks with their target groups once their containers run
    (:func:`activated`): called by the engine that runs them, as it starts."""
    global _waiting
    if _waiting is None:
        _waiting = {}


def register(elbv2: Any, holder: Any, tasks: list[Any]) -> None:
    """Register ``tasks`` with the target groups of ``holder`` (a task set, or a service
    with the ECS controller): now, or once each one's containers run."""
    for task in tasks:
        pairs = [(arn, t) for arn, targets in _targets(holder, [task]).items() for t in targets]
        if _waiting is not None:
            _waiting[task.task_arn] = (elbv2, pairs)
            continue
        for arn, target in pairs:
            elbv2.register_targets(arn, [target])


def activated(task_arn: str) -> int:
    """The task's containers run: its registrations are made (to the target groups that
    still exist). Returns how many targets were registered."""
    elbv2, pairs = (_waiting or {}).pop(task_arn, (None, []))
    made = 0
    for arn, target in pairs:
        if arn in elbv2.target_groups:
            elbv2.register_targets(arn, [target])
            made += 1
    return made


def forget(task_arn: str) -> None:
    """The task stopped before its containers ran: nothing is registered."""
    if _waiting is not None:
        _waiting.pop(task_arn, None)


def _eni(task: Any) -> str | None:
    for attachment in getattr(task, "attachments", None) or []:
        for detail in attachment.get("details", []):
            if detail.get("name") == "networkInterfaceId":
                return str(detail["value"])
    return None


def _targets(task_set: Any, tasks: list[Any]) -> dict[str, list[dict[str, Any]]]:
    """Per target group ARN, the targets (IP and container port) of these tasks."""
    targets: dict[str, list[dict[str, Any]]] = {}
    for balancer in task_set.load_balancers or []:
        arn = balancer.get("targetGroupArn")
        if not arn:
            continue
        for task in tasks:
            ip = _private_ip(task)
            if ip:
                targets.setdefault(arn, []).append(
                    {"Id": ip, "Port": int(balancer.get("containerPort") or 80)}
                )
    return targets


def apply() -> None:
    from moto.ec2.models import ec2_backends
    from moto.ecs.models import EC2ContainerServiceBackend
    from moto.elbv2.models import elbv2_backends

    def create_factory(original: Any) -> Any:
        def create_task_set(
            self: Any, service: str, cluster_str: str, *args: Any, **kwargs: Any
        ) -> Any:
            cluster = self._get_cluster(cluster_str)
            before = set(self.tasks.get(cluster.name, {}))
            task_set = original(self, service, cluster_str, *args, **kwargs)
            started = [
                task for arn, task in self.tasks.get(cluster.name, {}).items() if arn not in before
            ]
            for task in started:
                task.started_by = task_set.id
                task.group = f"service:{service.split('/')[-1]}"
            register(elbv2_backends[self.account_id][self.region_name], task_set, started)
            return task_set

        return create_task_set

    def delete_factory(original: Any) -> Any:
        def delete_task_set(self: Any, cluster: str, service: str, task_set: str) -> Any:
            deleted = original(self, cluster, service, task_set)
            cluster_name = cluster.split("/")[-1]
            tasks = [
                t
                for t in self.tasks.get(cluster_name, {}).values()
                if t.started_by == deleted.id and t.last_status != "STOPPED"
            ]
            elbv2 = elbv2_backends[self.account_id][self.region_name]
            for arn, targets in _targets(deleted, tasks).items():
                group = elbv2.target_groups.get(arn)
                if group is not None:
                    group.deregister([t for t in targets if t["Id"] in group.targets])
            ec2 = ec2_backends[self.account_id][self.region_name]
            for task in tasks:
                forget(task.task_arn)
                task.last_status = "STOPPED"
                task.desired_status = "STOPPED"
                task.stopped_reason = f"Task set {deleted.id} deleted"
                eni = _eni(task)
                if eni and eni in ec2.enis:
                    ec2.delete_network_interface(eni)
            return deleted

        return delete_task_set

    replace(EC2ContainerServiceBackend, "create_task_set", create_factory)
    replace(EC2ContainerServiceBackend, "delete_task_set", delete_factory)
