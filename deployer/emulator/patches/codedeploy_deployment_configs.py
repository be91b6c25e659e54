"""CodeDeploy: deployment configurations (Create/Get/List/DeleteDeploymentConfig).

moto 5.2.5 has none of the four actions (HTTP 500), so an
``aws_codedeploy_deployment_config`` fails on apply, nothing can read how a
predefined configuration such as ``CodeDeployDefault.ECSLinear10PercentEvery1Minutes``
shifts traffic, and a deployment group or a deployment naming a configuration
that does not exist is accepted.

Reproduced, after the CodeDeploy API reference (CreateDeploymentConfig,
GetDeploymentConfig, ListDeploymentConfigs, DeleteDeploymentConfig,
DeploymentConfigInfo, TrafficRoutingConfig, MinimumHealthyHosts, ZonalConfig)
and the user guide's "Working with deployment configurations":

* the predefined configurations of the three compute platforms exist in every
  account and region: Server's ``AllAtOnce``/``HalfAtATime``/``OneAtATime`` with
  their ``minimumHealthyHosts`` (``OneAtATime`` answers ``MOST_CONCURRENCY`` 1, as
  the MinimumHealthyHosts reference says), and the ``Lambda*`` and ``ECS*`` ones
  with their ``trafficRoutingConfig`` (canary: 10 percent, then the rest after
  the interval; linear: 10 percent every interval; all at once);
* CreateDeploymentConfig validates the name (1 to 100 of ``[A-Za-z0-9+=,.@_-]``),
  the compute platform (``Server`` when left out) and what each platform takes:
  Server needs ``minimumHealthyHosts`` (``HOST_COUNT`` or ``FLEET_PERCENT``, the
  latter 0 to 100) and may have a ``zonalConfig``; Lambda and ECS need a
  ``trafficRoutingConfig`` whose type matches its one block (canary percentage 1
  to 99, linear 1 to 100, intervals in whole minutes, at least 1). It answers the
  new ``deploymentConfigId``; GetDeploymentConfig returns only the fields the
  configuration has (no ``minimumHealthyHosts`` for Lambda/ECS, no
  ``trafficRoutingConfig`` for Server, as the Terraform provider's acceptance
  tests expect), so Terraform reads back what it wrote;
* ListDeploymentConfigs lists predefined then custom names, a page at a time
  (``nextToken``; a token it did not issue is ``InvalidNextTokenException``);
* DeleteDeploymentConfig refuses a predefined configuration
  (``InvalidOperationException``) and one that a deployment group or an active
  deployment uses (``DeploymentConfigInUseException``); deleting one that does not
  exist succeeds, as the API lists no error for it;
* CreateDeploymentGroup, UpdateDeploymentGroup and CreateDeployment naming a
  configuration that does not exist fail with ``DeploymentConfigDoesNotExistException``
  (after the application and group checks, which moto already makes).

:func:`traffic_routing` gives the ECS deployment engine a configuration's
``trafficRoutingConfig`` straight from the backend (the caller holds the lock).

Left out: the account quota of custom configurations
(``DeploymentConfigLimitExceededException``), a check that a group's
configuration is of the application's compute platform, upper bounds on
intervals and zonal durations (the reference gives none), and the exact
``deploymentConfigId``/``createTime`` of the predefined configurations (the
emulator gives each a fixed id and the date its platform came to CodeDeploy).
Where AWS documents no answer the emulator chooses, and says so here: a Lambda
or ECS configuration without ``trafficRoutingConfig`` or with
``minimumHealthyHosts`` is refused (not defaulted or ignored), predefined Lambda
and ECS configurations carry no ``minimumHealthyHosts``, a list page holds
:data:`PAGE_SIZE` names, and error messages are the emulator's wording except the
missing ``minimumHealthyHosts`` one, which is AWS's.
"""

from __future__ import annotations

import base64
import binascii
import functools
import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeGuard

from deploy_guard import statuses

from . import _codedeploy_state as state
from ._util import add_method, replace

GAP = (
    "CodeDeploy has no Create/Get/List/DeleteDeploymentConfig: "
    "aws_codedeploy_deployment_config fails on apply, and a deployment group or "
    "deployment naming a configuration that does not exist is accepted."
)

#: DeploymentConfigName in the API reference.
NAME_PATTERN = re.compile(r"[A-Za-z0-9+=,.@_-]{1,100}")
COMPUTE_PLATFORMS = ("Server", "Lambda", "ECS")
HOSTS_TYPES = ("HOST_COUNT", "FLEET_PERCENT")
ROUTING_TYPES = ("TimeBasedCanary", "TimeBasedLinear", "AllAtOnce")
#: ListDeploymentConfigs answers at most this many names a page.
PAGE_SIZE = 100

#: Where the custom configurations are kept on moto's CodeDeployBackend.
_STORE = "deployer_deployment_configs"
_WRAPPED = "__deployer_deployment_configs__"


@dataclass(frozen=True)
class DeploymentConfig:
    """One deployment configuration, as GetDeploymentConfig describes it."""

    name: str
    config_id: str
    create_time: datetime
    compute_platform: str
    minimum_healthy_hosts: dict[str, Any] | None = None
    traffic_routing_config: dict[str, Any] | None = None
    zonal_config: dict[str, Any] | None = None

    def info(self) -> dict[str, Any]:
        """DeploymentConfigInfo: the fields the configuration has, no others."""
        info: dict[str, Any] = {
            "deploymentConfigId": self.config_id,
            "deploymentConfigName": self.name,
            "createTime": self.create_time,
            "computePlatform": self.compute_platform,
        }
        if self.minimum_healthy_hosts is not None:
            info["minimumHealthyHosts"] = dict(self.minimum_healthy_hosts)
        if self.traffic_routing_config is not None:
            info["trafficRoutingConfig"] = _copy(self.traffic_routing_config)
        if self.zonal_config is not None:
            info["zonalConfig"] = _copy(self.zonal_config)
        return info


def _copy(value: dict[str, Any]) -> dict[str, Any]:
    return {k: dict(v) if isinstance(v, dict) else v for k, v in value.items()}


def _canary(percentage: int, interval: int) -> dict[str, Any]:
    return {
        "type": "TimeBasedCanary",
        "timeBasedCanary": {"canaryPercentage": percentage, "canaryInterval": interval},
    }


def _linear(percentage: int, interval: int) -> dict[str, Any]:
    return {
        "type": "TimeBasedLinear",
        "timeBasedLinear": {"linearPercentage": percentage, "linearInterval": interval},
    }


ALL_AT_ONCE: dict[str, Any] = {"type": "AllAtOnce"}

#: When each compute platform came to CodeDeploy (the predefined configurations'
#: createTime in the emulator; AWS's own values are not documented).
_SINCE = {
    "Server": datetime(2014, 11, 12),
    "Lambda": datetime(2017, 11, 28),
    "ECS": datetime(2018, 11, 27),
}


def _predefined(name: str, platform: str, **fields: Any) -> DeploymentConfig:
    full = f"CodeDeployDefault.{name}"
    config_id = str(uuid.uuid5(uuid.NAMESPACE_URL, f"codedeploy:deploymentconfig:{full}"))
    return DeploymentConfig(full, config_id, _SINCE[platform], platform, **fields)


#: The predefined configurations, in the user guide's order.
PREDEFINED: dict[str, DeploymentConfig] = {
    config.name: config
    for config in (
        _predefined(
            "AllAtOnce", "Server", minimum_healthy_hosts={"type": "FLEET_PERCENT", "value": 0}
        ),
        _predefined(
            "HalfAtATime", "Server", minimum_healthy_hosts={"type": "FLEET_PERCENT", "value": 50}
        ),
        _predefined(
            "OneAtATime", "Server", minimum_healthy_hosts={"type": "MOST_CONCURRENCY", "value": 1}
        ),
        _predefined(
            "LambdaCanary10Percent5Minutes", "Lambda", traffic_routing_config=_canary(10, 5)
        ),
        _predefined(
            "LambdaCanary10Percent10Minutes", "Lambda", traffic_routing_config=_canary(10, 10)
        ),
        _predefined(
            "LambdaCanary10Percent15Minutes", "Lambda", traffic_routing_config=_canary(10, 15)
        ),
        _predefined(
            "LambdaCanary10Percent30Minutes", "Lambda", traffic_routing_config=_canary(10, 30)
        ),
        _predefined(
            "LambdaLinear10PercentEvery1Minute", "Lambda", traffic_routing_config=_linear(10, 1)
        ),
        _predefined(
            "LambdaLinear10PercentEvery2Minutes", "Lambda", traffic_routing_config=_linear(10, 2)
        ),
        _predefined(
            "LambdaLinear10PercentEvery3Minutes", "Lambda", traffic_routing_config=_linear(10, 3)
        ),
        _predefined(
            "LambdaLinear10PercentEvery10Minutes", "Lambda", traffic_routing_config=_linear(10, 10)
        ),
        _predefined("LambdaAllAtOnce", "Lambda", traffic_routing_config=ALL_AT_ONCE),
        _predefined(
            "ECSLinear10PercentEvery1Minutes", "ECS", traffic_routing_config=_linear(10, 1)
        ),
        _predefined(
            "ECSLinear10PercentEvery3Minutes", "ECS", traffic_routing_config=_linear(10, 3)
        ),
        _predefined("ECSCanary10Percent5Minutes", "ECS", traffic_routing_config=_canary(10, 5)),
        _predefined("ECSCanary10Percent15Minutes", "ECS", traffic_routing_config=_canary(10, 15)),
        _predefined("ECSAllAtOnce", "ECS", traffic_routing_config=ALL_AT_ONCE),
    )
}


# --- the backend side: plain functions over moto's CodeDeployBackend ---------------


def custom(backend: Any) -> dict[str, DeploymentConfig]:
    """The backend's custom configurations by name, in creation order."""
    store: dict[str, DeploymentConfig] = backend.__dict__.setdefault(_STORE, {})
    return store


def find(backend: Any, name: str) -> DeploymentConfig | None:
    """The configuration called ``name`` in this backend's account and region."""
    return PREDEFINED.get(name) or custom(backend).get(name)


def traffic_routing(account_id: str, region: str, name: str) -> dict[str, Any] | None:
    """The configuration's ``trafficRoutingConfig`` as GetDeploymentConfig gives it.

    None when the account has no configuration ``name`` in ``region``, or when it
    has no traffic routing (a Server configuration). Reads moto's backend
    directly: the caller holds ``BACKEND_LOCK``.
    """
    config = PREDEFINED.get(name)
    if config is None:
        from moto.codedeploy.models import codedeploy_backends

        config = custom(codedeploy_backends[account_id][region]).get(name)
    if config is None or config.traffic_routing_config is None:
        return None
    return _copy(config.traffic_routing_config)


def require_name(name: Any) -> str:
    """The name, or AWS's error for a missing or malformed one."""
    if not name:
        raise state.error(
            "DeploymentConfigNameRequiredException", "Deployment config name is required."
        )
    if not isinstance(name, str) or not NAME_PATTERN.fullmatch(name):
        raise state.error(
            "InvalidDeploymentConfigNameException",
            f"Deployment config name {name} is invalid: it must be 1 to 100 letters, "
            "digits or the characters +=,.@_-.",
        )
    return name


def require_existing(backend: Any, name: Any) -> DeploymentConfig:
    """The configuration named in a request, or DeploymentConfigDoesNotExistException."""
    config = find(backend, require_name(name))
    if config is None:
        raise state.error(
            "DeploymentConfigDoesNotExistException",
            f"No deployment configuration found for name: {name}",
        )
    return config


def _integer(value: Any) -> TypeGuard[int]:
    return isinstance(value, int) and not isinstance(value, bool)


def _invalid_hosts(message: str) -> Exception:
    return state.error("InvalidMinimumHealthyHostValueException", message)


def _invalid_routing(message: str) -> Exception:
    return state.error("InvalidTrafficRoutingConfigurationException", message)


def _invalid_zonal(message: str) -> Exception:
    return state.error("InvalidZonalDeploymentConfigurationException", message)


def _hosts(
    value: Any,
    what: str = "minimumHealthyHosts",
    invalid: Callable[[str], Exception] = _invalid_hosts,
) -> dict[str, Any]:
    if not isinstance(value, dict) or value.get("type") not in HOSTS_TYPES:
        raise invalid(f"{what} type must be HOST_COUNT or FLEET_PERCENT.")
    number = value.get("value")
    if not _integer(number) or number < 0:
        raise invalid(f"{what} value must be a whole number, 0 or more.")
    if value["type"] == "FLEET_PERCENT" and number > 100:
        raise invalid(f"{what} value must be 0 to 100 for FLEET_PERCENT.")
    return {"type": value["type"], "value": number}


def _routing(value: Any) -> dict[str, Any]:
    if not isinstance(value, dict) or value.get("type") not in ROUTING_TYPES:
        raise _invalid_routing(
            "The traffic routing type must be TimeBasedCanary, TimeBasedLinear or AllAtOnce."
        )
    kind = value["type"]
    blocks = {"TimeBasedCanary": "timeBasedCanary", "TimeBasedLinear": "timeBasedLinear"}
    wanted = blocks.get(kind)
    for block in blocks.values():
        if block != wanted and value.get(block) is not None:
            raise _invalid_routing(f"{block} cannot be set for the traffic routing type {kind}.")
    if wanted is None:
        return dict(ALL_AT_ONCE)
    settings = value.get(wanted)
    if not isinstance(settings, dict):
        raise _invalid_routing(f"{wanted} is required for the traffic routing type {kind}.")
    prefix = "canary" if kind == "TimeBasedCanary" else "linear"
    percentage, interval = settings.get(f"{prefix}Percentage"), settings.get(f"{prefix}Interval")
    top = 99 if kind == "TimeBasedCanary" else 100
    if not _integer(percentage) or not 1 <= percentage <= top:
        raise _invalid_routing(f"{prefix}Percentage must be a whole number from 1 to {top}.")
    if not _integer(interval) or interval < 1:
        raise _invalid_routing(f"{prefix}Interval must be a whole number of minutes, 1 or more.")
    build = _canary if kind == "TimeBasedCanary" else _linear
    return build(percentage, interval)


def _zonal(value: Any) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise _invalid_zonal("The zonal configuration is not valid.")
    zonal: dict[str, Any] = {}
    for field in ("firstZoneMonitorDurationInSeconds", "monitorDurationInSeconds"):
        seconds = value.get(field)
        if seconds is None:
            continue
        if not _integer(seconds) or seconds < 0:
            raise _invalid_zonal(f"{field} must be a whole number of seconds, 0 or more.")
        zonal[field] = seconds
    per_zone = value.get("minimumHealthyHostsPerZone")
    if per_zone is not None:
        zonal["minimumHealthyHostsPerZone"] = _hosts(
            per_zone, "minimumHealthyHostsPerZone", _invalid_zonal
        )
    return zonal


def create(
    backend: Any,
    name: Any,
    *,
    compute_platform: Any = None,
    minimum_healthy_hosts: Any = None,
    traffic_routing_config: Any = None,
    zonal_config: Any = None,
) -> DeploymentConfig:
    """CreateDeploymentConfig: validate as AWS does, store, return the configuration."""
    from moto.core.utils import utcnow

    name = require_name(name)
    platform = compute_platform or "Server"
    if platform not in COMPUTE_PLATFORMS:
        raise state.error(
            "InvalidComputePlatformException",
            f"The computePlatform {platform} is invalid. "
            "The computePlatform should be Lambda, Server, or ECS.",
        )
    if find(backend, name) is not None:
        raise state.error(
            "DeploymentConfigAlreadyExistsException",
            f"A deployment configuration with the name {name} already exists.",
        )
    hosts = routing = zonal = None
    if platform == "Server":
        if minimum_healthy_hosts is None:
            raise _invalid_hosts("minimum healthy hosts argument is missing")
        hosts = _hosts(minimum_healthy_hosts)
        if traffic_routing_config is not None:
            routing = _routing(traffic_routing_config)
            if routing["type"] != "AllAtOnce":
                raise _invalid_routing(
                    "Time-based traffic routing is only for the Lambda and ECS compute platforms."
                )
        if zonal_config is not None:
            zonal = _zonal(zonal_config)
    else:
        if minimum_healthy_hosts is not None:
            raise _invalid_hosts(
                f"minimumHealthyHosts cannot be set for the {platform} compute platform."
            )
        if zonal_config is not None:
            raise _invalid_zonal(f"zonalConfig cannot be set for the {platform} compute platform.")
        if traffic_routing_config is None:
            raise _invalid_routing(
                f"trafficRoutingConfig is required for the {platform} compute platform."
            )
        routing = _routing(traffic_routing_config)
    config = DeploymentConfig(name, str(uuid.uuid4()), utcnow(), platform, hosts, routing, zonal)
    custom(backend)[name] = config
    return config


def names_page(backend: Any, next_token: Any) -> tuple[list[str], str | None]:
    """One page of ListDeploymentConfigs: predefined then custom names, and the token."""
    names = [*PREDEFINED, *custom(backend)]
    start = 0
    if next_token:
        try:
            after = base64.urlsafe_b64decode(str(next_token).encode()).decode()
        except (binascii.Error, UnicodeDecodeError, ValueError):
            after = None
        if after is None or after not in names:
            raise state.error(
                "InvalidNextTokenException", "The next token was specified in an invalid format."
            )
        start = names.index(after) + 1
    page = names[start : start + PAGE_SIZE]
    more = start + PAGE_SIZE < len(names)
    token = base64.urlsafe_b64encode(page[-1].encode()).decode() if more and page else None
    return page, token


def delete(backend: Any, name: Any) -> None:
    """DeleteDeploymentConfig: not a predefined one, not one in use."""
    name = require_name(name)
    if name in PREDEFINED:
        raise state.error(
            "InvalidOperationException",
            f"The deployment configuration {name} is predefined and cannot be deleted.",
        )
    for groups in backend.deployment_groups.values():
        for group in groups.values():
            if str(group.deployment_config_name) == name:
                raise state.error(
                    "DeploymentConfigInUseException",
                    f"The deployment configuration {name} is still in use by the deployment "
                    f"group {group.deployment_group_name}.",
                )
    for deployment in backend.deployments.values():
        if (
            str(deployment.deployment_config_name) == name
            and deployment.status in statuses.UNFINISHED
        ):
            raise state.error(
                "DeploymentConfigInUseException",
                f"The deployment configuration {name} is still in use by the deployment "
                f"{deployment.deployment_id}.",
            )
    custom(backend).pop(name, None)


# --- the patch ------------------------------------------------------------------------


def apply() -> None:
    from moto.codedeploy.models import CodeDeployBackend
    from moto.codedeploy.responses import CodeDeployResponse
    from moto.core.responses import ActionResult

    def create_deployment_config(self: Any) -> ActionResult:
        config = create(
            self.codedeploy_backend,
            self._get_param("deploymentConfigName"),
            compute_platform=self._get_param("computePlatform"),
            minimum_healthy_hosts=self._get_param("minimumHealthyHosts"),
            traffic_routing_config=self._get_param("trafficRoutingConfig"),
            zonal_config=self._get_param("zonalConfig"),
        )
        return ActionResult({"deploymentConfigId": config.config_id})

    def get_deployment_config(self: Any) -> ActionResult:
        config = require_existing(self.codedeploy_backend, self._get_param("deploymentConfigName"))
        return ActionResult({"deploymentConfigInfo": config.info()})

    def list_deployment_configs(self: Any) -> ActionResult:
        names, token = names_page(self.codedeploy_backend, self._get_param("nextToken"))
        result: dict[str, Any] = {"deploymentConfigsList": names}
        if token:
            result["nextToken"] = token
        return ActionResult(result)

    def delete_deployment_config(self: Any) -> ActionResult:
        delete(self.codedeploy_backend, self._get_param("deploymentConfigName"))
        return ActionResult({})

    add_method(CodeDeployResponse, "create_deployment_config", create_deployment_config)
    add_method(CodeDeployResponse, "get_deployment_config", get_deployment_config)
    add_method(CodeDeployResponse, "list_deployment_configs", list_deployment_configs)
    add_method(CodeDeployResponse, "delete_deployment_config", delete_deployment_config)

    # CreateDeploymentGroup and CreateDeployment: moto's backend checks the
    # application (and group) first; the configuration is checked after those.
    def group_factory(original: Any) -> Any:
        @functools.wraps(original)
        def create_deployment_group(
            self: Any, application_name: str, deployment_group_name: str, *args: Any, **kwargs: Any
        ) -> Any:
            name = kwargs.get("deployment_config_name", args[0] if args else None)
            if name and application_name in self.applications:
                require_existing(self, name)
            return original(self, application_name, deployment_group_name, *args, **kwargs)

        return create_deployment_group

    def deployment_factory(original: Any) -> Any:
        @functools.wraps(original)
        def create_deployment(
            self: Any, application_name: str, deployment_group_name: str, *args: Any, **kwargs: Any
        ) -> Any:
            name = kwargs.get("deployment_config_name", args[1] if len(args) > 1 else None)
            known = deployment_group_name in self.deployment_groups.get(application_name, {})
            if name and application_name in self.applications and known:
                require_existing(self, name)
            return original(self, application_name, deployment_group_name, *args, **kwargs)

        return create_deployment

    replace(CodeDeployBackend, "create_deployment_group", group_factory)
    replace(CodeDeployBackend, "create_deployment", deployment_factory)
    _wrap_update_deployment_group(CodeDeployResponse)


def _wrap_update_deployment_group(response_class: type) -> None:
    """UpdateDeploymentGroup: check a new ``deploymentConfigName`` before the update.

    moto has no UpdateDeploymentGroup: ``codedeploy_update_deployment_group``
    adds it, and this wraps that. Applied here first (its ``apply`` is
    idempotent), so the order of the two patches does not matter;
    ``functools.wraps`` carries its patch mark over, so applying it again later
    leaves the wrapper in place.
    """
    from . import _util, codedeploy_update_deployment_group

    codedeploy_update_deployment_group.apply()
    update = response_class.__dict__["update_deployment_group"]
    if getattr(update, _WRAPPED, False):
        return

    @functools.wraps(update)
    def update_deployment_group(self: Any) -> Any:
        name = self._get_param("deploymentConfigName")
        if name is not None:
            backend = self.codedeploy_backend
            # AWS's errors for the application and the group come first.
            backend.get_deployment_group(
                self._get_param("applicationName"), self._get_param("currentDeploymentGroupName")
            )
            require_existing(backend, name)
        return update(self)

    setattr(update_deployment_group, _WRAPPED, True)
    response_class.update_deployment_group = update_deployment_group  # type: ignore[attr-defined]
    _util.REPLACED.append((response_class, "update_deployment_group"))
