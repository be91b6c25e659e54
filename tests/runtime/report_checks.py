"""`deployer report` on a real local run, for the pipeline e2e to call after its releases.

``check_report(project_dir, env, expected)`` runs ``deployer report ENV --json --html``
against the project's emulator and asserts what a user would notice: the deployments the
pipeline made, with the outcomes ``expected`` counts, each with its service, region and
commit; the four figures consistent with them; the page written, self-contained, holding
the figures; and the page rendered by headless Chromium (``screenshot``, Debian's
``chromium`` from ``bin/chromium``) into a PNG that is not blank.

``screenshot`` is also what the README's picture of the page is taken with.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
#: A src or href that would fetch something when the page is opened.
REMOTE = re.compile(r"""(?:src|href)\s*=\s*["']?\s*(?:https?:)?//""", re.IGNORECASE)
FIGURES = ("Deployment frequency", "Lead time for changes", "Change failure rate",
           "Time to restore")  # fmt: skip


def chromium() -> str:
    """The Chromium binary (bin/chromium installs Debian's as root when missing)."""
    done = subprocess.run(
        [str(ROOT / "bin" / "chromium")], capture_output=True, text=True, timeout=900, check=False
    )
    if done.returncode != 0:
        raise RuntimeError(f"bin/chromium failed: {done.stderr.strip()}")
    return done.stdout.strip().splitlines()[-1]


def screenshot(
    page_path: Path,
    png: Path,
    *,
    binary: str,
    size: tuple[int, int] = (1400, 1800),
    timeout: float = 120.0,
) -> Path:
    """Render the local page ``page_path`` with ``chromium --headless`` into ``png``."""
    with tempfile.TemporaryDirectory(prefix="deployer-chromium-") as profile:
        command = [
            binary,
            "--headless",
            "--no-sandbox",  # as root, and in containers without user namespaces
            "--disable-gpu",
            "--disable-dev-shm-usage",
            "--no-first-run",
            "--no-default-browser-check",
            "--disable-background-networking",
            "--disable-component-update",
            "--hide-scrollbars",
            f"--user-data-dir={profile}",
            f"--screenshot={png}",
            f"--window-size={size[0]},{size[1]}",
            page_path.resolve().as_uri(),
        ]
        done = subprocess.run(command, capture_output=True, text=True, timeout=timeout,
                              check=False)  # fmt: skip
    if done.returncode != 0 or not png.is_file():
        tail = "\n".join(done.stderr.strip().splitlines()[-5:])
        raise AssertionError(
            f"chromium could not render {page_path} (exit {done.returncode}): {tail}"
        )
    return png


def not_blank(png: Path) -> int:
    """How many distinct colours the image has (a blank page has one or two)."""
    from PIL import Image

    with Image.open(png) as image:
        colours = image.convert("RGB").getcolors(maxcolors=1 << 24)
    return len(colours or [])


def check_page(page: Path, document: Mapping[str, Any]) -> None:
    """The page is whole, fetches nothing, shows the four figures and the deployments."""
    text = page.read_text(encoding="utf-8")
    assert text.rstrip().endswith("</html>"), "the page is cut short"
    assert not REMOTE.search(text), f"the page fetches from the network: {REMOTE.search(text)}"
    assert "<script" not in text
    for label in FIGURES:
        assert label in text, label
    assert text.count('src="data:image/png;base64,') == 4, "four charts"
    for deployment in document["deployments"]:
        assert deployment["id"] in text


def check_report(
    project_dir: Path,
    env: str,
    expected: Mapping[str, int],
    *,
    state_dir: Path | None = None,
    out_dir: Path | None = None,
    since: str = "14d",
) -> dict[str, Any]:
    """Run ``deployer report ENV --json --html`` on the project's emulator and check it.

    ``expected``: how many of the environment's deployments end each way ("succeeded",
    "rolled back", "failed", "in progress"; unnamed outcomes: none). Returns the JSON
    document; the page and its screenshot are left in ``out_dir``."""
    import os

    out = Path(out_dir or tempfile.mkdtemp(prefix="deployer-report-"))
    page = out / f"report-{env}.html"
    environ = {**os.environ, "DEPLOYER_PROJECT_DIR": str(project_dir)}
    environ.pop("DEPLOYER_TARGET", None)
    if state_dir is not None:
        environ["DEPLOYER_STATE_DIR"] = str(state_dir)
    done = subprocess.run(
        [sys.executable, "-m", "deployer", "report", env, "--since", since, "--json",
         "--html", str(page)],
        capture_output=True, text=True, env=environ, timeout=300, check=False, cwd=ROOT,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    document: dict[str, Any] = json.loads(done.stdout)
    assert document["environment"] == env

    deployments = document["deployments"]
    outcomes = {o: sum(1 for d in deployments if d["outcome"] == o)
                for o in ("succeeded", "rolled back", "failed", "in progress")}  # fmt: skip
    assert outcomes == {o: expected.get(o, 0) for o in outcomes}, (outcomes, deployments)
    regions = {r["region"] for r in document["regions"]}
    for d in deployments:
        assert d["id"].startswith("d-"), d
        assert d["region"] in regions, d
        assert re.fullmatch(r"[0-9a-f]{40}", d["commit"] or ""), d
        if d["outcome"] == "succeeded":
            assert d["lead_time_seconds"] is not None and d["lead_time_seconds"] > 0, d
        if d["outcome"] == "rolled back":
            assert d["rollback_id"], d

    together = document["all"]
    assert together["deployments"] == len(deployments)
    ended = len(deployments) - outcomes["in progress"]
    if ended:
        assert together["change_failure_rate"] == outcomes["rolled back"] / ended
    assert together["deployment_frequency"]["per_day"] == outcomes["succeeded"] / document["days"]
    if outcomes["succeeded"]:
        assert together["lead_time_seconds"]["median"] > 0
    if outcomes["rolled back"]:
        assert together["time_to_restore_seconds"]["samples"] >= 1
    assert set(document["sources"]) == {"deployments", "deployment_frequency", "lead_time",
                                        "change_failure_rate", "time_to_restore"}  # fmt: skip

    check_page(page, document)
    png = screenshot(page, out / f"report-{env}.png", binary=chromium())
    assert not_blank(png) > 16, "the screenshot is blank"
    return document
