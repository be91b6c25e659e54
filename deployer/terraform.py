"""The Terraform runner: one ``terraform`` process at a time per workspace.

Each process gets an explicit environment (the toolchain's CLI config, the
workspace's own ``TF_DATA_DIR``, the target's AWS settings), so several
workspaces can run concurrently without sharing files. stdout and stderr are
read concurrently by two threads, so a full pipe can never stall a run, and
lines are handed to a callback as they arrive (progress).

Failures become one ``TerraformError`` carrying the command, the workspace and
the tail of what Terraform reported (stderr, or error diagnostics in ``-json``
mode).
"""

from __future__ import annotations

import collections
import contextlib
import json
import re
import signal
import subprocess
import threading
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from deployer.errors import StateLocked, TerraformError
from deployer.toolchain import Toolchain, provider_failure_hint

LineCallback = Callable[[str], None]

STDERR_TAIL_LINES = 30
#: Set to a Terraform log level (trace, debug, info, ...) to have each Terraform process
#: the deployer runs write its own log to ``<workspace data dir>/terraform-<command>.log``
#: (TF_LOG alone would send it to stderr, mixed with the regions' others).
LOG_LEVEL_ENV = "DEPLOYER_TF_LOG"

#: How long an apply of a saved plan waits for a state lock another run holds
#: (see Terraform.apply).
APPLY_LOCK_TIMEOUT = "120s"


@dataclass
class Result:
    argv: list[str]
    returncode: int
    stdout: str
    stderr: str
    diagnostics: list[dict[str, Any]] = field(default_factory=list)

    def json(self) -> Any:
        return json.loads(self.stdout)


_live: set[subprocess.Popen[str]] = set()
_live_lock = threading.Lock()


def interrupt_all() -> int:
    """Ask every running Terraform process to stop gracefully (SIGINT).

    Terraform finishes the operations in flight, writes state and releases the
    lock, so a rerun converges. Used when the deployer itself is terminated.
    """
    with _live_lock:
        procs = list(_live)
    for proc in procs:
        if proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                proc.send_signal(signal.SIGINT)
    return len(procs)


def _pump(stream: IO[str], sink: list[str], callback: LineCallback | None) -> None:
    for line in iter(stream.readline, ""):
        sink.append(line)
        if callback is not None:
            callback(line.rstrip("\n"))
    stream.close()


class Terraform:
    """Runs Terraform commands for one stack directory and one data directory."""

    def __init__(
        self,
        toolchain: Toolchain,
        stack_dir: Path,
        data_dir: Path,
        env: Mapping[str, str],
        *,
        workspace: str | None = None,
    ) -> None:
        self.toolchain = toolchain
        self.stack_dir = stack_dir
        self.data_dir = data_dir
        self.workspace = workspace
        self.env = {**env, **toolchain.environ(), "TF_DATA_DIR": str(data_dir)}
        self.env.pop("TF_WORKSPACE", None)
        self._current: subprocess.Popen[str] | None = None

    def log_path(self, command: str) -> Path:
        """Where a command's Terraform log goes with $DEPLOYER_TF_LOG set."""
        return self.data_dir / f"terraform-{command}.log"

    # -- core -------------------------------------------------------------
    def run(
        self,
        args: Sequence[str],
        *,
        ok_codes: Iterable[int] = (0,),
        on_stdout: LineCallback | None = None,
        on_stderr: LineCallback | None = None,
        json_stream: bool = False,
        on_start: Callable[[], None] | None = None,
    ) -> Result:
        """Run one Terraform command to its end; ``on_start`` is called once its process
        has started (while it runs)."""
        argv = [str(self.toolchain.binary), f"-chdir={self.stack_dir}", *args]
        shown = ["terraform", *args]
        self.data_dir.mkdir(parents=True, exist_ok=True)
        env = self.env
        level = env.get(LOG_LEVEL_ENV)
        if level:
            # Each process's own log: two regions' Terraform must not share one file.
            env = {**env, "TF_LOG": level, "TF_LOG_PATH": str(self.log_path(args[0]))}
            Path(env["TF_LOG_PATH"]).unlink(missing_ok=True)
        out: list[str] = []
        err: list[str] = []
        diagnostics: list[dict[str, Any]] = []

        def stdout_line(line: str) -> None:
            if json_stream:
                msg = _parse_json_line(line)
                if msg is not None and msg.get("type") == "diagnostic":
                    diagnostics.append(msg.get("diagnostic", {}))
            if on_stdout is not None:
                on_stdout(line)

        proc = subprocess.Popen(
            argv,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=env,
            text=True,
            encoding="utf-8",
            errors="replace",
            bufsize=1,
        )
        self._current = proc
        with _live_lock:
            _live.add(proc)
        assert proc.stdout is not None and proc.stderr is not None
        threads = [
            threading.Thread(target=_pump, args=(proc.stdout, out, stdout_line), daemon=True),
            threading.Thread(target=_pump, args=(proc.stderr, err, on_stderr), daemon=True),
        ]
        for thread in threads:
            thread.start()
        try:
            if on_start is not None:
                on_start()
            returncode = proc.wait()
        except BaseException:
            # Interrupted (Ctrl-C): Terraform got the same SIGINT from the
            # terminal and is stopping gracefully; wait for it so state is saved.
            returncode = proc.wait()
            raise
        finally:
            for thread in threads:
                thread.join()
            self._current = None
            with _live_lock:
                _live.discard(proc)
        result = Result(argv, returncode, "".join(out), "".join(err), diagnostics)
        if returncode not in tuple(ok_codes):
            tail = _tail(result)
            lock = parse_lock_info(tail)
            if lock is not None:
                raise StateLocked(shown, returncode, workspace=self.workspace, lock=lock)
            raise TerraformError(
                shown,
                returncode,
                workspace=self.workspace,
                stderr_tail=tail,
                hint=provider_failure_hint(result.stderr + result.stdout, self.toolchain.mirror)
                if args and args[0] == "init"
                else None,
            )
        return result

    # -- commands -----------------------------------------------------------
    def init(self, backend_config: Path | None, *, on_line: LineCallback | None = None) -> Result:
        args = ["init", "-input=false", "-no-color"]
        if backend_config is not None:
            args += [f"-backend-config={backend_config}", "-reconfigure"]
        else:
            args.append("-backend=false")
        with self.toolchain.init_lock():
            return self.run(args, on_stdout=on_line, on_stderr=on_line)

    def select_workspace(self, name: str) -> None:
        """Select (creating if needed) the workspace, in this data directory only."""
        self.run(["workspace", "select", "-or-create=true", "-no-color", name])
        self.workspace = name

    def plan(
        self,
        *,
        var_file: Path,
        out: Path,
        destroy: bool = False,
        on_message: Callable[[dict[str, Any]], None] | None = None,
        refresh: bool = True,
        refresh_only: bool = False,
        on_start: Callable[[], None] | None = None,
    ) -> bool:
        """Write a plan file; return True when it has changes (with ``refresh_only``:
        when the remote objects differ from the state). ``on_start``: see run."""
        args = [
            "plan",
            "-input=false",
            "-json",
            "-detailed-exitcode",
            f"-var-file={var_file}",
            f"-out={out}",
        ]
        if destroy:
            args.append("-destroy")
        if not refresh:
            args.append("-refresh=false")
        if refresh_only:
            args.append("-refresh-only")
        result = self.run(
            args,
            ok_codes=(0, 2),
            on_stdout=_json_callback(on_message),
            json_stream=True,
            on_start=on_start,
        )
        return result.returncode == 2

    def show_plan(self, plan_file: Path) -> dict[str, Any]:
        data: dict[str, Any] = self.run(["show", "-json", "-no-color", str(plan_file)]).json()
        return data

    def apply(
        self, plan_file: Path, *, on_message: Callable[[dict[str, Any]], None] | None = None
    ) -> Result:
        # Terraform releases the state lock between plan and apply. Another run's
        # plan may take it in that gap for a few seconds: wait for it rather than
        # fail the run that planned first (a stale lock still fails, after this).
        argv = ["apply", "-input=false", "-json", "-auto-approve"]
        argv += [f"-lock-timeout={APPLY_LOCK_TIMEOUT}", str(plan_file)]
        return self.run(
            argv,
            on_stdout=_json_callback(on_message),
            json_stream=True,
        )

    def output(self) -> dict[str, Any]:
        data: dict[str, Any] = self.run(["output", "-json", "-no-color"]).json()
        return data

    def force_unlock(self, lock_id: str) -> Result:
        return self.run(["force-unlock", "-force", "-no-color", lock_id])


_LOCK_FIELD = re.compile(r"^\s*(ID|Path|Operation|Who|Version|Created|Info):\s*(.*?)\s*$")


def parse_lock_info(text: str) -> dict[str, str] | None:
    """The ``Lock Info`` block of Terraform's "Error acquiring the state lock"."""
    if "Error acquiring the state lock" not in text:
        return None
    info: dict[str, str] = {}
    for line in text.splitlines():
        match = _LOCK_FIELD.match(line)
        if match and match.group(1) not in info:
            info[match.group(1)] = match.group(2)
    return info


def _parse_json_line(line: str) -> dict[str, Any] | None:
    if not line.startswith("{"):
        return None
    try:
        msg = json.loads(line)
    except ValueError:
        return None
    return msg if isinstance(msg, dict) else None


def _json_callback(
    on_message: Callable[[dict[str, Any]], None] | None,
) -> LineCallback | None:
    if on_message is None:
        return None

    def callback(line: str) -> None:
        msg = _parse_json_line(line)
        if msg is not None:
            on_message(msg)

    return callback


def _tail(result: Result) -> str:
    lines: collections.deque[str] = collections.deque(maxlen=STDERR_TAIL_LINES)
    for diag in result.diagnostics:
        if diag.get("severity") == "error":
            summary = diag.get("summary", "")
            detail = diag.get("detail", "")
            address = diag.get("address")
            head = f"Error: {summary}" + (f" ({address})" if address else "")
            lines.append(head)
            for line in str(detail).splitlines():
                lines.append("  " + line)
    for line in result.stderr.splitlines():
        if line.strip():
            lines.append(line)
    if not lines:
        for line in result.stdout.splitlines()[-STDERR_TAIL_LINES:]:
            if line.strip() and not line.startswith("{"):
                lines.append(line)
    return "\n".join(lines)
