"""The route53-dns engine: hosted zones made with boto3 in moto (in process), answered on
a loopback port to dnspython's UDP and TCP queries, as an authoritative Route 53 name
server answers them: records, CNAMEs, wildcards, NXDOMAIN, NODATA, REFUSED, aliases,
failover and weighted routing driven by health."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import dns.flags
import dns.message
import dns.query
import dns.rcode
import dns.rdatatype
import pytest

from deployer.emulator.engines.route53_dns import Route53Dns

ZONE = "example.com."
EAST_LB = "shop-east-1234.us-east-1.elb.amazonaws.com"
WEST_LB = "shop-west-5678.us-west-2.elb.amazonaws.com"


@dataclass
class World:
    """The engine and the views of the rest of the emulator the tests drive."""

    engine: Route53Dns
    port: int
    checks: dict[str, str] = field(default_factory=dict)  # a record's name -> its check ID
    health: dict[str, bool | None] = field(default_factory=dict)  # check ID -> health
    lb_health: dict[str, bool | None] = field(default_factory=dict)
    addresses: dict[str, list[str]] = field(default_factory=dict)

    def ask(self, name: str, rdtype: str = "A", *, tcp: bool = False) -> dns.message.Message:
        query = dns.message.make_query(name, rdtype)
        if tcp:
            return dns.query.tcp(query, "127.0.0.1", port=self.port, timeout=5)
        return dns.query.udp(query, "127.0.0.1", port=self.port, timeout=5)

    def values(self, name: str, rdtype: str = "A") -> set[str]:
        reply = self.ask(name, rdtype)
        assert reply.rcode() == dns.rcode.NOERROR, dns.rcode.to_text(reply.rcode())
        return {rdata.to_text() for rrset in reply.answer for rdata in rrset}


def _change(name: str, rtype: str, *values: str, ttl: int = 300, **extra: Any) -> dict[str, Any]:
    record: dict[str, Any] = {"Name": name, "Type": rtype, **extra}
    if values:
        record |= {"TTL": ttl, "ResourceRecords": [{"Value": v} for v in values]}
    return {"Action": "CREATE", "ResourceRecordSet": record}


def _alias(dns_name: str, zone_id: str, *, evaluate: bool = False) -> dict[str, Any]:
    return {
        "AliasTarget": {
            "HostedZoneId": zone_id,
            "DNSName": dns_name,
            "EvaluateTargetHealth": evaluate,
        }
    }


@pytest.fixture(scope="module")
def world() -> Iterator[World]:
    import boto3
    from moto import mock_aws

    with mock_aws():
        route53 = boto3.client("route53", region_name="us-east-1")

        def zone(name: str, *, private: bool = False) -> str:
            config: dict[str, Any] = {"PrivateZone": private}
            kwargs: dict[str, Any] = {}
            if private:
                kwargs["VPC"] = {"VPCRegion": "us-east-1", "VPCId": "vpc-12345678"}
            made = route53.create_hosted_zone(
                Name=name, CallerReference=name, HostedZoneConfig=config, **kwargs
            )
            return str(made["HostedZone"]["Id"])

        def check(reference: str) -> str:
            made = route53.create_health_check(
                CallerReference=reference,
                HealthCheckConfig={"Type": "HTTP", "IPAddress": "192.0.2.1", "Port": 80,
                                   "ResourcePath": "/health"},
            )  # fmt: skip
            return str(made["HealthCheck"]["Id"])

        zone_id = zone(ZONE)
        sub_id = zone("sub.example.com.")
        zone("internal.example.", private=True)
        world = World(Route53Dns(), 0)
        for label in ("primary", "secondary", "heavy"):
            world.checks[label] = check(label)
        lb_zone = "Z35SXDOTRQ7X7K"  # ELB's hosted zone in us-east-1
        changes = [
            _change("www.example.com", "A", "192.0.2.1", "192.0.2.2", ttl=300),
            _change("api.example.com", "CNAME", "www.example.com", ttl=60),
            _change("dangling.example.com", "CNAME", "gone.example.com", ttl=60),
            _change("txt.example.com", "TXT", '"hello world"', '"v=spf1 -all"'),
            _change("big.example.com", "TXT", *[f'"{"x" * 200}{i}"' for i in range(6)]),
            _change("mail.example.com", "MX", "10 mx1.example.com", "20 mx2.example.com."),
            _change("*.wild.example.com", "A", "192.0.2.9", ttl=120),
            _change("here.wild.example.com", "TXT", '"not the wildcard"'),
            _change("deep.below.example.com", "A", "192.0.2.7"),
            _change("to-mail.example.com", "CNAME", "mail.example.com", ttl=60),
            _change("dept.example.com", "NS", "ns1.dept.example.net", ttl=3600),
            _change("to-www.example.com", "A", **_alias("www.example.com", zone_id)),
            _change("shop.example.com", "A", **_alias(EAST_LB, lb_zone, evaluate=True)),
            _change("console.example.com", "A", **_alias(f"dualstack.{EAST_LB.upper()}.", lb_zone)),
            _change("nowhere.example.com", "A", **_alias("unknown.elb.amazonaws.com", lb_zone)),
            # failover on health checks
            _change("svc.example.com", "A", "192.0.2.10", ttl=60, SetIdentifier="east",
                    Failover="PRIMARY", HealthCheckId=world.checks["primary"]),
            _change("svc.example.com", "A", "192.0.2.20", ttl=60, SetIdentifier="west",
                    Failover="SECONDARY", HealthCheckId=world.checks["secondary"]),
            # failover between two load balancers, on their own health (issue 15's shape)
            _change("api-service.example.com", "A", SetIdentifier="us-east-1", Failover="PRIMARY",
                    **_alias(EAST_LB, lb_zone, evaluate=True)),
            _change("api-service.example.com", "A", SetIdentifier="us-west-2",
                    Failover="SECONDARY", **_alias(WEST_LB, "Z1H1FL5HABSF5", evaluate=True)),
            # weighted, one of weight 0
            _change("w.example.com", "A", "192.0.2.31", ttl=30, SetIdentifier="one", Weight=1,
                    HealthCheckId=world.checks["heavy"]),
            _change("w.example.com", "A", "192.0.2.32", ttl=30, SetIdentifier="zero", Weight=0),
        ]  # fmt: skip
        route53.change_resource_record_sets(HostedZoneId=zone_id, ChangeBatch={"Changes": changes})
        route53.change_resource_record_sets(
            HostedZoneId=sub_id,
            ChangeBatch={"Changes": [_change("x.sub.example.com", "A", "198.51.100.1")]},
        )
        world.addresses = {EAST_LB: ["127.0.0.2"], WEST_LB: ["127.0.0.3"]}
        engine = Route53Dns(
            address_of=lambda name: world.addresses.get(name, []),
            alias_healthy=world.lb_health.get,
            health_of=world.health.get,
        )
        engine.start()
        world.engine = engine
        assert engine.port
        world.port = engine.port
        try:
            yield world
        finally:
            engine.close()


@pytest.fixture(autouse=True)
def _fresh_health(world: World) -> None:
    world.health.clear()
    world.lb_health.clear()


def test_status_announces_the_loopback_port(world: World) -> None:
    status = world.engine.status()
    assert status["address"] == "127.0.0.1" and status["port"] == world.port > 0
    assert world.engine.name == "route53-dns"


def test_a_records_with_their_ttl_and_authority(world: World) -> None:
    reply = world.ask("WWW.Example.com")  # names are case-insensitive
    assert reply.rcode() == dns.rcode.NOERROR
    assert reply.flags & dns.flags.AA and not reply.flags & dns.flags.RA
    (rrset,) = reply.answer
    assert {r.to_text() for r in rrset} == {"192.0.2.1", "192.0.2.2"} and rrset.ttl == 300
    assert reply.authority[0].rdtype == dns.rdatatype.NS  # the zone's name servers


def test_cname_is_followed_inside_the_zone(world: World) -> None:
    reply = world.ask("api.example.com")
    assert [(r.name.to_text(), dns.rdatatype.to_text(r.rdtype), r.ttl) for r in reply.answer] == [
        ("api.example.com.", "CNAME", 60),
        ("www.example.com.", "A", 300),
    ]
    assert world.values("api.example.com", "CNAME") == {"www.example.com."}
    dangling = world.ask("dangling.example.com")
    assert dangling.rcode() == dns.rcode.NXDOMAIN  # the code of the chain's last name
    assert [r.rdtype for r in dangling.answer] == [dns.rdatatype.CNAME]


def test_a_cname_to_a_name_without_the_type_is_nodata(world: World) -> None:
    reply = world.ask("to-mail.example.com", "A")
    assert reply.rcode() == dns.rcode.NOERROR
    assert [r.rdtype for r in reply.answer] == [dns.rdatatype.CNAME]
    assert [r.rdtype for r in reply.authority] == [dns.rdatatype.SOA]


def test_a_delegated_name_gets_a_referral(world: World) -> None:
    reply = world.ask("host.dept.example.com")
    assert reply.rcode() == dns.rcode.NOERROR and not reply.flags & dns.flags.AA
    assert not reply.answer
    (ns,) = reply.authority
    assert ns.name.to_text() == "dept.example.com." and ns[0].to_text() == "ns1.dept.example.net."


def test_txt_and_mx(world: World) -> None:
    assert world.values("txt.example.com", "TXT") == {'"hello world"', '"v=spf1 -all"'}
    assert world.values("mail.example.com", "MX") == {
        "10 mx1.example.com.",
        "20 mx2.example.com.",
    }


def test_nxdomain_carries_the_soa_with_its_negative_ttl(world: World) -> None:
    reply = world.ask("nope.example.com")
    assert reply.rcode() == dns.rcode.NXDOMAIN and reply.flags & dns.flags.AA
    assert not reply.answer
    (soa,) = reply.authority
    assert soa.rdtype == dns.rdatatype.SOA and soa.name.to_text() == ZONE
    assert soa.ttl == min(900, soa[0].minimum)


def test_nodata_when_the_name_has_other_types_or_only_names_below(world: World) -> None:
    for name, rdtype in (("www.example.com", "AAAA"), ("below.example.com", "A")):
        reply = world.ask(name, rdtype)
        assert reply.rcode() == dns.rcode.NOERROR and not reply.answer, name
        assert [r.rdtype for r in reply.authority] == [dns.rdatatype.SOA]


def test_refused_for_a_name_in_no_public_zone(world: World) -> None:
    for name in ("example.org", "db.internal.example"):  # the second only in a private zone
        reply = world.ask(name)
        assert reply.rcode() == dns.rcode.REFUSED and not reply.flags & dns.flags.AA, name


def test_the_most_specific_zone_answers(world: World) -> None:
    assert world.values("x.sub.example.com") == {"198.51.100.1"}
    soa = world.ask("y.sub.example.com").authority[0]
    assert soa.name.to_text() == "sub.example.com."


def test_wildcard_answers_names_that_do_not_exist(world: World) -> None:
    reply = world.ask("anything.wild.example.com")
    (rrset,) = reply.answer
    assert rrset.name.to_text() == "anything.wild.example.com." and rrset.ttl == 120
    assert {r.to_text() for r in rrset} == {"192.0.2.9"}
    assert world.values("a.b.wild.example.com") == {"192.0.2.9"}
    nodata = world.ask("here.wild.example.com")  # exists with TXT only: not the wildcard's
    assert nodata.rcode() == dns.rcode.NOERROR and not nodata.answer


def test_alias_to_a_record_answers_its_values_and_ttl(world: World) -> None:
    reply = world.ask("to-www.example.com")
    (rrset,) = reply.answer
    assert rrset.name.to_text() == "to-www.example.com." and rrset.rdtype == dns.rdatatype.A
    assert {r.to_text() for r in rrset} == {"192.0.2.1", "192.0.2.2"} and rrset.ttl == 300


def test_alias_to_a_load_balancer_answers_its_loopback_address(world: World) -> None:
    reply = world.ask("shop.example.com")
    (rrset,) = reply.answer
    assert [r.to_text() for r in rrset] == ["127.0.0.2"] and rrset.ttl == 60
    assert world.values("console.example.com") == {"127.0.0.2"}  # as the console writes it
    empty = world.ask("nowhere.example.com")  # a target with no address
    assert empty.rcode() == dns.rcode.NOERROR and not empty.answer


def test_failover_follows_the_health_checks(world: World) -> None:
    primary, secondary = world.checks["primary"], world.checks["secondary"]
    assert world.values("svc.example.com") == {"192.0.2.10"}  # no result yet: healthy
    world.health[primary] = True
    assert world.values("svc.example.com") == {"192.0.2.10"}
    world.health[primary] = False
    assert world.values("svc.example.com") == {"192.0.2.20"}
    world.health[secondary] = False  # both unhealthy: the primary
    assert world.values("svc.example.com") == {"192.0.2.10"}


def test_failover_between_load_balancers_on_their_health(world: World) -> None:
    assert world.values("api-service.example.com") == {"127.0.0.2"}
    world.lb_health[EAST_LB] = False
    assert world.values("api-service.example.com") == {"127.0.0.3"}
    world.lb_health[WEST_LB] = False
    assert world.values("api-service.example.com") == {"127.0.0.2"}


def test_weighted_with_a_zero_weight(world: World) -> None:
    picked = Counter(frozenset(world.values("w.example.com")) for _ in range(20))
    assert picked == Counter({frozenset({"192.0.2.31"}): 20})  # weight 0 gets nothing
    world.health[world.checks["heavy"]] = False  # the only weighted one is down
    picked = Counter(frozenset(world.values("w.example.com")) for _ in range(10))
    assert picked == Counter({frozenset({"192.0.2.32"}): 10})


def test_tcp_and_truncation_over_udp(world: World) -> None:
    assert world.values("txt.example.com", "TXT") == {
        r.to_text() for rrset in world.ask("txt.example.com", "TXT", tcp=True).answer for r in rrset
    }
    query = dns.message.make_query("big.example.com", "TXT", use_edns=False)
    udp = dns.query.udp(query, "127.0.0.1", port=world.port, timeout=5)
    assert udp.flags & dns.flags.TC and not udp.answer  # over 512 bytes
    tcp = world.ask("big.example.com", "TXT", tcp=True)
    assert sum(len(rrset) for rrset in tcp.answer) == 6
