"""A fake ``terraform`` binary for runner tests.

Writes a script that records argv and selected environment variables to a JSON
lines file, then behaves as the test asks through FAKE_TF_* variables (per
subcommand: FAKE_TF_PLAN_STDOUT, FAKE_TF_OUTPUT_STDOUT, FAKE_TF_APPLY_EXIT, ...).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

SCRIPT = """#!{python}
import json, os, sys
record = os.environ.get("FAKE_TF_RECORD")
if record:
    with open(record, "a") as fh:
        fh.write(json.dumps({{"argv": sys.argv[1:], "env": {{k: v for k, v in os.environ.items()
            if k.startswith(("TF_", "AWS_", "CHECKPOINT"))}}}}) + "\\n")
args = [a for a in sys.argv[1:] if not a.startswith("-chdir=")]
# FAKE_TF_SLEEP: take that long, and leave a note in TF_DATA_DIR of when this process ran.
pause = float(os.environ.get("FAKE_TF_SLEEP", "0"))
if pause:
    import time
    started = time.time()
    time.sleep(pause)
    data_dir = os.environ.get("TF_DATA_DIR")
    if data_dir:
        os.makedirs(data_dir, exist_ok=True)
        with open(os.path.join(data_dir, "ran.jsonl"), "a") as fh:
            fh.write(json.dumps({{"pid": os.getpid(), "started": started, "ended": time.time(),
                                 "data_dir": data_dir}}) + "\\n")
if args[:1] == ["version"]:
    print(json.dumps({{"terraform_version": os.environ.get("FAKE_TF_VERSION", "{version}")}}))
    sys.exit(0)
big = int(os.environ.get("FAKE_TF_FLOOD", "0"))
if big:
    # Interleave large writes to both pipes: a runner that reads them one after
    # the other deadlocks here once a pipe buffer (64 KiB) fills.
    chunk = "x" * 1023 + "\\n"
    for _ in range(big):
        sys.stderr.write(chunk)
        sys.stdout.write(chunk)
    sys.stderr.flush(); sys.stdout.flush()
# FAKE_TF_<SUBCOMMAND>_<STDOUT|STDERR|EXIT> (e.g. FAKE_TF_PLAN_EXIT) win over FAKE_TF_<...>.
sub = next((a for a in args if not a.startswith("-")), "").upper()
def setting(name, default=None):
    return os.environ.get(f"FAKE_TF_{{sub}}_{{name}}", os.environ.get(f"FAKE_TF_{{name}}", default))
stdout = setting("STDOUT")
if stdout:
    sys.stdout.write(stdout)
stderr = setting("STDERR")
if stderr:
    sys.stderr.write(stderr)
sys.exit(int(setting("EXIT", "0")))
"""


def write_fake_terraform(directory: Path, version: str = "1.11.4") -> Path:
    path = directory / "terraform"
    path.write_text(SCRIPT.format(python=sys.executable, version=version))
    path.chmod(0o755)
    return path


def read_records(path: Path) -> list[dict[str, object]]:
    return [json.loads(line) for line in path.read_text().splitlines() if line]
