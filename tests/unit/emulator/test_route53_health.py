"""The route53-health engine on its clock, against moto in this process (one mock_aws for
the module, every backend reset before each test: ``_module_moto``) and little HTTP
servers on loopback as endpoints: endpoint checks and their thresholds, string matching,
TCP, calculated and CloudWatch alarm health checks, Disabled and Inverted, the metrics,
and GetHealthCheckStatus / GetHealthCheckLastFailureReason through boto3."""

from __future__ import annotations

import datetime
import socket
import ssl
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from botocore.exceptions import ClientError

from deployer.emulator.engines.route53_health import (
    Outcome,
    Route53HealthChecks,
    Settings,
    Tracked,
    check,
    elb_resolver,
)
from deployer.emulator.patches import cloudwatch_alarm_initial_state, route53_health_check_status
from deployer.emulator.scheduler import BACKEND_LOCK, Scheduler

from ._module_moto import fresh_backends, module_moto
from .conftest import Server

route53_health_check_status.apply()
cloudwatch_alarm_initial_state.apply()  # a new alarm has insufficient data, as on AWS

REGION, ACCOUNT = "us-east-1", "123456789012"
SCALE = 20.0  # a 10 s request interval in half a second


# -- alone -------------------------------------------------------------------------------------
def test_the_status_changes_after_failure_threshold_results_that_disagree() -> None:
    tracked = Tracked(Settings(id="x", account=ACCOUNT, type="HTTP", failure_threshold=3))
    fail, ok = (
        Outcome(False, "Failure: HTTP Status Code 500, Internal Server Error"),
        Outcome(True, "Success: HTTP Status Code 200, OK"),
    )
    for _ in range(2):
        tracked.apply(fail, 0.0)
    assert tracked.status  # new: healthy until 3 failures in a row
    tracked.apply(ok, 0.0)
    tracked.apply(fail, 0.0)
    tracked.apply(fail, 0.0)
    assert tracked.status  # the success started the count again
    tracked.apply(fail, 0.0)
    assert not tracked.status
    tracked.apply(ok, 0.0)
    tracked.apply(ok, 0.0)
    assert not tracked.status
    tracked.apply(ok, 0.0)
    assert tracked.status


def test_the_host_header_is_built_as_the_api_reference_says() -> None:
    def host(**kw: Any) -> str:
        return Settings(id="x", account=ACCOUNT, **kw).host_header

    assert host(type="HTTP", ip_address="10.0.0.1", port=80) == "10.0.0.1"
    assert host(type="HTTP", ip_address="10.0.0.1", fqdn="a.example.com", port=80) == (
        "a.example.com"
    )
    assert host(type="HTTPS_STR_MATCH", fqdn="a.example.com", port=443) == "a.example.com"
    assert host(type="HTTPS", fqdn="a.example.com", port=8443) == "a.example.com:8443"
    assert host(type="HTTP", fqdn="a.example.com", port=443) == "a.example.com:443"


def test_the_default_resolver_maps_loopback_ips_and_load_balancer_listeners() -> None:
    def endpoint_of(dns_name: str, port: int) -> tuple[str, int] | None:
        # as the elb-listeners engine answers: the load balancer's own address and port
        served = {("web-1.elb.amazonaws.com", 443): ("127.100.0.1", 443)}
        return served.get((dns_name, port))

    resolve = elb_resolver(endpoint_of)
    assert resolve("127.0.0.5", 8080) == ("127.0.0.5", 8080)
    assert resolve("10.0.0.1", 80) is None  # nothing answers outside loopback
    assert resolve("WEB-1.elb.amazonaws.com.", 443) == ("127.100.0.1", 443)
    assert resolve("web-1.elb.amazonaws.com", 80) is None  # no listener on that port
    assert elb_resolver()("web-1.elb.amazonaws.com", 443) is None  # no elb engine


# -- endpoints -----------------------------------------------------------------------------------
@dataclass
class Endpoint:
    """A little HTTP server whose answer the test sets; it counts and keeps requests."""

    status: int = 200
    body: bytes = b"ok"
    delay: float = 0.0
    requests: list[dict[str, str]] = field(default_factory=list)
    server: ThreadingHTTPServer | None = None

    @property
    def port(self) -> int:
        assert self.server is not None
        return int(self.server.server_address[1])


def serve(endpoint: Endpoint, tls: ssl.SSLContext | None = None) -> Endpoint:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_GET(self) -> None:
            status, body = endpoint.status, endpoint.body  # read before it is counted
            endpoint.requests.append({"path": self.path, **dict(self.headers.items())})
            time.sleep(endpoint.delay)
            try:
                self.send_response(status)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)
            except OSError:
                return

        def log_message(self, *_args: Any) -> None:
            return

    endpoint.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    endpoint.server.daemon_threads = True
    if tls is not None:
        endpoint.server.socket = tls.wrap_socket(endpoint.server.socket, server_side=True)
    threading.Thread(target=endpoint.server.serve_forever, daemon=True).start()
    return endpoint


def closed_port() -> int:
    """A loopback port nothing listens on."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_for(condition: Callable[[], object], seconds: float = 8.0) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "the engine did not act in time"
        time.sleep(0.05)


def self_signed(folder: Any) -> ssl.SSLContext:
    """A server context with a self-signed certificate no client would trust."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "expired.example.com")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder().subject_name(name).issuer_name(name)
        .public_key(key.public_key()).serial_number(1)
        .not_valid_before(now - datetime.timedelta(days=30))
        .not_valid_after(now - datetime.timedelta(days=1))  # expired, too
        .sign(key, hashes.SHA256())
    )  # fmt: skip
    (folder / "cert.pem").write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    (folder / "key.pem").write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(folder / "cert.pem", folder / "key.pem")
    return context


def test_https_verifies_no_certificate_and_a_slow_answer_times_out(tmp_path: Any) -> None:
    secure = serve(Endpoint(body=b"secure ok"), self_signed(tmp_path))
    slow = serve(Endpoint(delay=1.5))
    try:
        https = Settings(id="x", account=ACCOUNT, type="HTTPS_STR_MATCH", search_string="ok")
        target = ("127.0.0.1", secure.port)
        assert check(https, target, 1.0) == Outcome(True, "Success: HTTP Status Code 200, OK")
        plain = Settings(id="y", account=ACCOUNT, type="HTTP")
        started = time.monotonic()
        late = check(plain, ("127.0.0.1", slow.port), 20.0)  # 2 s emulated: 0.25 s real
        assert not late.passed and "timeout" in late.status
        assert time.monotonic() - started < 1.2
    finally:
        for endpoint in (secure, slow):
            assert endpoint.server is not None
            endpoint.server.shutdown()
            endpoint.server.server_close()


# -- the engine, with moto in this process ------------------------------------------------------
@pytest.fixture(scope="module")
def clients() -> Iterator[dict[str, Any]]:
    with module_moto(("route53", "cloudwatch"), REGION) as made:
        yield made


@dataclass
class Lab:
    route53: Any
    cloudwatch: Any
    engine: Route53HealthChecks
    endpoints: list[Endpoint]

    def endpoint(self, **kw: Any) -> Endpoint:
        found = serve(Endpoint(**kw))
        self.endpoints.append(found)
        return found

    def create(self, **config: Any) -> str:
        config.setdefault("RequestInterval", 10)
        with BACKEND_LOCK:
            return str(
                self.route53.create_health_check(
                    CallerReference=f"ref-{time.monotonic_ns()}", HealthCheckConfig=config
                )["HealthCheck"]["Id"]
            )

    def http(self, endpoint: Endpoint, **config: Any) -> str:
        config.setdefault("FailureThreshold", 2)
        return self.create(
            Type="HTTP", IPAddress="127.0.0.1", Port=endpoint.port, ResourcePath="/health",
            **config,
        )  # fmt: skip

    def observations(self, operation: str, health_check_id: str) -> list[dict[str, Any]]:
        with BACKEND_LOCK:
            found = getattr(self.route53, operation)(HealthCheckId=health_check_id)
        return list(found["HealthCheckObservations"])

    def datapoints(self, metric: str, health_check_id: str) -> list[float]:
        from moto.cloudwatch.models import cloudwatch_backends

        with BACKEND_LOCK:
            data = list(cloudwatch_backends[ACCOUNT][REGION].metric_data)
        return [
            float(d.value)
            for d in data
            if d.namespace == "AWS/Route53"
            and d.name == metric
            and [(x.name, x.value) for x in d.dimensions] == [("HealthCheckId", health_check_id)]
        ]


@pytest.fixture
def lab(clients: dict[str, Any]) -> Iterator[Lab]:
    fresh_backends()
    clock = Scheduler(SCALE)
    engine = Route53HealthChecks()  # the default resolver: loopback IPs are themselves
    lab = Lab(clients["route53"], clients["cloudwatch"], engine, [])
    clock.register(engine)
    clock.start()
    try:
        yield lab
    finally:
        clock.stop()
        engine.close()
        for endpoint in lab.endpoints:
            assert endpoint.server is not None
            endpoint.server.shutdown()
            endpoint.server.server_close()


def test_an_http_check_follows_the_endpoint_after_failure_threshold_and_reports_it(
    lab: Lab,
) -> None:
    endpoint = lab.endpoint()
    check = lab.http(endpoint, FullyQualifiedDomainName="api.example.com")
    wait_for(lambda: lab.engine.health_of(check) is True)
    sent = endpoint.requests[0]
    assert sent["path"] == "/health"
    assert sent["Host"] == f"api.example.com:{endpoint.port}"
    assert sent["User-Agent"].startswith("Amazon-Route53-Health-Check-Service")
    [observed] = lab.observations("get_health_check_status", check)
    assert observed["Region"] == "us-east-1" and observed["IPAddress"] == "127.0.0.1"
    assert observed["StatusReport"]["Status"] == "Success: HTTP Status Code 200, OK"
    assert lab.observations("get_health_check_last_failure_reason", check) == []

    endpoint.status = 500
    served = len(endpoint.requests)
    wait_for(lambda: lab.engine.health_of(check) is False)
    assert len(endpoint.requests) - served >= 2  # FailureThreshold 2: not at the first 500
    [observed] = lab.observations("get_health_check_status", check)
    failure = "Failure: HTTP Status Code 500, Internal Server Error"
    assert observed["StatusReport"]["Status"] == failure
    [last_failure] = lab.observations("get_health_check_last_failure_reason", check)
    assert last_failure["StatusReport"]["Status"] == failure

    endpoint.status = 302  # a redirect is healthy too
    wait_for(lambda: lab.engine.health_of(check) is True)
    [observed] = lab.observations("get_health_check_status", check)
    assert observed["StatusReport"]["Status"] == "Success: HTTP Status Code 302, Found"
    wait_for(lambda: 0.0 in lab.datapoints("HealthCheckStatus", check))
    assert 1.0 in lab.datapoints("HealthCheckStatus", check)
    assert set(lab.datapoints("HealthCheckPercentageHealthy", check)) == {0.0, 100.0}


def test_string_match_searches_the_first_5120_bytes_and_tcp_needs_a_connection(
    lab: Lab,
) -> None:
    near = lab.endpoint(body=b"x" * 5000 + b"READY")
    far = lab.endpoint(body=b"x" * 5200 + b"READY")
    matched, missed = (
        lab.create(
            Type="HTTP_STR_MATCH", IPAddress="127.0.0.1", Port=e.port, SearchString="READY",
            FailureThreshold=1,
        )
        for e in (near, far)
    )  # fmt: skip
    listening = lab.create(Type="TCP", IPAddress="127.0.0.1", Port=near.port, FailureThreshold=1)
    refused = lab.create(Type="TCP", IPAddress="127.0.0.1", Port=closed_port(), FailureThreshold=1)
    unknown = lab.create(
        Type="HTTP", FullyQualifiedDomainName="nowhere.example.com", Port=80, FailureThreshold=1
    )
    expected = {matched: True, missed: False, listening: True, refused: False, unknown: False}
    wait_for(lambda: {c: lab.engine.health_of(c) for c in expected} == expected)
    [observed] = lab.observations("get_health_check_status", missed)
    assert "READY" in observed["StatusReport"]["Status"]
    assert observed["StatusReport"]["Status"].startswith("Failure: HTTP Status Code 200, OK")


def test_a_calculated_check_counts_its_healthy_children_and_can_be_inverted(lab: Lab) -> None:
    up = lab.http(lab.endpoint(), FailureThreshold=1)
    down = lab.http(lab.endpoint(status=503), FailureThreshold=1)
    children = [up, down]
    one = lab.create(Type="CALCULATED", ChildHealthChecks=children, HealthThreshold=1)
    both = lab.create(Type="CALCULATED", ChildHealthChecks=children, HealthThreshold=2)
    inverted = lab.create(
        Type="CALCULATED", ChildHealthChecks=children, HealthThreshold=2, Inverted=True
    )
    expected = {up: True, down: False, one: True, both: False, inverted: True}
    wait_for(lambda: {c: lab.engine.health_of(c) for c in expected} == expected)
    wait_for(lambda: lab.datapoints("ChildHealthCheckHealthyCount", both))
    assert lab.datapoints("ChildHealthCheckHealthyCount", both)[-1] == 1.0


def test_a_cloudwatch_metric_check_follows_its_alarm(lab: Lab) -> None:
    with BACKEND_LOCK:
        lab.cloudwatch.put_metric_alarm(
            AlarmName="traffic-switch", MetricName="Switch", Namespace="DR", Statistic="Maximum",
            Period=60, EvaluationPeriods=1, Threshold=1, ComparisonOperator="GreaterThanThreshold",
        )  # fmt: skip
    alarm = {"Region": REGION, "Name": "traffic-switch"}
    follows = lab.create(Type="CLOUDWATCH_METRIC", AlarmIdentifier=alarm)
    strict = lab.create(
        Type="CLOUDWATCH_METRIC", AlarmIdentifier=alarm, InsufficientDataHealthStatus="Unhealthy"
    )

    def set_state(state: str) -> None:
        with BACKEND_LOCK:
            lab.cloudwatch.set_alarm_state(
                AlarmName="traffic-switch", StateValue=state, StateReason="game day"
            )

    # A new alarm has insufficient data: LastKnownStatus (the default) is healthy when new.
    wait_for(lambda: (lab.engine.health_of(follows), lab.engine.health_of(strict)) == (True, False))
    set_state("ALARM")
    wait_for(
        lambda: (lab.engine.health_of(follows), lab.engine.health_of(strict)) == (False, False)
    )
    set_state("OK")
    wait_for(lambda: (lab.engine.health_of(follows), lab.engine.health_of(strict)) == (True, True))
    set_state("ALARM")
    wait_for(lambda: lab.engine.health_of(follows) is False)
    set_state("INSUFFICIENT_DATA")
    wait_for(lambda: lab.engine.health_of(strict) is False)
    assert lab.engine.health_of(follows) is False  # the last known status: ALARM's
    with BACKEND_LOCK:
        config = lab.route53.get_health_check(HealthCheckId=strict)["HealthCheck"]
    assert config["HealthCheckConfig"]["AlarmIdentifier"] == alarm


def test_a_disabled_check_sends_nothing_and_is_healthy_unless_inverted(lab: Lab) -> None:
    ignored = lab.endpoint(status=500)
    disabled = lab.http(ignored, Disabled=True)
    inverted = lab.create(
        Type="TCP", IPAddress="127.0.0.1", Port=closed_port(), Disabled=True, Inverted=True
    )
    failing = lab.endpoint(status=500)
    watched = lab.http(failing, FailureThreshold=1, Inverted=True)  # failing, inverted
    expected = {disabled: True, inverted: False, watched: True}
    wait_for(lambda: {c: lab.engine.health_of(c) for c in expected} == expected)
    time.sleep(0.6)  # more than a request interval
    assert failing.requests and not ignored.requests
    assert lab.engine.status()["health_checks"][disabled]["status"] == "healthy"


def test_without_the_engine_moto_s_status_answer_is_kept(clients: dict[str, Any]) -> None:
    fresh_backends()
    route53 = clients["route53"]
    check = route53.create_health_check(
        CallerReference="stock",
        HealthCheckConfig={"Type": "HTTP", "IPAddress": "10.0.0.1", "Port": 80},
    )["HealthCheck"]["Id"]
    [observed] = route53.get_health_check_status(HealthCheckId=check)["HealthCheckObservations"]
    assert observed["StatusReport"]["Status"].startswith("Success")
    assert (
        route53.get_health_check_last_failure_reason(HealthCheckId=check)["HealthCheckObservations"]
        == []
    )


# -- the patch in the emulator server (the session's, shared with the other patch tests) -------
def test_the_server_keeps_the_alarm_and_routes_the_last_failure_reason(
    patched: Server, stock: Server
) -> None:
    config = {
        "Type": "CLOUDWATCH_METRIC",
        "AlarmIdentifier": {"Region": "us-west-2", "Name": "traffic-switch"},
        "InsufficientDataHealthStatus": "LastKnownStatus",
    }
    route53 = patched.client("route53")
    created = route53.create_health_check(CallerReference="kept", HealthCheckConfig=config)
    check_id = created["HealthCheck"]["Id"]
    kept = route53.get_health_check(HealthCheckId=check_id)["HealthCheck"]["HealthCheckConfig"]
    assert kept["AlarmIdentifier"] == config["AlarmIdentifier"]
    assert kept["InsufficientDataHealthStatus"] == "LastKnownStatus"
    # an alarm's check has no endpoint: no port, interval or address (moto answers 80, 30)
    assert not {"Port", "RequestInterval", "IPAddress", "FailureThreshold"} & set(kept)
    route53.update_health_check(HealthCheckId=check_id, InsufficientDataHealthStatus="Unhealthy")
    updated = route53.get_health_check(HealthCheckId=check_id)["HealthCheck"]
    assert updated["HealthCheckConfig"]["InsufficientDataHealthStatus"] == "Unhealthy"
    failures = route53.get_health_check_last_failure_reason(HealthCheckId=check_id)
    assert failures["HealthCheckObservations"] == []

    # Stock moto: the alarm is dropped and the last failure reason is not routed.
    plain = stock.client("route53")
    created = plain.create_health_check(CallerReference="dropped", HealthCheckConfig=config)
    assert "AlarmIdentifier" not in created["HealthCheck"]["HealthCheckConfig"]
    with pytest.raises(ClientError):
        plain.get_health_check_last_failure_reason(HealthCheckId=created["HealthCheck"]["Id"])
