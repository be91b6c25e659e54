"""CodePipeline: StartPipelineExecution records an execution the engine runs; the APIs report it.

moto 5.2.5's StartPipelineExecution records an execution that is ``Succeeded`` the
moment it starts: nothing runs, and GetPipelineState, ListActionExecutions,
StopPipelineExecution, Disable/EnableStageTransition and PutApprovalResult are not
implemented at all.

After the CodePipeline API Reference (StartPipelineExecution, GetPipelineExecution,
ListPipelineExecutions, GetPipelineState, ListActionExecutions, StopPipelineExecution,
DisableStageTransition, EnableStageTransition, PutApprovalResult) and the user guide
("How pipeline executions work", "Stopped executions", "Superseded executions"), this
patch makes:

* StartPipelineExecution record the execution ``InProgress`` with a copy of the
  pipeline's definition as it is now (an update does not change a running execution),
  its pipeline-level variables (the request's, else each declared default; a declared
  variable without either is refused with ValidationException), ``executionMode``
  (SUPERSEDED unless the pipeline says otherwise), ``trigger`` (StartPipelineExecution
  and the caller); the engine (``engines/codepipeline.py``) moves it from stage to stage;
  :func:`start_by_event` starts one the same way for an EventBridge rule whose target is
  the pipeline (``patches/events_delivery.py``), ``trigger`` CloudWatchEvent and the
  rule's ARN ("Start a pipeline on a CodeCommit change");
* GetPipelineExecution and ListPipelineExecutions answer the execution as the engine
  leaves it: ``status`` (InProgress, Stopping, Stopped, Succeeded, Superseded, Failed),
  ``statusSummary``, ``artifactRevisions`` (what the source actions read),
  ``executionMode``, ``variables``; ListPipelineExecutions newest first;
* GetPipelineState: each stage's ``latestExecution`` (the newest execution that entered
  it), ``inboundExecution`` (one waiting to enter), ``inboundTransitionState`` (every
  stage but the first), and each action's ``latestExecution`` (actionExecutionId,
  status, summary, lastStatusChange, externalExecutionId/Url, errorDetails, the
  approval ``token`` while an approval waits);
* ListActionExecutions: every action execution (of one execution with the
  ``filter``), newest first, with its input (configuration, resolvedConfiguration,
  artifacts' S3 locations, namespace, role, region) and output (artifacts, result,
  output variables);
* StopPipelineExecution: an execution not InProgress is refused
  (PipelineExecutionNotStoppableException), a second stop-and-wait
  (DuplicatedStopRequestException); stop and wait: ``Stopping`` until the actions in
  progress end, no new one starts, then ``Stopped``; abandon (or an execution waiting
  between stages): its actions in progress ``Abandoned``, the stage and the execution
  ``Stopped`` at once; the STOPPING, ABANDONED and STOPPED state-change events
  (``put_event``, which the engine uses for every other) go to EventBridge;
* Disable/EnableStageTransition (inbound only, for this slice) record the stage's
  inbound transition (who, when, the reason); an execution waits before a disabled one;
* PutApprovalResult: the token of the approval waiting in that action, Approved or
  Rejected, once (ApprovalAlreadyCompletedException, InvalidApprovalTokenException,
  ActionNotFoundException, StageNotFoundException).

Pipelines nobody starts cost nothing: CreatePipeline, GetPipeline, UpdatePipeline,
ListPipelines and tags are left as they are.

Left out: outbound transitions (``transitionType`` Outbound is refused as not
emulated), RetryStageExecution, RollbackStage, OverrideStageCondition,
``sourceRevisions`` overrides, pagination (every item in one page), ``clientRequestToken``
idempotency. Error messages are ours where the API Reference gives none.
"""

from __future__ import annotations

import copy
import datetime
import json
import logging
import math
import time
from collections.abc import Callable
from typing import Any

from ._util import add_method, replace

GAP = (
    "CodePipeline StartPipelineExecution answers Succeeded without running anything, and "
    "GetPipelineState, ListActionExecutions, StopPipelineExecution, stage transitions and "
    "PutApprovalResult are not implemented."
)

#: The clock of executions' times: the emulator's scheduler once the engine starts.
CLOCK: list[Callable[[], float]] = [time.time]
#: Statuses of an execution still moving (the engine's to advance).
ACTIVE = ("InProgress", "Stopping")
#: EventBridge's detail-type of each level's state-change events.
DETAIL_TYPES = {
    "pipeline": "CodePipeline Pipeline Execution State Change",
    "stage": "CodePipeline Stage Execution State Change",
    "action": "CodePipeline Action Execution State Change",
}

log = logging.getLogger(__name__)


def use_clock(now: Callable[[], float]) -> None:
    """Stamp executions with ``now`` (emulated epoch seconds) from here on."""
    CLOCK[0] = now


def _error(code: str, message: str) -> Exception:
    from moto.core.exceptions import JsonRESTError

    return JsonRESTError(code, message)  # HTTP 400


def apply() -> None:
    from moto.codepipeline import responses
    from moto.codepipeline.models import CodePipelineBackend, PipelineExecution

    replace(CodePipelineBackend, "start_pipeline_execution", lambda _o: _start)
    replace(PipelineExecution, "to_dict", _to_dict_factory)
    replace(PipelineExecution, "to_summary_dict", _summary_factory)
    replace(responses.CodePipelineResponse, "start_pipeline_execution", lambda _o: _start_response)
    add_method(responses.CodePipelineResponse, "get_pipeline_state", _get_pipeline_state)
    add_method(responses.CodePipelineResponse, "list_action_executions", _list_action_executions)
    add_method(responses.CodePipelineResponse, "stop_pipeline_execution", _stop_response)
    add_method(responses.CodePipelineResponse, "disable_stage_transition", _disable_response)
    add_method(responses.CodePipelineResponse, "enable_stage_transition", _enable_response)
    add_method(responses.CodePipelineResponse, "put_approval_result", _put_approval_response)


# -- the state --------------------------------------------------------------------------------


def state(execution: Any) -> dict[str, Any] | None:
    """What the engine advances (None: an execution this patch did not start)."""
    found: dict[str, Any] | None = execution.__dict__.get("deployer")
    return found


def transitions(pipeline: Any) -> dict[str, dict[str, Any]]:
    """Stage name -> its inbound transition's state, for the stages that were changed."""
    found: dict[str, dict[str, Any]] = pipeline.__dict__.setdefault("deployer_transitions", {})
    return found


def touch(execution: Any, now: float) -> None:
    execution.last_update_time = _datetime(now)


def put_event(
    execution: Any,
    state_name: str,
    now: float,
    stage: str | None = None,
    action: dict[str, Any] | None = None,
) -> None:
    """A state-change event to the default event bus of the pipeline's account and region
    ("Monitoring CodePipeline events"): the pipeline's with ``stage`` and ``action``
    None, the stage's, or (with the action's ActionExecutionDetail) the action's."""
    from moto.events.models import events_backends

    recorded = state(execution)
    assert recorded is not None
    account, region = recorded["account"], recorded["region"]
    name = recorded["definition"]["name"]
    detail: dict[str, Any] = {
        "pipeline": name,
        "execution-id": execution.pipeline_execution_id,
        "state": state_name,
        "version": recorded["definition"]["version"],
        "pipeline-execution-attempt": 1,
    }
    kind = "pipeline"
    if stage is not None:
        kind = "stage"
        detail["stage"] = stage
    else:
        detail["execution-trigger"] = {
            "trigger-type": recorded["trigger"]["triggerType"],
            "trigger-detail": recorded["trigger"]["triggerDetail"],
        }
    if action is not None:
        kind = "action"
        detail["action"] = action["actionName"]
        detail["region"] = action["input"]["region"]
        detail["type"] = dict(action["input"]["actionTypeId"])
        if action["input"]["inputArtifacts"]:
            detail["input-artifacts"] = copy.deepcopy(action["input"]["inputArtifacts"])
        if action["output"]["outputArtifacts"] and state_name == "SUCCEEDED":
            detail["output-artifacts"] = copy.deepcopy(action["output"]["outputArtifacts"])
        result = action["output"]["executionResult"]
        if state_name in ("SUCCEEDED", "FAILED") and result:
            found = {
                "external-execution-id": result.get("externalExecutionId"),
                "external-execution-summary": result.get("externalExecutionSummary"),
                "external-execution-url": result.get("externalExecutionUrl"),
                "error-code": (result.get("errorDetails") or {}).get("code"),
            }
            detail["execution-result"] = {k: v for k, v in found.items() if v}
    entry = {
        "Source": "aws.codepipeline",
        "DetailType": DETAIL_TYPES[kind],
        "Detail": json.dumps(detail),
        "Resources": [f"arn:aws:codepipeline:{region}:{account}:{name}"],
        "Time": math.floor(now),
    }
    try:
        events_backends[account][region].put_events([entry])
    except Exception:  # a target moto cannot reach must not stop the execution
        log.exception("codepipeline: the %s %s event of %s failed", kind, state_name, name)


def _datetime(stamp: float) -> datetime.datetime:
    return datetime.datetime.fromtimestamp(stamp, datetime.UTC).replace(tzinfo=None)


def _pipeline(backend: Any, name: Any) -> Any:
    found = backend.pipelines.get(name)
    if found is None:
        raise _error(
            "PipelineNotFoundException",
            f"Account '{backend.account_id}' does not have a pipeline with name '{name}'",
        )
    return found


def _execution(backend: Any, pipeline: Any, execution_id: Any) -> Any:
    found = pipeline.executions.get(execution_id)
    if found is None:
        raise _error(
            "PipelineExecutionNotFoundException",
            f"Account '{backend.account_id}' does not have an execution with id "
            f"'{execution_id}' for pipeline '{pipeline.pipeline['name']}'",
        )
    return found


def _stage(pipeline: Any, name: Any) -> dict[str, Any]:
    for stage in pipeline.pipeline["stages"]:
        if stage["name"] == name:
            return stage  # type: ignore[no-any-return]
    raise _error(
        "StageNotFoundException",
        f"Stage '{name}' not found in pipeline '{pipeline.pipeline['name']}'",
    )


# -- StartPipelineExecution ----------------------------------------------------------------------


def start_by_event(account: str, region: str, name: str, rule_arn: str) -> str:
    """An execution of the pipeline ``name`` started by an EventBridge rule (a rule target):
    trigger ``CloudWatchEvent`` with the rule's ARN as its detail, the declared variables'
    defaults. PipelineNotFoundException if there is no such pipeline."""
    from moto.codepipeline.models import codepipeline_backends

    backend = codepipeline_backends[account][region]
    return _start(backend, name, None, rule_arn, trigger_type="CloudWatchEvent")


def _start(
    self: Any,
    name: str,
    variables: list[dict[str, str]] | None,
    caller: str = "root",
    trigger_type: str = "StartPipelineExecution",
) -> str:
    from moto.codepipeline.models import PipelineExecution

    pipeline = _pipeline(self, name)
    definition = copy.deepcopy(pipeline.pipeline)
    given = {v["name"]: v["value"] for v in variables or []}
    declared = {v["name"]: v for v in definition.get("variables") or []}
    for key in given:
        if key not in declared:
            raise _error(
                "ValidationException",
                f"Variable {key} is not defined in the pipeline {name}",
            )
    resolved = []
    for key, declaration in declared.items():
        value = given.get(key, declaration.get("defaultValue"))
        if value is None:
            raise _error(
                "ValidationException",
                f"No value was provided for variable {key}, which has no default value",
            )
        resolved.append({"name": key, "value": str(value)})
    now = CLOCK[0]()
    execution = PipelineExecution(name, definition["version"], resolved)
    execution.start_time = _datetime(now)
    execution.last_update_time = execution.start_time
    execution.status = "InProgress"
    execution.status_summary = None
    execution.__dict__["deployer"] = {
        "account": self.account_id,
        "region": self.region_name,
        "definition": definition,
        "mode": definition.get("executionMode") or "SUPERSEDED",
        "started": now,
        "at": 0,  # the stage the execution is in, or waits to enter
        "waiting": True,
        "stop": None,
        "stages": {},  # stage name -> {"status", "group"}
        "actions": {},  # "stage/action" -> the ActionExecutionDetail, newest attempt
        "private": {},  # "stage/action" -> what the engine keeps (token, build id)
        "namespaces": {},
        "artifacts": {},  # artifact name -> {"bucket", "key", "revision"}
        "revisions": [],
        "trigger": {"triggerType": trigger_type, "triggerDetail": caller},
    }
    pipeline.executions[execution.pipeline_execution_id] = execution
    return str(execution.pipeline_execution_id)


def _start_response(self: Any) -> str:
    pipeline_execution_id = self.codepipeline_backend.start_pipeline_execution(
        self._get_param("name"), self._get_param("variables"), _caller(self)
    )
    return json.dumps({"pipelineExecutionId": pipeline_execution_id})


def _caller(response: Any) -> str:
    """The ARN of the caller of a request (an IAM user or an assumed role's session)."""
    from moto.sts.models import sts_backends

    backend = sts_backends[response.current_account]["aws"]
    return str(backend.get_caller_identity(response.get_access_key(), response.region)[1])


def _to_dict_factory(original: Any) -> Any:
    def to_dict(self: Any) -> dict[str, Any]:
        found: dict[str, Any] = original(self)
        recorded = state(self)
        if recorded is None:
            return found
        found["artifactRevisions"] = [
            {k: v for k, v in r.items() if k != "actionName"} for r in recorded["revisions"]
        ]
        found["executionMode"] = recorded["mode"]
        found["executionType"] = "STANDARD"
        found["trigger"] = dict(recorded["trigger"])
        if recorded["stop"] is not None and recorded["stop"].get("reason"):
            found["stopTrigger"] = {"reason": recorded["stop"]["reason"]}
        if not found.get("statusSummary"):
            found.pop("statusSummary", None)
        return found

    return to_dict


def _summary_factory(original: Any) -> Any:
    def to_summary_dict(self: Any) -> dict[str, Any]:
        found: dict[str, Any] = original(self)
        recorded = state(self)
        if recorded is None:
            return found
        found["executionMode"] = recorded["mode"]
        found["executionType"] = "STANDARD"
        found["trigger"] = dict(recorded["trigger"])
        found["sourceRevisions"] = [
            {
                "actionName": r["actionName"],
                "revisionId": r["revisionId"],
                "revisionSummary": r.get("revisionSummary", ""),
                "revisionUrl": r.get("revisionUrl", ""),
            }
            for r in recorded["revisions"]
        ]
        if recorded["stop"] is not None and recorded["stop"].get("reason"):
            found["stopTrigger"] = {"reason": recorded["stop"]["reason"]}
        if not found.get("statusSummary"):
            found.pop("statusSummary", None)
        return found

    return to_summary_dict


# -- GetPipelineState ----------------------------------------------------------------------------


def pipeline_state(pipeline: Any) -> dict[str, Any]:
    """GetPipelineState's answer for a pipeline (its current definition's stages)."""
    newest_first = [e for e in reversed(pipeline.executions.values()) if state(e) is not None]
    stages = []
    for index, stage in enumerate(pipeline.pipeline["stages"]):
        name = stage["name"]
        entry: dict[str, Any] = {"stageName": name}
        if index > 0:
            transition = transitions(pipeline).get(name) or {"enabled": True}
            entry["inboundTransitionState"] = dict(transition)
        waiting = [
            e
            for e in newest_first
            if e.status in ACTIVE and state(e)["at"] == index and state(e)["waiting"]  # type: ignore[index]
        ]
        if waiting and index > 0:
            entry["inboundExecution"] = {
                "pipelineExecutionId": waiting[0].pipeline_execution_id,
                "status": "InProgress",
            }
            entry["inboundExecutions"] = [
                {"pipelineExecutionId": e.pipeline_execution_id, "status": "InProgress"}
                for e in waiting
            ]
        latest = next((e for e in newest_first if name in state(e)["stages"]), None)  # type: ignore[index]
        actions = []
        for action in stage["actions"]:
            action_state: dict[str, Any] = {"actionName": action["name"]}
            for execution in newest_first:
                detail = state(execution)["actions"].get(f"{name}/{action['name']}")  # type: ignore[index]
                if detail is not None:
                    private = state(execution)["private"].get(f"{name}/{action['name']}") or {}  # type: ignore[index]
                    action_state["latestExecution"] = _action_latest(detail, private)
                    break
            actions.append(action_state)
        entry["actionStates"] = actions
        if latest is not None:
            entry["latestExecution"] = {
                "pipelineExecutionId": latest.pipeline_execution_id,
                "status": state(latest)["stages"][name]["status"],  # type: ignore[index]
            }
        stages.append(entry)
    return {
        "pipelineName": pipeline.pipeline["name"],
        "pipelineVersion": pipeline.pipeline["version"],
        "stageStates": stages,
        "created": pipeline.metadata["created"],
        "updated": pipeline.metadata["updated"],
    }


def _action_latest(detail: dict[str, Any], private: dict[str, Any]) -> dict[str, Any]:
    result = (detail.get("output") or {}).get("executionResult") or {}
    latest: dict[str, Any] = {
        "actionExecutionId": detail["actionExecutionId"],
        "status": detail["status"],
        "lastStatusChange": detail["lastUpdateTime"],
    }
    if result.get("externalExecutionSummary"):
        latest["summary"] = result["externalExecutionSummary"]
    if result.get("externalExecutionId"):
        latest["externalExecutionId"] = result["externalExecutionId"]
    if result.get("externalExecutionUrl"):
        latest["externalExecutionUrl"] = result["externalExecutionUrl"]
    if result.get("errorDetails"):
        latest["errorDetails"] = dict(result["errorDetails"])
    if detail.get("updatedBy"):
        latest["lastUpdatedBy"] = detail["updatedBy"]
    if detail["status"] == "InProgress" and private.get("token"):
        latest["token"] = private["token"]
    return latest


def _get_pipeline_state(self: Any) -> str:
    pipeline = _pipeline(self.codepipeline_backend, self._get_param("name"))
    return json.dumps(pipeline_state(pipeline))


# -- ListActionExecutions ------------------------------------------------------------------------


def _list_action_executions(self: Any) -> str:
    backend = self.codepipeline_backend
    pipeline = _pipeline(backend, self._get_param("pipelineName"))
    wanted = (self._get_param("filter") or {}).get("pipelineExecutionId")
    executions = list(pipeline.executions.values())
    if wanted is not None:
        executions = [_execution(backend, pipeline, wanted)]
    details = [
        copy.deepcopy(detail)
        for execution in executions
        if state(execution) is not None
        for detail in state(execution)["actions"].values()  # type: ignore[index]
    ]
    details.sort(key=lambda d: d["startTime"], reverse=True)
    limit = self._get_param("maxResults")
    if limit:
        details = details[: int(limit)]
    return json.dumps({"actionExecutionDetails": details})


# -- StopPipelineExecution -----------------------------------------------------------------------


def stop(execution: Any, abandon: bool, reason: str, now: float) -> None:
    """Record a stop: abandon (or an execution between stages) ends at once."""
    recorded = state(execution)
    assert recorded is not None
    recorded["stop"] = {"abandon": abandon, "reason": reason}
    if execution.status != "Stopping":
        put_event(execution, "STOPPING", now)
    stage_name = recorded["definition"]["stages"][recorded["at"]]["name"]
    if not (abandon or recorded["waiting"]):
        execution.status = "Stopping"
        if recorded["stages"][stage_name]["status"] != "Stopping":
            recorded["stages"][stage_name]["status"] = "Stopping"
            put_event(execution, "STOPPING", now, stage_name)
        touch(execution, now)
        return
    if not recorded["waiting"]:
        for key, detail in recorded["actions"].items():
            if key.startswith(f"{stage_name}/") and detail["status"] == "InProgress":
                detail["status"] = "Abandoned"
                detail["lastUpdateTime"] = now
                put_event(execution, "ABANDONED", now, stage_name, detail)
        recorded["stages"][stage_name]["status"] = "Stopped"
        put_event(execution, "STOPPED", now, stage_name)
    put_event(execution, "STOPPED", now)
    execution.status = "Stopped"
    execution.status_summary = reason or None
    touch(execution, now)


def _stop_response(self: Any) -> str:
    backend = self.codepipeline_backend
    pipeline = _pipeline(backend, self._get_param("pipelineName"))
    execution = _execution(backend, pipeline, self._get_param("pipelineExecutionId"))
    abandon = bool(self._get_param("abandon"))
    recorded = state(execution)
    if execution.status == "Stopping" and recorded is not None:
        if not abandon or recorded["stop"]["abandon"]:
            raise _error(
                "DuplicatedStopRequestException",
                "The pipeline execution is already in a Stopping state. If you already chose "
                "to stop and wait, you cannot make that request again. You can choose to stop "
                "and abandon now, but be aware that this option can lead to failed tasks or "
                "out of sequence tasks. If you already chose to stop and abandon, you cannot "
                "make that request again.",
            )
    elif execution.status != "InProgress" or recorded is None:
        raise _error(
            "PipelineExecutionNotStoppableException",
            "Unable to stop pipeline execution. Only in progress executions can be stopped.",
        )
    stop(execution, abandon, str(self._get_param("reason") or ""), CLOCK[0]())
    return json.dumps({"pipelineExecutionId": execution.pipeline_execution_id})


# -- stage transitions ---------------------------------------------------------------------------


def _transition(self: Any, enabled: bool) -> str:
    backend = self.codepipeline_backend
    pipeline = _pipeline(backend, self._get_param("pipelineName"))
    name = self._get_param("stageName")
    _stage(pipeline, name)
    kind = self._get_param("transitionType")
    if kind not in ("Inbound", "Outbound"):
        raise _error(
            "ValidationException",
            f"1 validation error detected: Value '{kind}' at 'transitionType' failed to "
            "satisfy constraint: Member must satisfy enum value set: [Inbound, Outbound]",
        )
    if kind == "Outbound":
        raise _error("ValidationException", "Outbound transitions are not emulated")
    record: dict[str, Any] = {
        "enabled": enabled,
        "lastChangedBy": _caller(self),
        "lastChangedAt": CLOCK[0](),
    }
    if not enabled:
        reason = self._get_param("reason")
        if not reason:
            raise _error(
                "ValidationException",
                "1 validation error detected: Value null at 'reason' failed to satisfy "
                "constraint: Member must not be null",
            )
        record["disabledReason"] = str(reason)
    transitions(pipeline)[name] = record
    return ""


def _disable_response(self: Any) -> str:
    return _transition(self, False)


def _enable_response(self: Any) -> str:
    return _transition(self, True)


# -- PutApprovalResult ---------------------------------------------------------------------------


def _put_approval_response(self: Any) -> str:
    backend = self.codepipeline_backend
    pipeline = _pipeline(backend, self._get_param("pipelineName"))
    stage_name = self._get_param("stageName")
    stage = _stage(pipeline, stage_name)
    action_name = self._get_param("actionName")
    if not any(a["name"] == action_name for a in stage["actions"]):
        raise _error(
            "ActionNotFoundException",
            f"Action '{action_name}' not found in stage '{stage_name}' of pipeline "
            f"'{pipeline.pipeline['name']}'",
        )
    result = self._get_param("result") or {}
    if result.get("status") not in ("Approved", "Rejected"):
        raise _error(
            "ValidationException",
            "1 validation error detected: Value at 'result.status' failed to satisfy "
            "constraint: Member must satisfy enum value set: [Approved, Rejected]",
        )
    token = self._get_param("token")
    key = f"{stage_name}/{action_name}"
    for execution in reversed(pipeline.executions.values()):
        recorded = state(execution)
        if recorded is None:
            continue
        private = recorded["private"].get(key) or {}
        if private.get("token") != token:
            continue
        detail = recorded["actions"][key]
        if detail["status"] != "InProgress" or private.get("result") is not None:
            raise _error(
                "ApprovalAlreadyCompletedException",
                f"The approval action {action_name} has already been completed",
            )
        now = CLOCK[0]()
        private["result"] = {
            "status": result["status"],
            "summary": str(result.get("summary") or ""),
            "by": _caller(self),
            "at": now,
        }
        return json.dumps({"approvedAt": now})
    raise _error(
        "InvalidApprovalTokenException",
        f"The approval token {token} is not valid for action {action_name}",
    )
