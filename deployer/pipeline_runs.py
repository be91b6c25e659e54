"""The pipeline's executions: the one a release started, what it did, following it, approving it.

The delivery stack's CodePipeline (``{delivery prefix}-pipeline``, in the delivery account
and region) is read through the delivery scope with the CodePipeline API only, the same
calls on AWS and on the local emulator (``deployer/emulator/engines/codepipeline.py``):

* ListPipelineExecutions (newest first): the execution a release started is the one whose
  ``sourceRevisions`` hold the commit ID (or, with an S3 source, the object's version ID).
  The source action records its revision when it runs, a few seconds after the push on
  AWS: :meth:`Runs.started_by` polls for it, within a bound;
* GetPipelineExecution: the execution's status and summary, its trigger, its
  ``artifactRevisions`` (the commit and its message);
* GetPipeline at the execution's ``pipelineVersion``: the stages and actions, in order;
* ListActionExecutions (filtered to the execution): each action's status, summary, last
  change, external ID and link, error, and output variables: each Build action's
  ``DEPLOYMENT_ID`` (the variable namespace ``Build_<service>`` of the delivery stack);
* GetPipelineState: a stage's status when this execution is its latest, whether it waits
  to enter a stage (and why: a disabled transition), and the token of an approval waiting;
* PutApprovalResult: approve or reject the Manual approval action in progress.

Bad input changes nothing: an unknown execution (PipelineExecutionNotFoundException, or a
malformed ID's ValidationException: exit 2), approving when nothing waits, or an execution
that is not the one waiting. A pipeline that does not exist names the apply to run.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Collection, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from botocore.exceptions import ClientError

from deployer.aws import translate
from deployer.errors import DeployerError, UsageError
from deployer.output import table
from deployer.scope import Scope

#: GetPipelineExecution's statuses of an execution that has ended.
ENDED = ("Succeeded", "Failed", "Stopped", "Superseded", "Cancelled")
#: Endings of an execution that did not carry its commit on (exit 1 when followed).
UNSUCCESSFUL = ("Failed", "Stopped", "Cancelled")
#: Statuses of an execution that still moves.
ACTIVE = ("InProgress", "Stopping")
#: The variable each Build action of the delivery stack exports (its buildspec's
#: ``exported-variables``): the image tag and deploy files' ID of that service's build.
DEPLOYMENT_ID = "DEPLOYMENT_ID"
#: ApprovalResult's summary: at most 512 characters (PutApprovalResult).
MAX_COMMENT = 512
#: How long a release waits for its commit's execution to appear (seconds), and how often
#: the API is asked, on the emulator and on AWS.
START_TIMEOUT_S = 120.0
POLL_LOCAL_S = 1.0
POLL_AWS_S = 5.0
#: How following ended.
FINISHED, APPROVAL, INTERRUPTED = "finished", "approval", "interrupted"
#: How many of the newest executions a release looks at for its own.
RECENT = 20
#: Errors of an execution ID that names no execution of the pipeline.
UNKNOWN_EXECUTION = ("PipelineExecutionNotFoundException", "ValidationException")


class PipelineRunError(DeployerError):
    """The pipeline or its execution cannot be read or driven as asked."""


def _code(exc: ClientError) -> str:
    return str(exc.response.get("Error", {}).get("Code", ""))


def iso(moment: datetime | None) -> str | None:
    """ISO 8601 UTC to the second (``2026-12-01T14:00:03Z``)."""
    if moment is None:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def one_line(text: str | None, width: int = 100) -> str:
    flat = " ".join((text or "").split())
    return flat if len(flat) <= width else flat[: width - 3] + "..."


def commit_message(summary: str | None) -> str:
    """A revision's summary as its message: CodeCommit gives the message; connection
    sources (GitHub, ...) give JSON with ``CommitMessage``."""
    if summary and summary.lstrip().startswith("{"):
        try:
            found = json.loads(summary)
        except ValueError:
            return summary
        if isinstance(found, dict) and found.get("CommitMessage"):
            return str(found["CommitMessage"])
    return summary or ""


# ---------------------------------------------------------------------------
# What an execution did
# ---------------------------------------------------------------------------
@dataclass(frozen=True)
class ActionRun:
    stage: str
    name: str
    category: str
    provider: str
    #: ListActionExecutions' status (InProgress, Succeeded, Failed, Abandoned); "" not started.
    status: str = ""
    action_execution_id: str | None = None
    summary: str | None = None
    started: datetime | None = None
    last_change: datetime | None = None
    external_id: str | None = None
    url: str | None = None
    error: str | None = None
    variables: dict[str, str] = field(default_factory=dict)
    #: The configuration as the action ran it (variables resolved).
    configuration: dict[str, str] = field(default_factory=dict)

    @property
    def label(self) -> str:
        return f"{self.stage}/{self.name}"

    @property
    def is_approval(self) -> bool:
        return (self.category, self.provider) == ("Approval", "Manual")

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "category": self.category,
            "provider": self.provider,
            "status": self.status or None,
            "summary": self.summary,
            "last_change": iso(self.last_change),
            "external_id": self.external_id,
            "url": self.url,
            "error": self.error,
            "variables": dict(self.variables),
        }


@dataclass(frozen=True)
class StageRun:
    name: str
    #: The stage's status for this execution; "Waiting" before it; "" not reached.
    status: str
    actions: list[ActionRun]
    note: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "status": self.status or None,
            "note": self.note,
            "actions": [a.to_json() for a in self.actions],
        }


@dataclass(frozen=True)
class Approval:
    """A Manual approval action in progress: what `deployer approve` answers."""

    execution_id: str
    stage: str
    action: str
    action_execution_id: str | None
    since: datetime | None
    #: What the approver is asked (CustomData) and shown (ExternalEntityLink), resolved.
    request: str | None = None
    link: str | None = None

    @property
    def label(self) -> str:
        return f"{self.stage}/{self.action}"

    def to_json(self) -> dict[str, Any]:
        return {
            "execution_id": self.execution_id,
            "stage": self.stage,
            "action": self.action,
            "since": iso(self.since),
            "request": self.request,
            "link": self.link,
        }


@dataclass(frozen=True)
class ExecutionView:
    pipeline: str
    execution_id: str
    status: str
    status_summary: str | None
    trigger_type: str | None
    trigger_detail: str | None
    #: The source revision: a commit ID (or an S3 object's version ID), its message, link.
    commit: str | None
    commit_message: str | None
    commit_url: str | None
    stages: list[StageRun]

    @property
    def actions(self) -> list[ActionRun]:
        return [a for s in self.stages for a in s.actions]

    @property
    def started(self) -> datetime | None:
        moments = [a.started for a in self.actions if a.started]
        return min(moments) if moments else None

    @property
    def last_change(self) -> datetime | None:
        moments = [a.last_change for a in self.actions if a.last_change]
        return max(moments) if moments else None

    @property
    def deployments(self) -> dict[str, str]:
        """Each service's deployment ID: the Build actions' DEPLOYMENT_ID output variable."""
        return {
            a.name: a.variables[DEPLOYMENT_ID]
            for a in self.actions
            if a.category == "Build" and a.variables.get(DEPLOYMENT_ID)
        }

    @property
    def approval(self) -> Approval | None:
        """The Manual approval action of this execution in progress, if any."""
        for action in self.actions:
            if action.is_approval and action.status == "InProgress":
                return Approval(
                    self.execution_id,
                    action.stage,
                    action.name,
                    action.action_execution_id,
                    action.started,
                    action.configuration.get("CustomData"),
                    action.configuration.get("ExternalEntityLink"),
                )
        return None

    @property
    def failed(self) -> ActionRun | None:
        return next((a for a in self.actions if a.status == "Failed"), None)

    @property
    def ended(self) -> bool:
        return self.status in ENDED

    @property
    def position(self) -> str:
        """Where the execution is: its stage in progress, or the one it waits to enter."""
        for stage in self.stages:
            if stage.status in ("InProgress", "Stopping"):
                return f"in stage {stage.name}"
            if stage.status == "Waiting":
                return f"waiting to enter {stage.name}" + (f" ({stage.note})" if stage.note else "")
        return ""

    def why(self) -> str:
        """How it failed: the failed action and its summary, else the execution's summary."""
        failed = self.failed
        if failed is not None:
            said = failed.summary or failed.error or ""
            return f"{failed.label} failed" + (f": {one_line(said, 300)}" if said else "")
        return one_line(self.status_summary, 300)

    def to_json(self) -> dict[str, Any]:
        approval = self.approval
        return {
            "pipeline": self.pipeline,
            "execution_id": self.execution_id,
            "status": self.status,
            "status_summary": self.status_summary,
            "trigger": {"type": self.trigger_type, "detail": self.trigger_detail},
            "commit": {
                "id": self.commit,
                "message": self.commit_message,
                "url": self.commit_url,
            },
            "started": iso(self.started),
            "last_change": iso(self.last_change),
            "stages": [s.to_json() for s in self.stages],
            "deployments": self.deployments,
            "approval": approval.to_json() if approval else None,
            "failure": self.why() if self.status in UNSUCCESSFUL else None,
        }

    def to_text(self) -> str:
        lines = [f"{self.pipeline} execution {self.execution_id}: {self.status}"]
        if self.status_summary:
            lines.append(f"  summary:      {one_line(self.status_summary, 200)}")
        if self.trigger_type:
            detail = f" ({self.trigger_detail})" if self.trigger_detail else ""
            lines.append(f"  trigger:      {self.trigger_type}{detail}")
        if self.commit:
            message = one_line(self.commit_message, 80)
            lines.append(f"  commit:       {self.commit}" + (f"  {message}" if message else ""))
        if self.started:
            lines.append(
                f"  started:      {iso(self.started)}, last change {iso(self.last_change)}"
            )
        rows: list[tuple[str, ...]] = []
        for stage in self.stages:
            rows.append((stage.name, stage.status or "-", "", one_line(stage.note, 70)))
            for a in stage.actions:
                said = a.summary or a.error or ""
                rows.append(
                    (f"  {a.name}", a.status or "-", iso(a.last_change) or "", one_line(said, 70))
                )
        lines += ["", table(("stage / action", "status", "last change", "summary"), rows)]
        deployments = self.deployments
        if deployments:
            lines.append("")
            lines.append("deployment IDs:")
            lines += [f"  {name}  {value}" for name, value in sorted(deployments.items())]
        links = [(a.label, a.url) for a in self.actions if a.url]
        if links:
            lines.append("")
            lines.append("links:")
            lines += [f"  {label}  {url}" for label, url in links]
        approval = self.approval
        if approval is not None:
            lines.append("")
            lines.append(
                f"waiting for approval at {approval.label} since {iso(approval.since)}"
                + (f": {one_line(approval.request, 300)}" if approval.request else "")
            )
            lines.append(f"  {NEXT_STEPS}")
        elif self.status in UNSUCCESSFUL:
            lines.append("")
            lines.append(f"{self.status}: {self.why()}")
        elif self.status == "Superseded":
            lines.append("")
            lines.append(f"Superseded: {SUPERSEDED}")
        return "\n".join(lines)


#: What a superseded execution means (CodePipeline's SUPERSEDED mode).
SUPERSEDED = (
    "a newer execution, of a newer commit of the branch, took its place while it waited to "
    "enter a stage; deployer pipeline status shows the newest"
)
#: What to run when an approval waits.
NEXT_STEPS = (
    'approve it: deployer approve [--comment "..."]; or reject it: deployer reject --comment "why"'
)


def _newest(details: Iterable[dict[str, Any]]) -> dict[tuple[str, str], dict[str, Any]]:
    """Each action's newest attempt."""
    found: dict[tuple[str, str], dict[str, Any]] = {}
    for detail in details:
        key = (str(detail.get("stageName")), str(detail.get("actionName")))
        seen = found.get(key)
        if seen is None or _moment(detail.get("startTime")) > _moment(seen.get("startTime")):
            found[key] = detail
    return found


def _moment(value: Any) -> datetime:
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    if isinstance(value, int | float):
        return datetime.fromtimestamp(value, UTC)
    return datetime.min.replace(tzinfo=UTC)


def _when(value: Any) -> datetime | None:
    return _moment(value) if value is not None else None


def _action_run(stage: str, declared: dict[str, Any], detail: dict[str, Any] | None) -> ActionRun:
    kind = declared.get("actionTypeId") or {}
    category, provider = str(kind.get("category", "")), str(kind.get("provider", ""))
    if detail is None:
        return ActionRun(stage, str(declared.get("name")), category, provider)
    output = detail.get("output") or {}
    result = output.get("executionResult") or {}
    error = result.get("errorDetails") or {}
    return ActionRun(
        stage=stage,
        name=str(declared.get("name")),
        category=category,
        provider=provider,
        status=str(detail.get("status") or ""),
        action_execution_id=detail.get("actionExecutionId"),
        summary=result.get("externalExecutionSummary") or None,
        started=_when(detail.get("startTime")),
        last_change=_when(detail.get("lastUpdateTime")),
        external_id=result.get("externalExecutionId") or None,
        url=result.get("externalExecutionUrl") or None,
        error=(f"{error.get('code', '')}: {error.get('message', '')}" if error else None),
        variables={str(k): str(v) for k, v in (output.get("outputVariables") or {}).items()},
        configuration={
            str(k): str(v)
            for k, v in ((detail.get("input") or {}).get("resolvedConfiguration") or {}).items()
        },
    )


def _stage_status(
    execution_id: str, execution_status: str, state: dict[str, Any], actions: list[ActionRun]
) -> tuple[str, str | None]:
    """The stage's status for this execution: GetPipelineState's when the execution is its
    latest, "Waiting" when it waits to enter, else what its actions say."""
    latest = state.get("latestExecution") or {}
    if latest.get("pipelineExecutionId") == execution_id and latest.get("status"):
        return str(latest["status"]), None
    inbound = [state.get("inboundExecution") or {}, *(state.get("inboundExecutions") or [])]
    if execution_status in ACTIVE and any(
        i.get("pipelineExecutionId") == execution_id for i in inbound
    ):
        transition = state.get("inboundTransitionState") or {}
        if transition.get("enabled", True) is False:
            reason = transition.get("disabledReason")
            return "Waiting", "transition disabled" + (f": {reason}" if reason else "")
        return "Waiting", "another execution is in the stage"
    started = {a.status for a in actions if a.status}
    if not started:
        return "", None
    for status, said in (
        ("InProgress", "InProgress"),
        ("Failed", "Failed"),
        ("Abandoned", "Stopped"),
    ):
        if status in started:
            return said, None
    if started == {"Succeeded"} and all(a.status for a in actions):
        return "Succeeded", None
    return (execution_status if execution_status in ENDED else "InProgress"), None


def build_view(
    pipeline: str,
    execution: dict[str, Any],
    details: list[dict[str, Any]],
    state: dict[str, Any],
    stages: list[dict[str, Any]],
) -> ExecutionView:
    """An execution as GetPipelineExecution, its ListActionExecutions, GetPipelineState and
    the pipeline's structure (GetPipeline's stages) describe it."""
    execution_id = str(execution["pipelineExecutionId"])
    status = str(execution.get("status") or "")
    newest = _newest(details)
    states = {str(s.get("stageName")): s for s in state.get("stageStates") or []}
    runs = []
    for stage in stages:
        name = str(stage["name"])
        declared = list(stage.get("actions") or [])
        actions = [_action_run(name, a, newest.pop((name, str(a["name"])), None)) for a in declared]
        # Actions the execution ran that the structure read no longer has (it changed).
        actions += [
            _action_run(name, {"name": action, "actionTypeId": d["input"].get("actionTypeId")}, d)
            for (stage_name, action), d in list(newest.items())
            if stage_name == name
        ]
        stage_status, note = _stage_status(execution_id, status, states.get(name) or {}, actions)
        runs.append(StageRun(name, stage_status, actions, note))
    revisions = execution.get("artifactRevisions") or []
    commit = message = url = None
    if revisions:
        commit = revisions[0].get("revisionId")
        message = commit_message(revisions[0].get("revisionSummary"))
        url = revisions[0].get("revisionUrl") or None
    else:  # the source action's variables, when the execution shows no revision yet
        for action in (a for r in runs for a in r.actions if a.category == "Source"):
            commit = action.variables.get("CommitId") or action.variables.get("VersionId")
            message = action.variables.get("CommitMessage")
            if commit:
                break
    trigger = execution.get("trigger") or {}
    return ExecutionView(
        pipeline=pipeline,
        execution_id=execution_id,
        status=status,
        status_summary=execution.get("statusSummary") or None,
        trigger_type=trigger.get("triggerType"),
        trigger_detail=trigger.get("triggerDetail"),
        commit=commit,
        commit_message=message,
        commit_url=url,
        stages=runs,
    )


# ---------------------------------------------------------------------------
# Reading and driving the pipeline
# ---------------------------------------------------------------------------
@dataclass
class Followed:
    """What following an execution saw, and why it stopped following."""

    view: ExecutionView
    #: FINISHED (the execution ended), APPROVAL (an approval waits) or INTERRUPTED (Ctrl-C:
    #: the execution goes on).
    ending: str

    @property
    def ok(self) -> bool:
        return self.ending != INTERRUPTED and self.view.status not in UNSUCCESSFUL

    def to_json(self) -> dict[str, Any]:
        return {**self.view.to_json(), "followed_until": self.ending}


@dataclass
class Decision:
    """An approval answered: the execution, what it promotes, the answer."""

    view: ExecutionView
    approval: Approval
    status: str  # Approved or Rejected
    comment: str
    at: datetime | None

    def to_json(self) -> dict[str, Any]:
        return {
            "pipeline": self.view.pipeline,
            "execution_id": self.view.execution_id,
            "result": self.status,
            "comment": self.comment,
            "answered_at": iso(self.at),
            "stage": self.approval.stage,
            "action": self.approval.action,
            "commit": {"id": self.view.commit, "message": self.view.commit_message},
            "deployments": self.view.deployments,
        }

    def to_text(self) -> str:
        verb = "approved" if self.status == "Approved" else "rejected"
        commit = self.view.commit or "an unknown revision"
        message = one_line(self.view.commit_message, 80)
        lines = [
            f"{verb} {self.approval.label} of {self.view.pipeline} execution "
            f"{self.view.execution_id} ({self.comment})",
            f"  commit:  {commit}" + (f"  {message}" if message else ""),
        ]
        deployments = self.view.deployments
        if deployments:
            lines.append("  deployment IDs:")
            lines += [f"    {name}  {value}" for name, value in sorted(deployments.items())]
        if self.status == "Approved":
            lines.append("  it goes on to the next actions: deployer pipeline status")
        else:
            lines.append("  the execution fails at this action; nothing after it runs")
        return "\n".join(lines)


class Runs:
    """The pipeline's executions through one CodePipeline client (the delivery scope's)."""

    def __init__(
        self,
        codepipeline: Any,
        pipeline: str,
        *,
        environment: str = "delivery",
        poll_seconds: float = POLL_AWS_S,
        clock: Callable[[], float] | None = None,
        sleep: Callable[[float], None] | None = None,
    ) -> None:
        self.client = codepipeline
        self.pipeline = pipeline
        self.environment = environment
        self.poll_seconds = poll_seconds
        self.clock = clock or time.monotonic
        self.sleep = sleep or time.sleep
        self._structures: dict[int | None, list[dict[str, Any]]] = {}

    # -- calls -------------------------------------------------------------------------------
    def _call(self, doing: str, method: str, *, execution: str | None = None, **kwargs: Any) -> Any:
        """One API call; ``execution`` the ID a user named (unknown: a usage error)."""
        try:
            return getattr(self.client, method)(**kwargs)
        except ClientError as exc:
            raise self._translated(exc, doing, execution) from None

    def _translated(self, exc: ClientError, doing: str, execution: str | None) -> DeployerError:
        code = _code(exc)
        if code == "PipelineNotFoundException":
            return PipelineRunError(
                f"the pipeline {self.pipeline} does not exist: {translate(exc, doing).message}",
                hint=f"apply the delivery stack first: deployer apply {self.environment}",
            )
        if execution is not None and code in UNKNOWN_EXECUTION:
            return UsageError(
                f"no execution {execution} of {self.pipeline}: {translate(exc, doing).message}",
                hint="deployer pipeline status shows the latest execution and its ID",
            )
        return translate(exc, doing)

    def executions(self, limit: int | None = None) -> list[dict[str, Any]]:
        """ListPipelineExecutions' summaries, newest first (``limit`` of them, else all)."""
        found: list[dict[str, Any]] = []
        kwargs: dict[str, Any] = {"pipelineName": self.pipeline}
        if limit:
            kwargs["maxResults"] = limit
        while True:
            page = self._call("list the executions", "list_pipeline_executions", **kwargs)
            found += page.get("pipelineExecutionSummaries") or []
            token = page.get("nextToken")
            if not token or (limit and len(found) >= limit):
                return found[:limit] if limit else found
            kwargs["nextToken"] = token

    def latest(self) -> str:
        """The newest execution's ID."""
        found = self.executions(limit=1)
        if not found:
            raise UsageError(
                f"{self.pipeline} has no execution yet",
                hint="release a commit: deployer release --source DIR",
            )
        return str(found[0]["pipelineExecutionId"])

    def structure(self, version: int | None) -> list[dict[str, Any]]:
        """The pipeline's stages at ``version`` (GetPipeline; the current one if None, or if
        that version is no longer kept)."""
        if version not in self._structures:
            kwargs: dict[str, Any] = {"name": self.pipeline}
            if version is not None:
                kwargs["version"] = version
            try:
                found = self.client.get_pipeline(**kwargs)
            except ClientError as exc:
                if version is None or _code(exc) != "PipelineVersionNotFoundException":
                    raise self._translated(exc, "read the pipeline", None) from None
                found = self._call("read the pipeline", "get_pipeline", name=self.pipeline)
            self._structures[version] = list(found["pipeline"]["stages"])
        return self._structures[version]

    def action_executions(self, execution_id: str) -> list[dict[str, Any]]:
        found: list[dict[str, Any]] = []
        kwargs: dict[str, Any] = {
            "pipelineName": self.pipeline,
            "filter": {"pipelineExecutionId": execution_id},
        }
        while True:
            page = self._call(
                f"list the actions of execution {execution_id}",
                "list_action_executions",
                execution=execution_id,
                **kwargs,
            )
            found += page.get("actionExecutionDetails") or []
            if not page.get("nextToken"):
                return found
            kwargs["nextToken"] = page["nextToken"]

    def state(self) -> dict[str, Any]:
        found: dict[str, Any] = self._call(
            "read the pipeline's state", "get_pipeline_state", name=self.pipeline
        )
        return found

    def view(self, execution_id: str) -> ExecutionView:
        execution = self._call(
            f"read execution {execution_id}",
            "get_pipeline_execution",
            execution=execution_id,
            pipelineName=self.pipeline,
            pipelineExecutionId=execution_id,
        )["pipelineExecution"]
        details = self.action_executions(execution_id)
        state = self.state()
        version = execution.get("pipelineVersion")
        stages = self.structure(int(version) if version is not None else None)
        return build_view(self.pipeline, execution, details, state, stages)

    # -- the execution a release started ---------------------------------------------------
    def recent(self) -> set[str]:
        """The IDs of the newest executions (what a release's own is told apart from)."""
        return {str(s["pipelineExecutionId"]) for s in self.executions(limit=RECENT)}

    def started_by(
        self,
        revision: str,
        *,
        before: Collection[str] | None,
        timeout: float = START_TIMEOUT_S,
        say: Callable[[str], None] | None = None,
    ) -> str | None:
        """The newest execution whose source revision is ``revision``.

        ``before``: the executions there were before the release committed it (:meth:`recent`),
        None when it committed nothing. A new commit's execution may not have read it yet:
        wait up to ``timeout``; a new execution that ended without reading any source (its
        source action failed) is the one, and says why. With nothing committed, wait only
        while an execution in progress has not read its source yet. None when none has it."""
        say = say or (lambda _line: None)
        deadline = self.clock() + timeout
        told = False
        while True:
            summaries = self.executions(limit=RECENT)
            for summary in summaries:
                revisions = [r.get("revisionId") for r in summary.get("sourceRevisions") or []]
                if revision in revisions:
                    return str(summary["pipelineExecutionId"])
            if before is not None:
                new = [s for s in summaries if str(s["pipelineExecutionId"]) not in before]
                if new and all(
                    s.get("status") in ENDED and not s.get("sourceRevisions") for s in new
                ):
                    return str(new[0]["pipelineExecutionId"])
            unread = any(
                s.get("status") in ACTIVE and not s.get("sourceRevisions") for s in summaries
            )
            if not (before is not None or unread) or self.clock() >= deadline:
                return None
            if not told:
                say(f"pipeline: waiting for the execution of {revision} to read its source")
                told = True
            self.sleep(self.poll_seconds)

    # -- following ----------------------------------------------------------------------------
    def follow(
        self,
        execution_id: str,
        say: Callable[[str], None],
        *,
        answered: Iterable[str] = (),
        seen_as: ExecutionView | None = None,
        stamp: Callable[[], str] | None = None,
    ) -> Followed:
        """Each stage and action of the execution as its status changes (since ``seen_as``,
        what the caller has shown already), until it ends or an approval (not one of
        ``answered``, action execution IDs) waits."""
        stamp = stamp or (lambda: iso(datetime.now(UTC)) or "")
        skip = set(answered)
        seen: dict[str, tuple[str, ...]] = {}
        if seen_as is not None:
            changes(seen_as, seen)
        view: ExecutionView | None = None
        try:
            while True:
                view = self.view(execution_id)
                for line in changes(view, seen):
                    say(f"{stamp()}  {line}")
                if view.ended:
                    return Followed(view, FINISHED)
                approval = view.approval
                if approval is not None and approval.action_execution_id not in skip:
                    return Followed(view, APPROVAL)
                self.sleep(self.poll_seconds)
        except KeyboardInterrupt:
            if view is None:
                raise
            return Followed(view, INTERRUPTED)

    # -- approvals ----------------------------------------------------------------------------
    def waiting(self) -> list[Approval]:
        """The Manual approval actions in progress (GetPipelineState: the stage's latest
        execution, the action's token)."""
        structure = {
            (str(s["name"]), str(a["name"])): a for s in self.structure(None) for a in s["actions"]
        }
        found = []
        for stage in self.state().get("stageStates") or []:
            name = str(stage.get("stageName"))
            execution_id = (stage.get("latestExecution") or {}).get("pipelineExecutionId")
            for action in stage.get("actionStates") or []:
                latest = action.get("latestExecution") or {}
                kind = (structure.get((name, str(action.get("actionName")))) or {}).get(
                    "actionTypeId"
                ) or {}
                if (
                    execution_id
                    and latest.get("status") == "InProgress"
                    and latest.get("token")
                    and (kind.get("category"), kind.get("provider")) == ("Approval", "Manual")
                ):
                    found.append(
                        Approval(
                            str(execution_id),
                            name,
                            str(action.get("actionName")),
                            latest.get("actionExecutionId"),
                            _when(latest.get("lastStatusChange")),
                        )
                    )
        return found

    def _token(self, approval: Approval) -> str:
        for stage in self.state().get("stageStates") or []:
            if stage.get("stageName") != approval.stage:
                continue
            for action in stage.get("actionStates") or []:
                latest = action.get("latestExecution") or {}
                if (
                    action.get("actionName") == approval.action
                    and latest.get("status") == "InProgress"
                    and latest.get("token")
                    and latest.get("actionExecutionId") in (None, approval.action_execution_id)
                ):
                    return str(latest["token"])
        raise UsageError(
            f"{approval.label} of execution {approval.execution_id} no longer waits for approval",
            hint="deployer pipeline status shows where the execution is",
        )

    def to_decide(self, execution_id: str | None) -> tuple[ExecutionView, Approval]:
        """The execution whose approval waits (``execution_id`` when named, checked), and
        that approval."""
        if execution_id is not None:
            view = self.view(execution_id)  # an unknown execution: a usage error
            approval = view.approval
            if approval is None:
                where = view.position
                others = [a for a in self.waiting() if a.execution_id != execution_id]
                raise UsageError(
                    f"execution {execution_id} of {self.pipeline} does not wait for approval: "
                    f"it is {view.status}" + (f", {where}" if where else ""),
                    hint=(
                        f"execution {others[0].execution_id} waits at {others[0].label}: "
                        f"name it with --execution {others[0].execution_id}"
                        if others
                        else "deployer pipeline status shows where it is"
                    ),
                )
            return view, approval
        waiting = self.waiting()
        if not waiting:
            latest = self.executions(limit=1)
            said = ""
            if latest:
                said = (
                    f": the latest execution, {latest[0]['pipelineExecutionId']}, is "
                    f"{latest[0].get('status')}"
                )
            raise UsageError(
                f"nothing waits for approval in {self.pipeline}{said}",
                hint="deployer pipeline status shows where the latest execution is",
            )
        if len(waiting) > 1:
            named = ", ".join(f"{a.execution_id} at {a.label}" for a in waiting)
            raise UsageError(
                f"{len(waiting)} approvals wait in {self.pipeline}: {named}",
                hint="name one with --execution ID",
            )
        view = self.view(waiting[0].execution_id)
        approval = view.approval
        if approval is None:  # answered between the two reads
            raise UsageError(
                f"{waiting[0].label} of execution {waiting[0].execution_id} no longer waits",
                hint="deployer pipeline status shows where it is",
            )
        return view, approval

    def decide(self, execution_id: str | None, status: str, comment: str | None) -> Decision:
        """Approve or reject (``status`` Approved or Rejected) the approval waiting."""
        verb = "approve" if status == "Approved" else "reject"
        summary = comment if comment is not None else f"{status.lower()} with deployer {verb}"
        if len(summary) > MAX_COMMENT:
            raise UsageError(
                f"--comment is {len(summary)} characters; CodePipeline takes at most {MAX_COMMENT}"
            )
        view, approval = self.to_decide(execution_id)
        token = self._token(approval)
        try:
            answer = self.client.put_approval_result(
                pipelineName=self.pipeline,
                stageName=approval.stage,
                actionName=approval.action,
                result={"status": status, "summary": summary},
                token=token,
            )
        except ClientError as exc:
            if _code(exc) in ("ApprovalAlreadyCompletedException", "InvalidApprovalTokenException"):
                raise UsageError(
                    f"{approval.label} of execution {approval.execution_id} was answered "
                    f"meanwhile: {translate(exc, f'{verb} it').message}",
                    hint="deployer pipeline status shows where it is",
                ) from None
            raise translate(exc, f"{verb} {approval.label}") from None
        return Decision(view, approval, status, summary, _when(answer.get("approvedAt")))


def changes(view: ExecutionView, seen: dict[str, tuple[str, ...]]) -> list[str]:
    """Lines for what changed since ``seen`` (updated): the execution, each stage, each
    action that has started."""
    lines = []

    def changed(key: str, value: tuple[str, ...]) -> bool:
        if seen.get(key) == value:
            return False
        seen[key] = value
        return True

    # The execution's status first, but its ending last, after the steps that ended it.
    ending = view.ended and "execution" in seen
    if not ending and changed("execution", (view.status,)):
        lines.append(f"execution {view.execution_id}: {view.status}")
    for stage in view.stages:
        if stage.status and changed(f"stage {stage.name}", (stage.status, stage.note or "")):
            lines.append(
                f"{stage.name}: {stage.status}" + (f" ({stage.note})" if stage.note else "")
            )
        for action in stage.actions:
            if not action.status:
                continue
            said = action.summary or action.error or ""
            if not changed(f"action {action.label}", (action.status, said)):
                continue
            line = f"{action.label}: {action.status}"
            if action.status == "Succeeded" and action.variables.get(DEPLOYMENT_ID):
                line += f" ({DEPLOYMENT_ID} {action.variables[DEPLOYMENT_ID]})"
            if said:
                line += f" - {one_line(said, 200)}"
            if action.is_approval and action.status == "InProgress":
                line += " - waiting for approval"
            lines.append(line)
    if ending and changed("execution", (view.status,)):
        lines.append(f"execution {view.execution_id}: {view.status}")
    return lines


def runs_of(scope: Scope) -> Runs:
    """The delivery scope's pipeline."""
    return Runs(
        scope.client("codepipeline"),
        scope.config.names.delivery.pipeline_name,
        environment=scope.env.name,
        poll_seconds=POLL_LOCAL_S if scope.target.is_local else POLL_AWS_S,
    )
