"""ECS runs tasks: each service's and task set's desired count runs as containers on the
Docker engine.

Reproduces, after the ECS developer guide (service scheduler, task lifecycle,
"Stopped tasks errors", specifying sensitive data with Parameter Store, "Deploy
Amazon ECS services by replacing tasks", "How the Amazon ECS deployment circuit
breaker detects failures") and the API reference (DeploymentConfiguration,
Deployment, DeploymentCircuitBreaker):

* the service scheduler keeps each task set of a service (the CODE_DEPLOY
  controller's PRIMARY and replacement sets) at its computed desired count, the
  service's desired count times the set's scale: missing tasks are started (a
  new task ARN each, ``startedBy`` the set's id, group ``service:NAME``, an
  address in the set's first subnet, registered with the set's target groups once
  its containers run: ECS registers a task while it is ACTIVATING, after its
  containers started, as the task lifecycle says), tasks beyond it are stopped;
* each RUNNING task runs as one container per container definition, from the
  image named by the task definition (pulled by its ECR name through the
  emulator's registry, with a token of the task's account, so the repository
  policy decides cross-account pulls), with its ``environment`` and its
  ``secrets`` resolved from Parameter Store (decrypted) into the container's
  environment (passed to ``docker run`` through the client's environment, not
  its arguments), each ``portMappings`` container port published on a loopback
  port the engine reports (``status()``, ``GET /_deployer/runtime``);
* a task whose essential container exits goes to STOPPED with the container's
  exit code and ``stoppedReason`` "Essential container in task exited"; an image
  that cannot be pulled stops the task with "CannotPullContainerError: ..."; a
  secret that cannot be read stops it with "ResourceInitializationError: ...";
  StopTask's tasks lose their containers; the scheduler then starts a
  replacement with a new ARN, after ECS's back-off for a service whose tasks
  keep failing to start (doubling from 10 s up to 15 min, emulated time).

* containers with the ``awslogs`` log driver have their output shipped to their
  log group (each round lists the containers and reads their new output through the
  Docker socket, deployer/emulator/docker_api.py, else the CLI), stream
  ``<prefix>/<container>/<task id>`` as the driver names it (when the group exists);
  ``RunningTaskCount`` (tasks whose containers run), ``DesiredTaskCount`` and
  ``PendingTaskCount`` are published to
  ``ECS/ContainerInsights`` per cluster and service once an emulated minute.

* a container's ``healthCheck`` from its definition runs as Docker's health check
  (``CMD-SHELL`` as the shell command, ``CMD`` arguments quoted into one; interval,
  timeout, retries and start period with ECS's defaults 30, 5, 3 and 0); the
  containers' and the task's ``healthStatus`` follow it (UNKNOWN while it is being
  evaluated or where none is defined: the image's own HEALTHCHECK is switched off, as
  ECS does not monitor it); a task whose essential container turns UNHEALTHY is
  stopped, "Task failed container health checks", and replaced.

* a service with the ECS deployment controller (rolling update) runs its PRIMARY
  deployment's task definition at the desired count: tasks ``startedBy`` the
  deployment id (``ecs-svc/<number>``), group ``service:NAME``, the service's network
  configuration, registered with its target groups. After an UpdateService that
  starts a deployment (``patches/ecs_service_deployments.py``) each round first
  stops tasks of the older (ACTIVE) deployments: those not healthy at once, healthy
  ones while more than ``minimumHealthyPercent`` of the desired count (rounded up)
  stay healthy, then starts new tasks while the service's tasks stay within
  ``maximumPercent`` (rounded down). Stopped ones get "Scaling activity initiated by
  (deployment ID)", stop code ServiceSchedulerInitiated, and leave their target groups
  (draining). Healthy: the containers run, an essential container's health check
  (where defined) is HEALTHY, and behind a load balancer every target group reports
  the task ``healthy`` (the elbv2 backend's DescribeTargetHealth); without either,
  40 seconds after it started. A deployment left without tasks goes; the PRIMARY is
  COMPLETED ("ECS deployment ID completed.") once it is the only one and its desired
  count of tasks is healthy. The deployments' and the service's ``runningCount`` and
  ``pendingCount`` follow the tasks (running: their containers run), the PRIMARY's
  ``failedTasks`` its tasks that failed to start, exited or failed their health
  checks; service events name the tasks started and stopped, the targets registered,
  the completed deployment and the steady state. A deleted service's tasks stop;
* the deployment circuit breaker, when enabled: at ``failedTasks`` of half the
  desired count (rounded up, at least 3, at most 200) the PRIMARY is FAILED ("ECS
  deployment circuit breaker: tasks failed to start.") and starts no more tasks;
  with ``rollback`` a new PRIMARY deployment returns to the last COMPLETED
  deployment's task definition ("ECS deployment circuit breaker: rolling back to
  deploymentId ID.").

Left out (issue 11's later slices): placement and capacity (an EC2 service without
container instances gets an event, no task), the DAEMON scheduling strategy (run as
REPLICA), task-level CPU and memory limits, the
task role's credentials inside the container. Of rolling updates: stopping tasks
that turn unhealthy in their target groups, the health check grace period, the
circuit breaker's resetOnHealthyTask (failures are counted over the whole
deployment) and CloudWatch alarms as deployment triggers, Classic Load Balancers,
propagated tags, service events word for word where AWS documents no wording (ours
follow the form of those ECS writes), and the time a stopping task takes to drain:
it is stopped at once while its target drains in the load balancer.
"""

from __future__ import annotations

import base64
import json
import logging
import math
import shlex
import subprocess
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from deployer.emulator import docker_api
from deployer.emulator.scheduler import BACKEND_LOCK, Scheduler

log = logging.getLogger(__name__)

LABEL_TASK = "io.deployer.ecs-task"
LABEL_CONTAINER = "io.deployer.ecs-container"
#: Real seconds between two rounds of the reconciler.
ROUND_S = 2.0
BACKOFF_FIRST_S = 10.0
BACKOFF_MAX_S = 900.0
#: How long a task without a health check runs before it counts as healthy (ECS: 40 s).
HEALTHY_AFTER_S = 40.0
#: Stop codes (and the reason) of a task that failed, for a deployment's failedTasks.
FAILED_STOP_CODES = ("TaskFailedToStart", "EssentialContainerExited")
UNHEALTHY_REASON = "Task failed container health checks"

Docker = Callable[..., subprocess.CompletedProcess[str]]


@dataclass
class Container:
    """What ``docker run`` needs for one container of a task."""

    name: str
    image: str
    environment: dict[str, str]
    secrets: dict[str, str]  # resolved values: never logged, never on a command line
    ports: list[int]
    #: awslogs: (log group, stream prefix), or None without that log driver.
    awslogs: tuple[str, str] | None = None
    #: The definition's healthCheck (ECS's shape), or None.
    health_check: dict[str, Any] | None = None
    essential: bool = True


@dataclass
class Planned:
    """A RUNNING task the engine must realise."""

    arn: str
    account: str
    region: str
    cluster: str
    service: str
    #: The private IP ECS gave the task (what its target groups register).
    ip: str | None = None
    containers: list[Container] = field(default_factory=list)
    #: Why it cannot start (a secret it cannot read), else None.
    failure: str | None = None


class EcsTasks:
    """The engine (see the module docstring)."""

    name = "ecs-tasks"

    def __init__(
        self,
        owner: str,
        docker_config: Path,
        *,
        docker: Docker | None = None,
        lock: Any = BACKEND_LOCK,
        issue_token: Callable[[str, str], str] | None = None,
    ) -> None:
        self.owner = owner
        self.docker_config = docker_config
        self.docker = docker or _docker
        #: The engine's socket for the two reads of every round (deployer/emulator/
        #: docker_api.py); None: the CLI (an injected ``docker``, or no local socket).
        self._api = None if docker is not None else docker_api.Engine.local()
        self.lock = lock
        self.issue_token = issue_token or _issue_token
        self._scheduler: Scheduler | None = None
        self._busy = threading.Lock()
        self._closed = False
        self._logged_in: set[str] = set()
        #: task ARN -> {container port: "127.0.0.1:PORT"}
        self.endpoints: dict[str, dict[int, str]] = {}
        #: service key -> (consecutive failed starts, emulated time the next may start)
        self._backoff: dict[str, tuple[int, float]] = {}
        self.started = 0
        self.stopped = 0
        #: task ARN -> its private IP (targets are registered by IP)
        self._ips: dict[str, str] = {}
        #: container ID -> the Docker timestamp of the last log line shipped
        self._shipped: dict[str, str] = {}
        #: service ARN -> emulated time of its last metric datapoints
        self._published: dict[str, float] = {}
        #: task ARN -> emulated time its containers started
        self._up_since: dict[str, float] = {}
        #: service ARN -> (id, task definition) of its last COMPLETED deployment
        self._completed: dict[str, tuple[str, str]] = {}

    # -- the engine protocol ---------------------------------------------------------
    def start(self, scheduler: Scheduler) -> None:
        from deployer.emulator.patches.ecs_task_set_tasks import register_when_running

        self._scheduler = scheduler
        register_when_running()  # tasks join their target groups once their containers run
        scheduler.every(ROUND_S * scheduler.time_scale, self.tick, name="ecs-tasks")

    def status(self) -> dict[str, Any]:
        return {
            "tasks": {
                arn: {str(p): a for p, a in ports.items()} for arn, ports in self.endpoints.items()
            },
            "started": self.started,
            "stopped": self.stopped,
        }

    def resolve(self, ip: str, port: int) -> str | None:
        """The loopback address serving a target (a task's IP and container port)."""
        for arn, task_ip in list(self._ips.items()):
            if task_ip == ip:
                return self.endpoints.get(arn, {}).get(port)
        return None

    def tick(self) -> None:
        """One round, on a thread of its own (container I/O must not hold the clock)."""
        if not self._closed and self._busy.acquire(blocking=False):
            threading.Thread(target=self._round, name="ecs-tasks", daemon=True).start()

    def close(self, timeout: float = 120.0) -> None:
        """Start no more rounds; wait for the one in progress."""
        self._closed = True
        if self._busy.acquire(timeout=timeout):
            self._busy.release()

    def _round(self) -> None:
        try:
            self.reconcile()
        except Exception:
            log.exception("ecs-tasks: a round failed")
        finally:
            self._busy.release()

    def _now(self) -> float:
        return self._scheduler.now() if self._scheduler else 0.0

    # -- one round ---------------------------------------------------------------------
    def reconcile(self) -> None:
        running = self._containers()
        if running is None:
            return  # no engine answers: the runtime reports it (emulator status)
        with self.lock:
            self._schedule()
            planned = self._planned()
            self._publish_metrics()
        wanted = {p.arn for p in planned}
        for arn, entries in running.items():
            if arn not in wanted:  # stopped through the API (StopTask, a deployment)
                ip = self._ips.pop(arn, None)
                if ip:  # ECS takes a stopping task out of its target groups
                    _, _, _, region, account, _ = arn.split(":", 5)
                    with self.lock:
                        _deregister(account, region, ip)
                self._remove(entries)
                self.endpoints.pop(arn, None)
                self._up_since.pop(arn, None)
        for task in planned:
            entries = running.get(task.arn, [])
            if task.failure:
                self._stop(task, task.failure, "TaskFailedToStart")
            elif not entries:
                self._run(task)
            else:
                self._ship_logs(task, entries)
                exited = [e for e in entries if e["State"] == "exited"]
                health = _health(task, entries)
                if exited:
                    code = _exit_code(exited[0]["Status"])
                    self._stop(
                        task, "Essential container in task exited", "EssentialContainerExited", code
                    )
                    self._remove(entries)
                elif health["task"] == "UNHEALTHY":
                    self._stop(
                        task, "Task failed container health checks", "ServiceSchedulerInitiated"
                    )
                    self._remove(entries)
                else:
                    self._record_health(task, health)

    # -- under the lock: the service scheduler ----------------------------------------------
    def _ecs(self) -> list[tuple[str, str, Any]]:
        from moto.ecs.models import ecs_backends

        found = []
        for account in list(ecs_backends.keys()):
            for region, backend in list(ecs_backends[account].items()):
                found.append((account, region, backend))
        return found

    def _schedule(self) -> None:
        from deployer.emulator.patches.ecs_service_deployments import uses_ecs_controller
        from deployer.emulator.patches.ecs_task_set_tasks import register

        now = self._now()
        for account, region, backend in self._ecs():
            for service in list(backend.services.values()):
                if uses_ecs_controller(service):
                    self._roll(account, region, backend, service)
                    continue
                if getattr(service, "status", "ACTIVE") != "ACTIVE":
                    continue
                key = f"{account}/{region}/{service.arn}"
                for task_set in list(service.task_sets):
                    desired = math.ceil(
                        service.desired_count * float(task_set.scale.get("value", 100)) / 100
                    )
                    tasks = [
                        t
                        for t in backend.tasks.get(service.cluster_name, {}).values()
                        if t.started_by == task_set.id and t.desired_status == "RUNNING"
                    ]
                    if len(tasks) > desired:
                        for task in tasks[desired:]:
                            backend.stop_task(
                                service.cluster_name,
                                task.task_arn,
                                "Scaling activity initiated by deployment",
                            )
                    missing = desired - len(tasks)
                    _failures, not_before = self._backoff.get(key, (0, 0.0))
                    if missing <= 0 or now < not_before:
                        continue
                    started = backend.run_task(
                        cluster_str=service.cluster_name,
                        task_definition_str=task_set.task_definition,
                        count=missing,
                        overrides=None,
                        started_by=task_set.id,
                        tags=None,
                        launch_type=task_set.launch_type,
                        networking_configuration=task_set.network_configuration,
                        group=f"service:{service.name}",
                    )
                    register(_elbv2(account, region), task_set, started)

    # -- under the lock: a rolling-update (ECS controller) service ---------------------------
    def _roll(self, account: str, region: str, backend: Any, service: Any) -> None:
        """One step of the service scheduler for a service with the ECS deployment
        controller: scale its PRIMARY deployment to the desired count within
        maximumPercent, drain the other deployments while minimumHealthyPercent of it
        stays healthy, then report the counts and the rollout (see the module docstring)."""
        from deployer.emulator.patches.ecs_service_deployments import configuration

        deployments = list(service.deployments)
        primary = next((d for d in deployments if d["status"] == "PRIMARY"), None)
        live = service.status == "ACTIVE" and primary is not None and primary["taskDefinition"]
        desired = int(service.desired_count) if live else 0  # a deleted service: none
        config = configuration(getattr(service, "deployment_configuration", None))
        maximum = math.floor(desired * int(config["maximumPercent"]) / 100)
        minimum = math.ceil(desired * int(config["minimumHealthyPercent"]) / 100)
        now = self._now()

        def tasks_of(deployment: dict[str, Any] | None) -> list[Any]:
            if deployment is None:
                return []
            return [
                t
                for t in backend.tasks.get(service.cluster_name, {}).values()
                if t.started_by == deployment["id"] and t.desired_status == "RUNNING"
            ]

        new = tasks_of(primary) if live else []
        old = [t for d in deployments if d is not primary or not live for t in tasks_of(d)]
        healthy = {
            t.task_arn: self._healthy(account, region, backend, service, t) for t in new + old
        }
        stopping: list[Any] = []
        if len(new) > desired:  # scaled in: the least healthy go first
            new.sort(key=lambda t: healthy[t.task_arn])
            stopping += new[: len(new) - desired]
            new = new[len(new) - desired :]
        count = sum(healthy[t.task_arn] for t in new + old)
        kept: list[Any] = []
        for task in sorted(old, key=lambda t: healthy[t.task_arn]):
            if not healthy[task.task_arn]:
                stopping.append(task)  # counts for nothing: replaced, not waited for
            elif count > minimum:
                stopping.append(task)
                count -= 1
            else:
                kept.append(task)
        if stopping:
            self._scale_in(account, region, backend, service, stopping)

        if primary is not None and live:
            self._circuit_breaker(backend, service, primary, config, desired)
            if primary["status"] != "PRIMARY":
                return  # rolled back: the next round schedules the new PRIMARY
            room = min(desired - len(new), maximum - len(new) - len(kept))
            _failures, not_before = self._backoff.get(f"{account}/{region}/{service.arn}", (0, 0))
            if room > 0 and now >= not_before and primary["rolloutState"] != "FAILED":
                new += self._scale_out(account, region, backend, service, primary, room)

        # Counts, the deployments drained, the rollout's end.
        for deployment in deployments:
            mine = tasks_of(deployment)
            running = sum(1 for t in mine if t.task_arn in self.endpoints)
            counts = {
                "desiredCount": desired if deployment is primary else len(mine),
                "runningCount": running,
                "pendingCount": len(mine) - running,
            }
            if any(deployment.get(k) != v for k, v in counts.items()):
                deployment.update(counts, updatedAt=_stamp(now))
            if deployment is not primary and not mine:
                service.deployments.remove(deployment)
        service.running_count = sum(d["runningCount"] for d in service.deployments)
        service.pending_count = sum(d["pendingCount"] for d in service.deployments)
        if (
            primary is not None
            and live
            and primary["rolloutState"] == "IN_PROGRESS"
            and service.deployments == [primary]
            and len(new) == desired
            and all(healthy.get(t.task_arn, False) for t in new)
        ):
            primary["rolloutState"] = "COMPLETED"
            primary["rolloutStateReason"] = f"ECS deployment {primary['id']} completed."
            primary["updatedAt"] = _stamp(now)
            self._completed[service.arn] = (primary["id"], primary["taskDefinition"])
            self._event(
                service, f"(service {service.name}) ({_named(primary)}) deployment completed."
            )
            self._event(service, f"(service {service.name}) has reached a steady state.")

    def _healthy(self, account: str, region: str, backend: Any, service: Any, task: Any) -> bool:
        """Whether a task counts towards minimumHealthyPercent: its containers run; an
        essential container's health check (where defined) says HEALTHY; behind a load
        balancer, every target group of the service reports it healthy; else it has run
        for 40 seconds."""
        from deployer.emulator.patches.ecs_task_set_tasks import _private_ip

        if task.last_status != "RUNNING" or task.task_arn not in self.endpoints:
            return False
        status = getattr(task, "health_status", "UNKNOWN")
        definition = backend.describe_task_definition(task.task_definition_arn)
        checked = any(
            c.get("healthCheck") and c.get("essential", True)
            for c in definition.container_definitions
        )
        if status == "UNHEALTHY" or (checked and status != "HEALTHY"):
            return False
        groups = [b for b in service.load_balancers or [] if b.get("targetGroupArn")]
        if groups:
            ip = _private_ip(task)
            if ip is None:
                return False
            elbv2 = _elbv2(account, region)
            for balancer in groups:
                target = {"Id": ip, "Port": int(balancer.get("containerPort") or 80)}
                try:
                    (health,) = elbv2.describe_target_health(balancer["targetGroupArn"], [target])
                except Exception:  # the target group is gone
                    return False
                if health.status != "healthy":
                    return False
            return True
        if checked:
            return True
        return self._now() - self._up_since.get(task.task_arn, self._now()) >= HEALTHY_AFTER_S

    def _scale_out(
        self, account: str, region: str, backend: Any, service: Any, primary: Any, count: int
    ) -> list[Any]:
        from deployer.emulator.patches.ecs_task_set_tasks import _targets, register

        try:
            started: list[Any] = backend.run_task(
                cluster_str=service.cluster_name,
                task_definition_str=primary["taskDefinition"],
                count=count,
                overrides=None,
                started_by=primary["id"],
                tags=None,
                launch_type=service.launch_type,
                networking_configuration=service.network_configuration or None,
                group=f"service:{service.name}",
                platform_version=service.platform_version,
            )
        except Exception as exc:  # moto cannot place it (an EC2 service without instances)
            self._event(
                service, f"(service {service.name}) was unable to place a task. Reason: {exc}."
            )
            return []
        if not started:
            return []
        register(_elbv2(account, region), service, started)
        for arn, targets in _targets(service, started).items():
            self._event(
                service,
                f"(service {service.name}) registered {len(targets)} targets in "
                f"(target-group {arn})",
            )
        self._event(
            service,
            f"(service {service.name}) has started {len(started)} tasks: "
            + " ".join(f"(task {_task_id(t)})" for t in started)
            + ".",
        )
        return started

    def _scale_in(
        self, account: str, region: str, backend: Any, service: Any, tasks: list[Any]
    ) -> None:
        from deployer.emulator.patches.ecs_task_set_tasks import _private_ip

        for task in tasks:
            backend.stop_task(
                service.cluster_name,
                task.task_arn,
                f"Scaling activity initiated by (deployment {task.started_by})",
            )
            task.stop_code = "ServiceSchedulerInitiated"
            for container in task.containers:
                container.last_status = "STOPPED"
            ip = _private_ip(task)
            if ip:  # out of the target groups first: it drains
                _deregister(account, region, ip)
        self._event(
            service,
            f"(service {service.name}) has stopped {len(tasks)} running tasks: "
            + " ".join(f"(task {_task_id(t)})" for t in tasks)
            + ".",
        )

    def _circuit_breaker(
        self,
        backend: Any,
        service: Any,
        primary: dict[str, Any],
        config: dict[str, Any],
        desired: int,
    ) -> None:
        """The deployment's failed tasks; past the breaker's threshold (half the desired
        count, at least 3, at most 200) the deployment FAILED, and rolls back to the last
        completed one when the breaker says so."""
        from deployer.emulator.patches.ecs_service_deployments import new_deployment

        failed = 0
        for task in backend.tasks.get(service.cluster_name, {}).values():
            if task.started_by != primary["id"] or task.desired_status != "STOPPED":
                continue
            if (
                getattr(task, "stop_code", None) in FAILED_STOP_CODES
                or task.stopped_reason == UNHEALTHY_REASON
            ):
                failed += 1
        primary["failedTasks"] = failed
        breaker = config.get("deploymentCircuitBreaker") or {}
        threshold = min(max(math.ceil(desired * 0.5), 3), 200)
        if not breaker.get("enable") or primary["rolloutState"] != "IN_PROGRESS":
            return
        if failed < threshold:
            return
        primary["rolloutState"] = "FAILED"
        primary["rolloutStateReason"] = "ECS deployment circuit breaker: tasks failed to start."
        primary["updatedAt"] = _stamp(self._now())
        self._event(
            service,
            f"(service {service.name}) ({_named(primary)}) deployment failed: "
            "tasks failed to start.",
        )
        last = self._completed.get(service.arn)
        if breaker.get("rollback") and last is not None:
            rollback = new_deployment(
                service,
                last[1],
                _stamp(self._now()),
                f"ECS deployment circuit breaker: rolling back to deploymentId {last[0]}.",
            )
            service.task_definition = last[1]
            self._event(
                service,
                f"(service {service.name}) ({_named(rollback)}) rolling back to "
                f"deployment {last[0]}.",
            )

    def _event(self, service: Any, message: str) -> None:
        """A service event, newest first, as DescribeServices lists them (the last 100)."""
        import uuid

        service.events.insert(
            0, {"id": str(uuid.uuid4()), "createdAt": _stamp(self._now()), "message": message}
        )
        del service.events[100:]

    def _planned(self) -> list[Planned]:
        from deployer.emulator.patches.ecs_task_set_tasks import _private_ip

        planned = []
        for account, region, backend in self._ecs():
            for cluster, tasks in backend.tasks.items():
                for task in tasks.values():
                    if task.desired_status != "RUNNING" or task.last_status != "RUNNING":
                        continue
                    if not str(task.group).startswith("service:"):
                        continue
                    definition = backend.describe_task_definition(task.task_definition_arn)
                    plan = Planned(
                        task.task_arn, account, region, cluster, task.group[8:], _private_ip(task)
                    )
                    for spec in definition.container_definitions:
                        container, failure = self._container(spec, account, region)
                        plan.containers.append(container)
                        plan.failure = plan.failure or failure
                    planned.append(plan)
        return planned

    def _container(
        self, spec: dict[str, Any], account: str, region: str
    ) -> tuple[Container, str | None]:
        from moto.ssm.models import ssm_backends

        env = {str(e["name"]): str(e["value"]) for e in spec.get("environment") or []}
        secrets: dict[str, str] = {}
        failure = None
        for secret in spec.get("secrets") or []:
            source = str(secret["valueFrom"])
            name = source.split(":parameter", 1)[-1] if source.startswith("arn:") else source
            parameter = ssm_backends[account][region].get_parameter(name)
            value = parameter.decrypt(parameter.value) if parameter is not None else None
            if value is not None:
                secrets[str(secret["name"])] = value
            else:
                failure = (
                    "ResourceInitializationError: unable to pull secrets or registry auth: "
                    f"the parameter {name} does not exist or cannot be read"
                )
        ports = [int(p["containerPort"]) for p in spec.get("portMappings") or []]
        logging_ = spec.get("logConfiguration") or {}
        options = logging_.get("options") or {}
        awslogs = None
        if logging_.get("logDriver") == "awslogs" and options.get("awslogs-group"):
            awslogs = (str(options["awslogs-group"]), str(options.get("awslogs-stream-prefix", "")))
        container = Container(
            name=str(spec.get("name")),
            image=str(spec.get("image")),
            environment=env,
            secrets=secrets,
            ports=ports,
            awslogs=awslogs,
            health_check=spec.get("healthCheck") or None,
            essential=bool(spec.get("essential", True)),
        )
        return container, failure

    # -- outside the lock: the Docker engine ---------------------------------------------------
    def _containers(self) -> dict[str, list[dict[str, str]]] | None:
        """This runtime's task containers: task ARN -> [{ID, State, Status}]; None when
        no Docker engine answers."""
        listed = self._listed()
        if listed is None:
            return None
        found: dict[str, list[dict[str, str]]] = {}
        for ident, state, status, labels in listed:
            arn = labels.get(LABEL_TASK)
            if arn:
                found.setdefault(arn, []).append(
                    {
                        "ID": ident,
                        "State": state,
                        "Status": status,
                        "Container": labels.get(LABEL_CONTAINER, ""),
                    }
                )
        return found

    def _listed(self) -> list[tuple[str, str, str, dict[str, str]]] | None:
        """``docker ps -a`` of the task containers: (ID, State, Status, labels) each,
        through the engine's socket or else the CLI; None when no engine answers."""
        if self._api is not None:
            try:
                return [
                    (e["Id"], e["State"], e["Status"], dict(e.get("Labels") or {}))
                    for e in self._api.containers([_owner_label(self.owner), LABEL_TASK])
                ]
            except docker_api.EngineError as exc:
                log.warning("ecs-tasks: the engine's API: %s; the CLI this round", exc)
        done = self.docker(
            "ps", "-a", "--filter", f"label={_owner_label(self.owner)}",
            "--filter", f"label={LABEL_TASK}", "--format", "{{json .}}",
        )  # fmt: skip
        if done.returncode != 0:
            return None
        listed = []
        for line in done.stdout.splitlines():
            try:
                entry = json.loads(line)
            except ValueError:
                continue
            labels = dict(
                part.split("=", 1)
                for part in str(entry.get("Labels", "")).split(",")
                if "=" in part
            )
            listed.append((entry["ID"], entry["State"], entry["Status"], labels))
        return listed

    def _login(self, image: str, account: str) -> None:
        host = image.split("/", 1)[0]
        key = f"{account}@{host}"
        if ".dkr.ecr." not in host or key in self._logged_in:
            return
        password = self.issue_token(account, f"arn:aws:iam::{account}:role/ecs-task-execution")
        done = self.docker("--config", str(self.docker_config), "login", "--username", "AWS",
                           "--password-stdin", host, stdin=password)  # fmt: skip
        if done.returncode == 0:
            self._logged_in.add(key)

    def _run(self, task: Planned) -> None:
        ports: dict[int, str] = {}
        for container in task.containers:
            self._login(container.image, task.account)
            pulled = self.docker(
                "--config", str(self.docker_config), "pull", container.image, timeout=600
            )
            if pulled.returncode != 0:
                reason = (pulled.stderr or pulled.stdout).strip().splitlines()
                detail = reason[-1] if reason else f"docker pull exited {pulled.returncode}"
                self._stop(task, f"CannotPullContainerError: {detail}", "TaskFailedToStart")
                return
            argv = ["run", "--detach", "--label", _owner_label(self.owner),
                    "--label", f"{LABEL_TASK}={task.arn}",
                    "--label", f"{LABEL_CONTAINER}={container.name}",
                    "--name", f"ecs-{task.arn.rsplit('/', 1)[-1][:12]}-{container.name}",
                    ]  # fmt: skip
            for name in [*container.environment, *container.secrets]:
                argv += ["--env", name]  # the value comes from the client's environment
            for port in container.ports:
                argv += ["--publish", f"127.0.0.1::{port}"]
            argv += health_check_args(container.health_check)
            argv.append(container.image)
            values = {**container.environment, **container.secrets}
            ran = self.docker(*argv, env=values)
            if ran.returncode != 0:
                self._stop(
                    task,
                    f"CannotStartContainerError: {ran.stderr.strip()[-300:]}",
                    "TaskFailedToStart",
                )
                return
            ident = ran.stdout.strip()
            for port in container.ports:
                mapped = self.docker("port", ident, f"{port}/tcp").stdout.split()
                if mapped:
                    ports[port] = mapped[0]
        self.endpoints[task.arn] = ports
        self._up_since[task.arn] = self._now()
        if task.ip:
            self._ips[task.arn] = task.ip
        self.started += 1
        with self.lock:
            self._backoff.pop(self._service_key(task), None)
            self._activate(task)

    def _remove(self, entries: Sequence[dict[str, str]]) -> None:
        ids = [e["ID"] for e in entries]
        if ids:
            self.docker("rm", "--force", *ids)

    def _logs(self, ident: str, since: str) -> str:
        """The container's output since ``since`` (a Docker timestamp, or "0"), each line
        with its timestamp: stdout and stderr, as ``docker logs --timestamps`` prints."""
        if self._api is not None:
            try:
                return self._api.logs(ident, docker_api.since_argument(since))
            except docker_api.EngineError as exc:
                log.warning("ecs-tasks: the engine's API: %s; the CLI this round", exc)
        out = self.docker("logs", "--timestamps", "--since", since, ident)
        return out.stdout + out.stderr

    def _ship_logs(self, task: Planned, entries: Sequence[dict[str, str]]) -> None:
        """awslogs: the containers' new output to ``<prefix>/<container>/<task id>`` in the
        log group (as the awslogs driver names streams); nothing when the group is missing."""
        from moto.logs.models import logs_backends

        task_id = task.arn.rsplit("/", 1)[-1]
        for entry in entries:
            spec = next((c for c in task.containers if c.name == entry["Container"]), None)
            if spec is None or spec.awslogs is None:
                continue
            since = self._shipped.get(entry["ID"], "0")
            text = self._logs(entry["ID"], since)
            events = []
            for line in text.splitlines():
                stamp, _, message = line.partition(" ")
                if not message or (since != "0" and _nanos(stamp) <= _nanos(since)):
                    continue  # --since is inclusive: the last line shipped comes again
                events.append((stamp, message))
            events.sort(key=lambda e: _nanos(e[0]))  # stdout and stderr, merged
            if not events:
                continue
            self._shipped[entry["ID"]] = events[-1][0]
            group, prefix = spec.awslogs
            stream = f"{prefix}/{spec.name}/{task_id}" if prefix else f"{spec.name}/{task_id}"
            with self.lock:
                backend = logs_backends[task.account][task.region]
                log_group = backend.groups.get(group)
                if log_group is None:
                    continue
                if stream not in log_group.streams:
                    log_group.create_log_stream(stream)
                log_group.put_log_events(
                    stream,
                    [{"timestamp": _millis(stamp), "message": m} for stamp, m in events],
                )

    # -- under the lock: Container Insights ------------------------------------------------------
    def _publish_metrics(self) -> None:
        """RunningTaskCount, DesiredTaskCount and PendingTaskCount per service, once an
        emulated minute (ECS/ContainerInsights; running: tasks whose containers run)."""
        import datetime

        from moto.cloudwatch.models import cloudwatch_backends

        now = self._now()
        stamp = datetime.datetime.fromtimestamp(now, datetime.UTC).replace(tzinfo=None)
        for account, region, backend in self._ecs():
            for service in list(backend.services.values()):
                if now - self._published.get(service.arn, 0.0) < 60:
                    continue
                self._published[service.arn] = now
                ids = {t.id for t in service.task_sets}
                ids |= {d["id"] for d in getattr(service, "deployments", None) or []}
                tasks = [
                    t
                    for t in backend.tasks.get(service.cluster_name, {}).values()
                    if t.started_by in ids and t.desired_status == "RUNNING"
                ]
                running = sum(1 for t in tasks if t.task_arn in self.endpoints)
                dimensions = [
                    {"Name": "ClusterName", "Value": service.cluster_name},
                    {"Name": "ServiceName", "Value": service.name},
                ]
                cloudwatch_backends[account][region].put_metric_data(
                    "ECS/ContainerInsights",
                    [
                        {"MetricName": name, "Dimensions": dimensions, "Value": value,
                         "Unit": "Count", "Timestamp": stamp}
                        for name, value in (
                            ("RunningTaskCount", running),
                            ("DesiredTaskCount", service.desired_count),
                            ("PendingTaskCount", max(len(tasks) - running, 0)),
                        )
                    ],
                )  # fmt: skip

    def _record_health(self, task: Planned, health: dict[str, Any]) -> None:
        """DescribeTasks' healthStatus of the task and of each container."""
        from moto.ecs.models import ecs_backends

        with self.lock:
            found = (
                ecs_backends[task.account][task.region].tasks.get(task.cluster, {}).get(task.arn)
            )
            if found is None or found.desired_status != "RUNNING":
                return
            found.health_status = health["task"]  # type: ignore[attr-defined]
            for container in found.containers:
                container.health_status = health["containers"].get(container.name, "UNKNOWN")

    # -- back to the lock: a task's containers run, or it ends ------------------------------
    def _activate(self, task: Planned) -> None:
        """Under the lock: the task's containers run, so ECS registers it with its target
        groups (ACTIVATING); one stopped meanwhile is registered nowhere."""
        from moto.ecs.models import ecs_backends

        from deployer.emulator.patches.ecs_task_set_tasks import activated, forget

        found = ecs_backends[task.account][task.region].tasks.get(task.cluster, {}).get(task.arn)
        if found is None or found.desired_status != "RUNNING":
            forget(task.arn)
        else:
            activated(task.arn)

    def _service_key(self, task: Planned) -> str:
        from moto.ecs.models import ecs_backends

        backend = ecs_backends[task.account][task.region]
        service = backend.services.get(f"{task.cluster}:{task.service}")
        return f"{task.account}/{task.region}/{service.arn if service else task.service}"

    def _stop(self, task: Planned, reason: str, code: str, exit_code: int | None = None) -> None:
        from moto.ecs.models import ecs_backends

        from deployer.emulator.patches.ecs_task_set_tasks import _private_ip, forget

        with self.lock:
            forget(task.arn)  # stopped before its containers ran: registered nowhere
            backend = ecs_backends[task.account][task.region]
            found = backend.tasks.get(task.cluster, {}).get(task.arn)
            if found is None or found.desired_status != "RUNNING":
                return
            backend.stop_task(task.cluster, task.arn, reason)
            found.stop_code = code  # type: ignore[attr-defined]  # DescribeTasks' stopCode
            for container in found.containers:
                container.exitCode = exit_code  # type: ignore[assignment]  # moto's name
                container.last_status = "STOPPED"
            ip = _private_ip(found)
            if ip:
                _deregister(task.account, task.region, ip)
            if code == "TaskFailedToStart":
                # One step of back-off per failed attempt of the service, however many of
                # its tasks that attempt started and lost.
                key = self._service_key(task)
                failures, not_before = self._backoff.get(key, (0, 0.0))
                if not_before <= self._now():
                    delay = min(BACKOFF_FIRST_S * 2**failures, BACKOFF_MAX_S)
                    self._backoff[key] = (failures + 1, self._now() + delay)
        self.endpoints.pop(task.arn, None)
        self._ips.pop(task.arn, None)
        self._up_since.pop(task.arn, None)
        self.stopped += 1
        log.info("ecs-tasks: %s stopped: %s", task.arn, reason)


def _docker(
    *args: str,
    timeout: float = 120,
    stdin: str | None = None,
    env: dict[str, str] | None = None,
) -> subprocess.CompletedProcess[str]:
    """The runtime's Docker CLI, a failure to run it answered as a failed command (a round
    must not die of a missing client or a hung engine)."""
    from deployer.emulator import runtime

    try:
        return runtime.docker(*args, timeout=timeout, stdin=stdin, env=env)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return subprocess.CompletedProcess(["docker", *args], 1, "", str(exc))


def health_check_args(check: dict[str, Any] | None) -> list[str]:
    """``docker run`` options for a container definition's healthCheck (ECS's defaults);
    without one, the image's own HEALTHCHECK is switched off: ECS does not monitor it."""
    if not check or not check.get("command"):
        return ["--no-healthcheck"]
    kind, *words = [str(w) for w in check["command"]]
    if kind == "CMD-SHELL":
        command = " ".join(words)
    elif kind == "CMD":
        command = shlex.join(words)
    else:  # ECS takes the command as CMD-SHELL's when neither form is named
        command = shlex.join([kind, *words])
    return [
        "--health-cmd", command,
        "--health-interval", f"{int(check.get('interval', 30))}s",
        "--health-timeout", f"{int(check.get('timeout', 5))}s",
        "--health-retries", str(int(check.get("retries", 3))),
        "--health-start-period", f"{int(check.get('startPeriod', 0))}s",
    ]  # fmt: skip


def _health(task: Planned, entries: Sequence[dict[str, str]]) -> dict[str, Any]:
    """Each container's health from ``docker ps``'s status ("Up 3 minutes (unhealthy)"),
    and the task's: UNHEALTHY if an essential container is, HEALTHY if all essential ones
    are, else UNKNOWN (ECS's order)."""
    containers: dict[str, str] = {}
    for entry in entries:
        spec = next((c for c in task.containers if c.name == entry["Container"]), None)
        status = entry["Status"]
        if spec is None or spec.health_check is None:
            containers[entry["Container"]] = "UNKNOWN"
        elif "(unhealthy)" in status:
            containers[entry["Container"]] = "UNHEALTHY"
        elif "(healthy)" in status:
            containers[entry["Container"]] = "HEALTHY"
        else:
            containers[entry["Container"]] = "UNKNOWN"
    essential = [containers.get(c.name, "UNKNOWN") for c in task.containers if c.essential]
    if "UNHEALTHY" in essential:
        overall = "UNHEALTHY"
    elif essential and all(h == "HEALTHY" for h in essential):
        overall = "HEALTHY"
    else:
        overall = "UNKNOWN"
    return {"task": overall, "containers": containers}


def _owner_label(owner: str) -> str:
    from deployer.emulator.runtime import LABEL

    return f"{LABEL}={owner}"


def _deregister(account: str, region: str, ip: str) -> None:
    """Under the lock: a task's address out of every target group holding it (it drains)."""
    for group in _elbv2(account, region).target_groups.values():
        if ip in group.targets:
            group.deregister([{"Id": ip}])


def _elbv2(account: str, region: str) -> Any:
    from moto.elbv2.models import elbv2_backends

    return elbv2_backends[account][region]


def _issue_token(account: str, arn: str) -> str:
    from deployer.emulator.registry import TOKENS

    token, _ = TOKENS.issue(account, arn)
    return base64.b64decode(token).decode().partition(":")[2]


def _nanos(stamp: str) -> int:
    from deployer.emulator.runtime import docker_nanos

    return docker_nanos(stamp)


def _millis(stamp: str) -> int:
    return _nanos(stamp) // 10**6


def _stamp(now: float) -> Any:
    """An emulated epoch time as the datetime moto's models keep."""
    import datetime

    return datetime.datetime.fromtimestamp(now, datetime.UTC)


def _task_id(task: Any) -> str:
    return str(task.task_arn).rsplit("/", 1)[-1]


def _named(deployment: dict[str, Any]) -> str:
    return f"deployment {deployment['id']}"


def _exit_code(status: str) -> int | None:
    """``Exited (3) 2 seconds ago`` -> 3."""
    if status.startswith("Exited (") and ")" in status:
        try:
            return int(status[len("Exited (") : status.index(")")])
        except ValueError:
            return None
    return None
