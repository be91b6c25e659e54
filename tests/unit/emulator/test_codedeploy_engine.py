"""The codedeploy engine: ECS blue/green deployments run, fail and roll back as CodeDeploy's do.

The scenarios are in ``_codedeploy_scenarios.py`` (what each builds and does, and how):
one separate interpreter (the patches must not leak into this one's moto) runs them all,
each on fresh moto backends, once per test session, also under xdist (the first worker
to need them runs them, the others read its results); each test here asserts on what
its scenario observed. A scenario that raised fails its test with the traceback.
"""

from __future__ import annotations

import pytest

from tests.unit.emulator._scenario_runner import Result, fixtures

scenarios, result = fixtures("tests.unit.emulator._codedeploy_scenarios", "codedeploy")


def test_a_healthy_release_goes_through_every_event_and_replaces_blue(result: Result) -> None:
    out = result("healthy_release")
    assert out["started"] == "InProgress"
    assert out["sets"] == [["ACTIVE", True], ["PRIMARY", False]]
    assert out["green_group"] and out["green_external"]
    assert out["test_listener"] and out["production_before_hook"]
    assert out["invocations"] == [["arn:aws:lambda:us-east-1:123456789012:function:guard", True]]
    assert out["waiting"] == "InProgress" and out["still_waiting"] == "InProgress"
    assert out["second_report"] == "LifecycleEventAlreadyCompletedException"
    assert out["made_up_id"] == "InvalidLifecycleEventHookExecutionIdException"
    assert out["production_after"] and out["primary"] == [True]
    assert out["final"] == "Succeeded"
    assert out["service_td"]
    assert out["sets_after"] == [["PRIMARY", True]]
    assert set(out["lifecycle"].values()) == {"Succeeded"}
    assert list(out["lifecycle"]) == [
        "BeforeInstall",
        "Install",
        "AfterInstall",
        "AllowTestTraffic",
        "AfterAllowTestTraffic",
        "BeforeAllowTraffic",
        "AllowTraffic",
        "AfterAllowTraffic",
    ]
    assert out["wait_started"] is True
    assert out["events"] == [
        [True, "START", "CodeDeploy Deployment State-change Notification"],
        [True, "SUCCESS", "CodeDeploy Deployment State-change Notification"],
    ]
    assert out["target"] == {"id": True, "status": "Succeeded", "labels": ["Green"]}


def test_a_failed_hook_rolls_back_before_production_moves(result: Result) -> None:
    out = result("failed_hook")
    assert out["hook"] == "InProgress"
    assert out["status"] == "Failed" and out["error"] == "HOOK_EXECUTION_FAILURE"
    assert out["rollback"] == ["Succeeded", "codeDeployRollback", True]
    assert out["production"] and out["test"]
    assert out["sets"] == [["PRIMARY", True]] and out["service_td"]
    lifecycle = out["lifecycle"]
    assert lifecycle["Install"] == "Succeeded"
    assert lifecycle["AfterAllowTestTraffic"] == "Failed"
    assert lifecycle["AllowTraffic"] == "Skipped" and lifecycle["AfterAllowTraffic"] == "Skipped"
    # START and FAILURE of the deployment, START and SUCCESS of its rollback
    assert out["events"] == [
        [True, "START"],
        [True, "FAILURE"],
        [False, "START"],
        [False, "SUCCESS"],
    ]
    assert out["still"] == "Failed"


def test_an_alarm_after_the_shift_stops_and_rolls_back(result: Result) -> None:
    out = result("alarm_after_shift")
    assert out["moved"] and out["service_moved"]
    assert out["status"] == ["Stopped", "ALARM_ACTIVE", True]
    assert out["production"] and out["service_td"]
    assert out["sets"] == [["PRIMARY", True]]
    assert out["rollback"] == "Succeeded"
    assert out["events"] == ["START", "STOP", "START", "SUCCESS"]


def test_a_canary_shifts_ten_percent_then_the_rest_after_the_interval(result: Result) -> None:
    out = result("canary")
    assert out["canary"] and out["before_interval"] and out["after_interval"]
    assert sorted(map(tuple, out["weight"])) == [("Blue", 90.0), ("Green", 10.0)]
    assert out["status"] == "Succeeded"


def test_linear_steps() -> None:
    from deployer.emulator.engines.codedeploy import shift_steps
    from deployer.emulator.patches.codedeploy_deployment_configs import traffic_routing

    linear = traffic_routing(
        "123456789012", "us-east-1", "CodeDeployDefault.ECSLinear10PercentEvery3Minutes"
    )
    assert linear is not None
    steps = shift_steps(linear)
    assert [p for p, _ in steps] == [10, 20, 30, 40, 50, 60, 70, 80, 90, 100]
    assert {w for _, w in steps[:-1]} == {180.0}
    assert shift_steps({"type": "AllAtOnce"}) == [(100.0, 0.0)]


def test_a_hook_that_never_reports_fails_after_an_hour(result: Result) -> None:
    out = result("hook_never_reports")
    assert out["before"] == "InProgress"
    assert out["after"] == ["Failed", "HOOK_EXECUTION_FAILURE"]
    assert out["production"] and out["rolled_back"]


def test_a_green_never_checked_healthy_times_out_and_is_removed(result: Result) -> None:
    out = result("green_never_checked")
    assert out["green_targets"] == 2  # the green task set's, recorded as being checked
    assert out["waiting"] == ["InProgress", "InProgress"]
    assert out["final"][:2] == ["Failed", "TIMEOUT"]
    assert "60 minutes" in out["final"][2]
    assert out["sets"] == 1 and out["production"]


@pytest.mark.parametrize("roll_back", [True, False])
def test_stop_deployment(roll_back: bool, result: Result) -> None:
    out = result("stop_with_rollback" if roll_back else "stop_without_rollback")
    assert out["answer"] == "Pending"
    assert out["final"] == ["Stopped", "MANUAL_STOP"]
    if roll_back:
        assert out["sets"] == [["PRIMARY", False]]
        assert out["rollback"]
        assert out["events"] == ["START", "STOP", "START", "SUCCESS"]
    else:
        # AWS leaves the components as they are: green stays, nothing rolls back
        assert out["sets"] == [["ACTIVE", True], ["PRIMARY", False]]
        assert not out["rollback"]
        assert out["events"] == ["START", "STOP"]
        assert out["sets_later"] == 2


@pytest.mark.parametrize("continued", [True, False])
def test_the_termination_wait_keeps_blue_until_continued_or_over(
    continued: bool, result: Result
) -> None:
    out = result("termination_wait_continued" if continued else "termination_wait_elapsed")
    # traffic on green, blue kept for the group's 60 minutes
    assert out["waiting"] == ["InProgress", True]
    assert out["production"]
    assert out["sets"] == [["ACTIVE", False], ["PRIMARY", True]]
    assert out["ready_wait"] == "DeploymentIsNotInReadyStateException"
    if not continued:
        assert out["before_the_hour"] == "InProgress"
    assert out["final"] == "Succeeded"
    assert out["sets_after"] == [["PRIMARY", True]]
    assert out["events"] == ["START", "SUCCESS"]
    assert out["after_end"] == "DeploymentAlreadyCompletedException"


def test_a_revision_that_cannot_be_deployed_fails_at_once(result: Result) -> None:
    out = result("invalid_revision")
    assert out["final"] == ["Failed", "INVALID_REVISION"]
    assert out["sets"] == 1


def test_a_service_role_without_create_task_set_fails_the_install(result: Result) -> None:
    out = result("role_without_create_task_set")
    session = f"arn:aws:sts::123456789012:assumed-role/{out['role'].rsplit('/', 1)[-1]}"
    assert out["final"] == [
        "Failed",
        {
            "code": "IAM_ROLE_PERMISSIONS",
            "message": f"The IAM role {out['role']} does not give you permission to perform "
            "operations in the following AWS service: AmazonECS. "
            f"User: {session}/{out['deployment']} is not authorized to perform: "
            "ecs:CreateTaskSet on resource: * because no identity-based policy allows the "
            "ecs:CreateTaskSet action",
        },
    ]
    assert out["sets"] == [["PRIMARY", False]]  # no green task set, blue untouched
    assert out["lifecycle"]["Install"] == "Failed"
    assert out["lifecycle"]["AllowTraffic"] == "Skipped"


def test_a_service_role_that_may_not_invoke_the_hook_fails_before_traffic(
    result: Result,
) -> None:
    out = result("role_without_invoke")
    status, error = out["final"]
    assert (status, error["code"]) == ("Failed", "IAM_ROLE_PERMISSIONS")
    assert "following AWS service: AWS Lambda." in error["message"]
    assert error["message"].endswith(
        "lambda:InvokeFunction on resource: arn:aws:lambda:us-east-1:123456789012:function:"
        "guard because no identity-based policy allows the lambda:InvokeFunction action"
    )
    assert out["invocations"] == []
    assert out["production"] is True  # production still on blue
