"""The elb-listeners engine's routing, without Docker: weights, turns, 503, 502, fixed."""

from __future__ import annotations

import json
import threading
import urllib.error
import urllib.request
from collections import Counter
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from deployer.emulator.engines.elb_listeners import ElbListeners, Route, _Listener


def test_weights_and_turns() -> None:
    route = Route(
        [
            ("blue", 0, [("10.0.0.1", 8080)]),  # weight 0: never
            ("green", 1, [("10.0.0.2", 8080), ("10.0.0.3", 8080)]),
        ]
    )
    picked = [route.pick() for _ in range(6)]
    assert picked == [("10.0.0.2", 8080), ("10.0.0.3", 8080)] * 3
    assert Route([("blue", 1, [])]).pick() is None


def test_weighted_forward_splits_by_weight() -> None:
    route = Route([("blue", 9, [("a", 1)]), ("green", 1, [("b", 1)])])
    counts = Counter(route.pick() for _ in range(2000))
    assert 0.85 < counts[("a", 1)] / 2000 < 0.95


@pytest.fixture
def target() -> Iterator[str]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            body = json.dumps({"path": self.path, "xff": self.headers["X-Forwarded-For"]})
            data = body.encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *_args: Any) -> None:
            return

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def get(address: str, path: str = "/health") -> tuple[int, bytes]:
    try:
        with urllib.request.urlopen(f"http://{address}{path}", timeout=5) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()


def test_a_listener_forwards_or_answers_as_alb(target: str) -> None:
    known = {("10.0.0.2", 8080): target}
    engine = ElbListeners(lambda ip, port: known.get((ip, port)), lock=threading.RLock())
    listener = _Listener(engine, "arn:listener/1")
    try:
        listener.route = Route([("blue", 1, [("10.0.0.2", 8080)])])
        status, body = get(listener.address, "/health?x=1")
        assert status == 200 and json.loads(body) == {"path": "/health?x=1", "xff": "127.0.0.1"}
        listener.route = Route([("blue", 1, [])])
        assert get(listener.address)[0] == 503  # no registered target
        listener.route = Route([("blue", 1, [("10.0.0.9", 8080)])])
        assert get(listener.address)[0] == 502  # a target nothing serves
        listener.route = Route([], fixed={"StatusCode": "404", "MessageBody": "nope"})
        assert get(listener.address) == (404, b"nope")
    finally:
        listener.close()
