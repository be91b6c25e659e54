"""The hosts entries that send ECR's registry names to the emulator's registry.

``docker push 111122223333.dkr.ecr.us-east-1.amazonaws.com/repo:tag`` must reach
the local registry without renaming anything users or AWS APIs see (task
definitions, ``imageDetail.json`` and ``repositoryUri`` keep ECR's names). The
Docker engine resolves registry names with the machine's resolver, which reads
``/etc/hosts`` first, so the emulator adds one line per registry name it serves
(``<account>.dkr.ecr.<region>.amazonaws.com`` -> the registry's loopback
address) when a repository is created there, and removes them when it stops.
Docker treats a registry whose name resolves into 127.0.0.0/8 as insecure
(plain HTTP allowed), so no certificate is needed.

The lines live in one block per emulator process, between marker comments that
name its pid and state folder::

    # >>> deployer emulator 4242 /home/me/project/.deployer/emulator
    127.0.0.1 111122223333.dkr.ecr.us-east-1.amazonaws.com
    # <<< deployer emulator 4242

Nothing else in the file is touched. A block whose process is gone (an emulator
that was killed) is removed by the next emulator that edits the file, and by
``deployer emulator stop``. Edits hold an exclusive lock on the file and rewrite
it in place (a container's ``/etc/hosts`` is a bind mount that cannot be replaced).

``$DEPLOYER_HOSTS_FILE`` names another file (tests). Writing ``/etc/hosts``
needs root: elsewhere :class:`HostsFile` raises :class:`HostsError` and the
emulator reports its registry down with that reason.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import re
from collections.abc import Iterable, Iterator
from pathlib import Path

HOSTS_ENV = "DEPLOYER_HOSTS_FILE"
DEFAULT_PATH = Path("/etc/hosts")
_BEGIN = "# >>> deployer emulator "
_END = "# <<< deployer emulator "


class HostsError(Exception):
    """The hosts file cannot be read or written."""


class NamesTaken(HostsError):
    """Another live emulator's block holds some of the names: they would be ambiguous
    (the resolver takes the first line), so they are not added."""

    def __init__(self, pid: int, names: list[str]) -> None:
        self.pid = pid
        self.names = names
        super().__init__(
            f"the emulator with pid {pid} serves ECR's registry names ({names[0]}, ...); "
            "stop it, or start this one with --no-runtime"
        )


def hosts_path() -> Path:
    return Path(os.environ.get(HOSTS_ENV) or DEFAULT_PATH)


def _alive(pid: int) -> bool:
    from deployer.emulator.process import pid_alive  # process imports this module

    return pid_alive(pid)


class HostsFile:
    """This emulator process's block of the hosts file."""

    def __init__(self, owner: str, path: Path | None = None, *, pid: int | None = None) -> None:
        self.path = path or hosts_path()
        self.pid = pid if pid is not None else os.getpid()
        self.owner = owner  # the emulator's state folder, for people reading the file
        self._names: dict[str, str] = {}  # name -> address

    # -- this process's entries ------------------------------------------------
    def add(self, names: Iterable[str], address: str) -> None:
        """Send ``names`` to ``address``; a no-op for names already there. Names another
        live emulator's block holds raise :class:`NamesTaken`, and none is added."""
        new = {name: address for name in names if self._names.get(name) != address}
        if not new:
            return
        before = dict(self._names)
        self._names.update(new)
        try:
            self._rewrite(checked=set(new))
        except HostsError:
            self._names = before
            raise

    def names(self) -> dict[str, str]:
        return dict(self._names)

    def remove(self) -> None:
        """Remove this process's block (and any left by dead emulators)."""
        self._names.clear()
        self._rewrite()

    def _rewrite(self, checked: set[str] | None = None) -> None:
        with _locked(self.path) as text:
            for pid, held in _blocks(text).items():
                taken = sorted((checked or set()) & set(held))
                if taken and pid != self.pid and _alive(pid):
                    raise NamesTaken(pid, taken)
            kept = strip_blocks(text, lambda pid: pid != self.pid and _alive(pid))
            block = ""
            if self._names:
                lines = [f"{address} {name}" for name, address in sorted(self._names.items())]
                block = "\n".join([f"{_BEGIN}{self.pid} {self.owner}", *lines, f"{_END}{self.pid}"])
            _write(self.path, _join(kept, block))


def owned_blocks(path: Path | None = None) -> dict[int, list[str]]:
    """Every emulator block in the hosts file: pid -> its names."""
    target = path or hosts_path()
    try:
        text = target.read_text()
    except FileNotFoundError:
        return {}
    except OSError as exc:
        raise HostsError(f"cannot read {target}: {exc.strerror}") from None
    return _blocks(text)


def _blocks(text: str) -> dict[int, list[str]]:
    found: dict[int, list[str]] = {}
    pid: int | None = None
    for line in text.splitlines():
        if line.startswith(_BEGIN):
            pid = _pid_of(line[len(_BEGIN) :])
            if pid is not None:
                found[pid] = []
        elif line.startswith(_END):
            pid = None
        elif pid is not None and line.strip():
            found[pid].extend(line.split()[1:])
    return found


def remove_blocks(pids: Iterable[int], path: Path | None = None) -> None:
    """Remove the blocks of ``pids`` and of emulators that are gone (``emulator stop``)."""
    target = path or hosts_path()
    gone = set(pids)
    if not target.exists():
        return
    with _locked(target) as text:
        kept = strip_blocks(text, lambda pid: pid not in gone and _alive(pid))
        if kept != text:
            _write(target, kept)


def strip_blocks(text: str, keep: object) -> str:
    """``text`` without the emulator blocks whose pid ``keep(pid)`` rejects."""
    out: list[str] = []
    dropping = False
    for line in text.splitlines(keepends=True):
        if line.startswith(_BEGIN):
            pid = _pid_of(line[len(_BEGIN) :])
            dropping = pid is not None and not keep(pid)  # type: ignore[operator]
            if dropping:
                continue
        elif line.startswith(_END) and dropping:
            dropping = False
            continue
        if not dropping:
            out.append(line)
    return "".join(out)


def _pid_of(rest: str) -> int | None:
    match = re.match(r"(\d+)", rest)
    return int(match.group(1)) if match else None


def _join(text: str, block: str) -> str:
    if not block:
        return text
    if text and not text.endswith("\n"):
        text += "\n"
    return f"{text}{block}\n"


@contextlib.contextmanager
def _locked(path: Path) -> Iterator[str]:
    try:
        handle = open(path, "a+")  # noqa: SIM115 - held for the lock's lifetime
    except OSError as exc:
        raise HostsError(f"cannot write {path}: {exc.strerror}") from None
    with handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        handle.seek(0)
        yield handle.read()


def _write(path: Path, text: str) -> None:
    # In place, on the inode the lock is held on: a replaced file would let a writer
    # waiting for the lock read the old one; and a container's bind-mounted
    # /etc/hosts cannot be replaced at all.
    try:
        with open(path, "r+") as out:
            out.write(text)
            out.truncate()
    except OSError as exc:
        raise HostsError(f"cannot write {path}: {exc.strerror}") from None
