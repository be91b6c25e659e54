"""Drift: what changed in AWS behind Terraform's back (``deployer drift``).

Per workspace, ``terraform plan -refresh-only`` compares the state with the remote
objects; ``terraform show -json`` of that plan lists each drifted resource
(``resource_drift``) with its attributes before (the state) and after (AWS now).
This module turns that into a report naming each drifted resource and attribute,
values masked where the provider marks an attribute sensitive.

A refresh-only plan also reports attributes the configuration leaves to someone
else with ``lifecycle { ignore_changes = [...] }``: the stacks leave the ECS
service's task definition and load balancer, and the listeners' default actions,
to CodeDeploy (each blue/green deployment changes them). Those are not drift: they
are listed separately as "left to CodeDeploy" and never make the exit code 3. The
rules are read from the ``.tf`` files themselves (:func:`ignore_rules`), so a new
``ignore_changes`` needs no change here.

Drift counts only in what the configuration sets (the plan's ``configuration``
``expressions``): a refresh also reads back attributes no configuration sets
(computed ones, ``tags_all``, a role's ``inline_policy`` managed by a separate
policy resource, null read back as an empty map), most visibly on the first
refresh after an apply. Terraform would never change those back, so they are
named (no values) under ``not_in_configuration`` in the JSON report, not counted.
Likewise null read back as its zero value (0, "", false, [], {}) inside a
configured block is not a change.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

#: What a sensitive value is shown as.
MASK = "(sensitive)"

#: A drifted value longer than this is cut in reports.
MAX_VALUE = 120

_RESOURCE_RE = re.compile(r'^resource\s+"([\w-]+)"\s+"([\w-]+)"\s*\{', re.MULTILINE)
_IGNORE_RE = re.compile(r"ignore_changes\s*=\s*\[([^\]]*)\]")


# ---------------------------------------------------------------------------
# ignore_changes, from the configuration
# ---------------------------------------------------------------------------
def _block(text: str, start: int) -> str:
    """The body of the block whose opening brace is at ``start - 1``."""
    depth = 1
    i = start
    while i < len(text) and depth:
        char = text[i]
        if char == "{":
            depth += 1
        elif char == "}":
            depth -= 1
        elif char == "#":
            i = text.find("\n", i)
            if i < 0:
                break
        elif char == '"':
            i += 1
            while i < len(text) and text[i] != '"':
                i += 2 if text[i] == "\\" else 1
        i += 1
    return text[start:i]


def ignore_rules(folder: Path) -> dict[tuple[str, str], frozenset[str]]:
    """(resource type, name) -> the top-level attributes its ``ignore_changes`` lists."""
    rules: dict[tuple[str, str], frozenset[str]] = {}
    for tf in sorted(folder.glob("*.tf")):
        text = tf.read_text()
        for match in _RESOURCE_RE.finditer(text):
            body = _block(text, match.end())
            ignored = _IGNORE_RE.search(body)
            if ignored:
                names = {
                    part.strip().split(".")[0].split("[")[0]
                    for part in ignored.group(1).split(",")
                    if part.strip()
                }
                rules[(match.group(1), match.group(2))] = frozenset(names)
    return rules


def module_folders(configuration: Mapping[str, Any], stack_dir: Path) -> dict[str, Path]:
    """Module call path ("service", "service.task_definition") -> its source folder."""
    folders: dict[str, Path] = {}

    def walk(module: Mapping[str, Any], prefix: str, here: Path) -> None:
        for name, call in (module.get("module_calls") or {}).items():
            path = f"{prefix}.{name}" if prefix else name
            folder = (here / str(call.get("source", ""))).resolve()
            folders[path] = folder
            walk(call.get("module") or {}, path, folder)

    walk(configuration.get("root_module") or {}, "", stack_dir.resolve())
    return folders


def configured_attributes(
    configuration: Mapping[str, Any],
) -> dict[tuple[str, str], frozenset[str]]:
    """(module call path, resource address in its module) -> the attributes and blocks its
    configuration sets (the plan JSON's ``expressions``)."""
    found: dict[tuple[str, str], frozenset[str]] = {}

    def walk(module: Mapping[str, Any], prefix: str) -> None:
        for resource in module.get("resources") or []:
            found[(prefix, str(resource.get("address", "")))] = frozenset(
                resource.get("expressions") or {}
            )
        for name, call in (module.get("module_calls") or {}).items():
            walk(call.get("module") or {}, f"{prefix}.{name}" if prefix else name)

    walk(configuration.get("root_module") or {}, "")
    return found


def call_path(module_address: str) -> str:
    """``module.service["api"].module.x`` -> ``service.x`` (instance keys dropped)."""
    names = re.findall(r'module\.([\w-]+)(?:\[(?:"[^"]*"|\d+)\])?', module_address or "")
    return ".".join(names)


# ---------------------------------------------------------------------------
# The report
# ---------------------------------------------------------------------------
@dataclass(frozen=True)
class AttributeDrift:
    path: str
    state: Any  # what Terraform recorded
    remote: Any  # what AWS has now
    sensitive: bool = False

    def to_json(self) -> dict[str, Any]:
        return {
            "attribute": self.path,
            "state": MASK if self.sensitive else self.state,
            "remote": MASK if self.sensitive else self.remote,
        }

    def describe(self) -> str:
        if self.sensitive:
            return f"{self.path}: {MASK}"
        return f"{self.path}: {_short(self.state)} -> {_short(self.remote)}"


@dataclass
class ResourceDrift:
    address: str
    type: str
    action: str  # "update" (changed) or "delete" (gone)
    attributes: list[AttributeDrift] = field(default_factory=list)
    #: Attributes that changed but are left to CodeDeploy (``ignore_changes``).
    left_alone: list[str] = field(default_factory=list)
    #: Attributes that changed but the configuration does not set (computed or
    #: normalised by the provider: ``tags_all``, an ``inline_policy`` another resource
    #: manages, null read back as empty): Terraform would not change them back.
    unmanaged: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {
            "address": self.address,
            "type": self.type,
            "action": self.action,
            "attributes": [a.to_json() for a in self.attributes],
            "left_to_codedeploy": self.left_alone,
            "not_in_configuration": self.unmanaged,
        }


def _short(value: Any) -> str:
    text = json.dumps(value, sort_keys=True, separators=(",", ":"), default=str)
    return text if len(text) <= MAX_VALUE else text[: MAX_VALUE - 3] + "..."


def _sensitive(marks: Any, key: str | int) -> Any:
    if isinstance(marks, dict) and isinstance(key, str):
        return marks.get(key, False)
    if isinstance(marks, list) and isinstance(key, int) and key < len(marks):
        return marks[key]
    return marks if marks is True else False


def attribute_drift(
    before: Any, after: Any, marks_before: Any, marks_after: Any, path: str = ""
) -> Iterator[AttributeDrift]:
    """Leaf paths where ``before`` and ``after`` differ (maps walked; lists of equal
    length walked by index, others compared whole); sensitive ones flagged."""
    if marks_before is True or marks_after is True:
        if before != after:
            yield AttributeDrift(path, None, None, sensitive=True)
        return
    if isinstance(before, dict) and isinstance(after, dict):
        for key in sorted(set(before) | set(after)):
            yield from attribute_drift(
                before.get(key),
                after.get(key),
                _sensitive(marks_before, key),
                _sensitive(marks_after, key),
                f"{path}.{key}" if path else key,
            )
        return
    if isinstance(before, list) and isinstance(after, list) and len(before) == len(after):
        for i, (old, new) in enumerate(zip(before, after, strict=True)):
            yield from attribute_drift(
                old, new, _sensitive(marks_before, i), _sensitive(marks_after, i), f"{path}[{i}]"
            )
        return
    if before != after and not (_empty(before) and _empty(after)):
        yield AttributeDrift(path, before, after)


def _empty(value: Any) -> bool:
    """Null and the zero values a provider reads it back as (0, "", false, [], {});
    false is among them because False == 0."""
    return value is None or value in (0, "", [], {})


def _top(path: str) -> str:
    return re.split(r"[.\[]", path, maxsplit=1)[0]


def analyse(plan: Mapping[str, Any], stack_dir: Path) -> list[ResourceDrift]:
    """The drift a refresh-only plan (``terraform show -json``) reports, resource by resource."""
    configuration = plan.get("configuration") or {}
    folders = module_folders(configuration, stack_dir)
    configured = configured_attributes(configuration)
    rules_by_folder: dict[Path, dict[tuple[str, str], frozenset[str]]] = {}
    result: list[ResourceDrift] = []
    for item in plan.get("resource_drift") or []:
        change = item.get("change") or {}
        actions = change.get("actions") or []
        if item.get("mode") == "data" or actions in (["no-op"], ["read"]):
            continue
        module = call_path(item.get("module_address", ""))
        folder = folders.get(module, stack_dir.resolve())
        managed = configured.get((module, f"{item.get('type', '')}.{item.get('name', '')}"))
        if folder not in rules_by_folder:
            rules_by_folder[folder] = ignore_rules(folder)
        ignored: frozenset[str] = rules_by_folder[folder].get(
            (item.get("type", ""), item.get("name", "")), frozenset()
        )
        drift = ResourceDrift(
            item.get("address", "?"),
            item.get("type", "?"),
            "delete" if "delete" in actions else "update",
        )
        if drift.action == "update":
            for attr in attribute_drift(
                change.get("before"),
                change.get("after"),
                change.get("before_sensitive", False),
                change.get("after_sensitive", False),
            ):
                top = _top(attr.path)
                if top in ignored:
                    if top not in drift.left_alone:
                        drift.left_alone.append(top)
                elif managed is None or top in managed:
                    drift.attributes.append(attr)
                elif top not in drift.unmanaged:
                    drift.unmanaged.append(top)
        result.append(drift)
    return result


def drifted(resources: Sequence[ResourceDrift]) -> list[ResourceDrift]:
    """Resources that drifted in something not left to CodeDeploy."""
    return [r for r in resources if r.action == "delete" or r.attributes]
