"""``deployer drill region-outage ENV``: the primary region goes down; how long until users
reach the DR region, with Route 53's health checks alone and with ``deployer dr failover``.

Issue 15 point 6. The drill runs the real pieces, in-process: ``deployer dr status``'s
checks (deployer/dr.py), the emulator's region control (``POST /_deployer/regions/down``
and ``up``, deployer/emulator/controls.py: the region's APIs answer 503 and its load
balancers refuse connections), ``dr failover`` and ``dr failback`` (deployer/failover.py).
Meanwhile a client, for every service, resolves ``<service>.<zone>`` (on the local
target through the emulator's Route 53 DNS server) and GETs the health path over HTTPS
(the emulator's CA, the name as SNI) at a steady rate; which region answered is told by
the address the name resolved to (each load balancer's own address, read while both
regions are up). Every step is timed and counts the requests that succeeded and failed,
per region, during it.

The steps:

1. **readiness**: ``dr status`` must be ready and the primary must serve; otherwise the
   drill refuses (exit 1) and names each gap; nothing is changed;
2. **baseline**: every name answers the primary region and its requests succeed;
3. **region down** (the primary), then **health checks**: time (a) from the outage until
   every name answers the DR region and requests succeed, with nothing but Route 53's
   health checks of the endpoints (``RequestInterval x FailureThreshold``);
4. **region up**, then **primary back**: the health checks send users back to it;
5. **region down** again, then **dr failover** at once (its own steps and its recovery
   time are in the result) and **switched**: time (b) from the outage until every name
   answers the DR region and requests succeed, with the command's traffic switch and the
   health checks both at work, as in a real outage;
6. **region up**, **dr failover** again when the first left steps pending (the primary's
   standby count, its copy of the serving record: the command's re-run completes them),
   **dr failback** and **primary back**: the environment as it was, the primary serving
   and the switch at 0.

Whatever stops the drill, it brings the region back up and fails back when it had
failed over.

On AWS (``--i-know``) no control takes a region down: the drill says so, skips (a)
and the outages, and runs a planned failover and failback under the same client,
measuring (b) from the start of ``dr failover``.

Left out: more than one client address (Route 53's resolvers cache per TTL; the
emulator's DNS server answers each query afresh); load (the client sends one request
per name at a time).
"""

from __future__ import annotations

import http.client
import socket
import ssl
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

from deployer import dr
from deployer.errors import DeployerError

if TYPE_CHECKING:  # botocore is not imported for the names alone
    from deployer.failover import Outcome, Resolver

#: Seconds between two rounds of requests (one per name) of the client.
PROBE_INTERVAL = 0.25
#: Seconds the waits of the drill (baseline, recovery, primary back) last at most.
DEFAULT_TIMEOUT = 600.0
OK, FAILED, SKIPPED, NOT_APPLICABLE = "ok", "failed", "skipped", "n/a"


class DrillError(DeployerError):
    """The drill could not go on (a wait ran out, a command failed)."""


# ---------------------------------------------------------------------------
# The client: what users would see
# ---------------------------------------------------------------------------
@dataclass(frozen=True)
class Sample:
    """One request: when, for which service, which region answered (None: no load
    balancer of the environment, or no answer), and whether it succeeded."""

    at: float
    service: str
    region: str | None
    ok: bool
    detail: str


class Probe(Protocol):
    def __call__(self, service: str) -> tuple[str | None, bool, str]:
        """One request to ``service``'s name: (region answered, success, what was seen)."""
        ...


@dataclass
class NameProbe:
    """:class:`Probe` over a resolver (deployer/failover.py's): DNS, then an HTTPS GET of
    the health path at the address found, with the name as SNI and Host."""

    resolver: Resolver
    #: service -> (its name, its health path)
    names: dict[str, tuple[str, str]]
    #: a load balancer's address -> its region
    regions: dict[str, str]
    port: int = 443
    timeout: float = 2.0
    _context: ssl.SSLContext | None = None

    def __call__(self, service: str) -> tuple[str | None, bool, str]:
        name, path = self.names[service]
        try:
            found = self.resolver.addresses(name)
        except Exception as exc:  # DNS: a timeout, NXDOMAIN, a refused query, a dead server
            return None, False, f"{name} did not resolve ({type(exc).__name__})"
        known = [a for a in found if a in self.regions]
        if not known:
            return None, False, f"{name} answers {', '.join(found) or 'nothing'}"
        address = known[0]
        region = self.regions[address]
        if self._context is None:
            self._context = self.resolver.context()
        context = self._context
        connection = http.client.HTTPSConnection(address, self.port, context=context)
        try:
            raw = socket.create_connection((address, self.port), self.timeout)
            connection.sock = context.wrap_socket(raw, server_hostname=name)
            connection.request("GET", path, headers={"Host": name})
            status = connection.getresponse().status
        except (OSError, http.client.HTTPException) as exc:
            return region, False, f"{name} in {region}: {type(exc).__name__}"
        finally:
            connection.close()
        return region, 200 <= status < 300, f"{name} in {region}: HTTP {status}"


class Traffic:
    """A client that sends one request per service every ``interval`` on a thread of its
    own and keeps every answer, for the steps to count."""

    def __init__(
        self,
        probe: Probe,
        services: list[str],
        *,
        clock: Callable[[], float] = time.time,
        interval: float = PROBE_INTERVAL,
    ) -> None:
        self.probe = probe
        self.services = services
        self.clock = clock
        self.interval = interval
        self.samples: list[Sample] = []
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def round(self) -> None:
        """One request per service, recorded."""
        for service in self.services:
            try:
                region, ok, detail = self.probe(service)
            except Exception as exc:  # the client goes on: a user would retry
                region, ok, detail = None, False, f"{service}: {type(exc).__name__}: {exc}"
            sample = Sample(self.clock(), service, region, ok, detail)
            with self._lock:
                self.samples.append(sample)

    def start(self) -> None:
        def run() -> None:
            while not self._stop.is_set():
                self.round()
                self._stop.wait(self.interval)

        self._thread = threading.Thread(target=run, name="drill-traffic", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()

    def mark(self) -> int:
        """Where the samples recorded from now on start (for :meth:`taken`)."""
        with self._lock:
            return len(self.samples)

    def taken(self, start: int, end: int | None = None) -> list[Sample]:
        """The samples recorded between two marks (to now without ``end``)."""
        with self._lock:
            return self.samples[start:end]

    def between(self, start: float, end: float) -> list[Sample]:
        with self._lock:
            return [s for s in self.samples if start <= s.at < end]

    def served_from(self, region: str, since: float) -> float | None:
        """The time of the first request after which every service's requests, sent at
        ``since`` or later, all succeeded from ``region`` (None: not yet, or a later one
        did not). Needs one such request per service."""
        latest: dict[str, float] = {}
        for sample in self.between(since, float("inf")):
            if sample.ok and sample.region == region:
                latest.setdefault(sample.service, sample.at)
            else:
                latest.pop(sample.service, None)
        if set(latest) != set(self.services):
            return None
        return max(latest.values())


@dataclass(frozen=True)
class Counts:
    """Requests during a step: succeeded and failed, and how many each region answered."""

    succeeded: int = 0
    failed: int = 0
    regions: dict[str, int] = field(default_factory=dict)

    @classmethod
    def of(cls, samples: list[Sample]) -> Counts:
        regions: dict[str, int] = {}
        for s in samples:
            if s.ok and s.region:
                regions[s.region] = regions.get(s.region, 0) + 1
        return cls(
            succeeded=sum(1 for s in samples if s.ok),
            failed=sum(1 for s in samples if not s.ok),
            regions=dict(sorted(regions.items())),
        )

    def to_json(self) -> dict[str, Any]:
        return {"succeeded": self.succeeded, "failed": self.failed, "answered_by": self.regions}

    def text(self) -> str:
        by = ", ".join(f"{r} {n}" for r, n in self.regions.items())
        return f"{self.succeeded} ok, {self.failed} failed" + (f" ({by})" if by else "")


# ---------------------------------------------------------------------------
# The result
# ---------------------------------------------------------------------------
@dataclass
class Step:
    name: str
    region: str | None
    started: float
    seconds: float = 0.0
    status: str = OK
    detail: str = ""
    requests: Counts = field(default_factory=Counts)

    def to_json(self, origin: float) -> dict[str, Any]:
        return {
            "name": self.name,
            "region": self.region,
            "status": self.status,
            "at": round(self.started - origin, 2),
            "seconds": round(self.seconds, 2),
            "detail": self.detail,
            "requests": self.requests.to_json(),
        }


@dataclass
class Result:
    environment: str
    primary: str
    dr_region: str
    started: float
    outage: bool
    steps: list[Step] = field(default_factory=list)
    refused: bool = False
    failed: bool = False
    gaps: list[dr.Check] = field(default_factory=list)
    #: (a): outage to every name answering the DR region, health checks alone
    health_check_seconds: float | None = None
    #: (b): outage (on AWS: the command's start) to every name answering the DR region,
    #: with dr failover
    failover_seconds: float | None = None
    #: dr failover's own recovery time (its start to verified)
    command_recovery_seconds: float | None = None
    operations: list[dict[str, Any]] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.refused and not self.failed

    def requests(self) -> Counts:
        total = Counts()
        for step in self.steps:
            regions = dict(total.regions)
            for region, n in step.requests.regions.items():
                regions[region] = regions.get(region, 0) + n
            total = Counts(
                total.succeeded + step.requests.succeeded,
                total.failed + step.requests.failed,
                dict(sorted(regions.items())),
            )
        return total

    def to_json(self) -> dict[str, Any]:
        return {
            "drill": "region-outage",
            "environment": self.environment,
            "primary_region": self.primary,
            "dr_region": self.dr_region,
            "outage": self.outage,
            "ok": self.ok,
            "refused": self.refused,
            "failed": self.failed,
            "health_check_recovery_seconds": self.health_check_seconds,
            "failover_recovery_seconds": self.failover_seconds,
            "command_recovery_seconds": self.command_recovery_seconds,
            "requests": self.requests().to_json(),
            "gaps": [g.to_json() for g in self.gaps],
            "steps": [s.to_json(self.started) for s in self.steps],
            "operations": self.operations,
        }

    def to_text(self) -> str:
        from deployer.output import table

        head = (
            f"{self.environment}: region-outage drill, {self.primary} down, "
            f"{self.dr_region} takes over"
        )
        if self.refused:
            head += ": REFUSED"
        elif self.failed:
            head += ": FAILED"
        rows = [
            (s.name, s.region or "", s.status, f"{s.started - self.started:.1f}",
             f"{s.seconds:.1f}", s.requests.text(), s.detail)
            for s in self.steps
        ]  # fmt: skip
        lines = [head, "", table(("STEP", "REGION", "STATUS", "AT", "SECONDS", "REQUESTS",
                                  "DETAIL"), rows)]  # fmt: skip
        if self.gaps:
            lines += ["", "gaps:"] + [f"  {g.service} {g.check}: {g.fix or g.detail}"
                                      for g in self.gaps]  # fmt: skip

        def seconds(value: float | None) -> str:
            return "not reached" if value is None else f"{value:.1f} s"

        lines += [
            "",
            f"health checks alone: {seconds(self.health_check_seconds)}"
            + ("" if self.outage else " (no outage on AWS: not measured)"),
            f"with dr failover:    {seconds(self.failover_seconds)} "
            f"(the command's own recovery time: {seconds(self.command_recovery_seconds)})",
        ]
        return "\n".join(lines)


# ---------------------------------------------------------------------------
# The drill
# ---------------------------------------------------------------------------
@dataclass(frozen=True)
class Outage:
    """The region control: ``down(region)``, ``up(region)`` (None on AWS)."""

    down: Callable[[str], None]
    up: Callable[[str], None]


@dataclass(frozen=True)
class Parts:
    """What the drill runs, injected (the CLI gives the real commands, tests fakes)."""

    status: Callable[[], dr.Status]
    failover: Callable[[], Outcome]
    failback: Callable[[], Outcome]
    #: The serving region now (the serving record's, else the configuration's).
    serving: Callable[[], str]
    traffic: Traffic
    outage: Outage | None
    clock: Callable[[], float] = time.time
    sleep: Callable[[float], None] = time.sleep
    timeout: float = DEFAULT_TIMEOUT
    poll: float = 0.5


class _Stop(Exception):
    pass


class _Drill:
    def __init__(self, parts: Parts, result: Result, progress: Callable[[str], None]) -> None:
        self.parts = parts
        self.result = result
        self.progress = progress
        self.down: str | None = None
        self.failed_over = False

    @contextmanager
    def step(self, name: str, region: str | None) -> Iterator[Step]:
        clock = self.parts.clock
        step = Step(name, region, clock())
        first = self.parts.traffic.mark()
        self.result.steps.append(step)
        self.progress(f"drill region-outage: {name}" + (f" ({region})" if region else ""))
        try:
            yield step
        except DeployerError as exc:
            step.status, step.detail = FAILED, exc.message
        except _Stop:
            step.status = FAILED
        finally:
            step.seconds = clock() - step.started
            step.requests = Counts.of(self.parts.traffic.taken(first))
        if step.status == FAILED:
            self.result.failed = not self.result.refused
            raise _Stop(step.detail)

    def wait_served(self, step: Step, region: str, since: float) -> float:
        """Wait until every name answers ``region`` with success; the time it did."""
        parts = self.parts
        deadline = parts.clock() + parts.timeout
        while True:
            at = parts.traffic.served_from(region, since)
            if at is not None:
                return at
            if parts.clock() >= deadline:
                last = parts.traffic.between(since, float("inf"))[-len(parts.traffic.services) :]
                seen = "; ".join(s.detail for s in last) or "no request answered"
                step.status = FAILED
                step.detail = f"not every name answers {region} after {parts.timeout:.0f} s: {seen}"
                raise _Stop(step.detail)
            parts.sleep(parts.poll)

    def served(self, name: str, region: str, since: float | None = None) -> float:
        """A step that waits for every name to answer ``region`` (counting the requests
        sent from ``since``, else from the step's start); seconds from then."""
        with self.step(name, region) as step:
            start = step.started if since is None else since
            at = self.wait_served(step, region, start)
            step.detail = f"every name answers {region}, requests succeed"
            return round(at - start, 2)
        raise AssertionError("unreachable")  # pragma: no cover

    def region(self, verb: str, region: str) -> None:
        outage = self.parts.outage
        assert outage is not None
        with self.step(f"region {verb}", region) as step:
            if verb == "down":
                outage.down(region)
                self.down = region
                step.detail = "its APIs answer 503, its load balancers refuse connections"
            else:
                outage.up(region)
                self.down = None
                step.detail = "its APIs and load balancers answer again"

    def operation(self, name: str, run: Callable[[], Outcome]) -> Outcome:
        with self.step(name, None) as step:
            outcome = run()
            document = outcome.to_json()
            self.result.operations.append(document)
            if outcome.refused or outcome.failed:
                step.status = FAILED
                step.detail = outcome.to_text().splitlines()[0]
            else:
                pending = f", pending: {', '.join(outcome.pending)}" if outcome.pending else ""
                step.detail = (f"recovery {outcome.recovery_seconds} s "
                               f"(start to verified){pending}")  # fmt: skip
            if outcome.operation == "failover" and not outcome.refused:
                self.failed_over = True
            elif outcome.operation == "failback" and outcome.complete:
                self.failed_over = False
            return outcome
        raise AssertionError("unreachable")  # pragma: no cover

    def readiness(self) -> None:
        result = self.result
        with self.step("readiness", result.dr_region) as step:
            found = self.parts.status()
            result.gaps = [c for c in found.checks if c.status == dr.GAP]
            if found.serving != result.primary:
                step.status = FAILED
                step.detail = (f"{found.serving} serves, not the primary {result.primary}: "
                               f"deployer dr failback {result.environment} first")  # fmt: skip
            elif result.gaps:
                step.status = FAILED
                step.detail = f"{result.dr_region} is not ready: " + "; ".join(
                    f"{g.service} {g.check}: {g.detail}" for g in result.gaps
                )
            else:
                step.detail = f"{result.dr_region} is ready"
            if step.status == FAILED:
                result.refused = True

    def run(self) -> None:
        result, parts = self.result, self.parts
        primary, target = result.primary, result.dr_region
        self.readiness()
        self.served("baseline", primary)
        if parts.outage is not None:
            self.region("down", primary)
            outage_at = result.steps[-1].started
            result.health_check_seconds = self.served("health checks", target, outage_at)
            self.region("up", primary)
            self.served("primary back", primary)
            self.region("down", primary)
            outage_at = result.steps[-1].started
        else:
            with self.step("region down", primary) as step:
                step.status = NOT_APPLICABLE
                step.detail = "on AWS no control takes a region down: a planned failover"
            outage_at = parts.clock()
        outcome = self.operation("dr failover", parts.failover)
        result.command_recovery_seconds = outcome.recovery_seconds
        result.failover_seconds = self.served("switched", target, outage_at)
        if parts.outage is not None:
            self.region("up", primary)
            if outcome.pending:
                self.operation("dr failover again", parts.failover)
        self.operation("dr failback", parts.failback)
        self.served("primary back", primary)

    def restore(self) -> None:
        """After a stop: the region up, and failed back when the drill failed over."""
        parts = self.parts
        if self.down is not None:
            try:
                self.region("up", self.down)
            except _Stop:
                return
        if self.failed_over and parts.serving() != self.result.primary:
            try:
                self.operation("dr failback", parts.failback)
            except _Stop:
                return


def region_outage(
    parts: Parts,
    environment: str,
    primary: str,
    dr_region: str,
    *,
    progress: Callable[[str], None] = lambda _: None,
) -> Result:
    """Run the drill (see the module docstring); the result, every step timed."""
    result = Result(environment, primary, dr_region, parts.clock(), parts.outage is not None)
    drill = _Drill(parts, result, progress)
    parts.traffic.start()
    try:
        drill.run()
    except _Stop:
        pass
    finally:
        try:
            if drill.down is not None or drill.failed_over:
                drill.restore()
        finally:
            parts.traffic.stop()
    return result
