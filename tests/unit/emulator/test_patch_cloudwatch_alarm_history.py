"""cloudwatch_alarm_history: DescribeAlarmHistory, with the items AWS records."""

from __future__ import annotations

import json
from typing import Any

import pytest
from botocore.exceptions import ClientError

from ._helpers import status, unique
from .conftest import Server


def put_alarm(cloudwatch: Any, name: str, threshold: float = 80.0) -> None:
    cloudwatch.put_metric_alarm(
        AlarmName=name,
        Namespace="AWS/ECS",
        MetricName="CPUUtilization",
        Statistic="Average",
        Period=60,
        EvaluationPeriods=1,
        Threshold=threshold,
        ComparisonOperator="GreaterThanThreshold",
    )


def test_alarm_history(patched: Server, stock: Server) -> None:
    cloudwatch = patched.client("cloudwatch")
    name, other = unique("alarm"), unique("alarm")
    put_alarm(cloudwatch, name)
    put_alarm(cloudwatch, other)
    put_alarm(cloudwatch, name, threshold=90.0)
    cloudwatch.set_alarm_state(
        AlarmName=name, StateValue="ALARM", StateReason="testing", StateReasonData='{"a": 1}'
    )

    items = cloudwatch.describe_alarm_history(AlarmName=name)["AlarmHistoryItems"]
    assert [(i["HistoryItemType"], i["HistorySummary"]) for i in items] == [
        ("StateUpdate", "Alarm updated from INSUFFICIENT_DATA to ALARM"),
        ("ConfigurationUpdate", f'Alarm "{name}" updated'),
        ("ConfigurationUpdate", f'Alarm "{name}" created'),
    ]
    assert all(i["AlarmName"] == name and i["AlarmType"] == "MetricAlarm" for i in items)
    data = json.loads(items[0]["HistoryData"])
    assert data["newState"] == {
        "stateValue": "ALARM",
        "stateReason": "testing",
        "stateReasonData": {"a": 1},
    }
    assert data["oldState"]["stateValue"] == "INSUFFICIENT_DATA"

    updates = cloudwatch.describe_alarm_history(
        AlarmName=name, HistoryItemType="StateUpdate", ScanBy="TimestampAscending"
    )["AlarmHistoryItems"]
    assert [i["HistoryItemType"] for i in updates] == ["StateUpdate"]
    page = cloudwatch.describe_alarm_history(AlarmName=name, MaxRecords=2)
    rest = cloudwatch.describe_alarm_history(
        AlarmName=name, MaxRecords=2, NextToken=page["NextToken"]
    )
    assert len(page["AlarmHistoryItems"]) == 2 and len(rest["AlarmHistoryItems"]) == 1
    assert "NextToken" not in rest
    composites = cloudwatch.describe_alarm_history(AlarmName=name, AlarmTypes=["CompositeAlarm"])
    assert composites["AlarmHistoryItems"] == []

    cloudwatch.delete_alarms(AlarmNames=[name])  # the history outlives the alarm
    assert len(cloudwatch.describe_alarm_history(AlarmName=name)["AlarmHistoryItems"]) == 3

    with pytest.raises(ClientError) as excinfo:
        stock.client("cloudwatch").describe_alarm_history(AlarmName=name)
    assert status(excinfo) >= 500
