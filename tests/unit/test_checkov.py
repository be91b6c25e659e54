"""checkov on the module library and the stacks: no failed check.

checkov lives in its own virtual environment (.venv-checkov, made by
bin/_bootstrap.sh): it pins a boto3 that would fight moto's. Any skip must be
inline in the HCL (`#checkov:skip=CKV_...:reason`), next to what it excuses.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
from pathlib import Path

import pytest

pytestmark = pytest.mark.terraform

ROOT = Path(__file__).resolve().parents[2]
CHECKOV = Path(os.environ.get("DEPLOYER_CHECKOV", ROOT / ".venv-checkov" / "bin" / "checkov"))


def test_checkov_reports_no_failed_check() -> None:
    if not CHECKOV.exists():
        pytest.fail(f"checkov is not installed at {CHECKOV}: run bin/test (it bootstraps it)")
    argv = [str(CHECKOV), "-d", "modules", "-d", "environments", "--framework", "terraform"]
    argv += ["--output", "json", "--quiet", "--compact", "--skip-path", "tests"]
    argv += ["--download-external-modules", "false"]
    proc = subprocess.run(argv, cwd=ROOT, capture_output=True, text=True, timeout=900, check=False)
    assert proc.stdout.strip(), proc.stderr[-3000:]
    # One JSON document per scanned directory, concatenated.
    reports = []
    decoder = json.JSONDecoder()
    text = proc.stdout.strip()
    while text:
        document, end = decoder.raw_decode(text)
        reports += document if isinstance(document, list) else [document]
        text = text[end:].lstrip()
    failed = sorted(
        {
            f"{c['check_id']} {c['resource']} ({c['file_path']}:{c['file_line_range'][0]})"
            for report in reports
            for c in report.get("results", {}).get("failed_checks", [])
        }
    )
    passed = max(r.get("summary", {}).get("passed", 0) for r in reports)
    assert all(r.get("summary", {}).get("parsing_errors", 0) == 0 for r in reports)
    assert passed > 100, "checkov checked suspiciously little"
    assert failed == [], "checkov failed checks:\n  " + "\n  ".join(failed)


SKIP = re.compile(r"#\s*checkov:skip=(CKV2?_[A-Z0-9_]+)(:(.*))?")


def test_every_checkov_skip_is_inline_and_has_a_reason() -> None:
    found = 0
    for path in sorted((ROOT / "modules").rglob("*.tf")) + sorted(
        (ROOT / "environments").rglob("*.tf")
    ):
        for number, line in enumerate(path.read_text().splitlines(), 1):
            match = SKIP.search(line)
            if match:
                found += 1
                reason = (match.group(3) or "").strip()
                assert len(reason) >= 10, f"{path}:{number}: skip {match.group(1)} has no reason"
    assert not (ROOT / ".checkov.yaml").exists(), "skips belong inline, not in a config file"
    assert found < 40, "that many skips means the modules should change instead"
