"""SSM seeding (moto in-process: it implements SSM, KMS and STS AssumeRole)."""

from __future__ import annotations

import json
from pathlib import Path

import boto3
import pytest

from deployer import params
from deployer.aws import AWS, ClientFactory, Target
from deployer.config import Config
from deployer.errors import ConfigError, DeployerError
from deployer.scope import Scope

ROOT = Path(__file__).resolve().parents[2]
SECRET = "s3cr3t-jwt-Value-7f9c"


def staging_ssm(clients: ClientFactory) -> object:
    return clients.client(
        "ssm", "us-east-1", account_id="333333333333", role_name="OrganizationAccountAccessRole"
    )


def make_key(clients: ClientFactory) -> str:
    kms = clients.client(
        "kms", "us-east-1", account_id="333333333333", role_name="OrganizationAccountAccessRole"
    )
    key_id = kms.create_key()["KeyMetadata"]["KeyId"]
    kms.create_alias(AliasName="alias/acme-shop-staging-parameters", TargetKeyId=key_id)
    return str(key_id)


def test_env_var_name_for_a_secret() -> None:
    assert params.secret_env_var("auth-service", "JWT_SIGNING_KEY") == (
        "DEPLOYER_SECRET_AUTH_SERVICE_JWT_SIGNING_KEY"
    )


def test_seed_writes_plain_and_secret_values_then_is_idempotent(
    aws: ClientFactory, cfg: Config
) -> None:
    key_id = make_key(aws)
    env = cfg.environment("staging")
    secrets = params.SecretValues({}, {"DEPLOYER_SECRET_AUTH_SERVICE_JWT_SIGNING_KEY": SECRET})

    first = params.seed(Scope(cfg, env, "us-east-1", Target(AWS), aws), secrets)
    actions = {o.name: (o.kind, o.action) for o in first.outcomes}
    assert actions == {
        "/pipeline/staging/shared/LOG_LEVEL": ("String", "created"),
        "/pipeline/staging/api-service/RATE_LIMIT_PER_MINUTE": ("String", "created"),
        "/pipeline/staging/auth-service/JWT_SIGNING_KEY": ("SecureString", "created"),
    }
    ssm = staging_ssm(aws)
    stored = ssm.get_parameter(  # type: ignore[attr-defined]
        Name="/pipeline/staging/auth-service/JWT_SIGNING_KEY", WithDecryption=True
    )["Parameter"]
    assert stored["Type"] == "SecureString" and stored["Value"] == SECRET
    raw = ssm.describe_parameters()["Parameters"]  # type: ignore[attr-defined]
    secure = next(p for p in raw if p["Name"].endswith("JWT_SIGNING_KEY"))
    assert secure["KeyId"] in ("alias/acme-shop-staging-parameters", key_id)

    second = params.seed(Scope(cfg, env, "us-east-1", Target(AWS), aws), secrets)
    assert {o.action for o in second.outcomes} == {"unchanged"}
    assert second.changed is False
    # Reports carry names and outcomes, never values.
    assert SECRET not in json.dumps(first.to_json()) + json.dumps(second.to_json())


def test_changed_value_is_updated(aws: ClientFactory, cfg: Config) -> None:
    make_key(aws)
    env = cfg.environment("staging")
    secrets = params.SecretValues({}, {"DEPLOYER_SECRET_AUTH_SERVICE_JWT_SIGNING_KEY": "one"})
    params.seed(Scope(cfg, env, "us-east-1", Target(AWS), aws), secrets)
    rotated = params.SecretValues({}, {"DEPLOYER_SECRET_AUTH_SERVICE_JWT_SIGNING_KEY": "two"})
    report = params.seed(Scope(cfg, env, "us-east-1", Target(AWS), aws), rotated)
    assert {o.name: o.action for o in report.outcomes}[
        "/pipeline/staging/auth-service/JWT_SIGNING_KEY"
    ] == "updated"


def test_missing_secret_changes_nothing_and_names_the_variable(
    aws: ClientFactory, cfg: Config
) -> None:
    make_key(aws)
    env = cfg.environment("staging")
    with pytest.raises(params.MissingSecrets) as info:
        params.seed(Scope(cfg, env, "us-east-1", Target(AWS), aws), params.SecretValues({}, {}))
    assert "DEPLOYER_SECRET_AUTH_SERVICE_JWT_SIGNING_KEY" in str(info.value)
    assert info.value.exit_code == 2
    assert staging_ssm(aws).describe_parameters()["Parameters"] == []  # type: ignore[attr-defined]


def test_missing_secret_that_exists_is_kept(aws: ClientFactory, cfg: Config) -> None:
    make_key(aws)
    env = cfg.environment("staging")
    given = params.SecretValues({}, {"DEPLOYER_SECRET_AUTH_SERVICE_JWT_SIGNING_KEY": SECRET})
    params.seed(Scope(cfg, env, "us-east-1", Target(AWS), aws), given)
    report = params.seed(
        Scope(cfg, env, "us-east-1", Target(AWS), aws), params.SecretValues({}, {})
    )
    assert {o.name: o.action for o in report.outcomes}[
        "/pipeline/staging/auth-service/JWT_SIGNING_KEY"
    ] == "kept"


def test_secrets_file_wins_over_environment(tmp_path: Path) -> None:
    path = tmp_path / "secrets.yaml"
    path.write_text("auth-service:\n  JWT_SIGNING_KEY: from-file\n")
    values = params.SecretValues.load(
        path, {"DEPLOYER_SECRET_AUTH_SERVICE_JWT_SIGNING_KEY": "from-env"}
    )
    assert values.get("auth-service", "JWT_SIGNING_KEY") == "from-file"


def test_bad_secrets_file_never_echoes_its_content(tmp_path: Path) -> None:
    path = tmp_path / "secrets.yaml"
    path.write_text(f"auth-service: [{SECRET}\n")
    with pytest.raises(ConfigError) as info:
        params.SecretValues.load(path, {})
    assert SECRET not in str(info.value)
    assert f"{path}: (file): is not valid YAML" in str(info.value)


def test_without_the_parameters_key_the_error_says_apply_first(
    aws: ClientFactory, cfg: Config
) -> None:
    env = cfg.environment("staging")
    secrets = params.SecretValues({}, {"DEPLOYER_SECRET_AUTH_SERVICE_JWT_SIGNING_KEY": SECRET})
    with pytest.raises(DeployerError) as info:
        params.seed(Scope(cfg, env, "us-east-1", Target(AWS), aws), secrets)
    assert SECRET not in str(info.value)
    assert "alias/acme-shop-staging-parameters" in info.value.message
    assert "nothing was written" in info.value.message
    assert info.value.hint == "apply the runtime stack first: deployer apply staging"
    assert staging_ssm(aws).describe_parameters()["Parameters"] == []  # type: ignore[attr-defined]


def test_region_isolation(aws: ClientFactory, cfg: Config) -> None:
    """Seeding one region of prod writes nothing in the other."""
    env = cfg.environment("prod")
    for region in ("us-east-1", "us-west-2"):
        kms = aws.client("kms", region, account_id="444444444444",
                         role_name="OrganizationAccountAccessRole")  # fmt: skip
        key = kms.create_key()["KeyMetadata"]["KeyId"]
        kms.create_alias(AliasName="alias/acme-shop-prod-parameters", TargetKeyId=key)
    secrets = params.SecretValues({}, {"DEPLOYER_SECRET_AUTH_SERVICE_JWT_SIGNING_KEY": SECRET})
    params.seed(Scope(cfg, env, "us-west-2", Target(AWS), aws), secrets)
    east = aws.client("ssm", "us-east-1", account_id="444444444444",
                      role_name="OrganizationAccountAccessRole")  # fmt: skip
    west = aws.client("ssm", "us-west-2", account_id="444444444444",
                      role_name="OrganizationAccountAccessRole")  # fmt: skip
    assert east.describe_parameters()["Parameters"] == []
    assert len(west.describe_parameters()["Parameters"]) == 3
    assert boto3  # boto3 is what the factory builds on
