"""``deployer report``: the four delivery metrics of an environment, from the platform's APIs.

Per environment and region, over a window (``--since``, 14 days by default), read with
the AWS API only (the same calls on AWS and on the local emulator):

* **production deployments**: the CodeDeploy deployments the pipeline's stage for the
  environment created (``Production`` for ``pipeline.production``, ``Staging`` for
  ``pipeline.staging``). CodePipeline's ListPipelineExecutions (newest first; executions
  started up to 7 days before the window still count, as a manual approval waits at most
  7 days) and ListActionExecutions of each: a ``CodeDeployToECS`` action's
  ``output.executionResult.externalExecutionId`` is its deployment ID, its
  ``input.region`` the region, its ``DeploymentGroupName`` the service. Each is read with
  CodeDeploy's GetDeployment (status, createTime, completeTime, rollbackInfo) and counts
  when it was created in the window. The drills' deployments (``deployer drill``,
  description "deployer drill ...") are never the pipeline's, and are excluded wherever
  they are found;
* **deployment frequency**: successful deployments per day and per week of the window;
* **lead time for changes**: the commit's committer date (CodeCommit GetCommit on the
  execution's source revision) to the deployment's completeTime, over successful
  deployments: median and 90th percentile (nearest rank);
* **change failure rate**: deployments rolled back (``rollbackInfo.rollbackDeploymentId``,
  or a deployment created by ``codeDeployRollback`` whose
  ``rollbackInfo.rollbackTriggeringDeploymentId`` names it, found with ListDeployments of
  the service's deployment group) over the deployments that ended (succeeded, rolled
  back or failed);
* **time to restore**: each time a service's composite health alarm
  (``<prefix>-<service>-health``) went from ALARM back to OK (CloudWatch
  DescribeAlarmHistory, ``StateUpdate`` items), and each rollback's duration (the
  ``codeDeployRollback`` deployment's createTime to its completeTime): median and worst.
  Alarm episodes that began while a drill's deployment ran are the drill's, not an
  incident, and are left out (and counted).

The window is ``--since`` back from now; the calls name its start only, and the report
ends at now or at the newest time the APIs report, if later: the local emulator's clock
runs ahead of the wall clock at a time scale above 1 (on AWS the two agree).

CloudWatch keeps alarm history for two weeks. For a longer window the part older than 14
days comes from the events the platform records itself: each runtime workspace's rule
sends its services' health alarms' "CloudWatch Alarm State Change" events to the
delivery account's default bus, whose rule writes them to the log group
``/aws/events/<delivery prefix>-alarm-state-changes`` (kept 400 days; both stacks'
``events.tf``), read with CloudWatch Logs FilterLogEvents (each message an event's JSON:
``detail.alarmName``, ``detail.state.value`` and ``.timestamp``,
``detail.previousState.value``; an event recorded twice counts once). The last 14 days
are read from CloudWatch alarm history always, the alarm's own record (no delivery that
can fail, nothing needed from the delivery account), so the default report reads no
recorded event; the recorded events fill only what CloudWatch no longer keeps. Each
alarm episode says where its start was read, each figure's sources say which sources it
was computed from, and a missing log group (the delivery stack not applied since) is a
note, not an error. CodePipeline keeps execution history for 12 months and CodeDeploy
its deployments: they need no recording.

Bad input (an unknown environment, one the pipeline does not deploy, a malformed
``--since``) is a usage error before any AWS call.
"""

from __future__ import annotations

import json
import math
import re
import statistics
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Any

from botocore.exceptions import ClientError

from deployer.aws import translate
from deployer.config import Config, Environment
from deployer.drill import DESCRIPTION_PREFIX
from deployer.errors import UsageError
from deployer.names import TargetNames
from deployer.output import table
from deployer.pipeline_runs import Runs, iso

#: The default window: CloudWatch keeps alarm history for two weeks.
DEFAULT_SINCE = "14d"
ALARM_HISTORY = timedelta(days=14)
#: Where an alarm episode's start was read.
FROM_ALARM_HISTORY = "CloudWatch alarm history"
FROM_ROLLBACKS = "CodeDeploy rollback deployments"
ALARM_EVENT = "CloudWatch Alarm State Change"


def alarm_events_log_group(delivery_prefix: str) -> str:
    """The delivery stack's log group of the health alarms' state changes
    (environments/stacks/delivery/events.tf; tests/unit/test_report.py holds them equal)."""
    return f"/aws/events/{delivery_prefix}-alarm-state-changes"


def from_recorded_events(log_group: str) -> str:
    return f"recorded events (log group {log_group})"


#: A manual approval waits at most 7 days: an execution started that long before the
#: window may still deploy in it.
APPROVAL_TIMEOUT = timedelta(days=7)
#: The description every drill deployment carries (deployer/drill.py's Release).
#: CodeDeploy's creator of a rollback deployment (DeploymentInfo.creator).
ROLLBACK_CREATOR = "codeDeployRollback"
DEPLOY_PROVIDER = "CodeDeployToECS"
#: Errors of a pipeline, application or deployment group that does not exist.
MISSING = (
    "PipelineNotFoundException",
    "ApplicationDoesNotExistException",
    "DeploymentGroupDoesNotExistException",
)

#: Outcomes of a production deployment.
SUCCEEDED, ROLLED_BACK, FAILED, IN_PROGRESS = "succeeded", "rolled back", "failed", "in progress"
#: GetDeployment statuses of a deployment that ended without success.
UNSUCCESSFUL = ("Failed", "Stopped")

#: Where each figure comes from (the issue asks the report to say).
SOURCES = {
    "deployments": "CodePipeline ListPipelineExecutions and ListActionExecutions (each "
    "CodeDeployToECS action's externalExecutionId), CodeDeploy GetDeployment",
    "deployment_frequency": "CodeDeploy GetDeployment: status Succeeded, createTime in the window",
    "lead_time": "CodeCommit GetCommit (the execution's source revision: committer date) "
    "to CodeDeploy GetDeployment completeTime",
    "change_failure_rate": "CodeDeploy GetDeployment rollbackInfo, and ListDeployments' "
    "codeDeployRollback deployments (rollbackTriggeringDeploymentId)",
    "time_to_restore": "CloudWatch DescribeAlarmHistory (StateUpdate ALARM to OK of each "
    "service's health alarm) and CodeDeploy rollback deployments (createTime to completeTime)",
}

_SINCE = re.compile(r"^(\d+)([dwh])$")
_UNITS = {"h": timedelta(hours=1), "d": timedelta(days=1), "w": timedelta(weeks=1)}


def parse_since(text: str) -> timedelta:
    """``14d``, ``2w`` or ``36h``; anything else a usage error naming the option."""
    found = _SINCE.match(text.strip())
    if not found or int(found.group(1)) == 0:
        raise UsageError(
            f"--since {text!r} is not a window: give a positive whole number of hours, days "
            "or weeks, such as 36h, 14d or 2w"
        )
    return int(found.group(1)) * _UNITS[found.group(2)]


def stage_of(config: Config, env: Environment) -> str:
    """The pipeline stage that deploys ``env``; a usage error for one it does not deploy."""
    stages = {config.pipeline.production: "Production", config.pipeline.staging: "Staging"}
    if env.name not in stages:
        raise UsageError(
            f"the pipeline does not deploy {env.name}: its Staging stage deploys "
            f"{config.pipeline.staging} and its Production stage {config.pipeline.production}",
            hint=f"deployer report {config.pipeline.production}",
        )
    return stages[env.name]


# ---------------------------------------------------------------------------
# What was read
# ---------------------------------------------------------------------------
def _utc(value: Any) -> datetime | None:
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        return value.astimezone(UTC) if value.tzinfo else value.replace(tzinfo=UTC)
    if isinstance(value, int | float):
        return datetime.fromtimestamp(value, UTC)
    return None


def commit_date(value: str | None) -> datetime | None:
    """A CodeCommit UserInfo date, "timestamp format with GMT offset" (``1764597600 +0000``)."""
    if not value:
        return None
    head = value.split()[0]
    if head.isdigit():
        return datetime.fromtimestamp(int(head), UTC)
    try:
        return _utc(datetime.fromisoformat(value.replace("Z", "+00:00")))
    except ValueError:
        return None


@dataclass(frozen=True)
class Deployment:
    """One production deployment: a CodeDeployToECS action's deployment."""

    deployment_id: str
    service: str
    region: str
    execution_id: str
    commit: str | None
    status: str
    created: datetime | None
    completed: datetime | None
    commit_time: datetime | None = None
    rollback_id: str | None = None
    rollback_created: datetime | None = None
    rollback_completed: datetime | None = None

    @property
    def outcome(self) -> str:
        if self.status == "Succeeded":
            return SUCCEEDED
        if self.rollback_id:
            return ROLLED_BACK
        if self.status in UNSUCCESSFUL:
            return FAILED
        return IN_PROGRESS

    @property
    def lead_time(self) -> float | None:
        """Commit to deployment succeeded, in seconds."""
        if self.outcome != SUCCEEDED or not (self.commit_time and self.completed):
            return None
        return (self.completed - self.commit_time).total_seconds()

    @property
    def rollback_seconds(self) -> float | None:
        if not (self.rollback_created and self.rollback_completed):
            return None
        return (self.rollback_completed - self.rollback_created).total_seconds()

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.deployment_id,
            "service": self.service,
            "region": self.region,
            "execution_id": self.execution_id,
            "commit": self.commit,
            "outcome": self.outcome,
            "status": self.status,
            "created": iso(self.created),
            "completed": iso(self.completed),
            "commit_time": iso(self.commit_time),
            "lead_time_seconds": self.lead_time,
            "rollback_id": self.rollback_id,
            "rollback_seconds": self.rollback_seconds,
        }


@dataclass(frozen=True)
class Episode:
    """A service's health alarm in ALARM: from ``start`` to back to OK at ``end``."""

    service: str
    region: str
    alarm: str
    start: datetime
    end: datetime | None  # None: not back to OK by the end of the window
    drill: bool = False
    #: Where its start was read: FROM_ALARM_HISTORY or from_recorded_events(...).
    source: str = FROM_ALARM_HISTORY

    @property
    def seconds(self) -> float | None:
        return (self.end - self.start).total_seconds() if self.end else None

    def to_json(self) -> dict[str, Any]:
        return {
            "service": self.service,
            "region": self.region,
            "alarm": self.alarm,
            "alarm_at": iso(self.start),
            "ok_at": iso(self.end),
            "seconds": self.seconds,
            "drill": self.drill,
            "source": self.source,
        }


# ---------------------------------------------------------------------------
# The figures
# ---------------------------------------------------------------------------
def median(values: list[float]) -> float | None:
    return float(statistics.median(values)) if values else None


def nearest_rank(values: list[float], percent: float) -> float | None:
    """The ``percent``th percentile by nearest rank: the ceil(p/100 * n)-th smallest."""
    if not values:
        return None
    ordered = sorted(values)
    return ordered[max(1, math.ceil(percent / 100 * len(ordered))) - 1]


@dataclass(frozen=True)
class Figures:
    """The four figures of one region (or ``all`` of them) over the window."""

    region: str
    days: float
    deployments: list[Deployment]
    episodes: list[Episode]

    def _count(self, outcome: str) -> int:
        return sum(1 for d in self.deployments if d.outcome == outcome)

    @property
    def counts(self) -> dict[str, int]:
        return {o: self._count(o) for o in (SUCCEEDED, ROLLED_BACK, FAILED, IN_PROGRESS)}

    @property
    def per_day(self) -> float:
        return self._count(SUCCEEDED) / self.days

    @property
    def per_week(self) -> float:
        return self._count(SUCCEEDED) / self.days * 7

    @property
    def lead_times(self) -> list[float]:
        return [d.lead_time for d in self.deployments if d.lead_time is not None]

    @property
    def change_failure_rate(self) -> float | None:
        ended = sum(1 for d in self.deployments if d.outcome != IN_PROGRESS)
        return self._count(ROLLED_BACK) / ended if ended else None

    @property
    def restores(self) -> list[tuple[float, str]]:
        """Each time to restore, in seconds, and where it was read."""
        alarms = [(e.seconds, e.source) for e in self.episodes
                  if not e.drill and e.seconds is not None]  # fmt: skip
        rollbacks = [(d.rollback_seconds, FROM_ROLLBACKS) for d in self.deployments
                     if d.rollback_seconds]  # fmt: skip
        return [(seconds, source) for seconds, source in alarms + rollbacks if seconds is not None]

    @property
    def restore_times(self) -> list[float]:
        return [seconds for seconds, _source in self.restores]

    @property
    def restore_sources(self) -> dict[str, int]:
        """How many restore times each source gave, in the order first seen."""
        found: dict[str, int] = {}
        for _seconds, source in self.restores:
            found[source] = found.get(source, 0) + 1
        return found

    def to_json(self) -> dict[str, Any]:
        lead, restore = self.lead_times, self.restore_times
        return {
            "region": self.region,
            "deployments": len(self.deployments),
            "outcomes": self.counts,
            "deployment_frequency": {"per_day": self.per_day, "per_week": self.per_week},
            "lead_time_seconds": {
                "median": median(lead),
                "p90": nearest_rank(lead, 90),
                "samples": len(lead),
            },
            "change_failure_rate": self.change_failure_rate,
            "time_to_restore_seconds": {
                "median": median(restore),
                "worst": max(restore) if restore else None,
                "samples": len(restore),
                "from": self.restore_sources,
            },
        }

    def row(self) -> tuple[str, ...]:
        lead, restore = self.lead_times, self.restore_times
        c = self.counts
        outcome = f"{len(self.deployments)} ({c[SUCCEEDED]} ok, {c[ROLLED_BACK]} rolled back"
        outcome += f", {c[FAILED]} failed)" if c[FAILED] else ")"
        rate = self.change_failure_rate
        return (
            self.region,
            outcome,
            f"{self.per_day:.2f}",
            f"{self.per_week:.1f}",
            duration(median(lead)),
            duration(nearest_rank(lead, 90)),
            "-" if rate is None else f"{rate:.0%}",
            duration(median(restore)),
            duration(max(restore) if restore else None),
        )


COLUMNS = (
    "region",
    "deployments",
    "per day",
    "per week",
    "lead median",
    "lead p90",
    "failure rate",
    "restore median",
    "restore worst",
)


def duration(seconds: float | None) -> str:
    """``3d 4h``, ``2h 05m``, ``12m 30s``, ``45s``; ``-`` for none."""
    if seconds is None:
        return "-"
    s = round(seconds)
    days, rest = divmod(s, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    if days:
        return f"{days}d {hours}h"
    if hours:
        return f"{hours}h {minutes:02d}m"
    if minutes:
        return f"{minutes}m {secs:02d}s"
    return f"{secs}s"


@dataclass(frozen=True)
class Report:
    environment: str
    stage: str
    since: datetime
    #: Now, or the newest time the APIs reported when that is later (the emulator's clock
    #: runs ahead of the wall clock at a time scale above 1).
    until: datetime
    window: timedelta
    regions: list[str]
    deployments: list[Deployment]
    episodes: list[Episode]
    drills_excluded: int = 0
    notes: list[str] = field(default_factory=list)
    #: Each figure's sources (SOURCES, with the recorded events when they were read).
    sources: dict[str, str] = field(default_factory=lambda: dict(SOURCES))

    @property
    def days(self) -> float:
        return self.window.total_seconds() / 86400

    def figures(self, region: str | None = None) -> Figures:
        """One region's figures, or every region's together (``all``)."""
        return Figures(
            region or "all",
            self.days,
            [d for d in self.deployments if region in (None, d.region)],
            [e for e in self.episodes if region in (None, e.region)],
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "environment": self.environment,
            "stage": self.stage,
            "since": iso(self.since),
            "until": iso(self.until),
            "days": self.days,
            "regions": [self.figures(r).to_json() for r in self.regions],
            "all": self.figures().to_json(),
            "sources": dict(self.sources),
            "notes": list(self.notes),
            "drills_excluded": self.drills_excluded,
            "deployments": [d.to_json() for d in self.deployments],
            "alarm_episodes": [e.to_json() for e in self.episodes],
        }

    def to_text(self) -> str:
        rows = [self.figures(r).row() for r in self.regions]
        if len(self.regions) > 1:
            rows.append(self.figures().row())
        lines = [
            f"{self.environment} ({self.stage} stage), {iso(self.since)} to {iso(self.until)} "
            f"({self.days:g} days)",
            "",
            table(COLUMNS, rows),
            "",
            "sources:",
            *(f"  {k.replace('_', ' ')}: {v}" for k, v in self.sources.items()),
        ]
        if self.notes or self.drills_excluded:
            lines += ["", "notes:"]
            lines += [f"  {n}" for n in self.notes]
            if self.drills_excluded:
                lines.append(f"  {self.drills_excluded} drill deployment(s) left out")
        if self.episodes:
            lines += [
                "",
                table(
                    ("alarm episode", "region", "alarm at", "ok at", "lasted", "source"),
                    [
                        (
                            e.service + (" (drill)" if e.drill else ""),
                            e.region,
                            iso(e.start) or "-",
                            iso(e.end) or "-",
                            duration(e.seconds),
                            e.source,
                        )
                        for e in self.episodes
                    ],
                ),
            ]
        if self.deployments:
            lines += [
                "",
                table(
                    ("deployment", "service", "region", "commit", "outcome", "completed"),
                    [
                        (
                            d.deployment_id,
                            d.service,
                            d.region,
                            (d.commit or "-")[:12],
                            d.outcome,
                            iso(d.completed) or "-",
                        )
                        for d in self.deployments
                    ],
                ),
            ]
        return "\n".join(lines)


# ---------------------------------------------------------------------------
# Reading the APIs
# ---------------------------------------------------------------------------
def _code(exc: ClientError) -> str:
    return str(exc.response.get("Error", {}).get("Code", ""))


def _call(doing: str, method: Callable[..., Any], *, hint: str | None = None, **kwargs: Any) -> Any:
    try:
        return method(**kwargs)
    except ClientError as exc:
        error = translate(exc, doing)
        if _code(exc) in MISSING:
            error.hint = hint or error.hint
        raise error from None


@dataclass
class Sources:
    """The clients the report reads: the delivery account's CodePipeline, CodeCommit and
    CloudWatch Logs, and each region's CodeDeploy and CloudWatch in the environment's
    account."""

    codepipeline: Any
    codecommit: Any
    pipeline: str
    delivery_region: str
    codedeploy: Callable[[str], Any]
    cloudwatch: Callable[[str], Any]
    names: Callable[[str], TargetNames]
    #: The delivery account's CloudWatch Logs (its region) and the recorded alarm events'
    #: log group there, read for the part of a window older than ALARM_HISTORY.
    logs: Any
    alarm_events_log_group: str


class Reader:
    """The API calls of one report: paged, translated, each deployment and commit read once."""

    def __init__(self, sources: Sources, stage: str, since: datetime) -> None:
        self.sources = sources
        self.stage = stage
        self.since = since
        self._deployments: dict[str, dict[str, Any]] = {}
        self._commits: dict[str, datetime | None] = {}

    # -- CodePipeline ------------------------------------------------------------------------
    def executions(self) -> list[dict[str, Any]]:
        """Executions started from APPROVAL_TIMEOUT before the window on, newest first."""
        oldest = self.since - APPROVAL_TIMEOUT
        found: list[dict[str, Any]] = []
        kwargs: dict[str, Any] = {"pipelineName": self.sources.pipeline}
        while True:
            page = _call(
                "list the pipeline's executions",
                self.sources.codepipeline.list_pipeline_executions,
                hint="apply the delivery stack first (deployer apply on the delivery environment)",
                **kwargs,
            )
            for summary in page.get("pipelineExecutionSummaries") or []:
                started = _utc(summary.get("startTime"))
                if started is not None and started < oldest:
                    return found
                found.append(summary)
            if not page.get("nextToken"):
                return found
            kwargs["nextToken"] = page["nextToken"]

    def pipeline_deployments(self) -> list[tuple[dict[str, Any], dict[str, Any], dict[str, Any]]]:
        """(execution summary, source action detail or {}, deploy action detail) of every
        CodeDeployToECS action of the stage that started a deployment."""
        runs = Runs(self.sources.codepipeline, self.sources.pipeline)
        found = []
        for summary in self.executions():
            details = runs.action_executions(str(summary["pipelineExecutionId"]))
            source = next(
                (d for d in details if (d.get("input") or {}).get("actionTypeId", {}).get(
                    "category") == "Source"),
                {},
            )  # fmt: skip
            for detail in details:
                kind = (detail.get("input") or {}).get("actionTypeId") or {}
                result = (detail.get("output") or {}).get("executionResult") or {}
                if (
                    detail.get("stageName") == self.stage
                    and kind.get("provider") == DEPLOY_PROVIDER
                    and result.get("externalExecutionId")
                ):
                    found.append((summary, source, detail))
        return found

    # -- CodeCommit ----------------------------------------------------------------------------
    def commit_time(self, repository: str | None, commit: str | None) -> datetime | None:
        if not (repository and commit):
            return None
        if commit not in self._commits:
            answer = _call(
                f"read commit {commit}",
                self.sources.codecommit.get_commit,
                repositoryName=repository,
                commitId=commit,
            )
            self._commits[commit] = commit_date(
                ((answer.get("commit") or {}).get("committer") or {}).get("date")
            )
        return self._commits[commit]

    # -- CodeDeploy ----------------------------------------------------------------------------
    def deployment(self, region: str, deployment_id: str) -> dict[str, Any]:
        if deployment_id not in self._deployments:
            answer = _call(
                f"read deployment {deployment_id} in {region}",
                self.sources.codedeploy(region).get_deployment,
                deploymentId=deployment_id,
            )
            self._deployments[deployment_id] = answer.get("deploymentInfo") or {}
        return self._deployments[deployment_id]

    def group_deployments(self, region: str, application: str, group: str) -> list[dict[str, Any]]:
        """Every deployment of a deployment group created in the window (ListDeployments)."""
        ids: list[str] = []
        kwargs: dict[str, Any] = {
            "applicationName": application,
            "deploymentGroupName": group,
            "createTimeRange": {"start": self.since},
        }
        client = self.sources.codedeploy(region)
        while True:
            try:
                page = client.list_deployments(**kwargs)
            except ClientError as exc:
                if _code(exc) in MISSING:  # not applied there (yet): nothing deployed
                    return []
                raise translate(exc, f"list the deployments of {group}") from None
            ids += page.get("deployments") or []
            if not page.get("nextToken"):
                break
            kwargs["nextToken"] = page["nextToken"]
        return [self.deployment(region, i) for i in ids]

    # -- CloudWatch ----------------------------------------------------------------------------
    def alarm_changes(
        self, region: str, alarm: str, start: datetime
    ) -> list[tuple[datetime, str, str]]:
        """(time, old state, new state) of the alarm's StateUpdate items from ``start`` on,
        oldest first."""
        found: list[tuple[datetime, str, str]] = []
        kwargs: dict[str, Any] = {
            "AlarmName": alarm,
            "AlarmTypes": ["CompositeAlarm", "MetricAlarm"],
            "HistoryItemType": "StateUpdate",
            "StartDate": start,
            "ScanBy": "TimestampAscending",
        }
        client = self.sources.cloudwatch(region)
        while True:
            page = _call(f"read the history of {alarm}", client.describe_alarm_history, **kwargs)
            for item in page.get("AlarmHistoryItems") or []:
                when = _utc(item.get("Timestamp"))
                try:
                    data = json.loads(item.get("HistoryData") or "{}")
                except ValueError:
                    continue
                old = str((data.get("oldState") or {}).get("stateValue") or "")
                new = str((data.get("newState") or {}).get("stateValue") or "")
                if when is not None and new:
                    found.append((when, old, new))
            if not page.get("NextToken"):
                break
            kwargs["NextToken"] = page["NextToken"]
        return sorted(found, key=lambda c: c[0])

    # -- CloudWatch Logs: the recorded alarm events ------------------------------------------
    def recorded_changes(self, start: datetime, end: datetime) -> Recorded | None:
        """The recorded health alarm state changes from ``start`` up to ``end`` (not
        included), by (account, region, alarm), oldest first; None when the log group does
        not exist."""
        group = self.sources.alarm_events_log_group
        kwargs: dict[str, Any] = {
            "logGroupName": group,
            "startTime": _millis(start),
            "endTime": _millis(end) - 1,  # FilterLogEvents' endTime is included
        }
        seen: set[str] = set()
        found: Recorded = {}
        while True:
            try:
                page = self.sources.logs.filter_log_events(**kwargs)
            except ClientError as exc:
                if _code(exc) == "ResourceNotFoundException":
                    return None
                raise translate(exc, f"read the recorded alarm events ({group})") from None
            for item in page.get("events") or []:
                event = recorded_event(item.get("message"))
                if event is None or event.event_id in seen or not start <= event.when < end:
                    continue
                seen.add(event.event_id)
                key = (event.account, event.region, event.alarm)
                found.setdefault(key, []).append((event.when, event.old, event.new))
            if not page.get("nextToken"):
                break
            kwargs["nextToken"] = page["nextToken"]
        return {key: sorted(changes, key=lambda c: c[0]) for key, changes in found.items()}


#: Recorded state changes by (account, region, alarm): (time, old state, new state).
Recorded = dict[tuple[str, str, str], list[tuple[datetime, str, str]]]


def _millis(moment: datetime) -> int:
    return int(moment.timestamp() * 1000)


@dataclass(frozen=True)
class RecordedEvent:
    """One recorded "CloudWatch Alarm State Change" event."""

    event_id: str
    account: str
    region: str
    alarm: str
    when: datetime
    old: str
    new: str


def recorded_event(message: str | None) -> RecordedEvent | None:
    """The alarm state change a recorded log message holds (the event's JSON), or None.

    Its time is the state's ``timestamp`` (milliseconds, ``2026-12-08T09:25:00.000+0000``),
    as in alarm history; the event's ``time`` (seconds) when that is missing."""
    try:
        event = json.loads(message or "")
    except ValueError:
        return None
    if not isinstance(event, dict) or event.get("detail-type") != ALARM_EVENT:
        return None
    detail: dict[str, Any] = event["detail"] if isinstance(event.get("detail"), dict) else {}
    state: dict[str, Any] = detail.get("state") or {}
    when = _iso_time(state.get("timestamp")) or _iso_time(event.get("time"))
    if when is None or not detail.get("alarmName") or not state.get("value"):
        return None
    return RecordedEvent(
        event_id=str(event.get("id") or ""),
        account=str(event.get("account") or ""),
        region=str(event.get("region") or ""),
        alarm=str(detail["alarmName"]),
        when=when,
        old=str((detail.get("previousState") or {}).get("value") or ""),
        new=str(state["value"]),
    )


def _iso_time(value: Any) -> datetime | None:
    if not isinstance(value, str) or not value:
        return None
    try:
        return _utc(datetime.fromisoformat(value.replace("Z", "+00:00")))
    except ValueError:
        return None


def episodes_of(
    changes: Iterable[tuple[datetime, str, str]], service: str, region: str, alarm: str
) -> list[Episode]:
    """ALARM to OK spans; one that began before the window (its start unknown) is left out,
    one still in ALARM at the end has no end."""
    found: list[Episode] = []
    start: datetime | None = None
    for when, _old, new in changes:
        if new == "ALARM" and start is None:
            start = when
        elif new == "OK" and start is not None:
            found.append(Episode(service, region, alarm, start, when))
            start = None
    if start is not None:
        found.append(Episode(service, region, alarm, start, None))
    return found


def is_drill(info: dict[str, Any]) -> bool:
    return str(info.get("description") or "").startswith(DESCRIPTION_PREFIX)


def build(
    sources: Sources,
    config: Config,
    env: Environment,
    window: timedelta,
    *,
    now: datetime,
    progress: Callable[[str], None] = lambda _m: None,
) -> Report:
    """Read the APIs and compute the report of ``env`` over ``window`` ending ``now``."""
    stage = stage_of(config, env)
    regions = [r.name for r in env.regions]
    until = now.astimezone(UTC)
    since = until - window
    reader = Reader(sources, stage, since)
    notes: list[str] = []
    figure_sources = dict(SOURCES)
    # CloudWatch alarm history for the last 14 days; the recorded events before them.
    history_from = max(since, until - ALARM_HISTORY)
    recorded: Recorded | None = {}
    group = sources.alarm_events_log_group
    if history_from > since:
        progress(f"report: reading the recorded alarm events ({group})")
        recorded = reader.recorded_changes(since, history_from)
        if recorded is None:
            notes.append(
                f"CloudWatch keeps alarm history for 14 days and the recorded alarm events' "
                f"log group {group} does not exist (apply the delivery stack): alarm episodes "
                f"before {iso(history_from)} are not available, so time to restore covers "
                "the last 14 days of alarms (rollbacks: the whole window)"
            )
        else:
            notes.append(
                f"alarm episodes before {iso(history_from)} come from the recorded events "
                f"(log group {group}, in the delivery account; recorded since the stacks "
                "made the rules), later ones from CloudWatch alarm history (14 days)"
            )
            figure_sources["time_to_restore"] += (
                f"; before {iso(history_from)}: the recorded events (CloudWatch Logs "
                f"FilterLogEvents on {group} in the delivery account: each health alarm's "
                f'"{ALARM_EVENT}" events)'
            )

    progress(f"report: reading {sources.pipeline}'s executions ({stage} stage)")
    deployments, drills = _pipeline_deployments(reader, regions, since)
    episodes: list[Episode] = []
    for region in regions:
        progress(f"report: reading {env.name} {region}'s deployments and alarm history")
        rollbacks, drilled, found = _region(reader, region, history_from, recorded or {})
        drills |= drilled
        episodes += found
        for i, d in enumerate(deployments):
            if d.region != region or d.status not in UNSUCCESSFUL:
                continue
            undone: dict[str, Any] | None = (
                reader.deployment(region, d.rollback_id)
                if d.rollback_id
                else rollbacks.get(d.deployment_id)
            )
            if undone:
                deployments[i] = replace(
                    d,
                    rollback_id=str(undone.get("deploymentId") or d.rollback_id),
                    rollback_created=_utc(undone.get("createTime")),
                    rollback_completed=_utc(undone.get("completeTime")),
                )
    drill_episodes = sum(1 for e in episodes if e.drill)
    if drill_episodes:
        notes.append(
            f"{drill_episodes} alarm episode(s) began during a drill and are left out of "
            "time to restore"
        )
    deployments.sort(key=lambda d: (d.created or since, d.region, d.service))
    return Report(
        environment=env.name,
        stage=stage,
        since=since,
        until=max(
            [until]
            + [t for d in deployments for t in (d.completed, d.rollback_completed) if t]
            + [t for e in episodes for t in (e.start, e.end) if t]
        ),
        window=window,
        regions=regions,
        deployments=deployments,
        episodes=episodes,
        drills_excluded=len(drills),
        notes=notes,
        sources=figure_sources,
    )


def _pipeline_deployments(
    reader: Reader, regions: list[str], since: datetime
) -> tuple[list[Deployment], set[str]]:
    """The stage's deployments in ``regions`` created since ``since``, and the IDs of drills
    found among them (left out)."""
    sources = reader.sources
    drills: set[str] = set()
    deployments: list[Deployment] = []
    seen: set[str] = set()
    for summary, source, detail in reader.pipeline_deployments():
        action_input = detail.get("input") or {}
        region = str(action_input.get("region") or sources.delivery_region)
        deployment_id = str(detail["output"]["executionResult"]["externalExecutionId"])
        if region not in regions or deployment_id in seen:
            continue
        seen.add(deployment_id)
        info = reader.deployment(region, deployment_id)
        created = _utc(info.get("createTime"))
        if created is None or created < since:
            continue
        if is_drill(info):
            drills.add(deployment_id)
            continue
        group = str((action_input.get("configuration") or {}).get("DeploymentGroupName") or "")
        services = {s.deployment_group_name: m for m, s in sources.names(region).services.items()}
        service = services.get(group) or str(info.get("deploymentGroupName") or "")
        revisions = summary.get("sourceRevisions") or []
        source_input = source.get("input") or {}
        commit = (revisions[0].get("revisionId") if revisions else None) or (
            (source.get("output") or {}).get("outputVariables") or {}
        ).get("CommitId")
        commit_time = (
            reader.commit_time((source_input.get("configuration") or {}).get("RepositoryName"),
                               commit)
            if (source_input.get("actionTypeId") or {}).get("provider") == "CodeCommit"
            else None
        )  # fmt: skip
        deployments.append(
            Deployment(
                deployment_id=deployment_id,
                service=service or str(detail.get("actionName")),
                region=region,
                execution_id=str(summary["pipelineExecutionId"]),
                commit=commit,
                status=str(info.get("status") or ""),
                created=created,
                completed=_utc(info.get("completeTime")),
                commit_time=commit_time,
                rollback_id=(info.get("rollbackInfo") or {}).get("rollbackDeploymentId"),
            )
        )
    return deployments, drills


def _region(
    reader: Reader, region: str, history_from: datetime, recorded: Recorded
) -> tuple[dict[str, dict[str, Any]], set[str], list[Episode]]:
    """Every deployment of each service's group in the window: the rollback deployments by
    the deployment they rolled back, the drills; and the health alarms' episodes (the
    recorded changes before ``history_from``, alarm history's from it on), those that
    began while a drill ran marked as the drill's."""
    target = reader.sources.names(region)
    rollbacks: dict[str, dict[str, Any]] = {}
    drills: set[str] = set()
    episodes: list[Episode] = []
    for microservice, names in target.services.items():
        infos = reader.group_deployments(region, target.application_name,
                                         names.deployment_group_name)  # fmt: skip
        by_id = {str(i.get("deploymentId")): i for i in infos}
        spans: list[tuple[datetime, datetime]] = []
        for info in infos:
            rollback = info.get("rollbackInfo") or {}
            if info.get("creator") == ROLLBACK_CREATOR and rollback.get(
                "rollbackTriggeringDeploymentId"
            ):
                rollbacks[str(rollback["rollbackTriggeringDeploymentId"])] = info
            if is_drill(info):
                drills.add(str(info.get("deploymentId")))
                linked = by_id.get(str(rollback.get("rollbackDeploymentId"))) or info
                spans.append((
                    _utc(info.get("createTime")) or reader.since,
                    _utc(linked.get("completeTime")) or datetime.max.replace(tzinfo=UTC),
                ))  # fmt: skip
        alarm = names.alarm_names.health
        earlier = recorded.get((target.account_id, region, alarm), [])
        changes = earlier + reader.alarm_changes(region, alarm, history_from)
        recorded_source = from_recorded_events(reader.sources.alarm_events_log_group)
        for episode in episodes_of(changes, microservice, region, alarm):
            drill = any(begun <= episode.start <= ended for begun, ended in spans)
            source = recorded_source if episode.start < history_from else FROM_ALARM_HISTORY
            episodes.append(replace(episode, drill=drill, source=source))
    return rollbacks, drills, episodes
