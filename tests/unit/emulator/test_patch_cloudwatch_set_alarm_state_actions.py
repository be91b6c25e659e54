"""cloudwatch_set_alarm_state_actions: SetAlarmState notifies and puts the state change event."""

from __future__ import annotations

import json
from typing import Any

from ._helpers import unique
from .conftest import Server


def queue(server: Server) -> tuple[str, str]:
    sqs = server.client("sqs")
    url = sqs.create_queue(QueueName=unique("q"))["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    return url, arn


def bodies(server: Server, url: str) -> list[Any]:
    found = server.client("sqs").receive_message(QueueUrl=url, MaxNumberOfMessages=10)
    return [json.loads(m["Body"]) for m in found.get("Messages", [])]


def wire(server: Server, name: str) -> tuple[str, str]:
    """An SNS topic in the alarm's actions with a queue subscribed, and a rule for its
    ALARM events with a queue as target; the two queue URLs."""
    sns, events = server.client("sns"), server.client("events")
    topic = sns.create_topic(Name=unique("topic"))["TopicArn"]
    notes, notes_arn = queue(server)
    sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=notes_arn)
    rule = unique("rule")
    events.put_rule(
        Name=rule,
        EventPattern=json.dumps(
            {
                "source": ["aws.cloudwatch"],
                "detail-type": ["CloudWatch Alarm State Change"],
                "detail": {"alarmName": [name], "state": {"value": ["ALARM"]}},
            }
        ),
    )
    seen, seen_arn = queue(server)
    events.put_targets(Rule=rule, Targets=[{"Id": "q", "Arn": seen_arn}])
    server.client("cloudwatch").put_metric_alarm(
        AlarmName=name,
        Namespace="AWS/ECS",
        MetricName="CPUUtilization",
        Statistic="Average",
        Period=60,
        EvaluationPeriods=1,
        Threshold=80.0,
        ComparisonOperator="GreaterThanThreshold",
        AlarmActions=[topic],
    )
    return notes, seen


def test_set_alarm_state_runs_the_actions_and_puts_the_event(
    patched: Server, stock: Server
) -> None:
    name = unique("alarm")
    notes, seen = wire(patched, name)
    cloudwatch = patched.client("cloudwatch")
    cloudwatch.set_alarm_state(AlarmName=name, StateValue="ALARM", StateReason="drill")
    (note,) = bodies(patched, notes)
    message = json.loads(note["Message"])
    assert note["Subject"] == f'ALARM: "{name}" in US East (N. Virginia)'
    assert (message["AlarmName"], message["NewStateValue"], message["NewStateReason"]) == (
        name,
        "ALARM",
        "drill",
    )
    assert message["OldStateValue"] == "INSUFFICIENT_DATA"
    (event,) = bodies(patched, seen)
    assert event["detail"]["state"]["value"] == "ALARM"
    assert event["detail"]["state"]["reason"] == "drill"
    assert event["detail"]["previousState"]["value"] == "INSUFFICIENT_DATA"

    cloudwatch.set_alarm_state(AlarmName=name, StateValue="ALARM", StateReason="again")
    assert bodies(patched, notes) == []  # no change, no action
    cloudwatch.set_alarm_state(AlarmName=name, StateValue="OK", StateReason="back")
    assert bodies(patched, notes) == []  # no OK actions; its event does not match the rule
    assert bodies(patched, seen) == []

    name = unique("alarm")
    notes, seen = wire(stock, name)
    stock.client("cloudwatch").set_alarm_state(AlarmName=name, StateValue="ALARM", StateReason="x")
    assert bodies(stock, notes) == [] and bodies(stock, seen) == []
