"""Service endpoints that answer: on the local target, load balancer URLs become loopback URLs.

The runtime stack's ``service_endpoints`` output is each microservice's production
listener as AWS names it (``http://<load balancer DNS name>[:port]``). On AWS that
URL answers; on the local target the emulator serves every HTTP listener on a
loopback port of its own (``engines/elb_listeners.py``), announced through
``GET /_deployer/runtime``. :func:`localise` puts the loopback URL in place of the
AWS one, path kept, so that ``deployer output`` and the end of ``deployer apply``
print URLs a user can open. ``load_balancer_dns_names`` stay AWS's names.

An HTTPS listener's URL stays ``https://``: the emulator terminates TLS with the
listener's ACM certificate, which names the service's domain, not 127.0.0.1 (``curl
-k``). A listener the emulator does not serve (no runtime: ``--no-runtime``; HTTPS
without an issued certificate) keeps its AWS URL; :func:`localise` says which were
rewritten.
"""

from __future__ import annotations

import copy
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from deployer.aws import Target
from deployer.errors import EmulatorError

#: The output whose URLs are rewritten.
OUTPUT = "service_endpoints"
DEFAULT_PORTS = {"http": 80, "https": 443}


def served_listeners(target: Target) -> dict[tuple[str, int], str]:
    """(load balancer DNS name, listener port) -> the loopback address serving it.

    Empty on AWS, and on a local target whose emulator serves no listeners (or
    cannot be asked)."""
    if not target.is_local or not target.endpoint:
        return {}
    from deployer.emulator import controls

    try:
        runtime = controls.post(target.endpoint, "runtime", None).get("runtime") or {}
    except EmulatorError:
        return {}
    listeners = (runtime.get("elb-listeners") or {}).get("listeners") or {}
    return {
        (str(item["dns_name"]).lower(), int(item["port"])): str(item["address"])
        for item in listeners.values()
        if item.get("dns_name") and item.get("address")
    }


def loopback_url(url: str, listeners: dict[tuple[str, int], str]) -> str | None:
    """The loopback URL serving ``url``, or None when no served listener matches."""
    parts = urlsplit(url)
    if parts.scheme not in DEFAULT_PORTS or not parts.hostname:
        return None
    port = parts.port or DEFAULT_PORTS[parts.scheme]
    address = listeners.get((parts.hostname.lower(), port))
    if address is None:
        return None
    return urlunsplit((parts.scheme, address, parts.path, parts.query, parts.fragment))


def localise(
    outputs: dict[str, Any], listeners: dict[tuple[str, int], str]
) -> tuple[dict[str, Any], list[str]]:
    """Terraform's outputs (``{name: {"value": ...}}``) with ``service_endpoints`` pointing
    at the listeners the emulator serves, and the services whose URL was rewritten."""
    item = outputs.get(OUTPUT)
    if not listeners or not isinstance(item, dict) or not isinstance(item.get("value"), dict):
        return outputs, []
    result = copy.deepcopy(outputs)
    rewritten = []
    for service, url in sorted(item["value"].items()):
        local = loopback_url(str(url), listeners) if isinstance(url, str) else None
        if local is not None:
            result[OUTPUT]["value"][service] = local
            rewritten.append(service)
    return result, rewritten
