"""deployer.endpoints: service_endpoints become the loopback URLs the emulator serves."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from deployer import endpoints
from deployer.aws import Target

DNS = "acme-shop-api-staging-1234567890.us-east-1.elb.amazonaws.com"
LISTENERS = {
    (DNS, 80): "127.0.0.1:40001",
    (DNS, 8080): "127.0.0.1:40002",
    ("secure-" + DNS, 443): "127.0.0.1:40003",
}


def test_a_listener_url_becomes_its_loopback_url_with_the_path_kept() -> None:
    assert endpoints.loopback_url(f"http://{DNS}", LISTENERS) == "http://127.0.0.1:40001"
    assert endpoints.loopback_url(f"http://{DNS.upper()}/health?x=1", LISTENERS) == (
        "http://127.0.0.1:40001/health?x=1"
    )
    assert endpoints.loopback_url(f"http://{DNS}:8080/a", LISTENERS) == "http://127.0.0.1:40002/a"
    # HTTPS stays HTTPS: the emulator terminates TLS with the listener's certificate.
    assert endpoints.loopback_url(f"https://secure-{DNS}/h", LISTENERS) == (
        "https://127.0.0.1:40003/h"
    )


@pytest.mark.parametrize(
    "url",
    [f"https://{DNS}", f"http://{DNS}:81", "http://other.elb.amazonaws.com", "ftp://x", "nonsense"],
)
def test_a_url_no_served_listener_matches_is_left_alone(url: str) -> None:
    assert endpoints.loopback_url(url, LISTENERS) is None


def test_localise_rewrites_service_endpoints_only_and_says_which() -> None:
    outputs: dict[str, Any] = {
        "service_endpoints": {
            "value": {"api-service": f"http://{DNS}", "auth-service": "http://gone.example"},
            "type": ["map", "string"],
            "sensitive": False,
        },
        "load_balancer_dns_names": {"value": {"api-service": DNS}},
    }
    localised, rewritten = endpoints.localise(outputs, LISTENERS)
    assert rewritten == ["api-service"]
    assert localised["service_endpoints"]["value"] == {
        "api-service": "http://127.0.0.1:40001",
        "auth-service": "http://gone.example",
    }
    assert localised["load_balancer_dns_names"] == outputs["load_balancer_dns_names"]
    assert outputs["service_endpoints"]["value"]["api-service"] == f"http://{DNS}"  # a copy
    assert endpoints.localise(outputs, {}) == (outputs, [])
    assert endpoints.localise({"vpc_id": {"value": "vpc-1"}}, LISTENERS)[1] == []


@pytest.fixture
def emulator() -> Iterator[tuple[str, dict[str, Any]]]:
    """A stand-in for the emulator's control endpoint GET /_deployer/runtime."""
    answer: dict[str, Any] = {}

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            assert self.path == "/_deployer/runtime"
            body = json.dumps(answer).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *_args: Any) -> None:
            return

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", answer
    finally:
        server.shutdown()
        server.server_close()


def test_served_listeners_reads_the_emulators_announcement(
    emulator: tuple[str, dict[str, Any]],
) -> None:
    url, answer = emulator
    answer["runtime"] = {
        "elb-listeners": {
            "listeners": {
                "arn:1": {"address": "127.0.0.1:40001", "dns_name": DNS, "port": 80},
                "arn:2": {"address": "127.0.0.1:40002", "dns_name": DNS.upper(), "port": 8080},
            }
        }
    }
    assert endpoints.served_listeners(Target("local", endpoint=url)) == {
        (DNS, 80): "127.0.0.1:40001",
        (DNS, 8080): "127.0.0.1:40002",
    }
    answer["runtime"] = None  # the emulator runs without its runtime
    assert endpoints.served_listeners(Target("local", endpoint=url)) == {}
    assert endpoints.served_listeners(Target("aws")) == {}


def test_an_emulator_that_cannot_be_asked_means_no_listeners() -> None:
    assert endpoints.served_listeners(Target("local", endpoint="http://127.0.0.1:9")) == {}
