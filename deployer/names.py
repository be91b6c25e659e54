"""Resource names, ``{company}-{service}-{environment}-{resource}``: the mirror of modules/naming.

Terraform names what the stacks create in ``modules/naming``; the deployer needs the
same names without running Terraform (the drill finds a deployment group, ``params``
writes with the parameters key, configuration checks the 32-character load balancer
names). This module is the deployer's one source for them: every name is written once
here, and ``tests/unit/test_naming_parity.py`` renders the Terraform module for many
configurations and holds it equal to :func:`naming`.

Two layers:

- :func:`naming` takes the module's inputs and returns its three outputs (``delivery``,
  ``targets``, ``target_accounts``) as plain JSON values: same keys, same values.
- :class:`Names` is the typed view for callers: ``Names.from_config(config)``, then
  ``.delivery``, ``.target(environment, region)`` and ``.service(environment, region,
  microservice)``, frozen dataclasses whose fields are the names.

Inputs are taken as valid (``deployer.config`` and the module's variables validate them).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypedDict

if TYPE_CHECKING:
    from deployer.config import Config

#: The stack whose environments are deploy targets (``Environment.stack``).
RUNTIME_STACK = "runtime"


class DeliveryInput(TypedDict):
    """The module's ``delivery`` variable: the delivery environment."""

    environment: str
    account_id: str
    region: str


class EnvironmentInput(TypedDict):
    """One entry of the module's ``environments`` variable: a runtime environment."""

    account_id: str
    regions: Sequence[str]  # the first is the primary


# ---------------------------------------------------------------------------
# The rules every name is built from
# ---------------------------------------------------------------------------
def name_prefix(company: str, service: str, environment: str) -> str:
    """``{company}-{service}-{environment}``: every resource name starts with it."""
    return f"{company}-{service}-{environment}"


def state_bucket(company: str, service: str, delivery_environment: str) -> str:
    """The default Terraform state bucket (``terraform.state.bucket``), in the delivery account."""
    return f"{name_prefix(company, service, delivery_environment)}-tfstate"


def state_replica_bucket(state_bucket_name: str, region: str) -> str:
    """The state bucket's replica in ``region`` (the DR region), in the delivery account:
    ``<state bucket>-<region>``. S3 names are global, so the replica cannot share the name."""
    return f"{state_bucket_name}-{region}"


#: The traffic switch of a multi-region environment with ``dns.zone`` (issue 15): a metric
#: published in the environment's DR region, an alarm on it there, and a Route 53 health
#: check on that alarm, which the primary region's failover records also require. Value 1
#: sends users to the DR region, 0 lets the endpoint health checks decide. The alarm keeps
#: its state without data (treat missing data: ignore), so one data point flips it.
TRAFFIC_SWITCH_NAMESPACE = "Deployer/DR"
TRAFFIC_SWITCH_METRIC = "TrafficSwitch"
TRAFFIC_SWITCH_DIMENSION = "Environment"


def traffic_switch_alarm(company: str, service: str, environment: str) -> str:
    """``{company}-{service}-{environment}-dr-traffic-switch``, in the DR region."""
    return f"{name_prefix(company, service, environment)}-dr-traffic-switch"


#: The SSM parameter, in every region of an environment's account, that records where the
#: environment serves after ``deployer dr failover``/``failback`` (the newest copy wins).
def serving_record_parameter(environment: str) -> str:
    """``/deployer/dr/<environment>``."""
    return f"/deployer/dr/{environment}"


#: The parameter namespace every microservice of an environment reads, besides its own.
SHARED_NAMESPACE = "shared"


def parameter_path(environment: str, namespace: str) -> str:
    """``/pipeline/{environment}/{namespace}/``: a microservice's (or ``shared``) parameters."""
    return f"/pipeline/{environment}/{namespace}/"


def target_key(environment: str, region: str) -> str:
    """``<environment>-<region>``: how the module keys a deploy target."""
    return f"{environment}-{region}"


def _short_prefix(prefix: str, short_name: str) -> str:
    """``{prefix}-{short_name}``: the start of names AWS caps (ALB, target groups) and of roles."""
    return f"{prefix}-{short_name}"


def iam_role_arn(account_id: str, role_name: str) -> str:
    """An IAM role's ARN (roles are global: no region)."""
    return f"arn:aws:iam::{account_id}:role/{role_name}"


def role_name_of(arn: str) -> str:
    """The role name of an IAM role ARN (its last path part)."""
    return arn.rsplit("/", 1)[1]


def _regional_arn(service: str, region: str, account_id: str, resource: str) -> str:
    return f"arn:aws:{service}:{region}:{account_id}:{resource}"


def _distinct(items: Iterable[str]) -> tuple[str, ...]:
    """Terraform's ``distinct``: first occurrences, in order."""
    return tuple(dict.fromkeys(items))


# ---------------------------------------------------------------------------
# The typed layer
# ---------------------------------------------------------------------------
@dataclass(frozen=True)
class TargetGroupNames:
    blue: str
    green: str

    def to_output(self) -> dict[str, str]:
        return {"blue": self.blue, "green": self.green}


@dataclass(frozen=True)
class LoadBalancerNames:
    """A microservice's ALB and target groups (modules/ecs-service).

    AWS caps these names at 32 characters, which is why they use the short name.
    """

    alb_name: str
    target_group_names: TargetGroupNames

    @classmethod
    def of(cls, prefix: str, short_name: str) -> LoadBalancerNames:
        short = _short_prefix(prefix, short_name)
        return cls(
            alb_name=f"{short}-alb",
            target_group_names=TargetGroupNames(blue=f"{short}-blue", green=f"{short}-green"),
        )

    def all(self) -> tuple[str, str, str]:
        """The ALB's name, then the blue and green target groups'."""
        return self.alb_name, self.target_group_names.blue, self.target_group_names.green


@dataclass(frozen=True)
class AlarmNames:
    """A microservice's alarms (modules/monitoring): three metric alarms and a composite."""

    running_tasks: str
    unhealthy_targets: str
    http_5xx_rate: str
    health: str

    @classmethod
    def of(cls, prefix: str, microservice: str) -> AlarmNames:
        base = f"{prefix}-{microservice}"
        return cls(
            running_tasks=f"{base}-running-tasks",
            unhealthy_targets=f"{base}-unhealthy-targets",
            http_5xx_rate=f"{base}-5xx-rate",
            health=f"{base}-health",
        )

    @property
    def deployment(self) -> tuple[str, str, str]:
        """The metric alarms a deployment group stops and rolls back on, in the module's order."""
        return self.running_tasks, self.unhealthy_targets, self.http_5xx_rate

    def to_output(self) -> dict[str, str]:
        return {
            "running_tasks": self.running_tasks,
            "unhealthy_targets": self.unhealthy_targets,
            "http_5xx_rate": self.http_5xx_rate,
            "health": self.health,
        }


@dataclass(frozen=True)
class ServiceNames:
    """What one microservice is named in one deploy target (environment and region)."""

    microservice: str
    short_name: str
    family: str
    service_name: str
    deployment_group_name: str
    container_name: str
    log_group_name: str
    task_role_arn: str
    execution_role_arn: str
    parameter_path: str
    parameter_arn_base: str
    image_repository: str
    alb_name: str
    target_group_names: TargetGroupNames
    alarm_names: AlarmNames

    @classmethod
    def build(
        cls,
        *,
        environment: str,
        prefix: str,
        account_id: str,
        region: str,
        microservice: str,
        short_name: str,
        delivery: DeliveryNames,
    ) -> ServiceNames:
        short = _short_prefix(prefix, short_name)
        parameters = parameter_path(environment, microservice)
        load_balancer = LoadBalancerNames.of(prefix, short_name)
        return cls(
            microservice=microservice,
            short_name=short_name,
            family=f"{prefix}-{microservice}",
            service_name=f"{prefix}-{microservice}",
            deployment_group_name=f"{prefix}-{microservice}",
            container_name=microservice,
            log_group_name=f"/ecs/{prefix}/{microservice}",
            # IAM is global: the region keeps role names unique across regions.
            task_role_arn=iam_role_arn(account_id, f"{short}-task-{region}"),
            execution_role_arn=iam_role_arn(account_id, f"{short}-exec-{region}"),
            parameter_path=parameters,
            parameter_arn_base=_regional_arn(
                "ssm", region, account_id, f"parameter{parameters.removesuffix('/')}"
            ),
            image_repository=(
                f"{delivery.account_id}.dkr.ecr.{region}.amazonaws.com/"
                f"{delivery.ecr_repository_names[microservice]}"
            ),
            alb_name=load_balancer.alb_name,
            target_group_names=load_balancer.target_group_names,
            alarm_names=AlarmNames.of(prefix, microservice),
        )

    @property
    def deployment_alarms(self) -> tuple[str, str, str]:
        return self.alarm_names.deployment

    def to_output(self) -> dict[str, Any]:
        """This microservice's entry of ``targets[...].services`` in modules/naming."""
        return {
            "family": self.family,
            "service_name": self.service_name,
            "deployment_group": self.deployment_group_name,
            "container_name": self.container_name,
            "log_group_name": self.log_group_name,
            "task_role_arn": self.task_role_arn,
            "execution_role_arn": self.execution_role_arn,
            "parameter_path": self.parameter_path,
            "parameter_arn_base": self.parameter_arn_base,
            "image_repository": self.image_repository,
            "alb_name": self.alb_name,
            "target_group_names": self.target_group_names.to_output(),
            "alarm_names": self.alarm_names.to_output(),
            "deployment_alarms": list(self.deployment_alarms),
        }


@dataclass(frozen=True)
class TargetNames:
    """What the runtime stack names in one environment and region (a deploy target)."""

    key: str
    environment: str
    region: str
    is_primary: bool
    account_id: str
    name_prefix: str
    deploy_role_arn: str
    #: What the CI plan role assumes to plan here read-only (modules/ci-read-role).
    ci_read_role_arn: str
    cluster_name: str
    application_name: str  # the CodeDeploy application
    notifications_topic_name: str
    notifications_topic_arn: str
    deploy_guard_name: str
    deploy_guard_arn: str
    parameters_kms_alias: str
    #: The ARN of /pipeline/{environment}/shared (no trailing slash): the environment's
    #: shared parameters and secrets, "<base>/<name>".
    shared_parameter_arn_base: str
    services: Mapping[str, ServiceNames]

    @classmethod
    def build(
        cls,
        *,
        prefix: str,
        environment: str,
        account_id: str,
        region: str,
        is_primary: bool,
        microservices: Mapping[str, str],
        delivery: DeliveryNames,
    ) -> TargetNames:
        topic = f"{prefix}-notifications"
        guard = f"{prefix}-deploy-guard"
        return cls(
            key=target_key(environment, region),
            environment=environment,
            region=region,
            is_primary=is_primary,
            account_id=account_id,
            name_prefix=prefix,
            deploy_role_arn=iam_role_arn(account_id, f"{prefix}-deploy-{region}"),
            ci_read_role_arn=iam_role_arn(account_id, f"{prefix}-ci-read-{region}"),
            cluster_name=f"{prefix}-cluster",
            application_name=f"{prefix}-services",
            notifications_topic_name=topic,
            notifications_topic_arn=_regional_arn("sns", region, account_id, topic),
            deploy_guard_name=guard,
            deploy_guard_arn=_regional_arn("lambda", region, account_id, f"function:{guard}"),
            parameters_kms_alias=f"alias/{prefix}-parameters",
            shared_parameter_arn_base=_regional_arn(
                "ssm",
                region,
                account_id,
                "parameter" + parameter_path(environment, SHARED_NAMESPACE).removesuffix("/"),
            ),
            services={
                name: ServiceNames.build(
                    environment=environment,
                    prefix=prefix,
                    account_id=account_id,
                    region=region,
                    microservice=name,
                    short_name=short_name,
                    delivery=delivery,
                )
                for name, short_name in sorted(microservices.items())
            },
        )

    def service(self, microservice: str) -> ServiceNames:
        try:
            return self.services[microservice]
        except KeyError:
            known = ", ".join(self.services) or "none"
            raise KeyError(f"no microservice {microservice!r} (configured: {known})") from None

    def to_output(self) -> dict[str, Any]:
        """This target's entry of the ``targets`` output of modules/naming."""
        return {
            "environment": self.environment,
            "region": self.region,
            "is_primary": self.is_primary,
            "account_id": self.account_id,
            "name_prefix": self.name_prefix,
            "deploy_role": self.deploy_role_arn,
            "ci_read_role": self.ci_read_role_arn,
            "codedeploy": self.application_name,
            "cluster_name": self.cluster_name,
            "notifications": self.notifications_topic_arn,
            "notifications_topic_name": self.notifications_topic_name,
            "deploy_guard_name": self.deploy_guard_name,
            "deploy_guard_arn": self.deploy_guard_arn,
            "parameters_kms_alias": self.parameters_kms_alias,
            "shared_parameter_arn_base": self.shared_parameter_arn_base,
            "services": {name: s.to_output() for name, s in self.services.items()},
        }


@dataclass(frozen=True)
class DeliveryNames:
    """What the delivery stack names, and what the runtime accounts need of it."""

    name_prefix: str
    account_id: str
    region: str
    dr_regions: tuple[str, ...]
    pipeline_name: str
    pipeline_role_arn: str
    artifact_kms_alias: str
    repository_name: str
    build_image_repo_name: str
    #: The pipeline's S3 source (``pipeline.source: S3``): the bucket and the zip's key.
    source_bucket: str
    source_object_key: str
    artifact_buckets: Mapping[str, str]  # region -> bucket
    artifact_bucket_arns: tuple[str, ...]
    ecr_repository_names: Mapping[str, str]  # microservice -> repository
    state_bucket: str
    #: The roles GitHub Actions workflows assume (modules/ci-identity, ``ci.github``).
    ci_plan_role_arn: str
    ci_apply_role_arn: str
    #: What the CI plan role assumes to plan the delivery workspace (modules/ci-read-role).
    ci_read_role_arn: str

    @classmethod
    def build(
        cls,
        *,
        company: str,
        service: str,
        delivery: DeliveryInput,
        runtime_regions: Sequence[str],
        microservices: Iterable[str],
    ) -> DeliveryNames:
        prefix = name_prefix(company, service, delivery["environment"])
        region = delivery["region"]
        buckets = {r: f"{prefix}-artifacts-{r}" for r in _distinct([region, *runtime_regions])}
        return cls(
            name_prefix=prefix,
            account_id=delivery["account_id"],
            region=region,
            dr_regions=tuple(r for r in runtime_regions if r != region),
            pipeline_name=f"{prefix}-pipeline",
            pipeline_role_arn=iam_role_arn(delivery["account_id"], f"{prefix}-pipeline"),
            artifact_kms_alias=f"alias/{prefix}-artifacts",
            repository_name=f"{prefix}-monorepo",
            build_image_repo_name=f"{prefix}-build-image",
            source_bucket=f"{prefix}-source-{region}",
            source_object_key="monorepo.zip",
            artifact_buckets=buckets,
            artifact_bucket_arns=tuple(f"arn:aws:s3:::{b}" for b in buckets.values()),
            ecr_repository_names={name: f"{prefix}-{name}" for name in sorted(microservices)},
            state_bucket=state_bucket(company, service, delivery["environment"]),
            ci_plan_role_arn=iam_role_arn(delivery["account_id"], f"{prefix}-ci-plan"),
            ci_apply_role_arn=iam_role_arn(delivery["account_id"], f"{prefix}-ci-apply"),
            ci_read_role_arn=iam_role_arn(delivery["account_id"], f"{prefix}-ci-read-{region}"),
        )

    def to_output(self) -> dict[str, Any]:
        """The ``delivery`` output of modules/naming."""
        return {
            "name_prefix": self.name_prefix,
            "account_id": self.account_id,
            "region": self.region,
            "dr_regions": list(self.dr_regions),
            "pipeline_name": self.pipeline_name,
            "pipeline_role_arn": self.pipeline_role_arn,
            "artifact_kms_alias": self.artifact_kms_alias,
            "repository_name": self.repository_name,
            "build_image_repo_name": self.build_image_repo_name,
            "source_bucket": self.source_bucket,
            "source_object_key": self.source_object_key,
            "artifact_buckets": dict(self.artifact_buckets),
            "artifact_bucket_arns": list(self.artifact_bucket_arns),
            "ecr_repository_names": dict(self.ecr_repository_names),
            "state_bucket": self.state_bucket,
            "ci_plan_role": self.ci_plan_role_arn,
            "ci_apply_role": self.ci_apply_role_arn,
            "ci_read_role": self.ci_read_role_arn,
        }


@dataclass(frozen=True)
class Names:
    """Every name of a project: the delivery stack's and each deploy target's."""

    delivery: DeliveryNames
    targets: Mapping[str, TargetNames]  # keyed by target_key(environment, region)
    target_accounts: tuple[str, ...]

    @classmethod
    def build(
        cls,
        company: str,
        service: str,
        delivery: DeliveryInput,
        microservices: Mapping[str, str],
        environments: Mapping[str, EnvironmentInput],
    ) -> Names:
        """The names for modules/naming's inputs (``microservices``: name -> short name)."""
        # Terraform iterates a map in key order.
        envs = sorted(environments.items())
        delivery_names = DeliveryNames.build(
            company=company,
            service=service,
            delivery=delivery,
            runtime_regions=_distinct(r for _, e in envs for r in e["regions"]),
            microservices=microservices,
        )
        targets: dict[str, TargetNames] = {}
        for env, e in envs:
            prefix = name_prefix(company, service, env)
            for index, region in enumerate(e["regions"]):
                target = TargetNames.build(
                    prefix=prefix,
                    environment=env,
                    account_id=e["account_id"],
                    region=region,
                    is_primary=index == 0,
                    microservices=microservices,
                    delivery=delivery_names,
                )
                targets[target.key] = target
        return cls(
            delivery=delivery_names,
            targets=targets,
            target_accounts=_distinct(e["account_id"] for _, e in envs),
        )

    @classmethod
    def from_config(cls, config: Config) -> Names:
        """The names of a loaded configuration, as the delivery stack sees them."""
        return cls.build(**config_inputs(config))

    def target(self, environment: str, region: str) -> TargetNames:
        key = target_key(environment, region)
        try:
            return self.targets[key]
        except KeyError:
            known = ", ".join(self.targets) or "none"
            raise KeyError(f"no deploy target {key!r} (targets: {known})") from None

    def service(self, environment: str, region: str, microservice: str) -> ServiceNames:
        return self.target(environment, region).service(microservice)

    def outputs(self) -> dict[str, Any]:
        """The outputs of modules/naming, as ``terraform output -json`` gives their values."""
        return {
            "delivery": self.delivery.to_output(),
            "targets": {key: t.to_output() for key, t in self.targets.items()},
            "target_accounts": list(self.target_accounts),
        }


class NamingInputs(TypedDict):
    """The inputs of modules/naming (``microservices``: name -> short name)."""

    company: str
    service: str
    delivery: DeliveryInput
    microservices: dict[str, str]
    environments: dict[str, EnvironmentInput]


def config_inputs(config: Config) -> NamingInputs:
    """modules/naming's inputs for a configuration, as the delivery stack passes them."""
    delivery = config.delivery
    return {
        "company": config.company,
        "service": config.service,
        "delivery": {
            "environment": delivery.name,
            "account_id": delivery.account_id,
            "region": delivery.primary_region,
        },
        "microservices": {m.name: m.short_name for m in config.microservices},
        "environments": {
            e.name: {"account_id": e.account_id, "regions": [r.name for r in e.regions]}
            for e in config.environments.values()
            if e.stack == RUNTIME_STACK
        },
    }


def naming(
    company: str,
    service: str,
    delivery: DeliveryInput,
    microservices: Mapping[str, str],
    environments: Mapping[str, EnvironmentInput],
) -> dict[str, Any]:
    """modules/naming's outputs for its inputs: ``{delivery, targets, target_accounts}``.

    ``microservices`` maps a name to its short name (the module takes
    ``{name = {short_name = ...}}``).
    """
    return Names.build(company, service, delivery, microservices, environments).outputs()
