"""The Docker Engine API over its Unix socket, for what the engines poll every round.

The ECS engine lists its task containers and ships their new log lines every 2 real
seconds; through the Docker CLI that was one ``docker ps`` and one ``docker logs`` per
container each round, a process each: about 8,000 CLI processes and 80 CPU-seconds in one
CI run of the test suite (2026-12-02, process accounting), on a 2-core machine whose CPU
is the CI's limit. The same two reads as HTTP requests on the engine's socket cost no
process. Everything else (run, pull, login, rm) stays on the CLI.

``Engine.local()`` answers only when the client would talk to a local socket:
``DOCKER_HOST`` unset (``/var/run/docker.sock``) or ``unix://PATH``, and no
``DOCKER_CONTEXT``; otherwise None, and the callers use the CLI as before.
"""

from __future__ import annotations

import http.client
import json
import os
import socket
import struct
import urllib.parse
from typing import Any

DEFAULT_SOCKET = "/var/run/docker.sock"
#: The API version asked for: 1.41 is Docker 20.10's; newer engines answer it too.
API_VERSION = "v1.41"
TIMEOUT_S = 30.0
_HEADER = struct.Struct(">BxxxL")


class _UnixConnection(http.client.HTTPConnection):
    def __init__(self, path: str, timeout: float) -> None:
        super().__init__("localhost", timeout=timeout)
        self._path = path

    def connect(self) -> None:
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.settimeout(self.timeout)
        sock.connect(self._path)
        self.sock = sock


class EngineError(Exception):
    """The engine did not answer, or answered an error."""


class Engine:
    """GET requests to the engine at a Unix socket path."""

    def __init__(self, path: str, timeout: float = TIMEOUT_S) -> None:
        self.path = path
        self.timeout = timeout

    @classmethod
    def local(cls) -> Engine | None:
        """The engine the Docker CLI would use, when that is a local socket (see above)."""
        if os.environ.get("DOCKER_CONTEXT"):
            return None
        host = os.environ.get("DOCKER_HOST", "")
        if not host:
            path = DEFAULT_SOCKET
        elif host.startswith("unix://"):
            path = host.removeprefix("unix://")
        else:
            return None
        return cls(path) if os.path.exists(path) else None

    def get(self, path: str, query: dict[str, str]) -> bytes:
        target = f"/{API_VERSION}{path}?{urllib.parse.urlencode(query)}"
        connection = _UnixConnection(self.path, self.timeout)
        try:
            connection.request("GET", target, headers={"Host": "docker"})
            answer = connection.getresponse()
            body = answer.read()
        except OSError as exc:
            raise EngineError(f"GET {path}: {exc}") from exc
        finally:
            connection.close()
        if answer.status != 200:
            raise EngineError(f"GET {path}: {answer.status} {body[:300]!r}")
        return body

    def containers(self, labels: list[str]) -> list[dict[str, Any]]:
        """``docker ps -a --filter label=...``: every container with all of ``labels``
        (``key`` or ``key=value``), as the API lists them (Id, State, Status, Labels ...)."""
        filters = json.dumps({"label": labels})
        listed = json.loads(self.get("/containers/json", {"all": "1", "filters": filters}))
        return list(listed)

    def logs(self, ident: str, since: str) -> str:
        """``docker logs --timestamps --since SINCE ID``: stdout and stderr, each line
        starting with its RFC 3339 timestamp. ``since``: "0", or seconds since the epoch
        with their fraction ("1764648000.123456789")."""
        query = {"stdout": "1", "stderr": "1", "timestamps": "1", "since": since}
        return demultiplex(self.get(f"/containers/{ident}/logs", query))


def demultiplex(body: bytes) -> str:
    """The text of a non-TTY container's log stream: frames of an 8-byte header (stream,
    three zero bytes, the payload's length, big-endian) and the payload; a body that is
    not framed (a TTY container's) is returned as it is."""
    if len(body) < _HEADER.size or body[0] not in (0, 1, 2) or body[1:4] != b"\0\0\0":
        return body.decode("utf-8", "replace")
    parts = []
    offset = 0
    while offset + _HEADER.size <= len(body):
        _stream, size = _HEADER.unpack_from(body, offset)
        offset += _HEADER.size
        parts.append(body[offset : offset + size])
        offset += size
    return b"".join(parts).decode("utf-8", "replace")


def since_argument(stamp: str) -> str:
    """``--since`` for the API: "0" stays, a Docker timestamp becomes seconds.nanoseconds."""
    if stamp == "0":
        return "0"
    from deployer.emulator.runtime import docker_nanos

    nanos = docker_nanos(stamp)
    return f"{nanos // 10**9}.{nanos % 10**9:09d}"
