"""Route 53 health checks: every health check is evaluated on the emulated clock, as
Route 53's health checkers evaluate theirs.

Reproduces, after the Route 53 developer guide ("How Amazon Route 53 determines
whether a health check is healthy", "Values that you specify when you create or update
health checks", "Monitoring health check status and getting notifications") and the
API reference's ``HealthCheckConfig``:

* every health check of moto's Route 53 backend, in every account (Route 53 is
  global), is evaluated; a new one is healthy until its checks decide otherwise, as
  the guide says ("Route 53 considers a new health check to be healthy until there's
  enough data"), but :meth:`Route53HealthChecks.health_of` answers None until the
  first evaluation;
* endpoint checks (``HTTP``, ``HTTPS``, ``HTTP_STR_MATCH``, ``HTTPS_STR_MATCH``,
  ``TCP``) are sent every ``RequestInterval`` (10 or 30 emulated seconds) to
  ``IPAddress``, or to ``FullyQualifiedDomainName`` when there is no IP address, on
  ``Port``, through the injected ``resolve`` (:func:`elb_resolver` by default: a load
  balancer's DNS name and listener port, or a loopback IP). HTTP(S): the TCP
  connection within 4 s, then a 2xx or 3xx status within 2 s (HTTPS: the certificate
  is not verified; ``EnableSNI`` sends the domain name in the client hello), a ``GET``
  of ``ResourcePath`` with the ``Host`` header built as the API reference says
  (``FullyQualifiedDomainName``, or ``IPAddress`` without one, with ``:Port`` unless
  the port is 80 for HTTP or 443 for HTTPS) and Route 53's user agent; the
  ``_STR_MATCH`` types then need ``SearchString`` in the first 5,120 bytes of the body
  within 2 s more; TCP: the connection within 10 s;
* a checker's status changes after ``FailureThreshold`` consecutive results that
  disagree with it (failures for a healthy endpoint, successes for an unhealthy one);
* ``CALCULATED``: healthy when at least ``HealthThreshold`` of ``ChildHealthChecks``
  are healthy (0: always healthy; more than there are children: never), a child with
  no result yet counting as healthy and a deleted one as unhealthy;
  ``CLOUDWATCH_METRIC``: healthy when the alarm of ``AlarmIdentifier`` (in the health
  check's account) is ``OK``, unhealthy when in ``ALARM``, and when it has insufficient
  data (or does not exist) as ``InsufficientDataHealthStatus`` says: ``Healthy``, ``Unhealthy`` or
  ``LastKnownStatus`` (the default; healthy if there is none yet); both are evaluated
  every 10 emulated seconds;
* ``Disabled``: no checks are sent and the status is healthy; ``Inverted`` then turns
  the status over (a disabled, inverted health check is unhealthy, as the guide says to
  stop traffic to a resource whose health check is disabled);
* each evaluation puts ``AWS/Route53`` metrics with the ``HealthCheckId`` dimension into
  the account's CloudWatch in us-east-1: ``HealthCheckStatus`` (1 healthy, 0 not),
  ``HealthCheckPercentageHealthy`` for endpoint checks (the share of checkers that
  found the endpoint healthy, before ``Inverted``) and
  ``ChildHealthCheckHealthyCount`` for calculated ones;
* each endpoint check's result is recorded on the health check for
  GetHealthCheckStatus and GetHealthCheckLastFailureReason
  (:mod:`deployer.emulator.patches.route53_health_check_status`);
* checks run on a small thread pool, never on the scheduler's thread and never holding
  the backend lock.

There is one health checker, in us-east-1, on 127.0.0.1: AWS's rule that an endpoint
is healthy when more than 18 % of its checkers find it healthy collapses to that one
checker's view (``HealthCheckPercentageHealthy`` is 0 or 100), and ``Regions`` is
kept by moto but not used.

Left out: ``MeasureLatency`` (no latency metrics), ``RECOVERY_CONTROL`` health checks,
IPv6 targets, health checks of a name resolved through public DNS (only what
``resolve`` maps is reachable; a name it does not map fails), the wording of AWS's
failure reasons beyond the HTTP status line (the emulator's are its own sentences),
the default port of an HTTPS check created without one (moto stores 80, AWS uses 443),
and a calculated check's children being re-evaluated within the same instant (a child's new
status reaches its parent at the parent's next evaluation). A timeout is the emulated
timeout in real seconds, never less than :data:`MIN_TIMEOUT_S`, so that a loaded
machine's delays do not count as an endpoint's.
"""

from __future__ import annotations

import datetime
import http.client
import ipaddress
import logging
import socket
import ssl
import threading
import time
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from deployer.emulator.patches import route53_health_check_status as status_patch
from deployer.emulator.patches.route53_health_check_status import Observation, Observed
from deployer.emulator.scheduler import BACKEND_LOCK, Scheduler

log = logging.getLogger(__name__)

#: A round every real second, or every 5 emulated seconds if that comes sooner.
ROUND_REAL_S = 1.0
ROUND_MAX_S = 5.0
#: How often calculated and CloudWatch alarm health checks are evaluated (emulated).
DERIVED_EVERY_S = 10.0
#: The checker's deadlines (emulated seconds), after the developer guide.
HTTP_CONNECT_S = 4.0
HTTP_RESPONSE_S = 2.0
TCP_CONNECT_S = 10.0
SEARCH_BYTES = 5120
#: The shortest real time a check waits for a connection or an answer.
MIN_TIMEOUT_S = 0.25
WORKERS = 8
NAMESPACE = "AWS/Route53"
METRICS_REGION = "us-east-1"
#: The one health checker: where it is, and the address its requests come from.
CHECKER_REGION = "us-east-1"
CHECKER_IP = "127.0.0.1"
USER_AGENT = (
    f"Amazon-Route53-Health-Check-Service (ref {uuid.uuid4()}; report http://amzn.to/1vsZADi)"
)

ENDPOINT_TYPES = ("HTTP", "HTTPS", "HTTP_STR_MATCH", "HTTPS_STR_MATCH", "TCP")

#: (FQDN or IP, port) -> the loopback (host, port) serving it, None when nothing answers.
Resolve = Callable[[str, int], tuple[str, int] | None]


# -- name resolution -------------------------------------------------------------------------
def elb_resolver(
    endpoint_of: Callable[[str, int], tuple[str, int] | None] | None = None,
) -> Resolve:
    """A resolver for the health checks: a loopback IP (127.0.0.0/8) is itself; a load
    balancer's DNS name and listener port map to where the elb-listeners engine serves
    that listener (its ``endpoint_of``: the load balancer's own address and the port, or
    the listener's port of 127.0.0.1; None while there is no such engine)."""

    def resolve(name: str, port: int) -> tuple[str, int] | None:
        try:
            if ipaddress.ip_address(name) in ipaddress.ip_network("127.0.0.0/8"):
                return name, port
            return None  # another address: nothing answers there
        except ValueError:
            pass
        return endpoint_of(name.lower().rstrip("."), port) if endpoint_of is not None else None

    return resolve


# -- one check ---------------------------------------------------------------------------------
@dataclass(frozen=True)
class Settings:
    """A health check's configuration, as the engine read it from moto's ``HealthCheck``."""

    id: str
    account: str
    type: str
    ip_address: str | None = None
    port: int = 80
    fqdn: str | None = None
    resource_path: str = "/"
    search_string: str = ""
    request_interval: float = 30.0
    failure_threshold: int = 3
    inverted: bool = False
    disabled: bool = False
    enable_sni: bool = False
    health_threshold: int = 0
    children: tuple[str, ...] = ()
    alarm: tuple[str, str] | None = None  # (region, name)
    insufficient: str = "LastKnownStatus"

    @classmethod
    def of(cls, account: str, check: Any) -> Settings:
        """Read from moto's ``HealthCheck`` (under the lock)."""
        kind = str(check.type_ or "").upper()
        default_port = 443 if kind.startswith("HTTPS") else 80
        alarm = status_patch.alarm_identifier(check)
        return cls(
            id=str(check.id),
            account=account,
            type=kind,
            ip_address=check.ip_address or None,
            port=int(check.port or default_port),
            fqdn=check.fqdn or None,
            resource_path=str(check.resource_path or "/"),
            search_string=str(check.search_string or ""),
            request_interval=float(check.request_interval or 30),
            failure_threshold=int(check.failure_threshold or 3),
            inverted=_true(check.inverted),
            disabled=_true(check.disabled),
            enable_sni=_true(check.enable_sni),
            health_threshold=int(check.health_threshold or 0),
            children=tuple(str(c) for c in check.children or ()),
            alarm=(str(alarm["Region"]), str(alarm["Name"])) if alarm else None,
            insufficient=status_patch.insufficient_data_health_status(check) or "LastKnownStatus",
        )

    @property
    def host_header(self) -> str:
        """The Host header, as the API reference's ``FullyQualifiedDomainName`` says."""
        name = self.fqdn or self.ip_address or ""
        default = 443 if self.type.startswith("HTTPS") else 80
        return name if self.port == default else f"{name}:{self.port}"


def _true(value: Any) -> bool:
    return value is True or str(value).lower() == "true"


@dataclass(frozen=True)
class Outcome:
    """One check's result and the status line a checker reports for it."""

    passed: bool
    status: str


def check(settings: Settings, target: tuple[str, int] | None, scale: float) -> Outcome:
    """One endpoint check of ``settings`` against ``target`` (the loopback address
    ``resolve`` gave, None when nothing answers there); deadlines divided by ``scale``."""

    def real(seconds: float) -> float:
        return max(seconds / scale, MIN_TIMEOUT_S)

    if target is None:
        name = settings.ip_address or settings.fqdn
        return Outcome(False, f"Failure: Connection refused. Nothing answers at {name}.")
    tcp = settings.type == "TCP"
    try:
        sock = socket.create_connection(
            target, timeout=real(TCP_CONNECT_S if tcp else HTTP_CONNECT_S)
        )
    except TimeoutError:
        return Outcome(
            False,
            "Failure: The health checker could not establish a connection within the "
            "timeout limit.",
        )
    except OSError as error:
        return Outcome(False, f"Failure: Connection refused ({error.strerror or error}).")
    if tcp:
        sock.close()
        return Outcome(True, "Success: TCP connection established.")
    connection = http.client.HTTPConnection(*target)
    try:
        sock.settimeout(real(HTTP_RESPONSE_S))
        if settings.type.startswith("HTTPS"):
            context = ssl._create_unverified_context()  # Route 53 verifies no certificate
            server_name = settings.fqdn if settings.enable_sni else None
            sock = context.wrap_socket(sock, server_hostname=server_name)
        connection.sock = sock
        headers = {"Host": settings.host_header, "User-Agent": USER_AGENT}
        connection.request("GET", settings.resource_path, headers=headers)
        response = connection.getresponse()
        line = f"HTTP Status Code {response.status}, {response.reason}"
        if not 200 <= response.status < 400:
            return Outcome(False, f"Failure: {line}")
        if settings.type.endswith("_STR_MATCH"):
            sock.settimeout(real(HTTP_RESPONSE_S))
            body = response.read(SEARCH_BYTES)
            if settings.search_string.encode() not in body:
                return Outcome(
                    False,
                    f"Failure: {line}. The search string {settings.search_string!r} was not "
                    f"found in the first {SEARCH_BYTES} bytes of the response body.",
                )
        return Outcome(True, f"Success: {line}")
    except TimeoutError:
        return Outcome(
            False,
            "Failure: The health checker did not receive a response within the timeout limit.",
        )
    except (OSError, http.client.HTTPException) as error:
        return Outcome(False, f"Failure: The endpoint did not answer in HTTP ({error}).")
    finally:
        connection.close()


# -- the state of one health check ----------------------------------------------------------------
@dataclass
class Tracked:
    """One health check's state: the checker's status (before ``Inverted``), its count of
    consecutive results that disagree with it, and what it observed."""

    settings: Settings
    healthy: bool = True  # new health checks are healthy until the checks decide
    streak: int = 0
    evaluated: bool = False
    due: float = 0.0
    in_flight: bool = False
    last: Observation | None = None
    last_failure: Observation | None = None
    #: Evaluations not yet published: (emulated time, status after Inverted, extra metrics).
    unpublished: list[tuple[float, bool, dict[str, float]]] = field(default_factory=list)

    @property
    def status(self) -> bool:
        """The health check's status, as DNS failover uses it."""
        return self.healthy != self.settings.inverted

    def apply(self, outcome: Outcome, at: float) -> None:
        """The checker's state machine (see the module docstring)."""
        if outcome.passed == self.healthy:
            self.streak = 0
        else:
            self.streak += 1
            if self.streak >= self.settings.failure_threshold:
                self.healthy, self.streak = outcome.passed, 0
        observation = Observation(CHECKER_REGION, CHECKER_IP, outcome.status, _naive(at))
        self.last = observation
        if not outcome.passed:
            self.last_failure = observation
        self.settle(at, {"HealthCheckPercentageHealthy": 100.0 if self.healthy else 0.0})

    def observed(self) -> Observed:
        return Observed(
            [self.last] if self.last else [], [self.last_failure] if self.last_failure else []
        )

    def settle(self, at: float, extra: dict[str, float]) -> None:
        self.evaluated = True
        self.unpublished.append((at, self.status, extra))


def _naive(epoch: float) -> datetime.datetime:
    return datetime.datetime.fromtimestamp(epoch, datetime.UTC).replace(tzinfo=None)


# -- the engine ----------------------------------------------------------------------------------
class Route53HealthChecks:
    """The engine (see the module docstring)."""

    name = "route53-health"

    def __init__(self, resolve: Resolve | None = None, lock: Any = BACKEND_LOCK) -> None:
        self.resolve: Resolve = resolve if resolve is not None else elb_resolver()
        self.lock = lock
        self._scheduler: Scheduler | None = None
        self._mutex = threading.Lock()
        self._tracked: dict[str, Tracked] = {}
        self._derived_due = 0.0
        #: Health check id -> moto's HealthCheck, as the last round read them.
        self._models: dict[str, Any] = {}
        self._pool = ThreadPoolExecutor(WORKERS, thread_name_prefix="route53-health")
        self._closed = False

    def _now(self) -> float:
        return self._scheduler.now() if self._scheduler else time.time()

    def _scale(self) -> float:
        return self._scheduler.time_scale if self._scheduler else 1.0

    def start(self, scheduler: Scheduler) -> None:
        self._scheduler = scheduler
        status_patch.running(True)
        every = min(ROUND_REAL_S * scheduler.time_scale, ROUND_MAX_S)
        scheduler.every(every, self.reconcile, name="route53-health")

    def close(self) -> None:
        if self._scheduler is not None and not self._closed:
            status_patch.running(False)
        self._closed = True
        self._pool.shutdown(wait=False, cancel_futures=True)

    def health_of(self, health_check_id: str) -> bool | None:
        """Whether the health check is healthy now (after ``Disabled`` and ``Inverted``),
        as DNS failover uses it; None until it was first evaluated."""
        with self._mutex:
            tracked = self._tracked.get(health_check_id)
            return tracked.status if tracked is not None and tracked.evaluated else None

    def status(self) -> dict[str, Any]:
        with self._mutex:
            return {
                "health_checks": {
                    hc_id: {
                        "type": t.settings.type,
                        "status": (
                            ("healthy" if t.status else "unhealthy") if t.evaluated else "unknown"
                        ),
                        "last": t.last.status if t.last else None,
                    }
                    for hc_id, t in sorted(self._tracked.items())
                }
            }

    def reconcile(self) -> None:
        """One round: read the health checks (briefly, under the lock), send the endpoint
        checks that are due (on the pool), evaluate the calculated and alarm checks when
        due, then record the observations and publish the metrics (under the lock)."""
        if self._closed:
            return
        now = self._now()
        found, alarms, self._models = self._read()
        due: list[Settings] = []
        with self._mutex:
            for hc_id in [i for i in self._tracked if i not in found]:
                del self._tracked[hc_id]
            for hc_id, settings in found.items():
                tracked = self._tracked.get(hc_id)
                if tracked is None:
                    tracked = self._tracked[hc_id] = Tracked(settings, due=now)
                tracked.settings = settings
                if settings.type not in ENDPOINT_TYPES:
                    continue
                if settings.disabled:
                    if not tracked.evaluated or tracked.due <= now:
                        tracked.healthy, tracked.streak = True, 0
                        tracked.due = now + DERIVED_EVERY_S
                        tracked.settle(now, {"HealthCheckPercentageHealthy": 100.0})
                    continue
                if tracked.in_flight or tracked.due > now:
                    continue
                tracked.in_flight, tracked.due = True, now + settings.request_interval
                due.append(settings)
            if now >= self._derived_due:
                self._derived_due = now + DERIVED_EVERY_S
                self._evaluate_derived(now, alarms)
        for settings in due:
            self._pool.submit(self._run, settings)
        self._write()

    def _read(
        self,
    ) -> tuple[dict[str, Settings], dict[tuple[str, str, str], str], dict[str, Any]]:
        """Under the lock: every health check's settings, the state of each alarm a
        CLOUDWATCH_METRIC health check watches by (account, region, name), and moto's
        health checks by id."""
        from moto.cloudwatch.models import cloudwatch_backends
        from moto.route53.models import route53_backends

        found: dict[str, Settings] = {}
        alarms: dict[tuple[str, str, str], str] = {}
        models: dict[str, Any] = {}
        with self.lock:
            for account in list(route53_backends.keys()):
                for _partition, backend in list(route53_backends[account].items()):
                    for check in list(backend.health_checks.values()):
                        settings = Settings.of(account, check)
                        found[settings.id] = settings
                        models[settings.id] = check
                        if settings.type == "CLOUDWATCH_METRIC" and settings.alarm:
                            region, name = settings.alarm
                            alarm = cloudwatch_backends[account][region].alarms.get(name)
                            if alarm is not None:
                                alarms[(account, region, name)] = str(alarm.state_value)
        return found, alarms, models

    def _evaluate_derived(self, now: float, alarms: dict[tuple[str, str, str], str]) -> None:
        """The calculated and CloudWatch alarm health checks (the caller holds the mutex)."""
        for tracked in self._tracked.values():
            settings = tracked.settings
            if settings.type == "CLOUDWATCH_METRIC":
                if settings.disabled:
                    tracked.healthy = True
                else:
                    region, name = settings.alarm or ("", "")
                    state = alarms.get((settings.account, region, name))
                    if state == "OK":
                        tracked.healthy = True
                    elif state == "ALARM":
                        tracked.healthy = False
                    elif settings.insufficient in ("Healthy", "Unhealthy"):
                        tracked.healthy = settings.insufficient == "Healthy"
                    # LastKnownStatus: as it was (healthy when new)
                tracked.settle(now, {})
            elif settings.type == "CALCULATED":
                children = [self._tracked.get(c) for c in settings.children]
                count = sum(1 for c in children if c is not None and (not c.evaluated or c.status))
                tracked.healthy = settings.disabled or count >= settings.health_threshold
                tracked.settle(now, {"ChildHealthCheckHealthyCount": float(count)})

    def _run(self, settings: Settings) -> None:
        target_name = settings.ip_address or settings.fqdn or ""
        try:
            target = self.resolve(target_name, settings.port)
            outcome = check(settings, target, self._scale())
        except Exception:  # a bug here must not leave the check in flight forever
            log.exception("route53-health: the check of %s failed", settings.id)
            outcome = Outcome(False, "Failure: The health checker failed.")
        with self._mutex:
            tracked = self._tracked.get(settings.id)
            if tracked is None:
                return
            tracked.in_flight = False
            tracked.apply(outcome, self._now())
            observed = tracked.observed()
        model = self._models.get(settings.id)
        if model is not None:  # at once, so that GetHealthCheckStatus agrees with health_of
            with self.lock:
                status_patch.record(model, observed)

    def _write(self) -> None:
        """Under the lock: each health check's observations on moto's health check, and
        the evaluations not yet published as metrics."""
        from moto.cloudwatch.models import cloudwatch_backends

        with self._mutex:
            records = {hc_id: t.observed() for hc_id, t in self._tracked.items()}
            data: dict[str, list[dict[str, Any]]] = {}
            for hc_id, tracked in self._tracked.items():
                for at, healthy, extra in tracked.unpublished:
                    stamp = _naive(at)
                    values = {"HealthCheckStatus": 1.0 if healthy else 0.0, **extra}
                    for metric, value in values.items():
                        data.setdefault(tracked.settings.account, []).append(
                            {
                                "MetricName": metric,
                                "Dimensions": [{"Name": "HealthCheckId", "Value": hc_id}],
                                "Timestamp": stamp,
                                "Value": value,
                                "Unit": "None",
                            }
                        )
                tracked.unpublished.clear()
        with self.lock:
            for hc_id, observed in records.items():
                model = self._models.get(hc_id)
                if model is not None:
                    status_patch.record(model, observed)
            for account, metric_data in data.items():
                cloudwatch_backends[account][METRICS_REGION].put_metric_data(NAMESPACE, metric_data)
