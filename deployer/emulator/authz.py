"""IAM's identity-policy evaluation for the sessions of assumed roles, in one place.

Both the HTTP requests signed with an assumed-role session's keys
(``patches/iam_session_auth.py``) and the engines' own calls made "as" a role (the
CodePipeline engine's actions, the CodeBuild engine's reads and writes) are decided
here, after the IAM user guide ("Policy evaluation logic", "Determining whether a
request is allowed or denied within an account", "IAM JSON policy elements":
Action, NotAction, Resource, NotResource, Condition, "Condition operators",
"Troubleshoot access denied error messages"):

* the role's identity-based policies: its inline policies and the default version of
  each managed policy attached to it (AWS managed ones included);
* a statement applies when its Action (or NotAction) matches the action (service
  prefix and name case-insensitive, ``*`` and ``?`` wildcards), its Resource (or
  NotResource) matches the resource (case-sensitive, wildcards) and every operator of
  its Condition holds for the request's context keys (key names case-insensitive);
  operators StringEquals, StringNotEquals, StringEqualsIgnoreCase,
  StringNotEqualsIgnoreCase, StringLike, StringNotLike, ArnEquals, ArnLike,
  ArnNotEquals, ArnNotLike, Bool, Null, NumericEquals/LessThan/GreaterThan (and their
  Equals forms), each with ``IfExists`` and the ``ForAnyValue:``/``ForAllValues:``
  set qualifiers; a key the request does not have fails a condition (but for
  ``...IfExists``, Null and ForAllValues);
* an explicit Deny wins; otherwise an Allow is needed; the refusal reads as AWS's
  (``User: <session ARN> is not authorized to perform: <action> on resource:
  <resource> because no identity-based policy allows the <action> action``, or
  ``with an explicit deny in an identity-based policy``).

Left out: resource-based policies (bucket, key, topic, repository and function
policies), KMS key policies and grants, service control and resource control
policies, permissions boundaries, session policies (the engines and builds never pass
one), policy variables (``${aws:username}``), the date and IP operators, and the
global context keys but those a caller gives (``aws:PrincipalArn``,
``aws:PrincipalAccount``, ``aws:RequestedRegion`` are always given).
"""

from __future__ import annotations

import fnmatch
import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

#: Statements decide ALLOW or DENY; a request no statement allows is IMPLICIT.
ALLOW, DENY, IMPLICIT = "allow", "deny", "implicit"

Context = Mapping[str, str | list[str]]


class AccessDenied(Exception):
    """A call the session's policies do not allow; ``message`` is AWS's wording."""

    def __init__(self, principal: str, action: str, resource: str, explicit: bool) -> None:
        self.principal = principal
        self.action = action
        self.resource = resource
        self.explicit = explicit
        super().__init__(self.message)

    @property
    def message(self) -> str:
        return denied_message(self.principal, self.action, self.resource, self.explicit)


def denied_message(principal: str, action: str, resource: str, explicit: bool) -> str:
    why = (
        "with an explicit deny in an identity-based policy"
        if explicit
        else f"because no identity-based policy allows the {action} action"
    )
    return f"User: {principal} is not authorized to perform: {action} on resource: {resource} {why}"


@dataclass(frozen=True)
class Session:
    """An assumed role's session: who the calls are made as."""

    role_arn: str
    session_name: str

    @property
    def account(self) -> str:
        return self.role_arn.split(":")[4]

    @property
    def partition(self) -> str:
        return self.role_arn.split(":")[1]

    @property
    def role_name(self) -> str:
        return self.role_arn.rsplit("/", 1)[-1]

    @property
    def arn(self) -> str:
        """``arn:aws:sts::ACCOUNT:assumed-role/ROLE/SESSION``, as AWS names the caller."""
        return (
            f"arn:{self.partition}:sts::{self.account}:assumed-role/"
            f"{self.role_name}/{self.session_name}"
        )


def documents(role_arn: str) -> list[dict[str, Any]]:
    """The identity policies of the role (inline, then attached managed), parsed; none
    if the role no longer exists (so every call is refused, as for a deleted role)."""
    from moto.iam.models import iam_backends

    account, partition = role_arn.split(":")[4], role_arn.split(":")[1]
    try:
        role = iam_backends[account][partition].get_role_by_arn(role_arn)
    except Exception:
        return []
    found: list[dict[str, Any]] = []
    texts = list(role.policies.values())
    for policy in role.managed_policies.values():
        default = next((v for v in policy.versions if v.is_default), None)
        if default is not None:
            texts.append(default.document)
    for text in texts:
        try:
            parsed = json.loads(text) if isinstance(text, str) else dict(text)
        except (TypeError, ValueError):
            continue
        if isinstance(parsed, dict):
            found.append(parsed)
    return found


def decide(
    policies: Iterable[Mapping[str, Any]],
    action: str,
    resource: str | None,
    context: Context | None = None,
) -> str:
    """ALLOW, DENY or IMPLICIT for one action on one resource (None: a request whose
    resource the emulator does not know; then only Action and Condition decide)."""
    keys = {k.lower(): ([v] if isinstance(v, str) else list(v)) for k, v in (context or {}).items()}
    allowed = False
    for policy in policies:
        statements = policy.get("Statement") or []
        for statement in [statements] if isinstance(statements, dict) else statements:
            if not isinstance(statement, dict) or not _applies(statement, action, resource, keys):
                continue
            if statement.get("Effect") == "Deny":
                return DENY
            allowed = allowed or statement.get("Effect") == "Allow"
    return ALLOW if allowed else IMPLICIT


def authorize(
    session: Session,
    action: str,
    resources: str | Iterable[str] = "*",
    context: Context | None = None,
) -> None:
    """Raise :class:`AccessDenied` unless the session's role may ``action`` every one of
    ``resources`` (the first refused one is named)."""
    policies = documents(session.role_arn)
    base: dict[str, str | list[str]] = {
        "aws:PrincipalArn": session.role_arn,
        "aws:PrincipalAccount": session.account,
        "aws:PrincipalType": "AssumedRole",
    }
    base.update(context or {})
    for resource in [resources] if isinstance(resources, str) else list(resources):
        verdict = decide(policies, action, resource, base)
        if verdict != ALLOW:
            raise AccessDenied(session.arn, action, resource, verdict == DENY)


# -- one statement -------------------------------------------------------------------------------


def _applies(
    statement: Mapping[str, Any], action: str, resource: str | None, keys: dict[str, list[str]]
) -> bool:
    if "NotAction" in statement:
        if any(_action_matches(p, action) for p in _list(statement["NotAction"])):
            return False
    elif not any(_action_matches(p, action) for p in _list(statement.get("Action"))):
        return False
    if resource is not None:
        if "NotResource" in statement:
            if any(_matches(p, resource) for p in _list(statement["NotResource"])):
                return False
        elif not any(_matches(p, resource) for p in _list(statement.get("Resource"))):
            return False
    return all(
        _condition(operator, key, values, keys)
        for operator, block in (statement.get("Condition") or {}).items()
        for key, values in (block or {}).items()
    )


def _list(value: Any) -> list[str]:
    if value is None:
        return []
    return [str(v) for v in value] if isinstance(value, list) else [str(value)]


def _action_matches(pattern: str, action: str) -> bool:
    return _matches(pattern.lower(), action.lower())


def _matches(pattern: str, value: str) -> bool:
    if pattern == "*":
        return True
    if "*" not in pattern and "?" not in pattern:
        return pattern == value
    return _glob(pattern).fullmatch(value) is not None


_GLOBS: dict[str, re.Pattern[str]] = {}


def _glob(pattern: str) -> re.Pattern[str]:
    found = _GLOBS.get(pattern)
    if found is None:
        # fnmatch's translation without its [...] classes, which IAM does not have
        escaped = pattern.replace("[", "\x00").replace("]", "\x01")
        regex = fnmatch.translate(escaped).replace("\x00", r"\[").replace("\x01", r"\]")
        found = _GLOBS[pattern] = re.compile(regex, re.DOTALL)
    return found


def _condition(operator: str, key: str, expected: Any, keys: dict[str, list[str]]) -> bool:
    qualifier, _, name = operator.rpartition(":")
    if_exists = name.endswith("IfExists")
    name = name.removesuffix("IfExists")
    wanted = _list(expected)
    actual = keys.get(key.lower())
    if name == "Null":
        return (actual is None) == (wanted and wanted[0].lower() == "true")
    if actual is None:
        return if_exists or qualifier == "ForAllValues"
    test = _OPERATORS.get(name)
    if test is None:  # an operator the emulator does not evaluate never holds
        return False
    negated = name.startswith(("StringNot", "ArnNot", "NumericNotEquals"))
    if qualifier == "ForAllValues":
        return all(test(v, wanted) for v in actual)
    if qualifier == "ForAnyValue" or not negated:
        return any(test(v, wanted) for v in actual)
    return all(test(v, wanted) for v in actual)


def _numeric(compare: Any) -> Any:
    def test(value: str, wanted: list[str]) -> bool:
        try:
            return any(compare(float(value), float(w)) for w in wanted)
        except ValueError:
            return False

    return test


_OPERATORS: dict[str, Any] = {
    "StringEquals": lambda v, w: v in w,
    "StringNotEquals": lambda v, w: v not in w,
    "StringEqualsIgnoreCase": lambda v, w: v.lower() in [x.lower() for x in w],
    "StringNotEqualsIgnoreCase": lambda v, w: v.lower() not in [x.lower() for x in w],
    "StringLike": lambda v, w: any(_matches(x, v) for x in w),
    "StringNotLike": lambda v, w: not any(_matches(x, v) for x in w),
    "ArnEquals": lambda v, w: any(_matches(x, v) for x in w),
    "ArnLike": lambda v, w: any(_matches(x, v) for x in w),
    "ArnNotEquals": lambda v, w: not any(_matches(x, v) for x in w),
    "ArnNotLike": lambda v, w: not any(_matches(x, v) for x in w),
    "Bool": lambda v, w: v.lower() in [x.lower() for x in w],
    "NumericEquals": _numeric(lambda a, b: a == b),
    "NumericNotEquals": _numeric(lambda a, b: a != b),
    "NumericLessThan": _numeric(lambda a, b: a < b),
    "NumericLessThanEquals": _numeric(lambda a, b: a <= b),
    "NumericGreaterThan": _numeric(lambda a, b: a > b),
    "NumericGreaterThanEquals": _numeric(lambda a, b: a >= b),
}


# -- KMS keys, as the callers name them ----------------------------------------------------------


@dataclass(frozen=True)
class Key:
    """A KMS key found by its id, ARN or alias: its ARN, aliases, state."""

    arn: str
    aliases: tuple[str, ...]
    enabled: bool
    state: str


class KeyNotFound(Exception):
    """No such key: ``message`` as KMS's NotFoundException says it."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def kms_key(reference: str, account: str, region: str) -> Key:
    """The key ``reference`` (key id, key ARN, alias name or alias ARN) names, looked up in
    the ARN's account and region (else ``account`` and ``region``)."""
    from moto.kms.models import kms_backends

    if reference.startswith("arn:"):
        parts = reference.split(":")
        region, account = parts[3], parts[4]
    backend: Any = kms_backends[account][region]
    key_id = reference.split(":", 5)[-1] if reference.startswith("arn:") else reference
    if key_id.startswith("key/"):
        key_id = key_id[4:]
    if key_id.startswith("alias/"):
        # an AWS managed key's alias (alias/aws/s3) names a key made at its first use
        target = backend.get_key_id_from_alias(key_id)
        if target is None:
            raise KeyNotFound(f"Alias arn:aws:kms:{region}:{account}:{key_id} is not found.")
        key_id = target
    key = backend.keys.get(key_id)
    if key is None:
        raise KeyNotFound(f"Key 'arn:aws:kms:{region}:{account}:key/{key_id}' does not exist")
    aliases = tuple(sorted(key.aliases))
    return Key(arn=key.arn, aliases=aliases, enabled=bool(key.enabled), state=str(key.key_state))


def key_usable(key: Key) -> None:
    """Raise :class:`KeyUnusable` (KMS's error code and words) unless the key is Enabled."""
    if key.state == "PendingDeletion":
        raise KeyUnusable("KMSInvalidStateException", f"{key.arn} is pending deletion.")
    if not key.enabled or key.state != "Enabled":
        raise KeyUnusable("DisabledException", f"{key.arn} is disabled.")


class KeyUnusable(Exception):
    """KMS refuses a cryptographic operation with a key in this state."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message


def aws_managed(key: Key) -> bool:
    """An AWS managed key (alias/aws/...): its key policy lets the account's principals
    use it through its service, so identity policies are not what decides."""
    return any(alias.startswith("alias/aws/") for alias in key.aliases)
