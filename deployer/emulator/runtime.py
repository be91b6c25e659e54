"""The emulator's local runtime: the registry it serves and the Docker engine it drives.

Started by ``serve.py`` unless the emulator runs without it (``--no-runtime``,
``deployer emulator start --no-runtime``, or ``$DEPLOYER_EMULATOR_RUNTIME=0``:
today's infrastructure-only emulator).

* The registry (``registry.py``, ECR's data plane) listens on
  ``127.0.0.1:80``, or when another program holds it on the first free of
  ``127.77.0.1:80`` to ``127.77.0.8:80`` (announced; ``$DEPLOYER_REGISTRY_ADDRESS``
  to choose one): ECR's host names carry no port, so Docker reaches them on 80,
  and any loopback address will do since the hosts entries name it. Emulators
  with a runtime can run side by side, each registry on its own address, as long
  as they serve other accounts: when a repository is created, its registry's host
  name is added to the hosts file (``hosts.py``), pointing at that address, unless
  another live emulator's block holds it (the same account on two emulators would
  be ambiguous): then this registry is down, naming that emulator's pid. When
  the address cannot be bound (not root, another emulator or program holds it) or
  the hosts file cannot be written, the registry is *down*, with that reason, and
  the emulator serves the AWS APIs as before. Docker's resolver re-reads the
  hosts file at most every 5 seconds, so the names of an account are added for
  all its regions with its first repository, well before a push or a replica's
  pull needs them; a push within 5 s of creating an account's first repository
  may still fail to resolve.
* The Docker engine: not started here (``bin/docker-engine`` does that); its
  state is probed when asked (``status()``), so a stopped engine shows as down
  with Docker's own message while the APIs keep answering.
* Containers, networks and volumes the engines start carry the label
  ``io.deployer.emulator=<state folder>``; ``stop()`` removes every one of them,
  and ``deployer emulator stop`` does again after the process has gone (a killed
  emulator cleans nothing up).

On stop the runtime also removes its hosts entries and the registry's storage.
"""

from __future__ import annotations

import contextlib
import errno
import os
import shutil
import socket
import subprocess
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from deployer.emulator import ADDRESS_ENV as ADDRESS_ENV  # re-exported: tests, process.py
from deployer.emulator import RUNTIME_ENV as RUNTIME_ENV
from deployer.emulator import hosts, registry

DEFAULT_ADDRESS = "127.0.0.1:80"
LABEL = "io.deployer.emulator"
DOCKER_TIMEOUT_S = 10.0

#: The runtime of this emulator process (None: started without one).
CURRENT: Runtime | None = None


def wanted(flag: bool | None = None) -> bool:
    """Whether the emulator runs its runtime: ``flag``, else ``$DEPLOYER_EMULATOR_RUNTIME``."""
    if flag is not None:
        return flag
    return os.environ.get(RUNTIME_ENV, "1").strip().lower() not in ("0", "false", "no", "off")


def parse_address(value: str) -> tuple[str, int]:
    host, _, port = value.rpartition(":")
    if not host or not port.isdigit():
        raise ValueError(f"{ADDRESS_ENV} must be HOST:PORT on loopback, not {value!r}")
    if not (host.startswith("127.") or host in ("localhost", "::1")):
        raise ValueError(f"{ADDRESS_ENV} must be a loopback address, not {host!r}")
    return host, int(port)


def docker(
    *args: str,
    timeout: float = DOCKER_TIMEOUT_S,
    stdin: str | None = None,
    env: dict[str, str] | None = None,
) -> subprocess.CompletedProcess[str]:
    """The Docker CLI (raises on a timeout); ``env`` adds to the client's environment
    (where the engines put secret values, never into its arguments)."""
    return subprocess.run(
        ["docker", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
        input=stdin,
        env={**os.environ, **env} if env else None,
    )


def engine_state() -> dict[str, Any]:
    """The Docker engine as ``docker version`` sees it: up with its version, or down and why."""
    if shutil.which("docker") is None:
        return {"up": False, "reason": "no docker client on PATH (bin/docker-engine installs one)"}
    try:
        done = docker("version", "--format", "{{.Server.Version}}")
    except subprocess.TimeoutExpired:
        return {"up": False, "reason": f"docker version did not answer in {DOCKER_TIMEOUT_S:g} s"}
    if done.returncode != 0 or not done.stdout.strip():
        lines = (done.stderr or done.stdout).strip().splitlines()
        reason = lines[-1] if lines else f"docker version exited {done.returncode}"
        return {"up": False, "reason": reason}
    return {"up": True, "server": done.stdout.strip()}


def owned(kind: str, owner: str) -> list[str]:
    """IDs of the containers, networks or volumes labelled as ``owner``'s."""
    verb = {"container": ["ps", "-aq"], "network": ["network", "ls", "-q"]}.get(
        kind, ["volume", "ls", "-q"]
    )
    try:
        done = docker(*verb, "--filter", f"label={LABEL}={owner}")
    except (subprocess.TimeoutExpired, OSError):
        return []
    return done.stdout.split() if done.returncode == 0 else []


def remove_owned(owner: str) -> dict[str, int]:
    """Remove every container, network and volume labelled as ``owner``'s; counts removed."""
    if shutil.which("docker") is None:
        return {}
    removed: dict[str, int] = {}
    for kind, verb in (
        ("container", ["rm", "-f", "-v"]),
        ("network", ["network", "rm"]),
        ("volume", ["volume", "rm", "-f"]),
    ):
        ids = owned(kind, owner)
        if ids:
            with contextlib.suppress(subprocess.TimeoutExpired, OSError):
                docker(*verb, *ids, timeout=60)
        removed[kind] = len(ids)
    return removed


class Runtime:
    def __init__(
        self,
        state_dir: Path,
        address: str | None = None,
        now: Callable[[], float] | None = None,
    ) -> None:
        self.state_dir = state_dir
        self.owner = str(state_dir.resolve())
        #: Where the registry listens once started (None before; see _candidates).
        self.address = ""
        self._asked = address or os.environ.get(ADDRESS_ENV)
        self.hosts = hosts.HostsFile(self.owner)
        self.store = registry.Store(state_dir / "registry")  # state_dir: runtime_dir(...)
        self.registry = registry.Registry(
            self.store, on_registry=self._expose, now=now or time.time
        )
        self.registry_down: str | None = "not started"
        self._server: Any = None
        self._listener: socket.socket | None = None
        #: The engines that run containers (ecs-tasks): their status is the runtime's.
        self.engines: list[Any] = []
        self._thread: threading.Thread | None = None

    # -- lifecycle ---------------------------------------------------------------
    def start(self) -> None:
        global CURRENT
        CURRENT = self
        try:
            candidates = [parse_address(a) for a in self._candidates()]
        except ValueError as exc:
            self.registry_down = str(exc)
            return
        try:
            hosts.remove_blocks([], self.hosts.path)  # blocks of emulators that are gone
        except hosts.HostsError as exc:
            self.registry_down = f"{exc} (the registry's names go there; run as root)"
            return
        # Other emulators may run beside this one, each with its registry on its own
        # loopback address, as long as they serve other accounts' names: a name another
        # one holds leaves this registry down when it comes (_expose, hosts.NamesTaken).
        from werkzeug.serving import make_server

        # Bound here, not by werkzeug, which exits the process when it cannot bind.
        failures: list[str] = []
        listener: socket.socket | None = None
        for host, port in candidates:
            listener = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET)
            try:
                listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
                listener.bind((host, port))
                listener.listen(128)
                self.address = f"{host}:{port}"
                break
            except OSError as exc:
                listener.close()
                listener = None
                why = {
                    errno.EACCES: "ports below 1024 need root",
                    errno.EADDRINUSE: "another emulator or program holds it",
                }.get(exc.errno or 0, "")
                failures.append(f"{host}:{port}: {exc.strerror}" + (f" ({why})" if why else ""))
        if listener is None:
            self.registry_down = "cannot listen on " + "; nor on ".join(failures)
            return
        host, port = parse_address(self.address)
        self._listener = listener
        self._server = make_server(host, port, self.registry, threaded=True, fd=listener.fileno())
        self._thread = threading.Thread(
            target=self._server.serve_forever, name="registry", daemon=True
        )
        self._thread.start()
        self.registry_down = None
        registry.REPOSITORY_HOOKS.append(self._on_repository)

    def stop(self) -> None:
        global CURRENT
        for engine in self.engines:
            close = getattr(engine, "close", None)  # engines that run nothing of their own
            if close is not None:  # have none (cloudwatch-alarms)
                close()  # waits for a round in progress: it may be starting a container
        with contextlib.suppress(ValueError):
            registry.REPOSITORY_HOOKS.remove(self._on_repository)
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        if self._listener is not None:
            self._listener.close()
            self._listener = None
        with contextlib.suppress(hosts.HostsError):
            self.hosts.remove()
        remove_owned(self.owner)
        self.store.clear()
        self.registry_down = "stopped"
        if CURRENT is self:
            CURRENT = None

    def _candidates(self) -> list[str]:
        """The addresses to try: the one asked for, else 127.0.0.1:80 then a few more
        loopback addresses on port 80 (any works: the hosts entries name the one bound)."""
        if self._asked:
            return [self._asked]
        return [DEFAULT_ADDRESS, *(f"127.77.0.{n}:80" for n in range(1, 9))]

    # -- registry names ------------------------------------------------------------
    def _on_repository(self, account: str, region: str) -> None:
        # Every region of the account at once: Docker's resolver re-reads the hosts
        # file at most every 5 s, so a name added at the moment of a push (a
        # replication destination) could still be unknown to it. Added with the
        # account's first repository, they are there long before a pull needs them.
        names = [registry.registry_host(account, r) for r in _regions()]
        self._expose(*names, registry.registry_host(account, region))

    def _expose(self, *names: str) -> None:
        if self.registry_down is not None:
            return
        host, _port = parse_address(self.address)
        try:
            self.hosts.add(names, host)
        except hosts.HostsError as exc:
            self.registry_down = str(exc)

    # -- status --------------------------------------------------------------------
    def announcement(self) -> dict[str, Any]:
        return {
            "registry": None if self.registry_down else self.address,
            "registry_down": self.registry_down,
        }

    def status(self) -> dict[str, Any]:
        """The registry and its names (no I/O: served under the backend lock).

        The Docker engine's state and the containers the runtime owns are the
        client's to add (:func:`describe`), outside the emulator's lock.
        """
        return {
            "registry": {
                "up": self.registry_down is None,
                "address": self.address or self._candidates()[0],
                "reason": self.registry_down,
                "storage": str(self.store.root),
            },
            "hosts_file": str(self.hosts.path),
            "names": sorted(self.hosts.names()),
            "owner": self.owner,
            "pid": os.getpid(),
            **{engine.name: engine.status() for engine in self.engines},
        }


def _regions() -> list[str]:
    import botocore.session

    return list(botocore.session.get_session().get_available_regions("ecr"))


def runtime_dir(state_dir: Path) -> Path:
    """The runtime's folder in an emulator's state folder (its label names it)."""
    return state_dir / "emulator-runtime"


def describe(served: dict[str, Any] | None) -> dict[str, Any]:
    """What ``emulator status`` shows: the served status plus the engine and what it owns."""
    engine = engine_state()
    if served is None:
        return {"enabled": False, "docker": engine}
    owner = str(served.get("owner", ""))
    found: dict[str, list[str]] = {}
    if engine["up"] and owner:
        found = {kind: owned(kind, owner) for kind in ("container", "network", "volume")}
    try:
        in_file = hosts.owned_blocks().get(int(str(served.get("pid", 0))), [])
    except hosts.HostsError as exc:
        in_file = [f"unreadable: {exc}"]
    return {
        "enabled": True,
        **served,
        "hosts_entries": len(in_file),  # what the hosts file holds now, not what was asked
        "docker": engine,
        "label": f"{LABEL}={owner}",
        "containers": found.get("container", []),
        "networks": found.get("network", []),
        "volumes": found.get("volume", []),
    }


def clean_up(state_dir: Path, pid: int | None) -> None:
    """After an emulator process has gone: remove what its runtime may have left."""
    folder = runtime_dir(state_dir)
    with contextlib.suppress(hosts.HostsError):
        hosts.remove_blocks([pid] if pid else [])
    if folder.exists() or pid:
        remove_owned(str(folder.resolve()))
    shutil.rmtree(folder, ignore_errors=True)


def docker_nanos(stamp: str) -> int:
    """Docker's RFC 3339 timestamp (up to nanoseconds, trailing zeros trimmed) -> epoch ns."""
    import datetime

    whole, _, fraction = stamp.rstrip("Z").partition(".")
    try:
        moment = datetime.datetime.fromisoformat(whole).replace(tzinfo=datetime.UTC)
    except ValueError:
        return 0
    return int(moment.timestamp()) * 10**9 + int((fraction or "0")[:9].ljust(9, "0"))
