"""deployer.pipeline_runs: an execution read, followed and approved, against a stub
CodePipeline.

The stub answers from the executions a test lays out, in the API's shapes (the delivery
stack's pipeline: Source, Build per service, Production with its approval), and checks
every request against botocore's model of CodePipeline, so a parameter AWS would refuse
fails the test.
"""

from __future__ import annotations

import copy
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import botocore.session
import pytest
from botocore.exceptions import ClientError
from botocore.validate import validate_parameters

from deployer import pipeline_runs
from deployer.errors import EXIT_USAGE, UsageError
from deployer.pipeline_runs import APPROVAL, FINISHED, PipelineRunError, Runs

ROOT = Path(__file__).resolve().parents[2]
PIPELINE = "acme-shop-delivery-pipeline"
FIRST = "11111111-1111-4111-8111-111111111111"
SECOND = "22222222-2222-4222-8222-222222222222"
UNKNOWN = "99999999-9999-4999-8999-999999999999"
COMMIT = "a" * 40
NEWER = "b" * 40
TOKEN = "0f0e0d0c-0b0a-4909-8807-060504030201"
T0 = datetime(2026, 12, 1, 14, 0, 0, tzinfo=UTC)
_MODEL = botocore.session.get_session().get_service_model("codepipeline")


def kind(category: str, provider: str) -> dict[str, str]:
    return {"category": category, "owner": "AWS", "provider": provider, "version": "1"}


#: modules/pipeline/main.tf's shape, two services, one production target.
STAGES = [
    {
        "name": "Source",
        "actions": [{"name": "Source", "actionTypeId": kind("Source", "CodeCommit")}],
    },
    {
        "name": "Build",
        "actions": [
            {"name": "api-service", "actionTypeId": kind("Build", "CodeBuild")},
            {"name": "auth-service", "actionTypeId": kind("Build", "CodeBuild")},
        ],
    },
    {
        "name": "Production",
        "actions": [
            {"name": "Approve", "actionTypeId": kind("Approval", "Manual")},
            {"name": "api-service-prod", "actionTypeId": kind("Deploy", "CodeDeployToECS")},
        ],
    },
]


def detail(
    execution: str,
    stage: str,
    action: str,
    status: str,
    minute: int,
    *,
    summary: str | None = None,
    variables: dict[str, str] | None = None,
    url: str | None = None,
    error: dict[str, str] | None = None,
    configuration: dict[str, str] | None = None,
) -> dict[str, Any]:
    declared = next(a for s in STAGES if s["name"] == stage for a in s["actions"])
    result: dict[str, Any] = {}
    if summary:
        result["externalExecutionSummary"] = summary
    if url:
        result["externalExecutionUrl"] = url
        result["externalExecutionId"] = url.rsplit("/", 1)[-1]
    if error:
        result["errorDetails"] = error
    return {
        "pipelineExecutionId": execution,
        "actionExecutionId": f"{execution[:8]}-{stage}-{action}",
        "pipelineVersion": 1,
        "stageName": stage,
        "actionName": action,
        "startTime": T0 + timedelta(minutes=minute),
        "lastUpdateTime": T0 + timedelta(minutes=minute, seconds=30),
        "status": status,
        "input": {
            "actionTypeId": declared["actionTypeId"],
            "configuration": dict(configuration or {}),
            "resolvedConfiguration": dict(configuration or {}),
        },
        "output": {"executionResult": result, "outputVariables": dict(variables or {})},
    }


class FakeCodePipeline:
    """CodePipeline's read and approval calls over the executions a test sets."""

    def __init__(self) -> None:
        self.executions: dict[str, dict[str, Any]] = {}  # id -> GetPipelineExecution's
        self.summaries: list[dict[str, Any]] = []  # newest first
        self.details: dict[str, list[dict[str, Any]]] = {}
        self.state: dict[str, Any] = {"pipelineName": PIPELINE, "stageStates": []}
        self.calls: list[tuple[str, dict[str, Any]]] = []
        self.approvals: list[dict[str, Any]] = []
        self.exists = True

    # -- set-up ------------------------------------------------------------------------------
    def add(self, execution: str, status: str, commit: str | None, *details: dict[str, Any],
            summary: str | None = None) -> None:  # fmt: skip
        found: dict[str, Any] = {
            "pipelineName": PIPELINE,
            "pipelineVersion": 1,
            "pipelineExecutionId": execution,
            "status": status,
            "trigger": {"triggerType": "CloudWatchEvent", "triggerDetail": "arn:rule/trigger"},
            "artifactRevisions": [],
        }
        if summary:
            found["statusSummary"] = summary
        if commit:
            found["artifactRevisions"] = [
                {"name": "SourceOutput", "revisionId": commit, "revisionSummary": "the sample"}
            ]
        self.executions[execution] = found
        self.summaries.insert(
            0,
            {
                "pipelineExecutionId": execution,
                "status": status,
                "startTime": T0,
                "sourceRevisions": [{"actionName": "Source", "revisionId": commit}]
                if commit
                else [],
            },
        )
        self.details[execution] = list(details)

    def stage_state(self, name: str, **entry: Any) -> None:
        stages = [s for s in self.state["stageStates"] if s["stageName"] != name]
        stages.append({"stageName": name, **entry})
        order = [s["name"] for s in STAGES]
        self.state["stageStates"] = sorted(stages, key=lambda s: order.index(s["stageName"]))

    # -- the API -------------------------------------------------------------------------------
    def _call(self, operation: str, params: dict[str, Any]) -> None:
        validate_parameters(params, _MODEL.operation_model(operation).input_shape)
        self.calls.append((operation, copy.deepcopy(params)))
        if not self.exists:
            raise _error("PipelineNotFoundException", f"no pipeline {PIPELINE}")

    def list_pipeline_executions(self, **params: Any) -> dict[str, Any]:
        self._call("ListPipelineExecutions", params)
        found = copy.deepcopy(self.summaries)
        return {"pipelineExecutionSummaries": found[: params.get("maxResults") or len(found)]}

    def get_pipeline_execution(self, **params: Any) -> dict[str, Any]:
        self._call("GetPipelineExecution", params)
        found = self.executions.get(params["pipelineExecutionId"])
        if found is None:
            raise _not_found(params["pipelineExecutionId"])
        return {"pipelineExecution": copy.deepcopy(found)}

    def list_action_executions(self, **params: Any) -> dict[str, Any]:
        self._call("ListActionExecutions", params)
        wanted = params["filter"]["pipelineExecutionId"]
        if wanted not in self.details:
            raise _not_found(wanted)
        return {"actionExecutionDetails": copy.deepcopy(self.details[wanted])}

    def get_pipeline_state(self, **params: Any) -> dict[str, Any]:
        self._call("GetPipelineState", params)
        return copy.deepcopy(self.state)

    def get_pipeline(self, **params: Any) -> dict[str, Any]:
        self._call("GetPipeline", params)
        return {"pipeline": {"name": PIPELINE, "version": 1, "stages": copy.deepcopy(STAGES)}}

    def put_approval_result(self, **params: Any) -> dict[str, Any]:
        self._call("PutApprovalResult", params)
        self.approvals.append(params)
        return {"approvedAt": T0 + timedelta(hours=1)}


def _error(code: str, message: str) -> ClientError:
    return ClientError({"Error": {"Code": code, "Message": message}}, "Call")


def _not_found(execution: str) -> ClientError:
    return _error(
        "PipelineExecutionNotFoundException",
        f"Account '111111111111' does not have an execution with id '{execution}'",
    )


def runs_of(fake: FakeCodePipeline, sleeps: list[float] | None = None) -> Runs:
    slept = sleeps if sleeps is not None else []
    clock = [0.0]

    def sleep(seconds: float) -> None:
        slept.append(seconds)
        clock[0] += seconds

    return Runs(fake, PIPELINE, poll_seconds=2.0, clock=lambda: clock[0], sleep=sleep)


def waiting_for_approval(fake: FakeCodePipeline, execution: str = FIRST) -> None:
    """An execution built both services and waits at Production/Approve."""
    fake.add(
        execution,
        "InProgress",
        COMMIT,
        detail(execution, "Source", "Source", "Succeeded", 0, summary="the sample"),
        detail(
            execution,
            "Build",
            "api-service",
            "Succeeded",
            1,
            variables={"DEPLOYMENT_ID": "20261201T140100Z-aaaaaaa"},
            url="https://console.aws.amazon.com/codebuild/home#/builds/api:1",
        ),
        detail(
            execution,
            "Build",
            "auth-service",
            "Succeeded",
            1,
            variables={"DEPLOYMENT_ID": "20261201T140100Z-bbbbbbb"},
        ),
        detail(
            execution,
            "Production",
            "Approve",
            "InProgress",
            5,
            configuration={"CustomData": f"Commit {COMMIT} passed staging."},
        ),
    )
    fake.stage_state("Source", latestExecution={"pipelineExecutionId": execution,
                                                "status": "Succeeded"})  # fmt: skip
    fake.stage_state("Build", latestExecution={"pipelineExecutionId": execution,
                                               "status": "Succeeded"})  # fmt: skip
    fake.stage_state(
        "Production",
        latestExecution={"pipelineExecutionId": execution, "status": "InProgress"},
        actionStates=[
            {
                "actionName": "Approve",
                "latestExecution": {
                    "actionExecutionId": f"{execution[:8]}-Production-Approve",
                    "status": "InProgress",
                    "token": TOKEN,
                    "lastStatusChange": T0 + timedelta(minutes=5),
                },
            },
            {"actionName": "api-service-prod"},
        ],
    )


# ---------------------------------------------------------------------------
# Reading an execution
# ---------------------------------------------------------------------------
def test_status_names_the_commit_each_action_the_deployment_ids_and_the_approval() -> None:
    fake = FakeCodePipeline()
    waiting_for_approval(fake)
    view = runs_of(fake).view(FIRST)
    assert [(s.name, s.status) for s in view.stages] == [
        ("Source", "Succeeded"), ("Build", "Succeeded"), ("Production", "InProgress"),
    ]  # fmt: skip
    assert view.deployments == {
        "api-service": "20261201T140100Z-aaaaaaa",
        "auth-service": "20261201T140100Z-bbbbbbb",
    }
    text = view.to_text()
    assert f"{PIPELINE} execution {FIRST}: InProgress" in text
    assert f"commit:       {COMMIT}  the sample" in text
    assert "trigger:      CloudWatchEvent (arn:rule/trigger)" in text
    assert "  api-service       Succeeded   2026-12-01T14:01:30Z" in text
    assert "  api-service-prod  -" in text  # not reached
    assert (
        "  Build/api-service  https://console.aws.amazon.com/codebuild/home#/builds/api:1" in text
    )
    assert "  auth-service  20261201T140100Z-bbbbbbb" in text
    assert (
        "waiting for approval at Production/Approve since 2026-12-01T14:05:00Z: "
        f"Commit {COMMIT} passed staging."
    ) in text
    assert "deployer approve" in text and "deployer reject" in text
    document = view.to_json()
    assert document["commit"] == {"id": COMMIT, "message": "the sample", "url": None}
    assert document["approval"]["stage"] == "Production" and document["failure"] is None
    assert document["stages"][1]["actions"][0]["variables"] == {
        "DEPLOYMENT_ID": "20261201T140100Z-aaaaaaa"
    }
    # Every read asked for this execution's actions only.
    assert ("ListActionExecutions", {"pipelineName": PIPELINE,
            "filter": {"pipelineExecutionId": FIRST}}) in fake.calls  # fmt: skip


def test_a_failed_build_is_named_with_its_summary() -> None:
    fake = FakeCodePipeline()
    fake.add(
        FIRST,
        "Failed",
        COMMIT,
        detail(FIRST, "Source", "Source", "Succeeded", 0),
        detail(FIRST, "Build", "api-service", "Succeeded", 1, variables={"DEPLOYMENT_ID": "d1"}),
        detail(
            FIRST,
            "Build",
            "auth-service",
            "Failed",
            1,
            summary="Build terminated with state: FAILED",
            error={"code": "JobFailed", "message": "Build terminated with state: FAILED"},
        ),
        summary="Action auth-service failed",
    )
    view = runs_of(fake).view(FIRST)
    assert [(s.name, s.status) for s in view.stages] == [
        ("Source", "Succeeded"), ("Build", "Failed"), ("Production", ""),
    ]  # fmt: skip
    assert view.why() == "Build/auth-service failed: Build terminated with state: FAILED"
    assert view.to_json()["failure"] == view.why()
    assert view.to_text().endswith(
        "Failed: Build/auth-service failed: Build terminated with state: FAILED"
    )


def test_a_superseded_execution_says_what_took_its_place() -> None:
    fake = FakeCodePipeline()
    fake.add(FIRST, "Superseded", COMMIT, detail(FIRST, "Source", "Source", "Succeeded", 0))
    view = runs_of(fake).view(FIRST)
    assert view.to_text().endswith(f"Superseded: {pipeline_runs.SUPERSEDED}")
    assert view.to_json()["failure"] is None


def test_an_execution_held_before_a_stage_says_why() -> None:
    fake = FakeCodePipeline()
    fake.add(FIRST, "InProgress", COMMIT, detail(FIRST, "Source", "Source", "Succeeded", 0))
    fake.stage_state(
        "Build",
        inboundExecution={"pipelineExecutionId": FIRST, "status": "InProgress"},
        inboundTransitionState={"enabled": False, "disabledReason": "held for the drill"},
    )
    view = runs_of(fake).view(FIRST)
    assert view.stages[1].status == "Waiting"
    assert view.position == "waiting to enter Build (transition disabled: held for the drill)"


def test_a_connection_sources_json_summary_reads_as_its_commit_message() -> None:
    summary = '{"ProviderType":"GitHub","CommitMessage":"fix the cart"}'
    assert pipeline_runs.commit_message(summary) == "fix the cart"
    assert pipeline_runs.commit_message("plain message") == "plain message"


def test_an_unknown_execution_is_a_usage_error_and_a_missing_pipeline_names_the_apply() -> None:
    fake = FakeCodePipeline()
    with pytest.raises(UsageError) as unknown:
        runs_of(fake).view(UNKNOWN)
    assert unknown.value.exit_code == EXIT_USAGE
    assert str(unknown.value).startswith(f"no execution {UNKNOWN} of {PIPELINE}: read execution")
    assert "PipelineExecutionNotFoundException" in str(unknown.value)
    fake.exists = False
    with pytest.raises(PipelineRunError) as missing:
        runs_of(fake).latest()
    assert missing.value.hint == "apply the delivery stack first: deployer apply delivery"
    with pytest.raises(UsageError, match="has no execution yet"):
        runs_of(FakeCodePipeline()).latest()


# ---------------------------------------------------------------------------
# The execution a release started, and following it
# ---------------------------------------------------------------------------
def test_the_release_waits_until_its_execution_reads_the_commit() -> None:
    fake = FakeCodePipeline()
    sleeps: list[float] = []
    runs = runs_of(fake, sleeps)
    fake.add(FIRST, "Succeeded", COMMIT)
    said: list[str] = []
    calls = 0

    def list_then_appear(**params: Any) -> dict[str, Any]:
        nonlocal calls
        calls += 1
        if calls == 3:  # the push's execution appears, then reads its source
            fake.add(SECOND, "InProgress", None)
        if calls == 4:
            fake.summaries[0]["sourceRevisions"] = [{"actionName": "Source", "revisionId": NEWER}]
        return FakeCodePipeline.list_pipeline_executions(fake, **params)

    fake.list_pipeline_executions = list_then_appear  # type: ignore[method-assign]
    assert runs.started_by(NEWER, before={FIRST}, say=said.append) == SECOND
    assert sleeps == [2.0, 2.0, 2.0]
    assert said == [f"pipeline: waiting for the execution of {NEWER} to read its source"]


def test_no_execution_within_the_bound_and_nothing_new_returns_at_once() -> None:
    fake = FakeCodePipeline()
    fake.add(FIRST, "Succeeded", COMMIT)
    sleeps: list[float] = []
    assert runs_of(fake, sleeps).started_by(NEWER, before={FIRST}, timeout=10) is None
    assert sum(sleeps) == 10.0  # polled until the bound
    sleeps.clear()
    assert runs_of(fake, sleeps).started_by(NEWER, before=None) is None
    assert sleeps == []  # nothing was committed and nothing is reading a source: no wait
    assert runs_of(fake).started_by(COMMIT, before=None) == FIRST


def test_the_pushs_execution_that_failed_before_reading_its_source_is_the_one() -> None:
    fake = FakeCodePipeline()
    fake.add(FIRST, "Succeeded", COMMIT)
    runs = runs_of(fake)
    before = runs.recent()
    fake.add(
        SECOND,
        "Failed",
        None,
        detail(
            SECOND,
            "Source",
            "Source",
            "Failed",
            0,
            summary="User: arn:aws:sts::111111111111:assumed-role/source/x is not authorized "
            "to perform: codecommit:GetBranch",
        ),
        summary="Action Source failed",
    )
    assert runs.started_by(NEWER, before=before) == SECOND
    view = runs.view(SECOND)
    assert view.why() == (
        "Source/Source failed: User: arn:aws:sts::111111111111:assumed-role/source/x is not "
        "authorized to perform: codecommit:GetBranch"
    )


def test_following_prints_each_change_and_stops_when_the_approval_waits() -> None:
    fake = FakeCodePipeline()
    fake.add(FIRST, "InProgress", COMMIT, detail(FIRST, "Source", "Source", "InProgress", 0))
    fake.stage_state(
        "Source", latestExecution={"pipelineExecutionId": FIRST, "status": "InProgress"}
    )
    steps = iter([lambda: waiting_for_approval(fake)])

    def sleep(_seconds: float) -> None:
        next(steps)()

    runs = Runs(fake, PIPELINE, poll_seconds=1.0, clock=lambda: 0.0, sleep=sleep)
    lines: list[str] = []
    followed = runs.follow(FIRST, lines.append, stamp=lambda: "T")
    assert followed.ending == APPROVAL and followed.ok
    assert lines == [
        f"T  execution {FIRST}: InProgress",
        "T  Source: InProgress",
        "T  Source/Source: InProgress",
        "T  Source: Succeeded",
        "T  Source/Source: Succeeded - the sample",
        "T  Build: Succeeded",
        "T  Build/api-service: Succeeded (DEPLOYMENT_ID 20261201T140100Z-aaaaaaa)",
        "T  Build/auth-service: Succeeded (DEPLOYMENT_ID 20261201T140100Z-bbbbbbb)",
        "T  Production: InProgress",
        "T  Production/Approve: InProgress - waiting for approval",
    ]


def test_following_past_an_answered_approval_to_the_end() -> None:
    fake = FakeCodePipeline()
    waiting_for_approval(fake)
    answered = f"{FIRST[:8]}-Production-Approve"

    def approve_then_fail(_seconds: float) -> None:
        fake.executions[FIRST].update(status="Failed", statusSummary="Action Approve failed")
        fake.details[FIRST][-1].update(status="Failed")
        fake.state["stageStates"][-1]["latestExecution"]["status"] = "Failed"
        fake.details[FIRST][-1]["output"]["executionResult"] = {
            "externalExecutionSummary": "not today"
        }

    runs = Runs(fake, PIPELINE, poll_seconds=1.0, clock=lambda: 0.0, sleep=approve_then_fail)
    lines: list[str] = []
    shown = runs.view(FIRST)  # what `deployer reject` printed already
    followed = runs.follow(FIRST, lines.append, answered=[answered], seen_as=shown,
                           stamp=lambda: "T")  # fmt: skip
    assert followed.ending == FINISHED and not followed.ok
    assert lines == [
        "T  Production: Failed",
        "T  Production/Approve: Failed - not today",
        f"T  execution {FIRST}: Failed",
    ]
    assert followed.view.why() == "Production/Approve failed: not today"


# ---------------------------------------------------------------------------
# Approving and rejecting
# ---------------------------------------------------------------------------
def test_approve_answers_the_waiting_approval_with_its_token() -> None:
    fake = FakeCodePipeline()
    waiting_for_approval(fake)
    decision = runs_of(fake).decide(None, "Approved", "checked staging")
    assert fake.approvals == [
        {
            "pipelineName": PIPELINE,
            "stageName": "Production",
            "actionName": "Approve",
            "result": {"status": "Approved", "summary": "checked staging"},
            "token": TOKEN,
        }
    ]
    text = decision.to_text()
    assert text.startswith(
        f"approved Production/Approve of {PIPELINE} execution {FIRST} (checked staging)"
    )
    assert f"commit:  {COMMIT}  the sample" in text
    assert "api-service  20261201T140100Z-aaaaaaa" in text
    assert decision.to_json()["deployments"]["auth-service"] == "20261201T140100Z-bbbbbbb"
    assert decision.to_json()["answered_at"] == "2026-12-01T15:00:00Z"


def test_reject_without_a_comment_says_who_rejected_it() -> None:
    fake = FakeCodePipeline()
    waiting_for_approval(fake)
    decision = runs_of(fake).decide(FIRST, "Rejected", None)
    assert fake.approvals[0]["result"] == {
        "status": "Rejected",
        "summary": "rejected with deployer reject",
    }
    assert "nothing after it runs" in decision.to_text()


def test_nothing_waiting_is_refused_naming_the_latest_execution() -> None:
    fake = FakeCodePipeline()
    fake.add(FIRST, "Succeeded", COMMIT, detail(FIRST, "Source", "Source", "Succeeded", 0))
    with pytest.raises(UsageError) as refused:
        runs_of(fake).decide(None, "Approved", None)
    assert refused.value.message == (
        f"nothing waits for approval in {PIPELINE}: the latest execution, {FIRST}, is Succeeded"
    )
    assert fake.approvals == []


def test_an_execution_that_is_not_the_one_waiting_is_refused_naming_the_one() -> None:
    fake = FakeCodePipeline()
    fake.add(FIRST, "Succeeded", COMMIT, detail(FIRST, "Source", "Source", "Succeeded", 0))
    waiting_for_approval(fake, SECOND)
    with pytest.raises(UsageError) as refused:
        runs_of(fake).decide(FIRST, "Approved", None)
    assert refused.value.message == (
        f"execution {FIRST} of {PIPELINE} does not wait for approval: it is Succeeded"
    )
    assert refused.value.hint == (
        f"execution {SECOND} waits at Production/Approve: name it with --execution {SECOND}"
    )
    with pytest.raises(UsageError, match=f"no execution {UNKNOWN}"):
        runs_of(fake).decide(UNKNOWN, "Rejected", "no")
    assert fake.approvals == []


def test_an_approval_answered_meanwhile_and_a_long_comment_change_nothing() -> None:
    fake = FakeCodePipeline()
    waiting_for_approval(fake)

    def already(**params: Any) -> dict[str, Any]:
        raise _error("ApprovalAlreadyCompletedException", "The approval action Approve has "
                     "already been completed")  # fmt: skip

    fake.put_approval_result = already  # type: ignore[method-assign]
    with pytest.raises(UsageError, match="was answered meanwhile"):
        runs_of(fake).decide(None, "Approved", None)
    calls = len(fake.calls)
    with pytest.raises(UsageError, match="CodePipeline takes at most 512"):
        runs_of(fake).decide(None, "Rejected", "x" * 513)
    assert len(fake.calls) == calls  # refused before any call
