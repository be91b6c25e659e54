"""A region that goes down on purpose (issue 15, point 3): the region controls.

One emulator server for the module, in-process: moto's WSGI application behind the
emulator's controls and the backend lock, as ``serve.py`` builds it, on a loopback
port; the elb-listeners engine over the same backends, told of the regions down as
``engines.create()`` wires it. A load balancer in us-east-1 and one in us-west-2.
While us-east-1 is down its load balancer refuses connections and its APIs (and the
global ones signed for it) answer 503 ``ServiceUnavailable`` in their protocol's
shape; us-west-2, the controls and ``/moto-api/`` answer; back up, the same URLs do.
"""

from __future__ import annotations

import json
import os
import socket
import threading
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from deployer.emulator import controls, scheduler
from deployer.emulator.engines.elb_listeners import ElbListeners
from deployer.emulator.process import EmulatorStatus

from ._module_moto import fresh_backends

ROOT = Path(__file__).resolve().parents[3]
EAST, WEST = "us-east-1", "us-west-2"


@dataclass
class World:
    endpoint: str
    engine: ElbListeners
    #: region -> the load balancer's DNS name
    names: dict[str, str]

    def client(self, service: str, region: str) -> Any:
        make: Any = boto3.client  # any service name, not a literal
        return make(
            service, region_name=region, endpoint_url=self.endpoint,
            aws_access_key_id="test", aws_secret_access_key="test",
            config=Config(retries={"max_attempts": 1, "mode": "standard"}),
        )  # fmt: skip

    def urls(self, region: str) -> list[str]:
        """Where the region's load balancer answers: its 127.0.0.1 port, its own address."""
        [listener] = [
            s for s in self.engine.status()["listeners"].values()
            if s["dns_name"] == self.names[region]
        ]  # fmt: skip
        own = listener["own_address"]
        return [f"http://{listener['address']}/", *([f"http://{own}/"] if own else [])]


@pytest.fixture(scope="module")
def world() -> Iterator[World]:
    from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app
    from werkzeug.serving import make_server

    fresh_backends()
    app = scheduler.serialised(controls.wrap(DomainDispatcherApplication(create_backend_app)))
    server = make_server("127.0.0.1", 0, app, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    engine = ElbListeners(lambda _ip, _port: None)
    world = World(f"http://127.0.0.1:{server.server_port}", engine, {})
    for region in (EAST, WEST):
        ec2, elbv2 = world.client("ec2", region), world.client("elbv2", region)
        vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
        subnets = [
            ec2.create_subnet(VpcId=vpc, CidrBlock=f"10.0.{n}.0/24",
                              AvailabilityZone=f"{region}{zone}")["Subnet"]["SubnetId"]
            for n, zone in ((1, "a"), (2, "b"))
        ]  # fmt: skip
        lb = elbv2.create_load_balancer(Name=f"web-{region}", Subnets=subnets)
        balancer = lb["LoadBalancers"][0]
        world.names[region] = balancer["DNSName"]
        answer = {"StatusCode": "200", "MessageBody": region, "ContentType": "text/plain"}
        elbv2.create_listener(
            LoadBalancerArn=balancer["LoadBalancerArn"], Protocol="HTTP", Port=80,
            DefaultActions=[{"Type": "fixed-response", "FixedResponseConfig": answer}],
        )  # fmt: skip
    controls.watch_regions(engine.set_regions_down)
    engine.reconcile()
    try:
        yield world
    finally:
        controls._set_down(frozenset())
        controls._watchers.remove(engine.set_regions_down)
        engine.close()
        server.shutdown()
        server.server_close()


def get(url: str) -> bytes:
    with urllib.request.urlopen(url, timeout=5) as response:
        return bytes(response.read())


def refused(url: str) -> bool:
    host, _, port = url.removeprefix("http://").rstrip("/").rpartition(":")
    try:
        socket.create_connection((host, int(port or 80)), timeout=5).close()
    except ConnectionRefusedError:
        return True
    return False


def error(call: Any) -> tuple[int, str, str]:
    with pytest.raises(ClientError) as caught:
        call()
    response: Any = caught.value.response
    return (
        response["ResponseMetadata"]["HTTPStatusCode"],
        response["Error"]["Code"],
        response["Error"].get("Message", ""),
    )


def control(world: World, name: str, body: dict[str, Any] | None = None) -> Any:
    return controls.post(world.endpoint, name, body)


def test_a_region_down_refuses_its_load_balancers_and_answers_503(world: World) -> None:
    east, west = world.urls(EAST), world.urls(WEST)
    assert [get(url) for url in east] == [EAST.encode()] * len(east)
    assert control(world, "regions/down", {"region": EAST}) == {"regions_down": [EAST]}
    try:
        assert all(refused(url) for url in east)  # the 127.0.0.1 port and its own address
        assert [get(url) for url in west] == [WEST.encode()] * len(west)
        # Its APIs: 503 with AWS's error for the protocol (query, JSON, REST-XML global).
        elbv2 = world.client("elbv2", EAST)
        assert error(elbv2.describe_load_balancers) == (
            503, "ServiceUnavailable", "Service Unavailable",
        )  # fmt: skip
        assert error(world.client("ecs", EAST).list_clusters)[:2] == (
            503, "ServiceUnavailableException",
        )  # fmt: skip
        assert error(world.client("ec2", EAST).describe_vpcs)[:2] == (503, "ServiceUnavailable")
        # Global services are signed for us-east-1: down with it.
        assert error(world.client("route53", EAST).list_hosted_zones)[:2] == (
            503, "ServiceUnavailable",
        )  # fmt: skip
        assert error(world.client("iam", EAST).list_roles)[:2] == (503, "ServiceUnavailable")
        # Another region's API answers; so do the controls and moto's own API.
        west_lbs = world.client("elbv2", WEST).describe_load_balancers()["LoadBalancers"]
        assert [lb["DNSName"] for lb in west_lbs] == [world.names[WEST]]
        assert control(world, "regions") == {"regions_down": [EAST]}
        # data.json serializes every backend: seconds on a busy machine (5 s timed out in CI).
        with urllib.request.urlopen(f"{world.endpoint}/moto-api/data.json", timeout=60) as r:
            assert r.status == 200 and "elbv2" in json.loads(r.read())
        # The engine's next round does not open it again; Route 53 sees it unhealthy.
        world.engine.reconcile()
        assert all(refused(url) for url in east)
        assert world.engine.alias_healthy(world.names[EAST]) is False
        # The address its name resolves to stays: the name still answers, nothing there.
        assert world.engine.address_of(world.names[EAST]) == [
            url.removeprefix("http://").split(":")[0] for url in east[1:]
        ]
    finally:
        assert control(world, "regions/up", {"region": EAST}) == {"regions_down": []}
    # Back up: the same URLs answer, and so does its API.
    assert world.urls(EAST) == east
    assert [get(url) for url in east] == [EAST.encode()] * len(east)
    assert len(world.client("elbv2", EAST).describe_load_balancers()["LoadBalancers"]) == 1


def test_a_region_control_needs_a_region_name(world: World) -> None:
    for body in ({}, {"region": "Moon-1"}, {"region": 1}):
        request = urllib.request.Request(
            f"{world.endpoint}/_deployer/regions/down", data=json.dumps(body).encode(),
            method="POST",
        )  # fmt: skip
        with pytest.raises(urllib.error.HTTPError) as caught:
            urllib.request.urlopen(request, timeout=5)
        assert caught.value.code == 400
        assert "is not a region name" in json.loads(caught.value.read())["error"]
    assert control(world, "regions") == {"regions_down": []}


def test_the_cli_takes_a_region_down_and_up(
    world: World, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """``deployer emulator region down|up REGION`` and the down regions in ``status``."""
    from deployer.cli import emulator as command
    from deployer.cli import main
    from deployer.emulator import runtime

    class Running:
        def __init__(self, _state_dir: Path) -> None:
            pass

        def status(self) -> EmulatorStatus:
            return EmulatorStatus(running=True, endpoint=world.endpoint, pid=os.getpid())

    monkeypatch.setattr(command, "Emulator", Running)
    monkeypatch.setenv("DEPLOYER_PROJECT_DIR", str(ROOT))
    served = {"route53-dns": {"address": "127.0.0.1", "port": 5353, "queries": 0}}
    monkeypatch.setattr(
        runtime, "describe", lambda _served: {"enabled": False, "docker": {"up": False,
                                                                           "reason": "none"}}
    )  # fmt: skip
    west = world.urls(WEST)
    try:
        assert main(["emulator", "region", "down", WEST]) == 0
        assert capsys.readouterr().out.splitlines() == [f"{WEST}: down", f"regions down: {WEST}"]
        assert all(refused(url) for url in west)
        assert main(["emulator", "status", "--json"]) == 0
        assert json.loads(capsys.readouterr().out)["regions_down"] == [WEST]
    finally:
        assert main(["emulator", "region", "up", WEST, "--json"]) == 0
    assert json.loads(capsys.readouterr().out) == {"region": WEST, "down": False,
                                                   "regions_down": []}  # fmt: skip
    assert [get(url) for url in west] == [WEST.encode()] * len(west)
    assert main(["emulator", "region", "down"]) == 2  # no region: a usage error
    assert command._dns_lines(served["route53-dns"]) == ["dns 127.0.0.1:5353"]
