"""Where the smoke tests find the services.

A service whose URL is given (API_SERVICE_URL, AUTH_SERVICE_URL,
NOTIFICATION_SERVICE_URL) is tested there. Any other is started here, from
this monorepo's source, on a free loopback port for the session: the pipeline's
Test stage runs before anything is deployed, so it tests the services as built,
together; the project's own test suite does the same.
"""

from __future__ import annotations

import importlib.util
import os
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

SERVICES_DIR = Path(__file__).resolve().parents[2] / "services"
SERVICES = ("api-service", "auth-service", "notification-service")


def _load(service: str) -> Any:
    module_name = service.replace("-", "_")
    path = SERVICES_DIR / service / f"{module_name}.py"
    spec = importlib.util.spec_from_file_location(f"smoke_{module_name}", path)
    assert spec is not None and spec.loader is not None, f"cannot load {path}"
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="session", autouse=True)
def service_urls() -> Iterator[dict[str, str]]:
    servers = []
    urls: dict[str, str] = {}
    started: dict[str, str] = {}
    for service in SERVICES:
        variable = service.upper().replace("-", "_") + "_URL"
        if os.environ.get(variable):
            urls[service] = os.environ[variable]
            continue
        server = _load(service).make_server("127.0.0.1", 0)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append(server)
        urls[service] = f"http://127.0.0.1:{server.server_port}"
        started[variable] = urls[service]
    os.environ.update(started)
    try:
        yield urls
    finally:
        for variable in started:
            os.environ.pop(variable, None)
        for server in servers:
            server.shutdown()
            server.server_close()
