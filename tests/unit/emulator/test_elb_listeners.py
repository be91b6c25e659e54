"""The elb-listeners engine's routing, without Docker: weights, turns, health, fail-open,
rules (conditions, priorities, default), redirects, 503, 502, fixed responses."""

from __future__ import annotations

import json
import threading
import urllib.error
import urllib.request
from collections import Counter
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from deployer.emulator.engines.elb_listeners import (
    ElbListeners,
    Fixed,
    Forward,
    Redirect,
    Request,
    Route,
    Rule,
    _Listener,
    arn_suffix,
    condition_holds,
)


def healthy(*keys: tuple[str, str, int]) -> dict[tuple[str, str, int], str]:
    return dict.fromkeys(keys, "healthy")


def test_weights_and_turns() -> None:
    forward = Forward(
        [
            ("blue", 0, [("10.0.0.1", 8080)]),  # weight 0: never
            ("green", 1, [("10.0.0.2", 8080), ("10.0.0.3", 8080)]),
        ]
    )
    health = healthy(
        ("blue", "10.0.0.1", 8080), ("green", "10.0.0.2", 8080), ("green", "10.0.0.3", 8080)
    )
    picked = [forward.pick(health) for _ in range(6)]
    assert picked == [("green", ("10.0.0.2", 8080)), ("green", ("10.0.0.3", 8080))] * 3
    assert Forward([("blue", 1, [])]).pick(health) is None


def test_weighted_forward_splits_by_weight() -> None:
    forward = Forward([("blue", 9, [("a", 1)]), ("green", 1, [("b", 1)])])
    health = healthy(("blue", "a", 1), ("green", "b", 1))
    counts = Counter(forward.pick(health) for _ in range(2000))
    assert 0.85 < counts[("blue", ("a", 1))] / 2000 < 0.95


def test_only_healthy_targets_get_requests_and_an_all_unhealthy_group_fails_open() -> None:
    forward = Forward([("g", 1, [("a", 1), ("b", 1), ("c", 1)])])
    mixed = {("g", "a", 1): "unhealthy", ("g", "b", 1): "healthy", ("g", "c", 1): "initial"}
    assert {forward.pick(mixed) for _ in range(6)} == {("g", ("b", 1))}
    # Every registered target unhealthy: the load balancer routes to all of them.
    down = dict.fromkeys([("g", "a", 1), ("g", "b", 1), ("g", "c", 1)], "unhealthy")
    assert {forward.pick(down) for _ in range(6)} == {("g", (t, 1)) for t in "abc"}
    # No healthy target, some still initial (a group a rollback just put back behind a
    # listener): not enough healthy targets, so the load balancer fails open too.
    starting = {**down, ("g", "c", 1): "initial"}
    assert {forward.pick(starting) for _ in range(6)} == {("g", (t, 1)) for t in "abc"}
    assert Forward([("g", 1, [])]).pick({}) is None  # nothing registered: nothing to route to
    # A group without a routable target leaves the other group every request.
    two = Forward([("g", 1, [("a", 1)]), ("h", 1, [("x", 1)])])
    states = {("g", "a", 1): "initial", ("h", "x", 1): "healthy"}
    assert {two.pick(states) for _ in range(10)} == {("h", ("x", 1))}


def request(
    target: str = "/",
    method: str = "GET",
    host: str = "example.com",
    ip: str = "10.1.2.3",
    **headers: str,
) -> Request:
    return Request.parse(method, target, [("Host", host), *headers.items()], ip)


def test_conditions_as_the_guide_defines_them() -> None:
    path = {"Field": "path-pattern", "PathPatternConfig": {"Values": ["/img/*", "/a?c"]}}
    assert condition_holds(path, request("/img/cat.png?x=1"))
    assert condition_holds(path, request("/abc"))
    assert not condition_holds(path, request("/IMG/cat.png"))  # paths are case-sensitive
    assert not condition_holds(path, request("/abbc"))
    assert not condition_holds(path, request("/x?q=/img/a"))  # the query is not the path
    legacy = {"Field": "path-pattern", "Values": ["/api/*"]}
    assert condition_holds(legacy, request("/api/v1"))

    host = {"Field": "host-header", "HostHeaderConfig": {"Values": ["*.example.com"]}}
    assert condition_holds(host, request(host="Test.Example.COM:8080"))
    assert not condition_holds(host, request(host="example.com"))  # the guide's example

    header = {
        "Field": "http-header",
        "HttpHeaderConfig": {"HttpHeaderName": "User-Agent", "Values": ["*chrome*"]},
    }
    assert condition_holds(header, request(**{"user-agent": "Mozilla Chrome/120"}))
    assert not condition_holds(header, request(**{"User-Agent": "curl/8"}))

    method = {"Field": "http-request-method", "HttpRequestMethodConfig": {"Values": ["POST"]}}
    assert condition_holds(method, request(method="POST"))
    assert not condition_holds(method, request(method="GET"))

    query = {
        "Field": "query-string",
        "QueryStringConfig": {"Values": [{"Key": "version", "Value": "v1"}, {"Value": "exa*"}]},
    }
    assert condition_holds(query, request("/?version=V1"))
    assert condition_holds(query, request("/?any=example"))
    assert not condition_holds(query, request("/?version=v2"))

    source = {"Field": "source-ip", "SourceIpConfig": {"Values": ["10.1.0.0/16"]}}
    assert condition_holds(source, request(ip="10.1.200.7"))
    assert not condition_holds(source, request(ip="10.2.0.1"))


def test_rules_in_priority_order_then_the_default() -> None:
    api = Forward([("api", 1, [("a", 1)])])
    web = Forward([("web", 1, [("w", 1)])])
    deny = Fixed(403, b"no", "text/plain")
    route = Route(
        [
            Rule(5, [{"Field": "path-pattern", "Values": ["/api/*"]}], api),
            Rule(1, [{"Field": "path-pattern", "Values": ["/api/admin*"]},
                     {"Field": "host-header", "Values": ["admin.example.com"]}], deny),
        ],
        web,
    )  # fmt: skip
    route.rules.sort(key=lambda r: r.priority)
    assert route.decide(request("/api/admin", host="admin.example.com")) is deny
    assert route.decide(request("/api/admin", host="www.example.com")) is api  # one fails
    assert route.decide(request("/")) is web


def test_redirect_locations() -> None:
    to_https = Redirect({"Protocol": "HTTPS", "Port": "443", "StatusCode": "HTTP_301"})
    assert to_https.location(request("/a/b?x=1", host="shop.example.com:80"), 80) == (
        "https://shop.example.com/a/b?x=1"
    )
    assert to_https.status == 301
    moved = Redirect({"Path": "/new/#{path}", "Query": "", "StatusCode": "HTTP_302"})
    assert moved.location(request("/old"), 8080) == "http://example.com:8080/new/old"
    assert moved.status == 302


def test_arn_suffixes_are_the_metric_dimensions() -> None:
    lb = "arn:aws:elasticloadbalancing:us-east-1:123456789012:loadbalancer/app/web/50dc6c495c0c9188"
    tg = "arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/web/73e2d6bc24d8a067"
    assert arn_suffix(lb) == "app/web/50dc6c495c0c9188"
    assert arn_suffix(tg) == "targetgroup/web/73e2d6bc24d8a067"


@pytest.fixture
def target() -> Iterator[str]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            body = json.dumps({"path": self.path, "xff": self.headers["X-Forwarded-For"]})
            data = body.encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *_args: Any) -> None:
            return

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def get(address: str, path: str = "/health") -> tuple[int, bytes]:
    try:
        with urllib.request.urlopen(f"http://{address}{path}", timeout=5) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()


def test_a_listener_forwards_or_answers_as_alb(target: str) -> None:
    known = {("10.0.0.2", 8080): target}
    engine = ElbListeners(lambda ip, port: known.get((ip, port)), lock=threading.RLock())
    engine.states = healthy(("blue", "10.0.0.2", 8080), ("blue", "10.0.0.9", 8080))
    listener = _Listener(engine, "arn:listener/1")
    try:
        listener.route = Route([], Forward([("blue", 1, [("10.0.0.2", 8080)])]))
        status, body = get(listener.address, "/health?x=1")
        assert status == 200 and json.loads(body) == {"path": "/health?x=1", "xff": "127.0.0.1"}
        listener.route = Route([], Forward([("blue", 1, [])]))
        assert get(listener.address)[0] == 503  # no registered target
        listener.route = Route([], Forward([("blue", 1, [("10.0.0.9", 8080)])]))
        assert get(listener.address)[0] == 502  # a target nothing serves
        listener.route = Route([], Fixed(404, b"nope", "text/plain"))
        assert get(listener.address) == (404, b"nope")
    finally:
        listener.close()
        engine.close()


def test_an_https_listener_terminates_tls_with_its_acm_certificate(target: str) -> None:
    """moto's ACM issues a requested certificate with a key it generates; the listener
    serves it (TLS 1.2 at the least) and forwards plain HTTP, saying the request came
    over HTTPS."""
    import socket
    import ssl

    import boto3
    from moto import mock_aws

    from deployer.emulator.engines.elb_listeners import _certificate

    with mock_aws():
        acm = boto3.client("acm", region_name="us-east-1")
        arn = acm.request_certificate(DomainName="shop.example.com")["CertificateArn"]
        tls = _certificate("123456789012", "us-east-1", arn)
        assert _certificate("123456789012", "us-east-1", arn.replace("-", "0")) is None
    assert tls is not None and b"BEGIN CERTIFICATE" in tls[0] and b"PRIVATE KEY" in tls[1]
    known = {("10.0.0.2", 8080): target}
    engine = ElbListeners(lambda ip, port: known.get((ip, port)), lock=threading.RLock())
    engine.states = healthy(("blue", "10.0.0.2", 8080))
    listener = _Listener(engine, "arn:listener/tls", tls)
    try:
        listener.route = Route([], Forward([("blue", 1, [("10.0.0.2", 8080)])]))
        client = ssl.create_default_context()
        client.check_hostname = False
        client.verify_mode = ssl.CERT_NONE  # the emulator's CA is not this client's to trust
        host, port = listener.address.split(":")
        with (
            socket.create_connection((host, int(port)), timeout=5) as raw,
            client.wrap_socket(raw) as wrapped,
        ):
            served = wrapped.getpeercert(binary_form=True)
            assert wrapped.version() in ("TLSv1.2", "TLSv1.3")
        assert served == ssl.PEM_cert_to_DER_cert(tls[0].decode())
        with urllib.request.urlopen(
            f"https://{listener.address}/health", timeout=5, context=client
        ) as response:
            assert response.status == 200
            assert json.loads(response.read())["path"] == "/health"
        # Plain HTTP to an HTTPS listener gets no answer.
        with pytest.raises((urllib.error.URLError, ConnectionError, OSError)):
            urllib.request.urlopen(f"http://{listener.address}/health", timeout=5)
    finally:
        listener.close()
        engine.close()


def shop_balancer() -> tuple[Any, dict[str, Any]]:
    """In moto (inside mock_aws): an elbv2 client and a load balancer over two subnets."""
    import boto3

    ec2 = boto3.client("ec2", region_name="us-east-1")
    vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
    subnets = [
        ec2.create_subnet(VpcId=vpc, CidrBlock=f"10.0.{i}.0/24", AvailabilityZone=zone)["Subnet"][
            "SubnetId"
        ]
        for i, zone in ((1, "us-east-1a"), (2, "us-east-1b"))
    ]
    elbv2 = boto3.client("elbv2", region_name="us-east-1")
    balancer = elbv2.create_load_balancer(Name="shop", Subnets=subnets)["LoadBalancers"][0]
    return elbv2, balancer


def test_the_engine_serves_an_https_listener_with_its_certificate() -> None:
    """A round of the engine over moto: the HTTPS listener is served (its status says so)
    with the certificate ACM issued; one whose certificate ACM no longer holds is not."""
    import ssl

    import boto3
    from moto import mock_aws

    with mock_aws():
        elbv2, balancer = shop_balancer()
        acm = boto3.client("acm", region_name="us-east-1")
        issued = acm.request_certificate(DomainName="shop.example.com")["CertificateArn"]
        answer = {"StatusCode": "200", "MessageBody": "over tls", "ContentType": "text/plain"}
        gone = acm.request_certificate(DomainName="old.example.com")["CertificateArn"]
        for port, certificate in ((443, issued), (8443, gone)):
            elbv2.create_listener(
                LoadBalancerArn=balancer["LoadBalancerArn"], Protocol="HTTPS", Port=port,
                Certificates=[{"CertificateArn": certificate}],
                DefaultActions=[{"Type": "fixed-response", "FixedResponseConfig": answer}],
            )  # fmt: skip
        acm.delete_certificate(CertificateArn=gone)  # ACM no longer holds it
        engine = ElbListeners(lambda _ip, _port: None, lock=threading.RLock())
        try:
            engine.reconcile()
            served = list(engine.status()["listeners"].values())
            assert [(s["port"], s["protocol"]) for s in served] == [(443, "HTTPS")]
            client = ssl.create_default_context()
            client.check_hostname = False
            client.verify_mode = ssl.CERT_NONE
            url = f"https://{served[0]['address']}/"
            with urllib.request.urlopen(url, timeout=5, context=client) as response:
                assert response.read() == b"over tls"
        finally:
            engine.close()


def test_a_listener_change_applies_to_the_next_request_not_the_next_round() -> None:
    """CodeDeploy moves traffic with ModifyListener; AWS applies it at once. The engine
    serves the new default action from the next request, before its next round."""
    from moto import mock_aws

    with mock_aws():
        elbv2, balancer = shop_balancer()

        def fixed(text: str) -> list[dict[str, Any]]:
            config = {"StatusCode": "200", "MessageBody": text, "ContentType": "text/plain"}
            return [{"Type": "fixed-response", "FixedResponseConfig": config}]

        listener = elbv2.create_listener(
            LoadBalancerArn=balancer["LoadBalancerArn"], Protocol="HTTP", Port=80,
            DefaultActions=fixed("blue"),
        )["Listeners"][0]["ListenerArn"]  # fmt: skip
        engine = ElbListeners(lambda _ip, _port: None, lock=threading.RLock())
        try:
            engine.reconcile()
            (served,) = engine.status()["listeners"].values()
            assert get(served["address"], "/") == (200, b"blue")
            elbv2.modify_listener(ListenerArn=listener, DefaultActions=fixed("green"))
            assert get(served["address"], "/") == (200, b"green")  # no round in between
            rule = elbv2.create_rule(
                ListenerArn=listener, Priority=1, Actions=fixed("canary"),
                Conditions=[{"Field": "path-pattern", "Values": ["/canary"]}],
            )["Rules"][0]["RuleArn"]  # fmt: skip
            assert get(served["address"], "/canary") == (200, b"canary")
            elbv2.delete_rule(RuleArn=rule)
            assert get(served["address"], "/canary") == (200, b"green")
        finally:
            engine.close()
