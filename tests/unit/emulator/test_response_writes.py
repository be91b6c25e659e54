"""The emulator sends each HTTP response with one write (deployer.emulator.serve).

werkzeug's handler, unbuffered, writes the status line and headers, then the
body. Under load the AWS SDK for Go sometimes closed the connection between the
two and retried, so a create that had taken effect failed on its retry. This
test counts the writes on the server's socket for one request: one with the
project's handler, two with moto's stock handler (the gap).
"""

from __future__ import annotations

import http.client
import socket
import threading
from typing import Any

from werkzeug.serving import make_server

from deployer.emulator import serve

BODY = b"<DescribeVpcsResponse>" + b"x" * 900 + b"</DescribeVpcsResponse>"


class CountingSocket(socket.socket):
    """The accepted connection, recording each write the handler makes on it."""

    writes: list[bytes]

    def send(self, data: Any, *args: Any) -> int:
        self.writes.append(bytes(data))
        return super().send(data, *args)

    def sendall(self, data: Any, *args: Any) -> None:
        self.writes.append(bytes(data))
        super().sendall(data, *args)


def app(environ: dict[str, Any], start_response: Any) -> list[bytes]:
    start_response("200 OK", [("Content-Type", "text/xml"), ("Content-Length", str(len(BODY)))])
    return [BODY]


def writes_for_one_request(handler: type) -> tuple[list[bytes], bytes]:
    # threaded=True, as the emulator serves (it makes werkzeug answer HTTP/1.1).
    server = make_server("127.0.0.1", 0, app, threaded=True, request_handler=handler)
    accepted: list[CountingSocket] = []

    def get_request() -> tuple[socket.socket, Any]:
        conn, address = server.socket.accept()
        wrapped = CountingSocket(fileno=conn.detach())
        wrapped.writes = []
        accepted.append(wrapped)
        return wrapped, address

    server.get_request = get_request  # type: ignore[method-assign]
    thread = threading.Thread(target=server.handle_request)
    thread.start()
    try:
        client = http.client.HTTPConnection("127.0.0.1", server.server_port, timeout=10)
        client.request("POST", "/", body=b"Action=DescribeVpcs&Version=2016-11-15")
        response = client.getresponse()
        body = response.read()
        client.close()
    finally:
        thread.join(timeout=10)
        server.server_close()
    (connection,) = accepted
    return connection.writes, body


def test_a_response_goes_out_in_one_write() -> None:
    writes, body = writes_for_one_request(serve.request_handler())
    assert body == BODY
    assert len(writes) == 1, [w[:40] for w in writes]
    assert writes[0].startswith(b"HTTP/1.1 200 OK\r\n")
    assert writes[0].endswith(BODY)


def test_stock_handler_splits_headers_and_body() -> None:
    from moto.moto_server.werkzeug_app import MotoRequestHandler

    writes, body = writes_for_one_request(MotoRequestHandler)
    assert body == BODY
    assert len(writes) >= 2
    assert writes[-1] == BODY
