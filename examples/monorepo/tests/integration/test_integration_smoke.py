"""Smoke tests of the deployed services, run by the pipeline's Test stage.

A service is reached at the URL in the environment variable named after it
(API_SERVICE_URL, AUTH_SERVICE_URL, NOTIFICATION_SERVICE_URL; the integration
test project exports every SSM parameter under its parameter path as an
environment variable), or, without one, started from source by conftest.py:
the Test stage runs before Staging, so by default it tests the services as
built, together.
"""

from __future__ import annotations

import json
import os
import urllib.error
import urllib.request
from typing import Any

import pytest

SERVICES = ("api-service", "auth-service", "notification-service")
TIMEOUT_SECONDS = float(os.environ.get("SMOKE_TIMEOUT_SECONDS", "10"))


def service_url(service: str) -> str:
    variable = service.upper().replace("-", "_") + "_URL"
    url = os.environ.get(variable, "").rstrip("/")
    assert url, f"{variable} is not set (conftest.py starts the service when it is not given)"
    return url


def call(url: str, body: dict[str, Any] | None = None) -> tuple[int, dict[str, Any]]:
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(url, data=data, headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=TIMEOUT_SECONDS) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read() or b"{}")


@pytest.mark.parametrize("service", SERVICES)
def test_service_is_healthy(service: str) -> None:
    status, body = call(f"{service_url(service)}/health")
    assert status == 200
    assert body == {**body, "status": "ok", "service": service}


def test_api_lists_items() -> None:
    status, body = call(f"{service_url('api-service')}/items")
    assert status == 200
    assert body["items"], "the catalogue is empty"


def test_auth_issues_a_token_it_accepts() -> None:
    url = service_url("auth-service")
    status, body = call(f"{url}/token", {"username": "smoke-test"})
    assert status == 200
    status, verified = call(f"{url}/verify?token={body['token']}")
    assert (status, verified.get("username")) == (200, "smoke-test")


def test_notification_is_accepted() -> None:
    status, body = call(
        f"{service_url('notification-service')}/notifications",
        {"channel": "email", "recipient": "smoke-test@example.com", "message": "smoke test"},
    )
    assert status == 202
    assert body["status"] == "accepted"
