"""Route 53: GetHealthCheckStatus and GetHealthCheckLastFailureReason report the
emulator's health checkers, and a CLOUDWATCH_METRIC health check keeps its alarm.

After the Route 53 API reference (GetHealthCheckStatus, GetHealthCheckLastFailureReason,
HealthCheckObservation, StatusReport, HealthCheckConfig's ``AlarmIdentifier`` and
``InsufficientDataHealthStatus``) and the developer guide's "Monitoring health check
status and getting notifications":

* GetHealthCheckStatus answers one ``HealthCheckObservation`` a health checker: its
  ``Region``, its ``IPAddress`` and its ``StatusReport`` (``Status``: ``Success: HTTP
  Status Code 200, OK`` or ``Failure: ...``; ``CheckedTime``), the newest result of the
  checker's last request; GetHealthCheckLastFailureReason answers, in the same shape,
  each checker's last failure (none when it never failed);
* CreateHealthCheck and UpdateHealthCheck keep ``AlarmIdentifier`` {Region, Name} and
  ``InsufficientDataHealthStatus``, and GetHealthCheck and ListHealthChecks return them
  in ``HealthCheckConfig``, so that a CLOUDWATCH_METRIC health check watches its alarm.

moto answers GetHealthCheckStatus with one made-up success whatever the endpoint does,
has no GetHealthCheckLastFailureReason (the URL is not routed) and drops
``AlarmIdentifier`` and ``InsufficientDataHealthStatus``. The checks themselves run in
the ``route53-health`` engine (:mod:`deployer.emulator.engines.route53_health`), which
records each health check's observations on it (:func:`record`); while the engine runs
(:func:`running`), the status is what it observed (no observation yet: an empty list);
without it, GetHealthCheckStatus answers as stock moto does and the last failure reason
is an empty list.

Left out: ``CloudWatchAlarmConfiguration`` in GetHealthCheck (the alarm's metric and
threshold), ``RoutingControlArn`` (RECOVERY_CONTROL health checks) and the error AWS
answers GetHealthCheckStatus for a CALCULATED health check (the emulator answers its
empty list of observations).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, NamedTuple

from ._util import add_method, replace

if TYPE_CHECKING:
    import datetime
    from collections.abc import Callable

    from moto.route53.models import HealthCheck

GAP = (
    "GetHealthCheckStatus reports one made-up success whatever the endpoint answers, "
    "GetHealthCheckLastFailureReason is not routed, and a CLOUDWATCH_METRIC health "
    "check loses its AlarmIdentifier and InsufficientDataHealthStatus; AWS reports what "
    "its health checkers observed and keeps the alarm the check watches."
)

#: Attributes of a health check (not moto's): the engine's observations, the alarm.
_OBSERVED = "deployer_observed"
_ALARM = "deployer_alarm_identifier"
_INSUFFICIENT = "deployer_insufficient_data_health_status"

#: HealthCheckConfig's endpoint settings, which a CLOUDWATCH_METRIC check has none of.
ENDPOINT_ONLY = ("IPAddress", "Port", "RequestInterval", "FailureThreshold", "MeasureLatency")

_LAST_FAILURE_PATH = (
    r"{0}/(?P<api_version>[\d_-]+)/healthcheck/(?P<health_check_id>[^/]+)/lastfailurereason$"
)


class Observation(NamedTuple):
    """One health checker's report, as HealthCheckObservation carries it."""

    region: str
    ip_address: str
    status: str
    checked_time: datetime.datetime  # naive UTC, as moto keeps its timestamps

    def shape(self) -> dict[str, Any]:
        return {
            "Region": self.region,
            "IPAddress": self.ip_address,
            "StatusReport": {"Status": self.status, "CheckedTime": self.checked_time},
        }


class Observed(NamedTuple):
    """A health check's observations: each checker's last, and its last failure."""

    last: list[Observation]
    last_failures: list[Observation]


def record(health_check: HealthCheck, observed: Observed) -> None:
    """The engine's observations of the health check (the caller holds the backend lock)."""
    setattr(health_check, _OBSERVED, observed)


def alarm_identifier(health_check: HealthCheck) -> dict[str, str] | None:
    """The health check's ``AlarmIdentifier`` {Region, Name}, None without one."""
    found: dict[str, str] | None = getattr(health_check, _ALARM, None)
    return found


def insufficient_data_health_status(health_check: HealthCheck) -> str | None:
    """``Healthy``, ``Unhealthy``, ``LastKnownStatus``, or None when not given."""
    found: str | None = getattr(health_check, _INSUFFICIENT, None)
    return found


#: How many engines run the health checks in this process (see :func:`running`).
_engines = 0


def running(yes: bool) -> None:
    """An engine that runs the health checks starts (True) or stops (False)."""
    global _engines
    _engines = max(0, _engines + (1 if yes else -1))


def _keep_alarm(health_check: HealthCheck, config: dict[str, Any] | None) -> None:
    config = config or {}
    alarm = config.get("AlarmIdentifier")
    if alarm:
        setattr(health_check, _ALARM, {"Region": alarm.get("Region"), "Name": alarm.get("Name")})
    if config.get("InsufficientDataHealthStatus"):
        setattr(health_check, _INSUFFICIENT, str(config["InsufficientDataHealthStatus"]))


def apply() -> None:
    from moto.core.responses import ActionResult
    from moto.route53 import urls
    from moto.route53.models import HealthCheck
    from moto.route53.responses import Route53

    urls.url_paths.setdefault(_LAST_FAILURE_PATH, Route53.dispatch)

    def create_factory(original: Callable[..., ActionResult]) -> Callable[..., ActionResult]:
        def create_health_check(self: Route53) -> ActionResult:
            result = original(self)
            created = result.result["HealthCheck"]  # type: ignore[index]
            _keep_alarm(created, self._get_param("HealthCheckConfig"))
            return result

        return create_health_check

    def update_factory(original: Callable[..., ActionResult]) -> Callable[..., ActionResult]:
        def update_health_check(self: Route53) -> ActionResult:
            result = original(self)
            updated = result.result["HealthCheck"]  # type: ignore[index]
            _keep_alarm(
                updated,
                {
                    "AlarmIdentifier": self._get_param("AlarmIdentifier"),
                    "InsufficientDataHealthStatus": self._get_param("InsufficientDataHealthStatus"),
                },
            )
            return result

        return update_health_check

    def config_factory(original: property) -> property:
        def health_check_config(self: HealthCheck) -> dict[str, Any]:
            config: dict[str, Any] = original.fget(self)  # type: ignore[misc]
            if str(self.type_ or "").upper() == "CLOUDWATCH_METRIC":
                # An alarm's check has no endpoint: AWS answers none of these (the API
                # reference: "Don't specify a value for Port when you specify a value
                # for Type of CLOUDWATCH_METRIC or CALCULATED"); moto drops them for
                # CALCULATED only, and answers Port 80 and RequestInterval 30 here.
                for key in ENDPOINT_ONLY:
                    config.pop(key, None)
            alarm = alarm_identifier(self)
            if alarm is not None:
                config["AlarmIdentifier"] = dict(alarm)
            insufficient = insufficient_data_health_status(self)
            if insufficient is not None:
                config["InsufficientDataHealthStatus"] = insufficient
            return config

        return property(health_check_config)

    def status_factory(original: Callable[..., ActionResult]) -> Callable[..., ActionResult]:
        def get_health_check_status(self: Route53) -> ActionResult:
            if _engines == 0:
                return original(self)
            found = self.backend.get_health_check(self._get_param("HealthCheckId"))
            observed: Observed | None = getattr(found, _OBSERVED, None)
            last = observed.last if observed else []
            return ActionResult({"HealthCheckObservations": [o.shape() for o in last]})

        return get_health_check_status

    def get_health_check_last_failure_reason(self: Route53) -> ActionResult:
        found = self.backend.get_health_check(self._get_param("HealthCheckId"))
        observed: Observed | None = getattr(found, _OBSERVED, None)
        failures = observed.last_failures if observed else []
        return ActionResult({"HealthCheckObservations": [o.shape() for o in failures]})

    replace(Route53, "create_health_check", create_factory)
    replace(Route53, "update_health_check", update_factory)
    replace(HealthCheck, "health_check_config", config_factory)
    replace(Route53, "get_health_check_status", status_factory)
    add_method(
        Route53, "get_health_check_last_failure_reason", get_health_check_last_failure_reason
    )
