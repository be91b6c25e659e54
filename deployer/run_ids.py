"""Run IDs: ``YYYYMMDDTHHMMSSZ-<short commit or 'local'>``, one per apply or destroy.

Sortable, and they say what ran. Printed, in ``--json``, and in the run history
(``deployer.state``). Resource names live in ``deployer.names``.
"""

from __future__ import annotations

import datetime as _dt
import re
import subprocess
from pathlib import Path


def short_commit(root: Path) -> str | None:
    try:
        proc = subprocess.run(
            ["git", "-C", str(root), "rev-parse", "--short=7", "HEAD"],
            capture_output=True,
            text=True,
            timeout=10,
            check=False,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    commit = proc.stdout.strip()
    return commit if proc.returncode == 0 and re.fullmatch(r"[0-9a-f]{7,12}", commit) else None


def run_id(root: Path, now: _dt.datetime | None = None) -> str:
    """``YYYYMMDDTHHMMSSZ-<short commit or 'local'>``: sortable, and says what ran."""
    moment = (now or _dt.datetime.now(_dt.UTC)).astimezone(_dt.UTC)
    return f"{moment:%Y%m%dT%H%M%SZ}-{short_commit(root) or 'local'}"
