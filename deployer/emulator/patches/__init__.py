"""Fidelity patches for the pinned moto version.

The local emulator is moto in server mode. Where moto answers differently from
AWS in a way that breaks the Terraform AWS provider (an error, a perpetual diff,
a slow waiter), a small patch here brings it in line. Patches are applied to the
moto classes in the emulator process at start (``deployer.emulator.serve``),
never by editing site-packages.

Each patch is a module in this package exposing:

* ``GAP``: one sentence naming the gap it closes, as the provider reports it;
* ``apply() -> None``: installs the patch; must be idempotent.

and has a test in ``tests/unit/emulator/`` that fails without it.

Every change to moto's classes is a patch here, so that ``deployer emulator
status`` lists it, including those that close no AWS fidelity gap: the hooks of
the emulator's runtime (such as ``ecr_registry_names``), whose ``GAP`` says so.
"""

from __future__ import annotations

import importlib
import pkgutil
from dataclasses import dataclass
from types import ModuleType

#: The moto version these patches were written and tested against.
MOTO_VERSION = "5.2.5"


class MotoVersionMismatch(RuntimeError):
    """The installed moto is not the version the patch set was written for."""


@dataclass(frozen=True)
class Patch:
    name: str
    gap: str
    module: ModuleType


def names() -> list[str]:
    """The name of every patch module in this package, in order, none imported."""
    found = (info.name for info in pkgutil.iter_modules(__path__))
    return sorted(name for name in found if not name.startswith("_"))


def discover() -> list[Patch]:
    """Every patch module in this package, in name order."""
    patches = []
    for name in names():
        module = importlib.import_module(f"{__name__}.{name}")
        patches.append(Patch(name, getattr(module, "GAP", ""), module))
    return patches


_applied: list[str] = []


def check_version() -> None:
    import moto

    if moto.__version__ != MOTO_VERSION:
        raise MotoVersionMismatch(
            f"the emulator fidelity patches are for moto {MOTO_VERSION}, "
            f"but moto {moto.__version__} is installed; reinstall the project "
            "(pip install -e .) to get the pinned version"
        )


def apply_all(only: list[str] | None = None) -> list[str]:
    """Apply every patch (or the named ones); return the names applied."""
    check_version()
    names = []
    for patch in discover():
        if only is not None and patch.name not in only:
            continue
        patch.module.apply()
        if patch.name not in _applied:
            _applied.append(patch.name)
        names.append(patch.name)
    return names


def applied() -> list[str]:
    return list(_applied)
