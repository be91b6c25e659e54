"""``deployer drill region-outage``: its steps and measures (deployer/drill_region.py).

The drill runs on a simulated world, on a clock that only the injected ``sleep`` moves
(a round of the client's requests each time): the primary region goes down and comes
back as the drill's control says; the name answers the DR region a fixed delay after
the outage (Route 53's health checks) or after ``dr failover`` puts the traffic switch
(its alarm period), whichever comes first; the failover and failback are stand-ins
returning what deployer/failover.py's Outcome would. The client's HTTPS request over a
resolver is tested against a TLS listener with the emulator's CA; the CLI's refusals
through ``deployer.cli.main``.
"""

from __future__ import annotations

import http.server
import ssl
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from deployer import dr, drill_region, failover
from deployer.drill_region import FAILED, Parts, Traffic

EAST, WEST = "us-east-1", "us-west-2"
SERVICES = ["api-service", "auth-service"]
HEALTH_CHECKS_S = 9.0  # the outage to the name answering the DR region, checks alone
SWITCH_S = 4.0  # the switch put to the name answering the DR region


class Stepped(Traffic):
    """The client, one round per ``sleep`` of the drill instead of on a thread."""

    def start(self) -> None:
        pass

    def stop(self) -> None:
        pass


@dataclass
class World:
    """Two regions, one name per service, and what the drill and the commands do to them."""

    now: float = 1000.0
    down: set[str] = field(default_factory=set)
    down_since: float | None = None
    switch_at: float | None = None  # when the switch was put to 1 (None: at 0)
    serving: str = EAST
    dr_healthy: bool = True
    gaps: list[dr.Check] = field(default_factory=list)
    failover_refused: bool = False
    log: list[str] = field(default_factory=list)
    failovers: int = 0

    def clock(self) -> float:
        return self.now

    def answering(self) -> str:
        """The region the name answers now, as Route 53's failover records decide."""
        if not self.dr_healthy:
            return EAST  # both unhealthy: Route 53 answers the primary
        if self.switch_at is not None and self.now >= self.switch_at + SWITCH_S:
            return WEST
        if self.down_since is not None and self.now >= self.down_since + HEALTH_CHECKS_S:
            return WEST
        return EAST

    def probe(self, service: str) -> tuple[str | None, bool, str]:
        region = self.answering()
        if region in self.down:
            return region, False, f"{service} in {region}: ConnectionRefusedError"
        return region, True, f"{service} in {region}: HTTP 200"

    # -- what the drill's parts do -------------------------------------------------------
    def region_down(self, region: str) -> None:
        self.log.append(f"down {region}")
        self.down.add(region)
        self.down_since = self.now

    def region_up(self, region: str) -> None:
        self.log.append(f"up {region}")
        self.down.discard(region)
        self.down_since = None  # the checks pass again (their recovery is not modelled)

    def status(self) -> dr.Status:
        found = dr.Status("prod", EAST, WEST, self.serving)
        found.checks = [dr.Check("api-service", "image", dr.OK, "in ECR"), *self.gaps]
        return found

    def _outcome(self, operation: str, source: str, target: str) -> failover.Outcome:
        outcome = failover.Outcome("prod", operation, source, target, self.now)
        outcome.steps.append(failover.Step("scale", target, started=self.now))
        return outcome

    def fail_over(self) -> failover.Outcome:
        self.failovers += 1
        self.log.append("failover")
        outcome = self._outcome(failover.FAILOVER, EAST, WEST)
        if self.failover_refused:
            outcome.refused = True
            return outcome
        self.now += 1.0  # readiness, scale
        self.switch_at = self.now
        self.now += SWITCH_S
        outcome.verified_at = self.now
        self.serving = WEST
        if EAST in self.down:
            outcome.steps.append(
                failover.Step("standby", EAST, status=failover.SKIPPED, started=self.now)
            )
        return outcome

    def fail_back(self) -> failover.Outcome:
        self.log.append("failback")
        outcome = self._outcome(failover.FAILBACK, WEST, EAST)
        self.switch_at = None
        self.now += 2.0
        outcome.verified_at = self.now
        self.serving = EAST
        return outcome


def run(world: World, *, outage: bool = True, timeout: float = 60.0) -> drill_region.Result:
    traffic = Stepped(world.probe, SERVICES, clock=world.clock)

    def sleep(seconds: float) -> None:
        world.now += seconds
        traffic.round()

    parts = Parts(
        status=world.status,
        failover=world.fail_over,
        failback=world.fail_back,
        serving=lambda: world.serving,
        traffic=traffic,
        outage=drill_region.Outage(world.region_down, world.region_up) if outage else None,
        clock=world.clock,
        sleep=sleep,
        timeout=timeout,
        poll=0.5,
    )
    return drill_region.region_outage(parts, "prod", EAST, WEST)


def steps(result: drill_region.Result) -> dict[str, drill_region.Step]:
    return {s.name: s for s in result.steps}


def test_the_drill_measures_both_recoveries_and_leaves_the_primary_serving() -> None:
    world = World()
    result = run(world)
    assert result.ok, result.to_text()
    assert [s.name for s in result.steps] == [
        "readiness", "baseline", "region down", "health checks", "region up", "primary back",
        "region down", "dr failover", "switched", "region up", "dr failover again",
        "dr failback", "primary back",
    ]  # fmt: skip
    # (a) the health checks' delay, to within a poll; (b) the command's 1 s and the switch's
    assert result.health_check_seconds == pytest.approx(HEALTH_CHECKS_S, abs=0.5)
    assert result.failover_seconds == pytest.approx(1.0 + SWITCH_S, abs=0.5)
    assert result.command_recovery_seconds == 1.0 + SWITCH_S
    # the region went down twice and came back, the pending failover was completed
    assert world.log == ["down us-east-1", "up us-east-1", "down us-east-1", "failover",
                         "up us-east-1", "failover", "failback"]  # fmt: skip
    assert world.serving == EAST and world.switch_at is None and not world.down
    found = steps(result)
    # users saw the outage: failures while the name still answered the region down
    assert found["health checks"].requests.failed > 0
    assert found["health checks"].requests.regions == {WEST: 2}
    assert found["baseline"].requests.regions.get(EAST, 0) > 0
    assert found["baseline"].requests.failed == 0
    assert result.steps[-1].requests.regions.get(EAST, 0) > 0
    document = result.to_json()
    assert document["health_check_recovery_seconds"] == result.health_check_seconds
    assert document["requests"]["failed"] == result.requests().failed > 0
    assert [o["operation"] for o in document["operations"]] == [
        "failover", "failover", "failback"
    ]  # fmt: skip
    text = result.to_text()
    assert f"health checks alone: {result.health_check_seconds:.1f} s" in text


def test_a_gap_refuses_the_drill_before_anything_changes() -> None:
    world = World(gaps=[dr.Check("api-service", "image", dr.GAP, "not in ECR", "push it")])
    result = run(world)
    assert result.refused and not result.ok
    assert world.log == []  # no outage, no failover
    (readiness,) = [s for s in result.steps if s.name == "readiness"]
    assert readiness.status == FAILED
    assert readiness.detail == "us-west-2 is not ready: api-service image: not in ECR"
    assert "api-service image: push it" in result.to_text()


def test_the_drill_refuses_while_the_dr_region_serves() -> None:
    world = World(serving=WEST)
    result = run(world)
    assert result.refused and world.log == []
    assert "deployer dr failback prod first" in result.steps[0].detail


def test_a_name_that_never_moves_fails_the_drill_and_the_region_comes_back() -> None:
    world = World(dr_healthy=False)  # both unhealthy: Route 53 answers the primary
    result = run(world, timeout=20.0)
    assert result.failed and not result.refused
    found = steps(result)
    assert found["health checks"].status == FAILED
    assert found["health checks"].detail.startswith("not every name answers us-west-2 after 20 s")
    assert result.health_check_seconds is None
    assert world.log == ["down us-east-1", "up us-east-1"]  # back up; no failover was run
    assert result.steps[-1].name == "region up"


def test_a_refused_failover_fails_the_drill_with_the_region_back_up() -> None:
    world = World(failover_refused=True)
    result = run(world)
    assert result.failed
    assert steps(result)["dr failover"].status == FAILED
    assert world.log[-2:] == ["failover", "up us-east-1"]  # no failback: nothing moved
    assert world.serving == EAST and not world.down


def test_on_aws_a_planned_failover_is_measured_without_an_outage() -> None:
    world = World()
    result = run(world, outage=False)
    assert result.ok, result.to_text()
    assert world.log == ["failover", "failback"]
    assert result.health_check_seconds is None
    assert steps(result)["region down"].status == drill_region.NOT_APPLICABLE
    assert result.failover_seconds == pytest.approx(1.0 + SWITCH_S, abs=0.5)
    assert "(no outage on AWS: not measured)" in result.to_text()


def test_served_from_needs_every_service_and_the_last_answers() -> None:
    answers: list[tuple[str | None, bool]] = []
    now = [0.0]
    traffic = Traffic(lambda s: (*answers.pop(0), ""), SERVICES, clock=lambda: now[0])
    for region_ok in [(EAST, True), (EAST, True), (WEST, True), (WEST, False)]:
        answers += [region_ok, (WEST, True)]
        now[0] += 1
        traffic.round()
    # api-service's last answer failed: not served from the DR region yet
    assert traffic.served_from(WEST, 0.0) is None
    answers += [(WEST, True), (WEST, True)]
    now[0] += 1
    traffic.round()
    assert traffic.served_from(WEST, 0.0) == 5.0  # api-service's streak starts at 5
    assert traffic.served_from(EAST, 0.0) is None


# ---------------------------------------------------------------------------
# The client's request: DNS, then HTTPS with the name as SNI
# ---------------------------------------------------------------------------
class _Health(http.server.BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        self.send_response(200 if self.path == "/health" else 503)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *_: Any) -> None:
        pass


@dataclass
class FakeResolver:
    found: list[str]
    ca: str

    def addresses(self, name: str) -> list[str]:
        if name.startswith("nowhere"):
            raise OSError("NXDOMAIN")
        return self.found

    def load_balancer(self, dns_name: str) -> list[str]:
        return []

    def context(self) -> ssl.SSLContext:
        return ssl.create_default_context(cadata=self.ca)


def test_the_probe_tells_the_region_by_the_address_and_checks_https(tmp_path: Path) -> None:
    from deployer.emulator.patches import acm_private_ca

    name = "api-service.probe.test"
    certificate, key, _ = acm_private_ca._issue(name, [])
    (tmp_path / "listener.pem").write_bytes(certificate + key)
    tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    tls.load_cert_chain(tmp_path / "listener.pem")
    server = http.server.ThreadingHTTPServer(("127.0.0.2", 0), _Health)
    server.socket = tls.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        ca = acm_private_ca.ca_control({})["certificate"]
        resolver = FakeResolver(["127.0.0.2"], ca)
        probe = drill_region.NameProbe(
            resolver,
            {"api-service": (name, "/health"), "down": (name, "/down"),
             "other": ("other.probe.test", "/health"), "nowhere": ("nowhere.test", "/")},
            {"127.0.0.2": WEST},
            port=server.server_address[1],
        )  # fmt: skip
        assert probe("api-service") == (WEST, True, f"{name} in {WEST}: HTTP 200")
        assert probe("down") == (WEST, False, f"{name} in {WEST}: HTTP 503")
        # the certificate is for another name: the request fails, the region is known
        region, ok, seen = probe("other")
        assert (region, ok) == (WEST, False) and "SSLCertVerificationError" in seen
        assert probe("nowhere") == (None, False, "nowhere.test did not resolve (OSError)")
        resolver.found = ["127.0.0.9"]
        assert probe("api-service") == (None, False, f"{name} answers 127.0.0.9")
    finally:
        server.shutdown()
        server.server_close()


# ---------------------------------------------------------------------------
# The command's refusals
# ---------------------------------------------------------------------------
def test_the_command_refuses_what_it_cannot_drill(capsys: pytest.CaptureFixture[str]) -> None:
    from deployer import cli

    # the sample prod has no dns.zone: no name for an outage to move
    assert cli.main(["drill", "region-outage", "prod"]) == 2
    assert "prod has no dns.zone" in capsys.readouterr().err
    assert cli.main(["drill", "region-outage", "staging"]) == 2  # one region
    capsys.readouterr()
    assert cli.main(["drill", "region-outage", "prod", "--service", "api-service"]) == 2
    assert "go with rollback" in capsys.readouterr().err
    assert cli.main(["drill", "rollback", "staging", "--timeout", "5"]) == 2
    assert "--timeout goes with region-outage" in capsys.readouterr().err


def test_a_request_that_raises_counts_as_failed_and_the_client_goes_on() -> None:
    calls = [0]

    def probe(service: str) -> tuple[str | None, bool, str]:
        calls[0] += 1
        if calls[0] == 1:
            raise RuntimeError("the CA could not be read")
        return EAST, True, "HTTP 200"

    traffic = Traffic(probe, ["api-service"], clock=lambda: 1.0)
    traffic.round()
    traffic.round()
    assert [(s.ok, s.detail) for s in traffic.samples] == [
        (False, "api-service: RuntimeError: the CA could not be read"),
        (True, "HTTP 200"),
    ]
