"""``deployer dr failover`` and ``dr failback``: move production between an environment's regions.

The steps, each recorded with its start time and duration, with the AWS API only (the
same calls on AWS and on the local emulator). They are written for the day the primary
region is down: ``failover`` reads and writes nothing there (the serving record aside,
which it writes wherever it is reachable), and every call to a region that answers HTTP
503 (``ServiceUnavailable``, as the emulator's region control answers, after AWS's
"Common Errors") or cannot be reached is a **skipped** step, named, never a traceback.
A skipped step is pending: running the same command again later completes it (each
step is idempotent; a re-run of an operation whose record lists pending steps resumes
it instead of refusing).

failover (to the DR region, ``--to``):

1. **readiness**: ``deployer dr status``'s checks of the target (deployer/dr.py); a gap
   refuses the failover (exit 1, each gap named) unless ``--force``, which names each
   gap it passes over;
2. **hold deployments**: CodePipeline DisableStageTransition of the stage that deploys
   the environment (Production for ``pipeline.production``), inbound, with a reason
   that meets the API's constraints (1 to 300 characters of ``[a-zA-Z0-9!@ ().*?-]``,
   CodePipeline API Reference, DisableStageTransition); GetPipelineState first, so a
   transition already held is left as it is. The pipeline is the delivery account's,
   in the delivery region;
3. **scale**: ECS UpdateService of each service in the target to the region's desired
   count, then DescribeServices (running = desired = that count) and ELB
   DescribeTargetHealth (that many healthy targets in the service's blue and green
   target groups) until both hold or ``timeout`` passes. A failure stops the command:
   users are not sent to a region that cannot serve them;
4. **switch traffic**: CloudWatch PutMetricData of ``Deployer/DR TrafficSwitch
   {Environment=<env>}`` = 1 in the DR region, where the traffic switch's alarm is; the
   Route 53 health checks on that alarm take the primary's failover records out
   (deployer/names.py). Nothing in the primary region's control planes is needed;
5. **verify**: per service, the name ``<service>.<zone>`` answers the target region's
   load balancer and an HTTPS GET of its health path answers 2xx, polled until
   ``timeout`` (:class:`NameCheck`: on the local target through the emulator's DNS
   server and CA, on AWS through the system resolver and trust store);
6. **standby**: once the target is verified, the region left (the primary) scaled to
   its standby count (no wait): while that region is down, a pending step;
7. **record**: the serving record (SSM parameter ``/deployer/dr/<env>``, String, JSON)
   in every region of the environment's account that answers, sequence = the highest
   read + 1, with the serving region, the task count per region and microservice as
   the command left them (a region it did not change keeps the count it had), the
   steps with their times, the pending steps and the recovery time (start to
   verified). This module's readers read every reachable region and take the highest
   sequence. Each region's runtime workspace reads its own region's copy
   (environments/stacks/runtime/serving.tf) and runs its desired count when the record
   names it, its standby count otherwise: ``deployer plan`` is empty after a failover
   and a failback, and a later apply does not undo either. A region that was down keeps
   its older copy, and the count it still runs, until the command is run again;
8. **publish**: SNS Publish of the event on the environment's notifications topic (the
   runtime stack's ``notifications_topic_arn``) in the target region.

failback reverses it: the primary scaled to its desired count and healthy, the switch
set to 0, the name verified to answer the primary, the DR region back to its standby
count (only once the primary is verified), the transition enabled (only when this
command's reason holds it: a hold someone else put there stays), the record (serving:
the primary; counts as the configuration gives them), the event on the primary's topic.

Without ``dns.zone`` there is no name to switch or verify: those steps say so, and the
recovery time ends when the target's targets are healthy.

Left out: environments of three or more regions beyond their first two (the traffic
switch has one DR region); Route 53 ARC; draining the region traffic leaves before it
is scaled to standby; a lock against two failovers at once.
"""

from __future__ import annotations

import concurrent.futures
import contextlib
import http.client
import json
import re
import socket
import ssl
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Protocol

from botocore.exceptions import (
    BotoCoreError,
    ClientError,
    ConnectionClosedError,
    ConnectTimeoutError,
    EndpointConnectionError,
    ReadTimeoutError,
)

from deployer import dr
from deployer.aws import Target
from deployer.config import Config, Environment
from deployer.errors import AwsError, UsageError
from deployer.names import (
    TRAFFIC_SWITCH_DIMENSION,
    TRAFFIC_SWITCH_METRIC,
    TRAFFIC_SWITCH_NAMESPACE,
    TargetNames,
    serving_record_parameter,
    traffic_switch_alarm,
)
from deployer.output import table

FAILOVER, FAILBACK = "failover", "failback"
#: A step's outcome. ``skipped``: a region did not answer (pending: a re-run completes
#: it); ``n/a``: nothing to do here; ``forced``: readiness gaps passed over (--force).
OK, SKIPPED, FAILED, FORCED, NOT_APPLICABLE = "ok", "skipped", "failed", "forced", "n/a"

#: DisableStageTransition's reason: 1 to 300 characters of this set (API Reference).
REASON_PATTERN = re.compile(r"[a-zA-Z0-9!@ \(\)\.\*\?\-]{1,300}")
#: How this command's reasons start: failback enables only a transition it holds.
REASON_PREFIX = "Held by deployer dr failover"
#: A Standard parameter's value is at most 4 KB (Systems Manager, "Parameter tiers").
STANDARD_PARAMETER_BYTES = 4096
#: SNS Publish: a subject is at most 100 characters.
SUBJECT_MAX = 100
#: Seconds each wait (healthy targets, the name verified) lasts at most, by default.
DEFAULT_TIMEOUT = 600.0
POLL_SECONDS = 5.0
#: Errors of a region that does not answer: AWS's "temporary failure" codes.
UNAVAILABLE_CODES = ("ServiceUnavailable", "ServiceUnavailableException", "Unavailable")
UNREACHABLE_ERRORS = (
    EndpointConnectionError,
    ConnectTimeoutError,
    ReadTimeoutError,
    ConnectionClosedError,
)


# ---------------------------------------------------------------------------
# Errors: a region that does not answer, or something else
# ---------------------------------------------------------------------------
def unreachable(exc: BaseException) -> bool:
    """Whether ``exc`` (or what a translated AwsError came from) says the region's API
    did not answer: HTTP 503 / ServiceUnavailable, or no connection."""
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, UNREACHABLE_ERRORS):
            return True
        if isinstance(seen, ClientError):
            status = seen.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
            code = seen.response.get("Error", {}).get("Code")
            return status == 503 or code in UNAVAILABLE_CODES
        seen = seen.__cause__
    return False


def failure(exc: BaseException) -> str:
    if isinstance(exc, ClientError):
        error = exc.response.get("Error", {})
        return f"{exc.operation_name}: {error.get('Code')}: {error.get('Message', '')}".rstrip(": ")
    if isinstance(exc, AwsError):
        return exc.message
    return str(exc)


#: What a step's call may raise: botocore's errors, and a role assumption's (AwsError).
CALL_ERRORS = (ClientError, BotoCoreError, AwsError)


def botocore_client(get: Callable[[], Any]) -> Any:
    """A client from ``get``; a role assumption that failed (an AwsError translated from
    botocore) re-raises what botocore raised, so callers that catch botocore's errors
    (deployer/dr.py) see a region that does not answer as such."""
    try:
        return get()
    except AwsError as exc:
        if isinstance(exc.__cause__, ClientError | BotoCoreError):
            raise exc.__cause__ from exc
        raise


# ---------------------------------------------------------------------------
# Steps
# ---------------------------------------------------------------------------
def _iso(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


@dataclass
class Step:
    name: str
    region: str | None
    status: str = OK
    detail: str = ""
    started: float = 0.0
    seconds: float = 0.0

    @property
    def pending(self) -> bool:
        return self.status in (SKIPPED, FAILED)

    def to_json(self, *, detail: bool = True) -> dict[str, Any]:
        document: dict[str, Any] = {
            "name": self.name,
            "region": self.region,
            "status": self.status,
            "started": _iso(self.started),
            "seconds": round(self.seconds, 2),
        }
        if detail:
            document["detail"] = self.detail
        return document


class Stop(Exception):
    """A step failed that the next ones cannot go without (the command ends, exit 1)."""


# ---------------------------------------------------------------------------
# The serving record
# ---------------------------------------------------------------------------
@dataclass
class ServingRecord:
    """Where an environment serves after the last failover or failback (see the module
    docstring); one JSON document, the same in every region it could be written to."""

    environment: str
    operation: str
    serving: str
    sequence: int
    #: region -> microservice -> the task count the command left there
    counts: dict[str, dict[str, int]]
    started: str = ""
    finished: str = ""
    recovery_seconds: float | None = None
    pending: list[str] = field(default_factory=list)
    steps: list[dict[str, Any]] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {
            "environment": self.environment,
            "operation": self.operation,
            "serving": self.serving,
            "sequence": self.sequence,
            "counts": self.counts,
            "started": self.started,
            "finished": self.finished,
            "recovery_seconds": self.recovery_seconds,
            "pending": self.pending,
            "steps": self.steps,
        }

    @classmethod
    def from_json(cls, document: dict[str, Any]) -> ServingRecord:
        return cls(
            environment=str(document["environment"]),
            operation=str(document["operation"]),
            serving=str(document["serving"]),
            sequence=int(document["sequence"]),
            counts={
                str(region): {str(m): int(n) for m, n in dict(services).items()}
                for region, services in dict(document.get("counts") or {}).items()
            },
            started=str(document.get("started", "")),
            finished=str(document.get("finished", "")),
            recovery_seconds=document.get("recovery_seconds"),
            pending=[str(p) for p in document.get("pending") or []],
            steps=list(document.get("steps") or []),
        )

    def value(self) -> str:
        """The parameter's value: the whole record, or without its steps when it would
        pass a Standard parameter's 4 KB (the command's output keeps them)."""
        text = json.dumps(self.to_json(), separators=(",", ":"), sort_keys=True)
        if len(text.encode()) > STANDARD_PARAMETER_BYTES:
            text = json.dumps(
                {**self.to_json(), "steps": []}, separators=(",", ":"), sort_keys=True
            )
        return text


@dataclass
class RecordRead:
    """The newest record found (None: none anywhere read) and the regions not read."""

    record: ServingRecord | None
    unread: dict[str, str]  # region -> why

    @property
    def highest(self) -> int:
        return self.record.sequence if self.record else 0


def read_record(env: Environment, client: Callable[[str, str], Any]) -> RecordRead:
    """The serving record of ``env`` from every region of its account, at once; the
    highest sequence wins. ``client(region, service)``: a client in the env's account."""
    name = serving_record_parameter(env.name)

    def read(region: str) -> ServingRecord | None:
        ssm = botocore_client(lambda: client(region, "ssm"))
        try:
            value = ssm.get_parameter(Name=name)["Parameter"]["Value"]
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") == "ParameterNotFound":
                return None
            raise
        return ServingRecord.from_json(json.loads(value))

    regions = [r.name for r in env.regions]
    found: list[ServingRecord] = []
    unread: dict[str, str] = {}
    with concurrent.futures.ThreadPoolExecutor(max_workers=len(regions)) as pool:
        futures = {region: pool.submit(read, region) for region in regions}
        for region, future in futures.items():
            try:
                record = future.result()
            except (*CALL_ERRORS, ValueError, KeyError, TypeError) as exc:
                unread[region] = failure(exc)
                continue
            if record is not None:
                found.append(record)
    newest = max(found, key=lambda r: r.sequence, default=None)
    return RecordRead(newest, unread)


# ---------------------------------------------------------------------------
# Verifying a name: one runner, two ways to resolve and trust
# ---------------------------------------------------------------------------
class Verifier(Protocol):
    def check(self, name: str, load_balancer: str, path: str) -> tuple[bool, str]:
        """One attempt: whether ``name`` answers ``load_balancer`` (its DNS name) and an
        HTTPS GET of ``path`` on it succeeds; and what was seen."""
        ...


class Resolver(Protocol):
    def addresses(self, name: str) -> list[str]:
        """The IPv4 addresses ``name`` answers with now."""
        ...

    def load_balancer(self, dns_name: str) -> list[str]:
        """The addresses the load balancer ``dns_name`` serves HTTPS on."""
        ...

    def context(self) -> ssl.SSLContext: ...


@dataclass
class NameCheck:
    """:class:`Verifier` over a :class:`Resolver`: DNS, then HTTPS to the address found."""

    resolver: Resolver
    timeout: float = 5.0
    port: int = 443  # the load balancers' HTTPS listener

    def check(self, name: str, load_balancer: str, path: str) -> tuple[bool, str]:
        try:
            found = self.resolver.addresses(name)
            wanted = self.resolver.load_balancer(load_balancer)
        except Exception as exc:  # DNS: a timeout, NXDOMAIN, a refused query, a dead server
            return False, f"{name} did not resolve ({type(exc).__name__}: {exc})"
        common = sorted(set(found) & set(wanted))
        if not common:
            return False, f"{name} answers {', '.join(found) or 'nothing'}, not {load_balancer}"
        context = self.resolver.context()
        connection = http.client.HTTPSConnection(common[0], self.port, context=context)
        try:
            # HTTPS to the address found, with the name as SNI and for the certificate's
            # check (request() connects only when there is no socket yet).
            raw = socket.create_connection((common[0], self.port), self.timeout)
            connection.sock = context.wrap_socket(raw, server_hostname=name)
            connection.request("GET", path, headers={"Host": name})
            status = connection.getresponse().status
        except (OSError, http.client.HTTPException) as exc:
            return False, f"https://{name}{path} at {common[0]}: {type(exc).__name__}: {exc}"
        finally:
            connection.close()
        ok = 200 <= status < 300
        return ok, f"{name} answers {load_balancer} ({common[0]}); GET {path}: HTTP {status}"


class SystemResolver:
    """On AWS: the system's resolver and trust store."""

    def addresses(self, name: str) -> list[str]:
        infos = socket.getaddrinfo(name, 443, socket.AF_INET, socket.SOCK_STREAM)
        return sorted({str(info[4][0]) for info in infos})

    def load_balancer(self, dns_name: str) -> list[str]:
        return self.addresses(dns_name)

    def context(self) -> ssl.SSLContext:
        return ssl.create_default_context()


class EmulatorResolver:
    """On the local target: the emulator's Route 53 DNS server (engines/route53_dns.py),
    its load balancers' own addresses (engines/elb_listeners.py) and its CA, all from its
    controls (``GET /_deployer/runtime``, ``GET /_deployer/ca``)."""

    def __init__(self, endpoint: str) -> None:
        self.endpoint = endpoint

    def _runtime(self) -> dict[str, Any]:
        from deployer.emulator import controls

        runtime = controls.post(self.endpoint, "runtime", None).get("runtime")
        if not runtime:
            raise LookupError("the emulator runs without its runtime: no DNS server to ask")
        return dict(runtime)

    def addresses(self, name: str) -> list[str]:
        import dns.message
        import dns.query
        import dns.rdatatype

        server = self._runtime().get("route53-dns") or {}
        if not server.get("port"):
            raise LookupError(f"the emulator's DNS server is not running ({server})")
        query = dns.message.make_query(name, dns.rdatatype.A)
        answer = dns.query.udp(query, server["address"], port=int(server["port"]), timeout=5)
        return sorted(
            {
                str(item.address)
                for rrset in answer.answer
                for item in rrset
                if hasattr(item, "address")
            }
        )

    def load_balancer(self, dns_name: str) -> list[str]:
        listeners = (self._runtime().get("elb-listeners") or {}).get("listeners") or {}
        return sorted(
            {
                str(item["own_address"]).rpartition(":")[0]
                for item in listeners.values()
                if str(item.get("dns_name", "")).lower() == dns_name.lower()
                and int(item.get("port", 0)) == 443
                and item.get("own_address")
            }
        )

    def context(self) -> ssl.SSLContext:
        from deployer.emulator import controls

        pem = controls.post(self.endpoint, "ca", None)["certificate"]
        return ssl.create_default_context(cadata=pem)


def verifier_for(target: Target) -> Verifier:
    """The name check for ``target``: the emulator's DNS and CA locally, else the system's."""
    if target.is_local and target.endpoint:
        return NameCheck(EmulatorResolver(target.endpoint))
    return NameCheck(SystemResolver())


# ---------------------------------------------------------------------------
# What the steps reach
# ---------------------------------------------------------------------------
@dataclass(frozen=True)
class Reach:
    """Clients and names a failover or failback needs, injected (tests swap in moto)."""

    #: (region, AWS service) -> a client in the environment's account
    env_client: Callable[[str, str], Any]
    #: (region, AWS service) -> a client in the delivery account
    delivery_client: Callable[[str, str], Any]
    #: region -> what the runtime stack names there
    names: Callable[[str], TargetNames]
    verifier: Verifier
    clock: Callable[[], float] = time.time
    sleep: Callable[[float], None] = time.sleep
    timeout: float = DEFAULT_TIMEOUT
    poll: float = POLL_SECONDS


@dataclass
class Outcome:
    """What a failover or failback did: the result document of the command."""

    environment: str
    operation: str
    source: str
    target: str
    started: float
    resumed: bool = False
    steps: list[Step] = field(default_factory=list)
    refused: bool = False
    failed: bool = False
    verified_at: float | None = None
    gaps: list[dr.Check] = field(default_factory=list)
    record: ServingRecord | None = None

    @property
    def recovery_seconds(self) -> float | None:
        return None if self.verified_at is None else round(self.verified_at - self.started, 2)

    @property
    def pending(self) -> list[str]:
        return [_label(s) for s in self.steps if s.pending]

    @property
    def complete(self) -> bool:
        return not self.refused and not self.failed and not self.pending

    def to_json(self) -> dict[str, Any]:
        return {
            "environment": self.environment,
            "operation": self.operation,
            "from_region": self.source,
            "to_region": self.target,
            "started": _iso(self.started),
            "resumed": self.resumed,
            "refused": self.refused,
            "failed": self.failed,
            "complete": self.complete,
            "recovery_seconds": self.recovery_seconds,
            "pending": self.pending,
            "gaps": [g.to_json() for g in self.gaps],
            "steps": [s.to_json() for s in self.steps],
            "sequence": self.record.sequence if self.record else None,
        }

    def to_text(self) -> str:
        verb = "fail over" if self.operation == FAILOVER else "fail back"
        head = f"{self.environment}: {verb} from {self.source} to {self.target}"
        if self.refused:
            head += ": REFUSED (the target is not ready; --force passes over the gaps)"
        elif self.failed:
            head += ": FAILED"
        elif self.pending:
            head += ": done, with steps pending"
        else:
            head += ": done"
        rows = [
            (s.name, s.region or "", s.status, f"{s.seconds:.1f}", s.detail) for s in self.steps
        ]
        lines = [head, "", table(("STEP", "REGION", "STATUS", "SECONDS", "DETAIL"), rows)]
        if self.gaps:
            lines += ["", "gaps:"] + [f"  {g.service} {g.check}: {g.detail}" for g in self.gaps]
        if self.recovery_seconds is not None:
            lines += ["", f"recovery time: {self.recovery_seconds:.1f} s (start to verified)"]
        if self.pending and not self.refused:
            lines += [
                "",
                f"pending: {', '.join(self.pending)}: run deployer dr {self.operation} "
                f"{self.environment} again once the region answers",
            ]
        return "\n".join(lines)


def _label(step: Step) -> str:
    return f"{step.name} in {step.region}" if step.region else step.name


class _Run:
    """One command's steps: times each, turns a region that does not answer into a
    skipped step and any other API failure into a failed one."""

    def __init__(self, reach: Reach, outcome: Outcome, progress: Callable[[str], None]) -> None:
        self.reach = reach
        self.outcome = outcome
        self.progress = progress

    @contextmanager
    def step(self, name: str, region: str | None, *, fatal: bool = False) -> Iterator[Step]:
        step = Step(name, region, started=self.reach.clock())
        self.outcome.steps.append(step)
        self.progress(f"dr {self.outcome.operation}: {_label(step)}")
        try:
            yield step
        except CALL_ERRORS as exc:
            if unreachable(exc):
                step.status = SKIPPED
                step.detail = f"{region} did not answer ({failure(exc)}): skipped"
            else:
                step.status = FAILED
                step.detail = failure(exc)
        finally:
            step.seconds = self.reach.clock() - step.started
        if fatal and step.status in (FAILED, SKIPPED):
            self.outcome.failed = True
            raise Stop(step.detail)

    def wait(self, done: Callable[[], tuple[bool, str]]) -> tuple[bool, str]:
        """Call ``done`` until it holds or the timeout passes; its last answer."""
        deadline = self.reach.clock() + self.reach.timeout
        while True:
            ok, seen = done()
            now = self.reach.clock()
            if ok or now >= deadline:
                return ok, seen
            self.reach.sleep(min(self.reach.poll, deadline - now))


# ---------------------------------------------------------------------------
# The steps
# ---------------------------------------------------------------------------
def _stage(config: Config, env: Environment) -> str | None:
    from deployer.report import stage_of

    try:
        return stage_of(config, env)
    except UsageError:
        return None


def hold_reason(env: Environment, target: str, now: float) -> str:
    """DisableStageTransition's reason: who, why and when, in the characters it accepts."""
    when = datetime.fromtimestamp(now, UTC).strftime("%Y-%m-%d %H.%M UTC")
    reason = f"{REASON_PREFIX} at {when} - {env.name} serves from {target} (disaster recovery)"
    reason = re.sub(r"[^a-zA-Z0-9!@ \(\)\.\*\?\-]", "-", reason)[:300]
    assert REASON_PATTERN.fullmatch(reason), reason
    return reason


def _transition(client: Any, pipeline: str, stage: str) -> dict[str, Any] | None:
    """The stage's inbound transition as GetPipelineState reports it (None: no such stage)."""
    for state in client.get_pipeline_state(name=pipeline).get("stageStates", []):
        if state.get("stageName") == stage:
            return dict(state.get("inboundTransitionState") or {"enabled": True})
    return None


def _inbound(
    run: _Run, config: Config, env: Environment, step: Step
) -> tuple[Any, str, str, dict[str, Any]] | None:
    """The pipeline's client, its name, the stage that deploys ``env`` and that stage's
    inbound transition; None when there is none (``step`` then says why)."""
    pipeline = config.names.delivery.pipeline_name
    stage = _stage(config, env)
    if stage is None:
        step.status, step.detail = NOT_APPLICABLE, f"the pipeline does not deploy {env.name}"
        return None
    client = run.reach.delivery_client(config.delivery.primary_region, "codepipeline")
    state = _transition(client, pipeline, stage)
    if state is None:
        step.status, step.detail = FAILED, f"the pipeline {pipeline} has no stage {stage}"
        return None
    return client, pipeline, stage, state


def _hold(run: _Run, config: Config, env: Environment, target: str) -> None:
    with run.step("hold deployments", config.delivery.primary_region) as step:
        found = _inbound(run, config, env, step)
        if found is None:
            return
        client, pipeline, stage, state = found
        if not state.get("enabled", True):
            step.detail = f"{pipeline} {stage}: already held ({state.get('disabledReason')})"
            return
        reason = hold_reason(env, target, run.reach.clock())
        client.disable_stage_transition(
            pipelineName=pipeline, stageName=stage, transitionType="Inbound", reason=reason
        )
        step.detail = f"{pipeline} {stage}: inbound transition disabled ({reason})"


def _release(run: _Run, config: Config, env: Environment) -> None:
    with run.step("release deployments", config.delivery.primary_region) as step:
        found = _inbound(run, config, env, step)
        if found is None:
            return
        client, pipeline, stage, state = found
        if state.get("enabled", True):
            step.detail = f"{pipeline} {stage}: inbound transition already enabled"
            return
        reason = str(state.get("disabledReason", ""))
        if not reason.startswith(REASON_PREFIX):
            step.status = NOT_APPLICABLE
            step.detail = f"{pipeline} {stage}: held for another reason ({reason}): left held"
            return
        client.enable_stage_transition(
            pipelineName=pipeline, stageName=stage, transitionType="Inbound"
        )
        step.detail = f"{pipeline} {stage}: inbound transition enabled"


def _capacity(reach: Reach, region: str, microservice: str, want: int) -> tuple[bool, str]:
    names = reach.names(region)
    service = names.service(microservice)
    ecs = reach.env_client(region, "ecs")
    found = ecs.describe_services(cluster=names.cluster_name, services=[service.service_name])
    (described,) = [s for s in found.get("services", []) if s.get("status") == "ACTIVE"] or [{}]
    running, desired = described.get("runningCount", 0), described.get("desiredCount", 0)
    elb = reach.env_client(region, "elbv2")
    groups = elb.describe_target_groups(
        Names=[service.target_group_names.blue, service.target_group_names.green]
    )["TargetGroups"]
    healthy = sum(
        target.get("TargetHealth", {}).get("State") == "healthy"
        for group in groups
        for target in elb.describe_target_health(TargetGroupArn=group["TargetGroupArn"])[
            "TargetHealthDescriptions"
        ]
    )
    seen = f"{microservice} running {running}, desired {desired}, {healthy} healthy targets"
    return running == desired == want and healthy >= want, seen


def _scale(
    run: _Run, config: Config, region: str, want: int, *, wait: bool, name: str = "scale"
) -> dict[str, int]:
    """UpdateService of every service in ``region`` to ``want`` (then, with ``wait``,
    until running and healthy); the counts it set."""
    reach = run.reach
    names = reach.names(region)
    scaled: dict[str, int] = {}
    with run.step(name, region, fatal=wait) as step:
        ecs = reach.env_client(region, "ecs")
        for m in config.microservices:
            ecs.update_service(
                cluster=names.cluster_name,
                service=names.service(m.name).service_name,
                desiredCount=want,
            )
            scaled[m.name] = want
        step.detail = f"{len(scaled)} services to {want} tasks"
        if not wait:
            return scaled

        def healthy() -> tuple[bool, str]:
            seen = [_capacity(reach, region, m.name, want) for m in config.microservices]
            return all(ok for ok, _ in seen), "; ".join(s for ok, s in seen if not ok)

        ok, seen = run.wait(healthy)
        if not ok:
            step.status = FAILED
            step.detail = f"not running and healthy after {reach.timeout:.0f} s: {seen}"
        else:
            step.detail += ", running and healthy"
    return scaled


def _put_switch(reach: Reach, env: Environment, value: int) -> None:
    region = env.dr_region or env.primary_region
    reach.delivery_client(region, "cloudwatch").put_metric_data(
        Namespace=TRAFFIC_SWITCH_NAMESPACE,
        MetricData=[
            {
                "MetricName": TRAFFIC_SWITCH_METRIC,
                "Dimensions": [{"Name": TRAFFIC_SWITCH_DIMENSION, "Value": env.name}],
                "Value": float(value),
                "Unit": "None",
            }
        ],
    )


def _switch(run: _Run, config: Config, env: Environment, value: int) -> Callable[[], None]:
    """The switch's data point; returns what puts it again (nothing when it was not put)."""
    region = env.dr_region or env.primary_region
    with run.step("switch traffic", region) as step:
        if env.dns is None:
            step.status = NOT_APPLICABLE
            step.detail = "no dns.zone: no failover names for a switch to move"
            return lambda: None
        _put_switch(run.reach, env, value)
        where = "the DR region" if value else "the endpoint health checks"
        alarm = traffic_switch_alarm(config.company, config.service, env.name)
        state = "ALARM" if value else "OK"
        step.detail = (
            f"{TRAFFIC_SWITCH_NAMESPACE} {TRAFFIC_SWITCH_METRIC} = {value}: {alarm} to {state} "
            f"within a period, users to {where}"
        )

        def again() -> None:
            # The alarm takes the Maximum of a period: a 0 in the period of a 1 (a failback
            # a minute after its failover) leaves it in ALARM until a period holds only 0s.
            with contextlib.suppress(*CALL_ERRORS):
                _put_switch(run.reach, env, value)

        return again
    return lambda: None


def _verify(
    run: _Run, config: Config, env: Environment, region: str, keep: Callable[[], None]
) -> bool:
    """Whether every service's name answers ``region`` (True without dns: the scale step
    already waited for healthy targets). ``keep`` puts the switch again between tries."""
    reach = run.reach
    with run.step("verify", region) as step:
        if env.dns is None:
            step.status = NOT_APPLICABLE
            step.detail = "no dns.zone: no name to verify (the targets are healthy)"
            return True
        names = reach.names(region)
        elb = reach.env_client(region, "elbv2")
        balancers = {
            m.name: elb.describe_load_balancers(Names=[names.service(m.name).alb_name])[
                "LoadBalancers"
            ][0]["DNSName"]
            for m in config.microservices
        }
        dns = env.dns

        tries = [0]

        def answered() -> tuple[bool, str]:
            if tries[0]:
                keep()
            tries[0] += 1
            seen = [
                reach.verifier.check(dns.record_name(m.name), balancers[m.name],
                                     m.health_check_path)
                for m in config.microservices
            ]  # fmt: skip
            failing = [s for ok, s in seen if not ok]
            return not failing, "; ".join(failing or [s for _, s in seen])

        ok, seen = run.wait(answered)
        step.status = OK if ok else FAILED
        step.detail = seen if ok else f"not after {reach.timeout:.0f} s: {seen}"
        return ok
    return False  # the step's own API call failed (it is recorded)


def _record(
    run: _Run, env: Environment, serving: str, counts: dict[str, dict[str, int]], sequence: int
) -> ServingRecord:
    outcome = run.outcome
    record = ServingRecord(
        environment=env.name,
        operation=outcome.operation,
        serving=serving,
        sequence=sequence,
        counts=counts,
        started=_iso(outcome.started),
        recovery_seconds=outcome.recovery_seconds,
    )
    name = serving_record_parameter(env.name)
    before = list(outcome.steps)
    record.steps = [s.to_json(detail=False) for s in before]
    record.pending = [_label(s) for s in before if s.pending]

    def put(ssm: Any) -> None:
        record.finished = _iso(run.reach.clock())
        ssm.put_parameter(
            Name=name,
            Value=record.value(),
            Type="String",
            Overwrite=True,
            Description=f"deployer dr: where {env.name} serves (the highest sequence wins)",
        )

    written: list[str] = []
    writes: list[Step] = []
    for region in (r.name for r in env.regions):
        with run.step("record", region) as step:
            writes.append(step)
            put(run.reach.env_client(region, "ssm"))
            step.detail = f"{name} sequence {sequence}: {serving} serves"
            written.append(region)
    missed = [_label(s) for s in writes if s.pending]
    if missed and written:
        # The copies written name the regions whose copy is missing, for the re-run.
        record.pending += missed
        for region in written:
            with contextlib.suppress(*CALL_ERRORS):
                put(run.reach.env_client(region, "ssm"))
    record.pending = outcome.pending
    outcome.record = record
    return record


def _publish(run: _Run, env: Environment, region: str) -> None:
    outcome = run.outcome
    with run.step("publish", region) as step:
        topic = run.reach.names(region).notifications_topic_arn
        verb = "failed over to" if outcome.operation == FAILOVER else "failed back to"
        subject = f"{env.name} {verb} {outcome.target}"[:SUBJECT_MAX]
        message = {
            "event": f"deployer dr {outcome.operation}",
            **{k: v for k, v in outcome.to_json().items() if k != "gaps"},
        }
        run.reach.env_client(region, "sns").publish(
            TopicArn=topic, Subject=subject, Message=json.dumps(message, indent=2)
        )
        step.detail = f"{topic}: {subject}"


# ---------------------------------------------------------------------------
# The commands
# ---------------------------------------------------------------------------
def _previous_counts(
    config: Config, env: Environment, record: ServingRecord | None
) -> dict[str, dict[str, int]]:
    """What each region ran before: the record's counts, else the configuration's."""
    counts = {
        r.name: {m.name: env.running_count(r.name) for m in config.microservices}
        for r in env.regions
    }
    for region, services in (record.counts if record else {}).items():
        if region in counts:
            counts[region].update(services)
    return counts


def _readiness(
    run: _Run, config: Config, env: Environment, source: str, target: str, force: bool
) -> None:
    reach = run.reach
    with run.step("readiness", target) as step:
        sources = dr.Sources(
            primary=lambda s: botocore_client(lambda: reach.env_client(source, s)),
            dr=lambda s: botocore_client(lambda: reach.env_client(target, s)),
            delivery_ecr=lambda r: botocore_client(lambda: reach.delivery_client(r, "ecr")),
            # Route 53's control plane is in us-east-1 (dr.py says so when it is down).
            route53=lambda: botocore_client(lambda: reach.delivery_client("us-east-1", "route53")),
            primary_names=reach.names(source),
            dr_names=reach.names(target),
        )
        found = dr.status(sources, config, env, progress=run.progress)
        gaps = [c for c in found.checks if c.status == dr.GAP]
        run.outcome.gaps = gaps
        unknown = [c for c in found.checks if c.status == dr.UNKNOWN]
        note = f"; {len(unknown)} checks could not compare" if unknown else ""
        if not gaps:
            step.detail = f"{target} is ready{note}"
            return
        listed = "; ".join(f"{g.service} {g.check}: {g.detail}" for g in gaps)
        if force:
            step.status = FORCED
            step.detail = f"--force: {len(gaps)} gaps passed over: {listed}"
            return
        step.status = FAILED
        step.detail = f"{target} is not ready: {len(gaps)} gaps: {listed}"
        run.outcome.refused = True


def _move_traffic(
    run: _Run,
    config: Config,
    env: Environment,
    counts: dict[str, dict[str, int]],
    *,
    to: str,
    left: str,
    switch: int,
) -> None:
    """The traffic switch set, the names verified to answer ``to``; then the region
    ``left`` becomes the standby (its count by the stacks, serving.tf, once the record
    names ``to``; while it is down, a pending step), and only then."""
    outcome = run.outcome
    keep = _switch(run, config, env, switch)
    if not _verify(run, config, env, to, keep):
        outcome.failed = True
        with run.step("standby", left) as step:
            step.status = SKIPPED
            step.detail = f"left at its count: {to} is not verified to serve"
        return
    outcome.verified_at = run.reach.clock()
    counts[left].update(
        _scale(run, config, left, env.standby_count(left), wait=False, name="standby")
    )


def _resumes(read: RecordRead, operation: str, serving: str) -> bool:
    record = read.record
    return bool(record and record.operation == operation and record.serving == serving
                and record.pending)  # fmt: skip


def failover_target(config: Config, env: Environment, to: str | None) -> str:
    """The region a failover of ``env`` goes to (``to``, else its DR region), or a usage
    error: one region only, a region it lacks, its primary (that is a failback)."""
    target = to or dr.dr_region_of(config, env)
    dr.dr_region_of(config, env)
    env.region(target)  # a usage error naming the configured regions
    if target == env.primary_region:
        raise UsageError(
            f"{target} is {env.name}'s primary region: to return there, fail back",
            hint=f"deployer dr failback {env.name}",
        )
    return target


def failover(
    config: Config,
    env: Environment,
    reach: Reach,
    *,
    to: str | None = None,
    force: bool = False,
    progress: Callable[[str], None] = lambda _: None,
) -> Outcome:
    """Move ``env``'s production to ``to`` (its DR region); see the module docstring."""
    target = failover_target(config, env, to)
    primary = env.primary_region
    started = reach.clock()
    read = read_record(env, reach.env_client)
    serving = read.record.serving if read.record else env.serving_region
    resumed = serving == target
    if resumed and not _resumes(read, FAILOVER, target):
        raise UsageError(
            f"{target} already serves {env.name}: there is nothing to fail over",
            hint=f"deployer dr failback {env.name} returns it to {primary}",
        )
    outcome = Outcome(env.name, FAILOVER, serving if not resumed else primary, target, started,
                      resumed=resumed)  # fmt: skip
    run = _Run(reach, outcome, progress)
    counts = _previous_counts(config, env, read.record)
    try:
        if resumed:
            with run.step("readiness", target) as step:
                step.status = NOT_APPLICABLE
                step.detail = f"resuming the failover of sequence {read.highest}"
        else:
            _readiness(run, config, env, outcome.source, target, force)
            checked = outcome.steps[-1]
            if checked.status in (SKIPPED, FAILED) and not force:
                outcome.refused = True
            if outcome.refused:
                return outcome
        _hold(run, config, env, target)
        counts[target].update(_scale(run, config, target, env.desired_count(target), wait=True))
        _move_traffic(run, config, env, counts, to=target, left=primary, switch=1)
        _record(run, env, target, counts, read.highest + 1)
        _publish(run, env, target)
    except Stop:
        pass
    return outcome


def failback(
    config: Config,
    env: Environment,
    reach: Reach,
    *,
    progress: Callable[[str], None] = lambda _: None,
) -> Outcome:
    """Return ``env``'s production to its primary region; see the module docstring."""
    dr.dr_region_of(config, env)
    primary = env.primary_region
    started = reach.clock()
    read = read_record(env, reach.env_client)
    serving = read.record.serving if read.record else env.serving_region
    resumed = serving == primary
    if resumed and not _resumes(read, FAILBACK, primary):
        raise UsageError(
            f"{env.name} is not failed over: {primary}, its primary region, serves it",
            hint=f"deployer dr status {env.name}",
        )
    # The region traffic leaves (resuming: the DR region it already left).
    source = (env.dr_region or primary) if resumed else serving
    outcome = Outcome(env.name, FAILBACK, source, primary, started, resumed=resumed)
    run = _Run(reach, outcome, progress)
    counts = _previous_counts(config, env, read.record)
    try:
        counts[primary].update(_scale(run, config, primary, env.desired_count(primary), wait=True))
        _move_traffic(run, config, env, counts, to=primary, left=source, switch=0)
        _release(run, config, env)
        _record(run, env, primary, counts, read.highest + 1)
        _publish(run, env, primary)
    except Stop:
        pass
    return outcome
