"""Names and identifiers: ``{company}-{service}-{environment}-{resource}`` and run IDs."""

from __future__ import annotations

import datetime as _dt
import re
import subprocess
from pathlib import Path

RUN_ID_RE = re.compile(r"^\d{8}T\d{6}Z-([0-9a-f]{7,12}|local)$")


def resource_name(company: str, service: str, environment: str, resource: str) -> str:
    return f"{company}-{service}-{environment}-{resource}"


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
