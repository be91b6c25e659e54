"""CloudWatch: PutCompositeAlarm is not routed.

moto 5.2.5 stores composite alarms (an alarm with an ``AlarmRule``; its
PutMetricAlarm handler even reads that parameter "to re-use this method for
composite alarms") and DescribeAlarms returns them under ``CompositeAlarms``,
but the PutCompositeAlarm action itself has no handler, so the server answers
HTTP 500 and ``aws_cloudwatch_composite_alarm`` cannot be created. AWS stores
the composite alarm with its rule, actions and tags.
"""

from __future__ import annotations

from typing import Any

from ._util import add_method

GAP = "CloudWatch PutCompositeAlarm is not routed: HTTP 500 for aws_cloudwatch_composite_alarm."


def apply() -> None:
    from moto.cloudwatch.responses import CloudWatchResponse

    def put_composite_alarm(self: Any) -> Any:
        # put_metric_alarm reads every composite alarm parameter (AlarmName,
        # AlarmRule, AlarmDescription, ActionsEnabled, *Actions, Tags).
        return CloudWatchResponse.put_metric_alarm(self)

    add_method(CloudWatchResponse, "put_composite_alarm", put_composite_alarm)
