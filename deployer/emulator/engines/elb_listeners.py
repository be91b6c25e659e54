"""Application load balancers serve: each HTTP listener answers on a loopback port.

Reproduces, after the Elastic Load Balancing user guide for Application Load
Balancers (listeners, forward actions, weighted target groups):

* every HTTP listener of every load balancer, in every account and region, is
  served on a loopback port of its own for the listener's life (the port is
  chosen when the listener appears and listed by ``deployer emulator status``);
* a request follows the listener's default action: ``forward`` to one target
  group, or to several by their weights (a group of weight 0 gets nothing);
  within a group, targets take turns (round robin);
* a target is the address ECS registered (a task's private IP and container
  port); the engine reaches it through the loopback port the ecs-tasks engine
  published for that task's container;
* with no registered target the load balancer answers 503, and when the target
  does not answer, 502, as ALB does; ``fixed-response`` actions answer their
  status, content type and body.

Left out (issue 11's next slices): listener rules (paths, hosts, priorities),
HTTPS listeners (TLS termination), redirects, health checks (every registered
target counts as healthy), fail-open, deregistration delay, stickiness, the
ApplicationELB metrics, the announced stable port surviving an emulator restart.
"""

from __future__ import annotations

import http.client
import itertools
import logging
import random
import threading
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from deployer.emulator.scheduler import BACKEND_LOCK, Scheduler

log = logging.getLogger(__name__)

ROUND_S = 1.0
HOP_BY_HOP = {
    "connection", "keep-alive", "proxy-authenticate", "proxy-authorization", "te",
    "trailers", "transfer-encoding", "upgrade", "host",
}  # fmt: skip

#: (target group ARN, weight, [(target id, port)]) of a forward action.
Group = tuple[str, int, list[tuple[str, int]]]


class Route:
    """What one listener does with a request (replaced whole each round)."""

    def __init__(self, groups: list[Group], fixed: dict[str, Any] | None = None) -> None:
        self.groups = groups
        self.fixed = fixed
        self._turns = {arn: itertools.count() for arn, _w, _t in groups}

    def pick(self) -> tuple[str, int] | None:
        """A target by the groups' weights, then in turn within the group; None if none."""
        usable = [(arn, w, targets) for arn, w, targets in self.groups if w > 0 and targets]
        if not usable:
            return None
        arn, _weight, targets = random.choices(usable, weights=[w for _a, w, _t in usable])[0]
        return targets[next(self._turns[arn]) % len(targets)]


class _Listener:
    def __init__(self, engine: ElbListeners, arn: str) -> None:
        self.arn = arn
        self.route = Route([])
        handler = _handler(engine, self)
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.server.daemon_threads = True
        self.address = f"127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(
            target=self.server.serve_forever, name=f"listener {arn[-12:]}", daemon=True
        )
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def _handler(engine: ElbListeners, listener: _Listener) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *_args: Any) -> None:
            return  # the emulator's log is not an access log

        def _serve(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            route = listener.route
            if route.fixed is not None:
                fixed = route.fixed
                self._answer(
                    int(fixed.get("StatusCode", 200)),
                    str(fixed.get("MessageBody", "")).encode(),
                    str(fixed.get("ContentType", "text/plain")),
                )
                return
            target = route.pick()
            if target is None:
                self._answer(
                    503, b"<html><body><h1>503 Service Temporarily Unavailable</h1></body></html>"
                )
                return
            address = engine.resolve(*target)
            if address is None:
                self._answer(502, _page("502 Bad Gateway"))
                return
            host, _, port = address.rpartition(":")
            headers = {k: v for k, v in self.headers.items() if k.lower() not in HOP_BY_HOP}
            headers["X-Forwarded-For"] = self.client_address[0]
            headers["X-Forwarded-Proto"] = "http"
            try:
                upstream = http.client.HTTPConnection(host, int(port), timeout=60)
                upstream.request(self.command, self.path, body=body or None, headers=headers)
                answer = upstream.getresponse()
                data = answer.read()
                upstream.close()
            except OSError:
                self._answer(502, _page("502 Bad Gateway"))
                return
            self.send_response(answer.status, answer.reason)
            for key, value in answer.getheaders():
                if key.lower() not in HOP_BY_HOP and key.lower() != "content-length":
                    self.send_header(key, value)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(data)

        def _answer(self, status: int, body: bytes, kind: str = "text/html") -> None:
            self.send_response(status)
            self.send_header("Content-Type", kind)
            self.send_header("Content-Length", str(len(body)))
            self.send_header("Server", "awselb/2.0")
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(body)

        do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = do_HEAD = do_OPTIONS = _serve

    return Handler


class ElbListeners:
    """The engine (see the module docstring)."""

    name = "elb-listeners"

    def __init__(self, resolve: Callable[[str, int], str | None], lock: Any = BACKEND_LOCK) -> None:
        #: (target id, port) -> the loopback address serving it (the ecs-tasks engine's).
        self.resolve = resolve
        self.lock = lock
        self._listeners: dict[str, _Listener] = {}
        #: listener ARN -> its load balancer's DNS name and listener port
        self._names: dict[str, tuple[str, int]] = {}
        self._closed = False

    def start(self, scheduler: Scheduler) -> None:
        scheduler.every(ROUND_S * scheduler.time_scale, self.reconcile, name="elb-listeners")

    def status(self) -> dict[str, Any]:
        return {
            "listeners": {
                arn: {"address": listener.address, "dns_name": self._names[arn][0],
                      "port": self._names[arn][1]}
                for arn, listener in sorted(self._listeners.items())
            }
        }  # fmt: skip

    def close(self) -> None:
        self._closed = True
        for listener in list(self._listeners.values()):
            listener.close()
        self._listeners.clear()

    def reconcile(self) -> None:
        """Open a port for each new HTTP listener, close those of deleted ones, and give
        each its current route (a few dictionary reads under the lock; no I/O there)."""
        if self._closed:
            return
        from moto.elbv2.models import elbv2_backends

        routes: dict[str, tuple[Route, str, int]] = {}
        with self.lock:
            for account in list(elbv2_backends.keys()):
                for _region, backend in list(elbv2_backends[account].items()):
                    for balancer in list(backend.load_balancers.values()):
                        for arn, fake in list(balancer.listeners.items()):
                            if str(fake.protocol).upper() != "HTTP":
                                continue
                            route = _route(backend, fake.default_actions)
                            routes[arn] = (route, balancer.dns_name, int(fake.port))
        for arn in [a for a in self._listeners if a not in routes]:
            self._listeners.pop(arn).close()
            self._names.pop(arn, None)
        for arn, (route, dns_name, port) in routes.items():
            listener = self._listeners.get(arn)
            if listener is None:
                listener = self._listeners[arn] = _Listener(self, arn)
            listener.route = route
            self._names[arn] = (dns_name, port)


def _page(title: str) -> bytes:
    """ALB's own error page."""
    return f"<html><body><h1>{title}</h1></body></html>".encode()


def _route(backend: Any, actions: list[Any]) -> Route:
    """A listener's default action as a Route (forward or fixed-response)."""
    for action in actions or []:
        data = dict(getattr(action, "data", {}) or {})
        kind = data.get("Type")
        if kind == "fixed-response":
            return Route([], fixed=dict(data.get("FixedResponseConfig") or {}))
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
        return Route(groups)
    return Route([])
