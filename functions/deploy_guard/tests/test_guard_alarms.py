"""The deploy guard on an EventBridge "CloudWatch Alarm State Change" event.

Every test runs against moto in process (see guard_stage.py): ListDeploymentGroups,
GetDeploymentGroup, ListDeployments, GetDeployment and SNS Publish are moto's. StopDeployment,
which moto 5.2.5 lacks, is always a botocore Stubber that asserts the deployment stopped and
that automatic rollback was asked for. moto never advances a deployment, so a test sets the
status CodeDeploy would have (InProgress, Ready) on moto's record.
"""

from __future__ import annotations

from typing import Any

import pytest
from deploy_guard.notify import SUBJECT_MAX
from guard_stage import ALARMS, APPLICATION, GROUP, SERVICE, Stage, alarm_event

REASON = "Threshold Crossed: 1 out of the last 1 datapoints [12.5] was greater than 5.0."


def expect_stop(stage: Stage, deployment_id: str) -> None:
    stage.stub("codedeploy").add_response(
        "stop_deployment",
        {"status": "Pending", "statusMessage": "Stopping the deployment, with rollback"},
        {"deploymentId": deployment_id, "autoRollbackEnabled": True},
    )


@pytest.mark.parametrize("status", ["InProgress", "Ready", "Baking"])
def test_alarm_stops_the_deployment_in_progress_with_rollback(stage: Stage, status: str) -> None:
    """moto: the groups, deployments and SNS. Stubber: StopDeployment (autoRollbackEnabled)."""
    stage.set_deployment(stage.deployment_id, status=status)
    expect_stop(stage, stage.deployment_id)

    result = stage.guard().on_alarm(alarm_event(ALARMS[2], reason=REASON))

    assert result["action"] == "rollback"
    assert result["alarm"] == ALARMS[2]
    [entry] = result["deployments"]
    assert entry["deployment_id"] == stage.deployment_id
    assert entry["stopped"] is True
    assert entry["service"] == SERVICE

    [note] = stage.notifications()
    assert len(note["subject"]) <= SUBJECT_MAX
    assert note["subject"].startswith("Rollback: ")
    message = note["message"]
    assert message["event"] == "rollback"
    assert message["deployment_id"] == stage.deployment_id
    assert message["service"] == SERVICE
    assert message["deployment_group"] == GROUP
    assert message["alarm"] == ALARMS[2]
    assert ALARMS[2] in message["reason"]
    assert message["evidence"]["state"] == "ALARM"
    assert message["evidence"]["state_reason"] == REASON
    assert message["evidence"]["previous_state"] == "OK"
    assert message["time"] == "2026-01-01T00:00:00.000Z"


def test_only_active_deployments_of_the_watching_group_are_stopped(stage: Stage) -> None:
    """moto: two more deployment groups (one watching another alarm) and four deployments
    in several states. Stubber: StopDeployment, for the one active deployment only (an
    unexpected StopDeployment would find no stubbed answer and be reported)."""
    stage.codedeploy.create_deployment_group(
        applicationName=APPLICATION,
        deploymentGroupName="acme-shop-staging-auth-service",
        serviceRoleArn="arn:aws:iam::123456789012:role/codedeploy",
        ecsServices=[{"clusterName": "c", "serviceName": "acme-shop-staging-auth-service"}],
        alarmConfiguration={"enabled": True, "alarms": [{"name": "auth-5xx-rate"}]},
    )
    elsewhere = stage.deploy("acme-shop-staging-auth-service")
    stage.set_deployment(elsewhere, status="InProgress")
    finished = stage.deploy()
    stage.set_deployment(finished, status="Succeeded")
    stage.set_deployment(stage.deployment_id, status="InProgress")
    expect_stop(stage, stage.deployment_id)

    result = stage.guard().on_alarm(alarm_event(ALARMS[0]))

    assert [e["deployment_id"] for e in result["deployments"]] == [stage.deployment_id]
    assert len(stage.notifications()) == 1


def test_alarm_with_no_deployment_in_progress_does_nothing(stage: Stage) -> None:
    """moto: the deployment is Succeeded. Stubber: StopDeployment must not be called."""
    stage.set_deployment(stage.deployment_id, status="Succeeded")

    result = stage.guard().on_alarm(alarm_event(ALARMS[1]))

    assert result["action"] == "none"
    assert result["deployments"] == []
    assert "no deployment of" in result["reason"]
    assert GROUP in result["reason"]
    assert stage.notifications() == []


def test_alarm_no_group_watches_does_nothing(stage: Stage) -> None:
    """moto: the groups (none names the alarm). Stubber: StopDeployment must not be called."""
    stage.set_deployment(stage.deployment_id, status="InProgress")

    result = stage.guard().on_alarm(alarm_event("someone-elses-alarm"))

    assert result["action"] == "none"
    assert "no deployment group" in result["reason"]
    assert stage.notifications() == []


@pytest.mark.parametrize("state", ["OK", "INSUFFICIENT_DATA"])
def test_other_states_do_nothing(stage: Stage, state: str) -> None:
    """moto: nothing is read. Stubber: StopDeployment must not be called."""
    stage.set_deployment(stage.deployment_id, status="InProgress")

    result = stage.guard().on_alarm(alarm_event(ALARMS[0], state=state))

    assert result["action"] == "none"
    assert f"changed to {state}, not ALARM" in result["reason"]
    assert stage.notifications() == []


def test_a_rollback_deployment_is_left_to_finish(stage: Stage) -> None:
    """moto: the deployment in progress is CodeDeploy's own rollback. Stubber:
    StopDeployment must not be called (stopping a rollback strands the service)."""
    stage.set_deployment(stage.deployment_id, status="InProgress", creator="codeDeployRollback")

    result = stage.guard().on_alarm(alarm_event(ALARMS[0]))

    assert result["action"] == "none"
    [entry] = result["deployments"]
    assert entry["stopped"] is False
    assert "rollback deployment" in entry["detail"]
    assert stage.notifications() == []


def test_a_deployment_that_finished_meanwhile_is_not_reported_as_rolled_back(
    stage: Stage,
) -> None:
    """moto: the deployment is listed InProgress. Stubber: StopDeployment answers
    DeploymentAlreadyCompletedException (it finished between the list and the stop)."""
    stage.set_deployment(stage.deployment_id, status="InProgress")
    stage.stub("codedeploy").add_client_error(
        "stop_deployment", service_error_code="DeploymentAlreadyCompletedException"
    )

    result = stage.guard().on_alarm(alarm_event(ALARMS[0]))

    assert result["action"] == "none"
    assert result["deployments"][0]["stopped"] is False
    assert stage.notifications() == []


def test_a_failed_stop_is_published(stage: Stage) -> None:
    """moto: the deployment in progress. Stubber: StopDeployment (AccessDeniedException)."""
    stage.set_deployment(stage.deployment_id, status="InProgress")
    stage.stub("codedeploy").add_client_error(
        "stop_deployment", service_error_code="AccessDeniedException", service_message="denied"
    )

    result = stage.guard().on_alarm(alarm_event(ALARMS[0]))

    assert result["action"] == "error"
    assert "could not stop it: StopDeployment: AccessDeniedException" in result["reason"]
    [note] = stage.notifications()
    assert note["message"]["event"] == "rollback_failed"
    assert note["message"]["deployment_id"] == stage.deployment_id
    assert note["message"]["evidence"]["alarm"] == ALARMS[0]


def test_the_same_alarm_twice_publishes_the_rollback_once(stage: Stage) -> None:
    """moto: the deployment stays InProgress (moto does not apply the stop). Stubber: both
    StopDeployment calls accepted; the same guard (a warm container) publishes once."""
    stage.set_deployment(stage.deployment_id, status="InProgress")
    expect_stop(stage, stage.deployment_id)
    expect_stop(stage, stage.deployment_id)
    guard = stage.guard()

    first = guard.on_alarm(alarm_event(ALARMS[0]))
    second = guard.on_alarm(alarm_event(ALARMS[0]))

    assert first["action"] == second["action"] == "rollback"
    assert len(stage.notifications()) == 1


def test_an_unreadable_application_is_an_error_that_is_published(stage: Stage) -> None:
    """moto: SNS. Stubber: ListDeploymentGroups (AccessDeniedException)."""
    stage.stub("codedeploy", "list_deployment_groups").add_client_error(
        "list_deployment_groups", service_error_code="AccessDeniedException"
    )

    result: dict[str, Any] = stage.guard().on_alarm(alarm_event(ALARMS[0]))

    assert result["action"] == "error"
    assert "ListDeploymentGroups: AccessDeniedException" in result["reason"]
    [note] = stage.notifications()
    assert note["message"]["event"] == "alarm_not_handled"
    assert note["message"]["alarm"] == ALARMS[0]
