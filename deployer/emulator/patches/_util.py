"""Helpers shared by the patch modules: idempotent attribute replacement."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

_MARK = "__deployer_patch__"

#: Every (owner, attribute name) a patch replaced, for the idempotency test.
REPLACED: list[tuple[Any, str]] = []


def _marked(value: Any) -> bool:
    if isinstance(value, property):
        value = value.fget
    return bool(getattr(value, _MARK, False))


def is_patched(owner: Any, name: str) -> bool:
    """Whether ``owner.name`` was installed by :func:`replace`."""
    if isinstance(owner, type):
        for klass in owner.__mro__:
            if name in klass.__dict__:
                return _marked(klass.__dict__[name])
        return False
    return _marked(getattr(owner, name, None))


def replace(owner: Any, name: str, factory: Callable[[Any], Any]) -> None:
    """Set ``owner.name = factory(original)`` unless already patched.

    ``original`` is the current attribute as stored (``None`` if absent); the
    new value is marked so that a second call is a no-op, which keeps every
    ``apply()`` idempotent.
    """
    if is_patched(owner, name):
        return
    if isinstance(owner, type):
        original = next((k.__dict__[name] for k in owner.__mro__ if name in k.__dict__), None)
    else:
        original = getattr(owner, name, None)
    new = factory(original)
    setattr(new.fget if isinstance(new, property) else new, _MARK, True)
    setattr(owner, name, new)
    REPLACED.append((owner, name))


def add_method(cls: type, name: str, func: Callable[..., Any]) -> None:
    """Add a method (for example a missing API action) to a class, once."""
    replace(cls, name, lambda _original: func)
