"""The deploy guard as a CodeDeploy lifecycle hook (AfterAllowTestTraffic, AfterAllowTraffic).

Every test runs against moto in process (see guard_stage.py); the CodeDeploy operation moto
lacks, PutLifecycleEventHookExecutionStatus, is always a botocore Stubber that also asserts
the status reported. Each docstring names any other operation a Stubber answers.
"""

from __future__ import annotations

from typing import Any

from deploy_guard.handler import Check, Guard, Verdict
from deploy_guard.notify import SUBJECT_MAX
from guard_stage import (
    ALARMS,
    APPLICATION,
    BLUE,
    GREEN,
    GROUP,
    HOOK_ID,
    SERVICE,
    Stage,
)


def checks_by_name(verdict: Verdict) -> dict[str, Check]:
    return {c.name: c for c in verdict.checks}


def only_notification(stage: Stage) -> dict[str, Any]:
    published = stage.notifications()
    assert len(published) == 1, published
    return published[0]


def test_healthy_deployment_succeeds_and_publishes_nothing(stage: Stage) -> None:
    """moto: every read. Stubber: PutLifecycleEventHookExecutionStatus (expects Succeeded)."""
    stage.expect_report("Succeeded")

    verdict = stage.guard().on_lifecycle_hook(stage.hook_event())

    assert verdict.status == "Succeeded", verdict.reason
    assert verdict.reported is True
    assert verdict.deployment_id == stage.deployment_id
    assert verdict.service == SERVICE
    checks = checks_by_name(verdict)
    assert set(checks) == {"target_health", "running_tasks", "alarms"}
    assert all(c.ok for c in checks.values())
    assert checks["target_health"].value["target_group"] == GREEN
    assert checks["target_health"].value["healthy"] == 2
    assert checks["running_tasks"].value == {"running": 2, "desired": 2, "pending": 0}
    assert checks["alarms"].value == dict.fromkeys(ALARMS, "OK")
    assert verdict.reason.startswith("all checks passed")
    assert stage.notifications() == []


def test_unhealthy_green_target_fails_and_publishes_the_evidence(stage: Stage) -> None:
    """moto: CodeDeploy, DescribeListeners, ECS, CloudWatch, SNS. Stubber:
    DescribeTargetHealth (moto reports every registered target healthy) and
    PutLifecycleEventHookExecutionStatus (expects Failed)."""
    green_arn = stage.target_group_arn[GREEN]
    stage.stub("elbv2", "describe_target_health").add_response(
        "describe_target_health",
        {
            "TargetHealthDescriptions": [
                {
                    "Target": {"Id": "10.40.0.10", "Port": 8080},
                    "TargetHealth": {"State": "healthy"},
                },
                {
                    "Target": {"Id": "10.40.1.11", "Port": 8080},
                    "TargetHealth": {
                        "State": "unhealthy",
                        "Reason": "Target.ResponseCodeMismatch",
                        "Description": "Health checks failed with these codes: [500]",
                    },
                },
            ]
        },
        # The green target group is the one the test listener forwards to.
        {"TargetGroupArn": green_arn},
    )
    stage.expect_report("Failed")

    verdict = stage.guard().on_lifecycle_hook(stage.hook_event())

    assert verdict.status == "Failed"
    assert verdict.reported is True
    health = checks_by_name(verdict)["target_health"]
    assert not health.ok
    assert health.value["healthy"] == 1
    assert health.value["total"] == 2
    assert health.value["targets"]["10.40.1.11:8080"] == "unhealthy"
    assert "10.40.1.11:8080 unhealthy (Target.ResponseCodeMismatch)" in verdict.reason
    assert checks_by_name(verdict)["running_tasks"].ok

    note = only_notification(stage)
    assert len(note["subject"]) <= SUBJECT_MAX
    assert SERVICE in note["subject"]
    message = note["message"]
    assert message["event"] == "deployment_check_failed"
    assert message["deployment_id"] == stage.deployment_id
    assert message["service"] == SERVICE
    assert message["deployment_group"] == GROUP
    assert message["reason"] == verdict.reason
    assert message["time"] == "2026-01-01T00:00:00.000Z"
    [failed] = message["failed_checks"]
    assert failed["name"] == "target_health"
    assert failed["value"]["healthy"] == 1
    assert failed["expected"] == "total >= 1 and healthy == total"


def test_green_target_group_without_targets_fails(make_stage: Any) -> None:
    """moto: every read (no target registered in green). Stubber: the report (Failed)."""
    stage = make_stage(green_targets=0)
    stage.expect_report("Failed")

    verdict = stage.guard().on_lifecycle_hook(stage.hook_event())

    assert verdict.status == "Failed"
    health = checks_by_name(verdict)["target_health"]
    assert health.value["total"] == 0
    assert f"no target registered in the green target group {GREEN}" in verdict.reason
    assert only_notification(stage)["message"]["failed_checks"][0]["name"] == "target_health"


def test_green_is_what_the_test_listener_forwards_to(make_stage: Any) -> None:
    """moto: every read; the listeners are swapped as after a previous deployment (green is
    now the blue target group, and only it has targets). Stubber: the report (Succeeded)."""
    stage = make_stage(green_targets=0)
    stage.elbv2.modify_listener(
        ListenerArn=stage.listener_arn["test"],
        DefaultActions=[{"Type": "forward", "TargetGroupArn": stage.target_group_arn[BLUE]}],
    )
    stage.register(BLUE, 2)
    stage.expect_report("Succeeded")

    verdict = stage.guard().on_lifecycle_hook(stage.hook_event())

    assert verdict.status == "Succeeded", verdict.reason
    assert checks_by_name(verdict)["target_health"].value["target_group"] == BLUE


def test_too_few_tasks_fails(make_stage: Any) -> None:
    """moto: every read (the service runs 1 of 2 desired tasks). Stubber: the report (Failed)."""
    stage = make_stage(running=1, desired=2)
    stage.expect_report("Failed")

    verdict = stage.guard().on_lifecycle_hook(stage.hook_event())

    assert verdict.status == "Failed"
    tasks = checks_by_name(verdict)["running_tasks"]
    assert not tasks.ok
    assert tasks.value == {"running": 1, "desired": 2, "pending": 1}
    assert tasks.expected == "running >= desired"
    assert f"1 of 2 desired tasks running in {SERVICE}" in verdict.reason
    assert checks_by_name(verdict)["target_health"].ok
    [failed] = only_notification(stage)["message"]["failed_checks"]
    assert failed["name"] == "running_tasks"
    assert failed["value"]["running"] == 1


def test_alarm_in_alarm_fails(stage: Stage) -> None:
    """moto: every read (SetAlarmState puts the 5XX alarm in ALARM). Stubber: the report."""
    rate = ALARMS[2]
    stage.set_alarm(rate, "ALARM", "Threshold Crossed: 12.5% 5XX > 5%")
    stage.expect_report("Failed")

    verdict = stage.guard().on_lifecycle_hook(stage.hook_event())

    assert verdict.status == "Failed"
    alarms = checks_by_name(verdict)["alarms"]
    assert not alarms.ok
    assert alarms.value[rate] == "ALARM"
    assert alarms.value[ALARMS[0]] == "OK"
    assert f"{rate} in ALARM (Threshold Crossed: 12.5% 5XX > 5%)" in verdict.reason
    [failed] = only_notification(stage)["message"]["failed_checks"]
    assert failed["name"] == "alarms"
    assert failed["value"][rate] == "ALARM"


def test_missing_alarm_fails(stage: Stage) -> None:
    """moto: every read (one of the group's alarms was deleted). Stubber: the report."""
    stage.cloudwatch.delete_alarms(AlarmNames=[ALARMS[1]])
    stage.expect_report("Failed")

    verdict = stage.guard().on_lifecycle_hook(stage.hook_event())

    assert verdict.status == "Failed"
    assert checks_by_name(verdict)["alarms"].value[ALARMS[1]] == "MISSING"
    assert f"{ALARMS[1]} does not exist" in verdict.reason


def test_unknown_deployment_fails_closed(stage: Stage) -> None:
    """moto: GetDeployment (DeploymentDoesNotExistException). Stubber: the report, which
    CodeDeploy refuses for an unknown deployment."""
    stage.stub("codedeploy").add_client_error(
        "put_lifecycle_event_hook_execution_status",
        service_error_code="DeploymentDoesNotExistException",
        service_message="The deployment d-NOPE does not exist.",
        expected_params={
            "deploymentId": "d-NOPE",
            "lifecycleEventHookExecutionId": HOOK_ID,
            "status": "Failed",
        },
    )

    verdict = stage.guard().on_lifecycle_hook(stage.hook_event("d-NOPE"))

    assert verdict.status == "Failed"
    assert verdict.reported is False
    assert verdict.checks == []
    assert verdict.service == ""
    assert "GetDeployment: DeploymentDoesNotExistException" in verdict.reason
    message = only_notification(stage)["message"]
    assert message["deployment_id"] == "d-NOPE"
    assert message["reported"] is False


def test_deployment_of_another_application_fails_closed(stage: Stage) -> None:
    """moto: every read (a second application with its own group and deployment).
    Stubber: the report (Failed)."""
    stage.codedeploy.create_application(applicationName="other-services", computePlatform="ECS")
    stage.codedeploy.create_deployment_group(
        applicationName="other-services",
        deploymentGroupName="other",
        serviceRoleArn="arn:aws:iam::123456789012:role/other",
    )
    other = stage.codedeploy.create_deployment(
        applicationName="other-services",
        deploymentGroupName="other",
        revision={"revisionType": "AppSpecContent", "appSpecContent": {"content": "{}"}},
    )["deploymentId"]
    stage.expect_report("Failed", other)

    verdict = stage.guard().on_lifecycle_hook(stage.hook_event(other))

    assert verdict.status == "Failed"
    assert f"belongs to the application other-services, not to {APPLICATION}" in verdict.reason


def test_api_error_in_a_check_fails_closed_and_the_other_checks_still_run(stage: Stage) -> None:
    """moto: every read but one. Stubber: ECS DescribeServices (AccessDeniedException) and
    the report (Failed)."""
    stage.stub("ecs", "describe_services").add_client_error(
        "describe_services",
        service_error_code="AccessDeniedException",
        service_message="not authorized to perform: ecs:DescribeServices",
    )
    stage.expect_report("Failed")

    verdict = stage.guard().on_lifecycle_hook(stage.hook_event())

    assert verdict.status == "Failed"
    checks = checks_by_name(verdict)
    assert not checks["running_tasks"].ok
    assert checks["running_tasks"].value is None
    assert "DescribeServices: AccessDeniedException" in checks["running_tasks"].detail
    assert checks["target_health"].ok
    assert checks["alarms"].ok
    assert "running_tasks: could not check: DescribeServices" in verdict.reason
    assert only_notification(stage)["message"]["failed_checks"][0]["name"] == "running_tasks"


def test_api_error_reading_the_deployment_group_fails_closed(stage: Stage) -> None:
    """moto: GetDeployment. Stubber: GetDeploymentGroup (AccessDeniedException) and the
    report (Failed)."""
    stubber = stage.stub("codedeploy", "get_deployment_group")
    stubber.add_client_error(
        "get_deployment_group",
        service_error_code="AccessDeniedException",
        service_message="not authorized",
    )
    stage.expect_report("Failed")

    verdict = stage.guard().on_lifecycle_hook(stage.hook_event())

    assert verdict.status == "Failed"
    assert verdict.reported is True
    assert verdict.checks == []
    assert "GetDeploymentGroup: AccessDeniedException: not authorized" in verdict.reason
    assert len(stage.notifications()) == 1


def test_event_without_ids_fails_without_reporting(stage: Stage) -> None:
    """moto: nothing is read. Stubber: no report is queued, so none may be made."""
    verdict = stage.guard().on_lifecycle_hook({"DeploymentId": stage.deployment_id})

    assert verdict.status == "Failed"
    assert verdict.reported is False
    assert "no LifecycleEventHookExecutionId" in verdict.reason
    assert "did not take the status" not in verdict.reason
    assert len(stage.notifications()) == 1


def test_missing_application_name_fails_closed(stage: Stage) -> None:
    """moto: nothing is read. Stubber: the report (Failed)."""
    stage.expect_report("Failed")

    verdict = stage.guard(application="").on_lifecycle_hook(stage.hook_event())

    assert verdict.status == "Failed"
    assert "APPLICATION_NAME is not set" in verdict.reason


def test_passing_checks_that_cannot_be_reported_are_a_failure(stage: Stage) -> None:
    """moto: every read (all healthy). Stubber: the report, refused (AccessDeniedException):
    without a status the hook times out and the deployment fails, so people hear now."""
    stage.stub("codedeploy").add_client_error(
        "put_lifecycle_event_hook_execution_status",
        service_error_code="AccessDeniedException",
        service_message="not authorized",
    )

    verdict = stage.guard().on_lifecycle_hook(stage.hook_event())

    assert verdict.status == "Failed"
    assert verdict.reported is False
    assert all(c.ok for c in verdict.checks)
    assert "the checks passed" in verdict.reason
    assert "PutLifecycleEventHookExecutionStatus: AccessDeniedException" in verdict.reason
    assert only_notification(stage)["message"]["failed_checks"] == []


def test_reinvocation_for_a_reported_hook_publishes_nothing_again(make_stage: Any) -> None:
    """moto: every read. Stubber: the first report is accepted, the second refused with
    LifecycleEventAlreadyCompletedException, as CodeDeploy does for a hook with a status.
    A fresh guard (a new Lambda container) is used for the second invocation."""
    stage = make_stage(green_targets=0)
    stage.expect_report("Failed")
    stage.stub("codedeploy").add_client_error(
        "put_lifecycle_event_hook_execution_status",
        service_error_code="LifecycleEventAlreadyCompletedException",
        service_message="The lifecycle event is already completed.",
    )

    first = stage.guard().on_lifecycle_hook(stage.hook_event())
    second = stage.guard().on_lifecycle_hook(stage.hook_event())

    assert first.status == second.status == "Failed"
    assert first.reported is True
    assert second.reported is False
    assert "already had a status for this hook" in second.reason
    assert len(stage.notifications()) == 1


def test_the_same_verdict_twice_is_published_once(make_stage: Any) -> None:
    """moto: every read. Stubber: both reports accepted (a CodeDeploy that does not refuse a
    second status); the same guard (a warm container) publishes the verdict once."""
    stage = make_stage(green_targets=0)
    stage.expect_report("Failed")
    stage.expect_report("Failed")
    guard = stage.guard()

    first = guard.on_lifecycle_hook(stage.hook_event())
    second = guard.on_lifecycle_hook(stage.hook_event())

    assert first.status == second.status == "Failed"
    assert first.reported is second.reported is True
    assert len(stage.notifications()) == 1


class FakeTime:
    """A clock that moves only when the guard sleeps."""

    def __init__(self) -> None:
        self.now = 1_000.0
        self.sleeps: list[float] = []

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds

    def guard(self, stage: Stage, *, window: float) -> Guard:
        """A guard on this clock with a validation window, re-checking every 5 s."""
        return Guard(
            stage.client,
            application=APPLICATION,
            topic_arn=stage.topic_arn,
            clock=self.clock,
            sleep=self.sleep,
            validation_seconds=window,
            poll_seconds=5,
        )


def test_a_validation_window_watches_until_it_has_passed(stage: Stage) -> None:
    """moto: every read. Stubber: PutLifecycleEventHookExecutionStatus (expects Succeeded)."""
    stage.expect_report("Succeeded")
    fake = FakeTime()
    guard = fake.guard(stage, window=12)

    verdict = guard.on_lifecycle_hook(stage.hook_event())

    assert verdict.status == "Succeeded", verdict.reason
    assert fake.sleeps == [5, 5, 2]  # four looks: at 0, 5, 10 and 12 s
    assert stage.notifications() == []


def test_a_release_that_breaks_within_the_window_fails_the_hook(stage: Stage) -> None:
    """moto: CodeDeploy, DescribeListeners, ECS, CloudWatch, SNS. Stubber: DescribeTargetHealth
    (healthy twice, then one target unhealthy) and PutLifecycleEventHookExecutionStatus
    (expects Failed)."""
    green_arn = stage.target_group_arn[GREEN]
    stubber = stage.stub("elbv2", "describe_target_health")

    def answer(second: str) -> dict[str, Any]:
        return {
            "TargetHealthDescriptions": [
                {
                    "Target": {"Id": "10.40.0.10", "Port": 8080},
                    "TargetHealth": {"State": "healthy"},
                },
                {
                    "Target": {"Id": "10.40.1.11", "Port": 8080},
                    "TargetHealth": {"State": second}
                    | ({"Reason": "Target.ResponseCodeMismatch"} if second == "unhealthy" else {}),
                },
            ]
        }

    for second in ("healthy", "healthy", "unhealthy"):
        stubber.add_response(
            "describe_target_health", answer(second), {"TargetGroupArn": green_arn}
        )
    stage.expect_report("Failed")
    fake = FakeTime()
    guard = fake.guard(stage, window=60)

    verdict = guard.on_lifecycle_hook(stage.hook_event())

    assert verdict.status == "Failed"
    assert fake.sleeps == [5, 5]  # failed on the third look, without waiting out the window
    assert "10.40.1.11:8080 unhealthy (Target.ResponseCodeMismatch)" in verdict.reason
    assert only_notification(stage)["message"]["deployment_id"] == stage.deployment_id
