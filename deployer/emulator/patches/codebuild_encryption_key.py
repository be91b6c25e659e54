"""CodeBuild: a project keeps the KMS key it was created with.

CreateProject takes ``encryptionKey`` (the KMS key for build artifacts; AWS
defaults to the account's ``alias/aws/s3`` when it is absent) and
BatchGetProjects returns it. moto 5.2.5 ignores the parameter and always
returns ``alias/aws/s3``, so an ``aws_codebuild_project`` with
``encryption_key`` set shows a perpetual diff.
"""

from __future__ import annotations

from typing import Any

from ._util import replace

GAP = (
    "CodeBuild ignores CreateProject encryptionKey and always returns alias/aws/s3: "
    "perpetual diff on aws_codebuild_project encryption_key."
)


def apply() -> None:
    from moto.codebuild.responses import CodeBuildResponse

    def create_factory(original: Any) -> Any:
        def create_project(self: Any) -> Any:
            result = original(self)
            key = self._get_param("encryptionKey")
            if key:
                name = self._get_param("name")
                project = self.codebuild_backend.codebuild_projects[name]
                project.project_metadata["encryptionKey"] = key
            return result

        return create_project

    replace(CodeBuildResponse, "create_project", create_factory)
