"""A load balancer at an address of its own, which Route 53's DNS answers for its name.

The elb-listeners engine over moto in-process (one ``mock_aws`` for the module): each
load balancer answers on its own address in 127.100.0.0/16 at its listeners' ports, as
well as on the 127.0.0.1 ports ``deployer emulator status`` lists; ``address_of`` and
``endpoint_of`` say where; ``alias_healthy`` is its health as Route 53 judges an alias
with EvaluateTargetHealth (the Route 53 API reference, ``AliasTarget``); and the
route53-dns engine, wired as ``engines.create()`` wires it, resolves an alias to the
load balancer's name to that address, where a request then gets its answer.
"""

from __future__ import annotations

import ipaddress
import json
import os
import threading
import urllib.error
import urllib.request
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import dns.message
import dns.query
import dns.rcode
import pytest

from deployer.emulator.engines.elb_listeners import OWN_NETWORK, ElbListeners
from deployer.emulator.engines.route53_dns import Route53Dns

from ._module_moto import fresh_backends, module_moto

REGION = "us-east-1"
#: Binding port 80 needs root (CI and the project's machines run the emulator as root).
ROOT = os.geteuid() == 0


@pytest.fixture(scope="module")
def aws() -> Iterator[dict[str, Any]]:
    with module_moto(["ec2", "elbv2", "route53"], REGION) as clients:
        yield clients


@pytest.fixture(scope="module")
def target() -> Iterator[str]:
    """The one target: it answers with the path and the port the load balancer heard on."""

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            body = json.dumps({"path": self.path, "port": self.headers["X-Forwarded-Port"]})
            data = body.encode()
            self.send_response(200)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *_args: Any) -> None:
            return

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


@pytest.fixture
def engine(aws: dict[str, Any], target: str) -> Iterator[ElbListeners]:
    fresh_backends()
    known = {("10.0.1.10", 8080): target}
    listeners = ElbListeners(lambda ip, port: known.get((ip, port)), lock=threading.RLock())
    yield listeners
    listeners.close()


def balancer(aws: dict[str, Any], name: str, *, targets: int = 1) -> dict[str, Any]:
    """A load balancer with an HTTP:80 listener forwarding to a group of ``targets`` IP
    targets (10.0.1.10:8080 the first) and an HTTP:8080 listener with a fixed response."""
    ec2, elbv2 = aws["ec2"], aws["elbv2"]
    vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
    subnets = [
        ec2.create_subnet(VpcId=vpc, CidrBlock=f"10.0.{i}.0/24", AvailabilityZone=zone)["Subnet"][
            "SubnetId"
        ]
        for i, zone in ((1, "us-east-1a"), (2, "us-east-1b"))
    ]
    lb = elbv2.create_load_balancer(Name=name, Subnets=subnets)["LoadBalancers"][0]
    group = elbv2.create_target_group(
        Name=name, Protocol="HTTP", Port=8080, VpcId=vpc, TargetType="ip"
    )["TargetGroups"][0]
    if targets:
        elbv2.register_targets(
            TargetGroupArn=group["TargetGroupArn"],
            Targets=[{"Id": f"10.0.1.{10 + n}", "Port": 8080} for n in range(targets)],
        )
    forward = [{"Type": "forward", "TargetGroupArn": group["TargetGroupArn"]}]
    fixed = {"StatusCode": "200", "MessageBody": "fixed", "ContentType": "text/plain"}
    for port, actions in (
        (80, forward),
        (8080, [{"Type": "fixed-response", "FixedResponseConfig": fixed}]),
    ):
        elbv2.create_listener(
            LoadBalancerArn=lb["LoadBalancerArn"], Protocol="HTTP", Port=port,
            DefaultActions=actions,
        )  # fmt: skip
    return {**lb, "TargetGroupArn": group["TargetGroupArn"]}


def get(url: str) -> tuple[int, bytes]:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()


def test_a_load_balancer_answers_at_its_own_address_on_its_listener_ports(
    aws: dict[str, Any], engine: ElbListeners
) -> None:
    shop, cart = balancer(aws, "shop"), balancer(aws, "cart")
    engine.reconcile()
    name = shop["DNSName"]
    listeners = {(s["dns_name"], s["port"]): s for s in engine.status()["listeners"].values()}
    if not ROOT:  # port 80 refused: the 127.0.0.1 port only, and status says why
        assert engine.address_of(name) == []
        assert "80" in str(listeners[(name, 80)]["own_address_refused"])
        pytest.skip("binding port 80 needs root")
    [address] = engine.address_of(name)
    assert ipaddress.ip_address(address) in OWN_NETWORK
    assert engine.address_of(cart["DNSName"]) != [address]  # one address a load balancer
    assert listeners[(name, 80)]["own_address"] == f"{address}:80"
    # The same handling there as on the 127.0.0.1 port: forwarded, X-Forwarded-Port 80.
    code, body = get(f"http://{address}/cart?x=1")
    assert (code, json.loads(body)) == (200, {"path": "/cart?x=1", "port": "80"})
    assert get(f"http://{address}:8080/") == (200, b"fixed")
    assert get(f"http://{listeners[(name, 80)]['address']}/a")[0] == 200  # still answers
    # Where a name and port answer (Route 53's health checks), as clients write the name.
    assert engine.endpoint_of(name, 80) == (address, 80)
    assert engine.endpoint_of(f"dualstack.{name.upper()}.", 8080) == (address, 8080)
    assert engine.endpoint_of(name, 81) is None  # no such listener
    assert engine.address_of("nothing.us-east-1.elb.amazonaws.com") == []


def test_a_load_balancer_whose_address_is_taken_moves_to_the_next(
    aws: dict[str, Any], engine: ElbListeners
) -> None:
    """Another emulator listening on the address it would get: the next one, not none."""
    if not ROOT:
        pytest.skip("binding port 80 needs root")
    first = next(engine._free)  # the address the next load balancer would get
    engine._free = iter([first, *(next(engine._free) for _ in range(3))])
    squatter = ThreadingHTTPServer((first, 80), BaseHTTPRequestHandler)
    try:
        shop = balancer(aws, "shop")
        engine.reconcile()
        [address] = engine.address_of(shop["DNSName"])
        assert address != first
        assert get(f"http://{address}:8080/") == (200, b"fixed")
    finally:
        squatter.server_close()


def test_alias_health_as_route53_evaluates_a_load_balancer(
    aws: dict[str, Any], engine: ElbListeners
) -> None:
    """ "Every target group that contains targets must contain at least one healthy
    target"; "a target group that has no registered targets is considered unhealthy"."""
    shop, empty = balancer(aws, "shop", targets=2), balancer(aws, "empty", targets=0)
    engine.reconcile()
    group = shop["TargetGroupArn"]
    first, second = (group, "10.0.1.10", 8080), (group, "10.0.1.11", 8080)
    engine.states = {first: "initial", second: "initial"}
    assert engine.alias_healthy(shop["DNSName"]) is False  # no check passed yet
    engine.states = {first: "unhealthy", second: "healthy"}
    assert engine.alias_healthy(shop["DNSName"]) is True  # one healthy target is enough
    engine.states = {first: "unhealthy", second: "unhealthy"}
    assert engine.alias_healthy(shop["DNSName"]) is False
    assert engine.alias_healthy(empty["DNSName"]) is False  # its only group has no target
    assert engine.alias_healthy("nothing.us-east-1.elb.amazonaws.com") is None


@pytest.fixture
def resolver(engine: ElbListeners) -> Iterator[Route53Dns]:
    server = Route53Dns(
        0, address_of=engine.address_of, alias_healthy=engine.alias_healthy,
        lock=threading.RLock(),
    )  # fmt: skip
    server.start()
    yield server
    server.close()


def test_an_alias_to_the_load_balancer_resolves_to_its_address(
    aws: dict[str, Any], engine: ElbListeners, resolver: Route53Dns
) -> None:
    """Where does the name send users: one DNS query, then the request answers there."""
    shop = balancer(aws, "shop")
    route53 = aws["route53"]
    zone = route53.create_hosted_zone(Name="example.com", CallerReference="shop")
    alias = {
        "HostedZoneId": shop["CanonicalHostedZoneId"],
        "DNSName": f"dualstack.{shop['DNSName']}",  # as the console writes it
        "EvaluateTargetHealth": True,
    }
    change = {"Action": "CREATE", "ResourceRecordSet": {"Name": "shop.example.com",
              "Type": "A", "AliasTarget": alias}}  # fmt: skip
    route53.change_resource_record_sets(
        HostedZoneId=zone["HostedZone"]["Id"], ChangeBatch={"Changes": [change]}
    )
    engine.reconcile()
    engine.states = {(shop["TargetGroupArn"], "10.0.1.10", 8080): "healthy"}
    query = dns.message.make_query("shop.example.com", "A")
    answer = dns.query.udp(query, "127.0.0.1", port=resolver.port, timeout=5)
    assert answer.rcode() == dns.rcode.NOERROR
    addresses = [item.address for rrset in answer.answer for item in rrset]
    assert addresses == engine.address_of(shop["DNSName"])
    if ROOT:
        assert get(f"http://{addresses[0]}/x")[0] == 200


def test_create_wires_the_route53_engines_to_the_load_balancers(tmp_path: Path) -> None:
    """The emulator's engines: Route 53's health checks and DNS run with the runtime,
    reading the load balancers through the elb-listeners engine; the region controls
    reach that engine; the runtime's status (``deployer emulator status``) has the DNS
    server's address and port."""
    from deployer.emulator import controls, engines

    runtime = SimpleNamespace(registry_down=None, owner="test", state_dir=tmp_path, engines=[])
    made = {engine.name: engine for engine in engines.create(runtime)}
    listeners: Any = made["elb-listeners"]
    try:
        assert {"route53-health", "route53-dns"} <= set(made)
        dns_engine: Any = made["route53-dns"]
        assert dns_engine.address_of == listeners.address_of
        assert dns_engine.alias_healthy == listeners.alias_healthy
        assert dns_engine.health_of == made["route53-health"].health_of  # type: ignore[attr-defined]
        health: Any = made["route53-health"]
        # Its resolver reaches a load balancer through the engine (none here yet).
        assert health.resolve("shop-1.us-east-1.elb.amazonaws.com", 80) is None
        assert health.resolve("127.100.0.9", 80) == ("127.100.0.9", 80)
        assert listeners.set_regions_down in controls._watchers
        dns_engine.start()
        status = {engine.name: engine.status() for engine in runtime.engines}
        assert status["route53-dns"]["address"] == "127.0.0.1"
        assert status["route53-dns"]["port"] == dns_engine.port > 0
        dns_engine.close()
    finally:
        controls._watchers.remove(listeners.set_regions_down)
        listeners.close()
        made["route53-health"].close()  # type: ignore[attr-defined]
