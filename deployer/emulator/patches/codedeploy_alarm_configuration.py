"""CodeDeploy: GetDeploymentGroup must return the group's alarm configuration.

moto 5.2.5 stores the ``alarmConfiguration`` of CreateDeploymentGroup but
answers GetDeploymentGroup with ``"alarmConfiguration": {}`` (a TODO), so an
``aws_codedeploy_deployment_group`` with an ``alarm_configuration`` block shows
a perpetual diff. AWS returns what was set: ``enabled``,
``ignorePollAlarmFailure`` and ``alarms`` (``[{"name": ...}]``), and for a
group created without one ``{"enabled": false, "ignorePollAlarmFailure":
false, "alarms": []}``.
"""

from __future__ import annotations

from typing import Any

from ._util import replace

GAP = (
    "CodeDeploy GetDeploymentGroup returns an empty alarmConfiguration: "
    "perpetual diff on alarm_configuration."
)


def alarm_configuration(stored: Any) -> dict[str, Any]:
    """The alarmConfiguration AWS returns for what CreateDeploymentGroup got."""
    if stored is None:
        stored = {}
    elif not isinstance(stored, dict):  # moto's AlarmConfiguration model
        stored = {
            "alarms": stored.alarms,
            "enabled": stored.enabled,
            "ignorePollAlarmFailure": stored.ignore_poll_alarm_failure,
        }
    return {
        "enabled": bool(stored.get("enabled", False)),
        "ignorePollAlarmFailure": bool(stored.get("ignorePollAlarmFailure", False)),
        "alarms": [{"name": a["name"]} for a in stored.get("alarms") or []],
    }


def apply() -> None:
    from moto.codedeploy import responses

    def info_factory(original: Any) -> Any:
        def _deployment_group_info(deployment_group: Any) -> dict[str, Any]:
            info: dict[str, Any] = original(deployment_group)
            info["alarmConfiguration"] = alarm_configuration(deployment_group.alarm_configuration)
            return info

        return _deployment_group_info

    replace(responses, "_deployment_group_info", info_factory)
