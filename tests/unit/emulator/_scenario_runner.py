"""Scenarios run in a separate interpreter, once per test session (the engine tests of
codedeploy and codepipeline).

The patches change moto process-wide, so a ``_<engine>_scenarios.py`` module applies them
in an interpreter of its own and runs every scenario there (:func:`main`, its ``__main__``);
the test module gets the results through the fixtures :func:`fixtures` makes: the first
xdist worker to need them runs the scenarios, the others read its results.
"""

from __future__ import annotations

import fcntl
import json
import os
import subprocess
import sys
import time
import traceback
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[3]

Result = Callable[[str], dict[str, Any]]


def _run(module: str, results: Path) -> dict[str, Any]:
    done = subprocess.run(
        [sys.executable, "-m", module, str(results)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=600,
    )
    if done.returncode != 0 or not results.exists():
        crash = f"{module} exited {done.returncode}:\n{done.stderr[-4000:]}"
        results.write_text(json.dumps({"crash": crash}))
    found: dict[str, Any] = json.loads(results.read_text())
    return found


def fixtures(module: str, label: str) -> tuple[Any, Any]:
    """The ``scenarios`` (every result by name, once a session) and ``result`` fixtures
    of the scenarios in ``module`` (dotted name); assign both in the test module."""

    @pytest.fixture(scope="session")
    def scenarios(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
        run_id = os.environ.get("PYTEST_XDIST_TESTRUNUID")
        if run_id is None:  # one process
            return _run(module, tmp_path_factory.mktemp(label) / "results.json")
        # xdist: the workers' base folders share this run's parent; the first one in runs
        shared = tmp_path_factory.getbasetemp().parent
        results = shared / f"{label}-scenarios-{run_id}.json"
        with (shared / f"{label}-scenarios-{run_id}.lock").open("w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            if results.exists():
                found: dict[str, Any] = json.loads(results.read_text())
                return found
            return _run(module, results)

    @pytest.fixture
    def result(scenarios: dict[str, Any]) -> Result:
        """``result(name)``: what the scenario observed, once it ran to its end."""

        def get(name: str) -> dict[str, Any]:
            if "crash" in scenarios:
                pytest.fail(scenarios["crash"], pytrace=False)
            assert name in scenarios, f"no scenario {name!r} in {sorted(scenarios)}"
            found = scenarios[name]
            if found["error"]:
                pytest.fail(
                    f"scenario {name} raised:\n{found['error']}\nobserved so far: {found['out']}",
                    pytrace=False,
                )
            out: dict[str, Any] = found["out"]
            return out

        return get

    return scenarios, result


def main(
    argv: list[str],
    *,
    doc: str | None,
    scenarios: dict[str, Callable[[Any, dict[str, Any]], None]],
    case: Callable[[dict[str, Any]], Any],
    environment: dict[str, str],
    left_out: Iterable[str],
    default: Callable[[Any], Any] | None = None,
) -> int:
    """A scenarios module's ``__main__``: ``RESULTS.json [NAME ...]`` (every scenario by
    default), with the patches applied but ``left_out``; each scenario gets
    ``case(clients)`` and the dict of what it observes (``default`` encodes the odd value)."""
    if not argv:
        print(doc, file=sys.stderr)
        return 2
    target, names = Path(argv[0]), argv[1:] or list(scenarios)
    unknown = [n for n in names if n not in scenarios]
    if unknown:
        print(f"unknown scenarios: {', '.join(unknown)}", file=sys.stderr)
        return 2
    os.environ.update(environment)
    from deployer.emulator import patches

    skipped = set(left_out)
    patches.apply_all(only=[n for n in patches.names() if n not in skipped])
    target.write_text(json.dumps(run_all(names, scenarios, case, default), indent=1))
    return 0


def run_all(
    names: list[str],
    scenarios: dict[str, Callable[[Any, dict[str, Any]], None]],
    case: Callable[[dict[str, Any]], Any],
    default: Callable[[Any], Any] | None = None,
) -> dict[str, dict[str, Any]]:
    """Each named scenario on fresh backends, in one ``mock_aws()``: between two scenarios
    every backend is reset as ``mock_aws`` resets them when it starts and stops (starting
    it again would also rebuild its ~1,300 URL routes, more CPU than a scenario).
    Clients hold no state of moto's and are shared."""
    from moto import mock_aws
    from moto.core.base_backend import BackendDict
    from moto.core.model_instances import reset_model_data

    clients: dict[str, Any] = {}
    results = {}
    with mock_aws():
        for name in names:
            BackendDict.reset()
            reset_model_data()
            function = scenarios[name]
            results[name] = run_one(lambda out, f=function: f(case(clients), out), default)
    return results


def run_one(
    call: Callable[[dict[str, Any]], None], default: Callable[[Any], Any] | None = None
) -> dict[str, Any]:
    """One scenario (``call(out)``): what it observed, and its traceback if it raised. The
    observations go through JSON now (tuples become lists, as the assertions expect); one
    that does not encode (with ``default``) is a scenario bug, reported as such."""
    out: dict[str, Any] = {}
    error = None
    started = time.monotonic()
    try:
        call(out)
    except Exception:
        error = traceback.format_exc()
    try:
        encoded = json.loads(json.dumps(out, default=default))
    except (TypeError, ValueError):
        encoded, error = {}, (error or "") + traceback.format_exc()
    return {"out": encoded, "error": error, "seconds": round(time.monotonic() - started, 2)}
