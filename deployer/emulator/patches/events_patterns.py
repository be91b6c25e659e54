"""EventBridge: event patterns match as EventBridge's content filtering does.

After the EventBridge user guide ("Event patterns", "Comparison operators for
use in event patterns"): a pattern names the fields to match with the event's
nesting; every field named must match (AND), the values listed for a field are
alternatives (OR), ``$or`` joins whole sub-patterns. Matching is on leaf values:
an array in the event matches if any of its elements does, and arrays of objects
are looked into (``"detail": {"items": {"kind": ["a"]}}`` matches an
``items`` array holding ``{"kind": "a"}``). Values compare as JSON values,
exactly: ``"5"`` is not ``5``, ``true`` is not ``1``, ``null`` matches only
``null``. Operators: ``prefix`` and ``suffix`` (plain or
``{"equals-ignore-case": ...}``), ``equals-ignore-case``, ``wildcard`` (``*``,
with ``\\*`` and ``\\\\`` escapes), ``anything-but`` (a value, a list, or a
``prefix``, ``suffix``, ``equals-ignore-case`` or ``wildcard`` inside it; the
field must be present), ``numeric`` (JSON numbers only, every comparison
holding), ``cidr``, ``exists`` (true: the leaf is present, false: absent; an
object is not a leaf).

moto 5.2.5 gets most operators right, but flattens the event only through
objects, so nothing inside an array of objects can match; compares with
Python's ``==``, so ``true`` matches ``1`` and ``numeric`` takes ``true`` for 1;
and treats an unknown operator as a match. This patch replaces
``EventPattern.matches_event`` with a matcher written after the guide (moto's
is kept as its ``__wrapped__``, for the tests that show the gap).

Left out: validating patterns beyond moto's own checks (an unknown operator
makes a rule that matches nothing here, where AWS rejects it at PutRule), the
numeric range and precision limits, ``cidr`` on IPv6 subtleties, and
TestEventPattern (moto answers it with an empty result).
"""

from __future__ import annotations

import ipaddress
import json
import re
from collections.abc import Callable, Mapping
from operator import eq, ge, gt, le, lt
from typing import Any

from ._util import replace

GAP = (
    "EventBridge patterns in moto do not look into arrays of objects, match true for 1, "
    "and match unknown operators."
)

Path = tuple[str, ...]

_NUMERIC: dict[str, Callable[[Any, Any], bool]] = {"<": lt, "<=": le, "=": eq, ">=": ge, ">": gt}


def leaves(event: Any) -> dict[Path, list[Any]]:
    """Every leaf value of ``event`` by its path of object keys (arrays looked through)."""
    found: dict[Path, list[Any]] = {}

    def walk(node: Any, path: Path) -> None:
        if isinstance(node, dict):
            for key, value in node.items():
                walk(value, (*path, str(key)))
        elif isinstance(node, list):
            for item in node:
                walk(item, path)
        else:
            found.setdefault(path, []).append(node)

    walk(event, ())
    return found


def matches(pattern: Mapping[str, Any], event: Any) -> bool:
    """Whether ``event`` (a decoded JSON event) matches ``pattern`` (a decoded pattern)."""
    return _matches_object(pattern, leaves(event), ())


def _matches_object(pattern: Mapping[str, Any], values: dict[Path, list[Any]], at: Path) -> bool:
    for key, spec in pattern.items():
        if key == "$or":
            if not isinstance(spec, list) or not any(
                isinstance(branch, dict) and _matches_object(branch, values, at) for branch in spec
            ):
                return False
        elif isinstance(spec, dict):
            if not _matches_object(spec, values, (*at, key)):
                return False
        elif isinstance(spec, list):
            if not _matches_field(spec, values.get((*at, key))):
                return False
        else:
            return False
    return True


def _matches_field(filters: list[Any], values: list[Any] | None) -> bool:
    for rule in filters:
        if isinstance(rule, dict) and "exists" in rule:
            if rule["exists"] is (values is not None):
                return True
        elif values is not None and any(_matches_value(rule, value) for value in values):
            return True
    return False


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def same(expected: Any, value: Any) -> bool:
    """JSON equality: strings with strings, numbers with numbers, booleans, null."""
    if expected is None or value is None:
        return expected is None and value is None
    if isinstance(expected, bool) or isinstance(value, bool):
        return isinstance(expected, bool) and isinstance(value, bool) and expected == value
    if _is_number(expected):
        return _is_number(value) and bool(expected == value)
    return isinstance(expected, str) and isinstance(value, str) and expected == value


def _as_list(spec: Any) -> list[Any]:
    return spec if isinstance(spec, list) else [spec]


def _text_test(spec: Any, test: Callable[[str, str], bool], value: Any) -> bool:
    """``prefix``/``suffix``: a string, or ``{"equals-ignore-case": string}``."""
    if not isinstance(value, str):
        return False
    if isinstance(spec, dict):
        folded = spec.get("equals-ignore-case")
        return isinstance(folded, str) and test(value.casefold(), folded.casefold())
    return any(isinstance(s, str) and test(value, s) for s in _as_list(spec))


def wildcard(pattern: str, value: str) -> bool:
    """``*`` matches any run of characters; ``\\*`` and ``\\\\`` are literal."""
    regex = []
    i = 0
    while i < len(pattern):
        char = pattern[i]
        if char == "\\" and i + 1 < len(pattern) and pattern[i + 1] in "*\\":
            regex.append(re.escape(pattern[i + 1]))
            i += 2
            continue
        regex.append(".*" if char == "*" else re.escape(char))
        i += 1
    return re.fullmatch("".join(regex), value, re.DOTALL) is not None


def _numeric(spec: Any, value: Any) -> bool:
    if not _is_number(value) or not isinstance(spec, list) or len(spec) % 2:
        return False
    for op, bound in zip(spec[::2], spec[1::2], strict=True):
        if op not in _NUMERIC or not _is_number(bound) or not _NUMERIC[op](value, bound):
            return False
    return True


def _cidr(spec: Any, value: Any) -> bool:
    if not isinstance(spec, str) or not isinstance(value, str):
        return False
    try:
        return ipaddress.ip_address(value) in ipaddress.ip_network(spec, strict=False)
    except ValueError:
        return False


def _anything_but(spec: Any, value: Any) -> bool:
    if isinstance(spec, dict):
        if len(spec) != 1:
            return False
        ((name, inner),) = spec.items()
        if name not in ("prefix", "suffix", "equals-ignore-case", "wildcard"):
            return False
        return not _matches_value({name: inner}, value)
    return not any(same(excluded, value) for excluded in _as_list(spec))


def _matches_value(rule: Any, value: Any) -> bool:
    if not isinstance(rule, dict):
        return same(rule, value)
    if len(rule) != 1:
        return False
    ((name, spec),) = rule.items()
    if name == "prefix":
        return _text_test(spec, str.startswith, value)
    if name == "suffix":
        return _text_test(spec, str.endswith, value)
    if name == "equals-ignore-case":
        return isinstance(value, str) and any(
            isinstance(s, str) and value.casefold() == s.casefold() for s in _as_list(spec)
        )
    if name == "wildcard":
        return isinstance(value, str) and any(
            isinstance(s, str) and wildcard(s, value) for s in _as_list(spec)
        )
    if name == "anything-but":
        return _anything_but(spec, value)
    if name == "numeric":
        return _numeric(spec, value)
    if name == "cidr":
        return _cidr(spec, value)
    return False


def apply() -> None:
    from moto.events.models import EventPattern

    def factory(_original: Any) -> Any:
        def matches_event(self: Any, event: Any) -> bool:
            pattern = self.get_pattern()
            if not pattern:
                return True
            return matches(pattern, json.loads(json.dumps(event, default=str)))

        matches_event.__wrapped__ = _original  # type: ignore[attr-defined]
        return matches_event

    replace(EventPattern, "matches_event", factory)
