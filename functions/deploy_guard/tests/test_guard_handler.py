"""The Lambda entry point (``deploy_guard.handler.handler``) and the notification format.

The entry point builds its own boto3 clients, so these tests use moto in process only, no
Stubber: where moto lacks an operation (PutLifecycleEventHookExecutionStatus) the call fails,
which is exactly the fail-closed path under test.
"""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
from deploy_guard import handler as entry
from deploy_guard import notify
from guard_stage import ALARMS, APPLICATION, SERVICE, Stage, alarm_event


@pytest.fixture
def configured(stage: Stage, monkeypatch: pytest.MonkeyPatch) -> Iterator[Stage]:
    monkeypatch.setenv("APPLICATION_NAME", APPLICATION)
    monkeypatch.setenv("TOPIC_ARN", stage.topic_arn)
    entry._GUARDS.clear()
    yield stage
    entry._GUARDS.clear()


def test_hook_event_is_dispatched_and_fails_closed_when_it_cannot_report(
    configured: Stage,
) -> None:
    """moto only: the checks pass, but moto cannot take the status (the operation is not
    implemented), so the verdict is Failed, not reported, published."""
    result = entry.handler(configured.hook_event(), None)

    json.dumps(result)  # Lambda returns it as JSON
    assert result["deployment_id"] == configured.deployment_id
    assert result["service"] == SERVICE
    assert result["status"] == "Failed"
    assert result["reported"] is False
    assert [c["ok"] for c in result["checks"]] == [True, True, True]
    assert "did not take the status" in result["reason"]
    [note] = configured.notifications()
    assert note["message"]["deployment_id"] == configured.deployment_id


def test_alarm_event_is_dispatched(configured: Stage) -> None:
    """moto only: no deployment is in progress, so nothing is stopped or published."""
    result = entry.handler(alarm_event(ALARMS[0]), None)

    json.dumps(result)
    assert result["action"] == "none"
    assert result["alarm"] == ALARMS[0]
    assert configured.notifications() == []


def test_other_events_are_ignored(configured: Stage) -> None:
    """moto only: nothing is called."""
    result = entry.handler({"source": "aws.ecs", "detail-type": "ECS Task State Change"}, None)

    assert result["action"] == "none"
    assert configured.notifications() == []


def test_warm_invocations_share_one_guard(configured: Stage) -> None:
    """moto only: two invocations of the same failed hook publish one notification."""
    entry.handler(configured.hook_event(), None)
    entry.handler(configured.hook_event(), None)

    assert len(configured.notifications()) == 1


def test_subject_is_short_printable_ascii_on_one_line() -> None:
    subject = notify.subject("Rollback: " + "x" * 200 + "\n\u00e9 deployment d-1")

    assert len(subject) <= notify.SUBJECT_MAX < 100
    assert subject.endswith("...")
    assert subject.isascii()
    assert "\n" not in subject
    assert notify.subject("Rollback:\tapi  d-1") == "Rollback: api d-1"
