"""Route 53's DNS data plane: the hosted zones answer DNS queries on a loopback port.

Reproduces, after the Route 53 Developer Guide ("Choosing a routing policy",
"Failover routing", "Weighted routing", "How Amazon Route 53 chooses records when
health checking is configured", "How health checks work in complex Amazon Route 53
configurations", "How Amazon Route 53 determines whether a health check is healthy",
"Values common for alias records: Value/route traffic to", "Supported DNS record
types", "Using an asterisk (*) in the names of hosted zones and records"), as an
authoritative name server of every public hosted zone of every account:

* one server on 127.0.0.1, UDP and TCP on the same port (given, or chosen when 0 and
  announced by ``status()``); DNS messages are read and written by dnspython;
* a query goes to the most specific public hosted zone that holds the name; a name
  in no hosted zone is REFUSED (an authoritative server that does not host it); the
  answer is authoritative (AA), without recursion (no RA);
* a name with records of the type asked is answered (NOERROR, the zone's NS in the
  authority section, as Route 53 sends them); a name with records of other types
  only, or a name that exists only because names below it do, gets NOERROR with no
  answer and the zone's SOA in the authority section; a name that does not exist
  gets NXDOMAIN with the SOA; the SOA's negative TTL is the lesser of its TTL and
  its minimum (RFC 2308); a name below a delegation (NS records under the apex) gets
  a referral (the NS, not authoritative);
* record types A, AAAA, CNAME, TXT, MX, SRV, CAA, NS, SOA, PTR, SPF, NAPTR, DS, each
  record's own TTL; values in Route 53's format, names fully qualified with or
  without their trailing dot; ``ANY`` answers every type the name has;
* a CNAME answers a query for any other type and is followed inside its hosted zone
  (up to 8 links; the answer's code is that of the last name), a target outside the
  zone being left to the client's resolver;
* wildcards: ``*.zone`` (written ``*`` or ``\\052``) answers a name below it that does
  not exist, with the name asked as the owner, as RFC 4592 says: not for a name that
  exists with other types, nor for a name that exists only as a parent of others;
* alias records: to another record of the same hosted zone, answered with that
  record's values (its routing applied, its TTL: "Route 53 uses the TTL of the
  record that the alias record points to"); to any other name (a load balancer's
  DNS name, passed lower case, without a ``dualstack.`` prefix or trailing dot),
  answered with the addresses the injected ``address_of(dns_name)`` gives (the
  loopback addresses the emulator serves that load balancer on; IPv4 to A, IPv6 to
  AAAA), TTL 60 s (ELB's fixed TTL: "you can't set the TTL; Route 53 uses the
  default TTL for the resource"); an alias target with no address gets NOERROR with
  no answer and the SOA;
* routing, among the records with the same name and type: failover (the PRIMARY if
  healthy, else the SECONDARY if healthy, else the PRIMARY: "if both are unhealthy,
  Route 53 returns the primary"); weighted (a random record by weight among the
  healthy ones of weight above 0; if none, the healthy ones of weight 0, drawn
  equally; if none is healthy, all of weight above 0 by weight, or all of weight 0
  if that is all there is); multivalue answer (the values of up to eight healthy
  records, or of up to eight records if none is healthy);
* a record's health: a record without a health check and without
  EvaluateTargetHealth is healthy; with a health check, the injected
  ``health_of(health_check_id)`` says, and a check with no result yet (None) is
  healthy, as "Route 53 considers a new health check to be healthy until there's
  enough data"; an alias with EvaluateTargetHealth inherits the health of its
  target: a record group of the zone is healthy when one of its records is (a group
  with no health checks always is), a load balancer as the injected
  ``alias_healthy(dns_name)`` says (None: healthy); with both, both must hold;
* moto's backends are read under :data:`BACKEND_LOCK` once a query, briefly (the
  public zones and their records are copied out); the callbacks and all socket work
  run outside it.

Left out: private hosted zones (answered inside a VPC by the Route 53 Resolver,
which the emulator has no part of: a name only a private zone holds is REFUSED);
latency, geolocation, geoproximity, IP-based and CIDR routing (such records are
answered as if equally weighted, health applied); two public zones of the same name
(the first found answers, where AWS answers with the one the registrar delegates
to); CNAME chasing into other hosted zones; DNSSEC; EDNS Client Subnet; zone
transfers (AXFR, IXFR are REFUSED); query logging; the announced port surviving a
restart.
"""

from __future__ import annotations

import logging
import random
import socket
import socketserver
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

import dns.exception
import dns.flags
import dns.message
import dns.name
import dns.opcode
import dns.rcode
import dns.rdata
import dns.rdataclass
import dns.rdatatype
import dns.rrset

from deployer.emulator.scheduler import BACKEND_LOCK, Scheduler

log = logging.getLogger(__name__)

ADDRESS = "127.0.0.1"
#: The TTL of an alias to an AWS resource such as a load balancer (Route 53 sets it).
ALIAS_RESOURCE_TTL = 60
MAX_CNAME_LINKS = 8
MULTIVALUE_MAX = 8
#: What a UDP answer may take without EDNS (RFC 1035).
UDP_PLAIN_MAX = 512

#: The injected views of the rest of the emulator.
AddressOf = Callable[[str], list[str]]
AliasHealthy = Callable[[str], "bool | None"]
HealthOf = Callable[[str], "bool | None"]


# -- the zones, copied out of moto -------------------------------------------------------------
@dataclass(frozen=True)
class Alias:
    dns_name: dns.name.Name
    evaluate_target_health: bool


@dataclass(frozen=True)
class Record:
    """One of Route 53's resource record sets, as the data plane needs it."""

    name: dns.name.Name
    rdtype: dns.rdatatype.RdataType
    ttl: int
    values: tuple[str, ...]
    set_identifier: str | None = None
    weight: int | None = None
    failover: str | None = None  # PRIMARY or SECONDARY
    multivalue: bool = False
    health_check_id: str | None = None
    alias: Alias | None = None


@dataclass
class Zone:
    name: dns.name.Name
    records: list[Record] = field(default_factory=list)

    def at(self, name: dns.name.Name) -> list[Record]:
        return [r for r in self.records if r.name == name]

    def has_below(self, name: dns.name.Name) -> bool:
        """Whether some record's name is strictly below ``name`` (an empty non-terminal)."""
        return any(r.name != name and r.name.is_subdomain(name) for r in self.records)

    def first(self, rdtype: dns.rdatatype.RdataType) -> Record | None:
        return next((r for r in self.at(self.name) if r.rdtype == rdtype), None)


def _name(text: str) -> dns.name.Name:
    """A Route 53 name (``\\052`` for ``*``, trailing dot optional) as a DNS name."""
    return dns.name.from_text(text.strip(), origin=dns.name.root)


def _record(raw: Any) -> Record | None:
    """moto's RecordSet as a Record; None if its name or type is not one DNS knows."""
    try:
        name = _name(str(raw.name))
        rdtype = dns.rdatatype.from_text(str(raw.type))
    except (dns.exception.DNSException, ValueError):
        return None
    alias = None
    target = raw.alias_target or None
    if target:
        try:
            alias = Alias(
                _name(str(target.get("DNSName", ""))),
                str(target.get("EvaluateTargetHealth", "false")).lower() == "true",
            )
        except dns.exception.DNSException:
            return None
    weight = raw.weight
    return Record(
        name=name,
        rdtype=rdtype,
        ttl=int(raw.ttl) if raw.ttl not in (None, "") else ALIAS_RESOURCE_TTL,
        # ChangeResourceRecordSets stores the values as strings, CreateHostedZone its SOA's
        # as {"Value": ...}
        values=tuple(
            str(v.get("Value", "") if isinstance(v, dict) else v) for v in raw.records or []
        ),
        set_identifier=raw.set_identifier or None,
        weight=int(weight) if weight not in (None, "") else None,
        failover=str(raw.failover).upper() if raw.failover else None,
        multivalue=str(raw.multi_value_answer).lower() == "true",
        health_check_id=raw.health_check_id or None,
        alias=alias,
    )


def read_zones(lock: Any = BACKEND_LOCK) -> list[Zone]:
    """Every public hosted zone of every account, copied out under the lock."""
    from moto.route53.models import route53_backends

    zones: list[Zone] = []
    with lock:
        for _account, per_partition in list(route53_backends.items()):
            for _partition, backend in list(per_partition.items()):
                for fake in list(backend.zones.values()):
                    if fake.private_zone:
                        continue
                    records = [r for r in map(_record, list(fake.rrsets)) if r is not None]
                    zones.append(Zone(_name(str(fake.name)), records))
    return zones


# -- answering ---------------------------------------------------------------------------------
@dataclass
class Answer:
    rcode: dns.rcode.Rcode = dns.rcode.NOERROR
    answer: list[dns.rrset.RRset] = field(default_factory=list)
    authority: list[dns.rrset.RRset] = field(default_factory=list)
    authoritative: bool = True


class Resolver:
    """Answers one question from a copy of the zones, with the injected health views."""

    def __init__(
        self,
        zones: list[Zone],
        address_of: AddressOf,
        alias_healthy: AliasHealthy,
        health_of: HealthOf,
        rng: random.Random | None = None,
    ) -> None:
        self.zones = zones
        self.address_of = address_of
        self.alias_healthy = alias_healthy
        self.health_of = health_of
        self.rng = rng or random.Random()

    def zone_of(self, name: dns.name.Name) -> Zone | None:
        """The most specific zone holding the name (the first found among equals)."""
        best: Zone | None = None
        for zone in self.zones:
            if name.is_subdomain(zone.name) and (
                best is None or len(zone.name.labels) > len(best.name.labels)
            ):
                best = zone
        return best

    def resolve(self, qname: dns.name.Name, qtype: dns.rdatatype.RdataType) -> Answer:
        zone = self.zone_of(qname)
        if zone is None:
            return Answer(dns.rcode.REFUSED, authoritative=False)
        result = Answer()
        name = qname
        answered = False
        for _link in range(MAX_CNAME_LINKS + 1):
            referral = self._delegation(zone, name)
            if referral is not None:
                if result.answer:  # a CNAME into a delegated name: the client goes on
                    return result
                return Answer(authority=[referral], authoritative=False)
            records, exists = self._records_at(zone, name)
            if not exists:
                result.rcode = dns.rcode.NXDOMAIN
                result.authority = self._soa(zone)
                return result
            types = {r.rdtype for r in records}
            asked = sorted(types) if qtype == dns.rdatatype.ANY else [qtype]
            if qtype == dns.rdatatype.ANY or qtype in types:
                found = [rs for t in asked for rs in self._rrsets(zone, name, records, t)]
                result.answer += found
                answered = bool(found)  # an alias target with no address answers nothing
                break
            if dns.rdatatype.CNAME in types:
                cnames = self._rrsets(zone, name, records, dns.rdatatype.CNAME)
                result.answer += cnames
                if not cnames:
                    break
                target = cnames[0][0].target
                if not target.is_subdomain(zone.name) or self.zone_of(target) is not zone:
                    return result  # outside the zone: the client's resolver goes on
                name = target
                continue
            break  # the name exists with other types: no data
        if answered:
            ns = zone.first(dns.rdatatype.NS)
            if ns is not None:
                result.authority = self._rrsets(zone, zone.name, [ns], dns.rdatatype.NS)
        else:
            result.authority = self._soa(zone)
        return result

    # -- names --
    def _delegation(self, zone: Zone, name: dns.name.Name) -> dns.rrset.RRset | None:
        """The NS records of a delegated name between the apex (excluded) and the name."""
        for record in zone.records:
            if (
                record.rdtype == dns.rdatatype.NS
                and record.name != zone.name
                and name.is_subdomain(record.name)
            ):
                rrset = self._rrset(record.name, record.rdtype, record.ttl, record.values)
                return rrset if rrset else None
        return None

    @staticmethod
    def _records_at(zone: Zone, name: dns.name.Name) -> tuple[list[Record], bool]:
        """The records that answer for the name (its own, or a wildcard's), and whether
        the name exists at all."""
        own = zone.at(name)
        if own:
            return own, True
        if zone.has_below(name):
            return [], True  # an empty non-terminal: it exists, with no record
        encloser = name.parent()
        while encloser != zone.name and not zone.at(encloser) and not zone.has_below(encloser):
            encloser = encloser.parent()
        wildcard = zone.at(dns.name.Name((b"*", *encloser.labels)))
        if wildcard:
            return [_renamed(r, name) for r in wildcard], True
        return [], False

    def _soa(self, zone: Zone) -> list[dns.rrset.RRset]:
        soa = zone.first(dns.rdatatype.SOA)
        if soa is None or not soa.values:
            return []
        rrset = self._rrset(zone.name, soa.rdtype, soa.ttl, soa.values[:1])
        if not rrset:
            return []
        rrset.update_ttl(min(soa.ttl, rrset[0].minimum))
        return [rrset]

    # -- records --
    def _rrsets(
        self,
        zone: Zone,
        owner: dns.name.Name,
        records: list[Record],
        rdtype: dns.rdatatype.RdataType,
        depth: int = 0,
    ) -> list[dns.rrset.RRset]:
        """The answer for the records of one type at a name, routing applied."""
        chosen = self._route([r for r in records if r.rdtype == rdtype], zone, depth)
        values: list[str] = []
        ttl: int | None = None
        for record in chosen:
            found, found_ttl = self._values(zone, record, depth)
            values += [v for v in found if v not in values]
            ttl = found_ttl if ttl is None else min(ttl, found_ttl)
        rrset = self._rrset(owner, rdtype, ttl or 0, values)
        return [rrset] if rrset else []

    def _values(self, zone: Zone, record: Record, depth: int) -> tuple[list[str], int]:
        """A record's values and TTL; an alias's are its target's."""
        if record.alias is None:
            return list(record.values), record.ttl
        target = record.alias.dns_name
        if target.is_subdomain(zone.name) and depth < MAX_CNAME_LINKS:
            found, _exists = self._records_at(zone, target)
            if found:
                rrsets = self._rrsets(zone, target, found, record.rdtype, depth + 1)
                if rrsets:
                    return [r.to_text() for r in rrsets[0]], rrsets[0].ttl
                return [], record.ttl
        addresses = self.address_of(resource_name(target))
        family = {dns.rdatatype.A: ".", dns.rdatatype.AAAA: ":"}.get(record.rdtype)
        return [a for a in addresses if family and family in a], ALIAS_RESOURCE_TTL

    def _route(self, records: list[Record], zone: Zone, depth: int) -> list[Record]:
        """The records (of one name and type) that answer, by their routing policy."""
        if len(records) <= 1 or not any(r.set_identifier for r in records):
            return records[:1] if records and records[0].set_identifier else records

        def healthy(record: Record) -> bool:
            return self.healthy(zone, record, depth)

        failover = [r for r in records if r.failover]
        if failover:
            primary = next((r for r in failover if r.failover == "PRIMARY"), None)
            secondary = next((r for r in failover if r.failover == "SECONDARY"), None)
            for record in (primary, secondary):
                if record is not None and healthy(record):
                    return [record]
            return [r for r in (primary, secondary) if r is not None][:1]
        if any(r.multivalue for r in records):
            ok = [r for r in records if healthy(r)] or records
            return self.rng.sample(ok, min(len(ok), MULTIVALUE_MAX))
        weighted = [r for r in records if r.weight is not None] or records
        heavy = [r for r in weighted if (r.weight is None or r.weight > 0)]
        zero = [r for r in weighted if r.weight == 0]
        for pool in ([r for r in heavy if healthy(r)], [r for r in zero if healthy(r)]):
            if pool:
                return [self._draw(pool)]
        return [self._draw(heavy or zero)]

    def _draw(self, pool: list[Record]) -> Record:
        weights = [r.weight if r.weight is not None else 1 for r in pool]
        if not any(weights):
            return self.rng.choice(pool)
        return self.rng.choices(pool, weights=weights)[0]

    def healthy(self, zone: Zone, record: Record, depth: int = 0) -> bool:
        """A record's health as Route 53 sees it when choosing among records."""
        if record.health_check_id is not None and self.health_of(record.health_check_id) is False:
            return False
        alias = record.alias
        if alias is None or not alias.evaluate_target_health:
            return True
        if alias.dns_name.is_subdomain(zone.name):
            if depth >= MAX_CNAME_LINKS:
                return True
            found, _exists = self._records_at(zone, alias.dns_name)
            group = [r for r in found if r.rdtype == record.rdtype]
            # A group is healthy when one of its records is (one with no check always is).
            return not group or any(self.healthy(zone, r, depth + 1) for r in group)
        return self.alias_healthy(resource_name(alias.dns_name)) is not False

    @staticmethod
    def _rrset(
        owner: dns.name.Name, rdtype: dns.rdatatype.RdataType, ttl: int, values: Iterable[str]
    ) -> dns.rrset.RRset:
        rrset = dns.rrset.RRset(owner, dns.rdataclass.IN, rdtype)
        for value in values:
            try:
                rdata = dns.rdata.from_text(
                    dns.rdataclass.IN, rdtype, value, origin=dns.name.root, relativize=False
                )
            except (dns.exception.DNSException, ValueError):
                log.warning(
                    "route53-dns: %s %s: value %r is not one DNS reads", owner, rdtype, value
                )
                continue
            rrset.add(rdata, ttl)
        return rrset


def resource_name(target: dns.name.Name) -> str:
    """An alias target's DNS name as the load balancer has it: lower case, without the
    trailing dot or the ``dualstack.`` the console puts before a load balancer's name."""
    text = target.to_text(omit_final_dot=True).lower()
    return text.removeprefix("dualstack.")


def _renamed(record: Record, name: dns.name.Name) -> Record:
    """A wildcard record answering for the name asked."""
    return Record(
        name, record.rdtype, record.ttl, record.values, record.set_identifier, record.weight,
        record.failover, record.multivalue, record.health_check_id, record.alias,
    )  # fmt: skip


# -- the server --------------------------------------------------------------------------------
def _nothing(_dns_name: str) -> list[str]:
    return []


def _unknown(_key: str) -> bool | None:
    return None


class Route53Dns:
    """The engine: an authoritative DNS server for the public hosted zones."""

    name = "route53-dns"

    def __init__(
        self,
        port: int = 0,
        *,
        address_of: AddressOf = _nothing,
        alias_healthy: AliasHealthy = _unknown,
        health_of: HealthOf = _unknown,
        lock: Any = BACKEND_LOCK,
    ) -> None:
        self.requested_port = port
        self.address_of = address_of
        self.alias_healthy = alias_healthy
        self.health_of = health_of
        self.lock = lock
        self.port: int | None = None
        self.queries = 0
        self._counter = threading.Lock()
        self._servers: list[socketserver.BaseServer] = []
        self._threads: list[threading.Thread] = []

    def start(self, scheduler: Scheduler | None = None) -> None:
        """Listen on UDP and TCP (the same port); the scheduler is not needed, as a
        query is answered when it comes."""
        if self._servers:
            return
        udp, tcp = self._bind()
        self.port = udp.server_address[1]
        for server in (udp, tcp):
            thread = threading.Thread(
                target=server.serve_forever,
                kwargs={"poll_interval": 0.2},
                name=f"route53-dns-{'udp' if server is udp else 'tcp'}",
                daemon=True,
            )
            thread.start()
            self._servers.append(server)
            self._threads.append(thread)

    def _bind(self) -> tuple[_UdpServer, _TcpServer]:
        """UDP on the port (or one the system picks), then TCP on the same; a chosen
        port that TCP has taken already is given back and another tried."""
        for _attempt in range(20):
            udp = _UdpServer((ADDRESS, self.requested_port), _UdpHandler, self)
            try:
                tcp = _TcpServer((ADDRESS, udp.server_address[1]), _TcpHandler, self)
            except OSError:
                udp.server_close()
                if self.requested_port:
                    raise
                continue
            return udp, tcp
        raise OSError("route53-dns: no port free for both UDP and TCP")

    def status(self) -> dict[str, Any]:
        return {"address": ADDRESS, "port": self.port, "queries": self.queries}

    def close(self) -> None:
        for server in self._servers:
            server.shutdown()
            server.server_close()
        for thread in self._threads:
            thread.join(2.0)
        self._servers.clear()
        self._threads.clear()

    def answer(self, wire: bytes, *, tcp: bool) -> bytes | None:
        """The response to one DNS message (None for one that cannot be read at all)."""
        with self._counter:
            self.queries += 1
        try:
            query = dns.message.from_wire(wire)
        except dns.message.ShortHeader:
            return None
        except dns.exception.DNSException:
            return _formerr(wire)
        response = dns.message.make_response(query)
        response.flags &= ~dns.flags.RA
        if query.opcode() != dns.opcode.QUERY or len(query.question) != 1:
            response.set_rcode(
                dns.rcode.NOTIMP if query.opcode() != dns.opcode.QUERY else dns.rcode.FORMERR
            )
            return response.to_wire()
        question = query.question[0]
        if question.rdclass != dns.rdataclass.IN or question.rdtype in (
            dns.rdatatype.AXFR,
            dns.rdatatype.IXFR,
        ):
            response.set_rcode(dns.rcode.REFUSED)
            return response.to_wire()
        limit = 65535 if tcp else max(UDP_PLAIN_MAX, query.payload if query.edns >= 0 else 0)
        try:
            resolver = Resolver(
                read_zones(self.lock), self.address_of, self.alias_healthy, self.health_of
            )
            result = resolver.resolve(question.name, question.rdtype)
            response.set_rcode(result.rcode)
            if result.authoritative:
                response.flags |= dns.flags.AA
            response.answer = result.answer
            response.authority = result.authority
            return response.to_wire(max_size=limit)
        except dns.exception.TooBig:
            response.answer, response.authority = [], []
            response.flags |= dns.flags.TC
            return response.to_wire()
        except Exception:  # a fault of the emulator's, not of the query: SERVFAIL, logged
            log.exception("route53-dns: %s %s", question.name, question.rdtype)
            response.answer, response.authority = [], []
            response.flags &= ~dns.flags.AA
            response.set_rcode(dns.rcode.SERVFAIL)
            return response.to_wire()


def _formerr(wire: bytes) -> bytes | None:
    """FORMERR echoing the query's ID (the header is all that can be trusted)."""
    if len(wire) < 2:
        return None
    message = dns.message.Message(id=int.from_bytes(wire[:2], "big"))
    message.flags = dns.flags.QR
    message.set_rcode(dns.rcode.FORMERR)
    return message.to_wire()


class _UdpServer(socketserver.ThreadingUDPServer):
    daemon_threads = True
    allow_reuse_address = False

    def __init__(self, address: tuple[str, int], handler: type, engine: Route53Dns) -> None:
        self.engine = engine
        super().__init__(address, handler)


class _TcpServer(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, address: tuple[str, int], handler: type, engine: Route53Dns) -> None:
        self.engine = engine
        super().__init__(address, handler)


class _UdpHandler(socketserver.BaseRequestHandler):
    server: _UdpServer

    def handle(self) -> None:
        data, sock = self.request
        try:
            reply = self.server.engine.answer(data, tcp=False)
        except Exception:
            log.exception("route53-dns: a UDP query failed")
            return
        if reply is not None:
            sock.sendto(reply, self.client_address)


class _TcpHandler(socketserver.BaseRequestHandler):
    server: _TcpServer

    def handle(self) -> None:
        conn: socket.socket = self.request
        conn.settimeout(10.0)
        try:
            while True:
                size = _read(conn, 2)
                if size is None:
                    return
                data = _read(conn, int.from_bytes(size, "big"))
                if data is None:
                    return
                reply = self.server.engine.answer(data, tcp=True)
                if reply is None:
                    return
                conn.sendall(len(reply).to_bytes(2, "big") + reply)
        except (OSError, TimeoutError):
            return
        except Exception:
            log.exception("route53-dns: a TCP query failed")


def _read(conn: socket.socket, size: int) -> bytes | None:
    data = b""
    while len(data) < size:
        chunk = conn.recv(size - len(data))
        if not chunk:
            return None
        data += chunk
    return data
