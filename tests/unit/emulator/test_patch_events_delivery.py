"""events_delivery: events reach the targets of matching, enabled rules, as EventBridge sends them.

moto in this process (one mock_aws for the module, every backend reset before each
test: ``_module_moto``); each test also shows moto's own ``Rule.send_to_targets``
(kept as ``__wrapped__``) falling short where it does.
"""

from __future__ import annotations

import datetime
import io
import json
import threading
import time
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import boto3
import pytest

from deployer.emulator.patches import events_delivery, events_patterns
from deployer.emulator.scheduler import BACKEND_LOCK

from ._module_moto import fresh_backends, module_moto

events_patterns.apply()
events_delivery.apply()

REGION = "us-east-1"
ACCOUNT = "123456789012"

#: modules/deploy-guard/main.tf, aws_cloudwatch_event_rule.alarms.
GUARD_PATTERN = {
    "source": ["aws.cloudwatch"],
    "detail-type": ["CloudWatch Alarm State Change"],
    "detail": {"alarmName": ["api-5xx"], "state": {"value": ["ALARM"]}},
}
ALARM_DETAIL = {
    "alarmName": "api-5xx",
    "state": {"value": "ALARM", "reason": "Threshold Crossed"},
    "previousState": {"value": "OK"},
}
ALARM_ENTRY = {
    "Source": "aws.cloudwatch",
    "DetailType": "CloudWatch Alarm State Change",
    "Detail": json.dumps(ALARM_DETAIL),
    "Resources": [f"arn:aws:cloudwatch:{REGION}:{ACCOUNT}:alarm:api-5xx"],
    "Time": 1_800_000_000,
}


@dataclass
class Aws:
    events: Any
    sqs: Any
    sns: Any
    awslambda: Any
    iam: Any
    logs: Any
    sts: Any

    def queue(self, name: str, **attributes: str) -> tuple[str, str]:
        url = self.sqs.create_queue(QueueName=name, Attributes=attributes)["QueueUrl"]
        arn = self.sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])
        return url, arn["Attributes"]["QueueArn"]

    def rule(
        self,
        name: str,
        pattern: dict[str, Any] | None = GUARD_PATTERN,
        bus: str = "default",
        **kwargs: Any,
    ) -> str:
        if pattern is not None:
            kwargs["EventPattern"] = json.dumps(pattern)
        return str(self.events.put_rule(Name=name, EventBusName=bus, **kwargs)["RuleArn"])

    def target(self, rule: str, arn: str, bus: str = "default", **target: Any) -> None:
        self.events.put_targets(
            Rule=rule, EventBusName=bus, Targets=[{"Id": "t", "Arn": arn, **target}]
        )

    def put(self, **entry: Any) -> dict[str, Any]:
        answer = self.events.put_events(Entries=[{**ALARM_ENTRY, **entry}])
        assert answer["FailedEntryCount"] == 0, answer
        return dict(answer["Entries"][0])

    def bodies(self, url: str) -> list[str]:
        answer = self.sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10)
        return [m["Body"] for m in answer.get("Messages", [])]


@pytest.fixture(scope="module")
def clients() -> Iterator[Aws]:
    """One mock_aws and one set of clients for the module (``_module_moto``)."""
    with module_moto(("events", "sqs", "sns", "lambda", "iam", "logs", "sts"), REGION) as made:
        yield Aws(*made.values())


@pytest.fixture
def aws(clients: Aws) -> Aws:
    """The clients, on moto backends reset for this test, no failed invocation kept."""
    fresh_backends()
    events_delivery.FAILED_INVOCATIONS.clear()
    return clients


@pytest.fixture
def stock(monkeypatch: pytest.MonkeyPatch) -> None:
    """moto's own delivery and matching, as released."""
    from moto.events.models import EventPattern, Rule

    monkeypatch.setattr(Rule, "send_to_targets", Rule.send_to_targets.__wrapped__)  # type: ignore[attr-defined]
    monkeypatch.setattr(
        EventPattern,
        "matches_event",
        EventPattern.matches_event.__wrapped__,  # type: ignore[attr-defined]
    )


def expected_envelope(event_id: str) -> dict[str, Any]:
    return {
        "version": "0",
        "id": event_id,
        "detail-type": "CloudWatch Alarm State Change",
        "source": "aws.cloudwatch",
        "account": ACCOUNT,
        "time": "2027-01-15T08:00:00Z",
        "region": REGION,
        "resources": [f"arn:aws:cloudwatch:{REGION}:{ACCOUNT}:alarm:api-5xx"],
        "detail": ALARM_DETAIL,
    }


# --- the event as delivered ----------------------------------------------------------------------


def test_a_queue_receives_the_whole_event(aws: Aws) -> None:
    url, arn = aws.queue("alarms")
    aws.rule("guard")
    aws.target("guard", arn)
    entry = aws.put()
    [body] = aws.bodies(url)
    assert list(json.loads(body).items()) == list(expected_envelope(entry["EventId"]).items())
    assert body.startswith('{"version":"0","id":')  # minified, in EventBridge's order

    aws.put(Detail=json.dumps({**ALARM_DETAIL, "state": {"value": "OK"}}))
    aws.put(Detail=json.dumps({**ALARM_DETAIL, "alarmName": "worker-errors"}))
    assert aws.bodies(url) == []


def test_stock_moto_drops_the_account(aws: Aws, stock: None) -> None:
    url, arn = aws.queue("alarms")
    aws.rule("guard")
    aws.target("guard", arn)
    aws.put()
    [body] = aws.bodies(url)
    assert "account" not in json.loads(body)


def test_input_is_sent_instead_of_the_event(aws: Aws) -> None:
    url, arn = aws.queue("alarms")
    aws.rule("guard")
    aws.target("guard", arn, Input='{"action": "stop-deployments"}')
    aws.put()
    assert aws.bodies(url) == ['{"action": "stop-deployments"}']


def test_stock_moto_ignores_input(aws: Aws, stock: None) -> None:
    url, arn = aws.queue("alarms")
    aws.rule("guard")
    aws.target("guard", arn, Input='{"action": "stop-deployments"}')
    aws.put()
    [body] = aws.bodies(url)
    assert json.loads(body)["source"] == "aws.cloudwatch"


def test_input_path_sends_what_it_selects(aws: Aws) -> None:
    url, arn = aws.queue("alarms")
    aws.rule("guard")
    aws.target("guard", arn, InputPath="$.detail.state")
    aws.put()
    assert aws.bodies(url) == ['{"value":"ALARM","reason":"Threshold Crossed"}']

    aws.target("guard", arn, InputPath="$.resources[0]")
    aws.put()
    assert aws.bodies(url) == [f'"arn:aws:cloudwatch:{REGION}:{ACCOUNT}:alarm:api-5xx"']


def test_stock_moto_ignores_input_path(aws: Aws, stock: None) -> None:
    url, arn = aws.queue("alarms")
    aws.rule("guard")
    aws.target("guard", arn, InputPath="$.detail.state")
    aws.put()
    [body] = aws.bodies(url)
    assert "detail" in json.loads(body)


def test_input_transformer_of_the_monitoring_module(aws: Aws) -> None:
    """modules/monitoring/events.tf: a JSON string template, placeholders inside it."""
    url, arn = aws.queue("notifications")
    pattern = {
        "source": ["aws.codedeploy"],
        "detail-type": ["CodeDeploy Deployment State-change Notification"],
        "detail": {"application": ["shop"], "state": ["FAILURE", "STOP"]},
    }
    aws.rule("deployment-failure", pattern)
    template = (
        '"Deployment failure: CodeDeploy deployment <deployment> of <application>/<group> '
        "ended in state <state>. https://console.aws.amazon.com/codesuite/codedeploy/"
        'deployments/<deployment>?region=us-east-1"'
    )
    paths = {
        "application": "$.detail.application",
        "group": "$.detail.deploymentGroup",
        "deployment": "$.detail.deploymentId",
        "state": "$.detail.state",
    }
    transformer = {"InputPathsMap": paths, "InputTemplate": template}
    aws.target("deployment-failure", arn, InputTransformer=transformer)
    detail = {
        "application": "shop",
        "deploymentGroup": "shop-api",
        "deploymentId": "d-ABCDEF123",
        "state": "FAILURE",
    }
    aws.put(
        Source="aws.codedeploy",
        DetailType="CodeDeploy Deployment State-change Notification",
        Detail=json.dumps(detail),
    )
    assert aws.bodies(url) == [
        '"Deployment failure: CodeDeploy deployment d-ABCDEF123 of shop/shop-api ended in '
        "state FAILURE. https://console.aws.amazon.com/codesuite/codedeploy/deployments/"
        'd-ABCDEF123?region=us-east-1"'
    ]


def test_input_transformer_json_values_and_reserved_variables(aws: Aws) -> None:
    url, arn = aws.queue("alarms")
    rule_arn = aws.rule("guard")
    template = (
        '{"alarm": <alarm>, "state": <state>, "said": "<alarm> is <value>", '
        '"rule": <aws.events.rule-arn>, "name": "<aws.events.rule-name>", '
        '"received": <aws.events.event.ingestion-time>, "event": <aws.events.event>, '
        '"whole": <aws.events.event.json>, "missing": "[<nothing>]"}'
    )
    paths = {
        "alarm": "$.detail.alarmName",
        "state": "$.detail.state",
        "value": "$.detail.state.value",
        "nothing": "$.detail.no.such.field",
    }
    transformer = {"InputPathsMap": paths, "InputTemplate": template}
    aws.target("guard", arn, InputTransformer=transformer)
    entry = aws.put()
    [body] = aws.bodies(url)
    sent = json.loads(body)
    envelope = expected_envelope(entry["EventId"])
    assert sent["alarm"] == "api-5xx"  # a string in a value position is quoted
    assert sent["state"] == {"value": "ALARM", "reason": "Threshold Crossed"}
    assert sent["said"] == "api-5xx is ALARM"
    assert sent["rule"] == rule_arn
    assert sent["name"] == "guard"
    assert sent["received"].endswith("Z") and sent["received"][:2] == "20"
    assert sent["event"] == {k: v for k, v in envelope.items() if k != "detail"}
    assert sent["whole"] == envelope
    assert sent["missing"] == "[]"  # a path that selects nothing defines no variable


def test_input_transformer_object_inside_a_string_loses_its_quotes(aws: Aws) -> None:
    url, arn = aws.queue("alarms")
    aws.rule("guard")
    transformer = {"InputPathsMap": {"s": "$.detail.state"}, "InputTemplate": '"State is <s>"'}
    aws.target("guard", arn, InputTransformer=transformer)
    aws.put()
    assert aws.bodies(url) == ['"State is {value:ALARM,reason:Threshold Crossed}"']


def test_input_transformer_plain_text_and_lines(aws: Aws) -> None:
    url, arn = aws.queue("alarms")
    aws.rule("guard")
    paths = {"alarm": "$.detail.alarmName", "value": "$.detail.state.value"}
    plain = {"InputPathsMap": paths, "InputTemplate": "<alarm> is in state <value>"}
    aws.target("guard", arn, InputTransformer=plain)
    aws.put()
    assert aws.bodies(url) == ["api-5xx is in state ALARM"]

    lines = {"InputPathsMap": paths, "InputTemplate": '"Alarm <alarm>"\n"State: <value>"'}
    aws.target("guard", arn, InputTransformer=lines)
    aws.put()
    assert aws.bodies(url) == ['"Alarm api-5xx"\n"State: ALARM"']


def test_stock_moto_fails_put_events_on_a_text_template(aws: Aws, stock: None) -> None:
    _url, arn = aws.queue("alarms")
    aws.rule("guard")
    paths = {"alarm": "$.detail.alarmName", "value": "$.detail.state.value"}
    plain = {"InputPathsMap": paths, "InputTemplate": "<alarm> is in state <value>"}
    aws.target("guard", arn, InputTransformer=plain)
    with pytest.raises(json.JSONDecodeError):
        aws.events.put_events(Entries=[ALARM_ENTRY])


# --- targets -------------------------------------------------------------------------------------


def test_a_fifo_queue_gets_the_message_group(aws: Aws) -> None:
    url, arn = aws.queue("alarms.fifo", FifoQueue="true", ContentBasedDeduplication="true")
    aws.rule("guard")
    aws.target("guard", arn, SqsParameters={"MessageGroupId": "guard"})
    entry = aws.put()
    answer = aws.sqs.receive_message(QueueUrl=url, AttributeNames=["MessageGroupId"])
    [message] = answer["Messages"]
    assert message["Attributes"]["MessageGroupId"] == "guard"
    assert json.loads(message["Body"])["id"] == entry["EventId"]

    # Without content-based deduplication: a failed invocation, not a failed PutEvents.
    url, arn = aws.queue("plain.fifo", FifoQueue="true")
    aws.target("guard", arn, SqsParameters={"MessageGroupId": "guard"})
    aws.put()
    assert aws.bodies(url) == []
    assert events_delivery.FAILED_INVOCATIONS[-1]["reason"].endswith("content-based deduplication")


def test_a_topic_publishes_to_its_subscribed_queue(aws: Aws) -> None:
    url, queue_arn = aws.queue("subscriber")
    topic = aws.sns.create_topic(Name="notifications")["TopicArn"]
    aws.sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=queue_arn)
    aws.rule("guard")
    paths = {"alarm": "$.detail.alarmName"}
    aws.target(
        "guard", topic, InputTransformer={"InputPathsMap": paths, "InputTemplate": '"<alarm>!"'}
    )
    aws.put()
    [body] = aws.bodies(url)
    notification = json.loads(body)
    assert notification["TopicArn"] == topic
    assert notification["Message"] == '"api-5xx!"'


def test_stock_moto_fails_put_events_with_a_topic_target(aws: Aws, stock: None) -> None:
    topic = aws.sns.create_topic(Name="notifications")["TopicArn"]
    aws.rule("guard")
    aws.target("guard", topic)
    with pytest.raises(NotImplementedError):
        aws.events.put_events(Entries=[ALARM_ENTRY])


#: The policy the delivery stack gives its alarm-events log group (its events.tf), after
#: "Using resource-based policies for Amazon EventBridge" (CloudWatch Logs).
def log_policy(account: str, region: str, group: str) -> str:
    return json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Sid": "EventBridgeWrites",
                    "Effect": "Allow",
                    "Principal": {
                        "Service": ["events.amazonaws.com", "delivery.logs.amazonaws.com"]
                    },
                    "Action": ["logs:CreateLogStream", "logs:PutLogEvents"],
                    "Resource": f"arn:aws:logs:{region}:{account}:log-group:{group}:*",
                }
            ],
        }
    )


def test_a_log_group_gets_the_event_as_its_resource_policy_allows(aws: Aws) -> None:
    aws.logs.create_log_group(logGroupName="/aws/events/alarms")
    aws.rule("guard")
    aws.target("guard", f"arn:aws:logs:{REGION}:{ACCOUNT}:log-group:/aws/events/alarms:*")
    aws.put()  # no resource policy: a failed invocation, nothing written
    assert aws.logs.filter_log_events(logGroupName="/aws/events/alarms")["events"] == []
    assert events_delivery.FAILED_INVOCATIONS[-1]["reason"] == (
        "no CloudWatch Logs resource policy allows events.amazonaws.com to "
        "logs:CreateLogStream in /aws/events/alarms"
    )

    aws.logs.put_resource_policy(
        policyName="events", policyDocument=log_policy(ACCOUNT, REGION, "/aws/events/alarms")
    )
    entry = aws.put()
    [event] = aws.logs.filter_log_events(logGroupName="/aws/events/alarms")["events"]
    assert json.loads(event["message"]) == expected_envelope(entry["EventId"])
    assert event["timestamp"] == ALARM_ENTRY["Time"] * 1000  # the event's time


def test_stock_moto_writes_to_a_log_group_no_policy_opens(aws: Aws, stock: None) -> None:
    aws.logs.create_log_group(logGroupName="/aws/events/alarms")
    aws.rule("guard")
    aws.target("guard", f"arn:aws:logs:{REGION}:{ACCOUNT}:log-group:/aws/events/alarms")
    aws.put()
    assert len(aws.logs.filter_log_events(logGroupName="/aws/events/alarms")["events"]) == 1


# --- another account's event bus -----------------------------------------------------------------

DELIVERY = "111111111111"
DELIVERY_REGION = "us-west-2"
DELIVERY_BUS = f"arn:aws:events:{DELIVERY_REGION}:{DELIVERY}:event-bus/default"
RECORDS = "/aws/events/acme-shop-delivery-alarm-state-changes"
SENDER_RULE = f"arn:aws:events:{REGION}:{ACCOUNT}:rule/guard"


@dataclass
class Delivery:
    """The delivery account's clients (an assumed role's keys: moto's account of them)."""

    events: Any
    logs: Any


def bus_policy(*statements: dict[str, Any]) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


#: The delivery stack's bus policy (its events.tf): the runtime account, alarm changes only.
ADMIT = {
    "Sid": "RuntimeAccountsAlarmStateChanges",
    "Effect": "Allow",
    "Principal": {"AWS": [f"arn:aws:iam::{ACCOUNT}:root"]},
    "Action": "events:PutEvents",
    "Resource": DELIVERY_BUS,
    "Condition": {
        "StringEquals": {
            "events:source": "aws.cloudwatch",
            "events:detail-type": "CloudWatch Alarm State Change",
        }
    },
}


@pytest.fixture
def delivery(aws: Aws) -> Delivery:
    """The delivery account as its stack leaves it: the log group, its resource policy and
    a rule from the default bus to it for the runtime account's alarm changes."""
    keys = aws.sts.assume_role(RoleArn=f"arn:aws:iam::{DELIVERY}:role/admin",
                               RoleSessionName="delivery")["Credentials"]  # fmt: skip
    make: Any = boto3.client
    clients = {
        service: make(
            service,
            region_name=DELIVERY_REGION,
            aws_access_key_id=keys["AccessKeyId"],
            aws_secret_access_key=keys["SecretAccessKey"],
            aws_session_token=keys["SessionToken"],
        )
        for service in ("events", "logs")
    }
    found = Delivery(**clients)
    found.logs.create_log_group(logGroupName=RECORDS)
    found.logs.put_resource_policy(
        policyName="alarm-events", policyDocument=log_policy(DELIVERY, DELIVERY_REGION, RECORDS)
    )
    pattern = {**GUARD_PATTERN, "account": [ACCOUNT]}
    found.events.put_rule(Name="alarm-events", EventPattern=json.dumps(pattern))
    found.events.put_targets(
        Rule="alarm-events",
        Targets=[{"Id": "log-group",
                  "Arn": f"arn:aws:logs:{DELIVERY_REGION}:{DELIVERY}:log-group:{RECORDS}"}],
    )  # fmt: skip
    return found


def sending_role(aws: Aws, source_arn: str = SENDER_RULE, put: bool = True) -> str:
    """The runtime stack's role (its events.tf): EventBridge for the rule, PutEvents there."""
    trust = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"Service": "events.amazonaws.com"},
                "Action": "sts:AssumeRole",
                "Condition": {
                    "StringEquals": {"aws:SourceAccount": ACCOUNT},
                    "ArnEquals": {"aws:SourceArn": source_arn},
                },
            }
        ],
    }
    role = aws.iam.create_role(RoleName="alarm-events", AssumeRolePolicyDocument=json.dumps(trust))
    if put:
        allow = {"Effect": "Allow", "Action": "events:PutEvents", "Resource": DELIVERY_BUS}
        aws.iam.put_role_policy(
            RoleName="alarm-events",
            PolicyName="put",
            PolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": [allow]}),
        )
    return str(role["Role"]["Arn"])


def recorded(delivery: Delivery) -> list[dict[str, Any]]:
    events = delivery.logs.filter_log_events(logGroupName=RECORDS)["events"]
    return [{"timestamp": e["timestamp"], **json.loads(e["message"])} for e in events]


def test_an_alarm_change_reaches_the_delivery_accounts_log_group(
    aws: Aws, delivery: Delivery
) -> None:
    """Runtime rule -> the delivery account's bus (another account and region, through a
    role) -> the delivery rule -> its log group: the event as the runtime account sent it."""
    delivery.events.put_permission(Policy=bus_policy(ADMIT))
    aws.rule("guard")
    aws.target("guard", DELIVERY_BUS, RoleArn=sending_role(aws))
    entry = aws.put()
    [event] = recorded(delivery)
    assert event == {"timestamp": ALARM_ENTRY["Time"] * 1000, **expected_envelope(entry["EventId"])}
    assert event["account"] == ACCOUNT and event["region"] == REGION  # the sender's, kept
    assert not events_delivery.FAILED_INVOCATIONS

    # What deployer report reads of it (FilterLogEvents over the hour around it).
    from deployer.report import Reader, Sources

    sources = Sources(None, None, "pipeline", DELIVERY_REGION, lambda r: None,
                      lambda r: None, lambda r: None, delivery.logs, RECORDS)  # fmt: skip
    moment = datetime.datetime.fromtimestamp(ALARM_ENTRY["Time"], datetime.UTC)
    hour = datetime.timedelta(minutes=30)
    changes = Reader(sources, "Production", moment - hour).recorded_changes(
        moment - hour, moment + hour
    )
    assert changes == {(ACCOUNT, REGION, "api-5xx"): [(moment, "OK", "ALARM")]}


def test_stock_moto_puts_the_event_again_under_the_receiver_without_a_policy(
    aws: Aws, delivery: Delivery, stock: None
) -> None:
    delivery.events.put_rule(Name="any", EventPattern=json.dumps(GUARD_PATTERN))
    delivery.events.put_targets(
        Rule="any",
        Targets=[{"Id": "log-group",
                  "Arn": f"arn:aws:logs:{DELIVERY_REGION}:{DELIVERY}:log-group:{RECORDS}"}],
    )  # fmt: skip
    aws.rule("guard")
    aws.target("guard", DELIVERY_BUS)  # no bus policy, no role
    aws.put()
    [event] = recorded(delivery)
    # Put again in the receiving account and region: the region is the receiver's, the
    # sender's account is lost.
    assert event["region"] == DELIVERY_REGION and "account" not in event


def test_the_delivery_bus_admits_only_what_its_policy_allows(aws: Aws, delivery: Delivery) -> None:
    aws.rule("guard", {"source": ["aws.cloudwatch"]})  # every alarm event
    aws.target("guard", DELIVERY_BUS, RoleArn=sending_role(aws))
    refused = (
        f"the policy of {DELIVERY_BUS} does not allow account {ACCOUNT} events:PutEvents "
        "for this event"
    )
    aws.put()  # no policy on the bus
    assert events_delivery.FAILED_INVOCATIONS[-1]["reason"] == refused

    delivery.events.put_permission(Policy=bus_policy(ADMIT))
    aws.put(DetailType="CloudWatch Alarm Configuration Change")  # not the detail type allowed
    assert events_delivery.FAILED_INVOCATIONS[-1]["reason"] == refused
    assert recorded(delivery) == []

    deny = {
        "Sid": "NotFromUsEast1",
        "Effect": "Deny",
        "Principal": {"AWS": "*"},
        "Action": "events:PutEvents",
        "Resource": DELIVERY_BUS,
        "Condition": {"ArnLike": {"aws:SourceArn": f"arn:aws:events:{REGION}:*:*"}},
    }
    delivery.events.put_permission(Policy=bus_policy(ADMIT, deny))
    aws.put()  # an explicit deny wins
    assert events_delivery.FAILED_INVOCATIONS[-1]["reason"] == refused
    assert recorded(delivery) == []

    delivery.events.remove_permission(RemoveAllPermissions=True)
    delivery.events.put_permission(Policy=bus_policy(ADMIT))
    aws.put()
    assert len(recorded(delivery)) == 1


def test_the_sending_role_must_trust_the_rule_and_allow_put_events(
    aws: Aws, delivery: Delivery
) -> None:
    delivery.events.put_permission(Policy=bus_policy(ADMIT))
    aws.rule("guard")
    other_rule = f"arn:aws:events:{REGION}:{ACCOUNT}:rule/other"
    aws.target("guard", DELIVERY_BUS, RoleArn=sending_role(aws, source_arn=other_rule))
    aws.put()
    assert events_delivery.FAILED_INVOCATIONS[-1]["reason"] == (
        f"events.amazonaws.com may not assume arn:aws:iam::{ACCOUNT}:role/alarm-events for "
        f"{SENDER_RULE}"
    )
    aws.iam.delete_role_policy(RoleName="alarm-events", PolicyName="put")
    aws.iam.delete_role(RoleName="alarm-events")
    aws.target("guard", DELIVERY_BUS, RoleArn=sending_role(aws, put=False))
    aws.put()
    assert events_delivery.FAILED_INVOCATIONS[-1]["reason"] == (
        f"arn:aws:iam::{ACCOUNT}:role/alarm-events is not allowed events:PutEvents on "
        f"{DELIVERY_BUS}"
    )
    assert recorded(delivery) == []


def test_an_event_from_another_bus_is_not_sent_on_to_a_third(aws: Aws, delivery: Delivery) -> None:
    """The guide: a receiver's rule does not send events it received on to a third account."""
    delivery.events.put_permission(Policy=bus_policy(ADMIT))
    url, queue = aws.queue("third")
    aws.events.create_event_bus(Name="third")
    third = f"arn:aws:events:{REGION}:{ACCOUNT}:event-bus/third"
    aws.rule("back", bus="third")
    aws.target("back", queue, bus="third")
    delivery.events.put_rule(Name="onwards", EventPattern=json.dumps(GUARD_PATTERN))
    delivery.events.put_targets(Rule="onwards", Targets=[{"Id": "t", "Arn": third}])
    aws.rule("guard")
    aws.target("guard", DELIVERY_BUS, RoleArn=sending_role(aws))
    aws.put()
    assert len(recorded(delivery)) == 1  # received and recorded
    assert aws.bodies(url) == []  # not sent on
    assert events_delivery.FAILED_INVOCATIONS[-1]["reason"] == (
        "an event that came from another event bus is not sent on again"
    )


# --- Lambda --------------------------------------------------------------------------------------


def function(aws: Aws, name: str) -> str:
    role = aws.iam.create_role(
        RoleName=f"{name}-role",
        AssumeRolePolicyDocument=json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": [
                    {
                        "Effect": "Allow",
                        "Principal": {"Service": "lambda.amazonaws.com"},
                        "Action": "sts:AssumeRole",
                    }
                ],
            }
        ),
    )["Role"]["Arn"]
    code = io.BytesIO()
    with zipfile.ZipFile(code, "w") as archive:
        archive.writestr("index.py", "def handler(event, context):\n    return event\n")
    created = aws.awslambda.create_function(
        FunctionName=name,
        Runtime="python3.12",
        Role=role,
        Handler="index.handler",
        Code={"ZipFile": code.getvalue()},
    )
    return str(created["FunctionArn"])


class FakeInvoke:
    """The Lambda backend's invoke, recording its calls; each waits for ``release``."""

    def __init__(self) -> None:
        self.calls: list[dict[str, Any]] = []
        self.called = threading.Event()
        self.release = threading.Event()

    def __call__(self, backend: Any, **kwargs: Any) -> bytes:
        kwargs["thread"] = threading.current_thread()
        self.calls.append(kwargs)
        self.called.set()
        self.release.wait(10)
        return b""


@pytest.fixture
def invoke(monkeypatch: pytest.MonkeyPatch) -> FakeInvoke:
    from moto.awslambda.models import LambdaBackend

    fake = FakeInvoke()

    def fake_invoke(self: Any, **kwargs: Any) -> bytes:
        return fake(self, **kwargs)

    monkeypatch.setattr(LambdaBackend, "invoke", fake_invoke)
    return fake


def test_a_permitted_function_is_invoked_asynchronously(aws: Aws, invoke: FakeInvoke) -> None:
    arn = function(aws, "deploy-guard")
    rule_arn = aws.rule("guard")
    aws.target("guard", arn)
    aws.awslambda.add_permission(
        FunctionName="deploy-guard",
        StatementId="AlarmEvents",
        Action="lambda:InvokeFunction",
        Principal="events.amazonaws.com",
        SourceArn=rule_arn,
    )
    started = time.monotonic()
    with BACKEND_LOCK:  # as a request holds it: the invocation must not need it
        entry = aws.put()
        assert invoke.called.wait(5), "the function was not invoked"
    assert time.monotonic() - started < 5  # PutEvents did not wait for the function
    invoke.release.set()
    [call] = invoke.calls
    assert call["thread"] is not threading.current_thread()
    assert call["function_name"] == arn
    assert call["headers"] == {"x-amz-invocation-type": "Event"}
    assert json.loads(call["body"]) == expected_envelope(entry["EventId"])


def test_a_function_without_permission_is_not_invoked(aws: Aws, invoke: FakeInvoke) -> None:
    arn = function(aws, "deploy-guard")
    aws.rule("guard")
    aws.target("guard", arn)
    aws.put()  # PutEvents succeeds; the invocation fails
    assert events_delivery.FAILED_INVOCATIONS[-1]["reason"].startswith(
        f"the resource-based policy of {arn}"
    )

    other_rule = aws.rule("other")
    aws.awslambda.add_permission(
        FunctionName="deploy-guard",
        StatementId="OtherRule",
        Action="lambda:InvokeFunction",
        Principal="events.amazonaws.com",
        SourceArn=other_rule,  # another rule's ARN: no permission for "guard"
    )
    aws.events.remove_targets(Rule="other", Ids=["t"])
    aws.put()
    assert not invoke.called.wait(0.5)
    assert invoke.calls == []


def test_stock_moto_fails_put_events_with_a_function_target(aws: Aws, stock: None) -> None:
    arn = function(aws, "deploy-guard")
    aws.rule("guard")
    aws.target("guard", arn)
    with pytest.raises(NotImplementedError):
        aws.events.put_events(Entries=[ALARM_ENTRY])


# --- which rules see an event --------------------------------------------------------------------


def test_a_disabled_rule_does_not_deliver(aws: Aws) -> None:
    url, arn = aws.queue("alarms")
    aws.rule("guard", State="DISABLED")
    aws.target("guard", arn)
    aws.put()
    assert aws.bodies(url) == []
    aws.events.enable_rule(Name="guard")
    aws.put()
    assert len(aws.bodies(url)) == 1


def test_stock_moto_delivers_for_a_disabled_rule(aws: Aws, stock: None) -> None:
    url, arn = aws.queue("alarms")
    aws.rule("guard", State="DISABLED")
    aws.target("guard", arn)
    aws.put()
    assert len(aws.bodies(url)) == 1


def test_a_schedule_only_rule_matches_no_event(aws: Aws) -> None:
    url, arn = aws.queue("alarms")
    aws.rule("nightly", None, ScheduleExpression="rate(1 day)")
    aws.target("nightly", arn)
    aws.put()
    assert aws.bodies(url) == []


def test_stock_moto_delivers_every_event_to_a_schedule_only_rule(aws: Aws, stock: None) -> None:
    url, arn = aws.queue("alarms")
    aws.rule("nightly", None, ScheduleExpression="rate(1 day)")
    aws.target("nightly", arn)
    aws.put()
    assert len(aws.bodies(url)) == 1


def test_rules_of_other_buses_do_not_see_the_event(aws: Aws) -> None:
    url, arn = aws.queue("alarms")
    aws.events.create_event_bus(Name="deployments")
    aws.rule("guard", bus="deployments")
    aws.target("guard", arn, bus="deployments")
    aws.put()
    assert aws.bodies(url) == []
    aws.put(EventBusName="deployments")
    assert len(aws.bodies(url)) == 1


def test_events_put_by_the_backend_are_delivered(aws: Aws) -> None:
    """As the alarm engine puts them: moto's events backend, under the backend lock."""
    from moto.events.models import events_backends

    url, arn = aws.queue("alarms")
    aws.rule("guard")
    aws.target("guard", arn)
    with BACKEND_LOCK:
        [entry] = events_backends[ACCOUNT][REGION].put_events([ALARM_ENTRY])
    [body] = aws.bodies(url)
    assert json.loads(body) == expected_envelope(entry["EventId"])


def test_an_archive_keeps_the_event_and_a_replay_delivers_it_again(aws: Aws) -> None:
    bus = aws.events.describe_event_bus()["Arn"]
    archive = aws.events.create_archive(ArchiveName="all", EventSourceArn=bus)["ArchiveArn"]
    url, arn = aws.queue("alarms")
    aws.rule("guard")
    aws.target("guard", arn)
    entry = aws.put()
    assert len(aws.bodies(url)) == 1
    aws.events.start_replay(
        ReplayName="again",
        EventSourceArn=archive,
        EventStartTime=datetime.datetime(2000, 1, 1),
        EventEndTime=datetime.datetime(2100, 1, 1),
        Destination={"Arn": bus},
    )
    [body] = aws.bodies(url)
    replayed = json.loads(body)
    assert replayed.pop("replay-name") == "again"
    assert replayed["detail"] == ALARM_DETAIL and replayed["id"] != entry["EventId"]
