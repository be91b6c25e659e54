"""The variables of each stack (``terraform.tfvars.json``), from validated configuration.

The stacks never read each other's state: what one needs of another follows
from configuration and the naming convention, so every environment can be
planned on an empty account. Secrets never pass through here (names only).
"""

from __future__ import annotations

from typing import Any

from deployer import identity
from deployer.aws import Target, role_arn
from deployer.config import Config, Environment
from deployer.errors import ConfigError, ConfigProblem
from deployer.names import iam_role_arn
from deployer.packaging import deploy_guard_package
from deployer.state import RUNS_PREFIX
from deployer.state_replica import replica_of
from deployer.workspaces import WORKSPACE_KEY_PREFIX


def provider_variables(
    config: Config, env: Environment, region: str, target: Target
) -> dict[str, Any]:
    return {
        "company": config.company,
        "service": config.service,
        "environment": env.name,
        "region": region,
        "account_id": env.account_id,
        # The deploy role, or read-only the workspace's CI read role (deployer.identity).
        "assume_role_arn": role_arn(
            env.account_id, identity.workspace_role_name(config, env, region, target)
        ),
        "provider_settings": target.provider_settings(),
    }


def _microservices(config: Config) -> dict[str, dict[str, Any]]:
    return {
        m.name: {
            "short_name": m.short_name,
            "port": m.port,
            "health_check_path": m.health_check_path,
        }
        for m in config.microservices
    }


def _delivery(config: Config) -> dict[str, str]:
    delivery = config.delivery
    return {
        "environment": delivery.name,
        "account_id": delivery.account_id,
        "region": delivery.primary_region,
    }


def runtime_variables(
    config: Config,
    env: Environment,
    region: str,
    target: Target,
    *,
    package: bool = True,
) -> dict[str, Any]:
    settings = env.region(region)
    return {
        **({"deploy_guard_package": deploy_guard_package(config.root)} if package else {}),
        **provider_variables(config, env, region, target),
        "regions": [r.name for r in env.regions],
        "vpc_cidr": settings.cidr,
        "nat_gateway_mode": env.network.nat_gateways,
        "delivery": _delivery(config),
        "microservices": _microservices(config),
        "sizing": {
            "cpu": env.sizing.cpu,
            "memory": env.sizing.memory,
            # Desired while the region serves, standby otherwise. Which region serves:
            # the configuration's, or the serving record's once `deployer dr failover`
            # or `failback` wrote one, which the stack reads (serving.tf): a plan
            # reads nothing here, and a plan after either is empty.
            "desired_count": env.desired_count(region),
            "standby_count": env.standby_count(region),
            "serving_region": env.serving_region,
        },
        "log_retention_days": env.log_retention_days,
        "notification_emails": list(env.notification_emails),
        "alarm_thresholds": env.alarms.to_json(),
        "health_checks": env.health_checks.to_json(),
        "deployments": env.deployments.to_json(),
        # Names only: secret values never reach Terraform.
        "secret_names": {svc: list(names) for svc, names in env.secrets.items()},
        "parameters": env.parameters,
        # With ci.github the stack creates the read role CI plans assume here.
        "ci_plan_role_arn": (
            config.names.delivery.ci_plan_role_arn if config.ci.github is not None else None
        ),
        "dns": runtime_dns(config, env, target),
    }


def dns_role_name(config: Config, env: Environment) -> str:
    """The role in the delivery account through which ``env``'s runtime workspaces change
    its zone: ``{delivery prefix}-dns-{environment}``. modules/dns-zone builds the same
    name from its name_prefix and environment (the delivery stack outputs it: the
    integration test holds the two equal)."""
    return f"{config.name_prefix(config.delivery_environment)}-dns-{env.name}"


def dns_role_arn(config: Config, env: Environment) -> str:
    return iam_role_arn(config.delivery.account_id, dns_role_name(config, env))


def runtime_dns(config: Config, env: Environment, target: Target) -> dict[str, Any] | None:
    """``dns`` of a runtime workspace: the zone (in the delivery account) and the roles
    its ``aws.dns`` provider assumes in turn to reach it. Normally the environment's
    deploy role, then the zone's role, which trusts that deploy role only; read-only
    (CI plans), the delivery workspace's read role, which reads the zone and its records
    and changes nothing."""
    if env.dns is None:
        return None
    if target.read_only:
        identity.require_ci_identity(config)
        delivery = config.delivery
        chain = [identity.read_role_arn(config, delivery, delivery.primary_region)]
    else:
        # config.py refuses dns without deploy_role_name: the zone's role trusts it.
        chain = [iam_role_arn(env.account_id, env.deploy_role_name or ""),
                 dns_role_arn(config, env)]  # fmt: skip
    return {
        "zone_name": env.dns.zone,
        "account_id": config.delivery.account_id,
        "assume_role_arns": chain,
    }


def dr_region(config: Config) -> str | None:
    """The one disaster-recovery region: a runtime region other than the delivery region."""
    primary = config.delivery.primary_region
    others = sorted(
        {r.name for e in config.environments.values() if e.stack == "runtime" for r in e.regions}
        - {primary}
    )
    if len(others) > 1:
        raise ConfigError(
            [
                ConfigProblem(
                    "environments/*.yaml",
                    "regions",
                    f"the runtime environments use {len(others)} regions besides {primary} "
                    f"({', '.join(others)}); the delivery stack supports one DR region",
                )
            ]
        )
    return others[0] if others else None


def delivery_variables(
    config: Config, env: Environment, region: str, target: Target
) -> dict[str, Any]:
    runtime = {
        e.name: {
            "account_id": e.account_id,
            "regions": [r.name for r in e.regions],
            "cpu": e.sizing.cpu,
            "memory": e.sizing.memory,
            # Names only: the task definitions reference them, values stay out.
            "secret_names": {svc: list(names) for svc, names in e.secrets.items()},
            "parameters": {svc: sorted(values) for svc, values in e.parameters.items()},
            "deploy_role_arn": role_arn(e.account_id, e.deploy_role_name),
        }
        for e in config.environments.values()
        if e.stack == "runtime"
    }
    return {
        **provider_variables(config, env, region, target),
        "deploy_role_arn": role_arn(env.account_id, env.deploy_role_name),
        "microservices": _microservices(config),
        "environments": runtime,
        "pipeline": {
            "source": config.pipeline.source,
            "branch": config.pipeline.branch,
            "staging": config.pipeline.staging,
            "production": config.pipeline.production,
            "build_image_tag": config.pipeline.build_image_tag,
        },
        "dr_region": dr_region(config),
        "log_retention_days": env.log_retention_days,
        "notification_emails": list(env.notification_emails),
        "state_store": state_store(config),
        "ci_github": ci_github(config),
        "dns_zones": dns_zones(config),
    }


def dns_zones(config: Config) -> dict[str, dict[str, Any]]:
    """Per runtime environment with ``dns``: the public hosted zone the delivery stack
    creates, the names that environment's workspaces may write there (each service's
    failover name, and below it the ACM validation record), and the deploy role its
    zone role trusts."""
    return {
        e.name: {
            "zone_name": e.dns.zone,
            "record_names": [e.dns.record_name(m.name) for m in config.microservices],
            "trusted_role_arn": iam_role_arn(e.account_id, e.deploy_role_name or ""),
        }
        for e in config.environments.values()
        if e.stack == "runtime" and e.dns is not None
    }


def state_store(config: Config) -> dict[str, Any]:
    """Where the deployer keeps state and run history, and the state's replica (the CI
    roles are granted these)."""
    replica = replica_of(config)
    return {
        "bucket": config.state.bucket,
        "region": config.state.region,
        "key_prefix": WORKSPACE_KEY_PREFIX,
        "run_history_path": RUNS_PREFIX,
        "replica": {"bucket": replica.bucket, "region": replica.region} if replica else None,
    }


def ci_github(config: Config) -> dict[str, Any] | None:
    """``ci.github``: the delivery stack creates the GitHub Actions roles when it is set."""
    github = config.ci.github
    if github is None:
        return None
    return {
        "repository": github.repository,
        "branch": github.branch,
        "create_oidc_provider": github.create_oidc_provider,
    }


def variables_for(
    config: Config,
    env: Environment,
    region: str,
    target: Target,
    *,
    package: bool = True,
) -> dict[str, Any]:
    """A workspace's variables; ``package=False`` leaves out the Lambda packages (not built)."""
    if env.stack == "runtime":
        return runtime_variables(config, env, region, target, package=package)
    return delivery_variables(config, env, region, target)
