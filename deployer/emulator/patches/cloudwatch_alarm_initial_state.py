"""CloudWatch: a new alarm starts in OK, and PutMetricAlarm on an alarm resets its state.

moto 5.2.5 builds every alarm, new or updated, in state ``OK`` with the reason
"Unchecked: Initial alarm creation". PutMetricAlarm and PutCompositeAlarm on AWS:
"When this operation creates an alarm, the alarm state is immediately set to
INSUFFICIENT_DATA. [...] When you update an existing alarm, its state is left
unchanged, but the update completely overwrites the previous configuration of
the alarm." So a new alarm here is INSUFFICIENT_DATA ("Unchecked: Initial alarm
creation"), and an update keeps StateValue, StateReason, StateReasonData and
StateUpdatedTimestamp (a Terraform apply that changes a threshold does not
re-arm an alarm in ALARM).
"""

from __future__ import annotations

from typing import Any

from ._util import replace

GAP = (
    "CloudWatch alarms start in OK instead of INSUFFICIENT_DATA, and PutMetricAlarm on an "
    "existing alarm resets its state instead of keeping it."
)

INITIAL_STATE = "INSUFFICIENT_DATA"


def apply() -> None:
    from moto.cloudwatch.models import CloudWatchBackend

    def put_metric_alarm(original: Any) -> Any:
        def put(self: Any, name: str, *args: Any, **kwargs: Any) -> Any:
            previous = self.alarms.get(name)
            alarm = original(self, name, *args, **kwargs)
            if previous is None:
                alarm.state_value = INITIAL_STATE
                alarm.state_updated_timestamp = alarm.configuration_updated_timestamp
            else:
                alarm.state_value = previous.state_value
                alarm.state_reason = previous.state_reason
                alarm.state_reason_data = previous.state_reason_data
                alarm.state_updated_timestamp = previous.state_updated_timestamp
                alarm.history = previous.history
            return alarm

        return put

    replace(CloudWatchBackend, "put_metric_alarm", put_metric_alarm)
