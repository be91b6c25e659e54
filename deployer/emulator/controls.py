"""Emulator controls: endpoints under ``/_deployer/`` that are not AWS APIs.

They change nothing in moto's backends and play no part of AWS: what AWS runs
by itself (load balancer health checks, CodeDeploy's deployment engine, ECS's
scheduler, CloudWatch's alarm evaluation) runs in the emulator's engines
(``engines/``) on its clock, or not at all. The controls report on the emulator
itself, and take a region out of reach for a game day, as an outage would (AWS
has no such API: AWS Fault Injection Service disrupts one's own resources, not a
regional endpoint):

* ``GET /_deployer/runtime``: the local runtime (``runtime.py``): the
  registry's address or why it is down, the hosts file and the names in it, and
  the status of each engine that runs with it. Answers ``{"runtime": {...}}``,
  or ``{"runtime": null}`` from an emulator without one (``--no-runtime``).

* ``GET /_deployer/ca``: the certificate authority the emulator's ACM signs
  certificates with (``patches/acm_private_ca.py``), ``{"certificate": PEM,
  "path": its file}``, for clients to trust its HTTPS listeners.

* ``POST /_deployer/regions/down`` and ``POST /_deployer/regions/up`` with
  ``{"region": "us-east-1"}``: a region goes down for a game day, and comes back;
  ``GET /_deployer/regions``: the regions down. Each answers ``{"regions_down":
  [...]}``. While a region is down:

  - every AWS API request whose SigV4 credential scope (the ``Authorization``
    header, or ``X-Amz-Credential`` of a presigned URL) names the region answers
    HTTP 503 with the error of AWS's "Common Errors" for a temporary failure, in
    the shape of the request's protocol: ``ServiceUnavailable`` in an XML
    ``ErrorResponse`` (query protocol, and REST-XML services such as Route 53),
    EC2's ``Response/Errors``, S3's ``Error``; ``ServiceUnavailableException`` in
    JSON (``__type`` and ``x-amzn-ErrorType``) for the JSON and REST-JSON
    protocols; the message is "Service Unavailable". Global services are signed
    for us-east-1 (IAM, Route 53's API, STS's global endpoint) and go down with
    it, as their control planes live there;
  - its load balancers stop listening (the elb-listeners engine, told through
    :func:`watch_regions`): a connection is refused, on their 127.0.0.1 ports and
    their own addresses; back up, they listen on the same ports again;
  - the emulator's controls and ``/moto-api/`` always answer; Route 53's data plane
    (the route53-dns engine) and its health checkers are global and keep running;
    the engines' work in the region goes on (tasks keep running) with nothing
    reaching it.

  Left out: requests without a SigV4 credential scope (anonymous S3, a request
  signed with SigV2) are served; the protocol is told from the request (a JSON
  ``X-Amz-Target``, a form-encoded ``Action``, the service's name), not from the
  service's model; what AWS's SDKs do about it is theirs (they retry a 503).

* ``GET /_deployer/``: lists the controls.

Any other method or path under the prefix answers HTTP 404; a request body, if
one is sent, must be a JSON object (HTTP 400 otherwise). The controls are served
with the patches (``python -m deployer.emulator.serve`` without
``--no-patches``), through the backend lock like every request
(``scheduler.serialised``). :func:`post` is their client.
"""

from __future__ import annotations

import json
import re
import threading
import uuid
from collections.abc import Callable, Iterable
from typing import Any

PREFIX = "/_deployer/"
MOTO_API = "/moto-api/"

WSGIApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


class ControlError(Exception):
    """A request a control cannot carry out (HTTP 400 or 404)."""

    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.status = status


def runtime_status(_body: dict[str, Any]) -> dict[str, Any]:
    from deployer.emulator import runtime

    return {"runtime": runtime.CURRENT.status() if runtime.CURRENT else None}


def ca_certificate(body: dict[str, Any]) -> dict[str, Any]:
    from deployer.emulator.patches import acm_private_ca

    return acm_private_ca.ca_control(body)


# -- regions taken down ------------------------------------------------------------------------
REGION = re.compile(r"^[a-z]{2}(-[a-z]+)+-\d+$")
#: The regions down now, and who is told when that changes (the elb-listeners engine).
_down: frozenset[str] = frozenset()
_watchers: list[Callable[[frozenset[str]], None]] = []
_regions_mutex = threading.Lock()


def watch_regions(callback: Callable[[frozenset[str]], None]) -> None:
    """Call ``callback`` with the regions down, now and whenever they change."""
    with _regions_mutex:
        _watchers.append(callback)
        callback(_down)


def _set_down(regions: frozenset[str]) -> dict[str, Any]:
    global _down
    with _regions_mutex:
        _down = regions
        for callback in _watchers:
            callback(regions)
    return regions_status({})


def _region(body: dict[str, Any]) -> str:
    region = body.get("region")
    if not isinstance(region, str) or not REGION.match(region):
        raise ControlError(f"region: {region!r} is not a region name such as us-east-1")
    return region


def region_down(body: dict[str, Any]) -> dict[str, Any]:
    return _set_down(_down | {_region(body)})


def region_up(body: dict[str, Any]) -> dict[str, Any]:
    return _set_down(_down - {_region(body)})


def regions_status(_body: dict[str, Any]) -> dict[str, Any]:
    return {"regions_down": sorted(_down)}


CONTROLS: dict[tuple[str, str], tuple[Callable[[dict[str, Any]], dict[str, Any]], str]] = {
    ("GET", "runtime"): (
        runtime_status,
        "the local runtime: the registry (address, or why it is down) and its host names",
    ),
    ("GET", "ca"): (
        ca_certificate,
        "the CA the emulator's ACM signs certificates with (PEM, and its file)",
    ),
    ("GET", "regions"): (regions_status, "the regions taken down"),
    ("POST", "regions/down"): (
        region_down,
        'take a region down ({"region": ...}): its APIs answer 503, its load balancers '
        "refuse connections",
    ),
    ("POST", "regions/up"): (region_up, 'bring a region back up ({"region": ...})'),
}


def names() -> list[str]:
    return [f"{method} {PREFIX}{path}" for method, path in CONTROLS]


def wrap(app: WSGIApp) -> WSGIApp:
    """The emulator's WSGI application with the controls in front of moto."""

    def application(environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        path = str(environ.get("PATH_INFO", ""))
        if not path.startswith(PREFIX):
            if _down and not path.startswith(MOTO_API) and signed_for(environ) in _down:
                return unavailable(environ, start_response)
            return app(environ, start_response)
        method = str(environ.get("REQUEST_METHOD", "GET"))
        name = path[len(PREFIX) :].strip("/")
        status, document = _dispatch(method, name, environ)
        payload = json.dumps(document).encode()
        start_response(
            f"{status} {'OK' if status == 200 else 'Error'}",
            [("Content-Type", "application/json"), ("Content-Length", str(len(payload)))],
        )
        return [payload]

    return application


CREDENTIAL = re.compile(r"Credential=[^/,\s]+/\d{8}/([a-z0-9-]+)/([a-z0-9-]+)/aws4_request")
QUERY_CREDENTIAL = re.compile(r"X-Amz-Credential=[^&/]+(?:/|%2F)\d{8}(?:/|%2F)([a-z0-9-]+)"
                              r"(?:/|%2F)([a-z0-9-]+)", re.IGNORECASE)  # fmt: skip
#: REST-XML services whose errors are an ErrorResponse (S3's have their own shape).
REST_XML = {"route53", "cloudfront"}
MESSAGE = "Service Unavailable"


def _scope(environ: dict[str, Any]) -> tuple[str, str] | None:
    """(region, service) of the request's SigV4 credential scope, if it has one."""
    found = CREDENTIAL.search(
        str(environ.get("HTTP_AUTHORIZATION", ""))
    ) or QUERY_CREDENTIAL.search(str(environ.get("QUERY_STRING", "")))
    return (found.group(1), found.group(2)) if found else None


def signed_for(environ: dict[str, Any]) -> str | None:
    """The region the request is signed for (None without a SigV4 credential scope)."""
    scope = _scope(environ)
    return scope[0] if scope else None


def unavailable(environ: dict[str, Any], start_response: Callable[..., Any]) -> list[bytes]:
    """HTTP 503 as a regional endpoint that is down answers, in the request's protocol."""
    scope = _scope(environ)
    service = scope[1] if scope else ""
    request_id = str(uuid.uuid4())
    kind = str(environ.get("CONTENT_TYPE", ""))
    headers = [("x-amzn-RequestId", request_id)]
    if environ.get("HTTP_X_AMZ_TARGET") or (
        service not in REST_XML | {"s3", "ec2"}
        and "x-www-form-urlencoded" not in kind
        and "Action=" not in str(environ.get("QUERY_STRING", ""))
    ):  # JSON, and REST-JSON
        body = json.dumps({"__type": "ServiceUnavailableException", "message": MESSAGE}).encode()
        headers += [
            ("Content-Type", "application/x-amz-json-1.1"),
            ("x-amzn-ErrorType", "ServiceUnavailableException"),
        ]
    else:
        error = f"<Code>ServiceUnavailable</Code><Message>{MESSAGE}</Message>"
        if service == "s3":
            text = f"<Error>{error}<RequestId>{request_id}</RequestId></Error>"
        elif service == "ec2":
            text = (
                f"<Response><Errors><Error>{error}</Error></Errors>"
                f"<RequestID>{request_id}</RequestID></Response>"
            )
        else:  # the query protocol and REST-XML
            text = (
                f"<ErrorResponse><Error><Type>Receiver</Type>{error}</Error>"
                f"<RequestId>{request_id}</RequestId></ErrorResponse>"
            )
        body = f'<?xml version="1.0" encoding="UTF-8"?>\n{text}'.encode()
        headers.append(("Content-Type", "text/xml"))
    headers.append(("Content-Length", str(len(body))))
    start_response("503 Service Unavailable", headers)
    return [body]


def _dispatch(method: str, name: str, environ: dict[str, Any]) -> tuple[int, dict[str, Any]]:
    if name == "" and method == "GET":
        return 200, {
            "controls": [
                {"method": m, "path": f"{PREFIX}{p}", "description": doc}
                for (m, p), (_handler, doc) in CONTROLS.items()
            ]
        }
    entry = CONTROLS.get((method, name))
    if entry is None:
        return 404, {"error": f"no control {method} {PREFIX}{name}"}
    try:
        length = int(environ.get("CONTENT_LENGTH") or 0)
        raw = environ["wsgi.input"].read(length) if length else b"{}"
        body = json.loads(raw or b"{}")
        if not isinstance(body, dict):
            raise ControlError("the body must be a JSON object")
        return 200, entry[0](body)
    except ControlError as exc:
        return exc.status, {"error": str(exc)}
    except ValueError as exc:
        return 400, {"error": f"invalid JSON: {exc}"}


def post(endpoint: str, name: str, body: dict[str, Any] | None, *, timeout: float = 10.0) -> Any:
    """Call a control of the emulator at ``endpoint`` (client side; GET when ``body`` is None)."""
    import urllib.error
    import urllib.request

    from deployer.errors import EmulatorError

    request = urllib.request.Request(
        f"{endpoint.rstrip('/')}{PREFIX}{name}",
        data=None if body is None else json.dumps(body).encode(),
        method="GET" if body is None else "POST",
        headers={"Content-Type": "application/json"},
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return json.loads(response.read())
    except urllib.error.HTTPError as exc:
        detail = exc.read().decode(errors="replace")
        raise EmulatorError(
            f"emulator control {name} failed (HTTP {exc.code}): {detail}",
            hint="the emulator may predate this control: deployer emulator stop, then retry",
        ) from None
    except (urllib.error.URLError, OSError) as exc:
        raise EmulatorError(f"emulator control {name} failed: {exc}") from None
