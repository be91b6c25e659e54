"""CodePipeline publishes its CloudWatch metrics: each execution's duration, each failure counted.

Reproduces, after the CodePipeline user guide ("CodePipeline CloudWatch metrics",
``metrics-dimensions.html``, under "Monitoring pipelines") and AWS's announcement "AWS
CodePipeline adds CloudWatch Metrics support" (metrics for V2 pipelines, "pipeline-level
and account-level"), for the executions ``patches/codepipeline_executions.py`` records
and ``engines/codepipeline.py`` moves, in the namespace ``AWS/CodePipeline`` of the
pipeline's account and region:

* ``PipelineDuration`` (Seconds), by ``PipelineName`` only ("available for the pipeline
  level only"): the execution's duration, its start to its end (``lastUpdateTime`` once
  it ended);
* ``FailedPipelineExecutions`` (Count, 1), by ``PipelineName`` and for the account (no
  dimension: "available at the pipeline level and the account level"): an execution
  that ended ``Failed``;
* each datapoint once, in the first round after the execution ended (a round every
  real second, as the pipeline engine's), timestamped with the execution's end: the
  time the pipeline engine (or StopPipelineExecution) wrote on the emulator's clock
  (the scheduler's ``now``); an execution in progress or stopping publishes nothing;
* only V2 pipelines (the execution's definition says ``pipelineType`` V2; a declaration
  without one is V1, the API's default), as the announcement says.

Left out, or ours where AWS documents nothing: which ends count as "pipeline
completions" for PipelineDuration is not documented (here every end: Succeeded,
Failed, Stopped, Superseded); whether FailedPipelineExecutions has a 0 datapoint for
an execution that did not fail is not documented (none is published, as the CodeBuild
engine publishes FailedBuilds only for a failed build); the page counts a retried
failed action as another failed execution ("FailedPipelineExecutionAttempts"), and the
emulator has no retries (RetryStageExecution is not emulated), so a failed execution
counts once. AWS documents no per-stage or per-action metric and none is published.
What has been published is remembered in the process (a restart forgets it, as it
forgets the executions).
"""

from __future__ import annotations

import datetime
from typing import Any

from deployer.emulator.scheduler import BACKEND_LOCK, Scheduler

#: Real seconds between two rounds.
ROUND_S = 1.0
NAMESPACE = "AWS/CodePipeline"
#: The statuses an execution ends in (the patch's and the pipeline engine's).
ENDED = ("Succeeded", "Failed", "Stopped", "Superseded")


class CodePipelineMetrics:
    """The engine (see the module docstring)."""

    name = "codepipeline-metrics"

    def __init__(self, lock: Any = BACKEND_LOCK) -> None:
        self.lock = lock
        #: (account, region, execution id) of every execution whose datapoints went out
        self._published: set[tuple[str, str, str]] = set()

    # -- the engine protocol -------------------------------------------------------------------
    def start(self, scheduler: Scheduler) -> None:
        scheduler.every(ROUND_S * scheduler.time_scale, self.run, name=self.name)

    def status(self) -> dict[str, Any]:
        return {"published": len(self._published)}

    def run(self) -> None:
        """One round: the datapoints of every execution that ended since the last one."""
        from moto.codepipeline.models import codepipeline_backends

        from deployer.emulator.patches.codepipeline_executions import state

        with self.lock:
            for account in list(codepipeline_backends.keys()):
                for backend in list(codepipeline_backends[account].values()):
                    for pipeline in list(backend.pipelines.values()):
                        for execution in list(pipeline.executions.values()):
                            recorded = state(execution)
                            if recorded is None or execution.status not in ENDED:
                                continue
                            key = (
                                recorded["account"],
                                recorded["region"],
                                execution.pipeline_execution_id,
                            )
                            if key in self._published:
                                continue
                            self._published.add(key)
                            if recorded["definition"].get("pipelineType") == "V2":
                                self._publish(execution, recorded)

    def _publish(self, execution: Any, recorded: dict[str, Any]) -> None:
        """Under the lock: the ended execution's datapoints."""
        from moto.cloudwatch.models import cloudwatch_backends

        ended: datetime.datetime = execution.last_update_time
        duration = (ended - execution.start_time).total_seconds()
        pipeline = [{"Name": "PipelineName", "Value": recorded["definition"]["name"]}]
        values: list[tuple[str, list[dict[str, str]], float, str]] = [
            ("PipelineDuration", pipeline, duration, "Seconds")
        ]
        if execution.status == "Failed":
            values += [
                ("FailedPipelineExecutions", pipeline, 1.0, "Count"),
                ("FailedPipelineExecutions", [], 1.0, "Count"),
            ]
        data = [
            {"MetricName": name, "Dimensions": dimensions, "Value": value, "Unit": unit,
             "Timestamp": ended}
            for name, dimensions, value, unit in values
        ]  # fmt: skip
        backend = cloudwatch_backends[recorded["account"]][recorded["region"]]
        backend.put_metric_data(NAMESPACE, data)
