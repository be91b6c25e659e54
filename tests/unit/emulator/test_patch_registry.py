"""Every patch module declares its gap and can be applied twice harmlessly."""

from __future__ import annotations

import re

from deployer.emulator import patches
from deployer.emulator.patches import _util


def test_every_patch_names_its_gap_and_documents_aws() -> None:
    found = patches.discover()
    assert found, "no patch modules"
    for patch in found:
        assert isinstance(patch.gap, str) and patch.gap.strip(), patch.name
        assert patch.module.__doc__ and patch.module.__doc__.strip(), patch.name
        assert callable(patch.module.apply), patch.name
        assert re.fullmatch(r"[a-z][a-z0-9_]*", patch.name)


def test_applying_twice_is_harmless() -> None:
    import moto.backend_index as backend_index

    first = patches.apply_all()
    replaced = {
        (id(owner), name): owner.__dict__[name] if isinstance(owner, type) else getattr(owner, name)
        for owner, name in _util.REPLACED
    }
    patterns = len(backend_index.backend_url_patterns)
    count = len(_util.REPLACED)

    second = patches.apply_all()

    assert second == first
    assert len(_util.REPLACED) == count, "a second apply() replaced something again"
    for owner, name in _util.REPLACED:
        current = owner.__dict__[name] if isinstance(owner, type) else getattr(owner, name)
        assert current is replaced[(id(owner), name)], f"{owner}.{name} re-wrapped"
    assert len(backend_index.backend_url_patterns) == patterns


def test_only_patches_selects_by_name(server_factory) -> None:  # type: ignore[no-untyped-def]
    server = server_factory("--only-patches", "codecommit_timestamps,codecommit_tags")
    assert sorted(server.patches) == ["codecommit_tags", "codecommit_timestamps"]
