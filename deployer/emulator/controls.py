"""Drill controls: emulator-only endpoints under ``/_deployer/``.

These are not fidelity patches. They change nothing moto answers through the
AWS APIs; they let a caller play the parts of AWS the emulator does not run,
which a rollback drill (``deployer drill rollback``) needs:

* ``POST /_deployer/elbv2/target-health``: the load balancer's health checks.
  moto reports every registered IP target ``healthy``; a drill needs the new
  version's targets to fail. Body::

      {"target_group_arn": "arn:aws:elasticloadbalancing:...",
       "state": "unhealthy",                      # null: back to what moto reports
       "reason": "Target.ResponseCodeMismatch",   # optional
       "description": "Health checks failed ...", # optional
       "target_ids": ["10.0.1.5"]}                # optional: default every target

  DescribeTargetHealth then reports those targets with that state while they
  stay registered. Answers ``{"target_group_arn": ..., "targets": {id: state}}``.

* ``POST /_deployer/codedeploy/deployment-status``: CodeDeploy's deployment
  engine finishing a deployment (for example the rollback deployment once
  traffic is back on the original target group, or a release that succeeded).
  Body ``{"account_id": "...", "region": "...", "deployment_id": "d-...",
  "status": "Succeeded"}`` (any DeploymentStatus; a finished status sets
  ``completeTime``). Answers ``{"deployment_id": ..., "status": ...}``.

* ``GET /_deployer/runtime``: the local runtime (``runtime.py``): the
  registry's address or why it is down, the hosts file and the names in it.
  Answers ``{"runtime": {...}}``, ``{"runtime": null}`` without one.

* ``GET /_deployer/``: lists the controls.

On AWS there is nothing to call instead: health checks and the deployment
engine run by themselves. The controls are served with the patches
(``python -m deployer.emulator.serve`` without ``--no-patches``). The one change
to moto's classes they need, target groups reporting the health a control set,
is the patch :mod:`deployer.emulator.patches.elbv2_target_health_control`, so
that it is applied and listed like every other patch; without it (an emulator
started with ``--only-patches`` that leaves it out) the target health control
answers HTTP 501.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from typing import Any

from deploy_guard import statuses

from deployer.emulator.patches import elbv2_target_health_control as health_hook

PREFIX = "/_deployer/"

WSGIApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]

_HEALTH_STATES = ("initial", "healthy", "unhealthy", "unused", "draining", "unavailable")


class ControlError(Exception):
    """A request a control cannot carry out (HTTP 400, 404 or 501)."""

    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.status = status


def target_health(body: dict[str, Any]) -> dict[str, Any]:
    from moto.elbv2.models import elbv2_backends

    if not health_hook.is_applied():
        raise ControlError(
            f"the emulator did not apply {health_hook.__name__}, "
            "which reports the health this control sets",
            501,
        )
    arn = _required(body, "target_group_arn")
    parts = arn.split(":")
    if len(parts) < 6 or not parts[5].startswith("targetgroup/"):
        raise ControlError(f"not a target group ARN: {arn}")
    region, account = parts[3], parts[4]
    group = elbv2_backends[account][region].target_groups.get(arn)
    if group is None:
        raise ControlError(f"target group {arn} not found", 404)
    state = body.get("state")
    if state is not None and state not in _HEALTH_STATES:
        raise ControlError(f"state must be one of {', '.join(_HEALTH_STATES)} or null")
    ids = body.get("target_ids") or list(group.targets)
    overrides = health_hook.overrides(group)
    for target_id in ids:
        if state is None:
            overrides.pop(target_id, None)
        else:
            overrides[target_id] = health_hook.HealthOverride(
                state, body.get("reason"), body.get("description")
            )
    return {
        "target_group_arn": arn,
        "targets": {t: overrides[t].state if t in overrides else None for t in ids},
    }


def deployment_status(body: dict[str, Any]) -> dict[str, Any]:
    from moto.codedeploy.models import codedeploy_backends
    from moto.core.utils import utcnow

    account = _required(body, "account_id")
    region = _required(body, "region")
    deployment_id = _required(body, "deployment_id")
    status = _required(body, "status")
    if status not in statuses.ALL:
        raise ControlError(f"status must be one of {', '.join(statuses.ALL)}")
    deployment = codedeploy_backends[account][region].deployments.get(deployment_id)
    if deployment is None:
        raise ControlError(f"deployment {deployment_id} not found in {account}/{region}", 404)
    deployment.status = status
    if status in statuses.FINISHED:
        deployment.complete_time = utcnow()
    return {"deployment_id": deployment_id, "status": status}


def runtime_status(_body: dict[str, Any]) -> dict[str, Any]:
    from deployer.emulator import runtime

    return {"runtime": runtime.CURRENT.status() if runtime.CURRENT else None}


CONTROLS: dict[tuple[str, str], tuple[Callable[[dict[str, Any]], dict[str, Any]], str]] = {
    ("POST", "elbv2/target-health"): (
        target_health,
        "set (or with state null, clear) the health DescribeTargetHealth reports for targets",
    ),
    ("POST", "codedeploy/deployment-status"): (
        deployment_status,
        "set a deployment's status, as CodeDeploy's deployment engine would",
    ),
    ("GET", "runtime"): (
        runtime_status,
        "the local runtime: the registry (address, or why it is down) and its host names",
    ),
}


def names() -> list[str]:
    return [f"{method} {PREFIX}{path}" for method, path in CONTROLS]


def _required(body: dict[str, Any], key: str) -> str:
    value = body.get(key)
    if not isinstance(value, str) or not value:
        raise ControlError(f"{key} is required")
    return value


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
            hint="the emulator may predate the drill controls: deployer emulator stop, then retry",
        ) from None
    except (urllib.error.URLError, OSError) as exc:
        raise EmulatorError(f"emulator control {name} failed: {exc}") from None
