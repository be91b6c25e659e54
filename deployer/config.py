"""Load and validate the project's configuration in ``environments/``.

``environments/project.yaml`` holds what is common (company, service, the
microservices, Terraform and state settings); ``environments/<env>.yaml`` holds
one environment (its account, regions, stack and settings). Everything is
validated before any Terraform or AWS call, and every problem is reported at
once with the file, the field and the reason. Unknown keys are errors.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, fields, replace
from functools import cached_property
from pathlib import Path
from typing import Any

import yaml

from deployer import names
from deployer.errors import ConfigError, ConfigProblem

STACKS = ("delivery", "runtime")
AWS_REGIONS = frozenset(
    {
        "us-east-1", "us-east-2", "us-west-1", "us-west-2",
        "ca-central-1", "ca-west-1",
        "eu-west-1", "eu-west-2", "eu-west-3", "eu-central-1", "eu-central-2",
        "eu-north-1", "eu-south-1", "eu-south-2",
        "ap-south-1", "ap-south-2", "ap-northeast-1", "ap-northeast-2", "ap-northeast-3",
        "ap-southeast-1", "ap-southeast-2", "ap-southeast-3", "ap-southeast-4",
        "ap-east-1", "sa-east-1", "me-south-1", "me-central-1", "af-south-1", "il-central-1",
    }
)  # fmt: skip

#: Fargate task sizes: CPU units -> allowed memory (MiB).
FARGATE_SIZES: dict[int, tuple[int, ...]] = {
    256: (512, 1024, 2048),
    512: tuple(range(1024, 4096 + 1, 1024)),
    1024: tuple(range(2048, 8192 + 1, 1024)),
    2048: tuple(range(4096, 16384 + 1, 1024)),
    4096: tuple(range(8192, 30720 + 1, 1024)),
    8192: tuple(range(16384, 61440 + 1, 4096)),
    16384: tuple(range(32768, 122880 + 1, 8192)),
}

LOG_RETENTION_DAYS = (
    1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192,
    2557, 2922, 3288, 3653,
)  # fmt: skip

NAME_RE = re.compile(r"^[a-z][a-z0-9]*(-[a-z0-9]+)*$")
ENV_NAME_RE = re.compile(r"^[a-z][a-z0-9]{1,11}$")
ACCOUNT_RE = re.compile(r"^\d{12}$")
EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
PARAM_KEY_RE = re.compile(r"^[A-Za-z0-9_.-]+$")
ROLE_NAME_RE = re.compile(r"^[\w+=,.@-]{1,64}$")

#: AWS caps ALB and target group names at 32 characters.
MAX_ELB_NAME = 32

DEFAULT_STATE_REGION = "us-east-1"


# ---------------------------------------------------------------------------
# The model
# ---------------------------------------------------------------------------
@dataclass(frozen=True)
class Microservice:
    name: str
    short_name: str
    port: int = 8080
    health_check_path: str = "/health"


@dataclass(frozen=True)
class StateSettings:
    bucket: str
    region: str


@dataclass(frozen=True)
class TerraformSettings:
    binary: str | None = None
    provider_mirror: str | None = None
    parallelism: int | None = None


#: Values of an environment's ``approval``: whether applying to it asks first.
APPROVAL_REQUIRED = "required"
APPROVAL_NONE = "none"
APPROVALS = (APPROVAL_REQUIRED, APPROVAL_NONE)

PIPELINE_SOURCES = ("CodeCommit", "S3")
NAT_GATEWAY_MODES = ("single", "per_az")


@dataclass(frozen=True)
class PipelineSettings:
    source: str = "CodeCommit"  # one of PIPELINE_SOURCES
    branch: str = "main"
    staging: str = "staging"
    production: str = "prod"
    build_image_tag: str = "1.0.0"


@dataclass(frozen=True)
class GitHubSettings:
    """``ci.github``: the repository whose workflows plan and apply (``deployer ci github``)."""

    repository: str  # OWNER/REPO
    #: The protected branch the apply workflow runs on.
    branch: str = "main"
    #: Create the account's GitHub OIDC provider (false: the account already has one).
    create_oidc_provider: bool = True


@dataclass(frozen=True)
class CiSettings:
    #: None: no GitHub identity is created (the delivery stack's CI roles are off).
    github: GitHubSettings | None = None


@dataclass(frozen=True)
class Alarms:
    running_tasks_min_ratio: float = 1.0
    unhealthy_targets: int = 0
    http_5xx_rate_percent: float = 5.0
    evaluation_periods: int = 3
    period_seconds: int = 60

    def to_json(self) -> dict[str, float | int]:
        return {
            "running_tasks_min_ratio": self.running_tasks_min_ratio,
            "unhealthy_targets": self.unhealthy_targets,
            "http_5xx_rate_percent": self.http_5xx_rate_percent,
            "evaluation_periods": self.evaluation_periods,
            "period_seconds": self.period_seconds,
        }


@dataclass(frozen=True)
class HealthChecks:
    """The load balancer's checks of each service's targets (AWS's limits for an ALB's
    HTTP target group); faster checks make deployments and tests quicker."""

    interval_seconds: int = 15
    timeout_seconds: int = 5
    healthy_threshold: int = 2
    unhealthy_threshold: int = 3
    deregistration_delay_seconds: int = 30

    def to_json(self) -> dict[str, int]:
        return {
            "interval_seconds": self.interval_seconds,
            "timeout_seconds": self.timeout_seconds,
            "healthy_threshold": self.healthy_threshold,
            "unhealthy_threshold": self.unhealthy_threshold,
            "deregistration_delay_seconds": self.deregistration_delay_seconds,
        }


#: CodeDeploy's predefined ECS deployment configurations.
ECS_DEPLOYMENT_CONFIGS = (
    "CodeDeployDefault.ECSAllAtOnce",
    "CodeDeployDefault.ECSLinear10PercentEvery1Minutes",
    "CodeDeployDefault.ECSLinear10PercentEvery3Minutes",
    "CodeDeployDefault.ECSCanary10Percent5Minutes",
    "CodeDeployDefault.ECSCanary10Percent15Minutes",
)
DEPLOYMENT_CONFIG_RE = re.compile(r"^[A-Za-z0-9._-]{1,100}$")


@dataclass(frozen=True)
class Deployments:
    """How CodeDeploy releases each service: the deployment configuration (how production
    traffic shifts) and how long the original tasks are kept after it has."""

    config: str = "CodeDeployDefault.ECSAllAtOnce"
    termination_wait_minutes: int = 5

    def to_json(self) -> dict[str, Any]:
        return {"config": self.config, "termination_wait_minutes": self.termination_wait_minutes}


#: A region's task count (``regions[].desired_count``, ``standby_count``) lies in 1..100,
#: as ``sizing.desired_count`` does.
MAX_COUNT = 100


@dataclass(frozen=True)
class Region:
    name: str
    cidr: str | None = None
    #: The count this region's services run while it serves; None: ``sizing.desired_count``.
    desired_count: int | None = None
    #: The count they run while another region serves (standing by); None: the region's
    #: desired count (every region at full capacity, as before per-region counts existed).
    standby_count: int | None = None


@dataclass(frozen=True)
class Sizing:
    cpu: int = 256
    memory: int = 512
    desired_count: int = 2


@dataclass(frozen=True)
class Network:
    nat_gateways: str = "single"  # one of NAT_GATEWAY_MODES


#: ACM caps a certificate's first domain name at 64 octets (RequestCertificate's DomainName).
MAX_CERTIFICATE_DOMAIN = 64
#: A DNS label: letters, digits and hyphens, neither first nor last a hyphen, 1 to 63 long.
DNS_LABEL_RE = re.compile(r"^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$")


@dataclass(frozen=True)
class Dns:
    """``dns``: the public hosted zone the environment's services are named in.

    The delivery stack creates the zone (and the role the environment's workspaces
    change it through); each region's runtime workspace gives every microservice the
    failover name :meth:`record_name`, an HTTPS certificate for it and a health check.
    """

    zone: str  # lower case, without the trailing dot

    def record_name(self, microservice: str) -> str:
        """The name users reach a microservice at: ``<microservice>.<zone>``."""
        return f"{microservice}.{self.zone}"


@dataclass(frozen=True)
class Environment:
    name: str
    file: Path
    stack: str
    account_id: str
    regions: tuple[Region, ...]
    deploy_role_name: str | None = None
    network: Network = field(default_factory=Network)
    sizing: Sizing = field(default_factory=Sizing)
    log_retention_days: int = 30
    notification_emails: tuple[str, ...] = ()
    parameters: dict[str, dict[str, str]] = field(default_factory=dict)
    secrets: dict[str, tuple[str, ...]] = field(default_factory=dict)
    alarms: Alarms = field(default_factory=Alarms)
    health_checks: HealthChecks = field(default_factory=HealthChecks)
    deployments: Deployments = field(default_factory=Deployments)
    #: None: no names, no certificates (HTTP listeners), as before ``dns`` existed.
    dns: Dns | None = None
    #: The region that takes traffic (runs its desired count; the others their standby
    #: count). None: the primary region. ``deployer dr failover`` is what changes it.
    serving: str | None = None
    #: The stateful-destroy gate applies (see deployer.gate). Default: true for the
    #: delivery environment and the pipeline's staging and production environments.
    protected: bool = False
    #: "required" or "none"; None (not set) means required on AWS only. The pipeline's
    #: production environment defaults to "required".
    approval: str | None = None

    def approval_required(self, *, on_aws: bool) -> bool:
        """Whether applying to this environment asks first (``--auto-approve`` skips it)."""
        if self.approval is None:
            return on_aws
        return self.approval == APPROVAL_REQUIRED

    @property
    def primary_region(self) -> str:
        return self.regions[0].name

    @property
    def dr_region(self) -> str | None:
        return self.regions[1].name if len(self.regions) > 1 else None

    @property
    def serving_region(self) -> str:
        """The region that takes traffic: ``serving``, or the primary region."""
        return self.serving or self.primary_region

    def desired_count(self, region: str) -> int:
        """The count ``region``'s services run while it serves."""
        count = self.region(region).desired_count
        return self.sizing.desired_count if count is None else count

    def standby_count(self, region: str) -> int:
        """The count ``region``'s services run while another region serves."""
        count = self.region(region).standby_count
        return self.desired_count(region) if count is None else count

    def running_count(self, region: str) -> int:
        """The count ``region``'s workspace runs now: desired when it serves, standby otherwise
        (what its tfvars carry, so a plan after a failover or failback is empty)."""
        if region == self.serving_region:
            return self.desired_count(region)
        return self.standby_count(region)

    def region(self, name: str) -> Region:
        """The region named ``name``; a usage error naming the configured ones."""
        for region in self.regions:
            if region.name == name:
                return region
        from deployer.errors import UsageError

        known = ", ".join(r.name for r in self.regions)
        raise UsageError(
            f"environment {self.name} has no region {name} (configured: {known})",
            hint=f"see environments/{self.file.name}",
        )


@dataclass(frozen=True)
class Config:
    root: Path
    company: str
    service: str
    microservices: tuple[Microservice, ...]
    terraform: TerraformSettings
    state: StateSettings
    delivery_environment: str
    environments: dict[str, Environment]
    pipeline: PipelineSettings = field(default_factory=PipelineSettings)
    ci: CiSettings = field(default_factory=CiSettings)

    def name_prefix(self, environment: str) -> str:
        return names.name_prefix(self.company, self.service, environment)

    @cached_property
    def names(self) -> names.Names:
        """Every resource name the stacks give (deployer.names, the mirror of modules/naming)."""
        return names.Names.from_config(self)

    def environment(self, name: str) -> Environment:
        try:
            return self.environments[name]
        except KeyError:
            known = ", ".join(sorted(self.environments)) or "none"
            from deployer.errors import UsageError

            raise UsageError(
                f"unknown environment {name!r} (configured: {known})",
                hint=f"add environments/{name}.yaml or pick a configured environment",
            ) from None

    def github(self, without: str, *, otherwise: str | None = None) -> GitHubSettings:
        """``ci.github``, or a usage error saying what is missing without it (``without``),
        what to add, and ``otherwise`` what the user can do instead."""
        if self.ci.github is None:
            from deployer.errors import UsageError

            raise UsageError(
                f"ci.github is not configured in environments/project.yaml: {without}",
                hint="add to environments/project.yaml:\n"
                "    ci:\n"
                "      github:\n"
                "        repository: OWNER/REPO   # as GitHub spells it\n"
                "        branch: main             # the protected branch applies run on"
                + (f"\nor {otherwise}" if otherwise else ""),
            )
        return self.ci.github

    @property
    def delivery(self) -> Environment:
        return self.environments[self.delivery_environment]


# ---------------------------------------------------------------------------
# Validation toolkit: a reader over one YAML document that records problems.
# ---------------------------------------------------------------------------
_MISSING = object()


class _Reader:
    def __init__(self, file: str, problems: list[ConfigProblem]) -> None:
        self.file = file
        self.problems = problems

    def problem(self, path: str, reason: str) -> None:
        self.problems.append(ConfigProblem(self.file, path or "(document)", reason))

    def mapping(
        self, node: Any, path: str, allowed: Iterable[str], required: Iterable[str] = ()
    ) -> dict[str, Any]:
        if node is None:
            node = {}
        if not isinstance(node, dict):
            self.problem(path, f"must be a mapping, got {_kind(node)}")
            return {}
        allowed_set = set(allowed)
        for key in node:
            if not isinstance(key, str):
                self.problem(_join(path, str(key)), "keys must be strings")
            elif key not in allowed_set:
                self.problem(
                    _join(path, key),
                    f"unknown key (allowed: {', '.join(sorted(allowed_set))})",
                )
        for key in required:
            if key not in node or node[key] is None:
                self.problem(_join(path, key), "is required")
        return {k: v for k, v in node.items() if isinstance(k, str) and k in allowed_set}

    def string(
        self,
        node: dict[str, Any],
        key: str,
        path: str,
        *,
        default: Any = _MISSING,
        pattern: re.Pattern[str] | None = None,
        pattern_reason: str = "",
        check: Callable[[str], str | None] | None = None,
    ) -> Any:
        where = _join(path, key)
        value = node.get(key, _MISSING)
        if value is _MISSING or value is None:
            return None if default is _MISSING else default
        if not isinstance(value, str):
            self.problem(where, f"must be a string, got {_kind(value)} {value!r}")
            return None if default is _MISSING else default
        if pattern is not None and not pattern.match(value):
            self.problem(where, f"{value!r} {pattern_reason}")
            return None if default is _MISSING else default
        if check is not None:
            reason = check(value)
            if reason:
                self.problem(where, reason)
                return None if default is _MISSING else default
        return value

    def integer(
        self,
        node: dict[str, Any],
        key: str,
        path: str,
        *,
        default: int | None = None,
        minimum: int | None = None,
        maximum: int | None = None,
        choices: Iterable[int] | None = None,
    ) -> int | None:
        where = _join(path, key)
        value = node.get(key, _MISSING)
        if value is _MISSING or value is None:
            return default
        if isinstance(value, bool) or not isinstance(value, int):
            self.problem(where, f"must be an integer, got {_kind(value)} {value!r}")
            return default
        if minimum is not None and value < minimum:
            self.problem(where, f"must be at least {minimum}, got {value}")
            return default
        if maximum is not None and value > maximum:
            self.problem(where, f"must be at most {maximum}, got {value}")
            return default
        if choices is not None:
            allowed = tuple(choices)
            if value not in allowed:
                self.problem(where, f"{value} is not one of {', '.join(map(str, allowed))}")
                return default
        return value

    def sequence(self, node: dict[str, Any], key: str, path: str) -> list[Any]:
        value = node.get(key, _MISSING)
        if value is _MISSING or value is None:
            return []
        if not isinstance(value, list):
            self.problem(_join(path, key), f"must be a list, got {_kind(value)}")
            return []
        return value


def _join(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


def _index(path: str, i: int) -> str:
    return f"{path}[{i}]"


def _kind(value: Any) -> str:
    return {
        dict: "a mapping",
        list: "a list",
        str: "a string",
        bool: "a boolean",
        int: "an integer",
        float: "a number",
        type(None): "nothing",
    }.get(type(value), type(value).__name__)


def _check_cidr(value: str) -> str | None:
    try:
        network = ipaddress.IPv4Network(value, strict=True)
    except ValueError as exc:
        return f"{value!r} is not a valid IPv4 CIDR block ({exc})"
    if not 16 <= network.prefixlen <= 24:
        return f"{value!r} must have a prefix length between /16 and /24 (room for 6 subnets)"
    return None


def _check_bucket(value: str) -> str | None:
    if not re.match(r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$", value) or ".." in value:
        return f"{value!r} is not a valid S3 bucket name"
    return None


def _check_region(value: str) -> str | None:
    if value not in AWS_REGIONS:
        return f"{value!r} is not a known AWS region"
    return None


# ---------------------------------------------------------------------------
# Loading
# ---------------------------------------------------------------------------
def _keys(cls: type, *, exclude: tuple[str, ...] = ()) -> tuple[str, ...]:
    """The YAML keys of a section: the fields of the dataclass that models it."""
    return tuple(f.name for f in fields(cls) if f.name not in exclude)


PROJECT_KEYS = (
    "company",
    "service",
    "microservices",
    "terraform",
    "delivery_environment",
    "pipeline",
    "ci",
)
PIPELINE_KEYS = _keys(PipelineSettings)
CI_KEYS = _keys(CiSettings)
GITHUB_KEYS = _keys(GitHubSettings)
ALARM_KEYS = _keys(Alarms)
HEALTH_CHECK_KEYS = _keys(HealthChecks)
DEPLOYMENT_KEYS = _keys(Deployments)
MICROSERVICE_KEYS = _keys(Microservice)
TERRAFORM_KEYS = (*_keys(TerraformSettings), "state")
STATE_KEYS = _keys(StateSettings)
#: Every field of an Environment is a key of its file, but its name and path.
ENV_KEYS = _keys(Environment, exclude=("name", "file"))
REGION_KEYS = _keys(Region)
NETWORK_KEYS = _keys(Network)
SIZING_KEYS = _keys(Sizing)
DNS_KEYS = _keys(Dns)


def _load_yaml(path: Path, root: Path, problems: list[ConfigProblem]) -> Any:
    rel = _rel(path, root)
    try:
        text = path.read_text()
    except OSError as exc:
        problems.append(ConfigProblem(rel, "(file)", f"cannot be read: {exc.strerror}"))
        return None
    try:
        return _parse_yaml(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}" if mark else "(file)"
        problems.append(ConfigProblem(rel, where, f"is not valid YAML: {exc}"))
        return None


def _parse_yaml(text: str) -> Any:
    """``yaml.safe_load``, parsed by libyaml when PyYAML has it (about 15 times faster:
    the configuration is read on every command). What libyaml refuses is parsed again
    by PyYAML's own parser, so errors (and their marks) read as they always have."""
    loader = getattr(yaml, "CSafeLoader", None)
    if loader is not None:
        try:
            return yaml.load(text, Loader=loader)
        except yaml.YAMLError:
            pass
    return yaml.safe_load(text)


def _rel(path: Path, root: Path) -> str:
    try:
        return str(path.relative_to(root))
    except ValueError:
        return str(path)


def load(root: Path) -> Config:
    """Load and validate ``<root>/environments``; raise ConfigError with every problem."""
    problems: list[ConfigProblem] = []
    env_dir = root / "environments"
    project_path = env_dir / "project.yaml"
    raw = _load_yaml(project_path, root, problems)
    r = _Reader(_rel(project_path, root), problems)
    doc = r.mapping(raw, "", PROJECT_KEYS, required=("company", "service", "microservices"))

    company = r.string(
        doc,
        "company",
        "",
        default="",
        pattern=NAME_RE,
        pattern_reason="must be lowercase letters, digits and single hyphens",
    )
    service = r.string(
        doc,
        "service",
        "",
        default="",
        pattern=NAME_RE,
        pattern_reason="must be lowercase letters, digits and single hyphens",
    )
    delivery_env = r.string(
        doc,
        "delivery_environment",
        "",
        default="delivery",
        pattern=ENV_NAME_RE,
        pattern_reason="must be 2-12 lowercase letters or digits",
    )

    microservices = _load_microservices(r, doc)
    terraform, state = _load_terraform(r, doc, company, service, delivery_env)

    environments: dict[str, Environment] = {}
    protected: dict[str, bool | None] = {}
    env_files = sorted(p for p in env_dir.glob("*.yaml") if p.name != "project.yaml")
    for path in env_files:
        loaded = _load_environment(path, root, problems, microservices)
        if loaded is not None:
            env, protected[env.name] = loaded
            environments[env.name] = env

    if delivery_env and delivery_env not in environments and not problems:
        problems.append(
            ConfigProblem(
                r.file,
                "delivery_environment",
                f"names {delivery_env!r}, but there is no environments/{delivery_env}.yaml",
            )
        )
    elif delivery_env in environments and environments[delivery_env].stack != "delivery":
        problems.append(
            ConfigProblem(
                f"environments/{delivery_env}.yaml",
                "stack",
                "the delivery environment must use the delivery stack",
            )
        )

    pipeline = _load_pipeline(r, doc, environments)
    ci = _load_ci(r, doc)
    environments = _apply_policy_defaults(environments, protected, pipeline, delivery_env)

    if company and service:
        for env in environments.values():
            _check_name_lengths(env, company, service, microservices, problems)
    _check_zones_unique(environments, problems)

    if problems:
        raise ConfigError(problems)
    return Config(
        root=root,
        company=company,
        service=service,
        microservices=tuple(microservices),
        terraform=terraform,
        state=state,
        delivery_environment=delivery_env,
        environments=environments,
        pipeline=pipeline,
        ci=ci,
    )


def _load_microservices(r: _Reader, doc: dict[str, Any]) -> list[Microservice]:
    result: list[Microservice] = []
    seen_names: set[str] = set()
    seen_short: set[str] = set()
    items = r.sequence(doc, "microservices", "")
    if "microservices" in doc and not items:
        r.problem("microservices", "must list at least one microservice")
    for i, item in enumerate(items):
        path = _index("microservices", i)
        node = r.mapping(item, path, MICROSERVICE_KEYS, required=("name",))
        name = r.string(
            node,
            "name",
            path,
            pattern=NAME_RE,
            pattern_reason="must be lowercase letters, digits and single hyphens",
        )
        short = r.string(
            node,
            "short_name",
            path,
            default=None,
            pattern=NAME_RE,
            pattern_reason="must be lowercase letters, digits and single hyphens",
        )
        if short is None and name:
            short = name.removesuffix("-service")
        if short is not None and len(short) > 12:
            r.problem(
                _join(path, "short_name"),
                f"{short!r} is longer than 12 characters; set a shorter short_name "
                "(it goes into 32-character ALB and target group names)",
            )
            short = None
        port = r.integer(node, "port", path, default=Microservice.port, minimum=1, maximum=65535)
        health = r.string(
            node,
            "health_check_path",
            path,
            default=Microservice.health_check_path,
            pattern=re.compile(r"^/[\w./-]*$"),
            pattern_reason="must be an absolute URL path",
        )
        if name and name in seen_names:
            r.problem(_join(path, "name"), f"{name!r} is listed twice")
            continue
        if short and short in seen_short:
            r.problem(_join(path, "short_name"), f"{short!r} is used by another microservice")
            continue
        if name and short and port is not None:
            seen_names.add(name)
            seen_short.add(short)
            result.append(Microservice(name, short, port, health))
    return result


def _load_pipeline(
    r: _Reader, doc: dict[str, Any], environments: dict[str, Environment]
) -> PipelineSettings:
    node = r.mapping(doc.get("pipeline"), "pipeline", PIPELINE_KEYS)
    source = r.string(node, "source", "pipeline", default=PipelineSettings.source)
    if source not in PIPELINE_SOURCES:
        r.problem("pipeline.source", f"{source!r} must be {_either(PIPELINE_SOURCES)}")
        source = PipelineSettings.source
    branch = r.string(node, "branch", "pipeline", default=PipelineSettings.branch,
                      pattern=re.compile(r"^[\w./-]{1,100}$"),
                      pattern_reason="is not a valid branch name")  # fmt: skip
    tag = r.string(node, "build_image_tag", "pipeline", default=PipelineSettings.build_image_tag,
                   pattern=re.compile(r"^[\w][\w.-]{0,127}$"),
                   pattern_reason="is not a valid image tag")  # fmt: skip
    stages = {}
    for key in ("staging", "production"):
        default = getattr(PipelineSettings, key)
        name = r.string(node, key, "pipeline", default=default)
        if name and environments and name not in environments:
            r.problem(
                f"pipeline.{key}", f"names {name!r}, but there is no environments/{name}.yaml"
            )
        elif name in environments and environments[name].stack != "runtime":
            r.problem(f"pipeline.{key}", f"{name!r} must be a runtime environment")
        stages[key] = name or default
    return PipelineSettings(source, branch, stages["staging"], stages["production"], tag)


GITHUB_REPOSITORY_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9-]{0,38}/[A-Za-z0-9._-]{1,100}$")


def _load_ci(r: _Reader, doc: dict[str, Any]) -> CiSettings:
    node = r.mapping(doc.get("ci"), "ci", CI_KEYS)
    if node.get("github") is None:
        return CiSettings()
    gh = r.mapping(node["github"], "ci.github", GITHUB_KEYS, required=("repository",))
    repository = r.string(gh, "repository", "ci.github", default=None,
                          pattern=GITHUB_REPOSITORY_RE,
                          pattern_reason="must be OWNER/REPO, as GitHub spells it")  # fmt: skip
    branch = r.string(gh, "branch", "ci.github", default=GitHubSettings.branch,
                      pattern=re.compile(r"^[\w./-]{1,100}$"),
                      pattern_reason="is not a valid branch name")  # fmt: skip
    create = gh.get("create_oidc_provider", GitHubSettings.create_oidc_provider)
    if not isinstance(create, bool):
        r.problem("ci.github.create_oidc_provider", f"must be true or false, got {create!r}")
        create = GitHubSettings.create_oidc_provider
    if not repository:
        return CiSettings()
    return CiSettings(GitHubSettings(repository, branch, create))


def _load_alarms(r: _Reader, doc: dict[str, Any]) -> Alarms:
    node = r.mapping(doc.get("alarms"), "alarms", ALARM_KEYS)
    ratio = node.get("running_tasks_min_ratio", Alarms.running_tasks_min_ratio)
    if isinstance(ratio, bool) or not isinstance(ratio, (int, float)) or not 0 < ratio <= 1:
        r.problem(
            "alarms.running_tasks_min_ratio", f"{ratio!r} must be a number above 0 and at most 1"
        )
        ratio = Alarms.running_tasks_min_ratio
    rate = node.get("http_5xx_rate_percent", Alarms.http_5xx_rate_percent)
    if isinstance(rate, bool) or not isinstance(rate, (int, float)) or not 0 < rate <= 100:
        r.problem(
            "alarms.http_5xx_rate_percent", f"{rate!r} must be a percentage above 0 and at most 100"
        )
        rate = Alarms.http_5xx_rate_percent
    unhealthy = r.integer(
        node, "unhealthy_targets", "alarms", default=Alarms.unhealthy_targets, minimum=0
    )
    periods = r.integer(node, "evaluation_periods", "alarms",
                        default=Alarms.evaluation_periods, minimum=1, maximum=1440)  # fmt: skip
    period = r.integer(node, "period_seconds", "alarms",
                       default=Alarms.period_seconds, minimum=60, maximum=86400)  # fmt: skip
    if period is not None and period % 60:
        r.problem("alarms.period_seconds", f"{period} must be a multiple of 60")
        period = Alarms.period_seconds
    return Alarms(
        float(ratio),
        Alarms.unhealthy_targets if unhealthy is None else unhealthy,
        float(rate),
        periods or Alarms.evaluation_periods,
        period or Alarms.period_seconds,
    )


def _load_health_checks(r: _Reader, doc: dict[str, Any]) -> HealthChecks:
    """``health_checks``: AWS's limits for an ALB's HTTP target group, checked here so that
    a bad value names its file and field before Terraform runs."""
    node = r.mapping(doc.get("health_checks"), "health_checks", HEALTH_CHECK_KEYS)
    d = HealthChecks()
    limits = {
        "interval_seconds": (5, 300),
        "timeout_seconds": (2, 120),
        "healthy_threshold": (2, 10),
        "unhealthy_threshold": (2, 10),
        "deregistration_delay_seconds": (0, 3600),
    }
    values = {
        key: r.integer(
            node, key, "health_checks", default=getattr(d, key), minimum=low, maximum=high
        )
        for key, (low, high) in limits.items()
    }
    checks = HealthChecks(**{k: getattr(d, k) if v is None else v for k, v in values.items()})
    if checks.timeout_seconds >= checks.interval_seconds:
        r.problem(
            "health_checks.timeout_seconds",
            f"{checks.timeout_seconds} must be less than interval_seconds "
            f"({checks.interval_seconds}): a check must time out before the next one starts",
        )
        return d
    return checks


def _load_deployments(r: _Reader, doc: dict[str, Any]) -> Deployments:
    """``deployments``: a predefined ECS configuration or a custom one's name, and
    CodeDeploy's termination wait (0 to 2880 minutes)."""
    node = r.mapping(doc.get("deployments"), "deployments", DEPLOYMENT_KEYS)
    d = Deployments()
    config = r.string(node, "config", "deployments", default=d.config) or d.config
    if config.startswith("CodeDeployDefault.") and config not in ECS_DEPLOYMENT_CONFIGS:
        r.problem(
            "deployments.config",
            f"{config!r} is not one of CodeDeploy's ECS configurations "
            f"({', '.join(ECS_DEPLOYMENT_CONFIGS)})",
        )
        config = d.config
    elif not DEPLOYMENT_CONFIG_RE.match(config):
        r.problem(
            "deployments.config",
            f"{config!r} is not a deployment configuration name (1 to 100 letters, digits, "
            "'.', '_' or '-')",
        )
        config = d.config
    wait = r.integer(
        node,
        "termination_wait_minutes",
        "deployments",
        default=d.termination_wait_minutes,
        minimum=0,
        maximum=2880,
    )
    return Deployments(config, d.termination_wait_minutes if wait is None else wait)


def _check_zone_name(value: str) -> str | None:
    """A public hosted zone's name as Route 53 and IAM's condition keys normalize it:
    lower case, two labels at the least, each a DNS label (RFC 1035), 253 characters at
    the most; the trailing dot is dropped before this check."""
    if value != value.lower():
        return f"{value!r} must be lower case (Route 53 and its IAM condition keys use it so)"
    labels = value.split(".")
    if len(labels) < 2:
        return f"{value!r} is not a domain name: a zone has two labels at the least (example.com)"
    bad = [label for label in labels if not DNS_LABEL_RE.match(label)]
    if bad:
        return (
            f"{value!r} is not a domain name: {bad[0]!r} is not a DNS label (1 to 63 letters, "
            "digits or hyphens, neither first nor last a hyphen)"
        )
    if labels[-1].isdigit():
        return f"{value!r} is not a domain name: its top-level label is all digits"
    if len(value) > 253:
        return f"{value!r} is {len(value)} characters; a domain name has 253 at the most"
    return None


def _load_dns(
    r: _Reader,
    doc: dict[str, Any],
    stack: str,
    role_name: str | None,
    microservices: list[Microservice],
) -> Dns | None:
    """``dns``: the zone of a runtime environment's failover names, each of which must
    fit in an ACM certificate's domain name. The zone's role in the delivery account
    trusts the environment's deploy role, so the environment needs one."""
    if doc.get("dns") is None:
        return None
    node = r.mapping(doc["dns"], "dns", DNS_KEYS, required=("zone",))
    if stack and stack != "runtime":
        r.problem(
            "dns",
            "only a runtime environment has service names (the delivery stack creates each "
            "runtime environment's zone from that environment's dns)",
        )
        return None
    if "deploy_role_name" not in doc:
        r.problem(
            "dns",
            "needs deploy_role_name: the role that changes the zone's records (in the delivery "
            "account) trusts the environment's deploy role",
        )
    raw = r.string(node, "zone", "dns", default=None)
    if raw is None or role_name is None:
        return None
    zone = raw.removesuffix(".")
    reason = _check_zone_name(zone)
    if reason:
        r.problem("dns.zone", reason)
        return None
    dns = Dns(zone)
    for m in microservices:
        name = dns.record_name(m.name)
        if len(name) > MAX_CERTIFICATE_DOMAIN:
            r.problem(
                "dns.zone",
                f"{name!r} (microservice {m.name}) is {len(name)} characters; ACM caps a "
                f"certificate's domain name at {MAX_CERTIFICATE_DOMAIN}: shorten the zone",
            )
            return None
    return dns


def _check_zones_unique(
    environments: dict[str, Environment], problems: list[ConfigProblem]
) -> None:
    """Two environments with one zone would make two hosted zones of one name, and both
    would write the same service names."""
    owners: dict[str, str] = {}
    for name in sorted(environments):
        env = environments[name]
        if env.dns is None:
            continue
        other = owners.setdefault(env.dns.zone, name)
        if other != name:
            problems.append(
                ConfigProblem(
                    _rel(env.file, env.file.parent.parent),
                    "dns.zone",
                    f"{env.dns.zone!r} is also the zone of environment {other}: each "
                    "environment names its services in a zone of its own",
                )
            )


def _load_terraform(
    r: _Reader, doc: dict[str, Any], company: str, service: str, delivery_env: str
) -> tuple[TerraformSettings, StateSettings]:
    node = r.mapping(doc.get("terraform"), "terraform", TERRAFORM_KEYS)
    binary = r.string(node, "binary", "terraform", default=None)
    mirror = r.string(node, "provider_mirror", "terraform", default=None)
    parallelism = r.integer(node, "parallelism", "terraform", default=None, minimum=1, maximum=64)
    state_node = r.mapping(node.get("state"), "terraform.state", STATE_KEYS)
    default_bucket = names.state_bucket(company, service, delivery_env)
    bucket = r.string(
        state_node, "bucket", "terraform.state", default=default_bucket, check=_check_bucket
    )
    region = r.string(
        state_node, "region", "terraform.state", default=DEFAULT_STATE_REGION, check=_check_region
    )
    return TerraformSettings(binary, mirror, parallelism), StateSettings(bucket, region)


def _load_environment(
    path: Path, root: Path, problems: list[ConfigProblem], microservices: list[Microservice]
) -> tuple[Environment, bool | None] | None:
    """The environment, and its ``protected`` as the file sets it (None: not set)."""
    before = len(problems)
    rel = _rel(path, root)
    name = path.stem
    r = _Reader(rel, problems)
    if not ENV_NAME_RE.match(name):
        r.problem(
            "(file name)", f"environment name {name!r} must be 2-12 lowercase letters or digits"
        )
    raw = _load_yaml(path, root, problems)
    doc = r.mapping(raw, "", ENV_KEYS, required=("stack", "account_id", "regions"))

    stack = r.string(doc, "stack", "", default="")
    if stack and stack not in STACKS:
        r.problem("stack", f"{stack!r} is not a stack (choose one of: {', '.join(STACKS)})")
    account = doc.get("account_id")
    if isinstance(account, int) and not isinstance(account, bool):
        r.problem(
            "account_id",
            "must be a quoted string of 12 digits "
            "(unquoted, YAML reads it as a number and drops leading zeros)",
        )
        account = None
    elif account is not None:
        account = r.string(
            doc,
            "account_id",
            "",
            pattern=ACCOUNT_RE,
            pattern_reason="is not a 12-digit AWS account id",
        )
    role_name = r.string(
        doc,
        "deploy_role_name",
        "",
        default=None,
        pattern=ROLE_NAME_RE,
        pattern_reason="is not a valid IAM role name",
    )

    regions: list[Region] = []
    seen: set[str] = set()
    positions: dict[str, int] = {}  # region -> its index in the file's list
    items = r.sequence(doc, "regions", "")
    if "regions" in doc and not items:
        r.problem("regions", "must list at least one region (the first is the primary)")
    for i, item in enumerate(items):
        rpath = _index("regions", i)
        if isinstance(item, str):
            item = {"name": item}
        node = r.mapping(item, rpath, REGION_KEYS, required=("name",))
        rname = r.string(node, "name", rpath, check=_check_region)
        cidr = r.string(node, "cidr", rpath, default=None, check=_check_cidr)
        region_desired = r.integer(node, "desired_count", rpath, minimum=1, maximum=MAX_COUNT)
        standby = r.integer(node, "standby_count", rpath, minimum=1, maximum=MAX_COUNT)
        if rname and rname in seen:
            r.problem(_join(rpath, "name"), f"{rname!r} is listed twice")
        elif rname:
            seen.add(rname)
            positions[rname] = i
            regions.append(Region(rname, cidr, region_desired, standby))
        if stack == "runtime" and rname and "cidr" not in node:
            r.problem(
                _join(rpath, "cidr"), "is required for the runtime stack (the VPC CIDR block)"
            )
    if len(items) > 2:
        r.problem("regions", "at most two regions: the primary and one disaster-recovery region")
    cidrs = [ipaddress.IPv4Network(rg.cidr) for rg in regions if rg.cidr]
    if len(cidrs) == 2 and cidrs[0].overlaps(cidrs[1]):
        r.problem("regions[1].cidr", f"{cidrs[1]} overlaps {cidrs[0]} of the primary region")

    nnode = r.mapping(doc.get("network"), "network", NETWORK_KEYS)
    nat = r.string(nnode, "nat_gateways", "network", default=Network.nat_gateways)
    if nat not in NAT_GATEWAY_MODES:
        r.problem("network.nat_gateways", f"{nat!r} must be {_either(NAT_GATEWAY_MODES)}")
        nat = Network.nat_gateways

    snode = r.mapping(doc.get("sizing"), "sizing", SIZING_KEYS)
    cpu = r.integer(snode, "cpu", "sizing", default=Sizing.cpu, choices=FARGATE_SIZES)
    memory = r.integer(snode, "memory", "sizing", default=Sizing.memory, minimum=512)
    desired = r.integer(
        snode, "desired_count", "sizing", default=Sizing.desired_count, minimum=1, maximum=MAX_COUNT
    )
    serving = _check_counts(r, doc, regions, positions, desired or Sizing.desired_count)
    if cpu is not None and memory is not None and cpu in FARGATE_SIZES:
        allowed = FARGATE_SIZES[cpu]
        if memory not in allowed:
            r.problem(
                "sizing.memory",
                f"{memory} MiB is not a valid Fargate memory size for "
                f"{cpu} CPU units (allowed: {_ranges(allowed)})",
            )

    retention = r.integer(
        doc,
        "log_retention_days",
        "",
        default=Environment.log_retention_days,
        choices=LOG_RETENTION_DAYS,
    )
    alarms = _load_alarms(r, doc)
    health_checks = _load_health_checks(r, doc)
    deployments = _load_deployments(r, doc)
    dns = _load_dns(r, doc, stack, role_name, microservices)
    protected = doc.get("protected")
    if protected is not None and not isinstance(protected, bool):
        r.problem("protected", f"must be true or false, got {_kind(protected)} {protected!r}")
        protected = None
    approval = r.string(doc, "approval", "", default=None)
    if approval is not None and approval not in APPROVALS:
        r.problem("approval", f"{approval!r} must be {_either(APPROVALS)}")
        approval = None

    emails: list[str] = []
    for i, item in enumerate(r.sequence(doc, "notification_emails", "")):
        where = _index("notification_emails", i)
        if not isinstance(item, str) or not EMAIL_RE.match(item):
            r.problem(where, f"{item!r} is not an email address")
        else:
            emails.append(item)

    namespaces = {m.name for m in microservices} | {names.SHARED_NAMESPACE}
    parameters: dict[str, dict[str, str]] = {}
    pnode = r.mapping(doc.get("parameters"), "parameters", namespaces)
    for svc, values in pnode.items():
        vnode = values if isinstance(values, dict) else None
        if vnode is None:
            r.problem(_join("parameters", svc), f"must be a mapping, got {_kind(values)}")
            continue
        clean: dict[str, str] = {}
        for key, value in vnode.items():
            where = _join(_join("parameters", svc), str(key))
            if not isinstance(key, str) or not PARAM_KEY_RE.match(key):
                r.problem(where, "parameter names are letters, digits, '_', '.', '-'")
            elif isinstance(value, (dict, list)) or value is None:
                r.problem(where, f"must be a plain value, got {_kind(value)}")
            else:
                clean[key] = str(value).lower() if isinstance(value, bool) else str(value)
        parameters[svc] = clean

    secrets: dict[str, tuple[str, ...]] = {}
    secnode = r.mapping(doc.get("secrets"), "secrets", namespaces)
    for svc, listed in secnode.items():
        where = _join("secrets", svc)
        if not isinstance(listed, list):
            r.problem(where, f"must be a list of secret names, got {_kind(listed)}")
            continue
        valid = []
        for i, item in enumerate(listed):
            if not isinstance(item, str) or not PARAM_KEY_RE.match(item):
                r.problem(_index(where, i), f"{item!r} is not a valid secret name")
            elif item in parameters.get(svc, {}):
                r.problem(_index(where, i), f"{item!r} is also a plain parameter")
            else:
                valid.append(item)
        secrets[svc] = tuple(valid)

    if len(problems) > before:
        return None
    # `protected` unset (None) is resolved once the pipeline's roles are known.
    return Environment(
        name=name,
        file=path,
        stack=stack,
        account_id=str(account),
        regions=tuple(regions),
        deploy_role_name=role_name,
        network=Network(nat_gateways=nat),
        sizing=Sizing(
            cpu=cpu or Sizing.cpu,
            memory=memory or Sizing.memory,
            desired_count=desired or Sizing.desired_count,
        ),
        log_retention_days=retention or Environment.log_retention_days,
        notification_emails=tuple(emails),
        parameters=parameters,
        secrets=secrets,
        alarms=alarms,
        health_checks=health_checks,
        deployments=deployments,
        dns=dns,
        serving=serving,
        approval=approval,
    ), protected


def _check_counts(
    r: _Reader,
    doc: dict[str, Any],
    regions: list[Region],
    positions: dict[str, int],
    sizing_desired: int,
) -> str | None:
    """Each region's standby count against its desired count, and ``serving``, which must
    name one of the environment's regions; returns ``serving`` when valid."""
    for region in regions:
        if region.standby_count is None:
            continue
        where = _join(_index("regions", positions[region.name]), "standby_count")
        if len(regions) < 2:
            r.problem(
                where,
                "only a region of a two-region environment stands by (no other region "
                "serves while this one is the only one)",
            )
            continue
        desired = sizing_desired if region.desired_count is None else region.desired_count
        if region.standby_count > desired:
            r.problem(
                where,
                f"{region.standby_count} is more than the region's desired count ({desired}): "
                "a region standing by runs at most what it runs while serving",
            )
    serving = r.string(doc, "serving", "", default=None)
    known = [region.name for region in regions]
    if serving is not None and known and serving not in known:
        r.problem(
            "serving",
            f"{serving!r} is not one of the environment's regions ({', '.join(known)})",
        )
        return None
    return str(serving) if serving is not None else None


def _apply_policy_defaults(
    environments: dict[str, Environment],
    protected: dict[str, bool | None],
    pipeline: PipelineSettings,
    delivery_env: str,
) -> dict[str, Environment]:
    """Safety follows an environment's role, never its name.

    Protected by default: the delivery environment (ECR repositories, artifact
    buckets, keys, the Terraform state) and the environments the pipeline deploys
    to as staging and production. Approval required by default: the pipeline's
    production environment (and, at run time, every environment on AWS).
    """
    protected_roles = {delivery_env, pipeline.staging, pipeline.production}
    resolved = {}
    for name, env in environments.items():
        explicit = protected.get(name)
        approval = env.approval
        if approval is None and name == pipeline.production:
            approval = APPROVAL_REQUIRED
        resolved[name] = replace(
            env,
            protected=(name in protected_roles) if explicit is None else explicit,
            approval=approval,
        )
    return resolved


def _either(choices: tuple[str, ...]) -> str:
    quoted = [repr(c) for c in choices]
    return ", ".join(quoted[:-1]) + " or " + quoted[-1] if len(quoted) > 1 else quoted[0]


def _ranges(values: tuple[int, ...]) -> str:
    if len(values) <= 3:
        return ", ".join(map(str, values))
    step = values[1] - values[0]
    return f"{values[0]}-{values[-1]} in steps of {step}"


def _check_name_lengths(
    env: Environment,
    company: str,
    service: str,
    microservices: list[Microservice],
    problems: list[ConfigProblem],
) -> None:
    """ALB and target group names are capped at 32 characters by AWS."""
    if env.stack != "runtime":
        return
    prefix = names.name_prefix(company, service, env.name)
    candidates = [
        name
        for m in microservices
        for name in names.LoadBalancerNames.of(prefix, m.short_name).all()
    ]
    for name in candidates:
        if len(name) > MAX_ELB_NAME:
            problems.append(
                ConfigProblem(
                    _rel(env.file, env.file.parent.parent),
                    "(name)",
                    f"{name!r} is {len(name)} characters; ALB and target group names are "
                    f"capped at {MAX_ELB_NAME}: shorten company, service, the environment "
                    "name or the microservice short_name",
                )
            )
            return
