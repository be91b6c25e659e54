"""codestar_notifications: a minimal backend, routed in the server."""

from __future__ import annotations

import pytest
from botocore.exceptions import ClientError

from ._helpers import status, unique
from .conftest import Server

PIPELINE = "arn:aws:codepipeline:us-east-1:123456789012:service"
TOPIC = "arn:aws:sns:us-east-1:123456789012:pipeline"
EVENTS = [
    "codepipeline-pipeline-pipeline-execution-failed",
    "codepipeline-pipeline-manual-approval-needed",
]


def test_notification_rule_lifecycle(patched: Server) -> None:
    client = patched.client("codestar-notifications")
    name = unique("rule")
    arn = client.create_notification_rule(
        Name=name,
        EventTypeIds=EVENTS,
        Resource=PIPELINE,
        Targets=[{"TargetType": "SNS", "TargetAddress": TOPIC}],
        DetailType="FULL",
        Tags={"team": "platform"},
    )["Arn"]
    assert arn.startswith("arn:aws:codestar-notifications:us-east-1:123456789012:notificationrule/")

    rule = client.describe_notification_rule(Arn=arn)
    assert rule["Name"] == name
    assert rule["Resource"] == PIPELINE
    assert sorted(e["EventTypeId"] for e in rule["EventTypes"]) == sorted(EVENTS)
    assert rule["Targets"] == [
        {"TargetAddress": TOPIC, "TargetType": "SNS", "TargetStatus": "ACTIVE"}
    ]
    assert rule["DetailType"] == "FULL"
    assert rule["Status"] == "ENABLED"
    assert rule["Tags"] == {"team": "platform"}

    client.update_notification_rule(Arn=arn, DetailType="BASIC", EventTypeIds=EVENTS[:1])
    rule = client.describe_notification_rule(Arn=arn)
    assert rule["DetailType"] == "BASIC"
    assert [e["EventTypeId"] for e in rule["EventTypes"]] == EVENTS[:1]

    client.tag_resource(Arn=arn, Tags={"env": "test"})
    client.untag_resource(Arn=arn, TagKeys=["team"])
    assert client.list_tags_for_resource(Arn=arn)["Tags"] == {"env": "test"}

    listed = client.list_notification_rules(Filters=[{"Name": "RESOURCE", "Value": PIPELINE}])
    assert arn in [r["Arn"] for r in listed["NotificationRules"]]

    with pytest.raises(ClientError) as excinfo:
        client.create_notification_rule(
            Name=name,
            EventTypeIds=EVENTS,
            Resource=PIPELINE,
            Targets=[{"TargetType": "SNS", "TargetAddress": TOPIC}],
            DetailType="FULL",
        )
    assert excinfo.value.response["Error"]["Code"] == "ResourceAlreadyExistsException"

    assert client.delete_notification_rule(Arn=arn)["Arn"] == arn
    with pytest.raises(ClientError) as excinfo:
        client.describe_notification_rule(Arn=arn)
    assert excinfo.value.response["Error"]["Code"] == "ResourceNotFoundException"


def test_stock_moto_has_no_codestar_notifications(stock: Server) -> None:
    client = stock.client("codestar-notifications")
    with pytest.raises(ClientError) as excinfo:
        client.list_notification_rules()
    assert status(excinfo) >= 500
