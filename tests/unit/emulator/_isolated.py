"""Test scripts that must not run in the pytest process's moto, run once per test session.

Some unit tests drive moto in-process with the fidelity patches applied (or check stock
moto against them): the patches must not leak into the pytest process, so each such
test used to start its own interpreter, a few CPU-seconds each (importing moto, applying
the patches, starting ``mock_aws``, parsing botocore's service models), again in every
xdist worker that ran one of its tests. Here every registered script of a group runs in
one interpreter, once per test session, also under xdist: the first worker that needs a
group's results runs them, the others read them (a lock file in the run's shared
temporary folder, as ``test_codedeploy_engine.py`` does).

A test module registers its scripts when it is imported (:func:`script`), so every
worker (they all collect every module) knows the same scripts before any test runs, and
asks for one script's output with :func:`output`. Groups:

* ``patched``: every fidelity patch applied before the first script;
* ``stock``: moto as released (the interpreter fails a script that applies a patch).

``python -m tests.unit.emulator._isolated GROUP SCRIPTS.json RESULTS.json`` runs one
group's scripts in order, each as ``python -c SOURCE ARGS...`` would (``sys.argv``,
``__name__ == "__main__"``, its own globals) with what it prints captured, inside one
``mock_aws()`` held open for all of them: a script's own ``with mock_aws():`` is then
nested and neither resets nor rebuilds moto's URL routes, so every backend is reset
before each script, as ``mock_aws`` resets them when it starts. RESULTS.json maps each
script's name to ``{"stdout", "stderr", "error", "seconds"}``: ``error`` is the
traceback of what it raised (``None`` if it ran to its end).

Importing this module imports neither moto nor the patches: only :func:`main` does.
"""

from __future__ import annotations

import contextlib
import fcntl
import io
import json
import os
import subprocess
import sys
import time
import traceback
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # the interpreter that runs the scripts does not import pytest
    import pytest

ROOT = Path(__file__).resolve().parents[3]
MODULE = "tests.unit.emulator._isolated"
GROUPS = ("patched", "stock")


@dataclass(frozen=True)
class Script:
    source: str
    args: tuple[str, ...]


#: Every registered script, by group and name, in registration order.
REGISTERED: dict[str, dict[str, Script]] = {group: {} for group in GROUPS}


def script(group: str, name: str, source: str, *args: str) -> str:
    """Register ``source`` to run as ``python -c source *args`` in ``group``; its name."""
    if group not in REGISTERED:
        raise ValueError(f"unknown group {group!r}: one of {', '.join(GROUPS)}")
    known = REGISTERED[group].get(name)
    if known is not None and known != Script(source, args):
        raise ValueError(f"two different scripts named {name!r} in group {group}")
    REGISTERED[group][name] = Script(source, args)
    return name


def run_group(group: str, folder: Path, results: Path) -> dict[str, Any]:
    """Run every registered script of ``group`` in one interpreter; their results."""
    scripts = folder / f"{results.stem}-scripts.json"
    scripts.write_text(
        json.dumps(
            {
                name: {"source": s.source, "args": list(s.args)}
                for name, s in REGISTERED[group].items()
            }
        )
    )
    done = subprocess.run(
        [sys.executable, "-m", MODULE, group, str(scripts), str(results)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=900,
        check=False,
    )
    if done.returncode != 0 or not results.exists():
        crash = f"{MODULE} {group} exited {done.returncode}:\n{done.stderr[-4000:]}"
        results.write_text(json.dumps({"crash": crash}))
    found: dict[str, Any] = json.loads(results.read_text())
    return found


#: Each group's results, once this process has them.
_RESULTS: dict[str, dict[str, Any]] = {}


def results(tmp_path_factory: pytest.TempPathFactory, group: str) -> dict[str, Any]:
    """Every script of ``group`` by name: run at the first call of the session."""
    if group in _RESULTS:
        return _RESULTS[group]
    run_id = os.environ.get("PYTEST_XDIST_TESTRUNUID")
    if run_id is None:  # one process
        folder = tmp_path_factory.mktemp("isolated")
        found = run_group(group, folder, folder / f"isolated-{group}.json")
    else:  # xdist: the workers' base folders share this run's parent; the first one runs
        shared = tmp_path_factory.getbasetemp().parent
        target = shared / f"isolated-{group}-{run_id}.json"
        with (shared / f"isolated-{group}-{run_id}.lock").open("w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            if target.exists():
                found = json.loads(target.read_text())
            else:
                found = run_group(group, shared, target)
    _RESULTS[group] = found
    return found


def output(tmp_path_factory: pytest.TempPathFactory, group: str, name: str) -> str:
    """What the script printed, once it ran to its end (from the session's one run of its
    group). A script that raised fails the test with its traceback and its output."""
    import pytest

    found = results(tmp_path_factory, group)
    if "crash" in found:
        pytest.fail(found["crash"], pytrace=False)
    assert name in found, f"no script {name!r} ran in group {group}: {sorted(found)}"
    result = found[name]
    if result["error"]:
        pytest.fail(
            f"script {name} ({group}) raised:\n{result['error']}\n"
            f"stdout: {result['stdout'][-2000:]}\nstderr: {result['stderr'][-2000:]}",
            pytrace=False,
        )
    stdout: str = result["stdout"]
    return stdout


def run_one(name: str, script: Script) -> dict[str, Any]:
    """One script on freshly reset backends, as ``python -c`` would run it."""
    from moto.core.base_backend import BackendDict
    from moto.core.model_instances import reset_model_data

    BackendDict.reset()
    reset_model_data()
    stdout, stderr = io.StringIO(), io.StringIO()
    error = None
    started = time.monotonic()
    sys.argv = ["-c", *script.args]
    try:
        with contextlib.redirect_stdout(stdout), contextlib.redirect_stderr(stderr):
            exec(compile(script.source, f"<{name}>", "exec"), {"__name__": "__main__"})
    except BaseException:  # SystemExit too: python -c would have ended there
        error = traceback.format_exc()
    return {
        "stdout": stdout.getvalue(),
        "stderr": stderr.getvalue(),
        "error": error,
        "seconds": round(time.monotonic() - started, 2),
    }


def main(argv: list[str]) -> int:
    if len(argv) != 3 or argv[0] not in GROUPS:
        print(__doc__, file=sys.stderr)
        return 2
    group, scripts = argv[0], json.loads(Path(argv[1]).read_text())
    sys.path.insert(0, str(ROOT))
    from deployer.emulator import patches
    from deployer.emulator.patches import _util

    if group == "patched":
        patches.apply_all()
    from moto import mock_aws

    results = {}
    with mock_aws():
        for name, spec in scripts.items():
            result = run_one(name, Script(spec["source"], tuple(spec["args"])))
            if group == "stock" and _util.REPLACED and not result["error"]:
                result["error"] = f"a stock script patched moto: {_util.REPLACED}"
            results[name] = result
    Path(argv[2]).write_text(json.dumps(results, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
