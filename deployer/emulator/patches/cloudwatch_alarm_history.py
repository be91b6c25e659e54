"""CloudWatch: DescribeAlarmHistory is not routed, and nothing records alarm history.

moto 5.2.5 has no DescribeAlarmHistory handler (the server answers HTTP 500) and
keeps no history items. AWS records, for two weeks and by alarm name (so the
history outlives a deleted alarm), a ``ConfigurationUpdate`` item when an alarm
is created or updated, a ``StateUpdate`` item on every state change (the
``cloudwatch-alarms`` engine's, and SetAlarmState's), and an ``Action`` item for
every action run; DescribeAlarmHistory returns them newest first (``ScanBy``
TimestampDescending by default), filtered by AlarmName, AlarmTypes (MetricAlarm
when not given), HistoryItemType, StartDate and EndDate, MaxRecords at a time
(100 by default) with a NextToken.

Left out: the 2-week expiry, the AlarmContributor items of multi-time-series
alarms.
"""

from __future__ import annotations

import datetime
import json
from typing import Any

from ._util import add_method, replace

GAP = (
    "CloudWatch DescribeAlarmHistory is not routed (HTTP 500) and moto records no alarm "
    "history: no ConfigurationUpdate, StateUpdate or Action items."
)

#: Where the items live on a CloudWatchBackend (a list, oldest first).
ATTRIBUTE = "deployer_alarm_history"


def items(backend: Any) -> list[dict[str, Any]]:
    """The history items of ``backend``, oldest first (created on first use)."""
    found: list[dict[str, Any]] | None = getattr(backend, ATTRIBUTE, None)
    if found is None:
        found = []
        setattr(backend, ATTRIBUTE, found)
    return found


def record(
    backend: Any,
    alarm_name: str,
    alarm_type: str,
    item_type: str,
    summary: str,
    data: dict[str, Any],
    timestamp: datetime.datetime | None = None,
) -> None:
    """Add one history item (``timestamp``: naive UTC, now when not given)."""
    items(backend).append(
        {
            "AlarmName": alarm_name,
            "AlarmType": alarm_type,
            "Timestamp": timestamp or datetime.datetime.now(datetime.UTC).replace(tzinfo=None),
            "HistoryItemType": item_type,
            "HistorySummary": summary,
            "HistoryData": json.dumps(data, separators=(",", ":")),
        }
    )


def _naive(moment: Any) -> datetime.datetime | None:
    if moment is None or moment == "":
        return None
    if isinstance(moment, (int, float)):
        return datetime.datetime.fromtimestamp(moment, datetime.UTC).replace(tzinfo=None)
    if isinstance(moment, str):
        moment = datetime.datetime.fromisoformat(moment.replace("Z", "+00:00"))
    if moment.tzinfo is not None:
        moment = moment.astimezone(datetime.UTC).replace(tzinfo=None)
    return moment  # type: ignore[no-any-return]


def _describe(backend: Any, params: dict[str, Any]) -> dict[str, Any]:
    name = params.get("AlarmName")
    types = params.get("AlarmTypes") or ["MetricAlarm"]
    kind = params.get("HistoryItemType")
    start, end = _naive(params.get("StartDate")), _naive(params.get("EndDate"))
    found = [
        i
        for i in items(backend)
        if (not name or i["AlarmName"] == name)
        and i["AlarmType"] in types
        and (not kind or i["HistoryItemType"] == kind)
        and (start is None or i["Timestamp"] >= start)
        and (end is None or i["Timestamp"] <= end)
    ]
    if params.get("ScanBy", "TimestampDescending") != "TimestampAscending":
        found.reverse()
    offset = int(params.get("NextToken") or 0)
    size = int(params.get("MaxRecords") or 100)
    page = found[offset : offset + size]
    result: dict[str, Any] = {"AlarmHistoryItems": page}
    if offset + size < len(found):
        result["NextToken"] = str(offset + size)
    return result


def _configuration_item(alarm: Any, created: bool) -> dict[str, Any]:
    kind = "CompositeAlarm" if alarm.rule is not None else "MetricAlarm"
    change = "Create" if created else "Update"
    what = {"alarmName": alarm.name, "alarmArn": alarm.alarm_arn}
    return {
        "kind": kind,
        "summary": f'Alarm "{alarm.name}" {"created" if created else "updated"}',
        "data": {
            "type": change,
            "version": "1.0",
            ("createdAlarm" if created else "updatedAlarm"): what,
        },
    }


def apply() -> None:
    from moto.cloudwatch.models import CloudWatchBackend
    from moto.cloudwatch.responses import CloudWatchResponse
    from moto.core.responses import ActionResult

    def describe_alarm_history(self: Any) -> Any:
        return ActionResult(_describe(self.cloudwatch_backend, self._get_params()))

    add_method(CloudWatchResponse, "describe_alarm_history", describe_alarm_history)

    def put_metric_alarm(original: Any) -> Any:
        # On the handler (PutCompositeAlarm's too), so that the initial state patch may
        # wrap the backend's method.
        def put(self: Any) -> Any:
            name = self._get_param("AlarmName")
            created = name not in self.cloudwatch_backend.alarms
            result = original(self)
            alarm = self.cloudwatch_backend.alarms[name]
            item = _configuration_item(alarm, created)
            record(
                self.cloudwatch_backend,
                alarm.name,
                item["kind"],
                "ConfigurationUpdate",
                item["summary"],
                item["data"],
            )
            return result

        return put

    replace(CloudWatchResponse, "put_metric_alarm", put_metric_alarm)

    def set_alarm_state(original: Any) -> Any:
        def set_state(
            self: Any, alarm_name: str, reason: str, reason_data: str, state_value: str
        ) -> None:
            alarm = self.alarms.get(alarm_name)
            old = (alarm.state_value, alarm.state_reason) if alarm is not None else None
            original(self, alarm_name, reason, reason_data, state_value)
            if alarm is None or old is None:
                return
            kind = "CompositeAlarm" if alarm.rule is not None else "MetricAlarm"
            new_state: dict[str, Any] = {"stateValue": state_value, "stateReason": reason}
            if reason_data:
                new_state["stateReasonData"] = json.loads(reason_data)
            record(
                self,
                alarm_name,
                kind,
                "StateUpdate",
                f"Alarm updated from {old[0]} to {state_value}",
                {
                    "version": "1.0",
                    "oldState": {"stateValue": old[0], "stateReason": old[1]},
                    "newState": new_state,
                },
                alarm.state_updated_timestamp,
            )

        return set_state

    replace(CloudWatchBackend, "set_alarm_state", set_alarm_state)
