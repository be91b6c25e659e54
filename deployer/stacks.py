"""Turn validated configuration into the variables of each stack.

The stacks never read each other's state: what one needs of another follows
from configuration and the naming convention, so every environment can be
planned on an empty account. Secrets never pass through here.
"""

from __future__ import annotations

from typing import Any

from deployer.aws import Target, role_arn
from deployer.config import Config, Environment


def provider_variables(
    config: Config, env: Environment, region: str, target: Target
) -> dict[str, Any]:
    return {
        "company": config.company,
        "service": config.service,
        "environment": env.name,
        "region": region,
        "account_id": env.account_id,
        "assume_role_arn": role_arn(env.account_id, env.deploy_role_name),
        "provider_settings": target.provider_settings(),
    }


def runtime_variables(
    config: Config, env: Environment, region: str, target: Target
) -> dict[str, Any]:
    settings = env.region(region)
    return {
        **provider_variables(config, env, region, target),
        "is_primary_region": region == env.primary_region,
        "vpc_cidr": settings.cidr,
        "nat_gateway_mode": env.network.nat_gateways,
    }


def delivery_variables(
    config: Config, env: Environment, region: str, target: Target
) -> dict[str, Any]:
    return {
        **provider_variables(config, env, region, target),
    }


def variables_for(config: Config, env: Environment, region: str, target: Target) -> dict[str, Any]:
    if env.stack == "runtime":
        return runtime_variables(config, env, region, target)
    return delivery_variables(config, env, region, target)
