"""Fixtures shared by every test layer.

The integration and e2e layers run against a fresh, patched emulator that the
tests start themselves, with a private state folder, and stop at the end: no
emulator or Terraform process outlives the session.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import boto3
import pytest

from deployer.aws import LOCAL, Target
from deployer.emulator import TEST_CREDENTIALS, Emulator, EmulatorStatus
from deployer.emulator.runtime import RUNTIME_ENV
from deployer.toolchain import Toolchain, prepare

ROOT = Path(__file__).resolve().parent.parent

# The emulators the tests start (theirs and every `deployer` run's) serve the AWS
# APIs only: one registry can hold 127.0.0.1:80 and ECR's names in /etc/hosts at
# a time. The tests of the runtime start theirs with runtime=True.
os.environ[RUNTIME_ENV] = "0"


@pytest.fixture(scope="session")
def project_root() -> Path:
    return ROOT


@pytest.fixture(scope="session")
def session_state_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A private local-state folder: the user's .deployer is never touched."""
    return tmp_path_factory.mktemp("deployer-state")


@pytest.fixture(scope="session")
def toolchain(session_state_dir: Path) -> Toolchain:
    """Terraform with the deployer's CLI config (mirror from $DEPLOYER_PROVIDER_MIRROR)."""
    return prepare(session_state_dir, ROOT)


@pytest.fixture(scope="session")
def terraform_binary(toolchain: Toolchain) -> str:
    return str(toolchain.binary)


@pytest.fixture(scope="session")
def emulator_state_dir(session_state_dir: Path) -> Path:
    """The session emulator's state folder: a deployer run with DEPLOYER_STATE_DIR set to
    it finds that emulator running instead of starting its own."""
    return session_state_dir / "emulator"


@pytest.fixture(scope="session")
def emulator(emulator_state_dir: Path) -> Iterator[EmulatorStatus]:
    """A fresh patched emulator for the session (``.endpoint``, ``.port``)."""
    emu = Emulator(emulator_state_dir)
    status = emu.start()
    try:
        yield status
    finally:
        emu.stop()


@pytest.fixture(scope="session")
def target(emulator: EmulatorStatus) -> Target:
    return Target(LOCAL, emulator.endpoint)


@pytest.fixture(scope="session")
def tf_env(target: Target, toolchain: Toolchain) -> dict[str, str]:
    """Environment for Terraform processes talking to the session's emulator."""
    env = target.environ()
    env.update(toolchain.environ())
    env["AWS_REGION"] = "us-east-1"
    return env


@pytest.fixture(scope="session")
def boto_session(emulator: EmulatorStatus) -> boto3.Session:
    return boto3.Session(
        aws_access_key_id=TEST_CREDENTIALS["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=TEST_CREDENTIALS["AWS_SECRET_ACCESS_KEY"],
        region_name="us-east-1",
    )


def _processes_mentioning(marker: str) -> list[str]:
    """Processes (not this one) whose command line or environment mentions ``marker``."""
    found = []
    needle = marker.encode()
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes()
            environ = (entry / "environ").read_bytes()
        except OSError:
            continue
        if needle in cmdline or needle in environ:
            shown = cmdline.replace(b"\0", b" ").decode(errors="replace")[:200]
            found.append(f"{entry.name}: {shown}")
    return found


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """Fail the run if an emulator or Terraform process started by the tests survives."""
    factory = getattr(session.config, "_tmp_path_factory", None)
    if factory is None:
        return
    try:
        base = factory.getbasetemp()
    except (OSError, ValueError):
        return
    leftovers = _processes_mentioning(str(base))
    if leftovers:
        reporter = session.config.pluginmanager.get_plugin("terminalreporter")
        if reporter is not None:
            reporter.write_line("processes left running by the tests:", red=True)
            for line in leftovers:
                reporter.write_line(f"  {line}", red=True)
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


# ---------------------------------------------------------------------------
# Per-layer times (.ci/run prints its own phases; pytest prints the layers')
# ---------------------------------------------------------------------------
#: layer -> [tests, seconds of test time, first start, last stop]
_LAYERS: dict[str, list[float]] = {}
#: When the session started (the controller's clock, as the reports' start and stop).
_SESSION_START: list[float] = []


def pytest_sessionstart(session: pytest.Session) -> None:
    import time

    _SESSION_START[:] = [time.time()]


def _layer(nodeid: str) -> str:
    parts = nodeid.split("/")
    if parts[0] == "tests" and len(parts) > 2:
        return parts[1]
    return parts[0]


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    """Collects each test's phases (on the controller, under xdist too)."""
    entry = _LAYERS.setdefault(_layer(report.nodeid), [0, 0.0, float("inf"), 0.0])
    if report.when == "call":
        entry[0] += 1
    entry[1] += report.duration
    start = getattr(report, "start", None)
    stop = getattr(report, "stop", None)
    if start is not None and stop is not None:
        entry[2] = min(entry[2], start)
        entry[3] = max(entry[3], stop)


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if not _LAYERS:
        return
    terminalreporter.write_sep("-", "time per layer")
    origin = _SESSION_START[0] if _SESSION_START else None
    for layer, (count, seconds, first, last) in sorted(_LAYERS.items()):
        window = f", from first start to last end {last - first:.0f} s" if last >= first else ""
        if window and origin is not None:  # where the layer sat in the session
            window += f" (+{first - origin:.0f} s to +{last - origin:.0f} s)"
        terminalreporter.write_line(
            f"{layer:<12} {int(count):4d} tests, {seconds:7.0f} s of test time{window}"
        )


# ---------------------------------------------------------------------------
# The order the workers start in (xdist's worksteal scheduler)
# ---------------------------------------------------------------------------
#: Unit test files whose tests run terraform or a linter over the project: tens of
#: seconds each, so they start with the e2e and integration tests instead of last.
_LONG_UNIT_FILES = (
    "tests/unit/test_terraform_static.py",
    "tests/unit/test_validation_mutants.py",
    "tests/unit/test_code_quality.py",
)


#: The runtime test that takes its turn on the lock last: it sends traffic at a set pace
#: (25 requests a second, which it checks it kept: with every core busy it fell to 18.8
#: in one run), so it goes once the others are done.
_RUNTIME_LAST = "tests/runtime/test_services_e2e.py"
#: Runtime tests that take none of the others' turns: one that starts no emulator, and
#: one whose project has registry names of its own (a lock of its own, its own hosts
#: block). The others take the lock, or start one whose registry must find no other's
#: names in the hosts file.
_RUNTIME_WITHOUT_EMULATOR = "tests/runtime/test_engine.py"
#: The runtime tests with registry names of their own (a lock of their own): they run
#: beside the chain, as long tests.
_RUNTIME_OWN_REGISTRY = (
    "tests/runtime/test_release_to_production.py",
    "tests/runtime/test_region_outage.py",
)


#: Typical seconds of the long tests in a fresh-clone CI (2026-12-01 23:13, 4 workers on
#: 2 cores), by node id prefix, for the order above; the first match counts.
_TYPICAL = (
    (_RUNTIME_OWN_REGISTRY[0], 1050.0),  # with the fourth microservice (+150 s alone)
    (_RUNTIME_OWN_REGISTRY[1], 450.0),  # alone: 370 s, before the partial failure and gaps
    ("tests/e2e/test_operations.py", 300.0),
    ("tests/integration/test_runtime_stack.py::test_runtime_stack[staging", 280.0),
    ("tests/e2e/test_apply_staging.py", 200.0),
    ("tests/e2e/test_apply_delivery.py", 155.0),
    ("tests/integration/test_runtime_stack.py", 120.0),
    ("tests/integration/test_delivery_stack.py", 115.0),
    ("tests/e2e/test_entry_points.py", 50.0),
    ("tests/unit/test_terraform_static.py::test_module_validates", 35.0),
    ("tests/e2e/", 30.0),
    ("tests/integration/", 30.0),
)


def _typical_seconds(item: pytest.Item) -> float:
    for prefix, seconds in _TYPICAL:
        if item.nodeid.startswith(prefix):
            return seconds
    return 5.0


def _kind(item: pytest.Item) -> str:
    layer = _layer(item.nodeid)
    if layer == "runtime" and not item.nodeid.startswith(
        (_RUNTIME_WITHOUT_EMULATOR, *_RUNTIME_OWN_REGISTRY)
    ):
        return "runtime"
    if layer == "runtime":
        return "long"  # Docker, but not the lock's turns
    if layer in ("e2e", "integration") or item.nodeid.startswith(_LONG_UNIT_FILES):
        return "long"
    return "short"


def _chunk_sizes(total: int, workers: int) -> list[int]:
    """The sizes of xdist worksteal's first hand-out: each idle worker in turn gets
    ``len(pending) // workers_left`` of the pending tests, in collection order."""
    sizes = []
    for left in range(workers, 0, -1):
        sizes.append(total // left)
        total -= sizes[-1]
    return sizes


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Lays the collection out for worksteal's first hand-out (contiguous chunks, one per
    worker; an idle worker later steals from the tail of the longest queue).

    The runtime tests that take turns on one machine-wide lock (runtime/conftest.py's
    registry_emulator) or need the hosts file to themselves: spread over the workers, they
    left two of four waiting on it for ten minutes. So one worker's chunk opens with all
    of them, in the order above, and the e2e, integration, terraform and other runtime
    tests open the other chunks, so that no long test is left for the end; short tests
    fill every chunk behind them, for the others to steal. Each worker collects the same order."""
    workers = int(os.environ.get("PYTEST_XDIST_WORKER_COUNT", "0"))
    if workers < 2:
        return
    kinds: dict[str, list[pytest.Item]] = {"runtime": [], "long": [], "short": []}
    for item in items:
        kinds[_kind(item)].append(item)
    kinds["runtime"].sort(key=lambda i: i.nodeid.startswith(_RUNTIME_LAST))
    # The long tests longest first, each into the chunk with the least work so far
    # (longest processing time first): the pipeline's e2e beside the lock's chain, and no
    # four-minute apply left to start at the end, as the integration tests were (they
    # started at +460 s and ended the run at +1,400 s of 1,400 in a fresh-clone CI).
    kinds["long"].sort(key=_typical_seconds, reverse=True)
    sizes = _chunk_sizes(len(items), workers)
    chunks: list[list[pytest.Item]] = [list(kinds["runtime"])] + [[] for _ in sizes[1:]]
    work = [0.0] * len(chunks)
    for item in kinds["long"]:
        lightest = min(range(1, len(chunks)), key=lambda c: work[c])
        chunks[lightest].append(item)
        work[lightest] += _typical_seconds(item)
    short = iter(kinds["short"])
    for chunk, size in zip(chunks, sizes, strict=True):
        while len(chunk) < size and (item := next(short, None)) is not None:
            chunk.append(item)
    chunks[-1].extend(short)  # only when the long tests overfilled a chunk
    items[:] = [item for chunk in chunks for item in chunk]
