"""The health checks of the elb-listeners engine: each target of a used target group
is checked on the emulated clock, and its health follows ALB's state machine.

Reproduces, after the ALB user guide ("Health checks for Application Load
Balancer target groups": settings, target health states, reason codes):

* every ``HealthCheckIntervalSeconds`` (emulated), each registered target of a
  group some listener uses gets an HTTP ``GET`` of ``HealthCheckPath`` on
  ``HealthCheckPort`` (``traffic-port``: the target's own port) with the
  ``ELB-HealthChecker/2.0`` user agent; no answer within
  ``HealthCheckTimeoutSeconds`` is ``Target.Timeout``, an answer outside the
  ``Matcher`` (``"200"``, ``"200-299"``, ``"200,202"``) is
  ``Target.ResponseCodeMismatch`` ("Health checks failed with these codes:
  [500]"), a refused connection or a malformed answer is
  ``Target.FailedHealthChecks``;
* a new target is ``initial`` (``Elb.RegistrationInProgress`` until its first
  check is sent, then ``Elb.InitialHealthChecking``) and is ``healthy`` after it
  passes one check, as the guide says of a newly registered target, or
  ``unhealthy`` after ``UnhealthyThresholdCount`` consecutive failures; a healthy
  target goes unhealthy after ``UnhealthyThresholdCount`` consecutive failures,
  an unhealthy one healthy after ``HealthyThresholdCount`` consecutive successes;
* targets of a group no listener uses are ``unused`` (``Target.NotInUse``) and
  are not checked; used again, they start over as ``initial``;
* checks run on a small thread pool, never on the scheduler's thread and never
  holding the backend lock, so a target that hangs delays nothing else.

Left out: HTTPS health checks verify nothing (AWS does not verify target
certificates either) and HTTP/2 or gRPC checks, ``Elb.InternalError``, health
check logs, Availability Zones (every target counts as in an enabled zone),
``HealthCheckEnabled`` false (not allowed for ``ip`` and ``instance`` targets).
A timeout is the emulated timeout in real seconds, never less than
:data:`MIN_TIMEOUT_S`, so that a loaded machine's delays do not count as a
target's. For the same reason, at a time scale above 1 a new target (``initial``)
whose port does not answer yet (refused or dropped: ``Target.FailedHealthChecks``)
is not counted as failing in its first :data:`STARTUP_GRACE_S` real seconds: the
container's own start is not compressed by the time scale, so without it a task
that starts in 2 real seconds would be seen taking 20 emulated ones at scale 10,
over what the health check settings give it (the ECS guide's fast settings give a
service 10 seconds to start).
"""

from __future__ import annotations

import http.client
import logging
import ssl
import threading
import time
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

from deployer.emulator.patches.elbv2_target_health_checks import Health

log = logging.getLogger(__name__)

#: The shortest real time a health check waits for an answer. 0.25 s was too short on a
#: loaded 2-core CI machine: at time scale 10 a healthy notification-service task answered
#: late, its target went unhealthy and the deploy guard failed two releases' hooks
#: (2026-12-01, "Target.FailedHealthChecks" in the guard's verdict). A container's own
#: work is not compressed by the time scale; only the waiting is.
MIN_TIMEOUT_S = 1.0
#: How long, in real seconds, a new target's port may refuse connections before the
#: failures count (time scale above 1 only). Under CI's load a Python service took up
#: to 3 s to listen; at time scale 10 with the fastest settings (interval 5 s, two
#: failures) a target had 1 real second, and the deploy guard failed healthy releases'
#: hooks on "Target.FailedHealthChecks" (2026-12-01 and 2026-12-02).
STARTUP_GRACE_S = 10.0
#: At most this many checks are in flight at once.
WORKERS = 8
USER_AGENT = "ELB-HealthChecker/2.0"

_REGISTERING = ("initial", "Elb.RegistrationInProgress", "Target registration is in progress")
_INITIAL = ("initial", "Elb.InitialHealthChecking", "Initial health checks in progress")
UNUSED = Health(
    "unused",
    "Target.NotInUse",
    "Target group is not configured to receive traffic from the load balancer",
)

#: (target group ARN, target id, port): one target of one group.
Key = tuple[str, str, int]


@dataclass(frozen=True)
class Settings:
    """A target group's health check settings, as the engine read them."""

    protocol: str = "HTTP"
    port: str = "traffic-port"
    path: str = "/"
    interval: float = 30.0
    timeout: float = 5.0
    healthy_threshold: int = 5
    unhealthy_threshold: int = 2
    matcher: str = "200"

    @classmethod
    def of(cls, group: object) -> Settings:
        """Read from moto's ``FakeTargetGroup``."""
        matcher = getattr(group, "matcher", None) or {}
        return cls(
            protocol=str(getattr(group, "health_check_protocol", None) or "HTTP").upper(),
            port=str(getattr(group, "health_check_port", None) or "traffic-port"),
            path=str(getattr(group, "health_check_path", None) or "/"),
            interval=float(getattr(group, "health_check_interval_seconds", None) or 30),
            timeout=float(getattr(group, "health_check_timeout_seconds", None) or 5),
            healthy_threshold=int(getattr(group, "healthy_threshold_count", None) or 5),
            unhealthy_threshold=int(getattr(group, "unhealthy_threshold_count", None) or 2),
            matcher=str(matcher.get("HttpCode") or "200"),
        )


def matches(matcher: str, code: int) -> bool:
    """Whether ``code`` is one of the matcher's codes (``200``, ``200-299``, ``200,202``)."""
    for part in matcher.split(","):
        low, _, high = part.strip().partition("-")
        if low.isdigit() and int(low) <= code <= int(high if high.isdigit() else low):
            return True
    return False


@dataclass
class Outcome:
    """One health check's result: passed, or the reason it failed."""

    passed: bool
    reason: str | None = None
    description: str | None = None


def check(
    address: str | None, settings: Settings, timeout_s: float, host_header: str | None = None
) -> Outcome:
    """One health check of the target served at ``address`` (host:port), or None if
    nothing serves it (a refused connection); ``host_header``: the Host header (the target's
    IP and health check port, as ALB sends it)."""
    if address is None:
        return Outcome(False, "Target.FailedHealthChecks", "Health checks failed")
    host, _, port = address.rpartition(":")
    connection: http.client.HTTPConnection
    if settings.protocol == "HTTPS":
        context = ssl._create_unverified_context()  # ALB verifies no target's certificate
        connection = http.client.HTTPSConnection(
            host, int(port), timeout=timeout_s, context=context
        )
    else:
        connection = http.client.HTTPConnection(host, int(port), timeout=timeout_s)
    try:
        headers = {"User-Agent": USER_AGENT, **({"Host": host_header} if host_header else {})}
        connection.request("GET", settings.path, headers=headers)
        status = connection.getresponse().status
    except TimeoutError:
        return Outcome(False, "Target.Timeout", "Request timed out")
    except (OSError, http.client.HTTPException):
        return Outcome(False, "Target.FailedHealthChecks", "Health checks failed")
    finally:
        connection.close()
    if matches(settings.matcher, status):
        return Outcome(True)
    return Outcome(
        False, "Target.ResponseCodeMismatch", f"Health checks failed with these codes: [{status}]"
    )


@dataclass
class Tracked:
    """The health check state of one target of one group."""

    settings: Settings
    health: Health = field(default_factory=lambda: Health(*_REGISTERING))
    successes: int = 0
    failures: int = 0
    due: float = 0.0
    in_flight: bool = False
    #: When the target was first tracked, in real (monotonic) seconds.
    tracked_since: float = field(default_factory=time.monotonic)

    def starting(self, outcome: Outcome, time_scale: float) -> bool:
        """Whether ``outcome`` is a new target's port not answering yet, within the start
        grace (see the module docstring): then it is not counted."""
        return (
            time_scale > 1
            and self.health.state == "initial"
            and outcome.reason == "Target.FailedHealthChecks"
            and time.monotonic() - self.tracked_since < STARTUP_GRACE_S
        )

    def sent(self) -> None:
        if self.health.reason == "Elb.RegistrationInProgress":
            self.health = Health(*_INITIAL)

    def apply(self, outcome: Outcome) -> None:
        """ALB's state machine (see the module docstring)."""
        state = self.health.state
        if outcome.passed:
            self.successes, self.failures = self.successes + 1, 0
            if state == "initial" or (
                state == "unhealthy" and self.successes >= self.settings.healthy_threshold
            ):
                self.health = Health("healthy")
            return
        self.successes, self.failures = 0, self.failures + 1
        if state == "unhealthy" or self.failures >= self.settings.unhealthy_threshold:
            self.health = Health("unhealthy", outcome.reason, outcome.description)


class HealthChecks:
    """The targets' health (see the module docstring); ``update`` each round."""

    def __init__(
        self, resolve: Callable[[str, int], str | None], time_scale: Callable[[], float]
    ) -> None:
        self.resolve = resolve
        self.time_scale = time_scale
        self._mutex = threading.Lock()
        self._tracked: dict[Key, Tracked] = {}
        self._pool = ThreadPoolExecutor(WORKERS, thread_name_prefix="elb-health")
        self._closed = False

    def close(self) -> None:
        self._closed = True
        self._pool.shutdown(wait=False, cancel_futures=True)

    def update(
        self, used: Mapping[str, tuple[Settings, list[tuple[str, int]]]], now: float
    ) -> None:
        """Track the targets of the used groups (by ARN: settings and targets), forget
        the others, and send the checks that are due."""
        due: list[tuple[Key, Settings]] = []
        with self._mutex:
            keys = {(arn, tid, port) for arn, (_s, ts) in used.items() for tid, port in ts}
            for key in [k for k in self._tracked if k not in keys]:
                del self._tracked[key]
            for arn, (settings, targets) in used.items():
                for target_id, port in targets:
                    key = (arn, target_id, port)
                    tracked = self._tracked.get(key)
                    if tracked is None:
                        tracked = self._tracked[key] = Tracked(settings, due=now)
                    tracked.settings = settings
                    if tracked.in_flight or tracked.due > now or self._closed:
                        continue
                    tracked.in_flight = True
                    tracked.due = now + settings.interval
                    tracked.sent()
                    due.append((key, settings))
        for key, settings in due:
            self._pool.submit(self._run, key, settings)

    def _run(self, key: Key, settings: Settings) -> None:
        _arn, target_id, traffic_port = key
        port = traffic_port if settings.port == "traffic-port" else int(settings.port)
        timeout_s = max(settings.timeout / self.time_scale(), MIN_TIMEOUT_S)
        try:
            address = self.resolve(target_id, port)
            outcome = check(address, settings, timeout_s, f"{target_id}:{port}")
        except Exception:  # a bug here must not leave the target in flight forever
            log.exception("elb-listeners: the health check of %s failed", key)
            outcome = Outcome(False, "Target.FailedHealthChecks", "Health checks failed")
        with self._mutex:
            tracked = self._tracked.get(key)
            if tracked is not None:
                tracked.in_flight = False
                if not tracked.starting(outcome, self.time_scale()):
                    tracked.apply(outcome)

    def health(self) -> dict[Key, Health]:
        """Every tracked target's health."""
        with self._mutex:
            return {key: tracked.health for key, tracked in self._tracked.items()}
