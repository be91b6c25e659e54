"""CodePipeline: a role trusted by several services can be the pipeline role.

CreatePipeline checks that CodePipeline may assume the pipeline role. moto
5.2.5 does it by comparing each statement's ``Principal.Service`` with ``==``
to the string "codepipeline.amazonaws.com", so a trust policy whose principal
is a list (``["codepipeline.amazonaws.com", "events.amazonaws.com"]``, which
``aws_iam_policy_document`` emits for several identifiers) is refused:
"CodePipeline is not authorized to perform AssumeRole". AWS accepts any
Allow statement for sts:AssumeRole whose service principals include
codepipeline.amazonaws.com, whether written as a string or a list.
"""

from __future__ import annotations

import json
from typing import Any

from ._util import replace

GAP = (
    "CodePipeline refuses a pipeline role whose trust policy lists several "
    "services: 'not authorized to perform AssumeRole'."
)

_SERVICE = "codepipeline.amazonaws.com"


def _as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def trusts_codepipeline(document: str) -> bool:
    """Whether a trust policy lets codepipeline.amazonaws.com assume the role."""
    policy = json.loads(document)
    for statement in _as_list(policy.get("Statement")):
        if statement.get("Effect", "Allow") != "Allow":
            continue
        actions = _as_list(statement.get("Action"))
        if not any(a in ("sts:AssumeRole", "sts:*", "*") for a in actions):
            continue
        principal = statement.get("Principal") or {}
        if not isinstance(principal, dict):
            continue
        if _SERVICE in _as_list(principal.get("Service")):
            return True
    return False


def apply() -> None:
    from moto.codepipeline.exceptions import InvalidStructureException
    from moto.codepipeline.models import CodePipeline, CodePipelineBackend
    from moto.iam.exceptions import NotFoundException as IAMNotFoundException

    def create_factory(_original: Any) -> Any:
        def create_pipeline(
            self: Any, pipeline: dict[str, Any], tags: list[dict[str, str]] | None
        ) -> tuple[dict[str, Any], list[dict[str, str]]]:
            name = pipeline["name"]
            if name in self.pipelines:
                raise InvalidStructureException(
                    f"A pipeline with the name '{name}' already exists in account "
                    f"'{self.account_id}'"
                )
            try:
                role = self.iam_backend.get_role_by_arn(pipeline["roleArn"])
                trusted = trusts_codepipeline(role.assume_role_policy_document)
            except IAMNotFoundException:
                trusted = False
            if not trusted:
                raise InvalidStructureException(
                    "CodePipeline is not authorized to perform AssumeRole on role "
                    f"{pipeline['roleArn']}"
                )
            if len(pipeline["stages"]) < 2:
                raise InvalidStructureException(
                    f"Pipeline has only {len(pipeline['stages'])} stage(s). "
                    "There should be a minimum of 2 stages in a pipeline"
                )
            created = CodePipeline(self.account_id, self.region_name, pipeline)
            tags = tags or []
            created.validate_tags(tags)
            self.pipelines[name] = created
            created.tags.update({tag["key"]: tag["value"] for tag in tags})
            return pipeline, sorted(tags, key=lambda i: i["key"])

        return create_pipeline

    replace(CodePipelineBackend, "create_pipeline", create_factory)
