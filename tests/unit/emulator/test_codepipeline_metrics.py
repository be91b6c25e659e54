"""CodePipeline's CloudWatch metrics: an ended execution's duration, a failed one counted, once.

The pipeline engine's scenario world (``_codepipeline_scenarios.Case``: the delivery
stack's pipeline shape, builds finished by a test double, a fake clock) with the metrics
engine run after each of its rounds. The scenarios below run in one separate interpreter
(the patches must not leak into this one's moto), once per test session, as
``_codepipeline_scenarios`` do: ``python -m tests.unit.emulator.test_codepipeline_metrics
RESULTS.json [NAME ...]``. Each test asserts on what its scenario read back through
CloudWatch's API (ListMetrics, GetMetricStatistics, GetMetricData).
"""

from __future__ import annotations

import datetime
import sys
from typing import Any

from tests.unit.emulator._codepipeline_scenarios import (
    ENVIRONMENT,
    LEFT_OUT,
    PIPELINE,
    START,
    Case,
    definition,
)
from tests.unit.emulator._scenario_runner import Result, fixtures

Out = dict[str, Any]
NAMESPACE = "AWS/CodePipeline"
BY_PIPELINE = [{"Name": "PipelineName", "Value": PIPELINE}]

scenarios, result = fixtures(
    "tests.unit.emulator.test_codepipeline_metrics", "codepipeline-metrics"
)


# -- the scenarios (run in the separate interpreter) ---------------------------------------------


class MetricsCase(Case):
    """The pipeline engine's case, the metrics engine run after each of its rounds."""

    def __init__(self, clients: dict[str, Any]) -> None:
        from deployer.emulator.engines.codepipeline_metrics import CodePipelineMetrics

        super().__init__(clients)
        self.metrics = CodePipelineMetrics(lock=self.engine.lock)
        self.cw = self.client("cloudwatch")

    def rounds(self, n: int = 1, step: float = 1.0) -> None:
        for _ in range(n):
            super().rounds(1, step)
            self.metrics.run()

    def listed(self, region: str | None = None) -> list[list[Any]]:
        """ListMetrics of the namespace: each metric's name and dimensions."""
        cw = self.cw if region is None else self._cw(region)
        found = cw.list_metrics(Namespace=NAMESPACE)["Metrics"]
        return sorted([m["MetricName"], m["Dimensions"]] for m in found)

    def _cw(self, region: str) -> Any:
        import boto3

        return boto3.client("cloudwatch", region_name=region)

    def statistics(self, metric: str, dimensions: list[dict[str, str]]) -> list[dict[str, Any]]:
        """GetMetricStatistics over the scenario's day, one-day period: its datapoints."""
        found = self.cw.get_metric_statistics(
            Namespace=NAMESPACE,
            MetricName=metric,
            Dimensions=dimensions,
            StartTime=_utc(START - 3600),
            EndTime=_utc(START + 86400),
            Period=86400,
            Statistics=["SampleCount", "Sum", "Minimum", "Maximum"],
        )["Datapoints"]
        return [
            {k: d[k] for k in ("SampleCount", "Sum", "Minimum", "Maximum", "Unit")}
            | {"Timestamp": d["Timestamp"].timestamp()}
            for d in found
        ]

    def metric_data(self, metric: str, stat: str, dimensions: list[dict[str, str]]) -> list[float]:
        """GetMetricData of one metric over the scenario's day, one-day period: its values."""
        found = self.cw.get_metric_data(
            MetricDataQueries=[
                {
                    "Id": "m",
                    "MetricStat": {
                        "Metric": {
                            "Namespace": NAMESPACE,
                            "MetricName": metric,
                            "Dimensions": dimensions,
                        },
                        "Period": 86400,
                        "Stat": stat,
                    },
                }
            ],
            StartTime=_utc(START - 3600),
            EndTime=_utc(START + 86400),
        )["MetricDataResults"][0]
        return list(found["Values"])

    def times(self, execution: str) -> list[float]:
        """The execution's start and last update (its end, once it ended), epoch seconds."""
        for summary in self.cp.list_pipeline_executions(pipelineName=PIPELINE)[
            "pipelineExecutionSummaries"
        ]:
            if summary["pipelineExecutionId"] == execution:
                return [summary["startTime"].timestamp(), summary["lastUpdateTime"].timestamp()]
        raise AssertionError(f"no execution {execution}")


def _utc(stamp: float) -> datetime.datetime:
    return datetime.datetime.fromtimestamp(stamp, datetime.UTC)


SCENARIOS: dict[str, Any] = {}


def _scenario(function: Any) -> Any:
    SCENARIOS[function.__name__] = function
    return function


@_scenario
def succeeded(c: MetricsCase, out: Out) -> None:
    c.create()
    e = c.start()
    c.to_approval(e)
    out["while_running"] = [c.status(e), c.listed()]
    c.clock += 600  # the approver takes ten minutes
    c.approve()
    for _ in range(5):
        c.rounds()
    out["status"] = c.status(e)
    out["times"] = c.times(e)
    for _ in range(3):  # more rounds publish nothing more
        c.rounds(step=60)
    out["listed"] = c.listed()
    out["duration"] = c.statistics("PipelineDuration", BY_PIPELINE)
    out["duration_data"] = c.metric_data("PipelineDuration", "Average", BY_PIPELINE)
    out["failed"] = c.statistics("FailedPipelineExecutions", BY_PIPELINE)
    out["other_region"] = c.listed("us-west-2")


@_scenario
def failed_then_stopped(c: MetricsCase, out: Out) -> None:
    c.create()
    c.outcomes["acme-api"] = ("FAILED", {})
    first = c.start()
    c.rounds()
    c.finish_builds()
    c.rounds(3)
    out["first"] = [c.status(first), c.times(first)]
    second = c.start()
    c.rounds(2)
    c.clock += 30
    c.cp.stop_pipeline_execution(pipelineName=PIPELINE, pipelineExecutionId=second, abandon=True)
    c.rounds(3)
    out["second"] = [c.status(second), c.times(second)]
    out["listed"] = c.listed()
    out["duration"] = c.statistics("PipelineDuration", BY_PIPELINE)
    out["failed"] = c.statistics("FailedPipelineExecutions", BY_PIPELINE)
    out["failed_account"] = c.statistics("FailedPipelineExecutions", [])
    out["failed_sum"] = [
        c.metric_data("FailedPipelineExecutions", "Sum", BY_PIPELINE),
        c.metric_data("FailedPipelineExecutions", "Sum", []),
    ]


@_scenario
def v1_pipeline(c: MetricsCase, out: Out) -> None:
    declaration = definition(c.role, c.topic)
    declaration["pipelineType"] = "V1"
    c.cp.create_pipeline(pipeline=declaration)
    c.outcomes["acme-api"] = ("FAILED", {})
    e = c.start()
    c.rounds()
    c.finish_builds()
    c.rounds(3)
    out["status"] = c.status(e)
    out["listed"] = c.listed()


# -- the tests ------------------------------------------------------------------------------------


def test_a_running_execution_publishes_nothing(result: Result) -> None:
    out = result("succeeded")
    assert out["while_running"] == ["InProgress", []]


def test_a_succeeded_execution_publishes_its_duration_once_by_pipeline(result: Result) -> None:
    out = result("succeeded")
    assert out["status"] == "Succeeded"
    started, ended = out["times"]
    assert ended - started >= 600  # the approval's wait is in the pipeline's duration
    # one metric: the duration, by pipeline only; no failure counted, in no other region
    assert out["listed"] == [["PipelineDuration", BY_PIPELINE]]
    assert out["duration"] == [
        {
            "SampleCount": 1.0,
            "Sum": ended - started,
            "Minimum": ended - started,
            "Maximum": ended - started,
            "Unit": "Seconds",
            "Timestamp": ended,
        }
    ]
    assert out["duration_data"] == [ended - started]
    assert out["failed"] == []
    assert out["other_region"] == []


def test_a_failed_execution_is_counted_by_pipeline_and_for_the_account(result: Result) -> None:
    out = result("failed_then_stopped")
    status, (_, ended) = out["first"]
    assert status == "Failed"
    for datapoints in (out["failed"], out["failed_account"]):
        assert datapoints == [
            {
                "SampleCount": 1.0,
                "Sum": 1.0,
                "Minimum": 1.0,
                "Maximum": 1.0,
                "Unit": "Count",
                "Timestamp": ended,
            }
        ]
    assert out["failed_sum"] == [[1.0], [1.0]]
    assert out["listed"] == [
        ["FailedPipelineExecutions", []],
        ["FailedPipelineExecutions", BY_PIPELINE],
        ["PipelineDuration", BY_PIPELINE],
    ]


def test_a_stopped_execution_publishes_its_duration_but_no_failure(result: Result) -> None:
    out = result("failed_then_stopped")
    (_, (first_start, first_end)), (status, (started, ended)) = out["first"], out["second"]
    assert status == "Stopped"
    durations = sorted([first_end - first_start, ended - started])
    assert ended - started >= 30
    [datapoint] = out["duration"]  # both executions in the one-day period
    assert datapoint["SampleCount"] == 2.0 and datapoint["Unit"] == "Seconds"
    assert [datapoint["Minimum"], datapoint["Maximum"]] == durations
    assert datapoint["Sum"] == sum(durations)


def test_a_v1_pipeline_publishes_no_metrics(result: Result) -> None:
    out = result("v1_pipeline")
    assert out["status"] == "Failed"
    assert out["listed"] == []


def test_every_emulator_runs_the_metrics_engine_even_without_a_runtime() -> None:
    from deployer.emulator import engines

    assert "codepipeline-metrics" in [engine.name for engine in engines.create(None)]


def main(argv: list[str]) -> int:
    from tests.unit.emulator._scenario_runner import main as run_main

    return run_main(
        argv,
        doc=__doc__,
        scenarios=SCENARIOS,
        case=MetricsCase,
        environment=ENVIRONMENT,
        left_out=LEFT_OUT,
        default=str,
    )


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
