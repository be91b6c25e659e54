"""Application load balancers serve: each HTTP listener answers on a loopback port,
follows its rules to healthy targets and publishes its CloudWatch metrics.

Reproduces, after the Elastic Load Balancing user guide for Application Load
Balancers ("Listener rules", condition and action types, "Health checks for
Application Load Balancer target groups", "Deregistration delay", "CloudWatch
metrics for your Application Load Balancer"):

* every HTTP listener of every load balancer, in every account and region, is
  served on a loopback port of its own for the listener's life (the port is
  chosen when the listener appears and listed by ``deployer emulator status``);
  so is every HTTPS listener whose default certificate ACM holds (requested
  certificates are signed by the emulator's CA, ``patches/acm_private_ca.py``;
  imported ones carry their own):
  TLS 1.2 at the least is terminated there with that certificate, and the request
  goes on to the target in plain HTTP with ``X-Forwarded-Proto: https``;
* each load balancer also has an address of its own in 127.100.0.0/16 (clear of
  the ECR registry's 127.0.0.1 and 127.77.0.N; each emulator process starts at a
  /24 its pid picks, and a load balancer whose address another program already
  listens on moves to the next), where its listeners answer on their
  own ports (80, 443, ...), with the same handling, TLS and metrics: the address
  its DNS name resolves to (:meth:`ElbListeners.address_of`, which the route53-dns
  engine answers with), and :meth:`ElbListeners.endpoint_of` where a name and port
  answer (Route 53's health checks). A port below 1024 needs root: where binding it
  is refused, the load balancer answers on its 127.0.0.1 ports only, has no address
  for DNS, and ``status()`` says why (``own_address_refused``);
* :meth:`ElbListeners.alias_healthy` is a load balancer's health as Route 53 judges
  an alias to it with EvaluateTargetHealth (the Route 53 API reference,
  ``AliasTarget``): "every target group that contains targets must contain at
  least one healthy target", and "a target group that has no registered targets
  is considered unhealthy";
* a region taken down (``POST /_deployer/regions/down``, ``controls.py``): its load
  balancers' listeners stop listening on both addresses, so a connection is
  refused, and its load balancers are unhealthy to Route 53; brought back up, they
  listen again on the same ports. The engine's own work there goes on (health
  checks, metrics), as nothing reaches the load balancers;
* a request is matched against the listener's rules in priority order, lowest
  first, then the default rule: ``path-pattern`` (the path only, case-sensitive),
  ``host-header`` (case-insensitive), ``http-header`` (name and value
  case-insensitive), ``query-string`` (key/value pairs or values,
  case-insensitive), all with ``*`` and ``?`` wildcards, ``http-request-method``
  (exact) and ``source-ip`` (CIDR blocks); a condition holds when one of its
  values matches, a rule when all its conditions hold;
* actions: ``forward`` to one target group, or to several by their weights (a
  group of weight 0 gets nothing), targets taking turns within a group;
  ``fixed-response`` (status, content type, body); ``redirect`` (301 or 302, the
  ``Location`` built from the ``#{protocol}``, ``#{host}``, ``#{port}``,
  ``#{path}`` and ``#{query}`` of the request, the port left out when it is the
  protocol's default);
* only healthy targets get requests (:mod:`.elb_health` runs the checks, and
  nothing else sets a target's health); a group whose registered targets are all
  unhealthy fails open and routes to all of them; when no group of the action
  has a healthy target (all of them still ``initial``, say, as when a rollback
  points a listener back at a group no listener used a moment ago), the load
  balancer fails open too, to every registered target ("if the load balancer
  doesn't have enough healthy targets, it automatically sends traffic to all
  registered targets", the target group health settings guide); draining
  targets get none; with no target the load balancer answers 503, and when the
  target does not answer, 502;
* a change to a listener's default action or rules (ModifyListener, CreateRule,
  ModifyRules, DeleteRule, SetRulePriorities: CodeDeploy moving traffic) applies to
  the next request, not the engine's next round: each request checks, briefly under
  the lock, whether moto's listener still has the rules its route was built from;
* a deregistered target drains for its group's
  ``deregistration_delay.timeout_seconds`` (emulated) and is then gone
  (:mod:`deployer.emulator.patches.elbv2_target_health_checks` reports it);
* once an emulated minute, ``AWS/ApplicationELB`` metrics go to the account's
  CloudWatch: per ``LoadBalancer`` (``app/<name>/<id>``) ``RequestCount``,
  ``HTTPCode_Target_2XX/3XX/4XX/5XX_Count``, ``HTTPCode_ELB_3XX/5XX_Count``,
  ``HTTPCode_ELB_502/503_Count``, ``HTTP_Fixed_Response_Count``,
  ``HTTP_Redirect_Count``, ``TargetResponseTime``; per ``LoadBalancer`` and
  ``TargetGroup`` (``targetgroup/<name>/<id>``) ``RequestCount``, the target
  codes, ``TargetResponseTime``, and ``HealthyHostCount`` and
  ``UnHealthyHostCount`` (every minute, zero included, health checks being
  always on); counts and times only for a minute that had some, as the guide
  says. ``TargetResponseTime`` is the real time the target took.

Left out: the listener's SSL policy beyond its TLS 1.2 floor (ciphers), SNI among
several certificates (the default one is served), mutual TLS, authenticate actions,
stickiness, slow start, least-outstanding-requests, rule transforms, Availability
Zones (metrics have no ``AvailabilityZone`` dimension, and a load balancer has one
address, not one a zone), IPv6 (dualstack) addresses, connection counts and bytes
metrics, draining connections (a draining target just gets no new request), the
target group health settings for DNS failover (a minimum healthy count or share
other than one target), the announced stable port and own address surviving an
emulator restart (an address is kept for the process life, never reused).
"""

from __future__ import annotations

import errno
import http.client
import ipaddress
import itertools
import logging
import math
import os
import random
import re
import ssl
import tempfile
import threading
import time
import urllib.parse
from collections import Counter
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from deployer.emulator.engines.elb_health import UNUSED, HealthChecks, Key, Settings
from deployer.emulator.patches import elbv2_target_health_checks as checks_patch
from deployer.emulator.patches.elbv2_target_health_checks import Health
from deployer.emulator.scheduler import BACKEND_LOCK, Scheduler

log = logging.getLogger(__name__)

#: A round every real second, or every 5 emulated seconds if that comes sooner (health
#: checks are sent at a round, so at most that late).
ROUND_REAL_S = 1.0
ROUND_MAX_S = 5.0
MINUTE_S = 60.0
NAMESPACE = "AWS/ApplicationELB"
HOP_BY_HOP = {
    "connection", "keep-alive", "proxy-authenticate", "proxy-authorization", "te",
    "trailers", "transfer-encoding", "upgrade", "host",
}  # fmt: skip

LOOPBACK = "127.0.0.1"
#: The load balancers' own addresses, one each (a /24 by the pid first): clear of the ECR
#: registry's (127.0.0.1, or 127.77.0.1 to 127.77.0.8, ``runtime.py``).
OWN_NETWORK = ipaddress.ip_network("127.100.0.0/16")

#: (load balancer, target group or None): the dimensions of a metric.
Dimensions = tuple[str, str | None]
ELB_502 = ("RequestCount", "HTTPCode_ELB_5XX_Count", "HTTPCode_ELB_502_Count")
ELB_503 = ("RequestCount", "HTTPCode_ELB_5XX_Count", "HTTPCode_ELB_503_Count")
#: (target group ARN, weight, [(target id, port)]) of a forward action.
Group = tuple[str, int, list[tuple[str, int]]]


# -- requests and rules ----------------------------------------------------------------------
@dataclass(frozen=True)
class Request:
    """What the rules look at in a request."""

    method: str
    path: str  # without the query
    query: str
    host: str  # the Host header without its port
    headers: list[tuple[str, str]]
    source_ip: str

    @classmethod
    def parse(
        cls, method: str, target: str, headers: list[tuple[str, str]], source_ip: str
    ) -> Request:
        path, _, query = target.partition("?")
        host = next((v for k, v in headers if k.lower() == "host"), "")
        host = re.sub(r":\d+$", "", host.strip())
        return cls(method, path or "/", query, host, headers, source_ip)


def _wildcard(pattern: str, *, case: bool) -> re.Pattern[str]:
    """A rule value with ``*`` (any characters) and ``?`` (one character)."""
    body = "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern)
    return re.compile(body, 0 if case else re.IGNORECASE | re.DOTALL)


def _values(condition: Mapping[str, Any], config: str) -> list[Any]:
    return list((condition.get(config) or {}).get("Values") or condition.get("Values") or [])


def condition_holds(condition: Mapping[str, Any], request: Request) -> bool:
    """Whether a rule condition (as CreateRule takes it) holds for the request."""
    kind = condition.get("Field")
    if kind == "path-pattern":
        path = urllib.parse.unquote(request.path)
        return any(
            _wildcard(v, case=True).fullmatch(path) for v in _values(condition, "PathPatternConfig")
        )
    if kind == "host-header":
        values = _values(condition, "HostHeaderConfig")
        return any(_wildcard(v, case=False).fullmatch(request.host) for v in values)
    if kind == "http-header":
        config = condition.get("HttpHeaderConfig") or {}
        name = str(config.get("HttpHeaderName", "")).lower()
        present = [v for k, v in request.headers if k.lower() == name]
        patterns = [_wildcard(v, case=False) for v in config.get("Values") or []]
        return any(p.fullmatch(v) for p in patterns for v in present)
    if kind == "http-request-method":
        return request.method in _values(condition, "HttpRequestMethodConfig")
    if kind == "query-string":
        pairs = urllib.parse.parse_qsl(request.query, keep_blank_values=True)
        for wanted in _values(condition, "QueryStringConfig"):
            key = wanted.get("Key")
            value = _wildcard(str(wanted.get("Value", "")), case=False)
            if any(
                (key is None or _wildcard(key, case=False).fullmatch(k)) and value.fullmatch(v)
                for k, v in pairs
            ):
                return True
        return False
    if kind == "source-ip":
        try:
            address = ipaddress.ip_address(request.source_ip)
        except ValueError:
            return False
        return any(
            address in ipaddress.ip_network(v, strict=False)
            for v in _values(condition, "SourceIpConfig")
        )
    return False


class Forward:
    """A forward action: groups by weight, targets in turn within a group."""

    def __init__(self, groups: list[Group]) -> None:
        self.groups = groups
        self._turns = {arn: itertools.count() for arn, _w, _t in groups}

    def pick(self, health: Mapping[Key, str]) -> tuple[str, tuple[str, int]] | None:
        """(group ARN, target) by the groups' weights among the groups with a routable
        target, then in turn; None if there is none."""
        usable = []
        for arn, weight, targets in self.groups:
            routable = _routable(arn, targets, health)
            if weight > 0 and routable:
                usable.append((arn, weight, routable))
        if not usable:  # no healthy target anywhere: fail open to every registered one
            usable = [
                (arn, w, list(targets)) for arn, w, targets in self.groups if w > 0 and targets
            ]
        if not usable:
            return None
        arn, _weight, targets = random.choices(usable, weights=[w for _a, w, _t in usable])[0]
        return arn, targets[next(self._turns[arn]) % len(targets)]


def _routable(
    arn: str, targets: list[tuple[str, int]], health: Mapping[Key, str]
) -> list[tuple[str, int]]:
    """The healthy targets; all of them when every one is unhealthy (fail open)."""
    states = [health.get((arn, tid, port), "initial") for tid, port in targets]
    healthy = [t for t, s in zip(targets, states, strict=True) if s == "healthy"]
    if not healthy and states and all(s == "unhealthy" for s in states):
        return list(targets)  # the load balancer fails open
    return healthy


@dataclass(frozen=True)
class Fixed:
    status: int
    body: bytes
    content_type: str


@dataclass(frozen=True)
class Redirect:
    config: Mapping[str, Any]

    def location(self, request: Request, listener_port: int) -> str:
        words = {
            "#{protocol}": "http",
            "#{host}": request.host,
            "#{port}": str(listener_port),
            "#{path}": request.path.lstrip("/"),
            "#{query}": request.query,
        }

        def fill(text: str) -> str:
            for word, value in words.items():
                text = text.replace(word, value)
            return text

        protocol = fill(str(self.config.get("Protocol") or "#{protocol}")).lower()
        host = fill(str(self.config.get("Host") or "#{host}"))
        port = fill(str(self.config.get("Port") or "#{port}"))
        path = fill(str(self.config.get("Path") or "/#{path}"))
        query = fill(str(self.config.get("Query") if "Query" in self.config else "#{query}"))
        default = {"http": "80", "https": "443"}.get(protocol)
        netloc = host if port == default else f"{host}:{port}"
        return f"{protocol}://{netloc}{path}" + (f"?{query}" if query else "")

    @property
    def status(self) -> int:
        return 302 if str(self.config.get("StatusCode")) == "HTTP_302" else 301


Action = Forward | Fixed | Redirect


@dataclass
class Rule:
    priority: int
    conditions: list[Mapping[str, Any]]
    action: Action

    def holds(self, request: Request) -> bool:
        return all(condition_holds(c, request) for c in self.conditions)


@dataclass
class Route:
    """What one listener does with a request (replaced whole each round)."""

    rules: list[Rule]
    default: Action | None
    load_balancer: str = ""  # its metric dimension: app/<name>/<id>
    port: int = 80

    def decide(self, request: Request) -> Action | None:
        for rule in self.rules:
            if rule.holds(request):
                return rule.action
        return self.default


# -- metrics -----------------------------------------------------------------------------------
@dataclass
class _Times:
    total: float = 0.0
    low: float = math.inf
    high: float = 0.0
    count: int = 0


@dataclass
class Metrics:
    """Counts and response times of the current minute, by (load balancer, target group
    or None) dimensions; request threads add, the engine takes them once a minute."""

    counts: dict[Dimensions, Counter[str]] = field(default_factory=dict)
    times: dict[Dimensions, _Times] = field(default_factory=dict)
    mutex: threading.Lock = field(default_factory=threading.Lock)

    def add(self, load_balancer: str, group: str | None, *names: str) -> None:
        with self.mutex:
            for key in {(load_balancer, None), (load_balancer, group)}:
                counter = self.counts.setdefault(key, Counter())
                for name in names:
                    counter[name] += 1

    def time(self, load_balancer: str, group: str, seconds: float) -> None:
        with self.mutex:
            for key in ((load_balancer, None), (load_balancer, group)):
                times = self.times.setdefault(key, _Times())
                times.total += seconds
                times.low = min(times.low, seconds)
                times.high = max(times.high, seconds)
                times.count += 1

    def take(self) -> tuple[dict[Dimensions, Counter[str]], dict[Dimensions, _Times]]:
        with self.mutex:
            counts, times = self.counts, self.times
            self.counts, self.times = {}, {}
        return counts, times


def arn_suffix(arn: str) -> str:
    """The metric dimension of a load balancer or target group ARN."""
    return arn.split(":loadbalancer/", 1)[1] if ":loadbalancer/" in arn else arn.rsplit(":", 1)[-1]


# -- the HTTP side -------------------------------------------------------------------------------
#: An HTTPS listener's default certificate from ACM: (certificate and chain, private key), PEM.
Tls = tuple[bytes, bytes]


def _tls_context(tls: Tls) -> ssl.SSLContext:
    """A server context with the certificate, TLS 1.2 at the least (as the stack's
    ELBSecurityPolicy-TLS13-1-2-2021-06); the PEM goes through a private temporary
    folder (``ssl`` loads from files) that is gone once loaded."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    with tempfile.TemporaryDirectory(prefix="elb-tls-") as folder:
        cert, key = Path(folder) / "cert.pem", Path(folder) / "key.pem"
        cert.write_bytes(tls[0])
        key.touch(mode=0o600)
        key.write_bytes(tls[1])
        context.load_cert_chain(cert, key)
    return context


def _certificate(account: str, region: str, arn: str | None) -> Tls | None:
    """Under the lock: an ACM certificate's PEM and key (requested ones are issued with a
    key moto generates; imported ones carry theirs); None when there is none."""
    if not arn:
        return None
    from moto.acm.models import acm_backends

    try:
        bundle = acm_backends[account][region].get_certificate(arn)
    except Exception:  # not found, or not ISSUED: the listener is not served
        return None
    return bytes(bundle.cert), bytes(bundle.key)


class _Listener:
    """One listener's servers: on its port of 127.0.0.1, and on its load balancer's own
    address at the listener's port; both closed while its region is down and opened again
    on the same ports."""

    def __init__(
        self,
        engine: ElbListeners,
        arn: str,
        tls: Tls | None = None,
        own: str | None = None,
        *,
        listen_on: int | None = 0,
    ) -> None:
        """``listen_on``: the listener's port, to open at once; None to stay closed."""
        self.arn = arn
        self.route = Route([], None)
        #: moto's listener the route was built from, and its rules as they were then.
        self.source: Source | None = None
        #: The certificate (PEM) and key an HTTPS listener terminates TLS with, else None.
        self.tls = tls
        self._context = _tls_context(tls) if tls is not None else None
        self._handler = _handler(engine, self)
        #: Its port of 127.0.0.1, chosen when first opened and kept (0: never opened).
        self.port = 0
        #: Its load balancer's own address, and why it could not be served there (None: it is).
        self.own = own
        self.own_refused: str | None = None
        #: Whether it was refused because another program listens there (another emulator).
        self.own_taken = False
        self._servers: list[ThreadingHTTPServer] = []
        if listen_on is not None:
            self.open(listen_on)

    @property
    def address(self) -> str | None:
        return f"{LOOPBACK}:{self.port}" if self.port else None

    @property
    def serving(self) -> bool:
        return bool(self._servers)

    def open(self, listener_port: int) -> None:
        """Listen on 127.0.0.1 (the port it had, if it had one) and on the own address."""
        if self._servers:
            return
        try:
            first = self._bind(LOOPBACK, self.port)
        except OSError as exc:  # another program took the port while the region was down
            log.warning("listener %s: %s:%s taken (%s), another port", self.arn, LOOPBACK,
                        self.port, exc.strerror)  # fmt: skip
            first = self._bind(LOOPBACK, 0)
        self.port = first.server_address[1]
        self._servers = [first]
        if self.own is None:
            return
        try:
            self._servers.append(self._bind(self.own, listener_port))
            self.own_refused, self.own_taken = None, False
        except OSError as exc:  # below 1024 without root, or the port held on 0.0.0.0
            self.own_taken = exc.errno == errno.EADDRINUSE
            self.own_refused = f"{self.own}:{listener_port}: {exc.strerror or exc}"
            log.warning("listener %s: not served on %s", self.arn, self.own_refused)

    def _bind(self, host: str, port: int) -> ThreadingHTTPServer:
        server = ThreadingHTTPServer((host, port), self._handler)
        server.daemon_threads = True
        if self._context is not None:  # the handshake on the request's thread
            server.socket = self._context.wrap_socket(
                server.socket, server_side=True, do_handshake_on_connect=False
            )
        threading.Thread(
            target=server.serve_forever, name=f"listener {self.arn[-12:]}", daemon=True
        ).start()
        return server

    def detach(self) -> list[ThreadingHTTPServer]:
        """Its servers, for :func:`_shut_down`; it no longer has any."""
        servers, self._servers = self._servers, []
        return servers

    def close(self) -> None:
        _shut_down(self.detach())


def _shut_down(servers: list[ThreadingHTTPServer]) -> None:
    """Stop the servers listening, in parallel (each one's loop takes up to half a
    second to notice)."""

    def shut(server: ThreadingHTTPServer) -> None:
        server.shutdown()
        server.server_close()

    threads = [threading.Thread(target=shut, args=(s,), daemon=True) for s in servers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(5.0)


def _handler(engine: ElbListeners, listener: _Listener) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *_args: Any) -> None:
            return  # the emulator's log is not an access log

        def _serve(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            route = engine.current_route(listener)
            lb = route.load_balancer
            request = Request.parse(
                self.command, self.path, list(self.headers.items()), self.client_address[0]
            )
            action = route.decide(request)
            if isinstance(action, Fixed):
                engine.metrics.add(lb, None, "RequestCount", "HTTP_Fixed_Response_Count")
                self._answer(action.status, action.body, action.content_type)
                return
            if isinstance(action, Redirect):
                engine.metrics.add(
                    lb, None, "RequestCount", "HTTP_Redirect_Count", "HTTPCode_ELB_3XX_Count"
                )
                location = action.location(request, route.port)
                self._answer(action.status, _page(f"{action.status} Moved"), location=location)
                return
            picked = action.pick(engine.states) if action is not None else None
            if picked is None:
                engine.metrics.add(lb, None, *ELB_503)
                self._answer(503, _page("503 Service Temporarily Unavailable"))
                return
            group, target = picked
            tg = arn_suffix(group)
            address = engine.resolve(*target)
            if address is None:
                engine.metrics.add(lb, tg, *ELB_502)
                self._answer(502, _page("502 Bad Gateway"))
                return
            host, _, port = address.rpartition(":")
            headers = {k: v for k, v in self.headers.items() if k.lower() not in HOP_BY_HOP}
            headers["Host"] = self.headers.get("Host", "")
            headers["X-Forwarded-For"] = self.client_address[0]
            headers["X-Forwarded-Proto"] = "https" if listener.tls else "http"
            headers["X-Forwarded-Port"] = str(route.port)
            started = time.monotonic()
            try:
                upstream = http.client.HTTPConnection(host, int(port), timeout=60)
                upstream.request(self.command, self.path, body=body or None, headers=headers)
                answer = upstream.getresponse()
                data = answer.read()
                upstream.close()
            except (OSError, http.client.HTTPException):
                engine.metrics.add(lb, tg, *ELB_502)
                self._answer(502, _page("502 Bad Gateway"))
                return
            engine.metrics.time(lb, tg, time.monotonic() - started)
            code = f"HTTPCode_Target_{answer.status // 100}XX_Count"
            engine.metrics.add(lb, tg, "RequestCount", code)
            self.send_response(answer.status, answer.reason)
            for key, value in answer.getheaders():
                if key.lower() not in HOP_BY_HOP and key.lower() != "content-length":
                    self.send_header(key, value)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(data)

        def _answer(
            self, status: int, body: bytes, kind: str = "text/html", location: str | None = None
        ) -> None:
            self.send_response(status)
            self.send_header("Content-Type", kind)
            self.send_header("Content-Length", str(len(body)))
            self.send_header("Server", "awselb/2.0")
            if location is not None:
                self.send_header("Location", location)
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(body)

        do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = do_HEAD = do_OPTIONS = _serve

    return Handler


# -- the engine ----------------------------------------------------------------------------------
@dataclass
class _GroupView:
    """What a round read of one target group."""

    account: str
    region: str
    settings: Settings
    targets: list[tuple[str, int]]
    draining: list[tuple[str, int]]
    load_balancers: set[str]


class ElbListeners:
    """The engine (see the module docstring)."""

    name = "elb-listeners"

    def __init__(self, resolve: Callable[[str, int], str | None], lock: Any = BACKEND_LOCK) -> None:
        #: (target id, port) -> the loopback address serving it (the ecs-tasks engine's).
        self.resolve = resolve
        self.lock = lock
        self._scheduler: Scheduler | None = None
        self.checks = HealthChecks(resolve, self._time_scale)
        self.metrics = Metrics()
        #: (group ARN, target id, port) -> its state for routing (replaced whole each round)
        self.states: dict[Key, str] = {}
        self._listeners: dict[str, _Listener] = {}
        #: listener ARN -> its load balancer's DNS name and listener port
        self._names: dict[str, tuple[str, int]] = {}
        self._groups: dict[str, _GroupView] = {}
        self._minute: float | None = None
        self._closed = False
        #: load balancer DNS name (lower case) -> its own address, kept for the process life
        self._own: dict[str, str] = {}
        self._free = _own_addresses(os.getpid())
        #: The regions taken down (``controls.py``): their listeners do not listen.
        self._down: frozenset[str] = frozenset()
        #: Opening and closing listeners: the engine's round and the region controls.
        self._sockets = threading.Lock()

    def _time_scale(self) -> float:
        return self._scheduler.time_scale if self._scheduler else 1.0

    def _now(self) -> float:
        return self._scheduler.now() if self._scheduler else time.time()

    def start(self, scheduler: Scheduler) -> None:
        self._scheduler = scheduler
        checks_patch.running(True)
        every = min(ROUND_REAL_S * scheduler.time_scale, ROUND_MAX_S)
        scheduler.every(every, self.reconcile, name="elb-listeners")

    def status(self) -> dict[str, Any]:
        states = self.states
        groups = {
            arn: {
                "targets": {
                    **{f"{t}:{p}": states.get((arn, t, p), "initial") for t, p in view.targets},
                    **{f"{t}:{p}": "draining" for t, p in view.draining},
                }
            }
            for arn, view in sorted(self._groups.items())
        }
        return {
            "listeners": {
                arn: {"address": listener.address, "dns_name": self._names[arn][0],
                      "port": self._names[arn][1],
                      "protocol": "HTTPS" if listener.tls else "HTTP",
                      "own_address": _own_endpoint(listener, self._names[arn][1]),
                      "own_address_refused": listener.own_refused,
                      "listening": listener.serving}
                for arn, listener in sorted(self._listeners.items())
            },
            "target_groups": groups,
            "regions_down": sorted(self._down),
        }  # fmt: skip

    # -- what Route 53 sees of the load balancers ----------------------------------------------
    def address_of(self, dns_name: str) -> list[str]:
        """The load balancer's own address (what its DNS name resolves to), [] when it has
        none served: no listener, or its listeners refused there (no root for port 80)."""
        wanted = _dns(dns_name)
        for arn, listener in list(self._listeners.items()):
            name = self._names.get(arn)
            if name and _dns(name[0]) == wanted and listener.own and not listener.own_refused:
                return [listener.own]
        return []

    def endpoint_of(self, dns_name: str, port: int) -> tuple[str, int] | None:
        """Where the load balancer's listener on ``port`` answers: its own address and that
        port, else its port of 127.0.0.1; None without such a listener (or one never
        opened, its region down since it appeared)."""
        wanted = _dns(dns_name)
        for arn, listener in list(self._listeners.items()):
            name = self._names.get(arn)
            if name is None or name[1] != port or _dns(name[0]) != wanted:
                continue
            if listener.own and not listener.own_refused:
                return listener.own, port
            return (LOOPBACK, listener.port) if listener.port else None
        return None

    def alias_healthy(self, dns_name: str) -> bool | None:
        """The load balancer's health as Route 53 evaluates an alias to it with
        EvaluateTargetHealth: every target group of it that has targets must have a healthy
        one; a group with no registered target is unhealthy, so one whose groups have none
        is unhealthy; one with no target group at all (fixed responses, redirects) is
        healthy. A load balancer of a region that is down is unhealthy. None: no such load
        balancer."""
        wanted = _dns(dns_name)
        arns = {arn for arn, (name, _port) in list(self._names.items()) if _dns(name) == wanted}
        if not arns:
            return None
        if any(self._where(arn)[1] in self._down for arn in arns):
            return False
        balancers = {arn.replace(":listener/", ":loadbalancer/").rsplit("/", 1)[0] for arn in arns}
        states = self.states
        groups = [
            [states.get((arn, t, p)) for t, p in view.targets]
            for arn, view in list(self._groups.items())
            if view.load_balancers & balancers
        ]
        if not groups:
            return True
        with_targets = [found for found in groups if found]
        if not with_targets:
            return False
        return all("healthy" in found for found in with_targets)

    # -- regions taken down ----------------------------------------------------------------
    def set_regions_down(self, regions: frozenset[str]) -> None:
        """The regions down now (``controls.py``): their listeners stop listening, at once;
        those of a region back up listen again on the same ports."""
        with self._sockets:
            self._down = regions
            closing: list[ThreadingHTTPServer] = []
            for arn, listener in list(self._listeners.items()):
                down = self._where(arn)[1] in regions
                if down and listener.serving:
                    closing += listener.detach()
                elif not down and not listener.serving and arn in self._names:
                    listener.open(self._names[arn][1])
            _shut_down(closing)

    def current_route(self, listener: _Listener) -> Route:
        """The listener's route as its rules are now: a change (ModifyListener, a rule
        created, modified, deleted or reprioritised: CodeDeploy moving traffic) applies to
        the next request, as on AWS, not at the engine's next round."""
        source = listener.source
        if source is None:
            return listener.route
        with self.lock:
            now = signature(source.listener)
            if not same(now, source.signature):
                listener.route = _route(
                    source.backend, source.listener, listener.route.load_balancer
                )
                listener.source = Source(source.backend, source.listener, now)
            return listener.route

    def close(self) -> None:
        if self._scheduler is not None and not self._closed:
            checks_patch.running(False)
        self._closed = True
        self.checks.close()
        with self._sockets:
            _shut_down([s for listener in self._listeners.values() for s in listener.detach()])
            self._listeners.clear()

    def reconcile(self) -> None:
        """One round: read the listeners and target groups (briefly, under the lock),
        send the due health checks (on the pool), give each listener its route, and
        once an emulated minute publish the metrics."""
        if self._closed:
            return
        now = self._now()
        routes, groups = self._read(now)
        used = {arn: (v.settings, v.targets) for arn, v in groups.items() if v.load_balancers}
        self.checks.update(used, now)
        health = self.checks.health()
        states: dict[Key, str] = {}
        for arn, view in groups.items():
            for target_id, port in view.targets:
                key = (arn, target_id, port)
                found = health.get(key) if view.load_balancers else UNUSED
                states[key] = found.state if found else "initial"
        self.states, self._groups = states, groups
        with self._sockets:
            self._serve(routes)
        minute = math.floor(now / MINUTE_S) * MINUTE_S
        if self._minute is None:
            self._minute = minute
        elif minute > self._minute:
            self._publish(self._minute, groups, states)
            self._minute = minute

    def _serve(self, routes: Mapping[str, tuple[Route, str, int, Tls | None, Source]]) -> None:
        """Under ``_sockets``: a listener for each route (listening unless its region is
        down), none for a listener that is gone."""
        for arn in [a for a in self._listeners if a not in routes]:
            self._listeners.pop(arn).close()
            self._names.pop(arn, None)
        for arn, (route, dns_name, port, tls, source) in routes.items():
            listener = self._listeners.get(arn)
            if listener is not None and listener.tls != tls:  # a new certificate
                self._listeners.pop(arn).close()
                listener = None
            down = self._where(arn)[1] in self._down
            if listener is None:
                own = self._own_address(dns_name)
                listener = _Listener(self, arn, tls, own, listen_on=None if down else port)
                self._listeners[arn] = listener
            listener.route, listener.source = route, source
            self._names[arn] = (dns_name, port)
            self._move_if_taken(listener, dns_name, port)

    def _move_if_taken(self, listener: _Listener, dns_name: str, port: int) -> None:
        """A listener refused at its own address because another program (another
        emulator) listens there: its load balancer gets the next address, if none of its
        other listeners is served at the first one (a few tries)."""
        name = _dns(dns_name)
        for _attempt in range(8):
            if not listener.own_taken or any(
                other is not listener and other.own == listener.own and other.serving
                for other in self._listeners.values()
            ):
                return
            self._own.pop(name, None)
            listener.close()
            listener.own = self._own_address(dns_name)
            listener.open(port)

    def _own_address(self, dns_name: str) -> str | None:
        """The load balancer's own address, the next free one the first time (None once
        the block is used up)."""
        name = _dns(dns_name)
        if name not in self._own:
            address = next(self._free, None)
            if address is None:
                return None
            self._own[name] = str(address)
        return self._own[name]

    def _read(
        self, now: float
    ) -> tuple[dict[str, tuple[Route, str, int, Tls | None, Source]], dict[str, _GroupView]]:
        """Under the lock: the routes of the HTTP listeners and every target group; each
        group gets the engine's health record, and its drains their end."""
        from moto.elbv2.models import elbv2_backends

        routes: dict[str, tuple[Route, str, int, Tls | None, Source]] = {}
        groups: dict[str, _GroupView] = {}
        health = self.checks.health()
        with self.lock:
            for account in list(elbv2_backends.keys()):
                for region, backend in list(elbv2_backends[account].items()):
                    users: dict[str, set[str]] = {}
                    for balancer in list(backend.load_balancers.values()):
                        for arn, fake in list(balancer.listeners.items()):
                            for rule in list(fake.rules.values()):
                                for action in rule.actions:
                                    for tg in _group_arns(action):
                                        users.setdefault(tg, set()).add(balancer.arn)
                            protocol = str(fake.protocol).upper()
                            tls = None
                            if protocol == "HTTPS":
                                tls = _certificate(account, region, fake.certificate)
                                if tls is None:
                                    continue
                            elif protocol != "HTTP":
                                continue
                            route = _route(backend, fake, arn_suffix(balancer.arn))
                            source = Source(backend, fake, signature(fake))
                            routes[arn] = (route, balancer.dns_name, int(fake.port), tls, source)
                    for arn, group in list(backend.target_groups.items()):
                        groups[arn] = self._group(account, region, group, users, health, now)
        return routes, groups

    def _group(
        self,
        account: str,
        region: str,
        group: Any,
        users: dict[str, set[str]],
        health: Mapping[Key, Health],
        now: float,
    ) -> _GroupView:
        arn = group.arn
        targets = [(str(t["Id"]), int(t.get("Port") or group.port)) for t in group.targets.values()]
        used = users.get(arn, set())
        recorded = {
            tid: (health.get((arn, tid, port)) if used else UNUSED) for tid, port in targets
        }
        checks_patch.record(group, {k: v for k, v in recorded.items() if v is not None})
        delay = float(group.attributes.get("deregistration_delay.timeout_seconds", 300))
        drains = checks_patch.drains(group)
        for target_id, drain in list(drains.items()):
            if drain.until is None:
                drain.until = now + delay
            if drain.until <= now:
                del drains[target_id]
        return _GroupView(
            account=account,
            region=region,
            settings=Settings.of(group),
            targets=targets,
            draining=[(tid, int(d.target.get("Port") or group.port)) for tid, d in drains.items()],
            load_balancers=used,
        )

    def _publish(
        self, minute: float, groups: Mapping[str, _GroupView], states: Mapping[Key, str]
    ) -> None:
        """The minute's datapoints, under the lock, into each account's CloudWatch."""
        import datetime

        from moto.cloudwatch.models import cloudwatch_backends

        stamp = datetime.datetime.fromtimestamp(minute, datetime.UTC).replace(tzinfo=None)
        counts, times = self.metrics.take()
        where: dict[str, tuple[str, str]] = {}
        data: dict[tuple[str, str], list[dict[str, Any]]] = {}

        def put(lb: str, tg: str | None, name: str, **value: Any) -> None:
            dimensions = [{"Name": "LoadBalancer", "Value": lb}]
            if tg is not None:
                dimensions.append({"Name": "TargetGroup", "Value": tg})
            datum = {"MetricName": name, "Dimensions": dimensions, "Timestamp": stamp, **value}
            if lb in where:
                data.setdefault(where[lb], []).append(datum)

        for arn, view in groups.items():
            for balancer in view.load_balancers:
                lb, tg = arn_suffix(balancer), arn_suffix(arn)
                where[lb] = (view.account, view.region)
                found = [states.get((arn, t, p)) for t, p in view.targets]
                put(lb, tg, "HealthyHostCount", Value=found.count("healthy"), Unit="Count")
                put(lb, tg, "UnHealthyHostCount", Value=found.count("unhealthy"), Unit="Count")
        for listener in self._listeners.values():
            lb = listener.route.load_balancer
            where.setdefault(lb, self._where(listener.arn))
        for (lb, per_group), counter in counts.items():
            for name, count in sorted(counter.items()):
                if count:
                    put(lb, per_group, name, Value=count, Unit="Count")
        for (lb, per_group), spent in times.items():
            statistics = {"Sum": spent.total, "Minimum": spent.low, "Maximum": spent.high,
                          "SampleCount": spent.count}  # fmt: skip
            put(lb, per_group, "TargetResponseTime", StatisticValues=statistics, Unit="Seconds")
        with self.lock:
            for (account, region), metric_data in data.items():
                cloudwatch_backends[account][region].put_metric_data(NAMESPACE, metric_data)

    @staticmethod
    def _where(listener_arn: str) -> tuple[str, str]:
        """(account, region) of an ARN."""
        parts = listener_arn.split(":")
        return parts[4], parts[3]


def _dns(name: str) -> str:
    """A DNS name as the load balancer has it: lower case, no trailing dot, no
    ``dualstack.`` prefix."""
    name = name.lower().rstrip(".")
    return name.removeprefix("dualstack.")


def _own_addresses(pid: int) -> Iterator[str]:
    """The own addresses an emulator process hands out, in turn: the /24 of
    :data:`OWN_NETWORK` its pid picks first (so that two emulators seldom try the same
    address), then the next ones, x.x.x.1 to x.x.x.254 of each."""
    base = int(OWN_NETWORK.network_address)
    for step in range(256):
        third = (pid + step) % 256
        for last in range(1, 255):
            yield str(ipaddress.IPv4Address(base + third * 256 + last))


def _own_endpoint(listener: _Listener, port: int) -> str | None:
    return f"{listener.own}:{port}" if listener.own and not listener.own_refused else None


def _page(title: str) -> bytes:
    """ALB's own error page."""
    return f"<html><body><h1>{title}</h1></body></html>".encode()


def _group_arns(action: Any) -> list[str]:
    data = dict(getattr(action, "data", {}) or {})
    if data.get("Type") != "forward":
        return []
    weighted = (data.get("ForwardConfig") or {}).get("TargetGroups") or []
    arns = [str(e.get("TargetGroupArn")) for e in weighted]
    return arns or ([str(data["TargetGroupArn"])] if data.get("TargetGroupArn") else [])


def _action(backend: Any, actions: list[Any]) -> Action | None:
    """The terminal action of a rule (forward, fixed-response or redirect)."""
    ordered = sorted(
        (dict(getattr(a, "data", {}) or {}) for a in actions or []),
        key=lambda d: int(d.get("Order") or 0),
    )
    for data in reversed(ordered):
        kind = data.get("Type")
        if kind == "fixed-response":
            config = dict(data.get("FixedResponseConfig") or {})
            return Fixed(
                int(config.get("StatusCode", 200)),
                str(config.get("MessageBody", "")).encode(),
                str(config.get("ContentType") or "text/plain"),
            )
        if kind == "redirect":
            return Redirect(dict(data.get("RedirectConfig") or {}))
        if kind != "forward":
            continue
        weighted = (data.get("ForwardConfig") or {}).get("TargetGroups") or []
        if not weighted and data.get("TargetGroupArn"):
            weighted = [{"TargetGroupArn": data["TargetGroupArn"], "Weight": 1}]
        groups: list[Group] = []
        for entry in weighted:
            arn = str(entry.get("TargetGroupArn"))
            group = backend.target_groups.get(arn)
            targets = (
                [(str(t["Id"]), int(t.get("Port") or group.port)) for t in group.targets.values()]
                if group is not None
                else []
            )
            groups.append((arn, int(entry.get("Weight", 1)), targets))
        return Forward(groups)
    return None


@dataclass(frozen=True)
class Source:
    """moto's listener a route was built from, with its backend and rules' signature."""

    backend: Any
    listener: Any
    signature: tuple[tuple[Any, Any, Any, Any], ...]


def signature(listener: Any) -> tuple[tuple[Any, Any, Any, Any], ...]:
    """Under the lock: the listener's rules as objects (moto replaces a rule's actions and
    conditions lists when they change, and the rules dict when rules come and go)."""
    return tuple(
        (rule, rule.actions, rule.conditions, str(rule.priority))
        for rule in list(listener.rules.values())
    )


def same(
    a: tuple[tuple[Any, Any, Any, Any], ...], b: tuple[tuple[Any, Any, Any, Any], ...]
) -> bool:
    """The same rules, by identity (and priority, by value)."""
    if len(a) != len(b):
        return False
    return all(
        x[0] is y[0] and x[1] is y[1] and x[2] is y[2] and x[3] == y[3]
        for x, y in zip(a, b, strict=True)
    )


def _route(backend: Any, listener: Any, load_balancer: str) -> Route:
    """A listener's rules, in priority order, and its default action, as a Route."""
    rules: list[Rule] = []
    default: Action | None = None
    for rule in list(listener.rules.values()):
        action = _action(backend, rule.actions)
        if getattr(rule, "is_default", False) or str(rule.priority) == "default":
            default = action
        elif action is not None:
            rules.append(Rule(int(rule.priority), list(rule.conditions or []), action))
    rules.sort(key=lambda r: r.priority)
    return Route(rules, default, load_balancer, int(listener.port))
