"""CodeBuild: DeleteProject takes the project's name or its ARN.

AWS CodeBuild's DeleteProject accepts a project ARN as ``name`` (as
BatchGetProjects does), and the Terraform AWS provider, whose
``aws_codebuild_project`` ID is the project ARN, deletes with it. moto 5.2.5
looks the name up as a dictionary key only, so a delete by ARN answers 200 and
deletes nothing: ``terraform destroy`` reports success, the projects stay, and
the next apply fails with "ResourceAlreadyExistsException: Project already
exists".
"""

from __future__ import annotations

from typing import Any

from ._util import replace

GAP = (
    "CodeBuild DeleteProject by project ARN (the provider's resource ID) deletes "
    "nothing: destroy leaves the projects, the next apply says they already exist."
)


def apply() -> None:
    from moto.codebuild.models import CodeBuildBackend

    def delete_factory(original: Any) -> Any:
        def delete_project(self: Any, project_name: str) -> None:
            for name, project in list(self.codebuild_projects.items()):
                if project.arn == project_name:
                    project_name = name
                    break
            original(self, project_name)

        return delete_project

    replace(CodeBuildBackend, "delete_project", delete_factory)
