"""CodeBuild: a project whose source is NO_SOURCE or CODEPIPELINE has no location.

moto 5.2.5 validates CreateProject by demanding ``source.location`` for every
source type and ``artifacts.location`` for every artifacts type but
NO_ARTIFACTS, so the provider's ``aws_codebuild_project`` with
``source { type = "CODEPIPELINE" }`` (or NO_SOURCE) and
``artifacts { type = "CODEPIPELINE" }`` fails with "Project source location is
required". AWS requires a source location only for the repository-backed types
(CODECOMMIT, GITHUB, GITHUB_ENTERPRISE, BITBUCKET, S3, GITLAB...) and an
artifacts location only for S3 artifacts; CODEPIPELINE and NO_SOURCE sources
are located by the pipeline or by the inline buildspec.
"""

from __future__ import annotations

from typing import Any

from ._util import replace

GAP = (
    "CodeBuild CreateProject demands a source/artifacts location even for "
    "NO_SOURCE and CODEPIPELINE types: 'Project source location is required'."
)

_SOURCE_TYPES_WITHOUT_LOCATION = frozenset({"CODEPIPELINE", "NO_SOURCE"})


def apply() -> None:
    from moto.codebuild import responses

    def source_factory(original: Any) -> Any:
        def validate_source(source: dict[str, Any]) -> None:
            if source.get("type") in _SOURCE_TYPES_WITHOUT_LOCATION:
                return
            original(source)

        return validate_source

    def artifacts_factory(original: Any) -> Any:
        def validate_artifacts(artifacts: dict[str, Any]) -> None:
            if artifacts.get("type") == "CODEPIPELINE":
                return
            original(artifacts)

        return validate_artifacts

    replace(responses, "_validate_required_params_source", source_factory)
    replace(responses, "_validate_required_params_artifacts", artifacts_factory)
