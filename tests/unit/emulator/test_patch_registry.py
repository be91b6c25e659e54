"""Every patch module declares its gap and can be applied twice harmlessly."""

from __future__ import annotations

import re
import subprocess
import sys

from deployer.emulator import patches

from .conftest import Server


def test_every_patch_names_its_gap_and_documents_aws() -> None:
    found = patches.discover()
    assert found, "no patch modules"
    for patch in found:
        assert isinstance(patch.gap, str) and patch.gap.strip(), patch.name
        assert patch.module.__doc__ and patch.module.__doc__.strip(), patch.name
        assert callable(patch.module.apply), patch.name
        assert re.fullmatch(r"[a-z][a-z0-9_]*", patch.name)


IDEMPOTENCY_CHECK = """
import moto.backend_index as backend_index
from deployer.emulator import patches
from deployer.emulator.patches import _util

def value(owner, name):
    return owner.__dict__[name] if isinstance(owner, type) else getattr(owner, name)

first = patches.apply_all()
replaced = {(id(o), n): value(o, n) for o, n in _util.REPLACED}
count, urls = len(_util.REPLACED), len(backend_index.backend_url_patterns)
second = patches.apply_all()
assert second == first, (first, second)
assert len(_util.REPLACED) == count, "a second apply() replaced something again"
for owner, name in _util.REPLACED:
    assert value(owner, name) is replaced[(id(owner), name)], f"{owner}.{name} re-wrapped"
assert len(backend_index.backend_url_patterns) == urls
print(len(first))
"""


def test_applying_twice_is_harmless() -> None:
    # In a separate interpreter: the patches must not leak into this one's moto.
    result = subprocess.run(
        [sys.executable, "-c", IDEMPOTENCY_CHECK],
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert int(result.stdout) == len(patches.discover())


def test_only_patches_selects_by_name(server_factory) -> None:  # type: ignore[no-untyped-def]
    server = server_factory("--only-patches", "codecommit_timestamps,codecommit_tags")
    assert sorted(server.patches) == ["codecommit_tags", "codecommit_timestamps"]


def test_every_patch_is_applied_and_listed(patched: Server) -> None:
    # The server's announcement is what `deployer emulator status` lists.
    assert patched.patches == [patch.name for patch in patches.discover()]
