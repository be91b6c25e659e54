"""cloudwatch_alarm_initial_state: new alarms are INSUFFICIENT_DATA; updates keep the state."""

from __future__ import annotations

from ._helpers import unique
from .conftest import Server
from .test_patch_cloudwatch_alarm_history import put_alarm


def test_initial_state_and_update(patched: Server, stock: Server) -> None:
    cloudwatch = patched.client("cloudwatch")
    name = unique("alarm")
    put_alarm(cloudwatch, name)
    (alarm,) = cloudwatch.describe_alarms(AlarmNames=[name])["MetricAlarms"]
    assert alarm["StateValue"] == "INSUFFICIENT_DATA"
    assert alarm["StateReason"] == "Unchecked: Initial alarm creation"

    cloudwatch.set_alarm_state(AlarmName=name, StateValue="ALARM", StateReason="testing")
    put_alarm(cloudwatch, name, threshold=90.0)
    (alarm,) = cloudwatch.describe_alarms(AlarmNames=[name])["MetricAlarms"]
    assert (alarm["StateValue"], alarm["StateReason"], alarm["Threshold"]) == (
        "ALARM",
        "testing",
        90.0,
    )

    cloudwatch = stock.client("cloudwatch")
    put_alarm(cloudwatch, name)
    assert cloudwatch.describe_alarms(AlarmNames=[name])["MetricAlarms"][0]["StateValue"] == "OK"
    cloudwatch.set_alarm_state(AlarmName=name, StateValue="ALARM", StateReason="testing")
    put_alarm(cloudwatch, name, threshold=90.0)
    assert cloudwatch.describe_alarms(AlarmNames=[name])["MetricAlarms"][0]["StateValue"] == "OK"
