"""Emulator controls: endpoints under ``/_deployer/`` that are not AWS APIs.

They change nothing moto answers through the AWS APIs and play no part of AWS:
what AWS runs by itself (load balancer health checks, CodeDeploy's deployment
engine, ECS's scheduler, CloudWatch's alarm evaluation) runs in the emulator's
engines (``engines/``) on its clock, or not at all. The controls report on the
emulator itself:

* ``GET /_deployer/runtime``: the local runtime (``runtime.py``): the
  registry's address or why it is down, the hosts file and the names in it, and
  the status of each engine that runs with it. Answers ``{"runtime": {...}}``,
  or ``{"runtime": null}`` from an emulator without one (``--no-runtime``).

* ``GET /_deployer/``: lists the controls.

Any other method or path under the prefix answers HTTP 404; a request body, if
one is sent, must be a JSON object (HTTP 400 otherwise). The controls are served
with the patches (``python -m deployer.emulator.serve`` without
``--no-patches``), through the backend lock like every request
(``scheduler.serialised``). :func:`post` is their client.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from typing import Any

PREFIX = "/_deployer/"

WSGIApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


class ControlError(Exception):
    """A request a control cannot carry out (HTTP 400 or 404)."""

    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.status = status


def runtime_status(_body: dict[str, Any]) -> dict[str, Any]:
    from deployer.emulator import runtime

    return {"runtime": runtime.CURRENT.status() if runtime.CURRENT else None}


CONTROLS: dict[tuple[str, str], tuple[Callable[[dict[str, Any]], dict[str, Any]], str]] = {
    ("GET", "runtime"): (
        runtime_status,
        "the local runtime: the registry (address, or why it is down) and its host names",
    ),
}


def names() -> list[str]:
    return [f"{method} {PREFIX}{path}" for method, path in CONTROLS]


def wrap(app: WSGIApp) -> WSGIApp:
    """The emulator's WSGI application with the controls in front of moto."""

    def application(environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        path = str(environ.get("PATH_INFO", ""))
        if not path.startswith(PREFIX):
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
