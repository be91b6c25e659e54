"""deployer report: the four delivery metrics from stubbed API answers with fixed times.

The fakes answer CodePipeline, CodeCommit, CodeDeploy and CloudWatch calls in the APIs'
shapes, a few items a page (so every call's pagination is followed), and check each
request against botocore's model of the service. The scenario, in prod over the 14 days
to 2026-12-15 12:00 UTC:

* release 1 (commit 12-02 10:00): api-service deployed in us-east-1 (completed 12:00) and
  us-west-2 (12:30);
* release 2 (commit 12-05 09:00): us-east-1 stopped by the deploy guard, rolled back by
  d-4 (rollbackInfo both ways; 10:10 to 10:16);
* release 3 (commit 12-08 08:00): us-east-1 stopped by an alarm; its rollback d-6 names it
  only from its side (rollbackTriggeringDeploymentId; 09:30 to 09:34); the health alarm
  ALARM 09:25, OK 09:40;
* release 4 (commit 12-10 06:00): us-east-1 completed 10:00, us-west-2 11:00;
* a drill in us-east-1 (12-12, "deployer drill ...", rolled back by d-10), the health
  alarm in ALARM during it (10:03 to 10:08): none of it counts;
* us-west-2's health alarm ALARM 12-13 00:00, OK 01:00 (no deployment: an incident);
* an execution started 2026-11-20, before the window and its 7-day approval look-back:
  never read.

The delivery account's recorded alarm events (the log group both stacks' events.tf make),
read only for a window longer than CloudWatch's 14 days of alarm history: over the 4 weeks
from 11-17 12:00, what precedes 12-01 12:00 comes from them:

* us-east-1's health alarm ALARM 11-20 03:00, OK 03:45 (recorded twice: one event);
* us-west-2's ALARM 11-30 23:00 (recorded), back to OK 12-01 13:00 (alarm history);
* staging's alarm, and prod's alarm name from another account: not prod's;
* us-east-1's 12-08 09:25 ALARM is recorded too, and read from alarm history only;
* 11-10 (before the window) and a message that is not an event: left out.

Every expected number below is worked out by hand in the comment beside it.
"""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import botocore.session
import pytest
from botocore.validate import validate_parameters

from deployer import report, report_html
from deployer.cli import main
from deployer.config import Config
from deployer.errors import EXIT_USAGE, UsageError
from deployer.report import Report, Sources, parse_since

NOW = datetime(2026, 12, 15, 12, 0, tzinfo=UTC)
PIPELINE = "acme-shop-delivery-pipeline"
RECORDS = "/aws/events/acme-shop-delivery-alarm-state-changes"
PROD_ACCOUNT = "444444444444"
REPOSITORY = "acme-shop-delivery-monorepo"
APP = "acme-shop-prod-services"
API_GROUP = "acme-shop-prod-api-service"
API_HEALTH = "acme-shop-prod-api-service-health"
_SESSION = botocore.session.get_session()


def at(day: int, hour: int, minute: int = 0) -> datetime:
    """December 2026's ``day``; from the 16th on, November's (the recorded events)."""
    month = 12 if day <= 15 else 11
    return datetime(2026, month, day, hour, minute, tzinfo=UTC) if day > 0 else NOW


def check(service: str, operation: str, params: dict[str, Any]) -> None:
    """Refuse a request AWS would refuse (botocore's model of the service)."""
    shape = _SESSION.get_service_model(service).operation_model(operation).input_shape
    validate_parameters(params, shape)


def page_of(items: list[Any], token: str | None, size: int) -> tuple[list[Any], str | None]:
    start = int(token or 0)
    after = start + size
    return items[start:after], (str(after) if after < len(items) else None)


# ---------------------------------------------------------------------------
# Fakes
# ---------------------------------------------------------------------------
class FakeCodePipeline:
    def __init__(self) -> None:
        self.summaries: list[dict[str, Any]] = []  # newest first
        self.details: dict[str, list[dict[str, Any]]] = {}
        self.read: list[str] = []

    def execution(
        self, execution: str, started: datetime, commit: str, deploys: list[tuple[str, str, str]]
    ) -> None:
        """An execution of ``commit``: its Source action and Production deploys
        (action name, region, deployment id)."""
        self.summaries.append(
            {
                "pipelineExecutionId": execution,
                "status": "Succeeded",
                "startTime": started,
                "lastUpdateTime": started + timedelta(hours=3),
                "sourceRevisions": [{"actionName": "Source", "revisionId": commit}],
            }
        )
        source = {
            "pipelineExecutionId": execution,
            "actionExecutionId": f"{execution}-source",
            "stageName": "Source",
            "actionName": "Source",
            "startTime": started,
            "status": "Succeeded",
            "input": {
                "actionTypeId": kind("Source", "CodeCommit"),
                "configuration": {"RepositoryName": REPOSITORY, "BranchName": "main"},
                "region": "us-east-1",
            },
            "output": {
                "executionResult": {"externalExecutionId": commit},
                "outputVariables": {"CommitId": commit},
            },
        }
        staging = {  # the Staging stage's deployment: not prod's
            **source,
            "actionExecutionId": f"{execution}-staging",
            "stageName": "Staging",
            "actionName": "api-service",
            "input": {"actionTypeId": kind("Deploy", "CodeDeployToECS"), "region": "us-east-1"},
            "output": {"executionResult": {"externalExecutionId": f"d-STAGING{execution}"}},
        }
        found = [source, staging]
        for name, region, deployment in deploys:
            found.append(
                {
                    "pipelineExecutionId": execution,
                    "actionExecutionId": f"{execution}-{name}",
                    "stageName": "Production",
                    "actionName": name,
                    "startTime": started + timedelta(hours=1),
                    "status": "Succeeded",
                    "input": {
                        "actionTypeId": kind("Deploy", "CodeDeployToECS"),
                        "configuration": {
                            "ApplicationName": APP,
                            "DeploymentGroupName": API_GROUP,
                        },
                        "region": region,
                    },
                    "output": {"executionResult": {"externalExecutionId": deployment}},
                }
            )
        self.details[execution] = found

    def list_pipeline_executions(self, **params: Any) -> dict[str, Any]:
        check("codepipeline", "ListPipelineExecutions", params)
        assert params["pipelineName"] == PIPELINE
        items, token = page_of(self.summaries, params.get("nextToken"), 2)
        return {"pipelineExecutionSummaries": items, **({"nextToken": token} if token else {})}

    def list_action_executions(self, **params: Any) -> dict[str, Any]:
        check("codepipeline", "ListActionExecutions", params)
        execution = params["filter"]["pipelineExecutionId"]
        self.read.append(execution)
        items, token = page_of(self.details[execution], params.get("nextToken"), 2)
        return {"actionExecutionDetails": items, **({"nextToken": token} if token else {})}


def kind(category: str, provider: str) -> dict[str, str]:
    return {"category": category, "owner": "AWS", "provider": provider, "version": "1"}


class FakeCodeCommit:
    def __init__(self, dates: dict[str, datetime]) -> None:
        self.dates = dates

    def get_commit(self, **params: Any) -> dict[str, Any]:
        check("codecommit", "GetCommit", params)
        assert params["repositoryName"] == REPOSITORY
        stamp = f"{int(self.dates[params['commitId']].timestamp())} +0000"
        user = {"name": "dev", "email": "dev@example.com", "date": stamp}
        return {"commit": {"commitId": params["commitId"], "committer": user, "author": user}}


class FakeCodeDeploy:
    def __init__(self) -> None:
        self.infos: dict[str, dict[str, Any]] = {}

    def add(self, deployment: str, status: str, created: datetime, completed: datetime,
            **extra: Any) -> None:  # fmt: skip
        self.infos[deployment] = {
            "applicationName": APP,
            "deploymentGroupName": API_GROUP,
            "deploymentId": deployment,
            "status": status,
            "creator": "user",
            "createTime": created,
            "completeTime": completed,
            **extra,
        }

    def get_deployment(self, **params: Any) -> dict[str, Any]:
        check("codedeploy", "GetDeployment", params)
        return {"deploymentInfo": self.infos[params["deploymentId"]]}

    def list_deployments(self, **params: Any) -> dict[str, Any]:
        check("codedeploy", "ListDeployments", params)
        span = params["createTimeRange"]
        ids = [
            i
            for i, info in self.infos.items()
            if info["deploymentGroupName"] == params["deploymentGroupName"]
            and span["start"] <= info["createTime"]
        ]
        items, token = page_of(ids, params.get("nextToken"), 2)
        return {"deployments": items, **({"nextToken": token} if token else {})}


class FakeCloudWatch:
    def __init__(self) -> None:
        self.items: list[dict[str, Any]] = []

    def change(self, alarm: str, when: datetime, old: str, new: str) -> None:
        data = {"version": "1.0", "oldState": {"stateValue": old}, "newState": {"stateValue": new}}
        self.items.append(
            {
                "AlarmName": alarm,
                "AlarmType": "CompositeAlarm",
                "Timestamp": when,
                "HistoryItemType": "StateUpdate",
                "HistorySummary": f"Alarm updated from {old} to {new}",
                "HistoryData": json.dumps(data),
            }
        )

    def describe_alarm_history(self, **params: Any) -> dict[str, Any]:
        check("cloudwatch", "DescribeAlarmHistory", params)
        # AlarmTypes left out: only metric alarms (the health alarm is a composite).
        assert "CompositeAlarm" in params["AlarmTypes"]
        found = [
            i
            for i in self.items
            if i["AlarmName"] == params["AlarmName"]
            and i["HistoryItemType"] == params["HistoryItemType"]
            and params["StartDate"] <= i["Timestamp"]
        ]
        found.sort(
            key=lambda i: i["Timestamp"], reverse=params.get("ScanBy") != "TimestampAscending"
        )
        items, token = page_of(found, params.get("NextToken"), 1)
        return {"AlarmHistoryItems": items, **({"NextToken": token} if token else {})}


class FakeLogs:
    """The delivery account's CloudWatch Logs: the recorded events' log group, one event a
    page; FilterLogEvents' startTime and endTime both included, as AWS documents."""

    def __init__(self, exists: bool = True) -> None:
        self.exists = exists
        self.items: list[dict[str, Any]] = []
        self.calls: list[dict[str, Any]] = []

    def record(self, when: datetime, alarm: str, old: str, new: str, *,
               event_id: str | None = None, account: str = PROD_ACCOUNT,
               region: str = "us-east-1") -> None:  # fmt: skip
        """An alarm state change as EventBridge writes it: the event's JSON, its time."""
        stamp = when.strftime("%Y-%m-%dT%H:%M:%S.") + f"{when.microsecond // 1000:03d}+0000"
        event = {
            "version": "0",
            "id": event_id or f"ev-{len(self.items)}",
            "detail-type": "CloudWatch Alarm State Change",
            "source": "aws.cloudwatch",
            "account": account,
            "time": when.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "region": region,
            "resources": [f"arn:aws:cloudwatch:{region}:{account}:alarm:{alarm}"],
            "detail": {
                "alarmName": alarm,
                "state": {"value": new, "timestamp": stamp},
                "previousState": {"value": old},
            },
        }
        self.message(when, json.dumps(event))

    def message(self, when: datetime, text: str) -> None:
        self.items.append({"timestamp": int(when.timestamp()) * 1000, "message": text})

    def filter_log_events(self, **params: Any) -> dict[str, Any]:
        check("logs", "FilterLogEvents", params)
        self.calls.append(params)
        if not self.exists:
            from botocore.exceptions import ClientError

            error = {"Code": "ResourceNotFoundException", "Message": "no log group"}
            raise ClientError({"Error": error}, "FilterLogEvents")
        assert params["logGroupName"] == RECORDS
        found = [
            {"logStreamName": "s", "eventId": str(n), **i}
            for n, i in enumerate(self.items)
            if params["startTime"] <= i["timestamp"] <= params["endTime"]
        ]
        items, token = page_of(found, params.get("nextToken"), 1)
        return {"events": items, **({"nextToken": token} if token else {})}


def records(logs: FakeLogs) -> None:
    """The recorded events of the scenario (the module docstring)."""
    logs.record(at(20, 3), API_HEALTH, "OK", "ALARM", event_id="twice")
    logs.record(at(20, 3), API_HEALTH, "OK", "ALARM", event_id="twice")
    logs.record(at(20, 3, 45), API_HEALTH, "ALARM", "OK")
    logs.record(at(30, 23), API_HEALTH, "OK", "ALARM", region="us-west-2")
    staging = "acme-shop-staging-api-service-health"
    logs.record(at(25, 1), staging, "OK", "ALARM", account="333333333333")
    logs.record(at(25, 2), staging, "ALARM", "OK", account="333333333333")
    logs.record(at(26, 1), API_HEALTH, "OK", "ALARM", account="999999999999")
    logs.record(at(26, 2), API_HEALTH, "ALARM", "OK", account="999999999999")
    logs.record(at(8, 9, 25), API_HEALTH, "OK", "ALARM")
    logs.record(at(10, 1), API_HEALTH, "OK", "ALARM")  # 11-10: before the 4 weeks
    logs.message(at(27, 1), "not an event")


def scenario(cfg: Config, logs: FakeLogs | None = None) -> tuple[Sources, FakeCodePipeline]:
    pipeline = FakeCodePipeline()
    east, west = FakeCodeDeploy(), FakeCodeDeploy()
    cw = {"us-east-1": FakeCloudWatch(), "us-west-2": FakeCloudWatch()}
    commits = {
        "c1" * 20: at(2, 10),
        "c2" * 20: at(5, 9),
        "c3" * 20: at(8, 8),
        "c4" * 20: at(10, 6),
    }
    api = "api-service-prod-us-east-1"
    api_west = "api-service-prod-us-west-2"
    # Newest first.
    pipeline.execution(
        "e4", at(10, 6, 30), "c4" * 20, [(api, "us-east-1", "d-7"), (api_west, "us-west-2", "d-8")]
    )
    pipeline.execution("e3", at(8, 8, 30), "c3" * 20, [(api, "us-east-1", "d-5")])
    pipeline.execution("e2", at(5, 9, 30), "c2" * 20, [(api, "us-east-1", "d-3")])
    pipeline.execution(
        "e1", at(2, 10, 30), "c1" * 20, [(api, "us-east-1", "d-1"), (api_west, "us-west-2", "d-2")]
    )
    pipeline.execution("e0", datetime(2026, 11, 20, 9, tzinfo=UTC), "c0" * 20, [])

    east.add("d-1", "Succeeded", at(2, 11), at(2, 12))
    west.add("d-2", "Succeeded", at(2, 11), at(2, 12, 30))
    # Release 2: the guard failed the hook; CodeDeploy rolled back (linked both ways).
    east.add("d-3", "Stopped", at(5, 10), at(5, 10, 10),
             rollbackInfo={"rollbackDeploymentId": "d-4"},
             errorInformation={"code": "HOOK_EXECUTION_FAILURE"})  # fmt: skip
    east.add("d-4", "Succeeded", at(5, 10, 10), at(5, 10, 16), creator="codeDeployRollback",
             rollbackInfo={"rollbackTriggeringDeploymentId": "d-3"})  # fmt: skip
    # Release 3: stopped by an alarm; the rollback names it only from its own side.
    east.add("d-5", "Stopped", at(8, 9), at(8, 9, 30),
             errorInformation={"code": "ALARM_ACTIVE"})  # fmt: skip
    east.add("d-6", "Succeeded", at(8, 9, 30), at(8, 9, 34), creator="codeDeployRollback",
             rollbackInfo={"rollbackTriggeringDeploymentId": "d-5"})  # fmt: skip
    cw["us-east-1"].change(API_HEALTH, at(8, 9, 25), "OK", "ALARM")
    cw["us-east-1"].change(API_HEALTH, at(8, 9, 40), "ALARM", "OK")
    east.add("d-7", "Succeeded", at(10, 7), at(10, 10))
    west.add("d-8", "Succeeded", at(10, 7), at(10, 11))
    # A drill: not the pipeline's; its alarm episode is not an incident.
    east.add("d-9", "Stopped", at(12, 10), at(12, 10, 5),
             description="deployer drill rollback api-service AfterAllowTraffic",
             rollbackInfo={"rollbackDeploymentId": "d-10"})  # fmt: skip
    east.add("d-10", "Succeeded", at(12, 10, 5), at(12, 10, 7), creator="codeDeployRollback",
             rollbackInfo={"rollbackTriggeringDeploymentId": "d-9"})  # fmt: skip
    cw["us-east-1"].change(API_HEALTH, at(12, 10, 3), "OK", "ALARM")
    cw["us-east-1"].change(API_HEALTH, at(12, 10, 8), "ALARM", "OK")
    # An incident in us-west-2, no deployment: an hour in ALARM.
    west_health = API_HEALTH
    cw["us-west-2"].change(west_health, at(13, 0), "OK", "ALARM")
    cw["us-west-2"].change(west_health, at(13, 1), "ALARM", "OK")
    # Back to OK after an ALARM recorded before the 14 days (11-30 23:00): over 14 days
    # its start is unknown and it is left out.
    cw["us-west-2"].change(west_health, at(1, 13), "ALARM", "OK")

    deploy = {"us-east-1": east, "us-west-2": west}
    sources = Sources(
        codepipeline=pipeline,
        codecommit=FakeCodeCommit(commits),
        pipeline=PIPELINE,
        delivery_region="us-east-1",
        codedeploy=lambda region: deploy[region],
        cloudwatch=lambda region: cw[region],
        names=lambda region: cfg.names.target("prod", region),
        logs=logs or FakeLogs(),
        alarm_events_log_group=RECORDS,
    )
    return sources, pipeline


@pytest.fixture
def built(cfg: Config) -> tuple[Report, FakeCodePipeline]:
    sources, pipeline = scenario(cfg)
    return report.build(
        sources, cfg, cfg.environment("prod"), timedelta(days=14), now=NOW
    ), pipeline


# ---------------------------------------------------------------------------
# The figures
# ---------------------------------------------------------------------------
def test_deployments_are_the_production_stages_with_their_outcomes(
    built: tuple[Report, FakeCodePipeline],
) -> None:
    found, pipeline = built
    outcomes = {(d.deployment_id, d.region, d.service, d.outcome) for d in found.deployments}
    assert outcomes == {
        ("d-1", "us-east-1", "api-service", "succeeded"),
        ("d-2", "us-west-2", "api-service", "succeeded"),
        ("d-3", "us-east-1", "api-service", "rolled back"),
        ("d-5", "us-east-1", "api-service", "rolled back"),
        ("d-7", "us-east-1", "api-service", "succeeded"),
        ("d-8", "us-west-2", "api-service", "succeeded"),
    }
    # Neither the drill nor the staging deployments; the rollbacks found both ways.
    assert {d.deployment_id: d.rollback_id for d in found.deployments if d.rollback_id} == {
        "d-3": "d-4",
        "d-5": "d-6",
    }
    assert found.drills_excluded == 1
    # Paged past the first page of executions, two pages of actions each; e0 (11-20) is
    # before the look-back, never read.
    assert pipeline.read == ["e4", "e4", "e3", "e3", "e2", "e2", "e1", "e1"]
    commits = {d.deployment_id: d.commit for d in found.deployments}
    assert commits["d-5"] == "c3" * 20


def test_us_east_1_figures(built: tuple[Report, FakeCodePipeline]) -> None:
    east = built[0].to_json()["regions"][0]
    assert east["region"] == "us-east-1"
    assert east["deployments"] == 4
    assert east["outcomes"] == {"succeeded": 2, "rolled back": 2, "failed": 0, "in progress": 0}
    # 2 successful over 14 days.
    assert east["deployment_frequency"]["per_day"] == pytest.approx(0.142857, abs=1e-6)
    assert east["deployment_frequency"]["per_week"] == pytest.approx(1.0)
    # Lead times 2 h (d-1: 10:00 -> 12:00) and 4 h (d-7: 06:00 -> 10:00).
    assert east["lead_time_seconds"] == {"median": 10800.0, "p90": 14400.0, "samples": 2}
    # 2 rolled back of 4.
    assert east["change_failure_rate"] == 0.5
    # Alarm 15 min (09:25 -> 09:40), rollbacks 6 min (d-4) and 4 min (d-6); the drill's
    # 5-minute episode and its rollback are left out.
    assert east["time_to_restore_seconds"] == {
        "median": 360.0,
        "worst": 900.0,
        "samples": 3,
        "from": {"CloudWatch alarm history": 1, "CodeDeploy rollback deployments": 2},
    }


def test_us_west_2_and_all_regions(built: tuple[Report, FakeCodePipeline]) -> None:
    document = built[0].to_json()
    west, together = document["regions"][1], document["all"]
    assert west["region"] == "us-west-2"
    # Lead times 2.5 h (d-2) and 5 h (d-8); p90 of two is the larger.
    assert west["lead_time_seconds"] == {"median": 13500.0, "p90": 18000.0, "samples": 2}
    assert west["change_failure_rate"] == 0.0
    # The incident: an hour in ALARM.
    assert west["time_to_restore_seconds"] == {
        "median": 3600.0,
        "worst": 3600.0,
        "samples": 1,
        "from": {"CloudWatch alarm history": 1},
    }
    # All: 4 successful of 6 in 14 days; lead times 2, 2.5, 4, 5 h (median 3.25 h, p90 the
    # 4th of 4); 2 of 6 rolled back; restores 4, 6, 15, 60 min (median 10.5 min).
    assert together["deployments"] == 6
    assert together["deployment_frequency"]["per_day"] == pytest.approx(0.285714, abs=1e-6)
    assert together["deployment_frequency"]["per_week"] == pytest.approx(2.0)
    assert together["lead_time_seconds"] == {"median": 11700.0, "p90": 18000.0, "samples": 4}
    assert together["change_failure_rate"] == pytest.approx(0.333333, abs=1e-6)
    assert together["time_to_restore_seconds"] == {
        "median": 630.0,
        "worst": 3600.0,
        "samples": 4,
        "from": {"CloudWatch alarm history": 2, "CodeDeploy rollback deployments": 2},
    }


def test_the_drills_alarm_episode_is_listed_as_the_drills(
    built: tuple[Report, FakeCodePipeline],
) -> None:
    episodes = [(e["alarm_at"], e["ok_at"], e["seconds"], e["drill"], e["source"])
                for e in built[0].to_json()["alarm_episodes"]]  # fmt: skip
    history = "CloudWatch alarm history"
    assert episodes == [
        ("2026-12-08T09:25:00Z", "2026-12-08T09:40:00Z", 900.0, False, history),
        ("2026-12-12T10:03:00Z", "2026-12-12T10:08:00Z", 300.0, True, history),
        ("2026-12-13T00:00:00Z", "2026-12-13T01:00:00Z", 3600.0, False, history),
    ]


def test_text_table_and_json_say_the_sources(built: tuple[Report, FakeCodePipeline]) -> None:
    found = built[0]
    text = found.to_text()
    lines = text.splitlines()
    east = next(line for line in lines if line.startswith("us-east-1 "))
    assert east.split() == ["us-east-1", "4", "(2", "ok,", "2", "rolled", "back)", "0.14", "1.0",
                            "3h", "00m", "4h", "00m", "50%", "6m", "00s", "15m", "00s"]  # fmt: skip
    total = next(line for line in lines if line.startswith("all "))
    assert total.split() == ["all", "6", "(4", "ok,", "2", "rolled", "back)", "0.29", "2.0", "3h",
                             "15m", "5h", "00m", "33%", "10m", "30s", "1h", "00m"]  # fmt: skip
    assert "DescribeAlarmHistory" in text and "GetCommit" in text
    document = found.to_json()
    assert set(document["sources"]) == {
        "deployments",
        "deployment_frequency",
        "lead_time",
        "change_failure_rate",
        "time_to_restore",
    }
    assert document["deployments"][0] == {
        "id": "d-1",
        "service": "api-service",
        "region": "us-east-1",
        "execution_id": "e1",
        "commit": "c1" * 20,
        "outcome": "succeeded",
        "status": "Succeeded",
        "created": "2026-12-02T11:00:00Z",
        "completed": "2026-12-02T12:00:00Z",
        "commit_time": "2026-12-02T10:00:00Z",
        "lead_time_seconds": 7200.0,
        "rollback_id": None,
        "rollback_seconds": None,
    }
    assert document["notes"] == [
        "1 alarm episode(s) began during a drill and are left out of time to restore"
    ]


def test_a_drill_found_through_the_pipeline_is_still_left_out(cfg: Config) -> None:
    sources, pipeline = scenario(cfg)
    # As if a production action's result named the drill's deployment.
    pipeline.details["e4"][-1]["output"]["executionResult"]["externalExecutionId"] = "d-9"
    pipeline.details["e4"][-1]["input"]["region"] = "us-east-1"
    found = report.build(sources, cfg, cfg.environment("prod"), timedelta(days=14), now=NOW)
    assert "d-9" not in {d.deployment_id for d in found.deployments}
    assert "d-8" not in {d.deployment_id for d in found.deployments}
    assert found.drills_excluded == 1


def test_a_shorter_window_leaves_older_deployments_and_alarms_out(cfg: Config) -> None:
    sources, _ = scenario(cfg)
    # 36 h to 12-15 12:00: from 12-14 00:00; nothing deployed, no alarm.
    found = report.build(sources, cfg, cfg.environment("prod"), parse_since("36h"), now=NOW)
    assert found.deployments == [] and found.episodes == []
    figures = found.to_json()["all"]
    assert figures["change_failure_rate"] is None
    assert figures["lead_time_seconds"]["median"] is None
    assert "-" in found.to_text()


def test_the_default_window_reads_alarm_history_only(cfg: Config) -> None:
    logs = FakeLogs()
    records(logs)
    sources, _ = scenario(cfg, logs)
    found = report.build(sources, cfg, cfg.environment("prod"), timedelta(days=14), now=NOW)
    assert logs.calls == []  # the recorded events are not read for 14 days
    assert {e.source for e in found.episodes} == {"CloudWatch alarm history"}
    assert "recorded" not in found.to_json()["sources"]["time_to_restore"]


def test_four_weeks_read_the_recorded_events_before_alarm_historys_14_days(cfg: Config) -> None:
    logs = FakeLogs()
    records(logs)
    sources, pipeline = scenario(cfg, logs)
    found = report.build(sources, cfg, cfg.environment("prod"), parse_since("4w"), now=NOW)
    # One read of the log group, 11-17 12:00 up to 12-01 12:00 (endTime included: 1 ms
    # before), paged one event at a time.
    assert {(c["startTime"], c["endTime"]) for c in logs.calls} == {
        (int(at(17, 12).timestamp()) * 1000, int(at(1, 12).timestamp()) * 1000 - 1)
    }
    assert len(logs.calls) == 9  # the 9 events from 11-17 to 12-01 12:00, one a page
    recorded = f"recorded events (log group {RECORDS})"
    history = "CloudWatch alarm history"
    episodes = [(e["region"], e["alarm_at"], e["ok_at"], e["seconds"], e["source"])
                for e in found.to_json()["alarm_episodes"]]  # fmt: skip
    assert episodes == [
        # 45 minutes, recorded (the event recorded twice counts once).
        ("us-east-1", "2026-11-20T03:00:00Z", "2026-11-20T03:45:00Z", 2700.0, recorded),
        ("us-east-1", "2026-12-08T09:25:00Z", "2026-12-08T09:40:00Z", 900.0, history),
        ("us-east-1", "2026-12-12T10:03:00Z", "2026-12-12T10:08:00Z", 300.0, history),
        # 11-30 23:00 (recorded) to 12-01 13:00 (alarm history): 14 hours.
        ("us-west-2", "2026-11-30T23:00:00Z", "2026-12-01T13:00:00Z", 50400.0, recorded),
        ("us-west-2", "2026-12-13T00:00:00Z", "2026-12-13T01:00:00Z", 3600.0, history),
    ]
    document = found.to_json()
    # us-east-1: 45 min, 15 min and the rollbacks' 6 and 4 min: sorted 4, 6, 15, 45 min,
    # median (6 + 15) / 2 = 10.5 min.
    assert document["regions"][0]["time_to_restore_seconds"] == {
        "median": 630.0,
        "worst": 2700.0,
        "samples": 4,
        "from": {recorded: 1, history: 1, "CodeDeploy rollback deployments": 2},
    }
    # us-west-2: 14 h and 1 h: median 7.5 h.
    assert document["regions"][1]["time_to_restore_seconds"] == {
        "median": 27000.0,
        "worst": 50400.0,
        "samples": 2,
        "from": {recorded: 1, history: 1},
    }
    # All: 4, 6, 15, 45, 60 min and 14 h: median (15 + 45) / 2 = 30 min.
    assert document["all"]["time_to_restore_seconds"] == {
        "median": 1800.0,
        "worst": 50400.0,
        "samples": 6,
        "from": {recorded: 2, history: 2, "CodeDeploy rollback deployments": 2},
    }
    # 4 successful deployments in 28 days; e0 (11-20) is in the look-back now, and read
    # (one page: its Source and Staging actions).
    assert document["all"]["deployment_frequency"]["per_day"] == pytest.approx(1 / 7)
    assert pipeline.read[-1:] == ["e0"]
    assert document["notes"][0] == (
        f"alarm episodes before 2026-12-01T12:00:00Z come from the recorded events (log group "
        f"{RECORDS}, in the delivery account; recorded since the stacks made the rules), "
        "later ones from CloudWatch alarm history (14 days)"
    )
    assert document["sources"]["time_to_restore"].endswith(
        f"; before 2026-12-01T12:00:00Z: the recorded events (CloudWatch Logs FilterLogEvents "
        f"on {RECORDS} in the delivery account: each health alarm's \"CloudWatch Alarm State "
        'Change" events)'
    )
    text = found.to_text()
    assert f"us-west-2  2026-11-30T23:00:00Z  2026-12-01T13:00:00Z  14h 00m  {recorded}" in text
    assert "api-service (drill)" in text
    page = report_html.page(found)
    assert f"2 from {recorded}" in page and "FilterLogEvents" in page


def test_without_the_log_group_a_long_window_says_what_it_lacks(cfg: Config) -> None:
    sources, _ = scenario(cfg, FakeLogs(exists=False))
    found = report.build(sources, cfg, cfg.environment("prod"), parse_since("3w"), now=NOW)
    assert found.notes[0] == (
        "CloudWatch keeps alarm history for 14 days and the recorded alarm events' log group "
        f"{RECORDS} does not exist (apply the delivery stack): alarm episodes before "
        "2026-12-01T12:00:00Z are not available, so time to restore covers the last 14 days "
        "of alarms (rollbacks: the whole window)"
    )
    # The 14 days' episodes only; 21 days: 4 successful -> 4/21 a day.
    assert len(found.episodes) == 3
    assert found.to_json()["all"]["deployment_frequency"]["per_day"] == pytest.approx(
        0.190476, abs=1e-6
    )


def test_the_log_group_is_the_one_the_delivery_stack_makes(cfg: Config) -> None:
    """One name in two places (HCL and Python): held equal here."""
    stack = Path(__file__).resolve().parents[2] / "environments/stacks/delivery"
    found = re.search(r'alarm_events_log_group\s*=\s*"([^"]+)"', (stack / "events.tf").read_text())
    assert found is not None
    prefix = re.search(r'name_prefix\s*=\s*"([^"]+)"', (stack / "main.tf").read_text())
    assert (
        prefix is not None and prefix.group(1) == "${var.company}-${var.service}-${var.environment}"
    )
    rendered = found.group(1).replace("${local.name_prefix}", cfg.names.delivery.name_prefix)
    assert rendered == report.alarm_events_log_group(cfg.names.delivery.name_prefix) == RECORDS


def test_a_commit_date_with_an_offset() -> None:
    assert report.commit_date("1764597600 -0800") == datetime(2025, 12, 1, 14, 0, tzinfo=UTC)
    assert report.commit_date(None) is None


# ---------------------------------------------------------------------------
# Bad input: exit 2, nothing written, no AWS call
# ---------------------------------------------------------------------------
@pytest.mark.parametrize("text", ["14d", "2w", "36h", " 7d "])
def test_since_accepted(text: str) -> None:
    assert parse_since(text) in (timedelta(days=14), timedelta(hours=36), timedelta(days=7))


@pytest.mark.parametrize("text", ["14", "2 weeks", "0d", "-3d", "1.5d", "14m", ""])
def test_since_refused_naming_the_option(text: str) -> None:
    with pytest.raises(UsageError, match="--since"):
        parse_since(text)


@pytest.mark.parametrize(
    ("argv", "said"),
    [
        (["report", "nowhere"], "unknown environment 'nowhere'"),
        (["report", "dev"], "the pipeline does not deploy dev"),
        (["report", "prod", "--since", "fortnight"], "--since 'fortnight'"),
        (["report", "--html", "{tmp}/missing/page.html"], "does not exist"),
        (["report", "--html", "{tmp}"], "is a folder"),
    ],
)
def test_bad_input_exits_2_and_writes_nothing(
    project: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    argv: list[str],
    said: str,
) -> None:
    monkeypatch.setenv("DEPLOYER_TARGET", "aws")  # nothing may reach it
    before = sorted(p.name for p in tmp_path.rglob("*"))
    argv = [a.replace("{tmp}", str(tmp_path)) for a in argv]
    assert main([*argv, "--json"]) == EXIT_USAGE
    out = json.loads(capsys.readouterr().out)
    assert out["ok"] is False and said in out["error"]
    assert sorted(p.name for p in tmp_path.rglob("*")) == before


def test_an_unwritable_html_path_exits_2(
    project: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:  # fmt: skip
    monkeypatch.setenv("DEPLOYER_TARGET", "aws")
    locked = tmp_path / "locked"
    locked.mkdir()
    # As root every path is writable: the check (os.access) answers as for another user.
    monkeypatch.setattr(report_html.os, "access", lambda *_a: False)
    assert main(["report", "--html", str(locked / "page.html")]) == EXIT_USAGE
    assert "not writable" in capsys.readouterr().err
    assert list(locked.iterdir()) == []


def test_events_after_now_count_when_the_clock_runs_ahead(cfg: Config) -> None:
    """The emulator's clock runs ahead at a time scale above 1: what its APIs report after
    the wall clock's now is in the window, which ends at the newest of it."""
    sources, _ = scenario(cfg)
    now = at(10, 6, 45)  # before release 4's deployments were created (07:00)
    found = report.build(sources, cfg, cfg.environment("prod"), timedelta(days=14), now=now)
    assert {"d-7", "d-8"} <= {d.deployment_id for d in found.deployments}
    # The newest time read: us-west-2's alarm back to OK.
    assert found.to_json()["until"] == "2026-12-13T01:00:00Z"
    assert found.to_json()["days"] == 14


def test_a_missing_pipeline_says_what_to_apply_and_a_missing_group_deployed_nothing(
    cfg: Config,
) -> None:
    from botocore.exceptions import ClientError

    from deployer.errors import DeployerError

    def missing(code: str) -> Any:
        def answer(**_params: Any) -> Any:
            raise ClientError({"Error": {"Code": code, "Message": "not there"}}, "Call")

        return answer

    sources, pipeline = scenario(cfg)
    west = sources.codedeploy("us-west-2")
    west.list_deployments = missing("DeploymentGroupDoesNotExistException")
    found = report.build(sources, cfg, cfg.environment("prod"), timedelta(days=14), now=NOW)
    assert len(found.deployments) == 6  # us-west-2's pipeline deployments still read

    pipeline.list_pipeline_executions = missing("PipelineNotFoundException")  # type: ignore[method-assign]
    with pytest.raises(DeployerError, match="PipelineNotFoundException") as caught:
        report.build(sources, cfg, cfg.environment("prod"), timedelta(days=14), now=NOW)
    assert caught.value.hint is not None and "apply the delivery stack" in caught.value.hint
