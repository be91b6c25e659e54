"""As whom the deployer acts in each account: the deploy roles, or read-only.

Normally the deployer works in an environment's account through the role the
environment names (``deploy_role_name``), and reaches the state store in the
delivery account through the delivery environment's.

**Read-only** (``Target.read_only``: ``deployer plan --read-only`` and ``deployer
drift --read-only``, what the generated GitHub workflows run for pull requests and
the drift schedule) is the CI plan role's view (``modules/ci-identity``):

* state, locks and run history with the plan role's own credentials (the CI job
  has them from GitHub's OIDC token; the emulator has no OIDC exchange, so there
  the deployer assumes the plan role itself);
* everything in an environment's account through that workspace's read role
  (``modules/ci-read-role``, ``{prefix}-ci-read-{region}``), which may read
  configuration and nothing else, never through a deploy role.

The read roles exist only with ``ci.github`` configured and once a workspace has
been applied with it (its stack creates its read role).
"""

from __future__ import annotations

from deployer.aws import Target
from deployer.config import Config, Environment
from deployer.names import role_name_of


def require_ci_identity(config: Config) -> None:
    """Read-only needs the CI roles, which exist only with ``ci.github``."""
    config.github(
        "--read-only plans as the CI plan role, and the stacks create no plan role and no "
        "read roles",
        otherwise="plan without --read-only",
    )


def read_role_arn(config: Config, env: Environment, region: str) -> str:
    """The read role of a workspace (modules/ci-read-role, named by modules/naming)."""
    names = config.names
    if env.name == config.delivery_environment:
        return names.delivery.ci_read_role_arn
    return names.target(env.name, region).ci_read_role_arn


def workspace_role_name(
    config: Config, env: Environment, region: str, target: Target
) -> str | None:
    """The role the deployer (and Terraform's provider) assumes in a workspace's account."""
    if target.read_only:
        require_ci_identity(config)
        return role_name_of(read_role_arn(config, env, region))
    return env.deploy_role_name


def state_role_name(config: Config, target: Target) -> str | None:
    """The role the deployer (and Terraform's backend) reaches the state store with."""
    if target.read_only:
        require_ci_identity(config)
        # On AWS the caller is the plan role already; the emulator stands in for the
        # OIDC exchange that makes it so.
        return role_name_of(config.names.delivery.ci_plan_role_arn) if target.is_local else None
    return config.delivery.deploy_role_name
