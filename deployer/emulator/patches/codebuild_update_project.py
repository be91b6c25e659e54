"""CodeBuild: UpdateProject.

On AWS an existing build project is changed in place with UpdateProject: the
AWS provider calls it for any change to an ``aws_codebuild_project`` (its
environment variables, image, buildspec, logs, ...). moto 5.2.5 does not
implement it (``NotImplementedError: update_project``, HTTP 500), so an ordinary
update of a build project fails on the emulator: a changed appspec in the
DEPLOY_FILES variable, a new build image tag.
"""

from __future__ import annotations

from typing import Any

from ._util import replace

GAP = (
    "CodeBuild UpdateProject is not implemented: any in-place change to an "
    "aws_codebuild_project fails with HTTP 500."
)

#: Request members copied as they are onto the stored project.
_FIELDS = (
    "description",
    "source",
    "secondarySources",
    "sourceVersion",
    "secondarySourceVersions",
    "artifacts",
    "secondaryArtifacts",
    "cache",
    "environment",
    "timeoutInMinutes",
    "queuedTimeoutInMinutes",
    "encryptionKey",
    "tags",
    "vpcConfig",
    "logsConfig",
    "fileSystemLocations",
    "buildBatchConfig",
    "concurrentBuildLimit",
)


def apply() -> None:
    from moto.codebuild.exceptions import ResourceNotFoundException
    from moto.codebuild.responses import CodeBuildResponse
    from moto.core.responses import ActionResult

    def factory(original: Any) -> Any:
        def update_project(self: Any) -> Any:
            name = str(self._get_param("name") or "").rsplit("/", 1)[-1]
            projects = self.codebuild_backend.codebuild_projects
            if name not in projects:
                raise ResourceNotFoundException(f"Project cannot be found: {name}")
            project = projects[name]
            metadata = project.project_metadata
            for field in _FIELDS:
                value = self._get_param(field)
                if value is not None:
                    metadata[field] = value
            if "tags" in metadata:
                project.tags = metadata["tags"]
            role = self._get_param("serviceRole")
            if role:
                metadata["serviceRole"] = (
                    role
                    if role.startswith("arn:")
                    else f"arn:aws:iam::{self.current_account}:role/service-role/{role}"
                )
                project.service_role = role
            badge = self._get_param("badgeEnabled")
            if badge is not None:
                metadata["badge"] = {"badgeEnabled": bool(badge)}
            from moto.core.utils import unix_time

            metadata["lastModifiedDate"] = unix_time()
            return ActionResult({"project": metadata})

        return update_project

    replace(CodeBuildResponse, "update_project", factory)
