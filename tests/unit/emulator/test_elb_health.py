"""The elb-listeners engine on its clock, against moto in this process and little HTTP
servers on loopback as targets: health checks, fail-open, draining, rules, metrics."""

from __future__ import annotations

import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import boto3
import pytest

from deployer.emulator.engines.elb_health import (
    STARTUP_GRACE_S,
    Settings,
    Tracked,
    check,
    matches,
)
from deployer.emulator.engines.elb_health import Outcome as Result
from deployer.emulator.engines.elb_listeners import ElbListeners
from deployer.emulator.patches import elbv2_target_health_checks
from deployer.emulator.patches.elbv2_target_health_checks import Health
from deployer.emulator.scheduler import BACKEND_LOCK, Scheduler

SCALE = 20.0  # an emulated minute in 3 s


# -- the state machine and the check, alone ------------------------------------------------------
def test_matcher_codes_and_ranges() -> None:
    assert matches("200", 200) and not matches("200", 201)
    assert matches("200-299", 204) and not matches("200-299", 302)
    assert matches("200,202", 202) and not matches("200,202", 201)


def test_a_new_target_is_healthy_after_one_check_an_unhealthy_one_after_the_threshold() -> None:
    settings = Settings(healthy_threshold=3, unhealthy_threshold=2)
    fail = Result(False, "Target.Timeout", "Request timed out")
    tracked = Tracked(settings)
    assert tracked.health.reason == "Elb.RegistrationInProgress"
    tracked.sent()
    assert tracked.health.reason == "Elb.InitialHealthChecking"
    tracked.apply(Result(True))
    assert tracked.health.state == "healthy"  # one check passed: in service
    tracked.apply(fail)
    assert tracked.health.state == "healthy"  # one failure is not the threshold
    tracked.apply(fail)
    assert tracked.health == Health("unhealthy", "Target.Timeout", "Request timed out")
    tracked.apply(Result(True))
    tracked.apply(Result(True))
    assert tracked.health.state == "unhealthy"  # back after 3 successes, not 2
    tracked.apply(Result(True))
    assert tracked.health.state == "healthy"
    starting = Tracked(settings)
    starting.sent()
    starting.apply(fail)
    assert starting.health.reason == "Elb.InitialHealthChecking"
    starting.apply(fail)
    assert starting.health.state == "unhealthy"


# -- little targets ------------------------------------------------------------------------------
def serve(behaviour: Callable[[BaseHTTPRequestHandler], tuple[int, bytes]]) -> ThreadingHTTPServer:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_GET(self) -> None:
            status, body = behaviour(self)
            try:
                self.send_response(status)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)
            except OSError:
                return  # the health check gave up waiting

        def log_message(self, *_args: Any) -> None:
            return

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def ok(name: str) -> Callable[[BaseHTTPRequestHandler], tuple[int, bytes]]:
    return lambda _h: (200, name.encode())


def failing(_h: BaseHTTPRequestHandler) -> tuple[int, bytes]:
    return 500, b"broken"


def checked_as_alb_checks(handler: BaseHTTPRequestHandler) -> tuple[int, bytes]:
    """A health check passes only as ALB sends it (user agent, Host); requests get "good"."""
    if handler.path != "/health":
        return 200, b"good"
    sent = (handler.headers["User-Agent"], handler.headers["Host"])
    return (200, b"ok") if sent == ("ELB-HealthChecker/2.0", "10.7.0.10:8080") else (400, b"")


def hanging(_h: BaseHTTPRequestHandler) -> tuple[int, bytes]:
    time.sleep(3)
    return 200, b"late"


def test_a_new_target_not_listening_yet_is_not_failed_within_the_start_grace() -> None:
    settings = Settings(unhealthy_threshold=2)
    refused = Result(False, "Target.FailedHealthChecks", "Health checks failed")
    timeout = Result(False, "Target.Timeout", "Request timed out")
    starting = Tracked(settings)
    starting.sent()
    # At time scale 10, its port not answering yet does not count...
    assert starting.starting(refused, 10.0)
    # ...but a timeout or a wrong code does, as does anything at time scale 1,
    assert not starting.starting(timeout, 10.0) and not starting.starting(refused, 1.0)
    # ...and after the grace, or once the target has been decided.
    late = Tracked(settings, tracked_since=time.monotonic() - STARTUP_GRACE_S - 1)
    late.sent()
    assert not late.starting(refused, 10.0)
    starting.apply(Result(True))
    assert not starting.starting(refused, 10.0)


def test_a_check_times_out_or_fails() -> None:
    slow, bad = serve(hanging), serve(failing)
    try:
        started = time.monotonic()
        timed_out = check(f"127.0.0.1:{slow.server_address[1]}", Settings(), 0.3)
        assert timed_out.reason == "Target.Timeout" and time.monotonic() - started < 2
        mismatch = check(f"127.0.0.1:{bad.server_address[1]}", Settings(matcher="200-299"), 1)
        assert mismatch.description == "Health checks failed with these codes: [500]"
        assert check(None, Settings(), 1).reason == "Target.FailedHealthChecks"
    finally:
        for server in (slow, bad):
            server.shutdown()
            server.server_close()


# -- the engine, with moto in this process ---------------------------------------------------------
@dataclass
class Lab:
    elb: Any
    cloudwatch: Any
    vpc: str
    subnets: list[str]
    servers: dict[str, ThreadingHTTPServer]
    engine: ElbListeners
    clock: Scheduler

    def target(self, name: str, behaviour: Callable[..., tuple[int, bytes]]) -> dict[str, Any]:
        """A target id (an IP) served by a little server; registers nothing."""
        ip = f"10.7.0.{len(self.servers) + 10}"
        self.servers[ip] = serve(behaviour)
        return {"Id": ip, "Port": 8080}

    def resolve(self, ip: str, port: int) -> str | None:
        server = self.servers.get(ip)
        return f"127.0.0.1:{server.server_address[1]}" if server and port == 8080 else None

    def group(self, name: str, **settings: Any) -> str:
        with BACKEND_LOCK:
            return str(
                self.elb.create_target_group(
                    Name=name, Protocol="HTTP", Port=8080, VpcId=self.vpc, TargetType="ip",
                    HealthCheckPath="/health", HealthCheckIntervalSeconds=5,
                    HealthCheckTimeoutSeconds=2, HealthyThresholdCount=2,
                    UnhealthyThresholdCount=2, **settings,
                )["TargetGroups"][0]["TargetGroupArn"]
            )  # fmt: skip

    def balancer(self, name: str, group: str) -> tuple[str, str]:
        """A load balancer with an HTTP listener forwarding to the group: (LB, listener)."""
        with BACKEND_LOCK:
            lb = self.elb.create_load_balancer(Name=name, Subnets=self.subnets)
            lb_arn = lb["LoadBalancers"][0]["LoadBalancerArn"]
            listener = self.elb.create_listener(
                LoadBalancerArn=lb_arn, Protocol="HTTP", Port=80,
                DefaultActions=[{"Type": "forward", "TargetGroupArn": group}],
            )["Listeners"][0]["ListenerArn"]  # fmt: skip
        return lb_arn, listener

    def register(self, group: str, *targets: dict[str, Any]) -> None:
        with BACKEND_LOCK:
            self.elb.register_targets(TargetGroupArn=group, Targets=list(targets))

    def health(self, group: str, *targets: dict[str, Any]) -> dict[str, tuple[str, str | None]]:
        with BACKEND_LOCK:
            found = self.elb.describe_target_health(TargetGroupArn=group, Targets=list(targets))
        return {
            t["Target"]["Id"]: (t["TargetHealth"]["State"], t["TargetHealth"].get("Reason"))
            for t in found["TargetHealthDescriptions"]
        }

    def address(self, listener: str) -> str:
        wait_for(lambda: listener in self.engine.status()["listeners"], 5)
        return str(self.engine.status()["listeners"][listener]["address"])


def wait_for(condition: Callable[[], object], seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "the engine did not act in time"
        time.sleep(0.05)


def get(address: str, path: str = "/", host: str = "www.example.com") -> tuple[int, str]:
    request = urllib.request.Request(f"http://{address}{path}", headers={"Host": host})
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode()


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *_args: Any, **_kwargs: Any) -> None:
        return None


@pytest.fixture
def lab(aws: Any) -> Iterator[Lab]:
    elbv2_target_health_checks.apply()
    ec2 = boto3.client("ec2", region_name="us-east-1")
    vpc = ec2.create_vpc(CidrBlock="10.7.0.0/16")["Vpc"]["VpcId"]
    subnets = [
        ec2.create_subnet(VpcId=vpc, CidrBlock=f"10.7.{n}.0/24", AvailabilityZone=zone)["Subnet"][
            "SubnetId"
        ]
        for n, zone in ((1, "us-east-1a"), (2, "us-east-1b"))
    ]
    servers: dict[str, ThreadingHTTPServer] = {}
    clock = Scheduler(SCALE)
    lab = Lab(
        boto3.client("elbv2", region_name="us-east-1"),
        boto3.client("cloudwatch", region_name="us-east-1"),
        vpc, subnets, servers, None, clock,  # type: ignore[arg-type]
    )  # fmt: skip
    lab.engine = ElbListeners(lab.resolve)
    clock.register(lab.engine)
    clock.start()
    try:
        yield lab
    finally:
        clock.stop()
        lab.engine.close()
        for server in servers.values():
            server.shutdown()
            server.server_close()


def test_health_checks_decide_who_gets_requests_and_metrics_follow(lab: Lab) -> None:
    group = lab.group("web")
    good, bad = lab.target("good", checked_as_alb_checks), lab.target("bad", failing)
    slow = lab.target("slow", hanging)
    lb_arn, listener = lab.balancer("web", group)
    spare = lab.group("spare")  # no listener uses it
    lab.register(spare, lab.target("spare", ok("spare")))
    lab.register(group, good, bad, slow)
    # Registered, not yet checked: initial (the engine's first round may already be past it).
    first = lab.health(group)
    assert {state for state, _ in first.values()} <= {"initial", "healthy", "unhealthy"}
    wait_for(
        lambda: (
            lab.health(group)
            == {
                good["Id"]: ("healthy", None),
                bad["Id"]: ("unhealthy", "Target.ResponseCodeMismatch"),
                slow["Id"]: ("unhealthy", "Target.Timeout"),
            }
        ),
        10,
    )
    with BACKEND_LOCK:
        described = lab.elb.describe_target_health(TargetGroupArn=group, Targets=[bad])
    assert described["TargetHealthDescriptions"][0]["TargetHealth"]["Description"] == (
        "Health checks failed with these codes: [500]"
    )
    assert set(lab.health(spare).values()) == {("unused", "Target.NotInUse")}
    assert set(lab.engine.status()["target_groups"][spare]["targets"].values()) == {"unused"}
    address = lab.address(listener)
    assert [get(address) for _ in range(6)] == [(200, "good")] * 6
    assert lab.engine.status()["target_groups"][group]["targets"] == {
        f"{good['Id']}:8080": "healthy",
        f"{bad['Id']}:8080": "unhealthy",
        f"{slow['Id']}:8080": "unhealthy",
    }

    # The metrics of the minute: per load balancer, and per load balancer and group.
    lb, tg = lb_arn.split(":loadbalancer/")[1], group.rsplit(":", 1)[1]
    both = [{"Name": "LoadBalancer", "Value": lb}, {"Name": "TargetGroup", "Value": tg}]
    per_lb = [{"Name": "LoadBalancer", "Value": lb}]

    def statistic(name: str, dimensions: list[dict[str, str]], stat: str) -> list[float]:
        """The datapoints published with exactly these dimensions (moto's queries also
        match datapoints with more dimensions, which CloudWatch does not)."""
        from moto.cloudwatch.models import cloudwatch_backends

        wanted = sorted((d["Name"], d["Value"]) for d in dimensions)
        with BACKEND_LOCK:
            data: list[Any] = list(cloudwatch_backends["123456789012"]["us-east-1"].metric_data)
        found = []
        for datum in data:
            if datum.namespace != "AWS/ApplicationELB" or datum.name != name:
                continue
            if sorted((d.name, d.value) for d in datum.dimensions) != wanted:
                continue
            if stat == "Average" and hasattr(datum, "sum"):
                found.append(datum.sum / datum.sample_count)
            else:
                found.append(datum.value)
        return found

    wait_for(lambda: statistic("RequestCount", per_lb, "Sum"), 8)
    assert sum(statistic("RequestCount", per_lb, "Sum")) == 6
    assert sum(statistic("RequestCount", both, "Sum")) == 6
    assert sum(statistic("HTTPCode_Target_2XX_Count", per_lb, "Sum")) == 6
    assert max(statistic("UnHealthyHostCount", both, "Maximum")) == 2
    assert max(statistic("HealthyHostCount", both, "Maximum")) == 1
    assert 0 < max(statistic("TargetResponseTime", per_lb, "Average")) < 1
    with BACKEND_LOCK:
        names = {
            m["MetricName"]
            for m in lab.cloudwatch.list_metrics(Namespace="AWS/ApplicationELB")["Metrics"]
        }
    assert "HTTPCode_Target_5XX_Count" not in names  # counts only when there are some
    assert "HTTPCode_ELB_5XX_Count" not in names


def test_all_unhealthy_fails_open(lab: Lab) -> None:
    sick = threading.Event()

    def good_until_sick(handler: BaseHTTPRequestHandler) -> tuple[int, bytes]:
        """Serves "good"; its health check fails once it is sick."""
        if handler.path == "/health" and sick.is_set():
            return 500, b"sick"
        return 200, b"good"

    group = lab.group("api")
    good, bad = lab.target("good", good_until_sick), lab.target("bad", failing)
    _lb, listener = lab.balancer("api", group)
    lab.register(group, good, bad)
    wait_for(lambda: lab.health(group)[good["Id"]] == ("healthy", None), 10)
    wait_for(lambda: lab.health(group)[bad["Id"]][0] == "unhealthy", 10)
    address = lab.address(listener)
    assert {get(address) for _ in range(6)} == {(200, "good")}

    # The good one's checks fail too: reported as the checks measure it.
    sick.set()
    wait_for(
        lambda: lab.health(group)[good["Id"]] == ("unhealthy", "Target.ResponseCodeMismatch"), 10
    )
    # Every target unhealthy: the load balancer fails open and routes to both.
    wait_for(lambda: {get(address) for _ in range(10)} == {(200, "good"), (500, "broken")}, 5)


def test_a_deregistered_target_drains_for_the_delay_then_is_gone(lab: Lab) -> None:
    group = lab.group("drain")
    with BACKEND_LOCK:
        lab.elb.modify_target_group_attributes(
            TargetGroupArn=group,
            Attributes=[{"Key": "deregistration_delay.timeout_seconds", "Value": "40"}],
        )
    one, two = lab.target("one", ok("one")), lab.target("two", ok("two"))
    _lb, listener = lab.balancer("drain", group)
    lab.register(group, one, two)
    wait_for(lambda: set(lab.health(group).values()) == {("healthy", None)}, 10)
    address = lab.address(listener)
    assert {get(address)[1] for _ in range(6)} == {"one", "two"}

    with BACKEND_LOCK:
        lab.elb.deregister_targets(TargetGroupArn=group, Targets=[one])
    started = time.monotonic()
    assert lab.health(group)[one["Id"]] == ("draining", "Target.DeregistrationInProgress")
    wait_for(lambda: {get(address)[1] for _ in range(6)} == {"two"}, 3)  # no new requests
    assert lab.engine.status()["target_groups"][group]["targets"][f"{one['Id']}:8080"] == "draining"
    wait_for(lambda: one["Id"] not in lab.health(group), 10)
    assert time.monotonic() - started > 40 / SCALE * 0.9  # 40 emulated seconds: 2 s
    assert lab.health(group, one)[one["Id"]] == ("unused", "Target.NotRegistered")


def test_rules_route_by_path_and_host_redirect_and_answer_fixed(lab: Lab) -> None:
    web, api = lab.group("site"), lab.group("site-api")
    lab.register(web, lab.target("web", ok("web")))
    lab.register(api, lab.target("api", ok("api")))
    _lb, listener = lab.balancer("site", web)
    with BACKEND_LOCK:
        lab.elb.create_rule(
            ListenerArn=listener,
            Priority=20,
            Conditions=[{"Field": "path-pattern", "PathPatternConfig": {"Values": ["/api/*"]}}],
            Actions=[{"Type": "forward", "TargetGroupArn": api}],
        )
        lab.elb.create_rule(
            ListenerArn=listener,
            Priority=10,
            Conditions=[{"Field": "host-header", "HostHeaderConfig": {"Values": ["admin.*"]}}],
            Actions=[
                {
                    "Type": "fixed-response",
                    "FixedResponseConfig": {
                        "StatusCode": "403",
                        "ContentType": "text/plain",
                        "MessageBody": "admins only",
                    },
                }
            ],
        )
        lab.elb.create_rule(
            ListenerArn=listener, Priority=30,
            Conditions=[{"Field": "path-pattern", "PathPatternConfig": {"Values": ["/old*"]}}],
            Actions=[{"Type": "redirect", "RedirectConfig": {
                "Protocol": "HTTPS", "Port": "443", "StatusCode": "HTTP_301"}}],
        )  # fmt: skip
    wait_for(lambda: {s for s, _ in lab.health(web).values()} == {"healthy"}, 10)
    wait_for(lambda: {s for s, _ in lab.health(api).values()} == {"healthy"}, 10)
    address = lab.address(listener)
    wait_for(lambda: get(address, "/api/users") == (200, "api"), 5)
    assert get(address, "/users") == (200, "web")
    assert get(address, "/api/users", host="admin.example.com") == (403, "admins only")
    opener = urllib.request.build_opener(NoRedirect)
    request = urllib.request.Request(
        f"http://{address}/old/page?x=1", headers={"Host": "shop.example.com"}
    )
    with pytest.raises(urllib.error.HTTPError) as moved:
        opener.open(request, timeout=5)
    assert moved.value.code == 301
    assert moved.value.headers["Location"] == "https://shop.example.com/old/page?x=1"
