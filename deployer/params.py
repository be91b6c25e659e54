"""Seed SSM Parameter Store at ``/pipeline/{environment}/{service}/`` with boto3.

Plain values come from the environment's configuration (``parameters``);
secrets (the names listed under ``secrets``) take their values from
environment variables or from a YAML file given on the command line, and are
written as SecureString with the environment's parameters key
(``alias/{prefix}-parameters``, created by the runtime stack; ``deployer.names``). Secret values
never pass through Terraform (not in variables, plans or state) and are never
printed: reports carry names and outcomes only.

Seeding is idempotent: a parameter whose value (and type) already matches is
left alone and reported as unchanged. A secret with no value given is kept if it
exists and reported missing if it does not.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import botocore.exceptions
import yaml

from deployer.aws import translate
from deployer.config import Environment
from deployer.errors import ConfigError, ConfigProblem, DeployerError
from deployer.names import parameter_path
from deployer.output import table
from deployer.scope import Scope

if TYPE_CHECKING:
    from mypy_boto3_ssm import SSMClient

SECRET_ENV_PREFIX = "DEPLOYER_SECRET_"


def secret_env_var(service: str, name: str) -> str:
    """``DEPLOYER_SECRET_<SERVICE>_<NAME>``, upper-cased, non-alphanumerics as ``_``."""
    token = re.sub(r"[^A-Za-z0-9]", "_", f"{service}_{name}").upper()
    return SECRET_ENV_PREFIX + token


@dataclass
class Outcome:
    name: str
    kind: str  # "String" or "SecureString"
    action: str  # created, updated, unchanged, kept, missing

    def to_json(self) -> dict[str, str]:
        return {"name": self.name, "type": self.kind, "action": self.action}


@dataclass
class SeedReport:
    environment: str
    region: str
    outcomes: list[Outcome] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        return any(o.action in ("created", "updated") for o in self.outcomes)

    @property
    def missing(self) -> list[str]:
        return [o.name for o in self.outcomes if o.action == "missing"]

    def to_json(self) -> dict[str, Any]:
        return {
            "environment": self.environment,
            "region": self.region,
            "changed": self.changed,
            "parameters": [o.to_json() for o in self.outcomes],
        }


class SecretValues:
    """Where secret values come from: a YAML file, then environment variables."""

    def __init__(self, file_values: Mapping[str, Mapping[str, str]], env: Mapping[str, str]):
        self._file = file_values
        self._env = env

    @classmethod
    def load(cls, path: Path | None, env: Mapping[str, str] | None = None) -> SecretValues:
        env = os.environ if env is None else env
        if path is None:
            return cls({}, env)
        where = str(path)
        try:
            raw = yaml.safe_load(path.read_text())
        except OSError as exc:
            raise ConfigError(
                [ConfigProblem(where, "(file)", f"cannot be read: {exc.strerror}")]
            ) from None
        except yaml.YAMLError as exc:
            # Never echo the YAML error: it may quote a secret value.
            raise ConfigError(
                [ConfigProblem(where, "(file)", f"is not valid YAML ({type(exc).__name__})")]
            ) from None
        if raw is None:
            raw = {}
        problems: list[ConfigProblem] = []
        values: dict[str, dict[str, str]] = {}
        if not isinstance(raw, dict):
            problems.append(ConfigProblem(where, "(document)", "must map services to secrets"))
        else:
            for service, secrets in raw.items():
                if not isinstance(secrets, dict):
                    problems.append(
                        ConfigProblem(where, str(service), "must map secret names to values")
                    )
                    continue
                for name, value in secrets.items():
                    if not isinstance(value, (str, int, float)) or isinstance(value, bool):
                        problems.append(
                            ConfigProblem(where, f"{service}.{name}", "must be a plain value")
                        )
                    else:
                        values.setdefault(str(service), {})[str(name)] = str(value)
        if problems:
            raise ConfigError(problems)
        return cls(values, env)

    def get(self, service: str, name: str) -> str | None:
        if service in self._file and name in self._file[service]:
            return self._file[service][name]
        return self._env.get(secret_env_var(service, name))


def plan_values(env: Environment, secrets: SecretValues) -> list[tuple[str, str, str | None, str]]:
    """(parameter name, type, value or None, service) for everything to seed."""
    items: list[tuple[str, str, str | None, str]] = []
    for service, values in sorted(env.parameters.items()):
        for key, value in sorted(values.items()):
            items.append((parameter_path(env.name, service) + key, "String", value, service))
    for service, names in sorted(env.secrets.items()):
        for key in sorted(names):
            items.append(
                (
                    parameter_path(env.name, service) + key,
                    "SecureString",
                    secrets.get(service, key),
                    service,
                )
            )
    return items


class MissingSecrets(DeployerError):
    """Secrets with no value given that do not exist yet: nothing was written."""

    exit_code = 2


def seed(scope: Scope, secrets: SecretValues, *, strict: bool = True) -> SeedReport:
    """Write the environment's parameters in the scope's region; idempotent.

    With ``strict``, a secret that has no value and does not exist yet is an
    error raised before anything is written (bad input changes nothing).
    """
    env, region = scope.env, scope.region
    ssm = scope.ssm
    report = SeedReport(env.name, region)
    key_id = scope.names.parameters_kms_alias
    wanted = plan_values(env, secrets)
    current = {name: _current(ssm, name, kind) for name, kind, _value, _svc in wanted}
    missing = [
        (name, svc) for name, kind, value, svc in wanted if value is None and current[name] is None
    ]
    if missing and strict:
        lines = [
            f"  {name}: set {secret_env_var(svc, name.rsplit('/', 1)[-1])} "
            "or give it in --secrets-file"
            for name, svc in missing
        ]
        raise MissingSecrets(
            f"no value for {len(missing)} secret(s) in {env.name}/{region}; nothing was written:\n"
            + "\n".join(lines)
        )
    if any(kind == "SecureString" and value is not None for _n, kind, value, _s in wanted):
        _require_key(scope, key_id)
    for name, kind, value, _service in wanted:
        existing = current[name]
        if value is None:
            report.outcomes.append(Outcome(name, kind, "kept" if existing else "missing"))
            continue
        if existing is not None and existing[0] == kind and existing[1] == value:
            report.outcomes.append(Outcome(name, kind, "unchanged"))
            continue
        try:
            if kind == "SecureString":
                ssm.put_parameter(
                    Name=name,
                    Value=value,
                    Type="SecureString",
                    KeyId=key_id,
                    Overwrite=True,
                    Tier="Standard",
                )
            else:
                ssm.put_parameter(
                    Name=name, Value=value, Type="String", Overwrite=True, Tier="Standard"
                )
        except botocore.exceptions.ClientError as exc:
            code = exc.response.get("Error", {}).get("Code", "")
            if kind == "SecureString" and code in ("InvalidKeyId", "NotFoundException"):
                raise DeployerError(
                    f"cannot write {name}: the KMS key {key_id} does not exist in "
                    f"{scope.account_id}/{region}",
                    hint=f"apply the runtime stack first: deployer apply {env.name}",
                ) from None
            # The error message may echo the request: report the code and name only.
            raise DeployerError(f"cannot write {name} in {region}: {code}") from None
        report.outcomes.append(Outcome(name, kind, "updated" if existing else "created"))
    return report


def _require_key(scope: Scope, key_id: str) -> None:
    """The SecureString key must exist before anything is written."""
    env = scope.env
    try:
        scope.kms.describe_key(KeyId=key_id)
    except botocore.exceptions.ClientError as exc:
        if exc.response.get("Error", {}).get("Code") == "NotFoundException":
            raise DeployerError(
                f"the KMS key {key_id} for SecureString parameters does not exist in "
                f"account {env.account_id}, {scope.region}; nothing was written",
                hint=f"apply the runtime stack first: deployer apply {env.name}",
            ) from None
        raise translate(exc, f"describe KMS key {key_id}") from None


def _current(ssm: SSMClient, name: str, kind: str) -> tuple[str, str] | None:
    try:
        found = ssm.get_parameter(Name=name, WithDecryption=(kind == "SecureString"))
    except botocore.exceptions.ClientError as exc:
        if exc.response.get("Error", {}).get("Code") == "ParameterNotFound":
            return None
        raise translate(exc, f"read parameter {name}") from None
    parameter = found["Parameter"]
    return str(parameter["Type"]), str(parameter["Value"])


def seed_table(reports: list[SeedReport]) -> str:
    """What each seed did, per region and parameter (names and outcomes only, no values)."""
    rows = [(r.region, o.name, o.kind, o.action) for r in reports for o in r.outcomes]
    return table(("region", "parameter", "type", "result"), rows)
