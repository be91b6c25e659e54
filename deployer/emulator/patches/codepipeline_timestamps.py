"""CodePipeline: pipeline metadata timestamps must be epoch numbers.

CodePipeline is a JSON 1.1 protocol, so ``metadata.created``/``updated`` of
GetPipeline (and ListPipelines, and execution summaries' start/update times)
are epoch seconds. moto 5.2.5 sends ISO strings; the Go SDK fails to decode
GetPipeline ("expected Timestamp to be a JSON Number, got string instead"),
so every ``aws_codepipeline`` fails on read right after create and is left
tainted in the state.
"""

from __future__ import annotations

from typing import Any

from ._util import replace

GAP = (
    "CodePipeline GetPipeline metadata created/updated are ISO strings: "
    "'expected Timestamp to be a JSON Number', the pipeline is left tainted."
)


def apply() -> None:
    from moto.codepipeline.models import CodePipeline, PipelineExecution
    from moto.core.utils import unix_time

    def metadata_factory(_original: Any) -> Any:
        def metadata(self: Any) -> dict[str, Any]:
            return {
                "pipelineArn": self._arn,
                "created": unix_time(self._created),
                "updated": unix_time(self._updated),
            }

        return property(metadata)

    def summary_factory(original: Any) -> Any:
        def to_summary_dict(self: Any) -> dict[str, Any]:
            summary: dict[str, Any] = original(self)
            summary["startTime"] = unix_time(self.start_time)
            summary["lastUpdateTime"] = unix_time(self.last_update_time)
            return summary

        return to_summary_dict

    replace(CodePipeline, "metadata", metadata_factory)
    replace(PipelineExecution, "to_summary_dict", summary_factory)
