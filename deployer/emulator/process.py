"""Start, stop and inspect the local AWS emulator (moto in server mode).

The emulator runs detached, bound to loopback on a port the OS picks, and is
recorded in ``<state_dir>/emulator.json`` (pid, port, endpoint, moto version,
patches, time scale and engines). ``status`` trusts the record only if the pid
is alive, is our launcher, and the endpoint answers.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path

from deployer.errors import EmulatorError

HOST = "127.0.0.1"
LAUNCHER_MODULE = "deployer.emulator.serve"
READY_TIMEOUT = 60.0
STOP_TIMEOUT = 10.0


@dataclass
class EmulatorStatus:
    running: bool
    endpoint: str | None = None
    pid: int | None = None
    port: int | None = None
    started_at: str | None = None
    moto_version: str | None = None
    patches: list[str] = field(default_factory=list)
    log: str | None = None
    #: Emulated seconds a real second (None: stock moto, no clock; or a record
    #: written before the emulator had one).
    time_scale: float | None = None
    #: The engines playing AWS's background processes (see scheduler.py).
    engines: list[str] = field(default_factory=list)
    #: The local runtime at start (runtime.py): {"registry": address or None,
    #: "registry_down": reason or None}; None when started without one.
    runtime: dict[str, object] | None = None

    def to_json(self) -> dict[str, object]:
        return asdict(self)


def pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # A zombie child still answers kill(0); treat it as gone.
    try:
        with open(f"/proc/{pid}/stat") as handle:
            return handle.read().split(") ", 1)[1][:1] != "Z"
    except OSError:
        return True


def _is_launcher(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as handle:
            argv = handle.read().split(b"\0")
    except OSError:
        return False
    return LAUNCHER_MODULE.encode() in argv


def _answers(endpoint: str, timeout: float = 2.0) -> bool:
    """Whether the emulator at ``endpoint`` (``http://host:port``) answers 200 on
    ``/moto-api/``. A plain HTTP/1.0 request on a socket: every command asks this first,
    and urllib (http.client, email, ssl) costs some 20 ms of imports to start."""
    import socket
    from urllib.parse import urlsplit

    try:
        parts = urlsplit(endpoint)
        host, port = parts.hostname or "", parts.port or 80
        if parts.scheme != "http" or not host:
            return False
        with socket.create_connection((host, port), timeout=timeout) as connection:
            connection.settimeout(timeout)
            connection.sendall(f"GET /moto-api/ HTTP/1.0\r\nHost: {host}:{port}\r\n\r\n".encode())
            status = connection.makefile("rb").readline(256)
    except (OSError, ValueError):
        return False
    fields = status.split()
    return len(fields) >= 2 and fields[0].startswith(b"HTTP/") and fields[1] == b"200"


class Emulator:
    """The project's local emulator, recorded in ``state_dir``."""

    def __init__(self, state_dir: Path) -> None:
        self.state_dir = state_dir
        self.record_path = state_dir / "emulator.json"
        self.log_path = state_dir / "emulator.log"
        self._lock_path = state_dir / "emulator.lock"

    # -- record -------------------------------------------------------------
    def _read_record(self) -> EmulatorStatus | None:
        try:
            data = json.loads(self.record_path.read_text())
        except FileNotFoundError:
            return None
        except ValueError:
            return None
        known = set(EmulatorStatus.__dataclass_fields__)
        return EmulatorStatus(**{k: v for k, v in data.items() if k in known})

    def _write_record(self, status: EmulatorStatus) -> None:
        tmp = self.record_path.with_suffix(".tmp")
        tmp.write_text(json.dumps(status.to_json(), indent=2) + "\n")
        tmp.replace(self.record_path)

    @contextlib.contextmanager
    def _locked(self) -> Iterator[None]:
        self.state_dir.mkdir(parents=True, exist_ok=True)
        with open(self._lock_path, "a+") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)

    # -- queries -------------------------------------------------------------
    def status(self) -> EmulatorStatus:
        record = self._read_record()
        if record is None or record.pid is None or record.endpoint is None:
            return EmulatorStatus(running=False, log=str(self.log_path))
        if pid_alive(record.pid) and _is_launcher(record.pid) and _answers(record.endpoint):
            record.running = True
            return record
        return EmulatorStatus(running=False, log=str(self.log_path))

    # -- lifecycle -------------------------------------------------------------
    def start(
        self,
        *,
        patches: bool = True,
        time_scale: float | None = None,
        runtime: bool | None = None,
    ) -> EmulatorStatus:
        """Start the emulator unless it is already running; return its status.

        ``runtime`` (default ``$DEPLOYER_EMULATOR_RUNTIME``, else on): run the local
        runtime (ECR's registry and its host names, see ``runtime.py``). A running
        emulator is returned as it is.

        ``time_scale`` (default: ``$DEPLOYER_EMULATOR_TIME_SCALE`` or 1, read by the
        emulator) is fixed for the emulator's life: asking a running emulator for
        another one is an error, since restarting it would forget its resources.
        """
        from deployer.emulator import runtime as local_runtime

        with self._locked():
            current = self.status()
            if current.running:
                if time_scale is not None and current.time_scale != time_scale:
                    raise EmulatorError(
                        f"the emulator is running at time scale {_scale(current.time_scale)}, "
                        f"not {_scale(time_scale)}",
                        hint="the time scale is set at start: deployer emulator stop (which "
                        "forgets every resource in it), then start it again",
                    )
                return current
            self._discard_stale()
            return self._spawn(
                patches=patches, time_scale=time_scale, runtime=local_runtime.wanted(runtime)
            )

    def _discard_stale(self) -> None:
        from deployer.emulator import runtime as local_runtime

        record = self._read_record()
        if record and record.pid and pid_alive(record.pid) and _is_launcher(record.pid):
            # Alive but not answering: a hung emulator. Replace it.
            self._terminate(record.pid)
        if record and record.runtime is not None:
            local_runtime.clean_up(self.state_dir, record.pid)
        self.record_path.unlink(missing_ok=True)

    def _spawn(self, *, patches: bool, time_scale: float | None, runtime: bool) -> EmulatorStatus:
        from deployer.emulator import runtime as local_runtime

        ready_file = self.state_dir / "emulator.ready"
        ready_file.unlink(missing_ok=True)
        argv = [
            sys.executable,
            "-m",
            LAUNCHER_MODULE,
            "--host",
            HOST,
            "--port",
            "0",
            "--ready-file",
            str(ready_file),
            "--state-dir",
            str(self.state_dir),
        ]
        if not patches:
            argv.append("--no-patches")
        if not runtime:
            argv.append("--no-runtime")
        if time_scale is not None:
            argv += ["--time-scale", repr(time_scale)]
        env = dict(os.environ)
        env[local_runtime.RUNTIME_ENV] = "1" if runtime else "0"  # decided here, not inherited
        # The emulator never needs real credentials; keep them out of its environment.
        for key in (
            "AWS_ACCESS_KEY_ID",
            "AWS_SECRET_ACCESS_KEY",
            "AWS_SESSION_TOKEN",
            "AWS_PROFILE",
        ):
            env.pop(key, None)
        with open(self.log_path, "ab") as log:
            proc = subprocess.Popen(
                argv,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=log,
                env=env,
                start_new_session=True,
                close_fds=True,
            )
        deadline = time.monotonic() + READY_TIMEOUT
        announcement: dict[str, object] | None = None
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                raise EmulatorError(
                    f"the emulator exited during start-up (exit {proc.returncode})",
                    hint=f"see {self.log_path}:\n{self._log_tail()}",
                )
            if ready_file.exists():
                with contextlib.suppress(ValueError):
                    announcement = json.loads(ready_file.read_text())
                if announcement:
                    break
            time.sleep(0.05)
        if not announcement:
            self._terminate(proc.pid)
            raise EmulatorError(
                f"the emulator did not become ready within {READY_TIMEOUT:.0f}s",
                hint=f"see {self.log_path}",
            )
        port = int(str(announcement["port"]))
        endpoint = f"http://{HOST}:{port}"
        while not _answers(endpoint):
            if time.monotonic() > deadline or proc.poll() is not None:
                self._terminate(proc.pid)
                raise EmulatorError(
                    f"the emulator at {endpoint} does not answer", hint=f"see {self.log_path}"
                )
            time.sleep(0.05)
        from importlib.metadata import version

        status = EmulatorStatus(
            running=True,
            endpoint=endpoint,
            pid=proc.pid,
            port=port,
            started_at=time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            moto_version=version("moto"),
            patches=_names(announcement.get("patches")),
            log=str(self.log_path),
            time_scale=_time_scale(announcement.get("time_scale")),
            engines=_names(announcement.get("engines")),
            runtime=_runtime(announcement.get("runtime")),
        )
        self._write_record(status)
        ready_file.unlink(missing_ok=True)
        return status

    def stop(self) -> EmulatorStatus:
        """Stop the emulator if it runs; afterwards no emulator process is left."""
        # Imported where used: the CLI imports this module on every command, for status.
        from deployer.emulator import runtime as local_runtime

        with self._locked():
            record = self._read_record()
            if record and record.pid and pid_alive(record.pid) and _is_launcher(record.pid):
                self._terminate(record.pid)
            if record and record.runtime is not None:
                # The process removes its runtime on SIGTERM; after a SIGKILL (or a
                # crash) what it left is removed here.
                local_runtime.clean_up(self.state_dir, record.pid)
            self.record_path.unlink(missing_ok=True)
            return EmulatorStatus(running=False, log=str(self.log_path))

    def _terminate(self, pid: int) -> None:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGTERM)
        deadline = time.monotonic() + STOP_TIMEOUT
        while time.monotonic() < deadline:
            if not pid_alive(pid):
                break
            _reap(pid)
            time.sleep(0.05)
        else:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
            time.sleep(0.1)
        _reap(pid)
        if pid_alive(pid):
            raise EmulatorError(f"emulator process {pid} did not stop")

    def _log_tail(self, lines: int = 20) -> str:
        try:
            text = self.log_path.read_text(errors="replace")
        except OSError:
            return ""
        return "\n".join(text.splitlines()[-lines:])


def _names(value: object) -> list[str]:
    return [str(p) for p in value] if isinstance(value, list) else []


def _runtime(value: object) -> dict[str, object] | None:
    return {str(k): v for k, v in value.items()} if isinstance(value, dict) else None


def _time_scale(value: object) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value)


def _scale(value: float | None) -> str:
    return "unknown" if value is None else f"{value:g}"


def _reap(pid: int) -> None:
    """Collect the exit status if the emulator is our own child (no zombie left)."""
    with contextlib.suppress(ChildProcessError, OSError):
        os.waitpid(pid, os.WNOHANG)
