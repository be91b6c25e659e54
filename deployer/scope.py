"""One scope per environment and region: the one way the deployer reaches an account.

A ``Scope`` owns what every command used to pass around by hand:

* the environment (its YAML: account, role, settings) and the region;
* where AWS calls go (``Target``: the local emulator or AWS) and clients bound to
  the environment's account, role and region (cached by the one ``ClientFactory``,
  typed with boto3-stubs);
* the names of what the stacks create there (``deployer.names``, the mirror of
  ``modules/naming``);
* the Terraform workspace ``<env>-<region>`` and its state store (state bucket,
  in-flight marker, lock, run history; ``deployer.state``);
* the environment's policy: ``protected`` (the stateful-destroy gate) and
  whether applying asks first. Safety follows that policy, never a name.

``Scope.resolve`` validates the regions a command names, once, for every command.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from typing import TYPE_CHECKING, Any

from deployer import identity
from deployer.aws import Clients, Target
from deployer.config import Config, Environment
from deployer.errors import UsageError
from deployer.names import TargetNames
from deployer.state import StateStore
from deployer.workspaces import Workspace

if TYPE_CHECKING:
    from mypy_boto3_codedeploy import CodeDeployClient
    from mypy_boto3_ec2 import EC2Client
    from mypy_boto3_ecs import ECSClient
    from mypy_boto3_elbv2 import ElasticLoadBalancingv2Client
    from mypy_boto3_iam import IAMClient
    from mypy_boto3_kms import KMSClient
    from mypy_boto3_logs import CloudWatchLogsClient
    from mypy_boto3_s3 import S3Client
    from mypy_boto3_sqs import SQSClient
    from mypy_boto3_ssm import SSMClient


@dataclass(frozen=True)
class Scope:
    config: Config
    env: Environment
    region: str
    target: Target
    clients: Clients

    @classmethod
    def resolve(
        cls,
        config: Config,
        env: Environment,
        regions: list[str] | None,
        target: Target,
        clients: Clients,
    ) -> list[Scope]:
        """The scopes of ``env`` in ``regions`` (default: all of its regions, primary first)."""
        for region in regions or []:
            env.region(region)  # a usage error for a region the environment lacks
        known = [r.name for r in env.regions]
        return [cls(config, env, region, target, clients) for region in regions or known]

    # -- where ----------------------------------------------------------------------
    @property
    def account_id(self) -> str:
        return self.env.account_id

    @property
    def role_name(self) -> str | None:
        """The deploy role, or read-only the workspace's CI read role (deployer.identity)."""
        return identity.workspace_role_name(self.config, self.env, self.region, self.target)

    @property
    def workspace(self) -> Workspace:
        return Workspace(self.env.stack, self.env.name, self.region)

    # -- policy ---------------------------------------------------------------------
    @property
    def protected(self) -> bool:
        """Plans that delete or replace stateful resources are refused (deployer.gate)."""
        return self.env.protected

    @property
    def approval_required(self) -> bool:
        """Applying asks first (unless --auto-approve)."""
        return self.env.approval_required(on_aws=not self.target.is_local)

    # -- names and state ------------------------------------------------------------
    @cached_property
    def names(self) -> TargetNames:
        """What the runtime stack names its resources here."""
        if self.env.stack != "runtime":
            raise UsageError(
                f"{self.env.name} uses the {self.env.stack} stack, which deploys no services"
            )
        return self.config.names.target(self.env.name, self.region)

    @cached_property
    def state(self) -> StateStore:
        return StateStore(self.config, self.clients, self.target, self.workspace)

    # -- clients in the environment's account and region -------------------------------
    def client(self, service: str) -> Any:
        return self.clients.client(
            service, self.region, account_id=self.account_id, role_name=self.role_name
        )

    @property
    def codedeploy(self) -> CodeDeployClient:
        client: CodeDeployClient = self.client("codedeploy")
        return client

    @property
    def ec2(self) -> EC2Client:
        client: EC2Client = self.client("ec2")
        return client

    @property
    def ecs(self) -> ECSClient:
        client: ECSClient = self.client("ecs")
        return client

    @property
    def elbv2(self) -> ElasticLoadBalancingv2Client:
        client: ElasticLoadBalancingv2Client = self.client("elbv2")
        return client

    @property
    def iam(self) -> IAMClient:
        client: IAMClient = self.client("iam")
        return client

    @property
    def kms(self) -> KMSClient:
        client: KMSClient = self.client("kms")
        return client

    @property
    def logs(self) -> CloudWatchLogsClient:
        client: CloudWatchLogsClient = self.client("logs")
        return client

    @property
    def s3(self) -> S3Client:
        client: S3Client = self.client("s3")
        return client

    @property
    def sqs(self) -> SQSClient:
        client: SQSClient = self.client("sqs")
        return client

    @property
    def ssm(self) -> SSMClient:
        client: SSMClient = self.client("ssm")
        return client
