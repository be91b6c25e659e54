"""CloudWatch: SetAlarmState changes the state and nothing else.

moto 5.2.5 sets the state SetAlarmState names and stops there. AWS's SetAlarmState
(API reference): "When the updated state differs from the previous value, the action
configured for the appropriate state is invoked. For example, if your alarm is
configured to send an Amazon SNS message when an alarm is triggered, temporarily
changing the alarm state to ALARM sends an SNS message." And every state change of an
alarm puts a "CloudWatch Alarm State Change" event on the default event bus ("Alarm
events and EventBridge"). So, when the state changes, this runs what the
``cloudwatch-alarms`` engine runs on a change (``engines.cloudwatch_alarms.announce``):
the event, and with actions enabled the SNS notifications of the new state. The state
lasts "only until the next alarm comparison occurs" (the engine's next evaluation).

Left out: SetAlarmState of a composite alarm's child re-evaluates the composite at the
engine's next round (within 10 emulated seconds), not within the call.
"""

from __future__ import annotations

from typing import Any

from ._util import replace

GAP = (
    "CloudWatch SetAlarmState changes the state but runs no alarm action and puts no "
    "'CloudWatch Alarm State Change' event."
)


def apply() -> None:
    from moto.cloudwatch.responses import CloudWatchResponse

    def set_alarm_state(original: Any) -> Any:
        def set_state(self: Any) -> Any:
            from deployer.emulator.engines.cloudwatch_alarms import announce, epoch_of

            backend = self.cloudwatch_backend
            alarm = backend.alarms.get(self._get_param("AlarmName"))
            old = None
            if alarm is not None:
                old = {
                    "value": alarm.state_value,
                    "reason": alarm.state_reason,
                    "reasonData": alarm.state_reason_data,
                    "timestamp": epoch_of(alarm.state_updated_timestamp),
                }
            result = original(self)
            if alarm is not None and old is not None and alarm.state_value != old["value"]:
                announce(backend, alarm, old, epoch_of(alarm.state_updated_timestamp))
            return result

        return set_state

    replace(CloudWatchResponse, "set_alarm_state", set_alarm_state)
