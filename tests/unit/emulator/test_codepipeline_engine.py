"""The codepipeline engine: executions run, supersede, stop, wait and fail as on AWS.

The scenarios are in ``_codepipeline_scenarios.py`` (what each builds and does, and how):
one separate interpreter (the patches must not leak into this one's moto) runs them all,
each on fresh moto backends, once per test session, also under xdist (the first worker
to need them runs them, the others read its results); each test here asserts on what
its scenario observed. A scenario that raised fails its test with the traceback.
"""

from __future__ import annotations

from tests.unit.emulator._scenario_runner import Result, fixtures

scenarios, result = fixtures("tests.unit.emulator._codepipeline_scenarios", "codepipeline")


def test_a_multi_stage_execution_runs_to_succeeded(result: Result) -> None:
    out = result("succeeded")
    assert out["started"] == "InProgress"
    # Source ends in the first round, both services build at once, the check after both
    assert out["after_round_1"] == {
        "Source": "Succeeded",
        "Build": "InProgress",
        "Production": None,
    }
    assert out["running_together"] == ["acme-api", "acme-web"]
    assert out["check_before_web"] == ["acme-web"]
    assert out["check_running"] == ["acme-check"]
    assert out["waiting_approval"] == ["InProgress", "InProgress"]
    assert out["final"] == "Succeeded"
    assert out["listed"] == ["Succeeded"]
    assert out["stage_states"] == {
        "Source": ["Succeeded", ["Succeeded"]],
        "Build": ["Succeeded", ["Succeeded", "Succeeded", "Succeeded"]],
        "Production": ["Succeeded", ["Succeeded"]],
    }
    assert out["get"]["executionMode"] == "SUPERSEDED"
    assert out["get"]["trigger"]["triggerType"] == "StartPipelineExecution"
    assert [r["revisionId"] for r in out["get"]["artifactRevisions"]] == [out["commit"]]


def test_source_action_outputs_the_branch_tip_and_its_variables(result: Result) -> None:
    out = result("succeeded")
    source = out["actions"]["Source"]
    variables = source["output"]["outputVariables"]
    assert variables["CommitId"] == out["commit"]
    assert variables["CommitMessage"] == "services: v2"
    assert variables["BranchName"] == "main"
    assert variables["RepositoryName"] == "acme-monorepo"
    assert variables["AuthorDate"].endswith("Z") and variables["CommitterDate"].endswith("Z")
    assert out["source_zip"] == {"bin/build.sh": 0o755, "services/api/VERSION": 0o644}
    location = source["output"]["outputArtifacts"][0]["s3location"]
    assert location["bucket"] == "delivery-artifacts"
    pipeline, artifact, random_id = location["key"].split("/")
    assert (pipeline, artifact, len(random_id)) == ("acme-delivery-pipeli", "SourceOutp", 7)
    assert location["key"] in out["objects"]


def test_build_actions_start_builds_on_the_artifacts_and_pass_variables(result: Result) -> None:
    out = result("succeeded")
    builds = {b["project"]: b for b in out["builds"]}
    source_key = out["actions"]["Source"]["output"]["outputArtifacts"][0]["s3location"]["key"]
    for project in ("acme-api", "acme-web", "acme-check"):
        assert builds[project]["type"] == "CODEPIPELINE"
        assert builds[project]["source"] == ["bin/build.sh", "services/api/VERSION"]
        assert builds[project]["sourceVersion"] == out["commit"]
        assert builds[project]["initiator"] == "codepipeline/acme-delivery-pipeline"
    api = out["actions"]["api-service"]
    assert api["input"]["inputArtifacts"][0]["s3location"]["key"] == source_key
    output_key = api["output"]["outputArtifacts"][0]["s3location"]["key"]
    assert builds["acme-api"]["artifacts"] == f"arn:aws:s3:::delivery-artifacts/{output_key}"
    assert output_key in out["objects"]
    assert api["output"]["outputVariables"] == {"DEPLOYMENT_ID": "d-API123"}
    assert api["output"]["executionResult"]["externalExecutionId"].startswith("acme-api:")
    # a later action's configuration, resolved from the build's namespace and the execution
    assert builds["acme-check"]["env"] == {"DEPLOYMENT": "d-API123", "EXECUTION": out["execution"]}
    check = out["actions"]["check"]["input"]
    assert "#{Build_api_service.DEPLOYMENT_ID}" in check["configuration"]["EnvironmentVariables"]
    assert "d-API123" in check["resolvedConfiguration"]["EnvironmentVariables"]


def test_manual_approval_publishes_and_waits_for_its_token(result: Result) -> None:
    out = result("succeeded")
    [message] = out["messages"]
    approval = message["approval"]
    assert message["region"] == "us-east-1"
    assert approval["token"] == out["token"]
    assert approval["customData"] == f"Commit {out['commit']} deploys d-API123."
    assert approval["externalEntityLink"] == f"https://console/executions/{out['execution']}"
    assert approval["approvalReviewLink"].endswith(f"/Production/Approve/approve/{out['token']}")
    assert approval["expires"] == "2026-12-08T00:00Z"  # seven days after it started
    assert "approvedAt" in out["approved"]
    assert out["twice"][0] == "ApprovalAlreadyCompletedException"
    assert (
        out["actions"]["Approve"]["output"]["executionResult"]["externalExecutionSummary"] == "ok"
    )


def test_a_failed_build_fails_its_stage_and_the_execution(result: Result) -> None:
    out = result("build_failed")
    assert out["while_web_runs"] == ["InProgress", "InProgress"]
    assert out["final"] == [
        "Failed",
        "Action api-service failed: Build terminated with state: FAILED",
    ]
    assert out["actions"] == {
        "Source": "Succeeded",
        "api-service": "Failed",
        "web-service": "Succeeded",
    }
    assert out["api_result"]["errorDetails"]["message"] == "Build terminated with state: FAILED"
    assert out["stages"] == {"Source": "Succeeded", "Build": "Failed", "Production": None}
    assert out["checked"] == []
    assert out["stop_failed"][0] == "PipelineExecutionNotStoppableException"


def test_a_newer_execution_supersedes_one_waiting_for_the_same_stage(result: Result) -> None:
    out = result("superseded")
    ids = out["ids"]
    assert out["second_waiting"] == [
        "InProgress",
        {"pipelineExecutionId": ids["second"], "status": "InProgress"},
    ]
    assert out["after_third"] == ["InProgress", "Superseded", "InProgress"]
    assert out["inbound"] is True
    assert out["builds_of"] == [ids["first"]]  # the stage stays the first's until it ends
    assert out["builds_then"] == [ids["third"]]
    assert out["first_then"] == [
        "InProgress",
        {"pipelineExecutionId": ids["first"], "status": "InProgress"},
    ]
    assert out["listed"] == [
        [ids["third"], "InProgress"],
        [ids["second"], "Superseded"],
        [ids["first"], "InProgress"],
    ]
    assert out["stop_superseded"][0] == "PipelineExecutionNotStoppableException"


def test_stop_and_wait_lets_actions_in_progress_end(result: Result) -> None:
    out = result("stop_and_wait")
    assert out["stop"] is True
    assert out["stopping"] == ["Stopping", "Stopping"]
    assert out["again"][0] == "DuplicatedStopRequestException"
    assert out["still_stopping"] == "Stopping"
    assert out["final"] == "Stopped"
    assert out["actions"] == {
        "Source": "Succeeded",
        "api-service": "Succeeded",
        "web-service": "Succeeded",
    }
    assert out["build_stage"] == "Stopped"
    assert out["summary"] == {"reason": "hold on"}


def test_stop_and_abandon_stops_at_once(result: Result) -> None:
    out = result("abandon")
    assert out["at_once"] == "Stopped"
    assert out["actions"] == {
        "Source": "Succeeded",
        "api-service": "Abandoned",
        "web-service": "Abandoned",
    }
    assert out["after"] == ["Stopped", out["actions"]]
    assert out["build_stage"] == "Stopped"
    assert out["again"][0] == "PipelineExecutionNotStoppableException"


def test_an_execution_waits_before_a_disabled_transition(result: Result) -> None:
    out = result("disabled_transition")
    # InProgress, inbound to Build, the transition disabled with its reason, no build
    assert out["waiting"] == ["InProgress", True, False, "freeze", False, 0]
    assert out["unknown_stage"][0] == "StageNotFoundException"
    assert out["entered"] == ["InProgress", ["acme-api", "acme-web"]]


def test_a_rejected_approval_fails_the_execution(result: Result) -> None:
    out = result("approval_rejected")
    assert out["wrong_token"][0] == "InvalidApprovalTokenException"
    assert out["final"] == "Failed"
    assert out["action"] == ["Failed", "not this one", False]
    assert out["late"][0] == "ApprovalAlreadyCompletedException"


def test_an_approval_fails_after_seven_days(result: Result) -> None:
    out = result("approval_timed_out")
    assert out["before"] == "InProgress"
    assert out["final"] == "Failed"
    assert out["action"][0] == "Failed"
    assert out["late"][0] == "ApprovalAlreadyCompletedException"


def test_an_unresolvable_variable_fails_its_action_before_it_runs(result: Result) -> None:
    out = result("unresolvable_variable")
    status, execution_result = out["check"]
    assert status == "Failed"
    assert "#{Build_nothing.DEPLOYMENT_ID}" in execution_result["errorDetails"]["message"]
    assert out["final"] == "Failed"
    assert out["check_built"] == []


def test_api_errors_and_an_idle_pipeline(result: Result) -> None:
    out = result("errors")
    assert out["state"][0] == "PipelineNotFoundException"
    assert out["execution"][0] == "PipelineExecutionNotFoundException"
    assert out["actions"][0] == "PipelineNotFoundException"
    assert out["approval_action"][0] == "ActionNotFoundException"
    assert out["idle_state"] == {
        "Source": ["actionStates", "stageName"],
        "Build": ["actionStates", "inboundTransitionState", "stageName"],
        "Production": ["actionStates", "inboundTransitionState", "stageName"],
    }
    assert out["get"] == 2


def test_state_changes_reach_eventbridge(result: Result) -> None:
    out = result("succeeded")
    assert out["states"] == [
        "pipeline STARTED",
        "stage Source STARTED",
        "action Source/Source STARTED",
        "action Source/Source SUCCEEDED",
        "stage Source SUCCEEDED",
        "stage Build STARTED",
        "action Build/api-service STARTED",
        "action Build/web-service STARTED",
        "action Build/api-service SUCCEEDED",
        "action Build/web-service SUCCEEDED",
        "action Build/check STARTED",
        "action Build/check SUCCEEDED",
        "stage Build SUCCEEDED",
        "stage Production STARTED",
        "action Production/Approve STARTED",
        "action Production/Approve SUCCEEDED",
        "stage Production SUCCEEDED",
        "pipeline SUCCEEDED",
    ]
    first = out["first_event"]
    assert first["detail-type"] == "CodePipeline Pipeline Execution State Change"
    assert first["source"] == "aws.codepipeline"
    assert first["resources"] == [
        "arn:aws:codepipeline:us-east-1:123456789012:acme-delivery-pipeline"
    ]
    assert first["detail"]["execution-id"] == out["execution"]
    assert first["detail"]["version"] == 1
    assert first["detail"]["execution-trigger"]["trigger-type"] == "StartPipelineExecution"
    source = out["source_succeeded"]["detail"]
    assert source["type"] == {
        "category": "Source",
        "owner": "AWS",
        "provider": "CodeCommit",
        "version": "1",
    }
    assert source["execution-result"]["external-execution-id"] == out["commit"]
    assert source["output-artifacts"][0]["name"] == "SourceOutput"


def test_failure_stop_and_supersede_events(result: Result) -> None:
    assert result("build_failed")["states"][-4:] == [
        "action Build/api-service FAILED",
        "action Build/web-service SUCCEEDED",
        "stage Build FAILED",
        "pipeline FAILED",
    ]
    assert result("stop_and_wait")["states"] == [
        "pipeline STOPPING",
        "stage Build STOPPING",
        "stage Build STOPPED",
        "pipeline STOPPED",
    ]
    assert result("abandon")["states"] == [
        "pipeline STOPPING",
        "action Build/api-service ABANDONED",
        "action Build/web-service ABANDONED",
        "stage Build STOPPED",
        "pipeline STOPPED",
    ]
    superseded = result("superseded")
    assert superseded["superseded_events"] == [superseded["ids"]["second"]]


def test_s3_source_outputs_the_object_version(result: Result) -> None:
    out = result("s3_source")
    assert out["variables"] == {"ETag": out["etag"], "VersionId": out["version"]}
    assert out["same_zip"] is True
    assert out["revisions"] == [out["version"]]
    assert out["source_version"] == [out["version"]]
    assert out["final"] == "Succeeded"
    assert out["missing"] == ["Failed", "Failed"]


def test_queued_executions_wait_their_turn(result: Result) -> None:
    out = result("queued")
    ids = out["ids"]
    assert out["statuses"] == ["InProgress", "InProgress", "InProgress"]  # none superseded
    assert sorted(out["inbound"]) == sorted([ids["second"], ids["third"]])
    assert out["builds_of"] == [ids["first"]]
    assert out["builds_then"] == [ids["second"]]  # the older one first
    assert out["mode"] == "QUEUED"


def test_parallel_executions_share_the_stages(result: Result) -> None:
    out = result("parallel")
    assert out["statuses"] == ["InProgress", "InProgress"]
    assert out["builds"] == 4  # both services, for each execution
    assert out["builds_of"] == out["ids"]


def test_artifacts_are_sse_kms_with_the_aws_managed_key_by_default(result: Result) -> None:
    # a store without an encryptionKey: CodePipeline uses the account's aws/s3 key
    out = result("succeeded")
    assert out["source_sse"] == ["aws:kms", out["aws_s3_key"]]


def test_the_pipeline_role_without_sns_publish_fails_the_approval(result: Result) -> None:
    out = result("approval_without_publish")
    session = f"arn:aws:sts::123456789012:assumed-role/pipeline/{out['execution']}"
    topic = "arn:aws:sns:us-east-1:123456789012:approvals"
    assert out["approve"] == [
        "Failed",
        {
            "code": "PermissionError",
            "message": f"User: {session} is not authorized to perform: sns:Publish on resource: "
            f"{topic} because no identity-based policy allows the sns:Publish action",
        },
    ]
    assert out["final"] == "Failed"
    assert out["messages"] == []
